import { expect, test } from "vitest";
import { httpDate } from "../../src/http/date.js";
import { freshSeconds } from "../../src/http/freshness.js";
import { retryAfterMs } from "../../src/http/retry.js";

const now = Date.UTC(2026, 11, 2, 10, 0, 0);

/** Runs `check` with the process in a zone an hour ahead of UTC, where reading a date in local time shows. */
function inPrague(check: () => void): void {
  const zone = process.env.TZ;
  process.env.TZ = "Europe/Prague";
  try {
    check();
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
}

test.each(["Wed, 02 Dec 2026 10:02:00 GMT", "Wednesday, 02-Dec-26 10:02:00 GMT", "Wed Dec  2 10:02:00 2026"])(
  "%s is two minutes past 10:00 UTC in any time zone, as a Retry-After and as an Expires",
  (date) => {
    inPrague(() => {
      expect(httpDate(date, now)).toBe(now + 120_000);
      expect(retryAfterMs({ "retry-after": date }, now)).toBe(120_000);
      expect(freshSeconds({ expires: date, date: "Wed, 02 Dec 2026 10:00:00 GMT" }, now)).toBe(120);
    });
  },
);

test("a Retry-After date counts from the answer's Date, and its Age where a cache kept it, not from this machine's clock", () => {
  const answer = { "retry-after": "Wed, 02 Dec 2026 10:05:00 GMT", date: "Wed, 02 Dec 2026 09:00:00 GMT" };
  expect(retryAfterMs(answer, now)).toBe(3_900_000);
  expect(retryAfterMs({ ...answer, age: "3840" }, now)).toBe(60_000);
  expect(retryAfterMs({ ...answer, date: "not a date" }, now)).toBe(300_000);
});

test.each(["1.5", "0.5", "-1", "soon", "2026-12-02T10:02:00Z", "Wed, 02 Dec 2026 10:02:00 CET"])(
  "a Retry-After of %j is neither delay-seconds nor an HTTP date: it is ignored",
  (value) => {
    expect(retryAfterMs({ "retry-after": value }, now)).toBeUndefined();
  },
);

test("a two-digit year is the one within 50 years ahead, else the century before", () => {
  expect(httpDate("Wednesday, 01-Jan-70 00:00:00 GMT", now)).toBe(Date.UTC(2070, 0, 1));
  expect(httpDate("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
});

test.each([
  "Thu, 32 Dec 2026 10:02:00 GMT",
  "Wed, 02 Dec 2026 24:00:00 GMT",
  "Mon, 30 Feb 2026 10:00:00 GMT",
  "Wed Dec  2 10:61:00 2026",
])("%s names no instant: it is no date, not one rolled over into the next day or month", (value) => {
  expect(httpDate(value, now)).toBeUndefined();
});
