import { getEventListeners } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  EmptyResultSchema,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { servingLine } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { ToolError } from "../../src/errors.js";
import { SqliteEventStore } from "../../src/events/sqlite/store.js";
import { HttpClient } from "../../src/http/client.js";
import { Log } from "../../src/log.js";
import { createServer, enabledTools } from "../../src/server.js";
import { clock } from "../../src/time.js";
import { defineTool, defineToolset, type Tool } from "../../src/toolset.js";
import { toolsets } from "../../src/toolsets.js";
import { webhooksOf } from "../../src/webhooks/settings.js";
import { startFrankfurter } from "../fakes/frankfurter.js";
import { text } from "../stdio.js";

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
/** Off for the same reason as shop, as events, webhooks and automations are off for want of a source. */
const stock = defineToolset({
  name: "stock",
  description: "reads",
  settings: {},
  unconfigured: () => "set TEST_KEY",
  tools: () => [tool("stock_get", true)],
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
  override warning(message: string) {
    this.lines.push(`warning: ${message}`);
  }
}

function names(env: NodeJS.ProcessEnv, overrides = {}, toolsets = [shop, rates], file?: string) {
  const config = loadConfig({ env, overrides, ...(file ? { file } : {}) }, toolsets);
  const log = new RecordingLog("error");
  const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024 });
  const list = enabledTools({ config, toolsets, http, log }).tools.map((t) => t.name);
  void http.close();
  return { list, log: log.lines };
}

describe("which tools are listed", () => {
  test("every configured toolset's tools by default", () => {
    expect(names({ TEST_KEY: "k" }).list).toEqual(["shop_read", "shop_write", "rates_get"]);
  });

  test("settings that leave no tool are warned about", () => {
    const { list, log } = names({ TEST_KEY: "k" }, { tools: "rates_get", excludeTools: "rates_get" });
    expect(list).toEqual([]);
    expect(log).toEqual([
      "tool rates_get of --tools (WAITER_TOOLS, tools in the config file) is not served: --exclude-tools (WAITER_EXCLUDE_TOOLS, excludeTools in the config file) lists it",
      "warning: no tool is served: the toolsets that are on, --tools and --exclude-tools leave none",
    ]);
  });

  test("settings that leave no tool are named as they were given: an assistant's client sets variables, not flags", () => {
    expect(names({ WAITER_TOOLSETS: "shop" }).log).toEqual([
      "toolset shop is off: set TEST_KEY",
      "warning: no tool is served: the toolsets that are on and WAITER_TOOLSETS leave none",
    ]);
    expect(names({ TEST_KEY: "k", WAITER_TOOLSETS: "shop" }, { tools: "shop_write", readOnly: true }).log).toEqual([
      "tool shop_write of --tools (WAITER_TOOLS, tools in the config file) is not served: --read-only (WAITER_READ_ONLY, readOnly in the config file) leaves out every tool that changes something",
      "warning: no tool is served: the toolsets that are on, WAITER_TOOLSETS, --tools and --read-only leave none",
    ]);
  });

  test("settings that leave no tool given in the config file are named by key, the file's path said once, unless a variable beats them", () => {
    const file = join(mkdtempSync(join(tmpdir(), "waiter-choices-")), "waiter.json");
    writeFileSync(file, JSON.stringify({ toolsets: ["shop"], tools: ["shop_read"], readOnly: true }));
    expect(names({ TEST_KEY: "k", WAITER_TOOLS: "shop_write" }, {}, [shop, rates], file).log).toEqual([
      "tool shop_write of --tools (WAITER_TOOLS, tools in the config file) is not served: --read-only (WAITER_READ_ONLY, readOnly in the config file) leaves out every tool that changes something",
      `warning: no tool is served: the toolsets that are on, WAITER_TOOLS, and toolsets and readOnly in ${file} leave none`,
    ]);
    writeFileSync(file, JSON.stringify({ toolsets: ["shop"], tools: ["shop_write"], readOnly: true }));
    expect(names({ TEST_KEY: "k" }, {}, [shop, rates], file).log).toEqual([
      "tool shop_write of --tools (WAITER_TOOLS, tools in the config file) is not served: --read-only (WAITER_READ_ONLY, readOnly in the config file) leaves out every tool that changes something",
      `warning: no tool is served: the toolsets that are on, and toolsets, tools and readOnly in ${file} leave none`,
    ]);
  });

  test("a toolset that is not configured is left out, and the reason said once", () => {
    const { list, log } = names({});
    expect(list).toEqual(["rates_get"]);
    expect(log).toEqual(["toolset shop is off: set TEST_KEY"]);
  });

  test("a reason several toolsets are off for is said once, naming them all", () => {
    const { log } = names({}, {}, [shop, rates, stock]);
    expect(log).toEqual(["toolsets shop and stock are off: set TEST_KEY"]);
  });

  test("a name in --tools shaped like an off toolset's tools is not called a tool: its tools are not made", () => {
    // shop_foo is no tool of shop's; which names are is not known while shop is off.
    const { list, log } = names({}, { tools: "rates_get,shop_foo" });
    expect(list).toEqual(["rates_get"]);
    expect(log).toEqual([
      "toolset shop is off: set TEST_KEY",
      "shop_foo of --tools (WAITER_TOOLS, tools in the config file) is named like toolset shop's tools, which are not served: toolset shop is off",
    ]);
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

test("with every toolset off, tools/list answers an empty list", async () => {
  const { server } = createServer([], loadConfig({ env: {} }, []), new Log("error"));
  const client = new Client({ name: "test", version: "0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  expect(await client.listTools()).toEqual({ tools: [] });
  await client.close();
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

  const find = defineTool({
    name: "notes_find",
    title: "Find a note",
    description: "Finds a note by name; an unknown name is a tool error that quotes it.",
    input: {
      name: z.string().describe("The note's name."),
      tag: z.string().min(1).optional().describe("Only with this tag."),
      limit: z.number().int().min(1).max(100).default(5).describe("At most this many."),
      after: z.string().nullable().optional().describe("After this note; null for the first."),
    },
    output: { found: z.string() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    run: async ({ name, tag, limit, after }) => {
      if (name === "crash") throw new TypeError("the notes' index is gone");
      if (name === "refused") {
        const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
        throw new TypeError("fetch failed", { cause: refused });
      }
      // As a package may throw.
      if (name === "object") throw { status: 503, reason: "the index is gone" };
      // A connection tried at several addresses: its error says nothing itself.
      if (name === "addresses") {
        throw new AggregateError([
          new Error("connect ECONNREFUSED ::1:5432"),
          new Error("connect ECONNREFUSED 127.0.0.1:5432"),
        ]);
      }
      if (name !== "known") throw new ToolError(`No note named "${name}"; notes_list shows the names.`);
      return { found: `${name}/${tag ?? "-"}/${limit}/${after === null ? "null" : (after ?? "-")}` };
    },
    render: ({ found }) => found,
  });

  // A write: "render" makes its text crash once the note is added, "outside" answers outside its
  // output schema, "crash" crashes before adding it.
  const add = defineTool({
    name: "notes_add",
    title: "Add a note",
    description: "Adds a note.",
    input: { name: z.string().describe("The note's name.") },
    output: { added: z.string().min(1) },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    run: async ({ name }) => {
      if (name === "crash") throw new TypeError("the notes' index is gone");
      return { added: name === "outside" ? "" : name };
    },
    render: ({ added }) => {
      if (added === "render") throw new TypeError("no words for it");
      return `added ${added}`;
    },
  });

  // Waits until its deadline or the client cancels, saying how it goes when asked.
  const seen: { left: number; cancelled: boolean }[] = [];
  const wait = defineTool({
    name: "clock_wait",
    title: "Wait",
    description: "Waits for the client to cancel, or for its deadline; longer than the tool timeout when asked.",
    input: { seconds: z.number().describe("How long it may take.") },
    output: { waited: z.boolean() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    deadline: ({ seconds }) => seconds,
    run: async (_, call) => {
      const left = call.deadline - clock.now();
      await call.progress(1, 2, "waiting");
      await new Promise((resolve) => {
        call.signal.addEventListener("abort", resolve);
        setTimeout(resolve, 50);
      });
      seen.push({ left, cancelled: call.signal.aborted });
      return { waited: true };
    },
    render: () => "waited",
  });

  /** A client of a server of these tools; its requests come from `caller`, as an HTTP session's token names it, when given. */
  async function connected(cut?: AbortSignal, caller?: string) {
    // What the operator's log (stderr) gets, at info and above.
    const operator: string[] = [];
    const log = new Log("info", (line) => operator.push(line));
    const { server } = createServer(
      [double, find, wait, add],
      loadConfig({ env: {} }, []),
      log,
      undefined,
      undefined,
      cut,
    );
    const client = new Client({ name: "test", version: "0" });
    const logged: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, ({ params }) => {
      logged.push(`${params.level} ${params.logger}: ${params.data}`);
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    if (caller) {
      const send = clientSide.send.bind(clientSide);
      clientSide.send = (message, options) =>
        send(message, { ...options, authInfo: { token: "t", clientId: caller, scopes: [] } });
    }
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    return { client, logged, operator };
  }

  test("a stop's cut ends a call in flight and says so first; calls done leave nothing on its signal", async () => {
    const cutting = new AbortController();
    const { client } = await connected(cutting.signal);
    for (let i = 0; i < 20; i++) await client.callTool({ name: "math_double", arguments: { n: i } });
    // Each call's hold on the long-lived signal is let go: none piles up over a server's life, as
    // listeners or as the signals AbortSignal.any() makes depend on it (Node keeps both in its own
    // collections, under symbols).
    const held = Object.getOwnPropertySymbols(cutting.signal)
      .map((key) => (cutting.signal as unknown as Record<symbol, { size?: unknown } | undefined>)[key]?.size)
      .filter((size): size is number => typeof size === "number");
    expect(getEventListeners(cutting.signal, "abort")).toHaveLength(0);
    expect(held.reduce((sum, size) => sum + size, 0)).toBe(0);
    const waiting = client.callTool({ name: "clock_wait", arguments: { seconds: 5 } });
    await new Promise((resolve) => setTimeout(resolve, 10));
    cutting.abort();
    expect(await waiting).toMatchObject({ structuredContent: { waited: true } });
    expect(seen.at(-1)).toMatchObject({ cancelled: true });
  });

  test("tools/list publishes each tool's input and output as JSON Schema, with its title and hints", async () => {
    const { client } = await connected();
    const { tools } = await client.listTools();
    expect(tools.slice(0, 1)).toEqual([
      {
        name: "math_double",
        title: "Double",
        description: double.description,
        // Portable (src/portable.ts): no $schema, the object closed.
        inputSchema: {
          type: "object",
          properties: {
            n: { type: "number", description: "The number." },
            unit: { type: "string", description: "A unit." },
          },
          required: ["n"],
          additionalProperties: false,
        },
        outputSchema: {
          type: "object",
          properties: { doubled: { type: "number", minimum: 0 }, unit: { type: "string" } },
          required: ["doubled"],
        },
        // The title once, where the current protocol has it; no execution: tasks are not offered.
        // Of a read-only tool, the hints the specification gives a meaning to, where not its default.
        annotations: { readOnlyHint: true, openWorldHint: false },
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

  test("invalid arguments are a tool error naming each problem and where it is, and said to the operator alone", async () => {
    const { client, logged, operator } = await connected();
    const result = await client.callTool({ name: "math_double", arguments: { n: "two", unit: 3 } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      {
        type: "text",
        text: 'Invalid arguments for math_double: n: expected a number, got "two": send one in digits, as 20; unit: Invalid input: expected string, received number',
      },
    ]);
    // As a tool's own failure is: the client has it in the result, the operator's log once.
    expect(operator).toEqual([
      expect.stringMatching(
        /info +\[\w+\] math_double refused its arguments: n: expected a number, got "two": send one in digits, as 20; unit: /,
      ),
    ]);
    expect(logged).toEqual([]);
    await client.close();
  });

  test("a call that asks for a task is answered as any call: waiter declares no tasks", async () => {
    const { client } = await connected();
    expect(client.getServerCapabilities()?.tasks).toBeUndefined();
    // The MCP specification (2025-11-25): a server that declares no tasks processes such a request
    // normally, ignoring the task; the SDK's client sends one only to a server that declares tasks.
    const call = (args: Record<string, unknown>) =>
      client.request(
        { method: "tools/call", params: { name: "math_double", arguments: args, task: { ttl: 60_000 } } },
        CallToolResultSchema,
      );
    expect(await call({ n: 21 })).toEqual({
      content: [{ type: "text", text: "42" }],
      structuredContent: { doubled: 42 },
    });
    // Its answer is still checked against the output schema.
    expect(await call({ n: -1 })).toMatchObject({
      isError: true,
      content: [{ text: expect.stringMatching(/bug in waiter/) }],
    });
    await client.close();
  });

  test("an unknown tool is a protocol error, said to the operator too", async () => {
    const { client, logged, operator } = await connected();
    await expect(client.callTool({ name: "math_triple", arguments: {} })).rejects.toThrow(
      /-32602.*Unknown tool "math_triple"; tools\/list names the tools served\.$/,
    );
    // A name that differs by case, a separator or a letter is told the tool meant. The name is
    // quoted: its white space, unseen, would have the tool meant read as the very name sent.
    await expect(client.callTool({ name: "Math-Double ", arguments: {} })).rejects.toThrow(
      /-32602.*Unknown tool "Math-Double "; did you mean math_double\? tools\/list names the tools served\.$/,
    );
    await expect(client.callTool({ name: "math_double\u200b", arguments: {} })).rejects.toThrow(
      /-32602.*Unknown tool "math_double\\u200b"; did you mean math_double\? tools\/list names the tools served\.$/,
    );
    // A quote or a line break in the name can neither end its quote nor start a line of the log.
    const forged = 'x"\nwarning [waiter] forged';
    await expect(client.callTool({ name: forged, arguments: {} })).rejects.toThrow(
      /-32602.*Unknown tool "x\\"\\nwarning \[waiter\] forged"; tools\/list names the tools served\.$/,
    );
    expect(operator).toEqual([
      expect.stringMatching(/info +\[waiter\] tools\/call of "math_triple", which this session does not serve/),
      expect.stringMatching(/info +\[waiter\] tools\/call of "Math-Double ", which this session does not serve/),
      expect.stringMatching(/info +\[waiter\] tools\/call of "math_double\\u200b", which this session does not serve/),
      expect.stringMatching(
        /info +\[waiter\] tools\/call of "x\\"\\nwarning \[waiter\] forged", which this session does not serve/,
      ),
    ]);
    expect(operator.filter((line) => /[\r\n]/.test(line.trimEnd()))).toEqual([]);
    expect(logged).toEqual([]);
    await client.close();
  });

  test("a result outside the tool's output schema is reported as waiter's bug, its details in the operator's log alone", async () => {
    const { client, logged, operator } = await connected();
    await client.setLoggingLevel("error");
    const result = await client.callTool({ name: "math_double", arguments: { n: -1 } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      {
        type: "text",
        text: "math_double failed inside waiter (its answer did not match its output schema). This is a bug in waiter, not in the arguments; the server log has details.",
      },
    ]);
    // Told once, as its result: a notification too would say it twice, with waiter's schema in it.
    expect(logged).toEqual([]);
    expect(operator).toEqual([
      expect.stringMatching(
        /error +\[math\] math_double answered outside its output schema: Too small: .* at doubled\n$/,
      ),
    ]);
    await client.close();
  });

  test("a result outside the tool's output schema is logged with whose call it was", async () => {
    const { client, operator } = await connected(undefined, "ops");
    expect((await client.callTool({ name: "math_double", arguments: { n: -1 } })).isError).toBe(true);
    expect(operator).toEqual([
      expect.stringMatching(/error +\[math\] math_double answered outside its output schema for ops: Too small: /),
    ]);
    await client.close();
  });

  test("a tool that crashes is waiter's bug: its client reads the error in the result, the stack is the operator's", async () => {
    const { client, logged, operator } = await connected();
    await client.setLoggingLevel("debug");
    const result = await client.callTool({ name: "notes_find", arguments: { name: "crash" } });
    expect(result).toEqual({
      content: [
        {
          type: "text",
          text: "notes_find failed inside waiter (the notes' index is gone). This is a bug in waiter, not in the arguments; the server log has details.",
        },
      ],
      isError: true,
    });
    // The MCP specification: no log message to a client carries internal details that could aid an attack.
    expect(logged.join("\n")).not.toMatch(/crashed|\bat /);
    expect(operator.join("")).toMatch(
      /error +\[notes\] notes_find crashed: TypeError: the notes' index is gone \| at [^\n]*\n$/,
    );
    await client.close();
  });

  test("a tool's crash is logged as Node reports it: the cause and code of an Error, and what is thrown that is none", async () => {
    const { client, operator } = await connected();
    await client.callTool({ name: "notes_find", arguments: { name: "refused" } });
    expect(operator.join("")).toMatch(
      /notes_find crashed: TypeError: fetch failed \| at .* \[cause\]: Error: connect ECONNREFUSED 127\.0\.0\.1:5432 \| at .*code: 'ECONNREFUSED'/,
    );
    operator.length = 0;
    await client.callTool({ name: "notes_find", arguments: { name: "object" } });
    expect(operator.join("")).toMatch(/notes_find crashed: \{ status: 503, reason: 'the index is gone' \}\n$/);
    await client.close();
  });

  test("a tool's crash with an error that says nothing itself tells the client its inner errors' messages", async () => {
    const { client } = await connected();
    const result = await client.callTool({ name: "notes_find", arguments: { name: "addresses" } });
    expect(text(result as CallToolResult)).toBe(
      "notes_find failed inside waiter (connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432). This is a bug in waiter, not in the arguments; the server log has details.",
    );
    await client.close();
  });

  test("a tool that changes something and fails inside waiter says whether the change was made", async () => {
    const { client, operator } = await connected();
    const said = async (name: string) =>
      text((await client.callTool({ name: "notes_add", arguments: { name } })) as CallToolResult);
    const bug = (what: string) =>
      `notes_add failed inside waiter (${what}). This is a bug in waiter, not in the arguments; the server log has details.`;
    expect(await said("render")).toBe(
      `${bug("no words for it")} Its change was made: check it before calling the tool again.`,
    );
    expect(operator.join("")).toMatch(/notes_add crashed after its change was made: TypeError: no words for it/);
    expect(await said("outside")).toBe(
      `${bug("its answer did not match its output schema")} Its change was made: check it before calling the tool again.`,
    );
    expect(await said("crash")).toBe(
      `${bug("the notes' index is gone")} Its change may have been made: check before calling the tool again.`,
    );
    expect(operator.join("")).toMatch(/notes_add crashed: TypeError: the notes' index is gone/);
    await client.close();
  });

  test("the tool runs with the configured deadline, or its own when longer, and the client's cancellation", async () => {
    const { client } = await connected();
    seen.length = 0;
    await client.callTool({ name: "clock_wait", arguments: { seconds: 1 } });
    await client.callTool({ name: "clock_wait", arguments: { seconds: 300 } });
    const progress: string[] = [];
    const controller = new AbortController();
    const cancelled = client.callTool({ name: "clock_wait", arguments: { seconds: 300 } }, undefined, {
      signal: controller.signal,
      onprogress: ({ progress: done, total, message }) => {
        progress.push(`${done}/${total} ${message}`);
        controller.abort();
      },
    });
    await expect(cancelled).rejects.toThrow(/abort/i);
    await expect.poll(() => seen.length).toBe(3);
    const [short, long, stopped] = seen;
    expect(short?.left).toBeGreaterThan(19_000);
    expect(short?.left).toBeLessThanOrEqual(20_000);
    expect(long?.left).toBeGreaterThan(299_000);
    expect(stopped?.cancelled).toBe(true);
    expect(progress).toEqual(["1/2 waiting"]);
    await client.close();
  });

  describe("arguments as clients send them", () => {
    test("arguments that are not an object are a tool error like any other bad input", async () => {
      const { client } = await connected();
      // The SDK's client sends what it is given; a raw tools/call shows what the server answers.
      const call = async (args: unknown) =>
        (await client.request(
          { method: "tools/call", params: { name: "notes_find", arguments: args as Record<string, unknown> } },
          CallToolResultSchema,
        )) as CallToolResult;
      for (const [args, kind] of [
        [["known"], "an array"],
        ["known", "a string"],
        [42, "a number"],
      ] as const) {
        expect(await call(args)).toEqual({
          content: [
            {
              type: "text",
              text: `Invalid arguments for notes_find: arguments must be an object of named arguments, not ${kind}`,
            },
          ],
          isError: true,
        });
      }
      expect(await call(null)).toMatchObject({
        content: [{ text: "Invalid arguments for notes_find: name: required, not given (expected string)" }],
        isError: true,
      });
      // A value of the wrong type is told its type, not also the bounds of the type it should have.
      // And an integer past its bound is told that bound, not also zod's on every integer (2^53 - 1).
      expect(await client.callTool({ name: "notes_find", arguments: { name: "known", limit: 1e308 } })).toMatchObject({
        content: [{ text: "Invalid arguments for notes_find: limit: Too big: expected number to be <=100" }],
        isError: true,
      });
      // A number with decimals where a whole number goes is said so, with the number, not as zod's
      // "expected int, received number", which reads as if a number were the wrong thing to send.
      for (const limit of [2.5, 200.5]) {
        expect(await client.callTool({ name: "notes_find", arguments: { name: "known", limit } })).toMatchObject({
          content: [{ text: `Invalid arguments for notes_find: limit: expected a whole number, got ${limit}` }],
          isError: true,
        });
      }
      expect(
        await client.callTool({ name: "notes_find", arguments: { name: "known", tag: [], limit: [1, 2] } }),
      ).toMatchObject({
        content: [
          {
            text: "Invalid arguments for notes_find: tag: Invalid input: expected string, received array; limit: Invalid input: expected number, received array",
          },
        ],
        isError: true,
      });
      await expect(client.request({ method: "no/such/method" }, EmptyResultSchema)).rejects.toThrow(
        /-32601.*Method not found/,
      );
      await expect(
        client.request({ method: "tools/call", params: { arguments: {} } }, CallToolResultSchema),
      ).rejects.toThrow(/-32602.*tools\/call needs params.name/);
      await client.close();
    });

    test("null for an optional argument is the argument left out; null for a required one is refused", async () => {
      const { client } = await connected();
      const omitted = await client.callTool({ name: "notes_find", arguments: { name: "known" } });
      expect(omitted.structuredContent).toEqual({ found: "known/-/5/-" });
      expect(
        await client.callTool({ name: "notes_find", arguments: { name: "known", tag: null, limit: null } }),
      ).toEqual(omitted);
      // So is "" where the argument takes no empty text: a form's text field left empty.
      expect(await client.callTool({ name: "notes_find", arguments: { name: "known", tag: "" } })).toEqual(omitted);
      // Where null means something, it stays.
      expect(
        (await client.callTool({ name: "notes_find", arguments: { name: "known", tag: null, after: null } }))
          .structuredContent,
      ).toEqual({ found: "known/-/5/null" });
      expect(await client.callTool({ name: "math_double", arguments: { n: 21, unit: null } })).toMatchObject({
        content: [{ type: "text", text: "42" }],
      });
      for (const [name, args, problem] of [
        ["notes_find", { name: null, tag: null }, "name: Invalid input: expected string, received null"],
        ["math_double", { n: null }, "n: Invalid input: expected number, received null"],
      ] as const) {
        expect(await client.callTool({ name, arguments: args })).toEqual({
          content: [{ type: "text", text: `Invalid arguments for ${name}: ${problem}` }],
          isError: true,
        });
      }
      await client.close();
    });

    test("an argument the tool does not take is refused with the ones it takes, not dropped", async () => {
      const { client } = await connected();
      expect(await client.callTool({ name: "notes_find", arguments: { name: "known", date: "2026-12-01" } })).toEqual({
        content: [
          {
            type: "text",
            text: 'Invalid arguments for notes_find: notes_find takes no "date"; its arguments are name, tag, limit, after',
          },
        ],
        isError: true,
      });
      const long = "k".repeat(500);
      const both = await client.callTool({ name: "math_double", arguments: { n: 2, per: "m", [long]: 1 } });
      expect(both.content).toEqual([
        {
          type: "text",
          text: `Invalid arguments for math_double: math_double takes no "per", "${"k".repeat(40)}…(500 characters)"; its arguments are n, unit`,
        },
      ]);
      await client.close();

      const { server: bare } = createServer(
        [tool("ping_now", true)],
        loadConfig({ env: {} }, []),
        new Log("error", () => {}),
      );
      const caller = new Client({ name: "test", version: "0" });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await Promise.all([bare.connect(serverSide), caller.connect(clientSide)]);
      expect((await caller.callTool({ name: "ping_now", arguments: { now: true } })).content).toEqual([
        { type: "text", text: 'Invalid arguments for ping_now: ping_now takes no "now"; it takes no arguments' },
      ]);
      expect((await caller.callTool({ name: "ping_now", arguments: {} })).structuredContent).toEqual({ ok: true });
      await caller.close();
    });

    test("a huge argument is quoted back as a short prefix, in the result and in the log", async () => {
      const { client, operator } = await connected();
      const huge = `${"é".repeat(39)}😀${"x".repeat(1024 * 1024)}`;
      const result = (await client.callTool({ name: "notes_find", arguments: { name: huge } })) as CallToolResult;
      expect(result).toEqual({
        content: [
          {
            type: "text",
            // Counted in characters as zod and notify_send count them: the emoji is one, shown whole.
            text: `No note named "${"é".repeat(39)}😀…(${huge.length - 1} characters)"; notes_list shows the names.`,
          },
        ],
        isError: true,
      });
      expect(operator).toEqual([expect.stringMatching(/ info +\[notes\] notes_find failed: No note named/)]);
      expect(operator[0]?.length).toBeLessThan(250);
      const unknown = await client.callTool({ name: huge, arguments: {} }).catch((err: Error) => err.message);
      expect(unknown).toMatch(/Unknown tool "é+😀…\(1048616 characters\)"/);
      expect(String(unknown).length).toBeLessThan(200);
      // Forty emoji are forty characters, quoted whole.
      const emoji = "😀".repeat(40);
      expect(text((await client.callTool({ name: "notes_find", arguments: { name: emoji } })) as CallToolResult)).toBe(
        `No note named "${emoji}"; notes_list shows the names.`,
      );
      await client.close();
    });
  });
});

describe("null for every optional argument of real tools", () => {
  test("events_list, events_get and the currency tools answer as if it were left out", async () => {
    const frankfurter = await startFrankfurter();
    const dir = mkdtempSync(join(tmpdir(), "waiter-nulls-"));
    const config = loadConfig(
      {
        env: {
          WAITER_DATA_DIR: dir,
          WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
          WAITER_WEBHOOKS_SOURCES: JSON.stringify({ trial: { scheme: "none", allowUnsigned: true } }),
          WAITER_TOOLSETS: "events,currency",
        },
      },
      toolsets(),
    );
    const store = new SqliteEventStore(join(dir, "events.db"), webhooksOf(config).retention);
    const { id } = await store.add({
      source: "trial",
      type: "order.paid",
      scheme: "none",
      dedupeId: "d1",
      headers: {},
      body: Buffer.from('{"order":7}'),
      receivedAt: clock.now(),
    });
    const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024 * 1024 });
    const log = new Log("error");
    const { server } = createServer(enabledTools({ config, toolsets: toolsets(store), http, log }).tools, config, log);
    const client = new Client({ name: "test", version: "0" });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);

    const same = async (name: string, given: Record<string, unknown>, nulls: string[]) => {
      const omitted = await client.callTool({ name, arguments: given });
      expect(omitted.isError, `${name} ${JSON.stringify(omitted.content)}`).toBeFalsy();
      const withNulls = { ...given, ...Object.fromEntries(nulls.map((n) => [n, null])) };
      const answered = await client.callTool({ name, arguments: withNulls });
      // The text of an event has a random fence tag; the structured answer is what must match.
      expect(answered.isError, name).toBe(omitted.isError);
      expect(answered.structuredContent, name).toEqual(omitted.structuredContent);
    };
    await same("events_list", {}, ["source", "type", "since", "before", "unacked_only", "limit"]);
    await same("events_get", { id }, ["fields"]);
    await same("currency_rates", { symbols: ["USD"], date: "2021-01-04" }, ["base", "source"]);
    await same("currency_rates", {}, ["base", "symbols", "date", "source"]);
    await same("currency_convert", { amount: 5, from: "EUR", to: "USD" }, ["date", "source"]);
    await same("currency_list", {}, ["source"]);
    expect(
      await client.callTool({ name: "currency_convert", arguments: { amount: 5, from: null, to: "USD" } }),
    ).toEqual({
      content: [
        {
          type: "text",
          text: "Invalid arguments for currency_convert: from: Invalid input: expected string, received null",
        },
      ],
      isError: true,
    });
    expect(await client.callTool({ name: "events_get", arguments: { id: null } })).toMatchObject({ isError: true });

    await client.close();
    await store.close();
    await Promise.all([http.close(), frankfurter.close()]);
  });
});

test("the start's line counts the tools it serves in words that fit the count", () => {
  const tools = (...names: string[]) => names.map((name) => ({ name }) as Tool);
  expect(servingLine(tools("currency_list"), "stdio")).toMatch(/ serving 1 tool over stdio: currency$/);
  expect(servingLine(tools("currency_list", "events_list"), "stdio")).toMatch(
    / serving 2 tools over stdio: currency, events$/,
  );
  expect(servingLine(tools(), "stdio")).toMatch(/ serving 0 tools over stdio: none$/);
});
