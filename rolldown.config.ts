import { defineConfig } from "rolldown";

/**
 * The command an MCP client runs, dist/src/cli.js, as one file with a few shared chunks rather
 * than sixty modules: assistants start waiter at every launch, and loading each module of its
 * own costs Node about half a millisecond. Packages stay in node_modules (better-sqlite3 is
 * native; the SDK and zod are the ones every MCP server loads). tsc's output of the other files
 * stays beside it for the benchmarks and tests that import waiter's parts.
 */
export default defineConfig({
  input: "src/cli.ts",
  platform: "node",
  external: (id) => !id.startsWith(".") && !id.startsWith("/"),
  output: {
    dir: "dist/src",
    format: "esm",
    sourcemap: true,
    // Without a hash, a rebuild overwrites the chunks it made before.
    chunkFileNames: "chunks/[name].js",
  },
});
