import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import { neverConnected, tellingCode } from "../net-failures.js";
import { clock, DAY_MS } from "../time.js";
import { httpDate } from "./date.js";
import { NOT_IMPLEMENTED, tunnelRefused } from "./proxy.js";
import type { Call } from "./types.js";
import { BrokenAnswer } from "./whole.js";

export interface RetryPolicy {
  methods: Dispatcher.HttpMethod[];
  maxRetries: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** How long a connection has to open: a retry after one that did not begins only if this fits before the deadline. */
  connectTimeoutMs: number;
  /**
   * Whether the request goes through a proxy (HTTPS_PROXY): its connection then opens in three steps
   * given that time each, the connection to the proxy, the proxy's answer to its CONNECT, and the
   * upstream's TLS handshake through the tunnel.
   */
  proxied?: boolean;
  /** Retry a 429 only when it says when (Retry-After): for upstreams that count a retry against you. */
  throttleNeedsRetryAfter?: boolean;
  /**
   * Whether an answer kept stands in should the request fail (stale-if-error), for every caller
   * waiting on it: a connection that did not open in time is not tried again, as an upstream that is
   * down would hold the call a connect timeout more for each try before that answer is given.
   */
  keptStandsIn?: () => boolean;
  /**
   * Whether no try of the request was written yet (Reached): a connection cut as it opened, its TLS
   * handshake not done, sent nothing, so the request may be sent again whatever its method.
   */
  unwritten?: () => boolean;
  /** Hears a connection that did not open in time, as the request is sent again for those an answer kept does not stand in for. */
  notOpened?: (err: Error) => void;
  /**
   * Hears a 429 or 503 that asks for a wait (Retry-After, in ms): at once, or where its words may ask
   * for less (wordsMayShorten) as it is sent again, as one handed back is heard by its reader with them.
   */
  askedToWait?: (status: number, headers: Record<string, string | string[] | undefined>, ms: number) => void;
  /** Whether an answer's words may hold reads less than its Retry-After asks (UpstreamOptions.holdsReadsMs). */
  wordsMayShorten?: boolean;
  /**
   * For a read, waits out the hold that wait set (or one that ends later) in place of it, less when
   * it ends sooner (a write taken meanwhile): true once it is over, false where it outlasts the call.
   */
  waitOutHold?: () => Promise<boolean>;
}

const RETRY_STATUS = [429, 502, 503, 504];
/** Connection failures that may pass; a name that does not resolve (ENOTFOUND) will not. */
const RETRY_CODES = [
  "ECONNRESET",
  "ECONNREFUSED",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ENETDOWN",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EHOSTUNREACH",
  "EPIPE",
  "UND_ERR_SOCKET",
  // A TLS record that failed its check, garbled on the way: as waiter read it, or as the server did.
  "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
  "ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC",
];

/**
 * Whether `err` is an answer whose connection closed before all of it came: on a connection the
 * upstream closes after each answer (Connection: close), undici tells a body short of its
 * Content-Length, or without its last chunk, as a length mismatch or a parser's error at the end,
 * not as the socket's error (UND_ERR_SOCKET) a kept connection's break is told as.
 */
function cutShort(err: Error & { code?: string }): boolean {
  if (!(err instanceof BrokenAnswer)) return false;
  return (
    err.code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" || (err.cause as Error | undefined)?.name === "HTTPParserError"
  );
}

/**
 * Whether `err` is a proxy's 5xx to the CONNECT for the request (it could not reach the upstream,
 * or is overloaded): the tunnel never opened, so the request never left, and may be sent again
 * whatever its method, as after a connection refused. A 4xx (407 for credentials, 403 for its
 * rules) lasts until someone changes them, and so does a 501, from a server that is no proxy.
 */
function tunnelFailed(err: Error): boolean {
  const status = tunnelRefused(err);
  return status !== undefined && status >= 500 && status !== NOT_IMPLEMENTED;
}

/**
 * How long a connection may take to be said not opened: undici counts its connect timeout on a clock
 * of its own that ticks every half second, and ends it on a tick, up to half a second past its time,
 * and a second after it began at the soonest.
 */
const connectTimeoutEndsWithinMs = (timeoutMs: number) => Math.max(timeoutMs + 500, 1_000);

type RetryCallback = (err?: Error | null) => void;
interface RetryError extends Error {
  statusCode?: number;
  code?: string;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * The longest a wait asked for holds reads before one is sent again, whose answer sets the next.
 * A 503's is when the service expects to be back, and a maintenance page that names an hour may
 * end in ten minutes; a 429's is when the account may ask again (Open-Meteo's daily limit: the
 * next day), held a day at most, as an HTTP date from a server with a wrong clock may name next year.
 */
export const longestHoldMs = (status: number) => (status === 503 ? 5 * 60_000 : DAY_MS);

/**
 * Whether an answer of `status` is the upstream's own, so that it is up: a 2xx, or a refusal of its
 * own (a 404 for what it has not); not a 5xx, a 429 or a 403, which a gateway, a firewall or a CDN
 * in front may answer in its place (a 403 its caller knows for the upstream's own is its own too).
 */
export const answeredItself = (status: number) => status < 500 && status !== 429 && status !== 403;

/**
 * Milliseconds the Retry-After of an answer with `headers` asks for (delta-seconds or an HTTP date),
 * if it says: 0 when it says now (0, a date past). Anything else, "1.5" too, says nothing. A date
 * is counted from the answer's own Date, by the clock that wrote both, where it has one (and its
 * Age, where a cache in front kept it that long): this machine's clock, minutes off, would hold
 * reads as much too long, or not at all.
 */
export function retryAfterMs(
  headers: Pick<IncomingHttpHeaders, "retry-after" | "date" | "age">,
  now = clock.now(),
): number | undefined {
  const value: string | string[] | undefined = headers["retry-after"];
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = httpDate(text, now);
  if (date === undefined) return undefined;
  const sent = typeof headers.date === "string" ? httpDate(headers.date, now) : undefined;
  const aged = sent === undefined ? now : sent + (Number(headers.age ?? 0) || 0) * 1000;
  return Math.max(0, date - aged);
}

/**
 * The decision function for undici's retry interceptor: idempotent requests only, on
 * connection failures and on 429/502/503/504, with exponential backoff and jitter; any request
 * on a connection failure that may pass and proves it never left (neverConnected: refused, not
 * open in time, no route as it opened, a name not resolved for now; or one cut before any try of
 * it was written, as its TLS handshake went on), or on a proxy's 5xx to its
 * CONNECT, which it never went beyond. A wait, Retry-After's included, that would not end before
 * the call's deadline is not taken: the last answer goes back as it is, so the model hears "try
 * again in N s" at once.
 */
export function deadlineRetry(call: Call, policy: RetryPolicy) {
  /** When the try that failed was sent: the first as the function is made, right before it. */
  let sentAt = clock.now();
  return (
    err: RetryError,
    { state, opts }: { state: { counter: number }; opts: Dispatcher.DispatchOptions },
    cb: RetryCallback,
  ) => {
    const { statusCode, headers } = err;
    // Tried at several addresses (IPv6 and IPv4), by the one that tells most, not the first:
    // ::1 where IPv6 is off fails (EADDRNOTAVAIL) before 127.0.0.1 refuses.
    const code = tellingCode(err);
    const asked = retryAfterMs(headers ?? {});
    const held = (statusCode === 429 || statusCode === 503) && asked !== undefined && asked > 0;
    if (held && !policy.wordsMayShorten) policy.askedToWait?.(statusCode, headers ?? {}, asked);
    const retryable =
      tunnelFailed(err) ||
      (code !== undefined && RETRY_CODES.includes(code) && (neverConnected(err) || policy.unwritten?.() === true)) ||
      (policy.methods.includes(opts.method) &&
        (statusCode !== undefined
          ? RETRY_STATUS.includes(statusCode) &&
            !(statusCode === 429 && policy.throttleNeedsRetryAfter && asked === undefined)
          : (code !== undefined && RETRY_CODES.includes(code)) || cutShort(err)));
    if (!retryable || state.counter > policy.maxRetries || call.signal.aborted) return cb(err);
    const notOpened = code === "UND_ERR_CONNECT_TIMEOUT";
    if (notOpened && policy.keptStandsIn?.()) return cb(err);

    const backoff = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (state.counter - 1));
    // A Retry-After that asks for no wait is no reason to retry at once, in a burst: backoff, as undici's own.
    const delay = asked || backoff / 2 + Math.random() * (backoff / 2);
    // Leave room for the retried request itself to be answered. After a connection that did not
    // open in time, the next one is given its whole time to open, or none: cut off by the deadline
    // while connecting, the call would say the upstream did not answer, not that it never connected.
    // One through a proxy after any other failure without an answer opens a tunnel again, and is
    // given as long as the try that failed took, up to that: a proxy slow to refuse a CONNECT is as
    // slow again, one quick to is asked again while the call has a moment left.
    const opensWithinMs = connectTimeoutEndsWithinMs(policy.connectTimeoutMs) * (policy.proxied ? 3 : 1);
    const tunnelsAgainMs = policy.proxied && statusCode === undefined ? clock.now() - sentAt : 0;
    const room = notOpened ? opensWithinMs : Math.max(Math.min(tunnelsAgainMs, opensWithinMs), policy.minDelayMs);
    if (clock.now() + delay + room >= call.deadline) return cb(err);
    const sendAgain = () => {
      sentAt = clock.now();
      cb(null);
    };
    if (notOpened) policy.notOpened?.(err);
    if (held && policy.wordsMayShorten) policy.askedToWait?.(statusCode, headers ?? {}, asked);
    // The wait a read was asked for is its account's hold, which a write taken meanwhile may end.
    if (held && policy.waitOutHold) {
      policy.waitOutHold().then(
        (over) => (over && !call.mayNotSend?.() ? sendAgain() : cb(err)),
        () => cb(err),
      );
      return;
    }

    const timer = setTimeout(() => {
      call.signal.removeEventListener("abort", onAbort);
      // A call that may send no more (its automation's lease lapsed as it waited) ends with the last answer.
      if (call.mayNotSend?.()) cb(err);
      else sendAgain();
    }, delay);
    const onAbort = () => {
      clearTimeout(timer);
      cb(err);
    };
    call.signal.addEventListener("abort", onAbort, { once: true });
  };
}
