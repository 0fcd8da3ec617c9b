import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { clock, setClock } from "../src/time.js";
import { cnbFixing, startCnb } from "./fakes/cnb.js";
import { ecbTable, startFrankfurter } from "./fakes/frankfurter.js";
import { CZECH, type Fake, type FakeAnswer, isWorkingDay, json, type SeenRequest, TARGET } from "./fakes/http.js";
import { startWaiter } from "./memory.js";
import { type Session, startServer, text } from "./stdio.js";

let frankfurter: Fake;
let cnb: Fake;
let server: Session;

const weekday = (date: string) => new Date(date).toLocaleDateString("en-US", { weekday: "long", timeZone: "UTC" });

/** A Monday morning: every date the tests name is in the past, and the latest fixing is Friday's. */
const MONDAY_MORNING = "2026-11-30T08:00:00Z";

/**
 * waiter on the fakes. Its tool timeout leaves room for a first call on busy cores (code and time zone
 * data loaded, connections opened): a test of the deadline starts one with its own.
 */
function startCurrency(env: Record<string, string> = {}): Promise<Session> {
  return startWaiter({
    WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
    WAITER_CNB_URL: `${cnb.origin}/cnbapi`,
    WAITER_TOOL_TIMEOUT: "10",
    ...env,
  });
}

beforeAll(async () => {
  setClock(MONDAY_MORNING);
  [frankfurter, cnb] = await Promise.all([startFrankfurter(), startCnb()]);
  server = await startCurrency();
});

afterAll(async () => {
  setClock();
  await server?.close();
  await Promise.all([frankfurter?.close(), cnb?.close()]);
});

beforeEach(() => {
  setClock(MONDAY_MORNING);
  frankfurter.queue.length = 0;
  frankfurter.intercept = undefined;
  frankfurter.delayMs = 0;
  cnb.queue.length = 0;
  cnb.intercept = undefined;
  cnb.delayMs = 0;
});

/**
 * A fake's intercept that answers `answers`, in turn, to the requests `picked` picks (those for a
 * path, or a test of each), and leaves every other to the fake: a queued answer goes to whichever
 * request comes first, which may be one still on its way from an earlier call.
 */
function answering(picked: string | ((request: SeenRequest) => boolean), ...answers: FakeAnswer[]) {
  const picks = typeof picked === "string" ? (request: SeenRequest) => request.path === picked : picked;
  return (request: SeenRequest) => (picks(request) ? answers.shift() : undefined);
}

/** Picks the CNB's daily fixing of `date`, or without one, its latest. */
const cnbDaily = (date?: string) => (request: SeenRequest) =>
  request.path === "/cnbapi/exrates/daily" && request.query.get("date") === (date ?? null);

describe("weekends and holidays", () => {
  test("a Sunday's ECB rates are Friday's, and the result says so in data and text", async () => {
    const result = await server.call("currency_rates", { date: "2026-08-30", symbols: ["try"] });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      source: "ecb",
      base: "EUR",
      date: "2026-08-28",
      requested_date: "2026-08-30",
      rates: [{ currency: "TRY", rate: 56.1718 }],
    });
    expect(text(result)).toContain("2026-08-28");
    expect(text(result)).toMatch(/No fixing exists for 2026-08-30 \(a Sunday\)/);
  });

  test("a past closing day is named as one of the source's calendar, not one still to come", async () => {
    const result = await server.call("currency_convert", { amount: 10, from: "EUR", to: "USD", date: "2025-12-25" });
    expect(result.structuredContent).toMatchObject({ date: "2025-12-24", requested_date: "2025-12-25" });
    expect(text(result)).toContain(
      "No fixing exists for 2025-12-25 (a Thursday: a TARGET closing day); these are the rates of 2025-12-24",
    );
    expect(text(result)).not.toContain("not published yet");
  });

  test("31 December 2001, a TARGET closing day of that year only, is named as one", async () => {
    const result = await server.call("currency_rates", { date: "2001-12-31", symbols: ["USD"] });
    expect(result.structuredContent).toMatchObject({ date: "2001-12-28", requested_date: "2001-12-31" });
    expect(text(result)).toContain(
      "No fixing exists for 2001-12-31 (a Monday: a TARGET closing day); these are the rates of 2001-12-28",
    );
  });

  test("in 1999, TARGET's first year, the ECB fixed on Good Friday and Easter Monday: neither is a closing day", async () => {
    const monday = await server.call("currency_rates", { date: "1999-04-05", symbols: ["USD"] });
    expect(monday.structuredContent).toMatchObject({ date: "1999-04-05" });
    expect(text(monday)).not.toContain("No fixing exists");
    const history = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "1999-04-02",
      end: "1999-04-06",
    });
    expect(history.structuredContent).toMatchObject({ start: "1999-04-02", end: "1999-04-06" });
    expect(text(history)).toMatch(/^ECB rates against EUR, 3 fixings from 1999-04-02 to 1999-04-06:\n/);
    expect(text(history)).not.toContain("closing day");
    // The Saturday's standing fixing is the Friday's own, not the Thursday's.
    const thursday = await server.call("currency_rates", { date: "1999-04-03", symbols: ["USD"] });
    expect(thursday.structuredContent).toMatchObject({ date: "1999-04-02", requested_date: "1999-04-03" });
    expect(text(thursday)).toContain("No fixing exists for 1999-04-03 (a Saturday); these are the rates of 1999-04-02");
  });

  test("a date begun in UTC+14 but not yet in Frankfurt is said to be ahead, not past", async () => {
    setClock("2026-11-30T10:30:00Z"); // Monday 11:30 in Frankfurt, Tuesday 00:30 in UTC+14
    const rates = await server.call("currency_convert", { amount: 100, from: "EUR", to: "USD", date: "2026-12-01" });
    expect(rates.structuredContent).toMatchObject({ date: "2026-11-27", requested_date: "2026-12-01" });
    expect(text(rates)).toContain(
      "2026-12-01 has not begun yet in Frankfurt (the European Central Bank publishes around 16:00 Frankfurt time on working days); these are the rates of 2026-11-27, the latest available.",
    );
    const history = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "2026-12-01",
      end: "2026-12-01",
      source: "cnb",
    });
    expect(text(history)).toBe(
      "No fixing between 2026-12-01 and 2026-12-01 yet: 2026-12-01 has not begun yet in Prague (the Czech National Bank publishes after 14:30 Prague time on working days).",
    );
  });

  test("a closing day begun further east has no fixing once the one standing for it is out, not one to come", async () => {
    // Its own server: the latest fixings it keeps at these instants would outlast the others' clock.
    const session = await startCurrency();
    const convert = (date: string, source: string) =>
      session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", date, source });
    try {
      // Friday 11:30 in Prague, Saturday in UTC+14: Friday's fixing, which stands for Saturday, is to come.
      setClock("2026-12-04T10:30:00Z");
      const early = await convert("2026-12-05", "cnb");
      expect(early.structuredContent).toMatchObject({ date: "2026-12-03", requested_date: "2026-12-05" });
      expect(text(early)).toContain(
        "\nNo fixing exists for 2026-12-05 (a Saturday), and the fixing of 2026-12-04 is not published yet (the Czech National Bank publishes after 14:30 Prague time on working days); these are the rates of 2026-12-03, the latest available.",
      );
      // A range of Saturday alone is sent to Friday, saying its fixing is still to come.
      const weekend = { base: "EUR", symbols: ["CZK"], start: "2026-12-05", end: "2026-12-05", source: "cnb" };
      expect(text(await session.call("currency_history", weekend))).toBe(
        "No fixing between 2026-12-05 and 2026-12-05: the Czech National Bank publishes none on weekends and Czech public holidays; start the range on 2026-12-04, the last working day before, whose fixing stands for these days, once it is out: the fixing of 2026-12-04 is not published yet (the Czech National Bank publishes after 14:30 Prague time on working days).",
      );
      // Friday 18:00 in Prague: it is out, and Saturday has none, as it will at midnight.
      setClock("2026-12-04T17:00:00Z");
      const late = await convert("2026-12-05", "cnb");
      expect(late.structuredContent).toMatchObject({ date: "2026-12-04", requested_date: "2026-12-05" });
      expect(text(late)).toContain(
        "\nNo fixing exists for 2026-12-05 (a Saturday); these are the rates of 2026-12-04, the last fixing the Czech National Bank published before it.",
      );
      const range = await session.call("currency_history", {
        base: "EUR",
        symbols: ["CZK"],
        start: "2026-12-05",
        end: "2026-12-05",
        source: "cnb",
      });
      expect(text(range)).toBe(
        "No fixing between 2026-12-05 and 2026-12-05: the Czech National Bank publishes none on weekends and Czech public holidays; start the range on 2026-12-04, the last working day before, whose fixing stands for these days.",
      );
      // Christmas Eve, 17:00 in Prague and Frankfurt, Christmas Day in Tokyo: a closing day at both banks.
      setClock("2026-12-24T16:00:00Z");
      const czech = await convert("2026-12-25", "cnb");
      expect(czech.structuredContent).toMatchObject({ date: "2026-12-23" });
      expect(text(czech)).toContain(
        "\nNo fixing exists for 2026-12-25 (a Friday: a Czech public holiday); these are the rates of 2026-12-23,",
      );
      const ecb = await convert("2026-12-25", "ecb");
      expect(ecb.structuredContent).toMatchObject({ date: "2026-12-24" });
      expect(text(ecb)).toContain(
        "\nNo fixing exists for 2026-12-25 (a Friday: a TARGET closing day); these are the rates of 2026-12-24,",
      );
    } finally {
      await session.close();
    }
  });

  test("a weekend's transaction keeps its own date: the fixing before is valid for it, its day is not the one to book", async () => {
    // An invoice of Saturday 1 August 2026 is booked in August at Friday 31 July's rate, not moved into July.
    const { tools } = await server.client.listTools();
    for (const name of ["currency_rates", "currency_convert"]) {
      const description = tools.find((tool) => tool.name === name)?.description;
      expect(description, name).toContain("valid for them; `date` is its day.");
      expect(description, name).not.toMatch(/book|record/);
    }
  });

  test("a CNB Saturday is Friday's fixing", async () => {
    const result = await server.call("currency_rates", { source: "cnb", date: "2026-08-29", symbols: ["EUR"] });
    expect(result.structuredContent).toMatchObject({ base: "CZK", date: "2026-08-28", requested_date: "2026-08-29" });
  });
});

describe("each bank publishes on its own calendar", () => {
  test("a history of a holiday, on the day, says the bank publishes none then, not that it is to come", async () => {
    setClock("2026-10-28T13:31:00Z"); // 14:31 in Prague on a Czech holiday
    const history = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "2026-10-28",
      end: "2026-10-28",
      source: "cnb",
    });
    expect(text(history)).toBe(
      "No fixing between 2026-10-28 and 2026-10-28: the Czech National Bank publishes none on weekends and Czech public holidays; start the range on 2026-10-27, the last working day before, whose fixing stands for these days.",
    );
  });

  test("a history of a working day its source has not taken in yet says so, not that the bank publishes none then", async () => {
    // Tuesday 10:00 in Frankfurt: Frankfurter has not taken in Monday's fixing, and answers with Friday's before it.
    setClock("2026-12-08T09:00:00Z");
    frankfurter.intercept = (request) =>
      request.path.startsWith("/v1/2026-12-0")
        ? {
            status: 200,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ amount: 1, base: "EUR", rates: { "2026-12-04": ecbTable("2026-12-04") } }),
          }
        : undefined;
    try {
      const range = { base: "EUR", symbols: ["USD"], end: "2026-12-07" };
      const none = await server.call("currency_history", { ...range, start: "2026-12-07" });
      expect(text(none)).toBe(
        "No fixing between 2026-12-07 and 2026-12-07: the European Central Bank gave none for 2026-12-07, a working day in its calendar: the source may not have it yet.",
      );
      // A weekend before it has Friday's fixing, not none at all.
      const weekend = await server.call("currency_history", { ...range, start: "2026-12-05" });
      expect(text(weekend)).toBe(
        "No fixing between 2026-12-05 and 2026-12-07: the European Central Bank gave none for 2026-12-07, a working day in its calendar: the source may not have it yet; 2026-12-05 to 2026-12-06 have none of their own, the fixing of 2026-12-04, the last working day before, standing for them.",
      );
      const some = await server.call("currency_history", { ...range, start: "2026-12-04" });
      expect(some.structuredContent).toMatchObject({
        end: "2026-12-04",
        note: "The European Central Bank gave none for 2026-12-07, a working day in its calendar: the source may not have it yet; the range ends with the fixing of 2026-12-04.",
      });
    } finally {
      frankfurter.intercept = undefined;
    }
  });

  test("a CNB history to New Year's Day, begun east of Prague only, asks for no year Prague has not begun", async () => {
    setClock("2026-12-31T12:00:00Z"); // 13:00 in Prague; 02:00 on New Year's Day in UTC+14
    const asked = cnb.requests.length;
    const result = await server.call("currency_history", {
      base: "CZK",
      symbols: ["EUR"],
      start: "2026-12-28",
      end: "2027-01-01",
      source: "cnb",
    });
    expect(cnb.requests.slice(asked).map((r) => r.query.get("year"))).toEqual(["2026"]);
    const days = (result.structuredContent as { days: { date: string }[] }).days.map((d) => d.date);
    expect(days).toEqual(["2026-12-28", "2026-12-29", "2026-12-30"]);
    expect(result.structuredContent).toMatchObject({
      note: expect.stringMatching(/^The fixing of 2026-12-31 is not published yet/),
    });
  });

  test("a history ending on a day whose fixing is still to come says so, not that the day has none", async () => {
    setClock("2026-11-27T13:40:00Z"); // Friday 14:40 in Frankfurt: the ECB publishes at 16:00
    const range = { base: "EUR", symbols: ["CZK"], start: "2026-11-23" };
    const result = await server.call("currency_history", { ...range, end: "2026-11-27" });
    const note =
      "The fixing of 2026-11-27 is not published yet (the European Central Bank publishes around 16:00 Frankfurt time on working days); the range ends with the fixing of 2026-11-26, the latest available.";
    expect(result.structuredContent).toMatchObject({ start: "2026-11-23", end: "2026-11-26", note });
    expect(text(result).split("\n")[1]).toBe(note);
    // Saturday, asked for before Friday's fixing is out, is Friday's to come too.
    const weekend = await server.call("currency_history", { ...range, end: "2026-11-28" });
    expect(weekend.structuredContent).toMatchObject({ end: "2026-11-26", note });
    // Once it is out, a range without it has ended before it, and says nothing.
    const earlier = await server.call("currency_history", { ...range, end: "2026-11-26" });
    expect(earlier.structuredContent).not.toHaveProperty("note");
    setClock("2026-11-27T16:00:00Z");
    const published = await server.call("currency_history", { ...range, end: "2026-11-28" });
    expect(published.structuredContent).toMatchObject({ end: "2026-11-27" });
    expect(published.structuredContent).not.toHaveProperty("note");
  });

  test("a history reaching today's fixing, its time passed and not out, says it is due, as the rates do", async () => {
    // Friday 16:01 in Frankfurt and 16:01 in Prague: both fixings are due, neither source has one.
    setClock("2026-11-27T15:01:00Z");
    const before = "2026-11-26";
    const days = ["2026-11-23", "2026-11-24", "2026-11-25", before];
    frankfurter.intercept = (request) =>
      /^\/v1\/\d{4}-\d{2}-\d{2}\.\./.test(request.path)
        ? json(
            200,
            JSON.stringify({
              amount: 1,
              base: "EUR",
              start_date: days[0],
              end_date: before,
              rates: Object.fromEntries(days.map((day) => [day, ecbTable(day)])),
            }),
          )
        : undefined;
    cnb.intercept = (request) =>
      request.path === "/cnbapi/exrates/daily-year"
        ? json(
            200,
            JSON.stringify({ rates: days.flatMap((day) => cnbFixing(day).map((row) => ({ ...row, validFor: day }))) }),
          )
        : undefined;
    const session = await startCurrency();
    try {
      for (const [source, due] of [
        ["ecb", "the European Central Bank publishes around 16:00 Frankfurt time on working days"],
        ["cnb", "the Czech National Bank publishes after 14:30 Prague time on working days"],
      ]) {
        const range = { base: source === "ecb" ? "EUR" : "CZK", symbols: ["USD"], source };
        const week = await session.call("currency_history", { ...range, start: "2026-11-23", end: "2026-11-27" });
        expect(week.structuredContent, source).toMatchObject({
          end: before,
          note: `The fixing of 2026-11-27 is due by now (${due}) but is not out yet; the range ends with the fixing of ${before}, the latest available.`,
        });
        const today = await session.call("currency_history", { ...range, start: "2026-11-27", end: "2026-11-27" });
        expect(text(today), source).toBe(
          `No fixing between 2026-11-27 and 2026-11-27 yet: the fixing of 2026-11-27 is due by now (${due}) but is not out yet.`,
        );
      }
    } finally {
      await session.close();
      frankfurter.intercept = undefined;
      cnb.intercept = undefined;
    }
  });

  test("a history with no fixing yet names the first one to come, not a later day's", async () => {
    // Its own server: the CNB's year it reads would otherwise be one cached at another instant.
    const session = await startCurrency();
    try {
      setClock("2026-11-30T11:00:00Z"); // Monday 12:00 in Frankfurt and Prague; Tuesday in UTC+14
      for (const [source, due] of [
        ["ecb", "the European Central Bank publishes around 16:00 Frankfurt time on working days"],
        ["cnb", "the Czech National Bank publishes after 14:30 Prague time on working days"],
      ]) {
        const range = { base: "EUR", symbols: ["USD"], start: "2026-11-29", end: "2026-12-01", source };
        expect(text(await session.call("currency_history", range))).toBe(
          `No fixing between 2026-11-29 and 2026-12-01 yet: the fixing of 2026-11-30 is not published yet (${due}); 2026-11-29 has none of its own, the fixing of 2026-11-27, the last working day before, standing for it.`,
        );
      }
      // Its days before the one to come have the fixing before, not one to come: a weekend's is Friday's.
      const weekend = { base: "CZK", symbols: ["EUR"], start: "2026-11-28", end: "2026-11-30", source: "cnb" };
      expect(text(await session.call("currency_history", weekend))).toBe(
        "No fixing between 2026-11-28 and 2026-11-30 yet: the fixing of 2026-11-30 is not published yet (the Czech National Bank publishes after 14:30 Prague time on working days); 2026-11-28 to 2026-11-29 have none of their own, the fixing of 2026-11-27, the last working day before, standing for them.",
      );
    } finally {
      await session.close();
    }
  });

  test("an ECB history of a day begun in Frankfurt but not yet in UTC says its fixing is to come, not that none exists", async () => {
    setClock("2026-11-30T23:30:00Z"); // Tuesday 00:30 in Frankfurt, still Monday in UTC, Frankfurter's today
    const range = { base: "EUR", symbols: ["USD"], end: "2026-12-01" };
    const today = await server.call("currency_history", { ...range, start: "2026-12-01" });
    expect(today.isError).toBe(true);
    expect(text(today)).toBe(
      "No fixing between 2026-12-01 and 2026-12-01 yet: the fixing of 2026-12-01 is not published yet (the European Central Bank publishes around 16:00 Frankfurt time on working days).",
    );
    // A range from the day before is answered up to Monday's fixing, and says the same of Tuesday's.
    const week = await server.call("currency_history", { ...range, start: "2026-11-30" });
    expect(week.structuredContent).toMatchObject({
      start: "2026-11-30",
      end: "2026-11-30",
      note: expect.stringMatching(/^The fixing of 2026-12-01 is not published yet/),
    });
    // A Saturday at 01:30 in Frankfurt (summer time) has none, as at any hour of it.
    setClock("2026-07-03T23:30:00Z");
    const saturday = await server.call("currency_history", { ...range, start: "2026-07-04", end: "2026-07-04" });
    expect(text(saturday)).toBe(
      "No fixing between 2026-07-04 and 2026-07-04: the European Central Bank publishes none on weekends and TARGET closing days; start the range on 2026-07-03, the last working day before, whose fixing stands for these days.",
    );
  });

  test("a history over Easter has neither Good Friday nor Easter Monday, at either bank", async () => {
    // Its own server: the CNB's year it reads would otherwise be cached for other tests.
    const session = await startCurrency();
    try {
      for (const source of ["ecb", "cnb"]) {
        const result = await session.call("currency_history", {
          base: "EUR",
          symbols: ["USD"],
          start: "2026-04-01",
          end: "2026-04-08",
          source,
        });
        const days = (result.structuredContent as { days: { date: string }[] }).days.map((d) => d.date);
        expect(days, source).toEqual(["2026-04-01", "2026-04-02", "2026-04-07", "2026-04-08"]);
      }
    } finally {
      await session.close();
    }
  });

  test("the CNB fake numbers its fixings as the CNB does: 13.11.2023 was #219", async () => {
    const answer = await fetch(`${cnb.origin}/cnbapi/exrates/daily?date=2023-11-13&lang=EN`);
    const { rates } = (await answer.json()) as { rates: { order: number }[] };
    expect(rates[0]?.order).toBe(219);
  });

  test("in 1991 the CNB fixed on 8 May and closed on 9 May, Liberation Day until the law moved it", async () => {
    const eighth = await server.call("currency_rates", { date: "1991-05-08", symbols: ["USD"], source: "cnb" });
    expect(eighth.structuredContent).toEqual(expect.objectContaining({ date: "1991-05-08" }));
    expect(eighth.structuredContent).not.toHaveProperty("note");
    const ninth = await server.call("currency_rates", { date: "1991-05-09", symbols: ["USD"], source: "cnb" });
    expect(ninth.structuredContent).toEqual(
      expect.objectContaining({ date: "1991-05-08", requested_date: "1991-05-09" }),
    );
    expect(text(ninth)).toContain(
      "No fixing exists for 1991-05-09 (a Thursday: a Czech public holiday); these are the rates of 1991-05-08, the last fixing the Czech National Bank published before it.",
    );
  });
});

test("a call without a source gets the configured one, which each tool's source argument names", async () => {
  const czech = await startCurrency({ WAITER_CURRENCY_SOURCE: "cnb" });
  try {
    const { tools } = await czech.client.listTools();
    const currencyTools = tools.filter((tool) => tool.name.startsWith("currency_"));
    expect(currencyTools).toHaveLength(4);
    for (const tool of currencyTools) {
      expect(
        (tool.inputSchema.properties?.source as { description?: string } | undefined)?.description,
        tool.name,
      ).toBe("Default: cnb.");
    }
    const result = await czech.call("currency_convert", { amount: 100, from: "EUR", to: "CZK" });
    expect(result.structuredContent).toMatchObject({ source: "cnb" });
  } finally {
    await czech.close();
  }
});

describe("cross rates", () => {
  test("rates against another base than the source's say they are worked out from its own, not published", async () => {
    const worked =
      "The Czech National Bank publishes rates against CZK only: these against EUR are worked out from them.";
    const rates = await server.call("currency_rates", {
      source: "cnb",
      base: "EUR",
      symbols: ["USD"],
      date: "2026-08-28",
    });
    expect(rates.structuredContent).toMatchObject({ note: worked });
    expect(text(rates).split("\n")[1]).toBe(worked);
    const history = await server.call("currency_history", {
      source: "cnb",
      base: "EUR",
      symbols: ["USD"],
      start: "2026-08-24",
      end: "2026-08-28",
    });
    expect(history.structuredContent).toMatchObject({ note: worked });
    const usd = await server.call("currency_rates", { base: "USD", symbols: ["JPY"], date: "2026-08-28" });
    expect(usd.structuredContent).toMatchObject({
      note: "The European Central Bank publishes rates against EUR only: these against USD are worked out from them.",
    });
    // Against its own base, what it published, and against the euro at the ECB: nothing to say.
    for (const [source, base] of [
      ["cnb", "CZK"],
      ["ecb", "EUR"],
    ]) {
      const own = await server.call("currency_rates", { source, base, symbols: ["USD"], date: "2026-08-28" });
      expect(own.structuredContent, source).not.toHaveProperty("note");
    }
  });

  test("CNB per-100 rows: 1000 JPY at 15.193 per 100 is 151.93 CZK", async () => {
    const result = await server.call("currency_convert", {
      amount: 1000,
      from: "jpy",
      to: "czk",
      date: "2026-08-28",
      source: "cnb",
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      amount: 1000,
      from: "JPY",
      to: "CZK",
      rate: 0.15193,
      result: 151.93,
      date: "2026-08-28",
      source: "cnb",
    });
    expect(result.structuredContent).not.toHaveProperty("via");
    expect(result.structuredContent).not.toHaveProperty("requested_date");
    expect(text(result)).toBe("1,000 JPY = 151.93 CZK at 0.15193 (CNB fixing of 2026-08-28)");
  });

  test("the CNB's published fixing of 13.11.2023 converts as its text file says", async () => {
    const result = await server.call("currency_convert", {
      amount: 1000,
      from: "JPY",
      to: "CZK",
      date: "2023-11-13",
      source: "cnb",
    });
    expect(result.structuredContent).toMatchObject({ rate: 0.15186, result: 151.86, date: "2023-11-13" });
  });

  test("EUR to USD at the CNB goes through CZK", async () => {
    const result = await server.call("currency_convert", {
      amount: 100,
      from: "EUR",
      to: "USD",
      date: "2026-08-28",
      source: "cnb",
    });
    // EUR 24.365 CZK, USD 20.911 CZK on that day.
    expect(result.structuredContent).toMatchObject({ rate: 1.1651762, result: 116.52, via: "CZK" });
    expect(text(result)).toContain("through CZK");
  });

  test("amounts read as money in the text: the minor unit's decimals always, more where the amount has them", async () => {
    const convert = async (amount: number, from: string, to: string) =>
      text(await server.call("currency_convert", { amount, from, to, date: "2026-08-28", source: "cnb" }));
    expect(await convert(1234.5, "EUR", "CZK")).toMatch(/^1,234\.50 EUR = 30,078\.59 CZK at 24\.365 /);
    expect(await convert(100, "EUR", "CZK")).toMatch(/^100\.00 EUR = 2,436\.50 CZK /);
    expect(await convert(0.125, "EUR", "JPY")).toMatch(/^0\.125 EUR = \d+ JPY /);
    // As given, however many decimals: the text says what structuredContent.amount holds.
    expect(await convert(1e-9, "EUR", "CZK")).toMatch(/^0\.000000001 EUR = 0\.00 CZK /);
    expect(await convert(1234.567890123, "EUR", "CZK")).toMatch(/^1,234\.567890123 EUR = 30,080\.25 CZK /);
  });

  test("a result with more digits than a number holds is given in full in the note, to book", async () => {
    const convert = (amount: number, to: string) =>
      server.call("currency_convert", { amount, from: "EUR", to, date: "2023-04-06" });
    // 999,999,999,999.99 × 376.1 = 376,099,999,999,996.239 HUF, as a number 376,099,999,999,996.25.
    const forint = await convert(999_999_999_999.99, "HUF");
    expect(text(forint).split("\n")[0]).not.toContain("996.25");
    expect(text(forint)).toMatch(/^999,999,999,999\.99 EUR = about 376,099,999,999,996 HUF at 376\.1 /);
    expect((forint.structuredContent as { note: string }).note).toBe(
      "999,999,999,999.99 EUR is 376,099,999,999,996.24 HUF to the minor unit: book this amount, as `result`, a number of at most 17 significant digits, holds 376099999999996.25.",
    );
    // × 16,291 = 16,290,999,999,999,837.09 IDR, as a number 16,290,999,999,999,838.
    const rupiah = await convert(999_999_999_999.99, "IDR");
    expect(text(rupiah)).toContain("\n999,999,999,999.99 EUR is 16,290,999,999,999,837.09 IDR to the minor unit");
    // Up to 2^52 minor units a number holds every amount to the minor unit: no note.
    const koruna = await convert(1e12, "CZK");
    expect(koruna.structuredContent).toMatchObject({ result: 23_409_000_000_000 });
    expect(koruna.structuredContent).not.toHaveProperty("note");
    expect(text(koruna)).toMatch(/^1,000,000,000,000\.00 EUR = 23,409,000,000,000\.00 CZK /);
  });

  test("a result that rounds to 0 in the target's minor unit says so, and what it was before", async () => {
    const yen = await server.call("currency_convert", { amount: 0.001, from: "EUR", to: "JPY", date: "2026-08-28" });
    expect(yen.structuredContent).toMatchObject({ amount: 0.001, result: 0 });
    expect(text(yen)).toMatch(
      /^0\.001 EUR = 0 JPY at [\d.]+ \(ECB fixing of 2026-08-28\)\n0\.001 EUR is 0\.1\d+ JPY at this rate, less than half of 1 JPY, the smallest amount of it, so the result rounds to 0\.$/,
    );
    expect((yen.structuredContent as { note: string }).note).toMatch(/^0\.001 EUR is 0\.1\d+ JPY/);
    // After the date's own note.
    const sunday = await server.call("currency_convert", { amount: 1e-9, from: "EUR", to: "USD", date: "2026-08-30" });
    expect((sunday.structuredContent as { note: string }).note).toMatch(
      /^No fixing exists for 2026-08-30 \(a Sunday\); .* 0\.000000001 EUR is 0\.000000001\d+ USD at this rate, less than half of 0\.01 USD, the smallest amount of it, so the result rounds to 0\.$/,
    );
    // 0.004580852 × 1.0915 = 0.004999999958 USD, just under half a cent: never written as the half it is not.
    const under = await server.call("currency_convert", {
      amount: 0.004580852,
      from: "EUR",
      to: "USD",
      date: "2023-04-06",
    });
    expect(under.structuredContent).toMatchObject({ result: 0 });
    expect(text(under)).toContain("\n0.004580852 EUR is 0.0049999999 USD at this rate, less than half of 0.01 USD");
    const cent = await server.call("currency_convert", { amount: 0.01, from: "EUR", to: "USD", date: "2026-08-28" });
    expect(cent.structuredContent).toMatchObject({ result: 0.01 });
    expect(cent.structuredContent).not.toHaveProperty("note");
  });

  test("an exact half of the minor unit rounds away from zero, as the published decimals make it", async () => {
    const convert = async (amount: number, from: string, to: string, date: string, source: "ecb" | "cnb") =>
      (await server.call("currency_convert", { amount, from, to, date, source })).structuredContent;
    // 5 × 24.365 = 121.825 CZK and 7 × 24.365 = 170.555 CZK, in binary 121.82499999999999 and 170.55499999999998.
    expect(await convert(5, "EUR", "CZK", "2026-08-28", "cnb")).toMatchObject({ result: 121.83 });
    expect(await convert(7, "EUR", "CZK", "2026-08-28", "cnb")).toMatchObject({ result: 170.56 });
    // A per-100 row: 750 ISK at 16.398 CZK per 100 is 122.985 CZK.
    expect(await convert(750, "ISK", "CZK", "2026-01-02", "cnb")).toMatchObject({ result: 122.99 });
    // The ECB's published 23.409 CZK per EUR of 2023-04-06: 5 EUR is 117.045 CZK.
    expect(await convert(5, "EUR", "CZK", "2023-04-06", "ecb")).toMatchObject({ result: 117.05 });
    // Said where a model reads how the result is rounded, as an accountant checks a booking against the half-up rule.
    const { tools } = await server.client.listTools();
    expect(tools.find((tool) => tool.name === "currency_convert")?.description).toContain(
      "rounded half up to the target's minor unit",
    );
  });

  test("a result the rounded `rate` does not give for the amount names the fixing's rates it is worked out from", async () => {
    // 10,000 EUR at 24.59 CZK, and 1.468 CZK per 1,000 IDR: 167,506,811.99 IDR; at 16,750.681, 167,506,810.00.
    const rupiah = await server.call("currency_convert", {
      amount: 10_000,
      from: "EUR",
      to: "IDR",
      date: "2023-11-13",
      source: "cnb",
    });
    expect(rupiah.structuredContent).toMatchObject({ rate: 16750.681, result: 167_506_811.99, via: "CZK" });
    expect(text(rupiah)).toBe(
      "10,000.00 EUR = 167,506,811.99 IDR at 16,750.681 (CNB fixing of 2023-11-13, through CZK)\n" +
        "`rate` is rounded to 8 significant digits, at which 10,000.00 EUR would be 167,506,810.00 IDR; the result is worked out from the fixing's own rates: 1 EUR = 24.59 CZK, 1,000 IDR = 1.468 CZK.",
    );
    // The ECB's 1.0589 USD per EUR, turned round: 1,000,000,000 USD is 944,376,239.49 EUR; at 0.94437624, 944,376,240.00.
    const euros = await server.call("currency_convert", { amount: 1e9, from: "USD", to: "EUR", date: "2023-11-13" });
    expect(euros.structuredContent).toMatchObject({ rate: 0.94437624, result: 944_376_239.49 });
    expect((euros.structuredContent as { note: string }).note).toBe(
      "`rate` is rounded to 8 significant digits, at which 1,000,000,000.00 USD would be 944,376,240.00 EUR; the result is worked out from the fixing's own rates: 1 EUR = 1.0589 USD.",
    );
    // An amount the rounded rate gives as well has no such note.
    const small = await server.call("currency_convert", {
      amount: 1,
      from: "EUR",
      to: "IDR",
      date: "2023-11-13",
      source: "cnb",
    });
    expect(small.structuredContent).not.toHaveProperty("note");
  });

  test("CZK to JPY inverts the per-100 row and rounds to whole yen", async () => {
    const result = await server.call("currency_convert", {
      amount: 151.93,
      from: "CZK",
      to: "JPY",
      date: "2026-08-28",
      source: "cnb",
    });
    expect(result.structuredContent).toMatchObject({ result: 1000, rate: 6.5819785 });
  });

  test("ECB rates against another base are crossed through EUR; a code asked twice is one row", async () => {
    const result = await server.call("currency_rates", {
      base: "USD",
      symbols: ["EUR", "CZK", "eur"],
      date: "2025-01-02",
    });
    const table = ecbTable("2025-01-02");
    expect(result.structuredContent).toMatchObject({
      base: "USD",
      date: "2025-01-02",
      rates: [
        { currency: "EUR", rate: Number((1 / 1.0321).toPrecision(8)), inverse: 1.0321 },
        { currency: "CZK", rate: Number(((table.CZK as number) / 1.0321).toPrecision(8)) },
      ],
    });
    expect((result.structuredContent as { rates: unknown[] }).rates).toHaveLength(2);
  });

  test("a code in any letter case or with white space around it is the code", async () => {
    const padded = await server.call("currency_convert", {
      amount: 100,
      from: " eur",
      to: "CZK\n",
      date: "2026-11-27",
    });
    expect(padded.isError).toBeFalsy();
    expect(padded.structuredContent).toMatchObject({ from: "EUR", to: "CZK", date: "2026-11-27" });
    const rates = await server.call("currency_rates", { base: " usd ", symbols: [" EUR"], date: "2026-11-27" });
    expect(rates.structuredContent).toMatchObject({ base: "USD", rates: [{ currency: "EUR" }] });
  });

  test("a source in any letter case or with white space around it is the source, as its schema still lists it", async () => {
    for (const tool of ["currency_rates", "currency_list"]) {
      const result = await server.call(tool, { source: " CNB" });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ source: "cnb", base: "CZK" });
    }
    const converted = await server.call("currency_convert", {
      amount: 10,
      from: "EUR",
      to: "USD",
      date: "2026-11-27",
      source: "Ecb",
    });
    expect(converted.structuredContent).toMatchObject({ source: "ecb", date: "2026-11-27" });
    const history = await server.call("currency_history", {
      base: "EUR",
      symbols: ["CZK"],
      start: "2026-11-23",
      end: "2026-11-27",
      source: "CNB",
    });
    expect(history.structuredContent).toMatchObject({ source: "cnb", start: "2026-11-23", end: "2026-11-27" });
    const { tools } = await server.client.listTools();
    const rates = tools.find((tool) => tool.name === "currency_rates");
    expect(rates?.inputSchema.properties?.source).toEqual({
      type: "string",
      enum: ["ecb", "cnb"],
      description: "Default: ecb.",
    });
  });

  test("a date written as a person or a shop writes it is refused naming the date to send", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // As Czech and German write a date, and as an order's time stamp has it.
    // And year first, without the zeros or with slashes, as some write it.
    for (const date of [
      "30.8.2026",
      "30. 8. 2026",
      "30.08.2026",
      "2026-08-30T10:15:00",
      "2026-08-30 10:15",
      "2026-8-30",
      "2026/08/30",
      // ISO 8601's basic format, as a bank's export or a file name has it; year first with dots, as Hungarian writes it.
      "20260830",
      "2026.08.30",
      "2026. 08. 30.",
    ]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-08-30",
      );
    }
    // Day and month with slashes, the year last: the one order a number above 12 leaves, day first or month first.
    for (const [date, meant] of [
      ["30/11/2026", "2026-11-30"],
      ["30-11-2026", "2026-11-30"],
      ["11/30/2026", "2026-11-30"],
      ["8/30/2026", "2026-08-30"],
      ["5/5/2026", "2026-05-05"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${meant}`,
      );
    }
    // Both at most 12: either order is a date, so both are named, not one guessed.
    expect(await refused("03/11/2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 03/11/2026 is 2026-11-03 where the day comes first, 2026-03-11 where the month does: send the one meant",
    );
    // No such day either way round: today's date, not a guess.
    for (const date of ["13/13/2026", "13/31/2026"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now",
      );
    }
  });

  test("a date sent as a number, not text, is told the date to send as text", async () => {
    const refused = async (date: number | string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused(20260830)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: send 2026-08-30",
    );
    expect(await refused(3.5)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 3.5 is a number, or a day and month without a year as Czech and German write them: for that, send 2026-05-03, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
    // 30.10, 30 October, arrives as 30.1: no month is read from it, lest it be told January's date.
    for (const [date, written] of [
      [30.1, "30.1"],
      [1.1, "1.1"],
    ] as const) {
      expect(await refused(date), written).toBe(
        `Invalid arguments for currency_convert: date: expected string, received number: ${written} may be ${written}0, its last zero dropped as a number drops it; must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now`,
      );
    }
    // No day 0: nothing to say of its zero.
    expect(await refused(0.1)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now",
    );
    // A Unix time, in seconds or milliseconds, as a payment's API stamps it: its date in Prague, and in UTC where another.
    for (const date of [1772524800, 1772524800000]) {
      expect(await refused(date), String(date)).toBe(
        `Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: ${date} is a Unix time, 2026-03-03T08:00Z: send 2026-03-03, its date in Prague and Frankfurt, where the fixings are dated`,
      );
    }
    // Sent as text, as a date is, it is read as a Unix time too.
    for (const date of ["1772524800", "1772524800000"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a Unix time, 2026-03-03T08:00Z: send 2026-03-03, its date in Prague and Frankfurt, where the fixings are dated`,
      );
    }
    expect(await refused(1772578800)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 1772578800 is a Unix time, 2026-03-03T23:00Z: send 2026-03-04, its date in Prague and Frankfurt, where the fixings are dated, or 2026-03-03, its date in UTC, whichever the transaction is booked on",
    );
    expect(await refused(1798761600)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 1798761600 is a Unix time, 2027-01-01T00:00Z, 2027-01-01 in Prague and Frankfurt, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    // A year, a month as YYYYMM and a date as DDMMYYYY, as a form's field or a spreadsheet's cell holds them.
    for (const date of [2026, "2026"]) {
      expect(await refused(date), String(date)).toBe(
        `Invalid arguments for currency_convert: date: ${typeof date === "number" ? "expected string, received number: " : ""}must be a date as YYYY-MM-DD: 2026 is a year: send one of its days, 2026-01-01 to 2026-11-30`,
      );
    }
    expect(await refused(202603)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 202603 is a month: send one of its days, 2026-03-01 to 2026-03-31",
    );
    // Six digits may be a month as YYYYMM and a date as DDMMYY or as YYMMDD: each reading is named.
    expect(await refused("200312")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 200312 is a month: send one of its days, 2003-12-01 to 2003-12-31; or, where it is a date, 200312 is 2012-03-20 where the day comes first, 2020-03-12 where the year does: send the one meant",
    );
    expect(await refused("260330")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 260330 is 2030-03-26 where the day comes first, 2026-03-30 where the year does: send the one meant; 2030-03-26 must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    // As a US form's field holds it, MMDDYY, the month first: 123125 is 31 December 2025 and no other.
    expect(await refused("123125")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2025-12-31 (123125 with its year read as 2025)",
    );
    expect(await refused("031226")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 031226 is 2026-12-03 where the day comes first, 2026-03-12 where the month does, 2003-12-26 where the year does: send the one meant; 2026-12-03 must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    expect(await refused("01032026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 01032026 is 2026-03-01 where the day comes first, 2026-01-03 where the month does: send the one meant",
    );
    expect(await refused(31032026)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: send 2026-03-31",
    );
    // As a number, its first zero is gone.
    expect(await refused(1032026)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: 1032026 may be 01032026, its first zero dropped as a number drops it; must be a date as YYYY-MM-DD: 01032026 is 2026-03-01 where the day comes first, 2026-01-03 where the month does: send the one meant",
    );
    // Six digits as a number lose their first zero too: 10125 was 010125.
    expect(await refused(10125)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: 10125 may be 010125, its first zero dropped as a number drops it; must be a date as YYYY-MM-DD: 010125 is 2025-01-01 where the day comes first, 2001-01-25 where the year does: send the one meant",
    );
    // Where no reading of six digits is a date, none is said to have lost its zero: 45658 is a spreadsheet's date.
    expect(await refused(45658)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 45658 is a spreadsheet's serial date, 2025-01-01 in Excel's 1900 date system: send 2025-01-01",
    );
    // As text too, as a cell's value is copied; with a leading zero, "030125", it is a date of six digits, as before.
    expect(await refused("45658")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 45658 is a spreadsheet's serial date, 2025-01-01 in Excel's 1900 date system: send 2025-01-01",
    );
    expect(await refused("030125")).toMatch(/: 030125 is 2025-01-03 where the day comes first, /);
    // Its fraction is a time of day; a day after today is refused as any is.
    expect(await refused(46080.75)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 46080.75 is a spreadsheet's serial date, 2026-02-27 in Excel's 1900 date system: send 2026-02-27",
    );
    expect(await refused(46357)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 46357 is a spreadsheet's serial date, 2026-12-01 in Excel's 1900 date system, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    // Below 33240, 1991-01-02, a serial date is before the first rates of either source: said, not told to send.
    const beforeEither =
      "but that is before 1991-01-02, the first fixing of either source (the Czech National Bank's; the European Central Bank's is 1999-01-04), and neither has rates that early; send the date meant";
    expect(await refused(30000)).toBe(
      `Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 30000 is a spreadsheet's serial date, 1982-02-18 in Excel's 1900 date system, ${beforeEither}`,
    );
    expect(await refused("33239")).toBe(
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 33239 is a spreadsheet's serial date, 1991-01-01 in Excel's 1900 date system, ${beforeEither}`,
    );
    // Below 36164, 1999-01-04, only the CNB has rates of it: said at once, not after the ECB refuses the date.
    const cnbOnly = (date: string) =>
      `send ${date} with source "cnb", as the European Central Bank's rates begin on 1999-01-04`;
    expect(await refused("33240")).toBe(
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 33240 is a spreadsheet's serial date, 1991-01-02 in Excel's 1900 date system: ${cnbOnly("1991-01-02")}`,
    );
    expect(await refused(34000)).toBe(
      `Invalid arguments for currency_convert: date: expected string, received number: must be a date as YYYY-MM-DD: 34000 is a spreadsheet's serial date, 1993-01-31 in Excel's 1900 date system: ${cnbOnly("1993-01-31")}`,
    );
    const sent = await server.call("currency_convert", {
      amount: 1,
      from: "USD",
      to: "CZK",
      date: "1993-01-31",
      source: "cnb",
    });
    expect(sent.isError, text(sent)).toBeFalsy();
    expect(await refused("36164")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 36164 is a spreadsheet's serial date, 1999-01-04 in Excel's 1900 date system: send 1999-01-04",
    );
    // 31225 may be 031225 too, as 10125 is 010125: that reading stays.
    expect(await refused(31225)).toMatch(/: 31225 may be 031225, its first zero dropped as a number drops it; /);
    // 42736, 2017-01-01 in a spreadsheet, may be 042736 too: both are named, not only the one after today.
    expect(await refused(42736)).toBe(
      "Invalid arguments for currency_convert: date: expected string, received number: 42736 may be 042736, its first zero dropped as a number drops it; must be a date as YYYY-MM-DD: 042736 is 2036-04-27 with its year read as 2036, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing; or 42736 is a spreadsheet's serial date, 2017-01-01 in Excel's 1900 date system: send 2017-01-01",
    );
    const range = { base: "EUR", symbols: ["CZK"], start: "2026-11-02" };
    expect(text(await server.call("currency_history", { ...range, start: 2025, end: 202510 }))).toBe(
      "Invalid arguments for currency_history: start: expected string, received number: must be a date as YYYY-MM-DD: 2025 is a year: send 2025-01-01, its first day; end: expected string, received number: must be a date as YYYY-MM-DD: 202510 is a month: send 2025-10-31, its last day",
    );
    expect(text(await server.call("currency_history", { ...range, end: 20261231 }))).toBe(
      "Invalid arguments for currency_history: end: expected string, received number: must be a date as YYYY-MM-DD: 20261231 is 2026-12-31, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); an end of 2026-11-30 takes the range to the latest fixing",
    );
  });

  test("a date with a two-digit year is refused naming the date to send and the year it is read as", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // Read as the first year ending so from 1991, when the fixings begin, and said: no century chosen unseen.
    for (const date of ["30.11.26", "30. 11. 26", "30/11/26", "11/30/26"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-11-30 (${date} with its year read as 2026)`,
      );
    }
    expect(await refused("31.12.99")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 1999-12-31 (31.12.99 with its year read as 1999)",
    );
    // 27 is next year, as a due date has it, not 1927, which no source has a fixing of; it has not begun.
    expect(await refused("1.2.27")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 1.2.27 is 2027-02-01 with its year read as 2027, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    expect(await refused("2.1.91")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 1991-01-02 (2.1.91 with its year read as 1991)",
    );
    expect(await refused("03/11/26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 03/11/26 is 2026-11-03 where the day comes first, 2026-03-11 where the month does (its year read as 2026): send the one meant",
    );
    // With dashes, as with slashes, day or month first; and year first too, as Swedish dates have it (26-11-30).
    expect(await refused("31-12-99")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 1999-12-31 (31-12-99 with its year read as 1999)",
    );
    expect(await refused("11-30-26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-11-30 (11-30-26 with its year read as 2026)",
    );
    expect(await refused("91-01-02")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 1991-01-02 (91-01-02 with its year read as 1991)",
    );
    expect(await refused("15-03-26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 15-03-26 is 2026-03-15 where the day comes first, 2015-03-26 where the year does: send the one meant",
    );
    expect(await refused("03-11-05")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 03-11-05 is 2005-11-03 where the day comes first, 2005-03-11 where the month does, 2003-11-05 where the year does: send the one meant",
    );
    // In words too, as English, Czech and German write a date short.
    for (const date of ["3 March 26", "3 Mar '26", "March 3, 26", "3. března 26", "3. März 26"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03 (${date} with its year read as 2026)`,
      );
    }
    expect(await refused("3 December 26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 3 December 26 is 2026-12-03 with its year read as 2026, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    // No such day: the month's last, as of a date written YYYY-MM-DD.
    expect(await refused("29.2.25")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 29.2.25 is not a calendar date: 2025-02 ends on 2025-02-28",
    );
  });

  test("a date the refusal reads after today is not told to be sent: it is refused as such", async () => {
    const refused = async (tool: string, args: Record<string, unknown>) => text(await server.call(tool, args));
    const latest = "must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date)";
    const convert = { amount: 1, from: "EUR", to: "CZK" };
    expect(await refused("currency_convert", { ...convert, date: "1.2.2027" })).toBe(
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 1.2.2027 is 2027-02-01, but ${latest}; leave date out for the latest fixing`,
    );
    expect(await refused("currency_convert", { ...convert, date: "2026-12-01T10:00:00Z" })).toBe(
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-12-01T10:00:00Z is 2026-12-01, but ${latest}; leave date out for the latest fixing`,
    );
    // Of two readings, one to come: either may be meant, and the later one is named as refused.
    expect(await refused("currency_convert", { ...convert, date: "12/03/2026" })).toBe(
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 12/03/2026 is 2026-03-12 where the day comes first, 2026-12-03 where the month does: send the one meant; 2026-12-03 ${latest}; leave date out for the latest fixing`,
    );
    expect(await refused("currency_convert", { ...convert, date: "03-11-27" })).toBe(
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 03-11-27 is 2027-11-03 where the day comes first, 2027-03-11 where the month does, 2003-11-27 where the year does: send the one meant; 2027-11-03 and 2027-03-11 ${latest}; leave date out for the latest fixing`,
    );
    // Both to come: neither is to be sent.
    expect(await refused("currency_convert", { ...convert, date: "01/12/2027" })).toBe(
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 01/12/2027 is 2027-12-01 where the day comes first, 2027-01-12 where the month does, but ${latest}; leave date out for the latest fixing`,
    );
    // A month's end mistyped, in a month not over: its last day is to come too.
    expect(await refused("currency_convert", { ...convert, date: "2026-12-32" })).toBe(
      `Invalid arguments for currency_convert: date: is not a calendar date: 2026-12 ends on 2026-12-31, and a date ${latest}; leave date out for the latest fixing`,
    );
    // A range's end is told what takes it to the latest fixing.
    const range = { base: "EUR", symbols: ["CZK"], start: "2026-11-02" };
    expect(await refused("currency_history", { ...range, end: "31.12.2026" })).toBe(
      `Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: 31.12.2026 is 2026-12-31, but ${latest}; an end of 2026-11-30 takes the range to the latest fixing`,
    );
  });

  test("a day and month without a year are told their latest date begun to send", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // Monday 30 November 2026: 3 March's latest date is this year's, 3 December's last year's.
    for (const date of ["3 March", "March 3", "3rd of March", "the 3rd of March", "3. 3.", "3.3.", "03-03", "3/3"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} has no year: send 2026-03-03, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant`,
      );
    }
    expect(await refused("3 Dec")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 3 Dec has no year: send 2025-12-03, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
    // Without its last dot, as a decimal number is written, either may be meant: both are named.
    for (const [date, sent] of [
      ["3.5", "2026-05-03"],
      ["10.5", "2026-05-10"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a number, or a day and month without a year as Czech and German write them: for that, send ${sent}, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant`,
      );
    }
    expect(await refused("29.2.")).toMatch(/: 29\.2\. has no year: send 2024-02-29, its latest date begun/);
    expect(await refused("30/11")).toMatch(/: 30\/11 has no year: send 2026-11-30, its latest/);
    // Either order a date: both, as with a year.
    expect(await refused("03/04")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 03/04 has no year: 2026-04-03 where the day comes first, 2026-03-04 where the month does, the latest dates begun in Prague and Frankfurt, where the fixings are dated: send the one meant, or its date in the year meant",
    );
  });

  test("a month and a two-digit year with a slash, as an invoice's period writes it, is told that month's days too", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused("03/26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 03/26 has no year: send 2026-03-26, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant; or, where it is a month and its year, 03/26 is 2026-03 (its year read as 2026), a month: send one of its days, 2026-03-01 to 2026-03-31",
    );
    expect(await refused("12/27")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 12/27 has no year: send 2025-12-27, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant; or, where it is a month and its year, 12/27 is 2027-12 (its year read as 2027), a month still to come: leave date out for the latest fixing",
    );
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(text(await server.call("currency_history", { ...range, start: "1/26", end: "3/26" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 1/26 has no year: send 2026-01-26, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant; or, where it is a month and its year, 1/26 is 2026-01 (its year read as 2026), a month: send 2026-01-01, its first day; end: must be a date as YYYY-MM-DD: 3/26 has no year: send 2026-03-26, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant; or, where it is a month and its year, 3/26 is 2026-03 (its year read as 2026), a month: send 2026-03-31, its last day",
    );
    // A year far from today's is no likely reading: 03/04 is a day and month.
    expect(await refused("03/04")).not.toContain("a month and its year");
  });

  test("a day and month without a year are told their latest date begun in Prague, not one begun only east of it", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    const latest = (date: string, sent: string) =>
      `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} has no year: send ${sent}, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant`;
    // 16:00 in Prague, already 1 December in UTC+14: a Czech user's 1. 12. is last year's, which has a fixing.
    setClock("2026-11-30T15:00:00Z");
    expect(await refused("1.12.")).toBe(latest("1.12.", "2025-12-01"));
    // 29 February 2028 has begun in UTC+14 only.
    setClock("2028-02-28T12:00:00Z");
    expect(await refused("29.2.")).toBe(latest("29.2.", "2024-02-29"));
    // Just after midnight in Prague, its new day is the one.
    setClock("2026-11-30T23:30:00Z");
    expect(await refused("1 Dec")).toBe(latest("1 Dec", "2026-12-01"));
    setClock("2026-12-31T23:30:00Z");
    expect(await refused("1. 1.")).toBe(latest("1. 1.", "2027-01-01"));
  });

  test("a day and month in words with a year are told the date to send, as without a year they are", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // As said too, with "the" before the day, and "on" before that.
    for (const date of [
      "3 March 2026",
      "March 3, 2026",
      "3rd of March 2026",
      "Mar. 3 2026",
      "the 3rd of March 2026",
      "on the 3rd of March 2026",
      "March the 3rd, 2026",
      "Tuesday the 3rd of March 2026",
    ]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    // As a bank statement or a spreadsheet writes it, with dashes or slashes: 03-Mar-2026, 2026-Mar-03.
    for (const date of ["3-Mar-2026", "03-MAR-2026", "3/Mar/2026", "2026-Mar-03", "2026-Mar-3"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    expect(await refused("03-Mar-26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03 (03-Mar-26 with its year read as 2026)",
    );
    expect(await refused("Mar-2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Mar-2026 is a month: send one of its days, 2026-03-01 to 2026-03-31",
    );
    expect(await refused("3 December 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 3 December 2026 is 2026-12-03, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
  });

  test("a day past its month's end, in words or with its day first, is refused saying the month's last day", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // With slashes too, where the other order has no month of that number (31/4/2026, 4/31/2026).
    for (const date of [
      "31 April 2026",
      "April 31, 2026",
      "31. dubna 2026",
      "31.4.2026",
      "2026/4/31",
      "31/4/2026",
      "4/31/2026",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is not a calendar date: 2026-04 ends on 2026-04-30`,
      );
    }
    expect(await refused("30 February 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 30 February 2026 is not a calendar date: 2026-02 ends on 2026-02-28",
    );
    // A month not over: its last day is refused too, and so said.
    expect(await refused("32 December 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 32 December 2026 is not a calendar date: 2026-12 ends on 2026-12-31, and a date must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    // No month, or no day, is no month's end mistyped.
    for (const date of ["31.13.2026", "0 April 2026"]) {
      expect(await refused(date), date).toMatch(/: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague/);
    }
  });

  test("a date in words as Czech and German write it is told the date to send", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of ["3. března 2026", "3.března 2026", "3. brezna 2026", "3. März 2026", "3. Maerz 2026"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    // As German shortens a month's name: Okt., Dez., Mrz.
    for (const [date, sent] of [
      ["3. Okt. 2026", "2026-10-03"],
      ["3. Okt 2026", "2026-10-03"],
      ["1. Dez. 2025", "2025-12-01"],
      ["3. Mrz. 2026", "2026-03-03"],
      ["3. Mär. 2026", "2026-03-03"],
      ["3. Jän. 2026", "2026-01-03"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${sent}`,
      );
    }
    // Austria's January, with its umlaut written out as März's is (Maerz).
    expect(await refused("3. Jaenner 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-01-03",
    );
    expect(await refused("3. března")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 3. března has no year: send 2026-03-03, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
    expect(await refused("1. prosince 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 1. prosince 2026 is 2026-12-01, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
  });

  test("a month where a date is taken is told its days to send, as a month's rates are asked for", async () => {
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(text(await server.call("currency_history", { ...range, start: "2026-10", end: "2026-10" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 2026-10 is a month: send 2026-10-01, its first day; end: must be a date as YYYY-MM-DD: 2026-10 is a month: send 2026-10-31, its last day",
    );
    expect(text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date: "2026/9" }))).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026/9 is a month: send one of its days, 2026-09-01 to 2026-09-30",
    );
    // This month's last day is to come: the end that takes the range to the latest fixing is named instead.
    setClock("2026-12-07T08:00:00Z");
    expect(text(await server.call("currency_history", { ...range, start: "2026-12-01", end: "2026-12" }))).toBe(
      "Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: 2026-12 is a month not over: an end of 2026-12-07 takes the range to the latest fixing",
    );
    // A month not begun has no day to send: what to send instead is named.
    expect(text(await server.call("currency_history", { ...range, start: "2027-01", end: "2027-01" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 2027-01 is a month still to come: start on 2026-12-07 or earlier; end: must be a date as YYYY-MM-DD: 2027-01 is a month still to come: an end of 2026-12-07 takes the range to the latest fixing",
    );
    expect(text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date: "2027-01" }))).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2027-01 is a month still to come: leave date out for the latest fixing",
    );
    // Its first day begun in UTC+14 alone: the one day to send, not a range from it to itself.
    setClock("2026-12-31T12:00:00Z");
    expect(text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date: "2027-01" }))).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2027-01 is a month: send 2027-01-01, its first day and the only one begun",
    );
  });

  test("a month with its year last, by number or by name in English, Czech or German, is told its days too", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of [
      "11/2026",
      "11.2026",
      "11. 2026",
      "November 2026",
      "Nov. 2026",
      "listopad 2026",
      "Listopadu 2026",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a month: send one of its days, 2026-11-01 to 2026-11-30`,
      );
    }
    for (const date of ["März 2026", "brezen 2026", "March 2026"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a month: send one of its days, 2026-03-01 to 2026-03-31`,
      );
    }
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(text(await server.call("currency_history", { ...range, start: "červen 2026", end: "prosinec 2026" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: červen 2026 is a month: send 2026-06-01, its first day; end: must be a date as YYYY-MM-DD: prosinec 2026 is a month still to come: an end of 2026-11-30 takes the range to the latest fixing",
    );
    // As German shortens a month's name, with its dot or without; as Czech says "in March", and English and German too.
    for (const date of [
      "Okt. 2026",
      "Okt 2026",
      "v říjnu 2026",
      "v rijnu 2026",
      "in October 2026",
      "im Oktober 2026",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a month: send one of its days, 2026-10-01 to 2026-10-31`,
      );
    }
    expect(await refused("ve 2026")).toMatch(/: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague/);
    // No month has these names or numbers: the general refusal.
    for (const date of ["13/2026", "Ma 2026", "Monday 2026"]) {
      expect(await refused(date), date).toMatch(/: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague/);
    }
  });

  test("a date led by its weekday is told the date to send where the weekday is its, and why not where it is not", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // 3 March 2026 is a Tuesday.
    for (const date of [
      "Tuesday, 3 March 2026",
      "Tue 3 Mar 2026",
      "Tuesday, March 3, 2026",
      "Di, 3. März 2026",
      "Di., 3. März 2026",
      "Dienstag, 3. März 2026",
      "úterý 3. března 2026",
      "út, 3. 3. 2026",
      "Tue, 2026-03-03",
    ]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    for (const [date, named] of [
      ["Monday, 3 March 2026", "Monday"],
      ["Mo, 3. März 2026", "Mo"],
      ["pondělí 3. 3. 2026", "pondělí"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is 2026-03-03, but that is a Tuesday, not ${named}: send the date meant`,
      );
    }
    // The weekday tells which of two readings is meant: 2026-11-03 is a Tuesday, 2026-03-11 a Wednesday.
    expect(await refused("Tue, 03/11/2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-11-03",
    );
    // Without a year, the weekday tells which: the latest 3 March on a Monday is 2025's.
    expect(await refused("Monday, 3 March")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Monday, 3 March has no year: send 2025-03-03, its latest date on a Monday begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
    expect(await refused("Di., 3. 3.")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Di., 3. 3. has no year: send 2026-03-03, its latest date on a Tuesday begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
    // A weekday of neither reading is said, not one of them offered as the date meant.
    expect(await refused("Mon, 03/11/2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Mon, 03/11/2026 is 2026-11-03 where the day comes first, 2026-03-11 where the month does, but those are a Tuesday and a Wednesday, not Mon: send the date meant",
    );
    // Six digits have three readings, each weekday said in their order.
    expect(await refused("Tue 031226")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Tue 031226 is 2026-12-03 where the day comes first, 2026-03-12 where the month does, 2003-12-26 where the year does, but those are a Thursday, a Thursday and a Friday, not Tue: send the date meant",
    );
    // A Czech or German short name of two letters without its dot, as Czech calendars write it: "so" is Saturday
    // in Czech and Sunday in German, and 1 March 2026 a Sunday.
    for (const [date, sent] of [
      ["so 1. 3. 2026", "2026-03-01"],
      ["ne 1. 3. 2026", "2026-03-01"],
      ["st 4. 3. 2026", "2026-03-04"],
      ["Mo 2. 3. 2026", "2026-03-02"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${sent}`,
      );
    }
    // Czech "do" (until), "po" (after) and "od" (from) before a date are said, and the date read without them.
    expect(await refused("do 3. března 2026")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: do 3. března 2026 begins with "do", Czech for "until" (the day included), and is read without it: send 2026-03-03',
    );
    expect(await refused("po 2. 3. 2026")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: po 2. 3. 2026 begins with "po", Czech for "after" (from the day after on) or, as a calendar writes it, for Monday, and is read without it: send 2026-03-02',
    );
    // Monday only where the date is one: 3 March 2026 is a Tuesday.
    expect(await refused("po 3. 3. 2026")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: po 3. 3. 2026 begins with "po", Czech for "after" (from the day after on), and is read without it: send 2026-03-03',
    );
    // German "Do" (Donnerstag) without its dot is Thursday where the date is one: 5 March 2026 is.
    expect(await refused("Do 5. 3. 2026")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Do 5. 3. 2026 begins with "Do", Czech for "until" (the day included) or, as a calendar writes it, for Thursday, and is read without it: send 2026-03-05',
    );
    expect(
      text(
        await server.call("currency_history", { base: "EUR", symbols: ["CZK"], start: "od 2. 3.", end: "do 3. 3." }),
      ),
    ).toBe(
      'Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: od 2. 3. begins with "od", Czech for "from", and is read without it: 2. 3. has no year: send 2026-03-02, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant; end: must be a date as YYYY-MM-DD: do 3. 3. begins with "do", Czech for "until" (the day included), and is read without it: 3. 3. has no year: send 2026-03-03, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant',
    );
    // English and German words before a date are said as the Czech ones are, the date read without them.
    for (const [date, word, meaning] of [
      ["from 3 March 2026", "from", 'English for "from"'],
      ["until 3 March 2026", "until", 'English for "until" (the day included)'],
      ["after 3 March 2026", "after", 'English for "after" (from the day after on)'],
      ["before 3 March 2026", "before", 'English for "before" (the day not included)'],
      ["ab 3. 3. 2026", "ab", 'German for "from"'],
      ["bis 3. 3. 2026", "bis", 'German for "until" (the day included)'],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} begins with "${word}", ${meaning}, and is read without it: send 2026-03-03`,
      );
    }
    expect(await refused("do zítřka 2")).toMatch(
      /: date: must be a date as YYYY-MM-DD: do zítřka 2 begins with "do", Czech for "until" \(the day included\), and is read without it; today is 2026-11-30 in Prague/,
    );
  });

  test("since, till, by, seit, nach, vor, před or k before a date is said, and the date read without it", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, word, meaning] of [
      ["since 3 March 2026", "since", 'English for "since" (from the day on)'],
      ["till 3 March 2026", "till", 'English for "until" (the day included)'],
      ["by 3 March 2026", "by", 'English for "by" (the day or before it)'],
      ["seit 3. 3. 2026", "seit", 'German for "since" (from the day on)'],
      ["nach 3. 3. 2026", "nach", 'German for "after" (from the day after on)'],
      ["vor 3. 3. 2026", "vor", 'German for "before" (the day not included)'],
      ["před 3. 3. 2026", "před", 'Czech for "before" (the day not included)'],
      ["k 3. 3. 2026", "k", 'Czech for "as of", as the rate of a day is asked for'],
      ["ke 3. 3. 2026", "ke", 'Czech for "as of", as the rate of a day is asked for'],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} begins with "${word}", ${meaning}, and is read without it: send 2026-03-03`,
      );
    }
  });

  test('"to", "up to", "through", "bis zum" or "bis zu" before a history\'s end is said, and the date read without it', async () => {
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb", start: "2026-03-02" };
    for (const [end, word, meaning] of [
      ["to 3 March 2026", "to", 'English for "until" (the day included)'],
      ["up to 3 March 2026", "up to", 'English for "until" (the day included)'],
      ["through 3/3/2026", "through", 'English for "until" (the day included)'],
      ["thru 2026-03-03", "thru", 'English for "until" (the day included)'],
      ["bis zum 3. März 2026", "bis zum", 'German for "until" (the day included)'],
      ["bis zu 3. 3. 2026", "bis zu", 'German for "until" (the day included)'],
    ] as const) {
      expect(text(await server.call("currency_history", { ...range, end })), end).toBe(
        `Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: ${end} begins with "${word}", ${meaning}, and is read without it: send 2026-03-03`,
      );
    }
  });

  test('"up to and including", "bis einschließlich" or "do … včetně" around a history\'s end is read as an end included', async () => {
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb", start: "2026-03-02" };
    const until = (language: string) => `${language} for "until" (the day included)`;
    for (const [end, words] of [
      [
        "up to and including 5 March 2026",
        `begins with "up to and including", ${until("English")}, and is read without it`,
      ],
      [
        "bis einschließlich 5. März 2026",
        `begins with "bis einschließlich", ${until("German")}, and is read without it`,
      ],
      [
        "bis einschliesslich 5. 3. 2026",
        `begins with "bis einschliesslich", ${until("German")}, and is read without it`,
      ],
      ["do 5. 3. 2026 včetně", `is "do" and "včetně" around a date, ${until("Czech")}, and is read without them`],
      ["do 5. 3. 2026 vcetne", `is "do" and "vcetne" around a date, ${until("Czech")}, and is read without them`],
    ] as const) {
      expect(text(await server.call("currency_history", { ...range, end })), end).toBe(
        `Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: ${end} ${words}: send 2026-03-05`,
      );
    }
  });

  test('"od … včetně" around a history\'s start is read as a start included', async () => {
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb", end: "2026-03-05" };
    expect(text(await server.call("currency_history", { ...range, start: "od 2. 3. 2026 včetně" }))).toBe(
      'Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: od 2. 3. 2026 včetně is "od" and "včetně" around a date, Czech for "from" (the day included), and is read without them: send 2026-03-02',
    );
  });

  test('"ab dem", "seit dem", "nach dem" or "vor dem" before a history\'s start is said, and the date read without it', async () => {
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb", end: "2026-03-05" };
    for (const [start, word, meaning] of [
      ["ab dem 2. März 2026", "ab dem", 'German for "from"'],
      ["seit dem 2. 3. 2026", "seit dem", 'German for "since" (from the day on)'],
      ["nach dem 2. März 2026", "nach dem", 'German for "after" (from the day after on)'],
      ["vor dem 2. März 2026", "vor dem", 'German for "before" (the day not included)'],
    ] as const) {
      expect(text(await server.call("currency_history", { ...range, start })), start).toBe(
        `Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: ${start} begins with "${word}", ${meaning}, and is read without it: send 2026-03-02`,
      );
    }
  });

  test("a range sent as one date that ends after today is told its later days have no rates yet", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of ["2026-11-20/2026-12-05", "20. 11. – 5. 12. 2026", "20 November to 5 December 2026"]) {
      expect(await refused(date), date).toMatch(
        /: date: must be a date as YYYY-MM-DD: .* is a range of days, 2026-11-20 to 2026-12-05, but the rates of its days after 2026-11-30, today in UTC\+14 \(the first time zone to reach a date\), are not published yet: send one day of it up to 2026-11-30, or ask currency_history for every fixing in it, from 2026-11-20 to 2026-11-30$/,
      );
    }
    // An interval of time stamps is named as sent, its last end's time too.
    expect(await refused("2026-11-20T10:00Z/2026-12-05T10:00Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-11-20T10:00Z/2026-12-05T10:00Z is a range of days, 2026-11-20 to 2026-12-05, but the rates of its days after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet: send one day of it up to 2026-11-30, or ask currency_history for every fixing in it, from 2026-11-20 to 2026-11-30",
    );
    // Stamped on other days in Prague (23:30 UTC), its ends are named by both dates, not its first reading's alone.
    expect(await refused("2026-11-20T23:30Z/2026-11-30T23:30Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-11-20T23:30Z/2026-11-30T23:30Z is a range of days, 2026-11-20 to 2026-11-30 by its time stamps' own dates, or 2026-11-21 to 2026-12-01 by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on, but the rates of its days after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet: send one day of it up to 2026-11-30, or ask currency_history for every fixing in it, from 2026-11-20 (or 2026-11-21, by their dates in Prague and Frankfurt) to 2026-11-30",
    );
    expect(await refused("2026-11-20T23:30Z/2026-12-05T23:30Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-11-20T23:30Z/2026-12-05T23:30Z is a range of days, 2026-11-20 to 2026-12-05 by its time stamps' own dates, or 2026-11-21 to 2026-12-06 by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on, but the rates of its days after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet: send one day of it up to 2026-11-30, or ask currency_history for every fixing in it, from 2026-11-20 (or 2026-11-21, by their dates in Prague and Frankfurt) to 2026-11-30",
    );
    // Stamped in UTC+14, only its dates in Prague have begun: its start is said to be by them.
    expect(await refused("2026-12-01T00:30+14:00/2026-12-05T00:30+14:00")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-12-01T00:30+14:00/2026-12-05T00:30+…(45 characters) is a range of days, 2026-12-01 to 2026-12-05 by its time stamps' own dates, or 2026-11-30 to 2026-12-04 by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on, but the rates of its days after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet: send one day of it up to 2026-11-30, or ask currency_history for every fixing in it, from 2026-11-30, by their dates in Prague and Frankfurt, to 2026-11-30",
    );
    // Within one day, it is that day, of which only the date begun has rates: no range of days, nor a history of one.
    expect(await refused("2026-11-30T23:30Z/2026-11-30T23:45Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-11-30T23:30Z/2026-11-30T23:45Z is within one day: send 2026-11-30, its time stamps' own date; 2026-12-01, their date in Prague and Frankfurt, where the fixings are dated, is after 2026-11-30, today in UTC+14 (the first time zone to reach a date), and its rates are not published yet",
    );
    expect(await refused("2026-12-01T00:30+14:00/2026-12-01T00:45+14:00")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-12-01T00:30+14:00/2026-12-01T00:45+…(45 characters) is within one day: send 2026-11-30, their date in Prague and Frankfurt, where the fixings are dated; 2026-12-01, its time stamps' own date, is after 2026-11-30, today in UTC+14 (the first time zone to reach a date), and its rates are not published yet",
    );
    expect(await refused("2026-12-01T10:00Z/2026-12-01T12:00Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-12-01T10:00Z/2026-12-01T12:00Z is within one day, 2026-12-01, but its rates, after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet; leave date out for the latest fixing",
    );
    expect(await refused("1.–5. 12. 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 1.–5. 12. 2026 is a range of days, 2026-12-01 to 2026-12-05, but the rates of its days, after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet; leave date out for the latest fixing",
    );
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(
      text(await server.call("currency_history", { ...range, start: "2026-11-20/2026-12-05", end: "2026-11-30" })),
    ).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 2026-11-20/2026-12-05 is a range of days, but the rates of its days after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet: send 2026-11-20 as start and 2026-11-30 as end",
    );
    expect(
      text(
        await server.call("currency_history", {
          ...range,
          start: "2026-11-20T23:30Z/2026-12-05T23:30Z",
          end: "2026-11-30",
        }),
      ),
    ).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 2026-11-20T23:30Z/2026-12-05T23:30Z is a range of days, 2026-11-20 to 2026-12-05 by its time stamps' own dates, or 2026-11-21 to 2026-12-06 by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on, but the rates of its days after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet: send 2026-11-20 (or 2026-11-21, by their dates in Prague and Frankfurt) as start and 2026-11-30 as end",
    );
    expect(text(await server.call("currency_history", { ...range, start: "2026-11-20", end: "1.–5. 12. 2026" }))).toBe(
      "Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: 1.–5. 12. 2026 is a range of days, but the rates of its days, after 2026-11-30, today in UTC+14 (the first time zone to reach a date), are not published yet; an end of 2026-11-30 takes the range to the latest fixing",
    );
  });

  test('"by end of March", "Ende März 2026" or "do konce března" is read as the month\'s last day', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, sent] of [
      ["end of March 2026", "2026-03-31"],
      ["the end of March 2026", "2026-03-31"],
      ["Ende Februar 2024", "2024-02-29"],
      ["konec března 2026", "2026-03-31"],
      // "At the end of March", as Czech says when a payment is due.
      ["koncem března 2026", "2026-03-31"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${sent}`,
      );
    }
    expect(await refused("do konce února 2026")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: do konce února 2026 begins with "do", Czech for "until" (the day included), and is read without it: send 2026-02-28',
    );
    for (const [date, sent] of [
      ["by end of March", "2026-03-31"],
      ["end of February", "2026-02-28"],
      ["Ende Dezember", "2025-12-31"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} has no year: send ${sent}, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant`,
      );
    }
    expect(await refused("end of December 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: end of December 2026 is 2026-12-31, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
  });

  test('"end of Q1 2026", "Ende Q4" or "konec 2Q 2026" is read as the quarter\'s last day, as a month\'s end is', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, sent] of [
      ["end of Q1 2026", "2026-03-31"],
      ["the end of Q2 2026", "2026-06-30"],
      ["konec 2Q 2026", "2026-06-30"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${sent}`,
      );
    }
    expect(await refused("end of Q1")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: end of Q1 has no year: send 2026-03-31, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
  });

  test('"end of H1 2026", "Ende H2 2025" or "konec 1H 2026" is read as the half-year\'s last day, as a quarter\'s end is', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, sent] of [
      ["end of H1 2026", "2026-06-30"],
      ["the end of H2 2025", "2025-12-31"],
      ["Ende H2 2025", "2025-12-31"],
      ["konec 1H 2026", "2026-06-30"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${sent}`,
      );
    }
    expect(await refused("end of H1")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: end of H1 has no year: send 2026-06-30, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
    // Monday 2026-11-30 is in the second half: its end is this year's, whose rates are not out yet.
    expect(await refused("end of H2")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: end of H2 has no year: this year's, 2026-12-31, must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing; or, where last year's is meant, send 2025-12-31",
    );
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(
      text(await server.call("currency_history", { ...range, start: "second half of 2025", end: "end of H1 2026" })),
    ).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: second half of 2025 is a half-year: send 2025-07-01, its first day; end: must be a date as YYYY-MM-DD: send 2026-06-30",
    );
  });

  test('"end of Q4" or "end of December" said in it, without a year, is this year\'s, whose rates are not out yet', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // Monday 2026-11-30 is in the fourth quarter: its end is 2026-12-31, not the last one over.
    for (const date of ["end of Q4", "Ende Q4", "konec 4Q"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} has no year: this year's, 2026-12-31, must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing; or, where last year's is meant, send 2025-12-31`,
      );
    }
    // December is still to come: its last end is last year's, as before.
    expect(await refused("end of December")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: end of December has no year: send 2025-12-31, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant",
    );
    setClock("2026-12-05T08:00:00Z");
    expect(await refused("end of December")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: end of December has no year: this year's, 2026-12-31, must not be after 2026-12-05, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing; or, where last year's is meant, send 2025-12-31",
    );
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(text(await server.call("currency_history", { ...range, start: "2026-10-01", end: "end of Q4" }))).toBe(
      "Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: end of Q4 has no year: this year's, 2026-12-31, must not be after 2026-12-05, today in UTC+14 (the first time zone to reach a date); an end of 2026-12-05 takes the range to the latest fixing; or, where last year's is meant, send 2025-12-31",
    );
  });

  test('"vor 3 Tagen", "před 3 dny" or "3 days ago" is told the date it counts back to, not read as "before"', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, language, said, sent] of [
      ["vor 3 Tagen", "German", "3 days ago", "2026-11-27"],
      ["před 3 dny", "Czech", "3 days ago", "2026-11-27"],
      ["pred 1 dnem", "Czech", "1 day ago", "2026-11-29"],
      ["vor 2 Wochen", "German", "2 weeks ago", "2026-11-16"],
      ["před 2 týdny", "Czech", "2 weeks ago", "2026-11-16"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date}, ${language} for "${said}", counts back from today: send ${sent}, counted from 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, or the date meant where it counts from another day`,
      );
    }
    expect(await refused("3 days ago")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 3 days ago counts back from today: send 2026-11-27, counted from 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, or the date meant where it counts from another day",
    );
  });

  test('"před třemi dny", "vor drei Tagen" or "a week ago", counted in words, is told the date it counts back to', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, language, said, sent] of [
      ["před třemi dny", "Czech", "3 days ago", "2026-11-27"],
      ["pred dvema tydny", "Czech", "2 weeks ago", "2026-11-16"],
      ["před týdnem", "Czech", "1 week ago", "2026-11-23"],
      ["vor drei Tagen", "German", "3 days ago", "2026-11-27"],
      ["vor einer Woche", "German", "1 week ago", "2026-11-23"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date}, ${language} for "${said}", counts back from today: send ${sent}, counted from 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, or the date meant where it counts from another day`,
      );
    }
    for (const [date, sent] of [
      ["three days ago", "2026-11-27"],
      ["a week ago", "2026-11-23"],
      ["Two Weeks Ago", "2026-11-16"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} counts back from today: send ${sent}, counted from 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, or the date meant where it counts from another day`,
      );
    }
    // "před dny", days ago, and "před týdny", weeks ago, count no number of them: no date is named.
    for (const date of ["před dny", "před týdny", "pred tydny"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now",
      );
    }
  });

  test('"last Friday", "letzten Freitag" or "minulý pátek" is told the date it names, counted back from today', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // Monday 2026-11-30: the last Friday is the one of the week before, and the last Monday a week ago.
    for (const [date, language, said, sent] of [
      ["last Friday", undefined, "last Friday", "2026-11-27"],
      ["letzten Freitag", "German", "last Friday", "2026-11-27"],
      ["minulý pátek", "Czech", "last Friday", "2026-11-27"],
      ["minulou stredu", "Czech", "last Wednesday", "2026-11-25"],
      // As a field's value, in the nominative too.
      ["minulá středa", "Czech", "last Wednesday", "2026-11-25"],
      ["minula nedele", "Czech", "last Sunday", "2026-11-29"],
      ["letzter Freitag", "German", "last Friday", "2026-11-27"],
      ["last Monday", undefined, "last Monday", "2026-11-23"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date}${language ? `, ${language} for "${said}",` : ""} counts back from today: send ${sent}, the last ${said.slice(5)} before 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, or the date meant`,
      );
    }
    // On Saturday, the last Friday may be yesterday or the one of the week before: both are named.
    setClock("2026-12-05T08:00:00Z");
    expect(await refused("last Friday")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: last Friday counts back from today: send 2026-12-04, the last Friday before 2026-12-05, today in Prague and Frankfurt, where the fixings are dated, or 2026-11-27, the Friday of the week before, or the date meant",
    );
  });

  test('"since last Friday", "seit letztem Freitag" or "od minulého pátku" is told the range from that day to today', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // Monday 2026-11-30: the last Friday is 2026-11-27.
    for (const [date, language, word] of [
      ["since last Friday", undefined, undefined],
      ["from last Friday", undefined, undefined],
      ["seit letztem Freitag", "German", "since"],
      ["ab letztem Freitag", "German", "from"],
      ["seit dem letzten Freitag", "German", "since"],
      ["ab dem letzten Freitag", "German", "from"],
      ["od minulého pátku", "Czech", "since"],
      ["od minuleho patku", "Czech", "since"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date}${language ? `, ${language} for "${word} last Friday",` : ""} is a range of days from 2026-11-27, the last Friday before 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, to today: send 2026-11-27, its first day, or ask currency_history for every fixing in it, from 2026-11-27 to 2026-11-30`,
      );
    }
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(
      text(await server.call("currency_history", { ...range, start: "od minulé středy", end: "2026-11-30" })),
    ).toBe(
      'Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: od minulé středy, Czech for "since last Wednesday", is a range of days from 2026-11-25, the last Wednesday before 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, to today: send 2026-11-25 as start and 2026-11-30 as end',
    );
    // On Saturday, the last Friday may be yesterday or the one of the week before: both are named.
    setClock("2026-12-05T08:00:00Z");
    expect(
      text(await server.call("currency_history", { ...range, start: "since last Friday", end: "2026-12-05" })),
    ).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: since last Friday is a range of days from 2026-12-04, the last Friday before 2026-12-05, today in Prague and Frankfurt, where the fixings are dated, to today (or from 2026-11-27, the Friday of the week before): send 2026-12-04 as start and 2026-12-05 as end",
    );
    // "last Friday" alone, as German and Czech say it after "seit" and "od", is still its date.
    expect(await refused("letztem Freitag")).toContain("send 2026-12-04, the last Friday before 2026-12-05");
  });

  test('"since Friday", "seit Freitag" or "od pátku" is told the range from the last Friday to today', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // Monday 2026-11-30: the last Friday is 2026-11-27.
    for (const [date, language] of [
      ["since Friday", undefined],
      ["seit Freitag", "German"],
      ["od pátku", "Czech"],
      ["od patku", "Czech"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date}${language ? `, ${language} for "since Friday",` : ""} is a range of days from 2026-11-27, the last Friday before 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, to today: send 2026-11-27, its first day, or ask currency_history for every fixing in it, from 2026-11-27 to 2026-11-30`,
      );
    }
    // On Saturday, "Friday" alone is yesterday: the Friday of the week before is not named, as after "last".
    setClock("2026-12-05T08:00:00Z");
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(text(await server.call("currency_history", { ...range, start: "since Friday", end: "2026-12-05" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: since Friday is a range of days from 2026-12-04, the last Friday before 2026-12-05, today in Prague and Frankfurt, where the fixings are dated, to today: send 2026-12-04 as start and 2026-12-05 as end",
    );
    // On a Friday, it is the Friday a week before, and today's alone is said too.
    setClock("2026-12-04T08:00:00Z");
    expect(text(await server.call("currency_history", { ...range, start: "seit Freitag", end: "2026-12-04" }))).toBe(
      'Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: seit Freitag, German for "since Friday", is a range of days from 2026-11-27, the last Friday before 2026-12-04, today in Prague and Frankfurt, where the fixings are dated, to today (today is a Friday too: where it is the one meant, the range is today alone): send 2026-11-27 as start and 2026-12-04 as end',
    );
    // "from Friday" and "ab Freitag" are as often said of a Friday to come: not read as one past.
    expect(await refused("ab Freitag")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD; today is 2026-12-04 in Prague and Frankfurt, where the fixings are dated; it is 2026-12-04T08:00Z now",
    );
  });

  test('"until last Friday", "bis letzten Freitag" or "do minulého pátku" is told the range\'s end, and that its start is needed', async () => {
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    // Monday 2026-11-30: the last Friday is 2026-11-27.
    for (const [end, language] of [
      ["until last Friday", undefined],
      ["till last Friday", undefined],
      ["to last Friday", undefined],
      ["up to last Friday", undefined],
      ["through last Friday", undefined],
      ["up to and including last Friday", undefined],
      ["bis letzten Freitag", "German"],
      ["bis zum letzten Freitag", "German"],
      ["bis einschließlich letzten Freitag", "German"],
      ["do minulého pátku", "Czech"],
      ["do minulého pátku včetně", "Czech"],
      ["do minuleho patku", "Czech"],
    ] as const) {
      expect(text(await server.call("currency_history", { ...range, start: "2026-11-02", end })), end).toBe(
        `Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: ${end}${language ? `, ${language} for "until last Friday",` : ""} is a range of days up to 2026-11-27, the last Friday before 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, and does not say its start: send 2026-11-27 as end, and the start meant as start`,
      );
    }
    // On Saturday, the last Friday may be yesterday or the one of the week before: both are named.
    setClock("2026-12-05T08:00:00Z");
    expect(
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date: "until last Friday" })),
    ).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: until last Friday is a range of days up to 2026-12-04, the last Friday before 2026-12-05, today in Prague and Frankfurt, where the fixings are dated (or 2026-11-27, the Friday of the week before), and does not say its start: send 2026-12-04, its last day, or ask currency_history for every fixing in it, from the start meant to 2026-12-04",
    );
  });

  test('"vor 9999 Wochen", counting back to before the first fixing of either source, is told none has rates then', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused("vor 9999 Wochen")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: vor 9999 Wochen, German for \"9999 weeks ago\", counts back from today to 1835-04-13, counted from 2026-11-30, today in Prague and Frankfurt, where the fixings are dated: that is before 1991-01-02, the first fixing of either source (the Czech National Bank's; the European Central Bank's is 1999-01-04), and neither has rates that early; send the date meant",
    );
    expect(await refused("9999 days ago")).toContain(
      "counts back from today: send 1999-07-16, counted from 2026-11-30, today in Prague and Frankfurt, where the fixings are dated, or the date meant",
    );
  });

  test('a purchase order\'s number after PO is no date after Czech "po"', async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused("PO 4500012345")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now",
    );
  });

  test("a quarter where a date is taken is told its days to send, as a month is", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of [
      "Q3 2026",
      "q3/2026",
      "Q3-26",
      "3Q26",
      "3Q 2026",
      "2026-Q3",
      "2026 Q3",
      "3. čtvrtletí 2026",
      "3. Quartal 2026",
      // As a sentence has it, a month too: "in", German "im", Czech "v".
      "in Q3 2026",
      "im 3. Quartal 2026",
      "v 3. čtvrtletí 2026",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a quarter: send one of its days, 2026-07-01 to 2026-09-30`,
      );
    }
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(text(await server.call("currency_history", { ...range, start: "Q1 2026", end: "Q4 2026" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: Q1 2026 is a quarter: send 2026-01-01, its first day; end: must be a date as YYYY-MM-DD: Q4 2026 is a quarter not over: an end of 2026-11-30 takes the range to the latest fixing",
    );
    expect(await refused("Q4 2026")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Q4 2026 is a quarter: send one of its days, 2026-10-01 to 2026-11-30",
    );
    expect(await refused("Q1 2027")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: Q1 2027 is a quarter still to come: leave date out for the latest fixing",
    );
    expect(await refused("Q5 2026")).toMatch(/: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague/);
  });

  test("a half-year or an ISO week where a date is taken is told its days to send, as a quarter is", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of [
      "H1 2026",
      "2026-H1",
      "1H26",
      "1. pololetí 2026",
      "1. Halbjahr 2026",
      "first half of 2026",
      "erstes Halbjahr 2026",
      "im ersten Halbjahr 2026",
      "im 1. Halbjahr 2026",
      "první pololetí 2026",
      "v prvním pololetí 2026",
      "v 1. pololetí 2026",
      "in H1 2026",
      "in the first half of 2026",
      // As German also says it, "half of the year".
      "erste Jahreshälfte 2026",
      "in der ersten Jahreshälfte 2026",
      "1. Jahreshälfte 2026",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a half-year: send one of its days, 2026-01-01 to 2026-06-30`,
      );
    }
    for (const date of [
      "zweites Halbjahr 2026",
      "zweite Jahreshälfte 2026",
      "druhé pololetí 2026",
      "druhe pololeti 2026",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a half-year: send one of its days, 2026-07-01 to 2026-11-30`,
      );
    }
    // Week 1 of 2026 begins on Monday 29 December 2025, as ISO 8601 counts weeks.
    for (const [date, first, last] of [
      ["2026-W10", "2026-03-02", "2026-03-08"],
      ["2026W10", "2026-03-02", "2026-03-08"],
      ["W10 2026", "2026-03-02", "2026-03-08"],
      // As German calendars number weeks (Kalenderwoche), and a week's number written without its zero.
      ["KW 10 2026", "2026-03-02", "2026-03-08"],
      ["KW10/2026", "2026-03-02", "2026-03-08"],
      ["in KW 10 2026", "2026-03-02", "2026-03-08"],
      ["week 10, 2026", "2026-03-02", "2026-03-08"],
      ["2026-W1", "2025-12-29", "2026-01-04"],
      ["2026-W01", "2025-12-29", "2026-01-04"],
      ["2020-W53", "2020-12-28", "2021-01-03"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a week: send one of its days, ${first} to ${last}`,
      );
    }
    for (const date of ["2026-W10-2", "2026W102"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(text(await server.call("currency_history", { ...range, start: "2026-W10", end: "H2 2026" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 2026-W10 is a week: send 2026-03-02, its first day; end: must be a date as YYYY-MM-DD: H2 2026 is a half-year not over: an end of 2026-11-30 takes the range to the latest fixing",
    );
    // 2025 has 52 weeks: no week 53, no date.
    expect(await refused("2025-W53")).toMatch(/: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague/);
  });

  test('a half-year or quarter without a year is read as the latest begun, as "end of Q4" is', async () => {
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb", start: "2025-01-01" };
    const end = async (end: string) => text(await server.call("currency_history", { ...range, end }));
    const noYear = "has no year: read as 2026's, the latest begun in Prague and Frankfurt, where the fixings are dated";
    // In November, this year's second half is not over: last year's is named too.
    for (const half of ["H2", "zweites Halbjahr", "druhé pololetí", "second half", "im zweiten Halbjahr"]) {
      expect(await end(half), half).toBe(
        `Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: ${half} ${noYear}, it is a half-year not over: an end of 2026-11-30 takes the range to the latest fixing; or, where 2025's is meant, it is a half-year: send 2025-12-31, its last day`,
      );
    }
    expect(await end("Q4")).toBe(
      `Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: Q4 ${noYear}, it is a quarter not over: an end of 2026-11-30 takes the range to the latest fixing; or, where 2025's is meant, it is a quarter: send 2025-12-31, its last day`,
    );
    expect(await end("H1")).toBe(
      `Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: H1 ${noYear}, it is a half-year: send 2026-06-30, its last day`,
    );
    // In March, the second half last begun is last year's.
    setClock("2026-03-10T08:00:00Z");
    expect(await end("druhé pololetí")).toBe(
      "Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: druhé pololetí has no year: read as 2025's, the latest begun in Prague and Frankfurt, where the fixings are dated, it is a half-year: send 2025-12-31, its last day",
    );
    // "1H" and "2H" without a year may be hours: not read as a half-year.
    expect(await end("2H")).toMatch(/: end: must be a date as YYYY-MM-DD; today is 2026-03-10 in Prague/);
  });

  test("a range sent as one date is told its ends, and that a history has every fixing in it", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of [
      "1.–5. 3. 2026",
      "1.-5. 3. 2026",
      "1. 3. – 5. 3. 2026",
      "2026-03-01/2026-03-05",
      "2026-03-01..2026-03-05",
      "1 March to 5 March 2026",
      "1–5 March 2026",
      "March 1–5, 2026",
      // As Czech writes it, "until" between them.
      "1. 3. do 5. 3. 2026",
      // English and German "until" in more words, and American "through".
      "1 March up to 5 March 2026",
      "2026-03-01 thru 2026-03-05",
      "1. 3. bis zum 5. 3. 2026",
      "1. bis zum 5. März 2026",
      // Without spaces, as often typed: the year after the last end's dot is the first's too.
      "1.3.–5.3.2026",
      "01.03.-05.03.2026",
      "1.3. do 5.3.2026",
      // Its ends in either order: the range is the days between them.
      "2026-03-05/2026-03-01",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a range of days, 2026-03-01 to 2026-03-05: send one day of it, or ask currency_history for every fixing in it, from 2026-03-01 to 2026-03-05`,
      );
    }
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(
      text(await server.call("currency_history", { ...range, start: "2026-03-01/2026-03-05", end: "2026-03-05" })),
    ).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 2026-03-01/2026-03-05 is a range of days: send 2026-03-01 as start and 2026-03-05 as end",
    );
    // One day written as a range is that day's start and end.
    for (const start of ["2026-03-03/2026-03-03", "2026-03-03T10:00Z/2026-03-03T12:00Z"]) {
      expect(text(await server.call("currency_history", { ...range, start, end: "2026-03-03" })), start).toBe(
        `Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: ${start} is within one day: send 2026-03-03 as start and as end`,
      );
    }
    // Its last end said to be included, as a range is often written.
    for (const date of [
      "1 March up to and including 5 March 2026",
      "1. 3. bis einschließlich 5. 3. 2026",
      "1. 3. do 5. 3. 2026 včetně",
    ]) {
      expect(text(await server.call("currency_history", { ...range, start: date, end: "2026-03-05" })), date).toBe(
        `Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: ${date} is a range of days: send 2026-03-01 as start and 2026-03-05 as end`,
      );
    }
    // Ends with a year of two digits say the year they are read as, as one date does; written with the last end
    // only, it is the first's too.
    for (const date of [
      "1.–5. 3. 26",
      "1. 3. 26 – 5. 3. 26",
      "1. 3. bis 5. 3. 26",
      "1. 3. – 5. 3. 26",
      "1. 3. do 5. 3. 26",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a range of days, 2026-03-01 to 2026-03-05 (its year read as 2026): send one day of it, or ask currency_history for every fixing in it, from 2026-03-01 to 2026-03-05`,
      );
    }
    expect(text(await server.call("currency_history", { ...range, start: "1.–5. 3. 26", end: "2026-03-05" }))).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 1.–5. 3. 26 is a range of days (its year read as 2026): send 2026-03-01 as start and 2026-03-05 as end",
    );
    // Ends of two years say both.
    expect(await refused("1. 3. 25 – 5. 3. 26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 1. 3. 25 – 5. 3. 26 is a range of days, 2025-03-01 to 2026-03-05 (its years read as 2025 and 2026): send one day of it, or ask currency_history for every fixing in it, from 2025-03-01 to 2026-03-05",
    );
    expect(
      text(await server.call("currency_history", { ...range, start: "2026-03-01", end: "1. 3. do 5. 3. 26" })),
    ).toBe(
      "Invalid arguments for currency_history: end: must be a date as YYYY-MM-DD: 1. 3. do 5. 3. 26 is a range of days (its year read as 2026): send 2026-03-01 as start and 2026-03-05 as end",
    );
    // "from" before it, as Czech writes a range, is said and left out.
    expect(
      text(
        await server.call("currency_history", { ...range, start: "vom 1. bis zum 5. März 2026", end: "2026-03-05" }),
      ),
    ).toBe(
      'Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: vom 1. bis zum 5. März 2026 begins with "vom", German for "from", and is read without it: 1. bis zum 5. März 2026 is a range of days: send 2026-03-01 as start and 2026-03-05 as end',
    );
    expect(await refused("od 1. 3. do 5. 3. 2026")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: od 1. 3. do 5. 3. 2026 begins with "od", Czech for "from", and is read without it: 1. 3. do 5. 3. 2026 is a range of days, 2026-03-01 to 2026-03-05: send one day of it, or ask currency_history for every fixing in it, from 2026-03-01 to 2026-03-05',
    );
    // "včetně" after it is its last end's, not the start's "od": "od" alone is said.
    expect(await refused("od 1. 3. do 5. 3. 2026 včetně")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: od 1. 3. do 5. 3. 2026 včetně begins with "od", Czech for "from", and is read without it: 1. 3. do 5. 3. 2026 včetně is a range of days, 2026-03-01 to 2026-03-05: send one day of it, or ask currency_history for every fixing in it, from 2026-03-01 to 2026-03-05',
    );
    // "from" and German "vom" before one are said and left out too.
    for (const [date, word, meaning, rest] of [
      ["from 1 March to 5 March 2026", "from", 'English for "from"', "1 March to 5 March 2026"],
      ["vom 1. 3. bis 5. 3. 2026", "vom", 'German for "from"', "1. 3. bis 5. 3. 2026"],
      ["von 1. 3. bis 5. 3. 2026", "von", 'German for "from"', "1. 3. bis 5. 3. 2026"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} begins with "${word}", ${meaning}, and is read without it: ${rest} is a range of days, 2026-03-01 to 2026-03-05: send one day of it, or ask currency_history for every fixing in it, from 2026-03-01 to 2026-03-05`,
      );
    }
    // A time after a date is no range's end; nor is a range told by ends not read as dates: without a year.
    for (const date of ["1. 3. 2026 - 10:15", "1.–5. 3."]) {
      expect(await refused(date), date).toMatch(/: date: must be a date as YYYY-MM-DD; today is 2026-11-30/);
    }
  });

  test("a range across a new year, its year written after its last end only, begins in the year before", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of [
      "20. 12. – 5. 1. 2026",
      "20.12.–5.1.2026",
      "20 December to 5 January 2026",
      "Dec 20 – Jan 5, 2026",
      "20. Dezember bis 5. Januar 2026",
      "20. prosince do 5. ledna 2026",
    ]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a range of days, 2025-12-20 to 2026-01-05: send one day of it, or ask currency_history for every fixing in it, from 2025-12-20 to 2026-01-05`,
      );
    }
    expect(await refused("20. 12. – 5. 1. 26")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 20. 12. – 5. 1. 26 is a range of days, 2025-12-20 to 2026-01-05 (its years read as 2025 and 2026): send one day of it, or ask currency_history for every fixing in it, from 2025-12-20 to 2026-01-05",
    );
    // Its first end after today in the last end's year would be refused as not yet published.
    expect(await refused("od 20. 12. do 5. 1. 2026")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: od 20. 12. do 5. 1. 2026 begins with "od", Czech for "from", and is read without it: 20. 12. do 5. 1. 2026 is a range of days, 2025-12-20 to 2026-01-05: send one day of it, or ask currency_history for every fixing in it, from 2025-12-20 to 2026-01-05',
    );
    const range = { base: "EUR", symbols: ["CZK"], source: "cnb" };
    expect(
      text(await server.call("currency_history", { ...range, start: "20. 12. – 5. 1. 2026", end: "2026-01-05" })),
    ).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 20. 12. – 5. 1. 2026 is a range of days: send 2025-12-20 as start and 2026-01-05 as end",
    );
  });

  test("a time stamp in another zone than Prague's, on another day there, is told both dates", async () => {
    setClock("2026-12-01T08:00:00Z"); // after every stamp here: none is of a day still to come
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // 00:30 on 1 September in Prague: a payment stamped in UTC late on the month's last day.
    for (const date of ["2026-08-31T22:30:00Z", "2026-08-31 22:30 UTC"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-08-31, the time stamp's date in UTC, or 2026-09-01, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on",
      );
    }
    expect(await refused("2026-11-30T19:15:00-05:00")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-11-30, the time stamp's date in UTC-05:00, or 2026-12-01, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on",
    );
    // An offset as ISO 8601's basic format writes it is named as the extended one; one of zero is UTC.
    for (const [date, zone] of [
      ["2026-08-31T23:30:00+0100", "UTC+01:00"],
      ["2026-08-31T22:30:00+00:00", "UTC"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-08-31, the time stamp's date in ${zone}, or 2026-09-01, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on`,
      );
    }
    // On the same day in Prague, the date is the stamp's.
    for (const date of ["2026-12-01T00:30:00+01:00", "2026-08-31T21:59:59.000Z"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${date.slice(0, 10)}`,
      );
    }
  });

  test("a range whose ends are time stamps is told its days, by the stamps' dates and by Prague's where they differ", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // 23:30 UTC is 00:30 the next day in Prague.
    for (const date of ["1.3.2026 23:30 UTC – 5.3.2026 23:30 UTC", "2026-03-01T23:30Z/2026-03-05T23:30Z"]) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} is a range of days, 2026-03-01 to 2026-03-05 by its time stamps' own dates, or 2026-03-02 to 2026-03-06 by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on: send one day of it, or ask currency_history for every fixing in it`,
      );
    }
    // An interval of time stamps is no one day: not its first stamp's date alone.
    expect(await refused("2026-03-01T10:00Z/2026-03-05T10:00Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-03-01T10:00Z/2026-03-05T10:00Z is a range of days, 2026-03-01 to 2026-03-05: send one day of it, or ask currency_history for every fixing in it, from 2026-03-01 to 2026-03-05",
    );
    const history = await server.call("currency_history", {
      base: "EUR",
      symbols: ["CZK"],
      start: "1.3.2026 23:30 UTC to 5.3.2026 23:30 UTC",
      end: "2026-03-05",
    });
    expect(text(history)).toBe(
      "Invalid arguments for currency_history: start: must be a date as YYYY-MM-DD: 1.3.2026 23:30 UTC to 5.3.2026 23:30 UTC is a range of days: send 2026-03-01 as start and 2026-03-05 as end by its time stamps' own dates, or 2026-03-02 and 2026-03-06 by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on",
    );
  });

  test("an interval of time stamps within one day is told that day, not a range of days", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused("2026-03-01T10:00Z/2026-03-01T12:00Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-03-01T10:00Z/2026-03-01T12:00Z is within one day: send 2026-03-01",
    );
    expect(await refused("1.3.26 10:00 – 1.3.26 12:00")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 1.3.26 10:00 – 1.3.26 12:00 is within one day (its year read as 2026): send 2026-03-01",
    );
    // 23:30 UTC and 23:45 UTC are both 2 March in Prague.
    expect(await refused("2026-03-01T23:30Z/2026-03-01T23:45Z")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-03-01T23:30Z/2026-03-01T23:45Z is within one day: send 2026-03-01, its time stamps' own date, or 2026-03-02, their date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on",
    );
  });

  test("an interval from a time stamp to a date is told its days, not an unknown zone", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused("2026-03-01T23:30Z/2026-03-05")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-03-01T23:30Z/2026-03-05 is a range of days, 2026-03-01 to 2026-03-05 by its time stamps' own dates, or 2026-03-02 to 2026-03-05 by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on: send one day of it, or ask currency_history for every fixing in it",
    );
    expect(await refused("2026-03-01T10:00Z/2026-03-05")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-03-01T10:00Z/2026-03-05 is a range of days, 2026-03-01 to 2026-03-05: send one day of it, or ask currency_history for every fixing in it, from 2026-03-01 to 2026-03-05",
    );
  });

  test("a time stamp with UTC named after its Z, or in a zone by its name, is told its date in Prague", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, zone] of [
      ["2026-03-01T23:30:00Z (Coordinated Universal Time)", "UTC"],
      ["2026-03-01T23:30Z (UTC)", "UTC"],
      ["2026-03-01T23:30 America/New_York", "America/New_York"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-01, the time stamp's date in ${zone}, or 2026-03-02, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on`,
      );
    }
  });

  test("a time stamp with more after it is not told its first date alone", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of ["2026-03-01T23:30:00Z plus 2 days", "2026-03-01T23:30Z and 2026-03-05"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now",
      );
    }
  });

  test("a time stamp with an offset of hours alone, as PostgreSQL writes one, is told its date in Prague", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused("2026-03-01 23:30:00+00")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-01, the time stamp's date in UTC, or 2026-03-02, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on",
    );
    expect(await refused("2026-03-01 23:30:00.123-05")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-01, the time stamp's date in UTC-05:00, or 2026-03-02, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on",
    );
  });

  test("a time stamp with its zone's name in brackets, as Java and Temporal write one, is read by its offset", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    expect(await refused("2026-03-01T10:00+01:00[Europe/Prague]")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-01",
    );
    expect(await refused("2026-03-01T23:30:00Z[UTC]")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-01, the time stamp's date in UTC, or 2026-03-02, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on",
    );
  });

  test("a text far longer than any date is refused as no date, without reading it", async () => {
    // Read as a date and a time, this text would keep the server busy for many seconds.
    const date = `${"11:11 ".repeat(8_000)}x`;
    expect(text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }))).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now",
    );
  });

  test("a date with a time of day, as an order or an e-mail dates it, is told the date to send", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of [
      "03.03.2026 10:15",
      "3. 3. 2026 10:15:30",
      "3 March 2026 10:15",
      "3 March 2026 at 10:15 am",
      "March 3, 2026, 10:15 PM",
      "Tue, 03 Mar 2026 10:00:00 GMT",
    ]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    // A time after it says 3.5 is no number.
    expect(await refused("3.5 10:00")).toMatch(
      /: date: must be a date as YYYY-MM-DD: 3\.5 10:00 has no year: send 2026-05-03, /,
    );
    // In a zone of its own, late on a day that is the next in Prague: both dates, as of an ISO 8601 time stamp.
    for (const [date, zone] of [
      ["Mon, 31 Aug 2026 22:30:00 GMT", "UTC"],
      ["Mon, 31 Aug 2026 22:30:00 +0000", "UTC"],
      ["31.08.2026 23:30 +0100", "UTC+01:00"],
      // An offset of whole hours, as a person writes it, without its zero or its minutes.
      ["31.08.2026 23:30 +1", "UTC+01:00"],
      ["2026-08-31 18:30 -4", "UTC-04:00"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-08-31, the time stamp's date in ${zone}, or 2026-09-01, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on`,
      );
    }
    // Without a time, a sign and hours after a date are no offset: "+1" may be a day added to it.
    for (const date of ["2026-03-03 +1", "3. 3. 2026 -1", "2026-03-03 +01"]) {
      expect(await refused(date), date).toMatch(/: date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague/);
    }
  });

  test("a date with a time in a zone by its name or offset, or with a dotted time, is told the date to send", async () => {
    setClock("2026-12-01T08:00:00Z"); // after every stamp here: none is of a day still to come
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of [
      "3. 3. 2026 10.15",
      "2026-03-03 CET",
      "3.3.2026 Europe/Prague",
      "3.3.2026 10:15 GMT+2",
      "3.3.2026 10:15 SEČ",
      "3.3.2026 10:15 Europe/Prague",
      // As German and Czech write the hour after a time.
      "3. März 2026, 10:15 Uhr",
      "3. 3. 2026 10:15 hod.",
      "3. 3. 2026 10.15 h",
      // As English writes it too.
      "03/03/2026 10:15 hrs",
      "3 March 2026, 10:15 hours",
      // An hour alone, on the hour.
      "3. 3. 2026 10 Uhr",
      "3. 3. 2026 10 h",
      "March 3, 2026 6 pm",
      "3 March 2026 at 6 p.m.",
      "3.3.2026 6 pm CET",
    ]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    // 00:30 on 1 September in Prague: an American order's evening, its zone written as a name or an offset.
    for (const [date, zone] of [
      ["31.08.2026 18:30 EDT", "UTC-04:00"],
      ["2026-08-31 18:30 GMT-4", "UTC-04:00"],
      ["Aug 31, 2026 6:30 pm America/New_York", "America/New_York"],
      ["Aug 31, 2026 6 pm EDT", "UTC-04:00"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-08-31, the time stamp's date in ${zone}, or 2026-09-01, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on`,
      );
    }
    // A time no clock shows, or a zone not known, leaves the date in Prague unknown: neither is passed over.
    for (const [date, time] of [
      ["3.3.2026 25:30", "25:30"],
      ["31.08.2026 23:75 +01:00", "23:75"],
      ["2026-08-31T25:30:00Z", "25:30:00"],
      ["3 March 2026 13:15 pm", "13:15 pm"],
      ["3 March 2026 13 pm", "13 pm"],
      // Said before a zone's several meanings, whose offset would not make it one.
      ["31.08.2026 25:30 CST", "25:30"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} has ${time} for its time of day, which no clock shows: send the date meant`,
      );
    }
    // 24:00 is the day's end: the date without a zone, and with one, the next day's midnight there.
    expect(await refused("3.3.2026 24:00")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
    );
    expect(await refused("2026-08-31 24:00 UTC")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-08-31, the time stamp's date in UTC, or 2026-09-01, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on",
    );
    // CET written in summer, when Prague and Frankfurt keep CEST, may be their clocks' time: its date then is the one written.
    expect(await refused("03.07.2026 23:30 CET")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-07-03, the time stamp's date in UTC+01:00, or 2026-07-04, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on; CET is UTC+01:00, but Prague and Frankfurt keep summer time (UTC+02:00) then: where the time is on their clocks, its date there is 2026-07-03",
    );
    // A winter's time in CEST, an hour ahead of their clocks, is the day before there on a stamp after 00:00.
    expect(await refused("2026-01-03 00:30 CEST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-01-03, the time stamp's date in UTC+02:00, or 2026-01-02, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on; CEST is UTC+02:00, but Prague and Frankfurt keep standard time (UTC+01:00) then: where the time is on their clocks, its date there is 2026-01-03",
    );
    // In winter CET is their clocks' time: nothing more to say.
    expect(await refused("03.01.2026 23:30 CET")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-01-03",
    );
    // A name several zones go by is not read as one of them: the date in Prague differs.
    expect(await refused("31.08.2026 18:30 CST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 31.08.2026 18:30 CST ends in CST, which names more than one time zone: North American Central Standard Time (UTC-06:00) or China Standard Time (UTC+08:00): send its time with the offset meant (18:30 -06:00) to be told its date in Prague and Frankfurt, where the fixings are dated, or the date meant",
    );
    expect(await refused("3 March 2026 2 am IST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 3 March 2026 2 am IST ends in IST, which names more than one time zone: India Standard Time (UTC+05:30), Israel Standard Time (UTC+02:00) or Irish Standard Time (UTC+01:00): send its time with the offset meant (2 am +05:30) to be told its date in Prague and Frankfurt, where the fixings are dated, or the date meant",
    );
    // Where each zone it may name has the same date in Prague, that date is told.
    for (const date of ["3 March 2026 10 pm IST", "3.3.2026 12:00 CST"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
    expect(await refused("31.08.2026 18:30 AST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 31.08.2026 18:30 AST ends in AST, which names more than one time zone: Atlantic Standard Time (UTC-04:00) or Arabia Standard Time (UTC+03:00): send its time with the offset meant (18:30 -04:00) to be told its date in Prague and Frankfurt, where the fixings are dated, or the date meant",
    );
    expect(await refused("2026-03-03 CST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
    );
    expect(await refused("31.08.2026 18:30 XST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 31.08.2026 18:30 XST ends in XST, which names no time zone known here: send the date meant, or its time with the zone's offset from UTC (10:15 +01:00) to be told its date in Prague and Frankfurt, where the fixings are dated",
    );
  });

  test("BST, British Summer Time and Bangladesh Standard Time, is told its date only where both readings agree", async () => {
    setClock("2026-12-01T08:00:00Z");
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    // 03:00 in Dhaka is 22:00 on 2 March in Prague; in London, 04:00 on the 3rd.
    expect(await refused("3.3.2026 03:00 BST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 3.3.2026 03:00 BST ends in BST, which names more than one time zone: British Summer Time (UTC+01:00) or Bangladesh Standard Time (UTC+06:00): send its time with the offset meant (03:00 +01:00) to be told its date in Prague and Frankfurt, where the fixings are dated, or the date meant",
    );
    expect(await refused("31.08.2026 12:00 BST")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-08-31",
    );
  });

  test("hours after a date more than a day has, 48 h, are told a span of time, not a time of day", async () => {
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const [date, span] of [
      ["3. 3. 2026 48 h", "48 h"],
      ["3 March 2026 72 hours", "72 hours"],
      // A day's hours alone are a span too, or the 24-hour clock named: not 24:00, the day's end.
      ["3. 3. 2026 24 h", "24 h"],
      ["3 March 2026 24 hours", "24 hours"],
    ] as const) {
      expect(await refused(date), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: ${date} ends in ${span}, a span of time, not a time of day: send the date meant`,
      );
    }
    // Czech says "ve" for "v" before some numbers, "ve 14 hod.": a time of day too.
    expect(await refused("3. 3. 2026 ve 14 hod.")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
    );
    // Czech "hod." after a date is its clock's hour, as a deadline writes "do 3. 3. 2026 24 hod.": the day's end.
    expect(await refused("3. 3. 2026 24 hod.")).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
    );
    expect(await refused("do 3. 3. 2026 24 hod.")).toBe(
      'Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: do 3. 3. 2026 24 hod. begins with "do", Czech for "until" (the day included), and is read without it: send 2026-03-03',
    );
    // "Uhr" is o'clock, and "at", "um" or "v" before the hours says a time of day: one no clock shows.
    for (const date of [
      "3. 3. 2026 25 Uhr",
      "3 March 2026 at 30 h",
      "3. 3. 2026 um 26 hours",
      "3. 3. 2026 v 25 hod",
      "3. 3. 2026 ve 25 hod.",
    ]) {
      expect(await refused(date), date).toMatch(
        / has \d+ for its time of day, which no clock shows: send the date meant$/,
      );
    }
  });

  test("a day and month before a year of two digits, a space after the day's dot only, are read as a date", async () => {
    setClock("2026-12-01T08:00:00Z");
    for (const [date, sent] of [
      ["30. 11.26", "2026-11-30"],
      ["3. 3.26", "2026-03-03"],
    ] as const) {
      const refused = await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date });
      expect(text(refused), date).toBe(
        `Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send ${sent} (${date} with its year read as 2026)`,
      );
    }
  });

  test("24:00 in Prague's zone is told its own day, as the end of that day there", async () => {
    setClock("2026-12-01T08:00:00Z");
    const refused = async (date: string) =>
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date }));
    for (const date of ["3.3.2026 24:00 Europe/Prague", "3.3.2026 24:00 CET", "2026-03-03T24:00:00+01:00"]) {
      expect(await refused(date), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-03-03",
      );
    }
  });

  test("a time stamp whose date in Prague has not begun anywhere is not told to send that date", async () => {
    setClock("2026-11-30T08:00:00Z"); // 22:00 in UTC+14: 2026-12-01 has begun nowhere
    const refused = await server.call("currency_convert", {
      amount: 1,
      from: "EUR",
      to: "CZK",
      date: "2026-11-30T23:30:00Z",
    });
    expect(text(refused)).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-11-30, the time stamp's date in UTC; 2026-12-01, its date in Prague and Frankfurt, where the fixings are dated, must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    // Once it has begun in UTC+14, both are offered.
    setClock("2026-11-30T10:30:00Z");
    expect(
      text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date: "2026-11-30T23:30:00Z" })),
    ).toContain("or 2026-12-01, its date in Prague and Frankfurt, where the fixings are dated, whichever");
  });

  test("a time stamp east of Prague whose own date has not begun anywhere is told its Prague date, which has", async () => {
    // 22:00 in UTC+14: 2026-12-01 has begun nowhere; the stamp is 16:00 on 2026-11-30 in Prague.
    setClock("2026-11-30T08:00:00Z");
    const refused = await server.call("currency_convert", {
      amount: 1,
      from: "EUR",
      to: "CZK",
      date: "2026-12-01T05:00+14:00",
    });
    expect(text(refused)).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-11-30, the time stamp's date in Prague and Frankfurt, where the fixings are dated; 2026-12-01, its date in UTC+14:00, must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
    // As an e-mail or a person writes the stamp too.
    for (const date of ["Tue, 01 Dec 2026 05:00:00 +1400", "01.12.2026 05:00 +14:00"]) {
      expect(text(await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date })), date).toBe(
        "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: send 2026-11-30, the time stamp's date in Prague and Frankfurt, where the fixings are dated; 2026-12-01, its date in UTC+14:00, must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
      );
    }
    // Where its Prague date is its own, there is none other to send.
    expect(
      text(
        await server.call("currency_convert", { amount: 1, from: "EUR", to: "CZK", date: "2026-12-01T23:00+01:00" }),
      ),
    ).toBe(
      "Invalid arguments for currency_convert: date: must be a date as YYYY-MM-DD: 2026-12-01T23:00+01:00 is 2026-12-01, but must not be after 2026-11-30, today in UTC+14 (the first time zone to reach a date); leave date out for the latest fixing",
    );
  });

  test("a day in words, asked just after midnight in Prague, is told Prague's date, not UTC's of the day before", async () => {
    // Wednesday 00:30 in Prague and Frankfurt, still Tuesday in UTC: a Czech user's "yesterday" is Tuesday.
    setClock("2026-12-08T23:30:00Z");
    const refused = await server.call("currency_rates", { date: "yesterday", symbols: ["USD"], source: "cnb" });
    expect(text(refused)).toBe(
      "Invalid arguments for currency_rates: date: must be a date as YYYY-MM-DD; today is 2026-12-09 in Prague and Frankfurt, where the fixings are dated; it is 2026-12-08T23:30Z now",
    );
  });

  test("a date with white space around it is the date", async () => {
    const rates = await server.call("currency_rates", { symbols: ["USD"], date: " 2026-03-02 " });
    expect(rates.isError).toBeFalsy();
    expect(rates.structuredContent).toMatchObject({ date: "2026-03-02" });
    expect(rates.structuredContent).not.toHaveProperty("requested_date");
    const history = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "2026-03-02\n",
      end: " 2026-03-03",
    });
    expect(history.structuredContent).toMatchObject({ start: "2026-03-02", end: "2026-03-03" });
  });

  test("the CNB's rates are quoted the Czech way too: 1 EUR = 24.365 CZK", async () => {
    const result = await server.call("currency_rates", { source: "cnb", date: "2026-08-28", symbols: ["EUR"] });
    expect(result.structuredContent).toMatchObject({ rates: [{ currency: "EUR", inverse: 24.365 }] });
    expect(text(result)).toContain("1 EUR = 24.365 CZK");
  });

  test("without symbols, or with none, every published currency comes back, the base left out", async () => {
    const result = await server.call("currency_rates", { date: "2023-04-06" });
    const rates = (result.structuredContent as { rates: { currency: string; rate: number }[] }).rates;
    expect(rates).toHaveLength(30);
    expect(rates.find((r) => r.currency === "USD")?.rate).toBe(1.0915);
    expect(rates.some((r) => r.currency === "EUR")).toBe(false);
    // An empty list, as a form's list left empty, is no list: as eshop_orders_list takes its statuses.
    expect(await server.call("currency_rates", { date: "2023-04-06", symbols: [] })).toEqual(result);
  });
});

describe("history and lists", () => {
  test("a range of exactly 366 days, start and end included, is accepted", async () => {
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "2025-01-01",
      end: "2026-01-01",
    });
    expect(result.isError).toBeFalsy();
    // Both ends are holidays: the fixings run from the first to the last TARGET working day of
    // 2025, which has 261 weekdays and six closing days.
    const days = (result.structuredContent as { days: { date: string }[] }).days.map((d) => d.date);
    expect(days[0]).toBe("2025-01-02");
    expect(days.at(-1)).toBe("2025-12-31");
    expect(days).toHaveLength(255);
  });

  test("the largest history a call takes fits a client's context, and one day more says what to ask for", async () => {
    // Claude Code gives the model structuredContent as JSON, keeps one over 50,000 characters out
    // of its context and refuses one over 25,000 tokens. The longest rates are a weak base's cross
    // rates, of eight significant digits each (1 IDR = 0.000056123456 EUR), over a year of the
    // most fixings (260: its closing days but Good Friday and Easter Monday fall on weekends).
    const strong = ["EUR", "GBP", "CHF", "USD", "AUD", "CAD", "SGD", "NZD", "PLN", "ILS"];
    const start = "2021-11-29";
    const day = (n: number) => new Date(Date.parse(start) + n * 86_400_000).toISOString().slice(0, 10);
    for (let count = 1; count <= strong.length; count++) {
      const symbols = strong.slice(0, count);
      const most = Math.min(366, Math.floor(1000 / count));
      const largest = await server.call("currency_history", { base: "IDR", symbols, start, end: day(most - 1) });
      expect(largest.isError, text(largest)).toBeFalsy();
      const bytes = Buffer.byteLength(JSON.stringify(largest.structuredContent));
      expect(bytes, `${count} currencies of ${most} days`).toBeLessThanOrEqual(40_000);
      const over = await server.call("currency_history", { base: "IDR", symbols, start, end: day(most) });
      const ask = `ask for ${start} to ${day(most - 1)}, then go on from ${day(most)}.`;
      expect(text(over)).toBe(
        most === 366
          ? `The range spans 367 days for ${count} ${count === 1 ? "currency" : "currencies"}; at most 366 days fit in one call: ${ask}`
          : `The range spans ${most + 1} days for ${count} currencies; at most ${most} days of ${count} currencies fit in one call (days times currencies at most 1000): ${ask}`,
      );
    }
  });

  test("a history beginning or ending on a source's closing day says it has no fixing and which stands for it", async () => {
    const noteOf = async (source: string, start: string, end: string) =>
      (await server.call("currency_history", { base: "EUR", symbols: ["CZK"], start, end, source })).structuredContent
        ?.note;
    // 17 November, Struggle for Freedom and Democracy Day, is a Czech public holiday; 1 May a TARGET closing day.
    expect(await noteOf("cnb", "2026-11-10", "2026-11-17")).toContain(
      "No fixing exists for 2026-11-17 (a Tuesday: a Czech public holiday); the fixing of 2026-11-16 stands for it.",
    );
    expect(await noteOf("ecb", "2026-04-27", "2026-05-01")).toBe(
      "No fixing exists for 2026-05-01 (a Friday: a TARGET closing day); the fixing of 2026-04-30 stands for it.",
    );
    expect(await noteOf("cnb", "2025-12-22", "2025-12-26")).toContain(
      "No fixing exists for 2025-12-24 (a Wednesday: a Czech public holiday), 2025-12-25 (a Thursday: a Czech public holiday) and 2025-12-26 (a Friday: a Czech public holiday); the fixing of 2025-12-23 stands for them.",
    );
    // The fixing standing for a first day without one is from before the range, and not in it.
    expect(await noteOf("cnb", "2026-11-17", "2026-11-20")).toContain(
      "No fixing exists for 2026-11-17 (a Tuesday: a Czech public holiday); the fixing of 2026-11-16, before the range, stands for it.",
    );
    // Closing days within the range are named too, lest they read as days missing from the source's data.
    expect(await noteOf("ecb", "2026-03-30", "2026-04-10")).toBe(
      "No fixing exists for 2026-04-03 (a Friday: a TARGET closing day) and 2026-04-06 (a Monday: a TARGET closing day), within the range; the fixing of 2026-04-02 stands for them.",
    );
    expect(await noteOf("cnb", "2026-05-04", "2026-05-12")).toContain(
      "No fixing exists for 2026-05-08 (a Friday: a Czech public holiday), within the range; the fixing of 2026-05-07 stands for it.",
    );
    // Each names the fixing that stands for it.
    expect(await noteOf("cnb", "2026-04-01", "2026-05-12")).toContain(
      "No fixing exists for 2026-04-03 (a Friday: a Czech public holiday), 2026-04-06 (a Monday: a Czech public holiday), 2026-05-01 (a Friday: a Czech public holiday) and 2026-05-08 (a Friday: a Czech public holiday), within the range; the fixing of 2026-04-02 stands for 2026-04-03 and 2026-04-06, that of 2026-04-30 for 2026-05-01, and that of 2026-05-07 for 2026-05-08.",
    );
    // A day the calendar closes but the source has a fixing for, in the answer, is not said to have none.
    const fixingOf = (date: string) => ({ CZK: 24.5, USD: 1.08 + Number(date.slice(-2)) / 1000 });
    const dates = ["2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03", "2026-04-07", "2026-04-08"];
    frankfurter.intercept = answering(
      "/v1/2026-03-31..2026-04-08",
      json(
        200,
        JSON.stringify({
          amount: 1,
          base: "EUR",
          start_date: "2026-03-31",
          end_date: "2026-04-08",
          rates: Object.fromEntries(dates.map((date) => [date, fixingOf(date)])),
        }),
      ),
    );
    const withGoodFriday = await server.call("currency_history", {
      base: "EUR",
      symbols: ["CZK"],
      start: "2026-03-31",
      end: "2026-04-08",
      source: "ecb",
    });
    const { days } = withGoodFriday.structuredContent as { days: { date: string }[] };
    expect(days.map((day) => day.date)).toEqual(dates);
    expect(withGoodFriday.structuredContent?.note).toBe(
      "No fixing exists for 2026-04-06 (a Monday: a TARGET closing day), within the range; the fixing of 2026-04-03 stands for it.",
    );
    // A working day the source gave no fixing for, within the range, is named as its lack, not left to read as none.
    const gapDates = ["2026-04-13", "2026-04-14", "2026-04-16", "2026-04-17"];
    frankfurter.intercept = answering(
      "/v1/2026-04-13..2026-04-17",
      json(
        200,
        JSON.stringify({
          amount: 1,
          base: "EUR",
          start_date: "2026-04-13",
          end_date: "2026-04-17",
          rates: Object.fromEntries(gapDates.map((date) => [date, fixingOf(date)])),
        }),
      ),
    );
    const withGap = await server.call("currency_history", {
      base: "EUR",
      symbols: ["CZK"],
      start: "2026-04-13",
      end: "2026-04-17",
      source: "ecb",
    });
    expect(withGap.structuredContent?.note).toBe(
      "The European Central Bank gave no fixing for 2026-04-15, a working day in its calendar, within the range: the source's data lacks it.",
    );
    // A fixing standing for a closing day that has no rate against the base, left out, says so.
    const easterDates = ["2026-04-01", "2026-04-02", "2026-04-07", "2026-04-08"];
    frankfurter.intercept = answering(
      "/v1/2026-04-01..2026-04-08",
      json(
        200,
        JSON.stringify({
          amount: 1,
          base: "EUR",
          start_date: "2026-04-01",
          end_date: "2026-04-08",
          rates: Object.fromEntries(
            easterDates.map((date) => [date, date === "2026-04-02" ? { CZK: 24.5 } : fixingOf(date)]),
          ),
        }),
      ),
    );
    const withoutBase = await server.call("currency_history", {
      base: "USD",
      symbols: ["CZK"],
      start: "2026-04-01",
      end: "2026-04-08",
      source: "ecb",
    });
    expect(withoutBase.structuredContent?.note).toContain(
      "No fixing exists for 2026-04-03 (a Friday: a TARGET closing day) and 2026-04-06 (a Monday: a TARGET closing day), within the range; the fixing of 2026-04-02, which has no rate against USD, stands for them.",
    );
    // A weekend ending the range says nothing: its fixing, Friday's, is the range's last.
    expect(await noteOf("ecb", "2026-11-16", "2026-11-22")).toBeUndefined();
    // One beginning it has Friday's, before the range, standing for it: for an invoice of the Saturday.
    expect(await noteOf("ecb", "2026-02-28", "2026-03-04")).toBe(
      "No fixing exists for 2026-02-28 (a Saturday) and 2026-03-01 (a Sunday); the fixing of 2026-02-27, before the range, stands for them.",
    );
    expect(await noteOf("ecb", "2026-04-04", "2026-04-10")).toBe(
      "No fixing exists for 2026-04-04 (a Saturday), 2026-04-05 (a Sunday) and 2026-04-06 (a Monday: a TARGET closing day); the fixing of 2026-04-02, before the range, stands for them.",
    );
  });

  test("ECB history has every working day of the range, oldest first", async () => {
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "2026-08-24",
      end: "2026-08-30",
    });
    const days = (result.structuredContent as { days: { date: string }[] }).days.map((d) => d.date);
    expect(days).toEqual(["2026-08-24", "2026-08-25", "2026-08-26", "2026-08-27", "2026-08-28"]);
    expect(text(result)).toMatch(/^ECB rates against EUR, 5 fixings from 2026-08-24 to 2026-08-28:\nUSD: /);
  });

  test("a range of one fixing is said to have one fixing", async () => {
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "2026-08-28",
      end: "2026-08-30",
    });
    expect(text(result)).toMatch(/^ECB rates against EUR, 1 fixing from 2026-08-28 to 2026-08-28:\nUSD: /);
  });

  test("CNB history across a year boundary reads both years", async () => {
    const before = cnb.count("/cnbapi/exrates/daily-year");
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["CZK", "JPY"],
      start: "2025-12-29",
      end: "2026-01-05",
      source: "cnb",
    });
    const days = (result.structuredContent as { days: { date: string }[] }).days.map((d) => d.date);
    expect(days).toEqual(["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-02", "2026-01-05"]);
    expect(cnb.count("/cnbapi/exrates/daily-year") - before).toBe(2);
    expect(result.structuredContent).toMatchObject({
      days: expect.arrayContaining([
        {
          date: "2026-01-02",
          rates: [{ currency: "CZK", rate: 24.17 }, expect.objectContaining({ currency: "JPY" })],
        },
      ]),
    });
  });

  test("a change too small to show is 0.00%, never -0.00%", async () => {
    frankfurter.intercept = answering(
      "/v1/2020-03-02..2020-03-03",
      json(
        200,
        '{"amount":1.0,"base":"EUR","start_date":"2020-03-02","end_date":"2020-03-03","rates":{"2020-03-02":{"USD":1.1},"2020-03-03":{"USD":1.09999}}}',
      ),
    );
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "2020-03-02",
      end: "2020-03-03",
    });
    expect(text(result)).toContain("\nUSD: 1.1 -> 1.09999 (0.00%), low 1.09999 on 2020-03-03, high 1.1 on 2020-03-02");
  });

  test("a currency missing on some days is left out of those days only", async () => {
    // The CNB suspended the rouble after its fixing of 1 March 2022.
    const result = await server.call("currency_history", {
      base: "CZK",
      symbols: ["RUB", "EUR"],
      start: "2022-02-28",
      end: "2022-03-02",
      source: "cnb",
    });
    expect(result.isError).toBeFalsy();
    const days = (result.structuredContent as { days: { date: string; rates: { currency: string }[] }[] }).days;
    expect(days.map((d) => [d.date, d.rates.map((r) => r.currency)])).toEqual([
      ["2022-02-28", ["RUB", "EUR"]],
      ["2022-03-01", ["RUB", "EUR"]],
      ["2022-03-02", ["EUR"]],
    ]);
    // Said in the note too, which a client reading the JSON gives the model: why the day has none.
    const note =
      "RUB is missing from the fixing of 2022-03-02, which has no rate for it. RUB was fixed by the Czech National Bank from 1998-01-02, in the place of RUR, until it suspended the rouble in March 2022: a date from the first to the last has its rate, and the European Central Bank has none for 2022-03-02 either: neither source has one.";
    expect(result.structuredContent).toMatchObject({ note });
    expect(text(result)).toContain(`\n${note}\nRUB (2 of the 3 fixings, 2022-02-28 to 2022-03-01): `);
  });

  test("a currency the ECB dropped or took up again within a range says why the fixings without it have none", async () => {
    const rub = await server.call("currency_history", {
      base: "EUR",
      symbols: ["RUB", "USD"],
      start: "2022-02-24",
      end: "2022-03-04",
    });
    expect((rub.structuredContent as { note?: string }).note).toBe(
      "RUB is missing from 3 of the 7 fixings, from 2022-03-02 to 2022-03-04, which have no rate for it. RUB was fixed by the ECB from 2005-04-01 until 2022-03-01: a date from the first to the last has its rate, and the Czech National Bank has none between 2022-03-02 and 2022-03-04 either: neither source has one.",
    );
    // The Czech National Bank fixed the krona while the ECB did not.
    const isk = await server.call("currency_history", {
      base: "EUR",
      symbols: ["ISK"],
      start: "2018-01-26",
      end: "2018-02-06",
    });
    expect((isk.structuredContent as { note?: string }).note).toBe(
      'ISK is missing from 4 of the 8 fixings, from 2018-01-26 to 2018-01-31, which have no rate for it. ISK was fixed by the European Central Bank until 2008-12-09 and again from 2018-02-01 on: a date up to 2008-12-09, or from 2018-02-01 on, has its rate, but source "cnb" may have it.',
    );
  });

  test("a currency the euro replaced within the range has its fixed rate from then on", async () => {
    // The ECB quoted HRK to 2022-12-30: Croatia took the euro on 1 January 2023, at 7.53450 HRK to 1 EUR.
    frankfurter.intercept = answering(
      "/v1/2022-12-29..2023-01-03",
      json(
        200,
        '{"amount":1.0,"base":"EUR","start_date":"2022-12-29","end_date":"2023-01-03","rates":{"2022-12-29":{"HRK":7.5355,"USD":1.0639},"2022-12-30":{"HRK":7.5365,"USD":1.0666},"2023-01-02":{"USD":1.0683},"2023-01-03":{"USD":1.0545}}}',
      ),
    );
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["HRK", "USD"],
      start: "2022-12-29",
      end: "2023-01-03",
    });
    expect(text(result)).toBe(
      [
        "ECB rates against EUR, 4 fixings from 2022-12-29 to 2023-01-03:",
        "HRK was replaced by the euro on 2023-01-01 at the fixed rate of 7.53450 HRK to 1 EUR (Council Regulation (EC) No 2866/98): rates from that day on are worked out through EUR at it.",
        "HRK: 7.5355 -> 7.5345 (-0.01%), low 7.5345 on 2023-01-02, high 7.5365 on 2022-12-30",
        "USD: 1.0639 -> 1.0545 (-0.88%), low 1.0545 on 2023-01-03, high 1.0683 on 2023-01-02",
      ].join("\n"),
    );
  });

  test("a range of one currency the ECB began to fix within it has every fixing, its line saying on which it stands", async () => {
    // The ECB fixed CNY from 1 April 2005: the fixings of 29 to 31 March have none (28 March was Easter Monday).
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["CNY"],
      start: "2005-03-28",
      end: "2005-04-05",
    });
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ start: "2005-03-29", end: "2005-04-05" });
    expect(text(result)).toMatch(
      /^ECB rates against EUR, 6 fixings from 2005-03-29 to 2005-04-05:\nCNY is missing from 3 of the 6 fixings, from 2005-03-29 to 2005-03-31, which have no rate for it\. CNY is fixed by the European Central Bank from 2005-04-01 on: a later date's rate is not an earlier one's, but source "cnb" may have it\. No fixing exists for 2005-03-28 \(a Monday: a TARGET closing day\); the fixing of 2005-03-24, before the range, stands for it\.\nCNY \(3 of the 6 fixings, 2005-04-01 to 2005-04-05\): /,
    );
  });

  test("currencies missing from the same fixings of a range are said once, not a sentence each", async () => {
    // The ECB began to fix these five, and the rouble, on 1 April 2005.
    const result = await server.call("currency_history", {
      base: "EUR",
      symbols: ["CNY", "IDR", "MYR", "PHP", "THB", "RUB", "USD"],
      start: "2005-03-29",
      end: "2005-04-05",
    });
    expect((result.structuredContent as { note?: string }).note).toBe(
      'CNY, IDR, MYR, PHP, THB, RUB are missing from 3 of the 6 fixings, from 2005-03-29 to 2005-03-31, which have no rate for them. RUB was fixed by the ECB from 2005-04-01 until 2022-03-01: a date from the first to the last has its rate, but source "cnb" may have it; CNY, IDR, MYR, PHP, THB are fixed by the European Central Bank from 2005-04-01 on: a later date\'s rate is not an earlier one\'s, but source "cnb" may have them.',
    );
  });

  test("a range whose base is missing on some of its fixings says on how many it stands, lest the others read as days without one", async () => {
    // The ECB fixed CNY from 1 April 2005: the fixings of 29 to 31 March have no rate against it.
    const ecb = await server.call("currency_history", {
      base: "CNY",
      symbols: ["USD"],
      start: "2005-03-28",
      end: "2005-04-05",
    });
    expect(ecb.structuredContent).toMatchObject({
      start: "2005-04-01",
      end: "2005-04-05",
      note: "The European Central Bank publishes rates against EUR only: these against CNY are worked out from them. CNY, the base, is in 3 of the 6 fixings from 2005-03-29 to 2005-04-05: the others have no rate against it and are left out. No fixing exists for 2005-03-28 (a Monday: a TARGET closing day); the fixing of 2005-03-24, before the range, stands for it where that fixing has a rate against CNY, which none of the range's before 2005-04-01 has.",
    });
    expect(text(ecb)).toMatch(
      /^ECB rates against CNY, 3 fixings from 2005-04-01 to 2005-04-05:\nThe European Central Bank publishes rates against EUR only: these against CNY are worked out from them\. CNY, the base, is in 3 of the 6 fixings from 2005-03-29 to 2005-04-05: the others have no rate against it and are left out\. No fixing exists for 2005-03-28 \(a Monday: a TARGET closing day\); the fixing of 2005-03-24, before the range, stands for it where that fixing has a rate against CNY, which none of the range's before 2005-04-01 has\.\nUSD: /,
    );
    // The CNB suspended the rouble after its fixing of 1 March 2022.
    const cnb = await server.call("currency_history", {
      base: "RUB",
      symbols: ["USD"],
      start: "2022-02-28",
      end: "2022-03-02",
      source: "cnb",
    });
    expect(cnb.structuredContent).toMatchObject({
      note: "The Czech National Bank publishes rates against CZK only: these against RUB are worked out from them. RUB, the base, is in 2 of the 3 fixings from 2022-02-28 to 2022-03-02: the others have no rate against it and are left out.",
    });
    // The ECB's last rouble rate is of 1 March 2022: the fixing before Easter 2022 has none to stand for its closing days with.
    const easter = await server.call("currency_history", {
      base: "RUB",
      symbols: ["USD"],
      start: "2022-02-28",
      end: "2022-04-18",
    });
    expect((easter.structuredContent as { note?: string }).note).toMatch(
      /No fixing exists for 2022-04-15 \(a Friday: a TARGET closing day\) and 2022-04-18 \(a Monday: a TARGET closing day\); the fixing of 2022-04-14 stands for them, but has no rate against RUB\.$/,
    );
  });

  test("currency_list names each source's currencies", async () => {
    const ecb = await server.call("currency_list", { source: "ecb" });
    expect(ecb.structuredContent).toMatchObject({ source: "ecb", base: "EUR" });
    expect((ecb.structuredContent as { currencies: unknown[] }).currencies).toContainEqual({
      code: "USD",
      name: "US Dollar",
    });
    const czech = await server.call("currency_list", { source: "cnb" });
    const currencies = (czech.structuredContent as { currencies: { code: string }[] }).currencies;
    expect(currencies).toContainEqual({ code: "CZK", name: "Czech koruna" });
    expect(currencies).toContainEqual({ code: "JPY", name: "Japan yen" });
  });

  test("currency_list counts the currencies each source has rates for apart from its base, which it lists too", async () => {
    for (const [source, base] of [
      ["ecb", "EUR"],
      ["cnb", "CZK"],
    ] as const) {
      const listed = await server.call("currency_list", { source });
      const codes = (listed.structuredContent as { currencies: { code: string }[] }).currencies.map((c) => c.code);
      expect(codes, source).toContain(base);
      expect(text(listed).split("\n")[0], source).toBe(
        `${source.toUpperCase()} publishes rates for ${codes.length - 1} currencies against ${base}, its base, listed with them:`,
      );
    }
  });

  test("the currencies listed are those of the latest fixing: the lev left both lists with the euro", async () => {
    for (const source of ["ecb", "cnb"]) {
      const listed = await server.call("currency_list", { source });
      const codes = (listed.structuredContent as { currencies: { code: string }[] }).currencies.map((c) => c.code);
      expect(codes, source).toContain("USD");
      expect(codes, source).not.toContain("BGN");
      expect(codes, source).not.toContain("RUB");
      expect(codes, source).not.toContain("HRK");
    }
  });

  test("the rouble and the kuna convert on a date their source fixed them, and not after its last", async () => {
    for (const [code, fixed, after, last, source] of [
      ["RUB", "2021-06-01", "2022-03-02", "2022-03-01", "ecb"],
      ["HRK", "2022-06-01", "2022-12-30", "2022-12-30", "ecb"],
      ["RUB", "2021-06-01", "2022-03-02", "2022-03-01", "cnb"],
      ["HRK", "2022-06-01", "2022-12-30", "2022-12-30", "cnb"],
    ] as const) {
      const before = await server.call("currency_convert", { amount: 100, from: code, to: "CZK", date: fixed, source });
      expect(before.isError, `${code} at ${source}: ${text(before)}`).toBeFalsy();
      expect(before.structuredContent).toMatchObject({ date: fixed });
      expect(text(before)).not.toMatch(/fixed rate/);
      const then = await server.call("currency_convert", { amount: 100, from: code, to: "CZK", date: after, source });
      // The kuna's last fixing is its own rate; the rouble's day after has none.
      if (code === "HRK") expect(then.structuredContent, source).toMatchObject({ date: last });
      else expect(then.isError, `${code} at ${source}`).toBe(true);
    }
  });
});

test("currency_list is in the order of the codes whatever the process's locale: Estonian's puts Z before T", async () => {
  const estonian = await startServer({
    LC_ALL: "et_EE.UTF-8",
    WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
    WAITER_CNB_URL: `${cnb.origin}/cnbapi`,
  });
  try {
    for (const source of ["ecb", "cnb"]) {
      const listed = await estonian.call("currency_list", { source });
      const codes = (listed.structuredContent as { currencies: { code: string }[] }).currencies.map((c) => c.code);
      expect(codes).toContain("ZAR");
      expect(codes).toEqual([...codes].sort());
      expect(text(listed).split("\n").at(-1)).toMatch(/^ZAR /);
    }
  } finally {
    await estonian.close();
  }
});

test("a refund's negative amount is refused saying what to send: the amount without its minus", async () => {
  const refund = await server.call("currency_convert", { amount: -1234.5, from: "EUR", to: "CZK", date: "2026-08-28" });
  expect(refund.isError).toBe(true);
  expect(text(refund)).toContain(
    "amount: must be above 0: for a refund, send 1234.5 and put the minus on the result (rounding is the same either way)",
  );
  // As a credit note writes it, with a decimal comma and the currency's unit.
  for (const amount of ["-1 234,50 Kč", "\u22121 234,50 Kč", "\u20131 234,50 Kč"]) {
    const written = await server.call("currency_convert", { amount, from: "EUR", to: "CZK", date: "2026-08-28" });
    expect(text(written), amount).toContain(
      "amount: expected number, received string: send 1234.50, without quotes, and CZK as `from`; for a refund, put the minus on the result (rounding is the same either way)",
    );
  }
  // The minus after a currency sign written before the number.
  for (const amount of ["€-1 234,50", "€ \u22121 234,50", "-€1 234,50"]) {
    const written = await server.call("currency_convert", { amount, from: "CZK", to: "USD", date: "2026-08-28" });
    expect(text(written), amount).toContain(
      "amount: expected number, received string: send 1234.50, without quotes, and EUR as `from`; for a refund, put the minus on the result (rounding is the same either way)",
    );
  }
  // As a ledger writes a negative: in parentheses, or with its minus after the number.
  for (const amount of ["(1,234.50)", "(€1 234,50)", "(1 234,50) EUR", "€(1,234.50)", "1,234.50-", "1 234,50 \u2212"]) {
    const written = await server.call("currency_convert", { amount, from: "EUR", to: "CZK", date: "2026-08-28" });
    expect(text(written), amount).toMatch(
      /^Invalid arguments for currency_convert: amount: expected number, received string: send 1234\.50, without quotes(, and EUR as `from`)?; for a refund, put the minus on the result \(rounding is the same either way\)/,
    );
  }
  const zero = await server.call("currency_convert", { amount: 0, from: "EUR", to: "CZK", date: "2026-08-28" });
  expect(text(zero)).toContain("amount: must be above 0");
  expect(text(zero)).not.toContain("refund");
});

test("a refund's amount over the limit, written as text, is refused keeping its minus, as a number is", async () => {
  const said = async (amount: number | string) =>
    text(await server.call("currency_convert", { amount, from: "CZK", to: "EUR", date: "2026-08-28" }));
  const why =
    "must be above 0: for a refund, the amount without its minus, 1000000000000000, must be at most 1,000,000,000,000";
  expect(await said("-1,000,000,000,000,000 Kč")).toBe(
    `Invalid arguments for currency_convert: amount: expected number, received string: it is -1000000000000000, and an amount ${why}`,
  );
  expect(await said("(1,000,000,000,000,000) EUR")).toMatch(/: it is -1000000000000000, and an amount must be above 0/);
  expect(await said(-1e15)).toBe(`Invalid arguments for currency_convert: amount: ${why}`);
});

test("a refund's amount over the limit, as a number, is not told to send its amount without the minus", async () => {
  const refused = await server.call("currency_convert", { amount: -2e12, from: "CZK", to: "EUR", date: "2026-08-28" });
  expect(text(refused)).toBe(
    "Invalid arguments for currency_convert: amount: must be above 0: for a refund, the amount without its minus, 2000000000000, must be at most 1,000,000,000,000",
  );
});

test("a refund's amount over the limit that JavaScript writes with an exponent is echoed in plain digits", async () => {
  const refused = await server.call("currency_convert", {
    amount: -1.5e21,
    from: "CZK",
    to: "EUR",
    date: "2026-08-28",
  });
  expect(text(refused)).toBe(
    "Invalid arguments for currency_convert: amount: must be above 0: for a refund, the amount without its minus, 1500000000000000000000, must be at most 1,000,000,000,000",
  );
});

test("a small refund's amount that JavaScript writes with an exponent is told in plain digits", async () => {
  for (const amount of [-1e-7, "-0.0000001"]) {
    const refused = await server.call("currency_convert", { amount, from: "EUR", to: "CZK", date: "2026-08-28" });
    expect(text(refused), String(amount)).toBe(
      "Invalid arguments for currency_convert: amount: must be above 0: for a refund, send 0.0000001 and put the minus on the result (rounding is the same either way)",
    );
  }
  const digits = await server.call("currency_convert", { amount: -1.2345e-7, from: "EUR", to: "CZK" });
  expect(text(digits)).toContain("for a refund, send 0.00000012345 and put the minus");
});

test("an amount written with its currency's symbol or unit is refused with the number and the code to send", async () => {
  const said = async (amount: string) =>
    text(await server.call("currency_convert", { amount, from: "CZK", to: "USD", date: "2026-08-28" }));
  const cases: [string, string][] = [
    ["€100", "send 100, without quotes, and EUR as `from`"],
    ["100 €", "send 100, without quotes, and EUR as `from`"],
    ["100 Kč", "send 100, without quotes, and CZK as `from`"],
    ["1 234,50 Kč", "send 1234.50, without quotes, and CZK as `from`"],
    ["1\u00a0234,50\u00a0Kč", "send 1234.50, without quotes, and CZK as `from`"],
    // As Czech prices write whole crowns.
    ["1 500,- Kč", "send 1500, without quotes, and CZK as `from`"],
    ["CZK 100", "send 100, without quotes, and CZK as `from`"],
    ["£20.99", "send 20.99, without quotes, and GBP as `from`"],
    ["250 zł", "send 250, without quotes, and PLN as `from`"],
    // As written without diacritics, on a keyboard that has none.
    ["1 234,50 Kc", "send 1234.50, without quotes, and CZK as `from`"],
    ["250 zl", "send 250, without quotes, and PLN as `from`"],
    // A unit of three letters that is no code: Romanian prices are written in lei.
    ["100 lei", "send 100, without quotes, and RON as `from`"],
    // The kuna's sign, as Croatian prices wrote it: HRK, which converts at its fixed rate from 2023 on.
    ["100 kn", "send 100, without quotes, and HRK as `from`"],
    ["1.234,50 kn", "send 1234.50, without quotes, and HRK as `from`"],
    ["US$100", "send 100, without quotes, and USD as `from`"],
    // A sign several currencies write: the number, and the code of the one meant, of those the sources fix.
    [
      "$100",
      "send 100, without quotes, and the ISO 4217 code of the currency meant as `from`: $ is written for USD, CAD, AUD, NZD, MXN, HKD, SGD",
    ],
    [
      "¥1000",
      "send 1000, without quotes, and the ISO 4217 code of the currency meant as `from`: ¥ is written for JPY, CNY",
    ],
    // A thousand or one and a bit: both numbers, and the code all the same.
    [
      "€1.234",
      "1.234 is 1234 where its dot groups thousands, 1.234 where it is a decimal point: send the one meant, without quotes (as text, 1.2340 is read as 1.234), and EUR as `from`",
    ],
    // A decimal comma no grouping can be: after a 0, after four digits, or after a dot's groups.
    ["0,125 €", "send 0.125, without quotes, and EUR as `from`"],
    ["1000,505 Kč", "send 1000.505, without quotes, and CZK as `from`"],
    ["1.234,567 Kč", "send 1234.567, without quotes, and CZK as `from`"],
    ["12,3456", "send 12.3456, without quotes"],
    // Dots grouping millions, which no decimal has two of.
    ["1.234.567 Kč", "send 1234567, without quotes, and CZK as `from`"],
    ["1.234.567", "send 1234567, without quotes"],
    // A credit's plus, as a bank statement writes it, is no part of the number either.
    ["+1 234,50 Kč", "send 1234.50, without quotes, and CZK as `from`"],
    ["+98.87", "send 98.87, without quotes"],
    // Apostrophes grouping, as Swiss write, typed or typeset (’, as a word processor turns ' into).
    ["CHF 1'234'567.50", "send 1234567.50, without quotes, and CHF as `from`"],
    ["1\u2019234.50 CHF", "send 1234.50, without quotes, and CHF as `from`"],
    // Or its opening quote, which some keyboards and word processors put after a digit.
    ["1\u2018234\u2018567.50 CHF", "send 1234567.50, without quotes, and CHF as `from`"],
    // Indian grouping, by lakhs and crores, whose groups of two no other grouping nor decimal has.
    ["₹1,00,000", "send 100000, without quotes, and INR as `from`"],
    ["1,00,000", "send 100000, without quotes"],
    ["12,34,567.50 INR", "send 1234567.50, without quotes, and INR as `from`"],
    // A currency's name, and three letters that are another name of it, not its code.
    ["100 euros", "send 100, without quotes, and EUR as `from`"],
    ["500 RMB", "send 500, without quotes, and CNY as `from`"],
  ];
  for (const [amount, expected] of cases) expect((await said(amount)).slice(-expected.length), amount).toBe(expected);
  // A number no amount may be is not the one to send: the limit it breaks is said, as for a number.
  expect(await said("1,000,000,000,000,000")).toBe(
    "Invalid arguments for currency_convert: amount: expected number, received string: it is 1000000000000000, and an amount must be at most 1,000,000,000,000",
  );
  expect(await said("0,00 Kč")).toBe(
    "Invalid arguments for currency_convert: amount: expected number, received string: it is 0.00, and an amount must be above 0",
  );
  // A unit after the number that is no ISO 4217 code nor a sign or word waiter knows ("pcs", or
  // rubles, which a currency is called) names no code to send: the plain advice, not a guess.
  for (const amount of ["100 pcs", "12 kg", "100 rubles", "5000 forints"]) {
    expect(await said(amount), amount).toBe(
      "Invalid arguments for currency_convert: amount: expected number, received string: send the amount as a number, without quotes, grouping or currency, with a dot before its decimals: 1234.5",
    );
  }
  // Words that name no currency get the plain advice, not a guess.
  expect(await said("about 100")).toMatch(
    /without quotes, grouping or currency, with a dot before its decimals: 1234\.5$/,
  );
});

test("codes sent as text, one or a list of them, are the list of those codes", async () => {
  const asList = await server.call("currency_rates", { symbols: ["USD", "CZK"], date: "2026-08-28" });
  for (const symbols of ["USD, CZK", " USD CZK ", '["USD","CZK"]']) {
    const asText = await server.call("currency_rates", { symbols, date: "2026-08-28" });
    expect(asText.isError, text(asText)).toBeFalsy();
    expect(asText.structuredContent, symbols).toEqual(asList.structuredContent);
  }
  const one = await server.call("currency_history", {
    base: "EUR",
    symbols: "USD",
    start: "2026-08-24",
    end: "2026-08-28",
  });
  expect(one.isError, text(one)).toBeFalsy();
  expect(text(one)).toMatch(/^USD: /m);
});

test("an amount sent as plain decimal text, as some clients send every argument, is converted", async () => {
  const asText = await server.call("currency_convert", {
    amount: " 98.87 ",
    from: "EUR",
    to: "CZK",
    date: "2026-08-28",
  });
  const asNumber = await server.call("currency_convert", { amount: 98.87, from: "EUR", to: "CZK", date: "2026-08-28" });
  expect(asText.isError, text(asText)).toBeFalsy();
  expect(asText.structuredContent).toEqual(asNumber.structuredContent);
  // Not read in part: a sign, a comma or a unit leaves it text, refused saying what to send.
  for (const amount of ["+98.87", "98,87", "98.87 EUR"]) {
    const refused = await server.call("currency_convert", { amount, from: "EUR", to: "CZK", date: "2026-08-28" });
    expect(text(refused), amount).toContain("amount: expected number, received string: send ");
  }
});

test("an amount as text with one dot or comma before three digits, a thousand or a decimal, is refused naming both", async () => {
  const said = async (amount: string) =>
    text(await server.call("currency_convert", { amount, from: "CZK", to: "EUR", date: "2026-08-28" }));
  // As Czech write a thousand, and as a decimal with three places: neither is taken for the other.
  expect(await said("1.000")).toBe(
    "Invalid arguments for currency_convert: amount: expected number, received string: 1.000 is 1000 where its dot groups thousands, 1 where it is a decimal point: send the one meant, without quotes",
  );
  expect(await said("12,500 Kč")).toBe(
    "Invalid arguments for currency_convert: amount: expected number, received string: 12,500 is 12500 where its comma groups thousands, 12.5 where it is a decimal comma: send the one meant, without quotes, and CZK as `from`",
  );
  expect(await said("-1.000")).toMatch(
    /received string: 1\.000 is 1000 where its dot groups thousands, 1 where it is a decimal point: send the one meant, without quotes; for a refund, put the minus on the result/,
  );
  // Whole crowns as a Czech price writes them, ",-" where the decimals would be: the dot groups thousands.
  expect(await said("1.000,- Kč")).toMatch(/received string: send 1000, without quotes, and CZK as `from`$/);
  // The sign before the "-" is the decimals' place, so the same sign before three digits groups thousands.
  for (const amount of ["1,000,- Kč", "1.000.- Kč", "1,000.- Kč"]) {
    expect(await said(amount), amount).toMatch(/received string: send 1000, without quotes, and CZK as `from`$/);
  }
  // Typeset with a dash, as Czech typography writes it ("1 000,– Kč"), it is the same.
  for (const amount of ["1 000,– Kč", "1.000,– Kč", "1.000,— Kč"]) {
    expect(await said(amount), amount).toMatch(/received string: send 1000, without quotes, and CZK as `from`$/);
  }
  // Grouped and with decimals, the text leaves no doubt.
  for (const amount of ["1.000,50", "1 000,50", "1,000.50"]) {
    expect(await said(amount), amount).toMatch(/received string: send 1000\.50, without quotes$/);
  }
  // A client that quotes every number sends the decimal 1.234 as this text again: a fourth decimal place gets it through.
  expect(await said("1,234")).toBe(
    "Invalid arguments for currency_convert: amount: expected number, received string: 1,234 is 1234 where its comma groups thousands, 1.234 where it is a decimal comma: send the one meant, without quotes (as text, 1.2340 is read as 1.234)",
  );
  // No grouping begins with 0, nor has four digits before its dot: a decimal, taken as written.
  for (const [amount, taken] of [
    ["0.500", 0.5],
    ["1000.500", 1000.5],
    ["1.2340", 1.234],
  ] as const) {
    const converted = await server.call("currency_convert", { amount, from: "CZK", to: "EUR", date: "2026-08-28" });
    expect(converted.structuredContent, amount).toMatchObject({ amount: taken });
  }
});

test("a currency pair given for one code, as a quote is written, is refused naming each code", async () => {
  const told =
    "EUR/CZK is a pair, 1 EUR in CZK: send EUR and CZK each as a code of its own (base and symbols, or from and to)";
  for (const pair of ["EUR/CZK", "eur/czk", "EURCZK", "EUR-CZK"]) {
    const rates = await server.call("currency_rates", { symbols: pair, source: "cnb" });
    expect(text(rates), pair).toBe(
      `Invalid arguments for currency_rates: symbols.0: must be a three-letter ISO 4217 currency code such as EUR: ${told.replace("EUR/CZK", pair)}`,
    );
  }
  const convert = await server.call("currency_convert", { amount: 1000, from: "JPY/CZK", to: "CZK" });
  expect(text(convert)).toContain(
    "from: must be a three-letter ISO 4217 currency code such as EUR: JPY/CZK is a pair, 1 JPY in CZK: send JPY and CZK each as a code of its own",
  );
  // Six letters that are not two codes are no pair.
  expect(text(await server.call("currency_rates", { base: "ABCDEF" }))).toBe(
    "Invalid arguments for currency_rates: base: must be a three-letter ISO 4217 currency code such as EUR",
  );
});

test("a code with a comma, a stop or quotes left on it is refused naming the code to send", async () => {
  const refused = async (args: Record<string, unknown>) =>
    text(await server.call("currency_convert", { amount: 100, from: "EUR", to: "USD", ...args }));
  for (const [from, code] of [
    ["USD,", "USD"],
    ["usd.", "USD"],
    [" CZK; ", "CZK"],
    ['"EUR"', "EUR"],
  ] as const) {
    expect(await refused({ from }), from).toBe(
      `Invalid arguments for currency_convert: from: must be a three-letter ISO 4217 currency code such as EUR: send ${code} without the punctuation around it`,
    );
  }
  // Three letters that are no code are not told to be sent.
  expect(await refused({ from: "USX," })).toBe(
    "Invalid arguments for currency_convert: from: must be a three-letter ISO 4217 currency code such as EUR",
  );
});

test("a currency's sign or unit given as its code is refused naming the code to send", async () => {
  const refused = async (args: Record<string, unknown>) =>
    text(await server.call("currency_convert", { amount: 100, from: "EUR", to: "USD", ...args }));
  expect(await refused({ from: "€" })).toBe(
    "Invalid arguments for currency_convert: from: must be a three-letter ISO 4217 currency code such as EUR: € is written for EUR, send that",
  );
  expect(await refused({ to: "Kč" })).toBe(
    "Invalid arguments for currency_convert: to: must be a three-letter ISO 4217 currency code such as EUR: Kč is written for CZK, send that",
  );
  // Three letters, yet no code: lei is Romania's unit, RON its code.
  expect(await refused({ from: "Lei" })).toBe(
    "Invalid arguments for currency_convert: from: must be a three-letter ISO 4217 currency code such as EUR: Lei is written for RON, send that",
  );
  // Names an object has of its own are no signs.
  for (const name of ["__proto__", "constructor"]) {
    expect(await refused({ from: name })).toBe(
      "Invalid arguments for currency_convert: from: must be a three-letter ISO 4217 currency code such as EUR",
    );
    expect(await refused({ amount: `100 ${name}` })).toBe(
      "Invalid arguments for currency_convert: amount: expected number, received string: send the amount as a number, without quotes, grouping or currency, with a dot before its decimals: 1234.5",
    );
  }
  expect(await refused({ to: " kr " })).toBe(
    "Invalid arguments for currency_convert: to: must be a three-letter ISO 4217 currency code such as EUR: kr is written for SEK, NOK, DKK, ISK, send the one meant",
  );
  // A name, or three letters written for a currency that are not its code.
  const told: [string, string][] = [
    ["euro", "euro is written for EUR, send that"],
    ["Dollar", "Dollar is written for USD, CAD, AUD, NZD, HKD, SGD, send the one meant"],
    ["koruna", "koruna is written for CZK, send that"],
    ["Kc", "Kc is written for CZK, send that"],
    ["crowns", "crowns is written for CZK, SEK, NOK, DKK, ISK, send the one meant"],
    ["RMB", "RMB is written for CNY, send that"],
    ["NIS", "NIS is written for ILS, send that"],
    ["YEN", "YEN is written for JPY, send that"],
    ["kn", "kn is written for HRK, send that"],
    ["kuna", "kuna is written for HRK, send that"],
  ];
  for (const [name, said] of told) {
    expect(await refused({ to: name }), name).toBe(
      `Invalid arguments for currency_convert: to: must be a three-letter ISO 4217 currency code such as EUR: ${said}`,
    );
  }
  const rates = await server.call("currency_rates", { base: "$", symbols: ["zł"] });
  expect(text(rates)).toBe(
    "Invalid arguments for currency_rates: base: must be a three-letter ISO 4217 currency code such as EUR: $ is written for USD, CAD, AUD, NZD, MXN, HKD, SGD, send the one meant; symbols.0: must be a three-letter ISO 4217 currency code such as EUR: zł is written for PLN, send that",
  );
});

/**
 * Currencies the ECB fixed until their countries took the euro, each with its last fixing and that
 * fixing's EUR rates of it and of USD, as its eurofxref-hist.csv has them.
 */
const ECB_EURO_CHANGEOVERS: [string, string, number, number][] = [
  ["SIT", "2006-12-29", 239.64, 1.317],
  ["CYP", "2007-12-31", 0.585274, 1.4721],
  ["MTL", "2007-12-31", 0.4293, 1.4721],
  ["SKK", "2008-12-31", 30.126, 1.3917],
  ["EEK", "2010-12-31", 15.6466, 1.3362],
  ["LVL", "2013-12-31", 0.702804, 1.3791],
  ["LTL", "2014-12-31", 3.4528, 1.2141],
];

test.each(ECB_EURO_CHANGEOVERS)(
  "%s converts at the ECB's fixing of %s, its last before its country took the euro",
  async (code, last, rate, usd) => {
    // The fixing of that day alone: a queued answer would go to whichever request came first (the
    // currencies' list, fetched again once its minute has passed on a slow run). It has each of the
    // day's currencies, as the ECB's had (CYP and MTL on 2007-12-31), whichever test's call is kept.
    const rates = Object.fromEntries(ECB_EURO_CHANGEOVERS.filter(([, day]) => day === last).map(([c, , r]) => [c, r]));
    const fixing = json(200, JSON.stringify({ amount: 1, base: "EUR", date: last, rates: { ...rates, USD: usd } }));
    frankfurter.intercept = (request) => (request.path === `/v1/${last}` ? fixing : undefined);
    try {
      const result = await server.call("currency_convert", { amount: 1000, from: code, to: "USD", date: last });
      expect(result.isError, text(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        date: last,
        result: Math.round((1000 / rate) * usd * 100) / 100,
      });
    } finally {
      frankfurter.intercept = undefined;
    }
  },
);

describe("currencies the euro replaced", () => {
  const replaced = (code: string, since: string, rate: string) =>
    `${code} was replaced by the euro on ${since} at the fixed rate of ${rate} ${code} to 1 EUR (Council Regulation (EC) No 2866/98)`;

  test("from 1999-01-01, before either source first fixed the euro, converts to the euro at the fixed rates alone", async () => {
    const alone =
      "Neither source fixed the euro before 1999-01-04: between it and the currencies it replaced, these are the fixed rates alone, of no fixing.";
    for (const [date, source] of [
      ["1999-01-01", "ecb"],
      ["1999-01-03", "ecb"],
      ["1999-01-02", "cnb"],
    ]) {
      const mark = await server.call("currency_convert", { amount: 100, from: "DEM", to: "EUR", date, source });
      expect(mark.isError, text(mark)).toBeFalsy();
      expect(mark.structuredContent, date).toEqual({
        amount: 100,
        from: "DEM",
        to: "EUR",
        rate: 0.51129188,
        result: 51.13,
        date,
        note: `${alone} ${replaced("DEM", "1999-01-01", "1.95583")}: rates from that day on are worked out through EUR at it.`,
        source,
      });
      const franc = await server.call("currency_convert", { amount: 100, from: "DEM", to: "FRF", date, source });
      // No fixing of that day exists: the heading a model repeats says whose rates these are.
      expect(text(mark)).toMatch(
        new RegExp(`^100\\.00 DEM = 51\\.13 EUR at 0\\.51129188 \\(euro fixed rates, ${date}\\)\n`),
      );
      expect(franc.structuredContent, date).toMatchObject({ result: 335.39, date });
      expect(franc.structuredContent).not.toHaveProperty("via");
      const rates = await server.call("currency_rates", { base: "DEM", symbols: ["EUR", "FRF"], date, source });
      expect(text(rates)).toMatch(new RegExp(`^Euro fixed rates of ${date}:\n`));
      expect(rates.structuredContent, date).toMatchObject({
        date,
        rates: [
          { currency: "EUR", rate: 0.51129188 },
          { currency: "FRF", rate: 3.3538549 },
        ],
      });
      expect(text(rates)).toContain(alone);
      expect(text(rates)).not.toContain("worked out from them.");
    }
    // The whole table of one the euro replaced: every fixed rate of that day, not the euro's alone.
    const table = await server.call("currency_rates", { base: "DEM", date: "1999-01-02" });
    const listed = (table.structuredContent as { rates: { currency: string }[] }).rates.map((row) => row.currency);
    expect(listed).toEqual(["ATS", "BEF", "ESP", "EUR", "FIM", "FRF", "IEP", "ITL", "LUF", "NLG", "PTE"]);
    expect(text(table)).toMatch(/^Euro fixed rates of 1999-01-02:\n/);
    // A currency the euro did not replace has no fixed rate: that date has no rate of it.
    const dollar = await server.call("currency_convert", { amount: 100, from: "DEM", to: "USD", date: "1999-01-01" });
    expect(text(dollar)).toMatch(/^date must not be before 1999-01-04, the first fixing of the European Central Bank/);
  });

  test("a history of 1999-01-01 to 03 between the euro and those it replaced names the fixed rates, of no fixing", async () => {
    for (const source of ["ecb", "cnb"]) {
      const range = { base: "DEM", symbols: ["EUR", "FRF"], start: "1999-01-01", end: "1999-01-03", source };
      const history = await server.call("currency_history", range);
      expect(text(history), source).toBe(
        "No fixing between 1999-01-01 and 1999-01-03: neither source fixed the euro before 1999-01-04; between DEM, EUR, FRF only the fixed rates held (1.95583 DEM, 6.55957 FRF to 1 EUR), at which currency_convert converts on each date.",
      );
    }
    // A range on past them has the fixings from the first, and says what held before.
    const on = await server.call("currency_history", {
      base: "DEM",
      symbols: ["EUR"],
      start: "1999-01-01",
      end: "1999-01-06",
    });
    expect(on.structuredContent).toMatchObject({
      start: "1999-01-04",
      note: expect.stringMatching(
        /^The range is answered from 1999-01-04, the first fixing of the European Central Bank\. No fixing between 1999-01-01 and 1999-01-03: neither source fixed the euro before 1999-01-04; between DEM, EUR only the fixed rates held \(1\.95583 DEM to 1 EUR\)\. /,
      ),
    });
    // At the CNB, whose fixings run on from 1998, a range past them says the same of them, not nothing.
    const cnbOn = await server.call("currency_history", {
      base: "DEM",
      symbols: ["EUR"],
      start: "1999-01-01",
      end: "1999-01-06",
      source: "cnb",
    });
    expect(cnbOn.structuredContent).toMatchObject({ start: "1999-01-04" });
    expect(text(cnbOn)).toContain(
      "No fixing between 1999-01-01 and 1999-01-03: neither source fixed the euro before 1999-01-04; between DEM, EUR only the fixed rates held (1.95583 DEM to 1 EUR).",
    );
    // The euro with another currency: the CNB's fixing of 1998-12-31, standing for those days, had no euro rate.
    const cnbEuro = await server.call("currency_history", {
      base: "EUR",
      symbols: ["USD"],
      start: "1999-01-02",
      end: "1999-01-06",
      source: "cnb",
    });
    expect(cnbEuro.structuredContent).toMatchObject({ start: "1999-01-04" });
    expect(text(cnbEuro)).toContain(
      "The range has no rate of EUR between 1999-01-02 and 1999-01-03: EUR is fixed by the Czech National Bank from 1999-01-04 on, when the euro took the place of the ECU, which it fixed until then: no date before has a euro rate.",
    );
    // Without the euro or those it replaced, those days are a holiday and a weekend as any other.
    const crowns = await server.call("currency_history", {
      base: "CZK",
      symbols: ["USD"],
      start: "1999-01-01",
      end: "1999-01-06",
      source: "cnb",
    });
    expect(crowns.structuredContent?.note).toBe(
      "No fixing exists for 1999-01-01 (a Friday: a Czech public holiday), 1999-01-02 (a Saturday) and 1999-01-03 (a Sunday); the fixing of 1998-12-31, before the range, stands for them.",
    );
    // With a currency the euro did not replace, those days are before the ECB's first fixing as before.
    const dollar = await server.call("currency_history", {
      base: "DEM",
      symbols: ["USD"],
      start: "1999-01-01",
      end: "1999-01-03",
    });
    expect(text(dollar)).toMatch(/^end must not be before 1999-01-04, the first fixing of the European Central Bank/);
  });

  test("the CNB's rates of 1999-01-02, of CZK, are not the fixed rates alone, which hold no CZK", async () => {
    const rates = await server.call("currency_rates", { symbols: ["DEM"], date: "1999-01-02", source: "cnb" });
    const convert = await server.call("currency_convert", {
      amount: 1,
      from: "CZK",
      to: "DEM",
      date: "1999-01-02",
      source: "cnb",
    });
    expect(text(rates)).not.toContain('"CZK"');
    // 1999-01-02 is after the changeover, but before the first fixing of the euro to convert through.
    expect(text(rates)).toBe(
      `No rate for currency "DEM" in the fixing of 1998-12-31 by the Czech National Bank. ${replaced("DEM", "1999-01-01", "1.95583")}, but the Czech National Bank fixed no euro rate to convert it through before 1999-01-04, nor DEM after 1998-12-31: 1998-12-31 converts at DEM's own rate, a date from 1999-01-04 on through the euro; currency_list with source "cnb" lists the currencies it publishes.`,
    );
    expect(text(rates)).toBe(text(convert));
  });

  test("one asked for from its changeover on converts at its fixed rate, saying so", async () => {
    const kuna = await server.call("currency_convert", { amount: 100, from: "HRK", to: "EUR" });
    expect(kuna.isError, text(kuna)).toBeFalsy();
    expect(kuna.structuredContent).toMatchObject({ rate: 0.13272281, result: 13.27, date: "2026-11-27" });
    expect(text(kuna)).toContain(replaced("HRK", "2023-01-01", "7.53450"));
    // The lev, whose 1.95583 the ECB's own table had as 1.9558: 100 BGN is 51.13 EUR, as Bulgaria's banks book it.
    const lev = await server.call("currency_convert", { amount: 100, from: "BGN", to: "EUR", date: "2026-01-02" });
    expect(lev.structuredContent).toMatchObject({ rate: 0.51129188, result: 51.13, date: "2026-01-02" });
    expect(text(lev)).toContain(replaced("BGN", "2026-01-01", "1.95583"));
    // One the ECB never fixed, through the euro's rate of the day.
    const usd = ecbTable("2026-08-28").USD as number;
    const mark = await server.call("currency_convert", { amount: 1000, from: "dem", to: "USD", date: "2026-08-28" });
    expect(mark.structuredContent).toMatchObject({
      via: "EUR",
      result: Math.round((1000 / 1.95583) * usd * 100) / 100,
    });
    expect(text(mark)).toContain(replaced("DEM", "1999-01-01", "1.95583"));
    const rates = await server.call("currency_rates", { base: "HRK", symbols: ["EUR", "SKK"] });
    expect(rates.structuredContent).toMatchObject({
      rates: [
        { currency: "EUR", rate: 0.13272281 },
        { currency: "SKK", rate: 3.9984073 },
      ],
    });
  });

  test("rates worked out from fixed ones say an amount converts through EUR, not at them", async () => {
    // Regulation (EC) No 1103/97, Article 4: an amount goes to EUR at the fixed rate, and from EUR on
    // at the other's; a rate worked out from them, rounded, books another cent for a large amount.
    const rates = await server.call("currency_rates", { base: "DEM", symbols: ["FRF"], date: "2026-08-28" });
    expect(rates.structuredContent).toMatchObject({ rates: [{ currency: "FRF", rate: 3.3538549 }] });
    expect(text(rates)).toContain(
      "An amount converts through EUR at the fixed rates, as currency_convert converts it, not at these rates worked out from them and rounded (Council Regulation (EC) No 1103/97).",
    );
    // 1,000,000 DEM at 3.3538549 would be 3,353,854.90 FRF.
    const at = await server.call("currency_convert", { amount: 1_000_000, from: "DEM", to: "FRF", date: "2026-08-28" });
    expect(at.structuredContent).toMatchObject({ result: 3_353_854.89 });
  });

  test("each the ECB fixed until its country took the euro converts at its fixed rate after", async () => {
    // Their last fixings had them at their fixed rates.
    for (const [code, , rate] of ECB_EURO_CHANGEOVERS) {
      const result = await server.call("currency_convert", { amount: 500, from: code, to: "EUR", date: "2024-06-03" });
      expect(result.structuredContent, text(result)).toMatchObject({ result: Math.round((500 / rate) * 100) / 100 });
      expect(text(result)).toMatch(
        new RegExp(`\\n${code} was replaced by the euro on \\d{4}-01-01 at the fixed rate of `),
      );
    }
  });

  test("a history has its rates from the changeover on", async () => {
    const result = await server.call("currency_history", {
      base: "CZK",
      symbols: ["HRK", "EUR"],
      start: "2026-08-24",
      end: "2026-08-28",
      source: "cnb",
    });
    expect(result.isError, text(result)).toBeFalsy();
    const days = (result.structuredContent as { days: { rates: { currency: string; rate: number }[] }[] }).days;
    expect(days).toHaveLength(5);
    for (const { rates } of days) {
      const [hrk, eur] = rates.map((row) => row.rate) as [number, number];
      expect(hrk).toBeCloseTo(eur * 7.5345, 6);
    }
    expect(text(result)).toContain(replaced("HRK", "2023-01-01", "7.53450"));
  });

  test("at the Czech National Bank, through its euro rate, and between euro currencies through none", async () => {
    const czk = await server.call("currency_convert", {
      amount: 100,
      from: "HRK",
      to: "CZK",
      date: "2026-08-28",
      source: "cnb",
    });
    expect(czk.structuredContent).toMatchObject({ result: 323.38, date: "2026-08-28" });
    const eur = await server.call("currency_convert", { amount: 100, from: "HRK", to: "EUR", source: "cnb" });
    expect(eur.structuredContent).toMatchObject({ rate: 0.13272281, result: 13.27 });
    expect(eur.structuredContent).not.toHaveProperty("via");
    // A note naming the rates the result is worked out from names the fixed one as such, not as the CNB's.
    const idr = await server.call("currency_convert", {
      amount: 10_000_000,
      from: "HRK",
      to: "IDR",
      date: "2026-08-28",
      source: "cnb",
    });
    expect(text(idr)).toMatch(/: 1 EUR = 7\.5345 HRK \(fixed\), 1 EUR = 24\.365 CZK, 1,000 IDR = [\d.]+ CZK\.$/);
  });

  test("a date before its changeover has the source's own rate; one from it on, the fixed rate", async () => {
    const kuna = (rate: number) =>
      json(200, JSON.stringify({ amount: 1, base: "EUR", date: "2022-12-30", rates: { HRK: rate, USD: 1.0666 } }));
    frankfurter.intercept = answering("/v1/2022-12-30", kuna(7.5365));
    const before = await server.call("currency_convert", { amount: 1000, from: "HRK", to: "EUR", date: "2022-12-30" });
    expect(before.structuredContent).toMatchObject({ result: 132.69, date: "2022-12-30" });
    expect(text(before)).not.toContain("replaced by the euro");
    // New Year's Day, a Sunday: the ECB's fixing standing for it is Friday's, which still had the kuna.
    frankfurter.intercept = answering("/v1/2023-01-01", kuna(7.5365));
    const after = await server.call("currency_convert", { amount: 1000, from: "HRK", to: "EUR", date: "2023-01-01" });
    expect(after.structuredContent).toMatchObject({ result: 132.72, date: "2022-12-30", requested_date: "2023-01-01" });
    expect(text(after)).toContain(replaced("HRK", "2023-01-01", "7.53450"));
  });

  test("a day's whole table from a changeover on has the fixed rate, as the currency asked for alone has", async () => {
    // New Year's Day 2023, a Sunday: Friday's fixing, which still had the ECB's own rate of the kuna.
    const kuna = json(
      200,
      JSON.stringify({ amount: 1, base: "EUR", date: "2022-12-30", rates: { HRK: 7.5365, USD: 1.0666 } }),
    );
    frankfurter.intercept = answering("/v1/2023-01-01", kuna, kuna);
    const all = await server.call("currency_rates", { date: "2023-01-01" });
    const asked = await server.call("currency_rates", { date: "2023-01-01", symbols: ["HRK", "USD"] });
    expect(all.isError, text(all)).toBeFalsy();
    expect(all.structuredContent).toEqual(asked.structuredContent);
    expect(all.structuredContent).toMatchObject({ rates: [{ currency: "HRK", rate: 7.5345 }, { currency: "USD" }] });
    expect(text(all)).toContain(replaced("HRK", "2023-01-01", "7.53450"));
    // At the CNB, the lev of its fixing of 2025-12-31, standing for 1 January 2026, when the euro replaced it.
    const lev = await server.call("currency_rates", { date: "2026-01-01", source: "cnb", base: "EUR" });
    expect(lev.structuredContent).toMatchObject({
      rates: expect.arrayContaining([{ currency: "BGN", rate: 1.95583, inverse: 0.51129188 }]),
    });
  });

  test("a date or range before its changeover without its rate says when and at what rate the euro replaced it", async () => {
    // The ECB fixed the koruna until 2008-12-31, which the CNB's fake, without it, sends to.
    frankfurter.intercept = (request) => {
      const date = /^\/v1\/(2008-06-0[26])$/.exec(request.path)?.[1];
      return date === undefined
        ? undefined
        : json(200, JSON.stringify({ amount: 1, base: "EUR", date, rates: { SKK: 30.32, USD: 1.5532 } }));
    };
    const result = await server.call("currency_convert", {
      amount: 5,
      from: "SKK",
      to: "CZK",
      date: "2008-06-02",
      source: "cnb",
    });
    expect(result.isError).toBe(true);
    const history = await server.call("currency_history", {
      base: "USD",
      symbols: ["SKK"],
      start: "2008-06-02",
      end: "2008-06-06",
      source: "cnb",
    });
    // Its fixed rate converts from the changeover on, not a date before it: the other source may have that date's.
    const before =
      'SKK was replaced by the euro on 2009-01-01 at the fixed rate of 30.1260 SKK to 1 EUR (Council Regulation (EC) No 2866/98): a date from then on converts at it, not an earlier one, but source "ecb" may have its rate';
    expect(text(history)).toBe(
      `The Czech National Bank published no rate for SKK between 2008-06-02 and 2008-06-06. ${before}; currency_list with source "cnb" lists the currencies it publishes.`,
    );
    expect(text(result)).toBe(
      `No rate for currency "SKK" in the fixing of 2008-06-02 by the Czech National Bank. ${before}; currency_list with source "cnb" lists the currencies it publishes.`,
    );
  });

  test("a currency missing from fixings years before its changeover is not sent to the euro's fixed rate", async () => {
    // The kuna was issued on 30 May 1994, from when the CNB's fake fixes it; the ECB's rates begin in 1999.
    const kuna =
      "HRK was replaced by the euro on 2023-01-01 at the fixed rate of 7.53450 HRK to 1 EUR (Council Regulation (EC) No 2866/98): a date from then on converts at it, not an earlier one, and the European Central Bank has none";
    const converted = await server.call("currency_convert", {
      amount: 100,
      from: "HRK",
      to: "CZK",
      date: "1994-05-20",
      source: "cnb",
    });
    expect(text(converted)).toBe(
      `No rate for currency "HRK" in the fixing of 1994-05-20 by the Czech National Bank. ${kuna} for 1994-05-20 either: neither source has one; currency_list with source "cnb" lists the currencies it publishes.`,
    );
    const history = await server.call("currency_history", {
      base: "CZK",
      symbols: ["HRK"],
      start: "1994-05-20",
      end: "1994-06-03",
      source: "cnb",
    });
    expect(history.structuredContent).toMatchObject({ start: "1994-05-20", end: "1994-06-03" });
    expect(text(history)).toContain(
      `\nHRK is missing from 6 of the 11 fixings, from 1994-05-20 to 1994-05-27, which have no rate for it. ${kuna} between 1994-05-20 and 1994-05-27 either: neither source has one.\n`,
    );
  });
});

test("several currencies where one is taken are told to be asked for one at a time", async () => {
  expect(text(await server.call("currency_convert", { amount: 100, from: "EUR", to: ["CZK", "USD"] }))).toBe(
    "Invalid arguments for currency_convert: to: is one ISO 4217 code, not a list: call once for each",
  );
  expect(text(await server.call("currency_rates", { base: ["EUR"] }))).toBe(
    "Invalid arguments for currency_rates: base: is one ISO 4217 code, not a list: call once for each",
  );
  // Written as text, as a shop lists the currencies it prices in.
  for (const to of ["CZK, USD", "CZK,USD,PLN", "CZK; USD", "CZK USD PLN"]) {
    expect(text(await server.call("currency_convert", { amount: 100, from: "EUR", to })), to).toBe(
      `Invalid arguments for currency_convert: to: is one ISO 4217 code, not a list (${to}): call once for each`,
    );
  }
});

describe("bad input is a clear tool error", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["currency_convert", { amount: 0, from: "EUR", to: "USD" }, /amount/],
    ["currency_convert", { amount: -5, from: "EUR", to: "USD" }, /amount/],
    ["currency_convert", { amount: 1e12 + 0.01, from: "EUR", to: "USD" }, /amount/],
    ["currency_convert", { amount: 5, from: "EURO", to: "USD" }, /three-letter ISO 4217/],
    ["currency_convert", { amount: 5, from: "EUR", to: "XYZ" }, /"XYZ".*Check the code .*currency_list/],
    // A real currency the source does not fix daily is no misspelling: where its rate is, if anywhere.
    [
      "currency_convert",
      { amount: 1_000_000, from: "VND", to: "CZK", date: "2026-08-28", source: "cnb" },
      /^No rate for currency "VND" in the fixing of 2026-08-28 by the Czech National Bank\. VND is an ISO 4217 currency: the Czech National Bank fixes about 30 currencies daily and sets the others' rates on the last working day of each month, for the month after, in a list waiter does not read; currency_list with source "cnb" lists/,
    ],
    [
      "currency_convert",
      { amount: 5, from: "KES", to: "EUR" },
      /^(?!.*Check the code).*KES is an ISO 4217 currency: the ECB publishes reference rates for about 30 currencies, and none for the others;/s,
    ],
    // Gold, and the ISO 4217 codes the platform's ICU data leaves out, are no misspellings either.
    [
      "currency_convert",
      { amount: 5, from: "EUR", to: "xau" },
      /^(?!.*Check the code).*XAU is gold, a precious metal, which neither the ECB nor the CNB quotes; currency_list/s,
    ],
    // Not said to be in the CNB's monthly list of other currencies, which holds no metal.
    [
      "currency_convert",
      { amount: 5, from: "XAG", to: "CZK", source: "cnb" },
      /^(?!.*last working day).*XAG is silver, a precious metal, which neither the ECB nor the CNB quotes; currency_list with source "cnb"/s,
    ],
    // One the other source fixes daily is where that source is: XDR, the CNB's and not the ECB's.
    [
      "currency_convert",
      { amount: 5, from: "XDR", to: "EUR", date: "2026-08-28" },
      /^No rate for currency "XDR" in the fixing of 2026-08-28 by the European Central Bank\. XDR is fixed by the Czech National Bank, not by the European Central Bank: source "cnb" may have its rate; currency_list with source "ecb" lists/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD", "XDR", "VND"], start: "2026-08-24", end: "2026-08-28" },
      /^The European Central Bank published no rate for XDR, VND between 2026-08-24 and 2026-08-28\. VND is an ISO 4217 currency: the ECB publishes reference rates for about 30 currencies, and none for the others; XDR is fixed by the Czech National Bank, not by the European Central Bank: source "cnb" may have its rate; currency_list/,
    ],
    [
      "currency_rates",
      { base: "CLF" },
      /^(?!.*Check the code).*CLF is an ISO 4217 currency: the ECB publishes reference rates for about 30 currencies/s,
    ],
    // A currency the source stopped fixing had rates before: not "none", but an earlier date's.
    // The old lei and lira, which the ECB fixed until their new currencies took their place.
    ...[
      ["ROL", "2005-06-30", "RON"],
      ["TRL", "2004-12-31", "TRY"],
    ].map(([code, last, next]): [string, Record<string, unknown>, RegExp] => [
      "currency_convert",
      { amount: 5, from: code, to: "EUR", date: "2024-06-03" },
      new RegExp(
        `^(?!.*Check the code).*\\. ${code} was last fixed by the ECB on ${last}, before ${next}[^:;]* took its place: an earlier date has its rate, a later one none at either source; currency_list`,
        "s",
      ),
    ]),
    [
      "currency_convert",
      { amount: 5, from: "RUB", to: "CZK", date: "2026-08-28", source: "cnb" },
      /\. RUB was fixed by the Czech National Bank from 1998-01-02, in the place of RUR, until it suspended the rouble in March 2022: a date from the first to the last has its rate, and the European Central Bank has none for 2026-08-28 either: neither source has one; currency_list with source "cnb" lists/,
    ],
    // Before its first rouble of 1998 (the old one was RUR), no earlier date has a RUB rate either.
    [
      "currency_convert",
      { amount: 5, from: "RUB", to: "CZK", date: "1997-06-02", source: "cnb" },
      /^No rate for currency "RUB" in the fixing of 1997-06-02 by the Czech National Bank\. RUB was fixed by the Czech National Bank from 1998-01-02, in the place of RUR, until it suspended the rouble in March 2022: a date from the first to the last has its rate, and the European Central Bank has none for 1997-06-02 either: neither source has one; currency_list with source "cnb" lists/,
    ],
    // A currency the source fixes only from a later date on is not one it has no rates for: the date it began has them.
    [
      "currency_convert",
      { amount: 5, from: "EUR", to: "CNY", date: "2004-06-01" },
      /^No rate for currency "CNY" in the fixing of 2004-06-01 by the European Central Bank\. CNY is fixed by the European Central Bank from 2005-04-01 on: a later date's rate is not an earlier one's, but source "cnb" may have it; currency_list with source "ecb" lists/,
    ],
    [
      "currency_rates",
      { symbols: ["USD", "INR", "MXN"], date: "2007-06-01" },
      /^No rate for currency "INR" in the fixing of 2007-06-01 by the European Central Bank\. INR is fixed by the European Central Bank from 2009-01-02 on: a later date's rate is not an earlier one's, but source "cnb" may have it;/,
    ],
    [
      "currency_convert",
      { amount: 5, from: "ILS", to: "EUR", date: "2010-12-31" },
      /^No rate for currency "ILS" in the fixing of 2010-12-31 by the European Central Bank\. ILS is fixed by the European Central Bank from 2011-01-03 on: a later date's rate is not an earlier one's, but source "cnb" may have it;/,
    ],
    // The new lira and leu, whose old ones the ECB fixed until then: an invoice of before is in the old one.
    [
      "currency_convert",
      { amount: 5, from: "TRY", to: "EUR", date: "2004-12-31" },
      /^No rate for currency "TRY" in the fixing of 2004-12-31 by the European Central Bank\. TRY is fixed by the ECB from 2005-01-03 on, in the place of TRL, Turkey's old lira: a date from then on has its rate, and an earlier one TRL's;/,
    ],
    [
      "currency_rates",
      { symbols: ["RON"], date: "2005-06-30" },
      /^No rate for currency "RON" in the fixing of 2005-06-30 by the European Central Bank\. RON is fixed by the ECB from 2005-07-01 on, in the place of ROL, Romania's old leu: a date from then on has its rate, and an earlier one ROL's;/,
    ],
    // One on the CNB's list today that a fixing lacks, the new leu before it began: no later date's rate
    // is its, and the ECB, which began it on 2005-07-01 too, has none either: not sent from one to the other.
    [
      "currency_convert",
      { amount: 5, from: "RON", to: "CZK", date: "2004-06-01", source: "cnb" },
      /^No rate for currency "RON" in the fixing of 2004-06-01 by the Czech National Bank\. RON is fixed by the Czech National Bank from a later date on: a later date's rate is not an earlier one's, and the European Central Bank has none for 2004-06-01 either: neither source has one; currency_list with source "cnb" lists/,
    ],
    // A range too: the ECB has no RON at either end of it (it began on 2005-07-01).
    [
      "currency_history",
      { base: "CZK", symbols: ["RON"], start: "2004-01-05", end: "2004-01-09", source: "cnb" },
      /^The Czech National Bank published no rate for RON between 2004-01-05 and 2004-01-09\. RON is fixed by the Czech National Bank from a later date on: a later date's rate is not an earlier one's, and the European Central Bank has none between 2004-01-05 and 2004-01-09 either: neither source has one;/,
    ],
    // Before the ECB's first fixing, the CNB's rates begin, but not the new leu's: the refusal does not send there.
    [
      "currency_convert",
      { amount: 5, from: "RON", to: "CZK", date: "1998-06-01" },
      /^date must not be before 1999-01-04, the first fixing of the European Central Bank: its rates begin then, and a later date's rate is not an earlier one's; the Czech National Bank has none for RON on 1998-06-01 either: neither source has its rate then\.$/,
    ],
    [
      "currency_convert",
      { amount: 5, from: "USD", to: "CZK", date: "1998-06-01" },
      /; source "cnb" has rates from 1991-01-02 on\.$/,
    ],
    // A misspelt code is not said to have no rate at either source: the CNB's refusal says to check it.
    [
      "currency_convert",
      { amount: 5, from: "USX", to: "CZK", date: "1998-06-01" },
      /; source "cnb" has rates from 1991-01-02 on\.$/,
    ],
    [
      "currency_convert",
      { amount: 5, from: "USX", to: "CZK", date: "1998-06-01", source: "cnb" },
      /^No rate for currency "USX" in the fixing of 1998-06-01 by the Czech National Bank\. Check the code \(ISO 4217, like USD\)/,
    ],
    // Before the ECB's first fixing, the ECB has no rate of anything: the CNB's refusal does not send there.
    [
      "currency_convert",
      { amount: 5, from: "RON", to: "CZK", date: "1998-06-01", source: "cnb" },
      /^No rate for currency "RON" in the fixing of 1998-06-01 by the Czech National Bank\. RON is fixed by the Czech National Bank from a later date on: a later date's rate is not an earlier one's, and the European Central Bank has none for 1998-06-01 either: neither source has one;/,
    ],
    [
      "currency_convert",
      { amount: 5, from: "EUR", to: "CZK", date: "1998-06-01", source: "cnb" },
      /^No rate for currency "EUR" in the fixing of 1998-06-01 by the Czech National Bank\. EUR is fixed by the Czech National Bank from 1999-01-04 on, when the euro took the place of the ECU, which it fixed until then: no date before has a euro rate;/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["CNY", "THB"], start: "2004-01-05", end: "2004-01-09" },
      /^The European Central Bank published no rate for CNY, THB between 2004-01-05 and 2004-01-09\. CNY, THB are fixed by the European Central Bank from 2005-04-01 on: a later date's rate is not an earlier one's, but source "cnb" may have them; currency_list with source "ecb" lists/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD", "CNY", "VND"], start: "2004-01-05", end: "2004-01-09" },
      /^The European Central Bank published no rate for CNY, VND between 2004-01-05 and 2004-01-09\. VND is an ISO 4217 currency: the ECB publishes reference rates for about 30 currencies, and none for the others; CNY is fixed by the European Central Bank from 2005-04-01 on: a later date's rate is not an earlier one's, but source "cnb" may have it;/,
    ],
    [
      "currency_history",
      { base: "CZK", symbols: ["USD", "EUR"], start: "1998-01-05", end: "1998-01-09", source: "cnb" },
      /^The Czech National Bank published no rate for EUR between 1998-01-05 and 1998-01-09\. EUR is fixed by the Czech National Bank from 1999-01-04 on, when the euro took the place of the ECU, which it fixed until then: no date before has a euro rate;/,
    ],
    // The rouble, which the ECB began to fix after its first day, has no rate at an earlier date than the one asked
    // for; the Czech National Bank, which fixed it then, is named.
    [
      "currency_convert",
      { amount: 5, from: "RUB", to: "EUR", date: "2003-06-02" },
      /^No rate for currency "RUB" in the fixing of 2003-06-02 by the European Central Bank\. RUB was fixed by the ECB from 2005-04-01 until 2022-03-01: a date from the first to the last has its rate, but source "cnb" may have it; currency_list/,
    ],
    // A currency the euro replaced that the ECB began to fix after its first day: its own rates lie between.
    [
      "currency_convert",
      { amount: 100, from: "HRK", to: "EUR", date: "2003-06-02" },
      /^No rate for currency "HRK" in the fixing of 2003-06-02 by the European Central Bank\. HRK was fixed by the ECB from 2005-04-01 until 2022-12-30: a date from the first to the last has its rate; HRK was replaced by the euro on 2023-01-01/,
    ],
    [
      "currency_convert",
      { amount: 100, from: "BGN", to: "EUR", date: "2000-03-01" },
      /^No rate for currency "BGN" in the fixing of 2000-03-01 by the European Central Bank\. BGN was fixed by the ECB from 2000-07-19 until 2025-12-31: a date from the first to the last has its rate; BGN was replaced by the euro on 2026-01-01/,
    ],
    // A currency the source stopped fixing for a while has rates on either side of the gap, not only later.
    [
      "currency_convert",
      { amount: 5, from: "EUR", to: "ISK", date: "2012-06-01" },
      /^No rate for currency "ISK" in the fixing of 2012-06-01 by the European Central Bank\. ISK was fixed by the European Central Bank until 2008-12-09 and again from 2018-02-01 on: a date up to 2008-12-09, or from 2018-02-01 on, has its rate, but source "cnb" may have it; currency_list with source "ecb" lists/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["ISK", "CNY"], start: "2004-01-05", end: "2004-01-09" },
      /^The European Central Bank published no rate for CNY between 2004-01-05 and 2004-01-09\. CNY is fixed/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD", "ISK"], start: "2015-01-05", end: "2015-01-09" },
      /^The European Central Bank published no rate for ISK between 2015-01-05 and 2015-01-09\. ISK was fixed by the European Central Bank until 2008-12-09 and again from 2018-02-01 on: a date up to 2008-12-09, or from 2018-02-01 on, has its rate, but source "cnb" may have it;/,
    ],
    // A month's end mistyped, as a month is closed: the last day it has.
    ["currency_rates", { date: "2026-02-30" }, /date: is not a calendar date: 2026-02 ends on 2026-02-28$/],
    [
      "currency_convert",
      { amount: 5, from: "EUR", to: "CZK", date: "2026-11-31" },
      /date: is not a calendar date: 2026-11 ends on 2026-11-30$/,
    ],
    ["currency_rates", { date: "2024-02-30" }, /date: is not a calendar date: 2024-02 ends on 2024-02-29$/],
    ["currency_rates", { date: "2026-11-00" }, /date: is not a calendar date$/],
    // The first thing wrong with a date is the only one said: no month 0 is not also "after" today.
    ["currency_rates", { date: "2026-00-10" }, /^(?!.*after).*not a calendar date/s],
    ["currency_rates", { date: "30.8.2026" }, /^(?!.*(calendar|after)).*YYYY-MM-DD/s],
    // A day in words needs today's date, which a model may not know: the refusal gives it.
    [
      "currency_convert",
      { amount: 1, from: "EUR", to: "CZK", date: "yesterday" },
      /date: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now$/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD"], start: "start of last week", end: "2026-11-27" },
      /start: must be a date as YYYY-MM-DD; today is 2026-11-30 in Prague and Frankfurt, where the fixings are dated; it is 2026-11-30T08:00Z now$/,
    ],
    ["currency_rates", { date: "2999-01-01" }, /date: must not be after 2026-11-30/],
    ["currency_history", { base: "EUR", symbols: ["USD"], start: "2026-02-01", end: "2026-01-01" }, /after end/],
    ["currency_history", { base: "EUR", symbols: ["USD"], start: "2024-01-01", end: "2026-01-01" }, /at most 366 days/],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD", "CZK", "GBP", "JPY", "CHF", "PLN"], start: "2025-01-01", end: "2025-12-31" },
      /days times currencies/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD", "XYZ"], start: "2026-01-05", end: "2026-01-09" },
      /no rate for XYZ between/,
    ],
    [
      "currency_history",
      { base: "XYZ", symbols: ["USD", "JPY"], start: "2026-01-05", end: "2026-01-09" },
      /^The European Central Bank published no rate for XYZ between/,
    ],
    // A misspelt code, not a setting, is to blame.
    [
      "currency_history",
      { base: "EUR", symbols: ["XYZ"], start: "2026-01-05", end: "2026-01-09" },
      /^The European Central Bank published no rate for XYZ between 2026-01-05 and 2026-01-09\. Check the code \(ISO 4217, like USD\); currency_list with source "ecb" lists the currencies it publishes\.$/,
    ],
    [
      "currency_history",
      { base: "XYZ", symbols: ["KES"], start: "2026-01-05", end: "2026-01-09" },
      /^The European Central Bank published no rate for XYZ between 2026-01-05 and 2026-01-09\. Check the code \(ISO 4217, like USD\);/,
    ],
    // Real currencies the ECB does not publish are said to be such.
    [
      "currency_history",
      { base: "EUR", symbols: ["VND", "KES"], start: "2026-01-05", end: "2026-01-09" },
      /^The European Central Bank published no rate for VND, KES between 2026-01-05 and 2026-01-09\. VND, KES are ISO 4217 currencies: the ECB publishes reference rates for about 30 currencies, and none for the others; currency_list with source "ecb" lists the currencies it publishes\.$/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["VND", "RUB"], start: "2026-01-05", end: "2026-01-09" },
      /^The European Central Bank published no rate for VND, RUB between 2026-01-05 and 2026-01-09\. VND is an ISO 4217 currency: the ECB publishes reference rates for about 30 currencies, and none for the others; RUB was fixed by the ECB from 2005-04-01 until 2022-03-01: a date from the first to the last has its rate, and the Czech National Bank has none between 2026-01-05 and 2026-01-09 either: neither source has one; currency_list/,
    ],
    // A real currency the CNB does not fix daily is said to be one, as currency_convert says it.
    [
      "currency_history",
      { base: "CZK", symbols: ["EUR", "VND"], start: "2026-01-05", end: "2026-01-09", source: "cnb" },
      /^The Czech National Bank published no rate for VND between 2026-01-05 and 2026-01-09\. VND is an ISO 4217 currency: the Czech National Bank fixes about 30 currencies daily and sets the others' rates on the last working day of each month/,
    ],
    // A larger amount is told the limit, not to be cut into parts: 1e15 would take a thousand calls.
    [
      "currency_convert",
      { amount: 1e15, from: "IDR", to: "CZK", source: "cnb" },
      /^Invalid arguments for currency_convert: amount: must be at most 1,000,000,000,000$/,
    ],
    ["currency_history", { base: "EUR", symbols: [], start: "2026-01-01", end: "2026-01-02" }, /symbols/],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD"], start: "2026-08-29", end: "2026-08-30" },
      /No fixing between/,
    ],
    ["currency_rates", { source: "fed" }, /source/],
    // Monday morning: the day's fixing is still to come, and the range is not to blame.
    [
      "currency_history",
      { base: "EUR", symbols: ["USD"], start: "2026-11-30", end: "2026-11-30" },
      /^No fixing between 2026-11-30 and 2026-11-30 yet: the fixing of 2026-11-30 is not published yet \(the European Central Bank publishes around 16:00 Frankfurt time on working days\)\.$/,
    ],
    [
      "currency_history",
      { base: "EUR", symbols: ["USD"], start: "2026-11-28", end: "2026-11-30", source: "cnb" },
      /yet: the fixing of 2026-11-30 is not published yet \(the Czech National Bank publishes after 14:30 Prague time/,
    ],
  ];
  test.each(cases)("%s %j", async (tool, args, message) => {
    const result = await server.call(tool, args);
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(message);
  });

  test("a date after today names the latest date taken and what to send instead", async () => {
    setClock("2026-12-02T10:00:00Z"); // the 3rd has just begun in UTC+14
    const latest = "must not be after 2026-12-03, today in UTC+14 (the first time zone to reach a date)";
    const rates = await server.call("currency_rates", { date: "2026-12-04" });
    expect(text(rates)).toBe(
      `Invalid arguments for currency_rates: date: ${latest}; leave date out for the latest fixing`,
    );
    const range = { base: "EUR", symbols: ["CZK"], start: "2026-12-01", source: "cnb" };
    const history = await server.call("currency_history", { ...range, end: "2026-12-31" });
    expect(text(history)).toBe(
      `Invalid arguments for currency_history: end: ${latest}; an end of 2026-12-03 takes the range to the latest fixing`,
    );
    const ahead = await server.call("currency_history", { ...range, start: "2026-12-24", end: "2026-12-31" });
    expect(text(ahead)).toMatch(
      /^Invalid arguments for currency_history: start: .*; start on 2026-12-03 or earlier; end: /,
    );
    // What it says to send is taken.
    const sent = await server.call("currency_history", { ...range, end: "2026-12-03" });
    expect(sent.structuredContent).toMatchObject({ start: "2026-12-01", end: "2026-12-01" });
  });
});

describe("a date before a source's first fixing", () => {
  const ecbFirst = "must not be before 1999-01-04, the first fixing of the European Central Bank";
  const cnbFirst = "must not be before 1991-01-02, the first fixing of the Czech National Bank";
  // A later date's rates are not the rates of the date asked for: the other source's may be.
  const atCnb =
    "its rates begin then, and a later date's rate is not an earlier one's; source \"cnb\" has rates from 1991-01-02 on.";
  const atNeither = (other: string) =>
    `its rates begin then, and a later date's rate is not an earlier one's; ${other}: neither source has rates that early.`;
  const ecbToo = atNeither("the European Central Bank's begin on 1999-01-04");
  const cnbToo = atNeither("the Czech National Bank's begin on 1991-01-02");
  const range = { base: "EUR", symbols: ["USD"] };

  test("is refused naming that date, and the other source where its rates begin earlier", async () => {
    for (const date of ["1991-01-02", "1998-12-31", "1999-01-03"]) {
      const rates = await server.call("currency_rates", { date, base: "USD" });
      expect(text(rates), date).toBe(`date ${ecbFirst}: ${atCnb}`);
      // A day's rates asked with no base: the CNB's of that day, against the koruna, are what is sent to.
      expect(text(await server.call("currency_rates", { date })), date).toBe(`date ${ecbFirst}: ${atCnb}`);
      const convert = await server.call("currency_convert", { amount: 1, from: "USD", to: "CZK", date });
      expect(text(convert), date).toBe(`date ${ecbFirst}: ${atCnb}`);
      // No fixing had the euro before it began: the CNB's of those dates have none either.
      const euro = await server.call("currency_convert", { amount: 1, from: "EUR", to: "USD", date });
      expect(text(euro), date).toBe(
        `date ${ecbFirst}: its rates begin then, and a later date's rate is not an earlier one's; the Czech National Bank has none for EUR on ${date} either: neither source has its rate then.`,
      );
    }
    for (const date of ["0000-01-01", "1990-12-31"]) {
      expect(text(await server.call("currency_rates", { date })), date).toBe(`date ${ecbFirst}: ${cnbToo}`);
    }
    // The CNB's series begins with 1991, and 1 January is a Czech holiday without a fixing.
    for (const date of ["0000-01-01", "1990-12-31", "1991-01-01"]) {
      const rates = await server.call("currency_rates", { date, source: "cnb" });
      expect(text(rates), date).toBe(`date ${cnbFirst}: ${ecbToo}`);
    }
    // What it says to send is taken.
    const cnb = await server.call("currency_rates", { date: "1998-12-31", symbols: ["USD"], source: "cnb" });
    expect(cnb.structuredContent).toEqual(expect.objectContaining({ date: "1998-12-31" }));
    const ecb = await server.call("currency_rates", { date: "1999-01-04", symbols: ["USD"] });
    expect(ecb.structuredContent).toEqual(expect.objectContaining({ date: "1999-01-04" }));
    expect(ecb.structuredContent).not.toHaveProperty("note");
    const cnbRates = await server.call("currency_rates", { date: "1991-01-02", symbols: ["USD"], source: "cnb" });
    expect(cnbRates.structuredContent).toEqual(expect.objectContaining({ date: "1991-01-02" }));
    expect(cnbRates.structuredContent).not.toHaveProperty("note");
  });

  test("ends a history range: it is refused naming the first fixing, and the other source's where earlier", async () => {
    const refused = [
      [{ start: "0000-01-01", end: "0000-01-05" }, `end ${ecbFirst}: ${cnbToo}`],
      [{ start: "1998-01-01", end: "1998-12-31", base: "USD", symbols: ["GBP"] }, `end ${ecbFirst}: ${atCnb}`],
      // A misspelt code is sent on, for the CNB's refusal to say to check it.
      [{ start: "1998-01-01", end: "1998-12-31", base: "USD", symbols: ["USX"] }, `end ${ecbFirst}: ${atCnb}`],
      // No fixing had the euro before it began: the CNB's of the range's ends have none either.
      [
        { start: "1998-01-01", end: "1998-12-31" },
        `end ${ecbFirst}: its rates begin then, and a later date's rate is not an earlier one's; the Czech National Bank has none for EUR between 1998-01-01 and 1998-12-31 either: neither source has its rate then.`,
      ],
      // Reversed, and before the series all the same: the end is what to change, not the order.
      [{ start: "1998-12-31", end: "0001-01-01", base: "USD", symbols: ["GBP"] }, `end ${ecbFirst}: ${atCnb}`],
      [{ start: "1900-01-01", end: "1900-12-31", source: "cnb" }, `end ${cnbFirst}: ${ecbToo}`],
    ] as const;
    for (const [dates, message] of refused) {
      expect(text(await server.call("currency_history", { ...range, ...dates })), JSON.stringify(dates)).toBe(message);
    }
  });

  test("starts a history range: it is answered from the first fixing, and its days before count for nothing", async () => {
    const ecb = await server.call("currency_history", { ...range, start: "0000-01-01", end: "1999-01-10" });
    expect(ecb.structuredContent).toMatchObject({ start: "1999-01-04", end: "1999-01-08" });
    expect(frankfurter.requests.map((r) => r.path)).toContain("/v1/1999-01-04..1999-01-10");
    // The CNB fixed no EUR before 1999.
    const cnbHistory = await server.call("currency_history", {
      base: "CZK",
      symbols: ["USD"],
      start: "1990-12-01",
      end: "1991-01-10",
      source: "cnb",
    });
    expect(cnbHistory.structuredContent).toMatchObject({ start: "1991-01-02", end: "1991-01-10" });
    // Its days before are said to be before the first fixing, not days without one, and where their rates are.
    expect(text(cnbHistory)).toContain(
      "\nThe range is answered from 1991-01-02, the first fixing of the Czech National Bank: no date before has its rates; the European Central Bank's begin on 1999-01-04: neither source has rates that early.\n",
    );
    const december = await server.call("currency_history", {
      base: "USD",
      symbols: ["GBP"],
      start: "1998-12-21",
      end: "1999-01-06",
    });
    expect(december.structuredContent).toMatchObject({ start: "1999-01-04", end: "1999-01-06" });
    expect(text(december)).toContain(
      '\nThe range is answered from 1999-01-04, the first fixing of the European Central Bank: no date before has its rates; source "cnb" has rates from 1991-01-02 on. ',
    );
    const euro = await server.call("currency_history", { ...range, start: "1998-12-21", end: "1999-01-06" });
    expect(text(euro)).toContain(
      "\nThe range is answered from 1999-01-04, the first fixing of the European Central Bank: no date before has its rates; the Czech National Bank has none for EUR between 1998-12-21 and 1999-01-03 either: neither source has its rate then.\n",
    );
    // Too long all the same: counted from the first fixing, which the message names once.
    const long = await server.call("currency_history", { ...range, start: "0000-01-01", end: "2024-01-01" });
    expect(text(long)).toBe(
      "The range spans 9129 days from 1999-01-04, the first fixing of the European Central Bank, for 1 currency; at most 366 days fit in one call: ask for 1999-01-04 to 2000-01-04, then go on from 2000-01-05.",
    );
  });

  test("in a reversed range is told to swap them only where the swapped range is taken", async () => {
    const reversed = await server.call("currency_history", { ...range, start: "2024-01-01", end: "0000-01-01" });
    expect(text(reversed)).toBe(
      "start (2024-01-01) is after end (0000-01-01), and the range spans 9129 days from 1999-01-04, the first fixing of the European Central Bank, for 1 currency; at most 366 days fit in one call: ask for 1999-01-04 to 2000-01-04, then go on from 2000-01-05.",
    );
    const swap = await server.call("currency_history", { ...range, start: "1999-01-10", end: "0000-01-01" });
    expect(text(swap)).toBe("start (1999-01-10) is after end (0000-01-01); swap them.");
    const swapped = await server.call("currency_history", { ...range, start: "0000-01-01", end: "1999-01-10" });
    expect(swapped.structuredContent).toMatchObject({ start: "1999-01-04", end: "1999-01-08" });
  });
});

test("a code without a rate is sent to currency_list only where the session serves it", async () => {
  const env = { WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`, WAITER_CNB_URL: `${cnb.origin}/cnbapi` };
  const converting = await startWaiter(env, { allow: (tool) => tool.name === "currency_convert" });
  const charting = await startWaiter(env, { allow: (tool) => tool.name === "currency_history" });
  try {
    const unknown = await converting.call("currency_convert", { amount: 1, from: "EUR", to: "XYZ" });
    expect(text(unknown)).toBe(
      'No rate for currency "XYZ" in the fixing of 2026-11-27 by the European Central Bank. Check the code (ISO 4217, like USD).',
    );
    const absent = await charting.call("currency_history", {
      base: "EUR",
      symbols: ["VND"],
      start: "2026-01-05",
      end: "2026-01-09",
    });
    expect(text(absent)).toBe(
      "The European Central Bank published no rate for VND between 2026-01-05 and 2026-01-09. VND is an ISO 4217 currency: the ECB publishes reference rates for about 30 currencies, and none for the others.",
    );
    const served = await server.call("currency_convert", { amount: 1, from: "EUR", to: "XYZ" });
    expect(text(served)).toMatch(/Check the code \(ISO 4217, like USD\); currency_list with source "ecb" lists/);
  } finally {
    await Promise.all([converting.close(), charting.close()]);
  }
});

describe("broken upstreams fail clearly and in time", () => {
  test("a 500 names the upstream and its status", async () => {
    frankfurter.intercept = answering("/v1/2020-03-02", {
      status: 500,
      body: "Internal Server Error",
      headers: { "content-type": "text/plain" },
    });
    const result = await server.call("currency_rates", { date: "2020-03-02" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/Frankfurter \(ECB rates\) answered 500 "Internal Server Error".*try again later/);
  });

  test("a currency converted to itself is answered at 1 without a fixing, while the source is down", async () => {
    frankfurter.intercept = () => ({
      status: 500,
      body: "Internal Server Error",
      headers: { "content-type": "text/plain" },
    });
    const asked = [frankfurter.requests.length, cnb.requests.length];
    const result = await server.call("currency_convert", {
      amount: 1234.567,
      from: "CZK",
      to: "CZK",
      date: "2020-03-11",
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({
      amount: 1234.567,
      from: "CZK",
      to: "CZK",
      rate: 1,
      result: 1234.57,
      date: "2020-03-11",
      note: "CZK in CZK is the amount at 1 on any day, so no fixing of the European Central Bank was asked for or used.",
      source: "ecb",
    });
    expect(text(result)).toBe(
      "1,234.567 CZK = 1,234.57 CZK at 1 (no fixing)\nCZK in CZK is the amount at 1 on any day, so no fixing of the European Central Bank was asked for or used.",
    );
    const latest = await server.call("currency_convert", { amount: 5, from: "EUR", to: "EUR", source: "cnb" });
    expect(latest.structuredContent).toMatchObject({ result: 5, date: "2026-11-30", source: "cnb" });
    expect([frankfurter.requests.length, cnb.requests.length]).toEqual(asked);
    frankfurter.intercept = undefined;
    const misspelt = await server.call("currency_convert", { amount: 1, from: "XYZ", to: "XYZ" });
    expect(text(misspelt)).toMatch(/Check the code \(ISO 4217, like USD\)/);
  });

  test("a 401 or 403 from an API that takes no key says so, and names the setting that holds its URL", async () => {
    const page = { body: "<html>Forbidden</html>", headers: { "content-type": "text/html" } };
    frankfurter.intercept = answering("/v1/2020-03-09", { status: 403, ...page });
    const blocked = await server.call("currency_rates", { date: "2020-03-09" });
    expect(text(blocked)).toBe(
      "Frankfurter (ECB rates) answered 403: it refused the request, which carries no credentials: it, or a firewall in front of it, does not let this machine in; tell whoever runs waiter, or check WAITER_FRANKFURTER_URL.",
    );
    cnb.intercept = answering(cnbDaily("2020-03-09"), { status: 401, ...page });
    const asked = await server.call("currency_rates", { source: "cnb", date: "2020-03-09" });
    expect(text(asked)).toBe(
      "CNB API answered 401: it asks for credentials, which waiter sends it none of; check WAITER_CNB_URL, which may point at another service, or put in it the user and password of a gateway in front of it (https://user:password@host/path).",
    );
  });

  test("a 405 or 410, which no argument mends, names the setting that holds the URL, not the arguments", async () => {
    frankfurter.intercept = answering("/v1/2020-03-10", {
      status: 405,
      body: "<html>Not Allowed</html>",
      headers: { "content-type": "text/html" },
    });
    const result = await server.call("currency_rates", { date: "2020-03-10" });
    expect(text(result)).toBe(
      "Frankfurter (ECB rates) answered 405: it takes no such request at that address, whatever the arguments; check WAITER_FRANKFURTER_URL, which may point at another service, or if it is right, tell whoever runs waiter.",
    );
    cnb.intercept = answering(cnbDaily("2020-03-10"), { status: 410, body: "" });
    const gone = await server.call("currency_rates", { source: "cnb", date: "2020-03-10" });
    expect(text(gone)).toBe(
      "CNB API answered 410: it takes no such request at that address, whatever the arguments; check WAITER_CNB_URL, which may point at another service, or if it is right, tell whoever runs waiter.",
    );
  });

  test("a CNB validation error passes its description on", async () => {
    cnb.intercept = answering(cnbDaily("2020-03-03"), {
      status: 400,
      headers: { "content-type": "application/json" },
      body: '{"description":"Date out of range","endPoint":"/cnbapi/exrates/daily","errorCode":"VALIDATION_ERROR","happenedAt":"2026-01-01T00:00:00Z","messageId":"x"}',
    });
    const result = await server.call("currency_rates", { source: "cnb", date: "2020-03-03" });
    expect(text(result)).toBe(
      'CNB API answered 400 "Date out of range": it refused the request; if its words point at an argument, change that, else tell whoever runs waiter.',
    );
  });

  test("a 422 from Frankfurter tells its words, and does not blame arguments it was not sent", async () => {
    frankfurter.intercept = answering("/v1/2020-03-11", json(422, '{"message":"bad currency pair"}'));
    const result = await server.call("currency_rates", { date: "2020-03-11" });
    expect(text(result)).toBe(
      'Frankfurter (ECB rates) answered 422 "bad currency pair": it refused the request; if its words point at an argument, change that, else tell whoever runs waiter.',
    );
  });

  test("a 408 is the service that did not wait for the request, nothing wrong with the arguments: try again", async () => {
    frankfurter.intercept = answering("/v1/2020-03-12", {
      status: 408,
      body: "<html>Request Timeout</html>",
      headers: { "content-type": "text/html" },
    });
    const result = await server.call("currency_rates", { date: "2020-03-12" });
    expect(text(result)).toBe(
      "Frankfurter (ECB rates) answered 408: it did not receive the whole request in time (a slow network, or the service busy); try again.",
    );
  });

  test("an answer that is not JSON is reported, not crashed on", async () => {
    frankfurter.intercept = answering("/v1/2020-03-04", {
      status: 200,
      body: "<html>maintenance</html>",
      headers: { "content-type": "text/html" },
    });
    const result = await server.call("currency_rates", { date: "2020-03-04" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /not JSON \(status 200, 24 bytes, beginning "<html>maintenance<\/html>"\); check WAITER_FRANKFURTER_URL, which may point at another service, or Frankfurter \(ECB rates\) may be failing: try again later, and if it lasts, tell whoever runs it what it sends\.$/,
    );
  });

  test("JSON of the wrong shape is reported", async () => {
    frankfurter.intercept = answering("/v1/2020-03-05", {
      status: 200,
      body: '{"amount":1.0,"base":"EUR","date":"2020-03-05","rates":{"USD":"x"}}',
    });
    const result = await server.call("currency_rates", { date: "2020-03-05" });
    expect(text(result)).toMatch(/unexpected format \(rates.USD/);
  });

  test("an empty CNB fixing is a failure, not kept: the next call asks again", async () => {
    setClock("2026-11-28T09:00:00Z"); // a Saturday: a kept answer would last until Monday
    const session = await startCurrency();
    try {
      cnb.intercept = answering(cnbDaily(), {
        status: 200,
        headers: { "content-type": "application/json" },
        body: '{"rates":[]}',
      });
      const empty = await session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source: "cnb" });
      expect(empty.isError).toBe(true);
      expect(text(empty)).toBe("The Czech National Bank answered an empty fixing; try again later.");
      const before = cnb.count("/cnbapi/exrates/daily");
      const again = await session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source: "cnb" });
      expect(again.structuredContent).toMatchObject({ date: "2026-11-27" });
      expect(cnb.count("/cnbapi/exrates/daily") - before).toBe(1);
    } finally {
      await session.close();
    }
  });

  test("an empty ECB table for a past date is a failure, not a month of zero rates", async () => {
    frankfurter.intercept = answering("/v1/2020-01-10", {
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"amount":1.0,"base":"EUR","date":"2020-01-10","rates":{}}',
    });
    const empty = await server.call("currency_rates", { date: "2020-01-10" });
    expect(empty.isError).toBe(true);
    expect(text(empty)).toMatch(/^The European Central Bank answered an empty fixing; try again later\.$/);
    const again = await server.call("currency_convert", { amount: 1, from: "EUR", to: "USD", date: "2020-01-10" });
    expect(again.isError, text(again)).toBeFalsy();
    expect(frankfurter.count("/v1/2020-01-10")).toBe(2);
  });

  test("an answer the source cannot have sent is a failure, not kept: no currency, a range or a past year without a fixing", async () => {
    const session = await startCurrency();
    const gateway = json(200, '{"message":"upstream temporarily unavailable"}');
    try {
      // Kept, each would have stood for a day or a month.
      frankfurter.intercept = answering("/v1/currencies", json(200, "{}"), gateway);
      for (const said of ["body: lists no currency", "message: Invalid key in record"]) {
        const list = await session.call("currency_list", { source: "ecb" });
        expect(list.isError, said).toBe(true);
        expect(text(list)).toBe(
          `Frankfurter (ECB rates) sent an answer in an unexpected format (${said}); check WAITER_FRANKFURTER_URL, which may point at another service, or Frankfurter (ECB rates) may have changed or be failing.`,
        );
      }
      const listed = await session.call("currency_list", { source: "ecb" });
      expect((listed.structuredContent as { currencies: unknown[] }).currencies).toContainEqual({
        code: "USD",
        name: "US Dollar",
      });

      const week = { base: "EUR", symbols: ["USD"], start: "2020-02-03", end: "2020-02-07" };
      frankfurter.intercept = answering(
        "/v1/2020-02-03..2020-02-07",
        json(200, '{"amount":1.0,"base":"EUR","start_date":"2020-02-03","rates":{}}'),
      );
      const empty = await session.call("currency_history", week);
      expect(text(empty)).toMatch(
        /^Frankfurter \(ECB rates\) sent an answer in an unexpected format \(rates: has no fixing\)/,
      );
      const ecb = await session.call("currency_history", week);
      expect((ecb.structuredContent as { days: unknown[] }).days).toHaveLength(5);

      cnb.intercept = answering("/cnbapi/exrates/daily-year", json(200, '{"rates":[]}'));
      const none = await session.call("currency_history", { ...week, source: "cnb" });
      expect(text(none)).toMatch(/^CNB API sent an answer in an unexpected format \(rates: has no fixing\)/);
      const czech = await session.call("currency_history", { ...week, source: "cnb" });
      expect((czech.structuredContent as { days: unknown[] }).days).toHaveLength(5);
    } finally {
      await session.close();
    }
  });

  test("a 503 is retried and then answered", async () => {
    frankfurter.intercept = answering("/v1/2020-03-06", { status: 503, headers: { "retry-after": "0" }, body: "" });
    const before = frankfurter.count("/v1/2020-03-06");
    const result = await server.call("currency_rates", { date: "2020-03-06", symbols: ["USD"] });
    expect(result.isError).toBeFalsy();
    expect(frankfurter.count("/v1/2020-03-06") - before).toBe(2);
  });

  test("an upstream slower than the deadline fails within it", async () => {
    frankfurter.delayMs = 10_000;
    const impatient = await startCurrency({ WAITER_TOOL_TIMEOUT: "1" });
    const started = performance.now();
    const result = await impatient.call("currency_rates", { date: "2020-03-09" });
    const took = performance.now() - started;
    await impatient.close();
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/did not answer before the tool call's deadline/);
    // At the deadline, not at the upstream's answer 10 s on: the margin is a loaded machine's.
    expect(took).toBeLessThan(5_000);
  });
});

describe("a refusal that asks the other source's fixing of the date", () => {
  const ron = (date: string, extra: Record<string, unknown> = {}) =>
    ({ amount: 5, from: "RON", to: "CZK", date, source: "cnb", ...extra }) as const;
  const mayHave = (date: string) =>
    `No rate for currency "RON" in the fixing of ${date} by the Czech National Bank. RON is fixed by the Czech National Bank from a later date on: a later date's rate is not an earlier one's, but source "ecb" may have it;`;

  test("says no source has the old leu's or lira's rate after its new one took its place, whether the other answers or not", async () => {
    for (const [code, last, next] of [
      ["ROL", "2005-06-30", "RON"],
      ["TRL", "2004-12-31", "TRY"],
    ]) {
      for (const down of [true, false]) {
        cnb.intercept = down ? () => ({ status: 500, body: "Internal Server Error" }) : undefined;
        const result = await server.call("currency_convert", { amount: 5, from: code, to: "EUR", date: "2024-06-04" });
        expect(text(result), `${code}, the CNB ${down ? "down" : "up"}`).toMatch(
          new RegExp(
            `^No rate for currency "${code}" in the fixing of 2024-06-04 by the European Central Bank\\. ${code} was last fixed by the ECB on ${last}, before ${next}[^:;]* took its place: an earlier date has its rate, a later one none at either source; currency_list`,
          ),
        );
      }
    }
  });

  test("says the other source may have the rate when that fixing cannot be had", async () => {
    frankfurter.intercept = (request) =>
      request.path === "/v1/2004-06-02" ? { status: 500, body: "Internal Server Error" } : undefined;
    try {
      const result = await server.call("currency_convert", ron("2004-06-02"));
      expect(text(result)).toContain(mayHave("2004-06-02"));
    } finally {
      frankfurter.intercept = undefined;
    }
  });

  test("is answered within the deadline when the other source is slower than it", async () => {
    frankfurter.intercept = (request) =>
      request.path === "/v1/2004-06-03" ? { status: 200, body: "{}", delayMs: 10_000 } : undefined;
    // The other source is given up at half the deadline, 3 s: the other half is a loaded machine's margin.
    const impatient = await startCurrency({ WAITER_TOOL_TIMEOUT: "6" });
    try {
      const started = performance.now();
      const result = await impatient.call("currency_convert", ron("2004-06-03"));
      expect(text(result)).toContain(mayHave("2004-06-03"));
      expect(performance.now() - started).toBeLessThan(6_000);
    } finally {
      frankfurter.intercept = undefined;
      await impatient.close();
    }
  });

  test("gives up waiting without cutting short a call that asked for the same fixing meanwhile", async () => {
    const session = await startCurrency({ WAITER_TOOL_TIMEOUT: "4" });
    let release = () => {};
    frankfurter.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const refusal = session.call("currency_convert", ron("2004-06-07"));
      await vi.waitFor(() => expect(frankfurter.count("/v1/2004-06-07")).toBe(1), { timeout: 4_000 });
      // Asked for by a call of its own, with the whole tool timeout to wait: it shares the request.
      const asked = session.call("currency_convert", { amount: 100, from: "EUR", to: "USD", date: "2004-06-07" });
      expect(text(await refusal)).toContain(mayHave("2004-06-07"));
      release();
      const answer = await asked;
      expect(answer.isError, text(answer)).toBeFalsy();
      expect(answer.structuredContent).toMatchObject({ date: "2004-06-07" });
    } finally {
      release();
      frankfurter.held = undefined;
      await session.close();
    }
  });
});

test("a base URL without the API's path is a clear 404, not a crash", async () => {
  const misconfigured = await startCurrency({ WAITER_FRANKFURTER_URL: frankfurter.origin });
  const result = await misconfigured.call("currency_rates", {});
  await misconfigured.close();
  expect(result.isError).toBe(true);
  // No argument of a currency tool goes into the path: the URL is what to check, not identifiers.
  expect(text(result)).toBe(
    'Frankfurter (ECB rates) answered 404 "not found": it has nothing at that address; check WAITER_FRANKFURTER_URL, which may point at another service, or if it is right, tell whoever runs waiter.',
  );
});

test("a base URL without the API's path is a 404 that names it for a history of real currencies too, not the ECB's list", async () => {
  const misconfigured = await startCurrency({ WAITER_FRANKFURTER_URL: frankfurter.origin });
  const history = await misconfigured.call("currency_history", {
    base: "EUR",
    symbols: ["USD"],
    start: "2026-01-05",
    end: "2026-01-09",
  });
  const list = await misconfigured.call("currency_list", {});
  await misconfigured.close();
  expect(history.isError).toBe(true);
  expect(text(history)).toBe(
    'Frankfurter (ECB rates) answered 404 "not found": it has nothing at that address; check WAITER_FRANKFURTER_URL, which may point at another service, or if it is right, tell whoever runs waiter.',
  );
  expect(text(history)).toBe(text(list));
});

test("a URL set in the config file is named as its key in that file, not as a variable nobody set", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
  writeFileSync(file, JSON.stringify({ currency: { frankfurterUrl: frankfurter.origin } }));
  const fromFile = await startWaiter({ WAITER_CONFIG: file, WAITER_CNB_URL: `${cnb.origin}/cnbapi` });
  const result = await fromFile.call("currency_rates", {});
  await fromFile.close();
  expect(text(result)).toMatch(/check currency\.frankfurterUrl in .*waiter\.json, which may point at another service/);
});

test("Frankfurter moving (api.frankfurter.app to .dev) names the setting that holds its URL", async () => {
  // A waiter of its own: the shared one has the latest fixing cached.
  const moved = await startCurrency();
  frankfurter.intercept = answering("/v1/latest", {
    status: 301,
    headers: { location: "https://api.frankfurter.dev/v1/latest" },
  });
  const result = await moved.call("currency_rates", { symbols: ["USD"] });
  expect(result.isError).toBe(true);
  expect(text(result)).toBe(
    "Frankfurter (ECB rates) answered 301: it moved this to https://api.frankfurter.dev/v1/latest; check WAITER_FRANKFURTER_URL.",
  );
  cnb.intercept = answering(cnbDaily(), {
    status: 308,
    headers: { location: "https://api.cnb.cz/cnbapi/v2/exrates/daily" },
  });
  const fromCnb = await moved.call("currency_rates", { source: "cnb", symbols: ["EUR"] });
  await moved.close();
  expect(text(fromCnb)).toMatch(/^CNB API answered 308: it moved this to .*; check WAITER_CNB_URL\.$/);
});

describe("caching and coalescing", () => {
  test("twenty identical calls at once go upstream once", async () => {
    frankfurter.delayMs = 200;
    const before = frankfurter.count("/v1/2019-06-03");
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        server.call("currency_convert", { amount: 1, from: "EUR", to: "USD", date: "2019-06-03" }),
      ),
    );
    expect(results.every((r) => !r.isError)).toBe(true);
    expect(frankfurter.count("/v1/2019-06-03") - before).toBe(1);
  });

  test("a past fixing is served from the cache for other pairs too", async () => {
    await server.call("currency_convert", { amount: 1, from: "EUR", to: "USD", date: "2019-06-04" });
    await server.call("currency_convert", { amount: 1, from: "GBP", to: "JPY", date: "2019-06-04" });
    await server.call("currency_rates", { date: "2019-06-04" });
    expect(frankfurter.count("/v1/2019-06-04")).toBe(1);
  });

  test("the latest answered from the cache reads no time zone's clock", async () => {
    const calls = [
      ["currency_rates", { symbols: ["USD"] }],
      ["currency_convert", { amount: 1, from: "EUR", to: "USD" }],
    ] as const;
    const latest = () =>
      Promise.all(
        calls.flatMap(([name, args]) => ["ecb", "cnb"].map((source) => server.call(name, { ...args, source }))),
      );
    expect((await latest()).every((r) => !r.isError)).toBe(true);
    // Reading a zone's wall clock is the dearest step of an answer that needs no upstream.
    const zoned = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    try {
      expect((await latest()).every((r) => !r.isError)).toBe(true);
      expect(zoned).not.toHaveBeenCalled();
    } finally {
      zoned.mockRestore();
    }
  });

  test("requests name waiter in the User-Agent", async () => {
    await server.call("currency_rates", { date: "2019-06-05" });
    const request = frankfurter.requests.find((r) => r.path === "/v1/2019-06-05");
    expect(request?.headers["user-agent"]).toMatch(/^waiter-mcp\/\d+\.\d+\.\d+ \(\+https:\/\/.+\)$/);
  });
});

describe("the latest fixing follows each source's publication time", () => {
  // [moment, what it is, the newest ECB fixing then, the newest CNB fixing then]
  const moments: [string, string, string, string][] = [
    ["2026-11-27T13:29:00Z", "a Friday, 14:29 in Prague and Frankfurt", "2026-11-26", "2026-11-26"],
    ["2026-11-27T13:31:00Z", "a Friday, 14:31: the CNB has published", "2026-11-26", "2026-11-27"],
    ["2026-11-27T15:01:00Z", "a Friday, 16:01: the ECB has published", "2026-11-27", "2026-11-27"],
    ["2026-11-27T23:30:00Z", "a Friday 23:30 UTC, already Saturday in Prague", "2026-11-27", "2026-11-27"],
    ["2026-11-29T12:00:00Z", "a Sunday", "2026-11-27", "2026-11-27"],
    ["2026-03-30T12:29:00Z", "14:29 on the Monday after clocks went forward", "2026-03-27", "2026-03-27"],
    ["2026-03-30T12:31:00Z", "14:31 summer time, 13:31 by winter time", "2026-03-27", "2026-03-30"],
    ["2026-12-31T23:10:00Z", "New Year's Day, ten past midnight in Prague", "2026-12-31", "2026-12-31"],
    ["2026-10-28T13:31:00Z", "28 October, a Czech holiday, 14:31 in Prague", "2026-10-27", "2026-10-27"],
    ["2026-10-28T22:30:00Z", "28 October, 23:30 in Prague", "2026-10-28", "2026-10-27"],
    ["2026-12-24T13:31:00Z", "Christmas Eve, a Czech holiday, 14:31 in Prague", "2026-12-23", "2026-12-23"],
    ["2026-12-24T22:30:00Z", "Christmas Eve, 23:30 in Prague", "2026-12-24", "2026-12-23"],
    ["2026-04-03T15:30:00Z", "Good Friday, 17:30 in Frankfurt and Prague", "2026-04-02", "2026-04-02"],
    ["2026-04-06T15:30:00Z", "Easter Monday, 17:30", "2026-04-02", "2026-04-02"],
    ["2026-05-08T15:30:00Z", "8 May, a Czech holiday, 17:30: the ECB has published", "2026-05-08", "2026-05-07"],
  ];

  test.each(moments)("at %s (%s)", async (moment, _what, ecb, czech) => {
    setClock(moment);
    const session = await startCurrency();
    try {
      const sent = { ecb: frankfurter.count("/v1/latest"), cnb: cnb.count("/cnbapi/exrates/daily") };
      let closingDay = false;
      for (const [source, expected, calendar, holiday] of [
        ["ecb", ecb, TARGET, "TARGET closing day"],
        ["cnb", czech, CZECH, "Czech public holiday"],
      ] as const) {
        const latest = await session.call("currency_rates", { source, symbols: ["USD"] });
        expect(latest.structuredContent, source).toMatchObject({ source, date: expected });
        expect(latest.structuredContent).not.toHaveProperty("requested_date");
        // Today, where the source publishes, is never refused as a future date: not published
        // yet, it is the latest fixing, and the answer says which.
        const today = new Intl.DateTimeFormat("en-CA", {
          timeZone: source === "ecb" ? "Europe/Berlin" : "Europe/Prague",
        }).format(Date.parse(moment));
        const asked = await session.call("currency_convert", {
          amount: 1,
          from: "EUR",
          to: "USD",
          date: today,
          source,
        });
        expect(asked.isError, text(asked)).toBeFalsy();
        expect(asked.structuredContent).toMatchObject({ date: expected });
        if (today !== expected) {
          expect(asked.structuredContent).toMatchObject({ requested_date: today });
          // A working day's fixing is still to come; a weekend has none, and a closing day is named
          // as one all day long.
          const closed = !isWorkingDay(today, calendar) && !/Sat|Sun/.test(weekday(today));
          closingDay ||= closed;
          expect(text(asked)).toContain(
            isWorkingDay(today, calendar)
              ? `The fixing of ${today} is not published yet`
              : `No fixing exists for ${today} (a ${weekday(today)}${closed ? `: a ${holiday}` : ""}); these are the rates of ${expected},`,
          );
        }
      }
      // Every latest-fixing question after the first was answered from the cache.
      expect(frankfurter.count("/v1/latest") - sent.ecb).toBe(1);
      expect(cnb.count("/cnbapi/exrates/daily") - sent.cnb).toBe(1);
      if (closingDay) {
        // Nor is the latest fixing asked for again every few minutes on a closing day.
        setClock(Date.parse(moment) + 10 * 60_000);
        for (const source of ["ecb", "cnb"]) await session.call("currency_rates", { source, symbols: ["USD"] });
        expect(frankfurter.count("/v1/latest") - sent.ecb).toBe(1);
        expect(cnb.count("/cnbapi/exrates/daily") - sent.cnb).toBe(1);
      }
    } finally {
      await session.close();
    }
  });

  test("the latest kept from before a publication instant is not served once the new fixing is out", async () => {
    // [just before, just after, source, the fixing before, the one published at the instant]
    const instants: [string, string, "ecb" | "cnb", string, string][] = [
      ["2026-11-27T13:29:30Z", "2026-11-27T13:30:05Z", "cnb", "2026-11-26", "2026-11-27"], // 14:29:30, 14:30:05 in Prague
      ["2026-11-27T14:59:30Z", "2026-11-27T15:00:05Z", "ecb", "2026-11-26", "2026-11-27"], // 15:59:30, 16:00:05 in Frankfurt
      // The Monday after clocks went forward, in summer time, an hour before the same instants by winter time.
      ["2026-03-30T12:29:30Z", "2026-03-30T12:30:05Z", "cnb", "2026-03-27", "2026-03-30"],
      ["2026-03-30T13:59:30Z", "2026-03-30T14:00:05Z", "ecb", "2026-03-27", "2026-03-30"],
      // The Monday after clocks went back.
      ["2026-10-26T13:29:30Z", "2026-10-26T13:30:05Z", "cnb", "2026-10-23", "2026-10-26"],
      // Friday's, kept over the weekend clocks went forward, until Monday's instant in summer time.
      ["2026-03-27T13:30:30Z", "2026-03-30T12:30:05Z", "cnb", "2026-03-27", "2026-03-30"],
      ["2026-03-27T15:00:30Z", "2026-03-30T14:00:05Z", "ecb", "2026-03-27", "2026-03-30"],
    ];
    for (const [before, after, source, previous, published] of instants) {
      setClock(before);
      const session = await startCurrency();
      try {
        const early = await session.call("currency_rates", { source, symbols: ["USD"] });
        expect(early.structuredContent, before).toMatchObject({ date: previous });
        expect(early.structuredContent, before).not.toHaveProperty("note");
        setClock(after);
        const out = await session.call("currency_rates", { source, symbols: ["USD"] });
        expect(out.structuredContent, after).toMatchObject({ date: published });
        expect(text(out), after).not.toContain("not out yet");
      } finally {
        await session.close();
      }
    }
  });

  test("a fixing late at its instant is asked for once in five minutes, not with every call", async () => {
    // The CNB still answers Thursday's at Friday's 14:30 in Prague, as it often does for minutes.
    const thursdays = answering(
      cnbDaily(),
      ...Array.from({ length: 3 }, () =>
        json(
          200,
          JSON.stringify({ rates: cnbFixing("2026-11-26").map((row) => ({ ...row, validFor: "2026-11-26" })) }),
        ),
      ),
    );
    // When each request for the latest reached the CNB, by the clock.
    const reached: number[] = [];
    cnb.intercept = (request) => {
      if (cnbDaily()(request)) reached.push(clock.now());
      return thursdays(request);
    };
    const session = await startCurrency();
    try {
      const asked = () => session.call("currency_rates", { source: "cnb", symbols: ["USD"] });
      // Kept until the instant: the answer comes before it, within the call's ten seconds.
      setClock("2026-11-27T13:29:50Z");
      await asked();
      setClock("2026-11-27T13:30:00Z");
      const burst = await Promise.all(Array.from({ length: 5 }, asked));
      for (const late of burst) expect(late.structuredContent).toMatchObject({ date: "2026-11-26" });
      expect(reached).toHaveLength(2);
      // The five minutes run from when the answer came, between the request reaching the CNB and the
      // burst's end: on a busy machine, seconds after 14:30.
      const [sentAt, answered] = [reached[1] as number, clock.now()];
      await asked();
      for (const later of [60_000, 295_000]) {
        setClock(sentAt + later);
        await asked();
      }
      expect(reached).toHaveLength(2);
      setClock(answered + 301_000);
      await asked();
      expect(reached).toHaveLength(3);
    } finally {
      await session.close();
    }
  });

  test("a publication late past its window is asked for again within minutes, not after the weekend", async () => {
    let late = true;
    frankfurter.intercept = (request) =>
      late && request.path === "/v1/latest"
        ? {
            status: 200,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ amount: 1, base: "EUR", date: "2026-11-26", rates: ecbTable("2026-11-26") }),
          }
        : undefined;
    setClock("2026-11-27T16:35:00Z"); // a Friday, 17:35 in Frankfurt: Thursday's is still the latest there
    const session = await startCurrency();
    try {
      const stale = await session.call("currency_rates", { symbols: ["USD"] });
      expect(stale.structuredContent).toMatchObject({ date: "2026-11-26" });
      late = false;
      setClock("2026-11-27T16:41:00Z");
      const after = await session.call("currency_rates", { symbols: ["USD"] });
      expect(after.structuredContent).toMatchObject({ date: "2026-11-27" });
    } finally {
      frankfurter.intercept = undefined;
      await session.close();
    }
  });

  test("the latest fixing read while today's is late says which day's it is and that today's is not out yet", async () => {
    // The sources answer with the working day's before until `late` is cleared.
    const before = { ecb: "2026-03-27", cnb: "2026-10-23" };
    frankfurter.intercept = (request) =>
      request.path === "/v1/latest"
        ? json(200, JSON.stringify({ amount: 1, base: "EUR", date: before.ecb, rates: ecbTable(before.ecb) }))
        : undefined;
    cnb.intercept = (request) =>
      request.path === "/cnbapi/exrates/daily" && !request.query.has("date")
        ? json(200, JSON.stringify({ rates: cnbFixing(before.cnb).map((row) => ({ ...row, validFor: before.cnb })) }))
        : undefined;
    // [moment, what it is, source, the note then]
    const moments: [string, string, "ecb" | "cnb", string | undefined][] = [
      ["2026-03-30T13:59:00Z", "15:59 in Frankfurt, the Monday after clocks went forward", "ecb", undefined],
      [
        "2026-03-30T14:01:00Z",
        "16:01 summer time, 15:01 by winter time",
        "ecb",
        "The fixing of 2026-03-30 is due by now (the European Central Bank publishes around 16:00 Frankfurt time on working days) but is not out yet; these are the rates of 2026-03-27, the latest available.",
      ],
      ["2026-10-26T13:29:00Z", "14:29 in Prague, the Monday after clocks went back", "cnb", undefined],
      [
        "2026-10-26T13:31:00Z",
        "14:31 winter time, 15:31 by summer time",
        "cnb",
        "The fixing of 2026-10-26 is due by now (the Czech National Bank publishes after 14:30 Prague time on working days) but is not out yet; these are the rates of 2026-10-23, the latest available.",
      ],
      ["2026-10-25T13:31:00Z", "the Sunday clocks went back, which has no fixing", "cnb", undefined],
    ];
    try {
      for (const [moment, what, source, note] of moments) {
        setClock(moment);
        const session = await startCurrency();
        try {
          const latest = await session.call("currency_rates", { source, symbols: ["USD"] });
          expect(latest.structuredContent, what).toMatchObject({ date: before[source] });
          if (note) {
            expect(latest.structuredContent, what).toMatchObject({ note });
            expect(text(latest)).toContain(note);
          } else expect(latest.structuredContent, what).not.toHaveProperty("note");
        } finally {
          await session.close();
        }
      }
    } finally {
      frankfurter.intercept = undefined;
      cnb.intercept = undefined;
    }
  });

  test("today's date asked while its fixing is late says it is due but not out, as the latest does", async () => {
    // The sources answer with the working day's before, today's being late at both.
    const before = { ecb: "2026-03-27", cnb: "2026-10-23" };
    frankfurter.intercept = (request) =>
      request.path === "/v1/latest"
        ? json(200, JSON.stringify({ amount: 1, base: "EUR", date: before.ecb, rates: ecbTable(before.ecb) }))
        : undefined;
    cnb.intercept = (request) =>
      request.path === "/cnbapi/exrates/daily"
        ? json(200, JSON.stringify({ rates: cnbFixing(before.cnb).map((row) => ({ ...row, validFor: before.cnb })) }))
        : undefined;
    const ecb = "(the European Central Bank publishes around 16:00 Frankfurt time on working days)";
    const czech = "(the Czech National Bank publishes after 14:30 Prague time on working days)";
    // [moment, source, today there, the note then]
    const moments: [string, "ecb" | "cnb", string, string][] = [
      [
        "2026-03-30T13:59:00Z", // 15:59 in Frankfurt
        "ecb",
        "2026-03-30",
        `The fixing of 2026-03-30 is not published yet ${ecb}; these are the rates of 2026-03-27, the latest available.`,
      ],
      [
        "2026-03-30T14:01:00Z", // 16:01 in Frankfurt
        "ecb",
        "2026-03-30",
        `The fixing of 2026-03-30 is due by now ${ecb} but is not out yet; these are the rates of 2026-03-27, the latest available.`,
      ],
      [
        "2026-10-26T13:29:00Z", // 14:29 in Prague
        "cnb",
        "2026-10-26",
        `The fixing of 2026-10-26 is not published yet ${czech}; these are the rates of 2026-10-23, the latest available.`,
      ],
      [
        "2026-10-26T13:31:00Z", // 14:31 in Prague
        "cnb",
        "2026-10-26",
        `The fixing of 2026-10-26 is due by now ${czech} but is not out yet; these are the rates of 2026-10-23, the latest available.`,
      ],
    ];
    try {
      for (const [moment, source, date, note] of moments) {
        setClock(moment);
        const session = await startCurrency();
        try {
          const rates = await session.call("currency_rates", { source, symbols: ["USD"], date });
          expect(rates.structuredContent, moment).toMatchObject({ date: before[source], requested_date: date, note });
          const converted = await session.call("currency_convert", {
            amount: 100,
            from: "EUR",
            to: "CZK",
            date,
            source,
          });
          expect(converted.structuredContent, moment).toMatchObject({ date: before[source], requested_date: date });
          expect(text(converted), moment).toContain(`\n${note}`);
        } finally {
          await session.close();
        }
      }
    } finally {
      frankfurter.intercept = undefined;
      cnb.intercept = undefined;
    }
  });

  test("a source failing when a newer fixing is due answers with the one kept, saying a newer one may exist", async () => {
    setClock("2026-11-26T16:00:00Z"); // Thursday, after both sources published
    const session = await startCurrency();
    const failing = (path: string, status: number) => (request: { path: string }) =>
      request.path.startsWith(path) ? { status, headers: { "content-type": "text/plain" }, body: "down" } : undefined;
    try {
      for (const source of ["ecb", "cnb"]) {
        const kept = await session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source });
        expect(kept.structuredContent).toMatchObject({ date: "2026-11-26" });
        expect(kept.structuredContent).not.toHaveProperty("note");
      }
      setClock("2026-11-27T16:00:00Z"); // Friday's fixings are due
      frankfurter.intercept = failing("/v1/latest", 503);
      cnb.intercept = failing("/cnbapi/exrates/daily", 502);
      const ecb = await session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK" });
      expect(ecb.isError, text(ecb)).toBeFalsy();
      expect(ecb.structuredContent).toMatchObject({
        date: "2026-11-26",
        note: 'The European Central Bank could not be asked for newer rates, so these are the rates of 2026-11-26 kept from an earlier answer, and a newer fixing may exist: Frankfurter (ECB rates) answered 503 "down": the service is failing; try again later.',
      });
      expect(text(ecb)).toContain("kept from an earlier answer");
      const czech = await session.call("currency_rates", { source: "cnb", symbols: ["EUR"] });
      expect(czech.structuredContent).toMatchObject({
        date: "2026-11-26",
        note: expect.stringMatching(/rates of 2026-11-26 kept from an earlier answer.*CNB API answered 502/),
      });
      // A refusal is not a failure for now, nor a 501 (RFC 5861 keeps it out): nothing old stands in for them.
      for (const status of [404, 501]) {
        frankfurter.intercept = failing("/v1/latest", status);
        const refused = await session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK" });
        expect(refused.isError, String(status)).toBe(true);
      }
    } finally {
      frankfurter.intercept = undefined;
      cnb.intercept = undefined;
      await session.close();
    }
  });

  test("the day's fixing, once in hand, is kept until the next is due: not asked for again, nor said to have a newer one when the source fails", async () => {
    setClock("2026-11-26T13:35:00Z"); // Thursday 14:35 in Prague: Thursday's fixing is out
    const session = await startCurrency();
    const convert = () => session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source: "cnb" });
    try {
      expect((await convert()).structuredContent).toMatchObject({ date: "2026-11-26" });
      const sent = cnb.count("/cnbapi/exrates/daily");
      cnb.intercept = (request) =>
        request.path.startsWith("/cnbapi/exrates/daily")
          ? { status: 502, headers: { "content-type": "text/plain" }, body: "down" }
          : undefined;
      setClock("2026-11-26T13:50:00Z");
      const later = await convert();
      expect(later.isError, text(later)).toBeFalsy();
      expect(later.structuredContent).toMatchObject({ date: "2026-11-26" });
      expect(later.structuredContent).not.toHaveProperty("note");
      expect(cnb.count("/cnbapi/exrates/daily")).toBe(sent);
    } finally {
      cnb.intercept = undefined;
      await session.close();
    }
  });

  test("a fixing kept when the source fails is not said to be the latest, nor a due one still to come", async () => {
    const session = await startCurrency();
    // 500, which is not retried: each failing call answers at once.
    const down = (request: { path: string }) =>
      request.path.startsWith("/cnbapi/exrates/daily")
        ? { status: 500, headers: { "content-type": "text/plain" }, body: "down" }
        : undefined;
    const convert = (date: string) =>
      session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", date, source: "cnb" });
    try {
      setClock("2026-11-26T13:25:00Z"); // Thursday 14:25 in Prague: Wednesday's is the latest
      expect((await convert("2026-11-26")).structuredContent).toMatchObject({ date: "2026-11-25" });
      cnb.intercept = down;
      // Friday 10:00 in Prague: Friday's is still to come, and Wednesday's, kept, is what there is.
      setClock("2026-11-27T09:00:00Z");
      const morning = await convert("2026-11-27");
      expect(morning.structuredContent).toMatchObject({ date: "2026-11-25", requested_date: "2026-11-27" });
      expect(text(morning)).toContain(
        "\nThe fixing of 2026-11-27 is not published yet (the Czech National Bank publishes after 14:30 Prague time on working days); these are the rates of 2026-11-25. The Czech National Bank could not be asked for newer rates",
      );
      // Friday 17:00 in Prague: Friday's is out at the CNB, only it could not be asked.
      setClock("2026-11-27T16:00:00Z");
      const friday = await convert("2026-11-27");
      expect(friday.structuredContent).toMatchObject({ date: "2026-11-25", requested_date: "2026-11-27" });
      expect(text(friday)).toContain(
        "\nThe fixing of 2026-11-27 is due by now (the Czech National Bank publishes after 14:30 Prague time on working days). The Czech National Bank could not be asked for newer rates, so these are the rates of 2026-11-25 kept from an earlier answer",
      );
      const saturday = await convert("2026-11-28"); // begun in UTC+14
      expect(text(saturday)).toContain(
        "\nNo fixing exists for 2026-11-28 (a Saturday), and the fixing of 2026-11-27 is due by now (the Czech National Bank publishes after 14:30 Prague time on working days). The Czech National Bank could not be asked",
      );
      for (const result of [friday, saturday]) {
        expect(text(result)).not.toContain("not published yet");
        expect(text(result)).not.toContain("the latest available");
      }
    } finally {
      cnb.intercept = undefined;
      await session.close();
    }
  });

  test("a fixing kept of a day answers for that day when the source fails, whether it came as the latest, dated or in a year", async () => {
    // 500, which is not retried: each failing call answers at once.
    const down = (request: { path: string }) =>
      request.path.startsWith("/v1/") || request.path.startsWith("/cnbapi/")
        ? { status: 500, headers: { "content-type": "text/plain" }, body: "down" }
        : undefined;
    const convert = (session: Session, source: string, date?: string) =>
      session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source, ...(date ? { date } : {}) });
    const kept = (source: string) =>
      `${source === "ecb" ? "The European Central Bank" : "The Czech National Bank"} could not be asked for rates now, so these are the rates of 2026-11-27 kept from an earlier answer:`;
    // Friday afternoon, both fixings out: Friday's, asked for by its date, comes as the latest.
    setClock("2026-11-27T15:30:00Z");
    const friday = await startCurrency();
    try {
      for (const source of ["ecb", "cnb"]) {
        expect((await convert(friday, source, "2026-11-27")).structuredContent).toMatchObject({ date: "2026-11-27" });
      }
      setClock(MONDAY_MORNING);
      frankfurter.intercept = down;
      cnb.intercept = down;
      for (const source of ["ecb", "cnb"]) {
        const dated = await convert(friday, source, "2026-11-27");
        expect(dated.isError, text(dated)).toBeFalsy();
        expect(dated.structuredContent).toMatchObject({ date: "2026-11-27" });
        expect(text(dated)).toContain(kept(source));
        expect(text(dated)).not.toContain("a newer fixing may exist");
        const sunday = await convert(friday, source, "2026-11-29");
        expect(sunday.structuredContent).toMatchObject({ date: "2026-11-27", requested_date: "2026-11-29" });
        expect(text(sunday)).toContain(kept(source));
        expect((await convert(friday, source)).structuredContent).toMatchObject({ date: "2026-11-27" });
        // A day whose fixing no answer had is still a failure.
        expect((await convert(friday, source, "2026-11-26")).isError).toBe(true);
      }
    } finally {
      frankfurter.intercept = undefined;
      cnb.intercept = undefined;
      await friday.close();
    }
    // On Saturday, Friday's is asked for by its date, and the CNB's week as a history.
    setClock("2026-11-28T10:00:00Z");
    const saturday = await startCurrency();
    try {
      for (const source of ["ecb", "cnb"]) {
        expect((await convert(saturday, source, "2026-11-27")).structuredContent).toMatchObject({ date: "2026-11-27" });
      }
      const week = await saturday.call("currency_history", {
        base: "EUR",
        symbols: ["CZK"],
        start: "2026-11-23",
        end: "2026-11-27",
        source: "cnb",
      });
      expect(week.isError, text(week)).toBeFalsy();
      setClock(MONDAY_MORNING);
      frankfurter.intercept = down;
      cnb.intercept = down;
      // The latest asked for offline is Friday's, the newest fixing, kept from the dated answer.
      for (const source of ["ecb", "cnb"]) {
        const latest = await convert(saturday, source);
        expect(latest.isError, text(latest)).toBeFalsy();
        expect(latest.structuredContent).toMatchObject({ date: "2026-11-27" });
        expect(text(latest)).toContain(kept(source));
      }
      const thursday = await convert(saturday, "cnb", "2026-11-26");
      expect(thursday.isError, text(thursday)).toBeFalsy();
      expect(thursday.structuredContent).toMatchObject({ date: "2026-11-26" });
      expect(text(thursday)).toContain("the rates of 2026-11-26 kept from an earlier answer");
    } finally {
      frankfurter.intercept = undefined;
      cnb.intercept = undefined;
      await saturday.close();
    }
  });

  test("a fixing kept from a call dated one day without a fixing answers for the others it stands for when the source fails: a weekend's, and the holidays after one", async () => {
    // 500, which is not retried: each failing call answers at once.
    const down = (request: { path: string }) =>
      request.path.startsWith("/v1/") || request.path.startsWith("/cnbapi/")
        ? { status: 500, headers: { "content-type": "text/plain" }, body: "down" }
        : undefined;
    const convert = (session: Session, source: string, date: string) =>
      session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source, date });
    // [asked while the source answers, asked while it fails, the fixing standing for both]
    const pairs: [string, string, string][] = [
      ["2026-11-28", "2026-11-29", "2026-11-27"], // Saturday, then Sunday: Friday's
      ["2026-11-29", "2026-11-28", "2026-11-27"], // Sunday, then Saturday
      ["2026-11-28", "2026-11-27", "2026-11-27"], // Saturday, then Friday itself
      ["2026-04-04", "2026-04-06", "2026-04-02"], // Holy Saturday, then Easter Monday: Maundy Thursday's
      ["2026-04-03", "2026-04-06", "2026-04-02"], // Good Friday, then Easter Monday
    ];
    for (const [source, name] of [
      ["ecb", "The European Central Bank"],
      ["cnb", "The Czech National Bank"],
    ] as const) {
      for (const [answered, asked, fixing] of pairs) {
        const session = await startCurrency();
        try {
          const first = await convert(session, source, answered);
          expect(first.structuredContent, `${source} ${answered}`).toMatchObject({ date: fixing });
          frankfurter.intercept = down;
          cnb.intercept = down;
          const offline = await convert(session, source, asked);
          expect(offline.isError, `${source} ${asked} after ${answered}: ${text(offline)}`).toBeFalsy();
          expect(offline.structuredContent).toMatchObject({ date: fixing });
          expect(text(offline)).toContain(
            `${name} could not be asked for rates now, so these are the rates of ${fixing} kept from an earlier answer:`,
          );
        } finally {
          frankfurter.intercept = undefined;
          cnb.intercept = undefined;
          await session.close();
        }
      }
    }
  });

  test("a CNB fixing kept does not answer for a later day made a Czech holiday only since: Good Friday 2015, 28 September 1999", async () => {
    const down = (request: { path: string }) =>
      request.path.startsWith("/cnbapi/")
        ? { status: 500, headers: { "content-type": "text/plain" }, body: "down" }
        : undefined;
    // [asked while the CNB answers, asked while it fails]: the CNB fixed on the second day.
    const pairs: [string, string][] = [
      ["2015-04-02", "2015-04-03"],
      ["1999-09-27", "1999-09-28"],
      ["1999-11-16", "1999-11-17"],
    ];
    for (const [answered, asked] of pairs) {
      const session = await startCurrency();
      try {
        const convert = (date: string) =>
          session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source: "cnb", date });
        expect((await convert(answered)).structuredContent, answered).toMatchObject({ date: answered });
        cnb.intercept = down;
        const offline = await convert(asked);
        expect(offline.isError, `${asked} after ${answered}: ${text(offline)}`).toBe(true);
        expect(text(offline)).not.toContain("kept from an earlier answer");
      } finally {
        cnb.intercept = undefined;
        await session.close();
      }
    }
  });

  test("a fixing kept answers for a day whose own is still to come when the source fails, as it answers for the latest", async () => {
    // 500, which is not retried: each failing call answers at once.
    const down = (request: { path: string }) =>
      request.path.startsWith("/v1/") || request.path.startsWith("/cnbapi/")
        ? { status: 500, headers: { "content-type": "text/plain" }, body: "down" }
        : undefined;
    setClock("2026-11-27T08:00:00Z"); // Friday 09:00 in Frankfurt and Prague: Thursday's is the newest fixing
    const session = await startCurrency();
    const convert = (source: string, date: string) =>
      session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source, date });
    try {
      for (const source of ["ecb", "cnb"]) {
        expect((await convert(source, "2026-11-26")).structuredContent).toMatchObject({ date: "2026-11-26" });
      }
      frankfurter.intercept = down;
      cnb.intercept = down;
      setClock("2026-11-27T10:30:00Z"); // 11:30 there, Saturday in UTC+14
      for (const [source, name, when] of [
        ["ecb", "The European Central Bank", "around 16:00 Frankfurt time"],
        ["cnb", "The Czech National Bank", "after 14:30 Prague time"],
      ] as const) {
        const latest = await session.call("currency_convert", { amount: 100, from: "EUR", to: "CZK", source });
        expect(latest.structuredContent, text(latest)).toMatchObject({ date: "2026-11-26" });
        for (const today of ["2026-11-27", "2026-11-28"]) {
          const asked = await convert(source, today);
          expect(asked.isError, `${source} ${today}: ${text(asked)}`).toBeFalsy();
          expect(asked.structuredContent).toMatchObject({ date: "2026-11-26", requested_date: today });
          const saturday = today === "2026-11-28" ? "No fixing exists for 2026-11-28 (a Saturday), and t" : "T";
          expect(text(asked)).toContain(
            `\n${saturday}he fixing of 2026-11-27 is not published yet (${name.replace("The", "the")} publishes ${when} on working days); these are the rates of 2026-11-26. ${name} could not be asked for rates now, so these are the rates of 2026-11-26 kept from an earlier answer:`,
          );
        }
      }
    } finally {
      frankfurter.intercept = undefined;
      cnb.intercept = undefined;
      await session.close();
    }
  });

  test("a past date answered without its own fixing, by an upstream behind, is asked again once the next is due, not kept a month", async () => {
    // Tuesday 10:00 in Frankfurt: Frankfurter has not taken in Monday's fixing yet and carries Friday's forward.
    setClock("2026-12-08T09:00:00Z");
    frankfurter.intercept = (request) =>
      request.path === "/v1/2026-12-07"
        ? {
            status: 200,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ amount: 1, base: "EUR", date: "2026-12-04", rates: ecbTable("2026-12-04") }),
          }
        : undefined;
    const session = await startCurrency();
    try {
      const behind = await session.call("currency_rates", { date: "2026-12-07", symbols: ["USD"] });
      expect(behind.structuredContent).toMatchObject({ date: "2026-12-04", requested_date: "2026-12-07" });
      // Not a holiday: Monday is a working day of the ECB's calendar, whose fixing the source lacks.
      expect(text(behind)).toContain(
        "\nThe European Central Bank gave no fixing for 2026-12-07 (a Monday, a working day in its calendar: the source may not have it yet); these are the rates of 2026-12-04, the last before it.",
      );
      frankfurter.intercept = undefined;
      setClock("2026-12-08T15:05:00Z"); // Tuesday 16:05: the next publication is due
      const caught = await session.call("currency_rates", { date: "2026-12-07", symbols: ["USD"] });
      expect(caught.structuredContent).toMatchObject({ date: "2026-12-07" });
      expect(caught.structuredContent).not.toHaveProperty("note");
    } finally {
      frankfurter.intercept = undefined;
      await session.close();
    }
  });

  test("a latest fixing cached before a publication is asked again once it is due", async () => {
    setClock("2026-11-27T13:29:30Z");
    const session = await startCurrency();
    try {
      const before = await session.call("currency_rates", { source: "cnb", symbols: ["EUR"] });
      expect(before.structuredContent).toMatchObject({ date: "2026-11-26" });
      setClock("2026-11-27T13:29:50Z");
      await session.call("currency_rates", { source: "cnb", symbols: ["USD"] });
      const sent = cnb.count("/cnbapi/exrates/daily");
      setClock("2026-11-27T13:31:00Z");
      const after = await session.call("currency_rates", { source: "cnb", symbols: ["EUR"] });
      expect(after.structuredContent).toMatchObject({ date: "2026-11-27" });
      expect(cnb.count("/cnbapi/exrates/daily") - sent).toBe(1);
    } finally {
      await session.close();
    }
  });
});
