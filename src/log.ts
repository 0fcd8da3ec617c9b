import { format, inspect } from "node:util";
import type { LoggingLevel } from "@modelcontextprotocol/sdk/types.js";
import { connectionMessage } from "./net-failures.js";
import { withControlsEscaped } from "./shown.js";
import { toStderr } from "./stderr.js";
import { clock } from "./time.js";

/** The MCP severities waiter uses, least severe first; one vocabulary for stderr and the client. */
export const LOG_LEVELS = ["debug", "info", "notice", "warning", "error"] as const satisfies readonly LoggingLevel[];
export type LogLevel = (typeof LOG_LEVELS)[number];

const SEVERITY: Record<LoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

/** Text of printable ASCII and tabs alone: no line break, control or invisible character is in it. */
const PRINTABLE_ASCII = /^[\t\x20-\x7e]*$/;

export type ClientSink = (level: LogLevel, logger: string, message: string) => void;

/** Where log lines go: stderr, or a test's buffer. */
export type LineSink = (line: string, level: LogLevel) => void;

/**
 * What was thrown as Node would report it, for the operator: an Error's stack, cause, code and
 * inner errors; anything else as it is, not "[object Object]".
 */
export function asNodeReports(thrown: unknown): string {
  return typeof thrown === "string" ? thrown : inspect(thrown);
}

/**
 * An Error as its name and message; one whose message is empty, as a connection's tried at several
 * addresses is (an AggregateError), with its inner errors' messages, not its name alone.
 */
function errorSays(err: Error): string {
  const what = connectionMessage(err);
  return err.message || !what ? String(err) : `${err.name}: ${what}`;
}

/**
 * Logs to stderr (stdout belongs to JSON-RPC) and, once a client is attached and has asked with
 * logging/setLevel, as MCP notifications/message at that level. A client that never asks is
 * sent none: some clients report every notification they do not expect.
 */
export class Log {
  #clientLevel: LoggingLevel | undefined;
  #client: ClientSink | undefined;
  /**
   * What waiter said at start, notices and worse (a toolset off, and why), until `started()`: a
   * client that sets its level hears them then, though they were said before it connected.
   */
  #startup: { level: LogLevel; name: string; message: string }[];
  #starting: boolean;
  /** Whether the client has been sent what waiter said at start. */
  #toldStartup = false;
  /** Where this log's client lines go instead of the session's sink: those of one request. */
  #request: ClientSink | undefined;

  constructor(
    readonly level: LogLevel,
    private readonly out: LineSink = toStderr,
    readonly name = "waiter",
    private readonly parent?: Log,
    startup?: { level: LogLevel; name: string; message: string }[],
  ) {
    this.#startup = startup ?? [];
    this.#starting = startup === undefined;
  }

  child(name: string): Log {
    // The root's lines from start-up are the ones kept: a child, one a call, keeps none of its own.
    const child = new Log(this.level, this.out, name, this.root, this.root.#startup);
    child.#request = this.#request;
    return child;
  }

  /**
   * A log for one request of the session (a tool call): what the client hears of it goes through
   * `sink`, as part of that request, at the level and from the moment the session's client would
   * hear it.
   */
  forRequest(sink: ClientSink): Log {
    const log = this.child(this.name);
    log.#request = sink;
    return log;
  }

  /**
   * A log for one client's session: its lines go where this log's go, its notifications only to
   * the client attached to it, at the level that client set. A server with several clients gives
   * each one of these, so no client hears of another's calls; each hears what waiter said at start.
   */
  forSession(): Log {
    return new Log(this.level, this.out, this.name, undefined, this.root.#startup);
  }

  private get root(): Log {
    return this.parent ?? this;
  }

  /** Start-up is over: later lines are not kept for clients to come. */
  started(): void {
    this.root.#starting = false;
  }

  attachClient(sink: ClientSink | undefined): void {
    this.root.#client = sink;
    this.root.tellStartup();
  }

  setClientLevel(level: LoggingLevel): void {
    this.root.#clientLevel = level;
    this.root.tellStartup();
  }

  /**
   * Sends the client what waiter said at start, once: when it has both asked for a level and been
   * attached, in either order (a client may set its level before its notifications/initialized).
   */
  private tellStartup(): void {
    const level = this.#clientLevel;
    if (this.#toldStartup || !this.#client || level === undefined) return;
    this.#toldStartup = true;
    for (const line of this.#startup) {
      if (SEVERITY[line.level] >= SEVERITY[level]) this.#client(line.level, line.name, line.message);
    }
  }

  debug(message: string): void {
    this.write("debug", message);
  }
  info(message: string): void {
    this.write("info", message);
  }
  notice(message: string): void {
    this.write("notice", message);
  }
  warning(message: string): void {
    this.write("warning", message);
  }
  error(message: string): void {
    this.write("error", message);
  }
  /**
   * A fault, at error, and what was thrown: the operator's line has it as Node would report it (its
   * stack, cause and code), the client only what it says, as a stack is waiter's insides.
   */
  fault(message: string, thrown: unknown): void {
    const said = asNodeReports(thrown);
    this.write("error", `${message}: ${said}`, `${message}: ${thrown instanceof Error ? errorSays(thrown) : said}`);
  }
  /**
   * A notice that takes back some of what waiter said at start (a toolset off, now on): a client
   * told of the start later hears it after what it takes back.
   */
  noticeAfterStart(message: string): void {
    this.write("notice", message, message, true);
  }
  /** For the operator's log only, never the client: what the client already has, as a tool result. */
  operatorOnly(level: LogLevel, message: string): void {
    this.write(level, message, null);
  }

  /** Whether a line at `level` would be written or told anywhere: one that would not need not be worded. */
  hears(level: LogLevel): boolean {
    const root = this.root;
    return root.#writes(level) || root.#clientHearing(level) !== undefined || root.#keepsForStart(level);
  }

  /** Whether the operator's log takes a line at `level`. */
  #writes(level: LogLevel): boolean {
    return SEVERITY[level] >= SEVERITY[this.level];
  }

  /** The attached client, when it has asked for lines at `level`. */
  #clientHearing(level: LogLevel): ClientSink | undefined {
    const clientLevel = this.#clientLevel;
    return clientLevel !== undefined && SEVERITY[level] >= SEVERITY[clientLevel] ? this.#client : undefined;
  }

  /** Whether a line at `level`, told to no client, is kept for clients to come. */
  #keepsForStart(level: LogLevel): boolean {
    return this.#starting && SEVERITY[level] >= SEVERITY.notice && this.#startup.length < 50;
  }

  /** Writes `message` for the operator, and `told` (`message` unless given; null for none) for the client. */
  private write(level: LogLevel, message: string, told: string | null = message, amendsStartup = false): void {
    const root = this.root;
    if (root.#writes(level)) {
      // journald and log shippers take each line for an entry: a stack's frames would come apart
      // from its first line, and a stranger's line break (Unicode's others too: a terminal or a
      // viewer breaks at them) could start an entry of its own, as could an escape sequence that
      // rewrites the line on a terminal. Split, not one replace around the breaks, which takes
      // quadratic time over a long run of spaces.
      // Most lines are printable ASCII, in which there is nothing to split or escape.
      const oneEntry = PRINTABLE_ASCII.test(message)
        ? message.trimEnd()
        : message
            .trimEnd()
            .split(/[\n\v\f\r\u0085\u2028\u2029]/)
            .map((line, i) => withControlsEscaped(i === 0 ? line.trimEnd() : line.trim()))
            .filter((line, i) => i === 0 || line !== "")
            .join(" | ");
      this.out(`${new Date(clock.now()).toISOString()} ${level.padEnd(7)} [${this.name}] ${oneEntry}\n`, level);
    }
    if (told === null) return;
    const client = root.#clientHearing(level);
    if (client) {
      (this.#request ?? client)(level, this.name, told);
    } else if (amendsStartup || root.#keepsForStart(level)) {
      root.#startup.push({ level, name: this.name, message: told });
    }
  }
}

/**
 * Deprecations Node.js says only of code outside node_modules, as a package's calls are its
 * maintainers' to change. The bundle (rolldown.config.ts) takes waiter's packages out of
 * node_modules: on Node 24, express's parseurl calls url.parse() (DEP0169) for a request whose
 * target has a fragment or is a whole URL, which anyone may send, and the operator's log would say
 * Node's advice to developers. Node says DEP0123 of every caller: undici gives a proxy's host as
 * its TLS server name, an address too (HTTPS_PROXY=https://10.0.0.5:3128), which waiter cannot
 * change and the operator need not.
 */
const PACKAGES_DEPRECATIONS = ["DEP0005", "DEP0123", "DEP0169"];

/**
 * A package's own deprecation notices (util.deprecate, without a code) that the operator's
 * documented setup brings: the driver reads libpq's password file, and says once that a later
 * version of it will not, advice to waiter's developers that would tell the operator the password
 * file the docs give is going away.
 */
const PACKAGES_NOTICES = [/^pgpass support is deprecated /];

/**
 * Process warnings (a store's retention that failed, an idle database connection lost, Node's own
 * deprecations) as lines of `log`, with its time stamp and level, instead of Node's bare
 * "(node:PID) Warning:" lines on stderr. Returns what puts Node's own printing back.
 */
export function logWarnings(log: Log): () => void {
  const printers = process.listeners("warning");
  process.removeAllListeners("warning");
  const line = (warning: Error & { code?: string }) => {
    if (PACKAGES_DEPRECATIONS.includes(warning.code ?? "")) return;
    if (warning.name === "DeprecationWarning" && PACKAGES_NOTICES.some((notice) => notice.test(warning.message)))
      return;
    log.warning(warning.message);
  };
  process.on("warning", line);
  return () => {
    process.off("warning", line);
    for (const printer of printers) process.on("warning", printer);
  };
}

/**
 * The console's methods that print on stdout, and the level each says at. console.table, count,
 * group and time print through console.log.
 */
const CONSOLE_LEVELS = { log: "info", info: "info", dirxml: "info", debug: "debug" } as const;

/**
 * In the stdio mode stdout carries JSON-RPC only, and one line of a package's console.log there
 * would break the client's stream: the console's methods that print on stdout say it as lines of
 * `log`'s child "console" instead, for the operator (a package's words are none of the client's).
 * The transport writes on process.stdout itself, which is left as it is.
 */
export function consoleToLog(log: Log): void {
  const said = log.child("console");
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    console[method as keyof typeof CONSOLE_LEVELS] = (...data: unknown[]) => said.operatorOnly(level, format(...data));
  }
  console.dir = (item: unknown, options?: object) => said.operatorOnly("info", inspect(item, options));
}

/** Log lines that report failures, a line a minute at most for each key (one, unless given). */
export interface Throttled {
  /**
   * Writes `line`, unless a line under `key` was written less than a minute ago: then counts it,
   * and the next line written says how many like it were left out since; with none by the
   * minute's end (or by `sayLeftOut`), the last of them is written then, with how many there were.
   */
  (line: string, key?: string): void;
  /**
   * Ends the run of failures under `key` (the one, unless given), when one is under way: the next
   * failure is written at once. Returns how many failures the run held and when the first came.
   */
  end(key?: string): { count: number; first: number } | undefined;
  /**
   * Ends every run whose key starts with `prefix` (every run, unless given), as `end` does: what
   * answers again after failures of several kinds. Returns how many failures they held together
   * and over how many seconds, from the first.
   */
  endAll(prefix?: string): { count: number; seconds: number } | undefined;
  /** Ends the run as `end` does, and writes `line` with how many failures there were and over how long; whether one was. */
  ended(line: string, key?: string): boolean;
  /** Writes now the lines left out that the minute's end would: what closes the throttle's owner calls. */
  sayLeftOut(): void;
}

/**
 * How many keys a throttle keeps runs for. Keys can come from strangers (each OAuth user refused
 * at /mcp is one): past this, runs whose minute is over are dropped, else the one used longest
 * ago, its count of lines left out written first, so a flood of distinct keys holds no more.
 */
export const THROTTLED_KEYS = 1_000;

interface Run {
  first: number;
  at: number;
  count: number;
  /** Lines left out since the last written, and the last of them. */
  left: number;
  lastLeft?: string;
  lastLeftAt?: number;
  /** What says the lines left out once the minute is over, when no line of the run comes to say them. */
  sayLeft?: NodeJS.Timeout;
}

/** The runs with lines left out, each with what says them: a stop says them all, as their minute will not end. */
const leftOutRuns = new Map<Run, () => void>();

/**
 * Says the lines every throttle left out and has not said yet, as waiter stops: a client that
 * sent a bad token thirty times before the stop would else be one line in the log.
 */
export function sayLeftOut(): void {
  for (const say of [...leftOutRuns.values()]) say();
}

/** A flood of refused connections, forged deliveries or failed calls to a store must not flood the log. */
export function throttled(write: (line: string) => void, everyMs = 60_000): Throttled {
  const runs = new Map<string, Run>();
  /** Stops what would say the lines `run` left out: a line of it says them, or it ended. */
  const unschedule = (run: Run) => {
    clearTimeout(run.sayLeft);
    leftOutRuns.delete(run);
    run.sayLeft = undefined;
  };
  const leftOut = (line: string, left: number) =>
    left > 0 ? `${line} (and ${left} more like it since the last line)` : line;
  /**
   * Writes the lines `run` left out, if any, with no line to come to say them: the last of them,
   * with how many there were and when the last came, as it is written later than it came.
   */
  const sayLeft = (run: Run) => {
    unschedule(run);
    const line = run.lastLeft;
    run.lastLeft = undefined;
    if (line === undefined) return;
    const ago = Math.max(0, Math.round((clock.now() - (run.lastLeftAt ?? clock.now())) / 1000));
    write(`${line} (${run.left} more like it since the last line, the last ${ago} s ago)`);
    run.left = 0;
  };
  const drop = (key: string, run: Run) => {
    runs.delete(key);
    sayLeft(run);
  };
  const makeRoom = (now: number) => {
    for (const [key, run] of runs) if (now - run.at >= everyMs) drop(key, run);
    if (runs.size < THROTTLED_KEYS) return;
    const [oldest] = runs;
    if (oldest) drop(...oldest);
  };
  const failed = (line: string, key = "") => {
    const now = clock.now();
    const run = runs.get(key);
    if (!run) {
      if (runs.size >= THROTTLED_KEYS) makeRoom(now);
      runs.set(key, { first: now, at: now, count: 1, left: 0 });
      write(line);
      return;
    }
    run.count += 1;
    // A clock set back (NTP correcting one that ran ahead): the minute counts from the new time,
    // not from a time that has not come yet.
    run.at = Math.min(run.at, now);
    run.first = Math.min(run.first, now);
    // Kept in the order of use: the run dropped to make room is the one used longest ago.
    runs.delete(key);
    runs.set(key, run);
    if (now - run.at < everyMs) {
      run.left += 1;
      run.lastLeft = line;
      run.lastLeftAt = now;
      if (!run.sayLeft) {
        // Said when the minute is over, if no line of the run comes by then to say them.
        const say = () => {
          sayLeft(run);
          run.at = clock.now();
        };
        run.sayLeft = setTimeout(say, run.at + everyMs - now).unref();
        leftOutRuns.set(run, say);
      }
      return;
    }
    unschedule(run);
    write(leftOut(line, run.left));
    run.at = now;
    run.left = 0;
    run.lastLeft = undefined;
  };
  const end = (key = "") => {
    const run = runs.get(key);
    runs.delete(key);
    if (run) unschedule(run);
    // Not after now, though the clock was set back since: a run lasts no negative time.
    return run && { count: run.count, first: Math.min(run.first, clock.now()) };
  };
  const endAll = (prefix = "") => {
    let count = 0;
    let first = Number.POSITIVE_INFINITY;
    // A Map goes on iterating past the keys deleted from it.
    for (const key of runs.keys()) {
      const run = key.startsWith(prefix) ? end(key) : undefined;
      if (!run) continue;
      count += run.count;
      first = Math.min(first, run.first);
    }
    return count > 0 ? { count, seconds: Math.round((clock.now() - first) / 1000) } : undefined;
  };
  const ended = (line: string, key = "") => {
    const run = end(key);
    if (!run) return false;
    const seconds = Math.round((clock.now() - run.first) / 1000);
    write(`${line}, after ${run.count} failed attempt${run.count === 1 ? "" : "s"} over ${seconds} s`);
    return true;
  };
  const sayLeftOut = () => {
    for (const run of runs.values()) sayLeft(run);
  };
  return Object.assign(failed, { end, endAll, ended, sayLeftOut });
}
