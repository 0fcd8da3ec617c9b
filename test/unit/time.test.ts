import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import {
  clock,
  isoTime,
  isTimeZone,
  localIso,
  midnight,
  offsetMinutes,
  setClock,
  wallClock,
  zonedEpoch,
} from "../../src/time.js";

test("local ISO times carry the zone's offset of that moment, across daylight-saving changes", () => {
  expect(localIso(Date.parse("2026-11-27T13:00:00Z"), "Europe/Prague")).toBe("2026-11-27T14:00+01:00");
  expect(localIso(Date.parse("2026-07-01T13:00:00Z"), "Europe/Prague")).toBe("2026-07-01T15:00+02:00");
  expect(localIso(Date.parse("2026-11-27T13:00:00Z"), "America/St_Johns")).toBe("2026-11-27T09:30-03:30");
  expect(localIso(Date.parse("2026-11-27T23:30:00Z"), "Asia/Kathmandu")).toBe("2026-11-28T05:15+05:45");
  expect(localIso(Date.parse("2026-11-27T13:00:00Z"), "UTC")).toBe("2026-11-27T13:00+00:00");
});

test("a local midnight is found on the days clocks change", () => {
  expect(offsetMinutes(Date.parse("2026-03-29T00:30:00Z"), "Europe/Prague")).toBe(60);
  expect(offsetMinutes(Date.parse("2026-03-29T01:30:00Z"), "Europe/Prague")).toBe(120);
  expect(new Date(zonedEpoch(2026, 3, 29, 0, "Europe/Prague")).toISOString()).toBe("2026-03-28T23:00:00.000Z");
  expect(new Date(zonedEpoch(2026, 3, 30, 0, "Europe/Prague")).toISOString()).toBe("2026-03-29T22:00:00.000Z");
  expect(new Date(zonedEpoch(2026, 11, 28, 0, "Pacific/Auckland")).toISOString()).toBe("2026-11-27T11:00:00.000Z");
  // Where clocks skip midnight itself, the day starts at 01:00.
  expect(localIso(zonedEpoch(2026, 9, 6, 0, "America/Santiago"), "America/Santiago")).toBe("2026-09-06T01:00-03:00");
  expect(localIso(zonedEpoch(2026, 3, 8, 0, "America/Havana"), "America/Havana")).toBe("2026-03-08T01:00-04:00");
  // A time inside the hour skipped is as far on as the clocks jumped: not the 03:00 they jumped to.
  expect(localIso(zonedEpoch(2026, 3, 29, 150, "Europe/Prague"), "Europe/Prague")).toBe("2026-03-29T03:30+02:00");
  // Where they go back, a repeated time means its first occurrence.
  expect(localIso(zonedEpoch(2026, 10, 25, 150, "Europe/Prague"), "Europe/Prague")).toBe("2026-10-25T02:30+02:00");
});

test("the midnight that starts a day some days on, in the zone's own calendar", () => {
  const evening = Date.parse("2026-11-27T23:30:00Z"); // already the 28th in Prague
  expect(localIso(midnight("Europe/Prague", evening), "Europe/Prague")).toBe("2026-11-28T00:00+01:00");
  expect(localIso(midnight("Europe/Prague", evening, 2), "Europe/Prague")).toBe("2026-11-30T00:00+01:00");
  expect(localIso(midnight("America/Santiago", Date.parse("2026-09-05T12:00:00Z"), 1), "America/Santiago")).toBe(
    "2026-09-06T01:00-03:00",
  );
});

test("time zones are checked against the platform's data", () => {
  expect(isTimeZone("Europe/Prague")).toBe(true);
  expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
});

test("the clock can be put at an instant, runs on from there, and goes back to real time", async () => {
  setClock("2026-03-29T00:59:59.900Z");
  expect(clock.now()).toBeGreaterThanOrEqual(Date.parse("2026-03-29T00:59:59.900Z"));
  await new Promise((resolve) => setTimeout(resolve, 150));
  expect(offsetMinutes(clock.now(), "Europe/Prague")).toBe(120);
  setClock();
  expect(Math.abs(clock.now() - Date.now())).toBeLessThan(5);
  expect(() => setClock("not a time")).toThrow(/not a time/);
  // Refused, it leaves the clock as it was.
  expect(Math.abs(clock.now() - Date.now())).toBeLessThan(5);
});

/** Whether a line of code reads the wall clock, called there or handed on uncalled ({ now: Date.now }). */
function readsWallClock(line: string): boolean {
  return /Date\.now\b|new Date\(\)|(?<![\w.])Date\(\)|performance\.now\b|process\.hrtime/.test(line);
}

test("a line that reads the wall clock is told, whether it calls it or hands it on", () => {
  for (const line of [
    "const at = Date.now();",
    "const started = new Date();",
    "const text = Date();",
    "const t = performance.now();",
    "const t = process.hrtime.bigint();",
    "const timer = { now: Date.now };",
    "const now = performance.now.bind(performance);",
  ]) {
    expect(readsWallClock(line), line).toBe(true);
  }
  for (const line of ["const at = clock.now();", "new Date(clock.now())", "Date.parse(text)", "const nowish = 1;"]) {
    expect(readsWallClock(line), line).toBe(false);
  }
});

test("nothing in waiter or its fakes reads the time but through the clock", () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const offenders: string[] = [];
  for (const dir of ["src", "tools", "test/fakes"]) {
    for (const file of readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts") || join(dir, file) === join("src", "time.ts")) continue;
      const lines = readFileSync(join(root, dir, file), "utf8").split("\n");
      for (const [i, line] of lines.entries()) {
        // A fake's page may hold a script for the browser (Wordfence's writes the reader's time): not run here.
        if (readsWallClock(line.replace(/<script\b.*?<\/script>/g, ""))) {
          offenders.push(`${join(dir, file)}:${i + 1}: ${line.trim()}`);
        }
      }
    }
  }
  expect(
    offenders,
    "these read the wall clock: ask clock.now() of src/time.ts instead (new Date(clock.now()) for a Date), so tests can set the time",
  ).toEqual([]);
});

test("an ISO time is read in its own year, 0000-0099 too, and a day or hour no clock shows is none", () => {
  const iso = (text: string) => {
    const read = isoTime(text);
    return read && { at: new Date(read.epoch).toISOString(), zoned: read.zoned };
  };
  // Date.parse reads these as 1999 and 2048.
  expect(iso("0099-01-01 00:00:00Z")).toEqual({ at: "0099-01-01T00:00:00.000Z", zoned: true });
  expect(iso("0049-01-01 00:00:00+0100")).toEqual({ at: "0048-12-31T23:00:00.000Z", zoned: true });
  expect(iso("0099-01-01T00:00:00Z")).toEqual({ at: "0099-01-01T00:00:00.000Z", zoned: true });
  expect(iso("0096-02-29")).toEqual({ at: "0096-02-29T00:00:00.000Z", zoned: false });
  expect(iso("2026-12-05T10:00")).toEqual({ at: "2026-12-05T10:00:00.000Z", zoned: false });
  expect(iso("2026-12-05T10:00+01")).toEqual({ at: "2026-12-05T09:00:00.000Z", zoned: true });
  expect(iso("2026-12-05t10:00:30.25z")).toEqual({ at: "2026-12-05T10:00:30.250Z", zoned: true });
  // Read as a number, seventeen nines are 1: the next day's midnight.
  expect(iso("2026-12-05T23:59:59.99999999999999999Z")).toEqual({ at: "2026-12-05T23:59:59.999Z", zoned: true });
  for (const none of ["2026-02-30", "2026-12-05T24:00Z", "2026-12-05T10:60Z", "2026-12-05T10:00+25:00", "5 Dec 2026"]) {
    expect(isoTime(none), none).toBeUndefined();
  }
});

test("a wall clock in the year 0 or before says that year, not the year 1 before Christ", () => {
  const noon = (isoTime("0000-02-29T12:00Z") as { epoch: number }).epoch;
  expect(wallClock(noon, "UTC")).toMatchObject({ year: 0, month: 2, day: 29, date: "0000-02-29" });
  expect(localIso(midnight("UTC", noon), "UTC")).toBe("0000-02-29T00:00+00:00");
});
