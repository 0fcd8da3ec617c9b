/**
 * The weather both weather fakes serve: a deterministic function of time, so a test can say
 * what a day must sum to. Tests may swap in their own function per fake.
 */
export interface HourWeather {
  temperature: number;
  /** Over the hour starting at that time, mm. */
  precipitation: number;
  probability: number;
  humidity: number;
  wind: number;
  gust: number;
  direction: number;
  cloud: number;
}

export type WeatherAt = (epoch: number) => HourWeather;

export const HOUR = 3_600_000;

/** Mild, with a daily swing and a shower every fifth hour. */
export const defaultWeather: WeatherAt = (epoch) => {
  const hour = Math.floor(epoch / HOUR);
  const swing = Math.sin((2 * Math.PI * ((hour % 24) - 9)) / 24);
  const wet = hour % 5 === 0;
  return {
    temperature: round(8 + 5 * swing),
    precipitation: wet ? 0.6 : 0,
    probability: wet ? 70 : 10,
    humidity: round(70 - 15 * swing),
    wind: round(4 + 2 * Math.cos(hour / 7)),
    gust: round(8 + 3 * Math.cos(hour / 7)),
    direction: (hour * 37) % 360,
    cloud: wet ? 90 : round(40 + 30 * Math.sin(hour / 3)),
  };
};

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export { localParts } from "./http.js";
