import type Database from "better-sqlite3";
import { noticeColumns, noticeUpdate, type RunRow, runConditions, type StepRow, toRun, toRunCounts } from "../rows.js";
import type { RunFilter, RunLog, RunRecord } from "../store.js";
import { RETENTION_BATCH } from "./retention.js";

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
  notice TEXT,
  notice_status TEXT,
  on_failure TEXT,
  notice_outcome TEXT,
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

/**
 * Drops the finished runs whose event retention has dropped: their steps hold what the tools said
 * (orders, customers), which must not outlive the event. A failed run whose notice is not yet told
 * stays until it is. Runs at the store's age check, RETENTION_BATCH runs a transaction as the
 * events go, a backlog's runs in turns; returns whether there may be more.
 */
export function pruneRuns(sql: (text: string) => Database.Statement): boolean {
  const gone = `SELECT id FROM automation_runs WHERE status != 'running' AND notice IS NULL AND event_id NOT IN (SELECT id FROM events)
    ORDER BY id LIMIT ${RETENTION_BATCH}`;
  sql(`DELETE FROM automation_steps WHERE run_id IN (${gone})`).run();
  return sql(`DELETE FROM automation_runs WHERE id IN (${gone})`).run().changes === RETENTION_BATCH;
}

/** Automation runs in the store's own file, each write its own immediate transaction. */
export function sqliteRuns(sql: (text: string) => Database.Statement, write: <T>(fn: () => T) => Promise<T>): RunLog {
  const seenFrom = (automation: string) =>
    (sql("SELECT seq FROM automation_starts WHERE automation = ?").get(automation) as { seq: number } | undefined)?.seq;
  const record = (row: RunRow): RunRecord =>
    toRun(
      row,
      sql("SELECT step, status, detail, at FROM automation_steps WHERE run_id = ? ORDER BY step").all(
        row.id,
      ) as StepRow[],
    );
  return {
    async begin(automation, eventId, dryRun, now, onFailure) {
      return write(() => {
        const row = sql(
          `INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, on_failure) VALUES (?, ?, 'running', ?, ?, ?)
           ON CONFLICT (automation, event_id) DO NOTHING RETURNING id`,
        ).get(automation, eventId, dryRun ? 1 : 0, now, onFailure ?? null) as { id: number } | undefined;
        return row?.id;
      });
    },
    async step(runId, step, status, detail, now) {
      await write(() =>
        sql(
          `INSERT INTO automation_steps (run_id, step, status, detail, at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status, detail = excluded.detail, at = excluded.at`,
        ).run(runId, step, status, detail, now),
      );
    },
    async finish(runId, status, now, error, notice) {
      await write(() =>
        sql(
          "UPDATE automation_runs SET status = ?, finished_at = ?, error = ?, notice = ?, notice_status = ?, notice_outcome = ? WHERE id = ?",
        ).run(status, now, error ?? null, ...noticeColumns(notice), runId),
      );
    },
    async notice(runId, status) {
      const { text, params } = noticeUpdate(status, () => "?");
      const { changes } = await write(() => sql(text).run(...params, runId));
      return changes > 0;
    },
    async get(runId) {
      const row = sql("SELECT * FROM automation_runs WHERE id = ?").get(runId) as RunRow | undefined;
      return row && record(row);
    },
    async unfinished() {
      return (sql("SELECT * FROM automation_runs WHERE status = 'running' ORDER BY id").all() as RunRow[]).map(record);
    },
    async untold() {
      return (sql("SELECT * FROM automation_runs WHERE notice IS NOT NULL ORDER BY id").all() as RunRow[]).map(record);
    },
    async list(filter: RunFilter) {
      const conditions = runConditions(filter);
      const where = conditions.length ? `WHERE ${conditions.map(([column]) => `${column} = ?`).join(" AND ")}` : "";
      return (
        sql(`SELECT * FROM automation_runs ${where} ORDER BY id DESC LIMIT ?`).all(
          ...conditions.map(([, value]) => value),
          filter.limit,
        ) as RunRow[]
      ).map(record);
    },
    async counts(dryRun) {
      return toRunCounts(
        sql(
          "SELECT automation, status, count(*) AS n FROM automation_runs WHERE dry_run = ? GROUP BY automation, status",
        ).all(dryRun ? 1 : 0) as {
          automation: string;
          status: RunRecord["status"];
          n: number;
        }[],
      );
    },
    async firstSeen(automation, seq) {
      return write(() => {
        sql("INSERT INTO automation_starts (automation, seq) VALUES (?, ?) ON CONFLICT (automation) DO NOTHING").run(
          automation,
          seq,
        );
        return seenFrom(automation) as number;
      });
    },
    async seenFrom(automation) {
      return seenFrom(automation);
    },
    async lease(owner, now, ms) {
      return write(() => {
        const held = sql("SELECT owner, until FROM automation_lease").get() as
          | { owner: string; until: number }
          | undefined;
        if (held && held.owner !== owner && held.until > now) {
          return { holder: held.owner, renewed: false, until: held.until };
        }
        sql(
          "INSERT INTO automation_lease (one, owner, until) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET owner = excluded.owner, until = excluded.until",
        ).run(owner, now + ms);
        if (held && held.owner !== owner) {
          return { holder: owner, renewed: false, until: now + ms, from: { owner: held.owner, until: held.until } };
        }
        return { holder: owner, renewed: held !== undefined, until: now + ms };
      });
    },
    async release(owner) {
      await write(() => sql("DELETE FROM automation_lease WHERE owner = ?").run(owner));
    },
    async leaseUntil() {
      return (sql("SELECT until FROM automation_lease").get() as { until: number } | undefined)?.until;
    },
    async cursor() {
      return (sql("SELECT seq FROM automation_cursor").get() as { seq: number } | undefined)?.seq;
    },
    async setCursor(seq) {
      await write(() =>
        sql(
          "INSERT INTO automation_cursor (one, seq) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET seq = max(seq, excluded.seq)",
        ).run(seq),
      );
    },
    async markHistory(seq) {
      await write(() =>
        sql("INSERT INTO automation_cursor (one, seq) VALUES (1, ?) ON CONFLICT (one) DO NOTHING").run(seq),
      );
    },
  };
}
