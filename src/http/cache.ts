import type { IncomingHttpHeaders } from "node:http";
import { LRUCache } from "lru-cache";
import { clock, lessAgoThan } from "../time.js";
import { conditionsOf, forbidsServingStale, forbidsStoring, freshSeconds } from "./freshness.js";

/** One kept answer: the schema's output, and what it takes to reuse it. */
export interface Kept {
  value: unknown;
  /** The answer's JSON text length: what the cache's bound counts. */
  size: number;
  /** Epoch milliseconds, by waiter's clock, when the answer came. */
  keptAt: number;
  /** Epoch milliseconds, by waiter's clock, after which the answer must be asked for again. */
  staleAt: number;
  /** If-None-Match and If-Modified-Since for a stale answer's revalidation, when it had validators. */
  conditions: Record<string, string> | undefined;
  /** Its Cache-Control and Expires, which a 304 that does not repeat them leaves as they were. */
  lifetime: IncomingHttpHeaders;
  /**
   * Whether, once stale, it serves only after the upstream confirmed it (must-revalidate,
   * no-cache): it never stands in for an upstream that fails.
   */
  mustRevalidate: boolean;
}

/** What keeping an answer costs besides its value: its key, the record, the cache's own entry. */
export const KEEPING_BYTES = 2048;

/** Whether `kept` may be handed out without asking: kept less than its lifetime ago. */
export function isFresh(kept: Kept): boolean {
  return lessAgoThan(kept.keptAt, kept.staleAt - kept.keptAt);
}

/**
 * Answers to GETs, kept checked and parsed (the schema's output) for as long as the upstream or
 * the toolset says they stay true; a stale one with validators is revalidated, and a 304 makes
 * it fresh again.
 *
 * undici's cache interceptor (7.30) keeps the answers' bytes instead, and falls short here: it
 * reads the system time itself (lib/interceptor/cache.js, lib/handler/cache-handler.js, its
 * memory store) and cannot be given waiter's clock; a 304 to its revalidation does not freshen
 * the stored answer (nodejs/undici#5505), so a stale answer is revalidated on every later call;
 * and each hit is replayed as a stream to read and parse again, some hundred times the cost of
 * handing back a kept value.
 */
export class AnswerCache {
  readonly #answers: LRUCache<string, Kept>;

  /**
   * `maxBytes` counts each answer's JSON text and KEEPING_BYTES more. Parsed, an answer takes more
   * memory than its text: a year of rates about 2.5 times, a day's fixing 8 times (mostly what any
   * kept answer costs, which the text alone left uncounted: a bound of 64 MiB held 200 MB).
   */
  constructor(maxBytes: number) {
    this.#answers = new LRUCache<string, Kept>({
      maxSize: maxBytes,
      sizeCalculation: (kept) => kept.size + KEEPING_BYTES,
    });
  }

  /** The answer kept under `key`, fresh or stale. */
  get(key: string): Kept | undefined {
    return this.#answers.get(key);
  }

  /**
   * Keeps `value`, the answer to a GET whose response had `headers`, for `ttl` seconds when the
   * toolset knows, else as long as the headers say; `previous` is the answer a 304 confirmed, whose
   * headers `headers` update; `now`, the instant it is kept from.
   * An answer that is neither fresh nor can be revalidated is not kept, nor one marked no-store;
   * one marked must-revalidate or no-cache is kept never to stand in for a failure. A `ttl` says
   * what the toolset knows of the answer, whatever those say.
   */
  keep(
    key: string,
    value: unknown,
    size: number,
    headers: IncomingHttpHeaders,
    ttl?: number,
    previous?: Kept,
    now = clock.now(),
  ): void {
    // A 304's headers update those kept (RFC 9111 §4.3.4): one with a Date or an ETag alone
    // leaves the answer's max-age or Expires standing, counted from the 304.
    const { "cache-control": cacheControl, expires } = { ...previous?.lifetime, ...headers };
    const lifetime = { ...(cacheControl ? { "cache-control": cacheControl } : {}), ...(expires ? { expires } : {}) };
    const fresh = ttl ?? freshSeconds({ ...headers, ...lifetime }, now);
    const conditions = conditionsOf(headers) ?? previous?.conditions;
    // no-store: not even to revalidate, nor to stand in for an upstream that fails.
    if ((fresh > 0 || conditions) && (ttl !== undefined || !forbidsStoring(lifetime))) {
      const mustRevalidate = ttl === undefined && forbidsServingStale(lifetime);
      this.#answers.set(key, {
        value,
        size,
        keptAt: now,
        staleAt: now + fresh * 1000,
        conditions,
        lifetime,
        mustRevalidate,
      });
    } else {
      this.#answers.delete(key);
    }
  }
}
