#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config.js";
import { HttpClient } from "./http/client.js";
import { Log } from "./log.js";
import { createServer, enabledTools } from "./server.js";
import { TOOLSETS } from "./toolsets.js";
import { serveStdio } from "./transports/stdio.js";
import { USER_AGENT, VERSION } from "./version.js";

const HELP = `waiter ${VERSION}: an MCP server that serves a company's APIs (currency rates, ...) as tools.

Usage: waiter [options]        serve MCP over stdio (an MCP client starts this)

Options:
  --config FILE      JSON config file (default: $WAITER_CONFIG); secrets come from the environment only
  --toolsets a,b     enable only these toolsets (known: ${TOOLSETS.map((t) => t.name).join(", ")})
  --read-only        remove every tool that changes anything; beats every other setting
  -h, --help         show this help
  -v, --version      print the version

Every setting is also an environment variable (WAITER_*); the README lists them all.`;

function fail(message: string): never {
  process.stderr.write(`waiter: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags();
  } catch (err) {
    // node's wording runs on with advice about '--'; its first sentence names the flag.
    const first = (err as Error).message.split(/\.\s/)[0] ?? "";
    fail(`${first.charAt(0).toLowerCase()}${first.slice(1)} (see waiter --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (positionals.length > 0) fail(`unknown command '${positionals[0]}' (see waiter --help)`);

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(
      {
        env: process.env,
        file: values.config,
        overrides: {
          ...(values.toolsets !== undefined ? { toolsets: values.toolsets } : {}),
          ...(values["read-only"] ? { readOnly: true } : {}),
        },
      },
      TOOLSETS,
    );
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const unknown = config.core.toolsets?.filter((name) => !TOOLSETS.some((t) => t.name === name));
  if (unknown?.length) {
    fail(`unknown toolset '${unknown[0]}' (known: ${TOOLSETS.map((t) => t.name).join(", ")})`);
  }

  const log = new Log(config.core.logLevel);
  process.on("unhandledRejection", (reason) => {
    log.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
  const http = new HttpClient({ userAgent: USER_AGENT, maxResponseBytes: config.core.maxResponseBytes });
  const tools = enabledTools({ config, toolsets: TOOLSETS, http, log });
  const server = createServer(tools, config, log);

  if (process.stdin.isTTY) {
    process.stderr.write(
      `waiter ${VERSION}: an MCP server speaking JSON-RPC on stdin/stdout; it is meant to be started by an MCP client.\n` +
        "Add it to Claude Desktop, Claude Code, Cursor or VS Code with the entry in mcp.json, or try it with `npm run inspect`.\n" +
        "Serving now; press Ctrl+C to stop.\n",
    );
  }
  log.debug(`config: ${config.file ?? "no config file"}, data dir ${config.core.dataDir}`);
  log.info(`waiter ${VERSION} serving ${tools.length} tools over stdio`);
  await serveStdio(server, log, async () => {
    await http.close();
    process.exit(0);
  });
}

function parseFlags() {
  return parseArgs({
    strict: true,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      toolsets: { type: "string" },
      "read-only": { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
}

await main();
