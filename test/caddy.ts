import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** Debian's Caddy, where installed. */
export const caddy = ["/usr/bin", ...(process.env.PATH ?? "").split(delimiter)]
  .map((dir) => join(dir, "caddy"))
  .find((path) => existsSync(path));
// .ci/run installs Caddy and sets this, so that CI never skips what uses it.
export const caddyRequired = process.env.WAITER_TEST_CADDY === "required";

/**
 * Runs Caddy in the foreground with `site` as its Caddyfile, after the global options that keep it
 * to this test: no admin endpoint, no HTTP listener of its own, its files in a fresh directory.
 * Validated first.
 */
export function startCaddy(site: string): ChildProcess {
  if (caddy === undefined) throw new Error("Caddy is not installed (Debian's package caddy)");
  const dir = mkdtempSync(join(tmpdir(), "waiter-caddy-"));
  const file = join(dir, "Caddyfile");
  writeFileSync(file, `{\n\tadmin off\n\tauto_https disable_redirects\n\tstorage file_system ${dir}/data\n}\n${site}`);
  const args = ["--config", file, "--adapter", "caddyfile"];
  const env = { PATH: process.env.PATH ?? "", HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir };
  execFileSync(caddy, ["validate", ...args], { env, stdio: "pipe" });
  return spawn(caddy, ["run", ...args], { env, stdio: "ignore" });
}

/** The Caddyfile for the site `host` that `markdown` gives in a fenced block. */
export function caddySiteIn(markdown: string, host: string): string {
  const site = new RegExp(`\`\`\`\\n\\s*(${host.replaceAll(".", "\\.")} \\{\\n[^\`]*)\`\`\``).exec(markdown)?.[1];
  if (site === undefined) throw new Error(`no Caddy site for ${host} in the doc`);
  return site;
}
