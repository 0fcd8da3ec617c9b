/**
 * What an automation sees of an event, and what it makes of it: the conditions that decide whether
 * it takes the event, and the arguments its steps fill in from it, a stranger's words quoted.
 */
import { registerFunction, search, TYPE_ANY } from "@jmespath-community/jmespath";
import { isLosslessNumber, stringify as stringifyLossless } from "lossless-json";
import Mustache from "mustache";
import { ToolError } from "../errors.js";
import { matchesFilter, typePrefix } from "../events/filter.js";
import { hasInexactNumber, parseExact } from "../events/present.js";
import type { StoredEvent } from "../events/store.js";
import { htmlAsText } from "../html.js";
import { cut, cutCodePoints, meantKey, oneLine, quote, shorten, withoutSecrets } from "../shown.js";
import { utcMinute } from "../time.js";
import { seen } from "../toolset.js";
import { toldLate } from "./notices.js";
import type { Automation, Condition, Step } from "./rules.js";
import { isPathArgument, isTemplate } from "./rules.js";

/**
 * The number a sender writes as text ("529.00", " 1042"), or undefined for text that writes none:
 * empty or blank text (WooCommerce's sale price of a product not on sale), and what only
 * JavaScript reads as a number ("0x1A", "Infinity").
 */
export function numberIn(text: string): number | undefined {
  if (!/^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

// JMESPath's to_number reads text that writes a number, and gives null for any other; the
// library's own reads "" and blank text as 0, so an empty price would hold for `lt 5`.
registerFunction(
  "to_number",
  ([value]) => (typeof value === "number" ? value : typeof value === "string" ? (numberIn(value) ?? null) : null),
  [{ types: [TYPE_ANY] }],
  { override: true },
);

/** What templates and paths see: the event's own fields and its payload (parsed when JSON). */
export type View = { event: { id: string; source: string; type: string; received_at: string }; payload: unknown };

/** One value a template inserts, at most this long: a payload cannot flood a message. */
const MAX_INSERTED = 200;

/**
 * The payload templates read, by view, where JSON.parse changes a number of it (an order id past
 * 2^53, as Shopify's) or the way it is written (an amount of 1299.50, read as 1299.5): each number
 * as its sender wrote it, so that a message names the order events_get shows, and the sum as its
 * sender wrote it. Paths read numbers, which tools take.
 */
const exactPayloads = new WeakMap<View, unknown>();

/** Where in a JSON text a number has a fraction or an exponent, which JSON.parse may write otherwise. */
const FRACTION = /[:,[]\s*-?\d+[.eE]/;

export function viewOf(event: StoredEvent): View {
  let payload: unknown = event.payload;
  if (event.isJson) {
    try {
      payload = JSON.parse(event.payload);
    } catch {}
  }
  const view = {
    event: { id: event.id, source: event.source, type: event.type, received_at: event.receivedAt },
    payload,
  };
  const exact =
    hasInexactNumber(event) || (event.isJson && FRACTION.test(event.payload)) ? parseExact(event) : undefined;
  if (exact) exactPayloads.set(view, exact.value);
  return view;
}

function holds(condition: Condition, view: View): boolean {
  const value = search(view as never, condition.path) as unknown;
  // A filter or projection that finds nothing gives an empty list: no value, as null is.
  const found = value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0);
  if (condition.present !== undefined) return found === condition.present;
  if (condition.equals !== undefined) return value === condition.equals;
  if (condition.in !== undefined) return condition.in.includes(value as never);
  if (typeof value !== "number") return false;
  if (condition.gt !== undefined) return value > condition.gt;
  if (condition.gte !== undefined) return value >= condition.gte;
  if (condition.lt !== undefined) return value < condition.lt;
  return condition.lte !== undefined && value <= condition.lte;
}

/**
 * Why `automation` does not take `event` of its source, in words ('its type is
 * "payment_intent.succeeded", not "charge.refunded"', or the first condition that does not hold and what its path found), or
 * undefined when it takes it. A condition that fails on this payload (a function given the wrong
 * type) throws an Error that names it, in the same words. `view` is the event's, parsed once for
 * every automation that asks.
 */
export function whyNotTaken(
  automation: Automation,
  event: StoredEvent,
  view = () => viewOf(event),
): string | undefined {
  const { type, where } = automation.when;
  if (!matchesFilter({ type }, event)) {
    const prefix = type && typePrefix(type);
    // Quoted: a prefix may end in ".", which the sentence's own full stop would run into, and a
    // type copied with a blank at its end would read as the event's own type. The event's type
    // beside it shows a misspelt one, which the model asked why nothing ran sees nowhere else.
    return prefix === undefined
      ? `its type is ${quote(event.type)}, not ${quote(type ?? "")}`
      : `its type ${quote(event.type)} does not begin with ${quote(prefix)}`;
  }
  const failing = where.findIndex((condition, i) => {
    try {
      return !holds(condition, view());
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).replace(/\.$/, "");
      throw new Error(`condition ${i + 1} (${condition.path}) could not be evaluated: ${why}`);
    }
  });
  if (failing === -1) return undefined;
  const condition = where[failing] as Condition;
  const { path } = condition;
  const value = search(view() as never, path) as unknown;
  const found = JSON.stringify(value) ?? "null";
  const missing = value === null || value === undefined ? whereMissing(path, view()).told : "";
  return `condition ${failing + 1} does not hold (${path} is ${oneLine(found, 100)}${otherKindWritten(condition, value)}${missing})`;
}

/**
 * Where a path of dotted names (perhaps inside one function, to_number(…)) that found nothing
 * stops finding, and the name likely meant there: a misspelt name (payload.data.objet) reads
 * apart from a field this payload lacks. Where the whole path is there, what it holds when a
 * function read it as nothing (to_number of "#1042"), as the log says it what kind of value
 * (kindOf); empty for other paths.
 */
export function whereMissing(path: string, view: View): Worded {
  const [, inFunction, dotted] = /^([a-z_]+\()?([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\)?$/.exec(path) ?? [];
  if (!dotted) return worded``;
  const { stop, found } = whereNamesStop(dotted.split("."), view, false);
  if (stop) return worded`; ${stop}`;
  if (!inFunction) return worded``;
  return worded`; ${dotted} is ${valueShown(found, "null")}`;
}

/** A payload's value as a person is told it, on one line (`none`: what says it is missing), and as the log says it, by its kind. */
export function valueShown(value: unknown, none: string): Worded {
  return { told: oneLine(JSON.stringify(value) ?? none, 60), logged: kindOf(value) };
}

/** What kind of value a payload holds, said without it: text, a number, a list; true, false and null as they are. */
export function kindOf(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return "text";
  if (typeof value === "number") return "a number";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" && value !== null ? "an object" : String(value);
}

/**
 * Where dotted `names` stop finding in the view: at a value that is no object (`payload.total is
 * text`), or one without the next name, with the name likely meant there (`payload.data has no
 * objet: did you mean object?`); else what they `found`. `template`: read as a template's
 * insertion reads them (EventData), a list's item and the length of a list or text too.
 */
function whereNamesStop(names: string[], view: View, template: boolean): { stop?: string; found?: unknown } {
  let here: unknown = view;
  for (const [i, key] of names.entries()) {
    const at = names.slice(0, i).join(".");
    if (template && key === "length" && (typeof here === "string" || Array.isArray(here))) {
      here = here.length;
      continue;
    }
    // A dot reads no list's item in JMESPath; in a template, one by its number (EventData).
    if (Array.isArray(here) && !(template && Object.hasOwn(here, key)))
      return {
        stop: `${at} ${/^\d+$/.test(key) ? `has ${here.length} item${here.length === 1 ? "" : "s"}, none at ${key}` : "is a list"}`,
      };
    if (typeof here !== "object" || here === null) return { stop: `${at} is ${kindOf(here)}` };
    if (!Object.hasOwn(here, key)) {
      // Only a plain name a letter or two from the one written is told: the payload's keys are a stranger's words.
      const meant = meantKey(
        key,
        Object.keys(here).filter((k) => /^[A-Za-z_]\w*$/.test(k)),
      );
      return { stop: `${at} has no ${key}${meant ? `: did you mean ${meant}?` : ""}` };
    }
    here = (here as Record<string, unknown>)[key];
  }
  return { found: here };
}

/**
 * What to change when a condition compares numbers with a number the payload holds as text
 * (WooCommerce's order total, Stripe's metadata), or true or false with the word as text, or
 * the other way round, which never holds.
 */
function otherKindWritten(condition: Condition, value: unknown): string {
  const { equals, path } = condition;
  const numbers = [equals, ...(condition.in ?? [])].filter((v) => typeof v === "number");
  const compared = ["gt", "gte", "lt", "lte"].some((k) => condition[k as keyof Condition] !== undefined);
  if (typeof value === "string" && numberIn(value) !== undefined && (compared || numbers.length > 0))
    return `, a number as text: to_number(${path}) reads it as a number`;
  const texts = [equals, ...(condition.in ?? [])].filter((v) => typeof v === "string");
  if (typeof value === "number" && texts.some((v) => numberIn(v) === value))
    return `, a number: write the value to compare without quotes`;
  // Comgate writes its test flag as text ("false"), Stripe its livemode as true or false.
  const [truth] = [equals, ...(condition.in ?? [])].filter((v) => typeof v === "boolean");
  if ((value === "true" || value === "false") && truth !== undefined)
    return `, true or false as text: write the value to compare in quotes, "${truth}"`;
  if (typeof value === "boolean" && texts.some((v) => v === "true" || v === "false"))
    return `, true or false: write the value to compare without quotes`;
  return "";
}

/**
 * Where a template's insertion (a dotted name, as EventData reads it) finds nothing in the view,
 * which Mustache inserts as nothing: where the name stops finding, with the name likely meant there
 * (`payload.data has no objet: did you mean object?`), or that it finds null; undefined when it
 * finds a value.
 */
function whereInsertionMissing(name: string, view: View): string | undefined {
  const { stop, found } = whereNamesStop(name.split("."), view, true);
  return stop ?? (found === null || found === undefined ? `${name} is null` : undefined);
}

/** An insertion that found nothing: its argument, its name, and where it stops finding. */
type Missing = { arg: string; name: string; missing: string };

/**
 * The insertions of a step's templates that found nothing in this event (a misspelt name, a field
 * its payload lacks or holds as null), which are inserted as nothing, each with its argument and
 * where it stops finding.
 */
export function foundNothing(step: Step, view: View): Missing[] {
  const args = "tool" in step ? step.args : "notify" in step ? { text: step.text } : {};
  const found: Missing[] = [];
  for (const [arg, value] of Object.entries(args)) {
    if (typeof value !== "string" || !isTemplate(value)) continue;
    for (const [type, name] of Mustache.parse(value)) {
      if (type !== "name") continue;
      const missing = whereInsertionMissing(name, view);
      if (missing !== undefined) found.push({ arg, name, missing });
    }
  }
  return found;
}

/**
 * The payload's values a step's arguments take, each as text: what each path gives and each
 * template's insertions find (but the event's own fields, waiter's), leaves of a list or an object
 * alone. A tool's refusal may name them (an order's number, a customer's name), which the log must
 * not (payloadHidden).
 */
export function payloadValues(step: Step, view: View): string[] {
  const args = "tool" in step ? step.args : "notify" in step ? { text: step.text } : {};
  const read = new EventData(exactPayloads.has(view) ? { ...view, payload: exactPayloads.get(view) } : view);
  const values = new Set<string>();
  const collect = (value: unknown, depth: number) => {
    if (typeof value === "string" || typeof value === "number" || isLosslessNumber(value)) {
      const text = String(value);
      values.add(text);
      values.add(shorten(text));
    } else if (typeof value === "object" && value !== null && depth < 8) {
      for (const item of Object.values(value)) collect(item, depth + 1);
    }
  };
  for (const value of Object.values(args)) {
    if (isPathArgument(value)) {
      if (/^event\.[a-z_]+$/.test(value.path)) continue;
      try {
        collect(search(view as never, value.path), 0);
      } catch {}
    } else if (typeof value === "string" && isTemplate(value)) {
      for (const [type, name] of Mustache.parse(value)) {
        if (type === "name" && !name.startsWith("event.")) collect(read.lookup(name), 0);
      }
    }
  }
  values.delete("");
  return [...values];
}

/**
 * A tool's words with the payload's values a step took (payloadValues) as "…", for the log. Where
 * its error says the `status` the upstream answered, a value that is the same number is kept where
 * a status stands ("(404 woocommerce_rest_…"); any other is hidden there too: an upstream's words
 * may put the payload's number in brackets, and waiter's put only the status it was answered.
 */
export function payloadHidden(text: string, values: readonly string[], status?: number): string {
  const asStatus = values.filter((value) => value === String(status));
  const others = values.filter((value) => value !== String(status));
  return withoutSecrets(withoutSecrets(text, others, "…", "word"), asStatus, "…", "status");
}

/**
 * A sentence that names insertions that found nothing (foundNothing); empty for none. Without it, a
 * dry run, which shows what a live run would do, and a live run's outcome would show only the gap
 * it left. `done`: said of a step that ran, or failed, rather than of one a dry run checked.
 */
export function insertedNothing(found: readonly Missing[], done: boolean): string {
  const said = found.map(({ arg, name, missing }) => `{{${name}}} in ${arg} (${missing})`);
  if (said.length === 0) return "";
  const them = said.length === 1 ? "it" : "each";
  return `Found nothing to insert for ${said.slice(0, -1).join(", ")}${said.length > 1 ? " and " : ""}${said.at(-1)}, so ${them} ${done ? "was" : "is"} inserted as nothing.`;
}

/**
 * What a template reads of the view: only the event's data, own fields of objects and lists and
 * the length of a list or text. Mustache's own lookup reads any member JavaScript gives a value
 * (constructor, __proto__, toString) and calls one that is a function.
 */
class EventData extends Mustache.Context {
  override lookup(name: string): unknown {
    let value: unknown = this.view;
    for (const key of name.split(".")) {
      if (key === "length" && (typeof value === "string" || Array.isArray(value))) value = value.length;
      else if (typeof value === "object" && value !== null && !isLosslessNumber(value) && Object.hasOwn(value, key))
        value = (value as Record<string, unknown>)[key];
      else return undefined;
    }
    return value;
  }
}

/**
 * A template filled in from the view. Mustache is logic-less and never renders what it inserts,
 * so a payload that holds template syntax shows as text.
 */
function render(template: string, view: View, quoted: boolean, html = false, quotes?: string[]): string {
  const asText = (value: unknown) => (quoted ? quotedInto(value, html, quotes) : inserted(value, false, html));
  const read = exactPayloads.has(view) ? { ...view, payload: exactPayloads.get(view) } : view;
  return Mustache.render(template, new EventData(read), {}, { escape: asText });
}

/**
 * One value from the event as text, cut at MAX_INSERTED characters; in a message (`quoted`) it is
 * marked as quoted, but for a number, which cannot carry a stranger's words (an object can), and
 * from a sender that writes text as HTML (`html`: WooCommerce's "Hoodie &ndash; Blue") it reads
 * as the sender's pages show it.
 */
export function inserted(value: unknown, quoted: boolean, html = false): string {
  // A number as its sender wrote it (exactPayloads), alone or in an object, reads as one.
  const text = typeof value === "string" ? value : (stringifyLossless(value) ?? "");
  if (quoted && typeof value !== "number" && !isLosslessNumber(value))
    return `“${withinQuotes(html ? htmlAsText(text) : text)}”`;
  return cut(text, MAX_INSERTED);
}

/** Characters of each argument a failure notice shows: the reason comes after them. */
const MAX_ARGUMENT_SHOWN = 80;

/** A text as the person told of a run reads it, and as the log says it, without the payload's values. */
export interface Worded {
  told: string;
  logged: string;
}

/**
 * A failed step's arguments, for the person who finishes by hand what the run left: which order,
 * which message. Text is quoted, as it may be the event's. They are those the run recorded, so
 * that a notice reads the same after a restart: defaults the tool's schema adds included. The log
 * says their names alone, as any value may be the event's (a customer's email, a phone sent as a
 * number), for the person told and automations_runs, not for everyone who reads the log.
 */
export function argumentsShown(args: Record<string, unknown> | undefined): Worded {
  const given = Object.entries(args ?? {});
  return {
    told: given
      .map(([name, value]) => {
        if (typeof value !== "string" && (typeof value !== "object" || value === null)) return `, ${name} ${value}`;
        const text = typeof value === "string" ? value : JSON.stringify(value);
        return `, ${name} “${cut(withinQuotes(text), MAX_ARGUMENT_SHOWN)}”`;
      })
      .join(""),
    logged: given.map(([name]) => `, ${name} …`).join(""),
  };
}

/** A template's text in both of Worded's forms, each Worded part put in as that form has it. */
export function worded(strings: TemplateStringsArray, ...parts: (string | number | Worded)[]): Worded {
  const form = (key: keyof Worded) =>
    strings.reduce((text, next, i) => {
      const part = parts[i - 1] ?? "";
      return `${text}${typeof part === "object" ? part[key] : part}${next}`;
    });
  return { told: form("told"), logged: form("logged") };
}

/**
 * A stranger's text made fit to stand between “ and ”: on one short line without invisible
 * format characters (oneLine), its own double quotes made straight so none can end the quote
 * early. Otherwise a payload could close the quote and go on in lines that read as waiter's.
 */
function withinQuotes(text: string): string {
  return oneLine(text.replace(DOUBLE_QUOTES, '"'), MAX_INSERTED);
}

/**
 * Every double quotation mark Unicode has but the angled « and », which look like no ”, and every
 * character Unicode's confusables.txt takes for a " but the Yiddish letter ײ.
 */
const DOUBLE_QUOTES = /[“”„‟⹂〝〞〟＂❝❞❠🙶🙷🙸ʺ˝ˮ˶״᳓″‶〃]/gu;

/**
 * The arguments a step calls its tool with (toolOf), filled in from the event. A notification's
 * text, a notify step's or notify_send's own, quotes what it takes from the event, whether by
 * template or path, as text when the event's sender writes HTML (`html`), and is cut to
 * `maxText` characters, the most notify_send takes, counted as it counts them (codePoints); each
 * text it quotes is added to `quotes`. A path that fails on this payload (a function given the
 * wrong type) throws a ToolError that names the argument and the path.
 */
export function argumentsFor(
  step: Step,
  view: View,
  maxText: number,
  html = false,
  quotes?: string[],
): Record<string, unknown> {
  if ("ack" in step) return { ids: [view.event.id] };
  if ("notify" in step)
    return { channel: step.notify, text: toldWhenCame(render(step.text, view, true, html, quotes), view, maxText) };
  const notification = step.tool === "notify_send";
  return Object.fromEntries(
    Object.entries(step.args).map(([name, value]) => {
      const quoted = notification && name === "text";
      let filled: unknown = value;
      if (isPathArgument(value)) {
        try {
          filled = search(view as never, value.path);
        } catch (err) {
          throw new ToolError(
            `argument ${name}: the path ${value.path} failed on this event's payload: ${err instanceof Error ? err.message : err}`,
          );
        }
        // A value the event lacks stays missing, for the tool to refuse.
        if (quoted && filled !== null && filled !== undefined) filled = quotedInto(filled, html, quotes);
      } else if (typeof value === "string") {
        filled = render(value, view, quoted, html, quotes);
      }
      return [name, quoted && typeof filled === "string" ? toldWhenCame(filled, view, maxText) : filled];
    }),
  );
}

/** A value inserted in a notification's text, quoted; a text it quotes is added to `quotes`. */
function quotedInto(value: unknown, html: boolean, quotes: string[] | undefined): string {
  const text = inserted(value, true, html);
  if (text.startsWith("“")) quotes?.push(text);
  return text;
}

/**
 * A notification's text as told now: one told late (its run waited for a channel, or was taken up
 * after a stop or with a backlog) says when its event came, as "Order 1001 is paid" may otherwise
 * reach the team after the "Order 1002 is paid" of an event that came after it.
 */
function toldWhenCame(text: string, view: View, maxText: number): string {
  // One that would reach them as nothing is left so, for notify_send to refuse and the run to fail.
  if (!seen(text)) return cutCodePoints(text, maxText);
  const came = Date.parse(view.event.received_at);
  return toldLate(text, came, maxText, `Its event came at ${utcMinute(came)}, and this is told only now.`);
}
