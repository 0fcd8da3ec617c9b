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

describe("storing", () => {
  test("an event is stored once per source and delivery id", () => {
    const { store } = open();
    const first = store.add(event({ dedupeId: "same" }));
    const again = store.add(event({ dedupeId: "same" }));
    const elsewhere = store.add(event({ dedupeId: "same", source: "other" }));
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ event: first.event, duplicate: true });
    expect(elsewhere.duplicate).toBe(false);
    expect(store.stats().events).toBe(2);
    expect(store.counters().shop).toEqual({ accepted: 1, duplicate: 1 });
  });

  test("the payload is kept verbatim: JSON parsed for reading, other text as text", () => {
    const { store } = open();
    const json = store.add(event({ body: Buffer.from('{"total":"19.990","n":1.0}') })).event;
    expect(json).toMatchObject({ isJson: true, payload: { total: "19.990", n: 1 }, size: 26 });
    const text = store.add(event({ body: Buffer.from("webhook_id=12") })).event;
    expect(text).toMatchObject({ isJson: false, payload: "webhook_id=12" });
  });

  test("ids sort in arrival order", () => {
    const { store } = open();
    const ids = Array.from({ length: 20 }, () => store.add(event()).event.id);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe("reading", () => {
  test("newest first, filtered by source, exact type, type prefix and unacknowledged", () => {
    const { store } = open();
    const a = store.add(event({ type: "order.paid" })).event;
    const b = store.add(event({ type: "order.created", source: "pay" })).event;
    const c = store.add(event({ type: "product.updated" })).event;
    expect(store.list({}, { limit: 10 }).map((e) => e.id)).toEqual([c.id, b.id, a.id]);
    expect(store.list({ source: "shop" }, { limit: 10 }).map((e) => e.id)).toEqual([c.id, a.id]);
    expect(store.list({ type: "order." }, { limit: 10 }).map((e) => e.id)).toEqual([b.id, a.id]);
    expect(store.list({ type: "order*" }, { limit: 10 }).map((e) => e.id)).toEqual([b.id, a.id]);
    expect(store.list({ type: "order" }, { limit: 10 })).toEqual([]);
    store.ack([a.id]);
    expect(store.list({ unackedOnly: true }, { limit: 10 }).map((e) => e.id)).toEqual([c.id, b.id]);
  });

  test("pages by sequence number in both directions", () => {
    const { store } = open();
    const events = Array.from({ length: 5 }, () => store.add(event()).event);
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

  test("acknowledging is idempotent and says what it did", () => {
    const { store } = open();
    const a = store.add(event()).event;
    expect(store.ack([a.id, a.id, "nope"])).toEqual({ acked: [a.id], already: [], unknown: ["nope"] });
    const first = store.get(a.id)?.ackedAt;
    expect(store.ack([a.id], Date.now() + 5000)).toEqual({ acked: [], already: [a.id], unknown: [] });
    expect(store.get(a.id)?.ackedAt).toBe(first);
  });

  test("completion offers the newest ids with a prefix", () => {
    const { store } = open();
    const ids = Array.from({ length: 3 }, () => store.add(event()).event.id);
    expect(store.recentIds("", 2)).toEqual([ids[2], ids[1]]);
    expect(store.recentIds(ids[0] as string, 5)).toEqual([ids[0]]);
  });
});

describe("retention drops the oldest and says so", () => {
  test("by count", () => {
    const { store } = open({ ...LOOSE, maxEvents: 3 });
    const ids = Array.from({ length: 5 }, () => store.add(event()).event.id);
    expect(store.list({}, { limit: 10 }).map((e) => e.id)).toEqual(ids.slice(2).reverse());
    expect(store.stats()).toMatchObject({ events: 3, dropped: { count: 2, bytes: 0, age: 0 } });
  });

  test("by bytes", () => {
    const { store } = open({ ...LOOSE, maxBytes: 250 });
    for (let i = 0; i < 4; i++) store.add(event({ body: Buffer.alloc(100, 120) }));
    expect(store.stats()).toMatchObject({ events: 2, bytes: 200, dropped: { bytes: 2 } });
  });

  test("by age", () => {
    const { store } = open({ ...LOOSE, maxAgeDays: 1 });
    store.add(event({ receivedAt: Date.now() - 3 * 86_400_000 }));
    store.add(event({ receivedAt: Date.now() - 2 * 86_400_000 }));
    store.add(event());
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
    const added = writer.add(event()).event;
    await expect.poll(() => seen, { timeout: 1000, interval: 20 }).toEqual([added.id]);
    expect(Date.now() - started).toBeLessThan(1000);
    unsubscribe();
  });

  test("subscribers in the committing process hear at once, and a duplicate is not news", () => {
    const { store } = open();
    const seen: string[] = [];
    store.subscribe((e) => seen.push(e.id));
    const added = store.add(event({ dedupeId: "x" })).event;
    store.add(event({ dedupeId: "x" }));
    expect(seen).toEqual([added.id]);
  });

  test("counters and totals are shared through the file", () => {
    const { store: one, file } = open();
    const { store: two } = open(LOOSE, file);
    one.count("shop", "received");
    two.count("shop", "received");
    two.count("shop", "rejected:signature mismatch");
    one.add(event());
    expect(two.counters().shop).toEqual({ received: 2, "rejected:signature mismatch": 1, accepted: 1 });
    expect(two.stats().events).toBe(1);
  });
});
