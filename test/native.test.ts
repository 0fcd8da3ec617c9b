import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  cpSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { CLI, startServer } from "./stdio.js";

/** A Node.js that cannot load the better-sqlite3 addon `npm install` built (another version manager's node). */
const OTHER_NODE = ["--import", fileURLToPath(new URL("./fixtures/other-node.mjs", import.meta.url))];
const WITH_SOURCE = {
  WAITER_WEBHOOKS_SOURCES: JSON.stringify({ gh: { scheme: "github", secretEnv: "GH_SECRET" } }),
  GH_SECRET: "native-test-secret",
  WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
};

test("started by a Node.js that cannot load SQLite, waiter serves its other tools and says why and how to fix it", async () => {
  const { client, stderr } = await startServer(WITH_SOURCE, [], OTHER_NODE);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("currency_convert");
    expect(names.filter((n) => n.startsWith("events_") || n.startsWith("webhooks_"))).toEqual([]);
    const said = stderr()
      .split("\n")
      .filter((line) => line.includes("better-sqlite3"));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /error .*webhook events are off: better-sqlite3 was built for another Node\.js \(module version 115; this Node\.js, v\d+\.\d+\.\d+, needs 127\)/,
    );
    expect(said[0]).toContain("npm rebuild better-sqlite3");
    expect(said[0]).toContain(process.execPath);
    expect(stderr()).toMatch(/toolsets events, webhooks and automations are off: the event store could not be opened/);
  } finally {
    await client.close();
  }
});

test("without webhook sources the native module is never needed", async () => {
  const { client, stderr } = await startServer({}, [], OTHER_NODE);
  try {
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("currency_rates");
    expect(stderr()).not.toContain("better-sqlite3");
  } finally {
    await client.close();
  }
});

test("without better-sqlite3's compiled addon (its install script never ran), the line says to rebuild it, not to fix the data dir", () => {
  const run = spawnSync(
    process.execPath,
    ["--import", fileURLToPath(new URL("./fixtures/no-addon.mjs", import.meta.url)), CLI, "listen"],
    {
      env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-native-")), ...WITH_SOURCE },
      encoding: "utf8",
      timeout: 10_000,
    },
  );
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(
    /^waiter: cannot open the event store: better-sqlite3 has no compiled addon: its install script did not run .*Fix: to build it for .*, run `.*npm rebuild better-sqlite3`/m,
  );
  expect(run.stderr).not.toContain("WAITER_DATA_DIR");
});

test.skipIf(process.platform === "win32")(
  "installed as a package, without better-sqlite3's addon, the line rebuilds it in the folder that installed it, where npm finds it",
  () => {
    // What `npm install waiter-mcp` leaves in a company's folder, its install scripts not run:
    // better-sqlite3 beside waiter-mcp in node_modules, not under it.
    const company = realpathSync(mkdtempSync(join(tmpdir(), "waiter-installed-")));
    const modules = join(company, "node_modules");
    writeFileSync(join(company, "package.json"), JSON.stringify({ dependencies: { "waiter-mcp": "^0.1.0" } }));
    const waiter = join(modules, "waiter-mcp");
    cpSync(join(dirname(CLI), "..", "..", "package.json"), join(waiter, "package.json"));
    cpSync(CLI, join(waiter, "dist", "src", "cli.js"));
    cpSync(join(dirname(CLI), "chunks"), join(waiter, "dist", "src", "chunks"), { recursive: true });
    const installed = fileURLToPath(new URL("../node_modules/", import.meta.url));
    for (const path of ["better-sqlite3/package.json", "better-sqlite3/lib", "bindings", "file-uri-to-path"]) {
      cpSync(join(installed, path), join(modules, path), { recursive: true });
    }
    const run = spawnSync(process.execPath, [join(waiter, "dist", "src", "cli.js"), "listen"], {
      env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-native-")), ...WITH_SOURCE },
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(run.stderr).toMatch(/better-sqlite3 has no compiled addon/);
    const command = /Fix: to build it for [^,]+, run `([^`]+)`/.exec(run.stderr)?.[1] ?? "";
    expect(command).toMatch(/ npm rebuild better-sqlite3$/);
    // npm rebuilds node_modules/better-sqlite3 of the folder it runs in, and looks in no other.
    const rebuilt = spawnSync(
      "/bin/sh",
      ["-c", command.replace(/npm rebuild better-sqlite3$/, "realpath node_modules/better-sqlite3")],
      {
        encoding: "utf8",
      },
    );
    expect(rebuilt.stdout.trim()).toBe(join(modules, "better-sqlite3"));
  },
);

let listenedOnOtherNode: SpawnSyncReturns<string> | undefined;
/** `waiter listen` started by a Node.js that cannot load SQLite: run once, read by each test of what it said. */
function listenOnOtherNode(): SpawnSyncReturns<string> {
  listenedOnOtherNode ??= spawnSync(process.execPath, [...OTHER_NODE, CLI, "listen"], {
    env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-native-")), ...WITH_SOURCE },
    encoding: "utf8",
    timeout: 10_000,
  });
  return listenedOnOtherNode;
}

test("`waiter listen` cannot work without the store: one line with the fix, exit status 1", () => {
  const run = listenOnOtherNode();
  expect(run.status).toBe(1);
  const lines = run.stderr
    .trim()
    .split("\n")
    .filter((line) => !/ warning .*unsigned/.test(line));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^waiter: cannot open the event store: better-sqlite3 was built for another Node\.js .*npm rebuild better-sqlite3`, or run waiter with the node that installed it \(an MCP client's "command", a service's ExecStart\)\.$/,
  );
});

test.skipIf(process.platform === "win32")(
  "the rebuild the line gives builds for the node that ran waiter, though another node comes first on the terminal's PATH",
  () => {
    const run = listenOnOtherNode();
    const command = /Fix: to build it for [^,]+, run `([^`]+)`/.exec(run.stderr)?.[1] ?? "";
    expect(command).toMatch(/ npm rebuild better-sqlite3$/);
    // npm builds an addon for the first `node` on PATH, not for the one that runs npm: in the
    // terminal, a version manager's node, which is not the one the client started waiter with.
    const terminal = mkdtempSync(join(tmpdir(), "waiter-terminal-"));
    writeFileSync(join(terminal, "node"), "#!/bin/sh\necho another node\n");
    chmodSync(join(terminal, "node"), 0o755);
    const built = spawnSync(
      "/bin/sh",
      ["-c", command.replace(/npm rebuild better-sqlite3$/, "node -p process.execPath")],
      {
        env: { PATH: [terminal, process.env.PATH].join(delimiter) },
        encoding: "utf8",
      },
    );
    expect(built.stdout.trim()).toBe(process.execPath);
  },
);

test("started by a Node.js older than waiter needs, it stops at once and says which node to give the client, before any tool fails", () => {
  const old = ["--import", fileURLToPath(new URL("./fixtures/old-node.mjs", import.meta.url))];
  const run = spawnSync(process.execPath, [...old, CLI], {
    env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-native-")) },
    input: "",
    encoding: "utf8",
    timeout: 10_000,
  });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe("");
  const required = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).engines.node;
  expect(run.stderr).toBe(
    `waiter: needs Node.js ${required.replace(">=", "")} or later, and ${process.execPath} is v18.20.8: give the MCP client's "command" the absolute path of a newer node (\`which node\` prints the one your terminal runs)\n`,
  );
});

test("started by a Node.js so old that waiter's modules cannot load on it, it still says which node to give the client", () => {
  // Node.js 16.16's node:util has no parseArgs: a module that imports it fails to load, with a
  // SyntaxError that names neither waiter nor the Node.js it needs.
  const node16 = ["--import", fileURLToPath(new URL("./fixtures/node-16.mjs", import.meta.url))];
  const run = spawnSync(process.execPath, [...node16, CLI], {
    env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-native-")) },
    input: "",
    encoding: "utf8",
    timeout: 10_000,
  });
  expect(run.stderr).toMatch(
    /^waiter: needs Node\.js \S+ or later, and .* is v16\.16\.0: give the MCP client's "command" /,
  );
  expect(run.status).toBe(1);
});

test("on Windows, the Node.js too old to run waiter names the command that finds node there, which has no `which`, and how its path goes in JSON", () => {
  const oldOnWindows = ["old-node.mjs", "windows.mjs"].flatMap((fixture) => [
    "--import",
    fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url)),
  ]);
  const run = spawnSync(process.execPath, [...oldOnWindows, CLI], {
    env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-native-")) },
    input: "",
    encoding: "utf8",
    timeout: 10_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(
    // where.exe prints C:\Program Files\nodejs\node.exe, which in a JSON "command" is a bad escape.
    /give the MCP client's "command" the absolute path of a newer node \(`where\.exe node` prints the one your terminal runs; in JSON, write its backslashes doubled or as forward slashes\)\n$/,
  );
});

test("under systemd, the Node.js too old to run waiter is said at error priority, as what else stops it at start", () => {
  const old = ["--import", fileURLToPath(new URL("./fixtures/old-node.mjs", import.meta.url))];
  // stderr as systemd gives a service it: a stream JOURNAL_STREAM names.
  const log = join(mkdtempSync(join(tmpdir(), "waiter-native-")), "journal.log");
  const fd = openSync(log, "w");
  const { dev, ino } = fstatSync(fd);
  const run = spawnSync(process.execPath, [...old, CLI, "serve"], {
    env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-native-")), JOURNAL_STREAM: `${dev}:${ino}` },
    stdio: ["ignore", "ignore", fd],
    timeout: 10_000,
  });
  closeSync(fd);
  expect(run.status).toBe(1);
  expect(readFileSync(log, "utf8")).toMatch(/^<3>waiter: needs Node\.js \S+ or later, and .* is v18\.20\.8: /);
});
