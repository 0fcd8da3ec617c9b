import { setMaxListeners } from "node:events";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Stopped } from "../app-types.js";
import { loggedWords, ToolError } from "../errors.js";
import type { EventStore, RunRecord, StoredEvent } from "../events/store.js";
import { untilAborted } from "../http/deadline.js";
import { type Log, throttled } from "../log.js";
import { oneLine } from "../shown.js";
import { clock } from "../time.js";
import type { Tool } from "../toolset.js";
import { type CallParts, StepCalls } from "./calls.js";
import { holderName, Lease, type TakenFrom } from "./lease.js";
import { FailureNotices } from "./notices.js";
import type { Automation } from "./rules.js";
import { automationRuns } from "./runs.js";
import { Postponed } from "./tries.js";
import { type View, viewOf, whyNotTaken } from "./view.js";

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
  /**
   * The settings the log names, as the operator set them: the tool timeout's, the retry time's, the
   * drain time's, and retention's, which may outrun the automations.
   */
  settings: CallParts["settings"] & { retention: string };
  /** How long the process running the automations holds them without renewing: renewed each third of it. */
  leaseMs: number;
  /**
   * How often the lease is renewed, or tried by a waiter that waits for it, when not each third of
   * leaseMs: no setting gives it; tests renew often under a long lease, run out only as they move the clock.
   */
  renewEveryMs?: number;
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

/** How many of the runs a waiter that took the automations over takes up are named in its line; the rest are counted. */
const NAMED_RUNS = 10;

export async function startAutomations(parts: AutomationParts): Promise<{ close(): Promise<Stopped> }> {
  const { automations, store, log, leaseMs } = parts;
  const stopping = new AbortController();
  // Each failure being told waits on it, as does the run under way: however many, they are no leak.
  setMaxListeners(0, stopping.signal);
  const calls = new StepCalls({
    ...parts,
    stopping: stopping.signal,
    holding: () => holding(),
    holdingNow: () => holdingNow(),
  });

  const notices = new FailureNotices({
    runs: store.runs,
    log,
    automations,
    stopping: stopping.signal,
    running: () => running,
    holding: () => holding(),
    // A notice's words are waiter's, the event's, the steps' arguments and the upstreams' answers,
    // which may repeat the event's: none is to mention anyone but whom the author's own named.
    send: (channel, text, who, mark, tries, authored) =>
      calls.call(
        "notify_send",
        calls.checked("notify_send", { channel, text }),
        who,
        mark,
        tries,
        undefined,
        [text],
        authored,
      ),
    left: () => {
      unfinishedLeft = true;
    },
    hasChannel: (name) => calls.hasChannel(name),
    maxText: calls.maxText,
  });

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
      // The event's type beside a condition that does not hold; a type that does not match is said with it.
      const type = why.startsWith("its type ") ? "" : ` (type ${JSON.stringify(oneLine(event.type, 100))})`;
      log.debug(`automation ${automation.name}: event ${event.id}${type} not taken: ${why}`);
      return false;
    } catch (err) {
      log.warning(
        `automation ${automation.name}: event ${event.id} not taken: ${err instanceof Error ? err.message : err}`,
      );
      return false;
    }
  }

  async function handle(event: StoredEvent, holds: () => Promise<boolean>): Promise<void> {
    let parsed: View | undefined;
    const view = () => (parsed ??= viewOf(event));
    for (const automation of automations) {
      if (stopping.signal.aborted) throw new Postponed("waiter is stopping");
      if (!(await holds())) throw new Postponed("another waiter holds the automations now");
      if (!applies(automation, event, view)) continue;
      const run = await store.runs.begin(
        automation.name,
        event.id,
        automation.dryRun,
        clock.now(),
        automation.onFailure?.notify,
      );
      if (run !== undefined) await runs.execute(automation, event, run, view());
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
  /** The lease's term the automations were begun in: one taken anew since lapsed meanwhile. */
  let term = 0;
  /** Whether the last start of the automations failed on the store: the next renewal makes it again. */
  let startFailed = false;
  let working: Promise<void> = Promise.resolve();
  let unsubscribe = () => {};
  /** Handles what is left to handle, once the lease is held (begin). */
  let drain = () => {};
  /** Whether runs a stop or a store failure cut short, or whose wait is over, are to be taken up. */
  let unfinishedLeft = true;
  const runs = automationRuns({
    automations,
    store,
    log,
    calls,
    notices,
    lease,
    holding: () => holding(),
    due: () => {
      unfinishedLeft = true;
      if (running) drain();
    },
  });
  const tryLease = async () => {
    try {
      const held = await lease.renew();
      const beginning = held && !running && !stopping.signal.aborted;
      // After a start the store failed, the start that goes through says it answers again, not a
      // renewal: a store may take the lease's small write and fail the start again (a full disk).
      if (!(beginning && startFailed)) {
        startFailed = false;
        storeAnswers(false);
      }
      if (beginning) await begin();
      if (running && !held) {
        // This one could not renew in time (its store was away): another took over, and two must
        // not run them at once, so this one stops until it holds the lease again.
        running = false;
        unsubscribe();
        log.error("automations: another waiter took over their lease on this store; this one stops running them");
        // The runs are the other's now, and what it records of them may be newer: what this one
        // learnt and could not record is said, as the other reports it as may or may not have happened.
        runs.letGo("another waiter took the automations over", {
          step: "that one takes the step for one under way",
          notice: "that one says it may or may not have reached its channel",
        });
      } else if (running && lease.term !== term) {
        // Held again only after it ran out (this process frozen, its store slow to answer): another
        // waiter may have gone on with the runs meanwhile, and what this one knows of them may be
        // old. It begins them again, as the store has them, at the next renewal.
        running = false;
        unsubscribe();
        log.warning(
          "automations: their lease on this store ran out before this waiter renewed it (it was frozen, or the store slow to answer), so another waiter may have run them meanwhile; this one takes them up again as the store has them",
        );
        runs.letGo("their lease ran out", {
          step: "the step for one under way is taken up as the store has it",
          notice: "it is taken up as the store has it",
        });
      }
      return held;
    } catch (err) {
      const why = loggedWords(err);
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
  /**
   * A check, for later, that this process has run the automations since now without a break: a
   * lease that lapsed and was taken again may have been another waiter's meanwhile. The term is the
   * one the automations were begun in, not the lease's own: a renewal other than the engine's (a
   * waiting run's) that takes the lease anew has them wait until they are begun again.
   */
  const holding = () => {
    const since = term;
    return async () => (await holdsLease()) && lease.term === since;
  };
  /** holding's check by this process's clock alone: the last renewal not run out, in the same term. */
  const holdingNow = () => {
    const since = term;
    return () => running && lease.current && lease.term === since;
  };
  const leaseTimer = setInterval(() => void tryLease(), parts.renewEveryMs ?? leaseMs / 3);
  leaseTimer.unref();

  async function begin(): Promise<void> {
    running = true;
    term = lease.term;
    const begun = term;
    let cursor: number;
    // Taken from another holder, not said yet: the runs it left under way are said with it.
    let takenOver: { from: TakenFrom; at: number; runs: RunRecord[] } | undefined;
    try {
      // Where the last holder got to; at the first start ever, what was stored before this process
      // took webhooks is history, and the store keeps that mark, so a lease taken again or by
      // another goes on from it.
      cursor = (await store.runs.cursor()) ?? parts.historyThrough;
      await store.runs.setCursor(cursor);
      // Each automation acts on what the automations had not handled when it was first configured,
      // not on the history before: one renamed, or added while waiter was stopped, takes the events
      // stored meanwhile, as the others do.
      for (const automation of automations) {
        startedAt.set(automation.name, await store.runs.firstSeen(automation.name, cursor));
      }
      const from = lease.takenFrom;
      if (from && from !== takeOverSaid) takenOver = { from, at: clock.now(), runs: await store.runs.unfinished() };
    } catch (err) {
      // Not begun: the next renewal of the lease begins them, once the store answers.
      running = false;
      startFailed = true;
      storeFailed(`automations could not start on a store failure: ${loggedWords(err)}`);
      return;
    }
    if (startFailed) {
      startFailed = false;
      storeFailed.ended("automations: the event store answers again");
    }
    // Runs a stopped process left, or a store failure cut short in this one, go on first.
    unfinishedLeft = true;
    let takenUp = takenOver?.runs;
    let warnedThrough = 0;
    drain = () => {
      // What a stop left is the next start's: a renewal or a wait that ends during the stop begins nothing.
      if (stopping.signal.aborted) return;
      working = working
        .then(async () => {
          // Asked for before the automations were begun again (their lease lapsed meanwhile): that
          // start goes on from the store, not from what this one knew.
          if (term !== begun) return;
          const holds = holding();
          if (unfinishedLeft) {
            // Those the take-over was said with were read with the lease held: no other waiter ran them since.
            const said = takenUp;
            takenUp = undefined;
            // Another waiter's runs under way, and notices being told, are among them once it took the lease over.
            if (!(await holds())) throw new Postponed("another waiter holds the automations now");
            unfinishedLeft = false;
            await notices.tellUntold();
            for (const run of said ?? (await store.runs.unfinished())) {
              if (stopping.signal.aborted) throw new Postponed("waiter is stopping");
              if (!(await holds())) throw new Postponed("another waiter holds the automations now");
              if (runs.waits(run.id)) continue;
              try {
                await runs.resume(run);
              } catch (err) {
                // The store's failures (full, busy, away) are ToolErrors: the run waits for it, as others do.
                if (err instanceof Postponed || err instanceof ToolError) throw err;
                log.error(`automation run ${run.id} could not be resumed: ${err instanceof Error ? err.message : err}`);
              }
              // Runs that end without a request (failed, their automation gone) would hold the
              // process as a backlog of events would: webhooks, calls and the lease go between them.
              await nextTurn();
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
                `automations: retention dropped events stored after the last one they handled before any automation ran for them; raise the limits of ${parts.settings.retention} if automations may fall this far behind`,
              );
            }
            await handle(event, holds);
            cursor = event.seq;
            // A store that answers without waiting (SQLite's) would hold the process through a whole
            // backlog: the webhooks arriving, agents' calls and the lease's renewal go between events.
            await nextTurn();
          }
          storeAnswers(true);
        })
        .catch((err) => {
          // The run under way is taken up again, and the same events tried, once the store answers
          // again (it failed: busy, full, away) or the lease is held again.
          unfinishedLeft = true;
          if (err instanceof Postponed || stopping.signal.aborted) return;
          runsFailed = true;
          storeFailed(`automations paused on a store failure: ${loggedWords(err)}`);
        });
    };
    if (takenOver) {
      takeOverSaid = takenOver.from;
      log.notice(
        `automations taken over from another waiter process (${holderName(takenOver.from.holder)}), ${
          takenOver.from.gone
            ? `whose process is gone (its lease would have run until ${new Date(takenOver.from.until).toISOString()})`
            : `whose lease ran out at ${new Date(takenOver.from.until).toISOString()}, ${howLong(takenOver.at - takenOver.from.until)} ago`
        }; ${
          takenOver.runs.length === 0
            ? "it left no run under way"
            : `taken up: ${takenOver.runs
                .slice(0, NAMED_RUNS)
                .map((run) => `run ${run.id} (automation ${run.automation})`)
                .join(
                  ", ",
                )}${takenOver.runs.length > NAMED_RUNS ? ` and ${takenOver.runs.length - NAMED_RUNS} more` : ""}`
        }`,
      );
    }
    unsubscribe = store.subscribe(drain);
    drain();
    log.info(
      `${automations.length} automation${automations.length === 1 ? "" : "s"} running: ${automations.map((a) => `${a.name}${a.dryRun ? " (dry run)" : ""}`).join(", ")}`,
    );
  }

  const startedAt = new Map<string, number>();
  /** The take-over last said: a start begun again in the same hold (after a store failure) says it once. */
  let takeOverSaid: TakenFrom | undefined;
  if (!(await tryLease())) {
    // The holder may be a waiter that stopped without letting it go (killed, on another machine or
    // container, or a store restored from a backup): only its lease running out tells.
    // Undefined when the store failed to answer, which is said.
    const held = lease.heldBy;
    if (held) {
      log.notice(
        `automations: their lease on this store is held by ${holderName(held.holder)} until ${new Date(held.until).toISOString()}: by a waiter that runs them while it renews it, or one that stopped without letting it go; this one takes them over if it is not renewed by then`,
      );
    }
  }
  return {
    async close() {
      unsubscribe();
      stopping.abort();
      // The lease is renewed while a step has its answer: run out meanwhile, another waiter would
      // take up the run under way, and report the step as may or may not have happened.
      const stopped = await calls.finish();
      clearInterval(leaseTimer);
      const finished = (async () => {
        await working;
        await notices.settled();
        // Held though not running (found taken anew, or a start the store failed, the next renewal
        // to begin them again): let go too, so that another waiter need not wait it out.
        if (running || lease.current) await lease.release().catch(() => {});
      })();
      await untilAborted(finished, AbortSignal.timeout(STOP_MS)).catch(() => {
        log.warning(
          `automations stopped without the event store's answer in ${STOP_MS / 1000} s: a run under way goes on at the next start, and another waiter takes them over once the lease runs out (${leaseMs / 1000} s)`,
        );
      });
      runs.letGo("the stop", {
        step: "the next start takes the step for one under way when waiter stopped",
        notice: "the next start says it may or may not have reached its channel",
      });
      return stopped;
    },
  };
}

/** A while as a person reads it in a log line: "12 s", "14 min", "3 h". */
function howLong(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  return seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`;
}
