import { createHash, createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici";
import { afterEach, describe, expect, test } from "vitest";
import { loadConfig } from "../src/config.js";
import { ToolError } from "../src/errors.js";
import { summary } from "../src/events/present.js";
import { SqliteEventStore } from "../src/events/sqlite/store.js";
import { StoreNotWritable } from "../src/events/store.js";
import { Log } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { requestGuard } from "../src/webhooks/hosts.js";
import type { ListenerTimeouts } from "../src/webhooks/limits.js";
import { type RunningListener, startListener } from "../src/webhooks/listener.js";
import { holdPort } from "../src/webhooks/port.js";
import { webhooksOf } from "../src/webhooks/settings.js";
import { ERP_SECRET, ERP_SOURCE, erpHeaders } from "./erp.js";
import { notification, PAID_PAYMENT } from "./fakes/comgate.js";
import { json, startFake } from "./fakes/http.js";
import { SHOPIFY_SECRET, SHOPIFY_SOURCE } from "./shopify.js";
import { smallDisk } from "./tmpfs.js";

const SOURCES = {
  erp: ERP_SOURCE,
  trial: { scheme: "none", allowUnsigned: true },
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The listener in this process on a free loopback port, with its own in-memory store. */
async function start(
  env: Record<string, string> = {},
  timeouts: Partial<ListenerTimeouts> = {},
  log = new Log("error"),
  drainMs = 10_000,
  storeFile = ":memory:",
  storeBusyMs?: number,
) {
  const config = loadConfig(
    {
      env: {
        ERP_SECRET,
        WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
        WAITER_WEBHOOKS_SOURCES: JSON.stringify(SOURCES),
        WAITER_WEBHOOKS_MAX_BODY_BYTES: "65536",
        ...env,
      },
    },
    toolsets(),
  );
  const webhooks = webhooksOf(config);
  const store = new SqliteEventStore(storeFile, webhooks.retention, { busyMs: storeBusyMs });
  const listener: RunningListener = await startListener({
    webhooks,
    mode: "listen",
    store,
    log,
    named: config.named,
    timeouts,
    drainMs,
  });
  cleanups.push(async () => {
    listener.server.closeAllConnections();
    await listener.close();
    await store.close();
  });
  const port = Number(new URL(listener.url).port);
  const rejected = async (reason: string) => (await store.counters()).erp?.[`rejected:${reason}`] ?? 0;
  return { listener, store, webhooks, port, url: listener.url, rejected };
}

let sequence = 0;
/** A delivery signed as the erp source expects, `size` bytes long when asked. */
function signed(size = 0): { body: string; headers: Record<string, string> } {
  sequence += 1;
  const body = JSON.stringify({ invoice: sequence, pad: "x".repeat(Math.max(0, size - 30)) });
  return { body, headers: erpHeaders(body, `d-${sequence}`) };
}

async function deliver(url: string, delivery: { body: string | Buffer; headers: Record<string, string> } = signed()) {
  const response = await request(`${url}/webhooks/erp`, { method: "POST", ...delivery });
  return { status: response.statusCode, body: (await response.body.json()) as { error?: string; id?: string } };
}

/** What a sender keyed with another secret than the erp source's signs `body` with. */
const forgedSignature = (body: string) =>
  `sha256=${createHmac("sha256", "not-the-erp-secret").update(body).digest("hex")}`;

/** A raw connection, to send what no well-behaved client sends: headers or a body a byte at a time. */
interface Probe {
  socket: Socket;
  received(): string;
  closed(): boolean;
}

/** A delivery's body and headers as the HTTP request a sender writes to erp's path, for a test that holds its socket. */
function posted(port: number, { body, headers }: { body: string; headers: Record<string, string> }): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${lines.join("")}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** From `from`, another loopback address, for a second client; `first` is written as it connects. */
function probe(port: number, from = "127.0.0.1", first = ""): Promise<Probe> {
  return new Promise((resolve, reject) => {
    let received = "";
    let closed = false;
    const socket = connect({ port, host: "127.0.0.1", localAddress: from });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.once("error", reject);
    socket.on("close", () => {
      closed = true;
    });
    socket.once("connect", () => {
      socket.off("error", reject);
      // The listener cuts these connections while they still write: EPIPE and ECONNRESET are the point.
      socket.on("error", () => {});
      if (first) socket.write(first);
      resolve({ socket, received: () => received, closed: () => closed });
    });
    cleanups.push(() => socket.destroy());
  });
}

/**
 * Writes `text` every `everyMs` to every probe not answered yet, until the test ends. Once the
 * loop has read what came in (setImmediate runs after the poll), as a client reads before it
 * writes: a write to a connection the listener cut with an answer unread is reset, and Node then
 * drops that answer, as timers late on a loaded machine would make of a timer's write.
 */
function trickle(probes: Probe[], text: string, everyMs: number): void {
  const timer = setInterval(
    () =>
      setImmediate(() => {
        for (const p of probes) if (p.received() === "" && !p.closed()) p.socket.write(text);
      }),
    everyMs,
  );
  cleanups.push(() => clearInterval(timer));
}

const statusOf = (p: Probe) => /^HTTP\/1\.1 (\d{3})/.exec(p.received())?.[1];

describe("slow and numerous clients", () => {
  test("a few hundred trickling clients are cut at their timeouts while a real delivery gets through", async () => {
    // The request timeout is far past the poll below: only the header timeout and the body's
    // floor rate can cut the tricklers in time. Theirs are long enough that a loaded machine opens
    // the 300 connections and answers the delivery before any runs out, once half a second did not.
    const { url, port, store, rejected } = await start(
      { WAITER_WEBHOOKS_MAX_CONNECTIONS: "1000", WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "1000" },
      { headersMs: 3_000, requestMs: 120_000, checkEveryMs: 50, bodyGraceMs: 3_000, minBodyBytesPerSecond: 1000 },
    );
    // A first delivery pays the one-time costs of a first request, which on a loaded machine
    // take longer than the tricklers are given.
    expect((await deliver(url)).status).toBe(200);
    const host = `127.0.0.1:${port}`;
    // A body trickler's time starts at its headers, a header trickler's at its connection: in
    // this order, no trickler's time has run long when the delivery comes.
    const bodyTricklers = await Promise.all(
      Array.from({ length: 150 }, () =>
        probe(port, "127.0.0.1", `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 10000\r\n\r\n{`),
      ),
    );
    const headerTricklers = await Promise.all(
      Array.from({ length: 150 }, () => probe(port, "127.0.0.1", `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\n`)),
    );
    trickle(headerTricklers, "X-Pad: 1\r\n", 200);
    trickle(bodyTricklers, " ", 200);

    const all = [...headerTricklers, ...bodyTricklers];
    const answer = await deliver(url);
    expect(answer.status).toBe(200);
    // Answered while every trickler was still held, not after they were cut.
    expect(all.filter((p) => p.closed())).toHaveLength(0);

    // Cutting 300 at once is the loop's work, which a loaded machine takes seconds over.
    await expect.poll(() => all.filter((p) => p.closed()).length, { timeout: 60_000 }).toBe(300);
    // Each is answered 408 as it is cut.
    expect(all.map(statusOf).filter((status) => status !== "408")).toEqual([]);
    expect(bodyTricklers.map((p) => p.received()).filter((text) => !/slower than 1000 bytes\/s/.test(text))).toEqual(
      [],
    );
    expect((await store.stats()).events).toBe(2);
    expect(await rejected("body too slow")).toBe(150);
  }, 90_000);

  test("bodies held at once are bounded across connections: past the budget a body gets 503, and its bytes are given back", async () => {
    const lines: string[] = [];
    const { url, port, store, rejected } = await start(
      {},
      { maxHeldBytes: 1000 },
      new Log("warning", (line) => lines.push(line)),
    );
    const host = `127.0.0.1:${port}`;
    // Two strangers each send 600 bytes of a 2,000-byte body, and wait: one of them passes the budget.
    const strangers = await Promise.all([probe(port), probe(port)]);
    for (const stranger of strangers) {
      stranger.socket.write(
        `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2000\r\n\r\n${"x".repeat(600)}`,
      );
    }
    await expect.poll(() => strangers.filter((s) => s.closed()).length).toBe(1);
    const refused = strangers.find((s) => s.closed()) as Probe;
    expect(statusOf(refused)).toBe("503");
    expect(refused.received()).toMatch(/^retry-after: 5\r$/im);
    expect(refused.received()).toContain("too many webhook bodies are being read at once; retry later");
    expect(await rejected("busy")).toBe(1);
    expect(lines.filter((line) => line.includes("bytes of bodies are being read at once"))).toHaveLength(1);
    // The refused body's bytes were given back: a delivery fits beside the one still held.
    expect((await deliver(url)).status).toBe(200);
    expect((await store.stats()).events).toBe(1);
  });

  test("one client stalling bodies on many connections holds its share of the budget, and another's delivery is stored", async () => {
    const lines: string[] = [];
    // A client may hold 25 of the 100 connections, so a quarter of the 8,000 bytes: 2,000.
    const { listener, url, port, store, rejected } = await start(
      {
        WAITER_WEBHOOKS_MAX_BODY_BYTES: "1024",
        WAITER_WEBHOOKS_MAX_CONNECTIONS: "100",
        WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "25",
      },
      { maxHeldBytes: 8000 },
      new Log("warning", (line) => lines.push(line)),
    );
    const host = `127.0.0.1:${port}`;
    const accepted: Socket[] = [];
    listener.server.on("connection", (socket: Socket) => accepted.push(socket));
    // The stranger, from another loopback address, declares 1,024 bytes on each of ten connections,
    // sends all but one, and stalls.
    const request = `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1024\r\n\r\n${"x".repeat(1023)}`;
    const strangers = await Promise.all(Array.from({ length: 10 }, () => probe(port, "127.0.0.2")));
    for (const stranger of strangers) stranger.socket.write(request);
    // Every byte it sent has been read, or its connection refused.
    await expect
      .poll(() => accepted.filter((s) => s.destroyed || s.bytesRead === request.length).length)
      .toBe(strangers.length);
    // A signed delivery of nearly the largest body, from 127.0.0.1, fits beside what the stranger holds.
    const delivered = await deliver(url, signed(1000));
    expect(delivered.status).toBe(200);
    expect(await store.get(delivered.body.id as string)).toBeDefined();

    // Past its share, each of the stranger's bodies was refused with what makes a real sender retry.
    await expect.poll(() => rejected("client busy")).toBe(9);
    const refused = strangers.filter((s) => s.closed());
    expect(refused).toHaveLength(9);
    for (const stranger of refused) {
      expect(statusOf(stranger)).toBe("503");
      expect(stranger.received()).toMatch(/^retry-after: 5\r$/im);
      expect(stranger.received()).toContain(
        "too many webhook bodies from this client are being read at once; retry later",
      );
    }
    const busy = lines.filter((line) =>
      line.includes("127.0.0.2 holds its share of the bodies being read at once (2000 bytes)"),
    );
    expect(busy).toHaveLength(1);
    // The setting named as it was given, the variable here, as the listener's other lines name theirs.
    expect(busy[0]).toContain("raise WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT, which sets the share");
  });

  test("a body slower than the floor rate, or stalled, gets 408 and is logged; one that keeps pace is stored", async () => {
    const lines: string[] = [];
    const { listener, port, store, rejected } = await start(
      {},
      { headersMs: 5000, requestMs: 10_000, bodyGraceMs: 300, minBodyBytesPerSecond: 1000 },
      new Log("info", (line) => lines.push(line)),
    );
    const host = `127.0.0.1:${port}`;
    const accepted: Socket[] = [];
    listener.server.on("connection", (socket: Socket) => accepted.push(socket));
    // All of 10,000 bytes but the last at once, which keeps it on pace for 10 s past the grace
    // however late the loop runs; the last byte once the grace is over.
    const steady = await probe(port);
    const { body, headers } = signed(10_000);
    const head = Object.entries({ ...headers, host, "content-length": String(Buffer.byteLength(body)) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    const first = `POST /webhooks/erp HTTP/1.1\r\n${head}\r\n${body.slice(0, -1)}`;
    steady.socket.write(first);
    await expect.poll(() => accepted[0]?.bytesRead).toBe(Buffer.byteLength(first));

    // Begun after the steady body: cut, they say its grace is over.
    const stalled = await probe(port);
    stalled.socket.write(
      `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n`,
    );
    const slow = await probe(port);
    slow.socket.write(`POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5000\r\n\r\n`);
    trickle([slow], "xxxxxxxxxx", 100);
    await expect.poll(() => [statusOf(stalled), stalled.closed()]).toEqual(["408", true]);
    await expect.poll(() => [statusOf(slow), slow.closed()]).toEqual(["408", true]);
    expect(statusOf(steady)).toBeUndefined();

    steady.socket.write(body.slice(-1));
    await expect.poll(() => statusOf(steady)).toBe("200");
    expect((await store.stats()).events).toBe(1);
    expect(await rejected("body too slow")).toBe(2);
    // A line a minute for the source and reason.
    expect(lines.filter((line) => line.includes("webhook erp rejected"))).toEqual([
      expect.stringMatching(
        /info .*webhook erp rejected from 127.0.0.1: body arrived slower than 1000 bytes\/s after 0\.3 s\n$/,
      ),
    ]);
  });

  // The body's pace is timed from its headers on, whichever packets bring the rest, and however
  // late its first byte comes after them.
  test.each([
    ["coming a byte at a time after its headers", "Content-Length: 1000\r\n\r\n", [], "x", 0],
    ["coming in a second packet after a pause, then nothing", "Content-Length: 1000\r\n\r\n", ["x".repeat(10)], "", 10],
    [
      "chunked whose end does not come in time",
      'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n',
      [],
      "1\r\nx\r\n",
      5,
    ],
    ["shorter than its Content-Length, then silent", "Content-Length: 1000\r\n\r\n", [], "", 0],
    [
      "whose first part came with its headers and the rest never",
      `Content-Length: 1000\r\n\r\n${"x".repeat(500)}`,
      [],
      "",
      500,
    ],
  ])(
    "a body %s gets 408 once the grace and its bytes' time at the floor rate are over, and is logged",
    async (_shape, head, later, trickled, paid) => {
      const lines: string[] = [];
      // Only the body's pace can cut it within the test's time.
      const { listener, port, rejected } = await start(
        {},
        { headersMs: 60_000, requestMs: 60_000, bodyGraceMs: 300, minBodyBytesPerSecond: 1000 },
        new Log("info", (line) => lines.push(line)),
      );
      const accepted: Socket[] = [];
      listener.server.on("connection", (socket: Socket) => accepted.push(socket));
      const request = `POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${head}`;
      const sender = await probe(port);
      const sent = performance.now();
      sender.socket.write(request);
      // Each later part in a packet of its own, once the listener has read what came before.
      let read = Buffer.byteLength(request);
      for (const part of later) {
        await expect.poll(() => accepted[0]?.bytesRead).toBe(read);
        sender.socket.write(part);
        read += Buffer.byteLength(part);
      }
      if (trickled) trickle([sender], trickled, 50);
      await expect.poll(() => [statusOf(sender), sender.closed()]).toEqual(["408", true]);
      // Not before the grace, and the time the bytes that came buy at 1,000 bytes/s (a timer may fire a millisecond early).
      expect(performance.now() - sent).toBeGreaterThanOrEqual(300 + paid - 2);
      expect(sender.received()).toContain('{"error":"body arrived slower than 1000 bytes/s after 0.3 s"}');
      expect(await rejected("body too slow")).toBe(1);
      expect(lines.filter((line) => line.includes("webhook erp rejected"))).toEqual([
        expect.stringMatching(
          /info .*webhook erp rejected from 127.0.0.1: body arrived slower than 1000 bytes\/s after 0\.3 s\n$/,
        ),
      ]);
    },
  );

  test.each([
    ["per client", { WAITER_WEBHOOKS_MAX_CONNECTIONS: "1000", WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "10" }],
    ["overall", { WAITER_WEBHOOKS_MAX_CONNECTIONS: "10", WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "100" }],
  ])("silent connections past the cap %s are closed, and its slots come back", async (_cap, settings) => {
    // Only the cap can close a silent connection within the test's time, however slow the machine.
    const { url, port } = await start(settings, { headersMs: 600_000, requestMs: 600_000 });
    const probes: Probe[] = [];
    for (let i = 0; i < 15; i++) probes.push(await probe(port));
    await expect.poll(() => probes.filter((p) => p.closed()).length).toBe(5);
    expect(probes.slice(0, 10).every((p) => !p.closed())).toBe(true);
    for (const p of probes) p.socket.destroy();
    await expect.poll(async () => (await deliver(url)).status).toBe(200);
  });
});

test("a delivery on a connection past its address's cap gets 503 saying so, the setting in the log alone; past ten such at once, one is closed at once", async () => {
  const lines: string[] = [];
  const { url, port } = await start(
    { WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "2" },
    { headersMs: 10_000, requestMs: 20_000, silentMs: 10_000 },
    new Log("warning", (line) => lines.push(line)),
  );
  const held = [await probe(port), await probe(port)];
  // A sender that retries a 503 later, told why; the address (behind a proxy, the proxy's) and the
  // setting to raise are the operator's.
  expect(await deliver(url)).toEqual({
    status: 503,
    body: {
      error: "too many connections from this address: it holds 2, the most one address may hold; retry once some close",
    },
  });
  expect(lines).toEqual([
    expect.stringContaining(
      "127.0.0.1 holds 2 connections, the most WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT lets one address hold",
    ),
  ]);
  // Ten that send nothing wait for their request; an eleventh is not kept.
  const waiting: Probe[] = [];
  for (let i = 0; i < 11; i++) waiting.push(await probe(port));
  await expect.poll(() => waiting.map((p) => p.closed())).toEqual([...Array(10).fill(false), true]);
  for (const p of [...held, ...waiting]) p.socket.destroy();
});

test("a connection a proxy keeps is kept longer than proxies keep theirs idle (Caddy's 2 minutes): none is closed as the proxy sends on it", async () => {
  // The header timeout is short here: an idle connection past it is still taken.
  const { port } = await start({}, { headersMs: 300, checkEveryMs: 50 });
  const proxy = await probe(port);
  proxy.socket.write(posted(port, signed()));
  await expect.poll(() => proxy.received().match(/HTTP\/1\.1 200/g)?.length).toBe(1);
  expect(proxy.received()).toMatch(/\r\nKeep-Alive: timeout=130\r\n/i);
  // One opened since that sends nothing is closed past the header timeout: by then the kept one
  // has been idle longer.
  const silent = await probe(port);
  await expect.poll(() => silent.closed()).toBe(true);
  proxy.socket.write(posted(port, signed()));
  await expect.poll(() => proxy.received().match(/HTTP\/1\.1 200/g)?.length).toBe(2);
  expect(proxy.closed()).toBe(false);
});

test("one address past its connections and the listener past all of them within a minute are each warned of", async () => {
  const lines: string[] = [];
  const { listener, port } = await start(
    { WAITER_WEBHOOKS_MAX_CONNECTIONS: "3", WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "2" },
    { headersMs: 10_000, requestMs: 20_000 },
    new Log("warning", (line) => lines.push(line)),
  );
  const open = () => new Promise<number>((resolve) => listener.server.getConnections((_err, n) => resolve(n)));
  const warned = (text: string) => lines.filter((line) => line.includes(text));
  await probe(port);
  await probe(port);
  await expect.poll(open).toBe(2);
  // Its third is past what one address may hold.
  const third = await probe(port);
  await expect.poll(() => third.closed()).toBe(true);
  await expect.poll(open).toBe(2);
  // Another address takes the last connection, and a third address's is past them all.
  await probe(port, "127.0.0.2");
  await expect.poll(open).toBe(3);
  const past = await probe(port, "127.0.0.3");
  await expect.poll(() => past.closed()).toBe(true);
  expect(
    warned(
      "webhook listener: 127.0.0.1 holds 2 connections, the most WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT lets one address hold: answering its new ones 503, closing those past 10 at once",
    ),
  ).toHaveLength(1);
  expect(
    warned(
      "webhook listener at 3 connections, the most WAITER_WEBHOOKS_MAX_CONNECTIONS lets it hold: closing new ones",
    ),
  ).toHaveLength(1);
});

test("a connection the system would not hand over (accept: EMFILE) is a warning, and the listener goes on taking deliveries", async () => {
  const lines: string[] = [];
  const { listener, url, store } = await start({}, {}, new Log("warning", (line) => lines.push(line)));
  // What Node's server emits when libuv's accept fails past its spare file handle.
  const refused = Object.assign(new Error("accept EMFILE"), { code: "EMFILE", syscall: "accept" });
  listener.server.emit("error", refused);
  expect(lines.filter((line) => line.includes("a connection could not be accepted (accept EMFILE)"))).toHaveLength(1);
  expect((await deliver(url)).status).toBe(200);
  expect((await store.stats()).events).toBe(1);
});

describe("an assistant's waiter's hold on the port", () => {
  test("a bind that failed for an address not up yet, then succeeds, is not said to find the port free again", async () => {
    const lines: string[] = [];
    const log = new Log("info", (line) => {
      lines.push(line);
    });
    let tries = 0;
    const hold = await holdPort({
      listen: { host: "192.0.2.1", port: 8790 },
      setting: "webhooks.listen (WAITER_WEBHOOKS_LISTEN)",
      take: true,
      bind: async () => {
        tries += 1;
        if (tries === 1)
          throw Object.assign(new Error("listen EADDRNOTAVAIL: address not available 192.0.2.1:8790"), {
            code: "EADDRNOTAVAIL",
          });
        return (await start()).listener;
      },
      sources: [],
      sourceLines: () => [],
      log,
      retryMs: 10,
      storeId: undefined,
    });
    cleanups.push(() => hold.close());
    await expect.poll(() => hold.listener).toBeDefined();
    const url = hold.listener?.url;
    expect(lines.find((line) => line.includes(`receiving webhooks on ${url}`))).toMatch(
      /receiving webhooks on \S+ from now on: this machine has the address now\n$/,
    );
    expect(lines.join("")).not.toContain("free again");
  });

  /** What the log says when binding `port` fails with EACCES on `platform`. */
  async function refusedPortSaid(port: number, platform: NodeJS.Platform): Promise<string> {
    const lines: string[] = [];
    const log = new Log("info", (line) => {
      lines.push(line);
    });
    const own = Object.getOwnPropertyDescriptor(process, "platform");
    Object.defineProperty(process, "platform", { value: platform });
    try {
      const hold = await holdPort({
        listen: { host: "127.0.0.1", port },
        setting: "webhooks.listen (WAITER_WEBHOOKS_LISTEN)",
        take: true,
        bind: async () => {
          throw Object.assign(new Error(`listen EACCES: permission denied 127.0.0.1:${port}`), { code: "EACCES" });
        },
        sources: [],
        sourceLines: () => [],
        log,
        retryMs: 60_000,
        storeId: undefined,
      });
      cleanups.push(() => hold.close());
      await expect.poll(() => lines.join("")).toContain("EACCES");
    } finally {
      if (own) Object.defineProperty(process, "platform", own);
    }
    return lines.join("");
  }

  test("a port the system refuses (EACCES) is said by why it may: privileges below 1024, a port Windows reserves, a policy", async () => {
    expect(await refusedPortSaid(80, "linux")).toContain(
      "cannot listen on 127.0.0.1:80: EACCES: ports below 1024 need privileges; set webhooks.listen (WAITER_WEBHOOKS_LISTEN) to a higher port",
    );
    // Windows reserves ranges of ports for Hyper-V, WSL and Docker Desktop, and refuses a bind there
    // with WSAEACCES, which Node.js says as EACCES: a higher port is no remedy, and no privilege is.
    const windows = await refusedPortSaid(8790, "win32");
    expect(windows).toContain(
      "cannot listen on 127.0.0.1:8790: EACCES: Windows reserves the port (Hyper-V, WSL and Docker Desktop reserve ranges of ports, which `netsh interface ipv4 show excludedportrange protocol=tcp` lists); set webhooks.listen (WAITER_WEBHOOKS_LISTEN) to a port outside them",
    );
    const linux = await refusedPortSaid(8790, "linux");
    expect(linux).not.toContain("below 1024");
    expect(linux).toContain(
      "cannot listen on 127.0.0.1:8790: EACCES: the system refuses this port to waiter's user (net.ipv4.ip_unprivileged_port_start set above it, or a security policy such as SELinux's); set webhooks.listen (WAITER_WEBHOOKS_LISTEN) to another port, or allow this one",
    );
  });
});

/**
 * A port held by another assistant's waiter with `holderSources`, which says `storeId` (if any), as
 * this waiter of store abcd, with `sources`, finds it, and the lines this one logs.
 */
async function heldByAnother(storeId: string | undefined, sources: string[], holderSources = ["erp"]) {
  const holder = await startFake(() =>
    json(200, JSON.stringify({ status: "ok", mode: "stdio", sources: holderSources, ...(storeId ? { storeId } : {}) })),
  );
  cleanups.push(() => holder.close());
  const port = Number(new URL(holder.origin).port);
  const lines: string[] = [];
  const hold = await holdPort({
    listen: { host: "127.0.0.1", port },
    setting: "webhooks.listen (WAITER_WEBHOOKS_LISTEN)",
    take: true,
    bind: () => Promise.reject(Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" })),
    sources,
    sourceLines: () => [],
    log: new Log("info", (line) => lines.push(line)),
    retryMs: 60_000,
    storeId: "abcd",
  });
  cleanups.push(() => hold.close());
  return { port, lines, hold };
}

test.each([
  [
    "an older waiter, which says no store id, is taken to store into this waiter's store",
    undefined,
    "notice",
    "into the store this waiter reads",
  ],
  [
    "a waiter that says another store's id is said to store elsewhere",
    "0123",
    "warning",
    "which stores them in another store than this waiter reads",
  ],
  [
    "a waiter that says this store's id is taken to store into it",
    "abcd",
    "notice",
    "into the store this waiter reads",
  ],
])("an assistant's waiter holding the port: %s", async (_, storeId, level, noted) => {
  const { port, lines, hold } = await heldByAnother(storeId, ["erp"]);
  expect(lines.join("")).toMatch(
    new RegExp(`${level} +\\[waiter\\] 127\\.0\\.0\\.1:${port} is taken by another assistant's waiter`),
  );
  expect(await hold.note()).toContain(`received on 127.0.0.1:${port} by another assistant's waiter, ${noted}`);
});

test("a waiter holding the port that has not this waiter's every source is said to refuse deliveries to the others", async () => {
  const { port, lines, hold } = await heldByAnother("abcd", ["erp", "gh", "shop"]);
  const refused =
    'has no source "gh" nor "shop" of this waiter\'s, and refuses a delivery to their URLs (404, unknown webhook source) until it stops: give both assistants\' settings the same webhooks.sources (WAITER_WEBHOOKS_SOURCES)';
  expect(lines.join("")).toMatch(
    new RegExp(`warning +\\[waiter\\] 127\\.0\\.0\\.1:${port} is taken by another assistant's waiter, which`),
  );
  expect(lines.join("")).toContain(refused);
  expect(await hold.note()).toBe(
    `These webhooks are received on 127.0.0.1:${port} by another assistant's waiter, into the store this waiter reads; this waiter takes the port when that one stops. That waiter ${refused}.`,
  );
});

test("a waiter holding the port with a source this waiter has not is said, with what that source meets here", async () => {
  const { port, lines, hold } = await heldByAnother("abcd", ["erp"], ["erp", "shop"]);
  expect(lines.join("")).toMatch(
    new RegExp(
      `warning +\\[waiter\\] 127\\.0\\.0\\.1:${port} is taken by another assistant's waiter, which receives "shop", a source this waiter has not: this waiter's tools refuse its name until one of its deliveries arrives, and once this waiter takes the port it refuses them \\(404, unknown webhook source\\): give both assistants' settings the same webhooks.sources \\(WAITER_WEBHOOKS_SOURCES\\); serving`,
    ),
  );
  expect(await hold.note()).toContain(
    `this waiter takes the port when that one stops. That waiter receives "shop", a source this waiter has not: this waiter's tools refuse its name`,
  );
});

test("a waiter holding the port whose sources differ both ways is said to lack some and to have others", async () => {
  const { port, lines, hold } = await heldByAnother("abcd", ["erp", "gh"], ["erp", "shop"]);
  const differ =
    'has no source "gh" of this waiter\'s, and refuses a delivery to its URL (404, unknown webhook source) until it stops, and receives "shop", a source this waiter has not: this waiter\'s tools refuse its name until one of its deliveries arrives, and once this waiter takes the port it refuses them (404, unknown webhook source): give both assistants\' settings the same webhooks.sources (WAITER_WEBHOOKS_SOURCES)';
  expect(lines.join("")).toContain(
    `127.0.0.1:${port} is taken by another assistant's waiter, which ${differ}; serving`,
  );
  expect(await hold.note()).toContain(`That waiter ${differ}.`);
});

test("a waiter that takes the port from one that had a source it has not says that source's deliveries are refused from now on", async () => {
  const holder = await startFake(() =>
    json(200, JSON.stringify({ status: "ok", mode: "stdio", sources: ["erp", "shop"], storeId: "abcd" })),
  );
  cleanups.push(() => holder.close());
  const lines: string[] = [];
  let tries = 0;
  const hold = await holdPort({
    listen: { host: "127.0.0.1", port: Number(new URL(holder.origin).port) },
    setting: "webhooks.listen (WAITER_WEBHOOKS_LISTEN)",
    take: true,
    bind: async () => {
      tries += 1;
      if (tries === 1) throw Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" });
      return (await start()).listener;
    },
    sources: ["erp"],
    sourceLines: () => [],
    log: new Log("info", (line) => lines.push(line)),
    retryMs: 10,
    storeId: "abcd",
  });
  cleanups.push(() => hold.close());
  await expect.poll(() => hold.listener).toBeDefined();
  expect(lines.find((line) => line.includes("from now on"))).toMatch(
    /warning +\[waiter\] receiving webhooks on \S+ from now on: the port is free again; the waiter that had it received "shop", a source this waiter has not: a delivery to its URL is refused from now on \(404, unknown webhook source\): give both assistants' settings the same webhooks.sources \(WAITER_WEBHOOKS_SOURCES\)\n$/,
  );
});

describe("stopping", () => {
  test("a stop closes the connections that sent nothing yet, and finishes a request that came", async () => {
    // A connection that has sent nothing is kept 300 ms once the stop begins, not a second.
    const { listener, port, url } = await start({}, { silentMs: 300 });
    const silent = await probe(port);
    const client = new Agent({ connections: 1 });
    cleanups.push(() => client.close());
    // A connection that carried a delivery and waits, kept alive, for the next.
    const { body, headers } = signed();
    await (await request(`${url}/webhooks/erp`, { method: "POST", body, headers, dispatcher: client })).body.dump();
    const started = performance.now();
    await listener.close();
    // Node counts a connection without a request as busy: without closing it, the stop waited
    // for its client, or for the 10 s drain.
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect.poll(() => silent.closed()).toBe(true);
  });

  test("a request sent as the stop begins, not yet read, is still stored and answered", async () => {
    const { listener, port, store } = await start();
    const accepted = new Promise((resolve) => listener.server.once("connection", resolve));
    const sender = await probe(port);
    await accepted;
    const { body, headers } = signed();
    const head = Object.entries({ ...headers, host: `127.0.0.1:${port}`, "content-length": Buffer.byteLength(body) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    // Written and the stop begun in the same turn: the listener has not read a byte of it yet.
    sender.socket.write(`POST /webhooks/erp HTTP/1.1\r\n${head}\r\n${body}`);
    const closing = listener.close();
    await expect.poll(() => statusOf(sender)).toBe("200");
    expect(sender.received()).toMatch(/\r\nConnection: close\r\n/i);
    await closing;
    expect((await store.stats()).events).toBe(1);
  });
});

test("forged deliveries are logged a line a minute for each source and reason, and every one counted", async () => {
  const lines: string[] = [];
  const { url, rejected } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const forged = () => {
    const { body, headers } = signed();
    return deliver(url, { body, headers: { ...headers, "x-signature": forgedSignature(body) } });
  };
  for (let i = 0; i < 5; i++) expect((await forged()).status).toBe(401);
  const logged = () => lines.filter((line) => line.includes("webhook erp rejected from 127.0.0.1: signature mismatch"));
  expect(logged()).toHaveLength(1);
  // Another reason is not held back by the first one's flood.
  expect((await deliver(url, { body: "{}", headers: {} })).status).toBe(401);
  expect(
    lines.filter((line) => line.includes("webhook erp rejected from 127.0.0.1: missing X-Signature header")),
  ).toHaveLength(1);
  setClock(clock.now() + 60_000);
  try {
    await forged();
    expect(logged()).toHaveLength(2);
    expect(logged()[1]).toMatch(/signature mismatch: .* \(and 4 more like it since the last line\)\n$/);
    expect(await rejected("signature mismatch")).toBe(6);
  } finally {
    setClock();
  }
});

test("a delivery signed with another secret than the source's is logged with the variable to check; its sender is told no more than the mismatch", async () => {
  const lines: string[] = [];
  const { url } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const body = '{"invoice":1}';
  const otherSecret = `sha256=${createHmac("sha256", "the-secret-the-sender-has").update(body).digest("hex")}`;
  const answer = await deliver(url, { body, headers: { ...erpHeaders(body, "d-other"), "x-signature": otherSecret } });
  expect(answer.status).toBe(401);
  expect(answer.body).toEqual({ error: "signature mismatch" });
  expect(lines.filter((line) => line.includes("webhook erp rejected"))).toEqual([
    expect.stringMatching(
      /info .*webhook erp rejected from 127.0.0.1: signature mismatch: if every delivery of this source is refused so, ERP_SECRET does not hold the secret its sender signs with, or something on the way \(a proxy, a tunnel\) changes the body, whose bytes as sent the signature covers; docs\/webhooks\.md#pointing-the-providers-at-waiter says where each provider shows it; it claims to be delivery "d-other"\n$/,
    ),
  ]);
});

test("a generic sender that writes its signature otherwise than the source's prefix and encoding say is told so, not that the secret differs", async () => {
  const lines: string[] = [];
  // One source that expects no prefix, as a sender that writes "sha256=" before its hex HMAC (as GitHub does) is set up when prefix is forgotten.
  const bare = { ...ERP_SOURCE, prefix: "" };
  const { url } = await start(
    { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, bare }) },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const body = '{"invoice":2}';
  const hex = createHmac("sha256", ERP_SECRET).update(body).digest("hex");
  const post = async (source: string, signature: string) => {
    const response = await request(`${url}/webhooks/${source}`, {
      method: "POST",
      headers: { ...erpHeaders(body, `d-${source}`), "x-signature": signature },
      body,
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  expect(await post("bare", `sha256=${hex}`)).toEqual({ status: 401, body: { error: "malformed X-Signature header" } });
  // And the other way: a source with prefix sha256= whose sender writes the hex alone.
  expect(await post("erp", hex)).toEqual({ status: 401, body: { error: "malformed X-Signature header" } });
  const cause = (source: string) =>
    new RegExp(
      `info .*webhook ${source} rejected from 127\\.0\\.0\\.1: malformed X-Signature header: if every delivery of this source is refused so, its sender writes the signature otherwise than the source's prefix \\(${source === "bare" ? '""' : '"sha256="'}\\) and encoding \\(hex\\) say: set them to what it writes`,
    );
  expect(lines.filter((line) => line.includes("rejected"))).toEqual([
    expect.stringMatching(cause("bare")),
    expect.stringMatching(cause("erp")),
  ]);
});

test("a sender that writes its HMAC in base64url, unpadded, is told the two encodings there are, not to set one that does not exist", async () => {
  const lines: string[] = [];
  const b64 = { ...ERP_SOURCE, encoding: "base64", prefix: "" };
  const { url } = await start(
    { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, b64 }) },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const body = '{"invoice":3}';
  const base64url = createHmac("sha256", ERP_SECRET).update(body).digest("base64url");
  const response = await request(`${url}/webhooks/b64`, {
    method: "POST",
    headers: { ...erpHeaders(body, "d-b64"), "x-signature": base64url },
    body,
  });
  expect({ status: response.statusCode, body: await response.body.json() }).toEqual({
    status: 401,
    body: { error: "malformed X-Signature header" },
  });
  expect(lines.filter((line) => line.includes("rejected"))).toEqual([
    expect.stringContaining(
      'its sender writes the signature otherwise than the source\'s prefix ("") and encoding (base64) say: set them to what it writes (a sender that writes sha256= before a hex HMAC, as GitHub does, needs "prefix": "sha256=" and "encoding": "hex"); encoding is "hex" or "base64" (with + and /, padded with =) only, so a sender that writes base64url or unpadded base64 must be made to write hex or padded base64; it claims',
    ),
  ]);
  // No value names base64url: the setting refuses it.
  expect(() =>
    loadConfig(
      { env: { ERP_SECRET, WAITER_WEBHOOKS_SOURCES: JSON.stringify({ b64: { ...b64, encoding: "base64url" } }) } },
      toolsets(),
    ),
  ).toThrow(/encoding/);
});

test("a signature header a proxy sent twice alike is its sender's one signature, the delivery stored; copies that differ are told", async () => {
  const lines: string[] = [];
  const key = Buffer.alloc(32, 7).toString("base64");
  const sources = {
    ...SOURCES,
    gh: { scheme: "github", secretEnv: "GH_SECRET" },
    shop: { scheme: "woocommerce", secretEnv: "WOO_SECRET" },
    shopify: { scheme: "shopify", secretEnv: "SHOPIFY_SECRET" },
    pay: { scheme: "stripe", secretEnv: "PAY_SECRET" },
    sw: { scheme: "standard-webhooks", secretEnv: "SW_SECRET" },
  };
  const secrets = {
    GH_SECRET: "gh-secret-for-tests",
    WOO_SECRET: "woo-secret-for-tests",
    SHOPIFY_SECRET: "shopify-secret-for-tests",
    PAY_SECRET: "whsec_the-stripe-webhook-secret",
    SW_SECRET: `whsec_${key}`,
  };
  const { url, store } = await start(
    { ...secrets, WAITER_WEBHOOKS_SOURCES: JSON.stringify(sources) },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  setClock("2026-12-05T09:30:00Z");
  cleanups.push(() => setClock());
  const t = Math.floor(clock.now() / 1000);
  const body = '{"id":"evt_7","type":"invoice.paid","date_modified_gmt":"2026-11-27T10:00:00"}';
  const mac = (secret: string, encoding: "hex" | "base64") =>
    createHmac("sha256", secret).update(body).digest(encoding);
  const forged = mac("not-the-secret-anyone-signs-with", "base64");
  // Source, its signature header, the signature, what else its sender sends, and another well-formed signature.
  const single = [
    ["erp", "X-Signature", `sha256=${mac(ERP_SECRET, "hex")}`, erpHeaders(body, "d-twice"), forgedSignature(body)],
    [
      "gh",
      "X-Hub-Signature-256",
      `sha256=${mac(secrets.GH_SECRET, "hex")}`,
      { "x-github-delivery": "g-twice", "x-github-event": "issues" },
      forgedSignature(body),
    ],
    ["shop", "X-WC-Webhook-Signature", mac(secrets.WOO_SECRET, "base64"), { "x-wc-webhook-id": "12" }, forged],
    [
      "shopify",
      "X-Shopify-Hmac-Sha256",
      mac(secrets.SHOPIFY_SECRET, "base64"),
      { "x-shopify-webhook-id": "w-1", "x-shopify-topic": "orders/paid" },
      forged,
    ],
  ] as const;
  const listing = [
    [
      "pay",
      "Stripe-Signature",
      `t=${t},v1=${createHmac("sha256", secrets.PAY_SECRET).update(`${t}.${body}`).digest("hex")}`,
      {},
    ],
    [
      "sw",
      "webhook-signature",
      new Webhook(key).sign("msg_1", new Date(clock.now()), body),
      { "webhook-id": "msg_1", "webhook-timestamp": String(t) },
    ],
  ] as const;
  const post = async (source: string, name: string, copies: string[], headers: Record<string, string>) => {
    // Node joins the copies of a header as one value, with ", " between them.
    const response = await request(`${url}/webhooks/${source}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", [name.toLowerCase()]: copies },
      body,
    });
    return { source, status: response.statusCode, body: await response.body.json() };
  };
  for (const [source, name, signature, headers] of [...single, ...listing]) {
    expect(await post(source, name, [signature, signature], headers)).toMatchObject({
      source,
      status: 200,
      body: { duplicate: false },
    });
    expect((await store.list({ source }, { limit: 5, bodies: false })).length).toBe(1);
  }
  for (const [source, name, signature, headers, other] of single) {
    expect(await post(source, name, [signature, other], headers)).toEqual({
      source,
      status: 401,
      body: { error: `${name} header sent more than once, its copies differing` },
    });
  }
  expect(lines.filter((line) => line.includes("rejected"))).toEqual(
    single.map(([source, name]) =>
      expect.stringContaining(
        `webhook ${source} rejected from 127.0.0.1: ${name} header sent more than once, its copies differing: if every delivery of this source is refused so, something on the way (a proxy, a tunnel) sends the ${name} header again beside its sender's, with another value, and waiter cannot tell which is the sender's: have it pass the sender's header on once`,
      ),
    ),
  );
});

const STRIPE_SECRET = "whsec_the-stripe-webhook-secret";

/** A listener with a Stripe source, pay, signed with STRIPE_SECRET, the lines it logs, and the clock set. */
async function startStripe() {
  const lines: string[] = [];
  const { url, store } = await start(
    {
      PAY_SECRET: STRIPE_SECRET,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, pay: { scheme: "stripe", secretEnv: "PAY_SECRET" } }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  setClock("2026-12-05T09:30:00Z");
  cleanups.push(() => setClock());
  return { url, store, lines };
}

/** A Stripe-Signature header value: t, and the v1 that secret makes of `${t}.${body}`. */
function stripeSignature(secret: string, t: number, body: string) {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

/** Posts body to pay signed by STRIPE_SECRET at t; its status and JSON answer. */
async function postStripe(url: string, t: number, body: string) {
  const response = await request(`${url}/webhooks/pay`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": stripeSignature(STRIPE_SECRET, t, body) },
    body,
  });
  return { status: response.statusCode, body: await response.body.json() };
}

test("a Stripe delivery whose Stripe-Signature a proxy re-signed, its copy first, is stored by Stripe's copy, each copy's v1 checked with its own t", async () => {
  const { url, store } = await startStripe();
  const t = Math.floor(clock.now() / 1000);
  const body = '{"id":"evt_relayed","object":"event","type":"invoice.paid"}';
  const send = async (copies: string[]) => {
    const response = await request(`${url}/webhooks/pay`, {
      method: "POST",
      // Node joins the copies of a header as one value, with ", " between them.
      headers: { "content-type": "application/json", "stripe-signature": copies },
      body,
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  const stripes = stripeSignature(STRIPE_SECRET, t - 2, body);
  // A relay's own signature, stamped when it passed the delivery on, written before Stripe's.
  const relays = stripeSignature("whsec_the-relay-s-own-secret", t, body);
  expect(await send([relays, stripes])).toMatchObject({ status: 200, body: { duplicate: false } });
  expect(await send([stripes, relays])).toMatchObject({ status: 200, body: { duplicate: true } });
  // Stripe's v1 under the relay's t signs nothing Stripe sent.
  const mixed = `t=${t},v1=${stripes.split("v1=")[1]}`;
  expect(await send([mixed, relays])).toEqual({ status: 401, body: { error: "signature mismatch" } });
  // A copy signed by Stripe's secret long ago is refused for its age, as a single one is.
  const old = stripeSignature(STRIPE_SECRET, t - 3600, body);
  expect(await send([relays, old])).toEqual({
    status: 401,
    body: { error: "timestamp outside the 300 s tolerance" },
  });
  expect((await store.list({ source: "pay" }, { limit: 5, bodies: false })).map((e) => e.dedupeId)).toEqual([
    "evt_relayed",
  ]);
});

test("a Stripe delivery an hour old is logged as this machine's clock ahead, not Stripe's clock off: Stripe stamps each attempt", async () => {
  const { url, lines } = await startStripe();
  // Stripe's clock is right; this machine's runs an hour ahead of it.
  const t = Math.floor(clock.now() / 1000) - 3600;
  const body = '{"id":"evt_late","object":"event","type":"invoice.paid"}';
  expect(await postStripe(url, t, body)).toEqual({
    status: 401,
    body: { error: "timestamp outside the 300 s tolerance" },
  });
  expect(lines.filter((line) => line.includes("rejected"))).toEqual([
    expect.stringContaining(
      "webhook pay rejected from 127.0.0.1: timestamp outside the 300 s tolerance (stamped 3600 s behind this machine's clock): if every delivery of this source is refused so, this machine's clock may be ahead (check NTP): Stripe stamps each attempt as it sends it",
    ),
  ]);
});

test("a Stripe-Signature t written in milliseconds is refused as that, and the log says its sender is no Stripe, which writes seconds", async () => {
  const { url, lines } = await startStripe();
  // A relay that stamps Date.now() as it is, and signs that.
  const t = clock.now();
  const body = '{"id":"evt_ms","object":"event","type":"invoice.paid"}';
  expect(await postStripe(url, t, body)).toEqual({
    status: 401,
    body: { error: "timestamp in milliseconds, where seconds are asked" },
  });
  expect(lines.filter((line) => line.includes("rejected"))).toEqual([
    expect.stringContaining(
      "webhook pay rejected from 127.0.0.1: timestamp in milliseconds, where seconds are asked: if every delivery of this source is refused so, its sender is not Stripe, which writes Stripe-Signature's t in whole seconds, but something that signs the deliveries itself (a relay, a test script) and writes t in milliseconds since 1970: have it write seconds",
    ),
  ]);
});

/** A listener with a Standard Webhooks source, sw, whose key is returned, the lines it logs, and the clock set. */
async function startStandardWebhooks() {
  const lines: string[] = [];
  const key = Buffer.alloc(32, 7).toString("base64");
  const { url, store } = await start(
    {
      SW_SECRET: `whsec_${key}`,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        ...SOURCES,
        sw: { scheme: "standard-webhooks", secretEnv: "SW_SECRET" },
      }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  setClock("2026-12-05T09:30:00Z");
  cleanups.push(() => setClock());
  return { url, store, lines, key };
}

test.each([
  // A sender that stamps Date.now() as it is, and signs that.
  ["milliseconds", 1],
  // Go's time.Now().UnixMicro(), Python's time.time_ns() // 1000.
  ["microseconds", 1_000],
  // Go's time.Now().UnixNano(), Python's time.time_ns().
  ["nanoseconds", 1_000_000],
])(
  "a Standard Webhooks timestamp written in %s is refused as that, and the log says to write seconds",
  async (unit, perMillisecond) => {
    const { url, lines, key } = await startStandardWebhooks();
    const body = '{"type":"invoice.paid"}';
    const stamp = (BigInt(clock.now()) * BigInt(perMillisecond)).toString();
    const signature = `v1,${createHmac("sha256", Buffer.from(key, "base64")).update(`msg_1.${stamp}.${body}`).digest("base64")}`;
    const response = await request(`${url}/webhooks/sw`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": signature,
      },
      body,
    });
    expect({ status: response.statusCode, body: await response.body.json() }).toEqual({
      status: 401,
      body: { error: `webhook-timestamp in ${unit}, where seconds are asked` },
    });
    expect(lines.filter((line) => line.includes("rejected"))).toEqual([
      expect.stringContaining(
        `webhook sw rejected from 127.0.0.1: webhook-timestamp in ${unit}, where seconds are asked: if every delivery of this source is refused so, its sender writes webhook-timestamp in ${unit} since 1970, where Standard Webhooks asks whole seconds: have it write seconds`,
      ),
    ]);
  },
);

test.each([
  // Python's str(time.time()), and an ISO 8601 date.
  ["webhook-timestamp", "1796463000.123456", "Standard Webhooks"],
  ["svix-timestamp", "2026-12-05T09:30:00Z", "Svix"],
])(
  "a %s of %s is logged as written otherwise than whole seconds, which the sender is to mend",
  async (name, stamp, scheme) => {
    const { url, lines, key } = await startStandardWebhooks();
    const body = '{"type":"invoice.paid"}';
    const prefix = name.split("-")[0];
    const signature = `v1,${createHmac("sha256", Buffer.from(key, "base64")).update(`msg_1.${stamp}.${body}`).digest("base64")}`;
    const response = await request(`${url}/webhooks/sw`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [`${prefix}-id`]: "msg_1",
        [name]: stamp,
        [`${prefix}-signature`]: signature,
      },
      body,
    });
    expect({ status: response.statusCode, body: await response.body.json() }).toEqual({
      status: 401,
      body: { error: `malformed ${name} header` },
    });
    expect(lines.filter((line) => line.includes("rejected"))).toEqual([
      expect.stringContaining(
        `webhook sw rejected from 127.0.0.1: malformed ${name} header: if every delivery of this source is refused so, its sender writes ${name} otherwise than ${scheme} asks, whole seconds since 1970 (no fraction, no date): have it write those`,
      ),
    ]);
  },
);

test("a Svix sender's timestamp in milliseconds is refused naming svix-timestamp, the header it sent", async () => {
  const { url, lines, key, store } = await startStandardWebhooks();
  const body = '{"type":"invoice.paid"}';
  const stamp = String(clock.now());
  const signature = `v1,${createHmac("sha256", Buffer.from(key, "base64")).update(`msg_1.${stamp}.${body}`).digest("base64")}`;
  const response = await request(`${url}/webhooks/sw`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "svix-id": "msg_1",
      "svix-timestamp": stamp,
      "svix-signature": signature,
    },
    body,
  });
  const reason = "svix-timestamp in milliseconds, where seconds are asked";
  expect({ status: response.statusCode, body: await response.body.json() }).toEqual({
    status: 401,
    body: { error: reason },
  });
  expect((await store.counters()).sw).toEqual({ received: 1, [`rejected:${reason}`]: 1 });
  expect(lines.filter((line) => line.includes("rejected"))).toEqual([
    expect.stringContaining(
      `webhook sw rejected from 127.0.0.1: ${reason}: if every delivery of this source is refused so, its sender writes svix-timestamp in milliseconds since 1970, where Svix asks whole seconds: have it write seconds`,
    ),
  ]);
});

test.each([
  ["webhook", "Standard Webhooks"],
  ["svix", "Svix"],
])(
  "a %s-signature in hex is logged as written otherwise than %s asks, and how it asks it, not as a wrong secret",
  async (prefix, scheme) => {
    const { url, lines, key } = await startStandardWebhooks();
    const body = '{"type":"invoice.paid"}';
    const stamp = String(Math.floor(clock.now() / 1000));
    const hex = createHmac("sha256", Buffer.from(key, "base64")).update(`msg_1.${stamp}.${body}`).digest("hex");
    const response = await request(`${url}/webhooks/sw`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [`${prefix}-id`]: "msg_1",
        [`${prefix}-timestamp`]: stamp,
        [`${prefix}-signature`]: `v1,${hex}`,
      },
      body,
    });
    expect({ status: response.statusCode, body: await response.body.json() }).toEqual({
      status: 401,
      body: { error: `malformed ${prefix}-signature header` },
    });
    expect(lines.filter((line) => line.includes("rejected"))).toEqual([
      expect.stringContaining(
        `webhook sw rejected from 127.0.0.1: malformed ${prefix}-signature header: if every delivery of this source is refused so, its sender writes ${prefix}-signature otherwise than ${scheme} asks, v1,<base64 of the HMAC-SHA256> (not hex), several apart by spaces: have it write that`,
      ),
    ]);
  },
);

test("a stale timestamp is logged with how far it is off, so a sender an hour off is told from this machine's clock", async () => {
  const { url, store, lines, key } = await startStandardWebhooks();
  const body = '{"type":"invoice.paid"}';
  const send = async (skewSeconds: number) => {
    // A sender that takes its local time (UTC+1) for UTC stamps an hour behind.
    const signedAt = new Date(clock.now() + skewSeconds * 1000);
    const response = await request(`${url}/webhooks/sw`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": `msg_${skewSeconds}`,
        "webhook-timestamp": String(Math.floor(signedAt.getTime() / 1000)),
        "webhook-signature": new Webhook(key).sign(`msg_${skewSeconds}`, signedAt, body),
      },
      body,
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  // The sender is told no more than before, and the refusal is counted under its reason alone.
  expect(await send(-3600)).toEqual({ status: 401, body: { error: "timestamp outside the 300 s tolerance" } });
  expect((await store.counters()).sw).toEqual({ received: 1, "rejected:timestamp outside the 300 s tolerance": 1 });
  const cause =
    "if every delivery of this source is refused so, this machine's clock may be wrong (check NTP), or its sender's: one a whole number of hours off takes local time for UTC";
  expect(lines.filter((line) => line.includes("rejected"))).toEqual([
    expect.stringContaining(
      `webhook sw rejected from 127.0.0.1: timestamp outside the 300 s tolerance (stamped 3600 s behind this machine's clock): ${cause}`,
    ),
  ]);
});

test("a Standard Webhooks id sent twice alike is its sender's, a retry sent once its repeat; copies that differ are told", async () => {
  const { url, lines, key } = await startStandardWebhooks();
  const body = '{"type":"invoice.paid"}';
  const send = async (id: string | string[]) => {
    const response = await request(`${url}/webhooks/sw`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        // Node joins the copies of a header as one value, with ", " between them.
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(clock.now() / 1000)),
        "webhook-signature": new Webhook(key).sign("msg_1", new Date(clock.now()), body),
      },
      body,
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  expect(await send(["msg_1", "msg_1"])).toMatchObject({ status: 200, body: { duplicate: false } });
  expect(await send("msg_1")).toMatchObject({ status: 200, body: { duplicate: true } });
  expect(await send(["msg_1", "msg_2"])).toEqual({
    status: 401,
    body: { error: "webhook-id header sent more than once, its copies differing" },
  });
  expect(lines.filter((line) => line.includes("rejected"))).toEqual([
    expect.stringContaining(
      "webhook sw rejected from 127.0.0.1: webhook-id header sent more than once, its copies differing: if every delivery of this source is refused so, something on the way (a proxy, a tunnel) sends the webhook-id header again beside its sender's, with another value, and waiter cannot tell which is the sender's: have it pass the sender's header on once",
    ),
  ]);
});

test("a Standard Webhooks signature header a proxy sent again with another list verifies by the sender's copy, first or last", async () => {
  const { url, store, key } = await startStandardWebhooks();
  const body = '{"type":"invoice.paid"}';
  const send = async (id: string, order: (signed: string, other: string) => string[]) => {
    const at = new Date(clock.now());
    const response = await request(`${url}/webhooks/sw`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(clock.now() / 1000)),
        // Node joins the copies of a header as one value, with ", " between them.
        "webhook-signature": order(
          new Webhook(key).sign(id, at, body),
          new Webhook(Buffer.alloc(32, 8).toString("base64")).sign(id, at, body),
        ),
      },
      body,
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  const stored = { status: 200, body: { duplicate: false } };
  expect(await send("msg_1", (signed, other) => [signed, other])).toMatchObject(stored);
  expect(await send("msg_2", (signed, other) => [other, signed])).toMatchObject(stored);
  expect(
    (await store.list({ source: "sw" }, { limit: 5, bodies: false })).map((event) => event.dedupeId).sort(),
  ).toEqual(["msg_1", "msg_2"]);
});

test("a GitHub delivery whose X-GitHub-Delivery a proxy sent twice is stored by its one id, and its redelivery is its repeat", async () => {
  const { url, store } = await start({
    GH_SECRET: "gh-secret-for-tests",
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, gh: { scheme: "github", secretEnv: "GH_SECRET" } }),
  });
  const body = '{"action":"opened"}';
  const send = async (id: string | string[]) => {
    const response = await request(`${url}/webhooks/gh`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "issues",
        // Node joins the copies of a header as one value, with ", " between them.
        "x-github-delivery": id,
        "x-hub-signature-256": `sha256=${createHmac("sha256", "gh-secret-for-tests").update(body).digest("hex")}`,
      },
      body,
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  expect(await send(["g-1", "g-1"])).toMatchObject({ status: 200, body: { duplicate: false } });
  expect(await send("g-1")).toMatchObject({ status: 200, body: { duplicate: true } });
  expect((await store.list({ source: "gh" }, { limit: 5, bodies: false })).map((event) => event.dedupeId)).toEqual([
    "g-1",
  ]);
});

test("a signed GitHub delivery whose X-GitHub-Delivery a proxy sent again, differing, is stored by the sender's copy, and the log names the copies", async () => {
  const lines: string[] = [];
  const { url, store } = await start(
    {
      GH_SECRET: "gh-secret-for-tests",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, gh: { scheme: "github", secretEnv: "GH_SECRET" } }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const body = '{"action":"opened"}';
  const send = async (secret: string) => {
    const response = await request(`${url}/webhooks/gh`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "issues",
        // Sent twice on the wire: GitHub's, then the one a proxy adds after it.
        "x-github-delivery": ["g-sender", "req-proxy"],
        "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
      body,
    });
    return { status: response.statusCode, body: await response.body.json() };
  };
  expect(await send("not-the-secret-of-gh")).toMatchObject({ status: 401, body: { error: "signature mismatch" } });
  expect(await send("gh-secret-for-tests")).toMatchObject({ status: 200, body: { duplicate: false } });
  expect((await store.list({ source: "gh" }, { limit: 5, bodies: false })).map((event) => event.dedupeId)).toEqual([
    "g-sender",
  ]);
  expect(lines.filter((line) => line.includes("req-proxy"))).toEqual([
    expect.stringContaining("webhook gh rejected from 127.0.0.1: signature mismatch"),
    expect.stringContaining(
      'webhook gh took "g-sender" reading the first of the differing copies of X-GitHub-Delivery ("g-sender", "req-proxy")',
    ),
  ]);
});

test("a GitHub ping or Shopify test notification whose unsigned header a proxy sent again, differing, is answered 200 and the log names the copies once a minute", async () => {
  const lines: string[] = [];
  const secrets = { GH_SECRET: "gh-secret-for-tests", SHOPIFY_SECRET: "shopify-secret-for-tests" };
  const { url } = await start(
    {
      ...secrets,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        ...SOURCES,
        gh: { scheme: "github", secretEnv: "GH_SECRET" },
        shopify: { scheme: "shopify", secretEnv: "SHOPIFY_SECRET" },
      }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const body = '{"zen":"Keep it logically awesome.","hook_id":1}';
  const send = async (source: string, headers: Record<string, string | string[]>) =>
    (
      await request(`${url}/webhooks/${source}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      })
    ).statusCode;
  const ping = {
    "x-github-event": "ping",
    // Sent twice on the wire: GitHub's, then the one a proxy adds after it.
    "x-github-delivery": ["g-ping", "req-proxy"],
    "x-hub-signature-256": `sha256=${createHmac("sha256", secrets.GH_SECRET).update(body).digest("hex")}`,
  };
  expect(await send("gh", ping)).toBe(200);
  // Anyone may replay a signed ping, with copies of their own: a line a minute for each source.
  expect(await send("gh", ping)).toBe(200);
  expect(
    await send("shopify", {
      "x-shopify-test": "true",
      "x-shopify-topic": "orders/create",
      "x-shopify-webhook-id": ["w-test", "req-proxy"],
      "x-shopify-hmac-sha256": createHmac("sha256", secrets.SHOPIFY_SECRET).update(body).digest("base64"),
    }),
  ).toBe(200);
  expect(lines.filter((line) => line.includes("req-proxy"))).toEqual([
    expect.stringContaining(
      `warning [waiter] webhook gh took GitHub's test delivery "g-ping" reading the first of the differing copies of X-GitHub-Delivery ("g-ping", "req-proxy")`,
    ),
    expect.stringContaining(
      `warning [waiter] webhook shopify took Shopify's test delivery "w-test" reading the first of the differing copies of X-Shopify-Webhook-Id ("w-test", "req-proxy")`,
    ),
  ]);
});

test("a delivery whose body a proxy re-encoded on the way is logged with that cause beside the secret: the secret may be right", async () => {
  const lines: string[] = [];
  const { url } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const body = '{"invoice":1,"total":"19.99"}';
  const answer = await deliver(url, {
    body: JSON.stringify(JSON.parse(body), null, 2),
    headers: erpHeaders(body, "d-pretty"),
  });
  expect(answer).toEqual({ status: 401, body: { error: "signature mismatch" } });
  expect(lines.filter((line) => line.includes("webhook erp rejected"))).toEqual([
    expect.stringMatching(
      /signature mismatch: if every delivery of this source is refused so, ERP_SECRET does not hold the secret its sender signs with, or something on the way \(a proxy, a tunnel\) changes the body, whose bytes as sent the signature covers;/,
    ),
  ]);
});

describe("a source whose sender signs with another secret than waiter's", () => {
  /** A delivery as the erp sender signs it with the secret it had before the last rotation. */
  const signedWithOldSecret = () => {
    const { body, headers } = signed();
    return {
      body,
      headers: {
        ...headers,
        "x-signature": `sha256=${createHmac("sha256", "the-old-erp-secret").update(body).digest("hex")}`,
      },
    };
  };
  const at = async (instant: string, url: string, delivery: { body: string; headers: Record<string, string> }) => {
    setClock(instant);
    return (await deliver(url, delivery)).status;
  };
  const listening = async () => {
    const lines: string[] = [];
    const { url } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    return {
      url,
      warnings: () => lines.filter((line) => / warning .*webhook erp: /.test(line)),
      recovered: () => lines.filter((line) => line.includes("webhook erp: a delivery verifies again")),
    };
  };
  afterEach(() => setClock());

  test("is warned of once its deliveries have failed the signature check for an hour since the last verified, again hourly, and its recovery said", async () => {
    const { url, warnings, recovered } = await listening();
    expect(await at("2026-11-30T08:00:00Z", url, signed())).toBe(200);
    expect(await at("2026-11-30T08:10:00Z", url, signedWithOldSecret())).toBe(401);
    expect(await at("2026-11-30T08:40:00Z", url, signedWithOldSecret())).toBe(401);
    expect(warnings()).toEqual([]);
    expect(await at("2026-11-30T09:10:01Z", url, signedWithOldSecret())).toBe(401);
    expect(warnings()).toEqual([
      expect.stringMatching(
        /warning .*webhook erp: no delivery verified since 2026-11-30T08:00:00\.\d{3}Z, and 3 refused since for a signature mismatch, over 60 min: its secret was likely changed at the sender and not in waiter, or the reverse; ERP_SECRET does not hold the secret its sender signs with, or something on the way \(a proxy, a tunnel\) changes the body, whose bytes as sent the signature covers; docs\/webhooks\.md#pointing-the-providers-at-waiter says where each provider shows it, and docs\/webhooks\.md#rotating-a-secret how to change one without refusing deliveries\n$/,
      ),
    ]);
    // Not again within the hour, however many come.
    expect(await at("2026-11-30T09:40:00Z", url, signedWithOldSecret())).toBe(401);
    expect(await at("2026-11-30T10:10:00Z", url, signedWithOldSecret())).toBe(401);
    expect(warnings()).toHaveLength(1);
    expect(await at("2026-11-30T10:10:02Z", url, signedWithOldSecret())).toBe(401);
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toMatch(
      /no delivery verified since 2026-11-30T08:00:00\.\d{3}Z, and 6 refused since .*, over 120 min/,
    );
    expect(recovered()).toEqual([]);
    expect(await at("2026-11-30T10:20:00Z", url, signed())).toBe(200);
    expect(recovered()).toEqual([
      expect.stringMatching(
        /info .*webhook erp: a delivery verifies again, after 6 refused for a signature mismatch since the last one verified, at 2026-11-30T08:00:00\.\d{3}Z\n$/,
      ),
    ]);
    // A new run is counted from its own first mismatch, and a verified delivery after it is no recovery.
    expect(await at("2026-11-30T10:30:00Z", url, signedWithOldSecret())).toBe(401);
    expect(await at("2026-11-30T11:29:00Z", url, signedWithOldSecret())).toBe(401);
    expect(await at("2026-11-30T11:30:00Z", url, signed())).toBe(200);
    expect(warnings()).toHaveLength(2);
    expect(recovered()).toHaveLength(1);
  });

  test("a source set to X-Slack-Signature is told its refused deliveries are Slack's, signed over a timestamp with the body, not that its secret changed", async () => {
    const lines: string[] = [];
    const secret = "slack-signing-secret";
    const { url, store } = await start(
      {
        SLACK_SIGNING_SECRET: secret,
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({
          slack: {
            scheme: "hmac-sha256",
            secretEnv: "SLACK_SIGNING_SECRET",
            header: "X-Slack-Signature",
            prefix: "v0=",
            encoding: "hex",
          },
        }),
      },
      {},
      new Log("info", (line) => lines.push(line)),
    );
    const post = async (instant: string, headers: (body: string) => Record<string, string>) => {
      setClock(instant);
      const body = JSON.stringify({ type: "event_callback", event_id: `Ev${clock.now()}`, event: { type: "message" } });
      const sent = { "content-type": "application/json", ...headers(body) };
      return (await request(`${url}/webhooks/slack`, { method: "POST", body, headers: sent })).statusCode;
    };
    // A delivery signed over its body alone, as the source checks (a script's), verifies.
    const overBody = (body: string) => ({
      "x-slack-signature": `v0=${createHmac("sha256", secret).update(body).digest("hex")}`,
    });
    // Slack signs v0:<X-Slack-Request-Timestamp>:<body>, with the same secret.
    const asSlack = (body: string) => {
      const timestamp = String(Math.floor(clock.now() / 1000));
      const signature = createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex");
      return { "x-slack-request-timestamp": timestamp, "x-slack-signature": `v0=${signature}` };
    };
    expect(await post("2026-11-30T08:00:00Z", overBody)).toBe(200);
    expect(await post("2026-11-30T08:10:00Z", asSlack)).toBe(401);
    expect(await post("2026-11-30T08:40:00Z", asSlack)).toBe(401);
    expect(await post("2026-11-30T09:10:01Z", asSlack)).toBe(401);
    expect(lines.filter((line) => line.includes("likely changed"))).toEqual([]);
    const said =
      "signature mismatch: it is Slack's signed delivery, and Slack signs a timestamp with the body, as no signed scheme here checks: only a source of scheme none takes its deliveries, for local trials on a loopback address with no public URL (docs/webhooks.md#configuring-sources)";
    expect(lines.filter((line) => line.includes("webhook slack rejected"))).toEqual(
      Array(3).fill(expect.stringContaining(said)),
    );
    expect((await store.counters()).slack).toMatchObject({ "rejected:Slack's signed delivery": 3 });
  });

  test("a source set to X-Slack-Signature whose own sender passes Slack's headers on is told its secret likely changed when its signatures stop matching", async () => {
    const lines: string[] = [];
    const { url, store } = await start(
      {
        RELAY_SECRET: "relay-signing-secret",
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({
          relay: { scheme: "hmac-sha256", secretEnv: "RELAY_SECRET", header: "X-Slack-Signature", prefix: "v0=" },
        }),
      },
      {},
      new Log("info", (line) => lines.push(line)),
    );
    // A relay that takes Slack's requests, keeps their timestamp and signs each body with its own secret.
    const relayed = async (instant: string, secret: string) => {
      setClock(instant);
      const body = JSON.stringify({ type: "event_callback", event_id: `Ev${clock.now()}`, event: { type: "message" } });
      const headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": String(Math.floor(clock.now() / 1000)),
        "x-slack-signature": `v0=${createHmac("sha256", secret).update(body).digest("hex")}`,
      };
      return (await request(`${url}/webhooks/relay`, { method: "POST", body, headers })).statusCode;
    };
    expect(await relayed("2026-11-30T08:00:00Z", "relay-signing-secret")).toBe(200);
    // Its secret changed at the relay, not in waiter.
    expect(await relayed("2026-11-30T08:10:00Z", "rotated-relay-signing-secret")).toBe(401);
    expect(await relayed("2026-11-30T08:40:00Z", "rotated-relay-signing-secret")).toBe(401);
    expect(await relayed("2026-11-30T09:10:01Z", "rotated-relay-signing-secret")).toBe(401);
    expect(lines.filter((line) => line.includes("webhook relay: no delivery verified since"))).toEqual([
      expect.stringContaining("its secret was likely changed at the sender and not in waiter"),
    ]);
    expect((await store.counters()).relay).toMatchObject({ "rejected:signature mismatch, with Slack's headers": 3 });
  });

  test("a source set to a header of its own sender's is told its secret differs, not of Slack, when that sender passes Slack's headers on", async () => {
    const lines: string[] = [];
    const { url, store } = await start(
      {
        RELAY_SECRET: "relay-signing-secret",
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({
          relay: { scheme: "hmac-sha256", secretEnv: "RELAY_SECRET", header: "X-Relay-Signature" },
        }),
      },
      {},
      new Log("info", (line) => lines.push(line)),
    );
    // A relay that passes Slack's request on, its headers too, and signs the body in a header of its own.
    setClock("2026-11-30T08:00:00Z");
    try {
      const body = JSON.stringify({ type: "event_callback", event_id: "Ev1", event: { type: "message" } });
      const timestamp = String(Math.floor(clock.now() / 1000));
      const headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": `v0=${createHmac("sha256", "slack-signing-secret").update(`v0:${timestamp}:${body}`).digest("hex")}`,
        "x-relay-signature": createHmac("sha256", "rotated-relay-signing-secret").update(body).digest("hex"),
      };
      expect((await request(`${url}/webhooks/relay`, { method: "POST", body, headers })).statusCode).toBe(401);
    } finally {
      setClock();
    }
    expect(lines.filter((line) => line.includes("webhook relay rejected"))).toEqual([
      expect.stringContaining(
        "signature mismatch: if every delivery of this source is refused so, RELAY_SECRET does not hold the secret its sender signs with",
      ),
    ]);
    expect((await store.counters()).relay).toMatchObject({ "rejected:signature mismatch": 1 });
  });

  test("a WooCommerce source is told to set its webhook back to Active only once waiter holds its secret: one more failure disables it again", async () => {
    const lines: string[] = [];
    const { url } = await start(
      {
        WOO_WEBHOOK_SECRET: "woo-webhook-secret",
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" } }),
      },
      {},
      new Log("info", (line) => lines.push(line)),
    );
    const order = (key: string, id: number) => {
      const body = JSON.stringify({ id, status: "processing", date_modified_gmt: "2026-11-30T08:00:00" });
      const signature = createHmac("sha256", key).update(body).digest("base64");
      return { body, headers: { "x-wc-webhook-signature": signature, "x-wc-webhook-id": "12" } };
    };
    const post = async (instant: string, delivery: { body: string; headers: Record<string, string> }) => {
      setClock(instant);
      return (await request(`${url}/webhooks/shop`, { method: "POST", ...delivery })).statusCode;
    };
    expect(await post("2026-11-30T08:00:00Z", order("woo-webhook-secret", 1))).toBe(200);
    expect(await post("2026-11-30T08:10:00Z", order("woo-webhook-secret-new", 2))).toBe(401);
    expect(await post("2026-11-30T09:10:01Z", order("woo-webhook-secret-new", 3))).toBe(401);
    expect(lines.filter((line) => / warning .*webhook shop: /.test(line))).toEqual([
      expect.stringMatching(
        /; WooCommerce does not send the refused deliveries again \(WooCommerce → Status → Logs lists them\), and disables the webhook at its seventh failure in a row: once WOO_WEBHOOK_SECRET holds the secret it signs with, set it back to Active under WooCommerce → Settings → Advanced → Webhooks \(WooCommerce keeps its count of failures until a delivery succeeds, so before that one more failure disables it again\)\n$/,
      ),
    ]);
  });

  test("a GitHub source is told to redeliver the refused deliveries within the days GitHub keeps them", async () => {
    const lines: string[] = [];
    const { url } = await start(
      {
        GITHUB_WEBHOOK_SECRET: "github-webhook-secret",
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ gh: { scheme: "github", secretEnv: "GITHUB_WEBHOOK_SECRET" } }),
      },
      {},
      new Log("info", (line) => lines.push(line)),
    );
    const push = (key: string, delivery: string) => {
      const body = JSON.stringify({ ref: "refs/heads/main", after: delivery });
      const signature = `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
      return {
        body,
        headers: { "x-hub-signature-256": signature, "x-github-delivery": delivery, "x-github-event": "push" },
      };
    };
    const post = async (instant: string, delivery: { body: string; headers: Record<string, string> }) => {
      setClock(instant);
      return (await request(`${url}/webhooks/gh`, { method: "POST", ...delivery })).statusCode;
    };
    expect(await post("2026-11-30T08:00:00Z", push("github-webhook-secret", "d-1"))).toBe(200);
    expect(await post("2026-11-30T08:10:00Z", push("github-webhook-secret-new", "d-2"))).toBe(401);
    expect(await post("2026-11-30T09:10:01Z", push("github-webhook-secret-new", "d-3"))).toBe(401);
    // GitHub.com lists a webhook's deliveries, and redelivers them, for 3 days; GitHub Enterprise Server for 7.
    expect(lines.filter((line) => / warning .*webhook gh: /.test(line))).toEqual([
      expect.stringMatching(
        /; GitHub does not send the refused deliveries again: once they verify, redeliver each within 3 days \(7 on GitHub Enterprise Server\) from the webhook's Recent Deliveries\n$/,
      ),
    ]);
  });

  test("after a restart, is warned of from the last delivery the store holds from it: a secret changed in waiter alone", async () => {
    const lines: string[] = [];
    const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    // What the listener stored before it was restarted with another secret.
    await store.add({
      source: "erp",
      type: "invoice.created",
      scheme: "hmac-sha256",
      dedupeId: "d-before",
      headers: {},
      body: Buffer.from('{"invoice":0}'),
      receivedAt: Date.parse("2026-11-29T17:00:00Z"),
    });
    for (const instant of ["2026-11-30T08:00:00Z", "2026-11-30T08:30:00Z", "2026-11-30T09:00:01Z"]) {
      expect(await at(instant, url, signedWithOldSecret())).toBe(401);
    }
    expect(lines.filter((line) => / warning .*webhook erp: /.test(line))).toEqual([
      expect.stringMatching(
        /webhook erp: no delivery verified since 2026-11-29T17:00:00\.000Z, and 3 refused since for a signature mismatch, over 60 min: .*ERP_SECRET does not hold/,
      ),
    ]);
  });

  test("is warned of though a delivery it stored before is sent again meanwhile: a repeat is anyone's who kept one", async () => {
    const { url, warnings } = await listening();
    const kept = signed();
    expect(await at("2026-11-30T08:00:00Z", url, kept)).toBe(200);
    expect(await at("2026-11-30T08:10:00Z", url, signedWithOldSecret())).toBe(401);
    expect(await at("2026-11-30T08:50:00Z", url, kept)).toBe(200);
    expect(await at("2026-11-30T09:10:01Z", url, signedWithOldSecret())).toBe(401);
    expect(warnings()).toEqual([
      expect.stringMatching(/webhook erp: no delivery verified since 2026-11-30T08:00:00\.\d{3}Z, and 2 refused since/),
    ]);
  });

  test("is not told from a stranger's forgeries: none at a source that never verified a delivery, none between real deliveries within the hour, none for malformed ones", async () => {
    const { url, warnings } = await listening();
    const missingSignature = () => {
      const { body, headers } = signed();
      return { body, headers: { ...headers, "x-signature": "" } };
    };
    for (const instant of ["2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z"]) {
      expect(await at(instant, url, signedWithOldSecret())).toBe(401);
    }
    expect(await at("2026-11-30T12:00:00Z", url, signed())).toBe(200);
    for (const instant of ["2026-11-30T12:01:00Z", "2026-11-30T12:30:00Z", "2026-11-30T12:59:00Z"]) {
      expect(await at(instant, url, signedWithOldSecret())).toBe(401);
    }
    expect(await at("2026-11-30T13:00:00Z", url, signed())).toBe(200);
    for (const instant of ["2026-11-30T13:01:00Z", "2026-11-30T14:30:00Z", "2026-11-30T16:00:00Z"]) {
      expect(await at(instant, url, missingSignature())).toBe(401);
    }
    expect(warnings()).toEqual([]);
  });
});

/** A listener with a Comgate source of `merchant`, its secret in COMGATE_SECRET, and the lines it logs. */
async function startComgate(merchant: string) {
  const lines: string[] = [];
  const comgate = { scheme: "comgate", merchant, secretEnv: "COMGATE_SECRET", confirm: false };
  const { url } = await start(
    {
      COMGATE_SECRET: "ZqVmRr0lUFRm7ZXbHpd7QnSGfCbVnw5U",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, comgate }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  return { url, lines };
}

/** Posts a Comgate notification to the listener at `url`; its status code. */
async function postComgate(url: string, body: string) {
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  return (await request(`${url}/webhooks/comgate`, { method: "POST", body, headers })).statusCode;
}

test("a Comgate notification for another merchant than the source's is logged with the setting to check", async () => {
  const { url, lines } = await startComgate("498612");
  // The merchant id was typed into the source with two digits swapped.
  const body = notification("498621", "ZqVmRr0lUFRm7ZXbHpd7QnSGfCbVnw5U", PAID_PAYMENT);
  expect(await postComgate(url, body)).toBe(401);
  expect(lines.filter((line) => line.includes("webhook comgate rejected"))).toEqual([
    expect.stringMatching(
      /webhook comgate rejected from 127.0.0.1: merchant mismatch: if every delivery of this source is refused so, the source's merchant is not the e-shop's id its sender sends \(Comgate's client portal shows it under Integration > Store settings > Store connection\), or its sender is not Comgate\n$/,
    ),
  ]);
});

test("a Comgate source whose notifications carry another secret than waiter's is warned of as a signature mismatch is, naming its variable", async () => {
  const { url, lines } = await startComgate("498621");
  const push = async (instant: string, secret: string, transId: string) => {
    setClock(instant);
    const body = notification("498621", secret, { ...PAID_PAYMENT, transId });
    return postComgate(url, body);
  };
  try {
    expect(await push("2026-11-30T08:00:00Z", "ZqVmRr0lUFRm7ZXbHpd7QnSGfCbVnw5U", "AB12-0001")).toBe(200);
    // The secret was regenerated in Comgate's portal, and not in waiter.
    expect(await push("2026-11-30T08:10:00Z", "the-new-comgate-secret", "AB12-0002")).toBe(401);
    expect(lines.filter((line) => line.includes("webhook comgate rejected"))).toEqual([
      expect.stringMatching(
        /webhook comgate rejected from 127.0.0.1: secret mismatch: if every delivery of this source is refused so, COMGATE_SECRET does not hold the secret its sender sends; Comgate's client portal shows it under Integration > Store settings > Store connection\n$/,
      ),
    ]);
    expect(await push("2026-11-30T08:40:00Z", "the-new-comgate-secret", "AB12-0003")).toBe(401);
    expect(await push("2026-11-30T09:10:01Z", "the-new-comgate-secret", "AB12-0004")).toBe(401);
    expect(lines.filter((line) => / warning .*webhook comgate: /.test(line))).toEqual([
      expect.stringMatching(
        /webhook comgate: no delivery verified since 2026-11-30T08:00:00\.\d{3}Z, and 3 refused since for a secret mismatch, over 60 min: its secret was likely changed at the sender and not in waiter, or the reverse; COMGATE_SECRET does not hold the secret its sender sends;/,
      ),
    ]);
  } finally {
    setClock();
  }
});

test("a GitHub ping signed with the source's secret counts as a delivery verified: a secret set right again is said so at once", async () => {
  const lines: string[] = [];
  const { url } = await start(
    {
      GH_SECRET: "the-github-webhook-secret",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, gh: { scheme: "github", secretEnv: "GH_SECRET" } }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const push = async (instant: string, secret: string, event: string, delivery: string) => {
    setClock(instant);
    const body = JSON.stringify(
      event === "ping" ? { zen: "Keep it logically awesome.", hook_id: 1 } : { action: "opened" },
    );
    const headers = {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": delivery,
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    };
    return (await request(`${url}/webhooks/gh`, { method: "POST", body, headers })).statusCode;
  };
  try {
    expect(await push("2026-11-30T08:00:00Z", "the-github-webhook-secret", "issues", "g-1")).toBe(200);
    // The secret was changed at GitHub, and not in waiter.
    for (const [instant, delivery] of [
      ["2026-11-30T08:10:00Z", "g-2"],
      ["2026-11-30T09:10:01Z", "g-3"],
    ]) {
      expect(await push(instant as string, "a-new-secret", "issues", delivery as string)).toBe(401);
    }
    expect(lines.filter((line) => / warning .*webhook gh: no delivery verified/.test(line))).toHaveLength(1);
    // Set back at GitHub, and its ping redelivered to see it verify.
    expect(await push("2026-11-30T09:20:00Z", "the-github-webhook-secret", "ping", "g-4")).toBe(200);
    expect(lines.filter((line) => line.includes("webhook gh: a delivery verifies again"))).toEqual([
      expect.stringMatching(
        /after 2 refused for a signature mismatch since the last one verified, at 2026-11-30T08:00:00/,
      ),
    ]);
  } finally {
    setClock();
  }
});

test("a sender's test ping is logged at info as it arrives, verified or unsigned as its sender sends it, and not stored", async () => {
  const lines: string[] = [];
  const { url, store } = await start(
    {
      GH_SECRET: "the-github-webhook-secret",
      WOO_SECRET: "the-woo-webhook-secret",
      PAY_SECRET: "whsec_the-stripe-webhook-secret",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        ...SOURCES,
        gh: { scheme: "github", secretEnv: "GH_SECRET" },
        shop: { scheme: "woocommerce", secretEnv: "WOO_SECRET" },
        pay: { scheme: "stripe", secretEnv: "PAY_SECRET" },
      }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
  const githubPing = async (delivery: string) =>
    (
      await request(`${url}/webhooks/gh`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": delivery,
          "x-hub-signature-256": `sha256=${createHmac("sha256", "the-github-webhook-secret").update(body).digest("hex")}`,
        },
      })
    ).statusCode;
  const wooPing = async () =>
    (
      await request(`${url}/webhooks/shop`, {
        method: "POST",
        body: "webhook_id=12",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      })
    ).statusCode;
  // The thin event a Stripe event destination is sent when it is pinged from Workbench.
  const stripeBody = JSON.stringify({
    id: "evt_test_65RM8sQH2oXnebF5Rpc16RJyfa2xSQLHJJh1sxm7H0KI92",
    object: "v2.core.event",
    context: null,
    created: "2026-11-30T08:00:00.000Z",
    livemode: false,
    reason: null,
    related_object: {
      id: "ed_test_61RM8ltWcTW4mbsxf16RJyfa2xSQLHJJh1sxm7H0KVT6",
      type: "event_destination",
      url: "/v2/core/event_destinations/ed_test_61RM8ltWcTW4mbsxf16RJyfa2xSQLHJJh1sxm7H0KVT6",
    },
    type: "v2.core.event_destination.ping",
  });
  const stripePing = async () => {
    const t = Math.floor(clock.now() / 1000);
    const v1 = createHmac("sha256", "whsec_the-stripe-webhook-secret").update(`${t}.${stripeBody}`).digest("hex");
    return (
      await request(`${url}/webhooks/pay`, {
        method: "POST",
        body: stripeBody,
        headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` },
      })
    ).statusCode;
  };
  try {
    setClock("2026-11-30T08:00:00Z");
    expect(await githubPing("ping-1")).toBe(200);
    expect(await wooPing()).toBe(200);
    expect(await stripePing()).toBe(200);
    const said = () => lines.filter((line) => / info .*webhook (gh|shop|pay) ping/.test(line));
    expect(said()).toEqual([
      expect.stringMatching(/webhook gh ping, delivery "ping-1": GitHub's test delivery, verified, not stored\n$/),
      expect.stringMatching(
        /webhook shop ping: WooCommerce's test delivery, unsigned as WooCommerce sends it, not stored\n$/,
      ),
      expect.stringMatching(
        /webhook pay ping, delivery "evt_test_65RM8sQH2oXnebF5Rpc16RJyfa2xSQLHJJh1sxm7H0KI92": Stripe's test delivery, verified, not stored\n$/,
      ),
    ]);
    // Anyone may post WooCommerce's ping, and replay GitHub's: a line a minute for each source.
    expect(await wooPing()).toBe(200);
    expect(said()).toHaveLength(3);
    setClock("2026-11-30T08:01:01Z");
    expect(await wooPing()).toBe(200);
    expect(said().slice(3)).toEqual([
      expect.stringMatching(
        /webhook shop ping: WooCommerce's test delivery, unsigned as WooCommerce sends it, not stored \(and 1 more like it since the last line\)\n$/,
      ),
    ]);
    expect(await store.list({}, { limit: 10, bodies: false })).toEqual([]);
  } finally {
    setClock();
  }
});

test("a stranger's flood of refusals keeps at most two counts in flight, and every refusal is counted", async () => {
  const { listener, url, store, rejected } = await start();
  // Every count the listener asks for is held until the test releases it.
  const count = store.count.bind(store);
  const asked: number[] = [];
  let inFlight = 0;
  let most = 0;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  store.count = async (source, outcome, n = 1) => {
    asked.push(n);
    inFlight += 1;
    most = Math.max(most, inFlight);
    await released;
    await count(source, outcome, n);
    inFlight -= 1;
  };
  for (let i = 0; i < 200; i++) expect((await deliver(url, { body: "{}", headers: {} })).status).toBe(401);
  expect(most).toBe(2);
  // A signed delivery is stored and answered while the counts wait.
  const delivered = await deliver(url);
  expect(delivered.status).toBe(200);
  expect(await store.get(delivered.body.id as string)).toBeDefined();
  // A stop writes what was held as one count, before the store closes.
  await listener.close();
  expect(asked).toEqual([1, 1, 198]);
  release();
  await expect.poll(() => rejected("missing X-Signature header")).toBe(200);
  expect((await store.counters()).erp).toEqual({
    received: 201,
    accepted: 1,
    "rejected:missing X-Signature header": 200,
  });
});

test("a delivery whose store answers only after the stop cut its connection is logged with its connection closed, not as answered 503", async () => {
  const lines: string[] = [];
  const { listener, store, url } = await start({}, {}, new Log("info", (line) => lines.push(line)), 100);
  // A database that does not answer: the add fails only as the store closes, after the drain time.
  let fail: ((err: unknown) => void) | undefined;
  store.add = () =>
    new Promise((_resolve, reject) => {
      fail = reject;
    });
  const delivery = signed();
  const answered = request(`${url}/webhooks/erp`, { method: "POST", ...delivery }).then(
    (response) => response.statusCode,
    (err: Error) => err.message,
  );
  await expect.poll(() => fail).toBeDefined();
  await listener.close();
  expect(await answered).toBe("other side closed");
  fail?.(new ToolError("the event store's database did not answer before waiter stopped"));
  await expect
    .poll(() => lines.filter((line) => line.includes("not stored")))
    .toEqual([
      expect.stringMatching(
        /warning .*webhook erp delivery "d-\d+" not stored, its connection closed before an answer \(a sender that retries sends it again\): the event store's database did not answer before waiter stopped\n$/,
      ),
    ]);
});

test("a store that refuses every delivery gets each a 503, and the log a line a minute, not one each", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  store.add = () =>
    Promise.reject(new ToolError("The event store cannot be written (SQLITE_FULL: database or disk is full)"));
  for (let i = 0; i < 3; i++) expect((await deliver(url)).status).toBe(503);
  expect(lines.filter((line) => line.includes("SQLITE_FULL"))).toHaveLength(1);
  // A load balancer's health check hears the store is away, not a delivery's error.
  store.stats = () => Promise.reject(new ToolError("The event store's database cannot be reached"));
  const health = await request(`${url}/healthz`);
  expect(health.statusCode).toBe(503);
  expect(await health.body.json()).toEqual({
    status: "store unavailable",
    mode: "listen",
    sources: ["erp", "trial"],
    storeId: store.storeId,
  });
});

test("a delivery a fault kept from the store (a corrupt file) is logged at error with its source and delivery id, and counted", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  store.add = () =>
    Promise.reject(Object.assign(new Error("database disk image is malformed"), { code: "SQLITE_CORRUPT" }));
  const lost = signed();
  expect((await deliver(url, lost)).status).toBe(503);
  expect(lines).toEqual([
    expect.stringMatching(
      /error +\[waiter\] webhook erp delivery "d-\d+" not stored, answered 503 \(a sender that retries sends it again\): Error: database disk image is malformed \| at /,
    ),
  ]);
  expect(lines[0]).toContain(`"${lost.headers["x-delivery-id"]}"`);
  await expect.poll(async () => (await store.counters()).erp).toEqual({ received: 1, "rejected:not stored": 1 });
});

test("a delivery a fault in waiter's code kept from the store is counted as failed in waiter, not as not stored", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  // A bug on the store's way in, as JavaScript throws it: no failure of the database.
  store.add = () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'seq')"));
  const lost = signed();
  expect((await deliver(url, lost)).status).toBe(503);
  expect(lines).toEqual([
    expect.stringMatching(
      /error +\[waiter\] webhook erp delivery "d-\d+" not stored, answered 503 \(a sender that retries sends it again\): TypeError: Cannot read properties of undefined \(reading 'seq'\) \| at /,
    ),
  ]);
  expect(lines[0]).toContain(`"${lost.headers["x-delivery-id"]}"`);
  await expect.poll(async () => (await store.counters()).erp).toEqual({ received: 1, "rejected:failed in waiter": 1 });
});

test("a delivery failed by a fault in waiter (a verifier that throws) is answered 503, logged at error and counted", async () => {
  const lines: string[] = [];
  const { url, store, webhooks } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  // The verifier reads its source's settings at each delivery: one that throws stands for a bug in it.
  const erp = webhooks.sources.find((source) => source.name === "erp");
  Object.defineProperty(erp, "typeHeader", {
    get() {
      throw new TypeError("Cannot read properties of undefined (reading 'toLowerCase')");
    },
  });
  const failed = await deliver(url);
  expect(failed).toEqual({ status: 503, body: { error: "event not stored; retry later" } });
  expect(lines).toEqual([
    expect.stringMatching(/error +\[waiter\] webhook listener failed: TypeError: Cannot read properties of undefined/),
  ]);
  // Every request ends in one outcome, so that received is their sum and the fault shows beside the refusals.
  await expect.poll(async () => (await store.counters()).erp).toEqual({ received: 1, "rejected:failed in waiter": 1 });
});

test("a delivery the store could not take is logged with its source and delivery id, though a count and /healthz failed first, and counted", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const said = (text: string) => lines.filter((line) => line.includes(text));
  const busy = () =>
    Promise.reject(
      new ToolError("The event store is busy: another waiter process is writing to it. Try again in a moment."),
    );
  const { add, count, stats } = {
    add: store.add.bind(store),
    count: store.count.bind(store),
    stats: store.stats.bind(store),
  };
  // Another process holds the lock: a refusal's count and a health check fail first.
  store.count = busy;
  store.stats = busy;
  expect((await deliver(url, { body: "{}", headers: {} })).status).toBe(401);
  await expect.poll(() => said("not counted")).toHaveLength(1);
  expect((await request(`${url}/healthz`)).statusCode).toBe(503);
  expect(said("/healthz")).toHaveLength(1);
  store.count = count;
  store.stats = stats;
  // A sender that never sends it again: whoever runs waiter must, and needs its source and id.
  store.add = busy;
  const lost = signed();
  expect((await deliver(url, lost)).status).toBe(503);
  expect(said("not stored")).toEqual([
    expect.stringMatching(
      /warning .*webhook erp delivery "d-\d+" not stored, answered 503 \(a sender that retries sends it again\): The event store is busy/,
    ),
  ]);
  expect(said("not stored")[0]).toContain(`"${lost.headers["x-delivery-id"]}"`);
  // Counted with the rest, so that received is every request (but the refusal whose count failed).
  await expect.poll(async () => (await store.counters()).erp).toEqual({ received: 1, "rejected:not stored": 1 });
  store.add = add;
  expect((await deliver(url)).status).toBe(200);
  expect(said("answers again")).toEqual([
    expect.stringMatching(
      /webhook listener: the event store answers again after \d+ s; deliveries it did not store meanwhile: 1 from erp\n$/,
    ),
  ]);
});

test("a count, /healthz and a store that takes no write say to the log's reader what to do, not to tell whoever runs waiter", async () => {
  setClock("2026-12-05T09:30:00Z");
  cleanups.push(() => setClock());
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const full = () => new StoreNotWritable("SQLITE_FULL: database or disk is full", "its disk is full (events.db)");
  const stats = store.stats.bind(store);
  const said =
    "The event store cannot be written (SQLITE_FULL: database or disk is full): its disk is full (events.db). Nothing is stored until whoever runs waiter frees space there.\n";
  store.count = () => Promise.reject(full());
  expect((await deliver(url, { body: "{}", headers: {} })).status).toBe(401);
  await expect.poll(() => lines.filter((line) => line.includes("not counted"))).toHaveLength(1);
  store.stats = () => Promise.reject(full());
  expect((await request(`${url}/healthz`)).statusCode).toBe(503);
  // A minute on, past the line a minute /healthz is said in.
  setClock(clock.now() + 60_000);
  store.stats = stats;
  store.unfit = () => Promise.resolve(full());
  expect((await request(`${url}/healthz`)).statusCode).toBe(503);
  const told = lines.filter((line) => line.includes("not counted") || line.includes("/healthz"));
  expect(told).toHaveLength(3);
  for (const line of told) expect(line.slice(-said.length - 2)).toBe(`: ${said}`);
});

test("the line that says the store answers again claims no 503 for a delivery whose sender gave up before the store answered", async () => {
  const lines: string[] = [];
  const { listener, port, url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const add = store.add.bind(store);
  let fail: ((err: unknown) => void) | undefined;
  store.add = () =>
    new Promise((_resolve, reject) => {
      fail = reject;
    });
  const connected = new Promise<Socket>((resolve) => listener.server.once("connection", resolve));
  const sender = await probe(port, "127.0.0.1", posted(port, signed()));
  await expect.poll(() => fail).toBeDefined();
  // The sender gives up while the store has not answered.
  const closed = new Promise((resolve) => connected.then((socket) => socket.once("close", resolve)));
  sender.socket.destroy();
  await closed;
  fail?.(new ToolError("The event store is busy: another program has held its write lock for over 5 s."));
  await expect
    .poll(() => lines.filter((line) => line.includes("its connection closed before an answer")))
    .toHaveLength(1);
  store.add = add;
  expect((await deliver(url)).status).toBe(200);
  expect(lines.filter((line) => line.includes("answers again"))).toEqual([
    expect.stringMatching(
      /webhook listener: the event store answers again after \d+ s; deliveries it did not store meanwhile: 1 from erp\n$/,
    ),
  ]);
});

test("a /healthz that reads the store while it takes no write (a lock another program holds) does not say it answers again, nor lets each delivery's failure be a line", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const said = (text: string) => lines.filter((line) => line.includes(text));
  const { add, count, proveWritable } = {
    add: store.add.bind(store),
    count: store.count.bind(store),
    proveWritable: store.proveWritable.bind(store),
  };
  const busy = () =>
    Promise.reject(new ToolError("The event store is busy: another program has held its write lock for over 5 s."));
  // Reads go on in WAL mode while another program holds the write lock: only writes fail.
  store.add = busy;
  store.count = busy;
  store.proveWritable = busy;
  for (let i = 0; i < 3; i++) {
    expect((await deliver(url)).status).toBe(503);
    // A load balancer's health check between deliveries.
    expect((await request(`${url}/healthz`)).statusCode).toBe(200);
  }
  expect(said("answers again")).toEqual([]);
  expect(said("not stored, answered 503")).toHaveLength(1);
  store.add = add;
  store.count = count;
  store.proveWritable = proveWritable;
  expect((await deliver(url)).status).toBe(200);
  expect(said("answers again")).toEqual([
    expect.stringMatching(/the event store answers again after \d+ s; .*: 3 from erp\n$/),
  ]);
});

test("a delivery refused while another program holds the store's write lock is one line, not one more for its count", async () => {
  const lines: string[] = [];
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)), 10_000, file, 100);
  const count = store.count.bind(store);
  const counted: Promise<unknown>[] = [];
  store.count = (...args) => {
    const written = count(...args);
    counted.push(written.catch(() => {}));
    return written;
  };
  // A transaction left open in sqlite3.
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  expect((await deliver(url)).status).toBe(503);
  // Its count is written after its answer, and fails on the same lock.
  await expect.poll(() => counted.length).toBe(1);
  await Promise.all(counted);
  holder.exec("COMMIT");
  expect(lines).toEqual([
    expect.stringMatching(
      /warning .*webhook erp delivery "d-\d+" not stored, answered 503 .*: The event store is busy/,
    ),
  ]);
});

test("a sender's retry of a delivery stored before another program took the store's write lock is answered as the duplicate it is, not 503", async () => {
  const lines: string[] = [];
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const { url } = await start({}, {}, new Log("info", (line) => lines.push(line)), 10_000, file, 100);
  const delivery = signed();
  const first = await deliver(url, delivery);
  expect(first.status).toBe(200);
  // A transaction left open in sqlite3: writes wait for it, reads go on.
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  cleanups.push(() => holder.exec("ROLLBACK"));
  expect((await deliver(url)).status).toBe(503);
  expect(await deliver(url, delivery)).toEqual({ status: 200, body: { id: first.body.id, duplicate: true } });
  expect(lines.filter((line) => line.includes("again: already stored"))).toEqual([
    expect.stringContaining(
      `webhook erp delivery "${delivery.headers["x-delivery-id"]}" again: already stored as ${first.body.id}`,
    ),
  ]);
});

test("a sender's retry of a delivery whose event retention dropped, sent while another program holds the store's write lock, is answered as the duplicate it is, not 503", async () => {
  const lines: string[] = [];
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const { url } = await start(
    { WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxEvents: 1 }) },
    {},
    new Log("info", (line) => lines.push(line)),
    10_000,
    file,
    100,
  );
  const delivery = signed();
  const first = await deliver(url, delivery);
  expect(first.status).toBe(200);
  // Its event is dropped for the next one's room.
  expect((await deliver(url)).status).toBe(200);
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  cleanups.push(() => holder.exec("ROLLBACK"));
  expect(await deliver(url, delivery)).toEqual({ status: 200, body: { id: first.body.id, duplicate: true } });
  expect(lines.filter((line) => line.includes("again: already stored"))).toEqual([
    expect.stringContaining(
      ` again: already stored as ${first.body.id}, which retention has dropped since; not stored again\n`,
    ),
  ]);
});

test("a Shopify retry of a delivery an older waiter stored under its webhook id, sent while another program holds the store's write lock, is answered as the duplicate it is, not 503", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const sources = JSON.stringify({ ...SOURCES, shop: SHOPIFY_SOURCE });
  const { url, store } = await start(
    { SHOPIFY_SECRET, WAITER_WEBHOOKS_SOURCES: sources },
    {},
    undefined,
    10_000,
    file,
    100,
  );
  const webhook = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043";
  const body = JSON.stringify({ id: 5902813462617, admin_graphql_api_id: "gid://shopify/Order/5902813462617" });
  const headers = {
    "content-type": "application/json",
    "x-shopify-topic": "orders/paid",
    "x-shopify-webhook-id": webhook,
    "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
  };
  // As the older waiter stored it: keyed on its webhook id.
  const stored = await store.add({
    source: "shop",
    type: "orders/paid",
    scheme: "shopify",
    dedupeId: webhook,
    headers,
    body: Buffer.from(body),
    isJson: true,
    receivedAt: clock.now(),
  });
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  cleanups.push(() => holder.exec("ROLLBACK"));
  const signature = createHmac("sha256", SHOPIFY_SECRET).update(body).digest("base64");
  const retried = await request(`${url}/webhooks/shop`, {
    method: "POST",
    body,
    headers: { ...headers, "x-shopify-hmac-sha256": signature },
  });
  expect({ status: retried.statusCode, body: await retried.body.json() }).toEqual({
    status: 200,
    body: { id: stored.id, duplicate: true },
  });
});

test("the line that says the store answers again names the sender that never sends again the deliveries it did not store", async () => {
  const lines: string[] = [];
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const sources = JSON.stringify({ ...SOURCES, gh: { scheme: "github", secretEnv: "GH_SECRET" } });
  const { url } = await start(
    { WAITER_WEBHOOKS_SOURCES: sources, GH_SECRET: "gh-signing-secret-0123" },
    {},
    new Log("info", (line) => lines.push(line)),
    10_000,
    file,
    100,
  );
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  for (const id of ["g-1", "g-2"]) {
    const body = JSON.stringify({ action: "opened" });
    const signature = `sha256=${createHmac("sha256", "gh-signing-secret-0123").update(body).digest("hex")}`;
    const headers = { "x-hub-signature-256": signature, "x-github-delivery": id, "x-github-event": "issues" };
    const posted = await request(`${url}/webhooks/gh`, { method: "POST", body, headers });
    expect(posted.statusCode).toBe(503);
    await posted.body.dump();
  }
  holder.exec("COMMIT");
  expect((await deliver(url)).status).toBe(200);
  expect(lines.filter((line) => line.includes("answers again"))).toEqual([
    expect.stringMatching(/deliveries it did not store meanwhile: 2 from gh, which GitHub does not send again\n$/),
  ]);
});

test("a refusal's line names the address it came from, so a provider with the wrong secret is told from a stranger", async () => {
  const lines: string[] = [];
  const { url } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const forged = (from: string) => {
    const { body, headers } = signed();
    return new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(`${url}/webhooks/erp`, {
        method: "POST",
        headers: { ...headers, "x-signature": forgedSignature(body) },
        localAddress: from,
        agent: false,
      });
      req.once("response", (response) => {
        response.resume();
        response.once("end", () => resolve(response.statusCode));
      });
      req.once("error", reject);
      req.end(body);
    });
  };
  // A stranger probes first; the provider whose secret is wrong is not hidden behind its line.
  expect(await forged("127.0.0.2")).toBe(401);
  expect(await forged("127.0.0.1")).toBe(401);
  expect(await forged("127.0.0.1")).toBe(401);
  expect(lines.filter((line) => line.includes("signature mismatch"))).toEqual([
    expect.stringMatching(/info .*webhook erp rejected from 127\.0\.0\.2: signature mismatch: /),
    expect.stringMatching(/info .*webhook erp rejected from 127\.0\.0\.1: signature mismatch: /),
  ]);
  expect((await request(`${url}/webhooks/nope`, { method: "POST", body: "{}" })).statusCode).toBe(404);
  expect(lines.filter((line) => line.includes("no source is named"))).toEqual([
    expect.stringMatching(
      /info .*webhook listener refused POST "\/webhooks\/nope" from 127\.0\.0\.1: no source is named/,
    ),
  ]);
});

test("the line that says the store answers again counts a delivery its sender sent again as one, beside the requests", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const add = store.add.bind(store);
  store.add = () =>
    Promise.reject(new ToolError("The event store is busy: another program has held its write lock for over 5 s."));
  // A sender that retries sends the same delivery again and again while the store does not answer.
  const retried = signed();
  for (let i = 0; i < 3; i++) expect((await deliver(url, retried)).status).toBe(503);
  expect((await deliver(url)).status).toBe(503);
  store.add = add;
  expect((await deliver(url)).status).toBe(200);
  expect(lines.filter((line) => line.includes("answers again"))).toEqual([
    expect.stringMatching(
      /the event store answers again after \d+ s; deliveries it did not store meanwhile: 2 from erp \(in 4 requests\)\n$/,
    ),
  ]);
});

test("a store that fails again within the minute it answered is said again, and its answering again after", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const add = store.add.bind(store);
  const busy = () =>
    Promise.reject(new ToolError("The event store is busy: another program has held its write lock for over 5 s."));
  for (const lost of [1, 2]) {
    store.add = busy;
    for (let i = 0; i < lost; i++) expect((await deliver(url)).status).toBe(503);
    store.add = add;
    // Stored twice: the second finds no failure to end.
    for (let i = 0; i < 2; i++) expect((await deliver(url)).status).toBe(200);
  }
  expect(lines.filter((line) => line.includes("not stored, answered 503"))).toHaveLength(2);
  expect(lines.filter((line) => line.includes("answers again"))).toEqual([
    expect.stringMatching(
      /the event store answers again after \d+ s; deliveries it did not store meanwhile: 1 from erp\n$/,
    ),
    expect.stringMatching(
      /the event store answers again after \d+ s; deliveries it did not store meanwhile: 2 from erp\n$/,
    ),
  ]);
});

test("/healthz answers at that spelling alone, so a proxy that hides it hides it whole", async () => {
  const { url } = await start();
  expect((await request(`${url}/healthz`)).statusCode).toBe(200);
  for (const path of ["/HEALTHZ", "/Healthz", "/healthz/"]) {
    const response = await request(`${url}${path}`);
    expect(response.statusCode, path).toBe(404);
    expect(await response.body.json()).toEqual({
      error: `not found: ${JSON.stringify(path)}; webhooks go to POST /webhooks/<source>`,
    });
  }
});

test("/healthz asked by publicUrl's name or an allowedHosts one, as a proxy or tunnel passes it on from anyone, says its status alone; asked at waiter's own address, its sources and store too", async () => {
  const { port, store } = await start({
    WAITER_WEBHOOKS_PUBLIC_URL: "https://hooks.example.com",
    WAITER_WEBHOOKS_ALLOWED_HOSTS: "abc.trycloudflare.com",
  });
  const healthz = (host: string) => send(port, { method: "GET", path: "/healthz", host });
  for (const host of ["hooks.example.com", "HOOKS.example.com:443", "abc.trycloudflare.com"]) {
    expect(await healthz(host), host).toEqual({ status: 200, body: { status: "ok" } });
  }
  expect((await healthz(`127.0.0.1:${port}`)).body).toMatchObject({ status: "ok", sources: ["erp", "trial"] });
  store.stats = () => Promise.reject(new ToolError("The event store's database cannot be reached"));
  expect(await healthz("hooks.example.com")).toEqual({ status: 503, body: { status: "store unavailable" } });
  expect((await healthz(`localhost:${port}`)).body).toEqual({
    status: "store unavailable",
    mode: "listen",
    sources: ["erp", "trial"],
    storeId: store.storeId,
  });
});

test("under publicUrl's path, a delivery is taken with that path and without it, and /healthz only at its own", async () => {
  const { url, port, store } = await start({ WAITER_WEBHOOKS_PUBLIC_URL: "http://localhost:8790/waiter" });
  expect((await deliver(url)).status).toBe(200);
  expect((await deliver(`${url}/waiter`)).status).toBe(200);
  expect((await store.stats()).events).toBe(2);
  expect((await request(`${url}/healthz`)).statusCode).toBe(200);
  for (const path of ["/waiter/healthz", "/waiter/waiter/healthz", "/waiterwebhooks/erp", "/waiter"]) {
    const response = await request(`${url}${path}`);
    expect(response.statusCode, path).toBe(404);
    expect(await response.body.json()).toEqual({
      error: `not found: ${JSON.stringify(path)}; webhooks go to POST /waiter/webhooks/<source>, under the path of webhooks.publicUrl, or without /waiter from a reverse proxy that takes it off`,
    });
  }
  const tooLarge = await probe(port);
  tooLarge.socket.write(
    `POST /waiter/webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n`,
  );
  await expect.poll(() => statusOf(tooLarge)).toBe("413");
  expect(tooLarge.received()).not.toMatch(/100 Continue/);
});

/** Makes `store` refuse every write as a full disk does; returns what makes it take them again. */
function diskFull(store: SqliteEventStore): () => void {
  const { add, count, proveWritable } = {
    add: store.add.bind(store),
    count: store.count.bind(store),
    proveWritable: store.proveWritable.bind(store),
  };
  const full = () =>
    Promise.reject(new StoreNotWritable("SQLITE_FULL: database or disk is full", "its disk is full (events.db)"));
  store.add = full;
  store.count = full;
  store.proveWritable = full;
  return () => {
    store.add = add;
    store.count = count;
    store.proveWritable = proveWritable;
  };
}

test("/healthz answers 503 while the store takes no writes, and 200 once a delivery is stored again", async () => {
  const { url, store } = await start();
  const health = async () => {
    const response = await request(`${url}/healthz`);
    const { status, sources } = (await response.body.json()) as { status: string; sources: string[] };
    return { code: response.statusCode, status, sources };
  };
  const writesAgain = diskFull(store);
  expect((await deliver(url)).status).toBe(503);
  // The store still reads; the health check says what deliveries get.
  expect(await health()).toEqual({ code: 503, status: "store not writable", sources: ["erp", "trial"] });
  writesAgain();
  expect((await deliver(url)).status).toBe(200);
  expect(await health()).toMatchObject({ code: 200, status: "ok" });
});

test("/healthz hears by itself that the store takes writes again: a load balancer that took waiter out sends it no delivery to show it", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const health = async () => {
    const response = await request(`${url}/healthz`);
    return { code: response.statusCode, status: ((await response.body.json()) as { status: string }).status };
  };
  const writesAgain = diskFull(store);
  expect((await deliver(url)).status).toBe(503);
  expect(await health()).toEqual({ code: 503, status: "store not writable" });
  // Space is freed; no delivery comes, as the load balancer's health check finds this waiter down.
  writesAgain();
  expect(await health()).toEqual({ code: 200, status: "ok" });
  expect(lines.filter((line) => line.includes("answers again"))).toEqual([
    expect.stringMatching(/the event store answers again after \d+ s; .*: 1 from erp\n$/),
  ]);
  expect((await deliver(url)).status).toBe(200);
});

test("/healthz proves the store writable with a write the size of the delivery it refused, up to a megabyte: a small write fits in a page the store has, where the delivery needed new ones", async () => {
  const { url, store } = await start({ WAITER_WEBHOOKS_MAX_BODY_BYTES: String(4 * 1024 * 1024) });
  const writesAgain = diskFull(store);
  const full = store.proveWritable;
  const asked: number[] = [];
  store.proveWritable = (bytes: number) => {
    asked.push(bytes);
    return full(bytes);
  };
  const large = signed(20_000);
  expect((await deliver(url, large)).status).toBe(503);
  expect((await request(`${url}/healthz`)).statusCode).toBe(503);
  expect(asked).toEqual([Buffer.byteLength(large.body)]);
  // One of tens of megabytes would not be written within the half second /healthz waits.
  expect((await deliver(url, signed(3 * 1024 * 1024))).status).toBe(503);
  expect((await request(`${url}/healthz`)).statusCode).toBe(503);
  expect(asked.at(-1)).toBe(1024 * 1024);
  writesAgain();
});

test("/healthz answers 503 on a disk that is really full, where a count's write of nothing goes through, and 200 once space is freed", async ({
  skip,
}) => {
  const { dir, fill, free, unmount } = smallDisk("1m", skip);
  try {
    const lines: string[] = [];
    const { url, store } = await start(
      {},
      {},
      new Log("info", (line) => lines.push(line)),
      10_000,
      join(dir, "events.db"),
    );
    const health = async () => {
      const response = await request(`${url}/healthz`);
      return { code: response.statusCode, status: ((await response.body.json()) as { status: string }).status };
    };
    // A count of accepted deliveries is there, which adding nothing to leaves unchanged.
    expect((await deliver(url)).status).toBe(200);
    fill();
    expect((await deliver(url)).status).toBe(503);
    for (let i = 0; i < 2; i++) expect(await health()).toEqual({ code: 503, status: "store not writable" });
    expect(lines.filter((line) => line.includes("answers again"))).toEqual([]);
    free();
    expect(await health()).toEqual({ code: 200, status: "ok" });
    expect(lines.filter((line) => line.includes("answers again"))).toEqual([
      expect.stringMatching(/the event store answers again after \d+ s; .*: 1 from erp\n$/),
    ]);
    expect((await deliver(url)).status).toBe(200);
    expect((await store.stats()).events).toBe(2);
  } finally {
    // Closed before the file system it is on is taken away.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    unmount();
  }
});

test("a sender's retry of a delivery stored before the disk filled is answered as the duplicate it is, not 503", async ({
  skip,
}) => {
  const { dir, fill, unmount } = smallDisk("1m", skip);
  try {
    const { url } = await start({}, {}, new Log("error"), 10_000, join(dir, "events.db"));
    const delivery = signed();
    const first = await deliver(url, delivery);
    expect(first.status).toBe(200);
    fill();
    expect((await deliver(url)).status).toBe(503);
    expect(await deliver(url, delivery)).toEqual({ status: 200, body: { id: first.body.id, duplicate: true } });
  } finally {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    unmount();
  }
});

test("while the disk is full, a delivery whose id another source's stored event has is answered 503, not as that event's duplicate", async ({
  skip,
}) => {
  const { dir, fill, unmount } = smallDisk("1m", skip);
  try {
    // Two systems that sign alike and number their deliveries alike.
    const sources = JSON.stringify({ erp: ERP_SOURCE, books: ERP_SOURCE });
    const { url } = await start(
      { WAITER_WEBHOOKS_SOURCES: sources },
      {},
      new Log("error"),
      10_000,
      join(dir, "events.db"),
    );
    const delivery = signed();
    expect((await deliver(url, delivery)).status).toBe(200);
    fill();
    const books = await request(`${url}/webhooks/books`, { method: "POST", ...delivery });
    expect(books.statusCode).toBe(503);
    await books.body.dump();
    expect(await deliver(url, delivery)).toMatchObject({ status: 200, body: { duplicate: true } });
  } finally {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    unmount();
  }
});

describe("bodies", () => {
  /** A sender that goes on sending a body the listener refused: its connection, and the listener's end of it. */
  async function uploader(listener: RunningListener, port: number) {
    const served = new Promise<Socket>((resolve) => listener.server.once("connection", resolve));
    // Half open, as a sender still uploading is: the listener's end of the connection does not end it.
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    await new Promise((resolve) => socket.once("connect", resolve));
    const errors: string[] = [];
    let received = "";
    let ended = false;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.once("end", () => {
      ended = true;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    cleanups.push(() => socket.destroy());
    const write = (bytes: string | Buffer) =>
      new Promise<boolean>((resolve) => socket.write(bytes, (err) => resolve(!err)));
    const server = await served;
    const serverClosed = new Promise((resolve) => server.once("close", resolve));
    return { socket, server, serverClosed, write, errors, closed, received: () => received, ended: () => ended };
  }

  test("a sender still uploading when it gets 413 has the rest of its body read, not its connection reset", async () => {
    const { listener, port, rejected } = await start();
    const sender = await uploader(listener, port);
    const size = 4 * 65536;
    const head = `POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`;
    await sender.write(head);
    // Answered at once, before the body, and the listener's side is ended: it sends no more.
    await expect.poll(() => [/^HTTP\/1\.1 413 /.test(sender.received()), sender.ended()]).toEqual([true, true]);
    expect(sender.received()).toMatch(/\r\nConnection: close\r\n/i);
    const chunk = Buffer.alloc(16 * 1024, "x");
    for (let sent = 0; sent < size; sent += chunk.length) await sender.write(chunk);
    sender.socket.end();
    await Promise.all([sender.closed, sender.serverClosed]);
    // Read to its end and dropped: a connection closed with bytes unread is reset, and a sender
    // still writing reads EPIPE or ECONNRESET, not the 413.
    expect(sender.server.bytesRead).toBe(Buffer.byteLength(head) + size);
    expect(sender.errors).toEqual([]);
    expect(await rejected("body too large")).toBe(1);
  });

  test("real senders streaming a body past the limit read the 413, every time", async () => {
    const lines: string[] = [];
    const { url, rejected } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const chunk = new Uint8Array(16 * 1024).fill(120);
    const body = () => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 40) controller.enqueue(chunk);
          else controller.close();
        },
      });
    };
    const outcomes: string[] = [];
    for (let run = 0; run < 5; run++) {
      try {
        const response = await fetch(`${url}/webhooks/erp`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: body(),
          duplex: "half",
        } as RequestInit);
        outcomes.push(`fetch ${response.status} ${((await response.json()) as { error: string }).error}`);
      } catch (err) {
        outcomes.push(`fetch ${(err as { cause?: { code?: string } }).cause?.code ?? err}`);
      }
      outcomes.push(
        await new Promise<string>((resolve) => {
          const sending = httpRequest(`${url}/webhooks/erp`, { method: "POST" }, (response) => {
            response.resume();
            resolve(`http.request ${response.statusCode}`);
          });
          sending.once("error", (err: NodeJS.ErrnoException) => resolve(`http.request ${err.code}`));
          let sent = 0;
          const pump = () => {
            while (sent++ < 40) {
              if (!sending.write(chunk)) {
                sending.once("drain", pump);
                return;
              }
            }
            sending.end();
          };
          pump();
        }),
      );
    }
    expect(outcomes).toEqual(
      Array.from({ length: 5 }, () => ["fetch 413 body larger than 65536 bytes", "http.request 413"]).flat(),
    );
    expect(await rejected("body too large")).toBe(10);
    // A line a minute for the source and reason, as for any refusal.
    expect(lines.filter((line) => line.includes("rejected"))).toEqual([
      expect.stringMatching(
        /webhook erp rejected from 127.0.0.1: body larger than 65536 bytes: if its sender's deliveries are this large, raise WAITER_WEBHOOKS_MAX_BODY_BYTES/,
      ),
    ]);
  });

  test("a sender that never stops sending a refused body is cut once the listener has read its bound", async () => {
    // Long enough that only the bytes can end it within the test's time.
    const lingerMaxBytes = 256 * 1024;
    const { listener, port } = await start({}, { lingerMs: 600_000, lingerMaxBytes, requestMs: 600_000 });
    const sender = await uploader(listener, port);
    const head = `POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    await sender.write(head);
    const chunk = `4000\r\n${"x".repeat(0x4000)}\r\n`;
    while (!sender.socket.destroyed) await sender.write(chunk);
    await sender.serverClosed;
    expect(sender.received()).toMatch(/^HTTP\/1\.1 413 /);
    // The limit, the bound after the answer, and one read of the socket's past it.
    expect(sender.server.bytesRead).toBeLessThanOrEqual(Buffer.byteLength(head) + 65536 + lingerMaxBytes + 2 * 65536);
    expect(sender.server.bytesRead).toBeGreaterThan(65536 + lingerMaxBytes);
  });

  test("a sender that goes silent in the middle of a refused body is cut once the linger time runs out", async () => {
    // Long enough that only the linger time can end it within the test's time.
    const { listener, port } = await start({}, { lingerMs: 300, requestMs: 600_000, bodyGraceMs: 600_000 });
    const sender = await uploader(listener, port);
    const size = 4 * 65536;
    const head = `POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`;
    const sent = performance.now();
    await sender.write(head);
    await sender.write(Buffer.alloc(1024, "x"));
    await sender.serverClosed;
    expect(sender.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(290);
    expect(sender.server.bytesRead).toBe(Buffer.byteLength(head) + 1024);
  });

  test("a declared length over the limit gets 413 before any body, and the connection is closed", async () => {
    const { port, store, rejected } = await start({}, { bodyGraceMs: 10_000, requestMs: 20_000 });
    const host = `127.0.0.1:${port}`;
    const declared = await probe(port);
    declared.socket.write(
      `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n`,
    );
    await expect.poll(() => [statusOf(declared), declared.closed()]).toEqual(["413", true]);
    expect(declared.received()).toMatch(/body larger than 65536 bytes/);

    // Chunked, so no length is declared: refused as soon as the limit is passed, not at the end.
    const streamed = await probe(port);
    streamed.socket.write(`POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = `4000\r\n${"x".repeat(0x4000)}\r\n`;
    for (let i = 0; i < 5; i++) streamed.socket.write(chunk);
    await expect.poll(() => [statusOf(streamed), streamed.closed()]).toEqual(["413", true]);
    expect((await store.stats()).events).toBe(0);
    expect(await rejected("body too large")).toBe(2);
  });

  test("Expect: 100-continue gets 100 for a body within the limit and 413 at once for one over it", async () => {
    const { port, store } = await start();
    const host = `127.0.0.1:${port}`;
    const tooLarge = await probe(port);
    tooLarge.socket.write(
      `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n`,
    );
    await expect.poll(() => statusOf(tooLarge)).toBe("413");
    expect(tooLarge.received()).not.toMatch(/100 Continue/);

    const { body, headers } = signed();
    const fits = await probe(port);
    const head = Object.entries({ ...headers, "content-length": String(Buffer.byteLength(body)) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    fits.socket.write(`POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continue\r\n${head}\r\n`);
    await expect.poll(() => fits.received()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    fits.socket.write(body);
    await expect.poll(() => fits.received()).toMatch(/HTTP\/1\.1 200 OK/);
    expect((await store.stats()).events).toBe(1);
  });

  test("Expect: 100-continue for a body past what the bodies' budget has left gets 503 at once, not an invitation to send it", async () => {
    const { listener, port, rejected } = await start({}, { maxHeldBytes: 1000 });
    const host = `127.0.0.1:${port}`;
    const served = new Promise<Socket>((resolve) => listener.server.once("connection", resolve));
    const holding = await probe(port);
    const held = `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2000\r\n\r\n${"x".repeat(600)}`;
    holding.socket.write(held);
    // Its 600 bytes are held before the next sender asks.
    const server = await served;
    await expect.poll(() => server.bytesRead).toBe(held.length);
    const sender = await probe(port, "127.0.0.2");
    sender.socket.write(
      `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 600\r\nExpect: 100-continue\r\n\r\n`,
    );
    await expect.poll(() => statusOf(sender)).toBe("503");
    expect(sender.received()).not.toMatch(/100 Continue/);
    expect(sender.received()).toMatch(/^retry-after: 5\r$/im);
    expect(await rejected("busy")).toBe(1);
    expect(holding.closed()).toBe(false);
  });

  test("Expect: 100-continue for a body past its sender's share of the bodies' budget is told its share ran out", async () => {
    // A client may hold 25 of the 100 connections, so a quarter of the 8,000 bytes: 2,000.
    const { listener, port, rejected } = await start(
      {
        WAITER_WEBHOOKS_MAX_BODY_BYTES: "1024",
        WAITER_WEBHOOKS_MAX_CONNECTIONS: "100",
        WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT: "25",
      },
      { maxHeldBytes: 8000 },
    );
    const host = `127.0.0.1:${port}`;
    const served = new Promise<Socket>((resolve) => listener.server.once("connection", resolve));
    const holding = await probe(port, "127.0.0.2");
    const held = `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1024\r\n\r\n${"x".repeat(1000)}`;
    holding.socket.write(held);
    const server = await served;
    await expect.poll(() => server.bytesRead).toBe(held.length);
    // The same address asks for 1,024 more: past its 2,000, far within the whole 8,000.
    const sender = await probe(port, "127.0.0.2");
    sender.socket.write(
      `POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1024\r\nExpect: 100-continue\r\n\r\n`,
    );
    await expect.poll(() => statusOf(sender)).toBe("503");
    expect(sender.received()).not.toMatch(/100 Continue/);
    expect(sender.received()).toContain("too many webhook bodies from this client are being read at once");
    expect(await rejected("client busy")).toBe(1);
    expect(await rejected("busy")).toBe(0);
  });

  test("Expect: 100-continue with an encoded body gets 415 at once, not an invitation to send a body it refuses", async () => {
    const { port, rejected } = await start();
    const gzipped = await probe(port);
    gzipped.socket.write(
      `POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 40000\r\nExpect: 100-continue\r\n\r\n`,
    );
    await expect.poll(() => statusOf(gzipped)).toBe("415");
    expect(gzipped.received()).not.toMatch(/100 Continue/);
    expect(await rejected("encoded body")).toBe(1);
  });

  test("Expect: 100-continue to a webhook refused for its Host, source or method gets its refusal at once, not an invitation to send the body", async () => {
    const { port } = await start();
    const heads = {
      403: `POST /webhooks/erp HTTP/1.1\r\nHost: hooks.example.com\r\n`,
      404: `POST /webhooks/nope HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`,
      405: `PUT /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`,
    };
    for (const [status, head] of Object.entries(heads)) {
      const sender = await probe(port);
      sender.socket.write(
        `${head}Content-Type: application/json\r\nContent-Length: 40000\r\nExpect: 100-continue\r\n\r\n`,
      );
      await expect.poll(() => /HTTP\/1\.1 [1-5]\d\d (?!Continue)/.test(sender.received())).toBe(true);
      expect(sender.received()).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    }
  });

  test("Expect: 100-continue to a path that is no webhook route gets its 404 at once, not an invitation to send the body", async () => {
    const { port } = await start();
    for (const path of ["/elsewhere", "/healthz", "/webhook/erp"]) {
      const sender = await probe(port);
      sender.socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 40000\r\nExpect: 100-continue\r\n\r\n`,
      );
      await expect.poll(() => statusOf(sender)).toBe("404");
      expect(sender.received(), path).not.toMatch(/100 Continue/);
    }
  });

  test("Expect: 100-continue to a webhook path in another case, which the delivery route takes, waits on its checks too", async () => {
    const { port, store } = await start();
    const refused = await probe(port);
    refused.socket.write(
      `POST /Webhooks/erp HTTP/1.1\r\nHost: hooks.example.com\r\nContent-Length: 40000\r\nExpect: 100-continue\r\n\r\n`,
    );
    await expect.poll(() => statusOf(refused)).toBe("403");
    expect(refused.received()).not.toMatch(/100 Continue/);

    const { body, headers } = signed();
    const fits = await probe(port);
    const head = Object.entries({ ...headers, "content-length": String(Buffer.byteLength(body)) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    fits.socket.write(`POST /WEBHOOKS/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nExpect: 100-continue\r\n${head}\r\n`);
    await expect.poll(() => fits.received()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    fits.socket.write(body);
    await expect.poll(() => fits.received()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect((await store.stats()).events).toBe(1);
  });

  test("a sender that does not wait for 100 Continue is not sent one: HTTP/1.0 ignores the expectation", async () => {
    const { port, store } = await start();
    const { body, headers } = signed();
    const head = Object.entries({ ...headers, "content-length": String(Buffer.byteLength(body)) })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    // An HTTP/1.0 client reads the first status line as the answer: a 100 would be taken for it.
    const old = await probe(port);
    old.socket.write(
      `POST /webhooks/erp HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nExpect: 100-continue\r\n${head}\r\n${body}`,
    );
    await expect.poll(() => old.closed()).toBe(true);
    expect(old.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect((await store.stats()).events).toBe(1);
  });

  test("an encoded body is refused with 415, never inflated before the signature is checked", async () => {
    const { url, store, rejected } = await start();
    for (const [encoding, compress] of [
      ["gzip", gzipSync],
      ["deflate", deflateSync],
      ["br", brotliCompressSync],
    ] as const) {
      // Signed over the decompressed bytes: what would pass if the listener inflated first.
      const { body, headers } = signed();
      const response = await request(`${url}/webhooks/erp`, {
        method: "POST",
        body: compress(Buffer.from(body)),
        headers: { ...headers, "content-encoding": encoding },
      });
      expect(response.statusCode, encoding).toBe(415);
      expect(response.headers["accept-encoding"]).toBe("identity");
      // Its sender encodes every attempt alike: Svix and Slack are told to send it no more.
      expect(response.headers["webhook-delivery"]).toBe("abort-message");
      expect(response.headers["x-slack-no-retry"]).toBe("1");
      expect(((await response.body.json()) as { error: string }).error).toMatch(/Content-Encoding "\w+" refused/);
    }
    expect((await store.stats()).events).toBe(0);
    expect(await rejected("encoded body")).toBe(3);
    // An unsigned source's sender is told why without a signature it does not have.
    const unsigned = await request(`${url}/webhooks/trial`, {
      method: "POST",
      body: gzipSync(Buffer.from('{"type":"order.paid"}')),
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    });
    expect(unsigned.statusCode).toBe(415);
    expect(((await unsigned.body.json()) as { error: string }).error).toBe(
      'Content-Encoding "gzip" refused: waiter inflates no body, as a small one can inflate to a huge one, so send the body unencoded',
    );
    const identity = signed();
    expect(
      (await deliver(url, { ...identity, headers: { ...identity.headers, "content-encoding": "identity" } })).status,
    ).toBe(200);
  });
});

test("every refusal is logged, a line a minute for each source and reason: a size, an encoding, a method, a delivery id", async () => {
  const lines: string[] = [];
  const { url, port, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const host = `127.0.0.1:${port}`;
  // A body past the limit, twice: a line for both. A sender that does not send it again (GitHub) must be heard of.
  for (let i = 0; i < 2; i++) {
    const large = await probe(port);
    large.socket.write(`POST /webhooks/erp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100000\r\n\r\n`);
    await expect.poll(() => statusOf(large)).toBe("413");
  }
  const encoded = signed();
  const gzipped = await request(`${url}/webhooks/erp`, {
    method: "POST",
    body: gzipSync(Buffer.from(encoded.body)),
    headers: { ...encoded.headers, "content-encoding": "gzip" },
  });
  await gzipped.body.dump();
  expect(gzipped.statusCode).toBe(415);
  expect((await send(port, { method: "PUT", path: "/webhooks/erp", host })).status).toBe(405);
  const body = JSON.stringify({ invoice: "tab" });
  expect((await deliver(url, { body, headers: erpHeaders(body, "d\tx") })).status).toBe(400);
  expect(lines.filter((line) => line.includes("webhook erp rejected"))).toEqual([
    expect.stringMatching(
      /info .*webhook erp rejected from 127.0.0.1: body larger than 65536 bytes \(Content-Length 100000\): if its sender's deliveries are this large, raise WAITER_WEBHOOKS_MAX_BODY_BYTES\n$/,
    ),
    expect.stringMatching(/info .*webhook erp rejected from 127.0.0.1: Content-Encoding "gzip" refused: /),
    expect.stringMatching(/info .*webhook erp rejected from 127.0.0.1: a PUT; erp's webhooks are POSTed\n$/),
    expect.stringMatching(
      /info .*webhook erp rejected from 127.0.0.1: the delivery id holds control characters; it claims to be delivery "d\\tx"\n$/,
    ),
  ]);
  await expect
    .poll(async () => (await store.counters()).erp)
    .toEqual({
      received: 5,
      "rejected:body too large": 2,
      "rejected:encoded body": 1,
      "rejected:wrong method": 1,
      "rejected:bad delivery id": 1,
    });
});

test("a request whose headers are past Node's bound gets its 431 and is logged, a line a minute, with the bound and how to raise it", async () => {
  const lines: string[] = [];
  const { port } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  for (let i = 0; i < 2; i++) {
    const large = await probe(port);
    large.socket.write(
      `POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Padding: ${"x".repeat(20_000)}\r\nContent-Length: 2\r\n\r\n{}`,
    );
    await expect.poll(() => [statusOf(large), large.closed()]).toEqual(["431", true]);
  }
  expect(lines.filter((line) => line.includes("431"))).toEqual([
    expect.stringMatching(
      /info .*webhook listener refused POST "\/webhooks\/erp" from 127.0.0.1 with 431: its headers are larger than 16384 bytes, the most Node reads; if its sender's headers are this large, raise it in waiter's environment, NODE_OPTIONS=--max-http-header-size=32768 for twice as much \(the flag without a number stops Node at start\)\n$/,
    ),
  ]);
});

/** Sources of the senders that never send a refused delivery again, with their secrets. */
const UNREPEATED = {
  WAITER_WEBHOOKS_SOURCES: JSON.stringify({
    gh: { scheme: "github", secretEnv: "GH_SECRET" },
    shop: { scheme: "woocommerce", secretEnv: "WOO_SECRET" },
  }),
  GH_SECRET: "gh-webhook-secret-for-tests",
  WOO_SECRET: "woo-webhook-secret-for-tests",
};

/** A delivery as WooCommerce posts an order's update, its own delivery id in X-WC-Webhook-Delivery-ID. */
function wooDelivery(order: number, deliveryId: string, pad = 0) {
  const body = JSON.stringify({ id: order, date_modified_gmt: "2026-11-27T10:00:00", pad: "x".repeat(pad) });
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-wc-webhook-signature": createHmac("sha256", UNREPEATED.WOO_SECRET).update(body).digest("base64"),
      "x-wc-webhook-id": "12",
      "x-wc-webhook-topic": "order.updated",
      "x-wc-webhook-delivery-id": deliveryId,
    },
  };
}

test("a delivery too large from GitHub or WooCommerce, which never send it again, is logged with what to do once the limit is raised and its delivery ID, once where it came twice", async () => {
  const push = JSON.stringify({ ref: "refs/heads/main", pad: "x".repeat(70_000) });
  const ghHeaders = {
    "content-type": "application/json",
    "x-hub-signature-256": `sha256=${createHmac("sha256", UNREPEATED.GH_SECRET).update(push).digest("hex")}`,
    "x-github-delivery": "d-push",
    "x-github-event": "push",
  };
  const woo = wooDelivery(1043, "wc-large", 70_000);
  const senders = [
    { path: "/webhooks/gh", body: push, headers: ghHeaders, copy: ["x-github-delivery", "d-push"] },
    { path: "/webhooks/shop", body: woo.body, headers: woo.headers, copy: ["x-wc-webhook-delivery-id", "wc-relay"] },
  ];
  // The second round, on a listener of its own as a refusal is logged once a minute for each source
  // and reason, sends each delivery ID twice, as a proxy that adds its own copy sends it.
  const logged: string[][] = [];
  for (const twice of [false, true]) {
    const lines: string[] = [];
    const { url } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
    for (const { path, body, headers, copy } of senders) {
      const res = await request(`${url}${path}`, {
        method: "POST",
        body,
        headers: twice ? [...Object.entries(headers), copy].flat() : headers,
      });
      await res.body.dump();
      expect(res.statusCode).toBe(413);
    }
    logged.push(lines.filter((line) => line.includes(" rejected from 127.0.0.1: body larger")));
  }
  expect(logged.flat()).toEqual([
    expect.stringMatching(
      /info .*webhook gh rejected from 127.0.0.1: body larger than 65536 bytes \(Content-Length \d+\): if its sender's deliveries are this large, raise WAITER_WEBHOOKS_MAX_BODY_BYTES; GitHub does not send it again: redeliver it within 3 days \(7 on GitHub Enterprise Server\) from the webhook's Recent Deliveries \(delivery ID "d-push"\)\n$/,
    ),
    expect.stringMatching(
      /info .*webhook shop rejected from 127.0.0.1: body larger than 65536 bytes \(Content-Length \d+\): if its sender's deliveries are this large, raise WAITER_WEBHOOKS_MAX_BODY_BYTES; WooCommerce does not send it again and logs its body only with WP_DEBUG on: the shop shows the order, product, customer or coupon as it is now, and WooCommerce → Status → Logs the delivery's topic and time \(delivery ID "wc-large"\)\n$/,
    ),
    expect.stringMatching(/^.* webhook gh rejected .*Recent Deliveries \(delivery ID "d-push"\)\n$/),
    expect.stringMatching(
      /^.* webhook shop rejected .*topic and time \(delivery ID "wc-large" or "wc-relay", the header's copies differing\)\n$/,
    ),
  ]);
});

test("a delivery from GitHub or WooCommerce refused for its pace, its Host or its signature is logged as lost, with its delivery ID", async () => {
  const lines: string[] = [];
  const { url, port } = await start(
    UNREPEATED,
    { checkEveryMs: 50, bodyGraceMs: 200, minBodyBytesPerSecond: 1000 },
    new Log("info", (line) => lines.push(line)),
  );
  const host = `127.0.0.1:${port}`;
  const slow = await probe(port);
  slow.socket.write(
    `POST /webhooks/gh HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nX-GitHub-Delivery: d-slow\r\nContent-Length: 1000\r\n\r\n{`,
  );
  await expect.poll(() => statusOf(slow)).toBe("408");
  const foreign = await probe(port);
  foreign.socket.write(
    "POST /webhooks/shop HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\nX-WC-Webhook-Delivery-ID: wc-host\r\nContent-Length: 2\r\n\r\n{}",
  );
  await expect.poll(() => statusOf(foreign)).toBe("403");
  const push = JSON.stringify({ ref: "refs/heads/main" });
  const forged = await request(`${url}/webhooks/gh`, {
    method: "POST",
    body: push,
    headers: {
      "content-type": "application/json",
      "x-hub-signature-256": `sha256=${createHmac("sha256", "another secret").update(push).digest("hex")}`,
      "x-github-delivery": "d-signed",
      "x-github-event": "push",
    },
  });
  await forged.body.dump();
  expect(forged.statusCode).toBe(401);
  const gh =
    "GitHub does not send it again: redeliver it within 3 days \\(7 on GitHub Enterprise Server\\) from the webhook's Recent Deliveries";
  // Where GitHub keeps the secret: it shows it no more, so it is typed anew; a GitHub App's webhook
  // has no page under a repository's or organization's Settings → Webhooks.
  const shown =
    "GitHub never shows a webhook's Secret again: type it anew under the repository's or organization's Settings → Webhooks → Edit, or for a GitHub App's webhook as its Webhook secret under Developer settings → GitHub Apps → Edit";
  expect(lines.filter((line) => / webhook (gh|shop) rejected/.test(line))).toEqual([
    expect.stringMatching(
      new RegExp(
        `info .*webhook gh rejected from 127.0.0.1: body arrived slower than .*; ${gh} \\(delivery ID "d-slow"\\)\n$`,
      ),
    ),
    expect.stringMatching(
      /info .*webhook shop rejected from 127.0.0.1: .*Host.*; WooCommerce does not send it again and .* \(delivery ID "wc-host"\)\n$/,
    ),
    expect.stringMatching(
      new RegExp(
        `info .*webhook gh rejected from 127.0.0.1: signature mismatch.*; ${shown}; ${gh} \\(delivery ID "d-signed"\\)\n$`,
      ),
    ),
  ]);
});

test("a delivery from GitHub or WooCommerce whose delivery ID a proxy sent twice is logged as lost by its one ID, or as its copies differing", async () => {
  const lines: string[] = [];
  const { url } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
  const push = JSON.stringify({ ref: "refs/heads/main" });
  const send = async (ids: string[], signature: string) => {
    const response = await request(`${url}/webhooks/gh`, {
      method: "POST",
      body: push,
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": signature,
        // Node joins the copies of a header as one value, with ", " between them.
        "x-github-delivery": ids,
        "x-github-event": "push",
      },
    });
    await response.body.dump();
    return response.statusCode;
  };
  expect(
    await send(["d-twice", "d-twice"], `sha256=${createHmac("sha256", "another secret").update(push).digest("hex")}`),
  ).toBe(401);
  expect(await send(["d-sender", "d-proxy"], "not a signature")).toBe(401);
  const { body, headers } = wooDelivery(1043, "wc-twice");
  const shop = await request(`${url}/webhooks/shop`, {
    method: "POST",
    body,
    headers: {
      ...headers,
      "x-wc-webhook-signature": "bm90IHRoZSBzaWduYXR1cmU=",
      "x-wc-webhook-delivery-id": ["wc-twice", "wc-twice"],
    },
  });
  await shop.body.dump();
  expect(shop.statusCode).toBe(401);
  expect(lines.filter((line) => / webhook (gh|shop) rejected/.test(line))).toEqual([
    expect.stringMatching(
      /webhook gh rejected from 127\.0\.0\.1: signature mismatch.*Recent Deliveries \(delivery ID "d-twice"\)\n$/,
    ),
    expect.stringMatching(
      /webhook gh rejected from 127\.0\.0\.1: malformed X-Hub-Signature-256 header.*Recent Deliveries \(delivery ID "d-sender" or "d-proxy", the header's copies differing\)\n$/,
    ),
    expect.stringMatching(
      /webhook shop rejected from 127\.0\.0\.1: .*WooCommerce does not send it again .* \(delivery ID "wc-twice"\)\n$/,
    ),
  ]);
});

test("a refused Stripe, Shopify or Standard Webhooks delivery is logged with the id it claims, as its sender's dashboard lists it, in one line", async () => {
  const lines: string[] = [];
  const { url } = await start(
    {
      PAY_SECRET: "whsec_the-stripe-webhook-secret",
      STORE_SECRET: "shopify-webhook-secret-for-tests",
      SW_SECRET: `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        pay: { scheme: "stripe", secretEnv: "PAY_SECRET" },
        store: { scheme: "shopify", secretEnv: "STORE_SECRET" },
        sw: { scheme: "standard-webhooks", secretEnv: "SW_SECRET" },
      }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const send = async (source: string, body: string, headers: Record<string, string | string[]>) => {
    const response = await request(`${url}/webhooks/${source}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });
    await response.body.dump();
    return response.statusCode;
  };
  const t = Math.floor(clock.now() / 1000);
  const stripe = (body: string) => ({
    "stripe-signature": `t=${t},v1=${createHmac("sha256", "whsec_another_endpoint").update(`${t}.${body}`).digest("hex")}`,
  });
  const event = '{\n  "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",\n  "object": "event",\n  "type": "invoice.paid"\n}';
  expect(await send("pay", event, stripe(event))).toBe(401);
  // A stranger's id that would write a line of its own, and colour the terminal, is one quoted line,
  // cut short; refused for another reason, as a line a minute is said of each.
  const hostile = `{"id":"evt_\u001b[31m\n2026-12-05 info webhook pay stored${"y".repeat(300)}"}`;
  expect(await send("pay", hostile, { "stripe-signature": "garbage" })).toBe(401);
  expect(
    await send("store", "{}", {
      "x-shopify-hmac-sha256": "bm90IHRoZSBzaWduYXR1cmU=",
      "x-shopify-webhook-id": ["b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"],
    }),
  ).toBe(401);
  expect(
    await send("sw", "{}", {
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": String(t),
      "webhook-signature": `v1,${Buffer.alloc(32, 1).toString("base64")}`,
    }),
  ).toBe(401);
  expect(lines.filter((line) => / webhook (pay|store|sw) rejected/.test(line))).toEqual([
    expect.stringMatching(
      /info .*webhook pay rejected from 127\.0\.0\.1: signature mismatch: .*; it claims to be event "evt_1NG8Du2eZvKYlo2CUI79vXWy"\n$/,
    ),
    expect.stringMatching(
      /info .*webhook pay rejected from 127\.0\.0\.1: malformed Stripe-Signature header; it claims to be event "evt_\\u001b\[31m\\n2026-12-05 info webhook [^"\n]*…\(\d+ characters\)"\n$/,
    ),
    expect.stringMatching(
      /info .*webhook store rejected from 127\.0\.0\.1: signature mismatch: .*; it claims to be delivery "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"\n$/,
    ),
    expect.stringMatching(
      /info .*webhook sw rejected from 127\.0\.0\.1: signature mismatch: .*; it claims to be delivery "msg_p5jXN8AQM9LWM0D4loKWxJek"\n$/,
    ),
  ]);
});

test("a refused Stripe event of test mode is logged as one, whose destination signs with a secret other than the live one's", async () => {
  const lines: string[] = [];
  const { url } = await start(
    {
      PAY_SECRET: "whsec_the-live-endpoint-secret",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ pay: { scheme: "stripe", secretEnv: "PAY_SECRET" } }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const send = async (instant: string, livemode: boolean) => {
    setClock(instant);
    const t = Math.floor(clock.now() / 1000);
    const event = JSON.stringify({
      id: "evt_1NG8Du2eZvKYlo2CUI79vXWy",
      object: "event",
      livemode,
      type: "invoice.paid",
    });
    // Signed by a test-mode destination with its own secret.
    const v1 = createHmac("sha256", "whsec_the-test-mode-endpoint-secret").update(`${t}.${event}`).digest("hex");
    const response = await request(`${url}/webhooks/pay`, {
      method: "POST",
      body: event,
      headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` },
    });
    await response.body.dump();
    return response.statusCode;
  };
  try {
    expect(await send("2026-11-30T08:00:00Z", false)).toBe(401);
    // A minute on, as the log says a refusal of one reason from one address a line a minute.
    expect(await send("2026-11-30T08:01:01Z", true)).toBe(401);
  } finally {
    setClock();
  }
  expect(lines.filter((line) => line.includes("webhook pay rejected"))).toEqual([
    expect.stringMatching(
      /signature mismatch: .*; it claims to be event "evt_1NG8Du2eZvKYlo2CUI79vXWy", of test mode or a sandbox \(livemode false\), whose destination signs with a secret of its own, not the live one's\n$/,
    ),
    expect.stringMatching(/signature mismatch: .*; it claims to be event "evt_1NG8Du2eZvKYlo2CUI79vXWy"\n$/),
  ]);
});

test("a Stripe event of test mode refused for its age, signed with the secret held, is not said to be signed with another", async () => {
  const lines: string[] = [];
  const { url } = await start(
    {
      PAY_SECRET: "whsec_the-test-mode-endpoint-secret",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ pay: { scheme: "stripe", secretEnv: "PAY_SECRET" } }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const event = JSON.stringify({ id: "evt_1NG8Du2eZvKYlo2CUI79vXWy", object: "event", livemode: false });
  setClock("2026-11-30T08:00:00Z");
  try {
    // Stamped ten minutes behind this machine's clock, past Stripe's tolerance of five.
    const t = Math.floor(clock.now() / 1000) - 600;
    const v1 = createHmac("sha256", "whsec_the-test-mode-endpoint-secret").update(`${t}.${event}`).digest("hex");
    const response = await request(`${url}/webhooks/pay`, {
      method: "POST",
      body: event,
      headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` },
    });
    await response.body.dump();
    expect(response.statusCode).toBe(401);
  } finally {
    setClock();
  }
  expect(lines.filter((line) => line.includes("webhook pay rejected"))).toEqual([
    expect.stringMatching(/timestamp.*; it claims to be event "evt_1NG8Du2eZvKYlo2CUI79vXWy"\n$/),
  ]);
});

test("a refused delivery of a source with an idHeader is logged with the id that header claims, as the other senders' are", async () => {
  const lines: string[] = [];
  const { url } = await start(
    {
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        erp: ERP_SOURCE,
        trial: { scheme: "none", allowUnsigned: true, idHeader: "X-Request-Id" },
      }),
    },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const send = async (source: string, headers: Record<string, string>) => {
    const response = await request(`${url}/webhooks/${source}`, { method: "PUT", body: "{}", headers });
    await response.body.dump();
    return response.statusCode;
  };
  const { "x-signature": _, ...unsigned } = erpHeaders("{}", "inv-2026-0042");
  const response = await request(`${url}/webhooks/erp`, { method: "POST", body: "{}", headers: unsigned });
  await response.body.dump();
  expect(response.statusCode).toBe(401);
  expect(await send("trial", { "x-request-id": "req-7" })).toBe(405);
  expect(lines.filter((line) => / webhook (erp|trial) rejected/.test(line))).toEqual([
    expect.stringMatching(/webhook erp rejected from 127\.0\.0\.1: .*; it claims to be delivery "inv-2026-0042"\n$/),
    expect.stringMatching(/webhook trial rejected from 127\.0\.0\.1: .*; it claims to be delivery "req-7"\n$/),
  ]);
});

test("a delivery from GitHub or WooCommerce refused for its encoding or its method is logged as lost, as every refusal of theirs is", async () => {
  const lines: string[] = [];
  const { url } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
  const push = JSON.stringify({ ref: "refs/heads/main" });
  const encoded = await request(`${url}/webhooks/gh`, {
    method: "POST",
    body: gzipSync(push),
    headers: {
      "content-type": "application/json",
      "content-encoding": "gzip",
      "x-github-delivery": "d-gzip",
      "x-github-event": "push",
    },
  });
  await encoded.body.dump();
  expect(encoded.statusCode).toBe(415);
  const put = await request(`${url}/webhooks/shop`, {
    method: "PUT",
    body: "{}",
    headers: { "content-type": "application/json", "x-wc-webhook-delivery-id": "wc-put" },
  });
  await put.body.dump();
  expect(put.statusCode).toBe(405);
  const gh =
    "GitHub does not send it again: redeliver it within 3 days \\(7 on GitHub Enterprise Server\\) from the webhook's Recent Deliveries";
  expect(lines.filter((line) => / webhook (gh|shop) rejected/.test(line))).toEqual([
    expect.stringMatching(
      new RegExp(`info .*webhook gh rejected from 127.0.0.1: Content-Encoding .*; ${gh} \\(delivery ID "d-gzip"\\)\n$`),
    ),
    expect.stringMatching(
      /info .*webhook shop rejected from 127.0.0.1: a PUT; .*; WooCommerce does not send it again and .* \(delivery ID "wc-put"\)\n$/,
    ),
  ]);
});

test("a delivery from GitHub or WooCommerce to a path no source has is logged as lost, with its delivery ID", async () => {
  const lines: string[] = [];
  const { url } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
  // A source renamed in waiter (gh to github) while GitHub still posts to its old URL, and a URL mistyped at the shop.
  const renamed = await request(`${url}/webhooks/github`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json", "x-github-delivery": "d-renamed", "x-github-event": "push" },
  });
  await renamed.body.dump();
  expect(renamed.statusCode).toBe(404);
  const mistyped = await request(`${url}/webhook/shop`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json", "x-wc-webhook-delivery-id": "wc-mistyped" },
  });
  await mistyped.body.dump();
  expect(mistyped.statusCode).toBe(404);
  const gh =
    "GitHub does not send it again: redeliver it within 3 days \\(7 on GitHub Enterprise Server\\) from the webhook's Recent Deliveries";
  expect(lines.filter((line) => / webhook listener refused POST/.test(line))).toEqual([
    expect.stringMatching(
      new RegExp(
        `info .*webhook listener refused POST "/webhooks/github" from 127.0.0.1: no source is named "github".*; ${gh} \\(delivery ID "d-renamed"\\)\n$`,
      ),
    ),
    expect.stringMatching(
      /info .*webhook listener refused POST "\/webhook\/shop" from 127.0.0.1: no such path; .*; WooCommerce does not send it again and .* \(delivery ID "wc-mistyped"\)\n$/,
    ),
  ]);
});

test("a stranger's delivery ID header of many copies that differ is said in a line of a few of them, not each", async () => {
  const lines: string[] = [];
  const { url } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
  const copies = Array.from({ length: 2000 }, (_, i) => `d${i}`).join(", ");
  const scan = await request(`${url}/wp-login.php`, {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json", "x-github-delivery": copies },
  });
  await scan.body.dump();
  expect(scan.statusCode).toBe(404);
  const [line = ""] = lines.filter((l) => / webhook listener refused POST/.test(l));
  expect(line).toMatch(/\(delivery ID "d0" or "d1" or "d2" or 1997 more, the header's copies differing\)\n$/);
  expect(line.length).toBeLessThan(1000);
});

test("a sender that closes its connection before its body has come is said to have, not to be rejected, with what to send again", async () => {
  const lines: string[] = [];
  const { listener, port, store } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
  const host = `127.0.0.1:${port}`;
  const read = () => new Promise((resolve) => listener.server.once("request", () => setImmediate(resolve)));
  // GitHub gives up on a delivery after 10 s, mid-body over a slow link too, and does not send it again.
  const gh = await probe(port);
  let reading = read();
  gh.socket.write(
    `POST /webhooks/gh HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958\r\nContent-Length: 1000\r\n\r\n{"ref":`,
  );
  await reading;
  gh.socket.destroy();
  const shop = await probe(port);
  reading = read();
  shop.socket.write(
    `POST /webhooks/shop HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"id"\r\n`,
  );
  await reading;
  shop.socket.destroy();
  await expect.poll(() => lines.length).toBe(2);
  expect(lines).toEqual([
    expect.stringMatching(
      /info .*webhook gh delivery not stored: its sender, 127.0.0.1, closed the connection after 7 of the body's 1000 bytes \(GitHub does not send it again: redeliver it within 3 days \(7 on GitHub Enterprise Server\) from the webhook's Recent Deliveries \(delivery ID "72d3162e-cc78-11e3-81ab-4c9367dc0958"\)\)\n$/,
    ),
    expect.stringMatching(
      /info .*webhook shop delivery not stored: its sender, 127.0.0.1, closed the connection after 5 bytes of the body \(WooCommerce does not send it again and logs its body only with WP_DEBUG on: the shop shows the order, product, customer or coupon as it is now, and WooCommerce → Status → Logs the delivery's topic and time\)\n$/,
    ),
  ]);
  await expect
    .poll(async () => await store.counters())
    .toEqual({
      gh: { received: 1, "rejected:closed by sender": 1 },
      shop: { received: 1, "rejected:closed by sender": 1 },
    });
});

test("a delivery the listener cuts at its request timeout is said to be cut, not closed by its sender, and counted too slow", async () => {
  const lines: string[] = [];
  const { port, store } = await start(
    UNREPEATED,
    { headersMs: 500, requestMs: 500, checkEveryMs: 50, bodyGraceMs: 600_000 },
    new Log("info", (line) => lines.push(line)),
  );
  const gh = await probe(port);
  gh.socket.write(
    `POST /webhooks/gh HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958\r\nContent-Length: 1000\r\n\r\n{"ref":`,
  );
  await expect.poll(() => gh.closed()).toBe(true);
  expect(statusOf(gh)).toBe("408");
  await expect.poll(() => lines.length).toBe(1);
  expect(lines[0]).toMatch(
    /info .*webhook gh delivery not stored: the listener cut its sender, 127.0.0.1, with 408 after 7 of the body's 1000 bytes, as the request took longer than 0\.5 s to arrive \(GitHub does not send it again: redeliver it within 3 days \(7 on GitHub Enterprise Server\) from the webhook's Recent Deliveries \(delivery ID "72d3162e-cc78-11e3-81ab-4c9367dc0958"\)\)\n$/,
  );
  await expect.poll(async () => await store.counters()).toEqual({ gh: { received: 1, "rejected:body too slow": 1 } });
});

test("a delivery from GitHub or WooCommerce refused while the listener is busy is logged as lost, with what to do and its delivery ID", async () => {
  const lines: string[] = [];
  const { listener, url, port } = await start(
    UNREPEATED,
    { maxHeldBytes: 1000 },
    new Log("info", (line) => lines.push(line)),
  );
  // A stranger holds 600 of the 1,000 bytes, and waits.
  const stranger = await probe(port);
  const held = new Promise((resolve) =>
    listener.server.once("request", () => setImmediate(() => setImmediate(resolve))),
  );
  stranger.socket.write(
    `POST /webhooks/shop HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 2000\r\n\r\n${"x".repeat(600)}`,
  );
  await held;
  // A 503 brings no retry from WooCommerce: the delivery is lost unless someone acts.
  const shop = await request(`${url}/webhooks/shop`, { method: "POST", ...wooDelivery(1045, "wc-busy", 600) });
  await shop.body.dump();
  expect(shop.statusCode).toBe(503);
  expect(lines.filter((line) => line.includes("webhook shop delivery"))).toEqual([
    expect.stringMatching(
      /warning .*webhook shop delivery not stored, answered 503 as the listener is busy \(WooCommerce does not send it again and .* \(delivery ID "wc-busy"\)\)\n$/,
    ),
  ]);
  stranger.socket.destroy();
});

test("a WooCommerce delivery is logged with WooCommerce's own delivery ID, by which its logs find it, stored or not", async () => {
  const lines: string[] = [];
  const { url, store } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
  const stored = await request(`${url}/webhooks/shop`, { method: "POST", ...wooDelivery(1043, "5f2b1c0e9a") });
  expect(stored.statusCode).toBe(200);
  await stored.body.dump();
  store.add = () =>
    Promise.reject(new ToolError("The event store cannot be written (SQLITE_FULL: database or disk is full)"));
  const lost = await request(`${url}/webhooks/shop`, { method: "POST", ...wooDelivery(1044, "7c3d2e1f0b") });
  expect(lost.statusCode).toBe(503);
  await lost.body.dump();
  expect(lines.filter((line) => line.includes("webhook shop"))).toEqual([
    expect.stringMatching(
      /info .*webhook shop stored \w+: type "order\.updated", delivery "12:1043:2026-11-27T10:00:00:[0-9a-f]+" \(WooCommerce's delivery ID "5f2b1c0e9a"\)\n$/,
    ),
    expect.stringMatching(
      /warning .*webhook shop delivery "12:1044:2026-11-27T10:00:00:[0-9a-f]+" \(WooCommerce's delivery ID "7c3d2e1f0b"\) not stored, answered 503 \(WooCommerce does not send it again and logs its body only with WP_DEBUG on: the shop shows the order, product, customer or coupon as it is now, and WooCommerce → Status → Logs the delivery's topic and time\): The event store cannot be written/,
    ),
  ]);
});

test("a GET or HEAD to GitHub's or WooCommerce's URL without their delivery ID, as a browser or a monitor sends, is no lost delivery to send again by hand", async () => {
  const lines: string[] = [];
  const { port } = await start(UNREPEATED, {}, new Log("info", (line) => lines.push(line)));
  const host = `127.0.0.1:${port}`;
  expect((await send(port, { method: "GET", path: "/webhooks/gh", host })).status).toBe(405);
  expect((await send(port, { method: "HEAD", path: "/webhooks/shop", host })).status).toBe(405);
  expect(lines.filter((line) => / webhook (gh|shop) rejected/.test(line))).toEqual([
    expect.stringMatching(/info .*webhook gh rejected from 127.0.0.1: a GET; gh's webhooks are POSTed\n$/),
    expect.stringMatching(/info .*webhook shop rejected from 127.0.0.1: a HEAD; shop's webhooks are POSTed\n$/),
  ]);
});

/** A request with exactly the Host and Origin given (or none), as a browser or a rebinding page would send. */
function send(
  port: number,
  options: {
    method?: string;
    path: string;
    host?: string;
    origin?: string;
    body?: string;
    type?: string;
    /** The address connected to; 127.0.0.1 unless given. */
    to?: string;
  },
): Promise<{ status: number; body: { error?: string } }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": options.type ?? "text/plain" };
    if (options.host !== undefined) headers.host = options.host;
    if (options.origin !== undefined) headers.origin = options.origin;
    const req = httpRequest(
      {
        host: options.to ?? "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path,
        headers,
        setHost: false,
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

test("a Standard Webhooks secret written as Supabase's Auth Hooks show it, v1,whsec_…, verifies the deliveries it signs", async () => {
  const key = Buffer.alloc(32, 9).toString("base64");
  const { url, store } = await start({
    AUTH_HOOK_SECRET: `v1,whsec_${key}`,
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({
      ...SOURCES,
      auth: { scheme: "standard-webhooks", secretEnv: "AUTH_HOOK_SECRET" },
    }),
  });
  setClock("2026-12-05T09:30:00Z");
  cleanups.push(() => setClock());
  const body = JSON.stringify({ user: { id: "8484b834" }, email_data: { email_action_type: "signup" } });
  const id = "msg_2hDxB4LqMF8eZs1";
  const response = await request(`${url}/webhooks/auth`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(clock.now() / 1000)),
      "webhook-signature": new Webhook(key).sign(id, new Date(clock.now()), body),
    },
    body,
  });
  expect(response.statusCode).toBe(200);
  await response.body.dump();
  expect((await store.list({ source: "auth" }, { limit: 5, bodies: false })).length).toBe(1);
});

describe("Host and Origin", () => {
  test("a web page's POST, or a request for a foreign Host, gets 403, stores nothing, and is logged", async () => {
    const lines: string[] = [];
    const { port, store } = await start(
      {
        WAITER_WEBHOOKS_PUBLIC_URL: "https://hooks.example.com",
        WAITER_WEBHOOKS_ALLOWED_HOSTS: "hooks.internal",
        WAITER_WEBHOOKS_ALLOWED_ORIGINS: "https://admin.example.com",
      },
      {},
      new Log("info", (line) => lines.push(line)),
    );
    const here = `127.0.0.1:${port}`;
    const event = '{"type":"order.paid"}';
    const refused: [string, Parameters<typeof send>[1], RegExp][] = [
      [
        "a foreign Origin",
        { path: "/webhooks/trial", host: here, origin: "https://evil.example", body: event },
        /Origin "https:\/\/evil.example"/,
      ],
      ["Origin null", { path: "/webhooks/trial", host: here, origin: "null", body: event }, /Origin "null"/],
      [
        "a page on another loopback port",
        { path: "/webhooks/trial", host: here, origin: "http://localhost:1", body: event },
        /Origin/,
      ],
      [
        "a rebinding Host",
        { path: "/webhooks/trial", host: `rebind.evil.example:${port}`, body: event },
        /Host "rebind.evil.example:\d+"/,
      ],
      ["userinfo in Host", { path: "/webhooks/trial", host: `evil.example@${here}`, body: event }, /Host/],
      ["a loopback name on another port", { path: "/webhooks/trial", host: "localhost:1", body: event }, /Host/],
      [
        "the public host on another port",
        { path: "/webhooks/trial", host: "hooks.example.com:8443", body: event },
        /Host/,
      ],
      [
        "healthz for a rebinding Host",
        { method: "GET", path: "/healthz", host: `rebind.evil.example:${port}` },
        /Host/,
      ],
      [
        "healthz from a web page",
        { method: "GET", path: "/healthz", host: here, origin: "https://evil.example" },
        /Origin/,
      ],
    ];
    for (const [name, options, message] of refused) {
      const answer = await send(port, options);
      expect(answer.status, name).toBe(403);
      expect(answer.body.error, name).toMatch(message);
    }
    expect((await store.stats()).events).toBe(0);
    const counts = (await store.counters()).trial ?? {};
    expect(counts["rejected:Origin not allowed"]).toBe(3);
    expect(counts["rejected:Host not allowed"]).toBe(4);
    // A line a minute for each source and reason: a proxy that does not pass on the Host is heard of.
    expect(lines.filter((line) => / (webhook listener refused|webhook trial rejected)/.test(line))).toEqual([
      expect.stringMatching(
        /info .*webhook trial rejected from 127.0.0.1: a request from a web page \(Origin "https:\/\/evil\.example"\); webhook senders send no Origin/,
      ),
      expect.stringMatching(
        /info .*webhook trial rejected from 127.0.0.1: Host "rebind\.evil\.example:\d+" is not an address of this listener, which answers to webhooks\.publicUrl's host, hooks\.example\.com: a reverse proxy in front must pass on the Host/,
      ),
      expect.stringMatching(/info .*webhook listener refused GET "\/healthz" from 127.0.0.1: Host /),
      expect.stringMatching(
        /info .*webhook listener refused GET "\/healthz" from 127.0.0.1: a request from a web page/,
      ),
    ]);

    for (const host of [
      here,
      `localhost:${port}`,
      `[::1]:${port}`,
      "hooks.example.com",
      "HOOKS.example.com:443",
      "hooks.internal:9000",
    ]) {
      expect((await send(port, { method: "GET", path: "/healthz", host })).status, host).toBe(200);
    }
    for (const origin of ["https://admin.example.com", "https://hooks.example.com", `http://localhost:${port}`]) {
      const body = JSON.stringify({ type: "order.paid", from: origin });
      const allowed = await send(port, { path: "/webhooks/trial", host: here, origin, body });
      expect(allowed.status, origin).toBe(200);
    }
    expect((await store.stats()).events).toBe(3);
  });

  test("a stranger's Host, Origin or source name in the log starts no terminal escape and no line: C1 controls and line separators are escaped", async () => {
    const lines: string[] = [];
    const { port } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const here = `127.0.0.1:${port}`;
    // CSI (U+009B) begins an escape sequence on a terminal as ESC [ does; NEL (U+0085) and the
    // line separator begin a line in some viewers. A path's name is decoded; a header's bytes read as Latin-1.
    await send(port, { path: "/webhooks/%C2%9B2J%C2%85x%E2%80%A8y", host: here, body: "{}" });
    await send(port, { method: "GET", path: "/healthz", host: here, origin: "https://a\u009b2J\u0085b" });
    await send(port, { method: "GET", path: "/healthz", host: "a\u009b2J\u0085b" });
    const said = lines.filter((line) => line.includes("webhook listener refused"));
    expect(said).toEqual([
      expect.stringContaining('no source is named "\\u009b2J\\u0085x\\u2028y"'),
      expect.stringContaining('(Origin "https://a\\u009b2J\\u0085b")'),
      expect.stringContaining('Host "a\\u009b2J\\u0085b"'),
    ]);
    for (const line of said) expect(line).not.toMatch(/[\u0080-\u009f\u2028\u2029]/);
  });

  test("a delivery to a path whose source name is not percent-encoded right is answered as one to an unknown source", async () => {
    const lines: string[] = [];
    const { port } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const host = `127.0.0.1:${port}`;
    expect(await send(port, { path: "/webhooks/%ZZ", host, body: "{}" })).toMatchObject({
      status: 404,
      body: { error: 'unknown webhook source "%ZZ"' },
    });
    expect(lines.filter((line) => line.includes("webhook listener refused"))).toEqual([
      expect.stringMatching(/no source is named "%ZZ" \(the sources: erp, trial\)\n$/),
    ]);
  });

  test("a delivery to a misspelt source's path names the source meant in a line of its own though a stranger's unknown paths came first, and its answer the path meant alone", async () => {
    const lines: string[] = [];
    const { port } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const host = `127.0.0.1:${port}`;
    // A stranger's scan within the minute must not fold the provider's mistyped URL into its count.
    expect(await send(port, { path: "/webhooks/paypal", host, body: "{}" })).toMatchObject({
      status: 404,
      body: { error: 'unknown webhook source "paypal"' },
    });
    for (const path of ["/webhooks/tril", "/webhooks/ERP"]) {
      const answer = await send(port, { path, host, body: "{}" });
      expect(answer.status, path).toBe(404);
      // Anyone may post: the answer names the path meant, which a POST to it would show, and no other source.
      expect(answer.body.error, path).toBe(
        `unknown webhook source "${path.slice("/webhooks/".length)}"; did you mean /webhooks/${path === "/webhooks/ERP" ? "erp" : "trial"}?`,
      );
    }
    const said = lines.filter((line) => line.includes("no source is named"));
    expect(said).toEqual([
      expect.stringMatching(/no source is named "paypal" \(the sources: erp, trial\)\n$/),
      expect.stringMatching(
        /refused POST "\/webhooks\/tril" from 127.0.0.1: no source is named "tril"; did you mean trial\? \(the sources: erp, trial\)\n$/,
      ),
      expect.stringMatching(/no source is named "ERP"; did you mean erp\? \(the sources: erp, trial\)\n$/),
    ]);
  });

  test("a delivery to /webhook/<source>, singular, names the path meant, and is counted for that source; a stranger's path names none", async () => {
    const lines: string[] = [];
    const { port, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const host = `127.0.0.1:${port}`;
    const answer = await send(port, { path: "/webhook/erp", host, body: "{}" });
    expect(answer).toEqual({
      status: 404,
      body: { error: 'not found: "/webhook/erp"; did you mean /webhooks/erp?' },
    });
    // A name near no source's is told where webhooks go, and of no source.
    const stranger = await send(port, { path: "/webhook/paypal", host, body: "{}" });
    expect(stranger.body.error).toBe('not found: "/webhook/paypal"; webhooks go to POST /webhooks/<source>');
    expect(lines.filter((line) => line.includes("no such path"))).toEqual([
      expect.stringMatching(
        /refused POST "\/webhook\/erp" from 127.0.0.1: no such path; did you mean \/webhooks\/erp\? \(the sources: erp, trial\)\n$/,
      ),
      expect.stringMatching(/refused POST "\/webhook\/paypal" from 127.0.0.1: no such path; webhooks go to POST/),
    ]);
    // Where webhooks_sources tells to give the sender the source's url.
    await expect.poll(async () => (await store.counters()).erp).toEqual({ received: 1, "rejected:misspelt path": 1 });
  });

  test("a delivery to a source's path with two letters swapped, as fingers swap them, names the source meant", async () => {
    const lines: string[] = [];
    const { port } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const answer = await send(port, { path: "/webhooks/tiral", host: `127.0.0.1:${port}`, body: "{}" });
    expect(answer.status).toBe(404);
    expect(lines.filter((line) => line.includes("no source is named"))).toEqual([
      expect.stringMatching(/no source is named "tiral"; did you mean trial\? \(the sources: erp, trial\)\n$/),
    ]);
  });

  test("a source's URL takes only the method its sender uses: a PUT or DELETE to a POSTed source is 405, looks nothing up, stores nothing, and is counted", async () => {
    const { port, store } = await start();
    for (const method of ["PUT", "DELETE"]) {
      const answer = await send(port, { method, path: "/webhooks/trial?id=1", host: `127.0.0.1:${port}` });
      expect(answer, method).toEqual({ status: 405, body: { error: "trial's webhooks are POSTed" } });
    }
    expect((await store.stats()).events).toBe(0);
    // A sender set to the wrong method shows in webhooks_sources, rather than seeming never to call.
    await expect.poll(async () => (await store.counters()).trial).toEqual({ received: 2, "rejected:wrong method": 2 });
  });

  test("a GET to an unsigned source's URL, which Mailchimp sends to check it before saving a webhook, is answered 200, stores nothing, and is counted a ping", async () => {
    const lines: string[] = [];
    const { port, url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const answer = await send(port, { method: "GET", path: "/webhooks/trial", host: `127.0.0.1:${port}` });
    expect(answer).toEqual({
      status: 200,
      body: {
        ok: true,
        note: "trial's webhooks are POSTed here; a GET is answered 200 for senders that check the URL with one",
      },
    });
    expect((await send(port, { method: "HEAD", path: "/webhooks/trial", host: `127.0.0.1:${port}` })).status).toBe(200);
    const put = await request(`${url}/webhooks/trial`, { method: "PUT", body: "{}" });
    await put.body.dump();
    expect(put.headers.allow).toBe("GET, HEAD, POST");
    expect((await store.stats()).events).toBe(0);
    await expect
      .poll(async () => (await store.counters()).trial)
      .toEqual({ received: 3, ping: 2, "rejected:wrong method": 1 });
    expect(lines.filter((line) => line.includes("webhook trial:"))).toEqual([
      expect.stringMatching(
        /info .*webhook trial: a GET from 127\.0\.0\.1 answered 200, as a sender that checks the URL before it posts \(Mailchimp\) asks; stored nothing\n$/,
      ),
    ]);
  });

  test("a Slack Events API delivery to an unsigned source is typed by its event, not by the envelope every one comes in; its retry is a repeat", async () => {
    const { url, store } = await start();
    // As Slack posts an app_mention, its envelope's type event_callback for every kind of event.
    const body = JSON.stringify({
      token: "ZZZZZZWSxiZZZ2yIvs3peJ",
      team_id: "T123ABC456",
      api_app_id: "A123ABC456",
      event: {
        type: "app_mention",
        user: "U123ABC456",
        text: "What is the hour of the pearl, <@U0LAN0Z89>?",
        ts: "1515449522.000016",
        channel: "C123ABC456",
        event_ts: "1515449522000016",
      },
      type: "event_callback",
      event_id: "Ev123ABC456",
      event_time: 1515449522000016,
      authed_users: ["U0LAN0Z89"],
    });
    const headers = { "content-type": "application/json", "x-slack-request-timestamp": "1515449522" };
    const first = await request(`${url}/webhooks/trial`, { method: "POST", body, headers });
    expect(first.statusCode).toBe(200);
    const stored = (await first.body.json()) as { id: string; duplicate: boolean };
    expect(stored.duplicate).toBe(false);
    // Slack's retry, a second later, says which it is.
    const retried = { ...headers, "x-slack-request-timestamp": "1515449523", "x-slack-retry-num": "1" };
    const again = await request(`${url}/webhooks/trial`, { method: "POST", body, headers: retried });
    expect(await again.body.json()).toEqual({ id: stored.id, duplicate: true });
    expect((await store.list({ source: "trial" }, { limit: 5, bodies: false })).map((e) => e.type)).toEqual([
      "app_mention",
    ]);
  });

  test("a Slack retry is a repeat by its event_id, its body's bytes written otherwise; another event is not", async () => {
    const { url, store } = await start();
    const event = (id: string, text: string) => ({
      token: "XXYYZZ",
      team_id: "T123ABC456",
      api_app_id: "A123ABC456",
      event: { type: "message", channel: "C123ABC456", user: "U123ABC456", text, ts: "1355517523.000005" },
      type: "event_callback",
      event_id: id,
      event_time: 1355517523,
    });
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const answer = await request(`${url}/webhooks/trial`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      });
      return (await answer.body.json()) as { id: string; duplicate: boolean };
    };
    const first = await post(JSON.stringify(event("Ev123ABC456", "Order 7081 paid twice?")));
    expect(first.duplicate).toBe(false);
    // Slack promises the same event_id on a retry, not the same bytes: one written with blanks is the same event.
    const retried = await post(JSON.stringify(event("Ev123ABC456", "Order 7081 paid twice?"), null, 1), {
      "x-slack-retry-num": "1",
      "x-slack-retry-reason": "http_timeout",
    });
    expect(retried).toEqual({ id: first.id, duplicate: true });
    const another = await post(JSON.stringify(event("Ev123ABC457", "Order 7081 paid twice?")));
    expect(another.duplicate).toBe(false);
    expect((await store.list({ source: "trial" }, { limit: 5, bodies: false })).map((e) => e.dedupeId)).toEqual([
      "A123ABC456:Ev123ABC457",
      "A123ABC456:Ev123ABC456",
    ]);
  });

  test("two Slack apps posting to one source each have their event stored, though Slack gives both one event_id", async () => {
    const { url, store } = await start();
    // One message that mentions two apps whose Request URL is the same: Slack posts it to each, with one event_id.
    const mention = (app: string) =>
      JSON.stringify({
        token: "XXYYZZ",
        team_id: "T123ABC456",
        api_app_id: app,
        event: { type: "app_mention", channel: "C123ABC456", user: "U123ABC456", text: "<@U0A> <@U0B> order 7081?" },
        type: "event_callback",
        event_id: "Ev123ABC456",
        event_time: 1355517523,
      });
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const answer = await request(`${url}/webhooks/trial`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      });
      return (await answer.body.json()) as { id: string; duplicate: boolean };
    };
    const first = await post(mention("A111AAA111"));
    const second = await post(mention("A222BBB222"));
    expect(second.duplicate).toBe(false);
    // Each app's retry is still a repeat of its own delivery.
    expect(await post(mention("A222BBB222"), { "x-slack-retry-num": "1" })).toEqual({ id: second.id, duplicate: true });
    expect((await store.list({ source: "trial" }, { limit: 5, bodies: false })).map((e) => e.id)).toEqual([
      second.id,
      first.id,
    ]);
  });

  test("a Slack retry of an event an earlier waiter stored by its body's digest is a repeat of it", async () => {
    const { url, store } = await start();
    const body = JSON.stringify({
      token: "XXYYZZ",
      team_id: "T123ABC456",
      api_app_id: "A123ABC456",
      event: { type: "message", channel: "C123ABC456", user: "U123ABC456", text: "Order 7081 paid twice?" },
      type: "event_callback",
      event_id: "Ev123ABC456",
      event_time: 1355517523,
    });
    // As a waiter that keyed an unsigned delivery on its body alone stored it, before Slack retried.
    const before = await store.add({
      source: "trial",
      type: "message",
      scheme: "none",
      dedupeId: `sha256:${createHash("sha256").update(body).digest("hex")}`,
      headers: { "content-type": "application/json" },
      body: Buffer.from(body),
      receivedAt: Date.parse("2026-11-30T08:00:00Z"),
    });
    const retried = await request(`${url}/webhooks/trial`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-slack-retry-num": "1" },
    });
    expect(await retried.body.json()).toEqual({ id: before.id, duplicate: true });
    expect(await store.list({ source: "trial" }, { limit: 5, bodies: false })).toHaveLength(1);
  });

  test("a line of a Slack or Mailgun delivery shows the event, who it concerns first, not the envelope's token, ids and signature", async () => {
    const { url, store } = await start();
    const post = async (body: object) => {
      const answer = await request(`${url}/webhooks/trial`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
      expect(answer.statusCode).toBe(200);
      await answer.body.dump();
    };
    // As Slack's Events API docs show a message, in the envelope every event comes in, its legacy
    // verification token first.
    await post({
      token: "XXYYZZ",
      team_id: "T123ABC456",
      api_app_id: "A123ABC456",
      event: {
        type: "message",
        channel: "C123ABC456",
        user: "U123ABC456",
        text: "Could someone check order 7081? The customer says it was paid twice.",
        ts: "1355517523.000005",
      },
      type: "event_callback",
      event_id: "Ev123ABC456",
      event_time: 1355517523,
    });
    // Slack's note that an app's events are limited, which has no event of its own.
    await post({
      token: "Jhj5dZrVaK7ZwHHjRyZWjbDl",
      type: "app_rate_limited",
      team_id: "T123456",
      minute_rate_limited: 1518467820,
      api_app_id: "A123456",
    });
    // As Mailgun's docs show a delivered message, its signature's token and HMAC first.
    await post({
      signature: {
        timestamp: "1529006854",
        token: "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
        signature: "d2271d12299f6592d9d44cd9d250f0704e4674c30d79d07c47a66f95ce71cf55",
      },
      "event-data": {
        id: "CPgfbmQMTCKtHW6uIWtuVe",
        timestamp: 1521472262.908181,
        "log-level": "info",
        event: "delivered",
        "delivery-status": { tls: true, "mx-host": "smtp-in.example.com", code: 250, description: "" },
        envelope: { transport: "smtp", sender: "bob@sandbox.mailgun.org", targets: "alice@example.com" },
        recipient: "alice@example.com",
        "recipient-domain": "example.com",
      },
    });
    const events = await store.list({ source: "trial" }, { limit: 5 });
    expect(events.map((event) => [event.type, summary(event).gist])).toEqual([
      [
        "delivered",
        '{"id":"CPgfbmQMTCKtHW6uIWtuVe","recipient":"alice@example.com","timestamp":1521472262.908181,"log-level":"info","delive…',
      ],
      ["app_rate_limited", '{"team_id":"T123456","minute_rate_limited":1518467820,"api_app_id":"A123456"}'],
      [
        "message",
        '{"channel":"C123ABC456","user":"U123ABC456","text":"Could someone check order 7081? The customer says it was paid twice…',
      ],
    ]);
  });

  test("a line of a Slack event that says nothing but its type names the workspace its envelope does, not {}", async () => {
    const { url, store } = await start();
    for (const event of [
      { type: "app_uninstalled" },
      // Its lists are what it says, shown as a list-only event's are.
      { type: "tokens_revoked", tokens: { oauth: ["U123ABC456"], bot: [] } },
      {
        type: "reaction_added",
        user: "U123ABC456",
        reaction: "eyes",
        item: { type: "message", channel: "C1", ts: "1.2" },
      },
    ]) {
      const answer = await request(`${url}/webhooks/trial`, {
        method: "POST",
        body: JSON.stringify({
          token: "XXYYZZ",
          team_id: "T123ABC456",
          api_app_id: "A123ABC456",
          event,
          type: "event_callback",
          event_id: `Ev-${event.type}`,
          event_time: 1355517523,
        }),
        headers: { "content-type": "application/json" },
      });
      expect(answer.statusCode).toBe(200);
      await answer.body.dump();
    }
    const events = await store.list({ source: "trial" }, { limit: 5 });
    // The workspace comes after what the event says.
    expect(events.map((event) => summary(event).gist)).toEqual([
      '{"user":"U123ABC456","reaction":"eyes","item.type":"message","item.channel":"C1","item.ts":"1.2","team_id":"T123ABC456"}',
      '{"type":"tokens_revoked","tokens":{"oauth":["U123ABC456"],"bot":[]}}',
      '{"team_id":"T123ABC456"}',
    ]);
  });

  test("a GET to an hmac-sha256 source's URL, which no sender it verifies checks so, is 405 and counted refused, not a ping", async () => {
    // Mailchimp, which GETs a URL before it saves a webhook, signs none of its POSTs: none would verify here.
    const lines: string[] = [];
    const { port, url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    for (const method of ["GET", "HEAD"]) {
      const answer = await send(port, { method, path: "/webhooks/erp", host: `127.0.0.1:${port}` });
      expect(answer.status, method).toBe(405);
    }
    const put = await request(`${url}/webhooks/erp`, { method: "PUT", body: "{}" });
    await put.body.dump();
    expect(put.headers.allow).toBe("POST");
    await expect.poll(async () => (await store.counters()).erp).toEqual({ received: 3, "rejected:wrong method": 3 });
    // The log names why Mailchimp's check is refused, where whoever set it up looks first.
    expect(lines.filter((line) => line.includes("Mailchimp"))).toEqual([
      expect.stringContaining(
        "a GET; erp's webhooks are POSTed (if it is Mailchimp's check of the URL: Mailchimp signs none of its webhooks, so an hmac-sha256 source would refuse them all; docs/webhooks.md says where they can be taken)",
      ),
    ]);
  });

  test("a GET to a source whose sender never checks its URL so, Stripe's, is still 405", async () => {
    const { port } = await start({
      PAY_SECRET: STRIPE_SECRET,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ ...SOURCES, pay: { scheme: "stripe", secretEnv: "PAY_SECRET" } }),
    });
    expect(await send(port, { method: "GET", path: "/webhooks/pay", host: `127.0.0.1:${port}` })).toEqual({
      status: 405,
      body: { error: "pay's webhooks are POSTed" },
    });
  });

  test("a refused OPTIONS is logged as an OPTIONS", async () => {
    const lines: string[] = [];
    const { port } = await start({}, {}, new Log("info", (line) => lines.push(line)));
    const answer = await send(port, { method: "OPTIONS", path: "/webhooks/trial", host: `127.0.0.1:${port}` });
    expect(answer.status).toBe(405);
    expect(lines).toEqual([
      expect.stringMatching(/info .*webhook trial rejected from 127.0.0.1: an OPTIONS; trial's webhooks are POSTed\n$/),
    ]);
  });

  test("a health check that names the address it connects to, as Kubernetes and load balancers do, passes; another address does not", async () => {
    const { port } = await start({
      WAITER_WEBHOOKS_LISTEN: "0.0.0.0:0",
      WAITER_WEBHOOKS_PUBLIC_URL: "https://hooks.example.com",
    });
    // 127.0.0.2 is this machine's too, as a pod's or an instance's own address is, and no listen name.
    const healthz = (host: string) => send(port, { method: "GET", path: "/healthz", host, to: "127.0.0.2" });
    expect((await healthz(`127.0.0.2:${port}`)).status).toBe(200);
    for (const host of [`127.0.0.3:${port}`, `127.0.0.2:${port + 1}`, "127.0.0.2"]) {
      expect((await healthz(host)).status, host).toBe(403);
    }
    const guard = requestGuard({
      listen: { host: "::", port: 8790 },
      publicUrl: "https://hooks.example.com",
      allowedHosts: [],
      allowedOrigins: [],
    });
    expect(guard({ host: "10.1.2.3:8790" }, 8790, "/healthz", "::ffff:10.1.2.3")).toBeUndefined();
    expect(guard({ host: "[fd00::7]:8790" }, 8790, "/healthz", "FD00::7")).toBeUndefined();
    expect(guard({ host: "10.1.2.4:8790" }, 8790, "/healthz", "::ffff:10.1.2.3")?.reason).toBe("Host not allowed");
  });

  test("a request that names no Host is refused", async () => {
    const { port } = await start();
    const old = await probe(port);
    old.socket.write("GET /healthz HTTP/1.0\r\n\r\n");
    await expect.poll(() => statusOf(old)).toBe("403");
    expect(old.received()).toMatch(/names no Host/);
  });

  test("bound to a wildcard address, any Host is taken until publicUrl or allowedHosts names one; Origin never is", () => {
    const guard = (settings: { host: string; publicUrl?: string; allowedHosts?: string[] }) =>
      requestGuard({
        listen: { host: settings.host, port: 8790 },
        publicUrl: settings.publicUrl,
        allowedHosts: settings.allowedHosts ?? [],
        allowedOrigins: [],
      });
    for (const host of ["0.0.0.0", "::"]) {
      const open = guard({ host });
      expect(open({ host: "192.168.1.20:8790" }, 8790, "/healthz"), host).toBeUndefined();
      expect(open({ host: "anything.example" }, 8790, "/healthz"), host).toBeUndefined();
      expect(open({ host: "192.168.1.20:8790", origin: "https://evil.example" }, 8790, "/healthz")?.reason).toBe(
        "Origin not allowed",
      );
      const named = guard({ host, publicUrl: "https://hooks.example.com" });
      expect(named({ host: "anything.example" }, 8790, "/healthz")?.reason).toBe("Host not allowed");
      expect(named({ host: "hooks.example.com" }, 8790, "/healthz")).toBeUndefined();
      expect(named({ host: "localhost:8790" }, 8790, "/healthz")).toBeUndefined();
      const listed = guard({ host, allowedHosts: ["192.168.1.20"] });
      expect(listed({ host: "192.168.1.20:8790" }, 8790, "/healthz")).toBeUndefined();
      expect(listed({ host: "anything.example" }, 8790, "/healthz")?.reason).toBe("Host not allowed");
    }
    const lan = guard({ host: "192.168.1.20" });
    expect(lan({ host: "192.168.1.20:8790" }, 8790, "/healthz")).toBeUndefined();
    expect(lan({ host: "localhost:8790" }, 8790, "/healthz")?.reason).toBe("Host not allowed");
  });

  test("a loopback publicUrl is named by any loopback name, as a proxy on this machine passes it on", () => {
    // docs/compose.yml: nginx's $host leaves the port out, and the replica listens on 8790 of its container.
    const guard = requestGuard({
      listen: { host: "0.0.0.0", port: 8790 },
      publicUrl: "http://127.0.0.1:8790",
      allowedHosts: [],
      allowedOrigins: [],
    });
    for (const host of ["127.0.0.1", "localhost", "LOCALHOST", "[::1]", "localhost:8790"]) {
      expect(guard({ host }, 8790, "/mcp", "172.18.0.3"), host).toBeUndefined();
    }
    for (const host of ["localhost:9000", "waiter.example.com", "127.0.0.1.nip.io"]) {
      expect(guard({ host }, 8790, "/mcp", "172.18.0.3")?.reason, host).toBe("Host not allowed");
    }
    const remote = requestGuard({
      listen: { host: "0.0.0.0", port: 8790 },
      publicUrl: "https://waiter.example.com",
      allowedHosts: [],
      allowedOrigins: [],
    });
    expect(remote({ host: "localhost" }, 8790, "/mcp", "172.18.0.3")?.reason).toBe("Host not allowed");
  });

  test("a Host refused with publicUrl set says the proxy in front must pass on the Host it was asked for", () => {
    // nginx without `proxy_set_header Host $host` sends its upstream's name; publicUrl is already set.
    const guard = requestGuard({
      listen: { host: "127.0.0.1", port: 8790 },
      publicUrl: "https://waiter.example.com",
      allowedHosts: [],
      allowedOrigins: [],
    });
    expect(guard({ host: "waiter_backend" }, 8790, "/webhooks/shop")?.message).toBe(
      'refused: Host "waiter_backend" is not an address of this listener, which answers to webhooks.publicUrl\'s host, waiter.example.com: a reverse proxy in front must pass on the Host it was asked for (nginx: proxy_set_header Host $host); if "waiter_backend" is an address of it, add the host to webhooks.allowedHosts',
    );
  });

  test("allowedHosts and allowedOrigins are checked as they are read", () => {
    const load = (env: Record<string, string>) => () => loadConfig({ env }, toolsets());
    expect(load({ WAITER_WEBHOOKS_ALLOWED_HOSTS: "hooks.example.com:443" })).toThrow(/host names without a port/);
    expect(load({ WAITER_WEBHOOKS_ALLOWED_ORIGINS: "https://admin.example.com/path" })).toThrow(/lists origins/);
    // Several written with blanks or semicolons between them, as some lists are: said how to separate them.
    expect(load({ WAITER_WEBHOOKS_ALLOWED_HOSTS: "hooks.example.com admin.example.com" })).toThrow(
      "invalid setting WAITER_WEBHOOKS_ALLOWED_HOSTS: lists host names without a port, like hooks.example.com or [::1]; separate several with commas: hooks.example.com,admin.example.com",
    );
    expect(load({ WAITER_WEBHOOKS_ALLOWED_ORIGINS: "https://a.example.com;https://b.example.com" })).toThrow(
      "invalid setting WAITER_WEBHOOKS_ALLOWED_ORIGINS: lists origins, like https://admin.example.com; separate several with commas: https://admin.example.com,https://app.example.com",
    );
    const webhooks = webhooksOf(
      loadConfig(
        {
          env: {
            WAITER_WEBHOOKS_ALLOWED_HOSTS: "Hooks.Example.com, [::1]",
            WAITER_WEBHOOKS_ALLOWED_ORIGINS: "HTTPS://Admin.example.com:443/",
          },
        },
        toolsets(),
      ),
    );
    expect(webhooks.allowedHosts).toEqual(["hooks.example.com", "[::1]"]);
    expect(webhooks.allowedOrigins).toEqual(["https://admin.example.com"]);
  });
});

test("a delivery waiting on a write lock another program holds is answered 503 before Shopify gives up on it", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const secret = "shopify-secret-for-tests";
  const sources = JSON.stringify({ ...SOURCES, shopify: { scheme: "shopify", secretEnv: "SHOPIFY_SECRET" } });
  const lines: string[] = [];
  // The store's own wait for the lock, as deployed.
  const { url } = await start(
    { WAITER_WEBHOOKS_SOURCES: sources, SHOPIFY_SECRET: secret },
    {},
    new Log("warning", (line) => lines.push(line)),
    10_000,
    file,
  );
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  cleanups.push(() => holder.exec("ROLLBACK"));
  const body = '{"id":820982911946154500,"email":"jon@example.com"}';
  // Shopify waits 5 s in all for an answer (at most one of them for the connection, here at once),
  // and counts a delivery unanswered by then as failed, toward removing the subscription.
  const response = await request(`${url}/webhooks/shopify`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": "orders/paid",
      "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
    },
    body,
    signal: AbortSignal.timeout(5_000),
  });
  expect(response.statusCode).toBe(503);
  expect(response.headers["retry-after"]).toBe("5");
  // Said to whoever runs waiter, who is the one to find that program, not as a model is advised.
  expect(lines.filter((line) => line.includes("not stored"))).toEqual([
    expect.stringMatching(
      /webhook shopify delivery "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" not stored, answered 503 \(.*\): The event store is busy: another program has held its write lock for over 3 s \(most often a transaction left open on .*events\.db in sqlite3 or a database browser, or a VACUUM\); nothing is stored until that program lets it go\.\n$/,
    ),
  ]);
});

test("a delivery stored after its sender gave up waiting is logged as one its sender counts as failed", async () => {
  const lines: string[] = [];
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const { listener, port } = await start({}, {}, new Log("info", (line) => lines.push(line)), 10_000, file);
  // A transaction left open in sqlite3, ended while the delivery waits for the lock.
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  const connected = new Promise<Socket>((resolve) => listener.server.once("connection", resolve));
  const sender = await probe(port, "127.0.0.1", posted(port, signed()));
  // The sender's own timeout ends its wait before the lock is let go.
  const closed = new Promise((resolve) => connected.then((socket) => socket.once("close", resolve)));
  sender.socket.destroy();
  await closed;
  holder.exec("COMMIT");
  await expect
    .poll(() => lines.filter((line) => line.includes("webhook erp stored")))
    .toEqual([
      expect.stringMatching(
        /warning .*webhook erp stored \S+: type "invoice\.created", delivery "d-\d+", after its connection closed before an answer: its sender counts the delivery as failed, and one it sends again is answered as a repeat\n$/,
      ),
    ]);
});

test("a delivery stored after a stop's drain time cut its connection is not said to be one its sender gave up", async () => {
  const lines: string[] = [];
  const file = join(mkdtempSync(join(tmpdir(), "waiter-lock-")), "events.db");
  const { listener, port } = await start({}, {}, new Log("info", (line) => lines.push(line)), 300, file);
  // A transaction left open in sqlite3, ended once the stop cut the delivery waiting for the lock.
  const holder = new Database(file);
  cleanups.push(() => holder.close());
  holder.exec("BEGIN IMMEDIATE");
  const connected = new Promise<Socket>((resolve) => listener.server.once("connection", resolve));
  await probe(port, "127.0.0.1", posted(port, signed()));
  const socket = await connected;
  const closed = new Promise((resolve) => socket.once("close", resolve));
  const stopped = listener.close();
  await closed;
  holder.exec("COMMIT");
  await stopped;
  await expect
    .poll(() => lines.filter((line) => line.includes("webhook erp stored")))
    .toEqual([
      expect.stringMatching(
        /warning .*webhook erp stored \S+: type "invoice\.created", delivery "d-\d+", after its connection closed before an answer: its sender counts the delivery as failed/,
      ),
    ]);
});

test("an id its idHeader repeats with another body is a delivery of its own, stored and said as the source's setup to mend", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  // A sender that puts its webhook's id, not each delivery's, in the header the source keys on.
  const sent = (invoice: number) => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, "webhook-7") };
  };
  const first = await deliver(url, sent(1));
  const second = await deliver(url, sent(2));
  const secondAgain = await deliver(url, sent(2));
  const firstAgain = await deliver(url, sent(1));
  expect([first.status, second.status, secondAgain.status, firstAgain.status]).toEqual([200, 200, 200, 200]);
  expect(second.body).toEqual({ id: expect.any(String), duplicate: false });
  expect(second.body.id).not.toBe(first.body.id);
  expect(secondAgain.body).toEqual({ id: second.body.id, duplicate: true });
  expect(firstAgain.body).toEqual({ id: first.body.id, duplicate: true });
  expect(JSON.parse((await store.get(second.body.id as string))?.payload ?? "")).toEqual({ invoice: 2 });
  expect(lines.filter((line) => / warning .*webhook erp /.test(line))).toEqual([
    expect.stringMatching(
      /webhook erp stored .*: delivery "webhook-7" came again with another body, so X-Delivery-Id names no single delivery: .*idHeader/,
    ),
  ]);
  await expect
    .poll(async () => (await store.counters()).erp)
    .toMatchObject({
      received: 5,
      accepted: 2,
      duplicate: 2,
      "id reused": 1,
    });
});

test("an id its idHeader repeats with another body in a charset other than UTF-8 is a delivery of its own, not a retry of a text alike", async () => {
  const { url, store } = await start();
  // An ERP's XML in windows-1252, a byte a letter: Müller and Mäller differ in one byte that is no UTF-8.
  const sent = (name: string) => {
    const body = Buffer.from(`<customer><name>${name}</name></customer>`, "latin1");
    return {
      body,
      headers: {
        ...erpHeaders("", "customer-3"),
        "content-type": "application/xml; charset=windows-1252",
        "x-signature": `sha256=${createHmac("sha256", ERP_SECRET).update(body).digest("hex")}`,
      },
    };
  };
  const first = await deliver(url, sent("M\u00fcller"));
  const second = await deliver(url, sent("M\u00e4ller"));
  const secondAgain = await deliver(url, sent("M\u00e4ller"));
  expect([first.status, second.status, secondAgain.status]).toEqual([200, 200, 200]);
  expect(second.body).toEqual({ id: expect.any(String), duplicate: false });
  expect(second.body.id).not.toBe(first.body.id);
  expect(secondAgain.body).toEqual({ id: second.body.id, duplicate: true });
  expect((await store.get(second.body.id as string))?.size).toBe(sent("M\u00e4ller").body.length);
});

test("while the store takes no writes, an id its idHeader repeats with another body is answered 503, not as the delivery stored under it", async () => {
  const { url, store } = await start();
  const sent = (invoice: number) => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, "webhook-9") };
  };
  const first = await deliver(url, sent(1));
  expect(first.status).toBe(200);
  const writesAgain = diskFull(store);
  // A retry of the delivery stored has its answer still; another body is another delivery, to send again.
  expect(await deliver(url, sent(1))).toEqual({ status: 200, body: { id: first.body.id, duplicate: true } });
  expect((await deliver(url, sent(2))).status).toBe(503);
  writesAgain();
  expect((await deliver(url, sent(2))).body).toEqual({ id: expect.any(String), duplicate: false });
});

test("while the store takes no writes, a retry of a delivery stored apart for its idHeader's reused id is answered as stored", async () => {
  const { url, store } = await start();
  const sent = (invoice: number) => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, "webhook-15") };
  };
  expect((await deliver(url, sent(1))).status).toBe(200);
  const second = await deliver(url, sent(2));
  expect(second.body).toEqual({ id: expect.any(String), duplicate: false });
  diskFull(store);
  expect(await deliver(url, sent(2))).toEqual({ status: 200, body: { id: second.body.id, duplicate: true } });
  expect((await deliver(url, sent(3))).status).toBe(503);
});

test("an id its idHeader repeats, whose stored body the store could not read back, is counted not stored only, not also a duplicate", async () => {
  const { url, store } = await start();
  const sent = (invoice: number) => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, "webhook-11") };
  };
  expect((await deliver(url, sent(1))).status).toBe(200);
  const storedBody = store.storedBody.bind(store);
  store.storedBody = () =>
    Promise.reject(new StoreNotWritable("SQLITE_IOERR: disk I/O error", "its disk failed a read (events.db)"));
  expect((await deliver(url, sent(2))).status).toBe(503);
  store.storedBody = storedBody;
  await expect
    .poll(async () => (await store.counters()).erp)
    .toEqual({ received: 2, accepted: 1, duplicate: 0, "rejected:not stored": 1 });
});

test("a duplicate count the store could not take back, of an id its idHeader repeats with another body, is logged as one too many", async () => {
  const lines: string[] = [];
  const { url, store } = await start({}, {}, new Log("info", (line) => lines.push(line)));
  const sent = (invoice: number) => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, "webhook-13") };
  };
  expect((await deliver(url, sent(1))).status).toBe(200);
  store.count = () =>
    Promise.reject(new StoreNotWritable("SQLITE_FULL: database or disk is full", "its disk is full (events.db)"));
  expect((await deliver(url, sent(2))).body).toEqual({ id: expect.any(String), duplicate: false });
  await expect
    .poll(() => lines.filter((line) => line.includes("(duplicate)") || line.includes("duplicate counts")))
    .toEqual([
      expect.stringMatching(
        /warning .*webhook erp: duplicate counts a request too many, not taken back: The event store cannot be written/,
      ),
    ]);
});

test("a retry of a JSON delivery that begins with a byte order mark is its stored event's duplicate, not stored anew", async () => {
  const { url } = await start();
  const body = `\uFEFF${JSON.stringify({ invoice: 12 })}`;
  const delivery = { body, headers: erpHeaders(body, "d-bom") };
  const first = await deliver(url, delivery);
  const again = await deliver(url, delivery);
  expect(first.body).toEqual({ id: expect.any(String), duplicate: false });
  expect(again.body).toEqual({ id: first.body.id, duplicate: true });
});

test("while the store takes no writes, an id its idHeader repeats with another body after retention dropped its first event is answered 503, a retry of that one as its duplicate", async () => {
  const { url, store } = await start({ WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxEvents: 1 }) });
  const sent = (invoice: number, id = "webhook-9") => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, id) };
  };
  const first = await deliver(url, sent(1));
  expect((await deliver(url, sent(2, "d-other"))).body).toEqual({ id: expect.any(String), duplicate: false });
  expect(await store.get(first.body.id as string)).toBeUndefined();
  const writesAgain = diskFull(store);
  // Another delivery, which the store cannot take now: sent again later, not lost as a duplicate.
  expect((await deliver(url, sent(3))).status).toBe(503);
  expect((await deliver(url, sent(1))).body).toEqual({ id: first.body.id, duplicate: true });
  writesAgain();
  const stored = await deliver(url, sent(3));
  expect(stored.body).toEqual({ id: expect.any(String), duplicate: false });
  expect(JSON.parse((await store.get(stored.body.id as string))?.payload ?? "")).toEqual({ invoice: 3 });
});

test("an id its idHeader repeats with another body only after retention dropped the event stored under it is stored, a retry of that one still its duplicate", async () => {
  const lines: string[] = [];
  const { url, store } = await start(
    { WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxEvents: 1 }) },
    {},
    new Log("info", (line) => lines.push(line)),
  );
  const sent = (invoice: number, id = "webhook-8") => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, id) };
  };
  const first = await deliver(url, sent(1));
  // Another delivery drops it for its room, before its sender ever put the id on another body.
  expect((await deliver(url, sent(2, "d-other"))).body).toEqual({ id: expect.any(String), duplicate: false });
  expect(await store.get(first.body.id as string)).toBeUndefined();
  const reused = await deliver(url, sent(3));
  expect(reused.body).toEqual({ id: expect.any(String), duplicate: false });
  expect(reused.body.id).not.toBe(first.body.id);
  expect(JSON.parse((await store.get(reused.body.id as string))?.payload ?? "")).toEqual({ invoice: 3 });
  // The dropped delivery sent again is its repeat, not stored anew though its sender reuses ids.
  expect((await deliver(url, sent(1))).body).toEqual({ id: first.body.id, duplicate: true });
  expect(lines.filter((line) => / warning .*webhook erp /.test(line))).toEqual([
    expect.stringMatching(
      new RegExp(
        `came again with another body, .* beside ${first.body.id}, which retention has dropped since, keyed on the id`,
      ),
    ),
  ]);
  await expect
    .poll(async () => (await store.counters()).erp)
    .toMatchObject({ accepted: 3, duplicate: 1, "id reused": 1 });
});

test("an id its idHeader repeats with another body, after retention dropped the event first stored under it, is stored, not lost as the dropped one's duplicate", async () => {
  const { url } = await start({ WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxEvents: 1 }) });
  // A sender that puts its webhook's id, not each delivery's, in the header the source keys on.
  const sent = (invoice: number) => {
    const body = JSON.stringify({ invoice });
    return { body, headers: erpHeaders(body, "webhook-5") };
  };
  const first = await deliver(url, sent(1));
  // Stored beside it, and the first dropped for its room.
  const second = await deliver(url, sent(2));
  expect(second.body).toEqual({ id: expect.any(String), duplicate: false });
  const third = await deliver(url, sent(3));
  expect(third.body).toEqual({ id: expect.any(String), duplicate: false });
  expect([first.body.id, second.body.id]).not.toContain(third.body.id);
  // A retry of one stored under the id and its body is still its duplicate.
  expect((await deliver(url, sent(3))).body).toEqual({ id: third.body.id, duplicate: true });
});
