import { expect, test } from "vitest";
import { freshSeconds } from "../../src/http/freshness.js";

test.each([
  [{ "cache-control": "public, max-age=86400" }, 86400],
  [{ "cache-control": "max-age=600", age: "100" }, 500],
  [{ "cache-control": "max-age=60, no-store" }, 0],
  [{ "cache-control": "no-cache" }, 0],
  [{ expires: "Fri, 27 Nov 2026 12:10:00 GMT", date: "Fri, 27 Nov 2026 12:00:00 GMT" }, 600],
  // A cache in front (MET Norway's Varnish) kept it 300 s of those 600: Age counts against Expires too.
  [{ expires: "Fri, 27 Nov 2026 12:10:00 GMT", date: "Fri, 27 Nov 2026 12:00:00 GMT", age: "300" }, 300],
  [{ expires: "Fri, 27 Nov 2026 12:10:00 GMT", date: "Fri, 27 Nov 2026 12:00:00 GMT", age: "900" }, 0],
  [{ expires: "0" }, 0],
  [{}, 0],
])("%j is fresh for %d s", (headers, seconds) => {
  expect(freshSeconds(headers)).toBe(seconds);
});
