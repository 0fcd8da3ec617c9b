import { setMaxListeners } from "node:events";
import { UpstreamError } from "../errors.js";
import { clock } from "../time.js";
import type { Call } from "./types.js";

/**
 * The call, its signal now also aborting with a TimeoutError at the deadline, and `end` to disarm
 * it. undici's body timeout counts only the wait between two chunks, so an upstream that drips
 * its answer outlasts it; and on Node 20 a signal from AbortSignal.timeout() that only
 * AbortSignal.any() refers to is collected, its timer cleared: this timer is held until `end`.
 */
export function withDeadline(call: Call): { call: Call; end: () => void } {
  const controller = new AbortController();
  const cancel = () => controller.abort(call.signal.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException("The tool call's deadline passed.", "TimeoutError")),
    Math.max(0, call.deadline - clock.now()),
  );
  // Each request of a call listens on its signal, one to each target of a channel at once: no
  // number is a leak. Said here, where requests begin, so that a call answered from the cache
  // does not pay for it.
  setMaxListeners(0, call.signal);
  if (call.signal.aborted) cancel();
  else call.signal.addEventListener("abort", cancel, { once: true });
  return {
    call: { ...call, signal: controller.signal },
    end: () => {
      clearTimeout(timer);
      call.signal.removeEventListener("abort", cancel);
    },
  };
}

/**
 * Throws, before a request goes out, where the call may send none (Call.mayNotSend): `upstream` was
 * not asked (`to` send it). Nothing was sent, so it may be asked later.
 */
export function throwIfMayNotSend(call: Call, upstream: string, to?: string): void {
  const why = call.mayNotSend?.();
  if (why)
    throw new UpstreamError(`${upstream} was not asked${to ? ` to ${to}` : ""}: ${why}.`, undefined, undefined, true);
}

/** Whether `signal` aborted for another reason than the deadline withDeadline set: a stop or a cancel. */
export function stoppedBeforeDeadline(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as Error | undefined)?.name !== "TimeoutError";
}

/**
 * `promise`, or a rejection with the signal's reason as soon as it aborts. A promise given up on at
 * once is still heard: its failure, heard by none, would be an unhandled rejection, logged as a fault.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

const nothingToEnd = () => {};

/**
 * One signal that aborts when `first` or `second` (when there is one) does, with its reason, and
 * `end` to let go of them: AbortSignal.any would tie each call's signal to a long-lived one (a
 * stop's) for good on Node 20.
 */
export function eitherSignal(
  first: AbortSignal,
  second: AbortSignal | undefined,
): { signal: AbortSignal; end: () => void } {
  if (!second) return { signal: first, end: nothingToEnd };
  const controller = new AbortController();
  const abort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  for (const signal of [first, second]) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener("abort", abort, { once: true });
  }
  return {
    signal: controller.signal,
    end: () => {
      first.removeEventListener("abort", abort);
      second.removeEventListener("abort", abort);
    },
  };
}
