import { fstatSync, statSync } from "node:fs";
import { CannotStart, servingLine, startApp, startServe, startWebhooks } from "./app.js";
import type { Starting, Stopped } from "./app-types.js";
import { type Flags, fail, type PAGES, sayStop, seeHelp } from "./command.js";
import { type Config, loadConfig } from "./config.js";
import { ConfigError, LeftUndone } from "./errors.js";
import { consoleToLog, Log, logWarnings, sayLeftOut } from "./log.js";
import { takeStopSignals } from "./signals.js";
import { toolsets } from "./toolsets.js";
import { serveStdio } from "./transports/stdio.js";
import { VERSION } from "./version.js";
import {
  port0,
  portHolding,
  SILENT_HOLDER,
  shownAddress,
  storesElsewhere,
  takenForAnotherStore,
} from "./webhooks/port.js";
import { noSources, webhooksOf } from "./webhooks/settings.js";

// The modes, which main.ts loads once the arguments are read: the version, the help and a refused
// argument are printed without the MCP SDK and the packages a mode needs.

/**
 * Calls `stop` at the first stop signal, one that came as waiter loaded too. A second one during a
 * slow stop (Ctrl+C again) stops at once with status 1, without finishing what is in flight, as an
 * operator asking twice means.
 */
function onStopSignals(log: Log, stop: (signal: string) => void): void {
  let stopping = false;
  takeStopSignals((signal) => {
    if (stopping) {
      sayLeftOut();
      log.warning(`${signal} again: stopping at once, without finishing what is in flight`);
      process.exit(1);
    }
    stopping = true;
    stop(signal);
  });
}

/**
 * Starts a mode with `start`, stopping waiter on the stop signals from then on. One during the
 * start aborts `starting`'s signal, which ends the start's waits of no known end (another waiter's
 * upgrade lock, for minutes), and is said with the step it came at; what the start opened, if it
 * ended, is closed, and waiter exits as every stop does (why waiter must take them at all, not
 * leave them to Node's default: holdStopSignals, in src/signals.ts). What cannot start is one line
 * on stderr and exit status 1 (2 for a configuration it refuses). Once started, `running` gives the
 * stop a signal calls, and calls it at once for one that came meanwhile: `starting` names the steps
 * a mode takes after `start` too.
 */
async function startStoppable<T extends { close(): Promise<Stopped> }>(
  start: (starting: Starting) => Promise<T>,
  config: Config,
  log: Log,
): Promise<{ started: T; starting: Starting; running(stop: (signal: string) => void): void }> {
  const controller = new AbortController();
  const starting: Starting = { signal: controller.signal };
  let asked: string | undefined;
  let stop: ((signal: string) => void) | undefined;
  onStopSignals(log, (signal) => {
    if (stop) return stop(signal);
    asked = signal;
    log.info(`${signal} while starting${starting.step ? `, as it was ${starting.step}` : ""}: stopping`);
    controller.abort();
  });
  let started: T;
  try {
    // One that came as waiter loaded: nothing to open (a new store, an upgrade) only to close it.
    starting.signal.throwIfAborted();
    started = await start(starting);
  } catch (err) {
    // Ended by the stop signal (with its reason) before the start returned anything to close; a
    // start that failed for a reason of its own as the stop came (a port another program holds) is said.
    if (starting.signal.aborted && err === starting.signal.reason) {
      sayLeftOut();
      log.info("stopped");
      process.exit(0);
    }
    if (err instanceof ConfigError) fail(err.message);
    if (!(err instanceof CannotStart)) throw err;
    sayStop(err.message);
    process.exit(1);
  }
  if (starting.signal.aborted) return closeThenExit(started, config, log, 0);
  return {
    started,
    starting,
    running(then) {
      stop = then;
      if (asked !== undefined) then(asked);
    },
  };
}

/**
 * Closes what runs, then exits with `status`, or with 1 when the close left something undone:
 * the event store's database did not answer, and the error says what may not be stored. A close
 * that ends says so last, with whether the drain time cut anything: the operator tells a stop
 * that ended from one that hangs or was killed.
 */
async function closeThenExit(
  running: { close(): Promise<Stopped> },
  config: Config,
  log: Log,
  status: number,
): Promise<never> {
  let stopped: Stopped;
  try {
    stopped = await running.close();
  } catch (err) {
    if (!(err instanceof LeftUndone)) throw err;
    sayLeftOut();
    log.warning(err.message);
    process.exit(1);
  }
  sayLeftOut();
  log.info(
    stopped.cut
      ? `stopped; the drain time (${config.origin("stopSeconds")}, ${config.core.stopSeconds} s) ran out and cut what was still in flight`
      : "stopped",
  );
  process.exit(status);
}

/** Starts a long-running mode (`listen`, `serve`) and stops it cleanly on a stop signal. */
async function runUntilSignal(
  start: (starting: Starting) => Promise<{ close(): Promise<Stopped>; checkToolsets(): void }>,
  config: Config,
  log: Log,
  stopping: string,
): Promise<void> {
  const { started, running } = await startStoppable(start, config, log);
  // Automations run here, unwatched: a channel that cannot deliver is said now, not at the first notice.
  started.checkToolsets();
  running((signal) => {
    log.info(`${signal}: ${stopping}`);
    void closeThenExit(started, config, log, 0);
  });
}

/** `waiter listen`: the listener alone, until a stop signal. */
async function listen(config: Config, log: Log): Promise<void> {
  if (webhooksOf(config).sources.length === 0) fail(noSources(config.file));
  await runUntilSignal(
    (starting) => startWebhooks(config, log, starting),
    config,
    log,
    "finishing requests in flight, then stopping",
  );
}

/** `waiter serve`: MCP over Streamable HTTP and the webhooks on one address, until a stop signal. */
async function serveHttp(config: Config, log: Log): Promise<void> {
  await runUntilSignal(
    (starting) => startServe(config, log, starting),
    config,
    log,
    "ending the streams, finishing calls and deliveries in flight, then stopping",
  );
}

/**
 * `waiter`: MCP over stdio, with the listener in-process when it can have the port (at start, or
 * when another assistant's waiter that had it stops) and no automations are configured: they run
 * in waiter listen or serve, which must get the port, after a restart too.
 */
async function serve(config: Config, log: Log, noListener: boolean): Promise<void> {
  // No client writes there: the start would serve nothing, and stdin's end would stop it with status 0.
  if (stdinIsNull()) {
    fail(
      `stdin is /dev/null, and waiter without a command serves the MCP client that started it, on stdin and stdout; a service or a container runs waiter serve (MCP over HTTP) or waiter listen (webhooks alone) ${seeHelp(undefined)}`,
    );
  }
  const { automations } = config.core;
  const listener = noListener || automations.length > 0 ? "leave" : "take";
  // stdout is the client's: what a package prints with console goes to the log.
  consoleToLog(log);
  // A person who typed the command reads first what it is, before the notices of what is off.
  if (process.stdin.isTTY) {
    process.stderr.write(
      `waiter ${VERSION}: an MCP server speaking JSON-RPC on stdin/stdout; it is meant to be started by an MCP client.\n` +
        "Add it to Claude Desktop, Claude Code, Cursor or VS Code with the entry docs/clients.md gives for each (mcp.json holds one to copy), or try it with `npm run inspect`.\n",
    );
  }
  const {
    started: app,
    starting,
    running,
  } = await startStoppable((starting) => startApp(config, log, { listener, starting }), config, log);
  if (process.stdin.isTTY) process.stderr.write("Serving now; press Ctrl+C to stop.\n");
  log.debug(`config: ${config.file ?? "no config file"}, data dir ${config.core.dataDir}`);
  log.info(servingLine(app.tools, "stdio"));
  if (automations.length > 0) {
    const { listen } = webhooksOf(config);
    const { port } = listen;
    const where = shownAddress(listen);
    log.notice(
      `${automations.length} automation${automations.length === 1 ? " is" : "s are"} configured; they run in waiter serve and waiter listen, not in an assistant's stdio server: this one leaves the webhook port ${where} to waiter listen, and serves the events it stores`,
    );
    // Port 0 asks nobody: each waiter that binds it is given a port of its own.
    starting.step = `asking what listens on ${where}`;
    const { holder, storeId, silent } = port === 0 ? { holder: undefined } : await portHolding(listen);
    if (holder === undefined) {
      log.notice(port0(config.named("webhooks.listen")));
    } else if (silent) {
      log.warning(
        `something that ${SILENT_HOLDER} listens on ${where} now: whether webhooks reach the store and run the automations cannot be told until it answers; they do if it is waiter listen (or serve) on this store`,
      );
    } else if (holder === "nothing" || holder === "stranger") {
      log.warning(
        `${holder === "nothing" ? "nothing listens" : "something that is not a waiter listens"} on ${where} now: no webhook reaches the store, nor runs an automation, until waiter listen (or serve) runs there`,
      );
    } else if (storesElsewhere(storeId, app.store?.storeId)) {
      log.warning(takenForAnotherStore(where, holder));
    } else if (holder === "stdio") {
      // One that took the port has no automations configured, and an assistant's waiter runs none.
      log.warning(
        `another assistant's waiter, which runs no automations, listens on ${where} now: webhooks reach the store, but no automation runs on them until waiter listen (or serve) has the port; give every waiter the same automations`,
      );
    }
  }
  log.started();
  const session = app.session(log);
  const stop = await serveStdio(
    session.server,
    log,
    async (status) => {
      await session.close();
      await closeThenExit(app, config, log, status);
    },
    { endWaits: () => app.endWaits() },
  );
  running((signal) => void stop(signal, true));
}

/**
 * Whether stdin is the null device, as a service manager (systemd's StandardInput=null) and
 * `docker run` without -i give it; an MCP client gives a pipe.
 */
function stdinIsNull(): boolean {
  if (process.platform === "win32") return false;
  try {
    const stdin = fstatSync(0);
    return stdin.isCharacterDevice() && stdin.rdev === statSync("/dev/null").rdev;
  } catch {
    return false;
  }
}

/** Runs `command` (`undefined`: the stdio mode) with the flags given, until it stops. */
export async function run(command: keyof typeof PAGES | undefined, values: Flags): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(
      {
        env: process.env,
        file: values.config,
        overrides: {
          ...(values.toolsets !== undefined ? { toolsets: values.toolsets } : {}),
          ...(values.tools !== undefined ? { tools: values.tools } : {}),
          ...(values["exclude-tools"] !== undefined ? { excludeTools: values["exclude-tools"] } : {}),
          ...(values["read-only"] ? { readOnly: true } : {}),
          ...(values["no-listener"] ? { noListener: true } : {}),
          ...(values.listen !== undefined ? { listen: values.listen } : {}),
        },
      },
      toolsets(),
    );
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  const log = new Log(config.core.logLevel);
  logWarnings(log);
  for (const line of config.warnings) log.warning(line);
  // Where the operator's settings come from is theirs to mend; a client can do nothing with it.
  for (const line of config.notices) log.operatorOnly("notice", line);
  process.on("unhandledRejection", (reason) => log.fault("unhandled rejection", reason));
  // Node's own report of it is several lines without time or level: journald would file it as info.
  process.on("uncaughtException", (err) => {
    sayLeftOut();
    log.fault("stopping at once on an uncaught exception", err);
    process.exit(1);
  });
  if (command === "listen") await listen(config, log);
  else if (command === "serve") await serveHttp(config, log);
  else await serve(config, log, config.core.noListener);
}
