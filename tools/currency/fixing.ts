import Big from "big.js";
import { ToolError, UpstreamError } from "../../src/errors.js";
import { untilAborted, withDeadline } from "../../src/http/deadline.js";
import type { Call } from "../../src/http/types.js";
import { orKept, passing, type StaleIfError } from "../../src/http/upstream.js";
import { capitalized } from "../../src/shown.js";
import { clock, DAY_MS, dateIn, isoDate } from "../../src/time.js";
import type { Serving } from "../../src/toolset.js";
import { datesStoodFor, fixingDay, lastWorkingDay, type Publication } from "./schedule.js";

/** One currency in a fixing: `units` of it are worth `value` of the fixing's base currency. */
export interface Quote {
  units: number;
  value: number;
}

/** One day's reference rates as a source published them. */
export interface Fixing {
  /** The date the fixing is valid for: the last working day on or before the one asked for. */
  date: string;
  /** The currency every quote is expressed in: EUR for the ECB, CZK for the CNB. */
  base: string;
  quotes: Map<string, Quote>;
  /**
   * Why a newer fixing may exist: the source failed when asked, and this one was kept from an
   * earlier answer (the failure's message).
   */
  stale?: string;
  /** The currencies the euro replaced whose quotes are worked out from their fixed rates and EUR's. */
  euroFixed?: string[];
  /** None of the source's: the euro's fixed rates alone, of a day before either source fixed the euro. */
  fixedOnly?: true;
}

export interface CurrencyName {
  code: string;
  name: string;
}

export interface RateSource {
  id: "ecb" | "cnb";
  /** Who publishes the rates, for results and messages. */
  name: string;
  base: string;
  /** The first date the source has rates for. */
  earliest: string;
  publication: Publication;
  /** What of a currency its fixing lacks, when the code is a real one: where its rate is, if anywhere. */
  others: string;
  /** Currencies it fixed or fixes for a time only, each with when, and so which dates have their rates. */
  fixedFor: Record<string, string>;
  /**
   * Of `fixedFor`, the currencies no source has a rate of outside the dates it fixed them: one that did
   * not exist before (the euro, Turkey's new lira), or that a new one replaced after (Turkey's old lira,
   * Romania's old leu). The other source is not named for them.
   */
  noneElsewhere: string[];
  /** Currencies it began to fix after its first day and fixes still, each with the date of its first fixing. */
  fixedFrom: Record<string, string>;
  /** The fixing valid on `date` (YYYY-MM-DD), or the latest one. */
  fixing(date: string | undefined, call: Call): Promise<Fixing>;
  /** Every fixing published from `start` (not before `earliest`) to `end`, oldest first, each whole. */
  series(start: string, end: string, call: Call): Promise<Fixing[]>;
  currencies(call: Call): Promise<CurrencyName[]>;
}

/**
 * How long past its time a fixing kept is answered with, when its source fails (saying so): a
 * week of an outage, through which the fixing's own date says how old it is.
 */
export const KEPT_FOR_SECONDS = 7 * 24 * 3600;

/**
 * The fixing `read` answers for `date` (or the latest), one kept from before when the source fails
 * for now (saying so), or else, as a day's fixing is the same in every answer that has it, one of
 * that day kept from another request: `keptOf` finds it (a date asked for, kept as the latest
 * fixing's answer; the latest, kept as a date's), given `day` and every date `dates` whose answer
 * is that day's fixing (Friday's is kept as Saturday's answer too, and answers for Sunday).
 */
export async function fixingOrKept(
  publication: Publication,
  date: string | undefined,
  call: Call,
  read: (staleIfError: StaleIfError) => Promise<Fixing>,
  keptOf: (day: string, dates: string[]) => Fixing | undefined,
): Promise<Fixing> {
  try {
    const { value, stale } = await orKept(KEPT_FOR_SECONDS, read);
    return stale ? { ...value, stale: stale.failure } : value;
  } catch (failure) {
    if (call.signal.aborted || !passing(failure)) throw failure;
    const day = fixingDay(publication, date);
    const kept = keptOf(day, datesStoodFor(publication, day));
    if (!kept) throw failure;
    return { ...kept, stale: failure.message };
  }
}

/**
 * What a source's reader throws for an answer without a single rate: an upstream failure, so the
 * answer is never kept as a fixing (the cache keeps only what the reader accepts).
 */
export function emptyFixing(name: string): UpstreamError {
  return new UpstreamError(`${capitalized(name)} answered an empty fixing; try again later.`);
}

/**
 * The rate from one currency to another in a fixing: how many `to` one `from` buys. Cross
 * rates go through the fixing's base (EUR->USD at the CNB goes through CZK). Throws a
 * ToolError naming a code the fixing does not have.
 */
export function crossRate(fixing: Fixing, from: string, to: string, source: RateSource): number {
  return rateBetween(quoteOf(fixing, from, source), quoteOf(fixing, to, source));
}

/** How many of quote `b`'s currency one of quote `a`'s buys. */
function rateBetween(a: Quote, b: Quote): number {
  return (a.value * b.units) / (a.units * b.value);
}

export function hasCurrency(fixing: Fixing, code: string): boolean {
  return code === fixing.base || fixing.quotes.has(code);
}

/** The base currency in its own fixing: one of it is worth one of it. */
const BASE_QUOTE: Quote = Object.freeze({ units: 1, value: 1 });

export function quoteOf(fixing: Fixing, code: string, source: RateSource): Quote {
  if (code === fixing.base) return BASE_QUOTE;
  const quote = fixing.quotes.get(code);
  if (!quote) {
    // Only a fixing withRatesFor has not checked lacks a code here, which no session is sent on from.
    throw noRateIn(
      fixing,
      code,
      source,
      noRateAdvice([code], source, source, NOT_LISTED, undefined, () => false),
    );
  }
  return quote;
}

function noRateIn(fixing: Fixing, code: string, source: RateSource, advice: string): ToolError {
  return new ToolError(`No rate for currency "${code}" in the fixing of ${fixing.date} by ${source.name}. ${advice}`);
}

/** The euro's first day, when it replaced the first eleven currencies at their fixed rates. */
const EURO_FIRST_DAY = "1999-01-01";

/**
 * The currencies the euro replaced, each with the day it did and its irrevocably fixed rate, so many
 * of it to 1 EUR, as Council Regulation (EC) No 2866/98 (Article 1, amended as each country joined)
 * has them.
 */
const REPLACED_BY_EURO = new Map<string, { since: string; rate: string }>(
  (
    [
      ["ATS", EURO_FIRST_DAY, "13.7603"],
      ["BEF", EURO_FIRST_DAY, "40.3399"],
      ["DEM", EURO_FIRST_DAY, "1.95583"],
      ["ESP", EURO_FIRST_DAY, "166.386"],
      ["FIM", EURO_FIRST_DAY, "5.94573"],
      ["FRF", EURO_FIRST_DAY, "6.55957"],
      ["IEP", EURO_FIRST_DAY, "0.787564"],
      ["ITL", EURO_FIRST_DAY, "1936.27"],
      ["LUF", EURO_FIRST_DAY, "40.3399"],
      ["NLG", EURO_FIRST_DAY, "2.20371"],
      ["PTE", EURO_FIRST_DAY, "200.482"],
      ["GRD", "2001-01-01", "340.750"],
      ["SIT", "2007-01-01", "239.640"],
      ["CYP", "2008-01-01", "0.585274"],
      ["MTL", "2008-01-01", "0.429300"],
      ["SKK", "2009-01-01", "30.1260"],
      ["EEK", "2011-01-01", "15.6466"],
      ["LVL", "2014-01-01", "0.702804"],
      ["LTL", "2015-01-01", "3.45280"],
      ["HRK", "2023-01-01", "7.53450"],
      ["BGN", "2026-01-01", "1.95583"],
    ] as const
  ).map(([code, since, rate]) => [code, { since, rate }]),
);

/** What a currency the euro replaced is from then on. */
function replacedByEuro(code: string): string | undefined {
  const replaced = REPLACED_BY_EURO.get(code);
  return (
    replaced &&
    `${code} was replaced by the euro on ${replaced.since} at the fixed rate of ${replaced.rate} ${code} to 1 EUR (Council Regulation (EC) No 2866/98)`
  );
}

/** What rates worked out from the fixed rates of `fixed`, currencies the euro replaced, say of them. */
export function euroNote(fixed: string[] = []): string | undefined {
  return fixed.length > 0
    ? `${fixed.map(replacedByEuro).join("; ")}: rates from that day on are worked out through EUR at ${fixed.length === 1 ? "it" : "them"}.`
    : undefined;
}

/**
 * `fixing` with the quotes of the `codes` the euro had replaced by `day`, worked out from their fixed
 * rates and the fixing's EUR: the only rates at which they convert from then on, even where the
 * fixing still had the source's own (the ECB's of Friday 30 December 2022 for Sunday 1 January 2023).
 */
export function withEuroRates(fixing: Fixing, codes: string[], day: string): Fixing {
  const eur = fixing.base === "EUR" ? { units: 1, value: 1 } : fixing.quotes.get("EUR");
  const replaced = [...new Set(codes)].flatMap((code) => {
    const fixed = REPLACED_BY_EURO.get(code);
    return fixed && fixed.since <= day ? [{ code, rate: fixed.rate }] : [];
  });
  if (!eur || replaced.length === 0) return fixing;
  const quotes = new Map(fixing.quotes);
  for (const { code, rate } of replaced) {
    quotes.set(code, { units: new Big(rate).times(eur.units).toNumber(), value: eur.value });
  }
  return { ...fixing, quotes, euroFixed: replaced.map(({ code }) => code) };
}

/** Each currency the euro replaced, of any date: a table of the fixed rates alone has those it had replaced by its date. */
export const EURO_REPLACED = [...REPLACED_BY_EURO.keys()];

/** The first day either source fixed the euro: Monday 4 January 1999, after the fixed rates held from the Friday. */
const FIRST_EURO_FIXING = "1999-01-04";

/** Whether the euro had replaced `code` by `day`, one before either source fixed the euro. */
function replacedByEuroOn(code: string, day: string): boolean {
  return (REPLACED_BY_EURO.get(code)?.since ?? FIRST_EURO_FIXING) <= day;
}

/**
 * For `day` before either source fixed the euro (1 to 3 January 1999), when `codes` are the euro and
 * currencies it had replaced by then, and no other, the fixed rates alone between them, which held from
 * 1 January 1999 whatever fixing there was: no fixing of either source has the euro's rate.
 */
export function euroFixedAlone(codes: string[], day: string | undefined): Fixing | undefined {
  if (day === undefined || day >= FIRST_EURO_FIXING) return undefined;
  const others = codes.filter((code) => code !== "EUR");
  if (others.length === 0 || !others.every((code) => replacedByEuroOn(code, day))) return undefined;
  return { ...withEuroRates({ date: day, base: "EUR", quotes: new Map() }, codes, day), fixedOnly: true };
}

/**
 * Why a range from `start` to `end`, days before either source fixed the euro, lists no rates of `codes`, the
 * euro and currencies it had replaced by `start`: no fixing has them, only the fixed rates held between them.
 */
export function euroFixedAloneRange(codes: string[], start: string, end: string): string | undefined {
  const alone = end < FIRST_EURO_FIXING ? euroFixedAlone(codes, start) : undefined;
  if (!alone) return undefined;
  const rates = [...alone.quotes].map(([code, quote]) => `${new Big(quote.units)} ${code}`);
  return `No fixing between ${start} and ${end}: neither source fixed the euro before ${FIRST_EURO_FIXING}; between ${[...new Set(codes)].join(", ")} only the fixed rates held (${rates.join(", ")} to 1 EUR)`;
}

/**
 * What a range from `start` to `end`, running past the first fixing of the euro from days before it
 * (at the CNB, whose fixings begin earlier), says of 1 to 3 January 1999, which it has no fixing of:
 * between the euro and those it replaced, the fixed rates alone held; the euro with any other had no
 * rate at `source` (whose fixing of 1998-12-31 stands for those days), as its `fixedFor` says.
 */
export function beforeEuroFixed(codes: string[], start: string, end: string, source: RateSource): string | undefined {
  const first = start < EURO_FIRST_DAY ? EURO_FIRST_DAY : start;
  if (first >= FIRST_EURO_FIXING || end < FIRST_EURO_FIXING) return undefined;
  const last = isoDate(Date.parse(FIRST_EURO_FIXING) - DAY_MS);
  const fixedAlone = euroFixedAloneRange(codes, first, last);
  if (fixedAlone) return `${fixedAlone}.`;
  // From an earlier start, the fixings without a euro rate before these days say so.
  const euro = first === start && codes.includes("EUR") ? source.fixedFor.EUR : undefined;
  return euro && `The range has no rate of EUR between ${first} and ${last}: EUR ${euro}.`;
}

/**
 * Whether a result dated `date` is of the euro's fixed rates alone, not of a source's fixing: only
 * they are dated from 1 January 1999, the euro's first day, to the 3rd, as no fixing is.
 */
export function ofFixedRatesAlone(date: string): boolean {
  return date >= EURO_FIRST_DAY && date < FIRST_EURO_FIXING;
}

/** What a fixing of the euro's fixed rates alone says of them. */
export function fixedAloneNote(fixing: Fixing): string | undefined {
  return fixing.fixedOnly
    ? `Neither source fixed the euro before ${FIRST_EURO_FIXING}: between it and the currencies it replaced, these are the fixed rates alone, of no fixing.`
    : undefined;
}

/**
 * `fixing`, with the rates of currencies the euro had replaced by `day` (the source's today when
 * undefined), when it has a rate for each of `codes`; else the ToolError naming the first it lacks
 * and where its rate is: for a currency the source fixes from a later date on, or only `other`
 * fixes, that source.
 */
export async function withRatesFor(
  given: Fixing,
  codes: string[],
  day: string | undefined,
  source: RateSource,
  other: RateSource,
  call: Call & Serving,
): Promise<Fixing> {
  // The source's today is worked out in its time zone, only for a code the euro replaced.
  const fixing = codes.some((code) => REPLACED_BY_EURO.has(code))
    ? withEuroRates(given, codes, day ?? dateIn(source.publication.zone))
    : given;
  const missing = codes.find((code) => !hasCurrency(fixing, code));
  if (missing === undefined) return fixing;
  throw noRateIn(
    fixing,
    missing,
    source,
    await whereRatesAre([missing], source, other, call, day === undefined ? undefined : [day]),
  );
}

/**
 * What to do about `codes` a date's fixing or a range's lacks, with where today's lists put them; given
 * `days`, the date or the range's first and last, not sending to the other source for a code it has no
 * rate for on any of them either (a range between that has one at neither end is not looked for).
 */
export async function whereRatesAre(
  codes: string[],
  source: RateSource,
  other: RateSource,
  call: Call & Serving,
  days?: [string] | [string, string],
): Promise<string> {
  const listed = await listedToday(codes, source, other, call);
  const before = replacedAfter(codes, days?.at(-1));
  const euroless = days ? replacedBeforeEuroFixed(codes, days) : [];
  const sentOn = codes.filter(
    (code) =>
      (Object.hasOwn(source.fixedFor, code) && !source.noneElsewhere.includes(code)) ||
      Object.hasOwn(source.fixedFrom, code) ||
      listed.later.includes(code) ||
      listed.elsewhere.includes(code) ||
      before.includes(code),
  );
  const lacking = days && {
    when: days[0] === days.at(-1) ? `for ${days[0]}` : `between ${days[0]} and ${days[1]}`,
    codes: await lackingOnAll(days, sentOn, other, call),
  };
  return noRateAdvice(codes, source, other, listed, lacking, call.serves, before, euroless);
}

/**
 * Which of `codes` the euro had replaced by the first of `days` when the source had yet to fix the euro
 * on the last (1 to 3 January 1999): no rate of the source's converts them then, neither their own nor
 * the euro's.
 */
function replacedBeforeEuroFixed(codes: string[], days: string[]): string[] {
  const [first, last] = [days[0] ?? "", days.at(-1) ?? ""];
  return last >= FIRST_EURO_FIXING ? [] : codes.filter((code) => replacedByEuroOn(code, first));
}

/** Which of `codes` the euro replaced only after `day`: a fixing of `day` without one lacks the source's own rate. */
function replacedAfter(codes: string[], day: string | undefined): string[] {
  return day === undefined ? [] : codes.filter((code) => day < (REPLACED_BY_EURO.get(code)?.since ?? day));
}

/** Codes the other source has no rate for on `day` either. */
interface Lacking {
  /** The date or range, as the advice says it: "for 2004-06-01". */
  when: string;
  codes: Set<string>;
}

/** Which of `codes` the `other` source has no rate for on any of `days`. */
export async function lackingOnAll(
  days: string[],
  codes: string[],
  other: RateSource,
  call: Call,
): Promise<Set<string>> {
  const each = await Promise.all([...new Set(days)].map((day) => lackingOn(day, codes, other, call)));
  return new Set(codes.filter((code) => each.every((lacking) => lacking.has(code))));
}

/**
 * Which of `codes` the `other` source has no rate for on `day`: every one before its first fixing, and
 * else those its fixing of the day lacks. None when that fixing cannot be had now: the advice then
 * says the other source may have them.
 */
export async function lackingOn(day: string, codes: string[], other: RateSource, call: Call): Promise<Set<string>> {
  if (codes.length === 0 || day < other.earliest) return new Set(codes);
  try {
    const fixing = withEuroRates(await withinHalfTheTimeLeft(call, other.fixing(day, call)), codes, day);
    return new Set(codes.filter((code) => !hasCurrency(fixing, code)));
  } catch (failure) {
    if (call.signal.aborted) throw failure;
    return new Set();
  }
}

/**
 * What `look`, made with `call`, finds, waited for until half the time left before the call's
 * deadline: a refusal's advice waits no longer for what it looks up, so a slow source leaves the
 * refusal time to be answered, saying less. The look-up keeps the call's own deadline: a call that
 * asks for the same meanwhile shares its request, which must not end at the refusal's half.
 */
async function withinHalfTheTimeLeft<T>(call: Call, look: Promise<T>): Promise<T> {
  const now = clock.now();
  const half = withDeadline({ ...call, deadline: now + Math.max(0, call.deadline - now) / 2 });
  try {
    return await untilAborted(look, half.call.signal);
  } finally {
    half.end();
  }
}

/**
 * Which of the codes a date's fixing or a range's lacks are on a list of today's currencies (as
 * currency_list lists them): `later`, the source's own, which it began to fix after that date (CNY
 * at the ECB in 2005); `elsewhere`, the other source's alone (XDR, the CNB's, asked of the ECB).
 */
interface Listed {
  later: string[];
  elsewhere: string[];
}

const NOT_LISTED: Listed = { later: [], elsewhere: [] };

/**
 * Where today's lists put `codes`, leaving out those the source fixed or fixes for a time only. A list that cannot
 * be had now puts none on it: the advice then says less, not wrong.
 */
async function listedToday(codes: string[], source: RateSource, other: RateSource, call: Call): Promise<Listed> {
  const candidates = codes.filter(
    (code) =>
      !Object.hasOwn(source.fixedFor, code) && !Object.hasOwn(source.fixedFrom, code) && !REPLACED_BY_EURO.has(code),
  );
  if (candidates.length === 0 || !areCurrencies(candidates)) return NOT_LISTED;
  const list = async (of: RateSource) => {
    try {
      return new Set((await withinHalfTheTimeLeft(call, of.currencies(call))).map(({ code }) => code));
    } catch (failure) {
      if (call.signal.aborted) throw failure;
      return new Set<string>();
    }
  };
  const [own, others] = await Promise.all([list(source), list(other)]);
  const later = candidates.filter((code) => own.has(code));
  return { later, elsewhere: candidates.filter((code) => !own.has(code) && others.has(code)) };
}

/** Why a later date is not offered for a date with no rates: its rates would be booked as that date's. */
export const NOT_EARLIER = "a later date's rate is not an earlier one's";

/**
 * What to do about codes a source has no rate for: where real currencies' rates are, if anywhere
 * (VND at the CNB; the other source for those it fixes later or only that one fixes, unless it has
 * no rate for them on the date asked, `lacking`, either), or, when one of them is no currency, to
 * check the codes; and currency_list, where the session serves it.
 */
function noRateAdvice(
  codes: string[],
  source: Pick<RateSource, "id" | "name" | "others" | "fixedFor" | "fixedFrom" | "noneElsewhere" | "publication">,
  other: Pick<RateSource, "id" | "name">,
  listed: Listed,
  lacking: Lacking | undefined,
  serves: Serving["serves"],
  before: string[] = [],
  euroless: string[] = [],
): string {
  const lists = serves("currency_list")
    ? `; currency_list with source "${source.id}" lists the currencies it publishes`
    : "";
  // One it fixed for a time is a currency even where the platform no longer knows it (ROL, the ECB's until 2005).
  const dated = codes.filter((code) => Object.hasOwn(source.fixedFor, code));
  if (!areCurrencies(codes.filter((code) => !dated.includes(code)))) {
    return `Check the code${codes.length === 1 ? "" : "s"} (ISO 4217, like USD)${lists}.`;
  }
  // One the euro replaced converts at its fixed rate from then on, whether or not the source fixed it before.
  const replaced = codes.filter((code) => REPLACED_BY_EURO.has(code));
  // One it fixed for a time only (RUB) says which dates have its rates; one it began later (CNY), from when;
  // one on today's list, the other source, where that has its rate.
  const began = codes.filter((code) => Object.hasOwn(source.fixedFrom, code));
  const later = codes.filter((code) => !dated.includes(code) && listed.later.includes(code));
  const elsewhere = codes.filter((code) => !dated.includes(code) && listed.elsewhere.includes(code));
  /** That the other source has no rate for any of `some` on the date asked either: it is sent to for none of them. */
  const neither = (some: string[]) =>
    lacking && some.every((code) => lacking.codes.has(code))
      ? `, and ${other.name} has none ${lacking.when} either: neither source has ${some.length === 1 ? "one" : "any"}`
      : undefined;
  const fixedFrom = (some: string[], first: string) => {
    const them = some.length === 1 ? "it" : "them";
    return `${some.join(", ")} ${some.length === 1 ? "is" : "are"} fixed by ${source.name} from ${first} on: ${NOT_EARLIER}${neither(some) ?? `, but source "${other.id}" may have ${them}`}`;
  };
  // Neither source quotes a metal, nor does the CNB's monthly list of other currencies hold one.
  const metals = codes.filter((code) => Object.hasOwn(METALS, code));
  const never = codes.filter(
    (code) =>
      !dated.includes(code) &&
      !replaced.includes(code) &&
      !began.includes(code) &&
      !later.includes(code) &&
      !elsewhere.includes(code) &&
      !metals.includes(code),
  );
  const are = never.length === 1 ? "is an ISO 4217 currency" : "are ISO 4217 currencies";
  const theirs = elsewhere.length === 1 ? "its rate" : "their rates";
  const parts = [
    ...(never.length > 0 ? [`${never.join(", ")} ${are}: ${source.others}`] : []),
    ...metals.map((code) => `${code} is ${METALS[code]}, a precious metal, which neither the ECB nor the CNB quotes`),
    // Outside the dates it fixed one, the other source may have fixed it (RUB, which the CNB fixed before 2005);
    // for one the euro replaced, the changeover's part says so; one new then (TRY before 2005), or gone since (TRL after), had no rate anywhere.
    ...dated.map((code) =>
      replaced.includes(code) || source.noneElsewhere.includes(code)
        ? `${code} ${source.fixedFor[code]}`
        : `${code} ${source.fixedFor[code]}${neither([code]) ?? `, but source "${other.id}" may have it`}`,
    ),
    // Its fixed rate is not a date's before the changeover, which has the source's own rate, or the other's.
    ...replaced.map((code) =>
      before.includes(code)
        ? `${replacedByEuro(code)}: a date from then on converts at it, not an earlier one${neither([code]) ?? `, but source "${other.id}" may have its rate`}`
        : euroless.includes(code)
          ? `${replacedByEuro(code)}, ${noEuroRateYet(source, code)}`
          : `${replacedByEuro(code)}: a date from then on converts at it`,
    ),
    // Those it began on one date are said at once (CNY, IDR, MYR, PHP and THB on 2005-04-01).
    ...[...new Set(began.map((code) => source.fixedFrom[code] as string))].map((first) =>
      fixedFrom(
        began.filter((code) => source.fixedFrom[code] === first),
        first,
      ),
    ),
    ...(later.length > 0 ? [fixedFrom(later, "a later date")] : []),
    ...(elsewhere.length > 0
      ? [
          `${elsewhere.join(", ")} ${elsewhere.length === 1 ? "is" : "are"} fixed by ${other.name}, not by ${source.name}${neither(elsewhere) ?? `: source "${other.id}" may have ${theirs}`}`,
        ]
      : []),
  ];
  return `${parts.join("; ")}${lists}.`;
}

/**
 * Why the source converts `code` on none of the days after the euro replaced it and before it first fixed
 * the euro, and which dates it converts: its last working day before, the last with `code`'s own rate, and
 * those from its first fixing of the euro on.
 */
function noEuroRateYet(source: Pick<RateSource, "name" | "publication">, code: string): string {
  const since = REPLACED_BY_EURO.get(code)?.since ?? FIRST_EURO_FIXING;
  const last = lastWorkingDay(source.publication, isoDate(Date.parse(since) - DAY_MS));
  return `but ${source.name} fixed no euro rate to convert it through before ${FIRST_EURO_FIXING}, nor ${code} after ${last}: ${last} converts at ${code}'s own rate, a date from ${FIRST_EURO_FIXING} on through the euro`;
}

/** ISO 4217's precious metals, which no central bank's reference rates hold. */
const METALS: Record<string, string> = { XAU: "gold", XAG: "silver", XPT: "platinum", XPD: "palladium" };

/**
 * ISO 4217 codes the platform's ICU data leaves out (Node 20's): gold and the other precious metals,
 * funds codes (CLF, BOV, …), the bond-market units and VED. XTS (testing) and XXX (no currency) stay out.
 */
const ISO_4217_BEYOND_ICU = new Set([
  ...Object.keys(METALS),
  ...["BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "VED"],
  ...["XBA", "XBB", "XBC", "XBD", "XSU", "XUA"],
]);

/** Whether every code is a real ISO 4217 currency, none of them misspelt. */
export function areCurrencies(codes: string[]): boolean {
  const currencies = Intl.supportedValuesOf("currency");
  return codes.every(
    (code) => currencies.includes(code) || ISO_4217_BEYOND_ICU.has(code) || REPLACED_BY_EURO.has(code),
  );
}

/** Rounded to `digits` significant digits, which also clears binary floating-point noise. */
export function significant(value: number, digits = 8): number {
  return Number(value.toPrecision(digits));
}

/**
 * Decimals whose division is cut at its 10th decimal, not rounded there: a quotient just under half
 * a minor unit (0.004999999999999999999995) stays under it for the rounding to the minor unit (at
 * most 3 decimals) that follows, where rounded twice it would be half and go up; and one at or
 * above half stays there, as half has no more decimals than the minor unit and one. Ten, not
 * big.js's twenty, as each decimal of a division costs time on every conversion.
 */
const Exact = Big();
Exact.RM = Big.roundDown;
Exact.DP = 10;

/** Decimals for a worth that rounds to 0, which may have its first digit far below the 10th: 0.000000001 EUR. */
const Fine = Big();
Fine.RM = Big.roundDown;
Fine.DP = 40;

/**
 * A quote's numbers as `Exact` decimals, read once for as long as its fixing is kept: a cached
 * fixing's quotes are the same objects call after call. Made by `Exact`, whose decimals its own
 * arithmetic takes as they are, where one made by another constructor is written out and read again.
 */
const decimals = new WeakMap<Quote, { units: Big; value: Big }>();

function decimalsOf(quote: Quote): { units: Big; value: Big } {
  let read = decimals.get(quote);
  if (!read) {
    read = { units: new Exact(quote.units), value: new Exact(quote.value) };
    decimals.set(quote, read);
  }
  return read;
}

/**
 * `amount` of `from` in `to` at a fixing, rounded half away from zero to `to`'s minor unit (2 for
 * EUR, 0 for JPY, 3 for KWD), as the decimal it is. Worked out on the decimals as given and
 * published, not on their binary approximations: 5 EUR at 24.365 CZK is 121.825 CZK, which rounds
 * to 121.83, where the binary product, 121.82499999999999, would round to 121.82.
 */
export function booked(fixing: Fixing, amount: number, from: string, to: string, source: RateSource): Big {
  const { times, by } = conversion(fixing, from, to, source);
  const product = new Exact(amount).times(times);
  // From the fixing's base (EUR at the ECB) `by` is 1: the division would only cut decimals the rounding drops.
  return (by.eq(1) ? product : product.div(by)).round(minorUnits(to), Big.roundHalfUp);
}

/**
 * `amount` of `from` in `to` before the rounding to `to`'s minor unit, cut at its 40th decimal: what
 * a result of 0 was worth.
 */
export function unrounded(fixing: Fixing, amount: number, from: string, to: string, source: RateSource): Big {
  const { times, by } = conversion(fixing, from, to, source);
  return new Fine(amount).times(times).div(by);
}

/** What converting from one currency to another at a fixing takes, as `conversion` works it out. */
export interface Conversion {
  rate: number;
  /**
   * `rate` as an `Exact` decimal where its 8 significant digits cut the fixing's rate; undefined
   * where they are all of it, and an amount at `rate` is the result booked to the last digit.
   */
  cutRate: Big | undefined;
  times: Big;
  by: Big;
}

const conversions = new WeakMap<Quote, WeakMap<Quote, Conversion>>();

/**
 * What converting `from` to `to` at a fixing takes: the rate to 8 significant digits, as a number
 * and, where those cut the fixing's rate, as an `Exact` decimal, and the decimals an amount is
 * multiplied and divided by (`from`'s value by `to`'s units, `from`'s units by `to`'s value).
 * Worked out once for as long as the fixing is kept, as its decimals are. Throws a ToolError naming
 * a code the fixing does not have.
 */
export function conversion(fixing: Fixing, from: string, to: string, source: RateSource): Conversion {
  const a = quoteOf(fixing, from, source);
  const b = quoteOf(fixing, to, source);
  let fromA = conversions.get(a);
  if (!fromA) {
    fromA = new WeakMap();
    conversions.set(a, fromA);
  }
  let known = fromA.get(b);
  if (!known) {
    const x = decimalsOf(a);
    const y = decimalsOf(b);
    const rate = significant(rateBetween(a, b));
    const times = x.value.times(y.units);
    const by = x.units.times(y.value);
    const exactRate = new Exact(rate);
    known = { rate, cutRate: exactRate.times(by).eq(times) ? undefined : exactRate, times, by };
    fromA.set(b, known);
  }
  return known;
}

/**
 * `amount` × `rate`, rounded half away from zero to `to`'s minor unit as `booked` is: a decimal
 * compared with `booked`'s without writing either out.
 */
export function atRate(amount: number, rate: number | Big, to: string): Big {
  return new Exact(amount).times(rate).round(minorUnits(to), Big.roundHalfUp);
}

/**
 * Whether a number holds an amount of `currency` to its minor unit: below 2^52 minor units
 * (45,035,996,273,704.96 in a currency of 2 decimals) two amounts a minor unit apart are two
 * numbers, each written back as it was; above, a number has too few digits (376,099,999,999,996.24
 * HUF is 376,099,999,999,996.25 as a number).
 */
export function heldExactly(value: number, currency: string): boolean {
  return Math.abs(value) * 10 ** minorUnits(currency) < 2 ** 52;
}

/**
 * ISO 4217 minor units, from the platform's ICU data, corrected for the currencies the ECB and the
 * CNB publish where that data differs: Node 20's ICU gives HUF and IDR none (their cash digits),
 * ISO 4217 gives them 2. Every other code either source publishes agrees (ISK, JPY and KRW 0, the
 * rest 2; XDR, which has none in ISO 4217, 2), as a unit test checks.
 */
const minorUnitsByCurrency = new Map<string, number>([
  ["HUF", 2],
  ["IDR", 2],
]);

export function minorUnits(currency: string): number {
  let digits = minorUnitsByCurrency.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    minorUnitsByCurrency.set(currency, digits);
  }
  return digits;
}
