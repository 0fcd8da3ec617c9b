import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { setClock } from "../src/time.js";
import { WOO_IDS } from "./fakes/woocommerce.js";
import { startWaiter } from "./memory.js";
import { TOOL_COUNT } from "./reference.js";
import { startUpstreams, type Upstreams } from "./upstreams.js";

/**
 * Every tool's arguments as clients really send them: some send each one as text
 * (anthropics/claude-code#29104: "true", "5", "12.5"), and some send null, "" or "null" for an
 * optional one they leave out. Walks tools/list, so that an argument added later is checked too.
 */

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

let waiter: Awaited<ReturnType<typeof startWaiter>>;
let upstreams: Upstreams;
const events: string[] = [];

/** Arguments each tool is called with, on which each argument tried is changed. */
const base = (): Record<string, Record<string, unknown>> => ({
  events_get: { id: events[1] },
  events_wait: { since: events[0] },
  events_ack: { ids: [events[1]] },
  currency_convert: { amount: 10, from: "EUR", to: "CZK" },
  currency_history: { base: "EUR", symbols: ["USD"], start: "2026-11-02", end: "2026-11-06" },
  weather_geocode: { name: "Springfield" },
  weather_current: { latitude: 50.08, longitude: 14.42 },
  weather_forecast: { latitude: 50.08, longitude: 14.42 },
  eshop_order_get: { id: WOO_IDS.orders.pending1999 },
  eshop_order_mark_paid: { id: WOO_IDS.orders.processing },
  eshop_order_update_status: { id: WOO_IDS.orders.onHold, status: "on-hold" },
  eshop_order_add_note: { id: WOO_IDS.orders.pending1999, note: "Packed." },
  eshop_product_get: { id: WOO_IDS.products.espresso },
  eshop_stock_set: { id: WOO_IDS.products.espresso, quantity: 40 },
  notify_send: { channel: "team", text: "Packed." },
});

/** Values of lists, by argument, where an item's schema says too little to make one. */
const LISTS: Record<string, unknown[]> = {
  fields: ["n"],
  status: ["processing"],
  symbols: ["USD"],
};

/** A value `schema` takes, for an argument the base arguments leave out. */
function sample(name: string, schema: JsonSchema): unknown {
  if (schema.type === "integer" || schema.type === "number") return Math.max(schema.minimum ?? 1, 1);
  if (schema.type === "array" && LISTS[name]) return LISTS[name];
  throw new Error(`no sample of ${name} (${JSON.stringify(schema)}): add one to LISTS`);
}

/** How a client that sends every argument as text sends `value`. */
const asText = (value: unknown) => (typeof value === "object" ? JSON.stringify(value) : String(value));

const refused = (result: CallToolResult) =>
  result.isError === true &&
  /^Invalid arguments/.test(result.content[0]?.type === "text" ? result.content[0].text : "");

const said = (result: CallToolResult) => (result.content[0]?.type === "text" ? result.content[0].text : "");

beforeAll(async () => {
  setClock("2026-11-27T16:40:00Z");
  upstreams = await startUpstreams();
  waiter = await startWaiter(
    {
      ...upstreams.env,
      WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ trial: { scheme: "none", allowUnsigned: true } }),
      WAITER_AUTOMATIONS: JSON.stringify([
        { name: "ack", when: { source: "trial", type: "none." }, do: [{ ack: true }] },
      ]),
    },
    { listener: true },
  );
  for (const n of [1, 2]) {
    const posted = await request(`${waiter.listenerUrl}/webhooks/trial`, {
      method: "POST",
      body: JSON.stringify({ type: "order.created", n }),
      headers: { "content-type": "application/json" },
    });
    events.push(((await posted.body.json()) as { id: string }).id);
  }
});

afterAll(async () => {
  await waiter?.close();
  await upstreams?.close();
  setClock();
});

/** Each tool served, with its arguments' published schemas. */
async function tools() {
  const { tools } = await waiter.client.listTools();
  expect(tools).toHaveLength(TOOL_COUNT);
  return tools.map((tool) => ({
    name: tool.name,
    readOnly: tool.annotations?.readOnlyHint === true,
    schema: tool.inputSchema as JsonSchema,
  }));
}

/** Whether `sent` and `typed` answered alike (each argument told, not only the first): the same answer from a tool that only reads, else as much an error. */
function expectAlike(sent: CallToolResult, typed: CallToolResult, readOnly: boolean, what: string) {
  expect.soft(refused(sent), `${what}: ${said(sent)}`).toBe(false);
  // The answer's data: its text fences a payload with a nonce of each call's own.
  if (readOnly) expect.soft(sent.structuredContent, what).toEqual(typed.structuredContent);
  else expect.soft(sent.isError ?? false, `${what}: ${said(sent)}`).toBe(typed.isError ?? false);
}

describe("each argument that is not text", () => {
  test("is taken as text too, as some clients send every argument", async () => {
    let tried = 0;
    for (const tool of await tools()) {
      for (const [name, schema] of Object.entries(tool.schema.properties ?? {})) {
        if (schema.type === "string") continue;
        const args = base()[tool.name] ?? {};
        // Both of a boolean's: a reader that took any text for true would pass on "true" alone.
        const values = schema.type === "boolean" ? [true, false] : [args[name] ?? sample(name, schema)];
        for (const value of values) {
          const typed = await waiter.call(tool.name, { ...args, [name]: value });
          expect(refused(typed), `${tool.name} ${name}=${JSON.stringify(value)}: ${said(typed)}`).toBe(false);
          const text = asText(value);
          const sent = await waiter.call(tool.name, { ...args, [name]: text });
          expectAlike(sent, typed, tool.readOnly, `${tool.name} ${name}=${JSON.stringify(text)}`);
          if (Array.isArray(value) && value.length === 1) {
            // A list of one, sent as its one item.
            const one = await waiter.call(tool.name, { ...args, [name]: String(value[0]) });
            expectAlike(one, typed, tool.readOnly, `${tool.name} ${name}=${JSON.stringify(value[0])}`);
          }
        }
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(20);
  });

  test('a boolean written as "yes" or "no", "1" or "0", "on" or "off" is taken as its word says', async () => {
    // One event acknowledged, one not: unacked_only's true and false then answer apart.
    await waiter.call("events_ack", { ids: [events[1]] });
    let tried = 0;
    for (const tool of await tools()) {
      for (const [name, schema] of Object.entries(tool.schema.properties ?? {})) {
        if (schema.type !== "boolean") continue;
        const args = base()[tool.name] ?? {};
        const answers: unknown[] = [];
        for (const [value, words] of [
          [true, ["yes", "1", "on", " Yes "]],
          [false, ["no", "0", "off", "NO"]],
        ] as const) {
          const typed = await waiter.call(tool.name, { ...args, [name]: value });
          answers.push(typed.structuredContent);
          for (const word of words) {
            const sent = await waiter.call(tool.name, { ...args, [name]: word });
            expectAlike(sent, typed, tool.readOnly, `${tool.name} ${name}=${JSON.stringify(word)}`);
          }
        }
        // Else a reader that took every word for true would pass.
        if (tool.readOnly) expect.soft(answers[0], `${tool.name} ${name}`).not.toEqual(answers[1]);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(2);
  });

  test("a list or a number sent as text it cannot be read from is refused, saying what to send", async () => {
    let tried = 0;
    for (const tool of await tools()) {
      const required = new Set(tool.schema.required ?? []);
      for (const [name, schema] of Object.entries(tool.schema.properties ?? {})) {
        const texts =
          schema.type === "array"
            ? ['["a",', ...(required.has(name) ? ["null"] : [])]
            : schema.type === "number" || schema.type === "integer"
              ? [" ", "twenty"]
              : [];
        for (const text of texts) {
          const sent = await waiter.call(tool.name, { ...(base()[tool.name] ?? {}), [name]: text });
          expect.soft(refused(sent), `${tool.name} ${name}=${JSON.stringify(text)}: ${said(sent)}`).toBe(true);
          expect.soft(said(sent), `${tool.name} ${name}=${JSON.stringify(text)}`).toMatch(/\bsend\b/);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(10);
  });

  test("a required argument left out is said to be required, of the type tools/list publishes for it", async () => {
    let tried = 0;
    for (const tool of await tools()) {
      for (const name of tool.schema.required ?? []) {
        const schema = tool.schema.properties?.[name] ?? {};
        const { [name]: _, ...others } = base()[tool.name] ?? {};
        const expected = schema.enum
          ? schema.enum.map((value) => JSON.stringify(value)).join("|")
          : schema.type === "integer"
            ? "number"
            : schema.type;
        const sent = await waiter.call(tool.name, others);
        expect
          .soft(said(sent), `${tool.name} without ${name}`)
          .toContain(`${name}: required, not given (expected ${expected})`);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(10);
  });

  test('left out as null, "", "null" or a list empty or of blank items is taken as left out', async () => {
    for (const tool of await tools()) {
      const required = new Set(tool.schema.required ?? []);
      const args = base()[tool.name] ?? {};
      for (const [name, schema] of Object.entries(tool.schema.properties ?? {})) {
        if (required.has(name) || name in args) continue;
        const without = await waiter.call(tool.name, args);
        // "null" is text a text argument may mean. A form's list whose items were all removed is [],
        // one with an item added and left blank [""].
        const absent =
          schema.type === "string" ? [null, ""] : [null, "", "null", ...(schema.type === "array" ? [[], [""]] : [])];
        for (const value of absent) {
          const sent = await waiter.call(tool.name, { ...args, [name]: value });
          expectAlike(sent, without, tool.readOnly, `${tool.name} ${name}=${JSON.stringify(value)}`);
        }
      }
    }
  });
});
