import { isUtf8 } from "node:buffer";
import { randomFillSync } from "node:crypto";
import { monotonicFactory } from "ulid";
import { jsonText } from "../json.js";
import { DAY_MS } from "../time.js";
import {
  type Counters,
  ID_REUSED,
  type NoticeOutcome,
  type NoticeStatus,
  type RunFilter,
  type RunRecord,
  type StepStatus,
  type StoredEvent,
  type StoreStats,
} from "./store.js";

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

/** An event's columns but its body, for a page without the payloads. */
export const WITHOUT_BODY = "seq, id, source, type, scheme, dedupe_id, received_at, headers, is_json, size, acked_at";

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** How long a delivery is remembered after retention dropped its event: a year and a day. */
const REMEMBERED_MS = 366 * DAY_MS;

/** Deliveries dropped before this are forgotten: the same one sent again is new. */
export function forgottenBefore(now: number): number {
  return now - REMEMBERED_MS;
}

/** The most events `reusedAs` lists of one delivery id; it reads one more, to tell there are more. */
export const REUSED_LISTED = 20;

/** The sources whose events and drops `reusedAsIn` reads. */
const REUSING_SOURCES = `SELECT source FROM events WHERE source IN (SELECT source FROM counters) AND dedupe_id = $1
    UNION SELECT source FROM dropped_deliveries WHERE source IN (SELECT source FROM counters) AND dedupe_id = $1
    UNION SELECT source FROM counters WHERE outcome = $3 AND n > 0`;

/**
 * The events of `table` (for dropped_deliveries, the deliveries whose events retention dropped,
 * while they are remembered) stored under `$1`, a delivery id, and a body's digest after it (`$2`,
 * the start of such keys), of the sources that stored or dropped an event under the id itself,
 * which the listener compared the body with, or are counted as reusing ids (`$3`): read from those
 * sources' events alone, which no other source's look-up reads. Not of the counted ones alone: the
 * count is written after the delivery's answer, and a store too busy to take it leaves it out.
 * `keys`: a store's condition that reads the keys as a range of an index of them, where it compares
 * text byte by byte as substr does; its parameters after those `reusedAsParameters` gives.
 */
export function reusedAsIn(table: "events" | "dropped_deliveries", keys: string): string {
  const order = table === "events" ? "seq" : "dropped_at, id";
  return `SELECT id, source FROM ${table} WHERE source IN (${REUSING_SOURCES})
  AND substr(dedupe_id, 1, length($2)) = $2${keys} ORDER BY ${order} LIMIT ${REUSED_LISTED + 1}`;
}

/** `reusedAsIn`'s parameters for `deliveryId`: the id, the start of its keys as the listener keys such a delivery, the count's name. */
export function reusedAsParameters(deliveryId: string): [string, string, string] {
  return [deliveryId, `${deliveryId} sha256:`, ID_REUSED];
}

/** A dropped delivery's `digest` as `Added` has it, as the listener's bodyDigest writes it: none where the store kept none. */
export function droppedDigest(digest: Buffer | null): { digest?: string } {
  return digest ? { digest: `sha256:${digest.toString("hex")}` } : {};
}

export function toEvent(row: EventRow): StoredEvent {
  const isJson = row.is_json === true || row.is_json === 1;
  const text = row.body.toString("utf8");
  return {
    id: row.id,
    seq: row.seq,
    source: row.source,
    type: row.type,
    scheme: row.scheme,
    dedupeId: row.dedupe_id,
    receivedAt: iso(row.received_at) as string,
    headers: JSON.parse(row.headers),
    // Stored as sent, the bytes the signature covers; read as its JSON text.
    payload: isJson ? jsonText(text) : text,
    ...(isUtf8(row.body) ? {} : { notUtf8: true as const, bytes: row.body }),
    isJson,
    size: row.size,
    ackedAt: iso(row.acked_at),
  };
}

export function isJson(body: Buffer): boolean {
  try {
    JSON.parse(jsonText(body.toString("utf8")));
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

/**
 * The greatest sequence number an event was stored with, kept in totals, as a delete (retention
 * dropping every event, a customer's events erased by hand) does not take it back; the newest
 * event's, or the last retention dropped, where either is later (rows written by other means):
 * "now" as a cursor, which never goes back, in SQL that SQLite and PostgreSQL read alike.
 */
export const LATEST_SEQ = `SELECT max(seq) AS seq FROM (SELECT max(seq) AS seq FROM events
  UNION ALL SELECT dropped_through FROM totals UNION ALL SELECT latest_seq FROM totals) AS s`;

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

/** An automation run as both stores keep it; SQLite has no booleans, so `dry_run` is 0 or 1 there. */
export interface RunRow {
  id: number;
  automation: string;
  event_id: string;
  status: RunRecord["status"];
  dry_run: number | boolean;
  started_at: number;
  finished_at: number | null;
  error: string | null;
  notice: string | null;
  notice_status: NoticeStatus | null;
  on_failure: string | null;
  /** A NoticeOutcome as JSON. */
  notice_outcome: string | null;
}

export interface StepRow {
  step: number;
  status: StepStatus;
  detail: string;
  at: number;
}

export function toRun(row: RunRow, steps: StepRow[]): RunRecord {
  return {
    id: row.id,
    automation: row.automation,
    eventId: row.event_id,
    status: row.status,
    dryRun: row.dry_run === true || row.dry_run === 1,
    startedAt: iso(row.started_at) as string,
    finishedAt: iso(row.finished_at),
    error: row.error,
    steps: steps.map((s) => ({ step: s.step, status: s.status, detail: s.detail, at: iso(s.at) as string })),
    notice: row.notice === null ? null : { text: row.notice, status: row.notice_status as NoticeStatus },
    onFailure: row.on_failure,
    noticeOutcome: row.notice_outcome === null ? null : (JSON.parse(row.notice_outcome) as NoticeOutcome),
  };
}

/**
 * notice, notice_status and notice_outcome as a failed run's write sets them: a notice owed, or,
 * for one that cannot be told, what became of it; none for a run with none to tell.
 */
export function noticeColumns(
  notice: string | NoticeOutcome | undefined,
): [text: string | null, status: NoticeStatus | null, outcome: string | null] {
  if (notice === undefined) return [null, null, null];
  return typeof notice === "string" ? [notice, "owed", null] : [null, null, JSON.stringify(notice)];
}

/** The statement that records where telling a run's notice got to, or what became of it: the run's id last. */
export function noticeUpdate(status: NoticeStatus | NoticeOutcome, placeholder: (i: number) => string) {
  return typeof status === "string"
    ? {
        text: `UPDATE automation_runs SET notice_status = ${placeholder(1)} WHERE id = ${placeholder(2)} AND notice IS NOT NULL`,
        params: [status],
      }
    : {
        text: `UPDATE automation_runs SET notice = NULL, notice_status = NULL, notice_outcome = ${placeholder(1)} WHERE id = ${placeholder(2)} AND notice IS NOT NULL`,
        params: [JSON.stringify(status)],
      };
}

/** The columns a run filter names, with their values: each store writes its own placeholders. */
export function runConditions(filter: RunFilter): [column: string, value: string][] {
  const named: [string, string | undefined][] = [
    ["automation", filter.automation],
    ["status", filter.status],
    ["event_id", filter.eventId],
  ];
  return named.filter((pair): pair is [string, string] => pair[1] !== undefined);
}

/** How many runs of each automation ended each way, and how many are running. */
export function toRunCounts(
  rows: { automation: string; status: RunRecord["status"]; n: number }[],
): Record<string, Record<RunRecord["status"], number>> {
  const counts: Record<string, Record<RunRecord["status"], number>> = {};
  for (const row of rows) {
    counts[row.automation] ??= { running: 0, done: 0, failed: 0 };
    (counts[row.automation] as Record<RunRecord["status"], number>)[row.status] = row.n;
  }
  return counts;
}
