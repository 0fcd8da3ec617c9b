import { describe, expect, test } from "vitest";
import { HttpClient, type UpstreamOptions } from "../../src/http/client.js";
import { Log } from "../../src/log.js";
import type { SettingValues } from "../../src/settings.js";
import { clock } from "../../src/time.js";
import { metCondition, mostSignificant, wmoCondition } from "../../tools/weather/conditions.js";
import { localDays, type Step } from "../../tools/weather/days.js";
import { weather } from "../../tools/weather/index.js";
import { openMeteo } from "../../tools/weather/open-meteo.js";
import { json, startFake } from "../fakes/http.js";

describe("conditions in words", () => {
  test("MET Norway symbols, with their day/night variants and the two misspelt codes", () => {
    expect(metCondition("clearsky_day").text).toBe("clear sky");
    expect(metCondition("partlycloudy_polartwilight").text).toBe("partly cloudy");
    expect(metCondition("lightrainshowers_night").text).toBe("light rain showers");
    expect(metCondition("heavysleetandthunder").text).toBe("heavy sleet and thunder");
    expect(metCondition("lightssnowshowersandthunder_day").text).toBe("light snow showers and thunder");
    expect(metCondition("snow").text).toBe("snow");
    expect(metCondition("fog").text).toBe("fog");
    expect(metCondition("new_symbol_code").text).toBe("new symbol code");
  });

  test("WMO codes as Open-Meteo documents them", () => {
    expect(wmoCondition(0).text).toBe("clear sky");
    expect(wmoCondition(61).text).toBe("light rain");
    expect(wmoCondition(99).text).toBe("thunderstorm with heavy hail");
    expect(wmoCondition(42).text).toBe("weather code 42");
  });

  test("the most significant condition: thunder over heavy over light, any precipitation over clouds", () => {
    const order = [
      "clearsky_day",
      "cloudy",
      "fog",
      "lightrainshowers_day",
      "lightrain",
      "lightsnow",
      "rainshowers_day",
      "rain",
      "heavyrainshowers_day",
      "heavyrain",
      "heavysnow",
      "lightrainshowersandthunder_day",
      "heavyrainandthunder",
    ];
    const ranks = order.map((s) => metCondition(s).rank);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(mostSignificant(["cloudy", "lightrain", "fair_day"].map(metCondition))?.text).toBe("light rain");
    expect(mostSignificant([])).toBeUndefined();
  });
});

describe("local days", () => {
  const HOUR = 3_600_000;
  const hourly = (from: string, count: number, step: (time: number) => Partial<Step> = () => ({})): Step[] =>
    Array.from({ length: count }, (_, i) => {
      const time = Date.parse(from) + i * HOUR;
      return { time, period_hours: 1, temperature_c: 5, precipitation_mm: 0.1, ...step(time) };
    });

  test("a day when clocks go forward has 23 hours, and its sums say so", () => {
    // Europe/Prague, 2026-03-29: midnight is 23:00 UTC the day before, the next midnight 22:00 UTC.
    const steps = hourly("2026-03-28T20:00:00Z", 30);
    const days = localDays(steps, "Europe/Prague", 2, Date.parse("2026-03-28T20:30:00Z"));
    expect(days.map((d) => [d.date, d.precipitation_mm, d.partial ?? false])).toEqual([
      ["2026-03-28", 0.3, true],
      ["2026-03-29", 2.3, false],
    ]);
  });

  test("where clocks skip midnight, the day still has its own date", () => {
    // America/Santiago, 2026-09-06: clocks jump from 00:00 to 01:00.
    const steps = hourly("2026-09-05T04:00:00Z", 48);
    const days = localDays(steps, "America/Santiago", 2, Date.parse("2026-09-05T04:00:00Z"));
    expect(days.map((d) => [d.date, d.precipitation_mm])).toEqual([
      ["2026-09-05", 2.4],
      ["2026-09-06", 2.3],
    ]);
  });

  test("6-hour periods are shared out by the hours that fall in each day", () => {
    const steps: Step[] = [0, 6, 12, 18, 24, 30].map((h) => ({
      time: Date.parse("2026-06-01T00:00:00Z") + h * HOUR,
      period_hours: 6,
      temperature_c: h,
      precipitation_mm: 6,
    }));
    // Asia/Kolkata is UTC+5:30: its 2026-06-01 runs 18:30 UTC May 31 to 18:30 UTC June 1.
    const [day] = localDays(steps, "Asia/Kolkata", 2, Date.parse("2026-05-31T19:00:00Z"));
    expect(day).toMatchObject({ date: "2026-06-01", precipitation_mm: 18.5, partial: true });
  });

  test("a day whose periods come without an amount has no precipitation, not a dry 0 mm", () => {
    const steps = hourly("2026-06-01T00:00:00Z", 24, (time) =>
      time < Date.parse("2026-06-01T12:00:00Z") ? {} : { precipitation_mm: undefined },
    );
    const [day] = localDays(steps, "UTC", 1, Date.parse("2026-06-01T00:00:00Z"));
    expect(day).not.toHaveProperty("precipitation_mm");
    const [dry] = localDays(
      hourly("2026-06-02T00:00:00Z", 24, () => ({ precipitation_mm: undefined })),
      "UTC",
      1,
      Date.parse("2026-06-02T00:00:00Z"),
    );
    expect(dry).not.toHaveProperty("precipitation_mm");
    expect(
      localDays(hourly("2026-06-03T00:00:00Z", 24), "UTC", 1, Date.parse("2026-06-03T00:00:00Z"))[0],
    ).toMatchObject({ precipitation_mm: 2.4 });
  });

  test("extremes take in the 6-hour minimum and maximum of periods centred in the day", () => {
    const steps: Step[] = [
      {
        time: Date.parse("2026-06-01T00:00:00Z"),
        period_hours: 6,
        temperature_c: 10,
        period_min_c: 7,
        period_max_c: 15,
      },
      { time: Date.parse("2026-06-01T06:00:00Z"), period_hours: 6, temperature_c: 12 },
    ];
    const [day] = localDays(steps, "UTC", 1, Date.parse("2026-06-01T00:00:00Z"));
    expect(day).toMatchObject({ temperature_min_c: 7, temperature_max_c: 15 });
  });
});

describe("where requests go", () => {
  class Recording extends HttpClient {
    seen: { name: string; url: string; defaults: UpstreamOptions }[] = [];
    override upstream(name: string, baseUrl: URL, defaults: UpstreamOptions = {}) {
      this.seen.push({ name, url: String(baseUrl), defaults });
      return super.upstream(name, baseUrl, defaults);
    }
  }
  const hosts = (env: Record<string, string | undefined>) => {
    const http = new Recording({ userAgent: "waiter-mcp/1 (+https://example.org)", maxResponseBytes: 1024 });
    const settings = Object.fromEntries(
      Object.entries(weather.settings).map(([key, setting]) => [key, setting.schema.parse(env[setting.env])]),
    ) as SettingValues<typeof weather.settings>;
    weather.tools({
      settings,
      http,
      log: new Log("error"),
      origin: (setting) => setting,
      named: (setting) => setting,
    });
    void http.close();
    return http.seen;
  };

  test("without a key, the free hosts; with one, the customer hosts and the key in the query", () => {
    expect(hosts({ WAITER_WEATHER_PROVIDER: "open-meteo" }).map((s) => [s.url, s.defaults.query])).toEqual([
      ["https://geocoding-api.open-meteo.com/v1", undefined],
      ["https://api.open-meteo.com/v1", undefined],
    ]);
    expect(
      hosts({ WAITER_WEATHER_PROVIDER: "open-meteo", WAITER_OPEN_METEO_API_KEY: "k1" }).map((s) => [
        s.url,
        s.defaults.query,
      ]),
    ).toEqual([
      ["https://customer-geocoding-api.open-meteo.com/v1", { apikey: "k1" }],
      ["https://customer-api.open-meteo.com/v1", { apikey: "k1" }],
    ]);
  });

  test("MET Norway hears the contact in the User-Agent", () => {
    const met = hosts({ WAITER_CONTACT: "https://shop.example/contact" }).find((s) => s.name === "MET Norway");
    expect(met?.url).toBe("https://api.met.no/weatherapi");
    expect(met?.defaults.headers?.["user-agent"]).toBe(
      "waiter-mcp/1 (+https://example.org) https://shop.example/contact",
    );
  });
});

test("Open-Meteo's daily times, computed with one offset for the whole answer, keep their dates across a clock change", async () => {
  // Asked in summer time (UTC+2) about days that run into winter time (UTC+1), as in
  // open-meteo/open-meteo#1545: each day's time is its midnight less 7,200 s, whatever its own offset.
  const dates = ["2025-10-24", "2025-10-25", "2025-10-26", "2025-10-27", "2025-10-28"];
  const n = dates.length;
  const body = {
    utc_offset_seconds: 7200,
    timezone: "Europe/Berlin",
    daily_units: { temperature_2m_max: "°C", wind_speed_10m_max: "m/s", precipitation_sum: "mm" },
    daily: {
      time: dates.map((date) => Date.parse(`${date}T00:00:00Z`) / 1000 - 7200),
      weather_code: Array(n).fill(3),
      temperature_2m_max: Array(n).fill(12),
      temperature_2m_min: Array(n).fill(4),
      precipitation_sum: [0, 1.5, null, 0, 0],
      precipitation_probability_max: Array(n).fill(null),
      wind_speed_10m_max: Array(n).fill(3),
      wind_gusts_10m_max: Array(n).fill(7),
    },
  };
  const fake = await startFake(() => json(200, JSON.stringify(body)));
  const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024 * 1024 });
  try {
    const provider = openMeteo(http.upstream("Open-Meteo", new URL(`${fake.origin}/v1`)));
    const place = { latitude: 52.52, longitude: 13.41, timezone: "Europe/Berlin" };
    const call = { signal: new AbortController().signal, deadline: clock.now() + 5_000 };
    const { days } = await provider.forecast(place, n, false, call);
    expect(days.map((d) => d.date)).toEqual(dates);
    // A sum the model has no value for is left out, never shown as a dry 0 mm.
    expect(days[2]).not.toHaveProperty("precipitation_mm");
    expect(days[1]).toMatchObject({ precipitation_mm: 1.5, condition: { text: "overcast" } });
  } finally {
    await http.close();
    await fake.close();
  }
});
