import { noticeColumns, noticeUpdate, type RunRow, runConditions, type StepRow, toRun, toRunCounts } from "../rows.js";
import type { RunFilter, RunLog, RunRecord } from "../store.js";

/** Runs one statement on the store's pool, its failures worded for a caller. */
export type Query = <R extends object>(text: string, params?: unknown[]) => Promise<R[]>;

/**
 * Drops the finished runs whose events retention dropped; their steps go with them. A failed run
 * whose notice is not yet told stays until it is.
 */
export const PRUNE_RUNS =
  "DELETE FROM automation_runs r WHERE status != 'running' AND notice IS NULL AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = r.event_id)";

/** Automation runs in the store's database, each write one statement (its own transaction). */
export function postgresRuns(query: Query): RunLog {
  const seenFrom = async (automation: string): Promise<number | undefined> => {
    const [row] = await query<{ seq: number }>("SELECT seq FROM automation_starts WHERE automation = $1", [automation]);
    return row?.seq;
  };
  const records = async (rows: RunRow[]): Promise<RunRecord[]> => {
    if (rows.length === 0) return [];
    const steps = await query<StepRow & { run_id: number }>(
      "SELECT run_id, step, status, detail, at FROM automation_steps WHERE run_id = ANY($1) ORDER BY run_id, step",
      [rows.map((r) => r.id)],
    );
    return rows.map((row) =>
      toRun(
        row,
        steps.filter((s) => s.run_id === row.id),
      ),
    );
  };
  return {
    async begin(automation, eventId, dryRun, now, onFailure) {
      const [row] = await query<{ id: number }>(
        `INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, on_failure) VALUES ($1, $2, 'running', $3, $4, $5)
         ON CONFLICT (automation, event_id) DO NOTHING RETURNING id`,
        [automation, eventId, dryRun, now, onFailure ?? null],
      );
      return row?.id;
    },
    async step(runId, step, status, detail, now) {
      await query(
        `INSERT INTO automation_steps (run_id, step, status, detail, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status, detail = excluded.detail, at = excluded.at`,
        [runId, step, status, detail, now],
      );
    },
    async finish(runId, status, now, error, notice) {
      await query(
        "UPDATE automation_runs SET status = $1, finished_at = $2, error = $3, notice = $4, notice_status = $5, notice_outcome = $6 WHERE id = $7",
        [status, now, error ?? null, ...noticeColumns(notice), runId],
      );
    },
    async notice(runId, status) {
      const { text, params } = noticeUpdate(status, (i) => `$${i}`);
      const owed = await query(`${text} RETURNING id`, [...params, runId]);
      return owed.length > 0;
    },
    async get(runId) {
      const [run] = await records(await query<RunRow>("SELECT * FROM automation_runs WHERE id = $1", [runId]));
      return run;
    },
    async unfinished() {
      return records(await query<RunRow>("SELECT * FROM automation_runs WHERE status = 'running' ORDER BY id"));
    },
    async untold() {
      return records(await query<RunRow>("SELECT * FROM automation_runs WHERE notice IS NOT NULL ORDER BY id"));
    },
    async list(filter: RunFilter) {
      const conditions = runConditions(filter);
      const where = conditions.length
        ? `WHERE ${conditions.map(([column], i) => `${column} = $${i + 1}`).join(" AND ")}`
        : "";
      return records(
        await query<RunRow>(`SELECT * FROM automation_runs ${where} ORDER BY id DESC LIMIT $${conditions.length + 1}`, [
          ...conditions.map(([, value]) => value),
          filter.limit,
        ]),
      );
    },
    async counts(dryRun) {
      return toRunCounts(
        await query<{ automation: string; status: RunRecord["status"]; n: number }>(
          "SELECT automation, status, count(*)::int AS n FROM automation_runs WHERE dry_run = $1 GROUP BY automation, status",
          [dryRun],
        ),
      );
    },
    async firstSeen(automation, seq) {
      await query(
        "INSERT INTO automation_starts (automation, seq) VALUES ($1, $2) ON CONFLICT (automation) DO NOTHING",
        [automation, seq],
      );
      return (await seenFrom(automation)) as number;
    },
    seenFrom,
    async lease(owner, now, ms) {
      for (;;) {
        // Still ours, run out or not: no other took it since, or the row would name it (or be gone).
        const [renewed] = await query("UPDATE automation_lease SET until = $2 WHERE owner = $1 RETURNING one", [
          owner,
          now + ms,
        ]);
        if (renewed) return { holder: owner, renewed: true, until: now + ms };
        // One statement: taken when free or run out; else the holder is asked for. What it was
        // is read beside, only to be said.
        const [taken] = await query<{ was: string | null; was_until: string | null }>(
          `WITH was AS (SELECT owner, until FROM automation_lease)
           INSERT INTO automation_lease AS l (one, owner, until) VALUES (1, $1, $2)
           ON CONFLICT (one) DO UPDATE SET owner = excluded.owner, until = excluded.until
           WHERE l.until <= $3
           RETURNING (SELECT owner FROM was) AS was, (SELECT until FROM was) AS was_until`,
          [owner, now + ms, now],
        );
        if (taken) {
          const from =
            taken.was !== null && taken.was !== owner
              ? { owner: taken.was, until: Number(taken.was_until) }
              : undefined;
          return { holder: owner, renewed: false, until: now + ms, ...(from && { from }) };
        }
        const [held] = await query<{ owner: string; until: string }>("SELECT owner, until FROM automation_lease");
        // Another's; else let go between the two, it is free again, or taken between them by the
        // owner's own renewal made at once (its timer's, a waiting run's), which took it anew: this
        // one renews that hold.
        if (held && held.owner !== owner) return { holder: held.owner, renewed: false, until: Number(held.until) };
      }
    },
    async release(owner) {
      await query("DELETE FROM automation_lease WHERE owner = $1", [owner]);
    },
    async leaseUntil() {
      const [row] = await query<{ until: string }>("SELECT until FROM automation_lease");
      return row && Number(row.until);
    },
    async cursor() {
      const [row] = await query<{ seq: number }>("SELECT seq FROM automation_cursor");
      return row?.seq;
    },
    async setCursor(seq) {
      await query(
        "INSERT INTO automation_cursor AS c (one, seq) VALUES (1, $1) ON CONFLICT (one) DO UPDATE SET seq = greatest(c.seq, excluded.seq)",
        [seq],
      );
    },
    async markHistory(seq) {
      await query("INSERT INTO automation_cursor (one, seq) VALUES (1, $1) ON CONFLICT (one) DO NOTHING", [seq]);
    },
  };
}
