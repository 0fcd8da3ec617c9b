import { z } from "zod";
import { localIso } from "../../src/time.js";
import type { Condition } from "./conditions.js";
import { label, type Place, type Resolved } from "./places.js";

/** Where: a place name, or coordinates. Exactly one of the two is checked when the tool runs. */
export const location = {
  place: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'Place name, narrowed by a country code, country or region after a comma: "Frankfurt, DE". Or give latitude and longitude.',
    ),
  latitude: z.number().min(-90).max(90).optional().describe("Latitude in degrees, -90 to 90 (north positive)."),
  longitude: z.number().min(-180).max(180).optional().describe("Longitude in degrees, -180 to 180 (east positive)."),
};

export const placeOut = z
  .object({
    name: z.string().optional().describe("The place's name (absent for bare coordinates)."),
    region: z.string().optional().describe("State, region or province."),
    country: z.string().optional(),
    country_code: z.string().optional().describe("ISO 3166-1 alpha-2."),
    latitude: z.number(),
    longitude: z.number(),
    elevation_m: z.number().optional().describe("Elevation in metres."),
    timezone: z.string().describe("IANA time zone of the place; local times and days are in it."),
    population: z.number().optional(),
  })
  .describe("The place as resolved.");

export const alternativesOut = z
  .array(placeOut)
  .optional()
  .describe("Other places with that name, not used: pass one's coordinates to ask about it instead.");

export const conditionOut = z.string().optional().describe('The weather in plain words: "light rain showers".');
export const providerOut = z.enum(["met", "open-meteo"]).describe("The forecast provider that answered.");
export const attributionOut = z.string().describe("Credit the provider's licence asks to show with the data.");

export function conditionText(condition: Condition | undefined): { condition?: string } {
  return condition ? { condition: condition.text } : {};
}

export function where(resolved: Resolved): { place: Place; alternatives?: Place[] } {
  return { place: resolved.place, ...(resolved.alternatives.length ? { alternatives: resolved.alternatives } : {}) };
}

/** Local time with offset and the same moment in UTC. */
export function times(epoch: number, zone: string): { time: string; time_utc: string } {
  return { time: localIso(epoch, zone), time_utc: `${new Date(epoch).toISOString().slice(0, 16)}Z` };
}

/** The lines under an answer: the alternatives to the place used, and the credit. */
export function footer(result: { alternatives?: Place[] | undefined; attribution: string }): string[] {
  const lines: string[] = [];
  if (result.alternatives?.length) {
    lines.push(
      `Also called that (not used; ask by coordinates to use one): ${result.alternatives
        .slice(0, 5)
        .map((p) => `${label(p)} (${p.latitude}, ${p.longitude})`)
        .join("; ")}${result.alternatives.length > 5 ? "; …" : ""}`,
    );
  }
  lines.push(result.attribution);
  return lines;
}

/** "Ostrava, Moravskoslezský kraj, Czechia (49.8347, 18.282; Europe/Prague)" */
export function placeLine(place: Place): string {
  const coordinates = `${place.latitude}, ${place.longitude}`;
  return place.name ? `${label(place)} (${coordinates}; ${place.timezone})` : `${coordinates} (${place.timezone})`;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
