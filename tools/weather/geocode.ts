import { z } from "zod";
import { defineTool, type Tool } from "../../src/toolset.js";
import type { geocoder } from "./places.js";
import { placeLine, placeOut } from "./shapes.js";

export function geocodeTool(places: ReturnType<typeof geocoder>): Tool {
  return defineTool({
    name: "weather_geocode",
    title: "Find a place",
    description:
      "Finds places by name (cities, towns, villages; GeoNames data through Open-Meteo) with their coordinates, time zone and population, most relevant first. " +
      "Use it to tell apart places with the same name, then pass the chosen one's latitude and longitude to weather_current or weather_forecast. " +
      "Matches the name only: put the country in `country_code`, not in `name`.",
    input: {
      name: z
        .string()
        .min(2)
        .max(200)
        .describe('Place name, or its beginning: "Ostrava", "Frankf". At least 2 characters.'),
      country_code: z
        .string()
        .regex(/^[A-Za-z]{2}$/)
        .transform((code) => code.toUpperCase())
        .optional()
        .describe("Only places in this country: ISO 3166-1 alpha-2 code (CZ, DE, US)."),
      language: z
        .string()
        .regex(/^[A-Za-z]{2}$/)
        .transform((code) => code.toLowerCase())
        .optional()
        .describe("Language of the names returned: ISO 639-1 code (en, de, cs). Default en."),
      count: z.number().int().min(1).max(10).default(5).describe("How many places at most, 1 to 10. Default 5."),
    },
    output: {
      query: z.string().describe("The name searched for."),
      places: z.array(placeOut).describe("Matching places, most relevant first; empty when none matched."),
      note: z.string().optional().describe("What to try when no place matched."),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const found = await places.find(
        args.name,
        {
          count: args.count,
          ...(args.language ? { language: args.language } : {}),
          ...(args.country_code ? { countryCode: args.country_code } : {}),
        },
        call,
      );
      if (found.length > 0) return { query: args.name, places: found };
      return {
        query: args.name,
        places: found,
        note: `No place called "${args.name}" was found. Check the spelling, try the English or local name, or drop country_code.`,
      };
    },
    render({ places: found, note }) {
      if (found.length === 0) return note ?? "No place was found.";
      return found
        .map(
          (p, i) =>
            `${i + 1}. ${placeLine(p)}${p.population ? `, population ${p.population.toLocaleString("en-US")}` : ""}`,
        )
        .join("\n");
    },
  });
}
