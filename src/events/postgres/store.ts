import { createHash, randomUUID } from "node:crypto";
import { accessSync, constants, readdirSync, readFileSync, type Stats, statSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, isAbsolute, join, resolve } from "node:path";
import pg from "pg";
import { LeftUndone, ToolError } from "../../errors.js";
import { untilAborted } from "../../http/deadline.js";
import { throttled } from "../../log.js";
import {
  certificateReason,
  connectionMessage,
  NO_ROUTE,
  notConnected,
  type SocketError,
  tellingCode,
  UNUSABLE,
} from "../../net-failures.js";
import { clock, DAY_MS } from "../../time.js";
import {
  addressSettings,
  type ConnectTimeout,
  checkedPort,
  connectionString,
  connectTimeout,
  databaseLabel,
  databaseNameCheck,
  databaseSettings,
  optionsSearchPath,
  PASSWORD_FILE,
  urlChannelBinding,
  urlFiles,
  urlSslmode,
} from "../database.js";
import { typePrefix, typeStem } from "../filter.js";
import { Listeners, warn } from "../listeners.js";
import {
  type DroppedPayment,
  markUnconfigured,
  otherSchemeSources,
  PAYMENT_EVENTS_LISTED,
  paymentDeliveries,
  type SourceSchemes,
} from "../payments.js";
import {
  droppedDigest,
  type EventRow,
  eventIds,
  forgottenBefore,
  isJson,
  iso,
  LATEST_SEQ,
  reusedAsIn,
  reusedAsParameters,
  STATS_SQL,
  type TotalsRow,
  toCounters,
  toEvent,
  toStats,
  WITHOUT_BODY,
} from "../rows.js";
import {
  type Acked,
  type Added,
  addDropped,
  type Counters,
  type Dropped,
  type EventFilter,
  type EventPage,
  type EventStore,
  type Gone,
  type NewEvent,
  type NewerSchema,
  newerSchemaWatch,
  type Retention,
  type RunLog,
  type SessionLog,
  StoreBusy,
  type StoredEvent,
  StoreNotWritable,
  type StoreStats,
  tellDropped,
  type Upgraded,
  type WaitLog,
} from "../store.js";
import { PRUNE_RUNS, postgresRuns, type Query } from "./runs.js";
import {
  MIGRATIONS,
  migrate,
  REUSED_KEY,
  SHOPIFY_WEBHOOK_ID,
  sqlName,
  UpgradeUnderWay,
  WOOCOMMERCE_DELIVERY_ID,
} from "./schema.js";
import { postgresSessions } from "./sessions.js";
import { postgresWaits } from "./waits.js";
import { ACKED, ListenWatch } from "./watch.js";

const EXPIRE_EVERY_MS = 10 * 60 * 1000;
/** How long a query may go unanswered before the call fails, unless said (queryMs). */
const QUERY_MS = 15_000;
/**
 * Why a statement may go unanswered where the server took the connection: a pooler in session mode
 * gives each client a server connection, once one is free, for as long as the client keeps it.
 */
const POOL_FULL =
  "a connection pooler between (PgBouncer) has its server connections all in use and holds the statement until one is free";
/** How many connections a store's queries use at most (its listening one aside). */
const POOL_MAX = 10;
/**
 * How long close waits for what the store still has to write. A stop closes the store after its
 * drain (WAITER_STOP_SECONDS), which answered every delivery or cut it off: a database that answers
 * finishes in milliseconds, and one that does not must not hold the stop for the query timeout.
 */
const CLOSE_MS = 1_000;
/**
 * How long a statement waits for a lock another session holds (a transaction left open in psql,
 * a LOCK TABLE) before the server cancels it. Below the query timeout: a statement the client
 * gave up on would wait on in the server, holding a connection, and commit once the lock is let
 * go, though its delivery was answered 503. Below the 5 s Shopify waits for a delivery's answer
 * too, a second of them to connect: the 503 must reach it before it counts a failure.
 */
export const LOCK_WAIT_MS = 3_000;
/** How long retention pauses before it asks again for the turn another session holds. */
const TURN_PAUSE_MS = 50;
/**
 * How long retention, holding the turn, waits for a lock another session holds on what it drops
 * (a person's on an event, an acknowledgement's under way) before it lets the turn go, to ask
 * again after a pause: the deliveries waiting for the turn wait that long behind it, not its lock wait.
 * Schema step 23 writes the same 50 ms into waiter_add for a delivery's own retention, fixed as a
 * released step is: a change here is a new step there.
 */
const RETAIN_LOCK_WAIT_MS = 50;
/** What a retention run's connection may fail with and still serve the next: a lock wait's end, a cancel. */
const SESSION_KEPT = new Set(["55P03", "57014"]);
/**
 * How soon the server gives up a session whose machine went away without a word (a power cut, a
 * kernel panic): probes after 60 s without traffic, 10 s apart, 6 unanswered, so 2 minutes. The
 * system's default, 2 hours and 11 minutes on Linux, would keep what the session held that long:
 * the advisory lock the other replicas wait on to upgrade the schema, and the locks of an upgrade
 * step under way, on which every replica's reads and writes wait. Set only where the server was
 * left at the system's: an operator's own (postgresql.conf, the role, the URL's options) stays.
 */
const KEEPALIVES = `SELECT set_config(name, wanted, false) FROM pg_settings
  JOIN (VALUES ('tcp_keepalives_idle', '60'), ('tcp_keepalives_interval', '10'), ('tcp_keepalives_count', '6'))
    AS keepalive (name, wanted) USING (name)
  WHERE source = 'default'`;
/**
 * An idle_session_timeout set on the user or the database (PostgreSQL 14 and later) is lifted for
 * waiter's sessions: the pool ends its own idle connections after 30 s, and the listening one is
 * idle by design, so one shorter would end them over and over, each time said in the log.
 */
const NO_IDLE_TIMEOUT =
  "SELECT set_config(name, '0', false) FROM pg_settings WHERE name = 'idle_session_timeout' AND setting <> '0'";
/**
 * A transaction_timeout (PostgreSQL 17 and later) set on the user or the database is lifted while
 * waiter upgrades its tables, as statement_timeout is: it would end the session that waits its turn
 * to upgrade (a statement in a transaction of its own) or runs a step that builds an index on a full
 * store. Set only where the server has the setting, which PostgreSQL 15 and 16 refuse by name.
 */
const NO_TRANSACTION_TIMEOUT =
  "SELECT set_config(name, '0', false) FROM pg_settings WHERE name = 'transaction_timeout'";
/** The transaction_timeout of the user or the database again, after the upgrade, where the server has one. */
const TRANSACTION_TIMEOUT_BACK =
  "SELECT set_config(name, reset_val, false) FROM pg_settings WHERE name = 'transaction_timeout'";
/**
 * A default_transaction_isolation of repeatable read or serializable set on the user or the
 * database is lifted for waiter's sessions: a commit takes the turn and then sees what the commit
 * before it stored, as READ COMMITTED lets a statement do, where a stricter level fails it (40001)
 * whenever it waited for another replica's, and so the delivery, a retention run, an acknowledgement.
 */
const READ_COMMITTED = "SET default_transaction_isolation = 'read committed'";
/** Ids told the other replicas in one notification of acknowledgements: 100 ULIDs take 2,700 of its 8,000 bytes. */
const ACKS_TOLD = 100;
export interface PostgresOptions {
  /** postgres://user@host:port/database?sslmode=…; PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD and PGOPTIONS fill in what it leaves out. */
  url: string;
  /** Where the URL was given, as a message names it: WAITER_DATABASE_URL unless said (database.url in the config file). */
  urlFrom?: string | undefined;
  /** When set, beats a password in the URL and PGPASSWORD. */
  password?: string | undefined;
  /** Where the password comes from, for a message to name when the server refuses it: PGPASSWORD unless said. */
  passwordFrom?: string | undefined;
  retention: Retention;
  /** Told what each run of retention dropped, once it is committed. */
  onDropped?: ((dropped: Dropped) => void) | undefined;
  /** Told once of a schema a newer waiter upgraded the tables to while this store has them open. */
  onNewerSchema?: ((newer: NewerSchema) => void) | undefined;
  /** The name of a sender that never sends a delivery of its scheme again (GitHub), for a stop to say so. */
  neverResentBy?: ((scheme: string) => string | undefined) | undefined;
  /**
   * The configured webhook sources: dropped deliveries keep no scheme, so those of a source of
   * another scheme name no payment, and those of a source not configured are a payment's by their
   * form alone (`droppedPayment`). Unless said, every source's may name one, and surely.
   */
  sources?: SourceSchemes | undefined;
  /**
   * How long a connection attempt may take before the call fails: unless said, the URL's
   * connect_timeout, else PGCONNECT_TIMEOUT, else 5 s (`connectTimeout`).
   */
  connectMs?: number;
  /** How long a statement waits for a lock another session holds: LOCK_WAIT_MS unless said. */
  lockWaitMs?: number;
  /** How long an upgrade's step waits for a lock on a table before the upgrade gives up: UPGRADE_LOCK_WAIT_MS unless said. */
  upgradeLockWaitMs?: number;
  /**
   * How long the open waits for its turn to set up or upgrade the tables while another session
   * holds the upgrade lock (another waiter upgrading them), then throws `UpgradeUnderWay`: for as
   * long as it takes unless said.
   */
  upgradeWaitMs?: number;
  /** How long a query may go unanswered before the call fails: 15 s unless said. */
  queryMs?: number;
  /** How long a notification the store sends itself may take to come back before the log says none does: PROBE_MS unless said. */
  probeMs?: number;
  /**
   * A stop asked for while waiter starts: it ends the open's waits, for a connection and for its
   * turn to upgrade (which lasts as long as another session holds the lock), and the open rejects
   * with its reason, having closed what it opened.
   */
  signal?: AbortSignal;
}

/** The sslmode the driver connects with, and whether it takes it as libpq does (`urlSslmode`). */
type SslMode = ReturnType<typeof urlSslmode>;

/** A file the URL names for TLS that waiter cannot read, as a connection meets it. */
class UnreadableFile extends Error {
  constructor(
    readonly param: string,
    readonly path: string,
    readonly reason: string,
    urlFrom: string,
  ) {
    // A relative path is read from the working directory, as libpq reads it: not the config file's.
    const shown = isAbsolute(path)
      ? path
      : `${path} (${resolve(path)}, as waiter's working directory places a relative path)`;
    super(`waiter cannot read ${shown}, the file ${param} in ${urlFrom} names (${reason})`);
  }
}

/** What to do about an unreadable file. */
const READ_THE_FILE = "check that the file is there and that waiter's user may read it";

/**
 * A connection refused as libpq's channel_binding=require refuses it: its login is not bound to
 * its TLS connection (SCRAM-SHA-256-PLUS), so a server that is not the one the URL names, with a
 * certificate waiter took, could have passed the login on.
 */
class BindingRefused extends Error {}

/** The channel binding waiter asks for (`urlChannelBinding`). */
type ChannelBinding = ReturnType<typeof urlChannelBinding>;

/**
 * The driver's client, whose connection fails, saying which, when a file the URL names for TLS
 * cannot be read. The driver reads them afresh as it builds each connection (so a renewed CA is
 * taken without a restart), and throws where it builds it: out of the pool's own callbacks, an
 * uncaught exception that would stop waiter, and out of the listening connection's retry, which
 * would stop for good. With channel_binding=require (`binding`), its connection fails, as libpq's
 * does, where the login is not bound to the TLS connection: before any password is sent, or,
 * where the server asks none, once it let waiter in.
 */
function clientReading(url: string, urlFrom: string, binding: ChannelBinding): typeof pg.Client {
  const files = urlFiles(url);
  const required = binding.mode === "require";
  const drop = binding.from.startsWith("PGCHANNELBINDING")
    ? "unset PGCHANNELBINDING"
    : "leave channel_binding=require out of the URL";
  const scram = "have the server check this user's password with scram-sha-256 (its pg_hba.conf line";
  const refusal = (why: string, fix: string) =>
    new BindingRefused(`${binding.from} asks for a login bound to the TLS connection, and ${why}: ${fix}, or ${drop}`);
  const withoutTls = (socket: boolean) =>
    socket
      ? refusal(
          "this connection, through a Unix socket, has no TLS",
          "name the server's host and port in place of the socket's directory, with an sslmode that encrypts (sslmode=verify-full)",
        )
      : refusal("this connection has no TLS", "give the URL an sslmode that encrypts (sslmode=verify-full)");
  return class extends pg.Client {
    readonly #unreadable: UnreadableFile | undefined;
    /** Whether its host is a name not looked up yet: a connect timeout then ended the lookup, not the connection. */
    #resolving = false;
    /** Whether the server offered a bound login over TLS, which the driver, asked to, then takes. */
    #bound = false;
    constructor(config?: string | pg.ClientConfig) {
      const unreadable = unreadableFile(files, urlFrom);
      // Never connected, so built from what reads no file (TLS on, which every sslnegotiation takes).
      super(unreadable ? { ssl: true } : config);
      this.#unreadable = unreadable;
      // Heard before the driver's own handlers, which it adds as it connects.
      if (required) this.#refuseUnbound();
      // The driver's words are those of any connect timeout: only the socket knows its lookup answered.
      if (!unreadable && this.host && !this.#socket() && isIP(this.host) === 0) {
        this.#resolving = true;
        this.connection.stream.once("lookup", () => {
          this.#resolving = false;
        });
      }
    }
    /** `err`, known as a failure to resolve the host's name where its lookup never answered. */
    #named<T>(err: T): T {
      if (err instanceof Error && this.#resolving) unresolvedNames.set(err, this.host);
      return err;
    }
    #refuseUnbound(): void {
      const connection = this.connection;
      const refuse = (err: BindingRefused) => {
        // Destroyed first: the driver's handler, which runs next, sends into nothing.
        connection.stream.destroy();
        connection.emit("error", err);
      };
      const encrypted = () => (connection.stream as { encrypted?: boolean }).encrypted === true;
      connection.on("authenticationSASL", ({ mechanisms }: { mechanisms: string[] }) => {
        if (!encrypted()) refuse(withoutTls(this.#socket()));
        else if (mechanisms.includes("SCRAM-SHA-256-PLUS")) this.#bound = true;
        else {
          refuse(
            refusal(
              "the server offers no such login (SCRAM-SHA-256-PLUS): a pooler or proxy between that ends TLS (PgBouncer) offers none, nor does a server before PostgreSQL 11",
              "connect to the database server itself",
            ),
          );
        }
      });
      connection.on("authenticationCleartextPassword", () => {
        refuse(
          encrypted()
            ? refusal(
                "the server asks for the password in clear text, which binds none (the password was not sent)",
                `${scram})`,
              )
            : withoutTls(this.#socket()),
        );
      });
      connection.on("authenticationMD5Password", () => {
        refuse(
          encrypted()
            ? refusal(
                "the server asks for the password by md5, which binds none (the password was not sent)",
                `${scram}, and the password set again under password_encryption = scram-sha-256)`,
              )
            : withoutTls(this.#socket()),
        );
      });
    }
    /** Whether it connects through a Unix socket, which has no TLS. */
    #socket(): boolean {
      return this.host?.startsWith("/") ?? false;
    }
    /** The refusal of a connection the server let in without a bound login, which is ended; undefined for one bound. */
    #unbound(): BindingRefused | undefined {
      if (!required || this.#bound) return undefined;
      this.end().catch(() => {});
      if (!(this.connection.stream as { encrypted?: boolean }).encrypted) return withoutTls(this.#socket());
      return refusal(
        "the server let waiter in without a password (trust, or a client certificate alone), which binds none",
        `${scram})`,
      );
    }
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error) => void): void;
    override connect(callback?: (err: Error) => void): Promise<pg.Client> | undefined {
      const unreadable = this.#unreadable;
      if (!unreadable) {
        if (!callback) {
          return super.connect().then(
            () => {
              const unbound = this.#unbound();
              if (unbound) throw unbound;
              return this;
            },
            (err: unknown) => {
              throw this.#named(err);
            },
          );
        }
        super.connect((err: Error) => callback(this.#named(err) ?? (this.#unbound() as Error)));
        return undefined;
      }
      if (!callback) return Promise.reject(unreadable);
      process.nextTick(() => callback(unreadable));
      return undefined;
    }
  };
}

/** The first of `files` that cannot be read, if any. */
function unreadableFile(files: { param: string; path: string }[], urlFrom: string): UnreadableFile | undefined {
  for (const { param, path } of files) {
    try {
      readFileSync(path);
    } catch (err) {
      return new UnreadableFile(param, path, (err as { code?: string }).code ?? String(err), urlFrom);
    }
  }
  return undefined;
}

/**
 * Why libpq's password file, which the driver reads as libpq does, gave `client` no password:
 * the file PGPASSFILE names is not there, users other than its owner may read it (then it is not
 * read, the driver's one word of it a bare line on stderr), or it holds no line for the
 * connection. Undefined where there is none to speak of: no PGPASSFILE, and no ~/.pgpass.
 */
function unreadPasswordFile(client: pg.Client): string | undefined {
  const named = process.env.PGPASSFILE;
  const path =
    named ||
    (process.platform === "win32"
      ? join(process.env.APPDATA || "./", "postgresql", "pgpass.conf")
      : join(process.env.HOME || "./", ".pgpass"));
  const from = named ? "PGPASSFILE" : process.platform === "win32" ? "%APPDATA%\\postgresql\\pgpass.conf" : "~/.pgpass";
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return named ? `PGPASSFILE names ${path}, which does not exist` : undefined;
    return `the password file ${path} (${from}) cannot be read (${code ?? String(err)})`;
  }
  const file = `the password file ${path} (${from})`;
  if (process.platform !== "win32") {
    if (!stats.isFile()) return `${file} is not a plain file`;
    if (stats.mode & 0o077) return `${file} is not read, as users other than its owner may read it: chmod 600 ${path}`;
  }
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return `${file} is not read, as waiter's user may not read it`;
  }
  return `${file} holds no line for host ${client.host}, port ${client.port}, database ${client.database} and user ${client.user}`;
}

/** bigint columns (sequence numbers, milliseconds, counts) as numbers: they stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The host names of connection attempts that failed before their lookup answered, by their failures. */
const unresolvedNames = new WeakMap<Error, string>();

/** The name a connection attempt's failure never got an address for (the pool's failure holds the client's as its cause). */
function nameNotResolved(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  return unresolvedNames.get(err) ?? (err.cause instanceof Error ? unresolvedNames.get(err.cause) : undefined);
}

/**
 * A connection attempt that the connect timeout ended (the pool's words, or the client's where it
 * connects outside the pool), or a wait for one of the pool's connections to come free that it
 * ended, said with the timeout and where it was set; undefined for any other failure.
 */
function timedOut(err: unknown, connect: ConnectTimeout | undefined): string | undefined {
  if (!connect) return undefined;
  const message = (err as { message?: string }).message;
  const within = `within ${connect.ms / 1000} s (${connect.from})`;
  if (message === "Connection terminated due to connection timeout" || message === "timeout expired") {
    const name = nameNotResolved(err);
    return name ? `its name ${name} was not resolved ${within}` : `it took no connection ${within}`;
  }
  if (message === "timeout exceeded when trying to connect") {
    return `none of waiter's ${POOL_MAX} connections to it came free ${within}, statements slow to be answered holding them`;
  }
  return undefined;
}

/** A connection attempt the connect timeout ended, as a start or the listening connection says it. */
function tookNoConnection(connect: ConnectTimeout, name?: string): string {
  const within = `within ${connect.ms / 1000} s (${connect.from})`;
  return name
    ? `the database server's name ${name} was not resolved ${within}`
    : `the database server took no connection ${within}`;
}

/**
 * Failures that say the database cannot serve now, rather than that waiter asked wrong: it cannot
 * be reached, is shutting down, or has no memory to spare.
 */
function unreachable(err: unknown): string | undefined {
  const { code, message } = err as { code?: string; message?: string };
  if (code && /^(08|57P0|53200)/.test(code)) return `PostgreSQL ${code}: ${message}`;
  if (code && /^E[A-Z]+$/.test(code)) return code;
  if (/Connection terminated|not queryable|timeout exceeded when trying to connect/i.test(message ?? "")) {
    return "the connection failed or timed out";
  }
  return undefined;
}

/** Supabase's direct connection's name has IPv6 addresses alone; its pooler's has IPv4 ones. */
const IPV4_WAY =
  "(Supabase's direct connection, db.<project>.supabase.co, has IPv6 alone: its pooler's session mode, on port 5432, has IPv4)";

/** What a start adds where the database server's name does not resolve. */
const IPV6_UNRESOLVED = `; or the name has an IPv6 address alone, which a machine without IPv6 (as many containers and hosts have none) does not look up: there, name a server with an IPv4 address ${IPV4_WAY}`;

/**
 * What to do at start about a database server this machine has no route to (no network, or an
 * address of a family it cannot reach), if that is why `err` failed: an IPv6 address alone, as
 * Supabase's direct connection has, is out of reach where the machine has no IPv6.
 */
function noRouteTo(err: SocketError & { address?: string }, urlFrom: string): string | undefined {
  const failed = [err, ...((err.errors ?? []) as (SocketError & { address?: string })[])].filter(
    ({ code }) => code && (NO_ROUTE.includes(code) || UNUSABLE.includes(code)),
  );
  if (!failed.length || !failed.some(({ syscall }) => syscall === "connect")) return undefined;
  if (failed.some(({ address }) => address?.includes(":"))) {
    return `this machine has no route to that IPv6 address: where it has no IPv6 (as many containers and hosts have none), name a server with an IPv4 address in ${urlFrom} ${IPV4_WAY}; else check this machine's network, then start waiter again`;
  }
  return `this machine has no route to that address: check ${urlFrom} and this machine's network, then start waiter again`;
}

/**
 * What whoever runs waiter must change before a database that refuses waiter's connection takes
 * it: the password, the server's pg_hba.conf or the role, the database's name, TLS the server
 * wants. Such a refusal lasts until someone acts, but waiter is not at fault, and tries again at
 * each call. `urlFrom`: where the URL was given, as the words name it.
 */
function loginRefused(
  code: string | undefined,
  message: string | undefined,
  passwordFrom: string,
  urlFrom: string,
  databaseCheck = `check the database's name in ${urlFrom}`,
): string | undefined {
  // A password changed at the server is not seen in the variable until waiter starts again.
  if (code === "28P01") {
    // The password file is read again for each connection.
    const restart = passwordFrom === PASSWORD_FILE ? "" : ", and restart waiter, which reads it only as it starts";
    // Said as a wrong password by design: a misspelt user would send whoever reads it to the password alone.
    return `check that ${passwordFrom} holds the database user's current password${restart}; PostgreSQL says the same of a user that does not exist, so check the user's name in ${urlFrom} too`;
  }
  // The server's words for a connection no pg_hba.conf line takes without TLS (hostssl only, or
  // a managed server that forces TLS). libpq's default, prefer, tries TLS first, so psql connects
  // with the same URL; the driver's default is no TLS.
  if (code === "28000" && /, no encryption$/.test(message ?? "")) {
    return `the server takes this user only over TLS, which waiter uses only when the sslmode in ${urlFrom} (or PGSSLMODE) asks for it, as the driver does not try TLS first by itself as psql does: add ?sslmode=verify-full&sslrootcert=/path/ca.pem (the CA that signed the server's certificate) to the URL`;
  }
  // The driver takes the user from the URL, else PGUSER, else USER (USERNAME on Windows), where
  // libpq asks the system: a container or a service may set none of them.
  if (code === "28000" && /^no PostgreSQL user name specified/.test(message ?? "")) {
    const variable = process.platform === "win32" ? "USERNAME" : "USER";
    return `name the database user in ${urlFrom} (postgres://waiter@…) or in PGUSER: without either, the driver takes the name in ${variable}, which is not set for waiter`;
  }
  if (code === "28000") {
    return "check that the database user exists and may log in, and that a line of the server's pg_hba.conf lets it connect to this database from waiter's address";
  }
  if (code === "3D000") return databaseCheck;
  const database = code === "42501" ? connectRefused(message) : undefined;
  if (database) return `grant the database user CONNECT on the database (GRANT CONNECT ON DATABASE ${database} TO …)`;
  return undefined;
}

/**
 * The database, as the server quotes it, whose CONNECT privilege the user lacks, where `message`
 * is the server's refusal of a connection for it (42501 as it connects, after a DBA's REVOKE
 * CONNECT … FROM PUBLIC): no right on waiter's tables is missing then.
 */
function connectRefused(message: string | undefined): string | undefined {
  return /^permission denied for database ("(?:[^"]|"")+")$/.exec(message ?? "")?.[1];
}

/**
 * Why a connection through a Unix socket (the URL's ?host= a directory) never opened, and what to
 * check, for the socket's path as the failure names it: no file there (ENOENT), as when the
 * server listens on another port than the one the URL or PGPORT gives, since the socket's name
 * carries the port, or a file no server listens on (ECONNREFUSED), one left by a server that did
 * not stop cleanly. Undefined for a connection over TCP, or another failure.
 */
function noSocket(err: unknown, urlFrom: string): string | undefined {
  const { code, address: path } = err as { code?: string; address?: unknown };
  if (typeof path !== "string" || !path.startsWith("/")) return undefined;
  const check = `that ${urlFrom} names the directory of its socket (?host=…, else PGHOST) and the port it listens on, which the socket's name carries (.s.PGSQL.<port>): the port in ${urlFrom} (&port=…), else PGPORT, else 5432; then start waiter again`;
  if (code === "ENOENT") {
    return `no database server's socket is at ${path}${socketsBeside(path)}: check that the server runs, and ${check}`;
  }
  if (code === "ECONNREFUSED") {
    return `no database server listens on the socket at ${path}, one left by a server that stopped: start the server, or check ${check}`;
  }
  return undefined;
}

/** What the directory of a socket that is not there holds instead, as a start's words say it: other servers' sockets, or no directory at all. */
function socketsBeside(path: string): string {
  const dir = dirname(path);
  try {
    const sockets = readdirSync(dir).filter((name) => /^\.s\.PGSQL\.\d+$/.test(name));
    return sockets.length ? ` (${dir} holds ${sockets.sort().join(", ")})` : "";
  } catch (err) {
    return (err as { code?: string }).code === "ENOENT" ? ` (there is no directory ${dir})` : "";
  }
}

/**
 * What whoever runs waiter must change when the server refuses it another connection (53300): the
 * server's max_connections, the user's connection limit, or what other programs hold. Calls that
 * find a connection of waiter's free go on meanwhile.
 */
const NO_CONNECTION_TO_SPARE =
  "raise its max_connections, or the connection limit of waiter's user (ALTER ROLE … CONNECTION LIMIT), or end the sessions of other programs; each waiter holds up to 11";

/**
 * What to change where a connection pooler refuses what the driver sends as it connects (08P01):
 * PgBouncer before 1.20 takes no options ("unsupported startup parameter: options"), later ones
 * only the settings they track ("unsupported startup parameter in options: search_path"), and
 * none takes another setting the URL gives (?statement_timeout=…).
 */
function poolerRefused(message: string | undefined, urlFrom: string): string | undefined {
  const [, inOptions, name] = /^unsupported startup parameter( in options)?: (\S+)$/.exec(message ?? "") ?? [];
  if (!name) return undefined;
  const pooler = "a connection pooler between waiter and the database server (PgBouncer) refuses";
  const given = `given as waiter connects (options in ${urlFrom}, or PGOPTIONS)`;
  if (name === "options") {
    return `${pooler} the options ${given}: leave them out, and set what they give on the database user instead (ALTER ROLE … SET search_path = …)`;
  }
  const what = inOptions ? `${name} in the options ${given}` : `${name}, which ${urlFrom} gives as waiter connects`;
  return `${pooler} ${what}: leave it out, and set it on the database user instead (ALTER ROLE … SET ${name} = …)`;
}

/**
 * What to change where a connection pooler holds as many clients as it takes (08P01): PgBouncer's
 * max_client_conn, or its limits by database or user (max_db_client_connections,
 * max_user_client_connections). Unlike a database out of reach, it lasts until someone acts.
 */
function poolerFull(message: string | undefined): string | undefined {
  const limit = /^(?:no more connections allowed|client connections exceeded) \((max_\w+)\)$/.exec(message ?? "")?.[1];
  return (
    limit &&
    `the connection pooler between waiter and the database server (PgBouncer) takes no more clients: raise its ${limit}, or end the connections of other programs through it; each waiter holds up to 11`
  );
}

/** The rights waiter's database user needs on the tables someone else owns. */
const TABLE_RIGHTS =
  "USAGE on their schema, SELECT, INSERT, UPDATE and DELETE on the tables, and USAGE and SELECT on their sequences";

/** Why a server that answers keeps waiter from starting on it, and what to change, after the server's own words. */
function refusedAtStart(
  code: string | undefined,
  message: string | undefined,
  urlFrom: string,
  lockWaitMs: number,
): string | undefined {
  if (code === "55P03") {
    return `another session held a lock on waiter's tables past ${lockWaitMs / 1000} s as waiter started: most often a transaction left open after LOCK TABLE, ALTER TABLE or VACUUM FULL on one of them (pg_locks shows its session, pg_stat_activity what it does): end it, then start waiter again`;
  }
  if (code === "25006") {
    return `the database server takes no writes, so waiter cannot set up or upgrade its tables there: a standby, or read-only by its settings (default_transaction_read_only); point ${urlFrom} at the primary server`;
  }
  if (code === "53300") return `the database server has no connection to spare for waiter: ${NO_CONNECTION_TO_SPARE}`;
  if (code === "08P01") return poolerRefused(message, urlFrom) ?? poolerFull(message);
  // A DBA's GRANT … ON ALL TABLES covers the tables there at the time, not those made after it.
  if (code === "42501" && /^permission denied for (table|sequence) /.test(message ?? "")) {
    return `waiter's database user lacks rights on its tables: grant it ${TABLE_RIGHTS} (GRANT … ON ALL TABLES IN SCHEMA …, GRANT … ON ALL SEQUENCES IN SCHEMA …), which hold for the tables there at the time: again after an upgrade that adds one, or once for all with ALTER DEFAULT PRIVILEGES FOR ROLE (their owner) IN SCHEMA … GRANT …`;
  }
  return undefined;
}

/**
 * What whoever runs waiter must change before TLS to the database succeeds again: the server's
 * certificate (renewed by another CA, expired, for another name) or its TLS being off. The driver
 * gives Node's certificate check's codes, and no code when the server takes no TLS.
 */
function tlsRefused(
  err: unknown,
  { mode: sslmode, libpq, fromEnv, file }: SslMode,
  urlFrom: string,
): string | undefined {
  const { code, message } = err as { code?: string; message?: string };
  // The modes in which libpq checks less than the driver does: it takes them all as verify-full,
  // unless told to take them as libpq does (uselibpqcompat=true); and a file for TLS without an
  // sslmode, which to libpq is prefer.
  const lenient =
    !libpq && sslmode && ["allow", "prefer", "require", "verify-ca"].includes(sslmode)
      ? `sslmode=${sslmode}`
      : file && `${file} without an sslmode`;
  const asVerifyFull = (what: string) =>
    lenient ? `: the driver checks ${what} with ${lenient} as with verify-full, where libpq would not` : "";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `check that ${urlFrom} names the database server by a name its certificate holds${asVerifyFull("the name")}`;
  }
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return `check that the CA the URL's sslrootcert names (the system's, without it) signs the database server's certificate, and that the certificate has not expired${asVerifyFull("it")}`;
  }
  if (/server does not support SSL/.test(message ?? "")) {
    const optional =
      sslmode === "allow" || sslmode === "prefer" ? `sslmode=${sslmode}` : file && `${file} without an sslmode`;
    const strict = optional
      ? `: the driver takes ${optional} to require TLS, where libpq goes on without it, so write sslmode=disable for a server without TLS`
      : "";
    return `check that the database server takes TLS (ssl = on), or ${fromEnv ? "PGSSLMODE" : "the URL's sslmode"}${strict}`;
  }
  return undefined;
}

/**
 * Throws where the search_path the connection's options give (`optionsSearchPath`) did not reach
 * the server: a pooler between that passes no options on leaves the connection in the user's own
 * search_path, where waiter would set up or open another store than the one asked. The user's own,
 * where it is the one asked, is no matter.
 */
async function searchPathReached(client: pg.ClientBase, asked: { path: string; from: string }): Promise<void> {
  const { rows } = await client.query<{ setting: string; source: string; user: string }>(
    `SELECT setting, source, current_user AS "user" FROM pg_settings WHERE name = 'search_path'`,
  );
  const { setting, source, user } = rows[0] as { setting: string; source: string; user: string };
  const bare = (path: string) => path.replace(/\s/g, "");
  if (source === "client" || bare(setting) === bare(asked.path)) return;
  throw new Error(
    `${asked.from} give search_path=${asked.path}, which did not reach the database server (its search_path is ${setting}): a connection pooler between passes no options on (PgBouncer with options in its ignore_startup_parameters), and waiter would keep its events in another schema than the one asked; set the schema on the database user instead (ALTER ROLE ${sqlName(user)} SET search_path = ${asked.path}), and leave it out of the URL`,
  );
}

/** The schema of the tables the store opened, as a running store reads it again. */
const SCHEMA_VERSION = "SELECT version FROM waiter_schema";

/** A database server that takes no writes, `why` in its own words: whoever runs waiter points it at the primary. */
function readOnlyServer(why: string, database: string, urlFrom: string): StoreNotWritable {
  return new StoreNotWritable(
    why,
    `its database server takes no writes: a standby, or read-only by its settings (${database})`,
    `points ${urlFrom} at the primary server`,
  );
}

/**
 * Retention given up on a lock: said as what it is, as it is said in the log alone, and neither
 * stores nor holds up anything. Each try waits RETAIN_LOCK_WAIT_MS, its commit too, for the lock
 * on notifications that every commit that notifies in the cluster takes in turn; what a failed
 * try dropped is undone with it.
 */
function retentionKeptWaiting(err: StoreBusy, { database, lockWaitMs }: StoreNamed, clockSetBack: boolean): StoreBusy {
  const { code, message } = (err.cause ?? {}) as { code?: string; message?: string };
  const asked = clockSetBack
    ? `it stopped asking, ${RETAIN_LOCK_WAIT_MS} ms at a time, for a lock another session held on the events it drops or on PostgreSQL's notifications when the system clock was set back, before the ${lockWaitMs / 1000} s it asks for`
    : `it asked for ${lockWaitMs / 1000} s, waiting ${RETAIN_LOCK_WAIT_MS} ms at a time, for a lock another session held on the events it drops or on PostgreSQL's notifications`;
  return new StoreBusy(
    `${asked} (PostgreSQL ${code}: ${message}; ${database}): a transaction left open on them (in psql, say), a LOCK TABLE, a VACUUM FULL, or commits that notify back to back in the cluster; that part of the run dropped nothing, deliveries are stored meanwhile, and the next run tries again in ${EXPIRE_EVERY_MS / 60_000} minutes`,
    { cause: err.cause },
  );
}

/**
 * What a run's failure as it forgets old runs and dropped deliveries says it left: the drops before
 * stand; after a drop that failed (said first), only the forgetting's own failure is said.
 */
type Forgetting = "after drops" | "after a failed drop";

/**
 * Retention given up on its time: a statement the server cancelled (a statement_timeout on waiter's
 * user or database, a pg_cancel_backend), said as a run of retention, not as a call that stored
 * nothing; undefined for any other failure. What the statement dropped is undone with it; one
 * `forgetting` old runs or dropped deliveries comes after the drops.
 */
function retentionCut(err: unknown, { database }: StoreNamed, forgetting?: Forgetting): Error | undefined {
  const { code, message } = ((err as { cause?: unknown }).cause ?? {}) as { code?: string; message?: string };
  if (code !== "57014" && code !== "25P04") return undefined;
  const left =
    forgetting === "after a failed drop"
      ? ""
      : `; ${forgetting ? "the events past the limits were dropped all the same" : "that part of the run dropped nothing, deliveries are stored meanwhile"}, and the next run tries again in ${EXPIRE_EVERY_MS / 60_000} minutes`;
  const cut =
    code === "25P04"
      ? `the database ended its session (PostgreSQL ${code}: ${message}; ${database}): a transaction_timeout set on its user or database shorter than the run needed (ALTER ROLE … SET transaction_timeout = 0, for waiter's user, lifts it)`
      : `the database cancelled its statement (PostgreSQL ${code}: ${message}; ${database}): a statement_timeout set on its user or database shorter than the run needed (ALTER ROLE … SET statement_timeout = 0, for waiter's user, lifts it), or someone cancelled it (pg_cancel_backend)`;
  return new Error(`${cut}${left}`, { cause: (err as { cause?: unknown }).cause });
}

/**
 * A database waiter has no answer from for now (not reached, its connection ended, none to spare, a
 * statement unanswered): `said` is what happened, which a tool's answer and a line of the log
 * (`logged`) follow with `again`, and a run of retention, which no caller waits for, with what the
 * run left (`retentionUnreached`).
 * `outage` names the cause alike however its details differ (a refused connection, one timed out).
 */
class StoreUnreached extends ToolError {
  constructor(
    readonly outage: "out of reach" | "connection ended" | "no connection to spare" | "unanswered",
    readonly said: string,
    again: string,
  ) {
    super(`${said}. ${again}; try again in a moment.`);
    // The log's lines are of deliveries, automations and /healthz too, not only of tool calls.
    this.logged = `${said}. ${again.replace(/ at each call$/, " each time it needs the database")}.`;
  }
}

/**
 * A database that refuses waiter's connection (a login, TLS, a file for TLS it cannot read) until
 * whoever runs waiter changes something: `said` is what happened, `check` what to change, which a
 * tool's answer asks the model to tell them and a run of retention or another line of their own
 * log (a delivery's, the automations') says to them (`retentionRefused`, `logged`).
 */
class StoreRefused extends ToolError {
  constructor(
    readonly said: string,
    readonly check: string,
  ) {
    super(
      `${said}: nothing is read or stored until whoever runs waiter fixes that, so tell them to ${check}. waiter tries again at each call.`,
    );
    this.logged = `${said}: nothing is read or stored until that is fixed: ${check}.`;
  }
}

/** What waiter does while the database gives it no answer, as the log of a background run says it. */
const UNREACHED_MEANWHILE =
  "meanwhile waiter connects again by itself for each delivery, answered 503 while the database fails so; if this lasts, check that the database server runs and takes waiter's connections";

/**
 * Retention given up on a database that gave it no answer, said to the log's reader: what the run
 * left, when the next tries again and what the deliveries meet meanwhile; undefined for any other
 * failure. After a failed drop, what the run left is the drop's to say.
 */
function retentionUnreached(err: unknown, forgetting?: Forgetting): Error | undefined {
  if (!(err instanceof StoreUnreached)) return undefined;
  if (forgetting === "after a failed drop") return new Error(`${err.said}; ${UNREACHED_MEANWHILE}`);
  const left = forgetting
    ? "the events past the limits were dropped all the same"
    : "that part of the run dropped nothing";
  return new Error(
    `${err.said}; ${left}, and the next run tries again in ${EXPIRE_EVERY_MS / 60_000} minutes; ${UNREACHED_MEANWHILE}`,
  );
}

/**
 * Retention refused its connection (a login, TLS, a file for TLS), said to the log's reader, who is
 * whoever runs waiter: what the run left and what to change; undefined for any other failure. After
 * a failed drop, what the run left is the drop's to say.
 */
function retentionRefused(err: unknown, forgetting?: Forgetting): Error | undefined {
  if (!(err instanceof StoreRefused)) return undefined;
  if (forgetting === "after a failed drop")
    return new Error(`${err.said}; the next run is refused alike until that is mended: ${err.check}`);
  const left = forgetting
    ? "the events past the limits were dropped all the same"
    : "that part of the run dropped nothing";
  return new Error(
    `${err.said}; ${left}, and the next run tries again in ${EXPIRE_EVERY_MS / 60_000} minutes, refused alike until that is mended: ${err.check}`,
  );
}

/**
 * Retention refused a write (a right waiter's user lacks, a full disk, a standby), said to the log's
 * reader, who is whoever runs waiter: what the run left and what ends the failure; undefined for any
 * other failure. After a failed drop, what the run left is the drop's to say.
 */
function retentionNotWritable(err: unknown, forgetting?: Forgetting): Error | undefined {
  if (!(err instanceof StoreNotWritable)) return undefined;
  if (forgetting === "after a failed drop") {
    return new Error(`${err.said}; the next run fails so until whoever runs waiter ${err.remedy}`);
  }
  const left = forgetting
    ? "the events past the limits were dropped all the same"
    : "that part of the run dropped nothing";
  return new Error(
    `${err.said}; ${left}, and the next run tries again in ${EXPIRE_EVERY_MS / 60_000} minutes, failing so until whoever runs waiter ${err.remedy}`,
  );
}

/**
 * Retention given up on a lock as it forgets the runs of dropped events and the deliveries dropped
 * long ago, after its drops: said as retention, not as a call that stored nothing; undefined for
 * any other failure.
 */
function forgettingKeptWaiting(
  err: unknown,
  { database, lockWaitMs }: StoreNamed,
  forgetting: Forgetting,
): StoreBusy | undefined {
  if (!(err instanceof StoreBusy)) return undefined;
  const { code, message } = (err.cause ?? {}) as { code?: string; message?: string };
  const left =
    forgetting === "after drops"
      ? `; the events past the limits were dropped all the same, and the next run tries again in ${EXPIRE_EVERY_MS / 60_000} minutes`
      : "";
  return new StoreBusy(
    `it waited ${lockWaitMs / 1000} s for a lock another session held on the automation runs or the dropped deliveries it forgets (PostgreSQL ${code}: ${message}; ${database}): a transaction left open on them (in psql, say), a LOCK TABLE, a VACUUM FULL${left}`,
    { cause: err.cause },
  );
}

/**
 * A drop that failed and the forgetting after it that failed too, in the one line the log gives a
 * run. One failure of both alike (the database out of reach, say) is said once, as the drop's; two
 * causes (its connection ended, then a right it lacks) are both said. Both cancelled (a
 * statement_timeout on waiter's user) or both ended (a transaction_timeout), what lifts it is said
 * once too, with the drop's.
 */
function forgettingFailedToo(dropFailed: unknown, err: unknown, named: StoreNamed): unknown {
  const said = (failure: unknown) => (failure instanceof Error ? failure.message : String(failure));
  const dropSaid =
    retentionUnreached(dropFailed) ?? retentionNotWritable(dropFailed) ?? retentionRefused(dropFailed) ?? dropFailed;
  const sameCause =
    err instanceof StoreUnreached && dropFailed instanceof StoreUnreached
      ? err.outage === dropFailed.outage
      : said(err) === said(dropFailed);
  if (sameCause) return dropSaid;
  const dropCut = (dropFailed as { cause?: { code?: string } }).cause?.code;
  const cut = ((err as { cause?: unknown }).cause ?? {}) as { code?: string; message?: string };
  const cutSaid: Record<string, string | undefined> = {
    "57014": "cancelled that statement",
    "25P04": "ended that session",
  };
  const cutToo = dropCut === cut.code ? cutSaid[cut.code ?? ""] : undefined;
  const forgetting = cutToo
    ? `the database ${cutToo} too (PostgreSQL ${cut.code}: ${cut.message})`
    : (retentionCut(err, named, "after a failed drop") ??
      forgettingKeptWaiting(err, named, "after a failed drop") ??
      (err instanceof StoreUnreached && dropFailed instanceof StoreUnreached
        ? err.said
        : (retentionUnreached(err, "after a failed drop") ??
          retentionNotWritable(err, "after a failed drop") ??
          retentionRefused(err, "after a failed drop"))));
  const [drop, forget] = [dropSaid, forgetting ?? err].map(said);
  const message = `${drop?.replace(/\.$/, "")}. Nor did it forget the old automation runs and dropped deliveries: ${forget}`;
  const cause = dropFailed instanceof Error ? dropFailed.cause : undefined;
  return dropFailed instanceof StoreBusy ? new StoreBusy(message, { cause }) : new Error(message, { cause });
}

/**
 * Retention given up on its turn, which one transaction held through the whole lock wait (or
 * `holders` of several sessions, sharing a lock on it): a session left open on the totals (a
 * delivery's own transaction ends in a moment), which every delivery waits for too, so none is
 * stored meanwhile.
 */
function retentionKeptFromTurn({ database, lockWaitMs }: StoreNamed, clockSetBack: boolean, holders = 1): StoreBusy {
  const held =
    holders > 1
      ? `${holders} transactions of other sessions, sharing a lock on it (SELECT … FOR SHARE), held`
      : "one transaction of another session held";
  const waited = clockSetBack
    ? `it stopped waiting for its turn when the system clock was set back, before the ${lockWaitMs / 1000} s it waits; every delivery takes that turn too, and ${held} it all the while`
    : `it waited ${lockWaitMs / 1000} s for its turn, which every delivery takes too and ${held} all along`;
  const left =
    holders > 1
      ? "transactions left open on waiter's tables (in psql, say); no delivery is stored until all have ended"
      : "a transaction left open on waiter's tables (in psql, say), a LOCK TABLE; no delivery is stored until it ends";
  return new StoreBusy(
    `${waited} (${database}): ${left}; the run stops there, and the next tries again in ${EXPIRE_EVERY_MS / 60_000} minutes`,
  );
}

/**
 * Retention kept waiting for a lock as it asked who held its turn (a LOCK TABLE on the totals, a
 * VACUUM FULL), said to the log's reader; undefined for any other failure.
 */
function turnLookupKeptWaiting(err: unknown, { database, lockWaitMs }: StoreNamed): StoreBusy | undefined {
  if (!(err instanceof StoreBusy)) return undefined;
  const { code, message } = (err.cause ?? {}) as { code?: string; message?: string };
  return new StoreBusy(
    `it waited ${lockWaitMs / 1000} s for a lock another session held on the totals as it asked who held its turn (PostgreSQL ${code}: ${message}; ${database}): a LOCK TABLE or a VACUUM FULL, in a transaction left open (in psql, say); no delivery is stored until it ends; the run stops there, and the next tries again in ${EXPIRE_EVERY_MS / 60_000} minutes`,
    { cause: err.cause },
  );
}

/**
 * How many sessions hold the turn whose row's xmax is `xmax`: where it names no transaction under
 * way, it is a MultiXact, the transactions of several sessions that share a lock on the row, some
 * of which may have ended since; one otherwise.
 */
async function turnHolders(query: Query, xmax: string | undefined): Promise<number> {
  if (xmax === undefined || (await running(query, xmax))) return 1;
  try {
    // A transaction's id past the MultiXacts made so far is not looked up: the server would log the
    // look-up's error as an "apparent wraparound", which reads as damage to whoever keeps its log.
    const [row] = await query<{ n: number }>(
      `SELECT CASE WHEN mxid_age($1::xid) > 0 THEN (
         SELECT count(DISTINCT l.pid)::int FROM pg_get_multixact_members($1::xid) AS m
           JOIN pg_locks AS l ON l.locktype = 'transactionid' AND l.transactionid = m.xid AND l.granted
       ) ELSE 1 END AS n`,
      [xmax],
    );
    return Math.max(row?.n ?? 1, 1);
  } catch {
    // An id older than any MultiXact the server keeps ("does no longer exist"): a transaction that ended.
    return 1;
  }
}

/**
 * Whether the transaction `xid` is under way: each holds a lock on its own id, which pg_locks shows
 * to any user, whoever's session it is.
 */
async function running(query: Query, xid: string | undefined): Promise<boolean> {
  if (xid === undefined) return false;
  const rows = await query(
    "SELECT FROM pg_locks WHERE locktype = 'transactionid' AND transactionid::text = $1 AND granted",
    [xid],
  );
  return rows.length > 0;
}

/**
 * Whether the transaction `xid` that holds the turn is one of waiter's writes under way (a
 * replica's retention part, a delivery and its own retention), not a session left open on it.
 */
async function writing(query: Query, xid: string | undefined): Promise<boolean> {
  if (xid === undefined) return false;
  const rows = await query(
    `SELECT FROM pg_stat_activity WHERE backend_xid::text = $1 AND state = 'active'
       AND query ~ 'waiter_(retain|add)[(]'`,
    [xid],
  );
  return rows.length > 0;
}

/**
 * A statement the database cancelled or whose session it ended, `said`: a model is told to try
 * again, and to tell whoever runs waiter if it lasts; the log, which that person reads, says what
 * to lift.
 */
function cutStatement(said: string, err: unknown): ToolError {
  const failed = new ToolError(
    `${said}; nothing of it is stored, so tell whoever runs waiter if this lasts; try again in a moment.`,
    { cause: err },
  );
  failed.logged = `${said}; nothing of it is stored.`;
  return failed;
}

/** What a store's failures say of its database and how waiter connects to it (`storeError`). */
export interface StoreNamed {
  /** Which database, as a log line may show it (`databaseLabel`). */
  database: string;
  /** Where the password came from, as a refused login names it. */
  passwordFrom: string;
  lockWaitMs: number;
  sslmode?: SslMode;
  connect?: ConnectTimeout;
  /** Where the URL was given: WAITER_DATABASE_URL unless said (database.url in the config file). */
  urlFrom?: string;
  /** What to check when the server knows no such database (`databaseNameCheck`). */
  databaseCheck?: string;
  /** How long a statement may go unanswered before the call fails. */
  queryMs?: number;
}

/**
 * A database that cannot be reached, written or logged in to, in words a model (or an operator
 * reading a 503's log) can act on, naming the database as `named` says.
 */
export function storeError(
  err: unknown,
  {
    database,
    passwordFrom,
    lockWaitMs,
    sslmode = { mode: undefined, libpq: false },
    connect,
    urlFrom = databaseSettings.url.env,
    databaseCheck,
    queryMs = QUERY_MS,
  }: StoreNamed,
): unknown {
  if (err instanceof UnreadableFile) {
    return new StoreRefused(`The event store's database cannot be connected to: ${err.message}`, READ_THE_FILE);
  }
  if (err instanceof BindingRefused) {
    const said = `The event store's database cannot be connected to (${database}): ${err.message}`;
    const refused = new ToolError(
      `${said}. Nothing is read or stored until whoever runs waiter fixes that, so tell them. waiter tries again at each call.`,
    );
    refused.logged = `${said}. Nothing is read or stored until that is fixed.`;
    return refused;
  }
  const { code, message } = err as { code?: string; message?: string };
  if (code === "53100") {
    return new StoreNotWritable(
      `PostgreSQL ${code}: ${message}`,
      `the disk of its database server is full (${database})`,
    );
  }
  if (code === "25006") return readOnlyServer(`PostgreSQL ${code}: ${message}`, database, urlFrom);
  // A DBA's revoke of EXECUTE from PUBLIC (pg_notify, or waiter's own functions by default privileges).
  const fn = code === "42501" ? /permission denied for function (\S+)/.exec(message ?? "")?.[1] : undefined;
  if (fn) {
    return new StoreNotWritable(
      `PostgreSQL ${code}: ${message}`,
      `its database user may not call the function ${fn}, which waiter's writes call (${database})`,
      `grants it EXECUTE on that function (GRANT EXECUTE ON FUNCTION ${fn} TO …)`,
    );
  }
  if (code === "42501" && !connectRefused(message)) {
    return new StoreNotWritable(
      `PostgreSQL ${code}: ${message}`,
      `its database user lacks rights on waiter's tables (${database})`,
      `grants it ${TABLE_RIGHTS}`,
    );
  }
  if (code === "55P03") {
    const said = `The event store's database kept waiter waiting more than ${lockWaitMs / 1000} s for a lock another session holds on its tables (PostgreSQL ${code}: ${message}; ${database}): a transaction left open (in psql, say), a LOCK TABLE, a VACUUM FULL; nothing is stored until it ends`;
    const busy = new StoreBusy(`${said}, so tell whoever runs waiter if this lasts; try again in a moment.`, {
      cause: err,
    });
    busy.logged = `${said} (pg_locks shows its session, pg_stat_activity what it does).`;
    return busy;
  }
  if (code === "53300") {
    return new StoreUnreached(
      "no connection to spare",
      `The event store's database has no connection to spare for waiter (PostgreSQL ${code}: ${message}; ${database}): ${NO_CONNECTION_TO_SPARE}`,
      "waiter tries again at each call",
    );
  }
  const full = code === "08P01" ? poolerFull(message) : undefined;
  if (full) {
    return new StoreUnreached(
      "no connection to spare",
      `The event store's database cannot be connected to (PostgreSQL ${code}: ${message}; ${database}): ${full}`,
      "waiter tries again at each call",
    );
  }
  if (code === "57014") {
    return cutStatement(
      `The event store's database cancelled waiter's statement (PostgreSQL ${code}: ${message}; ${database}): a statement_timeout set on its user or database shorter than the statement needed (ALTER ROLE … SET statement_timeout = 0, for waiter's user, lifts it), or someone cancelled it (pg_cancel_backend)`,
      err,
    );
  }
  // PostgreSQL 17 and later: the session ends (FATAL), and the pool connects anew for the next call.
  if (code === "25P04") {
    return cutStatement(
      `The event store's database ended waiter's session (PostgreSQL ${code}: ${message}; ${database}): a transaction_timeout set on its user or database shorter than the statement needed (ALTER ROLE … SET transaction_timeout = 0, for waiter's user, lifts it)`,
      err,
    );
  }
  // The server was reached: it ended the connection (a fast or smart shutdown, pg_terminate_backend).
  if (code === "57P01") {
    return new StoreUnreached(
      "connection ended",
      `The event store's database server ended waiter's connection (PostgreSQL ${code}: ${message}; ${database}): it restarted, or someone ended the connection (pg_terminate_backend)`,
      "waiter connects again by itself",
    );
  }
  const tls = tlsRefused(err, sslmode, urlFrom);
  const check = tls ?? loginRefused(code, message, passwordFrom, urlFrom, databaseCheck);
  if (check) {
    return new StoreRefused(
      `The event store's database refuses waiter's connection (${tls ? `TLS: ${certificateReason(message ?? "")}` : `PostgreSQL ${code}: ${message}`}; ${database})`,
      check,
    );
  }
  if (message === "Query read timeout") {
    return new StoreUnreached(
      "unanswered",
      `The event store's database answered no statement of waiter's within ${queryMs / 1000} s: the server is overloaded or stopped answering, or ${POOL_FULL} (give it as many as the replicas hold at once: its default_pool_size, 11 for each waiter)`,
      "waiter tries again at each call",
    );
  }
  const late = timedOut(err, connect);
  if (late) {
    return new StoreUnreached(
      "out of reach",
      `The event store's database cannot be reached: ${late}`,
      "waiter connects again by itself",
    );
  }
  const why = unreachable(err);
  if (!why) return err;
  return new StoreUnreached(
    "out of reach",
    `The event store's database cannot be reached (${why})`,
    "waiter connects again by itself",
  );
}

function where(filter: EventFilter, params: unknown[]): string {
  const clauses: string[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.source) clauses.push(`source = ${param(filter.source)}`);
  if (filter.type) {
    const stem = typePrefix(filter.type);
    clauses.push(stem !== undefined ? `starts_with(type, ${param(stem)})` : `type = ${param(filter.type)}`);
  }
  if (filter.unackedOnly) clauses.push("acked_at IS NULL");
  return clauses.length ? ` AND ${clauses.join(" AND ")}` : "";
}

/**
 * The statement that reads a page of events, newest first (oldest first with `order` "ASC"), and
 * its parameters. A type's events, but for unacknowledged ones (which events_unacked reads), are
 * read through events_by_type, each stored type the filter matches a range of it, and merged: a
 * type no event has, or one only old events have, is answered from the index, not by reading
 * every event newer than the page. A prefix's types are found from one to the next, a seek each;
 * types are printable ASCII (the listener's cleanType), those that begin with the prefix below it
 * followed by "\x7f". The index and the comparisons are in the C collation, which orders by bytes
 * as a prefix needs (and as SQLite does).
 */
export function pageQuery(filter: EventFilter, page: EventPage, order: "ASC" | "DESC" = "DESC"): [string, unknown[]] {
  const params: unknown[] = [page.after ?? 0, page.before ?? Number.MAX_SAFE_INTEGER];
  const columns = page.bodies === false ? `${WITHOUT_BODY}, ''::bytea AS body` : "*";
  if (!filter.type || filter.unackedOnly) {
    const sql = `SELECT ${columns} FROM events WHERE seq > $1 AND seq < $2${where(filter, params)} ORDER BY seq ${order} LIMIT $${params.length + 1}`;
    params.push(page.limit);
    return [sql, params];
  }
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const stem = typePrefix(filter.type);
  let types: string;
  if (stem === undefined) types = `SELECT ${param(filter.type)}::text COLLATE "C" AS type`;
  else {
    const [from, below] = [param(stem), param(`${stem}\x7f`)];
    types = `WITH RECURSIVE found (type) AS (
        SELECT min(type COLLATE "C") FROM events WHERE type COLLATE "C" >= ${from} AND type COLLATE "C" < ${below}
        UNION ALL SELECT (SELECT min(type COLLATE "C") FROM events WHERE type COLLATE "C" > f.type AND type COLLATE "C" < ${below})
        FROM found f WHERE f.type IS NOT NULL)
      SELECT type FROM found WHERE type IS NOT NULL`;
  }
  const source = filter.source ? ` AND source = ${param(filter.source)}` : "";
  const limit = param(page.limit);
  const sql = `SELECT ${columns} FROM events WHERE seq IN (
      SELECT p.seq FROM (${types}) t CROSS JOIN LATERAL (
        SELECT seq FROM events WHERE type COLLATE "C" = t.type AND seq > $1 AND seq < $2${source} ORDER BY seq ${order} LIMIT ${limit}
      ) p ORDER BY p.seq ${order} LIMIT ${limit})
    ORDER BY seq ${order}`;
  return [sql, params];
}

/** The statement that reads the types `typesLike` answers, a range of sequence numbers, and its parameters. */
export function typesQuery(filter: EventFilter, after: number, limit: number): [string, unknown[]] {
  const stem = typeStem(filter);
  const params: unknown[] = [after];
  const conditions = where({ ...filter, type: undefined }, params);
  const n = params.length;
  params.push(stem.length, stem.toLowerCase(), stem, limit);
  const sql = `SELECT type FROM events WHERE seq > $1${conditions} AND lower(substr(type, 1, $${n + 1})) = $${n + 2}
    GROUP BY type ORDER BY length(type) > $${n + 1}, substr(type, 1, $${n + 1}) <> $${n + 3}, length(type), type COLLATE "C"
    LIMIT $${n + 4}`;
  return [sql, params];
}

/** The stored events `deliveryId` names: by its key in each source, or as a Shopify webhook's id or a WooCommerce delivery ID. */
export function deliveredAsQuery(deliveryId: string): [string, unknown[]] {
  return [
    `SELECT id, source FROM events WHERE seq IN (
       SELECT seq FROM events WHERE source IN (SELECT source FROM counters) AND dedupe_id = $1
       UNION SELECT seq FROM events WHERE scheme = 'shopify' AND ${SHOPIFY_WEBHOOK_ID} = $1
       UNION SELECT seq FROM events WHERE scheme = 'woocommerce' AND ${WOOCOMMERCE_DELIVERY_ID} = $1) ORDER BY seq`,
    [deliveryId],
  ];
}

/**
 * The events of `table` that `reusedAs` (or `droppedReusedAs`) names, their keys read as a range of
 * the partial index of such keys (step 26), in bytes' order, where substr alone read every event of
 * a source each time a model passed one of its delivery ids; and its parameters, `$4` the end of `$2`'s keys.
 */
export function reusedAsQuery(deliveryId: string, table: "events" | "dropped_deliveries"): [string, unknown[]] {
  const [id, start, outcome] = reusedAsParameters(deliveryId);
  const keys = ` AND ${REUSED_KEY} AND dedupe_id COLLATE "C" >= $2 AND dedupe_id COLLATE "C" < $4`;
  return [reusedAsIn(table, keys), [id, start, outcome, `${start.slice(0, -1)};`]];
}

/**
 * The statement that finds a Comgate or GoPay payment's events, and its parameters: each delivery id
 * the payment's documented states make, looked up by its key. A prefix cannot be, as the database's
 * collation may not order ":" and ";" as their bytes do, and reading every event for each id a
 * caller makes up would cost a read token holder's every call that.
 */
export function paymentQuery(paymentId: string): [string, unknown[]] {
  return [
    `SELECT id, source, dedupe_id AS "dedupeId" FROM events WHERE source IN (SELECT source FROM counters)
     AND dedupe_id = ANY($1) AND scheme IN ('comgate', 'gopay') ORDER BY seq LIMIT ${PAYMENT_EVENTS_LISTED}`,
    [paymentDeliveries(paymentId)],
  ];
}

/** The statement that finds when retention dropped the events of `ids` it did, through dropped_deliveries_id (step 24). */
export function droppedEventsQuery(ids: string[]): [string, unknown[]] {
  return ["SELECT id, dropped_at FROM dropped_deliveries WHERE id = ANY($1) ORDER BY dropped_at, id", [ids]];
}

/**
 * The statement that finds the dropped deliveries of a payment's events (`paymentQuery`) from a
 * source not in `others`, those configured with another scheme, by their key.
 */
export function droppedPaymentQuery(paymentId: string, others: readonly string[]): [string, unknown[]] {
  return [
    `SELECT id, source, dedupe_id AS "dedupeId" FROM dropped_deliveries
     WHERE source IN (SELECT source FROM counters WHERE source <> ALL($2)) AND dedupe_id = ANY($1)
     ORDER BY dropped_at, id LIMIT ${PAYMENT_EVENTS_LISTED}`,
    [paymentDeliveries(paymentId), others],
  ];
}

/**
 * The age limit in milliseconds as a bigint parameter takes it: a limit past the largest integer a
 * JavaScript number holds exactly (some 285,000 years; a setting meant as forever) is cut to it,
 * where the number as written (8.64e+307) would fail every delivery's statement.
 */
function ageLimitMs(maxAgeDays: number): number {
  return Math.min(Math.round(maxAgeDays * DAY_MS), Number.MAX_SAFE_INTEGER);
}

interface Pending {
  event: NewEvent;
  resolve: (added: Added) => void;
  reject: (err: unknown) => void;
}

/**
 * The event store on a PostgreSQL server, which several waiter replicas share. Commits that
 * store events take turns on the totals row, so sequence numbers are handed out in commit
 * order: a reader that has seen seq N has seen every event before it, and a cursor never skips
 * an event whose transaction committed late. Each commit notifies the others (LISTEN/NOTIFY).
 * Events added while a commit is under way share the next one (group commit).
 */
export class PostgresEventStore implements EventStore {
  upgraded: Upgraded | undefined;
  created = false;
  storeId: string | undefined;
  readonly #pool: pg.Pool;
  /**
   * An idle connection the server closed: the pool drops it and connects anew when asked. A
   * restart ends every one at once, a line each but for the throttle.
   */
  readonly #idleLost = throttled((line) => process.emitWarning(line));
  readonly #retention: Retention;
  readonly #onDropped: ((dropped: Dropped) => void) | undefined;
  readonly #neverResentBy: ((scheme: string) => string | undefined) | undefined;
  readonly #sources: SourceSchemes | undefined;
  readonly #channel: string;
  /** The database as the store's errors name it, and how waiter connects to it. */
  readonly #named: Required<StoreNamed>;
  readonly #nextId = eventIds();
  readonly #listeners = new Listeners<StoredEvent>();
  readonly #ackListeners = new Listeners<string[]>();
  readonly #goneListeners = new Listeners<Gone>();
  /** The greatest sequence number told dropped: a drop read again (as the watch listens again) is not told twice. */
  #goneTold = 0;
  /** This store's name in the notifications of its acknowledgements, which it has told already. */
  readonly #me = randomUUID();
  #retaining: Promise<void> = Promise.resolve();
  readonly #watch: ListenWatch;
  readonly #expiry: NodeJS.Timeout;
  /** Whether a newer waiter upgraded the tables since the open: told once, found from then on. */
  readonly #newerSchema: (version: number) => NewerSchema | undefined;
  /** The retention run no caller waits for, if one is under way: close waits for it. */
  #expiring: Promise<void> | undefined;
  readonly #queue: Pending[] = [];
  /** The commit under way, if any, and the adds it holds. */
  #committing: Promise<void> | undefined;
  #inCommit: Pending[] = [];
  #closed = false;
  readonly runs: RunLog;
  readonly sessions: SessionLog;
  readonly waits: WaitLog;

  /** Connects, brings the schema up to date and starts listening; throws when the database cannot be used. */
  static async open(options: PostgresOptions): Promise<PostgresEventStore> {
    const urlFrom = options.urlFrom ?? databaseSettings.url.env;
    // The driver reads neither the URL's connect_timeout nor PGCONNECT_TIMEOUT for its connections.
    const connect =
      options.connectMs === undefined
        ? connectTimeout(options.url, process.env, urlFrom)
        : { ms: options.connectMs, from: "the store's connectMs" };
    const sslmode = urlSslmode(options.url);
    const binding = urlChannelBinding(options.url, process.env, urlFrom);
    checkedPort(options.url);
    const queryMs = options.queryMs ?? QUERY_MS;
    const config: pg.ClientConfig = {
      connectionString: connectionString(options.url, options.password),
      // The driver reads no channel_binding; asked, it binds the login where the server offers it.
      enableChannelBinding: binding.mode !== "disable",
      connectionTimeoutMillis: connect.ms,
      // A server that stops answering fails the call rather than holding it past the tool's deadline.
      query_timeout: queryMs,
      application_name: "waiter",
      types,
    };
    const lockWait = `SET lock_timeout = ${Math.round(options.lockWaitMs ?? LOCK_WAIT_MS)}`;
    /**
     * The schema the tables were found in, for every connection after the first: a search_path
     * changed on the user or the database since (ALTER ROLE … SET search_path) reaches the
     * connections opened from then on, which would look for the tables elsewhere.
     */
    let inSchema = "";
    const Client = clientReading(options.url, urlFrom, binding);
    const pool = new pg.Pool({
      ...config,
      Client,
      max: POOL_MAX,
      idleTimeoutMillis: 30_000,
      onConnect: async (client) => {
        await client.query(`${lockWait}; ${READ_COMMITTED}; ${inSchema}${KEEPALIVES}; ${NO_IDLE_TIMEOUT}`);
      },
    });
    let schema: string;
    let upgraded: Upgraded | undefined;
    let storeId: string | undefined;
    const { signal } = options;
    try {
      // The connection that brings the schema up to date stays in the pool for the store's own queries.
      const connecting = pool.connect();
      if (signal) connecting.then((late) => signal.aborted && late.release(true)).catch(() => {});
      const client = await (signal ? untilAborted(connecting, signal) : connecting);
      // Its statement, under way as the stop comes, fails as the connection ends.
      const endWait = () => void client.end().catch(() => {});
      signal?.addEventListener("abort", endWait, { once: true });
      try {
        // Replicas starting at once wait their turn to upgrade for as long as the upgrade takes,
        // and an index built on a full store takes as long as it needs: a statement_timeout or a
        // transaction_timeout set on the user or the database would stop every start while another
        // replica upgrades. The lock wait stays the store's until the turn is taken: a lock another
        // session holds on the tables (no waiter's upgrade takes one that stops reading the schema)
        // fails the start after it, not after the query timeout.
        await client.query(`${lockWait}; SET statement_timeout = 0; ${NO_TRANSACTION_TIMEOUT}`);
        const asked = optionsSearchPath(options.url, urlFrom);
        if (asked) await searchPathReached(client, asked);
        upgraded = await migrate(client, undefined, urlFrom, options.upgradeLockWaitMs, options.upgradeWaitMs);
        await client.query(`${lockWait}; RESET statement_timeout; ${TRANSACTION_TIMEOUT_BACK}`);
        // Asked together: each query at start is a round trip to a server that may be far.
        const found = (
          await client.query<{ schema: string; id: string | null }>(
            "SELECT current_schema() AS schema, (SELECT id FROM store_identity) AS id",
          )
        ).rows[0];
        schema = found?.schema ?? "public";
        storeId = found?.id ?? undefined;
        inSchema = `SET search_path = ${client.escapeIdentifier(schema)}; `;
        signal?.throwIfAborted();
        client.release();
      } catch (err) {
        client.release(true);
        throw err;
      } finally {
        signal?.removeEventListener("abort", endWait);
      }
    } catch (err) {
      if (signal?.aborted) {
        // Not waited for: a connection still being made ends at its connect timeout, or as the process does.
        void pool.end().catch(() => {});
        throw signal.reason;
      }
      await pool.end().catch(() => {});
      if (err instanceof UnreadableFile) throw new Error(`${err.message}: ${READ_THE_FILE}`);
      if (err instanceof BindingRefused || err instanceof UpgradeUnderWay) throw err;
      const check =
        tlsRefused(err, sslmode, urlFrom) ??
        loginRefused(
          (err as { code?: string }).code,
          (err as Error).message,
          options.passwordFrom ?? "PGPASSWORD",
          urlFrom,
          databaseNameCheck(options.url, urlFrom),
        );
      if (check) throw new Error(`${certificateReason((err as Error).message)}: ${check}`);
      const { code } = err as { code?: string };
      const refused = refusedAtStart(code, (err as Error).message, urlFrom, options.lockWaitMs ?? LOCK_WAIT_MS);
      if (refused) throw new Error(`${(err as Error).message} (PostgreSQL ${code}): ${refused}`);
      const said = connectionMessage(err);
      const socket = noSocket(err, urlFrom);
      if (socket) throw new Error(`${said}: ${socket}`);
      // A name that does not resolve, a server not listening: said as every connection of waiter's says them.
      const telling = tellingCode(err as SocketError);
      const address = addressSettings(options.url, urlFrom);
      const unconnected = notConnected(telling, {
        name: "its name",
        connection: "the connection",
        nameSetting: address.name,
        portSetting: address.address,
        atStart: true,
      });
      // Looked up with ADDRCONFIG, as Node does, a name with IPv6 addresses alone does not resolve here.
      if (unconnected) throw new Error(`${said}: ${unconnected}${telling === "ENOTFOUND" ? IPV6_UNRESOLVED : ""}`);
      const noRoute = noRouteTo(err as SocketError, urlFrom);
      if (noRoute) throw new Error(`${said}: ${noRoute}`);
      if (timedOut(err, connect)) {
        const name = nameNotResolved(err);
        if (name) {
          throw new Error(
            `${tookNoConnection(connect, name)}: its lookup went unanswered (this machine's DNS server, or the network to it): check the name in ${urlFrom} and this machine's network and DNS settings, then start waiter again`,
          );
        }
        throw new Error(
          `${tookNoConnection(connect)}: check that it runs and that its address and port are right, and nothing between drops the connection; a far one may need longer (connect_timeout in ${urlFrom}, in seconds)`,
        );
      }
      // The driver's words for a statement unanswered within query_timeout.
      if ((err as Error).message === "Query read timeout") {
        throw new Error(
          `${(err as Error).message}: what waiter connected to took the connection but answered no statement within ${queryMs / 1000} s: ${POOL_FULL}, so give it as many as the replicas hold at once (its default_pool_size, 11 for each waiter); else the database server is overloaded or stopped answering`,
        );
      }
      // The driver's words when the server asks for a password and it has none.
      if (/client password must be a string/.test((err as Error).message ?? "")) {
        const file = options.passwordFrom === PASSWORD_FILE ? unreadPasswordFile(new pg.Client(config)) : undefined;
        throw new Error(
          `the server asks for a password and waiter has none: ${file ? `${file}; ` : ""}set PGPASSWORD, or WAITER_DATABASE_PASSWORD_ENV (database.passwordEnv) to the name of the variable that holds it`,
        );
      }
      // The driver's words when the socket closes before the server says anything, as a container's
      // published port does while its server is down, or another service on that port.
      if (/^Connection terminated unexpectedly$/.test((err as Error).message ?? "")) {
        throw new Error(
          `${(err as Error).message}: what listens at that address and port closed the connection before a database server answered: check that a PostgreSQL server runs there (not another service, nor a container's published port whose server is not up), that ${urlFrom} names its address and port, then start waiter again`,
        );
      }
      if (!(err as Error).message) throw new Error(said);
      throw err;
    }
    // A channel name is at most 63 bytes, and a schema's name may be as long.
    const channel = `waiter_events_${createHash("sha256").update(schema).digest("hex").slice(0, 16)}`;
    const store = new PostgresEventStore(pool, options, channel, config, Client, connect);
    // Tables set up where there were none (schema 0) are made, not upgraded.
    store.upgraded = upgraded?.from ? upgraded : undefined;
    store.created = upgraded?.from === 0;
    store.storeId = storeId;
    const listening = (async () => store.#watch.start(await store.latestSeq()))();
    try {
      await (signal ? untilAborted(listening, signal) : listening);
      signal?.throwIfAborted();
    } catch (err) {
      // Not waited for: a server that does not answer holds a statement until its timeout.
      if (signal?.aborted) void store.close().catch(() => {});
      throw err;
    }
    // The age limit holds while no webhook arrives too: at opening, then on the timer.
    store.#expireUnattended();
    return store;
  }

  private constructor(
    pool: pg.Pool,
    options: PostgresOptions,
    channel: string,
    config: pg.ClientConfig,
    Client: typeof pg.Client,
    connect: ConnectTimeout,
  ) {
    this.#pool = pool;
    this.#pool.on("error", (err) => {
      const { code, message } = err as { code?: string; message?: string };
      this.#idleLost(
        code === "57P01"
          ? `the event store's database server ended an idle connection of waiter's (PostgreSQL ${code}: ${message}): it restarted, or someone ended the connection (pg_terminate_backend); waiter connects anew when it needs one`
          : `an idle connection to the event store's database failed (${message ?? err}); waiter connects anew when it needs one`,
        code,
      );
    });
    this.#retention = options.retention;
    this.#onDropped = options.onDropped;
    this.#neverResentBy = options.neverResentBy;
    this.#sources = options.sources;
    this.#named = {
      database: databaseLabel(options.url),
      passwordFrom: options.passwordFrom ?? "PGPASSWORD",
      lockWaitMs: options.lockWaitMs ?? LOCK_WAIT_MS,
      // A TLS failure's message may tell the sslmode's meaning to the driver.
      sslmode: urlSslmode(options.url),
      connect,
      urlFrom: options.urlFrom ?? databaseSettings.url.env,
      databaseCheck: databaseNameCheck(options.url, options.urlFrom ?? databaseSettings.url.env),
      queryMs: options.queryMs ?? QUERY_MS,
    };
    this.#channel = channel;
    this.runs = postgresRuns(this.#query);
    this.sessions = postgresSessions(this.#query);
    this.waits = postgresWaits(this.#query);
    this.#watch = new ListenWatch({
      // Keepalive, and the watch's own ping, find a connection a network dropped without a word.
      connect: () => new Client({ ...config, keepAlive: true }),
      // A replica's machine gone leaves its listening session holding back the notifications every
      // replica is sent, as the server keeps them until each listener has read them.
      setUp: `${KEEPALIVES}; ${NO_IDLE_TIMEOUT}`,
      channel,
      urlFrom: this.#named.urlFrom,
      latest: async () => {
        const [row] = await this.#query<{ seq: number; through: number; left: number }>(
          `SELECT (${LATEST_SEQ}) AS seq, dropped_through AS through, events AS left FROM totals`,
        );
        const { seq, through, left } = row as { seq: number; through: number; left: number };
        return { seq, gone: { through, left } };
      },
      notify: async (payload) => {
        await this.#query("SELECT pg_notify($1, $2)", [channel, payload]);
      },
      newerThan: async (seq, limit) =>
        (await this.#query<EventRow>("SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", [seq, limit])).map(
          toEvent,
        ),
      wanted: () => this.#listeners.size > 0,
      tell: (event) => this.#listeners.tell(event),
      acked: (by, ids) => {
        if (by !== this.#me) this.#ackListeners.tell(ids);
      },
      dropped: (gone) => {
        if (gone.through <= this.#goneTold) return;
        this.#goneTold = gone.through;
        this.#goneListeners.tell(gone);
      },
      failure: (err) => (timedOut(err, connect) ? tookNoConnection(connect, nameNotResolved(err)) : undefined),
      probeMs: options.probeMs,
    });
    this.#newerSchema = newerSchemaWatch(MIGRATIONS.length, options.onNewerSchema);
    this.#expiry = setInterval(() => {
      this.#expireUnattended();
      // A process that serves no health check hears of an upgrade here; a failure is retention's to say.
      this.#query<{ version: number }>(SCHEMA_VERSION).then(
        ([row]) => this.#newerSchema(row?.version ?? 0),
        () => {},
      );
    }, EXPIRE_EVERY_MS);
    this.#expiry.unref();
  }

  readonly #query: Query = async <R extends object>(text: string, params?: unknown[]) => {
    try {
      return (await this.#pool.query<R>(text, params)).rows;
    } catch (err) {
      throw storeError(err, this.#named);
    }
  };

  add(event: NewEvent): Promise<Added> {
    if (this.#closed) return Promise.reject(new ToolError("The event store is closed: waiter is stopping."));
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      // Adds of the same turn of the event loop, and those that arrive during a commit, share one.
      if (this.#queue.length === 1 && !this.#committing) setImmediate(() => this.#commitQueue());
    });
  }

  #commitQueue(): void {
    if (this.#committing || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0);
    this.#inCommit = batch;
    this.#committing = this.#commit(batch).catch((err) => {
      // The adds that came while the commit waited for a lock another session holds are refused
      // with it: their own commit would wait for it anew, and answer their senders only after
      // both waits, past the 5 s a sender waits.
      const waited = err instanceof StoreBusy ? this.#queue.splice(0) : [];
      for (const { reject } of [...batch, ...waited]) reject(err);
    });
    void this.#committing.finally(() => {
      this.#committing = undefined;
      this.#inCommit = [];
      this.#commitQueue();
    });
  }

  /** Stores a batch in one statement, has this process's listeners told, and resolves each add. */
  async #commit(batch: Pending[]): Promise<void> {
    const given = batch.map((p) => p.event);
    const ids = given.map((e) => this.#nextId(e.receivedAt));
    const { maxEvents, maxBytes, maxAgeDays } = this.#retention;
    // One round trip: the function takes the turn, stores, counts, keeps the limits, notifies. A
    // retry of a delivery an older waiter stored under its former id (an event, or a delivery
    // retention dropped) is keyed as that one was, and the keys are returned, nothing added too.
    const rows = await this.#query<{ keyed: string[]; id: string | null; dropped: Dropped | null }>(
      `SELECT k.keyed, a.added_id AS id, a.dropped FROM (SELECT ARRAY(
         SELECT CASE WHEN n.former IS NOT NULL AND (
             EXISTS (SELECT FROM events e WHERE e.source = n.source AND e.dedupe_id = n.former)
             OR EXISTS (SELECT FROM dropped_deliveries d WHERE d.source = n.source AND d.dedupe_id = n.former))
           THEN n.former ELSE n.dedupe END
         FROM unnest($2::text[], $5::text[], $15::text[]) WITH ORDINALITY AS n (source, dedupe, former, at) ORDER BY at
       ) AS keyed) k
       LEFT JOIN LATERAL waiter_add($1, $2, $3, $4, k.keyed, $6, $7, $8, $9, $10, $11, $12, $13, $14) a ON true`,
      [
        ids,
        given.map((e) => e.source),
        given.map((e) => e.type),
        given.map((e) => e.scheme),
        given.map((e) => e.dedupeId),
        given.map((e) => e.receivedAt),
        given.map((e) => JSON.stringify(e.headers)),
        given.map((e) => e.body),
        given.map((e) => e.isJson ?? isJson(e.body)),
        given.map((e) => e.body.length),
        this.#channel,
        maxEvents,
        maxBytes,
        ageLimitMs(maxAgeDays),
        given.map((e) => e.formerDedupeId ?? null),
      ],
    );
    const keyed = (rows[0] as { keyed: string[] }).keyed;
    const events = given.map((e, i) => ({ ...e, dedupeId: keyed[i] as string }));
    const inserted = rows.filter((r) => r.id !== null);
    tellDropped(this.#onDropped, inserted[0]?.dropped);
    const added = new Set(inserted.map((r) => r.id));
    const repeats = events.filter((_, i) => !added.has(ids[i] as string));
    // A repeat resolves to what was committed already: the stored event, or the delivery retention remembers.
    const storedAs = new Map<string, Added>();
    if (repeats.length > 0) {
      for (const r of await this.#query<{
        source: string;
        dedupe_id: string;
        id: string;
        dropped: boolean;
        digest: Buffer | null;
      }>(
        `SELECT source, dedupe_id, id, false AS dropped, NULL::bytea AS digest FROM events WHERE (source, dedupe_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
         UNION ALL
         SELECT source, dedupe_id, id, true, digest FROM dropped_deliveries WHERE (source, dedupe_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [repeats.map((e) => e.source), repeats.map((e) => e.dedupeId)],
      )) {
        storedAs.set(`${r.source}\0${r.dedupe_id}`, {
          id: r.id,
          duplicate: true,
          ...(r.dropped ? { dropped: true, ...droppedDigest(r.digest) } : {}),
        });
      }
    }
    // Told through the watch, which reads every event up to this commit in sequence order: one
    // another replica committed just before is told before this one, never after it.
    if (this.#listeners.size > 0) await this.#watch.catchUp();
    batch.forEach(({ resolve }, i) => {
      const id = ids[i] as string;
      const event = events[i] as NewEvent;
      if (added.has(id)) resolve({ id, duplicate: false });
      else resolve(storedAs.get(`${event.source}\0${event.dedupeId}`) as Added);
    });
  }

  /**
   * One run at a time in a store: runs side by side would each take the other's tries for the turn
   * passing between writers, and end without a word. A run asked for meanwhile (the timer's, one
   * at opening) waits for the one going.
   */
  expire(now = clock.now()): Promise<void> {
    const run = this.#retaining.then(() => this.#expire(now));
    this.#retaining = run.catch(() => {});
    return run;
  }

  async #expire(now: number): Promise<void> {
    const total: Dropped = {};
    // A statement at a time, each dropping a part of a backlog, so the replicas' deliveries take
    // the turn between them; the turn is taken (the row locked) before the function runs. It is
    // not waited for in line: a delivery that came after would wait there behind retention, and
    // where a person's session holds the turn, out retention's lock wait and then its own, past
    // the 5 s a sender waits. Held by another, it is asked for again after a pause, for as long
    // as a statement waits for a lock, and given up on if still held by one transaction that is no
    // write of waiter's under way (another's part of a large backlog ends the run as well). A turn
    // passed from write to write meanwhile (the row's xmax changed: the replicas' deliveries,
    // another's retention run on the same backlog) is not held, and ends the run: those writes
    // keep the limits in their own commits, and where they come back to back the turn is never
    // free, so a run that asked on would never end, nor prune what it prunes after. Holding it,
    // retention waits RETAIN_LOCK_WAIT_MS at most for a lock on what it drops (a person's on an
    // event), then lets it go with the statement and asks again alike: a delivery waiting for the
    // turn never waits out retention's lock wait.
    // A failed drop (kept waiting by a person's lock, for days maybe; cancelled by a
    // statement_timeout on every run; its connection lost) is said after the pruning, not instead.
    let dropFailed: unknown;
    try {
      await this.#onOneConnection((query) => this.#retainInTurns(query, now, total));
    } catch (err) {
      dropFailed = err;
    } finally {
      // The parts before a failed one are committed: their events are gone all the same.
      tellDropped(this.#onDropped, total);
    }
    // Neither needs the turn, which every replica's ingest waits for.
    try {
      await this.#query(PRUNE_RUNS);
      await this.#query("DELETE FROM dropped_deliveries WHERE dropped_at < $1", [forgottenBefore(now)]);
    } catch (err) {
      if (dropFailed !== undefined) throw forgettingFailedToo(dropFailed, err, this.#named);
      throw (
        retentionCut(err, this.#named, "after drops") ??
        forgettingKeptWaiting(err, this.#named, "after drops") ??
        retentionUnreached(err, "after drops") ??
        retentionNotWritable(err, "after drops") ??
        retentionRefused(err, "after drops") ??
        err
      );
    }
    if (dropFailed !== undefined)
      throw (
        retentionUnreached(dropFailed) ?? retentionNotWritable(dropFailed) ?? retentionRefused(dropFailed) ?? dropFailed
      );
  }

  /**
   * Retention's tries for the turn, all on one connection: the server says a try's error before
   * it lets go of that try's hold on the turn, so on a busy machine a try on another connection
   * could meet that hold and take it for another writer's (the turn passed on, which ends the run).
   */
  async #retainInTurns(query: Query, now: number, total: Dropped): Promise<void> {
    const { maxEvents, maxBytes, maxAgeDays } = this.#retention;
    let asked = clock.now();
    // Whether the wait has gone on its whole length, as a timer tells: a clock set forward (NTP
    // stepping one that ran behind) neither ends it nor is said as all of it, and a try that waits
    // out the session's lock wait on the totals themselves (a LOCK TABLE) counts all it took.
    let waitedOut = false;
    let waiting: NodeJS.Timeout | undefined;
    const waitAnew = () => {
      clearTimeout(waiting);
      waitedOut = false;
      waiting = setTimeout(() => {
        waitedOut = true;
      }, this.#named.lockWaitMs - TURN_PAUSE_MS).unref();
    };
    waitAnew();
    let holder: string | undefined;
    let holderAskedAgain = false;
    // Said as such though the clock went forward again before the wait's end is said.
    let clockSetBack = false;
    for (;;) {
      // A clock set back meanwhile (NTP correcting one that ran ahead) ends the wait, not lengthens it.
      if (clock.now() < asked) clockSetBack = true;
      const last = clockSetBack || waitedOut;
      let retained: { dropped: Dropped } | undefined;
      try {
        [retained] = await query<{ dropped: Dropped }>(
          `SELECT waiter_retain($1, $2, $3, $4) AS dropped FROM (SELECT set_config('lock_timeout', '${RETAIN_LOCK_WAIT_MS}', true)
             FROM totals FOR UPDATE SKIP LOCKED) AS turn`,
          [now, maxEvents, maxBytes, ageLimitMs(maxAgeDays)],
        );
      } catch (err) {
        // A lock on what it drops: the turn is let go with the statement, and asked for again.
        if (!(err instanceof StoreBusy)) throw retentionCut(err, this.#named) ?? err;
        // A stop waits for this run: the lock is left to the next start's run, not waited out.
        if (this.#closed) break;
        if (last) throw retentionKeptWaiting(err, this.#named, clockSetBack);
        await new Promise((resolve) => setTimeout(resolve, TURN_PAUSE_MS));
        continue;
      }
      if (!retained) {
        if (this.#closed) break;
        // Who holds the turn is asked with the run's own words for what keeps it waiting, as its tries are.
        const lookup = async <R extends object>(text: string, params?: unknown[]) => {
          try {
            return await query<R>(text, params);
          } catch (err) {
            throw retentionCut(err, this.#named) ?? turnLookupKeptWaiting(err, this.#named) ?? err;
          }
        };
        const [held] = await lookup<{ by: string }>("SELECT xmax::text AS by FROM totals");
        if (holder !== undefined && held?.by !== holder) break;
        if (last) {
          // Its holder ended since the try (the row keeps its xmax until another takes the turn): the
          // turn is asked for again at once, and a new holder then is the turn passed on.
          if (!holderAskedAgain && !(await running(lookup, held?.by))) {
            holderAskedAgain = true;
            holder = held?.by;
            continue;
          }
          // Another waiter's write dropping a part of a large backlog keeps the limits in its commit.
          if (await writing(lookup, held?.by)) break;
          throw retentionKeptFromTurn(this.#named, clockSetBack, await turnHolders(lookup, held?.by));
        }
        holder = held?.by;
        await new Promise((resolve) => setTimeout(resolve, TURN_PAUSE_MS));
        continue;
      }
      const dropped = retained.dropped ?? {};
      if (Object.keys(dropped).length === 0) break;
      addDropped(total, dropped);
      asked = clock.now();
      waitAnew();
      clockSetBack = false;
      holder = undefined;
      holderAskedAgain = false;
    }
  }

  /** `use` given a query on one connection of the pool's, which goes back to it after (closed if it failed). */
  async #onOneConnection<T>(use: (query: Query) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw storeError(err, this.#named);
    }
    // Out of the pool, a connection's failure is the statement's under way to say, or the next
    // one's: lost between statements (the server ended it), the next is refused in words that
    // say only that the client is unusable.
    let lost: unknown;
    const unheard = (err: unknown) => {
      lost ??= err;
    };
    client.on("error", unheard);
    // A failure not in SESSION_KEPT (unanswered, the connection lost) may leave the session unfit
    // for another. Told by code: the severity the driver gives is in the server's language ("FEHLER").
    let broken = false;
    try {
      return await use(async <R extends object>(text: string, params?: unknown[]) => {
        try {
          return (await client.query<R>(text, params)).rows;
        } catch (err) {
          if (!SESSION_KEPT.has((err as { code?: string }).code ?? "")) broken = true;
          throw storeError(lost ?? err, this.#named);
        }
      });
    } finally {
      client.off("error", unheard);
      client.release(broken || lost !== undefined);
    }
  }

  async count(source: string, outcome: string, n = 1): Promise<void> {
    await this.#query(
      "INSERT INTO counters AS c (source, outcome, n) VALUES ($1, $2, $3) ON CONFLICT (source, outcome) DO UPDATE SET n = c.n + $3",
      [source, outcome, n],
    );
  }

  async proveWritable(bytes: number): Promise<void> {
    // An event of no source (none is named ""), numbered below any number the sequence hands out,
    // and by the connection's own server process, so that proofs at once wait for no other's row.
    // Its body is bytes no compression shrinks, as a delivery's may be. The insert grows the
    // table's files (its TOAST's for a large body) before any commit; the exception raised after it
    // undoes it, and that exception alone is caught: a full disk's 53100 fails the proof.
    const size = Math.max(0, Math.floor(bytes));
    await this.#query(`DO $$ BEGIN
      INSERT INTO events (seq, id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
        OVERRIDING SYSTEM VALUE
        SELECT -pg_backend_pid(), pg_backend_pid()::text, '', '', '', pg_backend_pid()::text, 0, '',
          substring(coalesce(string_agg(sha256(int4send(i)), ''), '') FOR ${size}), false, ${size}
        FROM generate_series(1, (${size} + 31) / 32) AS i;
      RAISE SQLSTATE 'WPROV';
    EXCEPTION WHEN SQLSTATE 'WPROV' THEN NULL;
    END $$`);
  }

  async unfit(): Promise<NewerSchema | StoreNotWritable | undefined> {
    // transaction_read_only is on for every transaction of a standby's, and of a session that began
    // where default_transaction_read_only is on: every write of this connection's would be refused.
    const [row] = await this.#query<{ read_only: string; version: number }>(
      `SELECT current_setting('transaction_read_only') AS read_only, (${SCHEMA_VERSION}) AS version`,
    );
    const newer = this.#newerSchema(row?.version ?? 0);
    if (newer) return newer;
    if (row?.read_only !== "on") return undefined;
    return readOnlyServer(
      "transaction_read_only is on",
      this.#named.database,
      this.#named.urlFrom ?? databaseSettings.url.env,
    );
  }

  async list(filter: EventFilter, page: EventPage): Promise<StoredEvent[]> {
    return (await this.#query<EventRow>(...pageQuery(filter, page, page.oldestFirst ? "ASC" : "DESC"))).map(toEvent);
  }

  async firstAfter(filter: EventFilter, after: number): Promise<StoredEvent | undefined> {
    const [row] = await this.#query<EventRow>(...pageQuery(filter, { after, limit: 1 }, "ASC"));
    return row && toEvent(row);
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const [row] = await this.#query<EventRow>("SELECT * FROM events WHERE id = $1", [id]);
    return row && toEvent(row);
  }

  async storedBody(id: string): Promise<Buffer | undefined> {
    const [row] = await this.#query<{ body: Buffer }>("SELECT body FROM events WHERE id = $1", [id]);
    return row?.body;
  }

  async deliveredAs(deliveryId: string): Promise<{ id: string; source: string }[]> {
    // Every source that stored an event is counted: each is looked up by its key, not by reading every event.
    return this.#query<{ id: string; source: string }>(...deliveredAsQuery(deliveryId));
  }

  async reusedAs(deliveryId: string): Promise<{ id: string; source: string }[]> {
    return this.#query<{ id: string; source: string }>(...reusedAsQuery(deliveryId, "events"));
  }

  async droppedReusedAs(deliveryId: string): Promise<{ id: string; source: string }[]> {
    return this.#query<{ id: string; source: string }>(...reusedAsQuery(deliveryId, "dropped_deliveries"));
  }

  async droppedAs(deliveryId: string): Promise<{ id: string; source: string; digest?: string }[]> {
    const rows = await this.#query<{ id: string; source: string; digest: Buffer | null }>(
      "SELECT id, source, digest FROM dropped_deliveries WHERE source IN (SELECT source FROM counters) AND dedupe_id = $1 ORDER BY dropped_at, id",
      [deliveryId],
    );
    return rows.map(({ id, source, digest }) => ({ id, source, ...droppedDigest(digest) }));
  }

  async droppedEvents(ids: string[]): Promise<{ id: string; droppedAt: string }[]> {
    const rows = await this.#query<{ id: string; dropped_at: string }>(...droppedEventsQuery(ids));
    return rows.map((row) => ({ id: row.id, droppedAt: iso(Number(row.dropped_at)) as string }));
  }

  async oldestDroppedId(): Promise<string | undefined> {
    const [row] = await this.#query<{ id: string | null }>("SELECT min(id) AS id FROM dropped_deliveries");
    return row?.id ?? undefined;
  }

  async droppedRemembered(after?: string): Promise<number> {
    const [row] =
      after === undefined
        ? await this.#query<{ n: string }>("SELECT count(*) AS n FROM dropped_deliveries")
        : await this.#query<{ n: string }>("SELECT count(*) AS n FROM dropped_deliveries WHERE id > $1", [after]);
    return Number(row?.n ?? 0);
  }

  async droppedPayment(paymentId: string): Promise<DroppedPayment[]> {
    const events = await this.#query<{ id: string; source: string; dedupeId: string }>(
      ...droppedPaymentQuery(paymentId, otherSchemeSources(this.#sources ?? [])),
    );
    return markUnconfigured(events, this.#sources);
  }

  async paymentEvents(paymentId: string): Promise<{ id: string; source: string; dedupeId: string }[]> {
    return this.#query<{ id: string; source: string; dedupeId: string }>(...paymentQuery(paymentId));
  }

  async recentIds(prefix: string, limit: number): Promise<string[]> {
    return (
      await this.#query<{ id: string }>("SELECT id FROM events WHERE starts_with(id, $1) ORDER BY seq DESC LIMIT $2", [
        prefix,
        limit,
      ])
    ).map((r) => r.id);
  }

  async typesLike(filter: EventFilter, after: number, limit: number): Promise<string[]> {
    const rows = await this.#query<{ type: string }>(...typesQuery(filter, after, limit));
    return rows.map((row) => row.type);
  }

  async ack(ids: string[], now = clock.now()): Promise<Acked> {
    const wanted = [...new Set(ids)];
    // One statement: a row another caller acknowledges first is waited for, then seen as
    // acknowledged, with its time as that caller committed it (only a locked row is read as it is
    // now, the rest of the statement as it began). Rows are locked in sequence order, as retention
    // deletes them, so the two never wait on each other crosswise. The other replicas' subscribers
    // are told in the same commit, ACKS_TOLD ids a notification: never an acknowledgement without its notice.
    const rows = await this.#query<{ id: string; acked: boolean; known: boolean; acked_at: number | null }>(
      `WITH locked AS (SELECT seq, id, acked_at FROM events WHERE id = ANY($1) ORDER BY seq FOR UPDATE),
       done AS (UPDATE events SET acked_at = $2 WHERE seq IN (SELECT seq FROM locked WHERE acked_at IS NULL) RETURNING id, seq),
       told AS (SELECT pg_notify($3, $4 || string_agg(id, ' ' ORDER BY seq)) FROM
         (SELECT id, seq, (row_number() OVER (ORDER BY seq) - 1) / ${ACKS_TOLD} AS part FROM done) d GROUP BY part)
       SELECT w.id, w.id IN (SELECT id FROM done) AS acked, l.id IS NOT NULL AS known, l.acked_at
       FROM unnest($1::text[]) AS w (id) LEFT JOIN locked l ON l.id = w.id CROSS JOIN (SELECT count(*) FROM told) AS t`,
      [wanted, now, this.#channel, `${ACKED}${this.#me} `],
    );
    const outcome: Acked = { acked: [], already: [], unknown: [] };
    for (const row of rows) {
      if (row.acked) outcome.acked.push(row.id);
      else if (row.known) outcome.already.push({ id: row.id, ackedAt: iso(row.acked_at) as string });
      else outcome.unknown.push(row.id);
    }
    if (outcome.acked.length > 0) this.#ackListeners.tell(outcome.acked);
    return outcome;
  }

  /** Calls `listener` with the ids acknowledged, by this replica at once, by others as they notify. */
  onAck(listener: (ids: string[]) => void): () => void {
    return this.#ackListeners.add(listener);
  }

  /** Calls `listener` with what retention left as it drops events, whichever replica ran it, as the replicas notify. */
  onGone(listener: (gone: Gone) => void): () => void {
    return this.#goneListeners.add(listener);
  }

  async latestSeq(): Promise<number> {
    const [row] = await this.#query<{ seq: number }>(LATEST_SEQ);
    return (row as { seq: number }).seq;
  }

  async droppedThrough(): Promise<number> {
    const [row] = await this.#query<{ dropped_through: number }>("SELECT dropped_through FROM totals");
    return (row as { dropped_through: number }).dropped_through;
  }

  async stats(): Promise<StoreStats> {
    const [row] = await this.#query<TotalsRow>(STATS_SQL);
    return toStats(row as TotalsRow);
  }

  async counters(): Promise<Counters> {
    return toCounters(
      await this.#query<{ source: string; outcome: string; n: number }>("SELECT source, outcome, n FROM counters"),
    );
  }

  /** Calls `listener` with every new event, whichever replica committed it: this one at once, others as they notify. */
  subscribe(listener: (event: StoredEvent) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** Retention off any caller's path: a failure is reported, and the next run tries again. */
  #expireUnattended(): void {
    this.#expiring ??= this.expire()
      .catch((err) => warn("event retention failed", err))
      .finally(() => {
        this.#expiring = undefined;
      });
  }

  /**
   * Writes what was added, then ends its connections. A database that does not answer within
   * CLOSE_MS is left: the adds still waiting fail, and close rejects with a LeftUndone that says
   * what may not be stored.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#expiry);
    const bound = AbortSignal.timeout(CLOSE_MS);
    try {
      await untilAborted(this.#finish(), bound);
      return;
    } catch (err) {
      if (!bound.aborted) throw err;
    } finally {
      this.#idleLost.sayLeftOut();
    }
    // What is under way ends when the database answers or the query times out, unheard.
    const unwritten = [...this.#inCommit, ...this.#queue.splice(0)];
    // Statements the pool has under way or waiting for a connection, the commit's aside.
    const pool = this.#pool;
    const others = pool.totalCount - pool.idleCount + pool.waitingCount - (this.#inCommit.length > 0 ? 1 : 0);
    this.#watch.stop();
    this.#listeners.clear();
    const left = new ToolError(
      "the event store's database did not answer before waiter stopped: the delivery may not be stored, and was not answered 2xx",
    );
    for (const { reject } of unwritten) reject(left);
    throw new LeftUndone(unwrittenAtClose(unwritten, others, this.#neverResentBy));
  }

  async #finish(): Promise<void> {
    this.#commitQueue();
    while (this.#committing) await this.#committing;
    await this.#expiring;
    this.#watch.stop();
    this.#listeners.clear();
    await this.#pool.end();
  }
}

/** What a close that stopped waiting for the database left, in a line for whoever runs waiter. */
function unwrittenAtClose(
  unwritten: Pending[],
  others: number,
  neverResentBy: ((scheme: string) => string | undefined) | undefined,
): string {
  const said = [`stopping without the event store's database, which did not answer in ${CLOSE_MS / 1000} s`];
  if (unwritten.length > 0) {
    const shown = unwritten.slice(0, 10).map(({ event }) => `${event.source} ${event.dedupeId}`);
    if (unwritten.length > shown.length) shown.push(`${unwritten.length - shown.length} more`);
    const deliveries = unwritten.length === 1 ? "1 delivery" : `${unwritten.length} deliveries`;
    const notAgain = [...new Set(unwritten.flatMap(({ event }) => neverResentBy?.(event.scheme) ?? []))];
    const but =
      notAgain.length > 0
        ? `, but for ${notAgain.join(" and ")}, which never send one again: look for those in their delivery lists (docs/webhooks.md#after-an-outage)`
        : "";
    said.push(
      `${deliveries} may not be stored (${shown.join(", ")}), and none was answered 2xx, so their senders deliver them again${but}`,
    );
  }
  if (others > 0) {
    said.push(
      `${others === 1 ? "1 other statement was" : `${others} other statements were`} left unfinished (retention, counters, sessions' last use or reads)`,
    );
  }
  said.push("check that the database server answers");
  return said.join("; ");
}
