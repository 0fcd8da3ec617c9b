import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import { upstreamUrl } from "../../src/settings.js";
import { defineTool, defineToolset, type ToolCall } from "../../src/toolset.js";
import { cnbSource } from "./cnb.js";
import { ecbSource } from "./ecb.js";
import { crossRate, type Fixing, type RateSource, significant, toMinorUnit } from "./fixing.js";
import { isoDate } from "./schedule.js";

const SOURCES = ["ecb", "cnb"] as const;
type SourceId = (typeof SOURCES)[number];

const MAX_HISTORY_DAYS = 366;
const MAX_HISTORY_SYMBOLS = 10;
/** Days times currencies per call, so a history fits a context window: a year of 5, half a year of 10. */
const MAX_HISTORY_CELLS = 1830;
const DAY_MS = 24 * 3600 * 1000;

const settings = {
  source: {
    env: "WAITER_CURRENCY_SOURCE",
    description:
      "Default source of rates when a call names none: ecb (European Central Bank) or cnb (Czech National Bank).",
    schema: z.enum(SOURCES).default("ecb"),
  },
  frankfurterUrl: {
    env: "WAITER_FRANKFURTER_URL",
    description: "Base URL of the Frankfurter v1 API serving the ECB's rates.",
    schema: upstreamUrl("https://api.frankfurter.dev/v1"),
  },
  cnbUrl: {
    env: "WAITER_CNB_URL",
    description: "Base URL of the Czech National Bank's JSON API.",
    schema: upstreamUrl("https://api.cnb.cz/cnbapi"),
  },
};

// --- arguments ---------------------------------------------------------------------------

const code = z
  .string()
  .regex(/^[A-Za-z]{3}$/, "must be a three-letter ISO 4217 currency code such as EUR")
  .transform((value) => value.toUpperCase());

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** YYYY-MM-DD names a real day (2026-02-30 does not); arithmetic, since Date costs more than the call. */
function isCalendarDate(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day >= 1 && day <= days;
}

let latest = { hour: -1, date: "" };

/** Today somewhere on Earth: the date in UTC+14, so no user's "today" is refused. */
function latestPossibleDate(): string {
  const hour = Math.floor(Date.now() / 3_600_000);
  if (latest.hour !== hour) latest = { hour, date: isoDate((hour + 14) * 3_600_000) };
  return latest.date;
}

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date as YYYY-MM-DD")
  .refine(isCalendarDate, "is not a calendar date")
  .refine((value) => value <= latestPossibleDate(), "must not be in the future");

const sourceArg = z
  .enum(SOURCES)
  .optional()
  .describe(
    'Whose reference rates: "ecb" (European Central Bank, EUR-based, ~30 currencies) or "cnb" (Czech National Bank, CZK-based, the rate Czech accounting uses). Default: the server\'s configured source.',
  );

// --- results -----------------------------------------------------------------------------

const sourceOut = z.enum(SOURCES).describe("The source of the rates: ecb or cnb.");
const effectiveDate = z
  .string()
  .describe(
    "The date of the fixing actually used (YYYY-MM-DD): the last working day on or before the date asked for. Record this date, not the one asked for.",
  );
const requestedDate = z.string().optional().describe("The date asked for, when one was given.");
const note = z
  .string()
  .optional()
  .describe("Present when the fixing is not from the date asked for (weekend, holiday, not yet published).");
const rateRow = z.object({
  currency: z.string().describe("ISO 4217 code."),
  rate: z.number().describe("Units of this currency that 1 unit of the base currency buys."),
  inverse: z.number().describe("Units of the base currency that 1 unit of this currency buys."),
});

// --- helpers -----------------------------------------------------------------------------

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function dateNote(requested: string | undefined, fixing: Fixing, source: RateSource): string | undefined {
  if (requested === undefined || requested === fixing.date) return undefined;
  const weekday = new Date(`${requested}T00:00:00Z`).getUTCDay();
  const why = weekday === 0 || weekday === 6 ? "" : ": a holiday, or not published yet";
  return `No fixing exists for ${requested} (a ${WEEKDAYS[weekday]}${why}); these are the rates of ${fixing.date}, the last fixing ${source.name} published before it.`;
}

function hasCurrency(fixing: Fixing, code: string): boolean {
  return code === fixing.base || fixing.quotes.has(code);
}

function rateRows(fixing: Fixing, base: string, symbols: string[], source: RateSource) {
  return symbols.map((currency) => {
    const rate = crossRate(fixing, base, currency, source);
    return { currency, rate: significant(rate), inverse: significant(1 / rate) };
  });
}

const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 8 });

function formatNumber(value: number): string {
  return numberFormat.format(value);
}

function sourceLabel(id: SourceId): string {
  return id === "ecb" ? "ECB" : "CNB";
}

// --- the toolset -------------------------------------------------------------------------

export const currency = defineToolset({
  name: "currency",
  description: "Official reference exchange rates of the ECB and the Czech National Bank; keyless.",
  settings,
  tools({ settings, http }) {
    const sources: Record<SourceId, RateSource> = {
      ecb: ecbSource(http.upstream("Frankfurter (ECB rates)", settings.frankfurterUrl)),
      cnb: cnbSource(http.upstream("CNB API", settings.cnbUrl)),
    };
    const pick = (id: SourceId | undefined) => sources[id ?? settings.source];

    async function fixingFor(source: RateSource, day: string | undefined, call: ToolCall): Promise<Fixing> {
      if (day !== undefined && day < source.earliest) {
        throw new ToolError(
          `No rates before ${source.earliest}, the start of ${source.name}'s series; ask for a later date.`,
        );
      }
      return source.fixing(day, call);
    }

    const rates = defineTool({
      name: "currency_rates",
      title: "Exchange rates",
      description:
        "Official reference exchange rates for one day: the ECB's (EUR-based) or the Czech National Bank's (CZK-based). " +
        "Use it to quote rates; use currency_convert to convert an amount. Without a date you get the latest fixing. " +
        "On weekends and holidays no fixing exists: the result says which day's fixing it really is (`date`); book that date. " +
        "Rates for any other base are cross rates through the source's own base.",
      input: {
        base: code.optional().describe("Currency the rates are expressed against (default: EUR for ecb, CZK for cnb)."),
        symbols: z
          .array(code)
          .min(1)
          .max(50)
          .optional()
          .describe("Currencies to return, ISO 4217 codes (default: every currency the source publishes)."),
        date: date.optional().describe("Day of the fixing, YYYY-MM-DD (default: the latest). ECB from 1999-01-04."),
        source: sourceArg,
      },
      output: {
        source: sourceOut,
        base: z.string().describe("The base currency of `rates`."),
        date: effectiveDate,
        requested_date: requestedDate,
        note,
        rates: z.array(rateRow).describe("One row per currency, in the order asked for."),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      async run(args, call) {
        const source = pick(args.source);
        const fixing = await fixingFor(source, args.date, call);
        const base = args.base ?? source.base;
        const symbols = args.symbols ?? [...fixing.quotes.keys(), fixing.base].filter((c) => c !== base).sort();
        const note = dateNote(args.date, fixing, source);
        return {
          source: source.id,
          base,
          date: fixing.date,
          ...(args.date ? { requested_date: args.date } : {}),
          ...(note ? { note } : {}),
          rates: rateRows(fixing, base, symbols, source),
        };
      },
      render(r) {
        const lines = r.rates.map(
          (row) =>
            `1 ${r.base} = ${formatNumber(row.rate)} ${row.currency}   (1 ${row.currency} = ${formatNumber(row.inverse)} ${r.base})`,
        );
        return [`${sourceLabel(r.source)} reference rates of ${r.date}:`, ...(r.note ? [r.note] : []), ...lines].join(
          "\n",
        );
      },
    });

    const convert = defineTool({
      name: "currency_convert",
      title: "Convert currency",
      description:
        "Converts an amount between two currencies at an official reference rate (ECB or Czech National Bank) of one day. " +
        "The result is rounded to the target currency's minor unit (cents; whole yen). Without a date the latest fixing is used. " +
        "On weekends and holidays the last working day's fixing applies; `date` in the result says which, so record that date. " +
        "Pairs without the source's base (EUR for ecb, CZK for cnb) are converted through it.",
      input: {
        amount: z
          .number()
          .positive()
          .max(1e12)
          .describe("Amount of `from` to convert; greater than 0, at most 1,000,000,000,000."),
        from: code.describe("Currency of the amount, ISO 4217 code (e.g. JPY)."),
        to: code.describe("Currency to convert into, ISO 4217 code (e.g. CZK)."),
        date: date.optional().describe("Day of the fixing, YYYY-MM-DD (default: the latest)."),
        source: sourceArg,
      },
      output: {
        amount: z.number().describe("The amount converted, in `from`."),
        from: z.string().describe("ISO 4217 code converted from."),
        to: z.string().describe("ISO 4217 code converted into."),
        rate: z.number().describe("Units of `to` per 1 unit of `from` (8 significant digits)."),
        result: z.number().describe("The amount in `to`, rounded to the currency's minor unit."),
        via: z
          .string()
          .optional()
          .describe("The currency a cross rate went through, when neither side is the source's base."),
        date: effectiveDate,
        requested_date: requestedDate,
        note,
        source: sourceOut,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      async run(args, call) {
        const source = pick(args.source);
        const fixing = await fixingFor(source, args.date, call);
        const rate = crossRate(fixing, args.from, args.to, source);
        const note = dateNote(args.date, fixing, source);
        const through = args.from !== fixing.base && args.to !== fixing.base && args.from !== args.to;
        return {
          amount: args.amount,
          from: args.from,
          to: args.to,
          rate: significant(rate),
          result: toMinorUnit(args.amount * rate, args.to),
          ...(through ? { via: fixing.base } : {}),
          date: fixing.date,
          ...(args.date ? { requested_date: args.date } : {}),
          ...(note ? { note } : {}),
          source: source.id,
        };
      },
      render(r) {
        const how = r.via ? `, through ${r.via}` : "";
        const head = `${formatNumber(r.amount)} ${r.from} = ${formatNumber(r.result)} ${r.to} at ${formatNumber(r.rate)} (${sourceLabel(r.source)} fixing of ${r.date}${how})`;
        return r.note ? `${head}\n${r.note}` : head;
      },
    });

    const history = defineTool({
      name: "currency_history",
      title: "Exchange-rate history",
      description:
        `Official reference rates of every working day in a date range, for trends and for booking past transactions. ` +
        `A range spans at most ${MAX_HISTORY_DAYS} days (start and end included) and ${MAX_HISTORY_SYMBOLS} currencies, ` +
        `and days times currencies at most ${MAX_HISTORY_CELLS} (a year of 5 currencies, half a year of 10); split longer ones. ` +
        "ECB rates go back to 1999-01-04, CNB rates to 1991. Weekends and holidays have no fixing and are absent, and a " +
        "currency the source did not publish on a day is absent from that day. The text gives first, last, lowest and " +
        "highest rate per currency; the structured result has every day.",
      input: {
        base: code.describe("Currency the rates are expressed against, ISO 4217 code."),
        symbols: z
          .array(code)
          .min(1)
          .max(MAX_HISTORY_SYMBOLS)
          .describe(`Currencies to return, 1 to ${MAX_HISTORY_SYMBOLS} ISO 4217 codes.`),
        start: date.describe("First day of the range, YYYY-MM-DD."),
        end: date.describe(`Last day of the range, YYYY-MM-DD; the range spans at most ${MAX_HISTORY_DAYS} days.`),
        source: sourceArg,
      },
      output: {
        source: sourceOut,
        base: z.string().describe("The base currency of every rate."),
        start: z.string().describe("Date of the first fixing returned."),
        end: z.string().describe("Date of the last fixing returned."),
        days: z
          .array(
            z.object({
              date: z.string().describe("Date of the fixing."),
              rates: z
                .array(
                  z.object({
                    currency: z.string().describe("ISO 4217 code."),
                    rate: z.number().describe("Units of this currency that 1 unit of the base currency buys."),
                  }),
                )
                .describe("The currencies published that day."),
            }),
          )
          .describe("One entry per fixing, oldest first."),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      async run(args, call) {
        const source = pick(args.source);
        if (args.start > args.end) throw new ToolError(`start (${args.start}) is after end (${args.end}); swap them.`);
        const span = (Date.parse(args.end) - Date.parse(args.start)) / DAY_MS + 1;
        const symbols = [...new Set(args.symbols)];
        if (span > MAX_HISTORY_DAYS || span * symbols.length > MAX_HISTORY_CELLS) {
          throw new ToolError(
            `The range spans ${span} days for ${symbols.length} currencies; at most ${MAX_HISTORY_DAYS} days and ${MAX_HISTORY_CELLS} days times currencies fit in one call. Split it into shorter ranges or fewer currencies.`,
          );
        }
        if (args.end < source.earliest) {
          throw new ToolError(
            `No rates before ${source.earliest}, the start of ${source.name}'s series; ask for a later range.`,
          );
        }
        const all = await source.series(args.start, args.end, [args.base, ...symbols], call);
        // A day without the base can say nothing; a currency missing on a day is left out of that day.
        const fixings = all.filter((fixing) => hasCurrency(fixing, args.base));
        const unpublished = symbols.filter((c) => !fixings.some((fixing) => hasCurrency(fixing, c)));
        if (all.length > 0 && unpublished.length > 0) {
          const missing = [...(fixings.length ? [] : [args.base]), ...unpublished].join(", ");
          throw new ToolError(
            `${source.name} published no rate for ${missing} between ${args.start} and ${args.end}. Check the codes (ISO 4217); currency_list with source "${source.id}" lists the currencies it publishes.`,
          );
        }
        const first = fixings[0];
        const last = fixings.at(-1);
        if (!first || !last) {
          throw new ToolError(
            `No fixing between ${args.start} and ${args.end}: ${source.name} publishes none on weekends and holidays; widen the range.`,
          );
        }
        return {
          source: source.id,
          base: args.base,
          start: first.date,
          end: last.date,
          days: fixings.map((fixing) => ({
            date: fixing.date,
            rates: symbols
              .filter((c) => hasCurrency(fixing, c))
              .map((currency) => ({ currency, rate: significant(crossRate(fixing, args.base, currency, source)) })),
          })),
        };
      },
      render(r) {
        const head = `${sourceLabel(r.source)} rates against ${r.base}, ${r.days.length} fixings from ${r.start} to ${r.end}:`;
        const currencies = [...new Set(r.days.flatMap((day) => day.rates.map((row) => row.currency)))];
        const lines = currencies.map((currency) => {
          const points = r.days.flatMap((day) => {
            const rate = day.rates.find((row) => row.currency === currency)?.rate;
            return rate === undefined ? [] : [{ date: day.date, rate }];
          });
          const low = points.reduce((a, b) => (b.rate < a.rate ? b : a));
          const high = points.reduce((a, b) => (b.rate > a.rate ? b : a));
          const firstRate = points[0]?.rate ?? Number.NaN;
          const lastRate = points.at(-1)?.rate ?? Number.NaN;
          const change = ((lastRate / firstRate - 1) * 100).toFixed(2);
          return `${currency}: ${formatNumber(firstRate)} -> ${formatNumber(lastRate)} (${change}%), low ${formatNumber(low.rate)} on ${low.date}, high ${formatNumber(high.rate)} on ${high.date}`;
        });
        return [head, ...lines].join("\n");
      },
    });

    const list = defineTool({
      name: "currency_list",
      title: "List currencies",
      description:
        "The currencies a source publishes reference rates for, with their names. Use it to find a valid ISO 4217 code " +
        "before calling currency_rates, currency_convert or currency_history.",
      input: { source: sourceArg },
      output: {
        source: sourceOut,
        base: z.string().describe("The source's own base currency."),
        currencies: z
          .array(
            z.object({
              code: z.string().describe("ISO 4217 code."),
              name: z.string().describe("Name as the source gives it."),
            }),
          )
          .describe("Every currency the source publishes, by code."),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      async run(args, call) {
        const source = pick(args.source);
        const currencies = (await source.currencies(call)).sort((a, b) => a.code.localeCompare(b.code));
        return { source: source.id, base: source.base, currencies };
      },
      render(r) {
        return [
          `${sourceLabel(r.source)} publishes rates for ${r.currencies.length} currencies (base ${r.base}):`,
          ...r.currencies.map((c) => `${c.code}  ${c.name}`),
        ].join("\n");
      },
    });

    return [rates, convert, history, list];
  },
});
