import { fstatSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { CannotStart, servingLine, startApp, startServe, startWebhooks } from "./app.js";
import type { Starting, Stopped } from "./app-types.js";
import { type Config, loadConfig } from "./config.js";
import { ConfigError, LeftUndone } from "./errors.js";
import { consoleToLog, Log, logWarnings, sayLeftOut } from "./log.js";
import { meantKey, quote, withControlsEscaped } from "./shown.js";
import { toStderr } from "./stderr.js";
import { toolsets } from "./toolsets.js";
import { serveStdio } from "./transports/stdio.js";
import { VERSION } from "./version.js";
import { port0, portHolding, shownAddress, storesElsewhere, takenForAnotherStore } from "./webhooks/port.js";
import { noSources, webhooksOf } from "./webhooks/settings.js";

/** Every toolset, for the help and the configuration; the served ones are made with the store. */
const KNOWN = toolsets();

/** A command: `stdio` is waiter without one. */
type Command = "stdio" | "listen" | "serve";

/** Each command's line of the help's usage, and what it does, wrapped to the help's width. */
const COMMANDS: Record<Command, { usage: string; does: string[] }> = {
  stdio: {
    usage: "waiter [options]",
    does: [
      "serve MCP over stdio (an MCP client starts this); also receives",
      "webhooks when sources are configured and the port is free, or",
      "once another assistant's waiter that had it quits (automations",
      "run in waiter listen or serve: with some configured, it leaves",
      "the port to them)",
    ],
  },
  listen: {
    usage: "waiter listen [options]",
    does: [
      "only receive webhooks, for a machine that must take them while",
      "no assistant runs; SIGTERM, SIGHUP or Ctrl+C stops it cleanly",
    ],
  },
  serve: {
    usage: "waiter serve [options]",
    does: [
      "one server for many MCP clients: Streamable HTTP at /mcp, the",
      "webhooks and /healthz on one address; reached from other",
      "machines (not loopback, or through a public URL), only with",
      "http.tokens or http.oauth",
    ],
  },
};

/** Where each command is told at length. */
const PAGES = { listen: "docs/webhooks.md", serve: "docs/serve.md" };

/** Whether `arg` names a command (waiter without one serves over stdio). */
const isCommand = (arg: string | undefined): arg is keyof typeof PAGES =>
  arg !== undefined && Object.hasOwn(PAGES, arg);

/** Each flag as the help shows it, and the commands that take it (every one when not said). */
const FLAGS: { shown: string; says: string; for?: Command[] }[] = [
  {
    shown: "--config FILE",
    says: "JSON config file (default: $WAITER_CONFIG); secrets come from the environment only",
  },
  { shown: "--toolsets a,b", says: `enable only these toolsets (known: ${KNOWN.map((t) => t.name).join(", ")})` },
  { shown: "--tools a,b", says: "serve only these tools of the enabled toolsets (currency_convert, ...)" },
  { shown: "--exclude-tools a,b", says: "serve every tool but these" },
  { shown: "--read-only", says: "remove every tool that changes anything; beats every other setting" },
  { shown: "--no-listener", says: "do not receive webhooks in this process (stdio mode)", for: ["stdio"] },
  {
    shown: "--listen HOST:PORT",
    says: "address of waiter serve (default: $WAITER_LISTEN, else the config file's listen, else webhooks.listen)",
    for: ["serve"],
  },
  { shown: "-h, --help", says: "show this help" },
  { shown: "-v, --version", says: "print the version" },
];

const usageLines = (command: Command) => {
  const [first, ...rest] = COMMANDS[command].does;
  return [`  ${COMMANDS[command].usage.padEnd(26)}${first}`, ...rest.map((line) => `${" ".repeat(28)}${line}`)];
};

/** The flags `command` takes, or every flag; a name too long for the column keeps two blanks after it. */
const flagLines = (command?: Command) =>
  FLAGS.filter((flag) => command === undefined || flag.for === undefined || flag.for.includes(command)).map(
    ({ shown, says }) => `  ${shown.length > 17 ? `${shown}  ` : shown.padEnd(19)}${says}`,
  );

const HELP = `waiter ${VERSION}: an MCP server that serves a company's APIs (currency rates, webhooks, ...) as tools.

Usage:
${(Object.keys(COMMANDS) as Command[]).flatMap(usageLines).join("\n")}

Options:
${flagLines().join("\n")}

Toolsets:
${KNOWN.map((t) => `  ${t.name.padEnd(17)}${t.description}`).join("\n")}

Every setting is also an environment variable (WAITER_*); docs/settings.md lists them all.`;

/** The help of one command: what it does and the flags it takes, in the words of the general help. */
function commandHelp(command: keyof typeof PAGES): string {
  return `waiter ${VERSION}: waiter ${command}

Usage:
${usageLines(command).join("\n")}

Options:
${flagLines(command).join("\n")}

Every setting is also an environment variable (WAITER_*); docs/settings.md lists them all, and
${PAGES[command]} says more. waiter --help shows every command.`;
}

/**
 * The signals that stop waiter cleanly, in every mode. SIGHUP is a closed terminal (or an SSH
 * session ended) without nohup: Node's default for it is to exit at once, cutting what is in flight.
 */
const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * Calls `stop` at the first stop signal. A second one during a slow stop (Ctrl+C again) stops at
 * once with status 1, without finishing what is in flight, as an operator asking twice means.
 */
function onStopSignals(log: Log, stop: (signal: string) => void): void {
  let stopping = false;
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (stopping) {
        sayLeftOut();
        log.warning(`${signal} again: stopping at once, without finishing what is in flight`);
        process.exit(1);
      }
      stopping = true;
      stop(signal);
    });
  }
}

/**
 * Starts a mode with `start`, stopping waiter on the stop signals from then on. One during the
 * start aborts `starting`'s signal, which ends the start's waits of no known end (another waiter's
 * upgrade lock, for minutes), and is said with the step it came at; what the start opened, if it
 * ended, is closed, and waiter exits as every stop does. Without it Node's default would end waiter
 * without a word, and, as a container's PID 1, ignore it until the stop timeout's kill. What
 * cannot start is one line on stderr and exit status 1 (2 for a configuration it refuses). Once
 * started, `running` gives the stop a signal calls, and calls it at once for one that came
 * meanwhile: `starting` names the steps a mode takes after `start` too.
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
 * Says why waiter stops, as one line: a control character in what was typed (the CR a script
 * saved with Windows line endings leaves on its last argument) is shown as an escape, not obeyed.
 */
function sayStop(message: string): void {
  toStderr(`waiter: ${withControlsEscaped(message)}\n`, "error");
}

function fail(message: string): never {
  sayStop(message);
  process.exit(2);
}

/** The flags as node reads them; FLAGS says what each does. */
const OPTIONS = {
  config: { type: "string" },
  toolsets: { type: "string" },
  tools: { type: "string" },
  "exclude-tools": { type: "string" },
  "read-only": { type: "boolean" },
  "no-listener": { type: "boolean" },
  listen: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

function parseFlags() {
  return parseArgs({ strict: true, allowPositionals: true, tokens: true, options: OPTIONS });
}

/** The command typed, read past the flags node refuses (an unknown one, a value forgotten), if any. */
function typedCommand(): keyof typeof PAGES | undefined {
  const [first] = parseArgs({ strict: false, allowPositionals: true, options: OPTIONS }).positionals;
  return isCommand(first) ? first : undefined;
}

/**
 * An argument that holds a flag or a command and more after a blank ("--toolsets currency"): an
 * MCP client's "args" written as one item where waiter takes several. node would call the flag
 * unknown, and the command unknown too.
 */
function joinedArgs(): string | undefined {
  const { tokens } = parseArgs({ strict: false, allowPositionals: true, tokens: true, options: OPTIONS });
  for (const token of tokens) {
    const arg = token.kind === "option" ? token.rawName : token.kind === "positional" ? token.value : "";
    const first = /^(\S+)\s+\S/.exec(arg)?.[1];
    if (first === undefined) continue;
    const known =
      isCommand(first) ||
      Object.entries(OPTIONS).some(
        ([name, option]) => first === `--${name}` || ("short" in option && first === `-${option.short}`),
      );
    if (!known) continue;
    const items = arg
      .trim()
      .split(/\s+/)
      .map((item) => JSON.stringify(item));
    return `'${arg}' is one argument with a blank in it: give each flag and each value as an argument of its own, in an MCP client's "args" as items of their own: ${items.join(", ")} ${seeHelp(undefined)}`;
  }
  return undefined;
}

/**
 * An argument that is a long flag typed with one hyphen (`-help`, `-config=x.json`), as some
 * commands take them: node reads it as short flags run together, and would name only its first
 * unknown letter. What to type instead, with the flag meant and any value after `=`.
 */
function oneHyphen(): string | undefined {
  const args = process.argv.slice(2);
  const end = args.indexOf("--");
  for (const arg of end === -1 ? args : args.slice(0, end)) {
    const [, name = "", value = ""] = /^-([^-=][^=]+)(=.*)?$/s.exec(arg) ?? [];
    const meant = Object.hasOwn(OPTIONS, name) ? name : meantKey(name, Object.keys(OPTIONS));
    if (meant === undefined) continue;
    return `'${arg}' begins with one hyphen: an option begins with two, as in --${meant}${value}`;
  }
  return undefined;
}

/**
 * Where a refusal points: the help of `command` when one was given, which lists the flags it
 * takes, and the general help otherwise.
 */
function seeHelp(command: string | undefined): string {
  return `(see waiter ${isCommand(command) ? `${command} ` : ""}--help)`;
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
    const { holder, storeId } = port === 0 ? { holder: undefined } : await portHolding(listen);
    if (holder === undefined) {
      log.notice(port0(config.named("webhooks.listen")));
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

/**
 * What to say of a flag that takes a value, given `next` after it where its value was forgotten:
 * another flag (`--config --read-only`), or a command (`--listen serve`), which `command`, the one
 * given if any, is shown with.
 */
function forgottenValue(flag: string, next: string | undefined, command?: string): string {
  const described = FLAGS.find((f) => f.shown.startsWith(`${flag} `));
  // The command given, unless it refuses the flag (`waiter listen --listen serve`): then another.
  const given = isCommand(command) && (described?.for?.includes(command) ?? true) ? command : undefined;
  if (isCommand(next)) {
    const shown = described?.shown ?? `${flag} VALUE`;
    const run = given ?? next;
    const file = shown.endsWith(" FILE") ? `, or ${flag} ./${next} for a file of that name` : "";
    return `option '${flag}' takes a value, and '${next}' after it is a command, not its value: give the command first, then the flag with its value, as in waiter ${run} ${shown}${file} ${seeHelp(run)}`;
  }
  const help = given ?? described?.for?.find(isCommand);
  return `option '${flag}' takes a value, and ${next === undefined ? "what follows it" : `'${next}' after it`} starts with a dash: give its value right after it, or as ${flag}=VALUE when it starts with a dash ${seeHelp(help)}`;
}

/** The names the lists `values` hold, each once and without blanks: one argument to type. */
const joinedLists = (values: string[]) =>
  [...new Set(values.flatMap((value) => value.split(",").map((name) => name.trim())))].filter(Boolean).join(",");

/** What is said of `stdio` or `--stdio`, another server's way of asking for what waiter does unasked. */
const STDIO_UNASKED = (typed: string) =>
  `: waiter serves MCP over stdio with no command, so leave '${typed}' out (of an MCP client's "args" too)`;

/** The dashes a word processor or chat puts for hyphens: -- made an en or em dash, a minus sign. */
const DASHES = /^[\u2010-\u2015\u2212]/;

/** What each flag that takes a value is given once with, when it was given more than once. */
const ONCE_WITH: Record<string, (values: string[]) => string> = {
  config: () => "the one config file waiter reads",
  toolsets: (values) => `every toolset: --toolsets ${joinedLists(values)}`,
  tools: (values) => `every tool: --tools ${joinedLists(values)}`,
  "exclude-tools": (values) => `every tool: --exclude-tools ${joinedLists(values)}`,
  listen: () => "the one address waiter serve binds",
};

/**
 * A flag that takes a value given again with another: node keeps the last, and the first would be
 * dropped without a word (`--toolsets currency --toolsets events` would serve the events only).
 */
function repeatedFlag(tokens: ReturnType<typeof parseFlags>["tokens"]): string | undefined {
  const given = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind !== "option" || token.value === undefined) continue;
    given.set(token.name, [...(given.get(token.name) ?? []), token.value]);
  }
  for (const [name, values] of given) {
    const distinct = [...new Set(values)];
    if (distinct.length < 2) continue;
    const times = values.length === 2 ? "twice" : `${values.length} times`;
    const once = ONCE_WITH[name]?.(distinct) ?? "one value";
    return `--${name} is given ${times} (${values.map(quote).join(", then ")}), and only one would count: give it once, with ${once}`;
  }
  return undefined;
}

/**
 * Runs the command process.argv names: what it prints on stdout (the help, the version), which
 * src/cli.ts writes, stdout being the JSON-RPC stream's in the stdio mode; undefined for a mode,
 * once it has stopped.
 */
export async function main(): Promise<string | undefined> {
  const joined = joinedArgs();
  if (joined) fail(joined);
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags();
  } catch (err) {
    // A flag whose value was forgotten takes none from the next flag: node's first sentence says
    // only that it is "ambiguous", and its advice is on lines of their own.
    const ambiguous = /^Option '(--?[^']+)' argument is ambiguous/.exec((err as Error).message)?.[1];
    if (ambiguous !== undefined) {
      const args = process.argv.slice(2);
      fail(
        forgottenValue(
          ambiguous,
          args.find((arg, i) => args[i - 1] === ambiguous && arg.startsWith("-")),
          typedCommand(),
        ),
      );
    }
    const hyphen = oneHyphen();
    if (hyphen !== undefined) fail(`${hyphen} ${seeHelp(typedCommand())}`);
    // node's wording runs on with advice about '--'; its first sentence names the flag.
    const first = (err as Error).message.split(/\.\s/)[0] ?? "";
    const unknown = /^Unknown option '--([^']+)'/.exec(first)?.[1];
    const meant = unknown === undefined ? undefined : meantKey(unknown, Object.keys(OPTIONS));
    const said = unknown === "stdio" ? STDIO_UNASKED("--stdio") : meant ? `; did you mean --${meant}?` : "";
    fail(`${first.charAt(0).toLowerCase()}${first.slice(1)}${said} ${seeHelp(typedCommand())}`);
  }
  const { values, positionals, tokens } = parsed;
  // A flag whose value was forgotten before a command takes the command as its value, and the
  // command would be lost: `waiter --listen serve` would start the stdio mode. A value given after
  // `=` is meant.
  for (const token of tokens) {
    if (token.kind === "option" && !token.inlineValue && isCommand(token.value)) {
      fail(forgottenValue(token.rawName, token.value, positionals[0]));
    }
  }
  const repeated = repeatedFlag(tokens);
  if (repeated) fail(repeated);
  // Node reads an option typed with a dash that is no hyphen as an argument: it would be told an unknown command.
  const dashed = positionals.find((arg) => DASHES.test(arg));
  if (dashed !== undefined) {
    const dash = (dashed.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    fail(
      `'${dashed}' begins with a dash that is no hyphen (U+${dash}): an option begins with two hyphens, as in --${dashed.replace(/^[-\u2010-\u2015\u2212]+/, "")} ${seeHelp(positionals[0])}`,
    );
  }
  // `waiter -- --read-only` would be told of an unknown command, or an argument, the flag taken for one.
  const ended = tokens.findIndex((token) => token.kind === "option-terminator");
  const flagAfterEnd = tokens
    .slice(ended + 1)
    .find((token) => token.kind === "positional" && token.value.startsWith("-"));
  if (ended !== -1 && flagAfterEnd?.kind === "positional") {
    fail(
      `'${flagAfterEnd.value}' comes after '--', which ends the options and makes it an argument: leave '--' out ${seeHelp(positionals[0])}`,
    );
  }
  const command = positionals[0];
  if (command !== undefined && !isCommand(command)) {
    const meant = meantKey(command, Object.keys(PAGES));
    const said = command === "stdio" ? STDIO_UNASKED(command) : meant ? `; did you mean ${meant}?` : "";
    fail(`unknown command '${command}'${said} (see waiter --help)`);
  }
  // Refused before --help or --version is answered, as it is without them: `waiter serve --help
  // listen` would show serve's help and say nothing of the listen typed after it.
  if (positionals.length > 1) {
    fail(`unexpected argument '${positionals[1]}': waiter ${command} takes none after its command ${seeHelp(command)}`);
  }
  if (values.help) return `${command === undefined ? HELP : commandHelp(command)}\n`;
  if (values.version) return `${VERSION}\n`;
  // A flag of another mode would be ignored without a word.
  if (values["no-listener"] && command !== undefined) {
    fail(`--no-listener is for the stdio mode; waiter ${command} always receives webhooks ${seeHelp(command)}`);
  }
  if (values.listen !== undefined && command !== "serve") {
    fail(
      `--listen is waiter serve's address ${seeHelp("serve")}; the webhook listener binds webhooks.listen (WAITER_WEBHOOKS_LISTEN)`,
    );
  }

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
      KNOWN,
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
  return undefined;
}
