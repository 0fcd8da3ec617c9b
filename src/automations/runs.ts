import type { EventStore, RunRecord, StepStatus, StoredEvent } from "../events/store.js";
import type { Log } from "../log.js";
import { codePoints, cut, cutCodePoints, oneLine, sentence } from "../shown.js";
import { clock } from "../time.js";
import { doneLine } from "../toolset.js";
import { type StepCalls, StepFailure } from "./calls.js";
import type { Lease } from "./lease.js";
import type { FailureNotices } from "./notices.js";
import { type Automation, type Step, toolOf, written } from "./rules.js";
import { CutAtStop, Postponed, type Tries, Waiting } from "./tries.js";
import {
  argumentsFor,
  argumentsShown,
  foundNothing,
  inserted,
  insertedNothing,
  payloadHidden,
  payloadValues,
  type View,
  viewOf,
  type Worded,
  whyNotTaken,
  worded,
} from "./view.js";

/** What a failure told to an onFailure channel begins with. */
const REPORTED = "waiter: ";

/**
 * The steps after `failedAt` (from 0), which a failed run did not run, as a sentence that begins
 * with a space: " Steps 3-4 (notify, ack) were not run; the event is not acknowledged.", or "".
 * An event `acked` otherwise (an agent, another automation on it) is said to be; of one retention
 * removed (`acked` undefined) nothing is said, as it is neither. One a step of the run done before
 * `failedAt` acknowledged is said to be too: a person finishing the run by hand will not find it among the
 * events not acknowledged, where an agent looks.
 */
function notRun(automation: Automation, failedAt: number, acked: boolean | undefined): string {
  const ackedBy = automation.do.findIndex((step, i) => i < failedAt && toolOf(step) === "events_ack");
  return `${stepsLeft(automation, failedAt, acked)}${ownAck(ackedBy, acked, automation.dryRun)}`;
}

/** The sentence that says step `ackedBy` (from 0; -1, none) of a run acknowledged its event, as notRun says it, or "". */
function ownAck(ackedBy: number, acked: boolean | undefined, dryRun: boolean): string {
  return acked && ackedBy !== -1 && !dryRun
    ? ` Step ${ackedBy + 1} acknowledged the event, so it no longer waits among those not acknowledged.`
    : "";
}

/** A step's tool as a sentence names its step, however it was written: a notification's "notify", an acknowledgement's "ack". */
const stepNamed = (tool: string) => (tool === "notify_send" ? "notify" : tool === "events_ack" ? "ack" : tool);

/** `steps`, the first of them step `first` (from 0), named for a sentence: "Steps 2-3 (notify, ack) were". */
function stepsNamed(steps: readonly Step[], first: number): string {
  return namesSaid(
    steps.map((step) => stepNamed(toolOf(step))),
    first,
  );
}

/** Steps by their names, the first of them step `first` (from 0), for a sentence: "Steps 2-3 (notify, ack) were". */
function namesSaid(names: readonly string[], first: number): string {
  return names.length === 1
    ? `Step ${first + 1} (${names[0]}) was`
    : `Steps ${first + 1}-${first + names.length} (${names.join(", ")}) were`;
}

/** The tool each step `run` recorded called, in its order. */
const toolsRecorded = (run: RunRecord) => run.steps.map((step) => (JSON.parse(step.detail) as { tool: string }).tool);

/**
 * Whether the steps `run` recorded are still at their places in `automation`, each the same tool's:
 * else the automation's steps are not those the run ran, before the step it reached nor after it.
 */
function atTheirPlaces(automation: Automation, run: RunRecord): boolean {
  return toolsRecorded(run).every((tool, i) => {
    const step = automation.do[i];
    return step !== undefined && toolOf(step) === tool;
  });
}

/** The steps after `failedAt` that a failed run did not run, as notRun says them, or "". */
function stepsLeft(automation: Automation, failedAt: number, acked: boolean | undefined): string {
  const left = automation.do.slice(failedAt + 1);
  if (left.length === 0) return "";
  const which = stepsNamed(left, failedAt + 1);
  if (automation.dryRun) return ` ${which} not checked.`;
  const ack =
    acked === undefined
      ? ""
      : acked
        ? "; the event is acknowledged all the same (by an agent or another automation)"
        : "; the event is not acknowledged";
  return ` ${which} not run${left.some((step) => toolOf(step) === "events_ack") ? ack : ""}.`;
}

/**
 * What a run left, for a run that cannot go on, so that the notice is all a person has to finish
 * it by hand: each step recorded, with its arguments (the order, the payment), as done, not done
 * (one waiting for its next try, or refused) or under way when waiter stopped, and the steps of
 * `automation` after it not run, and whether its event is `acked` (undefined once retention
 * removed it). Without `automation` (its steps were edited, or it is gone), what
 * the run would have gone on with is not known. A sentence each, each beginning with a space; the
 * arguments' values left out for the log (argumentsShown).
 */
function whatRunLeft(run: RunRecord, automation?: Automation, acked?: boolean): Worded {
  let said = worded``;
  let reached = -1;
  let ackedBy = -1;
  for (const [i, step] of run.steps.entries()) {
    const { tool, args, waiting } = JSON.parse(step.detail) as {
      tool: string;
      args?: Record<string, unknown>;
      waiting?: string;
    };
    const which = worded`Step ${i + 1} (${tool}${argumentsShown(args)})`;
    if (step.status === "done" || step.status === "would") {
      said = worded`${said} ${which} was ${step.status === "would" ? "checked" : "done"}.`;
      if (ackedBy === -1 && step.status === "done" && tool === "events_ack") ackedBy = i;
      reached = i;
      continue;
    }
    const underWay = (step.status === "started" && waiting === undefined) || step.status === "interrupted";
    said = worded`${said} ${which} ${underWay ? "was under way when waiter stopped, and may or may not have happened" : "was not done"}.`;
    reached = i;
    break;
  }
  // Only an ack step it recorded as done acknowledged the event: not the one it reached, under way or refused.
  const rest = automation
    ? `${stepsLeft(automation, reached, acked)}${ownAck(ackedBy, acked, automation.dryRun)}`
    : ` No other step of it was ${run.dryRun ? "checked" : "run"}.${ownAck(ackedBy, acked, run.dryRun)}`;
  return worded`${said}${rest}`;
}

/**
 * Characters of a step's answer its run keeps, as many as a notification holds: a list of a
 * hundred orders or events would make each run's row tens of kilobytes, kept as long as its event.
 */
const MAX_ANSWER_KEPT = 4_000;

/** A step's answer as its run keeps it: a long one cut, saying how long it was. */
function kept(said: string): string {
  if (said.length <= MAX_ANSWER_KEPT) return said;
  return `${cut(said, MAX_ANSWER_KEPT)}\n(The answer had ${said.length} characters; its first ${MAX_ANSWER_KEPT.toLocaleString("en")} are kept.)`;
}

/**
 * The delivery `event` is, as a person can look it up with its sender: its own id, and its source,
 * for a notice's headline; its type and waiter's event id follow in `eventOf`.
 */
function deliveryOf(event: StoredEvent): string {
  // The delivery id and the type may be a sender's headers (GitHub, WooCommerce): quoted as what the event says.
  return `the delivery ${inserted(event.dedupeId, true)} from ${event.source}`;
}

/** The sentence, after a notice's headline, that names the delivery's waiter's event and its type. */
function eventOf(event: StoredEvent): string {
  return `The delivery is waiter's event ${event.id} (${inserted(event.type, true)}).`;
}

/** Why a step that was under way when a run stopped, and cannot be repeated safely, ended its run. */
const UNDER_WAY =
  "it was under way when waiter stopped or its store failed, and may or may not have happened, so it is not done again";

/**
 * What a step under way when its run stopped, done again as its tool is safe to repeat, says after
 * its answer: one that found the change made (an order already paid) most likely found its own.
 */
const DONE_AGAIN =
  "The step was under way when waiter stopped or its store failed, and was done again, as it is safe to repeat: what it found done may be that earlier try's.";

/** UNDER_WAY as its run's onFailure tells it, to the person who finishes the run by hand. */
const UNDER_WAY_TOLD = `${UNDER_WAY}. Check whether it happened before doing it by hand.`;

/** Arguments as JSON in the order of their names, which a config file may change without changing them. */
function inOrder(args: Record<string, unknown>): string {
  return JSON.stringify(Object.entries(args).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The schemes of senders that write their text as HTML (WooCommerce's names): a notification shows it as text. */
const WRITES_HTML = new Set(["woocommerce"]);

/** What the runs need of the engine that drives them under the lease. */
export interface RunParts {
  automations: readonly Automation[];
  store: EventStore;
  log: Log;
  calls: StepCalls;
  notices: FailureNotices;
  /** A check, made when a run goes on, of whether this process still runs the automations without a break since: asked before each step. */
  holding(): () => Promise<boolean>;
  /** Renewed before a run whose wait is over tries its step again: another waiter may have done it meanwhile. */
  lease: Lease;
  /** A run's wait for its next try is over: it is to be taken up (resume). */
  due(): void;
}

/**
 * The runs of automations: each step of a run done, recorded and, when it fails, told to the
 * automation's onFailure; a run a stopped process left, or one whose wait is over, taken up again.
 */
export function automationRuns(parts: RunParts) {
  const { automations, store, log, calls, notices } = parts;
  const { maxText } = calls;
  /** The insertions that found nothing the log has warned of, each once (by automation, step, argument and name). */
  const warnedNothing = new Set<string>();

  /**
   * Marks the run failed at step `step` (from 0), which called `tool`, for `reason`, says so in the
   * log, and tells the automation's onFailure channel, for a person who finishes by hand what the
   * run left: the sender's own delivery id, which they can look up with the sender, the steps
   * done before it, and the steps not run. The reason is cut so that the message, at the most
   * notify_send takes, keeps them;
   * `told`, where given, is the reason in a person's words, for the message, and `logged`, where
   * given, the log's, without the payload's values (StepFailure); else the log says `told`.
   * `recorded`, for a run taken up at start, is the run as the store has it, with the steps it ran.
   */
  async function failed(
    automation: Automation,
    event: StoredEvent,
    run: number,
    step: number,
    { tool, args }: { tool: string; args?: Record<string, unknown> },
    reason: string,
    { told = reason, logged = told, recorded }: { told?: string; logged?: string; recorded?: RunRecord } = {},
  ): Promise<void> {
    // A run taken up after its automation's steps were moved (reordered, some taken out) is told by
    // the steps it recorded: the automation's now, at their places, are not those it ran.
    const moved = recorded !== undefined && !atTheirPlaces(automation, recorded);
    // The steps before it were done: a person finishing the run by hand must not do them again (mark an order paid twice).
    const doneTools = moved ? toolsRecorded(recorded).slice(0, step) : [];
    const before = moved ? namesSaid(doneTools.map(stepNamed), 0) : stepsNamed(automation.do.slice(0, step), 0);
    const done = step === 0 ? "" : ` ${before} ${automation.dryRun ? "checked" : "done"}.`;
    const head = worded`${automation.dryRun ? "dry run of " : ""}automation ${automation.name} failed on ${deliveryOf(event)}.\n${eventOf(event)}${done} Step ${step + 1} (${tool}${argumentsShown(args)}) failed: `;
    // Another automation on the event, or an agent, may have acknowledged it since the run began,
    // or retention removed it.
    const stored = await store.get(event.id);
    const acked = stored && stored.ackedAt !== null;
    const steps = moved
      ? ` No other step of it was ${automation.dryRun ? "checked" : "run"}.${ownAck(doneTools.indexOf("events_ack"), acked, automation.dryRun)}`
      : notRun(automation, step, acked);
    // A reason cut to fit ends with its "…": the full stop is cut with it.
    const room = maxText - codePoints(`${REPORTED}${head.told}${steps}`);
    const why = { told: cutCodePoints(sentence(told), Math.max(room, 1)), logged: sentence(logged) };
    await fail(automation, run, `step ${step + 1} (${tool}): ${reason}`, worded`${head}${why}${steps}`);
  }

  /**
   * Marks the run failed with `error`, says `line` in the log, and tells it to the automation's
   * onFailure channel: the notice is owed in the store from the same write, so a stop neither
   * loses it nor, once it may have reached the channel, repeats it. `line` is a headline (which
   * automation failed on which delivery), a line break, and the details: an email's subject shows
   * only the headline. The log says it on one line, as `line` is logged.
   */
  async function fail(
    { name, onFailure }: Pick<Automation, "name" | "onFailure">,
    run: number,
    error: string,
    line: Worded,
  ): Promise<void> {
    const channel = onFailure?.notify;
    const notice = channel && cutCodePoints(`${REPORTED}${line.told}`, maxText);
    const failedAt = clock.now();
    await store.runs.finish(run, "failed", failedAt, error, notice);
    log.warning(line.logged.replace("\n", " "));
    if (channel && notice) notices.tell(name, channel, run, notice, failedAt);
  }

  /**
   * What steps came to that the store could not record (a full disk), by run: what waiter knows a
   * step did is recorded when the run is taken up again, once the store answers, rather than the
   * step taken for one that was under way, which may or may not have happened.
   */
  const unrecorded = new Map<number, { step: number; status: StepStatus; detail: string }>();

  /** Records what step `step` of `run` came to, or keeps it in `unrecorded` when the store fails. */
  async function record(run: number, step: number, status: StepStatus, detail: string): Promise<void> {
    try {
      await store.runs.step(run, step, status, detail, clock.now());
    } catch (err) {
      unrecorded.set(run, { step, status, detail });
      throw err;
    }
    unrecorded.delete(run);
  }

  /**
   * Forgets what this process kept of the runs as it stops running them (`before`: the stop, another
   * waiter taking the automations over): what runs wait for, which the store has, and what it
   * learnt and the store could not record, said in the log with what is then thought of it.
   */
  function letGo(before: string, then: { step: string; notice: string }): void {
    waiting.clear();
    for (const [run, { step, status, detail }] of unrecorded) {
      const { error } = JSON.parse(detail) as { error?: string };
      log.warning(
        `automation run ${run}: step ${step + 1} came to "${status}"${error ? ` (${oneLine(error, 300)})` : ""}, which the event store could not record before ${before}: ${then.step}`,
      );
    }
    unrecorded.clear();
    notices.sayToldUnrecorded(before, then.notice);
  }

  /**
   * Runs the steps of `run` from `from`; `tries`, where that step is in its tries when the run waited
   * for its next one; `again`, whether that step was under way when the run stopped. A step that
   * must wait leaves its run waiting (setAside) and returns.
   */
  async function execute(
    automation: Automation,
    event: StoredEvent,
    run: number,
    view: View,
    from = 0,
    tries?: Tries,
    again = false,
  ): Promise<void> {
    const holds = parts.holding();
    for (let i = from; i < automation.do.length; i++) {
      const step = automation.do[i] as Step;
      const tool = toolOf(step);
      let filled: Record<string, unknown> | undefined;
      let input: Record<string, unknown>;
      // Insertions that found nothing in this event are said with the step, whatever it comes to: a
      // misspelt name leaves only a gap in the text, or an empty argument the tool refuses.
      const found = foundNothing(step, view);
      const nothing = insertedNothing(found, !automation.dryRun);
      /** A failure's reason, with the insertions that found nothing, which may be why. */
      const withNothing = (reason: string) => (nothing ? `${sentence(reason)} ${nothing}` : reason);
      /** Words for the log: the payload's values the step took as "…", as the tool may name them (an order's number). */
      const hidden = (text: string, status?: number) => payloadHidden(text, payloadValues(step, view), status);
      /**
       * A failure as its run keeps it, as its onFailure is told it, and as the log says it: a
       * step's call's as its StepFailure words it for the log, any other's (the tool's refusal of
       * the arguments) hidden.
       */
      const reasons = (err: unknown) => {
        const words = err instanceof Error ? err.message : String(err);
        const message = withNothing(words);
        if (!(err instanceof StepFailure)) return { message, told: message, logged: withNothing(hidden(words)) };
        return { message, told: withNothing(err.told), logged: withNothing(err.logged) };
      };
      // The step as configured goes with each record of it: a run taken up after a restart goes on
      // only with it, and its failure's notice mentions only whom the author named in it.
      const configured = written(step);
      /** The event's texts a notification quotes, which a channel keeps from mentioning anyone. */
      const quotes: string[] = [];
      try {
        filled = argumentsFor(step, view, maxText, WRITES_HTML.has(event.scheme), quotes);
        // Checked before the step starts, a dry run's too: it would fail the same way for real.
        input = calls.checked(tool, filled, step, view);
      } catch (err) {
        // A path or template that fails on this event's payload (a function given the wrong
        // type), or arguments the tool refuses (a template where it takes a number).
        const { message, told, logged } = reasons(err);
        const detail = { tool, ...(filled ? { args: filled } : {}), written: configured, error: message };
        await store.runs.step(run, i, "failed", JSON.stringify(detail), clock.now());
        await failed(automation, event, run, i, { tool, args: filled }, message, { told, logged });
        return;
      }
      // Recorded as filled in, with the defaults the tool adds: one it reads into another shape (a
      // date into its instant) reads in the run and in a failure notice as the step gave it.
      const args = { ...input, ...filled };
      if (automation.dryRun) {
        await store.runs.step(
          run,
          i,
          "would",
          JSON.stringify({ tool, args, written: configured, ...(nothing ? { nothing } : {}) }),
          clock.now(),
        );
        if (nothing)
          log.info(`automation ${automation.name}, dry run ${run} (event ${event.id}), step ${i + 1}: ${nothing}`);
        continue;
      }
      if (!(await holds())) throw new Postponed("another waiter holds the automations now");
      // Where the step is in its tries is recorded with it, so that the next start goes on from there.
      const { attempt, started, notified } = (i === from ? tries : undefined) ?? { attempt: 0, started: clock.now() };
      // Kept through the step's waits for its next tries, which its answer is to say too.
      const redone = again && i === from;
      const current: Tries = { attempt, started, ...(notified ? { notified } : {}), ...(redone ? { redone } : {}) };
      const who = `automation ${automation.name}, run ${run} (event ${event.id}), step ${i + 1}`;
      await store.runs.step(
        run,
        i,
        "started",
        JSON.stringify({ tool, args, written: configured, tries: current }),
        clock.now(),
      );
      let said: string;
      let needsPerson: boolean;
      try {
        // A store that cannot record the step's state postpones the run rather than failing it.
        // Waiting for its next try, the step says why: automations_runs shows it.
        const mark = (refused: boolean, at: Tries, waiting?: { why: string; until: number }) =>
          record(
            run,
            i,
            refused ? "refused" : "started",
            JSON.stringify({
              tool,
              args,
              written: configured,
              ...(waiting ? { waiting: waiting.why, until: waiting.until } : {}),
              tries: at,
            }),
          ).catch((err: unknown) => {
            throw new Postponed(`step ${i + 1} could not be recorded: ${err instanceof Error ? err.message : err}`);
          });
        ({ said, needsPerson } = await calls.call(tool, input, who, mark, current, hidden, quotes));
      } catch (err) {
        // Stopping: the step stays started, and the next start resumes or reports it.
        if (err instanceof CutAtStop) log.notice(`${who}: ${err.cut}; the next start takes its run up`);
        if (err instanceof Postponed) throw err;
        if (err instanceof Waiting) {
          setAside(run, err);
          return;
        }
        const { message, told, logged } = reasons(err);
        await record(run, i, "failed", JSON.stringify({ tool, args, written: configured, error: message }));
        await failed(automation, event, run, i, { tool, args }, message, { told, logged });
        return;
      }
      if (needsPerson) {
        // It happened, but what it found (a second payment) is for a person, before the steps after it.
        await record(run, i, "failed", JSON.stringify({ tool, args, written: configured, error: withNothing(said) }));
        const told = withNothing(said);
        await failed(automation, event, run, i, { tool, args }, told, { logged: withNothing(hidden(said)) });
        return;
      }
      // What automations change, as what agents change: the operator's record of who did it, which
      // a store that cannot record the step (a full disk) does not hold back.
      const changes = !calls.tool(tool)?.annotations.readOnlyHint;
      // A read done again found nothing done, an earlier try's or another's.
      const doneAgain = redone && changes;
      if (changes) {
        log.info(`${tool} done for ${who}: ${doneLine(said)}${doneAgain ? ` ${DONE_AGAIN}` : ""}`);
      }
      const outcome = doneAgain ? `${kept(said)}\n${DONE_AGAIN}` : kept(said);
      await record(
        run,
        i,
        "done",
        JSON.stringify({ tool, args, written: configured, said: outcome, ...(nothing ? { nothing } : {}) }),
      );
      // Done with a gap where a value was to be (a message that reads "Order  is paid."): the operator,
      // who reads no run, hears why, once for each insertion, as a field a sender often leaves null
      // (Stripe's description) would be said at every event.
      const key = ({ arg, name }: { arg: string; name: string }) => JSON.stringify([automation.name, i, arg, name]);
      const unsaid = found.filter((one) => !warnedNothing.has(key(one)));
      for (const one of unsaid) warnedNothing.add(key(one));
      if (unsaid.length > 0) {
        log.warning(
          `${who}: ${insertedNothing(unsaid, true)} Said once for each insertion until waiter restarts; automations_runs shows it in each run.`,
        );
      }
    }
    await store.runs.finish(run, "done", clock.now());
    // A dry run's arguments hold the payload's text (a customer's name, an email): the log says where they are.
    const shows = `: automations_runs with event_id "${event.id}" shows what each step would have done`;
    log.info(
      `automation ${automation.name} ${automation.dryRun ? "would have run" : "ran"} on event ${event.id}${automation.dryRun ? shows : ""}`,
    );
  }

  /**
   * Runs whose step waits for its next try, by id: where the step is in its tries, and whether the
   * wait is over. The run is left in the store as it is while the automations go on with later
   * events; once the wait is over it is taken up as the runs a stop left are (resume), and a stop
   * meanwhile leaves it to the next start. It holds nothing open, so no bound is needed: its tries
   * take turns with the other runs' steps, one at a time.
   */
  const waiting = new Map<number, { tries: Tries; due: boolean; holds: () => Promise<boolean> }>();

  function setAside(run: number, { ms, tries }: Waiting, holds = parts.holding()): void {
    const entry = { tries, due: false, holds };
    waiting.set(run, entry);
    setTimeout(() => {
      entry.due = true;
      parts.due();
    }, ms).unref();
  }

  /**
   * A run a stopped process left, or one whose wait for its next try is over: on from the first
   * step not done. A step that was under way is done again only when its tool is idempotent; one
   * that failed or was reported ends the run.
   */
  async function resume(run: RunRecord): Promise<void> {
    const waited = waiting.get(run.id);
    const tries = waited?.tries;
    if (waited) {
      // A process that took the lease over while this run waited may have done its step itself:
      // it is tried again here only while the lease is still this one's.
      let held: boolean;
      try {
        held = await parts.lease.renew();
      } catch {
        // The store could not say: the run waits a moment more, and is asked for again.
        setAside(run.id, new Waiting(calls.firstDelayMs, waited.tries), waited.holds);
        return;
      }
      if (!held) throw new Postponed("another waiter holds the automations now");
      if (!(await waited.holds())) {
        // Held again after it lapsed, another may have done the step meanwhile: the run goes on as
        // the store has it, once the automations are begun again. What it waited for is forgotten
        // here too, as the store failed its renewal as the lease was found taken anew (and so set
        // it aside again after the engine had forgotten the rest): kept, it would stop every
        // later start of the runs at it.
        waiting.delete(run.id);
        throw new Postponed("another waiter held the automations meanwhile");
      }
      waiting.delete(run.id);
    }
    const known = unrecorded.get(run.id);
    const recorded = known && run.steps[known.step];
    if (known && recorded?.status === "started") {
      await record(run.id, known.step, known.status, known.detail);
      run.steps[known.step] = { ...recorded, status: known.status, detail: known.detail };
    }
    unrecorded.delete(run.id);
    const automation = automations.find((a) => a.name === run.automation);
    const event = await store.get(run.eventId);
    if (!automation || !event) {
      // Only retention removes an event.
      const why = `${tries ? "waited to try a step again" : "stopped before it finished"}, and ${automation ? "retention dropped its event meanwhile" : "the automation is no longer configured"}`;
      const headline = `${run.dryRun ? "dry run" : "run"} ${run.id} of automation ${run.automation} failed on ${event ? deliveryOf(event) : `waiter's event ${run.eventId}`}.`;
      const said = `${event ? `${eventOf(event)} ` : ""}It ${why}`;
      // A rename looks the same as a removal: the channel the run began with is told, while it is
      // configured, for a person to finish by hand what the run left.
      const began = run.onFailure && calls.hasChannel(run.onFailure) ? { notify: run.onFailure } : undefined;
      const onFailure = automation ? automation.onFailure : began;
      if (!automation && !onFailure) {
        const gone = run.onFailure ? `, nor is the channel ${run.onFailure} it began with` : "";
        // The run had a notice to tell, which automations_runs says was not tried, and why.
        const notTried = run.onFailure
          ? { status: "not tried" as const, said: `the automation is no longer configured${gone}` }
          : undefined;
        await store.runs.finish(run.id, "failed", clock.now(), why, notTried);
        log.warning(`${headline} ${said}${gone}, so no onFailure can be told.${whatRunLeft(run).logged}`);
      } else {
        // The steps not run are said as the run was begun: for real, or as a dry run; none where the
        // automation's steps at their places are no longer those it ran.
        const begun = automation && atTheirPlaces(automation, run) ? { ...automation, dryRun: run.dryRun } : undefined;
        const acked = event && event.ackedAt !== null;
        await fail(
          { name: run.automation, onFailure },
          run.id,
          why,
          worded`${headline}\n${said}.${whatRunLeft(run, begun, acked)}`,
        );
      }
      return;
    }
    // A run that cannot go on is told as it began, for real or as a dry run, whatever the automation is now.
    const begun = { ...automation, dryRun: run.dryRun };
    const next = run.steps.findIndex((step) => step.status !== "done" && step.status !== "would");
    const stopped = next >= 0 ? run.steps[next] : undefined;
    const call = stopped
      ? (JSON.parse(stopped.detail) as {
          tool: string;
          args?: Record<string, unknown>;
          written?: Record<string, unknown>;
          error?: string;
          until?: number;
          tries?: Tries;
        })
      : undefined;
    // A step the upstream refused (429) did not happen: it is done now, like one not begun.
    if (stopped && call && stopped.status !== "started" && stopped.status !== "refused") {
      // It failed, or was found interrupted, before the run could be marked failed: it ends so now. The
      // log hides the values the step took from the event: the step as it recorded it, or, from an
      // older waiter, which did not, as configured, where that is still the same tool's; else those
      // any of the automation's steps takes.
      const steps: readonly Step[] = call.written
        ? [{ tool: call.tool, args: call.written }]
        : atTheirPlaces(automation, run) && automation.do[next]
          ? [automation.do[next]]
          : automation.do;
      const view = viewOf(event);
      const logged = call.error
        ? payloadHidden(
            call.error,
            steps.flatMap((step) => payloadValues(step, view)),
          )
        : undefined;
      await failed(begun, event, run.id, next, call, call.error ?? UNDER_WAY, {
        told: call.error ?? UNDER_WAY_TOLD,
        logged,
        recorded: run,
      });
      return;
    }
    if (stopped?.status === "started" && call && !calls.tool(call.tool)?.annotations.idempotentHint) {
      await store.runs.step(run.id, next, "interrupted", stopped.detail, clock.now());
      await failed(begun, event, run.id, next, call, UNDER_WAY, { told: UNDER_WAY_TOLD, recorded: run });
      return;
    }
    const view = viewOf(event);
    const changed = changedSince(automation, run, event, view);
    if (changed) {
      const line = `${run.dryRun ? "dry run" : "run"} ${run.id} of automation ${run.automation} failed on ${deliveryOf(event)}.\n${eventOf(event)} It is not gone on with: ${changed.why}.`;
      // The steps the automation has now are not those the run would have gone on with.
      await fail(
        automation,
        run.id,
        changed.why,
        worded`${line}${whatRunLeft(run, changed.steps ? undefined : begun, event.ackedAt !== null)}`,
      );
      return;
    }
    // A step a stopped process left goes on where it was in its tries: its retry time counts from its
    // first try, whatever the starts since. One left waiting (Telegram's retry_after) waits out what
    // is left of it.
    // A try that was under way when it stopped, not waiting for its turn, was made (the upstream
    // may have had it): it counts.
    const underWay = stopped?.status === "started" && call?.until === undefined;
    const made = underWay && call?.tries;
    const left = tries ?? (made ? { ...made, attempt: made.attempt + 1 } : call?.tries);
    const until = tries ? undefined : call?.until;
    if (until !== undefined && until > clock.now()) {
      setAside(run.id, new Waiting(until - clock.now(), left ?? { attempt: 0, started: clock.now() }));
      return;
    }
    // One it waited to try again says so as well, once done (a wait to begin with it, or a stop meanwhile).
    const again = underWay || left?.redone === true;
    await execute(automation, event, run.id, view, next < 0 ? run.steps.length : next, left, again);
  }

  /**
   * How the automation was changed since `run` began, as a restart with an edited config finds it:
   * a run goes on by its steps' places, so only with the steps, and the dry run or not, it began
   * with, and on an event the automation still takes. A step it recorded at another place, or the
   * step it goes on with written with other arguments, would do one step twice and skip another,
   * or do a step with another's arguments.
   */
  function changedSince(
    automation: Automation,
    run: RunRecord,
    event: StoredEvent,
    view: View,
  ): { why: string; steps: boolean } | undefined {
    if (automation.dryRun !== run.dryRun) {
      const why = run.dryRun
        ? "the automation was made to run for real since the dry run began"
        : "the automation was made a dry run since the run began";
      return { why, steps: false };
    }
    const stepsChanged = (what: string) => ({
      why: `the automation's steps changed since the run began (${what})`,
      steps: true,
    });
    for (const [i, recorded] of run.steps.entries()) {
      const { tool, written: was } = JSON.parse(recorded.detail) as { tool: string; written?: Record<string, unknown> };
      const step = automation.do[i];
      const now = step && toolOf(step);
      if (!step || now !== tool) {
        return stepsChanged(`step ${i + 1} was ${tool}, and is ${now ? `now ${now}` : "no longer there"}`);
      }
      // Compared as configured, not as filled in and checked, which a newer waiter's tool may do
      // otherwise; a step an older waiter recorded did not keep it.
      if (recorded.status === "done" || recorded.status === "would" || was === undefined) continue;
      if (inOrder(was) !== inOrder(written(step))) return stepsChanged(`step ${i + 1}'s arguments changed`);
    }
    // Narrowed to leave such events alone, it is not to finish this one either.
    let notTaken: string | undefined;
    try {
      notTaken =
        event.source === automation.when.source
          ? whyNotTaken(automation, event, () => view)
          : `its source is ${automation.when.source}`;
    } catch (err) {
      notTaken = err instanceof Error ? err.message : String(err);
    }
    if (notTaken) return { why: `the automation no longer takes this event (${notTaken})`, steps: false };
    return undefined;
  }

  return {
    execute,
    resume,
    /** Whether `run` waits for its next try, and the wait is not over. */
    waits: (run: number) => waiting.get(run)?.due === false,
    letGo,
  };
}
