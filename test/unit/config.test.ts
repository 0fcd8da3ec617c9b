import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { ConfigError, defaultDataDir, loadConfig } from "../../src/config.js";
import { upstreamUrl } from "../../src/settings.js";
import type { Toolset } from "../../src/toolset.js";

const shop: Toolset = {
  name: "shop",
  description: "a test toolset",
  settings: {
    url: { env: "TEST_SHOP_URL", description: "base URL", schema: upstreamUrl("https://shop.example/api") },
    key: { env: "TEST_SHOP_KEY", description: "API key", schema: z.string().optional(), secret: true },
  },
  tools: () => [],
};

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "config.json");
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const load = (env: NodeJS.ProcessEnv, extra: Partial<Parameters<typeof loadConfig>[0]> = {}) =>
  loadConfig({ env: { HOME: "/home/u", ...env }, ...extra }, [shop]);

describe("sources and precedence", () => {
  test("defaults apply when nothing is set", () => {
    const config = load({});
    expect(config.core).toMatchObject({
      logLevel: "info",
      readOnly: false,
      toolTimeout: 20,
      maxResponseBytes: 5242880,
    });
    expect(config.toolsets.shop?.url).toEqual(new URL("https://shop.example/api"));
  });

  test("the environment beats the file, and flags beat both", () => {
    const path = file({ logLevel: "debug", toolTimeout: 30, shop: { url: "https://file.example/" } });
    const config = load(
      { WAITER_TOOL_TIMEOUT: "10", TEST_SHOP_URL: "https://env.example/", WAITER_READ_ONLY: "false" },
      { file: path, overrides: { readOnly: true } },
    );
    expect(config.core).toMatchObject({ logLevel: "debug", toolTimeout: 10, readOnly: true });
    expect(String(config.toolsets.shop?.url)).toBe("https://env.example/");
    expect(config.file).toBe(path);
  });

  test("WAITER_CONFIG names the file when --config does not", () => {
    const path = file({ toolsets: ["shop"] });
    expect(load({ WAITER_CONFIG: path }).core.toolsets).toEqual(["shop"]);
  });

  test("lists come comma-separated from the environment", () => {
    expect(load({ WAITER_TOOLSETS: "currency, shop" }).core.toolsets).toEqual(["currency", "shop"]);
  });
});

describe("bad settings are refused by name", () => {
  test.each([
    [{ WAITER_LOG_LEVEL: "loud" }, /^invalid setting WAITER_LOG_LEVEL: .*"debug".* \(got "loud"\)$/],
    [{ WAITER_TOOL_TIMEOUT: "0" }, /^invalid setting WAITER_TOOL_TIMEOUT: /],
    [{ WAITER_READ_ONLY: "maybe" }, /^invalid setting WAITER_READ_ONLY: expected true or false/],
    [
      { TEST_SHOP_URL: "http://shop.example/api" },
      /^invalid setting TEST_SHOP_URL: plain http is allowed only to loopback/,
    ],
    [{ TEST_SHOP_URL: "not a url" }, /^invalid setting TEST_SHOP_URL: is not a URL$/],
  ])("%j", (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  test.each(["http://shop.example/api?token=s3cr3t", "shop.example/api?token=s3cr3t", "https://user:s3cr3t@[bad"])(
    "the value %s is not echoed: it may hold a token",
    (value) => {
      let message = "";
      try {
        load({ TEST_SHOP_URL: value });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^invalid setting TEST_SHOP_URL/);
      expect(message).not.toContain("s3cr3t");
    },
  );

  test("retention that could not keep one webhook is refused", () => {
    expect(() => load({ WAITER_WEBHOOKS_RETENTION: '{"maxBytes": 1000}' })).toThrow(
      /WAITER_WEBHOOKS_RETENTION: maxBytes \(1000\) is below webhooks.maxBodyBytes \(1048576\)/,
    );
  });

  test("an empty toolset list, a relative data directory and an empty --config are refused", () => {
    expect(() => load({ WAITER_TOOLSETS: "," })).toThrow(/WAITER_TOOLSETS: names no toolset/);
    expect(() => load({ WAITER_DATA_DIR: "state" })).toThrow(/WAITER_DATA_DIR: must be an absolute path/);
    expect(() => load({}, { file: "" })).toThrow("--config needs a file name");
  });

  test("a bad value in the file names its key and the file", () => {
    const path = file({ shop: { url: 42 } });
    expect(() => load({}, { file: path })).toThrow(`invalid setting shop.url in ${path}`);
  });

  test("an unknown key in the file is a typo, not ignored", () => {
    const path = file({ shop: { ulr: "https://x.example" } });
    expect(() => load({}, { file: path })).toThrow(`unknown setting shop.ulr in config file ${path}`);
    expect(() => load({}, { file: file({ logLevl: "debug" }) })).toThrow(/unknown setting logLevl/);
  });

  test("a secret in the file is refused and the environment variable named", () => {
    const path = file({ shop: { key: "k" } });
    expect(() => load({}, { file: path })).toThrow(/shop.key is a secret: set it in the environment as TEST_SHOP_KEY/);
  });

  test("a secret comes from the environment", () => {
    expect(load({ TEST_SHOP_KEY: "k" }).toolsets.shop?.key).toBe("k");
  });

  test("an unreadable or broken file says so", () => {
    expect(() => load({}, { file: "/nonexistent/waiter.json" })).toThrow(/cannot read config file .*ENOENT/);
    expect(() => load({}, { file: file("{oops") })).toThrow(/is not valid JSON/);
    expect(() => load({}, { file: file("[1]") })).toThrow(/must hold a JSON object/);
  });
});

describe("the data directory", () => {
  test("WAITER_DATA_DIR wins", () => {
    expect(load({ WAITER_DATA_DIR: "/srv/waiter" }).core.dataDir).toBe("/srv/waiter");
  });

  test("defaults to the platform's per-user state directory, never the current one", () => {
    expect(defaultDataDir({}, "linux", "/home/u")).toBe("/home/u/.local/state/waiter");
    expect(defaultDataDir({ XDG_STATE_HOME: "/x" }, "linux", "/home/u")).toBe("/x/waiter");
    expect(defaultDataDir({}, "darwin", "/Users/u")).toBe("/Users/u/Library/Application Support/waiter");
    expect(defaultDataDir({ LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }, "win32", "C:\\Users\\u")).toMatch(
      /AppData.Local.waiter$/,
    );
  });
});
