import { z } from "zod";
import { ConfigError } from "../errors.js";
import { envName, percentDecoded, type Secrets, type Settings, type SettingValues } from "../settings.js";

/** Where the event store lives: the "database" section of the config file. Without a URL, the SQLite file. */
export const databaseSettings = {
  url: {
    env: "WAITER_DATABASE_URL",
    description:
      "A postgres:// URL: the event store on that PostgreSQL server, which several waiter servers can share, instead of the SQLite file in dataDir. TLS as libpq names it, the CA in the URL (?sslmode=verify-full&sslrootcert=/path/ca.pem): PGSSLROOTCERT, PGSSLCERT, PGSSLKEY and PGSERVICE are not read, and PGSSLMODE only turns TLS on (verified) or off, or on unverified (no-verify). Without sslmode or PGSSLMODE, no TLS: the driver does not try it first, as libpq does; but a file for TLS in the URL without an sslmode (sslrootcert) has it require TLS, verified. What the URL leaves out comes from PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD and PGOPTIONS. A connection may take as long as its connect_timeout (seconds, as libpq reads it; an empty one is refused, as libpq refuses it), else PGCONNECT_TIMEOUT, says: 5 s without either, or where either is 0. A Unix socket's directory goes in the query instead of a host (postgres://waiter@/waiter?host=/var/run/postgresql). A password may be in the environment's URL, never in the config file's, its reserved characters percent-encoded (# as %23, / as %2F, ? as %3F, @ as %40, % as %25), as must be a # or a % anywhere.",
    schema: z
      .string()
      .superRefine((value, ctx) => {
        const problem = postgresUrlProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
  },
  passwordEnv: {
    env: "WAITER_DATABASE_PASSWORD_ENV",
    description:
      "The environment variable that holds the database password, when it is not PGPASSWORD (which is read too) or in WAITER_DATABASE_URL. Without a WAITER_DATABASE_URL, it is not read, as the start's log warns.",
    schema: envName.optional(),
  },
} satisfies Settings;

/**
 * Why `value` is no postgres:// URL the driver reads as written, if it is not; neither the URL nor
 * the password is repeated. A #, / or ? written as is in the password ends it there: the URL then
 * does not parse, or parses without its password, the user and the password's start taken for the
 * host and port, their rest for the path, the query or a fragment. A fragment the driver drops,
 * and with it what a # in a value (?password=pa#ss) was to keep. A lone % (one that begins no
 * %XX) makes the driver (pg-connection-string) run the whole URL through encodeURI, which encodes
 * every %XX but those of two decimal digits again: a password read from passwordEnv, which goes
 * in the query encoded, would then reach the server still encoded.
 */
function postgresUrlProblem(value: string): string | undefined {
  // No user or query in the example: a message hides anything shaped like a credential.
  const notPostgres = "must be a postgres:// URL, such as postgres://db.internal:5432/waiter";
  if (/^\s*[a-z_]+\s*=/i.test(value)) {
    return "must be a postgres:// URL, not libpq's keyword=value form (host=… dbname=…), which waiter's PostgreSQL driver does not read: write it as postgres://host:port/dbname, the user and an @ before the host, other keywords in the query (?sslmode=verify-full)";
  }
  if (!/^postgres(ql)?:\/\//i.test(value)) return notPostgres;
  const url = postgresUrl(value);
  if (passwordCut(value, url)) {
    return "must be a postgres:// URL, and a #, / or ? in its password ends the password there: percent-encode the password's reserved characters (# as %23, / as %2F, ? as %3F, @ as %40, % as %25), or leave the password out of the URL and set it in PGPASSWORD";
  }
  if (hostList(value)) {
    return "must name one database server: libpq tries a list of hosts in turn (with target_session_attrs, until one takes writes), the driver does not and would look the whole list up as one name; name the primary server, or an address that follows it across a failover (a virtual IP, a DNS name, a proxy such as HAProxy)";
  }
  if (!url) {
    // A port the URL parser refuses (past 65535, or no number) is said as the port's, not shown: it may
    // be a password written without its user's @ (postgres://waiter:20240917/db).
    const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(hostAndPort(value))?.[1];
    if (port === undefined || portNumber(port) !== undefined) return notPostgres;
    return "must give port as a whole number from 1 to 65535, as libpq reads it (port=5432)";
  }
  if (value.includes("#")) {
    return "must be a postgres:// URL without a fragment: the driver drops a # and all that follows it, so percent-encode a # that belongs to the database's name or to a query's value (?password=…) as %23";
  }
  if (/%(?![0-9a-f]{2})/i.test(value)) {
    return "must be a postgres:// URL in which every % begins a percent-encoded character (such as %2F): given a lone %, the driver encodes the whole URL again, which changes its password and every character encoded in it; write a % that belongs to a value as %25";
  }
  // The driver takes an empty ?port= as none, and the URL's own port then.
  const port = url.searchParams.get("port") || url.port;
  if (port && portNumber(port) === undefined) {
    return `must give port as a whole number from 1 to 65535, as libpq reads it (port=5432), not ${port}`;
  }
  const timeout = url.searchParams.get("connect_timeout");
  // libpq takes an empty value as given, not as unset: it refuses it, PGCONNECT_TIMEOUT or not.
  if (timeout !== null && /^[ \t\n\v\f\r]*$/.test(timeout)) {
    return "must give connect_timeout a whole number of seconds, as libpq reads it (connect_timeout=15), or leave it out: libpq refuses an empty one rather than take PGCONNECT_TIMEOUT";
  }
  if (timeout !== null && wholeSeconds(timeout) === undefined) {
    return "must give connect_timeout as a whole number of seconds, as libpq reads it (connect_timeout=15)";
  }
  const sslmode = url.searchParams.get("sslmode");
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
    return `must give sslmode as one of ${SSL_MODES_NAMED}, not ${sslmode || "empty"}`;
  }
  const binding = url.searchParams.get("channel_binding");
  if (binding !== null && !CHANNEL_BINDINGS.includes(binding)) {
    return `must give channel_binding as one of ${CHANNEL_BINDINGS_NAMED}, not ${binding || "empty"}`;
  }
  // libpq reads the service's settings from pg_service.conf; the driver takes none of them.
  const service = url.searchParams.get("service");
  if (service !== null) {
    return `must not name a service (service=${service}): waiter's PostgreSQL driver does not read it, nor pg_service.conf, and would connect without what the service says; write the service's host, port, database and user into the URL`;
  }
  // libpq (16 and later) takes "system" for the system's CAs; the driver opens a file of that name.
  if (url.searchParams.get("sslrootcert") === "system") {
    return "must not name sslrootcert=system, libpq's word for the CAs the system trusts: the driver reads it as the name of a CA file, so leave sslrootcert out, and sslmode=verify-full checks the server's certificate against the CAs Node.js trusts (NODE_EXTRA_CA_CERTS adds one)";
  }
  return undefined;
}

/**
 * Whether `value` has a user with a password (between // and the first @ after it, a :) that a #,
 * / or ? cut: the driver's parse, `url`, fails, or has no password, the @ then being in its path,
 * a query's name or the fragment rather than in a query's value (?user=waiter@myserver).
 */
function passwordCut(value: string, url: URL | undefined): boolean {
  const rest = value.slice(value.indexOf("//") + 2);
  const at = rest.indexOf("@");
  const userInfo = at < 0 ? "" : rest.slice(0, at);
  if (!/:./.test(userInfo)) return false;
  // Unparsable, it is the password's doing only where the URL parses once the password, up to one
  // of its @, is taken out: a port that is no number is not.
  if (!url) {
    return [...rest.matchAll(/@/g)].some(
      ({ index }) => postgresUrl(`postgres://u:p${rest.slice(index)}`) !== undefined,
    );
  }
  if (url.password) {
    // An @ in the password before a #, / or ? the parser ended the host at: it took what came
    // before that @ for the user and password, the password's rest for the host (which a failed
    // connection names), and the real host and database follow an @ after it, where no query's
    // value (?user=waiter@myserver) or database's name (/my@db) holds it.
    const afterHost = rest.slice(rest.search(/[/?#]|$/));
    const tail = afterHost.indexOf("@");
    const before = afterHost.slice(0, tail);
    const query = /\?([^#]*)$/.exec(before)?.[1];
    const inQueryValue = query?.split("&").at(-1)?.includes("=") ?? false;
    return tail >= 0 && !inQueryValue && (/[?#]/.test(before) || /[/:]/.test(afterHost.slice(tail + 1)));
  }
  const query = /^[^#?]*\?([^#]*)$/.exec(userInfo)?.[1];
  return query === undefined || !query.split("&").at(-1)?.includes("=");
}

/**
 * Whether `value` names several hosts as libpq takes them (postgres://db1:5432,db2:5432/waiter, or
 * ?host=db1,db2): after the user, or in the query. The URL class refuses the first with ports, and
 * the driver looks up "db1,db2" as one name.
 */
function hostList(value: string): boolean {
  const query = /\?([^#]*)/.exec(value)?.[1] ?? "";
  return hostAndPort(value).includes(",") || /,/.test(new URLSearchParams(query).get("host") ?? "");
}

/** What `value` names after its user, before its path: the host (or hosts) and the port. */
function hostAndPort(value: string): string {
  const authority = /^[^:]*:\/\/([^/?#]*)/.exec(value)?.[1] ?? "";
  return authority.slice(authority.lastIndexOf("@") + 1);
}

/** How long a connection attempt may take when neither the URL nor PGCONNECT_TIMEOUT says. */
export const CONNECT_MS = 5_000;

/** How long a connection attempt may take, and where that was set, as a message names it. */
export interface ConnectTimeout {
  ms: number;
  from: string;
}

/**
 * `text` as libpq reads a number of seconds, or undefined where it refuses it: an integer that fits
 * a C int, C's blanks (space, tab, newline, vertical tab, form feed, return) around it allowed.
 */
function wholeSeconds(text: string): number | undefined {
  if (!/^[ \t\n\v\f\r]*[-+]?\d+[ \t\n\v\f\r]*$/.test(text)) return undefined;
  const seconds = Number.parseInt(text.trim(), 10);
  return seconds >= -(2 ** 31) && seconds <= 2 ** 31 - 1 ? seconds : undefined;
}

/** `text` as libpq reads a port: a whole number from 1 to 65535, C's blanks around it allowed. */
function portNumber(text: string): number | undefined {
  if (!/^[ \t\n\v\f\r]*[-+]?\d+[ \t\n\v\f\r]*$/.test(text)) return undefined;
  const port = Number.parseInt(text.trim(), 10);
  return port >= 1 && port <= 65_535 ? port : undefined;
}

/**
 * Throws for a PGPORT the driver reads (the URL naming no port) that is no port, as libpq refuses
 * it: the driver passes it on to a connection that never ends, and waiter would exit without a
 * word. Empty, libpq and the driver take 5432. The URL's port is checked with the setting.
 */
export function checkedPort(url: string, env: NodeJS.ProcessEnv = process.env): void {
  const parsed = parsedUrl(url);
  if (parsed.searchParams.get("port") || parsed.port || !env.PGPORT) return;
  if (portNumber(env.PGPORT) === undefined) {
    throw new Error(
      `PGPORT must be a whole number from 1 to 65535, as libpq reads it (such as 5432), not ${env.PGPORT}`,
    );
  }
}

/**
 * How long a connection attempt may take: libpq's connect_timeout, from the URL, else from
 * PGCONNECT_TIMEOUT, in seconds, 2 at least (as libpq takes 1); else CONNECT_MS. The driver reads
 * neither for its own connections. 0 or less, which libpq takes as no limit, leaves CONNECT_MS: a
 * server that takes the connection and never answers (frozen, or a firewall that drops its
 * packets) would hold a start, and each delivery and call that needs a connection, for good.
 * Throws for a PGCONNECT_TIMEOUT or a connect_timeout in the URL (an empty one too, of either) that
 * is no number of seconds, as libpq fails then too. `urlFrom`: where the URL was given, as a message
 * names it (WAITER_DATABASE_URL, or database.url in the config file).
 */
export function connectTimeout(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  urlFrom: string = databaseSettings.url.env,
): ConnectTimeout {
  const inUrl = parsedUrl(url).searchParams.get("connect_timeout");
  // An empty one in the URL is no number to libpq, which takes it as given rather than read
  // PGCONNECT_TIMEOUT; an empty PGCONNECT_TIMEOUT is set to libpq too, and refused as well.
  const [text, name] =
    inUrl !== null ? [inUrl, `connect_timeout in ${urlFrom}`] : [env.PGCONNECT_TIMEOUT, "PGCONNECT_TIMEOUT"];
  if (text === undefined) {
    return {
      ms: CONNECT_MS,
      from: `waiter's default; connect_timeout in ${urlFrom} or PGCONNECT_TIMEOUT sets another`,
    };
  }
  const seconds = wholeSeconds(text);
  if (seconds === undefined) {
    const given = text === "" ? "empty" : text.trim() ? text : "blank";
    throw new Error(`${name} must be a whole number of seconds, as libpq reads it (such as 15), not ${given}`);
  }
  if (seconds <= 0) {
    const setting =
      inUrl !== null ? `connect_timeout=${text.trim()} in ${urlFrom}` : `PGCONNECT_TIMEOUT=${text.trim()}`;
    return { ms: CONNECT_MS, from: `waiter's default, which ${setting}, no limit to libpq, does not lift` };
  }
  // A timer longer than Node's longest (some 24 days) would fire at once.
  return { ms: Math.min(Math.max(seconds, 2) * 1_000, 2 ** 31 - 1), from: name };
}

/** The host a URL naming none after its user is parsed with, as the driver parses it with one of its own. */
const NO_HOST = "no-host.invalid";

/**
 * `text` parsed as the driver (pg-connection-string) parses it: as a URL, or, where that fails, with
 * NO_HOST after a user that names no host (postgres://waiter@/waiter?host=/var/run/postgresql, a
 * Unix socket's), which the URL class refuses. Undefined for what neither parses.
 */
function postgresUrl(text: string): URL | undefined {
  if (URL.canParse(text)) return new URL(text);
  const hosted = text.replace("@/", `@${NO_HOST}/`);
  return URL.canParse(hosted) ? new URL(hosted) : undefined;
}

/** `text`, a URL the setting has taken, parsed as the driver parses it (`postgresUrl`); throws for one it has not. */
function parsedUrl(text: string): URL {
  return postgresUrl(text) ?? new URL(text);
}

/** What a URL's query says of TLS, to libpq or to the driver. */
const TLS_PARAMS = ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl", "uselibpqcompat", "sslnegotiation"];

/** The files a URL's query names for TLS: the CA, a client certificate and its key. */
const TLS_FILES = ["sslrootcert", "sslcert", "sslkey"];

/**
 * Whether the URL turns TLS off (sslmode=disable): libpq then reads none of its files for TLS,
 * where the driver reads each, and fails the connection on one that is not there.
 */
function tlsOff(parsed: URL): boolean {
  return parsed.searchParams.get("sslmode") === "disable";
}

/**
 * Whether the driver connects through a Unix socket: the host it takes (?host=, the URL's own,
 * else PGHOST) is a directory. The server offers no TLS there, and libpq asks none whatever the
 * sslmode (PGSSLMODE=require set for every program on the machine, say), where the driver would
 * ask and fail.
 */
function throughSocket(parsed: URL, env: NodeJS.ProcessEnv): boolean {
  const host = parsed.searchParams.get("host") || (parsed.hostname === NO_HOST ? "" : percentDecoded(parsed.hostname));
  return (host || env.PGHOST || "").startsWith("/");
}

/**
 * `url` as the driver is given it, with `password`, if any, in it: the driver lets the URL's fields
 * beat its config's, an absent password included. It goes in the query, which the driver reads
 * before the password after the user, and which a URL naming no host has too. Through a Unix
 * socket, without TLS, as libpq connects there: sslmode=disable, which PGSSLMODE does not beat.
 * Without TLS, none of the URL's files for TLS, which the driver would read.
 */
export function connectionString(
  url: string,
  password: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const parsed = parsedUrl(url);
  if (password !== undefined) parsed.searchParams.set("password", password);
  if (throughSocket(parsed, env)) {
    for (const param of TLS_PARAMS) parsed.searchParams.delete(param);
    parsed.searchParams.set("sslmode", "disable");
  } else if (tlsOff(parsed)) {
    for (const param of TLS_FILES) parsed.searchParams.delete(param);
  }
  return parsed.href.replace(`@${NO_HOST}/`, "@/");
}

/**
 * Where the database's address comes from, as a start's words name what to check: the host's
 * (`name`) and the host's and port's (`address`): the URL where it names them, else PGHOST and
 * PGPORT where set, which the driver reads then, else the URL, where they are to be written.
 */
export function addressSettings(
  url: string,
  urlFrom: string,
  env: NodeJS.ProcessEnv = process.env,
): { name: string; address: string } {
  const parsed = parsedUrl(url);
  const hostInUrl = Boolean(parsed.searchParams.get("host") || (parsed.hostname && parsed.hostname !== NO_HOST));
  const name = hostInUrl || !env.PGHOST ? urlFrom : "PGHOST";
  const portInUrl = Boolean(parsed.searchParams.get("port") || parsed.port);
  const port = portInUrl ? urlFrom : env.PGPORT || name === "PGHOST" ? "PGPORT" : urlFrom;
  return { name, address: name === port ? name : `${name} and ${port}` };
}

/**
 * What to check when the server knows no such database (3D000): the name the URL gives, else
 * PGDATABASE, which the driver reads then, else the user's name, which it takes without either;
 * a name given may be right and the database not yet created, which waiter does not do.
 */
export function databaseNameCheck(url: string, urlFrom: string, env: NodeJS.ProcessEnv = process.env): string {
  const { pathname } = parsedUrl(url);
  const create = "or create the database (CREATE DATABASE): waiter sets up its tables, not the database";
  if (pathname.length > 1) return `check the database's name in ${urlFrom}, ${create}`;
  if (env.PGDATABASE) return `check PGDATABASE, which names the database where ${urlFrom} does not, ${create}`;
  return `name the database in ${urlFrom} (postgres://…/waiter), which names none, nor does PGDATABASE: the driver took the user's name, as libpq does`;
}

/**
 * The files a URL names for TLS (the CA, a client certificate and its key), as the driver reads
 * them: its query's values; none through a Unix socket, where neither it nor libpq uses TLS, nor
 * with sslmode=disable.
 */
export function urlFiles(url: string, env: NodeJS.ProcessEnv = process.env): { param: string; path: string }[] {
  const parsed = parsedUrl(url);
  if (throughSocket(parsed, env) || tlsOff(parsed)) return [];
  const { searchParams } = parsed;
  return TLS_FILES.flatMap((param) => {
    const path = searchParams.get(param);
    return path ? [{ param, path }] : [];
  });
}

/**
 * The search_path the connection's options give (the URL's, else PGOPTIONS, as the driver takes
 * them), read as PostgreSQL reads them: arguments split at blanks not escaped by a backslash,
 * each setting `-c name=value` or `--name=value`, the last one winning. `from` names where, as a
 * message says it. Undefined where they give none.
 */
export function optionsSearchPath(
  url: string,
  urlFrom: string,
  env: NodeJS.ProcessEnv = process.env,
): { path: string; from: string } | undefined {
  const inUrl = parsedUrl(url).searchParams.get("options");
  const options = inUrl || env.PGOPTIONS;
  if (!options) return undefined;
  const args = (options.match(/(?:\\.|[^\s\\])+/g) ?? []).map((arg) => arg.replace(/\\(.)/g, "$1"));
  let path: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const setting = arg === "-c" ? args[++i] : /^(?:-c|--)(.+)$/.exec(arg)?.[1];
    const [name, value] = [setting?.split("=")[0], setting?.slice(setting.indexOf("=") + 1)];
    if (setting?.includes("=") && name?.replaceAll("-", "_").toLowerCase() === "search_path") path = value;
  }
  return path === undefined ? undefined : { path, from: `the options in ${inUrl ? urlFrom : "PGOPTIONS"}` };
}

/**
 * What a start says of libpq's variables the driver does not read, where waiter uses a database
 * URL that does not name the same: each is ignored, where psql, pg_dump and the like take it.
 * `urlFrom`: where the URL was given, as the lines name it.
 */
export function unreadVariables(
  env: NodeJS.ProcessEnv,
  url: string | undefined,
  urlFrom: string = databaseSettings.url.env,
): string[] {
  if (url === undefined) return [];
  const { searchParams } = parsedUrl(url);
  const lines = [
    ["PGSSLROOTCERT", "sslrootcert"],
    ["PGSSLCERT", "sslcert"],
    ["PGSSLKEY", "sslkey"],
  ]
    .filter(([variable, param]) => env[variable as string] && !searchParams.get(param as string))
    .map(
      ([variable, param]) =>
        `${variable} is set, but waiter's PostgreSQL driver does not read it: name the file in ${urlFrom} instead (?${param}=…)`,
    );
  if (env.PGSERVICE) {
    lines.push(
      `PGSERVICE is set, but waiter's PostgreSQL driver does not read it, nor pg_service.conf: write the service's host, port, database and user into ${urlFrom}`,
    );
  }
  return lines;
}

/**
 * The sslmodes libpq knows, and the driver's no-verify. libpq refuses any other (a capital, a
 * typo, an empty one); the driver takes one in the URL as verify-full, and one in PGSSLMODE as no
 * TLS at all, so a PGSSLMODE=requir meant to encrypt would connect in the clear.
 */
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"];
const SSL_MODES_NAMED =
  "disable, allow, prefer, require, verify-ca or verify-full, as libpq names them, or the driver's no-verify";

/**
 * The sslmode the driver connects with: the URL's, else PGSSLMODE, which it reads only then (and
 * whether it came from there); and whether it takes the URL's as libpq does (uselibpqcompat=true),
 * checking a certificate no more. A URL that names a file for TLS without an sslmode has the
 * driver require TLS, checked as verify-full, PGSSLMODE unread, where libpq's default (prefer)
 * goes on without it: `file` names the first such file's parameter. Throws for a PGSSLMODE it
 * reads that libpq would refuse; the URL's is checked with the setting.
 */
export function urlSslmode(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): { mode: string | undefined; libpq: boolean; fromEnv?: boolean; file?: string } {
  const { searchParams } = parsedUrl(url);
  const mode = searchParams.get("sslmode");
  if (mode !== null) return { mode, libpq: searchParams.get("uselibpqcompat") === "true" };
  const file = urlFiles(url, env)[0]?.param;
  if (file) return { mode: undefined, libpq: false, file };
  if (searchParams.has("ssl") || env.PGSSLMODE === undefined) return { mode: undefined, libpq: false };
  if (!SSL_MODES.includes(env.PGSSLMODE)) {
    throw new Error(`PGSSLMODE must be one of ${SSL_MODES_NAMED}, not ${env.PGSSLMODE || "empty"}`);
  }
  return { mode: env.PGSSLMODE, libpq: false, fromEnv: true };
}

/** The channel_binding values libpq knows; it refuses any other. The driver reads none. */
const CHANNEL_BINDINGS = ["disable", "prefer", "require"];
const CHANNEL_BINDINGS_NAMED = "disable, prefer or require, as libpq names them";

/**
 * Whether the login is to be bound to the TLS connection (SCRAM-SHA-256-PLUS), as libpq's
 * channel_binding says: the URL's, else PGCHANNELBINDING, as libpq reads them, and where it was
 * set, as a message names it. Without either, none, as the driver has it (libpq prefers it).
 * Throws for a PGCHANNELBINDING libpq would refuse; the URL's is checked with the setting.
 */
export function urlChannelBinding(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  urlFrom: string = databaseSettings.url.env,
): { mode: string; from: string } {
  const inUrl = parsedUrl(url).searchParams.get("channel_binding");
  if (inUrl !== null) return { mode: inUrl, from: `channel_binding=${inUrl} in ${urlFrom}` };
  const fromEnv = env.PGCHANNELBINDING;
  if (fromEnv === undefined) return { mode: "disable", from: "waiter's default" };
  if (!CHANNEL_BINDINGS.includes(fromEnv)) {
    throw new Error(`PGCHANNELBINDING must be one of ${CHANNEL_BINDINGS_NAMED}, not ${fromEnv || "empty"}`);
  }
  return { mode: fromEnv, from: `PGCHANNELBINDING=${fromEnv}` };
}

/** Where the driver finds a password that neither the URL, PGPASSWORD nor passwordEnv gives, as libpq does. */
export const PASSWORD_FILE = "the password file (the one PGPASSFILE names, else ~/.pgpass)";

export interface DatabaseConfig {
  url?: string;
  /** Where the URL was given, as a message names it: WAITER_DATABASE_URL, or database.url in the config file. */
  urlFrom?: string;
  password?: string;
  /** Where the password comes from, as a message may name it (never the password itself). */
  passwordFrom?: string;
}

/**
 * What to warn of where passwordEnv is set without a URL: waiter then keeps the events in SQLite
 * and reads no password, where the one who set it meant a PostgreSQL server (each replica would
 * keep a store of its own).
 */
export function passwordWithoutDatabase(
  values: SettingValues<typeof databaseSettings>,
  origin: (setting: keyof typeof databaseSettings) => string,
): string[] {
  if (values.passwordEnv === undefined || values.url !== undefined) return [];
  return [
    `${origin("passwordEnv")} is set, but no database is: without ${origin("url")} (database.url), the events are kept in the SQLite file in dataDir, and the password is not read; set the PostgreSQL server's URL too`,
  ];
}

/** Reads the password from the variable passwordEnv names; refuses a password written into the config file. */
export function resolveDatabase(
  values: SettingValues<typeof databaseSettings>,
  secrets: Secrets,
  origin: (setting: keyof typeof databaseSettings) => string,
): DatabaseConfig {
  const { url, passwordEnv } = values;
  if (url === undefined) return {};
  // The driver takes a password from the query too (?password=…), before the one after the user.
  const parsed = parsedUrl(url);
  const inUrl = Boolean(parsed.password || parsed.searchParams.has("password"));
  if (inUrl && origin("url") !== databaseSettings.url.env) {
    throw new ConfigError(
      `invalid setting ${origin("url")}: it holds a password, which must not be written in a file; put it in PGPASSWORD or in the variable database.passwordEnv names`,
    );
  }
  const urlPassword = parsed.searchParams.get("password") || percentDecoded(parsed.password);
  if (urlPassword) {
    secrets.record({ secret: urlPassword, owner: origin("url"), where: `${origin("url")} (the password in it)` });
  }
  if (passwordEnv === undefined) {
    // The driver reads PGPASSWORD itself; it is checked as every secret waiter reads is. Without
    // it, the driver reads libpq's password file.
    if (inUrl) return { url, urlFrom: origin("url"), passwordFrom: origin("url") };
    return { url, urlFrom: origin("url"), passwordFrom: secrets.optional("PGPASSWORD") ? "PGPASSWORD" : PASSWORD_FILE };
  }
  const password = secrets.required(passwordEnv, {
    setting: origin("passwordEnv"),
    owner: origin("passwordEnv"),
    holds: "the database password",
    example: "WAITER_DB_PASSWORD",
  });
  return {
    url,
    urlFrom: origin("url"),
    password,
    passwordFrom: `${passwordEnv} (the variable ${origin("passwordEnv")} names)`,
  };
}

/**
 * The database as a log line may show it: host (or a Unix socket's directory), port and name,
 * never a user's password. The driver takes ?host= and ?port= before the URL's own, and where
 * neither names a host, PGHOST, else localhost over TCP (not libpq's Unix socket); a port, PGPORT.
 */
export function databaseLabel(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const { hostname, port, pathname, searchParams } = parsedUrl(url);
  const host = searchParams.get("host") || (hostname === NO_HOST ? "" : percentDecoded(hostname));
  const shownPort = searchParams.get("port") || port || env.PGPORT;
  return `PostgreSQL ${host || env.PGHOST || "localhost"}${shownPort ? `:${shownPort}` : ""}${pathname.length > 1 ? pathname : ""}`;
}
