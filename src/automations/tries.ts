import type { Notified } from "../toolset.js";

/**
 * Where a step is in its retry window: its next try (from 0), and when its first began; for a
 * notification, where its earlier tries got to (absent in runs stored before it was kept); and
 * whether the step is being done again, as it was under way when waiter stopped (`redone`).
 */
export type Tries = { attempt: number; started: number; notified?: Notified; redone?: true };

/** A step that failed for now, to be tried again in `ms`: its run waits in the store meanwhile. */
export class Waiting extends Error {
  constructor(
    readonly ms: number,
    readonly tries: Tries,
  ) {
    super(`waiting ${ms} ms`);
  }
}

/** A run that must wait for a later start: waiter is stopping, or the store could not record a step. */
export class Postponed extends Error {}

/**
 * Postponed by a stop whose drain time ran out while the call waited for its answer: `cut` says so,
 * for the caller to tell what that leaves (a step's run is taken up at the next start; a failure's
 * notice is not told again).
 */
export class CutAtStop extends Postponed {
  constructor(readonly cut: string) {
    super("waiter is stopping");
  }
}

/** Postponed for good: another waiter took the automations over, and the log has said what the call came to. */
export class TakenOver extends Postponed {}
