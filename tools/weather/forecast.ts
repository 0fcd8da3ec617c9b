import { z } from "zod";
import { clock, localIso, midnight } from "../../src/time.js";
import { defineTool, type Tool } from "../../src/toolset.js";
import type { geocoder } from "./places.js";
import type { WeatherProvider } from "./provider.js";
import {
  alternativesOut,
  attributionOut,
  conditionOut,
  conditionText,
  footer,
  location,
  placeLine,
  placeOut,
  providerOut,
  round,
  where,
} from "./shapes.js";

/** Hours are listed for this many days at most, so an answer stays readable. */
const HOURLY_DAYS = 3;

export function forecastTool(places: ReturnType<typeof geocoder>, provider: WeatherProvider): Tool {
  const max = provider.maxDays;
  return defineTool({
    name: "weather_forecast",
    title: "Weather forecast",
    description:
      `Forecast per local day (midnight to midnight in the place's time zone) at a place name or coordinates, from ${provider.name}, up to ${max} days from today: ` +
      "minimum and maximum temperature, precipitation sum and probability, strongest wind and gusts, and the day's most significant condition in words. " +
      `With hourly, also the forecast steps of the first ${HOURLY_DAYS} days at most, from the current hour${provider.id === "met" ? " (hourly for about 2.5 days, then every 6 hours)" : ""}. ` +
      "Units are in the field names: °C, mm, %, m/s. A name that several places share uses the most populous; the others are listed.",
    input: {
      ...location,
      days: z
        .number()
        .int()
        .min(1)
        .max(max)
        .default(3)
        .describe(`Days to forecast, counting today: 1 to ${max}. Default 3 (today, tomorrow, the day after).`),
      hourly: z
        .boolean()
        .default(false)
        .describe(`Also list the forecast hour by hour, for the first ${HOURLY_DAYS} days at most. Default false.`),
    },
    output: {
      place: placeOut,
      alternatives: alternativesOut,
      days: z
        .array(
          z.object({
            date: z.string().describe("Local date, YYYY-MM-DD."),
            temperature_min_c: z.number().describe("Lowest temperature, °C."),
            temperature_max_c: z.number().describe("Highest temperature, °C."),
            precipitation_mm: z
              .number()
              .optional()
              .describe("Precipitation sum, mm (absent when the provider has none)."),
            precipitation_probability_percent: z
              .number()
              .optional()
              .describe("Highest probability of precipitation in the day, %."),
            wind_speed_max_ms: z.number().optional().describe("Strongest wind, m/s."),
            wind_gusts_max_ms: z.number().optional().describe("Strongest gust, m/s."),
            condition: conditionOut,
            partial: z
              .boolean()
              .optional()
              .describe("True when the forecast covers only part of this day (from now on, or until it runs out)."),
          }),
        )
        .describe("One entry per local day, today first."),
      hours: z
        .array(
          z.object({
            time: z.string().describe("Start of the step, local time with offset."),
            period_hours: z.number().describe("Hours the step covers: 1, or 6 further ahead (MET Norway)."),
            temperature_c: z.number().describe("Temperature at the start, °C."),
            humidity_percent: z.number().optional().describe("Relative humidity at the start, %."),
            precipitation_mm: z.number().optional().describe("Precipitation over the step, mm."),
            precipitation_probability_percent: z.number().optional().describe("Probability of precipitation, %."),
            wind_speed_ms: z.number().optional().describe("Wind speed, m/s."),
            wind_direction_deg: z.number().optional().describe("Direction the wind blows from, degrees."),
            wind_gusts_ms: z.number().optional().describe("Gusts, m/s."),
            cloud_cover_percent: z.number().optional().describe("Cloud cover, %."),
            condition: conditionOut,
          }),
        )
        .optional()
        .describe(`With hourly: the steps from the current hour to the end of day ${HOURLY_DAYS} at most.`),
      note: z.string().optional().describe("Why fewer days than asked came back, when they did."),
      provider: providerOut,
      attribution: attributionOut,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const resolved = await places.resolve(args, call);
      const zone = resolved.place.timezone;
      const forecast = await provider.forecast(resolved.place, args.days, args.hourly, call);
      const days = forecast.days.map(({ condition, ...day }) => ({ ...day, ...conditionText(condition) }));
      const now = clock.now();
      const hoursEnd = midnight(zone, now, Math.min(args.days, HOURLY_DAYS));
      const hours = forecast.hours
        .filter((h) => h.time + h.period_hours * 3_600_000 > now && h.time < hoursEnd)
        .map(({ time, condition, ...hour }) => ({ time: localIso(time, zone), ...hour, ...conditionText(condition) }));
      const short = days.length < args.days;
      return {
        ...where(resolved),
        days,
        ...(args.hourly ? { hours } : {}),
        ...(short
          ? {
              note: `${provider.name} forecasts ${days.length} of the ${args.days} days asked for here${days.length ? `, up to ${days.at(-1)?.date}` : ""}.`,
            }
          : {}),
        provider: provider.id,
        attribution: provider.attribution,
      };
    },
    render(r) {
      const lines = [`${placeLine(r.place)}, ${r.provider === "met" ? "MET Norway" : "Open-Meteo"} forecast:`];
      for (const d of r.days) {
        const rain = `${d.precipitation_mm ?? "?"} mm${d.precipitation_probability_percent === undefined ? "" : ` (${d.precipitation_probability_percent}%)`}`;
        const wind =
          d.wind_speed_max_ms === undefined
            ? ""
            : `, wind to ${d.wind_speed_max_ms} m/s${d.wind_gusts_max_ms === undefined ? "" : `, gusts to ${d.wind_gusts_max_ms} m/s`}`;
        lines.push(
          `${d.date}${d.partial ? " (part)" : ""}: ${round(d.temperature_min_c)} to ${round(d.temperature_max_c)} °C${d.condition ? `, ${d.condition}` : ""}, ${rain}${wind}`,
        );
      }
      if (r.note) lines.push(r.note);
      if (r.hours?.length) {
        lines.push("Hours:");
        for (const h of r.hours) {
          const rain =
            h.precipitation_mm === undefined
              ? ""
              : `, ${h.precipitation_mm} mm${h.period_hours > 1 ? ` in ${h.period_hours} h` : ""}`;
          const chance =
            h.precipitation_probability_percent === undefined ? "" : ` (${h.precipitation_probability_percent}%)`;
          const wind = h.wind_speed_ms === undefined ? "" : `, wind ${h.wind_speed_ms} m/s`;
          lines.push(
            `${h.time.slice(0, 16)} ${h.temperature_c} °C${h.condition ? `, ${h.condition}` : ""}${rain}${chance}${wind}`,
          );
        }
      }
      lines.push(...footer(r));
      return lines.join("\n");
    },
  });
}
