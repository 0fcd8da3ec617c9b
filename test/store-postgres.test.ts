import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { connect as openSocket, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import pg from "pg";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, onTestFinished, test, vi } from "vitest";
import { startServe, startWebhooks } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { LeftUndone, ToolError } from "../src/errors.js";
import { MIGRATIONS, migrate, UPGRADE_LOCK_WAIT_MS } from "../src/events/postgres/schema.js";
import { PostgresEventStore, pageQuery, paymentQuery, typesQuery } from "../src/events/postgres/store.js";
import { ListenWatch } from "../src/events/postgres/watch.js";
import { type Dropped, type EventStore, NewerStore, type StoredEvent, StoreNotWritable } from "../src/events/store.js";
import { Log } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { ERP_SECRET, ERP_SOURCE, erpHeaders } from "./erp.js";
import { freePort } from "./fakes/http.js";
import { connect, startApp } from "./memory.js";
import {
  PSQL,
  poolerProxy,
  postgresAvailable,
  postgresRequired,
  type RunningPostgres,
  type SilentProxy,
  silentProxy,
  startPostgres,
} from "./postgres.js";
import { killStarted, SERVING, startNode } from "./spawn.js";
import { CLI } from "./stdio.js";
import { addMany, event, eventStoreContract, LOOSE, numbersMovedSql, PAGE_FILTERS, stored } from "./store-contract.js";

let server: RunningPostgres;
/** The tests' own connection, as the server's superuser; the pool connects again after an outage. */
let admin: pg.Pool;
const stores: EventStore[] = [];
const proxies: SilentProxy[] = [];
let schemas = 0;

/** A URL whose connections work in a schema of their own: every test starts from an empty store. */
async function freshSchema(prefix = "t"): Promise<string> {
  const name = `${prefix}${++schemas}`;
  await admin.query(`CREATE SCHEMA ${name}`);
  return `${server.url}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
}

/**
 * A URL whose user (a new one) owns a schema of its own, which its role's search_path names, and
 * has `settings` on its role, as a DBA sets them (ALTER ROLE … SET statement_timeout = 500).
 */
async function roleWith(...settings: string[]): Promise<string> {
  const name = `dba${++schemas}`;
  await admin.query(`CREATE ROLE ${name} LOGIN`);
  await admin.query(`CREATE SCHEMA ${name} AUTHORIZATION ${name}`);
  await admin.query(`ALTER ROLE ${name} SET search_path = ${name}`);
  for (const setting of settings) await admin.query(`ALTER ROLE ${name} SET ${setting}`);
  const url = new URL(server.url);
  url.username = name;
  return url.href;
}

/** Ends every store's listening connection, as a network blip would. */
async function cutListening(): Promise<void> {
  await admin.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'waiter' AND query LIKE 'LISTEN%'",
  );
}

/**
 * How many of waiter's connections wait for a lock, as `client` sees. pg_stat_activity lists the
 * sessions a transaction first read it with until the transaction ends: polled from the one that
 * holds the lock, it would never count a connection the pool opened after the first poll.
 */
async function waitingOnLocks(client: pg.Client): Promise<number> {
  await client.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'waiter' AND wait_event_type = 'Lock'",
  );
  return rows[0]?.n ?? 0;
}

async function open(
  url: string,
  retention = LOOSE,
  onDropped?: (dropped: Dropped) => void,
): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open({ url, retention, onDropped, connectMs: 2_000 });
  stores.push(store);
  return store;
}

/** A self-signed certificate for localhost that signs none of the test servers' certificates. */
function otherCa(): string {
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
async function backlog(url: string, count: number): Promise<pg.Client> {
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
 * Erases the events whose payload holds `text` as docs/webhooks.md says to on PostgreSQL: its
 * SQLite statements in one transaction, the events found by position(convert_to(…)), the time in
 * milliseconds from extract(epoch …), the runs also found by their steps with strpos, the steps
 * going with their runs.
 */
async function erase(url: string, text: string): Promise<void> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    await db.query("BEGIN");
    await db.query(
      "CREATE TEMP TABLE erased ON COMMIT DROP AS SELECT id FROM events WHERE position(convert_to($1, 'UTF8') in body) > 0",
      [text],
    );
    await db.query(
      `INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
       SELECT source, dedupe_id, id, (extract(epoch FROM now()) * 1000)::bigint
       FROM events WHERE id IN (SELECT id FROM erased) ON CONFLICT DO NOTHING`,
    );
    await db.query(
      `UPDATE totals SET
         events = events - (SELECT count(*) FROM events WHERE id IN (SELECT id FROM erased)),
         bytes = bytes - (SELECT coalesce(sum(size), 0) FROM events WHERE id IN (SELECT id FROM erased))`,
    );
    await db.query(
      `DELETE FROM automation_runs WHERE event_id IN (SELECT id FROM erased)
         OR id IN (SELECT run_id FROM automation_steps WHERE strpos(detail, $1) > 0)`,
      [text],
    );
    await db.query("DELETE FROM events WHERE id IN (SELECT id FROM erased)");
    await db.query("COMMIT");
  } finally {
    await db.end();
  }
}

/** An ERP delivery to a listener at `base`; resolves to the status it was answered with. */
async function deliverTo(base: string | undefined, delivery: string): Promise<number> {
  const body = JSON.stringify({ invoice: delivery });
  const posted = await request(`${base}/webhooks/erp`, { method: "POST", body, headers: erpHeaders(body, delivery) });
  await posted.body.dump();
  return posted.statusCode;
}

/** The process warnings said from here to the test's end, as the store says them to the log. */
function warningsSaid(): string[] {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on("warning", onWarning);
  onTestFinished(() => {
    process.off("warning", onWarning);
  });
  return warnings;
}

/** Resolves with the first event `store` tells its subscribers of that `pick` accepts. */
function heard(store: EventStore, pick: (e: StoredEvent) => boolean = () => true): Promise<StoredEvent> {
  return new Promise((resolve) => {
    const stop = store.subscribe((e) => {
      if (!pick(e)) return;
      stop();
      resolve(e);
    });
  });
}

describe.runIf(postgresAvailable || postgresRequired)("the event store on PostgreSQL", () => {
  beforeAll(async () => {
    server = await startPostgres();
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
    killStarted();
    for (const proxy of proxies.splice(0)) await proxy.close();
    setClock();
  });

  describe("the event store's contract", () => {
    eventStoreContract(async (retention = LOOSE, onDropped) => {
      const url = await freshSchema();
      const store = await open(url, retention, onDropped);
      return { store, another: () => open(url), erase: (text) => erase(url, text) };
    });
  });

  test("the statement docs/webhooks.md gives to move the event numbers after a restore moves them past those of the events it lost", async () => {
    const url = await freshSchema();
    const store = await open(url);
    // The store as restored: a cursor handed out before the loss, millions of events after the
    // backup (retention dropped them), is past its newest event.
    const kept = await stored(store, event());
    const cursor = kept.seq + 3_000_000;
    expect(numbersMovedSql("psql").join()).toContain("setval");
    const psql = new pg.Client(url);
    await psql.connect();
    for (const statement of numbersMovedSql("psql")) await psql.query(statement);
    await psql.end();
    // Before the next delivery too, the cursor is taken (events_list refuses one ahead of every stored event).
    expect(await store.latestSeq()).toBeGreaterThanOrEqual(cursor);
    const after = await stored(store, event());
    expect((await store.list({}, { after: cursor, limit: 10 })).map((e) => e.id)).toEqual([after.id]);
  });

  test("the statement docs/webhooks.md gives to move the event numbers after a restore moves them on a dump from before waiter kept its newest number", async () => {
    const url = await freshSchema();
    const old = new pg.Client(url);
    await old.connect();
    // Schema 14 had no totals.latest_seq: waiter's upgrade at the next start sets it.
    await migrate(old, 14);
    const { rows } = await old.query<{ seq: string }>(
      `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
       VALUES ('e1', 'shop', 'order.paid', 'none', 'old1', $1, '{}', '\\x7b7d', true, 2) RETURNING seq`,
      [clock.now()],
    );
    await old.query("UPDATE totals SET events = 1, bytes = 2");
    // A cursor handed out before the loss, millions of events after the backup.
    const cursor = Number(rows[0]?.seq) + 3_000_000;
    for (const statement of numbersMovedSql("psql")) {
      await old.query(statement).catch((err: Error) => {
        // As docs/webhooks.md says: the numbers are moved, and the upgrade takes latest_seq from them.
        expect(err.message).toBe('column "latest_seq" of relation "totals" does not exist');
      });
    }
    await old.end();
    const store = await open(url);
    expect(store.upgraded).toEqual({ from: 14, to: MIGRATIONS.length });
    expect(await store.latestSeq()).toBeGreaterThanOrEqual(cursor);
    const after = await stored(store, event());
    expect((await store.list({}, { after: cursor, limit: 10 })).map((e) => e.id)).toEqual([after.id]);
  });

  test("erasing a customer's events as docs/webhooks.md says takes the runs that outlived their event, whose steps hold the person's data", async () => {
    const url = await freshSchema();
    const store = await open(url);
    const email = "jana.novakova@example.cz";
    const dropped = await stored(store, event({ body: Buffer.from(JSON.stringify({ billing: { email } })) }));
    // A failed run whose notice is still owed, and one still running: retention keeps both past their event.
    const failed = (await store.runs.begin("paid", dropped.id, false, clock.now(), "ops")) as number;
    const args = JSON.stringify({ tool: "notify_email", args: { to: email } });
    await store.runs.step(failed, 0, "failed", args, clock.now());
    await store.runs.finish(
      failed,
      "failed",
      clock.now(),
      "step 1 (notify_email): refused",
      `notify_email to ${email}`,
    );
    const running = (await store.runs.begin("shipped", dropped.id, false, clock.now())) as number;
    await store.runs.step(running, 0, "started", args, clock.now());
    const other = (await store.runs.begin("paid", "evt_other", false, clock.now())) as number;
    await store.runs.step(
      other,
      0,
      "started",
      JSON.stringify({ tool: "notify_email", args: { to: "x@example.com" } }),
      clock.now(),
    );
    await store.expire(clock.now() + 31 * 86_400_000);
    expect(await store.get(dropped.id)).toBeUndefined();
    expect(await store.runs.get(failed)).toBeDefined();

    await erase(url, email);

    expect(await store.runs.get(failed)).toBeUndefined();
    expect(await store.runs.get(running)).toBeUndefined();
    expect(await store.runs.get(other)).toBeDefined();
  });

  describe("several replicas, one database", () => {
    test("commits take turns: an add waits while another replica's commit holds the turn", async () => {
      const url = await freshSchema();
      const store = await open(url);
      const holder = new pg.Client(url);
      await holder.connect();
      try {
        await holder.query("BEGIN");
        await holder.query("SELECT 1 FROM totals FOR UPDATE");
        let done = false;
        const adding = store.add(event()).then((added) => {
          done = true;
          return added;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(done).toBe(false);
        await holder.query("COMMIT");
        expect((await adding).duplicate).toBe(false);
      } finally {
        await holder.end();
      }
    });

    test("a reader paging by cursor meets every event that replicas commit at once, each once", async () => {
      const url = await freshSchema();
      const [a, b, reader] = [await open(url), await open(url), await open(url)];
      const seen: string[] = [];
      let cursor = 0;
      let writing = true;
      const reading = (async () => {
        while (writing || (await reader.latestSeq()) > cursor) {
          const page = await reader.list({}, { after: cursor, limit: 1000 });
          for (const e of page.reverse()) {
            seen.push(e.id);
            cursor = e.seq;
          }
        }
      })();
      const adds: Promise<{ id: string }>[] = [];
      for (let i = 0; i < 20; i++) {
        for (let j = 0; j < 10; j++) adds.push((i % 2 ? a : b).add(event()));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const ids = (await Promise.all(adds)).map((x) => x.id);
      writing = false;
      await reading;
      expect(seen.length).toBe(200);
      expect(new Set(seen)).toEqual(new Set(ids));
    });

    test("retention and an acknowledgement of several events, meeting on the same rows, take them in one order and neither fails", async () => {
      // Read in the table's order, not by index: an update (here a header's, as an acknowledgement
      // writes acked_at) moves a row after those stored later, as the server reuses space.
      const url = await roleWith("enable_indexscan = off", "enable_bitmapscan = off");
      const store = await open(url, { ...LOOSE, maxAgeDays: 1 });
      const [a, b, c] = (await addMany(store, 3)) as StoredEvent[];
      const db = new pg.Client(url);
      await db.connect();
      onTestFinished(() => db.end());
      await db.query("UPDATE events SET headers = headers WHERE seq = $1", [b?.seq]);
      await db.query("UPDATE events SET headers = headers WHERE seq = $1", [a?.seq]);
      const inTable = await db.query<{ seq: number }>("SELECT seq FROM events");
      expect(inTable.rows.map((row) => Number(row.seq))).toEqual([c?.seq, b?.seq, a?.seq]);
      const watcher = new pg.Client(server.url);
      await watcher.connect();
      onTestFinished(() => watcher.end());
      // A person's session holds the middle row: the acknowledgement waits there, holding the
      // first; retention then waits there too, holding whatever it took before it.
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM events WHERE seq = $1 FOR UPDATE", [b?.seq]);
      const acking = store.ack([a, b, c].map((e) => e?.id as string));
      await expect.poll(() => waitingOnLocks(watcher)).toBe(1);
      const expiring = store.expire(clock.now() + 2 * 86_400_000);
      await expect.poll(() => waitingOnLocks(watcher)).toBe(2);
      await db.query("COMMIT");
      const [acked, expired] = await Promise.allSettled([acking, expiring]);
      expect(acked).toEqual({ status: "fulfilled", value: { acked: [a?.id, b?.id, c?.id], already: [], unknown: [] } });
      expect(expired).toEqual({ status: "fulfilled", value: undefined });
      expect(await store.stats()).toMatchObject({ events: 0, droppedBy: { age: 3 } });
    });

    test("the same delivery arriving at two replicas at once is stored once", async () => {
      const url = await freshSchema();
      const [a, b] = [await open(url), await open(url)];
      const copies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).add(event({ dedupeId: "evt_twice" }))),
      );
      expect(copies.filter((c) => !c.duplicate)).toHaveLength(1);
      expect(new Set(copies.map((c) => c.id)).size).toBe(1);
      expect((await a.stats()).events).toBe(1);
      expect((await b.counters()).shop).toEqual({ received: 10, accepted: 1, duplicate: 9 });
    });

    test("an event committed through one replica is told to the other's subscribers, by NOTIFY", async () => {
      const url = await freshSchema();
      const [a, b] = [await open(url), await open(url)];
      const onB = heard(b);
      const added = await a.add(event());
      expect((await onB).id).toBe(added.id);
      // Told once: the replica's own commit is not told again when its NOTIFY comes back.
      const onA: string[] = [];
      a.subscribe((e) => onA.push(e.id));
      const onBToo = heard(b, (e) => e.source === "mine");
      const mine = await a.add(event({ source: "mine" }));
      expect((await onBToo).id).toBe(mine.id);
      await addMany(b, 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(onA.filter((id) => id === mine.id)).toHaveLength(1);
    });

    test("subscribers hear events in commit order, whichever replica committed them, even while listening again", async () => {
      const url = await freshSchema();
      const [a, b] = [await open(url), await open(url)];
      const heard: number[] = [];
      b.subscribe((e) => heard.push(e.seq));
      await cutListening();
      // Committed first through a, which b hears of only once it listens again; then through b.
      const first = await stored(a, event());
      const second = await stored(b, event());
      await expect.poll(() => heard, { timeout: 5_000 }).toEqual([first.seq, second.seq]);
    });

    test("a schema name as long as PostgreSQL allows still gets its notifications through", async () => {
      const url = await freshSchema("s".repeat(60));
      const [a, b] = [await open(url), await open(url)];
      const onB = heard(b);
      const added = await a.add(event());
      expect((await onB).id).toBe(added.id);
    });

    test("a replica whose listening connection is cut listens again and catches up", async () => {
      const url = await freshSchema();
      const [a, b] = [await open(url), await open(url)];
      const told: string[] = [];
      b.subscribe((e) => told.push(e.id));
      await cutListening();
      const during = await a.add(event());
      const after = await a.add(event());
      await expect.poll(() => told, { timeout: 5_000 }).toEqual([during.id, after.id]);
    });

    test("a replica whose listening connection hears no notification, as through a pooler in transaction mode, says so and what to name instead", async () => {
      const warnings = warningsSaid();
      const url = await freshSchema();
      await open(url);
      const pooler = await poolerProxy(url);
      // The URL written in the config file: the warning names it there.
      const urlFrom = "database.url in /etc/waiter/waiter.json";
      // A second for the notification to come back rather than waiter's 5 s.
      const pooled = await PostgresEventStore.open({
        url: pooler.url,
        urlFrom,
        retention: LOOSE,
        connectMs: 2_000,
        probeMs: 1_000,
      });
      try {
        const unheard = () => warnings.filter((line) => /did not reach its listening connection/.test(line));
        await expect.poll(unheard, { timeout: 15_000 }).toHaveLength(1);
        expect(unheard()[0]).toMatch(
          /^a notification waiter sent did not reach its listening connection within 1 s, so events other waiter processes store do not wake this one .*: most often database\.url in \/etc\/waiter\/waiter\.json names a connection pooler in transaction mode \(PgBouncer's pool_mode = transaction, Supabase's port 6543, .*\), which keeps LISTEN from working; name the database server itself, or the pooler's session mode/,
        );
      } finally {
        await pooled.close();
        await pooler.close();
      }
    }, 20_000);
  });

  test("a notification slow to go out, every connection busy, is not taken for a pooler's doing", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    const sender = new pg.Client(server.url);
    await sender.connect();
    const channel = "waiter_probe_slow";
    let sent = false;
    // The probe as the listening connection hears it: once it is, no warning is to come.
    let back = false;
    // A second for the notification to come back rather than waiter's 5 s: what is tested is
    // when that time starts, not how long it is.
    const probeMs = 1_000;
    const watch = new ListenWatch({
      connect: () => {
        const listening = new pg.Client(server.url);
        listening.on("notification", () => {
          back = true;
        });
        return listening;
      },
      setUp: "SELECT 1",
      channel,
      urlFrom: "WAITER_DATABASE_URL",
      latestSeq: async () => 0,
      // Sent once a connection is free, longer after it was asked for than a notification may take.
      notify: async (payload) => {
        await new Promise((resolve) => setTimeout(resolve, probeMs + 500));
        await sender.query("SELECT pg_notify($1, $2)", [channel, payload]);
        sent = true;
      },
      newerThan: async () => [],
      wanted: () => false,
      tell: () => {},
      probeMs,
    });
    try {
      await watch.start(0);
      await expect.poll(() => sent, { timeout: probeMs + 2_000 }).toBe(true);
      await expect.poll(() => back).toBe(true);
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((line) => /did not reach its listening connection/.test(line))).toEqual([]);
    } finally {
      watch.stop();
      await sender.end();
      process.off("warning", onWarning);
    }
  }, 15_000);

  describe("every mode on PostgreSQL", () => {
    const sources = { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }), ERP_SECRET };

    test("a database configured without webhook sources is still opened: it keeps the sessions", async () => {
      const url = await freshSchema();
      const { app } = await startApp({ WAITER_DATABASE_URL: url });
      try {
        expect(app.store).toBeDefined();
        expect(app.listener).toBeUndefined();
        await app.store?.sessions.open("s1", null, "{}", clock.now());
        expect(await app.store?.sessions.get("s1")).toMatchObject({ init: "{}" });
      } finally {
        await app.close();
      }
      // A replica that cannot reach it stops, as with sources.
      const port = await freePort();
      const env = {
        WAITER_DATABASE_URL: `postgres://waiter@127.0.0.1:${port}/waiter`,
        WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-pg-")),
      };
      await expect(startServe(loadConfig({ env }, toolsets()), new Log("error", () => {}))).rejects.toThrow(
        `cannot open the event store: PostgreSQL 127.0.0.1:${port}/waiter: connect ECONNREFUSED`,
      );
    });

    test("a switch from SQLite says once that the events in events.db are not read", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "waiter-pg-"));
      const onSqlite = await startApp({ ...sources, WAITER_DATA_DIR: dataDir });
      await onSqlite.app.store?.add(event());
      await onSqlite.app.close();
      const { app, stderr } = await startApp({
        ...sources,
        WAITER_DATA_DIR: dataDir,
        WAITER_DATABASE_URL: await freshSchema(),
      });
      await app.close();
      const notices = stderr().match(
        /events\.db holds 1 event that waiter does not read: .*not known as duplicates.*\n/g,
      );
      expect(notices).toHaveLength(1);
    });

    test("what waiter serve says once it takes connections is not told to every client to come as said at start", async () => {
      const url = await freshSchema();
      const schema = /search_path=(\w+)/.exec(decodeURIComponent(url))?.[1];
      const port = await freePort();
      const config = loadConfig(
        {
          env: {
            ...sources,
            WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-pg-")),
            WAITER_DATABASE_URL: url,
            WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}`,
            WAITER_WEBHOOKS_MAX_CONNECTIONS: "4",
            WAITER_AUTOMATIONS: JSON.stringify([{ name: "ack-all", when: { source: "erp" }, do: [{ ack: true }] }]),
          },
        },
        toolsets(),
      );
      // The tables set up, then their lease held elsewhere: the automations wait for it as they start,
      // once the listener takes connections.
      await (await startServe(config, new Log("error", () => {}))).close();
      const locker = await admin.connect();
      await locker.query(`BEGIN; LOCK TABLE ${schema}.automation_lease`);
      const lines: string[] = [];
      const starting = startServe(config, new Log("info", (line) => lines.push(line)));
      const sockets: Socket[] = [];
      for (let i = 0; i < 5; i++) {
        await expect
          .poll(async () => {
            const socket = openSocket(port, "127.0.0.1");
            const opened = await new Promise((resolve) => {
              socket.once("connect", () => resolve(true)).once("error", () => resolve(false));
            });
            if (opened) sockets.push(socket);
            return opened;
          })
          .toBe(true);
      }
      await expect.poll(() => lines.join("")).toContain("webhook listener at 4 connections: closing new ones");
      await locker.query("ROLLBACK");
      locker.release();
      const serving = await starting;
      for (const socket of sockets) socket.destroy();
      // Once the listener has let them go: a connection past its bound is closed.
      await expect
        .poll(() =>
          request(`http://127.0.0.1:${port}/healthz`, { reset: true }).then(
            (answer) => answer.body.dump().then(() => answer.statusCode),
            () => 0,
          ),
        )
        .toBe(200);
      const client = new Client({ name: "waiter-tests", version: "0.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
      try {
        const heard: string[] = [];
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
          heard.push(String(n.params.data));
        });
        await client.setLoggingLevel("notice");
        // What it said at start is told: notify is off, with no channel configured.
        await expect.poll(() => heard).toContainEqual(expect.stringMatching(/^toolset notify is off/));
        expect(heard).not.toContainEqual(expect.stringContaining("closing new ones"));
      } finally {
        await client.close();
        await serving.close();
      }
    });

    test("a switch from SQLite says where the store is to the operator alone, not to MCP clients that set a level", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "waiter-pg-"));
      const onSqlite = await startApp({ ...sources, WAITER_DATA_DIR: dataDir });
      await onSqlite.app.store?.add(event());
      await onSqlite.app.close();
      const { app, log, stderr } = await startApp({
        ...sources,
        WAITER_DATA_DIR: dataDir,
        WAITER_DATABASE_URL: await freshSchema(),
      });
      log.started();
      const session = app.session(log.forSession());
      const client = await connect(session);
      const heard: string[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        heard.push(String(n.params.data));
      });
      await client.setLoggingLevel("notice");
      // Which toolsets are off is told: notify is, with no channel configured.
      await expect.poll(() => heard).toContainEqual(expect.stringMatching(/^toolset notify is off/));
      expect(stderr()).toContain(join(dataDir, "events.db"));
      expect(heard).not.toContainEqual(expect.stringContaining("events.db"));
      expect(heard).not.toContainEqual(expect.stringContaining("PostgreSQL"));
      await client.close();
      await session.close();
      await app.close();
    });

    test("a switch from SQLite says the automations' runs and failures it left unfinished there", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "waiter-pg-"));
      const onSqlite = await startApp({ ...sources, WAITER_DATA_DIR: dataDir });
      const runs = onSqlite.app.store?.runs;
      for (let n = 0; n < 3; n++) await onSqlite.app.store?.add(event());
      // One waits for its step's next try (a shop outage), one failed with its notice owed.
      await runs?.begin("stripe-paid", "e1", false, clock.now());
      const told = (await runs?.begin("stripe-paid", "e2", false, clock.now())) as number;
      await runs?.finish(told, "failed", clock.now(), "no such order", "waiter: automation stripe-paid failed …");
      await onSqlite.app.close();
      const { app, stderr } = await startApp({
        ...sources,
        WAITER_DATA_DIR: dataDir,
        WAITER_DATABASE_URL: await freshSchema(),
      });
      await app.close();
      expect(stderr()).toMatch(
        /events\.db holds 3 events that waiter does not read, nor 1 automation run not finished and 1 failure not told to onFailure, which waiter serve or waiter listen on that file alone takes up: the event store is /,
      );
    });

    test("an assistant's waiter (stdio) reads the events a listener stored there", async () => {
      const url = await freshSchema();
      const listening = await startWebhooks(
        loadConfig(
          {
            env: {
              ...sources,
              WAITER_DATABASE_URL: url,
              WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
              WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-pg-")),
            },
          },
          toolsets(),
        ),
        new Log("error", () => {}),
      );
      try {
        const body = JSON.stringify({ invoice: 7 });
        const posted = await request(`${listening.listener.url}/webhooks/erp`, {
          method: "POST",
          body,
          headers: erpHeaders(body, "inv-7"),
        });
        expect(posted.statusCode).toBe(200);
        await posted.body.dump();
        const { app, stderr } = await startApp({ ...sources, WAITER_DATABASE_URL: url });
        try {
          const client = await connect(app.session(new Log("error", () => {})));
          const listed = await client.callTool({ name: "events_list", arguments: {} });
          expect(listed.structuredContent).toMatchObject({ events: [{ source: "erp", gist: '{"invoice":7}' }] });
          expect(stderr()).not.toMatch(/error/);
        } finally {
          await app.close();
        }
      } finally {
        await listening.close();
      }
    });

    test("a URL naming a Unix socket's directory in place of a host connects through that socket, with the password passwordEnv names too", async () => {
      const { search } = new URL(await freshSchema());
      const socket = (port: number) => `postgres://waiter@/waiter${search}&host=${server.socket}&port=${port}`;
      // A connection over a Unix socket has no client port: -1.
      const connections = async () => {
        const { rows } = await admin.query<{ socket: number; tcp: number }>(
          "SELECT count(*) FILTER (WHERE client_port = -1)::int AS socket, count(*) FILTER (WHERE client_port <> -1)::int AS tcp FROM pg_stat_activity WHERE application_name = 'waiter'",
        );
        return rows[0];
      };
      const passwordEnv = { WAITER_DATABASE_PASSWORD_ENV: "DB_PASSWORD", DB_PASSWORD: "unasked" };
      for (const env of [{}, passwordEnv] as Record<string, string>[]) {
        const { app, stderr } = await startApp({ ...sources, ...env, WAITER_DATABASE_URL: socket(server.port) });
        try {
          expect(app.store, stderr()).toBeDefined();
          await app.store?.add(event());
          const { socket: onSocket = 0, tcp } = (await connections()) ?? {};
          expect(tcp).toBe(0);
          expect(onSocket).toBeGreaterThan(0);
        } finally {
          await app.close();
        }
      }
      // The socket's directory is what an outage names.
      const port = await freePort();
      const { app, stderr } = await startApp({ ...sources, WAITER_DATABASE_URL: socket(port) });
      try {
        expect(app.store).toBeUndefined();
        expect(stderr()).toContain(
          `webhook events are off: PostgreSQL ${server.socket}:${port}/waiter: connect ENOENT`,
        );
      } finally {
        await app.close();
      }
    });

    test("a Unix socket's directory given without the server's port is said as no server's socket at that path, with the directory and the port to check", async () => {
      const port = await freePort();
      const check =
        "check that the server runs, and that WAITER_DATABASE_URL names the directory of its socket (?host=…, else PGHOST) and the port it listens on, which the socket's name carries (.s.PGSQL.<port>): the port in WAITER_DATABASE_URL (&port=…), else PGPORT, else 5432; then start waiter again";
      // The server's socket is in that directory, under its own port.
      const path = `${server.socket}/.s.PGSQL.${port}`;
      await expect(open(`postgres://waiter@/waiter?host=${server.socket}&port=${port}`)).rejects.toThrow(
        `connect ENOENT ${path}: no database server's socket is at ${path} (${server.socket} holds .s.PGSQL.${server.port}): ${check}`,
      );
      const nowhere = `${server.socket}/nosuch`;
      await expect(open(`postgres://waiter@/waiter?host=${nowhere}&port=${port}`)).rejects.toThrow(
        `: no database server's socket is at ${nowhere}/.s.PGSQL.${port} (there is no directory ${nowhere}): ${check}`,
      );
      // A socket left by a server that stopped without removing it: there, but nothing listens on it.
      const dir = mkdtempSync(join(tmpdir(), "waiter-socket-"));
      const stale = `${dir}/.s.PGSQL.${port}`;
      execFileSync("python3", ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", stale]);
      await expect(open(`postgres://waiter@/waiter?host=${dir}&port=${port}`)).rejects.toThrow(
        `connect ECONNREFUSED ${stale}: no database server listens on the socket at ${stale}, one left by a server that stopped: start the server, or ${check.replace("check that the server runs, and ", "check ")}`,
      );
    });

    test("an assistant's waiter whose database cannot be reached serves its other tools and says why", async () => {
      const port = await freePort();
      const { app, stderr } = await startApp({
        ...sources,
        WAITER_DATABASE_URL: `postgres://waiter:pw-not-shown@127.0.0.1:${port}/waiter`,
      });
      try {
        expect(app.store).toBeUndefined();
        expect(app.tools.map((t) => t.name)).toContain("currency_convert");
        expect(stderr()).toContain(
          `webhook events are off: PostgreSQL 127.0.0.1:${port}/waiter: connect ECONNREFUSED 127.0.0.1:${port}`,
        );
        expect(stderr()).not.toContain("pw-not-shown");
      } finally {
        await app.close();
      }
    });
  });

  describe("a database that asks for a password and takes TLS", () => {
    let guarded: RunningPostgres & { ca?: string };
    beforeAll(async () => {
      guarded = await startPostgres({ password: "db pass/01:23@x%", tls: true });
    }, 30_000);
    afterAll(async () => {
      await guarded?.stop();
    });
    const sources = { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }), ERP_SECRET };

    test("it comes from the variable passwordEnv names, or PGPASSWORD; a wrong one is said without being shown", async () => {
      const named = await startApp({
        ...sources,
        WAITER_DATABASE_URL: guarded.url,
        WAITER_DATABASE_PASSWORD_ENV: "DB_PASSWORD",
        DB_PASSWORD: "db pass/01:23@x%",
      });
      expect(named.app.store).toBeDefined();
      await named.app.close();

      process.env.PGPASSWORD = "db pass/01:23@x%";
      try {
        const fromLibpqVariable = await startApp({ ...sources, WAITER_DATABASE_URL: guarded.url });
        expect(fromLibpqVariable.app.store).toBeDefined();
        await fromLibpqVariable.app.close();
      } finally {
        delete process.env.PGPASSWORD;
      }

      const wrong = await startApp({
        ...sources,
        WAITER_DATABASE_URL: guarded.url,
        WAITER_DATABASE_PASSWORD_ENV: "DB_PASSWORD",
        DB_PASSWORD: "wrong-pass-xyz",
      });
      expect(wrong.app.store).toBeUndefined();
      expect(wrong.stderr()).toMatch(
        /webhook events are off: PostgreSQL 127\.0\.0\.1:\d+\/waiter: password authentication failed for user "waiter"/,
      );
      expect(wrong.stderr()).not.toContain("wrong-pass-xyz");
      await wrong.app.close();

      const none = await startApp({ ...sources, WAITER_DATABASE_URL: guarded.url });
      expect(none.app.store).toBeUndefined();
      expect(none.stderr()).toMatch(
        /webhook events are off: PostgreSQL 127\.0\.0\.1:\d+\/waiter: the server asks for a password and waiter has none: set PGPASSWORD, or WAITER_DATABASE_PASSWORD_ENV/,
      );
      await none.app.close();
    });

    test("a password the driver reads from the password file, as libpq does, is named as that file's when the server refuses it", async () => {
      const passfile = join(mkdtempSync(join(tmpdir(), "waiter-pgpass-")), "pgpass");
      writeFileSync(passfile, "127.0.0.1:*:*:waiter:wrong-pass-xyz\n", { mode: 0o600 });
      process.env.PGPASSFILE = passfile;
      onTestFinished(() => {
        delete process.env.PGPASSFILE;
      });
      const wrong = await startApp({ ...sources, WAITER_DATABASE_URL: guarded.url });
      expect(wrong.app.store).toBeUndefined();
      expect(wrong.stderr()).toMatch(
        /password authentication failed for user "waiter": check that the password file \(the one PGPASSFILE names, else ~\/\.pgpass\) holds the database user's current password\n/,
      );
      expect(wrong.stderr()).not.toContain("wrong-pass-xyz");
      await wrong.app.close();
      writeFileSync(passfile, "127.0.0.1:*:*:waiter:db pass/01\\:23@x%\n");
      const right = await startApp({ ...sources, WAITER_DATABASE_URL: guarded.url });
      expect(right.app.store, right.stderr()).toBeDefined();
      await right.app.close();
      // The driver's notice that a later version of it will not read the file is advice to waiter's
      // developers: to the IT person it would say that the setup the docs give is going away.
      const served = await startNode(
        [CLI, "serve", "--listen", "127.0.0.1:0"],
        {
          WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-pg-")),
          WAITER_DATABASE_URL: guarded.url,
          WAITER_TOOLSETS: "events",
          PGPASSFILE: passfile,
        },
        SERVING,
      );
      expect(served.stderr()).not.toMatch(/pgpass|deprecated/);
      served.child.kill();
      await served.exited;
    });

    test("a URL naming its host in the query alone, and so no user, takes the password passwordEnv names", async () => {
      const { app, stderr } = await startApp({
        ...sources,
        WAITER_DATABASE_URL: `postgres:///waiter?user=waiter&host=127.0.0.1&port=${guarded.port}`,
        WAITER_DATABASE_PASSWORD_ENV: "DB_PASSWORD",
        DB_PASSWORD: "db pass/01:23@x%",
      });
      try {
        expect(app.store, stderr()).toBeDefined();
      } finally {
        await app.close();
      }
    });

    test("a password changed under a running waiter is said as a refused login, a line a minute, and counted when it works again", async () => {
      const superuser = new URL(guarded.url);
      superuser.password = encodeURIComponent("db pass/01:23@x%");
      const db = new pg.Client(superuser.href);
      await db.connect();
      await db.query("CREATE ROLE rotated LOGIN PASSWORD 'before-xyz'");
      await db.query("CREATE SCHEMA rotated AUTHORIZATION rotated");
      const url = new URL(guarded.url);
      url.username = "rotated";
      url.searchParams.set("options", "-c search_path=rotated");
      const { app, stderr } = await startApp(
        {
          ...sources,
          WAITER_DATABASE_URL: url.href,
          WAITER_DATABASE_PASSWORD_ENV: "DB_PASSWORD",
          DB_PASSWORD: "before-xyz",
          WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
        },
        { listener: true },
      );
      const deliver = (delivery: string) => deliverTo(app.listener?.url, delivery);
      try {
        expect(await deliver("inv-1")).toBe(200);
        // What a DBA's rotation does: a new password, and the connections made with the old one closed.
        await db.query("ALTER ROLE rotated PASSWORD 'after-xyz'");
        // Until none is left, three looks in a row: a connection waiter was opening with the old
        // password (the listening connection's check that it hears) is not the user's in
        // pg_stat_activity until it is open, which on a busy machine takes a while after its login.
        let quiet = 0;
        await expect
          .poll(async () => {
            const { rowCount } = await db.query(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rotated'",
            );
            quiet = rowCount === 0 ? quiet + 1 : 0;
            return quiet;
          })
          .toBe(3);
        const client = await connect(app.session(new Log("error", () => {})));
        const listed = async () =>
          ((await client.callTool({ name: "events_list", arguments: {} })).content as { text: string }[])[0]?.text;
        await expect
          .poll(listed)
          .toMatch(
            /^The event store's database refuses waiter's connection \(PostgreSQL 28P01: password authentication failed for user "rotated"; PostgreSQL 127\.0\.0\.1:\d+\/waiter\): nothing is read or stored until whoever runs waiter fixes that, so tell them to check that DB_PASSWORD \(the variable WAITER_DATABASE_PASSWORD_ENV names\) holds the database user's current password, and restart waiter, which reads it only as it starts\. waiter tries again at each call\.$/,
          );
        for (let i = 2; i <= 6; i++) expect(await deliver(`inv-${i}`)).toBe(503);
        expect(
          stderr().match(
            /webhook erp delivery "inv-\d" not stored, answered 503 \(.*\): The event store's database refuses waiter's connection/g,
          ),
        ).toHaveLength(1);
        await db.query("ALTER ROLE rotated PASSWORD 'before-xyz'");
        expect(await deliver("inv-7")).toBe(200);
        expect(stderr()).toMatch(
          /webhook listener: the event store answers again after \d+ s; deliveries it did not store meanwhile: 5 from erp\n/,
        );
        expect(stderr()).not.toMatch(/webhook listener failed|bug in waiter|before-xyz|after-xyz/);
      } finally {
        await app.close();
        await db.end();
      }
    });

    test("sslmode as libpq names it: verify-full with the server's CA is TLS, without the CA it is refused", async () => {
      const tls = `${guarded.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(guarded.ca as string)}`;
      const store = await PostgresEventStore.open({ url: tls, password: "db pass/01:23@x%", retention: LOOSE });
      stores.push(store);
      await store.add(event());
      const withPassword = new URL(tls);
      withPassword.password = encodeURIComponent("db pass/01:23@x%");
      const db = new pg.Client(withPassword.href);
      await db.connect();
      try {
        const { rows } = await db.query<{ ssl: boolean }>(
          "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'waiter'",
        );
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((r) => r.ssl)).toBe(true);
      } finally {
        await db.end();
      }
      await expect(
        PostgresEventStore.open({
          url: `${guarded.url}?sslmode=verify-full`,
          password: "db pass/01:23@x%",
          retention: LOOSE,
        }),
      ).rejects.toThrow(/self-signed certificate: check that the CA the URL's sslrootcert names/);
    });

    test("a server that takes the user only over TLS, which the driver does not try unasked as psql does, is said with the sslmode to add", async () => {
      const superuser = new URL(guarded.url);
      superuser.password = encodeURIComponent("db pass/01:23@x%");
      const db = new pg.Client(superuser.href);
      await db.connect();
      await db.query("CREATE ROLE tlsonly LOGIN PASSWORD 'tls-pass'");
      await db.query("CREATE SCHEMA tlsonly AUTHORIZATION tlsonly");
      await db.end();
      guarded.hbaFirst("hostnossl all tlsonly 127.0.0.1/32 reject");
      const url = new URL(guarded.url);
      url.username = "tlsonly";
      url.searchParams.set("options", "-c search_path=tlsonly");
      const opening = (href: string) =>
        PostgresEventStore.open({ url: href, password: "tls-pass", retention: LOOSE }).then(
          (store) => {
            stores.push(store);
            return "opened";
          },
          (err: Error) => err.message,
        );
      // The server reads its pg_hba.conf again a moment after it is told to.
      await expect
        .poll(() => opening(url.href))
        .toMatch(
          /no encryption: the server takes this user only over TLS, which waiter uses only when the sslmode in WAITER_DATABASE_URL \(or PGSSLMODE\) asks for it, as the driver does not try TLS first by itself as psql does: add \?sslmode=verify-full&sslrootcert=\/path\/ca\.pem \(the CA that signed the server's certificate\) to the URL$/,
        );
      url.searchParams.set("sslmode", "verify-full");
      url.searchParams.set("sslrootcert", guarded.ca as string);
      expect(await opening(url.href)).toBe("opened");
    });

    test("sslmode=prefer, allow, require or verify-ca, which the driver takes as verify-full, is said as such where the server's TLS fails it", async () => {
      const opening = (url: string) =>
        PostgresEventStore.open({ url, password: "db pass/01:23@x%", retention: LOOSE }).then(
          (store) => {
            stores.push(store);
            return "opened";
          },
          (err: Error) => err.message,
        );
      // A server without TLS, which libpq's prefer and allow connect to without it.
      expect(await opening(`${server.url}?sslmode=prefer`)).toBe(
        "The server does not support SSL connections: check that the database server takes TLS (ssl = on), or the URL's sslmode: the driver takes sslmode=prefer to require TLS, where libpq goes on without it, so write sslmode=disable for a server without TLS",
      );
      // PGSSLMODE, where the URL has no sslmode, is named as the place to change, not the URL.
      process.env.PGSSLMODE = "require";
      try {
        expect(await opening(server.url)).toBe(
          "The server does not support SSL connections: check that the database server takes TLS (ssl = on), or PGSSLMODE",
        );
        process.env.PGSSLMODE = "prefer";
        expect(await opening(server.url)).toBe(
          "The server does not support SSL connections: check that the database server takes TLS (ssl = on), or PGSSLMODE: the driver takes sslmode=prefer to require TLS, where libpq goes on without it, so write sslmode=disable for a server without TLS",
        );
      } finally {
        delete process.env.PGSSLMODE;
      }
      // A certificate no CA the URL names signs, which libpq's require does not check.
      expect(await opening(`${guarded.url}?sslmode=require`)).toBe(
        "self-signed certificate: check that the CA the URL's sslrootcert names (the system's, without it) signs the database server's certificate, and that the certificate has not expired: the driver checks it with sslmode=require as with verify-full, where libpq would not",
      );
      // A certificate for another name (127.1 is 127.0.0.1, which it holds, written as a name), which libpq's verify-ca does not check.
      const byName = `postgres://waiter@127.1:${guarded.port}/waiter?sslmode=verify-ca&sslrootcert=${encodeURIComponent(guarded.ca as string)}`;
      expect(await opening(byName)).toMatch(
        /: check that WAITER_DATABASE_URL names the database server by a name its certificate holds: the driver checks the name with sslmode=verify-ca as with verify-full, where libpq would not$/,
      );
      // uselibpqcompat=true gives require and verify-ca libpq's meaning: the CA the URL names is
      // checked, as libpq checks it, and nothing more.
      const ca = join(mkdtempSync(join(tmpdir(), "waiter-ca-")), "ca.pem");
      writeFileSync(ca, otherCa());
      for (const mode of ["require", "verify-ca"]) {
        const compat = `${guarded.url}?uselibpqcompat=true&sslmode=${mode}&sslrootcert=${encodeURIComponent(ca)}`;
        expect(await opening(compat)).toMatch(
          /: check that the CA the URL's sslrootcert names \(the system's, without it\) signs the database server's certificate, and that the certificate has not expired$/,
        );
      }
    });

    test("a certificate the URL's CA no longer signs, met by a running waiter, is said as TLS refused, with what to check", async () => {
      const ca = join(mkdtempSync(join(tmpdir(), "waiter-ca-")), "ca.pem");
      copyFileSync(guarded.ca as string, ca);
      const url = `${guarded.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
      const store = await PostgresEventStore.open({ url, password: "db pass/01:23@x%", retention: LOOSE });
      stores.push(store);
      await store.add(event());
      // The server's certificate renewed by another CA: the file names one that signs it no more.
      writeFileSync(ca, otherCa());
      const db = new URL(guarded.url);
      db.password = encodeURIComponent("db pass/01:23@x%");
      const superuser = new pg.Client(db.href);
      await superuser.connect();
      await superuser.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'waiter'");
      await superuser.end();
      // The first call may still meet a connection the pool has not yet seen ended (57P01); the
      // next opens a new one.
      const listing = () =>
        store.list({}, { limit: 5 }).then(
          () => undefined,
          (err: unknown) => err,
        );
      await expect.poll(listing).toBeInstanceOf(ToolError);
      await expect
        .poll(async () => ((await listing()) as Error).message)
        .toMatch(
          /^The event store's database refuses waiter's connection \(TLS: self-signed certificate.*; PostgreSQL 127\.0\.0\.1:\d+\/waiter\): .*check that the CA the URL's sslrootcert names \(the system's, without it\) signs the database server's certificate/,
        );
    });
    test("a CA file the URL names that cannot be read while waiter runs fails the calls saying which file, and listening resumes once it is back", async () => {
      const warnings = warningsSaid();
      const ca = join(mkdtempSync(join(tmpdir(), "waiter-ca-")), "ca.pem");
      const url = `${guarded.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
      await expect(PostgresEventStore.open({ url, password: "db pass/01:23@x%", retention: LOOSE })).rejects.toThrow(
        `waiter cannot read ${ca}, the file sslrootcert in WAITER_DATABASE_URL names (ENOENT): check that the file is there and that waiter's user may read it`,
      );
      copyFileSync(guarded.ca as string, ca);
      const store = await PostgresEventStore.open({ url, password: "db pass/01:23@x%", retention: LOOSE });
      stores.push(store);
      const other = await PostgresEventStore.open({ url, password: "db pass/01:23@x%", retention: LOOSE });
      stores.push(other);
      // Moved away, as a renewal that removes the old file before it writes the new one does.
      renameSync(ca, `${ca}.old`);
      const db = new URL(guarded.url);
      db.password = encodeURIComponent("db pass/01:23@x%");
      const superuser = new pg.Client(db.href);
      await superuser.connect();
      onTestFinished(() => superuser.end());
      const waiters = "FROM pg_stat_activity WHERE application_name = 'waiter'";
      await superuser.query(`SELECT pg_terminate_backend(pid) ${waiters}`);
      const listing = () =>
        store.list({}, { limit: 5 }).then(
          () => "listed",
          (err: Error) => err.message,
        );
      await expect
        .poll(listing)
        .toBe(
          `The event store's database cannot be connected to: waiter cannot read ${ca}, the file sslrootcert in WAITER_DATABASE_URL names (ENOENT): nothing is read or stored until whoever runs waiter fixes that, so tell them to check that the file is there and that waiter's user may read it. waiter tries again at each call.`,
        );
      // The listening connections try again 250 ms after they were cut, and meet the file gone.
      await new Promise((resolve) => setTimeout(resolve, 500));
      renameSync(`${ca}.old`, ca);
      expect(await listing()).toBe("listed");
      // Both stores listen again, and hear what the other commits.
      await expect
        .poll(async () => (await superuser.query(`SELECT 1 ${waiters} AND query LIKE 'LISTEN%'`)).rowCount, {
          timeout: 5_000,
        })
        .toBe(2);
      const told = heard(store);
      await other.add(event());
      await told;
      expect(warnings).toContainEqual(
        expect.stringMatching(
          /^listening again for events committed by other waiter processes, after [2-9] failed attempts/,
        ),
      );
    });
  });

  describe("MCP sessions", () => {
    test("subscriptions a write kept while another replica ended their session go at the next expiry", async () => {
      const url = await freshSchema();
      const store = await open(url);
      const db = new pg.Client(url);
      await db.connect();
      try {
        // What keepSubscriptions leaves when its check of the session ran before the other's delete.
        await db.query("INSERT INTO mcp_subscriptions (session_id, uri) VALUES ('ended', 'events://recent')");
        await store.sessions.open("live", null, "{}", clock.now());
        await store.sessions.keepSubscriptions("live", ["events://recent"]);
        await store.sessions.expire(clock.now() - 60_000);
        const { rows } = await db.query("SELECT session_id FROM mcp_subscriptions ORDER BY session_id");
        expect(rows).toEqual([{ session_id: "live" }]);
      } finally {
        await db.end();
      }
    });

    test("two servers writing a session's subscriptions at once leave one set, never both merged", async () => {
      const url = await freshSchema();
      const store = await open(url);
      await store.sessions.open("s", null, "{}", clock.now());
      const holder = new pg.Client(url);
      await holder.connect();
      try {
        // Rows another transaction is inserting, not yet committed: each write's insert waits on
        // one of them, after its delete has looked at the session's rows.
        await holder.query("BEGIN");
        await holder.query(
          "INSERT INTO mcp_subscriptions (session_id, uri) VALUES ('s', 'events://event/A'), ('s', 'events://event/B')",
        );
        const first = store.sessions.keepSubscriptions("s", ["events://event/A"]);
        await expect.poll(() => waitingOnLocks(holder), { interval: 20 }).toBe(1);
        const second = store.sessions.keepSubscriptions("s", ["events://event/B"]);
        await expect.poll(() => waitingOnLocks(holder), { interval: 20 }).toBe(2);
        await holder.query("ROLLBACK");
        await Promise.all([first, second]);
        expect((await store.sessions.get("s"))?.subscriptions).toEqual(["events://event/B"]);
      } finally {
        await holder.end();
      }
    });
  });

  test("a replica holds one listening connection and at most 10 for its queries", async () => {
    // Its own, by a user of its own: an earlier test's store, or a waiter process it started, may
    // still be ending or opening one of its connections.
    const url = await roleWith();
    const connections = async () =>
      (
        await admin.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'waiter' AND usename = $1",
          [new URL(url).username],
        )
      ).rows[0]?.n;
    const store = await open(url);
    // The listening one and one for queries, or two: the open's retention run may go beside the watch's first read.
    expect([2, 3]).toContain(await connections());
    await Promise.all(Array.from({ length: 30 }, () => store.list({}, { limit: 5 })));
    expect(await connections()).toBe(11);
  });

  test("the server finds a replica's machine gone within 2 minutes, not the system's 2 hours, so the other replicas do not wait that long on what it held; a URL's own settings stay", async () => {
    // What the session that stores an event has set, as the insert's trigger reads it there.
    const keepalives = async (url: string) => {
      const db = new pg.Client(url);
      await db.connect();
      onTestFinished(() => db.end());
      await db.query(`CREATE TABLE seen (idle text, every text, count text);
        CREATE FUNCTION note_keepalives() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          INSERT INTO seen VALUES (current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'),
            current_setting('tcp_keepalives_count'));
          RETURN NEW;
        END $$;
        CREATE TRIGGER note_keepalives BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION note_keepalives()`);
      return async () => (await db.query("SELECT * FROM seen")).rows;
    };
    const url = await freshSchema();
    const store = await open(url);
    const seen = await keepalives(url);
    await store.add(event());
    expect(await seen()).toEqual([{ idle: "60", every: "10", count: "6" }]);
    const own = `${await freshSchema()}${encodeURIComponent(" -c tcp_keepalives_idle=30 -c tcp_keepalives_count=3")}`;
    const kept = await open(own);
    const seenKept = await keepalives(own);
    await kept.add(event());
    expect(await seenKept()).toEqual([{ idle: "30", every: "10", count: "3" }]);
  });

  test.runIf(process.platform === "linux")(
    "the server finds a replica's machine gone within 2 minutes on its listening connection too, which would hold back every replica's notifications",
    async () => {
      const url = await freshSchema();
      await open(url);
      // The server's side of the listening session, as the system shows its keepalive timer.
      const { rows } = await admin.query<{ port: number }>(
        "SELECT client_port AS port FROM pg_stat_activity WHERE application_name = 'waiter' AND query LIKE 'LISTEN%' ORDER BY backend_start DESC LIMIT 1",
      );
      const socket = () =>
        execFileSync("ss", [
          "-tnoH",
          "state",
          "established",
          `( sport = :${new URL(server.url).port} and dport = :${rows[0]?.port} )`,
        ]).toString();
      // Once the session is idle: a retransmission timer stands in for it while an answer is unacknowledged.
      await expect.poll(socket).toMatch(/timer:\(keepalive,/);
      const timer = /timer:\(keepalive,(\d+)(min|sec)/.exec(socket());
      expect(Number(timer?.[1]) * (timer?.[2] === "min" ? 60 : 1)).toBeLessThanOrEqual(60);
    },
  );

  describe("the schema", () => {
    test("replicas starting at once set it up once", async () => {
      const url = await freshSchema();
      const opened = await Promise.all([open(url), open(url), open(url)]);
      await opened[0]?.add(event());
      expect((await opened[2]?.stats())?.events).toBe(1);
    });

    test("a replica that finds the tables up to date starts without the lock an upgrade takes, which a session it never let go of may still hold", async () => {
      const url = await freshSchema();
      await open(url);
      // Held by a server connection a transaction pooler gave back to its pool, or a machine gone.
      const holder = new pg.Client(server.url);
      await holder.connect();
      onTestFinished(() => holder.end());
      await holder.query("SELECT pg_advisory_lock($1)", [0x77616974]);
      const opened = await Promise.race([
        open(url).then(() => "opened"),
        new Promise((resolve) => setTimeout(resolve, 3_000, "still waiting")),
      ]);
      expect(opened).toBe("opened");
    });

    test("an upgrade whose lock was taken on another server connection than the one that lets it go, as through a pooler in transaction mode, says so", async () => {
      const warnings = warningsSaid();
      const url = await freshSchema();
      // Two server connections, as a pooler in transaction mode has: the lock is let go of on the
      // one that did not take it, and stays held on the other until it closes.
      const [upgrading, other] = [new pg.Client(url), new pg.Client(url)];
      await upgrading.connect();
      await other.connect();
      onTestFinished(async () => {
        await upgrading.end();
        await other.end();
      });
      const pooled = new Proxy(upgrading, {
        get: (target, name) =>
          name === "query"
            ? (text: string, values?: unknown[]) =>
                (String(text).startsWith("SELECT pg_advisory_unlock") ? other : target).query(text, values)
            : Reflect.get(target, name),
      });
      // The URL written in the config file: the warning names it there.
      await migrate(pooled, 1, "database.url in /etc/waiter/waiter.json");
      await expect
        .poll(() => warnings.filter((line) => /upgrade lock/.test(line)))
        .toEqual([
          "waiter's upgrade lock (the advisory lock 2002872692, which one waiter holds while it upgrades the tables) was not held by the connection that let go of it, so it stays held by another until that one closes, and each waiter that starts meanwhile and must upgrade waits for it: most often database.url in /etc/waiter/waiter.json names a connection pooler in transaction mode (PgBouncer's pool_mode = transaction, Supabase's port 6543, a Neon host whose name has -pooler), which ran the lock on another server connection; name the database server itself, or the pooler's session mode (Supabase's port 5432)",
        ]);
      const held = await admin.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 2002872692");
      expect(held.rows).toHaveLength(1);
    });

    test("an upgrade whose connection is lost says its own failure, not that letting go of the lock failed after it", async () => {
      const warnings = warningsSaid();
      const client = new pg.Client(await freshSchema());
      await client.connect();
      // The connection ends under its first step: the server ends the session, as a restart or a DBA would.
      client.on("error", () => {});
      onTestFinished(() => client.end().catch(() => {}));
      const losing = new Proxy(client, {
        get: (target, name) =>
          name === "query"
            ? (query: string | { text: string }, values?: unknown[]) =>
                target.query(
                  typeof query === "object" && query.text === MIGRATIONS[0]
                    ? "SELECT pg_terminate_backend(pg_backend_pid())"
                    : query,
                  values,
                )
            : Reflect.get(target, name),
      });
      await expect(migrate(losing, 1)).rejects.toThrow(/^terminating connection due to administrator command$/);
      await expect
        .poll(() => warnings.filter((line) => /upgrade lock/.test(line)))
        .toEqual([
          "letting go of waiter's upgrade lock (the advisory lock 2002872692) failed after the upgrade had failed (Client has encountered a connection error and is not queryable): the server lets go of it as the connection ends",
        ]);
      const held = await admin.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 2002872692");
      expect(held.rows).toHaveLength(0);
    });

    test("an upgrade lets go of its lock without a word", async () => {
      const warnings = warningsSaid();
      const client = new pg.Client(await freshSchema());
      await client.connect();
      onTestFinished(() => client.end());
      await migrate(client, 1);
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((line) => /upgrade lock/.test(line))).toEqual([]);
      const held = await admin.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 2002872692");
      expect(held.rows).toHaveLength(0);
    });

    test("a database set up by an older waiter is brought up to date and keeps its events", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 1);
      await old.query(
        `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
         VALUES ('01OLD', 'shop', 'order.paid', 'woocommerce', 'd-old', $1, '{}', '\\x7b7d', true, 2)`,
        [clock.now()],
      );
      await old.query("UPDATE totals SET events = 1, bytes = 2");
      await old.end();
      const store = await open(url);
      expect((await store.get("01OLD"))?.payload).toBe("{}");
      const e = await stored(store, event());
      expect(await store.runs.begin("paid", e.id, false, clock.now())).toEqual(expect.any(Number));
      expect((await store.add(event({ dedupeId: "d-old" }))).duplicate).toBe(true);
    });

    test("a database of schema 9 where retention dropped events takes everything below its oldest event as dropped", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 9);
      const { rows } = await old.query<{ seq: string }>(
        `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
         SELECT 'e' || g, 'shop', 'order.paid', 'none', 'd' || g, $1, '{}', '\\x7b7d', true, 2
         FROM generate_series(1, 3) AS g RETURNING seq`,
        [clock.now()],
      );
      const seqs = rows.map((row) => Number(row.seq));
      await old.query("DELETE FROM events WHERE seq < $1", [seqs[2]]);
      await old.query("UPDATE totals SET events = 1, bytes = 2, dropped_count = 2");
      await old.end();
      const store = await open(url);
      expect(await store.droppedThrough()).toBe(seqs[1]);
      await expect(open(await freshSchema()).then((fresh) => fresh.droppedThrough())).resolves.toBe(0);
    });

    test("a database of schema 14 whose newest event was erased by hand keeps that event's number as the latest", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 14);
      const { rows } = await old.query<{ seq: string }>(
        `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
         SELECT 'e' || g, 'shop', 'order.paid', 'none', 'old' || g, $1, '{}', convert_to('{"n":' || g || '}', 'UTF8'), true, 7
         FROM generate_series(1, 3) AS g RETURNING seq`,
        [clock.now()],
      );
      await old.query("UPDATE totals SET events = 3, bytes = 21");
      await old.end();
      const newest = Number(rows[2]?.seq);
      await erase(url, '{"n":3}');
      const store = await open(url);
      expect(store.upgraded).toEqual({ from: 14, to: MIGRATIONS.length });
      expect(await store.latestSeq()).toBe(newest);
      const later = await stored(store, event());
      expect(await store.latestSeq()).toBe(later.seq);
    });

    test("a database of schema 10 keeps its runs, and a run failed since owes its notice", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 10);
      await old.query(
        `WITH e AS (INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
                    VALUES ('01OLD', 'shop', 'order.paid', 'woocommerce', 'd-old', $1, '{}', '\\x7b7d', true, 2))
         INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at)
         VALUES ('paid', '01OLD', 'done', false, $1, $1)`,
        [clock.now()],
      );
      await old.end();
      const store = await open(url);
      expect(store).toMatchObject({ upgraded: { from: 10, to: MIGRATIONS.length }, created: false });
      expect(await open(url)).toMatchObject({ upgraded: undefined, created: false });
      // Tables set up where there were none are made, not upgraded.
      expect(await open(await freshSchema())).toMatchObject({ upgraded: undefined, created: true });
      expect(await store.runs.list({ limit: 5 })).toEqual([
        expect.objectContaining({ automation: "paid", status: "done", notice: null }),
      ]);
      const e = await stored(store, event());
      const run = (await store.runs.begin("paid", e.id, false, clock.now())) as number;
      await store.runs.finish(run, "failed", clock.now(), "step 1: no", "waiter: paid failed");
      expect((await store.runs.untold()).map((r) => r.id)).toEqual([run]);
    });

    test("a user refused its login or its rights, or a database not there, is said with what to check", async () => {
      const url = await freshSchema();
      const schema = /search_path=(\w+)/.exec(decodeURIComponent(url))?.[1] as string;
      const user = `${schema}_user`;
      await admin.query(`CREATE ROLE ${user} LOGIN`);
      await admin.query(`GRANT ALL ON SCHEMA ${schema} TO ${user}`);
      const asUser = new URL(url);
      asUser.username = user;
      const store = await open(asUser.href);
      await admin.query(`ALTER ROLE ${user} NOLOGIN`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${user}'`);
      await expect
        .poll(() => store.list({}, { limit: 5 }).catch((err: Error) => err))
        .toEqual(
          new ToolError(
            `The event store's database refuses waiter's connection (PostgreSQL 28000: role "${user}" is not permitted to log in; PostgreSQL 127.0.0.1:${server.port}/waiter): nothing is read or stored until whoever runs waiter fixes that, so tell them to check that the database user exists and may log in, and that a line of the server's pg_hba.conf lets it connect to this database from waiter's address. waiter tries again at each call.`,
          ),
        );
      await admin.query(`ALTER ROLE ${user} LOGIN`);
      await admin.query(`REVOKE INSERT ON ALL TABLES IN SCHEMA ${schema} FROM ${user}`);
      const added = store.add(event());
      await expect(added).rejects.toBeInstanceOf(StoreNotWritable);
      await expect(added).rejects.toThrow(
        /^The event store cannot be written \(PostgreSQL 42501: permission denied for table events\): its database user lacks rights on waiter's tables \(PostgreSQL .*\)\. Nothing is stored until whoever runs waiter grants it USAGE on their schema, SELECT, INSERT, UPDATE and DELETE on the tables, and USAGE and SELECT on their sequences; tell them\.$/,
      );
      const nowhere = new URL(url);
      nowhere.pathname = "/nosuch";
      await expect(open(nowhere.href)).rejects.toThrow(
        'database "nosuch" does not exist: check the database\'s name in WAITER_DATABASE_URL',
      );
    });

    test("a closed store says so in words, as the SQLite one does", async () => {
      const closed = await open(await freshSchema());
      await closed.close();
      await expect(closed.add(event())).rejects.toThrow(/^The event store is closed: waiter is stopping\.$/);
    });

    test("a user that may read and write the tables but not create opens a store up to date, and is told what to grant to set one up or upgrade it", async () => {
      const url = await freshSchema();
      const schema = /search_path=(\w+)/.exec(decodeURIComponent(url))?.[1] as string;
      const user = `${schema}_dml`;
      await admin.query(`CREATE ROLE ${user} LOGIN`);
      // What a DBA grants a service, and what PostgreSQL 15 leaves of public: no CREATE.
      const grant = async () => {
        await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${user}`);
        await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${user}`);
        await admin.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${user}`);
      };
      const asUser = new URL(url);
      asUser.username = user;
      // Without USAGE on the schema, PostgreSQL's search path skips it as if it were not there.
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${user}`);
      await expect(open(asUser.href)).rejects.toThrow(
        `${user} may not use schema ${schema}, the first the search path names (${schema}): grant it (GRANT USAGE ON SCHEMA ${schema} TO ${user}), with the rights on waiter's tables there`,
      );
      await grant();
      const setUp = `permission denied for schema ${schema} (PostgreSQL 42501): setting up waiter's tables in schema ${schema} needs a user that may create there: grant ${user} CREATE on the schema (GRANT CREATE ON SCHEMA ${schema} TO ${user}), or make ${user} its owner (ALTER SCHEMA ${schema} OWNER TO ${user})`;
      await expect(open(asUser.href)).rejects.toThrow(setUp);
      const old = new pg.Client(url);
      await old.connect();
      onTestFinished(() => old.end());
      await migrate(old, 10);
      await grant();
      await expect(open(asUser.href)).rejects.toThrow(
        /^must be owner of table \w+ \(PostgreSQL 42501\): upgrading waiter's tables in schema \w+ needs a user that may create there and owns them: start this waiter once as their owner, or grant \w+ CREATE on the schema/,
      );
      await migrate(old);
      await grant();
      const store = await open(asUser.href);
      expect((await store.add(event())).duplicate).toBe(false);
    });

    test("a schema that exists, which waiter's user neither owns nor may create in, is to be made the user's, not created", async () => {
      const name = `owned${++schemas}`;
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.query(`CREATE ROLE ${name} LOGIN`);
      const db = new pg.Client(`${server.url.replace(/\/waiter$/, `/${name}`)}`);
      await db.connect();
      onTestFinished(() => db.end());
      // What a DBA made for waiter, without AUTHORIZATION: the schema the scaling page names.
      await db.query("CREATE SCHEMA waiter");
      await db.query(`GRANT USAGE ON SCHEMA waiter TO ${name}`);
      const url = new URL(server.url);
      url.username = name;
      url.pathname = `/${name}`;
      const inWaiter = `${url.href}?options=${encodeURIComponent("-c search_path=waiter")}`;
      await expect(open(inWaiter)).rejects.toThrow(
        `permission denied for schema waiter (PostgreSQL 42501): setting up waiter's tables in schema waiter needs a user that may create there: grant ${name} CREATE on the schema (GRANT CREATE ON SCHEMA waiter TO ${name}), or make ${name} its owner (ALTER SCHEMA waiter OWNER TO ${name})`,
      );
      // The search path's own schema ("$user") not there, public is the one found.
      const toPublic = `permission denied for schema public (PostgreSQL 42501): setting up waiter's tables in schema public needs a user that may create there: grant ${name} CREATE on the schema (GRANT CREATE ON SCHEMA public TO ${name})`;
      await expect(open(url.href)).rejects.toThrow(
        `${toPublic}, or give waiter the schema waiter, made ${name}'s (ALTER SCHEMA waiter OWNER TO ${name}, and ?options=-c%20search_path%3Dwaiter in WAITER_DATABASE_URL)`,
      );
      await db.query(`GRANT CREATE ON SCHEMA waiter TO ${name}`);
      await expect(open(url.href)).rejects.toThrow(
        `${toPublic}, or give waiter the schema waiter, where ${name} may create (?options=-c%20search_path%3Dwaiter in WAITER_DATABASE_URL)`,
      );
      await db.query(`REVOKE CREATE ON SCHEMA waiter FROM ${name}`);
      await db.query(`ALTER SCHEMA waiter OWNER TO ${name}`);
      const store = await open(inWaiter);
      expect((await store.add(event())).duplicate).toBe(false);
    });

    test("a user that may not call a function waiter's writes call, by a DBA's revoke, is told to grant EXECUTE on it, not rights on tables", async () => {
      const store = await open(await roleWith());
      await admin.query("REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC");
      try {
        await expect(store.add(event())).rejects.toThrow(
          "The event store cannot be written (PostgreSQL 42501: permission denied for function pg_notify): its database user may not call the function pg_notify, which waiter's writes call (PostgreSQL 127.0.0.1",
        );
        await expect(store.add(event())).rejects.toThrow(
          "Nothing is stored until whoever runs waiter grants it EXECUTE on that function (GRANT EXECUTE ON FUNCTION pg_notify TO …); tell them.",
        );
      } finally {
        await admin.query("GRANT EXECUTE ON FUNCTION pg_notify(text, text) TO PUBLIC");
      }
    });

    test("an upgrade that meets a lock after some of its steps says how far it went", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      onTestFinished(() => old.end());
      // Schema 10 alters the totals, 11 the automations' runs, which a long transaction holds.
      await migrate(old, 9);
      const holder = new pg.Client(url);
      await holder.connect();
      onTestFinished(() => holder.end());
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE automation_runs IN ACCESS SHARE MODE");
      // Half a second for the lock rather than waiter's 2 s: what is tested is how far it went.
      const refused = await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, upgradeLockWaitMs: 500 })
        .then((store) => stores.push(store))
        .catch((err: Error) => err.message);
      expect(refused).toContain(
        "rather than hold up the writes of the replicas still running, and took the tables from schema 9 to 10 only (a waiter older than this one refuses them from now on): start it again once that session ends",
      );
      expect((await old.query("SELECT version FROM waiter_schema")).rows).toEqual([{ version: 10 }]);
      await holder.query("COMMIT");
    });

    test("a search_path whose schema does not exist is named, with how to create it", async () => {
      const url = new URL(server.url);
      url.searchParams.set("options", "-c search_path=nosuch");
      await expect(open(url.href)).rejects.toThrow(
        "no schema the search path names (nosuch) exists, so waiter's tables have nowhere to go: create it first (CREATE SCHEMA nosuch AUTHORIZATION waiter), or name one that exists in WAITER_DATABASE_URL (?options=-c%20search_path%3D…)",
      );
    });

    test("the schema's URL, as docs/scaling.md and a start's words write it, is one psql and pg_dump take too, as the backup's steps use it", async () => {
      const nosuch = new URL(server.url);
      nosuch.searchParams.set("options", "-c search_path=nosuch");
      const said = await open(nosuch.href).catch((err: Error) => err.message);
      const docs = readFileSync(new URL("../docs/scaling.md", import.meta.url), "utf8");
      const forms = [
        /`\?options=([^`]*)` in the URL \| keeps waiter's tables in a schema of their own/.exec(docs)?.[1],
        /\?options=(\S*)…\)$/.exec(String(said))?.[1],
      ];
      for (const form of forms) {
        expect(form).toBeDefined();
        const url = `${server.url}?options=${(form as string).replace(/waiter$|$/, "t_docs")}`;
        const shown = execFileSync(PSQL, [url, "-tAc", "SHOW search_path"], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
        expect(shown.trim()).toBe("t_docs");
      }
    });

    test("a URL written in the config file is named there by what a start says to change in it", async () => {
      const dir = mkdtempSync(join(tmpdir(), "waiter-pg-"));
      const configFile = join(dir, "waiter.json");
      const start = (url: string) => {
        writeFileSync(configFile, JSON.stringify({ database: { url } }));
        return startServe(
          loadConfig({ env: { WAITER_DATA_DIR: dir }, file: configFile }, toolsets()),
          new Log("error", () => {}),
        );
      };
      const nowhere = new URL(server.url);
      nowhere.pathname = "/nosuch";
      await expect(start(nowhere.href)).rejects.toThrow(
        `database "nosuch" does not exist: check the database's name in database.url in ${configFile}`,
      );
      const noSchema = new URL(server.url);
      noSchema.searchParams.set("options", "-c search_path=nosuch");
      await expect(start(noSchema.href)).rejects.toThrow(
        `no schema the search path names (nosuch) exists, so waiter's tables have nowhere to go: create it first (CREATE SCHEMA nosuch AUTHORIZATION waiter), or name one that exists in database.url in ${configFile} (?options=-c%20search_path%3D…)`,
      );
      const ca = join(dir, "ca.pem");
      await expect(start(`${server.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`)).rejects.toThrow(
        `waiter cannot read ${ca}, the file sslrootcert in database.url in ${configFile} names (ENOENT)`,
      );
    });

    test("an upgrade that meets a backup's lock gives up in 2 s, changes nothing, and says to start again once it ends", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      onTestFinished(() => old.end());
      // Schema 11 alters a table.
      await migrate(old, 10);
      // What pg_dump holds on every table for as long as the dump runs.
      const backup = new pg.Client(url);
      await backup.connect();
      onTestFinished(() => backup.end());
      await backup.query("BEGIN");
      await backup.query("LOCK TABLE events, totals, automation_runs IN ACCESS SHARE MODE");
      const started = performance.now();
      await expect(open(url)).rejects.toThrow(
        `canceling statement due to lock timeout (PostgreSQL 55P03): upgrading waiter's tables waits for a lock another session holds on them, most often a backup (pg_dump holds one on every table until it ends) or a long transaction; waiter gave up after ${UPGRADE_LOCK_WAIT_MS / 1000} s rather than hold up the writes of the replicas still running, and changed nothing: start it again once that session ends`,
      );
      // Not the 15 s of the driver's query timeout, after which the server would still wait.
      expect(performance.now() - started).toBeLessThan(UPGRADE_LOCK_WAIT_MS + 3_000);
      expect((await old.query("SELECT version FROM waiter_schema")).rows).toEqual([{ version: 10 }]);
      // Nothing of waiter's waits on behind the backup, which would hold up other writes: neither
      // the upgrade's statement nor the lock replicas take turns to upgrade on.
      expect(await waitingOnLocks(old)).toBe(0);
      expect(
        (await old.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted")).rows,
      ).toEqual([{ n: 0 }]);
      await backup.query("COMMIT");
      await open(url);
      expect((await old.query("SELECT version FROM waiter_schema")).rows).toEqual([{ version: MIGRATIONS.length }]);
    });

    test("retention drops a large backlog in turns with the deliveries, never holding them up until all of it is gone", async () => {
      const url = await freshSchema();
      let dropped = 0;
      const store = await open(url, { ...LOOSE, maxEvents: 10 }, (d) => {
        dropped += d.count?.events ?? 0;
      });
      // What lowering WAITER_EVENTS_MAX_EVENTS leaves: 100,000 events over the limit.
      await backlog(url, 100_000);
      const started = performance.now();
      const expiring = store.expire().then(() => performance.now() - started);
      const adding = store.add(event()).then(() => performance.now() - started);
      const [expired, added] = await Promise.all([expiring, adding]);
      // The delivery waited for a part of the backlog (a tenth), not for all of it (which it would
      // end with): the bound leaves room for a loaded machine either way.
      expect(added).toBeLessThan(expired * 0.75);
      expect((await store.stats()).events).toBe(10);
      // Told in all, the delivery's share and retention's, each once.
      expect(dropped).toBe(100_000 + 1 - 10);
    });

    test("retention that fails after dropping part of a backlog still says what it dropped", async () => {
      const url = await freshSchema();
      let dropped = 0;
      const store = await open(url, { ...LOOSE, maxEvents: 10 }, (d) => {
        dropped += d.count?.events ?? 0;
      });
      const db = await backlog(url, 25_000);
      // The second part fails, as one cancelled by a lock wait or a lost connection would.
      await db.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.dedupe_id = 'b15000' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER refuse BEFORE INSERT ON dropped_deliveries FOR EACH ROW EXECUTE FUNCTION refuse()`);
      await expect(store.expire()).rejects.toThrow(/refused/);
      expect((await store.stats()).events).toBe(15_000);
      expect(dropped).toBe(10_000);
    });

    /** A fresh store with `rows` (SQL) added and analysed; `check` is given each query's plan. */
    async function planned(
      rows: string,
      check: (explain: (query: [string, unknown[]]) => Promise<string>) => Promise<void>,
    ) {
      const url = await freshSchema();
      await open(url);
      const db = new pg.Client(url);
      await db.connect();
      try {
        await db.query(`${rows}; ANALYZE events; ANALYZE counters`);
        await check(async ([sql, params]) => {
          const { rows: plan } = await db.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
          return plan.map((row) => row["QUERY PLAN"]).join("\n");
        });
      } finally {
        await db.end();
      }
    }

    test("a page of a rare type's events, or a prefix's, is read through the type index, not by walking every event newer than the page", async () => {
      // 20,000 events of one type, five of two others among the oldest, from erp.
      const rows = `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
        SELECT 'e' || g, CASE WHEN g <= 10 THEN 'erp' ELSE 'shop' END,
               CASE WHEN g <= 5 THEN 'refund.created' WHEN g <= 10 THEN 'refund.failed' ELSE 'order.paid' END,
               'none', 'd' || g, g, '{}', '\\x7b7d', true, 2
        FROM generate_series(1, 20000) AS g`;
      await planned(rows, async (explain) => {
        for (const filter of [
          { type: "refund.created" },
          { type: "refund." },
          { type: "refund*", source: "shop" },
          { type: "refund.failed", source: "shop" },
          { type: "charge." },
        ]) {
          for (const order of ["DESC", "ASC"] as const) {
            const plan = await explain(pageQuery(filter, { limit: 20 }, order));
            expect(plan, JSON.stringify(filter)).toMatch(/Index (Only )?Scan (Backward )?using events_by_type /);
            // Not a walk that checks each event's type, as a scan by sequence number would.
            expect(plan, JSON.stringify(filter)).not.toMatch(/Seq Scan|Filter: [^\n]*(\(type\)|starts_with)/);
          }
        }
      });
    });

    test("a page of events is read by index, never by walking every acknowledged event or a whole source; nor are the types before the newest", async () => {
      // 20,000 events, one in a hundred from erp, all but the last five acknowledged.
      const rows = `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size, acked_at)
        SELECT 'e' || g, CASE WHEN g % 100 = 0 THEN 'erp' ELSE 'shop' END, 'order.paid', 'none', 'd' || g, g, '{}',
               '\\x7b7d', true, 2, CASE WHEN g <= 19995 THEN g END
        FROM generate_series(1, 20000) AS g`;
      await planned(rows, async (explain) => {
        for (const filter of PAGE_FILTERS) {
          const index = filter.unackedOnly ? "events_unacked" : filter.source ? "events_by_source" : "events_pkey";
          // A page, and what a type that matched nothing may have meant, read from the newest events.
          for (const query of [pageQuery(filter, { limit: 20 }), typesQuery(filter, 19_000, 10)]) {
            const plan = await explain(query);
            expect(plan, JSON.stringify(filter)).toMatch(new RegExp(`Index Scan (Backward )?using ${index} `));
            expect(plan, JSON.stringify(filter)).not.toMatch(/Seq Scan/);
          }
        }
      });
    });

    test("a payment id a tool is given is looked up by its events' key, never by reading every event", async () => {
      // 20,000 events of a GoPay source, each a payment's state.
      const rows = `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
        SELECT 'e' || g, 'gopay', 'payment.paid', 'gopay', (3000000000 + g) || ':PAID', g, '{}', '\\x7b7d', true, 2
        FROM generate_series(1, 20000) AS g;
        INSERT INTO counters (source, outcome, n) VALUES ('gopay', 'received', 20000)`;
      await planned(rows, async (explain) => {
        const plan = await explain(paymentQuery("3000006542"));
        expect(plan).toMatch(/Index Scan using events_source_dedupe_id_key on events/);
        expect(plan).not.toMatch(/Seq Scan on events/);
      });
    });

    test("a database a newer waiter set up is refused, not changed", async () => {
      const url = await freshSchema();
      await open(url);
      const db = new pg.Client(url);
      await db.connect();
      await db.query("UPDATE waiter_schema SET version = $1", [MIGRATIONS.length + 1]);
      await db.end();
      await expect(open(url)).rejects.toThrow(new NewerStore(MIGRATIONS.length + 1, MIGRATIONS.length));
    });
  });

  describe("a DBA's settings on waiter's database user", () => {
    test("a statement_timeout shorter than an upgrade under way elsewhere: the replica waits its turn, and upgrades", async () => {
      const url = await roleWith("statement_timeout = 300");
      const upgrading = new pg.Client(server.url);
      await upgrading.connect();
      try {
        // Another replica's upgrade, under the lock every replica takes to upgrade.
        await upgrading.query("SELECT pg_advisory_lock($1)", [0x77616974]);
        const opening = open(url);
        // Waiting for the turn twice as long as the statement_timeout would let it.
        await expect.poll(() => waitingOnLocks(upgrading)).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 600));
        await upgrading.query("SELECT pg_advisory_unlock($1)", [0x77616974]);
        const store = await opening;
        await store.add(event());
        expect((await store.stats()).events).toBe(1);
      } finally {
        await upgrading.end();
      }
    });

    test("an upgrade runs without the user's statement_timeout, and without its transaction_timeout where the server has one (PostgreSQL 17), which 15 and 16 are not asked to lift", async () => {
      const { rows } = await admin.query("SELECT 1 FROM pg_settings WHERE name = 'transaction_timeout'");
      const hasTransactionTimeout = rows.length > 0;
      // Long enough never to end the test's upgrade: what matters is what its statements run with.
      const url = await roleWith(
        "statement_timeout = '1h'",
        ...(hasTransactionTimeout ? ["transaction_timeout = '1h'"] : []),
      );
      const user = new URL(url).username;
      // What the timeouts were as each statement of the upgrade that changes the tables began.
      await admin.query(
        "CREATE TABLE public.upgrade_timeouts (who TEXT, statement_timeout TEXT, transaction_timeout TEXT)",
      );
      await admin.query(`CREATE FUNCTION public.record_timeouts() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
        BEGIN
          INSERT INTO public.upgrade_timeouts
          VALUES (session_user, current_setting('statement_timeout'), current_setting('transaction_timeout', true));
        END $$`);
      await admin.query(
        "CREATE EVENT TRIGGER record_timeouts ON ddl_command_start EXECUTE FUNCTION public.record_timeouts()",
      );
      onTestFinished(async () => {
        await admin.query("DROP EVENT TRIGGER record_timeouts");
        await admin.query("DROP FUNCTION public.record_timeouts()");
        await admin.query("DROP TABLE public.upgrade_timeouts");
      });
      const store = await open(url);
      await store.add(event());
      expect((await store.stats()).events).toBe(1);
      const recorded = await admin.query<{ statement_timeout: string; transaction_timeout: string | null }>(
        "SELECT DISTINCT statement_timeout, transaction_timeout FROM public.upgrade_timeouts WHERE who = $1",
        [user],
      );
      expect(recorded.rows).toEqual([
        { statement_timeout: "0", transaction_timeout: hasTransactionTimeout ? "0" : null },
      ]);
    });

    test("a statement the server cancels on the user's statement_timeout is said as such, with what to change, and stores nothing", async () => {
      const url = await roleWith("statement_timeout = 500");
      const store = await open(url);
      const psql = new pg.Client(url);
      await psql.connect();
      try {
        await psql.query("BEGIN");
        await psql.query("SELECT 1 FROM totals FOR UPDATE");
        const adding = store.add(event({ dedupeId: "cancelled" }));
        await expect(adding).rejects.toBeInstanceOf(ToolError);
        await expect(adding).rejects.toThrow(
          /^The event store's database cancelled waiter's statement \(PostgreSQL 57014: canceling statement due to statement timeout; PostgreSQL 127\.0\.0\.1:\d+\/waiter\): a statement_timeout set on its user or database shorter than the statement needed \(ALTER ROLE … SET statement_timeout = 0, for waiter's user, lifts it\), or someone cancelled it \(pg_cancel_backend\); nothing of it is stored, so tell whoever runs waiter if this lasts; try again in a moment\.$/,
        );
        await psql.query("COMMIT");
        expect((await store.stats()).events).toBe(0);
      } finally {
        await psql.end();
      }
    });

    test("a search_path changed on the user while waiter runs leaves its connections in the schema its tables are in", async () => {
      const url = await roleWith();
      const user = new URL(url).username;
      const [store, other] = [await open(url), await open(url)];
      const stored = await store.add(event());
      await admin.query(`CREATE SCHEMA elsewhere AUTHORIZATION ${user}`);
      onTestFinished(async () => {
        await admin.query("DROP SCHEMA elsewhere CASCADE");
      });
      await admin.query(`ALTER ROLE ${user} SET search_path = elsewhere`);
      // The connections the pools open from now on: their idle ones end, as they do after 30 s.
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [user]);
      await expect
        .poll(async () => (await store.list({}, { limit: 5 }).catch(() => [])).map((e) => e.id))
        .toEqual([stored.id]);
      const told: string[] = [];
      store.subscribe((e) => told.push(e.id));
      const added = await other.add(event());
      await expect.poll(() => told).toContain(added.id);
      expect((await store.stats()).events).toBe(2);
    });

    test("connections used up, by the server's max_connections or the user's connection limit, are said with what to raise, at start and after", async () => {
      const url = await roleWith();
      const user = new URL(url).username;
      await admin.query(`ALTER ROLE ${user} CONNECTION LIMIT 2`);
      const held = [new pg.Client(url), new pg.Client(url)];
      for (const client of held) await client.connect();
      try {
        await expect(open(url)).rejects.toThrow(
          new RegExp(
            `^too many connections for role "${user}" \\(PostgreSQL 53300\\): the database server has no connection to spare for waiter: raise its max_connections, or the connection limit of waiter's user \\(ALTER ROLE … CONNECTION LIMIT\\), or end the sessions of other programs; each waiter holds up to 11$`,
          ),
        );
      } finally {
        for (const client of held) await client.end();
      }
      // One for its queries and one listening: the third a burst of calls needs is refused.
      const store = await open(url);
      const failed = (await Promise.allSettled([1, 2, 3].map(() => store.stats()))).find(
        (outcome) => outcome.status === "rejected",
      );
      expect(failed?.reason).toBeInstanceOf(ToolError);
      expect(String(failed?.reason)).toMatch(
        /^ToolError: The event store's database has no connection to spare for waiter \(PostgreSQL 53300: too many connections for role "dba\d+"; PostgreSQL 127\.0\.0\.1:\d+\/waiter\): raise its max_connections, or the connection limit of waiter's user \(ALTER ROLE … CONNECTION LIMIT\), or end the sessions of other programs; each waiter holds up to 11\. waiter tries again at each call; try again in a moment\.$/,
      );
    });

    test("an idle_session_timeout on the user ends none of waiter's connections, which end their idle ones themselves", async () => {
      const warnings = warningsSaid();
      const url = await roleWith("idle_session_timeout = 500");
      const [a, b] = [await open(url), await open(url)];
      const told: string[] = [];
      b.subscribe((e) => told.push(e.id));
      // Idle twice as long as the server lets a session be.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const added = await a.add(event());
      await expect.poll(() => told).toEqual([added.id]);
      expect(warnings.filter((line) => /idle-session timeout|listening .* failed/.test(line))).toEqual([]);
    });

    test("a default_transaction_isolation of repeatable read or serializable on the user fails no delivery, retention or acknowledgement that waited for another replica's", async () => {
      for (const level of ["repeatable read", "serializable"]) {
        const url = await roleWith(`default_transaction_isolation = '${level}'`);
        // Its connections, lock waits and statements outlast the poll below, on a machine the suite's other files load.
        const store = await PostgresEventStore.open({
          url,
          retention: LOOSE,
          connectMs: 15_000,
          lockWaitMs: 60_000,
          queryMs: 60_000,
        });
        stores.push(store);
        const { id } = await store.add(event({ dedupeId: "first" }));
        const other = new pg.Client(url);
        await other.connect();
        try {
          // Another replica's commit under way, holding the turn and an event's row.
          await other.query("BEGIN");
          await other.query("UPDATE totals SET events = events");
          await other.query("UPDATE events SET acked_at = NULL WHERE id = $1", [id]);
          const adding = store.add(event({ dedupeId: "second" }));
          const acking = store.ack([id]);
          const expiring = store.expire();
          // Each may need a connection the pool opens first (the add, say, while the retention the open
          // started still holds one), which a busy machine (the suite's other files) may take seconds for.
          await expect.poll(() => waitingOnLocks(other), { timeout: 40_000 }).toBe(3);
          await other.query("COMMIT");
          const [added, acked] = await Promise.all([adding, acking, expiring]);
          expect(added.duplicate).toBe(false);
          expect(acked).toEqual({ acked: [id], already: [], unknown: [] });
          expect((await store.stats()).events).toBe(2);
        } finally {
          await other.end();
        }
      }
    }, 100_000);

    test("a server that takes no writes, by default_transaction_read_only or as a standby, is said as such as waiter starts to set up its tables", async () => {
      const url = await roleWith("default_transaction_read_only = on");
      await expect(open(url)).rejects.toThrow(
        /^cannot execute CREATE TABLE in a read-only transaction \(PostgreSQL 25006\): the database server takes no writes, so waiter cannot set up or upgrade its tables there: a standby, or read-only by its settings \(default_transaction_read_only\); point WAITER_DATABASE_URL at the primary server$/,
      );
    });
  });

  test("an upgrade elsewhere that takes longer than a query may: the replica waits its turn, however long", async () => {
    const url = await freshSchema();
    const upgrading = new pg.Client(server.url);
    await upgrading.connect();
    try {
      // Another replica's upgrade (an index built on a full store), under the lock every replica
      // takes to upgrade, for longer than any other query of waiter's may take (15 s; here 0.5 s).
      await upgrading.query("SELECT pg_advisory_lock($1)", [0x77616974]);
      const opening = PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, queryMs: 500 });
      opening.then((store) => stores.push(store)).catch(() => {});
      // Waiting for the turn twice as long as the query timeout would let it.
      await expect.poll(() => waitingOnLocks(upgrading)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await upgrading.query("SELECT pg_advisory_unlock($1)", [0x77616974]);
      const store = await opening;
      await store.add(event());
      expect((await store.stats()).events).toBe(1);
    } finally {
      await upgrading.end();
    }
  });

  describe("a database that goes away", () => {
    test("calls fail with words a model can act on, and the store works again when it is back", async () => {
      const url = await freshSchema();
      const store = await open(url);
      const warnings = warningsSaid();
      const told: string[] = [];
      store.subscribe((e) => told.push(e.id));
      await store.add(event());
      await server.halt();
      try {
        const refused = store.list({}, { limit: 5 });
        await expect(refused).rejects.toBeInstanceOf(ToolError);
        await expect(refused).rejects.toThrow(/event store's database cannot be reached .* try again in a moment/);
        await expect(store.add(event())).rejects.toBeInstanceOf(ToolError);
      } finally {
        await server.resume();
      }
      await expect.poll(async () => (await store.add(event()).catch(() => undefined))?.duplicate).toBe(false);
      expect((await store.stats()).events).toBe(2);
      // And it hears the other replicas again.
      const other = await open(url);
      const added = await other.add(event());
      await expect.poll(() => told.includes(added.id), { timeout: 15_000 }).toBe(true);
      // The watch said it lost the database once, not at each attempt, and that it listens again
      // (which may come just after its first read: a notification can start that read).
      const watch = () => warnings.filter((line) => /events committed by other waiter processes/.test(line));
      await expect
        .poll(watch)
        .toEqual([
          expect.stringMatching(
            /^listening for events committed by other waiter processes failed \(.*\); trying again/,
          ),
          expect.stringMatching(
            /^listening again for events committed by other waiter processes, after \d+ failed attempts? over \d+ s$/,
          ),
        ]);
    }, 30_000);
  });

  test("a delivery kept waiting by a lock a person's session holds fails in the lock wait, and is not stored after it was refused", async () => {
    const url = await freshSchema();
    const store = await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, lockWaitMs: 500 });
    stores.push(store);
    const psql = new pg.Client(url);
    await psql.connect();
    try {
      await psql.query("BEGIN");
      await psql.query("SELECT 1 FROM totals FOR UPDATE");
      const adding = store.add(event({ dedupeId: "held-up" }));
      await expect(adding).rejects.toBeInstanceOf(ToolError);
      await expect(adding).rejects.toThrow(
        /^The event store's database kept waiter waiting more than 0\.5 s for a lock another session holds on its tables \(PostgreSQL 55P03: .*; PostgreSQL 127\.0\.0\.1:\d+\/waiter\): a transaction left open .*; try again in a moment\.$/,
      );
      // Nothing of waiter's still waits there, to be stored once the lock is let go: the retention
      // the store runs as it opens, if it came to the lock after the test took it, gives up too.
      await expect.poll(() => waitingOnLocks(psql)).toBe(0);
      await psql.query("COMMIT");
      expect((await store.stats()).events).toBe(0);
    } finally {
      await psql.end();
    }
  });

  describe("a database that stops answering", () => {
    /** A fresh store's URL through a proxy that the test silences. */
    async function proxied(): Promise<SilentProxy> {
      const proxy = await silentProxy(await freshSchema());
      proxies.push(proxy);
      return proxy;
    }

    test("a start waits for a connection as long as the URL's connect_timeout, else PGCONNECT_TIMEOUT, else 5 s, and says which it waited", async () => {
      const proxy = await proxied();
      proxy.silence();
      const variable = process.env.PGCONNECT_TIMEOUT;
      onTestFinished(() => {
        vi.useRealTimers();
        if (variable === undefined) delete process.env.PGCONNECT_TIMEOUT;
        else process.env.PGCONNECT_TIMEOUT = variable;
      });
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
      /** Lets what the sockets have to say be heard, the clock standing still. */
      const settle = async () => {
        for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      };
      /** A start on `url`, PGCONNECT_TIMEOUT set to `env`: still waiting a moment before `seconds`, then its failure's words. */
      const startFailing = async (
        url: string,
        env: string | undefined,
        seconds: number,
        start: (url: string) => Promise<{ close(): Promise<void> }> = (url) =>
          PostgresEventStore.open({ url, retention: LOOSE }),
      ) => {
        if (env === undefined) delete process.env.PGCONNECT_TIMEOUT;
        else process.env.PGCONNECT_TIMEOUT = env;
        const sent = proxy.unanswered();
        let failure: Error | undefined;
        const opening = start(url).then(
          (started) => void onTestFinished(() => started.close()),
          (err: Error) => {
            failure = err;
          },
        );
        // Not expect.poll, which moves fake timers on as it waits.
        while (proxy.unanswered() <= sent) await settle();
        await vi.advanceTimersByTimeAsync(seconds * 1_000 - 1);
        await settle();
        expect(failure, `${url} ${env}`).toBeUndefined();
        await vi.advanceTimersByTimeAsync(1);
        await opening;
        return failure?.message;
      };
      // A far database's own allowance, which beats the variable.
      expect(await startFailing(`${proxy.url}&connect_timeout=15`, "8", 15)).toBe(
        "the database server took no connection within 15 s (connect_timeout in WAITER_DATABASE_URL): check that it runs and that its address and port are right, and nothing between drops the connection; a far one may need longer (connect_timeout in WAITER_DATABASE_URL, in seconds)",
      );
      expect(await startFailing(proxy.url, "8", 8)).toMatch(
        /^the database server took no connection within 8 s \(PGCONNECT_TIMEOUT\): /,
      );
      expect(await startFailing(proxy.url, undefined, 5)).toMatch(
        /^the database server took no connection within 5 s \(waiter's default; connect_timeout in WAITER_DATABASE_URL or PGCONNECT_TIMEOUT sets another\): /,
      );
      // No limit, to libpq: a start that never ends, which waiter bounds.
      expect(await startFailing(`${proxy.url}&connect_timeout=0`, undefined, 5)).toMatch(
        /^the database server took no connection within 5 s \(waiter's default, which connect_timeout=0 in WAITER_DATABASE_URL, no limit to libpq, does not lift\): /,
      );
      // A URL in the config file is named there, as whoever runs waiter wrote it.
      const dir = mkdtempSync(join(tmpdir(), "waiter-pg-"));
      const configFile = join(dir, "waiter.json");
      const fromFile = (url: string) => {
        writeFileSync(configFile, JSON.stringify({ database: { url } }));
        return startServe(
          loadConfig({ env: { WAITER_DATA_DIR: dir }, file: configFile }, toolsets()),
          new Log("error", () => {}),
        );
      };
      expect(await startFailing(`${proxy.url}&connect_timeout=15`, "8", 15, fromFile)).toMatch(
        `the database server took no connection within 15 s (connect_timeout in database.url in ${configFile}): check that it runs and that its address and port are right, and nothing between drops the connection; a far one may need longer (connect_timeout in database.url in ${configFile}, in seconds)`,
      );
    });

    test("a listening connection that takes longer than the connect timeout is said with the time and where it was set", async () => {
      const warnings = warningsSaid();
      // The store's first connection (its upgrade's, then its queries') is answered; the listening one is not.
      const proxy = await silentProxy(await freshSchema(), 1);
      proxies.push(proxy);
      const store = await PostgresEventStore.open({ url: `${proxy.url}&connect_timeout=2`, retention: LOOSE });
      stores.push(store);
      // A warning is emitted on the next tick.
      const listening = () =>
        warnings.filter((line) => /^listening for events committed by other waiter processes/.test(line));
      await expect
        .poll(listening)
        .toEqual([
          "listening for events committed by other waiter processes failed: the database server took no connection within 2 s (connect_timeout in WAITER_DATABASE_URL); trying again every 10 s at most",
        ]);
    });

    test("closing waits 1 s for it, then fails the adds still waiting and says which may not be stored", async () => {
      const proxy = await proxied();
      const store = await open(proxy.url);
      proxy.silence();
      const committing = store.add(event({ dedupeId: "under-way" }));
      await expect.poll(() => proxy.unanswered()).toBeGreaterThan(0);
      const queued = store.add(event({ dedupeId: "queued" }));
      const started = performance.now();
      const closed = store.close();
      await expect(closed).rejects.toBeInstanceOf(LeftUndone);
      await expect(closed).rejects.toThrow(
        "stopping without the event store's database, which did not answer in 1 s; 2 deliveries may not be stored (shop under-way, shop queued), and none was answered 2xx, so their senders deliver them again",
      );
      // 1 s, give or take a loaded machine: not the query timeout's 15.
      expect(performance.now() - started).toBeLessThan(5_000);
      await expect(committing).rejects.toThrow(/did not answer before waiter stopped: the delivery may not be stored/);
      await expect(queued).rejects.toThrow(/did not answer before waiter stopped/);
    });

    test("/healthz answers 503 at once, not after the query timeout: a health check and a waiter asking who holds the port hear", async () => {
      const proxy = await proxied();
      const { app, stderr } = await startApp(
        {
          WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }),
          ERP_SECRET,
          WAITER_DATABASE_URL: proxy.url,
          WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
        },
        { listener: true },
      );
      try {
        proxy.silence();
        const started = performance.now();
        const health = await request(`${app.listener?.url}/healthz`);
        expect(health.statusCode).toBe(503);
        expect(await health.body.json()).toEqual({ status: "store not answering", mode: "stdio", sources: ["erp"] });
        // Whoever runs it hears why the node left its load balancer.
        expect(stderr()).toMatch(/warning .*webhook listener: \/healthz: the event store did not answer within 500 ms/);
        // Half a second, give or take a loaded machine: not the query timeout's 15.
        expect(performance.now() - started).toBeLessThan(5_000);
      } finally {
        // The database gone rather than silent: the stop has nothing to wait for.
        await proxy.close();
        await app.close().catch(() => {});
      }
    });

    test("SIGTERM while a delivery's commit gets no answer: waiter listen stops 1 s after the drain, waiter serve 3 s, each exits 1 naming the delivery, whose sender got no 2xx", async () => {
      const start = async (mode: "listen" | "serve") => {
        const proxy = await proxied();
        const env = {
          WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }),
          ERP_SECRET,
          WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-pg-")),
          WAITER_DATABASE_URL: proxy.url,
          WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
          WAITER_TOOLSETS: "events,webhooks",
          // The drain a stop gives requests in flight; the delivery's own request is cut at its end.
          WAITER_STOP_SECONDS: "1",
        };
        const ready = mode === "listen" ? /listening for webhooks on (http:\/\/\S+);/ : SERVING;
        return { mode, proxy, waiter: await startNode([CLI, mode], env, ready) };
      };
      const [listening, serving] = await Promise.all([start("listen"), start("serve")]);
      // Bound to port 0, the listener names its sources at the port the system chose.
      await expect.poll(() => listening.waiter.stderr()).toContain(`: ${listening.waiter.said}/webhooks/erp`);
      // A client's session, whose last use waiter serve writes to the store as it stops.
      const client = new Client({ name: "waiter-tests", version: "0.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serving.waiter.said}/mcp`)));
      try {
        const stops = [listening, serving].map(async ({ mode, proxy, waiter }) => {
          proxy.silence();
          const body = JSON.stringify({ invoice: mode });
          const posted = request(`${waiter.said}/webhooks/erp`, {
            method: "POST",
            body,
            headers: erpHeaders(body, `inv-${mode}`),
          }).then(
            (answer) => answer.statusCode,
            () => 0,
          );
          // The commit is sent, and gets no answer.
          await expect.poll(() => proxy.unanswered()).toBeGreaterThan(0);
          const started = performance.now();
          waiter.child.kill("SIGTERM");
          const status = await waiter.exited;
          return { mode, ms: performance.now() - started, status, answer: await posted, said: waiter.stderr() };
        });
        const [listen, serve] = await Promise.all(stops);
        for (const stopped of [listen, serve]) {
          expect(stopped?.status, stopped?.said).toBe(1);
          expect(stopped?.answer).not.toBe(200);
          expect(stopped?.said).toContain(
            `stopping without the event store's database, which did not answer in 1 s; 1 delivery may not be stored (erp inv-${stopped?.mode}), and none was answered 2xx, so their senders deliver them again`,
          );
        }
        // The drain's 1 s, then 1 s for the store; waiter serve waits 2 s first for the sessions'
        // last use. A store that waited for its query timeout would take 15 s more.
        expect(listen?.ms).toBeLessThan(8_000);
        expect(serve?.ms).toBeLessThan(10_000);
      } finally {
        await client.close();
      }
    }, 30_000);
  });

  test("a database server whose disk is full is said as such, to a model and in the listener's log", async () => {
    const url = await freshSchema();
    const { app, stderr } = await startApp(
      {
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }),
        ERP_SECRET,
        WAITER_DATABASE_URL: url,
        WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      },
      { listener: true },
    );
    const deliver = (delivery: string) => deliverTo(app.listener?.url, delivery);
    const db = new pg.Client(url);
    await db.connect();
    try {
      expect(await deliver("inv-1")).toBe(200);
      const [first] = (await app.store?.list({}, { limit: 1 })) ?? [];
      // What PostgreSQL answers when a write needs a page its disk has no room for.
      await db.query(`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        RAISE EXCEPTION 'could not extend file "base/16384/16390": No space left on device'
          USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
      END $$`);
      await db.query(
        "CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON events FOR EACH ROW EXECUTE FUNCTION disk_full()",
      );
      const said =
        /The event store cannot be written \(PostgreSQL 53100: could not extend file "base\/16384\/16390": No space left on device\): the disk of its database server is full \(PostgreSQL 127\.0\.0\.1:\d+\/waiter\)\. Nothing is stored until whoever runs waiter frees space there; tell them\./;
      for (const delivery of ["inv-2", "inv-3"]) expect(await deliver(delivery)).toBe(503);
      expect(
        stderr().match(
          new RegExp(`webhook erp delivery "inv-2" not stored, answered 503 \\(.*\\): ${said.source}`, "g"),
        ),
      ).toHaveLength(1);
      const client = await connect(app.session(new Log("error", () => {})));
      const acked = await client.callTool({ name: "events_ack", arguments: { ids: [first?.id] } });
      expect(acked.isError).toBe(true);
      expect((acked.content as { text: string }[])[0]?.text).toMatch(new RegExp(`^${said.source}$`));
      // A standby, or a server made read-only, is for whoever runs waiter to point it elsewhere.
      await db.query(`CREATE OR REPLACE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        RAISE EXCEPTION 'cannot execute INSERT in a read-only transaction' USING ERRCODE = 'read_only_sql_transaction';
      END $$`);
      const standby = await client.callTool({ name: "events_ack", arguments: { ids: [first?.id] } });
      expect((standby.content as { text: string }[])[0]?.text).toMatch(
        /^The event store cannot be written \(PostgreSQL 25006: cannot execute INSERT in a read-only transaction\): its database server takes no writes: a standby, or read-only by its settings \(PostgreSQL .*\)\. Nothing is stored until whoever runs waiter points WAITER_DATABASE_URL at the primary server; tell them\.$/,
      );
      // Out of memory passes by itself, as a moment without a connection to spare does.
      await db.query(`CREATE OR REPLACE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        RAISE EXCEPTION 'out of memory' USING ERRCODE = 'out_of_memory';
      END $$`);
      const again = await client.callTool({ name: "events_ack", arguments: { ids: [first?.id] } });
      expect((again.content as { text: string }[])[0]?.text).toMatch(
        /^The event store's database cannot be reached \(PostgreSQL 53200: out of memory\)\. .*try again in a moment\.$/,
      );
      expect(stderr()).not.toMatch(/crashed|bug in waiter|webhook listener failed/);
    } finally {
      await db.end();
      await app.close();
    }
  });
});
