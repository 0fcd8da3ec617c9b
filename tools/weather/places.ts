import tzlookup from "@photostructure/tz-lookup";
import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import type { Call } from "../../src/http/types.js";
import type { Upstream } from "../../src/http/upstream.js";
import { percentDecoded } from "../../src/settings.js";
import { folded, oneLine, quote } from "../../src/shown.js";
import { clock, isTimeZone, localIso, offsetMinutes } from "../../src/time.js";

/** A place as the tools show it; a bare coordinate pair has only the coordinates and its zone. */
export interface Place {
  name?: string;
  /** The first-level division: state, region, kraj. */
  region?: string;
  country?: string;
  country_code?: string;
  latitude: number;
  longitude: number;
  elevation_m?: number;
  timezone: string;
  population?: number;
}

/** A place asked for by name: the one used, and the others that answer to that name. */
export interface Resolved {
  place: Place;
  alternatives: Place[];
  /** Why bare coordinates' zone may be a day off, to say with the answer. */
  zoneDoubt?: string;
  /** That an airport's code was read as the name of the place used, to say with the answer. */
  readAs?: string;
}

const result = z.object({
  name: z.string(),
  latitude: z.number(),
  longitude: z.number(),
  elevation: z.number().optional(),
  country_code: z.string().optional(),
  country: z.string().optional(),
  admin1: z.string().optional(),
  admin2: z.string().optional(),
  admin3: z.string().optional(),
  admin4: z.string().optional(),
  timezone: z.string().optional(),
  population: z.number().optional(),
  postcodes: z.array(z.string()).optional(),
});
// A search without hits answers without `results`; every answer of the API has `generationtime_ms`, so
// one without it is not the geocoder's (a gateway's {"message": …}) and fails rather than finding no place.
const search = z.object({ results: z.array(result).optional(), generationtime_ms: z.number() });

/** Places change names and borders rarely; a day in memory is plenty. */
const SEARCH_TTL = 24 * 3600;
/**
 * A search that found nothing, kept briefly: the place may be one GeoNames added since, or the geocoder's
 * answer one of a bad minute, which a day of "not found" would outlast.
 */
const NOTHING_FOUND_TTL = 5 * 60;

export interface SearchOptions {
  count: number;
  language?: string;
  countryCode?: string;
}

/** Why a place name with coordinates, neither, or half of a pair of coordinates, names no one place. */
export function notOnePlace(args: { place?: string; latitude?: number; longitude?: number }): string | undefined {
  const { place, latitude, longitude } = args;
  const hasCoordinates = latitude !== undefined || longitude !== undefined;
  return (place === undefined) === !hasCoordinates ||
    (hasCoordinates && (latitude === undefined || longitude === undefined))
    ? "Give either `place` (a place name) or both `latitude` and `longitude`, not both and not neither."
    : undefined;
}

/** A town's river as its letter abbreviates it after "a." ("Frankfurt a.M.", "Frankfurt a.O."), folded. */
const RIVER_LETTERS = new Map([
  ["m", "main"],
  ["o", "oder"],
]);

/** Open-Meteo's geocoding API (GeoNames data): place names to coordinates and time zones. */
export function geocoder(api: Upstream) {
  async function find(name: string, options: SearchOptions, call: Call): Promise<Found[]> {
    const body = await api.json(
      search,
      "/search",
      {
        query: {
          name,
          count: options.count,
          language: options.language ?? "en",
          countryCode: options.countryCode,
          format: "json",
        },
        ttl: (answer) => (answer.results?.length ? SEARCH_TTL : NOTHING_FOUND_TTL),
      },
      call,
    );
    return (body.results ?? []).map((r) => ({ place: toPlace(r), postcodes: r.postcodes ?? [] }));
  }

  /**
   * Places answering to `text`, the tool's `argument`, a name or "name, qualifier": the qualifier
   * narrows by country code, country, region or postal code, among more of the geocoder's hits.
   */
  async function lookup(argument: string, text: string, options: SearchOptions, call: Call) {
    refuseLocationCode(argument, text);
    // Before the address check, which would take "N 50.0875, E 14.4213" for a town "E" after its street.
    refuseCoordinates(argument, text);
    // A code of a US state and of an Italian province beside a postal code of both: the places of the town's name
    // found tell where it may be; where the geocoder fails, both readings are named, as without it.
    const read = withoutDistrict(text);
    const province = italianStreetToo(read) ?? italianToo(read) ?? italianAfterNameToo(read);
    const townsCalled = province ? await find(province.town, { count: 100 }, call).catch(() => []) : [];
    refuseAddress(argument, text, townsCalled);
    const [name = "", ...rest] = withoutDistrict(withQualifierOutOfBrackets(text))
      .split(",")
      .map((part) => part.trim());
    if (!name) {
      throw new ToolError(`\`${argument}\` is empty; give a place name such as "Ostrava" or "Springfield, Illinois".`);
    }
    const qualifier = rest.join(", ");
    const searchedHits = await find(name, { ...options, count: qualifier ? 100 : options.count }, call);
    const hits = searchedHits.length ? searchedHits : await besideRiver(name, call);
    const found = hits.map((hit) => hit.place);
    const matching = qualifier
      ? hits.filter((hit) => matches(hit, qualifier) || inColima(hit, qualifier, hits)).map((hit) => hit.place)
      : found;
    // A country's three letters after the town without a comma, "Ostrava DEU", or an Italian province's two, "Rieti RI":
    // the places of the town's name tell whether the town is in that country, as they do with the comma.
    const added = !qualifier && !hits.length ? commaToAdd(name) : undefined;
    // Before a Dutch postal code's digits ("Utrecht 3511 LU", "Odense 5000 DK"; LU Lucca's code too) the town is
    // searched, not the digits: where its places are tells the letters' reading.
    const dutchLine = !qualifier && !hits.length ? DUTCH_POSTAL_LINE.exec(name) : null;
    const townBeforeLetters =
      added?.threeLetters?.town ??
      (dutchLine && fourDigitCountry(dutchLine[3] ?? "") ? dutchLine[1] : undefined) ??
      (added?.province && (dutchLine?.[1] ?? added.province.town));
    const townsBeforeLetters = townBeforeLetters
      ? (await find(townBeforeLetters, { count: 100 }, call).catch(() => [])).map((hit) => hit.place)
      : [];
    return { argument, text, name, qualifier, hits, found, matching, townsCalled, townsBeforeLetters };
  }

  /**
   * For a town written with its river or land otherwise than the geocoder lists it ("Frankfurt/Oder", "Frankfurt(Oder)",
   * "Frankfurt an der Oder", "Frankfurt a. d. Oder", "Halle/Saale" for "Frankfurt (Oder)", "Halle (Saale)"; "Frankfurt
   * (Main)" and "Frankfurt a.M." for "Frankfurt am Main"; "Neustadt (Hessen)" for a Neustadt in Hesse), the places
   * called by the town's name that have that word in their name after it, or in their region's: none other, lest
   * "Frankfurt (Oder)" be taken for the bigger Frankfurt am Main.
   */
  async function besideRiver(name: string, call: Call): Promise<Found[]> {
    const [, town = "", within = "", afterWord = ""] =
      /^([^()/,\d]+?)\s*(?:\(([^()]+)\)|\/\s*([^()/,\d]+))$/u.exec(name) ??
      /^([^()/,\d]+?)\s+(?:an\s+der|am|a\.\s?d\.|a\.)\s*()(\p{L}[^()/,\d]*)$/iu.exec(name) ??
      [];
    const written = folded(within || afterWord)
      .replace(/[^\p{L}\s-]/gu, "")
      .trim();
    const word = RIVER_LETTERS.get(written) ?? written;
    if (!town.trim() || word.length < 3) return [];
    const called = folded(town.trim());
    const wordIn = (text: string) => new RegExp(`(?:^|[^\\p{L}])${word}(?:[^\\p{L}]|$)`, "u").test(text);
    const hits = await find(town.trim(), { count: 100 }, call);
    return hits.filter(({ place }) => {
      const placeName = folded(place.name ?? "");
      const region = folded(place.region ?? "");
      // The region's English name, or its name with an ending ("Hessen" for Hesse), not another's ("Saxony-Anhalt").
      const inRegion = region.length >= 4 && word.startsWith(region) && !/[\s-]/.test(word.slice(region.length));
      return placeName.startsWith(called) && (wordIn(placeName.slice(called.length)) || inRegion);
    });
  }

  /**
   * What a search that matched nothing says: where the text names a town beside a postal code or street
   * ("Ostrava 70200"), that town to send; otherwise `advice`, the searching tool's own.
   */
  function nothingFound(searched: Awaited<ReturnType<typeof lookup>>, advice: string): string {
    // The town was found and the rest is its street: no place of that name is missing, nor any postal code.
    const beforeStreet = foundTownBeforeStreet(searched);
    if (beforeStreet) return `${quote(searched.text)} is an address. ${sendTown(beforeStreet, searched.argument)}`;
    const regions = searched.found.flatMap((p) => (p.region ? [p.region] : []));
    // Four digits and two capitals after the town and a comma, "Wien, 1010 AT", are read as without the comma.
    const read = withoutDistrict(searched.text).replace(/^([^\d,]+?),\s*(\d{4}\s?[A-Z]{2})$/, "$1 $2");
    const town = townOf(read, false, regions) ?? townBesidePostalCode(read);
    if (!town) return `${noPlaceCalled(searched)} ${advice}`;
    const [sent, or] = stateOrProvince(town, italianToo(read), searched.townsCalled);
    // Read as "Amsterdam 1012 AB" is, the town alone: not "Sydney NSW 2000 AU", its state's code before the postcode.
    const dutch = or ? undefined : countryOrDutch(read, town, [...searched.found, ...searched.townsBeforeLetters]);
    return `${noPlaceCalled(searched, false)} ${sendTown(dutch?.town ?? sent, searched.argument, or ?? dutch?.or)}`;
  }

  /** That no place of the name searched was found, and the places of that name found elsewhere. */
  function noPlaceCalled(
    { argument, name, qualifier, hits, found, townsBeforeLetters }: Awaited<ReturnType<typeof lookup>>,
    commaAdvice = true,
  ): string {
    const listed = found.slice(0, 5).map(label).join("; ");
    const parts = qualifier
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
    // The parts of the qualifier no place found matches, each alone: those to name.
    const unmatched = parts.filter((part) => !hits.some((hit) => matches(hit, part, qualifier)));
    const code = unmatched.find((part) => /\d/.test(part));
    const words = unmatched.filter((part) => !/\d/.test(part)).join(", ");
    // Those no country or region with a code is known as ("CZE", "Hessen"): the places found may well be in them.
    const unknown = unmatched.filter(
      (part) => !/\d/.test(part) && !/^[A-Za-z]{2}$/.test(part) && !isCountryName(part) && !isKnownRegion(part),
    );
    // A country's three-letter code ("CZE"), named in the two letters the geocoder knows, as without the comma.
    const threeLetters = unknown.find((part) => ALPHA_3[part.toUpperCase()]) ?? "";
    const twoLetters = ALPHA_3[threeLetters.toUpperCase()];
    const send = [name, ...parts.map((part) => (part === threeLetters ? twoLetters : part))].join(", ");
    const known = twoLetters
      ? ` ${quote(threeLetters)} is the three-letter code of the country the geocoder knows as ${quote(twoLetters)}`
      : "";
    // Colima's too, as Mexico shortens it, where a place found is there as well as in Colombia (inColima).
    const colima =
      /^col$/i.test(threeLetters) &&
      found.some((place) => place.country_code === "MX" && folded(place.region ?? "") === "colima")
        ? [name, ...parts.map((part) => (part === threeLetters ? "Colima" : part))].join(", ")
        : undefined;
    // Named in two letters only where a place found is in that country: "Ostrava, DE" would find none either.
    const alpha3 = !known
      ? ""
      : found.some((place) => place.country_code === twoLetters)
        ? colima
          ? `${known}, and Colima's as Mexico shortens it: send ${quote(send)} or ${quote(colima)}, or ${quote(name)} if ${quote(threeLetters)} is an airport's code.`
          : `${known}: send ${quote(send)}, or ${quote(name)} if ${quote(threeLetters)} is an airport's code.`
        : found.length
          ? `${known}, where none of the places called ${quote(name)} found is.`
          : `${known}.`;
    // Named where the qualifier has more than the part that failed.
    const where = parts.length > 1 && words ? quote(words) : "";
    // The geocoder lists a few of a town's postal codes: one not listed may well be the town's.
    const others =
      !qualifier || !found.length
        ? ""
        : code
          ? ` Places called ${quote(name)} were found, but ${where ? `none in ${where}, and ` : ""}the geocoder lists none with ${parts.length > 1 ? `the postal code ${quote(code)}` : "that postal code"} (it knows few), so name it by its country code or region instead: ${listed}.`
          : unknown.length
            ? ` Places called ${quote(name)} exist, none of them in a country or region the geocoder knows as ${quote(unknown.join(", "))} (it knows countries by their English names and two-letter codes, regions by their English names): ${listed}.${alpha3}`
            : where
              ? ` Places called ${quote(name)} exist, none of them in ${where}: ${listed}.`
              : ` Places called ${quote(name)} exist elsewhere: ${listed}.`;
    // An Italian province's code alone is a US state's ("Rieti, RI"): where a place of the name is in Italy, it is named.
    const province = unmatched.find(isItalianProvinceCode);
    const italian = found.find((place) => place.country_code === "IT");
    const besides = parts.filter((part) => part !== province);
    const inItaly =
      province && italian && besides.every((part) => matches({ place: italian, postcodes: [] }, part))
        ? ` If ${quote(province)} is the Italian province, send ${quote([name, ...(besides.length ? besides : ["IT"])].join(", "))}: a province's code is read so only beside one of its postal codes.`
        : "";
    return `No place called ${quote(name)}${qualifier ? ` in ${quote(qualifier)}` : ""} was found.${others}${inItaly}${qualifier || !commaAdvice ? "" : commaForgotten(name, townsBeforeLetters)}${found.length ? "" : airportCode(name, argument)}`;
  }

  /**
   * The place a tool call means: coordinates as given, or the most populous place answering
   * to the name, those called exactly that first (the geocoder also answers "Most" with Móstoles,
   * whose name only begins so). But the geocoder searches every language's names and answers in
   * English: "Praha" brings Prague as "Prague" and a village in Texas as "Praha". A place found by
   * another of its names wins when it is LOCAL_NAME_FACTOR times as populous as the one called
   * so: a near spelling the search is fuzzy enough to bring ("Frankfort" for "Frankfurt") is no
   * such giant. "Name, qualifier" narrows by country code, country or region.
   */
  async function resolve(
    args: { place?: string; latitude?: number; longitude?: number },
    call: Call,
  ): Promise<Resolved> {
    const { place, latitude, longitude } = args;
    if (latitude !== undefined && longitude !== undefined) {
      const timezone = zoneAt(latitude, longitude);
      const doubt = zoneDoubt(latitude, longitude, timezone);
      return { place: { latitude, longitude, timezone }, alternatives: [], ...(doubt ? { zoneDoubt: doubt } : {}) };
    }
    const searched = await lookup("place", place ?? "", { count: 10 }, call);
    const { name, matching } = searched;
    const asked = folded(name);
    const exact = matching.filter((p) => folded(p.name ?? "") === asked);
    const called = exact.length ? exact : matching;
    const named = mostPopulous(called);
    // Found by another of its names (not one that begins so, nor, by its size, a near spelling).
    const translated = mostPopulous(matching.filter((p) => !folded(p.name ?? "").startsWith(asked)));
    const best =
      translated && (translated.population ?? 0) >= LOCAL_NAME_FACTOR * Math.max(1, named?.population ?? 0)
        ? translated
        : named;
    if (!best) {
      throw new ToolError(
        nothingFound(
          searched,
          'Check the spelling, try the English or local name, narrow with "name, country code", or give latitude and longitude.',
        ),
      );
    }
    // Villages of one name ("Nová Ves") mostly have no population in GeoNames: the first listed
    // would be one of them at random, whose weather may be a mountain range away.
    if (best === named && !best.population && called.length > 1) {
      // A town whose name begins so ("Lindau (Bodensee)" for "Lindau") may be the one meant.
      const bigger = matching.filter((p) => p.population && !called.includes(p));
      throw new ToolError(undecided(searched, called, bigger));
    }
    // An airport's code comes without its country or region: "ULM, DE" is the town.
    const readAs = searched.qualifier ? undefined : readAsName(name, best);
    return { place: best, alternatives: matching.filter((p) => p !== best).slice(0, 9), ...(readAs ? { readAs } : {}) };
  }

  /** What a name several places share says when none is known to be bigger: the places, to pick one. */
  function undecided(
    { name, qualifier }: Awaited<ReturnType<typeof lookup>>,
    places: Place[],
    bigger: Place[],
  ): string {
    // A region of one of them alone: one several are in would name no one place either.
    const region = places.find((p) => p.region && places.filter((q) => q.region === p.region).length === 1)?.region;
    const how =
      qualifier || !region
        ? "send the latitude and longitude of the one meant"
        : `name the one meant with its region after a comma, as ${quote(`${name}, ${region}`)}, or send its latitude and longitude`;
    const shown = (p: Place) => `${label(p)} (${p.latitude}, ${p.longitude})`;
    const listed = places
      .slice(0, 10)
      .map((p, i) => `${i + 1}. ${shown(p)}`)
      .join("; ");
    const others = bigger.length
      ? ` Also found, with a known population: ${bigger.slice(0, 3).map(shown).join("; ")}.`
      : "";
    return `Several places are called ${quote(name)}${qualifier ? ` in ${quote(qualifier)}` : ""}, none known to be more populous, so none is taken for it: ${how}. ${listed}${places.length > 10 ? "; …" : ""}.${others}`;
  }

  return { lookup, nothingFound, resolve };
}

/**
 * The zone of coordinates from the offline map, whose cells are too coarse where the date line runs
 * between islands a few dozen kilometres apart: it puts Tutuila (UTC-11) in Samoa's zone (UTC+13),
 * Fakaofo (UTC+13) in American Samoa's, Little Diomede and St Lawrence Island (UTC-9) in Chukotka's
 * (UTC+12). There the border between them decides.
 */
function zoneAt(latitude: number, longitude: number): string {
  const zone = tzlookup(latitude, longitude);
  const border = dateLineBorder(latitude, longitude);
  return border?.zones.includes(zone) ? border.zone : zone;
}

/** The two zones of a border the date line follows between islands, where it runs there, and the one side it gives. */
function dateLineBorder(latitude: number, longitude: number): { zones: string[]; zone: string } | undefined {
  const side = (zones: [string, string], first: boolean) => ({ zones, zone: first ? zones[0] : zones[1] });
  // Between Samoa's easternmost islets (171.35°W) and Tutuila's west cape (170.84°W).
  if (latitude > -15 && latitude < -12.5 && longitude > -173 && longitude < -168) {
    return side(["Pacific/Apia", "Pacific/Pago_Pago"], longitude < -171.09);
  }
  // Between Tokelau's southernmost atoll, Fakaofo (9.4°S), and Swains Island (11.05°S).
  if (latitude >= -12.5 && latitude < -7.5 && longitude > -173.5 && longitude < -170) {
    return side(["Pacific/Fakaofo", "Pacific/Pago_Pago"], latitude > -10.2);
  }
  // The 1867 convention line as the 1990 maritime boundary agreement draws it: due north from 65°30'N on
  // 168°58'37"W, between the Diomedes, and south-west from there through 64°05'08"N 172°W, between Cape
  // Chukotsky and St Lawrence Island, on the rhumb line to 53°43'42"N 170°18'31"E (175.085°W at 62.5°N).
  if (latitude > 62.5 && longitude > -175 && longitude < -167) {
    const line =
      latitude >= 65.5
        ? -168.977
        : latitude >= 64.0856
          ? -168.977 - ((65.5 - latitude) / (65.5 - 64.0856)) * 3.023
          : -172 - ((64.0856 - latitude) / (64.0856 - 62.5)) * 3.085;
    return side(["Asia/Anadyr", "America/Nome"], longitude < line);
  }
  return undefined;
}

/** How far around bare coordinates, in degrees of latitude (about 55 km), a zone a day apart is looked for. */
const DATE_LINE_REACH = 0.5;

/**
 * Why the zone the offline map gives bare coordinates may be a day off: it is coarse near the date
 * line. Said where the map puts a zone a day apart around them, within DATE_LINE_REACH, but where a
 * border the date line follows between islands (dateLineBorder) decided it.
 */
function zoneDoubt(latitude: number, longitude: number, zone: string): string | undefined {
  // The map's zones at sea are the nautical ones, which follow the longitude exactly.
  if (atSea(zone) || dateLineBorder(latitude, longitude)) return undefined;
  const now = clock.now();
  const offset = offsetMinutes(now, zone);
  // Degrees of longitude as far as DATE_LINE_REACH of latitude, at most 5 near the poles.
  const wide = DATE_LINE_REACH / Math.max(Math.cos((latitude * Math.PI) / 180), DATE_LINE_REACH / 5);
  const apart = new Set<string>();
  for (let k = 0; k < 16; k++) {
    const angle = (k * Math.PI) / 8;
    const lat = Math.max(-90, Math.min(90, latitude + DATE_LINE_REACH * Math.sin(angle)));
    const other = zoneAt(lat, ((longitude + wide * Math.cos(angle) + 540) % 360) - 180);
    if (Math.abs(offsetMinutes(now, other) - offset) >= 12 * 60) apart.add(other);
  }
  if (apart.size === 0) return undefined;
  const shown = (z: string) => {
    const utc = `UTC${localIso(now, z).slice(16)}`;
    return atSea(z) ? utc : `${z} (${utc})`;
  };
  const others = [...apart].map(shown);
  return `These coordinates' time zone, ${shown(zone)}, is from an offline map that is coarse near the date line, and puts ${others.join(" or ")}, a day apart, within about 55 km of them: the dates and times here may be a day off; ask by the place's name for its own zone.`;
}

/**
 * A zone as a reader takes it. The sea's zones, Etc/GMT+3 and the like, have POSIX's inverted sign
 * (Etc/GMT+3 is three hours behind UTC): they are written as their offset, UTC-03:00.
 */
export function zoneName(zone: string): string {
  return atSea(zone) ? `UTC${localIso(clock.now(), zone).slice(16)}` : zone;
}

function atSea(zone: string): boolean {
  return /^Etc\/GMT[+-]\d+$/.test(zone);
}

/**
 * Everest's summit, in metres: an elevation beyond it is GeoNames' 9999 for one it does not know
 * (open-meteo/open-meteo#869), which sent to MET Norway as the altitude would forecast the air 10 km up.
 */
const HIGHEST_GROUND_M = 8849;

/**
 * A place as the geocoder found it. Its names are GeoNames', which anyone may edit: each on one
 * line without invisible characters, as the tools' lines and completions show them.
 */
function toPlace(r: z.output<typeof result>): Place {
  const timezone = r.timezone && isTimeZone(r.timezone) ? r.timezone : zoneAt(r.latitude, r.longitude);
  const region = r.admin1 && oneLine(r.admin1);
  const country = r.country && oneLine(r.country);
  return {
    name: oneLine(r.name),
    ...(region ? { region } : {}),
    ...(country ? { country } : {}),
    ...(r.country_code ? { country_code: r.country_code } : {}),
    latitude: r.latitude,
    longitude: r.longitude,
    ...(r.elevation !== undefined && Math.abs(r.elevation) <= HIGHEST_GROUND_M ? { elevation_m: r.elevation } : {}),
    timezone,
    ...(r.population ? { population: r.population } : {}),
  };
}

/**
 * A plus code (Open Location Code: "9F2P3CPC+X6", or a short one before its town, "3CPC+X6 Praha") or a
 * what3words address ("///filled.count.soap"), as maps share a place, is no name the geocoder knows: it is
 * refused with what to send instead, a short code's town where written.
 */
function refuseLocationCode(argument: string, text: string): void {
  const instead = (town?: string) =>
    argument === "place"
      ? town
        ? `send the town after it, ${quote(town)}, or the place's latitude and longitude`
        : "send the place's latitude and longitude, or its town's name"
      : `search for ${town ? quote(town) : "its town's name"}, or give the weather tools the place's latitude and longitude`;
  const plusCode = /^\s*[23456789CFGHJMPQRVWX]{4,8}\+[23456789CFGHJMPQRVWX]{0,7}(?:[\s,]+(\p{L}.*?))?\s*$/iu.exec(text);
  if (plusCode) {
    throw new ToolError(
      `\`${argument}\` ${quote(text)} is a plus code, which no tool here reads: ${instead(plusCode[1])}.`,
    );
  }
  if (isWhat3words(text)) {
    throw new ToolError(
      `\`${argument}\` ${quote(text)} is a what3words address, which only what3words' own service reads: ${instead()}.`,
    );
  }
}

/**
 * A what3words address: three words apart by dots, "///" before them as what3words writes them, or without it
 * in small letters, as they are written, where no web address's "www" or country's code ("www.brno.cz") and no
 * name's capitals ("Mt.Ste.Marie") are.
 */
function isWhat3words(text: string): boolean {
  const [, marked, first = "", , last = ""] =
    /^\s*(\/\/\/\s*)?(\p{L}{2,})\.(\p{L}{2,})\.(\p{L}{2,})\s*$/u.exec(text) ?? [];
  if (!first) return false;
  return Boolean(marked) || (text === text.toLowerCase() && first !== "www" && last.length > 2);
}

/** Coordinates written where a place name goes are refused with the latitude and longitude to send. */
function refuseCoordinates(argument: string, text: string): void {
  const plain = withScheme(withPlainMarks(text));
  const route = directionsLink(plain);
  if (route) {
    const { destination, name, centre } = route;
    const send = destination
      ? `${sendAs(argument, "its destination", `latitude ${destination.latitude} and longitude ${destination.longitude}`)}, or another stop's`
      : `send the name of the stop meant in \`${argument}\`${name ? `, such as its destination, ${quote(name)}` : ""}`;
    throw new ToolError(
      `\`${argument}\` ${quote(text)} is a map's directions link, not a place name${centre ? `, whose centre (${centre}) is the route's, no stop on it` : ""}: ${send}.`,
    );
  }
  const bracketed = inSquareBrackets(plain);
  if (bracketed) throw new ToolError(squareBracketsRefused(argument, text, bracketed));
  const link = mapLink(plain);
  const read = link ?? coordinates(text);
  const east = read ? undefined : bothReadingsOfO(text);
  const pair = read ?? east?.[0];
  if (!pair) {
    if (/^\s*https?:\/\/\S+\s*$/i.test(plain)) {
      const sendName = (name: string) =>
        argument === "place"
          ? `send ${name}, or its latitude and longitude`
          : `search for ${name}, or give the weather tools its latitude and longitude`;
      const named = linkedPlaceName(plain);
      if (named) {
        throw new ToolError(
          `\`${argument}\` ${quote(text)} is a map's link to a place by its name, with no point in it: ${sendName(`its name, ${quote(named)}`)}, which its map shows.`,
        );
      }
      const send = sendName("the place's name");
      const shortened = shortenedLink(plain);
      const hidden = shortened ? " (a shortened link hides it)" : "";
      throw new ToolError(
        `\`${argument}\` ${quote(text)} is a web address, not a place name, and none this reads a point in${hidden}: ${send}${shortened === "map" ? ", which its map shows" : ""}.`,
      );
    }
    // Read as an address, its town would be the last letter, "E"; a name beside them is no part of them.
    const written = besideName(plain) ?? plain;
    const send = `${sendAs(argument, "them", "latitude and longitude")}, in decimal degrees, south and west negative.`;
    if (withHemispheres(written.replace(/[+-](?=\d)/g, ""))) {
      throw new ToolError(
        `\`${argument}\` ${quote(text)} is a pair of coordinates, not a place name, with a sign that says otherwise than the hemisphere's letter beside it: ${send}`,
      );
    }
    // Searched for as "S 33.87" in "151.21", or read as an address in the town "E".
    if (new RegExp(String.raw`^\s*${MARKED_PAIR}\s*$`, "iu").test(written) && written.match(/[NSEW]/gi)?.length === 1) {
      throw new ToolError(
        `\`${argument}\` ${quote(text)} is a pair of coordinates, not a place name, with a hemisphere's letter by one number only, which says nothing of the other: ${send}`,
      );
    }
    return;
  }
  // Read either way, none the tools take: sending them as latitude and longitude would be refused too.
  if (!onEarth(pair)) throw new ToolError(noPointOnEarth(argument, text));
  const send = `latitude ${pair.latitude} and longitude ${pair.longitude}`;
  if (link) {
    const searched =
      link.searched === undefined
        ? ""
        : `its search${link.searched ? ` for ${quote(link.searched)}` : ""} was made around`;
    const only = link.centre ? "the centre of its map is" : searched;
    throw new ToolError(
      `\`${argument}\` ${quote(text)} is a map's link, not a place name${only ? `, and says only where ${only}` : ""}: ${sendAs(argument, only ? "that" : "its point", send)}${only ? `, or send the place's name${link.named ? `, ${quote(link.named)}` : ""}` : ""}.`,
    );
  }
  if (east) {
    const west = `longitude ${east[1].longitude}`;
    throw new ToolError(
      `\`${argument}\` ${quote(text)} is a pair of coordinates, not a place name, whose "O" is east in German (Ost) but west in French, Spanish and Portuguese (Ouest, Oeste): ${sendAs(argument, "them", `${send} if east, or ${west} if west`)}.`,
    );
  }
  const town = gridTown(plain);
  if (town) {
    throw new ToolError(
      `\`${argument}\` ${quote(text)} is a pair of coordinates after a name, or a street grid's address after its town: ${sendAs(argument, "them", `${send} if coordinates`)}, or send ${quote(town)} if an address.`,
    );
  }
  // Searched for, "49.19" would be a place name matched nowhere "in 16.61".
  const altitude = altitudeAfter(plain);
  if (altitude) {
    throw new ToolError(
      `\`${argument}\` ${quote(text)} is a pair of coordinates with an altitude after them, ${quote(altitude)}, which no tool here takes, not a place name: ${sendAs(argument, "the pair", send)}.`,
    );
  }
  throw new ToolError(
    `\`${argument}\` ${quote(text)} is a pair of coordinates, not a place name: ${sendAs(argument, "them", send)}.`,
  );
}

/**
 * The altitude written after a pair of decimal degrees (copied), named where the pair is refused: a third number
 * read so may be none ("1.5, 2.5, 3.5"), which the reader then sees.
 */
function altitudeAfter(text: string): string | undefined {
  const decimal = String.raw`[-+]?\d{1,3}\.\d+`;
  return new RegExp(String.raw`^\s*${decimal}\s*,\s*${decimal}\s*,\s*(${ALTITUDE})\s*$`, "i").exec(text)?.[1];
}

/** An altitude as written after a pair of coordinates, in metres or, as US apps write it, in feet: "250 m", "820 ft". */
const ALTITUDE = String.raw`[-+]?\d+(?:\.\d+)?(?:\s*(?:m|ft))?`;

/**
 * A web address as pasted without its scheme, "maps.app.goo.gl/…", "www.google.com/maps/@…", "maps.google.com?q=…",
 * with https:// before it: read as a link, not searched for as a name. Its domain ends as a country's or a map's does,
 * not as a name with a dot and a slash, "St.Gallen/Ost".
 */
function withScheme(text: string): string {
  return /^\s*(?:www\.[^\s/?#]+\.[^\s/?#]+|(?:[a-z\d-]+\.)+(?:[a-z]{2}|com|org|net|info|app|apple))[/?#]\S*\s*$/i.test(
    text,
  )
    ? `https://${text.trim()}`
    : text;
}

/**
 * What to do with coordinates written where a name goes: in `place`, send them as latitude and longitude
 * instead; in a search for places, take them to the weather tools.
 */
const sendAs = (argument: string, what: string, as: string) =>
  argument === "place" ? `send ${what} as ${as}, without place` : `the weather tools take ${what} as ${as}`;

const onEarth = ({ latitude, longitude }: Coordinates) => Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;

const noPointOnEarth = (argument: string, text: string) =>
  `\`${argument}\` ${quote(text)} is a pair of coordinates, not a place name, and no point on Earth: latitude runs from -90 to 90 and longitude from -180 to 180.`;

/**
 * A pair of numbers in square brackets, an altitude after them where written, as GeoJSON and JSON arrays
 * write a point ("[18.28, 49.83]"): the readings on Earth, longitude first as GeoJSON has it, then latitude
 * first as maps have it; the first alone in a GeoJSON geometry ({"type": "Point", "coordinates": […]}).
 */
function inSquareBrackets(text: string): Coordinates[] | undefined {
  const number = String.raw`\s*([-+]?\d{1,3}(?:\.\d+)?)\s*`;
  const pair = String.raw`\[${number},${number}(?:,${number})?\]`;
  const geometry = new RegExp(String.raw`^\s*\{.*"coordinates"\s*:\s*${pair}.*\}\s*$`, "s").exec(text);
  const [, first, second] = geometry ?? new RegExp(String.raw`^\s*${pair}\s*$`).exec(text) ?? [];
  if (first === undefined || second === undefined) return undefined;
  const [a, b] = [Number(first), Number(second)];
  const readings = geometry
    ? [{ latitude: b, longitude: a }]
    : [
        { latitude: b, longitude: a },
        { latitude: a, longitude: b },
      ];
  return readings.filter(onEarth).filter((p, i, all) => i === 0 || p.latitude !== all[0]?.latitude);
}

/** What a pair in square brackets is told: each reading it may have, or that it is none on Earth. */
function squareBracketsRefused(argument: string, text: string, readings: Coordinates[]): string {
  const [first, second] = readings.map(({ latitude, longitude }) => `latitude ${latitude} and longitude ${longitude}`);
  if (first === undefined) return noPointOnEarth(argument, text);
  const both = second === undefined ? first : `${first}, or, if written latitude first, as ${second}`;
  return `\`${argument}\` ${quote(text)} is a pair of coordinates, not a place name, in square brackets, as GeoJSON writes a point, longitude first: ${sendAs(argument, "them", both)}.`;
}

/**
 * Coordinates whose longitude's hemisphere is written "O", read as east and as west, where both read: German
 * writes Ost, French, Spanish and Portuguese Ouest and Oeste, and nothing says which the text was written in.
 */
function bothReadingsOfO(text: string): [Coordinates, Coordinates] | undefined {
  const [east, west] = ["E", "W"].map((letter) => coordinates(text.replace(/(?<!\p{L})O(?!\p{L})/giu, letter)));
  return east && west ? [east, west] : undefined;
}

interface Coordinates {
  latitude: number;
  longitude: number;
}

/**
 * A place written as coordinates, "49.19,16.61", "49.19 16.61" or "+49.19, +16.61", with or
 * without a name in brackets beside them: latitude
 * first, as maps give them, unless only the other order puts the latitude within ±90. Whole
 * numbers apart by white space alone are no coordinates: "110 00" is a postal code (Prague's),
 * which the geocoder takes; a decimal point, a comma, a sign (+ or -) or a degree sign is written
 * in no postal code.
 */
function coordinates(written: string): Coordinates | undefined {
  const text = withPlainMarks(written);
  // With the place's name in brackets, as the tools list places, "Brno (49.19, 16.61)", or after them.
  const labelled = /^([^()]*)\(([^()]*)\)\s*$/.exec(text);
  if (labelled) return bare(labelled[1] ?? "") ?? bare(labelled[2] ?? "");
  const pair = besideName(text);
  return (
    geoUri(text) ??
    withLabels(text) ??
    signed(text) ??
    (pair === undefined ? undefined : signed(pair)) ??
    copied(text) ??
    slashed(text) ??
    iso6709(text)
  );
}

/** A pair of decimal degrees apart by a slash, as some forms and spreadsheets join them: "49.8347/18.2820". */
function slashed(text: string): Coordinates | undefined {
  const [, first, second] = /^\s*([-+]?\d{1,3}\.\d+)\s*\/\s*([-+]?\d{1,3}\.\d+)\s*$/.exec(text) ?? [];
  return first === undefined || second === undefined ? undefined : inOrder(Number(first), Number(second));
}

/**
 * A point as ISO 6709 writes it in one string, "+49.8347+018.2820/" or "+500515+0142515+250/": each coordinate signed
 * and zero-padded, degrees (2 digits of latitude, 3 of longitude), then minutes and seconds run on where written, a
 * fraction on the last; the closing slash may follow, after an altitude or the coordinate system's name
 * ("+27.5916+086.5640+8850CRSWGS_84/"). A third number without either is a phone number's: "+33-123-456789".
 */
function iso6709(text: string): Coordinates | undefined {
  const [, latitude = "", longitude = ""] =
    /^\s*([+-]\d{2}(?:\d{2}){0,2}(?:\.\d+)?)([+-]\d{3}(?:\d{2}){0,2}(?:\.\d+)?)(?:(?:[+-]\d+(?:\.\d+)?)?(?:CRS[^\s/]+\/?|\/))?\s*$/.exec(
      text,
    ) ?? [];
  const angle = (written: string, degreeDigits: number) => {
    const [whole = "", fraction] = written.slice(1).split(".");
    const units = [
      whole.slice(0, degreeDigits),
      whole.slice(degreeDigits, degreeDigits + 2),
      whole.slice(degreeDigits + 2),
    ].filter(Boolean);
    // The fraction is of the last unit written.
    if (fraction) units.push(`${units.pop()}.${fraction}`);
    const value = angleOf(...units);
    return value === undefined ? undefined : written.startsWith("-") ? -value : value;
  };
  if (!latitude) return undefined;
  const [lat, lon] = [angle(latitude, 2), angle(longitude, 3)];
  return lat === undefined || lon === undefined ? undefined : { latitude: lat, longitude: lon };
}

/**
 * A pair of decimal degrees as copied with what is written beside them: an altitude after them, as GPS devices
 * write it ("49.83, 18.28, 250 m"), or Google Maps' link's "@" before them and its zoom after ("@49.83,18.28,15z").
 */
function copied(text: string): Coordinates | undefined {
  const decimal = String.raw`([-+]?\d{1,3}\.\d+)`;
  const after = String.raw`\s*,\s*(?:\d+(?:\.\d+)?z|${ALTITUDE})`;
  const [, first, second] =
    new RegExp(String.raw`^\s*@?${decimal}\s*,\s*${decimal}(?:${after})?\s*$`, "i").exec(text) ?? [];
  return first === undefined || second === undefined ? undefined : inOrder(Number(first), Number(second));
}

/** A bare pair, with or without hemispheres' letters, also where a sign beside one says the same. */
function signed(text: string): Coordinates | undefined {
  const unsigned = withoutAgreeingSigns(text);
  return bare(text) ?? (unsigned === text ? undefined : bare(unsigned));
}

/**
 * The pair of coordinates written with a name before or after them, without brackets ("Ostrava 49.83,
 * 18.28", "49.83, 18.28 Ostrava", "Sydney -33.87 S, 151.21 E"), where a fraction or a degree sign on each
 * says they are: "Praha 4, 10.5" may be an address. A number in the name is the name's ("Praha 4 50.03,
 * 14.45"), not degrees whose minutes follow.
 */
function besideName(text: string): string | undefined {
  const [, before = "", pair, after = ""] =
    new RegExp(String.raw`^\s*(?:(${NAME_BESIDE})[,:]?\s+)?(${MARKED_PAIR})(?:\s+(${NAME_BESIDE}))?\s*$`, "iu").exec(
      text,
    ) ??
    new RegExp(String.raw`^\s*(${GRID_TOWN})[,:]?\s+(${WHOLE_LETTERED_PAIR})\s*$`, "iu").exec(text) ??
    [];
  // A hemisphere's letter by one of them ("S 33.87, 151.21") is no name, and says nothing of the other.
  const letter = /^[NSEW]$/i;
  return letter.test(before) || letter.test(after) ? undefined : pair;
}

/**
 * An angle with a fraction (after a decimal point or comma) or a degree sign, minutes and seconds where
 * written, a hemisphere's letter before or after it.
 */
const MARKED_ANGLE = String.raw`(?:[NSEW]\s*)?[-+]?\d{1,3}(?:[.,]\d+[°º]?|[°º](?:\s*\d{1,2}(?:[.,]\d+)?\s*['′’](?:\s*\d{1,2}(?:[.,]\d+)?\s*(?:["″”]|''))?)?)(?:\s*[NSEW](?!\p{L}))?`;

/** A place's name beside coordinates, a number of its own in it too: "Praha 4 50.03, 14.45". */
const NAME_BESIDE = String.raw`\p{L}[\p{L}\d\s.'-]*?`;

/** A town before a street grid's numbers, or a name before whole degrees: its state may come between ("Sydney, NSW"). */
const GRID_TOWN = String.raw`${NAME_BESIDE}(?:,\s*\p{L}[\p{L}\s.'-]*?)?`;

/**
 * The town before whole numbers, each with a letter after it, as a street grid's address is written after its
 * town ("Provo 55 N 100 E", 55 North on 100 East), which read as whole degrees are coordinates after a name too
 * ("Sydney 33 S 151 E"; Provo's are a point in Siberia): nothing tells which. A grid's address writes its
 * numbers first, so "Sydney S 33 E 151" is coordinates alone. Beyond any degree ("Salt Lake City 400 S 200 E",
 * "175 E 400 S") they are the address alone.
 */
function gridTown(text: string): string | undefined {
  const grid = String.raw`(?:\d{1,4}\s*[NS][\s,;]+\d{1,4}\s*[EW]|\d{1,4}\s*[EW][\s,;]+\d{1,4}\s*[NS])`;
  return new RegExp(String.raw`^\s*(${GRID_TOWN})[,:]?\s+${grid}\s*$`, "iu").exec(text)?.[1];
}

/**
 * Whole degrees of latitude and longitude, a hemisphere's letter before or after each ("33 S 151 E", "S 33 E 151"):
 * coordinates after a name ("Sydney 33 S 151 E"), where a street grid's address ("400 S 200 E, Salt Lake City")
 * has its town after it, and a street's single letter ("5th Ave 33 S") is no pair.
 */
const WHOLE_LETTERED_PAIR = String.raw`(?:\d{1,2}\s*[NS]|[NS]\s*\d{1,2})[\s,;]+(?:\d{1,3}\s*[EW]|[EW]\s*\d{1,3})`;

/** Two MARKED_ANGLEs, a latitude and a longitude. */
const MARKED_PAIR = String.raw`${MARKED_ANGLE}\s*[,;\s]\s*${MARKED_ANGLE}`;

/**
 * `text` without each sign that says what the hemisphere's letter beside its number says, as some GPS
 * exports write both ("-33.87 S, 151.21 E", "S -33.87"): minus by S or W, plus by N or E. One that says
 * otherwise is left, and the text is read as no coordinates.
 */
function withoutAgreeingSigns(text: string): string {
  const agrees = (sign: string, letter: string) => (sign === "-") === /[SW]/i.test(letter);
  return text
    .replace(
      /([+-])(\d[\d.,\s°º'′’"″”]*?)\s*([NSEW])(?![A-Z])/gi,
      (all, sign: string, angle: string, letter: string) => (agrees(sign, letter) ? `${angle} ${letter}` : all),
    )
    .replace(/(?<![A-Z])([NSEW])\s*([+-])(?=\d)/gi, (all, letter: string, sign: string) =>
      agrees(sign, letter) ? `${letter} ` : all,
    );
}

/**
 * The marks read as typed otherwise: the minus sign as typeset text writes it (U+2212, "−33.87"), copied
 * from a page or a PDF, and the ring above (U+02DA, "50˚05′N") a Mac keyboard types for a degree sign.
 */
const withPlainMarks = (text: string) => text.replaceAll("\u2212", "-").replaceAll("\u02DA", "°");

const DEGREES = String.raw`([-+]?\d{1,3}(?:\.\d+)?)`;

/**
 * A geo URI (RFC 5870), as map apps share a point: "geo:49.83,18.28", an altitude, parameters or a zoom
 * ("?z=15", Android's) after them; not Android's search, "geo:0,0?q=…", whose point is no place.
 */
function geoUri(text: string): Coordinates | undefined {
  const match = new RegExp(
    String.raw`^\s*geo:${DEGREES},${DEGREES}(?:,[-+]?\d+(?:\.\d+)?)?(?:;[^?\s]*)?(?:\?(?!q=)\S*)?\s*$`,
    "i",
  ).exec(text);
  return match ? { latitude: Number(match[1]), longitude: Number(match[2]) } : undefined;
}

/**
 * A map's link, pasted, and the point it names: Google Maps' search "?q=50.08,14.42" ("query=" too), the
 * place's own point in its data ("!3d50.08!4d14.42"), OpenStreetMap's marker ("?mlat=50.08&mlon=14.42").
 * Without one, the `centre` of the map it shows: Google Maps' "/@50.08,14.42,15z", also after a place's
 * name, where the place may be off the centre, or OpenStreetMap's "#map=15/50.08/14.42".
 */
function mapLink(text: string): (Coordinates & { centre: boolean; searched?: string; named?: string }) | undefined {
  if (!/^\s*https?:\/\/\S+\s*$/i.test(text)) return undefined;
  const end = String.raw`(?![\d.])`;
  const point =
    new RegExp(String.raw`[?&](?:q|query)=${DEGREES}(?:,|%2C)\s*${DEGREES}${end}`, "i").exec(text) ??
    new RegExp(`!3d${DEGREES}!4d${DEGREES}${end}`).exec(text) ??
    new RegExp(`[?&]mlat=${DEGREES}&mlon=${DEGREES}${end}`).exec(text);
  const searched = point ? undefined : searchedCoordinates(text);
  if (searched) return { ...searched, centre: false };
  const match =
    point ??
    new RegExp(`/@${DEGREES},${DEGREES}${end}`).exec(text) ??
    new RegExp(String.raw`#map=\d+(?:\.\d+)?/${DEGREES}/${DEGREES}${end}`).exec(text);
  return match
    ? { latitude: Number(match[1]), longitude: Number(match[2]), centre: !point }
    : (mapyPoint(text) ?? appleOrWazePoint(text) ?? osmShortLinkPoint(text) ?? googleCentre(text) ?? bingPoint(text));
}

/**
 * Bing Maps' link: the one pushpin it marks, "sp=point.49.83_18.28_Ostrava", or the centre of its map, "cp=49.83~18.28",
 * as its Share gives it, beside the place it searched for, "q", where written.
 */
function bingPoint(text: string): (Coordinates & { centre: boolean; named?: string }) | undefined {
  const url = webAddress(text);
  if (!url || !isBingMaps(url)) return undefined;
  const at = (match: RegExpExecArray) => ({ latitude: Number(match[1]), longitude: Number(match[2]) });
  // Several pushpins, apart by a tilde, mark no one place.
  const pushpin = new RegExp(`^point\\.${DEGREES}_${DEGREES}(?:_[^~]*)?$`).exec(
    url.searchParams.get("sp")?.trim() ?? "",
  );
  if (pushpin) return { ...at(pushpin), centre: false };
  const centre = new RegExp(`^${DEGREES}~${DEGREES}$`).exec(url.searchParams.get("cp")?.trim() ?? "");
  const named = oneLine(url.searchParams.get("q") ?? "").trim();
  return centre ? { ...at(centre), centre: true, ...(named ? { named } : {}) } : undefined;
}

/** Bing Maps, at bing.com or a country's host of it ("cn.bing.com"). */
function isBingMaps(url: URL): boolean {
  return /(?:^|\.)bing\.com$/i.test(url.hostname) && /^\/maps\b/i.test(url.pathname);
}

/**
 * The centre of a Google Maps link's map written as a parameter: "?ll=49.83,18.28" as its older links have it, or
 * "?api=1&map_action=map&center=49.83,18.28" as Maps URLs build one; without one, the point its older links' search,
 * "q", was made around, "sll", as Apple Maps' links have it too.
 */
function googleCentre(
  text: string,
): (Coordinates & { centre: boolean; searched?: string; named?: string }) | undefined {
  const url = webAddress(text);
  if (!url || !/(^|\.)google\.[a-z.]+$/i.test(url.hostname)) return undefined;
  const pair = (key: string) => new RegExp(`^${DEGREES},\\s*${DEGREES}$`).exec(url.searchParams.get(key)?.trim() ?? "");
  const at = (match: RegExpExecArray) => ({ latitude: Number(match[1]), longitude: Number(match[2]) });
  const centre = pair("center") ?? pair("ll");
  // The place an older link names beside its map's centre: "?q=Opava&ll=49.94,17.9".
  const named = oneLine(url.searchParams.get("q") ?? "").trim();
  if (centre) return { ...at(centre), centre: true, ...(named ? { named } : {}) };
  const around = pair("sll");
  return around ? { ...at(around), centre: false, searched: named } : undefined;
}

/**
 * OpenStreetMap's short link, "https://osm.org/go/0J0lUjJT--", whose code is the point (decoded as OpenStreetMap's own
 * lib/short_link.rb does, to 6 decimals): its map's centre, or the point it marks where "?m" follows.
 */
function osmShortLinkPoint(text: string): (Coordinates & { centre: boolean }) | undefined {
  const url = webAddress(text);
  if (!url || !/^(?:www\.)?(?:osm|openstreetmap)\.org$/i.test(url.hostname)) return undefined;
  const [, code] = /^\/go\/([A-Za-z0-9_~@-]+)$/.exec(url.pathname) ?? [];
  if (!code) return undefined;
  const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~";
  let [x, y, bits] = [0, 0, 0];
  for (const char of code.replaceAll("@", "~")) {
    const digit = digits.indexOf(char);
    if (digit < 0) continue;
    // Each character holds 3 bits of each, interleaved, longitude's first.
    for (let bit = 5; bit > 0; bit -= 2) {
      x = x * 2 + ((digit >> bit) & 1);
      y = y * 2 + ((digit >> (bit - 1)) & 1);
    }
    bits += 3;
  }
  if (bits === 0) return undefined;
  const scale = 2 ** (32 - bits) / 2 ** 32;
  const round = (degrees: number) => Math.round(degrees * 1e6) / 1e6;
  return {
    latitude: round(y * scale * 180 - 90),
    longitude: round(x * scale * 360 - 180),
    centre: !url.searchParams.has("m"),
  };
}

/**
 * Apple Maps' link: the place it marks, "?coordinate=50.08,14.42", or "?ll=50.08,14.42" labelled by "q=";
 * without a label, "ll" is only its map's centre, and "sll" (or "near") the point its search, "q", was made
 * around, `searched`. Waze's, as it shares a place: "waze.com/ul?ll=50.08,14.42" (the comma as "%2C" too).
 */
function appleOrWazePoint(text: string): (Coordinates & { centre: boolean; searched?: string }) | undefined {
  const url = webAddress(text);
  if (!url) return undefined;
  const host = url.hostname.toLowerCase().replace(/^www\./, "");
  const pair = (key: string) => new RegExp(`^${DEGREES},\\s*${DEGREES}$`).exec(url.searchParams.get(key)?.trim() ?? "");
  const at = (match: RegExpExecArray, centre: boolean) => ({
    latitude: Number(match[1]),
    longitude: Number(match[2]),
    centre,
  });
  if (host === "waze.com" && url.pathname.startsWith("/ul")) {
    const ll = pair("ll");
    if (ll) return at(ll, false);
    const [, hash] = /^\/ul\/h([0-9b-hjkmnp-z]{5,12})$/.exec(url.pathname) ?? [];
    return hash ? { ...geohashPoint(hash), centre: false } : undefined;
  }
  if (host !== "maps.apple.com") return undefined;
  const marked = pair("coordinate") ?? (url.searchParams.has("q") ? pair("ll") : null);
  if (marked) return at(marked, false);
  const centre = pair("ll");
  if (centre) return at(centre, true);
  const around = pair("sll") ?? pair("near");
  return around ? { ...at(around, false), searched: oneLine(url.searchParams.get("q") ?? "").trim() } : undefined;
}

/**
 * Coordinates a Google Maps link searches for written otherwise than "q=50.08,14.42": apart by a space
 * ("q=50.08+14.42"), with hemispheres' letters or in degrees and minutes ("q=50°05'N+14°25'E"), after "loc:".
 */
function searchedCoordinates(text: string): Coordinates | undefined {
  const url = webAddress(text);
  if (!url || !/(^|\.)google\.[a-z.]+$/i.test(url.hostname)) return undefined;
  const searched = url.searchParams.get("q") ?? url.searchParams.get("query");
  return searched ? coordinates(searched.replace(/^\s*loc:/i, "")) : undefined;
}

/** `text` read as a web address, white space around it left out, if it is one. */
function webAddress(text: string): URL | undefined {
  return URL.canParse(text.trim()) ? new URL(text.trim()) : undefined;
}

/** The centre of a geohash's cell ("u32kpzy90"), as Waze's link shares a place after "/ul/h", to six decimals. */
function geohashPoint(hash: string): Coordinates {
  const ranges = { longitude: [-180, 180], latitude: [-90, 90] };
  let even = true;
  for (const char of hash) {
    const bits = "0123456789bcdefghjkmnpqrstuvwxyz".indexOf(char);
    for (let bit = 4; bit >= 0; bit--) {
      const range = even ? ranges.longitude : ranges.latitude;
      const middle = ((range[0] ?? 0) + (range[1] ?? 0)) / 2;
      range[(bits >> bit) & 1 ? 0 : 1] = middle;
      even = !even;
    }
  }
  const centre = ([low = 0, high = 0]: number[]) => Math.round(((low + high) / 2) * 1e6) / 1e6;
  return { latitude: centre(ranges.latitude), longitude: centre(ranges.longitude) };
}

/**
 * Mapy.cz's link, longitude first: the point it marks, "source=coor&id=18.28,49.83" as it shares one, or
 * "/fnc/v1/showmap?center=18.28,49.83&marker=true"; without one, its view's centre, "?x=18.28&y=49.83&z=15".
 */
function mapyPoint(text: string): (Coordinates & { centre: boolean }) | undefined {
  const url = webAddress(text);
  if (!url || !/(^|\.)mapy\.(?:cz|com)$/i.test(url.hostname)) return undefined;
  const pair = (value: string | null) => new RegExp(`^${DEGREES},${DEGREES}$`).exec(value?.trim() ?? "");
  const [, lon, lat] =
    (url.searchParams.get("source") === "coor" ? pair(url.searchParams.get("id")) : null) ??
    (url.searchParams.get("marker") === "true" ? pair(url.searchParams.get("center")) : null) ??
    [];
  if (lon !== undefined && lat !== undefined) return { latitude: Number(lat), longitude: Number(lon), centre: false };
  const [, centreLon, centreLat] = pair(url.searchParams.get("center")) ?? [];
  const [x = centreLon ?? "", y = centreLat ?? ""] = ["x", "y"].map((key) => url.searchParams.get(key) ?? undefined);
  const degrees = new RegExp(`^${DEGREES}$`);
  return degrees.test(x) && degrees.test(y) ? { latitude: Number(y), longitude: Number(x), centre: true } : undefined;
}

/**
 * A map's link as apps share it, shortened: "https://maps.app.goo.gl/…", "https://mapy.cz/s/…", "https://osm.org/go/…",
 * HERE's, Yandex's, Bing's, 2GIS's ("map"); or any link by a shortener a map's link may be passed on through,
 * "https://bit.ly/…", which may lead to no map at all ("any").
 */
function shortenedLink(text: string): "map" | "any" | undefined {
  const url = webAddress(text);
  if (!url) return undefined;
  const host = url.hostname.toLowerCase().replace(/^www\./, "");
  const path = url.pathname;
  if (
    /^(?:maps\.app\.goo\.gl|goo\.gl|g\.co|maps\.apple|binged\.it|go\.2gis\.com)$/.test(host) ||
    (/^(?:[a-z]+\.)?mapy\.(?:cz|com)$/.test(host) && path.startsWith("/s/")) ||
    (host === "osm.org" && path.startsWith("/go/")) ||
    (host === "share.here.com" && path.startsWith("/p/")) ||
    (/^yandex\.[a-z.]+$/.test(host) && /^\/maps\/-\//.test(path))
  ) {
    return "map";
  }
  return /^(?:bit\.ly|tinyurl\.com|t\.co|t\.ly|is\.gd|ow\.ly|buff\.ly|rb\.gy|cutt\.ly|shorturl\.at|tiny\.cc|s\.id)$/.test(
    host,
  )
    ? "any"
    : undefined;
}

/** The place a Google Maps link names without a point: "/maps/place/Ostrava", "/maps/search/Ostrava", "?q=Ostrava". */
function linkedPlaceName(text: string): string | undefined {
  const url = webAddress(text);
  if (!url || !/(^|\.)google\.[a-z.]+$/i.test(url.hostname)) return undefined;
  if (!url.hostname.startsWith("maps.") && !url.pathname.startsWith("/maps")) return undefined;
  const inPath = /^\/maps\/(?:place|search)\/([^/@]+)/.exec(url.pathname)?.[1];
  const name =
    url.searchParams.get("q") ??
    url.searchParams.get("query") ??
    (inPath ? percentDecoded(inPath.replaceAll("+", " ")) : "");
  return oneLine(name).trim() || undefined;
}

/**
 * A Google Maps directions link, pasted, and its destination, the last stop: in its path ("/maps/dir/Ostrava/Praha/@…",
 * "/dir/49.83,18.28/50.08,14.42/@…", a start left empty for the device's own place, a destination left empty one not
 * chosen yet) or, as Maps URLs build one, "/maps/dir/?api=1&destination=…", a name or coordinates; its "/@" is the
 * centre of the route's map, `centre`.
 * Or Bing Maps' route, "rtp=adr.Ostrava~pos.50.08_14.42_Praha", its stops apart by a tilde, and its map's "cp".
 */
function directionsLink(text: string): { destination?: Coordinates; name?: string; centre?: string } | undefined {
  if (!/^\s*https?:\/\/\S+\s*$/i.test(text)) return undefined;
  const url = webAddress(text);
  if (url && isBingMaps(url) && url.searchParams.has("rtp")) return bingRoute(url);
  if (!url || !/(^|\.)google\.[a-z.]+$/i.test(url.hostname) || !url.pathname.startsWith("/maps/dir/")) return undefined;
  const decoded = (part: string) => oneLine(percentDecoded(part.replaceAll("+", " "))).trim();
  const parts = url.pathname.slice("/maps/dir/".length).split("/");
  const centre = parts.some((part) => part.startsWith("@")) ? "/@" : undefined;
  // The stops are the parts before the map's; each in its place, one left empty too: "/maps/dir/Ostrava//@…" has
  // no destination chosen yet. Only a slash that ends the path after them is none.
  const end = parts.findIndex((part) => part.startsWith("@") || part.startsWith("data="));
  const stops = (end < 0 ? parts.slice(0, parts.at(-1) === "" ? -1 : undefined) : parts.slice(0, end)).map(decoded);
  const last = url.searchParams.get("destination")?.trim() || stops.at(-1);
  if (!last) return { centre };
  const destination = bare(last);
  return destination ? { destination, centre } : { name: last, centre };
}

/**
 * Bing Maps' route and its destination, the last of its stops: "pos." and its latitude and longitude apart by an
 * underscore, a title after them, or "adr." and an address; a start left empty is the device's own place, a
 * destination left empty one not chosen yet ("rtp=adr.Praha~" starts in Praha).
 */
function bingRoute(url: URL): { destination?: Coordinates; name?: string; centre?: string } {
  const centre = url.searchParams.has("cp") ? "cp" : undefined;
  const last = oneLine((url.searchParams.get("rtp") ?? "").split("~").at(-1) ?? "").trim();
  const position = new RegExp(`^pos\\.${DEGREES}_${DEGREES}(?:_|$)`).exec(last);
  if (position) return { destination: { latitude: Number(position[1]), longitude: Number(position[2]) }, centre };
  const name = last.replace(/^adr\./, "").trim();
  return name ? { name, centre } : { centre };
}

/** Each number after its label, in either order: "lat 49.83, lon 18.28", "latitude=49.83 longitude=18.28". */
function withLabels(text: string): Coordinates | undefined {
  const part = String.raw`(lat(?:itude)?|lon(?:g(?:itude)?)?|lng)\s*[:=]?\s*${DEGREES}°?`;
  const match = new RegExp(String.raw`^\s*${part}\s*[,;]?\s*${part}\s*$`, "i").exec(text);
  if (!match) return undefined;
  const [, first = "", a, second = "", b] = match;
  const isLatitude = (label: string) => label.toLowerCase().startsWith("lat");
  if (isLatitude(first) === isLatitude(second)) return undefined;
  const [latitude, longitude] = isLatitude(first) ? [a, b] : [b, a];
  return { latitude: Number(latitude), longitude: Number(longitude) };
}

function bare(text: string): Coordinates | undefined {
  const match = /^\s*([-+]?\d{1,3}(?:\.\d+)?)°?\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)°?\s*$/.exec(text);
  if (!match || !/[.,;°+-]/.test(text)) return withHemispheres(text);
  return inOrder(Number(match[1]), Number(match[2]));
}

/** Latitude first, unless only the other order puts the latitude within ±90. */
function inOrder(first: number, second: number): Coordinates {
  return Math.abs(first) > 90 && Math.abs(second) <= 90
    ? { latitude: second, longitude: first }
    : { latitude: first, longitude: second };
}

/**
 * A hemisphere's letter, or an angle in degrees, with minutes and seconds where written: 50°05'15.0",
 * or decimal minutes without their mark after whole degrees, as geocaching writes them: 50° 05.250,
 * and as many type them, without the degree sign: 50 05.250.
 * A comma between digits is a decimal one, as Czech writes "50,0875".
 */
const COORDINATE_PART =
  /[\s,;]*(?:([NSEW])(?![A-Z])|(\d{1,3}(?:[.,]\d+)?)\s*[°º]?\s*(?:(\d{1,2}(?:[.,]\d+)?)\s*['′’]\s*(?:(\d{1,2}(?:[.,]\d+)?)\s*(?:["″”]|''))?|(?<=[°º]\s*|(?<![\d.,])\d{1,3}\s+)(\d{1,2}\.\d+)(?![\d°º]))?)/y;

/** The degrees a COORDINATE_PART's angle is, to 6 decimals; none where its minutes or seconds are no such. */
function angleOf(degrees = "0", minute = "0", second = "0"): number | undefined {
  const [d, m, s] = [degrees, minute, second].map((n) => Number(n.replace(",", "."))) as [number, number, number];
  if (m >= 60 || s >= 60 || (minute !== "0" && !Number.isInteger(d))) return undefined;
  return Math.round((d + m / 60 + s / 3600) * 1e6) / 1e6;
}

/** What coordinates are written with: letter, angle, letter, angle is "LALA" in `order`. */
interface CoordinateParts {
  letters: string[];
  angles: Angle[];
  order: string;
}

/**
 * An angle as read, and, where it has no mark of minutes or seconds, the numbers it was written with
 * ("50", or "05 30.5", unmarked decimal minutes after whole degrees), whether a degree sign followed,
 * and whether its digits run on from the number before ("1205" read as 120 and 5).
 */
interface Angle {
  angle: number;
  minutes: boolean;
  decimalComma: boolean;
  unmarked?: string[];
  degreeSign?: boolean;
  runsOn?: boolean;
}

/** The hemispheres' letters and the angles `text` writes (COORDINATE_PART); none where it writes anything else. */
function coordinateParts(text: string): CoordinateParts | undefined {
  const upper = text.trim().toUpperCase();
  const read: CoordinateParts = { letters: [], angles: [], order: "" };
  COORDINATE_PART.lastIndex = 0;
  while (COORDINATE_PART.lastIndex < upper.length) {
    const before = upper[COORDINATE_PART.lastIndex - 1] ?? "";
    const part = COORDINATE_PART.exec(upper);
    if (!part || part[0].trim() === "") return undefined;
    const [, letter, degrees, marked, second, unmarked] = part;
    if (letter) {
      read.letters.push(letter);
      read.order += "L";
      continue;
    }
    const minute = marked ?? unmarked;
    const angle = angleOf(degrees, minute, second);
    if (angle === undefined) return undefined;
    read.angles.push({
      angle,
      minutes: minute !== undefined,
      decimalComma: degrees?.includes(",") === true,
      ...(marked === undefined && degrees !== undefined
        ? {
            unmarked: unmarked === undefined ? [degrees] : [degrees, unmarked],
            degreeSign: /[°º]/.test(part[0]),
            runsOn: /\d/.test(before) && /^\d/.test(part[0]),
          }
        : {}),
    });
    read.order += "A";
  }
  return read;
}

/**
 * One coordinate as text, as a latitude or longitude argument may come: its degrees, south and west
 * negative, and whether a hemisphere's letter said so. "50.08 N", "S 33.87", "50,08", "-33°52'",
 * "50°05'15\"N"; none where it is more or other than that, or has both a sign and a letter.
 * Numbers apart by spaces with neither ("50 30") are read as unmarked degrees and minutes, but may be
 * a pair of coordinates in one argument: `guessed` says the angle they were taken for, 50°30′.
 */
export function writtenCoordinate(
  text: string,
  letters: "NS" | "EW",
): { degrees: number; lettered: boolean; guessed?: string } | undefined {
  const [, sign = "", rest = ""] = /^\s*([+-]?)(.*)$/s.exec(withPlainMarks(text)) ?? [];
  const parts = coordinateParts(rest);
  const read = parts && withUnmarkedMinutes(parts, true);
  if (!parts || !read || !["A", "AL", "LA"].includes(read.order)) return undefined;
  const [letter] = read.letters;
  const angle = read.angles[0]?.angle ?? 0;
  if (letter !== undefined && (sign || !letters.includes(letter))) return undefined;
  const [degrees = "", minutes, seconds] = parts.angles.flatMap((part) => part.unmarked ?? []);
  const guessed =
    !sign && letter === undefined && minutes !== undefined
      ? `${degrees}°${minutes}′${seconds === undefined ? "" : `${seconds}″`}`
      : undefined;
  return {
    degrees: sign === "-" || letter === letters[1] ? -angle : angle,
    lettered: letter !== undefined,
    ...(guessed ? { guessed } : {}),
  };
}

/**
 * Coordinates as maps and GPS devices write them: with a hemisphere's letter before or after
 * each ("50.0875N, 14.4213E", "N 50.0875, E 14.4213", S and W south and west) or in degrees and
 * minutes ("50°05'N 14°25'E", "50°05'15.0\"N 14°25'16.7\"E").
 */
function withHemispheres(text: string): Coordinates | undefined {
  const read = coordinateParts(text);
  if (!read) return undefined;
  const { letters, angles, order } = withUnmarkedMinutes(read);
  const [first = 0, second = 0] = angles.map((part) => part.angle);
  // Two bare numbers are coordinates only with something no postal code has: minutes, a decimal comma.
  if (order === "AA" && angles.some((part) => part.minutes || part.decimalComma)) return inOrder(first, second);
  if (order !== "LALA" && order !== "ALAL") return undefined;
  const [a = "", b = ""] = letters;
  const signed = (angle: number, letter: string) => (letter === "S" || letter === "W" ? -angle : angle);
  const latitudeFirst = /[NS]/.test(a) && /[EW]/.test(b);
  if (!latitudeFirst && !(/[EW]/.test(a) && /[NS]/.test(b))) return undefined;
  const [latitude, longitude] = latitudeFirst
    ? [signed(first, a), signed(second, b)]
    : [signed(second, b), signed(first, a)];
  // Out of range, whole numbers may be a street grid's address ("400 S 200 E", Salt Lake City's); with a
  // fraction or minutes they are coordinates mistyped, refused as no point on Earth.
  const inRange = Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
  return inRange || angles.some((part) => part.minutes || !Number.isInteger(part.angle))
    ? { latitude, longitude }
    : undefined;
}

/**
 * Degrees, minutes and seconds written without their marks, a hemisphere's letter before or after
 * them ("N 50 05 E 14 25", "50 05 30 N 14 25 15 E", "N 50 05 E 14 25.5"), read as one angle each;
 * anything else as read. Without a letter by them, numbers apart by spaces may be a postal code's
 * ("110 00") or a street's, and are left so, unless `alone`: one coordinate's argument ("-50 30").
 */
function withUnmarkedMinutes(read: CoordinateParts, alone = false): CoordinateParts {
  const angles: Angle[] = [];
  for (const { 0: run, index: at } of read.order.matchAll(/A+/g)) {
    const from = read.order.slice(0, at).replaceAll("L", "").length;
    const written = read.angles.slice(from, from + run.length);
    const byLetter = read.order[at - 1] === "L" || read.order[at + run.length] === "L";
    const angle = written.length === 1 ? written[0] : byLetter || alone ? unmarkedAngle(written) : undefined;
    if (!angle) return read;
    angles.push(angle);
  }
  return { letters: read.letters, angles, order: read.order.replace(/A+/g, "A") };
}

/**
 * One angle of several read apart, each without marks: whole degrees (a degree sign after them only),
 * then minutes, whole where seconds follow, each under 60 (angleOf). Digits that run on are one
 * number, a street grid's "1205 N 500 W", not 120°05'.
 */
function unmarkedAngle(written: Angle[]): Angle | undefined {
  if (!written.every((part, i) => part.unmarked && !part.runsOn && (i === 0 || !part.degreeSign))) return undefined;
  const [degrees = "", minutes = "", seconds, ...more] = written.flatMap((part) => part.unmarked ?? []);
  const number = /^\d+(?:\.\d+)?$/;
  if (more.length || !/^\d+$/.test(degrees) || !number.test(minutes)) return undefined;
  if (seconds !== undefined && !(/^\d+$/.test(minutes) && number.test(seconds))) return undefined;
  const angle = angleOf(degrees, minutes, seconds);
  return angle === undefined ? undefined : { angle, minutes: true, decimalComma: false };
}

/**
 * A name or a street before the postal code or town names no place, and is the customer's, whose
 * order the address came from: it is not sent to the geocoder, a third party.
 */
function refuseAddress(argument: string, text: string, townsCalled: Found[]): void {
  const read = withoutDistrict(text);
  // A street grid's address after its town whose numbers no degrees are ("Salt Lake City 400 S 200 E"): the
  // ones that may be are read as coordinates too (refuseCoordinates).
  const beforeStreet = townBeforeStreet(read);
  const readings = beforeStreet ? undefined : townReadings(read, true);
  const town = beforeStreet ?? readings?.town ?? townAfterStreet(read) ?? gridTown(read);
  if (town) {
    const [sent, province] = stateOrProvince(town, readings?.or ? undefined : italianStreetToo(read), townsCalled);
    // Its town, postal code and country's code last: "Mariahilfer Straße 1, Wien 1010 AT".
    const dutch = readings?.or || province ? undefined : countryOrDutch(addressParts(read).at(-1) ?? "", sent);
    throw new ToolError(
      `${quote(text)} is an address. ${sendTown(dutch?.town ?? sent, argument, readings?.or ?? province ?? dutch?.or)}`,
    );
  }
  const afterName = townAfterName(read);
  if (afterName) {
    const [sent, province, found] = stateOrProvince(afterName.town, italianAfterNameToo(read), townsCalled);
    // A place of the town's name found in the state or the province: the part before is the customer's name, which
    // is named as no town to send, and so never reaches the geocoder.
    const or = afterName.or && !found ? { ...afterName.or, ...(province ? { province } : {}) } : undefined;
    const dutch = or || province ? undefined : countryOrDutch(addressParts(read).at(-1) ?? "", sent);
    throw new ToolError(
      `${quote(text)} is an address. ${sendTown(dutch?.town ?? sent, argument, or ?? province ?? dutch?.or)}`,
    );
  }
  const district = numberedDistrict(read);
  if (district) {
    throw new ToolError(
      `${quote(text)} is a town's numbered district and its postal code, or a street and house number without a town: a postal code names no place here. Send ${quote(district)} if a district, or the town if a street, then its country after a comma${orCoordinates(argument)}.`,
    );
  }
  if (isAddress(read)) {
    throw new ToolError(
      `${quote(text)} is an address without a town: a street, house number or postal code names no place here. Send the town, then its country after a comma${orCoordinates(argument)}.`,
    );
  }
  if (streetLast(read)) {
    throw new ToolError(
      `${quote(text)} is an address, its street last: a street and house number names no place here. Send the town alone, then its country after a comma${orCoordinates(argument)}.`,
    );
  }
}

/**
 * A town's numbered district before its postal code of digits and at most a country, "Praha 1, 110 00", which is
 * written as a street without a street's word and its house number ("Masarykova 12, 602 00") is too: the district
 * and its country.
 */
function numberedDistrict(text: string): string | undefined {
  const [first = "", code = "", ...countries] = addressParts(text);
  const district = /^\p{L}[\p{L}\s.'-]*\s[1-9]\d?$/u.test(first) && !hasStreetWord(first);
  if (!district || !/^\d+(?:[\s-]\d+)*$/.test(code) || !countries.every(isCountry)) return undefined;
  return townToSend([first, ...countries]);
}

/** Whether a part has a street's word ("Via Roma 1", "Hauptstrasse 5"), which a district's name has none of. */
function hasStreetWord(part: string): boolean {
  return folded(part)
    .split(/[\s.]+/)
    .some((word) => STREET_WORDS.has(word) || ONE_WORD_STREET.test(word));
}

/**
 * `text` without a town's numbered district after the town ("Praha, Praha 4", "Dublin, Dublin 6W"), which
 * the town says the place of, and which a street and house number last would be taken for.
 */
function withoutDistrict(text: string): string {
  const parts = text.split(",");
  return parts
    .filter((part, i) => {
      const [, town] = /^\s*(.+?)\s+\d{1,2}[a-z]?\s*$/i.exec(part) ?? [];
      return i === 0 || town === undefined || folded(town) !== folded(parts[i - 1]?.trim() ?? "");
    })
    .join(",");
}

/**
 * A house number's range, "1-3" or "12a-14", as a building on a corner or a block has: without a leading
 * zero, which a postal code written so may have ("00-950", Warsaw's), nor in a postal code's digits
 * ("31-510", Kraków's; "1100-148", Lisbon's; "150-8010", Tokyo's). Its end is where the part ends.
 */
const HOUSE_RANGE = String.raw`(?!(?:\d{2}-\d{3}|\d{4}-\d{3}|\d{3}-\d{4})$)[1-9]\d{0,3}[a-z]?-[1-9]\d{0,3}[a-z]?`;

/** A house number after its street's name: "Stodolní 3", "Masarykova 1234/5", "Masarykova 1-3", not a postal code ("Wien 1010"). */
const STREET_AND_NUMBER = new RegExp(
  String.raw`^\p{L}[\p{L}\s.'-]*\s(?:\d{1,3}[a-z]?|\d{1,4}[a-z]?\/\d{1,4}[a-z]?|${HOUSE_RANGE})$`,
  "iu",
);

/**
 * A street and house number after a part without digits, with at most a country after it: "Ostrava,
 * Stodolní 3", "Jan Smith, 10 Main St", or "Jana Nováková, Stodolní 3", whose first part is the
 * customer's name, which nothing tells from a town's.
 */
function streetLast(text: string): boolean {
  const parts = addressParts(text);
  const at = parts.findIndex((part) => /\d/.test(part));
  const street = parts[at] ?? "";
  return (
    at > 0 && (isStreetAndNumber(street) || streetBeforePostalCode(street)) && parts.slice(at + 1).every(isCountry)
  );
}

/** A street and house number, either way round: "Stodolní 3", "10 Main St". */
function isStreetAndNumber(part: string): boolean {
  return STREET_AND_NUMBER.test(part) || (/^\d+[a-z]?\s\D/i.test(part) && isStreet(part, ""));
}

/**
 * The town of an address written with the postal code and town first, the street and house number last, at
 * most a country after them ("1010 Wien, Mariahilfer Straße 1"), which the street would be taken for.
 */
function townBeforeStreet(text: string): string | undefined {
  const parts = addressParts(text);
  const at = parts.findLastIndex((part) => /\d/.test(part));
  const countries = parts.slice(at + 1);
  if (at < 1 || !isStreetAndNumber(parts[at] ?? "") || !countries.every(isCountry)) return undefined;
  const town = townBesidePostalCode(parts[at - 1] ?? "", countries.length > 0);
  return town && townToSend([town, ...countries]);
}

/**
 * A street before the number after it, a postal code or a house number, where a town would be: a street's word
 * after its name ("Mariahilfer Straße 1010", "Walnut Ct 1234") or ending its one word ("Kalverstraat 1012"), or
 * a house number between it and the postal code ("Bundesplatz 3 3005"). Not a word towns are named by too: a
 * whole one ("Federal Way", "Rue", "Le Cours", "Street"), or the end of a longer name ("Neustadt an der Weinstraße").
 */
function streetBeforePostalCode(part: string): boolean {
  const [, name = "", numbers = ""] = /^(\D+?)\s+(\d[\d\s/a-z-]*)$/i.exec(part) ?? [];
  const words = folded(name)
    .split(/\s+/)
    .map((word) => word.replace(/\.$/, ""));
  const last = words.at(-1) ?? "";
  return (
    /^\d{1,4}[a-z]?(?:\/\d{1,4}[a-z]?)?\s+\d{4,5}$/i.test(numbers) ||
    (words.length > 1 && STREET_WORD_AFTER_NAME.test(last)) ||
    (words.length === 1 && ONE_WORD_STREET.test(last))
  );
}

const STREET_ENDING = "(?:strasse|str|gasse|platz|allee|weg|straat|laan|plein)";

/** A street's name of one word, its street's word at the end: "Kalverstraat", "Hauptstraße". */
const ONE_WORD_STREET = new RegExp(`.${STREET_ENDING}$`);

/** A street's word after its name, none a town's name ends in: German and Dutch ones, English abbreviations. */
const STREET_WORD_AFTER_NAME = new RegExp(
  `^(?:${STREET_ENDING}|st|rd|ave?|blvd|dr|ln|ct|pl|sq|ter|pkwy|hwy|cres|cir)$`,
);

/** The other way to name a place, for the weather tools' `place`: weather_geocode's `name` has none. */
const orCoordinates = (argument: string) => (argument === "place" ? ", or give latitude and longitude" : "");

/** The advice to send `town`, or, `or` another reading of the address, either town as it says. */
function sendTown(
  town: string,
  argument: string,
  or?: OtherReading | DistrictReading | ProvinceReading | DutchReading,
): string {
  const coordinates = orCoordinates(argument);
  const towns =
    or && "dutch" in or
      ? `, as ${quote(town)} if ${quote(or.country)} is its country, or ${quote(or.dutch)} if ${quote(or.code)} is a Dutch postal code${coordinates}`
      : or && "italy" in or
        ? `, as ${quote(town)} if ${quote(or.code)} is the US state, or ${quote(or.italy)} if it is the Italian province${coordinates}`
        : or && "district" in or
          ? `: ${quote(town)} if ${quote(or.region)} is its region, or ${quote(or.town)} if ${quote(or.district)} is a district or a building's part${coordinates.replace(/^,/, ";")}`
          : or
            ? `: ${quote(town)} if ${quote(or.name)} is a person's or company's name${or.province ? ` and ${quote(or.province.code)} the US state, or ${quote(or.province.italy)} if it is the Italian province;` : ","} or ${quote(or.town)} if ${quote(or.region)} is ${or.street ? "a region, district or street; or ask for the town if a street follows a name" : "a region or district"}${coordinates.replace(/^,/, ";")}`
            : `, as ${quote(town)}${coordinates}`;
  return `A street, house number or postal code names no place here: send the town, then its country after a comma${towns}.`;
}

/**
 * An address's part read as a town, not a name, and the one after it then as its region or district, not its
 * town; or as its street, where the number after it may be a house's.
 */
type OtherReading = { name: string; town: string; region: string; street: boolean; province?: ProvinceReading };

/**
 * Of two names between a street and its postal code, the second read as the town, not the first's region: the first
 * then the town's district or a part of a building ("Hauptstraße 5, Hinterhaus, Berlin, 10115").
 */
type DistrictReading = { town: string; region: string; district: string };

/** Of a town, a code and a postal code, the code read as an Italian province's, not a US state's: the town in Italy. */
type ProvinceReading = { italy: string; code: string; town: string };

/** Of a town, four digits and two capitals, the capitals read as a Dutch postal code's letters, not its country's code. */
type DutchReading = { dutch: string; code: string; country: string };

/** A town before four digits and two capitals, as a Dutch postal code is written ("Utrecht 3511 LU"): the town. */
const DUTCH_POSTAL_LINE = /^([^\d,]+?)\s+(\d{4}\s?([A-Z]{2}))$/;

/** Whether two capitals are the code of a country whose postal codes have four digits, as Dutch ones do. */
function fourDigitCountry(letters: string): boolean {
  return Object.entries(ALPHA_3).some(([alpha3, two]) => two === letters && FOUR_DIGIT_COUNTRIES.has(alpha3));
}

/**
 * A town before four digits and the code of a country whose postal codes have four ("Wien 1010 AT"), which a Dutch
 * postal code is written as too ("Amsterdam 1012 AB"), where the town was `read` so: the town in that country, and in
 * the Netherlands; where the places called so that the geocoder found, `towns`, are in one of them only, that one.
 */
function countryOrDutch(
  text: string,
  read: string,
  towns: Place[] = [],
): { town: string; or?: DutchReading } | undefined {
  const [, town = "", code = "", letters = ""] = DUTCH_POSTAL_LINE.exec(text.trim()) ?? [];
  if (town !== read) return undefined;
  if (!town || !fourDigitCountry(letters) || letters === "NL") return undefined;
  const inNetherlands = towns.some((place) => place.country_code === "NL");
  const inCountry = towns.some((place) => place.country_code === letters);
  if (inNetherlands !== inCountry) return { town: `${town}, ${inNetherlands ? "NL" : letters}` };
  return { town: `${town}, ${letters}`, or: { dutch: `${town}, NL`, code, country: letters } };
}

/**
 * The town to send, read in the US state, and the reading in the Italian province where it stands: where the places
 * called so are in one of them only, that one alone ("Memphis TN 38103" is in Tennessee, Memphis no town in Italy).
 * Last, whether a place called so was found in either.
 */
function stateOrProvince(
  town: string,
  province: ProvinceReading | undefined,
  townsCalled: Found[],
): [string, ProvinceReading | undefined, boolean] {
  if (!province) return [town, undefined, false];
  const called = townsCalled.filter((hit) => folded(hit.place.name ?? "") === folded(province.town));
  const inState = called.some((hit) => hit.place.country_code === "US" && matches(hit, province.code));
  const inItaly = called.some((hit) => hit.place.country_code === "IT");
  if (inState === inItaly) return [town, province, inState];
  return inState ? [town, undefined, true] : [province.italy, undefined, true];
}

/**
 * Of a town, a code and a postal code in a US address's order, a comma after the town or not, that are a state's and
 * one of its ZIP codes and an Italian province's and one of its postal codes too ("Trento TN 38122", "Memphis, TN
 * 38103"): the town in Italy, as "Trento, TN" alone is Tennessee's.
 */
function italianToo(text: string): ProvinceReading | undefined {
  const [, town, code = "", postalCode = ""] =
    /^([^\d,]+?),?\s+([A-Z]{2})\s+(\d{5})(?:-\d{4})?$/.exec(text.trim()) ?? [];
  // The provinces whose postal codes are such ZIP codes, Trento's and Rieti's, have a 0 or 1 after the first two
  // digits: "Jackson TN 38301" and "Providence RI 02903" are in no Italian province.
  const italian = isItalianProvince(code, postalCode) && /^\d\d[01]/.test(postalCode);
  return town && italian && zipCodeStates(postalCode).includes(code.toLowerCase())
    ? { italy: `${town}, IT`, code, town }
    : undefined;
}

/**
 * italianToo of the town, its code and its postal code last, after a customer's name and no street: "Mario Rossi, Trento,
 * TN 38122", "Mario Rossi, Trento TN 38122".
 */
function italianAfterNameToo(text: string): ProvinceReading | undefined {
  const parts = text.split(",");
  if (parts.length < 2) return undefined;
  const last = italianToo(parts.at(-1) ?? "");
  if (last) return parts.slice(0, -1).some((part) => /\d/.test(part)) ? undefined : last;
  return parts.length > 2 && !parts.slice(0, -2).some((part) => /\d/.test(part))
    ? italianToo(parts.slice(-2).join(","))
    : undefined;
}

/** italianToo of the town, its code and its postal code last, after a street as Italy writes one: "Via Belenzani 1". */
function italianStreetToo(text: string): ProvinceReading | undefined {
  const parts = text.split(",");
  const italian = parts.slice(0, -1).some((part) => ITALIAN_STREET.test(folded(part.trim())));
  return italian ? (italianToo(parts.at(-1) ?? "") ?? italianToo(parts.slice(-2).join(","))) : undefined;
}

/**
 * A postal code alone: digits in groups apart by a space or a dash ("12345", "702 00", "00-950"),
 * or with the letters of a Dutch ("1012 AB") or Maltese ("VLT 1117") one.
 */
const POSTAL_CODE = /^(?:\d+(?:[\s-]\d+)*|\d{4}\s?[A-Z]{2}|[A-Z]{3}\s?\d{4})$/;

/**
 * An address's parts, without the "phone +420 …" a billing address ends with, after the country, and, where
 * a house number is written, without a flat's ("Hlavní 12, apt 5, Brno", "123 Main St Apt 4B"), which a town
 * or a postal code would be taken for.
 */
function addressParts(text: string): string[] {
  const parts = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => !/^phone\b/i.test(part));
  const flat = new RegExp(String.raw`(?:^|\s)${FLAT}$`, "i");
  const withoutFlats = parts.map((part) => part.replace(flat, "").trim());
  const numbered = withoutFlats.some((part) => /\d/.test(part));
  return numbered ? withoutFlats.filter(Boolean) : parts;
}

/** A flat's, suite's or unit's number, its word before it: "apt 5", "Flat 2", "byt 3", "Wohnung 3", "Suite 200", "#4B". */
const FLAT = String.raw`(?:(?:apt|apartment|flat|unit|suite|ste|byt|wohnung|whg|room|rm)\.?\s*#?|#\s*)\d+[a-z]?`;

/**
 * An address with or without its town: a postal code alone after a part with a number, a street
 * and house number ("Hauptstraße 1, 12345, DE"). A name before it ("Ostrava, 702 00") is a town.
 */
function isAddress(text: string): boolean {
  const parts = addressParts(text);
  return parts.some((part, i) => i > 0 && POSTAL_CODE.test(part) && parts.slice(0, i).some((p) => /\d/.test(p)));
}

/**
 * The town of an address written as a shop writes one, with what follows it ("Vinohradská 12,
 * 12000, Praha, CZ" is "Praha, CZ"; "Torstraße 101, 10119 Berlin, DE" is "Berlin, DE"): what
 * comes after the postal code, the last part with digits, whatever is before it (a name, a
 * company, a street and house number). Undefined for a text without digits, which is no such address,
 * and, when `afterStreet`, for one without a street and house number before its town: "Praha
 * 4, CZ", or "Springfield, IL 62701, US", whose town comes first. `regions` are those of the places
 * found by the name searched, any of which may come between the town and its postal code.
 */
function townOf(text: string, afterStreet = false, regions: string[] = []): string | undefined {
  return townReadings(text, afterStreet, regions)?.town;
}

/** The town townOf reads, and where it may be another's district, region or part of a building, the other reading. */
function townReadings(
  text: string,
  afterStreet = false,
  regions: string[] = [],
): { town: string; or?: DistrictReading } | undefined {
  const parts = addressParts(text);
  const postal = parts.findLastIndex((part) => /\d/.test(part));
  if (parts.length < 2 || postal < 0) return undefined;
  // "123 Main St, Springfield, IL 62701": a state's code, or its name, before the ZIP code, the town before them;
  // so too a region of a place found ("Ostrava, Moravskoslezský kraj 702 00") or a country ("Paris, France 75008").
  const statePart = parts[postal] ?? "";
  // The postal code from its first word with a digit: Canada's begins with a letter ("Ontario M5V 3L9").
  const region = statePart.replace(/\s+\S*\d.*$/, "");
  const stateFirst =
    postal > 0 &&
    (/^[A-Z]{2,3}\s+\S*\d/.test(statePart) ||
      isKnownRegion(region) ||
      isCountryName(region) ||
      regions.some((known) => folded(known) === folded(region))) &&
    !/\d/.test(parts[postal - 1] ?? "");
  // "Masarykova 12, Brno": a street and house number without a postal code, the town after them.
  // Not "Praha 4, CZ", a town's district before its country.
  const next = parts[postal + 1];
  const streetFirst = !afterStreet && STREET.test(parts[postal] ?? "") && next !== undefined && !isCountry(next);
  // The postal code in a part of its own after the town and its state or province, as a shop's fields follow each
  // other: "969 Market, San Francisco, CA, 94103, US", "Via Roma 1, Milano, MI, 20121, IT".
  // Where no state comes between, the town right after the street: "Masarykova 12, Brno, 60200, CZ".
  const codeAlone = postal > 1 && (POSTAL_CODE.test(statePart) || new RegExp(`^${LETTERED_CODE}$`).test(statePart));
  const beforeCode = parts[postal - 1] ?? "";
  const codeAfterRegion =
    codeAlone &&
    (/^[A-Z]{2,3}$/.test(beforeCode) || isKnownRegion(beforeCode)) &&
    !/\d/.test(parts[postal - 2] ?? "") &&
    parts.slice(0, postal - 2).some((part) => /\d/.test(part));
  const codeAfterTown = codeAlone && !/\d/.test(beforeCode) && /\d/.test(parts[postal - 2] ?? "");
  // Two other names between the street and the postal code: the town and its region by name, as a shop's fields follow
  // each other ("Hauptstraße 5, München, Bayern, 80331, DE"), the region left out; or before a postal code with letters,
  // as the United Kingdom writes an address, a district and its post town ("10 Downing St, Westminster, London, SW1A 2AA").
  const codeAfterNames =
    codeAlone &&
    !codeAfterRegion &&
    !/\d/.test(beforeCode) &&
    !/\d/.test(parts[postal - 2] ?? "") &&
    parts.slice(0, postal - 2).some((part) => /\d/.test(part));
  // Not a county after the post town, as some write one: "1 High St, Oxford, Oxfordshire, OX1 4AA",
  // "1 High St, Guildford, Surrey, GU1 3AA".
  const county =
    /shire$/i.test(beforeCode) ||
    UK_COUNTIES.has(folded(beforeCode)) ||
    folded(beforeCode)
      .split(/\s+/)
      .some((word) => REGION_WORDS.has(word.replace(/\.$/, "")));
  const postTown = codeAfterNames && !POSTAL_CODE.test(statePart) && !county;
  const regionNamed = codeAfterNames && !postTown ? postal - 1 : -1;
  // A region of a place found between the town and a state's code before its ZIP code, "Brooklyn, New York, NY 11201":
  // the state's name, left out for its code, not the town.
  const regionBeforeState =
    stateFirst &&
    /^[A-Z]{2,3}\s/.test(statePart) &&
    postal > 1 &&
    !/\d/.test(parts[postal - 2] ?? "") &&
    regions.some((known) => folded(known) === folded(parts[postal - 1] ?? ""))
      ? postal - 1
      : -1;
  const town =
    codeAfterRegion || regionNamed >= 0 || regionBeforeState >= 0
      ? postal - 2
      : codeAfterTown || stateFirst || postTown
        ? postal - 1
        : streetFirst
          ? postal + 1
          : postal;
  if (afterStreet && !parts.slice(0, town).some((part) => /\d/.test(part))) return undefined;
  // The words from the town on, without the postal code's: those with digits and, where the town shares
  // the postal code's part or follows it, capitals beside them ("1012 AB" in the Netherlands, "VLT 1117"
  // in Malta) if a town remains; not a US state's before its ZIP code, after the town.
  const stateCodes = REGION_CODES[countryCode(parts.at(-1) ?? "")];
  // Italy writes a street's name before its number ("Via Belenzani 1"): there "MI 20121" is Milano's province. But a
  // state's code before one of its ZIP codes is the state's, as a US address writes it, whatever the street's name:
  // "Via Verde 12, Memphis TN 38103" is in Tennessee, though Trento's postal codes are among its ZIP codes.
  const italian = parts.slice(0, town).some((part) => ITALIAN_STREET.test(folded(part)));
  const provinceAfterStreet = (word: string, code: string) =>
    italian && isItalianProvince(word, code) && !zipCodeStates(code).includes(word.toLowerCase());
  const words = (capitalsToo: boolean) =>
    parts
      .slice(town)
      .flatMap((part, i) => {
        if (town + i === regionNamed || town + i === regionBeforeState) return [];
        // Its letters too: "1012 AB, NL" names no town "AB"; but not a state's code, "NSW 2000", as Malta's "VLT 1117" is
        // read, nor a country's three letters before its four digits, "AUS 3121".
        const regionOrCountry =
          isKnownRegion(region) || (/^[A-Z]{3}$/.test(region) && signsCountry(region) !== undefined);
        if (POSTAL_CODE.test(part) && !(stateFirst && town + i === postal && regionOrCountry)) return [];
        // Italy's province in a part of its own before the postal code: "Via Roma 1, Milano, MI, 20121".
        if (provinceAfterStreet(part, parts[town + i + 1] ?? "")) return [];
        const all = part.split(/\s+/);
        const beside = (j: number) => /\d/.test(`${all[j - 1] ?? ""} ${all[j + 1] ?? ""}`);
        // A country's sign before its code too, "Wien A 1010".
        const capitals = (word: string) => /^[A-Z]{2,3}$/.test(word) || Object.hasOwn(CAR_SIGNS, word);
        const postalCode = (word: string, j: number) =>
          /\d/.test(word) ||
          (capitalsToo && i === 0 && town === postal && capitals(word) && beside(j) && !countryAfterState(j));
        // A country's code last, after a state's postal code, is no Dutch postal code's letters: "Sydney NSW 2000 AU".
        const countryAfterState = (j: number) =>
          j === all.length - 1 && all.some((word, k) => k < j - 1 && state(word, k));
        // A state's code between the town and its ZIP code, the country after: "Jackson MS 39201, USA" keeps "MS";
        // without a country, where the ZIP code is one of that state's ("Jackson MS 39201", not "Milano MI 20121").
        const state = (word: string, j: number) =>
          i === 0 &&
          j > 0 &&
          /^[A-Z]{2,3}$/.test(word) &&
          /\d/.test(all[j + 1] ?? "") &&
          (stateCodes
            ? regionsCoded(stateCodes, word.toLowerCase()).length > 0
            : zipCodeStates(all[j + 1] ?? "").includes(word.toLowerCase()) ||
              regionOfPostalCode(word, withoutCountryAfter(all.slice(j + 1).join(" "))));
        // Italy's province after the town its postal code is before: "20121 Milano MI", "38122 Trento (TN)"; or,
        // after an Italian street, before it: "Via Roma 1, Milano, MI 20121", "Via Roma 1, Milano (MI), 20121".
        const province = (word: string, j: number) =>
          (i === 0 && all.slice(0, j - 1).some((before) => isItalianProvince(word, before))) ||
          provinceAfterStreet(word, all[j + 1] ?? parts[town + i + 1] ?? "");
        const kept = all.filter((word, j) => !postalCode(word, j) && !state(word, j) && !province(word, j)).join(" ");
        // A country's three letters before the postal code in a part after the town's, "Ostrava, CZE 70200", in the two
        // the geocoder knows.
        const code = all.find((word) => /\d/.test(word));
        const named = (i > 0 && code && /^[A-Z]{3}$/.test(kept) && threeLettersNamed(kept, code)) || kept;
        const states = all.filter(state);
        // The state before a country after it without a comma: "Richmond VIC 3121 Australia" is "Richmond, VIC, Australia";
        // so too a state's own part, "Sydney, NSW 2000 AU".
        const [townName = named, ...country] =
          states.length > 0 || i > 0 ? (commaToAdd(named)?.send.split(", ") ?? []) : [];
        return [townName, ...states, ...country];
      })
      .filter(Boolean);
  // A country alone, by its code or its name, names no town: "Praha 4, 14000, CZ" (the town has a digit of
  // its own), "Paris, 75008, France" (the town before its postal code).
  const country = (part = "") => /^[A-Za-z]{2,3}$/.test(part) || isCountryName(part);
  const aTown = (named: string[]) =>
    named.length === 0 || (named.length === 1 && country(named[0])) ? undefined : named;
  const named = aTown(words(true)) ?? aTown(words(false));
  // A country or region after the town without a comma is none of its name: "70200 Ostrava CZ", "Sydney NSW 2000 Australia".
  const [first = "", ...rest] = named ?? [];
  const apart = commaToAdd(first)?.send.split(", ");
  const sent = named && townToSend(apart ? [...apart, ...rest] : named);
  if (!sent) return undefined;
  if (regionNamed < 0 || county) return { town: sent };
  // Nothing tells "München, Bayern", a town and its region, from "Hinterhaus, Berlin" or "Poruba, Ostrava", a building's
  // part or a district and its town: the second read as the town too.
  const district = parts[postal - 2] ?? "";
  const street = parts.slice(0, postal - 2).findLastIndex((part) => /\d/.test(part));
  const other = townOf([...parts.slice(0, street + 1), ...parts.slice(postal - 1)].join(", "), afterStreet, regions);
  return { town: sent, ...(other && other !== sent ? { or: { town: other, region: beforeCode, district } } : {}) };
}

/**
 * The town searched, where the geocoder found places called so, before a street a number begins (NUMBER_FIRST_STREET)
 * and at most a country after: "Berlin, 10 Unter den Linden" is "Berlin", "Bern, 3005 Bundesplatz 3" "Bern", which
 * the street, no street's word in it or after the postal code, would be taken for.
 */
function foundTownBeforeStreet({ name, qualifier, found }: { name: string; qualifier: string; found: Place[] }) {
  const [street = "", ...countries] = qualifier.split(",").map((part) => part.trim());
  const town = found.some((place) => folded(place.name ?? "") === folded(name));
  if (!town || !NUMBER_FIRST_STREET.test(street) || !countries.every(isCountry)) return undefined;
  return townToSend([name, ...countries]);
}

/**
 * A street after a number: a house number, at most three digits, then the street's name ("10 Unter den Linden",
 * not a postal code and town), or a postal code, then the street and its house number ("3005 Bundesplatz 3").
 */
const NUMBER_FIRST_STREET =
  /^(?:[1-9]\d{0,2}[a-z]?\s+\p{L}\D*|\d{4,5}\s+\p{L}\D*?\s[1-9]\d{0,3}[a-z]?(?:\/\d{1,4}[a-z]?)?)$/iu;

/**
 * The town of a postal code and town written without a comma between, before or after it, as an
 * address's line has them ("702 00 Ostrava", "10119 Berlin"): a code of four digits or more, which
 * a town's numbered district ("Praha 4") is not. A country's letters before the code ("D-10119 Berlin")
 * name its country after the town, unless `countryAfter` says the address names it there already.
 */
function townBesidePostalCode(text: string, countryAfter = false): string | undefined {
  const ending = countryAfterRegionsCode(text);
  if (ending) {
    const town = townBesidePostalCode(ending.line, true);
    return town && `${town}, ${ending.country}`;
  }
  const beside = postalCodesTown(text);
  if (!beside) {
    // A country or region after the postal code and town without a comma: "Wien 1010 Austria", "London SW1A 1AA UK".
    const [line = "", ...after] = commaToAdd(text)?.send.split(", ") ?? [];
    const town = after.length ? townBesidePostalCode(line, true) : undefined;
    return town && [town, ...after].join(", ");
  }
  const { town, country } = beside;
  // A country or region after the town is none of its name: "Ostrava CZ 70200" is "Ostrava, CZ".
  const named = town && commaToAdd(town);
  if (named) return named.send;
  return town && country && !countryAfter ? `${town}, ${country}` : town;
}

/**
 * A line that ends in a country, by its code or name, after a state's or province's code and one of its postal codes,
 * without a comma ("Sydney NSW 2000 AU", "Jackson MS 39201 US", "Toronto ON M5V 2T6 Canada"), or after Malta's postal
 * code ("Valletta VLT 1117 MT"): the line before the country, and the country, which would be read as a Dutch postal
 * code's letters ("2000 AU", "1117 MT") or as the town's name.
 */
function countryAfterRegionsCode(text: string): { line: string; country: string } | undefined {
  const code = String.raw`[A-Za-z\d]*\d[A-Za-z\d]*`;
  const [, line = "", region = "", postalCode = "", country = ""] =
    new RegExp(String.raw`^(.*?\s([A-Z]{2,3})\s+(${code}(?:[\s-]${code})?))\s+([^\d,]+)$`).exec(text.trim()) ?? [];
  const named = /^[A-Z]{2,3}$/.test(country)
    ? [...countryCodes().values()].includes(country) || country.toLowerCase() in COUNTRY_ALIASES
    : isCountryName(country);
  const regions =
    regionOfPostalCode(region, postalCode) ||
    zipCodeStates(postalCode).includes(region.toLowerCase()) ||
    (/^\d{4}$/.test(postalCode) && isMalteseLetters(region));
  return named && regions ? { line, country } : undefined;
}

/** The letters of Malta's postal code ("VLT" in "VLT 1117"): not a state's code nor a country's sign or code. */
const isMalteseLetters = (letters: string) =>
  /^[A-Z]{3}$/.test(letters) && !isKnownRegion(letters) && !signsCountry(letters);

/** The words beside a postal code written without a comma between (townBesidePostalCode), and the country its letters name. */
function postalCodesTown(text: string): { town: string; country?: string } | undefined {
  // The letters first: "1012 AB Amsterdam" is Amsterdam, not "AB Amsterdam" beside "1012".
  const [, , lettersTownAfter, lettersTownFirst] =
    new RegExp(String.raw`^(?:(${LETTERED_CODE})\s+([^\d,]+)|([^\d,]+?)\s+(${LETTERED_CODE}))$`).exec(text.trim()) ??
    [];
  const lettered = lettersTownAfter ?? lettersTownFirst;
  if (lettered) return { town: lettered.trim() };
  // Malta's, three letters and four digits, which only Malta writes: "Valletta VLT 1117", "VLT 1117 Valletta". Not an
  // Australian state's code before its postcode ("Sydney NSW 2000"), nor a country's sign or code before its code
  // ("SLO 1000", "AUT 1010").
  const [, lettersFirst, townAfterLetters, townBeforeLetters, lettersAfter] =
    /^(?:([A-Z]{3})\s?\d{4}\s+([^\d,]+)|([^\d,]+?)\s+([A-Z]{3})\s?\d{4})$/.exec(text.trim()) ?? [];
  const letters = lettersFirst ?? lettersAfter ?? "";
  const maltese = townAfterLetters ?? townBeforeLetters;
  if (maltese && isMalteseLetters(letters)) return { town: maltese.trim(), country: "MT" };
  // A country's letters before the code, as Europe wrote it: "D-10119 Berlin", "PL 31-510 Kraków", "Berlin D-10119",
  // "Wien A 1010".
  const [, signFirst, codeFirst, townAfter, townFirst, signAfter, hyphenAfter, codeAfter] =
    /^(?:(?:([A-Z]{1,3})[\s-])?(\d[\d\s-]*\d)\s+([^\d,]+)|([^\d,]+?)\s+(?:([A-Z]{1,3})(?:(-)|\s+))?(\d[\d\s-]*\d))$/.exec(
      text.trim(),
    ) ?? [];
  const code = codeFirst ?? codeAfter ?? "";
  const sign = signFirst ?? signAfter;
  // Italy's province after the town: "20121 Milano MI" is Milano, whatever country's code MI may be too.
  const [, italianTown, province = ""] = /^(.+?)\s+(\S+)$/.exec(townAfter?.trim() ?? "") ?? [];
  if (italianTown && isItalianProvince(province, code)) return { town: italianTown };
  // Or after the town and before the postal code, where no US state's ZIP code is written so: "Milano MI 20121" is
  // Milano, as "Milan, MI" would be Milan in Michigan; in brackets, as only Italy writes it, "Trento (TN) 38122".
  const [, bracketedTown, bracketed] = /^(.+?)\s+(\([A-Z]{2}\))$/.exec(townFirst?.trim() ?? "") ?? [];
  const provinceBefore = signAfter !== undefined && !hyphenAfter ? signAfter : bracketed;
  if (
    townFirst &&
    provinceBefore &&
    isItalianProvince(provinceBefore, code) &&
    (bracketed !== undefined || !zipCodeStates(code).includes(provinceBefore.toLowerCase()))
  ) {
    return { town: (bracketedTown ?? townFirst).trim() };
  }
  // Colima's code beside one of its postal codes, "Manzanillo COL 28200", is the Mexican state's (threeLettersNamed).
  const colimaTown = (townAfter ?? townFirst)?.trim();
  if (sign === "COL" && !hyphenAfter && colimaTown && threeLettersNamed(sign, code) === "Colima") {
    return { town: colimaTown, country: "Colima" };
  }
  // A region's code after the town and a space is the region's, a country's sign as well or not ("Miami FL 33101").
  const regionAfter = signAfter !== undefined && !hyphenAfter && isKnownRegion(signAfter);
  // A country's three letters, before the code or after a town not written in capitals ("TORRE DEL MAR 29740").
  const threeLetters = signFirst !== undefined || /\p{Ll}/u.test(townFirst ?? "") ? ALPHA_3[sign ?? ""] : undefined;
  const country = sign && !regionAfter && (stateShortened(sign, code) ?? signsCountry(sign) ?? threeLetters);
  // Letters after the town and a space that are no country's sign are the town's, or its region's ("Washington DC 20001").
  const spaced = signAfter !== undefined && !country && !hyphenAfter;
  const town = (townAfter ?? (spaced ? `${townFirst} ${signAfter}` : townFirst))?.trim();
  if (!town || code.replace(/\D/g, "").length < 4 || (sign && !country && !spaced)) return undefined;
  return country ? { town, country } : { town };
}

/**
 * Italy's provinces by the first two digits of their postal codes (CAP): an address writes the province's code after
 * the town, "20121 Milano MI", "38122 Trento (TN)", the code of a US state or a country too. A town keeps its postal
 * code when it moves to another province: "23806 Torre de' Busi BG", "61014 Montecopiolo RN".
 */
const ITALIAN_PROVINCES =
  "00 RM, 01 VT, 02 RI, 03 FR, 04 LT, 05 TR, 06 PG, 07 SS, 08 NU, 09 CA OR SU, 10 TO, 11 AO, 12 CN SV, 13 VC BI, 14 AT, " +
  "15 AL, 16 GE, 17 SV, 18 IM CN, 19 SP, 20 MI MB, 21 VA, 22 CO, 23 SO LC BG, 24 BG, 25 BS, 26 CR LO, 27 PV, 28 NO VB, " +
  "29 PC, 30 VE, 31 TV, 32 BL, 33 UD PN, 34 TS GO, 35 PD, 36 VI, 37 VR, 38 TN, 39 BZ, 40 BO, 41 MO, 42 RE, 43 PR, " +
  "44 FE, 45 RO, 46 MN, 47 FC RN, 48 RA, 50 FI, 51 PT, 52 AR, 53 SI, 54 MS, 55 LU, 56 PI, 57 LI, 58 GR, 59 PO, 60 AN, " +
  "61 PU RN, 62 MC, 63 AP FM, 64 TE, 65 PE, 66 CH, 67 AQ, 70 BA, 71 FG, 72 BR, 73 LE, 74 TA, 75 MT, 76 BT, 80 NA, 81 CE, " +
  "82 BN, 83 AV, 84 SA, 85 PZ, 86 CB IS, 87 CS, 88 CZ KR, 89 RC VV, 90 PA, 91 TP, 92 AG, 93 CL, 94 EN, 95 CT, 96 SR, " +
  "97 RG, 98 ME";

/** Whether `word` is the code of an Italian province: "TN", "RI". */
function isItalianProvinceCode(word: string): boolean {
  return /^[A-Z]{2}$/.test(word) && ITALIAN_PROVINCES.split(", ").some((entry) => entry.split(" ").includes(word));
}

/** Whether `word`, bracketed or not, is the code of the Italian province whose postal codes `code` ("38122") is among. */
function isItalianProvince(word: string, code: string): boolean {
  const [, letters] = /^\(?([A-Z]{2})\)?$/.exec(word) ?? [];
  if (!letters || !/^\d{5}$/.test(code)) return false;
  return ITALIAN_PROVINCES.split(", ").some(
    (entry) => entry.startsWith(code.slice(0, 2)) && entry.includes(` ${letters}`),
  );
}

/** A street as Italy writes one, its word first and its number after its name: "Via Belenzani 1", "Piazza Duomo 3". */
const ITALIAN_STREET =
  /^(?:via|viale|v\.le|piazza|p\.zza|piazzale|piazzetta|corso|c\.so|largo|vicolo|vico|strada|contrada|c\.da|localita|loc\.|frazione|fraz\.|borgo|lungomare|lungarno|salita|galleria|circonvallazione|calle|fondamenta|traversa)\s\D*\d/;

/** The country of the letters written before a postal code: its code, or the sign on its cars ("D" is DE, "A" AT). */
function signsCountry(sign: string): string | undefined {
  return (
    CAR_SIGNS[sign] ??
    (FOUR_DIGIT_COUNTRIES.has(sign) ? ALPHA_3[sign] : undefined) ??
    ([...countryCodes().values()].includes(sign) ? sign : undefined)
  );
}

/**
 * The three-letter ISO codes of the countries whose postal codes have four digits, as Malta's do after its letters:
 * "AUT 1010 Wien" is in Austria.
 */
const FOUR_DIGIT_COUNTRIES = new Set(
  (
    "AFG ALB ARM AUS AUT AZE BEL BGD BGR CHE CPV CYP DNK ETH GEO GRL HUN LBR LIE LUX LVA MDA MKD MOZ NER NLD NOR NZL " +
    "PHL PRY SVN TUN VEN ZAF"
  ).split(" "),
);

/**
 * Countries' three-letter ISO 3166-1 codes ("CZE", "DEU"), as some shops and ERPs write a country, by the two-letter
 * codes the geocoder knows them by: each written as the three letters and the two.
 */
const ALPHA_3: Record<string, string> = Object.fromEntries(
  (
    "ABWAW AFGAF AGOAO AIAAI ALAAX ALBAL ANDAD AREAE ARGAR ARMAM ASMAS ATAAQ ATFTF ATGAG AUSAU AUTAT AZEAZ BDIBI " +
    "BELBE BENBJ BESBQ BFABF BGDBD BGRBG BHRBH BHSBS BIHBA BLMBL BLRBY BLZBZ BMUBM BOLBO BRABR BRBBB BRNBN BTNBT " +
    "BVTBV BWABW CAFCF CANCA CCKCC CHECH CHLCL CHNCN CIVCI CMRCM CODCD COGCG COKCK COLCO COMKM CPVCV CRICR CUBCU " +
    "CUWCW CXRCX CYMKY CYPCY CZECZ DEUDE DJIDJ DMADM DNKDK DOMDO DZADZ ECUEC EGYEG ERIER ESHEH ESPES ESTEE ETHET " +
    "FINFI FJIFJ FLKFK FRAFR FROFO FSMFM GABGA GBRGB GEOGE GGYGG GHAGH GIBGI GINGN GLPGP GMBGM GNBGW GNQGQ GRCGR " +
    "GRDGD GRLGL GTMGT GUFGF GUMGU GUYGY HKGHK HMDHM HNDHN HRVHR HTIHT HUNHU IDNID IMNIM INDIN IOTIO IRLIE IRNIR " +
    "IRQIQ ISLIS ISRIL ITAIT JAMJM JEYJE JORJO JPNJP KAZKZ KENKE KGZKG KHMKH KIRKI KNAKN KORKR KWTKW LAOLA LBNLB " +
    "LBRLR LBYLY LCALC LIELI LKALK LSOLS LTULT LUXLU LVALV MACMO MAFMF MARMA MCOMC MDAMD MDGMG MDVMV MEXMX MHLMH " +
    "MKDMK MLIML MLTMT MMRMM MNEME MNGMN MNPMP MOZMZ MRTMR MSRMS MTQMQ MUSMU MWIMW MYSMY MYTYT NAMNA NCLNC NERNE " +
    "NFKNF NGANG NICNI NIUNU NLDNL NORNO NPLNP NRUNR NZLNZ OMNOM PAKPK PANPA PCNPN PERPE PHLPH PLWPW PNGPG POLPL " +
    "PRIPR PRKKP PRTPT PRYPY PSEPS PYFPF QATQA REURE ROURO RUSRU RWARW SAUSA SDNSD SENSN SGPSG SGSGS SHNSH SJMSJ " +
    "SLBSB SLESL SLVSV SMRSM SOMSO SPMPM SRBRS SSDSS STPST SURSR SVKSK SVNSI SWESE SWZSZ SXMSX SYCSC SYRSY TCATC " +
    "TCDTD TGOTG THATH TJKTJ TKLTK TKMTM TLSTL TONTO TTOTT TUNTN TURTR TUVTV TWNTW TZATZ UGAUG UKRUA UMIUM URYUY " +
    "USAUS UZBUZ VATVA VCTVC VENVE VGBVG VIRVI VNMVN VUTVU WLFWF WSMWS YEMYE ZAFZA ZMBZM ZWEZW"
  )
    .split(" ")
    .map((codes) => [codes.slice(0, 3), codes.slice(3)]),
);

/**
 * What three capitals before a postal code name, as the geocoder knows it: a country by its two letters ("CZE" is
 * CZ), but Colima's code beside one of its postal codes, as Mexico writes a state's, is no Colombia's, whose postal
 * codes have six digits: "COL 28200" is in Colima. So too a US state's name shortened, as older addresses write it,
 * before one of its ZIP codes: "ALA 35203" is in Alabama, not Åland, "GEO 30303" in Georgia, not the country.
 */
function threeLettersNamed(letters: string, postalCode: string): string | undefined {
  if (letters === "COL" && /^28\d{3}$/.test(postalCode)) return "Colima";
  return stateShortened(letters, postalCode) ?? ALPHA_3[letters];
}

/**
 * Whether "COL" (or "Col.") after the town names Colima, as Mexico shortens the state, where `hit` is there: where none
 * of the places found is in Colombia, whose three letters COL are too, but never written with a dot.
 */
function inColima({ place }: Found, qualifier: string, hits: Found[]): boolean {
  const written = qualifier.trim();
  return (
    /^col\.?$/i.test(written) &&
    place.country_code === "MX" &&
    folded(place.region ?? "") === "colima" &&
    (written.endsWith(".") || !hits.some((hit) => hit.place.country_code === "CO"))
  );
}

/** The code of the US state whose name three capitals shorten ("ALA", "GEO"), where `zip` is one of its ZIP codes. */
function stateShortened(letters: string, zip: string): string | undefined {
  if (!/^[A-Z]{3}$/.test(letters)) return undefined;
  const key = letters.toLowerCase();
  const state = zipCodeStates(zip).find(
    (code) =>
      US_ABBREVIATIONS.get(key) === code || [US_STATES[code] ?? []].flat().some((name) => folded(name).startsWith(key)),
  );
  return state?.toUpperCase();
}

/** European countries' signs on their cars (the Vienna Convention's) that are not their ISO codes. */
const CAR_SIGNS: Record<string, string> = {
  A: "AT",
  B: "BE",
  D: "DE",
  E: "ES",
  F: "FR",
  H: "HU",
  I: "IT",
  L: "LU",
  M: "MT",
  N: "NO",
  P: "PT",
  S: "SE",
  V: "VA",
  AND: "AD",
  BIH: "BA",
  EST: "EE",
  FIN: "FI",
  FL: "LI",
  IRL: "IE",
  MNE: "ME",
  NMK: "MK",
  RSM: "SM",
  RUS: "RU",
  SLO: "SI",
  SRB: "RS",
  UK: "GB",
};

/**
 * A postal code with letters: the United Kingdom's ("SW1A 1AA"), Canada's ("M5V 3L9"), Ireland's Eircode
 * ("D02 X285"), in capitals or not, as their letters beside digits are no word; but not an ordinal ("a1 2nd")
 * or a word of four letters after a road's number ("m50 road"): an Eircode's last four are of the letters
 * ACDEFHKNPRTVWXY and digits. The Netherlands' ("1012 AB") in capitals only, as a town's first word may
 * follow its code ("8420 De Haan").
 */
const LETTERED_CODE = String.raw`(?:[A-Za-z]{1,2}\d[A-Za-z\d]?\s?(?!1st|2nd|3rd|\dth)\d[A-Za-z]{2}|[A-Za-z]\d[A-Za-z]\s?\d[A-Za-z]\d|[A-Za-z]\d[\dWw]\s?[\dAC-FHKNPRTV-Yac-fhknprtv-y]{4}|\d{4}\s?[A-Z]{2})`;

/**
 * The town of a postal code and town written after parts without digits, a person's or a company's name,
 * as an order's first line has them ("Jan Kowalski, Kraków 31-510", "Acme s.r.o., 702 00 Ostrava, CZ", the code
 * after a comma too: "Jan Kowalski, Kraków, 31-510"),
 * with what follows it: a code of four digits or more ("Wien 1010", which may be a house number too: "Ostrava,
 * Masarykova 1234"), in groups or with letters ("London SW1A 2AA"), and not a region's or a country's before its
 * postal code, which comes after the town ("Ostrava, Moravskoslezský kraj 702 00", "Springfield, IL 62701", "Paris, France 75008"). But a town
 * before its region or district and postal code is written so too ("München, Bayern 80331", "Ostrava,
 * Poruba 708 00"), and nothing tells the two apart but a title or a company's form in the name: the
 * other reading, `or`, where the postal code follows the town and nothing says the part before is a name.
 */
function townAfterName(text: string): { town: string; or?: OtherReading } | undefined {
  const parts = addressParts(text);
  const at = parts.findIndex((part) => /\d/.test(part));
  const part = parts[at] ?? "";
  // The postal code in a part of its own, after its town's: "Jan Kowalski, Kraków, 31-510"; so too after its country's
  // or state's letters, which follow the town: "Jan Novák, Ostrava, CZ 70200", "John Smith, Memphis, TN 38103"; or the
  // sign on its cars, as Europe wrote it: "Hans Huber, Wien, A 1010", "Hans Huber, Berlin, D-10119".
  const [, letters = "", digits = ""] = /^([A-Z]{1,3})(?:\s+|-)(\d[\d\s-]*\d)$/.exec(part) ?? [];
  const lettersNamed = letters ? lettersBeforeCode(letters, digits) : undefined;
  const alone =
    at > 1 && (lettersNamed !== undefined || POSTAL_CODE.test(part) || new RegExp(`^${LETTERED_CODE}$`).test(part));
  const after = [...(alone && lettersNamed ? [lettersNamed] : []), ...parts.slice(at + 1)];
  const townAt = alone ? at - 1 : at;
  const town = alone ? parts[townAt] : townBesidePostalCode(part, after.length > 0);
  const code = /\d{4}|\d[\s-]\d/.test(part) || new RegExp(String.raw`(?:^|\s)${LETTERED_CODE}(?:\s|$)`).test(part);
  if (townAt < 1 || !town || after.some((part) => /\d/.test(part)) || !code) return undefined;
  // A street names no town, and the part before it may be a name (streetLast).
  if (streetBeforePostalCode(part)) return undefined;
  // "1010 Main St" is a street's number, as four digits before a street's word are.
  if (/^\d{4}\s/.test(part) && isStreet(part, "")) return undefined;
  // Its country after it is none of it: "Springfield, Illinois 62701 USA".
  const [townName = town] = town.split(", ");
  const region =
    /^[A-Z]{2,3}$/.test(townName) ||
    isKnownRegion(townName) ||
    isCountryName(townName) ||
    folded(townName)
      .split(/\s+/)
      .some((word) => REGION_WORDS.has(word.replace(/\.$/, "")));
  if (region) return undefined;
  const before = parts[townAt - 1] ?? "";
  const named = folded(before)
    .split(/\s+/)
    .map((word) => word.replace(/\.$/, ""));
  const aName = TITLES.has(named[0] ?? "") || named.slice(1).some((word) => COMPANY_FORMS.has(word));
  const or =
    // A town written again as its district ("Bern, Bern 3005") is the one town either way.
    (alone || part.startsWith(town)) &&
    folded(before) !== folded(town) &&
    !aName &&
    !isCountryName(before) &&
    !isKnownRegion(before)
      ? {
          name: before,
          town: townToSend([before, ...after]),
          region: town,
          // Four digits after a word may be its house number ("Masarykova 1234"), as a postal code is written ("Wien 1010").
          street: !(alone && lettersNamed) && /^\D+\s\d{4}$/.test(part),
        }
      : undefined;
  return { town: townToSend([town, ...after]), ...(or ? { or } : {}) };
}

/**
 * What a country's or state's letters before its postal code name, as the geocoder knows it: a state's code ("TN
 * 38103"), a country's in two letters ("CZ", "CZE 70200", "AUT 1010"), Colima ("COL 28200"); none for Malta's ("VLT
 * 1117") nor other letters.
 */
function lettersBeforeCode(letters: string, postalCode: string): string | undefined {
  // A sign of one letter before fewer digits than a postal code of its country has is a street's: Mannheim's "N 7-13".
  if (letters.length === 1 && postalCode.replace(/\D/g, "").length < 4) return undefined;
  if (/^\d{4}$/.test(postalCode) && letters.length === 3) return signsCountry(letters);
  if (isKnownRegion(letters)) return letters;
  return threeLettersNamed(letters, postalCode) ?? signsCountry(letters);
}

/** A person's title before their name, folded, without its dot: "Ing. Jan Novák", "Dr Anna Schmidt". */
const TITLES = new Set("mr mrs ms miss mx dr prof ing mgr bc judr mudr herr frau mme mlle sr sra".split(" "));

/**
 * A company's form after its name, folded, without a last dot: "Acme s.r.o.", "Acme GmbH", "Acme Sp. z o.o.".
 * Italy's only with its dots, as "Spa" ends a town's name ("Leamington Spa").
 */
const COMPANY_FORMS = new Set(
  "s.r.o a.s gmbh ag kg ltd inc llc plc corp co o.o sp bv nv sa sarl srl s.p.a oy ab".split(" "),
);

/** Words of a region's name, folded, without a last dot, as none of a town's has: "Moravskoslezský kraj", "County Cork", "Co. Cork". */
const REGION_WORDS = new Set(
  "kraj region county co province state oblast voivodeship wojewodztwo canton kanton land prefecture".split(" "),
);

/**
 * The town and what follows it, to send. A region between the town and its country (Milano, MI,
 * IT: a province as a shop keeps it) is one the search matches only by GeoNames' name for it, and
 * is left out; a US state's, Canadian province's or Australian state's code it knows.
 */
function townToSend(named: string[]): string {
  const country = named.at(-1) ?? "";
  if (named.length > 2 && !Object.hasOwn(REGION_CODES, countryCode(country))) return `${named[0]}, ${country}`;
  return named.join(", ");
}

/** The code of a country written by its code, its English name or another name people write: "Canada" is CA. */
function countryCode(country: string): string {
  const code = geonamesCountry(country);
  return /^[A-Z]{2}$/.test(code) ? code : (countryCodes().get(folded(country)) ?? code);
}

/**
 * A street and house number ("Masarykova 12/3", "Masarykova 1-3", "123 Main St", a street grid's "400 S 200 E"),
 * or a town's numbered district ("Praha 4").
 */
const STREET = new RegExp(
  String.raw`^(?:\D+\s(?:\d+[a-z]?(?:\/\d+[a-z]?)?|${HOUSE_RANGE})|\d+[a-z]?\s\D+|\d+\s[NSEW]\s\d+\s[NSEW])$`,
  "i",
);

/**
 * The town of an address without a postal code, a street and house number before the town, with
 * what follows it ("Masarykova 12, Brno" is "Brno"; "Jana Nováková, Masarykova 12, Brno, CZ" is
 * "Brno, CZ"). Only parts without digits come before the street (a name, a company) and after it.
 * After a name, any part with a word and a number is a street ("28. října 5"): no place's name
 * is narrowed by one. Written first, a part with a number may be a place the geocoder knows, and
 * is then undefined: a town's numbered district before its region, which ends with the town's name
 * ("Praha 10, Hlavní město Praha"), or whose number has a leading zero ("Marseille 01"), and a
 * place whose name begins with a number ("9 de Julio", "100 Mile House"), which a house number
 * does only with a street's word after it ("123 Main St").
 */
function townAfterStreet(text: string): string | undefined {
  const parts = addressParts(text);
  const at = parts.findIndex((part) => /\d/.test(part));
  const street = parts[at] ?? "";
  const after = parts.slice(at + 1);
  const next = after[0];
  if (at < 0 || next === undefined || isCountry(next) || after.some((part) => /\d/.test(part))) return undefined;
  // A postal code, or a US state's code before its ZIP code ("Amsterdam, 1012 AB", "Springfield, IL 62701"),
  // or one without a word of letters ("Ottawa, K1A 0B1").
  const code = POSTAL_CODE.test(street) || /^[A-Z]{2,3}\s+\d/.test(street);
  if (code || !street.split(/\s+/).some((word) => /^\p{L}{2,}\.?$/u.test(word))) return undefined;
  if (at === 0 && !(STREET.test(street) && isStreet(street, next))) return undefined;
  return townToSend(after);
}

/** Whether `part`, written first, before `next`, is a street and house number rather than a place. */
function isStreet(part: string, next: string): boolean {
  const numberFirst = /^\d+[a-z]?\s(.+)$/i.exec(part);
  if (numberFirst) {
    const words = folded(numberFirst[1] ?? "").split(/[\s.]+/);
    return words.some((word) => STREET_WORDS.has(word));
  }
  // A district's number is plain: "12a" and "12/3" are a house's.
  const [, name, number] = /^(.+)\s(\d+)$/.exec(part) ?? [];
  if (name === undefined || number === undefined) return true;
  return !number.startsWith("0") && !` ${folded(next)}`.endsWith(` ${folded(name)}`);
}

/** Words of a street's name after its house number, folded: "123 Main St", "5 rue de la Paix". */
const STREET_WORDS = new Set(
  (
    "street st road rd avenue ave av boulevard blvd drive dr lane ln way court ct place pl square sq " +
    "terrace ter parkway pkwy highway hwy crescent cres close circle cir rue allee chemin impasse quai " +
    "cours route calle avenida rua via"
  ).split(" "),
);

/** Countries' codes by their English names, folded, as the geocoder answers with them: "czechia" is CZ. */
let englishNames: Map<string, string> | undefined;

function countryCodes(): Map<string, string> {
  if (!englishNames) {
    const names = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
    const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    englishNames = new Map();
    // Not a former code, which has the name of the code it was replaced by: DD is named Germany, as DE is.
    const current = (code: string) => new Intl.Locale("und", { region: code }).region === code;
    for (const code of [...letters].flatMap((a) => [...letters].map((b) => a + b)).filter(current)) {
      const name = folded(names.of(code) ?? "");
      if (name && !englishNames.has(name)) englishNames.set(name, code);
    }
  }
  return englishNames;
}

/**
 * For three or four capitals alone, as an airport's code is written ("PRG", "JFK", "LKPR"), which the geocoder finds no
 * place by anywhere ("NICE" it finds): the advice to send its town.
 */
function airportCode(name: string, argument: string): string {
  const send =
    argument === "place"
      ? "send its town's name or the airport's latitude and longitude"
      : "search for its town's name, or give the weather tools the airport's latitude and longitude";
  return /^[A-Z]{3,4}$/.test(name.trim())
    ? ` If ${quote(name.trim())} is an airport's code, which names no place here, ${send}.`
    : "";
}

/**
 * For a name written as an airport's IATA code ("MAN", "LAX"), which the geocoder found a place called by (Man in Côte
 * d'Ivoire, not Manchester; Lax in Valais, not Los Angeles): that the code was read as that place's name. Four
 * capitals are a town's name written so ("OSLO", "ROMA") more often than an airport's ICAO code.
 */
function readAsName(name: string, place: Place): string | undefined {
  const code = name.trim();
  if (!/^[A-Z]{3}$/.test(code) || place.name === code) return undefined;
  return `${quote(code)} was read as the name of ${label(place)}, not as an airport's code: if it is an airport's, send its town's name or the airport's latitude and longitude.`;
}

/**
 * `text` with a country or region written in brackets after the name ("Paris (France)", "Ostrava (CZ)", "Paris (TX)"),
 * or an Italian province before one of its postal codes ("Trento (TN), 38122"), after a comma instead, as the search
 * is narrowed by one; a name's own words in brackets ("Frankfurt (Oder)") are left.
 */
function withQualifierOutOfBrackets(text: string): string {
  const [, name, within = "", rest = ""] = /^([^(),]+?)\s*\(([^()]+)\)\s*(,[^()]*)?$/.exec(text) ?? [];
  const qualifier = within.trim();
  const code = /^[A-Z]{2,3}$/.test(qualifier);
  const country = code
    ? [...countryCodes().values()].includes(qualifier) || qualifier.toLowerCase() in COUNTRY_ALIASES
    : isCountryName(qualifier);
  const province = rest.split(",").some((part) => isItalianProvince(qualifier, part.trim()));
  return name && (country || province || isKnownRegion(qualifier)) ? `${name}, ${qualifier}${rest}` : text;
}

/**
 * For a name that ends in a country or region without the comma before it (commaToAdd): the advice to send it with one.
 * Where it ends in a country's three letters, `towns` are the places called by the name before them: named in the two
 * letters only where one is in that country, as "Ostrava, DE" would find none either.
 */
function commaForgotten(name: string, towns: Place[] = []): string {
  const added = commaToAdd(name);
  if (!added) return "";
  const [, twoLetters = ""] = /, ([A-Z]{2})$/.exec(added.send) ?? [];
  if (added.threeLetters && towns.length && !towns.some((place) => place.country_code === twoLetters)) {
    const { code, town } = added.threeLetters;
    return ` ${added.what} goes after a comma, but ${quote(code)} is the three-letter code of the country the geocoder knows as ${quote(twoLetters)}, where none of the places called ${quote(town)} found is: ${towns.slice(0, 5).map(label).join("; ")}. Send ${quote(town)} if ${quote(code)} is an airport's code.`;
  }
  // Three letters after a town may be its airport's code as well: "Frankfurt FRA", "Perth PER".
  const airport = added.threeLetters
    ? `, or ${quote(added.threeLetters.town)} if ${quote(added.threeLetters.code)} is an airport's code`
    : "";
  // Two letters that are an Italian province's code too, where a place of the town's name is in Italy: "Rieti RI".
  const province =
    added.province && towns.some((place) => place.country_code === "IT")
      ? `, or ${quote(`${added.province.town}, IT`)} if ${quote(added.province.code)} is the Italian province`
      : "";
  return ` ${added.what} goes after a comma: send ${quote(added.send)}${airport}${province}.`;
}

/**
 * For a name that ends in a country or region without the comma before it ("Ostrava CZ", "Limerick
 * Ireland", "White Plains NY"), which the geocoder reads as part of the name and finds nothing for:
 * the name to send, and what the comma goes before.
 */
function commaToAdd(name: string):
  | {
      what: string;
      send: string;
      threeLetters?: { code: string; town: string };
      province?: { code: string; town: string };
    }
  | undefined {
  // A region's or country's own name ends in none: "New South Wales", "Northern Ireland".
  if (isKnownRegion(name) || isCountryName(name)) return undefined;
  // A slash without spaces before a country or region is a word of its own, as one with spaces is: "Ostrava/CZ",
  // "Brno/Czech Republic", "Linz/Upper Austria"; not before a river's name after the town's, "Halle/Saale".
  const [, town, after = ""] = /^(.*\S)\/(\S[^/]*)$/.exec(name.trim()) ?? [];
  const named = (text: string) => /^[A-Z]{2,3}$/.test(text) || isKnownRegion(text) || isCountryName(text);
  const [first = "", ...others] = after.split(/\s+/);
  const slashed = town && (named(after) || (REGION_OF.test(first) && named(others.join(" "))));
  const words = (slashed ? `${town} / ${after}` : name.trim()).split(/\s+/);
  // The longest ending first: "Springfield United States" is not "Springfield United, States".
  for (let count = Math.min(3, words.length - 1); count > 0; count--) {
    const ending = words.slice(-count).join(" ");
    // Codes in capitals only: "de" and "la", Delaware's and Louisiana's, are words of names too.
    const code = /^[A-Z]{2,3}$/.test(ending);
    if (!code && !/^\p{Lu}/u.test(ending)) continue;
    // After a small joining word a country's name is the town's own: "Ciudad de Mexico", "Port of Spain".
    if (!code && /^\p{Ll}+$/u.test(words.at(-count - 1) ?? "")) continue;
    const known = code && ([...countryCodes().values()].includes(ending) || ending.toLowerCase() in COUNTRY_ALIASES);
    // A three-letter code the geocoder knows by its two letters: "Ostrava CZE" is "Ostrava, CZ". Not a word of a name
    // written in capitals, as an address may be: "TORRE DEL MAR" is no Torre del in Morocco.
    const alpha3 = code && !known && /\p{Ll}/u.test(words.slice(0, -count).join(" ")) ? ALPHA_3[ending] : undefined;
    const country = code ? known || alpha3 !== undefined : isCountryName(ending);
    // "CA" is Canada and California, "Georgia" a country and a state.
    const region = isKnownRegion(ending);
    const kind = country && region ? "country or region" : country ? "country" : region ? "region" : undefined;
    if (!kind) continue;
    // "Linz Upper Austria": a region called after its country or region, which the geocoder names so too.
    const within = !code && words.length - count > 1 && REGION_OF.test(words.at(-count - 1) ?? "");
    const at = words.length - count - (within ? 1 : 0);
    const what = within ? "A region" : `A ${kind}${code ? " code" : ""}`;
    // A dash or a slash written where the comma goes: "Ostrava - CZ", "Glasgow / Scotland".
    const before = words
      .slice(0, at)
      .join(" ")
      .replace(/\s+[-–—/|]$/, "");
    const send = `${before}, ${alpha3 ?? words.slice(at).join(" ")}`;
    if (alpha3) return { what, send, threeLetters: { code: ending, town: before } };
    return isItalianProvinceCode(ending) ? { what, send, province: { code: ending, town: before } } : { what, send };
  }
  return undefined;
}

/** Words a region's name puts before its country's or region's: "Northern Ireland", "Upper Austria", "Baja California". */
const REGION_OF = /^(?:north|south|east|west|northern|southern|eastern|western|upper|lower|central|baja)$/i;

/** A country's code, or its name as people or the geocoder write it. */
function isCountry(part: string): boolean {
  return /^[a-z]{2,3}$/.test(folded(part)) || isCountryName(part);
}

/** A country's name as people or the geocoder write it: "Czechia", "Czech Republic", "Česko", "the Netherlands". */
function isCountryName(part: string): boolean {
  const name = qualifierPart(part);
  return name in COUNTRY_ALIASES || countryCodes().has(name);
}

/**
 * A part of a qualifier as compared: folded, without the "the" some countries' names are written with, nor the dots
 * of an abbreviation ("U.S.", "FR.").
 */
function qualifierPart(part: string): string {
  return folded(part.trim())
    .replace(/^the\s+/, "")
    .replaceAll(".", "");
}

/** How many times as populous a place found by another of its names must be to win over one called so. */
const LOCAL_NAME_FACTOR = 100;

/** The most populous of `places`. */
function mostPopulous(places: Place[]): Place | undefined {
  return places.reduce<Place | undefined>(
    (top, p) => (!top || (p.population ?? 0) > (top.population ?? 0) ? p : top),
    undefined,
  );
}

/** A place the geocoder found, with the postal codes it lists for it (GeoNames has a few for some). */
interface Found {
  place: Place;
  postcodes: string[];
}

/** A postal code compared as written in any way: "702 00" is "70200", "sw1a 1aa" "SW1A1AA". */
const postal = (code: string) => folded(code).replace(/[\s-]/g, "");

/**
 * Each comma-separated part of the qualifier names the place's country code, country, region or postal code; in Italy
 * its province's code too, by a postal code of the province written in `whole`, the whole qualifier ("TN" in "Trento,
 * TN, 38122"). Without one the code is a US state's only: "Milan, MI" is Milan in Michigan.
 */
function matches({ place, postcodes }: Found, qualifier: string, whole = qualifier): boolean {
  // Only the fields the place has: a missing one would match any word no alias is known for.
  // Compared as the qualifier's parts are, "the" left out: Anguilla's district "The Quarter" is written so too.
  const fields = [place.country_code, place.country, place.region].flatMap((field) =>
    field ? [qualifierPart(field)] : [],
  );
  const codes = REGION_CODES[place.country_code?.toUpperCase() ?? ""];
  const region = codes && place.region ? folded(place.region) : undefined;
  const writtenPostcodes = whole.split(",").map((part) => part.trim());
  return qualifier
    .split(",")
    .filter((written) => qualifierPart(written))
    .every((written) => {
      const part = qualifierPart(written);
      return (
        fields.includes(part) ||
        fields.includes(COUNTRY_ALIASES[part] ?? "") ||
        (/\d/.test(part) && postcodes.some((code) => postal(code) === postal(part))) ||
        // "D.C." and "N.Y." as some write the codes, with dots, and "Tex." as some abbreviate a state's name.
        (region !== undefined &&
          regionsCoded(codes, folded(written.trim())).some((state) => folded(state) === region)) ||
        (place.country_code === "IT" && writtenPostcodes.some((code) => isItalianProvince(written.trim(), code)))
      );
    });
}

/** A country code as GeoNames knows it: UK, which people write (ISO 3166-1 reserves it), is GB. */
export const geonamesCountry = (code: string) => (COUNTRY_ALIASES[code.toLowerCase()] ?? code).toUpperCase();

/** Names of countries people write that GeoNames spells otherwise, folded, by the country code. */
const COUNTRY_ALIASES: Record<string, string> = {
  usa: "us",
  // GeoNames' own name, which matches as the country's too: here so that a US address keeps its state.
  "united states": "us",
  "united states of america": "us",
  uk: "gb",
  "great britain": "gb",
  england: "gb",
  "czech republic": "cz",
  // Names the country had in English, still written.
  holland: "nl",
  turkey: "tr",
  // As a Czech company's people write their country and its neighbours (GeoNames answers in English), in
  // Czech and in each neighbour's own language.
  cesko: "cz",
  "ceska republika": "cz",
  slovensko: "sk",
  deutschland: "de",
  nemecko: "de",
  osterreich: "at",
  rakousko: "at",
  polska: "pl",
  polsko: "pl",
  // As an Italian address names its country after the town and its province.
  italia: "it",
};

/** The US states by postal code, as a person writes "Springfield, IL"; the capital's district by both its names. */
const US_STATES: Record<string, string | string[]> = {
  al: "Alabama",
  ak: "Alaska",
  az: "Arizona",
  ar: "Arkansas",
  ca: "California",
  co: "Colorado",
  ct: "Connecticut",
  de: "Delaware",
  // The geocoder names the district so; the other is how the city is written.
  dc: ["District of Columbia", "Washington, D.C."],
  fl: "Florida",
  ga: "Georgia",
  hi: "Hawaii",
  id: "Idaho",
  il: "Illinois",
  in: "Indiana",
  ia: "Iowa",
  ks: "Kansas",
  ky: "Kentucky",
  la: "Louisiana",
  me: "Maine",
  md: "Maryland",
  ma: "Massachusetts",
  mi: "Michigan",
  mn: "Minnesota",
  ms: "Mississippi",
  mo: "Missouri",
  mt: "Montana",
  ne: "Nebraska",
  nv: "Nevada",
  nh: "New Hampshire",
  nj: "New Jersey",
  nm: "New Mexico",
  ny: "New York",
  nc: "North Carolina",
  nd: "North Dakota",
  oh: "Ohio",
  ok: "Oklahoma",
  or: "Oregon",
  pa: "Pennsylvania",
  ri: "Rhode Island",
  sc: "South Carolina",
  sd: "South Dakota",
  tn: "Tennessee",
  tx: "Texas",
  ut: "Utah",
  vt: "Vermont",
  va: "Virginia",
  wa: "Washington",
  wv: "West Virginia",
  wi: "Wisconsin",
  wy: "Wyoming",
};

/**
 * The first three digits of the ZIP codes of each US state, as the Postal Service gives them out: where a state's
 * code comes before a ZIP code without the country after, the ZIP code says whether the letters are the state's.
 */
const US_ZIP_PREFIXES =
  "ny 005 063 100-149, ma 010-027 055, ri 028-029, nh 030-038, me 039-049, vt 050-054 056-059, ct 060-069, nj 070-089, " +
  "pa 150-196, de 197-199, dc 200 202-205 569, va 201 220-246, md 206-219, wv 247-268, nc 270-289, sc 290-299, " +
  "ga 300-319 398-399, fl 320-349, al 350-369, tn 370-385, ms 386-397, ky 400-427, oh 430-459, in 460-479, " +
  "mi 480-499, ia 500-528, wi 530-549, mn 550-567, sd 570-577, nd 580-588, mt 590-599, il 600-629, mo 630-658, " +
  "ks 660-679, ne 680-693, la 700-714, ar 716-729 755, ok 730-731 734-749, tx 733 750-799 885, co 800-816, wy 820-831, " +
  "id 832-838, ut 840-847, az 850-865, nm 870-884, nv 889-898, ca 900-961, hi 967-968, or 970-979, wa 980-994, ak 995-999";

/** The states, by their codes in small letters, whose ZIP codes a ZIP code ("39201", "62701-1234") is among. */
function zipCodeStates(zip: string): string[] {
  if (!/^\d{5}(?:-\d{4})?$/.test(zip)) return [];
  const prefix = Number(zip.slice(0, 3));
  return US_ZIP_PREFIXES.split(", ").flatMap((entry) => {
    const [state = "", ...ranges] = entry.split(" ");
    return ranges.some((range) => {
      const [from = 0, to = from] = range.split("-").map(Number);
      return prefix >= from && prefix <= to;
    })
      ? [state]
      : [];
  });
}

/**
 * Whether `code` is a Canadian province's before a Canadian postal code ("ON M5V 2T6"), or an Australian state's before
 * a postcode of four digits ("NSW 2000"), which a US ZIP code never is: the address needs no country to keep it.
 */
function regionOfPostalCode(code: string, postalCode: string): boolean {
  const key = code.toLowerCase();
  return (
    (Object.hasOwn(CANADIAN_PROVINCES, key) && /^[A-Z]\d[A-Z]\s?\d[A-Z]\d$/i.test(postalCode)) ||
    (Object.hasOwn(AUSTRALIAN_STATES, key) && /^\d{4}$/.test(postalCode))
  );
}

/** A postal code without the country written after it and a space: "3121 Australia" is "3121", "M5V 2T6 CA" "M5V 2T6". */
function withoutCountryAfter(code: string): string {
  const [, before = code, country = ""] = /^(.*\d[A-Za-z\d]*)\s+(\D+)$/.exec(code) ?? [];
  return isCountry(country) ? before : code;
}

/** Canada's provinces and territories by postal code, as a person writes "Toronto, ON". */
const CANADIAN_PROVINCES: Record<string, string> = {
  ab: "Alberta",
  bc: "British Columbia",
  mb: "Manitoba",
  nb: "New Brunswick",
  nl: "Newfoundland and Labrador",
  ns: "Nova Scotia",
  nt: "Northwest Territories",
  nu: "Nunavut",
  on: "Ontario",
  pe: "Prince Edward Island",
  qc: "Quebec",
  sk: "Saskatchewan",
  yt: "Yukon",
};

/** Australia's states and territories by their abbreviations, as a person writes "Adelaide, SA". */
const AUSTRALIAN_STATES: Record<string, string> = {
  act: "Australian Capital Territory",
  nsw: "New South Wales",
  nt: "Northern Territory",
  qld: "Queensland",
  sa: "South Australia",
  tas: "Tasmania",
  vic: "Victoria",
  wa: "Western Australia",
};

/**
 * The regions people name by a code after the town, by country code: the geocoder knows them by
 * their names only, and takes the code for a country's ("SA" is Saudi Arabia's).
 */
const REGION_CODES: Record<string, Record<string, string | string[]>> = {
  US: US_STATES,
  CA: CANADIAN_PROVINCES,
  AU: AUSTRALIAN_STATES,
};

/**
 * The regions `code` names among `codes` ("NT" is a territory in both Canada and Australia), dots aside; among the US
 * states, an abbreviation of a state's name with its dot too ("Tex.", "N. Mex."), which without it ("Ill", "Miss") may
 * be a word of a name.
 */
function regionsCoded(codes: Record<string, string | string[]> | undefined, code: string): string[] {
  const key = code.replaceAll(".", "");
  const abbreviated =
    codes === US_STATES && code.endsWith(".") ? US_ABBREVIATIONS.get(key.replace(/\s+/g, "")) : undefined;
  const coded = abbreviated ?? key;
  return codes && Object.hasOwn(codes, coded) ? [codes[coded] ?? []].flat() : [];
}

/**
 * The US states' names abbreviated as newspapers (AP style) and older addresses write them, before their dots, by postal
 * code: those that are no postal code already ("Pa.", "N.Y.").
 */
const US_ABBREVIATIONS = new Map(
  (
    "ala al, ariz az, ark ar, cal ca, calif ca, colo co, conn ct, del de, fla fl, ill il, ind in, kan ks, kans ks, " +
    "mass ma, mich mi, minn mn, miss ms, mont mt, neb ne, nebr ne, nev nv, nmex nm, ndak nd, okla ok, ore or, oreg or, " +
    "penn pa, penna pa, sdak sd, tenn tn, tex tx, wash wa, wva wv, wis wi, wisc wi, wyo wy"
  )
    .split(", ")
    .map((pair) => pair.split(" ") as [string, string]),
);

/**
 * The United Kingdom's nations GeoNames has as its first-level divisions, which people write after a
 * town as a country ("Glasgow Scotland"); England is the country's alias too (COUNTRY_ALIASES).
 */
const UK_NATIONS = new Set(["scotland", "wales", "northern ireland"]);

/**
 * The United Kingdom's counties, as addresses write them after the post town, whose names do not end in "-shire" nor
 * begin with "County": postal and ceremonial counties, Wales' and Scotland's former ones, the Crown Dependencies.
 */
const UK_COUNTIES = new Set(
  (
    "avon, cleveland, cornwall, cumbria, devon, dorset, east sussex, west sussex, essex, isle of wight, kent, " +
    "merseyside, middlesex, norfolk, northumberland, north humberside, south humberside, north yorkshire, " +
    "south yorkshire, west yorkshire, east riding of yorkshire, rutland, somerset, suffolk, surrey, tyne and wear, " +
    "west midlands, greater manchester, greater london, clwyd, dyfed, gwent, gwynedd, mid glamorgan, south glamorgan, " +
    "west glamorgan, powys, anglesey, isle of anglesey, angus, argyll, caithness, east lothian, west lothian, " +
    "midlothian, fife, moray, orkney, shetland, sutherland, isle of arran, isle of bute, isle of skye, isle of lewis, " +
    "western isles, dumfries and galloway, scottish borders, highland, lothian, strathclyde, tayside, grampian, " +
    "jersey, guernsey, isle of man"
  ).split(", "),
);

/** A region's name or code people write after a town: "Illinois", "Ontario", "NSW", "Scotland". */
function isKnownRegion(text: string): boolean {
  const name = folded(text.trim());
  return (
    UK_NATIONS.has(name) ||
    Object.values(REGION_CODES).some(
      (codes) =>
        regionsCoded(codes, name).length > 0 ||
        Object.values(codes)
          .flat()
          .some((state) => folded(state) === name),
    )
  );
}

/** "Ostrava, Moravskoslezský kraj, Czechia" or "49.8347, 18.282". */
export function label(place: Pick<Place, "name" | "region" | "country" | "latitude" | "longitude">): string {
  const named = [place.name, place.region, place.country].filter(Boolean);
  return named.length ? named.join(", ") : `${place.latitude}, ${place.longitude}`;
}
