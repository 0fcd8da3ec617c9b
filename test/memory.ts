import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { vi } from "vitest";
import { startApp as startWaiterApp } from "../src/app.js";
import type { App, Session as AppSession } from "../src/app-types.js";
import { type Config, type ConfigSources, loadConfig } from "../src/config.js";
import { Log } from "../src/log.js";
import { toolsets } from "../src/toolsets.js";
import { CLI, type Session } from "./stdio.js";

/**
 * waiter's app in this process, before any transport, with its log lines kept for `stderr()`;
 * `storeBusyMs`: how long its SQLite store waits for another program's write lock (by default, the store's BUSY_MS);
 * `storeReopenMs`: how long a store held for another waiter's upgrade is left between tries to open it.
 */
export async function startApp(
  env: Record<string, string> = {},
  options: {
    overrides?: ConfigSources["overrides"];
    file?: string;
    listener?: boolean;
    storeBusyMs?: number;
    storeReopenMs?: number;
  } = {},
): Promise<{ app: App; config: Config; log: Log; stderr(): string }> {
  const config = loadConfig(
    {
      env: { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-test-")), ...env },
      overrides: options.overrides ?? {},
      ...(options.file ? { file: options.file } : {}),
    },
    toolsets(),
  );
  let stderr = "";
  const log = new Log(config.core.logLevel, (line) => {
    stderr += line;
  });
  const app = await startWaiterApp(config, log, {
    listener: options.listener ? "take" : "leave",
    storeBusyMs: options.storeBusyMs,
    storeReopenMs: options.storeReopenMs,
  });
  return { app, config, log, stderr: () => stderr };
}

/** The SDK's client on one of the app's sessions, over the in-memory transport. */
export async function connect(session: AppSession): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await session.server.connect(serverSide);
  const client = new Client({ name: "waiter-tests", version: "0.0.0" });
  await client.connect(clientSide);
  return client;
}

/**
 * waiter in this process, as the stdio mode starts it but over the SDK's in-memory transport:
 * the same config, toolsets, server and SDK client, on the clock the test sets. The listener
 * stays off unless asked for; `allow` narrows the session's tools as a caller's token does.
 */
export async function startWaiter(
  env: Record<string, string> = {},
  options: {
    overrides?: ConfigSources["overrides"];
    file?: string;
    listener?: boolean;
    storeBusyMs?: number;
    storeReopenMs?: number;
    allow?: (tool: { name: string }) => boolean;
  } = {},
): Promise<Session & { listenerUrl: string | undefined; store: App["store"] }> {
  const { app, log, stderr } = await startApp(env, options);
  const session = app.session(log, options.allow);
  const client = await connect(session);
  return {
    listenerUrl: app.listener?.url,
    store: app.store,
    client,
    stderr,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await session.close();
      await app.close();
    },
  };
}

/**
 * `waiter ...args` as src/main.ts runs it in this process, with only `env` and PATH, up to its
 * exit: the status it exits with (undefined when it returns), what it returned for stdout, and
 * what it wrote to stderr. Only for a command that refuses or prints: one that got as far as
 * starting would leave its handlers on this process, which is refused.
 */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number | undefined; stdout: string; stderr: string }> {
  const { argv, env: saved } = process;
  // main puts its own on the process as a mode starts (and takes "warning" from the others): this
  // worker's are put back, so that a later test's warning or fault is not waiter's to handle.
  const events = ["warning", "unhandledRejection", "uncaughtException"];
  const emitter: NodeJS.EventEmitter = process;
  const handlers = events.map((event) => emitter.listeners(event) as ((...args: unknown[]) => void)[]);
  let stderr = "";
  const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  class Exited {
    constructor(readonly status: number) {}
  }
  const exit = vi.spyOn(process, "exit").mockImplementation((code) => {
    throw new Exited(Number(code ?? 0));
  });
  process.argv = [process.execPath, CLI, ...args];
  process.env = { PATH: saved.PATH, ...env };
  let ended: { status: number | undefined; stdout: string };
  try {
    const { main } = await import("../src/main.js");
    ended = { status: undefined, stdout: (await main()) ?? "" };
  } catch (err) {
    if (!(err instanceof Exited)) throw err;
    ended = { status: err.status, stdout: "" };
  } finally {
    process.argv = argv;
    process.env = saved;
    write.mockRestore();
    exit.mockRestore();
  }
  const started = events.some((event, i) => emitter.listenerCount(event) !== handlers[i]?.length);
  events.forEach((event, i) => {
    emitter.removeAllListeners(event);
    for (const handler of handlers[i] ?? []) emitter.on(event, handler);
  });
  if (started) throw new Error(`waiter ${args.join(" ")} started`);
  return { ...ended, stderr };
}
