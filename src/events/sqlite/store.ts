import { hash, randomUUID } from "node:crypto";
import { chmodSync, closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { ToolError } from "../../errors.js";
import { clock } from "../../time.js";
import { typePrefix, typeStem } from "../filter.js";
import { Listeners, warn } from "../listeners.js";
import {
  type DroppedPayment,
  markUnconfigured,
  otherSchemeSources,
  PAYMENT_EVENTS_LISTED,
  paymentDeliveries,
  type SourceSchemes,
} from "../payments.js";
import {
  droppedDigest,
  type EventRow,
  eventIds,
  isJson,
  iso,
  LATEST_SEQ,
  reusedAsIn,
  reusedAsParameters,
  STATS_SQL,
  type TotalsRow,
  toCounters,
  toEvent,
  toStats,
  WITHOUT_BODY,
} from "../rows.js";
import {
  type Acked,
  type Added,
  type Counters,
  type Dropped,
  type EventFilter,
  type EventPage,
  type EventStore,
  type Gone,
  type NewEvent,
  type NewerSchema,
  NewerStore,
  newerSchemaWatch,
  OlderStoreBusy,
  type Retention,
  type RunLog,
  type SessionLog,
  StoreBusy,
  type StoredEvent,
  StoreNotWritable,
  type StoreStats,
  tellDropped,
  type Upgraded,
  type WaitLog,
} from "../store.js";
import { BODY_DIGEST, enforceRetention, forgetDropped } from "./retention.js";
import { pruneRuns, RUNS_SCHEMA, sqliteRuns } from "./runs.js";
import { SESSIONS_SCHEMA, sqliteSessions } from "./sessions.js";
import { sqliteWaits, WAITS_SCHEMA } from "./waits.js";
import { CommitWatch } from "./watch.js";

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
CREATE TABLE IF NOT EXISTS totals (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  events INTEGER NOT NULL, bytes INTEGER NOT NULL,
  dropped_count INTEGER NOT NULL, dropped_bytes INTEGER NOT NULL, dropped_age INTEGER NOT NULL,
  dropped_through INTEGER NOT NULL DEFAULT 0,
  latest_seq INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO totals (one, events, bytes, dropped_count, dropped_bytes, dropped_age) VALUES (1, 0, 0, 0, 0, 0);
CREATE TABLE IF NOT EXISTS dropped_deliveries (
  source TEXT NOT NULL, dedupe_id TEXT NOT NULL, id TEXT NOT NULL, dropped_at INTEGER NOT NULL, digest BLOB,
  PRIMARY KEY (source, dedupe_id)
);
CREATE TABLE IF NOT EXISTS counters (
  source TEXT NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (source, outcome)
);
CREATE INDEX IF NOT EXISTS events_unacked ON events (seq) WHERE acked_at IS NULL;
CREATE INDEX IF NOT EXISTS events_by_source ON events (source, seq);
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, seq);
CREATE INDEX IF NOT EXISTS dropped_deliveries_at ON dropped_deliveries (dropped_at);
`;

/**
 * The store's identity, made once as the store is set up (or as this waiter first opens one an
 * older waiter set up) and kept: /healthz says it, so that a waiter that finds the webhook port
 * held can tell whether the holder stores into the store it reads. A table an older waiter does not
 * read, which needs no new version; nor is it one a store must have to open without a write.
 */
const IDENTITY_SCHEMA = `
CREATE TABLE IF NOT EXISTS store_identity (one INTEGER PRIMARY KEY CHECK (one = 1), id TEXT NOT NULL);
INSERT OR IGNORE INTO store_identity (one, id) VALUES (1, lower(hex(randomblob(16))));
`;

/**
 * The latest acknowledgements, numbered as they were made and named by the store that made them, so
 * that every process on the file hears of the others' (an event's subscribers, the list's). Like the
 * identity, a table an older waiter does not read; a store opened without it hears its own alone.
 */
const ACKS_SCHEMA =
  "CREATE TABLE IF NOT EXISTS acks (n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, writer TEXT NOT NULL);";
/**
 * A Shopify webhook's events by the webhook id they came with, which is not their delivery id (see
 * verifiers/shopify.ts), under either header name: the id Shopify shows finds the event. Like the
 * acks, an index an older waiter does not read; SQLite keeps it whoever writes.
 */
const SHOPIFY_WEBHOOK_ID = `coalesce(json_extract(headers, '$."shopify-webhook-id"'), json_extract(headers, '$."x-shopify-webhook-id"'))`;
const SHOPIFY_SCHEMA = `CREATE INDEX IF NOT EXISTS events_by_shopify_webhook ON events (${SHOPIFY_WEBHOOK_ID}) WHERE scheme = 'shopify';`;
/**
 * A WooCommerce webhook's events by the delivery ID its log shows, which is not their delivery id (see
 * verifiers/woocommerce.ts). An index an older waiter does not read, as the Shopify one.
 */
const WOOCOMMERCE_DELIVERY_ID = `json_extract(headers, '$."x-wc-webhook-delivery-id"')`;
const WOOCOMMERCE_SCHEMA = `CREATE INDEX IF NOT EXISTS events_by_woocommerce_delivery ON events (${WOOCOMMERCE_DELIVERY_ID}) WHERE scheme = 'woocommerce';`;
/**
 * The deliveries retention dropped by their events' ids, so that an event id is told exactly whether
 * its event was dropped: they are a year's drops, however few events retention keeps. An index an
 * older waiter does not read, as the Shopify one.
 */
const DROPPED_ID_SCHEMA = "CREATE INDEX IF NOT EXISTS dropped_deliveries_id ON dropped_deliveries (id);";
/** When retention dropped the events of the ids (a JSON array) it did. */
export const DROPPED_EVENTS =
  "SELECT id, dropped_at FROM dropped_deliveries WHERE id IN (SELECT value FROM json_each(?)) ORDER BY dropped_at, id";
/**
 * reusedAsIn of the events and of the dropped deliveries, their keys read as a range of each source's (`$2` up to `$4`,
 * reusedKeysParameters): substr alone read every event of a source each time a model passed one of
 * its delivery ids.
 */
export const REUSED_KEYS = reusedAsIn("events", " AND dedupe_id >= $2 AND dedupe_id < $4");
export const DROPPED_REUSED_KEYS = reusedAsIn("dropped_deliveries", " AND dedupe_id >= $2 AND dedupe_id < $4");

/** REUSED_KEYS' parameters: better-sqlite3 binds the numbered ones by their numbers, `$4` the end of `$2`'s keys. */
function reusedKeysParameters(deliveryId: string): Record<number, string> {
  const [id, start, outcome] = reusedAsParameters(deliveryId);
  return { 1: id, 2: start, 3: outcome, 4: `${start.slice(0, -1)};` };
}

/** The stored events a delivery id names: by its key in each source, or as a Shopify webhook's id or a WooCommerce delivery ID. */
export const DELIVERED_AS = `SELECT id, source FROM events WHERE seq IN (
  SELECT seq FROM events WHERE source IN (SELECT source FROM counters) AND dedupe_id = @delivery
  UNION SELECT seq FROM events WHERE scheme = 'shopify' AND ${SHOPIFY_WEBHOOK_ID} = @delivery
  UNION SELECT seq FROM events WHERE scheme = 'woocommerce' AND ${WOOCOMMERCE_DELIVERY_ID} = @delivery) ORDER BY seq`;
/**
 * Every acknowledged event's id, as those not acknowledged leave them: read off the indexes, as the
 * row's acked_at, past its body, is reached through every page of a large one.
 */
export const ACKED_IDS = "SELECT id FROM events WHERE seq NOT IN (SELECT seq FROM events WHERE acked_at IS NULL)";
/** How many acknowledgements the acks table keeps: far more than a process that looks every 200 ms misses. */
const ACKS_KEPT = 1_000;

/**
 * The version of the tables above, kept in the file's user_version: a change an older waiter
 * would misread is a new one. A file from before versions were kept (0) is brought up to date by
 * the statements above, which create only what is missing, and by `UPGRADES`, and then marked.
 */
export const SCHEMA_VERSION = 8;

/**
 * The size the -wal file is cut back to once a checkpoint has emptied it. SQLite otherwise keeps it
 * at its largest (a batch of megabyte payloads, retention dropping a backlog) until the last
 * process closes the store, which a server never does. 8 MiB is above the ~4 MiB the automatic
 * checkpoint (every 1,000 pages) lets it reach in ordinary use, so only such a spike is cut, not
 * every cycle of the file's reuse.
 */
export const WAL_SIZE_LIMIT = 8 * 1024 * 1024;

/**
 * Past this size, at the store's ten-minute check, a -wal file that a checkpoint cannot write back
 * whole is said in the log: another program's read transaction keeps SQLite from starting it over.
 */
export const WAL_HELD_SIZE = 4 * WAL_SIZE_LIMIT;

/** What brings a file of an older version up to the next, the statements above having run. */
const UPGRADES: Record<number, (db: Database.Database) => void> = {
  // 2: totals.dropped_through. Retention drops the oldest events first, so in a store it dropped
  // from before this was kept, everything below the oldest event kept counts as dropped.
  1: (db) => {
    const columns = db.pragma("table_info(totals)") as { name: string }[];
    if (columns.some((column) => column.name === "dropped_through")) return;
    db.exec(`ALTER TABLE totals ADD COLUMN dropped_through INTEGER NOT NULL DEFAULT 0;
      UPDATE totals SET dropped_through = COALESCE((SELECT MIN(seq) - 1 FROM events),
        (SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)
      WHERE dropped_count + dropped_bytes + dropped_age > 0;`);
  },
  // 3: automation_runs.notice and notice_status, a failed run's onFailure notice not yet told.
  2: (db) => {
    const columns = db.pragma("table_info(automation_runs)") as { name: string }[];
    if (columns.some((column) => column.name === "notice")) return;
    db.exec(
      "ALTER TABLE automation_runs ADD COLUMN notice TEXT; ALTER TABLE automation_runs ADD COLUMN notice_status TEXT;",
    );
  },
  // 4: automation_runs.on_failure, the onFailure channel a run's automation had when it began.
  3: (db) => {
    const columns = db.pragma("table_info(automation_runs)") as { name: string }[];
    if (columns.some((column) => column.name === "on_failure")) return;
    db.exec("ALTER TABLE automation_runs ADD COLUMN on_failure TEXT;");
  },
  // 5: totals.latest_seq, the greatest sequence number an event was stored with, which an event
  // erased by hand does not take back. AUTOINCREMENT never hands out a number twice, so the one it
  // last handed out covers events erased before this was kept (a duplicate's number too, which no
  // event has: a cursor past it waits for the next event, as at any other).
  4: (db) => {
    const columns = db.pragma("table_info(totals)") as { name: string }[];
    if (columns.some((column) => column.name === "latest_seq")) return;
    db.exec(`ALTER TABLE totals ADD COLUMN latest_seq INTEGER NOT NULL DEFAULT 0;
      UPDATE totals SET latest_seq = max(dropped_through, COALESCE((SELECT MAX(seq) FROM events), 0),
        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0));`);
  },
  // 6: automation_runs.notice_outcome, what became of a failed run's onFailure notice once telling it ended.
  5: (db) => {
    const columns = db.pragma("table_info(automation_runs)") as { name: string }[];
    if (columns.some((column) => column.name === "notice_outcome")) return;
    db.exec("ALTER TABLE automation_runs ADD COLUMN notice_outcome TEXT;");
  },
  // 7: mcp_sessions.heard_seq, the newest event a session's client was told of: a server that takes
  // the session up tells it of those stored since, whatever the clocks that stamped them said.
  6: (db) => {
    const columns = db.pragma("table_info(mcp_sessions)") as { name: string }[];
    if (columns.some((column) => column.name === "heard_seq")) return;
    db.exec("ALTER TABLE mcp_sessions ADD COLUMN heard_seq INTEGER NOT NULL DEFAULT 0;");
  },
  // 8: dropped_deliveries.digest, the SHA-256 of a dropped event's body: a delivery its sender sent
  // under the same id with another body is another delivery, not the dropped one's repeat. Those
  // dropped before have none.
  7: (db) => {
    const columns = db.pragma("table_info(dropped_deliveries)") as { name: string }[];
    if (columns.some((column) => column.name === "digest")) return;
    db.exec("ALTER TABLE dropped_deliveries ADD COLUMN digest BLOB;");
  },
};

/**
 * A restored backup's numbers, moved past the lost events' (docs/webhooks.md), are the newest
 * number too, so a cursor handed out before the loss is taken before the next delivery; the
 * statement there cannot set it, as a backup of schema 4 or older has no latest_seq. (Any other
 * number AUTOINCREMENT handed out past it is a duplicate's, as at the upgrade to 5.) Written as
 * the store opens.
 */
const LATEST_SEQ_CAUGHT_UP = `UPDATE totals SET latest_seq = (SELECT seq FROM sqlite_sequence WHERE name = 'events')
  WHERE latest_seq < (SELECT seq FROM sqlite_sequence WHERE name = 'events')`;
/** The newest number as LATEST_SEQ_CAUGHT_UP would leave it, read before it could be written. */
const LATEST_SEQ_UNCAUGHT = `SELECT max((${LATEST_SEQ}),
  COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)) AS seq`;

const EXPIRE_EVERY_MS = 10 * 60 * 1000;

/** Whether a source's delivery id is held, as an event or as a delivery retention dropped: source, id, twice. */
const HELD = `SELECT 1 FROM events WHERE source = ? AND dedupe_id = ?
  UNION ALL SELECT 1 FROM dropped_deliveries WHERE source = ? AND dedupe_id = ?`;

/** What storing one delivery came to: the event's sequence number (0 for a dropped one's repeat), and its id. */
type Inserted = Added & { seq: number };
/**
 * A write waits for another process's lock in tries: SQLite waits inside the call, holding this
 * process's event loop, so each try waits at most LOCK_TRY_MS, and between tries the loop answers
 * what else came (a health check, another source's delivery). A read, which in WAL mode waits only
 * for a moment (another process recovering the file), waits as SQLite does, up to busyMs.
 */
const LOCK_TRY_MS = 10;
const LOCK_PAUSE_MS = 25;

/**
 * A page reads only the rows it shows, newest first by seq: through events_unacked when only
 * unacknowledged events are wanted (the unary + keeps SQLite from preferring the source or type
 * index, which would walk every acknowledged event of the source or type), through events_by_type
 * for a type (see `typesOf`), through events_by_source for one source's, else by seq alone.
 */
function where(filter: EventFilter, params: unknown[]): string {
  const clauses: string[] = [];
  if (filter.source) {
    clauses.push(filter.unackedOnly ? "+source = ?" : "source = ?");
    params.push(filter.source);
  }
  if (filter.type) {
    const stem = typePrefix(filter.type);
    if (stem !== undefined) {
      clauses.push("substr(type, 1, ?) = ?");
      params.push(stem.length, stem);
    } else {
      clauses.push(filter.unackedOnly ? "+type = ?" : "type = ?");
      params.push(filter.type);
    }
  }
  if (filter.unackedOnly) clauses.push("acked_at IS NULL");
  return clauses.length ? ` AND ${clauses.join(" AND ")}` : "";
}

/**
 * At most this many types a prefix matches are read each through events_by_type; the events of a
 * prefix that more types begin are read by seq, the prefix checked on each.
 */
export const TYPES_BY_INDEX = 32;

/**
 * The stored types that begin with a prefix, in order, each found from the one before by a seek
 * of events_by_type (not by reading the events of each), at most a given number. Types are
 * printable ASCII (the listener's cleanType): those that begin with the prefix sort below it
 * followed by "\x7f". Parameters: the prefix, it followed by "\x7f" (twice), the number.
 */
export const TYPES_BEGINNING = `WITH RECURSIVE t (type) AS (
    SELECT (SELECT type FROM events WHERE type >= ? AND type < ? ORDER BY type LIMIT 1)
    UNION ALL SELECT (SELECT type FROM events WHERE type > t.type AND type < ? ORDER BY type LIMIT 1) FROM t
    WHERE t.type IS NOT NULL LIMIT ?)
  SELECT type FROM t WHERE type IS NOT NULL`;

/**
 * A page of events, newest first (oldest first with `order` "ASC"), and its parameters. With
 * `types`, the stored types the filter's type matches (`typesOf`), each type's page is read through
 * events_by_type and the pages merged: a type no event has, or one only old events have, is
 * answered from the index, not by reading every event newer than the page.
 */
export function pageQuery(
  filter: EventFilter,
  page: EventPage,
  types?: string[],
  order: "ASC" | "DESC" = "DESC",
): [string, unknown[]] {
  const after = page.after ?? 0;
  const before = page.before ?? Number.MAX_SAFE_INTEGER;
  const columns = page.bodies === false ? `${WITHOUT_BODY}, x'' AS body` : "*";
  if (types === undefined) {
    const params: unknown[] = [after, before];
    const sql = `SELECT ${columns} FROM events WHERE seq > ? AND seq < ?${where(filter, params)} ORDER BY seq ${order} LIMIT ?`;
    params.push(page.limit);
    return [sql, params];
  }
  const params: unknown[] = [];
  const source = filter.source ? " AND +source = ?" : "";
  const pages = types.map((type) => {
    params.push(type, after, before, ...(filter.source ? [filter.source] : []), page.limit);
    return `SELECT seq FROM (SELECT seq FROM events WHERE type = ? AND seq > ? AND seq < ?${source} ORDER BY seq ${order} LIMIT ?)`;
  });
  params.push(page.limit);
  const sql = `SELECT ${columns} FROM events WHERE seq IN (${pages.join(" UNION ALL ")} ORDER BY seq ${order} LIMIT ?) ORDER BY seq ${order}`;
  return [sql, params];
}

/**
 * The newest ids within a range, for completion: a prefix is a range of the id index, and ids
 * sort as they were given, so a prefix no id has is answered without reading the table.
 */
export const RECENT_IDS = "SELECT id FROM events WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT ?";

/** The statement that reads the types `typesLike` answers, a range of sequence numbers, and its parameters. */
export function typesQuery(filter: EventFilter, after: number, limit: number): [string, unknown[]] {
  const stem = typeStem(filter);
  const params: unknown[] = [after];
  const conditions = where({ ...filter, type: undefined }, params);
  params.push(stem.length, stem.toLowerCase(), stem.length, stem.length, stem, limit);
  // Types are printable ASCII (the listener's cleanType), which SQLite's lower() reads as JavaScript does.
  // Grouped by +type: grouping by type would have SQLite walk events_by_type whole, for its order.
  const sql = `SELECT type FROM events WHERE seq > ?${conditions} AND lower(substr(type, 1, ?)) = ?
    GROUP BY +type ORDER BY length(type) > ?, substr(type, 1, ?) <> ?, length(type), type LIMIT ?`;
  return [sql, params];
}

/**
 * How long a write, and the open, waits for another process's write lock before it gives up: a
 * delivery's 503 must reach its sender before the sender gives up on it (Shopify, after 5 s in
 * all, a second of them to connect), which counts toward removing its subscription.
 */
export const BUSY_MS = 3_000;

/**
 * A write the store refused, in words for whoever reads them: another process holding the store
 * past busy_timeout (`busyMs`) is a moment's wait, and, as a waiter's own writes take a moment, most
 * often a transaction someone left open, which its holder ends; a full disk or a file that cannot
 * be written is the operator's to fix, not a fault in waiter, in the directory the data directory's
 * setting (`dataDirFrom`, as it was set) names. Anything else is left as it is.
 */
export function writeFailure(err: unknown, file: string, busyMs = BUSY_MS, dataDirFrom = "WAITER_DATA_DIR"): unknown {
  const code = (err as { code?: string }).code ?? "";
  if (code === "SQLITE_BUSY") {
    const said = `The event store is busy: another program has held its write lock for over ${busyMs / 1000} s (most often a transaction left open on ${file} in sqlite3 or a database browser, or a VACUUM)`;
    const busy = new StoreBusy(
      `${said}. Try again in a moment; if it lasts, whoever runs waiter must end that transaction.`,
    );
    busy.logged = `${said}; nothing is stored until that program lets it go.`;
    return busy;
  }
  if (/^SQLITE_(FULL|READONLY|IOERR)/.test(code)) {
    return new StoreNotWritable(
      `${code}: ${(err as Error).message}`,
      `its disk is full or the file is not writable (${file}, in ${dataDirFrom})`,
      "frees space there or makes the file writable",
    );
  }
  return err;
}

/** The tables and indexes the schemas create. */
const SCHEMA_NAMES = [
  ...`${SCHEMA}${RUNS_SCHEMA}${SESSIONS_SCHEMA}`.matchAll(/CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)/g),
].map((match) => match[1]);

/** Whether the file holds every table and index of this schema: it needs no write to be set up. */
function hasEveryTable(db: Database.Database): boolean {
  const names = new Set(db.prepare("SELECT name FROM sqlite_master").pluck().all());
  return SCHEMA_NAMES.every((name) => names.has(name));
}

/** Which file a path names: its device and inode, undefined when there is none. */
function fileAt(path: string): string | undefined {
  try {
    const { dev, ino } = statSync(path, { bigint: true });
    return `${dev}:${ino}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Makes `dir` and the directories missing above it, as mkdir -p. Node's recursive mkdir asks
 * again without end where mkdir says ENOENT though the parent is there (under /proc): that start
 * would hang, deaf to SIGTERM, where this one throws.
 */
function makeDirectory(dir: string, mode: number, parentMade = false): void {
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    // Made meanwhile by another waiter, too.
    if (code === "EEXIST" && statSync(dir).isDirectory()) return;
    if (code !== "ENOENT" || parentMade || dirname(dir) === dir) throw err;
    makeDirectory(dirname(dir), mode);
    makeDirectory(dir, mode, true);
  }
}

/**
 * The event store: one SQLite file in WAL mode, which several processes (an assistant's stdio
 * server, a long-running listener) share. Every write is one immediate transaction; the listener
 * answers only after it. Bounded by count, bytes and age; what the bounds drop is counted. Pass
 * ":memory:" for a private store that lives as long as the object.
 */
export class SqliteEventStore implements EventStore {
  readonly upgraded: Upgraded | undefined;
  readonly created: boolean;
  readonly storeId: string | undefined;
  readonly #db: Database.Database;
  readonly #retention: Retention;
  readonly #onDropped: ((dropped: Dropped) => void) | undefined;
  readonly #busyMs: number;
  readonly #dataDirFrom: string | undefined;
  readonly #sources: SourceSchemes | undefined;
  /** The file the store opened (`fileAt`): one deleted or put in its place since takes no write. */
  readonly #opened: string | undefined;
  /** Its -wal and -shm files as the open found them (`fileAt`): SQLite deletes them only as the last connection closes. */
  readonly #openedWal: string | undefined;
  readonly #openedShm: string | undefined;
  /** Whether a newer waiter upgraded the file since the open: told once, found from then on. */
  readonly #newerSchema: (version: number) => NewerSchema | undefined;
  /** This process's writes, one after the other: one waits for the lock at a time, and they commit in the order they came. */
  #writing: Promise<unknown> = Promise.resolve();
  readonly #nextId = eventIds();
  readonly #listeners = new Listeners<StoredEvent>();
  readonly #ackListeners = new Listeners<string[]>();
  readonly #goneListeners = new Listeners<Gone>();
  /** The greatest sequence number told dropped: a drop read again (this process's, by the commit watch) is not told twice. */
  #goneTold = 0;
  /** Whether the file has the acks table; and this store's name in it. */
  readonly #acksKept: boolean;
  readonly #me = randomUUID();
  readonly #watch: CommitWatch;
  readonly #expiry: NodeJS.Timeout;
  /** The retention run no caller waits for, if one is under way. */
  #expiring: Promise<void> | undefined;
  /** Whether dropped_deliveries_id was found committed: no other waiter takes an index away. */
  #droppedIdsIndexed = false;
  #closing = false;
  /** The open could not write LATEST_SEQ_CAUGHT_UP (another program held the lock): the first write does. */
  #latestSeqUncaught = false;
  readonly #onIndexing: ((built?: { ms: number }) => void) | undefined;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #queue: { event: NewEvent; resolve: (added: Added) => void; reject: (err: unknown) => void }[] = [];
  readonly runs: RunLog;
  readonly sessions: SessionLog;
  readonly waits: WaitLog;

  /**
   * `busyMs`: how long a write waits for another process's before it gives up; `onDropped`: told
   * what each run of retention dropped, once it is committed; `dataDirFrom`: the data directory's
   * setting as it was set, which a write the disk or the file refuses names; `onNewerSchema`: told
   * once of a schema a newer waiter upgraded the file to while this store has it open;
   * `sources`: the configured webhook sources, as dropped deliveries keep no scheme: those of a
   * source of another scheme name no payment, and those of a source not configured are a payment's
   * by their form alone (`droppedPayment`); unless given, every source's may name one, and surely.
   * `onIndexing`: told as the dropped deliveries' event-id index is built where they are some
   * (seconds on a year's, the write lock held), then told again, with how long it took, once built.
   */
  constructor(
    file: string,
    retention: Retention,
    {
      busyMs = BUSY_MS,
      onDropped,
      dataDirFrom,
      onNewerSchema,
      sources,
      onIndexing,
    }: {
      busyMs?: number;
      onDropped?: (dropped: Dropped) => void;
      dataDirFrom?: string;
      onNewerSchema?: (newer: NewerSchema) => void;
      sources?: SourceSchemes;
      onIndexing?: (built?: { ms: number }) => void;
    } = {},
  ) {
    this.#onIndexing = onIndexing;
    if (file !== ":memory:") {
      makeDirectory(dirname(file), 0o700);
      // Payloads hold customers' names and orders: the file is the user's alone from the moment it
      // is made, as a directory that was there may be open to others, who could open a file SQLite
      // made with the umask's mode (0644) before its mode is set. SQLite gives the -wal and -shm
      // files the database file's mode.
      closeSync(openSync(file, constants.O_RDONLY | constants.O_CREAT, 0o600));
      // SQLite opens a file it may not write (a backup restored read-only, 0400) read-only, and the
      // first write fails: files there are made the user's to write before it opens them.
      for (const path of [file, `${file}-wal`, `${file}-shm`]) {
        try {
          chmodSync(path, 0o600);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        }
      }
    }
    this.#db = new Database(file);
    // Retention keeps it for the deliveries it drops (see retention.ts).
    this.#db.function(BODY_DIGEST, { deterministic: true }, (body) =>
      Buffer.isBuffer(body) ? hash("sha256", body, "buffer") : null,
    );
    this.#opened = file === ":memory:" ? undefined : fileAt(file);
    this.#db.pragma(`busy_timeout = ${Math.round(busyMs)}`);
    const refuseNewer = (version: number) => {
      if (version > SCHEMA_VERSION) throw new NewerStore(version, SCHEMA_VERSION);
    };
    const schemaVersion = () => this.#db.pragma("user_version", { simple: true }) as number;
    let unversioned = false;
    let version: number;
    try {
      const found = schemaVersion();
      refuseNewer(found);
      this.#db.pragma("journal_mode = WAL");
      // WAL with synchronous=NORMAL survives a killed process; only an OS crash may lose the last commits.
      this.#db.pragma("synchronous = NORMAL");
      // An event retention drops leaves the file with it, not in a free page until one is reused.
      this.#db.pragma("secure_delete = ON");
      this.#db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      // Read again under the write lock: another waiter may have set the store up, or upgraded it, meanwhile.
      // A file of tables without a version is a store from before waiter kept versions: upgraded, not made.
      const setUp = this.#db.transaction(() => {
        const version = schemaVersion();
        if (version > SCHEMA_VERSION) return version;
        unversioned =
          version === 0 && this.#db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events'").get() !== undefined;
        this.#db.exec(SCHEMA);
        this.#db.exec(RUNS_SCHEMA);
        this.#db.exec(SESSIONS_SCHEMA);
        this.#db.exec(IDENTITY_SCHEMA);
        this.#db.exec(ACKS_SCHEMA);
        this.#db.exec(WAITS_SCHEMA);
        this.#db.exec(SHOPIFY_SCHEMA);
        this.#db.exec(WOOCOMMERCE_SCHEMA);
        this.#indexDroppedIds();
        for (let step = Math.max(version, 1); step < SCHEMA_VERSION; step++) UPGRADES[step]?.(this.#db);
        if (version < SCHEMA_VERSION) this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
        this.#db.exec(LATEST_SEQ_CAUGHT_UP);
        return version;
      });
      try {
        version = setUp.immediate();
      } catch (err) {
        // A lock held past busy_timeout on a store this schema set up whole is no waiter setting it up,
        // which takes a moment, but a transaction left open (an sqlite3 shell, a database browser): the
        // store opens without a write, and its writes wait their turn. On an older store it is most
        // often another waiter upgrading it, which takes seconds on a large one: said as such.
        const busy = (err as { code?: string }).code === "SQLITE_BUSY";
        if (busy && found > 0 && found < SCHEMA_VERSION) throw new OlderStoreBusy(found);
        if (!busy || found !== SCHEMA_VERSION || !hasEveryTable(this.#db)) throw err;
        version = found;
        this.#latestSeqUncaught = true;
      }
      refuseNewer(version);
    } catch (err) {
      // A process that goes on without its events (a full disk, a file that is no store) holds no
      // handle on the file: the disk's space and the file are the operator's again.
      if (this.#db.open) this.#db.close();
      throw err;
    }
    this.#openedWal = file === ":memory:" ? undefined : fileAt(`${file}-wal`);
    this.#openedShm = file === ":memory:" ? undefined : fileAt(`${file}-shm`);
    // Version 0 without tables is a file no waiter had set up: made, not upgraded.
    this.upgraded =
      (version > 0 || unversioned) && version < SCHEMA_VERSION ? { from: version, to: SCHEMA_VERSION } : undefined;
    this.created = version === 0 && !unversioned;
    // None only where the open could not write, in a store an older waiter set up.
    this.storeId = this.#db
      .prepare("SELECT (SELECT id FROM store_identity) FROM sqlite_master WHERE name = 'store_identity'")
      .pluck()
      .get() as string | undefined;
    this.#acksKept = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'acks'").get() !== undefined;
    this.#busyMs = Math.round(busyMs);
    this.#dataDirFrom = dataDirFrom;
    this.#sources = sources;
    const sql = (text: string) => this.#sql(text);
    const write = <T>(fn: () => T) => this.#write(fn);
    this.runs = sqliteRuns(sql, write);
    this.sessions = sqliteSessions(sql, write);
    this.waits = sqliteWaits(sql, write);
    this.#retention = retention;
    this.#onDropped = onDropped;
    this.#newerSchema = newerSchemaWatch(SCHEMA_VERSION, onNewerSchema);
    this.#watch = new CommitWatch(
      this.#db,
      (seq) => this.#sql("SELECT seq FROM events WHERE seq > ? ORDER BY seq").pluck().all(seq) as number[],
      (seq) => {
        const row = this.#sql("SELECT * FROM events WHERE seq = ?").get(seq) as EventRow | undefined;
        return row && toEvent(row);
      },
      (event) => this.#listeners.tell(event),
      this.#acksKept ? this.#othersAcks() : undefined,
      () => this.#tellGone(this.#gone()),
    );
    // The age limit holds while no webhook arrives too; at opening, before anything is read, but
    // for the rest of a backlog larger than a batch, which goes in turns with the first calls.
    const now = clock.now();
    try {
      this.#db.pragma(`busy_timeout = ${LOCK_TRY_MS}`);
      const { dropped, more, gone } = this.#immediate(() => this.#retain(now));
      tellDropped(this.#onDropped, dropped);
      this.#tellGone(gone);
      if (more) this.#expireUnattended(now);
    } catch (err) {
      // Another program holds the write lock: retention waits its turn as every write does, after the opening.
      if ((err as { code?: string }).code === "SQLITE_BUSY") this.#expireUnattended(now);
      else warn("event retention failed", err);
    } finally {
      this.#db.pragma(`busy_timeout = ${this.#busyMs}`);
    }
    this.#expiry = setInterval(() => {
      this.#expireUnattended();
      this.#sayWalHeld();
      // A process that serves no health check hears of an upgrade here; a failure is retention's to say.
      try {
        if (this.#db.open) this.#newerSchema(this.#schemaVersion());
      } catch {}
    }, EXPIRE_EVERY_MS);
    this.#expiry.unref();
  }

  /**
   * A read transaction another program holds open (a database browser left open, an sqlite3 shell
   * inside BEGIN) keeps SQLite from starting the -wal file over, which then grows with every write
   * for as long as it is held, past journal_size_limit: said, as nothing in waiter can end it.
   */
  #sayWalHeld(): void {
    const file = this.#db.name;
    if (file === ":memory:" || !this.#db.open) return;
    try {
      const { size } = statSync(`${file}-wal`);
      if (size <= WAL_HELD_SIZE) return;
      const [result] = this.#db.pragma("wal_checkpoint(PASSIVE)") as { log: number; checkpointed: number }[];
      if (!result || result.checkpointed >= result.log) return;
      warn(
        `${file}-wal has grown to ${Math.round(size / 2 ** 20)} MiB`,
        `another program has held a read transaction open on ${file} (a database browser left open, an sqlite3 shell inside BEGIN), and until that ends SQLite cannot start the -wal file over, which grows with every delivery: close that program, or end its transaction`,
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") warn("checking the store's -wal file failed", err);
    }
  }

  /** Drops what is past the limits a batch at a time, the event loop turning between batches. */
  async expire(now = clock.now()): Promise<void> {
    for (let more = true; more && !this.#closing; ) {
      const retained = await this.#write(() => this.#retain(now));
      tellDropped(this.#onDropped, retained.dropped);
      this.#tellGone(retained.gone);
      more = retained.more;
      if (more) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #retain(now: number): { dropped: Dropped; more: boolean; gone: Gone | undefined } {
    this.#indexDroppedIds();
    const totals = this.#sql("SELECT events, bytes FROM totals").get() as { events: number; bytes: number };
    const retained = enforceRetention((text) => this.#sql(text), this.#retention, now, totals);
    const gone = this.#goneIn(retained.dropped);
    if (retained.more) return { ...retained, gone };
    const pruning = pruneRuns((text) => this.#sql(text));
    const forgetting = forgetDropped((text) => this.#sql(text), now);
    return { ...retained, more: pruning || forgetting, gone };
  }

  /**
   * Builds dropped_deliveries_id where it is missing, in the write transaction the caller holds: at
   * the open, else (another program held the lock then) at retention's first run that takes it, not
   * at the next restart, as until then each event id looked up reads every drop. Where there are
   * drops to index, which it reads all of, said before and after. Once found, it is not looked
   * for again; one built is looked for once more, as its transaction may yet roll back.
   */
  #indexDroppedIds(): void {
    if (this.#droppedIdsIndexed) return;
    if (this.#sql("SELECT 1 FROM sqlite_master WHERE name = 'dropped_deliveries_id'").get() !== undefined) {
      this.#droppedIdsIndexed = true;
      return;
    }
    const said = this.#sql("SELECT 1 FROM dropped_deliveries LIMIT 1").get() !== undefined;
    const start = clock.now();
    if (said) this.#onIndexing?.();
    this.#db.exec(DROPPED_ID_SCHEMA);
    if (said) this.#onIndexing?.({ ms: clock.now() - start });
  }

  /** What retention left, read in its transaction, where it dropped any event. */
  #goneIn(dropped: Dropped): Gone | undefined {
    return Object.keys(dropped).length > 0 ? this.#gone() : undefined;
  }

  #gone(): Gone {
    return this.#sql("SELECT dropped_through AS through, events AS left FROM totals").get() as Gone;
  }

  /** Tells the listeners of drops of `gone`, unless they were told of it: a drop is told once. */
  #tellGone(gone: Gone | undefined): void {
    if (!gone || gone.through <= this.#goneTold) return;
    this.#goneTold = gone.through;
    this.#goneListeners.tell(gone);
  }

  /**
   * On the timer no caller would see a failure (a full disk, a lock held past busy_timeout), and a
   * throw from a timer ends the process: report it; the next run tries again.
   */
  #expireUnattended(now?: number): void {
    this.#expiring ??= this.expire(now)
      .catch((err) => warn("event retention failed", err))
      .finally(() => {
        this.#expiring = undefined;
      });
  }

  /**
   * One write transaction, holding the write lock from its start. A transaction that reads first
   * and writes later cannot wait for another process's commit: SQLite answers "database is
   * locked" at once, whatever busy_timeout says. One that begins immediate waits its turn, in
   * tries (LOCK_TRY_MS); only a transaction that did not begin is tried again.
   */
  #write<T>(fn: () => T): Promise<T> {
    // Counted from when it came: a write queued behind others waiting for the lock waits no longer.
    const deadline = clock.now() + this.#busyMs;
    const turn = this.#writing.then(() => this.#writeNow(fn, deadline));
    this.#writing = turn.catch(() => {});
    return turn;
  }

  async #writeNow<T>(fn: () => T, deadline: number): Promise<T> {
    for (;;) {
      if (!this.#db.open) throw new ToolError("The event store is closed: waiter is stopping.");
      const gone = this.#moved() ?? this.#walGone();
      if (gone) throw gone;
      let began = false;
      // Set at each write, not prepared once: SQLite reads busy_timeout as it prepares a statement.
      this.#db.pragma(`busy_timeout = ${LOCK_TRY_MS}`);
      try {
        return this.#immediate(() => {
          began = true;
          return fn();
        });
      } catch (err) {
        const busy = (err as { code?: string }).code === "SQLITE_BUSY";
        if (!busy || began || clock.now() + LOCK_PAUSE_MS > deadline)
          throw writeFailure(err, this.#db.name, this.#busyMs, this.#dataDirFrom);
      } finally {
        this.#db.pragma(`busy_timeout = ${this.#busyMs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_PAUSE_MS));
    }
  }

  /**
   * A -wal file deleted while open (`rm events.db-*`, a clean-up of "temporary" files) takes
   * writes still, into a file no other process, nor this one's next start, ever reads: what was
   * committed since the last checkpoint would be lost with a kill. It is written back into the
   * store's file, which a checkpoint still reaches, and writes are refused until a restart. A -shm
   * file deleted holds the locks of the processes on the store: one started since takes others,
   * and two writing at once without each other's corrupt it; this one's writes are refused.
   * Asked once `#moved` found the store's file in its place: one deleted with them is said as
   * such, with what to remove first.
   */
  #walGone(): StoreNotWritable | undefined {
    if (this.#openedWal === undefined) return undefined;
    let wal: string | undefined;
    let shm: string | undefined;
    try {
      wal = fileAt(`${this.#db.name}-wal`);
      shm = fileAt(`${this.#db.name}-shm`);
    } catch {
      // A directory waiter may no longer search says nothing of the file: SQLite tells what fails.
      return undefined;
    }
    if (wal === this.#openedWal && shm === this.#openedShm) return undefined;
    // Written back only while no waiter has made them anew: under one that has, it would corrupt the
    // store. Then a close has nothing left to write back from what this process holds of them.
    const untouched = (now: string | undefined, opened: string | undefined) => now === undefined || now === opened;
    if (untouched(wal, this.#openedWal) && untouched(shm, this.#openedShm)) {
      try {
        this.#db.pragma("wal_checkpoint(PASSIVE)");
      } catch {
        // Refused all the same: a stop writes it back too.
      }
    }
    const walGone = wal !== this.#openedWal;
    return new StoreNotWritable(
      `${this.#db.name}${walGone ? "-wal" : "-shm"} was deleted while waiter ran`,
      walGone
        ? "what waiter stores goes into the -wal file it opened, which no waiter reads again"
        : "a waiter started on it since takes other locks than this one's, and two writing at once corrupt it",
      "stops every waiter on it (SIGTERM or Ctrl+C, not kill -9: the last to stop writes what they stored into the store's file) and starts waiter again",
    );
  }

  /** `fn` in one transaction that holds the write lock from its start, writing first what the open could not. */
  #immediate<T>(fn: () => T): T {
    const uncaught = this.#latestSeqUncaught;
    const result = this.#db
      .transaction(() => {
        if (uncaught) this.#db.exec(LATEST_SEQ_CAUGHT_UP);
        return fn();
      })
      .immediate();
    if (uncaught) this.#latestSeqUncaught = false;
    return result;
  }

  /**
   * A file deleted while open (`rm events.db`, a backup moved in over it) takes writes still, into
   * a file no other process, nor this one's next start, ever reads: what the listener acknowledged
   * would be lost with this process. Refused as a store that cannot be written, until a restart.
   */
  #moved(): StoreNotWritable | undefined {
    if (this.#opened === undefined) return undefined;
    let now: string | undefined;
    try {
      now = fileAt(this.#db.name);
    } catch {
      // A directory waiter may no longer search says nothing of the file: SQLite tells what fails.
      return undefined;
    }
    if (now === this.#opened) return undefined;
    return new StoreNotWritable(
      `${this.#db.name} was deleted or replaced while waiter ran`,
      "what waiter stored would go into the file it opened, which no waiter reads again",
      // One started again beside them, while another waiter keeps them or after a kill, would read
      // the old file's last writes into the file there now: a restored backup undone, or corrupted.
      `stops every waiter on it, removes ${this.#db.name}-wal and ${this.#db.name}-shm (the old file's: left there, they are read into the file there now), and starts waiter again`,
    );
  }

  /**
   * Stores an event once per source and delivery id; a repeat resolves to the stored one.
   * Resolves once the event is committed. Events added in the same turn of the event loop share
   * one transaction (group commit): under load a commit, not the insert, is what costs.
   */
  add(event: NewEvent): Promise<Added> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (this.#queue.length === 1) setImmediate(() => void this.#commitQueue());
    });
  }

  async #commitQueue(): Promise<void> {
    const batch = this.#queue.splice(0);
    // A close committed it already.
    if (batch.length === 0) return;
    let results: Inserted[];
    let dropped: Dropped | undefined;
    let gone: Gone | undefined;
    let backlog = false;
    try {
      results = await this.#write(() => {
        const inserted = batch.map(({ event }) => this.#insert(event));
        // One counters write for each source and outcome of the batch, not one for each delivery.
        const counted = new Map<string, { accepted: number; duplicate: number }>();
        batch.forEach(({ event }, i) => {
          const outcomes = counted.get(event.source) ?? { accepted: 0, duplicate: 0 };
          counted.set(event.source, outcomes);
          outcomes[inserted[i]?.duplicate ? "duplicate" : "accepted"] += 1;
        });
        for (const [source, outcomes] of counted) {
          for (const [outcome, n] of Object.entries(outcomes)) if (n > 0) this.#count(source, outcome, n);
        }
        const last = batch.at(-1)?.event;
        const added = inserted.filter((r) => !r.duplicate);
        if (last && added.length > 0) {
          const bytes = batch.reduce((sum, { event }, i) => sum + (inserted[i]?.duplicate ? 0 : event.body.length), 0);
          const totals = this.#sql(
            "UPDATE totals SET events = events + ?, bytes = bytes + ?, latest_seq = max(latest_seq, ?) RETURNING events, bytes",
          ).get(added.length, bytes, added.at(-1)?.seq) as { events: number; bytes: number };
          const retained = enforceRetention((text) => this.#sql(text), this.#retention, last.receivedAt, totals);
          dropped = retained.dropped;
          gone = this.#goneIn(dropped);
          backlog = retained.more;
        }
        return inserted;
      });
    } catch (err) {
      for (const { reject } of batch) reject(err);
      return;
    }
    tellDropped(this.#onDropped, dropped);
    this.#tellGone(gone);
    if (backlog) this.#expireUnattended();
    batch.forEach(({ resolve }, i) => {
      const { seq, id, duplicate, dropped: gone, digest } = results[i] as Inserted;
      // Reading the row back costs more than storing it: only for this process's subscribers.
      // Retention may already have dropped it (an event larger than maxBytes): then there is none.
      if (!duplicate && this.#listeners.size > 0) {
        const row = this.#sql("SELECT * FROM events WHERE seq = ?").get(seq) as EventRow | undefined;
        if (row) {
          const stored = toEvent(row);
          this.#watch.toldHere(stored);
          this.#listeners.tell(stored);
        }
      }
      resolve({ id, duplicate, ...(gone ? { dropped: gone } : {}), ...(digest ? { digest } : {}) });
    });
  }

  #insert(event: NewEvent): Inserted {
    // A retry of a delivery an older waiter stored under its former id is keyed as that one was.
    const former = event.formerDedupeId;
    const dedupeId =
      former !== undefined && this.#sql(HELD).get(event.source, former, event.source, former) ? former : event.dedupeId;
    const dropped = this.#sql("SELECT id, digest FROM dropped_deliveries WHERE source = ? AND dedupe_id = ?").get(
      event.source,
      dedupeId,
    ) as { id: string; digest: Buffer | null } | undefined;
    if (dropped) {
      return { seq: 0, id: dropped.id, duplicate: true, dropped: true, ...droppedDigest(dropped.digest) };
    }
    const inserted = this.#sql(
      `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, dedupe_id) DO NOTHING RETURNING seq, id`,
    ).get(
      this.#nextId(event.receivedAt),
      event.source,
      event.type,
      event.scheme,
      dedupeId,
      event.receivedAt,
      JSON.stringify(event.headers),
      event.body,
      (event.isJson ?? isJson(event.body)) ? 1 : 0,
      event.body.length,
    ) as { seq: number; id: string } | undefined;
    if (inserted) return { ...inserted, duplicate: false };
    const existing = this.#sql("SELECT seq, id FROM events WHERE source = ? AND dedupe_id = ?").get(
      event.source,
      dedupeId,
    ) as { seq: number; id: string };
    return { ...existing, duplicate: true };
  }

  async count(source: string, outcome: string, n = 1): Promise<void> {
    await this.#write(() => this.#count(source, outcome, n));
  }

  async proveWritable(bytes: number): Promise<void> {
    // An event of no source (none is named ""), numbered below any number AUTOINCREMENT hands out,
    // and deleted in the same commit: no reader sees it. A count of nothing would prove nothing:
    // SQLite writes no page whose bytes stay as they were.
    const size = Math.max(0, Math.floor(bytes));
    await this.#write(() => {
      this.#sql(
        `INSERT INTO events (seq, id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
         VALUES (-1, '', '', '', '', '', 0, '', randomblob(?), 0, ?)`,
      ).run(size, size);
      this.#sql("DELETE FROM events WHERE seq = -1").run();
    });
  }

  async list(filter: EventFilter, page: EventPage): Promise<StoredEvent[]> {
    const types = this.#typesOf(filter);
    if (types?.length === 0) return [];
    const [sql, params] = pageQuery(filter, page, types, page.oldestFirst ? "ASC" : "DESC");
    return (this.#sql(sql).all(...params) as EventRow[]).map(toEvent);
  }

  async firstAfter(filter: EventFilter, after: number): Promise<StoredEvent | undefined> {
    const types = this.#typesOf(filter);
    if (types?.length === 0) return undefined;
    const [sql, params] = pageQuery(filter, { after, limit: 1 }, types, "ASC");
    const row = this.#sql(sql).get(...params) as EventRow | undefined;
    return row && toEvent(row);
  }

  /**
   * The stored types a filter's type matches, for `pageQuery` to read each through
   * events_by_type: none when no event has it. Undefined (the events read by seq, the type
   * checked on each) without a type, for a prefix more than TYPES_BY_INDEX types begin, and for
   * unacknowledged events, which events_unacked reads without walking the acknowledged ones.
   */
  #typesOf(filter: EventFilter): string[] | undefined {
    if (!filter.type) return undefined;
    const prefix = typePrefix(filter.type);
    const types =
      prefix === undefined
        ? (this.#sql("SELECT type FROM events WHERE type = ? LIMIT 1").pluck().all(filter.type) as string[])
        : (this.#sql(TYPES_BEGINNING)
            .pluck()
            .all(prefix, `${prefix}\x7f`, `${prefix}\x7f`, TYPES_BY_INDEX + 1) as string[]);
    if (filter.unackedOnly) return types.length === 0 ? [] : undefined;
    return types.length > TYPES_BY_INDEX ? undefined : types;
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const row = this.#sql("SELECT * FROM events WHERE id = ?").get(id) as EventRow | undefined;
    return row && toEvent(row);
  }

  async storedBody(id: string): Promise<Buffer | undefined> {
    return this.#sql("SELECT body FROM events WHERE id = ?").pluck().get(id) as Buffer | undefined;
  }

  async deliveredAs(deliveryId: string): Promise<{ id: string; source: string }[]> {
    // Every source that stored an event is counted: each is looked up by its key, not by reading every event.
    return this.#sql(DELIVERED_AS).all({ delivery: deliveryId }) as { id: string; source: string }[];
  }

  async reusedAs(deliveryId: string): Promise<{ id: string; source: string }[]> {
    return this.#sql(REUSED_KEYS).all(reusedKeysParameters(deliveryId)) as { id: string; source: string }[];
  }

  async droppedReusedAs(deliveryId: string): Promise<{ id: string; source: string }[]> {
    return this.#sql(DROPPED_REUSED_KEYS).all(reusedKeysParameters(deliveryId)) as { id: string; source: string }[];
  }

  async droppedAs(deliveryId: string): Promise<{ id: string; source: string; digest?: string }[]> {
    const rows = this.#sql(
      "SELECT id, source, digest FROM dropped_deliveries WHERE source IN (SELECT source FROM counters) AND dedupe_id = ? ORDER BY dropped_at, id",
    ).all(deliveryId) as { id: string; source: string; digest: Buffer | null }[];
    return rows.map(({ id, source, digest }) => ({ id, source, ...droppedDigest(digest) }));
  }

  async droppedEvents(ids: string[]): Promise<{ id: string; droppedAt: string }[]> {
    const rows = this.#sql(DROPPED_EVENTS).all(JSON.stringify(ids)) as { id: string; dropped_at: number }[];
    return rows.map((row) => ({ id: row.id, droppedAt: iso(row.dropped_at) as string }));
  }

  async oldestDroppedId(): Promise<string | undefined> {
    return (this.#sql("SELECT min(id) FROM dropped_deliveries").pluck().get() as string | null) ?? undefined;
  }

  async droppedRemembered(after?: string): Promise<number> {
    if (after === undefined) return this.#sql("SELECT count(*) FROM dropped_deliveries").pluck().get() as number;
    return this.#sql("SELECT count(*) FROM dropped_deliveries WHERE id > ?").pluck().get(after) as number;
  }

  async droppedPayment(paymentId: string): Promise<DroppedPayment[]> {
    const events = this.#sql(
      `SELECT id, source, dedupe_id AS dedupeId FROM dropped_deliveries
       WHERE source IN (SELECT source FROM counters WHERE source NOT IN (SELECT value FROM json_each(?)))
       AND dedupe_id IN (SELECT value FROM json_each(?)) ORDER BY dropped_at, id LIMIT ${PAYMENT_EVENTS_LISTED}`,
    ).all(JSON.stringify(otherSchemeSources(this.#sources ?? [])), JSON.stringify(paymentDeliveries(paymentId))) as {
      id: string;
      source: string;
      dedupeId: string;
    }[];
    return markUnconfigured(events, this.#sources);
  }

  async paymentEvents(paymentId: string): Promise<{ id: string; source: string; dedupeId: string }[]> {
    // The ids that begin "<payment id>:" are those from it up to the same with ";", the character after ":".
    return this.#sql(
      `SELECT id, source, dedupe_id AS dedupeId FROM events WHERE source IN (SELECT source FROM counters)
       AND dedupe_id >= ? AND dedupe_id < ? AND scheme IN ('comgate', 'gopay') ORDER BY seq LIMIT ${PAYMENT_EVENTS_LISTED}`,
    ).all(`${paymentId}:`, `${paymentId};`) as { id: string; source: string; dedupeId: string }[];
  }

  async recentIds(prefix: string, limit: number): Promise<string[]> {
    // No id is as great as the prefix followed by the greatest code point.
    return (this.#sql(RECENT_IDS).all(prefix, `${prefix}\u{10FFFF}`, limit) as { id: string }[]).map((r) => r.id);
  }

  async typesLike(filter: EventFilter, after: number, limit: number): Promise<string[]> {
    const [sql, params] = typesQuery(filter, after, limit);
    return this.#sql(sql)
      .pluck()
      .all(...params) as string[];
  }

  async ack(ids: string[], now = clock.now()): Promise<Acked> {
    const outcome: Acked = { acked: [], already: [], unknown: [] };
    await this.#write(() => {
      for (const id of new Set(ids)) {
        const row = this.#sql("SELECT acked_at FROM events WHERE id = ?").get(id) as
          | { acked_at: number | null }
          | undefined;
        if (!row) outcome.unknown.push(id);
        else if (row.acked_at !== null) outcome.already.push({ id, ackedAt: iso(row.acked_at) as string });
        else {
          this.#sql("UPDATE events SET acked_at = ? WHERE id = ?").run(now, id);
          if (this.#acksKept) this.#sql("INSERT INTO acks (id, writer) VALUES (?, ?)").run(id, this.#me);
          outcome.acked.push(id);
        }
      }
      if (this.#acksKept && outcome.acked.length > 0) {
        this.#sql("DELETE FROM acks WHERE n <= last_insert_rowid() - ?").run(ACKS_KEPT);
      }
    });
    if (outcome.acked.length > 0) this.#ackListeners.tell(outcome.acked);
    return outcome;
  }

  /** Calls `listener` with the ids acknowledged, by this process at once, by others within a poll interval. */
  onAck(listener: (ids: string[]) => void): () => void {
    return this.#watched(this.#ackListeners, listener);
  }

  /** Calls `listener` with what retention left as it drops events: in this process at once, in others within a poll interval. */
  onGone(listener: (gone: Gone) => void): () => void {
    return this.#watched(this.#goneListeners, listener);
  }

  /** The acknowledgements the commit watch reads: the latest's number, and those of other stores after one. */
  #othersAcks() {
    return {
      latest: () => this.#sql("SELECT COALESCE(MAX(n), 0) FROM acks").pluck().get() as number,
      after: (n: number) => {
        const rows = this.#sql("SELECT n, id, writer FROM acks WHERE n > ? ORDER BY n").all(n) as {
          n: number;
          id: string;
          writer: string;
        }[];
        // Kept ACKS_KEPT at a time, some were gone before this process looked: which events they
        // acknowledged is lost with them, so every acknowledged event is told, rather than none of them.
        if (rows[0] && rows[0].n > n + 1) {
          const acked = this.#sql(ACKED_IDS).pluck().all();
          return { last: rows.at(-1)?.n ?? n, ids: acked as string[] };
        }
        return { last: rows.at(-1)?.n ?? n, ids: rows.filter((row) => row.writer !== this.#me).map((row) => row.id) };
      },
      tell: (ids: string[]) => this.#ackListeners.tell(ids),
    };
  }

  async latestSeq(): Promise<number> {
    return this.#latestSeq();
  }

  #latestSeq(): number {
    return (this.#sql(this.#latestSeqUncaught ? LATEST_SEQ_UNCAUGHT : LATEST_SEQ).get() as { seq: number }).seq;
  }

  async droppedThrough(): Promise<number> {
    return (this.#sql("SELECT dropped_through FROM totals").get() as { dropped_through: number }).dropped_through;
  }

  async unfit(): Promise<NewerSchema | StoreNotWritable | undefined> {
    // A file made read-only after the open is still written through the handle the open took, made
    // the user's to write: nothing short of a write tells a store that takes none. A file deleted
    // is found without one, before a delivery is refused.
    if (this.#db.open) {
      const gone = this.#moved() ?? this.#walGone();
      if (gone) return gone;
    }
    return this.#newerSchema(this.#schemaVersion());
  }

  /** The file's schema now: its header's user_version, a read of a page SQLite has in its cache. */
  #schemaVersion(): number {
    return this.#db.pragma("user_version", { simple: true }) as number;
  }

  async stats(): Promise<StoreStats> {
    return toStats(this.#sql(STATS_SQL).get() as TotalsRow);
  }

  async counters(): Promise<Counters> {
    return toCounters(this.#sql("SELECT source, outcome, n FROM counters").all() as Parameters<typeof toCounters>[0]);
  }

  /**
   * Calls `listener` with every new event, whichever process committed it: this one at once,
   * others within a poll interval. Returns the unsubscribe function.
   */
  subscribe(listener: (event: StoredEvent) => void): () => void {
    return this.#watched(this.#listeners, listener);
  }

  /** Adds `listener` to `listeners`, the commit watch looking while anyone listens. */
  #watched<T>(listeners: Listeners<T>, listener: (news: T) => void): () => void {
    const listening = () => this.#listeners.size + this.#ackListeners.size + this.#goneListeners.size > 0;
    if (!listening()) {
      // Drops before anyone listened are no news.
      this.#goneTold = Math.max(this.#goneTold, this.#gone().through);
      this.#watch.start(this.#latestSeq());
    }
    const remove = listeners.add(listener);
    return () => {
      remove();
      if (!listening()) this.#watch.stop();
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

  async close(): Promise<void> {
    clearInterval(this.#expiry);
    // A backlog retention is going through stops after its batch, to go on at the next start.
    this.#closing = true;
    await this.#expiring;
    if (this.#queue.length > 0) await this.#commitQueue();
    await this.#writing;
    this.#watch.stop();
    this.#listeners.clear();
    if (this.#db.open) this.#db.close();
  }

  #count(source: string, outcome: string, n = 1): void {
    this.#sql(
      "INSERT INTO counters (source, outcome, n) VALUES (?, ?, ?) ON CONFLICT (source, outcome) DO UPDATE SET n = n + excluded.n",
    ).run(source, outcome, n);
  }
}
