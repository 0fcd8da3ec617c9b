import { setTimeout as sleep } from "node:timers/promises";
import type { buildConnector, Dispatcher, Pool } from "undici";
import { throttled } from "../log.js";
import { clock, DAY_MS, lessAgoThan } from "../time.js";
import { AnswerCache } from "./cache.js";
import { eitherSignal, throwIfMayNotSend, withDeadline } from "./deadline.js";
import { describeFailure } from "./failures.js";
import { sentDirectly, throughProxy } from "./proxy.js";
import { answeredItself, deadlineRetry, longestHoldMs, retryAfterMs } from "./retry.js";
import type { Call, ClientOptions, HttpClientOptions, HttpResponse, Outgoing } from "./types.js";
import { type Carrier, Upstream, type UpstreamOptions } from "./upstream.js";
import { errorAnswerTooLarge, type Progress, type Reached, StoppedAnswer, wholeAnswers } from "./whole.js";

export type { Call, HttpClientOptions, HttpResponse } from "./types.js";
export type { RequestOptions, Upstream, UpstreamOptions } from "./upstream.js";

/** What HttpClient.fetch is given beside the URL: what jose's fetch of a key set gives. */
export interface FetchInit {
  method?: string;
  headers?: Headers;
  redirect?: "follow" | "manual" | "error";
  signal?: AbortSignal;
}

const IDEMPOTENT: Dispatcher.HttpMethod[] = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"];
/**
 * Codings asked for, which undici's decompress interceptor decodes. Not br, which it decodes too
 * when an upstream sends it unasked: a brotli stream may declare a 16 MiB window, which its decoder
 * holds before any limit on the decoded bytes is reached.
 */
const ACCEPTED_CODINGS = "gzip, deflate";

/** How long a connection is kept for the next request, unless the upstream says less (Keep-Alive). */
const KEEP_ALIVE_MS = 30_000;

/** How long a connection has to open, unless the client is given less. */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * `connect`'s connections (undici's, from its options, or a proxy's tunnel), which fail with a TLS
 * alert the server sends once the handshake is done on waiter's side (TLS 1.3's
 * certificate_required, for a client certificate): undici would fail the request with the end of
 * the connection that follows ("other side closed"), the alert lost.
 */
function keepingTlsAlerts(
  undici: typeof import("undici"),
  connect: buildConnector.BuildOptions | buildConnector.connector = {},
): buildConnector.connector {
  const connector = typeof connect === "function" ? connect : undici.buildConnector(connect);
  return (options, callback) =>
    connector(options, (...args) => {
      const socket = args[1];
      // Destroyed at the alert, the connection's end is not heard: the alert is what the request fails with.
      socket?.prependListener("error", (err: { code?: string }) => {
        if (/^ERR_SSL_/.test(err.code ?? "")) socket.destroy();
      });
      callback(...args);
    });
}

/** A 429 or 503 that asked for a wait: when it came, the wait in milliseconds, and the answer. */
interface Wait {
  at: number;
  /** Which of the waits heard it is (HttpClient.#heard): a request tells those heard before it began by it, whatever the clock did. */
  order: number;
  ms: number;
  answer: Omit<HttpResponse, "url" | "path" | "method" | "changes">;
  /**
   * Heard at its headers, its body still coming: held the call's time at most, as its words, once
   * read, may hold less (UpstreamOptions.holdsReadsMs), and a read with time left waits for them.
   */
  coming?: boolean;
}

/** undici's dispatchers, and how many of the client's requests are under way on them. */
interface Pools {
  dispatchers: Promise<{ agents: Dispatcher[]; routed: Dispatcher; direct: Dispatcher; shared: Dispatcher }>;
  inFlight: number;
}

/**
 * The one upstream HTTP client, made of undici's parts: an Agent keeps one keep-alive pool of a
 * few connections per origin and caps the response size, the retry interceptor retries idempotent
 * requests, and any that never left (a connection refused), within the call's deadline, sending
 * them again whole (wholeAnswers), the decompress
 * interceptor decodes gzip and deflate (and br, sent unasked), and the deduplicate interceptor
 * sends identical GETs in flight at once upstream once. Successful JSON answers to GETs are kept
 * parsed and checked (see AnswerCache). A 429 or 503 that asks for a wait holds that account's
 * reads until it is over (`#waits`). With a proxy set (HTTPS_PROXY), the Agent's requests go
 * through it, but to loopback and the hosts NO_PROXY names (throughProxy).
 */
export class HttpClient {
  /** undici loads with the first request: a start, and a cached answer, do without it. */
  #pools: Pools | undefined;
  /** The pools given up after a sleep, until their requests under way end. */
  readonly #retired = new Set<Pools>();
  /** When a request last went out or came back, by the wall clock. */
  #lastUsed = 0;
  readonly #options: ClientOptions;
  /** Whether a request to a URL goes through the proxy: throughProxy routes requests by it. */
  readonly #proxied: (url: URL) => boolean;
  readonly #carrier: Carrier;
  /**
   * Per origin and account (Outgoing.account), and per path of a read aside (Outgoing.aside), the last 429 or 503 that asked for a wait
   * (Retry-After), and until when: reads sent meanwhile, by any session, would only be refused
   * again and count against waiter.
   */
  readonly #waits = new Map<string, Wait>();
  /** How many waits were heard (#waits) so far. */
  #heard = 0;
  /** Wakes the reads sleeping out a hold, to look again: a wait heard or ended may end theirs sooner. */
  readonly #sleepers = new Set<() => void>();

  constructor(options: HttpClientOptions) {
    this.#options = {
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      responseTimeoutMs: 15_000,
      maxRetries: 3,
      minRetryDelayMs: 200,
      maxRetryDelayMs: 5_000,
      cacheBytes: 32 * 1024 * 1024,
      connectionsPerHost: 4,
      keepAliveMs: KEEP_ALIVE_MS,
      maxResponseBytesSetting: "WAITER_MAX_RESPONSE_BYTES",
      ...options,
    };
    const o = this.#options;
    const directly = o.proxy && sentDirectly(o.proxy.noProxy);
    this.#proxied = (url) => directly !== undefined && !directly(url);
    this.#carrier = {
      send: (upstream, request, call, shared) => this.#send(upstream, request, call, shared),
      cache: new AnswerCache(o.cacheBytes),
      loading: new Map(),
      options: o,
      refusals: o.log && throttled((line) => o.log?.operatorOnly("warning", line)),
    };
  }

  #connect(): Pools {
    this.#dropConnectionsAfterSleep();
    this.#lastUsed = clock.now();
    if (this.#pools) return this.#pools;
    const dispatchers = import("undici").then((undici) => {
      const { Agent, Client, Pool, interceptors } = undici;
      const o = this.#options;
      const agentOptions = {
        connect: { timeout: o.connectTimeoutMs },
        headersTimeout: o.responseTimeoutMs,
        bodyTimeout: o.responseTimeoutMs,
        // An upstream's Keep-Alive hint sets a connection's time in undici, up to its own cap of
        // 10 minutes (keepAliveMaxTimeout): capped here too, a hint asks for less, never more.
        keepAliveTimeout: o.keepAliveMs,
        keepAliveMaxTimeout: o.keepAliveMs,
        maxResponseSize: o.maxResponseBytes,
        // The rest wait their turn: a shop on shared hosting has a few PHP workers, and fifty
        // sessions' requests at once would take them all (MET Norway allows 20 a second).
        connections: o.connectionsPerHost,
        // Each origin's dispatcher as undici's Agent makes it (a Client for one connection, else a
        // Pool, whose connector keeps its own TLS sessions), but for TLS alerts (keepingTlsAlerts):
        // the ProxyAgent's too, whose connector opens a tunnel.
        factory: (origin: string | URL, options: Pool.Options) => {
          const own = { ...options, connect: keepingTlsAlerts(undici, options.connect) };
          return options.connections === 1 ? new Client(origin, own) : new Pool(origin, own);
        },
      };
      const agent = new Agent(agentOptions);
      const { dispatcher: routed, proxied } = o.proxy
        ? throughProxy(undici, agent, agentOptions, o.proxy, this.#proxied, o.connectTimeoutMs)
        : { dispatcher: agent, proxied: undefined };
      // An answer in a coding is decoded, error answers too (their words are read), and the
      // decoded bytes are held to the same limit as the bytes that came. undici warns, once per
      // process, that the interceptor is experimental: a log line with nothing in it for anyone.
      const warn = process.emitWarning;
      process.emitWarning = () => {};
      let decompress: ReturnType<typeof interceptors.decompress>;
      try {
        decompress = interceptors.decompress({ skipErrorResponses: false, maxSize: o.maxResponseBytes });
      } finally {
        process.emitWarning = warn;
      }
      // Each request brings its own decision function (deadlineRetry); the last answer of a
      // failed series is handed back as it is, so the caller sees the upstream's status and body.
      const direct = routed.compose(wholeAnswers, interceptors.retry({ throwOnError: false }), decompress);
      // Only the GETs Upstream.json reads are shared: a read sent with Upstream.send must see the
      // upstream as it is when asked (an order about to be changed). Each caller that shares one
      // may hold all of its answer (wholeAnswers hands it on at once), as large as the limit lets
      // in: deduplicate's own limit, 5 MiB, would cancel all but the first beyond it.
      const shared = direct.compose(interceptors.deduplicate({ maxBufferSize: o.maxResponseBytes }));
      return { agents: proxied ? [agent, proxied] : [agent], routed, direct, shared };
    });
    this.#pools = { dispatchers, inFlight: 0 };
    return this.#pools;
  }

  /**
   * undici counts a kept connection's idle time in its timers' ticks, which stand still while the
   * computer sleeps: after a night asleep it would send on connections a NAT or a firewall has
   * since forgotten, or that lead out of a network left, and wait for an answer that never comes
   * until the response timeout. Past their keep-alive by the wall clock, none is used again: the
   * next request opens new ones, and the pools are closed once their requests under way end (a
   * retry needs its pool open). A request under way through the sleep calls this as it ends.
   */
  #dropConnectionsAfterSleep() {
    const pools = this.#pools;
    if (!pools || lessAgoThan(this.#lastUsed, this.#options.keepAliveMs)) return;
    this.#pools = undefined;
    this.#retired.add(pools);
    if (pools.inFlight === 0) this.#closeRetired(pools);
  }

  #closeRetired(pools: Pools) {
    const gone = () => this.#retired.delete(pools);
    pools.dispatchers.then(({ agents }) => Promise.all(agents.map((agent) => agent.close()))).then(gone, gone);
  }

  /** The wait kept under `key` (#waits) and the milliseconds left of its hold, while it holds reads. */
  #holding(key: string): { wait: Wait; left: number } | undefined {
    const wait = this.#waits.get(key);
    if (!wait) return undefined;
    // Heard at a time still to come, as a clock set back (NTP) makes of a past one: it holds from
    // now, as long as it asked at most; dropped, a day's limit would be asked again at once.
    wait.at = Math.min(wait.at, clock.now());
    const held = Math.min(wait.ms, longestHoldMs(wait.answer.status));
    if (!lessAgoThan(wait.at, held)) {
      this.#waits.delete(key);
      return undefined;
    }
    return { wait, left: wait.at + held - clock.now() };
  }

  /** Keeps `wait` under `key`, or ends the one kept there without one, and wakes the reads sleeping out a hold. */
  #setWait(key: string, wait?: Omit<Wait, "order">): Wait | undefined {
    const kept = wait && { ...wait, order: ++this.#heard };
    if (kept) this.#waits.set(key, kept);
    else this.#waits.delete(key);
    for (const wake of this.#sleepers) wake();
    this.#sleepers.clear();
    return kept;
  }

  /** Sleeps `ms`, or less when a wait is heard or ended meanwhile (#setWait). */
  async #sleepOut(ms: number, signal: AbortSignal) {
    const woken = new AbortController();
    const wake = () => woken.abort();
    const either = eitherSignal(signal, woken.signal);
    this.#sleepers.add(wake);
    try {
      await sleep(ms, undefined, { signal: either.signal });
    } catch (err) {
      if (signal.aborted) throw err;
    } finally {
      this.#sleepers.delete(wake);
      either.end();
    }
  }

  /** The User-Agent every request carries unless its upstream names another. */
  get userAgent(): string {
    return this.#options.userAgent;
  }

  /**
   * A named upstream at a base URL, as settings.ts parsed and checked it, declared once with what
   * goes with every request to it (an identifying User-Agent, a key) and its own error words. A
   * public API's address that waiter chose (isWaitersOwnUrl) is told apart in its failures' words.
   */
  upstream(name: string, baseUrl: URL, options: UpstreamOptions = {}): Upstream {
    return new Upstream(name, baseUrl, this.#carrier, options);
  }

  /** Sends one request; non-2xx answers are returned, transport failures become UpstreamError. */
  async #send(upstream: string, sent: Outgoing, toolCall: Call, shared: Progress | undefined): Promise<HttpResponse> {
    const { call, end } = withDeadline(toolCall);
    const { method, url, path, changes } = sent;
    const o = this.#options;
    const account = `${url.origin} ${sent.account}`;
    // A read aside (RequestOptions.aside) is held by the account's wait and its own path's, and asks for its path's alone.
    const ownWait = sent.aside ? `${account} ${url.pathname}` : account;
    // A write sent once reads were held is answered by the upstream as it is since: the hold is
    // older, and its answer says when, sooner too. One sent before may be answered after the hold,
    // yet says nothing newer.
    const began = this.#heard;
    const heldBefore = () => (this.#waits.get(account)?.order ?? began) <= began;
    const heard = (status: number, headers: HttpResponse["headers"], ms: number, text = "", wordsComing = false) => {
      // The hold its headers began was ended while its words came, by a write answered since: it is older.
      if (!wordsComing && coming && !this.#waits.has(ownWait)) return undefined;
      // One over is none.
      const known = this.#holding(ownWait)?.wait;
      // The later end stands, but for one still coming; the answer's own words, once one is read whole, are what is told.
      const newer = changes && heldBefore();
      if (!known || newer || known.coming || known.at + known.ms <= clock.now() + ms || (text && !known.answer.text)) {
        return this.#setWait(ownWait, { at: clock.now(), ms, answer: { status, headers, text }, coming: wordsComing });
      }
      return undefined;
    };
    // Reads are held from the headers of an answer that asks for a wait, while its body comes: a read
    // that cannot wait for its words is told the wait the headers ask for.
    let coming: Wait | undefined;
    const answerBegins = (status: number, headers: HttpResponse["headers"]) => {
      const asked = status === 429 || status === 503 ? retryAfterMs(headers) : undefined;
      if (asked) coming = heard(status, headers, asked, "", true);
    };
    // The hold that ends last stands; slept out, it is looked at again whenever a wait changes. The
    // one that outlasts the call is handed back.
    const holding = () =>
      changes
        ? undefined
        : [...new Set([account, ownWait])]
            .flatMap((key) => this.#holding(key) ?? [])
            .sort((a, b) => b.left - a.left)[0];
    const waitOutHold = async () => {
      for (let hold = holding(); hold; hold = holding()) {
        const room = call.deadline - o.minRetryDelayMs - clock.now();
        // Words still coming may hold less: waited for while the call has time.
        if (hold.left >= room && !(hold.wait.coming && room > 0)) return hold;
        await this.#sleepOut(Math.min(hold.left, room), call.signal);
      }
      return undefined;
    };
    const pools = this.#connect();
    const reached: Reached = shared ?? { written: false };
    pools.inFlight++;
    try {
      const [{ request }, dispatchers] = await Promise.all([import("undici"), pools.dispatchers]);
      const hold = await waitOutHold();
      if (hold) {
        const { wait, left } = hold;
        // The refusal again, as the upstream would give it, with the wait it asked for left, and
        // what is left of the hold: then it is asked again. A day at most, as every reader of a
        // Retry-After takes it: a longer one may be written 1e+21, which says no wait.
        const retryAfter = String(Math.ceil(Math.min(wait.at + wait.ms - clock.now(), DAY_MS) / 1000));
        return {
          url,
          path,
          method,
          changes,
          ...wait.answer,
          headers: { ...wait.answer.headers, "retry-after": retryAfter },
          heldMs: left,
        };
      }
      const dispatchOptions = {
        method,
        dispatcher: shared ? dispatchers.shared : dispatchers.direct,
        signal: call.signal,
        progress: shared,
        reached,
        answerBegins,
        headers: {
          "user-agent": o.userAgent,
          accept: "application/json",
          "accept-encoding": ACCEPTED_CODINGS,
          ...sent.headers,
        },
        body: sent.body,
        retryOptions: {
          retry: deadlineRetry(call, {
            methods: IDEMPOTENT,
            maxRetries: o.maxRetries,
            minDelayMs: o.minRetryDelayMs,
            maxDelayMs: o.maxRetryDelayMs,
            connectTimeoutMs: o.connectTimeoutMs,
            proxied: this.#proxied(url),
            throttleNeedsRetryAfter: sent.throttleNeedsRetryAfter,
            // Callers that share a load each have an answer kept, or not (Progress.withoutKept).
            ...(shared
              ? {
                  keptStandsIn: () => shared.withoutKept === 0,
                  notOpened: (err: Error) => {
                    for (const hear of shared.notOpened) hear(err);
                  },
                }
              : {}),
            unwritten: () => !reached.written,
            askedToWait: heard,
            wordsMayShorten: sent.holdsReadsMs !== undefined,
            ...(changes ? {} : { waitOutHold: async () => !(await waitOutHold()) }),
          }),
        },
      };
      throwIfMayNotSend(call, `${upstream} (${url.host})`);
      const answered = request(url, dispatchOptions as Parameters<typeof request>[1]);
      const response = await unlessStopped(answered, call.signal, reached, shared);
      const { statusCode: status, headers } = response;
      const asked = status === 429 || status === 503 ? retryAfterMs(headers) : undefined;
      // Over the cap once decoded, an error answer is told by its status and headers, as before decoding.
      const text = await response.body.text().catch((err: unknown) => {
        if (errorAnswerTooLarge(status, err)) return "";
        // Its words unread, the wait it asked for holds as asked.
        if (asked) heard(status, headers, asked);
        throw err;
      });
      const held = asked && Math.min(asked, sent.holdsReadsMs?.({ status, text }) ?? asked);
      if (held) heard(status, headers, held, text);
      // A write taken is the upstream answering again: the reads held meanwhile are asked at once. So
      // is any answer of its own to one held by a 503 (a 404 for an order it has not: it is up), not a
      // firewall's 403 in front of it, and not to one held by a 429, which limits the account's rate
      // whatever the upstream answers.
      else if (
        changes &&
        heldBefore() &&
        ((status >= 200 && status < 300) || (answeredItself(status) && this.#waits.get(account)?.answer.status === 503))
      )
        this.#setWait(account);
      return { url, path, method, changes, status, headers, text, ...(held && held < asked ? { heldMs: held } : {}) };
    } catch (err) {
      throw describeFailure(err, upstream, sent, call, o, reached.written);
    } finally {
      // Its body never came to say how long (the connection broke, the request sent again was answered).
      if (coming && this.#waits.get(ownWait) === coming) this.#setWait(ownWait);
      this.#dropConnectionsAfterSleep();
      this.#lastUsed = clock.now();
      if (--pools.inFlight === 0 && this.#retired.has(pools)) this.#closeRetired(pools);
      end();
    }
  }

  /**
   * fetch, going out as every upstream request does (through the proxy, but to loopback and the
   * hosts NO_PROXY names), without the client's retries and cache: for what reads with fetch, the
   * OAuth issuer's metadata and keys.
   */
  async fetch(url: string, init: FetchInit = {}): Promise<Response> {
    const [{ fetch }, { routed }] = await Promise.all([import("undici"), this.#connect().dispatchers]);
    const options = { ...init, dispatcher: routed } as Parameters<typeof fetch>[1];
    return (await fetch(url, options)) as unknown as Response;
  }

  /**
   * Loads undici now rather than at the first request. A process that takes connections from
   * many (webhook senders, MCP clients) may have given them every file handle when that request
   * comes, and Node.js keeps a module that failed to load so (EMFILE) failed until a restart.
   */
  async load(): Promise<void> {
    await this.#connect().dispatchers;
  }

  /**
   * Ends every request still in flight: by now each call that waited on one has been answered or
   * cut (or, over stdio, its client is gone), and a load others could have shared (its own
   * deadline, up to the tool timeout) must not hold a stop past its drain time.
   */
  async close(): Promise<void> {
    const pools = [...(this.#pools ? [this.#pools] : []), ...this.#retired];
    const dispatchers = await Promise.all(pools.map((each) => each.dispatchers));
    await Promise.all(dispatchers.flatMap(({ agents }) => agents.map((agent) => agent.destroy())));
  }
}

/**
 * `answer`, or a rejection with the signal's reason as soon as it aborts while no try of the request
 * was written: undici holds a request stopped before then until a connection is free for it (or its
 * own has opened), past the call's deadline, and only then drops it unsent. One written is left to
 * undici, which says how far its answer had got; but not one that callers share (`shared`, how far
 * it has got): undici's deduplicate never ends one it joined to another in flight, stopped before
 * that one's answer came (nodejs/undici#5673), and it would count as under way for good.
 */
function unlessStopped<T>(
  answer: Promise<T>,
  signal: AbortSignal,
  reached: Reached,
  shared: Progress | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => {
      if (reached.written && !shared) return;
      answer.catch(() => {});
      reject(shared?.begun ? new StoppedAnswer(signal.reason) : signal.reason);
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    answer.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}
