import { setMaxListeners } from "node:events";
import {
  accessSync,
  constants,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statfsSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { App, Starting, Stopped } from "./app-types.js";
import {
  type Config,
  coreSettings,
  fileInTheWay,
  macosPrivacy,
  mayNotEnter,
  serveListenNamed,
  shownSafely,
  toolChoicesGiven,
} from "./config.js";
import { ConfigError } from "./errors.js";
import { databaseLabel } from "./events/database.js";
import { type EventStore, logDropped, NewerStore, OlderStoreBusy, sourcesHeld } from "./events/store.js";
import { CONNECT_TIMEOUT_MS, HttpClient } from "./http/client.js";
import { withDeadline } from "./http/deadline.js";
import { unmatchedNoProxy } from "./http/proxy.js";
import { Log } from "./log.js";
import { registerPrompts } from "./prompts.js";
import {
  createServer,
  enabledTools,
  instructionsFor,
  refuseInvalidParams,
  refuseUnknownCursors,
  toolsetContext,
} from "./server.js";
import { isLoopbackHost } from "./settings.js";
import { enumerated, oneLine } from "./shown.js";
import { clock } from "./time.js";
import { type Tool, toolsetOf } from "./toolset.js";
import { toolsets } from "./toolsets.js";
import type { SessionOptions } from "./transports/sessions.js";
import { toollessTokens } from "./transports/tokens.js";
import { packageRoot, USER_AGENT, VERSION } from "./version.js";
import { reachedFromElsewhere } from "./webhooks/hosts.js";
import type { RunningListener } from "./webhooks/listener.js";
import { holderIfInUse, holdPort, listenProblem, type PortHold, shownAddress, tryBinding } from "./webhooks/port.js";
import { neverResentBy } from "./webhooks/senders.js";
import { shownListener, signingKeyOf, sourceLines, type WebhooksConfig, webhooksOf } from "./webhooks/settings.js";

/** What a mode serving MCP says at start, beside the notices of what is off: how many tools, of which toolsets. */
export function servingLine(tools: readonly Tool[], transport: string): string {
  const on = [...new Set(tools.map(toolsetOf))];
  return `waiter ${VERSION} serving ${tools.length} ${tools.length === 1 ? "tool" : "tools"} over ${transport}: ${on.join(", ") || "none"}`;
}

/**
 * The event store cannot open; the message is one line that says why and what to do. `upgrading`:
 * another waiter (most often) held it for its upgrade, which opens it once done.
 */
class StoreUnavailable extends Error {
  constructor(
    message: string,
    readonly upgrading = false,
  ) {
    super(message);
  }
}

/** What was asked cannot start; the message is one line that says why. */
export class CannotStart extends Error {}

/** Where the events are kept, for the log: the PostgreSQL server or the SQLite file. */
function storeLabel(config: Config): string {
  return config.database.url ? databaseLabel(config.database.url) : join(config.core.dataDir, "events.db");
}

/**
 * Opens the shared event store: on the PostgreSQL server when a database URL is set, else in the
 * SQLite file. The store's driver and express load only when webhook sources are configured, so
 * a plain start neither pays for them nor needs them to load. A stop signal during `starting`
 * ends the PostgreSQL store's waits, and the open rejects with the signal's reason.
 * `waitsOutUpgrade`: another waiter's upgrade of the store is waited for (a SQLite file's up to
 * UPGRADE_WAIT_MS, PostgreSQL's tables for as long as it takes), else only for the store's own lock
 * wait, by a start that goes on without its events rather than keep its client waiting.
 */
async function openStore(
  config: Config,
  log: Log,
  { starting, busyMs, waitsOutUpgrade }: { starting?: Starting; busyMs?: number; waitsOutUpgrade: boolean },
): Promise<EventStore> {
  if (starting) starting.step = `opening the event store (${storeLabel(config)})`;
  const { retention, sources } = webhooksOf(config);
  const onDropped = logDropped(log, retention, config.origin("webhooks.retention"));
  const onNewerSchema = (newer: Error) => log.error(newer.message);
  const { url, urlFrom, password, passwordFrom } = config.database;
  const file = join(config.core.dataDir, "events.db");
  if (url) {
    const { PostgresEventStore, LOCK_WAIT_MS } = await import("./events/postgres/store.js");
    const { UpgradeUnderWay } = await import("./events/postgres/schema.js");
    let store: EventStore;
    try {
      store = await PostgresEventStore.open({
        url,
        urlFrom,
        password,
        passwordFrom,
        retention,
        onDropped,
        onNewerSchema,
        neverResentBy,
        sources,
        signal: starting?.signal,
        // Waited out for as long as it takes (an index built on a full store), or the lock wait alone.
        upgradeWaitMs: waitsOutUpgrade ? undefined : LOCK_WAIT_MS,
      });
    } catch (err) {
      if (starting?.signal.aborted && err === starting.signal.reason) throw err;
      throw new StoreUnavailable(
        `${databaseLabel(url)}: ${err instanceof Error ? err.message : err}`,
        err instanceof UpgradeUnderWay,
      );
    }
    saidSetUp(store, databaseLabel(url), log);
    const left = await leftInSqlite(file);
    if (left.events) {
      // The operator's alone, as saidSetUp's notices: it names the file and the database.
      log.operatorOnly(
        "notice",
        `${file} holds ${left.events === 1 ? "1 event" : `${left.events} events`} that waiter does not read${unfinished(left)}: the event store is ${databaseLabel(url)}, and nothing moves ` +
          "events from SQLite to it. Deliveries stored there are not known as duplicates, so a provider's retry of " +
          "one is stored and automated again; docs/scaling.md says how to switch.",
      );
    }
    return sayingDropsAtClose(store, onDropped.flush);
  }
  // The store's own wait unless one is given: known once its module, which needs better-sqlite3, loaded.
  let waits: number | undefined;
  try {
    const { SqliteEventStore, BUSY_MS } = await import("./events/sqlite/store.js");
    const storeBusyMs = busyMs ?? BUSY_MS;
    waits = storeBusyMs;
    const opening = () =>
      new SqliteEventStore(file, retention, {
        busyMs: storeBusyMs,
        onDropped,
        dataDirFrom: config.origin("dataDir"),
        onNewerSchema,
        sources,
        onIndexing: (built) => saidIndexing(built, file, storeBusyMs, log),
      });
    const store = await waitingOutUpgrade(opening, {
      file,
      log,
      starting,
      waitMs: waitsOutUpgrade ? UPGRADE_WAIT_MS : 0,
    });
    saidSetUp(store, file, log);
    return sayingDropsAtClose(store, onDropped.flush);
  } catch (err) {
    if (starting?.signal.aborted && err === starting.signal.reason) throw err;
    const native = nativeModuleProblem(err);
    if (native) throw new StoreUnavailable(native);
    if (err instanceof NewerStore) throw new StoreUnavailable(`${file}: ${err.message}`);
    const taken = anotherUsers(file);
    if (taken) throw new StoreUnavailable(taken);
    const code = (err as { code?: string }).code;
    if (waits !== undefined && code === "SQLITE_BUSY") {
      const held = `${file}: another program held its write lock past ${waits / 1000} s as waiter set the store up`;
      if (!(err instanceof OlderStoreBusy))
        throw new StoreUnavailable(`${held} (${LEFT_OPEN}): end it, then start waiter again`);
      if (waitsOutUpgrade) {
        throw new StoreUnavailable(
          `${file}: another program held its write lock for over ${UPGRADE_WAIT_MS / 60_000} min as waiter waited to set the store up, which an older waiter made (schema ${err.schema}): ${LEFT_OPEN}, or another waiter's upgrade of a very large store still under way (its log says "upgraded the event store" once done): end that transaction, or let that upgrade end, then start waiter again`,
        );
      }
      throw new StoreUnavailable(
        `${held}, which an older waiter made (schema ${err.schema}): most often another waiter bringing it up to a newer schema, which takes a while on a large store: this one tries again meanwhile, and turns its events on once that upgrade is done; else ${LEFT_OPEN}: end it`,
        true,
      );
    }
    const closed = code === "EACCES" ? mayNotEnter(file) : undefined;
    const inTheWay = code === "EEXIST" || code === "ENOTDIR" ? fileInTheWay(config.core.dataDir) : undefined;
    const why = closed
      ? `EACCES, ${closed}`
      : inTheWay
        ? `${code}, ${inTheWay} is a file, not a directory`
        : err instanceof Error
          ? err.message
          : String(err);
    if (/^SQLITE_(NOTADB|CORRUPT)/.test(code ?? "")) {
      throw new StoreUnavailable(
        `${file}: ${why}: it is no event store waiter can read (another file copied over it, or the store damaged); move it elsewhere with its -wal and -shm, then start waiter again, which sets up a new, empty store, or restore a backup there as docs/webhooks.md says`,
      );
    }
    const left = spaceLeft(err, dirname(file));
    if (left !== undefined) {
      throw new StoreUnavailable(
        `${file}: ${why}: its disk has ${left} free: free space there, then start waiter again`,
      );
    }
    // The directory is a file, or not the user's to write.
    const privacy =
      process.platform === "darwin" && code === "EPERM"
        ? `: ${macosPrivacy("use", "choose a directory elsewhere")}`
        : code === "EROFS"
          ? `: ${readOnlyFileSystem(dirname(file))}`
          : "";
    throw new StoreUnavailable(
      `${file}: ${why}; ${config.named("dataDir")} must name a directory waiter may create and write${privacy}`,
    );
  }
}

/** What holds a SQLite store's write lock when no waiter does. */
const LEFT_OPEN = "a transaction left open in sqlite3, a database browser's changes not yet written, a VACUUM";

/**
 * How long waiter listen and serve wait at start for another program's write lock on a SQLite
 * store an older waiter made, which they must write to upgrade: most often another waiter upgrading
 * it (every process on the store started at once after an update), which takes a while on a large
 * store. One that gave up after the store's busy time would leave a service stopped. An assistant's
 * stdio server does not wait: its client gives up on an initialize left unanswered for a minute.
 */
export const UPGRADE_WAIT_MS = 10 * 60_000;

/**
 * The SQLite store `open` opens, waiting, as a PostgreSQL store waits for the upgrade lock, while
 * another program holds the write lock on a store this waiter must upgrade (`OlderStoreBusy`):
 * said once, then tried again, the event loop turning between tries (a stop signal ends the wait),
 * up to `waitMs`; not at all when it is 0.
 */
async function waitingOutUpgrade<T>(
  open: () => T,
  { file, log, starting, waitMs }: { file: string; log: Log; starting?: Starting; waitMs: number },
): Promise<T> {
  const until = clock.now() + waitMs;
  for (let said = false; ; said = true) {
    try {
      return open();
    } catch (err) {
      if (!(err instanceof OlderStoreBusy) || clock.now() >= until) throw err;
      if (!said) {
        log.warning(
          `${file}: another program holds its write lock, which waiter must take to bring the store (schema ${err.schema}, which an older waiter made) up to this release's: most often another waiter upgrading it, which takes a while on a large store; this one goes on once it is done, waiting up to ${waitMs / 60_000} min. If no other waiter runs on it, ${LEFT_OPEN} holds it: end that`,
        );
      }
    }
    await sleep(UPGRADE_PAUSE_MS);
    starting?.signal.throwIfAborted();
  }
}

/** The pause between a waiting start's tries, each of which waits the store's busy time inside SQLite. */
const UPGRADE_PAUSE_MS = 100;

/** `store`, whose close also says what retention dropped that the log held for its minute's end. */
function sayingDropsAtClose(store: EventStore, sayHeld: () => void): EventStore {
  const close = store.close.bind(store);
  store.close = () => close().finally(sayHeld);
  return store;
}

/**
 * An upgrade is the operator's to know: from then on an older waiter refuses the store. So is a
 * store set up where none was: one moved (another WAITER_DATA_DIR, another database or schema)
 * is not read from there, and nothing else would say so. The operator's alone: where the store
 * is (a path, a database's host) is not told to MCP clients, which hear what waiter said at start.
 */
function saidSetUp(store: EventStore, where: string, log: Log): void {
  if (store.created) {
    log.operatorOnly(
      "notice",
      `waiter ${VERSION} set up a new event store ${where}, where there was none: events kept in another store before are not read from here`,
    );
  }
  if (!store.upgraded) return;
  const { from, to } = store.upgraded;
  log.operatorOnly(
    "notice",
    `waiter ${VERSION} upgraded the event store ${where} from schema ${from} to ${to}: a waiter older than this one refuses it from now on`,
  );
}

/**
 * The dropped deliveries' event-id index built on a SQLite store that has drops, which takes seconds
 * on a year's, the write lock held: said before, as nothing else would explain the other processes'
 * writes refused meanwhile, and once built. The operator's alone, as saidSetUp's notices.
 */
function saidIndexing(built: { ms: number } | undefined, file: string, busyMs: number, log: Log): void {
  const what = `the dropped deliveries of the event store ${file} by event id`;
  log.operatorOnly(
    "notice",
    built
      ? `waiter ${VERSION} indexed ${what} in ${(built.ms / 1000).toFixed(1)} s`
      : `waiter ${VERSION} is indexing ${what}, which an earlier waiter did not: some 8 s for a year's drops at 10,000 deliveries a day, the store's write lock held (another process's writes give up after ${busyMs / 1000} s meanwhile: a delivery is answered 503, a tool told the store is busy)`,
  );
}

/** What a SQLite store left in `file`, which no other store takes up; all 0 when there is none or it cannot be read. */
type LeftInSqlite = { events: number; runs: number; notices: number };

/**
 * What a SQLite store left in `file` holds: its events, and its automations' runs not finished (a
 * step waiting for its next try) and failures not told, which only a waiter on that store takes up.
 */
async function leftInSqlite(file: string): Promise<LeftInSqlite> {
  const left = { events: 0, runs: 0, notices: 0 };
  if (!existsSync(file)) return left;
  try {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      // The store keeps its count, as a row: no walk of the events.
      left.events = (db.prepare("SELECT events AS n FROM totals").get() as { n: number } | undefined)?.n ?? 0;
      const count = (where: string) =>
        (db.prepare(`SELECT count(*) AS n FROM automation_runs WHERE ${where}`).get() as { n: number }).n;
      left.runs = count("status = 'running'");
      left.notices = count("notice_status IS NOT NULL");
    } finally {
      db.close();
    }
  } catch {
    // A store too old to have runs, or unreadable: what it could say is said.
  }
  return left;
}

/** The runs and failures a SQLite store left, as the notice of a switch says them, or "". */
function unfinished({ runs, notices }: LeftInSqlite): string {
  const said = [
    ...(runs ? [`${runs === 1 ? "1 automation run" : `${runs} automation runs`} not finished`] : []),
    ...(notices ? [`${notices === 1 ? "1 failure" : `${notices} failures`} not told to onFailure`] : []),
  ];
  return said.length
    ? `, nor ${said.join(" and ")}, which waiter serve or waiter listen on that file alone takes up`
    : "";
}

/**
 * An MCP client may start waiter with another Node.js than the one that ran `npm install`
 * (another version manager, a launcher's PATH): better-sqlite3's compiled addon then refuses to
 * load. Says so in one line with the fix, instead of a stack trace the client never shows.
 */
function nativeModuleProblem(err: unknown): string | undefined {
  const { code, message } = err as { code?: string; message?: string };
  // The bindings package's words when no addon was compiled: `npm ci --ignore-scripts`, or a copy without build/.
  if (/Could not locate the bindings file/.test(message ?? "")) {
    return (
      "better-sqlite3 has no compiled addon: its install script did not run (npm ci --ignore-scripts, or node_modules copied without it). " +
      `Fix: ${rebuild()}.`
    );
  }
  if (code !== "ERR_DLOPEN_FAILED" && !/NODE_MODULE_VERSION/.test(message ?? "")) return undefined;
  const versions = /NODE_MODULE_VERSION (\d+)\.\s+This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)/.exec(
    message ?? "",
  );
  const why = versions
    ? `was built for another Node.js (module version ${versions[1]}; this Node.js, ${process.version}, needs ${versions[2]})`
    : `cannot be loaded by this Node.js, ${process.version} (${(message ?? "").split("\n")[0]})`;
  return `better-sqlite3 ${why}. Fix: ${rebuild()}, or run waiter with the node that installed it (an MCP client's "command", a service's ExecStart).`;
}

/** The root and the system's directories at its top, and the users' homes: named by mistake, never waiter's alone. */
const SYSTEM_DIR =
  /^\/(?:(?:home|Users)(?:\/[^/]+)?|bin|boot|dev|etc|lib\w*|media|mnt|opt|proc|root|run|sbin|srv|sys|tmp|usr|var|Applications|Library|System|Volumes|private)?$/;

/**
 * Why waiter cannot open the store when its data directory or one of its files is another user's
 * and not writable by waiter's (waiter run once with sudo, a backup restored as root).
 */
function anotherUsers(file: string): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = dirname(file);
  try {
    const { uid: owner, mode } = statSync(dir);
    // Private to its owner, as waiter makes it, or holding a store: the data directory a sudo made,
    // not a directory of the system's named by mistake. Its files given alone would not do: SQLite
    // makes the -wal and -shm beside them.
    const waitersOwn = (mode & 0o077) === 0 || existsSync(file);
    if (owner !== uid && !mayAccess(dir, constants.W_OK | constants.X_OK)) {
      if (SYSTEM_DIR.test(dir)) {
        return `${dir} belongs to uid ${owner}, and waiter runs as uid ${uid}: it is the system's, not to give to that user; pick a directory of waiter's own, or run waiter as uid ${owner}`;
      }
      if (waitersOwn) {
        return `${dir} belongs to uid ${owner}, and waiter runs as uid ${uid}: give it and the store's files in it to that user (\`chown -R ${uid} ${shellWord(dir)}\`${onHost(dir)}) if it is waiter's data directory alone, or run waiter as uid ${owner}`;
      }
      // Empty, as a volume Docker made for a bind mount (root's, 0755): nothing else is given with it.
      if (readdirSync(dir).length === 0) {
        return `${dir} belongs to uid ${owner}, and waiter runs as uid ${uid}: give it to that user (\`chown ${uid} ${shellWord(dir)}\`${onHost(dir)}), or run waiter as uid ${owner}`;
      }
    }
  } catch {
    // A directory that is not there, or cannot be reached: SQLite's error says which.
  }
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    let owner: number;
    try {
      owner = statSync(path).uid;
    } catch {
      continue;
    }
    if (owner === uid || mayAccess(path, constants.R_OK | constants.W_OK)) continue;
    return `${path} belongs to uid ${owner}, and waiter runs as uid ${uid}: give the store's files to that user (\`chown ${uid} ${shellWord(file)}*\`${onHost(dir)}) or run waiter as uid ${owner}`;
  }
  return undefined;
}

/**
 * The space left on the disk a store could not be set up on, "0 kB" on a full one, when what failed
 * is the disk's room (SQLite says "disk I/O error" of a -shm it could not grow); undefined otherwise.
 */
function spaceLeft(err: unknown, dir: string): string | undefined {
  const code = (err as { code?: string }).code ?? "";
  if (!/^(SQLITE_FULL|SQLITE_IOERR|ENOSPC)/.test(code)) return undefined;
  for (let path = dir; ; path = dirname(path)) {
    try {
      const { bavail, bsize } = statfsSync(path);
      const kB = Math.floor((bavail * bsize) / 1024);
      // A disk I/O error with room to spare is the disk failing, not full: said as SQLite says it.
      return kB < 1024 || !code.startsWith("SQLITE_IOERR") ? `${kB} kB` : undefined;
    } catch {
      if (dirname(path) === path) return undefined;
    }
  }
}

/**
 * Why the data directory `dir` is on a read-only file system. A systemd unit's ProtectSystem=strict
 * makes every path read-only to its service alone, where `mount` shows it writable: systemd names
 * each service it runs in INVOCATION_ID. Named as one cause of two: a file system mounted read-only
 * says the same under systemd, and a program started from a service inherits the variable. Without
 * it, a file system mounted apart from the root, as a container's volume is, is no container's own.
 */
function readOnlyFileSystem(dir: string): string {
  if (process.env.INVOCATION_ID) {
    return "its file system is mounted read-only, or, as systemd started waiter (INVOCATION_ID is set), its unit's ProtectSystem=strict (or ReadOnlyPaths=) makes it read-only to waiter alone, whatever mount shows: then add it to the unit's ReadWritePaths=, or keep the store in its StateDirectory= (docs/serve.md#running-it-as-a-service)";
  }
  const mountPoint = mountPointOf(dir);
  return mountPoint && mountPoint !== "/"
    ? `its file system, mounted at ${mountPoint}, is mounted read-only (as a container's volume given with :ro): mount it read-write`
    : "its file system is mounted read-only (a container's own under docker run --read-only: keep the store on a volume)";
}

/**
 * Where `dir` is a mount point, as a container's volume or bind mount is (docker run -v
 * /srv/waiter:/data), that a chown of its path in the container is run on the host, where the
 * directory has another path; "" otherwise. The container's user may not chown, and it has stopped.
 */
function onHost(dir: string): string {
  try {
    if (mountPointOf(dir) !== realpathSync(dir)) return "";
  } catch {
    return "";
  }
  return `; ${dir} is a mount point: where it is a container's, run that on the host, naming the host's directory mounted at ${dir}`;
}

/**
 * Where the file system that holds `dir` (or, not made yet, the directory it would be made in) is
 * mounted; undefined where that cannot be read. Read off Linux's table of the mounts waiter sees: a
 * device of its own is no sign of one, as a btrfs subvolume, or a link to a directory on another
 * disk, has one too.
 */
function mountPointOf(dir: string): string | undefined {
  try {
    let existing = dir;
    while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
    const path = realpathSync(existing);
    const mountPoints = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      // The fifth field, with a space, tab, newline or backslash in it written in octal (\040).
      .map((line) =>
        line.split(" ")[4]?.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8))),
      );
    const holding = (point: string | undefined): point is string =>
      point !== undefined && (path === point || path.startsWith(point === "/" ? "/" : `${point}/`));
    // The longest: a mount on /srv/waiter is not its parent's.
    return mountPoints.filter(holding).sort((a, b) => b.length - a.length)[0];
  } catch {
    return undefined;
  }
}

/** Whether waiter's user may use `path` as `mode` (constants' R_OK, W_OK, X_OK) says. */
function mayAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** `path` as one word of a POSIX shell. */
function shellWord(path: string): string {
  return /^[\w./+@,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

/**
 * How to rebuild better-sqlite3 for the node running waiter. npm builds an addon for the first
 * `node` on PATH, not for the one that runs npm, and a terminal's PATH often finds another (a
 * version manager's) than the one an MCP client started: so this one's folder goes first.
 */
function rebuild(): string {
  const root = sqliteInstalledIn();
  const bin = dirname(process.execPath);
  if (process.platform === "win32") {
    return `to build it for ${process.execPath}, run \`npm rebuild better-sqlite3\` in ${root} with ${bin} first in PATH (npm builds it for the first node there)`;
  }
  return `to build it for ${process.execPath}, run \`cd ${shellWord(root)} && PATH=${shellWord(bin)}:"$PATH" npm rebuild better-sqlite3\``;
}

/**
 * The folder whose node_modules holds the better-sqlite3 waiter loads, the first from waiter's up,
 * as Node.js finds it: waiter's own in a clone, the installing folder's where waiter is a package
 * in node_modules beside it. `npm rebuild` looks in the node_modules of the folder it runs in alone.
 */
function sqliteInstalledIn(): string {
  const root = packageRoot();
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules", "better-sqlite3", "package.json"))) return dir;
    if (dirname(dir) === dir) return root;
  }
}

/** The listener, and what its connections could keep the tools' first request from loading. */
async function startListener(...args: Parameters<typeof import("./webhooks/listener.js").startListener>) {
  const [{ startListener }] = await Promise.all([import("./webhooks/listener.js"), args[0].http?.load()]);
  return startListener(...args);
}

/** The upstream HTTP client, which says at start which proxy it goes through, if one. */
function httpClient(config: Config, log: Log): HttpClient {
  const { proxy } = config;
  if (proxy) {
    const noProxy = proxy.noProxy.trim() ? ` and the hosts NO_PROXY names (${oneLine(proxy.noProxy)})` : "";
    log.info(
      `upstream requests go through the proxy ${proxy.shown} (${proxy.variable}), but to loopback addresses${noProxy}`,
    );
    const unmatched = unmatchedNoProxy(proxy.noProxy);
    if (unmatched.length > 0) {
      log.warning(
        `NO_PROXY's ${enumerated(unmatched, "and")} ${unmatched.length > 1 ? "match" : "matches"} no host, so the hosts meant go through the proxy: a * is read alone, as all of NO_PROXY, for every host, or at a name's start (*.corp.example); an address range is written as 192.168.0.0/16`,
      );
    }
  }
  return new HttpClient({
    userAgent: USER_AGENT,
    maxResponseBytes: config.core.maxResponseBytes,
    maxResponseBytesSetting: config.origin("maxResponseBytes"),
    proxy,
    // At most half a call's time: a tool timeout of a few seconds would otherwise cut the first
    // connection while it opens, and the call say the upstream did not answer, not that it never connected.
    connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, config.core.toolTimeout * 500),
    log,
  });
}

/**
 * A `none` source stores anyone's request as an event, and its automations run on it: it is
 * warned about on a listener this machine alone reaches, and stops waiter on any other.
 */
function checkUnsigned(webhooks: WebhooksConfig, config: Config, log: Log): void {
  const reached = reachedFromElsewhere(webhooks, (setting) => config.origin(`webhooks.${setting}`));
  for (const source of webhooks.sources) {
    if (source.scheme !== "none") continue;
    if (reached) {
      throw new ConfigError(
        `webhook source ${source.name} accepts unsigned requests (scheme "none"), and the listener answers ${reached}: anyone could add events there and start the automations on them. Give the source a scheme that checks a signature (docs/webhooks.md#configuring-sources); an unsigned one is for local trials, on a loopback address with no public URL`,
      );
    }
    log.warning(`webhook source ${source.name} accepts unsigned requests (scheme "none"): for local trials only`);
  }
}

/** The schemes whose senders give each endpoint a signing secret of its own. */
const SECRET_PER_ENDPOINT = new Set(["stripe", "standard-webhooks"]);

/**
 * Two sources of a scheme whose senders give each endpoint its own secret, holding one secret: a
 * secret copied into the other's variable, which refuses every delivery of one of them. Warned of,
 * not refused: one secret may sign for two URLs (stripe listen's --forward-connect-to).
 */
function warnSharedSecrets(webhooks: WebhooksConfig, log: Log): void {
  const seen = new Map<string, { name: string; variable: string }>();
  for (const source of webhooks.sources) {
    if (!SECRET_PER_ENDPOINT.has(source.scheme) || !("secretEnv" in source)) continue;
    const variables = [source.secretEnv].flat();
    (source.secrets ?? []).forEach((secret, i) => {
      const key = `${source.scheme}\n${signingKeyOf(source.scheme, secret)}`;
      const variable = variables[i] ?? "";
      const first = seen.get(key);
      if (!first) seen.set(key, { name: source.name, variable });
      else if (first.name !== source.name) {
        log.warning(
          `webhook sources ${first.name} and ${source.name} hold one secret (${first.variable}, ${variable}), where each ${source.scheme} endpoint has a signing secret of its own: one of the two likely holds the other's, and every delivery of its own sender will be refused as a signature mismatch; copy each endpoint's secret from its own page`,
        );
      }
    });
  }
}

/**
 * Start-up every MCP mode shares: config -> store -> toolsets -> server, and the webhook
 * listener in-process when sources are configured and `listener` is "take": when the port is
 * free, or once another assistant's waiter that holds it stops.
 */
export async function startApp(
  config: Config,
  log: Log,
  options: {
    /**
     * The webhook port: "take" it (an assistant's stdio server), "leave" it to waiter listen or
     * serve, or unset for a caller that binds it itself (waiter serve).
     */
    listener?: "take" | "leave";
    /**
     * A store that cannot open stops the start (waiter serve's), which waits out another waiter's
     * upgrade of it; else the start goes on without its events after the store's own wait (SQLite's
     * busy time, PostgreSQL's lock wait), and opens it in the background once another waiter's
     * upgrade of it is done: an assistant's stdio server.
     */
    storeRequired?: boolean;
    /** A stop's drain time may cut calls in flight (waiter serve's); each call then listens for it. */
    cutsCalls?: boolean;
    /** How long the SQLite store waits for another program's write lock; by default, its BUSY_MS. */
    storeBusyMs?: number;
    /** How long a store held for another waiter's upgrade is left between tries to open it; by default, REOPEN_PAUSE_MS. */
    storeReopenMs?: number;
    /** Where the caller's own listener is bound once it is (waiter serve's). */
    listenerUrl?: () => string | undefined;
    /** What a stop signal during the start ends; the caller closes what a start it ended returns. */
    starting?: Starting;
  },
): Promise<App> {
  const webhooks = webhooksOf(config);
  checkUnsigned(webhooks, config, log);
  warnSharedSecrets(webhooks, log);
  // waiter serve, which runs no listener here, warns of its own.
  if (options.listener && webhooks.sources.length > 0) warnPlainHttp(webhooks.publicUrl, "listener", config, log);
  // A config file's listen is set for the waiter serve that reads the same file, not for this one.
  const listenInFile = config.file !== undefined && config.origin("listen") === `listen in ${config.file}`;
  if (options.listener === "take" && webhooks.sources.length > 0 && !listenInFile) {
    const unbound = serveAddressUnbound(config, webhooks, "an assistant's waiter");
    if (unbound) log.operatorOnly("notice", unbound);
  }
  const http = httpClient(config, log);
  let store: EventStore | undefined;
  let noStore: string | undefined;
  /** Whether the store was held for another waiter's upgrade: opened once it is done. */
  let upgradedElsewhere = false;
  // A database is opened when configured, sources or none: replicas keep their sessions there.
  if (webhooks.sources.length > 0 || config.database.url) {
    try {
      store = await openStore(config, log, {
        starting: options.starting,
        busyMs: options.storeBusyMs,
        waitsOutUpgrade: options.storeRequired === true,
      });
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) throw err;
      if (options.storeRequired) throw new CannotStart(`cannot open the event store: ${err.message}`);
      log.error(`webhook events are off: ${err.message}`);
      noStore = "the event store could not be opened (the error above says why)";
      upgradedElsewhere = err.upgrading;
    }
  }
  const sources = webhooks.sources.map((source) => source.name);
  let port: PortHold | undefined;
  const listenerPort = {
    url: () => port?.listener?.url ?? options.listenerUrl?.(),
    note: async () => port?.note(),
  };
  let known = toolsets(store, noStore, config.core.automations, webhooks.sources, listenerPort);
  let { tools, whyNotServed } = enabledTools({ config, toolsets: known, http, log });
  let resources = store ? await import("./events/resources.js") : undefined;
  const stopping = new AbortController();
  const cutting = new AbortController();
  // Every call in flight listens on these, and a server holds many: no number is a leak.
  setMaxListeners(0, stopping.signal, cutting.signal);

  /** Takes the webhook port, or leaves it, for the store's events; a stop asked for meanwhile takes no webhook it would cut. */
  const holdPortFor = async (store: EventStore) => {
    if (!options.listener || webhooks.sources.length === 0) return;
    if (options.starting?.signal.aborted || stopping.signal.aborted) return;
    if (options.starting) {
      const where = shownAddress(webhooks.listen);
      options.starting.step =
        options.listener === "take" ? `binding the webhook listener to ${where}` : `asking what listens on ${where}`;
    }
    port = await holdPort({
      listen: webhooks.listen,
      setting: config.named("webhooks.listen"),
      take: options.listener === "take",
      bind: () =>
        startListener({
          webhooks,
          mode: "stdio",
          store,
          http,
          log,
          named: config.named,
          drainMs: config.core.stopSeconds * 1000,
        }),
      sources,
      sourceLines: (url) => sourceLines(webhooks, url),
      log,
      retryMs: webhooks.bindRetrySeconds * 1000,
      storeId: store.storeId,
    });
  };
  if (store) await holdPortFor(store);

  /** The sessions open, each of which a store opened late gives its event tools and resources. */
  const sessions = new Set<{ gain(): void }>();
  /** The store opened once another waiter's upgrade is done, with what it turns on. */
  const openedLate = async () => {
    const opened = await storeAfterUpgrade(config, log, stopping.signal, options.storeReopenMs);
    if (!opened) return;
    if (stopping.signal.aborted) {
      await opened.close();
      return;
    }
    store = opened;
    noStore = undefined;
    known = toolsets(store, undefined, config.core.automations, webhooks.sources, listenerPort);
    const before = new Set(tools.map((tool) => tool.name));
    // What else is off was said at start, and stays so.
    ({ tools, whyNotServed } = enabledTools({
      config,
      toolsets: known,
      http,
      log: new Log(config.core.logLevel, () => {}),
    }));
    resources = await import("./events/resources.js");
    const gained = tools.filter((tool) => !before.has(tool.name)).map((tool) => tool.name);
    // The start said these tools were not served.
    log.noticeAfterStart(
      `webhook events are on: the event store opened once the upgrade was done${gained.length > 0 ? `; ${enumerated(gained, "and")} ${gained.length > 1 ? "are" : "is"} served now` : ""}`,
    );
    for (const session of sessions) session.gain();
    await holdPortFor(opened);
  };
  const reopening = upgradedElsewhere
    ? openedLate().catch((err) =>
        log.error(`webhook events stay off: ${err instanceof Error ? err.message : String(err)}`),
      )
    : undefined;
  /** The tools that read the events, whose sessions show them as resources too. */
  const readers = ["events_list", "events_get"];
  const { toolsets: onlySets, tools: only, excludeTools: excluded } = config.core;
  /** The toolsets a store opened late turns on. */
  const withStore = new Set(known.filter((toolset) => toolset.comesWithStore).map((toolset) => toolset.name));
  /** Whether the tool `name` may come once the store opens: one of those toolsets', that the settings leave on. */
  const mayCome = (name: string) => {
    const toolset = toolsetOf({ name });
    return (
      reopening !== undefined &&
      withStore.has(toolset) &&
      (onlySets?.includes(toolset) ?? true) &&
      (only?.includes(name) ?? true) &&
      !excluded?.includes(name)
    );
  };
  /** Whether the events' readers may come once the store opens. */
  const eventsMayCome = readers.every(mayCome);
  /** Whether a session serving `served` shows the events as resources. */
  const readsEvents = (served: readonly Tool[]) => readers.every((name) => served.some((tool) => tool.name === name));
  return {
    get tools() {
      return tools;
    },
    whyNotServed: (name) => whyNotServed(name),
    get store() {
      return store;
    },
    http,
    get listener() {
      return port?.listener;
    },
    session(log, allow, subscriptions, kept) {
      let served = allow ? tools.filter(allow) : tools;
      const { server, serve, lost } = createServer(
        served,
        config,
        log,
        instructionsFor(known, served, !store && eventsMayCome),
        stopping.signal,
        options.cutsCalls ? cutting.signal : undefined,
      );
      const subscribed = new Set(subscriptions);
      // The resources show what events_list and events_get do: a session without those tools has none.
      const showEvents = () =>
        store && readsEvents(served)
          ? resources?.registerEventResources(server, store, log, subscribed, kept)
          : undefined;
      let eventResources = showEvents();
      // A client learns of resources from the capabilities initialize answers with, never after.
      if (!store && eventsMayCome) readyForResources(server);
      const offerPrompts = registerPrompts(
        server,
        served,
        // A store that cannot say whom it heard from leaves the configured ones.
        async () => (store ? sourcesHeld(store, sources).catch(() => sources) : sources),
        log,
        {
          configured: config.core.automations.length > 0,
          markPaid: config.core.automations.some(
            (automation) =>
              !automation.dryRun &&
              automation.do.some((step) => "tool" in step && step.tool === "eshop_order_mark_paid"),
          ),
        },
        store ? () => false : mayCome,
      );
      refuseUnknownCursors(server);
      refuseInvalidParams(server);
      /** Serves also the tools `wider` lets through that it does not yet, and tells its client the list changed. */
      const widen = (wider: (tool: Tool) => boolean) => {
        // By name: a store opened late makes its toolsets' tools anew.
        const gained = tools.filter((tool) => wider(tool) && !served.some((had) => had.name === tool.name));
        served = [...served, ...gained];
        serve(gained);
        offerPrompts(served);
        return gained.map((tool) => tool.name);
      };
      const late = {
        gain() {
          widen(allow ?? (() => true));
          eventResources ??= showEvents();
        },
      };
      // Held only where a store may open late: a server's sessions come and go by the thousand.
      if (reopening) sessions.add(late);
      return {
        server,
        subscriptions: subscribed,
        lost,
        widen,
        missedSince: async (at, heardSeq, sending) => eventResources?.missedSince(at, heardSeq, sending),
        heardSeq: () => eventResources?.heardSeq() ?? 0,
        async close() {
          sessions.delete(late);
          eventResources?.stop();
          await server.close();
        },
      };
    },
    endWaits() {
      stopping.abort();
    },
    cutCalls() {
      cutting.abort();
    },
    async close() {
      stopping.abort();
      await reopening;
      const stopped = (await port?.close()) ?? { cut: false };
      try {
        await store?.close();
      } finally {
        await http.close();
      }
      return stopped;
    },
  };
}

/**
 * Readies `server`'s resources, none yet, before its client initializes: the event resources of a
 * store opened later are then served and said to it (resources/list_changed), where McpServer takes
 * no capability once connected.
 */
function readyForResources(server: McpServer): void {
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  // McpServer sets its resource and completion handlers as the first template that completes is
  // registered: that one goes at once.
  const none = new ResourceTemplate("waiter://none/{id}", { list: undefined, complete: { id: () => [] } });
  server.registerResource("none", none, {}, async () => ({ contents: [] })).remove();
}

/** How long an assistant's stdio server, its store held for another waiter's upgrade, waits between tries to open it. */
const REOPEN_PAUSE_MS = 2_000;

/**
 * The store another waiter held for its upgrade, opened once that is done: tried again every
 * `pauseMs` until `signal` (a stop) ends it, then undefined; one that fails for another
 * reason is said, and tried no more. A SQLite store's write lock is asked for first without a
 * wait: the store's own busy time, spent inside SQLite, would hold every MCP request meanwhile.
 */
async function storeAfterUpgrade(
  config: Config,
  log: Log,
  signal: AbortSignal,
  pauseMs = REOPEN_PAUSE_MS,
): Promise<EventStore | undefined> {
  for (;;) {
    try {
      await sleep(pauseMs, undefined, { signal });
    } catch {
      return undefined;
    }
    if (!config.database.url && (await sqliteLocked(join(config.core.dataDir, "events.db")))) continue;
    try {
      return await openStore(config, log, { starting: { signal }, waitsOutUpgrade: false });
    } catch (err) {
      if (signal.aborted) return undefined;
      if (err instanceof StoreUnavailable && err.upgrading) continue;
      log.error(`webhook events stay off: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
}

/** Whether another program holds the write lock of the SQLite store in `file`; false when that cannot be told. */
async function sqliteLocked(file: string): Promise<boolean> {
  try {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(file, { fileMustExist: true, timeout: 0 });
    try {
      db.exec("BEGIN IMMEDIATE");
      db.exec("ROLLBACK");
      return false;
    } finally {
      db.close();
    }
  } catch (err) {
    return (err as { code?: string }).code === "SQLITE_BUSY";
  }
}

/**
 * Starts, in the background, the check of each toolset that serves a tool here (a notification
 * channel's login, a bot's chats), within the tool timeout as a call would be: a problem is a
 * warning, never a reason to stop, and nothing waits for it. Returns what ends them (a stop).
 */
function startChecks(config: Config, tools: readonly Tool[], http: HttpClient, log: Log): AbortController {
  const stop = new AbortController();
  const served = new Set(tools.map(toolsetOf));
  for (const toolset of toolsets()) {
    if (!toolset.check || !served.has(toolset.name)) continue;
    const context = toolsetContext(toolset, { config, http, log });
    const bounded = withDeadline({
      signal: stop.signal,
      deadline: clock.now() + config.core.toolTimeout * 1000,
      deadlineSetting: config.origin("toolTimeout"),
    });
    // Each request of the check listens on it, one to each chat of a channel at once: no number is a leak.
    setMaxListeners(0, bounded.call.signal);
    toolset
      .check(context, bounded.call)
      .catch((err) => {
        if (!stop.signal.aborted)
          context.log.warning(`its check at start failed: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(bounded.end);
  }
  return stop;
}

/** Long-running modes, once started, check what their toolsets can only show in use. */
interface Checked {
  /** Starts the toolsets' checks in the background (once); `close` ends any still running. */
  checkToolsets(): void;
}

/** A webhook listener on its own, as `waiter listen` runs it. */
export interface RunningWebhooks extends Checked {
  listener: RunningListener;
  /** Finishes the deliveries in flight, then closes the store; rejects as the store's close does. */
  close(): Promise<Stopped>;
}

/**
 * Start-up of `waiter listen`: config -> store -> listener, no MCP server. Throws CannotStart
 * when the store cannot open or the address cannot be listened on.
 */
export async function startWebhooks(config: Config, log: Log, starting?: Starting): Promise<RunningWebhooks> {
  const webhooks = webhooksOf(config);
  checkUnsigned(webhooks, config, log);
  warnSharedSecrets(webhooks, log);
  warnPlainHttp(webhooks.publicUrl, "listener", config, log);
  const unbound = serveAddressUnbound(config, webhooks, "waiter listen");
  if (unbound) log.notice(unbound);
  await canListen(webhooks.listen, config.named("webhooks.listen"), starting);
  let store: EventStore;
  try {
    store = await openStore(config, log, { starting, waitsOutUpgrade: true });
  } catch (err) {
    if (err instanceof StoreUnavailable) throw new CannotStart(`cannot open the event store: ${err.message}`);
    throw err;
  }
  // Automations call the tools, so this mode has them too when some are configured.
  const http = httpClient(config, log);
  let startAutomations: (() => Promise<{ close(): Promise<Stopped> }>) | undefined;
  let tools: Tool[] = [];
  const { sources } = webhooks;
  try {
    if (config.core.automations.length) {
      const known = toolsets(store, undefined, config.core.automations, sources);
      const served = enabledTools({ config, toolsets: known, http, log });
      tools = served.tools;
      if (starting) starting.step = "setting up the automations";
      startAutomations = await checkedAutomations(config, { ...served, store }, log);
    } else {
      // No tool is called here, but a name of no tool is refused as in every mode, not left for the
      // next mode started with these settings; which tools are off is for the modes that serve them.
      if (config.core.tools || config.core.excludeTools) {
        enabledTools({
          config,
          toolsets: toolsets(store, undefined, [], sources),
          http,
          log: new Log(config.core.logLevel, () => {}),
        });
      }
      const unheeded = toolChoicesGiven(config);
      if (unheeded.count > 0) {
        const one = unheeded.count === 1;
        log.notice(
          `${unheeded.named} ${one ? "changes" : "change"} nothing in waiter listen without automations, which serves no MCP and runs no automation: ${one ? "it chooses" : "they choose"} the tools that MCP clients and automations call`,
        );
      }
    }
    // A stop asked for meanwhile takes no webhook it would cut.
    starting?.signal.throwIfAborted();
  } catch (err) {
    await store.close();
    await http.close();
    throw err;
  }
  let listener: RunningListener;
  if (starting) starting.step = `binding the webhook listener to ${shownAddress(webhooks.listen)}`;
  try {
    listener = await startListener({
      webhooks,
      mode: "listen",
      store,
      http,
      log,
      named: config.named,
      drainMs: config.core.stopSeconds * 1000,
    });
  } catch (err) {
    const holder = await holderIfInUse(webhooks.listen, err);
    await store.close();
    await http.close();
    throw new CannotStart(listenProblem(webhooks.listen, err, config.named("webhooks.listen"), holder));
  }
  const automations = await automationsOnceBound(startAutomations, listener, starting, async () => {
    await store.close();
    await http.close();
  });
  // The release said at start: after an upgrade the log shows what runs.
  log.info(
    `waiter ${VERSION} listening for webhooks on ${shownListener(webhooks.listen.host, listener.url)}; store ${storeLabel(config)}`,
  );
  for (const line of sourceLines(webhooks, listener.url)) log.info(line);
  let checks: AbortController | undefined;
  return {
    listener,
    checkToolsets() {
      checks ??= startChecks(config, tools, http, log);
    },
    async close() {
      checks?.abort();
      // Together: one after the other, a step under way would have a drain time of its own after the
      // listener's, past what the process manager gives a stop.
      const stopped = await Promise.all([listener.close(), automations?.close()]);
      try {
        await store.close();
      } finally {
        await http.close();
      }
      return anyCut(stopped);
    },
  };
}

/** WAITER_LISTEN as the Dockerfile sets it, beside WAITER_WEBHOOKS_LISTEN at the same address. */
export const IMAGE_LISTEN = "0.0.0.0:8790";

/**
 * That serve's address, set to another than the listener's, is not the one `mode`, which binds
 * the listener's, binds; undefined where they are one. The image's own WAITER_LISTEN, which its
 * user never set, is said only while the listener's address is left at its default.
 */
function serveAddressUnbound(config: Config, webhooks: WebhooksConfig, mode: string): string | undefined {
  const serveListen = config.core.listen;
  if (!serveListen || shownAddress(serveListen) === shownAddress(webhooks.listen)) return undefined;
  const imagesOwn =
    config.origin("listen") === coreSettings.listen.env &&
    config.given("webhooks.listen") &&
    shownAddress(serveListen) === IMAGE_LISTEN;
  if (imagesOwn) return undefined;
  return `${config.origin("listen")} is waiter serve's address, ${shownAddress(serveListen)}, which ${mode} does not bind: it binds ${config.named("webhooks.listen")}, ${shownAddress(webhooks.listen)}`;
}

/** Throws CannotStart, saying why and what holds the port, when `listen` cannot be bound now. */
async function canListen(listen: WebhooksConfig["listen"], setting: string, starting?: Starting): Promise<void> {
  if (starting) starting.step = `binding ${shownAddress(listen)}`;
  try {
    await tryBinding(listen);
  } catch (err) {
    throw new CannotStart(listenProblem(listen, err, setting, await holderIfInUse(listen, err)));
  }
}

/** How the stops of the parts that drain together went, as one: cut when any was. */
function anyCut(parts: readonly (Stopped | undefined)[]): Stopped {
  return { cut: parts.some((part) => part?.cut) };
}

/** How long a stop waits, once it cut the calls in flight, for their answers to go out. */
const CUT_ANSWERS_MS = 1_000;

/** `waiter serve` running: MCP sessions over Streamable HTTP and the webhooks, on one address. */
export interface RunningServe extends Checked {
  /** http://host:port, as bound. */
  url: string;
  /**
   * Ends the notification streams, finishes the calls and deliveries in flight, then closes the
   * sessions and the store; rejects as the store's close does.
   */
  close(): Promise<Stopped>;
}

/**
 * What crosses the network to the public URL, and the page on putting HTTPS in front: waiter
 * serve's, or a listener's that takes webhooks alone (waiter listen's, the stdio mode's).
 */
const PLAIN_HTTP_RISK = {
  serve: { crossing: "the callers' tokens and the webhooks", page: "docs/serve.md#behind-a-reverse-proxy" },
  listener: { crossing: "the webhooks", page: "docs/webhooks.md#pointing-the-providers-at-waiter" },
} as const;

/**
 * A public URL of plain http at a host other machines reach (accepted for local trials): every
 * webhook, and in waiter serve every caller's bearer token, would cross the network readable on
 * the way; a signature proves who sent a webhook, not that no one else read it. The https URL
 * offered drops the port, as HTTPS set up as the linked page says answers on 443: the port given
 * answers plain http (the listener's own, a container's mapped to it, a proxy's), not TLS.
 */
function warnPlainHttp(
  publicUrl: string | undefined,
  mode: keyof typeof PLAIN_HTTP_RISK,
  config: Config,
  log: Log,
): void {
  const url = publicUrl === undefined ? undefined : new URL(publicUrl);
  if (url?.protocol !== "http:" || isLoopbackHost(url.hostname)) return;
  const { crossing, page } = PLAIN_HTTP_RISK[mode];
  log.operatorOnly(
    "warning",
    `${config.origin("webhooks.publicUrl")} is ${publicUrl}, plain http at a host other machines reach: ${crossing} cross the network unencrypted, for anyone on the way to read; serve waiter behind HTTPS (${page}) and set it to https://${url.hostname}${url.pathname.replace(/\/$/, "")}`,
  );
}

/**
 * Start-up of `waiter serve`: config -> store -> toolsets, then one HTTP server with MCP at /mcp
 * (a server per session) and the webhook listener. Without http.tokens or http.oauth no caller is
 * asked who it is, so only a server this machine alone reaches is started: a ConfigError says so
 * for a non-loopback address, or a publicUrl or allowedHosts name that a proxy brings others to.
 */
export async function startServe(config: Config, log: Log, starting?: Starting): Promise<RunningServe> {
  const webhooks = webhooksOf(config);
  const listen = config.core.listen ?? webhooks.listen;
  const listenFrom = config.origin(config.core.listen ? "listen" : "webhooks.listen");
  const { oauth } = config.http;
  if (oauth && !webhooks.publicUrl) {
    throw new ConfigError(
      "http.oauth needs webhooks.publicUrl (WAITER_WEBHOOKS_PUBLIC_URL), the URL clients reach waiter at: access tokens are issued for its /mcp",
    );
  }
  const reached = reachedFromElsewhere({ ...webhooks, listen }, (setting) =>
    setting === "listen" ? listenFrom : config.origin(`webhooks.${setting}`),
  );
  if (reached && config.http.tokens.length === 0 && !oauth) {
    const instead = isLoopbackHost(listen.host)
      ? "; for the webhooks alone, run waiter listen"
      : `, or bind 127.0.0.1 (--listen 127.0.0.1:${listen.port}) for clients on this machine alone (not in a container, whose published port does not reach its loopback)`;
    throw new ConfigError(
      `waiter serve answers ${reached}, and would serve every tool to whoever reaches it: configure http.tokens or http.oauth (WAITER_HTTP_TOKENS, WAITER_HTTP_OAUTH; docs/serve.md says how)${instead}`,
    );
  }
  warnPlainHttp(webhooks.publicUrl, "serve", config, log);
  await canListen(listen, serveListenNamed(config), starting);
  // A server whose webhooks cannot be stored is no server: it stops, so whatever runs it sees so.
  // Its webhooks come in on its one address, which is what webhooks_sources must give senders.
  const served: Config = {
    ...config,
    toolsets: { ...config.toolsets, webhooks: { ...webhooks, listen } },
    origin: (path) => (path === "webhooks.listen" ? listenFrom : config.origin(path)),
  };
  let listener: RunningListener | undefined;
  const app = await startApp(served, log, {
    storeRequired: true,
    cutsCalls: true,
    listenerUrl: () => listener?.url,
    starting,
  });
  let startAutomations: (() => Promise<{ close(): Promise<Stopped> }>) | undefined;
  try {
    if (starting && config.core.automations.length > 0) starting.step = "setting up the automations";
    startAutomations = await checkedAutomations(config, app, log);
    // A stop asked for meanwhile takes no connection it would cut.
    starting?.signal.throwIfAborted();
  } catch (err) {
    await app.close();
    throw err;
  }
  // The toolsets that are off were said above; a token they leave nothing to call is said too, to
  // the operator alone: every session's client hears what waiter said at start, and one token's
  // holder is not told of the others.
  for (const line of toollessTokens(config.http.tokens, app.tools)) log.operatorOnly("warning", line);
  // express and the SDK's HTTP transport load for this mode only, as the listener's do.
  const { mcpSessions } = await import("./transports/http.js");
  const sessions = mcpSessions(app, log, sessionOptions(config));
  // Start-up is over once connections are taken: a line of what comes in on them (a flood, a
  // failure), or of the automations that start meanwhile, is not kept for every client to come.
  log.started();
  if (starting) starting.step = `binding ${shownAddress(listen)}`;
  try {
    listener = await startListener({
      webhooks: { ...webhooks, listen },
      mode: "serve",
      store: app.store,
      http: app.http,
      log,
      routes: sessions,
      named: config.named,
      drainMs: config.core.stopSeconds * 1000,
      // The calls the drain time left are ended, and their answers, that the stop cut them, sent
      // before the connections close: a client would otherwise wait out its own timeout unanswered.
      beforeCut: async () => {
        app.cutCalls();
        for (let waited = 0; sessions.answering() > 0 && waited < CUT_ANSWERS_MS; waited += 20) await sleep(20);
      },
    });
  } catch (err) {
    const holder = await holderIfInUse(listen, err);
    await sessions.close();
    await app.close();
    throw new CannotStart(listenProblem(listen, err, serveListenNamed(config), holder));
  }
  const automations = await automationsOnceBound(startAutomations, listener, starting, async () => {
    await sessions.close();
    await app.close();
  });
  // The address to give connectors, where it is not the one bound (a proxy in front).
  const connectorUrl = webhooks.publicUrl ? ` (reached at ${webhooks.publicUrl.replace(/\/$/, "")}/mcp)` : "";
  log.info(servingLine(app.tools, "Streamable HTTP"));
  const shown = shownListener(listen.host, listener.url);
  log.info(
    `waiter ${VERSION} serving MCP on ${shown}/mcp${connectorUrl}${app.store ? `, webhooks on ${shown}/webhooks/<source>; store ${storeLabel(config)}` : ""}`,
  );
  log.info(callersLine(config));
  for (const line of sourceLines({ ...webhooks, listen }, listener.url)) log.info(line);
  let checks: AbortController | undefined;
  return {
    url: listener.url,
    checkToolsets() {
      checks ??= startChecks(config, app.tools, app.http, log);
    },
    async close() {
      checks?.abort();
      // Streams and waits end first, so the drain waits only for calls and deliveries in flight.
      sessions.endStreams();
      app.endWaits();
      const stopped = await Promise.all([listener.close(), automations?.close()]);
      await sessions.close();
      await app.close();
      return anyCut(stopped);
    },
  };
}

/**
 * Who may call `waiter serve`'s MCP, as its start says: the configured tokens by name and scope,
 * the issuer whose access tokens it takes, or, with neither (on loopback only), anyone on this
 * machine. Each setting named as it was set; no secret.
 */
function callersLine(config: Config): string {
  const { tokens, oauth } = config.http;
  const tokensFrom = config.origin("http.tokens");
  const oauthFrom = config.origin("http.oauth");
  if (tokens.length === 0 && !oauth) {
    // Named as settings to set, the file's key too: one configured by a file is set there.
    const unset = config.given("http.tokens")
      ? `${tokensFrom} is empty, and ${config.named("http.oauth")} is not set`
      : `neither ${config.named("http.tokens")} nor ${config.named("http.oauth")} is set`;
    return `MCP callers: anyone on this machine, without a token (${unset})`;
  }
  const callers: string[] = [];
  if (tokens.length > 0) {
    const each = tokens.map(
      (token) =>
        `${token.name} (scope ${token.scope}${token.toolsets ? `, toolsets ${token.toolsets.join(", ")}` : ""})`,
    );
    callers.push(`${tokens.length} token${tokens.length === 1 ? "" : "s"} of ${tokensFrom}: ${each.join(", ")}`);
  }
  if (oauth) callers.push(`access tokens of the issuer ${oauth.issuer} (${oauthFrom})`);
  return `MCP callers: ${callers.join("; ")}`;
}

/**
 * Starts the automations once the listener has the port: a second waiter on this store stops at
 * the port, before it could take up the runs this one is doing. A stop asked for while binding
 * starts none; one by the time they started closes them, the listener and the rest (`close`), and
 * ends the start, which serves nothing.
 */
async function automationsOnceBound(
  start: (() => Promise<{ close(): Promise<Stopped> }>) | undefined,
  listener: { close(): Promise<unknown> },
  starting: Starting | undefined,
  close: () => Promise<void>,
): Promise<{ close(): Promise<Stopped> } | undefined> {
  if (starting && start) starting.step = "starting the automations";
  const automations = starting?.signal.aborted ? undefined : await start?.();
  if (starting?.signal.aborted) {
    await Promise.all([listener.close(), automations?.close()]);
    await close();
    throw starting.signal.reason;
  }
  return automations;
}

/**
 * Runs a check of the automations, whose ConfigError names an automation and the place in it, and
 * says where they are set (the config file, or WAITER_AUTOMATIONS), as a mistake in the setting
 * itself is said: an operator edits the one that is read.
 */
function inSetting(config: Config, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(shownSafely(config, `invalid setting ${config.origin("automations")} at ${err.message}`));
  }
}

/**
 * The configured automations, checked against what this server serves: what starts them on its
 * store, or undefined when none are configured. A ConfigError names an automation that cannot run.
 */
async function checkedAutomations(config: Config, app: Pick<App, "tools" | "whyNotServed" | "store">, log: Log) {
  const { automations, toolTimeout, automationRetrySeconds, automationLeaseSeconds } = config.core;
  if (automations.length === 0) return undefined;
  if (!app.store) {
    // waiter serve and listen open the store wherever a source is configured, or fail to start.
    const { checkSource } = await import("./automations/check.js");
    const sources = webhooksOf(config).sources.map((source) => source.name);
    for (const automation of automations) inSetting(config, () => checkSource(automation, sources));
    throw new ConfigError(
      "automations act on webhook events: they need a webhook source (webhooks.sources) and the event store (the log above says if it could not open)",
    );
  }
  const [{ checkAutomations }, { startAutomations }] = await Promise.all([
    import("./automations/check.js"),
    import("./automations/engine.js"),
  ]);
  const parts = {
    automations,
    tools: app.tools,
    whyNotServed: app.whyNotServed,
    store: app.store,
    sources: webhooksOf(config).sources.map((source) => source.name),
    schemes: Object.fromEntries(webhooksOf(config).sources.map((source) => [source.name, source.scheme])),
    log,
    toolTimeoutMs: toolTimeout * 1000,
    retryForMs: automationRetrySeconds * 1000,
    leaseMs: automationLeaseSeconds * 1000,
    drainMs: config.core.stopSeconds * 1000,
    settings: {
      toolTimeout: config.origin("toolTimeout"),
      retry: config.origin("automationRetrySeconds"),
      stop: config.origin("stopSeconds"),
      retention: config.origin("webhooks.retention"),
    },
  };
  inSetting(config, () =>
    checkAutomations({
      ...parts,
      warn: (line) => log.warning(shownSafely(config, `setting ${config.origin("automations")} at ${line}`)),
    }),
  );
  // Read, and kept in the store, before the listener takes webhooks: one that comes in while the
  // automations start is no history, nor after this process died before they began.
  const historyThrough = await app.store.latestSeq();
  await app.store.runs.markHistory(historyThrough);
  return () => startAutomations({ ...parts, historyThrough });
}

/** What `waiter serve`'s sessions are given from the configuration: limits and who may call. */
export function sessionOptions(config: Config): SessionOptions {
  const { oauth, tokens, requestsPerMinute } = config.http;
  const typed = webhooksOf(config).publicUrl;
  // As clients write the URL they were given (RFC 9728 §3.3 has the resource match it exactly):
  // the host in lowercase and punycode, without its default port.
  const publicUrl = typed && new URL(typed).href.replace(/\/$/, "");
  return {
    maxSessions: config.core.maxSessions,
    maxSessionsSetting: config.origin("maxSessions"),
    idleMs: config.core.sessionIdleMinutes * 60_000,
    tokens,
    requestsPerMinute,
    ...(oauth && publicUrl
      ? {
          oauth: {
            issuer: oauth.issuer,
            resource: `${publicUrl}/mcp`,
            // An Audience mapper may hold the URL as the operator typed it; a client given …/mcp/
            // asks for a token for that URL, which its metadata names (metadataUrlOf).
            audience: oauth.audience
              ? [oauth.audience]
              : [...new Set([`${publicUrl}/mcp`, `${publicUrl}/mcp/`, `${typed.replace(/\/$/, "")}/mcp`])],
            metadataUrl: `${publicUrl}/.well-known/oauth-protected-resource/mcp`,
          },
        }
      : {}),
  };
}
