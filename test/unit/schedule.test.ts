import { describe, expect, test } from "vitest";
import { dateIn } from "../../src/time.js";
import { latestTtl } from "../../tools/currency/schedule.js";

const ECB = { zone: "Europe/Berlin", hour: 16, minute: 0 };
const CNB = { zone: "Europe/Prague", hour: 14, minute: 30 };
const at = (iso: string) => Date.parse(iso);

describe("how long the latest fixing is cached", () => {
  test("on a working morning: until the afternoon publication", () => {
    // 09:00 CET is 08:00 UTC; 16:00 CET is 15:00 UTC.
    expect(latestTtl(ECB, at("2026-11-25T08:00:00Z"))).toBe(7 * 3600);
  });

  test("after Friday's publication window: until Monday's", () => {
    expect(latestTtl(ECB, at("2026-11-27T17:00:00Z"))).toBe((2 * 24 + 22) * 3600);
  });

  test("while a publication is due: a few minutes at a time", () => {
    expect(latestTtl(CNB, at("2026-11-25T13:40:00Z"))).toBe(300);
    expect(latestTtl(CNB, at("2026-11-25T14:59:00Z"))).toBe(300);
  });

  test("across the switch to summer time", () => {
    // Friday 18:00 CET (17:00 UTC) to Monday 16:00 CEST (14:00 UTC).
    expect(latestTtl(ECB, at("2026-03-27T17:00:00Z"))).toBe((2 * 24 + 21) * 3600);
  });

  test("on a Saturday: until Monday", () => {
    expect(latestTtl(CNB, at("2026-11-28T12:00:00Z"))).toBe((2 * 24 + 1.5) * 3600);
  });
});

test("the calendar date is the zone's, not UTC's", () => {
  expect(dateIn("Europe/Prague", at("2026-11-27T23:30:00Z"))).toBe("2026-11-28");
  expect(dateIn("Europe/Prague", at("2026-11-27T22:30:00Z"))).toBe("2026-11-27");
});
