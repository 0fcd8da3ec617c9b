import type { SessionLog } from "../store.js";
import type { Query } from "./runs.js";

/** MCP sessions in the store's database, which every replica reads. */
export function postgresSessions(query: Query): SessionLog {
  return {
    async open(id, caller, init, now) {
      await query("INSERT INTO mcp_sessions (id, caller, init, last_seen) VALUES ($1, $2, $3, $4)", [
        id,
        caller,
        init,
        now,
      ]);
    },
    async get(id) {
      const [row] = await query<{ caller: string | null; init: string; last_seen: number }>(
        "SELECT caller, init, last_seen FROM mcp_sessions WHERE id = $1",
        [id],
      );
      return row && { caller: row.caller, init: row.init, lastSeen: row.last_seen };
    },
    async seen(id, now) {
      const rows = await query(
        "UPDATE mcp_sessions SET last_seen = greatest(last_seen, $2) WHERE id = $1 RETURNING id",
        [id, now],
      );
      return rows.length > 0;
    },
    async close(id) {
      await query("DELETE FROM mcp_sessions WHERE id = $1", [id]);
    },
    async expire(before) {
      await query("DELETE FROM mcp_sessions WHERE last_seen < $1", [before]);
    },
  };
}
