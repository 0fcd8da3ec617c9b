import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, test } from "vitest";
import { CLI, startServer } from "./stdio.js";

const DIST = pathToFileURL(join(CLI, "..")).href;

/**
 * How long a command run with spawnSync may take before it is killed: the test's own time cannot
 * cut a call that holds its thread, and a start that takes a second here takes ten on a loaded machine.
 */
const SPAWN_LIMIT_MS = 60_000;

/** A hook for node's --import that records the URL of each module loaded, and what it recorded. */
function loadRecorder(): { hook: string; packages(): Set<string | undefined> } {
  const dir = mkdtempSync(join(tmpdir(), "waiter-loads-"));
  const record = join(dir, "loaded.txt");
  const hook = join(dir, "hook.mjs");
  writeFileSync(
    hook,
    `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(\`
import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(record)}, url + "\\\\n");
  return next(url, context);
}\`));`,
  );
  return {
    hook,
    packages() {
      // The build bundles packages into waiter's own files, whose source maps name them (the
      // bundler's runtime helpers come from no source, and have no map).
      const modules = readFileSync(record, "utf8")
        .trim()
        .split("\n")
        .flatMap((url) => {
          const map = url.startsWith(DIST) ? fileURLToPath(`${url}.map`) : "";
          return existsSync(map) ? JSON.parse(readFileSync(map, "utf8")).sources : [url];
        });
      return new Set(modules.map((path: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]));
    },
  };
}

/**
 * An assistant starts waiter at every launch, so what it loads before its first answer is its
 * start-up. Packages that only some settings or some calls need load when they are needed: the
 * HTTP server and SQLite for webhooks and `waiter serve`, nodemailer for the first email,
 * JMESPath and Mustache for automations, undici for the first upstream request.
 */
test("a start with every toolset but the webhooks on loads none of the packages it does not need yet", async () => {
  const recorder = loadRecorder();
  const server = await startServer(
    {
      WAITER_CONTACT: "ops@eshop-waiter.cz",
      WAITER_WOO_URL: "https://shop.example",
      WAITER_WOO_KEY: "ck_start",
      WAITER_WOO_SECRET: "cs_start",
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "BOT_TOKEN", chatIds: ["1"] },
        office: { type: "email", host: "127.0.0.1", tls: "none", from: "w@shop.example", to: ["b@shop.example"] },
      }),
      BOT_TOKEN: "7000000001:AAStartStartStartStartStartStartStar",
    },
    [],
    ["--import", recorder.hook],
  );
  try {
    const { tools } = await server.client.listTools();
    expect(tools.length).toBeGreaterThan(15);
  } finally {
    await server.close();
  }
  const packages = recorder.packages();
  expect(packages.has("@modelcontextprotocol/sdk")).toBe(true);
  for (const later of [
    "express",
    "better-sqlite3",
    "pg",
    "nodemailer",
    "@jmespath-community/jmespath",
    "mustache",
    "undici",
  ]) {
    expect(packages.has(later), `${later} loaded at start`).toBe(false);
  }
});

test("WAITER_NO_LISTENER keeps an assistant's waiter from receiving webhooks, as --no-listener does", async () => {
  const sources = JSON.stringify({ trial: { scheme: "none", allowUnsigned: true } });
  const started = async (env: Record<string, string>) => {
    const server = await startServer({
      WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      WAITER_WEBHOOKS_SOURCES: sources,
      ...env,
    });
    try {
      // Served once its listener, if any, is up.
      await expect.poll(() => server.stderr()).toMatch(/serving \d+ tools over stdio/);
      return server.stderr();
    } finally {
      await server.close();
    }
  };
  expect(await started({})).toMatch(/receiving webhooks on http:\/\/127\.0\.0\.1:\d+/);
  expect(await started({ WAITER_NO_LISTENER: "true" })).not.toMatch(/receiving webhooks|WAITER_NO_LISTENER/);
  // Two starts of the built server, one after the other: 10 s of 20 on a starved core.
}, 60_000);

/**
 * A service manager (systemd's default StandardInput=null) and `docker run` without -i give stdin
 * as /dev/null: waiter started there without a command, as a unit or an image's command that lost
 * its `serve`, has no client to serve.
 */
test("waiter without a command, its stdin /dev/null as a service's or a container's, stops at once naming the command to run", () => {
  const run = spawnSync(process.execPath, [CLI], {
    env: { PATH: process.env.PATH ?? "", WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-null-")) },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: SPAWN_LIMIT_MS,
  });
  expect(run.status).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toBe(
    "waiter: stdin is /dev/null, and waiter without a command serves the MCP client that started it, on stdin and stdout; a service or a container runs waiter serve (MCP over HTTP) or waiter listen (webhooks alone) (see waiter --help)\n",
  );
});

/** What `waiter args` prints on stdout, and the packages it loads. */
function printedAndLoaded(args: string[]): { stdout: string; packages: Set<string | undefined> } {
  const recorder = loadRecorder();
  const { stdout } = spawnSync(process.execPath, ["--import", recorder.hook, CLI, ...args], {
    env: { PATH: process.env.PATH ?? "" },
    encoding: "utf8",
    timeout: SPAWN_LIMIT_MS,
  });
  return { stdout, packages: recorder.packages() };
}

/**
 * The version and a refused argument are printed for a command typed by hand or run by a script
 * (a client's check of the version), before any server: a package would only slow them.
 */
test.each([
  [["--version"], "0.1.0\n"],
  [["serve", "--tools"], ""],
])("waiter %j loads no package", (args, printed) => {
  const { stdout, packages } = printedAndLoaded(args);
  expect(stdout).toBe(printed);
  expect([...packages].filter((name) => name !== undefined)).toEqual([]);
});

/** The help lists the toolsets, whose modules it loads, and nothing of a server. */
test("waiter listen --help loads no MCP SDK", () => {
  const { stdout, packages } = printedAndLoaded(["listen", "--help"]);
  expect(stdout).toMatch(
    /^waiter \S+: waiter listen\n[\s\S]+--toolsets a,b {5}enable only these toolsets \(known: events,/,
  );
  expect(packages.has("zod")).toBe(true);
  expect(packages.has("@modelcontextprotocol/sdk")).toBe(false);
});

test("waiter serve with docs/waiter.env.example copied as it is names every secret still to fill in, in one refusal", () => {
  const example = readFileSync(fileURLToPath(new URL("../docs/waiter.env.example", import.meta.url)), "utf8");
  const copied = Object.fromEntries(
    example
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const run = spawnSync(process.execPath, [CLI, "serve"], {
    env: { PATH: process.env.PATH ?? "", WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-env-")), ...copied },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: SPAWN_LIMIT_MS,
  });
  expect(run.stderr).toBe(
    "waiter: The settings are refused for 2 reasons, each said here: (1) webhook source stripe: STRIPE_WEBHOOK_SECRET is set but empty; it must hold the stripe signing secret (2) http token ops: OPS_TOKEN is set but empty; it must hold the token\n",
  );
  expect(run.status).not.toBe(0);
});
