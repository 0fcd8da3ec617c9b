import { readFileSync } from "node:fs";
import { clock } from "../../src/time.js";
import { type Fake, json, startFake } from "./http.js";
import { defaultWeather, HOUR, type HourWeather, round, type WeatherAt } from "./weather.js";

/**
 * MET Norway's Locationforecast 2.0 (`/weatherapi/locationforecast/2.0/compact` and `/complete`)
 * as its documentation describes it: GeoJSON with `properties.timeseries` from the current hour,
 * hourly for 60 hours and then every 6 hours (00, 06, 12, 18 UTC) for about nine days; each
 * step has `instant.details` and `next_1_hours` / `next_6_hours` / `next_12_hours` while they fit;
 * `complete` adds gusts, probabilities and 6-hour extremes. `Expires` and `Last-Modified` on
 * every answer; 304 to an `If-Modified-Since` not older than the model run; 403 without a
 * User-Agent or with more than 4 decimals in a coordinate ("to avoid blocking"); 400 for
 * coordinates out of range.
 */

const SAMPLE = JSON.parse(
  readFileSync(new URL("./samples/met-norway-locationforecast-compact-TRIMMED.json", import.meta.url), "utf8"),
) as { properties: { meta: { units: Record<string, string> } } };

export interface MetFake extends Fake {
  /** The weather served; set it to serve other weather (use coordinates not asked for before). */
  weather: WeatherAt;
  /** Seconds from an answer to its `Expires`. */
  expiresIn: number;
  /** When the current model run was published: `Last-Modified`. */
  modelRun: number;
  /** Answer 203 instead of 200, as for a product version that is deprecated or in beta. */
  deprecated: boolean;
  /** Hours from the current hour that the series reaches, about nine and a half days as MET Norway's does. */
  reachHours: number;
  /**
   * The periods (1, 6 or 12 hours) whose details carry `probability_of_precipitation`: MET Norway
   * has some variables only in some areas ("make sure your client can handle that").
   */
  chanceHours: number[];
  /**
   * A period's chance from its hours': the highest by default. MET Norway's is of precipitation at
   * any time in the period, so a 6-hour chance may be higher than each of its hours'.
   */
  periodChance: (hourly: number[]) => number;
  /** Whether the 6-hourly steps carry `wind_speed_of_gust`: answers for the Nordic area have none there. */
  sixHourlyGusts: boolean;
  /** Whether the hourly steps carry `wind_speed_of_gust`: some models and areas give none at all. */
  hourlyGusts: boolean;
}

const HOURLY_STEPS = 60;

function httpDate(epoch: number): string {
  return new Date(epoch).toUTCString();
}

function symbol(w: HourWeather): string {
  if (w.precipitation >= 2) return w.temperature < 0 ? "heavysnow" : "heavyrain";
  if (w.precipitation > 0) return w.temperature < 0 ? "lightsnowshowers_day" : "lightrainshowers_day";
  return w.cloud > 80 ? "cloudy" : w.cloud > 30 ? "partlycloudy_day" : "clearsky_day";
}

function period(weather: WeatherAt, start: number, hours: number, complete: boolean, met: MetFake) {
  const span = Array.from({ length: hours }, (_, i) => weather(start + i * HOUR));
  const wettest = span.reduce((a, b) => (b.precipitation > a.precipitation ? b : a));
  const temperatures = span.map((w) => w.temperature);
  const amount = round(span.reduce((sum, w) => sum + w.precipitation, 0));
  return {
    summary: { symbol_code: symbol(wettest) },
    details: {
      ...(hours <= 6 ? { precipitation_amount: amount } : {}),
      ...(complete
        ? {
            ...(met.chanceHours.includes(hours)
              ? { probability_of_precipitation: met.periodChance(span.map((w) => w.probability)) }
              : {}),
            ...(hours === 6
              ? { air_temperature_max: Math.max(...temperatures), air_temperature_min: Math.min(...temperatures) }
              : {}),
          }
        : {}),
    },
  };
}

function timeseries(met: MetFake, now: number, complete: boolean) {
  const { weather, reachHours, sixHourlyGusts, hourlyGusts } = met;
  const first = Math.floor(now / HOUR) * HOUR;
  const times: number[] = [];
  // Hourly for about 60 hours, ending 3 hours before a 6-hour step as real series often do.
  let last = first + HOURLY_STEPS * HOUR;
  while ((last + 3 * HOUR) % (6 * HOUR) !== 0) last -= HOUR;
  for (let t = first; t <= last; t += HOUR) times.push(t);
  let next = last + 3 * HOUR;
  for (; next <= first + reachHours * HOUR; next += 6 * HOUR) times.push(next);
  const end = times.at(-1) as number;
  return times.map((time) => {
    const w = weather(time);
    const hourly = time <= last;
    return {
      time: new Date(time).toISOString().replace(".000Z", "Z"),
      data: {
        instant: {
          details: {
            air_pressure_at_sea_level: 1012.3,
            air_temperature: w.temperature,
            cloud_area_fraction: w.cloud,
            relative_humidity: w.humidity,
            wind_from_direction: w.direction,
            wind_speed: w.wind,
            ...(complete ? { dew_point_temperature: round(w.temperature - 3) } : {}),
            ...(complete && (hourly ? hourlyGusts : sixHourlyGusts) ? { wind_speed_of_gust: w.gust } : {}),
          },
        },
        ...(hourly ? { next_1_hours: period(weather, time, 1, complete, met) } : {}),
        ...(time < end ? { next_6_hours: period(weather, time, 6, complete, met) } : {}),
        ...(time + 12 * HOUR <= end ? { next_12_hours: period(weather, time, 12, complete, met) } : {}),
      },
    };
  });
}

function forbidden(reason: string) {
  return { status: 403, headers: { "content-type": "text/plain" }, body: `403 Forbidden: ${reason}` };
}

export async function startMet(): Promise<MetFake> {
  const state = {
    weather: defaultWeather,
    expiresIn: 1800,
    modelRun: clock.now() - 20 * 60_000,
    deprecated: false,
    reachHours: 228,
    chanceHours: [1, 6, 12],
    periodChance: (hourly: number[]) => Math.max(...hourly),
    sixHourlyGusts: true,
    hourlyGusts: true,
  };
  const fake = await startFake((request) => {
    const flavour = /^\/weatherapi\/locationforecast\/2\.0\/(compact|complete)$/.exec(request.path)?.[1];
    if (!flavour) return json(404, '{"error":"Not found"}');
    if (!request.headers["user-agent"])
      return forbidden("identify yourself in the User-Agent, see the terms of service");
    const lat = request.query.get("lat");
    const lon = request.query.get("lon");
    const altitude = request.query.get("altitude");
    if (lat === null || lon === null || Number.isNaN(Number(lat)) || Number.isNaN(Number(lon))) {
      return json(400, '{"error":"lat and lon are required"}');
    }
    if ([lat, lon].some((value) => (value.split(".")[1] ?? "").length > 4)) {
      return forbidden("do not use more than 4 decimals in coordinates");
    }
    if (Math.abs(Number(lat)) > 90 || Math.abs(Number(lon)) > 180) {
      return json(400, '{"error":"coordinates out of range"}');
    }
    const now = clock.now();
    const headers = {
      expires: httpDate(now + met.expiresIn * 1000),
      "last-modified": httpDate(met.modelRun),
      date: httpDate(now),
    };
    const since = request.headers["if-modified-since"];
    if (since && Date.parse(since) >= Math.floor(met.modelRun / 1000) * 1000) return { status: 304, headers };
    const complete = flavour === "complete";
    const body = {
      type: "Feature",
      geometry: { type: "Point", coordinates: [Number(lon), Number(lat), Number(altitude ?? 0)] },
      properties: {
        meta: {
          updated_at: new Date(met.modelRun).toISOString().replace(".000Z", "Z"),
          units: {
            ...SAMPLE.properties.meta.units,
            ...(complete ? { wind_speed_of_gust: "m/s", probability_of_precipitation: "%" } : {}),
          },
        },
        timeseries: timeseries(met, now, complete),
      },
    };
    return json(met.deprecated ? 203 : 200, JSON.stringify(body), headers);
  });
  const met = Object.assign(fake, state);
  return met;
}
