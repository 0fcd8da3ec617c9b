import { readFileSync } from "node:fs";
import { clock } from "../../src/time.js";
import { addDays, type Fake, type FakeAnswer, isCalendarDate, json, type SeenRequest, startFake } from "./http.js";
import { defaultWeather, HOUR, type HourWeather, localParts, round, type WeatherAt } from "./weather.js";

/**
 * Open-Meteo's forecast API (`/v1/forecast`) and geocoding API (`/v1/search`) as their docs
 * describe them. Forecast: `latitude`, `longitude`, `timezone` (IANA, `auto`, `GMT`),
 * `timeformat` (iso8601 or unixtime), `wind_speed_unit`, `forecast_days` (0-16) or the local
 * dates `start_date` and `end_date` (from 93 days before today in UTC to 15 after, whatever the zone), `current`,
 * `hourly`, `daily` variable lists with their `*_units`; errors `{"error": true, "reason"}` with
 * 400 (unknown variable, out of range) and 429 (the samples' words). Geocoding: `name`, `count`
 * (1-100), `countryCode`, `language`; 2 characters match exactly, 3 or more by prefix; no hits
 * answers without `results`.
 */

const sample = (name: string) => readFileSync(new URL(`./samples/${name}`, import.meta.url), "utf8");
export const ERROR_400 = sample("open-meteo-error-400-RECONSTRUCTED.json");
const ERROR_429 = sample("open-meteo-error-429-daily-limit.json");

/**
 * The 429 of a day's calls used up, as the API sends it: the reason, and no Retry-After, which
 * Open-Meteo's rate limiter never sets (open-meteo/open-meteo Sources/App/Helper/Vapor/RateLimiter.swift).
 */
export const dailyLimit = (): FakeAnswer => json(429, ERROR_429);
const COUNT_ERROR = sample("open-meteo-geocoding-error-400.json");

export interface OpenMeteoFake extends Fake {
  weather: WeatherAt;
  /**
   * The seconds `current` covers, sent as `current.interval`: 900 where the models have
   * 15-minute values, an hour where they have hourly ones only; undefined leaves it out.
   */
  currentInterval: number | undefined;
}

const error = (status: number, reason: string) => json(status, JSON.stringify({ error: true, reason }));

const WIND: Record<string, [number, string]> = {
  kmh: [3.6, "km/h"],
  ms: [1, "m/s"],
  mph: [2.237, "mp/h"],
  kn: [1.944, "kn"],
};

type Variable = (w: HourWeather, wind: number) => number;
const HOURLY: Record<string, [Variable, string]> = {
  temperature_2m: [(w) => w.temperature, "°C"],
  apparent_temperature: [(w) => round(w.temperature - w.wind / 2), "°C"],
  relative_humidity_2m: [(w) => w.humidity, "%"],
  precipitation: [(w) => w.precipitation, "mm"],
  precipitation_probability: [(w) => w.probability, "%"],
  weather_code: [(w) => wmo(w), "wmo code"],
  cloud_cover: [(w) => w.cloud, "%"],
  wind_speed_10m: [(w, k) => round(w.wind * k), ""],
  wind_direction_10m: [(w) => w.direction, "°"],
  wind_gusts_10m: [(w, k) => round(w.gust * k), ""],
};
/** Sums and maxima of the preceding hour (of the preceding `interval` in `current`), as the docs define them. */
const PRECEDING = new Set(["precipitation", "precipitation_probability", "wind_gusts_10m"]);

/**
 * A weather code as Open-Meteo derives it (WeatherCode.calculate): from the cloud cover at its
 * time and the precipitation of the same time, which is the preceding hour's (the interval's in `current`).
 */
const derivedCode = (at: HourWeather, before: HourWeather) => wmo({ ...at, precipitation: before.precipitation });

type Aggregate = (day: HourWeather[], wind: number) => number;
const DAILY: Record<string, [Aggregate, string]> = {
  weather_code: [(d) => Math.max(...d.map(wmo)), "wmo code"],
  temperature_2m_max: [(d) => Math.max(...d.map((w) => w.temperature)), "°C"],
  temperature_2m_min: [(d) => Math.min(...d.map((w) => w.temperature)), "°C"],
  precipitation_sum: [(d) => round(d.reduce((s, w) => s + w.precipitation, 0)), "mm"],
  precipitation_probability_max: [(d) => Math.max(...d.map((w) => w.probability)), "%"],
  wind_speed_10m_max: [(d, k) => round(Math.max(...d.map((w) => w.wind)) * k), ""],
  wind_gusts_10m_max: [(d, k) => round(Math.max(...d.map((w) => w.gust)) * k), ""],
};

function wmo(w: HourWeather): number {
  if (w.precipitation >= 2) return w.temperature < 0 ? 75 : 65;
  if (w.precipitation > 0) return w.temperature < 0 ? 85 : 80;
  return w.cloud > 80 ? 3 : w.cloud > 30 ? 2 : 0;
}

function unit(name: string, [, base]: [unknown, string], windLabel: string): string {
  return name.startsWith("wind_speed") || name.startsWith("wind_gusts") ? windLabel : base;
}

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function forecast(request: SeenRequest, weather: WeatherAt, interval: number | undefined): FakeAnswer {
  const q = request.query;
  const latitude = Number(q.get("latitude"));
  const longitude = Number(q.get("longitude"));
  if (!q.has("latitude") || Number.isNaN(latitude) || Math.abs(latitude) > 90) {
    return error(400, `Latitude must be in range of -90 to 90°. Given: ${q.get("latitude")}.`);
  }
  if (!q.has("longitude") || Number.isNaN(longitude) || Math.abs(longitude) > 180) {
    return error(400, `Longitude must be in range of -180 to 180°. Given: ${q.get("longitude")}.`);
  }
  const zoneParam = q.get("timezone") ?? "GMT";
  const zone = zoneParam === "auto" ? "Europe/Prague" : zoneParam === "GMT" ? "UTC" : zoneParam;
  if (!isZone(zone)) return error(400, `Invalid timezone ${zoneParam}`);
  const now = clock.now();
  const today = localParts(now, zone).date;
  const [startDate, endDate] = [q.get("start_date"), q.get("end_date")];
  let first = today;
  let days = Number(q.get("forecast_days") ?? 7);
  if (startDate !== null || endDate !== null) {
    if (q.has("forecast_days")) {
      return error(400, "Parameter 'forecast_days' is mutually exclusive with 'start_date' and 'end_date'");
    }
    if (!startDate || !endDate || !isCalendarDate(startDate) || !isCalendarDate(endDate)) {
      return error(400, "Invalid date format. Make sure to use 'YYYY-MM-DD'");
    }
    // The API takes dates from 93 days before today to 15 days after, today in UTC whatever the zone.
    const utcToday = new Date(now).toISOString().slice(0, 10);
    const [from, to] = [addDays(utcToday, -93), addDays(utcToday, 15)];
    for (const [name, date] of Object.entries({ start_date: startDate, end_date: endDate })) {
      if (date < from || date > to)
        return error(400, `Parameter '${name}' is out of allowed range from ${from} to ${to}`);
    }
    if (endDate < startDate) return error(400, "End-date must be larger or equals than start-date");
    first = startDate;
    days = (Date.parse(endDate) - Date.parse(startDate)) / (24 * HOUR) + 1;
  } else if (!Number.isInteger(days) || days < 0 || days > 16) {
    return error(400, "Forecast days is invalid. Allowed range 0 to 16.");
  }
  const [windFactor, windLabel] = WIND[q.get("wind_speed_unit") ?? "kmh"] ?? [];
  if (windFactor === undefined || windLabel === undefined) {
    return error(400, `Cannot initialize WindspeedUnit from invalid String value ${q.get("wind_speed_unit")}`);
  }
  const unixtime = q.get("timeformat") === "unixtime";
  const lists = Object.fromEntries(
    (["current", "hourly", "daily"] as const).map((key) => [key, (q.get(key) ?? "").split(",").filter(Boolean)]),
  ) as Record<"current" | "hourly" | "daily", string[]>;
  for (const key of ["current", "hourly"] as const) {
    const bad = lists[key].find((name) => !(name in HOURLY));
    if (bad) return error(400, `Cannot initialize WeatherVariable from invalid String value ${bad} for key ${key}`);
  }
  const badDaily = lists.daily.find((name) => !(name in DAILY));
  if (badDaily)
    return error(400, `Cannot initialize DailyWeatherVariable from invalid String value ${badDaily} for key daily`);

  // Seconds the zone is ahead of UTC, to the minute: Kathmandu's is 5 h 45 min.
  const offset = (epoch: number) => {
    const p = localParts(epoch, zone);
    const wall = `${p.date}T${String(p.hour).padStart(2, "0")}:${String(p.minute).padStart(2, "0")}:00Z`;
    return Math.round((Date.parse(wall) - Math.floor(epoch / 60_000) * 60_000) / 1000);
  };
  // The days from the first, each read as 24 hours of UTC from its midnight at the offset in force now cut
  // to whole hours towards zero, as Swift's integer division does (ForecastapiQuery.getTimerange2: "Align
  // data to nearest hour"): Newfoundland's (-03:30) from 03:00 UTC, 23:30 the evening before.
  const dates = Array.from({ length: days }, (_, i) => addDays(first, i));
  const wholeHours = Math.trunc(offset(now) / 3600) * 3600;
  const readFrom = (date: string) => Date.parse(`${date}T00:00:00Z`) - wholeHours * 1000;
  const hours = Array.from({ length: days * 24 }, (_, i) => readFrom(first) + i * HOUR);
  const stamp = (epoch: number) =>
    unixtime ? epoch / 1000 : new Date(epoch + offset(epoch) * 1000).toISOString().slice(0, 16);
  const body: Record<string, unknown> = {
    latitude: round(latitude, 4),
    longitude: round(longitude, 4),
    generationtime_ms: 0.2,
    utc_offset_seconds: offset(now),
    timezone: zone === "UTC" ? "GMT" : zone,
    timezone_abbreviation: "GMT",
    elevation: 217,
  };
  const timeUnit = unixtime ? "unixtime" : "iso8601";
  if (lists.current.length) {
    const span = (interval ?? 900) * 1000;
    const at = Math.floor(now / span) * span;
    const current = (name: string) => {
      const value = (HOURLY[name] as [Variable, string])[0];
      // The interval before `time`: its share of that hour's amount.
      const before = weather(at - span);
      if (name === "weather_code") return derivedCode(weather(at), before);
      if (!PRECEDING.has(name)) return value(weather(at), windFactor);
      return name === "precipitation" ? round((before.precipitation * span) / HOUR, 3) : value(before, windFactor);
    };
    body.current_units = {
      time: timeUnit,
      ...(interval === undefined ? {} : { interval: "seconds" }),
      ...Object.fromEntries(
        lists.current.map((name) => [name, unit(name, HOURLY[name] as [Variable, string], windLabel)]),
      ),
    };
    body.current = {
      time: stamp(at),
      ...(interval === undefined ? {} : { interval }),
      ...Object.fromEntries(lists.current.map((name) => [name, current(name)])),
    };
  }
  if (lists.hourly.length) {
    body.hourly_units = {
      time: timeUnit,
      ...Object.fromEntries(
        lists.hourly.map((name) => [name, unit(name, HOURLY[name] as [Variable, string], windLabel)]),
      ),
    };
    // Its hours are read at the offset cut to whole hours but labelled with the whole offset: where it
    // has half an hour, each is labelled half an hour off (later where the offset is negative).
    const labelShift = (offset(now) - wholeHours) * 1000;
    body.hourly = {
      time: hours.map((t) => stamp(t - labelShift)),
      ...Object.fromEntries(
        lists.hourly.map((name) => [
          name,
          hours.map((t) =>
            name === "weather_code"
              ? derivedCode(weather(t), weather(t - HOUR))
              : (HOURLY[name] as [Variable, string])[0](weather(PRECEDING.has(name) ? t - HOUR : t), windFactor),
          ),
        ]),
      ),
    };
  }
  if (lists.daily.length) {
    // A day is the 24 hourly values from its midnight at the answer's offset (cut to whole hours, as
    // the hours are read), each as the hourly series gives it: precipitation, its probability and
    // gusts of the hour before, the weather code derived from that precipitation
    // (DailyReaderConverter: the day's time range at 1-hour steps, summed or maxed by 24).
    const byDate = dates.map((date) => Array.from({ length: 24 }, (_, i) => readFrom(date) + i * HOUR));
    body.daily_units = {
      time: timeUnit,
      ...Object.fromEntries(
        lists.daily.map((name) => [name, unit(name, DAILY[name] as [Aggregate, string], windLabel)]),
      ),
    };
    body.daily = {
      // Open-Meteo computes a day's unixtime with the one offset of the answer, not the day's own.
      time: dates.map((date) => (unixtime ? Date.parse(`${date}T00:00:00Z`) / 1000 - offset(now) : date)),
      ...Object.fromEntries(
        lists.daily.map((name) => [
          name,
          byDate.map((day) =>
            (DAILY[name] as [Aggregate, string])[0](
              day.map((t) => {
                const before = weather(t - HOUR);
                return {
                  ...weather(t),
                  precipitation: before.precipitation,
                  probability: before.probability,
                  gust: before.gust,
                };
              }),
              windFactor,
            ),
          ),
        ]),
      ),
    };
  }
  return json(200, JSON.stringify(body));
}

export async function startOpenMeteo(): Promise<OpenMeteoFake> {
  const state: { weather: WeatherAt; currentInterval: number | undefined } = {
    weather: defaultWeather,
    currentInterval: 900,
  };
  const fake = await startFake((request) => {
    if (request.path !== "/v1/forecast") return json(404, '{"error":true,"reason":"Not Found"}');
    return forecast(request, om.weather, om.currentInterval);
  });
  const om = Object.assign(fake, state);
  return om;
}

interface Gazetteer {
  id: number;
  name: string;
  latitude: number;
  longitude: number;
  elevation: number;
  feature_code: string;
  country_code: string;
  country: string;
  admin1: string;
  timezone: string;
  population?: number;
  /** A few of the place's postal codes, where GeoNames has them, as the country writes them. */
  postcodes?: string[];
}

const BERLIN = (JSON.parse(sample("open-meteo-geocoding-RECONSTRUCTED.json")) as { results: Gazetteer[] }).results;

/** Listed by GeoNames id, not by population: the API's order is relevance, which a client must not read as size. */
export const PLACES: Gazetteer[] = [
  ...BERLIN,
  {
    id: 3068799,
    name: "Ostrava",
    latitude: 49.83465,
    longitude: 18.28204,
    elevation: 217,
    feature_code: "PPLA",
    country_code: "CZ",
    country: "Czechia",
    admin1: "Moravskoslezský kraj",
    timezone: "Europe/Prague",
    population: 313088,
    postcodes: ["702 00", "703 00"],
  },
  {
    id: 4250542,
    name: "Springfield",
    latitude: 39.80172,
    longitude: -89.64371,
    elevation: 182,
    feature_code: "PPLA",
    country_code: "US",
    country: "United States",
    admin1: "Illinois",
    timezone: "America/Chicago",
    population: 116565,
  },
  {
    id: 4409896,
    name: "Springfield",
    latitude: 37.21533,
    longitude: -93.29824,
    elevation: 398,
    feature_code: "PPLA2",
    country_code: "US",
    country: "United States",
    admin1: "Missouri",
    timezone: "America/Chicago",
    population: 169176,
  },
  {
    id: 4951788,
    name: "Springfield",
    latitude: 42.10148,
    longitude: -72.58981,
    elevation: 21,
    feature_code: "PPLA2",
    country_code: "US",
    country: "United States",
    admin1: "Massachusetts",
    timezone: "America/New_York",
    population: 155929,
  },
  {
    id: 2925533,
    name: "Frankfurt am Main",
    latitude: 50.11552,
    longitude: 8.68417,
    elevation: 112,
    feature_code: "PPLA2",
    country_code: "DE",
    country: "Germany",
    admin1: "Hesse",
    timezone: "Europe/Berlin",
    population: 763380,
  },
  {
    id: 2925535,
    name: "Frankfurt (Oder)",
    latitude: 52.34714,
    longitude: 14.55062,
    elevation: 27,
    feature_code: "PPLA3",
    country_code: "DE",
    country: "Germany",
    admin1: "Brandenburg",
    timezone: "Europe/Berlin",
    population: 58537,
  },
  {
    id: 1850147,
    name: "Tokyo",
    latitude: 35.6895,
    longitude: 139.69171,
    elevation: 44,
    feature_code: "PPLC",
    country_code: "JP",
    country: "Japan",
    admin1: "Tokyo",
    timezone: "Asia/Tokyo",
    population: 8336599,
  },
  {
    id: 4717560,
    name: "Paris",
    latitude: 33.66094,
    longitude: -95.55551,
    elevation: 183,
    feature_code: "PPLA2",
    country_code: "US",
    country: "United States",
    admin1: "Texas",
    timezone: "America/Chicago",
    population: 24782,
  },
  {
    id: 2988507,
    name: "Paris",
    latitude: 48.85341,
    longitude: 2.3488,
    elevation: 42,
    feature_code: "PPLC",
    country_code: "FR",
    country: "France",
    admin1: "Île-de-France",
    timezone: "Europe/Paris",
    population: 2138551,
  },
  {
    id: 7287650,
    name: "Vrchní Les",
    latitude: 49.7,
    longitude: 17.9,
    elevation: 560,
    feature_code: "PPL",
    country_code: "CZ",
    country: "Czechia",
    admin1: "Moravskoslezský kraj",
    timezone: "Europe/Prague",
  },
];

function search(request: SeenRequest): FakeAnswer {
  const q = request.query;
  const count = Number(q.get("count") ?? 10);
  if (!Number.isInteger(count) || count < 1 || count > 100) return json(400, COUNT_ERROR);
  const name = (q.get("name") ?? "").trim().toLowerCase();
  const country = q.get("countryCode")?.toUpperCase();
  const hits =
    name.length < 2
      ? []
      : PLACES.filter((p) =>
          name.length === 2 ? p.name.toLowerCase() === name : p.name.toLowerCase().startsWith(name),
        )
          .filter((p) => !country || p.country_code === country)
          .sort((a, b) => a.id - b.id)
          .slice(0, count);
  return json(
    200,
    JSON.stringify(hits.length ? { results: hits, generationtime_ms: 0.4 } : { generationtime_ms: 0.3 }),
  );
}

/** A Czech village as the geocoder lists one: GeoNames has no population for most. */
export function village(name: string, region: string, latitude: number, longitude: number) {
  return {
    name,
    latitude,
    longitude,
    country_code: "CZ",
    country: "Czechia",
    admin1: region,
    timezone: "Europe/Prague",
  };
}

/** The geocoder's answer listing these places. */
export function geocoded(results: object[]): FakeAnswer {
  return json(200, JSON.stringify({ results, generationtime_ms: 0.5 }));
}

export async function startGeocoding(): Promise<Fake> {
  return startFake((request) =>
    request.path === "/v1/search" ? search(request) : json(404, '{"error":true,"reason":"Not Found"}'),
  );
}
