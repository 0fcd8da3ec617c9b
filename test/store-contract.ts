import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { describe, expect, onTestFinished, test } from "vitest";
import { matchesFilter } from "../src/events/filter.js";
import type { SourceSchemes } from "../src/events/payments.js";
import type { Dropped, EventFilter, EventStore, Gone, NewEvent, Retention, StoredEvent } from "../src/events/store.js";
import { clock, setClock } from "../src/time.js";

/**
 * The statements docs/webhooks.md runs with `shell` (sqlite3 or psql) after restoring a backup, to
 * move the event numbers past those the events the backup lacks had: each an argument of the
 * command, which the shell runs on its own (psql's -c each in its own transaction).
 */
export function numbersMovedSql(shell: "sqlite3" | "psql"): string[] {
  const docs = readFileSync(new URL("../docs/webhooks.md", import.meta.url), "utf8");
  const section = docs.slice(docs.indexOf("### Backing up and restoring the store"));
  const line = new RegExp(`^${shell} "[^"]+"((?: (?:-c )?"[^"]*")+)$`, "m").exec(section)?.[1] ?? "";
  return [...line.matchAll(/(?:-c )?"([^"]*)"/g)].map((argument) => argument[1] as string);
}

/** The SQL docs/webhooks.md gives to erase a customer's events, for the email it names. */
export function erasingSql(): string {
  const docs = readFileSync(new URL("../docs/webhooks.md", import.meta.url), "utf8");
  const section = docs.slice(docs.indexOf("### Erasing a customer's events"));
  return /<<'SQL'\n([\s\S]*?)\nSQL\n/.exec(section)?.[1] ?? "";
}

/**
 * Runs the erasing SQL of docs/webhooks.md on `file`, for `text` in place of its email, as the sqlite3 shell runs it beside waiter, its one dot command aside.
 * The erasure is stamped at the clock's instant, not SQLite's 'now': beside drops made at a set clock, the order they are told in would
 * otherwise change with the day the tests run.
 */
export function erase(file: string, text: string): void {
  const sql = erasingSql();
  const stamp = "strftime('%s', 'now')";
  if (!sql.includes(stamp))
    throw new Error(`The erasing SQL of docs/webhooks.md no longer stamps its time with ${stamp}`);
  const shell = new Database(file);
  shell.pragma("busy_timeout = 5000");
  shell.exec(
    sql
      .replace(/^\..*$/gm, "")
      .replaceAll(stamp, `strftime('%s', ${Math.floor(clock.now() / 1000)}, 'unixepoch')`)
      .replaceAll("jana.novakova@example.cz", text),
  );
  shell.close();
}

/** Filters events_list passes a store, alone and together: each must read a page by index. */
export const PAGE_FILTERS: EventFilter[] = [
  {},
  { unackedOnly: true },
  { source: "erp" },
  { source: "erp", unackedOnly: true },
  { type: "order.paid" },
  { type: "order.", unackedOnly: true },
  { source: "erp", type: "order.", unackedOnly: true },
];

/**
 * What every event store does, whatever keeps it: SQLite today (test/store.test.ts), PostgreSQL
 * next. `open` makes an empty store with `retention`, telling `onDropped` what retention drops, and
 * given `sources`, the configured webhook sources; `another` opens a
 * second connection to the same one, as a second process would (configured with `sources`
 * where given); `erase` deletes
 * the events whose payload holds a text with the SQL docs/webhooks.md gives for that store. The
 * clock is set by the caller.
 */
export type OpenStore = (
  retention?: Retention,
  onDropped?: (dropped: Dropped) => void,
  sources?: SourceSchemes,
) => Promise<{
  store: EventStore;
  another(sources?: SourceSchemes): Promise<EventStore>;
  erase(text: string): Promise<void>;
}>;

export const LOOSE: Retention = { maxEvents: 1000, maxBytes: 1 << 30, maxAgeDays: 30 };

let n = 0;
export function event(overrides: Partial<NewEvent> = {}): NewEvent {
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
export async function stored(store: EventStore, newEvent: NewEvent) {
  const read = await store.get((await store.add(newEvent)).id);
  if (!read) throw new Error("the event was not kept");
  return read;
}

/** One after another: each its own commit, in order. */
export async function addMany(store: EventStore, count: number) {
  const added = [];
  for (let i = 0; i < count; i++) added.push(await stored(store, event()));
  return added;
}

export function eventStoreContract(open: OpenStore): void {
  describe("storing", () => {
    test("an event is stored once per source and delivery id", async () => {
      const { store } = await open();
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

    test("deliveries committed together are each counted once, under their own source and outcome", async () => {
      const { store } = await open();
      await store.add(event({ dedupeId: "before" }));
      // Added in one turn: one commit, of two sources, each with deliveries new and repeated.
      const added = await Promise.all([
        store.add(event({ dedupeId: "before" })),
        store.add(event({ dedupeId: "new" })),
        store.add(event({ dedupeId: "new", source: "other" })),
        store.add(event({ dedupeId: "new" })),
        store.add(event({ dedupeId: "before", source: "other" })),
        store.add(event({ dedupeId: "again", source: "other" })),
        store.add(event({ dedupeId: "again", source: "other" })),
      ]);
      expect(added.map((a) => a.duplicate)).toEqual([true, false, false, true, false, false, true]);
      expect(await store.counters()).toEqual({
        shop: { received: 4, accepted: 2, duplicate: 2 },
        other: { received: 4, accepted: 3, duplicate: 1 },
      });
    });

    test("a count of several requests adds them all to their source and outcome", async () => {
      const { store } = await open();
      await store.count("shop", "rejected:signature mismatch");
      await store.count("shop", "rejected:signature mismatch", 198);
      await store.count("shop", "ping", 2);
      expect((await store.counters()).shop).toEqual({ received: 201, "rejected:signature mismatch": 199, ping: 2 });
    });

    test("proving the store writable with a delivery's size leaves nothing to read, nor a number skipped, and may be done by several at once", async () => {
      const { store, another } = await open();
      await store.count("shop", "ping");
      const first = await stored(store, event());
      const other = await another();
      await Promise.all([store.proveWritable(100_000), other.proveWritable(0), store.proveWritable(300)]);
      expect(await store.counters()).toEqual({ shop: { received: 2, ping: 1, accepted: 1 } });
      expect(await store.stats()).toMatchObject({ events: 1, bytes: first.size });
      expect(await store.latestSeq()).toBe(first.seq);
      expect((await store.list({}, { limit: 10 })).map((e) => e.id)).toEqual([first.id]);
      // The numbers the events a cursor passes are given go on from the last one, none taken by the proof.
      expect((await stored(store, event())).seq).toBe(first.seq + 1);
    });

    test("the payload is kept verbatim: JSON parsed for reading, other text as text", async () => {
      const { store } = await open();
      const json = await stored(store, event({ body: Buffer.from('{"total":"19.990","n":1.0}') }));
      expect(json).toMatchObject({ isJson: true, payload: '{"total":"19.990","n":1.0}', size: 26 });
      const text = await stored(store, event({ body: Buffer.from("webhook_id=12") }));
      expect(text).toMatchObject({ isJson: false, payload: "webhook_id=12" });
    });

    test("events added at once share a commit, keep their order, and dedupe within it", async () => {
      const { store, another } = await open();
      const other = await another();
      const before = await other.latestSeq();
      const pending = [
        store.add(event()),
        store.add(event({ dedupeId: "twice" })),
        store.add(event({ dedupeId: "twice" })),
      ];
      // Another connection sees all of the batch or none of it, never a part.
      const meanwhile = await other.latestSeq();
      const added = await Promise.all(pending);
      expect(added.map((a) => a.duplicate)).toEqual([false, false, true]);
      expect(added[2]?.id).toBe(added[1]?.id);
      const seqs = await Promise.all(added.slice(0, 2).map(async (a) => (await store.get(a.id))?.seq ?? 0));
      expect(seqs[1]).toBe((seqs[0] ?? 0) + 1);
      expect(await other.latestSeq()).toBe(seqs[1]);
      expect([before, seqs[1]]).toContain(meanwhile);
      expect((await store.stats()).events).toBe(2);
    });

    test("an event retention drops at once resolves without one, and subscribers go on", async () => {
      const { store } = await open({ ...LOOSE, maxBytes: 50 });
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

    test("an event erased by hand, the newest, leaves the latest sequence number where it was: its cursor still reads", async () => {
      const { store, another, erase } = await open();
      await addMany(store, 2);
      const newest = await stored(store, event({ body: Buffer.from('{"email":"jana.novakova@example.cz"}') }));
      await erase("jana.novakova@example.cz");
      expect(await store.get(newest.id)).toBeUndefined();
      expect(await store.latestSeq()).toBe(newest.seq);
      expect(await (await another()).latestSeq()).toBe(newest.seq);
      const later = await stored(store, event());
      expect(later.seq).toBeGreaterThan(newest.seq);
      expect(await store.latestSeq()).toBe(later.seq);
    });

    test("ids sort in arrival order", async () => {
      const { store } = await open();
      const ids = (await addMany(store, 20)).map((e) => e.id);
      expect([...ids].sort()).toEqual(ids);
    });
  });

  describe("reading", () => {
    test("newest first, filtered by source, exact type, type prefix and unacknowledged", async () => {
      const { store } = await open();
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

    test("a type prefix's events of several types page as one list, newest first or oldest first, with a source and without the payloads", async () => {
      const { store } = await open();
      const types = ["order.created", "order.paid", "order.updated", "product.updated", "order.paid"];
      const events: StoredEvent[] = [];
      for (let i = 0; i < 15; i++) {
        events.push(
          await stored(store, event({ type: types[i % types.length], source: i % 3 === 0 ? "pay" : "shop" })),
        );
      }
      const ids = (filter: EventFilter, list: StoredEvent[]) =>
        list.filter((e) => matchesFilter(filter, e)).map((e) => e.id);
      const newest = [...events].reverse();
      for (const filter of [
        { type: "order." },
        { type: "order.paid" },
        { type: "order.", source: "shop" },
        { type: "ord*" },
      ]) {
        const label = JSON.stringify(filter);
        const all = ids(filter, newest);
        expect(
          (await store.list(filter, { limit: 100 })).map((e) => e.id),
          label,
        ).toEqual(all);
        expect(
          (await store.list(filter, { limit: 3, bodies: false })).map((e) => e.id),
          label,
        ).toEqual(all.slice(0, 3));
        const middle = events[7] as StoredEvent;
        expect(
          (await store.list(filter, { before: middle.seq, limit: 2 })).map((e) => e.id),
          label,
        ).toEqual(
          ids(
            filter,
            newest.filter((e) => e.seq < middle.seq),
          ).slice(0, 2),
        );
        expect(
          (await store.list(filter, { after: middle.seq, limit: 100 })).map((e) => e.id),
          label,
        ).toEqual(
          ids(
            filter,
            newest.filter((e) => e.seq > middle.seq),
          ),
        );
        expect((await store.firstAfter(filter, middle.seq))?.id, label).toBe(
          ids(
            filter,
            events.filter((e) => e.seq > middle.seq),
          )[0],
        );
        expect(
          (await store.list(filter, { after: middle.seq, limit: 2, oldestFirst: true })).map((e) => e.id),
          label,
        ).toEqual(
          ids(
            filter,
            events.filter((e) => e.seq > middle.seq),
          ).slice(0, 2),
        );
      }
      // A type or prefix no event has matches nothing, acknowledged or not.
      for (const type of ["order.refunded", "refund.", "order"]) {
        expect(await store.list({ type }, { limit: 10 })).toEqual([]);
        expect(await store.list({ type, unackedOnly: true }, { limit: 10 })).toEqual([]);
        expect(await store.firstAfter({ type }, 0)).toBeUndefined();
      }
      // A prefix that very many types begin reads them all the same.
      const many: StoredEvent[] = [];
      for (let i = 0; i < 40; i++) many.push(await stored(store, event({ type: `ticket.kind${i}` })));
      expect((await store.list({ type: "ticket." }, { limit: 100 })).map((e) => e.id)).toEqual(
        [...many].reverse().map((e) => e.id),
      );
      expect((await store.firstAfter({ type: "ticket." }, 0))?.id).toBe(many[0]?.id);
    });

    test("pages by sequence number in both directions", async () => {
      const { store } = await open();
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
      // Without the payloads, for a listing that shows none: all else as it is.
      const [bare] = await store.list({}, { limit: 1, bodies: false });
      const [full] = await store.list({}, { limit: 1 });
      expect(full?.payload).not.toBe("");
      expect(bare).toEqual({ ...full, payload: "" });
      expect((await store.firstAfter({}, e1.seq))?.id).toBe(e2.id);
      expect(await store.firstAfter({}, e5.seq)).toBeUndefined();
      expect(await store.latestSeq()).toBe(e5.seq);
    });

    test("a thousand and more acknowledgements made through another connection at once are each told", async () => {
      const { store, another } = await open({ ...LOOSE, maxEvents: 2_000 });
      const other = await another();
      // The run of retention it starts as it opens keeps 1,000 (LOOSE's): ended before the events come.
      await other.expire();
      // Stored at once, in a few commits: one by one, as many commits take longer than the test is given on a busy machine.
      const ids = (await Promise.all(Array.from({ length: 1_100 }, () => store.add(event())))).map((a) => a.id);
      const told = new Set<string>();
      store.onAck((acked) => {
        for (const id of acked) told.add(id);
      });
      // Eleven calls of events_ack's hundred, made before this connection looks again.
      for (let i = 0; i < ids.length; i += 100) await other.ack(ids.slice(i, i + 100));
      await expect.poll(() => told.size, { interval: 20 }).toBe(ids.length);
    });

    test("acknowledging is idempotent and says what it did", async () => {
      const { store } = await open();
      const a = await stored(store, event());
      expect(await store.ack([a.id, a.id, "nope"])).toEqual({ acked: [a.id], already: [], unknown: ["nope"] });
      const first = (await store.get(a.id))?.ackedAt;
      expect(await store.ack([a.id], clock.now() + 5000)).toEqual({
        acked: [],
        already: [{ id: a.id, ackedAt: first }],
        unknown: [],
      });
      expect((await store.get(a.id))?.ackedAt).toBe(first);
    });

    test("an acknowledgement made through another connection is told to the listeners of acknowledgements, once", async () => {
      const { store, another } = await open();
      const other = await another();
      const [a, b, c, d] = await addMany(store, 4);
      const told: string[][] = [];
      store.onAck((ids) => told.push(ids));
      // Another process's, as an automation in waiter listen or another assistant's waiter acknowledges.
      await other.ack([a?.id as string, b?.id as string]);
      await expect.poll(() => told, { interval: 20 }).toEqual([[a?.id, b?.id]]);
      // This one's own is told at once, and not again when the other connection's is heard.
      await store.ack([c?.id as string]);
      expect(told).toEqual([[a?.id, b?.id], [c?.id]]);
      await other.ack([a?.id as string]);
      // Acknowledgements are told in the order they were made: once the next one is, that one was not.
      await other.ack([d?.id as string]);
      await expect.poll(() => told, { interval: 20 }).toEqual([[a?.id, b?.id], [c?.id], [d?.id]]);
    });

    test("what retention drops, through this connection or another, is told to the listeners of drops, once", async () => {
      const { store, another } = await open({ ...LOOSE, maxEvents: 2 });
      const other = await another();
      const told: Gone[] = [];
      store.onGone((gone) => told.push(gone));
      const [a] = await addMany(store, 2);
      // Past maxEvents: this one's retention drops the oldest.
      const c = await stored(store, event());
      await expect.poll(() => told, { interval: 20 }).toEqual([{ through: a?.seq, left: 2 }]);
      // Another process's, on its timer, past maxAgeDays.
      await other.expire(clock.now() + 31 * 86_400_000);
      await expect.poll(() => told, { interval: 20 }).toHaveLength(2);
      expect(told[1]).toEqual({ through: c.seq, left: 0 });
      // Told once: neither another connection's next commit nor this one's tells them again.
      await other.count("shop", "ping");
      await store.count("shop", "ping");
      // SQLite's commit watch reads what retention left, not each drop: a drop after those commits
      // could be met in the same look as them. An acknowledgement is told in the look that meets
      // it, after those commits, and that look tells what it tells of drops before it returns.
      const d = await stored(other, event());
      const acked: string[][] = [];
      store.onAck((ids) => acked.push(ids));
      await other.ack([d.id]);
      await expect.poll(() => acked, { interval: 20 }).toEqual([[d.id]]);
      expect(told).toHaveLength(2);
    });

    test("completion offers the newest ids with a prefix", async () => {
      const { store } = await open();
      const ids = (await addMany(store, 3)).map((e) => e.id);
      expect(await store.recentIds("", 2)).toEqual([ids[2], ids[1]]);
      expect(await store.recentIds(ids[0] as string, 5)).toEqual([ids[0]]);
      // Received in the same millisecond, a minute after the others, three share the time part of their ids.
      const receivedAt = clock.now() + 60_000;
      const same: string[] = [];
      for (let i = 0; i < 3; i++) same.push((await stored(store, event({ receivedAt }))).id);
      expect(await store.recentIds((same[0] as string).slice(0, 10), 5)).toEqual(same.reverse());
      expect(await store.recentIds("Z", 5)).toEqual([]);
    });

    test("the types a type filter may have meant begin with it in any letter case, of the events after a sequence number its other conditions select", async () => {
      const { store } = await open();
      const old = await stored(store, event({ type: "Order.refunded" }));
      for (const type of ["order.paid", "Order.paid", "order.created", "orders/paid", "invoice.paid"]) {
        await store.add(event({ type }));
      }
      const acked = await stored(store, event({ type: "ORDER.refunded" }));
      await store.ack([acked.id]);
      await store.add(event({ type: "order.deleted", source: "other" }));
      // Only the events after the sequence number are read.
      expect(await store.typesLike({ type: "ORDER.PAID" }, old.seq, 10)).toEqual(["Order.paid", "order.paid"]);
      expect(await store.typesLike({ type: "order.refunded" }, 0, 10)).toEqual(["ORDER.refunded", "Order.refunded"]);
      expect(await store.typesLike({ type: "order.refunded" }, old.seq, 10)).toEqual(["ORDER.refunded"]);
      // Those that begin with it in its case first, then the shortest, in one order on every
      // database: capitals before small letters.
      expect(await store.typesLike({ type: "ORDER" }, old.seq, 10)).toEqual([
        "ORDER.refunded",
        "Order.paid",
        "order.paid",
        "orders/paid",
        "order.created",
        "order.deleted",
      ]);
      expect(await store.typesLike({ type: "Order.*", source: "shop" }, old.seq, 10)).toEqual([
        "Order.paid",
        "order.paid",
        "order.created",
        "ORDER.refunded",
      ]);
      expect(await store.typesLike({ type: "ORDER.", source: "shop", unackedOnly: true }, old.seq, 2)).toEqual([
        "Order.paid",
        "order.paid",
      ]);
      expect(await store.typesLike({ type: "refund" }, 0, 10)).toEqual([]);
      // The type in another case first, then the longer types that begin with it in its case:
      // shorter ones in another case do not crowd those out.
      await store.add(event({ type: "Order.Paid.v2" }));
      expect(await store.typesLike({ type: "Order.Paid" }, old.seq, 1)).toEqual(["Order.paid"]);
      expect(await store.typesLike({ type: "order" }, old.seq, 1)).toEqual(["order.paid"]);
    });

    test("a sender's delivery id names the events stored for it, one per source, oldest first", async () => {
      const { store } = await open();
      const shop = await stored(store, event({ dedupeId: "evt_1" }));
      const other = await stored(store, event({ dedupeId: "evt_1", source: "other" }));
      await store.add(event({ dedupeId: "evt_2" }));
      expect(await store.deliveredAs("evt_1")).toEqual([
        { id: shop.id, source: "shop" },
        { id: other.id, source: "other" },
      ]);
      expect(await store.deliveredAs(shop.id)).toEqual([]);
    });

    test("a delivery id its sender put on deliveries of other bodies names the events keyed on it and their bodies, of sources that stored it or are counted as reusing ids", async () => {
      const { store } = await open();
      const first = await stored(store, event({ dedupeId: "wh-1" }));
      const second = await stored(store, event({ dedupeId: `wh-1 sha256:${"a".repeat(64)}` }));
      const third = await stored(store, event({ dedupeId: `wh-1 sha256:${"b".repeat(64)}` }));
      await store.add(event({ dedupeId: `wh-10 sha256:${"c".repeat(64)}` }));
      // A source that stored no event under the id, and is not known to reuse ids: a key of that form is its own.
      await store.add(event({ dedupeId: `wh-1 sha256:${"d".repeat(64)}`, source: "other" }));
      // The tally of ids reused is written after the delivery's answer, and a busy store may not take it.
      const named = [
        { id: second.id, source: "shop" },
        { id: third.id, source: "shop" },
      ];
      expect(await store.deliveredAs("wh-1")).toEqual([{ id: first.id, source: "shop" }]);
      expect(await store.reusedAs("wh-1")).toEqual(named);
      expect(await store.reusedAs("wh")).toEqual([]);
      // Once counted, a source's keys of that form are its sender's ids reused, the first event's dropped or not.
      const counted = await stored(store, event({ dedupeId: `wh-2 sha256:${"e".repeat(64)}`, source: "third" }));
      expect(await store.reusedAs("wh-2")).toEqual([]);
      await store.count("third", "id reused", 1);
      expect(await store.reusedAs("wh-2")).toEqual([{ id: counted.id, source: "third" }]);
      expect(await store.reusedAs("wh-1")).toEqual(named);
    });

    test("a body not all UTF-8 is read back byte for byte, where its text reads each such byte as U+FFFD", async () => {
      const { store } = await open();
      const body = Buffer.from("<name>M\u00fcller</name>", "latin1");
      const kept = await stored(
        store,
        event({ body, headers: { "content-type": "application/xml; charset=windows-1252" } }),
      );
      expect(kept.payload).toBe("<name>M\uFFFDller</name>");
      expect(await store.storedBody(kept.id)).toEqual(body);
      expect(await store.storedBody("01JD3Q6Z8W5M9R2T4V7X0Y1A2B")).toBeUndefined();
    });

    test("a sender's delivery id whose event retention dropped names that event while the delivery is remembered", async () => {
      const { store } = await open({ ...LOOSE, maxEvents: 1 });
      const first = await stored(store, event({ dedupeId: "evt_1", scheme: "hmac-sha256" }));
      await store.add(event({ dedupeId: "evt_2" }));
      await store.expire();
      expect(await store.deliveredAs("evt_1")).toEqual([]);
      expect(await store.droppedAs("evt_1")).toEqual([{ id: first.id, source: "shop", digest: expect.any(String) }]);
      expect(await store.droppedAs("evt_2")).toEqual([]);
    });

    test("a delivery id its sender put on deliveries of other bodies names the events keyed on it and their bodies that retention dropped", async () => {
      const { store } = await open({ ...LOOSE, maxEvents: 1 });
      const first = await stored(store, event({ dedupeId: "wh-1", scheme: "none" }));
      const second = await stored(store, event({ dedupeId: `wh-1 sha256:${"a".repeat(64)}` }));
      await store.add(event({ dedupeId: `wh-1 sha256:${"d".repeat(64)}`, source: "other" }));
      const kept = await stored(store, event({ dedupeId: `wh-1 sha256:${"b".repeat(64)}` }));
      await store.expire();
      expect(await store.reusedAs("wh-1")).toEqual([{ id: kept.id, source: "shop" }]);
      // The delivery's own key, as the listener looks a retry up by it.
      expect(await store.droppedAs("wh-1")).toEqual([{ id: first.id, source: "shop", digest: expect.any(String) }]);
      expect(await store.droppedReusedAs("wh-1")).toEqual([{ id: second.id, source: "shop" }]);
      expect(await store.droppedReusedAs("wh")).toEqual([]);
    });

    test("an event id retention dropped is told when, while its delivery is remembered, and is forgotten with it", async () => {
      const { store } = await open();
      const first = await stored(store, event({ dedupeId: "evt_1" }));
      const second = await stored(store, event({ dedupeId: "evt_1b" }));
      expect(await store.oldestDroppedId()).toBeUndefined();
      expect(await store.droppedRemembered()).toBe(0);
      const droppedAt = clock.now() + 31 * 86_400_000;
      await store.expire(droppedAt);
      const kept = await stored(store, event({ dedupeId: "evt_2" }));
      expect(await store.droppedEvents([first.id, second.id, kept.id, "01JD3Q6Z8W5M9R2T4V7X0Y1A2B"])).toEqual([
        { id: first.id, droppedAt: new Date(droppedAt).toISOString() },
        { id: second.id, droppedAt: new Date(droppedAt).toISOString() },
      ]);
      // The oldest drop on record, before which a waiter that kept no record may have dropped others.
      expect(await store.oldestDroppedId()).toBe(first.id);
      expect(await store.droppedRemembered()).toBe(2);
      // Those of the ids after one: of events made after it.
      expect(await store.droppedRemembered(first.id)).toBe(1);
      expect(await store.droppedRemembered(second.id)).toBe(0);
      await store.expire(droppedAt + 367 * 86_400_000);
      expect(await store.droppedEvents([first.id])).toEqual([]);
      expect(await store.oldestDroppedId()).toBe(kept.id);
      expect(await store.droppedRemembered()).toBe(1);
    });

    test("a delivery id naming an event retention dropped and one erased by hand names them in the order they went", async () => {
      const { store, erase } = await open();
      onTestFinished(() => setClock());
      setClock("2040-01-05T09:00:00Z");
      const dropped = await stored(store, event({ source: "erp", scheme: "hmac-sha256", dedupeId: "d1" }));
      await store.expire(clock.now() + 31 * 86_400_000);
      setClock("2040-02-06T10:00:00Z");
      const erased = await stored(
        store,
        event({ dedupeId: "d1", scheme: "hmac-sha256", body: Buffer.from('{"email":"jana.novakova@example.cz"}') }),
      );
      await erase("jana.novakova@example.cz");
      expect(await store.droppedAs("d1")).toEqual([
        // The erased one's body, as the erasure writes it, leaves no digest.
        { id: dropped.id, source: "erp", digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
        { id: erased.id, source: "shop" },
      ]);
    });

    test("a payment's id whose events retention dropped names them while their deliveries are remembered", async () => {
      const hooks = { name: "hooks", scheme: "hmac" };
      const { store, another } = await open({ ...LOOSE, maxEvents: 1 }, undefined, [
        hooks,
        { name: "shop", scheme: "gopay" },
      ]);
      const paid = await stored(store, event({ dedupeId: "3000006542:PAID", scheme: "gopay" }));
      await store.add(event({ dedupeId: "3000006542:1" }));
      // Another source's, not a payment source's, though its delivery id reads as a payment's state.
      await store.add(event({ dedupeId: "3000006542:PAID", source: "hooks", scheme: "hmac" }));
      await store.add(event({ dedupeId: "evt_2" }));
      await store.expire();
      expect(await store.paymentEvents("3000006542")).toEqual([]);
      // Another sender's delivery id that begins so names no payment.
      expect(await store.droppedPayment("3000006542")).toEqual([
        { id: paid.id, source: "shop", dedupeId: "3000006542:PAID" },
      ]);
      expect(await (await another([{ name: "shop", scheme: "hmac" }, hooks])).droppedPayment("3000006542")).toEqual([]);
      // A source no longer configured took its scheme with it: its delivery is a payment's by its form alone.
      expect(await (await another([hooks])).droppedPayment("3000006542")).toEqual([
        { id: paid.id, source: "shop", dedupeId: "3000006542:PAID", unconfigured: true },
      ]);
      expect(await store.droppedPayment("300000654")).toEqual([]);
    });

    test("a Shopify webhook's id names the event its delivery was stored as, under either header name, once", async () => {
      const { store } = await open();
      const shopify = (dedupeId: string, headers: Record<string, string>) =>
        stored(store, event({ source: "store", scheme: "shopify", dedupeId, headers }));
      const legacy = await shopify("orders/paid:e1:o1", { "x-shopify-webhook-id": "wh-1" });
      const current = await shopify("orders/paid:e2:o2", { "shopify-webhook-id": "wh-2" });
      // As an older waiter stored it: its delivery id is its webhook id too.
      const older = await shopify("wh-3", { "x-shopify-webhook-id": "wh-3" });
      expect(await store.deliveredAs("wh-1")).toEqual([{ id: legacy.id, source: "store" }]);
      expect(await store.deliveredAs("wh-2")).toEqual([{ id: current.id, source: "store" }]);
      expect(await store.deliveredAs("wh-3")).toEqual([{ id: older.id, source: "store" }]);
    });

    test("a WooCommerce delivery ID names the events stored for it, each delivery of its webhook within that second, and no other scheme's", async () => {
      const { store } = await open();
      const woo = (dedupeId: string, delivery: string) =>
        stored(store, event({ dedupeId, headers: { "x-wc-webhook-delivery-id": delivery } }));
      // WooCommerce makes the ID of its webhook's id and the second it sends in: two orders updated in one share it.
      const first = await woo("12:1043:2025-07-01T10:00:00:aa", "5f2a0c9d1e");
      const second = await woo("12:1044:2025-07-01T10:00:00:bb", "5f2a0c9d1e");
      const deleted = await woo("12:order.deleted:7b31e4a6c0:cc", "7b31e4a6c0");
      await stored(
        store,
        event({ source: "erp", scheme: "hmac-sha256", headers: { "x-wc-webhook-delivery-id": "e1" } }),
      );
      expect(await store.deliveredAs("5f2a0c9d1e")).toEqual([
        { id: first.id, source: "shop" },
        { id: second.id, source: "shop" },
      ]);
      expect(await store.deliveredAs("7b31e4a6c0")).toEqual([{ id: deleted.id, source: "shop" }]);
      expect(await store.deliveredAs("e1")).toEqual([]);
    });

    test("a Comgate or GoPay payment's id names the events of its states, each refund in part among them, oldest first, and no other scheme's", async () => {
      const { store } = await open();
      const payment = (dedupeId: string, scheme: string) => stored(store, event({ dedupeId, source: scheme, scheme }));
      const paid = await payment("3000006542:PAID", "gopay");
      const inPart = await payment("3000006542:PARTIALLY_REFUNDED", "gopay");
      const inPartAgain = await payment("3000006542:PARTIALLY_REFUNDED:2", "gopay");
      const inPartLast = await payment("3000006542:PARTIALLY_REFUNDED:11", "gopay");
      const refunded = await payment("3000006542:REFUNDED", "gopay");
      await payment("30000065420:PAID", "gopay");
      await payment("3000006542;PAID", "gopay");
      await payment("3000006542:PAID", "stripe");
      const comgate = await payment("AB12-CD34:PAID", "comgate");
      expect(await store.paymentEvents("3000006542")).toEqual([
        { id: paid.id, source: "gopay", dedupeId: "3000006542:PAID" },
        { id: inPart.id, source: "gopay", dedupeId: "3000006542:PARTIALLY_REFUNDED" },
        { id: inPartAgain.id, source: "gopay", dedupeId: "3000006542:PARTIALLY_REFUNDED:2" },
        { id: inPartLast.id, source: "gopay", dedupeId: "3000006542:PARTIALLY_REFUNDED:11" },
        { id: refunded.id, source: "gopay", dedupeId: "3000006542:REFUNDED" },
      ]);
      expect(await store.paymentEvents("AB12-CD34")).toEqual([
        { id: comgate.id, source: "comgate", dedupeId: "AB12-CD34:PAID" },
      ]);
      expect(await store.paymentEvents("30000065")).toEqual([]);
    });
  });

  describe("retention drops the oldest and says so", () => {
    test("by count", async () => {
      const { store } = await open({ ...LOOSE, maxEvents: 3 });
      const ids = (await addMany(store, 5)).map((e) => e.id);
      expect((await store.list({}, { limit: 10 })).map((e) => e.id)).toEqual(ids.slice(2).reverse());
      expect(await store.stats()).toMatchObject({ events: 3, droppedBy: { count: 2, bytes: 0, age: 0 } });
    });

    test("by bytes", async () => {
      const { store } = await open({ ...LOOSE, maxBytes: 250 });
      for (let i = 0; i < 4; i++) await store.add(event({ body: Buffer.alloc(100, 120) }));
      expect(await store.stats()).toMatchObject({ events: 2, bytes: 200, droppedBy: { bytes: 2 } });
    });

    test("a delivery whose event was dropped is still a duplicate when it comes again, told with the digest of the body it had", async () => {
      const { store } = await open({ ...LOOSE, maxEvents: 2 });
      const body = Buffer.from('{"payment":"pay_1"}');
      const first = await store.add(event({ dedupeId: "pay_1", scheme: "hmac-sha256", body }));
      await addMany(store, 3);
      expect(await store.get(first.id)).toBeUndefined();
      // Whatever body it comes with: the listener compares it with the digest.
      expect(await store.add(event({ dedupeId: "pay_1", scheme: "hmac-sha256" }))).toEqual({
        id: first.id,
        duplicate: true,
        dropped: true,
        digest: `sha256:${createHash("sha256").update(body).digest("hex")}`,
      });
      expect((await store.stats()).events).toBe(2);
      // Remembered for a year after its event went; then it is new again.
      await store.expire(clock.now() + 367 * 86_400_000);
      expect((await store.add(event({ dedupeId: "pay_1" }))).duplicate).toBe(false);
    });

    test("a dropped delivery of a scheme whose ids never come back with another body is a duplicate still, with no digest kept", async () => {
      const { store } = await open({ ...LOOSE, maxEvents: 3 });
      const signed = await store.add(event({ dedupeId: "evt_1", scheme: "stripe" }));
      const unsigned = await store.add(event({ dedupeId: "wh-1", scheme: "none" }));
      await addMany(store, 3);
      expect(await store.add(event({ dedupeId: "evt_1", scheme: "stripe" }))).toEqual({
        id: signed.id,
        duplicate: true,
        dropped: true,
      });
      expect(await store.droppedAs("evt_1")).toEqual([{ id: signed.id, source: "shop" }]);
      expect(await store.droppedAs("wh-1")).toEqual([{ id: unsigned.id, source: "shop", digest: expect.any(String) }]);
    });

    test("a delivery stored under the id an older waiter keyed it on is a repeat when it comes keyed anew, its event kept or dropped", async () => {
      const { store } = await open({ ...LOOSE, maxEvents: 3 });
      const anew = (source = "shop") => event({ source, dedupeId: "orders/paid:e1:o1", formerDedupeId: "wh_1" });
      const before = await store.add(event({ dedupeId: "wh_1" }));
      expect(await store.add(anew())).toEqual({ id: before.id, duplicate: true });
      // A former id nothing was stored under, or another source's, is no repeat.
      expect((await store.add(event({ dedupeId: "orders/paid:e2:o2", formerDedupeId: "wh_2" }))).duplicate).toBe(false);
      expect((await store.add(anew("other"))).duplicate).toBe(false);
      await addMany(store, 1);
      expect(await store.get(before.id)).toBeUndefined();
      expect(await store.add(anew())).toEqual({ id: before.id, duplicate: true, dropped: true });
      expect((await store.counters()).shop).toMatchObject({ accepted: 3, duplicate: 2 });
    });

    test("by age", async () => {
      const { store } = await open({ ...LOOSE, maxAgeDays: 1 });
      await store.add(event({ receivedAt: clock.now() - 3 * 86_400_000 }));
      await store.add(event({ receivedAt: clock.now() - 2 * 86_400_000 }));
      await store.add(event());
      expect(await store.stats()).toMatchObject({ events: 1, droppedBy: { age: 2 } });
    });

    test("an age limit too long to reach, as a setting for keeping events forever, drops none and stores every event", async () => {
      const { store } = await open({ ...LOOSE, maxAgeDays: 1e300 });
      await store.add(event({ receivedAt: clock.now() - 3000 * 86_400_000 }));
      await store.add(event());
      await store.expire();
      expect(await store.stats()).toMatchObject({ events: 2, droppedBy: { age: 0 } });
    });

    test("each run tells what it dropped, by which limit, and how many no one had acknowledged", async () => {
      const told: Dropped[] = [];
      const { store } = await open({ ...LOOSE, maxEvents: 3, maxAgeDays: 1 }, (dropped) => told.push(dropped));
      const ids = (await addMany(store, 4)).map((e) => e.id);
      expect(told).toEqual([{ count: { events: 1, unacked: 1 } }]);
      await store.ack(ids.slice(1, 2));
      await store.expire(clock.now() + 2 * 86_400_000);
      expect(told.at(-1)).toEqual({ age: { events: 3, unacked: 2 } });
      await store.expire(clock.now() + 3 * 86_400_000);
      expect(told).toHaveLength(2);
    });

    test("the latest sequence number never goes back, not even when retention drops every event", async () => {
      const { store, another } = await open({ ...LOOSE, maxAgeDays: 1 });
      const newest = (await addMany(store, 3)).at(-1)?.seq as number;
      expect(await store.latestSeq()).toBe(newest);
      await store.expire(clock.now() + 2 * 86_400_000);
      expect(await store.stats()).toMatchObject({ events: 0 });
      expect(await store.latestSeq()).toBe(newest);
      expect(await (await another()).latestSeq()).toBe(newest);
      const later = await stored(store, event());
      expect(later.seq).toBeGreaterThan(newest);
      expect(await store.latestSeq()).toBe(later.seq);
    });

    test("the greatest sequence number dropped is kept, by every limit, gaps of duplicates aside", async () => {
      const { store, another } = await open({ ...LOOSE, maxEvents: 3, maxBytes: 1000, maxAgeDays: 1 });
      const [a, b] = await addMany(store, 3);
      expect(await store.droppedThrough()).toBe(0);
      const again = await stored(store, event({ dedupeId: "again" }));
      expect(await store.droppedThrough()).toBe(a?.seq);
      // A duplicate takes a sequence number that no event keeps.
      await store.add(event({ dedupeId: "again" }));
      const fifth = await stored(store, event());
      expect(fifth.seq).toBeGreaterThan(again.seq + 1);
      expect(await store.droppedThrough()).toBe(b?.seq);
      const big = await stored(store, event({ body: Buffer.alloc(990, 120) }));
      expect(await store.get(fifth.id)).toBeUndefined();
      expect(await store.droppedThrough()).toBe(fifth.seq);
      await store.expire(clock.now() + 2 * 86_400_000);
      expect(await store.droppedThrough()).toBe(big.seq);
      expect(await (await another()).droppedThrough()).toBe(big.seq);
    });
  });

  describe("automation runs", () => {
    test("a run begins once per automation and event, and keeps each step's latest outcome", async () => {
      const { store } = await open();
      const e = await stored(store, event());
      const run = (await store.runs.begin("paid", e.id, false, clock.now())) as number;
      expect(run).toEqual(expect.any(Number));
      expect(await store.runs.begin("paid", e.id, false, clock.now())).toBeUndefined();
      const other = (await store.runs.begin("other", e.id, true, clock.now(), "team")) as number;
      expect(await store.runs.get(other)).toMatchObject({ dryRun: true, onFailure: "team" });
      await store.runs.step(run, 0, "started", '{"tool":"a"}', clock.now());
      await store.runs.step(run, 0, "done", '{"tool":"a","said":"ok"}', clock.now());
      await store.runs.step(run, 1, "started", '{"tool":"b"}', clock.now());
      expect((await store.runs.unfinished()).map((r) => r.id)).toContain(run);
      await store.runs.finish(run, "failed", clock.now(), "step 2: no");
      const [found] = await store.runs.list({ automation: "paid", limit: 5 });
      expect(found).toMatchObject({
        id: run,
        eventId: e.id,
        status: "failed",
        dryRun: false,
        error: "step 2: no",
        onFailure: null,
      });
      expect(found?.steps.map((s) => [s.step, s.status])).toEqual([
        [0, "done"],
        [1, "started"],
      ]);
      expect((await store.runs.unfinished()).map((r) => r.id)).not.toContain(run);
      expect(await store.runs.list({ status: "failed", eventId: e.id, limit: 5 })).toHaveLength(1);
      expect(await store.runs.counts(false)).toEqual({ paid: { running: 0, done: 0, failed: 1 } });
      expect(await store.runs.counts(true)).toEqual({ other: { running: 1, done: 0, failed: 0 } });
    });

    test("a failed run's notice is owed from the write that fails the run, and says where telling it got to until it is told", async () => {
      const { store, another } = await open();
      const e = await stored(store, event());
      const run = (await store.runs.begin("paid", e.id, false, clock.now())) as number;
      const quiet = (await store.runs.begin("quiet", e.id, false, clock.now())) as number;
      await store.runs.finish(run, "failed", clock.now(), "step 1: no", "waiter: paid failed");
      await store.runs.finish(quiet, "failed", clock.now(), "step 1: no");
      expect(await store.runs.get(run)).toMatchObject({ notice: { text: "waiter: paid failed", status: "owed" } });
      expect(await store.runs.get(quiet)).toMatchObject({ notice: null });
      await store.runs.notice(run, "started");
      const other = await another();
      expect((await other.runs.untold()).map((r) => [r.id, r.notice])).toEqual([
        [run, { text: "waiter: paid failed", status: "started" }],
      ]);
      await store.runs.notice(run, "owed");
      expect((await store.runs.get(run))?.notice?.status).toBe("owed");
      await store.runs.notice(run, { status: "told", said: "Sent on team to 1." });
      expect(await other.runs.untold()).toEqual([]);
      // A notice told is owed no more, whatever is recorded of it later.
      await store.runs.notice(run, "started");
      expect(await store.runs.get(run)).toMatchObject({
        status: "failed",
        error: "step 1: no",
        notice: null,
        noticeOutcome: { status: "told", said: "Sent on team to 1." },
      });
    });

    test("what became of a failed run's notice is kept with the run: told, not told and why, or not tried and why", async () => {
      const { store, another } = await open();
      const e = await stored(store, event());
      const begin = async (name: string) => (await store.runs.begin(name, e.id, false, clock.now(), "team")) as number;
      const toldRun = await begin("told");
      const refusedRun = await begin("refused");
      const goneRun = await begin("gone");
      const quietRun = await begin("quiet");
      await store.runs.finish(toldRun, "failed", clock.now(), "step 1: no", "waiter: told failed");
      await store.runs.finish(refusedRun, "failed", clock.now(), "step 1: no", "waiter: refused failed");
      expect(await store.runs.get(toldRun)).toMatchObject({ noticeOutcome: null });
      await store.runs.notice(toldRun, { status: "told", said: "Sent on team to 1." });
      await store.runs.notice(refusedRun, { status: "not told", said: "Bad Request: chat not found" });
      // A run whose notice cannot be told records why from the write that fails it, and owes none.
      await store.runs.finish(goneRun, "failed", clock.now(), "gone", {
        status: "not tried",
        said: "the channel team is no longer configured",
      });
      await store.runs.finish(quietRun, "failed", clock.now(), "step 1: no");
      const other = await another();
      expect(await other.runs.list({ eventId: e.id, limit: 5 })).toEqual([
        expect.objectContaining({ id: quietRun, notice: null, noticeOutcome: null }),
        expect.objectContaining({
          id: goneRun,
          notice: null,
          noticeOutcome: { status: "not tried", said: "the channel team is no longer configured" },
        }),
        expect.objectContaining({
          id: refusedRun,
          notice: null,
          noticeOutcome: { status: "not told", said: "Bad Request: chat not found" },
        }),
        expect.objectContaining({
          id: toldRun,
          notice: null,
          noticeOutcome: { status: "told", said: "Sent on team to 1." },
        }),
      ]);
      expect(await other.runs.untold()).toEqual([]);
    });

    test("a failed run whose notice is owed is kept when retention drops its event, until it is told", async () => {
      const { store } = await open({ ...LOOSE, maxAgeDays: 1 });
      const e = await stored(store, event());
      const run = (await store.runs.begin("paid", e.id, false, clock.now())) as number;
      await store.runs.finish(run, "failed", clock.now(), "step 1: no", "waiter: paid failed");
      await store.expire(clock.now() + 2 * 86_400_000);
      expect(await store.get(e.id)).toBeUndefined();
      expect((await store.runs.untold()).map((r) => r.id)).toEqual([run]);
      await store.runs.notice(run, { status: "told", said: "Sent on team to 1." });
      await store.expire(clock.now() + 2 * 86_400_000);
      expect(await store.runs.list({ eventId: e.id, limit: 5 })).toEqual([]);
    });

    test("an automation starts from the first sequence number it was seen with, and the cursor only moves on", async () => {
      const { store } = await open();
      expect(await store.runs.cursor()).toBeUndefined();
      // Read without being set, as a model asking why an automation did not run is told whether any waiter ran it.
      expect(await store.runs.seenFrom("paid")).toBeUndefined();
      expect(await store.runs.firstSeen("paid", 7)).toBe(7);
      expect(await store.runs.firstSeen("paid", 12)).toBe(7);
      expect(await store.runs.seenFrom("paid")).toBe(7);
      await store.runs.markHistory(4);
      await store.runs.markHistory(6);
      expect(await store.runs.cursor()).toBe(4);
      await store.runs.setCursor(5);
      await store.runs.setCursor(3);
      await store.runs.markHistory(9);
      expect(await store.runs.cursor()).toBe(5);
    });

    test("one owner holds the lease until it runs out or is released", async () => {
      const { store, another } = await open();
      const other = await another();
      const now = clock.now();
      expect(await other.runs.leaseUntil()).toBeUndefined();
      expect(await store.runs.lease("a", now, 1000)).toEqual({ holder: "a", renewed: false, until: now + 1000 });
      // Read without being taken, as a model asking why an automation has not run yet is told whether any runs them.
      expect(await other.runs.leaseUntil()).toBe(now + 1000);
      expect(await other.runs.lease("b", now + 500, 1000)).toEqual({ holder: "a", renewed: false, until: now + 1000 });
      expect(await store.runs.lease("a", now + 900, 1000)).toEqual({ holder: "a", renewed: true, until: now + 1900 });
      expect(await other.runs.lease("b", now + 1500, 1000)).toEqual({ holder: "a", renewed: false, until: now + 1900 });
      // Run out, it is taken over, saying from whom: the one it was taken from finds it not renewed
      // once it is its own again.
      expect(await other.runs.lease("b", now + 2000, 1000)).toEqual({
        holder: "b",
        renewed: false,
        until: now + 3000,
        from: { owner: "a", until: now + 1900 },
      });
      await other.runs.release("b");
      expect(await store.runs.leaseUntil()).toBeUndefined();
      expect(await store.runs.lease("a", now + 2100, 1000)).toEqual({ holder: "a", renewed: false, until: now + 3100 });
      // Renewed after it ran out, no other having held it meanwhile.
      expect(await store.runs.lease("a", now + 5000, 1000)).toEqual({ holder: "a", renewed: true, until: now + 6000 });
    });

    test("an owner's renewals made at once, the lease free, take it anew once: the others renew that hold", async () => {
      const { store } = await open();
      // A waiter's timer renews the lease as a run whose wait is over does: only one take is new,
      // or the waiter would think another held it between the two.
      for (let round = 0; round < 5; round++) {
        const now = clock.now();
        const answers = await Promise.all([1, 2, 3].map(() => store.runs.lease("a", now, 1000)));
        expect(answers.map((answer) => answer.holder)).toEqual(["a", "a", "a"]);
        expect(answers.filter((answer) => !answer.renewed)).toHaveLength(1);
        await store.runs.release("a");
      }
    });

    test("finished runs go with their events when retention drops them", async () => {
      const { store } = await open({ ...LOOSE, maxAgeDays: 1 });
      const e = await stored(store, event());
      const run = (await store.runs.begin("paid", e.id, false, clock.now())) as number;
      await store.runs.finish(run, "done", clock.now());
      await store.expire(clock.now() + 2 * 86_400_000);
      expect(await store.get(e.id)).toBeUndefined();
      expect(await store.runs.list({ eventId: e.id, limit: 5 })).toEqual([]);
    });
  });

  describe("MCP sessions", () => {
    test("every server on the store knows a session one opened, until it is closed or none has seen it for long", async () => {
      const { store: a, another } = await open();
      const b = await another();
      const now = clock.now();
      await a.sessions.open("s1", "ops", '{"protocolVersion":"2025-06-18"}', now);
      await a.sessions.open("s2", null, "{}", now);
      // A write that timed out but was done is written again.
      await b.sessions.open("s1", "ops", '{"protocolVersion":"2025-06-18"}', now);
      expect(await b.sessions.get("s1")).toEqual({
        caller: "ops",
        init: '{"protocolVersion":"2025-06-18"}',
        lastSeen: now,
        heardSeq: 0,
        subscriptions: [],
      });
      await a.sessions.keepSubscriptions("s1", ["events://recent", "events://event/01A"]);
      await a.sessions.keepSubscriptions("s2", ["events://event/01B"]);
      expect((await b.sessions.get("s1"))?.subscriptions).toEqual(["events://event/01A", "events://recent"]);
      await b.sessions.keepSubscriptions("s1", ["events://recent", "events://event/01C"]);
      expect((await a.sessions.get("s1"))?.subscriptions).toEqual(["events://event/01C", "events://recent"]);
      await b.sessions.keepSubscriptions("s1", ["events://recent"]);
      expect((await a.sessions.get("s1"))?.subscriptions).toEqual(["events://recent"]);
      // A session the store does not hold (ended elsewhere) keeps none.
      await a.sessions.keepSubscriptions("gone", ["events://recent"]);
      expect(await b.sessions.get("gone")).toBeUndefined();
      expect(await b.sessions.seen(new Map([["s1", now + 5000]]), new Map([["s1", 7]]))).toEqual(new Set(["s1"]));
      expect(await a.sessions.seen(new Map([["s1", now + 1000]]), new Map([["s1", 3]]))).toEqual(new Set(["s1"]));
      // The newest use, and the newest event its client heard of, whichever server wrote last.
      expect(await a.sessions.get("s1")).toMatchObject({ lastSeen: now + 5000, heardSeq: 7 });
      await a.sessions.expire(now + 2000);
      expect(await b.sessions.get("s2")).toBeUndefined();
      expect(await b.sessions.get("s1")).toBeDefined();
      await b.sessions.close("s1");
      expect(await a.sessions.get("s1")).toBeUndefined();
      // Ended, closed or expired, a session takes its subscriptions along: opened again under its
      // id, it has none.
      await a.sessions.open("s1", null, "{}", now + 5000);
      await a.sessions.open("s2", null, "{}", now + 5000);
      expect((await b.sessions.get("s1"))?.subscriptions).toEqual([]);
      expect((await b.sessions.get("s2"))?.subscriptions).toEqual([]);
      await a.sessions.open("gone", null, "{}", now + 5000);
      expect((await b.sessions.get("gone"))?.subscriptions).toEqual([]);
      await a.sessions.close("gone");
      await a.sessions.close("s1");
      await a.sessions.close("s2");
      expect(await a.sessions.seen(new Map([["s1", now + 6000]]))).toEqual(new Set());
      // Closed by a server that last used it before another did, it stays.
      await a.sessions.open("s3", null, "{}", now);
      await b.sessions.seen(new Map([["s3", now + 3000]]));
      await a.sessions.close("s3", now + 1000);
      expect(await b.sessions.get("s3")).toBeDefined();
      await a.sessions.close("s3", now + 3000);
      expect(await b.sessions.get("s3")).toBeUndefined();
    });

    test("a session's client is taken to have heard of the events stored before it opened, which its first list shows", async () => {
      const { store: a, another } = await open();
      const b = await another();
      await a.add(event());
      await a.sessions.open("s1", null, "{}", clock.now());
      expect((await b.sessions.get("s1"))?.heardSeq).toBe(await a.latestSeq());
      expect(await a.latestSeq()).toBeGreaterThan(0);
    });
  });
}
