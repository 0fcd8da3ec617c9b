import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import type { Call, Upstream } from "../../src/http/client.js";
import type { Fixing, RateSource } from "./fixing.js";
import { dateIn, latestTtl, type Publication } from "./schedule.js";

/** The CNB publishes after 14:30 Prague time on working days. */
const PUBLICATION: Publication = { zone: "Europe/Prague", hour: 14, minute: 30 };
const PAST_TTL = 30 * 24 * 3600;

const row = z.object({
  validFor: z.string(),
  currencyCode: z.string(),
  amount: z.number().positive(),
  rate: z.number().positive(),
  country: z.string().optional(),
  currency: z.string().optional(),
});
const rows = z.object({ rates: z.array(row) });
type Row = z.output<typeof row>;

/** The HTTP cache hands back the same parsed rows while they are fresh; so is their Fixing. */
const fixings = new WeakMap<Row[], Fixing>();

function dailyFixing(day: Row[]): Fixing | undefined {
  const first = day[0];
  if (!first) return undefined;
  let fixing = fixings.get(day);
  if (!fixing) {
    fixing = toFixing(first.validFor, day);
    fixings.set(day, fixing);
  }
  return fixing;
}

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
    name: "the Czech National Bank",
    base: "CZK",
    earliest: "1991-01-01",

    async fixing(date, call) {
      const fixing = dailyFixing(await daily(date, call));
      if (!fixing) throw new ToolError(`No fixing for ${date ?? "today"}: ${source.name} published none.`);
      return fixing;
    },

    async series(start, end, _codes, call) {
      const today = dateIn(PUBLICATION.zone);
      const years: number[] = [];
      for (let year = Number(start.slice(0, 4)); year <= Number(end.slice(0, 4)); year++) years.push(year);
      const answers = await Promise.all(
        years.map((year) =>
          cnb.json(
            rows,
            "/exrates/daily-year",
            { query: { year, lang: "EN" }, ttl: `${year}-12-31` < today ? PAST_TTL : latestTtl(PUBLICATION) },
            call,
          ),
        ),
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
      const day = await daily(undefined, call);
      return [
        { code: "CZK", name: "Czech koruna" },
        ...day.map((r) => ({
          code: r.currencyCode,
          name: [r.country, r.currency].filter(Boolean).join(" ") || r.currencyCode,
        })),
      ];
    },
  };

  async function daily(date: string | undefined, call: Call): Promise<Row[]> {
    const past = date !== undefined && date < dateIn(PUBLICATION.zone);
    const body = await cnb.json(
      rows,
      "/exrates/daily",
      { query: { date: past ? date : undefined, lang: "EN" }, ttl: past ? PAST_TTL : latestTtl(PUBLICATION) },
      call,
    );
    return body.rates;
  }

  return source;
}
