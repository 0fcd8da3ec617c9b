import { clock, DAY_MS, dateIn, isoDate, type WallClock, wallClock, zonedEpoch } from "../../src/time.js";

/** When a source publishes its daily fixing: its working days at a local time. */
export interface Publication {
  zone: string;
  hour: number;
  minute: number;
  /** Where, and when in words, for messages: "Prague", "after 14:30 Prague time". */
  city: string;
  when: string;
  /** What one of its closing days is called, for messages: "TARGET closing day". */
  holiday: string;
  /**
   * Its closing days in a year: dates fixed in the year (MM-DD), or of one year only (YYYY-MM-DD),
   * and days counted from Easter Sunday (-2 is Good Friday).
   */
  closed: (year: number) => { dates: string[]; fromEaster: number[] };
}

/** A published fixing never changes; a month in memory is plenty. */
const PAST_TTL = 30 * 24 * 3600;

/**
 * Whether a fixing asked for by date is final (its date is before today where it is published),
 * and how long to cache an answer: long when final, else as `latestTtl` says for the date
 * `dated` reads off the answer. A final answer older than the fixing the calendar gives its date
 * (Friday's for Monday, from an upstream that has not taken Monday's in yet) is kept as the latest
 * would be, until the next publication is due, not a month. That wait is worked out in the
 * publisher's time zone, which costs more than a cached answer: it is a function, asked only when
 * an answer is kept.
 */
export function cachePolicy<T>(
  publication: Publication,
  date: string | undefined,
  dated: (answer: T) => string | undefined,
): { final: boolean; ttl: (answer: T, now: number) => number } {
  const final = date !== undefined && dayOver(publication, date);
  return {
    final,
    ttl: (answer, now) => {
      const day = dated(answer);
      if (final && day !== undefined && day >= lastWorkingDay(publication, date)) return PAST_TTL;
      return latestTtl(publication, day, now);
    },
  };
}

/** Whether the day `date` is over where `publication` is made: its fixing, if it has one, is out. */
export function dayOver(publication: Publication, date: string): boolean {
  // A day that ended a day ago in UTC has ended in every time zone; only the last two ask the zone.
  return Date.parse(date) + 2 * DAY_MS <= clock.now() || date < dateIn(publication.zone);
}

/** Whether the fixing of `date` is due by now: its day is over where it is published, or its time today has passed. */
export function dueBy(publication: Publication, date: string): boolean {
  const local = wallClock(clock.now(), publication.zone);
  return date < local.date || (date === local.date && local.minutes >= publication.hour * 60 + publication.minute);
}

/** While a publication due today has not reached the API yet, "latest" is rechecked this often. */
const LATE_TTL_SECONDS = 300;

/**
 * How long, in seconds, an answer whose newest fixing is of `answered` may be cached as the
 * latest: until the next publication is due, and only a few minutes at a time while today's is
 * on its way or late (the answer is older than the fixing due today, or has none). An answer that
 * has today's fixing is kept until the next is due: no newer one can come before. No fixing is due
 * on the source's closing days; a day that ended without its fixing all the same was a closing day
 * too: its answer is kept until the next publication is due, not asked for again every few minutes.
 * Never past that instant, to the millisecond: an answer kept from a second before it would say
 * the new fixing is not out yet.
 */
export function latestTtl(publication: Publication, answered: string | undefined, now = clock.now()): number {
  const due = publication.hour * 60 + publication.minute;
  const local = wallClock(now, publication.zone);
  const dueDate = lastDue(publication, local, due);
  const late = answered !== undefined && answered < dueDate && dueDate === local.date;
  const untilNext = (nextDueAt(publication, local, due) - now) / 1000;
  return answered === undefined || late ? Math.min(LATE_TTL_SECONDS, untilNext) : untilNext;
}

/** Whether the source publishes a fixing on `date` (YYYY-MM-DD, its local date): a weekday it is open. */
export function publishes({ closed }: Publication, date: string): boolean {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  const year = Number(date.slice(0, 4));
  const { dates, fromEaster } = closed(year);
  if (weekday === 0 || weekday === 6 || dates.includes(date.slice(5)) || dates.includes(date)) return false;
  return !fromEaster.includes((Date.parse(date) - easterSunday(year)) / DAY_MS);
}

/** Easter Sunday of a Gregorian year, as its UTC midnight: the Anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const g = Math.floor((b - Math.floor((b + 8) / 25) + 1) / 3);
  const h = (19 * a + b - Math.floor(b / 4) - g + 15) % 30;
  const l = (32 + 2 * (b % 4) + 2 * Math.floor(c / 4) - h - (c % 4)) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const n = h + l - 7 * m + 114;
  return Date.UTC(year, Math.floor(n / 31) - 1, (n % 31) + 1);
}

/** The local date `days` after `local`'s. */
const dayAfter = (local: WallClock, days: number) => isoDate(Date.UTC(local.year, local.month - 1, local.day + days));

/** The last date on or before `date` the source publishes on: the day of the fixing that stands for `date`. */
export function lastWorkingDay(publication: Publication, date: string): string {
  let day = date;
  while (!publishes(publication, day)) day = isoDate(Date.parse(day) - DAY_MS);
  return day;
}

/**
 * The dates whose fixing is the one of `day`, a working day: its own, and the days without a fixing
 * after it, up to the next working day (Friday's stands for Saturday and Sunday too).
 */
export function datesStoodFor(publication: Publication, day: string): string[] {
  const dates = [day];
  for (let next = isoDate(Date.parse(day) + DAY_MS); !publishes(publication, next); ) {
    dates.push(next);
    next = isoDate(Date.parse(next) + DAY_MS);
  }
  return dates;
}

/**
 * The date of the fixing that stands for `date` (Friday's for a Sunday), or without a date, of the
 * newest one due by now: the fixing a kept answer must have to answer for it. A date whose fixing is
 * still to come (today's before the publication) is answered with the newest one due, as the latest is.
 */
export function fixingDay(publication: Publication, date: string | undefined): string {
  const newest = newestDue(publication);
  if (date === undefined) return newest;
  const standing = lastWorkingDay(publication, date);
  return standing < newest ? standing : newest;
}

/** Each source's newest fixing due, and the span of time it stays so: from when it was read until the next is due. */
const newestKnown = new Map<Publication, { date: string; from: number; until: number }>();

/**
 * The date of the newest fixing due by now. The latest's every answer, cached too, asks it; it is
 * worked out in the publisher's time zone only once until the next publication is due.
 */
function newestDue(publication: Publication): string {
  const now = clock.now();
  const known = newestKnown.get(publication);
  if (known && known.from <= now && now < known.until) return known.date;
  const local = wallClock(now, publication.zone);
  const due = publication.hour * 60 + publication.minute;
  const date = lastDue(publication, local, due);
  newestKnown.set(publication, { date, from: now, until: nextDueAt(publication, local, due) });
  return date;
}

/** The date of the last fixing due by `local` time: today's once its time has passed, else the working day before. */
function lastDue(publication: Publication, local: WallClock, due: number): string {
  return lastWorkingDay(publication, dayAfter(local, local.minutes >= due ? 0 : -1));
}

/** When the next publication is due: today's, before its time, or the next working day's. */
function nextDueAt(publication: Publication, local: WallClock, due: number): number {
  let offset = local.minutes < due ? 0 : 1;
  while (!publishes(publication, dayAfter(local, offset))) offset += 1;
  return zonedEpoch(local.year, local.month, local.day + offset, due, publication.zone);
}
