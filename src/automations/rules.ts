import { z } from "zod";
import { jsonSetting } from "../settings.js";

/**
 * Automations as the config file declares them: when an event of a source (and type) arrives
 * whose payload meets the conditions, do the steps. Values come from the event with JMESPath
 * expressions and into text with logic-less Mustache templates; neither ever runs what a
 * payload holds.
 */

/** A JMESPath expression; compiled when automations start, so a typo stops waiter serve and listen. */
const path = z.string().min(1);

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const condition = z
  .strictObject({
    path,
    equals: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
    present: z.boolean().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((c) => ["equals", "in", "present", "gt", "gte", "lt", "lte"].filter((k) => k in c).length === 1, {
    message: "a condition has a path and one of equals, in, present, gt, gte, lt, lte",
  });
export type Condition = z.output<typeof condition>;

/** A step's argument: a string is a template; {"path": ...} is a value taken from the event; any other JSON is itself. */
const argument = z.unknown();

export function isPathArgument(value: unknown): value is { path: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { path?: unknown }).path === "string"
  );
}

const step = z.union(
  [
    z.strictObject({ tool: z.string().min(1), args: z.record(z.string(), argument).default({}) }),
    z.strictObject({ notify: z.string().min(1), text: z.string().min(1) }),
    z.strictObject({ ack: z.literal(true) }),
  ],
  { error: 'a step is {"tool": …, "args": {…}}, {"notify": <channel>, "text": …} or {"ack": true}' },
);
export type Step = z.output<typeof step>;

/** The tool a step calls: a notification is notify_send, an ack events_ack. */
export function toolOf(step: Step): string {
  return "tool" in step ? step.tool : "notify" in step ? "notify_send" : "events_ack";
}

const automation = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "automation names are lowercase letters, digits, - and _"),
  when: z.strictObject({
    source: z.string().min(1),
    /** Exact, or a prefix when it ends with ".", "/" or "*", as events_list's filter. */
    type: z.string().min(1).optional(),
    where: z.array(condition).default([]),
  }),
  do: z.array(step).min(1).max(20),
  /** Who is told when a run fails: a notification channel. */
  onFailure: z.strictObject({ notify: z.string().min(1) }).optional(),
  dryRun: z.boolean().default(false),
});
export type Automation = z.output<typeof automation>;

export const automationsSetting = {
  env: "WAITER_AUTOMATIONS",
  description:
    "What waiter serve and waiter listen do by themselves when an event arrives, as JSON: a list of {name, when: {source, type, where}, do: [steps], dryRun}; docs/automations.md says how.",
  schema: jsonSetting(z.array(automation), []).superRefine((automations, ctx) => {
    const seen = new Set<string>();
    for (const [i, a] of automations.entries()) {
      if (seen.has(a.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `${a.name} is named twice` });
      seen.add(a.name);
    }
  }),
};
