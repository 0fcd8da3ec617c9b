import { rmSync } from "node:fs";
import { defineConfig } from "rolldown";

// Chunks an earlier build made and this one does not would otherwise stay, and be packed for npm.
rmSync(new URL("dist/src/chunks", import.meta.url), { recursive: true, force: true });

/**
 * The command an MCP client runs, dist/src/cli.js, which checks the Node.js version and then loads
 * the chunk that reads the arguments, then the mode's with the packages it uses, and the chunks
 * that load when first needed (the HTTP server, undici, nodemailer, the stores):
 * assistants start waiter at every launch, and Node finds and loads each module of a package
 * on its own, several hundred of them, which doubled the CPU time of a start.
 * better-sqlite3 stays in node_modules: it is native. tsc's output of the other files stays
 * beside it for the benchmarks, which import waiter's parts; the npm package holds only
 * the command and its chunks (package.json's `files`).
 */
export default defineConfig({
  input: "src/cli.ts",
  platform: "node",
  external: ["better-sqlite3"],
  output: {
    dir: "dist/src",
    format: "esm",
    sourcemap: true,
    // Without a hash, a rebuild overwrites the chunks it made before.
    chunkFileNames: "chunks/[name].js",
  },
});
