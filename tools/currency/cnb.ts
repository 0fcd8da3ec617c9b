import { z } from "zod";
import type { Call } from "../../src/http/types.js";
import type { StaleIfError, Upstream } from "../../src/http/upstream.js";
import { dateIn } from "../../src/time.js";
import { emptyFixing, type Fixing, fixingOrKept, KEPT_FOR_SECONDS, type RateSource } from "./fixing.js";
import { cachePolicy, type Publication } from "./schedule.js";

/**
 * The CNB publishes after 14:30 Prague time on Czech working days: not on the holidays of zákon
 * 245/2000 Sb., which made 28 September and 17 November holidays from 2000, nor on Good Friday,
 * a holiday from 2016 (zákon 359/2015 Sb.). Liberation Day was 9 May until 1991 (zákon 93/1951 Sb.
 * as zákon 167/1990 Sb. worded it), and is 8 May from 1992.
 */
export const PUBLICATION: Publication = {
  zone: "Europe/Prague",
  hour: 14,
  minute: 30,
  city: "Prague",
  when: "after 14:30 Prague time",
  holiday: "Czech public holiday",
  closed: (year) => ({
    dates: [
      "01-01",
      "05-01",
      year >= 1992 ? "05-08" : "05-09",
      "07-05",
      "07-06",
      "10-28",
      "12-24",
      "12-25",
      "12-26",
    ].concat(year >= 2000 ? ["09-28", "11-17"] : []),
    fromEaster: year >= 2016 ? [-2, 1] : [1],
  }),
};

const NAME = "the Czech National Bank";

/** Its first fixing, the earliest of either source: 1 January 1991 is a closing day. */
export const FIRST_CNB_FIXING = "1991-01-02";

const row = z.object({
  validFor: z.string(),
  currencyCode: z.string(),
  amount: z.number().positive(),
  rate: z.number().positive(),
  country: z.string().optional(),
  currency: z.string().optional(),
});
const rows = z.object({ rates: z.array(row) });
/** A year that is over has fixings: an answer without one is not the CNB's, and would be kept a month. */
const pastYear = rows.refine((answer) => answer.rates.length > 0, { error: "has no fixing", path: ["rates"] });
type Row = z.output<typeof row>;
/** The date of a year's newest fixing (ISO dates compare as text), whatever the order of its rows. */
const newest = (answer: z.output<typeof rows>) =>
  answer.rates.reduce<string | undefined>((last, r) => (last && last > r.validFor ? last : r.validFor), undefined);
/** One day's rows, kept with the Fixing built from them: a cached call builds nothing. None is a failure. */
const dailyRows = rows.transform(({ rates }) => {
  if (!rates[0]) throw emptyFixing(NAME);
  return { rates, fixing: toFixing(rates[0].validFor, rates) };
});
type DailyRows = z.output<typeof dailyRows>;

function toFixing(date: string, day: Row[]): Fixing {
  return {
    date,
    base: "CZK",
    quotes: new Map(day.map((r) => [r.currencyCode, { units: r.amount, value: r.rate }])),
  };
}

/** The Czech National Bank's daily fixing (CZK per `amount` units), the rate Czech accounting uses. */
export function cnbSource(cnb: Upstream): RateSource {
  const source: RateSource = {
    id: "cnb",
    name: NAME,
    base: "CZK",
    earliest: FIRST_CNB_FIXING,
    publication: PUBLICATION,
    others:
      "the Czech National Bank fixes about 30 currencies daily and sets the others' rates on the last working day of each month, for the month after, in a list waiter does not read",
    // It suspended the rouble in March 2022. Its fixings had HRK until 2022-12-30, BGN in 2023,
    // and have none in 2026, as the euro replaced them. The euro took the ECU's place in its fixing from
    // 1 January 1999 (its notice of November 1998), a holiday, and the weekend after.
    fixedFor: {
      EUR: "is fixed by the Czech National Bank from 1999-01-04 on, when the euro took the place of the ECU, which it fixed until then: no date before has a euro rate",
      // Its rouble of 1998 took the old one's place (RUR), which no RUB rate before covers.
      RUB: "was fixed by the Czech National Bank from 1998-01-02, in the place of RUR, until it suspended the rouble in March 2022: a date from the first to the last has its rate",
    },

    // Which of today's currencies it began to fix after 1991, and when, waiter does not know.
    fixedFrom: {},
    noneElsewhere: ["EUR"],

    async fixing(date, call) {
      return fixingOrKept(
        PUBLICATION,
        date,
        call,
        async (staleIfError) => (await daily(date, call, staleIfError)).fixing,
        (day, dates) => {
          const asked = (date?: string) =>
            cnb.kept(dailyRows, "/exrates/daily", { date, lang: "EN" }, KEPT_FOR_SECONDS)?.fixing;
          // A year's rows are whole fixings, as a day's are.
          const year = cnb.kept(rows, "/exrates/daily-year", { year: day.slice(0, 4), lang: "EN" }, KEPT_FOR_SECONDS);
          const inYear = year?.rates.filter((r) => r.validFor === day) ?? [];
          return [asked(undefined), ...dates.map(asked), inYear.length ? toFixing(day, inYear) : undefined].find(
            (fixing) => fixing?.date === day,
          );
        },
      );
    },

    async series(start, end, call) {
      // A year Prague has not begun (New Year's Day begun east of it) has no fixing to ask for.
      const last = Math.min(Number(end.slice(0, 4)), Number(dateIn(PUBLICATION.zone).slice(0, 4)));
      const years: number[] = [];
      for (let year = Number(start.slice(0, 4)); year <= last; year++) years.push(year);
      const answers = await Promise.all(
        years.map((year) => {
          const { final, ttl } = cachePolicy(PUBLICATION, `${year}-12-31`, newest);
          return cnb.json(final ? pastYear : rows, "/exrates/daily-year", { query: { year, lang: "EN" }, ttl }, call);
        }),
      );
      const byDate = new Map<string, Row[]>();
      for (const r of answers.flatMap((answer) => answer.rates)) {
        if (r.validFor < start || r.validFor > end) continue;
        const day = byDate.get(r.validFor);
        if (day) day.push(r);
        else byDate.set(r.validFor, [r]);
      }
      return [...byDate.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, day]) => toFixing(date, day));
    },

    async currencies(call: Call) {
      const { rates } = await daily(undefined, call);
      return [
        { code: "CZK", name: "Czech koruna" },
        ...rates.map((r) => ({
          code: r.currencyCode,
          name: [r.country, r.currency].filter(Boolean).join(" ") || r.currencyCode,
        })),
      ];
    },
  };

  function daily(date: string | undefined, call: Call, staleIfError?: StaleIfError) {
    const { final, ttl } = cachePolicy(PUBLICATION, date, (answer: DailyRows) => answer.fixing.date);
    return cnb.json(
      dailyRows,
      "/exrates/daily",
      { query: { date: final ? date : undefined, lang: "EN" }, ttl, staleIfError },
      call,
    );
  }

  return source;
}
