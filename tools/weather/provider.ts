import type { Call } from "../../src/http/types.js";
import type { Stale } from "../../src/http/upstream.js";
import type { Condition } from "./conditions.js";
import type { Place } from "./places.js";

/** Conditions at one moment. Times are epoch milliseconds here, ISO 8601 in the tools' results. */
export interface Now {
  time: number;
  temperature_c: number;
  apparent_temperature_c?: number;
  humidity_percent?: number;
  wind_speed_ms?: number;
  wind_direction_deg?: number;
  wind_gusts_ms?: number;
  /** Intensity in mm per hour: MET Norway's amount for the current hour, Open-Meteo's sum over its `current.interval`, per hour. */
  precipitation_mm_h?: number;
  cloud_cover_percent?: number;
  condition?: Condition;
  /** Why these come from an answer kept from before, and since when: the provider failed when asked. */
  stale?: Stale;
}

/** One local day of the place's time zone. */
export interface Day {
  date: string;
  temperature_min_c: number;
  temperature_max_c: number;
  precipitation_mm?: number;
  precipitation_probability_percent?: number;
  wind_speed_max_ms?: number;
  wind_gusts_max_ms?: number;
  condition?: Condition;
  /** The forecast covers only part of the day (it starts now, or runs out). */
  partial?: boolean;
}

/** One forecast step: an hour, or a longer period where the provider's steps are longer. */
export interface Hour {
  time: number;
  period_hours: number;
  temperature_c: number;
  humidity_percent?: number;
  precipitation_mm?: number;
  precipitation_probability_percent?: number;
  wind_speed_ms?: number;
  wind_direction_deg?: number;
  wind_gusts_ms?: number;
  cloud_cover_percent?: number;
  condition?: Condition;
}

export interface WeatherProvider {
  id: "met" | "open-meteo";
  name: string;
  /** The credit the provider's licence asks for, shown with every answer. */
  attribution: string;
  maxDays: number;
  /**
   * Its days' precipitation, probability, gusts and condition are of 24 hours an hour before the
   * day's own: Open-Meteo sums its hourly values of the day's hours, each of the hour before it.
   */
  dailySumsHourEarlier?: true;
  /**
   * Its days' wind and gusts are the highest of the instant values at its steps' times, not of the
   * whole day: MET Norway's 6-hour steps give four a day.
   */
  windAtSteps?: true;
  /** The chances of precipitation a day's probability is the highest of: "hourly chances of precipitation". */
  chances: string;
  /**
   * What its hourly steps' values are of, said with them where some are at the hour's start and others not:
   * Open-Meteo's condition is of the hour's end, its clouds then, beside the cloud cover at the start; MET
   * Norway's is of the hour after, as its precipitation is. `instants` names the values given at the start that the
   * hours show: "wind and cloud cover" where they have no gusts.
   */
  hoursOf?: (instants: string) => string;
  current(place: Place, call: Call): Promise<Now>;
  /** `days` local days from today, and with `withHours` the forecast steps of those days. */
  forecast(
    place: Place,
    days: number,
    withHours: boolean,
    call: Call,
  ): Promise<{
    days: Day[];
    hours: Hour[];
    stale?: Stale;
    /** The time of the last step, where the forecast runs out. */
    ends?: number;
    offMidnight?: OffMidnight;
  }>;
}

/**
 * The first day that does not run midnight to midnight, the local times (HH:MM) it begins and
 * ends, and the day after it, if the forecast has one: Open-Meteo counts every day as 24 hours
 * with the offset in force when asked, also across a clock change. `byUtcHours`: days of UTC's
 * whole hours, in a zone whose offset is not whole hours; `change`, then, the day a clock change
 * falls in, when it ends, and the day after it.
 */
export interface OffMidnight {
  date: string;
  begins: string;
  ends: string;
  next?: string;
  byUtcHours?: boolean;
  change?: { date: string; ends: string; next?: string };
  /** When today ended (HH:MM), where it ended before now: at 23:30 behind UTC (St. John's), of UTC's whole hours. */
  todayEnded?: string;
}

/**
 * How long past its time a forecast kept is answered with, when its provider fails (saying so):
 * a few hours, after which what it says of now is too old to pass for the weather.
 */
export const KEPT_FOR_SECONDS = 3 * 3600;

/** Coordinates as sent upstream: at most 4 decimals (about 11 m), so nearby asks share a cached answer. */
export function coordinate(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
