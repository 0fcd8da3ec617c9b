import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { request } from "undici";
import { afterAll, beforeAll, expect, test } from "vitest";
import { setClock } from "../src/time.js";
import { startCnb } from "./fakes/cnb.js";
import { startFrankfurter } from "./fakes/frankfurter.js";
import type { Fake } from "./fakes/http.js";
import { type MetFake, startMet } from "./fakes/met.js";
import { startGeocoding } from "./fakes/open-meteo.js";
import { CONSUMER_KEY, CONSUMER_SECRET, startWooCommerce, WOO_IDS, type WooCommerceFake } from "./fakes/woocommerce.js";
import { startWaiter } from "./memory.js";
import { type Session, text } from "./stdio.js";

/**
 * Some clients (Claude Code, VS Code) give the model only a result's structuredContent and drop
 * its text. So whatever the text says that matters in a tool's notable cases (a fixing of another
 * day, an order already paid, a cut payload, fewer days than asked, the next page) must be a
 * field of structuredContent too. Each case below calls the tool, reads the field, and finds what
 * the field says in the text as well; `content` is never empty.
 */

let fakes: { frankfurter: Fake; cnb: Fake; met: MetFake; geocoding: Fake; woo: WooCommerceFake };
let waiter: Session & { listenerUrl: string | undefined };

beforeAll(async () => {
  // A Prague afternoon, after both banks have published.
  setClock("2026-11-27T16:40:00Z");
  const [frankfurter, cnb, met, geocoding, woo] = await Promise.all([
    startFrankfurter(),
    startCnb(),
    startMet(),
    startGeocoding(),
    startWooCommerce(),
  ]);
  fakes = { frankfurter, cnb, met, geocoding, woo };
  waiter = await startWaiter(
    {
      WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
      WAITER_CNB_URL: `${cnb.origin}/cnbapi`,
      WAITER_CONTACT: "ops@eshop-waiter.cz",
      WAITER_MET_URL: `${met.origin}/weatherapi`,
      WAITER_GEOCODING_URL: `${geocoding.origin}/v1`,
      WAITER_WOO_URL: woo.origin,
      WAITER_WOO_KEY: CONSUMER_KEY,
      WAITER_WOO_SECRET: CONSUMER_SECRET,
      WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ trial: { scheme: "none", allowUnsigned: true } }),
      WAITER_TOOL_TIMEOUT: "5",
    },
    { listener: true },
  );
});

afterAll(async () => {
  await waiter?.close();
  await Promise.all(Object.values(fakes ?? {}).map((fake) => fake.close()));
  setClock();
});

async function post(body: string): Promise<string> {
  const response = await request(`${waiter.listenerUrl}/webhooks/trial`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  return ((await response.body.json()) as { id: string }).id;
}

interface Case {
  name: string;
  call: () => Promise<CallToolResult>;
  /** The field that carries what matters, and what of it the text must say too. */
  says: (structured: Record<string, unknown>) => string;
}

const { orders: O, products: P } = WOO_IDS;

const cases: Case[] = [
  {
    name: "currency_convert on a Saturday: the note on Friday's fixing",
    call: () => waiter.call("currency_convert", { amount: 100, from: "EUR", to: "USD", date: "2024-03-02" }),
    says: (r) => {
      expect(r).toMatchObject({ date: "2024-03-01", requested_date: "2024-03-02" });
      return r.note as string;
    },
  },
  {
    name: "currency_rates of the CNB on a Sunday: the note on Friday's fixing",
    call: () => waiter.call("currency_rates", { source: "cnb", symbols: ["EUR"], date: "2024-03-03" }),
    says: (r) => {
      expect(r).toMatchObject({ date: "2024-03-01", requested_date: "2024-03-03" });
      return r.note as string;
    },
  },
  {
    name: "weather_geocode of no place: what to try",
    call: () => waiter.call("weather_geocode", { name: "Atlantis" }),
    says: (r) => {
      expect(r.places).toEqual([]);
      return r.note as string;
    },
  },
  {
    name: "weather_current of a name several places share: the others",
    call: () => waiter.call("weather_current", { place: "Springfield" }),
    says: (r) => {
      const [other] = r.alternatives as { name: string; region: string; latitude: number }[];
      return `${other?.name}, ${other?.region}`;
    },
  },
  {
    name: "weather_forecast past the provider's reach: fewer days, said why",
    call: () => {
      fakes.met.reachHours = 180;
      return waiter.call("weather_forecast", { latitude: 50.2, longitude: 14.4, days: 10 });
    },
    says: (r) => {
      expect((r.days as { partial?: boolean }[]).at(-1)?.partial).toBe(true);
      return r.note as string;
    },
  },
  {
    name: "eshop_order_mark_paid of an order paid before: nothing changed",
    call: () => waiter.call("eshop_order_mark_paid", { id: O.processing, transaction_id: "pi_again" }),
    says: (r) => {
      expect(r).toMatchObject({ already_paid: true, order: { status: "processing" } });
      return "already paid";
    },
  },
  {
    name: "eshop_order_update_status to the status it has: nothing changed",
    call: () => waiter.call("eshop_order_update_status", { id: O.onHold, status: "on-hold" }),
    says: (r) => {
      expect(r).toMatchObject({ changed: false, previous_status: "on-hold" });
      return "was already on-hold";
    },
  },
  {
    name: "eshop_stock_set of a product whose stock was not counted",
    call: () => waiter.call("eshop_stock_set", { id: P.grinder, quantity: 5 }),
    says: (r) => {
      expect(r).toMatchObject({ started_counting: true, product: { stock_quantity: 5 } });
      return "stock was not counted before";
    },
  },
  {
    name: "eshop_orders_list with more pages: the cursor of the next",
    call: () => waiter.call("eshop_orders_list", { page_size: 1 }),
    says: (r) => `cursor "${r.next_cursor}"`,
  },
  {
    name: "events_get of a payload too large to return whole: where it was cut, and how to read the rest",
    call: async () => {
      const lines = Array.from({ length: 30 }, (_, i) => [`line_${i}`, "x".repeat(2_000)]);
      const id = await post(JSON.stringify({ type: "catalog.exported", ...Object.fromEntries(lines) }));
      return waiter.call("events_get", { id });
    },
    says: (r) => {
      expect(r.payload_cut_at).toEqual(expect.any(Number));
      expect(r.note).toMatch(/fields/);
      return `cut at ${r.payload_cut_at}`;
    },
  },
  {
    name: "events_wait with nothing arriving: timed out, and the cursor to wait from",
    call: () => waiter.call("events_wait", { type: "never.sent", timeout_s: 1 }),
    says: (r) => {
      expect(r.timed_out).toBe(true);
      return `since="${r.cursor}"`;
    },
  },
  {
    name: "events_ack of events acknowledged before and of ids never stored",
    call: async () => {
      const id = await post(JSON.stringify({ type: "order.paid", n: 1 }));
      await waiter.call("events_ack", { ids: [id] });
      return waiter.call("events_ack", { ids: [id, "01NOTSTORED"] });
    },
    says: (r) => {
      expect(r.acked).toEqual([]);
      expect(r.unknown).toEqual(["01NOTSTORED"]);
      return `Acknowledged 0. ${(r.already_acked as string[])[0]} was acknowledged at `;
    },
  },
];

test.each(cases)("$name", async ({ call, says }) => {
  const result = await call();
  expect(result.isError, text(result)).toBeFalsy();
  expect(result.content.length).toBeGreaterThan(0);
  const said = says(result.structuredContent as Record<string, unknown>);
  expect(said).toBeTruthy();
  expect(text(result)).toContain(said);
});
