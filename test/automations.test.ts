import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect as connectTcp, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServe, startWebhooks } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { LeftUndone } from "../src/errors.js";
import { PostgresEventStore } from "../src/events/postgres/store.js";
import { SqliteEventStore } from "../src/events/sqlite/store.js";
import type { EventStore } from "../src/events/store.js";
import { Log } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import {
  CHAT,
  dataDir,
  env,
  holdAnswers,
  O,
  PAID,
  pay,
  runsOf,
  STRIPE_SECRET,
  sendStripe,
  sequence,
  serve,
  store,
  stripe,
  TELL,
  telegram,
  toldAndLogged,
  useFakes,
  WATCH,
  woo,
} from "./automations-harness.js";
import { ERP_ENV, erpHeaders } from "./erp.js";
import { notification, startComgate } from "./fakes/comgate.js";
import { freePort, onFreePort } from "./fakes/http.js";
import { startWaiter } from "./memory.js";
import { postgresAvailable, postgresRequired, type RunningPostgres, silentProxy, startPostgres } from "./postgres.js";
import { SERVING, startNode } from "./spawn.js";
import { CLI, type Session, startServer, text } from "./stdio.js";

useFakes();

/**
 * Two automations that fail on a payment for an order the shop does not have: one's onFailure
 * channel takes its message, the other's is a chat Telegram does not know (400). An agent reading
 * the runs over MCP is told which message reached its channel, and why the other did not.
 */
async function onFailureOutcomes(extra: Record<string, string> = {}) {
  const channels = JSON.stringify({
    team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT], baseUrl: telegram.origin },
    gone: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: ["-100404"], baseUrl: telegram.origin },
  });
  const automations = [
    { ...PAID, onFailure: { notify: "team" } },
    { ...PAID, name: "paid-gone", onFailure: { notify: "gone" } },
  ];
  const settings = { WAITER_NOTIFY_CHANNELS: channels, ...extra };
  const server = await serve(automations, settings);
  const agent = await startWaiter(env(automations, settings));
  try {
    const sent = telegram.delivered.length;
    const event = await pay(server, "999999");
    const notRun = [
      { status: "failed", tool: "eshop_order_mark_paid" },
      { status: "not run", tool: "notify_send" },
      { status: "not run", tool: "events_ack" },
    ];
    await expect
      .poll(async () => (await agent.call("automations_runs", { event_id: event.id })).structuredContent, {
        timeout: 10_000,
      })
      .toMatchObject({
        runs: [
          {
            automation: "paid-gone",
            status: "failed",
            steps: [
              ...notRun,
              {
                status: "not told",
                tool: "onFailure",
                outcome: expect.stringMatching(/^No chat of gone confirmed the message: .*chat not found/),
              },
            ],
          },
          {
            automation: "stripe-paid",
            status: "failed",
            steps: [...notRun, { status: "told", tool: "onFailure", outcome: `Sent on team to ${CHAT}.` }],
          },
        ],
      });
    expect(telegram.delivered.slice(sent).map((m) => m.text)).toEqual([
      expect.stringMatching(/^waiter: automation stripe-paid failed on /),
    ]);
    const lines = text(await agent.call("automations_runs", { event_id: event.id })).split("\n");
    expect(lines.filter((line) => line.startsWith("  onFailure: "))).toEqual([
      expect.stringMatching(/^ {2}onFailure: not told — No chat of gone confirmed the message: .*chat not found/),
      `  onFailure: told — Sent on team to ${CHAT}.`,
    ]);
    // A session served automations_runs too is sent there for the step each failed run stopped at.
    expect(text(await agent.call("events_get", { id: event.id }))).toContain(
      `automations_runs with event_id="${event.id}" shows the step a failed one stopped at, why, and its arguments.`,
    );
    // A token whose toolsets are events alone reads from the event whether the team was told.
    const reader = await startWaiter(env(automations, settings), { allow: (tool) => tool.name.startsWith("events_") });
    try {
      const read = await reader.call("events_get", { id: event.id });
      expect(read.structuredContent).toMatchObject({
        automations: [
          { name: "stripe-paid", status: "failed, onFailure told" },
          { name: "paid-gone", status: "failed, onFailure not told" },
        ],
      });
      expect(text(read)).toContain(
        "Automations on it: stripe-paid (failed, onFailure told), paid-gone (failed, onFailure not told).",
      );
    } finally {
      await reader.close();
    }
  } finally {
    await agent.close();
    await server.close();
  }
}

describe("a Stripe payment marks its order paid, tells the team and acknowledges the event", () => {
  test("once, however often the webhook is delivered", async () => {
    const server = await serve([PAID, WATCH]);
    try {
      const sent = telegram.delivered.length;
      const first = await pay(server, String(O.pendingStockManaged), "evt_paid_once");
      const [run] = (await runsOf(first.id)).filter((r) => r.automation === "stripe-paid");
      expect(run).toMatchObject({ status: "done", dryRun: false, error: null });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      expect(woo.shop.order(O.pendingStockManaged)).toMatchObject({
        status: "processing",
        transaction_id: "pi_evt_paid_once",
      });
      expect(telegram.delivered.slice(sent)).toEqual([
        expect.objectContaining({
          chat_id: CHAT,
          text: `Order “${O.pendingStockManaged}” is paid (“pi_evt_paid_once”).`,
        }),
      ]);
      const s = store();
      expect((await s.get(first.id))?.ackedAt).not.toBeNull();
      await s.close();

      // Stripe retries the same event: a duplicate delivery, no second run, nothing changes.
      const writes = woo.shop.writes.length;
      const again = await pay(server, String(O.pendingStockManaged), "evt_paid_once");
      expect(again).toEqual({ id: first.id, duplicate: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await runsOf(first.id)).toHaveLength(2);
      expect(woo.shop.writes.length).toBe(writes);
      expect(telegram.delivered.length - sent).toBe(1);
    } finally {
      await server.close();
    }
  });

  test("what the run changed is in the log, as what an agent changes is: the order it marked paid, where it told, the event acknowledged", async () => {
    const lines: string[] = [];
    const server = await serve([PAID], {}, lines);
    try {
      const paid = await pay(server, String(O.pending1999), "evt_paid_logged");
      await runsOf(paid.id);
      const who = `for automation stripe-paid, run \\d+ \\(event ${paid.id}\\)`;
      expect(lines.filter((line) => / done for /.test(line))).toEqual([
        expect.stringMatching(
          new RegExp(
            `info +\\[waiter\\] eshop_order_mark_paid done ${who}, step 1: Order #${O.pending1999} \\(id ${O.pending1999}\\) is now paid`,
          ),
        ),
        expect.stringMatching(new RegExp(`notify_send done ${who}, step 2: Sent on team to ${CHAT}\\.\\n$`)),
        expect.stringMatching(new RegExp(`events_ack done ${who}, step 3: `)),
      ]);
      // The shop's owner reads the order's notes, not waiter's log: the note names the run and the payment.
      const [run] = await runsOf(paid.id);
      expect(woo.shop.order(O.pending1999).notes.map((n) => n.note)).toContain(
        `Marked paid by waiter for automation stripe-paid, run ${run?.id} (event ${paid.id}), step 1 (transaction pi_evt_paid_logged).`,
      );
    } finally {
      await server.close();
    }
  });

  test("an event an agent acknowledged before the run's ack step is logged as acknowledged before, with when, not as 0 acknowledged", async () => {
    const lines: string[] = [];
    const server = await serve([PAID], {}, lines);
    const agent = await startWaiter(env([PAID]));
    const release = holdAnswers();
    try {
      const asked = telegram.requests.length;
      const paid = await pay(server, String(O.pending1999), "evt_acked_first");
      await expect.poll(() => telegram.requests.length).toBeGreaterThan(asked);
      await agent.call("events_ack", { ids: [paid.id] });
      release();
      expect((await runsOf(paid.id))[0]?.status).toBe("done");
      const s = store();
      const ackedAt = (await s.get(paid.id))?.ackedAt;
      await s.close();
      expect(ackedAt).toMatch(/^\d{4}-/);
      expect(lines.filter((line) => line.includes("events_ack done for automation"))).toEqual([
        expect.stringMatching(new RegExp(`step 3: Acknowledged 0\\. ${paid.id} was acknowledged at ${ackedAt}\\.\\n$`)),
      ]);
    } finally {
      release();
      await agent.close();
      await server.close();
    }
  });

  test("a second payment for a paid order is told to the team as something to check, not as a payment; the same payment again is not", async () => {
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }]);
    try {
      const first = await pay(server, String(O.pending1999), "evt_pay_a");
      expect((await runsOf(first.id))[0]).toMatchObject({ status: "done" });
      const sent = telegram.delivered.length;

      // Stripe tells of the same PaymentIntent in another event: still a quiet success.
      const same = await pay(server, String(O.pending1999), "evt_pay_a_again", { id: "pi_evt_pay_a" });
      expect((await runsOf(same.id))[0]).toMatchObject({ status: "done" });
      expect(telegram.delivered.slice(sent)).toEqual([
        expect.objectContaining({ text: `Order “${O.pending1999}” is paid (“pi_evt_pay_a”).` }),
      ]);

      // The customer paid again, with another PaymentIntent.
      const second = await pay(server, String(O.pending1999), "evt_pay_b");
      const [run] = await runsOf(second.id);
      expect(run?.steps.map((s) => s.status)).toEqual(["failed"]);
      const reason = expect.stringMatching(
        /^Order #7081 \(id 7081\) was already paid on .* Its transaction is "pi_evt_pay_a", not the one given: the customer may have paid twice; check both with the gateway\.$/,
      );
      expect(run).toMatchObject({ status: "failed", error: expect.stringContaining("check both with the gateway.") });
      expect(JSON.parse(run?.steps[0]?.detail ?? "{}")).toMatchObject({ error: reason });
      await expect
        .poll(() => telegram.delivered.slice(sent + 1))
        .toEqual([
          expect.objectContaining({
            text: expect.stringMatching(
              /^waiter: automation stripe-paid failed on the delivery “evt_pay_b” from stripe\.\n.* Step 1 \(eshop_order_mark_paid, id 7081, transaction_id “pi_evt_pay_b”\) failed: Order #7081 .* check both with the gateway\. Steps 2-3 \(notify, ack\) were not run; the event is not acknowledged\.$/,
            ),
          }),
        ]);
      const s = store();
      expect((await s.get(second.id))?.ackedAt).toBeNull();
      await s.close();
      expect(woo.shop.order(O.pending1999)).toMatchObject({ transaction_id: "pi_evt_pay_a" });
    } finally {
      await server.close();
    }
  });

  test("agents see the automations and each run's steps, from any waiter on the store", async () => {
    const server = await serve([PAID, WATCH]);
    const agent = await startWaiter(env([PAID, WATCH]));
    try {
      const event = await pay(server, String(O.pending1999), "evt_seen");
      await runsOf(event.id);
      const list = await agent.call("automations_list");
      expect(list.structuredContent).toEqual({
        automations: [
          {
            name: "stripe-paid",
            source: "stripe",
            type: "payment_intent.succeeded",
            dry_run: false,
            steps: ["eshop_order_mark_paid", "notify_send", "events_ack"],
            runs: { running: 0, done: 1, failed: 0 },
          },
          {
            name: "watch-payments",
            source: "stripe",
            type: "payment_intent.",
            dry_run: true,
            steps: ["notify_send"],
            runs: { running: 0, done: 1, failed: 0 },
          },
        ],
      });
      // Its conditions with its trigger, which a model asked why it did not run on an event needs.
      expect(text(list)).toBe(
        [
          "stripe-paid: on stripe payment_intent.succeeded where payload.data.object.metadata.order_id present, eshop_order_mark_paid → notify_send → events_ack; runs 1 done, 0 failed, 0 running",
          "watch-payments (dry run): on stripe payment_intent., notify_send; runs 1 done, 0 failed, 0 running",
        ].join("\n"),
      );
      // The event's id in any letter case.
      const runs = await agent.call("automations_runs", {
        automation: "stripe-paid",
        event_id: event.id.toLowerCase(),
      });
      expect(runs.structuredContent).toMatchObject({
        runs: [
          {
            automation: "stripe-paid",
            event_id: event.id,
            status: "done",
            steps: [
              { status: "done", tool: "eshop_order_mark_paid", outcome: expect.stringMatching(/is now paid/) },
              { status: "done", tool: "notify_send", outcome: "Sent on team to 424242." },
              { status: "done", tool: "events_ack", outcome: expect.stringMatching(/Acknowledged/) },
            ],
          },
        ],
      });
      const read = await agent.call("events_get", { id: event.id });
      expect(read.structuredContent).toMatchObject({
        automations: [
          { name: "stripe-paid", status: "done" },
          { name: "watch-payments", status: "dry run, done" },
        ],
      });
      const told = (read.content[0] as { text: string }).text;
      expect(told).toMatch(/Automations on it: .*stripe-paid \(done\)/);
      expect(told).toMatch(/Automations on it: .*watch-payments \(dry run, done\)/);
      expect((runs.content[0] as { text: string }).text).toMatch(
        /^#\d+ stripe-paid on \S+, started \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z: done\n {2}1\. eshop_order_mark_paid: done/,
      );
      // Once the waiter that ran them stops, the list says none runs them, for a model not to wait on them.
      await server.close();
      expect((await agent.call("automations_list")).structuredContent).toMatchObject({
        note: "No waiter serve or waiter listen runs the automations on this store now: the events stored meanwhile wait for the next to start with them configured.",
      });
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("events_wait names the automations that ran on the event it returns, as events_get does", async () => {
    const server = await serve([PAID, WATCH]);
    const agent = await startWaiter(env([PAID, WATCH]));
    try {
      const event = await pay(server, String(O.pending1999), "evt_waited_for");
      await runsOf(event.id);
      // A wait from an earlier cursor returns the event after the automations handled it.
      const waited = await agent.call("events_wait", { since: "c0", timeout_s: 1 });
      const ran = [
        { name: "stripe-paid", status: "done" },
        { name: "watch-payments", status: "dry run, done" },
      ];
      expect(waited.structuredContent).toMatchObject({ event: { id: event.id, automations: ran } });
      expect(text(waited)).toContain("Automations on it: stripe-paid (done), watch-payments (dry run, done).");
      expect((await agent.call("events_get", { id: event.id })).structuredContent).toMatchObject({ automations: ran });
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("events_wait says an automation that takes the event it answers has not run on it yet, as events_get does", async () => {
    // The automations have run on this store, so they take every event stored since.
    const running = await serve([PAID]);
    await runsOf((await pay(running, String(O.pendingStockManaged))).id);
    await running.close();
    const agent = await startWaiter(env([PAID]));
    // A waiter that stores the payment before any runs the automation on it.
    const listening = await serve([]);
    try {
      const { cursor } = (await agent.call("events_list", {})).structuredContent as { cursor: string };
      const waiting = agent.call("events_wait", { since: cursor, type: "payment_intent.succeeded", timeout_s: 10 });
      const event = await pay(listening, String(O.pending1999));
      const waited = await waiting;
      const notYet =
        "No automation ran on it. stripe-paid takes it and has not run on it yet: no waiter serve or waiter listen runs the automations on this store now, and the next to start with stripe-paid configured runs it on this event.";
      // A model told to mark the order paid leaves it to the automation, as it would reading it with events_get.
      expect(waited.structuredContent).toMatchObject({
        event: { id: event.id, note: expect.stringContaining(notYet) },
      });
      expect(text(waited)).toContain(notYet);
      expect(((await agent.call("events_get", { id: event.id })).structuredContent as { note: string }).note).toContain(
        notYet,
      );
    } finally {
      await agent.close();
      await listening.close();
    }
  });

  test("automations_list says each condition with its test and value as configured", async () => {
    const large = {
      ...TELL,
      name: "large-orders",
      when: {
        ...TELL.when,
        where: [
          { path: "to_number(payload.data.object.amount)", gte: 50000 },
          { path: "payload.data.object.currency", in: ["czk", "eur"] },
          { path: "payload.data.object.livemode", equals: true },
          { path: "payload.data.object.metadata.order_id", present: false },
        ],
      },
    };
    const agent = await startWaiter(env([large]));
    try {
      expect(text(await agent.call("automations_list"))).toBe(
        'large-orders: on stripe payment_intent.succeeded where to_number(payload.data.object.amount) gte 50000 and payload.data.object.currency in ["czk","eur"] and payload.data.object.livemode equals true and payload.data.object.metadata.order_id not present, notify_send; runs 0 done, 0 failed, 0 running\nNo waiter serve or waiter listen has run the automations on this store yet; the first to start with them configured leaves alone the events stored before it.',
      );
    } finally {
      await agent.close();
    }
  });

  test("automations_list names the channel a failed run is told on, and none where no one is told", async () => {
    const automations = [{ ...PAID, onFailure: { notify: "team" } }, TELL];
    const agent = await startWaiter(env(automations));
    try {
      const list = await agent.call("automations_list");
      expect(list.structuredContent).toMatchObject({
        automations: [{ name: "stripe-paid", on_failure: "team" }, { name: "tell" }],
      });
      expect((list.structuredContent as { automations: object[] }).automations[1]).not.toHaveProperty("on_failure");
      expect(text(list).split("\n").slice(0, 2)).toEqual([
        "stripe-paid: on stripe payment_intent.succeeded where payload.data.object.metadata.order_id present, eshop_order_mark_paid → notify_send → events_ack; a failed run is told on team; runs 0 done, 0 failed, 0 running",
        "tell: on stripe payment_intent.succeeded where payload.data.object.metadata.order_id not present, notify_send; runs 0 done, 0 failed, 0 running",
      ]);
    } finally {
      await agent.close();
    }
  });

  /** A Stripe payment event put straight in the store, its body only its id (dedupeId); the id it is stored under. */
  async function storedPayment(stored: EventStore, dedupeId: string): Promise<string> {
    const { id } = await stored.add({
      source: "stripe",
      type: "payment_intent.succeeded",
      scheme: "stripe",
      dedupeId,
      headers: {},
      body: Buffer.from(JSON.stringify({ id: dedupeId })),
      receivedAt: clock.now(),
    });
    return id;
  }

  test("automations_list counts the runs an automation made as it runs now: no dry run of it counts as done once it runs for real", async () => {
    const agent = await startWaiter(env([PAID, WATCH]));
    const stored = agent.store as EventStore;
    try {
      // stripe-paid ran twice as a dry run and once for real; watch-payments, a dry run now, once for real.
      const made: [string, boolean, "done" | "failed"][] = [
        ["stripe-paid", true, "done"],
        ["stripe-paid", true, "done"],
        ["stripe-paid", false, "failed"],
        ["watch-payments", false, "done"],
      ];
      for (const [n, [automation, dryRun, status]] of made.entries()) {
        const id = await storedPayment(stored, `evt_modes_${n}`);
        const run = (await stored.runs.begin(automation, id, dryRun, clock.now())) as number;
        await stored.runs.finish(run, status, clock.now());
      }
      const list = await agent.call("automations_list");
      expect(list.structuredContent).toMatchObject({
        automations: [
          { name: "stripe-paid", dry_run: false, runs: { running: 0, done: 0, failed: 1 } },
          { name: "watch-payments", dry_run: true, runs: { running: 0, done: 0, failed: 0 } },
        ],
      });
      expect(text(list)).toMatch(/^stripe-paid: .*; runs 0 done, 1 failed, 0 running\n/);
      // The dry runs are still there to see, each said to be one.
      const runs = await agent.call("automations_runs", { automation: "stripe-paid", status: "done" });
      expect((runs.structuredContent as { runs: { dry_run: boolean }[] }).runs.map((run) => run.dry_run)).toEqual([
        true,
        true,
      ]);
      // Nothing goes back to do for real what they would have done: a model must not wait for it.
      expect(text(runs)).toMatch(
        /\n#2 and #1 are dry runs of stripe-paid, which now runs for real but does not go back to the events its dry runs took: what they would have done is left to be done by hand\.$/,
      );
      // A real run of an automation that is a dry run now did what it did.
      expect(await agent.call("automations_runs", { automation: "watch-payments" })).not.toHaveProperty(
        "structuredContent.note",
      );
    } finally {
      await agent.close();
    }
  });

  test("automations_runs says when older runs match than it shows, and how to see them", async () => {
    const agent = await startWaiter(env([PAID]));
    const stored = agent.store as EventStore;
    try {
      for (const n of [1, 2, 3]) {
        const id = await storedPayment(stored, `evt_runs_${n}`);
        const run = (await stored.runs.begin("stripe-paid", id, false, clock.now())) as number;
        await stored.runs.finish(run, "failed", clock.now(), "step 1 (eshop_order_mark_paid): no such order");
      }
      const two = await agent.call("automations_runs", { status: "failed", limit: 2 });
      expect((two.structuredContent as { runs: unknown[] }).runs).toHaveLength(2);
      expect(two.structuredContent).toMatchObject({
        note: "Older runs match too: 3 runs match in all. Pass a higher limit (at most 50), or narrow by automation or event_id.",
      });
      expect(text(two)).toMatch(/\nOlder runs match too: 3 runs match in all\. Pass a higher limit \(at most 50\)/);
      // As some clients send every argument: plain decimal text is the number.
      const asText = await agent.call("automations_runs", { status: "failed", limit: "2" });
      expect((asText.structuredContent as { runs: unknown[] } | undefined)?.runs, text(asText)).toHaveLength(2);
      // In any case, as the automation's name: Failed is failed.
      const worded = await agent.call("automations_runs", { status: " Failed", limit: 3 });
      expect((worded.structuredContent as { runs: unknown[] } | undefined)?.runs, text(worded)).toHaveLength(3);
      const all = await agent.call("automations_runs", { status: "failed", limit: 3 });
      expect((all.structuredContent as { runs: unknown[] }).runs).toHaveLength(3);
      expect(all.structuredContent).not.toHaveProperty("note");
    } finally {
      await agent.close();
    }
  });

  test("automations_runs counts every run that matches when it shows only the newest", async () => {
    const agent = await startWaiter(env([PAID]));
    const stored = agent.store as EventStore;
    try {
      // A weekend: payments marked paid, some failed while the shop was down, one still waiting, and a dry run.
      const outcomes = ["done", "failed", "done", "failed", "failed", "done", "running", "done"] as const;
      for (const [n, status] of outcomes.entries()) {
        const id = await storedPayment(stored, `evt_weekend_${n}`);
        const run = (await stored.runs.begin("stripe-paid", id, n === 0, clock.now())) as number;
        if (status !== "running") await stored.runs.finish(run, status, clock.now(), "step 1: no such order");
      }
      const newest = await agent.call("automations_runs", { limit: 3 });
      expect((newest.structuredContent as { runs: unknown[] }).runs).toHaveLength(3);
      // The page is not all of it: what the weekend came to is said, for a model not to count the page.
      expect(newest.structuredContent).toMatchObject({
        note: expect.stringMatching(
          /(^| )Older runs match too: 8 runs match in all, 4 done \(1 of them a dry run\), 3 failed and 1 running\. Pass a higher limit \(at most 50\), or narrow by automation, status or event_id\.$/,
        ),
      });
      const failed = await agent.call("automations_runs", { status: "failed", limit: 2 });
      expect(failed.structuredContent).toMatchObject({
        note: "Older runs match too: 3 runs match in all. Pass a higher limit (at most 50), or narrow by automation or event_id.",
      });
      // Asked for the done ones alone, the dry run among them is still said to be one: it marked nothing paid.
      const done = await agent.call("automations_runs", { status: "done", limit: 2 });
      expect(done.structuredContent).toMatchObject({
        note: "Older runs match too: 4 runs match in all (1 of them a dry run). Pass a higher limit (at most 50), or narrow by automation or event_id.",
      });
    } finally {
      await agent.close();
    }
  });

  /** Twelve payment events, each with a finished run of stripe-paid whose steps `steps` gives. */
  async function twelveRuns(
    stored: EventStore,
    prefix: string,
    dryRun: boolean,
    steps: (n: number) => { status: "would" | "done"; detail: object }[],
  ): Promise<void> {
    for (let n = 1; n <= 12; n++) {
      const id = await storedPayment(stored, `${prefix}_${n}`);
      const run = (await stored.runs.begin("stripe-paid", id, dryRun, clock.now())) as number;
      for (const [step, { status, detail }] of steps(n).entries()) {
        await stored.runs.step(run, step, status, JSON.stringify(detail), clock.now());
      }
      await stored.runs.finish(run, "done", clock.now());
    }
  }

  test("automations_runs of long runs stays a size a client takes, and says which runs it left out", async () => {
    const agent = await startWaiter(env([{ ...PAID, dryRun: true }]));
    const stored = agent.store as EventStore;
    try {
      // Dry runs of twenty steps, each told by arguments as long as a step shows them.
      await twelveRuns(stored, "evt_long", true, (n) =>
        Array.from({ length: 20 }, () => ({
          status: "would" as const,
          detail: {
            tool: "notify_send",
            args: { channel: "team", text: `Order ${n}: ${"paid in full, ".repeat(40)}` },
          },
        })),
      );
      const answer = await agent.call("automations_runs", { limit: 50 });
      const shown = (answer.structuredContent as { runs: { event_id: string }[] }).runs;
      expect(JSON.stringify(answer.structuredContent).length).toBeLessThanOrEqual(42_000);
      expect(text(answer).length).toBeLessThanOrEqual(42_000);
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.length).toBeLessThan(12);
      expect(answer.structuredContent).toMatchObject({
        note: `Only the newest ${shown.length} runs fit in one answer; 12 runs match in all, 12 done (all dry runs). Narrow by automation, status or event_id for older ones.`,
      });
    } finally {
      await agent.close();
    }
  });

  test("automations_runs counts the bytes a client takes, which text in Japanese has three of a character", async () => {
    const agent = await startWaiter(env([PAID]));
    const stored = agent.store as EventStore;
    try {
      // Two steps whose answers are as long as a step keeps them: an order's items, named in Japanese.
      await twelveRuns(stored, "evt_ja", false, (n) =>
        Array.from({ length: 2 }, () => ({
          status: "done" as const,
          detail: {
            tool: "eshop_order_get",
            args: { id: 7084 },
            said: `Order ${n}: ${"有機コーヒー豆 1kg、".repeat(400)}`.slice(0, 4_000),
          },
        })),
      );
      const answer = await agent.call("automations_runs", { limit: 50 });
      const shown = (answer.structuredContent as { runs: unknown[] }).runs;
      expect(Buffer.byteLength(JSON.stringify(answer.structuredContent))).toBeLessThanOrEqual(42_000);
      expect(shown.length).toBeGreaterThan(0);
      expect(answer.structuredContent).toMatchObject({
        note: `Only the newest ${shown.length} runs fit in one answer; 12 runs match in all, 12 done. Narrow by automation, status or event_id for older ones.`,
      });
    } finally {
      await agent.close();
    }
  });

  test("automations_runs shows one run of twenty long steps at a size a client takes, each step cut saying so", async () => {
    const agent = await startWaiter(env([PAID]));
    const stored = agent.store as EventStore;
    try {
      // Twenty steps, each answered as long as a run keeps an answer (4,000 characters), in Japanese.
      const said = `${"有機コーヒー豆 1kg、".repeat(400)}`.slice(0, 4_000);
      const id = await storedPayment(stored, "evt_steps");
      const run = (await stored.runs.begin("stripe-paid", id, false, clock.now())) as number;
      for (let step = 0; step < 20; step++) {
        await stored.runs.step(run, step, "done", JSON.stringify({ tool: "eshop_order_get", said }), clock.now());
      }
      await stored.runs.finish(run, "done", clock.now());
      const answer = await agent.call("automations_runs", {});
      const [shown] = (answer.structuredContent as { runs: { steps: { outcome: string }[] }[] }).runs;
      expect(Buffer.byteLength(JSON.stringify(answer.structuredContent))).toBeLessThanOrEqual(42_000);
      expect(Buffer.byteLength(text(answer))).toBeLessThanOrEqual(42_000);
      expect(shown?.steps).toHaveLength(20);
      for (const step of shown?.steps ?? []) {
        expect(step.outcome.startsWith(said.slice(0, 100))).toBe(true);
        expect(step.outcome).toMatch(/…\n\(Cut here at \d+ of its 4000 characters\.\)$/);
      }
    } finally {
      await agent.close();
    }
  });

  test("automations_runs of long runs on one event points at the filters not given yet, and still says why one did not run", async () => {
    const refunded = {
      name: "stripe-refunded",
      when: { source: "stripe", type: "charge.refunded" },
      do: [{ ack: true }],
    };
    const agent = await startWaiter(env([PAID, refunded]));
    const stored = agent.store as EventStore;
    try {
      const id = await storedPayment(stored, "evt_many_automations");
      // One run for each automation on the event, as automations added over time made them.
      const names = [
        "stripe-paid",
        "tell-team",
        "tell-owner",
        "tell-shop",
        "mark-crm",
        "mark-books",
        "log-sale",
        "thank",
      ];
      for (const automation of names) {
        const run = (await stored.runs.begin(automation, id, true, clock.now())) as number;
        for (let step = 0; step < 20; step++) {
          const args = { channel: "team", text: `Paid: ${"in full, ".repeat(60)}` };
          await stored.runs.step(run, step, "would", JSON.stringify({ tool: "notify_send", args }), clock.now());
        }
        await stored.runs.finish(run, "done", clock.now());
      }
      const answer = await agent.call("automations_runs", { event_id: id });
      const shown = (answer.structuredContent as { runs: unknown[] }).runs;
      expect(shown.length).toBeLessThan(names.length);
      expect(answer.structuredContent).toMatchObject({
        note: `stripe-refunded does not take it: its type is "payment_intent.succeeded", not "charge.refunded". Only the newest ${shown.length} runs fit in one answer: narrow by automation or status for older ones.`,
      });
    } finally {
      await agent.close();
    }
  });

  test("automations_runs says whether a failed run's onFailure message reached its channel, and why not", async () => {
    await onFailureOutcomes();
  });

  test("a notify step that reached some of its chats reads in automations_runs with all its lines under the step", async () => {
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }, { ack: true }] };
    const channels = JSON.stringify({
      team: {
        type: "telegram",
        botTokenEnv: "TELEGRAM_BOT_TOKEN",
        chatIds: [CHAT, "-100777"],
        baseUrl: telegram.origin,
      },
    });
    const server = await serve([tell], { WAITER_NOTIFY_CHANNELS: channels });
    const agent = await startWaiter(env([tell], { WAITER_NOTIFY_CHANNELS: channels }));
    try {
      const event = await pay(server, undefined);
      await runsOf(event.id);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      expect(runs.structuredContent).toMatchObject({
        runs: [{ status: "done", steps: [{ outcome: expect.stringMatching(/\nNot confirmed by/) }, {}] }],
      });
      const lines = text(runs).split("\n");
      expect(lines[0]).toMatch(/^#\d+ tell on \S+, started \S+Z: done$/);
      expect(lines[1]).toBe(`  1. notify_send: done — Sent on team to ${CHAT}.`);
      // Every line after the run's first belongs to a step: a numbered one, or a step's own further lines.
      expect(lines.slice(1).filter((line) => !/^(?: {2}\d+\. | {5}\S)/.test(line))).toEqual([]);
      expect(lines.at(-1)).toMatch(/^ {2}2\. events_ack: done/);
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("one process runs the automations of a store: a second on it runs none, and the first gives them up as it stops", async () => {
    const first = await serve([PAID]);
    const second = await serve([PAID]);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(second, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(telegram.delivered.length - sent).toBe(1);
      expect(woo.shop.writes.filter((w) => w.method === "PUT")).toHaveLength(1);
    } finally {
      await first.close();
    }
    try {
      // The first released the lease as it stopped; the second would take it at its next look.
      const s = store();
      expect((await s.runs.lease("someone-else", clock.now(), 1000)).holder).toBe("someone-else");
      await s.runs.release("someone-else");
      await s.close();
    } finally {
      await second.close();
    }
  });

  test("waiter listen runs them too", async () => {
    const config = loadConfig({ env: env([PAID], { WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0" }) }, toolsets());
    const running = await startWebhooks(config, new Log("error", () => {}));
    try {
      const event = await pay(running.listener, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ automation: "stripe-paid", status: "done" });
      expect(woo.shop.order(O.pending1999).status).toBe("processing");
    } finally {
      await running.close();
    }
  });

  test("an automation renamed while waiter was stopped takes the events stored meanwhile; a new one no history", async () => {
    const listen = { WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0" };
    const start = (automations: object[]) =>
      startWebhooks(loadConfig({ env: env(automations, listen) }, toolsets()), new Log("error", () => {}));
    let running = await start([PAID, WATCH]);
    const before = await pay(running.listener, undefined, "evt_before_rename");
    await runsOf(before.id);
    await running.close();
    // Stored while the automations are off (waiter restarting for the change): none takes them.
    running = await start([]);
    const meanwhile = await pay(running.listener, String(O.pending1999), "evt_during_rename");
    await running.close();
    running = await start([
      { ...PAID, name: "stripe-payment-paid" },
      { ...WATCH, name: "watch-new" },
    ]);
    try {
      await runsOf(meanwhile.id);
      await expect
        .poll(async () => (await runsOf(meanwhile.id)).map((r) => `${r.automation} ${r.status}`).sort())
        .toEqual(["stripe-payment-paid done", "watch-new done"]);
      expect(woo.shop.order(O.pending1999).status).toBe("processing");
      // What the automations had handled before is history to the new ones.
      const s = store();
      try {
        expect(await s.runs.list({ eventId: before.id, limit: 10 })).toEqual([
          expect.objectContaining({ automation: "watch-payments" }),
        ]);
      } finally {
        await s.close();
      }
    } finally {
      await running.close();
    }
  });

  test("a payment taken by a waiter killed before its automations began, the first time they would on a store, is run at the next start, not taken for history", async () => {
    // A lease left by a waiter that died as it took it holds the automations back: the waiter
    // started now on this new store takes webhooks, and dies before they begin.
    const s = store();
    await s.runs.lease("another-host:1:died-starting", clock.now(), 60_000);
    const first = await startNode([CLI, "serve"], { ...env([PAID]), WAITER_LOG_LEVEL: "info" }, SERVING);
    const event = await pay({ url: first.said }, String(O.pending1999), "evt_before_begin");
    first.child.kill("SIGKILL");
    await first.exited;
    await s.runs.release("another-host:1:died-starting");
    await s.close();
    const second = await serve([PAID]);
    try {
      expect(await runsOf(event.id)).toEqual([expect.objectContaining({ automation: "stripe-paid", status: "done" })]);
      expect(woo.shop.order(O.pending1999).status).toBe("processing");
    } finally {
      await second.close();
    }
  });

  test("a payment delivered while the automations start, the first time they do on a store, is run, not taken for history", async () => {
    // The store holds what came before automations were configured: that is history.
    let running = await onFreePort((port) =>
      startWebhooks(
        loadConfig({ env: env([], { WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}` }) }, toolsets()),
        new Log("error", () => {}),
      ),
    );
    const listener = { url: running.listener.url };
    const port = Number(new URL(listener.url).port);
    const before = await pay(listener, String(O.pending1999), "evt_history");
    await running.close();
    // Stripe retries what it could not deliver while waiter restarted: one comes in as soon as the
    // port is open, while the automations start, which is when a store read then would see it.
    let arrived: Promise<{ id: string }> | undefined;
    const deliver = async () => {
      for (;;) {
        try {
          return await pay(listener, String(O.pendingStockManaged), "evt_during_start");
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    };
    const latestSeq = SqliteEventStore.prototype.latestSeq;
    SqliteEventStore.prototype.latestSeq = async function (this: SqliteEventStore) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = connectTcp(port, "127.0.0.1", () => resolve(true)).on("error", () => resolve(false));
        socket.unref();
        socket.once("connect", () => socket.destroy());
      });
      arrived ??= deliver();
      if (open) await arrived;
      return latestSeq.call(this);
    };
    try {
      running = await startWebhooks(
        loadConfig({ env: env([PAID], { WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}` }) }, toolsets()),
        new Log("error", () => {}),
      );
    } finally {
      SqliteEventStore.prototype.latestSeq = latestSeq;
    }
    try {
      const event = await arrived;
      expect(await runsOf(event?.id ?? "")).toEqual([
        expect.objectContaining({ automation: "stripe-paid", status: "done" }),
      ]);
      expect(woo.shop.order(O.pendingStockManaged).status).toBe("processing");
      const s = store();
      try {
        expect(await s.runs.list({ eventId: before.id, limit: 10 })).toEqual([]);
      } finally {
        await s.close();
      }
    } finally {
      await running.close();
    }
  });

  test("events retention dropped before the automations reached them are said in the log once; what is left is run", async () => {
    const lines: string[] = [];
    const start = (automations: object[], retention = {}) =>
      startWebhooks(
        loadConfig(
          {
            env: env(automations, {
              WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
              WAITER_WEBHOOKS_RETENTION: JSON.stringify(retention),
            }),
          },
          toolsets(),
        ),
        new Log("warning", (line) => lines.push(line)),
      );
    // History that retention dropped before the automations' first start is no one's loss.
    let running = await start([]);
    await pay(running.listener, String(O.processing), "evt_history");
    await running.close();
    const aging = new SqliteEventStore(join(dataDir, "events.db"), { maxEvents: 1000, maxBytes: 1e8, maxAgeDays: 1 });
    await aging.expire(clock.now() + 2 * 86_400_000);
    expect(await aging.stats()).toMatchObject({ events: 0 });
    await aging.close();
    running = await start([PAID, WATCH]);
    await runsOf((await pay(running.listener, undefined, "evt_handled")).id);
    await running.close();
    // While the automations are off, a burst past maxEvents: the first payment goes unhandled.
    running = await start([], { maxEvents: 1 });
    const lost = await pay(running.listener, String(O.pending1999), "evt_lost");
    const left = await pay(running.listener, String(O.pendingStockManaged), "evt_left");
    await running.close();
    const dropped =
      /automations: retention dropped events stored after the last one they handled before any automation ran for them; raise the limits of WAITER_WEBHOOKS_RETENTION if /;
    expect(lines.filter((line) => dropped.test(line))).toEqual([]);
    running = await start([PAID, WATCH]);
    try {
      await expect
        .poll(async () => (await runsOf(left.id)).map((r) => `${r.automation} ${r.status}`).sort())
        .toEqual(["stripe-paid done", "watch-payments done"]);
      expect(woo.shop.order(O.pendingStockManaged).status).toBe("processing");
      expect(woo.shop.order(O.pending1999).status).toBe("pending");
      expect(lines.filter((line) => dropped.test(line))).toHaveLength(1);
      expect(lines.find((line) => dropped.test(line))).toMatch(/^\S+ warning /);
      // The next event's drain, which reads what retention dropped again, says nothing more.
      const after = await pay(running.listener, undefined, "evt_after");
      await runsOf(after.id);
      expect(lines.filter((line) => dropped.test(line))).toHaveLength(1);
    } finally {
      await running.close();
    }
    expect(lost.id).not.toBe(left.id);
  });

  test("an assistant's stdio server leaves the webhook port and the automations to waiter listen, and says so", async () => {
    // The assistant's server starts first, while waiter listen restarts: the port is free.
    const listen = `127.0.0.1:${await freePort()}`;
    const assistant = await startServer({ ...env([PAID]), WAITER_WEBHOOKS_LISTEN: listen, WAITER_LOG_LEVEL: "notice" });
    try {
      // Once the assistant's server answers, it would have taken the port.
      expect((await assistant.call("automations_list")).isError).toBeFalsy();
      expect(assistant.stderr()).toContain(
        `1 automation is configured; they run in waiter serve and waiter listen, not in an assistant's stdio server: this one leaves the webhook port ${listen} to waiter listen, and serves the events it stores`,
      );
      // Nothing listens yet, and it says so, rather than give senders a URL that refuses them.
      expect(assistant.stderr()).toContain(
        `nothing listens on ${listen} now: no webhook reaches the store, nor runs an automation, until waiter listen (or serve) runs there`,
      );
      // Who listens; the loopback listen address's own note after it.
      const note = async () =>
        ((await assistant.call("webhooks_sources")).structuredContent as { note?: string }).note?.replace(
          / These URLs reach this machine alone .*$/,
          "",
        );
      expect(await note()).toBe(
        `Nothing listens on ${listen}: a delivery to these URLs is refused, and a sender that does not retry (WooCommerce, GitHub) loses it. Start waiter listen (or serve), which receives them.`,
      );
      const config = loadConfig({ env: env([PAID], { WAITER_WEBHOOKS_LISTEN: listen }) }, toolsets());
      const running = await startWebhooks(config, new Log("error", () => {}));
      try {
        expect(await note()).toBe(
          `These webhooks are received on ${listen} by waiter listen, into the store this waiter reads.`,
        );
        const event = await pay(running.listener, String(O.pending1999));
        const [run] = await runsOf(event.id);
        expect(run).toMatchObject({ automation: "stripe-paid", status: "done" });
        expect(woo.shop.order(O.pending1999).status).toBe("processing");
        expect((await assistant.call("events_get", { id: event.id })).isError).toBeFalsy();
      } finally {
        await running.close();
      }
    } finally {
      await assistant.close();
    }
  });

  /**
   * The time of a test that starts the built server once or twice: a second each here, ten and
   * more on a loaded machine.
   */
  const BUILT_SERVER_MS = 60_000;

  test(
    "an assistant's stdio server with automations and a listen address of port 0 does not say that nothing listens there",
    async () => {
      const assistant = await startServer({
        ...env([PAID]),
        WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
        WAITER_LOG_LEVEL: "notice",
      });
      try {
        expect((await assistant.call("automations_list")).isError).toBeFalsy();
        expect(assistant.stderr()).not.toContain("nothing listens on 127.0.0.1:0");
        expect(assistant.stderr()).toContain(
          "notice  [waiter] WAITER_WEBHOOKS_LISTEN names port 0, for which the system gives each waiter that listens a port of its own: this waiter, which does not listen, cannot tell which, nor whether one listens\n",
        );
      } finally {
        await assistant.close();
      }
      // Set in the config file, it is named there.
      const file = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "waiter.json");
      writeFileSync(file, JSON.stringify({ webhooks: { listen: "127.0.0.1:0" } }));
      const fromFile = await startServer({ ...env([PAID]), WAITER_LOG_LEVEL: "notice" }, ["--config", file]);
      try {
        expect((await fromFile.call("automations_list")).isError).toBeFalsy();
        expect(fromFile.stderr()).toContain(`notice  [waiter] webhooks.listen in ${file} names port 0, `);
      } finally {
        await fromFile.close();
      }
    },
    BUILT_SERVER_MS,
  );

  /**
   * The warnings an assistant's stdio server with automations gives of the waiter that has the
   * port, which it started first (`otherEnv`): `said`, and never `unsaid`, of the port `listen`.
   */
  const warnedOfPortHolder = async (
    otherEnv: Record<string, string>,
    said: (listen: string) => string,
    unsaid?: string,
  ) => {
    const other = await startWaiter(env([], { WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0", ...otherEnv }), {
      listener: true,
    });
    try {
      const listen = new URL(other.listenerUrl as string).host;
      const assistant = await startServer({
        ...env([PAID]),
        WAITER_WEBHOOKS_LISTEN: listen,
        WAITER_LOG_LEVEL: "notice",
      });
      try {
        expect((await assistant.call("automations_list")).isError).toBeFalsy();
        expect(assistant.stderr()).toContain(said(listen));
        if (unsaid) expect(assistant.stderr()).not.toContain(unsaid);
      } finally {
        await assistant.close();
      }
    } finally {
      await other.close();
    }
  };

  test(
    "an assistant's stdio server with automations warns when another assistant's waiter, which runs none, has the port",
    async () => {
      // Another assistant's waiter, configured without the automations: it takes the free port.
      await warnedOfPortHolder(
        {},
        (listen) =>
          `warning [waiter] another assistant's waiter, which runs no automations, listens on ${listen} now: webhooks reach the store, but no automation runs on them until waiter listen (or serve) has the port; give every waiter the same automations`,
      );
    },
    BUILT_SERVER_MS,
  );

  test(
    "an assistant's stdio server with automations warns when the waiter that has the port stores into another store",
    async () => {
      // Another assistant's waiter, configured with another data directory: another store.
      await warnedOfPortHolder(
        { WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-other-")) },
        (listen) =>
          `warning [waiter] ${listen} is taken by another assistant's waiter, which stores the webhooks in another store than this waiter reads: none of them reaches this waiter's events; give both assistants' settings the same data directory, WAITER_DATA_DIR (dataDir), or the same database, WAITER_DATABASE_URL (database.url)\n`,
        "webhooks reach the store",
      );
    },
    BUILT_SERVER_MS,
  );

  test(
    "an assistant's stdio server with automations says a port holder that does not answer /healthz in time is silent, not no waiter",
    async () => {
      // Takes connections and answers none, as a waiter listen whose event loop is held does.
      const held: Socket[] = [];
      const silent = createServer((socket) => held.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const listen = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
      try {
        const assistant = await startServer({
          ...env([PAID]),
          WAITER_WEBHOOKS_LISTEN: listen,
          WAITER_LOG_LEVEL: "notice",
        });
        try {
          expect((await assistant.call("automations_list")).isError).toBeFalsy();
          expect(assistant.stderr()).toContain(
            `warning [waiter] something that did not answer its /healthz within 1 s (a waiter too busy to answer, or another program) listens on ${listen} now: whether webhooks reach the store and run the automations cannot be told until it answers; they do if it is waiter listen (or serve) on this store\n`,
          );
          expect(assistant.stderr()).not.toContain("is not a waiter");
        } finally {
          await assistant.close();
        }
      } finally {
        for (const socket of held) socket.destroy();
        silent.close();
      }
    },
    BUILT_SERVER_MS,
  );

  test("a dry run records what it would do and does nothing; a model reads what it would have called", async () => {
    const server = await serve([WATCH]);
    const agent = await startWaiter(env([WATCH]));
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ automation: "watch-payments", status: "done", dryRun: true });
      expect(run?.steps).toEqual([
        expect.objectContaining({
          status: "would",
          detail: JSON.stringify({
            tool: "notify_send",
            args: { channel: "team", text: "Payment event “payment_intent.succeeded”" },
            written: { channel: "team", text: "Payment event {{event.type}}" },
          }),
        }),
      ]);
      expect(telegram.delivered.length).toBe(sent);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      expect(runs.structuredContent).toMatchObject({
        runs: [
          {
            steps: [
              {
                status: "would",
                tool: "notify_send",
                outcome: 'with {"channel":"team","text":"Payment event “payment_intent.succeeded”"}',
              },
            ],
          },
        ],
      });
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a dry run's line in the log says where to read what each step would have done, which the line does not say", async () => {
    const lines: string[] = [];
    const server = await serve([WATCH], {}, lines);
    try {
      const event = await pay(server, undefined);
      await runsOf(event.id);
      expect(lines.filter((line) => line.includes("would have run"))).toEqual([
        expect.stringContaining(
          `automation watch-payments would have run on event ${event.id}: automations_runs with event_id "${event.id}" shows what each step would have done\n`,
        ),
      ]);
    } finally {
      await server.close();
    }
  });

  test("the log's line on the automations that run names the dry runs as such: they act on nothing", async () => {
    const lines: string[] = [];
    const server = await serve([PAID, WATCH], {}, lines);
    try {
      expect(lines.filter((line) => line.includes("automations running"))).toEqual([
        expect.stringContaining("2 automations running: stripe-paid, watch-payments (dry run)\n"),
      ]);
    } finally {
      await server.close();
    }
  });

  test("a dry run says which insertions found nothing in the event, and where each stops finding: a live run would insert nothing there", async () => {
    const trial = {
      name: "misspelt-trial",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [
        {
          notify: "team",
          text: "Order {{payload.data.object.metdata.order_id}} is paid ({{payload.data.object.id}}).",
        },
        {
          tool: "eshop_order_add_note",
          args: { id: 1, note: "Paid: {{payload.data.object.description}} {{payload.data.object.metadata.order_id}}" },
        },
      ],
      dryRun: true,
    };
    const lines: string[] = [];
    const server = await serve([trial], {}, lines);
    const agent = await startWaiter(env([trial]));
    try {
      const event = await pay(server, "1042", "evt_misspelt_trial", { description: null });
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done", dryRun: true });
      const runs = await agent.call("automations_runs", { event_id: event.id });
      const [told, noted] =
        (runs.structuredContent as { runs: { steps: { outcome: string }[] }[] }).runs[0]?.steps ?? [];
      expect(told?.outcome).toBe(
        `with {"channel":"team","text":"Order  is paid (“pi_evt_misspelt_trial”)."}. Found nothing to insert for {{payload.data.object.metdata.order_id}} in text (payload.data.object has no metdata: did you mean metadata?), so it is inserted as nothing.`,
      );
      expect(noted?.outcome).toBe(
        'with {"id":1,"note":"Paid:  1042","customer_note":false}. Found nothing to insert for {{payload.data.object.description}} in note (payload.data.object.description is null), so it is inserted as nothing.',
      );
      expect(lines.filter((line) => line.includes("Found nothing"))).toEqual([
        expect.stringContaining(
          `automation misspelt-trial, dry run ${run?.id} (event ${event.id}), step 1: Found nothing to insert for {{payload.data.object.metdata.order_id}} in text`,
        ),
        expect.stringContaining("step 2: Found nothing to insert for {{payload.data.object.description}} in note"),
      ]);
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a live run's step says which insertions found nothing: in its outcome when done, in its failure when the tool refuses what was left", async () => {
    const told = {
      name: "misspelt",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [
        { notify: "team", text: "Order {{payload.data.object.metdata.order_id}} is paid." },
        { tool: "eshop_order_mark_paid", args: { id: O.pending1999, transaction_id: "{{payload.data.object.idd}}" } },
      ],
      onFailure: { notify: "team" },
    };
    const lines: string[] = [];
    const server = await serve([told], {}, lines, "warning");
    const agent = await startWaiter(env([told]));
    try {
      const event = await pay(server, "1042");
      const [run] = await runsOf(event.id);
      // The team read "Order  is paid.": the log says why, as the operator reads no run.
      expect(lines.filter((line) => line.includes("step 1: Found nothing"))).toEqual([
        expect.stringContaining(
          `warning [waiter] automation misspelt, run ${run?.id} (event ${event.id}), step 1: Found nothing to insert for {{payload.data.object.metdata.order_id}} in text (payload.data.object has no metdata: did you mean metadata?), so it was inserted as nothing.`,
        ),
      ]);
      const refused = `step 2 (eshop_order_mark_paid): invalid arguments for eshop_order_mark_paid: transaction_id: Too small: expected string to have >=1 characters (the template "{{payload.data.object.idd}}" gave "" on this event's payload). Found nothing to insert for {{payload.data.object.idd}} in transaction_id (payload.data.object has no idd: did you mean id?), so it was inserted as nothing.`;
      expect(run).toMatchObject({ status: "failed", error: refused });
      const runs = await agent.call("automations_runs", { event_id: event.id });
      const [first] = (runs.structuredContent as { runs: { steps: { outcome: string }[] }[] }).runs[0]?.steps ?? [];
      expect(first?.outcome).toBe(
        `Sent on team to ${CHAT}. Found nothing to insert for {{payload.data.object.metdata.order_id}} in text (payload.data.object has no metdata: did you mean metadata?), so it was inserted as nothing.`,
      );
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("an insertion that found nothing is warned of in the log once, not at every event whose field is null", async () => {
    const told = {
      name: "described",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [
        {
          notify: "team",
          text: "Paid {{payload.data.object.metadata.order_id}}: {{payload.data.object.description}}",
        },
      ],
    };
    const lines: string[] = [];
    const server = await serve([told], {}, lines, "warning");
    try {
      const first = await pay(server, "1042", undefined, { description: null });
      await runsOf(first.id);
      // Stripe's description is null on most payments: its first is warned of, the next is not.
      const second = await pay(server, "1043", undefined, { description: null });
      // An insertion that finds nothing for the first time is, the other one's said already.
      const third = await pay(server, undefined, undefined, { description: null });
      const [run] = await runsOf(third.id);
      await runsOf(second.id);
      expect(lines.filter((line) => line.includes("Found nothing"))).toEqual([
        expect.stringContaining(
          `(event ${first.id}), step 1: Found nothing to insert for {{payload.data.object.description}} in text (payload.data.object.description is null), so it was inserted as nothing. Said once for each insertion until waiter restarts; automations_runs shows it in each run.`,
        ),
        expect.stringContaining(
          `(event ${third.id}), step 1: Found nothing to insert for {{payload.data.object.metadata.order_id}} in text (payload.data.object.metadata has no order_id), so it was inserted as nothing. Said once`,
        ),
      ]);
      // The run still says each.
      expect(JSON.parse(run?.steps[0]?.detail ?? "{}").nothing).toBe(
        "Found nothing to insert for {{payload.data.object.metadata.order_id}} in text (payload.data.object.metadata has no order_id) and {{payload.data.object.description}} in text (payload.data.object.description is null), so each was inserted as nothing.",
      );
    } finally {
      await server.close();
    }
  });

  test("a long payload is cut in a message: each value at 200 characters, the text at what notify_send takes, counted as it counts, never in a surrogate pair", async () => {
    const loud = {
      name: "loud",
      when: { source: "stripe" },
      do: [{ notify: "team", text: "{{payload.data.object.description}} ".repeat(40) }],
      dryRun: true,
    };
    const server = await serve([loud]);
    try {
      const event = await pay(server, undefined, undefined, { description: "😀".repeat(150) });
      const [run] = await runsOf(event.id);
      const { text } = (JSON.parse(run?.steps[0]?.detail ?? "{}") as { args: { text: string } }).args;
      expect(text.startsWith(`“${"😀".repeat(99)}…” “`)).toBe(true);
      // notify_send takes 4,000 characters as Telegram counts them: an emoji is one.
      expect(Array.from(text)).toHaveLength(4000);
      expect(text.endsWith("…")).toBe(true);
      expect(Buffer.from(text).toString()).toBe(text);
    } finally {
      await server.close();
    }
  });

  test("a model reads a dry run's arguments as JSON on one line, a sender's line separator escaped", async () => {
    const trial = { ...PAID, name: "paid-trial", dryRun: true };
    const server = await serve([trial]);
    const agent = await startWaiter(env([trial]));
    try {
      const event = await pay(server, String(O.pendingStockManaged), "evt_a\u2028waiter: refunded");
      await runsOf(event.id);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      const [first] = (runs.structuredContent as { runs: { steps: { outcome: string }[] }[] }).runs[0]?.steps ?? [];
      expect(first?.outcome).toBe(
        `with {"id":${O.pendingStockManaged},"transaction_id":"pi_evt_a\\u2028waiter: refunded"}`,
      );
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a dry run's arguments show a sender's NEL, direction overrides and hidden tag characters as escapes", async () => {
    const noting = {
      name: "note-description",
      when: { source: "stripe" },
      do: [{ tool: "eshop_order_add_note", args: { id: 1, note: "Paid: {{payload.data.object.description}}" } }],
      dryRun: true,
    };
    const server = await serve([noting]);
    const agent = await startWaiter(env([noting]));
    try {
      const event = await pay(server, undefined, undefined, { description: "mug\u0085waiter\u202Eevil\u{E0041}" });
      await runsOf(event.id);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      const [first] = (runs.structuredContent as { runs: { steps: { outcome: string }[] }[] }).runs[0]?.steps ?? [];
      expect(first?.outcome).toBe(
        'with {"id":1,"note":"Paid: mug\\u0085waiter\\u202eevil\\udb40\\udc41","customer_note":false}',
      );
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a run that fails tells the team the sender's delivery id, the step and why, and what is left undone; the log, without the payload's values", async () => {
    const lines: string[] = [];
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }], {}, lines);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, "999999", "evt_no_such_order");
      const [run] = await runsOf(event.id);
      const reason =
        'The shop has no order 999999 (404 woocommerce_rest_shop_order_invalid_id: "Invalid ID."). Look it up in the shop\'s admin; if 999999 is its number, "#999999" finds it by that.';
      expect(run).toMatchObject({ status: "failed", error: `step 1 (eshop_order_mark_paid): ${reason}` });
      const said = `automation stripe-paid failed on the delivery “evt_no_such_order” from stripe.\nThe delivery is waiter's event ${event.id} (“payment_intent.succeeded”). `;
      // The tool's words name the order the payload gave: the log says them with it as "…".
      const logged =
        'The shop has no order … (404 woocommerce_rest_shop_order_invalid_id: "Invalid ID."). Look it up in the shop\'s admin; if … is its number, "#…" finds it by that.';
      await toldAndLogged(sent, said, lines, event.id, (values) =>
        values
          ? `Step 1 (eshop_order_mark_paid, id 999999, transaction_id “pi_evt_no_such_order”) failed: ${reason} Steps 2-3 (notify, ack) were not run; the event is not acknowledged.`
          : `Step 1 (eshop_order_mark_paid, id …, transaction_id …) failed: ${logged} Steps 2-3 (notify, ack) were not run; the event is not acknowledged.`,
      );
      expect(lines.join("")).not.toContain("999999");
    } finally {
      await server.close();
    }
  });

  test("the log hides a short order number, not the same digits as the shop's status", async () => {
    const lines: string[] = [];
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }], {}, lines);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, "404", "evt_order_404");
      await runsOf(event.id);
      await expect.poll(() => telegram.delivered.length).toBe(sent + 1);
      const logged = lines.filter((line) => line.includes(`waiter's event ${event.id}`));
      expect(logged).toEqual([
        expect.stringContaining(
          'failed: The shop has no order … (404 woocommerce_rest_shop_order_invalid_id: "Invalid ID."). Look it up in the shop\'s admin; if … is its number, "#…" finds it by that.',
        ),
      ]);
    } finally {
      await server.close();
    }
  });

  test("a failed step's arguments, which may hold the customer's email or a number of theirs, are told to the team, not put in the log", async () => {
    const lines: string[] = [];
    const note = {
      ...PAID.do[0],
      args: { ...PAID.do[0]?.args, note: "Paid by {{payload.data.object.receipt_email}}" },
    };
    const server = await serve(
      [{ ...PAID, do: [note, ...PAID.do.slice(1)], onFailure: { notify: "team" } }],
      {},
      lines,
    );
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, "999999", undefined, { receipt_email: "jane.doe@example.com" });
      await runsOf(event.id);
      await expect
        .poll(() => telegram.delivered.slice(sent).map((m) => m.text))
        .toEqual([expect.stringContaining("note “Paid by jane.doe@example.com”) failed:")]);
      const logged = lines.filter((line) => line.includes(`waiter's event ${event.id}`));
      expect(logged).toEqual([
        expect.stringContaining("Step 1 (eshop_order_mark_paid, id …, transaction_id …, note …) failed:"),
      ]);
      expect(lines.join("")).not.toContain("jane.doe@example.com");
    } finally {
      await server.close();
    }
  });

  test("a run's failure that points elsewhere points the person it is told to where a person can go, not to a tool", async () => {
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }]);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, String(O.cancelled));
      const [run] = await runsOf(event.id);
      expect(run?.error).toContain(
        `Order ${O.cancelled} is cancelled, so it was not marked paid: only pending, on-hold, failed orders can be. If it really should be paid, have its status set to pending first, in the shop's admin.`,
      );
      await expect.poll(() => telegram.delivered.length).toBe(sent + 1);
      expect(telegram.delivered[sent]?.text).not.toContain("eshop_order_update_status");
    } finally {
      await server.close();
    }
  });

  test("a dry run checks each step's arguments as its tool would, and fails where the real run would, saying it was a dry run", async () => {
    const lines: string[] = [];
    const trial = { ...PAID, name: "paid-trial", dryRun: true, onFailure: { notify: "team" } };
    const server = await serve([trial], {}, lines);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, "10x42");
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "failed", dryRun: true });
      // The path that filled the argument, what it gave, and the text to_number read as null there.
      expect(run?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): invalid arguments for eshop_order_mark_paid: id: .+ \(the path to_number\(payload\.data\.object\.metadata\.order_id\) gave null on this event's payload; payload\.data\.object\.metadata\.order_id is "10x42"\)$/,
      );
      expect(JSON.parse(run?.steps[0]?.detail ?? "{}")).toMatchObject({ args: { id: null } });
      expect(run?.steps).toHaveLength(1);
      const said = `dry run of automation paid-trial failed on the delivery “evt_${sequence}” from stripe.\nThe delivery is waiter's event ${event.id} (“payment_intent.succeeded”). Step 1 (eshop_order_mark_paid, id null, transaction_id “pi_evt_${sequence}”) failed: invalid arguments`;
      await expect
        .poll(() => telegram.delivered.slice(sent))
        .toEqual([expect.objectContaining({ text: expect.stringContaining(`waiter: ${said}`) })]);
      const logged = said
        .replace("\n", " ")
        .replace(`id null, transaction_id “pi_evt_${sequence}”`, "id …, transaction_id …");
      expect(lines.filter((line) => line.includes(logged))).toEqual([expect.stringContaining("warning")]);
    } finally {
      await server.close();
    }
  });

  test("a dry run refuses arguments the tool refuses together, as the real run does", async () => {
    // Only the event's values can tell: a date range that ends before it begins.
    const orders = (dryRun: boolean) => ({
      name: dryRun ? "look-up-trial" : "look-up",
      when: { source: "stripe" },
      do: [
        {
          tool: "eshop_orders_list",
          args: {
            after: { path: "payload.data.object.metadata.from" },
            before: { path: "payload.data.object.metadata.to" },
          },
        },
      ],
      dryRun,
    });
    const server = await serve([orders(true), orders(false)]);
    try {
      const event = await pay(server, undefined, undefined, {
        metadata: { from: "2026-11-20", to: "2026-11-01" },
      });
      const runs = await runsOf(event.id);
      const why = "`after` (2026-11-20) must be earlier than `before` (2026-11-01).";
      expect(runs.map((run) => [run.automation, run.status, run.error])).toEqual([
        ["look-up", "failed", `step 1 (eshop_orders_list): ${why}`],
        ["look-up-trial", "failed", `step 1 (eshop_orders_list): ${why}`],
      ]);
    } finally {
      await server.close();
    }
  });

  test("a step's long answer is kept in its run cut, not whole, saying how long it was", async () => {
    const list = {
      name: "list-orders",
      when: { source: "stripe" },
      do: [{ tool: "eshop_orders_list", args: { page_size: 100 } }],
    };
    const server = await serve([list]);
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("done");
      const { said } = JSON.parse(run?.steps[0]?.detail ?? "{}") as { said: string };
      expect(said).toMatch(/^#7084 \(id 7084\) pending: 98\.87 EUR/);
      expect(said).toMatch(/…\n\(The answer had \d{4,} characters; its first 4,000 are kept\.\)$/);
      expect(said.length).toBeLessThan(4_100);
    } finally {
      await server.close();
    }
  });

  test("an order's number a template left empty is told as what the id takes, not as a number expected", async () => {
    const paid = {
      ...PAID,
      when: { ...PAID.when, where: [] },
      do: [{ tool: "eshop_order_mark_paid", args: { id: "#{{payload.data.object.metadata.order_number}}" } }],
    };
    const server = await serve([paid]);
    try {
      const [run] = await runsOf((await pay(server, String(O.pending1999))).id);
      // Told a number is expected, its author would give the id a number by path, which in a shop
      // that renumbers its orders names another order.
      expect(run?.error).toBe(
        'step 1 (eshop_order_mark_paid): invalid arguments for eshop_order_mark_paid: id: expected the order\'s id (a number such as 7084) or its number as the shop writes it (such as "#7084" or "WC-0042"), got "#" (the template "#{{payload.data.object.metadata.order_number}}" gave "#" on this event\'s payload). Found nothing to insert for {{payload.data.object.metadata.order_number}} in id (payload.data.object.metadata has no order_number), so it was inserted as nothing.',
      );
    } finally {
      await server.close();
    }
  });

  test("a number a path takes as text, as Stripe's metadata holds an order's id, is taken as unsigned decimal text, else told with the path that takes it as the id", async () => {
    const paid = {
      ...PAID,
      do: [{ tool: "eshop_order_mark_paid", args: { id: { path: "payload.data.object.metadata.order_id" } } }],
    };
    const server = await serve([paid]);
    try {
      for (const id of [String(O.pending1999), `${O.pending1999}.0`]) {
        const [taken] = await runsOf((await pay(server, id)).id);
        expect(taken?.status, taken?.error ?? "").toBe("done");
      }
      const [signed] = await runsOf((await pay(server, `+${O.pending1999}`)).id);
      expect(signed?.error).toBe(
        // Not the tool's advice to a model: a person changes the path.
        // Nor one that hides what to_number makes of it: the id, where the text may be the order's number.
        'step 1 (eshop_order_mark_paid): invalid arguments for eshop_order_mark_paid: id: expected number, received string (the path payload.data.object.metadata.order_id gave "+7081" on this event\'s payload; to_number(payload.data.object.metadata.order_id) takes it as the order\'s id 7081, where the order numbered 7081 is "#7081")',
      );
      const [fraction] = await runsOf((await pay(server, `${O.pending1999}.5`)).id);
      expect(fraction?.error).toBe(
        'step 1 (eshop_order_mark_paid): invalid arguments for eshop_order_mark_paid: id: expected a whole number (the path payload.data.object.metadata.order_id gave "7081.5" on this event\'s payload)',
      );
    } finally {
      await server.close();
    }
  });

  test("a number a path takes where text is taken, as GoPay's payment id, is told with the path that takes it as text", async () => {
    const paid = {
      ...PAID,
      do: [
        {
          tool: "eshop_order_mark_paid",
          args: {
            id: { path: "to_number(payload.data.object.metadata.order_id)" },
            transaction_id: { path: "payload.data.object.id" },
          },
        },
      ],
    };
    const server = await serve([paid]);
    try {
      const event = await pay(server, String(O.pending1999), undefined, { id: 3049525378 });
      const [run] = await runsOf(event.id);
      expect(run?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): invalid arguments for eshop_order_mark_paid: transaction_id: .+ \(the path payload\.data\.object\.id gave 3049525378 on this event's payload; to_string\(payload\.data\.object\.id\) takes it as text\)$/,
      );
    } finally {
      await server.close();
    }
  });

  test("a payload value a step could not take is kept with its run and told to the team, not put in the log", async () => {
    const lines: string[] = [];
    const phone = { path: "payload.data.object.shipping.phone" };
    const paid = {
      ...PAID,
      do: [{ ...PAID.do[0], args: { ...PAID.do[0]?.args, note: phone } }],
      onFailure: { notify: "team" },
    };
    const server = await serve([paid], {}, lines);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, String(O.pending1999), undefined, { shipping: { phone: 420777123456 } });
      const [run] = await runsOf(event.id);
      const gave =
        "(the path payload.data.object.shipping.phone gave 420777123456 on this event's payload; to_string(payload.data.object.shipping.phone) takes it as text)";
      expect(run?.error).toContain(gave);
      await expect
        .poll(() => telegram.delivered.slice(sent).map((m) => m.text))
        .toEqual([expect.stringContaining(gave)]);
      expect(lines.filter((line) => line.includes(`waiter's event ${event.id}`))).toEqual([
        expect.stringContaining(
          "failed: invalid arguments for eshop_order_mark_paid: note: expected string, received number (the path payload.data.object.shipping.phone gave a number on this event's payload; to_string(payload.data.object.shipping.phone) takes it as text).",
        ),
      ]);
      expect(lines.join("")).not.toContain("420777123456");
    } finally {
      await server.close();
    }
  });

  test("an order's number a template filled with a customer's text is told to the team, the log saying only that it gave text", async () => {
    const lines: string[] = [];
    const paid = {
      ...PAID,
      when: { ...PAID.when, where: [] },
      do: [{ tool: "eshop_order_mark_paid", args: { id: "#{{payload.data.object.shipping.name}}" } }],
      onFailure: { notify: "team" },
    };
    const server = await serve([paid], {}, lines);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, String(O.pending1999), undefined, { shipping: { name: "Jana Novakova" } });
      const [run] = await runsOf(event.id);
      expect(run?.error).toContain('got "#Jana Novakova"');
      await expect
        .poll(() => telegram.delivered.slice(sent).map((m) => m.text))
        .toEqual([expect.stringContaining('got "#Jana Novakova"')]);
      expect(lines.filter((line) => line.includes(`waiter's event ${event.id}`))).toEqual([
        expect.stringContaining(
          'id: expected the order\'s id (a number such as 7084) or its number as the shop writes it (such as "#7084" or "WC-0042"), got text (the template "#{{payload.data.object.shipping.name}}" gave text on this event\'s payload).',
        ),
      ]);
      expect(lines.join("")).not.toContain("Novakova");
    } finally {
      await server.close();
    }
  });

  test("a payload value a tool's refusal names without quoting it is told to the team, not put in the log", async () => {
    const lines: string[] = [];
    const convert = {
      ...PAID,
      do: [
        { tool: "currency_convert", args: { amount: 1, from: { path: "payload.data.object.currency" }, to: "EUR" } },
      ],
      onFailure: { notify: "team" },
    };
    const server = await serve([convert], {}, lines);
    try {
      const sent = telegram.delivered.length;
      // A currency's sign is told the code it is written for, the sign unquoted in the tool's words.
      const event = await pay(server, String(O.pending1999), undefined, { currency: "Kč" });
      const [run] = await runsOf(event.id);
      expect(run?.error).toContain("Kč is written for CZK");
      await expect
        .poll(() => telegram.delivered.slice(sent).map((m) => m.text))
        .toEqual([expect.stringContaining("Kč is written for CZK")]);
      expect(lines.filter((line) => line.includes(`waiter's event ${event.id}`))).toEqual([
        expect.stringContaining(
          "failed: invalid arguments for currency_convert: from: Invalid string: must match pattern /^[A-Za-z]{3}$/ (the path payload.data.object.currency gave text on this event's payload).",
        ),
      ]);
      expect(lines.join("")).not.toContain("Kč");
    } finally {
      await server.close();
    }
  });

  test("an argument a path fails on, or a template fills with what the tool refuses, is named with its path or template", async () => {
    const note = {
      name: "note-items",
      when: { source: "stripe" },
      do: [{ tool: "eshop_order_add_note", args: { id: 1, note: { path: "join(', ', payload.data.object.items)" } } }],
      dryRun: true,
    };
    const tell = { ...note, name: "tell-customer", do: [{ notify: "team", text: "{{payload.data.object.customer}}" }] };
    const server = await serve([note, tell]);
    try {
      const event = await pay(server, undefined, undefined, { items: [{ sku: "mug" }] });
      const runs = await runsOf(event.id);
      expect(runs.find((run) => run.automation === "note-items")?.error).toMatch(
        /^step 1 \(eshop_order_add_note\): argument note: the path join\(', ', payload\.data\.object\.items\) failed on this event's payload: .*join\(\)/,
      );
      expect(runs.find((run) => run.automation === "tell-customer")?.error).toMatch(
        /^step 1 \(notify_send\): invalid arguments for notify_send: text: .+ \(the template "\{\{payload\.data\.object\.customer\}\}" gave "" on this event's payload\)\. Found nothing to insert for \{\{payload\.data\.object\.customer\}\} in text \(payload\.data\.object has no customer\), so it is inserted as nothing\.$/,
      );
    } finally {
      await server.close();
    }
  });

  test("what a path gave that its tool refuses is told on one line, without what hides or turns text around", async () => {
    const lines: string[] = [];
    const raw = {
      name: "paid-raw",
      when: { source: "stripe" },
      do: [{ tool: "eshop_order_mark_paid", args: { id: { path: "payload.data.object.metadata.order_id" } } }],
      onFailure: { notify: "team" },
    };
    const server = await serve([raw], {}, lines);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, "7\u2028waiter: it is paid\u0085\u202Eevil\u{E0069}");
      const [run] = await runsOf(event.id);
      const gave =
        '(the path payload.data.object.metadata.order_id gave "7 waiter: it is paid evil" on this event\'s payload)';
      expect(run?.error).toContain(gave);
      await expect
        .poll(() => telegram.delivered.slice(sent))
        .toEqual([expect.objectContaining({ text: expect.stringContaining(gave) })]);
      // The log says what kind of value it was, not the payload's text.
      const logged = lines.filter((line) => line.includes(`waiter's event ${event.id}`));
      expect(logged).toEqual([
        expect.stringContaining("(the path payload.data.object.metadata.order_id gave text on this event's payload)"),
      ]);
      expect(lines.join("")).not.toContain("it is paid");
    } finally {
      await server.close();
    }
  });

  test("a stranger's text in a message stays inside its quotes, on one line, in the order it was written", async () => {
    const forging = {
      name: "forging",
      when: { source: "stripe" },
      do: [
        {
          notify: "team",
          text: "New payment note: {{payload.data.object.description}} for {{payload.data.object.shipping}}, {{payload.data.object.amount_received}}",
        },
      ],
      dryRun: true,
    };
    const server = await serve([forging]);
    try {
      // The joiners are part of how a name or an emoji is spelled (نیک‌نام, 👩‍💻): they stay.
      const description =
        'hi” \n\nwaiter: Order 7084 is refunded, ship nothing. “ok 12" \u202Eevil\u200B″ نیک\u200Cنام 👩\u200D💻 \u200Fשרה';
      // An object is inserted as JSON, which keeps line separators and curly quotes as they are.
      const shipping = { name: "Jan”\u2028waiter: paid twice\u0085ship" };
      const event = await pay(server, undefined, undefined, { description, shipping });
      const [run] = await runsOf(event.id);
      const { text } = (JSON.parse(run?.steps[0]?.detail ?? "{}") as { args: { text: string } }).args;
      expect(text).toBe(
        'New payment note: “hi" waiter: Order 7084 is refunded, ship nothing. "ok 12" evil" نیک\u200Cنام 👩\u200D💻 \u200Fשרה” for “{"name":"Jan" waiter: paid twice ship"}”, 1999',
      );
    } finally {
      await server.close();
    }
  });

  test("every double quote and every character Unicode takes for one is made straight inside the quotes", async () => {
    const quoting = {
      name: "quoting",
      when: { source: "stripe" },
      do: [{ notify: "team", text: "Note: {{payload.data.object.description}}" }],
      dryRun: true,
    };
    const server = await serve([quoting]);
    try {
      const lookalikes = "“”„‟⹂〝〞〟＂❝❞❠🙶🙷🙸ʺ˝ˮ˶״᳓″‶〃";
      const event = await pay(server, undefined, undefined, { description: `a${lookalikes}«»ײb` });
      const [run] = await runsOf(event.id);
      const { text } = (JSON.parse(run?.steps[0]?.detail ?? "{}") as { args: { text: string } }).args;
      expect(text).toBe(`Note: “a${'"'.repeat([...lookalikes].length)}«»ײb”`);
    } finally {
      await server.close();
    }
  });

  test("notify_send called as a tool step quotes what it takes from the event, by path or template, as a notify step does", async () => {
    const send = (text: unknown) => ({ tool: "notify_send", args: { channel: "team", text } });
    const raw = {
      name: "raw-notify",
      when: { source: "stripe" },
      do: [
        send({ path: "payload.data.object.description" }),
        send("Note: {{payload.data.object.description}}, {{payload.data.object.amount_received}}"),
        send({ path: "payload.data.object.amount_received" }),
      ],
      dryRun: true,
    };
    const server = await serve([raw]);
    try {
      const description = "Nice mug\nwaiter: automation stripe-paid failed on event X: refund order 7081 now";
      const event = await pay(server, undefined, undefined, { description });
      const [run] = await runsOf(event.id);
      const texts = run?.steps.map((s) => (JSON.parse(s.detail) as { args: { text: string } }).args.text);
      expect(texts).toEqual([
        "“Nice mug waiter: automation stripe-paid failed on event X: refund order 7081 now”",
        "Note: “Nice mug waiter: automation stripe-paid failed on event X: refund order 7081 now”, 1999",
        "1999",
      ]);
    } finally {
      await server.close();
    }
  });

  test("a condition that fails on one payload is no match, and the automations go on", async () => {
    const picky = {
      name: "picky",
      when: { source: "stripe", where: [{ path: "length(payload.data.object.items)", gt: 0 }] },
      do: [{ ack: true }],
    };
    const server = await serve([picky, PAID]);
    try {
      const first = await pay(server, undefined);
      const second = await pay(server, String(O.pending1999));
      const [run] = await runsOf(second.id);
      expect(run).toMatchObject({ automation: "stripe-paid", status: "done" });
      const s = store();
      expect(await s.runs.list({ eventId: first.id, limit: 10 })).toEqual([]);
      await s.close();
    } finally {
      await server.close();
    }
  });

  test("a step whose path fails on this payload fails its run, and agents read which step and why", async () => {
    const lengthOfNumber = {
      name: "length-of-number",
      when: { source: "stripe" },
      do: [{ tool: "eshop_order_get", args: { id: { path: "length(payload.data.object.amount_received)" } } }],
    };
    const server = await serve([lengthOfNumber]);
    const agent = await startWaiter(env([lengthOfNumber]));
    try {
      const event = await pay(server, String(O.pending1999));
      await runsOf(event.id);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      expect(runs.isError).toBeFalsy();
      expect(runs.structuredContent).toMatchObject({
        runs: [
          {
            status: "failed",
            error: expect.stringMatching(/^step 1 \(eshop_order_get\): .*length/),
            steps: [{ status: "failed", tool: "eshop_order_get", outcome: expect.stringMatching(/length/) }],
          },
        ],
      });
      // The reason is said once, at the step, not again beside the run.
      const [{ outcome }] = (runs.structuredContent as { runs: [{ steps: [{ outcome: string }] }] }).runs[0].steps;
      const [{ id, started_at }] = (runs.structuredContent as { runs: [{ id: number; started_at: string }] }).runs;
      expect(text(runs)).toBe(
        `#${id} length-of-number on ${event.id}, started ${started_at}: failed at step 1\n  1. eshop_order_get: failed — ${outcome}`,
      );
      expect(woo.shop.writes).toEqual([]);
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a step that failed tells agents the arguments it had, so that a model can finish it by hand", async () => {
    // The shortest retry time: the step's tries are not what this is about.
    const server = await serve([PAID], {
      WAITER_WOO_URL: `http://127.0.0.1:${await freePort()}`,
      WAITER_AUTOMATION_RETRY_SECONDS: "1",
    });
    const agent = await startWaiter(env([PAID]));
    try {
      const event = await pay(server, String(O.pending1999), "evt_unreached");
      await runsOf(event.id);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      const args = `{"id":${O.pending1999},"transaction_id":"pi_evt_unreached"}`;
      expect(runs.structuredContent).toMatchObject({
        runs: [
          {
            status: "failed",
            steps: [
              {
                status: "failed",
                tool: "eshop_order_mark_paid",
                outcome: expect.stringMatching(
                  /^Could not reach WooCommerce .*so it is not tried again\. Its arguments were \{/,
                ),
              },
              { status: "not run", tool: "notify_send" },
              { status: "not run", tool: "events_ack" },
            ],
          },
        ],
      });
      const [{ outcome }] = (runs.structuredContent as { runs: [{ steps: [{ outcome: string }] }] }).runs[0].steps;
      expect(outcome.endsWith(` Its arguments were ${args}.`)).toBe(true);
      // The reason is still said once, at the step.
      expect(text(runs)).toMatch(/: failed at step 1\n {2}1\. eshop_order_mark_paid: failed — Could not reach/);
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a failed run tells agents the steps it did not run, as configured, so that a model knows what is left to do by hand", async () => {
    const server = await serve([PAID], {
      WAITER_WOO_URL: `http://127.0.0.1:${await freePort()}`,
      WAITER_AUTOMATION_RETRY_SECONDS: "1",
    });
    const agent = await startWaiter(env([PAID]));
    // A waiter whose stripe-paid has other steps since cannot tell which the run would have gone on with.
    const edited = await startWaiter(env([{ ...PAID, do: [{ ack: true }] }]));
    try {
      const event = await pay(server, String(O.pending1999), "evt_left_undone");
      await runsOf(event.id);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      const notify =
        '{"channel":"team","text":"Order {{payload.data.object.metadata.order_id}} is paid ({{payload.data.object.id}})."}';
      expect(runs.structuredContent).toMatchObject({
        runs: [
          {
            status: "failed",
            steps: [
              { status: "failed", tool: "eshop_order_mark_paid" },
              { status: "not run", tool: "notify_send", outcome: `as configured ${notify}` },
              { status: "not run", tool: "events_ack" },
            ],
          },
        ],
      });
      expect(text(runs)).toMatch(
        new RegExp(
          `\n {2}2. notify_send: not run — as configured ${notify.replace(/[{}().]/g, "\\$&")}\n {2}3. events_ack: not run$`,
        ),
      );
      const other = await edited.call("automations_runs", { event_id: event.id });
      expect(other.structuredContent).toMatchObject({
        runs: [{ status: "failed", steps: [{ status: "failed", tool: "eshop_order_mark_paid" }] }],
      });
    } finally {
      await edited.close();
      await agent.close();
      await server.close();
    }
  });

  test("a failed step's reason that ends in no full stop is one sentence before its arguments", async () => {
    const trial = { ...PAID, name: "paid-trial", dryRun: true };
    const server = await serve([trial]);
    const agent = await startWaiter(env([trial]));
    try {
      const event = await pay(server, "10x42");
      await runsOf(event.id);
      const runs = await agent.call("automations_runs", { event_id: event.id });
      const [{ outcome }] = (runs.structuredContent as { runs: [{ steps: [{ outcome: string }] }] }).runs[0].steps;
      expect(outcome).toMatch(/ is "10x42"\)\. Its arguments were \{"id":null,/);
      // The reason is still said once, at the step.
      expect(text(runs)).toMatch(/: failed \(dry run\) at step 1\n/);
      // A dry run's steps after it were not checked, as its onFailure message says.
      expect(text(runs)).toMatch(/\n {2}3\. events_ack: not checked$/);
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("an automation's name none has is refused with the names there are, the closest first", async () => {
    const agent = await startWaiter(env([PAID, WATCH]));
    try {
      for (const [tool, args, said] of [
        [
          "automations_list",
          { name: "watch_payments" },
          "the automations are watch-payments (the closest), stripe-paid.",
        ],
        [
          "automations_runs",
          { automation: "stripe_paid" },
          "the automations are stripe-paid (the closest), watch-payments.",
        ],
        ["automations_runs", { automation: "refunds" }, "the automations are stripe-paid, watch-payments."],
      ] as const) {
        const answer = await agent.call(tool, args);
        expect(answer.isError).toBe(true);
        expect(text(answer)).toBe(`No automation is named "${Object.values(args)[0]}"; ${said}`);
      }
      // A name with blanks around it, as copied from a sentence, is the name: no name has a blank in it.
      expect(await agent.call("automations_list", { name: " stripe-paid " })).toEqual(
        await agent.call("automations_list", { name: "stripe-paid" }),
      );
      expect(await agent.call("automations_runs", { automation: "stripe-paid\n" })).toEqual(
        await agent.call("automations_runs", { automation: "stripe-paid" }),
      );
      // A name in capitals, as a model writes a name it takes for a brand's, is the name: names are lowercase.
      expect(await agent.call("automations_list", { name: "Stripe-Paid" })).toEqual(
        await agent.call("automations_list", { name: "stripe-paid" }),
      );
      expect(await agent.call("automations_runs", { automation: "STRIPE-PAID" })).toEqual(
        await agent.call("automations_runs", { automation: "stripe-paid" }),
      );
      // "" is a name left out, as a form sends a field left empty: every automation, every run.
      expect(await agent.call("automations_list", { name: "" })).toEqual(await agent.call("automations_list"));
      expect(await agent.call("automations_runs", { automation: "", event_id: "" })).toEqual(
        await agent.call("automations_runs"),
      );
      expect(await agent.call("webhooks_sources", { source: "" })).toEqual(await agent.call("webhooks_sources"));
    } finally {
      await agent.close();
    }
    const alone = await startWaiter(env([PAID]));
    try {
      expect(text(await alone.call("automations_list", { name: "stripe_paid" }))).toBe(
        'No automation is named "stripe_paid"; the only automation is stripe-paid.',
      );
    } finally {
      await alone.close();
    }
  });

  /** A pending order paid and its run done, waiter then stopped: the event, and its store opened again with a day's retention. */
  async function paidAndStopped() {
    const server = await serve([PAID]);
    const event = await pay(server, String(O.pending1999));
    await runsOf(event.id);
    await server.close();
    const s = new SqliteEventStore(join(dataDir, "events.db"), { maxEvents: 1000, maxBytes: 1e8, maxAgeDays: 1 });
    return { event, s };
  }

  test("automations_runs on an event retention dropped says its runs went with it, not that none ran", async () => {
    const { event, s } = await paidAndStopped();
    const droppedAt = new Date(clock.now() + 2 * 86_400_000);
    await s.expire(droppedAt.getTime());
    await s.close();
    const agent = await startWaiter(env([PAID]));
    try {
      expect(text(await agent.call("automations_runs", { event_id: `${event.id}.` }))).toBe(
        `No runs on it. No event "${event.id}." is stored. Retention dropped it on ${droppedAt.toISOString()}: gone from waiter, its payload too. events_list lists the events kept. Runs go with their event: that none is listed does not mean no automation ran on it.`,
      );
    } finally {
      await agent.close();
    }
  });

  test("runs go with their events when retention drops them", async () => {
    const { event, s } = await paidAndStopped();
    try {
      expect(await s.runs.list({ eventId: event.id, limit: 10 })).toHaveLength(1);
      await s.expire(clock.now() + 2 * 86_400_000);
      expect(await s.get(event.id)).toBeUndefined();
      expect(await s.runs.list({ eventId: event.id, limit: 10 })).toEqual([]);
    } finally {
      await s.close();
    }
  });

  test("an automation whose turn on an event has not come, as another's run on it goes on, is said to wait for that run, not taken for one configured after the event", async () => {
    const alsoTold = {
      name: "also-told",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [{ notify: "team", text: "Payment {{payload.data.object.id}}" }],
    };
    const server = await serve([PAID, alsoTold]);
    const agent = await startWaiter(env([PAID, alsoTold]));
    const release = holdAnswers();
    try {
      const asked = telegram.requests.length;
      const event = await pay(server, String(O.pendingStockManaged));
      // stripe-paid's message is on its way: its run is under way, also-told's not begun.
      await expect.poll(() => telegram.requests.length).toBeGreaterThan(asked);
      const meanwhile = await agent.call("automations_runs", { event_id: event.id });
      expect(meanwhile.structuredContent).toMatchObject({
        runs: [{ automation: "stripe-paid", status: "running" }],
        note: "also-told takes it and has not run on it yet: the automations on an event run one after the other, and stripe-paid's run on it, which comes before, is running.",
      });
      // Asked of it alone, the same.
      expect(
        (await agent.call("automations_runs", { event_id: event.id, automation: "also-told" })).structuredContent,
      ).toEqual({ runs: [], note: (meanwhile.structuredContent as { note: string }).note });
      release();
      expect((await runsOf(event.id)).map((run) => [run.automation, run.status])).toEqual([
        ["also-told", "done"],
        ["stripe-paid", "done"],
      ]);
    } finally {
      release();
      await agent.close();
      await server.close();
    }
  });

  test("an automation that takes an event and has no run on it is said to be one that will not run on it, or one that has not reached it yet", async () => {
    const alsoTold = {
      name: "also-told",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [{ notify: "team", text: "Payment {{payload.data.object.id}}" }],
    };
    const noteOf = async (agent: Session, id: string) =>
      ((await agent.call("automations_runs", { event_id: id })).structuredContent as { note?: string }).note;
    // Stored while no waiter has run automations on the store: the first to run them leaves it as history.
    const listening = await serve([]);
    const history = await pay(listening, String(O.pending1999));
    const first = await startWaiter(env([PAID]));
    try {
      expect(await noteOf(first, history.id)).toBe(
        "stripe-paid takes it but will not run on it: no waiter serve or waiter listen has run automations on this store yet, and the first to do so leaves the events stored before it started; what the automation does is left to be done by hand.",
      );
    } finally {
      await first.close();
      await listening.close();
    }
    const running = await serve([PAID]);
    const paid = await pay(running, String(O.pendingStockManaged));
    await runsOf(paid.id);
    await running.close();
    const behind = await serve([]);
    const later = await pay(behind, String(O.pending1999));
    await behind.close();
    const agent = await startWaiter(env([PAID, alsoTold]));
    try {
      const passed = (name: string) =>
        `${name} takes it but will not run on it: the automations had passed the event before ${name} was configured to take it, and do not go back to it; what the automation does is left to be done by hand.`;
      // No waiter that ran the automations had also-told: not one added since, but one they lack.
      const lacked =
        "also-told takes it but will not run on it: the automations passed it, and no waiter that ran them on this store was configured with also-told; give every waiter on it the same automations. What the automation does is left to be done by hand.";
      expect(await noteOf(agent, history.id)).toBe(`${passed("stripe-paid")} ${lacked}`);
      expect(await noteOf(agent, paid.id)).toBe(lacked);
      const notYet = (name: string) =>
        `${name} takes it and has not run on it yet: no waiter serve or waiter listen runs the automations on this store now, and the next to start with ${name} configured runs it on this event.`;
      expect(await noteOf(agent, later.id)).toBe(`${notYet("stripe-paid")} ${notYet("also-told")}`);
      // events_get says the same of an event no automation ran on.
      expect(((await agent.call("events_get", { id: later.id })).structuredContent as { note: string }).note).toContain(
        notYet("also-told"),
      );
    } finally {
      await agent.close();
    }
  });

  test("an event the conditions do not match starts no run, and the debug log says why", async () => {
    const lines: string[] = [];
    const refunded = {
      name: "stripe-refunded",
      when: { source: "stripe", type: "charge.refunded" },
      do: [{ ack: true }],
    };
    const server = await serve([PAID, refunded], {}, lines, "debug");
    try {
      const event = await pay(server, undefined);
      await expect
        .poll(() => lines.filter((line) => line.includes(" not taken")).map((line) => line.replace(/^\S+ /, "")))
        .toEqual([
          `debug   [waiter] automation stripe-paid: event ${event.id} (type "payment_intent.succeeded") not taken: condition 1 does not hold (payload.data.object.metadata.order_id is null; payload.data.object.metadata has no order_id)\n`,
          // The event's type is said once: the reason names it.
          `debug   [waiter] automation stripe-refunded: event ${event.id} not taken: its type is "payment_intent.succeeded", not "charge.refunded"\n`,
        ]);
      const s = store();
      expect(await s.runs.list({ eventId: event.id, limit: 10 })).toEqual([]);
      await s.close();
      // An agent asking why nothing ran on the event is told so, in the same words.
      const agent = await startWaiter(env([PAID, refunded]));
      try {
        const why = await agent.call("automations_runs", { event_id: event.id });
        expect(why.structuredContent).toEqual({
          runs: [],
          note: 'stripe-paid does not take it: condition 1 does not hold (payload.data.object.metadata.order_id is null; payload.data.object.metadata has no order_id). stripe-refunded does not take it: its type is "payment_intent.succeeded", not "charge.refunded".',
        });
        expect(text(why)).toMatch(/^No runs on it\. stripe-paid does not take it: /);
        expect(text(await agent.call("automations_runs", { event_id: "evt_nowhere" }))).toBe(
          `No runs on it. No event "evt_nowhere" is stored. waiter's event ids are ULIDs like 01JD3Q6Z8W5M9R2T4V7X0Y1A2B, as events_list gives them; retention drops old ones.`,
        );
        // A token whose toolsets are automations alone is not sent to events_list, none of its tools.
        const runsOnly = await startWaiter(env([PAID, refunded]), {
          allow: (tool) => tool.name.startsWith("automations_"),
        });
        try {
          expect(text(await runsOnly.call("automations_runs", { event_id: "evt_nowhere" }))).toBe(
            `No runs on it. No event "evt_nowhere" is stored. waiter's event ids are ULIDs like 01JD3Q6Z8W5M9R2T4V7X0Y1A2B; retention drops old ones.`,
          );
        } finally {
          await runsOnly.close();
        }
        // The sender's id of the event, which a model takes for waiter's, is told which event it is.
        // The event read says so too: a model reading it must not take it for one an automation handled
        // or one it missed by waiter's fault.
        const read = await agent.call("events_get", { id: event.id });
        const noRun =
          'No automation ran on it. stripe-paid does not take it: condition 1 does not hold (payload.data.object.metadata.order_id is null; payload.data.object.metadata has no order_id). stripe-refunded does not take it: its type is "payment_intent.succeeded", not "charge.refunded".';
        expect((read.structuredContent as { note?: string }).note?.endsWith(noRun)).toBe(true);
        expect(text(read)).toContain(`${noRun}\nEvent ${event.id}: `);
        const { delivery_id } = read.structuredContent as { delivery_id: string };
        const delivered = JSON.stringify(delivery_id);
        expect(text(await agent.call("automations_runs", { event_id: delivery_id }))).toBe(
          `No runs on it. No event ${delivered} is stored. ${delivered} is the sender's delivery id of event ${event.id} (source "stripe"): pass waiter's event id instead.`,
        );
      } finally {
        await agent.close();
      }
    } finally {
      await server.close();
    }
  });

  test("automations_runs asked for failed runs on a sender's delivery id says which event it is, not that none failed; on the event, asked for done runs, says the states its runs are in", async () => {
    const server = await serve([PAID]);
    const agent = await startWaiter(env([PAID]));
    try {
      const event = await pay(server, "999999", "evt_unpaid_order");
      expect((await runsOf(event.id)).map((run) => run.status)).toEqual(["failed"]);
      const asked = await agent.call("automations_runs", { event_id: "evt_unpaid_order", status: "failed" });
      expect(text(asked)).toBe(
        `No failed runs on it. No event "evt_unpaid_order" is stored. "evt_unpaid_order" is the sender's delivery id of event ${event.id} (source "stripe"): pass waiter's event id instead.`,
      );
      // Of a stored event, no run in that state is not taken for no run: the states its runs are in.
      expect(text(await agent.call("automations_runs", { event_id: event.id, status: "done" }))).toBe(
        "No done runs on it. Its runs are in other states: 1 failed.",
      );
      const running = { event_id: event.id, automation: "stripe-paid", status: "running" };
      expect((await agent.call("automations_runs", running)).structuredContent).toEqual({
        runs: [],
        note: "Its runs of stripe-paid are in other states: 1 failed.",
      });
    } finally {
      await agent.close();
      await server.close();
    }
  });
  test("automations_runs asked for running runs on an event tells a dry run's done run from a real one", async () => {
    const server = await serve([PAID, WATCH]);
    const agent = await startWaiter(env([PAID, WATCH]));
    try {
      const event = await pay(server, "999999");
      expect((await runsOf(event.id)).map((run) => [run.automation, run.status])).toEqual([
        ["watch-payments", "done"],
        ["stripe-paid", "failed"],
      ]);
      expect(text(await agent.call("automations_runs", { event_id: event.id, status: "running" }))).toBe(
        "No running runs on it. Its runs are in other states: 1 done (dry run), 1 failed.",
      );
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a path that finds nothing says where it stops finding, and the name a letter or two off there", async () => {
    const lines: string[] = [];
    const objet = {
      ...PAID,
      name: "objet",
      do: [{ ...PAID.do[0], args: { ...PAID.do[0]?.args, transaction_id: { path: "payload.data.objet.id" } } }],
    };
    const metdata = {
      ...PAID,
      name: "metdata",
      when: { ...PAID.when, where: [{ path: "to_number(payload.data.object.metdata.order_id)", gt: 0 }] },
    };
    const server = await serve([objet, metdata, PAID], {}, lines, "debug");
    try {
      const paid = await pay(server, String(O.pending1999));
      const run = (await runsOf(paid.id)).find((r) => r.automation === "objet");
      expect(run?.error).toMatch(
        /\(the path payload\.data\.objet\.id gave null on this event's payload; payload\.data has no objet: did you mean object\?\)$/,
      );
      // A payment without the field: the payload lacks it, nothing is misspelt.
      const bare = await pay(server, undefined);
      const notTaken = (id: string) =>
        lines
          .filter((line) => line.includes(`event ${id} `) && line.includes("not taken"))
          .map((l) => l.replace(/^.*not taken: /, ""));
      await expect
        .poll(() => notTaken(paid.id))
        .toEqual([
          "condition 1 does not hold (to_number(payload.data.object.metdata.order_id) is null; payload.data.object has no metdata: did you mean metadata?)\n",
        ]);
      await expect
        .poll(() => notTaken(bare.id))
        .toContain(
          "condition 1 does not hold (payload.data.object.metadata.order_id is null; payload.data.object.metadata has no order_id)\n",
        );
    } finally {
      await server.close();
    }
  });

  test("a type written with a blank copied along takes the events of that type, as the listener keeps types without one", async () => {
    const blank = { ...PAID, name: "paid-blank", when: { ...PAID.when, type: "payment_intent.succeeded " } };
    const server = await serve([blank]);
    try {
      const event = await pay(server, String(O.pending1999));
      expect((await runsOf(event.id)).map((run) => [run.automation, run.status])).toEqual([["paid-blank", "done"]]);
    } finally {
      await server.close();
    }
  });

  test("automations_runs on an event another automation ran on says why the one that did not run did not", async () => {
    const misspelt = { ...PAID, name: "paid-typo", when: { ...PAID.when, type: "payment_intent.succeded" } };
    const server = await serve([PAID, misspelt]);
    try {
      const event = await pay(server, String(O.pending1999));
      await runsOf(event.id);
      const agent = await startWaiter(env([PAID, misspelt]));
      try {
        // The event's own type beside the one configured shows the misspelling without another call.
        const why =
          'paid-typo does not take it: its type is "payment_intent.succeeded", not "payment_intent.succeded".';
        const all = await agent.call("automations_runs", { event_id: event.id });
        expect(all.structuredContent).toMatchObject({
          runs: [{ automation: "stripe-paid", status: "done" }],
          note: why,
        });
        expect(text(all).endsWith(`\n${why}`)).toBe(true);
        const asked = await agent.call("automations_runs", { event_id: event.id, automation: "paid-typo" });
        expect(asked.structuredContent).toEqual({ runs: [], note: why });
        expect(text(asked)).toBe(`No runs on it. ${why}`);
        // The one that ran is not explained.
        const ran = await agent.call("automations_runs", { event_id: event.id, automation: "stripe-paid" });
        expect(ran.structuredContent).not.toHaveProperty("note");
      } finally {
        await agent.close();
      }
    } finally {
      await server.close();
    }
  });

  test("an event the running automations have not reached yet is said to wait for them, not for a waiter to start", async () => {
    const server = await serve([TELL]);
    const agent = await startWaiter(env([TELL]));
    const release = holdAnswers();
    try {
      // The message for the first payment holds the automations on it.
      const first = await pay(server, undefined);
      await runsOf(first.id, false);
      const second = await pay(server, undefined);
      expect((await agent.call("automations_runs", { event_id: second.id })).structuredContent).toEqual({
        runs: [],
        note: "tell takes it and has not run on it yet: the automations take events in the order stored, and the waiter that runs them now has not reached this one.",
      });
      release();
      expect((await runsOf(second.id)).map((run) => run.status)).toEqual(["done"]);
    } finally {
      release();
      await agent.close();
      await server.close();
    }
  });

  test("an automation the waiter running the automations is configured without is said to be, not to have its run to come", async () => {
    // Two replicas on one store, the second started with an automation the first, which runs them, lacks.
    const running = await serve([TELL]);
    const replica = await serve([TELL, PAID]);
    const agent = await startWaiter(env([TELL, PAID]));
    try {
      const event = await pay(replica, String(O.pending1999));
      await expect
        .poll(async () => (await agent.call("automations_runs", { event_id: event.id })).structuredContent)
        .toEqual({
          runs: [],
          note: `tell does not take it: condition 1 does not hold (payload.data.object.metadata.order_id is "${O.pending1999}"). stripe-paid takes it but will not run on it: the automations passed it, and no waiter that ran them on this store was configured with stripe-paid; give every waiter on it the same automations. What the automation does is left to be done by hand.`,
        });
    } finally {
      await agent.close();
      await replica.close();
      await running.close();
    }
  });

  test("a sender's delivery id whose event retention dropped is said to be that event's, gone, not an id never stored", async () => {
    const retention = { WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxEvents: 1 }) };
    const server = await serve([TELL], retention);
    const agent = await startWaiter(env([TELL], retention));
    try {
      const dropped = await pay(server, String(O.pending1999), "evt_dropped_early");
      await pay(server, String(O.pending1999));
      await expect
        .poll(async () => text(await agent.call("automations_runs", { event_id: "evt_dropped_early" })))
        .toBe(
          `No runs on it. No event "evt_dropped_early" is stored. "evt_dropped_early" is the sender's delivery id of event ${dropped.id} (source "stripe"), which retention has dropped: gone from waiter, its payload too. Runs go with their event: that none is listed does not mean no automation ran on it.`,
        );
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("automations_runs of an automation that never ran says where to ask why, rather than only that none match", async () => {
    const misspelt = { ...PAID, name: "paid-typo", when: { ...PAID.when, type: "payment_intent.succeded" } };
    const server = await serve([misspelt]);
    const agent = await startWaiter(env([misspelt]));
    try {
      await pay(server, String(O.pending1999));
      const note =
        'paid-typo has not run on any event kept: automations_runs with the event_id of one it should have taken says why it did not (events_list with source "stripe" gives their ids).';
      const none = await agent.call("automations_runs", { automation: "paid-typo" });
      expect(none.structuredContent).toEqual({ runs: [], note });
      expect(text(none)).toBe(`No runs match. ${note}`);
      // Runs of one state leave out the others: none failed says nothing of whether it ran.
      expect(text(await agent.call("automations_runs", { automation: "paid-typo", status: "failed" }))).toBe(
        "No runs match.",
      );
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("an automation on a prefix of types is told not to take an event whose type does not begin with it", async () => {
    const server = await serve([WATCH]);
    const agent = await startWaiter(env([WATCH]));
    try {
      const event = await sendStripe(server, "evt_refund_watched", "charge.refunded", { id: "ch_1", object: "charge" });
      expect((await agent.call("automations_runs", { event_id: event.id })).structuredContent).toEqual({
        runs: [],
        note: 'watch-payments does not take it: its type "charge.refunded" does not begin with "payment_intent.".',
      });
    } finally {
      await agent.close();
      await server.close();
    }
  });

  test("a condition that fails on the payload is named, in the log's warning and in automations_runs' note", async () => {
    const lines: string[] = [];
    const tagged = {
      ...PAID,
      name: "tagged",
      when: {
        ...PAID.when,
        where: [...PAID.when.where, { path: "length(payload.data.object.metadata.tags)", gt: 0 }],
      },
    };
    const server = await serve([tagged], {}, lines, "warning");
    try {
      const event = await pay(server, String(O.pending1999));
      const why =
        "condition 2 (length(payload.data.object.metadata.tags)) could not be evaluated: Invalid type: length() expected argument 1 to be type (string | array | object) but received type null instead";
      await expect
        .poll(() => lines.filter((line) => line.includes(" not taken")).map((line) => line.replace(/^\S+ /, "")))
        .toEqual([`warning [waiter] automation tagged: event ${event.id} not taken: ${why}\n`]);
      const agent = await startWaiter(env([tagged]));
      try {
        const runs = await agent.call("automations_runs", { event_id: event.id });
        expect(runs.structuredContent).toEqual({ runs: [], note: `tagged does not take it: ${why}.` });
      } finally {
        await agent.close();
      }
    } finally {
      await server.close();
    }
  });

  test("template syntax and paths in a payload are only text", async () => {
    const server = await serve([PAID]);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, "{{event.id}} payload.data || `7084`");
      const [run] = await runsOf(event.id);
      // The order id is not a number: the shop step refuses it, and nothing after it runs.
      expect(run).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/^step 1 \(eshop_order_mark_paid\)/),
      });
      expect(telegram.delivered.length).toBe(sent);
      const writes = woo.shop.writes.filter((w) => w.method !== "GET");
      expect(writes).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe.runIf(postgresAvailable || postgresRequired)("waiter serve on a PostgreSQL store", () => {
  let database: RunningPostgres;
  beforeAll(async () => {
    database = await startPostgres();
  }, 30_000);
  afterAll(async () => {
    await database?.stop();
  });
  /** The store as another replica sees it, to read the runs. */
  const openReader = () =>
    PostgresEventStore.open({ url: database.url, retention: { maxEvents: 1000, maxBytes: 1e8, maxAgeDays: 30 } });

  test("the replica holding the lease runs a payment delivered to the other, once", async () => {
    const url = database.url;
    const first = await serve([PAID], { WAITER_DATABASE_URL: url });
    const second = await serve([PAID], { WAITER_DATABASE_URL: url });
    const reader = await openReader();
    try {
      const sent = telegram.delivered.length;
      // Delivered to the second, twice (a retry through the other replica): one event, one run.
      const paid = await pay(second, String(O.pending1999), "evt_on_replicas");
      expect(await pay(first, String(O.pending1999), "evt_on_replicas")).toEqual({ id: paid.id, duplicate: true });
      await expect
        .poll(async () => (await reader.runs.list({ eventId: paid.id, limit: 5 })).map((r) => r.status), {
          timeout: 10_000,
        })
        .toEqual(["done"]);
      expect(woo.shop.order(O.pending1999)).toMatchObject({
        status: "processing",
        transaction_id: "pi_evt_on_replicas",
      });
      expect(telegram.delivered.length - sent).toBe(1);
      expect((await reader.get(paid.id))?.ackedAt).not.toBeNull();
    } finally {
      await reader.close();
      await second.close();
      await first.close();
    }
  });

  const TELL = {
    name: "tell",
    when: { source: "stripe", type: "payment_intent.succeeded" },
    do: [{ notify: "team", text: "Paid: {{payload.id}}" }, { ack: true }],
  };

  test("an ack step kept waiting by another session's lock is logged in words for whoever runs waiter, not told to tell them", async () => {
    const lines: string[] = [];
    const server = await serve([TELL], { WAITER_DATABASE_URL: database.url }, lines);
    const answer = holdAnswers();
    const admin = new pg.Client(database.url);
    await admin.connect();
    try {
      const asked = telegram.requests.length;
      const paid = await pay(server, undefined, "evt_ack_locked");
      await expect.poll(() => telegram.requests.length, { timeout: 5_000 }).toBeGreaterThan(asked);
      // A transaction left open in psql holds the event's row, which the acknowledgement waits for.
      await admin.query("BEGIN");
      await admin.query("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", [paid.id]);
      answer();
      await expect
        .poll(() => lines.find((line) => line.includes(paid.id) && /events_ack.*\) failed/.test(line)), {
          timeout: 10_000,
        })
        .toMatch(
          /lock another session holds on its tables .* \(pg_locks shows its session, pg_stat_activity what it does\)/,
        );
      expect(lines.filter((line) => line.includes(paid.id)).join("")).not.toMatch(/tell whoever runs waiter/);
    } finally {
      answer();
      await admin.query("ROLLBACK").catch(() => {});
      await admin.end();
      await server.close();
    }
  }, 30_000);

  test("automations_runs says whether a failed run's onFailure message reached its channel, and why not", async () => {
    await onFailureOutcomes({ WAITER_DATABASE_URL: database.url });
  }, 30_000);

  test("a replica that lost the automations' lease runs none until it holds it again", async () => {
    const lines: string[] = [];
    const server = await serve(
      [TELL],
      { WAITER_DATABASE_URL: database.url, WAITER_AUTOMATION_LEASE_SECONDS: "3" },
      lines,
    );
    const reader = await openReader();
    try {
      // Another replica took over while this one could not renew (its store away for longer than the lease).
      expect((await reader.runs.lease("elsewhere", clock.now() + 10_000, 60_000)).holder).toBe("elsewhere");
      await expect.poll(() => lines.join("")).toMatch(/another waiter took over their lease on this store/);
      const meanwhile = await pay(server, undefined, "evt_lease_lost");
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await reader.runs.list({ eventId: meanwhile.id, limit: 5 })).toEqual([]);
      // The other lets go: this one takes the lease again and goes on with what arrived.
      await reader.runs.release("elsewhere");
      await expect
        .poll(async () => (await reader.runs.list({ eventId: meanwhile.id, limit: 5 }))[0]?.status, {
          timeout: 10_000,
        })
        .toBe("done");
    } finally {
      await reader.close();
      await server.close();
    }
  }, 30_000);

  test("a stop while the store does not answer gives the automations 2 s, not the query timeout", async () => {
    // A schema of its own: the lease this stop cannot let go of would hold the other tests' runs.
    const admin = new pg.Client(database.url);
    await admin.connect();
    await admin.query("CREATE SCHEMA stuck_stop");
    await admin.end();
    const proxy = await silentProxy(`${database.url}?options=${encodeURIComponent("-c search_path=stuck_stop")}`);
    const said: string[] = [];
    const config = loadConfig({ env: env([TELL], { WAITER_DATABASE_URL: proxy.url }) }, toolsets());
    const server = await startServe(config, new Log("info", (line) => said.push(line)));
    try {
      // This one holds the lease, which a stop lets go of.
      await expect.poll(() => said.join("")).toMatch(/1 automation running: tell/);
      proxy.silence();
      const started = performance.now();
      await expect(server.close()).rejects.toBeInstanceOf(LeftUndone);
      // 2 s for the automations, 2 s for the sessions' last use, 1 s for the store.
      expect(performance.now() - started).toBeLessThan(9_000);
      expect(said.join("")).toMatch(
        /automations stopped without the event store's answer in 2 s: .* lease runs out \(30 s\)/,
      );
    } finally {
      await proxy.close();
    }
  }, 30_000);

  test("the run is taken up again once the store is back, not left running for good", async () => {
    const lines: string[] = [];
    const server = await serve([TELL], { WAITER_DATABASE_URL: database.url }, lines);
    const answer = holdAnswers();
    try {
      const asked = telegram.requests.length;
      const during = await pay(server, undefined, "evt_store_outage");
      // Telegram has the message; the store goes away before its answer is recorded.
      await expect.poll(() => telegram.requests.length, { timeout: 5_000 }).toBeGreaterThan(asked);
      await database.halt();
      // Telegram answers while the store is away: the log says what was done, which the run cannot record.
      answer();
      await expect.poll(() => lines.join("")).toMatch(new RegExp(`notify_send done for .*\\(event ${during.id}\\)`));
      await database.resume();
      // The next commit takes the cut run up again, then goes on with what arrived.
      const after = await pay(server, undefined, "evt_after_outage");
      const reader = await openReader();
      try {
        const runOf = async (eventId: string) => (await reader.runs.list({ eventId, limit: 5 }))[0];
        await expect.poll(async () => (await runOf(after.id))?.status, { timeout: 15_000 }).toBe("done");
        const cut = await runOf(during.id);
        // Telegram's answer came while the store was away: the message went out, and is recorded so, once.
        expect(cut).toMatchObject({ status: "done" });
        expect(cut?.steps.map((s) => s.status)).toEqual(["done", "done"]);
        expect(telegram.delivered.filter((m) => m.text.includes("evt_store_outage"))).toHaveLength(1);
      } finally {
        await reader.close();
      }
    } finally {
      answer();
      await server.close();
    }
  }, 40_000);

  test("a failure told to its channel while the store was away is not said to be untold once it is back", async () => {
    const unpaid = {
      name: "unpaid",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [{ tool: "eshop_order_mark_paid", args: { id: 999999, transaction_id: "pi_unpaid" } }],
      onFailure: { notify: "team" },
    };
    const lines: string[] = [];
    const config = loadConfig(
      { env: env([unpaid], { WAITER_DATABASE_URL: database.url, WAITER_AUTOMATION_LEASE_SECONDS: "3" }) },
      toolsets(),
    );
    const server = await startServe(config, new Log("info", (line) => lines.push(line)));
    const answer = holdAnswers();
    try {
      const asked = telegram.requests.length;
      const sent = telegram.delivered.length;
      const away = await pay(server, undefined, "evt_told_while_away");
      // Telegram has the notice; the store goes away before its answer is recorded.
      await expect.poll(() => telegram.requests.length, { timeout: 5_000 }).toBeGreaterThan(asked);
      await database.halt();
      try {
        await expect.poll(() => lines.join(""), { timeout: 5_000 }).toMatch(/automations paused/);
        answer();
        await expect
          .poll(() => lines.join(""))
          .toMatch(
            /automation unpaid: run \d+'s failure was told on team; the event store records so once it answers again/,
          );
      } finally {
        await database.resume();
      }
      await expect.poll(() => lines.join(""), { timeout: 5_000 }).toMatch(/automations resume/);
      await expect
        .poll(async () => {
          const reader = await openReader();
          try {
            return (await reader.runs.untold()).length;
          } finally {
            await reader.close();
          }
        })
        .toBe(0);
      expect(telegram.delivered.slice(sent)).toEqual([
        expect.objectContaining({ text: expect.stringMatching(/^waiter: automation unpaid failed/) }),
      ]);
      // Recorded as told, with what Telegram answered, as if the store had been there.
      const reader = await openReader();
      try {
        expect((await reader.runs.list({ eventId: away.id, limit: 5 }))[0]?.noticeOutcome).toEqual({
          status: "told",
          said: `Sent on team to ${CHAT}.`,
        });
      } finally {
        await reader.close();
      }
      expect(lines.filter((line) => /may or may not have reached|failure is not told/.test(line))).toEqual([]);
    } finally {
      answer();
      await server.close();
    }
  }, 30_000);

  test("once the store answers again the log says so, and the automations resume without waiting for an event", async () => {
    const lines: string[] = [];
    const config = loadConfig(
      { env: env([TELL], { WAITER_DATABASE_URL: database.url, WAITER_AUTOMATION_LEASE_SECONDS: "3" }) },
      toolsets(),
    );
    const server = await startServe(config, new Log("info", (line) => lines.push(line)));
    const said = (pattern: RegExp) => lines.filter((line) => pattern.test(line));
    const reader = await openReader();
    const answer = holdAnswers();
    try {
      const asked = telegram.requests.length;
      const cut = await pay(server, undefined, "evt_cut_by_outage");
      await expect.poll(() => telegram.requests.length).toBeGreaterThan(asked);
      await database.halt();
      try {
        for (const id of ["evt_during_outage_1", "evt_during_outage_2"]) {
          const body = JSON.stringify({ id, object: "event", type: "payment_intent.succeeded", data: { object: {} } });
          const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET });
          const refused = await request(`${server.url}/webhooks/stripe`, {
            method: "POST",
            body,
            headers: { "content-type": "application/json", "stripe-signature": signature },
          });
          await refused.body.dump();
          expect(refused.statusCode).toBe(503);
        }
        // A stranger's forgeries, refused and counted: the count fails as the store does.
        for (let forged = 0; forged < 3; forged++) {
          const refused = await request(`${server.url}/webhooks/stripe`, {
            method: "POST",
            body: "{}",
            headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=00" },
          });
          await refused.body.dump();
          expect(refused.statusCode).toBe(401);
        }
        await expect.poll(() => said(/automations paused/)).toHaveLength(1);
        // Telegram's answer comes while the store is away: the run cannot record it.
        answer();
        await expect.poll(() => lines.join("")).toMatch(new RegExp(`notify_send done for .*\\(event ${cut.id}\\)`));
        // The outage lasts a minute and a half.
        setClock(clock.now() + 90_000);
      } finally {
        await database.resume();
      }
      // No event arrives: the renewed lease is what takes the cut run up again.
      await expect.poll(() => said(/automations resume: the event store answers again/)).toHaveLength(1);
      // The message went out while the store was away: the run is recorded as it went.
      await expect.poll(async () => (await reader.runs.list({ eventId: cut.id, limit: 5 }))[0]?.status).toBe("done");
      await pay(server, undefined, "evt_after_logged_outage");
      // Two deliveries not stored, and their counts and three forgeries' not written: a line a
      // minute for each kind, so that the requests not counted hide no delivery, and the two
      // deliveries, not the failed counts, are what the store's return names.
      expect(said(/answers again/)).toEqual([
        expect.stringMatching(
          /automations resume: the event store answers again, after \d+ failed attempts? over \d+ s\n$/,
        ),
        expect.stringMatching(
          /webhook listener: the event store answers again after \d+ s; deliveries it did not store meanwhile: 2 from stripe\n$/,
        ),
      ]);
      expect(said(/not stored, answered 503/)).toEqual([
        expect.stringMatching(/warning .*webhook stripe delivery "evt_during_outage_1" not stored, answered 503/),
      ]);
      // Each says the outage as long as the clock had it from its first failure's line to its own,
      // the minute and a half with the little a loaded machine took besides.
      const at = (line: string | undefined) => Date.parse(line?.slice(0, 24) ?? "");
      for (const [failed, back] of [
        [/automations paused/, /automations resume/],
        [/not stored, answered 503/, /webhook listener: the event store answers again/],
      ] as const) {
        const [first, again] = [said(failed)[0], said(back)[0]];
        const seconds = Number(
          / over (\d+) s|again after (\d+) s/
            .exec(again ?? "")
            ?.slice(1)
            .find(Boolean),
        );
        expect(seconds).toBeGreaterThanOrEqual(90);
        expect(Math.abs(seconds - (at(again) - at(first)) / 1000)).toBeLessThanOrEqual(1);
      }
      expect(said(/not counted/)).toHaveLength(1);
    } finally {
      answer();
      setClock();
      await reader.close();
      await server.close();
    }
  }, 30_000);
});

test("a Comgate payment, confirmed with Comgate's API, marks its order paid by the order number", async () => {
  const comgate = await startComgate("498621", "comgate-secret");
  const config = loadConfig(
    {
      env: env(
        [
          {
            name: "comgate-paid",
            when: { source: "comgate", type: "payment.paid" },
            do: [
              {
                tool: "eshop_order_mark_paid",
                args: { id: { path: "to_number(payload.refId)" }, transaction_id: { path: "payload.transId" } },
              },
              { ack: true },
            ],
          },
        ],
        {
          WAITER_WEBHOOKS_SOURCES: JSON.stringify({
            comgate: { scheme: "comgate", merchant: "498621", secretEnv: "COMGATE_SECRET", apiUrl: comgate.origin },
          }),
          COMGATE_SECRET: "comgate-secret",
        },
      ),
    },
    toolsets(),
  );
  const server = await startServe(config, new Log("error", () => {}));
  try {
    const paid = {
      transId: "AB12-CD34-EF56",
      status: "PAID" as const,
      price: "1999",
      curr: "EUR",
      label: "Order",
      refId: String(O.pending1999),
      email: "guest@example.com",
      method: "CARD_CZ_CSOB_2",
      test: "false" as const,
    };
    comgate.payments.set(paid.transId, paid);
    const response = await request(`${server.url}/webhooks/comgate`, {
      method: "POST",
      body: notification("498621", "comgate-secret", paid),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    const event = (await response.body.json()) as { id: string };
    expect(response.statusCode).toBe(200);
    const [run] = await runsOf(event.id);
    expect(run).toMatchObject({ automation: "comgate-paid", status: "done" });
    expect(woo.shop.order(O.pending1999)).toMatchObject({ status: "processing", transaction_id: "AB12-CD34-EF56" });
  } finally {
    await server.close();
    await comgate.close();
  }
});

test("a WooCommerce order's names, which WooCommerce writes as HTML, read in a notification as the shop shows them", async () => {
  const secret = "woo-webhook-secret-for-tests";
  const newOrder = {
    name: "new-order",
    when: { source: "shop", type: "order.created" },
    do: [{ notify: "team", text: "New order {{payload.number}}: {{payload.line_items.1.name}}" }],
  };
  const server = await serve([newOrder], {
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_HOOK_SECRET" } }),
    WOO_HOOK_SECRET: secret,
  });
  try {
    // A webhook's order is the REST API's: the sample's second item is "Ship Your Idea &ndash; Color: Black, Size: M Test".
    const body = readFileSync(new URL("./fakes/samples/woocommerce-v3-order-retrieve.json", import.meta.url));
    const sent = telegram.delivered.length;
    const response = await request(`${server.url}/webhooks/shop`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-wc-webhook-signature": createHmac("sha256", secret).update(body).digest("base64"),
        "x-wc-webhook-id": "5",
        "x-wc-webhook-topic": "order.created",
      },
    });
    expect(response.statusCode).toBe(200);
    const event = (await response.body.json()) as { id: string };
    expect((await runsOf(event.id))[0]).toMatchObject({ status: "done" });
    expect(telegram.delivered.slice(sent)).toEqual([
      expect.objectContaining({ text: "New order “727”: “Ship Your Idea – Color: Black, Size: M Test”" }),
    ]);
  } finally {
    await server.close();
  }
});

test("a condition comparing a number the payload holds as text says how to read it as one", async () => {
  const secret = "woo-webhook-secret-for-tests";
  const lines: string[] = [];
  const tell = [{ notify: "team", text: "Big order {{payload.number}}" }];
  const big = { name: "big-order", when: { source: "shop", where: [{ path: "payload.total", gt: 20 }] }, do: tell };
  const byId = { name: "by-id", when: { source: "shop", where: [{ path: "payload.id", equals: "727" }] }, do: tell };
  const read = {
    name: "read",
    when: { source: "shop", where: [{ path: "to_number(payload.total)", gt: 20 }] },
    do: tell,
  };
  const server = await serve(
    [big, byId, read],
    {
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_HOOK_SECRET" } }),
      WOO_HOOK_SECRET: secret,
    },
    lines,
    "debug",
  );
  try {
    // WooCommerce writes an order's total as text ("29.35") and its id as a number (727).
    const body = readFileSync(new URL("./fakes/samples/woocommerce-v3-order-retrieve.json", import.meta.url));
    const response = await request(`${server.url}/webhooks/shop`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-wc-webhook-signature": createHmac("sha256", secret).update(body).digest("base64"),
        "x-wc-webhook-id": "5",
        "x-wc-webhook-topic": "order.created",
      },
    });
    const event = (await response.body.json()) as { id: string };
    expect((await runsOf(event.id)).map((run) => run.automation)).toEqual(["read"]);
    await expect
      .poll(() => lines.filter((line) => line.includes(" not taken")).map((line) => line.replace(/^.*not taken: /, "")))
      .toEqual([
        'condition 1 does not hold (payload.total is "29.35", a number as text: to_number(payload.total) reads it as a number)\n',
        "condition 1 does not hold (payload.id is 727, a number: write the value to compare without quotes)\n",
      ]);
  } finally {
    await server.close();
  }
});

test("a number past what JavaScript holds exactly, as Shopify's order ids, is inserted with every digit its sender wrote", async () => {
  const secret = "shopify-webhook-secret-for-tests";
  const paid = {
    name: "shopify-paid",
    when: { source: "shop", type: "orders/paid" },
    do: [
      {
        notify: "team",
        text: "Paid: https://admin.shopify.com/store/jsmith/orders/{{payload.id}} ({{payload.line_items.length}} item, {{payload.current_subtotal_price}})",
      },
    ],
  };
  const server = await serve([paid], {
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "shopify", secretEnv: "SHOPIFY_HOOK_SECRET" } }),
    SHOPIFY_HOOK_SECRET: secret,
  });
  try {
    const body = readFileSync(new URL("./fakes/samples/shopify-webhook-orders-paid-TRIMMED.json", import.meta.url));
    const sent = telegram.delivered.length;
    const response = await request(`${server.url}/webhooks/shop`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
        "x-shopify-topic": "orders/paid",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      },
    });
    expect(response.statusCode).toBe(200);
    const event = (await response.body.json()) as { id: string };
    expect((await runsOf(event.id))[0]).toMatchObject({ status: "done" });
    expect(telegram.delivered.slice(sent)).toEqual([
      expect.objectContaining({
        text: "Paid: https://admin.shopify.com/store/jsmith/orders/820982911946154508 (1 item, “398.00”)",
      }),
    ]);
  } finally {
    await server.close();
  }
});

test("an amount its sender writes as a number with decimals, 1299.50, is inserted as written, not as 1299.5", async () => {
  const invoice = {
    name: "invoice-paid",
    when: { source: "erp", type: "invoice.paid" },
    do: [
      {
        notify: "team",
        text: "Invoice {{payload.number}} paid: {{payload.total}} {{payload.currency}}, {{payload.lines}}",
      },
    ],
  };
  const server = await serve([invoice], {
    ...ERP_ENV,
  });
  try {
    const body = '{"number":2026042,"total":1299.50,"currency":"CZK","lines":[{"price":100.00},{"rate":1.5E2}]}';
    const sent = telegram.delivered.length;
    const response = await request(`${server.url}/webhooks/erp`, {
      method: "POST",
      body,
      headers: erpHeaders(body, "inv-2026042", "invoice.paid"),
    });
    expect(response.statusCode).toBe(200);
    const event = (await response.body.json()) as { id: string };
    expect((await runsOf(event.id))[0]).toMatchObject({ status: "done" });
    expect(telegram.delivered.slice(sent)).toEqual([
      expect.objectContaining({
        text: 'Invoice 2026042 paid: 1299.50 “CZK”, “[{"price":100.00},{"rate":1.5E2}]”',
      }),
    ]);
  } finally {
    await server.close();
  }
});
