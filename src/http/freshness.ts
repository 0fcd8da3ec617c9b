import type { IncomingHttpHeaders } from "node:http";
import { clock } from "../time.js";
import { httpDate } from "./date.js";

/**
 * How many seconds an answer stays fresh for a private client, from its headers:
 * Cache-Control max-age, else Expires less Date, either less Age (the time a cache in front
 * already kept it, RFC 9111 §4.2.3); 0 when it must not be reused.
 */
export function freshSeconds(headers: IncomingHttpHeaders, now = clock.now()): number {
  const cacheControl = String(headers["cache-control"] ?? "").toLowerCase();
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/.test(cacheControl)) return 0;
  const age = Number(headers.age ?? 0) || 0;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)/.exec(cacheControl);
  if (maxAge) return Math.max(0, Number(maxAge[1]) - age);
  // Sent twice, undici hands a header on as a list: two Expires make no valid one (RFC 9111 §5.3).
  const expires = typeof headers.expires === "string" && httpDate(headers.expires, now);
  if (expires) {
    const date = (typeof headers.date === "string" && httpDate(headers.date, now)) || now;
    return Math.max(0, Math.floor((expires - date) / 1000) - age);
  }
  return 0;
}

/** Whether the headers forbid keeping the answer at all (Cache-Control: no-store, RFC 9111 §5.2.2.5). */
export function forbidsStoring(headers: IncomingHttpHeaders): boolean {
  return /(?:^|,)\s*no-store\b/.test(String(headers["cache-control"] ?? "").toLowerCase());
}

/**
 * Whether the headers forbid handing the answer out stale, even for an upstream that fails:
 * must-revalidate (RFC 9111 §5.2.2.2) or no-cache (§5.2.2.4), which §4.2.4 names among the
 * directives a stale answer must not be served against. proxy-revalidate and s-maxage are for
 * shared caches, and waiter's is a private one (§5.2.2.8).
 */
export function forbidsServingStale(headers: IncomingHttpHeaders): boolean {
  return /(?:^|,)\s*(?:must-revalidate|no-cache)\b/.test(String(headers["cache-control"] ?? "").toLowerCase());
}

/** The headers that ask to be told "not modified" (304) about the answer these headers came with. */
export function conditionsOf(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const { etag, "last-modified": lastModified } = headers;
  if (!etag && !lastModified) return undefined;
  return {
    ...(etag ? { "if-none-match": String(etag) } : {}),
    ...(lastModified ? { "if-modified-since": String(lastModified) } : {}),
  };
}
