import type { IncomingHttpHeaders } from "node:http";
import { LRUCache } from "lru-cache";
import { Agent, type Dispatcher, interceptors, request } from "undici";
import type { z } from "zod";
import { ToolError, UpstreamError } from "../errors.js";
import { clock } from "../time.js";
import { describeFailure, describeStatus } from "./failures.js";
import { freshSeconds } from "./freshness.js";
import { deadlineRetry } from "./retry.js";

/** What a tool call hands to every upstream request it makes. */
export interface Call {
  /** Aborts when the client cancels (and, inside a request, when the deadline passes). */
  signal: AbortSignal;
  /** Epoch milliseconds by which the whole call, retries included, must be answered. */
  deadline: number;
}

export interface HttpClientOptions {
  userAgent: string;
  maxResponseBytes: number;
  connectTimeoutMs?: number;
  /** Longest wait for the response headers, and between two body chunks. */
  responseTimeoutMs?: number;
  maxRetries?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Bound of the cache, counted as the cached answers' JSON text length. */
  cacheBytes?: number;
}

export interface RequestOptions {
  method?: Dispatcher.HttpMethod;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Seconds a successful JSON answer to a GET stays fresh in the cache, replacing what the
   * upstream's Cache-Control says: a toolset may know better (a published fixing never changes).
   */
  ttl?: number;
  /** Hears every answer that comes over the network (not cached ones), before it is read. */
  onAnswer?: (response: HttpResponse) => void;
  /** Retry a 429 only when it says when (Retry-After): for upstreams whose terms count retries against you. */
  throttleNeedsRetryAfter?: boolean;
}

export interface HttpResponse {
  /** The URL the request went to, query (and any key in it) included: never show it whole. */
  url: URL;
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const IDEMPOTENT: Dispatcher.HttpMethod[] = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"];

/** What lets an upstream answer "not modified" (304) instead of sending an answer again. */
interface Validators {
  etag?: string;
  lastModified?: string;
}

interface Cached {
  value: unknown;
  size: number;
  /** False for an answer that may serve the callers waiting for it, but no later one. */
  reusable: boolean;
  validators?: Validators;
}

/**
 * Loads a value for the cache, within `call`. A stale entry, when there is one, is passed so
 * the load can revalidate it. `size` is the answer's length, `fresh` its lifetime in seconds.
 */
type Load = (
  call: Call,
  stale?: Cached,
) => Promise<{ value: unknown; size: number; fresh: number; validators?: Validators }>;

function validatorsOf(headers: IncomingHttpHeaders): Validators | undefined {
  const etag = headers.etag === undefined ? undefined : String(headers.etag);
  const lastModified = headers["last-modified"] === undefined ? undefined : String(headers["last-modified"]);
  if (!etag && !lastModified) return undefined;
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

/**
 * The one upstream HTTP client. Requests go through undici: an Agent keeps one keep-alive
 * pool per origin and caps the response size, and the retry interceptor retries idempotent
 * requests within the call's deadline. Successful JSON answers to GETs are cached parsed and
 * checked, for as long as the upstream or the toolset says they stay true, and identical GETs
 * in flight at once go upstream once (lru-cache's fetch).
 */
export class HttpClient {
  readonly #agent: Agent;
  readonly #dispatcher: Dispatcher;
  readonly #options: Required<HttpClientOptions>;
  readonly #cache: LRUCache<string, Cached, (stale?: Cached) => ReturnType<Load>>;

  constructor(options: HttpClientOptions) {
    this.#options = {
      connectTimeoutMs: 5_000,
      responseTimeoutMs: 15_000,
      maxRetries: 3,
      minRetryDelayMs: 200,
      maxRetryDelayMs: 5_000,
      cacheBytes: 64 * 1024 * 1024,
      ...options,
    };
    const o = this.#options;
    this.#agent = new Agent({
      connect: { timeout: o.connectTimeoutMs },
      headersTimeout: o.responseTimeoutMs,
      bodyTimeout: o.responseTimeoutMs,
      keepAliveTimeout: 30_000,
      maxResponseSize: o.maxResponseBytes,
    });
    // Each request brings its own decision function (deadlineRetry); the last answer of a
    // failed series is handed back as it is, so the caller sees the upstream's status and body.
    this.#dispatcher = this.#agent.compose(interceptors.retry({ throwOnError: false }));
    this.#cache = new LRUCache<string, Cached, (stale?: Cached) => ReturnType<Load>>({
      maxSize: o.cacheBytes,
      // Answers age by waiter's one clock, read afresh each time (lru-cache would otherwise
      // reuse a reading for a millisecond), so a test that moves the clock sees them expire.
      perf: clock,
      ttlResolution: 0,
      sizeCalculation: (entry) => Math.max(1, entry.size),
      // A stale entry stays until evicted: with its validators it can be revalidated (304).
      noDeleteOnStaleGet: true,
      fetchMethod: async (_key, stale, { options, context: load }) => {
        const { value, size, fresh, validators } = await load(stale);
        // lru-cache reads a ttl of 0 as "forever"; an answer not to reuse is deleted once served
        // unless it can be revalidated.
        options.ttl = fresh > 0 ? fresh * 1000 : 1;
        return { value, size, reusable: fresh > 0, ...(validators ? { validators } : {}) };
      },
    });
  }

  /**
   * The cached value under `key`, or the one `load` fetches from `upstream`. Concurrent misses
   * share one load, which runs to the first caller's deadline but not its cancellation: a
   * caller that gives up leaves, the others keep waiting.
   */
  async cached(upstream: Upstream, key: string, call: Call, load: Load): Promise<unknown> {
    // A fresh answer needs no promise of the cache's and no listener on the caller's signal.
    const fresh = this.#cache.get(key);
    if (fresh?.reusable) return fresh.value;
    // The shared load keeps the first caller's deadline, not its cancellation.
    const shared = (stale?: Cached) => load({ signal: new AbortController().signal, deadline: call.deadline }, stale);
    // Each caller waits until its own deadline, which may come before the shared load's.
    const own = withDeadline(call);
    try {
      // An entry that was never fresh (no max-age, only validators) is revalidated every time.
      const forceRefresh = fresh !== undefined && !fresh.reusable;
      const entry = (await untilAborted(
        this.#cache.fetch(key, { context: shared, forceRefresh }),
        own.call.signal,
      )) as Cached;
      if (!entry.reusable && !entry.validators && this.#cache.peek(key, { allowStale: true }) === entry) {
        this.#cache.delete(key);
      }
      return entry.value;
    } catch (err) {
      // A load's own failure is already worded; a deadline or a cancellation is worded here.
      throw err instanceof ToolError
        ? err
        : describeFailure(err, upstream.name, upstream.baseUrl, own.call, this.#options);
    } finally {
      own.end();
    }
  }

  /** The User-Agent every request carries unless its upstream names another. */
  get userAgent(): string {
    return this.#options.userAgent;
  }

  /**
   * A named upstream at a base URL, as settings.ts parsed and checked it. `defaults` go with
   * every request to it: an identifying User-Agent, a key in the query.
   */
  upstream(name: string, baseUrl: URL, defaults: UpstreamDefaults = {}): Upstream {
    return new Upstream(name, baseUrl, this, defaults);
  }

  /** Sends one request; non-2xx answers are returned, transport failures become UpstreamError. */
  async send(name: string, url: URL, options: RequestOptions, toolCall: Call): Promise<HttpResponse> {
    const { call, end } = withDeadline(toolCall);
    const method = options.method ?? "GET";
    const dispatchOptions = {
      method,
      dispatcher: this.#dispatcher,
      signal: call.signal,
      headers: {
        "user-agent": this.#options.userAgent,
        accept: "application/json",
        ...options.headers,
      },
      body: options.body,
      retryOptions: {
        retry: deadlineRetry(call, {
          methods: IDEMPOTENT,
          maxRetries: this.#options.maxRetries,
          minDelayMs: this.#options.minRetryDelayMs,
          maxDelayMs: this.#options.maxRetryDelayMs,
          throttleNeedsRetryAfter: options.throttleNeedsRetryAfter ?? false,
        }),
      },
    };
    try {
      const response = await request(url, dispatchOptions as Parameters<typeof request>[1]);
      const text = await response.body.text();
      return { url, status: response.statusCode, headers: response.headers, text };
    } catch (err) {
      throw describeFailure(err, name, url, call, this.#options, !["GET", "HEAD", "OPTIONS"].includes(method));
    } finally {
      end();
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/**
 * The call, its signal now also aborting with a TimeoutError at the deadline, and `end` to disarm
 * it. undici's body timeout counts only the wait between two chunks, so an upstream that drips
 * its answer outlasts it; and on Node 20 a signal from AbortSignal.timeout() that only
 * AbortSignal.any() refers to is collected, its timer cleared: this timer is held until `end`.
 */
function withDeadline(call: Call): { call: Call; end: () => void } {
  const controller = new AbortController();
  const cancel = () => controller.abort(call.signal.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException("The tool call's deadline passed.", "TimeoutError")),
    Math.max(0, call.deadline - clock.now()),
  );
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

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** What every request to one upstream carries besides its own options. */
export interface UpstreamDefaults {
  headers?: Record<string, string>;
  query?: RequestOptions["query"];
  /** See RequestOptions. */
  throttleNeedsRetryAfter?: boolean;
}

export class Upstream {
  constructor(
    readonly name: string,
    readonly baseUrl: URL,
    private readonly client: HttpClient,
    private readonly defaults: UpstreamDefaults = {},
  ) {
    const root = new URL(baseUrl);
    root.search = "";
    root.hash = "";
    this.#root = root.href.replace(/\/$/, "");
  }

  /** The base URL without its query and a trailing slash: a path is appended to it. */
  readonly #root: string;

  /** `path` (absolute, without a query) under the base URL; parsed once, since a cached call builds one too. */
  url(path: string, query: RequestOptions["query"] = {}): URL {
    const url = new URL(`${this.#root}${path}${this.baseUrl.search}`);
    for (const params of [query, this.defaults.query ?? {}]) {
      for (const key in params) {
        const value = params[key];
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
    }
    return url;
  }

  /** Any answer, 2xx or not; the caller reads the status. */
  send(path: string, options: RequestOptions, call: Call): Promise<HttpResponse> {
    return this.client.send(this.name, this.url(path, options.query), this.#withDefaults(options), call);
  }

  #withDefaults(options: RequestOptions): RequestOptions {
    const { headers, throttleNeedsRetryAfter } = this.defaults;
    return {
      ...(throttleNeedsRetryAfter === undefined ? {} : { throttleNeedsRetryAfter }),
      ...options,
      ...(headers ? { headers: { ...headers, ...options.headers } } : {}),
    };
  }

  /**
   * A 2xx JSON answer checked against `schema`. Anything else is an UpstreamError that says
   * what the upstream answered; `onStatus` may turn a particular status into a better one.
   * GETs are cached, checked, for `ttl` seconds or as long as the upstream's Cache-Control or
   * Expires says; a stale answer with an ETag or Last-Modified is revalidated (304 keeps it).
   * One URL is always read with one schema.
   */
  async json<S extends z.ZodType>(
    schema: S,
    path: string,
    options: RequestOptions,
    call: Call,
    onStatus?: (response: HttpResponse) => Error | undefined,
  ): Promise<z.output<S>> {
    const load = async (within: Call, stale?: { value: unknown; size: number; validators?: Validators }) => {
      const known = stale?.validators;
      const conditional = {
        ...(known?.etag ? { "if-none-match": known.etag } : {}),
        ...(known?.lastModified ? { "if-modified-since": known.lastModified } : {}),
      };
      const sent = this.#withDefaults(options);
      const response = await this.client.send(
        this.name,
        this.url(path, options.query),
        { ...sent, headers: { ...sent.headers, ...conditional } },
        within,
      );
      options.onAnswer?.(response);
      const fresh = options.ttl ?? freshSeconds(response.headers);
      if (response.status === 304 && stale) {
        // Not modified: the stored answer stands, fresh for as long as the 304 says.
        return { value: stale.value, size: stale.size, fresh, validators: validatorsOf(response.headers) ?? known };
      }
      return {
        value: this.read(schema, response, onStatus),
        size: response.text.length,
        fresh,
        validators: validatorsOf(response.headers),
      };
    };
    if ((options.method ?? "GET") !== "GET") return (await load(call)).value as z.output<S>;
    return (await this.client.cached(this, this.#cacheKey(path, options.query), call, load)) as z.output<S>;
  }

  /**
   * What tells a GET apart in the cache: the upstream and the request's own path and query,
   * cheaper to build than its URL. The upstream's default query (a key) is left out.
   */
  #cacheKey(path: string, query: RequestOptions["query"] = {}): string {
    let key = `${this.name} ${this.#root}${path}${this.baseUrl.search}`;
    for (const name in query) {
      const value = query[name];
      if (value !== undefined) key += `&${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`;
    }
    return key;
  }

  /**
   * A 2xx answer's JSON checked against `schema`, or the UpstreamError that says what went
   * wrong; for callers that `send` because they need the headers too (a total count).
   */
  read<S extends z.ZodType>(
    schema: S,
    response: HttpResponse,
    onStatus?: (response: HttpResponse) => Error | undefined,
  ): z.output<S> {
    if (response.status < 200 || response.status >= 300) {
      throw onStatus?.(response) ?? describeStatus(this.name, response);
    }
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      throw new UpstreamError(
        `${this.name} sent an answer that is not JSON (status ${response.status}, ${response.text.length} bytes); the service may be failing, try again later.`,
        response.status,
      );
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UpstreamError(
        `${this.name} sent an answer in an unexpected format (${issue?.path.join(".") || "body"}: ${issue?.message}); the service may have changed or be failing.`,
        response.status,
      );
    }
    return parsed.data;
  }
}
