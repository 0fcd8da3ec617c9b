import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { EventStore, type NewEvent, type Retention } from "../src/events/store.js";

const LOOSE: Retention = { maxEvents: 1000, maxBytes: 1 << 30, maxAgeDays: 30 };
const stores: EventStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function open(retention = LOOSE, file = join(mkdtempSync(join(tmpdir(), "waiter-store-")), "events.db")) {
  const store = new EventStore(file, retention);
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
    receivedAt: Date.now(),
    ...overrides,
  };
}

/** One after another: each its own commit, in order. */
async function addMany(store: EventStore, count: number) {
  const added = [];
  for (let i = 0; i < count; i++) added.push((await store.add(event())).event);
  return added;
}

describe("storing", () => {
  test("an event is stored once per source and delivery id", async () => {
    const { store } = open();
    const first = await store.add(event({ dedupeId: "same" }));
    const again = await store.add(event({ dedupeId: "same" }));
    const elsewhere = await store.add(event({ dedupeId: "same", source: "other" }));
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.event).toEqual(first.event);
    expect(elsewhere.duplicate).toBe(false);
    expect(store.stats().events).toBe(2);
    expect(store.counters().shop).toEqual({ received: 2, accepted: 1, duplicate: 1 });
  });

  test("the payload is kept verbatim: JSON parsed for reading, other text as text", async () => {
    const { store } = open();
    const json = (await store.add(event({ body: Buffer.from('{"total":"19.990","n":1.0}') }))).event;
    expect(json).toMatchObject({ isJson: true, payload: { total: "19.990", n: 1 }, size: 26 });
    const text = (await store.add(event({ body: Buffer.from("webhook_id=12") }))).event;
    expect(text).toMatchObject({ isJson: false, payload: "webhook_id=12" });
  });

  test("events added at once share a commit and keep their order", async () => {
    const { store } = open();
    const added = await Promise.all([
      store.add(event()),
      store.add(event({ dedupeId: "twice" })),
      store.add(event({ dedupeId: "twice" })),
    ]);
    expect(added.map((a) => a.duplicate)).toEqual([false, false, true]);
    expect(added[2]?.id).toBe(added[1]?.id);
    expect(store.stats().events).toBe(2);
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
    const a = (await store.add(event({ type: "order.paid" }))).event;
    const b = (await store.add(event({ type: "order.created", source: "pay" }))).event;
    const c = (await store.add(event({ type: "product.updated" }))).event;
    expect(store.list({}, { limit: 10 }).map((e) => e.id)).toEqual([c.id, b.id, a.id]);
    expect(store.list({ source: "shop" }, { limit: 10 }).map((e) => e.id)).toEqual([c.id, a.id]);
    expect(store.list({ type: "order." }, { limit: 10 }).map((e) => e.id)).toEqual([b.id, a.id]);
    expect(store.list({ type: "order*" }, { limit: 10 }).map((e) => e.id)).toEqual([b.id, a.id]);
    expect(store.list({ type: "order" }, { limit: 10 })).toEqual([]);
    store.ack([a.id]);
    expect(store.list({ unackedOnly: true }, { limit: 10 }).map((e) => e.id)).toEqual([c.id, b.id]);
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
    expect(store.list({}, { limit: 2 }).map((e) => e.id)).toEqual([e5.id, e4.id]);
    expect(store.list({}, { before: e4.seq, limit: 2 }).map((e) => e.id)).toEqual([e3.id, e2.id]);
    expect(store.list({}, { after: e3.seq, limit: 10 }).map((e) => e.id)).toEqual([e5.id, e4.id]);
    expect(store.firstAfter({}, e1.seq)?.id).toBe(e2.id);
    expect(store.firstAfter({}, e5.seq)).toBeUndefined();
    expect(store.latestSeq()).toBe(e5.seq);
  });

  test("acknowledging is idempotent and says what it did", async () => {
    const { store } = open();
    const a = (await store.add(event())).event;
    expect(store.ack([a.id, a.id, "nope"])).toEqual({ acked: [a.id], already: [], unknown: ["nope"] });
    const first = store.get(a.id)?.ackedAt;
    expect(store.ack([a.id], Date.now() + 5000)).toEqual({ acked: [], already: [a.id], unknown: [] });
    expect(store.get(a.id)?.ackedAt).toBe(first);
  });

  test("completion offers the newest ids with a prefix", async () => {
    const { store } = open();
    const ids = (await addMany(store, 3)).map((e) => e.id);
    expect(store.recentIds("", 2)).toEqual([ids[2], ids[1]]);
    expect(store.recentIds(ids[0] as string, 5)).toEqual([ids[0]]);
  });
});

describe("retention drops the oldest and says so", () => {
  test("by count", async () => {
    const { store } = open({ ...LOOSE, maxEvents: 3 });
    const ids = (await addMany(store, 5)).map((e) => e.id);
    expect(store.list({}, { limit: 10 }).map((e) => e.id)).toEqual(ids.slice(2).reverse());
    expect(store.stats()).toMatchObject({ events: 3, dropped: { count: 2, bytes: 0, age: 0 } });
  });

  test("by bytes", async () => {
    const { store } = open({ ...LOOSE, maxBytes: 250 });
    for (let i = 0; i < 4; i++) await store.add(event({ body: Buffer.alloc(100, 120) }));
    expect(store.stats()).toMatchObject({ events: 2, bytes: 200, dropped: { bytes: 2 } });
  });

  test("by age", async () => {
    const { store } = open({ ...LOOSE, maxAgeDays: 1 });
    await store.add(event({ receivedAt: Date.now() - 3 * 86_400_000 }));
    await store.add(event({ receivedAt: Date.now() - 2 * 86_400_000 }));
    await store.add(event());
    expect(store.stats()).toMatchObject({ events: 1, dropped: { age: 2 } });
  });
});

describe("several processes, one file", () => {
  test("an event committed through one connection reaches another's subscribers within a second", async () => {
    const { store: writer, file } = open();
    const { store: reader } = open(LOOSE, file);
    const seen: string[] = [];
    const unsubscribe = reader.subscribe((e) => seen.push(e.id));
    const started = Date.now();
    const added = (await writer.add(event())).event;
    await expect.poll(() => seen, { timeout: 1000, interval: 20 }).toEqual([added.id]);
    expect(Date.now() - started).toBeLessThan(1000);
    unsubscribe();
  });

  test("subscribers in the committing process hear at once, and a duplicate is not news", async () => {
    const { store } = open();
    const seen: string[] = [];
    store.subscribe((e) => seen.push(e.id));
    const added = (await store.add(event({ dedupeId: "x" }))).event;
    await store.add(event({ dedupeId: "x" }));
    expect(seen).toEqual([added.id]);
  });

  test("counters and totals are shared through the file", async () => {
    const { store: one, file } = open();
    const { store: two } = open(LOOSE, file);
    one.count("shop", "ping");
    two.count("shop", "rejected:signature mismatch");
    await one.add(event());
    expect(two.counters().shop).toEqual({ received: 3, ping: 1, "rejected:signature mismatch": 1, accepted: 1 });
    expect(two.stats().events).toBe(1);
  });
});
