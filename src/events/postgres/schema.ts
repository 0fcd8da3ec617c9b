import type { ClientBase } from "pg";

/**
 * The store's tables, as versioned steps. A database set up by an older waiter is brought up to
 * date at start; each step runs once, in its own transaction, and never changes once released:
 * a change is a new step. Times are milliseconds since the epoch, as the SQLite store keeps them.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: events, their totals and the listener's counters.
  `CREATE TABLE events (
     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     source TEXT NOT NULL,
     type TEXT NOT NULL,
     scheme TEXT NOT NULL,
     dedupe_id TEXT NOT NULL,
     received_at BIGINT NOT NULL,
     headers TEXT NOT NULL,
     body BYTEA NOT NULL,
     is_json BOOLEAN NOT NULL,
     size INTEGER NOT NULL,
     acked_at BIGINT,
     UNIQUE (source, dedupe_id)
   );
   CREATE TABLE totals (
     one INTEGER PRIMARY KEY CHECK (one = 1),
     events BIGINT NOT NULL, bytes BIGINT NOT NULL,
     dropped_count BIGINT NOT NULL, dropped_bytes BIGINT NOT NULL, dropped_age BIGINT NOT NULL
   );
   INSERT INTO totals VALUES (1, 0, 0, 0, 0, 0);
   CREATE TABLE counters (
     source TEXT NOT NULL, outcome TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (source, outcome)
   );`,
  // 2: automations' runs, their steps, where each automation starts, and who runs them.
  `CREATE TABLE automation_runs (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     automation TEXT NOT NULL,
     event_id TEXT NOT NULL,
     status TEXT NOT NULL,
     dry_run BOOLEAN NOT NULL,
     started_at BIGINT NOT NULL,
     finished_at BIGINT,
     error TEXT,
     UNIQUE (automation, event_id)
   );
   CREATE INDEX automation_runs_event ON automation_runs (event_id);
   CREATE TABLE automation_steps (
     run_id BIGINT NOT NULL REFERENCES automation_runs (id) ON DELETE CASCADE,
     step INTEGER NOT NULL,
     status TEXT NOT NULL,
     detail TEXT NOT NULL,
     at BIGINT NOT NULL,
     PRIMARY KEY (run_id, step)
   );
   CREATE TABLE automation_cursor (one INTEGER PRIMARY KEY CHECK (one = 1), seq BIGINT NOT NULL);
   CREATE TABLE automation_starts (automation TEXT PRIMARY KEY, seq BIGINT NOT NULL);
   CREATE TABLE automation_lease (one INTEGER PRIMARY KEY CHECK (one = 1), owner TEXT NOT NULL, until BIGINT NOT NULL);`,
  // 3: deliveries remembered after retention dropped their events, so a replay is a duplicate.
  `CREATE TABLE dropped_deliveries (
     source TEXT NOT NULL, dedupe_id TEXT NOT NULL, id TEXT NOT NULL, dropped_at BIGINT NOT NULL,
     PRIMARY KEY (source, dedupe_id)
   );
   CREATE INDEX dropped_deliveries_at ON dropped_deliveries (dropped_at);`,
  // 4: MCP sessions with what their clients sent at initialize, so any replica can take one up.
  `CREATE TABLE mcp_sessions (id TEXT PRIMARY KEY, caller TEXT, init TEXT NOT NULL, last_seen BIGINT NOT NULL);`,
];

/** Any number, the same in every waiter: replicas starting at once take turns on it. */
const MIGRATION_LOCK = 0x77616974; // "wait"

/**
 * Brings the schema in the connection's search path up to `upTo` steps (all of them by
 * default), under an advisory lock, so replicas that start at once do not race: the second
 * waits, then finds nothing left to do. Refuses a database a newer waiter has set up.
 */
export async function migrate(client: ClientBase, upTo = MIGRATIONS.length): Promise<void> {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    await client.query(
      "CREATE TABLE IF NOT EXISTS waiter_schema (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL)",
    );
    const { rows } = await client.query<{ version: number }>("SELECT version FROM waiter_schema");
    const version = rows[0]?.version ?? 0;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `the database was set up by a newer waiter (schema ${version}; this one knows up to ${MIGRATIONS.length}): upgrade waiter`,
      );
    }
    for (let step = version; step < upTo; step++) {
      await client.query("BEGIN");
      try {
        await client.query(MIGRATIONS[step] as string);
        await client.query(
          "INSERT INTO waiter_schema (one, version) VALUES (1, $1) ON CONFLICT (one) DO UPDATE SET version = excluded.version",
          [step + 1],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
  }
}
