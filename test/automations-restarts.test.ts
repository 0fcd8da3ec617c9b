import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { type RunningServe, startServe } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { SqliteEventStore } from "../src/events/sqlite/store.js";
import type { RunRecord, StepStatus } from "../src/events/store.js";
import { Log } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import {
  CHAT,
  dataDir,
  env,
  nextSequence,
  O,
  PAID,
  paidNotTold,
  paidWhileTelegramWaits,
  pay,
  runsOf,
  serve,
  store,
  TELL,
  telegram,
  toldAndLogged,
  useFakes,
  woo,
} from "./automations-harness.js";
import { tooManyRequests } from "./fakes/telegram.js";
import { SERVING, startNode } from "./spawn.js";
import { CLI } from "./stdio.js";

useFakes();

/**
 * waiter serve as `serve` starts it, its log lines from info up going to `lines`, with the
 * automations' lease `leaseSeconds` long when given: shorter than the 3 s WAITER_AUTOMATION_LEASE_SECONDS
 * takes at least, for a test that waits on its renewals (each third of it) or on its running out.
 */
async function serveLeased(
  automations: object[],
  extra: Record<string, string> = {},
  lines: string[] = [],
  leaseSeconds?: number,
): Promise<RunningServe> {
  const config = loadConfig({ env: env(automations, extra) }, toolsets());
  const core = { ...config.core, automationLeaseSeconds: leaseSeconds ?? config.core.automationLeaseSeconds };
  return startServe({ ...config, core }, new Log("info", (line) => lines.push(line)));
}

describe("a run a stopped server left", () => {
  /**
   * A payment stored while no automation ran, and a run of PAID begun on it, as a killed process
   * (or a store that failed) leaves it: each step's status, and the error of one that failed; with
   * the payment's Stripe event id (`delivery`).
   */
  async function leftBehind(steps: [number, StepStatus, string?][], dryRun = false) {
    const quiet = await serve([]);
    const delivery = `evt_left_${nextSequence()}`;
    const event = await pay(quiet, String(O.onHold), delivery);
    await quiet.close();
    const s = store();
    const run = (await s.runs.begin("stripe-paid", event.id, dryRun, clock.now())) as number;
    const tools = ["eshop_order_mark_paid", "notify_send", "events_ack"];
    for (const [step, status, error] of steps)
      await s.runs.step(
        run,
        step,
        status,
        JSON.stringify({ tool: tools[step], ...(error ? { error } : {}) }),
        clock.now(),
      );
    await s.close();
    return { ...event, delivery };
  }

  test("goes on from the step it had reached: the shop is not called again, the team is told once", async () => {
    const event = await leftBehind([[0, "done"]]);
    const sent = telegram.delivered.length;
    const server = await serve([PAID]);
    try {
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      expect(woo.shop.writes.filter((w) => w.method !== "GET")).toEqual([]);
      expect(telegram.delivered.length - sent).toBe(1);
    } finally {
      await server.close();
    }
  });

  test("a notification Telegram refused (429) while waiter stopped is sent at the next start, once", async () => {
    const sent = telegram.delivered.length;
    const event = await paidWhileTelegramWaits();
    expect(telegram.delivered.length).toBe(sent);
    // The minute Telegram asked for is over by the next start.
    setClock(clock.now() + 61_000);
    const second = await serve([PAID]);
    try {
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      expect(telegram.delivered.length - sent).toBe(1);
      expect(woo.shop.writes.filter((w) => w.method === "PUT")).toHaveLength(1);
    } finally {
      await second.close();
      setClock(clock.now() - 61_000);
    }
  });

  test("whose automation's steps were reordered since it began is marked failed and told, not gone on with by place", async () => {
    const sent = telegram.delivered.length;
    const delivery = `evt_reordered_${nextSequence()}`;
    const event = await paidWhileTelegramWaits(delivery);
    setClock(clock.now() + 61_000);
    // The team is now told before the order is marked paid: gone on with at step 2, the shop's now, the
    // message would never be sent.
    const [markPaid, tellTeam, ack] = PAID.do;
    const lines: string[] = [];
    const second = await serve([{ ...PAID, do: [tellTeam, markPaid, ack], onFailure: { notify: "team" } }], {}, lines);
    try {
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({
        status: "failed",
        error:
          "the automation's steps changed since the run began (step 1 was eshop_order_mark_paid, and is now notify_send)",
      });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "refused"]);
      expect(woo.shop.writes.filter((w) => w.method === "PUT")).toHaveLength(1);
      // What the run did is said, not what the automation's steps now are.
      await toldAndLogged(
        sent,
        `run ${run?.id} of automation stripe-paid on the delivery “${delivery}” from stripe (“payment_intent.succeeded”, waiter's event ${event.id}) failed: the automation's steps changed since the run began (step 1 was eshop_order_mark_paid, and is now notify_send), so it is not gone on with. ${paidNotTold(delivery)}`,
        lines,
        event.id,
      );
    } finally {
      await second.close();
      setClock(clock.now() - 61_000);
    }
  });

  test.each([
    [
      "made a dry run",
      { dryRun: true },
      "the automation was made a dry run since the run began",
      " Step 3 (ack) was not run; the event is not acknowledged.",
    ],
    [
      "given another text",
      { do: [PAID.do[0], { notify: "team", text: "Paid: {{payload.data.object.id}}" }, PAID.do[2]] },
      "the automation's steps changed since the run began (step 2's arguments changed)",
      " No other step of it was run.",
    ],
    [
      "narrowed to another type",
      { when: { ...PAID.when, type: "payment_intent.payment_failed" } },
      "the automation no longer takes this event (its type is not payment_intent.payment_failed)",
      " Step 3 (ack) was not run; the event is not acknowledged.",
    ],
  ])("whose automation was %s while a step waited is marked failed and told", async (_, edit, why, rest) => {
    const sent = telegram.delivered.length;
    const event = await paidWhileTelegramWaits();
    setClock(clock.now() + 61_000);
    const second = await serve([{ ...PAID, ...edit, onFailure: { notify: "team" } }]);
    try {
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "failed", error: why });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "refused"]);
      await expect.poll(() => telegram.delivered.length - sent).toBe(1);
      const told = telegram.delivered.at(-1)?.text;
      expect(told).toMatch(new RegExp(`^waiter: run ${run?.id} of automation stripe-paid on the delivery `));
      expect(told).toContain(`failed: ${why}, so it is not gone on with.`);
      expect(told?.endsWith(rest)).toBe(true);
    } finally {
      await second.close();
      setClock(clock.now() - 61_000);
    }
  });

  test("whose step an older waiter recorded, without the step as configured, goes on", async () => {
    const sent = telegram.delivered.length;
    const event = await paidWhileTelegramWaits();
    const s = store();
    try {
      const [run] = await s.runs.list({ eventId: event.id, limit: 1 });
      const step = run?.steps[1] as RunRecord["steps"][number];
      const { written, ...older } = JSON.parse(step.detail) as { written: unknown };
      expect(written).toBeDefined();
      await s.runs.step(run?.id as number, 1, step.status, JSON.stringify(older), clock.now());
    } finally {
      await s.close();
    }
    setClock(clock.now() + 61_000);
    const second = await serve([PAID]);
    try {
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("done");
      expect(telegram.delivered.length - sent).toBe(1);
    } finally {
      await second.close();
      setClock(clock.now() - 61_000);
    }
  });

  test("a notification Telegram asked to wait for is not sent before the wait is over, a restart or not", async () => {
    const sent = telegram.delivered.length;
    const first = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "120", WAITER_TOOL_TIMEOUT: "1" });
    telegram.queue.push(tooManyRequests(2));
    const event = await pay(first, String(O.pendingStockManaged));
    await expect
      .poll(async () => (await runsOf(event.id, false))[0]?.steps.map((s) => s.status))
      .toEqual(["done", "refused"]);
    const asked = clock.now();
    await first.close();
    const second = await serve([PAID]);
    try {
      // Taken up at the start, and left to wait out what is left of Telegram's two seconds.
      expect((await runsOf(event.id, false))[0]?.steps.map((s) => s.status)).toEqual(["done", "refused"]);
      expect(telegram.delivered.length).toBe(sent);
      await expect
        .poll(async () => (await runsOf(event.id))[0]?.steps.map((s) => s.status), { timeout: 5_000 })
        .toEqual(["done", "done", "done"]);
      expect(telegram.delivered.length - sent).toBe(1);
      expect(clock.now() - asked).toBeGreaterThanOrEqual(1_500);
    } finally {
      await second.close();
    }
  });

  test("a wait Telegram asks for past the retry time fails the step, saying until when Telegram asked to wait", async () => {
    const sent = telegram.delivered.length;
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "120" });
    try {
      telegram.queue.push(tooManyRequests(3600));
      const before = clock.now();
      const event = await pay(server, String(O.pendingStockManaged));
      await expect.poll(async () => (await runsOf(event.id, false))[0]?.status).toBe("failed");
      const after = clock.now();
      const [run] = await runsOf(event.id);
      const said = run?.error?.match(
        /^step 2 \(notify_send\): .* did not take the message \(429: Too Many Requests: retry after 3600\)\. waiter tried it once; it asked not to be tried again before (\S+), after the retry time \(WAITER_AUTOMATION_RETRY_SECONDS, 120 s\), so it is not tried again\.$/,
      );
      const until = Date.parse(said?.[1] ?? "");
      expect(until).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(until).toBeLessThanOrEqual(after + 3_600_000);
      expect(telegram.delivered.length).toBe(sent);
    } finally {
      await server.close();
    }
  });

  test("a notification stopped while notify_send itself waits out Telegram's 429 is sent at the next start, once", async () => {
    const sent = telegram.delivered.length;
    // Five seconds fit in a call: notify_send waits them out itself.
    const lines: string[] = [];
    const first = await serve([PAID], {}, lines);
    telegram.queue.push(tooManyRequests(5));
    const event = await pay(first, String(O.pendingStockManaged));
    await expect.poll(() => lines.join("")).toContain(`asked for 5 s without messages to chat ${CHAT} (429)`);
    await first.close();
    expect((await runsOf(event.id, false))[0]?.steps.map((step) => step.status)).toEqual(["done", "refused"]);
    const second = await serve([PAID]);
    try {
      const [run] = await runsOf(event.id);
      expect(run?.steps.map((step) => step.status)).toEqual(["done", "done", "done"]);
      expect(telegram.delivered.length - sent).toBe(1);
    } finally {
      await second.close();
    }
  });

  const failing = { ...PAID, onFailure: { notify: "team" } };
  test.each([
    ["", failing],
    [", its automation renamed meanwhile,", { ...failing, name: "stripe-paid-v2", onFailure: undefined }],
  ])(
    "a failure whose telling Telegram refused (429) while waiter stopped is told%s at the next start, once",
    async (_, next) => {
      const sent = telegram.delivered.length;
      const lines: string[] = [];
      const first = await serve([failing], { WAITER_AUTOMATION_RETRY_SECONDS: "120" }, lines);
      telegram.queue.push(tooManyRequests(60));
      const event = await pay(first, "999999", `evt_untold_${nextSequence()}`);
      // The run failed, and telling it waits out the minute Telegram asked for.
      await expect
        .poll(() => lines.some((line) => line.includes("telling its failure: notify_send failed")))
        .toBe(true);
      await first.close();
      expect(telegram.delivered.length).toBe(sent);
      expect(lines.filter((line) => line.includes("its failure"))).toEqual([
        expect.stringMatching(/ info .* automation stripe-paid, telling its failure: notify_send failed .* 60 s\n$/),
        expect.stringMatching(
          / info .* automation stripe-paid: its failure is told at the next start: waiter is stopping\n$/,
        ),
      ]);
      const second = await serve([next]);
      try {
        await expect
          .poll(() => telegram.delivered.slice(sent))
          .toEqual([
            expect.objectContaining({
              text: expect.stringMatching(
                new RegExp(
                  `^waiter: automation stripe-paid failed on the delivery “evt_untold_\\d+” .*waiter's event ${event.id}\\) at step 1 `,
                ),
              ),
            }),
          ]);
        // Told: no start owes it any more.
        await expect.poll(async () => (await runsOf(event.id))[0]?.notice).toBeNull();
      } finally {
        await second.close();
      }
    },
  );

  test("a failure whose telling waited when waiter stopped, its automation removed with that channel since, is said in the log as not told", async () => {
    const sent = telegram.delivered.length;
    const first = await serve([failing], { WAITER_AUTOMATION_RETRY_SECONDS: "120" }, []);
    telegram.queue.push(tooManyRequests(60));
    const event = await pay(first, "999999", `evt_untold_${nextSequence()}`);
    await expect.poll(async () => (await runsOf(event.id))[0]?.notice?.status).toBe("owed");
    await first.close();
    const lines: string[] = [];
    const markOnly = { name: "mark-paid", when: PAID.when, do: [PAID.do[0]] };
    const second = await serve([markOnly], { WAITER_NOTIFY_CHANNELS: "{}" }, lines);
    try {
      await expect.poll(async () => (await runsOf(event.id))[0]?.notice).toBeNull();
      const [run] = await runsOf(event.id);
      expect(lines.filter((line) => line.includes("automation stripe-paid"))).toEqual([
        expect.stringMatching(
          new RegExp(
            ` warning .* automation stripe-paid: run ${run?.id}'s failure is not told \\(the automation is no longer configured, nor is the channel team it began with\\): waiter: automation stripe-paid failed on the delivery “evt_untold_\\d+” `,
          ),
        ),
      ]);
      expect(telegram.delivered.length).toBe(sent);
    } finally {
      await second.close();
    }
  });

  test("a failure being told when waiter stopped may have reached Telegram: the next start says so and does not tell it again", async () => {
    const sent = telegram.delivered.length;
    const asked = telegram.requests.length;
    const lines: string[] = [];
    const failing = { ...PAID, onFailure: { notify: "team" } };
    const first = await serve([failing], { WAITER_STOP_SECONDS: "1" }, lines);
    let answer = () => {};
    // Telegram takes the message and has not answered yet when waiter stops.
    telegram.held = new Promise((resolve) => {
      answer = resolve;
    });
    let event: { id: string };
    try {
      event = await pay(first, "999999", `evt_maybe_told_${nextSequence()}`);
      await expect.poll(() => telegram.requests.length).toBe(asked + 1);
      await first.close();
    } finally {
      answer();
      telegram.held = undefined;
    }
    expect(lines.filter((line) => line.includes("its failure"))).toEqual([
      expect.stringMatching(
        / info .* automation stripe-paid: telling its failure was cut short \(waiter is stopping\) and may or may not have reached team, so it is not told again\n$/,
      ),
    ]);
    const second = await serve([failing], {}, lines);
    try {
      await expect.poll(async () => (await runsOf(event.id))[0]?.notice).toBeNull();
      const [run] = await runsOf(event.id);
      expect(lines.filter((line) => line.includes(`run ${run?.id}'s failure`))).toEqual([
        expect.stringMatching(
          new RegExp(
            ` warning .* automation stripe-paid: run ${run?.id}'s failure is not told \\(it was being told when waiter stopped or its store failed, and may or may not have reached its channel, so it is not told again\\): waiter: automation stripe-paid failed on the delivery “evt_maybe_told_\\d+” `,
          ),
        ),
      ]);
      expect(telegram.requests.length - asked).toBe(1);
      expect(telegram.delivered.length - sent).toBe(1);
    } finally {
      await second.close();
    }
  });

  test("a refused step is not tried again by a process whose lease another waiter took meanwhile", async () => {
    const sent = telegram.delivered.length;
    // Telegram asks for longer than a call may take: the run, not the call, waits it out.
    const first = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "120", WAITER_TOOL_TIMEOUT: "1" });
    telegram.queue.push(tooManyRequests(2));
    const s = store();
    try {
      const event = await pay(first, String(O.pendingStockManaged));
      await expect
        .poll(async () => (await runsOf(event.id, false))[0]?.steps.map((step) => step.status))
        .toEqual(["done", "refused"]);
      // Another waiter's lease, as if this one had not renewed its own for over 30 s.
      expect((await s.runs.lease("other-host:1:x", clock.now() + 31_000, 30_000)).holder).toBe("other-host:1:x");
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(telegram.delivered.length).toBe(sent);
      expect((await runsOf(event.id, false))[0]?.steps.map((step) => step.status)).toEqual(["done", "refused"]);
    } finally {
      await first.close();
      await s.close();
    }
  });

  test("whose automation was renamed while a step waited is marked failed and told to the onFailure it began with", async () => {
    const sent = telegram.delivered.length;
    const delivery = `evt_renamed_${nextSequence()}`;
    const event = await paidWhileTelegramWaits(delivery, { ...PAID, onFailure: { notify: "team" } });
    setClock(clock.now() + 61_000);
    const lines: string[] = [];
    const second = await serve([{ ...PAID, name: "stripe-paid-v2" }], {}, lines);
    try {
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({
        automation: "stripe-paid",
        status: "failed",
        error: "stopped before it finished, and the automation is no longer configured",
      });
      // The renamed automation does not take the event up again: its old name's run had it.
      expect(await runsOf(event.id, false)).toHaveLength(1);
      expect(woo.shop.writes.filter((w) => w.method === "PUT")).toHaveLength(1);
      await toldAndLogged(
        sent,
        `run ${run?.id} of automation stripe-paid on the delivery “${delivery}” from stripe (“payment_intent.succeeded”, waiter's event ${event.id}) failed: it stopped before it finished, and the automation is no longer configured. ${paidNotTold(delivery)}`,
        lines,
        event.id,
      );
    } finally {
      await second.close();
      setClock(clock.now() - 61_000);
    }
  });

  test.each([
    ["another channel is", ["office"]],
    ["no channel is", []],
  ])(
    "whose automation was removed with the channel it began with (%s configured) is marked failed and said in the log as not told",
    async (_, left) => {
      const channels = JSON.stringify(
        Object.fromEntries(
          left.map((name) => [
            name,
            { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT], baseUrl: telegram.origin },
          ]),
        ),
      );
      const sent = telegram.delivered.length;
      const delivery = `evt_gone_${nextSequence()}`;
      const event = await paidWhileTelegramWaits(delivery, { ...PAID, onFailure: { notify: "team" } });
      setClock(clock.now() + 61_000);
      const lines: string[] = [];
      const markOnly = { name: "mark-paid", when: PAID.when, do: [PAID.do[0]] };
      const second = await serve([markOnly], { WAITER_NOTIFY_CHANNELS: channels }, lines);
      try {
        const [run] = await runsOf(event.id);
        expect(run).toMatchObject({ automation: "stripe-paid", status: "failed", notice: null });
        await expect
          .poll(() => lines.filter((line) => line.includes("stripe-paid")))
          .toEqual([
            expect.stringMatching(
              new RegExp(
                `warning.*run ${run?.id} of automation stripe-paid on the delivery “${delivery}” .*failed: it stopped before it finished, and the automation is no longer configured, nor is the channel team it began with, so no onFailure can be told\\. Step 1 \\(eshop_order_mark_paid, .*was done\\. Step 2 \\(notify_send, .*was not done\\. No other step of it was run\\.\n$`,
              ),
            ),
          ]);
        expect(telegram.delivered.length).toBe(sent);
      } finally {
        await second.close();
        setClock(clock.now() - 61_000);
      }
    },
  );

  test.each([
    ["run", "done", "run"],
    ["dry run", "checked", "checked"],
  ] as const)(
    "whose automation was renamed, a %s begun with no onFailure, is marked failed and said in the log",
    async (kind, was, other) => {
      const event = await leftBehind([[0, kind === "run" ? "done" : "would"]], kind === "dry run");
      const sent = telegram.delivered.length;
      const lines: string[] = [];
      const server = await serve([{ ...PAID, name: "stripe-paid-v2", onFailure: { notify: "team" } }], {}, lines);
      try {
        const [run] = await runsOf(event.id);
        expect(run).toMatchObject({
          automation: "stripe-paid",
          status: "failed",
          error: "stopped before it finished, and the automation is no longer configured",
        });
        expect(lines.filter((line) => line.includes("stripe-paid "))).toEqual([
          expect.stringMatching(
            new RegExp(
              `warning.* ${kind} ${run?.id} of automation stripe-paid on the delivery “${event.delivery}” from stripe .*waiter's event ${event.id}\\) failed: it stopped before it finished, and the automation is no longer configured, so no onFailure can be told\\. Step 1 \\(eshop_order_mark_paid\\) was ${was}\\. No other step of it was ${other}\\.\n$`,
            ),
          ),
        ]);
        expect(telegram.delivered.length).toBe(sent);
      } finally {
        await server.close();
      }
    },
  );

  test.each([
    ["", {}],
    [", its automation made a dry run since", { dryRun: true }],
  ])("whose event retention dropped is marked failed%s, said in the log and told to onFailure", async (_, edit) => {
    const event = await leftBehind([[0, "done"]]);
    const s = new SqliteEventStore(join(dataDir, "events.db"), { maxEvents: 1000, maxBytes: 1e8, maxAgeDays: 1 });
    await s.expire(clock.now() + 2 * 86_400_000);
    await s.close();
    const sent = telegram.delivered.length;
    const lines: string[] = [];
    const server = await serve([{ ...PAID, ...edit, onFailure: { notify: "team" } }], {}, lines);
    try {
      // The event is gone, and soon the run with it: the notice is all that says what is left to do.
      const said = new RegExp(
        `of automation stripe-paid on event ${event.id} failed: it stopped before it finished, and retention dropped its event meanwhile\\. Step 1 \\(eshop_order_mark_paid\\) was done\\. Steps 2-3 \\(notify, ack\\) were not run\\.`,
      );
      await expect.poll(() => lines.filter((line) => said.test(line))).toHaveLength(1);
      await expect
        .poll(() => telegram.delivered.slice(sent))
        .toEqual([
          expect.objectContaining({ text: expect.stringMatching(new RegExp(`^waiter: run \\d+ ${said.source}$`)) }),
        ]);
    } finally {
      await server.close();
    }
  });

  test("a step that was under way and cannot be repeated safely is reported, not done again", async () => {
    const event = await leftBehind([
      [0, "done"],
      [1, "started"],
    ]);
    const sent = telegram.delivered.length;
    const lines: string[] = [];
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }], {}, lines);
    try {
      const [run] = await runsOf(event.id);
      const why =
        "step 2 (notify_send): it was under way when waiter stopped or its store failed, and may or may not have happened, so it is not done again";
      expect(run).toMatchObject({ status: "failed", error: why });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "interrupted"]);
      const said = `automation stripe-paid failed on the delivery “${event.delivery}” from stripe (“payment_intent.succeeded”, waiter's event ${event.id}) at ${why}. Step 3 (ack) was not run; the event is not acknowledged.`;
      await toldAndLogged(sent, said, lines, event.id);
    } finally {
      await server.close();
    }
  });

  test("a step that failed before its run was marked failed ends the run with the step's own reason", async () => {
    const event = await leftBehind([[0, "failed", "The shop has no order 999999."]]);
    const sent = telegram.delivered.length;
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }]);
    try {
      const [run] = await runsOf(event.id);
      const why = "step 1 (eshop_order_mark_paid): The shop has no order 999999.";
      expect(run).toMatchObject({ status: "failed", error: why });
      await expect
        .poll(() => telegram.delivered.slice(sent))
        .toEqual([
          expect.objectContaining({
            text: `waiter: automation stripe-paid failed on the delivery “${event.delivery}” from stripe (“payment_intent.succeeded”, waiter's event ${event.id}) at ${why} Steps 2-3 (notify, ack) were not run; the event is not acknowledged.`,
          }),
        ]);
      expect(woo.shop.writes.filter((w) => w.method !== "GET")).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

test("a stop lets a step under way have its answer for the drain time: a notification Telegram confirms meanwhile is done, not reported as may or may not have happened", async () => {
  const tell = { ...TELL, onFailure: { notify: "team" } };
  const sent = telegram.delivered.length;
  /** Holds Telegram's answers until the returned function is called. */
  const hold = () => {
    let release = () => {};
    telegram.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    return release;
  };
  const first = await serve([tell]);
  let release = hold();
  const answered = await pay(first, undefined, "evt_stop_mid_send");
  await expect.poll(() => telegram.requests.filter((r) => r.body.includes("evt_stop_mid_send")).length).toBe(1);
  const stopped = first.close();
  setTimeout(release, 300);
  await stopped;
  telegram.held = undefined;
  expect(await runsOf(answered.id, false)).toEqual([
    expect.objectContaining({ status: "done", steps: [expect.objectContaining({ status: "done" })] }),
  ]);
  // Past the drain time it is cut, and the next start reports it, as a step a kill left.
  const second = await serve([tell], { WAITER_STOP_SECONDS: "1" });
  release = hold();
  const unanswered = await pay(second, undefined, "evt_stop_unanswered");
  await expect.poll(() => telegram.requests.filter((r) => r.body.includes("evt_stop_unanswered")).length).toBe(1);
  const began = performance.now();
  await second.close();
  expect(performance.now() - began).toBeLessThan(3_000);
  release();
  telegram.held = undefined;
  const third = await serve([tell]);
  try {
    expect(await runsOf(unanswered.id)).toEqual([expect.objectContaining({ status: "failed" })]);
    await expect.poll(() => telegram.delivered.length - sent).toBe(3);
    expect(telegram.delivered.slice(sent).map((m) => m.text)).toEqual([
      "Paid without an order: “pi_evt_stop_mid_send”",
      "Paid without an order: “pi_evt_stop_unanswered”",
      expect.stringMatching(
        /^waiter: automation tell failed on the delivery “evt_stop_unanswered” .* may or may not have happened/,
      ),
    ]);
  } finally {
    await third.close();
  }
});

test("a stop that waits for a step's answer keeps the automations' lease meanwhile: no other waiter takes up the run under way and reports it as may or may not have happened", async () => {
  const server = await serveLeased([TELL], {}, [], 1.5);
  let release = () => {};
  telegram.held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const s = store();
  let stopped: Promise<void> | undefined;
  try {
    await pay(server, undefined, "evt_stop_keeps_lease");
    await expect.poll(() => telegram.requests.filter((r) => r.body.includes("evt_stop_keeps_lease")).length).toBe(1);
    stopped = server.close();
    // Past the lease's 1.5 s, Telegram's answer still on its way within the drain time (10 s).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const { holder } = await s.runs.lease("elsewhere", clock.now(), 60_000);
    if (holder === "elsewhere") await s.runs.release("elsewhere");
    expect(holder).not.toBe("elsewhere");
  } finally {
    release();
    telegram.held = undefined;
    await stopped;
    await s.close();
  }
}, 20_000);

test("kill -9 while the order is being paid: after a restart it is not paid twice, and the team is told once", async () => {
  const started = () => startNode([CLI, "serve"], { ...env([PAID]), WAITER_LOG_LEVEL: "info" }, SERVING);
  const first = await started();
  const url = { url: first.said };
  const sent = telegram.delivered.length;
  // The payment is recorded in the shop; the process dies as the step goes on to the order note.
  woo.intercept = (req) => {
    if (req.method !== "POST" || !req.path.endsWith("/notes")) return undefined;
    first.child.kill("SIGKILL");
    return { status: 200, destroy: true };
  };
  try {
    const event = await pay(url, String(O.pendingStockManaged), "evt_killed");
    expect(await first.exited).toBe(null);
    woo.intercept = undefined;
    expect(await runsOf(event.id, false)).toEqual([expect.objectContaining({ status: "running" })]);
    const paidBefore = woo.shop.writes.filter((w) => w.method === "PUT").length;
    expect(paidBefore).toBe(1);

    const second = await started();
    try {
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      // The step was redone (marking paid is idempotent): it found the order paid and changed nothing.
      expect(woo.shop.writes.filter((w) => w.method === "PUT").length).toBe(paidBefore);
      expect(woo.shop.order(O.pendingStockManaged).status).toBe("processing");
      expect(telegram.delivered.length - sent).toBe(1);
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  } finally {
    woo.intercept = undefined;
  }
});

test("a waiter frozen past its lease while the order is being paid (a machine asleep, a VM paused) does nothing more of the run once it wakes: the other waiter, which took the run up, tells the team once", async () => {
  const lease = { WAITER_AUTOMATION_LEASE_SECONDS: "3" };
  const frozen = await startNode([CLI, "serve"], { ...env([PAID], lease), WAITER_LOG_LEVEL: "info" }, SERVING);
  // The other renews, and so finds the frozen one's lease run out, each half second.
  const other = await serveLeased([PAID], {}, [], 1.5);
  const sent = telegram.delivered.length;
  // The shop records the payment while the process that asked for it is frozen, its answer waiting.
  woo.intercept = (req) => {
    if (req.method !== "PUT") return undefined;
    woo.intercept = undefined;
    frozen.child.kill("SIGSTOP");
    return undefined;
  };
  try {
    const event = await pay({ url: frozen.said }, String(O.pending1999), "evt_frozen");
    await expect.poll(() => woo.intercept, { timeout: 5_000 }).toBeUndefined();
    // The other waiter takes the lease over and does the run: the order is paid, so it only tells.
    await expect.poll(async () => (await runsOf(event.id, false))[0]?.status, { timeout: 10_000 }).toBe("done");
    expect(telegram.delivered.length - sent).toBe(1);
    frozen.child.kill("SIGCONT");
    // Woken, it has the shop's answer, and its lease timer finds the lease another's.
    await expect.poll(() => frozen.stderr(), { timeout: 5_000 }).toMatch(/another waiter took over their lease/);
    await expect
      .poll(() => frozen.stderr(), { timeout: 5_000 })
      .toMatch(/step 1: eshop_order_mark_paid was done \(.*\) after another waiter took the automations over/);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(telegram.delivered.length - sent).toBe(1);
    const [run] = await runsOf(event.id);
    expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
  } finally {
    woo.intercept = undefined;
    frozen.child.kill("SIGCONT");
    frozen.child.kill("SIGKILL");
    await frozen.exited;
    await other.close();
  }
});

describe("on a full disk", () => {
  /**
   * Starts waiter serve on the store as it is now, which then has no room for one page more: a
   * write that fits in the pages it has (the lease's renewal) goes through, one that needs more (a
   * run's step) fails with SQLITE_FULL, as on a disk with a few kilobytes left. Returns what makes
   * room again.
   */
  async function serveOnFullDisk(automations: object[], lines: string[], leaseSeconds?: number, full = true) {
    let server: Database.Database | undefined;
    const pragma = Database.prototype.pragma;
    const fill = (db: Database.Database) => {
      db.exec("VACUUM");
      pragma.call(db, `max_page_count = ${pragma.call(db, "page_count", { simple: true })}`);
    };
    Database.prototype.pragma = function (this: Database.Database, source: string, options?: Database.PragmaOptions) {
      const result = pragma.call(this, source, options);
      if (source === "journal_mode = WAL") {
        server = this;
        if (full) fill(this);
      }
      return result;
    };
    let running: RunningServe;
    try {
      running = await serveLeased(automations, {}, lines, leaseSeconds);
    } finally {
      Database.prototype.pragma = pragma;
    }
    return {
      running,
      fillDisk: () => server && fill(server),
      makeRoom: () => server?.pragma("max_page_count = 1000000"),
    };
  }

  test("a notification sent just before the disk filled is recorded as sent once there is room, not told as may or may not have happened", async () => {
    const tell = {
      name: "tell-paid",
      when: { source: "stripe" },
      do: [{ notify: "team", text: `Paid: ${"x".repeat(3990)}` }, { ack: true }],
      onFailure: { notify: "team" },
    };
    const lines: string[] = [];
    // The run is tried again at the lease's next renewal, each half second.
    const { running, fillDisk, makeRoom } = await serveOnFullDisk([tell], lines, 1.5, false);
    const sent = telegram.delivered.length;
    try {
      // The disk fills while Telegram takes the message: its step cannot be recorded as done.
      telegram.intercept = () => {
        telegram.intercept = undefined;
        fillDisk();
        return undefined;
      };
      const { id } = await pay(running, "7", "evt_sent_then_full");
      await expect
        .poll(() => lines.join(""), { timeout: 5_000 })
        .toMatch(/automations paused on a store failure: The event store cannot be written \(SQLITE_FULL/);
      expect(telegram.delivered.length).toBe(sent + 1);
      // The operator's record of what was sent does not wait for the store.
      expect(lines.filter((line) => line.includes(`notify_send done for automation tell-paid, run`))).toHaveLength(1);
      makeRoom();
      const [run] = await runsOf(id);
      expect(run).toMatchObject({ status: "done" });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done"]);
      // The team was told once, and not that the run failed.
      expect(telegram.delivered.slice(sent).map((m) => m.text.slice(0, 6))).toEqual(["Paid: "]);
      expect(lines.filter((line) => line.includes("may or may not"))).toEqual([]);
    } finally {
      telegram.intercept = undefined;
      await running.close();
    }
  }, 20_000);

  test("a stop before there is room again says which step's outcome it could not record", async () => {
    const tell = {
      name: "tell-paid",
      when: { source: "stripe" },
      do: [{ notify: "team", text: `Paid: ${"x".repeat(3990)}` }],
    };
    const lines: string[] = [];
    const { running, fillDisk } = await serveOnFullDisk([tell], lines, undefined, false);
    try {
      telegram.intercept = () => {
        telegram.intercept = undefined;
        fillDisk();
        return undefined;
      };
      await pay(running, "7", "evt_sent_full_then_stopped");
      await expect.poll(() => lines.join(""), { timeout: 5_000 }).toMatch(/automations paused on a store failure/);
    } finally {
      telegram.intercept = undefined;
      await running.close();
    }
    expect(lines.filter((line) => line.includes("could not record before the stop"))).toEqual([
      expect.stringMatching(
        /warning .*automation run \d+: step 1 came to "done", which the event store could not record before the stop: the next start takes the step for one under way when waiter stopped/,
      ),
    ]);
  }, 20_000);

  test("a run the store had no room to record goes on once there is room, without a restart or another event, and the log says so once", async () => {
    // A step's record as long as a notification's text: more than a page of the store.
    const BIG = {
      name: "big",
      when: { source: "stripe" },
      do: [{ notify: "team", text: `Paid: ${"x".repeat(3990)}` }],
    };
    const extra = { WAITER_AUTOMATION_LEASE_SECONDS: "3" };
    // A first start marks where the automations begin; the payment comes while waiter is stopped.
    await (await serve([BIG], extra)).close();
    const waiting = store();
    const { id } = await waiting.add({
      source: "stripe",
      type: "payment_intent.succeeded",
      scheme: "stripe",
      dedupeId: "evt_full_disk",
      headers: {},
      body: Buffer.from(JSON.stringify({ id: "evt_full_disk" })),
      receivedAt: clock.now(),
    });
    await waiting.close();
    const lines: string[] = [];
    const sent = telegram.delivered.length;
    const { running, makeRoom } = await serveOnFullDisk([BIG], lines, 3);
    try {
      await expect
        .poll(() => lines.join(""), { timeout: 5_000 })
        .toMatch(/automations paused on a store failure: The event store cannot be written \(SQLITE_FULL/);
      // The lease is renewed every second meanwhile, and the run tried again.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(telegram.delivered.length).toBe(sent);
      // The renewals that went through are not the store answering again: the run is not recorded yet.
      expect(lines.filter((line) => /automations paused|answers again/.test(line))).toHaveLength(1);
      makeRoom();
      await expect.poll(async () => (await runsOf(id, false))[0]?.status, { timeout: 5_000 }).toBe("done");
      expect(telegram.delivered.length).toBe(sent + 1);
      expect(lines.filter((line) => /answers again/.test(line))).toEqual([
        expect.stringMatching(
          /automations resume: the event store answers again, after [2-9] failed attempts over [3-9] s/,
        ),
      ]);
    } finally {
      await running.close();
    }
  }, 20_000);
});

/**
 * Serves TELL with the first `times` writes of where each automation begins failing, as a busy or
 * full store's may, and a payment paid once they began: the lines that say the start failed, or
 * the store answering again.
 */
async function startFailing(times: number): Promise<string[]> {
  const prepare = Database.prototype.prepare;
  let failures = times;
  Database.prototype.prepare = function (this: Database.Database, source: string) {
    const statement = prepare.call(this, source);
    if (!source.startsWith("INSERT INTO automation_starts")) return statement;
    const run = statement.run.bind(statement) as (...args: unknown[]) => Database.RunResult;
    return Object.assign(statement, {
      run: (...args: unknown[]) => {
        if (failures-- > 0) throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
        return run(...args);
      },
    });
  } as typeof prepare;
  const lines: string[] = [];
  let server: RunningServe;
  try {
    server = await serveLeased([TELL], {}, lines, 1.5);
  } finally {
    Database.prototype.prepare = prepare;
  }
  const sent = telegram.delivered.length;
  const s = store();
  try {
    const { id } = await pay(server, undefined, "evt_store_failed_at_begin");
    // The lease is renewed each half second: the start is made again at each renewal.
    await expect
      .poll(async () => (await s.runs.list({ eventId: id, limit: 1 }))[0]?.status, { timeout: 8_000 })
      .toBe("done");
    expect(failures).toBeLessThanOrEqual(0);
    expect(telegram.delivered.length - sent).toBe(1);
    return lines.filter((line) => /could not start|answers again/.test(line));
  } finally {
    await server.close();
    await s.close();
  }
}

test("a store that fails as waiter takes the automations up leaves them running once it answers: a payment that comes then is told", async () => {
  expect(await startFailing(1)).toEqual([
    expect.stringMatching(
      /warning .*automations could not start on a store failure: The event store cannot be written/,
    ),
    expect.stringMatching(/automations: the event store answers again, after 1 failed attempt/),
  ]);
}, 20_000);

test("a start the store fails at several renewals in a row is said once, and the store answering again once, when they begin", async () => {
  // A store may take the lease's renewal while it fails the start again (a full disk): the
  // renewal alone does not say it answers again.
  expect(await startFailing(3)).toEqual([
    expect.stringMatching(
      /warning .*automations could not start on a store failure: The event store cannot be written/,
    ),
    expect.stringMatching(/automations: the event store answers again, after 3 failed attempts/),
  ]);
}, 20_000);
