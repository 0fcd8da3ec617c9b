import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import type { Call, HttpResponse } from "../../src/http/types.js";
import type { Upstream } from "../../src/http/upstream.js";
import { clock, isoDate } from "../../src/time.js";
import {
  type CurrencyName,
  emptyFixing,
  type Fixing,
  fixingOrKept,
  KEPT_FOR_SECONDS,
  type RateSource,
} from "./fixing.js";
import { cachePolicy, type Publication } from "./schedule.js";

/**
 * The ECB publishes around 16:00 CET on TARGET working days: not on TARGET's closing days, which
 * were also 31 December 1999 (for the year 2000) and 31 December 2001 (for the euro's banknotes).
 * In 1999, TARGET's first year, they were 1 January, 25 and 31 December only: the ECB fixed rates on
 * Good Friday and Easter Monday then (its eurofxref-hist.csv has 1999-04-02 and 1999-04-05).
 */
export const PUBLICATION: Publication = {
  zone: "Europe/Berlin",
  hour: 16,
  minute: 0,
  city: "Frankfurt",
  when: "around 16:00 Frankfurt time",
  holiday: "TARGET closing day",
  closed: (year) =>
    year === 1999
      ? { dates: ["01-01", "12-25", "12-31"], fromEaster: [] }
      : { dates: ["01-01", "05-01", "12-25", "12-26", "2001-12-31"], fromEaster: [-2, 1] },
};

const NAME = "the European Central Bank";
export const FIRST_ECB_FIXING = "1999-01-04";
const OTHERS = "the ECB publishes reference rates for about 30 currencies, and none for the others";
/** A new currency the ECB fixes from `first` on, in the place of `old`, which has the rates of the dates before. */
const replacing = (first: string, old: string, name: string) =>
  `is fixed by the ECB from ${first} on, in the place of ${old}, ${name}: a date from then on has its rate, and an earlier one ${old}'s`;
/**
 * What the ECB fixed or fixes for a time only, and so which dates have its rates: RUB from 2005-04-01 to
 * 2022-03-01, ROL and TRL until the new leu and lira, HRK and BGN, which it began to fix after its
 * first day, until the euro replaced them, and ISK but from 2008-12-10 to 2018-01-31 (the first and last
 * fixings of each in its eurofxref-hist.csv).
 */
const FIXED_FOR = {
  HRK: "was fixed by the ECB from 2005-04-01 until 2022-12-30: a date from the first to the last has its rate",
  BGN: "was fixed by the ECB from 2000-07-19 until 2025-12-31: a date from the first to the last has its rate",
  RUB: "was fixed by the ECB from 2005-04-01 until 2022-03-01: a date from the first to the last has its rate",
  ROL: "was last fixed by the ECB on 2005-06-30, before RON, Romania's new leu, took its place: an earlier date has its rate, a later one none at either source",
  TRL: "was last fixed by the ECB on 2004-12-31, before TRY, Turkey's new lira, took its place: an earlier date has its rate, a later one none at either source",
  ISK: "was fixed by the European Central Bank until 2008-12-09 and again from 2018-02-01 on: a date up to 2008-12-09, or from 2018-02-01 on, has its rate",
  TRY: replacing("2005-01-03", "TRL", "Turkey's old lira"),
  RON: replacing("2005-07-01", "ROL", "Romania's old leu"),
};

/**
 * The currencies the ECB began to fix after its first day and fixes still, each with its first fixing
 * (its press releases of 22 April 2005, 29 November 2007 and 5 December 2008; its eurofxref-hist.csv).
 */
const FIXED_FROM = {
  CNY: "2005-04-01",
  IDR: "2005-04-01",
  MYR: "2005-04-01",
  PHP: "2005-04-01",
  THB: "2005-04-01",
  BRL: "2008-01-02",
  MXN: "2008-01-02",
  INR: "2009-01-02",
  ILS: "2011-01-03",
};

/** One day's table, kept as the Fixing built from it: a cached call builds nothing. None is a failure. */
const table = z
  .object({ base: z.string(), date: z.string(), rates: z.record(z.string(), z.number().positive()) })
  .transform((body) => {
    const fixing = toFixing(body.date, body.base, body.rates);
    if (fixing.quotes.size === 0) throw emptyFixing(NAME);
    return fixing;
  });
/** Frankfurter answers 404 to a range without a fixing: a 200 without one is not its answer, and is not kept. */
const series = z.object({
  base: z.string(),
  rates: z
    .record(z.string(), z.record(z.string(), z.number().positive()))
    .refine((days) => Object.keys(days).length > 0, "has no fixing"),
});
/** Names by ISO 4217 code: anything else (a gateway's {"message": …}, or {}) is not a list of currencies. */
const names = z
  .record(z.string().regex(/^[A-Z]{3}$/, "is not an ISO 4217 code"), z.string())
  .refine((listed) => Object.keys(listed).length > 0, "lists no currency");

/** The date of a series' newest fixing. */
const newest = (answer: z.output<typeof series>) => Object.keys(answer.rates).sort().at(-1);

function toFixing(date: string, base: string, rates: Record<string, number>): Fixing {
  return {
    date,
    base,
    quotes: new Map(Object.entries(rates).map(([code, rate]) => [code, { units: rate, value: 1 }])),
  };
}

/**
 * Frankfurter's 404 to a date means no rates there, which the model can act on; to anything else
 * (/latest, or a range of whole tables, which always has the fixing before its start) it means a
 * wrong base URL, which the general words say.
 */
export function frankfurterErrors(response: HttpResponse, _upstream: string, urlSetting: string): Error | undefined {
  if (response.status !== 404) return undefined;
  const [, date] = /^\/(\d{4}-\d{2}-\d{2})$/.exec(response.path) ?? [];
  if (!date) return undefined;
  return new ToolError(
    `No rates for ${date}: ${NAME} publishes from ${FIRST_ECB_FIXING} on, and only the currencies currency_list with source "ecb" lists; check the codes and dates, or ${urlSetting}.`,
  );
}

/** The currencies Frankfurter names, by code. */
function listed(frankfurter: Upstream, call: Call): Promise<z.output<typeof names>> {
  return frankfurter.json(names, "/currencies", { ttl: 24 * 3600 }, call);
}

/**
 * The European Central Bank's reference rates through Frankfurter's frozen v1 API. Whole
 * EUR tables are fetched and cross rates computed here, so one cached answer serves every pair.
 */
export function ecbSource(frankfurter: Upstream): RateSource {
  const source: RateSource = {
    id: "ecb",
    name: NAME,
    base: "EUR",
    earliest: FIRST_ECB_FIXING,
    publication: PUBLICATION,
    others: OTHERS,
    fixedFor: FIXED_FOR,
    fixedFrom: FIXED_FROM,
    noneElsewhere: ["TRY", "RON", "TRL", "ROL"],

    async fixing(date, call) {
      const { final, ttl } = cachePolicy(PUBLICATION, date, (fixing: Fixing) => fixing.date);
      // A date not final yet is today's or the future's: the latest fixing is the answer.
      return fixingOrKept(
        PUBLICATION,
        date,
        call,
        (staleIfError) => frankfurter.json(table, final ? `/${date}` : "/latest", { ttl, staleIfError }, call),
        (day, dates) =>
          ["/latest", ...dates.map((asked) => `/${asked}`)]
            .map((path) => frankfurter.kept(table, path, {}, KEPT_FOR_SECONDS))
            .find((fixing) => fixing?.date === day),
      );
    },

    async series(start, end, call) {
      // Frankfurter's dates are UTC's ("Frankfurter stores dates in UTC"): a range that starts after
      // today there is 404, read as a wrong base URL, for the hour or two after midnight in Frankfurt. No
      // fixing dated from that start on is out: the ECB publishes at 16:00 Frankfurt time on its date.
      if (start > isoDate(clock.now())) return [];
      // Whole tables: with `symbols`, Frankfurter leaves out the fixings that have none of them (CNY's
      // before 2005, HRK's after 2022), which would read as days without a fixing.
      const body = await frankfurter.json(
        series,
        `/${start}..${end}`,
        { ttl: cachePolicy(PUBLICATION, end, newest).ttl },
        call,
      );
      return Object.entries(body.rates)
        .filter(([date]) => date >= start && date <= end)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([date, rates]) => toFixing(date, body.base, rates));
    },

    async currencies(call: Call): Promise<CurrencyName[]> {
      const body = await listed(frankfurter, call);
      return Object.entries(body).map(([code, name]) => ({ code, name }));
    },
  };
  return source;
}
