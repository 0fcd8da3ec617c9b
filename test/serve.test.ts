import { executionAsyncId } from "node:async_hooks";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, connect as openSocket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type OAuthClientProvider, selectResourceURL } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { OAuthProtectedResourceMetadata } from "@modelcontextprotocol/sdk/shared/auth.js";
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { CompactEncrypt, decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { Agent, request, fetch as undiciFetch } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { CannotStart, sessionOptions, startServe, startWebhooks } from "../src/app.js";
import type { App } from "../src/app-types.js";
import { type Config, type ConfigSources, loadConfig } from "../src/config.js";
import type { SessionLog } from "../src/events/store.js";
import { Log, THROTTLED_KEYS, throttled } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { mcpSessions } from "../src/transports/http.js";
import type { OAuthTimeouts } from "../src/transports/oauth.js";
import { ANSWER_LOST, nameWhereItStands, notificationsUnread, ReplayBuffer } from "../src/transports/streams.js";
import { VERSION } from "../src/version.js";
import type { ListenerTimeouts } from "../src/webhooks/limits.js";
import { startListener } from "../src/webhooks/listener.js";
import { webhooksOf } from "../src/webhooks/settings.js";
import { ERP_ENV, erpHeaders } from "./erp.js";
import { startFrankfurter } from "./fakes/frankfurter.js";
import { type Fake, freePort, json, onFreePort, startFake } from "./fakes/http.js";
import { startPacedRelay } from "./fakes/paced.js";
import { CONSUMER_KEY, CONSUMER_SECRET, startWooCommerce, WOO_IDS } from "./fakes/woocommerce.js";
import { startApp } from "./memory.js";
import { killStarted, SERVING, startNode } from "./spawn.js";
import { CLI } from "./stdio.js";

let frankfurter: Fake;
const clients: Client[] = [];

beforeAll(async () => {
  frankfurter = await startFrankfurter();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  killStarted();
  await frankfurter.close();
});

/**
 * How long a test waits on the built server to start or to stop: a second here, ten and more on a
 * loaded machine. Tests that start it have it as their time.
 */
const BUILT_SERVER_MS = 60_000;

/** `waiter serve` on a free loopback port; resolves once it says where. */
async function serve(env: Record<string, string> = {}, args: string[] = ["--listen", "127.0.0.1:0"]) {
  const started = await startNode(
    [CLI, "serve", ...args],
    {
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")),
      WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
      ...ERP_ENV,
      ...env,
    },
    SERVING,
  );
  return { ...started, base: started.said };
}

async function connect(base: string, token?: string): Promise<Client> {
  const client = new Client({ name: "waiter-tests", version: "0.0.0" });
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

/** The SDK's client at `base`, on connections of `agent`'s own: an agent on a machine of its own. */
async function connectThrough(base: string, agent: Agent): Promise<Client> {
  const client = new Client({ name: "waiter-tests", version: "0.0.0" });
  const fetch = (url: string | URL, init?: RequestInit) =>
    undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent }) as Promise<Response>;
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { fetch }));
  clients.push(client);
  return client;
}

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
});
const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** A raw initialize to `base`/mcp, with `headers` besides the ones every MCP request carries. */
const initializeAt = (base: string, headers: Record<string, string> = {}) =>
  request(`${base}/mcp`, { method: "POST", body: initialize, headers: { ...mcpHeaders, ...headers } });

/**
 * A session opened at `base` by raw requests in `version` of the protocol, initialized: the headers
 * its requests carry, and a POST of a message (or a batch) in it, taking `accept`.
 */
async function rawSession(base: string, version: string) {
  const opened = await request(`${base}/mcp`, {
    method: "POST",
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "raw", version: "0" } },
    }),
    headers: mcpHeaders,
  });
  const inSession = { "mcp-session-id": opened.headers["mcp-session-id"] as string, "mcp-protocol-version": version };
  await opened.body.dump();
  const post = (body: object, options: { accept?: string; signal?: AbortSignal } = {}) =>
    request(`${base}/mcp`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { ...mcpHeaders, ...inSession, ...(options.accept ? { accept: options.accept } : {}) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  await (await post({ jsonrpc: "2.0", method: "notifications/initialized" })).body.dump();
  return { inSession, post };
}

/**
 * The store fails its first write of a session (away at the opening) and holds the next until the
 * function returned is called: what a slow store does to the write that follows.
 */
function missedThenHeld(store: SessionLog): () => void {
  const write = store.open.bind(store);
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  vi.spyOn(store, "open")
    .mockRejectedValueOnce(new Error("connection refused"))
    .mockImplementationOnce(async (...args) => {
      await held;
      await write(...args);
    });
  return () => release();
}

/** Subscribes `session` at `base` to events://recent by a raw request: the answer's status. */
async function subscribeIn(base: string, session: string): Promise<number> {
  const sent = await request(`${base}/mcp`, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "resources/subscribe", params: { uri: "events://recent" } }),
    headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
  });
  await sent.body.dump();
  return sent.statusCode;
}

/** A session opened by raw requests and subscribed to events://recent, with its GET stream's headers. */
async function subscribedSession(base: string) {
  const opened = await initializeAt(base);
  const session = opened.headers["mcp-session-id"] as string;
  await opened.body.dump();
  const initialized = await request(`${base}/mcp`, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
  });
  await initialized.body.dump();
  await subscribeIn(base, session);
  return {
    session,
    stream: { accept: "text/event-stream", "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
  };
}

// One process for the first two.

/** Asks each of `places` (a method and a path) of the server at `url`, which answers 404 saying `told`. */
async function expectLoginRefused(url: string, told: string, places: (readonly ["GET" | "POST", string])[]) {
  for (const [method, path] of places) {
    const answer = await request(`${url}${path}`, { method, body: method === "POST" ? "{}" : undefined });
    expect(answer.statusCode, path).toBe(404);
    expect(((await answer.body.json()) as { error_description: string }).error_description, path).toBe(
      `not found: "${path}"; ${told}`,
    );
  }
}

describe("waiter serve", () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    server = await serve();
  });

  test("each client has its own session with every tool; a webhook posted to the same address reaches a subscriber", async () => {
    const { base } = server;
    const [one, two] = [await connect(base), await connect(base)];
    const names = (await one.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["currency_convert", "events_wait", "webhooks_sources"]));
    const converted = await two.callTool({
      name: "currency_convert",
      arguments: { amount: 100, from: "EUR", to: "CZK", date: "2026-03-02" },
    });
    expect(converted.isError).toBeFalsy();

    const updates: string[] = [];
    two.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await two.subscribeResource({ uri: "events://recent" });
    const body = JSON.stringify({ invoice: 7 });
    const posted = await request(`${base}/webhooks/erp`, {
      method: "POST",
      body,
      headers: erpHeaders(body, "serve-1"),
    });
    expect(posted.statusCode).toBe(200);
    const { id } = (await posted.body.json()) as { id: string };
    await expect.poll(() => updates, { timeout: 5_000 }).toContain("events://recent");
    const event = await one.callTool({ name: "events_get", arguments: { id } });
    expect(event.structuredContent).toMatchObject({ id, source: "erp" });
    // Where to post is said at start, as by waiter listen.
    expect(server.stderr()).toContain(`source erp (hmac-sha256): ${base}/webhooks/erp\n`);
  });

  test("the start names the toolsets served and how many tools, in the words of the stdio mode", async () => {
    const client = await connect(server.base);
    const { tools } = await client.listTools();
    const toolsets = [...new Set(tools.map((tool) => tool.name.split("_")[0]))].join(", ");
    expect(server.stderr()).toContain(
      `info    [waiter] waiter ${VERSION} serving ${tools.length} tools over Streamable HTTP: ${toolsets}\n`,
    );
  });

  test("a foreign Host or a web page's Origin is refused; a request outside a session is told how to start one", async () => {
    const { base } = server;
    const port = new URL(base).port;
    const rebound = await initializeAt(base, { host: `rebind.evil.example:${port}` });
    expect(rebound.statusCode).toBe(403);
    await rebound.body.dump();
    const fromPage = await initializeAt(base, { origin: "https://evil.example" });
    expect(fromPage.statusCode).toBe(403);
    await fromPage.body.dump();

    const noSession = await request(`${base}/mcp`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      headers: mcpHeaders,
    });
    expect(noSession.statusCode).toBe(400);
    expect(JSON.stringify(await noSession.body.json())).toMatch(/a session starts with an initialize request/);
    // An initialize that is no JSON-RPC request (its id an object) is told that, not to send an initialize.
    const badId = await request(`${base}/mcp`, {
      method: "POST",
      body: JSON.stringify({ ...JSON.parse(initialize), id: {} }),
      headers: mcpHeaders,
    });
    expect(badId.statusCode).toBe(400);
    expect(await badId.body.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: {
        code: -32600,
        message: expect.stringMatching(/^Invalid Request: not a JSON-RPC 2\.0 message MCP takes/),
      },
    });
    const unknown = await request(`${base}/mcp`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      headers: { ...mcpHeaders, "mcp-session-id": "no-such-session" },
    });
    expect(unknown.statusCode).toBe(404);
    await unknown.body.dump();
    const garbled = await request(`${base}/mcp`, { method: "POST", body: "{not json", headers: mcpHeaders });
    expect(garbled.statusCode).toBe(400);
    expect(await garbled.body.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 } });
    const huge = await request(`${base}/mcp`, {
      method: "POST",
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 3,
        method: "initialize",
        params: { pad: "x".repeat(5 * 1024 * 1024) },
      }),
      headers: mcpHeaders,
    });
    expect(huge.statusCode).toBe(413);
    expect(await huge.body.json()).toMatchObject({
      error: {
        message:
          "A request to /mcp may be at most 4194304 bytes (4 MiB), a bound no setting changes: send less in one request",
      },
    });
  });

  test("a client of the HTTP+SSE transport (MCP 2024-11-05), which opens with a GET naming no session, is told to connect with Streamable HTTP, and the log says so", async () => {
    const { base } = server;
    const client = new Client({ name: "waiter-tests", version: "0.0.0" });
    // The SDK's client of that transport shows its user the status alone, not the answer's words.
    await expect(client.connect(new SSEClientTransport(new URL(`${base}/mcp`)))).rejects.toThrow(/400/);
    const opened = await request(`${base}/mcp`, { headers: { accept: "text/event-stream" } });
    expect(opened.statusCode).toBe(400);
    const told =
      "Bad Request: a GET for an event stream naming no session (no Mcp-Session-Id header) opens the HTTP+SSE transport of MCP 2024-11-05, which waiter does not serve: connect with Streamable HTTP, whose session starts with an initialize POSTed to this address";
    expect(await opened.body.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32000, message: told } });
    await expect.poll(() => server.stderr()).toContain(`MCP request got 400: ${told}\n`);
    // A person who opens the address in a browser is told how a session starts, and so is the
    // SDK's Streamable HTTP client, which opens its stream again, naming its version, once it
    // ended its session.
    for (const headers of [
      { accept: "text/html,*/*;q=0.8" },
      { accept: "text/event-stream", "mcp-protocol-version": "2025-11-25" },
    ]) {
      const other = await request(`${base}/mcp`, { headers });
      expect(other.statusCode).toBe(400);
      expect(JSON.stringify(await other.body.json())).toMatch(/no Mcp-Session-Id header; a session starts/);
    }
  });

  test("in a session, JSON that is no JSON-RPC message is answered -32600 by its id, as over stdio, not as a body that is not JSON", async () => {
    const { inSession, post } = await rawSession(server.base, "2025-06-18");
    const refused = {
      code: -32600,
      message: expect.stringMatching(/^Invalid Request: not a JSON-RPC 2\.0 message MCP takes/),
    };
    // A progress token that is neither a string nor an integer: the client's request 2 fails at once, by its id.
    const badToken = await post({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "currency_list", arguments: {}, _meta: { progressToken: 1.5 } },
    });
    expect(badToken.statusCode).toBe(400);
    expect(await badToken.body.json()).toEqual({ jsonrpc: "2.0", id: 2, error: refused });
    const methodNumber = await post({ jsonrpc: "2.0", id: "three", method: 3 });
    expect(await methodNumber.body.json()).toEqual({ jsonrpc: "2.0", id: "three", error: refused });
    // JSON all the same: a string, where one object goes.
    const text = await request(`${server.base}/mcp`, {
      method: "POST",
      body: '"tools/list"',
      headers: { ...mcpHeaders, ...inSession },
    });
    expect(text.statusCode).toBe(400);
    expect(await text.body.json()).toEqual({ jsonrpc: "2.0", id: null, error: refused });
    // Told what is wrong, as over stdio: the id, method and params a shape would name are right.
    const oldVersion = await post({ jsonrpc: "1.0", id: 5, method: "ping" });
    expect(await oldVersion.body.json()).toEqual({
      jsonrpc: "2.0",
      id: 5,
      error: {
        code: -32600,
        message: 'Invalid Request: not a JSON-RPC 2.0 message MCP takes: its "jsonrpc" is "1.0", not "2.0"',
      },
    });
    // An object the checks above find nothing wrong in is not told it should be one object.
    const answerWithoutId = await post({ jsonrpc: "2.0", result: {} });
    expect(await answerWithoutId.body.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: {
        code: -32600,
        message:
          "Invalid Request: not a JSON-RPC 2.0 message MCP takes: it is an object, but of none of the shapes of one: a request (an id and a method), a notification (a method and no id) or an answer (a result object with its request's id, or an error)",
      },
    });
    const listed = await post({ jsonrpc: "2.0", id: 4, method: "ping" });
    expect(await listed.body.text()).toMatch(/"id":4/);
  });

  test("a JSON-RPC batch holding JSON that is no JSON-RPC message is answered -32600 for each of its requests, by its id; an empty one is told it is empty", async () => {
    const { post } = await rawSession(server.base, "2025-03-26");
    const message =
      "Invalid Request: message 2 of the batch is not a JSON-RPC 2.0 message MCP takes: its params._meta.progressToken 1.5 is neither a string nor an integer; none of the batch was done";
    const refused = await post([
      { jsonrpc: "2.0", id: 2, method: "ping" },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "currency_list", _meta: { progressToken: 1.5 } } },
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 9 } },
    ]);
    expect(refused.statusCode).toBe(400);
    expect(await refused.body.json()).toEqual(
      [2, 3].map((id) => ({ jsonrpc: "2.0", id, error: { code: -32600, message } })),
    );
    const empty = await post([]);
    expect(empty.statusCode).toBe(400);
    expect(await empty.body.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32600, message: "Invalid Request: an empty JSON-RPC batch (an array of no message)" },
    });
    // Notifications alone are owed no batch of answers (JSON-RPC 2.0 section 6): one error with no id.
    const notified = await post([{ jsonrpc: "2.0", method: "notifications/cancelled", params: [9] }]);
    expect(notified.statusCode).toBe(400);
    expect(await notified.body.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: {
        code: -32600,
        message:
          "Invalid Request: message 1 of the batch is not a JSON-RPC 2.0 message MCP takes: its params are an array, not an object; none of the batch was done",
      },
    });
  });

  test("an initialize sent again in its session is refused by its id, saying how a new session starts; the session goes on", async () => {
    const { post } = await rawSession(server.base, "2025-06-18");
    const again = await post({ ...JSON.parse(initialize), id: 7 });
    expect(again.statusCode).toBe(400);
    expect(await again.body.json()).toEqual({
      jsonrpc: "2.0",
      id: 7,
      error: {
        code: -32600,
        message:
          "Invalid Request: this session is initialized already; an initialize that names no session (no Mcp-Session-Id header) starts a new one",
      },
    });
    const pinged = await post({ jsonrpc: "2.0", id: 8, method: "ping" });
    expect(await pinged.body.text()).toMatch(/"id":8/);
  });

  test("a body nested deeper, or holding more values, than any MCP message is refused before it is parsed; a call in the same session goes on", async () => {
    const { base } = server;
    const opened = await initializeAt(base);
    const inSession = { ...mcpHeaders, "mcp-session-id": opened.headers["mcp-session-id"] as string };
    await opened.body.dump();
    const call = (id: number, args: unknown) =>
      request(`${base}/mcp`, {
        method: "POST",
        body: `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"currency_convert","arguments":${args}}}`,
        headers: inSession,
      });
    // The message, its params and its arguments, then 62 arrays: 65 levels.
    const deep = await call(2, `{"amount":${"[".repeat(62)}${"]".repeat(62)}}`);
    expect(deep.statusCode).toBe(400);
    expect(await deep.body.json()).toEqual({
      jsonrpc: "2.0",
      error: { code: -32600, message: "A request may nest arrays and objects at most 64 levels deep" },
      id: null,
    });
    // In UTF-16, where ∀'s bytes hold a quote's, the text is what is read, not the bytes.
    const wide = await request(`${base}/mcp`, {
      method: "POST",
      body: Buffer.from(`[{"jsonrpc":"2.0","method":"∀"},${"[".repeat(64)}${"]".repeat(64)}]`, "utf16le"),
      headers: { ...inSession, "content-type": "application/json; charset=utf-16le" },
    });
    expect(wide.statusCode).toBe(400);
    expect(await wide.body.text()).toMatch(/at most 64 levels deep/);
    // 64 levels: the body is read and its arguments checked as any call's.
    const within = await call(3, `{"amount":${"[".repeat(61)}${"]".repeat(61)}}`);
    expect(await within.body.text()).toMatch(/amount: Invalid input: expected number/);
    // Its 4 objects and list, 10 keys and strings and its id, and 9,986 more strings: 10,001 values.
    const many = await call(5, `{"amount":[${'"x",'.repeat(9_985)}"x"]}`);
    expect(many.statusCode).toBe(400);
    expect(await many.body.json()).toMatchObject({
      error: {
        code: -32600,
        message:
          "A request may hold at most 10000 values (keys, strings, numbers, true, false, null, arrays and objects)",
      },
    });
    // Numbers count as strings do.
    const numbers = await call(7, `{"amount":[${"-0,".repeat(9_985)}0]}`);
    expect(numbers.statusCode).toBe(400);
    const justSo = await call(6, `{"amount":[${'"x",'.repeat(9_984)}"x"]}`);
    expect(await justSo.body.text()).toMatch(/amount: Invalid input: expected number/);
    const fine = await call(4, JSON.stringify({ amount: 100, from: "EUR", to: "CZK", date: "2026-03-02" }));
    expect(fine.statusCode).toBe(200);
    expect(await fine.body.text()).toMatch(/"id":4/);
  });

  test("a body in a charset the parser may read otherwise than the bounds' check (utf-16 by its BOM or a guess, utf-32) is refused, not parsed unchecked", async () => {
    const { base } = server;
    const opened = await initializeAt(base);
    const inSession = { ...mcpHeaders, "mcp-session-id": opened.headers["mcp-session-id"] as string };
    await opened.body.dump();
    const deep = `[{"jsonrpc":"2.0","method":"x"},${"[".repeat(100)}${"]".repeat(100)}]`;
    // Big-endian, named utf-16: read as big-endian by its BOM, or by a guess without one.
    const bigEndian = Buffer.from(deep, "utf16le").swap16();
    const utf32 = Buffer.alloc(deep.length * 4);
    for (const [i, char] of [...deep].entries()) utf32.writeUInt32LE(char.charCodeAt(0), i * 4);
    for (const [charset, body] of [
      ["utf-16", Buffer.concat([Buffer.from([0xfe, 0xff]), bigEndian])],
      ["utf-16", bigEndian],
      ["utf-32le", utf32],
      // Not UTF at all: the body parser refuses it before the check, as the docs say, with the same words.
      ["iso-8859-1", Buffer.from(deep, "latin1")],
    ] as const) {
      const sent = await request(`${base}/mcp`, {
        method: "POST",
        body,
        headers: { ...inSession, "content-type": `application/json; charset=${charset}` },
      });
      expect(sent.statusCode, charset).toBe(415);
      expect(await sent.body.json()).toEqual({
        jsonrpc: "2.0",
        error: { code: -32600, message: "A request must be JSON in UTF-8 (or in UTF-16LE or UTF-16BE, named so)" },
        id: null,
      });
    }
  });

  test("an initialize whose params are wrong is told what is wrong, as over stdio, and opens no session", async () => {
    const clientInfo = { name: "raw", version: "0" };
    for (const [params, problem] of [
      [{ protocolVersion: "2025-06-18", capabilities: {} }, "params.clientInfo: required, not given (expected object)"],
      [
        { protocolVersion: 20250618, capabilities: {}, clientInfo },
        "params.protocolVersion: Invalid input: expected string, received number",
      ],
      [{ protocolVersion: "2025-06-18", clientInfo }, "params.capabilities: required, not given (expected object)"],
    ] as const) {
      const refused = await request(`${server.base}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "initialize", params }),
        headers: mcpHeaders,
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.headers["mcp-session-id"]).toBeUndefined();
      expect(await refused.body.json()).toEqual({
        jsonrpc: "2.0",
        id: 7,
        error: { code: -32602, message: `Invalid params for initialize: ${problem}` },
      });
    }
  });

  // SIGHUP: the terminal waiter serve was started from closed.
  test.each([
    ["SIGTERM", "2025-06-03"],
    ["SIGHUP", "2025-06-05"],
  ] as const)(
    "%s lets a call in flight finish, answers a wait in flight with its cursor, ends the sessions and exits 0",
    async (signal, date) => {
      const server = await serve({ WAITER_EVENTS_PROGRESS_SECONDS: "1" });
      const listening = await connect(server.base);
      const calling = await connect(server.base);
      await listening.subscribeResource({ uri: "events://recent" });
      // A wait in flight, as its first progress shows, holds no stop: it answers at once with the
      // cursor to wait on from at the next start (or on another replica).
      let inWait = false;
      const waiting = listening.callTool({ name: "events_wait", arguments: { timeout_s: 50 } }, undefined, {
        onprogress: () => {
          inWait = true;
        },
        timeout: 60_000,
      });
      await expect.poll(() => inWait).toBe(true);
      // The upstream answers only once the stop has begun.
      let answer = () => {};
      frankfurter.held = new Promise((resolve) => {
        answer = resolve;
      });
      const inFlight = calling.callTool({ name: "currency_rates", arguments: { date, symbols: ["USD"] } });
      try {
        await expect.poll(() => frankfurter.requests.some((r) => r.path.includes(date))).toBe(true);
        server.child.kill(signal);
        await expect
          .poll(server.stderr, { timeout: BUILT_SERVER_MS })
          .toMatch(new RegExp(`${signal}: ending the streams, finishing calls`));
      } finally {
        answer();
        frankfurter.held = undefined;
      }
      const answered = await inFlight;
      expect(answered.isError, JSON.stringify(answered.content)).toBeFalsy();
      const waited = await waiting;
      expect(waited.structuredContent).toEqual({
        timed_out: true,
        cursor: expect.stringMatching(/^c\d+$/),
        note: "waiter is stopping: wait once it is back, or on another of its servers.",
      });
      expect(await server.exited).toBe(0);
      expect(server.stderr()).not.toMatch(/ error /);
      // Its last words, once all is closed: a stop that ended, not one that hangs or was killed.
      expect(server.stderr()).toMatch(/ info +\[waiter\] stopped\n$/);
      // The release is said at start: after an upgrade the log shows what runs.
      expect(server.stderr()).toContain(`info    [waiter] waiter ${VERSION} serving MCP on http://`);
    },
    BUILT_SERVER_MS,
  );

  test("a fault nothing catches stops waiter with status 1 and one line at error, not Node's report over several lines, after the lines the log held", async () => {
    // Not an Error, as a package may throw; test/unit/log.test.ts has the line of an Error and of an object.
    const fault = `data:text/javascript,${encodeURIComponent('process.on("SIGUSR2", () => { throw "the index is gone"; });')}`;
    const server = await startNode(
      ["--import", fault, CLI, "serve", "--listen", "127.0.0.1:0"],
      { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")) },
      SERVING,
    );
    // Three requests to a path nothing serves: a line for the first, the others held for the minute.
    for (let i = 0; i < 3; i++) expect((await request(`${server.said}/nope`)).statusCode).toBe(404);
    server.child.kill("SIGUSR2");
    expect(await server.exited).toBe(1);
    expect(server.stderr()).not.toMatch(/^\s|Node\.js v/m);
    const [last, held] = server.stderr().split("\n").reverse().slice(1, 3);
    expect(held).toMatch(/refused GET "\/nope" .*\(2 more like it since the last line/);
    expect(last).toMatch(/^\S+Z error +\[waiter\] stopping at once on an uncaught exception: the index is gone$/);
  });

  test("refusals a minute's throttle left out are said as waiter stops, not lost with it", async () => {
    const server = await serve({
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
      OPS_TOKEN: "o".repeat(40),
    });
    for (let i = 0; i < 5; i++) {
      const refused = await initializeAt(server.base, { authorization: `Bearer ${"x".repeat(40)}` });
      expect(refused.statusCode).toBe(401);
      await refused.body.dump();
    }
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stderr().match(/^.* got 401: .*$/gm)).toEqual([
      expect.stringMatching(/MCP request from 127\.0\.0\.1 got 401: The token is not one this server knows$/),
      expect.stringMatching(
        /got 401: The token is not one this server knows \(4 more like it since the last line, the last \d+ s ago\)$/,
      ),
    ]);
    expect(server.stderr()).toMatch(/the last \d+ s ago\)\n.* info +\[waiter\] stopped\n$/);
  });

  test("a call that outlasts the stop's drain time is answered that the stop cut it, not left unanswered, and its upstream's answer is not waited for", async () => {
    const server = await serve({ WAITER_STOP_SECONDS: "1" });
    const calling = await connect(server.base);
    frankfurter.delayMs = 50_000;
    try {
      const inFlight = calling.callTool({
        name: "currency_rates",
        arguments: { date: "2025-06-04", symbols: ["USD"] },
      });
      await expect.poll(() => frankfurter.requests.some((r) => r.path.includes("2025-06-04"))).toBe(true);
      const stopped = performance.now();
      server.child.kill("SIGTERM");
      const answered = await inFlight;
      expect(answered.isError).toBe(true);
      expect((answered.content as { text: string }[])[0]?.text).toMatch(/^waiter stopped before this call finished: /);
      expect(await server.exited).toBe(0);
      expect(server.stderr()).toMatch(
        / info +\[waiter\] stopped; the drain time \(WAITER_STOP_SECONDS, 1 s\) ran out and cut what was still in flight\n$/,
      );
      // The log says so too, not only that the request was cancelled, as though by its client.
      expect(server.stderr()).toMatch(
        /info +\[currency\] currency_rates failed: waiter stopped before this call finished: .*cancelled/,
      );
      // Not after the 15 s the upstream had to start its answer, which the stop used to wait out.
      expect(performance.now() - stopped).toBeLessThan(8_000);
    } finally {
      frankfurter.delayMs = 0;
    }
  });

  test(
    "a restarted waiter serve takes up the sessions it had: its clients go on without a new initialize, their subscriptions with them",
    async () => {
      const env = { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")) };
      const first = await serve(env);
      const client = new Client({ name: "waiter-tests", version: "0.0.0" });
      // A client that keeps trying to open its notification stream again while the server restarts.
      const transport = new StreamableHTTPClientTransport(new URL(`${first.base}/mcp`), {
        reconnectionOptions: {
          initialReconnectionDelay: 100,
          maxReconnectionDelay: 500,
          reconnectionDelayGrowFactor: 1.5,
          maxRetries: 100,
        },
      });
      await client.connect(transport);
      clients.push(client);
      const session = transport.sessionId;
      const rates = { name: "currency_rates", arguments: { date: "2026-03-02", symbols: ["USD"] } };
      expect((await client.callTool(rates)).isError).toBeFalsy();
      const updates: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, ({ params }) => {
        updates.push(params.uri);
      });
      await client.subscribeResource({ uri: "events://recent" });
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);

      const again = await serve(env, ["--listen", new URL(first.base).host]);
      const answered = await client.callTool(rates);
      expect(answered.isError, JSON.stringify(answered.content)).toBeFalsy();
      expect(transport.sessionId).toBe(session);
      expect(again.stderr()).toMatch(new RegExp(`MCP session ${session} taken up`));
      // The copy was initialized in full: log messages reach the client's stream once it asks for them.
      const logged: string[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, ({ params }) => {
        logged.push(String(params.data));
      });
      await client.setLoggingLevel("debug");
      // Each call logs its time, on the call's own stream.
      expect((await client.callTool(rates)).isError).toBeFalsy();
      expect(logged).toContainEqual(expect.stringMatching(/^currency_rates answered in \d+ ms/));
      // Its subscription came along: a webhook stored once the client's notification stream is
      // open again is news on it (one stored before that is told to no stream).
      let delivery = 0;
      await expect
        .poll(
          async () => {
            const body = JSON.stringify({ invoice: 8 });
            const posted = await request(`${again.base}/webhooks/erp`, {
              method: "POST",
              body,
              headers: erpHeaders(body, `after-restart-${++delivery}`),
            });
            await posted.body.dump();
            return posted.statusCode === 200 && updates;
          },
          { timeout: 10_000, interval: 100 },
        )
        .toContain("events://recent");
      // Ended by its client, it is gone for good.
      await transport.terminateSession();
      const ended = await request(`${again.base}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
        headers: { ...mcpHeaders, "mcp-session-id": session as string },
      });
      expect(ended.statusCode).toBe(404);
      await ended.body.dump();
      // Two starts and a stop of the built server.
    },
    BUILT_SERVER_MS,
  );
});

/**
 * Has each SDK transport made from now on keep its private `field` where waiter's code does not find
 * it, as waiter finds a later SDK's that names it otherwise, while the SDK's own code finds it still.
 * Returns how to undo it.
 */
function namedOtherwise(field: string): () => void {
  const prototype = WebStandardStreamableHTTPServerTransport.prototype as unknown as Record<string, unknown>;
  Object.defineProperty(prototype, field, {
    configurable: true,
    set(this: object, value: unknown) {
      Object.defineProperty(this, field, {
        get: () => (new Error().stack?.split("\n")[2]?.includes("/src/transports/") ? undefined : value),
      });
    },
  });
  return () => {
    delete prototype[field];
  };
}

/** waiter's sessions in this process on a listener of their own, on the test's clock. */
async function inProcess(
  limits: { maxSessions: number; idleMs: number; oauthTimeouts?: OAuthTimeouts; timeouts?: Partial<ListenerTimeouts> },
  env: Record<string, string> = {},
) {
  const { app, config, log, stderr } = await startApp(env);
  const { timeouts, ...sessionLimits } = limits;
  const sessions = mcpSessions(app, log, { ...sessionOptions(config), ...sessionLimits });
  const listener = await startListener({
    webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
    mode: "serve",
    store: app.store,
    log,
    routes: sessions,
    named: config.named,
    timeouts,
    drainMs: config.core.stopSeconds * 1000,
  });
  return {
    app,
    sessions,
    stderr,
    server: listener.server,
    url: listener.url,
    async close() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await sessions.close();
      await listener.close();
      await app.close();
    },
  };
}

test("a connection the system would not hand over (accept: EMFILE) is warned of as the MCP listener's too", async () => {
  const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
  try {
    // What Node's server emits when libuv's accept fails past its spare file handle.
    served.server.emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE", syscall: "accept" }));
    expect(served.stderr()).toContain(
      "warning [waiter] MCP and webhook listener: a connection could not be accepted (accept EMFILE)",
    );
  } finally {
    await served.close();
  }
});

test("an MCP request with Expect: 100-continue is invited to send a body the webhooks' limit would refuse", async () => {
  const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
  const { hostname, port } = new URL(served.url);
  const socket = openSocket(Number(port), hostname);
  let received = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    received += chunk;
  });
  try {
    // Over webhooks.maxBodyBytes (1 MiB), within what /mcp takes (4 MB).
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n`,
    );
    await expect.poll(() => received).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
  } finally {
    socket.destroy();
    await served.close();
  }
});

test("Expect: 100-continue to /mcp is invited only once the token and the declared size pass", async () => {
  const served = await inProcess(
    { maxSessions: 10, idleMs: 60_000 },
    {
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
      OPS_TOKEN: "o".repeat(40),
    },
  );
  const { hostname, port } = new URL(served.url);
  /** The first answer's status line to a request that waits for 100 Continue before its body. */
  const firstAnswer = async (headers: string) => {
    const socket = openSocket(Number(port), hostname);
    let received = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", () => {});
    try {
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${headers}Expect: 100-continue\r\n\r\n`,
      );
      await expect.poll(() => received).toMatch(/\r\n/);
      return received.split("\r\n", 1)[0];
    } finally {
      socket.destroy();
    }
  };
  try {
    expect(await firstAnswer("Content-Length: 100\r\n")).toBe("HTTP/1.1 401 Unauthorized");
    expect(await firstAnswer(`Authorization: Bearer ${"x".repeat(40)}\r\nContent-Length: 100\r\n`)).toBe(
      "HTTP/1.1 401 Unauthorized",
    );
    expect(await firstAnswer(`Authorization: Bearer ${"o".repeat(40)}\r\nContent-Length: 5000000\r\n`)).toBe(
      "HTTP/1.1 413 Payload Too Large",
    );
    expect(await firstAnswer(`Authorization: Bearer ${"o".repeat(40)}\r\nContent-Length: 100\r\n`)).toBe(
      "HTTP/1.1 100 Continue",
    );
  } finally {
    await served.close();
  }
});

test("a page whose origin is allowed reads Node's own 431 and 408 to its request to /mcp; a page not allowed reads neither", async () => {
  const page = "https://app.example.com";
  const served = await inProcess(
    { maxSessions: 10, idleMs: 60_000, timeouts: { headersMs: 500, requestMs: 500, checkEveryMs: 50 } },
    { WAITER_WEBHOOKS_ALLOWED_ORIGINS: page },
  );
  const { hostname, port } = new URL(served.url);
  /** What a request written on a connection of its own is answered, once the connection closes. */
  const answerTo = async (head: string, path = "/mcp") => {
    const socket = openSocket(Number(port), hostname);
    let received = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      received += chunk;
    });
    // Cut as it still writes, or reset: the answer read before is the point.
    socket.on("error", () => {});
    const closed = new Promise((done) => socket.once("close", done));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${head}`);
    await closed;
    return received;
  };
  const corsOf = (answer: string) => /^access-control-allow-origin: *(.*?)\r$/im.exec(answer)?.[1];
  try {
    for (const origin of [page, "https://elsewhere.example"]) {
      // A token past Node's bound on a request's headers (16 KiB).
      const large = await answerTo(
        `Origin: ${origin}\r\nAuthorization: Bearer ${"x".repeat(20_000)}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
      );
      expect(large).toMatch(/^HTTP\/1\.1 431 /);
      expect(corsOf(large), origin).toBe(origin === page ? page : undefined);
    }
    // The URL its user typed, which /mcp serves as it serves /mcp.
    for (const path of ["/mcp/", "/MCP"]) {
      const large = await answerTo(
        `Origin: ${page}\r\nAuthorization: Bearer ${"x".repeat(20_000)}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
        path,
      );
      expect(large).toMatch(/^HTTP\/1\.1 431 /);
      expect(corsOf(large), path).toBe(page);
    }
    // A body that does not come whole within the request timeout. (A page not allowed is refused
    // 403 before its body is read.)
    const slow = await answerTo(
      `Origin: ${page}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{`,
    );
    expect(slow).toMatch(/^HTTP\/1\.1 408 /);
    expect(corsOf(slow)).toBe(page);
  } finally {
    await served.close();
  }
});

test("a request to /mcp past 4 MB is answered 413 as soon as that is known, not once the rest of its body has come, and the refusal logged", async () => {
  const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
  const { hostname, port } = new URL(served.url);
  const head = `POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n`;
  // The first MiB of a body whose rest never comes: the answer must not wait for it.
  const answerTo = async (framing: string, start: string) => {
    const socket = openSocket(Number(port), hostname);
    let received = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      received += chunk;
    });
    socket.write(`${head}${framing}\r\n\r\n${start}`);
    try {
      await expect.poll(() => received).toMatch(/^HTTP\/1\.1 413 /);
      expect(received).toContain(
        "A request to /mcp may be at most 4194304 bytes (4 MiB), a bound no setting changes: send less in one request",
      );
    } finally {
      socket.destroy();
    }
  };
  const mib = "x".repeat(1024 * 1024);
  try {
    // Declared: refused before any of its 100 MiB.
    await answerTo(`Content-Length: ${100 * 1024 * 1024}`, "");
    // Undeclared: refused once 4 MiB have passed.
    await answerTo("Transfer-Encoding: chunked", `${mib.length.toString(16)}\r\n${mib}\r\n`.repeat(5));
    // The operator hears of it, as of the listener's refusals: what was refused, and from where; a
    // line a minute for each caller.
    expect(served.stderr().match(/^.*MCP request got 413.*$/gm)).toEqual([
      expect.stringMatching(
        /info .*MCP request got 413: A request to \/mcp may be at most 4194304 bytes \(4 MiB\), a bound no setting changes: send less in one request \(Content-Length 104857600, from 127\.0\.0\.1\)$/,
      ),
    ]);
  } finally {
    await served.close();
  }
});

test("a path waiter serve does not serve is told where MCP and webhooks are, and logged a line a minute; the metadata clients look for is not", async () => {
  const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
  const served404 = async (path: string) => {
    const answer = await request(`${served.url}${path}`, { method: "POST", body: initialize, headers: mcpHeaders });
    expect(answer.statusCode, path).toBe(404);
    return ((await answer.body.json()) as { error: string }).error;
  };
  const refusals = () => served.stderr().match(/^.*webhook listener refused .*$/gm) ?? [];
  try {
    // A proxy that adds its prefix, a connector given the host alone, a long path cut.
    expect(await served404("/waiter/mcp?token=secret-in-query")).toBe(
      'not found: "/waiter/mcp"; MCP is served at /mcp and webhooks at POST /webhooks/<source>; a reverse proxy must pass paths unchanged',
    );
    expect(await served404("/")).toMatch(/^not found: "\/"; MCP is served at \/mcp /);
    expect(await served404(`/${"x".repeat(300)}`)).toMatch(/^not found: "\/x{39}…\(301 characters\)"; /);
    expect(await served404("/.well-known/oauth-authorization-server")).toMatch(/^not found: /);
    // A GET's, with no body to come, leaves the connection for the client's next look.
    const looked = await request(`${served.url}/.well-known/oauth-protected-resource/mcp`);
    expect(looked.statusCode).toBe(404);
    expect(looked.headers.connection).toBe("keep-alive");
    await looked.body.dump();
    expect(refusals()).toEqual([
      expect.stringMatching(
        / info .*webhook listener refused POST "\/waiter\/mcp" from 127.0.0.1: no such path; MCP is served at \/mcp and webhooks at POST \/webhooks\/<source>; a reverse proxy must pass paths unchanged$/,
      ),
    ]);
    expect(served.stderr()).not.toContain("secret-in-query");
  } finally {
    await served.close();
  }
});

describe("sessions", () => {
  test("an initialize sent as another type than JSON is told the type to send", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      for (const type of ["text/plain", undefined]) {
        const headers: Record<string, string> = {
          accept: mcpHeaders.accept,
          ...(type ? { "content-type": type } : {}),
        };
        const answer = await request(`${served.url}/mcp`, { method: "POST", body: initialize, headers });
        expect(answer.statusCode, type).toBe(415);
        expect(await answer.body.json(), type).toMatchObject({
          error: { message: "Unsupported Media Type: MCP messages are sent as Content-Type: application/json" },
        });
      }
      expect(served.sessions.count()).toBe(0);
    } finally {
      await served.close();
    }
  });

  test("a request of a session sent as another type than JSON is told the type to send, not to take an event stream", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      const { inSession } = await rawSession(served.url, "2025-06-18");
      // curl -d sends a form's type; a connector that takes JSON alone sends application/json.
      for (const type of ["application/x-www-form-urlencoded", undefined]) {
        const headers: Record<string, string> = {
          ...inSession,
          accept: "application/json",
          ...(type ? { "content-type": type } : {}),
        };
        const body = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" });
        const answer = await request(`${served.url}/mcp`, { method: "POST", body, headers });
        expect(answer.statusCode, type).toBe(415);
        expect(await answer.body.json(), type).toMatchObject({
          error: { message: "Unsupported Media Type: MCP messages are sent as Content-Type: application/json" },
        });
      }
    } finally {
      await served.close();
    }
  });

  test("an initialize sent in a JSON-RPC batch is told to send it alone, not to start with the initialize it sent", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      const init = {
        ...JSON.parse(initialize),
        params: { ...JSON.parse(initialize).params, protocolVersion: "2025-03-26" },
      };
      for (const batch of [[init], [init, { jsonrpc: "2.0", method: "notifications/initialized" }]]) {
        const answer = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify(batch),
          headers: mcpHeaders,
        });
        expect(answer.statusCode).toBe(400);
        expect(answer.headers["mcp-session-id"]).toBeUndefined();
        // Answered by its id, as any batch refused whole is, and as stdio answers it: its client waits for that id.
        expect(await answer.body.json()).toEqual([
          {
            jsonrpc: "2.0",
            id: init.id,
            error: {
              code: -32600,
              message:
                "Invalid Request: an initialize is sent alone, not in a JSON-RPC batch (an array); none of the batch was done",
            },
          },
        ]);
      }
      expect(served.sessions.count()).toBe(0);
    } finally {
      await served.close();
    }
  });

  test("a POST with no body is told it sent no message, not that its type or Accept is wrong", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    const { hostname, port } = new URL(served.url);
    // Raw, as `curl -X POST` sends it: neither Content-Length nor Transfer-Encoding, unless given.
    const post = async (headers: string) => {
      const socket = openSocket(Number(port), hostname);
      let received = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => {
        received += chunk;
      });
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n${headers}\r\n`,
      );
      try {
        await expect.poll(() => received).toMatch(/\r\n\r\n.*\}$/s);
        return received;
      } finally {
        socket.destroy();
      }
    };
    try {
      const opened = await initializeAt(served.url);
      const id = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const inSession = `Mcp-Session-Id: ${id}\r\nMcp-Protocol-Version: 2025-06-18\r\n`;
      for (const headers of [
        "Accept: application/json, text/event-stream\r\n",
        "Accept: application/json\r\n",
        `${inSession}Accept: application/json\r\n`,
        `${inSession}Accept: application/json, text/event-stream\r\n`,
        `${inSession}Accept: application/json\r\nContent-Length: 0\r\n`,
        // Sent chunked, as a client that streams its body does, with no bytes: its last chunk alone.
        "Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        `${inSession}Accept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n`,
      ]) {
        const answer = await post(headers);
        expect(answer, headers).toMatch(/^HTTP\/1\.1 400 /);
        expect(answer, headers).toContain(
          '"error":{"code":-32700,"message":"Parse error: the request has no body; each MCP message is sent as JSON in the body of a POST"}',
        );
      }
      expect(served.sessions.count()).toBe(1);
    } finally {
      await served.close();
    }
  });

  test("a method /mcp does not take gets 405 with the ones it does", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      for (const method of ["PUT", "PATCH"] as const) {
        const answer = await request(`${served.url}/mcp`, { method });
        expect(answer.statusCode, method).toBe(405);
        expect(answer.headers.allow, method).toBe("GET, POST, DELETE, OPTIONS");
        expect(await answer.body.json(), method).toMatchObject({
          error: { message: expect.stringMatching(/^Method not allowed/) },
        });
      }
      // HEAD is no GET of the stream: it is told so before any check of the session or the token.
      const guarded = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
      try {
        for (const [url, headers] of [
          [served.url, {}],
          [served.url, { "mcp-session-id": "no-such-session" }],
          [guarded.url, {}],
        ] as const) {
          const answer = await request(`${url}/mcp`, { method: "HEAD", headers });
          expect(answer.statusCode).toBe(405);
          expect(answer.headers.allow).toBe("GET, POST, DELETE, OPTIONS");
          await answer.body.dump();
        }
      } finally {
        await guarded.close();
      }
    } finally {
      await served.close();
    }
  });

  test("an OPTIONS from no page passes the Host check as every request does, and is told the methods /mcp takes", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      // A name a rebinding page or a misconfigured proxy brings: refused, as a GET or a POST is.
      const foreign = await request(`${served.url}/mcp`, { method: "OPTIONS", headers: { host: "evil.example" } });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.headers["access-control-allow-methods"]).toBeUndefined();
      expect(((await foreign.body.json()) as { error: { message: string } }).error.message).toMatch(
        /^refused: Host "evil\.example"/,
      );
      // Asked by its own name, it says what /mcp takes, as HTTP has OPTIONS do, with no CORS to a page that is not one.
      const own = await request(`${served.url}/mcp`, { method: "OPTIONS" });
      expect(own.statusCode).toBe(204);
      expect(own.headers.allow).toBe("GET, POST, DELETE, OPTIONS");
      expect(own.headers["access-control-allow-methods"]).toBeUndefined();
      await own.body.dump();
    } finally {
      await served.close();
    }
  });

  test("a DELETE the transport refuses ends nothing, here or in the store; one it takes ends both", async () => {
    // Sessions are kept in the event store, which webhook sources open.
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, ERP_ENV);
    try {
      const opened = await initializeAt(served.url);
      const id = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const end = (version: string) =>
        request(`${served.url}/mcp`, {
          method: "DELETE",
          headers: { "mcp-session-id": id, "mcp-protocol-version": version },
        });
      const refused = await end("bogus");
      expect(refused.statusCode).toBe(400);
      await refused.body.dump();
      expect(served.stderr()).not.toContain(`MCP session ${id} ended by its client`);
      expect(served.sessions.count()).toBe(1);
      expect(await served.app.store?.sessions.get(id)).toBeDefined();
      const ended = await end("2025-06-18");
      expect(ended.statusCode).toBe(200);
      await ended.body.dump();
      expect(served.sessions.count()).toBe(0);
      expect(await served.app.store?.sessions.get(id)).toBeUndefined();
      expect(served.stderr()).toContain(`MCP session ${id} ended by its client: closed`);
    } finally {
      await served.close();
    }
  });

  test("an initialize the transport refuses keeps nothing: the server made for it is closed at once", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    const made: { closed: boolean }[] = [];
    const session = served.app.session.bind(served.app);
    vi.spyOn(served.app, "session").mockImplementation((...args) => {
      const opened = session(...args);
      const record = { closed: false };
      made.push(record);
      const close = opened.close.bind(opened);
      opened.close = async () => {
        record.closed = true;
        await close();
      };
      return opened;
    });
    try {
      for (const accept of ["text/html", "text/event-stream;q=0, text/plain"]) {
        const refused = await initializeAt(served.url, { accept });
        expect(refused.statusCode).toBe(406);
        await refused.body.dump();
      }
      expect(made).toEqual([{ closed: true }, { closed: true }]);
      const accepted = await initializeAt(served.url);
      expect(accepted.statusCode).toBe(200);
      await accepted.body.dump();
      expect(made.at(-1)).toEqual({ closed: false });
      expect(served.sessions.count()).toBe(1);
    } finally {
      await served.close();
    }
  });

  test("a client whose Accept names JSON but not event streams (application/json alone, */*, none) is answered in JSON", async () => {
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1` },
    );
    try {
      // Connectors that send these were refused with 406 and could not connect at all.
      for (const accept of ["application/json", "*/*", "application/json;q=0.9, */*;q=0.1", undefined]) {
        const headers: Record<string, string> = {
          "content-type": "application/json",
          ...(accept ? { accept } : {}),
        };
        // In MCP 2025-03-26, the last that takes a JSON-RPC batch.
        const opened = await request(`${served.url}/mcp`, {
          method: "POST",
          body: initialize.replace("2025-06-18", "2025-03-26"),
          headers,
        });
        expect(opened.statusCode, accept).toBe(200);
        expect(opened.headers["content-type"], accept).toMatch(/^application\/json/);
        expect(await opened.body.json(), accept).toMatchObject({
          jsonrpc: "2.0",
          id: 1,
          result: { serverInfo: { name: "waiter" } },
        });
        const inSession = {
          ...headers,
          "mcp-session-id": opened.headers["mcp-session-id"] as string,
          "mcp-protocol-version": "2025-03-26",
        };
        const told = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
          headers: inSession,
        });
        expect(told.statusCode, accept).toBe(202);
        await told.body.dump();
        const call = {
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "currency_convert", arguments: { amount: 100, from: "EUR", to: "CZK" } },
        };
        const called = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify(call),
          headers: inSession,
        });
        expect(called.statusCode, accept).toBe(200);
        expect(called.headers["content-type"], accept).toMatch(/^application\/json/);
        const answer = (await called.body.json()) as { id: number; result: { isError?: boolean } };
        expect(answer.id, accept).toBe(2);
        expect(answer.result.isError, accept).toBeFalsy();
        // A batch gets its answers as a list.
        const batch = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify([
            { jsonrpc: "2.0", id: 3, method: "ping" },
            { jsonrpc: "2.0", id: 4, method: "tools/list" },
          ]),
          headers: inSession,
        });
        expect(batch.statusCode, accept).toBe(200);
        const answers = (await batch.body.json()) as { id: number }[];
        expect(answers.map((a) => a.id).sort(), accept).toEqual([3, 4]);
      }
      // One that takes neither is still refused, saying what to send: either type will do, not both.
      const takesNeither =
        "Not Acceptable: a POST is answered in JSON (application/json) or as an event stream (text/event-stream), and this Accept takes neither";
      const refused = await initializeAt(served.url, { accept: "text/html" });
      expect(refused.statusCode).toBe(406);
      expect(await refused.body.json()).toEqual({
        jsonrpc: "2.0",
        id: 1,
        error: { code: -32000, message: takesNeither },
      });
      const { inSession } = await rawSession(served.url, "2025-06-18");
      const inOne = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }),
        headers: { ...mcpHeaders, ...inSession, accept: "text/html, application/json;q=0" },
      });
      expect(inOne.statusCode).toBe(406);
      expect(await inOne.body.json()).toMatchObject({ error: { message: takesNeither } });
    } finally {
      await served.close();
    }
  });

  test("a GET whose Accept takes the event stream by */* or text/*, or that sends none, opens the session's stream", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      const { inSession } = await rawSession(served.url, "2025-06-18");
      for (const accept of ["*/*", "text/*", "application/json, */*;q=0.8", undefined]) {
        const opened = new AbortController();
        const stream = await request(`${served.url}/mcp`, {
          headers: { ...inSession, ...(accept ? { accept } : {}) },
          signal: opened.signal,
        });
        expect(stream.statusCode, accept).toBe(200);
        expect(stream.headers["content-type"], accept).toMatch(/^text\/event-stream/);
        opened.abort();
        await stream.body.dump().catch(() => {});
      }
      // One that takes no event stream is still refused.
      const refused = await request(`${served.url}/mcp`, { headers: { ...inSession, accept: "application/json" } });
      expect(refused.statusCode).toBe(406);
      await refused.body.dump();
    } finally {
      await served.close();
    }
  });

  test("a client whose Accept names the event stream but not JSON (text/event-stream alone, or with */*), or takes it by text/* and no JSON, is answered as a stream", async () => {
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1` },
    );
    try {
      for (const accept of [
        "text/event-stream",
        "text/event-stream, */*",
        "application/*, text/event-stream",
        "text/*",
      ]) {
        const headers = { "content-type": "application/json", accept };
        const opened = await request(`${served.url}/mcp`, { method: "POST", body: initialize, headers });
        expect(opened.statusCode, accept).toBe(200);
        expect(opened.headers["content-type"], accept).toMatch(/^text\/event-stream/);
        expect(await opened.body.text(), accept).toMatch(/^data: .*"serverInfo":\{"name":"waiter"/m);
        const inSession = {
          ...headers,
          "mcp-session-id": opened.headers["mcp-session-id"] as string,
          "mcp-protocol-version": "2025-06-18",
        };
        const told = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
          headers: inSession,
        });
        expect(told.statusCode, accept).toBe(202);
        await told.body.dump();
        const called = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 2,
            method: "tools/call",
            params: { name: "currency_convert", arguments: { amount: 100, from: "EUR", to: "CZK" } },
          }),
          headers: inSession,
        });
        expect(called.statusCode, accept).toBe(200);
        expect(called.headers["content-type"], accept).toMatch(/^text\/event-stream/);
        expect(await called.body.text(), accept).toMatch(/^data: \{"result":\{.*"jsonrpc":"2\.0","id":2\}$/m);
      }
      // The event stream taken at no weight is not taken.
      const refused = await initializeAt(served.url, { accept: "text/event-stream;q=0, text/html" });
      expect(refused.statusCode).toBe(406);
      await refused.body.dump();
    } finally {
      await served.close();
    }
  });

  test("an Accept or Content-Type that names its types in capitals names the same types, as HTTP has it: not 406 or 415", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      const accept = "Application/JSON, Text/Event-Stream";
      const opened = await initializeAt(served.url, { accept, "content-type": "Application/JSON" });
      expect(opened.statusCode).toBe(200);
      expect(opened.headers["content-type"]).toMatch(/^text\/event-stream/);
      await opened.body.dump();
      const inSession = {
        "mcp-session-id": opened.headers["mcp-session-id"] as string,
        "mcp-protocol-version": "2025-06-18",
      };
      const pinged = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }),
        headers: { ...inSession, accept, "content-type": "Application/JSON; Charset=UTF-8" },
      });
      expect(pinged.statusCode).toBe(200);
      expect(await pinged.body.text()).toContain('"id":2');
      const listening = await request(`${served.url}/mcp`, {
        method: "GET",
        headers: { ...inSession, accept: "Text/Event-Stream" },
      });
      expect(listening.statusCode).toBe(200);
      expect(listening.headers["content-type"]).toMatch(/^text\/event-stream/);
      listening.body.destroy();
    } finally {
      await served.close();
    }
  });

  test("once stopping, a session's stream is ended, telling its client when to come back, and refused, to be opened again on the next start", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      const opened = await initializeAt(served.url);
      const id = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const listening = await request(`${served.url}/mcp`, {
        headers: { accept: "text/event-stream", "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
      expect(listening.statusCode).toBe(200);
      // A client of MCP 2025-11-25 takes an event that only names where its stream stands.
      const newer = await initializeAt(served.url);
      const newerId = newer.headers["mcp-session-id"] as string;
      await newer.body.dump();
      const listeningNewer = await request(`${served.url}/mcp`, {
        headers: { accept: "text/event-stream", "mcp-session-id": newerId, "mcp-protocol-version": "2025-11-25" },
      });
      expect(listeningNewer.statusCode).toBe(200);
      await expect.poll(() => served.sessions.streams()).toBe(2);
      served.sessions.endStreams();
      // The connection ends, not the session's stream: its last event is a retry, in ms, as the
      // 503 below says Retry-After in seconds; no data, which a client of any version passes over.
      expect(await listening.body.text()).toMatch(/(^|\n)retry: 5000\n\n$/);
      // To the newer client it also names the id to come back with, though its stream carried nothing.
      expect(await listeningNewer.body.text()).toMatch(/(^|\n)id: \S+\nretry: 5000\ndata: \n\n$/);
      const stream = await request(`${served.url}/mcp`, {
        headers: { accept: "text/event-stream", "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
      expect(stream.statusCode).toBe(503);
      expect(stream.headers["retry-after"]).toBe("5");
      await stream.body.dump();
    } finally {
      await served.close();
    }
  });

  test("a session a stopped server left in the store is taken up by the next, unless no server saw it for longer than the idle time", async () => {
    setClock("2026-11-30T09:00:00Z");
    // The minute's sweep, on a clock the test moves.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    // Sessions are kept in the event store, which webhook sources open.
    const { app, config, log, stderr } = await startApp({
      ...ERP_ENV,
    });
    const options = { ...sessionOptions(config), maxSessions: 10, idleMs: 30 * 60_000 };
    const start = async () => {
      const sessions = mcpSessions(app, log, options);
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const listTools = (url: string, id: string) =>
      request(`${url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
    try {
      const first = await start();
      const ids: string[] = [];
      for (const _ of [1, 2]) {
        const opened = await initializeAt(first.url);
        ids.push(opened.headers["mcp-session-id"] as string);
        await opened.body.dump();
      }
      await first.stop();

      setClock(clock.now() + 20 * 60_000);
      const second = await start();
      const taken = await listTools(second.url, ids[0] as string);
      expect(taken.statusCode, stderr()).toBe(200);
      await taken.body.dump();
      expect(stderr()).toMatch(new RegExp(`MCP session ${ids[0]} taken up`));
      await second.stop();

      // The stop told the store when the second server last used it: 20 minutes ago, not 40.
      setClock(clock.now() + 20 * 60_000);
      const third = await start();
      const kept = await listTools(third.url, ids[0] as string);
      expect(kept.statusCode).toBe(200);
      await kept.body.dump();
      const over = await listTools(third.url, ids[1] as string);
      expect(over.statusCode).toBe(404);
      await over.body.dump();
      // Closed for being idle, it has ended, though its last use reached the store: the server
      // that closed it does not take it up again.
      await vi.advanceTimersByTimeAsync(60_000);
      setClock(clock.now() + 31 * 60_000);
      const other = await initializeAt(third.url);
      await other.body.dump();
      expect(stderr()).toMatch(new RegExp(`MCP session ${ids[0]} was idle for 30 min: closed`));
      const idle = await listTools(third.url, ids[0] as string);
      expect(idle.statusCode).toBe(404);
      await idle.body.dump();
      await third.stop();
    } finally {
      vi.useRealTimers();
      await app.close();
    }
  });

  test("a sweep the store holds past a minute gets no second beside it, and a stop waits for it before writing", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { app, config, log } = await startApp({
      ...ERP_ENV,
    });
    const store = app.store?.sessions as SessionLog;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const told: string[] = [];
    vi.spyOn(store, "seen").mockImplementation(async (at) => {
      told.push("seen");
      await held;
      return new Set(at.keys());
    });
    vi.spyOn(store, "expire").mockImplementation(async () => {
      told.push("expire");
    });
    const sessions = mcpSessions(app, log, sessionOptions(config));
    try {
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(told).toEqual(["seen"]);
      const stopping = sessions.close();
      release();
      await stopping;
      expect(told).toEqual(["seen", "expire", "seen"]);
    } finally {
      release();
      vi.useRealTimers();
      await app.close();
    }
  });

  test("a session the store missed at its opening, ended by its client while the sweep writes it, is not brought back by that write", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const served = await inProcess({ maxSessions: 10, idleMs: 30 * 60_000 }, ERP_ENV);
    const store = served.app.store?.sessions as SessionLog;
    // Away at the opening; at the sweep, slow: the write lands after the client's DELETE.
    const release = missedThenHeld(store);
    let swept = () => {};
    const sweepDone = new Promise<void>((resolve) => {
      swept = resolve;
    });
    const expire = store.expire.bind(store);
    vi.spyOn(store, "expire").mockImplementation(async (before) => {
      await expire(before);
      swept();
    });
    try {
      const opened = await initializeAt(served.url);
      const id = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      expect(await store.get(id)).toBeUndefined();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(store.open).toHaveBeenCalledTimes(2);
      const ended = await request(`${served.url}/mcp`, {
        method: "DELETE",
        headers: { "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
      expect(ended.statusCode).toBe(200);
      await ended.body.dump();
      release();
      await sweepDone;
      expect(await store.get(id)).toBeUndefined();
      const after = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
      expect(after.statusCode).toBe(404);
      await after.body.dump();
    } finally {
      release();
      vi.useRealTimers();
      await served.close();
    }
  });

  test("a session the store missed at its opening, still being written when the stop stops waiting for the store, stays there for the next server", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 30 * 60_000 }, ERP_ENV);
    const store = served.app.store?.sessions as SessionLog;
    // Away at the opening; at the stop, slower than the stop waits: the write lands after it.
    const release = missedThenHeld(store);
    const seen = vi.spyOn(store, "seen");
    vi.spyOn(store, "close");
    // The stop's wait for the store, ended when the test says.
    const waited = new AbortController();
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    vi.spyOn(AbortSignal, "timeout").mockImplementation((ms) => (ms === 2_000 ? waited.signal : timeout(ms)));
    try {
      const opened = await initializeAt(served.url);
      const id = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      expect(await store.get(id)).toBeUndefined();
      const stopping = served.sessions.close();
      await expect.poll(() => vi.mocked(store.open).mock.calls.length).toBe(2);
      waited.abort(new Error("timed out"));
      await stopping;
      release();
      await expect.poll(() => seen.mock.calls.length).toBe(1);
      expect(store.close).not.toHaveBeenCalled();
      expect(await store.get(id)).toMatchObject({ init: expect.any(String) });
    } finally {
      release();
      vi.restoreAllMocks();
      await served.close();
    }
  });

  test("the replay buffer keeps a stream's last 500 messages, and replays those after the id given, or all to a client coming from another copy", async () => {
    const buffer = new ReplayBuffer();
    const message = (n: number) => ({ jsonrpc: "2.0" as const, method: "notifications/message", params: { n } });
    const ids: string[] = [];
    for (let n = 1; n <= 501; n++) ids.push(await buffer.storeEvent("s", message(n)));
    await buffer.storeEvent("other", message(0));
    const replayed = async (after: string) => {
      const sent: string[] = [];
      await buffer.replayEventsAfter(after, {
        send: async (id) => {
          sent.push(id);
        },
      });
      return sent;
    };
    // The first and second were dropped for the 501st and the other stream's.
    expect(await replayed(ids[0] as string)).toEqual(ids.slice(2));
    expect(await replayed(ids[449] as string)).toEqual(ids.slice(450));
    expect(await buffer.getStreamIdForEventId(ids[9] as string)).toBe("s");
    // A copy of the session taken up after the one the client heard last sends all it kept: the
    // client's number was another copy's, and a higher one than any here.
    const taken = new ReplayBuffer();
    const kept = [await taken.storeEvent("s", message(1)), await taken.storeEvent("s", message(2))];
    const fromTaken: string[] = [];
    await taken.replayEventsAfter(ids[500] as string, {
      send: async (id) => {
        fromTaken.push(id);
      },
    });
    expect(fromTaken).toEqual(kept);
    expect(await taken.getStreamIdForEventId(ids[500] as string)).toBe("s");
  });

  test("the replay buffer's ids on a call's stream name its requests, so another copy answers a client back for them that their answer is lost", async () => {
    const carried = new Map<string, (string | number)[]>([
      ["call", [7, "seven"]],
      ["batch", Array.from({ length: 100 }, (_, n) => `request-${n}`)],
    ]);
    const ran = new ReplayBuffer((stream) => carried.get(stream) ?? []);
    const primed = await ran.storeEvent("call", {} as never);
    const ofBatch = await ran.storeEvent("batch", {} as never);
    const notified = await ran.storeEvent("_GET_stream", { jsonrpc: "2.0", method: "notifications/message" });
    const taken = new ReplayBuffer();
    // Each is answered once, with an id of the copy that answered: back from it, nothing more.
    taken.answerLost(primed);
    taken.answerLost(primed);
    const told = taken.missedAfter(primed);
    expect(told.map(({ json }) => JSON.parse(json))).toEqual(
      [7, "seven"].map((id) => ({ jsonrpc: "2.0", id, error: { code: -32000, message: ANSWER_LOST } })),
    );
    expect(taken.missedAfter(told.at(-1)?.id as string)).toEqual([]);
    // A stream of too many requests to name, or the notification stream, names none; the copy
    // that ran them has their answers, or will.
    for (const id of [ofBatch, notified]) taken.answerLost(id);
    ran.answerLost(primed);
    expect([taken.missedAfter(ofBatch), taken.missedAfter(notified), ran.missedAfter(primed)]).toEqual([[], [], []]);
  });

  test("a stream names where it stands before a message stored but not yet queued on it: a client that drops after is sent that message", async () => {
    const replay = new ReplayBuffer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      eventStore: replay,
    });
    const opened = await transport.handleRequest(
      new globalThis.Request("http://waiter.test/mcp", { headers: { accept: "text/event-stream" } }),
    );
    const reader = opened.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const updated = (n: number) => ({
      jsonrpc: "2.0" as const,
      method: "notifications/resources/updated",
      params: { uri: `events://${n}` },
    });
    try {
      await transport.send(updated(1));
      // The transport stores a message at once and queues it on the stream a step later: the
      // stream's client is told where it stands in between, as a GET that opens it may.
      const sent = transport.send(updated(2));
      nameWhereItStands({ transport, replay }, undefined);
      await sent;
      let heard = "";
      while ((heard.match(/\n\n/g) ?? []).length < 3)
        heard += Buffer.from((await reader.read()).value ?? []).toString();
      const events = [...heard.matchAll(/id: (\S+)\ndata: ([^\n]*)\n\n/g)].map(([, id, data]) => ({ id, data }));
      const standing = events.findIndex(({ data }) => data === "");
      expect(standing).toBeGreaterThan(0);
      // A client that drops just after it comes back with its id, and is sent what followed it.
      const followed = events.slice(standing + 1).map(({ id }) => id);
      expect(followed).not.toEqual([]);
      expect(replay.missedAfter(events[standing]?.id as string).map(({ id }) => id)).toEqual(followed);
    } finally {
      await reader.cancel();
      await transport.close();
    }
  });

  test("the replay buffer keeps messages as they were sent, a session's last MiB of them: a client back after larger results gets the last it can", async () => {
    const buffer = new ReplayBuffer();
    const result = (n: number) => ({
      jsonrpc: "2.0" as const,
      id: n,
      result: { content: [{ type: "text", text: `${n}`.padEnd(100_000, "x") }] },
    });
    const replayed = async (after: string) => {
      const sent: [string, unknown][] = [];
      await buffer.replayEventsAfter(after, {
        send: async (id, message) => {
          sent.push([id, message]);
        },
      });
      return sent;
    };
    // Kept as sent, not as the object, whose strings could hold far larger ones alive: a change
    // made to it after does not show.
    const message = result(0);
    const first = await buffer.storeEvent("s", message);
    message.result.content[0] = { type: "text", text: "changed after it was sent" };
    expect(await replayed("s:another-copy.9")).toEqual([[first, result(0)]]);

    const ids = [first];
    for (let n = 1; n <= 11; n++) ids.push(await buffer.storeEvent("s", result(n)));
    // Ten of some 100 KB fit in a MiB: the first two went for the last two.
    expect(await replayed(first)).toEqual(ids.slice(2).map((id, n) => [id, result(n + 2)]));
    // The newest is kept whatever its size.
    const huge = await buffer.storeEvent("s", { jsonrpc: "2.0", id: 12, result: { text: "y".repeat(2 ** 21) } });
    expect((await replayed(first)).map(([id]) => id)).toEqual([huge]);
  });

  test("past the cap an initialize gets 503 until a session ends, logged with the setting that raises the cap", async () => {
    const served = await inProcess({ maxSessions: 1, idleMs: 60_000 });
    try {
      const first = await connect(served.url);
      const refused = await initializeAt(served.url);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["retry-after"]).toBe("60");
      // By the id of the initialize it refused, which its client ties the answer to.
      expect(await refused.body.json()).toMatchObject({
        id: 1,
        error: { code: -32000, message: expect.stringMatching(/most sessions \(1\)/) },
      });
      // A connector shows the refusal to no one: the log says it, once a minute.
      expect((await initializeAt(served.url)).statusCode).toBe(503);
      expect(served.stderr().match(/MCP request got 503: .*/g)).toEqual([
        "MCP request got 503: The server holds its most sessions (1, WAITER_MAX_SESSIONS); try again later",
      ]);
      await (first.transport as StreamableHTTPClientTransport).terminateSession();
      await connect(served.url);
      expect(served.sessions.count()).toBe(1);
    } finally {
      await served.close();
    }
  });

  test("a connection past its address's cap is answered 503 saying so, which the client shows", async () => {
    // Only the cap can close a silent connection within the test's time, however slow the machine.
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000, timeouts: { headersMs: 600_000, requestMs: 600_000 } },
      { WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "2" },
    );
    const agent = new Agent();
    try {
      // The SDK's client holds its stream open on one connection, and one kept alive for its calls.
      await connect(served.url);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      // Another agent behind the same address, with connections of its own.
      await expect(connectThrough(served.url, agent)).rejects.toThrow(
        'Error POSTing to endpoint: {"jsonrpc":"2.0","error":{"code":-32000,"message":"too many connections from this address: it holds 2, the most one address may hold (an MCP client holds one for its stream and one for each call under way); retry once some close"},"id":null}',
      );
      const refused = await request(`${served.url}/mcp`, {
        method: "POST",
        body: initialize,
        headers: mcpHeaders,
        dispatcher: agent,
      });
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["retry-after"]).toBe("5");
      expect(refused.headers.connection).toBe("close");
      await refused.body.dump();
      // A connection that sends no request is not kept for one.
      const { hostname, port } = new URL(served.url);
      const silent = openSocket(Number(port), hostname);
      await expect.poll(() => silent.closed).toBe(true);
      expect(served.stderr().match(/warning .*connections.*/g)).toEqual([
        "warning [waiter] MCP and webhook listener: 127.0.0.1 holds 2 connections, the most WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT lets one address hold (an MCP client holds one for its stream and one for each call under way): answering its new ones 503, closing those past 10 at once",
      ]);
    } finally {
      await served.close();
      await agent.close();
    }
  });

  test("a webhook's sender refused for its Host or past its address's cap reads { error }, as from waiter listen: only /mcp's refusals are JSON-RPC", async () => {
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      {
        ...ERP_ENV,
        WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "2",
      },
    );
    const { hostname, port } = new URL(served.url);
    const held: ReturnType<typeof openSocket>[] = [];
    const body = JSON.stringify({ invoice: 7 });
    /** A delivery on a connection of its own, which the address's cap counts. */
    const deliver = async (headers: Record<string, string> = {}) => {
      const agent = new Agent();
      try {
        const answer = await request(`${served.url}/webhooks/erp`, {
          method: "POST",
          body,
          headers: { ...erpHeaders(body, "d-refused"), ...headers },
          dispatcher: agent,
        });
        return { statusCode: answer.statusCode, json: await answer.body.json() };
      } finally {
        await agent.close();
      }
    };
    try {
      const foreign = await deliver({ host: "evil.example" });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json).toEqual({ error: expect.stringMatching(/^refused: Host "evil\.example"/) });
      for (const _ of [1, 2]) {
        const socket = openSocket(Number(port), hostname);
        held.push(socket);
        await new Promise((connected) => socket.once("connect", connected));
      }
      const past = await deliver();
      expect(past.statusCode).toBe(503);
      expect(past.json).toEqual({
        error: expect.stringMatching(/^too many connections from this address: it holds 2/),
      });
    } finally {
      for (const socket of held) socket.destroy();
      await served.close();
    }
  });

  test("limits set in a config file are named in the log as the key and the file, and the file in no answer", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
    writeFileSync(file, JSON.stringify({ webhooks: { maxConnectionsPerClient: 2, maxBodyBytes: 1024 } }));
    const env = {
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")),
      ...ERP_ENV,
    };
    const config = loadConfig({ env, file, overrides: { listen: "127.0.0.1:0" } }, toolsets());
    let stderr = "";
    const log = new Log("info", (line) => {
      stderr += line;
    });
    const served = await startServe(config, log);
    const { hostname, port } = new URL(served.url);
    const held: ReturnType<typeof openSocket>[] = [];
    const agent = new Agent();
    try {
      const body = JSON.stringify({ pad: "x".repeat(2000) });
      const large = await request(`${served.url}/webhooks/erp`, {
        method: "POST",
        body,
        headers: erpHeaders(body, "d-large"),
        dispatcher: agent,
      });
      expect(large.statusCode).toBe(413);
      await large.body.dump();
      expect(stderr).toContain(`raise webhooks.maxBodyBytes in ${file}; it claims to be delivery "d-large"\n`);

      for (const _ of [1, 2]) {
        const socket = openSocket(Number(port), hostname);
        held.push(socket);
        await new Promise((connected) => socket.once("connect", connected));
      }
      const refused = await request(`${served.url}/mcp`, {
        method: "POST",
        body: initialize,
        headers: mcpHeaders,
        dispatcher: agent,
      });
      expect(refused.statusCode).toBe(503);
      // Anyone may open the connections: the answer names neither the file nor the setting, the log both.
      expect(await refused.body.json()).toEqual({
        jsonrpc: "2.0",
        error: {
          code: -32000,
          message:
            "too many connections from this address: it holds 2, the most one address may hold (an MCP client holds one for its stream and one for each call under way); retry once some close",
        },
        id: null,
      });
      expect(stderr).toContain(
        `127.0.0.1 holds 2 connections, the most webhooks.maxConnectionsPerClient in ${file} lets one address hold`,
      );
    } finally {
      for (const socket of held) socket.destroy();
      await agent.close();
      await served.close();
    }
  });

  test("a team of 100 agents behind one address, each holding its stream and a call under way, is served", async () => {
    const served = await inProcess(
      { maxSessions: 100, idleMs: 60_000 },
      {
        ...ERP_ENV,
      },
    );
    // Each agent runs on a machine of its own, with connections of its own, all behind one NAT.
    const agents = Array.from({ length: 100 }, () => new Agent());
    const cancels = agents.map(() => new AbortController());
    const cancelAll = () => {
      for (const cancel of cancels) cancel.abort();
    };
    try {
      const team = await Promise.all(agents.map((agent) => connectThrough(served.url, agent)));
      await expect.poll(() => served.sessions.streams(), { timeout: 10_000 }).toBe(100);
      const waits = team.map((client, i) =>
        client.callTool({ name: "events_wait", arguments: { timeout_s: 50 } }, undefined, {
          signal: cancels[i]?.signal,
        }),
      );
      await expect.poll(() => served.sessions.answering(), { timeout: 10_000 }).toBe(100);
      cancelAll();
      await Promise.allSettled(waits);
      expect(served.stderr()).not.toMatch(/maxConnectionsPerClient/);
    } finally {
      cancelAll();
      await served.close();
      await Promise.all(agents.map((agent) => agent.close()));
    }
    // A hundred MCP handshakes, each with its stream: 15 s beside other runs, nearer 20 s in a full
    // one, and over a minute on a machine a few times slower.
  }, 180_000);

  test("a cap set in a config file is named in the log as the key and the file, not as a variable never set", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
    writeFileSync(file, JSON.stringify({ maxSessions: 1 }));
    const served = await inProcess({ maxSessions: 1, idleMs: 60_000 }, { WAITER_CONFIG: file });
    try {
      await connect(served.url);
      const refused = await initializeAt(served.url);
      expect(refused.statusCode).toBe(503);
      await refused.body.dump();
      expect(served.stderr().match(/MCP request got 503: .*/g)).toEqual([
        `MCP request got 503: The server holds its most sessions (1, maxSessions in ${file}); try again later`,
      ]);
    } finally {
      await served.close();
    }
  });

  test("past the cap, the idlest session with nothing under way is left to the store, and its next request takes it up", async () => {
    const served = await inProcess({ maxSessions: 1, idleMs: 60_000 }, ERP_ENV);
    const listTools = (id: string) =>
      request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
    try {
      // Two clients that hold no stream, as a client whose later requests go to another replica.
      const ids: string[] = [];
      for (const _ of [1, 2]) {
        const opened = await initializeAt(served.url);
        expect(opened.statusCode).toBe(200);
        ids.push(opened.headers["mcp-session-id"] as string);
        await opened.body.dump();
      }
      expect(served.sessions.count()).toBe(1);
      expect(served.stderr()).toContain(`MCP session ${ids[0]} left to the store to make room`);
      const again = await listTools(ids[0] as string);
      expect(again.statusCode).toBe(200);
      expect(await again.body.text()).toContain("events_list");
      expect(served.stderr()).toContain(`MCP session ${ids[0]} taken up from the store`);
      expect(served.sessions.count()).toBe(1);
      // A subscription the store could not keep (it was away) would be lost with the copy: it stays.
      const store = served.app.store?.sessions as SessionLog;
      store.keepSubscriptions = () => Promise.reject(new Error("the store is away"));
      expect(await subscribeIn(served.url, ids[0] as string)).toBe(200);
      const refused = await initializeAt(served.url);
      expect(refused.statusCode).toBe(503);
      expect(await refused.body.text()).toContain(
        "most sessions (1), none of which it can leave to the store now; try again later",
      );
    } finally {
      await served.close();
    }
  });

  test("a request of a session left to the store, in a protocol version waiter does not speak, gets 400 and takes nothing up", async () => {
    const served = await inProcess({ maxSessions: 1, idleMs: 60_000 }, ERP_ENV);
    try {
      const ids: string[] = [];
      for (const _ of [1, 2]) {
        const opened = await initializeAt(served.url);
        ids.push(opened.headers["mcp-session-id"] as string);
        await opened.body.dump();
      }
      expect(served.stderr()).toContain(`MCP session ${ids[0]} left to the store to make room`);
      // The second holds the one place with a subscription the store could not keep: no room.
      const store = served.app.store?.sessions as SessionLog;
      store.keepSubscriptions = () => Promise.reject(new Error("the store is away"));
      expect(await subscribeIn(served.url, ids[1] as string)).toBe(200);
      for (const method of ["POST", "GET", "DELETE"] as const) {
        const answer = await request(`${served.url}/mcp`, {
          method,
          ...(method === "POST" ? { body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/list" }) } : {}),
          headers: { ...mcpHeaders, "mcp-session-id": ids[0] as string, "mcp-protocol-version": "1900-01-01" },
        });
        expect(answer.statusCode, method).toBe(400);
        expect(await answer.body.json(), method).toMatchObject({
          id: method === "POST" ? 4 : null,
          error: {
            message: expect.stringMatching(/^Bad Request: Unsupported protocol version: 1900-01-01 \(supported/),
          },
        });
      }
      expect(served.stderr()).not.toContain(`MCP session ${ids[0]} taken up`);
      expect(served.sessions.count()).toBe(1);
    } finally {
      await served.close();
    }
  });

  test("a request of a session no server holds, in a protocol version waiter does not speak, gets 404: its client starts a new session, whose version it negotiates", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, ERP_ENV);
    try {
      const opened = await initializeAt(served.url);
      const ended = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const end = await request(`${served.url}/mcp`, {
        method: "DELETE",
        headers: { "mcp-session-id": ended, "mcp-protocol-version": "2025-06-18" },
      });
      expect(end.statusCode).toBe(200);
      await end.body.dump();
      for (const id of [ended, randomUUID()]) {
        for (const method of ["POST", "GET", "DELETE"] as const) {
          const answer = await request(`${served.url}/mcp`, {
            method,
            ...(method === "POST" ? { body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/list" }) } : {}),
            headers: { ...mcpHeaders, "mcp-session-id": id, "mcp-protocol-version": "1900-01-01" },
          });
          expect(answer.statusCode, method).toBe(404);
          expect(await answer.body.json(), method).toMatchObject({
            id: method === "POST" ? 4 : null,
            error: { code: -32001, message: expect.stringMatching(/^Session not found/) },
          });
        }
      }
    } finally {
      await served.close();
    }
  });

  test("a POST of one request refused for its session, missing or unknown, or its protocol version is answered by its id; a batch or a notification by id null", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      const { inSession } = await rawSession(served.url, "2025-03-26");
      const post = (body: unknown, headers: Record<string, string>) =>
        request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { ...mcpHeaders, ...headers },
        });
      const call = { jsonrpc: "2.0", id: "list-7", method: "tools/list" };
      const notification = { jsonrpc: "2.0", method: "notifications/roots/list_changed" };
      for (const [headers, status] of [
        [{ ...inSession, "mcp-protocol-version": "1900-01-01" }, 400],
        [{ ...inSession, "mcp-session-id": randomUUID() }, 404],
        [{ "mcp-protocol-version": "2025-03-26" }, 400],
      ] as const) {
        for (const [body, id] of [
          [call, "list-7"],
          [[call], null],
          [notification, null],
        ] as const) {
          const refused = await post(body, headers);
          expect(refused.statusCode, JSON.stringify(body)).toBe(status);
          expect(await refused.body.json(), JSON.stringify(body)).toMatchObject({ jsonrpc: "2.0", id });
        }
      }
    } finally {
      await served.close();
    }
  });

  test("an initialize that names a session no one holds opens a new one, as one naming none: a client that kept the ended session's id gets in", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      // An empty header names no session, as the SDK's transport takes it: the initialize opens one.
      const opened = await initializeAt(served.url, { "mcp-session-id": "" });
      expect(opened.statusCode).toBe(200);
      expect(opened.headers["mcp-session-id"]).toMatch(/^[0-9a-f-]{36}$/);
      await opened.body.dump();
      // A client that starts again after its session ended (idle, or the server restarted) and
      // still sends the id it had: told 404, it would send the same initialize again and again.
      const ended = randomUUID();
      const again = await initializeAt(served.url, { "mcp-session-id": ended });
      expect(again.statusCode).toBe(200);
      const id = again.headers["mcp-session-id"] as string;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(id).not.toBe(ended);
      await again.body.dump();
      const listed = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" },
      });
      expect(listed.statusCode).toBe(200);
      expect(await listed.body.text()).toContain('"currency_convert"');
      // Any other request of the ended session is told it ended.
      const pinged = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }),
        headers: { ...mcpHeaders, "mcp-session-id": ended },
      });
      expect(pinged.statusCode).toBe(404);
      await pinged.body.dump();
      expect(served.sessions.count()).toBe(2);
    } finally {
      await served.close();
    }
  });

  test("an address that is not loopback is refused, naming where it was set, with what to do instead", async () => {
    const refused =
      /^waiter serve answers on 0.0.0.0 \((.+)\), which is not a loopback address, and would serve every tool to whoever reaches it: configure http.tokens or http.oauth .*, or bind 127.0.0.1/;
    const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
    writeFileSync(file, JSON.stringify({ webhooks: { listen: "0.0.0.0:8790" } }));
    const env = { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-test-")) };
    const cases: [ConfigSources, string][] = [
      [{ env, overrides: { listen: "0.0.0.0:8790" } }, "--listen"],
      [{ env: { ...env, WAITER_LISTEN: "0.0.0.0:8790" } }, "WAITER_LISTEN"],
      [{ env: { ...env, WAITER_WEBHOOKS_LISTEN: "0.0.0.0:8790" } }, "WAITER_WEBHOOKS_LISTEN"],
      [{ env, file }, `webhooks.listen in ${file}`],
    ];
    for (const [sources, named] of cases) {
      const config = loadConfig(sources, toolsets());
      const error = await startServe(config, new Log("error", () => {})).catch((err: Error) => err);
      expect((error as Error).message).toMatch(refused);
      expect(refused.exec((error as Error).message)?.[1]).toBe(named);
    }
    // The port given is kept in the address suggested.
    const config = loadConfig({ env, overrides: { listen: "0.0.0.0:9000" } }, toolsets());
    const error = await startServe(config, new Log("error", () => {})).catch((err: Error) => err);
    expect((error as Error).message).toMatch(/, or bind 127\.0\.0\.1 \(--listen 127\.0\.0\.1:9000\) for clients on /);
  });

  test("on loopback behind a proxy or tunnel, which a public URL or allowed host names, it is refused too; behind a loopback one it starts", async () => {
    const onLoopback = (config: Config) => ({
      ...config,
      core: { ...config.core, listen: { host: "127.0.0.1", port: 0 } },
    });
    const through =
      "through a proxy or tunnel that other machines reach, and would serve every tool to whoever reaches it";
    for (const [env, reached] of [
      [
        { WAITER_WEBHOOKS_PUBLIC_URL: "https://waiter.example.com" },
        "at https://waiter.example.com (WAITER_WEBHOOKS_PUBLIC_URL)",
      ],
      [
        { WAITER_WEBHOOKS_ALLOWED_HOSTS: "localhost,hooks.internal" },
        "to hooks.internal (WAITER_WEBHOOKS_ALLOWED_HOSTS)",
      ],
    ] as const) {
      const { config, log } = await startApp(env);
      await expect(startServe(onLoopback(config), log)).rejects.toThrow(
        `waiter serve answers ${reached}, ${through}: configure http.tokens or http.oauth (WAITER_HTTP_TOKENS, WAITER_HTTP_OAUTH; docs/serve.md says how); for the webhooks alone, run waiter listen`,
      );
    }
    // A public URL on this machine brings no one else. The start says where connectors reach MCP.
    const local = await startApp({ WAITER_WEBHOOKS_PUBLIC_URL: "http://localhost:6274/" });
    await (await startServe(onLoopback(local.config), local.log)).close();
    expect(local.stderr()).toMatch(
      / serving MCP on http:\/\/127\.0\.0\.1:\d+\/mcp \(reached at http:\/\/localhost:6274\/mcp\)\n/,
    );
    // And who may call it: no one is asked who they are.
    expect(local.stderr()).toMatch(
      / serving MCP on .*\n\S+ info +\[waiter\] MCP callers: anyone on this machine, without a token \(neither http\.tokens \(WAITER_HTTP_TOKENS\) nor http\.oauth \(WAITER_HTTP_OAUTH\) is set\)\n/,
    );
    // A list of tokens that is given, but empty, is said so, not said to be unset.
    const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
    writeFileSync(file, JSON.stringify({ http: { tokens: [] } }));
    const empty = await startApp({}, { file });
    await (await startServe(onLoopback(empty.config), empty.log)).close();
    expect(empty.stderr()).toContain(
      `MCP callers: anyone on this machine, without a token (http.tokens in ${file} is empty, and http.oauth (WAITER_HTTP_OAUTH) is not set)\n`,
    );
  });

  test("a public URL of plain http at a host other machines reach is warned of: the tokens would cross the network unencrypted", async () => {
    const onLoopback = (config: Config) => ({
      ...config,
      core: { ...config.core, listen: { host: "127.0.0.1", port: 0 } },
    });
    const tokens = {
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
      OPS_TOKEN: "o".repeat(40),
    };
    const plain = await startApp({ ...tokens, WAITER_WEBHOOKS_PUBLIC_URL: "http://waiter.example.com" });
    await (await startServe(onLoopback(plain.config), plain.log)).close();
    expect(plain.stderr()).toMatch(
      / warning +\[waiter\] WAITER_WEBHOOKS_PUBLIC_URL is http:\/\/waiter\.example\.com, plain http at a host other machines reach: the callers' tokens and the webhooks cross the network unencrypted, for anyone on the way to read; serve waiter behind HTTPS \(docs\/serve\.md#behind-a-reverse-proxy\) and set it to https:\/\/waiter\.example\.com\n/,
    );
    expect(plain.stderr()).not.toContain("o".repeat(40));
    // The port given answers plain http (a container's mapped to the listener's, a proxy's): no TLS answers on it.
    const mapped = await startApp({ ...tokens, WAITER_WEBHOOKS_PUBLIC_URL: "http://waiter.example.com:8080/waiter" });
    await (await startServe(onLoopback(mapped.config), mapped.log)).close();
    expect(mapped.stderr()).toContain("and set it to https://waiter.example.com/waiter\n");
    for (const publicUrl of ["https://waiter.example.com", "http://localhost:6274"]) {
      const fine = await startApp({ ...tokens, WAITER_WEBHOOKS_PUBLIC_URL: publicUrl });
      await (await startServe(onLoopback(fine.config), fine.log)).close();
      expect(fine.stderr(), publicUrl).not.toContain("plain http");
    }
  });

  test("a session that sends nothing and holds no stream is closed when idle; one listening on its stream is kept", async () => {
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess({ maxSessions: 10, idleMs: 30 * 60_000 });
    try {
      // A client that initialized and went away: no GET stream.
      const opened = await initializeAt(served.url);
      const gone = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      // A client that listens for notifications on its GET stream.
      const listening = await connect(served.url);
      await expect.poll(() => [served.sessions.count(), served.sessions.streams()]).toEqual([2, 1]);
      setClock(clock.now() + 31 * 60_000);
      await connect(served.url);
      expect(served.sessions.count()).toBe(2);
      const late = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, "mcp-session-id": gone },
      });
      expect(late.statusCode).toBe(404);
      await late.body.dump();
      expect((await listening.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await served.close();
      setClock();
    }
  });

  test("a store that cannot keep the sessions is said a line a minute for each thing it failed, not a line for each session at each sweep", async () => {
    // The clock held still, moved only by the sweeps: on a busy machine the ten sessions' start
    // can take the half second that makes the outage's 240 s 241.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess({ maxSessions: 100, idleMs: 30 * 60_000 }, ERP_ENV);
    const store = served.app.store?.sessions as SessionLog;
    const full = new Error("The event store cannot be written (SQLITE_FULL: database or disk is full)");
    vi.spyOn(store, "open").mockRejectedValue(full);
    vi.spyOn(store, "seen").mockRejectedValue(full);
    const failed = (what: RegExp) =>
      served
        .stderr()
        .split("\n")
        .filter((line) => what.test(line)).length;
    try {
      for (let i = 0; i < 10; i++) await (await initializeAt(served.url)).body.dump();
      expect(served.sessions.count()).toBe(10);
      for (const _ of [1, 2, 3]) await vi.advanceTimersByTimeAsync(60_000);
      // Each kind at its first failure and at a sweep a minute on: not each session's.
      expect(failed(/MCP sessions: recording session \S+ in the store failed/)).toBe(4);
      expect(failed(/MCP sessions: marking sessions seen in the store failed/)).toBe(3);
      expect(served.stderr()).toMatch(
        /recording session .* failed: .*SQLITE_FULL.* \(and 9 more like it since the last line\)/,
      );
      expect(served.stderr()).not.toMatch(/answers again/);
      // Space freed: the next sweep writes, and says the store's outage is over, once.
      vi.restoreAllMocks();
      await vi.advanceTimersByTimeAsync(60_000);
      await expect
        .poll(() => served.stderr())
        .toMatch(
          /warning +\[waiter\] MCP sessions: the event store answers again after 240 s; 43 of its writes failed meanwhile\n/,
        );
      await vi.advanceTimersByTimeAsync(60_000);
      expect(served.stderr().match(/answers again/g)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
      await served.close();
      setClock();
    }
  });
});

/**
 * Reads a GET stream's server-sent events until `done` says it has what it needs, then drops the
 * stream. It has a connection of its own, which goes with it: undici may open another in place of
 * a request dropped midway, which would sit silent until a stop closes it.
 */
async function readStream(
  url: string,
  headers: Record<string, string>,
  done: (events: { id: string; data: string }[]) => boolean,
) {
  const controller = new AbortController();
  const own = new Agent();
  const response = await request(url, { headers, signal: controller.signal, dispatcher: own });
  expect(response.statusCode).toBe(200);
  const events: { id: string; data: string }[] = [];
  let buffered = "";
  try {
    for await (const chunk of response.body) {
      buffered += chunk.toString();
      for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data) events.push({ id, data });
      }
      if (done(events)) break;
    }
  } finally {
    controller.abort();
    await own.destroy();
  }
  return events;
}

const OPS = "ops-token-0123456789abcdef0123456789abcdef";
const VIEW = "view-token-0123456789abcdef0123456789abcdef";
const TOKENS = {
  WAITER_HTTP_TOKENS: JSON.stringify([
    { name: "ops", secretEnv: "OPS_TOKEN", scope: "write" },
    { name: "viewer", secretEnv: "VIEW_TOKEN", scope: "read" },
    { name: "rates", secretEnv: "VIEW_TOKEN_RATES", scope: "read", toolsets: ["currency"] },
  ]),
  OPS_TOKEN: OPS,
  VIEW_TOKEN: VIEW,
  VIEW_TOKEN_RATES: `rates-${VIEW}`,
  ...ERP_ENV,
};

describe("resumption", () => {
  type Post = Awaited<ReturnType<typeof rawSession>>["post"];
  /** An events_wait on payments of `timeout_s` seconds, request `id`, sent through `post`. */
  const paymentWait = (post: Post, id: number, timeout_s: number, options: Parameters<Post>[1] = {}) =>
    post(
      {
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "events_wait", arguments: { type: "payment.*", timeout_s } },
      },
      options,
    );
  /** A server in process whose webhooks come from the erp source. */
  const servedWithErp = () => inProcess({ maxSessions: 10, idleMs: 60_000 }, ERP_ENV);
  /**
   * A raw socket for a session's notification stream, held as by a client whose reading the test
   * controls: `heard()` is all it has been sent. `open()` starts a session (subscribed to recent
   * events when asked), asks for its stream on the socket, and returns once the stream is open,
   * having named where it stands.
   */
  const heldStream = (served: Awaited<ReturnType<typeof servedWithErp>>) => {
    const { hostname, port } = new URL(served.url);
    const socket = openSocket(Number(port), hostname);
    let heard = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      heard += chunk;
    });
    const open = async ({ subscribed = false } = {}) => {
      const opened = vi.spyOn(served.app, "session");
      const { inSession, post } = await rawSession(served.url, "2025-11-25");
      if (subscribed) {
        const subscribing = await post({
          jsonrpc: "2.0",
          id: 2,
          method: "resources/subscribe",
          params: { uri: "events://recent" },
        });
        await subscribing.body.dump();
      }
      socket.write(
        `GET /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${inSession["mcp-session-id"]}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n`,
      );
      await expect.poll(() => heard).toMatch(/id: \S+\ndata: \n\n/);
      const session = opened.mock.results[0]?.value as ReturnType<App["session"]>;
      const { transport } = session.server.server as unknown as { transport: WebStandardStreamableHTTPServerTransport };
      return { inSession, session, transport };
    };
    return { socket, heard: () => heard, open };
  };
  /** Payment waits through `post`, each request `id` of `timeout_s` seconds, cut off by `signal` when given. */
  const paymentWaits =
    (post: Post, options: Parameters<Post>[1] = {}) =>
    (id: number, timeout_s: number, signal?: AbortSignal) =>
      paymentWait(post, id, timeout_s, { ...options, ...(signal ? { signal } : {}) });
  /** The structured content of the answer an SSE body carries on its data line. */
  const answerOf = (text: string) =>
    (
      JSON.parse(text.slice(text.indexOf("data: {") + 6)) as {
        result: { structuredContent: Record<string, unknown> };
      }
    ).result.structuredContent;
  /** A payment of order `order`, stored as the erp source's webhook would be. */
  const paid = (served: Awaited<ReturnType<typeof inProcess>>, order: number) =>
    served.app.store?.add({
      source: "erp",
      type: "payment.paid",
      scheme: "hmac-sha256",
      dedupeId: `paid-${order}`,
      headers: {},
      body: Buffer.from(`{"order":${order}}`),
      receivedAt: clock.now(),
    });

  test("a client that lost its stream and comes back with Last-Event-ID misses no notification", async () => {
    const served = await servedWithErp();
    const app = served.app;
    const event = (n: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `resume-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt: clock.now(),
      });
    try {
      const { stream } = await subscribedSession(served.url);
      // The first event arrives on the stream; then the stream drops.
      const seen = readStream(`${served.url}/mcp`, stream, (events) =>
        events.some((e) => e.data.includes("resources/updated")),
      );
      await expect.poll(() => served.sessions.streams()).toBe(1);
      await event(1);
      const before = await seen;
      await expect.poll(() => served.sessions.streams()).toBe(0);
      // The second arrives while no stream is open.
      await event(2);
      const lastId = before.at(-1)?.id as string;
      const replayed = await readStream(`${served.url}/mcp`, { ...stream, "last-event-id": lastId }, (events) =>
        events.some((e) => e.data.includes("resources/updated")),
      );
      expect(replayed.map((e) => JSON.parse(e.data).method)).toContain("notifications/resources/updated");
      expect(replayed.every((e) => e.id !== lastId)).toBe(true);
    } finally {
      await served.close();
    }
  });

  test("an events_wait whose stream dropped before it carried anything, its answer lost, is waited on again from where it began", async () => {
    const served = await servedWithErp();
    try {
      // A client of MCP 2025-06-18 is sent no event id before the answer: it cannot come back for it.
      const { post } = await rawSession(served.url, "2025-06-18");
      const wait = paymentWaits(post);
      const dropped = new AbortController();
      const first = await wait(2, 20, dropped.signal);
      expect(first.headers["content-type"]).toBe("text/event-stream");
      dropped.abort();
      await expect.poll(() => served.sessions.answering()).toBe(0);
      // The first wait answers with the payment, on a stream no one reads any more.
      const event = await paid(served, 7);
      await expect.poll(() => served.stderr()).toContain(": the answer to request 2 is lost");
      expect(answerOf(await (await wait(3, 1)).body.text())).toMatchObject({
        timed_out: false,
        event: { id: event?.id },
        note: "The connection of an earlier wait of this session for the same events closed before it answered, so this one waited from where that one began (c0).",
      });
    } finally {
      await served.close();
    }
  });

  test("a wait sent again at once after its stream dropped, before any event, answers the event once", async () => {
    const served = await servedWithErp();
    try {
      const { post } = await rawSession(served.url, "2025-06-18");
      const wait = paymentWaits(post);
      const dropped = new AbortController();
      await wait(2, 20, dropped.signal);
      dropped.abort();
      await expect.poll(() => served.sessions.answering()).toBe(0);
      // The client sends its wait again at once; the payment comes while both wait.
      const again = await wait(3, 20);
      const event = await paid(served, 8);
      expect(answerOf(await again.body.text())).toMatchObject({
        timed_out: false,
        event: { id: event?.id },
        note: "The connection of an earlier wait of this session for the same events closed before it answered, so this one waited from where that one began (c0).",
      });
      // Answered once: the next wait reads on from now.
      expect(answerOf(await (await wait(4, 1)).body.text())).toMatchObject({ timed_out: true });
      expect(served.stderr()).toContain(": the answer to request 2 is lost: its stream's connection closed");
    } finally {
      await served.close();
    }
  });

  test("a stream opened again with a Last-Event-ID waiter never sent is told what the header holds, also while waiter stops", async () => {
    const served = await servedWithErp();
    try {
      const { inSession } = await rawSession(served.url, "2025-11-25");
      const reopen = async (lastId: string) => {
        const answer = await request(`${served.url}/mcp`, {
          method: "GET",
          headers: { accept: "text/event-stream", ...inSession, "last-event-id": lastId },
        });
        return { status: answer.statusCode, body: (await answer.body.json()) as { error: { message: string } } };
      };
      const told = expect.objectContaining({
        status: 400,
        body: expect.objectContaining({
          error: expect.objectContaining({ message: expect.stringContaining("Last-Event-ID") }),
        }),
      });
      expect(await reopen("garbage")).toEqual(told);
      expect((await reopen(":1")).body.error.message).toMatch(/without it .*afresh/);
      served.sessions.endStreams();
      expect(await reopen("garbage")).toEqual(told);
    } finally {
      await served.close();
    }
  });

  test("a wait whose stream drops after its event id, its answer come back for, is not waited on again", async () => {
    const served = await servedWithErp();
    try {
      const { inSession, post } = await rawSession(served.url, "2025-11-25");
      const wait = paymentWaits(post);
      const dropped = new AbortController();
      const first = await wait(2, 20, dropped.signal);
      let heard = "";
      for await (const chunk of first.body) {
        heard += chunk.toString();
        if (heard.includes("\n\n")) break;
      }
      dropped.abort();
      const lastId = /^id: (\S+)$/m.exec(heard)?.[1] as string;
      await expect.poll(() => served.sessions.answering()).toBe(0);
      const event = await paid(served, 10);
      const back = await readStream(
        `${served.url}/mcp`,
        { accept: "text/event-stream", ...inSession, "last-event-id": lastId },
        (events) => events.some((e) => e.data.includes('"result"')),
      );
      expect(back.find((e) => e.data.includes('"result"'))?.data).toContain(event?.id);
      // Its answer was read: the next wait reads on from now.
      expect(answerOf(await (await wait(3, 1)).body.text())).toMatchObject({ timed_out: true });
      expect(served.stderr()).not.toContain("the answer to request 2 is lost");
    } finally {
      await served.close();
    }
  });

  test("a client of MCP 2025-11-25 answered in JSON whose wait's connection drops waits again from where that one began", async () => {
    const served = await servedWithErp();
    try {
      // The event id the stream is primed with never reaches a client that takes JSON alone.
      const { post } = await rawSession(served.url, "2025-11-25");
      const wait = paymentWaits(post, { accept: "application/json" });
      const dropped = new AbortController();
      const first = wait(2, 20, dropped.signal).catch(() => undefined);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      dropped.abort();
      await first;
      await expect.poll(() => served.sessions.answering()).toBe(0);
      const event = await paid(served, 9);
      const again = (await (await wait(3, 1)).body.json()) as { result: { structuredContent: unknown } };
      expect(again.result.structuredContent).toMatchObject({
        timed_out: false,
        event: { id: event?.id },
        note: "The connection of an earlier wait of this session for the same events closed before it answered, so this one waited from where that one began (c0).",
      });
    } finally {
      await served.close();
    }
  });

  test("an events_wait whose connection drops while it reads where it begins is waited on again from there", async () => {
    const served = await servedWithErp();
    try {
      const { post } = await rawSession(served.url, "2025-11-25");
      const wait = paymentWaits(post, { accept: "application/json" });
      const store = served.app.store as NonNullable<typeof served.app.store>;
      const latest = store.latestSeq.bind(store);
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const reads = vi.spyOn(store, "latestSeq").mockImplementationOnce(async () => {
        await held;
        return latest();
      });
      const dropped = new AbortController();
      const first = wait(2, 1, dropped.signal).catch(() => undefined);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      dropped.abort();
      await first;
      await expect.poll(() => served.stderr()).toContain(": the answer to request 2 is lost");
      release();
      // Where the first wait begins is read before the payment arrives.
      await reads.mock.results[0]?.value;
      const event = await paid(served, 12);
      const again = (await (await wait(3, 1)).body.json()) as { result: { structuredContent: unknown } };
      expect(again.result.structuredContent).toMatchObject({
        timed_out: false,
        event: { id: event?.id },
        note: "The connection of an earlier wait of this session for the same events closed before it answered, so this one waited from where that one began (c0).",
      });
    } finally {
      await served.close();
    }
  });

  test("an events_list whose connection drops before its answer leaves a lost wait's start to the next wait", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, { ...ERP_ENV, WAITER_LOG_LEVEL: "debug" });
    try {
      const { post } = await rawSession(served.url, "2025-11-25");
      const wait = paymentWaits(post, { accept: "application/json" });
      const waitDropped = new AbortController();
      const first = wait(2, 20, waitDropped.signal).catch(() => undefined);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      waitDropped.abort();
      await first;
      await expect.poll(() => served.sessions.answering()).toBe(0);
      // A page of the same events, which would give a cursor of its own, held by the store until its
      // connection has dropped: its answer, cursor and all, goes nowhere.
      const store = served.app.store as NonNullable<typeof served.app.store>;
      const list = store.list.bind(store);
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      vi.spyOn(store, "list").mockImplementationOnce(async (...args) => {
        await held;
        return list(...args);
      });
      const pageDropped = new AbortController();
      const page = post(
        {
          jsonrpc: "2.0",
          id: 3,
          method: "tools/call",
          params: { name: "events_list", arguments: { type: "payment.*" } },
        },
        { accept: "application/json", signal: pageDropped.signal },
      ).catch(() => undefined);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      pageDropped.abort();
      await page;
      await expect.poll(() => served.stderr()).toContain(": the answer to request 3 is lost");
      release();
      await expect.poll(() => served.stderr()).toMatch(/events_list answered/);
      const event = await paid(served, 11);
      const again = (await (await wait(4, 1)).body.json()) as { result: { structuredContent: unknown } };
      expect(again.result.structuredContent).toMatchObject({
        timed_out: false,
        event: { id: event?.id },
        note: "The connection of an earlier wait of this session for the same events closed before it answered, so this one waited from where that one began (c0).",
      });
    } finally {
      await served.close();
    }
  });

  test("a client of MCP 2025-11-25 whose stream drops before it carried anything comes back from where it stood and misses nothing", async () => {
    const served = await servedWithErp();
    try {
      const { inSession, post } = await rawSession(served.url, "2025-11-25");
      await (
        await post({ jsonrpc: "2.0", id: 2, method: "resources/subscribe", params: { uri: "events://recent" } })
      ).body.dump();
      const stream = { accept: "text/event-stream", ...inSession };
      /** The id a stream opened with `headers` names first, read before the stream drops. */
      const firstId = async (headers: Record<string, string>) => {
        const dropped = new AbortController();
        const own = new Agent();
        const opened = await request(`${served.url}/mcp`, { headers, signal: dropped.signal, dispatcher: own });
        expect(opened.statusCode).toBe(200);
        let heard = "";
        for await (const chunk of opened.body) {
          heard += chunk.toString();
          if (heard.includes("\n\n")) break;
        }
        dropped.abort();
        await own.destroy();
        // An event of no data but its id: where the stream stands, as MCP 2025-11-25 has a server say.
        expect(heard).toMatch(/^id: \S+\ndata: \n\n/);
        return /^id: (\S+)$/m.exec(heard)?.[1] as string;
      };
      const add = (n: number) =>
        served.app.store?.add({
          source: "erp",
          type: "invoice.created",
          scheme: "hmac-sha256",
          dedupeId: `quiet-${n}`,
          headers: {},
          body: Buffer.from(`{"n":${n}}`),
          receivedAt: clock.now(),
        });
      // A stream that carried nothing, then one it came back to that carried nothing again.
      let lastId = await firstId(stream);
      await expect.poll(() => served.sessions.streams()).toBe(0);
      lastId = await firstId({ ...stream, "last-event-id": lastId });
      await expect.poll(() => served.sessions.streams()).toBe(0);
      await add(1);
      const back = await readStream(`${served.url}/mcp`, { ...stream, "last-event-id": lastId }, (events) =>
        events.some((e) => e.data.includes("resources/updated")),
      );
      expect(back.filter((e) => e.data.includes("resources/updated"))).toHaveLength(1);
    } finally {
      await served.close();
    }
  });

  test("a client subscribed to the recent events, back after a restart, is told of those stored while no server held its session", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const event = (n: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `restart-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt: clock.now(),
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const seen = readStream(`${first.url}/mcp`, stream, (events) => updates(events) > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await event(1);
      const lastId = (await seen).at(-1)?.id as string;
      await first.stop();

      // Delivered while waiter was down or starting again, as a sender retries: no copy of the
      // session was there to tell its client.
      setClock(clock.now() + 60_000);
      await event(2);
      const second = await start();
      const back = readStream(
        `${second.url}/mcp`,
        { ...stream, "last-event-id": lastId },
        (events) => updates(events) >= 2,
      );
      await expect.poll(() => second.sessions.streams()).toBe(1);
      // One more, with the client back: the stream ends once it has been told of both.
      await event(3);
      expect(updates(await back)).toBe(2);
      await second.stop();
    } finally {
      await app.close();
    }
  });

  test("a client back after a restart is told the resource list changed when events were stored while no server held its session", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const event = (n: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `unsubscribed-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt: clock.now(),
      });
    const listChanges = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/list_changed")).length;
    try {
      const first = await start();
      // Subscribed to nothing: each event stored is a resource, and the list of them changes.
      const opened = await initializeAt(first.url);
      const session = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const stream = { accept: "text/event-stream", "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" };
      const initialized = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
        headers: { ...mcpHeaders, ...stream, accept: mcpHeaders.accept },
      });
      await initialized.body.dump();
      const seen = readStream(`${first.url}/mcp`, stream, (events) => listChanges(events) > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await event(1);
      const lastId = (await seen).at(-1)?.id as string;
      await first.stop();

      setClock(clock.now() + 60_000);
      await event(2);
      const second = await start();
      const back = readStream(`${second.url}/mcp`, { ...stream, "last-event-id": lastId }, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      // The stop ends the stream, after what the session's new copy sent before its client was back.
      await second.stop();
      expect(listChanges(await back)).toBe(1);
    } finally {
      await app.close();
    }
  });

  test("a client back after a restart is told of the events it subscribed to that were acknowledged while no server held its session", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    try {
      const added = await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "acked-while-down",
        headers: {},
        body: Buffer.from('{"n":1}'),
        receivedAt: clock.now(),
      });
      const id = added?.id as string;
      const first = await start();
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 3,
          method: "resources/subscribe",
          params: { uri: `events://event/${id}` },
        }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      expect(subscribed.statusCode).toBe(200);
      await subscribed.body.dump();
      const seen = readStream(`${first.url}/mcp`, stream, (events) => updated(events).length > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "heard-before-the-stop",
        headers: {},
        body: Buffer.from('{"n":2}'),
        receivedAt: clock.now(),
      });
      const lastId = (await seen).at(-1)?.id as string;
      await first.stop();

      // Acknowledged by another process of the same store while waiter was down.
      setClock(clock.now() + 60_000);
      await app.store?.ack([id], clock.now());
      const second = await start();
      const back = readStream(`${second.url}/mcp`, { ...stream, "last-event-id": lastId }, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updated(await back).sort()).toEqual([`events://event/${id}`, "events://recent"]);
    } finally {
      await app.close();
    }
  });

  test("a client subscribed to an event retention dropped while no server held its session is told so once, not again at each later restart", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (n: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `dropped-while-down-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt: clock.now(),
      });
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    try {
      const id = (await add(1))?.id as string;
      const first = await start();
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 3,
          method: "resources/subscribe",
          params: { uri: `events://event/${id}` },
        }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      expect(subscribed.statusCode).toBe(200);
      await subscribed.body.dump();
      const seen = readStream(`${first.url}/mcp`, stream, (events) => updated(events).length > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await add(2);
      let lastId = (await seen).at(-1)?.id as string;
      await first.stop();

      // Past its age while waiter was down: retention drops every event stored.
      await app.store?.expire(clock.now() + 400 * 24 * 3_600_000);
      const second = await start();
      const back = readStream(`${second.url}/mcp`, { ...stream, "last-event-id": lastId }, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      const told = await back;
      expect(updated(told)).toContain(`events://event/${id}`);
      lastId = told.at(-1)?.id as string;

      // Restarted once more, with nothing changed since: the drop was told already.
      const third = await start();
      const again = readStream(`${third.url}/mcp`, { ...stream, "last-event-id": lastId }, () => false);
      await expect.poll(() => third.sessions.streams()).toBe(1);
      await third.stop();
      expect(updated(await again)).not.toContain(`events://event/${id}`);
    } finally {
      await app.close();
    }
  });

  test("a subscription is in the store once its subscribe is answered, so a waiter killed right after (kill -9) leaves it to the next", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, ERP_ENV);
    const store = served.app.store?.sessions as SessionLog;
    try {
      const { inSession, post } = await rawSession(served.url, "2025-06-18");
      const id = inSession["mcp-session-id"];
      const subscribe = (method: string, uri: string) => post({ jsonrpc: "2.0", id: 2, method, params: { uri } });
      expect(await (await subscribe("resources/subscribe", "events://recent")).body.text()).toContain('"result":{}');
      // No sweep has run, nor a stop: the store holds it all the same.
      expect((await store.get(id))?.subscriptions).toEqual(["events://recent"]);
      await (await subscribe("resources/unsubscribe", "events://recent")).body.dump();
      expect((await store.get(id))?.subscriptions).toEqual([]);
    } finally {
      await served.close();
    }
  });

  test("a client whose stream carried nothing before a restart, back without Last-Event-ID, is told what changed while no server held its session", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      // MCP 2025-06-18: the stream names no event id before its first message, and none came.
      const quiet = readStream(`${first.url}/mcp`, stream, () => false);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await first.stop();
      expect(await quiet).toEqual([]);

      setClock(clock.now() + 60_000);
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "while-down-quiet-stream",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const second = await start();
      // The SDK's client opens it again with no Last-Event-ID: it heard none.
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      // The stop ends the stream, after what the session's new copy sent before its client was back.
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await app.close();
      setClock();
    }
  });

  test("a client whose first stream after a restart closed before it read anything is told what changed while no server held its session, there or at the next server", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    /** A GET whose connection closes as soon as it is answered, its stream unread. */
    const unread = async (url: string, headers: Record<string, string>) => {
      const controller = new AbortController();
      const own = new Agent();
      const response = await request(`${url}/mcp`, { headers, signal: controller.signal, dispatcher: own });
      expect(response.statusCode).toBe(200);
      controller.abort();
      await own.destroy();
    };
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const quiet = readStream(`${first.url}/mcp`, stream, () => false);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await first.stop();
      expect(await quiet).toEqual([]);

      setClock(clock.now() + 60_000);
      const storedWhileDown = (dedupeId: string) =>
        app.store?.add({
          source: "erp",
          type: "invoice.created",
          scheme: "hmac-sha256",
          dedupeId,
          headers: {},
          body: Buffer.from("{}"),
          receivedAt: clock.now(),
        });
      await storedWhileDown("while-down-unread-stream");
      const second = await start();
      await unread(second.url, stream);
      await expect.poll(() => second.sessions.streams()).toBe(0);
      // Back without Last-Event-ID, as it read none: sent the catch-up again.
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);

      // Or back at the next server only: it is told there.
      await storedWhileDown("while-down-unread-stream-again");
      const third = await start();
      await unread(third.url, stream);
      await expect.poll(() => third.sessions.streams()).toBe(0);
      await third.stop();
      const fourth = await start();
      const elsewhere = readStream(`${fourth.url}/mcp`, stream, () => false);
      await expect.poll(() => fourth.sessions.streams()).toBe(1);
      await fourth.stop();
      expect(updates(await elsewhere)).toBe(1);
    } finally {
      await app.close();
      setClock();
    }
  });

  test("a client back after a restart with the Last-Event-ID it heard before, whose stream closed before it read anything, is told what changed while no server held its session, there or at the next server", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (dedupeId: string) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId,
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    /** A GET whose connection closes as soon as it is answered, its stream unread. */
    const unread = async (url: string, headers: Record<string, string>) => {
      const controller = new AbortController();
      const own = new Agent();
      const response = await request(`${url}/mcp`, { headers, signal: controller.signal, dispatcher: own });
      expect(response.statusCode).toBe(200);
      controller.abort();
      await own.destroy();
    };
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const seen = readStream(`${first.url}/mcp`, stream, (events) => updates(events) > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await add("heard-before-restart");
      const heard = (await seen).at(-1)?.id as string;
      await first.stop();

      setClock(clock.now() + 60_000);
      await add("while-down-heard-before");
      const second = await start();
      // Back with the id it heard last, before the catch-up: its connection closes before it reads any of it.
      await unread(second.url, { ...stream, "last-event-id": heard });
      await expect.poll(() => second.sessions.streams()).toBe(0);
      // That stream carried it no event: the SDK's client opens the next with no Last-Event-ID.
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      const told = await back;
      expect(updates(told)).toBe(1);

      // Or back at the next server only, with the id it heard last: it is told there.
      await add("while-down-heard-before-again");
      const third = await start();
      await unread(third.url, { ...stream, "last-event-id": told.at(-1)?.id as string });
      await expect.poll(() => third.sessions.streams()).toBe(0);
      await third.stop();
      const fourth = await start();
      const caughtUp = await readStream(`${fourth.url}/mcp`, stream, (events) => updates(events) > 0);
      expect(updates(caughtUp)).toBe(1);
      // Back with the id of what it read, which was the catch-up: it is not sent it again, with an id or without.
      const read = readStream(
        `${fourth.url}/mcp`,
        { ...stream, "last-event-id": caughtUp.at(-1)?.id as string },
        () => false,
      );
      await expect.poll(() => fourth.sessions.streams()).toBe(1);
      await unread(fourth.url, stream);
      await expect.poll(() => fourth.sessions.streams()).toBe(0);
      const again = readStream(`${fourth.url}/mcp`, stream, () => false);
      await expect.poll(() => fourth.sessions.streams()).toBe(1);
      await fourth.stop();
      expect(updates(await read)).toBe(0);
      expect(updates(await again)).toBe(0);
    } finally {
      await app.close();
      setClock();
    }
  });

  test("a client that read the catch-up of a session taken up while its store was slow, and names its last event, is not sent it again", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const store = app.store?.sessions as SessionLog;
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    /** A GET whose connection closes as soon as it is answered, its stream unread. */
    const unread = async (url: string, headers: Record<string, string>) => {
      const controller = new AbortController();
      const own = new Agent();
      const response = await request(`${url}/mcp`, { headers, signal: controller.signal, dispatcher: own });
      expect(response.statusCode).toBe(200);
      controller.abort();
      await own.destroy();
    };
    try {
      const added = await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "dropped-while-slow",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const uri = `events://event/${added?.id}`;
      const first = await start();
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "resources/subscribe", params: { uri } }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      await subscribed.body.dump();
      await first.stop();

      // Retention drops the event while no server holds the session: the catch-up tells of it, and
      // the take-up then writes the subscriptions without it, which the store holds.
      await app.store?.expire(clock.now() + 400 * 24 * 3_600_000);
      const keep = store.keepSubscriptions.bind(store);
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let writing = () => {};
      const written = new Promise<void>((resolve) => {
        writing = resolve;
      });
      vi.spyOn(store, "keepSubscriptions").mockImplementationOnce(async (...args) => {
        writing();
        await held;
        await keep(...args);
      });
      const second = await start();
      const caughtUp = readStream(`${second.url}/mcp`, stream, (events) => updated(events).includes(uri));
      await written;
      // Meanwhile the client is answered on the session: a message stored after the catch-up's last.
      const pinged = await request(`${second.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "ping" }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      expect(await pinged.body.text()).toContain('"result":{}');
      release();
      const read = await caughtUp;
      expect(updated(read)).toContain(uri);

      // Back with the id of the catch-up's last event (its connection closing unread), then without any: it is not sent it again.
      await unread(second.url, { ...stream, "last-event-id": read.at(-1)?.id as string });
      await expect.poll(() => second.sessions.streams()).toBe(0);
      const again = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updated(await again)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  test("a client of a session taken up with nothing to catch up is not sent again, back without Last-Event-ID, what it read on its stream", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      await first.stop();

      // Nothing changed while no server held the session.
      const second = await start();
      const live = readStream(`${second.url}/mcp`, stream, (events) => updates(events) > 0);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "heard-after-take-up",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      expect(updates(await live)).toBe(1);
      await expect.poll(() => second.sessions.streams()).toBe(0);
      // Back without Last-Event-ID, as a client that keeps no event ids is: the stream starts afresh.
      const again = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await again)).toBe(0);
    } finally {
      await app.close();
    }
  });

  test("a client that keeps no event ids, back while the catch-up of a session taken up is unread, is sent the catch-up again but not what it then read live", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (dedupeId: string) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId,
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const seen = readStream(`${first.url}/mcp`, stream, (events) => updates(events) > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await add("heard-before-take-up");
      const heard = (await seen).at(-1)?.id as string;
      await first.stop();

      setClock(clock.now() + 60_000);
      await add("while-down-then-live");
      const second = await start();
      // Sent the catch-up, then an event live, on a stream opened without Last-Event-ID, read until
      // the live event's list change (held to the end of the take-up's burst window) is in too: one
      // still to come would be sent live to the stream opened last, not kept in the replay.
      const listChanges = (events: { data: string }[]) =>
        events.filter((e) => e.data.includes("notifications/resources/list_changed")).length;
      const live = readStream(`${second.url}/mcp`, stream, (events) => updates(events) > 1 && listChanges(events) > 1);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await add("heard-live-after-catch-up");
      const read = await live;
      expect(updates(read)).toBe(2);
      await expect.poll(() => second.sessions.streams()).toBe(0);

      // A client back with the id it heard before the take-up is sent exactly what followed it.
      const named = await readStream(
        `${second.url}/mcp`,
        { ...stream, "last-event-id": heard },
        (events) => events.length >= read.length,
      );
      expect(named).toEqual(read);
      await expect.poll(() => second.sessions.streams()).toBe(0);

      // Back without Last-Event-ID, as it keeps none: the catch-up again, not what it read live.
      const again = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      const told = await again;
      expect(updates(told)).toBe(1);
      expect(told).toEqual(read.slice(0, told.length));
    } finally {
      await app.close();
      setClock();
    }
  });

  test("a server that took up a session with a catch-up to send still runs its calls without async hooks, which cost each promise", async (ctx) => {
    // With async hooks on, a promise's callback runs under an async id; without, under none (0).
    const hooksOn = () => Promise.resolve().then(() => executionAsyncId() !== 0);
    // Turned on before in this process, by other code: a take-up cannot be told to.
    if (await hooksOn()) ctx.skip();
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      await first.stop();
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "stored-while-no-server-held",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const second = await start();
      const caughtUp = readStream(`${second.url}/mcp`, stream, (events) =>
        events.some((e) => e.data.includes("notifications/resources/updated")),
      );
      await caughtUp;
      await second.stop();
      expect(await hooksOn()).toBe(false);
    } finally {
      await app.close();
    }
  });

  test("a client that read what changed while no server held its session, and sends on, is not sent it again when it comes back without Last-Event-ID", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { session, stream } = await subscribedSession(first.url);
      const quiet = readStream(`${first.url}/mcp`, stream, () => false);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await first.stop();
      expect(await quiet).toEqual([]);

      setClock(clock.now() + 60_000);
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "while-down-read",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const second = await start();
      // Sent the catch-up on its stream, its client sends on the session while that stream is open.
      const open = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      expect(await subscribeIn(second.url, session)).toBe(200);
      // Back without Last-Event-ID, as a client that keeps no event ids is: sent nothing again.
      const again = readStream(`${second.url}/mcp`, stream, () => false);
      expect(updates(await open)).toBe(1);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await again)).toBe(0);
    } finally {
      await app.close();
      setClock();
    }
  });

  test("a client back after a restart is told of an event stored while no server held its session, though its sender's replica stamped it earlier than the session's last use", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (n: number, receivedAt: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `skewed-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt,
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      setClock("2026-12-01T09:00:00Z");
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const seen = readStream(`${first.url}/mcp`, stream, (events) => updates(events) > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await add(1, clock.now());
      const lastId = (await seen).at(-1)?.id as string;
      await first.stop();

      // Stored through another replica, whose clock is 5 s behind, while no server held the session.
      await add(2, clock.now() - 5_000);
      const second = await start();
      const back = readStream(`${second.url}/mcp`, { ...stream, "last-event-id": lastId }, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await app.close();
      setClock();
    }
  });
  test("a client back after a waiter was killed in its session's first minute is told of an event stored since, though its sender's replica stamped it earlier", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (n: number, receivedAt: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `killed-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt,
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    setClock("2026-12-01T09:00:00Z");
    const first = await start();
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      await add(1, clock.now() - 60_000);
      const { stream } = await subscribedSession(first.url);
      // Killed before its first sweep: the store has the session as it was recorded at initialize.
      // Stored through another replica, whose clock is 5 s behind, while no server held the session.
      await add(2, clock.now() - 5_000);
      second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second?.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await first.stop();
      await app.close();
      setClock();
    }
  });
  test("a client back after a waiter was killed in its session's first minute, on a store that held no event yet, is told of the first stored since, though its sender's replica stamped it earlier", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    setClock("2026-12-01T09:00:00Z");
    const first = await start();
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      const { stream } = await subscribedSession(first.url);
      // Killed before its first sweep, with the store as empty as when the session opened. The first
      // event, stored through another replica whose clock is 5 s behind, while no server held it.
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "first-ever",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now() - 5_000,
      });
      second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second?.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await first.stop();
      await app.close();
      setClock();
    }
  });
  test("a client back after a restart is told the recent events changed when the store could not say a moment whether any were stored meanwhile", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    const store = app.store as NonNullable<typeof app.store>;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      await first.stop();
      await store.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "stored-while-stopped",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      // The look for events stored since fails once, as a database the next server reaches drops a connection.
      vi.spyOn(store, "firstAfter").mockRejectedValueOnce(new Error("Connection terminated unexpectedly"));
      const second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      vi.restoreAllMocks();
      await app.close();
    }
  });
  test("a client back after a restart is told of an event it subscribed to that another replica acknowledged meanwhile, though that replica's clock stamped it earlier than the session's last use", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    setClock("2026-12-01T09:00:00Z");
    try {
      const added = await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "acked-by-a-slow-clock",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const id = added?.id as string;
      const first = await start();
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 3,
          method: "resources/subscribe",
          params: { uri: `events://event/${id}` },
        }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      expect(subscribed.statusCode).toBe(200);
      await subscribed.body.dump();
      await first.stop();

      // Acknowledged through another replica, whose clock is 5 s behind, while no server held the session.
      await app.store?.ack([id], clock.now() - 5_000);
      const second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updated(await back)).toContain(`events://event/${id}`);
    } finally {
      await app.close();
      setClock();
    }
  });
  test("a client back after a restart is told of an event it subscribed to, acknowledged meanwhile, though the store could not say a moment what became of it", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    setClock("2026-12-01T09:00:00Z");
    try {
      const added = await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "acked-unread",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const id = added?.id as string;
      const first = await start();
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 3,
          method: "resources/subscribe",
          params: { uri: `events://event/${id}` },
        }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      expect(subscribed.statusCode).toBe(200);
      await subscribed.body.dump();
      await first.stop();

      await app.store?.ack([id], clock.now());
      // Each read of an event fails as the next server takes the session up, as a database that drops a connection.
      const store = app.store as NonNullable<typeof app.store>;
      vi.spyOn(store, "get").mockRejectedValue(new Error("Connection terminated unexpectedly"));
      const second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      vi.restoreAllMocks();
      await second.stop();
      expect(updated(await back)).toContain(`events://event/${id}`);
    } finally {
      vi.restoreAllMocks();
      await app.close();
      setClock();
    }
  });
  test("a client back after a restart is told of an event stored as the stop drained, after its stream had ended", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (n: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `drained-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt: clock.now(),
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const seen = readStream(`${first.url}/mcp`, stream, () => false);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await add(1);
      // The stop ends the streams first, then lets the deliveries in flight commit.
      first.sessions.endStreams();
      const told = await seen;
      expect(updates(told)).toBe(1);
      await add(2);
      await first.stop();

      const second = await start();
      const back = readStream(
        `${second.url}/mcp`,
        { ...stream, "last-event-id": told.at(-1)?.id as string },
        () => false,
      );
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await app.close();
    }
  });
  test("a client told of a dropped event at a take-up is not told it again after the waiter that told it was killed", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    const first = await start();
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      const added = await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "dropped-then-killed",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const uri = `events://event/${added?.id}`;
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "resources/subscribe", params: { uri } }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      await subscribed.body.dump();
      await first.stop();

      await app.store?.expire(clock.now() + 400 * 24 * 3_600_000);
      second = await start();
      const told = await readStream(`${second.url}/mcp`, stream, (events) => updated(events).includes(uri));
      expect(updated(told)).toContain(uri);

      // The second is killed (no stop, no sweep): the next is not told the drop again.
      const third = await start();
      const again = readStream(`${third.url}/mcp`, stream, () => false);
      await expect.poll(() => third.sessions.streams()).toBe(1);
      await third.stop();
      expect(updated(await again)).not.toContain(uri);
    } finally {
      await second?.stop();
      await app.close();
    }
  });
  test("a client back after a restart whose GET takes JSON too, its Last-Event-ID empty, is told what changed while no server held its session", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      // MCP 2025-06-18: the stream names no event id before its first message, and none came.
      const quiet = readStream(`${first.url}/mcp`, stream, () => false);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await first.stop();
      expect(await quiet).toEqual([]);

      setClock(clock.now() + 60_000);
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "while-down-empty-last-event-id",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const second = await start();
      // An empty Last-Event-ID names no event, and an Accept of both types takes the stream as well.
      const asked = { ...stream, accept: "application/json, text/event-stream", "last-event-id": "" };
      const back = readStream(`${second.url}/mcp`, asked, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      // The stop ends the stream, after what the session's new copy sent before its client was back.
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await app.close();
      setClock();
    }
  });

  test("a client back after a restart is told of an event stored while no server held its session, though its sender's replica stamped it earlier than the session's last use", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (n: number, receivedAt: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `skewed-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt,
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      setClock("2026-12-01T09:00:00Z");
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const seen = readStream(`${first.url}/mcp`, stream, (events) => updates(events) > 0);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await add(1, clock.now());
      const lastId = (await seen).at(-1)?.id as string;
      await first.stop();

      // Stored through another replica, whose clock is 5 s behind, while no server held the session.
      await add(2, clock.now() - 5_000);
      const second = await start();
      const back = readStream(`${second.url}/mcp`, { ...stream, "last-event-id": lastId }, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await app.close();
      setClock();
    }
  });
  test("a client back after a waiter was killed in its session's first minute is told of an event stored since, though its sender's replica stamped it earlier", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (n: number, receivedAt: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `killed-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt,
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    setClock("2026-12-01T09:00:00Z");
    const first = await start();
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      await add(1, clock.now() - 60_000);
      const { stream } = await subscribedSession(first.url);
      // Killed before its first sweep: the store has the session as it was recorded at initialize.
      // Stored through another replica, whose clock is 5 s behind, while no server held the session.
      await add(2, clock.now() - 5_000);
      second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second?.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await first.stop();
      await app.close();
      setClock();
    }
  });
  test("a client back after a waiter was killed in its session's first minute, on a store that held no event yet, is told of the first stored since, though its sender's replica stamped it earlier", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    setClock("2026-12-01T09:00:00Z");
    const first = await start();
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      const { stream } = await subscribedSession(first.url);
      // Killed before its first sweep, with the store as empty as when the session opened. The first
      // event, stored through another replica whose clock is 5 s behind, while no server held it.
      await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "first-ever",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now() - 5_000,
      });
      second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second?.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await first.stop();
      await app.close();
      setClock();
    }
  });
  test("a client back after a restart is told of an event it subscribed to that another replica acknowledged meanwhile, though that replica's clock stamped it earlier than the session's last use", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    setClock("2026-12-01T09:00:00Z");
    try {
      const added = await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "acked-by-a-slow-clock",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const id = added?.id as string;
      const first = await start();
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 3,
          method: "resources/subscribe",
          params: { uri: `events://event/${id}` },
        }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      expect(subscribed.statusCode).toBe(200);
      await subscribed.body.dump();
      await first.stop();

      // Acknowledged through another replica, whose clock is 5 s behind, while no server held the session.
      await app.store?.ack([id], clock.now() - 5_000);
      const second = await start();
      const back = readStream(`${second.url}/mcp`, stream, () => false);
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updated(await back)).toContain(`events://event/${id}`);
    } finally {
      await app.close();
      setClock();
    }
  });
  test("a client back after a restart is told of an event stored as the stop drained, after its stream had ended", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const add = (n: number) =>
      app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `drained-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt: clock.now(),
      });
    const updates = (events: { data: string }[]) =>
      events.filter((e) => e.data.includes("notifications/resources/updated")).length;
    try {
      const first = await start();
      const { stream } = await subscribedSession(first.url);
      const seen = readStream(`${first.url}/mcp`, stream, () => false);
      await expect.poll(() => first.sessions.streams()).toBe(1);
      await add(1);
      // The stop ends the streams first, then lets the deliveries in flight commit.
      first.sessions.endStreams();
      const told = await seen;
      expect(updates(told)).toBe(1);
      await add(2);
      await first.stop();

      const second = await start();
      const back = readStream(
        `${second.url}/mcp`,
        { ...stream, "last-event-id": told.at(-1)?.id as string },
        () => false,
      );
      await expect.poll(() => second.sessions.streams()).toBe(1);
      await second.stop();
      expect(updates(await back)).toBe(1);
    } finally {
      await app.close();
    }
  });
  test("a client told of a dropped event at a take-up is not told it again after the waiter that told it was killed", async () => {
    const { app, config, log } = await startApp(ERP_ENV);
    const start = async () => {
      const sessions = mcpSessions(app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      return { url: listener.url, sessions, stop: () => Promise.all([sessions.close(), listener.close()]) };
    };
    const updated = (events: { data: string }[]) =>
      events
        .filter((e) => e.data.includes("notifications/resources/updated"))
        .map((e) => (JSON.parse(e.data) as { params: { uri: string } }).params.uri);
    const first = await start();
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      const added = await app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "dropped-then-killed",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const uri = `events://event/${added?.id}`;
      const { session, stream } = await subscribedSession(first.url);
      const subscribed = await request(`${first.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "resources/subscribe", params: { uri } }),
        headers: { ...mcpHeaders, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
      });
      await subscribed.body.dump();
      await first.stop();

      await app.store?.expire(clock.now() + 400 * 24 * 3_600_000);
      second = await start();
      const told = await readStream(`${second.url}/mcp`, stream, (events) => updated(events).includes(uri));
      expect(updated(told)).toContain(uri);

      // The second is killed (no stop, no sweep): the next is not told the drop again.
      const third = await start();
      const again = readStream(`${third.url}/mcp`, stream, () => false);
      await expect.poll(() => third.sessions.streams()).toBe(1);
      await third.stop();
      expect(updated(await again)).not.toContain(uri);
    } finally {
      await second?.stop();
      await app.close();
    }
  });
  test("a copy another replica has served since is left for the session as the store holds it: the subscriptions made there are heard here", async () => {
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess({ maxSessions: 10, idleMs: 30 * 60_000 }, ERP_ENV);
    const store = served.app.store?.sessions as SessionLog;
    try {
      // The initialize came here; the client's later requests went to another replica, which
      // took the session up, was subscribed to events://recent there, and died.
      const { inSession } = await rawSession(served.url, "2025-06-18");
      const id = inSession["mcp-session-id"];
      setClock(clock.now() + 5 * 60_000);
      await store.keepSubscriptions(id, ["events://recent"]);
      await store.seen(new Map([[id, clock.now()]]));
      setClock(clock.now() + 10_000);
      const heard = readStream(`${served.url}/mcp`, { accept: "text/event-stream", ...inSession }, (events) =>
        events.some((e) => e.data.includes("resources/updated")),
      );
      heard.catch(() => undefined);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "served-elsewhere",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const updated = await Promise.race([
        heard,
        new Promise((resolve) => setTimeout(() => resolve("nothing"), 3_000)),
      ]);
      expect(updated).not.toBe("nothing");
      expect(served.stderr()).toMatch(/MCP session \S+ taken up from the store/);
    } finally {
      await served.close();
      setClock();
    }
  });

  test("an empty Last-Event-ID names no event, as none at all: the notification stream opens", async () => {
    const served = await servedWithErp();
    try {
      const { inSession } = await rawSession(served.url, "2025-11-25");
      for (const lastId of ["", " "]) {
        const opened = await request(`${served.url}/mcp`, {
          headers: { ...inSession, accept: "text/event-stream", "last-event-id": lastId },
        });
        expect(opened.statusCode, JSON.stringify(lastId)).toBe(200);
        expect(opened.headers["content-type"]).toMatch(/^text\/event-stream/);
        opened.body.destroy();
        await expect.poll(() => served.sessions.streams()).toBe(0);
      }
    } finally {
      await served.close();
    }
  });

  test("a client back for a call's stream that is over, with an unknown MCP-Protocol-Version or no event stream in Accept, is refused as any other GET", async () => {
    const served = await servedWithErp();
    try {
      const { inSession, post } = await rawSession(served.url, "2025-11-25");
      const answered = await post({ jsonrpc: "2.0", id: 2, method: "tools/list" });
      const lastId = [...(await answered.body.text()).matchAll(/^id: (.+)$/gm)].at(-1)?.[1] as string;
      const comeBack = (headers: Record<string, string>) =>
        request(`${served.url}/mcp`, {
          headers: { ...inSession, accept: "text/event-stream", "last-event-id": lastId, ...headers },
        });
      for (const [headers, status, message] of [
        [{ "mcp-protocol-version": "1900-01-01" }, 400, /Unsupported protocol version: 1900-01-01/],
        [{ accept: "application/json" }, 406, /Client must accept text\/event-stream/],
      ] as const) {
        const refused = await comeBack(headers);
        expect(refused.statusCode, JSON.stringify(headers)).toBe(status);
        expect(await refused.body.text()).toMatch(message);
      }
      // Asked as MCP has it, there is nothing more to send.
      const over = await comeBack({});
      expect(over.statusCode).toBe(204);
      await over.body.dump();
      // An id waiter never sent names no stream that ended: its client is told so, not to stop coming back.
      for (const made of ["foo:bar", "foo", `${lastId.split(":")[0]}x:1`]) {
        const unknown = await comeBack({ "last-event-id": made });
        expect(unknown.statusCode, made).toBe(400);
        expect(await unknown.body.text()).toContain("the Last-Event-ID header names no event waiter sent");
      }
    } finally {
      await served.close();
    }
  });

  test("a client whose stream was closed for being left unread is told on the next start of the events stored since", async () => {
    const first = await servedWithErp();
    const { socket: hung, heard, open } = heldStream(first);
    let stored = 0;
    const event = () =>
      first.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `unread-${++stored}`,
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
    let second: { url: string; sessions: ReturnType<typeof mcpSessions>; close: () => Promise<unknown> } | undefined;
    try {
      const { inSession, session } = await open({ subscribed: true });
      await event();
      await expect.poll(heard).toContain("resources/updated");
      // From here on its client reads nothing; a large log line fills what the connection takes at once.
      hung.pause();
      while (first.sessions.streams() > 0 && stored < 5_000) {
        await session.server.server.sendLoggingMessage({ level: "info", data: "x".repeat(2 ** 20) });
        await Promise.all(Array.from({ length: 100 }, event));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(first.sessions.streams()).toBe(0);
      // Stored after the stream was closed: no client heard of it, and the server stops before its client is back.
      await event();
      hung.destroy();
      await first.sessions.close();

      const { app: unused, config, log } = await startApp(ERP_ENV);
      await unused.close();
      const sessions = mcpSessions(first.app, log, { ...sessionOptions(config), maxSessions: 10, idleMs: 60_000 });
      const listener = await startListener({
        webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: first.app.store,
        log,
        routes: sessions,
        named: config.named,
        drainMs: config.core.stopSeconds * 1000,
      });
      second = { url: listener.url, sessions, close: () => Promise.all([sessions.close(), listener.close()]) };
      const back = readStream(
        `${second.url}/mcp`,
        { ...inSession, accept: "text/event-stream", "mcp-protocol-version": "2025-11-25" },
        () => false,
      );
      await expect.poll(() => second?.sessions.streams()).toBe(1);
      await second.close();
      expect((await back).filter((e) => e.data.includes("notifications/resources/updated"))).toHaveLength(1);
    } finally {
      hung.destroy();
      await second?.close();
      await first.close();
    }
  });

  test("a stream whose client reads none of it is closed past what the session keeps, and its client comes back for that", async () => {
    const served = await servedWithErp();
    const { socket: hung, heard, open } = heldStream(served);
    const closed = new Promise((resolve) => hung.once("close", resolve));
    let stored = 0;
    const event = () =>
      served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `unread-${++stored}`,
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
    /** The sequence number of an event id, as the session numbers its messages. */
    const seq = (id: string) => Number(id.split(".")[1]);
    try {
      const { inSession, session, transport } = await open({ subscribed: true });
      // Open, an event is heard on it.
      await event();
      await expect.poll(heard).toContain("resources/updated");
      // From here on its client reads nothing: what it is sent fills the connection, then waits in waiter.
      hung.pause();
      // A large log line fills what the connection takes (the kernel's buffers: MiB on loopback)
      // at once, as many events would; the events' notifications then wait in waiter.
      const BURST = 100;
      while (served.sessions.streams() > 0 && stored < 5_000) {
        await session.server.server.sendLoggingMessage({ level: "info", data: "x".repeat(2 ** 20) });
        await Promise.all(Array.from({ length: BURST }, event));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(served.sessions.streams()).toBe(0);
      // The SDK's transport lets go of the stream too, and of its keepalive: what comes next is only kept.
      const { _streamMapping: held } = transport as unknown as {
        _streamMapping: Map<string, unknown>;
      };
      await expect.poll(() => held.has("_GET_stream")).toBe(false);
      await event();
      const cut = served.stderr().match(/MCP session \S+: closed its notification stream.*/g) ?? [];
      expect(cut).toHaveLength(1);
      expect(cut[0]).toContain(inSession["mcp-session-id"]);
      // What waited for it grew past the bound by one burst at most, not by every event since.
      expect(Number(/left (\d+) messages of it unread/.exec(cut[0] as string)?.[1])).toBeLessThanOrEqual(500 + 110);
      // What reached its connection before it was closed, the client reads when it comes to.
      hung.resume();
      await closed;
      const lastId = [...heard().matchAll(/id: (\S+)\ndata: [^\n]*\n\n/g)].at(-1)?.[1] as string;
      expect(lastId).toMatch(/^_GET_stream:/);
      // Back with Last-Event-ID, it is sent what the session kept after it, then where the stream stands.
      const back = await request(`${served.url}/mcp`, {
        headers: { ...inSession, accept: "text/event-stream", "last-event-id": lastId },
      });
      expect(back.statusCode).toBe(200);
      let sent = "";
      for await (const chunk of back.body) {
        sent += chunk.toString();
        if (/id: \S+\ndata: \n\n/.test(sent)) break;
      }
      const replayed = [...sent.matchAll(/id: (\S+)\ndata: (.+)\n\n/g)].map(([, id, data]) => ({
        seq: seq(id as string),
        method: (JSON.parse(data as string) as { method: string }).method,
      }));
      const seqs = replayed.map((message) => message.seq);
      expect(seqs[0]).toBeGreaterThan(seq(lastId));
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
      // What the session kept since the last large line, which left no room for what came before:
      // the last burst's events and the one after the cut.
      expect(replayed.filter(({ method }) => method === "notifications/resources/updated")).toHaveLength(BURST + 1);
    } finally {
      hung.destroy();
      await served.close();
    }
  });

  test("a stream whose client reads none of it, opened again on another connection, is closed: it holds neither what waits nor the session", async () => {
    const served = await servedWithErp();
    const { socket: hung, heard, open } = heldStream(served);
    let gone = false;
    hung.once("close", () => {
      gone = true;
    });
    try {
      const { inSession, session, transport } = await open();
      const lastId = /id: (\S+)\ndata: \n\n/.exec(heard())?.[1] as string;
      // From here on its client reads nothing: large log lines fill what the connection takes, then wait in waiter.
      hung.pause();
      while (notificationsUnread(transport) === 0) {
        await session.server.server.sendLoggingMessage({ level: "info", data: "x".repeat(2 ** 20) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Its client, which lost it unseen (behind a proxy that holds it), opens it again elsewhere.
      const again = await request(`${served.url}/mcp`, {
        headers: { ...inSession, accept: "text/event-stream", "last-event-id": lastId },
      });
      expect(again.statusCode).toBe(200);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      expect(served.sessions.answering()).toBe(1);
      // What reached its connection before, its client reads when it comes to; then the connection ends.
      hung.resume();
      await expect.poll(() => gone).toBe(true);
      again.body.destroy();
      await expect.poll(() => served.sessions.answering()).toBe(0);
      // Its operator reads why it ended: its client was told nothing.
      expect(served.stderr()).toContain(
        `MCP session ${inSession["mcp-session-id"]}: cut its notification stream, whose client left its connection full, as its client opened it again on another connection`,
      );
    } finally {
      hung.destroy();
      await served.close();
    }
  });

  test("a session ended by its client while its notification stream's connection is full cuts that connection: nobody reads what waits", async () => {
    const served = await servedWithErp();
    const { socket: hung, heard, open } = heldStream(served);
    let gone = false;
    hung.once("close", () => {
      gone = true;
    });
    try {
      const { inSession, session, transport } = await open();
      // From here on its client reads nothing: large log lines fill what the connection takes, then wait in waiter.
      hung.pause();
      while (notificationsUnread(transport) === 0) {
        await session.server.server.sendLoggingMessage({ level: "info", data: "x".repeat(2 ** 20) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      const ended = await request(`${served.url}/mcp`, { method: "DELETE", headers: inSession });
      expect(ended.statusCode).toBe(200);
      await ended.body.dump();
      // What reached the connection before, the client reads; then it is closed, not ended after what waited.
      hung.resume();
      await expect.poll(() => gone).toBe(true);
      expect(heard()).not.toMatch(/\r\n0\r\n\r\n$/);
    } finally {
      hung.destroy();
      await served.close();
    }
  });

  test("at a stop, a stream whose client reads slowly through a burst is ended after what waits on it, not cut: no next start holds that", async () => {
    const served = await servedWithErp();
    const { socket: slow, heard, open } = heldStream(served);
    try {
      const { session, transport } = await open();
      // Its client reads none of a burst of large log lines for a while: they fill its connection, then wait in waiter.
      slow.pause();
      let sent = 0;
      while (notificationsUnread(transport) === 0) {
        await session.server.server.sendLoggingMessage({ level: "info", data: "x".repeat(2 ** 20) });
        sent += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
      served.sessions.endStreams();
      slow.resume();
      // Its response ends (the last chunk of a chunked body), its connection kept for another request.
      await expect.poll(heard).toMatch(/\r\n0\r\n\r\n$/);
      // All of the burst, then when to come back and the id to come back with.
      expect(heard().match(/"method":"notifications\/message"/g)).toHaveLength(sent);
      expect(heard().slice(heard().lastIndexOf('"method":"notifications/message"'))).toMatch(
        /\nid: \S+\nretry: 5000\ndata: \n\n/,
      );
    } finally {
      slow.destroy();
      await served.close();
    }
  });

  test("a stream whose client reads none of it holds no pile of keepalive comments, and has them again once it reads", async () => {
    // The transport's keepalive, every 15 s, on a clock the test moves.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const served = await servedWithErp();
    const { socket: hung, heard, open } = heldStream(served);
    try {
      const { session, transport } = await open();
      vi.advanceTimersByTime(15_000);
      await expect.poll(heard).toContain(": keepalive");
      // From here on its client reads nothing: a large log line fills the connection, and waits.
      hung.pause();
      const unread = () => notificationsUnread(transport);
      while (unread() === 0) {
        await session.server.server.sendLoggingMessage({ level: "info", data: "x".repeat(2 ** 20) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      const waiting = unread();
      // An hour with no notification: no comment is queued behind what waits.
      vi.advanceTimersByTime(60 * 60_000);
      expect(unread()).toBe(waiting);
      // Once its client reads it all, the stream is kept alive again.
      const before = heard().length;
      hung.resume();
      await expect.poll(unread).toBe(0);
      await expect.poll(() => heard().length).toBeGreaterThan(before);
      vi.advanceTimersByTime(15_000);
      await expect.poll(() => heard().slice(before)).toContain(": keepalive");
      expect(served.sessions.streams()).toBe(1);
    } finally {
      vi.useRealTimers();
      hung.destroy();
      await served.close();
    }
  });

  test("a stream whose client reads steadily but slower than a burst comes is not closed, as more wait than the session keeps", async () => {
    const served = await servedWithErp();
    const relay = await startPacedRelay(Number(new URL(served.url).port));
    const opened = vi.spyOn(served.app, "session");
    let heard = "";
    const lines = () => heard.match(/"data":"line /g)?.length ?? 0;
    try {
      const { inSession } = await rawSession(served.url, "2025-11-25");
      const stream = await request(`http://127.0.0.1:${relay.port}/mcp`, {
        // Through the relay as through a proxy that keeps the Host the client asked for.
        headers: { host: new URL(served.url).host, accept: "text/event-stream", ...inSession },
      });
      expect(stream.statusCode).toBe(200);
      const read = (async () => {
        for await (const chunk of stream.body) heard += chunk.toString();
      })();
      read.catch(() => undefined);
      const session = opened.mock.results[0]?.value as ReturnType<App["session"]>;
      const { transport } = session.server.server as unknown as { transport: WebStandardStreamableHTTPServerTransport };
      const unread = () => notificationsUnread(transport);
      let sent = 0;
      const line = (size: number) =>
        session.server.server.sendLoggingMessage({ level: "info", data: `line ${++sent} ${"x".repeat(size)}` });
      await line(10);
      await expect.poll(lines).toBe(1);
      // From here the link carries what the client is sent only as the test steps it.
      relay.hold();
      while (unread() === 0) {
        await line(2 ** 16);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Bursts, each of fewer messages than the session keeps, come faster than the link carries
      // them, while what the link carries the client reads: each burst waits behind the last, until
      // more wait than the session keeps. How many the link takes at a time is the kernel's to say.
      const BURST = 400;
      let most = 0;
      for (let burst = 0; burst < 10 && most <= 500 && served.sessions.streams() > 0; burst++) {
        for (let i = 0; i < BURST; i++) await line(2 ** 13);
        most = Math.max(most, unread());
        // The client reads until its connection takes some of what waits.
        const waiting = unread();
        while (served.sessions.streams() > 0 && unread() >= waiting) {
          await relay.forward(2 ** 16);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      // More waited than the session keeps, yet the stream stayed open.
      expect(most).toBeGreaterThan(500);
      expect(served.stderr()).not.toMatch(/closed its notification stream/);
      expect(served.sessions.streams()).toBe(1);
    } finally {
      await relay.close();
      await served.close();
    }
  });

  test("a stream whose client reads on through a burst of events is never closed, however many wait at once", async () => {
    const served = await servedWithErp();
    const BURST = 2_000;
    try {
      const { inSession, post } = await rawSession(served.url, "2025-11-25");
      const subscribed = await post({
        jsonrpc: "2.0",
        id: 2,
        method: "resources/subscribe",
        params: { uri: "events://recent" },
      });
      await subscribed.body.dump();
      const updates = (events: { data: string }[]) =>
        events.filter(({ data }) => data.includes("notifications/resources/updated")).length;
      const heard = readStream(
        `${served.url}/mcp`,
        { accept: "text/event-stream", ...inSession },
        (events) => updates(events) >= BURST,
      );
      heard.catch(() => undefined);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      // A webhook sender's burst: its events' notifications are queued at once, many more than the
      // session keeps, while the client reads them as they come.
      await Promise.all(
        Array.from({ length: BURST }, (_, i) =>
          served.app.store?.add({
            source: "erp",
            type: "invoice.created",
            scheme: "hmac-sha256",
            dedupeId: `burst-${i}`,
            headers: {},
            body: Buffer.from("{}"),
            receivedAt: clock.now(),
          }),
        ),
      );
      expect(updates(await heard)).toBe(BURST);
      expect(served.stderr()).not.toMatch(/closed its notification stream/);
    } finally {
      await served.close();
    }
  });

  test("a client that opens its stream again while the server still holds the one it lost hears on the new one", async () => {
    const served = await servedWithErp();
    const { hostname, port } = new URL(served.url);
    const lost = openSocket(Number(port), hostname);
    let heardOnLost = "";
    lost.setEncoding("utf8").on("data", (chunk: string) => {
      heardOnLost += chunk;
    });
    try {
      const { session, stream } = await subscribedSession(served.url);
      // A stream whose connection died where the server cannot see it (at a proxy, on a network
      // the client left): to the server it is open.
      lost.write(
        `GET /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${session}\r\nMcp-Protocol-Version: 2025-06-18\r\n\r\n`,
      );
      await expect.poll(() => heardOnLost).toMatch(/^HTTP\/1\.1 200/);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      // A GET the transport refuses (no event stream accepted, a version it does not speak) ends nothing.
      for (const headers of [
        { ...stream, accept: "application/json" },
        { ...stream, "mcp-protocol-version": "1999-01-01" },
      ]) {
        const refused = await request(`${served.url}/mcp`, { headers });
        expect(refused.statusCode).toBeGreaterThanOrEqual(400);
        await refused.body.dump();
      }
      expect(heardOnLost).not.toMatch(/\r\n0\r\n\r\n$/);
      expect(served.sessions.streams()).toBe(1);
      const heard = readStream(`${served.url}/mcp`, stream, (events) =>
        events.some((e) => e.data.includes("resources/updated")),
      );
      // Refused, it fails when awaited below; not before, unheard.
      heard.catch(() => undefined);
      // The one it replaces is ended: it carries nothing more.
      await expect.poll(() => heardOnLost).toMatch(/\r\n0\r\n\r\n$/);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "reopened-1",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      expect((await heard).map((e) => JSON.parse(e.data).method)).toContain("notifications/resources/updated");
      expect(heardOnLost).not.toContain("resources/updated");
    } finally {
      lost.destroy();
      await served.close();
    }
  });
});

test("a call's log lines come on the call's own stream; the session's GET stream carries what no call said", async () => {
  const served = await inProcess(
    { maxSessions: 10, idleMs: 60_000 },
    {
      WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
      ...ERP_ENV,
    },
  );
  try {
    const opened = await initializeAt(served.url);
    const inSession = {
      "mcp-session-id": opened.headers["mcp-session-id"] as string,
      "mcp-protocol-version": "2025-06-18",
    };
    await opened.body.dump();
    const post = async (message: object) => {
      const answer = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify(message),
        headers: { ...mcpHeaders, ...inSession },
      });
      const text = await answer.body.text();
      return [...text.matchAll(/^data: (.+)$/gm)].map((data) => JSON.parse(data[1] as string));
    };
    await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    // Read until a new event's list change, which no call sends.
    const onStream = readStream(`${served.url}/mcp`, { accept: "text/event-stream", ...inSession }, (events) =>
      events.some((e) => e.data.includes("notifications/resources/list_changed")),
    );
    await expect.poll(() => served.sessions.streams()).toBe(1);
    // What waiter said at start is the session's, not the request's that asked for it.
    expect(await post({ jsonrpc: "2.0", id: 2, method: "logging/setLevel", params: { level: "debug" } })).toEqual([
      { jsonrpc: "2.0", id: 2, result: {} },
    ]);
    const call = await post({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "currency_rates", arguments: { date: "2026-03-02", symbols: ["USD"] } },
    });
    expect(call).toEqual([
      {
        jsonrpc: "2.0",
        method: "notifications/message",
        params: { level: "debug", logger: "currency", data: expect.stringMatching(/^currency_rates answered in/) },
      },
      expect.objectContaining({ id: 3, result: expect.objectContaining({ structuredContent: expect.anything() }) }),
    ]);
    await served.app.store?.add({
      source: "erp",
      type: "invoice.created",
      scheme: "hmac-sha256",
      dedupeId: "after-call",
      headers: {},
      body: Buffer.from("{}"),
      receivedAt: clock.now(),
    });
    const streamed = (await onStream).map((e) => JSON.parse(e.data));
    expect(streamed.at(-1)).toMatchObject({ method: "notifications/resources/list_changed" });
    const logged = streamed.filter((m) => m.method === "notifications/message").map((m) => m.params.data);
    expect(logged).toContainEqual(expect.stringMatching(/^toolset notify is off/));
    expect(logged).not.toContainEqual(expect.stringMatching(/answered in/));
  } finally {
    await served.close();
  }
});

describe("cancellation", () => {
  const withStore = ERP_ENV;
  const wait = { name: "events_wait", arguments: { timeout_s: 50 } };

  test("a session whose client cancels call after call keeps nothing of them: its answers cost no more as the cancels add up", async () => {
    // The session's transport, as the SDK keeps it: which stream carries each request's answer.
    const transports = new Set<WebStandardStreamableHTTPServerTransport>();
    const handleRequest = WebStandardStreamableHTTPServerTransport.prototype.handleRequest;
    const spy = vi
      .spyOn(WebStandardStreamableHTTPServerTransport.prototype, "handleRequest")
      .mockImplementation(function (this: WebStandardStreamableHTTPServerTransport, ...args) {
        transports.add(this);
        return handleRequest.apply(this, args);
      });
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
    try {
      const client = await connect(served.url);
      // Polled often: the default 50 ms between looks, twice for each of 20 calls, was most of the test.
      const often = { interval: 2 };
      for (let i = 0; i < 20; i++) {
        const cancel = new AbortController();
        const cancelled = client.callTool(wait, undefined, { signal: cancel.signal });
        await expect.poll(() => served.sessions.answering(), often).toBe(2);
        cancel.abort();
        await expect(cancelled).rejects.toThrow(/aborted/);
        await expect.poll(() => served.sessions.answering(), often).toBe(1);
      }
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      const [transport] = transports;
      const held = transport as unknown as {
        _requestToStreamMapping: Map<unknown, unknown>;
        _resumableStreams: Set<unknown>;
      };
      expect(held._requestToStreamMapping.size).toBe(0);
      // Nor the streams a client could have come back to.
      expect(held._resumableStreams.size).toBe(0);
    } finally {
      spy.mockRestore();
      await served.close();
    }
  });

  test("a call its client cancels ends its stream at once; the SDK's client, back for the rest of a stream whose call is over, is told there is none", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
    try {
      const resumed: number[] = [];
      const transport = new StreamableHTTPClientTransport(new URL(`${served.url}/mcp`), {
        // The SDK's client comes back a second after a call's stream ends without its result: here at once.
        reconnectionOptions: {
          initialReconnectionDelay: 1,
          maxReconnectionDelay: 1,
          reconnectionDelayGrowFactor: 1,
          maxRetries: 2,
        },
        fetch: async (url, init) => {
          const answer = await fetch(url, init);
          if (new Headers(init?.headers).has("last-event-id")) resumed.push(answer.status);
          return answer;
        },
      });
      const client = new Client({ name: "waiter-tests", version: "0.0.0" });
      await client.connect(transport);
      clients.push(client);
      // Its notification stream.
      await expect.poll(() => served.sessions.answering()).toBe(1);
      const cancel = new AbortController();
      const cancelled = client.callTool(wait, undefined, { signal: cancel.signal });
      await expect.poll(() => served.sessions.answering()).toBe(2);
      cancel.abort();
      await expect(cancelled).rejects.toThrow(/aborted/);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      // A call answered with an error: the SDK's client comes back for a result after it too.
      await expect(client.callTool({ name: "no_such_tool" })).rejects.toThrow(/Unknown tool/);
      await expect.poll(() => resumed).toEqual([204, 204]);
      expect(served.sessions.answering()).toBe(1);

      // A session its client ends during a wait ends the wait's stream with the rest.
      const ended = client.callTool(wait).catch(() => "ended");
      await expect.poll(() => served.sessions.answering()).toBe(2);
      await transport.terminateSession();
      await expect.poll(() => served.sessions.answering()).toBe(0);
      await client.close();
      expect(await ended).toBe("ended");
    } finally {
      await served.close();
    }
  });

  test.each([
    ["_requestToStreamMapping", "a cancelled call's stream is not ended at once"],
    ["_requestResponseMap", "a call cancelled in a batch does not end the batch's stream"],
    ["_resumableStreams", "a call whose answer is lost with its stream's connection is neither told so nor logged"],
  ])(
    "with an SDK whose transport names its %s otherwise, a session serves calls, cancels and dropped streams, and the log says once what goes without it",
    async (field, without) => {
      const undo = namedOtherwise(field);
      const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
      const left = new AbortController();
      try {
        // A client of MCP 2025-06-18 is sent no event id before the answer: a dropped stream loses it.
        const { post } = await rawSession(served.url, "2025-06-18");
        const call = (id: number, params: object, signal?: AbortSignal) =>
          post({ jsonrpc: "2.0", id, method: "tools/call", params }, signal ? { signal } : {});
        const dropped = new AbortController();
        await call(2, wait, dropped.signal);
        dropped.abort();
        await expect.poll(() => served.sessions.answering()).toBe(0);
        await call(3, wait, left.signal);
        const cancel = await post({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 3 } });
        expect(cancel.statusCode).toBe(202);
        await cancel.body.dump();
        const answered = await call(4, { name: "webhooks_sources", arguments: {} });
        expect(answered.statusCode).toBe(200);
        expect(await answered.body.text()).toMatch(/"result":.*"id":4}/);
        expect((await rawSession(served.url, "2025-06-18")).inSession["mcp-session-id"]).toBeTruthy();
        expect(served.stderr().match(/the MCP SDK's transport holds no .*/g)).toEqual([
          expect.stringContaining(
            `holds no ${field}, which waiter reads (as of @modelcontextprotocol/sdk 1.32.2): sessions are served, but ${without}`,
          ),
        ]);
      } finally {
        left.abort();
        await served.close();
        undo();
      }
    },
  );

  test("a call cancelled in a JSON-RPC batch ends the batch's stream once its other calls are answered, sent as a stream or as JSON", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
    try {
      const { post } = await rawSession(served.url, "2025-03-26");
      const batch = (first: number) => [
        { jsonrpc: "2.0", id: first, method: "tools/call", params: wait },
        { jsonrpc: "2.0", id: first + 1, method: "tools/call", params: wait },
      ];
      const streamedText = post(batch(2)).then((answer) => answer.body.text());
      // Answered in JSON, it is sent when the batch's stream ends.
      const asJsonText = post(batch(4), { accept: "application/json" }).then((answer) => answer.body.text());
      await expect.poll(() => served.sessions.answering()).toBe(2);
      for (const requestId of [2, 4]) {
        const cancel = await post({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId } });
        expect(cancel.statusCode).toBe(202);
        await cancel.body.dump();
      }
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "batch-cancelled",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      // The other calls answered, nothing holds the streams open.
      await expect.poll(() => served.sessions.answering(), { timeout: 2_000 }).toBe(0);
      const answers = [...(await streamedText).matchAll(/^data: (.+)$/gm)].map((data) => JSON.parse(data[1] as string));
      expect(answers.filter((m) => "id" in m)).toEqual([
        expect.objectContaining({ id: 3, result: expect.objectContaining({ structuredContent: expect.anything() }) }),
      ]);
      expect(JSON.parse(await asJsonText)).toEqual([
        expect.objectContaining({ id: 5, result: expect.objectContaining({ structuredContent: expect.anything() }) }),
        expect.objectContaining({
          id: 4,
          error: expect.objectContaining({ message: expect.stringMatching(/cancelled/) }),
        }),
      ]);
    } finally {
      await served.close();
    }
  });

  test("a notifications/cancelled sent with an id is refused and cancels nothing: the call it names is still answered", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
    try {
      const { post } = await rawSession(served.url, "2025-03-26");
      const waiting = post({ jsonrpc: "2.0", id: 2, method: "tools/call", params: wait }).then((answer) =>
        answer.body.text(),
      );
      await expect.poll(() => served.sessions.answering()).toBe(1);
      const refused = await post({
        jsonrpc: "2.0",
        id: 3,
        method: "notifications/cancelled",
        params: { requestId: 2 },
      });
      expect(await refused.body.text()).toMatch(
        /"code":-32600,"message":"Invalid Request: \\"notifications\/cancelled\\" is a notification/,
      );
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "cancel-with-id",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      expect(await waiting).toMatch(/"id":2/);
    } finally {
      await served.close();
    }
  });

  test("a request that takes the id of one still under way in its session is refused by that id; the one under way is still answered", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
    try {
      const { post } = await rawSession(served.url, "2025-03-26");
      const waiting = post({ jsonrpc: "2.0", id: 7, method: "tools/call", params: wait }).then((answer) =>
        answer.body.text(),
      );
      await expect.poll(() => served.sessions.answering()).toBe(1);
      const refused = await post({ jsonrpc: "2.0", id: 7, method: "ping" });
      expect(refused.statusCode).toBe(400);
      const sendAnother = "MCP has each request of a session take an id of its own: send it with another";
      expect(await refused.body.json()).toEqual({
        jsonrpc: "2.0",
        id: 7,
        error: {
          code: -32600,
          message: `Invalid Request: id 7 is that of a request of this session still under way; ${sendAnother}`,
        },
      });
      // A batch holding one: each of its requests is told, by its id, that none of it was done.
      const reusing = await post([
        { jsonrpc: "2.0", id: 12, method: "tools/list" },
        { jsonrpc: "2.0", id: 7, method: "ping" },
      ]);
      expect(reusing.statusCode).toBe(400);
      const underWay = `Invalid Request: id 7 is that of a request of this session still under way; ${sendAnother}; none of the batch was done`;
      expect(await reusing.body.json()).toEqual(
        [12, 7].map((id) => ({ jsonrpc: "2.0", id, error: { code: -32600, message: underWay } })),
      );
      // Nor may one POST's requests share an id.
      const twice = await post([
        { jsonrpc: "2.0", id: 8, method: "ping" },
        { jsonrpc: "2.0", id: 8, method: "tools/list" },
        { jsonrpc: "2.0", id: 13, method: "ping" },
      ]);
      expect(twice.statusCode).toBe(400);
      const shared = `Invalid Request: id 8 is that of another request of the same batch; ${sendAnother}; none of the batch was done`;
      expect(await twice.body.json()).toEqual(
        [8, 13].map((id) => ({ jsonrpc: "2.0", id, error: { code: -32600, message: shared } })),
      );
      // A request answered whose batch still runs is no longer under way.
      const batch = (
        await post([
          { jsonrpc: "2.0", id: 9, method: "ping" },
          { jsonrpc: "2.0", id: 10, method: "tools/call", params: wait },
        ])
      ).body[Symbol.asyncIterator]();
      let batchSaid = "";
      while (!batchSaid.includes('"id":9')) batchSaid += (await batch.next()).value.toString();
      const pinged = await post({ jsonrpc: "2.0", id: 9, method: "ping" });
      expect(pinged.statusCode).toBe(200);
      expect(await pinged.body.text()).toMatch(/"result":\{\},"jsonrpc":"2.0","id":9/);
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "id-reused",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const answers = [...(await waiting).matchAll(/^data: (.+)$/gm)].map((data) => JSON.parse(data[1] as string));
      expect(answers.filter((m) => "id" in m)).toEqual([
        expect.objectContaining({ id: 7, result: expect.objectContaining({ structuredContent: expect.anything() }) }),
      ]);
      for (let read = await batch.next(); !read.done; read = await batch.next()) batchSaid += read.value.toString();
      expect(batchSaid).toMatch(/"structuredContent".*"id":10/);
      await expect.poll(() => served.sessions.answering()).toBe(0);
    } finally {
      await served.close();
    }
  });

  test("a JSON-RPC batch's stream that drops after its first answer is resumed while its other calls run, and sent their answers", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
    try {
      const { inSession, post } = await rawSession(served.url, "2025-03-26");
      const dropped = new AbortController();
      const batch = await post(
        [
          { jsonrpc: "2.0", id: 2, method: "ping" },
          { jsonrpc: "2.0", id: 3, method: "tools/call", params: wait },
        ],
        { signal: dropped.signal },
      );
      // The ping's answer comes at once; then the stream drops while the wait runs.
      const first = (await batch.body[Symbol.asyncIterator]().next()).value.toString();
      expect(first).toContain('"id":2');
      dropped.abort();
      await expect.poll(() => served.sessions.answering()).toBe(0);
      const resumed = await request(`${served.url}/mcp`, {
        headers: {
          accept: "text/event-stream",
          ...inSession,
          "last-event-id": /^id: (.*)$/m.exec(first)?.[1] as string,
        },
      });
      expect(resumed.statusCode).toBe(200);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "batch-resumed",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const data = /^data: (.*)$/m.exec(await resumed.body.text())?.[1];
      expect(JSON.parse(data as string)).toMatchObject({ id: 3, result: { structuredContent: { timed_out: false } } });
    } finally {
      await served.close();
    }
  });

  test("a call's stream that drops is resumed while the call runs, after it has answered, and while the server stops: it is sent the answer and ended", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, withStore);
    const event = (n: number) =>
      served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: `resumed-call-${n}`,
        headers: {},
        body: Buffer.from(`{"n":${n}}`),
        receivedAt: clock.now(),
      });
    try {
      const { inSession, post } = await rawSession(served.url, "2025-11-25");
      /** A wait whose stream drops after its first event, the priming one that names the stream. */
      const waitThenDrop = async (id: number) => {
        const dropped = new AbortController();
        const call = await post({ jsonrpc: "2.0", id, method: "tools/call", params: wait }, { signal: dropped.signal });
        const first = (await call.body[Symbol.asyncIterator]().next()).value.toString();
        dropped.abort();
        await expect.poll(() => served.sessions.answering()).toBe(0);
        return /^id: (.*)$/m.exec(first)?.[1] as string;
      };
      const resume = (lastId: string) =>
        request(`${served.url}/mcp`, {
          headers: { accept: "text/event-stream", ...inSession, "last-event-id": lastId },
        });
      // The first event with data: a stream opened again first names where it stands, with none.
      const answerIn = (text: string) => {
        const data = /^data: (.+)$/m.exec(text)?.[1];
        return data ? JSON.parse(data) : undefined;
      };

      // Back while the call still waits: the answer comes on the resumed stream, which then ends.
      const running = await resume(await waitThenDrop(2));
      expect(running.statusCode).toBe(200);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      await event(1);
      const live = await running.body.text();
      expect(answerIn(live)).toMatchObject({ id: 2, result: { structuredContent: { timed_out: false } } });

      // Back once the call has answered: the answer, and the stream's end; back again, nothing.
      const away = await waitThenDrop(3);
      await event(2);
      const replayed = await resume(away);
      expect(replayed.statusCode).toBe(200);
      const text = await replayed.body.text();
      expect(answerIn(text)).toMatchObject({ id: 3, result: { structuredContent: { timed_out: false } } });
      const again = await resume(/^id: (.*)$/m.exec(text)?.[1] as string);
      expect(again.statusCode).toBe(204);
      await again.body.dump();
      expect(served.sessions.answering()).toBe(0);

      // Back while the server stops: it refuses a notification stream, not the call it lets finish.
      const stopping = await waitThenDrop(4);
      served.sessions.endStreams();
      const resumed = await resume(stopping);
      expect(resumed.statusCode).toBe(200);
      await expect.poll(() => served.sessions.answering()).toBe(1);
      await event(3);
      expect(answerIn(await resumed.body.text())).toMatchObject({
        id: 4,
        result: { structuredContent: { timed_out: false } },
      });
    } finally {
      await served.close();
    }
  });
});

/** Settings for waiter serve and waiter listen both on `port`, each on a data directory of its own. */
function onePortConfig(port: number) {
  return loadConfig(
    {
      env: {
        WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")),
        WAITER_LISTEN: `127.0.0.1:${port}`,
        WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}`,
        ...ERP_ENV,
      },
    },
    toolsets(),
  );
}

test("an address another program holds stops waiter serve and waiter listen, saying which setting to change", async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const { port } = holder.address() as AddressInfo;
  try {
    const config = () => onePortConfig(port);
    const quiet = new Log("error", () => {});
    const taken = `cannot listen on 127.0.0.1:${port}: EADDRINUSE: another program holds the port; stop it, or set`;
    // Side by side, each on a store of its own: each waits out the 1 s its question to the port's
    // holder, which never answers, is given.
    await Promise.all([
      expect(startServe(config(), quiet)).rejects.toThrow(`${taken} WAITER_LISTEN to another port`),
      expect(startWebhooks(config(), quiet)).rejects.toThrow(`${taken} WAITER_WEBHOOKS_LISTEN to another port`),
    ]);
    // Set in a config file, the address is named where it was set.
    const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
    const address = `127.0.0.1:${port}`;
    writeFileSync(file, JSON.stringify({ listen: address, webhooks: { listen: address } }));
    const fromFile = () =>
      loadConfig(
        {
          env: {
            WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")),
            ...ERP_ENV,
          },
          file,
        },
        toolsets(),
      );
    await Promise.all([
      expect(startServe(fromFile(), quiet)).rejects.toThrow(`${taken} listen in ${file} to another port`),
      expect(startWebhooks(fromFile(), quiet)).rejects.toThrow(`${taken} webhooks.listen in ${file} to another port`),
    ]);
  } finally {
    holder.close();
  }
});

test("waiter listen and serve on a port in use stop before they set up a store in a new data directory", async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const { port } = holder.address() as AddressInfo;
  const quiet = new Log("error", () => {});
  try {
    for (const start of [startWebhooks, startServe]) {
      const dataDir = join(mkdtempSync(join(tmpdir(), "waiter-serve-")), "new");
      const config = loadConfig(
        {
          env: {
            WAITER_DATA_DIR: dataDir,
            WAITER_LISTEN: `127.0.0.1:${port}`,
            WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}`,
            ...ERP_ENV,
          },
        },
        toolsets(),
      );
      await expect(start(config, quiet)).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
      expect(existsSync(dataDir)).toBe(false);
    }
  } finally {
    holder.close();
  }
});

test("waiter listen on an address this machine has not stops before it sets up a store, on port 0 too", async () => {
  for (const port of [8790, 0]) {
    const dataDir = join(mkdtempSync(join(tmpdir(), "waiter-serve-")), "new");
    const config = loadConfig(
      { env: { WAITER_DATA_DIR: dataDir, WAITER_WEBHOOKS_LISTEN: `192.0.2.1:${port}`, ...ERP_ENV } },
      toolsets(),
    );
    await expect(startWebhooks(config, new Log("error", () => {}))).rejects.toThrow(
      `cannot listen on 192.0.2.1:${port}: EADDRNOTAVAIL`,
    );
    expect(existsSync(dataDir)).toBe(false);
  }
});

test("a stop signal while waiter listen fails to start for another reason says that reason, with status 1", async () => {
  // A program that holds the port and never answers: waiter asks it who it is for 1 s, and the stop comes meanwhile.
  let asked: () => void = () => {};
  const asking = new Promise<void>((resolve) => {
    asked = resolve;
  });
  const holder = createServer(() => asked());
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const { port } = holder.address() as AddressInfo;
  try {
    const child = spawn(process.execPath, [CLI, "listen"], {
      env: {
        PATH: process.env.PATH ?? "",
        WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")),
        WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}`,
        ...ERP_ENV,
      },
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await asking;
    child.kill("SIGTERM");
    expect(await exited).toBe(1);
    expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE: another program holds the port`);
  } finally {
    holder.close();
  }
});

test("a stop asked for while waiter listen or serve starts ends the start before it takes the port", async () => {
  const port = await freePort();
  const config = () => onePortConfig(port);
  const quiet = new Log("error", () => {});
  // The SQLite store opens without a wait a stop ends: the start ends at its next step.
  const starting = () => ({ signal: AbortSignal.abort() });
  await expect(startServe(config(), quiet, starting())).rejects.toThrow(
    expect.objectContaining({ name: "AbortError" }),
  );
  await expect(startWebhooks(config(), quiet, starting())).rejects.toThrow(
    expect.objectContaining({ name: "AbortError" }),
  );
  // Neither took the port.
  const free = createServer();
  await new Promise<void>((resolve, reject) => free.once("error", reject).listen(port, "127.0.0.1", resolve));
  free.close();
});

test("a stop asked for as waiter listen or serve binds its port ends the start there: nothing is said to be served", async () => {
  const port = await freePort();
  for (const start of [startServe, startWebhooks]) {
    const lines: string[] = [];
    const log = new Log("info", (line) => lines.push(line));
    // The signal comes as the start turns to binding, as one sent while the listener's code loads.
    const controller = new AbortController();
    const starting = {
      signal: controller.signal,
      set step(step: string) {
        if (step.startsWith("binding")) controller.abort();
      },
    };
    const ended = await start(onePortConfig(port), log, starting).catch((err: unknown) => err);
    expect(ended).toBe(controller.signal.reason);
    expect(lines.filter((line) => /serving|listening|source erp/.test(line))).toEqual([]);
    // The port it had bound is let go.
    const free = createServer();
    await new Promise<void>((resolve, reject) => free.once("error", reject).listen(port, "127.0.0.1", resolve));
    await new Promise((closed) => free.close(closed));
  }
});

test("waiter listen and stdio warn of a public URL of plain http at a host other machines reach: the webhooks would cross the network unencrypted", async () => {
  const said = async (publicUrl: string) => {
    let lines = "";
    const running = await startWebhooks(
      loadConfig(
        {
          env: {
            WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")),
            WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
            WAITER_WEBHOOKS_PUBLIC_URL: publicUrl,
            ...ERP_ENV,
          },
        },
        toolsets(),
      ),
      new Log("notice", (line) => {
        lines += line;
      }),
    );
    await running.close();
    return lines;
  };
  expect(await said("http://hooks.example.com/")).toMatch(
    / warning +\[waiter\] WAITER_WEBHOOKS_PUBLIC_URL is http:\/\/hooks\.example\.com\/, plain http at a host other machines reach: the webhooks cross the network unencrypted, for anyone on the way to read; serve waiter behind HTTPS \(docs\/webhooks\.md#pointing-the-providers-at-waiter\) and set it to https:\/\/hooks\.example\.com\n/,
  );
  // The port given answers plain http, the listener's own or one mapped to it: HTTPS in front answers on 443.
  expect(await said("http://hooks.example.com:8080/in")).toContain(
    "plain http at a host other machines reach: the webhooks cross the network unencrypted, for anyone on the way to read; serve waiter behind HTTPS (docs/webhooks.md#pointing-the-providers-at-waiter) and set it to https://hooks.example.com/in\n",
  );
  for (const publicUrl of ["https://hooks.example.com", "http://127.0.0.1:8790"]) {
    expect(await said(publicUrl), publicUrl).not.toContain("plain http");
  }
  // The stdio mode's listener takes the same webhooks.
  const stdio = await startApp(
    {
      WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      WAITER_WEBHOOKS_PUBLIC_URL: "http://hooks.example.com",
      ...ERP_ENV,
    },
    { listener: true },
  );
  await stdio.app.close();
  expect(stdio.stderr()).toContain(
    "WAITER_WEBHOOKS_PUBLIC_URL is http://hooks.example.com, plain http at a host other machines reach: the webhooks cross the network unencrypted",
  );
});

test("waiter listen without automations says that the settings choosing the tools change nothing there", async () => {
  const config = (env: Record<string, string>, overrides: ConfigSources["overrides"] = {}) =>
    loadConfig(
      {
        env: {
          WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")),
          WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
          ...ERP_ENV,
          ...env,
        },
        overrides,
      },
      toolsets(),
    );
  const said = async (listening: Config) => {
    let lines = "";
    const running = await startWebhooks(
      listening,
      new Log("notice", (line) => {
        lines += line;
      }),
    );
    await running.close();
    return lines;
  };
  expect(
    await said(config({ WAITER_READ_ONLY: "true" }, { tools: "currency_convert", toolsets: "currency" })),
  ).toContain(
    "--toolsets, --tools and WAITER_READ_ONLY change nothing in waiter listen without automations, which serves no MCP and runs no automation: they choose the tools that MCP clients and automations call",
  );
  expect(await said(config({ WAITER_READ_ONLY: "false" }))).not.toContain("change nothing");
});

test("waiter listen says that serve's address, set to another than the listener's, is not the one it binds", async () => {
  const said = async (env: Record<string, string>, file?: string) => {
    let lines = "";
    const running = await startWebhooks(
      loadConfig(
        {
          env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")), ...ERP_ENV, ...env },
          ...(file ? { file } : {}),
        },
        toolsets(),
      ),
      new Log("notice", (line) => {
        lines += line;
      }),
    ).catch((err) => {
      if (!(err instanceof CannotStart)) throw err;
    });
    await running?.close();
    return lines;
  };
  // The listener's own address left at its default, 127.0.0.1:8790: held here (or by something
  // else), so that the start stops at its bind, said after the notice.
  const holder = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => holder.once("error", () => resolve()).listen(8790, "127.0.0.1", resolve));
  try {
    expect(await said({ WAITER_LISTEN: "127.0.0.1:9000" })).toContain(
      "WAITER_LISTEN is waiter serve's address, 127.0.0.1:9000, which waiter listen does not bind: it binds webhooks.listen (WAITER_WEBHOOKS_LISTEN), 127.0.0.1:8790",
    );
  } finally {
    holder.close();
  }
  // The image sets both variables, to 0.0.0.0:8790: its own WAITER_LISTEN beside a listener's
  // address the person set is none of theirs, and one they set (docker run -e) is.
  expect(await said({ WAITER_LISTEN: "0.0.0.0:8790", WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0" })).not.toContain(
    "waiter serve's address",
  );
  expect(await said({ WAITER_LISTEN: "0.0.0.0:9000", WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0" })).toContain(
    "WAITER_LISTEN is waiter serve's address, 0.0.0.0:9000, which waiter listen does not bind: it binds WAITER_WEBHOOKS_LISTEN, 127.0.0.1:0",
  );
  const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
  writeFileSync(file, JSON.stringify({ listen: "127.0.0.1:9000", webhooks: { listen: "127.0.0.1:0" } }));
  expect(await said({}, file)).toContain(
    `listen in ${file} is waiter serve's address, 127.0.0.1:9000, which waiter listen does not bind: it binds webhooks.listen in ${file}, 127.0.0.1:0`,
  );
  // The image sets both to one address.
  expect(await said({ WAITER_LISTEN: "127.0.0.1:0", WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0" })).not.toContain(
    "waiter serve's address",
  );
});

test("an assistant's waiter that receives webhooks says that serve's address, set to another, is not the one it binds", async () => {
  const said = async (env: Record<string, string>) => {
    const { app, stderr } = await startApp(
      { ...ERP_ENV, WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0", ...env },
      { listener: true },
    );
    await app.close();
    return stderr();
  };
  expect(await said({ WAITER_LISTEN: "127.0.0.1:9000" })).toContain(
    "WAITER_LISTEN is waiter serve's address, 127.0.0.1:9000, which an assistant's waiter does not bind: it binds WAITER_WEBHOOKS_LISTEN, 127.0.0.1:0",
  );
  expect(await said({ WAITER_LISTEN: "127.0.0.1:0" })).not.toContain("waiter serve's address");
});

test("an assistant's waiter reading the config file waiter serve reads is not told of serve's listen there at each start", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
  writeFileSync(file, JSON.stringify({ listen: "127.0.0.1:9000" }));
  const { app, stderr } = await startApp(
    { ...ERP_ENV, WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0" },
    { listener: true, file },
  );
  await app.close();
  expect(app.listener).toBeDefined();
  expect(stderr()).not.toContain("waiter serve's address");
});

test("a port an assistant's waiter or another waiter holds stops waiter listen and serve naming it, and how it lets the port go", async () => {
  const port = await freePort();
  const env = {
    WAITER_LISTEN: `127.0.0.1:${port}`,
    WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}`,
    ...ERP_ENV,
  };
  const quiet = new Log("error", () => {});
  const config = () =>
    loadConfig({ env: { ...env, WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-serve-")) } }, toolsets());
  // An assistant's waiter took the free port: it lets it go only when its assistant quits.
  const assistant = await startApp(env, { listener: true });
  try {
    expect(assistant.app.listener?.url).toBe(`http://127.0.0.1:${port}`);
    const held = `cannot listen on 127.0.0.1:${port}: EADDRINUSE: another assistant's waiter holds the port until its assistant quits; quit that assistant and start this again (an assistant's waiter with the automations configured leaves the port to waiter listen and serve), or set`;
    await expect(startWebhooks(config(), quiet)).rejects.toThrow(`${held} WAITER_WEBHOOKS_LISTEN to another port`);
    await expect(startServe(config(), quiet)).rejects.toThrow(`${held} WAITER_LISTEN to another port`);
  } finally {
    await assistant.app.close();
  }
  // A waiter listen runs there already.
  const listening = await startWebhooks(config(), quiet);
  try {
    await expect(startServe(config(), quiet)).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port}: EADDRINUSE: waiter listen holds the port; stop it, or set WAITER_LISTEN to another port`,
    );
  } finally {
    await listening.close();
  }
});

describe("bearer tokens", () => {
  test("no token or an unknown one gets 401 with a Bearer challenge; the token's name is logged, never its secret", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      // A request with no Bearer token is told to bring one, with no error: it sent no token to be
      // invalid (RFC 6750 §3.1). Its challenge still holds a parameter, as RFC 6750 §3 has every
      // Bearer challenge hold one, and strict parsers refuse a bare "Bearer". An unknown token is
      // invalid_token.
      for (const [authorization, challenge] of [
        [undefined, /^Bearer realm="waiter"$/],
        [`Basic ${OPS}`, /^Bearer realm="waiter"$/],
        [`DPoP ${OPS}`, /^Bearer realm="waiter"$/],
        ["Bearer not-a-known-token", /^Bearer error="invalid_token"/],
      ] as const) {
        const refused = await initializeAt(served.url, authorization ? { authorization } : {});
        expect(refused.statusCode, authorization).toBe(401);
        expect(refused.headers["www-authenticate"], authorization).toMatch(challenge);
        // Without OAuth there is no issuer to ask for a scope.
        expect(refused.headers["www-authenticate"]).not.toContain("scope=");
        await refused.body.dump();
      }
      const ops = await connect(served.url, OPS);
      expect(served.stderr()).toMatch(/MCP session \S+ opened with token ops/);
      // A write done is logged with the token it was done for: the operator's record of what agents change.
      const added = await served.app.store?.add({
        source: "erp",
        type: "payment.paid",
        scheme: "hmac-sha256",
        dedupeId: "audited-1",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      expect((await ops.callTool({ name: "events_ack", arguments: { ids: [added?.id] } })).isError).toBeFalsy();
      expect(served.stderr()).toMatch(new RegExp(`info .*events_ack done for ops: Acknowledged .*${added?.id}`));
      for (const secret of [OPS, VIEW]) expect(served.stderr()).not.toContain(secret);
    } finally {
      await served.close();
    }
  });

  test("at debug, each call's line names the token it was made with, as a failed call's does", async () => {
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...TOKENS, WAITER_LOG_LEVEL: "debug", WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1` },
    );
    try {
      const rates = { name: "currency_rates", arguments: { date: "2026-03-02", symbols: ["USD"] } };
      expect((await (await connect(served.url, OPS)).callTool(rates)).isError).toBeFalsy();
      expect((await (await connect(served.url, VIEW)).callTool(rates)).isError).toBeFalsy();
      expect(served.stderr().match(/currency_rates answered.*$/gm)).toEqual([
        expect.stringMatching(/^currency_rates answered for ops in \d+ ms$/),
        expect.stringMatching(/^currency_rates answered for viewer in \d+ ms$/),
      ]);
    } finally {
      await served.close();
    }
  });

  test("the log names every event a token acknowledges, in a call of a hundred as of one", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) {
        const added = await served.app.store?.add({
          source: "erp",
          type: "payment.paid",
          scheme: "hmac-sha256",
          dedupeId: `acked-in-bulk-${i}`,
          headers: {},
          body: Buffer.from("{}"),
          receivedAt: clock.now(),
        });
        ids.push(added?.id as string);
      }
      const ops = await connect(served.url, OPS);
      expect((await ops.callTool({ name: "events_ack", arguments: { ids } })).isError).toBeFalsy();
      const line =
        served
          .stderr()
          .split("\n")
          .find((l) => l.includes("events_ack done for ops")) ?? "";
      // Who acknowledged the last of them, a month later, is found as for the first.
      for (const id of ids) expect(line).toContain(id);
    } finally {
      await served.close();
    }
  });

  test("of two sessions that acknowledge one event at once, one acknowledges it and the other is told when it was", async () => {
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      const [first, second] = [await connect(served.url, OPS), await connect(served.url, OPS)];
      const added = await served.app.store?.add({
        source: "erp",
        type: "payment.paid",
        scheme: "hmac-sha256",
        dedupeId: "acked-twice",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const ack = { name: "events_ack", arguments: { ids: [added?.id] } };
      const both = await Promise.all([first.callTool(ack), second.callTool(ack)]);
      const acked = both.map((r) => r.structuredContent as { acked: string[]; already_acked: string[] });
      expect(acked.map((r) => r.acked.length).sort()).toEqual([0, 1]);
      const late = both[acked.findIndex((r) => r.already_acked.length === 1)] as { content: { text: string }[] };
      const stored = await served.app.store?.get(added?.id as string);
      expect(stored?.ackedAt).toMatch(/^2026-11-30T09:00:0/);
      expect(late.content[0]?.text).toBe(`Acknowledged 0. ${added?.id} was acknowledged at ${stored?.ackedAt}.`);
      // Asked again later, it is told the time it was acknowledged, not the time of asking.
      setClock("2026-11-30T09:05:00Z");
      const again = await second.callTool(ack);
      expect((again.structuredContent as { note?: string }).note).toBe(
        `${added?.id} was acknowledged at ${stored?.ackedAt}.`,
      );
      // Events acknowledged together are told once, with their time.
      const more = [];
      for (const n of [1, 2]) {
        more.push(
          await served.app.store?.add({
            source: "erp",
            type: "payment.paid",
            scheme: "hmac-sha256",
            dedupeId: `acked-together-${n}`,
            headers: {},
            body: Buffer.from("{}"),
            receivedAt: clock.now(),
          }),
        );
      }
      const ids = more.map((e) => e?.id as string);
      await first.callTool({ name: "events_ack", arguments: { ids } });
      const together = (await served.app.store?.get(ids[0] as string))?.ackedAt;
      const told = await second.callTool({ name: "events_ack", arguments: { ids: [added?.id, ...ids] } });
      expect((told.structuredContent as { note?: string }).note).toBe(
        `${added?.id} was acknowledged at ${stored?.ackedAt}. ${ids.join(", ")} were acknowledged at ${together}.`,
      );
    } finally {
      await served.close();
    }
  });

  test("a payment a token records is noted on the order with the token's name, which the shop's admin shows", async () => {
    const woo = await startWooCommerce();
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...TOKENS, WAITER_WOO_URL: woo.origin, WAITER_WOO_KEY: CONSUMER_KEY, WAITER_WOO_SECRET: CONSUMER_SECRET },
    );
    try {
      const ops = await connect(served.url, OPS);
      const id = WOO_IDS.orders.pending1999;
      const paid = await ops.callTool({
        name: "eshop_order_mark_paid",
        arguments: { id, transaction_id: "pi_3Nx1042" },
      });
      expect(paid.isError).toBeFalsy();
      // The shop writes every note as its API key's user: which of waiter's callers it was, only the note says.
      expect(woo.shop.order(id).notes.map((n) => n.note)).toContain(
        "Marked paid by waiter for ops (transaction pi_3Nx1042).",
      );
    } finally {
      await served.close();
      await woo.close();
    }
  });

  test("a write that crashes is logged with the token it was called with, as one that fails is", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    const store = served.app.store as NonNullable<typeof served.app.store>;
    const ack = vi.spyOn(store, "ack").mockRejectedValue(new TypeError("Cannot read properties of undefined"));
    try {
      const ops = await connect(served.url, OPS);
      const result = await ops.callTool({ name: "events_ack", arguments: { ids: ["01JD3Q6Z8W5M9R2T4V7X0Y1A2B"] } });
      expect(result.isError).toBe(true);
      // The operator asks the holder what they were doing: the write may have been made before the crash.
      expect(served.stderr()).toMatch(/error +\[events\] events_ack crashed for ops: TypeError: Cannot read/);
    } finally {
      ack.mockRestore();
      await served.close();
    }
  });

  test("a write token sees every tool; a read token the read-only ones; toolsets narrow further", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      const names = async (token: string) =>
        (await (await connect(served.url, token)).listTools()).tools.map((tool) => tool.name);
      const all = await names(OPS);
      const read = await names(VIEW);
      expect(all).toEqual(expect.arrayContaining(["events_ack", "currency_convert"]));
      expect(read).toContain("events_list");
      expect(read).not.toContain("events_ack");
      expect(await names(`rates-${VIEW}`)).toEqual([
        "currency_rates",
        "currency_convert",
        "currency_history",
        "currency_list",
      ]);
      // Nor do the event resources show a token narrowed to other toolsets what events_get would.
      const added = await served.app.store?.add({
        source: "erp",
        type: "payment.paid",
        scheme: "hmac-sha256",
        dedupeId: "narrowed-1",
        headers: {},
        body: Buffer.from('{"email":"buyer@example.com"}'),
        receivedAt: clock.now(),
      });
      const rates = await connect(served.url, `rates-${VIEW}`);
      expect(rates.getServerCapabilities()?.resources).toBeUndefined();
      await expect(rates.readResource({ uri: `events://event/${added?.id}` })).rejects.toThrow(/-32601/);
      expect((await (await connect(served.url, VIEW)).listResources()).resources.length).toBeGreaterThan(0);
      const opened = await initializeAt(served.url, { authorization: `Bearer ${VIEW}` });
      const session = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const ack = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "events_ack", arguments: {} } };
      const ping = { jsonrpc: "2.0", id: 3, method: "ping" };
      // Alone, or in a JSON-RPC batch among calls it may make.
      for (const body of [ack, [ping, ack]]) {
        const refused = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { ...mcpHeaders, authorization: `Bearer ${VIEW}`, "mcp-session-id": session },
        });
        expect(refused.statusCode).toBe(403);
        expect(refused.headers["www-authenticate"]).toBe('Bearer error="insufficient_scope", scope="waiter:write"');
        expect(await refused.body.json()).toEqual({
          error: "insufficient_scope",
          // In the words of WAITER_HTTP_TOKENS, which gave it: no OAuth scope its operator never wrote.
          error_description:
            "Token viewer may not call events_ack: its scope is read, and events_ack needs a token of scope write",
        });
      }
      // No scope lets a token call a tool outside its toolsets: its session serves none such, and says so.
      const narrowed = await initializeAt(served.url, { authorization: `Bearer rates-${VIEW}` });
      const narrowedSession = narrowed.headers["mcp-session-id"] as string;
      await narrowed.body.dump();
      for (const name of ["events_list", "events_ack"]) {
        const unknown = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name, arguments: {} } }),
          headers: {
            ...mcpHeaders,
            authorization: `Bearer rates-${VIEW}`,
            "mcp-session-id": narrowedSession,
            "mcp-protocol-version": "2025-06-18",
          },
        });
        expect(unknown.statusCode, name).toBe(200);
        expect(unknown.headers["www-authenticate"], name).toBeUndefined();
        const answer = JSON.parse(/^data: (.*)$/m.exec(await unknown.body.text())?.[1] ?? "{}");
        expect(answer.error, name).toMatchObject({
          code: -32602,
          message: expect.stringContaining(`Unknown tool "${name}"; tools/list names the tools served.`),
        });
      }
    } finally {
      await served.close();
    }
  });

  /** waiter in this process at 60 requests a minute a token, its clock held still and moved only by the test. */
  async function heldAtRate() {
    vi.useFakeTimers({ toFake: ["Date"] });
    setClock("2026-11-30T09:00:00Z");
    return inProcess({ maxSessions: 50, idleMs: 60_000 }, { ...TOKENS, WAITER_HTTP_REQUESTS_PER_MINUTE: "60" });
  }

  /** Closes what heldAtRate served, and lets its clock go. */
  async function letGo(served: Awaited<ReturnType<typeof inProcess>>) {
    vi.useRealTimers();
    await served.close();
    setClock();
  }

  test("a call a read token may not make, in a protocol version waiter does not speak, is told the version, not to come back with a write token", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      const opened = await initializeAt(served.url, { authorization: `Bearer ${VIEW}` });
      const session = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      // A token with the write scope would be refused the same call for its version: asked for
      // one first, its user would log in again for nothing.
      const refused = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "events_ack", arguments: {} },
        }),
        headers: {
          ...mcpHeaders,
          authorization: `Bearer ${VIEW}`,
          "mcp-session-id": session,
          "mcp-protocol-version": "1900-01-01",
        },
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.headers["www-authenticate"]).toBeUndefined();
      expect(await refused.body.json()).toMatchObject({
        id: 2,
        error: {
          code: -32000,
          message: expect.stringMatching(/^Bad Request: Unsupported protocol version: 1900-01-01 /),
        },
      });
    } finally {
      await served.close();
    }
  });

  test("past its rate a token gets 429 with the wait; other tokens go on, and it may call again after the wait", async () => {
    // The clock held still, moved only by the test: on a busy machine ten requests can take the
    // second that gives the token one more, and the eleventh would go.
    const served = await heldAtRate();
    const post = (token: string) => initializeAt(served.url, { authorization: `Bearer ${token}` });
    try {
      // A burst of a sixth of a minute's 60: ten.
      for (let i = 0; i < 10; i++) {
        const taken = await post(OPS);
        expect(taken.statusCode).toBe(200);
        await taken.body.dump();
      }
      const limited = await post(OPS);
      expect(limited.statusCode).toBe(429);
      expect(limited.headers["retry-after"]).toBe("1");
      // By the id of the initialize it refused, which its client ties the answer to.
      expect(await limited.body.json()).toMatchObject({
        id: 1,
        error: {
          message: expect.stringMatching(/Too many requests: Token ops may make 60 a minute; try again in 1 s/),
        },
      });
      const other = await post(VIEW);
      expect(other.statusCode).toBe(200);
      await other.body.dump();
      setClock(clock.now() + 1_000);
      const again = await post(OPS);
      expect(again.statusCode).toBe(200);
      await again.body.dump();
    } finally {
      await letGo(served);
    }
  });

  test("each call in a JSON-RPC batch counts against its token's rate, as the same calls sent one by one would", async () => {
    // The clock held still, moved only by the test: on a busy machine the batch's 100 calls can
    // take longer than the second that pays one of them back, and the wait told would be 91 s.
    const served = await heldAtRate();
    const post = (body: unknown, session: string) =>
      request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { ...mcpHeaders, authorization: `Bearer ${OPS}`, "mcp-session-id": session },
      });
    try {
      const opened = await initializeAt(served.url, { authorization: `Bearer ${OPS}` });
      const session = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const calls = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          jsonrpc: "2.0",
          id: 10 + i,
          method: "tools/call",
          params: { name: "webhooks_sources", arguments: {} },
        }));
      // Nine left of the burst of ten: a batch of 100 calls goes, as a burst's first request, and
      // is owed back before the token's next request: 91 calls at one a second.
      const batch = await post(calls(100), session);
      expect(batch.statusCode).toBe(200);
      await batch.body.dump();
      const next = await post(calls(1)[0], session);
      expect(next.statusCode).toBe(429);
      expect(next.headers["retry-after"]).toBe("92");
      await next.body.dump();
      setClock(clock.now() + 92_000);
      const later = await post(calls(1)[0], session);
      expect(later.statusCode).toBe(200);
      await later.body.dump();
    } finally {
      await letGo(served);
    }
  });

  test("a token past its rate may still cancel a call, end its session and open its stream: only requests count", async () => {
    const served = await heldAtRate();
    try {
      const opened = await initializeAt(served.url, { authorization: `Bearer ${OPS}` });
      const inSession = {
        ...mcpHeaders,
        authorization: `Bearer ${OPS}`,
        "mcp-session-id": opened.headers["mcp-session-id"] as string,
        "mcp-protocol-version": "2025-06-18",
      };
      await opened.body.dump();
      const post = (body: object) =>
        request(`${served.url}/mcp`, { method: "POST", body: JSON.stringify(body), headers: inSession });
      // The initialized notification costs nothing: the burst of ten holds nine more requests.
      const initialized = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
      expect(initialized.statusCode).toBe(202);
      await initialized.body.dump();
      for (let i = 0; i < 8; i++) {
        const listed = await post({ jsonrpc: "2.0", id: 10 + i, method: "tools/list" });
        expect(listed.statusCode).toBe(200);
        await listed.body.dump();
      }
      const waiting = await post({
        jsonrpc: "2.0",
        id: 50,
        method: "tools/call",
        params: { name: "events_wait", arguments: { timeout_s: 50 } },
      });
      expect(waiting.statusCode).toBe(200);
      const limited = await post({ jsonrpc: "2.0", id: 51, method: "tools/list" });
      expect(limited.statusCode).toBe(429);
      await limited.body.dump();
      // Its client gave up on the wait: the cancel is taken, and the call's stream ends unanswered.
      const cancel = await post({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 50 } });
      expect(cancel.statusCode).toBe(202);
      await cancel.body.dump();
      expect(await waiting.body.text()).not.toContain('"id":50');
      // The SDK's client does not open its stream again after a 429: it would hear nothing more.
      const stream = await request(`${served.url}/mcp`, {
        method: "GET",
        headers: { ...inSession, accept: "text/event-stream" },
      });
      expect(stream.statusCode).toBe(200);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      const ended = await request(`${served.url}/mcp`, { method: "DELETE", headers: inSession });
      expect(ended.statusCode).toBe(200);
      await ended.body.dump();
      await stream.body.dump();
      expect(served.sessions.count()).toBe(0);
    } finally {
      await letGo(served);
    }
  });

  test("a JSON-RPC batch in MCP 2025-06-18 or later, which takes none, is refused saying so to each of its requests by its id, and its calls cost no rate; in 2025-03-26 it is answered", async () => {
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess(
      { maxSessions: 50, idleMs: 60_000 },
      { ...TOKENS, WAITER_HTTP_REQUESTS_PER_MINUTE: "60" },
    );
    const calls = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        jsonrpc: "2.0",
        id: 10 + i,
        method: "tools/call",
        params: { name: "webhooks_sources", arguments: {} },
      }));
    const post = (body: unknown, inSession: Record<string, string>) =>
      request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { ...mcpHeaders, authorization: `Bearer ${OPS}`, ...inSession },
      });
    const opened = async (version: string) => {
      const answer = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "raw", version: "0" } },
        }),
        headers: { ...mcpHeaders, authorization: `Bearer ${OPS}` },
      });
      await answer.body.dump();
      return { "mcp-session-id": answer.headers["mcp-session-id"] as string, "mcp-protocol-version": version };
    };
    try {
      for (const version of ["2025-06-18", "2025-11-25"]) {
        const inSession = await opened(version);
        // More batches than a token's burst of 10 calls: were each to cost one, the last would be a 429.
        const batches = [
          ...Array.from({ length: 10 }, () => calls(100)),
          [{ jsonrpc: "2.0", method: "notifications/initialized" }],
        ];
        for (const batch of batches) {
          const refused = await post(batch, inSession);
          expect(refused.statusCode, version).toBe(400);
          const message = `Invalid Request: a JSON-RPC batch (an array), which MCP takes no longer from protocol 2025-06-18 on (this request's MCP-Protocol-Version is ${version}): send each message in a POST of its own`;
          // Each request told by its id, as over stdio: one told by id null its client cannot tie to
          // any, and waits out its own timeout for each. Notifications alone are owed no batch of
          // answers (JSON-RPC 2.0 §6): they get MCP's one error with no id.
          const ids = batch.flatMap((message) => ("id" in message ? [message.id] : []));
          const told = (id: number | null) => ({ jsonrpc: "2.0", id, error: { code: -32600, message } });
          expect(await refused.body.json(), version).toEqual(ids.length > 0 ? ids.map(told) : told(null));
        }
        // The 100 calls refused were not owed: a call goes at once.
        const call = await post(calls(1)[0], inSession);
        expect(call.statusCode, version).toBe(200);
        await call.body.dump();
      }
      const inSession = await opened("2025-03-26");
      const batch = await post(calls(2), inSession);
      expect(batch.statusCode).toBe(200);
      expect([...(await batch.body.text()).matchAll(/"id":(\d+)/g)].map((id) => id[1]).sort()).toEqual(["10", "11"]);
    } finally {
      await served.close();
      setClock();
    }
  });

  test("the refusals' log keeps runs for at most THROTTLED_KEYS callers, a dropped run's lines left out said", () => {
    setClock("2026-11-30T09:00:00Z");
    const lines: string[] = [];
    const refusals = throttled((line) => lines.push(line));
    try {
      refusals("caller 0 refused", "0");
      refusals("caller 0 refused again", "0");
      for (let i = 1; i < THROTTLED_KEYS; i++) refusals(`caller ${i} refused`, String(i));
      expect(lines).toHaveLength(THROTTLED_KEYS);
      // One caller more within the minute: the oldest run goes, saying the line it left out.
      refusals("a new caller refused", "new");
      expect(lines.slice(-2)).toEqual([
        "caller 0 refused again (1 more like it since the last line, the last 0 s ago)",
        "a new caller refused",
      ]);
      refusals("caller 0 refused a third time", "0");
      expect(lines.at(-1)).toBe("caller 0 refused a third time");
      // A caller refused again is kept: the one used longest ago makes room.
      refusals("caller 2 refused again", "2");
      refusals("another new caller refused", "another");
      refusals("caller 2 refused a third time", "2");
      expect(lines.at(-1)).toBe("another new caller refused");
      // A minute on, the runs whose minute is over make room.
      setClock(clock.now() + 60_000);
      refusals("caller 1 refused again", "1");
      refusals("one more new caller refused", "other");
      expect(lines.slice(-2)).toEqual(["caller 1 refused again", "one more new caller refused"]);
    } finally {
      setClock();
    }
  });

  test("a client sent no token looks for an OAuth login, and is told this waiter takes tokens, not that a proxy moved the paths", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    const told =
      'this waiter serve takes no OAuth login (http.oauth is not set): send one of its tokens (http.tokens) as "Authorization: Bearer <token>"';
    try {
      // The SDK's client, as the MCP Inspector runs it when no --header gives the token: after the
      // 401 it looks for the metadata, then registers at the server's origin.
      const login: OAuthClientProvider = {
        redirectUrl: "http://127.0.0.1:9/callback",
        clientMetadata: { redirect_uris: ["http://127.0.0.1:9/callback"], client_name: "inspector" },
        clientInformation: () => undefined,
        saveClientInformation: () => {},
        tokens: () => undefined,
        saveTokens: () => {},
        redirectToAuthorization: () => {},
        saveCodeVerifier: () => {},
        codeVerifier: () => "verifier",
      };
      const client = new Client({ name: "inspector", version: "0" });
      await expect(
        client.connect(new StreamableHTTPClientTransport(new URL(`${served.url}/mcp`), { authProvider: login })),
      ).rejects.toThrow(told);
      // Each place such a client looks answers so.
      await expectLoginRefused(served.url, told, [
        ["GET", "/.well-known/oauth-protected-resource/mcp"],
        ["GET", "/.well-known/oauth-protected-resource"],
        ["GET", "/.well-known/oauth-authorization-server"],
        ["GET", "/.well-known/openid-configuration"],
        ["GET", "/mcp/.well-known/openid-configuration"],
        ["POST", "/register"],
        ["GET", "/authorize"],
        ["POST", "/token"],
      ]);
      expect(served.stderr()).toMatch(
        / info +\[waiter\] MCP request got 404: it looked for an OAuth login at \/register, and this waiter takes tokens of http\.tokens only$/m,
      );
      expect(served.stderr()).not.toContain("must pass paths unchanged");
    } finally {
      await served.close();
    }
  });

  test("a browser page reads where it looked for a login is none, on a connection kept open", async () => {
    const page = "https://inspector.example";
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...TOKENS, WAITER_WEBHOOKS_ALLOWED_ORIGINS: page },
    );
    const told =
      'this waiter serve takes no OAuth login (http.oauth is not set): send one of its tokens (http.tokens) as "Authorization: Bearer <token>"';
    try {
      for (const [method, path] of [
        ["GET", "/.well-known/oauth-protected-resource/mcp"],
        ["GET", "/.well-known/oauth-authorization-server"],
        ["POST", "/register"],
        ["POST", "/token"],
      ] as const) {
        // The SDK's client sends its JSON, and MCP-Protocol-Version to the metadata: a browser asks first.
        const preflight = await request(`${served.url}${path}`, {
          method: "OPTIONS",
          headers: {
            origin: page,
            "access-control-request-method": method,
            "access-control-request-headers": method === "POST" ? "content-type" : "mcp-protocol-version",
          },
        });
        expect(preflight.statusCode, path).toBe(204);
        expect(preflight.headers["access-control-allow-origin"], path).toBe(page);
        await preflight.body.dump();
        const answer = await request(`${served.url}${path}`, {
          method,
          headers: { origin: page, "content-type": "application/json" },
          body: method === "POST" ? "{}" : undefined,
        });
        expect(answer.statusCode, path).toBe(404);
        expect(answer.headers["access-control-allow-origin"], path).toBe(page);
        // One with no body leaves its connection for the next; one whose body is unread closes it.
        expect(answer.headers.connection, path).toBe(method === "GET" ? "keep-alive" : "close");
        expect(((await answer.body.json()) as { error_description: string }).error_description, path).toBe(
          `not found: "${path}"; ${told}`,
        );
      }
    } finally {
      await served.close();
    }
  });

  test("a browser page reads the 404 of OAuth metadata a waiter serve without tokens has none of", async () => {
    // No webhooks.allowedOrigins: what is under /.well-known/ is public.
    const page = "https://inspector.example";
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 });
    try {
      for (const path of [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
        // OpenID's address after the issuer's path, where a client that takes /mcp for the issuer looks,
        // and after /MCP, which serves MCP as /mcp does.
        "/mcp/.well-known/openid-configuration",
        "/MCP/.well-known/openid-configuration",
      ]) {
        // The SDK's client sends MCP-Protocol-Version to the metadata: a browser asks first.
        const preflight = await request(`${served.url}${path}`, {
          method: "OPTIONS",
          headers: {
            origin: page,
            "access-control-request-method": "GET",
            "access-control-request-headers": "mcp-protocol-version",
          },
        });
        expect(preflight.statusCode, path).toBe(204);
        expect(preflight.headers["access-control-allow-origin"], path).toBe(page);
        await preflight.body.dump();
        const answer = await request(`${served.url}${path}`, {
          headers: { origin: page, "mcp-protocol-version": "2025-06-18" },
        });
        expect(answer.statusCode, path).toBe(404);
        expect(answer.headers["access-control-allow-origin"], path).toBe(page);
        await answer.body.dump();
      }
    } finally {
      await served.close();
    }
  });

  test("Bearer with no token after it, as a client sends it when the variable it takes the token from is unset, is told so", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      for (const authorization of ["Bearer ", "Bearer", "bearer   "]) {
        const refused = await initializeAt(served.url, { authorization });
        expect(refused.statusCode, authorization).toBe(401);
        const why =
          "The Authorization header carries no token after Bearer: check that the variable the client takes the token from is set";
        // A quoted-string with no quote or backslash inside (RFC 6750 §3).
        expect(refused.headers["www-authenticate"], authorization).toBe(
          `Bearer error="invalid_token", error_description="${why}"`,
        );
        expect(await refused.body.json()).toEqual({ error: "invalid_token", error_description: why });
      }
      expect(served.stderr()).toMatch(
        / info +\[waiter\] MCP request from 127\.0\.0\.1 got 401: its Authorization header carries no token after Bearer \(is the variable the client takes it from set\?\)$/m,
      );
    } finally {
      await served.close();
    }
  });

  test("a token after Bearer and more than one space is taken, as RFC 6750 has it; a header with more after the token is no token this server knows", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      const taken = await initializeAt(served.url, { authorization: `Bearer  ${OPS}` });
      expect(taken.statusCode).toBe(200);
      await taken.body.dump();
      // A token holds no space: the header's rest is no known token, not the token before the space.
      const refused = await initializeAt(served.url, { authorization: `Bearer ${OPS} ${VIEW}` });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers["www-authenticate"]).toBe(
        'Bearer error="invalid_token", error_description="The token is not one this server knows"',
      );
      await refused.body.dump();
      expect(served.stderr()).not.toContain("is no Bearer token");
    } finally {
      await served.close();
    }
  });

  test("Bearer named twice, as a client that adds it sends a token pasted with it, is told so, not that the token is unknown", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      for (const authorization of [`Bearer Bearer ${VIEW}`, `Bearer bearer  ${VIEW}`]) {
        const refused = await initializeAt(served.url, { authorization });
        expect(refused.statusCode).toBe(401);
        const why =
          "The Authorization header names Bearer twice: the client adds Bearer itself, so give it the token alone, without Bearer before it";
        expect(refused.headers["www-authenticate"]).toBe(`Bearer error="invalid_token", error_description="${why}"`);
        expect(await refused.body.json()).toEqual({ error: "invalid_token", error_description: why });
      }
      expect(served.stderr()).toMatch(
        / info +\[waiter\] MCP request from 127\.0\.0\.1 got 401: its Authorization header names Bearer twice \(the token was given to its client with Bearer before it\)$/m,
      );
      expect(served.stderr()).not.toContain(VIEW);
    } finally {
      await served.close();
    }
  });

  test("a token sent in the URL's query, which no MCP server takes, is told to go in the Authorization header, not that none was sent nor that the header beside it is empty", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      for (const name of ["access_token", "token"]) {
        // No Authorization header, or one empty after Bearer, which sends no token either.
        for (const authorization of [undefined, "Bearer ", "bearer   "]) {
          const refused = await request(`${served.url}/mcp?${name}=${VIEW}`, {
            method: "POST",
            body: initialize,
            headers: { ...mcpHeaders, ...(authorization === undefined ? {} : { authorization }) },
          });
          expect(refused.statusCode, name).toBe(401);
          // Still a request without a bearer token: its challenge carries no error (RFC 6750 §3.1).
          expect(refused.headers["www-authenticate"], name).toBe('Bearer realm="waiter"');
          expect(await refused.body.json(), name).toEqual({
            error_description: `The token was sent in the URL's query (${name}=), where this server takes none: send it as Authorization: Bearer <token> (MCP has a token sent in that header only), and replace it, as a URL is kept in logs on its way`,
          });
        }
        expect(served.stderr()).toContain(
          `MCP request from 127.0.0.1 got 401: it carries a token in the URL's query (${name}=), where none is taken (Authorization: Bearer <token>)`,
        );
      }
      expect(served.stderr()).not.toContain("carries no token after Bearer");
      expect(served.stderr()).not.toContain(VIEW);
    } finally {
      await served.close();
    }
  });

  test("a request refused for its token has its body read no further than a refused webhook's, then its connection closed", async () => {
    // Long enough that only the bytes can end it within the test's time.
    const lingerMaxBytes = 256 * 1024;
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000, timeouts: { lingerMs: 600_000, lingerMaxBytes, requestMs: 600_000 } },
      TOKENS,
    );
    // Half open, as a client still uploading is: the server's end of the connection does not end it.
    const socket = openSocket({ port: Number(new URL(served.url).port), host: "127.0.0.1", allowHalfOpen: true });
    try {
      let received = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        received += chunk;
      });
      socket.on("error", () => {});
      const closed = new Promise((resolve) => socket.once("close", resolve));
      const write = (bytes: string) => new Promise<boolean>((resolve) => socket.write(bytes, (err) => resolve(!err)));
      await write(
        `POST /mcp HTTP/1.1\r\nHost: ${new URL(served.url).host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      // A stranger's endless body: without a bound, read and dropped until the request timeout.
      const chunk = `4000\r\n${"x".repeat(0x4000)}\r\n`;
      let sent = 0;
      while (!socket.destroyed && sent < 64 * 1024 * 1024 && (await write(chunk))) sent += chunk.length;
      expect(received).toMatch(/^HTTP\/1\.1 401 /);
      expect(received).toMatch(/\r\nConnection: close\r\n/i);
      // The bound, and what the sockets' buffers on the way held.
      expect(sent).toBeLessThan(16 * 1024 * 1024);
      await closed;
    } finally {
      socket.destroy();
      await served.close();
    }
  });

  test("a client refused for its token is served on its next connection once it sends the right one", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    // One connection at a time, as a client that reuses the one it has.
    const agent = new Agent({ connections: 1 });
    try {
      const refused = await request(`${served.url}/mcp`, {
        dispatcher: agent,
        method: "POST",
        body: initialize,
        headers: { ...mcpHeaders, authorization: "Bearer not-a-token-of-this-server" },
      });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers.connection).toBe("close");
      await refused.body.dump();
      const fine = await request(`${served.url}/mcp`, {
        dispatcher: agent,
        method: "POST",
        body: initialize,
        headers: { ...mcpHeaders, authorization: `Bearer ${VIEW}` },
      });
      expect(fine.statusCode).toBe(200);
      await fine.body.dump();
    } finally {
      await agent.close();
      await served.close();
    }
  });

  test("a token in the URL's query besides the Authorization header is refused too, as RFC 6750 refuses two ways of sending one", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      for (const name of ["access_token", "token"]) {
        const refused = await request(`${served.url}/mcp?${name}=${VIEW}`, {
          method: "POST",
          body: initialize,
          headers: { ...mcpHeaders, authorization: `Bearer ${VIEW}` },
        });
        expect(refused.statusCode, name).toBe(400);
        const why = `The token was sent in the URL's query (${name}=) besides the Authorization header, where this server takes one: take it out of the URL, and replace the token, as a URL is kept in logs on its way`;
        expect(refused.headers["www-authenticate"], name).toBe(
          `Bearer error="invalid_request", error_description="${why}"`,
        );
        expect(await refused.body.json(), name).toEqual({ error: "invalid_request", error_description: why });
        expect(served.stderr()).toContain(
          `MCP request from 127.0.0.1 got 400: it carries a token in the URL's query (${name}=) besides its Authorization header`,
        );
      }
      expect(served.stderr()).not.toContain(VIEW);
      expect(served.stderr()).not.toContain("opened with token");
    } finally {
      await served.close();
    }
  });

  test("an empty token= in the URL's query is no token sent there: the Authorization header's is taken", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      for (const name of ["access_token", "token"]) {
        const fine = await request(`${served.url}/mcp?${name}=`, {
          method: "POST",
          body: initialize,
          headers: { ...mcpHeaders, authorization: `Bearer ${VIEW}` },
        });
        expect(fine.statusCode, name).toBe(200);
        await fine.body.dump();
        const tokenless = await request(`${served.url}/mcp?${name}=`, {
          method: "POST",
          body: initialize,
          headers: mcpHeaders,
        });
        expect(tokenless.statusCode, name).toBe(401);
        expect(await tokenless.body.json(), name).toEqual({ error_description: "Missing Authorization header" });
      }
    } finally {
      await served.close();
    }
  });

  test("a refused caller is logged as its client was told, a line a minute for each caller and reason, never with a token", async () => {
    // The clock held still, moved only by the test: on a busy machine twelve requests can take
    // the seconds that give the token more, and fewer of them would be refused.
    const served = await heldAtRate();
    const post = async (authorization?: string) => {
      const answer = await initializeAt(served.url, authorization ? { authorization } : {});
      await answer.body.dump();
      return answer.statusCode;
    };
    const refusals = () => served.stderr().match(/^.* got \d{3}: .*$/gm) ?? [];
    const guesses = [...Array(5).keys()].map((i) => `guess-${i}-0123456789abcdef0123456789abcdef`);
    try {
      // A flood of unknown tokens, whose callers are not known: one line.
      for (const guess of guesses) expect(await post(`Bearer ${guess}`)).toBe(401);
      expect(await post()).toBe(401);
      expect(await post(`Basic ${OPS}`)).toBe(401);
      // A burst of a sixth of a minute's 60: ten, then 429s.
      for (let i = 0; i < 12; i++) await post(`Bearer ${OPS}`);
      const opened = await initializeAt(served.url, { authorization: `Bearer ${VIEW}` });
      const session = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "events_ack", arguments: {} } };
      const beyond = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify(call),
        headers: { ...mcpHeaders, authorization: `Bearer ${VIEW}`, "mcp-session-id": session },
      });
      expect(beyond.statusCode).toBe(403);
      await beyond.body.dump();
      expect(refusals()).toEqual([
        // The address says which machine holds a stale token, or none.
        expect.stringMatching(
          / info +\[waiter\] MCP request from 127\.0\.0\.1 got 401: The token is not one this server knows$/,
        ),
        expect.stringMatching(
          / info +\[waiter\] MCP request from 127\.0\.0\.1 got 401: it carries no token \(Authorization: Bearer <token>\)$/,
        ),
        expect.stringMatching(
          / info .*MCP request from 127\.0\.0\.1 got 401: its Authorization header is no Bearer token/,
        ),
        expect.stringMatching(
          / info .*MCP request with token ops got 429: past http.requestsPerMinute \(60\); told to try again in 1 s$/,
        ),
        expect.stringMatching(
          / info .*MCP request with token viewer got 403: Token viewer may not call events_ack: its scope is read, and events_ack needs a token of scope write$/,
        ),
      ]);
      // A minute on, the next says how many like it were left out.
      setClock(clock.now() + 60_000);
      expect(await post(`Bearer ${guesses[0]}`)).toBe(401);
      expect(refusals().at(-1)).toMatch(
        /got 401: The token is not one this server knows \(and 4 more like it since the last line\)$/,
      );
      for (const secret of [OPS, VIEW, ...guesses]) expect(served.stderr()).not.toContain(secret);
    } finally {
      await letGo(served);
    }
  });

  test("a session answers only the token that opened it", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, TOKENS);
    try {
      const opened = await initializeAt(served.url, { authorization: `Bearer ${OPS}` });
      const id = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      const borrowed = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, authorization: `Bearer ${VIEW}`, "mcp-session-id": id },
      });
      expect(borrowed.statusCode).toBe(404);
      await borrowed.body.dump();
    } finally {
      await served.close();
    }
  });

  test("one token holds half the sessions at most: past that its idlest one is left to the store, and other tokens still get theirs", async () => {
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess({ maxSessions: 4, idleMs: 60 * 60_000 }, TOKENS);
    const opsSession = async () => {
      const opened = await initializeAt(served.url, { authorization: `Bearer ${OPS}` });
      await opened.body.dump();
      setClock(clock.now() + 60_000);
      return opened.headers["mcp-session-id"] as string;
    };
    const list = (id: string) =>
      request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, authorization: `Bearer ${OPS}`, "mcp-session-id": id },
      });
    try {
      // A connector that opens a session per chat and ends none.
      const [first, second] = [await opsSession(), await opsSession()];
      // The first is used again: the second is now the idlest.
      await (await list(first)).body.dump();
      const third = await opsSession();
      expect(served.stderr()).toContain(
        `MCP session ${second} left to the store to make room for a new session of ops, which holds 2: its next request takes it up again`,
      );
      expect(served.sessions.count()).toBe(2);
      // Not ended for every server: its client may be using it through another replica.
      const later = await list(second);
      expect(later.statusCode).toBe(200);
      await later.body.dump();
      expect(served.stderr()).toContain(`MCP session ${second} taken up from the store with token ops`);
      for (const id of [first, third]) {
        const answered = await list(id);
        expect(answered.statusCode).toBe(200);
        await answered.body.dump();
      }
      // The other half is for the other tokens.
      for (let i = 0; i < 2; i++) {
        const viewer = await initializeAt(served.url, { authorization: `Bearer ${VIEW}` });
        expect(viewer.statusCode).toBe(200);
        await viewer.body.dump();
      }
      expect(served.sessions.count()).toBe(4);
    } finally {
      setClock();
      await served.close();
    }
  });

  test("sessions a token takes up from the store count in its half too: one of its own makes room for them", async () => {
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess({ maxSessions: 4, idleMs: 60 * 60_000 }, TOKENS);
    const opsSession = async () => {
      const opened = await initializeAt(served.url, { authorization: `Bearer ${OPS}` });
      await opened.body.dump();
      setClock(clock.now() + 60_000);
      return opened.headers["mcp-session-id"] as string;
    };
    const list = async (id: string) => {
      const answered = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, authorization: `Bearer ${OPS}`, "mcp-session-id": id },
      });
      await answered.body.dump();
      setClock(clock.now() + 60_000);
      return answered.statusCode;
    };
    try {
      // Four sessions opened one after another: each past the second leaves its idlest to the store.
      const ids = [await opsSession(), await opsSession(), await opsSession(), await opsSession()];
      expect(served.sessions.count()).toBe(2);
      // Its client comes back to each of them: they are taken up, never beyond the token's half.
      for (const id of ids) expect(await list(id)).toBe(200);
      expect(served.sessions.count()).toBe(2);
      expect(served.stderr()).toMatch(
        /left to the store to make room for a session taken up by ops, which holds 2: its next request takes it up again/,
      );
    } finally {
      setClock();
      await served.close();
    }
    // With its half all listening on streams, the one it left is refused for now, and it is told why.
    const small = await inProcess({ maxSessions: 2, idleMs: 60 * 60_000 }, TOKENS);
    try {
      const opened = await initializeAt(small.url, { authorization: `Bearer ${OPS}` });
      const left = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      await connect(small.url, OPS);
      await expect.poll(() => small.sessions.streams()).toBe(1);
      const refused = await request(`${small.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: { ...mcpHeaders, authorization: `Bearer ${OPS}`, "mcp-session-id": left },
      });
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["retry-after"]).toBe("5");
      expect(JSON.stringify(await refused.body.json())).toMatch(
        /Token ops holds half the server's sessions, each with a call or its stream open or subscriptions the store has yet to keep; end one \(DELETE \/mcp\)/,
      );
      expect(small.stderr()).toMatch(/MCP request with token ops got 503: Token ops holds half the server's sessions/);
      expect(small.sessions.count()).toBe(1);
      // Ending it, as it was told to, needs no room: it is ended, here and in the store. A DELETE
      // in a version waiter does not speak is refused as such, and ends nothing.
      const end = (version: string) =>
        request(`${small.url}/mcp`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${OPS}`, "mcp-session-id": left, "mcp-protocol-version": version },
        });
      const bogus = await end("1900-01-01");
      expect(bogus.statusCode).toBe(400);
      await bogus.body.dump();
      expect(small.sessions.count()).toBe(1);
      const ended = await end("2025-06-18");
      expect(ended.statusCode).toBe(200);
      await ended.body.dump();
      expect(await small.app.store?.sessions.get(left)).toBeUndefined();
      expect(small.sessions.count()).toBe(1);
      const gone = await request(`${small.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }),
        headers: { ...mcpHeaders, authorization: `Bearer ${OPS}`, "mcp-session-id": left },
      });
      expect(gone.statusCode).toBe(404);
      await gone.body.dump();
    } finally {
      await small.close();
    }
  });

  test("with one token, the only caller, every session may be its own", async () => {
    const served = await inProcess(
      { maxSessions: 3, idleMs: 60 * 60_000 },
      { ...TOKENS, WAITER_HTTP_TOKENS: JSON.stringify([{ name: "team", secretEnv: "OPS_TOKEN", scope: "write" }]) },
    );
    try {
      for (let i = 0; i < 3; i++) {
        const opened = await initializeAt(served.url, { authorization: `Bearer ${OPS}` });
        expect(opened.statusCode).toBe(200);
        await opened.body.dump();
      }
      expect(served.sessions.count()).toBe(3);
      expect(served.stderr()).not.toMatch(/made room/);
    } finally {
      await served.close();
    }
  });

  test("a token whose sessions all hold their streams is told to end one", async () => {
    const served = await inProcess({ maxSessions: 2, idleMs: 60 * 60_000 }, TOKENS);
    try {
      await connect(served.url, OPS);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      const refused = await initializeAt(served.url, { authorization: `Bearer ${OPS}` });
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["retry-after"]).toBe("60");
      expect(JSON.stringify(await refused.body.json())).toMatch(
        /Token ops holds half the server's sessions, each with a call or its stream open or subscriptions the store has yet to keep; end one \(DELETE \/mcp\)/,
      );
      expect(served.stderr()).toMatch(/MCP request with token ops got 503: Token ops holds half the server's sessions/);
    } finally {
      await served.close();
    }
  });

  test("webhooks_sources gives senders serve's own address, which --listen sets", async () => {
    const { config, log } = await startApp(TOKENS);
    const { port, running } = await onFreePort(async (port) => ({
      port,
      running: await startServe({ ...config, core: { ...config.core, listen: { host: "127.0.0.1", port } } }, log),
    }));
    try {
      const client = await connect(running.url, OPS);
      const listed = await client.callTool({ name: "webhooks_sources", arguments: {} });
      expect(listed.structuredContent).toMatchObject({
        sources: [{ name: "erp", url: `http://127.0.0.1:${port}/webhooks/erp` }],
      });
      // The address to change is serve's own, not webhooks.listen, which serve does not bind.
      const { note } = listed.structuredContent as { note?: string };
      expect(note).toMatch(/^These URLs reach this machine alone \(WAITER_LISTEN is a loopback address and /);
    } finally {
      await running.close();
    }
  });

  test("webhooks_sources gives senders the port serve is bound at when --listen names port 0", async () => {
    const { config, log } = await startApp(TOKENS);
    const running = await startServe(
      { ...config, core: { ...config.core, listen: { host: "127.0.0.1", port: 0 } } },
      log,
    );
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      const client = await connect(running.url, OPS);
      const listed = await client.callTool({ name: "webhooks_sources", arguments: {} });
      expect(listed.structuredContent).toMatchObject({
        sources: [{ name: "erp", url: `${running.url}/webhooks/erp` }],
      });
    } finally {
      await running.close();
    }
  });

  test("with tokens any address may be served; a token whose secret is unset or short stops waiter", async () => {
    const { config, log, stderr } = await startApp(TOKENS);
    const running = await startServe(
      { ...config, core: { ...config.core, listen: { host: "0.0.0.0", port: 0 } } },
      log,
    );
    await running.close();
    // Bound to every address, it says so as its webhook sources' lines do, not as an address to call.
    const bound = `http://<this machine's address>:${new URL(running.url).port}`;
    expect(stderr()).toContain(`serving MCP on ${bound}/mcp, webhooks on ${bound}/webhooks/<source>;`);
    // Who may call, by name and scope; never a secret.
    expect(stderr()).toContain(
      "info    [waiter] MCP callers: 3 tokens of WAITER_HTTP_TOKENS: ops (scope write), viewer (scope read), rates (scope read, toolsets currency)\n",
    );
    expect(stderr()).not.toContain(OPS);
    const { VIEW_TOKEN: _, ...unset } = TOKENS;
    await expect(startApp(unset)).rejects.toThrow(
      "http token viewer: VIEW_TOKEN, which WAITER_HTTP_TOKENS at viewer.secretEnv names, is not set; set it in waiter's environment to the token",
    );
    await expect(startApp({ ...TOKENS, VIEW_TOKEN: "" })).rejects.toThrow(
      "http token viewer: VIEW_TOKEN is set but empty; it must hold the token",
    );
    await expect(startApp({ ...TOKENS, VIEW_TOKEN: "short" })).rejects.toThrow(
      /^http token viewer: VIEW_TOKEN is shorter than 32 characters/,
    );
    // A client sends a token as one word of visible ASCII after "Bearer": this one never matches.
    for (const [secret, what] of <[string, string][]>[
      [`${"a".repeat(20)} ${"b".repeat(20)}`, "a space"],
      [`${"a".repeat(20)}\t${"b".repeat(20)}`, "a tab"],
      [`${"a".repeat(20)}é${"b".repeat(20)}`, "é"],
    ]) {
      await expect(startApp({ ...TOKENS, VIEW_TOKEN: secret })).rejects.toThrow(
        `http token viewer: VIEW_TOKEN holds ${what}, which a client cannot send in a bearer token: a token is one word of visible ASCII characters; make one with \`openssl rand -hex 32\``,
      );
    }
    const misspelt = JSON.stringify([
      { name: "rates", secretEnv: "VIEW_TOKEN_RATES", scope: "read", toolsets: ["curency"] },
    ]);
    await expect(startApp({ ...TOKENS, WAITER_HTTP_TOKENS: misspelt })).rejects.toThrow(
      /^invalid setting WAITER_HTTP_TOKENS at rates\.toolsets: no toolset is named "curency" \(they are: events, webhooks, currency, /,
    );
    // A scope and a toolset in any case, as the settings' other words: Currency is currency.
    const capitalised = JSON.stringify([
      { name: "rates", secretEnv: "VIEW_TOKEN_RATES", scope: "Read", toolsets: ["Currency"] },
      { name: "ops", secretEnv: "OPS_TOKEN", scope: " WRITE" },
    ]);
    const {
      config: anyCase,
      log: anyCaseLog,
      stderr: anyCaseSaid,
    } = await startApp({
      ...TOKENS,
      WAITER_HTTP_TOKENS: capitalised,
    });
    await (await startServe(anyCase, anyCaseLog)).close();
    expect(anyCaseSaid()).toContain(
      "MCP callers: 2 tokens of WAITER_HTTP_TOKENS: rates (scope read, toolsets currency), ops (scope write)\n",
    );
    expect(anyCaseSaid()).not.toContain("is served no tool");
    // The token itself where its variable's name belongs: refused, and not repeated.
    const pasted = `tok_${"9".repeat(64)}`;
    const refusal = await startApp({
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: pasted, scope: "write" }]),
    }).then(
      () => "started",
      (err: Error) => err.message,
    );
    expect(refusal).toMatch(/at ops.secretEnv: it must name the environment variable that holds the token/);
    expect(refusal).not.toContain(pasted);
  });

  test("a token left no tool to call, its toolsets off or serving no read-only tool for a read token, is said at start, to the operator alone", async () => {
    const { config, log, stderr } = await startApp({
      WAITER_HTTP_TOKENS: JSON.stringify([
        { name: "ops", secretEnv: "OPS_TOKEN", scope: "write" },
        // The weather is off without WAITER_CONTACT; notify_send changes something.
        { name: "forecasts", secretEnv: "FORECASTS_TOKEN", scope: "read", toolsets: ["weather"] },
        { name: "notices", secretEnv: "NOTICES_TOKEN", scope: "read", toolsets: ["notify", "weather"] },
      ]),
      OPS_TOKEN: OPS,
      FORECASTS_TOKEN: VIEW,
      NOTICES_TOKEN: `notices-${VIEW}`,
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        ops: { type: "telegram", botTokenEnv: "BOT_TOKEN", chatIds: [-1001234567890] },
      }),
      BOT_TOKEN: "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
    });
    const running = await startServe(config, log);
    await running.close();
    const warnings = stderr().match(/^.* warning .*http token .*$/gm) ?? [];
    expect(warnings).toEqual([
      expect.stringMatching(/http token forecasts is served no tool: its toolsets \(weather\) serve no tool here$/),
      expect.stringMatching(
        /http token notices is served no tool: its scope is read, and its toolsets \(notify, weather\) serve no read-only tool$/,
      ),
    ]);
    // A client hears what waiter said at start when it sets its level: ops's must not hear of
    // the other tokens.
    const session = log.forSession();
    const heard: string[] = [];
    session.attachClient((_level, _logger, message) => heard.push(message));
    session.setClientLevel("debug");
    expect(heard).toContainEqual(expect.stringMatching(/^toolset weather is off/));
    expect(heard).not.toContainEqual(expect.stringContaining("http token"));
  });

  test("two tokens holding one secret stop waiter, named, in either order: the read token's holder would be taken for the write one's, or the write agent lose its writes", async () => {
    const tokens = (...list: object[]) => JSON.stringify(list);
    const dashboard = { name: "dashboard", secretEnv: "DASH_TOKEN", scope: "read" };
    const ops = { name: "ops", secretEnv: "OPS_TOKEN", scope: "write" };
    const refusal = (env: Record<string, string>) =>
      startApp(env).then(
        () => "started",
        (err: Error) => err.message,
      );
    // One `openssl rand -hex 32` pasted into two variables.
    for (const [first, second] of [
      [dashboard, ops],
      [ops, dashboard],
    ] as const) {
      const message = await refusal({ WAITER_HTTP_TOKENS: tokens(first, second), OPS_TOKEN: OPS, DASH_TOKEN: OPS });
      expect(message).toBe(
        `invalid setting WAITER_HTTP_TOKENS: tokens ${first.name} and ${second.name} hold the same secret (${first.secretEnv} and ${second.secretEnv} are equal), so waiter cannot tell which a caller holds; give each token a secret of its own, made with \`openssl rand -hex 32\``,
      );
    }
    // A token's line copied with its secretEnv unchanged.
    const copied = await refusal({
      WAITER_HTTP_TOKENS: tokens(ops, { ...dashboard, secretEnv: "OPS_TOKEN" }),
      OPS_TOKEN: OPS,
    });
    expect(copied).toMatch(/^invalid setting WAITER_HTTP_TOKENS: tokens ops and dashboard both read OPS_TOKEN, so /);
    expect(copied).not.toContain(OPS);
  });
});

describe("OAuth access tokens", () => {
  const PUBLIC = "http://127.0.0.1:1234";
  /**
   * The epoch second `span` ("5m", "-30s", "2h") from the clock's now, for a token's iat and exp:
   * jose reckons a span from the machine's time, which the server, checking by the clock, does not read.
   */
  const fromClock = (span = "0s") => {
    const [, count, unit] = /^(-?\d+)([smh])$/.exec(span) ?? [];
    if (unit === undefined) throw new Error(`fromClock: not a span: ${span}`);
    return Math.floor(clock.now() / 1000) + Number(count) * { s: 1, m: 60, h: 3600 }[unit as "s" | "m" | "h"];
  };
  let issuer: Fake;
  let sign: (
    claims: Record<string, unknown>,
    options?: { issuer?: string; audience?: string | string[]; expires?: string | null; subject?: null },
  ) => Promise<string>;
  let foreignKeySign: typeof sign;

  beforeAll(async () => {
    const keys = await generateKeyPair("ES256");
    const foreign = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    issuer = await startFake((request) => {
      if (request.path === "/.well-known/oauth-authorization-server") {
        return json(200, JSON.stringify({ issuer: issuer.origin, jwks_uri: `${issuer.origin}/jwks` }));
      }
      if (request.path === "/jwks") return json(200, JSON.stringify({ keys: [jwk] }));
      return json(404, "{}");
    });
    const signer =
      (key: Parameters<SignJWT["sign"]>[0]): typeof sign =>
      (claims, options = {}) => {
        const jwt = new SignJWT(claims)
          .setProtectedHeader({ alg: "ES256", kid: "k1" })
          .setIssuer(options.issuer ?? issuer.origin)
          .setAudience(options.audience ?? `${PUBLIC}/mcp`)
          .setIssuedAt(fromClock());
        // null: a token without sub.
        if (options.subject !== null) jwt.setSubject(String(claims.sub ?? "agent-7"));
        // null: a token without exp.
        return (options.expires === null ? jwt : jwt.setExpirationTime(fromClock(options.expires ?? "5m"))).sign(key);
      };
    sign = signer(keys.privateKey);
    foreignKeySign = signer(foreign.privateKey);
  });
  afterAll(() => issuer.close());

  /** Sets the clock `ms` before `authorization`'s token lapses: past its exp, at the end of the 60 s leeway. */
  const lapseIn = (authorization: string, ms: number) =>
    setClock((Number(decodeJwt(authorization.replace(/^Bearer /, "")).exp) + 60) * 1000 - ms);

  /**
   * Sets `authorization`'s token to lapse in a minute, on a timer the test moves: a stream opened
   * meanwhile is taken however long taking it takes, and lasts until `lapse`.
   */
  const lapsingSoon = (authorization: string) => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    lapseIn(authorization, 60_000);
  };
  /** Lets the token `lapsingSoon` set lapse now: the clock past its leeway, its streams' timers run. */
  const lapse = (authorization: string) => {
    lapseIn(authorization, -1);
    vi.advanceTimersByTime(60_000);
    vi.useRealTimers();
  };

  // The shop is configured so that there are tools that change something; none is called.
  const oauthEnv = () => ({
    WAITER_HTTP_OAUTH: JSON.stringify({ issuer: issuer.origin }),
    WAITER_WEBHOOKS_PUBLIC_URL: PUBLIC,
    WAITER_WOO_URL: "http://127.0.0.1:9",
    WAITER_WOO_KEY: "ck_oauth",
    WAITER_WOO_SECRET: "cs_oauth",
  });

  /**
   * An issuer that publishes `keys` (a 503 for them while `down` says so), a waiter serve that
   * takes its tokens, a token signed with a key under a key id, and the status a token gets.
   */
  const publishing = async (keys: object[], down = () => false) => {
    const published: Fake = await startFake((request) => {
      if (request.path === "/.well-known/oauth-authorization-server") {
        return json(200, JSON.stringify({ issuer: published.origin, jwks_uri: `${published.origin}/jwks` }));
      }
      if (request.path === "/jwks") return down() ? json(503, "{}") : json(200, JSON.stringify({ keys }));
      return json(404, "{}");
    });
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: published.origin }) },
    );
    // Without a kid, a token whose header names no key.
    const signedBy = (key: Parameters<SignJWT["sign"]>[0], kid?: string) =>
      new SignJWT({ scope: "waiter:read" })
        .setProtectedHeader(kid === undefined ? { alg: "ES256" } : { alg: "ES256", kid })
        .setIssuer(published.origin)
        .setAudience(`${PUBLIC}/mcp`)
        .setSubject("alice")
        .setExpirationTime(fromClock("1h"))
        .sign(key);
    const status = async (token: string) => {
      const answer = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      await answer.body.dump();
      return answer.statusCode;
    };
    return { issuer: published, served, signedBy, status };
  };

  test("the resource metadata names the issuer; a request without a token is pointed at it and told the scopes to ask for", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
        const metadata = await request(`${served.url}${path}`);
        expect(await metadata.body.json()).toEqual({
          resource: `${PUBLIC}/mcp`,
          authorization_servers: [issuer.origin],
          scopes_supported: ["waiter:read", "waiter:write"],
          bearer_methods_supported: ["header"],
          resource_name: "waiter",
        });
      }
      // MCP has a client ask for the scope the challenge names: those a session needs, as listed.
      // A request that carries no token, or another scheme's credentials, is told where to log in,
      // with no error: it sent no token to be invalid (RFC 6750 §3.1).
      for (const headers of [{}, { authorization: "Basic d2FpdGVyOndhaXRlcg==" }] as Record<string, string>[]) {
        const refused = await initializeAt(served.url, headers);
        expect(refused.statusCode).toBe(401);
        expect(refused.headers["www-authenticate"]).toBe(
          `Bearer scope="waiter:read waiter:write", resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp"`,
        );
        expect(await refused.body.json()).toEqual({
          error_description: headers.authorization
            ? "Invalid Authorization header format, expected 'Bearer TOKEN'"
            : "Missing Authorization header",
        });
      }
    } finally {
      await served.close();
    }
  });

  test("a client given /MCP in capitals is told the address OAuth names, /mcp, not pointed at metadata that names another", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      // Its client compares the metadata's resource with the URL it was given, and a token's aud
      // is compared exactly: …/MCP gets neither, whatever it sends.
      const token = await sign({ scope: "waiter:read" });
      for (const path of ["/MCP", "/Mcp/"]) {
        for (const headers of [mcpHeaders, { ...mcpHeaders, authorization: `Bearer ${token}` }]) {
          const refused = await request(`${served.url}${path}`, { method: "POST", body: initialize, headers });
          expect(refused.statusCode).toBe(404);
          expect(refused.headers["www-authenticate"]).toBeUndefined();
          expect(((await refused.body.json()) as { error: { message: string } }).error.message).toBe(
            `Not found: "${path}" is not this server's MCP address, which OAuth logins are for as written: connect to ${PUBLIC}/mcp`,
          );
        }
      }
    } finally {
      await served.close();
    }
  });

  test("a team's agent with one of http.tokens is served at /MCP in capitals beside OAuth, as without it", async () => {
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      {
        ...oauthEnv(),
        WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
        OPS_TOKEN: "ops-secret-0123456789abcdef0123456789",
      },
    );
    try {
      const opened = await request(`${served.url}/MCP`, {
        method: "POST",
        body: initialize,
        headers: { ...mcpHeaders, authorization: "Bearer ops-secret-0123456789abcdef0123456789" },
      });
      expect(opened.statusCode).toBe(200);
      await opened.body.dump();
      // A token it does not know is no login for /MCP either: one mistyped is told the path and that the token is refused.
      const refused = await request(`${served.url}/MCP`, {
        method: "POST",
        body: initialize,
        headers: { ...mcpHeaders, authorization: "Bearer ops-secret-0123456789abcdef012345678" },
      });
      expect(refused.statusCode).toBe(404);
      expect(((await refused.body.json()) as { error: { message: string } }).error.message).toBe(
        `Not found: "/MCP" is not this server's MCP address: connect to ${PUBLIC}/mcp, its path "/mcp" written letter for letter; and the token sent is not one this server knows`,
      );
      // An issuer's access token is told what OAuth logins are for, as without http.tokens.
      const login = await request(`${served.url}/MCP`, {
        method: "POST",
        body: initialize,
        headers: { ...mcpHeaders, authorization: `Bearer ${await sign({ scope: "waiter:read" })}` },
      });
      expect(((await login.body.json()) as { error: { message: string } }).error.message).toBe(
        `Not found: "/MCP" is not this server's MCP address, which OAuth logins are for as written: connect to ${PUBLIC}/mcp`,
      );
    } finally {
      await served.close();
    }
  });

  test("behind a path of the public URL, a client given …/MCP is told the path it asked for and the address to connect to", async () => {
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_WEBHOOKS_PUBLIC_URL: `${PUBLIC}/Waiter` },
    );
    try {
      const refused = await request(`${served.url}/Waiter/MCP?x=1`, {
        method: "POST",
        body: initialize,
        headers: mcpHeaders,
      });
      expect(refused.statusCode).toBe(404);
      expect(((await refused.body.json()) as { error: { message: string } }).error.message).toBe(
        `Not found: "/Waiter/MCP" is not this server's MCP address, which OAuth logins are for as written: connect to ${PUBLIC}/Waiter/mcp`,
      );
    } finally {
      await served.close();
    }
  });

  test("a client given the URL with a trailing slash, /mcp/, is pointed at metadata naming that URL, and its tokens for it are taken", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      // RFC 9728 §3.3: the resource the metadata names is the URL the client used, character for
      // character; a client that holds to it (VS Code's) refuses .../mcp for .../mcp/.
      const refused = await request(`${served.url}/mcp/`, { method: "POST", body: initialize, headers: mcpHeaders });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers["www-authenticate"]).toBe(
        `Bearer scope="waiter:read waiter:write", resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp/"`,
      );
      await refused.body.dump();
      const metadata = await request(`${served.url}/.well-known/oauth-protected-resource/mcp/`);
      expect(await metadata.body.json()).toMatchObject({ resource: `${PUBLIC}/mcp/` });
      // The URL without the slash is still described as it is.
      const bare = await request(`${served.url}/.well-known/oauth-protected-resource/mcp`);
      expect(await bare.body.json()).toMatchObject({ resource: `${PUBLIC}/mcp` });
      // Its client asks the issuer for a token for that resource (RFC 8707), which waiter takes.
      const token = await sign({ scope: "waiter:read" }, { audience: `${PUBLIC}/mcp/` });
      const opened = await request(`${served.url}/mcp/`, {
        method: "POST",
        body: initialize,
        headers: { ...mcpHeaders, authorization: `Bearer ${token}` },
      });
      expect(opened.statusCode).toBe(200);
      await opened.body.dump();
    } finally {
      await served.close();
    }
  });

  test("behind a path of the public URL, the metadata of …/mcp/ names …/mcp/ at either address a proxy passes it to", async () => {
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_WEBHOOKS_PUBLIC_URL: `${PUBLIC}/waiter` },
    );
    try {
      const refused = await request(`${served.url}/waiter/mcp/`, {
        method: "POST",
        body: initialize,
        headers: mcpHeaders,
      });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers["www-authenticate"]).toContain(
        `resource_metadata="${PUBLIC}/waiter/.well-known/oauth-protected-resource/mcp/"`,
      );
      await refused.body.dump();
      // As the proxy passes the path on, and as RFC 9728 §3.1 puts the well-known part before it.
      for (const path of [
        "/waiter/.well-known/oauth-protected-resource/mcp/",
        "/.well-known/oauth-protected-resource/waiter/mcp/",
      ]) {
        const metadata = await request(`${served.url}${path}`);
        expect(metadata.statusCode, path).toBe(200);
        expect(await metadata.body.json(), path).toMatchObject({ resource: `${PUBLIC}/waiter/mcp/` });
      }
    } finally {
      await served.close();
    }
  });

  test("a client that looks for the login on waiter itself, not at the issuer its metadata names, is told where it is, not that a proxy moved the paths", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    const told = `this waiter serve is no OAuth authorization server: log in at the issuer ${issuer.origin}, which its resource metadata, ${PUBLIC}/.well-known/oauth-protected-resource/mcp, names`;
    try {
      // Where a client of MCP 2025-03-26, which reads no resource metadata, looks: the server's
      // origin taken for the issuer, its metadata and its default endpoints.
      await expectLoginRefused(served.url, told, [
        ["GET", "/.well-known/oauth-authorization-server"],
        ["GET", "/.well-known/openid-configuration"],
        ["POST", "/register"],
        ["GET", "/authorize"],
        ["POST", "/token"],
      ]);
      expect(served.stderr()).toMatch(
        / info +\[waiter\] MCP request got 404: it looked for an OAuth login at \/register, on waiter, not at the issuer http:\/\/127\.0\.0\.1:\d+ \(http\.oauth\.issuer\): its client reads no resource metadata \(RFC 9728\), which MCP clients read from protocol 2025-06-18 on$/m,
      );
      expect(served.stderr()).not.toContain("must pass paths unchanged");
      // The resource metadata is still served.
      const metadata = await request(`${served.url}/.well-known/oauth-protected-resource/mcp`);
      expect(metadata.statusCode).toBe(200);
      await metadata.body.dump();
    } finally {
      await served.close();
    }
  });

  test("a page whose origin is allowed may call /mcp from a browser; any page may read the resource metadata", async () => {
    const page = "https://app.example.com";
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_WEBHOOKS_ALLOWED_ORIGINS: page },
    );
    const allowed = (headers: Record<string, unknown>) => headers["access-control-allow-origin"];
    try {
      const preflight = await request(`${served.url}/mcp`, {
        method: "OPTIONS",
        headers: {
          origin: page,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, mcp-protocol-version, mcp-method, mcp-name",
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(allowed(preflight.headers)).toBe(page);
      expect(preflight.headers["access-control-allow-methods"]).toBe("GET,POST,DELETE");
      // Every header MCP has a client send over Streamable HTTP; a browser refuses to send one not listed.
      expect(preflight.headers["access-control-allow-headers"]).toBe(
        "Authorization,Content-Type,Accept,Mcp-Session-Id,Mcp-Protocol-Version,Last-Event-ID,Mcp-Method,Mcp-Name",
      );
      // Kept by the browser a day (Firefox's most; Chromium keeps it 2 hours), not the 5 s it keeps
      // a preflight that says nothing, which would precede nearly every request.
      expect(preflight.headers["access-control-max-age"]).toBe("86400");
      await preflight.body.dump();
      // The challenge that sends the page to the metadata, the session's id once it has a token,
      // and when to come back after a 429 or a 503, which a browser hides from a page unless exposed.
      const refused = await initializeAt(served.url, { origin: page });
      expect(refused.statusCode).toBe(401);
      expect(allowed(refused.headers)).toBe(page);
      expect(refused.headers["access-control-expose-headers"]).toBe("WWW-Authenticate,Mcp-Session-Id,Retry-After");
      await refused.body.dump();
      const token = await sign({ scope: "waiter:read" });
      const opened = await initializeAt(served.url, { origin: page, authorization: `Bearer ${token}` });
      expect(opened.statusCode).toBe(200);
      expect(allowed(opened.headers)).toBe(page);
      expect(opened.headers["mcp-session-id"]).toBeDefined();
      await opened.body.dump();

      // Public, as the SDK serves it: also to a page no setting names.
      const elsewhere = "https://elsewhere.example";
      const path = `${served.url}/.well-known/oauth-protected-resource/mcp`;
      const asked = await request(path, {
        method: "OPTIONS",
        headers: { origin: elsewhere, "access-control-request-method": "GET" },
      });
      expect(asked.statusCode).toBe(204);
      expect(allowed(asked.headers)).toBe("*");
      await asked.body.dump();
      const metadata = await request(path, { headers: { origin: elsewhere } });
      expect(metadata.statusCode).toBe(200);
      expect(allowed(metadata.headers)).toBe("*");
      expect(await metadata.body.json()).toMatchObject({ scopes_supported: ["waiter:read", "waiter:write"] });

      // Such a page is refused at /mcp, told what to set; the webhook routes answer no page.
      const foreign = await initializeAt(served.url, { origin: elsewhere });
      expect(foreign.statusCode).toBe(403);
      expect(allowed(foreign.headers)).toBeUndefined();
      // A JSON-RPC error by id null, as the transport's every other refusal (MCP: "that has no id").
      expect(await foreign.body.json()).toEqual({
        jsonrpc: "2.0",
        error: {
          code: -32000,
          message:
            'refused: a request from a web page (Origin "https://elsewhere.example") that webhooks.allowedOrigins does not list; add it there if the page may call waiter (an MCP client that runs in a browser page)',
        },
        id: null,
      });
      // Logged as the listener of MCP it is here, not of webhooks alone.
      expect(served.stderr()).toMatch(
        / info .*\[waiter\] MCP and webhook listener refused POST "\/mcp" from 127\.0\.0\.1: a request from a web page \(Origin "https:\/\/elsewhere\.example"\)/,
      );
      const hook = await request(`${served.url}/webhooks/erp`, {
        method: "OPTIONS",
        headers: { origin: page, "access-control-request-method": "POST" },
      });
      expect(allowed(hook.headers)).toBeUndefined();
      await hook.body.dump();
    } finally {
      await served.close();
    }
  });

  test("a page whose origin is allowed reads the listener's refusals of /mcp too; a page not allowed reads none", async () => {
    const page = "https://app.example.com";
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { WAITER_WEBHOOKS_ALLOWED_ORIGINS: page, WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "2" },
    );
    const { hostname, port } = new URL(served.url);
    const held: ReturnType<typeof openSocket>[] = [];
    try {
      // A proxy in front that does not pass on the Host the page asked for: the page is told so.
      const misnamed = await initializeAt(served.url, { origin: page, host: "tools.example.com" });
      expect(misnamed.statusCode).toBe(403);
      expect(misnamed.headers["access-control-allow-origin"]).toBe(page);
      expect(misnamed.headers.vary).toBe("Origin");
      expect(await misnamed.body.json()).toMatchObject({
        jsonrpc: "2.0",
        error: { code: -32000, message: expect.stringMatching(/^refused: Host "tools.example.com"/) },
        id: null,
      });

      // The address holds its most connections: each request comes on a connection of its own.
      for (const _ of [1, 2]) {
        const socket = openSocket(Number(port), hostname);
        held.push(socket);
        await new Promise((connected) => socket.once("connect", connected));
      }
      const once = async (headers: Record<string, string>, method = "POST") => {
        const agent = new Agent();
        try {
          const answer = await request(`${served.url}/mcp`, {
            method,
            ...(method === "POST" ? { body: initialize } : {}),
            headers: { ...(method === "POST" ? mcpHeaders : {}), ...headers },
            dispatcher: agent,
          });
          return { ...answer, text: await answer.body.text() };
        } finally {
          await agent.close();
        }
      };
      const refused = await once({ origin: page });
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["access-control-allow-origin"]).toBe(page);
      expect(refused.headers.vary).toBe("Origin");
      // When to come back, which a browser shows a page only when exposed.
      expect(refused.headers["access-control-expose-headers"]).toBe("WWW-Authenticate,Mcp-Session-Id,Retry-After");
      expect(refused.headers["retry-after"]).toBe("5");
      expect(JSON.parse(refused.text)).toMatchObject({
        jsonrpc: "2.0",
        error: { code: -32000, message: expect.stringContaining("too many connections from this address") },
        id: null,
      });
      // The request's preflight is answered, so that the request comes and reads its 503; on a
      // connection of its own, as the address holds its most.
      const preflight = await once(
        { origin: page, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
        "OPTIONS",
      );
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers["access-control-allow-origin"]).toBe(page);
      expect(preflight.headers.connection).toBe("close");
      const foreign = await once({ origin: "https://elsewhere.example" });
      expect(foreign.statusCode).toBe(503);
      expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
      const foreignPreflight = await once(
        { origin: "https://elsewhere.example", "access-control-request-method": "POST" },
        "OPTIONS",
      );
      expect(foreignPreflight.statusCode).toBe(503);
      expect(foreignPreflight.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      for (const socket of held) socket.destroy();
      await served.close();
    }
  });

  test("the metadata names the issuer exactly as configured, with a trailing slash or without", async () => {
    // Auth0's issuer ends in a slash; RFC 8414 §3.3 has clients compare it character for character.
    for (const configured of ["https://tenant.eu.auth0.com/", "https://login.example.com"]) {
      const served = await inProcess(
        { maxSessions: 10, idleMs: 60_000 },
        { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: configured }) },
      );
      try {
        const metadata = await request(`${served.url}/.well-known/oauth-protected-resource/mcp`);
        expect(await metadata.body.json()).toMatchObject({ authorization_servers: [configured] });
      } finally {
        await served.close();
      }
    }
  });

  test("an issuer with a path whose metadata and tokens end it in a slash, configured without one, has its tokens taken", async () => {
    // Its metadata names it with the slash (taken, a trailing slash aside); its tokens' iss does too.
    const tenant: Fake = await startFake((request) =>
      request.path === "/.well-known/oauth-authorization-server/tenant"
        ? json(200, JSON.stringify({ issuer: `${tenant.origin}/tenant/`, jwks_uri: `${issuer.origin}/jwks` }))
        : json(404, "{}"),
    );
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: `${tenant.origin}/tenant` }) },
    );
    try {
      for (const iss of [`${tenant.origin}/tenant/`, `${tenant.origin}/tenant`]) {
        const token = await sign({ scope: "waiter:read" }, { issuer: iss });
        expect((await (await connect(served.url, token)).listTools()).tools.length, iss).toBeGreaterThan(0);
      }
    } finally {
      await served.close();
      await tenant.close();
    }
  });

  test("a public URL written otherwise than clients write it (capitals, its default port, an IDN) is named as they write it", async () => {
    // What a client parses the URL it was given to: host in lowercase and in punycode, no :443.
    const typed = "https://Objednávky.Example.cz:443";
    const parsed = "https://xn--objednvky-51a.example.cz";
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_WEBHOOKS_PUBLIC_URL: typed },
    );
    try {
      const metadata = (await (
        await request(`${served.url}/.well-known/oauth-protected-resource/mcp`)
      ).body.json()) as OAuthProtectedResourceMetadata;
      // RFC 9728 §3.3: the resource is the URL the client used, character for character.
      expect(metadata.resource).toBe(`${parsed}/mcp`);
      const refused = await initializeAt(served.url);
      expect(refused.headers["www-authenticate"]).toContain(
        `resource_metadata="${parsed}/.well-known/oauth-protected-resource/mcp"`,
      );
      await refused.body.dump();
      // The client asks for a token for that resource (RFC 8707); an Audience mapper may hold the
      // URL as the operator typed it. Either names waiter.
      for (const audience of [`${parsed}/mcp`, `${typed}/mcp`]) {
        const token = await sign({ scope: "waiter:read" }, { audience });
        expect((await (await connect(served.url, token)).listTools()).tools.length, audience).toBeGreaterThan(0);
      }
    } finally {
      await served.close();
    }
  });

  // Entra names an API api://… in v1.0 tokens, and by its client id, no URL, in v2.0 ones; any
  // other text is said in the challenge as its quoted string may carry it.
  test.each([
    ["api://waiter", "api://waiter"],
    ["6e74172b-be56-4843-9ff4-e66a39bb12e3", "6e74172b-be56-4843-9ff4-e66a39bb12e3"],
    ['"Waiter API" – prod', "?Waiter API? ? prod"],
  ])(
    "an audience of its own (%s) changes what aud must hold, not the resource the metadata names",
    async (audience, shown) => {
      const served = await inProcess(
        { maxSessions: 10, idleMs: 60_000 },
        { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: issuer.origin, audience }) },
      );
      try {
        const metadata = (await (
          await request(`${served.url}/.well-known/oauth-protected-resource/mcp`)
        ).body.json()) as OAuthProtectedResourceMetadata;
        expect(metadata.resource).toBe(`${PUBLIC}/mcp`);
        // The SDK's client refuses metadata that names another resource than the URL it was given.
        expect(await selectResourceURL(`${PUBLIC}/mcp`, {} as OAuthClientProvider, metadata)).toEqual(
          new URL(`${PUBLIC}/mcp`),
        );
        const tools = await (await connect(served.url, await sign({ scope: "waiter:read" }, { audience }))).listTools();
        expect(tools.tools.length).toBeGreaterThan(0);
        const refused = await initializeAt(served.url, {
          authorization: `Bearer ${await sign({ scope: "waiter:read" }, { audience: ["account", `${PUBLIC}/mcp/`] })}`,
        });
        expect(refused.statusCode).toBe(401);
        expect(refused.headers["www-authenticate"]).toContain(
          `its aud is account, ${PUBLIC}/mcp/, and this server takes only ${shown};`,
        );
        await refused.body.dump();
      } finally {
        await served.close();
      }
    },
  );

  test("a valid token's scope decides the tools; an expired or foreign one gets 401 saying why, in a challenge a strict parser reads", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      const names = async (token: string) =>
        (await (await connect(served.url, token)).listTools()).tools.map((tool) => tool.name);
      const all = await names(await sign({ scope: "openid waiter:write" }));
      expect(all).toEqual(expect.arrayContaining(["currency_convert", "eshop_order_get", "eshop_order_mark_paid"]));
      // Either claim, as a space-separated string (Entra's scp) or as a list.
      for (const claims of [{ scp: ["waiter:read"] }, { scp: "openid waiter:read" }, { scope: ["waiter:read"] }]) {
        const read = await names(await sign(claims));
        expect(read, JSON.stringify(claims)).toContain("eshop_order_get");
        expect(read, JSON.stringify(claims)).not.toContain("eshop_order_mark_paid");
      }
      const refusals: [string, string][] = [
        [await sign({ scope: "waiter:write" }, { expires: "-5m" }), "it has expired; log in again for a new one"],
        [
          await sign({ scope: "waiter:write" }, { expires: null }),
          "it never expires (it has no exp), and only tokens that do are taken",
        ],
        // Written as text, not as seconds: it does expire, and the clocks are not to blame.
        [
          await sign({ scope: "waiter:write", exp: "2100000000" }, { expires: null }),
          "its exp claim is not a number of seconds (a NumericDate, RFC 7519)",
        ],
        [
          await sign({ scope: "waiter:write", nbf: "1700000000" }),
          "its nbf claim is not a number of seconds (a NumericDate, RFC 7519)",
        ],
        [
          await sign({ scope: "waiter:write" }, { audience: "https://elsewhere.example/mcp" }),
          `it is for another audience: its aud is https://elsewhere.example/mcp, and this server takes only ${PUBLIC}/mcp`,
        ],
        [
          await sign({ scope: "waiter:write" }, { issuer: "https://evil.example" }),
          `it is from another issuer: its iss is https://evil.example, and this server trusts only ${issuer.origin}`,
        ],
        // Entra's v1.0 token, which an app registration is issued by default, for an issuer set to its v2.0 endpoint.
        [
          await sign({ scope: "waiter:write" }, { issuer: "https://sts.windows.net/7a1b2c3d/" }),
          `its iss is https://sts.windows.net/7a1b2c3d/, and this server trusts only ${issuer.origin} (http.oauth.issuer); Entra issues v1.0 tokens, which name sts.windows.net, unless waiter's app registration has requestedAccessTokenVersion 2 in its manifest`,
        ],
        [await foreignKeySign({ scope: "waiter:write" }), "it is not signed by any key the issuer publishes"],
        // Unsigned, and signed with a shared secret (as an issuer set to HS256 signs): no published key checks either.
        [
          `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: issuer.origin, aud: `${PUBLIC}/mcp`, sub: "alice", scope: "waiter:write", exp: 4_102_444_800 })).toString("base64url")}.`,
          "it is not signed (alg none), and only tokens signed with a key the issuer publishes are taken",
        ],
        [
          await new SignJWT({ sub: "alice", scope: "waiter:write" })
            .setProtectedHeader({ alg: "HS256" })
            .setIssuer(issuer.origin)
            .setAudience(`${PUBLIC}/mcp`)
            .setExpirationTime(fromClock("5m"))
            .sign(new TextEncoder().encode("a secret the issuer shares with no one it publishes")),
          "it is signed with a shared secret (HS256), which no key the issuer publishes can check; have the issuer sign its access tokens with a key pair (RS256 or ES256)",
        ],
        // Encrypted, as Auth0 issues an access token for a login that names no API of its own.
        [
          await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ sub: "alice" })))
            .setProtectedHeader({ alg: "dir", enc: "A256GCM", iss: `${issuer.origin}/` })
            .encrypt(new Uint8Array(32)),
          `it is encrypted (a JWE), and only signed JWTs are taken; have the issuer issue JWT access tokens for ${PUBLIC}/mcp (Auth0 issues encrypted ones for a login that names none of its APIs: create an API of that identifier, and turn on the tenant's Resource Parameter Compatibility Profile)`,
        ],
        ["not.a.jwt", "it is not a JWT"],
        ["", "carries no token after Bearer"],
      ];
      for (const [token, why] of refusals) {
        const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        expect(refused.statusCode, why).toBe(401);
        // Every parameter a quoted-string with no quote or backslash inside (RFC 6750 §3), so that
        // a strict parser still finds the scopes to ask for and resource_metadata, where a client
        // goes to log in again.
        expect(refused.headers["www-authenticate"], why).toMatch(
          /^Bearer error="invalid_token", error_description="[^"\\]*", scope="waiter:read waiter:write", resource_metadata="[^"\\]*"$/,
        );
        expect(String(refused.headers["www-authenticate"])).toContain(why);
        await refused.body.dump();
      }
    } finally {
      await served.close();
    }
  });

  test("a refused access token is logged with its user and why: a token for another audience names the one it has and the one waiter takes", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    const post = async (token?: string) => {
      const answer = await initializeAt(served.url, token ? { authorization: `Bearer ${token}` } : {});
      await answer.body.dump();
      return { status: answer.statusCode, challenge: String(answer.headers["www-authenticate"]) };
    };
    try {
      // As Keycloak issues a token without the Audience mapper: for its own account service.
      const alice = await sign({ azp: "claude", sub: "alice", scope: "waiter:write" }, { audience: "account" });
      const tokens = [alice, alice];
      for (const token of tokens) {
        const refused = await post(token);
        expect(refused.status).toBe(401);
        expect(refused.challenge).toContain(
          `it is for another audience: its aud is account, and this server takes only ${PUBLIC}/mcp; have the issuer put that in aud`,
        );
      }
      const bob = await sign({ azp: "chatgpt", sub: "bob", scope: "openid" });
      const forged = await Promise.all(
        [1, 2, 3].map((n) => foreignKeySign({ sub: `mallory-${n}`, scope: "waiter:write" })),
      );
      tokens.push(bob, ...forged);
      expect((await post(bob)).status).toBe(403);
      for (const token of forged) expect((await post(token)).status).toBe(401);
      // An OAuth client's first request carries no token: no news at info.
      expect((await post()).status).toBe(401);
      expect(served.stderr().match(/^.* got \d{3}: .*$/gm)).toEqual([
        expect.stringMatching(
          new RegExp(
            ` info .*MCP request from 127\\.0\\.0\\.1 with token oauth:claude/alice got 401: The access token was refused: it is for another audience: its aud is account, and this server takes only ${PUBLIC}/mcp; `,
          ),
        ),
        expect.stringMatching(
          / info .*MCP request with token oauth:chatgpt\/bob got 403: The access token carries neither waiter:read nor waiter:write/,
        ),
        // Claims no key of the issuer signed are anyone's words: no caller is named, and a flood makes one line.
        expect.stringMatching(
          / info .*MCP request from 127\.0\.0\.1 got 401: The access token was refused: it is not signed by any key the issuer publishes$/,
        ),
      ]);
      for (const token of tokens) expect(served.stderr()).not.toContain(token);
    } finally {
      await served.close();
    }
  });

  test("with OAuth, a request without a token is logged at debug, not at info: an OAuth client's first request carries none", async () => {
    const tokenless =
      / debug +\[waiter\] MCP request from 127\.0\.0\.1 got 401: it carries no token \(Authorization: Bearer <token>\)$/m;
    for (const [level, said] of [
      ["info", false],
      ["debug", true],
    ] as const) {
      const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, { ...oauthEnv(), WAITER_LOG_LEVEL: level });
      try {
        // The SDK's client with no token, as an OAuth client comes before it has logged in.
        await expect(connect(served.url)).rejects.toMatchObject({ code: 401 });
        expect(served.stderr().match(/^.* got \d{3}: .*$/gm) ?? [], level).toHaveLength(said ? 1 : 0);
        if (said) expect(served.stderr()).toMatch(tokenless);
      } finally {
        await served.close();
      }
    }
  });

  test("a good token without a waiter scope gets 403 naming the scopes to ask for, not 401, which has a client log in again for the same token", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      for (const claims of [{ scope: "openid email" }, { scp: ["profile"] }, {}]) {
        const refused = await initializeAt(served.url, { authorization: `Bearer ${await sign(claims)}` });
        expect(refused.statusCode, JSON.stringify(claims)).toBe(403);
        expect(refused.headers["www-authenticate"]).toBe(
          `Bearer error="insufficient_scope", error_description="The access token carries neither waiter:read nor waiter:write; give its client one of them at the issuer", scope="waiter:read waiter:write", resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp"`,
        );
        expect(await refused.body.json()).toEqual({
          error: "insufficient_scope",
          error_description:
            "The access token carries neither waiter:read nor waiter:write; give its client one of them at the issuer",
        });
      }
    } finally {
      await served.close();
    }
  });

  test("a token without a waiter scope, its body still coming, is refused with its connection to be closed, as a refused token is", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    const socket = openSocket({ port: Number(new URL(served.url).port), host: "127.0.0.1", allowHalfOpen: true });
    try {
      let received = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => {
        received += chunk;
      });
      socket.on("error", () => {});
      // The body's first chunk only: the rest is still to come when the refusal is written.
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: ${new URL(served.url).host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nAuthorization: Bearer ${await sign({ scope: "openid email" })}\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n`,
      );
      await expect.poll(() => received).toMatch(/\r\n\r\n/);
      expect(received).toMatch(/^HTTP\/1\.1 403 /);
      expect(received).toMatch(/\r\nConnection: close\r\n/i);
    } finally {
      socket.destroy();
      await served.close();
    }
  });

  test("a token that lost waiter:write in its session is asked for it, and told where to get it", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      const user = { azp: "connector", sub: "alice" };
      const opened = await initializeAt(served.url, {
        authorization: `Bearer ${await sign({ ...user, scope: "waiter:write" })}`,
      });
      const session = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      // A client given the URL with its slash is pointed at the metadata that names that URL.
      for (const path of ["/mcp", "/mcp/"]) {
        const refused = await request(`${served.url}${path}`, {
          method: "POST",
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 2,
            method: "tools/call",
            params: { name: "eshop_order_mark_paid", arguments: { id: 1 } },
          }),
          headers: {
            ...mcpHeaders,
            authorization: `Bearer ${await sign({ ...user, scope: "waiter:read" })}`,
            "mcp-session-id": session,
            "mcp-protocol-version": "2025-06-18",
          },
        });
        expect(refused.statusCode, path).toBe(403);
        expect(refused.headers["www-authenticate"], path).toBe(
          `Bearer error="insufficient_scope", scope="waiter:write", resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource${path}"`,
        );
        await refused.body.dump();
      }
    } finally {
      await served.close();
    }
  });

  test("an OAuth user refused a write, or past its rate, is named as a user, not as a token it does not hold", async () => {
    // The clock held still, moved only by the test: on a busy machine the first two requests can
    // take a second of the five that give the user one more, and the wait told would be 4 s.
    vi.useFakeTimers({ toFake: ["Date"] });
    setClock("2026-11-30T09:00:00Z");
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_REQUESTS_PER_MINUTE: "12" },
    );
    try {
      const authorization = `Bearer ${await sign({ azp: "connector", sub: "alice", scope: "waiter:read" })}`;
      const opened = await initializeAt(served.url, { authorization });
      const inSession = {
        ...mcpHeaders,
        authorization,
        "mcp-session-id": opened.headers["mcp-session-id"] as string,
        "mcp-protocol-version": "2025-06-18",
      };
      await opened.body.dump();
      const write = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "eshop_order_mark_paid", arguments: { id: 1 } },
        }),
        headers: inSession,
      });
      expect(write.statusCode).toBe(403);
      expect(await write.body.json()).toEqual({
        error: "insufficient_scope",
        error_description:
          "The OAuth client and user oauth:connector/alice may not call eshop_order_mark_paid, which needs the scope waiter:write",
      });
      // A burst of a sixth of 12 a minute: two, both spent.
      const limited = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }),
        headers: inSession,
      });
      expect(limited.statusCode).toBe(429);
      expect(limited.headers["retry-after"]).toBe("5");
      expect(((await limited.body.json()) as { error: { message: string } }).error.message).toBe(
        "Too many requests: The OAuth client and user oauth:connector/alice may make 12 a minute; try again in 5 s",
      );
    } finally {
      vi.useRealTimers();
      await served.close();
      setClock();
    }
  });

  test("a session opened with waiter:read gains the write tools when its user comes back with waiter:write, and is told the list changed", async () => {
    // A shop that fails at once, with a 500 that is not tried again (one that cannot be reached is, for a second).
    const shop = await startFake(() => json(500, '{"code":"internal_error","message":"Database error"}'));
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, { ...oauthEnv(), WAITER_WOO_URL: shop.origin });
    const listening = new AbortController();
    try {
      const read = `Bearer ${await sign({ azp: "connector", sub: "alice", scope: "waiter:read" })}`;
      const write = `Bearer ${await sign({ azp: "connector", sub: "alice", scope: "waiter:read waiter:write" })}`;
      const opened = await initializeAt(served.url, { authorization: read });
      const inSession = {
        "mcp-session-id": opened.headers["mcp-session-id"] as string,
        "mcp-protocol-version": "2025-06-18",
      };
      await opened.body.dump();
      const post = async (authorization: string, message: object) => {
        const answer = await request(`${served.url}/mcp`, {
          method: "POST",
          body: JSON.stringify(message),
          headers: { ...mcpHeaders, ...inSession, authorization },
        });
        const text = await answer.body.text();
        return {
          status: answer.statusCode,
          said: [...text.matchAll(/^data: (.+)$/gm)].map((d) => JSON.parse(d[1] as string)),
        };
      };
      const names = async (authorization: string) => {
        const { said } = await post(authorization, { jsonrpc: "2.0", id: 2, method: "tools/list" });
        return (said[0].result.tools as { name: string }[]).map((tool) => tool.name);
      };
      const markPaid = {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "eshop_order_mark_paid", arguments: { id: 1 } },
      };
      await post(read, { jsonrpc: "2.0", method: "notifications/initialized" });
      expect(await names(read)).not.toContain("eshop_order_mark_paid");
      expect((await post(read, markPaid)).status).toBe(403);
      const stream = await request(`${served.url}/mcp`, {
        headers: { accept: "text/event-stream", ...inSession, authorization: read },
        signal: listening.signal,
      });
      expect(stream.statusCode).toBe(200);

      // The step-up the 403 asked for: the same user, logged in again with waiter:write, in the same session.
      expect(await names(write)).toContain("eshop_order_mark_paid");
      let heard = "";
      for await (const chunk of stream.body) {
        heard += chunk.toString();
        if (heard.includes("notifications/tools/list_changed")) break;
      }
      expect(heard).toContain('"method":"notifications/tools/list_changed"');
      const called = await post(write, markPaid);
      expect(called.status).toBe(200);
      // The tool ran: a result (the shop it asks fails), not the error of an unknown tool.
      expect(called.said.find((message) => message.id === 3)).toMatchObject({ result: { isError: true } });
      expect(shop.requests.length).toBeGreaterThan(0);
      expect(served.stderr()).toMatch(
        /MCP session \S+ serves .*eshop_order_mark_paid.* too: token oauth:connector\/alice came with waiter:write/,
      );

      // The read token again widens nothing back nor away: its writes are still refused, call by call.
      expect((await post(read, markPaid)).status).toBe(403);
      // Another user's token, whatever its scope, finds no such session.
      const bob = `Bearer ${await sign({ azp: "connector", sub: "bob", scope: "waiter:write" })}`;
      expect((await post(bob, { jsonrpc: "2.0", id: 4, method: "tools/list" })).status).toBe(404);
    } finally {
      listening.abort();
      await served.close();
      await shop.close();
    }
  });

  test("a session's notification stream ends when the token it was opened with lapses", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60 * 60_000 }, oauthEnv());
    try {
      const lapsing = `Bearer ${await sign({ scope: "waiter:read" }, { expires: "20s" })}`;
      const opened = await initializeAt(served.url, { authorization: lapsing });
      const id = opened.headers["mcp-session-id"] as string;
      await opened.body.dump();
      // Past its exp, the token is within its 60 s leeway until it lapses.
      lapsingSoon(lapsing);
      const stream = await request(`${served.url}/mcp`, {
        method: "GET",
        headers: { accept: "text/event-stream", authorization: lapsing, "mcp-session-id": id },
      });
      expect(stream.statusCode).toBe(200);
      lapse(lapsing);
      const ended = stream.body.text();
      let wait: NodeJS.Timeout | undefined;
      const stillOpen = new Promise((resolve) => {
        wait = setTimeout(() => resolve("still open"), 15_000);
      });
      // It ends telling the client when to open it again, with the token it has by then.
      expect(await Promise.race([ended, stillOpen])).toMatch(/(^|\n)retry: 5000\n\n$/);
      clearTimeout(wait);
      // Opened again with the lapsed token, it is refused: the client logs in again.
      const again = await request(`${served.url}/mcp`, {
        method: "GET",
        headers: { accept: "text/event-stream", authorization: lapsing, "mcp-session-id": id },
      });
      expect(again.statusCode).toBe(401);
      await again.body.dump();
    } finally {
      vi.useRealTimers();
      setClock();
      await served.close();
    }
  });

  test("a notification stream whose client left its connection full is cut as its token lapses, and the log says so, without the token", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60 * 60_000 }, oauthEnv());
    const { hostname, port } = new URL(served.url);
    const hung = openSocket(Number(port), hostname);
    let heard = "";
    hung.setEncoding("utf8").on("data", (chunk: string) => {
      heard += chunk;
    });
    const gone = new Promise((resolve) => hung.once("close", resolve));
    try {
      const opened = vi.spyOn(served.app, "session");
      const token = await sign({ scope: "waiter:read" }, { expires: "2h" });
      const initialized = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      const id = initialized.headers["mcp-session-id"] as string;
      await initialized.body.dump();
      const session = opened.mock.results[0]?.value as ReturnType<App["session"]>;
      const { transport } = session.server.server as unknown as { transport: WebStandardStreamableHTTPServerTransport };
      // It lapses on a timer the test moves once the connection is full, however long filling it takes
      // (a poll moves it by its interval at each look: an hour is never reached so).
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
      lapseIn(`Bearer ${token}`, 60 * 60_000);
      hung.write(
        `GET /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\nMcp-Session-Id: ${id}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n`,
      );
      await expect.poll(() => heard).toMatch(/id: \S+\ndata: \n\n/);
      // From here on its client reads nothing: large log lines fill what the connection takes, then wait in waiter.
      hung.pause();
      while (notificationsUnread(transport) === 0) {
        await session.server.server.sendLoggingMessage({ level: "info", data: "x".repeat(2 ** 20) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      // It lapses with its connection full: what waits is let go with the connection.
      vi.advanceTimersByTime(60 * 60_000);
      await expect.poll(() => served.sessions.streams()).toBe(0);
      hung.resume();
      await gone;
      expect(served.stderr()).toContain(
        `MCP session ${id}: cut its notification stream, whose client left its connection full, as the token it was opened with lapsed`,
      );
      expect(served.stderr()).not.toContain(token);
    } finally {
      vi.useRealTimers();
      hung.destroy();
      setClock();
      await served.close();
    }
  });

  /**
   * A session alice opens at `served` with raw requests in 2025-11-25 and a fresh token, initialized:
   * that token, one of hers that lapses in 20 s, the headers the session's requests carry, and a POST
   * in it with the fresh token.
   */
  async function aliceSession(served: { url: string }) {
    const user = { azp: "connector", sub: "alice", scope: "waiter:read" };
    const fresh = `Bearer ${await sign(user)}`;
    const lapsing = `Bearer ${await sign(user, { expires: "20s" })}`;
    const opened = await request(`${served.url}/mcp`, {
      method: "POST",
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
      }),
      headers: { ...mcpHeaders, authorization: fresh },
    });
    const inSession = {
      "mcp-session-id": opened.headers["mcp-session-id"] as string,
      "mcp-protocol-version": "2025-11-25",
    };
    await opened.body.dump();
    const post = (body: object, signal?: AbortSignal) =>
      request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { ...mcpHeaders, ...inSession, authorization: fresh },
        ...(signal ? { signal } : {}),
      });
    const initialized = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(initialized.statusCode).toBeLessThan(300);
    await initialized.body.dump();
    return { fresh, lapsing, inSession, post };
  }

  test("a quiet notification stream that lapses ends naming where it stands: its client comes back from there and misses nothing meanwhile", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60 * 60_000 }, { ...oauthEnv(), ...ERP_ENV });
    try {
      const { fresh, lapsing, inSession, post } = await aliceSession(served);
      const subscribed = await post({
        jsonrpc: "2.0",
        id: 2,
        method: "resources/subscribe",
        params: { uri: "events://recent" },
      });
      expect(subscribed.statusCode).toBeLessThan(300);
      await subscribed.body.dump();
      lapsingSoon(lapsing);
      const opening = request(`${served.url}/mcp`, {
        headers: { accept: "text/event-stream", ...inSession, authorization: lapsing },
      });
      // A quiet stream's headers come with its end: it lapses once it is held.
      await expect.poll(() => served.sessions.streams()).toBe(1);
      lapse(lapsing);
      const quiet = await opening;
      expect(quiet.statusCode).toBe(200);
      // Nothing came on it: its end is where its client stands, as MCP 2025-11-25 has a server say.
      const ended = await quiet.body.text();
      expect(ended).toMatch(/(^|\n)id: \S+\nretry: 5000\ndata: \n\n$/);
      const lastId = /^id: (\S+)$/m.exec(ended)?.[1] as string;
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "while-away",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const back = await readStream(
        `${served.url}/mcp`,
        { accept: "text/event-stream", ...inSession, authorization: fresh, "last-event-id": lastId },
        (events) => events.some((e) => e.data.includes("resources/updated")),
      );
      expect(back.map((e) => JSON.parse(e.data).method)).toContain("notifications/resources/updated");
    } finally {
      vi.useRealTimers();
      setClock();
      await served.close();
    }
  });

  test("a call's stream a lapsing token came back to ends when it lapses, and the notification stream a newer token opened goes on", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60 * 60_000 }, { ...oauthEnv(), ...ERP_ENV });
    const dropped = new AbortController();
    const listening = new AbortController();
    try {
      const { fresh, lapsing, inSession, post } = await aliceSession(served);
      const notifications = await request(`${served.url}/mcp`, {
        headers: { accept: "text/event-stream", ...inSession, authorization: fresh },
        signal: listening.signal,
      });
      expect(notifications.statusCode).toBe(200);
      // A wait whose stream drops after its priming event, which names the stream.
      const call = await post(
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "events_wait", arguments: { timeout_s: 10 } } },
        dropped.signal,
      );
      const first = (await call.body[Symbol.asyncIterator]().next()).value.toString();
      dropped.abort();
      const lastId = /^id: (.*)$/m.exec(first)?.[1] as string;
      await expect.poll(() => served.sessions.streams()).toBe(1);
      // The client comes back to the call with an older token: past its exp, within its 60 s
      // leeway until it lapses.
      lapsingSoon(lapsing);
      const resuming = request(`${served.url}/mcp`, {
        headers: {
          accept: "text/event-stream",
          ...inSession,
          authorization: lapsing,
          "last-event-id": lastId,
        },
      });
      // Its headers come with its end: it lapses once it is held.
      await expect.poll(() => served.sessions.streams()).toBe(2);
      lapse(lapsing);
      const resumed = await resuming;
      expect(resumed.statusCode).toBe(200);
      // It lapses: the call's stream ends without the answer, which the client comes back for
      // with the token it has then; the session's notification stream is its newer token's.
      const cut = await resumed.body.text();
      expect(cut).not.toContain('"id":2');
      expect(cut).toMatch(/(^|\n)id: \S+\nretry: 5000\ndata: \n\n$/);
      // The one stream left open is the notification stream.
      await expect.poll(() => served.sessions.streams()).toBe(1);
      await served.app.store?.add({
        source: "erp",
        type: "invoice.created",
        scheme: "hmac-sha256",
        dedupeId: "after-lapse",
        headers: {},
        body: Buffer.from("{}"),
        receivedAt: clock.now(),
      });
      const back = await request(`${served.url}/mcp`, {
        headers: { accept: "text/event-stream", ...inSession, authorization: fresh, "last-event-id": lastId },
      });
      // What the lapse cut off comes with the newer token: nothing is lost.
      const answer = /^data: (.*)$/m.exec(await back.body.text())?.[1];
      expect(JSON.parse(answer ?? "{}")).toMatchObject({ id: 2, result: { structuredContent: { timed_out: false } } });
    } finally {
      vi.useRealTimers();
      listening.abort();
      setClock();
      await served.close();
    }
  });

  test("a token expired less than a minute ago is still taken, as the issuer's clock may be behind", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      const client = await connect(served.url, await sign({ scope: "waiter:read" }, { expires: "-30s" }));
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await served.close();
    }
  });

  test("an issuer that cannot be reached is the issuer's failure, passing (503), neither the server's own nor the token's, and is asked again only after a while", async () => {
    setClock("2026-11-30T09:00:00Z");
    let asked = 0;
    let back = false;
    const down = await startFake((request) => {
      asked += 1;
      // Back, it names the test issuer's keys.
      return back && request.path === "/.well-known/oauth-authorization-server"
        ? json(200, JSON.stringify({ issuer: down.origin, jwks_uri: `${issuer.origin}/jwks` }))
        : json(503, "{}");
    });
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: down.origin }) },
    );
    try {
      const token = await sign({ scope: "waiter:read" }, { issuer: down.origin });
      const attempt = async () => {
        const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        expect(refused.statusCode).toBe(503);
        expect(refused.headers["retry-after"]).toBe("60");
        expect(await refused.body.json()).toEqual({
          error: "temporarily_unavailable",
          error_description: `The issuer ${down.origin} cannot be reached to check the token; try again in a minute`,
        });
      };
      for (let i = 0; i < 5; i++) await attempt();
      // Its two metadata addresses, once.
      expect(asked).toBe(2);
      // What is no JWT at all is the caller's mistake, said without asking the issuer.
      const garbage = await initializeAt(served.url, { authorization: "Bearer not-a-jwt" });
      expect(garbage.statusCode).toBe(401);
      await garbage.body.dump();
      // So is a token no key the issuer publishes could check, unsigned or signed with a shared
      // secret: told to try again, its client would, with a token no answer of the issuer admits.
      const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: down.origin, sub: "alice", scope: "waiter:read", exp: 4_102_444_800 })).toString("base64url")}.`;
      const shared = await new SignJWT({ sub: "alice", scope: "waiter:read" })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer(down.origin)
        .setExpirationTime(fromClock("5m"))
        .sign(new TextEncoder().encode("a secret the issuer shares with no one it publishes"));
      // Signed with an algorithm no key set serves here (secp256k1's, which jose does not check).
      const secp256k1 = `${Buffer.from('{"alg":"ES256K","kid":"k1"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: down.origin, sub: "alice", scope: "waiter:read", exp: 4_102_444_800 })).toString("base64url")}.${Buffer.alloc(64, 7).toString("base64url")}`;
      // A header that names no algorithm at all.
      const unnamed = `${Buffer.from('{"kid":"k1"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: down.origin, sub: "alice", scope: "waiter:read", exp: 4_102_444_800 })).toString("base64url")}.${Buffer.alloc(64, 7).toString("base64url")}`;
      for (const [token, why] of [
        [unsigned, "it is not signed (alg none)"],
        [shared, "it is signed with a shared secret (HS256)"],
        [secp256k1, "it is signed with ES256K, which waiter cannot check"],
        [unnamed, "its header names no signing algorithm (alg), so waiter cannot check it"],
      ] as const) {
        const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        expect(refused.statusCode, why).toBe(401);
        expect(((await refused.body.json()) as { error_description: string }).error_description).toContain(why);
      }
      expect(asked).toBe(2);
      expect(served.stderr().match(/OAuth: the issuer \S+ cannot be reached/g)).toHaveLength(1);
      // Each address tried, with what it answered.
      expect(served.stderr()).toContain(
        `cannot be reached (no metadata names its keys: ${down.origin}/.well-known/oauth-authorization-server: 503; ${down.origin}/.well-known/openid-configuration: 503)`,
      );
      setClock(clock.now() + 30_000);
      await attempt();
      expect(asked).toBe(4);
      // A line each 30 s at most, counting what it left out; one when the issuer answers again.
      expect(served.stderr()).toMatch(/cannot be reached .* \(and 4 more like it since the last line\)/);
      back = true;
      setClock(clock.now() + 30_000);
      const answered = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      expect(answered.statusCode).toBe(200);
      await answered.body.dump();
      // 60 s as the clock was set, and what the attempts themselves took, which a loaded machine makes a second or more.
      expect(served.stderr()).toMatch(/OAuth: the issuer \S+ answers again, after 6 failed attempts over 6[0-2] s/);
    } finally {
      await served.close();
      await down.close();
      setClock();
    }
    // Nothing listening there: the network's reason, not "fetch failed".
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const refusing = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: nowhere }) },
    );
    try {
      const token = await sign({ scope: "waiter:read" }, { issuer: nowhere });
      const refused = await initializeAt(refusing.url, { authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(503);
      await refused.body.dump();
      expect(refusing.stderr()).toContain(`${nowhere}/.well-known/oauth-authorization-server: ECONNREFUSED`);
    } finally {
      await refusing.close();
    }
    // Metadata that answers, keys that do not, or answer no key set: the same 503, never the token's 401.
    let keys = json(503, "{}");
    const keyless = await startFake((request) =>
      request.path === "/.well-known/oauth-authorization-server"
        ? json(200, JSON.stringify({ issuer: keyless.origin, jwks_uri: `${keyless.origin}/jwks` }))
        : keys,
    );
    const again = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: keyless.origin }) },
    );
    try {
      const token = await sign({ scope: "waiter:read" }, { issuer: keyless.origin });
      const refused = await initializeAt(again.url, { authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(503);
      expect(await refused.body.json()).toMatchObject({ error: "temporarily_unavailable" });
      // The key set's address and what it answered, as for the metadata's.
      expect(again.stderr()).toContain(
        `OAuth: the issuer ${keyless.origin} cannot be reached (${keyless.origin}/jwks: 503)`,
      );
      // A line each 30 s at most: each answer is said once that much later.
      const later = () => setClock(clock.now() + 30_000);
      keys = json(200, '{"keys":"rotating"}');
      later();
      const malformed = await initializeAt(again.url, { authorization: `Bearer ${token}` });
      expect(malformed.statusCode).toBe(503);
      expect(malformed.headers["retry-after"]).toBe("60");
      expect(await malformed.body.json()).toMatchObject({
        error: "temporarily_unavailable",
        error_description: `The issuer ${keyless.origin}'s key set cannot be used to check the token; try again in a minute`,
      });
      // It answered: not said to be out of reach, but what it answered.
      expect(again.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${keyless.origin}'s key set (${keyless.origin}/jwks: 200, but no key set (JSON Web Key Set malformed)); its tokens are refused with 503 until waiter can`,
      );
      keys = { status: 200, headers: { "content-type": "text/html" }, body: "<html>Maintenance</html>" };
      later();
      const notJson = await initializeAt(again.url, { authorization: `Bearer ${token}` });
      expect(notJson.statusCode).toBe(503);
      expect(notJson.headers["retry-after"]).toBe("60");
      expect(await notJson.body.json()).toMatchObject({ error: "temporarily_unavailable" });
      expect(again.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${keyless.origin}'s key set (${keyless.origin}/jwks: 200, but not JSON)`,
      );
      // JSON cut off midway is not said to be no JSON.
      keys = { ...json(200, JSON.stringify({ keys: [{ kty: "RSA", n: "0".repeat(64) }] })), breakAfter: 20 };
      later();
      const cut = await initializeAt(again.url, { authorization: `Bearer ${token}` });
      expect(cut.statusCode).toBe(503);
      expect(await cut.body.json()).toMatchObject({ error: "temporarily_unavailable" });
      expect(again.stderr()).toContain(
        `OAuth: the issuer ${keyless.origin} cannot be reached (${keyless.origin}/jwks: 200, but its answer broke off (other side closed))`,
      );
    } finally {
      setClock();
      await again.close();
      await keyless.close();
    }
  });

  test("a key set that does not answer in time is named in the log with its address and how long it had", async () => {
    const slow = await startFake((request) =>
      request.path === "/.well-known/oauth-authorization-server"
        ? json(200, JSON.stringify({ issuer: slow.origin, jwks_uri: `${slow.origin}/jwks` }))
        : { ...json(200, '{"keys":[]}'), delayMs: 2_000 },
    );
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000, oauthTimeouts: { metadataMs: 10_000, keysMs: 500 } },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: slow.origin }) },
    );
    try {
      const token = await sign({ scope: "waiter:read" }, { issuer: slow.origin });
      const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(503);
      expect(await refused.body.json()).toMatchObject({ error: "temporarily_unavailable" });
      expect(served.stderr()).toContain(
        `OAuth: the issuer ${slow.origin} cannot be reached (${slow.origin}/jwks: no answer within 0.5 s)`,
      );
    } finally {
      await served.close();
      await slow.close();
    }
  });

  test("a token signed with ML-DSA, where this Node checks no ML-DSA signature, is told so, as other algorithms waiter cannot check are", async () => {
    // The issuer's ML-DSA-65 key as an AKP JWK (as jose reads one): a public key of 1952 bytes.
    const pq = {
      kty: "AKP",
      alg: "ML-DSA-65",
      kid: "pq",
      use: "sig",
      pub: Buffer.alloc(1952, 5).toString("base64url"),
    };
    const { issuer: published, served } = await publishing([pq]);
    try {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const claims = {
        iss: published.origin,
        aud: `${PUBLIC}/mcp`,
        sub: "alice",
        scope: "waiter:read",
        exp: fromClock("1h"),
      };
      const token = `${part({ alg: "ML-DSA-65", kid: "pq" })}.${part(claims)}.${Buffer.alloc(3309, 7).toString("base64url")}`;
      const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(401);
      const { error_description } = (await refused.body.json()) as { error_description: string };
      // Node checks ML-DSA from 24.7 on, where the signature, which no key made, is what is refused;
      // a Node.js of 24.7 or later (it has SubtleCrypto.supports) built with an OpenSSL before 3.5 names the OpenSSL.
      const checked = await crypto.subtle.importKey("jwk", pq, { name: "ML-DSA-65" }, false, ["verify"]).then(
        () => true,
        () => false,
      );
      const hasSupports = "supports" in crypto.subtle.constructor;
      expect(error_description).toBe(
        checked
          ? "The access token was refused: it is not signed by any key the issuer publishes"
          : hasSupports
            ? `The access token was refused: it is signed with ML-DSA-65, which this Node.js cannot check, as it is built with OpenSSL ${process.versions.openssl} and ML-DSA needs OpenSSL 3.5 or later; have the issuer sign its access tokens with RS256 or ES256, or run waiter on a Node.js built with OpenSSL 3.5 or later (as the Node.js project's own builds of 24.7 and later are)`
            : "The access token was refused: it is signed with ML-DSA-65, which waiter cannot check on a Node.js before 24.7; have the issuer sign its access tokens with RS256 or ES256, or run waiter on Node.js 24.7 or later",
      );
    } finally {
      await served.close();
      await published.close();
    }
  });

  test("a token signed with ML-DSA, on a Node.js of 24.7 or later built with an OpenSSL before 3.5, is told the OpenSSL is what cannot check it", async () => {
    const pq = {
      kty: "AKP",
      alg: "ML-DSA-65",
      kid: "pq",
      use: "sig",
      pub: Buffer.alloc(1952, 5).toString("base64url"),
    };
    // As a Linux distribution's Node.js 24.8 built against the system's OpenSSL 3.0: it has SubtleCrypto.supports, which says no.
    const subtle = crypto.subtle.constructor as { supports?: unknown };
    const supports = Object.getOwnPropertyDescriptor(subtle, "supports");
    const openssl = Object.getOwnPropertyDescriptor(process.versions, "openssl") as PropertyDescriptor;
    const { issuer: published, served } = await publishing([pq]);
    try {
      Object.defineProperty(subtle, "supports", { value: () => false, configurable: true, writable: true });
      Object.defineProperty(process.versions, "openssl", { ...openssl, value: "3.0.13" });
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const claims = {
        iss: published.origin,
        aud: `${PUBLIC}/mcp`,
        sub: "alice",
        scope: "waiter:read",
        exp: fromClock("1h"),
      };
      const token = `${part({ alg: "ML-DSA-65", kid: "pq" })}.${part(claims)}.${Buffer.alloc(3309, 7).toString("base64url")}`;
      const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(401);
      const { error_description } = (await refused.body.json()) as { error_description: string };
      expect(error_description).toBe(
        "The access token was refused: it is signed with ML-DSA-65, which this Node.js cannot check, as it is built with OpenSSL 3.0.13 and ML-DSA needs OpenSSL 3.5 or later; have the issuer sign its access tokens with RS256 or ES256, or run waiter on a Node.js built with OpenSSL 3.5 or later (as the Node.js project's own builds of 24.7 and later are)",
      );
    } finally {
      if (supports) Object.defineProperty(subtle, "supports", supports);
      else delete subtle.supports;
      Object.defineProperty(process.versions, "openssl", openssl);
      await served.close();
      await published.close();
    }
  });

  test("a metadata address that does not answer in time is named in the log with how long it had", async () => {
    const slow: Fake = await startFake((request) =>
      request.path === "/.well-known/oauth-authorization-server"
        ? { ...json(200, JSON.stringify({ issuer: slow.origin, jwks_uri: `${issuer.origin}/jwks` })), delayMs: 2_000 }
        : json(404, "{}"),
    );
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000, oauthTimeouts: { metadataMs: 500, keysMs: 5_000 } },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: slow.origin }) },
    );
    try {
      const token = await sign({ scope: "waiter:read" }, { issuer: slow.origin });
      const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(503);
      await refused.body.dump();
      expect(served.stderr()).toContain(
        `OAuth: the issuer ${slow.origin} cannot be reached (no metadata names its keys: ${slow.origin}/.well-known/oauth-authorization-server: no answer within 0.5 s; ${slow.origin}/.well-known/openid-configuration: 404)`,
      );
    } finally {
      await served.close();
      await slow.close();
    }
  });

  test("a key set at an address waiter cannot reach (a host the metadata names that this machine cannot) is named in the log with the network's reason", async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}/certs`;
    const elsewhere: Fake = await startFake((request) =>
      request.path === "/.well-known/oauth-authorization-server"
        ? json(200, JSON.stringify({ issuer: elsewhere.origin, jwks_uri: unreachable }))
        : json(404, "{}"),
    );
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: elsewhere.origin }) },
    );
    try {
      const token = await sign({ scope: "waiter:read" }, { issuer: elsewhere.origin });
      const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      expect(refused.statusCode).toBe(503);
      await refused.body.dump();
      expect(served.stderr()).toContain(
        `OAuth: the issuer ${elsewhere.origin} cannot be reached (${unreachable}: ECONNREFUSED); its tokens are refused with 503 until it answers`,
      );
    } finally {
      await served.close();
      await elsewhere.close();
    }
  });

  test("an issuer that could not be reached just before the clock was set back is asked again, not only once that time comes again", async () => {
    setClock("2026-11-30T09:00:00Z");
    let back = false;
    const down = await startFake((request) =>
      back && request.path === "/.well-known/oauth-authorization-server"
        ? json(200, JSON.stringify({ issuer: down.origin, jwks_uri: `${issuer.origin}/jwks` }))
        : json(503, "{}"),
    );
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: down.origin }) },
    );
    try {
      const token = await sign({ scope: "waiter:read" }, { issuer: down.origin });
      const status = async () => {
        const answer = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        await answer.body.dump();
        return answer.statusCode;
      };
      expect(await status()).toBe(503);
      back = true;
      // NTP sets back a clock that ran an hour ahead.
      setClock(clock.now() - 3_600_000);
      expect(await status()).toBe(200);
    } finally {
      await served.close();
      await down.close();
      setClock();
    }
  });

  test("metadata that names another issuer, no keys, or keys over plain http off this machine, is not taken, and the log says the issuer answered", async () => {
    // The test issuer's keys sign every token; what the metadata says decides whether they are fetched.
    let metadata: object | string = {};
    let cutAfter: number | undefined;
    const lying = await startFake((request) =>
      request.path === "/.well-known/oauth-authorization-server"
        ? typeof metadata === "string"
          ? { status: 200, headers: { "content-type": "text/html" }, body: metadata, breakAfter: cutAfter }
          : json(200, JSON.stringify(metadata))
        : json(404, "{}"),
    );
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: lying.origin }) },
    );
    const token = await sign({ scope: "waiter:read" }, { issuer: lying.origin, expires: "1h" });
    const attempt = async () => {
      const answer = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      await answer.body.dump();
      return answer.statusCode;
    };
    try {
      metadata = { issuer: issuer.origin, jwks_uri: `${issuer.origin}/jwks` };
      expect(await attempt()).toBe(503);
      const metadataUrl = `${lying.origin}/.well-known/oauth-authorization-server`;
      const otherUrl = `${lying.origin}/.well-known/openid-configuration`;
      expect(served.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${lying.origin}'s metadata (${metadataUrl}: it names the issuer "${issuer.origin}", not this one; ${otherUrl}: 404); its tokens are refused with 503 until waiter can`,
      );
      setClock(clock.now() + 60_000);
      metadata = { issuer: lying.origin };
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${lying.origin}'s metadata (${metadataUrl}: no jwks_uri; ${otherUrl}: 404)`,
      );
      // One it names, but not as the absolute URL RFC 8414 §2 has it be: not said to be none.
      setClock(clock.now() + 60_000);
      metadata = { issuer: lying.origin, jwks_uri: "/protocol/openid-connect/certs" };
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${lying.origin}'s metadata (${metadataUrl}: its jwks_uri "/protocol/openid-connect/certs" is no absolute URL; ${otherUrl}: 404)`,
      );
      metadata = { issuer: lying.origin };
      // Asked again within the half minute, it is said as the same metadata, not as an issuer that did not answer.
      const answer = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      expect(answer.statusCode).toBe(503);
      expect(await answer.body.json()).toEqual({
        error: "temporarily_unavailable",
        error_description: `The issuer ${lying.origin}'s metadata cannot be used to check the token; try again in a minute`,
      });
      setClock(clock.now() + 60_000);
      metadata = { issuer: lying.origin, jwks_uri: "http://keys.example/jwks" };
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${lying.origin}'s metadata (${metadataUrl}: its jwks_uri http://keys.example is not https; ${otherUrl}: 404)`,
      );
      // A page in its place (a proxy's sign-in, a web app's for any path), or JSON that is no object:
      // said as what it is, not as metadata naming no issuer.
      setClock(clock.now() + 60_000);
      metadata = "<!doctype html><title>Sign in</title>";
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${lying.origin}'s metadata (${metadataUrl}: 200, but not JSON; ${otherUrl}: 404)`,
      );
      setClock(clock.now() + 60_000);
      metadata = ["issuer"];
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${lying.origin}'s metadata (${metadataUrl}: 200, but no JSON object; ${otherUrl}: 404)`,
      );
      // An error in JSON where the metadata should be (a gateway's {"message":"Not Found"} with 200): no issuer.
      setClock(clock.now() + 60_000);
      metadata = { message: "Not Found" };
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: waiter cannot use the issuer ${lying.origin}'s metadata (${metadataUrl}: it names no issuer; ${otherUrl}: 404)`,
      );
      expect(served.stderr()).not.toMatch(/cannot be reached|did not answer|names the issuer undefined/);
      // Cut off midway, it did not answer: not said to be no JSON.
      setClock(clock.now() + 60_000);
      metadata = JSON.stringify({ issuer: lying.origin, jwks_uri: `${issuer.origin}/jwks` });
      cutAfter = 20;
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: the issuer ${lying.origin} cannot be reached (no metadata names its keys: ${metadataUrl}: 200, but its answer broke off (other side closed); ${otherUrl}: 404)`,
      );
      cutAfter = undefined;
      setClock(clock.now() + 60_000);
      metadata = { issuer: `${lying.origin}/`, jwks_uri: `${issuer.origin}/jwks` };
      expect(await attempt()).toBe(200);
    } finally {
      setClock();
      await served.close();
      await lying.close();
    }
  });

  test("metadata and keys that answer with a redirect are not followed, to plain http or anywhere, and the log says where it led", async () => {
    setClock("2026-11-30T09:00:00Z");
    // Where the first redirect leads: metadata naming the issuer that redirects, and the test issuer's keys.
    const elsewhere = await startFake(() =>
      json(200, JSON.stringify({ issuer: moved.origin, jwks_uri: `${issuer.origin}/jwks` })),
    );
    let keysMoved = false;
    const moved: Fake = await startFake((request) => {
      if (keysMoved) {
        // The metadata is here; the keys answer with a redirect to where the test issuer's are.
        return request.path === "/jwks"
          ? json(302, "{}", { location: `${issuer.origin}/jwks` })
          : json(200, JSON.stringify({ issuer: moved.origin, jwks_uri: `${moved.origin}/jwks` }));
      }
      if (request.path === "/.well-known/oauth-authorization-server") {
        return json(301, "{}", { location: `${elsewhere.origin}/.well-known/oauth-authorization-server` });
      }
      return json(302, "{}", { location: "http://id.example/.well-known/openid-configuration?from=waiter" });
    });
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: moved.origin }) },
    );
    const token = await sign({ scope: "waiter:read" }, { issuer: moved.origin });
    const attempt = async () => {
      const answer = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      await answer.body.dump();
      return answer.statusCode;
    };
    try {
      expect(await attempt()).toBe(503);
      expect(elsewhere.requests).toHaveLength(0);
      // Each address, what it answered and where it led (without its query), and why that is not followed.
      expect(served.stderr()).toContain(
        `OAuth: the issuer ${moved.origin} cannot be reached (no metadata names its keys: ` +
          `${moved.origin}/.well-known/oauth-authorization-server: 301 redirect to ${elsewhere.origin}/.well-known/oauth-authorization-server, not followed: the metadata is read at its well-known URL only; ` +
          `${moved.origin}/.well-known/openid-configuration: 302 redirect to http://id.example/.well-known/openid-configuration, not followed: the metadata is read at its well-known URL only)`,
      );
      expect(served.stderr()).not.toContain("from=waiter");
      keysMoved = true;
      setClock(clock.now() + 60_000);
      expect(await attempt()).toBe(503);
      expect(served.stderr()).toContain(
        `OAuth: the issuer ${moved.origin} cannot be reached (${moved.origin}/jwks: 302 redirect to ${issuer.origin}/jwks, not followed: the keys are read at the jwks_uri the metadata names only)`,
      );
    } finally {
      setClock();
      await served.close();
      await moved.close();
      await elsewhere.close();
    }
  });

  test("a token bound to a key its client must prove it holds (DPoP, mutual TLS) is refused, not taken as a bearer token; one sent as DPoP is no bearer token", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    const metadata = `resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp"`;
    try {
      // RFC 9449's DPoP-bound token and RFC 8705's certificate-bound one, each signed by the issuer
      // and otherwise good: whoever stole one must not call waiter with it as a bearer token.
      for (const [cnf, bound] of [
        [{ jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }, "its client's DPoP key (cnf jkt)"],
        [{ "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }, "its client's TLS certificate (cnf x5t#S256)"],
        [{ jwk: { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA" } }, "a key its client holds (cnf)"],
        // RFC 7800 has cnf an object: one of another shape binds the token to something waiter cannot read.
        ["0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", "a key its client holds (cnf)"],
        [[], "a key its client holds (cnf)"],
        [null, "a key its client holds (cnf)"],
      ] as const) {
        const token = await sign({ scope: "waiter:write", azp: "connector", sub: "alice", cnf });
        const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        expect(refused.statusCode).toBe(401);
        const why = `The access token was refused: it is bound to ${bound}, which this server cannot check: it takes bearer tokens only; have the issuer give its client bearer tokens, bound to no key`;
        expect(refused.headers["www-authenticate"]).toBe(
          `Bearer error="invalid_token", error_description="${why}", scope="waiter:read waiter:write", ${metadata}`,
        );
        expect(await refused.body.json()).toEqual({ error: "invalid_token", error_description: why });
        expect(served.stderr()).toContain(
          `MCP request from 127.0.0.1 with token oauth:connector/alice got 401: ${why}`,
        );
      }
      // An empty cnf binds a token to nothing: taken.
      const unbound = await sign({ scope: "waiter:write", azp: "connector", sub: "alice", cnf: {} });
      const taken = await initializeAt(served.url, { authorization: `Bearer ${unbound}` });
      await taken.body.dump();
      expect(taken.statusCode).toBe(200);
      // A DPoP client sends its token with the DPoP scheme (RFC 9449 §7.1), which waiter does not
      // take: a request without a bearer token, whose challenge carries no error (RFC 6750 §3.1),
      // and whose body and the log say that only Bearer is taken.
      const token = await sign({ scope: "waiter:write", azp: "connector", sub: "alice" });
      const dpop = await initializeAt(served.url, {
        authorization: `DPoP ${token}`,
        dpop: "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln",
      });
      expect(dpop.statusCode).toBe(401);
      const why =
        "The Authorization header carries a DPoP token, and this server takes Bearer tokens only: a token bound to no key, sent as Bearer";
      expect(dpop.headers["www-authenticate"]).toBe(`Bearer scope="waiter:read waiter:write", ${metadata}`);
      expect(await dpop.body.json()).toEqual({ error_description: why });
      expect(served.stderr()).toMatch(
        / info .*MCP request from 127\.0\.0\.1 got 401: its Authorization header carries a DPoP token, and only Bearer is taken$/m,
      );
      // A token in the URL's query, or after Bearer twice, is no OAuth client's first request either:
      // its client was set up wrong, which the log says at info.
      const inQuery = await request(`${served.url}/mcp?access_token=${token}`, {
        method: "POST",
        body: initialize,
        headers: mcpHeaders,
      });
      await inQuery.body.dump();
      expect(inQuery.statusCode).toBe(401);
      expect(served.stderr()).toMatch(
        / info .*MCP request from 127\.0\.0\.1 got 401: it carries a token in the URL's query \(access_token=\)/m,
      );
      const twice = await initializeAt(served.url, { authorization: `Bearer Bearer ${token}` });
      await twice.body.dump();
      expect(twice.statusCode).toBe(401);
      expect(served.stderr()).toMatch(
        / info .*MCP request from 127\.0\.0\.1 got 401: its Authorization header names Bearer twice/m,
      );
      expect(served.stderr()).not.toContain(token);
    } finally {
      await served.close();
    }
  });

  test("a session belongs to the user its token was issued to, not to every user of the same client", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    const open = async (token: string) => {
      const opened = await initializeAt(served.url, { authorization: `Bearer ${token}` });
      await opened.body.dump();
      return opened.headers["mcp-session-id"] as string;
    };
    const listAs = async (token: string, session: string) => {
      const answer = await request(`${served.url}/mcp`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        headers: {
          ...mcpHeaders,
          authorization: `Bearer ${token}`,
          "mcp-session-id": session,
          "mcp-protocol-version": "2025-06-18",
        },
      });
      await answer.body.dump();
      return answer.statusCode;
    };
    try {
      const alice = await sign({ scope: "waiter:write", azp: "connector", sub: "alice" });
      const bob = await sign({ scope: "waiter:read", azp: "connector", sub: "bob" });
      const id = await open(alice);
      expect(served.stderr()).toContain(`MCP session ${id} opened with token oauth:connector/alice`);
      expect(await listAs(bob, id)).toBe(404);
      // A client and user whose names, joined, read like another pair's are still two callers.
      const slashed = await sign({ scope: "waiter:write", azp: "a/b", sub: "c" });
      const other = await sign({ scope: "waiter:write", azp: "a", sub: "b/c" });
      expect(await listAs(other, await open(slashed))).toBe(404);
      // A user's token that names no user (no sub, or an empty one: Keycloak's without its client
      // scope basic, which still names the login session and the user's name) would be every such
      // user's at once: each user of the connector could use the others' sessions. It is refused,
      // saying why.
      for (const token of [
        await sign({ scope: "waiter:write", azp: "connector", sub: "" }),
        await sign({ scope: "waiter:write", azp: "connector", sid: "s-1" }, { subject: null }),
        await sign({ scope: "waiter:write", azp: "connector", preferred_username: "alice" }, { subject: null }),
        await sign({ scope: "waiter:write" }, { subject: null }),
      ]) {
        const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        expect(refused.statusCode).toBe(401);
        expect(refused.headers["www-authenticate"]).toContain(
          "error_description=\"The access token was refused: it names no user (no sub claim), and each session is its user's own; have the issuer put sub in its access tokens",
        );
        await refused.body.dump();
      }
      // One that names its user by a number: not said to have no sub.
      const numbered = await sign({ scope: "waiter:write", azp: "connector", sub: 42 }, { subject: null });
      const refusedNumber = await initializeAt(served.url, { authorization: `Bearer ${numbered}` });
      expect(refusedNumber.statusCode).toBe(401);
      expect(refusedNumber.headers["www-authenticate"]).toContain(
        'error_description="The access token was refused: its sub claim is no string (it is 42), and RFC 7519 has sub name its user as a string; have the issuer write it as one"',
      );
      await refusedNumber.body.dump();
      // A client-credentials token names no user because there is none: Duende IdentityServer's
      // carries client_id and no sub (RFC 9068 came after). Its client is the caller, whose sessions
      // are its own as any user's are.
      const agent = await sign({ scope: "waiter:write", client_id: "reports-agent" }, { subject: null });
      const agentSession = await open(agent);
      expect(served.stderr()).toContain(`MCP session ${agentSession} opened with token oauth:reports-agent/`);
      expect(await listAs(agent, agentSession)).toBe(200);
      expect(await listAs(alice, agentSession)).toBe(404);
      const otherAgent = await sign({ scope: "waiter:write", client_id: "billing-agent" }, { subject: null });
      expect(await listAs(otherAgent, agentSession)).toBe(404);
    } finally {
      await served.close();
    }
  });

  test("an OAuth user whose sessions all hold their streams is told to end one, named as a user, not a token", async () => {
    const served = await inProcess({ maxSessions: 2, idleMs: 60 * 60_000 }, oauthEnv());
    try {
      const alice = await sign({ scope: "waiter:write", azp: "connector", sub: "alice" });
      await connect(served.url, alice);
      await expect.poll(() => served.sessions.streams()).toBe(1);
      const refused = await initializeAt(served.url, { authorization: `Bearer ${alice}` });
      expect(refused.statusCode).toBe(503);
      expect(JSON.stringify(await refused.body.json())).toContain(
        "The OAuth client and user oauth:connector/alice holds half the server's sessions, each with a call or its stream open; end one (DELETE /mcp)",
      );
    } finally {
      await served.close();
    }
  });

  test("a token whose header names no key is checked against each key the issuer publishes, as while it rotates them", async () => {
    // Old and new key side by side, neither with a kid; tokens signed by the new one name none.
    const old = await generateKeyPair("ES256");
    const current = await generateKeyPair("ES256");
    const foreign = await generateKeyPair("ES256");
    const keys = [await exportJWK(old.publicKey), await exportJWK(current.publicKey)];
    const rotating = await startFake((request) => {
      if (request.path === "/.well-known/oauth-authorization-server") {
        return json(200, JSON.stringify({ issuer: rotating.origin, jwks_uri: `${rotating.origin}/jwks` }));
      }
      if (request.path === "/jwks") return json(200, JSON.stringify({ keys }));
      return json(404, "{}");
    });
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: rotating.origin }) },
    );
    const signedBy = (key: Parameters<SignJWT["sign"]>[0], expires = "5m") =>
      new SignJWT({ scope: "waiter:read" })
        .setProtectedHeader({ alg: "ES256" })
        .setIssuer(rotating.origin)
        .setAudience(`${PUBLIC}/mcp`)
        .setSubject("alice")
        .setExpirationTime(fromClock(expires))
        .sign(key);
    try {
      for (const pair of [old, current]) {
        expect(
          (await (await connect(served.url, await signedBy(pair.privateKey))).listTools()).tools.length,
        ).toBeGreaterThan(0);
      }
      // No key the issuer publishes signed it; one of them did, but it has expired: each said so.
      for (const [token, why] of [
        [await signedBy(foreign.privateKey), "it is not signed by any key the issuer publishes"],
        [await signedBy(current.privateKey, "-5m"), "it has expired"],
      ]) {
        const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        expect(refused.statusCode).toBe(401);
        expect(((await refused.body.json()) as { error_description: string }).error_description).toContain(why);
      }
    } finally {
      await served.close();
      await rotating.close();
    }
  });

  test("while the key set fails to answer, a token naming a key waiter lacks gets 503, not 401, and forged key ids do not make waiter read the keys at every request", async () => {
    const first = await generateKeyPair("ES256");
    const forged = await generateKeyPair("ES256");
    const keys = [{ ...(await exportJWK(first.publicKey)), kid: "first", alg: "ES256" }];
    let down = false;
    const { issuer: failing, served, signedBy, status } = await publishing(keys, () => down);
    try {
      expect(await status(await signedBy(first.privateKey, "first"))).toBe(200);
      expect(failing.count("/jwks")).toBe(1);
      down = true;
      setClock(clock.now() + 6_000);
      // The first key id waiter lacks has the keys read again, which fails; the next ones, a moment
      // later, are not read for. Whether the issuer publishes their keys (it may have just rotated
      // to one) is not known: a 401 would have each client drop a good token and log its user in again.
      expect(await status(await signedBy(forged.privateKey, "x1"))).toBe(503);
      for (const kid of ["x2", "x3", "x4"]) expect(await status(await signedBy(forged.privateKey, kid))).toBe(503);
      expect(failing.count("/jwks")).toBe(2);
      expect(served.stderr()).not.toContain("not signed by any key the issuer publishes");
      // The keys held still take the issuer's tokens.
      expect(await status(await signedBy(first.privateKey, "first"))).toBe(200);
    } finally {
      setClock();
      await served.close();
      await failing.close();
    }
  });

  test("an issuer whose key set stops answering is said to be unreachable until its keys are read again, not to answer again because its metadata does", async () => {
    const key = await generateKeyPair("ES256");
    const keys = [{ ...(await exportJWK(key.publicKey)), kid: "only", alg: "ES256" }];
    let down = false;
    const { issuer: failing, served, signedBy, status } = await publishing(keys, () => down);
    const said = () => served.stderr().match(/OAuth: the issuer .*$/gm) ?? [];
    try {
      const token = await signedBy(key.privateKey, "only");
      expect(await status(token)).toBe(200);
      // Past the 10 minutes its keys are taken as read, the key set answers 503.
      down = true;
      setClock(clock.now() + 11 * 60_000);
      const failingFrom = clock.now();
      for (let i = 0; i < 3; i++) expect(await status(token)).toBe(503);
      expect(said()).toEqual([
        `OAuth: the issuer ${failing.origin} cannot be reached (${failing.origin}/jwks: 503); its tokens are refused with 503 until it answers`,
      ]);
      down = false;
      setClock(clock.now() + 30_000);
      expect(await status(token)).toBe(200);
      expect(said()).toHaveLength(2);
      expect(said()[1]).toMatch(/^OAuth: the issuer \S+ answers again, after \d+ failed attempts? over \d+ s$/);
      // From the first failure: the 30 s the clock was set on, and the requests' own time on a slow machine.
      const over = Number(/over (\d+) s$/.exec(said()[1] ?? "")?.[1]);
      expect(over).toBeGreaterThanOrEqual(30);
      expect(over).toBeLessThanOrEqual(Math.round((clock.now() - failingFrom) / 1000));
    } finally {
      setClock();
      await served.close();
      await failing.close();
    }
  });

  test("a key set that fails to answer is not asked again at every token, once the keys held are too old or from the start", async () => {
    const key = await generateKeyPair("ES256");
    const keys = [{ ...(await exportJWK(key.publicKey)), kid: "only", alg: "ES256" }];
    let down = false;
    const { issuer: failing, served, signedBy, status } = await publishing(keys, () => down);
    const later = (ms: number) => setClock(clock.now() + ms);
    try {
      const token = await signedBy(key.privateKey, "only");
      expect(await status(token)).toBe(200);
      expect(failing.count("/jwks")).toBe(1);
      // Past the 10 minutes its keys are taken as read, the key set answers 503: a flood of tokens
      // has it asked once each few seconds, not once each.
      down = true;
      later(11 * 60_000);
      for (let i = 0; i < 4; i++) expect(await status(token)).toBe(503);
      expect(failing.count("/jwks")).toBe(2);
      later(3_000);
      expect(await status(token)).toBe(503);
      expect(failing.count("/jwks")).toBe(2);
      later(2_000);
      expect(await status(token)).toBe(503);
      expect(failing.count("/jwks")).toBe(3);
      down = false;
      later(5_000);
      expect(await status(token)).toBe(200);
      expect(failing.count("/jwks")).toBe(4);
    } finally {
      setClock();
      await served.close();
      await failing.close();
    }
    // Metadata that answers, a key set that never has.
    const fresh = await publishing(keys, () => true);
    try {
      const token = await fresh.signedBy(key.privateKey, "only");
      for (let i = 0; i < 4; i++) expect(await fresh.status(token)).toBe(503);
      expect(fresh.issuer.count("/jwks")).toBe(1);
    } finally {
      await fresh.served.close();
      await fresh.issuer.close();
    }
  });

  test("a key the issuer publishes just after waiter read its keys is taken within seconds, and forged key ids do not make waiter read them at every request", async () => {
    const first = await generateKeyPair("ES256");
    const next = await generateKeyPair("ES256");
    const forged = await generateKeyPair("ES256");
    const keys = [{ ...(await exportJWK(first.publicKey)), kid: "first", alg: "ES256" }];
    const { issuer: rotating, served, signedBy, status } = await publishing(keys);
    const later = (ms: number) => setClock(clock.now() + ms);
    try {
      expect(await status(await signedBy(first.privateKey, "first"))).toBe(200);
      expect(rotating.count("/jwks")).toBe(1);
      // Tokens naming keys the issuer never published, a flood of them: the keys are read again
      // once at most every few seconds, not at each.
      for (const kid of ["x1", "x2", "x3"]) expect(await status(await signedBy(forged.privateKey, kid))).toBe(401);
      later(3_000);
      expect(await status(await signedBy(forged.privateKey, "x4"))).toBe(401);
      expect(rotating.count("/jwks")).toBe(1);
      // The issuer publishes a new key and signs with it at once, as Keycloak does with a new key
      // provider of a higher priority: a token it signed a few seconds after waiter read the keys
      // is taken, and makes waiter read them again.
      keys.push({ ...(await exportJWK(next.publicKey)), kid: "next", alg: "ES256" });
      later(2_000);
      expect(await status(await signedBy(next.privateKey, "next"))).toBe(200);
      expect(rotating.count("/jwks")).toBe(2);
      // A key the issuer stopped publishing is taken until the keys are read again, 10 minutes on.
      keys.shift();
      later(9 * 60_000);
      expect(await status(await signedBy(first.privateKey, "first"))).toBe(200);
      later(60_000);
      expect(await status(await signedBy(first.privateKey, "first"))).toBe(401);
      expect(await status(await signedBy(next.privateKey, "next"))).toBe(200);
      expect(rotating.count("/jwks")).toBe(3);
    } finally {
      setClock();
      await served.close();
      await rotating.close();
    }
  });

  test("a token that names no key, signed by a key the issuer publishes just after waiter read its keys, is taken within seconds, and tokens no key signed do not make waiter read them at every request", async () => {
    const first = await generateKeyPair("ES256");
    const next = await generateKeyPair("ES256");
    const forged = await generateKeyPair("ES256");
    const keys: object[] = [{ ...(await exportJWK(first.publicKey)), alg: "ES256" }];
    const { issuer: rotating, served, signedBy, status } = await publishing(keys);
    const later = (ms: number) => setClock(clock.now() + ms);
    try {
      expect(await status(await signedBy(first.privateKey))).toBe(200);
      expect(rotating.count("/jwks")).toBe(1);
      // Tokens no key the issuer publishes signed, a flood of them: the keys are read again once at
      // most every few seconds, not at each.
      for (let i = 0; i < 3; i++) expect(await status(await signedBy(forged.privateKey))).toBe(401);
      later(3_000);
      expect(await status(await signedBy(forged.privateKey))).toBe(401);
      expect(rotating.count("/jwks")).toBe(1);
      // The issuer publishes a new key beside the old, neither with a kid, and signs with it at once.
      keys.push({ ...(await exportJWK(next.publicKey)), alg: "ES256" });
      later(2_000);
      expect(await status(await signedBy(next.privateKey))).toBe(200);
      expect(rotating.count("/jwks")).toBe(2);
      expect(await status(await signedBy(first.privateKey))).toBe(200);
      expect(await status(await signedBy(forged.privateKey))).toBe(401);
      expect(rotating.count("/jwks")).toBe(2);
      later(5_000);
      expect(await status(await signedBy(forged.privateKey))).toBe(401);
      expect(rotating.count("/jwks")).toBe(3);
    } finally {
      setClock();
      await served.close();
      await rotating.close();
    }
  });

  test("an issuer with a path is found through OpenID discovery under that path, as Keycloak serves it", async () => {
    const keys = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: "realm", alg: "ES256" };
    const asked: string[] = [];
    const realm = await startFake((request) => {
      asked.push(request.path);
      if (request.path === "/realms/company/.well-known/openid-configuration") {
        return json(
          200,
          JSON.stringify({ issuer: `${realm.origin}/realms/company`, jwks_uri: `${realm.origin}/certs` }),
        );
      }
      if (request.path === "/certs") return json(200, JSON.stringify({ keys: [jwk] }));
      return json(404, "{}");
    });
    const served = await inProcess(
      { maxSessions: 10, idleMs: 60_000 },
      { ...oauthEnv(), WAITER_HTTP_OAUTH: JSON.stringify({ issuer: `${realm.origin}/realms/company` }) },
    );
    try {
      const token = await new SignJWT({ scope: "waiter:read" })
        .setProtectedHeader({ alg: "ES256", kid: "realm" })
        .setIssuer(`${realm.origin}/realms/company`)
        .setAudience(`${PUBLIC}/mcp`)
        .setSubject("alice")
        .setExpirationTime(fromClock("5m"))
        .sign(keys.privateKey);
      expect((await (await connect(served.url, token)).listTools()).tools.length).toBeGreaterThan(0);
      expect(asked.slice(0, 3)).toEqual([
        "/.well-known/oauth-authorization-server/realms/company",
        "/.well-known/openid-configuration/realms/company",
        "/realms/company/.well-known/openid-configuration",
      ]);
    } finally {
      await served.close();
      await realm.close();
    }
  });

  test("configured tokens and access tokens are taken side by side, and refused each in its own words; OAuth needs the public URL", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, { ...TOKENS, ...oauthEnv() });
    try {
      for (const token of [OPS, await sign({ scope: "waiter:read" })]) {
        expect((await (await connect(served.url, token)).listTools()).tools.length).toBeGreaterThan(0);
      }
      // Each refused in the words of its kind: a mistyped configured token as unknown, not as no JWT.
      for (const [token, why] of [
        [`${OPS}x`, "The token is not one this server knows"],
        [await sign({ scope: "waiter:read" }, { expires: "-5m" }), "The access token was refused: it has expired"],
      ]) {
        const refused = await initializeAt(served.url, { authorization: `Bearer ${token}` });
        expect(refused.statusCode).toBe(401);
        expect(((await refused.body.json()) as { error_description: string }).error_description).toContain(why);
      }
    } finally {
      await served.close();
    }
    // The start says who may call: the tokens, and the issuer whose access tokens are taken.
    const both = await startApp({
      ...TOKENS,
      ...oauthEnv(),
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
    });
    const listen = { host: "127.0.0.1", port: 0 };
    await (await startServe({ ...both.config, core: { ...both.config.core, listen } }, both.log)).close();
    expect(both.stderr()).toContain(
      `info    [waiter] MCP callers: 1 token of WAITER_HTTP_TOKENS: ops (scope write); access tokens of the issuer ${issuer.origin} (WAITER_HTTP_OAUTH)\n`,
    );
    const { config, log } = await startApp({ ...oauthEnv(), WAITER_WEBHOOKS_PUBLIC_URL: "" });
    await expect(startServe(config, log)).rejects.toThrow(/^http.oauth needs webhooks.publicUrl/);
  });

  test("a token names its client as its issuer writes it: Okta's cid and Entra's v1.0 appid as much as azp and client_id", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      for (const [claims, caller] of [
        // Okta's access tokens: the client in cid, the user's login in sub.
        [
          { cid: "0oa1connector", uid: "00u1alice", sub: "alice@example.com", scp: ["waiter:read"] },
          "0oa1connector/alice%40example.com",
        ],
        // Entra's v1.0 access tokens: the client in appid (its v2.0 ones write azp).
        [{ appid: "c0ffee-client", sub: "entra-sub-1", ver: "1.0", scp: "waiter:read" }, "c0ffee-client/entra-sub-1"],
      ] as const) {
        const opened = await initializeAt(served.url, { authorization: `Bearer ${await sign(claims)}` });
        await opened.body.dump();
        expect(opened.statusCode, caller).toBe(200);
        expect(served.stderr()).toContain(
          `MCP session ${opened.headers["mcp-session-id"]} opened with token oauth:${caller}\n`,
        );
      }
    } finally {
      await served.close();
    }
  });

  test("an Entra client-credentials token's application permissions, in roles, are its scopes; a user's token goes by its scp alone", async () => {
    const served = await inProcess({ maxSessions: 10, idleMs: 60_000 }, oauthEnv());
    try {
      const names = async (token: string) =>
        (await (await connect(served.url, token)).listTools()).tools.map((tool) => tool.name);
      // As Entra issues a daemon's token (client credentials, scope api://…/.default): no scp.
      const daemon = await names(await sign({ azp: "daemon", sub: "sp-1", oid: "sp-1", roles: ["waiter:read"] }));
      expect(daemon).toContain("eshop_order_get");
      expect(daemon).not.toContain("eshop_order_mark_paid");
      expect(await names(await sign({ azp: "daemon", sub: "sp-1", roles: ["waiter:write"] }))).toContain(
        "eshop_order_mark_paid",
      );
      // A user's token: its client was granted scp; the user's own app roles widen it not.
      const user = await names(
        await sign({ azp: "connector", sub: "alice", scp: "waiter:read", roles: ["waiter:write"] }),
      );
      expect(user).not.toContain("eshop_order_mark_paid");
      // An ID token (for an API registered as its own client, aud is the one client id) carries the
      // user's roles and names no client: it is no client's grant.
      const idToken = await sign({
        sub: "alice",
        oid: "u-1",
        preferred_username: "alice@example.com",
        roles: ["waiter:write"],
      });
      const refused = await initializeAt(served.url, { authorization: `Bearer ${idToken}` });
      await refused.body.dump();
      expect(refused.statusCode).toBe(403);
    } finally {
      await served.close();
    }
  });
});
