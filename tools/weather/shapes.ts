import { z } from "zod";
import type { Stale } from "../../src/http/upstream.js";
import { decimal } from "../../src/settings.js";
import { folded, quote } from "../../src/shown.js";
import { clock, localIso } from "../../src/time.js";
import type { Condition } from "./conditions.js";
import { label, type Place, type Resolved, writtenCoordinate, zoneName } from "./places.js";

/** Where: a place name, or coordinates. Exactly one of the two is checked when the tool runs. */
export const location = {
  place: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('A name, narrowed by a country or region: "Frankfurt, DE". Or use latitude, longitude.'),
  latitude: degrees(90, "north").optional().describe("Degrees, north positive."),
  longitude: degrees(180, "east").optional().describe("Degrees, east positive."),
};

/**
 * A coordinate, a number or decimal text. Text of no number is told the number it writes, as maps
 * write one with a decimal comma ("49,8") or a hemisphere's letter ("33.87S", "W 70.6"), else how
 * one is written.
 */
function degrees(max: number, positive: "north" | "east") {
  const error = (issue: { input?: unknown }) => {
    if (typeof issue.input !== "string") return undefined;
    const written =
      issue.input.length > 40 ? undefined : writtenCoordinate(issue.input, positive === "north" ? "NS" : "EW");
    const send =
      !written || Math.abs(written.degrees) > max
        ? `send one as ${positive === "north" ? "49.8" : "18.3"}, ${positive} positive`
        : written.guessed
          ? `if it is ${written.guessed}, send ${written.degrees}, ${positive} positive`
          : `send ${written.degrees}${written.lettered ? `, ${positive} positive` : ""}`;
    return `${quote(issue.input)} is no number of degrees: ${send}`;
  };
  return decimal(z.number({ error }).min(-max).max(max));
}

export const placeOut = z.object({
  name: z.string().optional(),
  region: z.string().optional(),
  country: z.string().optional(),
  country_code: z.string().optional(),
  latitude: z.number(),
  longitude: z.number(),
  elevation_m: z.number().optional(),
  timezone: z.string(),
  population: z.number().optional(),
});

/** Enough of each other place to tell it apart and ask about it by its name, region and country. */
const alternative = placeOut.pick({ name: true, region: true, country: true, latitude: true, longitude: true });

export const alternativesOut = z.array(alternative).optional();

export const conditionOut = z.string().optional();
export const providerOut = z.enum(["met", "open-meteo"]);
export const attributionOut = z.string();

export function conditionText(condition: Condition | undefined): { condition?: string } {
  return condition ? { condition: condition.text } : {};
}

export function where(resolved: Resolved): { place: Place; alternatives?: z.infer<typeof alternative>[] } {
  if (resolved.alternatives.length === 0) return { place: resolved.place };
  return {
    place: resolved.place,
    alternatives: resolved.alternatives.map((place) => alternative.parse(place)),
  };
}

/** Local time with offset and the same moment in UTC. */
export function times(epoch: number, zone: string): { time: string; time_utc: string } {
  return { time: localIso(epoch, zone), time_utc: `${new Date(epoch).toISOString().slice(0, 16)}Z` };
}

/** The lines under an answer: the alternatives to the place used, and the credit. */
export function footer(result: {
  alternatives?: z.infer<typeof alternative>[] | undefined;
  note?: string | undefined;
  attribution: string;
}): string[] {
  const lines: string[] = [];
  if (result.alternatives?.length) {
    // Those the note names to send by their coordinates are the exception, which the line defers to.
    const unless = result.note?.includes(BY_COORDINATES) ? ", unless the note above names it to send by them" : "";
    lines.push(
      // By its name, region and country the geocoder gives it its time zone and elevation, which coordinates alone lose.
      `Also found (not used; to use one, send it as listed, without its coordinates${unless}): ${result.alternatives
        .map((p) => `${label(p)} (${p.latitude}, ${p.longitude})`)
        .join("; ")}`,
    );
  }
  lines.push(result.attribution);
  return lines;
}

/** How the note naming the places also found to send by their coordinates begins. */
const BY_COORDINATES = "Of the places also found, send";

/**
 * The alternatives to send by their coordinates, said in the note, which a client that shows the model only
 * structuredContent shows too; the "Also found" line lists them all, to be sent as listed but for these.
 */
export function alternativesByCoordinates(resolved: Resolved): string[] {
  const listed = [resolved.place, ...resolved.alternatives];
  const marked = resolved.alternatives.filter((p) => byCoordinates(p, listed));
  if (!marked.length) return [];
  const [these, their, they] = marked.length === 1 ? ["this", "its", "it"] : ["these", "their", "each"];
  return [
    `${BY_COORDINATES} ${these} by ${their} latitude and longitude, as sent as listed ${they} would name another place: ${marked.map((p) => `${label(p)} (${p.latitude}, ${p.longitude})`).join("; ")}.`,
  ];
}

type Listed = Pick<Place, "name" | "region" | "country" | "latitude" | "longitude" | "population">;

/**
 * Why `place` is to be sent by its coordinates, not as listed among `listed`: asked for as listed, a place listed alike
 * with another is the more populous of them, not always itself; so is one listed without a region another of its name
 * and country is in ("Franklin, United States"), unless it is known to be more populous than each such other. Empty
 * where it is to be sent as listed.
 */
export function byCoordinates(place: Listed, listed: Listed[]): string {
  if (listed.filter((other) => label(other) === label(place)).length > 1) {
    return ": send these coordinates, as another place is listed alike";
  }
  const answersToo = listed.some(
    (other) =>
      other !== place &&
      folded(other.name ?? "") === folded(place.name ?? "") &&
      [place.region, place.country].every((field) => !field || field === other.region || field === other.country) &&
      (other.population ?? 0) >= (place.population ?? 0),
  );
  return answersToo ? ": send these coordinates, as another place listed answers to that name too" : "";
}

/**
 * What an answer says when the provider failed and it comes from the provider's answer kept from
 * before: how long ago that came, so that it can be told as the weather of then.
 */
export function keptNote(providerName: string, stale: Stale): string {
  const minutes = Math.floor((clock.now() - stale.keptAt) / 60_000);
  const hours = Math.floor(minutes / 60);
  const ago =
    minutes < 1
      ? "less than a minute"
      : [hours ? `${hours} h` : "", minutes % 60 ? `${minutes % 60} min` : ""].filter(Boolean).join(" ");
  return `${providerName} could not be asked now, so this comes from the answer it gave ${ago} ago, and may be out of date: ${stale.failure}`;
}

/** "Ostrava, Moravskoslezský kraj, Czechia (49.8347, 18.282; Europe/Prague)" */
export function placeLine(place: Place): string {
  const coordinates = `${place.latitude}, ${place.longitude}`;
  const zone = zoneName(place.timezone);
  return place.name ? `${label(place)} (${coordinates}; ${zone})` : `${coordinates} (${zone})`;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
