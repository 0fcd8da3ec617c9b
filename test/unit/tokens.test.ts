import { expect, test } from "vitest";
import { rateLimit } from "../../src/transports/tokens.js";

test("a rate bucket left alone until it is full again is dropped; one still filling is kept", () => {
  let now = Date.parse("2026-11-30T09:00:00Z");
  const rate = rateLimit(60, () => now);
  // A thousand OAuth users call once each.
  for (let user = 0; user < 1000; user++) expect(rate.take(`oauth:user-${user}`)).toBeUndefined();
  expect(rate.size).toBe(1000);
  // Five seconds on, one user drains its bucket: a burst is ten at 60 a minute.
  now += 5_000;
  for (let i = 0; i < 10; i++) expect(rate.take("oauth:busy")).toBeUndefined();
  expect(rate.take("oauth:busy")).toBe(1);

  // Ten seconds after their calls the thousand buckets are full again, and go; the busy one,
  // five seconds into filling, stays, with the five calls it has earned since.
  now += 5_000;
  expect(rate.take("oauth:other")).toBeUndefined();
  expect(rate.size).toBe(2);
  for (let i = 0; i < 5; i++) expect(rate.take("oauth:busy")).toBeUndefined();
  expect(rate.take("oauth:busy")).toBe(1);
});

test("a clock set back (NTP correcting one that ran ahead) takes nothing from a bucket: the token may call at once", () => {
  let now = Date.parse("2026-11-30T09:00:00Z");
  const rate = rateLimit(60, () => now);
  expect(rate.take("ops")).toBeUndefined();
  now -= 3_600_000;
  expect(rate.take("ops")).toBeUndefined();
  // Its bucket fills from the new time on, at the rate.
  for (let i = 0; i < 8; i++) expect(rate.take("ops")).toBeUndefined();
  expect(rate.take("ops")).toBe(1);
  now += 1_000;
  expect(rate.take("ops")).toBeUndefined();
});

test("what a batch owes is kept until paid: a sweep of full buckets does not forgive it", () => {
  let now = Date.parse("2026-11-30T09:00:00Z");
  const rate = rateLimit(60, () => now);
  expect(rate.take("ops")).toBeUndefined();
  rate.owe("ops", 99);
  // 90 calls owed at one a second: the sweep ten seconds on, and twenty, keeps the bucket.
  now += 10_000;
  expect(rate.take("other")).toBeUndefined();
  now += 10_000;
  expect(rate.take("other")).toBeUndefined();
  expect(rate.take("ops")).toBe(71);
  now += 71_000;
  expect(rate.take("ops")).toBeUndefined();
});
