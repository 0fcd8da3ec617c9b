import { z } from "zod";
import { decimal } from "../../src/settings.js";
import { quote } from "../../src/shown.js";
import { defineTool, type Tool } from "../../src/toolset.js";
import { type geocoder, geonamesCountry } from "./places.js";
import { byCoordinates, placeLine, placeOut } from "./shapes.js";

export function geocodeTool(places: ReturnType<typeof geocoder>): Tool {
  return defineTool({
    name: "weather_geocode",
    title: "Find a place",
    description:
      "Finds places by name, most relevant first: to tell apart places of one name, then pass " +
      "the chosen one to the weather tools as listed.",
    input: {
      name: z.string().min(2).max(200).describe('A name or its start: "Ostrava", "Frankf, DE".'),
      country_code: z
        .string()
        .trim()
        .regex(/^[A-Za-z]{2}$/, "must be a two-letter ISO 3166-1 country code such as CZ, DE or US")
        .transform(geonamesCountry)
        .optional()
        .describe("ISO 3166-1 alpha-2: CZ, DE, US."),
      language: z
        .string()
        .trim()
        .regex(/^[A-Za-z]{2}$/, "must be a two-letter ISO 639-1 language code such as en, de or cs")
        .transform((code) => code.toLowerCase())
        .refine(isLanguage, { error: (issue) => notALanguage(String(issue.input)) })
        .optional()
        .describe("ISO 639-1 of the names: en (default), de, cs."),
      count: decimal(z.number().int().min(1).max(10)).default(5).describe("1 to 10; default 5."),
    },
    output: {
      query: z.string(),
      places: z.array(placeOut),
      note: z.string().optional(),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const searched = await places.lookup(
        "name",
        args.name,
        {
          count: args.count,
          ...(args.language ? { language: args.language } : {}),
          ...(args.country_code ? { countryCode: args.country_code } : {}),
        },
        call,
      );
      const found = searched.matching.slice(0, args.count);
      // The weather tools search in English: a region's or country's name in another language matches none there.
      if (found.length > 0) {
        // Said in the note too, for a client that shows the model only structuredContent.
        const marked = found.flatMap((p, i) => (byCoordinates(p, found) ? [i + 1] : []));
        const note =
          args.language && args.language !== "en"
            ? namesIn(args.language)
            : marked.length
              ? sendAsListed(marked)
              : undefined;
        return { query: args.name, places: found, ...(note ? { note } : {}) };
      }
      // Searched for in one country only: none there, not none at all.
      const within = args.country_code
        ? { ...searched, qualifier: [searched.qualifier, args.country_code].filter(Boolean).join(", ") }
        : searched;
      return {
        query: args.name,
        places: found,
        note: places.nothingFound(
          within,
          `Check the spelling, try the English or local name${args.country_code ? ", or drop country_code" : ""}.`,
        ),
      };
    },
    render({ places: found, note }) {
      if (found.length === 0) return note ?? "No place was found.";
      const listed = found.map(
        (p, i) =>
          `${i + 1}. ${placeLine(p)}${p.population ? `, population ${p.population.toLocaleString("en-US")}` : ""}${byCoordinates(p, found)}`,
      );
      return [...listed, note ?? sendAsListed([])].join("\n");
    },
  });
}

/** To send the weather tools a place as listed, those `marked` (by their number in the list) by coordinates. */
const sendAsListed = (marked: number[]) =>
  // By its name, region and country the geocoder gives it its time zone and elevation, which coordinates alone lose.
  `To ask the weather tools about one, send it as listed (name, region and country), which keeps its time zone and elevation; its coordinates only where it says so${marked.length ? `: ${marked.join(", ")}` : ""}.`;

/** That the places are named in `language`, whose region and country names the weather tools search in English do not match: coordinates are what to send. */
const namesIn = (language: string) =>
  `The names are in ${quote(language)}, and the weather tools search in English, where a region or country so named may not be found: to ask them about a place, send its coordinates.`;

let languages: Intl.DisplayNames | undefined;

/**
 * A language ISO 639-1 has: the geocoder answers one it does not know in English without a word,
 * so a country's code given for its language (cz for Czech) would never bring its names.
 */
function isLanguage(code: string): boolean {
  languages ??= new Intl.DisplayNames(["en"], { type: "language", fallback: "none" });
  return languages.of(code) !== undefined;
}

/**
 * Why `code` is refused, naming the language to send where it is a country's code and its
 * language has a code of two letters (the Philippines' Filipino has only fil).
 */
function notALanguage(code: string): string {
  const region = code.toUpperCase();
  const country = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" }).of(region);
  const spoken = new Intl.Locale("und", { region }).maximize();
  return country && spoken.region === region && /^[a-z]{2}$/.test(spoken.language)
    ? `${code} is no ISO 639-1 language code but the country code of ${country}, whose language is ${spoken.language}: send that`
    : `${code} is no ISO 639-1 language code: send one such as en, de or cs`;
}
