import type { SessionLog } from "../store.js";
import type { Query } from "./runs.js";

/** MCP sessions in the store's database, which every replica reads. */
export function postgresSessions(query: Query): SessionLog {
  return {
    async open(id, caller, now) {
      await query("INSERT INTO mcp_sessions (id, caller, last_seen) VALUES ($1, $2, $3)", [id, caller, now]);
    },
    async get(id) {
      const [row] = await query<{ caller: string | null; last_seen: number }>(
        "SELECT caller, last_seen FROM mcp_sessions WHERE id = $1",
        [id],
      );
      return row && { caller: row.caller, lastSeen: row.last_seen };
    },
    async seen(id, now) {
      await query("UPDATE mcp_sessions SET last_seen = greatest(last_seen, $2) WHERE id = $1", [id, now]);
    },
    async close(id) {
      await query("DELETE FROM mcp_sessions WHERE id = $1", [id]);
    },
    async expire(before) {
      await query("DELETE FROM mcp_sessions WHERE last_seen < $1", [before]);
    },
  };
}
