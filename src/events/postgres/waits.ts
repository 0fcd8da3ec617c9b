import type { WaitLog } from "../store.js";
import type { Query } from "./runs.js";

/** The waits upstreams asked for, in the store's database: every replica keeps to them. */
export function postgresWaits(query: Query): WaitLog {
  return {
    async hold(key, at, until) {
      await query(
        `WITH gone AS (DELETE FROM upstream_waits WHERE until < $2 AND key <> $1)
         INSERT INTO upstream_waits AS w (key, at, until) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET at = excluded.at, until = excluded.until WHERE excluded.until > w.until`,
        [key, at, until],
      );
    },
    async held(key, now) {
      const [row] = await query<{ at: string; until: string }>(
        "SELECT at, until FROM upstream_waits WHERE key = $1 AND until > $2",
        [key, now],
      );
      return row && { at: Number(row.at), until: Number(row.until) };
    },
  };
}
