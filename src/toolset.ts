import type { ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Call, HttpClient } from "./http/client.js";
import type { Log } from "./log.js";
import type { Secrets, Settings, SettingValues } from "./settings.js";
import { oneLine } from "./shown.js";

/** All four hints, always: clients decide from them whether to ask the user first. */
export type Annotations = Required<
  Pick<ToolAnnotations, "readOnlyHint" | "destructiveHint" | "idempotentHint" | "openWorldHint">
>;

/**
 * The tools the call's session serves, which are all a model there can call: a text that sends it
 * to another tool names one of these. A session may serve fewer than waiter has (--read-only,
 * --tools, a token of scope read or of some toolsets); an automation's call serves none, as a
 * person reads what it answers.
 */
export interface Serving {
  serves(name: string): boolean;
}

/** What a session keeps between its calls. */
export interface SessionState {
  /**
   * How long, in ms, its client let the shortest of its earlier calls run before it cut it for
   * taking too long (its own timeout): a call that waits ends before that, with what it has.
   */
  cutMs?: number;
}

/** What a tool's `run` gets besides its arguments. */
export interface ToolCall extends Call, Serving {
  log: Log;
  /**
   * Whom the call is for, as the log names them: over HTTP the token (or OAuth client and user),
   * for an automation its run, event and step. Absent over stdio, whose one client is the user's.
   */
  caller?: string;
  /**
   * What the session keeps between its calls, and its identity for what a toolset keeps per session.
   * Absent outside a client's session.
   */
  session?: SessionState;
  /**
   * Aborted when the call's answer can no longer reach its client: its stream's connection closed
   * before it, having carried no event its client could come back for it with (Last-Event-ID).
   */
  answerLost?: AbortSignal;
  /** Tells a client that asked for progress how a long call is going; does nothing otherwise. */
  progress(progress: number, total: number, message: string): Promise<void>;
  /**
   * Aborted when the server begins to stop: a call that waits for something to happen answers at
   * once with what it has, so the client can go on elsewhere. Absent outside a client's session.
   */
  stopping?: AbortSignal;
  /**
   * Set by an automation sending a notification (notify_send), which it tries again for the
   * targets it missed only: where earlier tries got to, the targets that confirmed it (`sent`, as
   * its result names them: with where it went instead, a group upgraded to a supergroup) and
   * those that refused it for good (`failed`), none of which is sent to again. The call adds its
   * own to them, and fails as refused for now (an UpstreamError) while a target refuses it for now.
   */
  notified?: Notified;
  /**
   * Set by an automation sending a notification: the event's texts it quoted in it, “…” each, as
   * they read in the text (one the text's cut left open runs to its end), or the whole text, when
   * any of it may be a stranger's. A channel that reads an @name as a mention (Telegram) keeps
   * those from mentioning anyone; the text's own, a model's or an automation's author's, mentions
   * as written.
   */
  quoted?: readonly string[];
  /**
   * With `quoted` holding the whole text (a failed run's notice): what the automation's author wrote
   * in its steps, outside {{…}}; only an @name it holds still mentions.
   */
  authored?: readonly string[];
}

/** Where a notification got to: who confirmed it, and who did not, with why. */
export interface Notified {
  sent: string[];
  failed: { target: string; error: string }[];
}

/**
 * One tool. `input` and `output` are zod shapes; the server publishes them as JSON Schema and
 * checks the arguments before `run` and the result after it; waiter words a refusal with a
 * synchronous parse, so no asynchronous refinements. `run` returns the structured result;
 * `render` turns it into the short text rendering that goes beside it, given the arguments too
 * for what the result alone cannot say (which filters found nothing), and what the session serves.
 * Throw a ToolError (or let an UpstreamError through) for a failure the model can act on. A text
 * sends the model to another tool only where the session serves it (`serves`).
 */
export interface Tool<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  /** snake_case, prefixed by the toolset's name: currency_convert. */
  name: string;
  title: string;
  /**
   * Written for a model: when to use it, units, limits. More than 80 characters, and every one
   * counts against tools/list's ceiling (test/protocol.test.ts, test/budget.test.ts).
   */
  description: string;
  /** Each field described (`.describe()`), what a model cannot guess: a default, a unit, a format. */
  input: I;
  output: O;
  annotations: Annotations;
  /** Seconds this call may take when more than the configured tool timeout (events_wait). */
  deadline?(args: z.output<z.ZodObject<I>>): number;
  run(args: z.output<z.ZodObject<I>>, call: ToolCall): Promise<z.input<z.ZodObject<O>>>;
  render(result: z.input<z.ZodObject<O>>, args: z.output<z.ZodObject<I>>, session: Serving): string;
  /**
   * The time zone whose days the tool reads a date given without an offset by (a shop's), as the
   * clock's helpers take it (`zone`) and as a text names it; undefined when it cannot say, its
   * dates then read in UTC (a shop set to UTC says so by name).
   */
  timeZone?(call: ToolCall): Promise<{ zone: string; name: string } | undefined>;
  /**
   * Whether a result, though the call succeeded, says something a person must look into (a payment
   * that may have been made twice). An automation's run fails at such a step, with the rendered
   * result as the reason, so its onFailure tells someone and its later steps do not run.
   */
  needsPerson?(result: z.input<z.ZodObject<O>>): boolean;
  /**
   * Why arguments, each valid alone, are refused together (two given where one is taken, a range
   * that ends before it begins); else undefined. Asked before `run`, which may take the arguments
   * as fine, by the server and by automations, whose start-up check and dry run call nothing.
   */
  refuses?(args: z.output<z.ZodObject<I>>): string | undefined;
}

/**
 * What the log records of a write done: the first line of its answer, whole up to the longest one a
 * tool writes (events_ack naming a hundred event ids), so that each thing it changed is found there.
 */
export function doneLine(said: string): string {
  return oneLine(said.split("\n")[0] ?? "", 3_000);
}

/** The toolset a tool belongs to: its name's prefix (currency for currency_convert). */
export function toolsetOf(tool: { name: string }): string {
  return tool.name.split("_")[0] ?? "";
}

const BLANK = "has nothing but white space";

/**
 * A character a reader sees: not white space, a control or an invisible format character (a
 * zero-width space, a direction mark), nor a braille blank or an object replacement, which
 * Telegram counts as empty, as it does the others.
 */
const SEEN = /[^\s\p{Cc}\p{Cf}\u2800\ufffc]/u;

/** Whether a reader sees anything of `text` (`SEEN`). */
export function seen(text: string): boolean {
  return SEEN.test(text);
}

/** For text people read (a message, a note): white space alone would reach them as nothing. */
export const notBlank = z.refine<string>(seen, BLANK);

/**
 * The `minLength: 1` of such a text, before `notBlank`: an empty one is refused in its words, and
 * once, as no check after it runs.
 */
export const notEmpty = z.minLength(1, { error: BLANK, abort: true });

/** Keeps the argument and result types of one tool while the toolset lists them together. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(tool: Tool<I, O>): Tool {
  return tool as unknown as Tool;
}

export interface ToolsetContext<V> {
  settings: V;
  http: HttpClient;
  log: Log;
  /** The config file waiter read, if any: where `unconfigured` says to set something. */
  configFile?: string;
  /**
   * Where one of the toolset's settings was given, as a message names it: its variable, or its
   * key and the config file (`eshop.wooUrl in /etc/waiter.json`); one given nowhere, its variable.
   */
  origin(setting: keyof V & string): string;
  /** One of its settings as a message asking to change it names it (Config's `named`). */
  named(setting: keyof V & string): string;
}

/**
 * The contract of every folder in tools/: one upstream system. Adding a system is adding a
 * folder that exports one Toolset and a line in src/toolsets.ts; its fake, tests and references
 * follow docs/development.md#adding-an-upstream-system. A toolset that needs more than
 * its settings, an HTTP client and a log (the event tools need the store) is made by a function
 * that is given it.
 */
export interface Toolset<S extends Settings = Settings> {
  /**
   * Also the prefix of its tools and its section in the config file. One lowercase word, no "_":
   * a tool's toolset is read from its name up to the first "_" (toolsetOf).
   */
  name: string;
  /**
   * One sentence for a model: what the toolset serves, not what its tools do, as a session may be
   * served some of them (a read-only token's). The instructions a client gets on connecting give it
   * beside the toolset's tools, all toolsets within 2,048 characters (test/budget.test.ts).
   */
  description: string;
  settings: S;
  /**
   * Whether the toolset serves the event store and is on once it opens (unset for one that needs
   * no store): an assistant's stdio server whose store another waiter upgrades gains its tools then.
   */
  comesWithStore?: boolean;
  /**
   * Runs once the settings are parsed, for what one setting cannot check alone: secrets they name
   * in the environment (a webhook source's), read through `secrets`, which records them for the
   * tokens' check, and settings checked against each other. Throws a ConfigError that names the
   * setting, as `origin` gives it (the variable, or the key and the file); `given` tells a setting
   * given anywhere from one left at its default.
   */
  resolve?(
    values: SettingValues<S>,
    secrets: Secrets,
    origin: (setting: keyof S & string) => string,
    given: (setting: keyof S & string) => boolean,
  ): SettingValues<S>;
  /** Why the toolset cannot work as configured (what to set), or undefined when it can. */
  unconfigured?(context: ToolsetContext<SettingValues<S>>): string | undefined;
  tools(context: ToolsetContext<SettingValues<S>>): Tool[];
  /**
   * Tries, once, what the settings cannot show until used (a login, a token, a chat), changing
   * nothing and sending nothing, when waiter serve or waiter listen starts with the toolset's tools
   * served: the log it is given gets a warning for each problem, naming the setting to check, and
   * an info line for each thing that passed. Runs in the background, within `call`'s deadline,
   * whose setting `call.deadlineSetting` names; `call.signal` aborts when waiter stops.
   */
  check?(context: ToolsetContext<SettingValues<S>>, call: Call): Promise<void>;
}

export function defineToolset<S extends Settings>(toolset: Toolset<S>): Toolset {
  return toolset as unknown as Toolset;
}
