// Loaded before waiter checks the Node.js version (cli.ts): written as Node.js 12 reads it.

/**
 * The signals that stop waiter cleanly, in every mode. SIGHUP is a closed terminal (or an SSH
 * session ended) without nohup: Node's default for it is to exit at once, cutting what is in flight.
 */
const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * The first stop signal that came while they were held. Those after it (Ctrl+C pressed twice as
 * waiter loads) ask no more: nothing is in flight yet to cut.
 */
let held: string | undefined;
const hold = (signal: string) => {
  if (held === undefined) held = signal;
};

/**
 * Holds the stop signals from waiter's first line until the mode takes them over, as it starts.
 * Before, Node's default would end waiter by the signal without a word, and, as a container's
 * PID 1, which has no default action for them, ignore it: `docker stop` right after `docker run`
 * would wait for its timeout and kill waiter (exit status 137).
 */
export function holdStopSignals(): void {
  for (const signal of STOP_SIGNALS) process.on(signal, hold);
}

/**
 * Gives the stop signals to `handler` from now on, and at once the one that came while held. Each
 * is given before it is taken from `hold`: a signal with no listener left stops being watched, and
 * one that came while loading kept Node too busy to hand it over would be lost, waiter starting on.
 */
export function takeStopSignals(handler: (signal: string) => void): void {
  for (const signal of STOP_SIGNALS) {
    process.on(signal, handler);
    process.off(signal, hold);
  }
  if (held !== undefined) handler(held);
}
