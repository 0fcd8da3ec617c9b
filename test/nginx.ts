import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** Debian's nginx, where installed. */
export const nginx = ["/usr/sbin", ...(process.env.PATH ?? "").split(delimiter)]
  .map((dir) => join(dir, "nginx"))
  .find((path) => existsSync(path));
// .ci/run installs nginx and sets this, so that CI never skips what uses it.
export const nginxRequired = process.env.WAITER_TEST_NGINX === "required";

/**
 * `example` with each example value replaced by this machine's: every one must be there, so a
 * change to the documented file that the test no longer matches fails rather than passes unseen.
 */
export function localized(example: string, replacements: [string, string][]): string {
  let text = example;
  for (const [value, here] of replacements) {
    if (!text.includes(value)) throw new Error(`the example no longer holds ${value}`);
    text = text.replaceAll(value, here);
  }
  return text;
}

/** A certificate for localhost (or `name`), made with openssl, and its key: the paths of the two files. */
export function localhostCertificate(name = "localhost"): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "waiter-cert-"));
  const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
      ...["-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`, "-keyout", key, "-out", cert],
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

/** Runs nginx in the foreground as this user with `site` as its only server configuration; checked with -t first. */
export function startNginx(site: string): { dir: string; process: ChildProcess } {
  if (nginx === undefined) throw new Error("nginx is not installed (Debian's package nginx)");
  const dir = mkdtempSync(join(tmpdir(), "waiter-nginx-"));
  for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, temp));
  writeFileSync(join(dir, "site.conf"), site);
  writeFileSync(
    join(dir, "nginx.conf"),
    `daemon off; master_process off; pid ${dir}/nginx.pid; error_log stderr;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`,
  );
  const args = ["-e", "stderr", "-p", dir, "-c", join(dir, "nginx.conf")];
  execFileSync(nginx, ["-t", "-q", ...args]);
  return { dir, process: spawn(nginx, args, { stdio: "ignore" }) };
}
