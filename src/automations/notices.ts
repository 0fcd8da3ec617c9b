import { setTimeout as sleep } from "node:timers/promises";
import type { NoticeOutcome, NoticeStatus, RunLog } from "../events/store.js";
import type { Log } from "../log.js";
import { codePoints, cutCodePoints } from "../shown.js";
import { clock, utcMinute } from "../time.js";
import { type Automation, authorsWords, toolOf, written } from "./rules.js";
import { CutAtStop, Postponed, TakenOver, type Tries, Waiting } from "./tries.js";

/** Leaves a notice for later where the event store failed to answer. */
const storeFailed = (err: unknown): never => {
  throw new Postponed(`the event store failed: ${err instanceof Error ? err.message : err}`);
};

/** How long after what it tells a message is told late: from then on, it says when that was. */
const LATE_MS = 5 * 60_000;

/**
 * A message as told now, cut to fit `maxText`: one told late (a channel that could not be reached,
 * a stop, a backlog taken up) ends with `late`, which says when what it tells happened (`at`), as
 * the message's own time no longer does, and a later message may have reached its readers first.
 */
export function toldLate(text: string, at: number, maxText: number, late: string): string {
  if (clock.now() - at < LATE_MS) return cutCodePoints(text, maxText);
  const when = `\n${late}`;
  return `${cutCodePoints(text, maxText - codePoints(when))}${when}`;
}

/** A failed run's notice as told now: one told late says when its run failed. */
export function toldAt(notice: string, failedAt: number, maxText: number): string {
  return toldLate(notice, failedAt, maxText, `The run failed at ${utcMinute(failedAt)}, and is told only now.`);
}

/** What FailureNotices needs of the engine that runs the automations. */
export interface NoticeParts {
  runs: RunLog;
  log: Log;
  automations: readonly Automation[];
  /** Aborted when waiter stops: a notice is then left to the next start as it stands. */
  stopping: AbortSignal;
  /** Whether this process still runs the automations: another that took them over tells what is owed. */
  running(): boolean;
  /** A check, made when a notice begins to be told, of whether this process still runs the automations without a break since. */
  holding(): () => Promise<boolean>;
  /**
   * Calls notify_send once, as a step is called: `mark` records that the call waits for its next
   * try, and whether it was refused; a Waiting says how long to wait. `authored`: what its
   * automation's author wrote in its steps, whose @names are the only ones that mention in the notice.
   */
  send(
    channel: string,
    text: string,
    who: string,
    mark: (refused: boolean) => Promise<void>,
    tries: Tries | undefined,
    authored: readonly string[],
  ): Promise<{ said: string }>;
  /** Says that a notice was left for later: it is taken up with the runs left. */
  left(): void;
  /** Whether a notification channel of that name is configured. */
  hasChannel(name: string): boolean;
  /** The most characters (code points) notify_send takes. */
  maxText: number;
}

/**
 * The notices of failed runs, told to their automation's onFailure channel beside the runs, and
 * recorded in the store as they go: owed from the write that fails the run, started before each
 * try, and done with once told or given up. A stop neither loses one nor, once it may have reached
 * the channel, repeats it.
 */
export class FailureNotices {
  /** Notices being told, by run, which a stop waits for to record where they got to. */
  readonly #telling = new Map<number, Promise<void>>();
  /** Runs whose notice reached its channel while the store could not record so, with notify_send's answer: recorded once it answers. */
  readonly #toldUnrecorded = new Map<number, string>();

  constructor(private readonly parts: NoticeParts) {}

  /**
   * Tells a failed run's notice to the automation's onFailure channel, beside the runs: a channel
   * that refuses it for now is tried for the retry time, and holds no other event's run. Each try
   * is recorded as started before it is made, and the notice as owed again when the channel
   * refused it; a stop leaves it to the next start as it is. `failedAt`: when the run failed.
   */
  tell(automation: string, channel: string, run: number, text: string, failedAt: number): void {
    const { runs, log, stopping } = this.parts;
    // Its run named: a flood wait keeps each notice's turn by who sends it, and two notices of one
    // automation told at once must not take each other's.
    const who = `automation ${automation}, telling run ${run}'s failure`;
    let recorded: NoticeStatus | NoticeOutcome = "owed";
    // A store that cannot record where telling got to leaves the notice for later, as it stands.
    const record = async (status: NoticeStatus | NoticeOutcome) => {
      const owed = await runs.notice(run, status).catch(storeFailed);
      recorded = status;
      return owed;
    };
    const mark = async (refused: boolean) => {
      await record(refused ? "owed" : "started");
    };
    const holds = this.parts.holding();
    /** Whether it was left for the waiter that holds the automations now: this one's hold broke. */
    let leaseLost = false;
    const told = (async () => {
      let outcome: NoticeOutcome | undefined;
      try {
        const authored = await this.#authored(automation, run);
        for (let tries: Tries | undefined; ; ) {
          if (stopping.aborted) throw new Postponed("waiter is stopping");
          // Another waiter that took the automations over tells what is owed.
          if (!(await holds())) {
            leaseLost = true;
            throw new Postponed("another waiter holds the automations now");
          }
          // A run erased with a customer's events (docs/webhooks.md) takes its notice with it.
          if (!(await record("started"))) {
            log.info(
              `automation ${automation}: run ${run}'s failure is no longer owed in the event store (erased with its run), so it is not told`,
            );
            break;
          }
          try {
            const { said } = await this.parts.send(
              channel,
              toldAt(text, failedAt, this.parts.maxText),
              who,
              mark,
              tries,
              authored,
            );
            outcome = { status: "told", said };
            this.#toldUnrecorded.set(run, said);
            break;
          } catch (err) {
            if (!(err instanceof Waiting)) throw err;
            tries = err.tries;
            await sleep(err.ms, undefined, { signal: stopping }).catch(() => {});
          }
        }
      } catch (err) {
        if (err instanceof Postponed) throw err;
        const why = err instanceof Error ? err.message : String(err);
        outcome = { status: "not told", said: why };
        log.warning(`automation ${automation}: run ${run}'s failure could not be told: ${why}`);
      }
      // Erased with its run: nothing is left to record it in.
      if (!outcome) return;
      await record(outcome);
      this.#toldUnrecorded.delete(run);
    })().catch((err: Postponed) => {
      // Taken up with what else is left: told, or said not to be.
      this.parts.left();
      if (err instanceof TakenOver) return;
      if (this.#toldUnrecorded.has(run)) {
        log.info(
          `automation ${automation}: run ${run}'s failure was told on ${channel}; the event store records so once it answers again (${err.message})`,
        );
        return;
      }
      const later = stopping.aborted
        ? "at the next start"
        : this.parts.running() && !leaseLost
          ? "once the event store answers again"
          : "by the waiter that holds the automations now";
      // A cut names the drain time, which an operator raises for a channel slow to answer.
      const why = err instanceof CutAtStop ? err.cut : err.message;
      log.info(
        recorded === "started"
          ? `automation ${automation}: telling run ${run}'s failure was cut short (${why}) and may or may not have reached ${channel}, so it is not told again`
          : `automation ${automation}: run ${run}'s failure is told ${later}: ${err.message}`,
      );
    });
    this.#telling.set(run, told);
    void told.finally(() => this.#telling.delete(run));
  }

  /**
   * What the author wrote in the steps `run` recorded, as its automation had them when it ran: the
   * notice shows those steps' arguments, whatever the automation is named or holds now.
   */
  async #authored(automation: string, run: number): Promise<string[]> {
    const recorded = await this.parts.runs.get(run).catch(storeFailed);
    const configured = this.parts.automations.find((a) => a.name === automation)?.do;
    return authorsWords(
      (recorded?.steps ?? []).map((step) => {
        const { tool, written: was } = JSON.parse(step.detail) as { tool?: string; written?: unknown };
        // One an older waiter recorded did not keep it: the step as configured now stands in, where
        // it is still the same tool's.
        const now = configured?.[step.step];
        return was ?? (now && toolOf(now) === tool ? written(now) : undefined);
      }),
    );
  }

  /**
   * Tells the notices of failed runs that a stop or a store failure left untold, but those being
   * told now. One whose try was under way may have reached its channel: it is not told again, and
   * the log says so, with the notice.
   */
  async tellUntold(): Promise<void> {
    const { runs, log, automations } = this.parts;
    // Only runs, whose turn this is, begin telling a notice: those told now are all known here.
    const busy = new Set(this.#telling.keys());
    for (const run of await runs.untold()) {
      const said = this.#toldUnrecorded.get(run.id);
      if (said !== undefined) {
        await runs.notice(run.id, { status: "told", said });
        this.#toldUnrecorded.delete(run.id);
        continue;
      }
      if (busy.has(run.id) || !run.notice) continue;
      const automation = automations.find((a) => a.name === run.automation);
      // A run whose automation is gone (renamed, removed) tells the channel it began with, while it is configured.
      const began = run.onFailure && this.parts.hasChannel(run.onFailure) ? run.onFailure : undefined;
      const channel = automation ? automation.onFailure?.notify : began;
      if (run.notice.status === "owed" && channel) {
        const failedAt = run.finishedAt === null ? clock.now() : Date.parse(run.finishedAt);
        this.tell(run.automation, channel, run.id, run.notice.text, failedAt);
        continue;
      }
      const underWay = run.notice.status === "started";
      const why = underWay
        ? "it was being told when waiter stopped or its store failed, and may or may not have reached its channel, so it is not told again"
        : automation
          ? "the automation no longer has an onFailure"
          : run.onFailure
            ? `the automation is no longer configured, nor is the channel ${run.onFailure} it began with`
            : "the automation is no longer configured";
      // Its headline alone: the details name the steps' arguments, which the log said without their
      // values as the run failed (argumentsShown).
      const [headline] = run.notice.text.split("\n");
      log.warning(
        `automation ${run.automation}: run ${run.id}'s failure is not told (${why}): ${headline} automations_runs with event_id "${run.eventId}" shows what its steps did.`,
      );
      await runs.notice(run.id, { status: underWay ? "interrupted" : "not tried", said: why });
    }
  }

  /**
   * Says in the log which notices were told and the store could not record so, before `before`
   * (the stop, another waiter taking the automations over), and what is then thought of them; and
   * forgets them.
   */
  sayToldUnrecorded(before: string, then: string): void {
    for (const run of this.#toldUnrecorded.keys()) {
      this.parts.log.warning(
        `automation run ${run}: its failure was told, which the event store could not record before ${before}: ${then}`,
      );
    }
    this.#toldUnrecorded.clear();
  }

  /** Settles once every notice being told has recorded where it got to. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#telling.values());
  }
}
