import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import type { ChangeWords } from "../errors.js";
import type { Log } from "../log.js";
import type { HttpProxy } from "./proxy.js";

/** What a tool call hands to every upstream request it makes. */
export interface Call {
  /** Aborts when the client cancels (and, inside a request, when the deadline passes). */
  signal: AbortSignal;
  /** Epoch milliseconds by which the whole call, retries included, must be answered. */
  deadline: number;
  /**
   * Why the call may send no request more, asked before each (a retry's too), or undefined: an
   * automation's step whose process lost its lease meanwhile (frozen past it) sends nothing.
   */
  mayNotSend?: () => string | undefined;
  /**
   * The deadline's setting, for a call whose failure a person reads, who may raise it: a check at
   * start (`WAITER_TOOL_TIMEOUT`), an automation's step with its value (`WAITER_TOOL_TIMEOUT, 20 s`).
   * A change not confirmed by then names it.
   */
  deadlineSetting?: string;
}

export interface HttpClientOptions {
  userAgent: string;
  maxResponseBytes: number;
  /** The setting that gives maxResponseBytes, as a failure for a larger answer names it. */
  maxResponseBytesSetting?: string;
  connectTimeoutMs?: number;
  /** Longest wait for the response headers, and between two body chunks. */
  responseTimeoutMs?: number;
  maxRetries?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /**
   * Longest an idle connection is kept for the next request: the upstream's Keep-Alive hint may
   * ask for less, never for more.
   */
  keepAliveMs?: number;
  /** Requests in flight to one origin at most; more wait for one of them to end. */
  connectionsPerHost?: number;
  /** The proxy requests go through, but to loopback and the hosts its NO_PROXY names. */
  proxy?: HttpProxy | undefined;
  /** Bound of the cache, counted as the cached answers' JSON text length and KEEPING_BYTES each. */
  cacheBytes?: number;
  /** Where a warning goes that an upstream refuses waiter's credentials, which only a person mends. */
  log?: Log;
}

/** The client's options once its defaults are filled in: all but the proxy and the log, which may be none. */
export type ClientOptions = Required<Omit<HttpClientOptions, "proxy" | "log">> &
  Pick<HttpClientOptions, "proxy" | "log">;

/** One request as the client sends it. */
export interface Outgoing {
  method: Dispatcher.HttpMethod;
  url: URL;
  /** The path under the upstream's base URL, as the call named it. */
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Whether the request may change something upstream (see RequestOptions.changes). */
  changes: boolean;
  /** Retry a 429 only when it says when (Retry-After). */
  throttleNeedsRetryAfter: boolean;
  /**
   * The credentials the upstream was declared with, hashed: a wait asked on one host holds the
   * reads made with them alone, not those of another bot or shop there, whose limits are its own.
   */
  account: string;
  /** The setting that holds the upstream's URL, as a failure to reach it names it (UpstreamOptions.urlSetting). */
  urlSetting: string;
  /**
   * Whether the URL is a public API's that waiter chose, not one a setting gave (isWaitersOwnUrl):
   * a failure to connect to it, or a certificate it shows, is the network's, not the setting's.
   */
  urlIsWaitersOwn: boolean;
  /** What to do about a change no answer confirmed (UpstreamOptions.changeAdvice). */
  changeAdvice: string;
  /** What a failure calls the change (UpstreamOptions.change). */
  change: ChangeWords;
  /** Whether a wait its answer asks for holds the reads of its own path alone (RequestOptions.aside). */
  aside?: boolean;
  /** The longest an answer that asks for a wait holds the reads after it, by its words (UpstreamOptions.holdsReadsMs). */
  holdsReadsMs?: ((answer: Pick<HttpResponse, "status" | "text">) => number | undefined) | undefined;
}

/** An upstream's answer, read whole. */
export interface HttpResponse {
  /** The URL the request went to, query (and any key in it) included: never show it whole. */
  url: URL;
  /** The path under the upstream's base URL that was asked for: /orders/1042. */
  path: string;
  method: Dispatcher.HttpMethod;
  /** Whether the request may have changed something upstream: a failure then says it may have been made. */
  changes: boolean;
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /**
   * Credentials the request carried besides its upstream's own (a call's Authorization header): an
   * answer quoted leaves them out too.
   */
  credentials?: readonly string[];
  /** The tool's arguments its parameters came from, where the request named them (RequestOptions.arguments). */
  arguments?: Readonly<Record<string, string>>;
  /**
   * Where a refusal held answered without asking, or the reads after a refusal are held for less than
   * its Retry-After asks (Outgoing.holdsReadsMs): milliseconds before the client asks again.
   */
  heldMs?: number;
}

/**
 * An upstream's own words for one of its error answers (non-2xx), given the upstream's name and
 * the setting that holds its base URL (UpstreamOptions.urlSetting); undefined leaves the answer to
 * the general wording (status, the upstream's message, Retry-After).
 */
export type ErrorMapper = (response: HttpResponse, upstream: string, urlSetting: string) => Error | undefined;
