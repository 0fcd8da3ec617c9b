import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import { capitalized } from "../../src/shown.js";
import { DAY_MS, dateIn, isoDate, weekdayName } from "../../src/time.js";
import { defineTool, type Tool, type ToolCall } from "../../src/toolset.js";
import {
  areCurrencies,
  beforeEuroFixed,
  crossRate,
  euroFixedAloneRange,
  euroNote,
  hasCurrency,
  lackingOnAll,
  type RateSource,
  significant,
  whereRatesAre,
  withEuroRates,
} from "./fixing.js";
import { datesStoodFor, dayOver, dueBy, lastWorkingDay, publishes } from "./schedule.js";
import {
  beforeFirst,
  code,
  codes,
  crossNote,
  elsewhereBefore,
  firstFixing,
  formatNumber,
  note,
  notYet,
  rangeEnd,
  rangeStart,
  type Sources,
  sourceArg,
  sourceLabel,
  sourceOut,
} from "./shapes.js";

const MAX_HISTORY_DAYS = 366;
const MAX_HISTORY_SYMBOLS = 10;
/**
 * Days times currencies per call, so a history fits a context window: a year of 2, 100 days of 10.
 * Its structuredContent, which Claude Code gives the model as JSON, stays within 40,000 bytes with
 * the longest rates (a weak base's cross rates, 0.000056123456) and the most fixings a range has:
 * Claude Code keeps an answer over 50,000 characters out of the model's context and refuses one
 * over 25,000 tokens.
 */
const MAX_HISTORY_CELLS = 1000;

export function historyTool({ configured, pick, otherThan }: Sources): Tool {
  return defineTool({
    name: "currency_history",
    title: "Exchange-rate history",
    description:
      "Official rates of every working day in a range: at most " +
      `${MAX_HISTORY_DAYS} days and ${MAX_HISTORY_SYMBOLS} currencies, days x currencies <= ${MAX_HISTORY_CELLS}; split longer ones. ` +
      "ECB from 1999-01-04, CNB from 1991; days without a fixing are absent.",
    input: {
      base: code.describe("Rates are per 1 unit of it."),
      symbols: codes(
        z.array(code).min(1).max(MAX_HISTORY_SYMBOLS).describe(`1 to ${MAX_HISTORY_SYMBOLS} ISO 4217 codes.`),
      ),
      start: rangeStart.describe("YYYY-MM-DD, included."),
      end: rangeEnd.describe("YYYY-MM-DD, included."),
      source: sourceArg(configured),
    },
    output: {
      source: sourceOut,
      base: z.string(),
      start: z.string(),
      end: z.string(),
      note,
      days: z.array(
        z.object({
          date: z.string(),
          rates: z.array(
            z.object({
              currency: z.string(),
              rate: z.number().describe("Units of it per 1 base."),
            }),
          ),
        }),
      ),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const source = pick(args.source);
      const symbols = [...new Set(args.symbols)];
      // The range as meant, whichever date came first; what it has is from the source's first date on.
      const [earlier, later] = args.start <= args.end ? [args.start, args.end] : [args.end, args.start];
      // Days before any fixing of the euro: what held between it and those it replaced was no fixing.
      const fixedAlone = euroFixedAloneRange([args.base, ...symbols], earlier, later);
      if (fixedAlone) {
        const convert = call.serves("currency_convert") ? ", at which currency_convert converts on each date" : "";
        throw new ToolError(`${fixedAlone}${convert}.`);
      }
      if (later < source.earliest) {
        const other = otherThan(source);
        // As for a date: a misspelt code is sent on, for the other source's refusal to say to check it.
        const asked = [args.base, ...symbols].filter((code) => areCurrencies([code]));
        const lacking = await lackingOnAll([earlier, later], asked, other, call);
        throw beforeFirst("end", later, source, other, [...lacking], `between ${earlier} and ${later}`);
      }
      const from = earlier < source.earliest ? source.earliest : earlier;
      const reversed = args.start > args.end ? `start (${args.start}) is after end (${args.end})` : "";
      const span = (Date.parse(later) - Date.parse(from)) / DAY_MS + 1;
      const most = Math.min(MAX_HISTORY_DAYS, Math.floor(MAX_HISTORY_CELLS / symbols.length));
      if (span > most) {
        const counted = from === earlier ? "" : ` from ${firstFixing(source)},`;
        const fit =
          most === MAX_HISTORY_DAYS
            ? `at most ${most} days fit in one call`
            : `at most ${most} days of ${symbols.length} currencies fit in one call (days times currencies at most ${MAX_HISTORY_CELLS})`;
        const next = Date.parse(from) + most * DAY_MS;
        throw new ToolError(
          `${reversed ? `${reversed}, and the` : "The"} range spans ${span} days${counted} for ${symbols.length} ${symbols.length === 1 ? "currency" : "currencies"}; ${fit}: ask for ${from} to ${isoDate(next - DAY_MS)}, then go on from ${isoDate(next)}.`,
        );
      }
      if (reversed) throw new ToolError(`${reversed}; swap them.`);
      // A range that has not begun where the source publishes has nothing to ask for.
      const published = from > dateIn(source.publication.zone) ? [] : await source.series(from, args.end, call);
      const all = published.map((fixing) => withEuroRates(fixing, [args.base, ...symbols], fixing.date));
      // A day without the base can say nothing; a currency missing on a day is left out of that day.
      const fixings = all.filter((fixing) => hasCurrency(fixing, args.base));
      const unpublished = symbols.filter((c) => !fixings.some((fixing) => hasCurrency(fixing, c)));
      if (all.length > 0 && unpublished.length > 0) {
        // Without the base no currency has a rate against it: the base alone is what is missing.
        const missing = fixings.length ? unpublished : [args.base];
        throw new ToolError(
          `${capitalized(source.name)} published no rate for ${missing.join(", ")} between ${args.start} and ${args.end}. ${await whereRatesAre(missing, source, otherThan(source), call, [from, args.end])}`,
        );
      }
      const first = fixings[0];
      const last = fixings.at(-1);
      if (!first || !last) {
        const pending = firstPending(from, args.end, source);
        const lacking = pending ? undefined : firstLacking(from, args.end, source);
        // The working day before may have its fixing still to come (Friday's, asked for Saturday on Friday morning).
        const before = lastWorkingDay(source.publication, from);
        const toCome = dueBy(source.publication, before) ? undefined : notYet(before, source);
        throw new ToolError(
          pending
            ? `No fixing between ${args.start} and ${args.end} yet: ${pending}${standingBefore(from, source)}.`
            : lacking
              ? `No fixing between ${args.start} and ${args.end}: ${lacking}${standingBefore(from, source)}.`
              : `No fixing between ${args.start} and ${args.end}: ${source.name} publishes none on weekends and ${source.publication.holiday}s; start the range on ${before}, the last working day before, whose fixing stands for these days${toCome ? `, once it is out: ${toCome}` : ""}.`,
        );
      }
      // A range reaching a fixing still to come says so, lest its days read as ones without a fixing;
      // so does one ending on working days the source gave none for, and one with fixings left out for
      // want of the base (CNY's before 2005).
      const after = isoDate(Date.parse(all.at(-1)?.date ?? last.date) + DAY_MS);
      const pending = firstPending(after, args.end, source);
      const lacking = pending ? undefined : firstLacking(after, args.end, source);
      // A currency the source began or stopped fixing within the range says why the fixings it is
      // missing from have no rate for it, lest they read as gaps in the source's data; currencies
      // missing from the same fixings (five the ECB took up on 2005-04-01) are said at once.
      const missing = new Map<string, { codes: string[]; without: string[] }>();
      for (const code of symbols) {
        const without = fixings.filter((fixing) => !hasCurrency(fixing, code)).map((fixing) => fixing.date);
        if (without.length === 0) continue;
        const same = missing.get(without.join());
        if (same) same.codes.push(code);
        else missing.set(without.join(), { codes: [code], without });
      }
      const missingFrom = await Promise.all(
        [...missing.values()].map(async ({ codes, without }) => {
          const [since, until] = [without[0] as string, without.at(-1) as string];
          const which =
            since === until
              ? `the fixing of ${since}, which has`
              : `${without.length} of the ${fixings.length} fixings, from ${since} to ${until}, which have`;
          // A note that answers the range sends to no list.
          const why = await whereRatesAre(codes, source, otherThan(source), { ...call, serves: () => false }, [
            since,
            until,
          ]);
          const [are, them] = codes.length === 1 ? ["is", "it"] : ["are", "them"];
          return `${codes.join(", ")} ${are} missing from ${which} no rate for ${them}. ${why}`;
        }),
      );
      const note = [
        from === earlier
          ? undefined
          : await firstFixingNote(earlier, source, otherThan(source), [args.base, ...symbols], call),
        beforeEuroFixed([args.base, ...symbols], from, args.end, source),
        crossNote(args.base, source),
        euroNote([...new Set(fixings.flatMap((fixing) => fixing.euroFixed ?? []))]),
        fixings.length < all.length
          ? `${args.base}, the base, is in ${fixings.length} of the ${all.length} fixings from ${all[0]?.date} to ${all.at(-1)?.date}: the others have no rate against it and are left out.`
          : undefined,
        ...missingFrom,
        closedNote(
          from,
          first.date,
          lastWorkingDay(source.publication, from),
          ", before the range,",
          source,
          // Not asked for, the fixing before the range may lack the base too, as the range's first does.
          all[0] === first
            ? ""
            : ` where that fixing has a rate against ${args.base}, which none of the range's before ${first.date} has`,
          // A weekend beginning the range too: the fixing standing for it is not in the answer.
          true,
        ),
        closedWithin(
          first.date,
          last.date,
          source,
          new Set(all.map((fixing) => fixing.date)),
          new Set(fixings.map((fixing) => fixing.date)),
          args.base,
        ),
        gapsWithin(first.date, last.date, source, new Set(all.map((fixing) => fixing.date))),
        closedNote(
          after,
          args.end,
          all.at(-1)?.date ?? last.date,
          "",
          source,
          all.at(-1) === last ? "" : `, but has no rate against ${args.base}`,
        ),
        pending
          ? `${capitalized(pending)}; the range ends with the fixing of ${last.date}, the latest available.`
          : undefined,
        lacking ? `${capitalized(lacking)}; the range ends with the fixing of ${last.date}.` : undefined,
      ]
        .filter(Boolean)
        .join(" ");
      return {
        source: source.id,
        base: args.base,
        start: first.date,
        end: last.date,
        ...(note ? { note } : {}),
        days: fixings.map((fixing) => ({
          date: fixing.date,
          rates: symbols
            .filter((c) => hasCurrency(fixing, c))
            .map((currency) => ({ currency, rate: significant(crossRate(fixing, args.base, currency, source)) })),
        })),
      };
    },
    render(r) {
      const head = `${sourceLabel(r.source)} rates against ${r.base}, ${r.days.length} ${r.days.length === 1 ? "fixing" : "fixings"} from ${r.start} to ${r.end}:`;
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
        // A fall too small to show is no change, not "-0.00%".
        const change = ((lastRate / firstRate - 1) * 100).toFixed(2).replace(/^-(0\.00)$/, "$1");
        // A currency quoted on only some of the days (CNY from 2005-04-01, when the ECB began to fix
        // it) says which, lest its first rate read as the range's.
        const firstDate = points[0]?.date;
        const lastDate = points.at(-1)?.date;
        const span = firstDate === lastDate ? firstDate : `${firstDate} to ${lastDate}`;
        const which =
          points.length < r.days.length ? ` (${points.length} of the ${r.days.length} fixings, ${span})` : "";
        return `${currency}${which}: ${formatNumber(firstRate)} -> ${formatNumber(lastRate)} (${change}%), low ${formatNumber(low.rate)} on ${low.date}, high ${formatNumber(high.rate)} on ${high.date}`;
      });
      return [head, ...(r.note ? [r.note] : []), ...lines].join("\n");
    },
  });
}

/**
 * That a range beginning on `start`, before the source's first fixing, is answered from that fixing,
 * its days before having no rates from it, and where their rates of `codes` are, if anywhere.
 */
async function firstFixingNote(
  start: string,
  source: RateSource,
  other: RateSource,
  codes: string[],
  call: ToolCall,
): Promise<string> {
  const last = isoDate(Date.parse(source.earliest) - DAY_MS);
  // Between the euro and those it replaced, the days before were of the fixed rates alone, not of no rate.
  const fixedAlone = euroFixedAloneRange(codes, start, last);
  if (fixedAlone) return `The range is answered from ${firstFixing(source)}. ${fixedAlone}.`;
  const first = start < other.earliest ? other.earliest : start;
  const lacking =
    first > last
      ? []
      : [
          ...(await lackingOnAll(
            [first, last],
            codes.filter((code) => areCurrencies([code])),
            other,
            call,
          )),
        ];
  return `The range is answered from ${firstFixing(source)}: no date before has its rates; ${elsewhereBefore(last, other, lacking, `between ${first} and ${last}`)}.`;
}

/**
 * The first working day of the source's calendar from `first` to `end` that is over without a fixing
 * in the answer, said as the source's lack: it may not have taken it in yet (Frankfurter, which polls
 * the ECB until 16:30 UTC, takes a fixing published later in the next working day).
 */
function firstLacking(first: string, end: string, source: RateSource): string | undefined {
  for (let day = Date.parse(first); day <= Date.parse(end); day += DAY_MS) {
    const date = isoDate(day);
    if (publishes(source.publication, date) && dayOver(source.publication, date)) {
      return `${source.name} gave none for ${date}, a working day in its calendar: the source may not have it yet`;
    }
  }
  return undefined;
}

/**
 * That the source's closing days other than weekends (and weekends too, `weekends`) from `first` on, before its
 * next working day and up to `end`, have no fixing, and that the fixing of `standing` (`where` it is) stands for
 * them: 17 November, ending a range, is a Czech public holiday, not a fixing missing; `withoutBase`, where that
 * fixing may have no rate against the base asked for.
 */
function closedNote(
  first: string,
  end: string,
  standing: string,
  where: string,
  source: RateSource,
  withoutBase = "",
  weekends = false,
): string | undefined {
  const closed: string[] = [];
  for (let day = Date.parse(first); day <= Date.parse(end); day += DAY_MS) {
    const date = isoDate(day);
    if (publishes(source.publication, date)) break;
    const weekday = weekdayName(date);
    if (weekday !== "Saturday" && weekday !== "Sunday") {
      closed.push(`${date} (a ${weekday}: a ${source.publication.holiday})`);
    } else if (weekends) {
      closed.push(`${date} (a ${weekday})`);
    }
  }
  if (closed.length === 0) return undefined;
  const days = closed.join(", ").replace(/, ([^,]*)$/, " and $1");
  return `No fixing exists for ${days}; the fixing of ${standing}${where} stands for ${closed.length === 1 ? "it" : "them"}${withoutBase}.`;
}

/**
 * That the source's closing days other than weekends between the fixings of `first` and `last` have none, lest
 * they read as days missing from its data, and which fixing stands for each: an invoice of Good Friday has the
 * fixing before it, in the range. A closing day the source has a fixing for all the same, one of `dated`, is not
 * said to have none.
 */
function closedWithin(
  first: string,
  last: string,
  source: RateSource,
  dated: Set<string>,
  withBase: Set<string>,
  base: string,
): string | undefined {
  const closed: string[] = [];
  const standingFor = new Map<string, string[]>();
  let standing = first;
  for (let day = Date.parse(first) + DAY_MS; day < Date.parse(last); day += DAY_MS) {
    const date = isoDate(day);
    if (dated.has(date)) standing = date;
    const weekday = weekdayName(date);
    if (weekday === "Saturday" || weekday === "Sunday" || publishes(source.publication, date)) continue;
    if (dated.has(date)) continue;
    closed.push(`${date} (a ${weekday}: a ${source.publication.holiday})`);
    standingFor.set(standing, [...(standingFor.get(standing) ?? []), date]);
  }
  if (closed.length === 0) return undefined;
  const listed = (items: string[]) => items.join(", ").replace(/, ([^,]*)$/, " and $1");
  // A fixing left out of the answer for want of the base stands all the same, without a rate against it.
  const of = (date: string) => (withBase.has(date) ? date : `${date}, which has no rate against ${base},`);
  const [[fixing, days] = ["", []], ...others] = [...standingFor];
  if (others.length === 0) {
    return `No fixing exists for ${listed(closed)}, within the range; the fixing of ${of(fixing)} stands for ${days.length === 1 ? "it" : "them"}.`;
  }
  const stands = [
    `the fixing of ${of(fixing)} stands for ${listed(days)}`,
    ...others.map(([other, its]) => `that of ${of(other)} for ${listed(its)}`),
  ];
  return `No fixing exists for ${listed(closed)}, within the range; ${stands.slice(0, -1).join(", ")}, and ${stands.at(-1)}.`;
}

/**
 * That working days of the source's calendar between the fixings of `first` and `last` have none in the answer,
 * `dated`: the source's data lacks them, where a reader would take them for days it has a fixing of.
 */
function gapsWithin(first: string, last: string, source: RateSource, dated: Set<string>): string | undefined {
  const gaps: string[] = [];
  for (let day = Date.parse(first) + DAY_MS; day < Date.parse(last); day += DAY_MS) {
    const date = isoDate(day);
    if (publishes(source.publication, date) && !dated.has(date)) gaps.push(date);
  }
  if (gaps.length === 0) return undefined;
  const days = gaps.join(", ").replace(/, ([^,]*)$/, " and $1");
  const [a, its] = gaps.length === 1 ? ["a working day", "it"] : ["working days", "them"];
  return `${capitalized(source.name)} gave no fixing for ${days}, ${a} in its calendar, within the range: the source's data lacks ${its}.`;
}

/**
 * For a range beginning on days without a fixing of their own (a weekend before a Monday whose fixing
 * is to come or late), that the fixing before stands for them, lest they read as days still to have one.
 */
function standingBefore(from: string, source: RateSource): string {
  const before = lastWorkingDay(source.publication, from);
  if (before === from) return "";
  const last = datesStoodFor(source.publication, before).at(-1);
  const [days, own, it] =
    last === from ? [from, "has none of its own", "it"] : [`${from} to ${last}`, "have none of their own", "them"];
  return `; ${days} ${own}, the fixing of ${before}, the last working day before, standing for ${it}`;
}

/** Why the first working day from `first` to `end` has no fixing yet, if one of them is still to come. */
function firstPending(first: string, end: string, source: RateSource): string | undefined {
  for (let day = Date.parse(first); day <= Date.parse(end); day += DAY_MS) {
    const pending = notYet(isoDate(day), source);
    if (pending) return pending;
  }
  return undefined;
}
