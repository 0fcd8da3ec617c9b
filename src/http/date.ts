import { clock } from "../time.js";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete "Sunday, 06-Nov-94 08:49:37 GMT". */
const FIXDATE =
  /^[a-z]+, (?<day>\d{1,2})[ -](?<month>[a-z]{3})[ -](?<year>\d{4}|\d{2}) (?<hour>\d{2}):(?<minute>\d{2}):(?<second>\d{2}) GMT$/i;
/** asctime's "Sun Nov  6 08:49:37 1994". */
const ASCTIME =
  /^[a-z]{3} (?<month>[a-z]{3}) (?<day> \d|\d{2}) (?<hour>\d{2}):(?<minute>\d{2}):(?<second>\d{2}) (?<year>\d{4})$/i;

/**
 * Epoch milliseconds of an HTTP-date (RFC 9110 §5.6.7) in any of its three forms, each in UTC;
 * undefined for anything else. Date.parse reads asctime's form in the machine's time zone, and
 * takes other text, such as "1.5", for a date.
 */
export function httpDate(text: string, now = clock.now()): number | undefined {
  const value = text.trim();
  const { day, month, year, hour, minute, second } = (FIXDATE.exec(value) ?? ASCTIME.exec(value))?.groups ?? {};
  const monthIndex = MONTHS.indexOf(month?.toLowerCase() ?? "");
  if (monthIndex < 0 || year === undefined) return undefined;
  let fullYear = Number(year);
  if (year.length === 2) {
    // A two-digit year more than 50 years ahead is the latest past year that ends so.
    const thisYear = new Date(now).getUTCFullYear();
    fullYear += thisYear - (thisYear % 100);
    if (fullYear > thisYear + 50) fullYear -= 100;
  }
  const at = Date.UTC(fullYear, monthIndex, Number(day), Number(hour), Number(minute));
  // Date.UTC rolls a 32nd of December or a 24th hour over into the next; such text names no instant.
  const read = new Date(at);
  const inRange = read.getUTCDate() === Number(day) && read.getUTCHours() === Number(hour) && Number(second) <= 60;
  return inRange && read.getUTCMinutes() === Number(minute) ? at + Number(second) * 1000 : undefined;
}
