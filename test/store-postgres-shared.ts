import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, beforeEach, onTestFinished } from "vitest";
import type { SourceSchemes } from "../src/events/payments.js";
import { migrate } from "../src/events/postgres/schema.js";
import { PostgresEventStore } from "../src/events/postgres/store.js";
import type { Dropped, EventStore, StoredEvent } from "../src/events/store.js";
import { clock, setClock } from "../src/time.js";
import { neverResentBy } from "../src/webhooks/senders.js";
import { erpHeaders } from "./erp.js";
import { type RunningPostgres, type SilentProxy, startPostgres } from "./postgres.js";
import { killStarted } from "./spawn.js";
import { erasingSql, LOOSE } from "./store-contract.js";

export let server: RunningPostgres;
/** The tests' own connection, as the server's superuser; the pool connects again after an outage. */
export let admin: pg.Pool;
export const stores: EventStore[] = [];
export const proxies: SilentProxy[] = [];
let schemas = 0;

/** `prefix` and a number no other name of the file's tests has: a schema's, a role's, a database's. */
export function uniqueName(prefix: string): string {
  return `${prefix}${++schemas}`;
}

/** A URL whose connections work in a schema of their own: every test starts from an empty store. */
export async function freshSchema(prefix = "t"): Promise<string> {
  const name = uniqueName(prefix);
  await admin.query(`CREATE SCHEMA ${name}`);
  return `${server.url}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
}

/** The database waiter's tables were set up in once for this server, which setUpDatabase copies. */
let setUp: Promise<void> | undefined;

/**
 * A URL of a database of its own whose tables waiter has set up, as a store's first start leaves
 * them: a copy of one set up once per server, which spares each test the upgrade's every step
 * (a quarter of a second). Tests of setting up or upgrading the tables start from freshSchema.
 */
export async function setUpDatabase(): Promise<string> {
  setUp ??= (async () => {
    await admin.query("CREATE DATABASE waiter_set_up");
    const db = new pg.Client(databaseUrl("waiter_set_up"));
    await db.connect();
    try {
      await migrate(db);
    } finally {
      await db.end();
    }
  })();
  await setUp;
  const name = uniqueName("db");
  await admin.query(`CREATE DATABASE ${name} TEMPLATE waiter_set_up`);
  return databaseUrl(name);
}

/** The server's URL, naming the database `name`. */
function databaseUrl(name: string): string {
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.href;
}

/**
 * A URL whose user (a new one) owns a schema of its own, which its role's search_path names, and
 * has `settings` on its role, as a DBA sets them (ALTER ROLE … SET statement_timeout = 500).
 */
export async function roleWith(...settings: string[]): Promise<string> {
  const name = uniqueName("dba");
  await admin.query(`CREATE ROLE ${name} LOGIN`);
  await admin.query(`CREATE SCHEMA ${name} AUTHORIZATION ${name}`);
  await admin.query(`ALTER ROLE ${name} SET search_path = ${name}`);
  for (const setting of settings) await admin.query(`ALTER ROLE ${name} SET ${setting}`);
  const url = new URL(server.url);
  url.username = name;
  return url.href;
}

/** Ends every store's listening connection, as a network blip would. */
export async function cutListening(): Promise<void> {
  await admin.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'waiter' AND query LIKE 'LISTEN%'",
  );
}

/**
 * How many of waiter's connections wait for a lock, as `client` sees. pg_stat_activity lists the
 * sessions a transaction first read it with until the transaction ends: polled from the one that
 * holds the lock, it would never count a connection the pool opened after the first poll.
 */
export async function waitingOnLocks(client: pg.Client): Promise<number> {
  await client.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'waiter' AND wait_event_type = 'Lock'",
  );
  return rows[0]?.n ?? 0;
}

export async function open(
  url: string,
  retention = LOOSE,
  onDropped?: (dropped: Dropped) => void,
  sources?: SourceSchemes,
): Promise<PostgresEventStore> {
  // As waiter opens it: told which senders never send a delivery again.
  const store = await PostgresEventStore.open({
    url,
    retention,
    onDropped,
    connectMs: 2_000,
    neverResentBy,
    sources,
  });
  stores.push(store);
  return store;
}

/**
 * A session named as a waiter's start is (application_name waiter) that holds waiter's upgrade lock
 * until the test ends; pid is its server process, which waiter's messages name.
 */
export async function upgradeLockHeld(): Promise<{ holder: pg.Client; pid: number }> {
  const holder = new pg.Client({ connectionString: server.url, application_name: "waiter" });
  await holder.connect();
  onTestFinished(() => holder.end());
  const [{ pid }] = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows as [{ pid: number }];
  await holder.query("SELECT pg_advisory_lock($1)", [0x77616974]);
  return { holder, pid };
}

/** A self-signed certificate for localhost that signs none of the test servers' certificates. */
export function otherCa(): string {
  const dir = mkdtempSync(join(tmpdir(), "waiter-ca-"));
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"].concat([
      "-subj",
      "/CN=localhost",
      "-keyout",
      key,
      "-out",
      cert,
    ]),
    { stdio: "ignore" },
  );
  return readFileSync(cert, "utf8");
}

/** `count` events of 2 bytes each ("b1", "b2"...) written straight into the store at `url`, counted in its totals; the connection that wrote them. */
export async function backlog(url: string, count: number): Promise<pg.Client> {
  const db = new pg.Client(url);
  await db.connect();
  onTestFinished(() => db.end());
  await db.query(
    `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
     SELECT 'b' || g, 'shop', 'order.paid', 'none', 'b' || g, $1, '{}', '\\x7b7d', true, 2 FROM generate_series(1, $2::int) g`,
    [clock.now(), count],
  );
  await db.query("UPDATE totals SET events = $1, bytes = $2", [count, 2 * count]);
  return db;
}

/**
 * The code the paragraph of docs/webhooks.md on erasing a customer's events on PostgreSQL gives
 * where SQLite's differs, that begins with `starts`: each form as one line.
 */
export function postgresForm(starts: string): string {
  const docs = readFileSync(new URL("../docs/webhooks.md", import.meta.url), "utf8");
  const section = docs.slice(docs.indexOf("### Erasing a customer's events"));
  const paragraph = section.slice(section.indexOf("On PostgreSQL the same"));
  const said = [...paragraph.slice(0, paragraph.indexOf("\n\n")).matchAll(/`([^`]+)`/g)].map((code) =>
    (code[1] as string).replace(/\s+/g, " "),
  );
  const found = said.find((code) => code.startsWith(starts));
  if (!found) throw new Error(`docs/webhooks.md no longer says what PostgreSQL takes in place of ${starts}…`);
  return found;
}

/**
 * The SQL docs/webhooks.md gives to erase a customer's events on PostgreSQL: its SQLite statements
 * changed as its paragraph on PostgreSQL says, each form the paragraph names in place of SQLite's.
 * A change the statements or the paragraph no longer fit fails here, not with the reader who runs it.
 */
export function erasingSqlOnPostgres(): string {
  const changes: [RegExp, string][] = [
    [/^(?:\..*|PRAGMA .*)(?:\n|$)/gm, ""],
    [/^BEGIN IMMEDIATE;$/gm, `${postgresForm("BEGIN")};`],
    [/^INSERT OR IGNORE (INTO [^;]*);$/gm, `INSERT $1 ${postgresForm("ON CONFLICT")};`],
    [/instr\(lower\(CAST\(body AS TEXT\)\), lower\(('[^']*')\)\) > 0/g, postgresForm("position(")],
    [/CAST\(strftime\('%s', 'now'\) AS INTEGER\) \* 1000/g, postgresForm("(extract(epoch")],
    [/instr\(lower\(detail\), lower\(('[^']*')\)\) > 0/g, postgresForm("strpos(")],
  ];
  return changes.reduce((sql, [sqlite, postgres]) => {
    if (!sqlite.test(sql)) throw new Error(`The erasing SQL of docs/webhooks.md no longer holds ${sqlite}`);
    sqlite.lastIndex = 0;
    return sql.replace(sqlite, postgres);
  }, erasingSql());
}

/**
 * Erases the events whose payload holds `text` as docs/webhooks.md says to on PostgreSQL. The
 * erasure is stamped at the clock's instant, not PostgreSQL's now(): beside drops made at a set
 * clock, the order they are told in would otherwise change with the day the tests run.
 */
export async function erase(url: string, text: string): Promise<void> {
  const now = "(extract(epoch FROM now()) * 1000)::bigint";
  const sql = erasingSqlOnPostgres();
  if (!sql.includes(now)) throw new Error(`The erasing SQL of docs/webhooks.md no longer stamps its time with ${now}`);
  const db = new pg.Client(url);
  await db.connect();
  try {
    await db.query(
      sql.replaceAll(now, `${clock.now()}::bigint`).replaceAll("'jana.novakova@example.cz'", db.escapeLiteral(text)),
    );
  } finally {
    await db.end();
  }
}

/** An ERP delivery to a listener at `base`; resolves to the status it was answered with. */
export async function deliverTo(base: string | undefined, delivery: string): Promise<number> {
  const body = JSON.stringify({ invoice: delivery });
  const posted = await request(`${base}/webhooks/erp`, { method: "POST", body, headers: erpHeaders(body, delivery) });
  await posted.body.dump();
  return posted.statusCode;
}

/** The process warnings said from here to the test's end, as the store says them to the log. */
export function warningsSaid(): string[] {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on("warning", onWarning);
  onTestFinished(() => {
    process.off("warning", onWarning);
  });
  return warnings;
}

/** Resolves with the first event `store` tells its subscribers of that `pick` accepts. */
export function heard(store: EventStore, pick: (e: StoredEvent) => boolean = () => true): Promise<StoredEvent> {
  return new Promise((resolve) => {
    const stop = store.subscribe((e) => {
      if (!pick(e)) return;
      stop();
      resolve(e);
    });
  });
}

/**
 * One PostgreSQL server for the tests of a describe block, with the tests' own connection to it;
 * each test starts on a set clock, and the stores, processes and proxies it started end after it.
 */
export function usePostgres(): void {
  beforeAll(async () => {
    server = await startPostgres();
    setUp = undefined;
    admin = new pg.Pool({ connectionString: server.url, max: 1 });
    admin.on("error", () => {});
  }, 30_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });
  beforeEach(() => setClock("2026-12-31T23:30:00Z"));
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    // What a close says it says as a process warning, which comes on the next tick: heard by the test that closed it.
    await new Promise((resolve) => setImmediate(resolve));
    killStarted();
    for (const proxy of proxies.splice(0)) await proxy.close();
    setClock();
  });
}
