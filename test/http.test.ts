import { spawn, spawnSync } from "node:child_process";
import diagnostics from "node:diagnostics_channel";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { z } from "zod";
import { UnconfirmedChange, UpstreamError } from "../src/errors.js";
import { type Call, HttpClient, type HttpClientOptions } from "../src/http/client.js";
import { proxyFrom } from "../src/http/proxy.js";
import { upstreamUrl, waitersOwnUrl } from "../src/settings.js";
import { clock, setClock } from "../src/time.js";
import { type Fake, freePort, json, startFake } from "./fakes/http.js";
import { startWaiter } from "./memory.js";
import { localhostCertificate } from "./nginx.js";
import { startServer, text } from "./stdio.js";

let fake: Fake;
let clients: HttpClient[] = [];

/** Answers /n/<anything> with {"n": <count of requests so far>}; /big/<bytes> with that many bytes. */
beforeAll(async () => {
  fake = await startFake((request) => {
    // /revalidate/<name>: a resource last modified at a fixed time, with an ETag; a conditional
    // request that matches either is answered 304 with a fresh max-age (none with after304=none).
    if (request.path.startsWith("/revalidate/")) {
      const lastModified = "Wed, 25 Nov 2026 10:00:00 GMT";
      const etag = '"v1"';
      const maxAge = request.query.get("max-age") ?? "1";
      const matches =
        request.headers["if-none-match"] === etag || request.headers["if-modified-since"] === lastModified;
      const after304 = request.query.get("after304") ?? maxAge;
      if (matches)
        return { status: 304, headers: after304 === "none" ? {} : { "cache-control": `max-age=${after304}` } };
      return json(200, JSON.stringify({ n: fake.requests.length }), {
        "cache-control": `max-age=${maxAge}`,
        "last-modified": lastModified,
        etag,
      });
    }
    const big = /^\/big\/(\d+)$/.exec(request.path);
    if (big) return { status: 200, body: Buffer.alloc(Number(big[1]), 97), headers: { "content-type": "text/plain" } };
    const maxAge = request.query.get("max-age");
    return json(
      200,
      JSON.stringify({ n: fake.requests.length }),
      maxAge ? { "cache-control": `max-age=${maxAge}` } : {},
    );
  });
});

afterAll(() => fake.close());

afterEach(async () => {
  setClock();
  fake.queue.length = 0;
  fake.intercept = undefined;
  fake.delayMs = 0;
  fake.encoding = undefined;
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

function client(options: Partial<HttpClientOptions> = {}) {
  const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, ...options });
  clients.push(http);
  return http.upstream("Test API", new URL(`${fake.origin}/`));
}

/** A tool call as the server makes one: a signal that aborts only when the client cancels, and a deadline. */
function call(timeoutMs = 5_000): Call {
  return { signal: new AbortController().signal, deadline: clock.now() + timeoutMs };
}

const any = z.unknown();

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe("deadlines and timeouts", () => {
  test("the call's deadline ends a slow request early", async () => {
    // Loading undici and connecting come first, lest they spend the deadline before the request is sent.
    // The response timeout, far past the deadline, cannot end the request in its place.
    const api = client({ responseTimeoutMs: 600_000 });
    await api.send("/warm", {}, call());
    // The answer comes only once the call has failed: nothing but the deadline can end it.
    let answer = () => {};
    fake.held = new Promise((resolve) => {
      answer = resolve;
    });
    // The deadline passes once the request is in, however long a busy machine took to send it,
    // and without waiting for it.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const failed = failure(api.send("/slow", {}, call(2_000)));
      await expect.poll(() => fake.count("/slow")).toBe(1);
      await vi.advanceTimersByTimeAsync(2_000);
      const error = await failed;
      expect(error.message).toMatch(/Test API \(127\.0\.0\.1:\d+\) did not answer before the tool call's deadline/);
      expect(fake.count("/slow")).toBe(1);
    } finally {
      vi.useRealTimers();
      answer();
      fake.held = undefined;
    }
  });

  test("a request stopped while it waits for a busy connection was not sent: a change is said at once as not made, a shared read as not reached", async () => {
    const api = client({ connectionsPerHost: 1, maxRetries: 0, responseTimeoutMs: 600_000 });
    await api.send("/warm", {}, call());
    let answer = () => {};
    fake.held = new Promise((resolve) => {
      answer = resolve;
    });
    // The one connection is busy with a request whose answer is held; the others queue behind it.
    const created = diagnostics.channel("undici:request:create");
    const queued: string[] = [];
    const heard = (message: unknown) => queued.push((message as { request: { path: string } }).request.path);
    created.subscribe(heard);
    const stop = new AbortController();
    const stopped = { signal: stop.signal, deadline: clock.now() + 600_000, deadlineSetting: "WAITER_TOOL_TIMEOUT" };
    try {
      const busy = api.send("/busy", {}, call(600_000));
      await expect.poll(() => fake.count("/busy")).toBe(1);
      const change = failure(api.send("/orders/2", { method: "PUT", body: "{}" }, stopped));
      // Two callers share one read: the first waits on, the second is stopped with the change.
      const first = api.json(any, "/shared", {}, call(600_000));
      const second = failure(api.json(any, "/shared", {}, stopped));
      await expect.poll(() => queued).toEqual(expect.arrayContaining(["/orders/2", "/shared"]));
      stop.abort(new DOMException("The tool call's deadline passed.", "TimeoutError"));
      expect((await second).message).toMatch(
        /^Test API \(127\.0\.0\.1:\d+\) was not reached \(no connection to it opened, or none was free\) before the tool call's deadline; try again later\.$/,
      );
      // Answered at once, not once the connection is free.
      expect((await change).message).toMatch(
        /^Test API \(127\.0\.0\.1:\d+\) was not reached \(no connection to it opened, or none was free\) when the tool call's deadline \(WAITER_TOOL_TIMEOUT\) passed, so the change was not made; try again later\.$/,
      );
      answer();
      fake.held = undefined;
      await busy;
      await first;
      // Behind the stopped change on the one connection: once it is answered, the change was dropped unsent.
      await api.send("/after", {}, call());
      expect(fake.count("/orders/2")).toBe(0);
      expect(fake.count("/shared")).toBe(1);
    } finally {
      created.unsubscribe(heard);
      answer();
      fake.held = undefined;
    }
  });

  test("a change stopped while its second try waits for a busy connection is said as maybe made, as its first try was sent", async () => {
    const api = client({ connectionsPerHost: 1, maxRetries: 1, minRetryDelayMs: 10, responseTimeoutMs: 600_000 });
    await api.send("/warm", {}, call());
    const release: (() => void)[] = [];
    const hold = () => {
      fake.held = new Promise((resolve) => release.push(resolve));
    };
    let refused = false;
    fake.intercept = (request) => {
      if (request.path !== "/orders/3" || refused) return undefined;
      refused = true;
      return { status: 503, headers: { "content-type": "text/plain" }, body: "Busy" };
    };
    const created = diagnostics.channel("undici:request:create");
    const queued: string[] = [];
    const heard = (message: unknown) => queued.push((message as { request: { path: string } }).request.path);
    created.subscribe(heard);
    const stop = new AbortController();
    const stopped = { signal: stop.signal, deadline: clock.now() + 600_000, deadlineSetting: "WAITER_TOOL_TIMEOUT" };
    try {
      hold();
      const change = api.send("/orders/3", { method: "PUT", body: "{}" }, stopped).then(
        (response) => `answered ${response.status}`,
        (err: Error) => err.message,
      );
      await expect.poll(() => fake.count("/orders/3")).toBe(1);
      // Queued behind the first try, the read takes the connection while the change waits to try again.
      const busy = api.send("/busy", {}, call(600_000));
      await expect.poll(() => queued).toContain("/busy");
      hold();
      release[0]?.();
      await expect.poll(() => queued.filter((path) => path === "/orders/3").length).toBe(2);
      stop.abort(new DOMException("The tool call's deadline passed.", "TimeoutError"));
      release[1]?.();
      fake.held = undefined;
      await busy;
      expect(await change).toMatch(
        /^Test API \(127\.0\.0\.1:\d+\) did not confirm the change before the tool call's deadline \(WAITER_TOOL_TIMEOUT\); it may have been made\./,
      );
      expect(fake.count("/orders/3")).toBe(1);
    } finally {
      created.unsubscribe(heard);
      for (const each of release) each();
      fake.held = undefined;
    }
  });

  test("a change stopped once its headers went out, its body not yet read, is said as maybe made", async () => {
    // An upstream that reads a request's headers, then nothing more of it.
    let headersIn = false;
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      let head = "";
      const read = (chunk: Buffer) => {
        head += chunk.toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        headersIn = true;
        socket.off("data", read);
        socket.pause();
      };
      socket.on("data", read);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1 << 20, maxRetries: 0 });
    clients.push(http);
    const api = http.upstream("Test API", new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`));
    const stop = new AbortController();
    const stopped = { signal: stop.signal, deadline: clock.now() + 600_000, deadlineSetting: "WAITER_TOOL_TIMEOUT" };
    try {
      const change = failure(api.send("/orders/4", { method: "POST", body: "x".repeat(32 << 20) }, stopped));
      await expect.poll(() => headersIn).toBe(true);
      stop.abort(new DOMException("The tool call's deadline passed.", "TimeoutError"));
      expect((await change).message).toMatch(
        /^Test API \(127\.0\.0\.1:\d+\) did not confirm the change before the tool call's deadline \(WAITER_TOOL_TIMEOUT\); it may have been made\./,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a message stopped while it waits for a busy connection is said as not sent, in words said once", async () => {
    const http = new HttpClient({
      userAgent: "waiter-test/0",
      maxResponseBytes: 1 << 20,
      maxRetries: 0,
      connectionsPerHost: 1,
      responseTimeoutMs: 600_000,
    });
    clients.push(http);
    const chat = http.upstream("Chat API", new URL(`${fake.origin}/`), {
      changeAdvice: "Sending the message again may send it twice",
      change: { what: "the message", made: "sent" },
    });
    await chat.send("/warm", {}, call());
    let answer = () => {};
    fake.held = new Promise((resolve) => {
      answer = resolve;
    });
    const created = diagnostics.channel("undici:request:create");
    const queued: string[] = [];
    const heard = (message: unknown) => queued.push((message as { request: { path: string } }).request.path);
    created.subscribe(heard);
    const stop = new AbortController();
    try {
      const busy = chat.send("/busy-chat", {}, call(600_000));
      await expect.poll(() => fake.count("/busy-chat")).toBe(1);
      const message = failure(
        chat.send(
          "/sendMessage",
          { method: "POST", body: "{}" },
          { signal: stop.signal, deadline: clock.now() + 600_000 },
        ),
      );
      await expect.poll(() => queued).toContain("/sendMessage");
      stop.abort(new DOMException("The operation was aborted.", "AbortError"));
      answer();
      fake.held = undefined;
      await busy;
      expect((await message).message).toMatch(
        /^Chat API \(127\.0\.0\.1:\d+\) was not reached \(no connection to it opened, or none was free\) when the tool call ended, so the message was not sent; try again\.$/,
      );
      expect(fake.count("/sendMessage")).toBe(0);
    } finally {
      created.unsubscribe(heard);
      answer();
      fake.held = undefined;
    }
  });

  test("an answer that drips in is cut off at the deadline, not at the response timeout", async () => {
    // Loading undici and connecting come first, lest they spend the deadline before the answer begins.
    const api = client();
    await api.send("/warm", {}, call());
    fake.queue.push({ status: 200, headers: { "content-type": "application/json" }, body: "[", dripMs: 50 });
    const started = performance.now();
    const error = await failure(api.send("/drip", {}, call(300)));
    expect(error.message).toMatch(
      /^Test API \(127\.0\.0\.1:\d+\) began to answer, but did not finish before the tool call's deadline; try again later, or ask for less at once\.$/,
    );
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  test("an upstream that drips its answer is cut off at the deadline even while garbage is collected", async () => {
    // gc() is there only with --expose-gc, which vitest cannot give one test file; the flag set
    // now exposes it to a context made after it.
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const dripping = await startFake((request) =>
      request.path === "/warm"
        ? json(200, "{}")
        : { status: 200, headers: { "content-type": "application/json" }, body: "[", dripMs: 50 },
    );
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1 << 20 });
    clients.push(http);
    const api = http.upstream("Drip API", new URL(dripping.origin));
    // Loading undici and opening the three connections come first, and the collector starts once
    // all three answers have begun: on a busy machine, connecting while it collects every 20 ms
    // could spend a deadline before its answer began. It collects all the while the answers drip,
    // when the timer that ends each call at its deadline must not be lost.
    await Promise.all([1, 2, 3].map(() => api.send("/warm", {}, call())));
    const headers = diagnostics.channel("undici:request:headers");
    const answering = new Set<string>();
    let allBegun = () => {};
    const begun = new Promise<void>((resolve) => {
      allBegun = resolve;
    });
    const heard = (message: unknown) => {
      answering.add((message as { request: { path: string } }).request.path);
      if (answering.size === 3) allBegun();
    };
    headers.subscribe(heard);
    let collect: NodeJS.Timeout | undefined;
    const timed = async (what: string, run: (call: Call) => Promise<unknown>) => {
      const started = clock.now();
      const message = await run(call(1_000)).then(
        () => "answered",
        (err: Error) => err.message,
      );
      return { what, ms: clock.now() - started, message };
    };
    try {
      const running = Promise.all([
        timed("GET", (call) => api.send("/read", {}, call)),
        timed("cached GET", (call) => api.json(any, "/load", {}, call)),
        timed("POST", (call) => api.send("/write", { method: "POST", body: "{}" }, call)),
      ]);
      // Should one end before all have begun, the assertions below say which.
      await Promise.race([begun, running]);
      collect = setInterval(gc, 20);
      const results = await running;
      expect(results.map((r) => [r.what, r.message])).toEqual([
        [
          "GET",
          expect.stringMatching(
            /^Drip API \(127\.0\.0\.1:\d+\) began to answer, but did not finish before the tool call's deadline/,
          ),
        ],
        [
          "cached GET",
          expect.stringMatching(
            /^Drip API \(127\.0\.0\.1:\d+\) began to answer, but did not finish before the tool call's deadline/,
          ),
        ],
        [
          "POST",
          expect.stringMatching(/did not confirm the change before the tool call's deadline; it may have been made/),
        ],
      ]);
      // Cut near its 1 s deadline, not left to drip: a lost timer would never end it.
      for (const { ms } of results) expect(ms).toBeLessThan(5_000);
      expect(dripping.requests.map((r) => r.path).sort()).toEqual([
        "/load",
        "/read",
        "/warm",
        "/warm",
        "/warm",
        "/write",
      ]);
    } finally {
      clearInterval(collect);
      headers.unsubscribe(heard);
      await dripping.close();
    }
  });

  test("a response timeout ends a request that stalls, said as no headers in time or an answer that stopped midway", async () => {
    // undici times these out on a clock of its own that ticks every half second, so each takes about
    // a second: the three stall side by side.
    fake.delayMs = 3_000;
    fake.intercept = (request) =>
      request.path === "/stall-midway"
        ? { status: 200, body: '{"n": 1, "more": "to come"}', stallAfter: 8 }
        : undefined;
    const noHeaders =
      /^Test API \(127\.0\.0\.1:\d+\) did not send its answer's headers within 0\.2 s; try again later\.$/;
    // A status line, then nothing: undici's headers timeout alike, and the words still true.
    const statusOnly = createNetServer((socket) => {
      socket.once("data", () => socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"));
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => statusOnly.listen(0, "127.0.0.1", resolve));
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, responseTimeoutMs: 200, maxRetries: 0 });
      clients.push(http);
      const origin = `http://127.0.0.1:${(statusOnly.address() as AddressInfo).port}/`;
      const [error, begun, midway] = await Promise.all([
        failure(client({ responseTimeoutMs: 200, maxRetries: 0 }).send("/stall", {}, call())),
        failure(http.upstream("Test API", new URL(origin)).send("/stall", {}, call())),
        failure(client({ responseTimeoutMs: 200, maxRetries: 0 }).send("/stall-midway", {}, call())),
      ]);
      expect(error.message).toMatch(noHeaders);
      expect(begun.message).toMatch(noHeaders);
      expect(midway.message).toMatch(
        /^Test API \(127\.0\.0\.1:\d+\) began to answer, then stopped midway \(nothing more for 0\.2 s\); try again later\.$/,
      );
    } finally {
      await new Promise((resolve) => statusOnly.close(resolve));
    }
  });

  const hasPython = spawnSync("python3", ["--version"]).status === 0;
  /** A loopback port whose accept queue is full: the kernel drops further SYNs, so connecting hangs. */
  async function stuckPort(): Promise<{ port: string; release(): void }> {
    const holder = spawn("python3", [
      "-c",
      `import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(c)
print(s.getsockname()[1], flush=True)
time.sleep(30)`,
    ]);
    const port = await new Promise<string>((resolve) => holder.stdout.once("data", (d) => resolve(String(d).trim())));
    return { port, release: () => holder.kill() };
  }

  test.runIf(hasPython)("a connection that never opens ends at the connect timeout", async () => {
    const { port, release } = await stuckPort();
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, connectTimeoutMs: 300, maxRetries: 0 });
      clients.push(http);
      // A proxy there has the same time to take a connection, and is said to be what failed.
      const proxied = new HttpClient({
        userAgent: "t",
        maxResponseBytes: 1024,
        connectTimeoutMs: 300,
        maxRetries: 0,
        proxy: proxyFrom({ HTTPS_PROXY: `127.0.0.1:${port}` }),
      });
      clients.push(proxied);
      // undici times a connection out on a clock of its own that ticks every half second, so each
      // takes about a second: the two wait side by side.
      const started = performance.now();
      let took = Number.POSITIVE_INFINITY;
      const [error, beyond] = await Promise.all([
        failure(http.upstream("Stuck API", new URL(`http://127.0.0.1:${port}/`)).send("/", {}, call(5_000))).finally(
          () => {
            took = performance.now() - started;
          },
        ),
        failure(proxied.upstream("Shop", new URL("https://shop.example/")).send("/", {}, call(5_000))),
      ]);
      expect(error.message).toMatch(/Could not connect to Stuck API \(127\.0\.0\.1:\d+\) within 0.3 s/);
      expect(took).toBeLessThan(2_000);
      expect(beyond.message).toBe(
        `Could not reach Shop (shop.example) through the proxy http://127.0.0.1:${port} (HTTPS_PROXY): it did not take a connection within 0.3 s; it or the network is down, try again later.`,
      );
    } finally {
      release();
    }
  });

  test.runIf(hasPython)(
    "a connection that does not open is tried again only while a whole connect timeout fits, and said so",
    async () => {
      const { port, release } = await stuckPort();
      try {
        const http = new HttpClient({
          userAgent: "t",
          maxResponseBytes: 1024,
          connectTimeoutMs: 500,
          minRetryDelayMs: 20,
        });
        clients.push(http);
        const started = performance.now();
        // undici says a connection did not open on its half-second tick, a second after it began at the
        // soonest: a second attempt fits before the deadline, and none is cut off by it while connecting.
        const error = await failure(
          http.upstream("Stuck API", new URL(`http://127.0.0.1:${port}/`)).send("/", {}, call(2_600)),
        );
        expect(error.message).toMatch(/^Could not connect to Stuck API \(127\.0\.0\.1:\d+\) within 0.5 s;/);
        const took = performance.now() - started;
        // Node's timers count from the event loop's time, cached up to a millisecond before this clock's.
        expect(took).toBeGreaterThanOrEqual(995);
        expect(took).toBeLessThan(2_600);
      } finally {
        release();
      }
    },
  );

  test.runIf(hasPython)(
    "with a short tool timeout, a connection that does not open is said as such, within half the call's time",
    async () => {
      const { port, release } = await stuckPort();
      // Half of 6 s, 3 s, ended on undici's half-second tick, leaves the call seconds to say so.
      const server = await startWaiter({
        WAITER_TOOL_TIMEOUT: "6",
        WAITER_FRANKFURTER_URL: `http://127.0.0.1:${port}/v1`,
      });
      try {
        const result = await server.call("currency_rates", {});
        expect(result.isError).toBe(true);
        expect(text(result)).toMatch(
          /^Could not connect to Frankfurter \(ECB rates\) \(127\.0\.0\.1:\d+\) within 3 s;/,
        );
      } finally {
        await server.close();
        release();
      }
    },
  );

  test.runIf(hasPython)(
    "a read with an answer kept to stand in waits out one connection that does not open, not one for each retry",
    async () => {
      // Answers one request, and closes its connection; then takes no more connections.
      const server = spawn("python3", [
        "-c",
        `import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.recv(65536)
body = b'{"n":1}'
c.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncache-control: max-age=60\\r\\nconnection: close\\r\\ncontent-length: 7\\r\\n\\r\\n" + body)
c.close()
fill = []
for _ in range(3):
    f = socket.socket(); f.setblocking(False)
    try: f.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(f)
print("stuck", flush=True)
time.sleep(30)`,
      ]);
      const lines: string[] = [];
      server.stdout.on("data", (data) => lines.push(...String(data).trim().split("\n")));
      try {
        await expect.poll(() => lines.length).toBeGreaterThan(0);
        const http = new HttpClient({
          userAgent: "t",
          maxResponseBytes: 1024,
          connectTimeoutMs: 500,
          minRetryDelayMs: 20,
        });
        clients.push(http);
        const api = http.upstream("Stuck API", new URL(`http://127.0.0.1:${lines[0]}/`));
        const heard: UpstreamError[] = [];
        const staleIfError = { forSeconds: 3600, heard: (failure: UpstreamError) => heard.push(failure) };
        setClock("2026-11-25T10:00:00Z");
        expect(await api.json(any, "/rates", { staleIfError }, call())).toEqual({ n: 1 });
        await expect.poll(() => lines).toContain("stuck");
        setClock("2026-11-25T10:05:00Z");
        // Counted by the tries made, not by the time they took, which a busy machine stretches.
        const created = diagnostics.channel("undici:request:create");
        const tries: string[] = [];
        const tried = (message: unknown) => tries.push((message as { request: { path: string } }).request.path);
        created.subscribe(tried);
        try {
          expect(await api.json(any, "/rates", { staleIfError }, call(5_000))).toEqual({ n: 1 });
        } finally {
          created.unsubscribe(tried);
        }
        expect(tries).toEqual(["/rates"]);
        expect(heard.map((failure) => failure.message)).toEqual([
          expect.stringMatching(/^Could not connect to Stuck API \(127\.0\.0\.1:\d+\) within 0.5 s;/),
        ]);
      } finally {
        server.kill();
      }
    },
  );

  test.runIf(hasPython)(
    "callers of one read, with and without an answer kept, each meet connections that do not open as they would alone",
    async () => {
      // Answers one request, and closes its connection; then takes no more connections.
      const server = spawn("python3", [
        "-c",
        `import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.recv(65536)
body = b'{"n":1}'
c.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncache-control: max-age=60\\r\\nconnection: close\\r\\ncontent-length: 7\\r\\n\\r\\n" + body)
c.close()
fill = []
for _ in range(3):
    f = socket.socket(); f.setblocking(False)
    try: f.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(f)
print("stuck", flush=True)
time.sleep(30)`,
      ]);
      const lines: string[] = [];
      server.stdout.on("data", (data) => lines.push(...String(data).trim().split("\n")));
      try {
        await expect.poll(() => lines.length).toBeGreaterThan(0);
        const http = new HttpClient({
          userAgent: "t",
          maxResponseBytes: 1024,
          connectTimeoutMs: 500,
          minRetryDelayMs: 20,
        });
        clients.push(http);
        const api = http.upstream("Stuck API", new URL(`http://127.0.0.1:${lines[0]}/`));
        const staleIfError = { forSeconds: 3600, heard: () => {} };
        setClock("2026-11-25T10:00:00Z");
        expect(await api.json(any, "/rates", { staleIfError }, call())).toEqual({ n: 1 });
        await expect.poll(() => lines).toContain("stuck");
        setClock("2026-11-25T10:05:00Z");
        const created = diagnostics.channel("undici:request:create");
        const tries: string[] = [];
        const tried = (message: unknown) => tries.push((message as { request: { path: string } }).request.path);
        created.subscribe(tried);
        try {
          // One with no answer kept to stand in (a list of currencies) begins the load, one with an
          // answer kept (a fixing) joins it: that one has its answer after one connection that did not
          // open, while the other's tries go on.
          const alone = failure(api.json(any, "/rates", {}, call(3_000)));
          const kept = await api.json(any, "/rates", { staleIfError }, call(3_000));
          expect(kept).toEqual({ n: 1 });
          expect(tries).toEqual(["/rates"]);
          await alone;
          expect(tries.length).toBeGreaterThan(1);
          // The other way round: the one without joins the load of the one with, and is tried again all
          // the same. Another header keeps them from joining the request before, which may be under way still.
          tries.length = 0;
          const headers = { "accept-language": "en" };
          const first = api.json(any, "/rates", { headers, staleIfError }, call(3_000));
          const joined = failure(api.json(any, "/rates", { headers }, call(3_000)));
          expect(await first).toEqual({ n: 1 });
          await joined;
          expect(tries.length).toBeGreaterThan(1);
        } finally {
          created.unsubscribe(tried);
        }
      } finally {
        server.kill();
      }
    },
  );

  test("a refused connection is reported as unreachable, naming the setting that holds the URL", async () => {
    const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, minRetryDelayMs: 10 });
    clients.push(http);
    const gone = http.upstream("Gone API", new URL("http://127.0.0.1:9/"), { urlSetting: "WAITER_GONE_URL" });
    const error = await failure(gone.send("/", {}, call(2_000)));
    expect(error.message).toBe(
      "Could not reach Gone API (127.0.0.1:9): the connection was refused, as nothing listens there; try again later, or if it lasts, check the port in WAITER_GONE_URL.",
    );
    expect(error.refused).toBe(true);
  });

  test("TLS that fails says why: a certificate no authority vouches for, or a port without TLS", async () => {
    const secured = createHttpsServer({
      key: readFileSync(new URL("./fixtures/smtp-tls.key", import.meta.url)),
      cert: readFileSync(new URL("./fixtures/smtp-tls.crt", import.meta.url)),
    });
    await new Promise<void>((resolve) => secured.listen(0, "127.0.0.1", resolve));
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, maxRetries: 0 });
      clients.push(http);
      const at = (origin: string) =>
        http.upstream("Proxied API", new URL(origin), { urlSetting: "WAITER_PROXIED_URL" });
      const untrusted = await failure(
        at(`https://127.0.0.1:${(secured.address() as AddressInfo).port}/`).send("/", {}, call()),
      );
      expect(untrusted.message).toMatch(
        /^Could not reach Proxied API \(127\.0\.0\.1:\d+\) securely: its certificate is not trusted \(self-signed certificate\); if a private authority signed it, or a proxy or antivirus that inspects TLS stands in between, give that authority's certificate to waiter in NODE_EXTRA_CA_CERTS \(a PEM file's path\); or, on a Wi-Fi with a login page \(a hotel's, an airport's\), sign in in a browser, then try again\.$/,
      );
      const plain = await failure(at(fake.origin.replace("http:", "https:")).send("/", { method: "POST" }, call()));
      expect(plain.message).toMatch(
        /^Could not reach Proxied API \(127\.0\.0\.1:\d+\) securely: it does not answer TLS at that port; check WAITER_PROXIED_URL, whose port may be one for plain HTTP\.$/,
      );
      // Nothing was sent: a write is not said to have maybe been made.
      expect(plain).not.toBeInstanceOf(UnconfirmedChange);
    } finally {
      secured.close();
    }
  });
  test("a TLS handshake the server refuses says so in words, that it lasts until mended, and is not tried again", async () => {
    let handshakes = 0;
    const secured = createHttpsServer({
      key: readFileSync(new URL("./fixtures/smtp-tls.key", import.meta.url)),
      cert: readFileSync(new URL("./fixtures/smtp-tls.crt", import.meta.url)),
      // A cipher Node.js never offers: the server answers with a handshake_failure alert.
      ciphers: "CAMELLIA128-SHA",
      maxVersion: "TLSv1.2",
    });
    secured.on("tlsClientError", () => handshakes++);
    await new Promise<void>((resolve) => secured.listen(0, "127.0.0.1", resolve));
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, minRetryDelayMs: 10 });
      clients.push(http);
      const origin = `https://127.0.0.1:${(secured.address() as AddressInfo).port}/`;
      const own = http.upstream("Proxied API", new URL(origin), { urlSetting: "WAITER_PROXIED_URL" });
      const refused = await failure(own.send("/", {}, call(5_000)));
      expect(refused.message).toMatch(
        /^Could not reach Proxied API \(127\.0\.0\.1:\d+\) securely: the TLS handshake failed \(sslv3 alert handshake failure\), as it and waiter share no cipher, or it asks for a client certificate; tell whoever runs it, as it lasts until they mend that\.$/,
      );
      expect(refused.refused).toBe(false);
      expect(handshakes).toBe(1);
      // TLS 1.1 at most, which waiter never offers: the server answers with a protocol_version alert.
      const old = createHttpsServer({
        key: readFileSync(new URL("./fixtures/smtp-tls.key", import.meta.url)),
        cert: readFileSync(new URL("./fixtures/smtp-tls.crt", import.meta.url)),
        ciphers: "DEFAULT@SECLEVEL=0",
        maxVersion: "TLSv1.1",
      });
      old.on("tlsClientError", () => handshakes++);
      await new Promise<void>((resolve) => old.listen(0, "127.0.0.1", resolve));
      try {
        const outdated = http.upstream(
          "Old API",
          new URL(`https://127.0.0.1:${(old.address() as AddressInfo).port}/`),
          {
            urlSetting: "WAITER_OLD_URL",
          },
        );
        expect((await failure(outdated.send("/", {}, call(5_000)))).message).toMatch(
          /^Could not reach Old API \(127\.0\.0\.1:\d+\) securely: it and waiter share no TLS version \(tlsv1 alert protocol version\), as it takes only one older than TLS 1\.2, which waiter refuses; tell whoever runs it, as it lasts until they mend that\.$/,
        );
        expect(handshakes).toBe(2);
      } finally {
        old.close();
      }
    } finally {
      secured.close();
    }
  });
});

describe("a server that asks for a client certificate", () => {
  test("is said to ask for one, which waiter does not send, and is not tried again", async () => {
    // TLS 1.3: waiter's side of the handshake is done, and its request sent, before the server
    // refuses it with the certificate_required alert.
    const { cert, key } = localhostCertificate();
    let connections = 0;
    const mutual = createHttpsServer(
      { key: readFileSync(key), cert: readFileSync(cert), requestCert: true, rejectUnauthorized: true },
      (_request, response) => response.end("{}"),
    );
    mutual.on("connection", () => connections++);
    await new Promise<void>((resolve) => mutual.listen(0, "127.0.0.1", resolve));
    const port = (mutual.address() as AddressInfo).port;
    const server = await startServer({
      NODE_EXTRA_CA_CERTS: cert,
      WAITER_WOO_URL: `https://localhost:${port}`,
      WAITER_WOO_KEY: "ck_0123456789",
      WAITER_WOO_SECRET: "cs_0123456789",
    });
    try {
      const result = await server.call("eshop_order_get", { id: 1 });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe(
        `Could not reach WooCommerce (localhost:${port}) securely: it asks for a client certificate (tlsv13 alert certificate required), which waiter does not send; ask whoever runs it to take waiter's requests without one, as it lasts until they do.`,
      );
      // The order and its notes, each asked once: no retry passes the refusal.
      expect(connections).toBe(2);
    } finally {
      await server.close();
      mutual.close();
    }
  });
});

/**
 * A shop over TLS behind a relay on loopback that garbles the first bytes the shop sends after each
 * request `garbles` picks (counted from 1): waiter's TLS finds that record's check failed (a bad
 * record mac), once the request went out. Its answers: [] to a list, {} to anything else.
 */
async function garblingShop(garbles: (request: number) => boolean) {
  const { cert, key } = localhostCertificate();
  const requests: string[] = [];
  const garbled = new Set<number | undefined>();
  const shop = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (garbles(requests.length)) garbled.add(request.socket.remotePort);
    const list =
      request.method === "GET" && new URL(request.url ?? "/", "https://localhost").pathname.endsWith("/orders");
    response.writeHead(200, { "content-type": "application/json", "x-wp-total": "0", "x-wp-totalpages": "0" });
    response.end(list ? "[]" : "{}");
  });
  await new Promise<void>((resolve) => shop.listen(0, "127.0.0.1", resolve));
  const relay = createNetServer((fromWaiter) => {
    const toShop = connect((shop.address() as AddressInfo).port, "127.0.0.1");
    fromWaiter.pipe(toShop);
    toShop.on("data", (chunk: Buffer) => {
      if (garbled.delete(toShop.localPort)) chunk.writeUInt8((chunk.at(-3) ?? 0) ^ 0xff, chunk.length - 3);
      fromWaiter.write(chunk);
    });
    toShop.on("end", () => fromWaiter.end());
    toShop.on("error", () => fromWaiter.destroy());
    fromWaiter.on("error", () => toShop.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    env: {
      NODE_EXTRA_CA_CERTS: cert,
      WAITER_WOO_URL: `https://localhost:${(relay.address() as AddressInfo).port}`,
      WAITER_WOO_KEY: "ck_0123456789",
      WAITER_WOO_SECRET: "cs_0123456789",
    },
    requests,
    close: () => {
      relay.close();
      shop.close();
    },
  };
}

describe("a TLS record garbled on the way", () => {
  test("in a write's answer says the change may have been made, not that the handshake failed", async () => {
    const shop = await garblingShop(() => true);
    const server = await startServer(shop.env);
    try {
      const result = await server.call("eshop_order_add_note", { id: 1, note: "Shipped." });
      expect(text(result)).toMatch(
        /^WooCommerce \(localhost:\d+\) did not confirm the change \(decryption failed or bad record mac\); it may have been made\. Read the current state before trying again\.$/,
      );
      expect(shop.requests).toEqual(["POST /wp-json/wc/v3/orders/1/notes"]);
    } finally {
      await server.close();
      shop.close();
    }
  });

  test("in a read's answer is passed by sending the read again", async () => {
    const shop = await garblingShop((request) => request === 1);
    const server = await startServer(shop.env);
    try {
      const result = await server.call("eshop_orders_list", {});
      expect(text(result)).toBe("The shop has no orders.");
      const [first, ...rest] = shop.requests;
      expect(rest.filter((request) => request === first)).toHaveLength(1);
    } finally {
      await server.close();
      shop.close();
    }
  });

  test("in every answer to a read says so in words, not in OpenSSL's", async () => {
    const shop = await garblingShop(() => true);
    const server = await startServer(shop.env);
    try {
      const result = await server.call("eshop_orders_list", {});
      expect(text(result)).toMatch(
        /^The connection to WooCommerce \(localhost:\d+\) broke before it answered \(TLS: decryption failed or bad record mac\); try again later\.$/,
      );
    } finally {
      await server.close();
      shop.close();
    }
  });
});

describe("retries", () => {
  test("503 with Retry-After is retried after the wait it asks for", async () => {
    fake.queue.push({ status: 503, headers: { "retry-after": "1" } });
    const started = performance.now();
    const response = await client().send("/retry-after", {}, call());
    expect(response.status).toBe(200);
    expect(fake.count("/retry-after")).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  test("a Retry-After given as an HTTP date is honoured too", async () => {
    // A second after the answer's Date.
    setClock("2026-11-25T09:59:59Z");
    fake.queue.push({
      status: 503,
      headers: { date: "Wed, 25 Nov 2026 09:59:59 GMT", "retry-after": "Wed, 25 Nov 2026 10:00:00 GMT" },
    });
    const started = performance.now();
    expect((await client().send("/retry-date", {}, call())).status).toBe(200);
    expect(fake.count("/retry-date")).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  test("a Retry-After given as an HTTP date counts from the answer's Date, not from this machine's clock, which may be off", async () => {
    const api = client({ maxRetries: 0 });
    const limited = (date: string) =>
      json(429, '{"message":"slow down"}', { date, "retry-after": "Wed, 25 Nov 2026 10:01:00 GMT" });
    // This machine's clock ten minutes behind the upstream's: a minute asked, not eleven.
    setClock("2026-11-25T09:50:00Z");
    fake.queue.push(limited("Wed, 25 Nov 2026 10:00:00 GMT"));
    const behind = await failure(api.json(any, "/skewed/behind", {}, call()));
    expect(behind.message).toBe('Test API answered 429 "slow down": it is rate-limiting waiter; try again in 60 s.');
    setClock("2026-11-25T09:51:01Z");
    expect(await api.json(any, "/skewed/behind/after", {}, call())).toMatchObject({ n: expect.any(Number) });
    // Ten minutes ahead: a minute asked, which is not past for the upstream.
    setClock("2026-11-25T10:10:00Z");
    fake.queue.push(limited("Wed, 25 Nov 2026 10:00:00 GMT"));
    const ahead = await failure(api.json(any, "/skewed/ahead", {}, call()));
    expect(ahead.retryAfter).toBe(60);
    expect((await failure(api.json(any, "/skewed/ahead/held", {}, call(3_000)))).status).toBe(429);
    expect(fake.count("/skewed/ahead/held")).toBe(0);
  });

  test("429 is retried, then answered", async () => {
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "0" }));
    expect((await client().json(any, "/limited-once", {}, call())) as object).toMatchObject({ n: expect.any(Number) });
    expect(fake.count("/limited-once")).toBe(2);
  });

  test("a Retry-After that asks for no wait, 0 or a date past, gets the backoff, not a burst, nor a wait of 0 s", async () => {
    setClock("2026-11-25T10:00:00Z");
    const now = (retryAfter: string) => json(429, '{"message":"slow down"}', { "retry-after": retryAfter });
    const answers = [now("0"), now("Wed, 25 Nov 2026 09:00:00 GMT"), now("0")];
    const asked: number[] = [];
    fake.intercept = () => {
      asked.push(performance.now());
      return answers.shift();
    };
    const error = await failure(client({ maxRetries: 2, minRetryDelayMs: 100 }).json(any, "/now", {}, call()));
    expect(asked).toHaveLength(3);
    // Backoff with jitter: 50-100 ms, then 100-200 ms.
    expect((asked[2] ?? 0) - (asked[0] ?? 0)).toBeGreaterThanOrEqual(140);
    expect(error.message).toBe(
      'Test API answered 429 "slow down": it is rate-limiting waiter; wait a minute before trying again.',
    );
    expect(error.retryAfter).toBeUndefined();
  });

  test("a Retry-After beyond the deadline is not waited for: the model hears it at once", async () => {
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "120" }));
    const started = performance.now();
    const error = await failure(client().json(any, "/limited", {}, call(3_000)));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(fake.count("/limited")).toBe(1);
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(120);
    expect(error.message).toBe('Test API answered 429 "slow down": it is rate-limiting waiter; try again in 120 s.');
  });

  test("a wait asked of one account holds that account's reads, not another's on the same host, nor shows it its words", async () => {
    // Two bots of one Bot API, their tokens in the path: a proxy's refusal quoting the first's.
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const bot = (token: string) => http.upstream("Bot API", new URL(`${fake.origin}/`), { secrets: [token] });
    const [first, second] = [bot("111:first-bot-token"), bot("222:second-bot-token")];
    fake.intercept = (request) =>
      request.path.startsWith("/bot111:")
        ? json(503, JSON.stringify({ message: `no worker free for ${request.path}` }), { "retry-after": "60" })
        : undefined;
    const refused = await failure(first.json(any, "/bot111:first-bot-token/getMe", {}, call(3_000)));
    expect(refused.message).toBe(
      'Bot API answered 503 "no worker free for /bot[credential]/getMe": the service is failing; try again in 60 s.',
    );
    expect((await second.send("/bot222:second-bot-token/getMe", {}, call(3_000))).status).toBe(200);
    // The first bot's own reads stay held, its token still kept out.
    const held = await failure(first.json(any, "/bot111:first-bot-token/getChat", {}, call(3_000)));
    expect(held.message).toBe(
      'Bot API answered 503 "no worker free for /bot[credential]/getMe": the service is failing; try again in 60 s.',
    );
    expect(fake.count("/bot111:first-bot-token/getChat")).toBe(0);
  });

  test("a 503's wait holds reads five minutes at most, as a maintenance page that names an hour may end in ten, and a 429's a day", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client();
    fake.queue.push({
      status: 503,
      body: "Briefly unavailable for scheduled maintenance.",
      headers: { "content-type": "text/plain", "retry-after": "3600" },
    });
    // Told to try again when waiter asks again at the latest, not in the hour it named.
    expect((await failure(api.json(any, "/maintained", {}, call(3_000)))).retryAfter).toBe(300);
    // Held meanwhile, what is left of the hold told, nothing sent.
    setClock("2026-11-30T08:04:00Z");
    const held = await failure(api.json(any, "/maintained/other", {}, call(3_000)));
    expect(held.message).toMatch(
      /^Test API answered 503 "Briefly unavailable for scheduled maintenance\.": .*try again in 6\d s\.$/,
    );
    expect(fake.count("/maintained/other")).toBe(0);
    // Then asked again: the shop is back.
    setClock("2026-11-30T08:10:00Z");
    expect(await api.json(any, "/maintained/other", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
    // A 429 dated next year, by a server whose clock is wrong, holds them a day.
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "Tue, 30 Nov 2027 08:10:00 GMT" }));
    expect((await failure(api.json(any, "/limited/soon", {}, call(3_000)))).status).toBe(429);
    setClock("2026-12-01T08:09:00Z");
    expect((await failure(api.json(any, "/limited/later", {}, call(3_000)))).status).toBe(429);
    expect(fake.count("/limited/later")).toBe(0);
    setClock("2026-12-01T08:11:00Z");
    expect(await api.json(any, "/limited/later", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
  });

  test("a read begun while another's maintenance answer is decoded is held as long as its words say, not sent nor held its Retry-After", async () => {
    setClock("2026-11-30T08:00:00Z");
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024 });
    clients.push(http);
    const api = http.upstream("Test API", new URL(`${fake.origin}/`), {
      holdsReadsMs: ({ status, text }) => (status === 503 && /maintenance/.test(text) ? 60_000 : undefined),
    });
    const page = {
      status: 503,
      body: "Briefly unavailable for scheduled maintenance.",
      headers: { "content-type": "text/plain", "retry-after": "600" },
    };
    fake.queue.push(page);
    fake.encoding = "gzip";
    // Begun once the first answer has all come, while it is decoded and read: held, not sent. The
    // channel is every request's: one of an earlier test's, ending late on a busy machine, is not it.
    const trailers = diagnostics.channel("undici:request:trailers");
    let during: Promise<UpstreamError> | undefined;
    const begin = (message: unknown) => {
      if ((message as { request: { path: string } }).request.path !== "/decoded") return;
      trailers.unsubscribe(begin);
      during = failure(api.json(any, "/decoded/other", {}, call(3_000)));
    };
    trailers.subscribe(begin);
    expect((await failure(api.json(any, "/decoded", {}, call(3_000)))).retryAfter).toBe(60);
    expect((await during)?.retryAfter).toBe(60);
    expect(fake.count("/decoded/other")).toBe(0);
  });

  test("a refusal whose body broke off, its request answered when sent again, holds no read after it", async () => {
    const api = client();
    fake.queue.push({
      status: 503,
      headers: { "content-type": "text/plain", "retry-after": "600" },
      body: "Briefly unavailable for scheduled maintenance.",
      breakAfter: 10,
    });
    expect(await api.json(any, "/broken-refusal", {}, call(10_000))).toMatchObject({ n: expect.any(Number) });
    expect(await api.json(any, "/broken-refusal/after", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
    expect(fake.count("/broken-refusal")).toBe(2);
  });

  test("a read whose time ends before a coming refusal's words is told the wait its headers ask for, not the other call's time", async () => {
    const api = client();
    fake.queue.push({
      status: 503,
      headers: { "content-type": "text/plain", "retry-after": "120" },
      body: "Briefly unavailable for scheduled maintenance.",
      stallAfter: 5,
      restAfterMs: 1_500,
    });
    const headers = diagnostics.channel("undici:request:headers");
    let during: Promise<UpstreamError> | undefined;
    const begin = (message: unknown) => {
      if ((message as { request: { path: string } }).request.path !== "/coming") return;
      headers.unsubscribe(begin);
      during = failure(api.json(any, "/coming/other", {}, call(100)));
    };
    headers.subscribe(begin);
    try {
      expect((await failure(api.json(any, "/coming", {}, call(3_000)))).retryAfter).toBe(120);
      expect((await during)?.retryAfter).toBe(120);
      expect(fake.count("/coming/other")).toBe(0);
    } finally {
      headers.unsubscribe(begin);
    }
  });

  test("a read begun while another's 429 is decoded is held from its Retry-After, where no words of it could say less", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client();
    fake.queue.push(json(429, '{"message":"daily limit reached"}', { "retry-after": "600" }));
    fake.encoding = "gzip";
    // Begun once the answer has all come, while it is decoded and read.
    const trailers = diagnostics.channel("undici:request:trailers");
    let during: Promise<UpstreamError> | undefined;
    const begin = (message: unknown) => {
      if ((message as { request: { path: string } }).request.path !== "/limited") return;
      trailers.unsubscribe(begin);
      during = failure(api.json(any, "/limited/other", {}, call(3_000)));
    };
    trailers.subscribe(begin);
    expect((await failure(api.json(any, "/limited", {}, call(3_000)))).retryAfter).toBe(600);
    expect((await during)?.retryAfter).toBe(600);
    expect(fake.count("/limited/other")).toBe(0);
  });

  test("a write's wait, newer than the one that holds reads, says when they are asked again, sooner too", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push(json(429, '{"message":"hourly limit reached"}', { "retry-after": "3600" }));
    expect((await failure(api.json(any, "/limited/hour", {}, call(3_000)))).retryAfter).toBe(3600);
    setClock("2026-11-30T08:30:00Z");
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "10" }));
    const write = await failure(api.json(any, "/orders", { method: "POST", body: "{}" }, call(3_000)));
    expect(write.retryAfter).toBe(10);
    const held = await failure(api.json(any, "/limited/hour/held", {}, call(3_000)));
    expect(held.message).toBe('Test API answered 429 "slow down": it is rate-limiting waiter; try again in 10 s.');
    setClock("2026-11-30T08:30:11Z");
    expect(await api.json(any, "/limited/hour/after", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
  });

  test("a write's wait after the clock was set back past a hold holds reads for what it asks", async () => {
    setClock("2026-11-30T09:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push(json(429, '{"message":"hourly limit reached"}', { "retry-after": "60" }));
    expect((await failure(api.json(any, "/limited/hour", {}, call(3_000)))).retryAfter).toBe(60);
    // NTP sets back a clock that ran an hour ahead: the hold was heard at a time still to come.
    setClock("2026-11-30T08:00:00Z");
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "600" }));
    const write = await failure(api.json(any, "/orders", { method: "POST", body: "{}" }, call(3_000)));
    expect(write.retryAfter).toBe(600);
    setClock("2026-11-30T08:05:00Z");
    const held = await failure(api.json(any, "/limited/after", {}, call(3_000)));
    expect(held.message).toMatch(
      /^Test API answered 429 "slow down": it is rate-limiting waiter; try again in (29\d|30\d) s\.$/,
    );
    expect(fake.count("/limited/after")).toBe(0);
  });

  test("a clock set back a moment, as NTP steps one, leaves a day's hold holding reads, for a day at most", async () => {
    setClock("2026-11-30T09:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push(json(429, '{"message":"daily limit reached"}', { "retry-after": "86400" }));
    expect((await failure(api.json(any, "/limited/day", {}, call(3_000)))).retryAfter).toBe(86_400);
    setClock("2026-11-30T08:59:59Z");
    const held = await failure(api.json(any, "/limited/day/held", {}, call(3_000)));
    expect(held.message).toMatch(/^Test API answered 429 "daily limit reached": .*; try again in 8640\d s\.$/);
    expect(fake.count("/limited/day/held")).toBe(0);
    // Held no longer than a day from when the clock went back: then asked again.
    setClock("2026-12-01T09:00:00Z");
    expect(await api.json(any, "/limited/day/held", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
  });

  test("a write the upstream takes while reads are held ends the hold: it is answering again", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push({ status: 503, headers: { "retry-after": "300" } });
    expect((await failure(api.json(any, "/maintained", {}, call(3_000)))).retryAfter).toBe(300);
    setClock("2026-11-30T08:01:00Z");
    expect(await api.json(any, "/orders", { method: "POST", body: "{}" }, call(3_000))).toMatchObject({
      n: expect.any(Number),
    });
    expect(await api.json(any, "/maintained/after", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
  });

  test("a write the upstream refuses itself ends a 503's hold, as it is up, but not a 429's, which limits the rate", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push({ status: 503, headers: { "retry-after": "300" } });
    expect((await failure(api.json(any, "/maintained", {}, call(3_000)))).retryAfter).toBe(300);
    fake.queue.push(json(404, '{"message":"no such order"}'));
    expect((await failure(api.json(any, "/orders/9/notes", { method: "POST", body: "{}" }, call(3_000)))).status).toBe(
      404,
    );
    expect(await api.json(any, "/maintained/after", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });

    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "300" }));
    expect((await failure(api.json(any, "/limited", {}, call(3_000)))).retryAfter).toBe(300);
    fake.queue.push(json(404, '{"message":"no such order"}'));
    expect((await failure(api.json(any, "/orders/9/notes", { method: "POST", body: "{}" }, call(3_000)))).status).toBe(
      404,
    );
    expect((await failure(api.json(any, "/limited/after", {}, call(3_000)))).retryAfter).toBe(300);
    expect(fake.count("/limited/after")).toBe(0);
  });

  test("a firewall's 403 page to a write leaves a 503's hold: the upstream behind it may be down still", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push({ status: 503, headers: { "retry-after": "300" } });
    expect((await failure(api.json(any, "/firewalled", {}, call(3_000)))).retryAfter).toBe(300);
    fake.queue.push({
      status: 403,
      headers: { "content-type": "text/html; charset=UTF-8", server: "cloudflare", "cf-ray": "8f1d2c3b4a5e6f70-PRG" },
      body: "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body><h1>Sorry, you have been blocked</h1></body></html>",
    });
    expect((await failure(api.json(any, "/orders/9/notes", { method: "POST", body: "{}" }, call(3_000)))).status).toBe(
      403,
    );
    expect((await failure(api.json(any, "/firewalled/after", {}, call(3_000)))).retryAfter).toBe(300);
    expect(fake.count("/firewalled/after")).toBe(0);
  });

  test("a 503 whose words were still coming when a write the upstream refused itself ended its hold does not hold the reads again", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push(
      {
        status: 503,
        headers: { "content-type": "text/plain", "retry-after": "300" },
        body: "Briefly unavailable for scheduled maintenance.",
        stallAfter: 5,
        restAfterMs: 1_000,
      },
      json(404, '{"message":"no such order"}'),
    );
    // Sent once the 503's headers hold the reads (a read is told their wait), its words not yet come: answered before them.
    const headers = diagnostics.channel("undici:request:headers");
    let write: Promise<UpstreamError> | undefined;
    const begin = (message: unknown) => {
      if ((message as { request: { path: string } }).request.path !== "/arriving") return;
      headers.unsubscribe(begin);
      write = (async () => {
        expect((await failure(api.json(any, "/arriving/held", {}, call(100)))).retryAfter).toBe(300);
        return failure(api.json(any, "/orders/9/notes", { method: "POST", body: "{}" }, call(3_000)));
      })();
    };
    headers.subscribe(begin);
    try {
      const refused = failure(api.json(any, "/arriving", {}, call(3_000)));
      await expect.poll(() => write).toBeDefined();
      expect((await write)?.status).toBe(404);
      expect((await refused).retryAfter).toBe(300);
      expect(await api.json(any, "/arriving/after", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
    } finally {
      headers.unsubscribe(begin);
    }
  });

  test("a read sleeping out a hold goes out when a write the upstream takes ends it, or a newer wait asks less", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    const cancel = new AbortController();
    // Time left for the rest of the hold to be slept out, which the test's own would not last.
    const patient = () => ({ signal: cancel.signal, deadline: clock.now() + 45_000 });
    let answer = () => {};
    const writeHeld = () => {
      fake.held = new Promise((resolve) => {
        answer = resolve;
      });
    };
    try {
      for (const [write, asked] of [
        ["/orders/taken-while-held", json(200, "{}")],
        ["/orders/limited-while-held", json(429, '{"message":"slow down"}', { "retry-after": "1" })],
      ] as const) {
        fake.queue.push(json(429, '{"message":"hourly limit reached"}', { "retry-after": "3600" }));
        expect((await failure(api.json(any, `${write}/limit`, {}, call(3_000)))).retryAfter).toBe(3600);
        setClock(clock.now() + 3_600_000 - 30_000);
        const read = api.json(any, `${write}/read`, {}, patient());
        writeHeld();
        fake.queue.push(asked);
        const sent = api.send(write, { method: "POST", body: "{}" }, call(3_000));
        await expect.poll(() => fake.count(write)).toBe(1);
        fake.held = undefined;
        answer();
        await sent;
        expect(await read).toMatchObject({ n: expect.any(Number) });
        setClock(clock.now() + 60_000);
      }
    } finally {
      answer();
      fake.held = undefined;
      cancel.abort();
    }
  });

  test("a read waiting out its own 429 to try again goes out when a write the upstream takes ends the hold", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client();
    const cancel = new AbortController();
    try {
      fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "30" }));
      // Time for the retry after the wait asked, which the test's own would not last.
      const read = api.json(any, "/retried-while-held", {}, { signal: cancel.signal, deadline: clock.now() + 45_000 });
      read.catch(() => {});
      // Held once its 429 is heard: another read is then answered without asking.
      await expect
        .poll(() =>
          api.json(any, "/probe", {}, call(1_000)).then(
            () => "sent",
            (err: Error) => err.message,
          ),
        )
        .toMatch(/^Test API answered 429: .*; try again in \d+ s\.$/);
      await api.send("/orders/taken-while-retrying", { method: "POST", body: "{}" }, call(3_000));
      expect(await read).toMatchObject({ n: expect.any(Number) });
      expect(fake.count("/retried-while-held")).toBe(2);
    } finally {
      cancel.abort();
    }
  });

  test("a write the upstream takes ends the hold of the account's reads, not that of a read held alone", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    fake.queue.push(json(503, '{"message":"settings busy"}', { "retry-after": "120" }));
    expect((await failure(api.json(any, "/settings/general", { aside: true }, call(3_000)))).retryAfter).toBe(120);
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "300" }));
    expect((await failure(api.json(any, "/orders/1", {}, call(3_000)))).retryAfter).toBe(300);
    setClock("2026-11-30T08:00:10Z");
    expect(await api.json(any, "/orders", { method: "POST", body: "{}" }, call(3_000))).toMatchObject({
      n: expect.any(Number),
    });
    expect(await api.json(any, "/orders/2", {}, call(3_000))).toMatchObject({ n: expect.any(Number) });
    // Its route may still refuse: it is asked again when its own wait is over.
    const held = await failure(api.json(any, "/settings/general", { aside: true }, call(3_000)));
    expect(held.message).toMatch(/^Test API answered 503 "settings busy": .*try again in 11\d s\.$/);
    expect(fake.count("/settings/general")).toBe(1);
  });

  test("writes sent before reads were held leave the hold as it is, whatever they are answered after it", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client({ maxRetries: 0 });
    let answer = () => {};
    fake.held = new Promise((resolve) => {
      answer = resolve;
    });
    fake.intercept = (request) =>
      request.path === "/orders/limited" ? json(429, '{"message":"slow down"}', { "retry-after": "10" }) : undefined;
    try {
      const taken = api.json(any, "/orders/taken", { method: "POST", body: "{}" }, call(3_000));
      const refused = failure(api.json(any, "/orders/limited", { method: "POST", body: "{}" }, call(3_000)));
      await expect.poll(() => fake.count("/orders/taken") + fake.count("/orders/limited")).toBe(2);
      fake.held = undefined;
      setClock("2026-11-30T08:00:01Z");
      fake.queue.push(json(429, '{"message":"hourly limit reached"}', { "retry-after": "3600" }));
      expect((await failure(api.json(any, "/limited/hour", {}, call(3_000)))).retryAfter).toBe(3600);
      answer();
      expect(await taken).toMatchObject({ n: expect.any(Number) });
      expect((await refused).retryAfter).toBe(10);
    } finally {
      answer();
      fake.held = undefined;
    }
    setClock("2026-11-30T08:00:12Z");
    const held = await failure(api.json(any, "/limited/hour/held", {}, call(3_000)));
    expect(held.message).toMatch(/^Test API answered 429 "hourly limit reached": .*; try again in 35\d\d s\.$/);
    expect(fake.count("/limited/hour/held")).toBe(0);
  });

  test("a write sent before reads were held leaves the hold as it is, though the clock was set back between", async () => {
    setClock("2026-11-30T08:00:01Z");
    const api = client({ maxRetries: 0 });
    let answer = () => {};
    fake.held = new Promise((resolve) => {
      answer = resolve;
    });
    try {
      const taken = api.json(any, "/orders/before-step", { method: "POST", body: "{}" }, call(3_000));
      await expect.poll(() => fake.count("/orders/before-step")).toBe(1);
      fake.held = undefined;
      // NTP sets the clock back a second: the hold heard next is dated before the write began.
      setClock("2026-11-30T08:00:00Z");
      fake.queue.push(json(429, '{"message":"hourly limit reached"}', { "retry-after": "3600" }));
      expect((await failure(api.json(any, "/limited/hour", {}, call(3_000)))).retryAfter).toBe(3600);
      answer();
      expect(await taken).toMatchObject({ n: expect.any(Number) });
    } finally {
      answer();
      fake.held = undefined;
    }
    const held = await failure(api.json(any, "/limited/hour/held", {}, call(3_000)));
    expect(held.message).toMatch(/^Test API answered 429 "hourly limit reached": .*; try again in 3\d\d\d s\.$/);
    expect(fake.count("/limited/hour/held")).toBe(0);
  });

  test("a Retry-After too large to write out in digits holds reads a day, and each read held meanwhile is told so", async () => {
    setClock("2026-11-30T08:00:00Z");
    const api = client();
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "1".padEnd(25, "0") }));
    expect((await failure(api.json(any, "/limited/ever", {}, call(3_000)))).retryAfter).toBe(86_400);
    setClock("2026-11-30T09:00:00Z");
    const held = await failure(api.json(any, "/limited/ever/after", {}, call(3_000)));
    expect(held.message).toMatch(
      /^Test API answered 429 "slow down": it is rate-limiting waiter; try again in 8\d{4} s\.$/,
    );
    expect(fake.count("/limited/ever/after")).toBe(0);
  });

  test("an empty answer labelled gzip keeps its status and Retry-After: it is in no coding", async () => {
    fake.queue.push({ status: 429, headers: { "content-encoding": "gzip", "retry-after": "120" }, body: "" });
    const error = await failure(client().json(any, "/empty-gzip", {}, call(3_000)));
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(120);
  });

  test("502, 503, 504 and dropped connections are retried with backoff", async () => {
    fake.queue.push({ status: 502 }, { status: 504 }, { status: 200, destroy: true });
    const response = await client({ minRetryDelayMs: 20 }).send("/flaky", {}, call());
    expect(response.status).toBe(200);
    expect(fake.count("/flaky")).toBe(4);
  });

  test("a call that may send no more ends with the last answer rather than retrying, and sends nothing new", async () => {
    let why: string | undefined;
    // It may send no more once the first answer is in (an automation's lease lapsed as it waited).
    fake.intercept = () => {
      why = "the lease ran out";
      return { status: 503 };
    };
    const response = await client({ minRetryDelayMs: 20 }).send("/no-more", {}, { ...call(), mayNotSend: () => why });
    expect(response.status).toBe(503);
    expect(fake.count("/no-more")).toBe(1);
    const refused = await failure(client().send("/no-more", { method: "PUT" }, { ...call(), mayNotSend: () => why }));
    expect(refused.message).toMatch(/^Test API \(127\.0\.0\.1:\d+\) was not asked: the lease ran out\.$/);
    expect(refused.refused).toBe(true);
    expect(fake.count("/no-more")).toBe(1);
  });

  test("a connection that breaks mid-answer gets the request sent again whole, never two answers joined", async () => {
    // The answer changes between the two requests; the upstream honours a Range, without an ETag.
    const before = JSON.stringify({ version: 1, rates: { USD: 1.1201, CZK: 24.3 } });
    const after = JSON.stringify({ version: 2, rates: { USD: 1.0987, CZK: 25.1 } });
    fake.queue.push({ ...json(200, before, { "content-length": String(before.length) }), breakAfter: 20 });
    fake.intercept = ({ headers: { range } }) => {
      const start = Number(/^bytes=(\d+)-/.exec(range ?? "")?.[1] ?? 0);
      if (!start) return json(200, after);
      return {
        status: 206,
        headers: {
          "content-type": "application/json",
          "content-range": `bytes ${start}-${after.length - 1}/${after.length}`,
        },
        body: after.slice(start),
      };
    };
    expect(await client({ minRetryDelayMs: 10 }).json(any, "/torn", {}, call())).toEqual(JSON.parse(after));
    expect(fake.requests.filter((r) => r.path === "/torn").map((r) => r.headers.range)).toEqual([undefined, undefined]);
  });

  test("an answer on a connection that closes before its Content-Length or its last chunk came is asked for again too", async () => {
    const body = JSON.stringify({ rates: { USD: 1.1201, CZK: 24.3 } });
    // Connection: close, as a shop's server sends when it keeps no connection: its end is a close, not a reset.
    const closing = { "content-type": "application/json", connection: "close" };
    const api = client({ minRetryDelayMs: 10 });
    fake.queue.push({
      status: 200,
      headers: { ...closing, "content-length": String(body.length) },
      body,
      breakAfter: 10,
    });
    expect(await api.json(any, "/cut-short/length", {}, call())).toMatchObject({ n: expect.any(Number) });
    expect(fake.count("/cut-short/length")).toBe(2);
    fake.queue.push({ status: 200, headers: closing, body, breakAfter: 10 });
    expect(await api.json(any, "/cut-short/chunked", {}, call())).toMatchObject({ n: expect.any(Number) });
    expect(fake.count("/cut-short/chunked")).toBe(2);
  });

  test("a connection that breaks mid-answer, with no retry left, says so: the upstream was reached", async () => {
    const body = JSON.stringify({ rates: { USD: 1.1201 } });
    fake.queue.push({ ...json(200, body, { "content-length": String(body.length) }), breakAfter: 10 });
    const { message } = await failure(client({ maxRetries: 0 }).json(any, "/torn-once", {}, call()));
    expect(message).toMatch(
      /^The connection to Test API \(127\.0\.0\.1:\d+\) broke while it was answering; try again\.$/,
    );
  });

  test("retries stop after maxRetries and the last answer is reported", async () => {
    fake.queue.push({ status: 503 }, { status: 503 }, { status: 503 });
    const error = await failure(client({ maxRetries: 2, minRetryDelayMs: 10 }).json(any, "/down", {}, call()));
    expect(fake.count("/down")).toBe(3);
    expect(error.message).toMatch(/answered 503: the service is failing; try again later/);
  });

  test("a POST that reached the upstream is never retried: not after its answer, not after its connection broke", async () => {
    fake.queue.push({ status: 503 });
    const response = await client({ minRetryDelayMs: 10 }).send("/post", { method: "POST", body: "{}" }, call());
    expect(response.status).toBe(503);
    expect(fake.count("/post")).toBe(1);
    fake.queue.push({ status: 200, destroy: true });
    const cut = await failure(
      client({ minRetryDelayMs: 10 }).send("/post-cut", { method: "POST", body: "{}" }, call()),
    );
    expect(cut).toBeInstanceOf(UnconfirmedChange);
    expect(fake.count("/post-cut")).toBe(1);
  });

  test("a POST whose connection was refused is sent again within the call: nothing was sent", async () => {
    const port = await freePort();
    const connectErrors = diagnostics.channel("undici:client:connectError");
    let heard = () => {};
    const refused = new Promise<void>((resolve) => {
      heard = resolve;
    });
    connectErrors.subscribe(heard);
    const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024 });
    clients.push(http);
    const posted = http
      .upstream("Late API", new URL(`http://127.0.0.1:${port}/`))
      .send("/orders", { method: "POST", body: '{"item": 1}' }, call(3_000));
    // The upstream starts listening once it refused the first connection, before the retry's backoff ends.
    await refused;
    const late = await startFake(() => json(201, "{}"), port);
    try {
      expect((await posted).status).toBe(201);
      expect(late.requests.map(({ method, body }) => ({ method, body }))).toEqual([
        { method: "POST", body: '{"item": 1}' },
      ]);
    } finally {
      connectErrors.unsubscribe(heard);
      await late.close();
    }
  });

  test("a route lost on an open connection leaves a write unconfirmed and a read said as such: the request went out", async () => {
    const connected = diagnostics.channel("undici:client:connected");
    const sockets: Socket[] = [];
    const heard = (message: unknown) => sockets.push((message as { socket: Socket }).socket);
    connected.subscribe(heard);
    let arrived = () => {};
    const upstream = await startFake(() => {
      arrived();
      return json(201, "{}");
    });
    // Answers only once the test has cut the connection: never.
    upstream.held = new Promise(() => {});
    const lostRoute = Object.assign(new Error("read EHOSTUNREACH"), { code: "EHOSTUNREACH", syscall: "read" });
    const sent = async (method: "POST" | "GET") => {
      const came = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, minRetryDelayMs: 10, maxRetries: 0 });
      clients.push(http);
      const api = http.upstream("Route API", new URL(`${upstream.origin}/`));
      const answer = failure(api.send("/orders", { method, body: method === "POST" ? "{}" : undefined }, call()));
      await came;
      sockets.at(-1)?.destroy(lostRoute);
      return answer;
    };
    try {
      const write = await sent("POST");
      expect(write).toBeInstanceOf(UnconfirmedChange);
      expect(write.message).toMatch(
        /^Route API \(127\.0\.0\.1:\d+\) did not confirm the change \(the route to it was lost\); it may have been made\. Read the current state before trying again\.$/,
      );
      expect(write.refused).toBe(false);
      const read = await sent("GET");
      expect(read.message).toMatch(
        /^The connection to Route API \(127\.0\.0\.1:\d+\) lost its route before it answered \(this machine's network went down or changed\); try again later, or if it lasts, check this machine's network\.$/,
      );
      expect(upstream.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
    } finally {
      connected.unsubscribe(heard);
      await upstream.close();
    }
  });

  test("a POST whose connection finds no route as it opens is sent again within the call, then said not sent", async () => {
    // Linux refuses a TCP connection to a multicast address as it does one without a route, at once.
    const connectErrors = diagnostics.channel("undici:client:connectError");
    const codes: string[] = [];
    const heard = (message: unknown) => codes.push(String((message as { error: { code?: string } }).error.code));
    connectErrors.subscribe(heard);
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, minRetryDelayMs: 10, maxRetries: 2 });
      clients.push(http);
      const api = http.upstream("Route API", new URL("http://224.0.0.1:9/"));
      const error = await failure(api.send("/orders", { method: "POST", body: "{}" }, call(3_000)));
      expect(error).not.toBeInstanceOf(UnconfirmedChange);
      expect(error.message).toBe(
        "Could not reach Route API (224.0.0.1:9): this machine has no route to it (its network is down or unreachable); try again later, or if it lasts, check this machine's network.",
      );
      expect(error.refused).toBe(true);
      expect(codes).toEqual(["ENETUNREACH", "ENETUNREACH", "ENETUNREACH"]);
    } finally {
      connectErrors.unsubscribe(heard);
    }
  });

  test("a POST whose connection is cut during its TLS handshake is sent again within the call, then said not sent", async () => {
    // Cuts every connection as the client's TLS hello comes, as a filter on the way to a blocked host does.
    let cut = 0;
    const filter = createNetServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => {
        cut++;
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => filter.listen(0, "127.0.0.1", resolve));
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, minRetryDelayMs: 10, maxRetries: 2 });
      clients.push(http);
      const port = (filter.address() as AddressInfo).port;
      const api = http.upstream("Filtered API", new URL(`https://127.0.0.1:${port}/`), {
        urlSetting: "WAITER_FILTERED_URL",
      });
      const error = await failure(api.send("/orders", { method: "POST", body: "{}" }, call(3_000)));
      expect(error).not.toBeInstanceOf(UnconfirmedChange);
      expect(error.message).toBe(
        `Could not reach Filtered API (127.0.0.1:${port}): the connection was cut as it opened, before waiter's request went out (by the service, or by a firewall or filter on the way to it); try again later, and if it lasts, tell whoever runs it, or check this machine's network.`,
      );
      expect(error.refused).toBe(true);
      expect(cut).toBe(3);
    } finally {
      await new Promise((resolve) => filter.close(resolve));
    }
  });

  test("a POST whose TLS handshake the server refuses with an alert is said not sent", async () => {
    // Answers the client's TLS hello with a fatal internal_error alert, as a server that cannot take it for now does.
    const refusing = createNetServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50])));
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, maxRetries: 0 });
      clients.push(http);
      const port = (refusing.address() as AddressInfo).port;
      const api = http.upstream("Refusing API", new URL(`https://127.0.0.1:${port}/`), {
        urlSetting: "WAITER_REFUSING_URL",
      });
      const error = await failure(api.send("/orders", { method: "POST", body: "{}" }, call(3_000)));
      expect(error).not.toBeInstanceOf(UnconfirmedChange);
      expect(error.message).toBe(
        `Could not reach Refusing API (127.0.0.1:${port}) securely: the TLS handshake failed (tlsv1 alert internal error); if it lasts, tell whoever runs it.`,
      );
      expect(error.refused).toBe(true);
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  test("an upstream that counts retries against you gets a 429 retried only when it says when", async () => {
    const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024 * 1024, minRetryDelayMs: 10 });
    clients.push(http);
    const api = http.upstream("Strict API", new URL(`${fake.origin}/`), { throttleNeedsRetryAfter: true });
    fake.queue.push(json(429, '{"message":"slow down"}'));
    expect((await api.send("/polite-1", {}, call())).status).toBe(429);
    expect(fake.count("/polite-1")).toBe(1);
    fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "0" }));
    expect((await api.send("/polite-2", {}, call())).status).toBe(200);
    expect(fake.count("/polite-2")).toBe(2);
  });

  test("400 is not retried", async () => {
    fake.queue.push(json(400, '{"message":"bad"}'));
    await failure(client({ minRetryDelayMs: 10 }).json(any, "/bad", {}, call()));
    expect(fake.count("/bad")).toBe(1);
  });
});

describe("size cap", () => {
  test("an answer over the cap is an error, with or without Content-Length", async () => {
    const http = client({ maxResponseBytes: 64 * 1024 });
    const error = await failure(http.send("/big/200000", {}, call()));
    expect(error.message).toMatch(/larger than 64 KiB, the limit set by WAITER_MAX_RESPONSE_BYTES/);
    fake.queue.push({ status: 200, body: Buffer.alloc(200_000, 98), headers: { "transfer-encoding": "chunked" } });
    expect((await failure(http.send("/chunked", {}, call()))).message).toMatch(/larger than 64 KiB/);
  });

  test("set in the config file, the cap is named as written there", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "waiter-test-")), "waiter.json");
    writeFileSync(file, JSON.stringify({ maxResponseBytes: 1024 }));
    const server = await startWaiter({ WAITER_FRANKFURTER_URL: `${fake.origin}/v1` }, { file });
    try {
      fake.queue.push({
        status: 200,
        body: Buffer.alloc(200_000, 98),
        headers: { "content-type": "application/json" },
      });
      const result = await server.call("currency_rates", {});
      expect(result.isError).toBe(true);
      expect(text(result)).toContain(`larger than 1 KiB, the limit set by maxResponseBytes in ${file}; ask for less`);
    } finally {
      await server.close();
    }
  });

  test("an error answer over the cap keeps its status and headers: a 500's page is no answer to ask less of", async () => {
    const api = client({ maxResponseBytes: 64 * 1024, maxRetries: 0 });
    const page = { "content-type": "text/html" };
    fake.queue.push({ status: 500, body: Buffer.alloc(200_000, 98), headers: page });
    expect((await failure(api.json(any, "/failing", {}, call()))).message).toBe(
      "Test API answered 500: the service is failing; try again later.",
    );
    // Over the cap once decoded, and a change refused: not made, whatever its page weighs.
    fake.queue.push({
      status: 429,
      headers: { ...page, "content-encoding": "gzip", "retry-after": "30" },
      body: gzipSync(Buffer.alloc(10 * 1024 * 1024, 32)),
    });
    const refused = await failure(api.json(any, "/orders", { method: "POST", body: "{}" }, call()));
    expect(refused).not.toBeInstanceOf(UnconfirmedChange);
    expect(refused.status).toBe(429);
    expect(refused.message).toBe("Test API answered 429: it is rate-limiting waiter; try again in 30 s.");
  });

  test("an answer under the cap passes", async () => {
    const response = await client({ maxResponseBytes: 64 * 1024 }).send("/big/60000", {}, call());
    expect(response.text).toHaveLength(60_000);
  });
});

describe("answers in a coding", () => {
  const counter = z.object({ n: z.number() });

  test("gzip is asked for and decoded, and br sent unasked, error answers too", async () => {
    const api = client();
    fake.encoding = "gzip";
    expect(await api.json(counter, "/gzip", {}, call())).toEqual({ n: expect.any(Number) });
    expect(fake.requests.find((r) => r.path === "/gzip")?.headers["accept-encoding"]).toBe("gzip, deflate");
    fake.encoding = "br";
    fake.queue.push(json(404, '{"message":"order 7 not found"}'));
    expect((await failure(api.json(counter, "/br", {}, call()))).message).toBe(
      'Test API answered 404 "order 7 not found": it has nothing at that address; check the configured base URL, which may point at another service, or if it is right, tell whoever runs waiter.',
    );
  });

  test("a decoded answer is kept in the cache, and a 304 keeps it fresh", async () => {
    fake.encoding = "gzip";
    const api = client();
    const first = await api.json(counter, "/revalidate/gzip", { query: { "max-age": 1, after304: 60 } }, call());
    setClock(clock.now() + 1_100);
    expect(await api.json(counter, "/revalidate/gzip", { query: { "max-age": 1, after304: 60 } }, call())).toEqual(
      first,
    );
    expect(await api.json(counter, "/revalidate/gzip", { query: { "max-age": 1, after304: 60 } }, call())).toEqual(
      first,
    );
    expect(fake.requests.filter((r) => r.path === "/revalidate/gzip").map((r) => r.headers["if-none-match"])).toEqual([
      undefined,
      '"v1"',
    ]);
  });

  test("an answer that decodes to more than the size cap is cut there", async () => {
    // 10 MiB of spaces, some 10 KiB in gzip.
    fake.queue.push({
      status: 200,
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync(Buffer.alloc(10 * 1024 * 1024, 32)),
    });
    const { message } = await failure(client({ maxResponseBytes: 64 * 1024 }).send("/bomb", {}, call()));
    expect(message).toMatch(/larger than 64 KiB, the limit set by WAITER_MAX_RESPONSE_BYTES; ask for less/);
  });

  test("an answer that is not in the coding it names says so", async () => {
    fake.queue.push({
      ...json(200, '{"n":1}'),
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    });
    const { message } = await failure(client().json(counter, "/mislabelled", {}, call()));
    expect(message).toMatch(
      /^Test API \(127\.0\.0\.1:\d+\) sent an answer that does not decode as its Content-Encoding says \(incorrect header check\); the service may be failing/,
    );
  });
});

describe("https only, but for loopback", () => {
  const parse = (value: string) => upstreamUrl("https://api.example/").safeParse(value);

  test("plain http to a non-loopback host is refused when the setting is read", () => {
    // localhost. is not in the hosts file, which names localhost: DNS is asked, and may answer any address.
    for (const url of [
      "http://example.com/api",
      "http://10.0.0.1/api",
      "http://192.168.1.1/x",
      "http://[::ffff:10.0.0.1]/x",
      "http://localhost./x",
    ]) {
      expect(parse(url).error?.issues[0]?.message).toMatch(/^plain http is allowed only to loopback/);
    }
    expect(parse("ftp://127.0.0.1/api").error?.issues[0]?.message).toMatch(/^unsupported protocol ftp:/);
  });

  test("loopback by name, IPv4 range and IPv6, IPv4's mapped into IPv6 too, is allowed", () => {
    for (const url of [
      "http://localhost:1/",
      "http://127.8.9.10/",
      "http://[::1]:8080/",
      "http://[::ffff:127.0.0.1]:8080/",
      "http://[::ffff:7f08:90a]/",
      "https://example.com/",
    ]) {
      expect(parse(url).data).toEqual(new URL(url));
    }
  });
});

describe("cache and coalescing", () => {
  const counter = z.object({ n: z.number() });

  test("Cache-Control max-age is honoured", async () => {
    const api = client();
    const first = await api.json(counter, "/cached", { query: { "max-age": 60 } }, call());
    const second = await api.json(counter, "/cached", { query: { "max-age": 60 } }, call());
    expect(second).toEqual(first);
    expect(fake.count("/cached")).toBe(1);
  });

  test("answers are kept apart by path, query and upstream, and found again by them", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const [a, b] = ["a", "b"].map((key) =>
      http.upstream(`API ${key}`, new URL(`${fake.origin}/base/?fixed=1`), { query: { apikey: key } }),
    );
    const get = (api: typeof a, path: string, q: string) =>
      api?.json(counter, path, { query: { "max-age": 60, q } }, call());
    const first = await get(a, "/kept", "1");
    expect(await get(a, "/kept", "1")).toEqual(first);
    await get(a, "/kept", "2");
    await get(a, "/kept/more", "1");
    await get(b, "/kept", "1");
    const sent = fake.requests.filter((r) => r.path.startsWith("/base/kept"));
    expect(sent.map((r) => `${r.path}?${r.query}`)).toEqual([
      "/base/kept?fixed=1&max-age=60&q=1&apikey=a",
      "/base/kept?fixed=1&max-age=60&q=2&apikey=a",
      "/base/kept/more?fixed=1&max-age=60&q=1&apikey=a",
      "/base/kept?fixed=1&max-age=60&q=1&apikey=b",
    ]);
  });

  test("an answer without freshness is not cached", async () => {
    const api = client();
    await api.json(counter, "/uncached", {}, call());
    await api.json(counter, "/uncached", {}, call());
    expect(fake.count("/uncached")).toBe(2);
  });

  test("an answer with its Expires or Date sent twice is read, and taken for stale, not a crash in waiter", async () => {
    let asked = 0;
    const server = createServer((_request, response) => {
      asked++;
      response.setHeader("content-type", "application/json");
      response.setHeader("expires", ["Fri, 27 Nov 2026 12:10:00 GMT", "Fri, 27 Nov 2026 12:20:00 GMT"]);
      response.setHeader("date", ["Fri, 27 Nov 2026 12:00:00 GMT", "Fri, 27 Nov 2026 12:00:00 GMT"]);
      response.end('{"n":1}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      setClock("2026-11-27T12:00:00Z");
      const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
      clients.push(http);
      const api = http.upstream("Test API", new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`));
      expect(await api.json(counter, "/twice", {}, call())).toEqual({ n: 1 });
      // Expires twice is no valid one: in the past, as RFC 9111 §5.3 has it.
      await api.json(counter, "/twice", {}, call());
      expect(asked).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("an answer marked no-store is not kept, even with validators: never revalidated, never stands in for a failure", async () => {
    const api = client({ maxRetries: 0 });
    const noStore = json(200, '{"n":1}', { "cache-control": "no-store", etag: '"v1"' });
    fake.queue.push(noStore, noStore);
    const heard: unknown[] = [];
    const staleIfError = { forSeconds: 3600, heard: (failure: unknown) => heard.push(failure) };
    await api.json(counter, "/no-store", { staleIfError }, call());
    await api.json(counter, "/no-store", { staleIfError }, call());
    expect(fake.requests.filter((r) => r.path === "/no-store").map((r) => r.headers["if-none-match"])).toEqual([
      undefined,
      undefined,
    ]);
    fake.queue.push(json(503, "{}"));
    expect((await failure(api.json(counter, "/no-store", { staleIfError }, call()))).status).toBe(503);
    expect(heard).toEqual([]);
  });

  test("an answer marked must-revalidate or no-cache never stands in for a failing upstream, though kept to revalidate", async () => {
    const api = client({ maxRetries: 0 });
    const heard: unknown[] = [];
    const staleIfError = { forSeconds: 3600, heard: (failure: unknown) => heard.push(failure) };
    for (const cacheControl of ["max-age=1, must-revalidate", "no-cache"]) {
      const path = `/revalidated/${cacheControl.replace(/\W+/g, "-")}`;
      fake.queue.push(json(200, '{"n":1}', { "cache-control": cacheControl, etag: '"v1"' }));
      await api.json(counter, path, { staleIfError }, call());
      setClock(clock.now() + 2_000);
      // Kept: a 304 to its revalidation still serves it.
      fake.queue.push({ status: 304, headers: {} });
      expect(await api.json(counter, path, { staleIfError }, call())).toEqual({ n: 1 });
      expect(fake.requests.filter((r) => r.path === path).map((r) => r.headers["if-none-match"])).toEqual([
        undefined,
        '"v1"',
      ]);
      setClock(clock.now() + 2_000);
      fake.queue.push(json(503, "{}"));
      expect((await failure(api.json(counter, path, { staleIfError }, call()))).status).toBe(503);
    }
    expect(heard).toEqual([]);
  });

  test("a per-call ttl caches an answer the upstream did not mark cacheable, for that long", async () => {
    const api = client();
    await api.json(counter, "/ttl", { ttl: 1 }, call());
    await api.json(counter, "/ttl", { ttl: 1 }, call());
    expect(fake.count("/ttl")).toBe(1);
    setClock(clock.now() + 1_100);
    await api.json(counter, "/ttl", { ttl: 1 }, call());
    expect(fake.count("/ttl")).toBe(2);
  });

  test("a ttl worked out from the answer ends at the instant it names, not later by the time it took", async () => {
    const api = client();
    const instant = clock.now() + 10_000;
    // As a costly one on busy cores: the clock has run on by the time it returns.
    const ttl = (_answer: unknown, now = clock.now()) => {
      setClock(clock.now() + 500);
      return (instant - now) / 1000;
    };
    await api.json(counter, "/until", { ttl }, call());
    setClock(instant - 100);
    await api.json(counter, "/until", { ttl: 60 }, call());
    expect(fake.count("/until")).toBe(1);
    setClock(instant + 100);
    await api.json(counter, "/until", { ttl: 60 }, call());
    expect(fake.count("/until")).toBe(2);
  });

  test("a per-call ttl of 0 keeps an answer out of the cache whatever the upstream says", async () => {
    const api = client();
    await api.json(counter, "/ttl0", { ttl: 0, query: { "max-age": 60 } }, call());
    await api.json(counter, "/ttl0", { ttl: 0, query: { "max-age": 60 } }, call());
    expect(fake.count("/ttl0")).toBe(2);
  });

  test("errors are not cached", async () => {
    const api = client();
    fake.queue.push(json(404, '{"message":"not found"}'));
    await failure(api.json(counter, "/missing", { ttl: 60 }, call()));
    expect(await api.json(counter, "/missing", { ttl: 60 }, call())).toMatchObject({ n: expect.any(Number) });
  });

  test("GETs in flight together share an answer as large as WAITER_MAX_RESPONSE_BYTES lets in, not one of 5 MiB", async () => {
    const items = "x".repeat(6 * 1024 * 1024);
    fake.intercept = (request) =>
      request.path === "/large" ? { ...json(200, JSON.stringify({ items })), delayMs: 200 } : undefined;
    const api = client({ maxResponseBytes: 8 * 1024 * 1024 });
    const answers = await Promise.allSettled([1, 2, 3].map(() => api.json(any, "/large", {}, call())));
    expect(answers.map((answer) => answer.status === "fulfilled" || String(answer.reason))).toEqual([true, true, true]);
    expect(fake.count("/large")).toBe(1);
  });

  test("twenty identical GETs in flight go upstream once", async () => {
    fake.delayMs = 200;
    const api = client();
    const answers = await Promise.all(Array.from({ length: 20 }, () => api.json(counter, "/together", {}, call())));
    expect(new Set(answers.map((a) => a.n)).size).toBe(1);
    expect(fake.count("/together")).toBe(1);
  });

  test("a cached answer expires with its max-age", async () => {
    const api = client();
    await api.json(counter, "/expiring", { query: { "max-age": 1 } }, call());
    await api.json(counter, "/expiring", { query: { "max-age": 1 } }, call());
    expect(fake.count("/expiring")).toBe(1);
    setClock(clock.now() + 1_100);
    await api.json(counter, "/expiring", { query: { "max-age": 1 } }, call());
    expect(fake.count("/expiring")).toBe(2);
  });

  test("a clock set back adds nothing to a cached answer's life: the answer is asked for again", async () => {
    const api = client();
    await api.json(counter, "/set-back", { query: { "max-age": 60 } }, call());
    // NTP sets back a clock that ran an hour ahead: kept "at" a time still to come, the answer
    // would otherwise stay fresh for an hour and a minute.
    setClock(clock.now() - 3_600_000);
    await api.json(counter, "/set-back", { query: { "max-age": 60 } }, call());
    expect(fake.count("/set-back")).toBe(2);
    await api.json(counter, "/set-back", { query: { "max-age": 60 } }, call());
    expect(fake.count("/set-back")).toBe(2);
  });

  test("an error answer that repeats the request shows none of the credentials the upstream was declared with", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    const api = http.upstream("Keyed API", new URL(`${fake.origin}/?key=BASEKEY12345678`), {
      query: { apikey: "QUERYKEY12345678" },
      headers: { authorization: `Basic ${Buffer.from("user1234:pa:ss/word99").toString("base64")}` },
    });
    fake.queue.push({
      status: 502,
      headers: { "content-type": "text/plain" },
      body: `Bad gateway for /x?key=BASEKEY12345678&apikey=QUERYKEY12345678 as user1234 with pa%3Ass%2Fword99`,
    });
    const { message } = await failure(api.json(any, "/x", {}, call()));
    expect(message).toBe(
      'Keyed API answered 502 "Bad gateway for /x?key=[credential]&apikey=[credential] as [credential] with [credential]": the service is failing; try again later.',
    );
  });

  test("a user and password in a base URL go as Basic authorization, as curl sends them, and out of every answer quoted", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    // A staging shop or a company's gateway behind HTTP Basic authentication, the password's
    // reserved characters percent-encoded as a URL needs them.
    const base = new URL(`${fake.origin}/v1`);
    base.username = "gateway-user";
    base.password = "pa%3Ass%40word99";
    const api = http.upstream("Gated API", base);
    fake.intercept = (request) => ({
      status: 401,
      headers: { "content-type": "text/plain" },
      body: `No entry for ${request.headers.authorization ?? "a caller without credentials"} at ${request.target}`,
    });
    const { message } = await failure(api.json(any, "/x", {}, call()));
    const sent = fake.requests.at(-1);
    expect(sent?.headers.authorization).toBe(`Basic ${Buffer.from("gateway-user:pa:ss@word99").toString("base64")}`);
    expect(sent?.target).toBe("/v1/x");
    expect(message).toBe(
      'Gated API answered 401 "No entry for Basic [credential] at /v1/x": it refused waiter\'s credentials or permissions; check the credentials in the configured base URL.',
    );
    // An upstream's own Authorization (a shop's key) is sent as declared.
    const keyed = http.upstream("Keyed API", base, { headers: { authorization: "Bearer its-own-key-0123" } });
    await failure(keyed.json(any, "/y", {}, call()));
    expect(fake.requests.at(-1)?.headers.authorization).toBe("Bearer its-own-key-0123");
  });

  test("a short password or key an answer repeats is taken out after its user: or key=, a short user or query word left", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    const base = new URL(`${fake.origin}/v1?lang=en`);
    base.username = "shop";
    base.password = "s3cr3t";
    const api = http.upstream("Gated API", base, { query: { apikey: "k3y9" } });
    fake.intercept = (request) => ({
      status: 502,
      headers: { "content-type": "text/plain" },
      body: `No way to ${request.target} as shop:s3cr3t (s3cr3ts, k3y90)`,
    });
    const { message } = await failure(api.json(any, "/x", {}, call()));
    expect(message).toBe(
      'Gated API answered 502 "No way to /v1/x?lang=en&apikey=[credential] as shop:[credential] (s3cr3ts, k3y90)": the service is failing; try again later.',
    );
  });

  test("a secret too short to tell from a word is taken out where a request carries it, not where a word stands", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    // A staging gateway's password "1" and a key "admin": as a word of their own they are a line
    // number and a role, not the credentials.
    const base = new URL(`${fake.origin}/v1`);
    base.username = "shop";
    base.password = "1";
    const api = http.upstream("Gated API", base, { query: { apikey: "admin" } });
    fake.intercept = (request) => ({
      status: 502,
      headers: { "content-type": "text/plain" },
      body: `Line 1 of ${request.target} ({"apikey":"admin"}, shop:1), admin only`,
    });
    const { message } = await failure(api.json(any, "/x", {}, call()));
    expect(message).toBe(
      'Gated API answered 502 "Line 1 of /v1/x?apikey=[credential] ({"apikey":"[credential]"}, shop:[credential]), admin only": the service is failing; try again later.',
    );
  });

  test("a short secret an answer repeats after a space, as a header or pretty-printed JSON, is taken out too", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    // An error page echoing the request: its headers and body as written, a space after each colon.
    const base = new URL(`${fake.origin}/v1`);
    base.password = "1";
    const api = http.upstream("Gated API", base, {
      query: { apikey: "admin" },
      headers: { authorization: "Bearer k3y9" },
    });
    fake.intercept = () => ({
      status: 502,
      headers: { "content-type": "text/plain" },
      body: 'Line 1: X-Api-Key: admin, Authorization: Bearer k3y9, {"apikey": "admin", "password": "1"}; admin only',
    });
    const { message } = await failure(api.json(any, "/x", {}, call()));
    expect(message).toBe(
      'Gated API answered 502 "Line 1: X-Api-Key: [credential], Authorization: Bearer [credential], {"apikey": "[credential]", "password": "[credential]"}; admin only": the service is failing; try again later.',
    );
  });

  test("a short key an answer quotes inside a percent-encoded URL is taken out too", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    const api = http.upstream("Gated API", new URL(`${fake.origin}/v1`), { query: { apikey: "k3y9" } });
    // A login page sends back to the address asked for, percent-encoded: %3D before the key.
    fake.intercept = (request) => ({
      status: 403,
      headers: { "content-type": "text/plain" },
      body: `Sign in: /login?redirect_to=${encodeURIComponent(request.target)}`,
    });
    const { message } = await failure(api.json(any, "/x", {}, call()));
    expect(message).toContain("/login?redirect_to=%2Fv1%2Fx%3Fapikey%3D[credential]");
    expect(message).not.toContain("k3y9");
  });

  test("a key escaped in the query as sent is taken out of a percent-encoded URL an answer quotes too", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    // Base64 keys hold + and /: sent as %2B and %2F, quoted encoded again as %252B and %252F.
    for (const key of ["k+y9", "kQ3+vX/9dZ=="]) {
      const api = http.upstream("Gated API", new URL(`${fake.origin}/v1`), { query: { apikey: key } });
      fake.intercept = (request) => ({
        status: 403,
        headers: { "content-type": "text/plain" },
        body: `Sign in: /login?redirect_to=${encodeURIComponent(request.target)}`,
      });
      const { message } = await failure(api.json(any, "/x", {}, call()));
      expect(message).toContain("/login?redirect_to=%2Fv1%2Fx%3Fapikey%3D[credential]");
      expect(message).not.toMatch(/k%252By9|kQ3%252BvX/);
    }
  });

  test("an error answer that quotes the request's target shows no credential in the query as sent", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    // A token in the base URL as a company proxy gave it, its + escaped and the rest as is, sent so
    // by an upstream with no query of its own; a key that the query sends form-encoded (a space as
    // +, ~ and ( ) escaped).
    const base = new URL(`${fake.origin}/?token=Zm9v%2BYmFy/YmF6==`);
    const proxied = http.upstream("Proxied API", base);
    const keyed = http.upstream("Keyed API", base, { query: { apikey: "open key~(2026)" } });
    fake.intercept = (request) => ({
      status: 502,
      headers: { "content-type": "text/plain" },
      body: `Bad gateway for ${request.target}`,
    });
    const said = [];
    for (const api of [proxied, keyed]) said.push((await failure(api.json(any, "/x", {}, call()))).message);
    expect(fake.requests.at(-1)?.query.get("apikey")).toBe("open key~(2026)");
    expect(said).toEqual([
      'Proxied API answered 502 "Bad gateway for /x?token=[credential]": the service is failing; try again later.',
      'Keyed API answered 502 "Bad gateway for /x?token=[credential]&apikey=[credential]": the service is failing; try again later.',
    ]);
  });

  test("a secret an upstream declares, such as a token in its path, is taken out of every answer quoted", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    const token = "7012345678:AAPathToken_0123456789";
    const api = http.upstream("Path API", new URL(`${fake.origin}/`), { secrets: [token] });
    const path = `/bot${token}/send`;
    fake.queue.push(
      { status: 200, headers: { "content-type": "text/html" }, body: `Blocked: POST ${path} is not allowed` },
      {
        status: 400,
        headers: { "content-type": "text/plain" },
        body: `No route for /bot${encodeURIComponent(token).replace("%3A", "%3a")}/send`,
      },
      { status: 302, headers: { location: `${path}/` } },
      // Relative: resolved against the request's own path, which holds the token.
      { status: 308, headers: { location: "send/" } },
    );
    const said = [];
    for (const _ of fake.queue.slice())
      said.push((await failure(api.json(any, path, { method: "POST" }, call()))).message);
    expect(said).toEqual([
      expect.stringContaining('beginning "Blocked: POST /bot[credential]/send is not allowed"'),
      expect.stringContaining('"No route for /bot[credential]/send"'),
      expect.stringContaining(`it moved this to ${fake.origin}/bot[credential]/send/, so nothing was changed;`),
      expect.stringContaining(`it moved this to ${fake.origin}/bot[credential]/send/, so nothing was changed;`),
    ]);
  });

  test("credentials an answer repeats as PHP writes JSON (\\/, \\u00e9) are taken out before its words are cut", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    // A generated password whose Basic pair holds a /, and a token with a / and an é.
    const base = new URL(`${fake.origin}/v1`);
    base.username = "gateway-user";
    base.password = "x%3Fs3cr3t~Passw0rd";
    const pair = Buffer.from("gateway-user:x?s3cr3t~Passw0rd").toString("base64");
    expect(pair).toContain("/");
    const token = "tok/0123456789/clé-abcdef";
    const gated = http.upstream("Gated API", base);
    const keyed = http.upstream("Keyed API", new URL(`${fake.origin}/v1`), { secrets: [token] });
    // A gateway that repeats the request's headers, far enough in for its words to be cut within them.
    const php = (value: string) =>
      JSON.stringify(value)
        .replaceAll("/", "\\/")
        .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    const lead = `${"The request was refused by the gateway policy. ".repeat(3)}Seen:`;
    const echo = (credential: string) => ({
      status: 401,
      headers: { "content-type": "application/json" },
      body: `{"message":${php(`${lead} ${credential} and more headers after it`)}}`,
    });
    fake.queue.push(echo(`authorization: Basic ${pair}`), echo(`token ${token}`));
    const said = [
      (await failure(gated.json(any, "/x", {}, call()))).message,
      (await failure(keyed.json(any, "/x", {}, call()))).message,
    ];
    expect(said[0]).toContain("Basic [credential]");
    expect(said[1]).toContain("token [credential]");
    for (const message of said) {
      for (const part of [pair.slice(0, 24), pair.slice(16, 40), "s3cr3t~Pass", token.slice(0, 12), "clé-abc"]) {
        expect(message).not.toContain(part);
      }
    }
  });

  test("an error answer a toolset reads itself (send) comes without the credentials it repeats", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024, maxRetries: 0 });
    clients.push(http);
    const token = "7012345678:AAPathToken_0123456789";
    const api = http.upstream("Path API", new URL(`${fake.origin}/`), { secrets: [token] });
    fake.intercept = (request) => json(403, JSON.stringify({ ok: false, description: `Forbidden: ${request.path}` }));
    try {
      const refused = await api.send(`/bot${token}/getChat`, {}, call());
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.text)).toEqual({ ok: false, description: "Forbidden: /bot[credential]/getChat" });
      // A 2xx is the upstream's answer as sent: what a toolset reads in it is its own.
      fake.intercept = (request) => json(200, JSON.stringify({ ok: true, path: request.path }));
      expect(JSON.parse((await api.send(`/bot${token}/getMe`, {}, call())).text)).toEqual({
        ok: true,
        path: `/bot${token}/getMe`,
      });
    } finally {
      fake.intercept = undefined;
    }
  });

  test("a kept answer stands in for a failing upstream as long as asked, never for a call its caller cancelled", async () => {
    const api = client({ maxRetries: 0 });
    const heard: string[] = [];
    const staleIfError = { forSeconds: 60, heard: (failure: UpstreamError) => heard.push(failure.message) };
    const kept = await api.json(counter, "/kept", { query: { "max-age": 1 }, staleIfError }, call());
    setClock(clock.now() + 2_000);
    fake.queue.push(json(503, "{}"));
    expect(await api.json(counter, "/kept", { query: { "max-age": 1 }, staleIfError }, call())).toEqual(kept);
    expect(heard).toEqual([expect.stringMatching(/answered 503/)]);
    // A refusal is no failure for now.
    fake.queue.push(json(404, "{}"));
    await failure(api.json(counter, "/kept", { query: { "max-age": 1 }, staleIfError }, call()));
    // The caller gave up: it hears so, not an old answer.
    fake.delayMs = 300;
    const quitter = new AbortController();
    const cancelled = api.json(
      counter,
      "/kept",
      { query: { "max-age": 1 }, staleIfError },
      {
        signal: quitter.signal,
        deadline: clock.now() + 5_000,
      },
    );
    setTimeout(() => quitter.abort(new DOMException("the client cancelled", "AbortError")), 50);
    expect((await failure(cancelled)).message).toMatch(/was cancelled/);
    // The load it left goes on, and keeps a new answer: wait for it.
    await api.json(counter, "/kept", { query: { "max-age": 1 }, staleIfError }, call());
    fake.delayMs = 0;
    // Past the time it may stand in, the failure is the answer.
    setClock(clock.now() + 120_000);
    fake.queue.push(json(503, "{}"));
    expect((await failure(api.json(counter, "/kept", { query: { "max-age": 1 }, staleIfError }, call()))).status).toBe(
      503,
    );
    expect(heard).toHaveLength(1);
  });

  test("a stale answer with validators is revalidated: 304 keeps it, fresh again", async () => {
    const api = client();
    const first = await api.json(counter, "/revalidate/a", { query: { "max-age": 1, after304: 60 } }, call());
    setClock(clock.now() + 1_100);
    const second = await api.json(counter, "/revalidate/a", { query: { "max-age": 1, after304: 60 } }, call());
    expect(second).toEqual(first);
    const requests = fake.requests.filter((r) => r.path === "/revalidate/a");
    expect(requests).toHaveLength(2);
    expect(requests[1]?.headers["if-none-match"]).toBe('"v1"');
    expect(requests[1]?.headers["if-modified-since"]).toBe("Wed, 25 Nov 2026 10:00:00 GMT");
    // The 304 said max-age=60: no request for the third call.
    await api.json(counter, "/revalidate/a", { query: { "max-age": 1, after304: 60 } }, call());
    expect(fake.count("/revalidate/a")).toBe(2);
  });

  test("a 304 that says nothing of freshness makes the answer fresh again for as long as it first came with", async () => {
    const api = client();
    const query = { "max-age": 60, after304: "none" };
    const first = await api.json(counter, "/revalidate/c", { query }, call());
    setClock(clock.now() + 61_000);
    expect(await api.json(counter, "/revalidate/c", { query }, call())).toEqual(first);
    expect(fake.count("/revalidate/c")).toBe(2);
    // The 304 updates the headers kept (RFC 9111 §4.3.4), max-age=60 among them: no request now.
    expect(await api.json(counter, "/revalidate/c", { query }, call())).toEqual(first);
    expect(fake.count("/revalidate/c")).toBe(2);
  });

  test("an answer with validators but no freshness is revalidated every time, not refetched", async () => {
    const api = client();
    const first = await api.json(counter, "/revalidate/b", { query: { "max-age": 0, after304: 0 } }, call());
    const second = await api.json(counter, "/revalidate/b", { query: { "max-age": 0, after304: 0 } }, call());
    expect(second).toEqual(first);
    const requests = fake.requests.filter((r) => r.path === "/revalidate/b");
    expect(requests.map((r) => r.headers["if-none-match"])).toEqual([undefined, '"v1"']);
  });

  test("reads sent with send are never shared: each sees the upstream as it is when asked", async () => {
    fake.delayMs = 200;
    const api = client();
    await Promise.all(Array.from({ length: 3 }, () => api.send("/apart", {}, call())));
    expect(fake.count("/apart")).toBe(3);
  });

  test("a caller that gives up leaves a shared load; the others still get the answer", async () => {
    fake.delayMs = 300;
    const api = client();
    const quitter = new AbortController();
    const first = api.json(counter, "/shared-cancel", {}, { signal: quitter.signal, deadline: clock.now() + 5_000 });
    const others = Array.from({ length: 2 }, () => api.json(counter, "/shared-cancel", {}, call()));
    setTimeout(() => quitter.abort(new DOMException("the client cancelled", "AbortError")), 50);
    expect((await failure(first)).message).toMatch(/was cancelled/);
    const answers = await Promise.all(others);
    expect(answers[0]).toEqual(answers[1]);
    expect(fake.count("/shared-cancel")).toBe(1);
  });

  test("a read whose every caller gave up runs on until its deadline, and its answer is kept for the next", async () => {
    fake.delayMs = 300;
    const api = client();
    const quitter = new AbortController();
    const left = api.json(
      counter,
      "/left-alone",
      { query: { "max-age": 60 } },
      { signal: quitter.signal, deadline: clock.now() + 5_000 },
    );
    setTimeout(() => quitter.abort(new DOMException("the client cancelled", "AbortError")), 50);
    expect((await failure(left)).message).toMatch(/was cancelled/);
    await expect.poll(() => fake.count("/left-alone")).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    fake.delayMs = 0;
    expect(await api.json(counter, "/left-alone", { query: { "max-age": 60 } }, call())).toMatchObject({
      n: expect.any(Number),
    });
    expect(fake.count("/left-alone")).toBe(1);
  });

  test("a caller whose deadline comes first leaves a shared load when it passes, saying its answer had begun", async () => {
    // Loading undici and connecting come first, lest they spend the first caller's deadline.
    const api = client();
    await api.send("/warm", {}, call());
    fake.queue.push({ status: 200, headers: { "content-type": "application/json" }, body: "[", dripMs: 50 });
    // The second caller joins once the answer has begun: on a busy machine its headers can take
    // longer than the second caller's deadline.
    const headers = diagnostics.channel("undici:request:headers");
    let heard = (_message: unknown) => {};
    const begunToAnswer = new Promise<void>((resolve) => {
      heard = (message) => {
        if ((message as { request: { path: string } }).request.path === "/shared-drip") resolve();
      };
    });
    headers.subscribe(heard);
    try {
      let firstEnded = false;
      const first = failure(api.json(counter, "/shared-drip", {}, call(2_000))).finally(() => {
        firstEnded = true;
      });
      // Should the first end before it began, the assertions below say so.
      await Promise.race([begunToAnswer, first]);
      const second = await failure(api.json(counter, "/shared-drip", {}, call(200)));
      expect(firstEnded).toBe(false);
      const begun =
        /^Test API \(127\.0\.0\.1:\d+\) began to answer, but did not finish before the tool call's deadline; try again later, or ask for less at once\.$/;
      expect(second.message).toMatch(begun);
      expect((await first).message).toMatch(begun);
      expect(fake.count("/shared-drip")).toBe(1);
    } finally {
      headers.unsubscribe(heard);
    }
  });

  test("a shared read whose retry had not begun to answer by the deadline says it did not answer", async () => {
    // The first answer, a 503, came whole; the request sent again after it gets none in time.
    fake.queue.push(json(503, "{}"), { ...json(200, "{}"), delayMs: 3_000 });
    const api = client({ minRetryDelayMs: 10 });
    const first = failure(api.json(counter, "/shared-retried", {}, call(1_000)));
    const second = await failure(api.json(counter, "/shared-retried", {}, call(500)));
    const silent =
      /^Test API \(127\.0\.0\.1:\d+\) did not answer before the tool call's deadline; try again later, or ask for less at once\.$/;
    expect(second.message).toMatch(silent);
    expect((await first).message).toMatch(silent);
    expect(fake.count("/shared-retried")).toBe(2);
  });

  test("callers sharing a load all hear its deadline in words", async () => {
    fake.delayMs = 2_000;
    const api = client();
    const errors = await Promise.all(
      Array.from({ length: 3 }, () => failure(api.json(counter, "/shared", {}, call(200)))),
    );
    for (const error of errors) expect(error.message).toMatch(/did not answer before the tool call's deadline/);
  });

  test("a caller of another upstream object joined to a load in flight hears at its deadline that the upstream did not answer, not that it was not reached", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 * 1024 });
    clients.push(http);
    const one = http.upstream("Test API", new URL(`${fake.origin}/`));
    const other = http.upstream("Test API", new URL(`${fake.origin}/`));
    // Loading undici and connecting come first, lest they spend the second caller's deadline.
    await one.send("/warm", {}, call());
    fake.delayMs = 2_000;
    const first = failure(one.json(counter, "/joined-apart", {}, call(600)));
    await expect.poll(() => fake.count("/joined-apart")).toBe(1);
    const second = await failure(other.json(counter, "/joined-apart", {}, call(200)));
    const silent =
      /^Test API \(127\.0\.0\.1:\d+\) did not answer before the tool call's deadline; try again later, or ask for less at once\.$/;
    expect(second.message).toMatch(silent);
    expect((await first).message).toMatch(silent);
    expect(fake.count("/joined-apart")).toBe(1);
  });

  test("a caller joined to a load whose deadline comes before its own is answered within its own", async () => {
    const api = client();
    await api.send("/warm", {}, call());
    fake.delayMs = 1_000;
    const first = failure(api.json(counter, "/later", {}, call(300)));
    await expect.poll(() => fake.count("/later")).toBe(1);
    const second = await api.json(counter, "/later", {}, call(5_000));
    expect(second).toEqual({ n: expect.any(Number) });
    expect((await first).message).toMatch(/did not answer before the tool call's deadline/);
    // Sent again once the first caller's load ended.
    expect(fake.count("/later")).toBe(2);
  });

  test("a caller that comes once the first caller left, its request still waiting for a connection, is answered within its own deadline", async () => {
    const api = client({ connectionsPerHost: 1, maxRetries: 0, responseTimeoutMs: 600_000 });
    await api.send("/warm", {}, call());
    let answer = () => {};
    fake.held = new Promise((resolve) => {
      answer = resolve;
    });
    const created = diagnostics.channel("undici:request:create");
    const queued: string[] = [];
    const heard = (message: unknown) => queued.push((message as { request: { path: string } }).request.path);
    created.subscribe(heard);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      // The one connection is busy; the first caller's read waits for it, and is stopped at its
      // deadline, which its load ends at too.
      const busy = api.send("/busy-queued", {}, call(600_000));
      await expect.poll(() => fake.count("/busy-queued")).toBe(1);
      const first = failure(api.json(counter, "/queued", {}, call(200)));
      await expect.poll(() => queued).toContain("/queued");
      await vi.advanceTimersByTimeAsync(200);
      expect((await first).message).toMatch(/was not reached/);
      vi.useRealTimers();
      const second = api.json(counter, "/queued", {}, call(5_000));
      answer();
      fake.held = undefined;
      expect((await busy).status).toBe(200);
      expect(await second).toEqual({ n: expect.any(Number) });
    } finally {
      vi.useRealTimers();
      created.unsubscribe(heard);
      answer();
      fake.held = undefined;
    }
  });

  test("a POST is never cached", async () => {
    const api = client();
    await api.json(counter, "/posted", { method: "POST", body: "{}", query: { "max-age": 60 } }, call());
    await api.json(counter, "/posted", { method: "POST", body: "{}", query: { "max-age": 60 } }, call());
    expect(fake.count("/posted")).toBe(2);
  });

  test("requests to one origin reuse a kept-alive connection", async () => {
    const api = client();
    const before = fake.connections;
    for (let i = 0; i < 10; i++) await api.send(`/keepalive/${i}`, {}, call());
    // undici may open a second socket while the first is being handed back; never one per request.
    expect(fake.connections - before).toBeLessThanOrEqual(2);
  });

  test("the User-Agent names the client", async () => {
    await client().send("/ua", {}, call());
    expect(fake.requests.find((r) => r.path === "/ua")?.headers["user-agent"]).toBe("waiter-test/0");
  });

  test("an upstream's defaults go with every request, cached or not, and a call's own headers win", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const api = http.upstream("Keyed API", new URL(`${fake.origin}/`), {
      headers: { "user-agent": `${http.userAgent} ops@example.com`, "x-plain": "1" },
      query: { apikey: "k" },
    });
    await api.send("/defaults", { query: { q: "a" }, headers: { "x-plain": "2" } }, call());
    await api.json(any, "/defaults-json", {}, call());
    const [sent, loaded] = ["/defaults", "/defaults-json"].map((path) => fake.requests.find((r) => r.path === path));
    expect(sent?.headers["user-agent"]).toBe("waiter-test/0 ops@example.com");
    expect(sent?.headers["x-plain"]).toBe("2");
    expect(sent?.query.get("apikey")).toBe("k");
    expect(sent?.query.get("q")).toBe("a");
    expect(loaded?.headers["user-agent"]).toBe("waiter-test/0 ops@example.com");
    expect(loaded?.query.get("apikey")).toBe("k");
  });
});

describe("kept-alive connections", () => {
  /**
   * A server that, once it forgets, never answers on the connections it had: as a NAT or a
   * firewall that dropped them, or a network left, does to a computer that slept. A request sent
   * on one gets no answer and no reset.
   */
  async function forgetful() {
    const open = new Set<Socket>();
    const forgotten = new Set<Socket>();
    let closed = 0;
    /** Requests to /held, answered when let go. */
    const held: (() => void)[] = [];
    const server = createServer((request, response) => {
      if (request.url === "/held") held.push(() => response.end("{}"));
      else if (!forgotten.has(request.socket)) response.end("{}");
    });
    // It closes no connection itself, as a NAT does not: one closed was closed by waiter.
    server.keepAliveTimeout = 600_000;
    server.on("connection", (socket) => {
      open.add(socket);
      socket.once("close", () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      connections: () => open.size,
      /** Connections closed so far, by either end. */
      closed: () => closed,
      held: () => held.length,
      letGo: () => {
        for (const answer of held.splice(0)) answer();
      },
      forget: () => {
        for (const socket of open) forgotten.add(socket);
      },
      close: () => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      },
    };
  }

  test("after the computer slept past their keep-alive by the wall clock, connections kept are not sent on again", async () => {
    const server = await forgetful();
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, responseTimeoutMs: 30_000 });
      clients.push(http);
      const api = http.upstream("Test API", new URL(server.origin));
      // Within their keep-alive, connections are used again (undici may open a second one while
      // the first is being handed back), however long the wall clock has run all told.
      for (let i = 0; i < 5; i++) {
        setClock(clock.now() + 10_000);
        expect((await api.send("/", {}, call())).status).toBe(200);
      }
      const kept = server.connections();
      expect(kept).toBeLessThanOrEqual(2);
      // An hour asleep: the process's timers stood still, the wall clock did not.
      server.forget();
      setClock(clock.now() + 3_600_000);
      expect((await api.send("/", {}, call(3_000))).status).toBe(200);
      expect(server.connections()).toBe(kept + 1);
    } finally {
      await server.close();
    }
  });

  test("a request under way through a sleep leaves the connections kept meanwhile unused once it ends", async () => {
    const server = await forgetful();
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, responseTimeoutMs: 30_000 });
      clients.push(http);
      const api = http.upstream("Test API", new URL(server.origin));
      // Two connections kept: the held request goes on one, the other waits unused.
      await Promise.all([api.send("/", {}, call()), api.send("/", {}, call())]);
      expect(server.connections()).toBe(2);
      const under = api.send("/held", {}, call(3_600_000 + 60_000));
      await expect.poll(() => server.held()).toBe(1);
      server.forget();
      setClock(clock.now() + 3_600_000);
      server.letGo();
      expect((await under).status).toBe(200);
      expect((await api.send("/", {}, call(3_000))).status).toBe(200);
      expect(server.connections()).toBe(3);
    } finally {
      await server.close();
    }
  });

  test("a caller that joined a shared read and left it at its own deadline leaves no connection open after a sleep", async () => {
    const server = await forgetful();
    try {
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, responseTimeoutMs: 600_000 });
      clients.push(http);
      const api = http.upstream("Test API", new URL(server.origin));
      const first = api.json(any, "/held", {}, call(600_000));
      await expect.poll(() => server.held()).toBe(1);
      // Joined to the read in flight, it leaves at its deadline, long before the answer.
      const joined = await failure(api.json(any, "/held", {}, call(300)));
      expect(joined.message).toMatch(/did not answer before the tool call's deadline/);
      server.letGo();
      expect(await first).toEqual({});
      expect(server.connections()).toBe(1);
      // An hour asleep: the next request opens a connection of its own, and the one kept is closed.
      setClock(clock.now() + 3_600_000);
      expect((await api.send("/", {}, call(3_000))).status).toBe(200);
      await expect.poll(() => server.closed()).toBe(1);
    } finally {
      await server.close();
    }
  });

  test("an upstream's Keep-Alive hint asks for a shorter keep-alive, never for a longer one", async () => {
    const closed: Promise<void>[] = [];
    const server = createServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.setHeader("keep-alive", "timeout=600");
      response.end("{}");
    });
    // The server itself would keep the connection the ten minutes it says.
    server.keepAliveTimeout = 600_000;
    server.on("connection", (socket: Socket) => closed.push(new Promise((resolve) => socket.once("close", resolve))));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      // undici times a kept connection on the process's timers, not waiter's clock: the test
      // lowers the keep-alive rather than wait out its 30 s.
      const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024, keepAliveMs: 200 });
      clients.push(http);
      const api = http.upstream("Test API", new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`));
      expect((await api.send("/", {}, call())).status).toBe(200);
      expect(closed).toHaveLength(1);
      const open = new Promise<string>((resolve) => setTimeout(resolve, 3_000, "still open"));
      expect(await Promise.race([closed[0]?.then(() => "closed by waiter"), open])).toBe("closed by waiter");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a request under way keeps its connections, which its retry goes on with, however long the clock says it waited", async () => {
    const api = client();
    fake.queue.push({ status: 503, body: "", headers: { "retry-after": "1" } });
    const before = fake.requests.length;
    // Its deadline is past the hour the clock moves on, whether its 503 comes back before or after.
    const waiting = api.send("/retried", {}, call(3_600_000 + 60_000));
    await expect.poll(() => fake.requests.length).toBe(before + 1);
    setClock(clock.now() + 3_600_000);
    expect((await api.send("/meanwhile", {}, call())).status).toBe(200);
    expect((await waiting).status).toBe(200);
    expect(fake.count("/retried")).toBe(2);
  });
});

describe("error answers", () => {
  test("the upstream's own message is quoted, HTML is not", async () => {
    const api = client();
    fake.queue.push(json(404, '{"message":"order 7 not found"}'));
    expect((await failure(api.json(any, "/e1", {}, call()))).message).toBe(
      'Test API answered 404 "order 7 not found": it has nothing at that address; check the configured base URL, which may point at another service, or if it is right, tell whoever runs waiter.',
    );
    fake.queue.push({
      status: 403,
      body: "<html><body>Forbidden</body></html>",
      headers: { "content-type": "text/html" },
    });
    expect((await failure(api.json(any, "/e2", {}, call()))).message).toBe(
      "Test API answered 403: it refused the request, which carries no credentials: it, or a firewall in front of it, does not let this machine in; tell whoever runs waiter, or check the configured base URL.",
    );
  });

  test("a Retry-After far ahead (a server's clock wrong) says to try again in a day, when waiter asks again at the latest", async () => {
    const api = client({ maxRetries: 0 });
    setClock("2026-11-25T10:00:00Z");
    try {
      fake.queue.push(json(429, '{"message":"slow down"}', { "retry-after": "Fri, 01 Jan 2100 00:00:00 GMT" }));
      const far = await failure(api.json(any, "/throttled-far", {}, call()));
      expect(far.message).toBe('Test API answered 429 "slow down": it is rate-limiting waiter; try again in 86400 s.');
      expect(far.retryAfter).toBe(86_400);
    } finally {
      setClock();
    }
  });

  test("a 503's Retry-After far ahead says to try again in five minutes, when waiter asks again at the latest", async () => {
    const api = client({ maxRetries: 0 });
    setClock("2026-11-25T10:00:00Z");
    try {
      fake.queue.push({ status: 503, headers: { "retry-after": "86400" } });
      const far = await failure(api.json(any, "/unavailable-far", {}, call()));
      expect(far.message).toBe("Test API answered 503: the service is failing; try again in 300 s.");
      expect(far.retryAfter).toBe(300);
      // Held meanwhile, with what is left of the hold, not of the day it asked.
      setClock("2026-11-25T10:04:00Z");
      const held = await failure(api.json(any, "/unavailable-far/other", {}, call(3_000)));
      expect(held.message).toMatch(/^Test API answered 503: the service is failing; try again in 6\d s\.$/);
      expect(fake.count("/unavailable-far/other")).toBe(0);
    } finally {
      setClock();
    }
  });

  test("a write's 503 says to try again when its Retry-After names, as waiter holds no write", async () => {
    const api = client({ maxRetries: 0 });
    fake.queue.push({ status: 503, headers: { "retry-after": "3600" } });
    const refused = await failure(api.json(any, "/write-unavailable", { method: "PUT", body: "{}" }, call()));
    expect(refused.message).toMatch(/\(in 3600 s\)\.$/);
    expect(refused.retryAfter).toBe(3600);
  });

  test("a Retry-After on any status says when to try again, in seconds or as an HTTP date", async () => {
    fake.queue.push({ status: 503, headers: { "retry-after": "120" } });
    const delta = await failure(client().json(any, "/unavailable", {}, call()));
    expect(delta.message).toBe("Test API answered 503: the service is failing; try again in 120 s.");
    expect(delta.retryAfter).toBe(120);
    expect(fake.count("/unavailable")).toBe(1);

    setClock("2026-11-25T10:00:00Z");
    try {
      fake.queue.push({
        status: 503,
        headers: { date: "Wed, 25 Nov 2026 10:00:00 GMT", "retry-after": "Wed, 25 Nov 2026 10:02:00 GMT" },
      });
      const date = await failure(client().json(any, "/unavailable-until", {}, call()));
      expect(date.message).toBe("Test API answered 503: the service is failing; try again in 120 s.");
      expect(date.retryAfter).toBe(120);
    } finally {
      setClock();
    }

    fake.queue.push(json(403, '{"message":"blocked for now"}', { "retry-after": "30" }));
    expect((await failure(client().json(any, "/blocked", {}, call()))).message).toBe(
      'Test API answered 403 "blocked for now": it refused the request, which carries no credentials: it, or a firewall in front of it, does not let this machine in; tell whoever runs waiter, or check the configured base URL, or try again in 30 s.',
    );
    fake.queue.push(json(429, '{"message":"slow down"}'));
    expect((await failure(client({ maxRetries: 0 }).json(any, "/throttled", {}, call()))).message).toBe(
      'Test API answered 429 "slow down": it is rate-limiting waiter; wait a minute before trying again.',
    );
  });

  test("a 304 to a request that was not conditional is a broken cache's, for now: not the arguments, not a redirect", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const api = http.upstream("Cached API", new URL(`${fake.origin}/`), {
      urlSetting: "WAITER_CACHED_URL",
      // An upstream's own words for a 3xx, which a 304 is not.
      errors: (response) => new UpstreamError(`redirected (${response.status})`, response.status),
    });
    fake.queue.push({ status: 304, headers: { etag: '"x"' } });
    const read = await failure(api.json(any, "/unasked", {}, call()));
    expect(read.message).toBe(
      "Cached API answered 304 (Not Modified) to a request that was not conditional: a cache in between (a proxy or CDN in front of it) is broken; try again later, or if it lasts, tell whoever runs that cache.",
    );
    // Without a status of the upstream's own, it passes as an unreachable upstream does.
    expect(read.status).toBeUndefined();
    fake.queue.push({ status: 304 });
    const write = await failure(
      api.send("/orders/1", { method: "PUT", body: "{}" }, call()).then((r) => api.read(any, r)),
    );
    expect(write).toBeInstanceOf(UnconfirmedChange);
    expect(write.message).toMatch(/is broken, and the change may have been made\. Read the current state/);

    // An answer kept without an ETag or Last-Modified is asked for again without conditions: a 304
    // then leaves the answer kept to serve past its time, as a failing upstream does.
    const kept = await api.json(any, "/kept", { query: { "max-age": 1 } }, call());
    setClock(clock.now() + 2_000);
    fake.queue.push({ status: 304 });
    const heard: string[] = [];
    const staleIfError = { forSeconds: 60, heard: (failure: UpstreamError) => heard.push(failure.message) };
    expect(await api.json(any, "/kept", { query: { "max-age": 1 }, staleIfError }, call())).toEqual(kept);
    expect(heard).toEqual([expect.stringMatching(/answered 304 \(Not Modified\) .* is broken/)]);
  });

  test("a redirect says where the upstream moved the resource, without any query, and is not followed", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const api = http.upstream("Keyed API", new URL(`${fake.origin}/base/?fixed=1`), { query: { apikey: "s3cret" } });
    for (const status of [301, 302, 307, 308]) {
      fake.queue.push({ status, headers: { location: `${fake.origin}/new-home/rates?apikey=s3cret#top` } });
      const error = await failure(api.json(any, "/rates", { query: { q: "1" } }, call()));
      expect(error.message).toBe(
        `Keyed API answered ${status}: it moved this to ${fake.origin}/new-home/rates; check the configured base URL.`,
      );
      expect(error.status).toBe(status);
    }
    expect(fake.count("/base/rates")).toBe(4);
    expect(fake.count("/new-home/rates")).toBe(0);

    const moved = async (location: string) => {
      fake.queue.push({ status: 302, headers: { location } });
      return (await failure(api.json(any, "/rates", { query: { q: "2" } }, call()))).message;
    };
    expect(await moved("https://other.example/path?key=abc")).toBe(
      "Keyed API answered 302: it moved this to https://other.example/path; check the configured base URL.",
    );
    // Resolved against the request URL, which carries the key in its query.
    expect(await moved("?page=2")).toBe(
      `Keyed API answered 302: it moved this to ${fake.origin}/base/rates; check the configured base URL.`,
    );
    expect(await moved("../v2/rates?apikey=s3cret")).toBe(
      `Keyed API answered 302: it moved this to ${fake.origin}/v2/rates; check the configured base URL.`,
    );
    expect(await moved("https://user:pass@other.example/x")).toBe(
      "Keyed API answered 302: it moved this to https://other.example/x; check the configured base URL.",
    );
    fake.queue.push({ status: 302 });
    expect((await failure(api.json(any, "/rates", {}, call()))).message).toBe(
      "Keyed API answered 302: it redirects elsewhere without saying where; check the configured base URL.",
    );
    // A change redirected is not sent again to where it leads: it was not made.
    for (const status of [302, 307]) {
      fake.queue.push({ status, headers: { location: `${fake.origin}/new-home/send` } });
      expect((await failure(api.json(any, "/send", { method: "POST", body: "{}" }, call()))).message).toBe(
        `Keyed API answered ${status}: it moved this to ${fake.origin}/new-home/send, so nothing was changed; check the configured base URL.`,
      );
    }
    expect(fake.count("/new-home/send")).toBe(0);
  });

  test("a 403 page of a firewall in front of an upstream that takes a key is not told as a key to check", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 4096 });
    clients.push(http);
    const keyed = http.upstream("Keyed API", new URL(`${fake.origin}/keyed/`), {
      headers: { authorization: "Bearer t0ken-for-keyed" },
      keySetting: "WAITER_KEYED_KEY",
      urlSetting: "WAITER_KEYED_URL",
    });
    const blocked = {
      status: 403,
      headers: { "content-type": "text/html; charset=UTF-8" },
      body: "<!DOCTYPE html><html><head><title>Access denied | api.example used Cloudflare to restrict access</title></head><body>Error 1020</body></html>",
    };
    for (const [method, unchanged] of [
      ["GET", ""],
      ["POST", ", so nothing was changed"],
    ] as const) {
      fake.queue.push(blocked);
      const options = method === "GET" ? {} : { method, body: "{}" };
      expect((await failure(keyed.json(any, "/rates", options, call()))).message).toBe(
        `Keyed API answered 403 "Access denied | api.example used Cloudflare to restrict access": it refused the request${unchanged} with a web page, not its API's answer: a firewall or proxy in front of it does not let this machine's requests by, which no change to WAITER_KEYED_KEY mends; tell whoever runs waiter, or check WAITER_KEYED_URL.`,
      );
    }
    // Imperva's block page has no title to quote: a web page all the same.
    fake.queue.push({
      status: 403,
      headers: { "content-type": "text/html" },
      body: '<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW"></head><body><iframe id="main-iframe" src="/_Incapsula_Resource?SWUDNSAI=31">Request unsuccessful. Incapsula incident ID: 1234</iframe></body></html>',
    });
    expect((await failure(keyed.json(any, "/rates", {}, call()))).message).toBe(
      "Keyed API answered 403: it refused the request with a web page, not its API's answer: a firewall or proxy in front of it does not let this machine's requests by, which no change to WAITER_KEYED_KEY mends; tell whoever runs waiter, or check WAITER_KEYED_URL.",
    );
    // The API's own refusal, in its words, is of the key.
    fake.queue.push(json(403, '{"message":"key lacks scope"}'));
    expect((await failure(keyed.json(any, "/rates", {}, call()))).message).toBe(
      'Keyed API answered 403 "key lacks scope": it refused waiter\'s credentials or permissions; check WAITER_KEYED_KEY.',
    );
  });

  test("a redirect to a single sign-on's login says a sign-in turned waiter away, not that the service moved", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const keyed = http.upstream("Keyed API", new URL(`${fake.origin}/keyed/`), {
      headers: { authorization: "Bearer t0ken-for-keyed" },
      keySetting: "WAITER_KEYED_KEY",
    });
    const set = http.upstream("Set API", new URL(`${fake.origin}/set/`), { urlSetting: "WAITER_SET_URL" });
    const own = http.upstream("Own API", waitersOwnUrl(`${fake.origin}/own/`), { urlSetting: "WAITER_OWN_URL" });
    const redirected = async (api: typeof set, location: string, status = 302, method: "GET" | "POST" = "GET") => {
      fake.queue.push({ status, headers: { location } });
      return (await failure(api.json(any, "/rates", method === "GET" ? {} : { method, body: "{}" }, call()))).message;
    };
    const by =
      "ask whoever runs it to let waiter's requests by (an exception for this machine's address or the API's path).";
    // Microsoft Entra ID's authorization request, as its application proxy sends one.
    expect(
      await redirected(
        keyed,
        "https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize?client_id=6731de76&response_type=code&redirect_uri=https%3A%2F%2Fapi.contoso.example%2F",
      ),
    ).toBe(
      `Keyed API answered 302: it sends waiter to sign in at https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize, a page for a person in a browser: a single sign-on in front of it turned the request away; check WAITER_KEYED_KEY, if that sign-on takes credentials, or ${by}`,
    );
    // oauth2-proxy's sign-in page, on the service's own host.
    expect(await redirected(set, `${fake.origin}/oauth2/sign_in?rd=%2Fset%2Frates`)).toBe(
      `Set API answered 302: it sends waiter to sign in at ${fake.origin}/oauth2/sign_in, a page for a person in a browser: a single sign-on in front of it turned the request away; ${by}`,
    );
    // A SAML request, a change's redirect: nothing was changed.
    expect(
      await redirected(set, "https://idp.example/idp/profile/SAML2/Redirect/SSO?SAMLRequest=fZJNT8Mw", 303, "POST"),
    ).toBe(
      `Set API answered 303: it sends waiter to sign in at https://idp.example/idp/profile/SAML2/Redirect/SSO, a page for a person in a browser: a single sign-on in front of it turned the request away, so nothing was changed; ${by}`,
    );
    // Authelia's portal, Authentik's outpost, Keycloak's login, Pomerium's authenticate service: each
    // as it sends a request without a session.
    for (const [location, signIn] of [
      ["https://auth.example/?rd=https%3A%2F%2Fapi.example%2Fset%2Frates&rm=GET", "https://auth.example/"],
      [`${fake.origin}/outpost.goauthentik.io/start?rd=%2Fset%2Frates`, `${fake.origin}/outpost.goauthentik.io/start`],
      // Behind a proxy that takes the API's path prefix off before the sign-on sees the request.
      ["https://auth.example/?rd=https%3A%2F%2Fapi.example%2Frates&rm=GET", "https://auth.example/"],
      [
        "https://sso.example/realms/acme/protocol/openid-connect/auth?state=0f1e&scope=openid",
        "https://sso.example/realms/acme/protocol/openid-connect/auth",
      ],
      [
        "https://authenticate.example/.pomerium/sign_in?pomerium_redirect_uri=https%3A%2F%2Fapi.example%2F&sig=x",
        "https://authenticate.example/.pomerium/sign_in",
      ],
      [
        "https://authenticate.example/?pomerium_redirect_uri=https%3A%2F%2Fapi.example%2F",
        "https://authenticate.example/",
      ],
    ] as const) {
      expect(await redirected(set, location)).toBe(
        `Set API answered 302: it sends waiter to sign in at ${signIn}, a page for a person in a browser: a single sign-on in front of it turned the request away; ${by}`,
      );
    }
    // WordPress's login on the service's own host, under its own name or another a plugin gave it,
    // with the page asked for to come back to.
    for (const [location, signIn] of [
      [
        `${fake.origin}/wp-login.php?redirect_to=${encodeURIComponent(`${fake.origin}/set/rates`)}&reauth=1`,
        "/wp-login.php",
      ],
      [`${fake.origin}/door/?redirect_to=%2Fset%2Frates`, "/door/"],
    ] as const) {
      expect(await redirected(set, location)).toBe(
        `Set API answered 302: it sends waiter to sign in at ${fake.origin}${signIn}, a page for a person in a browser: a single sign-on in front of it turned the request away; ${by}`,
      );
    }
    // A redirect of the service's own whose rd or redirect_to names another page than the one asked
    // for is no sign-on's come-back; nor is one to the page asked for under another path.
    expect(await redirected(set, `${fake.origin}/cz/?rd=%2Fcz%2Fnews`, 301)).toBe(
      `Set API answered 301: it moved this to ${fake.origin}/cz/; check WAITER_SET_URL.`,
    );
    expect(await redirected(set, `${fake.origin}/cz/?redirect_to=%2Fcz%2Fnews`, 301)).toBe(
      `Set API answered 301: it moved this to ${fake.origin}/cz/; check WAITER_SET_URL.`,
    );
    expect(await redirected(set, `${fake.origin}/v2/set/rates?redirect_to=%2Fset%2Frates`, 301)).toBe(
      `Set API answered 301: it moved this to ${fake.origin}/v2/set/rates; check WAITER_SET_URL.`,
    );
    // A public API waiter chose has no sign-on of its own: a proxy on the way asks this machine to sign in.
    expect(await redirected(own, "https://gateway.proxy.example/auth/login?origurl=https%3A%2F%2Fapi")).toBe(
      "Own API answered 302: it sends waiter to sign in at https://gateway.proxy.example/auth/login, a page for a person in a browser: something on the way to it (a proxy that inspects TLS) turned the request away; sign in there in a browser on this machine, or tell whoever runs this machine's network.",
    );
  });

  test("a 2xx that is not the upstream's answer names the setting first where one gave the URL, which may point at another service", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const rates = z.object({ rates: z.record(z.string(), z.number()) });
    const set = http.upstream("Set API", new URL(`${fake.origin}/set/`), { urlSetting: "WAITER_SET_URL" });
    const own = http.upstream("Own API", waitersOwnUrl(`${fake.origin}/own/`), { urlSetting: "WAITER_OWN_URL" });
    const page = {
      status: 200,
      body: "<!doctype html><title>Intranet</title>",
      headers: { "content-type": "text/html" },
    };
    const other = json(200, '{"status":"ok"}');

    fake.queue.push(page, other);
    expect((await failure(set.json(rates, "/latest", {}, call()))).message).toBe(
      'Set API sent an answer that is not JSON (status 200, 38 bytes, beginning "<!doctype html><title>Intranet</title>"); check WAITER_SET_URL, which may point at another service, or Set API may be failing: try again later, and if it lasts, tell whoever runs it what it sends.',
    );
    expect((await failure(set.json(rates, "/latest", {}, call()))).message).toBe(
      "Set API sent an answer in an unexpected format (rates: Invalid input: expected record, received undefined); check WAITER_SET_URL, which may point at another service, or Set API may have changed or be failing.",
    );
    // waiter's own choice of URL is no setting's fault.
    fake.queue.push(page, other);
    expect((await failure(own.json(rates, "/latest", {}, call()))).message).toBe(
      'Own API sent an answer that is not JSON (status 200, 38 bytes, beginning "<!doctype html><title>Intranet</title>"); the service may be failing: try again later, and if it lasts, tell whoever runs it what it sends.',
    );
    expect((await failure(own.json(rates, "/latest", {}, call()))).message).toBe(
      "Own API sent an answer in an unexpected format (rates: Invalid input: expected record, received undefined); the service may have changed or be failing.",
    );
  });

  test("a 404, 405, 401 or 403 at waiter's own choice of URL says the service changed, not that the setting may point elsewhere", async () => {
    const http = new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1024 });
    clients.push(http);
    const own = http.upstream("Own API", waitersOwnUrl(`${fake.origin}/own/`), { urlSetting: "WAITER_OWN_URL" });
    const set = http.upstream("Set API", new URL(`${fake.origin}/set/`), { urlSetting: "WAITER_SET_URL" });
    const changed =
      "the service may have moved or changed: tell whoever runs waiter, who can set its new address in WAITER_OWN_URL.";
    for (const status of [404, 405]) {
      fake.queue.push({ status });
      expect((await failure(own.json(any, `/gone-${status}`, {}, call()))).message).toBe(
        `Own API answered ${status}: ${status === 404 ? "it has nothing at that address" : "it takes no such request at that address, whatever the arguments"}; ${changed}`,
      );
    }
    fake.queue.push({ status: 401 });
    expect((await failure(own.json(any, "/gated", {}, call()))).message).toBe(
      "Own API answered 401: it asks for credentials, which waiter sends it none of, so something in front of it (a gateway, a proxy) asks for them; tell whoever runs waiter.",
    );
    fake.queue.push({ status: 403 });
    expect((await failure(own.json(any, "/blocked", {}, call()))).message).toBe(
      "Own API answered 403: it refused the request, which carries no credentials: it, or a firewall in front of it, does not let this machine in; tell whoever runs waiter.",
    );
    fake.queue.push({ status: 404 });
    expect((await failure(set.json(any, "/gone", {}, call()))).message).toBe(
      "Set API answered 404: it has nothing at that address; check WAITER_SET_URL, which may point at another service, or if it is right, tell whoever runs waiter.",
    );
  });
});
