import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { monotonicFactory } from "ulid";

/** A verified delivery, as the listener hands it to the store. */
export interface NewEvent {
  source: string;
  type: string;
  scheme: string;
  dedupeId: string;
  /** The headers worth keeping; never a signature. */
  headers: Record<string, string>;
  /** The raw bytes as they arrived; stored verbatim. */
  body: Buffer;
  receivedAt: number;
}

export interface StoredEvent {
  /** Sortable and unique (ULID). */
  id: string;
  /** Commit order across every process sharing the store; cursors are built from it. */
  seq: number;
  source: string;
  type: string;
  scheme: string;
  dedupeId: string;
  receivedAt: string;
  headers: Record<string, string>;
  /** The parsed JSON when the body is JSON, else its text. */
  payload: unknown;
  isJson: boolean;
  size: number;
  ackedAt: string | null;
}

export interface EventFilter {
  source?: string | undefined;
  /** Exact, or a prefix when it ends with "." or "/" or "*": `order.` matches order.paid. */
  type?: string | undefined;
  unackedOnly?: boolean | undefined;
}

export interface Retention {
  maxEvents: number;
  maxBytes: number;
  maxAgeDays: number;
}

export interface StoreStats {
  events: number;
  bytes: number;
  oldest: string | null;
  newest: string | null;
  /** Events the retention limits removed, by the limit that removed them. */
  dropped: { count: number; bytes: number; age: number };
}

/** Per source and outcome: received, accepted, duplicate, rejected:<reason>. */
export type Counters = Record<string, Record<string, number>>;

interface Row {
  seq: number;
  id: string;
  source: string;
  type: string;
  scheme: string;
  dedupe_id: string;
  received_at: number;
  headers: string;
  body: Buffer;
  is_json: number;
  size: number;
  acked_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  type TEXT NOT NULL,
  scheme TEXT NOT NULL,
  dedupe_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  is_json INTEGER NOT NULL,
  size INTEGER NOT NULL,
  acked_at INTEGER,
  UNIQUE (source, dedupe_id)
);
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE INDEX IF NOT EXISTS events_source_type ON events (source, type);
CREATE TABLE IF NOT EXISTS totals (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
  source TEXT NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (source, outcome)
);
`;

const DAY_MS = 24 * 3600 * 1000;
/** How often a subscribed store looks for events other processes committed. */
const POLL_MS = 200;

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}

function toEvent(row: Row): StoredEvent {
  const text = row.body.toString("utf8");
  return {
    id: row.id,
    seq: row.seq,
    source: row.source,
    type: row.type,
    scheme: row.scheme,
    dedupeId: row.dedupe_id,
    receivedAt: new Date(row.received_at).toISOString(),
    headers: JSON.parse(row.headers),
    payload: row.is_json ? JSON.parse(text) : text,
    isJson: row.is_json === 1,
    size: row.size,
    ackedAt: row.acked_at === null ? null : new Date(row.acked_at).toISOString(),
  };
}

/** A type filter ending in ".", "/" or "*" is a prefix (without the "*"); else the exact type. */
function typePrefix(type: string): string | undefined {
  return /[./*]$/.test(type) ? type.replace(/\*$/, "") : undefined;
}

/** The filter applied to one event, as the SQL of `where` applies it to many. */
export function matchesFilter(filter: EventFilter, event: StoredEvent): boolean {
  if (filter.source && event.source !== filter.source) return false;
  if (filter.type) {
    const prefix = typePrefix(filter.type);
    if (prefix === undefined ? event.type !== filter.type : !event.type.startsWith(prefix)) return false;
  }
  return !(filter.unackedOnly && event.ackedAt !== null);
}

function where(filter: EventFilter, params: unknown[]): string {
  const clauses: string[] = [];
  if (filter.source) {
    clauses.push("source = ?");
    params.push(filter.source);
  }
  if (filter.type) {
    const stem = typePrefix(filter.type);
    if (stem !== undefined) {
      clauses.push("substr(type, 1, ?) = ?");
      params.push(stem.length, stem);
    } else {
      clauses.push("type = ?");
      params.push(filter.type);
    }
  }
  if (filter.unackedOnly) clauses.push("acked_at IS NULL");
  return clauses.length ? ` AND ${clauses.join(" AND ")}` : "";
}

/**
 * The event store: one SQLite file in WAL mode, which several processes (an assistant's stdio
 * server, a long-running listener) share. Every write is one transaction; the listener answers
 * only after it. Bounded by count, bytes and age; what the bounds drop is counted. Pass
 * ":memory:" for a private store that lives as long as the object.
 */
export class EventStore {
  readonly #db: Database.Database;
  readonly #retention: Retention;
  readonly #nextId = monotonicFactory();
  readonly #listeners = new Set<(event: StoredEvent) => void>();
  #poll: NodeJS.Timeout | undefined;
  readonly #statements = new Map<string, Database.Statement>();
  #seenSeq = 0;
  #dataVersion = 0;

  constructor(file: string, retention: Retention) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.#db = new Database(file);
    this.#db.pragma("journal_mode = WAL");
    // WAL with synchronous=NORMAL survives a killed process; only an OS crash may lose the last commits.
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.exec(SCHEMA);
    this.#retention = retention;
  }

  /** Stores an event once per source and dedupe id; a repeat returns the stored one. */
  add(event: NewEvent): { event: StoredEvent; duplicate: boolean } {
    const result = this.#db.transaction(() => {
      const inserted = this.#sql(
        `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, dedupe_id) DO NOTHING`,
      ).run(
        this.#nextId(event.receivedAt),
        event.source,
        event.type,
        event.scheme,
        event.dedupeId,
        event.receivedAt,
        JSON.stringify(event.headers),
        event.body,
        isJson(event.body) ? 1 : 0,
        event.body.length,
      );
      const row = this.#sql("SELECT * FROM events WHERE source = ? AND dedupe_id = ?").get(
        event.source,
        event.dedupeId,
      ) as Row;
      const duplicate = inserted.changes === 0;
      this.#count(event.source, duplicate ? "duplicate" : "accepted");
      if (!duplicate) {
        this.#add("events", 1);
        this.#add("bytes", row.size);
        this.#enforceRetention(event.receivedAt);
      }
      return { row, duplicate };
    })();
    const stored = toEvent(result.row);
    if (!result.duplicate) this.#emit([stored]);
    return { event: stored, duplicate: result.duplicate };
  }

  /** Counts one request of a source: received, rejected:<reason>… (accepted and duplicate come with add). */
  count(source: string, outcome: string): void {
    this.#count(source, outcome);
  }

  /** Newest first; `after` and `before` are sequence numbers that bound the page. */
  list(filter: EventFilter, page: { after?: number; before?: number; limit: number }): StoredEvent[] {
    const params: unknown[] = [page.after ?? 0, page.before ?? Number.MAX_SAFE_INTEGER];
    const sql = `SELECT * FROM events WHERE seq > ? AND seq < ?${where(filter, params)} ORDER BY seq DESC LIMIT ?`;
    params.push(page.limit);
    return (this.#sql(sql).all(...params) as Row[]).map(toEvent);
  }

  /** The oldest matching event committed after sequence number `after`. */
  firstAfter(filter: EventFilter, after: number): StoredEvent | undefined {
    const params: unknown[] = [after];
    const sql = `SELECT * FROM events WHERE seq > ?${where(filter, params)} ORDER BY seq LIMIT 1`;
    const row = this.#sql(sql).get(...params) as Row | undefined;
    return row && toEvent(row);
  }

  get(id: string): StoredEvent | undefined {
    const row = this.#sql("SELECT * FROM events WHERE id = ?").get(id) as Row | undefined;
    return row && toEvent(row);
  }

  /** Ids of the newest events, optionally those starting with `prefix`: for completion. */
  recentIds(prefix: string, limit: number): string[] {
    return (
      this.#sql("SELECT id FROM events WHERE substr(id, 1, ?) = ? ORDER BY seq DESC LIMIT ?").all(
        prefix.length,
        prefix,
        limit,
      ) as { id: string }[]
    ).map((r) => r.id);
  }

  /** Marks events handled. Idempotent: an event acknowledged before keeps its first time. */
  ack(ids: string[], now = Date.now()): { acked: string[]; already: string[]; unknown: string[] } {
    const outcome = { acked: [] as string[], already: [] as string[], unknown: [] as string[] };
    this.#db.transaction(() => {
      for (const id of new Set(ids)) {
        const row = this.#sql("SELECT acked_at FROM events WHERE id = ?").get(id) as
          | { acked_at: number | null }
          | undefined;
        if (!row) outcome.unknown.push(id);
        else if (row.acked_at !== null) outcome.already.push(id);
        else {
          this.#sql("UPDATE events SET acked_at = ? WHERE id = ?").run(now, id);
          outcome.acked.push(id);
        }
      }
    })();
    return outcome;
  }

  /** The sequence number of the newest event: "now" as a cursor. */
  latestSeq(): number {
    return (this.#sql("SELECT COALESCE(MAX(seq), 0) AS seq FROM events").get() as { seq: number }).seq;
  }

  stats(): StoreStats {
    const totals = Object.fromEntries(
      (this.#sql("SELECT key, value FROM totals").all() as { key: string; value: number }[]).map((r) => [
        r.key,
        r.value,
      ]),
    );
    const range = this.#sql("SELECT MIN(received_at) AS oldest, MAX(received_at) AS newest FROM events").get() as {
      oldest: number | null;
      newest: number | null;
    };
    return {
      events: totals.events ?? 0,
      bytes: totals.bytes ?? 0,
      oldest: range.oldest === null ? null : new Date(range.oldest).toISOString(),
      newest: range.newest === null ? null : new Date(range.newest).toISOString(),
      dropped: { count: totals.dropped_count ?? 0, bytes: totals.dropped_bytes ?? 0, age: totals.dropped_age ?? 0 },
    };
  }

  counters(): Counters {
    const counters: Counters = {};
    for (const row of this.#sql("SELECT source, outcome, n FROM counters").all() as {
      source: string;
      outcome: string;
      n: number;
    }[]) {
      counters[row.source] = { ...counters[row.source], [row.outcome]: row.n };
    }
    return counters;
  }

  /**
   * Calls `listener` with every new event, whichever process committed it: this one at once,
   * others within a poll interval. Returns the unsubscribe function.
   */
  subscribe(listener: (event: StoredEvent) => void): () => void {
    if (this.#listeners.size === 0) this.#startPolling();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopPolling();
    };
  }

  /** Prepared once per statement text: preparing costs more than running. */
  #sql(text: string): Database.Statement {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.#stopPolling();
    this.#listeners.clear();
    if (this.#db.open) this.#db.close();
  }

  #startPolling(): void {
    this.#seenSeq = this.latestSeq();
    this.#dataVersion = this.#db.pragma("data_version", { simple: true }) as number;
    this.#poll = setInterval(() => {
      if (!this.#db.open) return;
      // data_version changes only when another connection commits: a cheap question to ask often.
      const version = this.#db.pragma("data_version", { simple: true }) as number;
      if (version === this.#dataVersion) return;
      this.#dataVersion = version;
      const rows = this.#sql("SELECT * FROM events WHERE seq > ? ORDER BY seq").all(this.#seenSeq) as Row[];
      this.#emit(rows.map(toEvent));
    }, POLL_MS);
    this.#poll.unref();
  }

  #stopPolling(): void {
    clearInterval(this.#poll);
    this.#poll = undefined;
  }

  #emit(events: StoredEvent[]): void {
    for (const event of events) {
      if (event.seq <= this.#seenSeq) continue;
      this.#seenSeq = event.seq;
      for (const listener of this.#listeners) listener(event);
    }
  }

  #count(source: string, outcome: string): void {
    this.#sql(
      "INSERT INTO counters (source, outcome, n) VALUES (?, ?, 1) ON CONFLICT (source, outcome) DO UPDATE SET n = n + 1",
    ).run(source, outcome);
  }

  #add(key: string, delta: number): void {
    this.#sql("INSERT INTO totals (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + ?").run(
      key,
      delta,
      delta,
    );
  }

  /** Oldest first: past the age limit, then over the count, then over the bytes. */
  #enforceRetention(now: number): void {
    const { maxEvents, maxBytes, maxAgeDays } = this.#retention;
    const cutoff = now - maxAgeDays * DAY_MS;
    const aged = this.#sql(
      "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM events WHERE received_at < ?",
    ).get(cutoff) as { n: number; bytes: number };
    if (aged.n > 0) this.#drop("received_at < ?", [cutoff], aged, "dropped_age");

    const totals = () => this.stats();
    const over = totals().events - maxEvents;
    if (over > 0) {
      const edge = this.#sql("SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET ?").get(over - 1) as {
        seq: number;
      };
      const gone = this.#sql("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM events WHERE seq <= ?").get(
        edge.seq,
      ) as { n: number; bytes: number };
      this.#drop("seq <= ?", [edge.seq], gone, "dropped_count");
    }

    let excess = totals().bytes - maxBytes;
    if (excess > 0) {
      let edge = 0;
      let n = 0;
      let bytes = 0;
      for (const row of this.#sql("SELECT seq, size FROM events ORDER BY seq").iterate() as Iterable<{
        seq: number;
        size: number;
      }>) {
        if (excess <= 0) break;
        edge = row.seq;
        n += 1;
        bytes += row.size;
        excess -= row.size;
      }
      this.#drop("seq <= ?", [edge], { n, bytes }, "dropped_bytes");
    }
  }

  #drop(condition: string, params: unknown[], gone: { n: number; bytes: number }, counter: string): void {
    this.#sql(`DELETE FROM events WHERE ${condition}`).run(...params);
    this.#add("events", -gone.n);
    this.#add("bytes", -gone.bytes);
    this.#add(counter, gone.n);
  }
}
