import type Database from "better-sqlite3";
import { DAY_MS } from "../../time.js";
import { forgottenBefore } from "../rows.js";
import type { Dropped, Retention } from "../store.js";

/**
 * How many events each limit drops at most in one transaction. SQLite holds the process's event
 * loop while it deletes: a backlog (a limit lowered on a large store) goes in turns, the loop
 * answering deliveries and calls between them, and the -wal file holds one turn's pages, not all.
 */
export const RETENTION_BATCH = 2_000;

/**
 * Read through dropped_deliveries_at: a year of deliveries walked at every check stalls the
 * listener. RETENTION_BATCH at a time: a backlog retention dropped at once is forgotten at once a
 * year later.
 */
export const FORGET_DROPPED = `DELETE FROM dropped_deliveries WHERE rowid IN
  (SELECT rowid FROM dropped_deliveries WHERE dropped_at < ? LIMIT ${RETENTION_BATCH})`;

/** Forgets the deliveries whose events were dropped too long ago to be remembered; whether there may be more. */
export function forgetDropped(sql: Sql, now: number): boolean {
  return sql(FORGET_DROPPED).run(forgottenBefore(now)).changes === RETENTION_BATCH;
}

/** The SQL function, the store registers it, that gives the SHA-256 of a body, kept with the delivery that dropped it. */
export const BODY_DIGEST = "waiter_body_digest";

/**
 * The events whose delivery id may come back with another body (an hmac-sha256 or none source's
 * idHeader), the only ones the listener compares with a dropped body's digest: hashing every
 * dropped body held the write lock deliveries wait on tens of microseconds an event longer.
 */
export const DIGEST_KEPT = "scheme IN ('hmac-sha256', 'none')";

type Sql = (text: string) => Database.Statement;
interface Run {
  /** The last sequence number of the run. */
  edge: number;
  n: number;
  bytes: number;
  unacked: number;
}

/**
 * Drops the oldest events past the limits, inside the caller's write transaction: past the age
 * limit first, then over the count, then over the bytes, at most RETENTION_BATCH events by each,
 * a limit only once those before it are done; each limit's drops are counted. `totals` are the
 * store's counts before it. Returns what it dropped, and whether a limit may have more to drop:
 * the caller runs it again, in a transaction of its own.
 */
export function enforceRetention(
  sql: Sql,
  retention: Retention,
  now: number,
  totals: { events: number; bytes: number },
): { dropped: Dropped; more: boolean } {
  const dropped: Dropped = {};
  const { maxEvents, maxBytes, maxAgeDays } = retention;
  // Events are stored in arrival order: the expired ones are a prefix of the table by seq, found
  // without an index on the time (each index is one more b-tree every write updates).
  const cutoff = now - maxAgeDays * DAY_MS;
  let { events, bytes } = totals;
  const oldest = sql("SELECT received_at FROM events ORDER BY seq LIMIT 1").get() as
    | { received_at: number }
    | undefined;
  if (oldest && oldest.received_at < cutoff) {
    const aged = oldestWhile(sql, (row) => row.received_at < cutoff);
    dropped.age = drop(sql, aged, "dropped_age", now);
    // The next limits wait for the turn after this one's last: what they would drop now may be
    // past the age limit too, and would be counted, and told, as cut short by them.
    if (aged.n === RETENTION_BATCH) return { dropped, more: true };
    events -= aged.n;
    bytes -= aged.bytes;
  }
  let over = events - maxEvents;
  if (over > 0) {
    // Over by more than a batch, and as many events left: totals that say more than the table
    // holds (rows deleted by hand) would have it run again and again on an empty table.
    const counted = oldestWhile(sql, () => over-- > 0);
    const unfinished = counted.n === RETENTION_BATCH && over > 0;
    dropped.count = drop(sql, counted, "dropped_count", now);
    if (unfinished) return { dropped, more: true };
    bytes -= counted.bytes;
  }
  let excess = bytes - maxBytes;
  if (excess > 0) {
    const sized = oldestWhile(sql, (row) => {
      if (excess <= 0) return false;
      excess -= row.size;
      return true;
    });
    dropped.bytes = drop(sql, sized, "dropped_bytes", now);
    return { dropped, more: excess > 0 && sized.n === RETENTION_BATCH };
  }
  return { dropped, more: false };
}

/** The run of oldest events for which `take` holds, RETENTION_BATCH of them at most. */
function oldestWhile(sql: Sql, take: (row: { seq: number; size: number; received_at: number }) => boolean): Run {
  const run = { edge: 0, n: 0, bytes: 0, unacked: 0 };
  for (const row of sql("SELECT seq, size, received_at, acked_at FROM events ORDER BY seq LIMIT ?").iterate(
    RETENTION_BATCH,
  ) as Iterable<{
    seq: number;
    size: number;
    received_at: number;
    acked_at: number | null;
  }>) {
    if (!take(row)) break;
    run.edge = row.seq;
    run.n += 1;
    run.bytes += row.size;
    if (row.acked_at === null) run.unacked += 1;
  }
  return run;
}

function drop(
  sql: Sql,
  run: Run,
  counter: "dropped_age" | "dropped_count" | "dropped_bytes",
  now: number,
): { events: number; unacked: number } {
  // The deliveries are remembered past their events: the same one sent again (a retry, or a
  // stranger replaying an old payment notification) is still a duplicate; with their bodies'
  // digests, as the listener tells one from a delivery of another body its sender put the id on.
  sql(
    `INSERT OR IGNORE INTO dropped_deliveries (source, dedupe_id, id, dropped_at, digest)
     SELECT source, dedupe_id, id, ?, CASE WHEN ${DIGEST_KEPT} THEN ${BODY_DIGEST}(body) END
     FROM events WHERE seq <= ?`,
  ).run(now, run.edge);
  sql("DELETE FROM events WHERE seq <= ?").run(run.edge);
  sql(
    `UPDATE totals SET events = events - ?, bytes = bytes - ?, ${counter} = ${counter} + ?, dropped_through = MAX(dropped_through, ?)`,
  ).run(run.n, run.bytes, run.n, run.edge);
  return { events: run.n, unacked: run.unacked };
}
