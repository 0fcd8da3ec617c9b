import { afterEach, describe, expect, test } from "vitest";
import { DAY_MS, dateIn, isoDate, setClock } from "../../src/time.js";
import { PUBLICATION as CNB } from "../../tools/currency/cnb.js";
import { PUBLICATION as ECB } from "../../tools/currency/ecb.js";
import { cachePolicy, latestTtl, publishes } from "../../tools/currency/schedule.js";
import { date } from "../../tools/currency/shapes.js";

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
    // Once the day's fixing is in hand, none newer can come before the next publication: Thursday 14:30 CET.
    expect(latestTtl(CNB, "2026-11-25", at("2026-11-25T13:40:00Z"))).toBe(24 * 3600 - 10 * 60);
  });

  test("in the last minute before a publication: until its instant, not past it", () => {
    // 14:29:30 in Prague, 15:59:59.5 in Frankfurt.
    expect(latestTtl(CNB, "2026-11-26", at("2026-11-27T13:29:30Z"))).toBe(30);
    expect(latestTtl(ECB, "2026-11-26", at("2026-11-27T14:59:59.500Z"))).toBe(0.5);
    // An answer without a fixing is rechecked within minutes, and not past the instant either.
    expect(latestTtl(CNB, undefined, at("2026-11-27T13:28:00Z"))).toBe(120);
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
    // Monday morning, Friday's is the one due: kept until Monday's publication.
    expect(latestTtl(CNB, "2026-11-27", at("2026-11-30T08:00:00Z"))).toBe(5.5 * 3600);
  });

  test("on a closing day: until the next working day's publication, never asked again every few minutes", () => {
    // Good Friday 2026 evening and Easter Saturday: Thursday's is the latest until Tuesday 16:00 CEST.
    expect(latestTtl(ECB, "2026-04-02", at("2026-04-03T18:00:00Z"))).toBe((4 * 24 - 4) * 3600);
    expect(latestTtl(ECB, "2026-04-02", at("2026-04-04T08:00:00Z"))).toBe((3 * 24 + 6) * 3600);
    // 28 October, a Czech holiday: in the morning and past 14:30, until Thursday 14:30 CET.
    expect(latestTtl(CNB, "2026-10-27", at("2026-10-28T08:00:00Z"))).toBe(29.5 * 3600);
    expect(latestTtl(CNB, "2026-10-27", at("2026-10-28T15:00:00Z"))).toBe(22.5 * 3600);
    // Christmas Eve, 23:30 in Prague: the CNB next publishes on Monday the 28th.
    expect(latestTtl(CNB, "2026-12-23", at("2026-12-24T22:30:00Z"))).toBe((3 * 24 + 15) * 3600);
    // The ECB publishes on Christmas Eve and the 8th of May: its window is open then.
    expect(latestTtl(ECB, "2026-12-23", at("2026-12-24T15:10:00Z"))).toBe(300);
    expect(latestTtl(ECB, "2026-05-07", at("2026-05-08T14:10:00Z"))).toBe(300);
  });

  test("on a Saturday: until Monday", () => {
    expect(latestTtl(CNB, "2026-11-27", at("2026-11-28T12:00:00Z"))).toBe((2 * 24 + 1.5) * 3600);
  });
});

describe("each source publishes on its own calendar", () => {
  // Good Friday and Easter Monday of years with early and late Easters, from printed calendars.
  const easters = [
    ["2008-03-21", "2008-03-24"],
    ["2016-03-25", "2016-03-28"],
    ["2019-04-19", "2019-04-22"],
    ["2025-04-18", "2025-04-21"],
    ["2026-04-03", "2026-04-06"],
    ["2038-04-23", "2038-04-26"],
  ];

  test.each(easters)("neither publishes on Good Friday %s nor Easter Monday %s", (friday, monday) => {
    // Good Friday is a Czech holiday from 2016 (zákon 359/2015 Sb.).
    for (const publication of friday < "2016" ? [ECB] : [ECB, CNB]) {
      expect(publishes(publication, friday), `${publication.city} ${friday}`).toBe(false);
      expect(publishes(publication, monday), `${publication.city} ${monday}`).toBe(false);
      expect(publishes(publication, isoDate(Date.parse(friday) - DAY_MS))).toBe(true);
      expect(publishes(publication, isoDate(Date.parse(monday) + DAY_MS))).toBe(true);
    }
  });

  test("the CNB closes on the Czech holidays too, the ECB on TARGET's only", () => {
    // Weekdays all: a holiday on a weekend closes nothing more.
    const both = ["2026-01-01", "2026-05-01", "2026-12-25", "2025-12-26"];
    const czech = ["2026-05-08", "2029-07-05", "2026-07-06", "2026-09-28", "2026-10-28", "2026-11-17", "2026-12-24"];
    for (const day of both) expect([publishes(ECB, day), publishes(CNB, day)], day).toEqual([false, false]);
    for (const day of czech) expect([publishes(ECB, day), publishes(CNB, day)], day).toEqual([true, false]);
  });

  test("the CNB fixed on the days zákon 245/2000 Sb. and 359/2015 Sb. made holidays, before they were", () => {
    for (const day of ["1998-09-28", "1999-09-28", "1999-11-17", "2008-03-21", "2015-04-03"]) {
      expect(publishes(CNB, day), day).toBe(true);
    }
    for (const day of ["2000-09-28", "2000-11-17", "2016-03-25"]) expect(publishes(CNB, day), day).toBe(false);
  });

  test("the CNB closed on Liberation Day, 9 May in 1991 and 8 May from 1992", () => {
    expect(publishes(CNB, "1991-05-08")).toBe(true);
    for (const day of ["1991-05-09", "1992-05-08"]) expect(publishes(CNB, day), day).toBe(false);
  });

  test("in 1999 TARGET closed on 1 January, 25 and 31 December only: the ECB fixed on Good Friday and Easter Monday", () => {
    for (const day of ["1999-04-02", "1999-04-05"]) expect(publishes(ECB, day), day).toBe(true);
    for (const day of ["1999-01-01", "1999-12-31", "2000-04-21", "2000-04-24", "2000-05-01", "2000-12-26"]) {
      expect(publishes(ECB, day), day).toBe(false);
    }
  });

  test("TARGET closed on 31 December 1999 and 2001 only: the ECB fixed none then, and did on 29 December 2000", () => {
    for (const day of ["1999-12-31", "2001-12-31"]) expect(publishes(ECB, day), day).toBe(false);
    for (const day of ["1999-12-30", "2000-12-29", "2001-12-28", "2002-12-31", "2026-12-31"]) {
      expect(publishes(ECB, day), day).toBe(true);
    }
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
