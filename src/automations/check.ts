import { compile, getRegisteredFunctions, TreeInterpreter } from "@jmespath-community/jmespath";
import Mustache from "mustache";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { cleanType, typePrefix, wooTopicMeant, wooTopicMisspelt } from "../events/filter.js";
import { PAYMENT_STATES } from "../events/payments.js";
import { coreWordsOf, gotten, publishedAs, settingsErrors } from "../settings.js";
import { enumerated, meantKey, noSuchName } from "../shown.js";
import type { Tool } from "../toolset.js";
import {
  type Automation,
  type Condition,
  isPathArgument,
  isTemplate,
  type Step,
  testOf,
  toolOf,
  written,
} from "./rules.js";
import { argumentsFor, type View } from "./view.js";

/** Names an author starts a path or template with to read an earlier step's answer (steps.1.result). */
const STEP_ANSWERS = new Set([
  "steps",
  "step",
  "result",
  "results",
  "response",
  "output",
  "outputs",
  "previous",
  "prev",
]);
/**
 * Why a path or template that starts at `root`, one of STEP_ANSWERS, reads nothing; and, as a
 * payload may have a field of that name (a sender's `result`), how to read that instead.
 */
const noStepAnswers = (root: string) =>
  `: a step reads the event alone, never an earlier step's answer (automations_runs shows those); the payload's own field "${root}" is read as payload.${root}`;

/** What `noSuchName` calls a notification channel, for a notify step or onFailure that names none. */
const CHANNEL: [string, string] = ["notification channel", "notification channels"];

/**
 * Checks every automation against what this server serves, at start: its source configured,
 * every step's tool served (enabled, and allowed by --read-only), every argument known to the
 * tool and every literal one valid, every path of a kind its argument takes, every condition one
 * that can hold, every required argument given. Throws a ConfigError that
 * names the automation and the step or condition.
 */
export function checkAutomations({
  automations,
  tools,
  whyNotServed,
  sources,
  schemes,
  warn,
}: {
  automations: readonly Automation[];
  /** The tools this server serves: an automation may call these and no other. */
  tools: readonly Tool[];
  /** The configured webhook sources' names. */
  sources: readonly string[];
  /** Why a tool is not among `tools`, for a step that names it. */
  whyNotServed(name: string): string;
  /** The configured webhook sources' schemes, by source. */
  schemes: Readonly<Record<string, string>>;
  /** Told what may be a mistake but may not: a type a plugin may send. */
  warn(line: string): void;
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
          `${where}, ${at}: ${JSON.stringify(path)} is not a JMESPath expression (${(err as Error).message})${writtenOtherwise(path, (err as Error).message)}`,
        );
      }
      const misread = misreadIn(ast);
      if (misread !== undefined) throw new ConfigError(`${where}, ${at}: ${JSON.stringify(path)} ${misread}`);
      const read = roots(ast, "");
      const stray = read.find((name) => name !== "payload" && name !== "event" && !name.startsWith("event."));
      if (stray !== undefined) {
        throw new ConfigError(
          `${where}, ${at}: ${JSON.stringify(path)} starts at "${stray}", which is neither payload nor event, so it never has a value${STEP_ANSWERS.has(stray) ? noStepAnswers(stray) : ` (${meantPath(path, ast, stray)})`}`,
        );
      }
      const negated = negatedField(ast, path);
      if (negated !== undefined) throw new ConfigError(`${where}, ${at}: ${JSON.stringify(path)} ${negated}`);
      const field = read.map((name) => /^event\.(.*)$/s.exec(name)?.[1]).find(isNoEventField);
      if (field !== undefined) {
        throw new ConfigError(
          `${where}, ${at}: ${JSON.stringify(path)} reads "${field}", which event has not, so it never has a value: ${eventFields(field)}`,
        );
      }
    }
    for (const [i, condition] of automation.when.where.entries()) {
      const never = neverHolds(condition);
      if (never) throw new ConfigError(`${where}, when.where ${i + 1}: ${never}`);
    }
    for (const [i, step] of automation.do.entries()) {
      const templates = "notify" in step ? [step.text] : "tool" in step ? Object.values(step.args) : [];
      for (const template of templates) {
        if (typeof template === "string") checkTemplate(`${where}, step ${i + 1}`, template);
      }
    }
    checkSource(automation, sources);
    const scheme = schemes[automation.when.source];
    const nevers = [
      unstored,
      checkType(automation, scheme),
      checkDotted(automation, scheme),
      checkCased(automation, scheme),
      checkSlashed(automation, scheme),
      conditionPrefix(automation, scheme),
      typeLeavesOut(automation),
    ];
    checkTypesTaken(automation, (given) => nevers.map((never) => never(given)).find(Boolean), warn);
    for (const line of typesMisspelt(automation, scheme)) warn(line);
    for (const line of paidForNothing(automation, scheme)) warn(line);
    // A change a failed run left undone is for a person to finish, who hears of it only from onFailure.
    const changes = automation.do.findIndex(
      (step) =>
        "tool" in step &&
        !["notify_send", "events_ack"].includes(step.tool) &&
        served.get(step.tool)?.annotations.readOnlyHint === false,
    );
    if (changes !== -1 && !automation.onFailure && !automation.dryRun) {
      const tool = toolOf(automation.do[changes] as Step);
      const refused = tool === "eshop_stock_set" ? "a product whose stock it cannot set" : "an order it cannot change";
      warn(
        `${where}: it changes the shop (step ${changes + 1}, ${tool}) and has no onFailure, so a run of it that fails (${refused}, the shop away past the retry time) is told to no one, only said in this log and in automations_runs; add "onFailure": {"notify": "<channel>"} to have a person told, who finishes the run by hand.`,
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
        if (!schema) {
          const known = Object.keys(tool.input);
          const meant = meantKey(arg, known);
          const takes = known.length > 0 ? `it takes ${enumerated(known, "and")}` : "it takes none";
          throw new ConfigError(
            `${where}, ${at}: ${name} has no argument ${arg}${meant ? ` (did you mean ${meant}?)` : `; ${takes}`}`,
          );
        }
        const within = nestedFilling(value);
        if (within !== undefined) {
          throw new ConfigError(
            `${where}, ${at}: ${name}'s argument ${arg} holds ${JSON.stringify(within)}, which is sent as written: only a whole argument is a template or a path; ${asPath(value as object)}`,
          );
        }
        const template = isTemplate(value);
        const literal = !isPathArgument(value) && !template;
        // Said as the settings say a value of another kind, where the tool has no words of its own.
        const checked = literal ? schema.safeParse(value, { error: settingsErrors }) : undefined;
        if (checked && !checked.success && name === "notify_send" && arg === "channel") {
          const channels = ((schema as z.ZodPipe).out as z.ZodEnum).options as string[];
          // A person's address or chat, as one would write where they are to be told, goes in a channel.
          const given = String(value);
          const listed = /^(-?\d+|@\w{4,32})$/.test(given)
            ? " A chat is not a channel: list it in the chatIds of a telegram channel"
            : /^[^@\s]+@[^@\s]+$/.test(given)
              ? " An address is not a channel: list it in the to of an email channel"
              : "";
          const pointer = listed
            ? `${listed} (notify.channels in the config file, or WAITER_NOTIFY_CHANNELS; docs/notifications.md), and name that channel here.`
            : "";
          throw new ConfigError(`${where}, ${at}: ${noSuchName(CHANNEL, String(value), channels)}${pointer}`);
        }
        const meantAsPath = checked && !checked.success ? pathMiswritten(value) : undefined;
        if (meantAsPath) throw new ConfigError(`${where}, ${at}: ${name}'s argument ${arg} ${meantAsPath}`);
        if (checked && !checked.success) {
          // Where inside the argument (an item of a list), and what was given there, as the settings say it.
          const issue = checked.error.issues[0];
          const inside = issue?.path ?? [];
          const given = inside.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], value);
          const message = issue?.message ?? "";
          throw new ConfigError(
            `${where}, ${at}: ${name}'s argument ${[arg, ...inside].join(".")}: ${message}${gotten(message, given)}`,
          );
        }
        if (checked?.success) {
          for (const line of nearCoreWords(schema, value, arg)) warn(`${where}, ${at}: ${name}'s argument ${line}`);
        }
        // Text refused for its kind: the argument takes a number, or text of a number's (an order's "#7084").
        const takesNoText = schema.safeParse("text").error?.issues[0]?.code === "invalid_type";
        const writesNone = takesNoText && taken(schema).includes("number") ? numberless(value) : undefined;
        if (writesNone) {
          const by = isPathArgument(value)
            ? `the path ${JSON.stringify(value.path)} never gives`
            : `the template ${JSON.stringify(value)} never writes`;
          throw new ConfigError(
            `${where}, ${at}: ${name}'s argument ${arg} takes a number or text that writes one, which ${by}: ${writesNone}, whatever the event`,
          );
        }
        // A template always gives text: an argument that takes no text needs a path. One that takes
        // text of a form of its own (an order's number, "#{{payload.refId}}") takes the template's
        // text with a digit for each insertion; digits alone would be a number, which a path gives.
        const filled = template ? (value as string).replace(/\{\{[^}]*\}\}/g, "1").trim() : "";
        const wrongType = template && takesNoText && (/^\d*$/.test(filled) || !schema.safeParse(filled).success);
        const ownText = publishedAs.get(schema);
        if (wrongType && ownText && /^\d+$/.test(filled)) {
          // Told a template takes no text, its author would take the number the event names by path,
          // as the id: another order where a numbering plugin numbers orders apart from their ids.
          throw new ConfigError(
            `${where}, ${at}: ${name}'s argument ${arg} reads the digits a template writes alone, 7084 say, ${ownText.number(7084)}: for the number the event names, write ${JSON.stringify(`#${(value as string).trim()}`)}; for the id, take it with {"path": …}`,
          );
        }
        if (wrongType) {
          throw new ConfigError(
            `${where}, ${at}: ${name}'s argument ${arg} takes no text, which a template always gives; take the value with {"path": …}`,
          );
        }
        // notify_send's text quotes what its path gives, as text (argumentsFor).
        const quoted = name === "notify_send" && arg === "text";
        const wrongKind = isPathArgument(value) && !quoted && neverTaken(value.path, schema);
        if (wrongKind) throw new ConfigError(`${where}, ${at}: ${name}'s argument ${arg} ${wrongKind}`);
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

/**
 * Throws a ConfigError when `automation`'s source is none of `sources`, the configured webhook
 * sources' names; where none are, it says where they are set.
 */
export function checkSource(automation: Automation, sources: readonly string[]): void {
  if (sources.includes(automation.when.source)) return;
  const set =
    sources.length === 0
      ? "none are): set it in webhooks.sources (WAITER_WEBHOOKS_SOURCES), as docs/webhooks.md#configuring-sources says"
      : `${sources.join(", ")})`;
  throw new ConfigError(
    `automation ${automation.name}: when.source "${automation.when.source}" is no configured webhook source (${set}`,
  );
}

const PAYMENT = "payment.";

/**
 * The values each condition on the event's `field` (its type unless said) takes (equals' and in's),
 * with its index among `where`.
 */
function typesTaken(where: readonly Condition[], field: "type" | "source" = "type"): [number, unknown[]][] {
  return where.flatMap((condition, i) => {
    if (condition.path.trim() !== `event.${field}`) return [];
    const { test, value } = testOf(condition);
    return test === "equals" ? [[i, [value]]] : test === "in" ? [[i, value as unknown[]]] : [];
  });
}

/**
 * Why a type (or source) a condition on `event.type` (`event.source`) takes never matches, after
 * "never matches: "; none where it may.
 */
type Never = (given: string) => string | undefined;

/**
 * Throws a ConfigError when a condition on `event.type` takes only types that never match (`never`
 * says why), or one on `event.source` only sources other than when.source; one that takes others
 * too runs on those, and `warn` is told of each it leaves out.
 */
function checkTypesTaken(automation: Automation, never: Never, warn: (line: string) => void): void {
  const { source, where } = automation.when;
  const otherSource: Never = (given) =>
    given === source
      ? undefined
      : `when.source is ${JSON.stringify(source)}, so event.source is ${JSON.stringify(source)} on every event it takes`;
  const conditions = [
    ...typesTaken(where).map(([i, given]) => [i, given, never] as const),
    ...typesTaken(where, "source").map(([i, given]) => [i, given, otherSource] as const),
  ];
  for (const [i, given, neverOf] of conditions) {
    const taken = given.filter((one): one is string => typeof one === "string");
    const nevers = taken.flatMap((one) => {
      const why = neverOf(one);
      return why
        ? [`automation ${automation.name}, when.where ${i + 1}: ${JSON.stringify(one)} never matches: ${why}`]
        : [];
    });
    if (nevers.length === 0) continue;
    if (nevers.length === taken.length) throw new ConfigError(nevers[0] as string);
    for (const line of nevers) warn(`${line}; it runs on the others it takes`);
  }
}

/**
 * Why a type a condition on `event.type` takes is no type the listener stores (cleanType): one with
 * letters beyond ASCII, or blanks around it, which when.type is read as.
 */
const unstored: Never = (given) => {
  const stored = cleanType(given);
  return stored === given
    ? undefined
    : `the listener stores a type as one line of at most 100 plain characters (ASCII) without blanks around it, so no event's type is ${JSON.stringify(given)} (${JSON.stringify(stored)}, perhaps, as when.type takes it)`;
};

/**
 * Throws a ConfigError when `automation`'s type, or prefix, matches no type its source's scheme
 * stores, and says why a type a condition on `event.type` takes matches none: a Comgate or GoPay
 * source's are payment.<state>, in lowercase, of the gateway's own states, so `PAID`,
 * `payment.PAID` or the other gateway's `payment.cancelled` would leave every such payment to no
 * one, in silence.
 */
function checkType(automation: Automation, scheme: string | undefined): Never {
  const { type, source } = automation.when;
  const gateway = scheme === undefined ? undefined : PAYMENT_STATES[scheme];
  if (gateway === undefined) return () => undefined;
  const types = gateway.states.map((state) => `${PAYMENT}${state.toLowerCase()}`);
  const why = (meant: string | undefined) =>
    `waiter stores the events of ${source}, a ${scheme} source, as payment.<state>, in lowercase, from ${gateway.gateway}'s states: ${types.join(", ")}${meant ? ` (${JSON.stringify(meant)}, perhaps)` : ""}`;
  const neverMatches = (written: string, meant: string | undefined) =>
    new ConfigError(`automation ${automation.name}: when.type ${JSON.stringify(written)} never matches: ${why(meant)}`);
  // What was written, in lowercase, as a payment.<state> type or a prefix of one.
  const typed = (written: string) => {
    const lower = written.toLowerCase();
    return lower.startsWith(PAYMENT) || PAYMENT.startsWith(lower) ? lower : `${PAYMENT}${lower}`;
  };
  const meantType = (written: string) => {
    const stem = typed(written);
    return types.includes(stem) ? stem : meantKey(stem, types);
  };
  const never: Never = (given) => (types.includes(given) ? undefined : why(meantType(given)));
  if (type === undefined) return never;
  const prefix = typePrefix(type);
  if (prefix === undefined ? types.includes(type) : types.some((stored) => stored.startsWith(prefix))) return never;
  if (prefix === undefined) throw neverMatches(type, meantType(type));
  const stem = typed(prefix);
  const meant = types.some((stored) => stored.startsWith(stem)) ? `${stem}${type.endsWith("*") ? "*" : ""}` : undefined;
  throw neverMatches(type, meant);
}

/**
 * Why a type a condition on `event.type` takes that `automation`'s own type, or prefix, leaves out
 * never matches: on the events it takes, event.type is never that one.
 */
function typeLeavesOut(automation: Automation): Never {
  const { type } = automation.when;
  if (type === undefined) return () => undefined;
  const prefix = typePrefix(type);
  const takes = prefix === undefined ? "only that type" : `only the types that begin with ${JSON.stringify(prefix)}`;
  const widen = prefix === undefined ? "" : " (leave type out, or widen it, to take that type too)";
  return (given) =>
    (prefix === undefined ? given === type : given.startsWith(prefix))
      ? undefined
      : `when.type ${JSON.stringify(type)} takes ${takes}, so event.type is never ${JSON.stringify(given)} on the events it takes${widen}`;
}

/**
 * GitHub's events sent with an action in every payload (octokit/webhooks' examples), which the
 * listener adds to the type (`issues.opened`, never `issues`), each with one of its actions.
 */
const GITHUB_ACTIONED: Readonly<Record<string, string>> = {
  check_run: "completed",
  check_suite: "completed",
  discussion: "created",
  discussion_comment: "created",
  issue_comment: "created",
  issues: "opened",
  label: "created",
  milestone: "created",
  pull_request: "opened",
  pull_request_review: "submitted",
  pull_request_review_comment: "created",
  release: "published",
  star: "created",
  watch: "started",
  workflow_job: "completed",
  workflow_run: "completed",
};

/**
 * The senders whose types always have a dot, by scheme: where a type without one never comes from
 * them (`dotless`), and why, said of it.
 */
const DOTTED: Readonly<Record<string, { dotless(type: string): boolean; why(type: string): string }>> = {
  stripe: { dotless: () => true, why: () => 'Stripe names every event object.event ("payment_intent.succeeded")' },
  woocommerce: {
    dotless: () => true,
    why: () => 'WooCommerce names every webhook topic resource.event ("order.created") or action.hook',
  },
  github: {
    dotless: (type) => Object.hasOwn(GITHUB_ACTIONED, type),
    why: (type) =>
      `GitHub sends every ${type} event with an action, which waiter adds to its type (${JSON.stringify(`${type}.${GITHUB_ACTIONED[type]}`)})`,
  },
};

/**
 * Throws a ConfigError when `automation`'s exact type, or a type a condition on `event.type` takes,
 * has no dot on a source whose sender puts one in every such type (`payment_intent`, `order`,
 * GitHub's `issues`: meant as the prefix `payment_intent.`). `unknown` is the listener's own, for a
 * delivery that names none.
 */
function checkDotted(automation: Automation, scheme: string | undefined): Never {
  const sender = scheme === undefined ? undefined : DOTTED[scheme];
  if (sender === undefined) return () => undefined;
  const { type, source } = automation.when;
  const undotted = (written: unknown): written is string =>
    typeof written === "string" &&
    written !== "unknown" &&
    !written.includes(".") &&
    typePrefix(written) === undefined &&
    sender.dotless(written);
  const why = (written: string, taking: string) =>
    `${sender.why(written)}, so no type ${source} sends is ${JSON.stringify(written)} (${taking} takes each of them that begins so, perhaps)`;
  if (undotted(type)) {
    throw new ConfigError(
      `automation ${automation.name}: when.type ${JSON.stringify(type)} never matches: ${why(type, `${JSON.stringify(`${type}.`)}, which`)}`,
    );
  }
  // A condition's value is matched whole: the prefix meant is a starts_with condition's there.
  return (given) => (undotted(given) ? why(given, startsWith(`${given}.`)) : undefined);
}

/** `never`, where `automation`'s own type, or prefix, is one it lets match; else a ConfigError says why not. */
function checkedType(automation: Automation, never: Never): Never {
  const { type } = automation.when;
  const why = type === undefined ? undefined : never(type);
  if (why)
    throw new ConfigError(`automation ${automation.name}: when.type ${JSON.stringify(type)} never matches: ${why}`);
  return never;
}

/** Shopify's topics written with a dot: the customer's segments and tags. */
const SHOPIFY_DOTTED = [
  "customer.joined_segment",
  "customer.left_segment",
  "customer.tags_added",
  "customer.tags_removed",
];

/**
 * The senders that name every type in lower case, without a "/", by scheme: each its name, its
 * types' form, the part of a type it names (GitHub's event and action, but a repository_dispatch's
 * action, the caller's own event_type), and the event meant by one it never names.
 */
const LOWER_CASE: Readonly<
  Record<
    string,
    { name: string; form: string; named(type: string): string; eventMeant?(event: string): string | undefined }
  >
> = {
  github: {
    name: "GitHub",
    form: 'GitHub names every event and its action in lower case, the action after a dot ("issues.opened")',
    named: (type) => type.replace(/^(repository_dispatch)\..*$/is, "$1"),
    // GitHub has no event named as one it sends with an action but for a plural's "s" (issue, pull_requests).
    eventMeant: (event) => {
      const meant = event.endsWith("s") ? event.slice(0, -1) : `${event}s`;
      return Object.hasOwn(GITHUB_ACTIONED, meant) && !Object.hasOwn(GITHUB_ACTIONED, event) ? meant : undefined;
    },
  },
  stripe: {
    name: "Stripe",
    form: 'Stripe names every event in lower case, object.event ("payment_intent.succeeded")',
    named: (type) => type,
  },
};

/**
 * Throws a ConfigError when `automation`'s type, or prefix, has a capital or a "/" in the part of
 * it its source's sender names (LOWER_CASE), and says so of a type a condition on `event.type`
 * takes: GitHub's `Issues.opened`, `issues/opened` and `issue.opened` are `issues.opened`, Stripe's
 * `Payment_Intent.Succeeded` is `payment_intent.succeeded`.
 */
function checkCased(automation: Automation, scheme: string | undefined): Never {
  const sender = scheme === undefined ? undefined : LOWER_CASE[scheme];
  if (sender === undefined) return () => undefined;
  const { source } = automation.when;
  return checkedType(automation, (given) => {
    const named = sender.named(given);
    const event = given.replace(/[.*].*$/s, "");
    // A prefix that ends within the event's name (issue*) takes others too (issue_comment).
    const eventMeant = given[event.length] === "*" ? undefined : sender.eventMeant?.(event);
    if (eventMeant !== undefined) {
      return `${sender.name} sends no ${event} event, but ${eventMeant}, so no type ${source} sends is ${JSON.stringify(given)} (${JSON.stringify(eventMeant + given.slice(event.length))}, perhaps)`;
    }
    if (!/[A-Z/]/.test(named)) return undefined;
    const meant = named.toLowerCase().replaceAll("/", ".") + given.slice(named.length);
    return `${sender.form}, so no type ${source} sends is ${JSON.stringify(given)} (${JSON.stringify(meant)}, perhaps)`;
  });
}

/**
 * Throws a ConfigError when `automation`'s type, or prefix, is none Shopify sends, and says so of a
 * type a condition on `event.type` takes: Shopify's topics are resource/event in lower case
 * (`orders/paid`), its Events deliveries' Resource/action (`Product/create`), with a dot only in
 * SHOPIFY_DOTTED (`orders.paid` is written as Stripe's and WooCommerce's are, `customer/tags_added`
 * as the others are), never without a "/"
 * (`ORDERS_PAID`, the topic's GraphQL name) or with an event in capitals (`Orders/Paid`).
 */
function checkSlashed(automation: Automation, scheme: string | undefined): Never {
  if (scheme !== "shopify") return () => undefined;
  const { source } = automation.when;
  return checkedType(automation, (given) => {
    const prefix = typePrefix(given);
    if (given.includes(".")) {
      if (SHOPIFY_DOTTED.some((topic) => (prefix === undefined ? topic === given : topic.startsWith(prefix)))) {
        return undefined;
      }
      const lower = given.toLowerCase();
      const slashed = given.replaceAll(".", "/");
      // An event in capitals (Orders.Paid) is refused slashed too: the topic meant is in lower case.
      const meant = SHOPIFY_DOTTED.includes(lower)
        ? lower
        : /[A-Z]/.test(slashed.split("/")[1] ?? "")
          ? slashed.toLowerCase()
          : slashed;
      return `Shopify names its topics resource/event, with a "/" ("orders/paid"), so no type ${source} sends is ${JSON.stringify(given)} (${JSON.stringify(meant)}, perhaps)`;
    }
    const dotted = given.replace("/", ".");
    if (SHOPIFY_DOTTED.includes(dotted)) {
      return `Shopify names the topics of a customer's tags and segments with a dot ("customer.tags_added"), so no type ${source} sends is ${JSON.stringify(given)} (${JSON.stringify(dotted)}, perhaps)`;
    }
    const event = given.split("/")[1];
    const unslashed = event === undefined && prefix === undefined && given !== "unknown";
    if (!unslashed && !/[A-Z]/.test(event ?? "")) return undefined;
    // A GraphQL name of one word in each part (ORDERS_PAID) is the topic's but for its "/", a
    // dotted topic's (CUSTOMER_TAGS_ADDED) but for its ".".
    const lower = given.toLowerCase();
    const meant = !unslashed
      ? lower
      : lower.split("_").length === 2
        ? lower.replace("_", "/")
        : SHOPIFY_DOTTED.find((topic) => topic.replace(".", "_") === lower);
    return `Shopify names every webhook topic resource/event in lower case ("orders/paid"), and an Events delivery Resource/action ("Product/create"), so no type ${source} sends is ${JSON.stringify(given)}${meant ? ` (${JSON.stringify(meant)}, perhaps)` : ""}`;
  });
}

/** The schemes whose senders' types never end in ".", "/" or "*", as a prefix does. */
const WHOLE_TYPES = new Set(["stripe", "woocommerce", "github", "shopify"]);

/**
 * Why a type a condition on `event.type` takes, written as when.type writes a prefix (`refund.*`),
 * never matches on a source whose sender's types never end so: a condition's value is matched whole.
 */
function conditionPrefix(automation: Automation, scheme: string | undefined): Never {
  if (scheme === undefined || !WHOLE_TYPES.has(scheme)) return () => undefined;
  return (given) => {
    const stem = typePrefix(given);
    return stem === undefined
      ? undefined
      : `a condition's value is matched whole, and no type ${automation.when.source} sends ends in ${JSON.stringify(given.at(-1))} (a prefix is when.type's, or ${startsWith(stem)} takes the types that begin so)`;
  };
}

/** The condition that takes the types that begin with `stem`. */
function startsWith(stem: string): string {
  return `{"path": "starts_with(event.type, '${stem.replace(/['\\]/g, "\\$&")}')", "equals": true}`;
}

/**
 * What `automation`'s type, or prefix, or a type a condition on `event.type` takes, says where it
 * is none its source's sender is known to send but near one (MISSPELT): only said, as a sender
 * sends others too, which waiter cannot know.
 */
function typesMisspelt(automation: Automation, scheme: string | undefined): string[] {
  const misspelt = scheme === undefined ? undefined : MISSPELT[scheme];
  if (misspelt === undefined) return [];
  const { type, source, where } = automation.when;
  const said = (what: string, written: string) => {
    const line = misspelt(written, source);
    return line ? [`automation ${automation.name}${what} ${line}`] : [];
  };
  return [
    ...(type === undefined ? [] : said(": when.type", type)),
    ...typesTaken(where).flatMap(([i, taken]) =>
      taken.flatMap((given) => (typeof given === "string" ? said(`, when.where ${i + 1}:`, given) : [])),
    ),
  ];
}

/** Stripe's session completed: paid, or, by a payment the customer completes later, not yet. */
const SESSION_COMPLETED = "checkout.session.completed";

/**
 * Stripe's types of a payment's objects that leave its order unpaid, or not yet paid: begun,
 * awaiting the customer or a capture, failed, cancelled, returned or disputed.
 */
const STRIPE_UNPAID = [
  "payment_intent.created",
  "payment_intent.processing",
  "payment_intent.requires_action",
  "payment_intent.amount_capturable_updated",
  "payment_intent.partially_funded",
  "payment_intent.payment_failed",
  "payment_intent.canceled",
  "charge.pending",
  "charge.failed",
  "charge.expired",
  "charge.refunded",
  "charge.dispute.created",
  "checkout.session.expired",
  "checkout.session.async_payment_failed",
];

/**
 * The condition that takes only payments made, by the prefix of the types above and of GoPay's and
 * Comgate's: a session's type says not whether it was paid, its payment_status does.
 */
const MADE: Readonly<Record<string, string>> = {
  "payment_intent.": '{"path": "event.type", "equals": "payment_intent.succeeded"}',
  "charge.": '{"path": "event.type", "equals": "charge.succeeded"}',
  "checkout.session.": '{"path": "payload.data.object.payment_status", "equals": "paid"}',
  [PAYMENT]: `{"path": "event.type", "equals": "${PAYMENT}paid"}`,
};

/** Stripe's types of a payment's objects waiter knows: those above, and those of a payment made. */
const STRIPE_PAYMENT_TYPES = [
  ...STRIPE_UNPAID,
  "payment_intent.succeeded",
  "charge.succeeded",
  SESSION_COMPLETED,
  "checkout.session.async_payment_succeeded",
];

/**
 * What is said, by scheme, of a type or prefix written near one its sender sends, and `source`
 * sends, but none of them (`order.create`, `payment_intent.succeed`); nothing of any other: a
 * WooCommerce plugin's own topic, another of Stripe's types.
 */
const MISSPELT: Readonly<Record<string, (written: string, source: string) => string | undefined>> = {
  woocommerce: (written, source) => {
    const meant = wooTopicMeant(written);
    return meant && wooTopicMisspelt(written, source, meant);
  },
  stripe: (written, source) => {
    if (typePrefix(written) !== undefined || STRIPE_PAYMENT_TYPES.includes(written)) return undefined;
    const meant = meantKey(written, STRIPE_PAYMENT_TYPES);
    return (
      meant &&
      `${JSON.stringify(written)} is none of Stripe's payment types, which ${source} sends; did you mean ${JSON.stringify(meant)}? Another of Stripe's types is taken as written.`
    );
  },
};

/**
 * What `automation` says where it marks orders paid on events of its source's scheme that pay for
 * nothing, or not yet: taken by its type or prefix, and by its conditions on `event.type`, with no
 * condition on the payment's status (Stripe's session: its payment_status) to leave them out. Only
 * said, as a condition waiter cannot read may leave them out.
 */
function paidForNothing(automation: Automation, scheme: string | undefined): string[] {
  const step = automation.do.findIndex((s) => toolOf(s) === "eshop_order_mark_paid");
  const gateway = scheme === undefined ? undefined : PAYMENT_STATES[scheme];
  const unpaid =
    scheme === "stripe"
      ? STRIPE_UNPAID
      : (gateway?.states.filter((state) => state !== "PAID").map((state) => `${PAYMENT}${state.toLowerCase()}`) ?? []);
  if (step === -1 || unpaid.length === 0) return [];
  const { type, where } = automation.when;
  const prefix = type === undefined ? "" : typePrefix(type);
  const takes = (stored: string) =>
    (prefix === undefined ? stored === type : stored.startsWith(prefix)) &&
    where.every((condition) => {
      if (condition.path.trim() !== "event.type") return true;
      const { test, value } = testOf(condition);
      return test === "equals" ? value === stored : test === "in" ? (value as unknown[]).includes(stored) : true;
    });
  const checks = (stored: string) =>
    where.some((condition) =>
      (stored.startsWith("checkout.session.") ? /payment_status/ : /status|state/).test(condition.path),
    );
  const at = `automation ${automation.name}, step ${step + 1}: eshop_order_mark_paid marks an order paid on`;
  const said: string[] = [];
  if (scheme === "stripe" && takes(SESSION_COMPLETED) && !checks(SESSION_COMPLETED)) {
    said.push(
      `${at} "${SESSION_COMPLETED}", which Stripe sends unpaid too (payment_status "unpaid") for a payment the customer completes later, as a bank debit or a voucher, which may never come: add the condition {"path": "payload.data.object.payment_status", "equals": "paid"}, and mark those paid later on "checkout.session.async_payment_succeeded".`,
    );
  }
  const left = unpaid.filter((stored) => takes(stored) && !checks(stored));
  const first = left[0];
  if (first !== undefined) {
    const made = Object.entries(MADE).find(([family]) => first.startsWith(family))?.[1] as string;
    const by = type === undefined ? "its when" : `when.type ${JSON.stringify(type)}`;
    said.push(
      `${at} ${enumerated(
        left.map((stored) => JSON.stringify(stored)),
        "and",
      )} too, which ${by} takes, and which leave the order unpaid, or not yet paid: take only payments made, as ${made} does.`,
    );
  }
  return said;
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
 * Why an object a tool refuses was most likely meant as a value taken from the event, if it was:
 * one with a key a letter or two from `path` ({"pth": …}), or with `path` and other keys
 * ({"path": …, "default": 0}), or whose path is no text. Sent as written, the tool refuses it on
 * every event, with a message about objects that does not say what to change.
 */
function pathMiswritten(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const misspelt = keys.find((key) => key !== "path" && meantKey(key, ["path"]) === "path");
  if (!keys.includes("path") && misspelt === undefined) return undefined;
  const held = `holds {${keys.map((key) => `${JSON.stringify(key)}: …`).join(", ")}}, which is sent as written: a value taken from the event is {"path": "…"}`;
  if (keys.length === 1 && misspelt !== undefined) return `${held} (did you mean path?)`;
  if (keys.length > 1) return `${held}, with no other key`;
  return `${held}, its path a JMESPath expression written as text`;
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
  const other = (tokens as [string, string, number, number][]).find(([type]) => type !== "text" && type !== "name");
  if (other) {
    const [, , start, end] = other;
    throw new ConfigError(
      `${where}: the template ${JSON.stringify(template)} has ${template.slice(start, end)}; only insertions like {{payload.id}} are allowed`,
    );
  }
  for (const [type, name] of tokens as [string, string][]) {
    // Mustache leaves single braces as text: {payload.id} and JavaScript's ${payload.id} reach the reader as written.
    const single = type === "text" ? /\$?\{\s*((?:payload|event)(?:\.[^\s{}]+)?)\s*\}/.exec(name) : null;
    if (single) {
      throw new ConfigError(
        `${where}: the template ${JSON.stringify(template)} has ${single[0]}, which is sent as written: an insertion is in double braces, {{${single[1]}}}`,
      );
    }
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
        `${where}: {{${name}}} starts at "${root}", which is neither payload nor event, so it is always empty${root !== undefined && STEP_ANSWERS.has(root) ? noStepAnswers(root) : ` (payload.${name}, perhaps)`}`,
      );
    }
    if (root === "event" && isNoEventField(field)) {
      throw new ConfigError(
        `${where}: {{${name}}} reads "${field}", which event has not, so it is always empty: ${eventFields(field, name.slice("event.".length))}`,
      );
    }
    const below = name.split(".").slice(2);
    if (root === "event" && below.length > 0 && below.join(".") !== "length") {
      throw new ConfigError(
        `${where}: {{${name}}} reads "${below.join(".")}" of event.${field}, which is text, so it is always empty: of an event's field only its length is read ({{event.${field}.length}})`,
      );
    }
  }
}

/** How JMESPath writes what other languages write as `and`, `or` and `not`. */
const WORDS: Record<string, string> = { and: "&&", or: "||", not: "!" };

/**
 * What JMESPath writes otherwise, for a path it refuses for what other languages write so: a bare
 * number (`> 1000`, which JMESPath takes only in backticks), a field in brackets (`['order_id']`,
 * read after a dot) and the words and, or and not. Said after the compiler's message, which names
 * only the token.
 */
function writtenOtherwise(path: string, message: string): string {
  const bare = /invalid token \(Number\): "(-?\d+)"/.exec(message)?.[1];
  if (bare !== undefined) {
    // Not the end of a field's name (payload.tax2 > 2.5), nor an index or a slice's bound ([1]).
    const number = new RegExp(`(?<![\\w.[:])${bare}(?:\\.\\d+)?(?:[eE][+-]?\\d+)?`).exec(path)?.[0] ?? bare;
    return `: a number is written in backticks, \`${number}\``;
  }
  const bracketed = /\[\s*(['"])([^'"]*)\1\s*\]/;
  if (/expected Star/.test(message) && bracketed.test(path)) {
    const dotted = path.replace(new RegExp(bracketed, "g"), (_, __, key: string) =>
      /^[A-Za-z_]\w*$/.test(key) ? `.${key}` : `.${JSON.stringify(key)}`,
    );
    return `: JMESPath reads a field after a dot, ${JSON.stringify(dotted)}, and only a number or * in brackets`;
  }
  const word = /UnquotedIdentifier, value: (and|or)$/i.exec(message)?.[1] ?? /(?:^|[\s(])(not)\s/i.exec(path)?.[1];
  return word ? `: JMESPath writes ${word} as ${WORDS[word.toLowerCase()]}` : "";
}

/**
 * What in a compiled path fails or misleads on every event, which JMESPath's compiler lets by: a
 * function it has not (to_numbr) or given a number of arguments it does not take, each of which
 * fails when the path is read; or an `=` outside a let's bindings, which the compiler reads as a
 * binding that drops what stands before it (`payload.status = 'paid'` gives an object).
 */
function misreadIn(node: unknown): string | undefined {
  if (typeof node !== "object" || node === null) return undefined;
  // A list of sub-expressions (a function's arguments) has neither type nor name.
  const n = node as { type?: string; name?: string; children?: unknown[]; bindings?: { reference: unknown }[] };
  if (n.type === "Literal") return undefined;
  if (n.type === "Binding") {
    return "has =, which JMESPath takes only in a let's bindings (let $x = … in …): a comparison is ==";
  }
  if (n.type === "Function" && n.name !== undefined) {
    const functions = getRegisteredFunctions();
    if (!functions.includes(n.name)) {
      const meant = meantKey(n.name, functions);
      return `calls ${n.name}, a function JMESPath has not${meant ? ` (did you mean ${meant}?)` : ""}`;
    }
    const signature = TreeInterpreter.runtime._functionTable[n.name]?._signature ?? [];
    const given = n.children?.length ?? 0;
    const least = signature.filter((argument) => !argument.optional).length;
    const variadic = signature.at(-1)?.variadic === true;
    if (given < least || (!variadic && given > signature.length)) {
      const most = variadic ? "or more" : signature.length > least ? `to ${signature.length}` : "";
      const takes = [least, most].filter(Boolean).join(" ");
      return `calls ${n.name} with ${given} argument${given === 1 ? "" : "s"}, where it takes ${takes}`;
    }
  }
  // A let's bindings are where = belongs: what each binds is read as any other expression.
  const children = n.type === "LetExpression" ? { ...n, bindings: n.bindings?.map((b) => b.reference) } : n;
  for (const child of Object.values(children)) {
    const misread = misreadIn(child);
    if (misread !== undefined) return misread;
  }
  return undefined;
}

/**
 * What is said of a `!` before a field's path (`!payload.livemode`): JMESPath's `!` binds tighter
 * than the dot, so it reads a field of what `!payload` gives, true or false, which has none: null
 * on every event, where `!(payload.livemode)` was meant. Undefined for a path without one.
 */
function negatedField(ast: unknown, path: string): string | undefined {
  const negatesHead = (node: unknown): boolean => {
    if (typeof node !== "object" || node === null) return false;
    const n = node as Node;
    if (n.type === "Literal") return false;
    // A pipe reads its right from all its left gives: `!(payload.livemode) | to_string(@)`.
    if (CHAINED.has(n.type) && n.type !== "Pipe" && n.left?.type === "NotExpression") return true;
    return Object.values(n).some(negatesHead);
  };
  if (!negatesHead(ast)) return undefined;
  // A field, a variable ($o of let) or the current item (@ of a filter).
  const name = String.raw`(?:[A-Za-z_]\w*|"[^"]*"|\$\w*|@)`;
  const found = new RegExp(String.raw`(!+)\s*(${name}(?:\s*\.\s*${name}|\s*\[[^\]]*\])+)`).exec(path);
  const [, nots = "!", chain] = found ?? [];
  const head = chain && new RegExp(`^${name}`).exec(chain)?.[0];
  const read = chain && head ? `(${nots}${head})${chain.slice(head.length)}` : "a field of what ! gives";
  const meant = chain ? `${nots}(${chain})` : "!(…)";
  return `has ! before a field's path, which JMESPath reads as ${read}, a field of true or false, so it gives null on every event: write what ! negates in parentheses, ${meant}`;
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

/** The kinds of JSON value, as a message names each. */
const KINDS = {
  number: "a number",
  text: "text",
  boolean: "true or false",
  list: "a list",
  object: "an object",
  null: "null",
} as const;
type Kind = keyof typeof KINDS;
const EVERY_KIND = Object.keys(KINDS) as Kind[];

function kindOf(value: unknown): Kind | undefined {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  const kind = { number: "number", string: "text", boolean: "boolean", object: "object" } as const;
  return kind[typeof value as keyof typeof kind];
}

/** Kinds a value may be of, once each, or undefined when any of them may be unknown. */
function either(...kinds: (readonly Kind[] | undefined)[]): readonly Kind[] | undefined {
  return kinds.some((k) => k === undefined) ? undefined : [...new Set(kinds.flat() as Kind[])];
}

/**
 * What JMESPath's functions give, where their name alone tells (one given the wrong type fails
 * instead). to_number is waiter's own (view.ts), which gives null for text that writes no number.
 */
const FUNCTION_GIVES = Object.fromEntries(
  Object.entries({
    "abs ceil floor length sum": ["number"],
    "avg find_first find_last to_number": ["number", "null"],
    "join lower upper pad_left pad_right replace to_string trim trim_left trim_right type": ["text"],
    "ends_with starts_with": ["boolean"],
    contains: ["boolean", "null"],
    "items keys map sort sort_by split to_array values zip": ["list"],
    "from_items group_by merge": ["object"],
    reverse: ["text", "list"],
    "max min": ["number", "text", "null"],
  }).flatMap(([names, kinds]) => names.split(" ").map((name) => [name, kinds])),
) as Record<string, readonly Kind[]>;

/** The functions that take a value of any kind, or none, and give text for each: never null, never a failure. */
const TEXT_OF_ANY = ["to_string", "type"];

/**
 * The kinds of value a compiled JMESPath expression can give, whatever it is given, or undefined
 * where that is not certain: a field (but one of waiter's event's, `event.id`, read at the top:
 * text; `top` says whether `node` is read there), `@`, an index, a variable, a `let`, and any expression one of
 * them decides. A projection, a filter or a flatten gives a list, or null when what it goes through
 * is not a list (a slice of text gives text); a multiselect list a list and a hash an object (null
 * after a dot: `payload.[a, b]` on a payload without it); a comparison true or false (`<` of other
 * than numbers null), `!` true or false, arithmetic a number; `&&`, `||` and `? :` give one of their
 * sides; a literal its own kind; a function what FUNCTION_GIVES says. A path that fails on the
 * payload (arithmetic on text, a function given the wrong type) fails its step, whatever it gives.
 */
function givenBy(node: ReturnType<typeof compile>, top = true): readonly Kind[] | undefined {
  switch (node.type) {
    case "Literal":
      return [kindOf(node.value) as Kind];
    case "Projection": {
      // Over a slice of text, the rest is read from the text itself: `payload.sku[0:3]` is text.
      const sliced = node.left.type === "IndexExpression" && node.left.right.type === "Slice";
      const overText: readonly Kind[] | undefined =
        node.right.type === "Identity" ? ["text"] : givenBy(node.right, false);
      return either(["list", "null"], sliced ? overText : []);
    }
    case "ValueProjection":
    case "FilterProjection":
    case "Flatten":
      return ["list", "null"];
    case "Slice":
      return ["list", "text", "null"];
    case "MultiSelectList":
      return ["list"];
    case "MultiSelectHash":
      return ["object"];
    case "Comparator":
      return node.name === "EQ" || node.name === "NE" ? ["boolean"] : ["boolean", "null"];
    case "NotExpression":
      return ["boolean"];
    case "Arithmetic":
    case "Unary":
      return ["number"];
    case "Subexpression": {
      const { left, right } = node;
      const eventField = left.type === "Field" && left.name === "event" && right.type === "Field";
      if (top && eventField && EVENT_FIELDS.includes(right.name)) return ["text"];
      return either(givenBy(right, false), ["null"]);
    }
    case "IndexExpression":
    case "Pipe":
      return givenBy(node.right, false);
    case "AndExpression":
    case "OrExpression":
      return either(givenBy(node.left, top), givenBy(node.right, top));
    case "Ternary":
      return either(givenBy(node.trueExpr, top), givenBy(node.falseExpr, top));
    case "Function":
      return FUNCTION_GIVES[node.name];
    default:
      return undefined;
  }
}

/**
 * What is said of the text of a literal argument (`at`), or of an item of its list, that is none of
 * the core words its schema takes (withCore) but near one ("complete"): only said, as the system's
 * own words, which only it can tell, are taken as written.
 */
function nearCoreWords(schema: z.ZodType, value: unknown, at: string): string[] {
  const core = coreWordsOf.get(schema);
  const def = schema.def as unknown as SchemaDef;
  if (core === undefined) {
    if (def.type === "array" && Array.isArray(value) && def.element) {
      const element = def.element;
      return value.flatMap((item, i) => nearCoreWords(element, item, `${at}.${i}`));
    }
    // A preprocess (`listed`) reads a literal list as it is.
    const inner = def.innerType ?? (def.type === "pipe" ? def.out : undefined);
    return inner ? nearCoreWords(inner, value, at) : [];
  }
  if (typeof value !== "string" || core.words.includes(value)) return [];
  const meant = meantKey(value, core.words);
  return meant
    ? [
        `${at}: ${JSON.stringify(value)} is no core ${core.one} of ${core.system}'s; did you mean ${JSON.stringify(meant)}? A shop's own ${core.one} is taken as written.`,
      ]
    : [];
}

/** The parts of a zod schema's definition `taken` and `nearCoreWords` read. */
type SchemaDef = {
  type: string;
  coerce?: boolean;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, unknown>;
  values?: unknown[];
};

/**
 * What an argument may take: a kind of value, or text that writes a number (`decimal`'s, `digits`'s),
 * which a path that gives text may give.
 */
type Taken = Kind | "numeral";

/**
 * The kinds of value a tool's argument may take, from its zod schema: every kind where the schema
 * does not plainly tell (a coercion, a transform that comes first, any).
 */
function taken(schema: z.ZodType): readonly Taken[] {
  const as = publishedAs.get(schema)?.schema;
  if (as) return [...taken(as).filter((kind) => kind !== "numeral"), "text"];
  const def = schema.def as unknown as SchemaDef;
  const inner = def.innerType ?? def.in;
  switch (def.type) {
    case "number":
    case "boolean":
      return def.coerce ? EVERY_KIND : [def.type];
    case "string":
      return def.coerce ? EVERY_KIND : ["text"];
    case "null":
      return ["null"];
    case "array":
    case "tuple":
      return ["list"];
    case "object":
    case "record":
      return ["object"];
    case "enum":
    case "literal":
      return Object.values(def.entries ?? def.values ?? []).flatMap((v) => kindOf(v) ?? []);
    case "union":
      return (def.options ?? []).flatMap(taken);
    case "nullable":
      return [...taken(inner as z.ZodType), "null"];
    case "optional":
    case "default":
    case "prefault":
    case "readonly":
    case "nonoptional":
      return taken(inner as z.ZodType);
    case "pipe": {
      // A preprocess (`decimal`, `word`, `codes`) takes text too, read as what its schema takes: a
      // number from text that writes one.
      if ((def.in as z.ZodType).def.type !== "transform") return taken(inner as z.ZodType);
      const out = taken(def.out as z.ZodType);
      return out.includes("text") ? out : [...out, out.includes("number") ? "numeral" : "text"];
    }
    default:
      return EVERY_KIND;
  }
}

/** Kinds as a message says them: "a list or null". */
function said(kinds: readonly Taken[]): string {
  const words = kinds.map((kind) => (kind === "numeral" ? "text that writes a number" : KINDS[kind]));
  return enumerated(words, "or") || "nothing";
}

/**
 * Why an argument of `schema` never takes what `path` gives, if it does not on every event: the
 * kinds the path can give, null but where it gives nothing else (the nothing a projection gives on
 * a payload without the list), and none the argument takes. A path of uncertain kind is left to
 * each event.
 */
function neverTaken(path: string, schema: z.ZodType): string | undefined {
  const given = givenBy(compile(path));
  if (given === undefined) return undefined;
  const takes = [...new Set(taken(schema))];
  const usable = given.length > 1 ? given.filter((kind) => kind !== "null") : given;
  if (usable.some((kind) => takes.includes(kind) || (kind === "text" && takes.includes("numeral")))) return undefined;
  const wanted = takes.length > 1 ? takes.filter((kind) => kind !== "null") : takes;
  return `takes ${said(wanted)}, which the path ${JSON.stringify(path)} never gives: it gives ${said(given)}, whatever the event${firstItem(path, given, takes)}`;
}

/**
 * The path to a list's first item, for a path that gives a list where no list is taken (a list
 * argument takes its one item alone, `listed`).
 */
function firstItem(path: string, given: readonly Kind[], takes: readonly Taken[]): string {
  return given.includes("list") && !takes.includes("list")
    ? ` (${JSON.stringify(`${path} | [0]`)} gives its first item, perhaps)`
    : "";
}

/**
 * Why `condition` holds on no event, if its path alone tells (givenBy): `equals` and `in` hold only
 * for a value of their own kind, as they compare with ===, and a number comparison only for a
 * number (holds, in view.ts). The null a projection gives where it finds nothing counts, as
 * `equals: null` holds for it; `present` holds for a value of any kind, or none. Said too: present
 * true on a path that gives true or false on every event, which holds on every event.
 */
function neverHolds(condition: Condition): string | undefined {
  const { test, value } = testOf(condition);
  const ast = compile(condition.path);
  const given = givenBy(ast);
  if (given === undefined) return undefined;
  // == and != and ! give true or false on any payload, and fail on none: present true would hold
  // on every event, where the value was most likely meant to be tested (equals: true).
  const truth = (ast.type === "Comparator" && (ast.name === "EQ" || ast.name === "NE")) || ast.type === "NotExpression";
  if (test === "present" && value && truth) {
    const path = JSON.stringify(condition.path);
    return `present true holds on every event, as the path ${path} gives true or false on each, never nothing: for the events where it is true, write {"path": ${path}, "equals": true}`;
  }
  // Text of any value gives text for nothing found too ("null"): the argument's presence was most likely meant.
  const textOfAny = ast.type === "Function" && TEXT_OF_ANY.includes(ast.name) && ast.children.length === 1;
  const argument = /^\s*\w+\s*\(([\s\S]*)\)\s*$/.exec(condition.path)?.[1]?.trim();
  if (test === "present" && value && textOfAny && argument) {
    return `present true holds on every event, as the path ${JSON.stringify(condition.path)} gives text on each, "null" for nothing found: for the events where it finds a value, write {"path": ${JSON.stringify(argument)}, "present": true}`;
  }
  // present: false holds where the path finds nothing (null, or an empty list); present: true elsewhere.
  const takes: readonly Kind[] =
    test === "present"
      ? value
        ? EVERY_KIND.filter((kind) => kind !== "null")
        : ["null", "list"]
      : [...new Set((test === "in" ? (value as unknown[]) : [value]).map((v) => kindOf(v) as Kind))];
  if (given.some((kind) => takes.includes(kind))) return undefined;
  const path = JSON.stringify(condition.path);
  const holdsFor = test === "present" && !value ? "nothing found (null, or an empty list)" : said(takes);
  return `${test} ${JSON.stringify(value)} holds only for ${holdsFor}, which the path ${path} never gives: it gives ${said(given)}, whatever the event${firstItem(condition.path, given, takes)}`;
}

/** The event's fields whose text writes no number on any event, each as said of it. */
const NUMBERLESS: Readonly<Record<string, string>> = {
  id: "event.id is waiter's id of the event, as 01KBQ3M9Z4X8T2V6N5R7W1Y0HC",
  received_at: "event.received_at is the time waiter received the event, as 2026-12-05T10:00:00.000Z",
};

/**
 * What is said of the field of the event's that writes no number (NUMBERLESS) which `value` gives
 * whole as a path or inserts as a template, if it does; undefined for any other value.
 */
function numberless(value: unknown): string | undefined {
  if (isPathArgument(value)) {
    const node = compile(value.path);
    const { left, right } = node as { left?: Node; right?: Node };
    const whole = node.type === "Subexpression" && left?.type === "Field" && left.name === "event";
    return whole && right?.type === "Field" ? NUMBERLESS[right.name as string] : undefined;
  }
  if (!isTemplate(value)) return undefined;
  for (const [type, name] of Mustache.parse(value as string)) {
    if (type !== "name") continue;
    const said = /^event\.(\w+)$/.exec(name)?.[1];
    if (said !== undefined && Object.hasOwn(NUMBERLESS, said)) return NUMBERLESS[said];
  }
  return undefined;
}

const placeholderView: View = { event: { id: "", source: "", type: "", received_at: "" }, payload: {} };

/** The fields of `event` that templates and paths see. */
const EVENT_FIELDS = Object.keys(placeholderView.event);

/**
 * The path meant by one (`ast` as compiled) that reads `stray` at its root: a key with a hyphen
 * (`payload.order-id`), which JMESPath reads as a subtraction of `id`, is quoted
 * (`payload."order-id"`); text written in double quotes not after a dot (`== "paid"`), or bare as a
 * side of a comparison (`== paid`), which JMESPath reads as a field's name, takes single quotes; a
 * bare null, true or false takes backticks, as JSON's; else `stray` under payload.
 */
function meantPath(path: string, ast: unknown, stray: string): string {
  const quoted = path.replace(/(?<=\.)[A-Za-z_]\w*(?:-\w+)+/g, (key) => `"${key}"`);
  if (quoted !== path && path.includes(`-${stray}`)) return `${quoted}, perhaps`;
  const written = JSON.stringify(stray);
  let at = path.indexOf(written);
  while (at > 0 && path[at - 1] === ".") at = path.indexOf(written, at + 1);
  if (at === -1 && ["null", "true", "false"].includes(stray)) {
    return `\`${stray}\`, perhaps: JMESPath reads a bare name as a field, and null, true and false in backticks`;
  }
  if (at !== -1 || comparedWith(ast, stray)) {
    const name = at !== -1 ? "a name in double quotes" : "a bare name";
    return `'${stray.replace(/['\\]/g, "\\$&")}', perhaps: JMESPath reads ${name} as a field, and text in single quotes`;
  }
  return `payload.${stray}, perhaps`;
}

/** Whether a comparison in `node` has the field `name` as a side of its own: text meant (`status == paid`). */
function comparedWith(node: unknown, name: string): boolean {
  if (typeof node !== "object" || node === null) return false;
  const n = node as Node;
  const side = (child: Node | undefined) => child?.type === "Field" && child.name === name;
  if (n.type === "Comparator" && (side(n.left) || side(n.right))) return true;
  return Object.values(n).some((child) => comparedWith(child, name));
}
