import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/bench/run.ts",
      "test/bench/webhooks.ts",
      "test/bench/http.ts",
      "test/bench/automations.ts",
      "test/bench/replicas.ts",
    ],
    testTimeout: 300_000,
    fileParallelism: false,
  },
});
