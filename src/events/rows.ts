import { randomFillSync } from "node:crypto";
import { monotonicFactory } from "ulid";
import type { Counters, StoredEvent, StoreStats } from "./store.js";

/** An event as both stores keep it; SQLite has no booleans, so `is_json` is 0 or 1 there. */
export interface EventRow {
  seq: number;
  id: string;
  source: string;
  type: string;
  scheme: string;
  dedupe_id: string;
  received_at: number;
  headers: string;
  body: Buffer;
  is_json: number | boolean;
  size: number;
  acked_at: number | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    seq: row.seq,
    source: row.source,
    type: row.type,
    scheme: row.scheme,
    dedupeId: row.dedupe_id,
    receivedAt: iso(row.received_at) as string,
    headers: JSON.parse(row.headers),
    payload: row.body.toString("utf8"),
    isJson: row.is_json === true || row.is_json === 1,
    size: row.size,
    ackedAt: iso(row.acked_at),
  };
}

export function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}

/**
 * Sortable unique event ids (ULIDs, monotonic within a millisecond), their randomness drawn from
 * the OS a batch at a time rather than per character.
 */
export function eventIds(): (receivedAt: number) => string {
  const pool = new Uint32Array(1024);
  let next = pool.length;
  return monotonicFactory(() => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 2 ** 32;
  });
}

export interface TotalsRow {
  events: number;
  bytes: number;
  dropped_count: number;
  dropped_bytes: number;
  dropped_age: number;
  oldest: number | null;
  newest: number | null;
}

export function toStats(row: TotalsRow): StoreStats {
  return {
    events: row.events,
    bytes: row.bytes,
    oldest: iso(row.oldest),
    newest: iso(row.newest),
    droppedBy: { count: row.dropped_count, bytes: row.dropped_bytes, age: row.dropped_age },
  };
}

/** The totals with the oldest and newest event's receipt: what `toStats` reads. */
export const STATS_SQL = `SELECT t.*, (SELECT received_at FROM events ORDER BY seq LIMIT 1) AS oldest,
  (SELECT received_at FROM events ORDER BY seq DESC LIMIT 1) AS newest FROM totals t`;

/** Per source and outcome; every request ends in exactly one outcome, so "received" is their sum. */
export function toCounters(rows: { source: string; outcome: string; n: number }[]): Counters {
  const counters: Counters = {};
  for (const row of rows) {
    const source = counters[row.source] ?? { received: 0 };
    source[row.outcome] = row.n;
    source.received = (source.received ?? 0) + row.n;
    counters[row.source] = source;
  }
  return counters;
}
