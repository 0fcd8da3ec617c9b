import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, test } from "vitest";
import { CONSUMER_KEY, CONSUMER_SECRET, startWooCommerce, WOO_IDS } from "../fakes/woocommerce.js";
import { killStarted, SERVING, startNode } from "../spawn.js";
import { CLI } from "../stdio.js";

/**
 * Automations in waiter serve: from a webhook's POST to its automation's step reaching the shop
 * (an order note added to the WooCommerce fake, which answers at once), one at a time, and runs
 * per second with a burst of deliveries. Target: the step starts within 50 ms at p99.
 */

const LATENCIES = 300;
const BURST = 500;
afterAll(killStarted);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

test("webhook to automation step, and runs per second", async () => {
  const woo = await startWooCommerce();
  let noted: (() => void) | undefined;
  let notes = 0;
  woo.intercept = (req) => {
    if (req.method !== "POST" || !req.path.endsWith("/notes")) return undefined;
    notes++;
    noted?.();
    return {
      status: 201,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: notes,
        author: "waiter",
        date_created_gmt: "2026-11-27T10:00:00",
        note: "x",
        customer_note: false,
      }),
    };
  };
  const server = await startNode(
    [CLI, "serve"],
    {
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-bench-")),
      WAITER_LOG_LEVEL: "info",
      WAITER_LISTEN: "127.0.0.1:0",
      WAITER_WOO_URL: woo.origin,
      WAITER_WOO_KEY: CONSUMER_KEY,
      WAITER_WOO_SECRET: CONSUMER_SECRET,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        shop: { scheme: "none", allowUnsigned: true, idHeader: "x-delivery" },
      }),
      WAITER_AUTOMATIONS: JSON.stringify([
        {
          name: "note-it",
          when: { source: "shop", type: "order.paid" },
          do: [{ tool: "eshop_order_add_note", args: { id: WOO_IDS.orders.processing, note: "Paid: {{payload.n}}" } }],
        },
      ]),
    },
    SERVING,
  );
  let n = 0;
  const post = () =>
    request(`${server.said}/webhooks/shop`, {
      method: "POST",
      body: JSON.stringify({ type: "order.paid", n: ++n }),
      headers: { "content-type": "application/json", "x-delivery": `d${n}` },
    }).then((r) => r.body.dump());

  const latencies: number[] = [];
  for (let i = 0; i < LATENCIES; i++) {
    const arrived = new Promise<void>((resolve) => {
      noted = resolve;
    });
    const sent = performance.now();
    await post();
    await arrived;
    latencies.push(performance.now() - sent);
  }
  noted = undefined;
  latencies.sort((a, b) => a - b);
  const p99 = percentile(latencies, 0.99);
  console.log(
    `webhook POST to the automation's step reaching the shop, ${LATENCIES} one at a time: p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target <= 50: ${p99 <= 50 ? "met" : "MISSED"})`,
  );

  const before = notes;
  const started = performance.now();
  const all = new Promise<void>((resolve) => {
    noted = () => {
      if (notes - before >= BURST) resolve();
    };
  });
  // Ten senders at once: the listener holds at most 100 connections per client address.
  let queued = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (queued++ < BURST) await post();
    }),
  );
  await all;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `automation runs per second, ${BURST} deliveries from 10 senders, the shop answering at once: ${(BURST / seconds).toFixed(0)}/s`,
  );
  server.child.kill("SIGTERM");
  await server.exited;
  await woo.close();
});
