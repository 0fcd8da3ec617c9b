import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { include: ["test/bench/run.ts"], testTimeout: 300_000 },
});
