import { compile } from "@jmespath-community/jmespath";
import Mustache from "mustache";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { meantKey, noSuchName } from "../shown.js";
import type { Tool } from "../toolset.js";
import { type Automation, isPathArgument, isTemplate, type Step, toolOf } from "./rules.js";
import { argumentsFor, type View, written } from "./view.js";

/** What `noSuchName` calls a notification channel, for a notify step or onFailure that names none. */
const CHANNEL: [string, string] = ["notification channel", "notification channels"];

/**
 * Checks every automation against what this server serves, at start: its source configured,
 * every step's tool served (enabled, and allowed by --read-only), every argument known to the
 * tool and every literal one valid, every required argument given. Throws a ConfigError that
 * names the automation and the step.
 */
export function checkAutomations({
  automations,
  tools,
  whyNotServed,
  sources,
}: {
  automations: readonly Automation[];
  /** The tools this server serves: an automation may call these and no other. */
  tools: readonly Tool[];
  /** The configured webhook sources' names. */
  sources: readonly string[];
  /** Why a tool is not among `tools`, for a step that names it. */
  whyNotServed(name: string): string;
}): void {
  const served = new Map(tools.map((tool) => [tool.name, tool]));
  for (const automation of automations) {
    const where = `automation ${automation.name}`;
    const paths = [
      ...automation.when.where.map((c, i) => [`when.where ${i + 1}`, c.path] as const),
      ...automation.do.flatMap((step, i) =>
        "tool" in step
          ? Object.entries(step.args).flatMap(([arg, value]) =>
              isPathArgument(value) ? [[`step ${i + 1}, argument ${arg}`, value.path] as const] : [],
            )
          : [],
      ),
    ];
    for (const [at, path] of paths) {
      let ast: unknown;
      try {
        ast = compile(path);
      } catch (err) {
        throw new ConfigError(
          `${where}, ${at}: ${JSON.stringify(path)} is not a JMESPath expression (${(err as Error).message})`,
        );
      }
      const read = roots(ast, "");
      const stray = read.find((name) => name !== "payload" && name !== "event" && !name.startsWith("event."));
      if (stray !== undefined) {
        throw new ConfigError(
          `${where}, ${at}: ${JSON.stringify(path)} starts at "${stray}", which is neither payload nor event, so it never has a value (${meantPath(path, stray)}, perhaps)`,
        );
      }
      const field = read.map((name) => /^event\.(.*)$/s.exec(name)?.[1]).find(isNoEventField);
      if (field !== undefined) {
        throw new ConfigError(
          `${where}, ${at}: ${JSON.stringify(path)} reads "${field}", which event has not, so it never has a value: ${eventFields(field)}`,
        );
      }
    }
    for (const [i, step] of automation.do.entries()) {
      const templates = "notify" in step ? [step.text] : "tool" in step ? Object.values(step.args) : [];
      for (const template of templates) {
        if (typeof template === "string") checkTemplate(`${where}, step ${i + 1}`, template);
      }
    }
    if (!sources.includes(automation.when.source)) {
      throw new ConfigError(
        `${where}: when.source "${automation.when.source}" is no configured webhook source (${sources.join(", ") || "none are"})`,
      );
    }
    // The failure notification is checked as one more step.
    const failure: Step[] = automation.onFailure ? [{ notify: automation.onFailure.notify, text: "failed" }] : [];
    for (const [i, step] of [...automation.do, ...failure].entries()) {
      const at = i < automation.do.length ? `step ${i + 1}` : "onFailure";
      // A notification's text is checked as written, as a tool's arguments are: a template is
      // filled in only when an event arrives, so one made only of insertions is not empty.
      const name = toolOf(step);
      const args = "ack" in step ? argumentsFor(step, placeholderView, Number.POSITIVE_INFINITY) : written(step);
      const tool = served.get(name);
      if (!tool) {
        throw new ConfigError(`${where}, ${at}: ${name} is not served here: ${whyNotServed(name)}`);
      }
      if (name === "events_wait") {
        throw new ConfigError(
          `${where}, ${at}: events_wait waits for an event, up to its timeout, while every other run waits its turn; an automation is started by the event it waits for (when), and acts on it`,
        );
      }
      for (const [arg, value] of Object.entries(args)) {
        const schema = tool.input[arg] as z.ZodType | undefined;
        if (!schema) throw new ConfigError(`${where}, ${at}: ${name} has no argument ${arg}`);
        const within = nestedFilling(value);
        if (within !== undefined) {
          throw new ConfigError(
            `${where}, ${at}: ${name}'s argument ${arg} holds ${JSON.stringify(within)}, which is sent as written: only a whole argument is a template or a path; ${asPath(value as object)}`,
          );
        }
        const template = isTemplate(value);
        const literal = !isPathArgument(value) && !template;
        const checked = literal ? schema.safeParse(value) : undefined;
        if (checked && !checked.success && name === "notify_send" && arg === "channel") {
          const channels = (schema as z.ZodEnum).options as string[];
          throw new ConfigError(`${where}, ${at}: ${noSuchName(CHANNEL, String(value), channels)}`);
        }
        if (checked && !checked.success) {
          throw new ConfigError(`${where}, ${at}: ${name}'s argument ${arg} ${checked.error.issues[0]?.message}`);
        }
        // A template always gives text: an argument that takes no text needs a path.
        const wrongType = template && schema.safeParse("text").error?.issues[0]?.code === "invalid_type";
        if (wrongType) {
          throw new ConfigError(
            `${where}, ${at}: ${name}'s argument ${arg} takes no text, which a template always gives; take the value with {"path": …}`,
          );
        }
      }
      for (const [arg, schema] of Object.entries(tool.input)) {
        if (!(arg in args) && !(schema as z.ZodType).safeParse(undefined).success) {
          throw new ConfigError(`${where}, ${at}: ${name} needs the argument ${arg}`);
        }
      }
      const refused = tool.refuses && refusedOnEveryEvent(tool, args);
      if (refused) throw new ConfigError(`${where}, ${at}: ${name} refuses these arguments: ${refused}`);
    }
  }
}

/** What a refusal is asked with for an argument a path or template fills: given, its value not known. */
const FILLED_ON_EACH_EVENT = Object.freeze({});

/**
 * Why `tool` refuses a step's arguments together on every event, if it does. Arguments written as
 * they are go to the tool the same each time; one a path or a template fills is given each time (a
 * path that finds nothing gives null, which the tool refuses anyway), so a refusal of arguments
 * given together (an id and a SKU) holds whatever it is. One that reads a filled value (a range that
 * ends before it begins) cannot tell, and does not refuse.
 */
function refusedOnEveryEvent(tool: Tool, args: Record<string, unknown>): string | undefined {
  const known = Object.fromEntries(
    Object.entries(tool.input).map(([arg, schema]) => {
      const value = args[arg];
      const filled = isPathArgument(value) || isTemplate(value);
      return [arg, filled ? FILLED_ON_EACH_EVENT : (schema as z.ZodType).parse(value)];
    }),
  );
  try {
    return tool.refuses?.(known as never);
  } catch {
    return undefined;
  }
}

/**
 * A template or a path inside a list or an object that a step gives as an argument: only a whole
 * argument is filled in, so one inside would be sent to the tool as written.
 */
function nestedFilling(value: unknown): unknown {
  if (typeof value !== "object" || value === null || isPathArgument(value)) return undefined;
  for (const item of Object.values(value)) {
    if (isTemplate(item) || isPathArgument(item)) return item;
    const within = nestedFilling(item);
    if (within !== undefined) return within;
  }
  return undefined;
}

/**
 * How to write a list of templates and paths as one path: [event.id, payload.sku], its literals
 * as JMESPath's; other values are told to take a path.
 */
function asPath(value: object): string {
  const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/;
  const items = Array.isArray(value)
    ? value.map((item) =>
        isPathArgument(item)
          ? item.path
          : typeof item === "string"
            ? (whole.exec(item)?.[1] ?? (isTemplate(item) ? undefined : `'${item.replace(/['\\]/g, "\\$&")}'`))
            : `\`${JSON.stringify(item)}\``,
      )
    : [undefined];
  return items.every((item) => item !== undefined)
    ? `take the list with {"path": "[${items.join(", ")}]"}, perhaps`
    : `take the value with {"path": …}`;
}

/**
 * What Mustache inserts: names joined by dots (payload.items.0.name, payload.@type), none with
 * space or JMESPath's brackets, parentheses, pipes, stars or quotes.
 */
const DOTTED_NAME = /^[^\s.[\]()|*'"`{}]+(\.[^\s.[\]()|*'"`{}]+)*$/u;

/**
 * A template may only insert values by their dotted names ({{payload.x}}): no unescaped insertions,
 * which would skip the quoting and the cut, no sections, partials or changed delimiters, and no
 * JMESPath, which Mustache would read as a name that is never there. Throws a ConfigError.
 */
function checkTemplate(where: string, template: string): void {
  let tokens: unknown[];
  try {
    tokens = Mustache.parse(template);
  } catch (err) {
    throw new ConfigError(
      `${where}: the template ${JSON.stringify(template)} does not parse (${(err as Error).message})`,
    );
  }
  const other = (tokens as [string, string][]).find(([type]) => type !== "text" && type !== "name");
  if (other) {
    throw new ConfigError(
      `${where}: the template ${JSON.stringify(template)} has {{${other[0]}${other[1]}}}; only insertions like {{payload.id}} are allowed`,
    );
  }
  for (const [type, name] of tokens as [string, string][]) {
    if (type !== "name") continue;
    if (!DOTTED_NAME.test(name)) {
      const dotted = name.replace(/\[(\d+)\]/g, ".$1");
      const example = DOTTED_NAME.test(dotted) ? `{{${dotted}}}, perhaps` : "such as {{payload.items.0.name}}";
      throw new ConfigError(
        `${where}: {{${name}}} is not a dotted name: a template inserts names like payload.data.object.id, with .0. for an array's first item (${example}); JMESPath's [0], functions and pipes are for paths`,
      );
    }
    const [root, field] = name.split(".");
    if (root !== "payload" && root !== "event") {
      throw new ConfigError(
        `${where}: {{${name}}} starts at "${root}", which is neither payload nor event, so it is always empty (payload.${name}, perhaps)`,
      );
    }
    if (root === "event" && isNoEventField(field)) {
      throw new ConfigError(
        `${where}: {{${name}}} reads "${field}", which event has not, so it is always empty: ${eventFields(field, name.slice("event.".length))}`,
      );
    }
  }
}

/** Whether `field` is given and no field of the event's: a typo (event.typ) that is never there. */
function isNoEventField(field: string | undefined): field is string {
  return field !== undefined && !EVENT_FIELDS.includes(field);
}

/**
 * The fields the event has, and the one `field` is likely a misspelling of; else the payload's
 * field read as the event's (a Stripe payload is itself an event: event.data.object…), `rest`
 * being what follows "event.".
 */
function eventFields(field: string, rest = field): string {
  const meant = meantKey(field, EVENT_FIELDS);
  const perhaps = meant
    ? `event.${meant}, perhaps`
    : `payload.${rest}, perhaps: the payload's own fields are under payload`;
  return `event has ${EVENT_FIELDS.join(", ")} (${perhaps})`;
}

const PROJECTIONS = new Set(["Projection", "ValueProjection", "FilterProjection"]);

/** Node kinds whose right side (and a filter's condition) is read from what their left gives. */
const CHAINED = new Set([
  "Subexpression",
  "IndexExpression",
  "Projection",
  "ValueProjection",
  "Pipe",
  "FilterProjection",
]);

type Node = { type: string; name?: string; left?: Node; right?: Node };

/**
 * The fields a JMESPath expression reads from the top of what it is given, and those it reads from
 * the top's event, as event.type. `at` is where `node` is read: "" at the top, "event." in the
 * event, undefined elsewhere. A node's sub-expressions are read from where the node is, except the
 * right of a chain (a subexpression, projection or pipe), read from what its left gives, and an
 * &expression, read from each item a function goes through; `$` is the top wherever it is.
 */
function roots(node: unknown, at: string | undefined): string[] {
  if (typeof node !== "object" || node === null) return [];
  if (Array.isArray(node)) return node.flatMap((child) => roots(child, at));
  const n = node as Node;
  if (n.type === "Field") return at === undefined ? [] : [`${at}${n.name}`];
  // A literal's value is JSON, not sub-expressions.
  if (n.type === "Literal") return [];
  // A projection's right is read from each item its left gives (`*.id` over the top reads the
  // top's values, payload and event), never from the top itself.
  const right = PROJECTIONS.has(n.type) ? undefined : given(n.left, at);
  return Object.entries(n).flatMap(([key, child]) => {
    if (n.type === "ExpressionReference") return roots(child, undefined);
    if (CHAINED.has(n.type) && key !== "left") return roots(child, right);
    return roots(child, at);
  });
}

/**
 * Where what `node`, read at `at`, gives a chain's right is, as roots says it: the top (`$`, or `@`
 * of the top), the top's event (`event`, `$.event`), or elsewhere (undefined).
 */
function given(node: Node | undefined, at: string | undefined): string | undefined {
  if (node?.type === "Root") return "";
  if (node?.type === "Current" || node?.type === "Identity") return at;
  if (node?.type === "Field") return at === "" && node.name === "event" ? "event." : undefined;
  return node?.type === "Subexpression" ? given(node.right, given(node.left, at)) : undefined;
}

const placeholderView: View = { event: { id: "", source: "", type: "", received_at: "" }, payload: {} };

/** The fields of `event` that templates and paths see. */
const EVENT_FIELDS = Object.keys(placeholderView.event);

/**
 * The path meant by one that reads `stray` at its root: a key with a hyphen (`payload.order-id`),
 * which JMESPath reads as a subtraction of `id`, is quoted (`payload."order-id"`); else `stray`
 * under payload.
 */
function meantPath(path: string, stray: string): string {
  const quoted = path.replace(/(?<=\.)[A-Za-z_]\w*(?:-\w+)+/g, (key) => `"${key}"`);
  return quoted !== path && path.includes(`-${stray}`) ? quoted : `payload.${stray}`;
}
