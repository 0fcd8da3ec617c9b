import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { type RunningServe, startServe, startWebhooks } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { Log } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { env, O, PAID, pay, runsOf, serve, store, TELL, telegram, useFakes, woo } from "./automations-harness.js";
import type { SeenRequest } from "./fakes/http.js";
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
        /^waiter: automation tell failed on the delivery “evt_stop_unanswered” from stripe\.\n.* may or may not have happened/,
      ),
    ]);
  } finally {
    await third.close();
  }
});

test("a step the stop cut is said in the log as the stop cuts it, with the drain time's setting as it was set", async () => {
  const lines: string[] = [];
  const server = await serveLeased([TELL], { WAITER_STOP_SECONDS: "1" }, lines);
  let release = () => {};
  telegram.held = new Promise<void>((resolve) => {
    release = resolve;
  });
  try {
    const event = await pay(server, undefined, "evt_cut_by_stop");
    await expect.poll(() => telegram.requests.filter((r) => r.body.includes("evt_cut_by_stop")).length).toBe(1);
    // Which the stop's last line says, once all is closed.
    expect(await server.close()).toEqual({ cut: true });
    expect(lines.filter((line) => line.includes(`(event ${event.id})`))).toEqual([
      expect.stringMatching(
        new RegExp(
          ` notice +\\[waiter\\] automation tell, run \\d+ \\(event ${event.id}\\), step 1: notify_send had no answer within the stop's drain time \\(WAITER_STOP_SECONDS, 1 s\\) and was cut; the next start takes its run up\n$`,
        ),
      ),
    ]);
  } finally {
    release();
    telegram.held = undefined;
  }
});

test("a step whose answer, within the drain time, sends it to wait for a next try is said to be left to the next start, not tried again", async () => {
  const lines: string[] = [];
  // A retry time the test's own pace does not use up: on a busy machine the 503 came 2.3 s after
  // the try, past the harness's 2 s, and the run failed for good. 15 s makes the next try 750 ms.
  const server = await serveLeased([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "15" }, lines);
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // The shop's 503 to the order's change waits until the stop has begun.
  woo.intercept = (req) => {
    if (req.method !== "PUT") return undefined;
    woo.held = held;
    return {
      status: 503,
      headers: { "content-type": "application/json" },
      body: '{"code":"maintenance","message":"Down"}',
    };
  };
  try {
    const event = await pay(server, String(O.pending1999), "evt_stop_before_retry");
    await expect.poll(() => woo.requests.filter((r) => r.method === "PUT").length).toBe(1);
    const stopped = server.close();
    setTimeout(release, 300);
    await stopped;
    expect(lines.filter((line) => line.includes(`(event ${event.id})`))).toEqual([
      expect.stringMatching(
        /step 1: eshop_order_mark_paid failed \(WooCommerce answered 503 .*\); waiter is stopping, so its next try, due in \d+ ms, is left to the next start\n$/,
      ),
    ]);
  } finally {
    woo.intercept = undefined;
    woo.held = undefined;
    release();
  }
});

test("a step the shop asks, during the drain time, to wait for past the retry time fails, as it would without the stop, not waited out at the next start", async () => {
  const server = await serveLeased([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "15" });
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // The shop's 429 to the order's change, asking for an hour, waits until the stop has begun.
  woo.intercept = (req) => {
    if (req.method !== "PUT") return undefined;
    woo.held = held;
    return {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "3600" },
      body: '{"code":"too_many_requests","message":"Slow down"}',
    };
  };
  try {
    const puts = woo.requests.filter((r) => r.method === "PUT").length;
    const event = await pay(server, String(O.pending1999), "evt_stop_asked_past_retry");
    await expect.poll(() => woo.requests.filter((r) => r.method === "PUT").length).toBe(puts + 1);
    const stopped = server.close();
    release();
    await stopped;
    const [run] = await runsOf(event.id, false);
    expect(run?.status).toBe("failed");
    expect(run?.error).toMatch(
      /^step 1 \(eshop_order_mark_paid\): .* waiter tried it once; it asked not to be tried again before \d{4}-\d\d-\d\d \d\d:\d\d UTC, after the retry time \(WAITER_AUTOMATION_RETRY_SECONDS, 15 s\), so it is not tried again\.$/,
    );
  } finally {
    woo.intercept = undefined;
    woo.held = undefined;
    release();
  }
});

test("a stop that waits for a step's answer keeps the automations' lease meanwhile: no other waiter takes up the run under way and reports it as may or may not have happened", async () => {
  const server = await serveLeased([TELL], {}, [], 1.5);
  let release = () => {};
  telegram.held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const s = store();
  let stopped: Promise<unknown> | undefined;
  try {
    await pay(server, undefined, "evt_stop_keeps_lease");
    await expect.poll(() => telegram.requests.filter((r) => r.body.includes("evt_stop_keeps_lease")).length).toBe(1);
    stopped = server.close();
    // Telegram's answer still on its way within the drain time (10 s), the lease is renewed past
    // where it stood as the stop began, twice at least (each 0.5 s): once since, if not twice. Each
    // look is another waiter's try to take it.
    const { until } = await s.runs.lease("elsewhere", clock.now(), 60_000);
    const holders: string[] = [];
    await expect
      .poll(async () => {
        const lease = await s.runs.lease("elsewhere", clock.now(), 60_000);
        holders.push(lease.holder);
        return lease.until - until;
      })
      .toBeGreaterThan(750);
    expect(holders).not.toContain("elsewhere");
  } finally {
    await s.runs.release("elsewhere");
    release();
    telegram.held = undefined;
    await stopped;
    await s.close();
  }
}, 20_000);

test("kill -9 while the order is being paid: after a restart it is not paid twice, and the team is told once", async () => {
  const first = await startNode([CLI, "serve"], { ...env([PAID]), WAITER_LOG_LEVEL: "info" }, SERVING);
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

    // Started again in this process: a second process's start, on a loaded machine, took the
    // most of the test's time, up to its limit.
    const lines: string[] = [];
    const second = await serve([PAID], {}, lines);
    try {
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      // The step was redone (marking paid is idempotent): it found the order paid and changed nothing.
      expect(woo.shop.writes.filter((w) => w.method === "PUT").length).toBe(paidBefore);
      // What it found done is said to be, most likely, its own try's, not a payment made elsewhere.
      const { said } = JSON.parse(run?.steps[0]?.detail ?? "{}") as { said?: string };
      expect(said).toMatch(
        /^Order #\d+ \(id \d+\) was already paid .*; nothing was changed\.[\s\S]*\nThe step was under way when waiter stopped or its store failed, and was done again, as it is safe to repeat: what it found done may be that earlier try's\.$/,
      );
      expect(lines.join("")).toMatch(
        /eshop_order_mark_paid done for automation stripe-paid, run \d+ \(event \S+\), step 1: Order #\d+ \(id \d+\) was already paid .*; nothing was changed\..* The step was under way when waiter stopped/,
      );
      expect(woo.shop.order(O.pendingStockManaged).status).toBe("processing");
      expect(telegram.delivered.length - sent).toBe(1);
    } finally {
      await second.close();
    }
  } finally {
    woo.intercept = undefined;
  }
});

/**
 * Serves a waiter with a 3-second lease paying orders, which the shop freezes (SIGSTOP) as it
 * answers the first request `freezes` matches. `other` then serves another waiter in this process,
 * its clock put past the frozen one's lease, which it takes over at its first renewal however late a
 * loaded machine runs either: the frozen one, alone until it froze, held the lease meanwhile, and the
 * other's own (30 s) outlasts any late renewal. `wake` wakes the frozen one once its own (real)
 * clock is past its lease too; `stopWoken` stops it and says what it did meanwhile; `stop` ends it
 * and closes the other.
 */
// Two built servers, one frozen and woken: on a busy machine their starts alone take many seconds.
const FROZEN_TEST_MS = 60_000;

async function frozenAndOther(freezes: (req: SeenRequest) => boolean) {
  const leaseMs = 3_000;
  const lease = { WAITER_AUTOMATION_LEASE_SECONDS: String(leaseMs / 1000) };
  const frozen = await startNode([CLI, "serve"], { ...env([PAID], lease), WAITER_LOG_LEVEL: "info" }, SERVING);
  let frozeAt = 0;
  const froze = new Promise<void>((resolve) => {
    woo.intercept = (req) => {
      if (!freezes(req)) return undefined;
      woo.intercept = undefined;
      frozen.child.kill("SIGSTOP");
      frozeAt = Date.now();
      resolve();
      return undefined;
    };
  });
  let other: RunningServe | undefined;
  return {
    frozen,
    other: async () => {
      await froze;
      // Its last renewal came before it froze: the lease it holds runs until leaseMs after at most.
      setClock(Date.now() + leaseMs + 1);
      other = await serveLeased([PAID]);
    },
    wake: async () => {
      for (let left = frozeAt + leaseMs - Date.now(); left >= 0; left = frozeAt + leaseMs - Date.now()) {
        await new Promise((resolve) => setTimeout(resolve, left + 1));
      }
      frozen.child.kill("SIGCONT");
    },
    /**
     * Stops the woken one, and returns the run of `eventId` as the store has it then and the lines
     * the woken one logged of steps after the first or of what it left to the next start: a stop
     * puts off unsent a message it had not yet begun, and only the store and the log show it began.
     */
    stopWoken: async (eventId: string) => {
      frozen.child.kill("SIGTERM");
      await frozen.exited;
      const [run] = await runsOf(eventId);
      const lines = frozen.stderr().split("\n");
      return { run, putOff: lines.filter((line) => /step [2-9]\b|next start|cut short/.test(line)) };
    },
    stop: async () => {
      woo.intercept = undefined;
      frozen.child.kill("SIGCONT");
      frozen.child.kill("SIGKILL");
      await frozen.exited;
      await other?.close();
      setClock();
    },
  };
}

test(
  "a waiter frozen past its lease while the order is being paid (a machine asleep, a VM paused) does nothing more of the run once it wakes: the other waiter, which took the run up, tells the team once",
  async () => {
    // The shop records the payment while the process that asked for it is frozen, its answer waiting.
    const { frozen, other, wake, stopWoken, stop } = await frozenAndOther((req) => req.method === "PUT");
    const sent = telegram.delivered.length;
    try {
      const event = await pay({ url: frozen.said }, String(O.pending1999), "evt_frozen");
      await other();
      // The other waiter takes the lease over and does the run: the order is paid, so it only tells.
      await expect.poll(async () => (await runsOf(event.id, false))[0]?.status).toBe("done");
      expect(telegram.delivered.length - sent).toBe(1);
      const [done] = await runsOf(event.id);
      await wake();
      // Woken, it has the shop's answer, and its lease timer finds the lease another's.
      await expect.poll(() => frozen.stderr()).toMatch(/another waiter took over their lease/);
      await expect
        .poll(() => frozen.stderr())
        .toMatch(/step 1: eshop_order_mark_paid was done \(.*\) after another waiter took the automations over/);
      // Stopped and gone, it has sent nothing more, nor begun or put off anything more of the run.
      const { run, putOff } = await stopWoken(event.id);
      expect(telegram.delivered.length - sent).toBe(1);
      expect(putOff).toEqual([]);
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      expect(run).toEqual(done);
    } finally {
      await stop();
    }
  },
  FROZEN_TEST_MS,
);

test(
  "a waiter frozen past its lease as it reads the order sends no change once it wakes: the order is paid once, by the waiter that took the run up",
  async () => {
    // The shop answers the order's read while the process that asked for it is frozen, the answer
    // (the order still pending) waiting for it.
    const { frozen, other, wake, stopWoken, stop } = await frozenAndOther(
      (req) => req.method === "GET" && req.path.endsWith(`/orders/${O.pending1999}`),
    );
    const sent = telegram.delivered.length;
    const changes = () => woo.requests.filter((r) => r.method === "PUT" && r.path.endsWith(`/orders/${O.pending1999}`));
    const before = changes().length;
    try {
      const event = await pay({ url: frozen.said }, String(O.pending1999), "evt_frozen_reading");
      await other();
      await expect.poll(async () => (await runsOf(event.id, false))[0]?.status).toBe("done");
      expect(changes().length - before).toBe(1);
      const [done] = await runsOf(event.id);
      await wake();
      await expect
        .poll(() => frozen.stderr())
        .toMatch(/step 1: eshop_order_mark_paid failed \(.*\) after another waiter took the automations over/);
      // Stopped and gone, it has changed and sent nothing more, nor begun or put off anything more of the run.
      const { run, putOff } = await stopWoken(event.id);
      expect(changes().length - before).toBe(1);
      expect(telegram.delivered.length - sent).toBe(1);
      expect(putOff).toEqual([]);
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      expect(run).toEqual(done);
    } finally {
      await stop();
    }
  },
  FROZEN_TEST_MS,
);

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
      /** Until when the lease runs, as its last renewal set it. */
      leaseUntil: () => server?.prepare("SELECT until FROM automation_lease").pluck().get(),
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
    const { running, leaseUntil, makeRoom } = await serveOnFullDisk([BIG], lines, 3);
    try {
      await expect
        .poll(() => lines.join(""), { timeout: 5_000 })
        .toMatch(/automations paused on a store failure: The event store cannot be written \(SQLITE_FULL/);
      // The lease is renewed every second meanwhile, and the run tried again at each renewal: twice here.
      const renewals = new Set([leaseUntil()]);
      await expect.poll(() => renewals.add(leaseUntil()).size).toBe(3);
      expect(telegram.delivered.length).toBe(sent);
      // The renewals that went through are not the store answering again: the run is not recorded yet.
      expect(lines.filter((line) => /automations paused|answers again/.test(line))).toHaveLength(1);
      makeRoom();
      await expect.poll(async () => (await runsOf(id, false))[0]?.status, { timeout: 5_000 }).toBe("done");
      expect(telegram.delivered.length).toBe(sent + 1);
      // The run's record and the resume's line are written apart: the line may come a moment after.
      await expect
        .poll(() => lines.filter((line) => /answers again/.test(line)))
        .toEqual([
          expect.stringMatching(
            /automations resume: the event store answers again, after (?:[3-9]|[1-9]\d+) failed attempts over (?:[2-9]|[1-9]\d+) s/,
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
      /warning .*automations could not start on a store failure: The event store cannot be written .*Nothing is stored until whoever runs waiter frees space there or makes the file writable\.\n$/,
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

test("a stop asked for as waiter serve or listen starts its automations ends the start there: nothing is said to be served", async () => {
  for (const start of [startServe, startWebhooks]) {
    const lines: string[] = [];
    const controller = new AbortController();
    const starting = {
      signal: controller.signal,
      set step(step: string) {
        if (step === "starting the automations") controller.abort();
      },
    };
    const config = loadConfig({ env: env([PAID]) }, toolsets());
    const ended = await start(config, new Log("info", (line) => lines.push(line)), starting).catch(
      (err: unknown) => err,
    );
    expect(ended).toBe(controller.signal.reason);
    expect(lines.filter((line) => /serving|listening|source stripe/.test(line))).toEqual([]);
  }
});
