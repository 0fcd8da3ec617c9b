import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import { listed, word } from "../../src/settings.js";
import { capitalized } from "../../src/shown.js";
import {
  clock,
  DAY_MS,
  dateIn,
  HOUR_MS,
  isCalendarDate,
  isoDate,
  isoTime,
  isTimeZone,
  localIso,
  offsetMinutes,
  weekdayName,
  zonedEpoch,
} from "../../src/time.js";
import type { ToolCall } from "../../src/toolset.js";
import { FIRST_CNB_FIXING, PUBLICATION } from "./cnb.js";
import { FIRST_ECB_FIXING } from "./ecb.js";
import {
  areCurrencies,
  crossRate,
  type Fixing,
  minorUnits,
  NOT_EARLIER,
  type RateSource,
  significant,
} from "./fixing.js";
import { dayOver, dueBy, fixingDay, lastWorkingDay, publishes } from "./schedule.js";

export const SOURCES = ["ecb", "cnb"] as const;
export type SourceId = (typeof SOURCES)[number];

/** What every currency tool needs: the source a call names, and its fixing of a day. */
export interface Sources {
  /** The source a call that names none is answered from. */
  configured: SourceId;
  pick(id: SourceId | undefined): RateSource;
  /** The other source, where a currency one of them lacks may be. */
  otherThan(source: RateSource): RateSource;
  /** Its fixing of `day` (or the latest), which has a rate for each of `codes`, else a ToolError saying where they are. */
  fixingFor(source: RateSource, day: string | undefined, codes: string[], call: ToolCall): Promise<Fixing>;
}

// --- arguments ---------------------------------------------------------------------------

export const code = z
  // Several, where one is taken: a model converting to two currencies at once.
  .string({
    error: (issue) => (Array.isArray(issue.input) ? "is one ISO 4217 code, not a list: call once for each" : undefined),
  })
  .trim()
  .regex(/^[A-Za-z]{3}$/, { error: (issue) => notACode(issue.input), abort: true })
  // Three letters that are no code but another name of a currency ("RMB", "YEN") are told its code.
  .refine((value) => !SIGNS.has(value.toLowerCase()), { error: (issue) => notACode(issue.input) })
  .transform((value) => value.toUpperCase());

/** ISO 4217 codes: a list, or text of one or several ("USD", "EUR, USD", the list as JSON). */
export const codes = <T extends z.ZodType>(list: T) => listed(list, /[\s,;]+/);

/**
 * Why a code is refused, and for a sign, unit or name written for a currency ("€", "Kč", "euro") the
 * code to send; for a pair as a quote writes it ("EUR/CZK", 1 EUR in CZK), the two codes; for several
 * ("CZK, USD"), to call once for each.
 */
function notACode(input: unknown): string {
  const refused = "must be a three-letter ISO 4217 currency code such as EUR";
  const [, a = "", b = ""] =
    (typeof input === "string" && /^([A-Za-z]{3})\s*[/\-:]?\s*([A-Za-z]{3})$/.exec(input.trim())) || [];
  const pair = [a.toUpperCase(), b.toUpperCase()];
  if (a && areCurrencies(pair)) {
    return `${refused}: ${String(input).trim()} is a pair, 1 ${pair[0]} in ${pair[1]}: send ${pair[0]} and ${pair[1]} each as a code of its own (base and symbols, or from and to)`;
  }
  // As a list is told, where the text is one: as a shop lists the currencies it prices in, split as
  // `codes` splits it (two with a space between are a pair, above).
  const several = typeof input === "string" ? input.trim().split(/[\s,;]+/) : [];
  if (several.length > 1 && several.every((one) => /^[A-Za-z]{3}$/.test(one) && areCurrencies([one.toUpperCase()]))) {
    return `is one ISO 4217 code, not a list (${String(input).trim()}): call once for each`;
  }
  // A code as a list or a sentence leaves it, with a comma or a stop after it, or quoted twice.
  const [, bare = ""] = (typeof input === "string" && /^[\s,;.:'"`]*([A-Za-z]{3})[\s,;.:'"`]*$/.exec(input)) || [];
  if (bare && areCurrencies([bare.toUpperCase()])) {
    return `${refused}: send ${bare.toUpperCase()} without the punctuation around it`;
  }
  const codes = typeof input === "string" ? SIGNS.get(input.toLowerCase()) : undefined;
  if (!codes) return refused;
  return codes.length === 1
    ? `${refused}: ${input} is written for ${codes[0]}, send that`
    : `${refused}: ${input} is written for ${codes.join(", ")}, send the one meant`;
}

/**
 * Signs, units and names written for currencies, in lower case: the codes each is written for, most
 * used first. None is an ISO 4217 code, as the three-letter ones here are refused as codes. A map,
 * so that no name an object has of its own (constructor, __proto__) reads as a sign.
 */
export const SIGNS = new Map<string, string[]>(
  Object.entries({
    "€": ["EUR"],
    "£": ["GBP"],
    kč: ["CZK"],
    zł: ["PLN"],
    // As typed on a keyboard without diacritics.
    kc: ["CZK"],
    zl: ["PLN"],
    ft: ["HUF"],
    lei: ["RON"],
    // The kuna's, which Croatian prices wrote until the euro replaced it.
    kn: ["HRK"],
    "₹": ["INR"],
    "₩": ["KRW"],
    "₺": ["TRY"],
    "₴": ["UAH"],
    "₪": ["ILS"],
    "₱": ["PHP"],
    "฿": ["THB"],
    us$: ["USD"],
    ca$: ["CAD"],
    a$: ["AUD"],
    au$: ["AUD"],
    nz$: ["NZD"],
    hk$: ["HKD"],
    s$: ["SGD"],
    r$: ["BRL"],
    $: ["USD", "CAD", "AUD", "NZD", "MXN", "HKD", "SGD"],
    "¥": ["JPY", "CNY"],
    kr: ["SEK", "NOK", "DKK", "ISK"],
    "kr.": ["DKK", "SEK", "NOK", "ISK"],
    euro: ["EUR"],
    euros: ["EUR"],
    dollar: ["USD", "CAD", "AUD", "NZD", "HKD", "SGD"],
    dollars: ["USD", "CAD", "AUD", "NZD", "HKD", "SGD"],
    pound: ["GBP"],
    pounds: ["GBP"],
    sterling: ["GBP"],
    koruna: ["CZK"],
    koruny: ["CZK"],
    korun: ["CZK"],
    kuna: ["HRK"],
    crown: ["CZK", "SEK", "NOK", "DKK", "ISK"],
    crowns: ["CZK", "SEK", "NOK", "DKK", "ISK"],
    krona: ["SEK", "ISK"],
    krone: ["NOK", "DKK"],
    zloty: ["PLN"],
    forint: ["HUF"],
    franc: ["CHF", "XOF", "XAF"],
    francs: ["CHF", "XOF", "XAF"],
    yen: ["JPY"],
    yuan: ["CNY"],
    renminbi: ["CNY"],
    rmb: ["CNY"],
    won: ["KRW"],
    rupee: ["INR", "PKR", "LKR"],
    rupees: ["INR", "PKR", "LKR"],
    shekel: ["ILS"],
    shekels: ["ILS"],
    nis: ["ILS"],
    lira: ["TRY"],
    hryvnia: ["UAH"],
    rand: ["ZAR"],
    real: ["BRL"],
    peso: ["MXN", "PHP"],
    pesos: ["MXN", "PHP"],
  }),
);

/** The day has begun somewhere on Earth (its midnight in UTC+14 has passed), so no user's "today" is refused. */
function begun(date: string): boolean {
  return Date.parse(date) <= clock.now() + 14 * HOUR_MS;
}

/** The latest date `begun` takes: today in UTC+14. */
function latestBegun(): string {
  return isoDate(clock.now() + 14 * HOUR_MS);
}

/**
 * A date argument, YYYY-MM-DD. A later one than `begun` takes is refused naming the latest date
 * taken, since a model often does not know today's, and `instead`, what to send; a month or quarter given
 * for it is told the day of it to send, `ofMonth`.
 */
function dateArg(instead: (latest: string) => string, ofMonth: MonthDay) {
  const insteadOfLater = () => instead(latestBegun());
  const tooLate = () => {
    const latest = latestBegun();
    return `must not be after ${latest}, today in UTC+14 (the first time zone to reach a date); ${instead(latest)}`;
  };
  // A date a refusal names, to send or as a month's last, is refused in turn where it has not begun: so it says.
  const ahead = (date: string) => (begun(date) ? undefined : tooLate());
  return z
    .string({
      // A date sent as a number (20260830), or a number sent for a date, is told what it reads as.
      error: (issue) => {
        if (typeof issue.input !== "number") return undefined;
        const written = String(issue.input);
        // 30.10, 30 October, arrives as 30.1: no month is read from it, lest it be told January's date.
        const lostZero = /^(?:[1-9]|[12]\d|3[01])\.1$/.test(written);
        // 01032026, a date as DDMMYYYY, arrives as 1032026; 010125, as DDMMYY, MMDDYY or YYMMDD, as 10125.
        const lostFirstZero = /^[1-9]\d{2}(?:19|20)\d{2}$|^[1-9](?:0[1-9]|[12]\d|3[01])\d{2}$/.test(written);
        const sent = lostZero ? "" : lostFirstZero ? `0${written}` : written;
        const serial = serialDate(issue.input, ahead);
        const read =
          unixTime(issue.input, ahead) ??
          (serial && !lostFirstZero ? `must be a date as YYYY-MM-DD: ${serial}` : undefined) ??
          notADate(sent, ahead, ofMonth, insteadOfLater);
        const dropped = lostZero
          ? `${written} may be ${written}0, its last zero dropped as a number drops it; `
          : lostFirstZero
            ? `${written} may be ${sent}, its first zero dropped as a number drops it; `
            : "";
        // 42736 may be 042736, or 2017-01-01 in a spreadsheet: both are named.
        const orSerial = serial && lostFirstZero ? `; or ${serial}` : "";
        return `expected string, received number: ${dropped}${read}${orSerial}`;
      },
    })
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, {
      // A Unix time or a spreadsheet's serial date is sent as text too, as a date is.
      error: (issue) => {
        const written = String(issue.input);
        const serial = /^[1-9]\d{4}(?:\.\d+)?$/.test(written) ? serialDate(Number(written), ahead) : undefined;
        return (
          (/^\d+$/.test(written) && unixTime(Number(written), ahead)) ||
          (serial && `must be a date as YYYY-MM-DD: ${serial}`) ||
          notADate(issue.input, ahead, ofMonth, insteadOfLater)
        );
      },
      abort: true,
    })
    .refine(isCalendarDate, { error: (issue) => notACalendarDate(String(issue.input).trim(), ahead), abort: true })
    .refine(begun, { error: tooLate });
}

/**
 * For a number that is a Unix time, in seconds or milliseconds (1772524800, as a payment's API stamps it), sent as a
 * number or as text, its date in Prague and Frankfurt, where the fixings are dated, to send, and in UTC where it is
 * another; or why it is refused, `ahead`. Only times from 2001 on, when a Unix time in seconds has ten digits, are
 * read as one.
 */
function unixTime(input: number, ahead: (date: string) => string | undefined): string | undefined {
  const epoch = Number.isInteger(input) && input >= 1e9 && input < 1e10 ? input * 1000 : input;
  if (!Number.isInteger(epoch) || epoch < 1e12 || epoch >= 1e13) return undefined;
  const there = dateIn(PUBLICATION.zone, epoch);
  const utc = isoDate(epoch);
  const read = `${input} is a Unix time, ${new Date(epoch).toISOString().slice(0, 16)}Z`;
  const refused = ahead(there);
  if (refused) return `must be a date as YYYY-MM-DD: ${read}, ${there} in Prague and Frankfurt, but ${refused}`;
  const inUtc = utc === there ? "" : `, or ${utc}, its date in UTC, whichever the transaction is booked on`;
  return `must be a date as YYYY-MM-DD: ${read}: send ${there}, its date in Prague and Frankfurt, where the fixings are dated${inUtc}`;
}

/**
 * For a number a spreadsheet holds a date as (45658, 2025-01-01 in Excel's 1900 date system, which counts days from
 * 1899-12-30; its fraction a time of day), that date, or why it is refused, `ahead`, or before either source's first
 * fixing (below 33240, 1991-01-02), and before the ECB's (below 36164, 1999-01-04), the source that has it. Only numbers from 30000 (1982) to 60000 (2064) are read so: five digits no Unix
 * time is, and no date written as a number has but one that lost its first zero (30125, 03-01-25), which is named too.
 */
function serialDate(input: number, ahead: (date: string) => string | undefined): string | undefined {
  if (input < 30000 || input >= 60000) return undefined;
  const date = isoDate(Date.UTC(1899, 11, 30) + Math.floor(input) * DAY_MS);
  const read = `${input} is a spreadsheet's serial date, ${date} in Excel's 1900 date system`;
  if (date < FIRST_CNB_FIXING) return `${read}, but that is ${BEFORE_EITHER_SOURCE}; send the date meant`;
  // Sent to the ECB, whose rates begin later, it would be refused only after being told to send it.
  if (date < FIRST_ECB_FIXING) {
    return `${read}: send ${date} with source "cnb", as the European Central Bank's rates begin on ${FIRST_ECB_FIXING}`;
  }
  const refused = ahead(date);
  return refused ? `${read}, but ${refused}` : `${read}: send ${date}`;
}

/**
 * Why a date is no calendar date, and for a day past its month's last (2026-11-31, a month's end mistyped), that
 * last day, and why that is refused too where it has not begun, `ahead`.
 */
function notACalendarDate(date: string, ahead: (date: string) => string | undefined): string {
  const month = date.slice(0, 7);
  const last = lastDayOf(month);
  if (!last || date <= last) return "is not a calendar date";
  const refused = ahead(last);
  return `is not a calendar date: ${month} ends on ${last}${refused ? `, and a date ${refused}` : ""}`;
}

/**
 * Why a date is refused: the date to send where the text names one day without doubt, as Czech and
 * German write it (30. 8. 2026), in words (3 March 2026), as an order's time stamp begins (2026-08-30T10:15:00) or with slashes
 * where a number above 12 says which is the day (30/11/2026, 11/30/2026), or both where neither does, and
 * for a year of two digits (30.11.26) the year it is read as, with dashes its reading first too (26-11-30); otherwise
 * today's date, which a day in words ("yesterday") needs and a model may not know: the banks' (Prague
 * and Frankfurt keep one time), whose dates the fixings have, a day ahead of UTC's in their first
 * hours, and the time in UTC, for a user elsewhere. Where it names one date to send and nothing more to choose,
 * that date, and the year two digits are read as, go to `sendable` too: a range's ends are read so, not from the words.
 * Where it reads nothing of the text and says today's date instead, it calls `unread`.
 */
function notADate(
  input: unknown,
  ahead: (date: string) => string | undefined,
  ofMonth: MonthDay,
  insteadOfLater: () => string,
  sendable?: (date: string, year?: number, there?: string) => void,
  unread?: () => void,
): string {
  const sent = String(input);
  // No date is written longer: a longer text (a document pasted) is not read, which would take its patterns long.
  const short = sent.length <= DATE_TEXT_MAX ? sent : "";
  const ago =
    countedBack(short) ?? lastWeekday(short) ?? sinceLastWeekday(short, ofMonth) ?? untilLastWeekday(short, ofMonth);
  if (ago) return ago;
  // Czech says the day is included after the date: "do 5. 3. 2026 včetně", "od 2. 3. 2026 včetně"; after a range,
  // its last end is ("od 1. 3. do 5. 3. 2026 včetně"), which the range's reading says.
  const included = /^(do|od)\s+(.*\d.*?)\s+(včetně|vcetne)$/iu.exec(short);
  const [, preposition = "", afterIt = "", including = ""] =
    (included && !rangeGiven(included[2] ?? "") ? included : undefined) ??
    /^(up\s+to\s+and\s+including|bis\s+einschlie(?:ß|ss)lich|up\s+to|bis\s+zu[mr]?|\p{L}+\s+dem|\p{L}+)\s+(.*\d.*)$/iu.exec(
      short,
    ) ??
    [];
  const word = PREPOSITIONS.get(
    `${preposition}${including && " včetně"}`
      .toLowerCase()
      .replace(/\s+/g, " ")
      .replace("einschliesslich", "einschließlich"),
  );
  let read: string | undefined;
  let restUnread = false;
  const told =
    word &&
    notADate(
      afterIt,
      ahead,
      ofMonth,
      insteadOfLater,
      (date, year, there) => {
        if (!there) read = date;
        sendable?.(date, year, there);
      },
      () => {
        restUnread = true;
      },
    ).replace(/^must be a date as YYYY-MM-DD/, "");
  // A number read as no date is a document's, as "PO 4500012345" numbers a purchase order: no "after" is said.
  if (word && told && (!restUnread || /\p{L}/u.test(afterIt))) {
    // The weekday it writes too, where the date read is one.
    const weekdayToo =
      word.weekday && read && weekdayName(read) === word.weekday
        ? ` or, as a calendar writes it, for ${word.weekday}`
        : "";
    const words = including
      ? `is "${preposition}" and "${including}" around a date, ${word.meaning}, and is read without them`
      : `begins with "${preposition}", ${word.meaning}${weekdayToo}, and is read without it`;
    return `must be a date as YYYY-MM-DD: ${sent} ${words}${told}`;
  }
  const weekday = leadingWeekday(short);
  const timed = withTime(weekday?.rest ?? short);
  const text = timed?.date ?? weekday?.rest ?? short;
  const rangeOf = (written: string) => rangeEnds(written, ahead, ofMonth, insteadOfLater);
  // Read whole first, lest the time and zone of its last end be taken for the whole range's, or the text after
  // a first end's time for its zone (2026-03-01T23:30Z/2026-03-05).
  const whole = rangeOf(weekday?.rest ?? short);
  const wholeRange = whole.length > 0 && whole.every(Boolean);
  // Where the time or its zone cannot be read, the date in Prague cannot be told: it may be the next or the last.
  if (timed?.impossible && !wholeRange) {
    return `must be a date as YYYY-MM-DD: ${sent} has ${timed.impossible} for its time of day, which no clock shows: send the date meant`;
  }
  if (timed?.span && !wholeRange) {
    return `must be a date as YYYY-MM-DD: ${sent} ends in ${timed.span}, a span of time, not a time of day: send the date meant`;
  }
  if (timed?.unknownZone && !wholeRange) {
    return `must be a date as YYYY-MM-DD: ${sent} ends in ${timed.unknownZone}, which names no time zone known here: send the date meant, or its time with the zone's offset from UTC (10:15 +01:00) to be told its date in Prague and Frankfurt, where the fixings are dated`;
  }
  const onWeekday = (date: string) => !weekday || weekday.names.includes(weekdayName(date));
  // A weekday before a year ("Monday 2026") names no day of it.
  const wholeMonth = ofMonthGiven(text, ofMonth, insteadOfLater, !weekday);
  // Six digits, a month as YYYYMM (200312), may be a date too, as DDMMYY, MMDDYY or YYMMDD: said with its readings below.
  const sixDigits = /^\d{6}$/.exec(text);
  if (wholeMonth && !sixDigits) return wholeMonth;
  const [ends, ranged] = wholeRange ? [whole, weekday?.rest ?? short] : [rangeOf(text), text];
  // Read whole first, as the range is, lest its last end's time be left out of the range named (2026-12-05T10:00Z),
  // or its days be read off what is left without it, ends its first reading takes as begun (2026-11-30T23:30Z).
  const notAllSendable = (some: unknown[]) => some.length > 0 && !some.every(Boolean);
  const later =
    (notAllSendable(whole) || notAllSendable(ends)
      ? pastToday(weekday?.rest ?? short, ofMonth, insteadOfLater)
      : undefined) ?? (notAllSendable(ends) ? pastToday(text, ofMonth, insteadOfLater) : undefined);
  if (later) return later;
  // Only ends read as dates to send are named: "1.–5. 3." has no year, and the general refusal says today's date.
  // Written the other way round, the earlier end is still the start currency_history takes.
  const [from, to] = ends.every(Boolean) ? ends.map((end) => end?.date).sort() : [];
  if (from && to) {
    const read = yearsRead(ends);
    // Ends stamped on other days in Prague (23:30 UTC) have two ranges: only the user knows which is booked.
    const [thereFrom, thereTo] = ends.map((end) => end?.there ?? end?.date).sort();
    // An interval of time stamps within one day (10:00Z/12:00Z) has that day to send, and no range; a history that
    // day as its start and end.
    if (from === to && thereFrom === thereTo) {
      const asEnds = ofMonth === "any" ? "" : " as start and as end";
      return from === thereFrom
        ? `must be a date as YYYY-MM-DD: ${ranged} is within one day${read}: send ${from}${asEnds}`
        : `must be a date as YYYY-MM-DD: ${ranged} is within one day: send ${from}${asEnds}, its time stamps' own date, or ${thereFrom}, their date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on`;
    }
    if (ends.some((end) => end?.there)) {
      const banks =
        "by their dates in Prague and Frankfurt, where the fixings are dated, whichever the transactions are booked on";
      return ofMonth === "any"
        ? `must be a date as YYYY-MM-DD: ${ranged} is a range of days, ${from} to ${to} by its time stamps' own dates, or ${thereFrom} to ${thereTo} ${banks}: send one day of it, or ask currency_history for every fixing in it`
        : `must be a date as YYYY-MM-DD: ${ranged} is a range of days: send ${from} as start and ${to} as end by its time stamps' own dates, or ${thereFrom} and ${thereTo} ${banks}`;
    }
    return ofMonth === "any"
      ? `must be a date as YYYY-MM-DD: ${ranged} is a range of days, ${from} to ${to}${read}: send one day of it, or ask currency_history for every fixing in it, from ${from} to ${to}`
      : `must be a date as YYYY-MM-DD: ${ranged} is a range of days${read}: send ${from} as start and ${to} as end`;
  }
  // A year of two digits (30.11.26, 11/30/26, 30-11-26), as Czech and American dates often have it: read as the
  // first year ending so from the first fixing's (91 is 1991, 27 2027, as a due date means it, not 1927,
  // which no source has), and said, as the century is not written.
  const [, twoDigits] = /^\d{1,2}(?:\.\s?\d{1,2}\.\s?|\/\d{1,2}\/|-\d{1,2}-)(\d{2})$/.exec(text) ?? [];
  const century = twoDigits ? yearOfTwoDigits(twoDigits) : undefined;
  const written = century === undefined ? text : `${text.slice(0, -2)}${century}`;
  const [, day, month, year] = /^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$/.exec(written) ?? [];
  // Year first too, without a zero, with slashes or dots (2026-8-30, 2026/08/30, Hungarian 2026. 08. 30.), or
  // without separators, as ISO 8601's basic format has it (20260830), where its month is one: 01032026 is DDMMYYYY.
  const [, y, m, d] =
    /^(\d{4})(?:[-/]|\.\s?)(\d{1,2})(?:[-/]|\.\s?)(\d{1,2})\.?$/.exec(text) ??
    /^(\d{4})(0[1-9]|1[0-2])(\d{2})$/.exec(text) ??
    [];
  // A time stamp whole, its zone too: with more after it ("plus 2 days", another stamp), its date is not the one meant.
  // Its offset may have the zone's name after it in brackets, as RFC 9557 (Java, Temporal) writes it: the offset tells.
  // A Z may have UTC named after it in parentheses, as a log or a mail glosses it: "Z (Coordinated Universal Time)".
  const stamped =
    /^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s?(?:(?:Z|[+-]\d{2}(?::?\d{2})?)(?:\[[^\]\s]+\])?|Z\s?\((?:UTC|GMT|Coordinated Universal Time)\)|UTC|GMT)?$/i.exec(
      text,
    )?.[1];
  const iso = (year: string, month: string, day: string) => `${year}-${month.padStart(2, "0")}-${day.padStart(2, "0")}`;
  // Day and month with slashes or dashes, the year last: day first (30/11/2026) or month first
  // (11/30/2026), where a number above 12, no month, tells which; both, where neither is (03/11/2026).
  // Two digits and two dashes may have the year first, as Swedish dates do (26-11-30).
  // Without separators too, as a form's field holds it (01032026), where no year comes first.
  const [, first = "", second = "", yearLast = ""] =
    /^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$/.exec(written) ??
    (y ? undefined : /^(\d{2})(\d{2})((?:19|20)\d{2})$/.exec(text)) ??
    [];
  const [, yy, ym = "", yd = ""] = /^(\d{2})-(\d{1,2})-(\d{2})$/.exec(text) ?? [];
  // Six digits without separators, as a form's field holds a date: day first (DDMMYY), month first as in the US
  // (MMDDYY) or year first (YYMMDD).
  const [, sixFirst = "", sixMiddle = "", sixLast = ""] = /^(\d{2})(\d{2})(\d{2})$/.exec(text) ?? [];
  const everyOrder = [
    ...(yearLast && Number(second) <= 12 ? [{ date: iso(yearLast, second, first), order: "day", year: century }] : []),
    ...(yearLast && Number(first) <= 12 ? [{ date: iso(yearLast, first, second), order: "month", year: century }] : []),
    ...(yy ? [{ date: iso(String(yearOfTwoDigits(yy)), ym, yd), order: "year", year: yearOfTwoDigits(yy) }] : []),
    ...(sixFirst
      ? [
          {
            date: iso(String(yearOfTwoDigits(sixLast)), sixMiddle, sixFirst),
            order: "day",
            year: yearOfTwoDigits(sixLast),
          },
          {
            date: iso(String(yearOfTwoDigits(sixLast)), sixFirst, sixMiddle),
            order: "month",
            year: yearOfTwoDigits(sixLast),
          },
          {
            date: iso(String(yearOfTwoDigits(sixFirst)), sixMiddle, sixLast),
            order: "year",
            year: yearOfTwoDigits(sixFirst),
          },
        ]
      : []),
  ];
  const orders = everyOrder.filter(
    ({ date }, i, all) => isCalendarDate(date) && all.findIndex((other) => other.date === date) === i,
  );
  // With no calendar date in any order, one past its month's end (31/4/2026) is that month's end mistyped.
  const pastEndOrder = orders.length === 0 ? everyOrder.find(({ date }) => pastMonthEnd(date)) : undefined;
  // A weekday before the date tells which order is meant, where it is the weekday of one only.
  const onTheDay = orders.filter(({ date }) => onWeekday(date));
  const readings = onTheDay.length > 0 ? onTheDay : orders;
  if (readings.length > 1) {
    const named = readings.map(
      ({ date, order }, i) => `${date} where the ${order} ${i === 0 ? "comes first" : "does"}`,
    );
    // Each date shows the year it reads, which is said apart only where they all read the same.
    const read = century !== undefined && readings.every(({ year }) => year === century);
    const is = `is ${named.join(", ")}${read ? ` (its year read as ${century})` : ""}`;
    if (weekday && onTheDay.length === 0) {
      const days = readings
        .map(({ date }) => `a ${weekdayName(date)}`)
        .join(", ")
        .replace(/, ([^,]*)$/, " and $1");
      return `must be a date as YYYY-MM-DD: ${sent} ${is}, but those are ${days}, not ${weekday.word}: send the date meant`;
    }
    const refusals = readings.map(({ date }) => ahead(date));
    const [refused] = refusals.filter(Boolean);
    const said = `${text} ${is}`;
    // The readings not begun are named, lest the refusal read as one of the date meant, whichever it is.
    const notBegun = readings.filter((_, i) => refusals[i]).map(({ date }) => date);
    // None to send where none has begun.
    const told = refusals.every(Boolean)
      ? `${said}, but ${refused}`
      : `${said}: send the one meant${refused ? `; ${notBegun.join(" and ")} ${refused}` : ""}`;
    return wholeMonth ? `${wholeMonth}; or, where it is a date, ${told}` : `must be a date as YYYY-MM-DD: ${told}`;
  }
  if (wholeMonth) return wholeMonth;
  const [reading] = readings;
  const words = inWords(text);
  const wordsYear = words?.year?.length === 2 ? yearOfTwoDigits(words.year) : undefined;
  const readYear = reading ? reading.year : (century ?? wordsYear);
  const monthEnd = monthEndGiven(text);
  const meant =
    day && month && year
      ? iso(year, month, day)
      : y && m && d
        ? iso(y, m, d)
        : words?.year
          ? iso(String(wordsYear ?? words.year), words.month, words.day)
          : (stamped ??
            reading?.date ??
            isoWeekDate(text) ??
            pastEndOrder?.date ??
            (monthEnd?.year && lastDayOf(`${monthEnd.year}-${monthEnd.month}`)));
  const yearless = meant
    ? undefined
    : (withoutYear(text, words, weekday, sent) ?? monthEndWithoutYear(monthEnd, sent, ahead));
  const monthOf = yearless && !weekday ? monthOfTwoDigitYear(text) : undefined;
  if (monthOf) {
    return `${yearless}; or, where it is a month and its year, ${text} is ${daysOf(monthOf, ofMonth, insteadOfLater)}`;
  }
  if (yearless) return yearless;
  // A day past its month's end, where the text says which is the day (31 April 2026, 31.4.2026), is told that month's last.
  const pastEnd = meant && !isCalendarDate(meant) && pastMonthEnd(meant);
  if (pastEnd) return `must be a date as YYYY-MM-DD: ${text} ${notACalendarDate(meant, ahead)}`;
  if (!meant || !isCalendarDate(meant)) {
    unread?.();
    return `must be a date as YYYY-MM-DD; today is ${dateIn(PUBLICATION.zone)} in Prague and Frankfurt, where the fixings are dated; it is ${new Date(clock.now()).toISOString().slice(0, 16)}Z now`;
  }
  if (weekday && !onWeekday(meant)) {
    return `must be a date as YYYY-MM-DD: ${sent} is ${meant}, but that is a ${weekdayName(meant)}, not ${weekday.word}: send the date meant`;
  }
  // A name several zones go by is told apart only where its zones' times are other days in Prague.
  const ambiguousZones = (timed?.ambiguousZone && AMBIGUOUS_ZONES.get(timed.ambiguousZone.toUpperCase())) || [];
  const datesThere = ambiguousZones.map(
    ({ offset }) => (timed?.time && pragueDateOf(zonedStamp(meant, timed.time, offset), meant)?.there) || meant,
  );
  if (timed?.ambiguousZone && datesThere.some((there) => there !== meant)) {
    const named = ambiguousZones
      .map(({ name, offset }) => `${name} (UTC${offset})`)
      .join(", ")
      .replace(/, ([^,]*)$/, " or $1");
    return `must be a date as YYYY-MM-DD: ${sent} ends in ${timed.ambiguousZone}, which names more than one time zone: ${named}: send its time with the offset meant (${timed.clockTime} ${ambiguousZones[0]?.offset}) to be told its date in Prague and Frankfurt, where the fixings are dated, or the date meant`;
  }
  const refused = ahead(meant);
  // A time stamp, as ISO 8601 writes it or a date and a time in a zone (Tue, 01 Dec 2026 05:00:00 +1400).
  const zoned = timed?.time && timed.zone && zonedStamp(meant, timed.time, timed.zone);
  const stamp = meant === stamped ? text.replace(/\[.*\]$|\s?\(.*\)$/, "") : zoned;
  const zoneName = timed?.zone?.includes("/") ? timed.zone : undefined;
  // A time stamp east of Prague, its own date not begun anywhere, may be of a Prague date that has.
  const inPragueBegun = refused && stamp ? pragueDateOf(stamp, meant, zoneName) : undefined;
  if (refused && inPragueBegun && !ahead(inPragueBegun.there)) {
    return `must be a date as YYYY-MM-DD: send ${inPragueBegun.there}, the time stamp's date in Prague and Frankfurt, where the fixings are dated; ${meant}, its date in ${inPragueBegun.zone}, ${refused}`;
  }
  if (refused) {
    return `must be a date as YYYY-MM-DD: ${text} is ${meant}${readYear === undefined ? "" : ` with its year read as ${readYear}`}, but ${refused}`;
  }
  const readAs = readYear === undefined ? "" : ` (${text} with its year read as ${readYear})`;
  const inZone = stamp ? inPrague(stamp, meant, ahead, zoneName) : "";
  const offClock = inZone && stamp && timed?.zoneWord ? offTheirClocks(timed.zoneWord, stamp, meant) : "";
  // A time stamp on another day in Prague is sendable with both its dates where that one has begun: a range's end.
  const there = inZone && stamp ? pragueDateOf(stamp, meant, zoneName)?.there : undefined;
  if (!inZone || (there && !ahead(there))) sendable?.(meant, readYear, there);
  return `must be a date as YYYY-MM-DD: send ${meant}${inZone || readAs}${offClock}`;
}

/** The years a range's ends of two digits are read as, as its refusal says them: "1. 3. 25 – 5. 3. 26" has two. */
function yearsRead(ends: ({ year?: number } | undefined)[]): string {
  const years = [...new Set(ends.map((end) => end?.year).filter(Boolean))].sort();
  if (years.length === 0) return "";
  return years.length === 1 ? ` (its year read as ${years[0]})` : ` (its years read as ${years.join(" and ")})`;
}

/**
 * For a range sent as one date whose ends are dates but not both begun (2026-11-20/2026-12-05), that the rates of
 * its days after today are not published yet, and what to send: its days up to today, where it has begun.
 */
function pastToday(ranged: string, ofMonth: MonthDay, insteadOfLater: () => string): string | undefined {
  const ends = rangeEnds(ranged, () => undefined, ofMonth, insteadOfLater);
  if (ends.length === 0 || !ends.every(Boolean)) return undefined;
  const [from = "", to = ""] = ends.map((end) => end?.date).sort();
  // Time stamps' ends may be other days in Prague: which is booked, only the user knows, so both are named.
  const [thereFrom = "", thereTo = ""] = ends.map((end) => end?.there ?? end?.date).sort();
  if (begun(to) && begun(thereTo)) return undefined;
  const read = yearsRead(ends);
  const latest = latestBegun();
  const today = `${latest}, today in UTC+14 (the first time zone to reach a date)`;
  const banks = "by their dates in Prague and Frankfurt";
  const stamped = from !== thereFrom || to !== thereTo;
  // Within one day (23:30Z/23:45Z), it is that day, of which the date begun, where one is, is the one to send.
  if (from === to && thereFrom === thereTo) {
    const own = { date: from, is: "its time stamps' own date" };
    const there = { date: thereFrom, is: "their date in Prague and Frankfurt, where the fixings are dated" };
    const [sent, later] = begun(from) ? [own, there] : [there, own];
    if (stamped && begun(sent.date)) {
      const asEnds = ofMonth === "any" ? "" : " as start and as end";
      return `must be a date as YYYY-MM-DD: ${ranged} is within one day: send ${sent.date}${asEnds}, ${sent.is}; ${later.date}, ${later.is}, is after ${today}, and its rates are not published yet`;
    }
    const day = stamped
      ? `${from} by its time stamps' own date, or ${thereFrom} by their date in Prague and Frankfurt`
      : from;
    return `must be a date as YYYY-MM-DD: ${ranged} is within one day${read}, ${day}, but its rates, after ${today}, are not published yet; ${insteadOfLater()}`;
  }
  const what = stamped
    ? `a range of days, ${from} to ${to} by its time stamps' own dates, or ${thereFrom} to ${thereTo} ${banks}, where the fixings are dated, whichever the transactions are booked on`
    : ofMonth === "any"
      ? `a range of days, ${from} to ${to}${read}`
      : `a range of days${read}`;
  const starts = [from, thereFrom].filter(begun);
  if (starts.length === 0) {
    return `must be a date as YYYY-MM-DD: ${ranged} is ${what}, but the rates of its days, after ${today}, are not published yet; ${insteadOfLater()}`;
  }
  // Where only its dates in Prague have begun (stamped in UTC+14), its start is said to be by them.
  const start =
    starts.length === 2 && from !== thereFrom
      ? `${from} (or ${thereFrom}, ${banks})`
      : starts[0] === from
        ? from
        : `${thereFrom}, ${banks},`;
  return ofMonth === "any"
    ? `must be a date as YYYY-MM-DD: ${ranged} is ${what}, but the rates of its days after ${today}, are not published yet: send one day of it up to ${latest}, or ask currency_history for every fixing in it, from ${start} to ${latest}`
    : `must be a date as YYYY-MM-DD: ${ranged} is ${what}, but the rates of its days after ${today}, are not published yet: send ${start} as start and ${latest} as end`;
}

/**
 * A month's end in words, as a due date or a period is said: "end of March 2026" (and "by the end of March"), German
 * "Ende März 2026" ("bis Ende März"), Czech "konec března 2026" ("do konce března", "koncem března"): the month (MM) and its year where
 * written.
 */
function monthEndGiven(text: string): { first: string; month: string; year?: string } | undefined {
  // A quarter's end too, "end of Q1 2026" (or "1Q"), as its third month's, and a half-year's, "end of H1 2026", its sixth's.
  const [, quarter = "", quarterFirst = "", half = "", halfFirst = "", name = "", year] =
    /^(?:(?:by|until|till|bis|do|ke?)\s+)?(?:(?:the|zum)\s+)?(?:end\s+of|ende|kon(?:ec|ce|ci|cem))\s+(?:Q([1-4])|([1-4])\s?Q|H([12])|([12])\s?H|(\p{L}{3,})\.?)(?:,?\s+(\d{4}))?$/iu.exec(
      text,
    ) ?? [];
  const months = quarter || quarterFirst ? 3 : half || halfFirst ? 6 : 1;
  const month = name ? monthNamed(name) : Number(quarter || quarterFirst || half || halfFirst) * months;
  const padded = (number: number) => String(number).padStart(2, "0");
  return month ? { first: padded(month - months + 1), month: padded(month), ...(year && { year }) } : undefined;
}

/**
 * For a month's end without a year ("end of March"), its latest date begun in Prague, to send unless another year is
 * meant; in the month or quarter named ("end of Q4" in November), this year's, which has no rates yet, `ahead`.
 */
function monthEndWithoutYear(
  monthEnd: ReturnType<typeof monthEndGiven>,
  sent: string,
  ahead: (date: string) => string | undefined,
): string | undefined {
  if (!monthEnd || monthEnd.year) return undefined;
  const today = dateIn(PUBLICATION.zone);
  const thisYear = Number(today.slice(0, 4));
  const [thisYears, lastYears] = [thisYear, thisYear - 1].map((year) => lastDayOf(`${year}-${monthEnd.month}`));
  const month = today.slice(5, 7);
  const refused = thisYears && month >= monthEnd.first && month <= monthEnd.month && ahead(thisYears);
  if (refused) {
    return `must be a date as YYYY-MM-DD: ${sent} has no year: this year's, ${thisYears}, ${refused}; or, where last year's is meant, send ${lastYears}`;
  }
  const latest = [thisYears, lastYears].find((last) => last !== undefined && last <= today);
  return `must be a date as YYYY-MM-DD: ${sent} has no year: send ${latest}, its latest date begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant`;
}

/** Why a date before the Czech National Bank's first fixing, the earliest of either source's, has no rates. */
const BEFORE_EITHER_SOURCE = `before ${FIRST_CNB_FIXING}, the first fixing of either source (the Czech National Bank's; the European Central Bank's is ${FIRST_ECB_FIXING}), and neither has rates that early`;

/** Numbers of days or weeks counted back in words, one to ten, as "ago", "vor" and "před" take them. */
const COUNT_WORDS = new Map<string, number>(
  Object.entries({
    ...{ a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 },
    ...{ einem: 1, einer: 1, zwei: 2, drei: 3, vier: 4, fünf: 5, sechs: 6, sieben: 7, acht: 8, neun: 9, zehn: 10 },
    ...{ jedním: 1, dvěma: 2, třemi: 3, čtyřmi: 4, pěti: 5, šesti: 6, sedmi: 7, osmi: 8, devíti: 9, deseti: 10 },
    // Czech as typed without its accents.
    ...{ jednim: 1, dvema: 2, tremi: 3, ctyrmi: 4, peti: 5, sesti: 6, deviti: 9 },
  }),
);

/**
 * For days or weeks counted back from today, "3 days ago", or as German and Czech say it, "vor 3 Tagen", "před 3
 * dny" (whose "vor" and "před" are no "before" of a date), the date it counts back to from today in Prague and
 * Frankfurt, where the fixings are dated: the user's today may be another.
 */
function countedBack(text: string): string | undefined {
  const [, english, englishUnit = ""] = /^(\d{1,4}|\p{L}+)\s+(days?|weeks?)\s+ago$/iu.exec(text) ?? [];
  const [, german, germanUnit = ""] = /^vor\s+(\d{1,4}|\p{L}+)\s+(Tag(?:en)?|Wochen?)$/iu.exec(text) ?? [];
  const [, czechCount, czechUnit = ""] =
    /^p[řr]ed\s+(?:(\d{1,4}|\p{L}+)\s+)?(dnem|dny|dni|t[ýy]dnem|t[ýy]dny)$/iu.exec(text) ?? [];
  // Czech says "a week ago" without a number, "před týdnem"; "před dny", days ago, counts none.
  const czech = czechCount ?? (/^(?:dnem|t[ýy]dnem)$/iu.test(czechUnit) ? "1" : undefined);
  const written = english ?? german ?? czech;
  const count = written === undefined ? 0 : (COUNT_WORDS.get(written.toLowerCase()) ?? Number(written));
  if (!count) return undefined;
  const unit = englishUnit || germanUnit || czechUnit;
  const days = /^(?:d|tag)/i.test(unit) ? count : count * 7;
  const language = german ? "German" : czechUnit ? "Czech" : undefined;
  const said = `${count} ${/^(?:d|tag)/i.test(unit) ? "day" : "week"}${count === 1 ? "" : "s"} ago`;
  const today = dateIn(PUBLICATION.zone);
  const back = isoDate(Date.parse(today) - days * DAY_MS);
  const counted = `counted from ${today}, today in Prague and Frankfurt, where the fixings are dated`;
  const read = `must be a date as YYYY-MM-DD: ${text}${language ? `, ${language} for "${said}",` : ""} counts back from today`;
  if (back < FIRST_CNB_FIXING) {
    return `${read} to ${back}, ${counted}: that is ${BEFORE_EITHER_SOURCE}; send the date meant`;
  }
  return `${read}: send ${back}, ${counted}, or the date meant where it counts from another day`;
}

/**
 * Weekdays as "last" names them in English, German ("letzten Freitag") and Czech ("minulý pátek", "minulou středu",
 * as a field's value, "minulá středa", and as "od" takes it, "od minulého pátku"), Monday first.
 */
const WEEKDAYS_NAMED = [
  ["monday", "montag", "pondělí", "pondeli"],
  ["tuesday", "dienstag", "úterý", "utery"],
  ["wednesday", "mittwoch", "středu", "stredu", "středa", "streda", "středy", "stredy"],
  ["thursday", "donnerstag", "čtvrtek", "ctvrtek", "čtvrtka", "ctvrtka"],
  ["friday", "freitag", "pátek", "patek", "pátku", "patku"],
  ["saturday", "samstag", "sonnabend", "sobotu", "sobota", "soboty"],
  ["sunday", "sonntag", "neděli", "nedeli", "neděle", "nedele"],
];

/**
 * For a weekday said as the last one, "last Friday", German "letzten Freitag", Czech "minulý pátek", the date of the
 * last such day before today in Prague and Frankfurt, where the fixings are dated, and where that is in today's week
 * (a Saturday's "last Friday"), the one of the week before too, as either may be meant. A weekday named alone, as
 * "since Friday" has it, where `alone` takes it (in its language), is the last such day before today, with no other:
 * on a Friday, the Friday a week before, and `isToday` says today is one too.
 */
function lastWeekdayOf(
  text: string,
  alone?: { language?: string },
):
  | {
      last: string;
      weekBefore?: string;
      weekday: string;
      said: string;
      language?: string;
      today: string;
      isToday?: true;
    }
  | undefined {
  const [, english, german, czech, bare] =
    /^(?:last\s+(\p{L}+)|(?:letzte[mnr]|vergangene[mnr]|vorige[mnr])\s+(\p{L}+)|minul(?:ý|y|ou|é|e|á|a|ého|eho)\s+(\p{L}+)|(\p{L}+))$/iu.exec(
      text,
    ) ?? [];
  if (bare && !alone) return undefined;
  const name = (english ?? german ?? czech ?? bare)?.toLowerCase();
  const index = WEEKDAYS_NAMED.findIndex((names) => name !== undefined && names.includes(name));
  const [englishName] = WEEKDAYS_NAMED[index] ?? [];
  if (englishName === undefined) return undefined;
  const today = dateIn(PUBLICATION.zone);
  const sinceMonday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7;
  const back = (sinceMonday - index + 7) % 7 || 7;
  const last = isoDate(Date.parse(today) - back * DAY_MS);
  const weekday = capitalized(englishName);
  const language = german ? "German" : czech ? "Czech" : bare ? alone?.language : undefined;
  return {
    last,
    ...(back <= sinceMonday && !bare && { weekBefore: isoDate(Date.parse(last) - 7 * DAY_MS) }),
    weekday,
    said: bare ? weekday : `last ${weekday}`,
    ...(language && { language }),
    today,
    ...(bare && back === 7 && { isToday: true as const }),
  };
}

/** The date "last Friday" names, as `lastWeekdayOf` reads it, to send. */
function lastWeekday(text: string): string | undefined {
  const named = lastWeekdayOf(text);
  if (!named) return undefined;
  const { last, weekBefore, weekday, language, today } = named;
  const before = weekBefore ? `, or ${weekBefore}, the ${weekday} of the week before` : "";
  return `must be a date as YYYY-MM-DD: ${text}${language ? `, ${language} for "last ${weekday}",` : ""} counts back from today: send ${last}, the last ${weekday} before ${today}, today in Prague and Frankfurt, where the fixings are dated${before}, or the date meant`;
}

/**
 * For the days since the last of a weekday, "since last Friday" ("from last Friday"), German "seit letztem Freitag"
 * ("ab letztem Freitag", "seit dem letzten Freitag"), Czech "od minulého pátku", and "since Friday", "seit Freitag" or
 * "od pátku", the range from that day to today in Prague and Frankfurt: its ends to send, or for one date, its first.
 * "from Friday" and "ab Freitag" are not read so: they are as often said of a Friday to come.
 */
function sinceLastWeekday(text: string, ofMonth: MonthDay): string | undefined {
  const [, since = "", rest = ""] = /^(since|from|seit|ab|od)\s+(?:dem\s+)?(.+)$/iu.exec(text) ?? [];
  const alone = { since: {}, seit: { language: "German" }, od: { language: "Czech" } }[since.toLowerCase()];
  const named = lastWeekdayOf(rest, alone);
  if (!named) return undefined;
  const { last, weekBefore, weekday, said, language, today, isToday } = named;
  const from = /^(?:from|ab)$/i.test(since) ? "from" : "since";
  const word = language ? `, ${language} for "${from} ${said}",` : "";
  const before = weekBefore
    ? ` (or from ${weekBefore}, the ${weekday} of the week before)`
    : isToday
      ? ` (today is a ${weekday} too: where it is the one meant, the range is today alone)`
      : "";
  const range = `${text}${word} is a range of days from ${last}, the last ${weekday} before ${today}, today in Prague and Frankfurt, where the fixings are dated, to today${before}`;
  return ofMonth === "any"
    ? `must be a date as YYYY-MM-DD: ${range}: send ${last}, its first day, or ask currency_history for every fixing in it, from ${last} to ${today}`
    : `must be a date as YYYY-MM-DD: ${range}: send ${last} as start and ${today} as end`;
}

/**
 * For the days up to the last of a weekday, "until last Friday" ("till", "to", "up to", "up to and including", "through last
 * Friday"), German "bis letzten Freitag" ("bis zum", "bis einschließlich"), Czech "do minulého pátku" ("… včetně"): a range that ends that day and does not say its start.
 */
function untilLastWeekday(text: string, ofMonth: MonthDay): string | undefined {
  // Its day said to be included too: "up to and including", "bis einschließlich", "do minulého pátku včetně".
  const [, rest = ""] =
    /^(?:until|till|to|up\s+to(?:\s+and\s+including)?|through|thru|bis(?:\s+zum|\s+einschlie(?:ß|ss)lich)?|do)\s+(.+?)(?:\s+(?:včetně|vcetne))?$/iu.exec(
      text,
    ) ?? [];
  const named = lastWeekdayOf(rest);
  if (!named) return undefined;
  const { last, weekBefore, weekday, language, today } = named;
  const word = language ? `, ${language} for "until last ${weekday}",` : "";
  const before = weekBefore ? ` (or ${weekBefore}, the ${weekday} of the week before)` : "";
  const range = `${text}${word} is a range of days up to ${last}, the last ${weekday} before ${today}, today in Prague and Frankfurt, where the fixings are dated${before}, and does not say its start`;
  return ofMonth === "any"
    ? `must be a date as YYYY-MM-DD: ${range}: send ${last}, its last day, or ask currency_history for every fixing in it, from the start meant to ${last}`
    : `must be a date as YYYY-MM-DD: ${range}: send ${last} as end, and the start meant as start`;
}

/**
 * A range sent as one date: as ISO 8601 writes an interval (2026-03-01/2026-03-05, of time stamps too), or with a dash, dots or a word
 * between its ends (1.–5. 3. 2026, 1–5 March 2026, March 1–5, 2026, 1 March to 5 March 2026, 1 March up to 5 March 2026,
 * 1. 3. bis zum 5. 3. 2026, 1. 3. do 5. 3. 2026, and with the last end included, 1 March up to and including 5 March 2026,
 * 1. 3. bis einschließlich 5. 3. 2026, 1. 3. do 5. 3. 2026 včetně); a first end of a day alone takes its month and year
 * from the last (1. of 1.–5. 3. 2026 is 1. 3. 2026, 1 of 1–5 March 2026 1 March 2026).
 */
function rangeGiven(written: string): [string, string, string?] | undefined {
  // Czech says the last end is included after it: 1. 3. do 5. 3. 2026 včetně.
  const text = written.replace(/\s+(?:včetně|vcetne)$/iu, "");
  const [, isoFrom, isoTo] = /^(\d{4}-\d{2}-\d{2}(?:T[^/]+)?)\/(\d{4}-\d{2}-\d{2}(?:T[^/]+)?)$/.exec(text) ?? [];
  if (isoFrom && isoTo) return [isoFrom, isoTo];
  const [, from = "", to = ""] =
    /^(\d{1,2}\.(?:\s?\d{1,2}\.)?)\s*-\s*(\d{1,2}\..*\d)$/.exec(text) ??
    /^([^–—]*?\d[^–—]*?)\s*(?:[–—]|\.\.\.?|\s-\s|\s+(?:to|until|till|up\s+to\s+and\s+including|up\s+to|through|thru|bis\s+einschlie(?:ß|ss)lich|bis\s+zu[mr]?|bis|až|do)\s+)\s*(\d.*|\p{L}.*\d.*)$/iu.exec(
      text,
    ) ??
    [];
  // A time after a date is no end of a range: 3 March 2026 - 10:15.
  if (!from || /^\d{1,2}:\d{2}/.test(to)) return undefined;
  const [, dayAlone] = /^(\d{1,2})\.?$/.exec(from) ?? [];
  const [, rest] = /^\d{1,2}([.\s].*\d)$/.exec(to) ?? [];
  if (dayAlone && rest) return [`${dayAlone}${rest}`, to];
  // As American English writes one, the month first: March 1–5, 2026.
  const [, month, firstDay] = /^(\p{L}{3,}\.?)\s+(\d{1,2})$/u.exec(from) ?? [];
  const [, lastDay, yearAfter] = /^(\d{1,2}),?\s+(\d{4})$/.exec(to) ?? [];
  if (month && lastDay) return [`${month} ${firstDay}, ${yearAfter}`, `${month} ${lastDay}, ${yearAfter}`];
  // A first end without a year has the last's: 1. 3. – 5. 3. 2026, 1.3.–5.3.2026, 1 March to 5 March 2026, and
  // of two digits, as a date's alone (1. 3. 26) is read, 1. 3. bis 5. 3. 26.
  // Where it then falls after the last, the range crosses a new year: 20. 12. – 5. 1. 2026 begins in 2025.
  const [, year] = /[\s.](\d{4})$/.exec(to) ?? /\d{1,2}\.\s?\d{1,2}\.\s?(\d{2})$/.exec(to) ?? [];
  const fromYear = /\d{4}/.test(from) || /\d{1,2}\.\s?\d{1,2}\.\s?\d{2}$/.test(from);
  if (!year || fromYear) return [from, to];
  const yearBefore = String((Number(year) + 10 ** year.length - 1) % 10 ** year.length).padStart(year.length, "0");
  return [`${from} ${year}`, to, `${from} ${yearBefore}`];
}

/**
 * The ends of a range sent as one date, each as `sendOf` reads it with `ahead`; a first end given the last's year
 * that falls after the last, as read whether begun or not, is in the year before.
 */
function rangeEnds(
  written: string,
  ahead: (date: string) => string | undefined,
  ofMonth: MonthDay,
  insteadOfLater: () => string,
): ReturnType<typeof sendOf>[] {
  const [from, to, inYearBefore] = rangeGiven(written) ?? [];
  if (from === undefined || to === undefined) return [];
  const dateOf = (side: string) => sendOf(side, () => undefined, ofMonth, insteadOfLater)?.date;
  const last = inYearBefore && dateOf(to);
  const first = last && (dateOf(from) ?? "") > last ? inYearBefore : from;
  return [first, to].map((side) => sendOf(side, ahead, ofMonth, insteadOfLater));
}

/**
 * The date a refusal of `side` names as the one to send, if one, and the year of two digits is read as, where
 * it has them: a range's end read as a date is read.
 */
function sendOf(
  side: string,
  ahead: (date: string) => string | undefined,
  ofMonth: MonthDay,
  insteadOfLater: () => string,
): { date: string; year?: number; there?: string } | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(side)) return isCalendarDate(side) && !ahead(side) ? { date: side } : undefined;
  let sent: { date: string; year?: number; there?: string } | undefined;
  notADate(side, ahead, ofMonth, insteadOfLater, (date, year, there) => {
    sent = { date, year, there };
  });
  return sent;
}

/**
 * Czech, English and German words a date is said with in a range or as of which a rate is asked for, before it without a dot (with one, "po." and
 * "do." are weekdays), what each means, and the weekday a calendar writes so: Czech "po" is Monday, German "Do" Thursday.
 */
const PREPOSITIONS = new Map<string, { meaning: string; weekday?: string }>(
  Object.entries({
    do: { meaning: 'Czech for "until" (the day included)', weekday: "Thursday" },
    po: { meaning: 'Czech for "after" (from the day after on)', weekday: "Monday" },
    od: { meaning: 'Czech for "from"' },
    from: { meaning: 'English for "from"' },
    until: { meaning: 'English for "until" (the day included)' },
    after: { meaning: 'English for "after" (from the day after on)' },
    before: { meaning: 'English for "before" (the day not included)' },
    ab: { meaning: 'German for "from"' },
    vom: { meaning: 'German for "from"' },
    von: { meaning: 'German for "from"' },
    bis: { meaning: 'German for "until" (the day included)' },
    since: { meaning: 'English for "since" (from the day on)' },
    till: { meaning: 'English for "until" (the day included)' },
    to: { meaning: 'English for "until" (the day included)' },
    "up to": { meaning: 'English for "until" (the day included)' },
    "up to and including": { meaning: 'English for "until" (the day included)' },
    through: { meaning: 'English for "until" (the day included)' },
    thru: { meaning: 'English for "until" (the day included)' },
    "bis zu": { meaning: 'German for "until" (the day included)' },
    "bis zum": { meaning: 'German for "until" (the day included)' },
    "bis zur": { meaning: 'German for "until" (the day included)' },
    "bis einschließlich": { meaning: 'German for "until" (the day included)' },
    "do včetně": { meaning: 'Czech for "until" (the day included)' },
    "od včetně": { meaning: 'Czech for "from" (the day included)' },
    by: { meaning: 'English for "by" (the day or before it)' },
    seit: { meaning: 'German for "since" (from the day on)' },
    nach: { meaning: 'German for "after" (from the day after on)' },
    vor: { meaning: 'German for "before" (the day not included)' },
    "ab dem": { meaning: 'German for "from"' },
    "seit dem": { meaning: 'German for "since" (from the day on)' },
    "nach dem": { meaning: 'German for "after" (from the day after on)' },
    "vor dem": { meaning: 'German for "before" (the day not included)' },
    před: { meaning: 'Czech for "before" (the day not included)' },
    pred: { meaning: 'Czech for "before" (the day not included)' },
    k: { meaning: 'Czech for "as of", as the rate of a day is asked for' },
    ke: { meaning: 'Czech for "as of", as the rate of a day is asked for' },
  }),
);

/** The longest text read for the date it may be: a weekday, a date in words, a time and its zone fit. */
const DATE_TEXT_MAX = 80;

/**
 * A date followed by a time of day, as an order or an e-mail dates it ("03.03.2026 10:15", "3 March 2026 at
 * 10:15 pm", "03 Mar 2026 10:00:00 GMT", "3. 3. 2026 10.15", "3. März 2026, 10:15 Uhr", "10:15 hrs"), or by a zone alone ("2026-03-03 CET"): the date,
 * the time as HH:MM:SS, and its zone where one is written: an offset (+01:00, +1, GMT+2), a name of one (CET, EST)
 * or an IANA zone (Europe/Prague). A time no clock shows (25:30) is `impossible`, hours more than a day has (48 h) a
 * `span`, a zone not known `unknownZone`,
 * as none can say the date in Prague; a name several zones go by (CST) is `ambiguousZone`, its time read, as
 * their dates in Prague may agree. A time stamp as ISO 8601 writes it is read as one elsewhere.
 */
function withTime(text: string):
  | {
      date: string;
      time?: string;
      zone?: string;
      impossible?: string;
      span?: string;
      unknownZone?: string;
      ambiguousZone?: string;
      clockTime?: string;
      zoneWord?: string;
    }
  | undefined {
  if (isoTime(text.replace(/\s*(UTC|GMT)$/i, "Z"))) return undefined;
  // An hour alone is on the hour where its half of the day or the word for an hour follows it (6 pm, 10 Uhr).
  const [, date = "", clockTime = "", hours = "", minutes = "00", seconds = "00", half = "", zone = ""] =
    /^(.*?\d.*?)(?:,?\s+(?:at\s+|um\s+|ve?\s+)?|T)(?:((\d{1,2})(?:[:.](\d{2})(?::(\d{2})(?:[.,]\d+)?)?|(?=\s*(?:[ap]\.?m\.?|Uhr|hod\.?|hrs|hours|h)(?!\p{L})))(?:\s*([ap])\.?m\.?(?!\p{L}))?)(?:\s*(?:Uhr|hod\.?|hrs|hours|h)(?!\p{L}))?\s*)?((?:UTC|GMT)\s?[+-]\d{1,2}(?::?\d{2})?|[+-]\d{1,2}(?::?\d{2})?|\p{L}[\p{L}_]*(?:\/[\p{L}\d_+-]+)*)?$/iu.exec(
      text,
    ) ?? [];
  if (!date || !(clockTime || zone)) return undefined;
  // A day alone is no date: in "30. 11.26" the dotted time is its month and year.
  if (/^\d{1,2}\.$/.test(date) && /^\d{1,2}\.\d{2}$/.test(clockTime)) return undefined;
  const offset = zone ? zoneOffset(zone) : undefined;
  const ambiguous = AMBIGUOUS_ZONES.has(zone.toUpperCase());
  // A word after a date without a time is no zone unless it names one: "3 Mar" is a date. Nor is a sign and
  // hours alone (+1), which may be days added to it.
  if (!clockTime) return (offset === undefined && !ambiguous) || /^[+-]\d{1,2}$/.test(zone) ? undefined : { date };
  const hour = Number(hours);
  // Hours alone, a day's or more (24 h, 48 h), are a span, as a deadline counts from the date, or name the 24-hour
  // clock: no time of day. Not o'clock (25 Uhr), nor after "at", "um" or "v" ("ve"), which say a time of day: 24 is
  // the day's end, and above it one no clock shows. Czech "24 hod." after a date is its end too, as deadlines write it.
  const span = /^[\s,]+(\d+\s*(?:hod\.?|hrs|hours|h)(?!\p{L}).*)$/iu.exec(text.slice(date.length))?.[1];
  const dayEndHours = hour === 24 && /^\d+\s*hod/i.test(span ?? "");
  if (!half && hour >= 24 && span && !dayEndHours) return { date, span };
  // 24:00 is the day's end, as ISO 8601 wrote it until 2019: the next day's midnight, as a time stamp reads it.
  const dayEnd = !half && hour === 24 && Number(minutes) === 0 && Number(seconds) === 0;
  // Said before its zone, which no offset sent with the same time would mend.
  if (!dayEnd && (Number(minutes) > 59 || Number(seconds) > 59 || (half ? hour < 1 || hour > 12 : hour > 23))) {
    return { date, impossible: clockTime };
  }
  if (zone && offset === undefined && !ambiguous) return { date, unknownZone: zone };
  const hour24 = dayEnd ? 24 : (hour % (half ? 12 : 24)) + (half.toLowerCase() === "p" ? 12 : 0);
  const time = `${String(hour24).padStart(2, "0")}:${minutes}:${seconds}`;
  return {
    date,
    time,
    ...(ambiguous && { ambiguousZone: zone, clockTime }),
    ...(offset !== undefined && { zone: offset }),
    ...(ZONE_NAMES.has(zone.toUpperCase()) && { zoneWord: zone }),
  };
}

/**
 * The offset from UTC a zone written after a time stands for (Z, +01:00), or for an IANA zone its name, whose
 * offset the date gives; undefined for a word that names no zone known. Names of zones are read only where
 * they have one meaning: CST is China's and America's Central.
 */
function zoneOffset(zone: string): string | undefined {
  const named = ZONE_NAMES.get(zone.toUpperCase());
  if (named !== undefined) return named;
  const [, sign, hours = "", minutes = "00"] = /^(?:UTC|GMT)?\s?([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(zone) ?? [];
  if (sign)
    return Number(hours) > 14 || Number(minutes) > 59 ? undefined : `${sign}${hours.padStart(2, "0")}:${minutes}`;
  return zone.includes("/") && isTimeZone(zone) ? zone : undefined;
}

/** Names of zones as a time is written with them, in upper case, and their offsets; Czech SEČ and German MEZ are CET. */
const ZONE_NAMES = new Map<string, string>(
  Object.entries({
    Z: "Z",
    UTC: "Z",
    GMT: "Z",
    WET: "Z",
    WEST: "+01:00",
    CET: "+01:00",
    MEZ: "+01:00",
    SEČ: "+01:00",
    SEC: "+01:00",
    CEST: "+02:00",
    MESZ: "+02:00",
    SELČ: "+02:00",
    SELC: "+02:00",
    EET: "+02:00",
    EEST: "+03:00",
    EST: "-05:00",
    EDT: "-04:00",
    MST: "-07:00",
    MDT: "-06:00",
    PST: "-08:00",
    PDT: "-07:00",
  }),
);

/** Central European names of zones, in upper case, which a time is often written with whichever of them Prague keeps. */
const CENTRAL_EUROPEAN = new Set(["CET", "MEZ", "SEČ", "SEC", "CEST", "MESZ", "SELČ", "SELC"]);

/**
 * For a time stamp in CET written in summer, or in CEST in winter, that Prague and Frankfurt keep the other then,
 * and the date where the time is on their clocks: the one written, `meant`.
 */
function offTheirClocks(name: string, stamp: string, meant: string): string {
  const offset = ZONE_NAMES.get(name.toUpperCase()) ?? "";
  if (!CENTRAL_EUROPEAN.has(name.toUpperCase())) return "";
  const kept = offsetMinutes(Date.parse(stamp), PUBLICATION.zone);
  const written = Number(offset.slice(1, 3)) * 60;
  if (kept === written) return "";
  const time = kept > written ? "summer time" : "standard time";
  return `; ${name} is UTC${offset}, but Prague and Frankfurt keep ${time} (UTC+${String(kept / 60).padStart(2, "0")}:00) then: where the time is on their clocks, its date there is ${meant}`;
}

/** Names several zones go by, in upper case: a time in one is told its date in Prague only where each gives the same. */
const AMBIGUOUS_ZONES = new Map<string, { name: string; offset: string }[]>(
  Object.entries({
    AST: [
      { name: "Atlantic Standard Time", offset: "-04:00" },
      { name: "Arabia Standard Time", offset: "+03:00" },
    ],
    BST: [
      { name: "British Summer Time", offset: "+01:00" },
      { name: "Bangladesh Standard Time", offset: "+06:00" },
    ],
    CST: [
      { name: "North American Central Standard Time", offset: "-06:00" },
      { name: "China Standard Time", offset: "+08:00" },
    ],
    IST: [
      { name: "India Standard Time", offset: "+05:30" },
      { name: "Israel Standard Time", offset: "+02:00" },
      { name: "Irish Standard Time", offset: "+01:00" },
    ],
  }),
);

/** A date and time in `zone` (an offset or an IANA zone's name) as an ISO 8601 time stamp with its offset. */
function zonedStamp(date: string, time: string, zone: string): string {
  if (!zone.includes("/")) return `${date}T${time}${zone}`;
  const [hours = 0, minutes = 0, seconds = 0] = time.split(":").map(Number);
  const at = zonedEpoch(
    Number(date.slice(0, 4)),
    Number(date.slice(5, 7)),
    Number(date.slice(8, 10)),
    hours * 60 + minutes,
    zone,
  );
  // Its offset, after the minute: 2026-08-31T18:30-04:00.
  return `${date}T${time}${localIso(at + seconds * 1000, zone).slice(16)}`;
}

/**
 * A weekday a date is led by, as a letter or a receipt dates it ("Tuesday, 3 March 2026", "Di., 3. März 2026",
 * "út 3. 3. 2026", "so 1. 3. 2026"): the word, the weekdays it names (Czech "so" is Saturday, German "So" Sunday),
 * and the date after it. "do" and "po" are weekdays only with their dot or comma: Czech "do 3. 3." is "until", "po" "after".
 */
function leadingWeekday(text: string): { word: string; names: string[]; rest: string } | undefined {
  const [, word = "", mark = "", rest = ""] = /^(\p{L}{2,})(\.,?|,|\s)\s*(.*\d.*)$/u.exec(text) ?? [];
  const plain = word.toLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
  const names = WEEKDAYS.get(plain);
  if (!names || ((plain === "do" || plain === "po") && !/[.,]/.test(mark))) return undefined;
  return { word, names, rest };
}

/** Weekdays' names and short names in English, German and Czech, without diacritics, and the weekdays each names. */
const WEEKDAYS = Object.entries({
  Sunday: ["sunday", "sun", "sonntag", "so", "nedele", "ne"],
  Monday: ["monday", "mon", "montag", "mo", "pondeli", "po"],
  Tuesday: ["tuesday", "tue", "tues", "dienstag", "di", "utery", "ut"],
  Wednesday: ["wednesday", "wed", "mittwoch", "mi", "streda", "st"],
  Thursday: ["thursday", "thu", "thur", "thurs", "donnerstag", "do", "ctvrtek", "ct"],
  Friday: ["friday", "fri", "freitag", "fr", "patek", "pa"],
  Saturday: ["saturday", "sat", "samstag", "sonnabend", "sa", "sobota", "so"],
}).reduce((map, [name, words]) => {
  for (const word of words) map.set(word, [...(map.get(word) ?? []), name]);
  return map;
}, new Map<string, string[]>());

/**
 * For a day and month without a year, as a person says "3 March" (read as `words`), a Czech writes 3. 3. and others
 * 03/03 or 03-03 (day or month first, both where neither is above 12), its latest date begun in each
 * reading, to send unless another year is meant: today's year would be a guess the model cannot see.
 * Begun in Prague and Frankfurt, where the fixings are dated: a date begun only east of them has none yet.
 */
function withoutYear(
  text: string,
  words: ReturnType<typeof inWords>,
  weekday: ReturnType<typeof leadingWeekday>,
  sent: string,
): string | undefined {
  const [, dottedDay, dottedMonth] = /^(\d{1,2})\.\s?(\d{1,2})\.?$/.exec(text) ?? [];
  const [, first = "", second = ""] = /^(\d{1,2})[/-](\d{1,2})$/.exec(text) ?? [];
  const readings = [
    ...(dottedDay && dottedMonth ? [{ month: dottedMonth, day: dottedDay }] : []),
    ...(words && !words.year ? [words] : []),
    ...(first ? [{ month: second, day: first }] : []),
    ...(first && first !== second ? [{ month: first, day: second }] : []),
  ].flatMap(({ month, day }) => {
    const latest = latestOf(month.padStart(2, "0"), day.padStart(2, "0"), weekday?.names);
    return latest ? [latest] : [];
  });
  const [one, other] = readings;
  if (!one) return undefined;
  // Without its last dot (3.5), a day and month are written as a decimal number is, which may be what was sent.
  const what = /^\d+\.\d+$/.test(sent)
    ? "is a number, or a day and month without a year as Czech and German write them: for that,"
    : "has no year:";
  // A weekday before it tells which year: the latest whose date is on that weekday.
  const [onDay, onDays] = weekday ? [` on a ${weekdayName(one)}`, " on the weekday named"] : ["", ""];
  if (!other) {
    return `must be a date as YYYY-MM-DD: ${sent} ${what} send ${one}, its latest date${onDay} begun in Prague and Frankfurt, where the fixings are dated, or its date in the year meant`;
  }
  return `must be a date as YYYY-MM-DD: ${sent} has no year: ${one} where the day comes first, ${other} where the month does, the latest dates${onDays} begun in Prague and Frankfurt, where the fixings are dated: send the one meant, or its date in the year meant`;
}

/**
 * A day and month in words, "3 March" or "March 3" (as said too, "the 3rd of March", "March the 3rd"), or as Czech and German write it, "3. března",
 * "3. März", and its year where one follows ("3 March 2026", "March 3, 2026", "3. března 2026"), of four digits
 * or two ("3 March 26", "3 Mar '26"); with dashes or slashes, the year last or first ("03-Mar-26", "2026-Mar-03").
 */
function inWords(text: string): { day: string; month: string; year?: string } | undefined {
  const dayFirst =
    /^(?:(?:on\s+)?the\s+)?(\d{1,2})(?:\.\s*|(?:st|nd|rd|th)?\s+(?:of\s+)?)(\p{L}{3,})\.?(?:,?\s+['’]?(\d{4}|\d{2}))?$/iu.exec(
      text,
    );
  const monthFirst = /^(\p{L}{3,})\.?\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+['’]?(\d{4}|\d{2}))?$/iu.exec(text);
  // As a bank statement or a spreadsheet writes it: 03-Mar-2026, 03/Mar/26, 2026-Mar-03.
  const dashed = /^(\d{1,2})([-/])(\p{L}{3,})\2(\d{4}|\d{2})$/u.exec(text);
  const yearFirst = /^(\d{4})([-/])(\p{L}{3,})\2(\d{1,2})$/u.exec(text);
  const [day, word, year] = dayFirst
    ? [dayFirst[1], dayFirst[2], dayFirst[3]]
    : monthFirst
      ? [monthFirst[2], monthFirst[1], monthFirst[3]]
      : dashed
        ? [dashed[1], dashed[3], dashed[4]]
        : yearFirst
          ? [yearFirst[4], yearFirst[3], yearFirst[1]]
          : [];
  const month = word ? monthNamed(word) : undefined;
  return day && month ? { day, month: String(month), year } : undefined;
}

/** The month (1 to 12) a word names: its English name or its first three letters or more, or a Czech or German name of it. */
function monthNamed(word: string): number | undefined {
  const lower = word.toLowerCase();
  const english = lower.length >= 3 ? MONTHS.findIndex(([name = ""]) => name.startsWith(lower)) + 1 : 0;
  return MONTH_NAMES.get(lower) ?? (english || undefined);
}

/**
 * The months' names in lower case: English first, whose first three letters or more name a month, then
 * Czech in each case a month or a date writes (listopad 2026, 3. listopadu, v listopadu 2026), then
 * German, and its short names that are no English one's (Okt., Mrz.).
 */
const MONTHS = [
  ["january", "leden", "ledna", "lednu", "januar", "jänner", "jaenner", "jän"],
  ["february", "únor", "února", "únoru", "februar"],
  ["march", "březen", "března", "březnu", "märz", "maerz", "mär", "mrz"],
  ["april", "duben", "dubna", "dubnu"],
  ["may", "květen", "května", "květnu", "mai"],
  ["june", "červen", "června", "červnu", "juni"],
  ["july", "červenec", "července", "červenci", "juli"],
  ["august", "srpen", "srpna", "srpnu"],
  ["september", "září"],
  ["october", "říjen", "října", "říjnu", "oktober", "okt"],
  ["november", "listopad", "listopadu"],
  ["december", "prosinec", "prosince", "prosinci", "dezember", "dez"],
];

/** Each of `MONTHS` with its diacritics and without, as typed on a keyboard without them (März as Maerz too, Jänner as Jaenner). */
const MONTH_NAMES = new Map<string, number>(
  MONTHS.flatMap((names, index) =>
    names.flatMap((name): [string, number][] => [
      [name, index + 1],
      [name.normalize("NFD").replace(/\p{M}/gu, ""), index + 1],
    ]),
  ),
);

/** The latest date begun in Prague of a month and day (MM, DD), if any year has it (29 February's leap year), on one of `weekdays` where given. */
function latestOf(month: string, day: string, weekdays?: string[]): string | undefined {
  const today = dateIn(PUBLICATION.zone);
  const year = Number(today.slice(0, 4));
  // Every date is on each weekday within 28 years.
  for (let back = 0; back <= 28; back += 1) {
    const date = `${year - back}-${month}-${day}`;
    if (isCalendarDate(date) && date <= today && (!weekdays || weekdays.includes(weekdayName(date)))) return date;
  }
  return undefined;
}

/**
 * For a month or a quarter where a date is taken (2026-10, Q3 2026), as a month's rates are asked for, its
 * days to send: the first for a start, the last for an end, any for a date; for one not over or still to
 * come, where that day has not begun, what to send instead, `insteadOfLater`; a year too (2026), where `yearAlone`.
 */
function ofMonthGiven(
  text: string,
  ofMonth: MonthDay,
  insteadOfLater: () => string,
  yearAlone: boolean,
): string | undefined {
  // As a sentence has it: in November 2026, v listopadu 2026, im 1. Halbjahr 2026, in der ersten Jahreshälfte 2026.
  const within = /^(?:in(?:\s+der)?|im|v|ve)\s+(.+)$/iu.exec(text)?.[1] ?? text;
  const span: Span | undefined =
    monthGiven(within) ??
    quarterGiven(within) ??
    halfGiven(within) ??
    weekGiven(within) ??
    (yearAlone ? yearGiven(text) : undefined);
  if (span?.yearless === undefined) {
    return span && `must be a date as YYYY-MM-DD: ${text} is ${daysOf(span, ofMonth, insteadOfLater)}`;
  }
  // As "end of Q4" without a year is read: this year's where it has begun, and last year's too while it is not over.
  const year = span.yearless;
  const yearBefore = (date: string) => `${year - 1}${date.slice(4)}`;
  const before = begun(span.last)
    ? ""
    : `; or, where ${year - 1}'s is meant, it is ${daysOf({ ...span, first: yearBefore(span.first), last: yearBefore(span.last) }, ofMonth, insteadOfLater)}`;
  return `must be a date as YYYY-MM-DD: ${text} has no year: read as ${year}'s, the latest begun in Prague and Frankfurt, where the fixings are dated, it is ${daysOf(span, ofMonth, insteadOfLater)}${before}`;
}

/** What a month or quarter is, and which of its days to send, as `ofMonthGiven` says it. */
function daysOf(
  { first, last, what }: { first: string; last: string; what: string },
  ofMonth: MonthDay,
  insteadOfLater: () => string,
): string {
  const [named, which] = ofMonth === "last" ? [last, "last"] : [first, "first"];
  if (!begun(named)) return `${what} ${begun(first) ? "not over" : "still to come"}: ${insteadOfLater()}`;
  const upTo = begun(last) ? last : latestBegun();
  if (ofMonth === "any" && upTo === first) return `${what}: send ${first}, its first day and the only one begun`;
  return ofMonth === "any"
    ? `${what}: send one of its days, ${first} to ${upTo}`
    : `${what}: send ${named}, its ${which} day`;
}

/**
 * A month and a year of two digits with a slash between, as an invoice's period or a card's expiry writes it
 * (03/26, March 2026), which is read as a day and month too: the month, its first and last days. Only a year
 * near today's is read so: 03/04 is far likelier 3 April or 4 March than March 2004.
 */
function monthOfTwoDigitYear(text: string): { first: string; last: string; what: string } | undefined {
  const [, number = "", digits = ""] = /^(\d{1,2})\/(\d{2})$/.exec(text) ?? [];
  const year = digits ? yearOfTwoDigits(digits) : 0;
  const thisYear = Number(dateIn(PUBLICATION.zone).slice(0, 4));
  if (year < thisYear - 2 || year > thisYear + 1) return undefined;
  const month = `${year}-${number.padStart(2, "0")}`;
  const last = lastDayOf(month);
  return last ? { first: `${month}-01`, last, what: `${month} (its year read as ${year}), a month` } : undefined;
}

/** A month and its year, its first and last days (YYYY-MM-DD). */
function monthGiven(text: string): { first: string; last: string; what: string } | undefined {
  // Year first (2026-11), or last, after the month's number (11/2026, 11. 2026) or name (November 2026, listopad 2026).
  // Without a separator too, as an accounting period is often written (202603).
  const [, yearFirst, numberAfter] =
    /^(\d{4})[-/](\d{1,2})$/.exec(text) ?? /^((?:19|20)\d{2})(\d{2})$/.exec(text) ?? [];
  const [, numberBefore, yearAfterNumber] = /^(\d{1,2})(?:[/-]|\.\s?)(\d{4})$/.exec(text) ?? [];
  const [, name = "", yearAfterName] = /^(\p{L}{3,})(?:\.?,?\s+|-)(\d{4})$/iu.exec(text) ?? [];
  const year = yearFirst ?? yearAfterNumber ?? yearAfterName;
  const number = numberAfter ?? numberBefore ?? String(monthNamed(name) ?? "");
  const month = year && number && `${year}-${number.padStart(2, "0")}`;
  const last = month && lastDayOf(month);
  return month && last ? { first: `${month}-01`, last, what: "a month" } : undefined;
}

/** A year alone (2026), its first and last days. */
function yearGiven(text: string): { first: string; last: string; what: string } | undefined {
  const [, year] = /^((?:19|20)\d{2})$/.exec(text) ?? [];
  return year ? { first: `${year}-01-01`, last: `${year}-12-31`, what: "a year" } : undefined;
}

/** A quarter's or half-year's first and last days, and the year it is read as where none is written, `yearless`. */
type Span = { first: string; last: string; what: string; yearless?: number };

/**
 * The year of a quarter or half-year as written, two digits read as a date's are; without one, the latest in which
 * its first month (1 to 12) has begun in Prague and Frankfurt, where the fixings are dated, said as `yearless`.
 */
function spanYear(written: string | undefined, firstMonth: number): { year: number; yearless?: number } {
  if (written) return { year: written.length === 2 ? yearOfTwoDigits(written) : Number(written) };
  const today = dateIn(PUBLICATION.zone);
  const year = Number(today.slice(0, 4)) - (Number(today.slice(5, 7)) < firstMonth ? 1 : 0);
  return { year, yearless: year };
}

/**
 * A quarter and its year, its first and last days: as a report names it (Q3 2026, 2026-Q3), an
 * American one (3Q26), or a Czech or German one (3. čtvrtletí 2026, 3. Quartal 2026). A year of two
 * digits is read as a date's is; without one (Q4), it is read as `spanYear` says.
 */
function quarterGiven(text: string): Span | undefined {
  const [, afterQ, beforeQ, yearAfter] =
    /^(?:Q([1-4])|([1-4])\.?\s*(?:Q|čtvrtletí|ctvrtleti|quartal))(?:[\s/-]*['’]?(\d{4}|\d{2}))?$/iu.exec(text) ?? [];
  const [, yearBefore, quarterAfter] = /^(\d{4})[\s/-]*Q([1-4])$/i.exec(text) ?? [];
  const quarter = Number(afterQ ?? beforeQ ?? quarterAfter);
  if (!quarter) return undefined;
  const { year, yearless } = spanYear(yearAfter ?? yearBefore, quarter * 3 - 2);
  const month = (index: number) => `${year}-${String(index).padStart(2, "0")}`;
  const last = lastDayOf(month(quarter * 3));
  return last ? { first: `${month(quarter * 3 - 2)}-01`, last, what: "a quarter", yearless } : undefined;
}

/**
 * A half-year and its year, its first and last days: as a report names it (H1 2026, 2026-H2, 1H26, first half of
 * 2026), or a Czech or German one (1. pololetí 2026, 2. Halbjahr 2026, první pololetí 2026, erstes Halbjahr 2026,
 * erste Jahreshälfte 2026).
 * A year of two digits is read as a date's is; without one (H2, zweites Halbjahr, druhé pololetí, second half), it is
 * read as `spanYear` says, but for 1H or 2H, which may be hours.
 */
function halfGiven(text: string): Span | undefined {
  const [, afterH, beforeH, word = "", yearAfter] =
    /^(?:H([12])|([12])\.?\s*(H|pololetí|pololeti|halbjahr|jahreshälfte|jahreshaelfte))(?:[\s/-]*['’]?(\d{4}|\d{2}))?$/iu.exec(
      text,
    ) ?? [];
  if (/^h$/i.test(word) && !yearAfter) return undefined;
  const [, yearBefore, halfAfter] = /^(\d{4})[\s/-]*H([12])$/i.exec(text) ?? [];
  const [, ordinal = "", yearInWords] =
    /^(?:the\s+)?(first|second)\s+half(?:\s+of\s+(\d{4}))?$/i.exec(text) ??
    /^(erste[nms]?|zweite[nms]?|první|prvni|prvním|prvnim|druhé|druhe|druhém|druhem)\s+(?:halbjahr|jahreshälfte|jahreshaelfte|pololetí|pololeti)(?:\s+(\d{4}))?$/iu.exec(
      text,
    ) ??
    [];
  const spelled = ordinal && (/^(?:first|erst|prvn)/i.test(ordinal) ? "1" : "2");
  const half = Number(afterH ?? beforeH ?? halfAfter ?? spelled);
  if (!half) return undefined;
  const { year, yearless } = spanYear(yearAfter ?? yearBefore ?? yearInWords, half === 1 ? 1 : 7);
  return half === 1
    ? { first: `${year}-01-01`, last: `${year}-06-30`, what: "a half-year", yearless }
    : { first: `${year}-07-01`, last: `${year}-12-31`, what: "a half-year", yearless };
}

/**
 * An ISO 8601 week (2026-W10, 2026W10, W10 2026, as German calendars number it KW 10 2026, and with its number
 * without a zero, 2026-W1), its Monday and Sunday: week 1 is the one with the year's first Thursday, so its
 * Monday may be in the year before, and a year has 52 weeks or 53.
 */
function weekGiven(text: string): { first: string; last: string; what: string } | undefined {
  const [, yearFirst, weekAfter] = /^(\d{4})-?W(\d{1,2})$/i.exec(text) ?? [];
  const [, weekBefore, yearLast] = /^(?:K?W|week)\s?(\d{1,2})[\s/,.-]+(\d{4})$/i.exec(text) ?? [];
  const monday = isoWeekMonday(Number(yearFirst ?? yearLast), Number(weekAfter ?? weekBefore));
  return monday === undefined
    ? undefined
    : { first: isoDate(monday), last: isoDate(monday + 6 * DAY_MS), what: "a week" };
}

/** The Monday (epoch at UTC midnight) of ISO 8601 week `week` of `year`, if the year has that week. */
function isoWeekMonday(year: number, week: number): number | undefined {
  if (!year || week < 1 || week > 53) return undefined;
  const fourth = Date.UTC(year, 0, 4);
  const monday = fourth - ((new Date(fourth).getUTCDay() + 6) % 7) * DAY_MS + (week - 1) * 7 * DAY_MS;
  // Week 53 is one only where its Thursday is in the year.
  return new Date(monday + 3 * DAY_MS).getUTCFullYear() === year ? monday : undefined;
}

/** A day of an ISO 8601 week (2026-W10-2, 2026W102: the week's Tuesday), as YYYY-MM-DD. */
function isoWeekDate(text: string): string | undefined {
  const [, year, week, day] = /^(\d{4})-W(\d{2})-([1-7])$/i.exec(text) ?? /^(\d{4})W(\d{2})([1-7])$/i.exec(text) ?? [];
  const monday = isoWeekMonday(Number(year), Number(week));
  return monday === undefined ? undefined : isoDate(monday + (Number(day) - 1) * DAY_MS);
}

/** Which day of a month given for a date is named to send: a range's first or last, or any for a date. */
type MonthDay = "first" | "last" | "any";

/** Whether a date (YYYY-MM-DD) is after its month's last day: a month's end mistyped, not a month or day that is none. */
function pastMonthEnd(date: string): boolean {
  const last = lastDayOf(date.slice(0, 7));
  return last !== undefined && date > last;
}

/** The last day of `month` (YYYY-MM), if it is one. */
function lastDayOf(month: string): string | undefined {
  return ["31", "30", "29", "28"].map((day) => `${month}-${day}`).find(isCalendarDate);
}

/** The year a date's two digits are read as: the first ending so from the first fixing's on. */
function yearOfTwoDigits(digits: string): number {
  const firstYear = Number(FIRST_CNB_FIXING.slice(0, 4));
  return firstYear + ((Number(digits) - (firstYear % 100) + 100) % 100);
}

/**
 * For a time stamp in a zone of its own (a payment's "2026-08-31T22:30:00Z") that is another day in
 * Prague and Frankfurt, where the fixings are dated, that day too: which is the transaction's, the
 * stamp's zone or the banks', only the user knows; or where that day has not begun, why it is refused, `ahead`.
 */
function inPrague(
  stamp: string,
  stamped: string,
  ahead: (date: string) => string | undefined,
  zoneName?: string,
): string {
  const other = pragueDateOf(stamp, stamped, zoneName);
  if (!other) return "";
  const { there, zone } = other;
  const refused = ahead(there);
  return refused
    ? `, the time stamp's date in ${zone}; ${there}, its date in Prague and Frankfurt, where the fixings are dated, ${refused}`
    : `, the time stamp's date in ${zone}, or ${there}, its date in Prague and Frankfurt, where the fixings are dated, whichever the transaction is booked on`;
}

/**
 * A time stamp's date in Prague and Frankfurt, `there`, where it is another than its date in its own
 * zone, `stamped`, and that zone as said (UTC+14:00), or by its name where it was written with one (America/New_York).
 */
function pragueDateOf(stamp: string, stamped: string, zoneName?: string): { there: string; zone: string } | undefined {
  // "2026-08-31 22:30 UTC", as a person writes one, is in UTC too; "+00", as PostgreSQL writes its offset, is +00:00.
  const written = stamp
    .replace(/\s*(UTC|GMT)$/i, "Z")
    .replace(" ", "T")
    .replace(/([+-]\d{2})$/, "$1:00");
  const [, zone] = /(Z|[+-]\d{2}:?\d{2})$/i.exec(written) ?? [];
  // 24:00 ends its day: the date there of the day's last instant, not of the next day's midnight (in Prague, its own).
  const instant = Date.parse(written) - (/T24:/.test(written) ? 1 : 0);
  if (!zone || Number.isNaN(instant)) return undefined;
  const there = dateIn(PUBLICATION.zone, instant);
  if (there === stamped) return undefined;
  const offset = zone.toUpperCase() === "Z" ? "" : zone.replace(/^([+-]\d{2}):?(\d{2})$/, "$1:$2");
  return { there, zone: zoneName ?? `UTC${offset === "+00:00" || offset === "-00:00" ? "" : offset}` };
}

export const date = dateArg(() => "leave date out for the latest fixing", "any");
export const rangeStart = dateArg((latest) => `start on ${latest} or earlier`, "first");
export const rangeEnd = dateArg((latest) => `an end of ${latest} takes the range to the latest fixing`, "last");

/**
 * A source's first date, as a refusal of an earlier one names it: in the shape of the refusal of
 * a date after the latest, the date, and then what it is.
 */
export function firstFixing(source: RateSource): string {
  return `${source.earliest}, the first fixing of ${source.name}`;
}

/**
 * The refusal of `what` (the argument), `day`, before the source's first fixing: not a later date,
 * whose rates would be booked as that day's (a 1998 invoice at the ECB's of 1999), but the other
 * source, where its rates begin by `day`, unless its fixing of `day` lacks some of the codes asked
 * for, `lacking` (RON in 1998 at the CNB), `when` (a range's, at both its ends).
 */
export function beforeFirst(
  what: string,
  day: string,
  source: RateSource,
  other: RateSource,
  lacking: string[] = [],
  when = `on ${day}`,
): ToolError {
  return new ToolError(
    `${what} must not be before ${firstFixing(source)}: its rates begin then, and ${NOT_EARLIER}; ${elsewhereBefore(day, other, lacking, when)}.`,
  );
}

/**
 * Where rates of `day`, before one source's first fixing, are: at `other`, from its first fixing on,
 * unless its fixings then lack `lacking`, `when` (the days said), or it has none that early either.
 */
export function elsewhereBefore(day: string, other: RateSource, lacking: string[], when: string): string {
  const theirs = lacking.length === 1 ? "its rate" : "their rates";
  return other.earliest > day
    ? `${other.name}'s begin on ${other.earliest}: neither source has rates that early`
    : lacking.length > 0
      ? `${other.name} has none for ${lacking.join(", ")} ${when} either: neither source has ${theirs} then`
      : `source "${other.id}" has rates from ${other.earliest} on`;
}

/**
 * The `source` argument, saying which one a call without it gets: the model cannot read the settings.
 * Read in any case, as a code is ("CNB" as a person writes it).
 */
export const sourceArg = (configured: SourceId) => word(SOURCES).optional().describe(`Default: ${configured}.`);

// --- results -----------------------------------------------------------------------------

export const sourceOut = z.enum(SOURCES);
export const requestedDate = z.string().optional();
export const note = z.string().optional();
export const rateRow = z.object({
  currency: z.string(),
  rate: z.number().describe("Units of it per 1 base."),
  inverse: z.number().describe("Units of base per 1 of it."),
});

// --- helpers -----------------------------------------------------------------------------

/**
 * What to know of the fixing used: why it is not of the date asked for, and that it was kept from
 * an earlier answer when the source failed.
 */
export function dateNote(requested: string | undefined, fixing: Fixing, source: RateSource): string | undefined {
  const day = dayNote(requested, fixing, source);
  if (!fixing.stale) return day;
  // The fixing of the day asked for (or of the newest due) is the one there is: no newer one stands for it.
  const kept =
    fixing.date === fixingDay(source.publication, requested)
      ? `${capitalized(source.name)} could not be asked for rates now, so these are the rates of ${fixing.date} kept from an earlier answer: ${fixing.stale}`
      : `${capitalized(source.name)} could not be asked for newer rates, so these are the rates of ${fixing.date} kept from an earlier answer, and a newer fixing may exist: ${fixing.stale}`;
  return day ? `${day} ${kept}` : kept;
}

/**
 * Why the fixing used is not of the date asked for: that day's is still to come where the source
 * publishes, or the day has none (a weekend; one of the source's closing days), or the source gave
 * none for a working day that is over there, and the working day's before that stands for it
 * may be still to come too. A fixing kept when the source failed is not the latest available: the
 * one standing for the day, once its time has come, is said to be due, never still to come. The
 * latest, asked for without a date, is older than the newest due only while that one is late.
 */
function dayNote(requested: string | undefined, fixing: Fixing, source: RateSource): string | undefined {
  const { publication } = source;
  const latest = `these are the rates of ${fixing.date}${fixing.stale ? "" : ", the latest available"}.`;
  if (requested === undefined) {
    const newest = fixingDay(publication, undefined);
    return fixing.date < newest && !fixing.stale ? `${capitalized(notOutYet(newest, source))}; ${latest}` : undefined;
  }
  if (requested === fixing.date) return undefined;
  const standing = lastWorkingDay(publication, requested);
  // A fixing kept when the source failed says nothing of later ones: one whose time has come may be out.
  const due =
    fixing.stale !== undefined && fixing.date < standing && dueBy(publication, standing)
      ? dueNow(standing, source)
      : undefined;
  const pending = fixing.date < standing && !due ? notYet(standing, source) : undefined;
  if (due && standing === requested) return `${capitalized(due)}.`;
  if (pending && standing === requested) return `${capitalized(pending)}; ${latest}`;
  const weekday = weekdayName(requested);
  // A working day over without its fixing (neither due nor to come, or it was said above): the
  // source may not have taken it in yet, or closed on a day its calendar does not know.
  if (publishes(publication, requested)) {
    return `${capitalized(source.name)} gave no fixing for ${requested} (a ${weekday}, a working day in its calendar: the source may not have it yet); these are the rates of ${fixing.date}, the last before it.`;
  }
  const why = weekday === "Saturday" || weekday === "Sunday" ? "" : `: a ${publication.holiday}`;
  const none = `No fixing exists for ${requested} (a ${weekday}${why})`;
  if (due) return `${none}, and ${due}.`;
  return pending
    ? `${none}, and ${pending}; ${latest}`
    : `${none}; these are the rates of ${fixing.date}, the last fixing ${source.name} published before it.`;
}

/**
 * Why `date` has no fixing yet, when that is why: it is a working day where the source publishes,
 * and its day has not begun there, or its fixing is still to come, or its time has passed and the
 * source is still without it (late rather than to come). Undefined for a day over there
 * (cachePolicy's `final`) and for a weekend or a closing day, which has none.
 */
export function notYet(date: string, source: RateSource): string | undefined {
  const { publication } = source;
  if (dayOver(publication, date) || !publishes(publication, date)) return undefined;
  if (dueBy(publication, date)) return notOutYet(date, source);
  const due = publishing(source);
  return date > dateIn(publication.zone)
    ? `${date} has not begun yet in ${publication.city} (${due})`
    : `the fixing of ${date} is not published yet (${due})`;
}

/** That the fixing of `day` is due by now where the source publishes. */
const dueNow = (day: string, source: RateSource) => `the fixing of ${day} is due by now (${publishing(source)})`;

/** That the fixing of `day` is due by now but the source is still without it: late, not to come. */
const notOutYet = (day: string, source: RateSource) => `${dueNow(day, source)} but is not out yet`;

/** That rates against `base` are the source's own against its base worked out, not rates it published. */
export function crossNote(base: string, source: RateSource): string | undefined {
  return base === source.base
    ? undefined
    : `${capitalized(source.name)} publishes rates against ${source.base} only: these against ${base} are worked out from them.`;
}

/** When a source's fixings come out, as the notes say it. */
const publishing = (source: RateSource) => `${source.name} publishes ${source.publication.when} on working days`;

export function rateRows(fixing: Fixing, base: string, symbols: string[], source: RateSource) {
  return symbols.map((currency) => {
    const rate = crossRate(fixing, base, currency, source);
    return { currency, rate: significant(rate), inverse: significant(1 / rate) };
  });
}

// Up to 8 decimals, or 8 significant digits where that keeps more: a small cross rate
// (1 IDR = 0.000057123456 EUR) is shown as precisely as it is given. Made at the first call: the
// first NumberFormat of a process loads ICU's data, 20 ms a start-up would otherwise pay.
let numberFormat: Intl.NumberFormat | undefined;

/** A number for the text rendering: grouped by thousands, never an exponent (1,234.5). */
export function formatNumber(value: number): string {
  numberFormat ??= new Intl.NumberFormat("en-US", {
    maximumFractionDigits: 8,
    maximumSignificantDigits: 8,
    roundingPriority: "morePrecision",
  });
  return numberFormat.format(value);
}

const moneyFormats = new Map<number, Intl.NumberFormat>();

/**
 * An amount of `currency` for the text rendering: always with its minor unit's decimals, as a
 * person books it (1,234.50 USD, 1,235 JPY), and every further one the amount has (0.000000001
 * EUR): 17 significant digits write any number as it was given. A decimal given as text is
 * written with every digit it has.
 */
export function formatMoney(value: number | Intl.StringNumericLiteral, currency: string): string {
  const digits = minorUnits(currency);
  let format = moneyFormats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: 20,
      maximumSignificantDigits: 17,
      roundingPriority: "morePrecision",
    });
    moneyFormats.set(digits, format);
  }
  return format.format(value);
}

export function sourceLabel(id: SourceId): string {
  return id === "ecb" ? "ECB" : "CNB";
}
