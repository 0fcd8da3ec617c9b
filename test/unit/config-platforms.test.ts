import { userInfo } from "node:os";
import { afterEach, beforeAll, expect, test, vi } from "vitest";

/**
 * How a config file the system will not give waiter reads on Windows and macOS, simulated here:
 * the error code the file's read fails with, the platform, and a process without POSIX uids.
 */

const refusal = vi.hoisted(() => ({ code: undefined as string | undefined }));
vi.mock("node:fs", async (actual) => {
  const fs = await actual<typeof import("node:fs")>();
  return {
    ...fs,
    readFileSync: (...args: Parameters<typeof fs.readFileSync>) => {
      if (refusal.code === undefined) return fs.readFileSync(...args);
      throw Object.assign(new Error(`${refusal.code}: refused, open '${String(args[0])}'`), { code: refusal.code });
    },
  };
});

// Files share a worker's modules (vitest.config.ts's isolate: false): config.ts may have been
// loaded with the real node:fs before this file's mock, so it is loaded anew here.
let loadConfig: typeof import("../../src/config.js").loadConfig;
let ConfigError: typeof import("../../src/errors.js").ConfigError;
let toolsets: typeof import("../../src/toolsets.js").toolsets;
beforeAll(async () => {
  vi.resetModules();
  ({ loadConfig } = await import("../../src/config.js"));
  ({ ConfigError } = await import("../../src/errors.js"));
  ({ toolsets } = await import("../../src/toolsets.js"));
});

const restore: (() => void)[] = [];
afterEach(() => {
  refusal.code = undefined;
  for (const undo of restore.splice(0).reverse()) undo();
});

/** `process[key]` as `value` until the test ends. */
function simulate<K extends "platform" | "getuid">(key: K, value: unknown): void {
  const own = Object.getOwnPropertyDescriptor(process, key);
  Object.defineProperty(process, key, { value, configurable: true, writable: true });
  restore.push(() => (own ? Object.defineProperty(process, key, own) : Reflect.deleteProperty(process, key)));
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("no ConfigError");
}

const load = (file: string) => loadConfig({ env: { HOME: "/home/u" }, file }, toolsets());

test("on Windows, which has no uids, a config file the user may not read names the user, not a uid", () => {
  simulate("platform", "win32");
  simulate("getuid", undefined);
  refusal.code = "EACCES";
  expect(messageOf(() => load("/Users/jana/waiter.json"))).toBe(
    `cannot read config file /Users/jana/waiter.json: EACCES, the user waiter runs as (${userInfo().username}) may not read it`,
  );
});

test("on macOS, a config file its privacy protection keeps from waiter says which setting lets it be read", () => {
  // What macOS answers a program not allowed into Desktop, Documents or Downloads: EPERM, not EACCES.
  simulate("platform", "darwin");
  refusal.code = "EPERM";
  expect(messageOf(() => load("/Users/jana/Documents/waiter.json"))).toBe(
    "cannot read config file /Users/jana/Documents/waiter.json: EPERM, the system does not let waiter read it: macOS lets only an app allowed in System Settings → Privacy & Security → Files and Folders (or Full Disk Access) read Desktop, Documents, Downloads, iCloud Drive and external or network volumes, and waiter reads as the app that starts it (the MCP client, or the terminal); allow that app there, or keep the file elsewhere",
  );
  simulate("platform", "linux");
  expect(messageOf(() => load("/etc/waiter.json"))).toBe(
    "cannot read config file /etc/waiter.json: EPERM, the system does not let waiter read it",
  );
});

test("on Windows, the path waiter offers for a ~ is written with forward slashes, as a JSON file can hold it", () => {
  // An MCP client's env and waiter's file are JSON, where C:\Users would be a bad escape.
  simulate("platform", "win32");
  const home = process.env.HOME;
  process.env.HOME = "C:\\Users\\jana";
  restore.push(() => {
    process.env.HOME = home;
  });
  expect(messageOf(() => loadConfig({ env: { WAITER_DATA_DIR: "~/waiter-data" } }, toolsets()))).toMatch(
    /write it out, such as C:\/Users\/jana\/waiter-data$/,
  );
});

/** process.env as Windows has it: a variable is found whatever the case of its name. */
function windowsEnv(variables: Record<string, string>): NodeJS.ProcessEnv {
  const named = (name: string | symbol) =>
    typeof name === "string"
      ? Object.keys(variables).find((own) => own.toUpperCase() === name.toUpperCase())
      : undefined;
  return new Proxy(variables, {
    get: (target, name) => {
      const own = named(name);
      return own === undefined ? undefined : target[own];
    },
    has: (_, name) => named(name) !== undefined,
  });
}

test("on Windows, a setting's variable written in another case, which Windows reads as the setting's, is not said to be ignored", () => {
  simulate("platform", "win32");
  const config = loadConfig(
    { env: windowsEnv({ USERPROFILE: "C:\\Users\\jana", waiter_log_level: "debug", WAITER_LOGLEVEL: "info" }) },
    toolsets(),
  );
  expect(config.core.logLevel).toBe("debug");
  // A misspelt one is still named.
  expect(config.warnings).toEqual([
    "WAITER_LOGLEVEL is no setting of waiter's and is ignored; did you mean WAITER_LOG_LEVEL?",
  ]);
});
