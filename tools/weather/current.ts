import { z } from "zod";
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
  times,
  where,
} from "./shapes.js";

export function currentTool(places: ReturnType<typeof geocoder>, provider: WeatherProvider): Tool {
  return defineTool({
    name: "weather_current",
    title: "Current weather",
    description:
      `The weather now at a place name or coordinates, from ${provider.name}: temperature, humidity, wind, gusts, precipitation, cloud cover and the condition in words. ` +
      "Units are in the field names: °C, %, m/s, degrees (the direction the wind blows from), mm. Times are ISO 8601 in the place's time zone, and in UTC. " +
      "A name that several places share uses the most populous; the others are listed.",
    input: location,
    output: {
      place: placeOut,
      alternatives: alternativesOut,
      time: z.string().describe("When these values hold, local time with offset: 2026-11-27T14:00+01:00."),
      time_utc: z.string().describe("The same moment in UTC."),
      temperature_c: z.number().describe("Air temperature, °C."),
      apparent_temperature_c: z.number().optional().describe("Feels-like temperature, °C (Open-Meteo only)."),
      humidity_percent: z.number().optional().describe("Relative humidity, %."),
      wind_speed_ms: z.number().optional().describe("Wind speed at 10 m, m/s."),
      wind_direction_deg: z
        .number()
        .optional()
        .describe("Direction the wind blows from, degrees (0 = north, 90 = east)."),
      wind_gusts_ms: z.number().optional().describe("Wind gusts, m/s."),
      precipitation_mm_h: z
        .number()
        .optional()
        .describe(
          "Precipitation intensity, mm per hour (MET Norway: its forecast for the current hour; Open-Meteo: the last 15 minutes).",
        ),
      cloud_cover_percent: z.number().optional().describe("Cloud cover, %."),
      condition: conditionOut,
      provider: providerOut,
      attribution: attributionOut,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const resolved = await places.resolve(args, call);
      const now = await provider.current(resolved.place, call);
      const { time, condition, ...values } = now;
      return {
        ...where(resolved),
        ...times(time, resolved.place.timezone),
        ...values,
        ...conditionText(condition),
        provider: provider.id,
        attribution: provider.attribution,
      };
    },
    render(r) {
      const parts = [
        `${r.temperature_c} °C`,
        r.apparent_temperature_c === undefined ? "" : `feels like ${r.apparent_temperature_c} °C`,
        r.condition ?? "",
        r.wind_speed_ms === undefined
          ? ""
          : `wind ${r.wind_speed_ms} m/s${r.wind_direction_deg === undefined ? "" : ` from ${r.wind_direction_deg}°`}${r.wind_gusts_ms === undefined ? "" : `, gusts ${r.wind_gusts_ms} m/s`}`,
        r.precipitation_mm_h === undefined ? "" : `precipitation ${r.precipitation_mm_h} mm/h`,
        r.humidity_percent === undefined ? "" : `humidity ${r.humidity_percent}%`,
        r.cloud_cover_percent === undefined ? "" : `cloud cover ${r.cloud_cover_percent}%`,
      ];
      return [
        `${placeLine(r.place)} at ${r.time} (${r.time_utc}):`,
        parts.filter(Boolean).join(", "),
        ...footer(r),
      ].join("\n");
    },
  });
}
