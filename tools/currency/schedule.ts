/** When a source publishes its daily fixing: working days (Mon-Fri) at a local time. */
export interface Publication {
  zone: string;
  hour: number;
  minute: number;
}

/** A published fixing never changes; a month in memory is plenty. */
const PAST_TTL = 30 * 24 * 3600;

/**
 * Whether a fixing asked for by date is final (its date is before today where it is published),
 * and how long to cache the answer: long when final, else until the next publication is due.
 */
export function cachePolicy(publication: Publication, date: string | undefined): { final: boolean; ttl: number } {
  const final = date !== undefined && date < dateIn(publication.zone);
  return { final, ttl: final ? PAST_TTL : latestTtl(publication) };
}

/** While a publication is due but may not have reached the API yet, "latest" is rechecked this often. */
const WINDOW_MINUTES = 90;
const WINDOW_TTL_SECONDS = 300;

interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Formatting is slow next to a cached tool call; the answer only changes once a minute. */
const lastMinute = new Map<string, { minute: number; time: LocalTime }>();

function localTime(epoch: number, zone: string): LocalTime {
  const minute = Math.floor(epoch / 60_000);
  const last = lastMinute.get(zone);
  if (last?.minute === minute) return last.time;
  const time = formatLocalTime(epoch, zone);
  lastMinute.set(zone, { minute, time });
  return time;
}

function formatLocalTime(epoch: number, zone: string): LocalTime {
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
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(epoch).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday ?? ""),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** The calendar date (YYYY-MM-DD) in `zone` at `epoch`. */
export function dateIn(zone: string, epoch = Date.now()): string {
  const t = localTime(epoch, zone);
  return isoDate(Date.UTC(t.year, t.month - 1, t.day));
}

export function isoDate(epoch: number): string {
  return new Date(epoch).toISOString().slice(0, 10);
}

/** Epoch of a wall-clock time in `zone`, correct across daylight-saving changes. */
function zonedEpoch(year: number, month: number, day: number, minutes: number, zone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  const offsetAt = (epoch: number) => {
    const t = formatLocalTime(epoch, zone);
    return Date.UTC(t.year, t.month - 1, t.day, 0, t.minutes) - epoch;
  };
  const guess = wall - offsetAt(wall);
  return wall - offsetAt(guess);
}

/**
 * How long, in seconds, the "latest" fixing may be cached: until the next publication is
 * due, and only a few minutes at a time while a due publication may still be on its way.
 */
export function latestTtl(publication: Publication, now = Date.now()): number {
  const due = publication.hour * 60 + publication.minute;
  const local = localTime(now, publication.zone);
  const working = (weekday: number) => weekday >= 1 && weekday <= 5;
  if (working(local.weekday) && local.minutes >= due && local.minutes < due + WINDOW_MINUTES) {
    return WINDOW_TTL_SECONDS;
  }
  let offset = working(local.weekday) && local.minutes < due ? 0 : 1;
  while (!working((local.weekday + offset) % 7)) offset += 1;
  const next = new Date(Date.UTC(local.year, local.month - 1, local.day + offset));
  const nextDue = zonedEpoch(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), due, publication.zone);
  return Math.max(60, Math.round((nextDue - now) / 1000));
}
