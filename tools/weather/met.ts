import { z } from "zod";
import { UpstreamError } from "../../src/errors.js";
import { retryAfterSeconds, upstreamMessage } from "../../src/http/failures.js";
import type { Call, HttpResponse } from "../../src/http/types.js";
import { orKept, type Upstream } from "../../src/http/upstream.js";
import type { Log } from "../../src/log.js";
import { clock, HOUR_MS } from "../../src/time.js";
import { metCondition } from "./conditions.js";
import { localDays, type Step } from "./days.js";
import { coordinate, KEPT_FOR_SECONDS, type Now, type WeatherProvider } from "./provider.js";

const number = z.number().optional();
const period = z
  .object({
    summary: z.object({ symbol_code: z.string() }).optional(),
    details: z
      .object({
        precipitation_amount: number,
        probability_of_precipitation: number,
        air_temperature_max: number,
        air_temperature_min: number,
      })
      .optional(),
  })
  .optional();

/** Locationforecast 2.0 `complete`: GeoJSON whose `properties.timeseries` are hourly, then 6-hourly. */
const locationforecast = z.object({
  properties: z.object({
    timeseries: z
      .array(
        z.object({
          time: z.string(),
          data: z.object({
            instant: z.object({
              details: z.object({
                air_temperature: z.number(),
                relative_humidity: number,
                wind_speed: number,
                wind_from_direction: number,
                wind_speed_of_gust: number,
                cloud_area_fraction: number,
              }),
            }),
            next_1_hours: period,
            next_6_hours: period,
            next_12_hours: period,
          }),
        }),
      )
      .min(1),
  }),
});
/** An answer is kept as its forecast steps: a cached call works nothing out again. */
const forecastSteps = locationforecast.transform((body) => stepsOf(body.properties.timeseries));

type Entry = z.output<typeof locationforecast>["properties"]["timeseries"][number];
type Period = NonNullable<Entry["data"]["next_1_hours"]>;

/**
 * MET Norway's error answers, in terms of its terms of service and the location sent; `contact`
 * is the contact setting, named where it was set.
 */
export function metErrors(response: HttpResponse, name: string, contact: string): Error | undefined {
  const said = upstreamMessage(response);
  const quoted = said ? ` "${said}"` : "";
  if (response.status === 403) {
    // A web filter or proxy on the way (a company's) answers with a 403 page of its own too.
    const page = String(response.headers["content-type"] ?? "").startsWith("text/html");
    const filtered = page
      ? `; if that page is not ${name}'s but a web filter's or proxy's on this machine's network, ask whoever runs it to let waiter reach ${response.url.host}`
      : "";
    return new UpstreamError(
      `${name} refused the request (403${quoted}). It blocks clients that do not identify themselves or that break its terms: check that ${contact} is an email or URL where you can be reached, and see https://api.met.no/doc/TermsOfService${filtered}.`,
      403,
    );
  }
  if (response.status === 400 || response.status === 422) {
    const sent = ["lat", "lon", "altitude"]
      .flatMap((key) => {
        const value = response.url.searchParams.get(key);
        return value === null ? [] : [`${key}=${value}`];
      })
      .join(", ");
    return new UpstreamError(
      `${name} refused the location (${response.status}${quoted}; sent ${sent}): the coordinates or the altitude are outside what it serves. Check them, or try other coordinates nearby.`,
      response.status,
    );
  }
  if (response.status === 429) {
    const seconds = retryAfterSeconds(response);
    const wait = seconds === undefined ? "Wait several minutes before retrying" : `Try again in ${seconds} s`;
    return new UpstreamError(
      `${name} is throttling waiter (429${quoted}): too many requests from this address. ${wait}; MET Norway throttles clients without a real contact in ${contact} first.`,
      429,
      seconds,
    );
  }
  return undefined;
}

const amountOf = (period: Period | undefined) => period?.details?.precipitation_amount;

/**
 * Precipitation of [start, start + hours) where hourly steps give way to 6-hourly ones and the
 * gap is 2 to 5 hours: the 6 hours that end where the gap ends, less the hours before `start`
 * that hourly steps already counted. Undefined when the series does not allow it.
 */
function gapAmount(at: Map<number, Entry>, start: number, hours: number): number | undefined {
  const from = start + (hours - 6) * HOUR_MS;
  const six = amountOf(at.get(from)?.data.next_6_hours);
  if (six === undefined) return undefined;
  let counted = 0;
  for (let t = from; t < start; t += HOUR_MS) {
    const one = amountOf(at.get(t)?.data.next_1_hours);
    if (one === undefined) return undefined;
    counted += one;
  }
  return Math.max(0, six - counted);
}

/**
 * The forecast steps of a timeseries. Each step's period runs to the next step: one hour while
 * the series is hourly, six hours after; its precipitation and condition come from the
 * matching `next_N_hours`, so nothing is counted twice. Where hourly steps give way to 6-hourly
 * ones, the step between, of two to five hours, has the precipitation of its own hours worked
 * out, and no condition or chance: MET Norway gives none of those hours alone. Its day takes
 * those of the 6 hours that end where it ends.
 */
function stepsOf(series: Entry[]): Step[] {
  const at = new Map(series.map((entry) => [Date.parse(entry.time), entry]));
  return series.map((entry, i) => {
    const time = Date.parse(entry.time);
    const following = series[i + 1];
    const gap = following ? Math.round((Date.parse(following.time) - time) / HOUR_MS) : undefined;
    const { instant, next_1_hours: one, next_6_hours: six, next_12_hours: twelve } = entry.data;
    const d = instant.details;
    let covered: { data: Period; length: number } | undefined;
    if (one && (gap === undefined || gap <= 1)) covered = { data: one, length: 1 };
    else if (six) covered = { data: six, length: 6 };
    else if (one) covered = { data: one, length: 1 };
    else if (twelve) covered = { data: twelve, length: 12 };
    // The last step, with no period of its own, is an instant: the forecast covers nothing after it.
    const hours = covered ? Math.min(gap ?? covered.length, covered.length) : (gap ?? 0);
    const whole = hours === covered?.length;
    const own = amountOf(covered?.data);
    const amount =
      covered?.length === 6 && hours < 6
        ? (gapAmount(at, time, hours) ?? (own === undefined ? undefined : (own * hours) / 6))
        : own;
    // A step cut short by the next (hourly steps giving way to 6-hourly ones) has no condition, chance
    // or extremes of its own: the period's are of hours after it too, the next step's, maybe past midnight.
    const symbol = whole ? covered?.data?.summary?.symbol_code : undefined;
    const details = whole ? covered?.data?.details : undefined;
    // The 6 hours that end where a step cut short ends: the hourly steps' hours before it, and its own.
    const from = time + (hours - 6) * HOUR_MS;
    const ending = whole || covered?.length !== 6 ? undefined : at.get(from)?.data.next_6_hours;
    const endingSymbol = ending?.summary?.symbol_code;
    // An hourly step's 6 hours from it, and a step cut short's, which reach into the next step's hours.
    const sixHourChance =
      (whole && hours === 1) || (!whole && covered?.length === 6)
        ? six?.details?.probability_of_precipitation
        : undefined;
    return {
      time,
      period_hours: hours,
      temperature_c: d.air_temperature,
      ...(d.relative_humidity === undefined ? {} : { humidity_percent: d.relative_humidity }),
      ...(amount === undefined ? {} : { precipitation_mm: Math.round(amount * 10) / 10 }),
      ...(details?.probability_of_precipitation === undefined
        ? {}
        : { precipitation_probability_percent: details.probability_of_precipitation }),
      ...(d.wind_speed === undefined ? {} : { wind_speed_ms: d.wind_speed }),
      ...(d.wind_from_direction === undefined ? {} : { wind_direction_deg: d.wind_from_direction }),
      ...(d.wind_speed_of_gust === undefined ? {} : { wind_gusts_ms: d.wind_speed_of_gust }),
      ...(d.cloud_area_fraction === undefined ? {} : { cloud_cover_percent: d.cloud_area_fraction }),
      ...(symbol ? { condition: metCondition(symbol) } : {}),
      ...(details?.air_temperature_min === undefined ? {} : { period_min_c: details.air_temperature_min }),
      ...(details?.air_temperature_max === undefined ? {} : { period_max_c: details.air_temperature_max }),
      ...(ending
        ? {
            ending: { from, ...(endingSymbol ? { condition: metCondition(endingSymbol) } : {}) },
          }
        : {}),
      ...(sixHourChance === undefined ? {} : { sixHourChance }),
    };
  });
}

/** MET Norway's terms: a 203 means this product version is deprecated or in beta; it is logged once. */
export function metDeprecation(log: Log): (response: HttpResponse, name: string) => void {
  let warned = false;
  return (response, name) => {
    if (response.status !== 203 || warned) return;
    warned = true;
    log.warning(
      `${name} answered 203: Locationforecast 2.0 is deprecated or in beta and will be shut down; waiter needs an update (see https://api.met.no/doc/TermsOfService).`,
    );
  };
}

/**
 * MET Norway's Locationforecast 2.0: global, about nine days ahead. Its terms ask for an
 * identifying User-Agent, at most 4 decimals, gzip, and caching until `Expires` with
 * If-Modified-Since after (the HTTP client does the last two, the caching from the answer's headers).
 */
export function metNorway(api: Upstream): WeatherProvider {
  function steps(place: { latitude: number; longitude: number; elevation_m?: number }, call: Call) {
    const query = {
      lat: coordinate(place.latitude),
      lon: coordinate(place.longitude),
      ...(place.elevation_m === undefined ? {} : { altitude: Math.round(place.elevation_m) }),
    };
    return orKept(KEPT_FOR_SECONDS, (staleIfError) =>
      api.json(forecastSteps, "/locationforecast/2.0/complete", { query, staleIfError }, call),
    );
  }

  return {
    id: "met",
    name: "MET Norway",
    attribution: "Weather data from MET Norway (the Norwegian Meteorological Institute), CC BY 4.0",
    maxDays: 10,
    windAtSteps: true,
    chances: "6-hour chances of precipitation (hourly where it gives none)",
    hoursOf: (instants) =>
      `MET Norway's hours give their temperature, humidity, ${instants} at their start, and their precipitation, its chance and their condition over the hour.`,

    async current(place, call): Promise<Now> {
      const { value: all, stale } = await steps(place, call);
      const now = clock.now();
      // Every value from one step, the one now is in, under its own time: its instant values,
      // and its precipitation and condition over the hour it starts.
      const step = all.filter((s) => s.time <= now).at(-1) ?? (all[0] as Step);
      const {
        time,
        temperature_c,
        humidity_percent,
        wind_speed_ms,
        wind_direction_deg,
        wind_gusts_ms,
        cloud_cover_percent,
        condition,
      } = step;
      const perHour = step.precipitation_mm === undefined ? undefined : step.precipitation_mm / step.period_hours;
      return {
        time,
        temperature_c,
        ...(humidity_percent === undefined ? {} : { humidity_percent }),
        ...(wind_speed_ms === undefined ? {} : { wind_speed_ms }),
        ...(wind_direction_deg === undefined ? {} : { wind_direction_deg }),
        ...(wind_gusts_ms === undefined ? {} : { wind_gusts_ms }),
        ...(perHour === undefined ? {} : { precipitation_mm_h: Math.round(perHour * 10) / 10 }),
        ...(cloud_cover_percent === undefined ? {} : { cloud_cover_percent }),
        ...(condition ? { condition } : {}),
        ...(stale ? { stale } : {}),
      };
    },

    async forecast(place, days, withHours, call) {
      const { value: all, stale } = await steps(place, call);
      const hours = withHours
        ? all.map(({ period_min_c: _, period_max_c: __, ending: ___, sixHourChance: ____, ...hour }) => hour)
        : [];
      const ends = all.at(-1)?.time;
      return {
        days: localDays(all, place.timezone, days),
        hours,
        ...(ends === undefined ? {} : { ends }),
        ...(stale ? { stale } : {}),
      };
    },
  };
}
