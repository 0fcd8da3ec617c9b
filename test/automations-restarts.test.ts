import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { SqliteEventStore } from "../src/events/sqlite/store.js";
import type { RunRecord, StepStatus } from "../src/events/store.js";
import { clock, setClock } from "../src/time.js";
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
  shopDown,
  store,
  telegram,
  toldAndLogged,
  useFakes,
  woo,
} from "./automations-harness.js";
import { json } from "./fakes/http.js";
import { tooManyRequests } from "./fakes/telegram.js";
import { startWaiter } from "./memory.js";
import { numbersMovedSql } from "./store-contract.js";

/** automations_runs' structured answer, as far as these tests read it. */
type RunsAnswer = { runs: { steps: { status: string; tool: string; outcome?: string }[] }[] };

useFakes();

describe("a run a stopped server left", () => {
  /**
   * A payment stored while no automation ran, and a run of PAID begun on it, as a killed process
   * (or a store that failed) leaves it: each step's status, and the error of one that failed; with
   * the payment's Stripe event id (`delivery`).
   */
  async function leftBehind(
    steps: [number, StepStatus, string?][],
    dryRun = false,
    tools = ["eshop_order_mark_paid", "notify_send", "events_ack"],
  ) {
    const quiet = await serve([]);
    const delivery = `evt_left_${nextSequence()}`;
    const event = await pay(quiet, String(O.onHold), delivery);
    await quiet.close();
    const s = store();
    const run = (await s.runs.begin("stripe-paid", event.id, dryRun, clock.now())) as number;
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

  test("restored from a backup taken before it finished, goes on from the step the backup holds: steps done after the backup are done again", async () => {
    const event = await leftBehind([]);
    const file = join(dataDir, "events.db");
    const backup = join(dataDir, "backup.db");
    const copier = new Database(file, { readonly: true });
    copier.exec(`VACUUM INTO '${backup}'`);
    copier.close();
    const sent = telegram.delivered.length;
    const server = await serve([PAID]);
    await runsOf(event.id).finally(() => server.close());
    const marked = woo.shop.writes.filter((w) => w.method !== "GET");
    expect(marked.length).toBeGreaterThan(0);
    expect(telegram.delivered.length - sent).toBe(1);

    // Restored as docs/webhooks.md says.
    for (const stale of ["-wal", "-shm"]) rmSync(`${file}${stale}`, { force: true });
    copyFileSync(backup, file);
    const shell = new Database(file);
    for (const statement of numbersMovedSql("sqlite3")) shell.exec(statement);
    shell.close();
    const again = await serve([PAID]);
    try {
      const [run] = await runsOf(event.id);
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      // The order, paid already, is left alone; the team is told a second time.
      expect(woo.shop.writes.filter((w) => w.method !== "GET")).toEqual(marked);
      expect(telegram.delivered.length - sent).toBe(2);
    } finally {
      await again.close();
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
        `run ${run?.id} of automation stripe-paid failed on the delivery “${delivery}” from stripe.\nThe delivery is waiter's event ${event.id} (“payment_intent.succeeded”). It is not gone on with: the automation's steps changed since the run began (step 1 was eshop_order_mark_paid, and is now notify_send). `,
        lines,
        event.id,
        paidNotTold(delivery),
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
      'the automation no longer takes this event (its type is "payment_intent.succeeded", not "payment_intent.payment_failed")',
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
      expect(told).toMatch(
        new RegExp(`^waiter: run ${run?.id} of automation stripe-paid failed on the delivery “[^”]+” from stripe\\.\n`),
      );
      expect(told).toContain(`It is not gone on with: ${why}.`);
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

  test("a wait Telegram asks for past the retry time fails the step, saying until when Telegram asked to wait, in UTC", async () => {
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
        /^step 2 \(notify_send\): .* did not take the message \(429: Too Many Requests: retry after 3600\)\. waiter tried it once; it asked not to be tried again before (\d{4}-\d\d-\d\d \d\d:\d\d) UTC, after the retry time \(WAITER_AUTOMATION_RETRY_SECONDS, 120 s\), so it is not tried again\.$/,
      );
      // As the rest of a notice says a time, to the minute and with its zone: the minute Telegram's wait ends in, or after it.
      const until = Date.parse(`${said?.[1]?.replace(" ", "T")}Z`);
      expect(until).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(until).toBeLessThanOrEqual(after + 3_660_000);
      expect(telegram.delivered.length).toBe(sent);
    } finally {
      await server.close();
    }
  });

  test("a notification stopped while notify_send itself waits out Telegram's 429 is sent at the next start, once, after the rest of the wait", async () => {
    const sent = telegram.delivered.length;
    // Three seconds fit in a call: notify_send waits them out itself.
    const lines: string[] = [];
    const first = await serve([PAID], {}, lines);
    telegram.queue.push(tooManyRequests(3));
    const event = await pay(first, String(O.pendingStockManaged));
    await expect.poll(() => lines.join("")).toContain(`asked for 3 s without messages to chat ${CHAT} (429)`);
    const asked = clock.now();
    await first.close();
    const second = await serve([PAID]);
    try {
      // Taken up at the start, and left to wait out what is left of Telegram's three seconds.
      expect((await runsOf(event.id, false))[0]?.steps.map((step) => step.status)).toEqual(["done", "refused"]);
      expect(telegram.delivered.length).toBe(sent);
      await expect
        .poll(async () => (await runsOf(event.id))[0]?.steps.map((step) => step.status), { timeout: 6_000 })
        .toEqual(["done", "done", "done"]);
      expect(telegram.delivered.length - sent).toBe(1);
      expect(clock.now() - asked).toBeGreaterThanOrEqual(2_000);
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
        .poll(() => lines.some((line) => /telling run \d+'s failure: notify_send failed/.test(line)))
        .toBe(true);
      await first.close();
      expect(telegram.delivered.length).toBe(sent);
      expect(lines.filter((line) => /its failure|run \d+'s failure/.test(line))).toEqual([
        expect.stringMatching(
          / info .* automation stripe-paid, telling run \d+'s failure: notify_send failed .* 60 s\n$/,
        ),
        expect.stringMatching(
          / info .* automation stripe-paid: run \d+'s failure is told at the next start: waiter is stopping\n$/,
        ),
      ]);
      // The minute Telegram asked for, which the store keeps, is over by the next start.
      setClock(clock.now() + 61_000);
      const second = await serve([next]);
      try {
        await expect
          .poll(() => telegram.delivered.slice(sent))
          .toEqual([
            expect.objectContaining({
              text: expect.stringMatching(
                new RegExp(
                  `^waiter: automation stripe-paid failed on the delivery “evt_untold_\\d+” from stripe\\.\nThe delivery is waiter's event ${event.id} .* Step 1 `,
                ),
              ),
            }),
          ]);
        // Told: no start owes it any more.
        await expect.poll(async () => (await runsOf(event.id))[0]?.notice).toBeNull();
      } finally {
        await second.close();
        setClock(clock.now() - 61_000);
      }
    },
  );

  // The author's @name, in the argument the notice shows, as the run had it.
  const noting = {
    name: "note-paid",
    when: { source: "stripe", type: "payment_intent.succeeded" },
    do: [{ tool: "eshop_order_add_note", args: { id: 1, note: "@shop_owner: paid {{payload.data.object.id}}" } }],
    onFailure: { notify: "team" },
  };
  test.each([
    ["renamed", { ...noting, name: "note-paid-v2" }],
    [
      "edited to name another",
      { ...noting, do: [{ tool: "eshop_order_add_note", args: { id: 1, note: "@office_desk: paid" } }] },
    ],
  ])(
    "a failure told at the next start, its automation %s meanwhile, still mentions the @name the run's step was written with",
    async (_, next) => {
      woo.intercept = (req) =>
        req.method === "POST" && req.path.endsWith("/notes")
          ? json(400, '{"code":"note_refused","message":"Note refused","data":{"status":400}}')
          : undefined;
      const sent = telegram.delivered.length;
      try {
        const first = await serve([noting], { WAITER_AUTOMATION_RETRY_SECONDS: "120" }, []);
        telegram.queue.push(tooManyRequests(60));
        const event = await pay(first, undefined, `evt_mention_${nextSequence()}`);
        await expect.poll(async () => (await runsOf(event.id))[0]?.notice?.status).toBe("owed");
        await first.close();
        setClock(clock.now() + 61_000);
        const second = await serve([next]);
        try {
          await expect.poll(() => telegram.delivered.length - sent).toBe(1);
          expect(telegram.delivered.at(-1)?.text).toContain("note “@shop_owner: paid pi_evt_mention_");
        } finally {
          await second.close();
          setClock(clock.now() - 61_000);
        }
      } finally {
        woo.intercept = undefined;
      }
    },
  );

  test.each([
    ["mentions the @names of the automation as configured", noting, "note “@shop_owner: paid pi_evt_older_"],
    [
      "mentions none of a step configured now with another tool",
      { ...noting, do: [{ notify: "team", text: "@shop_owner: paid" }] },
      "note “@\u2060shop_owner: paid pi_evt_older_",
    ],
  ])("a failure an older waiter recorded, without its steps as written, %s", async (_, next, told) => {
    woo.intercept = (req) =>
      req.method === "POST" && req.path.endsWith("/notes")
        ? json(400, '{"code":"note_refused","message":"Note refused","data":{"status":400}}')
        : undefined;
    const sent = telegram.delivered.length;
    try {
      const first = await serve([noting], { WAITER_AUTOMATION_RETRY_SECONDS: "120" }, []);
      telegram.queue.push(tooManyRequests(60));
      const event = await pay(first, undefined, `evt_older_${nextSequence()}`);
      await expect.poll(async () => (await runsOf(event.id))[0]?.notice?.status).toBe("owed");
      await first.close();
      const s = store();
      try {
        const [run] = await s.runs.list({ eventId: event.id, limit: 1 });
        for (const step of run?.steps ?? []) {
          const { written, ...older } = JSON.parse(step.detail) as { written: unknown };
          expect(written).toBeDefined();
          await s.runs.step(run?.id as number, step.step, step.status, JSON.stringify(older), clock.now());
        }
      } finally {
        await s.close();
      }
      setClock(clock.now() + 61_000);
      const second = await serve([next]);
      try {
        await expect.poll(() => telegram.delivered.length - sent).toBe(1);
        expect(telegram.delivered.at(-1)?.text).toContain(told);
      } finally {
        await second.close();
        setClock(clock.now() - 61_000);
      }
    } finally {
      woo.intercept = undefined;
    }
  });

  test("a failure told hours after its run failed, Telegram having refused it until waiter stopped, says when the run failed", async () => {
    const sent = telegram.delivered.length;
    const first = await serve([failing], { WAITER_AUTOMATION_RETRY_SECONDS: "120" }, []);
    telegram.queue.push(tooManyRequests(60));
    const event = await pay(first, "999999", `evt_late_${nextSequence()}`);
    await expect.poll(async () => (await runsOf(event.id))[0]?.notice?.status).toBe("owed");
    const failedAt = (await runsOf(event.id))[0]?.finishedAt as string;
    await first.close();
    // An agent reading the run meanwhile is told the team has not been told yet; once it has, that it was.
    const agent = await startWaiter(env([failing]));
    const onFailure = async () =>
      (
        (await agent.call("automations_runs", { event_id: event.id })).structuredContent as RunsAnswer
      ).runs[0]?.steps.at(-1);
    setClock(clock.now() + 3 * 3600_000);
    try {
      expect(await onFailure()).toEqual({
        status: "waiting",
        tool: "onFailure",
        outcome: "Not told on team yet: its first try, or its next after the channel refused it for now, is to come.",
      });
      const second = await serve([failing]);
      try {
        await expect
          .poll(() => telegram.delivered.slice(sent).map((message) => message.text))
          .toEqual([
            expect.stringMatching(
              new RegExp(
                `^waiter: automation stripe-paid failed on the delivery “evt_late_\\d+” from stripe\\.\n.*\nThe run failed at ${failedAt.slice(0, 10)} ${failedAt.slice(11, 16)} UTC, and is told only now\\.$`,
              ),
            ),
          ]);
        await expect
          .poll(onFailure)
          .toEqual({ status: "told", tool: "onFailure", outcome: `Sent on team to ${CHAT}.` });
      } finally {
        await second.close();
      }
    } finally {
      await agent.close();
      setClock(clock.now() - 3 * 3600_000);
    }
  });

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
            ` warning .* automation stripe-paid: run ${run?.id}'s failure is not told \\(the automation is no longer configured, nor is the channel team it began with\\): waiter: automation stripe-paid failed on the delivery “evt_untold_\\d+” from stripe\\. automations_runs with event_id "${event.id}" shows what its steps did\\.\n$`,
          ),
        ),
      ]);
      expect(run?.noticeOutcome).toEqual({
        status: "not tried",
        said: "the automation is no longer configured, nor is the channel team it began with",
      });
      expect(telegram.delivered.length).toBe(sent);
    } finally {
      await second.close();
    }
  });

  test("a failure whose telling waited when waiter stopped, its automation's onFailure taken out since, is kept with the run as not tried", async () => {
    const sent = telegram.delivered.length;
    const first = await serve([failing], { WAITER_AUTOMATION_RETRY_SECONDS: "120" }, []);
    telegram.queue.push(tooManyRequests(60));
    const event = await pay(first, "999999", `evt_untold_${nextSequence()}`);
    await expect.poll(async () => (await runsOf(event.id))[0]?.notice?.status).toBe("owed");
    await first.close();
    const lines: string[] = [];
    const second = await serve([PAID], {}, lines);
    try {
      await expect.poll(async () => (await runsOf(event.id))[0]?.notice).toBeNull();
      const [run] = await runsOf(event.id);
      expect(lines.filter((line) => line.includes(`run ${run?.id}'s failure`))).toEqual([
        expect.stringMatching(/ warning .* is not told \(the automation no longer has an onFailure\): waiter: /),
      ]);
      expect(run?.noticeOutcome).toEqual({ status: "not tried", said: "the automation no longer has an onFailure" });
      expect(telegram.delivered.length).toBe(sent);
    } finally {
      await second.close();
    }
  });

  test("a failure being told when waiter stopped may have reached Telegram: the stop names its drain time, and the next start says so and does not tell it again", async () => {
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
      // An agent reading the run meanwhile is told the message is being told.
      const agent = await startWaiter(env([failing]));
      try {
        const { structuredContent } = await agent.call("automations_runs", { event_id: event.id });
        expect((structuredContent as RunsAnswer).runs[0]?.steps.at(-1)).toEqual({
          status: "started",
          tool: "onFailure",
          outcome:
            "Being told on team; if waiter stopped meanwhile, it may or may not have reached it, and is not told again.",
        });
      } finally {
        await agent.close();
      }
      await first.close();
    } finally {
      answer();
      telegram.held = undefined;
    }
    expect(lines.filter((line) => /its failure|run \d+'s failure/.test(line))).toEqual([
      expect.stringMatching(
        / info .* automation stripe-paid: telling run \d+'s failure was cut short \(notify_send had no answer within the stop's drain time \(WAITER_STOP_SECONDS, 1 s\) and was cut\) and may or may not have reached team, so it is not told again\n$/,
      ),
    ]);
    const second = await serve([failing], {}, lines);
    try {
      await expect.poll(async () => (await runsOf(event.id))[0]?.notice).toBeNull();
      const [run] = await runsOf(event.id);
      // The run's story in the log, each line naming it: cut short at the stop, not told at the start.
      expect(lines.filter((line) => line.includes(`run ${run?.id}'s failure`))).toEqual([
        expect.stringMatching(` info .* automation stripe-paid: telling run ${run?.id}'s failure was cut short `),
        expect.stringMatching(
          new RegExp(
            ` warning .* automation stripe-paid: run ${run?.id}'s failure is not told \\(it was being told when waiter stopped or its store failed, and may or may not have reached its channel, so it is not told again\\): waiter: automation stripe-paid failed on the delivery “evt_maybe_told_\\d+” from stripe\\. automations_runs with event_id "${event.id}" shows what its steps did\\.\n$`,
          ),
        ),
      ]);
      expect(run?.noticeOutcome).toEqual({
        status: "interrupted",
        said: "it was being told when waiter stopped or its store failed, and may or may not have reached its channel, so it is not told again",
      });
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
        `run ${run?.id} of automation stripe-paid failed on the delivery “${delivery}” from stripe.\nThe delivery is waiter's event ${event.id} (“payment_intent.succeeded”). It stopped before it finished, and the automation is no longer configured. `,
        lines,
        event.id,
        paidNotTold(delivery),
      );
      // An agent asking how the run went is told why the step it left waiting was not done, not
      // that it tries again.
      const agent = await startWaiter(env([{ ...PAID, name: "stripe-paid-v2" }]));
      try {
        // The failure told to the channel the run began with is said to be, after the steps.
        await expect
          .poll(async () => (await agent.call("automations_runs", { event_id: event.id })).structuredContent)
          .toMatchObject({
            runs: [
              {
                status: "failed",
                steps: [
                  { status: "done", tool: "eshop_order_mark_paid" },
                  {
                    status: "not done",
                    tool: "notify_send",
                    outcome: expect.stringMatching(
                      /^No chat of team confirmed the message: 424242: Telegram Bot API .*\(429: .* It was waiting for its next try when its run failed, and was not tried again\. Its arguments were \{"channel":"team",.*\}\.$/,
                    ),
                  },
                  { status: "told", tool: "onFailure", outcome: `Sent on team to ${CHAT}.` },
                ],
              },
            ],
          });
        const { structuredContent } = await agent.call("automations_runs", { event_id: event.id });
        expect(JSON.stringify(structuredContent)).not.toContain("Trying again");
      } finally {
        await agent.close();
      }
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
        expect(run).toMatchObject({
          automation: "stripe-paid",
          status: "failed",
          notice: null,
          noticeOutcome: {
            status: "not tried",
            said: "the automation is no longer configured, nor is the channel team it began with",
          },
        });
        await expect
          .poll(() => lines.filter((line) => line.includes("stripe-paid")))
          .toEqual([
            expect.stringMatching(
              new RegExp(
                `warning.*run ${run?.id} of automation stripe-paid failed on the delivery “${delivery}” from stripe\\. The delivery is .* It stopped before it finished, and the automation is no longer configured, nor is the channel team it began with, so no onFailure can be told\\. Step 1 \\(eshop_order_mark_paid, id …, transaction_id …\\) was done\\. Step 2 \\(notify_send, channel …, text …\\) was not done\\. No other step of it was run\\.\n$`,
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
              `warning.* ${kind} ${run?.id} of automation stripe-paid failed on the delivery “${event.delivery}” from stripe\\. The delivery is waiter's event ${event.id} .* It stopped before it finished, and the automation is no longer configured, so no onFailure can be told\\. Step 1 \\(eshop_order_mark_paid\\) was ${was}\\. No other step of it was ${other}\\.\n$`,
            ),
          ),
        ]);
        expect(telegram.delivered.length).toBe(sent);
      } finally {
        await server.close();
      }
    },
  );

  const notRun = "Steps 2-3 \\(notify, ack\\) were not run\\.";
  test.each([
    ["", {}, notRun],
    [", its automation made a dry run since", { dryRun: true }, notRun],
    [
      ", its automation's steps reordered since",
      { do: [PAID.do[1], PAID.do[0], PAID.do[2]] },
      "No other step of it was run\\.",
    ],
  ])(
    "whose event retention dropped is marked failed%s, said in the log and told to onFailure",
    async (_, edit, rest) => {
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
          `of automation stripe-paid failed on waiter's event ${event.id}\\.[ \n]It stopped before it finished, and retention dropped its event meanwhile\\. Step 1 \\(eshop_order_mark_paid\\) was done\\. ${rest}`,
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
    },
  );

  test("2,000 runs taken up at start that fail at once leave webhooks answered meanwhile", async () => {
    const quiet = await serve([]);
    const event = await pay(quiet, undefined);
    await quiet.close();
    const left = 2_000;
    // Runs of automations configured no longer, each failed without a request to anyone.
    const shell = new Database(join(dataDir, "events.db"));
    const begin = shell.prepare(
      "INSERT INTO automation_runs (automation, event_id, status, dry_run, started_at) VALUES (?, ?, 'running', 0, ?)",
    );
    shell.transaction(() => {
      for (let i = 0; i < left; i++) begin.run(`gone-${i}`, event.id, clock.now());
    })();
    shell.close();
    const server = await serve([PAID]);
    const s = store();
    try {
      await pay(server, undefined);
      expect((await s.runs.unfinished()).length).toBeGreaterThan(0);
      await expect.poll(async () => (await s.runs.unfinished()).length, { timeout: 30_000 }).toBe(0);
    } finally {
      await server.close();
      await s.close();
    }
  }, 60_000);

  test("a step under way, done again after a wait for its next try, still says it was done again", async () => {
    const event = await leftBehind([[0, "started"]]);
    // The shop is down as the step is done again: it waits for its next try, when the shop is back.
    shopDown();
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "20" });
    try {
      await expect.poll(async () => (await runsOf(event.id, false))[0]?.steps[0]?.detail).toContain('"waiting":');
      woo.intercept = undefined;
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      const { said } = JSON.parse(run?.steps[0]?.detail ?? "{}") as { said?: string };
      expect(said).toMatch(/\nThe step was under way when waiter stopped or its store failed, and was done again/);
    } finally {
      woo.intercept = undefined;
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
      // The person told finishes it by hand, once they have checked whether it happened (the chat),
      // and does not mark the order paid again.
      const said = `automation stripe-paid failed on the delivery “${event.delivery}” from stripe.\nThe delivery is waiter's event ${event.id} (“payment_intent.succeeded”). Step 1 (eshop_order_mark_paid) was done. Step 2 (notify_send) failed: it was under way when waiter stopped or its store failed, and may or may not have happened, so it is not done again. Check whether it happened before doing it by hand. Step 3 (ack) was not run; the event is not acknowledged.`;
      await toldAndLogged(sent, said, lines, event.id);
    } finally {
      await server.close();
    }
  });

  test.each([
    ["reordered", [PAID.do[1], PAID.do[0], PAID.do[2]]],
    ["shortened", [PAID.do[1], PAID.do[2]]],
  ])(
    "a step that was under way, its automation's steps %s since, is told with the steps the run recorded",
    async (_, steps) => {
      const event = await leftBehind([
        [0, "done"],
        [1, "started"],
      ]);
      const sent = telegram.delivered.length;
      const lines: string[] = [];
      const server = await serve([{ ...PAID, do: steps, onFailure: { notify: "team" } }], {}, lines);
      try {
        expect((await runsOf(event.id))[0]?.status).toBe("failed");
        // The order was marked paid, which the step at its place now (the team's message) was not.
        const said = `automation stripe-paid failed on the delivery “${event.delivery}” from stripe.\nThe delivery is waiter's event ${event.id} (“payment_intent.succeeded”). Step 1 (eshop_order_mark_paid) was done. Step 2 (notify_send) failed: it was under way when waiter stopped or its store failed, and may or may not have happened, so it is not done again. Check whether it happened before doing it by hand. No other step of it was run.`;
        await toldAndLogged(sent, said, lines, event.id);
      } finally {
        await server.close();
      }
    },
  );

  test.each([
    [
      "a run whose step was under way, its automation made a dry run since",
      false,
      [
        [0, "done"],
        [1, "started"],
      ] as [number, StepStatus, string?][],
      "automation stripe-paid failed on the delivery “D” from stripe.\nThe delivery is waiter's event E (“payment_intent.succeeded”). Step 1 (eshop_order_mark_paid) was done. Step 2 (notify_send) failed: it was under way when waiter stopped or its store failed, and may or may not have happened, so it is not done again. Check whether it happened before doing it by hand. Step 3 (ack) was not run; the event is not acknowledged.",
    ],
    [
      "a dry run whose step failed, its automation made to run for real since",
      true,
      [
        [0, "would"],
        [1, "failed", "The text is empty."],
      ] as [number, StepStatus, string?][],
      "dry run of automation stripe-paid failed on the delivery “D” from stripe.\nThe delivery is waiter's event E (“payment_intent.succeeded”). Step 1 (eshop_order_mark_paid) was checked. Step 2 (notify_send) failed: The text is empty. Step 3 (ack) was not checked.",
    ],
  ])("%s is told as it began, not as the automation is now", async (_, dryRun, steps, said) => {
    const event = await leftBehind(steps, dryRun);
    const sent = telegram.delivered.length;
    const lines: string[] = [];
    const server = await serve([{ ...PAID, dryRun: !dryRun, onFailure: { notify: "team" } }], {}, lines);
    try {
      expect((await runsOf(event.id))[0]).toMatchObject({ status: "failed", dryRun });
      await toldAndLogged(
        sent,
        said.replace("“D”", `“${event.delivery}”`).replace(" E ", ` ${event.id} `),
        lines,
        event.id,
      );
    } finally {
      await server.close();
    }
  });

  test("a step an older waiter recorded failed, its automation's steps reordered since, keeps the payload's values out of the log", async () => {
    // Recorded without the step as written: which of the automation's steps it was is not known.
    const event = await leftBehind([[0, "failed", `The shop has no order ${O.onHold}.`]]);
    const lines: string[] = [];
    const server = await serve([{ ...PAID, do: [PAID.do[2], PAID.do[0], PAID.do[1]] }], {}, lines);
    try {
      expect((await runsOf(event.id))[0]?.status).toBe("failed");
      const warned = lines.filter((line) => line.includes(`waiter's event ${event.id}`));
      expect(warned).toEqual([
        expect.stringContaining("Step 1 (eshop_order_mark_paid) failed: The shop has no order …."),
      ]);
    } finally {
      await server.close();
    }
  });

  test("a step that failed before its run was marked failed, its automation's steps reordered since, keeps the payload's values out of the log", async () => {
    const event = await leftBehind([[0, "failed", `The shop has no order ${O.onHold}.`]]);
    const s = store();
    try {
      const [run] = await s.runs.list({ eventId: event.id, limit: 1 });
      const detail = JSON.parse(run?.steps[0]?.detail ?? "{}") as object;
      const written = (PAID.do[0] as { args: object }).args;
      await s.runs.step(run?.id as number, 0, "failed", JSON.stringify({ ...detail, written }), clock.now());
    } finally {
      await s.close();
    }
    const lines: string[] = [];
    const server = await serve([{ ...PAID, do: [PAID.do[2], PAID.do[0], PAID.do[1]] }], {}, lines);
    try {
      expect((await runsOf(event.id))[0]?.status).toBe("failed");
      const warned = lines.filter((line) => line.includes(`waiter's event ${event.id}`));
      expect(warned).toEqual([
        expect.stringContaining("Step 1 (eshop_order_mark_paid) failed: The shop has no order …."),
      ]);
    } finally {
      await server.close();
    }
  });

  test.each([
    ["as they were", [{ ack: true }, PAID.do[1], PAID.do[0]]],
    ["moved since", PAID.do],
    [
      "written as tool calls",
      [
        { tool: "events_ack", args: { ids: { path: "[event.id]" } } },
        { tool: "notify_send", args: { channel: "team", text: "Paid" } },
        PAID.do[0],
      ],
    ],
  ])(
    "a run whose earlier steps acknowledged the event and told the team, its automation's steps %s, tells them alike",
    async (_, steps) => {
      const event = await leftBehind(
        [
          [0, "done"],
          [1, "done"],
          [2, "failed", "The shop has no order 999999."],
        ],
        false,
        ["events_ack", "notify_send", "eshop_order_mark_paid"],
      );
      const s = store();
      await s.ack([event.id]).finally(() => s.close());
      const sent = telegram.delivered.length;
      const server = await serve([{ ...PAID, do: steps, onFailure: { notify: "team" } }]);
      try {
        expect((await runsOf(event.id))[0]?.status).toBe("failed");
        await expect.poll(() => telegram.delivered.length - sent).toBe(1);
        expect(telegram.delivered.at(-1)?.text).toContain(
          "Steps 1-2 (ack, notify) were done. Step 3 (eshop_order_mark_paid) failed: The shop has no order 999999. ",
        );
        expect(telegram.delivered.at(-1)?.text).toMatch(
          / Step 1 acknowledged the event, so it no longer waits among those not acknowledged\.$/,
        );
      } finally {
        await server.close();
      }
    },
  );

  test("a run whose own ack step failed, its event acknowledged by an agent meanwhile, does not say the step acknowledged it", async () => {
    const event = await leftBehind([
      [0, "done"],
      [1, "done"],
      [2, "failed", "The event store failed: database is locked."],
    ]);
    const s = store();
    await s.ack([event.id]).finally(() => s.close());
    const sent = telegram.delivered.length;
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }]);
    try {
      expect((await runsOf(event.id))[0]?.status).toBe("failed");
      await expect.poll(() => telegram.delivered.length - sent).toBe(1);
      const notice = telegram.delivered.at(-1)?.text;
      expect(notice).toMatch(/ Step 3 \(events_ack\) failed: The event store failed: database is locked\.$/);
      expect(notice).not.toMatch(/acknowledged the event/);
    } finally {
      await server.close();
    }
  });

  test("a run whose ack step waited, no longer gone on with, its event acknowledged by an agent, does not say the step acknowledged it", async () => {
    const event = await leftBehind([
      [0, "done"],
      [1, "done"],
      [2, "refused"],
    ]);
    const s = store();
    await s.ack([event.id]).finally(() => s.close());
    const sent = telegram.delivered.length;
    const narrowed = { ...PAID, when: { ...PAID.when, type: "charge.refunded" }, onFailure: { notify: "team" } };
    const server = await serve([narrowed]);
    try {
      expect((await runsOf(event.id))[0]?.status).toBe("failed");
      await expect.poll(() => telegram.delivered.length - sent).toBe(1);
      const notice = telegram.delivered.at(-1)?.text;
      expect(notice).toMatch(/ Step 3 \(events_ack\) was not done\.$/);
      expect(notice).not.toMatch(/acknowledged the event/);
    } finally {
      await server.close();
    }
  });

  test("a run whose first step acknowledged the event, its automation's steps moved while a step waited, says it did", async () => {
    const event = await leftBehind(
      [
        [0, "done"],
        [1, "refused"],
      ],
      false,
      ["events_ack", "notify_send"],
    );
    const s = store();
    await s.ack([event.id]).finally(() => s.close());
    const sent = telegram.delivered.length;
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }]);
    try {
      expect((await runsOf(event.id))[0]?.status).toBe("failed");
      await expect.poll(() => telegram.delivered.length - sent).toBe(1);
      expect(telegram.delivered.at(-1)?.text).toMatch(
        / No other step of it was run\. Step 1 acknowledged the event, so it no longer waits among those not acknowledged\.$/,
      );
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
            text: `waiter: automation stripe-paid failed on the delivery “${event.delivery}” from stripe.\nThe delivery is waiter's event ${event.id} (“payment_intent.succeeded”). Step 1 (eshop_order_mark_paid) failed: The shop has no order 999999. Steps 2-3 (notify, ack) were not run; the event is not acknowledged.`,
          }),
        ]);
      expect(woo.shop.writes.filter((w) => w.method !== "GET")).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
