import { z } from "zod";
import { UpstreamError } from "../../src/errors.js";
import { retryAfterSeconds, upstreamMessage } from "../../src/http/failures.js";
import type { ErrorMapper } from "../../src/http/types.js";
import { orKept, type Upstream } from "../../src/http/upstream.js";
import { clock, DAY_MS, dateIn, isoDate, localIso, midnight, offsetMinutes, zonedEpoch } from "../../src/time.js";
import { wmoCondition } from "./conditions.js";
import {
  coordinate,
  type Day,
  type Hour,
  KEPT_FOR_SECONDS,
  type OffMidnight,
  type WeatherProvider,
} from "./provider.js";

/**
 * Open-Meteo's errors, of its forecast and geocoding APIs alike, are {"error": true, "reason": "..."}
 * with 400 or 429; the reason is passed on. `keyed` says whether a commercial API key is in use,
 * which changes what a 429 means.
 */
export function openMeteoErrors(keyed: boolean): ErrorMapper {
  return (response, name) => {
    const reason = upstreamMessage(response);
    if (response.status === 429) {
      const seconds = retryAfterSeconds(response);
      return new UpstreamError(
        `${name} answered 429${reason ? ` "${reason}"` : ""}: ${rateLimitAdvice(reason ?? "", keyed, seconds)}`,
        429,
        seconds,
      );
    }
    if (response.status === 400 && reason) {
      // Its customer API answers a key it does not know with a 400 too ("The supplied API key is invalid."):
      // no argument a caller sends mends that.
      const check =
        keyed && /api key/i.test(reason)
          ? "Check WAITER_OPEN_METEO_API_KEY: Open-Meteo knows no plan by the key it holds."
          : // Every parameter but the place is waiter's, and the place's are checked before they are sent.
            "waiter made that request itself, from the place asked for: other arguments will not mend it; if it lasts, tell whoever runs waiter.";
      return new UpstreamError(`${name} refused the request (400): "${reason}". ${check}`, 400);
    }
    return undefined;
  };
}

/**
 * What to do about a 429, by the limit its reason names: the free tier allows 600 calls a minute,
 * 5,000 an hour and 10,000 a day, and Open-Meteo also refuses too many requests at once.
 */
function rateLimitAdvice(reason: string, keyed: boolean, seconds: number | undefined): string {
  const after = (wait: string) => (seconds === undefined ? wait : `try again in ${seconds} s`);
  const free = (limit: string) => (keyed ? "" : ` (the free tier allows ${limit})`);
  if (/minutely/i.test(reason)) return `too many calls this minute${free("600")}; ${after("wait a minute")}.`;
  if (/hourly/i.test(reason)) return `too many calls this hour${free("5,000")}; ${after("wait up to an hour")}.`;
  if (/daily/i.test(reason)) {
    return keyed
      ? `the plan's daily limit is used up; ${after("try again tomorrow")}, or raise the plan's limit with Open-Meteo.`
      : `the free tier's daily limit (10,000 calls, non-commercial use) is used up; ${after("try again tomorrow")}, or set WAITER_OPEN_METEO_API_KEY for a commercial plan.`;
  }
  return `too many requests${free("600 a minute, 5,000 an hour, 10,000 a day")}, or too many at once; ${after("wait, then try again")}.`;
}

const nullable = z.number().nullable();
const series = z.array(nullable);
const units = {
  temperature: z.literal("°C"),
  wind: z.literal("m/s"),
  precipitation: z.literal("mm"),
};

const current = z.object({
  current_units: z.object({
    temperature_2m: units.temperature,
    wind_speed_10m: units.wind,
    precipitation: units.precipitation,
  }),
  current: z.object({
    time: z.number(),
    /** The seconds the values of `current` cover: sums and maxima are of this interval before `time`. */
    interval: z.number().positive().optional(),
    temperature_2m: z.number(),
    apparent_temperature: nullable,
    relative_humidity_2m: nullable,
    precipitation: nullable,
    weather_code: nullable,
    cloud_cover: nullable,
    wind_speed_10m: nullable,
    wind_direction_10m: nullable,
    wind_gusts_10m: nullable,
  }),
});

const forecast = z.object({
  utc_offset_seconds: z.number(),
  daily_units: z.object({
    temperature_2m_max: units.temperature,
    wind_speed_10m_max: units.wind,
    precipitation_sum: units.precipitation,
  }),
  daily: z.object({
    time: z.array(z.number()),
    weather_code: series,
    temperature_2m_max: series,
    temperature_2m_min: series,
    precipitation_sum: series,
    precipitation_probability_max: series,
    wind_speed_10m_max: series,
    wind_gusts_10m_max: series,
  }),
  hourly_units: z.object({ temperature_2m: units.temperature, wind_speed_10m: units.wind }).optional(),
  hourly: z
    .object({
      time: z.array(z.number()),
      temperature_2m: series,
      relative_humidity_2m: series,
      precipitation: series,
      precipitation_probability: series,
      weather_code: series,
      wind_speed_10m: series,
      wind_direction_10m: series,
      wind_gusts_10m: series,
      cloud_cover: series,
    })
    .optional(),
});

const CURRENT = [
  "temperature_2m",
  "apparent_temperature",
  "relative_humidity_2m",
  "precipitation",
  "weather_code",
  "cloud_cover",
  "wind_speed_10m",
  "wind_direction_10m",
  "wind_gusts_10m",
];
const DAILY = [
  "weather_code",
  "temperature_2m_max",
  "temperature_2m_min",
  "precipitation_sum",
  "precipitation_probability_max",
  "wind_speed_10m_max",
  "wind_gusts_10m_max",
];
const HOURLY = [
  "temperature_2m",
  "relative_humidity_2m",
  "precipitation",
  "precipitation_probability",
  "weather_code",
  "wind_speed_10m",
  "wind_direction_10m",
  "wind_gusts_10m",
  "cloud_cover",
];

/** Today and 15 days after. */
const MAX_DAYS = 16;

/** What `current` covers where the answer leaves out `current.interval`: the docs' 15-minute values. */
const CURRENT_INTERVAL = 15 * 60;
/** Forecasts are rerun hourly at most. */
const FORECAST_TTL = 30 * 60;

/** The earlier of two dates (YYYY-MM-DD). */
const min = (a: string, b: string) => (a < b ? a : b);

/** Only what is there: Open-Meteo sends null where a model has no value. */
function some<K extends string>(key: K, value: number | null | undefined): { [P in K]?: number } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

/** Open-Meteo's forecast API: many national models blended, 16 days, in the place's zone. */
export function openMeteo(api: Upstream): WeatherProvider {
  const where = (place: { latitude: number; longitude: number; timezone: string }) => ({
    latitude: coordinate(place.latitude),
    longitude: coordinate(place.longitude),
    timezone: place.timezone,
    timeformat: "unixtime",
    wind_speed_unit: "ms",
  });

  return {
    id: "open-meteo",
    name: "Open-Meteo",
    attribution: "Weather data by Open-Meteo.com (CC BY 4.0)",
    maxDays: MAX_DAYS,
    dailySumsHourEarlier: true,
    chances: "hourly chances of precipitation",
    hoursOf: () =>
      "Open-Meteo's hours give their temperature, humidity, wind and cloud cover at their start, their precipitation, its chance and gusts over the hour, and their condition at its end, of that precipitation and the clouds then.",

    async current(place, call) {
      const { value: body, stale } = await orKept(KEPT_FOR_SECONDS, (staleIfError) =>
        api.json(
          current,
          "/forecast",
          {
            query: { ...where(place), current: CURRENT.join(",") },
            // Current conditions change once per interval, the next at `time` and the interval after:
            // an hourly value asked for at 10:50 is kept until 11:00, not till 11:50.
            ttl: ({ current: c }, now) => Math.max(60, c.time + (c.interval ?? CURRENT_INTERVAL) - now / 1000),
            staleIfError,
          },
          call,
        ),
      );
      const c = body.current;
      const perHour = 3600 / (c.interval ?? CURRENT_INTERVAL);
      return {
        time: c.time * 1000,
        temperature_c: c.temperature_2m,
        ...some("apparent_temperature_c", c.apparent_temperature),
        ...some("humidity_percent", c.relative_humidity_2m),
        ...some("wind_speed_ms", c.wind_speed_10m),
        ...some("wind_direction_deg", c.wind_direction_10m),
        ...some("wind_gusts_ms", c.wind_gusts_10m),
        // The sum of the interval before `time`, as an hourly rate.
        ...some(
          "precipitation_mm_h",
          c.precipitation === null ? null : Math.round(c.precipitation * perHour * 10) / 10,
        ),
        ...some("cloud_cover_percent", c.cloud_cover),
        ...(c.weather_code === null ? {} : { condition: wmoCondition(c.weather_code) }),
        ...(stale ? { stale } : {}),
      };
    },

    async forecast(place, days, withHours, call) {
      const now = clock.now();
      const today = dateIn(place.timezone, now);
      // Its hours are of UTC's whole hours (see labelShift below): in the first half hour after
      // Kolkata's midnight (+05:30), now is in the hour from 23:30, of the day before's hours.
      const pastWholeHour = (offsetMinutes(now, place.timezone) * 60) % 3600;
      const hoursFrom = withHours && pastWholeHour > 0 ? dateIn(place.timezone, now - pastWholeHour * 1000) : today;
      const { value: body, stale } = await orKept(KEPT_FOR_SECONDS, (staleIfError) =>
        api.json(
          forecast,
          "/forecast",
          {
            query: {
              ...where(place),
              daily: DAILY.join(","),
              // The place's local dates rather than `forecast_days`: the request, and so the answer
              // kept, names its days, and one kept before the place's midnight is not served after it;
              // but with hours, while they still begin the day before (Kolkata's first half hour, see
              // hoursFrom), one kept from before midnight for a day more names the same dates and is
              // served, as a fresh one would be: the days shown are picked below by date from the clock.
              start_date: hoursFrom,
              // With hours, the day after too (where there is one): the last hour asked takes values from the next.
              end_date: min(
                dateIn(place.timezone, midnight(place.timezone, now, withHours ? days : days - 1)),
                // The API's last date, 15 days after today in UTC whatever the zone: where the day has
                // begun ahead of UTC (Tokyo's morning), the 16th local day is one day too late.
                isoDate(now + (MAX_DAYS - 1) * DAY_MS),
              ),
              ...(withHours ? { hourly: HOURLY.join(",") } : {}),
            },
            ttl: FORECAST_TTL,
            staleIfError,
          },
          call,
        ),
      );
      const d = body.daily;
      const dayList: Day[] = [];
      let offMidnight: OffMidnight | undefined;
      // A daily time is local midnight computed with one offset for the whole answer (the one
      // in force when asked), so across a clock change only that offset finds its date.
      const dateOf = (time: number) => isoDate((time + body.utc_offset_seconds) * 1000);
      // The day before, asked for its hours only, is left out.
      const first = hoursFrom !== today && d.time[0] !== undefined && dateOf(d.time[0]) === hoursFrom ? 1 : 0;
      const times = d.time.slice(first, first + days);
      // Open-Meteo reads its values at UTC's whole hours, from the offset cut to whole hours, but labels
      // them with the whole offset: where it has half an hour (Kolkata's +05:30), each value, and
      // each day's 24 hours, is of half an hour after its label (before it, where the offset is negative).
      const labelShift = body.utc_offset_seconds % 3600;
      const startOf = (date: string) => {
        const [year, month, day] = date.split("-").map(Number) as [number, number, number];
        return zonedEpoch(year, month, day, 0, place.timezone);
      };
      times.forEach((time, i) => {
        const at = first + i;
        const date = dateOf(time);
        // Each day is the 24 hours from its time: the day clocks change ends an hour off the next midnight.
        const begin = time + labelShift;
        const end = begin + 24 * 3600;
        const ends = localIso(end * 1000, place.timezone).slice(11, 16);
        const next = times[i + 1];
        const after = next === undefined ? {} : { next: dateOf(next) };
        if (!offMidnight && (begin * 1000 !== startOf(date) || end * 1000 !== startOf(dateOf(end - labelShift)))) {
          offMidnight = {
            date,
            begins: localIso(begin * 1000, place.timezone).slice(11, 16),
            ends,
            ...after,
            ...(labelShift ? { byUtcHours: true } : {}),
          };
        }
        // Days of UTC's whole hours across a clock change: the day it falls in ends off the hour the others begin at.
        if (offMidnight?.byUtcHours && !offMidnight.change && ends !== offMidnight.begins) {
          offMidnight.change = { date, ends, ...after };
        }
        if (offMidnight && date === today && end * 1000 <= now) offMidnight.todayEnded = ends;
        const max = d.temperature_2m_max[at];
        const min = d.temperature_2m_min[at];
        if (max === null || max === undefined || min === null || min === undefined) return;
        const code = d.weather_code[at];
        dayList.push({
          date,
          temperature_min_c: min,
          temperature_max_c: max,
          ...some("precipitation_mm", d.precipitation_sum[at]),
          ...some("precipitation_probability_percent", d.precipitation_probability_max[at]),
          ...some("wind_speed_max_ms", d.wind_speed_10m_max[at]),
          ...some("wind_gusts_max_ms", d.wind_gusts_10m_max[at]),
          ...(code === null || code === undefined ? {} : { condition: wmoCondition(code) }),
        });
      });
      const h = body.hourly;
      const hours: Hour[] = [];
      // Open-Meteo's precipitation, its probability and gusts at a time are of the hour before it
      // (the others are instant values), and so is its weather code, which it derives from that
      // precipitation: a step starting at one time takes them from the next. The answer's last
      // hour has no next and is left out.
      h?.time.slice(0, -1).forEach((time, i) => {
        const temperature = h.temperature_2m[i];
        if (temperature === null || temperature === undefined) return;
        const code = h.weather_code[i + 1];
        hours.push({
          time: (time + labelShift) * 1000,
          period_hours: 1,
          temperature_c: temperature,
          ...some("humidity_percent", h.relative_humidity_2m[i]),
          ...some("precipitation_mm", h.precipitation[i + 1]),
          ...some("precipitation_probability_percent", h.precipitation_probability[i + 1]),
          ...some("wind_speed_ms", h.wind_speed_10m[i]),
          ...some("wind_direction_deg", h.wind_direction_10m[i]),
          ...some("wind_gusts_ms", h.wind_gusts_10m[i + 1]),
          ...some("cloud_cover_percent", h.cloud_cover[i]),
          ...(code === null || code === undefined ? {} : { condition: wmoCondition(code) }),
        });
      });
      return { days: dayList, hours, ...(offMidnight ? { offMidnight } : {}), ...(stale ? { stale } : {}) };
    },
  };
}
