/**
 * Weather conditions in plain words, with a rank so a day's most significant condition can be
 * picked. Open-Meteo reports WMO weather codes (it picks its daily code itself); MET Norway
 * reports symbol codes. Both become a Condition.
 */
export interface Condition {
  text: string;
  rank: number;
}

/** WMO weather interpretation codes as Open-Meteo documents them; the code is the rank. */
const WMO: Record<number, string> = {
  0: "clear sky",
  1: "mainly clear",
  2: "partly cloudy",
  3: "overcast",
  45: "fog",
  48: "freezing fog",
  51: "light drizzle",
  53: "drizzle",
  55: "dense drizzle",
  56: "light freezing drizzle",
  57: "dense freezing drizzle",
  61: "light rain",
  63: "rain",
  65: "heavy rain",
  66: "light freezing rain",
  67: "heavy freezing rain",
  71: "light snow",
  73: "snow",
  75: "heavy snow",
  77: "snow grains",
  80: "light rain showers",
  81: "rain showers",
  82: "violent rain showers",
  85: "light snow showers",
  86: "heavy snow showers",
  95: "thunderstorm",
  96: "thunderstorm with light hail",
  99: "thunderstorm with heavy hail",
};

export function wmoCondition(code: number): Condition {
  return { text: WMO[code] ?? `weather code ${code}`, rank: code };
}

const MET_SKY: Record<string, Condition> = {
  clearsky: { text: "clear sky", rank: 0 },
  fair: { text: "fair", rank: 1 },
  partlycloudy: { text: "partly cloudy", rank: 2 },
  cloudy: { text: "cloudy", rank: 3 },
  fog: { text: "fog", rank: 45 },
};

const MET_PRECIPITATION = /^(light|lights|heavy)?(rain|sleet|snow)(showers)?(andthunder)?$/;
const TYPES = ["rain", "sleet", "snow"] as const;

/**
 * A MET Norway symbol code (`lightrainshowers_day`) in words. The `_day`/`_night`/`_polartwilight`
 * variant only picks an icon. MET's list spells two codes "lightssleet…" and "lightssnow…".
 */
export function metCondition(symbol: string): Condition {
  const name = symbol.replace(/_(day|night|polartwilight)$/, "");
  const sky = MET_SKY[name];
  if (sky) return sky;
  const match = MET_PRECIPITATION.exec(name);
  if (!match) return { text: name.replaceAll("_", " "), rank: 3 };
  const [, intensity, precipitation, showers, thunder] = match;
  const type = precipitation as (typeof TYPES)[number];
  const light = intensity?.startsWith("light") ?? false;
  const heavy = intensity === "heavy";
  const words = [light ? "light" : heavy ? "heavy" : "", type, showers ? "showers" : "", thunder ? "and thunder" : ""];
  const strength = light ? 0 : heavy ? 2 : 1;
  // Thunder first, then how heavy, then snow over sleet over rain, and steady over showers: not
  // WMO's code order, where light showers (80) outrank heavy rain (65) and a day of it reads as showers.
  const weight = 10 * strength + 3 * TYPES.indexOf(type) + (showers ? 0 : 1);
  const rank = (thunder ? 80 : 50) + weight;
  return { text: words.filter(Boolean).join(" "), rank };
}

/** The most significant of several conditions; undefined for none. */
export function mostSignificant(conditions: Iterable<Condition>): Condition | undefined {
  let top: Condition | undefined;
  for (const condition of conditions) if (!top || condition.rank > top.rank) top = condition;
  return top;
}
