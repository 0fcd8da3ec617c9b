import { z } from "zod";
import { decimal, truth } from "../../src/settings.js";
import { clock, dateIn, HOUR_MS, localIso, midnight, weekdayName } from "../../src/time.js";
import { defineTool, type Tool } from "../../src/toolset.js";
import { type geocoder, notOnePlace } from "./places.js";
import type { OffMidnight, WeatherProvider } from "./provider.js";
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
  round,
  where,
} from "./shapes.js";

/** Hours are listed for this many days at most, so an answer stays readable. */
const HOURLY_DAYS = 3;

/** A day that begins at `begins` (HH:MM) instead of midnight: from the evening before, or into its own morning. */
function aroundMidnight(begins: string): string {
  return begins >= "12:00" ? `from ${begins} the day before to ${begins}` : `from ${begins} to ${begins} the day after`;
}

/** A day that begins at `begins` and ends at `ends` (HH:MM), each within an hour or so of a midnight. */
function fromTo(begins: string, ends: string): string {
  const from = begins === "00:00" ? "midnight" : begins >= "12:00" ? `${begins} the day before` : begins;
  const to = ends === "00:00" ? "midnight" : ends < "12:00" ? `${ends} the day after` : ends;
  return `from ${from} to ${to}`;
}

/** What Open-Meteo's days that do not run midnight to midnight, from the first of them on, run instead. */
function offMidnightNote(name: string, off: OffMidnight): string {
  if (off.byUtcHours) {
    const change = off.change;
    const each = `each runs ${aroundMidnight(off.begins)}`;
    const runs = !change
      ? each
      : `${change.date === off.date ? "" : `before ${change.date}, ${each}; `}across a clock change, ${change.date} runs ${fromTo(off.begins, change.ends)}${change.next ? `, and from ${change.next} on each runs ${aroundMidnight(change.ends)}` : ""}`;
    return `${name} counts its days from whole hours of UTC, which the place's midnight is not: ${runs}, not midnight to midnight.`;
  }
  const runs =
    off.begins === off.ends
      ? `from ${off.date} on, after a clock change, each runs ${aroundMidnight(off.begins)}`
      : `across a clock change, ${off.date} runs ${fromTo(off.begins, off.ends)}${off.next && off.ends !== "00:00" ? `, and from ${off.next} on each runs ${aroundMidnight(off.ends)}` : ""}`;
  return `${name} counts its days with the UTC offset in force now: ${runs}, not midnight to midnight.`;
}

/**
 * The instant values that steps give, gusts as many of them as show any: the step cut short between
 * hourly and 6-hourly ones is an hourly entry's, with gusts where the 6-hourly ones have none.
 */
function instantsShown(steps: { wind_gusts_ms?: number }[]): string {
  const gusty = steps.filter((h) => h.wind_gusts_ms !== undefined).length;
  if (gusty === 0) return "wind and cloud cover";
  return gusty === steps.length ? "wind, gusts and cloud cover" : "wind, cloud cover and, where shown, gusts";
}

export function forecastTool(places: ReturnType<typeof geocoder>, provider: WeatherProvider): Tool {
  const max = provider.maxDays;
  return defineTool({
    name: "weather_forecast",
    title: "Weather forecast",
    description:
      `Forecast per local day at a place name or coordinates, from ${provider.name}, up to ${max} days from today: ` +
      "temperatures, precipitation, wind, the day's condition in words. " +
      "Units are in the field names: °C, mm, %, m/s.",
    input: {
      ...location,
      days: decimal(
        z
          .number()
          .int()
          .min(1)
          .max(max, `${provider.name}'s forecast reaches ${max} days at most, today the first: send ${max} or fewer`),
      )
        .default(3)
        .describe(`Counting today, 1 to ${max}; default 3.`),
      hourly: truth(z.boolean())
        .default(false)
        .describe(`Also the steps (1 h${provider.id === "met" ? ", later 6 h" : ""}), ${HOURLY_DAYS} days at most.`),
    },
    output: {
      place: placeOut,
      alternatives: alternativesOut,
      days: z.array(
        z.object({
          date: z.string(),
          temperature_min_c: z.number(),
          temperature_max_c: z.number(),
          precipitation_mm: z.number().optional(),
          precipitation_probability_percent: z.number().optional(),
          wind_speed_max_ms: z.number().optional(),
          wind_gusts_max_ms: z.number().optional(),
          condition: conditionOut,
          partial: z.boolean().optional().describe("Covers only part of the day."),
        }),
      ),
      hours: z
        .array(
          z.object({
            time: z.string(),
            period_hours: z.number(),
            temperature_c: z.number(),
            humidity_percent: z.number().optional(),
            precipitation_mm: z.number().optional().describe("Over the step."),
            precipitation_probability_percent: z.number().optional(),
            wind_speed_ms: z.number().optional(),
            wind_direction_deg: z.number().optional(),
            wind_gusts_ms: z.number().optional(),
            cloud_cover_percent: z.number().optional(),
            condition: conditionOut,
          }),
        )
        .optional(),
      note: z.string().optional(),
      provider: providerOut,
      attribution: attributionOut,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    refuses: notOnePlace,
    async run(args, call) {
      const resolved = await places.resolve(args, call);
      const zone = resolved.place.timezone;
      const forecast = await provider.forecast(resolved.place, args.days, args.hourly, call);
      const days = forecast.days.map(({ condition, ...day }) => ({ ...day, ...conditionText(condition) }));
      const now = clock.now();
      const hoursEnd = midnight(zone, now, Math.min(args.days, HOURLY_DAYS));
      const hours = forecast.hours
        .filter((h) => h.time + h.period_hours * HOUR_MS > now && h.time < hoursEnd)
        .map(({ time, condition, ...hour }) => ({ time: localIso(time, zone), ...hour, ...conditionText(condition) }));
      const last = days.at(-1);
      const ends = forecast.ends;
      const longer = hours.filter((h) => h.period_hours > 1);
      const hourly = hours.filter((h) => h.period_hours === 1);
      const notes = [
        ...(resolved.readAs ? [resolved.readAs] : []),
        ...(resolved.zoneDoubt ? [resolved.zoneDoubt] : []),
        ...alternativesByCoordinates(resolved),
        ...(days.length < args.days
          ? [
              `${provider.name} forecasts ${days.length} of the ${args.days} days asked for here${days.length ? `, up to ${days.at(-1)?.date}` : ""}.`,
            ]
          : []),
        // The last day the steps run out in may hold only its first hours: its values are of
        // those, not the day.
        ...(last?.partial && ends !== undefined && dateIn(zone, ends) === last.date
          ? [
              `${provider.name}'s forecast ends at ${localIso(ends, zone)}: ${last.date} covers only its hours up to then.`,
            ]
          : []),
        ...(forecast.offMidnight ? [offMidnightNote(provider.name, forecast.offMidnight)] : []),
        ...(provider.dailySumsHourEarlier
          ? [
              `${provider.name} sums a day's precipitation, and takes its probability, gusts and condition, ${forecast.offMidnight ? "over 24 hours that begin and end an hour before the day's" : "from 23:00 the day before to 23:00"}.`,
              // Its days are asked for from today's date: asked in the evening whether it rains today, today's
              // figures may be of the morning's rain, or, where its day ended before midnight, of none to come.
              forecast.offMidnight?.todayEnded
                ? `Today's values are all of hours past: ${provider.name}'s today ended at ${forecast.offMidnight.todayEnded}, and those from then on are the next day's${args.days === 1 ? " (ask for 2 days for it)" : ""}.`
                : "Today's values are of the whole day, its hours already past too.",
            ]
          : []),
        // A day's chance, read as the whole day's, reads higher from MET Norway than from Open-Meteo: each is of its own span.
        ...(days.some((d) => d.precipitation_probability_percent !== undefined)
          ? [`A day's probability is the highest of ${provider.name}'s ${provider.chances}, not the whole day's.`]
          : []),
        // "Wind to" reads as the day's strongest, which a day of four 6-hour steps' instants may well miss.
        ...(provider.windAtSteps && days.some((d) => d.wind_speed_max_ms !== undefined)
          ? [
              `A day's ${days.some((d) => d.wind_gusts_max_ms !== undefined) ? "wind and gusts are" : "wind is"} the highest of ${provider.name}'s values at its steps' times (each hour, later every 6 hours: four a day), not the strongest between them.`,
            ]
          : []),
        ...(forecast.stale ? [keptNote(provider.name, forecast.stale)] : []),
        ...(args.hourly && args.days > HOURLY_DAYS
          ? [`Hours cover the first ${HOURLY_DAYS} of the ${args.days} days: hourly gives ${HOURLY_DAYS} days at most.`]
          : []),
        ...(provider.hoursOf && hourly.length ? [provider.hoursOf(instantsShown(hourly))] : []),
        // A step's instant values (MET Norway's `instant`; its `next_6_hours` has no wind) would read as its hours'.
        ...(args.hourly && longer.length
          ? [
              `${provider.name}'s steps of more than an hour give their temperature, humidity, ${instantsShown(longer)} at their start, and their precipitation, its chance and their condition over the step.`,
            ]
          : []),
      ];
      return {
        ...where(resolved),
        days,
        ...(args.hourly ? { hours } : {}),
        ...(notes.length ? { note: notes.join(" ") } : {}),
        provider: provider.id,
        attribution: provider.attribution,
      };
    },
    render(r) {
      const lines = [`${placeLine(r.place)}, ${r.provider === "met" ? "MET Norway" : "Open-Meteo"} forecast:`];
      // The place's today, which a model's own date (UTC's, or its user's) may not be, and each day's
      // weekday, which a model working it out from the date may get wrong ("on Saturday").
      const today = localIso(clock.now(), r.place.timezone).slice(0, 10);
      for (const [i, d] of r.days.entries()) {
        const which = d.date === today ? "today" : r.days[i - 1]?.date === today ? "tomorrow" : undefined;
        const tags = [which, d.partial && "part"].filter(Boolean);
        const rain = `${d.precipitation_mm ?? "?"} mm${d.precipitation_probability_percent === undefined ? "" : ` (${d.precipitation_probability_percent}%)`}`;
        const wind =
          d.wind_speed_max_ms === undefined
            ? ""
            : `, wind to ${d.wind_speed_max_ms} m/s${d.wind_gusts_max_ms === undefined ? "" : `, gusts to ${d.wind_gusts_max_ms} m/s`}`;
        lines.push(
          `${d.date} ${weekdayName(d.date)}${tags.length ? ` (${tags.join(", ")})` : ""}: ${round(d.temperature_min_c)} to ${round(d.temperature_max_c)} °C${d.condition ? `, ${d.condition}` : ""}, ${rain}${wind}`,
        );
      }
      if (r.note) lines.push(r.note);
      if (r.hours?.length) {
        lines.push("Hours:");
        for (const h of r.hours) {
          const rain =
            h.precipitation_mm === undefined
              ? ""
              : `, ${h.precipitation_mm} mm${h.period_hours > 1 ? ` in ${h.period_hours} h` : ""}`;
          const chance =
            h.precipitation_probability_percent === undefined ? "" : ` (${h.precipitation_probability_percent}%)`;
          const wind =
            h.wind_speed_ms === undefined
              ? ""
              : `, wind ${h.wind_speed_ms} m/s${h.wind_direction_deg === undefined ? "" : ` from ${h.wind_direction_deg}°`}${h.wind_gusts_ms === undefined ? "" : `, gusts ${h.wind_gusts_ms} m/s`}`;
          const humidity = h.humidity_percent === undefined ? "" : `, humidity ${h.humidity_percent}%`;
          const cloud = h.cloud_cover_percent === undefined ? "" : `, cloud cover ${h.cloud_cover_percent}%`;
          lines.push(
            `${h.time} ${h.temperature_c} °C${h.condition ? `, ${h.condition}` : ""}${rain}${chance}${wind}${humidity}${cloud}`,
          );
        }
      }
      lines.push(...footer(r));
      return lines.join("\n");
    },
  });
}
