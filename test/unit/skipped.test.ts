import { expect, test } from "vitest";
import config from "../../vitest.config.js";
import { type Needed, skippedLines } from "../skipped.js";

const all = (found: boolean, required: boolean): Needed[] =>
  ["nginx", "caddy", "postgres"].map((program) => ({ program, found, required }));

test("a program the tests need and this machine lacks is named once, before the run, with what to install", () => {
  expect(config.test?.globalSetup).toContain("test/skipped.ts");
  const lines = skippedLines(all(false, false));
  expect(lines).toEqual([
    "nginx is not installed (Debian's package nginx): the tests of the nginx configurations the docs give are skipped; install it to run them (WAITER_TEST_NGINX=required makes them fail instead)",
    "Caddy is not installed (Debian's package caddy): the tests of the Caddy sites the docs give are skipped; install it to run them (WAITER_TEST_CADDY=required makes them fail instead)",
    "no PostgreSQL server here (Debian's package postgresql-15): the tests of the PostgreSQL event store and of replicas sharing it are skipped; install it to run them (WAITER_TEST_POSTGRES=required makes them fail instead)",
  ]);
  // Found, or required (the tests then run, and fail without it): nothing is skipped, nothing said.
  expect(skippedLines(all(true, false))).toEqual([]);
  expect(skippedLines(all(false, true))).toEqual([]);
});
