/**
 * The one clock. Everything in waiter that asks what time it is asks `clock.now()`, never
 * `Date.now()`, so a test can put the whole server (and the fakes it talks to) at a chosen
 * instant: a local midnight, a daylight-saving change, a publication time. Set, it runs on at
 * real speed from that instant, so deadlines, timers and ages keep their meaning.
 */
export const clock = {
  /** Epoch milliseconds. */
  now(): number {
    return Date.now() + offset;
  },
};

let offset = 0;

export const HOUR_MS = 3_600_000;

/** A day of 24 hours, in milliseconds: for spans and ages, not for calendar days (see `midnight`). */
export const DAY_MS = 86_400_000;

/**
 * Whether `at` came less than `ms` ago. A time still to come, as a clock set back (NTP correcting
 * one that ran ahead) makes of a past one, did not: what it started is over, not made longer.
 */
export function lessAgoThan(at: number, ms: number): boolean {
  const since = clock.now() - at;
  return since >= 0 && since < ms;
}

/** Puts the clock at `epoch` (ISO 8601 or epoch ms), running on from there; without one, back to real time. */
export function setClock(at?: number | string): void {
  const next = at === undefined ? 0 : (typeof at === "string" ? Date.parse(at) : at) - Date.now();
  // Refused before it is set: a clock left at NaN fails every timer's log line after.
  if (Number.isNaN(next)) throw new Error(`setClock: not a time: ${at}`);
  offset = next;
}

/** Wall-clock time in an IANA time zone, from the platform's Intl data (DST-correct). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  /** 0 = Sunday. */
  weekday: number;
  /** Minutes since local midnight. */
  minutes: number;
  /** The calendar date, YYYY-MM-DD. */
  date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `zone` (an IANA zone, or an offset: "+05:30", which Node 20's Intl refuses) at `epoch`, to the minute. */
export function wallClock(epoch: number, zone: string): WallClock {
  const offset = /^([+-])(\d\d):(\d\d)$/.exec(zone);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3]);
    return wallClock(epoch + (offset[1] === "-" ? -minutes : minutes) * 60_000, "UTC");
  }
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
      // Without it, the year 0 reads as 1 (before Christ, as its era says).
      era: "short",
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(epoch).map((p) => [p.type, p.value]));
  const written = Number(parts.year);
  const year = parts.era === "BC" ? 1 - written : written;
  const [month, day] = [Number(parts.month), Number(parts.day)];
  return {
    year,
    month,
    day,
    weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday ?? ""),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    date: isoDate(utcEpoch(year, month, day)),
  };
}

/**
 * The instant a clock in UTC shows at `minutes` into a day (month 1-12; a day or minutes past the
 * last run on into the next), in the year as written, where Date.UTC reads 0-99 as 1900-1999.
 */
function utcEpoch(year: number, month: number, day: number, minutes = 0): number {
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  return at.setUTCHours(0, minutes);
}

/** Whether `zone` is an IANA time zone this platform knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The calendar date (YYYY-MM-DD) in `zone` at `epoch`. */
export function dateIn(zone: string, epoch = clock.now()): string {
  return wallClock(epoch, zone).date;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * YYYY-MM-DD names a real day (2026-02-30 does not), in any year; arithmetic, since Date costs more
 * than the call and Date.UTC reads the years 0–99 as 1900–1999.
 */
export function isCalendarDate(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day >= 1 && day <= days;
}

/** An ISO 8601 date, with or without a time of day ("T" or a space before it) and its zone: Z, +01:00, +0100 or +01. */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?)?$/i;

/**
 * An ISO 8601 date or time as epoch milliseconds, a date alone at UTC's midnight, and whether it
 * names its zone; undefined for other text, or a day or time no calendar or clock has. Counted
 * here, in any year: Date.parse reads the years 0000-0099 written with a space before the time
 * as 1950-2049, and rolls a 30th of February over into March.
 */
export function isoTime(text: string): { epoch: number; zoned: boolean } | undefined {
  const [
    ,
    year,
    month,
    day,
    hour = "0",
    minute = "0",
    second = "0",
    fraction = "",
    utc,
    sign,
    offsetHour = "0",
    offsetMinute = "0",
  ] = ISO_TIME.exec(text) ?? [];
  if (year === undefined || !isCalendarDate(text.slice(0, 10))) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  if (Number(offsetHour) > 23 || Number(offsetMinute) > 59) return undefined;
  const offset = sign ? (sign === "-" ? -1 : 1) * (Number(offsetHour) * 60 + Number(offsetMinute)) : 0;
  // Digits, not a number: 0.99999999999999999 is 1 as a number, a second later.
  const ms = Number(fraction.slice(0, 3).padEnd(3, "0"));
  const minutes = Number(hour) * 60 + Number(minute) - offset;
  const epoch = utcEpoch(Number(year), Number(month), Number(day), minutes) + Number(second) * 1000 + ms;
  return { epoch, zoned: utc !== undefined || sign !== undefined };
}

/** The weekday of a date (YYYY-MM-DD) in English: "Saturday". */
export function weekdayName(date: string): string {
  const names = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  return names[new Date(`${date}T00:00:00Z`).getUTCDay()] as string;
}

export function isoDate(epoch: number): string {
  return new Date(epoch).toISOString().slice(0, 10);
}

/** A time as a text shows it, to the minute and saying its zone: "2026-11-18 12:58 UTC". */
export function utcMinute(time: string | number): string {
  return `${new Date(time).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Minutes `zone` is ahead of UTC at `epoch`. */
export function offsetMinutes(epoch: number, zone: string): number {
  const t = wallClock(epoch, zone);
  const wall = utcEpoch(t.year, t.month, t.day, t.minutes);
  return Math.round((wall - Math.floor(epoch / 60_000) * 60_000) / 60_000);
}

/**
 * Epoch of a wall-clock time in `zone`, correct across daylight-saving changes: the earlier of
 * two when clocks go back, and, when they skipped it, the time as the clocks read it before the
 * jump, which they show as far on as they jumped (Prague's 02:30 on the night in March it jumps
 * from 02:00 to 03:00 is 03:30; Santiago's midnight in September is 01:00).
 */
export function zonedEpoch(year: number, month: number, day: number, minutes: number, zone: string): number {
  const wall = utcEpoch(year, month, day, minutes);
  const before = wall - offsetMinutes(wall - 86_400_000, zone) * 60_000;
  const after = wall - offsetMinutes(wall + 86_400_000, zone) * 60_000;
  const shows = (epoch: number) => epoch + offsetMinutes(epoch, zone) * 60_000 === wall;
  const valid = [before, after].filter(shows);
  return valid.length ? Math.min(...valid) : before;
}

/** The local midnight in `zone` that starts the day `days` after the one `epoch` falls on. */
export function midnight(zone: string, epoch: number, days = 0): number {
  const t = wallClock(epoch, zone);
  return zonedEpoch(t.year, t.month, t.day + days, 0, zone);
}

/** ISO 8601 local time with the zone's offset at that moment: 2026-11-27T14:00+01:00. */
export function localIso(epoch: number, zone: string): string {
  const offset = offsetMinutes(epoch, zone);
  const local = new Date(epoch + offset * 60_000).toISOString().slice(0, 16);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}
