import { expect, test } from "vitest";
import { z } from "zod";
import { StepCalls } from "../../src/automations/calls.js";
import { startAutomations } from "../../src/automations/engine.js";
import { automation, type Step, toolOf, written } from "../../src/automations/rules.js";
import { whyNoRun } from "../../src/automations/tools.js";
import { type Tries, Waiting } from "../../src/automations/tries.js";
import {
  argumentsFor,
  foundNothing,
  inserted,
  insertedNothing,
  payloadHidden,
  whyNotTaken,
} from "../../src/automations/view.js";
import { coreSettings } from "../../src/config.js";
import { A_CHANGE, ToolError, UpstreamError } from "../../src/errors.js";
import { SqliteEventStore } from "../../src/events/sqlite/store.js";
import type { EventStore, StoredEvent } from "../../src/events/store.js";
import { describeFailure, READ_BEFORE_RETRYING } from "../../src/http/failures.js";
import type { HttpClientOptions } from "../../src/http/types.js";
import { Log, type LogLevel } from "../../src/log.js";
import { clock, setClock } from "../../src/time.js";
import { defineTool } from "../../src/toolset.js";

const RETENTION = { maxEvents: 100, maxBytes: 1e7, maxAgeDays: 30 };

/** The shop's step every automation here runs, doing what `run` does. */
function shopTool(run: () => Promise<Record<string, never>>, idempotentHint = false) {
  return defineTool({
    name: "shop_do",
    title: "Do",
    description: "Does it.",
    input: {},
    output: {},
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint, openWorldHint: true },
    run,
    render: () => "done",
  });
}

const ONE_STEP = automation.parse({ name: "a", when: { source: "s" }, do: [{ tool: "shop_do", args: {} }] });

const TOLD = automation.parse({
  name: "a",
  when: { source: "s" },
  do: [{ tool: "shop_do", args: {} }],
  onFailure: { notify: "team" },
});

const anEvent = (dedupeId: string) => ({
  source: "s",
  type: "t",
  scheme: "none",
  dedupeId,
  headers: {},
  body: Buffer.from("{}"),
  receivedAt: clock.now(),
});

/** What every engine here is started with but its automations, tools, store and log. */
const ENGINE = {
  sources: ["s"],
  toolTimeoutMs: 5_000,
  retryForMs: 2_000,
  leaseMs: 60_000,
  drainMs: 1_000,
  settings: {
    toolTimeout: "WAITER_TOOL_TIMEOUT",
    retry: "WAITER_AUTOMATION_RETRY_SECONDS",
    stop: "WAITER_STOP_SECONDS",
    retention: "WAITER_WEBHOOKS_RETENTION",
  },
};

/** Starts ONE_STEP on `store` with a shop that answers, keeping the lines logged at `level` in `lines`. */
async function startOneStep(store: EventStore, level: LogLevel, lines: string[], leaseMs = ENGINE.leaseMs) {
  return startAutomations({
    ...ENGINE,
    leaseMs,
    automations: [ONE_STEP],
    tools: [shopTool(async () => ({}))],
    store,
    log: new Log(level, (line) => lines.push(line)),
    historyThrough: await store.latestSeq(),
  });
}

test("a stop that comes as a step is recorded as started leaves its call to the next start, and the log says so", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  let calls = 0;
  const lines: string[] = [];
  const engine = await startAutomations({
    ...ENGINE,
    automations: [ONE_STEP],
    tools: [
      shopTool(async () => {
        calls += 1;
        return {};
      }),
    ],
    store,
    log: new Log("info", (line) => lines.push(line)),
    historyThrough: await store.latestSeq(),
  });
  // SIGTERM arrives while the step's start is being written.
  const step = store.runs.step.bind(store.runs);
  let stopped: Promise<unknown> | undefined;
  store.runs.step = async (...args: Parameters<typeof step>) => {
    if (args[2] === "started") stopped ??= engine.close();
    return step(...args);
  };
  try {
    const { id } = await store.add(anEvent("1"));
    await expect.poll(() => stopped).toBeDefined();
    await stopped;
    expect(calls).toBe(0);
    expect(lines.filter((line) => line.includes(`(event ${id})`))).toEqual([
      expect.stringMatching(
        /info +\[waiter\] automation a, run \d+ \(event .*\), step 1: waiter is stopping, so its call to shop_do is left to the next start\n$/,
      ),
    ]);
    // As said: the next start makes the call.
    store.runs.step = step;
    const next = await startOneStep(store, "error", []);
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toBe("done");
    await next.close();
  } finally {
    await stopped;
    await store.close();
  }
});

test("a waiting run whose lease check fails once, as it is due, is tried again a moment later", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  let calls = 0;
  // A shop that is down once, then answers.
  const tool = shopTool(async () => {
    calls += 1;
    if (calls === 1) throw new UpstreamError("the shop answered 503", 503);
    return {};
  }, true);
  const lease = store.runs.lease.bind(store.runs);
  let failNextLease = false;
  store.runs.lease = async (...args: Parameters<typeof lease>) => {
    if (failNextLease) {
      failNextLease = false;
      throw new Error("database is locked");
    }
    return lease(...args);
  };
  // Tries 100 ms apart; the lease is renewed only every 20 s, so the first lease call after the
  // first try is the one the waiting run makes when it is due.
  const engine = await startAutomations({
    ...ENGINE,
    automations: [ONE_STEP],
    tools: [tool],
    store,
    log: new Log("error", () => {}),
    historyThrough: await store.latestSeq(),
  });
  try {
    await store.add(anEvent("1"));
    await expect.poll(() => calls).toBe(1);
    failNextLease = true;
    await expect.poll(() => calls).toBe(2);
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toBe("done");
    expect(failNextLease).toBe(false);
  } finally {
    await engine.close();
    await store.close();
  }
});

/**
 * How long a backlog of 2,000 events takes to store and then to go through, a turn of the event
 * loop each: 9 s here with the cores shared, several times that on a loaded machine.
 */
const BACKLOG_MS = 60_000;

test(
  "a backlog of events the automations do not take leaves the process free between them: what is due meanwhile runs before the backlog is through",
  async () => {
    const store = new SqliteEventStore(":memory:", { ...RETENTION, maxEvents: 10_000 });
    const backlog = 2_000;
    for (let i = 0; i < backlog; i++) await store.add(anEvent(String(i)));
    const engine = await startAutomations({
      ...ENGINE,
      automations: [automation.parse({ ...ONE_STEP, when: { source: "s", type: "payment.paid" } })],
      tools: [shopTool(async () => ({}))],
      store,
      log: new Log("error", () => {}),
      historyThrough: 0,
    });
    try {
      // A webhook's request, an agent's call and the lease's renewal wait their turn as this does.
      const reached = await new Promise<Promise<number | undefined>>((resolve) =>
        setImmediate(() => resolve(store.runs.cursor())),
      );
      expect(await reached).toBeLessThan(backlog);
      await expect.poll(() => store.runs.cursor(), { timeout: BACKLOG_MS }).toBe(backlog);
    } finally {
      await engine.close();
      await store.close();
    }
  },
  BACKLOG_MS,
);

test("a step that failed for want of a file handle says so without the advice to try again, which waiter did", async () => {
  // The shop's request could not open a connection: every file handle was taken.
  const noHandle = describeFailure(
    Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" }),
    "WooCommerce",
    {
      url: new URL("https://shop.example/wp-json/wc/v3/orders/1"),
      changes: true,
      urlSetting: "WAITER_WOO_URL",
      urlIsWaitersOwn: false,
      changeAdvice: READ_BEFORE_RETRYING,
      change: A_CHANGE,
    },
    { signal: new AbortController().signal, deadline: Number.MAX_SAFE_INTEGER },
    { responseTimeoutMs: 15_000, connectTimeoutMs: 5_000, maxResponseBytes: 1 } as Required<HttpClientOptions>,
  );
  expect(await failedRunError(noHandle, false)).toMatch(
    /waiter has no file handle left for a connection \(.*\); if it lasts, tell whoever runs waiter\. waiter tried it/,
  );
});

/** The error of a one-step run whose step keeps failing with `error`, once the engine gives it up. */
async function failedRunError(error: Error, idempotent: boolean): Promise<string | null | undefined> {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const engine = await startAutomations({
    ...ENGINE,
    retryForMs: 300,
    automations: [ONE_STEP],
    tools: [
      shopTool(async () => {
        throw error;
      }, idempotent),
    ],
    store,
    log: new Log("error", () => {}),
    historyThrough: await store.latestSeq(),
  });
  try {
    await store.add(anEvent("1"));
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toBe("failed");
    const [run] = await store.runs.list({ limit: 1 });
    return run?.error;
  } finally {
    await engine.close();
    await store.close();
  }
}

test.each([
  {
    // Telegram at the address waiter chose, on a machine offline (macOS and Windows answer so).
    failure: Object.assign(new Error("getaddrinfo ENOTFOUND api.telegram.org"), { code: "ENOTFOUND" }),
    said: /its name does not resolve, so this machine is offline or its DNS is failing; if it lasts, check this machine's network and DNS settings\. waiter tried it/,
  },
  {
    // A read whose answer does not decode as its Content-Encoding says.
    failure: Object.assign(new Error("incorrect header check"), { code: "Z_DATA_ERROR" }),
    said: /does not decode as its Content-Encoding says \(incorrect header check\); the service may be failing; if it lasts, tell whoever runs it what it sends\. waiter tried it/,
  },
])(
  "a step that failed for now ($failure.code) says so without the advice to try again, which waiter did",
  async ({ failure, said }) => {
    const error = describeFailure(
      failure,
      "Telegram",
      {
        url: new URL("https://api.telegram.org/bot1:x/getChat"),
        changes: false,
        urlSetting: "the channel's baseUrl",
        urlIsWaitersOwn: true,
        changeAdvice: READ_BEFORE_RETRYING,
        change: A_CHANGE,
      },
      { signal: new AbortController().signal, deadline: Number.MAX_SAFE_INTEGER },
      { responseTimeoutMs: 15_000, connectTimeoutMs: 5_000, maxResponseBytes: 1 } as Required<HttpClientOptions>,
    );
    expect(await failedRunError(error, true)).toMatch(said);
  },
);

/** A shop step that fails at once with `reason`, and a channel that takes every notice: the failure is told. */
function failingShopAndChannel(told: string[], reason = "The shop has no order 7.") {
  const shop = shopTool(async () => {
    throw new ToolError(reason);
  });
  const notify = defineTool({
    name: "notify_send",
    title: "Notify",
    description: "Tells.",
    input: { channel: z.string(), text: z.string().max(4096) },
    output: {},
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run({ text }) {
      told.push(text);
      return {};
    },
    render: () => "sent to team",
  });
  return [shop, notify];
}

test("a failure told while the store could not record so once is recorded as told at the next renewal, not left for a stop to call may or may not have reached its channel", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const told: string[] = [];
  const notice = store.runs.notice.bind(store.runs);
  let busy = true;
  // Another waiter process writes to the store just as Telegram confirms the notice: only that write fails.
  store.runs.notice = async (...args: Parameters<typeof notice>) => {
    // The write that ends the notice, with what became of it.
    if (typeof args[1] === "object" && busy) {
      busy = false;
      throw new ToolError("The event store is busy: another waiter process is writing to it. Try again in a moment.");
    }
    return notice(...args);
  };
  const lines: string[] = [];
  const engine = await startAutomations({
    ...ENGINE,
    leaseMs: 300,
    automations: [TOLD],
    tools: failingShopAndChannel(told),
    store,
    log: new Log("info", (line) => lines.push(line)),
    historyThrough: await store.latestSeq(),
  });
  try {
    await store.add(anEvent("1"));
    await expect.poll(() => told.length).toBe(1);
    expect(busy).toBe(false);
    // Renewals go through every 100 ms; no other event comes.
    await expect.poll(async () => (await store.runs.untold()).length).toBe(0);
    // With what the channel answered, though the store could not record it then.
    expect((await store.runs.list({ limit: 1 }))[0]?.noticeOutcome).toEqual({ status: "told", said: "sent to team" });
  } finally {
    await engine.close();
    await store.close();
  }
  expect(lines.filter((line) => /may or may not|could not record/.test(line))).toEqual([]);
  expect(told).toHaveLength(1);
});

/** What the channel was told when the one event `automation` takes comes, its shop step failing with `reason`. */
async function toldOnce(automation: typeof TOLD, reason = "The shop has no order 7."): Promise<string | undefined> {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const told: string[] = [];
  const engine = await startAutomations({
    ...ENGINE,
    automations: [automation],
    tools: failingShopAndChannel(told, reason),
    store,
    log: new Log("error", () => {}),
    historyThrough: await store.latestSeq(),
  });
  try {
    await store.add(anEvent("1"));
    await expect.poll(() => told.length).toBe(1);
    return told[0];
  } finally {
    await engine.close();
    await store.close();
  }
}

test("a failure's reason cut to fit the notification ends with its ellipsis, without a full stop after it", async () => {
  const notice = await toldOnce(TOLD, `The shop answered with ${"x".repeat(5_000)}`);
  expect(notice).toMatch(/x…$/);
  expect(notice).toHaveLength(4096);
});

test("a failure whose words end with a model's advice to try again (the event store busy) is told to a person without it: the step is not tried again", async () => {
  const notice = await toldOnce(
    TOLD,
    "The event store is busy: a transaction left open holds it, so tell whoever runs waiter if this lasts; try again in a moment.",
  );
  expect(notice).toMatch(
    /: The event store is busy: a transaction left open holds it, so tell whoever runs waiter if this lasts\.$/,
  );
});

test("a notification of emoji is cut where notify_send counts its characters, by code point, not where JavaScript counts two for each", async () => {
  const party = "🎉".repeat(3_000);
  const notify = automation.parse({ name: "a", when: { source: "s" }, do: [{ notify: "team", text: party }] });
  expect(await toldOnce(notify)).toBe(party);
  expect(await toldOnce(notify, `${party}.`)).toBe(party);
  // A failure's reason too: the notice holds it whole.
  expect(await toldOnce(TOLD, `${party}.`)).toMatch(new RegExp(`: ${party}\\.$`, "u"));
});

/**
 * Two waiters on one store: `first` holds the automations' lease, and its store goes away (a
 * PostgreSQL replica cut off from the database) whenever `away` is set, or it waits for `frozen`,
 * while the other's answers, which takes the lease over once `lapse` has moved the clock past it:
 * however late a loaded machine runs their timers, neither lease runs out before.
 */
async function twoWaiters(told: string[] = [], tools = failingShopAndChannel(told), automations = [TOLD]) {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const firstLines: string[] = [];
  const state: { away: boolean; frozen?: Promise<void> } = { away: false };
  const unreachable = () => new ToolError("The event store's database cannot be reached (ECONNRESET).");
  const runs = Object.fromEntries(
    Object.entries(store.runs).map(([name, method]) => [
      name,
      async (...args: unknown[]) => {
        // Frozen (a machine asleep, a VM paused), it asks nothing until it wakes.
        while (state.frozen) await state.frozen;
        if (state.away) throw unreachable();
        return (method as (...a: unknown[]) => unknown).apply(store.runs, args);
      },
    ]),
  ) as unknown as SqliteEventStore["runs"];
  const cutOff = new Proxy(store, {
    get: (target, key) => {
      if (key === "runs") return runs;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const parts = {
    ...ENGINE,
    renewEveryMs: 20,
    automations,
    tools,
    historyThrough: await store.latestSeq(),
  };
  const first = await startAutomations({
    ...parts,
    store: cutOff,
    log: new Log("info", (line) => firstLines.push(line)),
  });
  const other = await startAutomations({ ...parts, store, log: new Log("error", () => {}) });
  const lapse = () => setClock(clock.now() + parts.leaseMs);
  const close = async () => {
    await first.close();
    await other.close();
    await store.close();
    setClock();
  };
  return { store, told, tools, lines: firstLines, state, other, lapse, close };
}

test("a failure a waiter told while its store was away, and another took the automations over meanwhile, is said as told when it finds so, and its stop warns of nothing left", async () => {
  const { store, told, tools, lines, state, lapse, close } = await twoWaiters();
  // The store goes away as Telegram confirms the notice.
  const notify = tools[1] as (typeof tools)[1];
  const send = notify.run;
  notify.run = async (...args) => {
    const result = await send(...args);
    state.away = true;
    lapse();
    return result;
  };
  try {
    await store.add(anEvent("1"));
    await expect.poll(() => told.length).toBe(1);
    // The other waiter finds the notice being told: that one says it may or may not have reached the team.
    await expect.poll(async () => (await store.runs.untold()).length).toBe(0);
    state.away = false;
    await expect.poll(() => lines.join("\n")).toMatch(/another waiter took over their lease/);
  } finally {
    await close();
  }
  expect(lines.filter((line) => /could not record/.test(line))).toEqual([
    expect.stringMatching(
      /warning .*automation run \d+: its failure was told, which the event store could not record before another waiter took the automations over/,
    ),
  ]);
  expect(told).toHaveLength(1);
});

test("what a step came to while its waiter's store was away, and another took the automations over meanwhile, is said when it finds so", async () => {
  const { store, told, tools, lines, state, lapse, close } = await twoWaiters();
  // The store goes away as the shop answers that it has no such order.
  const shop = tools[0] as (typeof tools)[0];
  const run = shop.run;
  shop.run = async (...args) => {
    state.away = true;
    lapse();
    return run(...args);
  };
  try {
    await store.add(anEvent("1"));
    // The other waiter takes the run up and tells the team the step may or may not have happened.
    await expect.poll(() => told.length).toBe(1);
    state.away = false;
    await expect.poll(() => lines.join("\n")).toMatch(/another waiter took over their lease/);
  } finally {
    await close();
  }
  expect(lines.filter((line) => /could not record/.test(line))).toEqual([
    expect.stringMatching(
      /warning .*automation run \d+: step 1 came to "failed" \(The shop has no order 7\.\), which the event store could not record before another waiter took the automations over/,
    ),
  ]);
});

test("a failure's notice a waiter frozen past its lease sent as it froze is not said to have been cut short once it wakes: it was sent", async () => {
  const { store, told, tools, lines, state, lapse, close } = await twoWaiters();
  // The waiter freezes as Telegram takes the notice, and wakes once the other has taken the automations over.
  const notify = tools[1] as (typeof tools)[1];
  const send = notify.run;
  notify.run = async (...args) => {
    const result = await send(...args);
    let wake = () => {};
    state.frozen = new Promise((resolve) => {
      wake = resolve;
    });
    lapse();
    await expect.poll(async () => (await store.runs.untold()).length).toBe(0);
    state.frozen = undefined;
    wake();
    return result;
  };
  try {
    await store.add(anEvent("1"));
    await expect.poll(() => lines.join("\n")).toMatch(/another waiter took over their lease/);
    await expect
      .poll(() => lines.join("\n"))
      .toMatch(
        /automation a, telling run \d+'s failure: notify_send was done \(sent to team\) after another waiter took/,
      );
  } finally {
    await close();
  }
  expect(lines.filter((line) => /may or may not|cut short/.test(line))).toEqual([]);
  expect(told).toHaveLength(1);
});

test("a waiter frozen past its lease as the shop answers, whose lease another took, used and let go before it woke, records nothing more of the run: the team is told once", async () => {
  const told: string[] = [];
  const [, notify] = failingShopAndChannel(told);
  let wake = async () => {};
  let asked = 0;
  const shop = shopTool(async () => {
    asked += 1;
    if (asked === 1) await wake();
    return {};
  }, true);
  const paidThenTold = automation.parse({
    name: "a",
    when: { source: "s" },
    do: [
      { tool: "shop_do", args: {} },
      { notify: "team", text: "Done" },
    ],
  });
  const { store, lines, state, other, lapse, close } = await twoWaiters(
    told,
    [shop, notify as typeof shop],
    [paidThenTold],
  );
  // The first waiter freezes as the shop takes its step; the other takes the run up, finishes it and stops.
  wake = async () => {
    let thaw = () => {};
    state.frozen = new Promise((resolve) => {
      thaw = resolve;
    });
    lapse();
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toBe("done");
    await other.close();
    state.frozen = undefined;
    thaw();
  };
  try {
    await store.add(anEvent("1"));
    await expect
      .poll(() => lines.join("\n"))
      .toMatch(/shop_do was done \(done\) after another waiter took the automations over/);
    await expect
      .poll(() => lines.join("\n"))
      .toMatch(/their lease on this store ran out before this waiter renewed it/);
    const [run] = await store.runs.list({ limit: 1 });
    expect(run?.steps.map((step) => step.status)).toEqual(["done", "done"]);
  } finally {
    await close();
  }
  expect(asked).toBe(2);
  expect(told).toEqual(["Done"]);
});

test("a step's failure a waiter frozen past its lease heard as it woke is logged in words for whoever runs waiter, not those a model is given", async () => {
  const told: string[] = [];
  const [, notify] = failingShopAndChannel(told);
  let wake = async () => {};
  const shop = shopTool(async () => {
    await wake();
    const busy = new ToolError(
      "The event store is busy, so tell whoever runs waiter if this lasts; try again in a moment.",
    );
    busy.logged = "The event store is busy; nothing is stored until that program lets it go.";
    throw busy;
  });
  const { store, lines, state, other, lapse, close } = await twoWaiters(told, [shop, notify as typeof shop]);
  // The first waiter freezes as the shop takes its step, whose store fails; the other takes the run up, ends it and stops.
  wake = async () => {
    let thaw = () => {};
    state.frozen = new Promise((resolve) => {
      thaw = resolve;
    });
    lapse();
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).not.toBe("running");
    await other.close();
    state.frozen = undefined;
    thaw();
  };
  try {
    await store.add(anEvent("1"));
    await expect
      .poll(() => lines.join("\n"))
      .toMatch(
        /shop_do failed \(The event store is busy; nothing is stored until that program lets it go\.\) after another waiter took the automations over/,
      );
  } finally {
    await close();
  }
  expect(lines.join("\n")).not.toMatch(/tell whoever runs waiter/);
});

test("a waiter that stops while it holds the lease without running the automations (their start failed on the store) lets it go: the next waiter need not wait it out", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  // The store takes the lease and fails the start: the next renewal would begin them again.
  store.runs.cursor = async () => {
    throw new ToolError("The event store cannot be written: the disk is full.");
  };
  const lines: string[] = [];
  const engine = await startOneStep(store, "warning", lines);
  try {
    expect(lines.join("")).toMatch(/automations could not start on a store failure/);
    await engine.close();
    expect((await store.runs.lease("next", clock.now(), 60_000)).holder).toBe("next");
  } finally {
    await engine.close();
    await store.close();
  }
});

test("a renewal that answers after a stop begins nothing: the stop leaves the runs to the next start", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const lines: string[] = [];
  // The store refuses one run's start (its disk full a moment), so the automations wait for it.
  const begin = store.runs.begin.bind(store.runs);
  let fullOnce = true;
  store.runs.begin = async (...args: Parameters<typeof begin>) => {
    if (fullOnce) {
      fullOnce = false;
      throw new Error("database or disk is full");
    }
    return begin(...args);
  };
  const engine = await startOneStep(store, "info", lines, 300);
  // Every renewal once the run is paused the store answers only once the stop is done: none can
  // take the run up first, however slow the machine.
  const paused = () => lines.some((line) => line.includes("automations paused on a store failure"));
  const lease = store.runs.lease.bind(store.runs);
  let answer = () => {};
  const held = new Promise<void>((resolve) => {
    answer = resolve;
  });
  let renewing = false;
  store.runs.lease = async (...args: Parameters<typeof lease>) => {
    if (paused()) {
      renewing = true;
      await held;
    }
    return lease(...args);
  };
  await store.add(anEvent("1"));
  await expect.poll(paused).toBe(true);
  await expect.poll(() => renewing).toBe(true);
  await engine.close();
  let asked = 0;
  store.runs.unfinished = async () => {
    asked += 1;
    return [];
  };
  answer();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(asked).toBe(0);
  expect(await store.runs.list({ limit: 1 })).toEqual([]);
  await store.close();
});

/** A listing that reads its date argument into the date given and its instant, as the shop's orders list does. */
function listTool(run: () => Promise<Record<string, never>>) {
  return defineTool({
    name: "shop_list",
    title: "List",
    description: "Lists.",
    input: { after: z.string().transform((given) => ({ given, epoch: Date.parse(given) })) },
    output: {},
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    run,
    render: () => "listed",
  });
}

const LISTS = automation.parse({
  name: "a",
  when: { source: "s" },
  do: [{ tool: "shop_list", args: { after: "2026-11-01" } }],
});

test("a step whose tool reads an argument into another shape (a date into its instant) is called with it", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const engine = await startAutomations({
    ...ENGINE,
    automations: [LISTS],
    tools: [listTool(async () => ({}))],
    store,
    log: new Log("error", () => {}),
    historyThrough: await store.latestSeq(),
  });
  try {
    await store.add(anEvent("1"));
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toMatch(/^(done|failed)$/);
    const [run] = await store.runs.list({ limit: 1 });
    expect(run).toMatchObject({ status: "done", error: null });
  } finally {
    await engine.close();
    await store.close();
  }
});

test("a step waiting for its next try, whose tool reads an argument into another shape, goes on after a restart with the same automations", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  let calls = 0;
  // The shop is down at the first try, and answers after the restart.
  const tool = listTool(async () => {
    calls += 1;
    if (calls === 1) throw new UpstreamError("the shop answered 503", 503);
    return {};
  });
  const parts = {
    ...ENGINE,
    retryForMs: 60_000,
    automations: [LISTS],
    tools: [tool],
    store,
    log: new Log("error", () => {}),
    historyThrough: await store.latestSeq(),
  };
  const first = await startAutomations(parts);
  await store.add(anEvent("1"));
  await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.steps[0]?.detail).toContain("waiting");
  await first.close();
  const second = await startAutomations(parts);
  try {
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toMatch(/^(done|failed)$/);
    const [run] = await store.runs.list({ limit: 1 });
    expect(run).toMatchObject({ status: "done", error: null });
    expect(calls).toBe(2);
  } finally {
    await second.close();
    await store.close();
  }
});

test.each([
  [
    "a change",
    ONE_STEP,
    shopTool(async () => ({}), true),
    /^done\nThe step was under way when waiter stopped .* may be that earlier try's\.$/,
  ],
  ["a read", LISTS, listTool(async () => ({})), /^listed$/],
])(
  "%s under way when waiter was killed, done again at the next start, says it was only where it changes something",
  async (_, configured, tool, said) => {
    const store = new SqliteEventStore(":memory:", RETENTION);
    const event = (await store.get((await store.add(anEvent("1"))).id)) as StoredEvent;
    const run = (await store.runs.begin("a", event.id, false, clock.now())) as number;
    const step = configured.do[0] as Step;
    const detail = {
      tool: toolOf(step),
      args: written(step),
      written: written(step),
      tries: { attempt: 0, started: clock.now() },
    };
    await store.runs.step(run, 0, "started", JSON.stringify(detail), clock.now());
    await store.runs.setCursor(event.seq);
    const engine = await startAutomations({
      ...ENGINE,
      automations: [configured],
      tools: [tool],
      store,
      log: new Log("error", () => {}),
      historyThrough: event.seq,
    });
    try {
      await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toBe("done");
      const [done] = await store.runs.list({ limit: 1 });
      expect((JSON.parse(done?.steps[0]?.detail ?? "{}") as { said?: string }).said).toMatch(said);
    } finally {
      await engine.close();
      await store.close();
    }
  },
);

test("a stop that comes as a step is recorded as started, before its call, leaves the step to be done at the next start", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  let calls = 0;
  const tool = shopTool(async () => {
    calls += 1;
    return {};
  });
  const start = () =>
    startAutomations({
      ...ENGINE,
      automations: [ONE_STEP],
      tools: [tool],
      store,
      log: new Log("error", () => {}),
      historyThrough: 0,
    });
  const first = await start();
  // SIGTERM arrives while the store records the step as started.
  const step = store.runs.step.bind(store.runs);
  let stopped: Promise<unknown> | undefined;
  store.runs.step = async (...args: Parameters<typeof step>) => {
    await step(...args);
    if (args[2] === "started") stopped ??= first.close();
  };
  await store.add(anEvent("1"));
  await expect.poll(() => stopped !== undefined).toBe(true);
  await stopped;
  store.runs.step = step;
  expect(calls).toBe(0);
  const second = await start();
  try {
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status).toBe("done");
    expect(calls).toBe(1);
  } finally {
    await second.close();
    await store.close();
  }
});

/** An event of source s whose payload is `payload`, as JSON. */
const eventWith = (dedupeId: string, payload: unknown) => ({
  ...anEvent(dedupeId),
  headers: { "content-type": "application/json" },
  body: Buffer.from(JSON.stringify(payload)),
});

/** The events `conditions` took, by their sender's ids, once the last of `payloads` is handled. */
async function takenBy(where: unknown[], payloads: unknown[]): Promise<string[]> {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const engine = await startAutomations({
    ...ENGINE,
    automations: [automation.parse({ name: "a", when: { source: "s", where }, do: [{ tool: "shop_do", args: {} }] })],
    tools: [shopTool(async () => ({}))],
    store,
    log: new Log("error", () => {}),
    historyThrough: await store.latestSeq(),
  });
  try {
    const ids: string[] = [];
    for (const [i, payload] of payloads.entries()) ids.push((await store.add(eventWith(String(i), payload))).id);
    // One more that every condition here takes: once it has its run, those before it were decided.
    const last = (await store.add(eventWith("last", { marker: true, ...(payloads.at(-1) as object) }))).id;
    await expect.poll(async () => (await store.runs.list({ limit: 50 })).some((r) => r.eventId === last)).toBe(true);
    const runs = await store.runs.list({ limit: 50 });
    return ids.flatMap((id, i) => (runs.some((r) => r.eventId === id) ? [String(i)] : []));
  } finally {
    await engine.close();
    await store.close();
  }
}

test("to_number reads only a number written as text: an empty price is no price below 5", async () => {
  // WooCommerce sends "" for the sale price of a product that is not on sale.
  const where = [{ path: "to_number(payload.sale_price)", lt: 5 }];
  expect(
    await takenBy(where, [{ sale_price: "" }, { sale_price: " " }, { sale_price: "0x1" }, { sale_price: "3.50" }]),
  ).toEqual(["3"]);
});

test("a path that finds nothing in a list, an empty list, has no value: present holds only where it finds something", async () => {
  const gift = [{ path: "payload.line_items[?sku=='GIFT-BOX']", present: true }];
  expect(await takenBy(gift, [{ line_items: [{ sku: "COF-1KG" }] }, { line_items: [{ sku: "GIFT-BOX" }] }])).toEqual([
    "1",
  ]);
  const noCoupon = [{ path: "payload.coupon_lines[*].code", present: false }];
  expect(await takenBy(noCoupon, [{ coupon_lines: [{ code: "SPRING" }] }, { coupon_lines: [] }])).toEqual(["1"]);
});

test("a notification told late says when its event came, as a later one may have reached the team first", () => {
  const view = {
    event: { id: "01J", source: "s", type: "order.paid", received_at: "2026-12-01T09:00:00Z" },
    payload: { id: 1001 },
  };
  const [notify, send] = automation.parse({
    name: "a",
    when: { source: "s" },
    do: [
      { notify: "team", text: "Order {{payload.id}} is paid." },
      { tool: "notify_send", args: { channel: "team", text: "Order {{payload.id}} is paid." } },
    ],
  }).do;
  const told = (at: string, maxText = 4000) => {
    setClock(at);
    try {
      return [notify, send].map((step) => step && argumentsFor(step, view, maxText).text);
    } finally {
      setClock();
    }
  };
  // Told as its event came, or within minutes, the message's own time says when.
  expect(told("2026-12-01T09:04:00Z")).toEqual(["Order 1001 is paid.", "Order 1001 is paid."]);
  // Its run waited for the channel, or was taken up after a stop: "Order 1002 is paid" may have come first.
  const late = "\nIts event came at 2026-12-01 09:00 UTC, and this is told only now.";
  expect(told("2026-12-01T09:30:00Z")).toEqual([`Order 1001 is paid.${late}`, `Order 1001 is paid.${late}`]);
  // Cut to fit what notify_send takes, the text gives way, not the time.
  expect(told("2026-12-01T09:30:00Z", late.length + 10)).toEqual([`Order 100…${late}`, `Order 100…${late}`]);
});

test("the event's texts a notification quotes, by template or by path, are those a channel keeps from mentioning", () => {
  const view = {
    event: { id: "01J", source: "s", type: "order.paid", received_at: "2026-12-01T09:00:00Z" },
    payload: { id: 1001, note: "@admin please", items: ["@ops"] },
  };
  const [notify, send, byPath] = automation.parse({
    name: "a",
    when: { source: "s" },
    do: [
      { notify: "team", text: "@shop_owner: order {{payload.id}} says {{payload.note}}" },
      { tool: "notify_send", args: { channel: "team", text: "Order {{payload.id}}: {{payload.items}}" } },
      { tool: "notify_send", args: { channel: "team", text: { path: "payload.note" } } },
    ],
  }).do;
  const quoted = (step: Step | undefined) => {
    const quotes: string[] = [];
    if (step) argumentsFor(step, view, 4000, false, quotes);
    return quotes;
  };
  // A number inserted is no quote; the author's own text is not the event's.
  expect(quoted(notify)).toEqual(["“@admin please”"]);
  expect(quoted(send)).toEqual(['“["@ops"]”']);
  expect(quoted(byPath)).toEqual(["“@admin please”"]);
});

test("a notification whose text is blank is not told late: the line alone would be sent for the text notify_send refuses", () => {
  const view = {
    event: { id: "01J", source: "s", type: "order.paid", received_at: "2026-12-01T09:00:00Z" },
    payload: { note: " " },
  };
  const [notify, send] = automation.parse({
    name: "a",
    when: { source: "s" },
    do: [
      { notify: "team", text: "{{payload.missing}}" },
      { tool: "notify_send", args: { channel: "team", text: "{{{payload.note}}}" } },
    ],
  }).do;
  setClock("2026-12-01T09:30:00Z");
  try {
    expect([notify, send].map((step) => step && argumentsFor(step, view, 4000).text)).toEqual(["", " "]);
  } finally {
    setClock();
  }
});

test("a template reads only the event's data: own fields, and the length of a list or text, none of JavaScript's members", () => {
  const view = {
    event: { id: "01J", source: "s", type: "order.created", received_at: "2026-12-01T09:00:00Z" },
    payload: JSON.parse('{"name": "Hoodie", "items": [{"sku": "A"}, {"sku": "B"}], "x": {}}'),
  };
  const fill = (template: string) => {
    const [step] = automation.parse({
      name: "a",
      when: { source: "s" },
      do: [{ tool: "shop_do", args: { template } }],
    }).do;
    return step && argumentsFor(step, view, 4000).template;
  };
  expect(fill("{{payload.name}} {{payload.items.1.sku}} {{payload.items.length}} {{payload.name.length}}")).toBe(
    "Hoodie B 2 6",
  );
  for (const member of [
    "{{payload.x.constructor}}",
    "{{payload.__proto__}}",
    "{{payload.name.toString}}",
    "{{payload.items.map}}",
    "{{payload.x.hasOwnProperty}}",
    "{{event.type.constructor}}",
  ]) {
    expect(fill(member), member).toBe("");
  }
});

const RAN_OUT = "their lease on this store ran out";

/**
 * An engine on a store in memory, with ONE_STEP, whose shop is down at the first try (the run waits
 * 100 ms for its next) and answers after. The renewal of the lease the waiting run makes as it is
 * due goes through `trap`, once, with the store's own lease and the renewal's arguments. `calls`
 * holds, for each call of the shop, whether the engine had said by then that its lease ran out.
 */
async function trappedResume(
  leaseMs: number,
  trap: (
    lease: EventStore["runs"]["lease"],
    args: Parameters<EventStore["runs"]["lease"]>,
    store: SqliteEventStore,
    lines: string[],
  ) => Promise<Awaited<ReturnType<EventStore["runs"]["lease"]>>>,
) {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const lines: string[] = [];
  const calls: boolean[] = [];
  const tool = shopTool(async () => {
    calls.push(lines.some((line) => line.includes(RAN_OUT)));
    if (calls.length === 1) throw new UpstreamError("the shop answered 503", 503);
    return {};
  }, true);
  const lease = store.runs.lease.bind(store.runs);
  const state = { trapped: false };
  store.runs.lease = async (...args: Parameters<typeof lease>) => {
    if (state.trapped || !/\bresume\b/.test(new Error().stack ?? "")) return lease(...args);
    state.trapped = true;
    return trap(lease, args, store, lines);
  };
  const engine = await startAutomations({
    ...ENGINE,
    leaseMs,
    automations: [ONE_STEP],
    tools: [tool],
    store,
    log: new Log("info", (line) => lines.push(line)),
    historyThrough: await store.latestSeq(),
  });
  return { store, engine, calls, state };
}

test("a step waiting for its next try whose lease check the store fails as the lease is found taken anew goes on once it is due: the automations do not stall on it", async () => {
  // The renewal the waiting run makes as it is due: while the store takes its time over it,
  // another waiter takes the lease, uses it and lets it go, and this waiter's next renewal finds
  // it taken anew; then the store fails the run's renewal.
  const { store, engine, calls, state } = await trappedResume(300, async (lease, _args, trapped, lines) => {
    expect((await lease("other", clock.now() + 400, 300)).holder).toBe("other");
    await trapped.runs.release("other");
    while (!lines.some((line) => line.includes(RAN_OUT))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new ToolError("The event store is busy: another waiter process is writing to it. Try again in a moment.");
  });
  try {
    await store.add(anEvent("1"));
    await expect.poll(() => state.trapped).toBe(true);
    await expect.poll(async () => (await store.runs.list({ limit: 1 }))[0]?.status, { timeout: 3_000 }).toBe("done");
    expect(calls).toHaveLength(2);
    // Later events have their runs.
    const later = await store.add(anEvent("2"));
    await expect
      .poll(async () => (await store.runs.list({ limit: 5 })).find((run) => run.eventId === later.id)?.status)
      .toBe("done");
  } finally {
    await engine.close();
    await store.close();
  }
});

test("a waiting run's renewal that finds the lease taken anew stops the runs until they are begun again from the store: no step is called on what this waiter knew before", async () => {
  // The renewal the waiting run makes as it is due, the store slow to answer it: another waiter
  // takes the lease meanwhile, and lets it go; then an event comes, and the renewal takes the
  // lease anew. The engine's own renewal, which says the lease ran out, is a second away.
  const { store, engine, calls, state } = await trappedResume(3_000, async (lease, args, trapped) => {
    expect((await lease("other", clock.now() + 4_000, 3_000)).holder).toBe("other");
    await trapped.runs.release("other");
    await trapped.add(anEvent("2"));
    const taken = await lease(...args);
    expect(taken).toEqual({ holder: args[0], renewed: false, until: args[1] + args[2] });
    return taken;
  });
  try {
    await store.add(anEvent("1"));
    await expect.poll(() => state.trapped).toBe(true);
    await expect
      .poll(async () => (await store.runs.list({ limit: 5 })).map((run) => run.status), { timeout: 5_000 })
      .toEqual(["done", "done"]);
    // The first try, before the lease was another's; every one after, once this waiter said so.
    expect(calls).toEqual([false, true, true]);
  } finally {
    await engine.close();
    await store.close();
  }
});

test("an automation on a type with letters beyond ASCII takes the events of that type, which the listener keeps in plain characters", () => {
  // The listener keeps "objednávka.vytvořena" as "objedn vka.vytvo ena", one line of printable ASCII.
  const stored = {
    id: "evt_1",
    seq: 1,
    source: "s",
    type: "objedn vka.vytvo ena",
    scheme: "none",
    dedupeId: "1",
    receivedAt: new Date(clock.now()).toISOString(),
    headers: {},
    payload: "{}",
    isJson: true,
    size: 2,
    ackedAt: null,
  };
  for (const type of ["objednávka.vytvořena", "objednávka.*", "objednávka."]) {
    const written = automation.parse({ name: "a", when: { source: "s", type }, do: [{ tool: "shop_do", args: {} }] });
    expect(whyNotTaken(written, stored), type).toBeUndefined();
  }
});

test("a template's insertion of a list's item by its number (.0.) is not said to find nothing where the item is there", () => {
  const [step] = automation.parse({
    name: "a",
    when: { source: "s" },
    do: [{ notify: "team", text: "First {{payload.charges.0.id}}, third {{payload.charges.2.id}}" }],
  }).do;
  const view = { payload: { charges: [{ id: "ch_first" }, { id: "ch_second" }] } } as never;
  expect(insertedNothing(foundNothing(step as never, view), false)).toBe(
    "Found nothing to insert for {{payload.charges.2.id}} in text (payload.charges has 2 items, none at 2), so it is inserted as nothing.",
  );
});

test("a value cut to fit an automation's text ends between characters a reader sees, not inside one", () => {
  // A name typed on macOS keeps its caron apart from its letter (r and U+030C); a flag is two letters.
  const name = `${"x".repeat(196)}Jir\u030C\u00ED`;
  expect(inserted(name, false)).toBe(`${"x".repeat(196)}Ji…`);
  expect(inserted(`${"x".repeat(197)}🇨🇿`, false)).toBe(`${"x".repeat(197)}…`);
  expect(inserted("x".repeat(200), false)).toBe("x".repeat(200));
});

test("a waiter that takes the automations over from one whose lease ran out says so at notice: from whom, since when, and the runs it takes up", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const added = await store.add(anEvent("1"));
  await store.runs.setCursor(await store.latestSeq());
  // A waiter on another machine, killed as it ran a step; its lease ran out 12 s ago.
  const ranOut = clock.now() - 12_000;
  await store.runs.lease("shop-2/boot/4026531836:4242:x", ranOut - 60_000, 60_000);
  const run = (await store.runs.begin("a", added.id, false, ranOut - 1_000)) as number;
  const lines: string[] = [];
  const engine = await startOneStep(store, "notice", lines);
  try {
    await expect.poll(async () => (await store.runs.unfinished()).length).toBe(0);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `notice .*automations taken over from another waiter process \\(pid 4242 on shop-2\\), whose lease ran out at ${new Date(ranOut).toISOString()}, 1[23] s ago; taken up: run ${run} \\(automation a\\)\n$`,
        ),
      ),
    ]);
  } finally {
    await engine.close();
    await store.close();
  }
});

test("a waiter that takes over many runs under way names the first ten, and says how many more", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  const added = [];
  for (let i = 1; i <= 25; i++) added.push(await store.add(anEvent(`${i}`)));
  await store.runs.setCursor(await store.latestSeq());
  const ranOut = clock.now() - 12_000;
  await store.runs.lease("shop-2/boot/4026531836:4242:x", ranOut - 60_000, 60_000);
  const runs: number[] = [];
  for (const event of added) runs.push((await store.runs.begin("a", event.id, false, ranOut - 1_000)) as number);
  const lines: string[] = [];
  const engine = await startOneStep(store, "notice", lines);
  try {
    await expect.poll(async () => (await store.runs.unfinished()).length).toBe(0);
    const named = runs
      .slice(0, 10)
      .map((run) => `run ${run} \\(automation a\\)`)
      .join(", ");
    expect(lines).toEqual([expect.stringMatching(new RegExp(`; taken up: ${named} and 15 more\n$`))]);
  } finally {
    await engine.close();
    await store.close();
  }
});

test("a waiter that waits for the lease of a holder named as older waiters named them says who holds it and until when, not that it runs the automations", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  // A store restored from a backup holds the lease of a waiter before pid namespaces were named.
  const until = clock.now() + 10_000;
  await store.runs.lease("shop-1:4242:x", until - 60_000, 60_000);
  const lines: string[] = [];
  const engine = await startOneStep(store, "notice", lines);
  try {
    expect(lines).toEqual([
      expect.stringMatching(
        `notice .*automations: their lease on this store is held by pid 4242 on shop-1 until ${new Date(until).toISOString()}: by a waiter that runs them while it renews it, or one that stopped without letting it go; this one takes them over if it is not renewed by then`,
      ),
    ]);
  } finally {
    await engine.close();
    await store.close();
  }
});

test("a condition's path through a number or a true/false value says what it found there, as a template's does", () => {
  const stored = {
    id: "evt_1",
    seq: 1,
    source: "s",
    type: "order.paid",
    scheme: "none",
    dedupeId: "1",
    receivedAt: new Date(clock.now()).toISOString(),
    headers: {},
    payload: JSON.stringify({ total: 1250, paid: true }),
    isJson: true,
    size: 2,
    ackedAt: null,
  };
  const said = (path: string) =>
    whyNotTaken(
      automation.parse({ name: "a", when: { source: "s", where: [{ path, equals: "CZK" }] }, do: [{ ack: true }] }),
      stored,
    );
  expect(said("payload.total.currency")).toBe(
    "condition 1 does not hold (payload.total.currency is null; payload.total is a number)",
  );
  expect(said("payload.paid.at")).toBe("condition 1 does not hold (payload.paid.at is null; payload.paid is true)");
});

test("a condition comparing true or false with the same word the payload holds as text, or the other way round, says which", () => {
  // Comgate writes its test flag as text ("false"); Stripe its livemode as true or false.
  const stored = {
    id: "evt_1",
    seq: 1,
    source: "s",
    type: "payment.paid",
    scheme: "none",
    dedupeId: "1",
    receivedAt: new Date(clock.now()).toISOString(),
    headers: {},
    payload: JSON.stringify({ test: "false", livemode: true }),
    isJson: true,
    size: 2,
    ackedAt: null,
  };
  const said = (condition: object) =>
    whyNotTaken(
      automation.parse({ name: "a", when: { source: "s", where: [condition] }, do: [{ ack: true }] }),
      stored,
    );
  expect(said({ path: "payload.test", equals: false })).toBe(
    'condition 1 does not hold (payload.test is "false", true or false as text: write the value to compare in quotes, "false")',
  );
  expect(said({ path: "payload.test", in: [false] })).toBe(
    'condition 1 does not hold (payload.test is "false", true or false as text: write the value to compare in quotes, "false")',
  );
  expect(said({ path: "payload.livemode", equals: "true" })).toBe(
    "condition 1 does not hold (payload.livemode is true, true or false: write the value to compare without quotes)",
  );
  expect(said({ path: "payload.test", equals: true })).toBe(
    'condition 1 does not hold (payload.test is "false", true or false as text: write the value to compare in quotes, "true")',
  );
  // Text that is no such word is only what the path found.
  expect(said({ path: "payload.livemode", equals: "yes" })).toBe(
    "condition 1 does not hold (payload.livemode is true)",
  );
});

/**
 * The seconds after the first try at which a step is tried, with a retry time of `retrySeconds`,
 * against a mail server that greylists for `greylistSeconds`, refusing the step's email for now
 * (451) until then, each try at its instant by the test clock; the last is the one it took.
 */
async function greylistedTries(retrySeconds: number, greylistSeconds: number): Promise<number[]> {
  const first = clock.now();
  const greylisting = shopTool(async () => {
    if (clock.now() - first < greylistSeconds * 1000) {
      throw new UpstreamError("451 4.7.1 Greylisted", 451, undefined, true);
    }
    return {};
  });
  const calls = new StepCalls({
    ...ENGINE,
    retryForMs: retrySeconds * 1000,
    tools: [greylisting],
    log: new Log("error", () => {}),
    stopping: new AbortController().signal,
    holding: () => async () => true,
    holdingNow: () => () => true,
  });
  const triedAt: number[] = [];
  let tries: Tries | undefined;
  try {
    for (;;) {
      triedAt.push(Math.round((clock.now() - first) / 1000));
      try {
        await calls.call("shop_do", {}, "automation a", async () => {}, tries);
        return triedAt;
      } catch (err) {
        if (!(err instanceof Waiting)) throw err;
        tries = err.tries;
        setClock(clock.now() + err.ms);
      }
    }
  } finally {
    setClock();
  }
}

test("at the default retry time, a step refused for now is tried past the 5 minutes a greylisting mail server refuses a new sender for", async () => {
  // postgrey's default --delay: the same sender and recipient are refused for 300 s from the first try.
  const retry = coreSettings.automationRetrySeconds.schema.parse(undefined);
  expect(await greylistedTries(retry, 300)).toEqual([0, 2, 6, 14, 30, 62, 126, 254, 510]);
});

test.each([
  [1800, 1710],
  [3600, 3510],
])(
  "a retry time of %i s tries a greylisted step last %i s after the first, as docs/automations.md says",
  async (retry, last) => {
    expect((await greylistedTries(retry, last)).at(-1)).toBe(last);
    await expect(greylistedTries(retry, last + 1)).rejects.toThrow(/is not tried again/);
  },
);

test("a shop down for hours, with a retry time of a day, has its step tried hourly at most to its end, not every 5 minutes", async () => {
  // Back 5 hours after the first try: tried within the hour, not hours later.
  const tries = await greylistedTries(86_400, 5 * 3600);
  expect(tries.at(-1)).toBeLessThanOrEqual(5 * 3600 + 3600);
  expect(Math.max(...tries.slice(1).map((at, i) => at - (tries[i] as number)))).toBe(3600);
  // Still down near the end of the day: tried within its last hour, then given up. Each try at a
  // shop that hangs takes the tool timeout, one run's after another's: some thirty a day, not 288.
  const allDay = await greylistedTries(86_400, 86_400 - 3600);
  expect(allDay.at(-1)).toBeGreaterThanOrEqual(86_400 - 3600);
  expect(allDay.length).toBeLessThan(40);
});

test("a Retry-After longer than the longest wait between tries is waited out whole", async () => {
  // A shop's rate limit asks for 15 minutes; at a retry time of an hour, waits between tries end at 5.
  const limited = shopTool(async () => {
    throw new UpstreamError("429 Too Many Requests", 429, 900);
  }, true);
  const calls = new StepCalls({
    ...ENGINE,
    retryForMs: 3_600_000,
    tools: [limited],
    log: new Log("error", () => {}),
    stopping: new AbortController().signal,
    holding: () => async () => true,
    holdingNow: () => () => true,
  });
  const waited = await calls.call("shop_do", {}, "automation a", async () => {}).catch((err: unknown) => err);
  expect(waited).toBeInstanceOf(Waiting);
  expect((waited as Waiting).ms).toBe(900_000);
});

test("a step the shop refuses for now within the drain time is said to be left to the next start, as one it answers 5xx", async () => {
  const stopping = new AbortController();
  // SIGTERM arrives while the shop's 429 is on its way.
  const limited = shopTool(async () => {
    stopping.abort();
    throw new UpstreamError("429 Too Many Requests", 429, 1);
  });
  const lines: string[] = [];
  const calls = new StepCalls({
    ...ENGINE,
    tools: [limited],
    log: new Log("info", (line) => lines.push(line)),
    stopping: stopping.signal,
    holding: () => async () => true,
    holdingNow: () => () => true,
  });
  await expect(calls.call("shop_do", {}, "automation a", async () => {})).rejects.toThrow("waiter is stopping");
  expect(lines).toEqual([
    expect.stringMatching(
      /info +\[waiter\] automation a: shop_do failed \(429 Too Many Requests\.\); waiter is stopping, so its next try, due in 1 s, is left to the next start\n$/,
    ),
  ]);
});

test("an automation a waiter that just took the lease has not begun is told to have its run to come, not to be missing from that waiter", async () => {
  const store = new SqliteEventStore(":memory:", RETENTION);
  await store.add(anEvent("1"));
  await store.runs.setCursor(await store.latestSeq());
  const { id } = await store.add(anEvent("2"));
  const event = (await store.get(id)) as StoredEvent;
  // A waiter restarted with the automation added has the lease, and has not yet begun its automations.
  await store.runs.lease("restarted", clock.now(), ENGINE.leaseMs);
  expect(await whyNoRun([ONE_STEP], store.runs, event, new Set())).toBe(
    "a takes it and has not run on it yet: the automations take events in the order stored, and the waiter that runs them now has not reached this one.",
  );
  // Passed by waiters none of which was configured with it, it will not run on the event.
  await store.runs.setCursor(event.seq);
  expect(await whyNoRun([ONE_STEP], store.runs, event, new Set())).toBe(
    "a takes it but will not run on it: the automations passed it, and no waiter that ran them on this store was configured with a; give every waiter on it the same automations. What the automation does is left to be done by hand.",
  );
  store.close();
});

test("the log hides a payload's short value wherever it stands as a word, not the same digits as a status, a wait or another number", () => {
  expect(
    payloadHidden(
      "WooCommerce answered 503; try again in 2 s. Product 2 (“2”, quantity=2, /products/2) has 12 in stock, v1.2, steps 2-3; ids 7, 2.",
      ["2"],
    ),
  ).toBe(
    "WooCommerce answered 503; try again in 2 s. Product … (“…”, quantity=…, /products/…) has 12 in stock, v1.2, steps 2-3; ids 7, ….",
  );
  expect(payloadHidden("The shop answered 404 for order 404 (status 404).", ["404"], 404)).toBe(
    "The shop answered 404 for order … (status 404).",
  );
  expect(payloadHidden("Eva's note (Eva), “Eva”", ["Eva"])).toBe("…'s note (…), “…”");
});

test("the log keeps a payload's short number that looks like a status only where the error's own status is that number", () => {
  const said =
    'WooCommerce refused the request (400 woocommerce_rest_locked: "Order (250) is locked: status 250, answered 250").';
  const hidden =
    'WooCommerce refused the request (400 woocommerce_rest_locked: "Order (…) is locked: status …, answered …").';
  expect(payloadHidden(said, ["250"], 400)).toBe(hidden);
  // An error that says no status (one stored before a restart) keeps none: the number is hidden.
  expect(payloadHidden(said, ["250"])).toBe(hidden);
  expect(payloadHidden("The shop answered 404 (404 no_route)", ["404"])).toBe("The shop answered … (… no_route)");
});

test("the log hides a payload's short value that holds a dash, a dot or a colon as one, not as part of a larger number", () => {
  expect(
    payloadHidden("Invoice 2024-17 is locked (2024-17); paid 12.50 at 9:30, of 12.5, 2024-170.", [
      "2024-17",
      "12.50",
      "9:30",
    ]),
  ).toBe("Invoice … is locked (…); paid … at …, of 12.5, 2024-170.");
});

test("the log hides a payload's short order number however the words number it", () => {
  expect(
    payloadHidden(
      "Bestellung Nr. 404; Order No. 404; objednávka č. 404\n404 is locked [404] n°404 order  404 (order 12) (404 locked_order",
      ["404", "12"],
      404,
    ),
  ).toBe("Bestellung Nr. …; Order No. …; objednávka č. …\n… is locked […] n°… order  … (order …) (404 locked_order");
  expect(payloadHidden("Jan s manželkou (Jan, 12 s)", ["Jan", "12"])).toBe("… s manželkou (…, 12 s)");
  expect(payloadHidden("Cannot reach chat 403 (403: Forbidden); chat (12)", ["403", "12"], 403)).toBe(
    "Cannot reach chat … (403: Forbidden); chat (…)",
  );
});
