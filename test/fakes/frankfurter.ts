import { readFileSync } from "node:fs";
import { clock, isoDate } from "../../src/time.js";
import {
  addDays,
  type Fake,
  type FakeAnswer,
  isCalendarDate,
  isWorkingDay,
  json,
  lastPublished,
  lastWorkingDay,
  startFake,
  TARGET,
  wobble,
} from "./http.js";

/**
 * Frankfurter's frozen v1 API (ECB reference rates) as lineofflight/frankfurter serves it:
 * /latest, /YYYY-MM-DD, /START..END, /currencies; base, symbols, amount; 404 {"message":"not found"},
 * 422 {"message": ...}; Cache-Control: public, max-age=86400 on success, no-store on errors.
 * /currencies names EUR and the currencies of the latest fixing only (its CurrencyNames reads
 * `Rate.where(provider: "ECB").latest`): not BGN from 2026 on. Weekends and TARGET closing days
 * answer with the last working day; a date not published yet (a
 * future one, or today's before 16:00 in Frankfurt) with the latest, as its source carries forward
 * the newest fixing of the 14 days up to the date asked (a date later than that is 404); a range that
 * starts after the latest fixing answers with the latest too. Its "today" is the UTC date (its docs:
 * "Frankfurter stores dates in UTC"; its source: Ruby's Date.today on servers run in UTC, and the
 * ECB's polling schedule a cron in UTC), and a range that starts after it is 404 (RateScopes#between
 * answers nothing when `interval.begin > Date.today`): for an hour or two after midnight in
 * Frankfurt, so is one that starts on Frankfurt's today.
 * Rates: the published tables in samples/, and a deterministic wobble around them elsewhere.
 */

const sample = (name: string) => readFileSync(new URL(`./samples/${name}`, import.meta.url));
const FULL = JSON.parse(sample("frankfurter-v1-latest-full.json").toString()) as {
  date: string;
  rates: Record<string, number>;
};
export const FIRST_DATE = "1999-01-04";

/** Rates the samples show for particular days, so those days answer as the real API did. */
const PUBLISHED: Record<string, Record<string, number>> = {
  [FULL.date]: FULL.rates,
  "2025-01-02": { USD: 1.0321 },
  "2026-08-28": { TRY: 56.1718 },
  "2026-10-08": { INR: 108.2635 },
};

/** Levels for the generated days of the currencies the ECB fixed that the sample's 2023 table lacks. */
const LEVELS: Record<string, number> = { HRK: 7.5365, RUB: 117.2914 };

const NAMES: Record<string, string> = {
  ...(JSON.parse(sample("frankfurter-v1-currencies-EXCERPT.json").toString()) as Record<string, string>),
  BRL: "Brazilian Real",
  CAD: "Canadian Dollar",
  CHF: "Swiss Franc",
  CNY: "Chinese Renminbi Yuan",
  CZK: "Czech Koruna",
  DKK: "Danish Krone",
  GBP: "British Pound",
  HKD: "Hong Kong Dollar",
  HRK: "Croatian Kuna",
  HUF: "Hungarian Forint",
  IDR: "Indonesian Rupiah",
  ILS: "Israeli New Sheqel",
  INR: "Indian Rupee",
  ISK: "Icelandic Króna",
  JPY: "Japanese Yen",
  KRW: "South Korean Won",
  MXN: "Mexican Peso",
  MYR: "Malaysian Ringgit",
  NOK: "Norwegian Krone",
  NZD: "New Zealand Dollar",
  PHP: "Philippine Peso",
  PLN: "Polish Złoty",
  RON: "Romanian Leu",
  RUB: "Russian Ruble",
  SEK: "Swedish Krona",
  SGD: "Singapore Dollar",
  THB: "Thai Baht",
  TRY: "Turkish Lira",
  ZAR: "South African Rand",
};

/**
 * Currencies of today's table the ECB began to fix after its first day, and the first day it did
 * (its press releases of 22 April 2005, 29 November 2007 and 5 December 2008; the first rate of each
 * in its eurofxref-hist.csv). TRY and RON took the places of TRL and ROL, the old lira and leu.
 */
const FIXED_FROM: Record<string, string> = {
  BGN: "2000-07-19",
  BRL: "2008-01-02",
  CNY: "2005-04-01",
  HRK: "2005-04-01",
  IDR: "2005-04-01",
  ILS: "2011-01-03",
  INR: "2009-01-02",
  MXN: "2008-01-02",
  MYR: "2005-04-01",
  PHP: "2005-04-01",
  RON: "2005-07-01",
  RUB: "2005-04-01",
  THB: "2005-04-01",
  TRY: "2005-01-03",
};

/**
 * Currencies the ECB stopped fixing, and the last day it did: the kuna and the lev as Croatia and
 * Bulgaria took the euro on 1 January 2023 and 2026 (its notice of 16 December 2025 for the lev), the
 * rouble when it suspended it in March 2022 (the last fixing of each in its eurofxref-hist.csv).
 */
const FIXED_UNTIL: Record<string, string> = {
  BGN: "2025-12-31",
  HRK: "2022-12-30",
  RUB: "2022-03-01",
};

/**
 * Currencies of that table the ECB did not fix for a while, and the first and last day it did not:
 * the Icelandic krona from after 2008-12-09 to 2018-02-01 (its eurofxref-hist.csv).
 */
const NOT_FIXED: Record<string, [string, string]> = {
  ISK: ["2008-12-10", "2018-01-31"],
};

/** The EUR table of one working day: the currencies the ECB fixed on it. */
export function ecbTable(date: string): Record<string, number> {
  const published = PUBLISHED[date] ?? {};
  const paused = (code: string) => {
    const [from, to] = NOT_FIXED[code] ?? [];
    return from !== undefined && to !== undefined && from <= date && date <= to;
  };
  const levels = { ...FULL.rates, ...LEVELS };
  const codes = Object.keys(levels).filter(
    (code) => (FIXED_FROM[code] ?? FIRST_DATE) <= date && date <= (FIXED_UNTIL[code] ?? date) && !paused(code),
  );
  return Object.fromEntries(
    codes.map((code, i) => [
      code,
      published[code] ?? Number(((levels[code] as number) * wobble(date, i)).toPrecision(5)),
    ]),
  );
}

const notFound = () => json(404, '{"message":"not found"}', { "cache-control": "no-store" });
const unprocessable = (message: string) => json(422, JSON.stringify({ message }), { "cache-control": "no-store" });
const ok = (body: string) => json(200, body, { "cache-control": "public, max-age=86400" });

/** Like Frankfurter: JSON with `"amount":1.0`, as Ruby prints a float. */
function render(body: Record<string, unknown>): string {
  return JSON.stringify(body).replace(/"amount":(\d+)([,}])/, '"amount":$1.0$2');
}

function rebase(table: Record<string, number>, base: string, symbols: string[] | undefined, amount: number) {
  const all: Record<string, number> = { EUR: 1, ...table };
  const divisor = all[base];
  if (divisor === undefined) return undefined;
  const wanted = (symbols ?? Object.keys(all)).filter((code) => code !== base && all[code] !== undefined);
  if (symbols && wanted.length === 0) return undefined;
  // EUR-based tables are the ECB's own numbers; other bases are computed, and rounded.
  const value = (code: string) =>
    base === "EUR" && amount === 1
      ? (all[code] as number)
      : Number((((all[code] as number) / divisor) * amount).toPrecision(5));
  return Object.fromEntries(wanted.sort().map((code) => [code, value(code)]));
}

/** The ECB publishes at about 16:00 CET on TARGET working days; Frankfurter has it shortly after. */
const latest = () => lastPublished(TARGET, "Europe/Berlin", 16, 0);

function answer(path: string, query: URLSearchParams): FakeAnswer {
  if (path === "/currencies") {
    const listed = ["EUR", ...Object.keys(ecbTable(latest()))].sort();
    return ok(JSON.stringify(Object.fromEntries(listed.map((code) => [code, NAMES[code] ?? code]))));
  }
  const base = (query.get("base") ?? query.get("from") ?? "EUR").toUpperCase();
  const symbolsParam = query.get("symbols") ?? query.get("to");
  const symbols = symbolsParam ? symbolsParam.toUpperCase().split(",") : undefined;
  const amount = query.has("amount") ? Number(query.get("amount")) : 1;
  if (!(amount > 0)) return unprocessable("invalid amount");
  if (symbols?.length === 1 && symbols[0] === base) return unprocessable("bad currency pair");

  const last = latest();
  const range = /^\/(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})?$/.exec(path);
  if (range) {
    const start = range[1] as string;
    const end = range[2] ?? last;
    if (!isCalendarDate(start) || !isCalendarDate(end)) return unprocessable("invalid date");
    // A start after the last fixing but not after today in UTC (today before 16:00) gets the last one.
    if (start > isoDate(clock.now()) || start > end) return notFound();
    const first = start > last ? last : lastWorkingDay(start < FIRST_DATE ? FIRST_DATE : start, TARGET);
    // A day without any of the currencies asked for (CNY before the ECB fixed it) is left out.
    const rates: Record<string, Record<string, number>> = {};
    for (let day = first; day <= end && day <= last; day = addDays(day, 1)) {
      if (!isWorkingDay(day, TARGET)) continue;
      const rebased = rebase(ecbTable(day), base, symbols, amount);
      if (rebased) rates[day] = rebased;
    }
    const days = Object.keys(rates);
    if (days.length === 0) return notFound();
    return ok(render({ amount, base, start_date: days[0], end_date: days.at(-1), rates }));
  }

  const single = path === "/latest" || path === "/current" ? last : path.slice(1);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(single)) return notFound();
  if (!isCalendarDate(single)) return unprocessable("invalid date");
  if (single < FIRST_DATE) return notFound();
  const date = lastWorkingDay(single > last ? last : single, TARGET);
  // Only the 14 days up to the date asked are carried forward from (CarryForward::LOOKBACK_DAYS).
  if (addDays(date, 14) < single) return notFound();
  const rates = rebase(ecbTable(date), base, symbols, amount);
  if (!rates) return notFound();
  return ok(render({ amount, base, date, rates }));
}

export async function startFrankfurter(): Promise<Fake> {
  // Everything lives under /v1, as on api.frankfurter.dev: a base URL without it gets 404.
  return startFake((request) =>
    request.path.startsWith("/v1/")
      ? answer(request.path.slice(3), request.query)
      : json(404, '{"message":"not found"}'),
  );
}
