import { expect, test, vi } from "vitest";
import { Log, logWarnings, sayLeftOut, throttled } from "../../src/log.js";
import { clock, setClock } from "../../src/time.js";

test("process warnings (a store's failed retention) are log lines with time and level, not Node's bare ones", async () => {
  const lines: string[] = [];
  const before = process.listeners("warning");
  const restore = logWarnings(new Log("info", (line) => lines.push(line)));
  try {
    expect(process.listeners("warning")).not.toContain(before[0]);
    process.emitWarning("event retention failed: database or disk is full");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([
      expect.stringMatching(
        /^\d{4}-\d\d-\d\dT[\d:.]+Z warning +\[waiter\] event retention failed: database or disk is full\n$/,
      ),
    ]);
  } finally {
    restore();
  }
  expect(process.listeners("warning")).toEqual(before);
});

test("Node's deprecations of what only packages call (url.parse on Node 24) stay out of the log, which the bundle would bring them to; others are said", async () => {
  const lines: string[] = [];
  const restore = logWarnings(new Log("info", (line) => lines.push(line)));
  try {
    // As Node 24 says it when express's parseurl, bundled, meets a request target with a fragment.
    process.emitWarning(
      "`url.parse()` behavior is not standardized and prone to errors that have security implications. Use the WHATWG URL API instead. CVEs are not issued for `url.parse()` vulnerabilities.",
      { type: "DeprecationWarning", code: "DEP0169" },
    );
    process.emitWarning("a deprecation of what waiter itself calls", { type: "DeprecationWarning", code: "DEP9999" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([expect.stringMatching(/warning +\[waiter\] a deprecation of what waiter itself calls\n$/)]);
  } finally {
    restore();
  }
});

test("a run of failures that ends after the clock was set back says it lasted 0 s, not a negative time", () => {
  setClock("2026-11-30T09:00:00Z");
  const lines: string[] = [];
  const failed = throttled((line) => lines.push(line));
  try {
    failed("the store failed");
    setClock(clock.now() - 3_600_000);
    expect(failed.ended("the store answers again")).toBe(true);
    expect(lines.at(-1)).toBe("the store answers again, after 1 failed attempt over 0 s");
  } finally {
    setClock();
  }
});

test("a throttled failure is said again a minute on after the clock was set back, not once the clock has caught up", () => {
  setClock("2026-11-30T09:00:00Z");
  const lines: string[] = [];
  const failed = throttled((line) => lines.push(line));
  try {
    failed("the store failed");
    // NTP sets back a clock that ran an hour ahead.
    setClock(clock.now() - 3_600_000);
    failed("the store failed again");
    expect(lines).toEqual(["the store failed"]);
    setClock(clock.now() + 60_000);
    failed("the store failed a third time");
    expect(lines).toEqual([
      "the store failed",
      "the store failed a third time (and 1 more like it since the last line)",
    ]);
    setClock(clock.now() + 30_000);
    expect(failed.end()).toEqual({ count: 3, first: expect.any(Number) });
  } finally {
    setClock();
  }
});

test("a message of several lines (a stack) is one line of the log: journald takes each line for an entry", () => {
  const lines: string[] = [];
  const log = new Log("info", (line) => lines.push(line), "eshop");
  const crash = new TypeError("the notes' index is gone");
  crash.stack =
    "TypeError: the notes' index is gone\n    at find (file:///app/notes.js:3:9)\r\n    at run (file:///app/server.js:7:1)\n";
  log.error(`notes_find crashed: ${crash.stack}`);
  // A sender's delivery id that tries to start an entry of its own.
  log.info('webhook erp stored 01J: delivery "d\n2026-01-01T00:00:00.000Z error   [waiter] forged"');
  // Blank lines and the spaces around a break go; a long run of spaces is only text.
  log.warning(`  indented\n\n \r\n  then${" ".repeat(200_000)}x \n`);
  expect(lines).toEqual([
    expect.stringMatching(
      /^\S+ error +\[eshop\] notes_find crashed: TypeError: the notes' index is gone \| at find \(file:\/\/\/app\/notes\.js:3:9\) \| at run \(file:\/\/\/app\/server\.js:7:1\)\n$/,
    ),
    expect.stringMatching(
      /^\S+ info +\[eshop\] webhook erp stored 01J: delivery "d \| 2026-01-01T00:00:00\.000Z error {3}\[waiter\] forged"\n$/,
    ),
    expect.stringMatching(/^\S+ warning \[eshop\] {3}indented \| then {200000}x\n$/),
  ]);
});

test("a message's other line breaks and terminal controls cannot start a line or rewrite one either", () => {
  const lines: string[] = [];
  const log = new Log("info", (line) => lines.push(line));
  // A signed sender's delivery id: a line and a paragraph separator, NEL, a form feed, an escape
  // sequence that clears the line and goes back to its start, a direction override, tag characters.
  const forged = "error   [waiter] the store is gone";
  log.info(
    `webhook stripe stored 01J: delivery "evt_1\u2028${forged}\u2029${forged}\u0085${forged}\f${forged}\u001b[2K\r\u001b[1A\u202ex\u{E0041}\tend"`,
  );
  expect(lines).toEqual([
    expect.stringMatching(
      /^\S+ info +\[waiter\] webhook stripe stored 01J: delivery "evt_1 \| error {3}\[waiter\] the store is gone \| error {3}\[waiter\] the store is gone \| error {3}\[waiter\] the store is gone \| error {3}\[waiter\] the store is gone\\u001b\[2K \| \\u001b\[1A\\u202ex\\udb40\\udc41\tend"\n$/,
    ),
  ]);
});

test("a fault whose error says nothing itself (a connection tried at several addresses) tells the client each inner error's message, the operator them all", () => {
  const lines: string[] = [];
  const told: string[] = [];
  const log = new Log("info", (line) => lines.push(line));
  log.attachClient((_level, _name, message) => told.push(message));
  log.setClientLevel("error");
  const refused = new AggregateError([
    new Error("connect ECONNREFUSED ::1:5432"),
    new Error("connect ECONNREFUSED 127.0.0.1:5432"),
  ]);
  log.fault("MCP request failed", refused);
  expect(told).toEqual([
    "MCP request failed: AggregateError: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432",
  ]);
  expect(lines.join("")).toMatch(
    /MCP request failed: AggregateError:? \| at .*\[errors\]: \[ \| Error: connect ECONNREFUSED ::1:5432/,
  );
  // An error with a message of its own is told as it was.
  log.fault("MCP request failed", new TypeError("the index is gone"));
  expect(told.at(-1)).toBe("MCP request failed: TypeError: the index is gone");
});

test("a fault nothing catches is one line that keeps what Node's report showed: the cause that says why and the code", () => {
  const lines: string[] = [];
  const log = new Log("info", (line) => lines.push(line));
  const said = (thrown: unknown) => {
    log.fault("stopping at once on an uncaught exception", thrown);
    return lines.at(-1);
  };
  // Not an Error, as a package may throw.
  expect(said("the index is gone")).toMatch(
    /^\S+Z error +\[waiter\] stopping at once on an uncaught exception: the index is gone\n$/,
  );
  // fetch's "fetch failed" names no cause itself.
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  expect(said(new TypeError("fetch failed", { cause: refused }))).toMatch(
    /^\S+Z error +\[waiter\] stopping at once on an uncaught exception: TypeError: fetch failed \| at .* \[cause\]: Error: connect ECONNREFUSED 127\.0\.0\.1:5432 \| at .*code: 'ECONNREFUSED'.*\n$/,
  );
  expect(said({ status: 503, reason: "the index is gone" })).toMatch(
    /uncaught exception: \{ status: 503, reason: 'the index is gone' \}\n$/,
  );
});

test("lines a throttle left out are said once their minute is over, though no line of the run comes after them", () => {
  vi.useFakeTimers({ now: Date.parse("2026-11-30T09:00:00Z") });
  const lines: string[] = [];
  const refused = throttled((line) => lines.push(line));
  try {
    // A client with a bad token tries four times, and gives up.
    for (let i = 1; i <= 4; i++) {
      refused(`refused ${i}`);
      vi.advanceTimersByTime(10_000);
    }
    expect(lines).toEqual(["refused 1"]);
    vi.advanceTimersByTime(20_000);
    expect(lines).toEqual(["refused 1", "refused 4 (3 more like it since the last line, the last 30 s ago)"]);
    // Said once: the next failure within the minute is left out again, said when that minute is over.
    vi.advanceTimersByTime(120_000);
    refused("refused 5");
    expect(lines).toHaveLength(3);
    expect(lines.at(-1)).toBe("refused 5");
  } finally {
    vi.useRealTimers();
  }
});

test("lines a throttle left out are said as waiter stops, before their minute is over", () => {
  const lines: string[] = [];
  const refused = throttled((line) => lines.push(line));
  const other = throttled((line) => lines.push(line));
  refused("refused 1", "a");
  refused("refused 2", "a");
  other("failed 1");
  sayLeftOut();
  expect(lines).toEqual(["refused 1", "failed 1", "refused 2 (1 more like it since the last line, the last 0 s ago)"]);
  sayLeftOut();
  expect(lines).toHaveLength(3);
});

test("ending every run of a prefix says how many failures they held together, from the first, and ends no other", () => {
  setClock("2026-11-30T09:00:00Z");
  const lines: string[] = [];
  const unconfirmed = throttled((line) => lines.push(line));
  try {
    unconfirmed("gopay: no token", "gopay\nno token");
    setClock(clock.now() + 30_000);
    unconfirmed("gopay: no status", "gopay\nno status");
    unconfirmed("gopay: no status", "gopay\nno status");
    unconfirmed("gopay2: no token", "gopay2\nno token");
    setClock(clock.now() + 10_000);
    expect(unconfirmed.endAll("gopay\n")).toEqual({ count: 3, seconds: 40 });
    expect(unconfirmed.endAll("gopay\n")).toBeUndefined();
    // Ended: the next failure is written at once; another source's run goes on.
    unconfirmed("gopay: no token again", "gopay\nno token");
    unconfirmed("gopay2: no token again", "gopay2\nno token");
    expect(lines).toEqual(["gopay: no token", "gopay: no status", "gopay2: no token", "gopay: no token again"]);
    expect(unconfirmed.endAll()).toEqual({ count: 3, seconds: 10 });
  } finally {
    setClock();
  }
});

test("a line is heard exactly where one is written or told: stderr's level, the client's once it asks, start-up's notices", () => {
  const lines: string[] = [];
  const told: string[] = [];
  const log = new Log("info", (line) => lines.push(line));
  const session = log.forSession().child("currency");
  const says = (said: Log, level: "debug" | "info" | "notice") => {
    const before = lines.length + told.length;
    said[level]("a line");
    return lines.length + told.length > before;
  };
  // Start-up keeps notices for a client to come.
  expect([log.hears("debug"), log.hears("info"), says(log, "debug"), says(log, "info")]).toEqual([
    false,
    true,
    false,
    true,
  ]);
  expect(new Log("error", () => {}).hears("notice")).toBe(true);
  log.started();
  expect(new Log("error", () => {}).child("x").hears("info")).toBe(false);
  expect([session.hears("debug"), says(session, "debug")]).toEqual([false, false]);
  session.attachClient((_level, _logger, message) => told.push(message));
  expect(session.hears("debug")).toBe(false);
  session.setClientLevel("debug");
  expect([session.hears("debug"), says(session, "debug")]).toEqual([true, true]);
  expect(told).toEqual(["a line"]);
});

test("a notice at start-up past the fifty kept for clients to come is heard nowhere, as none is kept or written", () => {
  const log = new Log("error", () => {});
  for (let i = 1; i <= 50; i++) log.notice(`toolset ${i} is off`);
  expect([log.hears("notice"), log.hears("warning"), log.hears("error")]).toEqual([false, false, true]);
  const told: string[] = [];
  log.attachClient((_level, _logger, message) => told.push(message));
  log.setClientLevel("notice");
  expect([told.length, told.at(-1), log.hears("notice")]).toEqual([50, "toolset 50 is off", true]);
});
