import { LATEST_SEQ } from "../rows.js";
import type { SessionLog } from "../store.js";
import type { Query } from "./runs.js";

/** MCP sessions in the store's database, which every replica reads. */
export function postgresSessions(query: Query): SessionLog {
  return {
    async open(id, caller, init, now) {
      // Again is no more: a write that timed out may have been done, and the sweep writes it again.
      await query(
        `INSERT INTO mcp_sessions (id, caller, init, last_seen, heard_seq) VALUES ($1, $2, $3, $4, (${LATEST_SEQ}))
         ON CONFLICT DO NOTHING`,
        [id, caller, init, now],
      );
    },
    async get(id) {
      const [row] = await query<{
        caller: string | null;
        init: string;
        last_seen: number;
        heard_seq: number;
        subscriptions: string[];
      }>(
        `SELECT caller, init, last_seen, heard_seq,
           array(SELECT uri FROM mcp_subscriptions WHERE session_id = $1 ORDER BY uri) AS subscriptions
         FROM mcp_sessions WHERE id = $1`,
        [id],
      );
      return (
        row && {
          caller: row.caller,
          init: row.init,
          lastSeen: row.last_seen,
          heardSeq: row.heard_seq,
          subscriptions: row.subscriptions,
        }
      );
    },
    async keepSubscriptions(id, uris) {
      await query("SELECT waiter_keep_subscriptions($1, $2::text[])", [id, uris]);
    },
    async seen(at, heard) {
      if (at.size === 0) return new Set();
      const rows = await query<{ id: string }>(
        `UPDATE mcp_sessions m SET last_seen = greatest(m.last_seen, v.at), heard_seq = greatest(m.heard_seq, v.heard)
         FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v (id, at, heard) WHERE m.id = v.id RETURNING m.id`,
        [[...at.keys()], [...at.values()], [...at.keys()].map((id) => heard?.get(id) ?? 0)],
      );
      return new Set(rows.map((r) => r.id));
    },
    async close(id, unlessSeenAfter) {
      await query(
        `WITH gone AS (DELETE FROM mcp_sessions WHERE id = $1 AND ($2::bigint IS NULL OR last_seen <= $2) RETURNING id)
         DELETE FROM mcp_subscriptions WHERE session_id IN (SELECT id FROM gone)`,
        [id, unlessSeenAfter ?? null],
      );
    },
    async expire(before) {
      await query(
        // Also the subscriptions a write kept while another server was ending their session.
        `WITH gone AS (DELETE FROM mcp_sessions WHERE last_seen < $1 RETURNING id)
         DELETE FROM mcp_subscriptions s
         WHERE s.session_id IN (SELECT id FROM gone)
            OR NOT EXISTS (SELECT 1 FROM mcp_sessions m WHERE m.id = s.session_id)`,
        [before],
      );
    },
  };
}
