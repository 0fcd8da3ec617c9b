import { afterEach, describe, expect, test } from "vitest";
import { dateIn, setClock } from "../../src/time.js";
import { cachePolicy, latestTtl } from "../../tools/currency/schedule.js";
import { date } from "../../tools/currency/shapes.js";

const ECB = { zone: "Europe/Berlin", hour: 16, minute: 0, city: "Frankfurt", when: "around 16:00 Frankfurt time" };
const CNB = { zone: "Europe/Prague", hour: 14, minute: 30, city: "Prague", when: "after 14:30 Prague time" };
const at = (iso: string) => Date.parse(iso);
const undated = () => undefined;

describe("how long the latest fixing is cached", () => {
  test("on a working morning: until the afternoon publication", () => {
    // 09:00 CET is 08:00 UTC; 16:00 CET is 15:00 UTC.
    expect(latestTtl(ECB, "2026-11-24", at("2026-11-25T08:00:00Z"))).toBe(7 * 3600);
  });

  test("after Friday's publication window: until Monday's", () => {
    expect(latestTtl(ECB, "2026-11-27", at("2026-11-27T17:00:00Z"))).toBe((2 * 24 + 22) * 3600);
  });

  test("while a publication is due: a few minutes at a time", () => {
    expect(latestTtl(CNB, "2026-11-24", at("2026-11-25T13:40:00Z"))).toBe(300);
    expect(latestTtl(CNB, "2026-11-24", at("2026-11-25T14:59:00Z"))).toBe(300);
  });

  test("across the switch to summer time", () => {
    // Friday 18:00 CET (17:00 UTC) to Monday 16:00 CEST (14:00 UTC).
    expect(latestTtl(ECB, "2026-03-27", at("2026-03-27T17:00:00Z"))).toBe((2 * 24 + 21) * 3600);
  });

  test("a late publication: an answer older than the fixing due is asked again within minutes", () => {
    // Friday 17:35 in Frankfurt, past the window, and the API still has Thursday's fixing.
    expect(latestTtl(ECB, "2026-11-26", at("2026-11-27T16:35:00Z"))).toBe(300);
    expect(latestTtl(ECB, "2026-11-26", at("2026-11-27T22:50:00Z"))).toBe(300);
    expect(latestTtl(ECB, undefined, at("2026-11-28T12:00:00Z"))).toBe(300);
    // Saturday, and Friday's never came: a holiday, so kept until Monday's is due, not asked for
    // every five minutes all weekend.
    expect(latestTtl(ECB, "2026-11-26", at("2026-11-28T12:00:00Z"))).toBe((2 * 24 + 3) * 3600);
    // Good Friday 2026, no fixing: re-asked that evening, then kept over Easter Saturday and Sunday.
    expect(latestTtl(ECB, "2026-04-02", at("2026-04-03T18:00:00Z"))).toBe(300);
    expect(latestTtl(ECB, "2026-04-02", at("2026-04-04T08:00:00Z"))).toBe((2 * 24 + 6) * 3600);
    // Monday morning, Friday's is the one due: kept until Monday's publication.
    expect(latestTtl(CNB, "2026-11-27", at("2026-11-30T08:00:00Z"))).toBe(5.5 * 3600);
  });

  test("on a Saturday: until Monday", () => {
    expect(latestTtl(CNB, "2026-11-27", at("2026-11-28T12:00:00Z"))).toBe((2 * 24 + 1.5) * 3600);
  });
});

test("the calendar date is the zone's, not UTC's", () => {
  expect(dateIn("Europe/Prague", at("2026-11-27T23:30:00Z"))).toBe("2026-11-28");
  expect(dateIn("Europe/Prague", at("2026-11-27T22:30:00Z"))).toBe("2026-11-27");
});

describe("a fixing asked for by date is final once its day is over where it is published", () => {
  afterEach(() => setClock());

  test("the day before yesterday in UTC always is; yesterday only once Prague's day has turned", () => {
    setClock("2026-11-27T22:30:00Z"); // 23:30 in Prague, still the 27th
    expect(cachePolicy(CNB, "2026-11-25", undated).final).toBe(true);
    expect(cachePolicy(CNB, "2026-11-26", undated).final).toBe(true);
    expect(cachePolicy(CNB, "2026-11-27", undated).final).toBe(false);
    setClock("2026-11-27T23:30:00Z"); // 00:30 on the 28th in Prague
    expect(cachePolicy(CNB, "2026-11-27", undated).final).toBe(true);
    expect(cachePolicy(CNB, "2026-11-28", undated).final).toBe(false);
  });

  test("at midnight UTC", () => {
    setClock("2026-11-28T00:00:00Z");
    expect(cachePolicy(ECB, "2026-11-26", undated).final).toBe(true);
    expect(cachePolicy(ECB, "2026-11-27", undated).final).toBe(true);
    expect(cachePolicy(ECB, "2026-11-28", undated).final).toBe(false);
    expect(cachePolicy(ECB, undefined, undated).final).toBe(false);
  });
});

describe("a date argument may be today anywhere on Earth, not later", () => {
  afterEach(() => setClock());

  test("in UTC+14 the next day begins at 10:00 UTC", () => {
    setClock("2026-11-30T09:59:59Z");
    expect(date.safeParse("2026-11-30").success).toBe(true);
    expect(date.safeParse("2026-12-01").success).toBe(false);
    setClock("2026-11-30T10:00:00Z");
    expect(date.safeParse("2026-12-01").success).toBe(true);
    expect(date.safeParse("2026-12-02").success).toBe(false);
  });
});
