import { z } from "zod";
import { defineTool, type Tool } from "../../src/toolset.js";
import { type geocoder, notOnePlace } from "./places.js";
import type { WeatherProvider } from "./provider.js";
import {
  alternativesByCoordinates,
  alternativesOut,
  attributionOut,
  conditionOut,
  conditionText,
  footer,
  keptNote,
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
      `The weather now at a place name or coordinates, from ${provider.name}. Units are in the field names: °C, %, m/s, ` +
      "° (wind from), mm/h.",
    input: location,
    output: {
      place: placeOut,
      alternatives: alternativesOut,
      time: z.string(),
      time_utc: z.string(),
      temperature_c: z.number(),
      apparent_temperature_c: z.number().optional(),
      humidity_percent: z.number().optional(),
      wind_speed_ms: z.number().optional(),
      wind_direction_deg: z.number().optional(),
      wind_gusts_ms: z.number().optional(),
      precipitation_mm_h: z.number().optional(),
      cloud_cover_percent: z.number().optional(),
      condition: conditionOut,
      note: z.string().optional(),
      provider: providerOut,
      attribution: attributionOut,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    refuses: notOnePlace,
    async run(args, call) {
      const resolved = await places.resolve(args, call);
      const now = await provider.current(resolved.place, call);
      const { time, condition, stale, ...values } = now;
      const notes = [
        resolved.readAs,
        resolved.zoneDoubt,
        ...alternativesByCoordinates(resolved),
        stale && keptNote(provider.name, stale),
      ].filter(Boolean);
      return {
        ...where(resolved),
        ...times(time, resolved.place.timezone),
        ...values,
        ...conditionText(condition),
        ...(notes.length ? { note: notes.join(" ") } : {}),
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
        ...(r.note ? [r.note] : []),
        ...footer(r),
      ].join("\n");
    },
  });
}
