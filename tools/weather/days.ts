import { clock, dateIn, HOUR_MS, midnight } from "../../src/time.js";
import { type Condition, mostSignificant } from "./conditions.js";
import type { Day, Hour } from "./provider.js";

/** A forecast step, with the extremes of its period where the provider gives them. */
export interface Step extends Hour {
  period_min_c?: number;
  period_max_c?: number;
  /**
   * Of a step cut short, which has no condition or chance of its own: the provider's period that
   * ends where the step ends, from `from`, its hours among them, and for its day only, its condition.
   */
  ending?: { from: number; condition?: Condition };
  /**
   * For its day only, where the provider gives it: of an hourly step, the chance of the 6 hours from
   * it; of a step cut short, of the 6 hours from it, which reach into the next step's hours.
   */
  sixHourChance?: number;
}

/** The `count` local days of `zone` from the day `now` falls on, midnight to midnight. */
function localDaysFrom(zone: string, count: number, now: number): { date: string; start: number; end: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const start = midnight(zone, now, i);
    return { date: dateIn(zone, start), start, end: midnight(zone, now, i + 1) };
  });
}

/**
 * Sums forecast steps into the place's local days (midnight to midnight in its zone, not UTC):
 * extremes of the temperatures within the day and of the periods centred in it (a 6-hour period's
 * minimum and maximum, given for the whole period, may reach a few hours past midnight),
 * precipitation shared out by the hours of each period that fall in the day (none where a period
 * has no amount), the highest probability, of 6 hours where the provider gives an hourly step's (none where a period has none), the strongest wind, gusts (none
 * where a step has none), and the most significant condition of the periods centred in the day. Days without data are left out, and so is a day the steps reach
 * only at its midnight: the last step is an instant, with no hour of the day after it.
 */
export function localDays(steps: readonly Step[], zone: string, count: number, now = clock.now()): Day[] {
  const days: Day[] = [];
  for (const { date, start, end } of localDaysFrom(zone, count, now)) {
    const instants = steps.filter((s) => s.time >= start && s.time < end);
    if (instants.length === 0) continue;
    const periods = steps
      .map((s) => ({ step: s, overlap: Math.min(end, s.time + s.period_hours * HOUR_MS) - Math.max(start, s.time) }))
      .filter(({ overlap }) => overlap > 0);
    if (periods.length === 0) continue;
    const centred = periods
      .map((p) => p.step)
      .filter((s) => {
        const middle = s.time + (s.period_hours * HOUR_MS) / 2;
        return middle >= start && middle < end;
      });
    const temperatures = [
      ...instants.map((s) => s.temperature_c),
      ...centred.flatMap((s) => [s.period_min_c, s.period_max_c]).filter((t): t is number => t !== undefined),
    ];
    // A sum with a period the provider gave no amount for is not known: absent, never a dry 0 mm.
    const precipitation = periods.every(({ step }) => step.precipitation_mm !== undefined)
      ? periods.reduce(
          (sum, { step, overlap }) => sum + ((step.precipitation_mm ?? 0) * overlap) / (step.period_hours * HOUR_MS),
          0,
        )
      : undefined;
    // A period past midnight would lend a day the hours of the day before or after.
    const ending = (s: Step) =>
      s.ending && s.ending.from >= start && s.time + s.period_hours * HOUR_MS <= end ? s.ending : undefined;
    // An hour's chance is lower than 6 hours', which a day of 6-hour steps has: an hourly step gives
    // its day that of the 6 hours from it, a step cut short that of the 6 hours ending with it, or,
    // in the day's last 6 hours, that of those hours; where those begin the day before, a step cut
    // short gives that of the 6 hours from it, as a 6-hour step reaching past midnight does.
    const lastSix = Math.floor((end - 6 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const sixHours = (s: Step) => {
      const own = s.period_hours === 1 ? s.time : s.ending?.from;
      const from = own === undefined ? undefined : Math.min(own, lastSix);
      const within =
        from !== undefined && from >= start ? steps.find((o) => o.time === from)?.sixHourChance : undefined;
      return within ?? (s.period_hours > 1 ? s.sixHourChance : undefined);
    };
    // So too a chance: the highest of some of its steps is not the day's.
    const chances = periods.map(({ step }) => sixHours(step) ?? step.precipitation_probability_percent);
    const probability = chances.includes(undefined) ? undefined : max(chances);
    const wind = max(instants.map((s) => s.wind_speed_ms));
    const gusts = instants.some((s) => s.wind_gusts_ms === undefined)
      ? undefined
      : max(instants.map((s) => s.wind_gusts_ms));
    const condition = mostSignificant(centred.flatMap((s) => s.condition ?? ending(s)?.condition ?? []));
    const first = steps[0]?.time ?? start;
    const last = steps.at(-1);
    const coveredUntil = last ? last.time + last.period_hours * HOUR_MS : end;
    days.push({
      date,
      temperature_min_c: Math.min(...temperatures),
      temperature_max_c: Math.max(...temperatures),
      ...(precipitation === undefined ? {} : { precipitation_mm: Math.round(precipitation * 10) / 10 }),
      ...(probability === undefined ? {} : { precipitation_probability_percent: probability }),
      ...(wind === undefined ? {} : { wind_speed_max_ms: wind }),
      ...(gusts === undefined ? {} : { wind_gusts_max_ms: gusts }),
      ...(condition ? { condition } : {}),
      ...(first > start || coveredUntil < end ? { partial: true } : {}),
    });
  }
  return days;
}

function max(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? Math.max(...known) : undefined;
}
