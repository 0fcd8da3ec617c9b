import { describe, expect, test } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/config.js";
import { HttpClient } from "../../src/http/client.js";
import { Log } from "../../src/log.js";
import { enabledTools } from "../../src/server.js";
import { defineTool, defineToolset, type Tool } from "../../src/toolset.js";

function tool(name: string, readOnly: boolean): Tool {
  return defineTool({
    name,
    title: name,
    description: name,
    input: {},
    output: { ok: z.boolean() },
    annotations: { readOnlyHint: readOnly, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    run: async () => ({ ok: true }),
    render: () => "ok",
  });
}

const shop = defineToolset({
  name: "shop",
  description: "reads and writes",
  settings: { key: { env: "TEST_KEY", description: "key", schema: z.string().optional(), secret: true } },
  unconfigured: ({ settings }) => (settings.key ? undefined : "set TEST_KEY"),
  tools: () => [tool("shop_read", true), tool("shop_write", false)],
});
const rates = defineToolset({
  name: "rates",
  description: "reads",
  settings: {},
  tools: () => [tool("rates_get", true)],
});

class RecordingLog extends Log {
  lines: string[] = [];
  override notice(message: string) {
    this.lines.push(message);
  }
}

function names(env: NodeJS.ProcessEnv, overrides = {}) {
  const toolsets = [shop, rates];
  const config = loadConfig({ env, overrides }, toolsets);
  const log = new RecordingLog("error");
  const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024 });
  const list = enabledTools({ config, toolsets, http, log, events: undefined }).map((t) => t.name);
  void http.close();
  return { list, log: log.lines };
}

describe("which tools are listed", () => {
  test("every configured toolset's tools by default", () => {
    expect(names({ TEST_KEY: "k" }).list).toEqual(["shop_read", "shop_write", "rates_get"]);
  });

  test("a toolset that is not configured is left out, and the reason said once", () => {
    const { list, log } = names({});
    expect(list).toEqual(["rates_get"]);
    expect(log).toEqual(["toolset shop is off: set TEST_KEY"]);
  });

  test("--toolsets enables a subset", () => {
    expect(names({ TEST_KEY: "k" }, { toolsets: ["rates"] }).list).toEqual(["rates_get"]);
    expect(names({ TEST_KEY: "k", WAITER_TOOLSETS: "shop" }).list).toEqual(["shop_read", "shop_write"]);
  });

  test("read-only removes every tool that is not read-only, whatever else is set", () => {
    expect(names({ TEST_KEY: "k", WAITER_TOOLSETS: "shop" }, { readOnly: true }).list).toEqual(["shop_read"]);
    expect(names({ TEST_KEY: "k", WAITER_READ_ONLY: "1" }).list).toEqual(["shop_read", "rates_get"]);
  });
});
