import type { EventStore } from "../events/store.js";

/** How many counts the listener writes at once; a stranger can send refusals faster than any store writes them. */
const COUNTS_IN_FLIGHT = 2;

/**
 * Counts requests into the store, at most COUNTS_IN_FLIGHT writes at once, so that a flood of
 * refusals leaves the store's connections to the deliveries it must store. Past the bound, counts
 * are added up per source and outcome, and each sum is written as one when a write finishes.
 * `writeHeldCounts` writes every sum held at once, for a listener that takes no more requests.
 */
export function boundedCounts(
  store: EventStore | undefined,
  failed: (source: string, outcome: string, n: number, err: unknown) => void,
) {
  const held = new Map<string, { source: string; outcome: string; n: number }>();
  let inFlight = 0;
  const write = (source: string, outcome: string, n: number) => {
    if (!store) return;
    inFlight += 1;
    store
      .count(source, outcome, n)
      .catch((err) => failed(source, outcome, n, err))
      .finally(() => {
        inFlight -= 1;
        writeNext();
      });
  };
  // The sum held longest first: one written and then held anew waits behind the others.
  const writeNext = () => {
    for (const [key, { source, outcome, n }] of held) {
      held.delete(key);
      write(source, outcome, n);
      return;
    }
  };
  return {
    count(source: string, outcome: string, n = 1) {
      if (inFlight < COUNTS_IN_FLIGHT) {
        write(source, outcome, n);
        return;
      }
      const key = `${source}\n${outcome}`;
      const sum = held.get(key);
      if (sum) sum.n += n;
      else held.set(key, { source, outcome, n });
    },
    writeHeldCounts() {
      while (held.size > 0) writeNext();
    },
  };
}
