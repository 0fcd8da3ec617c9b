import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { clock } from "../../src/time.js";

export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection instead of answering. */
  destroy?: boolean;
  /** Send the headers and this many bytes of the body, then drop the connection. */
  breakAfter?: number;
  /** After the headers and the body, send one more space every this many ms until the connection closes. */
  dripMs?: number;
  /** Send the headers and this many bytes of the body, then nothing more, the connection kept open. */
  stallAfter?: number;
  /** With stallAfter: the rest of the body this many ms after its first bytes: a body that comes slowly. */
  restAfterMs?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The request target as it came, its query as sent: what a proxy's error page quotes. */
  target: string;
  headers: IncomingHttpHeaders;
  /** The request body as UTF-8 text; empty when none was sent. */
  body: string;
}

/** A loopback HTTP server whose answers a test can inspect and perturb. */
export interface Fake {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  origin: string;
  requests: SeenRequest[];
  /** Answers given before the fake's own handler, first in first out: failures to inject. */
  queue: FakeAnswer[];
  /** An answer for the requests it picks (a failure for one kind of request), else undefined. */
  intercept?: ((request: SeenRequest) => FakeAnswer | undefined) | undefined;
  /** Added to every answer of the fake's own handler. */
  delayMs: number;
  /**
   * While set, every answer's body is sent in this coding, asked for or not: RFC 9110 §12.5.3 lets
   * a server pick any coding for a request without Accept-Encoding.
   */
  encoding: "gzip" | "br" | undefined;
  /** While set, every answer waits for it too: a test releases them once it has seen what it waits for. */
  held: Promise<void> | undefined;
  /** The most requests the fake had received and not yet answered at once. */
  mostAtOnce: number;
  /** TCP connections accepted so far. */
  connections: number;
  /** The requests received and not yet answered or given up by their client. */
  readonly answering: number;
  count(path: string): number;
  close(): Promise<void>;
}

/** `port`: where to listen, as a port a test saw refuse connections; by default one the system picks. */
export async function startFake(handle: (request: SeenRequest) => FakeAnswer, port = 0): Promise<Fake> {
  const fake: Fake = {
    origin: "",
    requests: [],
    queue: [],
    delayMs: 0,
    encoding: undefined,
    held: undefined,
    mostAtOnce: 0,
    connections: 0,
    get answering() {
      return answering;
    },
    count: (path) => fake.requests.filter((r) => r.path === path).length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  let answering = 0;
  const server: Server = createServer((req, res) => {
    fake.mostAtOnce = Math.max(fake.mostAtOnce, ++answering);
    res.once("close", () => answering--);
    // The body is read whole before the handler runs, so handlers see it as text.
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => {});
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const seen: SeenRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        target: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      fake.requests.push(seen);
      const injected = fake.queue.shift() ?? fake.intercept?.(seen);
      const answer = injected ?? handle(seen);
      const delay = (answer.delayMs ?? 0) + (injected ? 0 : fake.delayMs);
      const send = () => {
        if (answer.destroy) {
          req.socket.destroy();
          return;
        }
        const encoding = answer.body ? fake.encoding : undefined;
        const body = encoding ? (encoding === "gzip" ? gzipSync : brotliCompressSync)(answer.body ?? "") : answer.body;
        // Dated by the clock the test set, as a server's clock agrees with the world's: Node.js would
        // date it by this machine's, and a Retry-After date counts from it.
        if (!answer.headers?.date) res.setHeader("date", new Date(clock.now()).toUTCString());
        res.writeHead(answer.status, encoding ? { ...answer.headers, "content-encoding": encoding } : answer.headers);
        if (answer.breakAfter !== undefined) {
          res.write(Buffer.from(body ?? "").subarray(0, answer.breakAfter), () => req.socket.destroy());
          return;
        }
        if (answer.stallAfter !== undefined) {
          const whole = Buffer.from(body ?? "");
          res.write(whole.subarray(0, answer.stallAfter));
          if (answer.restAfterMs !== undefined) {
            const rest = setTimeout(() => res.end(whole.subarray(answer.stallAfter)), answer.restAfterMs);
            res.on("close", () => clearTimeout(rest));
          }
          return;
        }
        if (answer.dripMs) {
          res.flushHeaders();
          if (body) res.write(body);
          const drip = setInterval(() => res.write(" "), answer.dripMs);
          res.on("close", () => clearInterval(drip));
          return;
        }
        res.end(body);
      };
      // Without a delay, sent on no timer: a test that holds waiter's timers still is answered all the same.
      const later = () => (delay ? setTimeout(send, delay) : setImmediate(send));
      if (fake.held) void fake.held.then(later);
      else later();
    });
  });
  server.on("connection", () => {
    fake.connections++;
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  fake.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

export function json(status: number, body: string, headers: Record<string, string> = {}): FakeAnswer {
  return { status, body, headers: { "content-type": "application/json", ...headers } };
}

/**
 * A bank's weekdays without a fixing: dates fixed in the year (MM-DD) or of one year only
 * (YYYY-MM-DD), and days counted from Easter Sunday.
 */
export interface Closing {
  fixed: (year: number) => string[];
  fromEaster: (year: number) => number[];
}

/**
 * The ECB's TARGET closing days: New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December;
 * and 31 December 1999 and 2001 (the ECB's press releases of 31 March 1999 and 14 December 2000).
 * In 1999 only 1 January, 25 and 31 December: its eurofxref-hist.csv has fixings of Good Friday
 * (1999-04-02) and Easter Monday (1999-04-05) that year.
 */
export const TARGET: Closing = {
  fixed: (year) => (year === 1999 ? ["01-01", "12-25", "12-31"] : ["01-01", "05-01", "12-25", "12-26", "2001-12-31"]),
  fromEaster: (year) => (year === 1999 ? [] : [-2, 1]),
};

/**
 * The Czech days of rest (zákon 245/2000 Sb.), on which the CNB publishes none; 28 September and
 * 17 November since 2000, Good Friday since 2016; Liberation Day on 9 May until 1991, on 8 May since.
 */
export const CZECH: Closing = {
  fixed: (year) =>
    ["01-01", "05-01", year >= 1992 ? "05-08" : "05-09", "07-05", "07-06", "10-28", "12-24", "12-25", "12-26"].concat(
      year >= 2000 ? ["09-28", "11-17"] : [],
    ),
  fromEaster: (year) => (year >= 2016 ? [-2, 1] : [1]),
};

/** Easter Sundays as church calendars print them: the fakes do not share waiter's computation. */
const EASTER_SUNDAYS = new Map(
  `1991-03-31 1992-04-19 1993-04-11 1994-04-03 1995-04-16 1996-04-07 1997-03-30 1998-04-12
   1999-04-04 2000-04-23 2001-04-15 2002-03-31 2003-04-20 2004-04-11 2005-03-27 2006-04-16
   2007-04-08 2008-03-23 2009-04-12 2010-04-04 2011-04-24 2012-04-08 2013-03-31 2014-04-20
   2015-04-05 2016-03-27 2017-04-16 2018-04-01 2019-04-21 2020-04-12 2021-04-04 2022-04-17
   2023-04-09 2024-03-31 2025-04-20 2026-04-05 2027-03-28 2028-04-16 2029-04-01 2030-04-21
   2031-04-13 2032-03-28 2033-04-17 2034-04-09 2035-03-25 2036-04-13 2037-04-05 2038-04-25
   2039-04-10 2040-04-01`
    .split(/\s+/)
    .map((date) => [Number(date.slice(0, 4)), date]),
);

/** Whether a bank publishes a fixing on `date`: a weekday that is none of its closing days. */
export function isWorkingDay(date: string, closing: Closing): boolean {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  const year = Number(date.slice(0, 4));
  const fixed = closing.fixed(year);
  if (weekday === 0 || weekday === 6 || fixed.includes(date.slice(5)) || fixed.includes(date)) return false;
  const easter = EASTER_SUNDAYS.get(year);
  if (!easter) throw new Error(`test/fakes/http.ts knows no Easter of ${year}: add it to EASTER_SUNDAYS`);
  return !closing.fromEaster(year).some((days) => addDays(easter, days) === date);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date, hour and minute in `zone` at `epoch`, by Intl, independent of waiter's code. */
export function localParts(epoch: number, zone: string): { date: string; hour: number; minute: number; day: number } {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(epoch).map((p) => [p.type, p.value]));
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    day: Number(parts.day),
  };
}

/**
 * The date of the newest fixing a source has published at this moment by the clock: the last
 * working day whose publication time (`hour`:`minute` in `zone`) has passed.
 */
export function lastPublished(closing: Closing, zone: string, hour: number, minute: number): string {
  const local = localParts(clock.now(), zone);
  const due = local.hour * 60 + local.minute >= hour * 60 + minute && isWorkingDay(local.date, closing);
  return due ? local.date : lastWorkingDay(addDays(local.date, -1), closing);
}

/** The last working day on or before `date`. */
export function lastWorkingDay(date: string, closing: Closing): string {
  let day = date;
  while (!isWorkingDay(day, closing)) day = addDays(day, -1);
  return day;
}

export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const epoch = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(epoch) && new Date(epoch).toISOString().slice(0, 10) === value;
}

/** A smooth, deterministic wobble so generated rates differ from day to day. */
export function wobble(date: string, seed: number): number {
  const day = Date.parse(`${date}T00:00:00Z`) / 86_400_000;
  return 1 + 0.03 * Math.sin(day / 40 + seed);
}

/**
 * A loopback port nothing listens on right now, for a server a test starts later. The kernel
 * hands out ports for listen(0) and for every outgoing connection from its ephemeral range
 * (32768–60999 on Linux, 49152 and up elsewhere), so a port freed there can be taken by another
 * worker's connection before the server it was picked for binds it. These come from below that
 * range, from a block of 1,000 for each vitest worker, each tried before it is handed out. Runs of
 * the tests side by side share the blocks: each process starts at its own place in its block, lest
 * both pick the same ports in the same order and one bind what the other picked.
 */
export async function freePort(): Promise<number> {
  const block = 20_000 + (Number(process.env.VITEST_POOL_ID ?? process.pid) % 12) * 1_000;
  for (let tries = 0; tries < 1_000; tries++) {
    const port = block + (nextInBlock++ % 1_000);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port in ${block}–${block + 999}`);
}

let nextInBlock = (process.pid * 379) % 1_000;

/**
 * A loopback port that refuses every connection, for an address where nothing should listen:
 * below 1024, where only root may listen, and no test's, as theirs come from freePort or listen(0).
 * A port from freePort is free only until another worker binds it.
 */
export const REFUSING_PORT = 1;

/**
 * What `start` starts on a port from freePort, started again on another port where something took
 * the first between its pick and the start (EADDRINUSE): another run's server, whose worker picks
 * from the same block. For a port a setting names before the start; a server that can listen on
 * port 0 and say its address should, instead.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await start(await freePort());
    } catch (err) {
      if (tries === 3 || !String((err as Error).message).includes("EADDRINUSE")) throw err;
    }
  }
}

function bindable(port: number): Promise<boolean> {
  const server = createNetServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
