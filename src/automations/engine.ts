import { setMaxListeners } from "node:events";
import { ToolError } from "../errors.js";
import type { EventStore, RunRecord, StepStatus, StoredEvent } from "../events/store.js";
import { untilAborted } from "../http/deadline.js";
import { type Log, throttled } from "../log.js";
import { cut, oneLine } from "../shown.js";
import { clock } from "../time.js";
import { doneLine, type Tool } from "../toolset.js";
import { StepCalls } from "./calls.js";
import { Lease } from "./lease.js";
import { FailureNotices } from "./notices.js";
import { type Automation, type Step, toolOf } from "./rules.js";
import { Postponed, type Tries, Waiting } from "./tries.js";
import { argumentsFor, argumentsShown, inserted, type View, viewOf, whyNotTaken, written } from "./view.js";

export interface AutomationParts {
  automations: readonly Automation[];
  /** The tools this server serves: an automation may call these and no other. */
  tools: readonly Tool[];
  store: EventStore;
  /** The configured webhook sources' names. */
  sources: readonly string[];
  log: Log;
  toolTimeoutMs: number;
  /** How long a step that fails for a passing reason (an upstream down, 429) is tried again. */
  retryForMs: number;
  /** How long the process running the automations holds them without renewing: renewed each third of it. */
  leaseMs: number;
  /** How long a stop lets a step under way have its answer before cutting it (WAITER_STOP_SECONDS). */
  drainMs: number;
  /**
   * The last event stored before this process took webhooks: at the first start ever on a store,
   * what came before it is history, and what came after, before the automations started, is not.
   */
  historyThrough: number;
}

/**
 * How long a stop waits, once the calls under way have their answers or are cut, for the run under
 * way to record where it stopped, and for the lease to be let go: a store answers in milliseconds,
 * and one that does not must not hold the stop for its query timeout. What is left is taken up at
 * the next start, and the lease runs out.
 */
const STOP_MS = 2_000;

/** What a failure told to an onFailure channel begins with. */
const REPORTED = "waiter: ";

/**
 * The steps after `failedAt` (from 0), which a failed run did not run, as a sentence that begins
 * with a space: " Steps 3-4 (notify, ack) were not run; the event is not acknowledged.", or "".
 */
function notRun(automation: Automation, failedAt: number): string {
  const left = automation.do.slice(failedAt + 1);
  if (left.length === 0) return "";
  const names = left.map((step) => ("tool" in step ? step.tool : "notify" in step ? "notify" : "ack")).join(", ");
  const which =
    left.length === 1
      ? `Step ${failedAt + 2} (${names}) was`
      : `Steps ${failedAt + 2}-${failedAt + 1 + left.length} (${names}) were`;
  if (automation.dryRun) return ` ${which} not checked.`;
  return ` ${which} not run${left.some((step) => "ack" in step) ? "; the event is not acknowledged" : ""}.`;
}

/**
 * What a run left, for a run that cannot go on, so that the notice is all a person has to finish
 * it by hand: each step recorded, with its arguments (the order, the payment), as done, not done
 * (one waiting for its next try, or refused) or under way when waiter stopped, and the steps of
 * `automation` after it not run. Without `automation` (its steps were edited, or it is gone), what
 * the run would have gone on with is not known. A sentence each, each beginning with a space.
 */
function whatRunLeft(run: RunRecord, automation?: Automation): string {
  const said: string[] = [];
  let reached = -1;
  for (const [i, step] of run.steps.entries()) {
    const { tool, args, waiting } = JSON.parse(step.detail) as {
      tool: string;
      args?: Record<string, unknown>;
      waiting?: string;
    };
    const which = `Step ${i + 1} (${tool}${argumentsShown(args)})`;
    if (step.status === "done" || step.status === "would") {
      said.push(` ${which} was ${step.status === "would" ? "checked" : "done"}.`);
      reached = i;
      continue;
    }
    const underWay = (step.status === "started" && waiting === undefined) || step.status === "interrupted";
    said.push(
      ` ${which} ${underWay ? "was under way when waiter stopped, and may or may not have happened" : "was not done"}.`,
    );
    reached = i;
    break;
  }
  return `${said.join("")}${automation ? notRun(automation, reached) : " No other step of it was run."}`;
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

/** The delivery `event` is, as a person can look it up with its sender: its own id, and its type. */
function deliveryOf(event: StoredEvent): string {
  // The delivery id and the type may be a sender's headers (GitHub, WooCommerce): quoted as what the event says.
  return `the delivery ${inserted(event.dedupeId, true)} from ${event.source} (${inserted(event.type, true)}, waiter's event ${event.id})`;
}

/** Why a step that was under way when a run stopped, and cannot be repeated safely, ended its run. */
const UNDER_WAY =
  "it was under way when waiter stopped or its store failed, and may or may not have happened, so it is not done again";

/** Arguments as JSON in the order of their names, which a config file may change without changing them. */
function inOrder(args: Record<string, unknown>): string {
  return JSON.stringify(Object.entries(args).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The schemes of senders that write their text as HTML (WooCommerce's names): a notification shows it as text. */
const WRITES_HTML = new Set(["woocommerce"]);

export async function startAutomations(parts: AutomationParts): Promise<{ close(): Promise<void> }> {
  const { automations, store, log, leaseMs } = parts;
  const stopping = new AbortController();
  // Each failure being told waits on it, as does the run under way: however many, they are no leak.
  setMaxListeners(0, stopping.signal);
  const calls = new StepCalls({ ...parts, stopping: stopping.signal, holdsLease: () => holdsLease() });
  const { maxText } = calls;

  /**
   * Marks the run failed at step `step` (from 0), which called `tool`, for `reason`, says so in the
   * log, and tells the automation's onFailure channel, for a person who finishes by hand what the
   * run left: the sender's own delivery id, which they can look up with the sender, and the steps
   * not run. The reason is cut so that the message, at the most notify_send takes, keeps both.
   */
  async function failed(
    automation: Automation,
    event: StoredEvent,
    run: number,
    step: number,
    { tool, args }: { tool: string; args?: Record<string, unknown> },
    reason: string,
  ): Promise<void> {
    const head = `${automation.dryRun ? "dry run of " : ""}automation ${automation.name} failed on ${deliveryOf(event)} at step ${step + 1} (${tool}${argumentsShown(args)}): `;
    const tail = `${/[.!?…]$/.test(reason) ? "" : "."}${notRun(automation, step)}`;
    const room = maxText - REPORTED.length - head.length - tail.length;
    await fail(
      automation,
      run,
      `step ${step + 1} (${tool}): ${reason}`,
      `${head}${cut(reason, Math.max(room, 1))}${tail}`,
    );
  }

  /**
   * Marks the run failed with `error`, says `line` in the log, and tells it to the automation's
   * onFailure channel: the notice is owed in the store from the same write, so a stop neither
   * loses it nor, once it may have reached the channel, repeats it.
   */
  async function fail(
    { name, onFailure }: Pick<Automation, "name" | "onFailure">,
    run: number,
    error: string,
    line: string,
  ): Promise<void> {
    const channel = onFailure?.notify;
    const notice = channel && cut(`${REPORTED}${line}`, maxText);
    await store.runs.finish(run, "failed", clock.now(), error, notice);
    log.warning(line);
    if (channel && notice) notices.tell(name, channel, run, notice);
  }

  const notices = new FailureNotices({
    runs: store.runs,
    log,
    automations,
    stopping: stopping.signal,
    running: () => running,
    send: (channel, text, who, mark, tries) =>
      calls.call("notify_send", calls.checked("notify_send", { channel, text }), who, mark, tries),
    left: () => {
      unfinishedLeft = true;
    },
  });

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
   * Says in the log what this process learnt and the store could not record, before `before` (the
   * stop, another waiter taking the automations over), and what is then thought of it.
   */
  function sayUnrecorded(before: string, then: { step: string; notice: string }): void {
    for (const [run, { step, status, detail }] of unrecorded) {
      const { error } = JSON.parse(detail) as { error?: string };
      log.warning(
        `automation run ${run}: step ${step + 1} came to "${status}"${error ? ` (${oneLine(error, 300)})` : ""}, which the event store could not record before ${before}: ${then.step}`,
      );
    }
    notices.sayToldUnrecorded(before, then.notice);
  }

  /**
   * Runs the steps of `run` from `from`; `tries`, where that step is in its tries when the run waited
   * for its next one. A step that must wait leaves its run waiting (setAside) and returns.
   */
  async function execute(
    automation: Automation,
    event: StoredEvent,
    run: number,
    view: View,
    from = 0,
    tries?: Tries,
  ): Promise<void> {
    for (let i = from; i < automation.do.length; i++) {
      const step = automation.do[i] as Step;
      const tool = toolOf(step);
      let filled: Record<string, unknown> | undefined;
      let input: Record<string, unknown>;
      try {
        filled = argumentsFor(step, view, maxText, WRITES_HTML.has(event.scheme));
        // Checked before the step starts, a dry run's too: it would fail the same way for real.
        input = calls.checked(tool, filled, step, view);
      } catch (err) {
        // A path or template that fails on this event's payload (a function given the wrong
        // type), or arguments the tool refuses (a template where it takes a number).
        const message = err instanceof Error ? err.message : String(err);
        const detail = { tool, ...(filled ? { args: filled } : {}), error: message };
        await store.runs.step(run, i, "failed", JSON.stringify(detail), clock.now());
        await failed(automation, event, run, i, { tool, args: filled }, message);
        return;
      }
      // Recorded as filled in, with the defaults the tool adds: one it reads into another shape (a
      // date into its instant) reads in the run and in a failure notice as the step gave it.
      const args = { ...input, ...filled };
      if (automation.dryRun) {
        await store.runs.step(run, i, "would", JSON.stringify({ tool, args }), clock.now());
        continue;
      }
      if (!(await holdsLease())) throw new Postponed("another waiter holds the automations now");
      // Where the step is in its tries is recorded with it, so that the next start goes on from there.
      const { attempt, started, notified } = (i === from ? tries : undefined) ?? { attempt: 0, started: clock.now() };
      const current: Tries = { attempt, started, ...(notified ? { notified } : {}) };
      const who = `automation ${automation.name}, run ${run} (event ${event.id}), step ${i + 1}`;
      // The step as configured goes with it too: a run taken up after a restart goes on only with it.
      const configured = written(step);
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
        ({ said, needsPerson } = await calls.call(tool, input, who, mark, current));
      } catch (err) {
        // Stopping: the step stays started, and the next start resumes or reports it.
        if (err instanceof Postponed) throw err;
        if (err instanceof Waiting) {
          setAside(run, err);
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        await record(run, i, "failed", JSON.stringify({ tool, args, error: message }));
        await failed(automation, event, run, i, { tool, args }, message);
        return;
      }
      if (needsPerson) {
        // It happened, but what it found (a second payment) is for a person, before the steps after it.
        await record(run, i, "failed", JSON.stringify({ tool, args, error: said }));
        await failed(automation, event, run, i, { tool, args }, said);
        return;
      }
      // What automations change, as what agents change: the operator's record of who did it, which
      // a store that cannot record the step (a full disk) does not hold back.
      if (!calls.tool(tool)?.annotations.readOnlyHint) {
        log.info(`${tool} done for ${who}: ${doneLine(said)}`);
      }
      await record(run, i, "done", JSON.stringify({ tool, args, said: kept(said) }));
    }
    await store.runs.finish(run, "done", clock.now());
    log.info(`automation ${automation.name} ${automation.dryRun ? "would have run" : "ran"} on event ${event.id}`);
  }

  /**
   * Runs whose step waits for its next try, by id: where the step is in its tries, and whether the
   * wait is over. The run is left in the store as it is while the automations go on with later
   * events; once the wait is over it is taken up as the runs a stop left are (resume), and a stop
   * meanwhile leaves it to the next start. It holds nothing open, so no bound is needed: its tries
   * take turns with the other runs' steps, one at a time.
   */
  const waiting = new Map<number, Tries & { due: boolean }>();

  function setAside(run: number, { ms, tries }: Waiting): void {
    const entry = { ...tries, due: false };
    waiting.set(run, entry);
    setTimeout(() => {
      entry.due = true;
      unfinishedLeft = true;
      if (running) drain();
    }, ms).unref();
  }

  /**
   * A run a stopped process left, or one whose wait for its next try is over: on from the first
   * step not done. A step that was under way is done again only when its tool is idempotent; one
   * that failed or was reported ends the run.
   */
  async function resume(run: RunRecord): Promise<void> {
    const tries = waiting.get(run.id);
    if (tries) {
      // A process that took the lease over while this run waited may have done its step itself:
      // it is tried again here only while the lease is still this one's.
      let held: boolean;
      try {
        held = await lease.renew();
      } catch {
        // The store could not say: the run waits a moment more, and is asked for again.
        setAside(run.id, new Waiting(calls.firstDelayMs, tries));
        return;
      }
      if (!held) throw new Postponed("another waiter holds the automations now");
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
      const line = `${run.dryRun ? "dry run" : "run"} ${run.id} of automation ${run.automation} on ${event ? deliveryOf(event) : `event ${run.eventId}`} failed: it ${why}`;
      // A rename looks the same as a removal: the channel the run began with is told, for a person
      // to finish by hand what the run left.
      const onFailure = automation ? automation.onFailure : run.onFailure ? { notify: run.onFailure } : undefined;
      if (!automation && !onFailure) {
        await store.runs.finish(run.id, "failed", clock.now(), why);
        log.warning(`${line}, so no onFailure can be told`);
      } else await fail({ name: run.automation, onFailure }, run.id, why, `${line}.${whatRunLeft(run, automation)}`);
      return;
    }
    const next = run.steps.findIndex((step) => step.status !== "done" && step.status !== "would");
    const stopped = next >= 0 ? run.steps[next] : undefined;
    const call = stopped
      ? (JSON.parse(stopped.detail) as {
          tool: string;
          args?: Record<string, unknown>;
          error?: string;
          until?: number;
          tries?: Tries;
        })
      : undefined;
    // A step the upstream refused (429) did not happen: it is done now, like one not begun.
    if (stopped && call && stopped.status !== "started" && stopped.status !== "refused") {
      // It failed, or was found interrupted, before the run could be marked failed: it ends so now.
      await failed(automation, event, run.id, next, call, call.error ?? UNDER_WAY);
      return;
    }
    if (stopped?.status === "started" && call && !calls.tool(call.tool)?.annotations.idempotentHint) {
      await store.runs.step(run.id, next, "interrupted", stopped.detail, clock.now());
      await failed(automation, event, run.id, next, call, UNDER_WAY);
      return;
    }
    const view = viewOf(event);
    const changed = changedSince(automation, run, event, view);
    if (changed) {
      const line = `${run.dryRun ? "dry run" : "run"} ${run.id} of automation ${run.automation} on ${deliveryOf(event)} failed: ${changed.why}, so it is not gone on with.`;
      // The steps the automation has now are not those the run would have gone on with.
      const left = whatRunLeft(run, changed.steps ? undefined : { ...automation, dryRun: run.dryRun });
      await fail(automation, run.id, changed.why, `${line}${left}`);
      return;
    }
    // A step a stopped process left goes on where it was in its tries: its retry time counts from its
    // first try, whatever the starts since. One left waiting (Telegram's retry_after) waits out what
    // is left of it.
    // A try that was under way when it stopped, not waiting for its turn, was made (the upstream
    // may have had it): it counts.
    const made = stopped?.status === "started" && call?.until === undefined && call?.tries;
    const left = tries ?? (made ? { ...made, attempt: made.attempt + 1 } : call?.tries);
    const until = tries ? undefined : call?.until;
    if (until !== undefined && until > clock.now()) {
      setAside(run.id, new Waiting(until - clock.now(), left ?? { attempt: 0, started: clock.now() }));
      return;
    }
    await execute(automation, event, run.id, view, next < 0 ? run.steps.length : next, left);
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

  /**
   * Whether `automation` applies to `event`: the event came after the automation was first
   * configured, and its source, type and conditions match. A condition that fails on this payload
   * is no match, and said. The payload is parsed once, for the first automation that needs it.
   * An event of the automation's source that it does not take is said at debug level, with why:
   * a mistyped type or path matches nothing, and nothing else would tell.
   */
  function applies(automation: Automation, event: StoredEvent, view: () => View): boolean {
    if (event.seq <= (startedAt.get(automation.name) ?? 0) || event.source !== automation.when.source) return false;
    try {
      const why = whyNotTaken(automation, event, view);
      if (why === undefined) return true;
      log.debug(
        `automation ${automation.name}: event ${event.id} (type ${JSON.stringify(oneLine(event.type, 100))}) not taken: ${why}`,
      );
      return false;
    } catch (err) {
      log.warning(
        `automation ${automation.name}: event ${event.id} not taken: ${err instanceof Error ? err.message : err}`,
      );
      return false;
    }
  }

  async function handle(event: StoredEvent): Promise<void> {
    let parsed: View | undefined;
    const view = () => (parsed ??= viewOf(event));
    for (const automation of automations) {
      if (stopping.signal.aborted) throw new Postponed("waiter is stopping");
      if (!(await holdsLease())) throw new Postponed("another waiter holds the automations now");
      if (!applies(automation, event, view)) continue;
      const run = await store.runs.begin(
        automation.name,
        event.id,
        automation.dryRun,
        clock.now(),
        automation.onFailure?.notify,
      );
      if (run !== undefined) await execute(automation, event, run, view());
    }
    await store.runs.setCursor(event.seq);
  }

  // While the store fails (away, full), every renewal of the lease and every run fails: a line a
  // minute says so, and one line says when it answers again.
  const storeFailed = throttled((line) => log.warning(line));
  /**
   * Whether the runs failed on the store last time: a full disk may still take the lease's small
   * renewal, which then only tries them again, and only runs recorded say the store answers again.
   */
  let runsFailed = false;
  /** Says when the store answers again after failing; a run it cut short goes on then, not at the next event. */
  const storeAnswers = (byRuns: boolean) => {
    if (byRuns || !running) runsFailed = false;
    // A notice being told meets the store beside the runs: what it left waits for no event either.
    if (runsFailed || (!byRuns && running && unfinishedLeft && !stopping.signal.aborted)) {
      drain();
      return;
    }
    const who = running ? "automations resume" : "automations";
    if (storeFailed.ended(`${who}: the event store answers again`) && running) drain();
  };

  const lease = new Lease(store.runs, leaseMs);
  let running = false;
  let working: Promise<void> = Promise.resolve();
  let unsubscribe = () => {};
  /** Handles what is left to handle, once the lease is held (begin). */
  let drain = () => {};
  /** Whether runs a stop or a store failure cut short, or whose wait is over, are to be taken up. */
  let unfinishedLeft = true;
  const tryLease = async () => {
    try {
      const held = await lease.renew();
      storeAnswers(false);
      if (held && !running && !stopping.signal.aborted) await begin();
      if (!held && running) {
        // This one could not renew in time (its store was away): another took over, and two must
        // not run them at once, so this one stops until it holds the lease again.
        running = false;
        unsubscribe();
        log.error("automations: another waiter took over their lease on this store; this one stops running them");
        // The runs are the other's now, and what it records of them may be newer: what this one
        // learnt and could not record is said, as the other reports it as may or may not have happened.
        sayUnrecorded("another waiter took the automations over", {
          step: "that one takes the step for one under way",
          notice: "that one says it may or may not have reached its channel",
        });
        unrecorded.clear();
      }
      return held;
    } catch (err) {
      const why = err instanceof Error ? err.message : err;
      // The one running them can record nothing now: its runs wait for the store.
      storeFailed(
        running
          ? `automations paused: the lease could not be renewed: ${why}`
          : `automations: the lease could not be checked: ${why}`,
      );
      return running;
    }
  };
  /**
   * Whether this process still runs the automations, the store asked once its last renewal ran out:
   * a process frozen past its lease (a machine asleep, a VM paused) wakes with a step's answer
   * before its timer has found that another waiter took the lease, and the runs, over.
   */
  const holdsLease = async () => running && (lease.current || ((await tryLease()) && running));
  const leaseTimer = setInterval(() => void tryLease(), leaseMs / 3);
  leaseTimer.unref();

  async function begin(): Promise<void> {
    running = true;
    // Where the last holder got to; at the first start ever, what was stored before this process
    // took webhooks is history, and the store keeps that mark, so a lease taken again or by
    // another goes on from it.
    let cursor = (await store.runs.cursor()) ?? parts.historyThrough;
    await store.runs.setCursor(cursor);
    // Each automation acts on what the automations had not handled when it was first configured,
    // not on the history before: one renamed, or added while waiter was stopped, takes the events
    // stored meanwhile, as the others do.
    for (const automation of automations) {
      startedAt.set(automation.name, await store.runs.firstSeen(automation.name, cursor));
    }
    // Runs a stopped process left, or a store failure cut short in this one, go on first.
    unfinishedLeft = true;
    let warnedThrough = 0;
    drain = () => {
      // What a stop left is the next start's: a renewal or a wait that ends during the stop begins nothing.
      if (stopping.signal.aborted) return;
      working = working
        .then(async () => {
          if (unfinishedLeft) {
            // Another waiter's runs under way, and notices being told, are among them once it took the lease over.
            if (!(await holdsLease())) throw new Postponed("another waiter holds the automations now");
            unfinishedLeft = false;
            await notices.tellUntold();
            for (const run of await store.runs.unfinished()) {
              if (stopping.signal.aborted) throw new Postponed("waiter is stopping");
              if (!(await holdsLease())) throw new Postponed("another waiter holds the automations now");
              if (waiting.get(run.id)?.due === false) continue;
              try {
                await resume(run);
              } catch (err) {
                // The store's failures (full, busy, away) are ToolErrors: the run waits for it, as others do.
                if (err instanceof Postponed || err instanceof ToolError) throw err;
                log.error(`automation run ${run.id} could not be resumed: ${err instanceof Error ? err.message : err}`);
              }
            }
          }
          for (
            let event = await store.firstAfter({}, cursor);
            event && !stopping.signal.aborted;
            event = await store.firstAfter({}, cursor)
          ) {
            // Automations that fell behind retention (paused long, or a burst past maxEvents) never
            // see what it dropped: the operator hears of it once for each new drop. Only a gap
            // before the next event can hide dropped ones, so the store is asked only then.
            const through = event.seq > cursor + 1 ? await store.droppedThrough() : 0;
            if (through > cursor && through > warnedThrough) {
              warnedThrough = through;
              log.warning(
                "automations: retention dropped events stored after the last one they handled before any automation ran for them; raise webhooks.retention's limits if automations may fall this far behind",
              );
            }
            await handle(event);
            cursor = event.seq;
          }
          storeAnswers(true);
        })
        .catch((err) => {
          // The run under way is taken up again, and the same events tried, once the store answers
          // again (it failed: busy, full, away) or the lease is held again.
          unfinishedLeft = true;
          if (err instanceof Postponed || stopping.signal.aborted) return;
          runsFailed = true;
          storeFailed(`automations paused on a store failure: ${err instanceof Error ? err.message : err}`);
        });
    };
    unsubscribe = store.subscribe(drain);
    drain();
    log.info(
      `${automations.length} automation${automations.length === 1 ? "" : "s"} running: ${automations.map((a) => a.name).join(", ")}`,
    );
  }

  const startedAt = new Map<string, number>();
  if (!(await tryLease())) {
    log.notice("automations run in another waiter process on this store; this one takes over if that one stops");
  }
  return {
    async close() {
      unsubscribe();
      stopping.abort();
      // The lease is renewed while a step has its answer: run out meanwhile, another waiter would
      // take up the run under way, and report the step as may or may not have happened.
      await calls.finish(parts.drainMs);
      clearInterval(leaseTimer);
      const finished = (async () => {
        await working;
        await notices.settled();
        if (running) await lease.release().catch(() => {});
      })();
      await untilAborted(finished, AbortSignal.timeout(STOP_MS)).catch(() => {
        log.warning(
          `automations stopped without the event store's answer in ${STOP_MS / 1000} s: a run under way goes on at the next start, and another waiter takes them over once the lease runs out (${leaseMs / 1000} s)`,
        );
      });
      sayUnrecorded("the stop", {
        step: "the next start takes the step for one under way when waiter stopped",
        notice: "the next start says it may or may not have reached its channel",
      });
    },
  };
}
