import type Database from "better-sqlite3";
import { LATEST_SEQ } from "../rows.js";
import type { SessionLog } from "../store.js";

export const SESSIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS mcp_sessions (id TEXT PRIMARY KEY, caller TEXT, init TEXT NOT NULL, last_seen INTEGER NOT NULL, heard_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS mcp_subscriptions (session_id TEXT NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (session_id, uri));
`;

/** MCP sessions in the store's own file: a restarted `waiter serve` takes up the sessions it had. */
export function sqliteSessions(
  sql: (text: string) => Database.Statement,
  write: <T>(fn: () => T) => Promise<T>,
): SessionLog {
  return {
    async open(id, caller, init, now) {
      await write(() =>
        sql(
          `INSERT OR IGNORE INTO mcp_sessions (id, caller, init, last_seen, heard_seq) VALUES (?, ?, ?, ?, (${LATEST_SEQ}))`,
        ).run(id, caller, init, now),
      );
    },
    async get(id) {
      const row = sql("SELECT caller, init, last_seen, heard_seq FROM mcp_sessions WHERE id = ?").get(id) as
        | { caller: string | null; init: string; last_seen: number; heard_seq: number }
        | undefined;
      if (!row) return undefined;
      const subscriptions = sql("SELECT uri FROM mcp_subscriptions WHERE session_id = ? ORDER BY uri")
        .pluck()
        .all(id) as string[];
      return { caller: row.caller, init: row.init, lastSeen: row.last_seen, heardSeq: row.heard_seq, subscriptions };
    },
    async keepSubscriptions(id, uris) {
      await write(() => {
        sql("DELETE FROM mcp_subscriptions WHERE session_id = ?").run(id);
        if (!sql("SELECT 1 FROM mcp_sessions WHERE id = ?").get(id)) return;
        const keep = sql("INSERT OR IGNORE INTO mcp_subscriptions (session_id, uri) VALUES (?, ?)");
        for (const uri of uris) keep.run(id, uri);
      });
    },
    async seen(at, heard) {
      // Nothing to mark takes no write lock, which a stdio waiter on the same file may hold.
      if (at.size === 0) return new Set();
      return write(() => {
        const mark = sql(
          "UPDATE mcp_sessions SET last_seen = max(last_seen, ?), heard_seq = max(heard_seq, ?) WHERE id = ?",
        );
        return new Set(
          [...at].filter(([id, time]) => mark.run(time, heard?.get(id) ?? 0, id).changes > 0).map(([id]) => id),
        );
      });
    },
    async close(id, unlessSeenAfter) {
      await write(() => {
        const gone = sql("DELETE FROM mcp_sessions WHERE id = ? AND (? IS NULL OR last_seen <= ?)").run(
          id,
          unlessSeenAfter ?? null,
          unlessSeenAfter ?? null,
        );
        if (gone.changes > 0) sql("DELETE FROM mcp_subscriptions WHERE session_id = ?").run(id);
      });
    },
    async expire(before) {
      if (!sql("SELECT 1 FROM mcp_sessions WHERE last_seen < ? LIMIT 1").get(before)) return;
      await write(() => {
        sql("DELETE FROM mcp_subscriptions WHERE session_id IN (SELECT id FROM mcp_sessions WHERE last_seen < ?)").run(
          before,
        );
        sql("DELETE FROM mcp_sessions WHERE last_seen < ?").run(before);
      });
    },
  };
}
