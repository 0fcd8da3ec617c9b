import { execFileSync } from "node:child_process";
import { expect, test } from "vitest";
import { postgresAvailable, postgresRequired, startPostgres } from "./postgres.js";

// The harness the PostgreSQL event store's tests will stand on: a real server, started and
// removed by the test itself.
test.runIf(postgresAvailable || postgresRequired)(
  "a throwaway PostgreSQL server starts, answers and goes",
  async () => {
    const pg = await startPostgres();
    try {
      const answer = execFileSync("psql", [pg.url, "-tAc", "select current_user || ' ' || version()"]).toString();
      expect(answer).toMatch(/^waiter PostgreSQL 1\d/);
    } finally {
      await pg.stop();
    }
    expect(() => execFileSync("psql", [pg.url, "-tAc", "select 1"], { stdio: "ignore" })).toThrow();
  },
);
