import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  type Stats,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  discoverOAuthProtectedResourceMetadata,
  type OAuthClientProvider,
  UnauthorizedError,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPClientTransportOptions,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from "jose";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { IMAGE_LISTEN } from "../src/app.js";
import { caddy, caddyRequired, caddySiteIn, startCaddy } from "./caddy.js";
import { ERP_ENV, erpHeaders } from "./erp.js";
import { type Fake, freePort, json, onFreePort, startFake } from "./fakes/http.js";
import { localhostCertificate, localized, nginx, nginxRequired, startNginx } from "./nginx.js";
import { asNoAccount, asNobody, notAsNobody } from "./nobody.js";
import { killStarted, SERVING, startNode } from "./spawn.js";
import { CLI } from "./stdio.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const others: ChildProcess[] = [];
const directories: string[] = [];
/** A new directory under the system's temporary one, removed with the rest once the file's tests ran. */
function temporary(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  directories.push(dir);
  return dir;
}
afterAll(() => {
  killStarted();
  for (const child of others) child.kill("SIGKILL");
  // Tried again while a waiter just killed still writes to its data directory.
  for (const dir of directories) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

interface Instruction {
  name: string;
  args: string;
}

/** The Dockerfile's instructions by stage, continuation lines joined and comments dropped. */
function dockerStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, name = "", args = ""] = match;
    if (name === "FROM") stages.push([]);
    stages.at(-1)?.push({ name, args: args.trim() });
  }
  return stages;
}

const argsOf = (stage: Instruction[], name: string) => stage.filter((i) => i.name === name).map((i) => i.args);
/** `KEY=value` pairs of ENV instructions (the form the Dockerfile uses). */
const envOf = (stage: Instruction[]) =>
  Object.fromEntries(
    argsOf(stage, "ENV").flatMap((args) => [...args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])),
  );

test("the npm package holds the command, every file it loads and the pages its README links, and none of the build's other output", async () => {
  const [pack] = JSON.parse(
    (await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root })).stdout,
  ) as [{ files: { path: string }[] }];
  const packed = new Set(pack.files.map((file) => file.path));
  // What `waiter` loads: the command, and each of waiter's files it imports, however deep.
  const loaded = new Set<string>();
  const load = (path: string) => {
    if (loaded.has(path)) return;
    loaded.add(path);
    for (const [, spec] of read(path).matchAll(/(?:from |import\()"(\.{1,2}\/[^"]+)"/g)) {
      load(join(path, "..", spec as string));
    }
  };
  load(JSON.parse(read("package.json")).bin.waiter);
  expect(loaded.size).toBeGreaterThan(10);
  for (const path of loaded) expect(packed, path).toContain(path);
  // tsc's file-per-file output and the source maps are for the tests and benchmarks, not users.
  expect([...packed].filter((path) => path.startsWith("dist/") && !loaded.has(path))).toEqual([]);
  for (const [, page] of read("README.md").matchAll(/\]\((docs\/[^)#]+)/g)) expect(packed, page).toContain(page);
});

test("the npm package leaves out what git ignores in the folders it ships: docs/waiter.env holds the replicas' secrets", async () => {
  const dir = temporary("waiter-pack-");
  const manifest = read("package.json");
  writeFileSync(join(dir, "package.json"), manifest);
  const shipped = (JSON.parse(manifest) as { files: string[] }).files;
  const ignored = read(".gitignore")
    .split("\n")
    .filter((line) => shipped.includes(line.split("/")[0] as string) && line.includes("/"));
  expect(ignored).toContain("docs/waiter.env");
  mkdirSync(join(dir, "docs"));
  for (const path of [...ignored, "docs/serve.md"]) writeFileSync(join(dir, path), "WAITER_HTTP_TOKENS=reader\n");
  const [pack] = JSON.parse(
    (await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: dir })).stdout,
  ) as [{ files: { path: string }[] }];
  const packed = pack.files.map((file) => file.path);
  expect(packed).toContain("docs/serve.md");
  for (const path of ignored) expect(packed).not.toContain(path);
});

test("every env file the docs give docker run, beside the Dockerfile in the clone, is kept out of git and of the build context", () => {
  const pages = ["README.md", ...readdirSync(join(root, "docs")).map((name) => `docs/${name}`)].filter((page) =>
    page.endsWith(".md"),
  );
  const envFiles = pages.flatMap((page) => [...read(page).matchAll(/--env-file[= ](\S+)/g)].map((m) => m[1] as string));
  expect(envFiles.length).toBeGreaterThan(0);
  const listed = (file: string) =>
    read(file)
      .split("\n")
      .map((line) => line.replace(/^\//, ""));
  for (const envFile of envFiles.filter((path) => !path.startsWith("/"))) {
    expect(listed(".gitignore"), envFile).toContain(envFile);
    expect(listed(".dockerignore"), envFile).toContain(envFile);
  }
});

test("the page that gives docker run its env file says where that file lives, what reads it and how it is written", () => {
  const page = read("docs/serve.md");
  const told = page.slice(page.indexOf("--env-file waiter.env"));
  // Read by the docker CLI from the directory it runs in, never by waiter nor from the image.
  expect(told).toMatch(/`waiter\.env` is a file you write in the clone, beside the `Dockerfile`/);
  expect(told).toMatch(/`docker run` reads it from the directory it runs in/);
  expect(told).toMatch(/without quotes/);
  expect(told).toMatch(/`chmod 600 waiter\.env`/);
});

test("the Dockerfile builds in one stage, runs as a user in another, keeps the data on a volume", () => {
  const stages = dockerStages(read("Dockerfile"));
  expect(stages.length).toBe(2);
  const [build = [], run = []] = stages;
  // Node 20's maintenance ended in April 2026; the run stage loads the SQLite addon the build
  // stage compiled, so both are one Node.js.
  expect(argsOf(build, "FROM")[0]).toMatch(/^node:24\S* AS build$/);
  expect(argsOf(run, "FROM")[0]).toBe(argsOf(build, "FROM")[0]?.replace(/ AS build$/, ""));
  // What the build copies exists, and .dockerignore does not keep it out of the context.
  const ignored = read(".dockerignore")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"));
  const copied = argsOf(build, "COPY").flatMap((args) => args.split(/\s+/).slice(0, -1));
  for (const path of copied) {
    expect(existsSync(join(root, path)), path).toBe(true);
    expect(ignored, path).not.toContain(path);
  }
  const built = JSON.parse(read("tsconfig.build.json")) as { include: string[] };
  for (const dir of built.include) expect(copied, `the build compiles ${dir}/`).toContain(dir);
  // `npm run build` bundles the command with rolldown, which reads its config file.
  expect(JSON.parse(read("package.json")).scripts.build).toContain("rolldown -c");
  expect(copied).toContain("rolldown.config.ts");

  expect(argsOf(run, "USER")).toEqual(["node"]);
  const env = envOf(run);
  expect(argsOf(run, "VOLUME")).toEqual([env.WAITER_DATA_DIR]);
  const port = /:(\d+)$/.exec(env.WAITER_LISTEN ?? "")?.[1];
  expect(argsOf(run, "EXPOSE")).toEqual([port]);
  // It asks the port waiter listens on, which the environment may set to another.
  expect(argsOf(run, "HEALTHCHECK")[0]).toMatch(/WAITER_LISTEN.*WAITER_WEBHOOKS_LISTEN.*\/healthz/);
  // Checked every second as it starts: compose's service_healthy (docs/compose.yml's nginx waits
  // for it) would otherwise wait for the first check, one --interval (30 s) after the start. Docker
  // 24's builder refuses --start-interval unless the syntax line names a newer Dockerfile frontend.
  const seconds = (flag: string) =>
    Number(new RegExp(`--${flag}=(\\d+)s\\b`).exec(argsOf(run, "HEALTHCHECK")[0] ?? "")?.[1]);
  expect(seconds("start-interval")).toBeLessThanOrEqual(2);
  expect(seconds("start-period")).toBeGreaterThan(seconds("start-interval"));
  expect(read("Dockerfile").split("\n")[0]).toBe("# syntax=docker/dockerfile:1");
  for (const from of argsOf(run, "COPY").filter((args) => args.startsWith("--from=build"))) {
    expect(from).toMatch(/^--from=build \/waiter\/(package\.json|node_modules|dist) /);
  }
});

test("the image's command serves with its environment, refuses to start there without auth, and its healthcheck passes", async () => {
  const run = dockerStages(read("Dockerfile"))[1] ?? [];
  const json = (name: string) => JSON.parse(argsOf(run, name)[0] ?? "[]") as string[];
  const [node, ...command] = [...json("ENTRYPOINT"), ...json("CMD")];
  expect(node).toBe("node");
  const healthcheck = JSON.parse(/CMD (\[.*\])$/.exec(argsOf(run, "HEALTHCHECK")[0] ?? "")?.[1] ?? "[]") as string[];
  expect(healthcheck[0]).toBe("node");

  // The image's environment, on a free port and a fresh data directory; the image's WORKDIR is
  // the package root, as the tests' working directory is.
  const image = { ...envOf(run), WAITER_DATA_DIR: temporary("waiter-image-") };
  const refused = await promisify(execFile)(process.execPath, command, { env: image }).catch((e) => e);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/WAITER_HTTP_TOKENS/);
  // Bound to the container's own loopback, waiter would be healthy and reached by no published port.
  expect(refused.stderr).toMatch(
    /, or bind 127\.0\.0\.1 \(--listen 127\.0\.0\.1:8790\) for clients on this machine alone \(not in a container, whose published port does not reach its loopback\)\n$/,
  );

  const env = await onFreePort(async (port) => {
    const env = { ...image, WAITER_LISTEN: `0.0.0.0:${port}` };
    await startNode(
      command,
      {
        ...env,
        WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
        OPS_TOKEN: "0123456789abcdef".repeat(4),
      },
      SERVING,
    );
    return env;
  });
  // The health check, run with the container's environment, where the listen address is not the image's.
  const probe = (probed: Record<string, string>) =>
    promisify(execFile)(process.execPath, healthcheck.slice(1), { env: probed }).then(
      () => 0,
      (e) => e.code,
    );
  expect(await probe(env)).toBe(0);

  // `docker run … waiter listen`: the listener alone, reachable from outside the container too.
  const { listening, listenPort } = await onFreePort(async (listenPort) => ({
    listenPort,
    listening: await startNode(
      [command[0] as string, "listen"],
      {
        ...env,
        WAITER_LISTEN: envOf(run).WAITER_LISTEN ?? "",
        WAITER_WEBHOOKS_LISTEN: (envOf(run).WAITER_WEBHOOKS_LISTEN ?? "").replace(/:\d+$/, `:${listenPort}`),
        ...ERP_ENV,
        WAITER_LOG_LEVEL: "info",
      },
      /listening for webhooks on (http:\/\/[^;\n]+);/,
    ),
  }));
  // Bound to every address in the container, it says so as its sources' lines do.
  expect(listening.said).toBe(`http://<this machine's address>:${listenPort}`);
  // WAITER_LISTEN, which the image sets too, is not told of as if the person had set it: waiter
  // knows the image's own.
  expect(envOf(run).WAITER_LISTEN).toBe(IMAGE_LISTEN);
  expect(listening.stderr()).not.toContain("waiter serve's address");
  expect(await probe({ ...env, WAITER_WEBHOOKS_LISTEN: `0.0.0.0:${listenPort}`, WAITER_LISTEN: "0.0.0.0:1" })).toBe(0);
  expect(await probe({ ...env, WAITER_WEBHOOKS_LISTEN: "0.0.0.0:1", WAITER_LISTEN: "0.0.0.0:1" })).toBe(1);
  // Six node processes, one after another, each loading waiter: seconds each on a busy machine.
}, 60_000);

/** waiter started with `args`, sent the EARLY_SIGNALS of `env` by test/fixtures/early-signals.mjs: how it exited and what it said. */
async function earlySignalled(args: string[], env: Record<string, string>) {
  const earlySignals = fileURLToPath(new URL("./fixtures/early-signals.mjs", import.meta.url));
  const dataDir = temporary("waiter-early-");
  const child = spawn(process.execPath, ["--import", earlySignals, CLI, ...args], {
    env: {
      ...env,
      PATH: process.env.PATH ?? "",
      WAITER_DATA_DIR: dataDir,
      WAITER_LISTEN: "127.0.0.1:0",
      WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      ...ERP_ENV,
    },
    // stdin a pipe that stays open, as an MCP client's.
    stdio: ["pipe", "ignore", "pipe"],
  });
  others.push(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  // One that lost the signal starts and serves: it is not waited for until the test's time runs out.
  const serving = new Promise<void>((resolve) => {
    child.stderr.on("data", () => {
      if (/ serving /.test(stderr)) resolve();
    });
  });
  const exit = once(child, "exit");
  if ((await Promise.race([exit, serving])) === undefined) child.kill("SIGKILL");
  const [code, signal] = await exit;
  return { exited: { code, signal }, stderr, dataDir };
}

// As a container's PID 1, node has no default action for SIGTERM: one that waiter did not handle
// would be ignored, and `docker stop` would kill it after its timeout (exit status 137).
// Ctrl+C pressed twice as it loads asks no more than once: there is nothing in flight to cut.
test.each([
  ["SIGTERM", "waiter serve", ["serve"]],
  ["SIGTERM", "waiter listen", ["listen"]],
  ["SIGTERM", "the stdio mode", []],
  ["SIGINT,SIGINT", "the stdio mode", []],
])(
  "%s as %s is still loading stops it as any stop does, opening nothing: exit 0, saying so",
  async (signals, _, args) => {
    const { exited, stderr, dataDir } = await earlySignalled(args, { EARLY_SIGNALS: signals });
    expect(exited).toEqual({ code: 0, signal: null });
    expect(stderr).toMatch(new RegExp(` info +\\[waiter\\] ${signals.split(",")[0]} while starting: stopping\n`));
    expect(stderr).not.toMatch(/again/);
    expect(stderr).toMatch(/ info +\[waiter\] stopped\n$/);
    // No event store set up (nor upgraded) only to be closed.
    expect(readdirSync(dataDir)).toEqual([]);
  },
);

test.each([
  ["waiter serve", ["serve"]],
  ["the stdio mode", []],
])(
  "SIGTERM that Node hands over only once %s has taken the signals (busy running its modules) stops it, not lost: exit 0, saying so",
  async (_, args) => {
    const { exited, stderr } = await earlySignalled(args, { EARLY_SIGNALS: "SIGTERM", EARLY_SIGNALS_BUSY: "1" });
    expect(exited).toEqual({ code: 0, signal: null });
    expect(stderr).toMatch(/ info +\[waiter\] SIGTERM while starting(, as it was [^\n]+)?: stopping\n/);
    expect(stderr).toMatch(/ info +\[waiter\] stopped\n$/);
  },
);

test("the systemd unit goes on restarting a waiter that stops at start until what it waits for is there", () => {
  const unit = /```ini\n(\[Unit\][^`]*)```/.exec(read("docs/serve.md"))?.[1] ?? "";
  const settings = Object.fromEntries(
    unit
      .split("\n")
      .flatMap((line) =>
        /^\w+=/.test(line) ? [[line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]] : [],
      ),
  ) as Record<string, string | undefined>;
  // A database not up yet at boot stops each start within a fraction of a second (exit status 1).
  expect(settings.Restart).toBe("on-failure");
  // systemd's defaults: restarted after 100 ms, and not started again (the unit left failed, for
  // good) once it started 5 times within 10 s.
  const seconds = (value: string | undefined, unset: number) => (value === undefined ? unset : Number(value));
  const restartSec = seconds(settings.RestartSec, 0.1);
  const interval = seconds(settings.StartLimitIntervalSec, 10);
  const burst = seconds(settings.StartLimitBurst, 5);
  expect(interval === 0 || restartSec * (burst - 1) > interval).toBe(true);
});

// waiter run as another user, as the unit's User= runs it.
test("a config file its user may read, in a directory that user may not enter, is refused naming that directory", ({
  skip,
}) => {
  skip(notAsNobody !== undefined, notAsNobody);
  const etc = temporary("waiter-etc-");
  // As `install -d -m 750 /etc/waiter` makes it, root's: the file's chown root:waiter and chmod 640 are no help.
  chmodSync(etc, 0o750);
  const file = join(etc, "config.json");
  writeFileSync(file, "{}");
  chownSync(file, 0, 65534);
  chmodSync(file, 0o640);
  const run = spawnSync(process.execPath, ["--import", asNobody, CLI, "serve", "--config", file], {
    env: { PATH: process.env.PATH ?? "", WAITER_DATA_DIR: temporary("waiter-etc-data-") },
    encoding: "utf8",
    timeout: 10_000,
  });
  expect(run.status).toBe(2);
  expect(run.stderr).toBe(
    `waiter: cannot read config file ${file}: EACCES, the user waiter runs as (uid 65534) may not enter ${etc}, a directory on its path (it needs x permission there)\n`,
  );
});

// As a container run with --user and no HOME.
test("without a home directory, the data directory to set is said at the first start, with another setting refused", ({
  skip,
}) => {
  skip(notAsNobody !== undefined, notAsNobody);
  const run = spawnSync(process.execPath, ["--import", asNoAccount, CLI, "serve"], {
    env: { PATH: process.env.PATH ?? "", WAITER_LOG_LEVEL: "loud" },
    encoding: "utf8",
    timeout: 10_000,
  });
  expect(run.status).toBe(2);
  expect(run.stderr).toBe(
    `waiter: The settings are refused for 2 reasons, each said here: (1) invalid setting WAITER_LOG_LEVEL: expected one of debug, info, notice, warning, error (got "loud") (2) WAITER_DATA_DIR is not set, and its default is under the home directory, which this user has none of (HOME is unset, and the system names none): set WAITER_DATA_DIR (dataDir) to an absolute path, where waiter may keep its event store\n`,
  );
});

test("under systemd, each line reaches journald at its level's priority; elsewhere the lines stay as they are", async () => {
  const dir = temporary("waiter-journal-");
  /** waiter serve with its stderr in a file (as systemd gives it a stream), and JOURNAL_STREAM naming `stream`. */
  const serve = async (name: string, stream: (file: Stats) => string, env: Record<string, string> = {}) => {
    const path = join(dir, name);
    const fd = openSync(path, "w");
    const child = spawn(process.execPath, [CLI, "serve", "--listen", "127.0.0.1:0"], {
      env: {
        PATH: process.env.PATH ?? "",
        WAITER_DATA_DIR: temporary("waiter-journal-data-"),
        ...ERP_ENV,
        JOURNAL_STREAM: stream(fstatSync(fd)),
        ...env,
      },
      stdio: ["ignore", "ignore", fd],
    });
    closeSync(fd);
    others.push(child);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    // A start takes seconds on a busy machine: each of the three is given a third of the test's time.
    // Its log is what is looked at, so that a start that hangs fails showing it.
    await expect
      .poll(() => (child.exitCode === null ? readFileSync(path, "utf8") : "exited"), { timeout: 40_000 })
      .toMatch(/serving MCP on|^exited$/);
    child.kill("SIGTERM");
    return { status: await exited, log: readFileSync(path, "utf8") };
  };
  const journal = ({ dev, ino }: Stats) => `${dev}:${ino}`;

  const { log } = await serve("journal.log", journal);
  // journald takes the "<N>" off and keeps N as the entry's priority: 5 notice, 6 info.
  expect(log).toMatch(/^<5>\S+Z notice +\[waiter\] toolset weather is off: /m);
  expect(log).toMatch(/^<6>\S+Z info +\[waiter\] waiter \S+ serving MCP on /m);
  expect(log.split("\n").filter((line) => line && !/^<[3-7]>/.test(line))).toEqual([]);
  // What stops it at start is an error.
  const refused = await serve("refused.log", journal, { WAITER_LOG_LEVEL: "loud" });
  expect(refused.status).toBe(2);
  expect(refused.log).toMatch(/^<3>waiter: invalid setting WAITER_LOG_LEVEL/);

  // A process started from a service, its stderr elsewhere, inherits JOURNAL_STREAM: no prefixes there.
  const elsewhere = await serve("elsewhere.log", ({ dev, ino }) => `${dev}:${ino + 1}`);
  expect(elsewhere.log).toMatch(/^\S+Z notice +\[waiter\] waiter \S+ set up a new event store /);
  expect(elsewhere.log).not.toMatch(/^</m);
}, 120_000);

const OPS = "0123456789abcdef".repeat(4);

interface Ports {
  waiter: number;
  https: number;
}
type Certificate = ReturnType<typeof localhostCertificate>;
/** What a proxy is set up with to serve one waiter on `ports.https`, from a doc, on this machine. */
interface Site {
  ports: Ports;
  config(ports: Ports, tls: Certificate): string | Promise<string>;
}

/** The proxies this file runs, each started once with every site it serves. */
const proxies = {
  nginx: {
    runs: nginx !== undefined || nginxRequired,
    sites: [] as Site[],
    start: (config: string) => startNginx(config).process,
  },
  caddy: { runs: caddy !== undefined || caddyRequired, sites: [] as Site[], start: startCaddy },
};
let tls: Certificate;
beforeAll(async () => {
  tls = localhostCertificate();
  for (const proxy of Object.values(proxies)) {
    if (!proxy.runs || proxy.sites.length === 0) continue;
    const configs: string[] = [];
    for (const site of proxy.sites) {
      site.ports = { waiter: await freePort(), https: await freePort() };
      configs.push(await site.config(site.ports, tls));
    }
    others.push(proxy.start(configs.join("\n")));
  }
});

/** The Caddy site for `host` in the doc at `path`, for localhost with its certificate, in front of this waiter. */
const caddySite =
  (path: string, host: string): Site["config"] =>
  (ports, { cert, key }) =>
    localized(caddySiteIn(read(path), host), [
      [`${host} {`, `localhost:${ports.https} {\n\ttls ${cert} ${key}`],
      ["127.0.0.1:8790", `127.0.0.1:${ports.waiter}`],
    ]);

/** nginx's HTTPS server for localhost with `locations`. */
const nginxServer = (ports: Ports, { cert, key }: Certificate, locations: string) => `server {
  listen 127.0.0.1:${ports.https} ssl;
  server_name localhost;
  ssl_certificate ${cert};
  ssl_certificate_key ${key};
  ${locations}
}
`;

interface Behind {
  /** https://localhost:<port>, the site's address. */
  base: string;
  /** waiter's public URL: the site's address, and the path waiter is served under there. */
  url: string;
  /** What waiter wrote to stderr so far. */
  log(): string;
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** Posts a signed delivery through the proxy: its status, and whether waiter stored it. */
  deliver(id: string): Promise<{ status: number; stored: boolean }>;
}

/**
 * Starts waiter serve with a token, its public URL the site's address and `path`, behind `proxy`
 * set up with `config`, which must keep waiter's /healthz from the internet. Called inside a
 * describe; `env` is read once the describe's earlier beforeAll hooks ran.
 */
function servedBehind(
  proxy: keyof typeof proxies,
  config: Site["config"],
  path = "",
  env: () => Record<string, string> = () => ({}),
): Behind {
  const site: Site = { ports: { waiter: 0, https: 0 }, config };
  proxies[proxy].sites.push(site);
  let served: Awaited<ReturnType<typeof startNode>> | undefined;
  let dispatcher: Agent | undefined;
  const behind: Behind = {
    base: "",
    url: "",
    log: () => served?.stderr() ?? "",
    fetch: (url, init) => undiciFetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>,
    deliver: async (id) => {
      const body = JSON.stringify({ invoice: id });
      const posted = await behind.fetch(`${behind.url}/webhooks/erp`, {
        method: "POST",
        body,
        headers: erpHeaders(body, id),
      });
      return { status: posted.status, stored: (await posted.text()).includes('"duplicate":false') };
    },
  };

  beforeAll(async () => {
    behind.base = `https://localhost:${site.ports.https}`;
    behind.url = `${behind.base}${path}`;
    served = await startNode(
      [CLI, "serve", "--listen", `127.0.0.1:${site.ports.waiter}`],
      {
        WAITER_DATA_DIR: temporary("waiter-behind-a-proxy-"),
        WAITER_WEBHOOKS_PUBLIC_URL: behind.url,
        ...ERP_ENV,
        WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
        OPS_TOKEN: OPS,
        WAITER_LOG_LEVEL: "info",
        ...env(),
      },
      SERVING,
    );
    dispatcher = new Agent({ connect: { ca: readFileSync(tls.cert) } });
    // The proxy is up once it answers; /healthz, which names the sources, it keeps from the internet.
    await vi.waitFor(
      async () => expect(await (await behind.fetch(`${behind.url}/healthz`)).text()).not.toContain('"sources"'),
      { timeout: 5_000 },
    );
  });
  afterAll(async () => {
    await dispatcher?.close();
  });
  return behind;
}

/** A transport to waiter's MCP endpoint through the proxy, with the token. */
const withToken = (behind: Behind, options: StreamableHTTPClientTransportOptions = {}) =>
  new StreamableHTTPClientTransport(new URL(`${behind.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${OPS}` } },
    fetch: behind.fetch,
    ...options,
  });

/** Subscribes `client` to the recent events: the updates it hears, as they come. */
async function hearUpdates(client: Client): Promise<string[]> {
  const updates: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
  });
  await client.subscribeResource({ uri: "events://recent" });
  return updates;
}

/**
 * A request to /mcp just past waiter's 4 MiB gets waiter's 413, in JSON-RPC's shape, which a client
 * reads: not a proxy's HTML page, which it cannot.
 */
function tooLargeAnsweredByWaiter(behind: Behind) {
  test("a request to /mcp just past waiter's limit is answered by waiter, in JSON-RPC's shape", async () => {
    const response = await behind.fetch(`${behind.url}/mcp`, {
      method: "POST",
      body: " ".repeat(4 * 1024 * 1024 + 1),
      headers: {
        authorization: `Bearer ${OPS}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      jsonrpc: "2.0",
      error: {
        code: -32600,
        message:
          "A request to /mcp may be at most 4194304 bytes (4 MiB), a bound no setting changes: send less in one request",
      },
    });
  });
}

/** The tests every proxy set up to serve waiter at the root of its own host must pass. Called inside a describe. */
function servedAtTheRoot(proxy: keyof typeof proxies, config: Site["config"]) {
  const behind = servedBehind(proxy, config);
  tooLargeAnsweredByWaiter(behind);
  test("an agent with a token calls tools over HTTPS and is told of a webhook at once", async () => {
    const unauthenticated = await behind.fetch(`${behind.url}/mcp`, { method: "POST", body: "{}" });
    expect(unauthenticated.status).toBe(401);
    // No token is no invalid one: the challenge names no error (RFC 6750 §3.1).
    expect(unauthenticated.headers.get("www-authenticate")).toBe('Bearer realm="waiter"');
    await unauthenticated.body?.cancel();

    const client = new Client({ name: "behind-a-proxy", version: "0" });
    await client.connect(withToken(behind));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["events_wait", "webhooks_sources"]));
      const sources = await client.callTool({ name: "webhooks_sources", arguments: {} });
      expect(JSON.stringify(sources.structuredContent)).toContain(`"url":"${behind.url}/webhooks/erp"`);
      const updates = await hearUpdates(client);
      expect(await behind.deliver("through-the-proxy")).toEqual({ status: 200, stored: true });
      // Over the session's GET stream, through the proxy.
      await expect.poll(() => updates).toContain("events://recent");
    } finally {
      await client.close();
    }
  });
}

describe.runIf(proxies.nginx.runs)("behind nginx set up as docs/nginx.conf is", () => {
  servedAtTheRoot("nginx", (ports, { cert, key }) =>
    localized(read("docs/nginx.conf"), [
      ["listen [::]:443 ssl;", ""],
      ["listen 443 ssl;", `listen 127.0.0.1:${ports.https} ssl;`],
      ["/etc/letsencrypt/live/waiter.example.com/fullchain.pem", cert],
      ["/etc/letsencrypt/live/waiter.example.com/privkey.pem", key],
      ["server_name waiter.example.com;", "server_name localhost;"],
      ["http://127.0.0.1:8790;", `http://127.0.0.1:${ports.waiter};`],
    ]),
  );
});

describe.runIf(proxies.caddy.runs)("behind Caddy set up as docs/serve.md's site for a host of its own is", () => {
  servedAtTheRoot("caddy", caddySite("docs/serve.md", "waiter.example.com"));
});

/**
 * With waiter served under /waiter/ of the site, and an OAuth issuer besides the token: the tests
 * every proxy set up so must pass. Called inside a describe.
 */
function servedUnderAPath(proxy: keyof typeof proxies, config: Site["config"]): Behind {
  let issuer: Fake | undefined;
  let signingKey: CryptoKey;
  beforeAll(async () => {
    const keys = await generateKeyPair("ES256");
    signingKey = keys.privateKey;
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const at = await startFake((request) => {
      if (request.path === "/.well-known/oauth-authorization-server") {
        return json(
          200,
          JSON.stringify({
            issuer: at.origin,
            jwks_uri: `${at.origin}/jwks`,
            authorization_endpoint: `${at.origin}/authorize`,
            token_endpoint: `${at.origin}/token`,
            response_types_supported: ["code"],
            code_challenge_methods_supported: ["S256"],
          }),
        );
      }
      if (request.path === "/jwks") return json(200, JSON.stringify({ keys: [jwk] }));
      return json(404, "{}");
    });
    issuer = at;
  });
  afterAll(async () => {
    await issuer?.close();
  });
  const under = servedBehind(proxy, config, "/waiter", () => ({
    WAITER_HTTP_OAUTH: JSON.stringify({ issuer: issuer?.origin }),
  }));
  tooLargeAnsweredByWaiter(under);

  test("an agent with a token calls tools, hears of webhooks on its stream, resumes it, and ends its session", async () => {
    const { base } = under;
    expect(under.log()).toContain(`source erp (hmac-sha256): ${base}/waiter/webhooks/erp\n`);
    /** Each GET stream the client opened: the Last-Event-ID it sent, and a way to cut it as a network would. */
    const streams: { lastEventId: string | null; status: number; cut: AbortController }[] = [];
    let reopening = Promise.resolve();
    const transport = withToken(under, {
      reconnectionOptions: {
        initialReconnectionDelay: 1,
        maxReconnectionDelay: 1,
        reconnectionDelayGrowFactor: 1,
        maxRetries: 2,
      },
      fetch: async (url, init) => {
        if (init?.method !== "GET") return under.fetch(url, init);
        await reopening;
        const cut = new AbortController();
        const signal = AbortSignal.any([cut.signal, ...(init.signal ? [init.signal] : [])]);
        const answer = await under.fetch(url, { ...init, signal });
        streams.push({ lastEventId: new Headers(init.headers).get("last-event-id"), status: answer.status, cut });
        return answer;
      },
    });
    const client = new Client({ name: "under-a-path", version: "0" });
    await client.connect(transport);
    try {
      const sources = await client.callTool({ name: "webhooks_sources", arguments: {} });
      expect(JSON.stringify(sources.structuredContent)).toContain(`"url":"${base}/waiter/webhooks/erp"`);
      const updates = await hearUpdates(client);
      expect(await under.deliver("first")).toEqual({ status: 200, stored: true });
      await expect.poll(() => updates).toEqual(["events://recent"]);

      // The stream is lost; a webhook arrives before the client opens it again where it left off.
      let reopen = () => {};
      reopening = new Promise((resolve) => {
        reopen = resolve;
      });
      streams.at(-1)?.cut.abort();
      expect(await under.deliver("second")).toEqual({ status: 200, stored: true });
      reopen();
      await expect.poll(() => updates).toEqual(["events://recent", "events://recent"]);
      expect(streams.map(({ lastEventId, status }) => ({ resumed: lastEventId !== null, status }))).toEqual([
        { resumed: false, status: 200 },
        { resumed: true, status: 200 },
      ]);

      const session = transport.sessionId ?? "";
      await transport.terminateSession();
      const ended = await under.fetch(`${base}/waiter/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
        headers: {
          authorization: `Bearer ${OPS}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-session-id": session,
        },
      });
      expect(ended.status).toBe(404);
      await ended.body?.cancel();
    } finally {
      await client.close();
    }
  });

  test("an OAuth client finds the issuer through the 401, or where RFC 9728 puts the metadata, logs in for waiter's URL, and calls tools", async () => {
    const mcp = `${under.base}/waiter/mcp`;
    const refused = await under.fetch(mcp, { method: "POST", body: "{}" });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain(
      `resource_metadata="${under.base}/waiter/.well-known/oauth-protected-resource/mcp"`,
    );
    await refused.body?.cancel();

    // The SDK's client, as a connector: from the 401 to the issuer's login page, asking for a token for waiter.
    let loginAt: URL | undefined;
    let accessToken: string | undefined;
    const login: OAuthClientProvider = {
      redirectUrl: "http://127.0.0.1:9/callback",
      clientMetadata: { redirect_uris: ["http://127.0.0.1:9/callback"], client_name: "connector" },
      clientInformation: () => ({ client_id: "connector" }),
      tokens: () => (accessToken ? { access_token: accessToken, token_type: "Bearer" } : undefined),
      saveTokens: () => {},
      redirectToAuthorization: (url) => {
        loginAt = url;
      },
      saveCodeVerifier: () => {},
      codeVerifier: () => "verifier",
    };
    const connect = async () => {
      const client = new Client({ name: "connector", version: "0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(mcp), { authProvider: login, fetch: under.fetch }),
      );
      return client;
    };
    await expect(connect()).rejects.toThrow(UnauthorizedError);
    expect(loginAt?.origin).toBe(issuer?.origin);
    expect(loginAt?.searchParams.get("resource")).toBe(mcp);
    // The issuer gives it a token for that resource.
    accessToken = await new SignJWT({ scope: "waiter:read" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(issuer?.origin ?? "")
      .setAudience(mcp)
      .setSubject("alice")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(signingKey);
    const client = await connect();
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("events_list");
    } finally {
      await client.close();
    }

    // A client that does not read the 401 puts the well-known path before the resource's path.
    expect(await discoverOAuthProtectedResourceMetadata(new URL(mcp), undefined, under.fetch)).toEqual({
      resource: mcp,
      authorization_servers: [issuer?.origin],
      scopes_supported: ["waiter:read", "waiter:write"],
      bearer_methods_supported: ["header"],
      resource_name: "waiter",
    });
  });

  test("/healthz, which names the sources, is not reached under the path, nor under it twice", async () => {
    for (const path of ["/healthz", "/waiter/healthz"]) {
      const answer = await under.fetch(`${under.url}${path}`);
      expect(await answer.text(), path).not.toContain('"sources"');
    }
  });

  test("a page of the domain may call it, another site's may not", async () => {
    const fromPage = (origin: string) =>
      under.fetch(`${under.base}/waiter/mcp`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
    const own = await fromPage(under.base);
    expect(own.status).toBe(204);
    expect(own.headers.get("access-control-allow-origin")).toBe(under.base);
    const foreign = await fromPage("https://elsewhere.example");
    expect(foreign.status).toBe(403);
    await foreign.body?.cancel();
  });

  return under;
}

describe.runIf(proxies.nginx.runs)(
  "behind nginx serving it under /waiter/ of a domain it shares, set up as docs/nginx-path.conf is",
  () => {
    servedUnderAPath("nginx", (ports, tls) =>
      nginxServer(
        ports,
        tls,
        localized(read("docs/nginx-path.conf"), [["http://127.0.0.1:8790/", `http://127.0.0.1:${ports.waiter}/`]]),
      ),
    );
  },
);

describe.runIf(proxies.nginx.runs)(
  "behind nginx passing /waiter/ on unchanged, set up as docs/serve.md says for a proxy that does",
  () => {
    const unchanged = "proxy_pass http://127.0.0.1:8790;";
    const served = servedUnderAPath("nginx", (ports, tls) => {
      expect(read("docs/serve.md")).toContain(unchanged);
      return nginxServer(
        ports,
        tls,
        localized(read("docs/nginx-path.conf"), [
          ["proxy_pass http://127.0.0.1:8790/;", unchanged],
          ["proxy_pass http://127.0.0.1:8790/.well-known/oauth-protected-resource/mcp;", unchanged],
          [unchanged, `proxy_pass http://127.0.0.1:${ports.waiter};`],
        ]),
      );
    });

    test("a path it does not serve is told where waiter is, and logged as it arrived", async () => {
      const answer = await served.fetch(`${served.url}/hooks/erp`, { method: "POST", body: "{}" });
      expect(answer.status).toBe(404);
      const where =
        "MCP is served at /waiter/mcp and webhooks at POST /waiter/webhooks/<source>, under the path of webhooks.publicUrl, or without /waiter from a reverse proxy that takes it off";
      expect(await answer.json()).toEqual({ error: `not found: "/waiter/hooks/erp"; ${where}` });
      // A line a minute in all, this one's or an earlier 404's: with the path as it arrived.
      await expect.poll(() => served.log()).toContain(`: no such path; ${where}\n`);
      expect(served.log()).toMatch(/webhook listener refused [A-Z]+ "\/waiter\/[^"]+" from \S+: no such path/);
    });
  },
);

describe.runIf(proxies.caddy.runs)(
  "behind Caddy serving it under /waiter/ of a domain it shares, set up as docs/serve.md's site with handle_path is",
  () => {
    servedUnderAPath("caddy", caddySite("docs/serve.md", "tools.example.com"));
  },
);

/** The tests every proxy set up to pass on the webhooks alone must pass. Called inside a describe. */
function servingWebhooksOnly(proxy: keyof typeof proxies, config: Site["config"]) {
  const behind = servedBehind(proxy, config);
  test("a signed delivery reaches waiter through it, an agent with a token does not", async () => {
    expect(await behind.deliver("through-the-proxy")).toEqual({ status: 200, stored: true });
    // A sender given a mistyped URL is told so, rather than answered 2xx for a delivery dropped.
    const mistyped = await behind.fetch(`${behind.url}/webhook/erp`, { method: "POST", body: "{}" });
    expect(mistyped.status).toBe(404);
    await mistyped.body?.cancel();
    const client = new Client({ name: "kept-out", version: "0" });
    try {
      await expect(client.connect(withToken(behind))).rejects.toThrow();
    } finally {
      await client.close();
    }
  });

  test("a delivery just past webhooks.maxBodyBytes is refused by waiter, which logs it, not by the proxy", async () => {
    const body = JSON.stringify({ invoice: "large", lines: "x".repeat(1024 * 1024) });
    const refused = await behind.fetch(`${behind.url}/webhooks/erp`, {
      method: "POST",
      body,
      headers: erpHeaders(body, "large"),
    });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({ error: "body larger than 1048576 bytes" });
    await expect
      .poll(() => behind.log())
      // From the proxy's address: no setting tells waiter to trust its X-Forwarded-For.
      .toMatch(
        new RegExp(
          `webhook erp rejected from \\S+: body larger than 1048576 bytes \\(Content-Length ${body.length}\\)`,
        ),
      );
  });
}

describe.runIf(proxies.nginx.runs)("behind nginx passing on /webhooks/ alone, as docs/webhooks.md says", () => {
  servingWebhooksOnly("nginx", (ports, tls) => {
    const location = /`(location \/webhooks\/ \{[^`]*\})`/.exec(read("docs/webhooks.md"))?.[1] ?? "";
    return nginxServer(ports, tls, localized(location, [["127.0.0.1:8790", `127.0.0.1:${ports.waiter}`]]));
  });
});

describe.runIf(proxies.caddy.runs)("behind Caddy set up as docs/webhooks.md's Caddyfile is", () => {
  servingWebhooksOnly("caddy", caddySite("docs/webhooks.md", "hooks.example.com"));
});
