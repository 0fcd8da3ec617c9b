import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { ERP_ENV } from "./erp.js";
import { killStarted, SERVING, startNode } from "./spawn.js";
import { CLI } from "./stdio.js";

/**
 * The official MCP conformance suite, server mode, against the built `waiter serve`. The suite
 * needs Node.js 22; devtools/ is a package of its own that brings both from the npm registry,
 * installed by `npm test` before it runs (`npm run devtools`).
 */
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const NODE_22 = here("../devtools/node_modules/node/bin/node");
const SUITE = here("../devtools/node_modules/@modelcontextprotocol/conformance/dist/index.js");
const BASELINE = here("conformance.yml");

afterAll(killStarted);

test("waiter serve passes the MCP conformance suite but for the scenarios that need the suite's fixtures", async () => {
  for (const path of [NODE_22, SUITE]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: npm test installs it first (or npm run devtools)`);
  }
  const { said: base } = await startNode(
    [CLI, "serve", "--listen", "127.0.0.1:0"],
    {
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-conformance-")),
      // A source, so that the event resources the resource scenarios list and subscribe to exist.
      ...ERP_ENV,
    },
    SERVING,
  );
  const results = mkdtempSync(join(tmpdir(), "waiter-conformance-results-"));
  const run = promisify(execFile)(
    NODE_22,
    [SUITE, "server", "--url", `${base}/mcp`, "--expected-failures", BASELINE, "--output-dir", results],
    { cwd: results, env: { PATH: process.env.PATH ?? "" }, maxBuffer: 16 * 1024 * 1024 },
  );
  const { stdout } = await run.catch((failed: { stdout?: string; stderr?: string }) => {
    throw new Error(`the conformance suite failed:\n${failed.stdout ?? ""}${failed.stderr ?? ""}`);
  });
  for (const scenario of [
    "server-initialize",
    "tools-list",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
  ]) {
    expect(stdout).toMatch(new RegExp(`✓ ${scenario}: \\d+ passed, 0 failed`));
  }
}, 60_000);
