import { readFileSync } from "node:fs";
import { clock } from "../../src/time.js";
import {
  addDays,
  CZECH,
  type Fake,
  type FakeAnswer,
  isCalendarDate,
  isWorkingDay,
  json,
  lastPublished,
  lastWorkingDay,
  startFake,
  wobble,
} from "./http.js";

/**
 * The Czech National Bank's JSON API (api.cnb.cz/cnbapi): /exrates/daily?date=&lang= and
 * /exrates/daily-year?year=&lang=, rows {validFor, order, country, currency, amount,
 * currencyCode, rate} with `rate` in CZK per `amount` units, rates printed with three decimals
 * (24.170). A weekend or Czech holiday answers with the last working day's fixing, and a day not
 * published yet (today before 14:30 Prague time, or later) with the latest one. Bad parameters get
 * 400 with the API's error body {description, endPoint, errorCode, happenedAt, messageId}.
 * Rates: the published fixings in samples/, and a deterministic wobble around them elsewhere.
 */

interface Row {
  currencyCode: string;
  amount: number;
  rate: number;
}

const sample = (name: string) => readFileSync(new URL(`./samples/${name}`, import.meta.url), "utf8");

/** The 2026-01-02 fixing from samples/: the currencies, amounts and levels of generated days. */
const YEAR_2026 = JSON.parse(sample("cnb-api-daily-year-2026-EXCERPT.json")) as {
  rates: (Row & { validFor: string })[];
};
const REFERENCE = YEAR_2026.rates;

/** The fixing of 13.11.2023 #219 from the CNB's own text file (decimal commas, per-row amounts). */
function fromTextFile(text: string): Row[] {
  return text
    .trim()
    .split("\n")
    .slice(2)
    .map((line) => {
      const [, , amount, code, rate] = line.split("|");
      return { currencyCode: code as string, amount: Number(amount), rate: Number((rate as string).replace(",", ".")) };
    });
}

/** Fixings as published, by date; the 2026-08-28 one holds the values the README's examples use. */
const PUBLISHED: Record<string, Row[]> = {
  "2023-11-13": fromTextFile(sample("cnb-denni_kurz.txt")),
  "2026-01-02": REFERENCE,
  "2026-08-28": REFERENCE.map((row) => {
    const fixed: Record<string, number> = { JPY: 15.193, EUR: 24.365, USD: 20.911 };
    return { ...row, rate: fixed[row.currencyCode] ?? row.rate };
  }),
};

const NAMES: Record<string, [string, string]> = {
  AUD: ["Australia", "dollar"],
  BGN: ["Bulgaria", "lev"],
  BRL: ["Brazil", "real"],
  CAD: ["Canada", "dollar"],
  CHF: ["Switzerland", "franc"],
  CNY: ["China", "renminbi"],
  DKK: ["Denmark", "krone"],
  EUR: ["EMU", "euro"],
  GBP: ["United Kingdom", "pound"],
  HKD: ["Hongkong", "dollar"],
  HUF: ["Hungary", "forint"],
  IDR: ["Indonesia", "rupiah"],
  ILS: ["Israel", "new shekel"],
  INR: ["India", "rupee"],
  ISK: ["Iceland", "krona"],
  JPY: ["Japan", "yen"],
  KRW: ["South Korea", "won"],
  MXN: ["Mexico", "peso"],
  MYR: ["Malaysia", "ringgit"],
  NOK: ["Norway", "krone"],
  NZD: ["New Zealand", "dollar"],
  PHP: ["Philippines", "peso"],
  PLN: ["Poland", "zloty"],
  RON: ["Romania", "leu"],
  SEK: ["Sweden", "krona"],
  SGD: ["Singapore", "dollar"],
  THB: ["Thailand", "baht"],
  TRY: ["Turkey", "lira"],
  USD: ["USA", "dollar"],
  XDR: ["IMF", "SDR"],
  ZAR: ["South Africa", "rand"],
};

/**
 * Currencies the CNB fixed that its 2026 rows lack, at levels for generated days: the lev as the
 * fixing of 13.11.2023 has it, the kuna and the rouble (100 RUB) about as its fixings of 2020 had them.
 */
const FORMER: Row[] = [
  { currencyCode: "BGN", amount: 1, rate: 12.573 },
  { currencyCode: "HRK", amount: 1, rate: 3.573 },
  { currencyCode: "RUB", amount: 100, rate: 31.957 },
];

/**
 * Currencies the CNB began to fix later than its first, and the first day it did: RON from the day
 * Romania's new leu took the old one's place, 2005-07-01, as no fixing before had it; and, from their
 * first Czech working days, those that did not exist before: the kuna (30 May 1994), the rouble of
 * 1998 (RUB, in the place of RUR) and Turkey's new lira (TRY, 2005, in the place of TRL).
 */
const FIXED_FROM: Record<string, string> = {
  EUR: "1999-01-04",
  HRK: "1994-05-30",
  RUB: "1998-01-02",
  RON: "2005-07-01",
  TRY: "2005-01-03",
};

/**
 * Currencies the CNB stopped fixing, and the last day it did: the rouble, which it suspended in March
 * 2022; the kuna and the lev, as the euro replaced them on 1 January 2023 and 2026 (its fixings of
 * 2022 have HRK and RUB, of 2024 BGN and neither of them, of 2026 none of the three).
 */
const FIXED_UNTIL: Record<string, string> = { RUB: "2022-03-01", HRK: "2022-12-30", BGN: "2025-12-31" };

/** The day from which the CNB fixes 100 TRY, not 1 (its note on the fixing of 2023: "With effect from 2nd January 2024"). */
const TRY_PER_100 = "2024-01-02";

export function cnbFixing(date: string): Row[] {
  const generated = () =>
    [...REFERENCE, ...FORMER].map((row, i) => {
      // Before 2024 the lira was fixed per 1: a hundredth of the rate of 100.
      const per1 = row.currencyCode === "TRY" && date < TRY_PER_100;
      const rate = (row.rate * wobble(date, i)) / (per1 ? row.amount : 1);
      return { ...row, amount: per1 ? 1 : row.amount, rate: Math.round(rate * 1000) / 1000 };
    });
  return (PUBLISHED[date] ?? generated()).filter(
    (row) => (FIXED_FROM[row.currencyCode] ?? date) <= date && date <= (FIXED_UNTIL[row.currencyCode] ?? date),
  );
}

/** The fixing's number within its year, like the "#219" of the text file. */
function order(date: string): number {
  let n = 0;
  for (let day = `${date.slice(0, 4)}-01-01`; day <= date; day = addDays(day, 1)) if (isWorkingDay(day, CZECH)) n++;
  return n;
}

/** `n`: the fixing's order, when the caller counts them already. */
function rowsJson(date: string, english: boolean, n = order(date)): string[] {
  return cnbFixing(date).map((row) => {
    const [country, currency] = NAMES[row.currencyCode] ?? [row.currencyCode, row.currencyCode];
    const names = english ? { country, currency } : { country: `${country} (CZ)`, currency: `${currency} (CZ)` };
    // The API prints rates with three decimals (24.170): built by hand, JSON.stringify would drop the zero.
    return `{"validFor":"${date}","order":${n},"country":${JSON.stringify(names.country)},"currency":${JSON.stringify(names.currency)},"amount":${row.amount},"currencyCode":"${row.currencyCode}","rate":${row.rate.toFixed(3)}}`;
  });
}

function validationError(endPoint: string, description: string): FakeAnswer {
  return json(
    400,
    JSON.stringify({
      description,
      endPoint,
      errorCode: "VALIDATION_ERROR",
      happenedAt: new Date(clock.now()).toISOString(),
      messageId: "6f1f8a3c0e6b4b8e",
    }),
  );
}

/** The CNB publishes its fixing after 14:30 Prague time on Czech working days. */
const latest = () => lastPublished(CZECH, "Europe/Prague", 14, 30);

function answer(path: string, query: URLSearchParams): FakeAnswer {
  const english = query.get("lang") === "EN";
  if (path === "/exrates/daily") {
    const last = latest();
    const asked = query.get("date") ?? last;
    if (!isCalendarDate(asked)) return validationError("/cnbapi/exrates/daily", `Invalid date format: ${asked}`);
    const date = lastWorkingDay(asked > last ? last : asked, CZECH);
    return json(200, `{"rates":[${rowsJson(date, english).join(",")}]}`);
  }
  if (path === "/exrates/daily-year") {
    const year = query.get("year") ?? "";
    if (!/^\d{4}$/.test(year)) return validationError("/cnbapi/exrates/daily-year", `Invalid year: ${year}`);
    const rows: string[] = [];
    const last = latest();
    let n = 0;
    for (let day = `${year}-01-01`; day <= `${year}-12-31` && day <= last; day = addDays(day, 1)) {
      if (isWorkingDay(day, CZECH)) rows.push(...rowsJson(day, english, ++n));
    }
    return json(200, `{"rates":[${rows.join(",")}]}`);
  }
  return json(404, JSON.stringify({ description: "Not Found", endPoint: path, errorCode: "NOT_FOUND" }));
}

export async function startCnb(): Promise<Fake> {
  // The API lives under /cnbapi: a base URL without it gets 404.
  return startFake((request) =>
    request.path.startsWith("/cnbapi/")
      ? answer(request.path.slice("/cnbapi".length), request.query)
      : answer("/not-found", request.query),
  );
}
