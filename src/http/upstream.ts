import { createHash } from "node:crypto";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { A_CHANGE, type ChangeWords, DeadlinePassed, UnconfirmedChange, UpstreamError } from "../errors.js";
import type { Throttled } from "../log.js";
import { isWaitersOwnUrl, percentDecoded } from "../settings.js";
import { MAY_BE_A_WORD, quoteLine, withoutSecrets } from "../shown.js";
import { clock } from "../time.js";
import { type AnswerCache, isFresh, type Kept } from "./cache.js";
import { untilAborted, withDeadline } from "./deadline.js";
import {
  accessLogin,
  BASE_URL,
  challenged,
  describeFailure,
  describeStatus,
  mayHaveActed,
  READ_BEFORE_RETRYING,
  signInAt,
} from "./failures.js";
import { NOT_IMPLEMENTED } from "./proxy.js";
import type { Call, ClientOptions, ErrorMapper, HttpResponse, Outgoing } from "./types.js";
import { type Progress, StoppedAnswer } from "./whole.js";

type Query = Record<string, string | number | boolean | undefined>;

/** `T`: what the answer is read into, for a `ttl` that depends on it. */
export interface RequestOptions<T = unknown> {
  method?: Dispatcher.HttpMethod;
  query?: Query;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Whether the request may change something upstream, so that a failure says the change may have
   * been made: by default any method but GET, HEAD and OPTIONS. False for a POST that only asks
   * (an OAuth token).
   */
  changes?: boolean;
  /**
   * Seconds a successful JSON answer to a GET stays fresh in the cache, replacing what the
   * upstream's Cache-Control says: a toolset may know better (a published fixing never changes).
   * A function is asked, with the answer as read, only when an answer is kept, so a costly one is
   * not paid on every hit, and the answer itself can decide (a fixing older than the one due).
   * `now` is the instant the answer is kept from: seconds to an instant count from it.
   */
  ttl?: number | ((answer: T, now: number) => number);
  /**
   * For a GET whose answer may serve past its time (RFC 5861's stale-if-error): when the upstream
   * fails for now (unreachable, too slow, 5xx, 429) and an answer kept is at most `forSeconds` past
   * its time, that answer is returned instead, and `heard` hears the failure and when the answer
   * came, so the toolset can say how old it is. A call its caller cancelled gets no answer.
   */
  staleIfError?: StaleIfError;
  /**
   * The tool's arguments the request's parameters come from, by parameter, where its route alone
   * does not tell (one route, two tools): kept on its answer (HttpResponse.arguments).
   */
  arguments?: Readonly<Record<string, string>>;
  /**
   * A read beside what the call is for (a shop's setting, which its answer goes on without): a wait
   * its answer asks for (a 429's or 503's Retry-After) holds the reads of its own path alone, not
   * every read of the upstream, whose other routes may answer. A wait another read asked holds it too.
   */
  aside?: boolean;
}

export interface StaleIfError {
  forSeconds: number;
  /** `keptAt`: epoch milliseconds, by waiter's clock, when the answer kept came. */
  heard: (failure: UpstreamError, keptAt: number) => void;
}

/** Why an answer kept from before stands in for a new one, and since when it is kept. */
export interface Stale {
  /** The upstream's failure, in words. */
  failure: string;
  /** Epoch milliseconds, by waiter's clock, when the answer kept came. */
  keptAt: number;
}

/**
 * Runs `read`, whose GETs take `staleIfError` (an answer up to `forSeconds` past its time): its
 * answer, and `stale` when that answer is one kept from before because the upstream failed for now.
 */
export async function orKept<T>(
  forSeconds: number,
  read: (staleIfError: StaleIfError) => Promise<T>,
): Promise<{ value: T; stale?: Stale }> {
  let stale: Stale | undefined;
  const value = await read({
    forSeconds,
    heard: (failure, keptAt) => {
      stale = { failure: failure.message, keptAt };
    },
  });
  return stale === undefined ? { value } : { value, stale };
}

/**
 * The credentials in an upstream's declaration: its base URL's query (its values read, and as
 * written, which a request sends as they are; a short one may be a word, lang=en), and password,
 * its own query's values (a key), its Authorization header's (a Basic pair's user and password, a
 * token), and the secrets it declares.
 */
function credentialsIn(baseUrl: URL, { query = {}, headers = {}, secrets = [] }: UpstreamOptions): string[] {
  const search = [
    ...baseUrl.searchParams.values(),
    ...baseUrl.search
      .slice(1)
      .split("&")
      .map((pair) => pair.slice(pair.indexOf("=") + 1)),
  ];
  return [
    ...search.filter((value) => value.length >= MAY_BE_A_WORD),
    baseUrl.password,
    percentDecoded(baseUrl.password),
    ...Object.values(query).filter((value): value is string => typeof value === "string"),
    ...secrets,
    ...authorizationIn(headers),
  ];
}

/**
 * The headers every request to `baseUrl` carries: `headers`, and, where they carry no
 * Authorization, the base URL's user and password as Basic authorization, as curl sends them:
 * undici sends none of a URL's, and a gateway in front of the upstream would refuse every request.
 */
function headersFor(baseUrl: URL, headers: Record<string, string> = {}): Record<string, string> {
  if ((!baseUrl.username && !baseUrl.password) || authorizationIn(headers).length > 0) return headers;
  const pair = `${percentDecoded(baseUrl.username)}:${percentDecoded(baseUrl.password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString("base64")}`, ...headers };
}

/**
 * The credentials in `headers`' Authorization: a token, or a Basic pair's password, the pair, and
 * its user where it is no name that may be a word (a key, WooCommerce's ck_…, not a gateway's "shop").
 */
function authorizationIn(headers: Record<string, string>): string[] {
  const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === "authorization")?.[1];
  if (!authorization) return [];
  const [scheme = "", token = ""] = authorization.split(" ");
  if (scheme.toLowerCase() !== "basic") return [token];
  const pair = Buffer.from(token, "base64").toString("utf8");
  const colon = pair.indexOf(":");
  const user = pair.slice(0, colon);
  return [token, ...(user.length >= MAY_BE_A_WORD ? [user] : []), pair.slice(colon + 1)];
}

/**
 * A failure that may pass by itself and says nothing about the answer kept: the upstream could not
 * answer now (unreachable, too slow, busy, failing, or gave up waiting for the request: a 408), not
 * one that takes no such request (a 501, which RFC 5861's stale-if-error leaves out, and no wait
 * mends).
 */
export function passing(err: unknown): err is UpstreamError {
  if (!(err instanceof UpstreamError)) return false;
  const { status } = err;
  return status === undefined || status === 408 || status === 429 || (status >= 500 && status !== NOT_IMPLEMENTED);
}

/** How an upstream is declared, once: what goes with every request to it, and how its errors read. */
export interface UpstreamOptions {
  /** Headers every request carries: an identifying User-Agent, credentials. A request's own win. */
  headers?: Record<string, string>;
  /** Query parameters every request carries, such as a key; left out of the cache key. */
  query?: Query;
  /**
   * Secrets its requests carry elsewhere than in the headers and query above: a token in the path
   * (Telegram's /bot<token>/). Like those, they are taken out of every answer an error quotes.
   */
  secrets?: string[];
  /** Retry a 429 only when it says when (Retry-After): for upstreams whose terms count retries against you. */
  throttleNeedsRetryAfter?: boolean;
  /**
   * The setting that holds the base URL, as a message names it: WAITER_FRANKFURTER_URL, the apiUrl
   * of webhook source gopay. An answer that a wrong base URL explains (a redirect, a 404) names it.
   */
  urlSetting?: string;
  /**
   * The setting that holds the credentials its requests carry, as a 401 or 403 names it:
   * WAITER_OPEN_METEO_API_KEY. Without it, those in the base URL are named by urlSetting.
   */
  keySetting?: string;
  /** The upstream's own words for its error answers. */
  errors?: ErrorMapper;
  /**
   * The JSON of an answer whose text may carry something before it that the upstream's own
   * server prints there (PHP's warnings, with display_errors on); by default the text as it is.
   */
  jsonIn?: (text: string) => string;
  /**
   * What to do about a change no answer confirmed (the connection cut, the call's time over, a 5xx,
   * a 2xx waiter cannot read): by default, read the current state before trying again; Telegram's
   * chats no tool reads.
   */
  changeAdvice?: string;
  /** What a failure calls a change and its being made: by default "the change", "made". */
  change?: ChangeWords;
  /** Hears every answer that comes over the network (not cached ones), before it is read. */
  onAnswer?: (response: HttpResponse, upstream: string) => void;
  /**
   * Milliseconds at most that an answer asking for a wait (a 429's or 503's Retry-After) holds the
   * reads after it, where its words tell better than its Retry-After: WordPress names 600 s to every
   * request in its maintenance mode, which an update ends within a minute or so.
   */
  holdsReadsMs?: (answer: Pick<HttpResponse, "status" | "text">) => number | undefined;
}

/** What an upstream uses of the client that declared it. */
export interface Carrier {
  /**
   * Sends one request within `call`; given `shared`, an identical request in flight answers it
   * too, and `shared` hears when its answer begins.
   */
  send(upstream: string, request: Outgoing, call: Call, shared: Progress | undefined): Promise<HttpResponse>;
  cache: AnswerCache;
  /**
   * Per GET as sent (its URL and headers), how far the load that callers of `json` share has got,
   * while it is in flight: undici's deduplicate joins such GETs whichever upstream object sends them.
   */
  loading: Map<string, { progress: Progress }>;
  options: ClientOptions;
  /** The runs of 401 and 403 answers and redirects to a sign-on's login, per upstream and credentials (UpstreamError.sayRefused); none without a log. */
  refusals: Throttled | undefined;
}

/**
 * Whether an answer kept may stand in for an upstream that fails: at most `forSeconds` past its
 * time, and not must-revalidate (or no-cache), which serves only once the upstream confirmed it,
 * as stale-if-error does not lift that (RFC 9111 §4.2.4, §5.2.2.2).
 */
const standsIn = (kept: Kept, forSeconds: number) =>
  !kept.mustRevalidate && clock.now() - kept.staleAt <= forSeconds * 1000;

const seconds = <T>(ttl: RequestOptions<T>["ttl"], answer: T, now: number) =>
  typeof ttl === "function" ? ttl(answer, now) : ttl;

export class Upstream {
  /** The base URL without its query and a trailing slash: a path is appended to it. */
  readonly #root: string;

  /** The headers every request carries (UpstreamOptions.headers, and a base URL's user and password). */
  readonly #headers: Record<string, string>;

  /** The credentials every request carries, as an answer that repeats the request would show them. */
  readonly #credentials: string[];

  /** The credentials every request carries, hashed (Outgoing.account). */
  readonly #account: string;

  /** The setting that holds the base URL, as a message names it. */
  readonly #urlSetting: string;

  /** What a message says to do about a change no answer confirmed. */
  readonly #changeAdvice: string;

  /** What a message calls a change and its being made. */
  readonly #change: ChangeWords;

  /** What holds the credentials every request carries, as a 401 or 403 names it; undefined without any. */
  readonly #keys: string | undefined;

  /** What the runs of this upstream's refusals are kept under (Carrier.refusals): its name and credentials. */
  readonly #refusalsKey: string;

  /** Whether the base URL is waiter's own choice, not a setting's. */
  readonly #urlIsWaitersOwn: boolean;

  constructor(
    readonly name: string,
    readonly baseUrl: URL,
    private readonly carrier: Carrier,
    private readonly options: UpstreamOptions = {},
  ) {
    const root = new URL(baseUrl);
    root.search = "";
    root.hash = "";
    root.username = "";
    root.password = "";
    this.#root = root.href.replace(/\/$/, "");
    this.#headers = headersFor(baseUrl, options.headers);
    this.#credentials = credentialsIn(baseUrl, { ...options, headers: this.#headers });
    this.#account = createHash("sha256").update(this.#credentials.join("\0")).digest("base64url");
    this.#refusalsKey = `${name} ${this.#root} ${this.#account}`;
    this.#urlSetting = options.urlSetting ?? BASE_URL;
    this.#changeAdvice = options.changeAdvice ?? READ_BEFORE_RETRYING;
    this.#change = options.change ?? A_CHANGE;
    const inUrl = baseUrl.username || baseUrl.password || baseUrl.search.length > 1;
    this.#keys =
      options.keySetting ??
      (inUrl
        ? `the credentials in ${this.#urlSetting}`
        : this.#credentials.some(Boolean)
          ? "the configured keys"
          : undefined);
    this.#urlIsWaitersOwn = isWaitersOwnUrl(baseUrl);
  }

  /**
   * How long before a call's deadline a wait must end for a request after it to have time to be
   * answered, as the client leaves before its own waits: one sent later ends in "may have been made".
   */
  get roomMs(): number {
    return this.carrier.options.minRetryDelayMs;
  }

  /** Any answer, 2xx or not; the caller reads the status. */
  send(path: string, options: Omit<RequestOptions, "ttl">, call: Call): Promise<HttpResponse> {
    return this.#send(path, options, call, undefined);
  }

  /**
   * A 2xx JSON answer checked against `schema`: its output, which may be built from the answer
   * by the schema's transform. Anything else is the error that says what the upstream answered.
   * GETs are cached, checked, for `ttl` seconds or as long as the upstream's Cache-Control or
   * Expires says; a stale answer with an ETag or Last-Modified is revalidated (304 keeps it).
   * A schema's transform may throw (a ToolError) to refuse an answer that parses but says nothing
   * usable: the call fails with it and nothing is kept. One URL is always read with one schema.
   */
  async json<S extends z.ZodType>(
    schema: S,
    path: string,
    options: RequestOptions<z.output<S>>,
    call: Call,
  ): Promise<z.output<S>> {
    if ((options.method ?? "GET") !== "GET") return this.read(schema, await this.send(path, options, call));
    const key = this.#cacheKey(path, options.query);
    const kept = this.carrier.cache.get(key);
    if (kept && isFresh(kept)) return kept.value as z.output<S>;
    // Callers of one GET share its request (undici's deduplicate), which must outlive any one of
    // them: it carries the first caller's deadline but not its cancellation, and each caller
    // waits until its own. deduplicate alone would abort every waiting caller with the first
    // (nodejs/undici#5711).
    const own = withDeadline(call);
    const { loading } = this.carrier;
    const headers = kept?.conditions ? { ...options.headers, ...kept.conditions } : options.headers;
    const sent = this.#outgoing(path, { ...options, headers });
    const request = `${sent.url.href} ${JSON.stringify(sent.headers)}`;
    const joined = loading.get(request);
    const progress = joined?.progress ?? { begun: false, written: false, withoutKept: 0, notOpened: new Set() };
    const { staleIfError } = options;
    // The load is tried again after a connection that did not open in time while a caller has no
    // answer kept; one that has leaves it then, with that answer, as it would alone.
    let notOpened = (_err: Error) => {};
    const unopened = new Promise<never>((_, reject) => {
      notOpened = (err) => reject(describeFailure(err, this.name, sent, own.call, this.carrier.options, false));
    });
    const keptStands = kept !== undefined && staleIfError !== undefined && standsIn(kept, staleIfError.forSeconds);
    if (keptStands) progress.notOpened.add(notOpened);
    else progress.withoutKept++;
    try {
      const load = this.#load(schema, key, path, { ...options, headers }, call.deadline, kept, progress);
      if (!joined) {
        loading.set(request, { progress });
        const over = () => loading.delete(request);
        load.then(over, over);
      }
      return await untilAborted(keptStands ? Promise.race([load, unopened]) : load, own.call.signal);
    } catch (err) {
      // The load carried the deadline of the caller that began it: one joined to it with a later
      // deadline, and time left till then, asks again within its own. So does one that undici's
      // deduplicate joined to the request of a caller already gone, which waited for a connection.
      const later = !own.call.signal.aborted && call.deadline - clock.now() > this.roomMs;
      if (err instanceof DeadlinePassed && later && !call.signal.aborted) return this.json(schema, path, options, call);
      // Left at its own deadline, a caller says how far the answer had got, as one alone would.
      const stopped = progress.begun && err === own.call.signal.reason ? new StoppedAnswer(err as Error) : err;
      const failure = own.call.signal.aborted
        ? describeFailure(stopped, this.name, sent, own.call, this.carrier.options, progress.written)
        : err;
      const usable = kept && standsIn(kept, staleIfError?.forSeconds ?? 0);
      // Cancelled by its caller (a client, waiter stopping), a call takes no old answer for a new one.
      if (!usable || !staleIfError || call.signal.aborted || !passing(failure)) throw failure;
      staleIfError.heard(failure, kept.keptAt);
      return kept.value as z.output<S>;
    } finally {
      if (keptStands) progress.notOpened.delete(notOpened);
      else progress.withoutKept--;
      own.end();
    }
  }

  /**
   * The answer kept for a GET of `path` that may stand in for a failing request (stale-if-error, at
   * most `forSeconds` past its time), without asking: for a toolset that knows this answer holds
   * what another request asked for (a day's fixing, in the latest fixing's answer).
   */
  kept<S extends z.ZodType>(_schema: S, path: string, query: Query, forSeconds: number): z.output<S> | undefined {
    const kept = this.carrier.cache.get(this.#cacheKey(path, query));
    return kept && standsIn(kept, forSeconds) ? (kept.value as z.output<S>) : undefined;
  }

  /** Loads a GET whose `options` carry the conditions of the answer kept, `stale`, when it has any. */
  async #load<S extends z.ZodType>(
    schema: S,
    key: string,
    path: string,
    options: RequestOptions<z.output<S>>,
    deadline: number,
    stale: Kept | undefined,
    progress: Progress,
  ): Promise<z.output<S>> {
    const { cache } = this.carrier;
    // A signal of its own, not one shared by all loads: a waiting request that undici's
    // deduplicate aborts before the answer starts never settles (nodejs/undici#5673), and must
    // hold on to nothing.
    const within = { signal: new AbortController().signal, deadline };
    const response = await this.#send(path, options, within, progress);
    // The ttl and the keeping read one instant: seconds to a publication end there, not later by their working out.
    const now = clock.now();
    // Only a 304 to the conditions sent says the answer kept is still good.
    if (response.status === 304 && stale?.conditions) {
      const value = stale.value as z.output<S>;
      cache.keep(key, value, stale.size, response.headers, seconds(options.ttl, value, now), stale, now);
      return value;
    }
    const value = this.read(schema, response);
    cache.keep(key, value, response.text.length, response.headers, seconds(options.ttl, value, now), undefined, now);
    return value;
  }

  async #send(
    path: string,
    options: Omit<RequestOptions, "ttl">,
    call: Call,
    shared: Progress | undefined,
  ): Promise<HttpResponse> {
    const sent = await this.carrier.send(this.name, this.#outgoing(path, options), call, shared);
    // A call's own Authorization (GoPay's access token for a lookup) is its request's credential.
    const own = options.headers ? authorizationIn(options.headers) : [];
    const answered = {
      ...sent,
      ...(own.length ? { credentials: own } : {}),
      ...(options.arguments ? { arguments: options.arguments } : {}),
    };
    // An error answer may repeat the request, its credentials with it: taken out before anyone
    // reads its words, a toolset that reads them itself (a refused chat, a payment API's code) too.
    const ok = sent.status >= 200 && sent.status < 300;
    const response = ok ? answered : { ...answered, text: withoutSecrets(sent.text, [...this.#credentials, ...own]) };
    this.options.onAnswer?.(response, this.name);
    return response;
  }

  /** The request for `path`, with what goes with every request to this upstream. */
  #outgoing(path: string, options: Omit<RequestOptions, "ttl">): Outgoing {
    const method = options.method ?? "GET";
    return {
      method,
      url: this.#url(path, options.query),
      path,
      headers: { ...this.#headers, ...options.headers },
      body: options.body,
      changes: options.changes ?? mayHaveActed(method),
      ...(options.aside ? { aside: true } : {}),
      throttleNeedsRetryAfter: this.options.throttleNeedsRetryAfter ?? false,
      account: this.#account,
      urlSetting: this.#urlSetting,
      urlIsWaitersOwn: this.#urlIsWaitersOwn,
      changeAdvice: this.#changeAdvice,
      change: this.#change,
      holdsReadsMs: this.options.holdsReadsMs,
    };
  }

  /** `path` (absolute, without a query) under the base URL, with the call's query and the upstream's. */
  #url(path: string, query: Query = {}): URL {
    const url = new URL(`${this.#root}${path}${this.baseUrl.search}`);
    for (const params of [query, this.options.query ?? {}]) {
      for (const key in params) {
        const value = params[key];
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
    }
    return url;
  }

  /**
   * What tells a GET apart in the cache: the upstream and the request's own path and query,
   * cheaper to build than its URL. The upstream's default query (a key) is left out.
   */
  #cacheKey(path: string, query: Query = {}): string {
    let key = `${this.name} ${this.#root}${path}${this.baseUrl.search}`;
    for (const name in query) {
      const value = query[name];
      if (value !== undefined) key += `&${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`;
    }
    return key;
  }

  /**
   * A 2xx answer's JSON checked against `schema`, or the error that says what went wrong, in the
   * upstream's own words where it has them; for callers that `send` because they need the
   * headers too (a total count).
   */
  read<S extends z.ZodType>(schema: S, response: HttpResponse): z.output<S> {
    const credentials = response.credentials ? [...this.#credentials, ...response.credentials] : this.#credentials;
    if (response.status < 200 || response.status >= 300) {
      // Its text came without credentials from #send; the words made of it are taken out of them
      // below (a redirect's Location, resolved against the request's URL, a token in its path with it).
      // A 304 that reaches here is a broken cache's, whatever an upstream's words for a 3xx would say.
      const own = response.status === 304 ? undefined : this.options.errors?.(response, this.name, this.#urlSetting);
      // A call's own Authorization (GoPay's access token) is a credential the upstream's declaration has not.
      const keys = this.#keys ?? (response.credentials ? "the configured keys" : undefined);
      const error =
        own ??
        describeStatus(this.name, response, {
          urlSetting: this.#urlSetting,
          changeAdvice: this.#changeAdvice,
          keys,
          ownUrl: this.#urlIsWaitersOwn,
          change: this.#change,
        });
      error.message = withoutSecrets(error.message, credentials);
      if (error instanceof UnconfirmedChange) error.failure = withoutSecrets(error.failure, credentials);
      const { status } = response;
      const { refusals } = this.carrier;
      // A Cloudflare challenge is a 403 no key mends; a redirect to a sign-on's login lasts as a 401 does.
      const refused = status === 401 || status === 403 || signInAt(response) || accessLogin(response);
      if (refusals && error instanceof UpstreamError && refused && !challenged(response))
        error.sayRefused = (line) => refusals(line, this.#refusalsKey);
      throw error;
    }
    this.carrier.refusals?.ended(`${this.name} takes waiter's requests again`, this.#refusalsKey);
    let body: unknown;
    try {
      body = JSON.parse(this.options.jsonIn?.(response.text) ?? response.text);
    } catch {
      // How it begins tells what answered: a maintenance page, a plugin's text before the JSON.
      const begins = quoteLine(withoutSecrets(response.text, credentials), 80);
      const what = `${this.name} sent an answer that is not JSON (status ${response.status}, ${response.text.length} bytes${response.text ? `, beginning ${begins}` : ""})`;
      const { what: change, made } = this.#change;
      throw response.changes
        ? new UnconfirmedChange(`${what}; ${change} may have been ${made}.`, this.#changeAdvice, response.status)
        : new UpstreamError(
            `${what}; ${this.#suspects()} may be failing: try again later, and if it lasts, tell whoever runs it what it sends.`,
            response.status,
          );
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const format = `an unexpected format (${issue?.path.join(".") || "body"}: ${issue?.message})`;
      // A 2xx says the change was accepted (RFC 9110 15.3): made again, it would most likely be made twice.
      throw response.changes
        ? new UnconfirmedChange(
            `${this.name} accepted ${this.#change.what} (status ${response.status}) but answered in ${format}: it was most likely ${this.#change.made}.`,
            this.#changeAdvice,
            response.status,
          )
        : new UpstreamError(
            `${this.name} sent an answer in ${format}; ${this.#suspects()} may have changed or be failing.`,
            response.status,
          );
    }
    return parsed.data;
  }

  /**
   * What a 2xx that is not this upstream's answer points at, the setting first where one gave the URL:
   * a URL of another service (an intranet's page, another API) answers 200 as readily as a failing
   * one. Beside another service, the upstream is named, lest "the service" read as that one.
   */
  #suspects(): string {
    return this.#urlIsWaitersOwn
      ? "the service"
      : `check ${this.#urlSetting}, which may point at another service, or ${this.name}`;
  }
}
