import { expect, test } from "vitest";
import { AnswerCache, KEEPING_BYTES } from "../../src/http/cache.js";
import { setClock } from "../../src/time.js";

test("the cache's bound counts what keeping each answer costs besides its text: the least recently used go first", () => {
  setClock("2026-11-30T08:00:00Z");
  // Room for ten answers of 500 characters by their text alone, and for four with what keeping each costs.
  const cache = new AnswerCache(4 * (500 + KEEPING_BYTES) + 100);
  const keys = Array.from({ length: 10 }, (_, i) => `https://api.example/rates/${i}`);
  for (const key of keys) cache.keep(key, { key }, 500, { "cache-control": "max-age=600" });
  expect(keys.map((key) => cache.get(key) !== undefined)).toEqual([...Array(6).fill(false), ...Array(4).fill(true)]);
});

test("an answer whose Expires comes without a Date stays fresh until that instant, counted from when it is kept", () => {
  setClock("2026-11-30T08:00:00Z");
  const cache = new AnswerCache(10_000);
  const keptFrom = Date.parse("2026-11-30T07:59:55Z");
  cache.keep(
    "https://api.example/forecast",
    {},
    10,
    { expires: "Mon, 30 Nov 2026 08:01:00 GMT" },
    undefined,
    undefined,
    keptFrom,
  );
  expect(cache.get("https://api.example/forecast")?.staleAt).toBe(Date.parse("2026-11-30T08:01:00Z"));
});
