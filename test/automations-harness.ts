import { mkdtempSync } from "node:fs";
import { connect as connectTcp, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Stripe from "stripe";
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { type RunningServe, startServe } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { SqliteEventStore } from "../src/events/sqlite/store.js";
import type { RunRecord } from "../src/events/store.js";
import { Log, type LogLevel } from "../src/log.js";
import { clock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { type Fake, freePort, json } from "./fakes/http.js";
import { BOT_TOKEN, startTelegram, type TelegramFake, tooManyRequests } from "./fakes/telegram.js";
import { CONSUMER_KEY, CONSUMER_SECRET, startWooCommerce, WOO_IDS, type WooCommerceFake } from "./fakes/woocommerce.js";
import { killStarted } from "./spawn.js";
import type { Session } from "./stdio.js";

export const STRIPE_SECRET = "whsec_automations_test";
export const stripe = new Stripe("sk_test_waiter");
export const CHAT = "424242";
export const { orders: O } = WOO_IDS;

/** The payment example of docs/automations.md: a Stripe payment marks its order paid, tells the team, acknowledges. */
export const PAID = {
  name: "stripe-paid",
  when: {
    source: "stripe",
    type: "payment_intent.succeeded",
    where: [{ path: "payload.data.object.metadata.order_id", present: true }],
  },
  do: [
    {
      tool: "eshop_order_mark_paid",
      args: {
        id: { path: "to_number(payload.data.object.metadata.order_id)" },
        transaction_id: { path: "payload.data.object.id" },
      },
    },
    { notify: "team", text: "Order {{payload.data.object.metadata.order_id}} is paid ({{payload.data.object.id}})." },
    { ack: true },
  ],
};
/** A payment without an order number: only told to the team. */
export const TELL = {
  name: "tell",
  when: {
    source: "stripe",
    type: "payment_intent.succeeded",
    where: [{ path: "payload.data.object.metadata.order_id", present: false }],
  },
  do: [{ notify: "team", text: "Paid without an order: {{payload.data.object.id}}" }],
};
/** Watches every payment event without doing anything. */
export const WATCH = {
  name: "watch-payments",
  when: { source: "stripe", type: "payment_intent." },
  do: [{ notify: "team", text: "Payment event {{event.type}}" }],
  dryRun: true,
};
/** Tells the "office" channel of every Stripe event. */
export const TELL_OFFICE = { name: "office", when: { source: "stripe" }, do: [{ notify: "office", text: "Paid" }] };
/** An email channel to the test mail server on `port`, from the shop to `to`. */
export const mailChannel = (port: number, ...to: string[]) => ({
  type: "email",
  host: "127.0.0.1",
  port,
  tls: "none",
  from: "w@shop.example",
  to,
});

export let woo: WooCommerceFake;
export let telegram: TelegramFake;
export let dataDir: string;

export function env(automations: object[], extra: Record<string, string> = {}) {
  return {
    WAITER_DATA_DIR: dataDir,
    WAITER_LOG_LEVEL: "error",
    WAITER_WOO_URL: woo.origin,
    WAITER_WOO_KEY: CONSUMER_KEY,
    WAITER_WOO_SECRET: CONSUMER_SECRET,
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" } }),
    STRIPE_SECRET,
    WAITER_NOTIFY_CHANNELS: JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT], baseUrl: telegram.origin },
    }),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    WAITER_AUTOMATIONS: JSON.stringify(automations),
    WAITER_AUTOMATION_RETRY_SECONDS: "2",
    WAITER_LISTEN: "127.0.0.1:0",
    ...extra,
  };
}

/** waiter serve in this process; its log lines from `level` up go to `lines` when given. */
export async function serve(
  automations: object[],
  extra: Record<string, string> = {},
  lines?: string[],
  level: LogLevel = "info",
): Promise<RunningServe> {
  const config = loadConfig({ env: env(automations, extra) }, toolsets());
  return startServe(config, lines ? new Log(level, (line) => lines.push(line)) : new Log("error", () => {}));
}

/** Holds the answers of `fake` (Telegram by default) until the returned function is called. */
export function holdAnswers(fake: Fake = telegram): () => void {
  let release = () => {};
  fake.held = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    fake.held = undefined;
    release();
  };
}

/**
 * The team was told `said`, then what `steps` says of the steps with their arguments' values
 * (paidNotTold), once since `sent` deliveries, and the log said it in the event's one line: its
 * headline and details, which the notice has on lines of their own, one after the other, the
 * steps' arguments by their names alone.
 */
export async function toldAndLogged(
  sent: number,
  said: string,
  lines: string[],
  eventId: string,
  steps?: (values: boolean) => string,
) {
  await expect
    .poll(() => telegram.delivered.slice(sent))
    .toEqual([expect.objectContaining({ text: `waiter: ${said}${steps?.(true) ?? ""}` })]);
  expect(lines.filter((line) => line.includes(`waiter's event ${eventId}`))).toEqual([
    expect.stringContaining(`${said.replace("\n", " ")}${steps?.(false) ?? ""}\n`),
  ]);
}

export let sequence = 0;
/** The next number for a delivery id of its own. */
export function nextSequence(): number {
  return ++sequence;
}
/** A payment_intent.succeeded for `orderId`, signed by Stripe's own library; `id` repeats a delivery. */
export function pay(server: { url: string }, orderId: string | undefined, id = `evt_${++sequence}`, extra = {}) {
  return sendStripe(server, id, "payment_intent.succeeded", {
    id: `pi_${id}`,
    object: "payment_intent",
    amount_received: 1999,
    currency: "eur",
    metadata: orderId === undefined ? {} : { order_id: orderId },
    ...extra,
  });
}

/**
 * A Stripe event of `type` about `object`, signed by Stripe's own library, delivered and stored;
 * `livemode`, where given, says whether it is a live event or a test one, as Stripe's envelope does.
 */
export async function sendStripe(
  server: { url: string },
  id: string,
  type: string,
  object: object,
  livemode?: boolean,
  envelope: object = {},
) {
  const body = JSON.stringify({
    id,
    object: "event",
    type,
    ...(livemode === undefined ? {} : { livemode }),
    ...envelope,
    data: { object },
  });
  const signature = stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: STRIPE_SECRET,
    timestamp: Math.floor(clock.now() / 1000),
  });
  const response = await request(`${server.url}/webhooks/stripe`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "stripe-signature": signature },
  });
  const answer = (await response.body.json()) as { id: string; duplicate: boolean };
  expect(response.statusCode).toBe(200);
  return answer;
}

/** The store the server writes to, opened beside it as a second process would. */
export function store() {
  return new SqliteEventStore(join(dataDir, "events.db"), { maxEvents: 1000, maxBytes: 1e8, maxAgeDays: 30 });
}

export async function runsOf(eventId: string, settled = true): Promise<RunRecord[]> {
  const s = store();
  try {
    for (let waited = 0; waited < 10_000; waited += 25) {
      const runs = await s.runs.list({ eventId, limit: 10 });
      if (runs.length > 0 && (!settled || runs.every((r) => r.status !== "running"))) return runs;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no settled run for ${eventId}`);
  } finally {
    await s.close();
  }
}

/**
 * A payment whose order a server marked paid while Telegram made the team's message wait a minute
 * (a 429), the server stopped while the run waits for that message's next try: the event.
 */
export async function paidWhileTelegramWaits(delivery?: string, automation: object = PAID) {
  const first = await serve([automation], { WAITER_AUTOMATION_RETRY_SECONDS: "120" });
  telegram.queue.push(tooManyRequests(60));
  const event = await pay(first, String(O.pendingStockManaged), delivery);
  await expect
    .poll(async () => (await runsOf(event.id, false))[0]?.steps.map((s) => s.status))
    .toEqual(["done", "refused"]);
  await first.close();
  return event;
}

/** What a run paidWhileTelegramWaits left had done, as its failure notice says it. */
export function paidNotTold(delivery: string): (values: boolean) => string {
  return (values) =>
    values
      ? `Step 1 (eshop_order_mark_paid, id ${O.pendingStockManaged}, transaction_id “pi_${delivery}”) was done. Step 2 (notify_send, channel “team”, text “Order "${O.pendingStockManaged}" is paid ("pi_${delivery}").”) was not done. No other step of it was run.`
      : "Step 1 (eshop_order_mark_paid, id …, transaction_id …) was done. Step 2 (notify_send, channel …, text …) was not done. No other step of it was run.";
}

/**
 * Waits until an agent asking how the run of `eventId` goes is told its one step, mark-paid, waits
 * to try again, with `outcome` saying why and until when (polled: a try under way shows as started).
 */
export async function waitingStep(agent: Session, eventId: string, outcome: RegExp): Promise<void> {
  await expect
    .poll(async () => (await agent.call("automations_runs", { event_id: eventId })).structuredContent)
    .toMatchObject({
      runs: [
        {
          status: "running",
          steps: [{ status: "waiting", tool: "eshop_order_mark_paid", outcome: expect.stringMatching(outcome) }],
        },
      ],
    });
}

/** The shop answers every write 503 (maintenance) until woo.intercept is cleared; says how many it refused. */
export function shopDown(): () => number {
  let refused = 0;
  woo.intercept = (req) =>
    req.method === "PUT" && ++refused
      ? json(503, '{"code":"maintenance","message":"Down for maintenance"}')
      : undefined;
  return () => refused;
}

/** A loopback port nothing listens on until `open`, which forwards it to `port` from then on. */
export async function unreachableUntilOpened(port: number) {
  const sockets = new Set<Socket>();
  const held = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  };
  const server = createServer((client) => {
    const upstream = connectTcp(port, "127.0.0.1");
    held(client);
    held(upstream);
    client.pipe(upstream).pipe(client);
  });
  return {
    port: await freePort(),
    open() {
      return new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Starts the shop's and Telegram's fakes for the calling test file, and gives each test a data
 * directory of its own and a shop as it was.
 */
export function useFakes(): void {
  beforeAll(async () => {
    [woo, telegram] = await Promise.all([startWooCommerce(), startTelegram([CHAT])]);
  });
  afterAll(async () => {
    killStarted();
    await Promise.all([woo?.close(), telegram?.close()]);
  });
  beforeEach(() => {
    woo.shop.reset();
    dataDir = mkdtempSync(join(tmpdir(), "waiter-automations-"));
  });
}
