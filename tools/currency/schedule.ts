import { clock, DAY_MS, dateIn, isoDate, type WallClock, wallClock, zonedEpoch } from "../../src/time.js";

/** When a source publishes its daily fixing: working days (Mon-Fri) at a local time. */
export interface Publication {
  zone: string;
  hour: number;
  minute: number;
  /** Where, and when in words, for messages: "Prague", "after 14:30 Prague time". */
  city: string;
  when: string;
}

/** A published fixing never changes; a month in memory is plenty. */
const PAST_TTL = 30 * 24 * 3600;

/**
 * Whether a fixing asked for by date is final (its date is before today where it is published),
 * and how long to cache an answer: long when final, else as `latestTtl` says for the date
 * `dated` reads off the answer. That wait is worked out in the publisher's time zone, which costs
 * more than a cached answer: it is a function, asked only when an answer is kept.
 */
export function cachePolicy<T>(
  publication: Publication,
  date: string | undefined,
  dated: (answer: T) => string | undefined,
): { final: boolean; ttl: number | ((answer: T) => number) } {
  const final = date !== undefined && dayOver(publication, date);
  return { final, ttl: final ? PAST_TTL : (answer) => latestTtl(publication, dated(answer)) };
}

/** Whether the day `date` is over where `publication` is made: its fixing, if it has one, is out. */
export function dayOver(publication: Publication, date: string): boolean {
  // A day that ended a day ago in UTC has ended in every time zone; only the last two ask the zone.
  return Date.parse(date) + 2 * DAY_MS <= clock.now() || date < dateIn(publication.zone);
}

/** While a publication is due but may not have reached the API yet, "latest" is rechecked this often. */
const WINDOW_MINUTES = 90;
const WINDOW_TTL_SECONDS = 300;

/**
 * How long, in seconds, an answer whose newest fixing is of `answered` may be cached as the
 * latest: until the next publication is due, and only a few minutes at a time while a due
 * publication may still be on its way, or while today's is late (the answer is older than the
 * fixing due today, or has none). A day that ended without its fixing was a holiday: its answer
 * is kept until the next publication is due, not asked for again every few minutes.
 */
export function latestTtl(publication: Publication, answered: string | undefined, now = clock.now()): number {
  const due = publication.hour * 60 + publication.minute;
  const local = wallClock(now, publication.zone);
  const dueDate = lastDue(local, due);
  const late = answered !== undefined && answered < dueDate && dueDate === local.date;
  if (answered === undefined || late) return WINDOW_TTL_SECONDS;
  const nextDue = nextDueAt(publication, local, due);
  return nextDue === undefined ? WINDOW_TTL_SECONDS : Math.max(60, Math.round((nextDue - now) / 1000));
}

/** Whether a weekday (0 Sunday … 6 Saturday) is one the sources publish on. */
export const working = (weekday: number) => weekday >= 1 && weekday <= 5;

/** The date of the last fixing due by `local` time: today's once its time has passed, else the working day before. */
function lastDue(local: WallClock, due: number): string {
  let offset = working(local.weekday) && local.minutes >= due ? 0 : -1;
  while (!working((local.weekday + offset + 7) % 7)) offset -= 1;
  return isoDate(Date.UTC(local.year, local.month - 1, local.day + offset));
}

/** When the next publication is due, or undefined while one is due and may be on its way. */
function nextDueAt(publication: Publication, local: WallClock, due: number): number | undefined {
  if (working(local.weekday) && local.minutes >= due && local.minutes < due + WINDOW_MINUTES) return undefined;
  let offset = working(local.weekday) && local.minutes < due ? 0 : 1;
  while (!working((local.weekday + offset) % 7)) offset += 1;
  const next = new Date(Date.UTC(local.year, local.month - 1, local.day + offset));
  return zonedEpoch(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), due, publication.zone);
}
