import { setMaxListeners } from "node:events";
import { z } from "zod";
import type { Stopped } from "../app-types.js";
import {
  AdvisesTool,
  DeadlinePassed,
  LastingFailure,
  loggedWords,
  ToolError,
  UnconfirmedChange,
  UpstreamError,
} from "../errors.js";
import { untilAborted } from "../http/deadline.js";
import { passing } from "../http/upstream.js";
import type { Log } from "../log.js";
import { publishedAs } from "../settings.js";
import { cut } from "../shown.js";
import { clock, utcMinute } from "../time.js";
import { doneLine, type Notified, type Tool, type ToolCall } from "../toolset.js";
import { isPathArgument, isTemplate, type Step, written } from "./rules.js";
import { CutAtStop, Postponed, TakenOver, type Tries, Waiting } from "./tries.js";
import { kindOf, numberIn, type View, valueShown, whereMissing, worded } from "./view.js";

/** What StepCalls needs of the engine that runs the automations. */
export interface CallParts {
  /** The tools this server serves: an automation may call these and no other. */
  tools: readonly Tool[];
  log: Log;
  toolTimeoutMs: number;
  /** How long a step that fails for a passing reason (an upstream down, 429) is tried again. */
  retryForMs: number;
  /** How long a stop lets the calls under way have their answers before it cuts them. */
  drainMs: number;
  /**
   * The tool timeout's, the retry time's and the stop's drain time's settings as the operator set
   * them (WAITER_TOOL_TIMEOUT, or the key in their file), which the log and a step's failure name.
   */
  settings: { toolTimeout: string; retry: string; stop: string };
  /** Aborted when waiter stops: no call begins, and one the upstream refused is not tried again. */
  stopping: AbortSignal;
  /**
   * A check, made when a call begins, of whether this process still runs the automations without
   * a break since: asked once the call has its answer.
   */
  holding(): () => Promise<boolean>;
  /**
   * The same check by this process's clock alone, without asking the store, for each request a step
   * sends: one frozen past its lease wakes sending none, though its timer has not yet found the
   * lease another's.
   */
  holdingNow(): () => boolean;
}

/** Why a step's request was not sent: the lease lapsed while the step was under way. */
const LAPSED =
  "this waiter's lease on the automations ran out before the request was sent (the process was frozen, or its store slow to answer)";

/**
 * Whether a failure may pass by itself, so the step is tried again (the upstream's `passing`), not
 * one that lasts until someone mends it (a certificate refused). A tool that is not idempotent is
 * tried again only when the request was not carried out: refused for now (a 429, a mail server's
 * 4xx), or never sent, as no connection opened; any other failure of a write may have been.
 */
function tryAgain(err: unknown, idempotent: boolean): err is UpstreamError {
  if (err instanceof LastingFailure) return false;
  return err instanceof UpstreamError && (err.refused || (idempotent && passing(err)));
}

/**
 * A passing failure's message without the advice its sentences end with for a model ("try again",
 * "try again later", "try again in 30 s", "try again in a moment", "try again once it is online",
 * "try again tomorrow", "wait, then try again", "try again in 3600 s, when the lockout ends (…)"), or begin with ("Try again in 30 s; …", MET
 * Norway's), each target's of a notification sent to several: in an automation waiter tries again
 * itself, and says when, or that it no longer will.
 */
export function withoutRetryAdvice(message: string): string {
  return message
    .replace(
      /[;,:] (?:or )?(?:(?:wait, then )?try again(?: later| in \d+ s(?:, when the lockout ends(?: \([^()]*\))?)?| in a moment| once it is online| tomorrow)?|wait a minute before trying again)(, (?:or|and) |(?=\.?$|\. ))/g,
      (_, or: string | undefined) => (or ? "; " : ""),
    )
    .replace(
      /(^|\. )Try again(?: later| in \d+ s| in a moment)?(?:; (.)|(\. )|\.?$)/g,
      (_, start: string, next: string | undefined, more: string | undefined) =>
        next ? `${start}${next.toUpperCase()}` : more ? start : start.trimEnd(),
    );
}

/**
 * What a change that may have been made says while its step waits for the next try: not what to do
 * before trying again (read the current state), which ends its message for a model that would try
 * again itself, as waiter does. Only a tool safe to repeat tries such a change again.
 */
function whileWaiting(err: UpstreamError, message: string): string {
  // Cut as the whole message is, so an upstream's words it quotes read the same while the step waits
  // as in the failure the step may end with.
  return err instanceof UnconfirmedChange ? withoutRetryAdvice(err.failure) : message;
}

/**
 * What the person told of a run does about a change its step may have made: waiter does not make
 * it again, and they, who read no state with a tool, look where they would make it by hand.
 */
const CHECK_BY_HAND = "Check whether it was made before doing it by hand.";

/**
 * A step's failure told to its automation's onFailure in other words (`told`) than a model reads
 * in the run (automations_runs): the advice to read the current state before trying again, which
 * a model follows with a tool, is for the person what to check before doing it by hand. The log
 * says it as `logged`, as the log may say it: without the payload's values it names, which the
 * person told and the run keep.
 */
export class StepFailure extends ToolError {
  override name = "StepFailure";
  constructor(
    message: string,
    readonly told: string,
    override readonly logged = told,
  ) {
    super(message);
  }
}

/** Milliseconds as a log or a message says them: 300 ms, 2 s. */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.ceil(ms / 1000)} s`;
}

/**
 * An upstream too slow for the call's deadline, said as a step's failure: the deadline named with
 * its setting (`deadline`), which a person raises for a slow shop, in place of a model's advice to
 * ask for less at once, which a step's configured arguments cannot follow. A change it did not
 * confirm in time, or a message, names it as it fails (ToolCall's deadlineSetting); a read may
 * share another caller's request, and be told with that caller's words.
 */
function withDeadlineNamed(err: unknown, deadline: string): unknown {
  if (!(err instanceof DeadlinePassed)) return err;
  // No status nor Retry-After: nothing answered in time.
  return new UpstreamError(`${err.failure} (${deadline}).`);
}

/**
 * The calls automations make to the tools served: arguments checked as the tool takes them, a
 * failure that may pass tried again for the retry time, and the calls under way, which a stop lets
 * have their answers for the drain time before it cuts them.
 */
export class StepCalls {
  readonly #served: Map<string, Tool>;
  // A step under way when the stop began is cut only after the drain time: cut at once, one whose
  // request had gone out would be reported as may or may not have happened, its answer on its way.
  readonly #cutting = new AbortController();
  /** The tool calls under way, whose answers a stop waits for until it cuts them. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Waits double from this one, to #maxDelayMs: at most 2 s, so a short retry time still sees a few tries. */
  readonly firstDelayMs: number;
  /**
   * The longest wait between a step's tries: 5 minutes, or a 24th of the retry time when that is
   * longer. Doubled without end, a retry time of hours would leave hours between tries, a shop back
   * meanwhile waiting for the next, and give up long before the retry time ends; every 5 minutes for
   * a day, each waiting run's tries at a shop that hangs, the tool timeout each, one after another,
   * would leave the automations no time for new events.
   */
  readonly #maxDelayMs: number;
  /** The most characters (code points) notify_send takes, to which a notification's text is cut. */
  readonly maxText: number;
  /** The tool timeout's setting and value, as a call too slow for it names them: `WAITER_TOOL_TIMEOUT, 20 s`. */
  readonly deadlineSetting: string;

  constructor(private readonly parts: CallParts) {
    this.#served = new Map(parts.tools.map((tool) => [tool.name, tool]));
    this.firstDelayMs = Math.min(2000, parts.retryForMs / 20);
    this.#maxDelayMs = Math.max(5 * 60_000, parts.retryForMs / 24);
    this.deadlineSetting = `${parts.settings.toolTimeout}, ${duration(parts.toolTimeoutMs)}`;
    this.maxText =
      (this.#served.get("notify_send")?.input.text as z.ZodString | undefined)?.maxLength ?? Number.POSITIVE_INFINITY;
    // Every call under way listens to it, as to the stop's signal.
    setMaxListeners(0, this.#cutting.signal);
  }

  tool(name: string): Tool | undefined {
    return this.#served.get(name);
  }

  /** Whether notify_send sends to a channel of that name: one a run recorded may have left the configuration since. */
  hasChannel(name: string): boolean {
    return (this.#served.get("notify_send")?.input.channel as z.ZodType | undefined)?.safeParse(name).success === true;
  }

  /**
   * Arguments as the tool takes them, or the ToolError that says which one it refuses, and, for
   * one a step's path or template filled (`from`), that and what it gave: the payload is what to
   * look at. That is a StepFailure whose log line says what kind of value it gave, not the value.
   */
  checked(name: string, args: Record<string, unknown>, from?: Step, view?: View): Record<string, unknown> {
    const tool = this.#served.get(name) as Tool;
    const { input } = tool;
    const parsed = z.object(input).safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const arg = String(issue?.path[0] ?? "");
      const given = from && written(from)[arg];
      // A number a sender writes as text (Stripe's metadata holds only strings) is read by
      // to_number, and one it writes as a number where text is taken (GoPay's payment id) by to_string.
      const value = args[arg];
      const schema = input[arg] as z.ZodType | undefined;
      const takes = (converted: unknown) => schema?.safeParse(converted).success;
      const number = typeof value === "string" ? numberIn(value) : undefined;
      // Said as the argument reads a number, where it reads text of its own too (an order's id, not its number).
      const asNumber = (schema && number !== undefined && publishedAs.get(schema)?.number(number)) || "as a number";
      const conversion = !isPathArgument(given)
        ? ""
        : number !== undefined && takes(number)
          ? `; to_number(${given.path}) takes it ${asNumber}`
          : typeof value === "number" && takes(String(value))
            ? `; to_string(${given.path}) takes it as text`
            : "";
      const missing = isPathArgument(given) && value === null && view ? whereMissing(given.path, view) : worded``;
      const filledBy = isPathArgument(given)
        ? `the path ${given.path}`
        : isTemplate(given)
          ? `the template ${cut(JSON.stringify(given), 100)}`
          : undefined;
      // The payload's text, told to people: JSON leaves line separators, NEL and invisible
      // characters as they are. The log says what kind of value it was.
      const gave = filledBy
        ? worded` (${filledBy} gave ${valueShown(value, "nothing")} on this event's payload${conversion}${missing})`
        : worded``;
      // A value of the wrong kind from a path is mended in the path, which `gave` names: not as the
      // tool's own message tells a model to send it, which the person told of the run cannot do. A
      // template's text for an argument that takes text of its own (an order's "#{{…}}") is told
      // what that takes: told a number is expected, its author would give one, another order's id.
      const ownText = isTemplate(given) && schema !== undefined && publishedAs.has(schema);
      const own =
        filledBy && !ownText && issue?.code === "invalid_type"
          ? issue.expected === "int"
            ? "expected a whole number"
            : `expected ${issue.expected}, received ${z.core.util.parsedType(value)}`
          : undefined;
      // A tool's words may name the value, quoted or not ("Kč is written for CZK"): the log, which
      // names no payload's values, says waiter's, those the tool keeps apart from it, or zod's own.
      const { words } = (issue ?? {}) as { words?: string };
      const zods = issue && z.config().localeError?.({ ...issue, input: value } as z.core.$ZodRawIssue);
      const said = {
        told: own ?? issue?.message ?? "",
        logged: own ?? (words ? `${words} ${kindOf(value)}` : typeof zods === "string" ? zods : "Invalid input"),
      };
      const { told, logged } = worded`invalid arguments for ${name}: ${issue?.path.join(".") ?? ""}: ${said}${gave}`;
      if (!filledBy) throw new ToolError(told);
      throw new StepFailure(told, told, logged);
    }
    // Refused by the tool before any call: a dry run, which calls nothing, fails as the real run would.
    const refused = tool.refuses?.(parsed.data);
    if (refused) throw new ToolError(refused);
    return parsed.data;
  }

  /**
   * Calls a tool once with `input`, its arguments as `checked` gave them: checked again, an
   * argument the tool reads into another shape (eshop_orders_list's dates) would be refused. When
   * its failure may pass, `mark` records that the call waits for its next
   * try, why and until when, and whether it did not happen (`refused`: a 429, no connection), so
   * that a call waiting out a refusal is made later, even one that must not be made twice; and a
   * Waiting says how long to wait, and where the call is in its `tries`: a notification's, which
   * targets it reached, so that its next try goes to the others only. `who` names the call in the
   * log's retry lines: the automation, the run and the event; `hidden` gives the words those lines
   * and a StepFailure's `logged` quote (an upstream's, which may name an order the payload gave) as
   * the log may say them, keeping the status the upstream answered where waiter's words quote it;
   * `quoted`, the event's texts a notification quotes, and `authored`, what the automation's author
   * wrote, whose @names still mention in a text quoted whole (ToolCall's). Resolves to the rendered
   * result, and whether a person must look into it (needsPerson).
   */
  async call(
    name: string,
    input: Record<string, unknown>,
    who: string,
    mark: (refused: boolean, tries: Tries, waiting?: { why: string; until: number }) => Promise<void>,
    { started, attempt, notified, redone }: Tries = { started: clock.now(), attempt: 0 },
    hidden: (text: string, status?: number) => string = (text) => text,
    quoted: readonly string[] = [],
    authored: readonly string[] = [],
  ): Promise<{ said: string; needsPerson: boolean }> {
    const { log, stopping, retryForMs } = this.parts;
    const tool = this.#served.get(name) as Tool;
    const heldNow = this.parts.holdingNow();
    const call: ToolCall = {
      signal: this.#cutting.signal,
      // A wait the tool takes itself (Telegram's 429) holds no stop: nothing was sent.
      stopping,
      deadline: clock.now() + this.parts.toolTimeoutMs,
      deadlineSetting: this.deadlineSetting,
      mayNotSend: () => (heldNow() ? undefined : LAPSED),
      log,
      caller: who,
      progress: async () => {},
      // No model reads what the call answers, but the person its run's failure is told to, who
      // calls no tool: a text that would send a model to one says where a person goes instead.
      serves: () => false,
      notified: { sent: [...(notified?.sent ?? [])], failed: [...(notified?.failed ?? [])] },
      quoted,
      authored,
    };
    /** Where this try leaves the step: a notification's targets reached are kept with it. */
    const reached = (next: number): Tries => {
      const { sent, failed } = call.notified as Notified;
      return {
        attempt: next,
        started,
        ...(sent.length > 0 || failed.length > 0 ? { notified: { sent, failed } } : {}),
        ...(redone ? { redone } : {}),
      };
    };
    // A stop that came as the step was recorded as started: the call is not made, nor taken at the
    // next start for one that may have been.
    if (stopping.aborted) {
      await mark(true, reached(attempt));
      log.info(`${who}: waiter is stopping, so its call to ${name} is left to the next start`);
      throw new Postponed("waiter is stopping");
    }
    /** A process whose lease another took meanwhile records nothing more of the run: it is the other's now. */
    const holds = this.parts.holding();
    const stillHeld = async (outcome: () => string) => {
      if (await holds()) return;
      log.warning(
        `${who}: ${name} ${outcome()} after another waiter took the automations over; the one that holds them now goes on with the run, and this one records nothing more of it`,
      );
      throw new TakenOver("another waiter holds the automations now");
    };
    let result: Awaited<ReturnType<Tool["run"]>>;
    try {
      const answer = tool.run(input, call);
      const settled = () => this.#inFlight.delete(answer);
      this.#inFlight.add(answer);
      answer.then(settled, settled);
      result = await answer;
    } catch (caught) {
      const named = withDeadlineNamed(caught, this.deadlineSetting);
      // The status the upstream answered, which the log keeps where waiter's words quote it.
      const status = named instanceof UpstreamError || named instanceof AdvisesTool ? named.status : undefined;
      const err = named instanceof AdvisesTool ? new ToolError(named.toCall(call.serves)) : named;
      const words = err instanceof Error ? err.message : String(err);
      await stillHeld(() => `failed (${hidden(loggedWords(err), status)})`);
      const refused = err instanceof UpstreamError && err.refused;
      const asked = err instanceof UpstreamError && err.retryAfter ? err.retryAfter * 1000 : undefined;
      // A wait asked for past the call's deadline (said in whole seconds, rounded up) and the retry time
      // fails the step, a stop or not, as the next start would wait it out; one within the deadline the
      // call would have waited out itself.
      const askedEnd = clock.now() + (asked ?? 0);
      const pastRetry = asked !== undefined && askedEnd > call.deadline + 1000 && askedEnd - started > retryForMs;
      if (this.#cutting.signal.aborted || (stopping.aborted && refused && !pastRetry)) {
        // A call the upstream had refused, stopped while it waited for its next try, did not happen;
        // the next start waits out what is left of the wait it asked for (Telegram's retry_after).
        if (refused) {
          const until = clock.now() + (asked ?? 0);
          const what = withoutRetryAdvice(err.message).replace(/([^.!?])$/, "$1.");
          const why = `${whileWaiting(err, what)} Trying again at ${new Date(until).toISOString()}.`;
          await mark(true, reached(attempt), asked ? { why, until } : undefined);
          if (!this.#cutting.signal.aborted) {
            const due = asked ? `, due in ${duration(asked)},` : "";
            log.info(
              `${who}: ${name} failed (${hidden(whileWaiting(err, what), status)}); waiter is stopping, so its next try${due} is left to the next start`,
            );
          }
        }
        if (!this.#cutting.signal.aborted) throw new Postponed("waiter is stopping");
        throw new CutAtStop(
          `${name} had no answer within the stop's drain time (${this.parts.settings.stop}, ${duration(this.parts.drainMs)}) and was cut`,
        );
      }
      const wait = asked ?? Math.min(this.firstDelayMs * 2 ** attempt, this.#maxDelayMs);
      if (!tryAgain(err, tool.annotations.idempotentHint)) {
        // The log says a failure in the words for whoever runs waiter, not those asking a model to tell them;
        // the person told of it, who cannot try the step again, is not asked to (the event store busy).
        if (!(err instanceof UnconfirmedChange)) {
          const told = withoutRetryAdvice(words).replace(/([^.!?])$/, "$1.");
          throw new StepFailure(words, told, hidden(loggedWords(err), status));
        }
        throw new StepFailure(
          err.message,
          `${err.failure} ${CHECK_BY_HAND}`,
          `${hidden(err.failure, status)} ${CHECK_BY_HAND}`,
        );
      }
      const what = withoutRetryAdvice(err.message).replace(/([^.!?])$/, "$1.");
      const until = clock.now() + wait;
      if (until - started > retryForMs) {
        // The person who finishes it by hand needs the upstream's own time, which the advice held,
        // as a notice says a time: to the minute, the one it ends in or after, and in UTC.
        const next = asked
          ? `it asked not to be tried again before ${utcMinute(Math.ceil(until / 60_000) * 60_000)}, after the retry time`
          : "a next try would come after the retry time";
        const tried = `waiter tried it ${attempt === 0 ? "once" : `${attempt + 1} times`}; ${next} (${this.parts.settings.retry}, ${duration(retryForMs)}), so it is not tried again.`;
        // The log hides the payload's values in the upstream's words, not in waiter's count of its tries.
        if (!(err instanceof UnconfirmedChange))
          throw new StepFailure(`${what} ${tried}`, `${what} ${tried}`, `${hidden(what, status)} ${tried}`);
        const failure = whileWaiting(err, what);
        throw new StepFailure(
          `${what} ${tried}`,
          `${failure} ${tried} ${CHECK_BY_HAND}`,
          `${hidden(failure, status)} ${tried} ${CHECK_BY_HAND}`,
        );
      }
      const nextTry = reached(attempt + 1);
      const failure = whileWaiting(err, what);
      await mark(err.refused, nextTry, { why: `${failure} Trying again at ${new Date(until).toISOString()}.`, until });
      // A stop waits out no next try: the run is left as recorded, for the next start.
      const then = stopping.aborted
        ? `waiter is stopping, so its next try, due in ${duration(wait)}, is left to the next start`
        : `trying again in ${duration(wait)}`;
      log.info(`${who}: ${name} failed (${hidden(failure, status)}); ${then}`);
      throw new Waiting(wait, nextTry);
    }
    const said = tool.render(result, input, call);
    await stillHeld(() => `was done (${doneLine(said)})`);
    return { said, needsPerson: tool.needsPerson?.(result) ?? false };
  }

  /** Lets the calls under way have their answers for the stop's drain time, then cuts them. */
  async finish(): Promise<Stopped> {
    const cutting = setTimeout(() => this.#cutting.abort(), this.parts.drainMs);
    await untilAborted(Promise.allSettled(this.#inFlight), this.#cutting.signal).catch(() => {});
    clearTimeout(cutting);
    return { cut: this.#cutting.signal.aborted };
  }
}
