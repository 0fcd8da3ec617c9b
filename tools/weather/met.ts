import { z } from "zod";
import { UpstreamError } from "../../src/errors.js";
import type { Call, HttpResponse, Upstream } from "../../src/http/client.js";
import { upstreamMessage } from "../../src/http/failures.js";
import { metCondition } from "./conditions.js";
import { localDays, type Step } from "./days.js";
import { coordinate, type Now, type WeatherProvider } from "./provider.js";

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

type Entry = z.output<typeof locationforecast>["properties"]["timeseries"][number];
const HOUR = 3_600_000;

function metError(name: string, response: HttpResponse): Error | undefined {
  const said = upstreamMessage(response);
  const quoted = said ? ` "${said}"` : "";
  if (response.status === 403) {
    return new UpstreamError(
      `${name} refused the request (403${quoted}). It blocks clients that do not identify themselves or that break its terms: check that WAITER_CONTACT is an email or URL where you can be reached, and see https://api.met.no/doc/TermsOfService.`,
      403,
    );
  }
  if (response.status === 429) {
    return new UpstreamError(
      `${name} is throttling waiter (429${quoted}): too many requests from this address. Wait several minutes before retrying; MET Norway throttles clients without a real contact in WAITER_CONTACT first.`,
      429,
    );
  }
  return undefined;
}

/**
 * The forecast steps of a timeseries. Each step's period runs to the next step: one hour while
 * the series is hourly, six hours after; its precipitation and condition come from the
 * matching `next_N_hours`, so nothing is counted twice.
 */
function stepsOf(series: Entry[]): Step[] {
  return series.map((entry, i) => {
    const time = Date.parse(entry.time);
    const following = series[i + 1];
    const gap = following ? Math.round((Date.parse(following.time) - time) / HOUR) : undefined;
    const { instant, next_1_hours: one, next_6_hours: six, next_12_hours: twelve } = entry.data;
    const d = instant.details;
    let covered: { data: NonNullable<typeof one>; length: number } | undefined;
    if (one && (gap === undefined || gap <= 1)) covered = { data: one, length: 1 };
    else if (six) covered = { data: six, length: 6 };
    else if (one) covered = { data: one, length: 1 };
    else if (twelve) covered = { data: twelve, length: 12 };
    const hours = covered ? Math.min(gap ?? covered.length, covered.length) : (gap ?? 1);
    const amount = covered?.data.details?.precipitation_amount;
    const symbol = covered?.data.summary?.symbol_code;
    const details = covered?.data.details;
    return {
      time,
      period_hours: hours,
      temperature_c: d.air_temperature,
      ...(d.relative_humidity === undefined ? {} : { humidity_percent: d.relative_humidity }),
      ...(amount === undefined || !covered
        ? {}
        : { precipitation_mm: Math.round((amount * hours * 10) / covered.length) / 10 }),
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
    };
  });
}

/**
 * MET Norway's Locationforecast 2.0: global, about nine days ahead. Its terms ask for an
 * identifying User-Agent, at most 4 decimals, and caching until `Expires` with
 * If-Modified-Since after (the HTTP client does both from the answer's headers).
 */
export function metNorway(api: Upstream): WeatherProvider {
  async function steps(place: { latitude: number; longitude: number; elevation_m?: number }, call: Call) {
    const body = await api.json(
      locationforecast,
      "/locationforecast/2.0/complete",
      {
        query: {
          lat: coordinate(place.latitude),
          lon: coordinate(place.longitude),
          ...(place.elevation_m === undefined ? {} : { altitude: Math.round(place.elevation_m) }),
        },
      },
      call,
      (response) => metError(api.name, response),
    );
    return stepsOf(body.properties.timeseries);
  }

  return {
    id: "met",
    name: "MET Norway",
    attribution: "Weather data from MET Norway (the Norwegian Meteorological Institute), CC BY 4.0",
    maxDays: 10,

    async current(place, call): Promise<Now> {
      const all = await steps(place, call);
      const now = Date.now();
      const step = all.filter((s) => s.time <= now).at(-1) ?? (all[0] as Step);
      // The conditions at the step's start; the precipitation and condition of its first hour.
      const { period_hours, period_min_c, period_max_c, precipitation_probability_percent, ...current } = step;
      return current;
    },

    async forecast(place, days, withHours, call) {
      const all = await steps(place, call);
      const hours = withHours ? all.map(({ period_min_c: _, period_max_c: __, ...hour }) => hour) : [];
      return { days: localDays(all, place.timezone, days), hours };
    },
  };
}
