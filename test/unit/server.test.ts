import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/config.js";
import { HttpClient } from "../../src/http/client.js";
import { Log } from "../../src/log.js";
import { createServer, enabledTools } from "../../src/server.js";
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

describe("tool calls", () => {
  const double = defineTool({
    name: "math_double",
    title: "Double",
    description: "Doubles a number; a negative one comes back outside the output schema.",
    input: { n: z.number().describe("The number."), unit: z.string().toUpperCase().optional().describe("A unit.") },
    output: { doubled: z.number().nonnegative(), unit: z.string().optional() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    run: async ({ n, unit }) => ({ doubled: n * 2, ...(unit ? { unit } : {}) }),
    render: ({ doubled, unit }) => `${doubled}${unit ? ` ${unit}` : ""}`,
  });

  async function connected() {
    const server = createServer([double], loadConfig({ env: {} }, []), new Log("error"));
    const client = new Client({ name: "test", version: "0" });
    const logged: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, ({ params }) => {
      logged.push(`${params.level} ${params.logger}: ${params.data}`);
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    return { client, logged };
  }

  test("tools/list publishes each tool's input and output as JSON Schema, with its title and hints", async () => {
    const { client } = await connected();
    const { tools } = await client.listTools();
    expect(tools).toEqual([
      {
        name: "math_double",
        title: "Double",
        description: double.description,
        inputSchema: {
          $schema: "http://json-schema.org/draft-07/schema#",
          type: "object",
          properties: {
            n: { type: "number", description: "The number." },
            unit: { type: "string", description: "A unit." },
          },
          required: ["n"],
        },
        outputSchema: {
          $schema: "http://json-schema.org/draft-07/schema#",
          type: "object",
          properties: { doubled: { type: "number", minimum: 0 }, unit: { type: "string" } },
          required: ["doubled"],
          additionalProperties: false,
        },
        annotations: { title: "Double", ...double.annotations },
      },
    ]);
    await client.close();
  });

  test("arguments are checked and converted before the tool runs; the result comes structured and as text", async () => {
    const { client } = await connected();
    const result = await client.callTool({ name: "math_double", arguments: { n: 21, unit: "kg" } });
    expect(result).toEqual({
      content: [{ type: "text", text: "42 KG" }],
      structuredContent: { doubled: 42, unit: "KG" },
    });
    await client.close();
  });

  test("invalid arguments are a tool error naming each problem and where it is", async () => {
    const { client } = await connected();
    const result = await client.callTool({ name: "math_double", arguments: { n: "two", unit: 3 } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      {
        type: "text",
        text: "Invalid arguments for math_double: n: Invalid input: expected number, received string; unit: Invalid input: expected string, received number",
      },
    ]);
    await client.close();
  });

  test("an unknown tool is a protocol error", async () => {
    const { client } = await connected();
    await expect(client.callTool({ name: "math_triple", arguments: {} })).rejects.toThrow(
      /-32602.*Unknown tool math_triple/,
    );
    await client.close();
  });

  test("a result outside the tool's output schema is reported as waiter's bug and logged", async () => {
    const { client, logged } = await connected();
    const result = await client.callTool({ name: "math_double", arguments: { n: -1 } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      {
        type: "text",
        text: "math_double failed inside waiter (its answer did not match its output schema). This is a bug in waiter, not in the arguments; the server log has details.",
      },
    ]);
    expect(logged).toEqual([
      expect.stringMatching(/^error math: math_double answered outside its output schema: doubled: Too small/),
    ]);
    await client.close();
  });
});
