import type Database from "better-sqlite3";
import type { RunFilter, RunLog, RunRecord, StepRecord, StepStatus } from "../store.js";

export const RUNS_SCHEMA = `
CREATE TABLE IF NOT EXISTS automation_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  automation TEXT NOT NULL,
  event_id TEXT NOT NULL,
  status TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  error TEXT,
  UNIQUE (automation, event_id)
);
CREATE TABLE IF NOT EXISTS automation_steps (
  run_id INTEGER NOT NULL,
  step INTEGER NOT NULL,
  status TEXT NOT NULL,
  detail TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE INDEX IF NOT EXISTS automation_runs_event ON automation_runs (event_id);
CREATE TABLE IF NOT EXISTS automation_cursor (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS automation_starts (automation TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS automation_lease (one INTEGER PRIMARY KEY CHECK (one = 1), owner TEXT NOT NULL, until INTEGER NOT NULL);
`;

interface RunRow {
  id: number;
  automation: string;
  event_id: string;
  status: RunRecord["status"];
  dry_run: number;
  started_at: number;
  finished_at: number | null;
  error: string | null;
}

/**
 * Drops the finished runs whose event retention has dropped: their steps hold what the tools said
 * (orders, customers), which must not outlive the event. Runs at the store's age check.
 */
export function pruneRuns(sql: (text: string) => Database.Statement): void {
  const gone = "SELECT id FROM automation_runs WHERE status != 'running' AND event_id NOT IN (SELECT id FROM events)";
  sql(`DELETE FROM automation_steps WHERE run_id IN (${gone})`).run();
  sql(`DELETE FROM automation_runs WHERE id IN (${gone})`).run();
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Automation runs in the store's own file, each write its own immediate transaction. */
export function sqliteRuns(sql: (text: string) => Database.Statement, write: <T>(fn: () => T) => T): RunLog {
  const steps = (runId: number): StepRecord[] =>
    (
      sql("SELECT step, status, detail, at FROM automation_steps WHERE run_id = ? ORDER BY step").all(runId) as {
        step: number;
        status: StepStatus;
        detail: string;
        at: number;
      }[]
    ).map((s) => ({ step: s.step, status: s.status, detail: s.detail, at: iso(s.at) as string }));
  const record = (row: RunRow): RunRecord => ({
    id: row.id,
    automation: row.automation,
    eventId: row.event_id,
    status: row.status,
    dryRun: row.dry_run === 1,
    startedAt: iso(row.started_at) as string,
    finishedAt: iso(row.finished_at),
    error: row.error,
    steps: steps(row.id),
  });
  return {
    async begin(automation, eventId, dryRun, now) {
      return write(() => {
        const row = sql(
          `INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at) VALUES (?, ?, 'running', ?, ?)
           ON CONFLICT (automation, event_id) DO NOTHING RETURNING id`,
        ).get(automation, eventId, dryRun ? 1 : 0, now) as { id: number } | undefined;
        return row?.id;
      });
    },
    async step(runId, step, status, detail, now) {
      write(() =>
        sql(
          `INSERT INTO automation_steps (run_id, step, status, detail, at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status, detail = excluded.detail, at = excluded.at`,
        ).run(runId, step, status, detail, now),
      );
    },
    async finish(runId, status, now, error) {
      write(() =>
        sql("UPDATE automation_runs SET status = ?, finished_at = ?, error = ? WHERE id = ?").run(
          status,
          now,
          error ?? null,
          runId,
        ),
      );
    },
    async get(runId) {
      const row = sql("SELECT * FROM automation_runs WHERE id = ?").get(runId) as RunRow | undefined;
      return row && record(row);
    },
    async unfinished() {
      return (sql("SELECT * FROM automation_runs WHERE status = 'running' ORDER BY id").all() as RunRow[]).map(record);
    },
    async list(filter: RunFilter) {
      const clauses: string[] = [];
      const params: unknown[] = [];
      for (const [column, value] of [
        ["automation", filter.automation],
        ["status", filter.status],
        ["event_id", filter.eventId],
      ] as const) {
        if (value === undefined) continue;
        clauses.push(`${column} = ?`);
        params.push(value);
      }
      const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
      params.push(filter.limit);
      return (sql(`SELECT * FROM automation_runs ${where} ORDER BY id DESC LIMIT ?`).all(...params) as RunRow[]).map(
        record,
      );
    },
    async counts() {
      const counts: Record<string, Record<RunRecord["status"], number>> = {};
      for (const row of sql(
        "SELECT automation, status, count(*) AS n FROM automation_runs GROUP BY automation, status",
      ).all() as {
        automation: string;
        status: RunRecord["status"];
        n: number;
      }[]) {
        counts[row.automation] ??= { running: 0, done: 0, failed: 0 };
        (counts[row.automation] as Record<RunRecord["status"], number>)[row.status] = row.n;
      }
      return counts;
    },
    async firstSeen(automation, seq) {
      return write(() => {
        sql("INSERT INTO automation_starts (automation, seq) VALUES (?, ?) ON CONFLICT (automation) DO NOTHING").run(
          automation,
          seq,
        );
        return (sql("SELECT seq FROM automation_starts WHERE automation = ?").get(automation) as { seq: number }).seq;
      });
    },
    async lease(owner, now, ms) {
      return write(() => {
        const held = sql("SELECT owner, until FROM automation_lease").get() as
          | { owner: string; until: number }
          | undefined;
        if (held && held.owner !== owner && held.until > now) return held.owner;
        sql(
          "INSERT INTO automation_lease (one, owner, until) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET owner = excluded.owner, until = excluded.until",
        ).run(owner, now + ms);
        return undefined;
      });
    },
    async release(owner) {
      write(() => sql("DELETE FROM automation_lease WHERE owner = ?").run(owner));
    },
    async cursor() {
      return (sql("SELECT seq FROM automation_cursor").get() as { seq: number } | undefined)?.seq;
    },
    async setCursor(seq) {
      write(() =>
        sql(
          "INSERT INTO automation_cursor (one, seq) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET seq = max(seq, excluded.seq)",
        ).run(seq),
      );
    },
  };
}
