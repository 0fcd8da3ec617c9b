import { caddy, caddyRequired } from "./caddy.js";
import { nginx, nginxRequired } from "./nginx.js";
import { postgresAvailable, postgresRequired } from "./postgres.js";

/** A program some tests need, whether it is here, and whether its tests must run. */
export interface Needed {
  program: string;
  found: boolean;
  required: boolean;
}

/** The programs from Debian's packages that some tests need, as found on this machine. */
export const needed: Needed[] = [
  { program: "nginx", found: nginx !== undefined, required: nginxRequired },
  { program: "caddy", found: caddy !== undefined, required: caddyRequired },
  { program: "postgres", found: postgresAvailable, required: postgresRequired },
];

const what: Record<string, { name: string; tests: string; variable: string }> = {
  nginx: {
    name: "nginx is not installed (Debian's package nginx)",
    tests: "the tests of the nginx configurations the docs give",
    variable: "WAITER_TEST_NGINX",
  },
  caddy: {
    name: "Caddy is not installed (Debian's package caddy)",
    tests: "the tests of the Caddy sites the docs give",
    variable: "WAITER_TEST_CADDY",
  },
  postgres: {
    name: "no PostgreSQL server here (Debian's package postgresql-15)",
    tests: "the tests of the PostgreSQL event store and of replicas sharing it",
    variable: "WAITER_TEST_POSTGRES",
  },
};

/** One line for each program that is missing and not required: which tests are skipped, and how to run them. */
export function skippedLines(programs: Needed[]): string[] {
  return programs
    .filter(({ found, required }) => !found && !required)
    .map(({ program }) => {
      const { name, tests, variable } = what[program] as (typeof what)[string];
      return `${name}: ${tests} are skipped; install it to run them (${variable}=required makes them fail instead)`;
    });
}

/** vitest's global setup: says once, before the run, which tests are skipped and why. */
export default function setup(): void {
  for (const line of skippedLines(needed)) process.stderr.write(`${line}\n`);
}
