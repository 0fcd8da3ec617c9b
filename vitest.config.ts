import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Files share a worker and its loaded modules, which saves a second or so per file;
    // test/setup.ts puts the clock back before each file.
    isolate: false,
    setupFiles: ["test/setup.ts"],
    // Says which tests are skipped for a program missing here (nginx, Caddy, PostgreSQL), and why.
    globalSetup: ["test/skipped.ts"],
    // More files at a time than cores: most of a test's time is spent waiting on sockets,
    // child processes and timers, not computing. On 2 cores, 6 beat 4 (about 100 s against
    // 125) and 8 (about 120 s, the cores saturated).
    maxWorkers: 6,
    testTimeout: 20_000,
    // What a poll waits for is another process's or a timer's doing, which on a loaded machine
    // can take longer than vitest's default second (a burst's first 60 deliveries once did).
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 20_000,
  },
});
