import { z } from "zod";
import { cleanType } from "../events/filter.js";
import {
  closedObject,
  jsonSetting,
  NAME,
  needed,
  PAST_RANGE,
  pastRange,
  settingName,
  settingsErrors,
} from "../settings.js";
import { enumerated } from "../shown.js";

/**
 * Automations as the config file declares them: when an event of a source (and type) arrives
 * whose payload meets the conditions, do the steps. Values come from the event with JMESPath
 * expressions and into text with logic-less Mustache templates; neither ever runs what a
 * payload holds.
 */

/** A JMESPath expression; compiled when automations start, so a typo stops waiter serve and listen. */
const path = needed("where in the event the value is, like payload.data.object.status");

const SCALAR = "must be a string, a number, true, false or null";
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: (issue) => (pastRange(issue.input) ? PAST_RANGE : SCALAR),
});
/** What `equals` takes: a list given it was most likely meant for `in`. */
const equalled = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: (issue) =>
    Array.isArray(issue.input)
      ? `${SCALAR}; a condition that holds for any of several values is {"path": …, "in": [the values]}`
      : pastRange(issue.input)
        ? PAST_RANGE
        : SCALAR,
});
const bound = z.number({ error: (issue) => (pastRange(issue.input) ? PAST_RANGE : "must be a number") });

/** What a condition tests its path's value with: one of these. */
const TESTS = ["equals", "in", "present", "gt", "gte", "lt", "lte"] as const;

const NOT = `a condition that holds where the value is not one is {"path": "payload.status != 'cancelled'", "equals": true}; not any of several, {"path": "!contains(['cancelled', 'failed'], payload.status)", "equals": true}`;

/** Tests other languages have, by their keys with no case or separators, and the path that makes each. */
const OTHER_TESTS: Record<string, string> = {
  ne: NOT,
  neq: NOT,
  not: NOT,
  notequals: NOT,
  notequal: NOT,
  notin: NOT,
  nin: NOT,
  contains: `a condition on a list or text that holds a value is {"path": "contains(payload.tags, 'gift')", "equals": true}`,
};

const condition = closedObject(
  "a condition",
  {
    path,
    equals: equalled.optional(),
    in: z.array(scalar).min(1, "is empty: it lists the values of which the path's must be one").optional(),
    present: z.boolean().optional(),
    gt: bound.optional(),
    gte: bound.optional(),
    lt: bound.optional(),
    lte: bound.optional(),
  },
  {
    // A comparison written alone, as the paths of the docs write one.
    notObject: (input) =>
      typeof input === "string"
        ? `is text, where a condition is an object, a path and one test: a JMESPath comparison is {"path": "payload.status == 'paid'", "equals": true}`
        : undefined,
    unknownKey: (key) => OTHER_TESTS[key.toLowerCase().replace(/[_\s-]/g, "")],
  },
).superRefine((c, ctx) => {
  const compared = c.equals !== undefined ? [{ value: c.equals, at: ["equals"] }] : [];
  for (const [i, value] of (c.in ?? []).entries()) compared.push({ value, at: ["in", String(i)] });
  for (const { value, at } of compared) {
    // Text as a path writes it ('paid', `paid`) is compared quotes and all.
    const quoted = typeof value === "string" ? /^(['`"])(.*)\1$/s.exec(value) : null;
    if (!quoted) continue;
    const marks = { "'": "single quotes", "`": "backticks", '"': "double quotes" }[quoted[1] as "'" | "`" | '"'];
    ctx.addIssue({
      code: "custom",
      path: at,
      message: `is in ${marks}, which the payload's value would have to hold too, so it never matches: write it without them, ${JSON.stringify(quoted[2])} (quotes are for text inside a path: payload.status == 'paid')`,
    });
  }
  const tests = TESTS.filter((k) => k in c);
  if (tests.length === 1) return;
  // Two tests are most often a range (gte and lt): conditions that must all hold, each of its own.
  const both = `it has ${tests.length === 2 ? "both " : ""}${enumerated(tests, "and")}; `;
  ctx.addIssue({
    code: "custom",
    message: `${tests.length > 1 ? both : ""}a condition has a path and one of ${TESTS.join(", ")}${tests.length > 1 ? ": make each a condition of its own, as all of them must hold" : ""}`,
  });
});
export type Condition = z.output<typeof condition>;

/** The one test a condition has (its parse checks there is one), and the value it tests with. */
export function testOf(condition: Condition): { test: (typeof TESTS)[number]; value: unknown } {
  const test = TESTS.find((t) => condition[t] !== undefined) as (typeof TESTS)[number];
  return { test, value: condition[test] };
}

/** A step's argument: a string is a template; {"path": ...} is a value taken from the event; any other JSON is itself. */
const argument = z.unknown();

/** Whether a step's argument is a template, text that inserts values ({{payload.id}}). */
export function isTemplate(value: unknown): boolean {
  return typeof value === "string" && value.includes("{{");
}

export function isPathArgument(value: unknown): value is { path: string } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { path?: unknown }).path === "string"
  );
}

/** The shapes a step may have, as a step that has none of them is told. */
const SHAPES = 'a step is {"tool": …, "args": {…}}, {"notify": <channel>, "text": …} or {"ack": true}';

/** Each kind of step as a message names it, by the key that names it. */
const KIND_NAMES = { tool: "a tool step", notify: "a notify step", ack: "an ack step" };

/** The kinds of step, by the key that names each. */
const STEPS = {
  tool: closedObject(KIND_NAMES.tool, {
    tool: z.string().min(1, "is empty: it names the tool to call"),
    args: z
      .record(z.string(), argument, { error: "must be an object of the tool's arguments by name, {} for none" })
      .default({}),
  }),
  notify: closedObject(KIND_NAMES.notify, {
    notify: z.string().min(1, "is empty: it names a notification channel"),
    text: z
      .string({
        error: (issue) =>
          issue.input === undefined
            ? undefined
            : isPathArgument(issue.input)
              ? 'is a template, not a {"path": …}: write the value into the text, as {{payload.id}}'
              : "must be text: a template, where {{payload.id}} inserts a value from the event",
      })
      .min(1, "is empty: a notify step sends a message")
      .describe("the message: a template, where {{payload.id}} inserts a value from the event"),
  }),
  ack: closedObject(KIND_NAMES.ack, {
    ack: z.literal(true, {
      error: 'must be true: {"ack": true} acknowledges the event; leave the step out to leave the event unacknowledged',
    }),
  }),
};
type Kind = keyof typeof STEPS;

/**
 * A step, of the kind the key it has names (tool, notify or ack): one that names a kind is checked
 * as a step of that kind, so what is wrong with it is said (its text left out, `"ack": false`), not
 * only that it is none of the three; one that names none, or several, is told their shapes.
 */
const step = z.unknown().transform((value, ctx) => {
  const kinds =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? (Object.keys(STEPS) as Kind[]).filter((kind) => kind in value)
      : [];
  const [kind] = kinds;
  if (kind === undefined || kinds.length > 1) {
    const names = kinds.map((k) => KIND_NAMES[k]);
    const several = `${names.length === 2 ? "both " : ""}${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    ctx.addIssue({
      code: "custom",
      message: kinds.length > 1 ? `it is ${several}; ${SHAPES}: make each a step of its own` : SHAPES,
    });
    return z.NEVER;
  }
  const checked = STEPS[kind].safeParse(value, { error: settingsErrors });
  if (!checked.success) {
    for (const issue of checked.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return checked.data as z.output<(typeof STEPS)[Kind]>;
});
export type Step = z.output<typeof step>;

/** The tool a step calls: a notification is notify_send, an ack events_ack. */
export function toolOf(step: Step): string {
  return "tool" in step ? step.tool : "notify" in step ? "notify_send" : "events_ack";
}

/** The arguments a step writes for its tool, templates and paths as written; an ack step writes none. */
export function written(step: Step): Record<string, unknown> {
  return "tool" in step ? step.args : "notify" in step ? { channel: step.notify, text: step.text } : {};
}

const MAX_STEPS = 20;

/**
 * The texts an automation's author wrote in its steps' arguments (`steps`, each as `written` gives
 * it), each {{…}} in them a space: an @name in them is a mention the author meant, which its
 * failure's notice keeps.
 */
export function authorsWords(steps: readonly unknown[]): string[] {
  const words: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") {
      words.push(value.replace(/\{\{.*?\}\}/gs, " "));
    } else if (typeof value === "object" && value !== null && !isPathArgument(value)) {
      for (const inner of Object.values(value)) walk(inner);
    }
  };
  for (const step of steps) walk(step);
  return words;
}

/** One automation, as the settings declare it. */
export const automation = closedObject("an automation", {
  name: settingName("automation"),
  when: closedObject(
    "when",
    {
      source: needed("the webhook source whose events it runs on"),
      /** Exact, or a prefix when it ends with ".", "/" or "*", as events_list's filter. */
      type: z
        .string({
          // A list of types is most often meant as the events of any of them.
          error: (issue) =>
            Array.isArray(issue.input)
              ? 'is one type, or a prefix ending in ".", "/" or "*" ("charge."); an automation on several types has a condition {"path": "event.type", "in": [the types]}'
              : undefined,
        })
        .trim()
        .min(1, "is empty; leave it out for events of every type")
        // As the listener keeps types, so that one with letters beyond ASCII matches the events stored.
        .transform(cleanType)
        .superRefine((type, ctx) => {
          const star = type.indexOf("*");
          if (star === -1 || star === type.length - 1) return;
          const start = type.slice(0, star);
          const end = type.slice(type.lastIndexOf("*") + 1);
          const instead = start
            ? `${JSON.stringify(`${start}*`)} takes the types that begin with ${JSON.stringify(start)}`
            : `for the types that end in ${JSON.stringify(end)}, leave type out and add the condition {"path": "ends_with(event.type, '${end}')", "equals": true}`;
          ctx.addIssue({
            code: "custom",
            message: `has a "*" before its end, which is matched as written, so no event's type matches it: only a "*" at the end is a wildcard (${instead})`,
          });
        })
        .optional(),
      where: z.array(condition).default([]),
    },
    {
      notObject: (input) =>
        typeof input === "string"
          ? `is the source alone; when is {"source": ${JSON.stringify(input)}}, with "type" and "where" to narrow it`
          : undefined,
    },
  ).describe('the events it runs on: {"source": …}, with "type" and "where" to narrow them'),
  do: z
    .array(step)
    .min(1, `has no steps: an automation takes 1 to ${MAX_STEPS}`)
    .max(MAX_STEPS, {
      error: (issue) => `has ${(issue.input as unknown[]).length} steps: an automation takes at most ${MAX_STEPS}`,
    })
    .describe(`its steps, 1 to ${MAX_STEPS}: ${SHAPES}`),
  /** Who is told when a run fails: a notification channel. */
  onFailure: closedObject(
    "onFailure",
    { notify: needed("the notification channel told when a run fails") },
    {
      notObject: (input) =>
        typeof input === "string"
          ? `is the channel alone; onFailure is {"notify": ${JSON.stringify(input)}}`
          : undefined,
    },
  ).optional(),
  dryRun: z.boolean().default(false),
});
export type Automation = z.output<typeof automation>;

/**
 * Where in the list a bad value is, as the checks at start say it: the automation by its name (by
 * its place in the list while it has no valid one), then the step or condition counted from 1.
 */
function locate([index, ...inside]: readonly PropertyKey[], automations: unknown): string {
  const name = (automations as { name?: unknown }[] | undefined)?.[index as number]?.name;
  const which = typeof name === "string" && NAME.test(name) ? name : `#${Number(index) + 1}`;
  // do.0.text is "step 1, text" and when.where.0.gte "when.where 1, gte".
  const rest = inside
    .join(".")
    .replace(/^(do|when\.where)\.(\d+)/, (_, list, i) => `${list === "do" ? "step" : list} ${Number(i) + 1}`)
    .replace(/^(step \d+|when\.where \d+)\./, "$1, ");
  return `automation ${which}${rest ? `, ${rest}` : ""}`;
}

export const automationsSetting = {
  env: "WAITER_AUTOMATIONS",
  description:
    "What waiter serve and waiter listen do by themselves when an event arrives, as JSON: a list of {name, when: {source, type, where}, do: [steps], onFailure: {notify}, dryRun}; docs/automations.md says how.",
  schema: jsonSetting(
    z.array(automation),
    [],
    'a JSON list of automations, such as [{"name":"paid","when":{"source":"stripe","type":"payment_intent.succeeded"},"do":[{"notify":"team","text":"Paid."}]}]',
  ).superRefine((automations, ctx) => {
    const seen = new Map<string, number>();
    for (const [i, a] of automations.entries()) {
      const first = seen.get(a.name);
      if (first !== undefined)
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: `the list's automation #${i + 1} has the name of #${first + 1} too: give each automation a name of its own, by which the log and automations_runs tell their runs apart`,
        });
      else seen.set(a.name, i);
    }
  }),
  locate,
};
