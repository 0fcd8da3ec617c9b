import type Database from "better-sqlite3";
import type { WaitLog } from "../store.js";

/**
 * Like the acks, a table an older waiter does not read, which needs no new version: it does not
 * keep to the waits, as before.
 */
export const WAITS_SCHEMA =
  "CREATE TABLE IF NOT EXISTS upstream_waits (key TEXT PRIMARY KEY, at INTEGER NOT NULL, until INTEGER NOT NULL);";

/** The waits upstreams asked for, in the store's own file: every waiter of the user keeps to them. */
export function sqliteWaits(sql: (text: string) => Database.Statement, write: <T>(fn: () => T) => Promise<T>): WaitLog {
  return {
    async hold(key, at, until) {
      await write(() => {
        // A store set up by a waiter without it, opened without a write (another program held the lock).
        sql(WAITS_SCHEMA).run();
        sql(
          `INSERT INTO upstream_waits (key, at, until) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET at = excluded.at, until = excluded.until WHERE excluded.until > upstream_waits.until`,
        ).run(key, at, until);
        sql("DELETE FROM upstream_waits WHERE until < ?").run(at);
      });
    },
    async held(key, now) {
      if (!sql("SELECT 1 FROM sqlite_master WHERE name = 'upstream_waits'").get()) return undefined;
      return sql("SELECT at, until FROM upstream_waits WHERE key = ? AND until > ?").get(key, now) as
        | { at: number; until: number }
        | undefined;
    },
  };
}
