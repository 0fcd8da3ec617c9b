import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, onTestFinished, test, vi } from "vitest";
import { ToolError } from "../src/errors.js";
import { SqliteEventStore } from "../src/events/sqlite/store.js";
import type { EventStore, NewEvent, Retention } from "../src/events/store.js";
import { clock, setClock } from "../src/time.js";

const LOOSE: Retention = { maxEvents: 1000, maxBytes: 1 << 30, maxAgeDays: 30 };
const stores: EventStore[] = [];
/** New Year's Eve in UTC: an age limit counted in calendar days, not in days of 24 hours, would show. */
beforeEach(() => setClock("2026-12-31T23:30:00Z"));
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  vi.useRealTimers();
  setClock();
});

function open(retention = LOOSE, file = join(mkdtempSync(join(tmpdir(), "waiter-store-")), "events.db")) {
  const store = new SqliteEventStore(file, retention);
  stores.push(store);
  return { store, file };
}

let n = 0;
function event(overrides: Partial<NewEvent> = {}): NewEvent {
  n += 1;
  return {
    source: "shop",
    type: "order.paid",
    scheme: "woocommerce",
    dedupeId: `d${n}`,
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify({ order: n })),
    receivedAt: clock.now(),
    ...overrides,
  };
}

/** Adds an event and reads it back. */
async function stored(store: EventStore, newEvent: NewEvent) {
  const read = await store.get((await store.add(newEvent)).id);
  if (!read) throw new Error("the event was not kept");
  return read;
}

/** One after another: each its own commit, in order. */
async function addMany(store: EventStore, count: number) {
  const added = [];
  for (let i = 0; i < count; i++) added.push(await stored(store, event()));
  return added;
}

describe("storing", () => {
  test("the store's files are the user's alone", async () => {
    const { store, file } = open(LOOSE, join(mkdtempSync(join(tmpdir(), "waiter-store-")), "state", "events.db"));
    await store.add(event());
    for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(statSync(path).mode & 0o777, path).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
  });

  test("an event is stored once per source and delivery id", async () => {
    const { store } = open();
    const first = await store.add(event({ dedupeId: "same" }));
    const again = await store.add(event({ dedupeId: "same" }));
    const elsewhere = await store.add(event({ dedupeId: "same", source: "other" }));
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.id).toBe(first.id);
    expect(elsewhere.duplicate).toBe(false);
    expect((await store.stats()).events).toBe(2);
    expect((await store.counters()).shop).toEqual({ received: 2, accepted: 1, duplicate: 1 });
  });

  test("the payload is kept verbatim: JSON parsed for reading, other text as text", async () => {
    const { store } = open();
    const json = await stored(store, event({ body: Buffer.from('{"total":"19.990","n":1.0}') }));
    expect(json).toMatchObject({ isJson: true, payload: '{"total":"19.990","n":1.0}', size: 26 });
    const text = await stored(store, event({ body: Buffer.from("webhook_id=12") }));
    expect(text).toMatchObject({ isJson: false, payload: "webhook_id=12" });
  });

  test("events added at once share a commit, keep their order, and dedupe within it", async () => {
    const { store, file } = open();
    const { store: other } = open(LOOSE, file);
    const before = await other.latestSeq();
    const pending = [
      store.add(event()),
      store.add(event({ dedupeId: "twice" })),
      store.add(event({ dedupeId: "twice" })),
    ];
    // Nothing is committed until the batch is: another connection sees all of it or none.
    expect(await other.latestSeq()).toBe(before);
    const added = await Promise.all(pending);
    expect(added.map((a) => a.duplicate)).toEqual([false, false, true]);
    expect(added[2]?.id).toBe(added[1]?.id);
    const seqs = await Promise.all(added.slice(0, 2).map(async (a) => (await store.get(a.id))?.seq ?? 0));
    expect(seqs[1]).toBe((seqs[0] ?? 0) + 1);
    expect(await other.latestSeq()).toBe(seqs[1]);
    expect((await store.stats()).events).toBe(2);
  });

  test("an event retention drops at once resolves without one, and subscribers go on", async () => {
    const { store } = open({ ...LOOSE, maxBytes: 50 });
    const seen: string[] = [];
    store.subscribe(() => {
      throw new Error("a broken subscriber");
    });
    store.subscribe((e) => seen.push(e.id));
    const dropped = await store.add(event({ body: Buffer.alloc(100, 120) }));
    expect(dropped.duplicate).toBe(false);
    expect(await store.get(dropped.id)).toBeUndefined();
    expect((await store.stats()).droppedBy.bytes).toBe(1);
    const kept = await store.add(event({ body: Buffer.from("{}") }));
    expect(seen).toEqual([kept.id]);
  });

  test("ids sort in arrival order", async () => {
    const { store } = open();
    const ids = (await addMany(store, 20)).map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe("reading", () => {
  test("newest first, filtered by source, exact type, type prefix and unacknowledged", async () => {
    const { store } = open();
    const a = await stored(store, event({ type: "order.paid" }));
    const b = await stored(store, event({ type: "order.created", source: "pay" }));
    const c = await stored(store, event({ type: "product.updated" }));
    expect((await store.list({}, { limit: 10 })).map((e) => e.id)).toEqual([c.id, b.id, a.id]);
    expect((await store.list({ source: "shop" }, { limit: 10 })).map((e) => e.id)).toEqual([c.id, a.id]);
    expect((await store.list({ type: "order." }, { limit: 10 })).map((e) => e.id)).toEqual([b.id, a.id]);
    expect((await store.list({ type: "order*" }, { limit: 10 })).map((e) => e.id)).toEqual([b.id, a.id]);
    expect(await store.list({ type: "order" }, { limit: 10 })).toEqual([]);
    await store.ack([a.id]);
    expect((await store.list({ unackedOnly: true }, { limit: 10 })).map((e) => e.id)).toEqual([c.id, b.id]);
  });

  test("pages by sequence number in both directions", async () => {
    const { store } = open();
    const events = await addMany(store, 5);
    const [e1, e2, e3, e4, e5] = events as [
      (typeof events)[0],
      (typeof events)[0],
      (typeof events)[0],
      (typeof events)[0],
      (typeof events)[0],
    ];
    expect((await store.list({}, { limit: 2 })).map((e) => e.id)).toEqual([e5.id, e4.id]);
    expect((await store.list({}, { before: e4.seq, limit: 2 })).map((e) => e.id)).toEqual([e3.id, e2.id]);
    expect((await store.list({}, { after: e3.seq, limit: 10 })).map((e) => e.id)).toEqual([e5.id, e4.id]);
    expect((await store.firstAfter({}, e1.seq))?.id).toBe(e2.id);
    expect(await store.firstAfter({}, e5.seq)).toBeUndefined();
    expect(await store.latestSeq()).toBe(e5.seq);
  });

  test("acknowledging is idempotent and says what it did", async () => {
    const { store } = open();
    const a = await stored(store, event());
    expect(await store.ack([a.id, a.id, "nope"])).toEqual({ acked: [a.id], already: [], unknown: ["nope"] });
    const first = (await store.get(a.id))?.ackedAt;
    expect(await store.ack([a.id], clock.now() + 5000)).toEqual({ acked: [], already: [a.id], unknown: [] });
    expect((await store.get(a.id))?.ackedAt).toBe(first);
  });

  test("completion offers the newest ids with a prefix", async () => {
    const { store } = open();
    const ids = (await addMany(store, 3)).map((e) => e.id);
    expect(await store.recentIds("", 2)).toEqual([ids[2], ids[1]]);
    expect(await store.recentIds(ids[0] as string, 5)).toEqual([ids[0]]);
  });
});

describe("retention drops the oldest and says so", () => {
  test("by count", async () => {
    const { store } = open({ ...LOOSE, maxEvents: 3 });
    const ids = (await addMany(store, 5)).map((e) => e.id);
    expect((await store.list({}, { limit: 10 })).map((e) => e.id)).toEqual(ids.slice(2).reverse());
    expect(await store.stats()).toMatchObject({ events: 3, droppedBy: { count: 2, bytes: 0, age: 0 } });
  });

  test("by bytes", async () => {
    const { store } = open({ ...LOOSE, maxBytes: 250 });
    for (let i = 0; i < 4; i++) await store.add(event({ body: Buffer.alloc(100, 120) }));
    expect(await store.stats()).toMatchObject({ events: 2, bytes: 200, droppedBy: { bytes: 2 } });
  });

  test("by age", async () => {
    const { store } = open({ ...LOOSE, maxAgeDays: 1 });
    await store.add(event({ receivedAt: clock.now() - 3 * 86_400_000 }));
    await store.add(event({ receivedAt: clock.now() - 2 * 86_400_000 }));
    await store.add(event());
    expect(await store.stats()).toMatchObject({ events: 1, droppedBy: { age: 2 } });
  });
});

describe("several processes, one file", () => {
  test("a store another process holds past the wait is busy, in words a model can act on", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "waiter-store-")), "events.db");
    const store = new SqliteEventStore(file, LOOSE, { busyMs: 100 });
    stores.push(store);
    const { id } = await store.add(event());
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    try {
      const refused = store.ack([id]);
      await expect(refused).rejects.toBeInstanceOf(ToolError);
      await expect(refused).rejects.toThrow(/event store is busy: another waiter process is writing/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    expect((await store.ack([id])).acked).toEqual([id]);
  });

  test("an event committed through one connection reaches another's subscribers within a second", async () => {
    const { store: writer, file } = open();
    const { store: reader } = open(LOOSE, file);
    const seen: string[] = [];
    const unsubscribe = reader.subscribe((e) => seen.push(e.id));
    const started = performance.now();
    const added = await stored(writer, event());
    await expect.poll(() => seen, { timeout: 1000, interval: 20 }).toEqual([added.id]);
    expect(performance.now() - started).toBeLessThan(1000);
    unsubscribe();
  });

  test("with two processes writing, a subscriber hears every event once", async () => {
    const { store: here, file } = open();
    const { store: there } = open(LOOSE, file);
    const seen: number[] = [];
    here.subscribe((e) => seen.push(e.seq));
    const theirs = await there.add(event());
    const ours = await here.add(event());
    const later = await there.add(event());
    const expected = await Promise.all([theirs, ours, later].map(async (a) => (await here.get(a.id))?.seq));
    await expect.poll(() => [...seen].sort(), { timeout: 1000, interval: 20 }).toEqual(expected);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toHaveLength(3);
  });

  test("the age limit holds without new events", async () => {
    const { store } = open({ ...LOOSE, maxAgeDays: 1 });
    await store.add(event({ receivedAt: clock.now() - 0.5 * 86_400_000 }));
    await store.expire(clock.now() + 86_400_000);
    expect(await store.stats()).toMatchObject({ events: 0, droppedBy: { age: 1 } });
  });

  test("subscribers in the committing process hear at once, and a duplicate is not news", async () => {
    const { store } = open();
    const seen: string[] = [];
    store.subscribe((e) => seen.push(e.id));
    const added = await stored(store, event({ dedupeId: "x" }));
    await store.add(event({ dedupeId: "x" }));
    expect(seen).toEqual([added.id]);
  });

  test("counters and totals are shared through the file", async () => {
    const { store: one, file } = open();
    const { store: two } = open(LOOSE, file);
    one.count("shop", "ping");
    two.count("shop", "rejected:signature mismatch");
    await one.add(event());
    expect((await two.counters()).shop).toEqual({
      received: 3,
      ping: 1,
      "rejected:signature mismatch": 1,
      accepted: 1,
    });
    expect((await two.stats()).events).toBe(1);
  });
});

describe("what the store does on its own does not end the process", () => {
  const DAY_MS = 86_400_000;

  /** Another connection makes every delete from the events table fail, as a full disk would. */
  function blockDeletes(file: string) {
    const db = new Database(file);
    db.exec(
      "CREATE TRIGGER block_deletes BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'deleting is blocked'); END",
    );
    return () => {
      db.exec("DROP TRIGGER block_deletes");
      db.close();
    };
  }

  /** The process's warnings from now on. */
  function warnings() {
    const seen: string[] = [];
    const listener = (warning: Error) => seen.push(warning.message);
    process.on("warning", listener);
    onTestFinished(() => {
      process.off("warning", listener);
    });
    return seen;
  }

  test("retention failing on its timer is reported, and runs again on the next tick", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { store, file } = open({ ...LOOSE, maxAgeDays: 1 });
    await store.add(event({ receivedAt: clock.now() - 0.5 * DAY_MS }));
    const unblock = blockDeletes(file);
    const seen = warnings();
    setClock(clock.now() + DAY_MS);
    expect(() => vi.advanceTimersToNextTimer()).not.toThrow();
    await expect.poll(() => seen).toEqual(["event retention failed: deleting is blocked"]);
    expect(await store.stats()).toMatchObject({ events: 1, droppedBy: { age: 0 } });
    unblock();
    vi.advanceTimersToNextTimer();
    expect(await store.stats()).toMatchObject({ events: 0, droppedBy: { age: 1 } });
    expect(seen).toHaveLength(1);
  });

  test("a store whose retention fails still opens, and says why", async () => {
    const { store, file } = open({ ...LOOSE, maxAgeDays: 1 });
    const kept = await stored(store, event({ receivedAt: clock.now() - 0.5 * DAY_MS }));
    const unblock = blockDeletes(file);
    const seen = warnings();
    setClock(clock.now() + DAY_MS);
    const { store: again } = open({ ...LOOSE, maxAgeDays: 1 }, file);
    expect((await again.get(kept.id))?.id).toBe(kept.id);
    await expect.poll(() => seen).toEqual(["event retention failed: deleting is blocked"]);
    unblock();
  });

  test("a failed look at other processes' events is reported, and the watch goes on", async () => {
    const { store, file } = open();
    const seen = warnings();
    const heard: string[] = [];
    store.subscribe((e) => heard.push(e.id));
    const other = new Database(file);
    other.exec("ALTER TABLE events RENAME TO moved");
    await expect
      .poll(() => seen, { timeout: 2000, interval: 20 })
      .toEqual(["watching for events from other processes failed: no such table: events"]);
    other.exec("ALTER TABLE moved RENAME TO events");
    await other.close();
    const { store: writer } = open(LOOSE, file);
    const added = await stored(writer, event());
    await expect.poll(() => heard, { timeout: 2000, interval: 20 }).toEqual([added.id]);
  });
});
