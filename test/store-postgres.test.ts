import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { describe, expect, onTestFinished, test, vi } from "vitest";
import { startServe } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { MIGRATIONS, migrate, UPGRADE_LOCK_WAIT_MS } from "../src/events/postgres/schema.js";
import {
  deliveredAsQuery,
  droppedEventsQuery,
  droppedPaymentQuery,
  PostgresEventStore,
  pageQuery,
  paymentQuery,
  reusedAsQuery,
  typesQuery,
} from "../src/events/postgres/store.js";
import { ListenWatch } from "../src/events/postgres/watch.js";
import { type Gone, NewerStore, StoreBusy, type StoredEvent, StoreNotWritable } from "../src/events/store.js";
import { Log } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { freePort, REFUSING_PORT } from "./fakes/http.js";
import {
  germanProxy,
  PSQL,
  poolerProxy,
  postgresAvailable,
  postgresRequired,
  silentProxy,
  startPostgres,
  startupProxy,
} from "./postgres.js";
import { addMany, event, eventStoreContract, LOOSE, numbersMovedSql, PAGE_FILTERS, stored } from "./store-contract.js";
import {
  admin,
  backlog,
  cutListening,
  erase,
  freshSchema,
  heard,
  open,
  postgresForm,
  proxies,
  roleWith,
  server,
  setUpDatabase,
  stores,
  uniqueName,
  upgradeLockHeld,
  usePostgres,
  waitingOnLocks,
  warningsSaid,
} from "./store-postgres-shared.js";
import { smallDisk } from "./tmpfs.js";

/**
 * A store on `url` whose retention keeps one event, so that its every run has events to drop, and
 * that waits `lockWaitMs` for a lock another session holds; closed when the test ends.
 */
async function keepingOne(url: string, lockWaitMs: number): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open({
    url,
    retention: { ...LOOSE, maxEvents: 1 },
    connectMs: 2_000,
    lockWaitMs,
  });
  stores.push(store);
  return store;
}

/** The server's time now, to tell a test's statements from those its earlier tests left listed. */
async function serverNow(): Promise<Date> {
  return (await admin.query<{ now: Date }>("SELECT clock_timestamp() AS now")).rows[0]?.now as Date;
}

/**
 * The connection of a retention run that asks for the turn, given when the run began ($1): from its
 * first try until the run ends, its last statement is a try or, between tries, its look at who holds
 * the turn, so a poll for it cannot miss it as one for either statement alone could.
 */
const retentionTrying = `FROM pg_stat_activity WHERE application_name = 'waiter' AND query_start > $1
  AND (query LIKE 'SELECT waiter_retain(%' OR query = 'SELECT xmax::text AS by FROM totals')`;

describe.runIf(postgresAvailable || postgresRequired)("the event store on PostgreSQL", () => {
  usePostgres();

  describe("the event store's contract", () => {
    eventStoreContract(async (retention = LOOSE, onDropped, sources) => {
      const url = await setUpDatabase();
      const store = await open(url, retention, onDropped, sources);
      return {
        store,
        another: (sources) => open(url, LOOSE, undefined, sources),
        erase: (text) => erase(url, text),
      };
    });
  });

  test("a throwaway server whose port another process took after it was picked starts on another", async () => {
    // Another run's server on the port, as one whose worker picks from the same block binds it.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const { port } = taken.address() as AddressInfo;
    let picks = 0;
    const other = await startPostgres({ pickPort: () => (picks++ === 0 ? Promise.resolve(port) : freePort()) });
    try {
      expect(other.port).not.toBe(port);
      const db = new pg.Client(other.url);
      await db.connect();
      await db.end();
    } finally {
      await other.stop();
    }
  });

  test("proving the store writable fails where a delivery does, on a disk too full for the events' new pages, though a small row fits in a page it has; and leaves the events and their numbers as they were", async ({
    skip,
  }) => {
    const { dir, fill, free, unmount } = smallDisk("2m", skip);
    const space = uniqueName("full");
    const schema = uniqueName("t");
    let store: PostgresEventStore | undefined;
    try {
      // The cluster runs as the postgres user, which must own a tablespace's directory.
      const owner = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString());
      chownSync(dir, owner("-u"), owner("-g"));
      await admin.query(`CREATE TABLESPACE ${space} LOCATION '${dir}'`);
      await admin.query(`CREATE SCHEMA ${schema}`);
      const options = `-c search_path=${schema} -c default_tablespace=${space}`;
      store = await PostgresEventStore.open({
        url: `${server.url}?options=${encodeURIComponent(options)}`,
        retention: LOOSE,
        connectMs: 2_000,
      });
      // The events, and the counts, have a page each with room in it.
      const first = await stored(store, event());
      fill();
      // Random, as PostgreSQL would store a compressible body in less than its size.
      const large = event({ body: Buffer.from(JSON.stringify({ pad: randomBytes(30_000).toString("base64") })) });
      await expect(store.add(large)).rejects.toThrow(StoreNotWritable);
      await expect(store.proveWritable(large.body.length)).rejects.toThrow(/PostgreSQL 53100/);
      free();
      const numbered = `SELECT pg_sequence_last_value(pg_get_serial_sequence('${schema}.events', 'seq')) AS last`;
      const before = (await admin.query<{ last: string }>(numbered)).rows[0]?.last;
      await store.proveWritable(large.body.length);
      expect((await admin.query<{ last: string }>(numbered)).rows[0]?.last).toBe(before);
      expect((await admin.query(`SELECT seq FROM ${schema}.events`)).rows).toEqual([{ seq: String(first.seq) }]);
      expect(await store.latestSeq()).toBe(first.seq);
      expect((await store.add(large)).duplicate).toBe(false);
    } finally {
      await store?.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP TABLESPACE IF EXISTS ${space}`);
      unmount();
    }
  });

  test("the statement docs/webhooks.md gives to move the event numbers after a restore moves them past those of the events it lost", async () => {
    const url = await setUpDatabase();
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

  test("the backup docs/webhooks.md gives on PostgreSQL, restored as it says over the tables there, brings back the events it holds and moves the numbers past those it lost", async () => {
    // As docs/scaling.md sets it up: waiter's user owns its schema, and may create no other in the database.
    const url = await roleWith();
    const schema = new URL(url).username;
    const docs = readFileSync(new URL("../docs/webhooks.md", import.meta.url), "utf8");
    const section = docs.slice(docs.indexOf("### Backing up and restoring the store"));
    const line = (start: string) => new RegExp(`^${start}.*$`, "m").exec(section)?.[0];
    const [dump, restore] = [line(String.raw`(?:\(umask 077; )?pg_dump `), line("pg_restore ")];
    expect([dump, restore]).not.toContain(undefined);
    const dir = mkdtempSync(join(tmpdir(), "waiter-dump-"));
    // As an IT person runs them, with the URL waiter is given; `waiter`, the schema the docs name, is this test's.
    const run = (command: string) =>
      execFileSync(
        "sh",
        ["-c", command.replaceAll("/path/", `${dir}/`).replaceAll("--schema=waiter", `--schema=${schema}`)],
        {
          env: { ...process.env, WAITER_DATABASE_URL: url, PATH: `${dirname(PSQL)}:${process.env.PATH}` },
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
    const store = await open(url);
    const kept = await stored(store, event());
    // Readable by its owner alone from its first byte, whatever the shell's umask.
    run(`umask 022; ${dump}`);
    expect(statSync(join(dir, "waiter.dump")).mode & 0o777).toBe(0o600);
    const lost = await stored(store, event());
    stores.splice(stores.indexOf(store), 1);
    await store.close();

    run(restore as string);
    const psql = new pg.Client(url);
    await psql.connect();
    for (const statement of numbersMovedSql("psql")) await psql.query(statement);
    await psql.end();
    const restored = await open(url);
    expect(await restored.get(kept.id)).toBeDefined();
    expect(await restored.get(lost.id)).toBeUndefined();
    expect(await restored.latestSeq()).toBeGreaterThan(lost.seq);
    const after = await stored(restored, event());
    expect((await restored.list({}, { after: lost.seq, limit: 10 })).map((e) => e.id)).toEqual([after.id]);
  });

  test("erasing a customer's events as docs/webhooks.md says takes the runs that outlived their event, whose steps hold the person's data", async () => {
    const url = await setUpDatabase();
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

  test("erasing a customer's events as docs/webhooks.md says on PostgreSQL leaves their text in no file of the tables", async () => {
    const url = await setUpDatabase();
    const store = await open(url);
    const email = "jana.novakova@example.cz";
    const run = (await store.runs.begin(
      "paid",
      (
        await stored(store, event({ body: Buffer.from(JSON.stringify({ email })) }))
      ).id,
      false,
      clock.now(),
    )) as number;
    await store.runs.step(run, 0, "failed", JSON.stringify({ tool: "notify_email", args: { to: email } }), clock.now());
    const psql = new pg.Client(url);
    await psql.connect();
    try {
      const onDisk = async () => {
        await psql.query("CHECKPOINT");
        const { rows } = await psql.query<{ held: boolean }>(
          `SELECT bool_or(position(convert_to($1, 'UTF8') in pg_read_binary_file(pg_relation_filepath(name))) > 0) AS held
           FROM unnest(ARRAY['events', 'automation_runs', 'automation_steps']::regclass[]) AS name`,
          [email],
        );
        return rows[0]?.held;
      };
      await erase(url, email);
      // Deleted, the rows stay in the tables' files until a vacuum clears them.
      expect(await onDisk()).toBe(true);
      await psql.query(postgresForm("VACUUM"));
      expect(await onDisk()).toBe(false);
    } finally {
      await psql.end();
    }
  });

  describe("several replicas, one database", () => {
    test("commits take turns: an add waits while another replica's commit holds the turn", async () => {
      const url = await setUpDatabase();
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
        await expect.poll(() => waitingOnLocks(holder)).toBe(1);
        expect(done).toBe(false);
        await holder.query("COMMIT");
        expect((await adding).duplicate).toBe(false);
      } finally {
        await holder.end();
      }
    });

    test("a delivery that comes to one replica while another's waits for the turn a person's session holds gives up after one lock wait, not after both", async () => {
      const url = await setUpDatabase();
      // Long enough that its half leaves 2 s for a busy machine to hold either replica's add.
      const lockWaitMs = 4_000;
      const opened = () => PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, lockWaitMs });
      const [one, two] = [await opened(), await opened()];
      stores.push(one, two);
      const psql = new pg.Client(url);
      await psql.connect();
      try {
        await psql.query("BEGIN");
        await psql.query("SELECT 1 FROM totals FOR UPDATE");
        const first = one.add(event({ dedupeId: "first" }));
        first.catch(() => {});
        await expect.poll(() => waitingOnLocks(psql)).toBe(1);
        const started = performance.now();
        await expect(two.add(event({ dedupeId: "next" }))).rejects.toBeInstanceOf(StoreBusy);
        // Queued behind the first, it would wait out the rest of the first's wait, then one of its own.
        expect(performance.now() - started).toBeLessThan(lockWaitMs * 1.5);
        await expect(first).rejects.toBeInstanceOf(StoreBusy);
        await expect.poll(() => waitingOnLocks(psql)).toBe(0);
      } finally {
        await psql.query("ROLLBACK");
        await psql.end();
      }
      expect((await one.stats()).events).toBe(0);
    });

    test("retention kept waiting by a person's lock on an event it drops lets go of the turn: another replica's delivery is stored meanwhile, not held up behind it", async () => {
      const url = await setUpDatabase();
      const lockWaitMs = 2_000;
      const opened = (maxEvents: number) =>
        PostgresEventStore.open({ url, retention: { ...LOOSE, maxEvents }, connectMs: 2_000, lockWaitMs });
      const [one, two] = [await opened(1), await opened(LOOSE.maxEvents)];
      stores.push(one, two);
      // The runs of retention the stores start as they open are over before the backlog comes.
      await Promise.all([one.expire(), two.expire()]);
      const db = await backlog(url, 3);
      try {
        await db.query("BEGIN");
        await db.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
        const expiring = one.expire();
        expiring.catch(() => {});
        await expect.poll(() => waitingOnLocks(db)).toBe(1);
        const started = performance.now();
        expect((await two.add(event({ dedupeId: "meanwhile" }))).duplicate).toBe(false);
        expect(performance.now() - started).toBeLessThan(lockWaitMs / 2);
        // Retention itself gives up after the lock wait, as before, and the person's lock stays theirs;
        // its failure, said in the log alone, says that deliveries are stored meanwhile, not that none is.
        await expect(expiring).rejects.toBeInstanceOf(StoreBusy);
        await expect(expiring).rejects.toThrow(
          /^it asked for 2 s, waiting 50 ms at a time, for a lock another session held on the events it drops or on PostgreSQL's notifications \(PostgreSQL 55P03: canceling statement due to lock timeout; PostgreSQL [^)]+\): a transaction left open on them \(in psql, say\), a LOCK TABLE, a VACUUM FULL, or commits that notify back to back in the cluster; that part of the run dropped nothing, deliveries are stored meanwhile, and the next run tries again in 10 minutes$/,
        );
      } finally {
        await db.query("ROLLBACK");
      }
      await expect.poll(() => waitingOnLocks(db)).toBe(0);
    });

    test("a retention run whose statement the server cancels is said as retention given up, not as a delivery that stored nothing", async () => {
      const url = await freshSchema();
      // A lock wait long enough that the run is still asking when its statement is cancelled.
      const store = await keepingOne(url, 30_000);
      // The run of retention a store starts as it opens is over before the backlog comes.
      await store.expire();
      const db = await backlog(url, 3);
      try {
        await db.query("BEGIN");
        await db.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
        let settled = false;
        const expiring = store.expire();
        expiring
          .catch(() => {})
          .finally(() => {
            settled = true;
          });
        // As a statement_timeout on waiter's user, or a DBA's pg_cancel_backend, cancels it (57014).
        // Each try waits 50 ms for the lock, so a cancel may come as one ends: asked again until it lands.
        const cancelled = async () => {
          if (!settled)
            await admin.query(
              "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%waiter_retain(%' AND wait_event_type = 'Lock'",
            );
          return settled;
        };
        await expect.poll(cancelled, { timeout: 10_000 }).toBe(true);
        await expect(expiring).rejects.toThrow(
          /^the database cancelled its statement \(PostgreSQL 57014: canceling statement due to user request; PostgreSQL [^)]+\): a statement_timeout set on its user or database shorter than the run needed \(ALTER ROLE … SET statement_timeout = 0, for waiter's user, lifts it\), or someone cancelled it \(pg_cancel_backend\); that part of the run dropped nothing, deliveries are stored meanwhile, and the next run tries again in 10 minutes$/,
        );
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("a store runs one retention at a time: a run asked for while another goes waits for it, and both see a person's lock as it is", async () => {
      const url = await setUpDatabase();
      const store = await keepingOne(url, 1_000);
      // The run of retention a store starts as it opens is over before the backlog comes.
      await store.expire();
      const db = await backlog(url, 3);
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      try {
        // Side by side, each would take the other's tries for the turn passing between writers, and end unsaid.
        const runs = [store.expire(), store.expire()];
        for (const run of runs) await expect(run).rejects.toBeInstanceOf(StoreBusy);
      } finally {
        await db.query("ROLLBACK");
      }
      expect((await store.stats()).events).toBe(3);
    });

    test("retention kept waiting asks again on the connection it asked on: a try the server is still ending is never met as another session's hold on the turn", async () => {
      const url = await freshSchema();
      // The run watched is the one a store starts as it opens, the only one under way: a second
      // run at once would take the turn between this one's tries, which reads as the turn passed on.
      await (await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000 })).close();
      const db = await backlog(url, 3);
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      // Long enough that the run is still asking when the person's lock goes.
      const store = await keepingOne(url, 30_000);
      // Each try is a statement of its own. On another connection, a try could meet the lock the
      // one before it held, which the server lets go of only after it has said the error: on a
      // busy machine, long after. Held so, the turn reads as passed between other writers.
      const tries = new Map<string, number>();
      await expect
        .poll(async () => {
          await admin.query("SELECT pg_stat_clear_snapshot()");
          const { rows } = await admin.query<{ pid: number; started: string }>(
            "SELECT pid, query_start::text AS started FROM pg_stat_activity WHERE query LIKE '%waiter_retain(%' AND wait_event_type = 'Lock'",
          );
          for (const { pid, started } of rows) tries.set(started, pid);
          return tries.size;
        })
        .toBeGreaterThanOrEqual(3);
      await db.query("ROLLBACK");
      await expect.poll(async () => (await store.stats()).events, { timeout: 10_000 }).toBe(1);
      expect(new Set(tries.values()).size).toBe(1);
    });

    test.each([
      ["English", false],
      ["German (FEHLER)", true],
    ])(
      "retention refused on a person's lock keeps its connection for the next run, not opened anew each time, from a server in %s",
      async (_language, german) => {
        const url = await freshSchema();
        const relay = german ? await germanProxy(url) : undefined;
        if (relay) onTestFinished(() => relay.close());
        const store = await PostgresEventStore.open({
          url: relay?.url ?? url,
          retention: { ...LOOSE, maxEvents: 1 },
          connectMs: 2_000,
          lockWaitMs: 1_000,
        });
        stores.push(store);
        await store.expire();
        const db = await backlog(url, 3);
        await db.query("BEGIN");
        await db.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
        // The connection a run asked on: its tries, or the forgetting of old deliveries the run ends
        // with on the connection it let go of last, started after the run did.
        const retainedOn = async () => {
          const { rows } = await db.query<{ at: string }>("SELECT clock_timestamp()::text AS at");
          const expiring = store.expire();
          expiring.catch(() => {});
          await expect(expiring).rejects.toBeInstanceOf(StoreBusy);
          await db.query("SELECT pg_stat_clear_snapshot()");
          const asked = await db.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE application_name = 'waiter'
             AND (query LIKE '%waiter_retain(%' OR query LIKE 'DELETE FROM dropped_deliveries%')
             AND query_start > $1::timestamptz ORDER BY pid`,
            [rows[0]?.at],
          );
          return asked.rows.map((row) => row.pid);
        };
        try {
          const first = await retainedOn();
          expect(first).toHaveLength(1);
          expect(await retainedOn()).toEqual(first);
        } finally {
          await db.query("ROLLBACK");
        }
      },
    );

    test("retention kept from forgetting old automation runs by a person's lock says so as retention, not as deliveries that store nothing", async () => {
      const url = await setUpDatabase();
      const store = await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, lockWaitMs: 1_000 });
      stores.push(store);
      await store.expire();
      const db = new pg.Client(url);
      await db.connect();
      onTestFinished(() => db.end());
      // The run of an event retention dropped, which the run forgets after the drop.
      await db.query(
        "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at) VALUES ('a', 'gone', 'done', false, 0, 0)",
      );
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM automation_runs FOR UPDATE");
      try {
        await expect(store.expire()).rejects.toThrow(
          /^it waited 1 s for a lock another session held on the automation runs or the dropped deliveries it forgets \(PostgreSQL 55P03: canceling statement due to lock timeout; PostgreSQL [^)]+\): a transaction left open on them \(in psql, say\), a LOCK TABLE, a VACUUM FULL; the events past the limits were dropped all the same, and the next run tries again in 10 minutes$/,
        );
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("retention whose forgetting of old automation runs is cancelled says the events past the limits were dropped, not that the part dropped nothing", async () => {
      const url = await freshSchema();
      const store = await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, lockWaitMs: 30_000 });
      stores.push(store);
      await store.expire();
      const db = new pg.Client(url);
      await db.connect();
      onTestFinished(() => db.end());
      await db.query(
        "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at) VALUES ('a', 'gone', 'done', false, 0, 0)",
      );
      // A session of its own: one in a transaction sees pg_stat_activity as it was when it began.
      const admin = new pg.Client(url);
      await admin.connect();
      onTestFinished(() => admin.end());
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM automation_runs FOR UPDATE");
      try {
        const expiring = store.expire();
        expiring.catch(() => {});
        // As a statement_timeout on waiter's user, or a DBA's pg_cancel_backend, cancels it (57014).
        await expect
          .poll(
            async () =>
              (
                await admin.query(
                  "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DELETE FROM automation_runs%' AND wait_event_type = 'Lock'",
                )
              ).rowCount,
          )
          .toBe(1);
        await expect(expiring).rejects.toThrow(
          /^the database cancelled its statement \(PostgreSQL 57014: canceling statement due to user request; PostgreSQL [^)]+\): a statement_timeout set on its user or database shorter than the run needed \(ALTER ROLE … SET statement_timeout = 0, for waiter's user, lifts it\), or someone cancelled it \(pg_cancel_backend\); the events past the limits were dropped all the same, and the next run tries again in 10 minutes$/,
        );
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("retention kept from its drops by a person's lock still forgets old automation runs and year-old dropped deliveries, which need neither the turn nor the events", async () => {
      const url = await freshSchema();
      await (await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000 })).close();
      const db = await backlog(url, 3);
      await db.query(
        "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at) VALUES ('a', 'gone', 'done', false, 0, 0)",
      );
      await db.query(
        "INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at) VALUES ('shop', 'old', 'x', 0)",
      );
      const person = new pg.Client(url);
      await person.connect();
      onTestFinished(() => person.end());
      await person.query("BEGIN");
      await person.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      try {
        const store = await keepingOne(url, 1_000);
        await expect(store.expire()).rejects.toThrow(
          /^it asked for 1 s, waiting 50 ms at a time, for a lock another session held on the events it drops/,
        );
        const left = await db.query<{ runs: number; dropped: number }>(
          "SELECT (SELECT count(*)::int FROM automation_runs) AS runs, (SELECT count(*)::int FROM dropped_deliveries) AS dropped",
        );
        expect(left.rows).toEqual([{ runs: 0, dropped: 0 }]);
      } finally {
        await person.query("ROLLBACK");
      }
    });

    test.each([
      [
        "whose drop the server cancels",
        "pg_cancel_backend",
        /^the database cancelled its statement \(PostgreSQL 57014: canceling statement due to user request; PostgreSQL [^)]+\): a statement_timeout set on its user or database shorter than the run needed .* that part of the run dropped nothing, deliveries are stored meanwhile, and the next run tries again in 10 minutes$/,
      ],
      [
        "whose connection the server ends as it drops",
        "pg_terminate_backend",
        /^The event store's database server ended waiter's connection \(PostgreSQL 57P01: [^)]+\): it restarted, or someone ended the connection \(pg_terminate_backend\); that part of the run dropped nothing, and the next run tries again in 10 minutes; meanwhile waiter connects again by itself for each delivery, answered 503 while the database fails so; if this lasts, check that the database server runs and takes waiter's connections$/,
      ],
    ])(
      "retention %s still forgets old automation runs and year-old dropped deliveries, which need neither the turn nor the events",
      async (_, end, said) => {
        const url = await freshSchema();
        // A lock wait long enough that the run is still asking when the server ends its statement.
        const store = await PostgresEventStore.open({
          url,
          retention: { ...LOOSE, maxEvents: 1 },
          connectMs: 2_000,
          lockWaitMs: 30_000,
        });
        stores.push(store);
        // The run of retention a store starts as it opens is over before the backlog comes.
        await store.expire();
        const db = await backlog(url, 3);
        await db.query(
          "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at) VALUES ('a', 'gone', 'done', false, 0, 0)",
        );
        await db.query(
          "INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at) VALUES ('shop', 'old', 'x', 0)",
        );
        const person = new pg.Client(url);
        await person.connect();
        onTestFinished(() => person.end());
        await person.query("BEGIN");
        await person.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
        try {
          const since = await serverNow();
          let settled = false;
          const expiring = store.expire();
          expiring
            .catch(() => {})
            .finally(() => {
              settled = true;
            });
          // Ended only as a try waits for the person's lock, never the forgetting that follows on its
          // connection; each try waits 50 ms, so it is asked again until it lands.
          const ended = async () => {
            if (!settled)
              await admin.query(`SELECT ${end}(pid) ${retentionTrying} AND wait_event_type = 'Lock'`, [since]);
            return settled;
          };
          await expect.poll(ended, { timeout: 10_000 }).toBe(true);
          await expect(expiring).rejects.toThrow(said);
          const left = await db.query<{ runs: number; dropped: number }>(
            "SELECT (SELECT count(*)::int FROM automation_runs) AS runs, (SELECT count(*)::int FROM dropped_deliveries) AS dropped",
          );
          expect(left.rows).toEqual([{ runs: 0, dropped: 0 }]);
        } finally {
          await person.query("ROLLBACK");
        }
      },
    );

    test("retention kept from its drops by a person's lock and from its forgetting by another says both, not the drops' alone", async () => {
      const url = await setUpDatabase();
      await (await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000 })).close();
      const db = await backlog(url, 3);
      await db.query(
        "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at) VALUES ('a', 'gone', 'done', false, 0, 0)",
      );
      const person = new pg.Client(url);
      await person.connect();
      onTestFinished(() => person.end());
      await person.query("BEGIN");
      await person.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM automation_runs FOR UPDATE");
      try {
        const store = await PostgresEventStore.open({
          url,
          retention: { ...LOOSE, maxEvents: 1 },
          connectMs: 2_000,
          lockWaitMs: 1_000,
        });
        stores.push(store);
        const expiring = store.expire();
        await expect(expiring).rejects.toBeInstanceOf(StoreBusy);
        await expect(expiring).rejects.toThrow(
          /^it asked for 1 s, waiting 50 ms at a time, for a lock another session held on the events it drops .*, and the next run tries again in 10 minutes\. Nor did it forget the old automation runs and dropped deliveries: it waited 1 s for a lock another session held on the automation runs or the dropped deliveries it forgets \(PostgreSQL 55P03: canceling statement due to lock timeout; PostgreSQL [^)]+\): a transaction left open on them \(in psql, say\), a LOCK TABLE, a VACUUM FULL$/,
        );
      } finally {
        await db.query("ROLLBACK");
        await person.query("ROLLBACK");
      }
    });

    test("retention whose drop and forgetting are both cancelled says what lifts a statement_timeout once, not again for the forgetting", async () => {
      const url = await freshSchema();
      // A lock wait long enough that the run is still asking when the server cancels its statements.
      const store = await PostgresEventStore.open({
        url,
        retention: { ...LOOSE, maxEvents: 1 },
        connectMs: 2_000,
        lockWaitMs: 30_000,
      });
      stores.push(store);
      // The run of retention a store starts as it opens is over before the backlog comes.
      await store.expire();
      const db = await backlog(url, 3);
      await db.query(
        "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at) VALUES ('a', 'gone', 'done', false, 0, 0)",
      );
      const person = new pg.Client(url);
      await person.connect();
      onTestFinished(() => person.end());
      await person.query("BEGIN");
      await person.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM automation_runs FOR UPDATE");
      try {
        const since = await serverNow();
        let settled = false;
        const expiring = store.expire();
        expiring
          .catch(() => {})
          .finally(() => {
            settled = true;
          });
        // As a statement_timeout on waiter's user cancels each (57014), as it waits for a lock: a try of
        // the drop waits 50 ms, so it is asked again until it lands, and then the forgetting's lasting wait.
        const cancelled = async () => {
          if (!settled)
            await admin.query(
              `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'waiter' AND query_start > $1
                 AND wait_event_type = 'Lock' AND (query LIKE 'SELECT waiter_retain(%' OR query LIKE 'DELETE FROM automation_runs%')`,
              [since],
            );
          return settled;
        };
        await expect.poll(cancelled, { timeout: 10_000 }).toBe(true);
        await expect(expiring).rejects.toThrow(
          /^the database cancelled its statement \(PostgreSQL 57014: canceling statement due to user request; PostgreSQL [^)]+\): a statement_timeout set on its user or database shorter than the run needed \(ALTER ROLE … SET statement_timeout = 0, for waiter's user, lifts it\), or someone cancelled it \(pg_cancel_backend\); that part of the run dropped nothing, deliveries are stored meanwhile, and the next run tries again in 10 minutes\. Nor did it forget the old automation runs and dropped deliveries: the database cancelled that statement too \(PostgreSQL 57014: canceling statement due to user request\)$/,
        );
      } finally {
        await db.query("ROLLBACK");
        await person.query("ROLLBACK");
      }
    });

    test("retention whose connection the server ends as it drops, and whose forgetting is refused for want of rights, says both, not the drop's alone", async () => {
      const url = await roleWith();
      // A lock wait long enough that the run is still asking when the server ends its connection.
      const store = await keepingOne(url, 30_000);
      // The run of retention a store starts as it opens is over before the backlog comes.
      await store.expire();
      await backlog(url, 3);
      // As a DBA grants waiter's user less than waiter's tables need.
      const user = new URL(url).username;
      await admin.query(`REVOKE DELETE ON ${user}.automation_runs FROM ${user}`);
      const person = new pg.Client(url);
      await person.connect();
      onTestFinished(() => person.end());
      await person.query("BEGIN");
      await person.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      try {
        const since = await serverNow();
        let settled = false;
        const expiring = store.expire();
        expiring
          .catch(() => {})
          .finally(() => {
            settled = true;
          });
        // Ended only as a try waits for the person's lock; each try waits 50 ms, so it is asked again until it lands.
        const ended = async () => {
          if (!settled)
            await admin.query(`SELECT pg_terminate_backend(pid) ${retentionTrying} AND wait_event_type = 'Lock'`, [
              since,
            ]);
          return settled;
        };
        await expect.poll(ended, { timeout: 10_000 }).toBe(true);
        await expect(expiring).rejects.toThrow(
          /^The event store's database server ended waiter's connection \(PostgreSQL 57P01: [^)]+\): .*; that part of the run dropped nothing, .*\. Nor did it forget the old automation runs and dropped deliveries: .*PostgreSQL 42501: permission denied for table automation_runs/,
        );
      } finally {
        await person.query("ROLLBACK");
      }
    });

    test("retention whose forgetting is refused for want of rights says what the run left and what to grant, not a tool's advice to tell someone", async () => {
      const url = await roleWith();
      const store = await keepingOne(url, 1_000);
      await store.expire();
      // As a DBA grants waiter's user less than waiter's tables need.
      const user = new URL(url).username;
      await admin.query(`REVOKE DELETE ON ${user}.automation_runs FROM ${user}`);
      await expect(store.expire()).rejects.toThrow(
        /^The event store cannot be written \(PostgreSQL 42501: permission denied for table automation_runs\): its database user lacks rights on waiter's tables \([^)]+\); the events past the limits were dropped all the same, and the next run tries again in 10 minutes, failing so until whoever runs waiter grants it USAGE on their schema, SELECT, INSERT, UPDATE and DELETE on the tables, and USAGE and SELECT on their sequences$/,
      );
    });

    test("retention whose login is refused says to the log's reader what the run left and what to check, not a tool's advice to tell someone", async () => {
      const url = await roleWith();
      const store = await keepingOne(url, 1_000);
      await store.expire();
      // As a DBA takes the user's login away: its connections ended, the next is refused.
      const user = new URL(url).username;
      await admin.query(`ALTER ROLE ${user} NOLOGIN`);
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [user]);
      // A connection of the pool's ended meanwhile is said first, as the connection ended.
      const failed = () =>
        store.expire().then(
          () => "",
          (err: Error) => err.message,
        );
      await expect
        .poll(failed)
        .toMatch(
          new RegExp(
            `^The event store's database refuses waiter's connection \\(PostgreSQL 28000: role "${user}" is not permitted to log in; [^)]+\\); that part of the run dropped nothing, and the next run tries again in 10 minutes, refused alike until that is mended: check that the database user exists and may log in, and that a line of the server's pg_hba\\.conf lets it connect to this database from waiter's address$`,
          ),
        );
      await admin.query(`ALTER ROLE ${user} LOGIN`);
    });

    test("retention whose session a transaction_timeout ends says so as retention, not a tool's advice to try again", async () => {
      const url = await setUpDatabase();
      const store = await keepingOne(url, 1_000);
      await store.expire();
      const db = await backlog(url, 3);
      // PostgreSQL 17's code and words for a transaction_timeout, which 15 has not: raised where
      // retention drops, as the server ends the session there.
      await db.query(`CREATE FUNCTION ended() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'terminating connection due to transaction timeout' USING ERRCODE = '25P04'; END $$;
        CREATE TRIGGER ended BEFORE INSERT ON dropped_deliveries FOR EACH ROW EXECUTE FUNCTION ended()`);
      await expect(store.expire()).rejects.toThrow(
        /^the database ended its session \(PostgreSQL 25P04: terminating connection due to transaction timeout; [^)]+\): a transaction_timeout set on its user or database shorter than the run needed \(ALTER ROLE … SET transaction_timeout = 0, for waiter's user, lifts it\); that part of the run dropped nothing, deliveries are stored meanwhile, and the next run tries again in 10 minutes$/,
      );
    });

    test("retention whose drop and forgetting a transaction_timeout both end says what lifts it once, as a statement_timeout's", async () => {
      const url = await setUpDatabase();
      const store = await keepingOne(url, 1_000);
      await store.expire();
      const db = await backlog(url, 3);
      // Raised where retention drops and again where it forgets the dropped deliveries, as a
      // transaction_timeout shorter than either ends each one's session.
      await db.query(`CREATE FUNCTION ended() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'terminating connection due to transaction timeout' USING ERRCODE = '25P04'; END $$;
        CREATE TRIGGER ended BEFORE INSERT ON dropped_deliveries FOR EACH ROW EXECUTE FUNCTION ended();
        CREATE TRIGGER ended_too BEFORE DELETE ON dropped_deliveries FOR EACH STATEMENT EXECUTE FUNCTION ended()`);
      await expect(store.expire()).rejects.toThrow(
        /^the database ended its session \(PostgreSQL 25P04: terminating connection due to transaction timeout; [^)]+\): a transaction_timeout set on its user or database shorter than the run needed \(ALTER ROLE … SET transaction_timeout = 0, for waiter's user, lifts it\); that part of the run dropped nothing, deliveries are stored meanwhile, and the next run tries again in 10 minutes\. Nor did it forget the old automation runs and dropped deliveries: the database ended that session too \(PostgreSQL 25P04: terminating connection due to transaction timeout\)$/,
      );
    });

    test("retention kept waiting for a lock as it asks who holds its turn says so as retention, not a tool's advice to tell someone", async () => {
      const url = await setUpDatabase();
      const store = await keepingOne(url, 1_000);
      await store.expire();
      const db = await backlog(url, 3);
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM totals FOR UPDATE");
      // The person's session, holding the turn, locks the totals whole as retention asks who holds it.
      const query = pg.Client.prototype.query;
      let locked = false;
      const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        const forward = () => (query as (...a: unknown[]) => unknown).apply(this, args);
        if (this !== db && !locked && args[0] === "SELECT xmax::text AS by FROM totals") {
          locked = true;
          return db.query("LOCK TABLE totals IN ACCESS EXCLUSIVE MODE").then(forward);
        }
        return forward();
      } as never);
      onTestFinished(() => spy.mockRestore());
      try {
        await expect(store.expire()).rejects.toThrow(
          /^it waited 1 s for a lock another session held on the totals as it asked who held its turn \(PostgreSQL 55P03: [^)]+\): a LOCK TABLE or a VACUUM FULL, in a transaction left open \(in psql, say\); no delivery is stored until it ends; the run stops there, and the next tries again in 10 minutes/,
        );
        expect(locked).toBe(true);
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("retention on a database out of reach says so once, not again for the forgetting after its drops", async () => {
      const proxy = await silentProxy(await setUpDatabase());
      proxies.push(proxy);
      const store = await PostgresEventStore.open({ url: proxy.url, retention: LOOSE, connectMs: 2_000 });
      stores.push(store);
      await store.expire();
      // The proxy gone, every connection is refused at once, as a server's stopped port refuses it.
      await proxy.close();
      const failure = await store.expire().then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(failure).toMatch(
        /^The event store's database cannot be reached \([^)]+\); that part of the run dropped nothing, and the next run tries again in 10 minutes; meanwhile waiter connects again by itself for each delivery, answered 503 while the database fails so; if this lasts, check that the database server runs and takes waiter's connections$/,
      );
    });

    test("retention whose connection the server ends as it forgets old automation runs says the events past the limits were dropped, and what waiter does next, not a tool's advice to try again", async () => {
      const url = await freshSchema();
      const store = await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, lockWaitMs: 30_000 });
      stores.push(store);
      await store.expire();
      const db = new pg.Client(url);
      await db.connect();
      onTestFinished(() => db.end());
      await db.query(
        "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at) VALUES ('a', 'gone', 'done', false, 0, 0)",
      );
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM automation_runs FOR UPDATE");
      try {
        const expiring = store.expire();
        expiring.catch(() => {});
        // As a server's restart or a DBA's pg_terminate_backend ends it (57P01).
        await expect
          .poll(
            async () =>
              (
                await admin.query(
                  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DELETE FROM automation_runs%' AND wait_event_type = 'Lock'",
                )
              ).rowCount,
          )
          .toBe(1);
        await expect(expiring).rejects.toThrow(
          /^The event store's database server ended waiter's connection \(PostgreSQL 57P01: [^)]+\): it restarted, or someone ended the connection \(pg_terminate_backend\); the events past the limits were dropped all the same, and the next run tries again in 10 minutes; meanwhile waiter connects again by itself for each delivery, answered 503 while the database fails so; if this lasts, check that the database server runs and takes waiter's connections$/,
        );
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("a store closed while retention waits on a person's lock stops at once, not after a second said as a database that did not answer", async () => {
      const url = await setUpDatabase();
      await (await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000 })).close();
      const db = await backlog(url, 3);
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      try {
        // Its run at opening waits for the lock far longer than a close waits for the database.
        const store = await keepingOne(url, 30_000);
        await expect.poll(() => waitingOnLocks(db)).toBe(1);
        await store.close();
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("a retention run kept from its turn by a person's session says that deliveries wait for that turn too, not that they are stored meanwhile", async () => {
      const url = await setUpDatabase();
      const store = await keepingOne(url, 1_000);
      const psql = new pg.Client(url);
      await psql.connect();
      try {
        await psql.query("BEGIN");
        await psql.query("SELECT 1 FROM totals FOR UPDATE");
        await expect(store.expire()).rejects.toThrow(
          /^it waited 1 s for its turn, which every delivery takes too and one transaction of another session held all along \(PostgreSQL [^)]+\): a transaction left open on waiter's tables \(in psql, say\), a LOCK TABLE; no delivery is stored until it ends; the run stops there, and the next tries again in 10 minutes$/,
        );
      } finally {
        await psql.query("ROLLBACK");
        await psql.end();
      }
    });

    test.each([
      [
        "two sessions that share a lock on it says both, not one transaction",
        0,
        /^it waited 1 s for its turn, which every delivery takes too and 2 transactions of other sessions, sharing a lock on it \(SELECT … FOR SHARE\), held all along \(PostgreSQL [^)]+\): transactions left open on waiter's tables \(in psql, say\); no delivery is stored until all have ended; the run stops there, and the next tries again in 10 minutes$/,
      ],
      [
        "two sessions that shared a lock on it, one of which ended, says one transaction held it",
        1,
        /^it waited 1 s for its turn, which every delivery takes too and one transaction of another session held all along \(PostgreSQL [^)]+\): a transaction left open on waiter's tables/,
      ],
    ])("a retention run kept from its turn by %s", async (_, ended, said) => {
      const url = await setUpDatabase();
      const store = await PostgresEventStore.open({
        url,
        retention: { ...LOOSE, maxEvents: 1 },
        connectMs: 2_000,
        lockWaitMs: 1_000,
      });
      stores.push(store);
      await store.expire();
      const sessions = [new pg.Client(url), new pg.Client(url)];
      for (const session of sessions) {
        await session.connect();
        onTestFinished(() => session.end());
        await session.query("BEGIN");
        await session.query("SELECT 1 FROM totals FOR SHARE");
      }
      // The row's xmax names both still (a MultiXact), whichever of them ended since.
      for (const session of sessions.slice(0, ended)) await session.query("COMMIT");
      try {
        await expect(store.expire()).rejects.toThrow(said);
      } finally {
        for (const session of sessions) await session.query("ROLLBACK");
      }
    });

    test("a retention run whose turn's holder commits as the run tells a person's session from waiter's writes says it held the turn, and leaves the server no MultiXact error to log", async () => {
      const url = await setUpDatabase();
      const store = await PostgresEventStore.open({
        url,
        retention: { ...LOOSE, maxEvents: 1 },
        connectMs: 2_000,
        // Its first try is its last.
        lockWaitMs: 50,
      });
      stores.push(store);
      await store.expire();
      await backlog(url, 3);
      const psql = new pg.Client(url);
      await psql.connect();
      onTestFinished(() => psql.end());
      await psql.query("BEGIN");
      await psql.query("SELECT 1 FROM totals FOR UPDATE");
      // The session commits once the run found it under way, before the run asks whether it is one of waiter's writes.
      const query = pg.Client.prototype.query;
      let committed = false;
      // Each error a statement meets is a line in the server's log: a DBA reads "apparent wraparound" as damage.
      const refused: string[] = [];
      const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        if (!committed && typeof args[0] === "string" && args[0].startsWith("SELECT FROM pg_stat_activity")) {
          committed = true;
          return psql.query("COMMIT").then(() => (query as (...a: unknown[]) => unknown).apply(this, args));
        }
        const result = (query as (...a: unknown[]) => unknown).apply(this, args);
        if (result instanceof Promise) result.catch((err: Error) => refused.push(err.message));
        return result;
      } as never);
      onTestFinished(() => spy.mockRestore());
      await expect(store.expire()).rejects.toThrow(
        /^it waited 0\.05 s for its turn, which every delivery takes too and one transaction of another session held all along /,
      );
      expect(committed).toBe(true);
      expect(refused).toEqual([]);
    });

    test("a retention run whose last try meets a session that commits before the run reads who held the turn asks again, not said as held all along", async () => {
      const url = await setUpDatabase();
      const store = await PostgresEventStore.open({
        url,
        retention: { ...LOOSE, maxEvents: 1 },
        connectMs: 2_000,
        // Its first try is its last.
        lockWaitMs: 50,
      });
      stores.push(store);
      await store.expire();
      await backlog(url, 3);
      const psql = new pg.Client(url);
      await psql.connect();
      onTestFinished(() => psql.end());
      await psql.query("BEGIN");
      await psql.query("SELECT 1 FROM totals FOR UPDATE");
      // The session commits between the run's try and its read of the row, whose xmax still names it.
      const query = pg.Client.prototype.query;
      let committed = false;
      const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        if (!committed && args[0] === "SELECT xmax::text AS by FROM totals") {
          committed = true;
          return psql.query("COMMIT").then(() => (query as (...a: unknown[]) => unknown).apply(this, args));
        }
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as never);
      onTestFinished(() => spy.mockRestore());
      await expect(store.expire()).resolves.toBeUndefined();
      expect(committed).toBe(true);
      expect((await store.stats()).events).toBe(1);
    });

    test("a retention run whose holder commits after its last try in each of two parts asks again in both, not said as held all along", async () => {
      const url = await setUpDatabase();
      const store = await PostgresEventStore.open({
        url,
        retention: { ...LOOSE, maxEvents: 1 },
        connectMs: 2_000,
        // Each part's first try is its last.
        lockWaitMs: 50,
      });
      stores.push(store);
      await store.expire();
      await backlog(url, 3);
      const psql = new pg.Client(url);
      await psql.connect();
      onTestFinished(() => psql.end());
      // Before each part's first try the session takes the turn; it commits between that try and
      // the run's read of the row, whose xmax still names it.
      const query = pg.Client.prototype.query;
      const call = (client: pg.Client, args: unknown[]) => (query as (...a: unknown[]) => unknown).apply(client, args);
      let holding = false;
      let committed = 0;
      // A part's tries: its first, and the one asked again after the session committed.
      let tries = 0;
      const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        if (this === psql) return call(this, args);
        if (typeof args[0] === "string" && args[0].startsWith("SELECT waiter_retain(") && tries++ % 2 === 0) {
          holding = true;
          return psql
            .query("BEGIN")
            .then(() => psql.query("SELECT 1 FROM totals FOR UPDATE"))
            .then(() => call(this, args));
        }
        if (holding && args[0] === "SELECT xmax::text AS by FROM totals") {
          holding = false;
          committed++;
          return psql.query("COMMIT").then(() => call(this, args));
        }
        return call(this, args);
      } as never);
      onTestFinished(() => spy.mockRestore());
      await expect(store.expire()).resolves.toBeUndefined();
      expect(committed).toBe(2);
      expect((await store.stats()).events).toBe(1);
    });

    test("a retention run whose connection the server ends while it pauses between its tries says the connection was ended, not a database out of reach", async () => {
      const url = await freshSchema();
      // Long enough that the run is still asking when its connection is ended.
      const store = await keepingOne(url, 30_000);
      await store.expire();
      const psql = new pg.Client(url);
      await psql.connect();
      onTestFinished(() => psql.end());
      await psql.query("BEGIN");
      await psql.query("SELECT 1 FROM totals FOR UPDATE");
      try {
        const since = await serverNow();
        const expiring = store.expire();
        expiring.catch(() => {});
        // Held by a person's session, the turn is asked for again every 50 ms until the run ends: its
        // connection is ended while idle between its tries, as a restart would find it.
        const ended = async () =>
          (await admin.query(`SELECT pg_terminate_backend(pid) ${retentionTrying} AND state = 'idle'`, [since])).rows
            .length;
        await expect.poll(ended).toBe(1);
        await expect(expiring).rejects.toThrow(
          /^The event store's database server ended waiter's connection \(PostgreSQL 57P01: terminating connection due to administrator command; PostgreSQL 127\.0\.0\.1:\d+\/waiter\): it restarted, or someone ended the connection \(pg_terminate_backend\); that part of the run dropped nothing, and the next run tries again in 10 minutes; meanwhile waiter connects again by itself for each delivery, answered 503 while the database fails so; if this lasts, check that the database server runs and takes waiter's connections$/,
        );
      } finally {
        await psql.query("ROLLBACK");
      }
    });

    test("a replica's retention waiting for the turn while one part of another's takes longer than the lock wait ends its run, not said as a person's transaction", async () => {
      const url = await setUpDatabase();
      const opened = () =>
        PostgresEventStore.open({ url, retention: { ...LOOSE, maxEvents: 1 }, connectMs: 2_000, lockWaitMs: 1_000 });
      const [one, two] = [await opened(), await opened()];
      stores.push(one, two);
      // The runs of retention the stores start as they open are over before the backlog comes.
      await Promise.all([one.expire(), two.expire()]);
      const db = await backlog(url, 3);
      // One part of the first replica's run takes as long as the test holds it, as a part of a large
      // backlog on a slow disk takes seconds.
      await db.query(`CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM set_config('lock_timeout', '0', true); PERFORM pg_advisory_xact_lock(7); RETURN NEW; END $$;
        CREATE TRIGGER slow BEFORE INSERT ON dropped_deliveries FOR EACH ROW EXECUTE FUNCTION slow()`);
      await db.query("BEGIN");
      await db.query("SELECT pg_advisory_xact_lock(7)");
      const first = one.expire();
      first.catch(() => {});
      try {
        await expect.poll(() => waitingOnLocks(db)).toBe(1);
        await expect(two.expire()).resolves.toBeUndefined();
      } finally {
        await db.query("ROLLBACK");
      }
      await expect(first).resolves.toBeUndefined();
      expect((await one.stats()).events).toBe(1);
    });

    test("a retention run asking for its turn as the clock is set back gives up within its lock wait, not for as long as the clock went back", async () => {
      const url = await freshSchema();
      const store = await PostgresEventStore.open({
        url,
        retention: { ...LOOSE, maxEvents: 1 },
        connectMs: 2_000,
        // Longer than the test may take: only a wait that ends as the clock is set back ends in time.
        lockWaitMs: 30_000,
      });
      stores.push(store);
      await store.expire();
      const psql = new pg.Client(url);
      await psql.connect();
      onTestFinished(() => psql.end());
      onTestFinished(() => setClock());
      await psql.query("BEGIN");
      await psql.query("SELECT 1 FROM totals FOR UPDATE");
      try {
        const since = await serverNow();
        const expiring = store.expire();
        expiring.catch(() => {});
        await expect.poll(async () => (await admin.query(`SELECT 1 ${retentionTrying}`, [since])).rows.length).toBe(1);
        // As NTP corrects a clock that ran an hour ahead.
        setClock(clock.now() - 3_600_000);
        await expect(expiring).rejects.toThrow(
          /^it stopped waiting for its turn when the system clock was set back, before the 30 s it waits; every delivery takes that turn too, and one transaction of another session held it all the while \(PostgreSQL [^)]+\): a transaction left open/,
        );
      } finally {
        await psql.query("ROLLBACK");
      }
    });

    test("a retention run whose tries each wait out the lock wait on the totals (a LOCK TABLE) gives up after its lock wait, not several", async () => {
      const url = await setUpDatabase();
      const store = await keepingOne(url, 1_000);
      await store.expire();
      const db = await backlog(url, 3);
      await db.query("BEGIN");
      await db.query("LOCK TABLE totals IN ACCESS EXCLUSIVE MODE");
      const query = pg.Client.prototype.query;
      let tries = 0;
      const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        if (this !== db && String(args[0]).startsWith("SELECT waiter_retain(")) tries += 1;
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as never);
      onTestFinished(() => spy.mockRestore());
      try {
        // Each try waits the session's 1 s for the table's lock before its own 50 ms apply: the second
        // is the last, as the run has waited its lock wait by then.
        await expect(store.expire()).rejects.toThrow(/^it asked for 1 s, /);
        expect(tries).toBe(2);
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("a retention run asking for its turn as the clock is set forward waits on, not said as having waited its whole lock wait", async () => {
      const url = await setUpDatabase();
      const store = await keepingOne(url, 2_000);
      await store.expire();
      const db = await backlog(url, 3);
      onTestFinished(() => setClock());
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM totals FOR UPDATE");
      // The clock goes forward an hour at the run's first look at who holds the turn, as NTP steps
      // one that ran behind; the run asks again every 50 ms for the 2 s it waits all the same.
      const query = pg.Client.prototype.query;
      let looks = 0;
      const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
        this: pg.Client,
        ...args: unknown[]
      ) {
        if (this !== db && args[0] === "SELECT xmax::text AS by FROM totals") {
          looks += 1;
          if (looks === 1) setClock(clock.now() + 3_600_000);
        }
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as never);
      onTestFinished(() => spy.mockRestore());
      try {
        await expect(store.expire()).rejects.toThrow(/^it waited 2 s for its turn, /);
        // At most 0.5 s of the wait went with the jump: the rest is tries 50 ms apart.
        expect(looks).toBeGreaterThan(10);
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test("a retention run kept waiting by a person's lock on an event as the clock is set back says it stopped then, not that it asked for its whole lock wait", async () => {
      const url = await freshSchema();
      const store = await keepingOne(url, 30_000);
      await store.expire();
      const db = await backlog(url, 3);
      onTestFinished(() => setClock());
      await db.query("BEGIN");
      await db.query("SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE");
      try {
        const since = await serverNow();
        const expiring = store.expire();
        expiring.catch(() => {});
        await expect.poll(async () => (await admin.query(`SELECT 1 ${retentionTrying}`, [since])).rows.length).toBe(1);
        setClock(clock.now() - 3_600_000);
        await expect(expiring).rejects.toThrow(
          /^it stopped asking, 50 ms at a time, for a lock another session held on the events it drops or on PostgreSQL's notifications when the system clock was set back, before the 30 s it asks for \(PostgreSQL 55P03: /,
        );
      } finally {
        await db.query("ROLLBACK");
      }
    });

    test.each([
      [
        "for its turn",
        "SELECT 1 FROM totals FOR UPDATE",
        "SELECT xmax::text AS by FROM totals",
        /^it stopped waiting for its turn when the system clock was set back, before the 30 s it waits; /,
      ],
      [
        "on a person's lock on an event",
        "SELECT 1 FROM events WHERE seq = (SELECT min(seq) FROM events) FOR UPDATE",
        "SELECT waiter_retain(",
        /^it stopped asking, 50 ms at a time, for a lock another session held on the events it drops or on PostgreSQL's notifications when the system clock was set back, before the 30 s it asks for \(PostgreSQL 55P03: /,
      ],
    ])(
      "a retention run waiting %s as the clock is set back and forward again says it stopped as the clock went back, not that it waited its whole lock wait",
      async (_, held, statement, said) => {
        const url = await freshSchema();
        const store = await PostgresEventStore.open({
          url,
          retention: { ...LOOSE, maxEvents: 1 },
          connectMs: 2_000,
          lockWaitMs: 30_000,
        });
        stores.push(store);
        await store.expire();
        const db = await backlog(url, 3);
        onTestFinished(() => setClock());
        await db.query("BEGIN");
        await db.query(held);
        // The clock goes back an hour at the run's first such statement, as NTP corrects one that ran
        // ahead, and forward again at its next, once the run has seen it back and ends its wait.
        const query = pg.Client.prototype.query;
        let seen = 0;
        const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (
          this: pg.Client,
          ...args: unknown[]
        ) {
          if (this !== db && typeof args[0] === "string" && args[0].startsWith(statement)) {
            seen += 1;
            if (seen === 1) setClock(clock.now() - 3_600_000);
            if (seen === 2) setClock(clock.now() + 3_600_000);
          }
          return (query as (...a: unknown[]) => unknown).apply(this, args);
        } as never);
        onTestFinished(() => spy.mockRestore());
        try {
          await expect(store.expire()).rejects.toThrow(said);
          expect(seen).toBe(2);
        } finally {
          await db.query("ROLLBACK");
        }
      },
    );

    test("a delivery whose own retention meets a person's lock on the oldest event is stored at once, the drop left to the next write", async () => {
      const url = await setUpDatabase();
      // Long, so that half of it leaves seconds for a busy machine: a delivery stored at once waits none of it.
      const lockWaitMs = 10_000;
      const store = await keepingOne(url, lockWaitMs);
      const { id: oldest } = await store.add(event({ dedupeId: "oldest" }));
      const psql = new pg.Client(url);
      await psql.connect();
      try {
        await psql.query("BEGIN");
        await psql.query("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", [oldest]);
        const started = performance.now();
        expect((await store.add(event({ dedupeId: "while-locked" }))).duplicate).toBe(false);
        expect(performance.now() - started).toBeLessThan(lockWaitMs / 2);
        expect((await store.stats()).events).toBe(2);
      } finally {
        await psql.query("ROLLBACK");
        await psql.end();
      }
      await store.add(event({ dedupeId: "after" }));
      expect((await store.stats()).events).toBe(1);
    });

    test("a delivery's commit, which waits for PostgreSQL's lock on notifications, is left the rest of the lock wait, not the 50 ms its retention has", async () => {
      const url = await setUpDatabase();
      const store = await open(url, { ...LOOSE, maxEvents: 1 });
      await store.add(event({ dedupeId: "oldest" }));
      const psql = new pg.Client(url);
      await psql.connect();
      try {
        // As waiter's statement is, but in a transaction left open to read what its commit would wait.
        await psql.query("BEGIN");
        await psql.query("SET LOCAL lock_timeout = 3000");
        await psql.query(
          `SELECT * FROM waiter_add(ARRAY['e2'], ARRAY['shop'], ARRAY['order.paid'], ARRAY['none'], ARRAY['next'],
             ARRAY[$1::bigint], ARRAY['{}'], ARRAY['\\x7b7d'::bytea], ARRAY[true], ARRAY[2], 'waiter_test', 1, $2, $3)`,
          [clock.now(), 2 ** 40, 86_400_000],
        );
        const { rows } = await psql.query<{ ms: number }>(
          "SELECT (extract(EPOCH FROM current_setting('lock_timeout')::INTERVAL) * 1000)::int AS ms",
        );
        expect(rows[0]?.ms).toBeGreaterThan(1_000);
      } finally {
        await psql.query("ROLLBACK");
        await psql.end();
      }
    });

    test("retention that finds the turn passed from write to write, never free, ends its run, and forgets old deliveries, rather than ask for it for ever", async () => {
      const url = await setUpDatabase();
      const store = await PostgresEventStore.open({ url, retention: LOOSE, connectMs: 2_000, lockWaitMs: 2_000 });
      stores.push(store);
      await store.expire();
      const [a, b, watcher] = [new pg.Client(url), new pg.Client(url), new pg.Client(url)];
      for (const client of [a, b, watcher]) await client.connect();
      onTestFinished(async () => {
        for (const client of [a, b, watcher]) await client.end();
      });
      try {
        await watcher.query(
          "INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at) VALUES ('shop', 'old', 'x', 0)",
        );
        // The turn passes from one session to another and is never free, as commits back to back pass
        // it: each holds a share of it (FOR KEY SHARE, which retention's FOR UPDATE is refused as by a
        // delivery's), the second taking its share once retention has read who holds it.
        await a.query("BEGIN");
        const { rows } = await a.query<{ at: string }>(
          "SELECT clock_timestamp()::text AS at FROM totals FOR KEY SHARE",
        );
        const expiring = store.expire(clock.now());
        expiring.catch(() => {});
        const holderRead = async () => {
          await watcher.query("SELECT pg_stat_clear_snapshot()");
          const read = await watcher.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = 'waiter' AND state = 'idle'
             AND query = 'SELECT xmax::text AS by FROM totals' AND query_start > $1::timestamptz`,
            [rows[0]?.at],
          );
          return read.rows.length > 0;
        };
        await expect.poll(holderRead).toBe(true);
        await b.query("BEGIN");
        await b.query("SELECT 1 FROM totals FOR KEY SHARE");
        // Asking on, it would be refused once the turn had stayed with these two for the lock wait.
        await expiring;
      } finally {
        for (const client of [a, b]) await client.query("ROLLBACK");
      }
      expect((await watcher.query("SELECT count(*)::int AS n FROM dropped_deliveries")).rows).toEqual([{ n: 0 }]);
    });

    test("a reader paging by cursor meets every event that replicas commit at once, each once", async () => {
      const url = await setUpDatabase();
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

    test("an acknowledgement and its notice to the other replicas commit together: one that cannot be told is not made", async () => {
      const url = await roleWith();
      const [store, other] = [await open(url), await open(url)];
      const told: string[][] = [];
      other.onAck((ids) => told.push(ids));
      await backlog(url, 150);
      const ids = Array.from({ length: 150 }, (_, i) => `b${i + 1}`);
      // A DBA's revoke: the notice cannot be sent.
      await admin.query("REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC");
      try {
        await expect(store.ack(["b1"])).rejects.toThrow(/permission denied for function pg_notify/);
      } finally {
        await admin.query("GRANT EXECUTE ON FUNCTION pg_notify(text, text) TO PUBLIC");
      }
      expect((await store.get("b1"))?.ackedAt).toBeNull();
      expect((await store.ack(ids)).acked).toEqual(ids);
      // In notifications of 100 ids at most, which a notification's 8,000 bytes hold.
      await expect.poll(() => told).toEqual([ids.slice(0, 100), ids.slice(100)]);
    });

    test("a delivery with the id an older waiter keyed it on is stored in one statement, as any other", async () => {
      const store = await open(await setUpDatabase());
      const statements = vi.spyOn(pg.Pool.prototype, "query");
      onTestFinished(() => statements.mockRestore());
      const shopify = event({ scheme: "shopify", dedupeId: "orders/paid:e1:o1", formerDedupeId: "wh_1" });
      expect((await store.add(shopify)).duplicate).toBe(false);
      // Each Shopify delivery carries one: a look-up of its own would be a round trip more on every commit.
      const storing = statements.mock.calls
        .map(([text]) => String(text))
        .filter((text) => /waiter_add|dedupe_id/.test(text));
      expect(storing).toHaveLength(1);
    });

    test("the same delivery arriving at two replicas at once is stored once", async () => {
      const url = await setUpDatabase();
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
      const url = await setUpDatabase();
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
      // Heard after mine's own NOTIFY, which comes back first as its commit came first.
      const [theirs] = await addMany(b, 1);
      await expect.poll(() => onA).toContain(theirs?.id);
      expect(onA.filter((id) => id === mine.id)).toHaveLength(1);
    });

    test("subscribers hear events in commit order, whichever replica committed them, even while listening again", async () => {
      const url = await setUpDatabase();
      const [a, b] = [await open(url), await open(url)];
      const heard: number[] = [];
      b.subscribe((e) => heard.push(e.seq));
      await cutListening();
      // Committed first through a, which b hears of only once it listens again; then through b.
      const first = await stored(a, event());
      const second = await stored(b, event());
      await expect.poll(() => heard).toEqual([first.seq, second.seq]);
    });

    test("a schema name as long as PostgreSQL allows still gets its notifications through", async () => {
      const url = await freshSchema("s".repeat(60));
      const [a, b] = [await open(url), await open(url)];
      const onB = heard(b);
      const added = await a.add(event());
      expect((await onB).id).toBe(added.id);
    });

    test("a replica whose listening connection is cut listens again and catches up", async () => {
      const url = await setUpDatabase();
      const [a, b] = [await open(url), await open(url)];
      const told: string[] = [];
      b.subscribe((e) => told.push(e.id));
      await cutListening();
      const during = await a.add(event());
      const after = await a.add(event());
      await expect.poll(() => told).toEqual([during.id, after.id]);
    });

    test("a replica whose listening connection hears no notification, as through a pooler in transaction mode, says so and what to name instead", async () => {
      const warnings = warningsSaid();
      const url = await setUpDatabase();
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
    // 3 s for the notification to come back rather than waiter's 5 s: what is tested is when that
    // time starts, not how long it is; a second would be a thin margin on a busy machine.
    const probeMs = 3_000;
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
      latest: async () => ({ seq: 0, gone: { through: 0, left: 0 } }),
      // Sent once a connection is free, longer after it was asked for than a notification may take.
      notify: async (payload) => {
        await new Promise((resolve) => setTimeout(resolve, probeMs + 500));
        await sender.query("SELECT pg_notify($1, $2)", [channel, payload]);
        sent = true;
      },
      newerThan: async () => [],
      wanted: () => false,
      tell: () => {},
      acked: () => {},
      dropped: () => {},
      probeMs,
    });
    try {
      await watch.start(0);
      await expect.poll(() => sent).toBe(true);
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

  test("failures to listen that the line a minute left out are said as the watch stops, not a minute after it", async () => {
    const warnings = warningsSaid();
    const port = REFUSING_PORT;
    let attempts = 0;
    const watch = new ListenWatch({
      connect: () => {
        attempts += 1;
        return new pg.Client(`postgres://waiter@127.0.0.1:${port}/waiter`);
      },
      setUp: "SELECT 1",
      channel: "waiter_unreachable",
      urlFrom: "WAITER_DATABASE_URL",
      latest: async () => ({ seq: 0, gone: { through: 0, left: 0 } }),
      notify: async () => {},
      newerThan: async () => [],
      wanted: () => false,
      tell: () => {},
      acked: () => {},
      dropped: () => {},
    });
    onTestFinished(() => watch.stop());
    await watch.start(0);
    // A third attempt: the second has failed, and its line is left out. The watch's own pauses
    // before them take 750 ms.
    await expect.poll(() => attempts, { timeout: 10_000 }).toBe(3);
    watch.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((line) => line.startsWith("listening for events"))).toEqual([
      expect.stringMatching(/ECONNREFUSED.*; trying again every 10 s at most$/),
      expect.stringMatching(
        /ECONNREFUSED.*; trying again every 10 s at most \(\d+ more like it since the last line, the last \d+ s ago\)$/,
      ),
    ]);
  });

  describe("MCP sessions", () => {
    test("subscriptions a write kept while another replica ended their session go at the next expiry", async () => {
      const url = await setUpDatabase();
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
      const url = await setUpDatabase();
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

  /** How many errors of idle connections the stores' pools have told them of, from here to the test's end. */
  function poolErrorsHeard(): () => number {
    const emitted = vi.spyOn(pg.Pool.prototype, "emit");
    onTestFinished(() => emitted.mockRestore());
    return () => emitted.mock.calls.filter(([name]) => name === "error").length;
  }

  test("idle connections the server ends all at once, as a restart or a DBA's pg_terminate_backend does, are said in one line that says why and that waiter connects anew", async () => {
    const warnings = warningsSaid();
    const poolErrors = poolErrorsHeard();
    const url = await roleWith();
    const store = await open(url);
    // A connection the opening run of retention holds is out of the pool: its end would be the run's to say.
    await store.expire();
    await Promise.all(Array.from({ length: 30 }, () => store.list({}, { limit: 5 })));
    const { rowCount: ended } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'waiter' AND usename = $1 AND query NOT LIKE 'LISTEN%' AND state = 'idle'",
      [new URL(url).username],
    );
    await expect.poll(() => warnings.filter((line) => /idle connection/.test(line)).length).toBeGreaterThan(0);
    // Every connection's error, heard: those after the first are what the line a minute leaves out.
    await expect.poll(poolErrors).toBe(ended);
    expect(warnings.filter((line) => /idle connection/.test(line))).toEqual([
      "the event store's database server ended an idle connection of waiter's (PostgreSQL 57P01: terminating connection due to administrator command): it restarted, or someone ended the connection (pg_terminate_backend); waiter connects anew when it needs one",
    ]);
    expect((await store.stats()).events).toBe(0);
  });

  test("idle connections ended that the line a minute left out are said as the store closes, not a minute after it", async () => {
    const warnings = warningsSaid();
    const idle = () => warnings.filter((line) => /idle connection/.test(line));
    const poolErrors = poolErrorsHeard();
    const url = await roleWith();
    const store = await open(url);
    // A connection the opening run of retention holds is out of the pool: its end would be the run's to say.
    await store.expire();
    await Promise.all(Array.from({ length: 30 }, () => store.list({}, { limit: 5 })));
    const { rowCount: ended } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'waiter' AND usename = $1 AND query NOT LIKE 'LISTEN%' AND state = 'idle'",
      [new URL(url).username],
    );
    await expect.poll(() => idle().length).toBeGreaterThan(0);
    // Every connection's error, heard: those after the first are what the line a minute leaves out.
    await expect.poll(poolErrors).toBe(ended);
    await store.close();
    // process.emitWarning emits on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle()).toEqual([
      expect.stringMatching(/pg_terminate_backend\); waiter connects anew when it needs one$/),
      expect.stringMatching(/ \(\d+ more like it since the last line, the last \d+ s ago\)$/),
    ]);
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
      // A start that asks for the lock says so before it waits, however long its start takes.
      const opened = await Promise.race([
        open(url).then(() => "opened"),
        new Promise((resolve) => {
          const onWarning = (warning: Error) => {
            if (/upgrade lock/.test(warning.message)) resolve(warning.message);
          };
          process.on("warning", onWarning);
          onTestFinished(() => {
            process.off("warning", onWarning);
          });
        }),
      ]);
      expect(opened).toBe("opened");
    });

    test("a replica that must wait its turn to upgrade says so, naming the session that holds the lock, and upgrades once it is let go", async () => {
      const warnings = warningsSaid();
      const url = await freshSchema();
      // Another waiter's upgrade, or a session that took the lock and never let go of it.
      const { holder, pid } = await upgradeLockHeld();
      const opening = open(url);
      opening.catch(() => {});
      await expect.poll(() => warnings.filter((line) => /upgrade lock/.test(line))).toHaveLength(1);
      expect(warnings.find((line) => /upgrade lock/.test(line))).toBe(
        `waiting for its turn to set up waiter's tables: the session of server process ${pid} (application_name waiter, from 127.0.0.1) holds waiter's upgrade lock (the advisory lock 2002872692), as another waiter does while it sets up or upgrades them, which may take minutes on a full store; this one goes on once it lets go. A session that holds it and is no waiter's start (pg_stat_activity shows it idle, or a pooler's) keeps every waiter that must upgrade waiting: end it (SELECT pg_terminate_backend(${pid}))`,
      );
      await holder.query("SELECT pg_advisory_unlock($1)", [0x77616974]);
      const store = await opening;
      await store.add(event());
      expect((await store.stats()).events).toBe(1);
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

    test("a database keeps the id it was set up with, another has another, and one of schema 17 gains one at the upgrade", async () => {
      const url = await freshSchema();
      const first = await open(url);
      expect(first.storeId).toMatch(/^[0-9a-f]{32}$/);
      expect((await open(url)).storeId).toBe(first.storeId);
      const other = await open(await freshSchema());
      expect(other.storeId).toMatch(/^[0-9a-f]{32}$/);
      expect(other.storeId).not.toBe(first.storeId);
      const olderUrl = await freshSchema();
      const old = new pg.Client(olderUrl);
      await old.connect();
      await migrate(old, 17);
      await old.end();
      const upgraded = await open(olderUrl);
      expect(upgraded.upgraded).toEqual({ from: 17, to: MIGRATIONS.length });
      expect(upgraded.storeId).toMatch(/^[0-9a-f]{32}$/);
      expect([first.storeId, other.storeId]).not.toContain(upgraded.storeId);
      expect((await open(olderUrl)).storeId).toBe(upgraded.storeId);
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

    test("a database of schema 18 keeps the notice a failed run owes, and what becomes of it is kept with the run", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 18);
      const { rows } = await old.query<{ id: number }>(
        `WITH e AS (INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
                    VALUES ('01OLD', 'shop', 'order.paid', 'woocommerce', 'd-old', $1, '{}', '\\x7b7d', true, 2))
         INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at, finished_at, error, notice, notice_status, on_failure)
         VALUES ('paid', '01OLD', 'failed', false, $1, $1, 'step 1: no', 'waiter: paid failed', 'owed', 'team') RETURNING id`,
        [clock.now()],
      );
      await old.end();
      const run = Number(rows[0]?.id);
      const store = await open(url);
      expect(store.upgraded).toEqual({ from: 18, to: MIGRATIONS.length });
      expect((await store.runs.untold()).map((r) => [r.id, r.notice, r.noticeOutcome])).toEqual([
        [run, { text: "waiter: paid failed", status: "owed" }, null],
      ]);
      await store.runs.notice(run, { status: "not told", said: "Bad Request: chat not found" });
      expect(await (await open(url)).runs.get(run)).toMatchObject({
        notice: null,
        noticeOutcome: { status: "not told", said: "Bad Request: chat not found" },
      });
    });

    test("a database of schema 19 is upgraded so that retention tells every replica what it dropped, an older replica's retention too", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      onTestFinished(() => old.end());
      await migrate(old, 19);
      const { rows } = await old.query<{ seq: string }>(
        `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
         SELECT 'e' || g, 'shop', 'order.paid', 'none', 'old' || g, $1, '{}', '\\x7b7d', true, 2
         FROM generate_series(1, 3) AS g RETURNING seq`,
        [clock.now()],
      );
      await old.query("UPDATE totals SET events = 3, bytes = 6");
      const [store, replica] = [await open(url), await open(url)];
      expect(store.upgraded).toEqual({ from: 19, to: MIGRATIONS.length });
      const told: Gone[] = [];
      replica.onGone((gone) => told.push(gone));
      // Retention as an older replica, which the upgrade did not stop, runs it on its timer: the
      // same function, whose upgrade tells the drop in the same commit.
      await old.query("SELECT waiter_retain($1, 1, $2, $3) FROM (SELECT 1 FROM totals FOR UPDATE) AS turn", [
        clock.now(),
        LOOSE.maxBytes,
        LOOSE.maxAgeDays * 86_400_000,
      ]);
      await expect.poll(() => told).toEqual([{ through: Number(rows[1]?.seq), left: 1 }]);
      // And as this one's deliveries run it.
      await stored(store, event({ receivedAt: clock.now() + 31 * 86_400_000 }));
      await expect.poll(() => told).toHaveLength(2);
      expect(told[1]).toEqual({ through: Number(rows[2]?.seq), left: 1 });
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
        .toMatchObject({
          // The tool's answer; what the error keeps for retention's log is its own.
          name: "ToolError",
          message: `The event store's database refuses waiter's connection (PostgreSQL 28000: role "${user}" is not permitted to log in; PostgreSQL 127.0.0.1:${server.port}/waiter): nothing is read or stored until whoever runs waiter fixes that, so tell them to check that the database user exists and may log in, and that a line of the server's pg_hba.conf lets it connect to this database from waiter's address. waiter tries again at each call.`,
        });
      await admin.query(`ALTER ROLE ${user} LOGIN`);
      await admin.query(`REVOKE INSERT ON ALL TABLES IN SCHEMA ${schema} FROM ${user}`);
      const added = store.add(event());
      await expect(added).rejects.toBeInstanceOf(StoreNotWritable);
      await expect(added).rejects.toThrow(
        /^The event store cannot be written \(PostgreSQL 42501: permission denied for table events\): its database user lacks rights on waiter's tables \(PostgreSQL .*\)\. Nothing is stored until whoever runs waiter grants it USAGE on their schema, SELECT, INSERT, UPDATE and DELETE on the tables, and USAGE and SELECT on their sequences; tell them\.$/,
      );
      // CONNECT on the database, which a DBA's REVOKE … FROM PUBLIC takes from every user not granted it.
      await admin.query("REVOKE CONNECT ON DATABASE waiter FROM PUBLIC");
      try {
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${user}'`);
        const grant = 'grant the database user CONNECT on the database (GRANT CONNECT ON DATABASE "waiter" TO …)';
        await expect
          .poll(() => store.list({}, { limit: 5 }).catch((err: Error) => err))
          .toMatchObject({
            name: "ToolError",
            message: `The event store's database refuses waiter's connection (PostgreSQL 42501: permission denied for database "waiter"; PostgreSQL 127.0.0.1:${server.port}/waiter): nothing is read or stored until whoever runs waiter fixes that, so tell them to ${grant}. waiter tries again at each call.`,
          });
        await expect(open(asUser.href)).rejects.toThrow(`permission denied for database "waiter": ${grant}`);
      } finally {
        await admin.query("GRANT CONNECT ON DATABASE waiter TO PUBLIC");
      }
      const nowhere = new URL(url);
      nowhere.pathname = "/nosuch";
      await expect(open(nowhere.href)).rejects.toThrow(
        'database "nosuch" does not exist: check the database\'s name in WAITER_DATABASE_URL',
      );
      // A URL naming no user, nor PGUSER, where USER is not set (a container, a service): the driver sends none.
      const anyone = new URL(url);
      anyone.username = "";
      const [pguser, defaultUser] = [process.env.PGUSER, pg.defaults.user];
      delete process.env.PGUSER;
      pg.defaults.user = undefined;
      try {
        await expect(open(anyone.href)).rejects.toThrow(
          "no PostgreSQL user name specified in startup packet: name the database user in WAITER_DATABASE_URL (postgres://waiter@…) or in PGUSER: without either, the driver takes the name in USER, which is not set for waiter",
        );
      } finally {
        pg.defaults.user = defaultUser;
        if (pguser !== undefined) process.env.PGUSER = pguser;
      }
      // A URL naming no database: PGDATABASE's, else the user's name, as libpq takes it.
      const unnamed = new URL(asUser.href);
      unnamed.pathname = "";
      const saved = process.env.PGDATABASE;
      try {
        process.env.PGDATABASE = "nosuch";
        await expect(open(unnamed.href)).rejects.toThrow(
          'database "nosuch" does not exist: check PGDATABASE, which names the database where WAITER_DATABASE_URL does not, or create the database (CREATE DATABASE): waiter sets up its tables, not the database',
        );
        delete process.env.PGDATABASE;
        await expect(open(unnamed.href)).rejects.toThrow(
          `database "${user}" does not exist: name the database in WAITER_DATABASE_URL (postgres://…/waiter), which names none, nor does PGDATABASE: the driver took the user's name, as libpq does`,
        );
      } finally {
        if (saved === undefined) delete process.env.PGDATABASE;
        else process.env.PGDATABASE = saved;
      }
    });

    test("a closed store says so in words, as the SQLite one does", async () => {
      const closed = await open(await setUpDatabase());
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

    test("a user without rights on tables up to date, granted before their owner made them, is told at start what to grant", async () => {
      const url = await freshSchema();
      const schema = /search_path=(\w+)/.exec(decodeURIComponent(url))?.[1] as string;
      const user = `${schema}_early`;
      await admin.query(`CREATE ROLE ${user} LOGIN`);
      // A DBA's grants, made before the tables were: ALL TABLES is those there at the time.
      await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${user}`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${user}`);
      await open(url);
      const asUser = new URL(url);
      asUser.username = user;
      await expect(open(asUser.href)).rejects.toThrow(
        "permission denied for table waiter_schema (PostgreSQL 42501): waiter's database user lacks rights on its tables: grant it USAGE on their schema, SELECT, INSERT, UPDATE and DELETE on the tables, and USAGE and SELECT on their sequences (GRANT … ON ALL TABLES IN SCHEMA …, GRANT … ON ALL SEQUENCES IN SCHEMA …), which hold for the tables there at the time: again after an upgrade that adds one, or once for all with ALTER DEFAULT PRIVILEGES FOR ROLE (their owner) IN SCHEMA … GRANT …",
      );
    });

    test("a schema that exists, which waiter's user neither owns nor may create in, is to be made the user's, not created", async () => {
      const name = uniqueName("owned");
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
      // Unquoted in the path, a name is read in lower case and may hold what SQL must quote: the
      // statement names the schema the path finds, the one to create for it.
      const schema = uniqueName("Waiter-Events");
      url.searchParams.set("options", `-c search_path=${schema}`);
      const created = `"${schema.toLowerCase()}"`;
      await expect(open(url.href)).rejects.toThrow(
        `no schema the search path names (${schema}) exists, so waiter's tables have nowhere to go: create it first (CREATE SCHEMA ${created} AUTHORIZATION waiter), or`,
      );
      // Made so, the store opens there.
      await admin.query(`CREATE SCHEMA ${created}`);
      const store = await open(url.href);
      expect((await store.add(event())).duplicate).toBe(false);
    });

    test("a schema the URL's options name that a pooler does not pass on stops the start, rather than open the store in another schema", async () => {
      const url = await freshSchema();
      const schema = /search_path=(\w+)/.exec(decodeURIComponent(url))?.[1] as string;
      // Closed after the stores (afterEach), which the open's retention run may still be using.
      const pooler = await startupProxy(url, { ignore: "options" });
      onTestFinished(() => pooler.close());
      await expect(open(pooler.url)).rejects.toThrow(
        `the options in WAITER_DATABASE_URL give search_path=${schema}, which did not reach the database server (its search_path is "$user", public): a connection pooler between passes no options on (PgBouncer with options in its ignore_startup_parameters), and waiter would keep its events in another schema than the one asked; set the schema on the database user instead (ALTER ROLE waiter SET search_path = ${schema}), and leave it out of the URL`,
      );
      expect((await admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = '${schema}'`)).rows).toEqual([]);
      // The user's own search_path, the same as the options', is the one asked: the store opens.
      const role = new URL(await roleWith());
      role.searchParams.set("options", `-c search_path=${role.username}`);
      const onRole = await startupProxy(role.href, { ignore: "options" });
      onTestFinished(() => onRole.close());
      expect((await (await open(onRole.url)).add(event())).duplicate).toBe(false);
    });

    test("a pooler that refuses the URL's options stops the start saying to set them on the user instead", async () => {
      const url = await freshSchema();
      const refusals: Record<string, string> = {
        // PgBouncer before 1.20, which takes no options.
        "unsupported startup parameter: options":
          "a connection pooler between waiter and the database server (PgBouncer) refuses the options given as waiter connects (options in WAITER_DATABASE_URL, or PGOPTIONS): leave them out, and set what they give on the database user instead (ALTER ROLE … SET search_path = …)",
        // PgBouncer 1.20 and later, which takes the settings it tracks.
        "unsupported startup parameter in options: search_path":
          "a connection pooler between waiter and the database server (PgBouncer) refuses search_path in the options given as waiter connects (options in WAITER_DATABASE_URL, or PGOPTIONS): leave it out, and set it on the database user instead (ALTER ROLE … SET search_path = …)",
      };
      for (const [refusal, said] of Object.entries(refusals)) {
        const pooler = await startupProxy(url, { refuse: { options: refusal } });
        onTestFinished(() => pooler.close());
        await expect(open(pooler.url)).rejects.toThrow(`${refusal} (PostgreSQL 08P01): ${said}`);
      }
      // A setting the URL gives besides, which the driver sends as it connects.
      const refusal = "unsupported startup parameter: statement_timeout";
      const pooler = await startupProxy(server.url, { refuse: { statement_timeout: refusal } });
      onTestFinished(() => pooler.close());
      await expect(open(`${pooler.url}?statement_timeout=5000`)).rejects.toThrow(
        `${refusal} (PostgreSQL 08P01): a connection pooler between waiter and the database server (PgBouncer) refuses statement_timeout, which WAITER_DATABASE_URL gives as waiter connects: leave it out, and set it on the database user instead (ALTER ROLE … SET statement_timeout = …)`,
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
        `database "nosuch" does not exist: check the database's name in database.url in ${configFile}, or create the database (CREATE DATABASE): waiter sets up its tables, not the database`,
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
      // Not the 15 s of the driver's query timeout, after which the server would still wait; the
      // rest of the 15 s, less a margin, is the open's own work on a busy machine.
      expect(performance.now() - started).toBeLessThan(10_000);
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
      const url = await setUpDatabase();
      let dropped = 0;
      const store = await open(url, { ...LOOSE, maxEvents: 10 }, (d) => {
        dropped += d.count?.events ?? 0;
      });
      // What lowering WAITER_EVENTS_MAX_EVENTS leaves: 100,000 events over the limit.
      // The run of retention a store starts as it opens is over before the backlog comes.
      await store.expire();
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
      // Adding and dropping 100,000 events: close to the 20 s a test is given by default on a busy machine.
    }, 60_000);

    test("replicas that run retention on one backlog at once each end their run, neither refused as if a session held the turn", async () => {
      const url = await setUpDatabase();
      // A lock wait shorter than the other replica's whole run, longer than any one of its statements.
      const opened = () => PostgresEventStore.open({ url, retention: { ...LOOSE, maxEvents: 10 }, lockWaitMs: 2_000 });
      const [one, two] = [await opened(), await opened()];
      stores.push(one, two);
      // What lowering WAITER_EVENTS_MAX_EVENTS leaves, as the replicas start again together.
      // The run of retention a store starts as it opens is over before the backlog comes.
      await Promise.all([one.expire(), two.expire()]);
      await backlog(url, 100_000);
      const runs = await Promise.allSettled([one.expire(), two.expire()]);
      expect(runs).toEqual([
        { status: "fulfilled", value: undefined },
        { status: "fulfilled", value: undefined },
      ]);
      expect((await one.stats()).events).toBe(10);
      // Adding and dropping 100,000 events: 5 to 17 s of the server's work here, more on a loaded machine.
    }, 60_000);

    test("retention that fails after dropping part of a backlog still says what it dropped", async () => {
      const url = await setUpDatabase();
      let dropped = 0;
      const store = await open(url, { ...LOOSE, maxEvents: 10 }, (d) => {
        dropped += d.count?.events ?? 0;
      });
      // The run of retention a store starts as it opens is over before the backlog comes.
      await store.expire();
      const db = await backlog(url, 25_000);
      // The second part fails, as one cancelled by a lock wait or a lost connection would.
      await db.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.dedupe_id = 'b15000' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER refuse BEFORE INSERT ON dropped_deliveries FOR EACH ROW EXECUTE FUNCTION refuse()`);
      await expect(store.expire()).rejects.toThrow(/refused/);
      expect((await store.stats()).events).toBe(15_000);
      expect(dropped).toBe(10_000);
    });

    test("retention counts each event of a backlog by the limit that drops it, the aged by age, though the count is over too", async () => {
      const url = await setUpDatabase();
      const store = await open(url, { ...LOOSE, maxEvents: 1000 });
      // The run of retention a store starts as it opens is over before the backlog comes.
      await store.expire();
      await backlog(url, 25_000);
      await store.expire(clock.now() + 31 * 86_400_000);
      // Every event was past the age limit: none was dropped before its age by the count.
      expect(await store.stats()).toMatchObject({ events: 0, droppedBy: { age: 25_000, count: 0, bytes: 0 } });
    });

    /** A fresh store with `rows` (SQL) added and analysed; `check` is given each query's plan. */
    async function planned(
      rows: string,
      check: (explain: (query: [string, unknown[]]) => Promise<string>) => Promise<void>,
    ) {
      const url = await setUpDatabase();
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

    test("a payment id is looked up among dropped deliveries by their key, never by reading every one", async () => {
      // 20,000 deliveries of a GoPay source remembered past their events, each a payment's state.
      const rows = `INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
        SELECT 'gopay', (3000000000 + g) || ':PAID', 'e' || g, g FROM generate_series(1, 20000) AS g;
        INSERT INTO counters (source, outcome, n) VALUES ('gopay', 'received', 20000)`;
      await planned(rows, async (explain) => {
        const plan = await explain(droppedPaymentQuery("3000006542", ["hooks"]));
        expect(plan).toMatch(/Index Scan (using|on) dropped_deliveries_pkey/);
        expect(plan).not.toMatch(/Seq Scan on dropped_deliveries/);
      });
    });

    test("a sender's delivery id is looked up by its events' keys, never by reading every event of its source", async () => {
      // 100,000 events of one source, each under its delivery id; two deliveries that came again
      // with other bodies, keyed on the id and the body, and as many dropped.
      const reused = (n: number) => `'d-6542 sha256:' || repeat('${n}', 64)`;
      const rows = `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
        SELECT 'e' || g, 'erp', 'invoice.created', 'hmac-sha256', 'd-' || g, g, '{}', '\\x7b7d'::bytea, true, 2
        FROM generate_series(1, 100000) AS g
        UNION ALL SELECT 'r' || g, 'erp', 'invoice.created', 'hmac-sha256', ${reused(1)} || g, 100000 + g, '{}', '\\x7b7d', true, 2
        FROM generate_series(1, 2) AS g;
        INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
        SELECT 'erp', 'd-' || g, 'x' || g, g FROM generate_series(100001, 200000) AS g
        UNION ALL SELECT 'erp', ${reused(2)} || g, 'y' || g, g FROM generate_series(1, 2) AS g;
        INSERT INTO counters (source, outcome, n) VALUES ('erp', 'received', 100000), ('erp', 'accepted', 100000),
          ('erp', 'id reused', 2), ('hooks', 'rejected:bad signature', 3);
        ANALYZE dropped_deliveries`;
      await planned(rows, async (explain) => {
        const plan = await explain(deliveredAsQuery("d-6542"));
        expect(plan).toMatch(/Index Scan using events_source_dedupe_id_key on events/);
        expect(plan).not.toMatch(/Seq Scan on events/);
        for (const table of ["events", "dropped_deliveries"] as const) {
          const reused = await explain(reusedAsQuery("d-6542", table));
          // The keys a range of the index, not each of the source's, or every, key checked in turn.
          expect(reused).toMatch(
            new RegExp(`Index Scan using ${table}_reused_keys on ${table} .*\n *Index Cond: .*dedupe_id`),
          );
          expect(reused).not.toMatch(
            /Seq Scan on (events|dropped_deliveries)|using (events_pkey|events_by_source|dropped_deliveries_at)/,
          );
        }
      });
    });

    test("a Shopify webhook's id is looked up through its index, never by reading every event", async () => {
      // 20,000 events of a Shopify source, each with its webhook id under one of the header names.
      const rows = `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
        SELECT 'e' || g, 'shop', 'orders/paid', 'shopify', 'orders/paid:' || g || ':o' || g, g,
               json_build_object(CASE WHEN g % 2 = 0 THEN 'shopify-webhook-id' ELSE 'x-shopify-webhook-id' END, 'wh-' || g)::text,
               '\\x7b7d', true, 2
        FROM generate_series(1, 20000) AS g;
        INSERT INTO counters (source, outcome, n) VALUES ('shop', 'received', 20000)`;
      await planned(rows, async (explain) => {
        const plan = await explain(deliveredAsQuery("wh-6542"));
        expect(plan).toMatch(/Index Scan (using|on) events_by_shopify_webhook/);
        expect(plan).not.toMatch(/Seq Scan on events/);
      });
    });

    test("a WooCommerce delivery ID is looked up through its index, never by reading every event", async () => {
      // 20,000 events of a WooCommerce source, each with the delivery ID WooCommerce sent it with.
      const rows = `INSERT INTO events (id, source, type, scheme, dedupe_id, received_at, headers, body, is_json, size)
        SELECT 'e' || g, 'shop', 'order.updated', 'woocommerce', '12:' || g || ':2025-07-01T10:00:00:aa', g,
               json_build_object('x-wc-webhook-delivery-id', 'wc-' || g)::text, '\\x7b7d', true, 2
        FROM generate_series(1, 20000) AS g;
        INSERT INTO counters (source, outcome, n) VALUES ('shop', 'received', 20000)`;
      await planned(rows, async (explain) => {
        const plan = await explain(deliveredAsQuery("wc-6542"));
        expect(plan).toMatch(/Index Scan (using|on) events_by_woocommerce_delivery/);
        expect(plan).not.toMatch(/Seq Scan on events/);
      });
    });

    test("an event id retention dropped is looked up through its index, never by reading a year's drops", async () => {
      // 20,000 deliveries retention dropped, each with its event's id.
      const rows = `INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at)
        SELECT 'shop', 'd' || g, 'e' || g, g FROM generate_series(1, 20000) AS g;
        ANALYZE dropped_deliveries`;
      await planned(rows, async (explain) => {
        const plan = await explain(droppedEventsQuery(["e6542", "e42"]));
        expect(plan).toMatch(/Index Scan (using|on) dropped_deliveries_id|Bitmap Index Scan on dropped_deliveries_id/);
        expect(plan).not.toMatch(/Seq Scan on dropped_deliveries/);
      });
    });

    test("a database of schema 23 is upgraded so that an event id retention dropped before the upgrade is told when", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 23);
      await old.query(
        "INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at) VALUES ('shop', 'evt_1', '01OLD', $1)",
        [Date.parse("2026-12-01T09:00:00Z")],
      );
      await old.end();
      const store = await open(url);
      expect(store.upgraded).toEqual({ from: 23, to: MIGRATIONS.length });
      expect(await store.droppedEvents(["01OLD", "01NEVER"])).toEqual([
        { id: "01OLD", droppedAt: "2026-12-01T09:00:00.000Z" },
      ]);
    });

    test("a database of schema 26 keeps its dropped deliveries, each a repeat still, and keeps the bodies' digests of those it drops after", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 26);
      await old.query(
        "INSERT INTO dropped_deliveries (source, dedupe_id, id, dropped_at) VALUES ('shop', 'before', '01OLD', $1)",
        [clock.now()],
      );
      await old.query("INSERT INTO counters (source, outcome, n) VALUES ('shop', 'accepted', 1)");
      await old.end();
      const store = await open(url, { ...LOOSE, maxEvents: 1 });
      expect(store.upgraded).toEqual({ from: 26, to: MIGRATIONS.length });
      // Dropped before the upgrade: no digest of its body was kept.
      expect(await store.add(event({ dedupeId: "before" }))).toEqual({ id: "01OLD", duplicate: true, dropped: true });
      const body = Buffer.from('{"kept":true}');
      const kept = await store.add(event({ dedupeId: "after", scheme: "hmac-sha256", body }));
      await store.add(event({ dedupeId: "last" }));
      expect(await store.add(event({ dedupeId: "after" }))).toEqual({
        id: kept.id,
        duplicate: true,
        dropped: true,
        digest: `sha256:${createHash("sha256").update(body).digest("hex")}`,
      });
    });

    test("a database of schema 27 keeps no digest, once upgraded, of a dropped delivery whose id never comes back with another body", async () => {
      const url = await freshSchema();
      const old = new pg.Client(url);
      await old.connect();
      await migrate(old, 27);
      await old.end();
      const store = await open(url, { ...LOOSE, maxEvents: 1 });
      expect(store.upgraded).toEqual({ from: 27, to: MIGRATIONS.length });
      const signed = await store.add(event({ dedupeId: "evt_1", scheme: "stripe" }));
      await store.add(event({ dedupeId: "evt_2", scheme: "stripe" }));
      expect(await store.add(event({ dedupeId: "evt_1", scheme: "stripe" }))).toEqual({
        id: signed.id,
        duplicate: true,
        dropped: true,
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
});
