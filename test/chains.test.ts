import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { clock, setClock } from "../src/time.js";
import { type ComgateFake, notification, startComgate } from "./fakes/comgate.js";
import { startFrankfurter } from "./fakes/frankfurter.js";
import { type GoPayFake, startGoPay } from "./fakes/gopay.js";
import type { Fake } from "./fakes/http.js";
import { startMet } from "./fakes/met.js";
import { startGeocoding } from "./fakes/open-meteo.js";
import { type MailServer, mailText, startMailServer } from "./fakes/smtp.js";
import { BOT_TOKEN, startTelegram, type TelegramFake } from "./fakes/telegram.js";
import { CONSUMER_KEY, CONSUMER_SECRET, startWooCommerce, WOO_IDS, type WooCommerceFake } from "./fakes/woocommerce.js";
import { startWaiter } from "./memory.js";
import { type Session, text } from "./stdio.js";

/**
 * Chains of tools as a model runs them: what one tool says (its text or its structured content)
 * copied into the next one's arguments, starting from webhooks signed as their providers sign them.
 */

const STRIPE_SECRET = "whsec_chain_test_secret_0123";
const WOO_SECRET = "woo-chain-secret-0123";
const stripe = new Stripe("sk_test_chains");
const GOPAY_CLIENT = "1744960415";
const GOPAY_SECRET = "h9wyRz2s";
const COMGATE_MERCHANT = "498621";
const COMGATE_SECRET = "ZqVmRr0lUFRm7ZXbHpd7QnSGfCbVnw5U";
const SHOPIFY_SECRET = "shpss_chain_test_secret_0123456789";
const GITHUB_SECRET = "github-chain-secret-0123456789";
const CHAT = "-1001234567890";

let frankfurter: Fake;
let geocoding: Fake;
let met: Fake;
let woo: WooCommerceFake;
let gopay: GoPayFake;
let comgate: ComgateFake;
let telegram: TelegramFake;
let smtp: MailServer;
let waiter: Session & { listenerUrl: string | undefined };

beforeAll(async () => {
  [frankfurter, geocoding, met, woo, gopay, comgate, telegram, smtp] = await Promise.all([
    startFrankfurter(),
    startGeocoding(),
    startMet(),
    startWooCommerce(),
    startGoPay(GOPAY_CLIENT, GOPAY_SECRET),
    startComgate(COMGATE_MERCHANT, COMGATE_SECRET),
    startTelegram([CHAT]),
    startMailServer(),
  ]);
  waiter = await startWaiter(
    {
      WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
      WAITER_GEOCODING_URL: `${geocoding.origin}/v1`,
      WAITER_MET_URL: `${met.origin}/weatherapi`,
      WAITER_CONTACT: "ops@eshop-waiter.cz",
      WAITER_WOO_URL: woo.origin,
      WAITER_WOO_KEY: CONSUMER_KEY,
      WAITER_WOO_SECRET: CONSUMER_SECRET,
      WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      WOO_WEBHOOK_SECRET: WOO_SECRET,
      GOPAY_SECRET,
      COMGATE_SECRET,
      SHOPIFY_SECRET,
      GITHUB_SECRET,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        stripe: { scheme: "stripe", secretEnv: "STRIPE_WEBHOOK_SECRET" },
        shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" },
        gopay: { scheme: "gopay", clientId: GOPAY_CLIENT, secretEnv: "GOPAY_SECRET", apiUrl: `${gopay.origin}/api` },
        comgate: { scheme: "comgate", merchant: COMGATE_MERCHANT, secretEnv: "COMGATE_SECRET", apiUrl: comgate.origin },
        shopify: { scheme: "shopify", secretEnv: "SHOPIFY_SECRET" },
        github: { scheme: "github", secretEnv: "GITHUB_SECRET" },
      }),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        ops: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT], baseUrl: telegram.origin },
        office: {
          type: "email",
          host: "127.0.0.1",
          port: smtp.port,
          tls: "none",
          from: "waiter@eshop-waiter.cz",
          to: ["pokladna@eshop-waiter.cz"],
          subject: "E-shop",
        },
      }),
    },
    { listener: true },
  );
});
beforeEach(() => {
  setClock("2026-11-30T08:00:00Z");
  woo.shop.reset();
});
afterAll(async () => {
  await waiter?.close();
  await Promise.all([frankfurter, geocoding, met, woo, gopay, comgate, telegram, smtp].map((fake) => fake?.close()));
});

const data = <T = Record<string, unknown>>(result: { structuredContent?: unknown }) => result.structuredContent as T;

async function post(source: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await request(`${waiter.listenerUrl}/webhooks/${source}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  await response.body.dump();
  return response.statusCode;
}

/** A payment_intent.succeeded as Stripe sends it for an order WooCommerce's Stripe plugin checked out. */
function stripePayment(event: string, intent: string, charge: string, order: number, amount: number) {
  const body = JSON.stringify({
    id: event,
    object: "event",
    type: "payment_intent.succeeded",
    livemode: true,
    created: Math.floor(clock.now() / 1000),
    data: {
      object: {
        id: intent,
        object: "payment_intent",
        amount,
        amount_received: amount,
        currency: "eur",
        latest_charge: charge,
        livemode: true,
        metadata: { order_id: String(order) },
        status: "succeeded",
      },
    },
  });
  const signature = stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: STRIPE_SECRET,
    timestamp: Math.floor(clock.now() / 1000),
  });
  return post("stripe", body, { "stripe-signature": signature });
}

/** What WooCommerce's Stripe plugin does when the checkout's payment succeeds: payment_complete with the charge's id. */
async function paidByStripePlugin(order: number, charge: string) {
  const response = await request(`${woo.api}/orders/${order}`, {
    method: "PUT",
    body: JSON.stringify({ set_paid: true, transaction_id: charge }),
    headers: {
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`${CONSUMER_KEY}:${CONSUMER_SECRET}`).toString("base64")}`,
    },
  });
  expect(response.statusCode).toBe(200);
  await response.body.dump();
}

test("a Stripe payment the shop's Stripe plugin recorded by its charge is the same payment, not a second one", async () => {
  const order = WOO_IDS.orders.pendingStockManaged;
  await paidByStripePlugin(order, "ch_3QchainCharge01");
  expect(await stripePayment("evt_chain_1", "pi_3QchainIntent01", "ch_3QchainCharge01", order, 9887)).toBe(200);

  // events_list's gist names the order and the payment; events_get has the intent's id.
  const listed = await waiter.call("events_list", { source: "stripe", unacked_only: true });
  const [event] = data<{ events: { id: string; gist: string }[] }>(listed).events;
  expect(event?.gist).toContain('"metadata.order_id":"7084"');
  expect(data(listed)).toMatchObject({
    note: "Stripe writes amounts in the currency's minor units: 9887 EUR is 98.87 EUR.",
  });
  const payload = JSON.parse(data<{ payload: string }>(await waiter.call("events_get", { id: event?.id })).payload);
  const intent = payload.data.object;

  const got = await waiter.call("eshop_order_get", { id: Number(intent.metadata.order_id) });
  expect(data(got)).toMatchObject({ total: "98.87", currency: "EUR", transaction_id: "ch_3QchainCharge01" });

  const marked = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: intent.id });
  expect(marked.isError).toBeFalsy();
  expect(data(marked)).toMatchObject({ already_paid: true, transaction_id: "ch_3QchainCharge01" });
  expect(data(marked)).not.toHaveProperty("transaction_differs");
  expect(text(marked)).not.toContain("paid twice");
  expect(data(await waiter.call("events_ack", { ids: [event?.id] }))).toMatchObject({ acked: [event?.id] });

  // Another charge is another payment, and so are another gateway's: that still says so.
  for (const other of ["ch_3QchainCharge02", "5YT81542KW3263716"]) {
    const twice = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: other });
    expect(data(twice)).toMatchObject({ already_paid: true, transaction_differs: true });
    expect(text(twice)).toContain("the customer may have paid twice");
  }
});

test("a second Stripe payment of an order the Stripe plugin paid is said to differ, though the plugin recorded a charge and the event names an intent", async () => {
  const order = WOO_IDS.orders.pendingStockManaged;
  woo.shop.reset();
  await paidByStripePlugin(order, "ch_3QchainCharge11");
  // The plugin keeps the intent it paid with beside the charge, as _stripe_intent_id.
  woo.shop.order(order).meta_data.push({ id: 29001, key: "_stripe_intent_id", value: "pi_3QchainIntent11" });

  const same = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: "pi_3QchainIntent11" });
  expect(data(same)).toMatchObject({ already_paid: true, transaction_id: "ch_3QchainCharge11" });
  expect(data(same)).not.toHaveProperty("transaction_differs");

  const twice = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: "pi_3QchainIntent12" });
  expect(data(twice)).toMatchObject({
    already_paid: true,
    transaction_id: "ch_3QchainCharge11",
    transaction_differs: true,
  });
  expect(text(twice)).toContain("the customer may have paid twice");
});

/** An order's webhook as WooCommerce signs it: the order as its REST API has it. */
async function wooOrderEvent(order: number, topic: string) {
  const response = await request(`${woo.api}/orders/${order}`, {
    headers: { authorization: `Basic ${Buffer.from(`${CONSUMER_KEY}:${CONSUMER_SECRET}`).toString("base64")}` },
  });
  const body = await response.body.text();
  return post("shop", body, {
    "x-wc-webhook-signature": createHmac("sha256", WOO_SECRET).update(body).digest("base64"),
    "x-wc-webhook-id": "12",
    "x-wc-webhook-topic": topic,
    "x-wc-webhook-resource": "order",
    "x-wc-webhook-event": topic.split(".")[1] ?? "",
  });
}

test("an order's total copied into currency_convert as text is converted, or refused with the number to send", async () => {
  expect(await wooOrderEvent(WOO_IDS.orders.pendingStockManaged, "order.created")).toBe(200);
  const listed = await waiter.call("events_list", { source: "shop", type: "order.created", limit: 1 });
  // The gist is a payload's telling fields, cut short: read as a model reads it.
  const line = data<{ events: { gist: string }[] }>(listed).events[0]?.gist ?? "";
  const field = (name: string) => new RegExp(`"${name}":"([^"]*)"`).exec(line)?.[1];
  const gist = { total: field("total"), currency: field("currency") };
  expect(gist).toEqual({ total: "98.87", currency: "EUR" });

  // The shop writes money as decimal strings; currency_convert takes one as the number it is.
  const copied = await waiter.call("currency_convert", { amount: gist.total, from: gist.currency, to: "CZK" });
  expect(data(copied)).toMatchObject({ amount: 98.87, from: "EUR", to: "CZK", date: "2026-11-27" });

  // As a person writes an amount: the number is said when the text leaves no doubt of it.
  const said = async (amount: string) =>
    text(await waiter.call("currency_convert", { amount, from: "CZK", to: "EUR" }));
  expect(await said("1 234,50")).toContain("send 1234.50, without quotes");
  expect(await said("1\u00a0234,50 Kč")).toContain("send 1234.50, without quotes, and CZK as `from`");
  expect(await said("1234.50 CZK")).toContain("send 1234.50, without quotes, and CZK as `from`");
  expect(await said("EUR 1,234.50")).toContain("send 1234.50, without quotes, and EUR as `from`");
  expect(await said("1.234.567,8")).toContain("send 1234567.8, without quotes");
  // A thousand, or one and a bit: both are said, for "1.234" too, which JSON writes for the number 1.234.
  expect(await said("1,234")).toContain(
    "1,234 is 1234 where its comma groups thousands, 1.234 where it is a decimal comma: send the one meant",
  );
  expect(await said("1.234")).toContain(
    "1.234 is 1234 where its dot groups thousands, 1.234 where it is a decimal point: send the one meant",
  );
});

test("an order's shipping address copied into weather_forecast is refused with the place to send", async () => {
  const found = await waiter.call("eshop_orders_list", { search: "Ostrava", page_size: 1 });
  const [summary] = data<{ orders: { id: number }[] }>(found).orders;
  const order = await waiter.call("eshop_order_get", { id: summary?.id });
  const shipping = data<{ shipping: { city: string; postcode: string; country: string } }>(order).shipping;
  expect(shipping).toMatchObject({ city: "Ostrava", postcode: "70200", country: "CZ" });

  // The text's address, without the name before it, is a street: the refusal names the town.
  const address = /^Ship to: [^,]+, (.+)$/m.exec(text(order))?.[1] ?? "";
  expect(address).toBe("Stodolní 3, 70200, Ostrava, CZ");
  const refused = await waiter.call("weather_forecast", { place: address, days: 1 });
  expect(refused.isError).toBe(true);
  expect(text(refused)).toContain('send the town, then its country after a comma, as "Ostrava, CZ"');
  for (const place of ["Ostrava, CZ", `${shipping.city}, ${shipping.country}`]) {
    const forecast = await waiter.call("weather_forecast", { place, days: 1 });
    expect(forecast.isError, text(forecast)).toBeFalsy();
    expect(data(forecast)).toMatchObject({ place: { name: "Ostrava", country_code: "CZ" } });
  }
  // The whole line, the name before the street: the town is still what follows the postal code.
  const line = /^Ship to: (.+)$/m.exec(text(order))?.[1] ?? "";
  expect(line).toBe("Marie Dvořáková, Stodolní 3, 70200, Ostrava, CZ");
  expect(text(await waiter.call("weather_forecast", { place: line, days: 1 }))).toContain('as "Ostrava, CZ"');
  // The billing line ends with the phone, after the country.
  const billing = /^Bill to: (.+)$/m.exec(text(order))?.[1] ?? "";
  expect(billing).toMatch(/, Ostrava, CZ, phone \+420/);
  expect(text(await waiter.call("weather_forecast", { place: billing, days: 1 }))).toContain('as "Ostrava, CZ"');
  // Written the way a parcel's label has it, the postal code beside the town.
  const label = await waiter.call("weather_forecast", { place: "Stodolní 3, 702 00 Ostrava, CZ" });
  expect(text(label)).toContain('as "Ostrava, CZ"');
  const named = await waiter.call("weather_forecast", { place: "Ostrava 2, 702 00, Ostrava, Česko" });
  expect(text(named)).toContain('as "Ostrava, Česko"');
  // A region between the town and the country (Italy's province, as the shop keeps it) is left
  // out of the town to send, where the search would not match it; a US state stays.
  const milano = await waiter.call("weather_forecast", { place: "Emma Rossi, Via Roma 1, 20121, Milano, MI, IT" });
  expect(text(milano)).toContain('as "Milano, IT"');
  const sf = await waiter.call("weather_forecast", { place: "John Doe, 969 Market, 94103, San Francisco, CA, US" });
  expect(text(sf)).toContain('as "San Francisco, CA, US"');
  // A name the geocoder does not know, without digits, is no address: the usual advice.
  expect(text(await waiter.call("weather_forecast", { place: "Atlantis, CZ" }))).toContain("Check the spelling");
  // A town with a digit of its own before its postal code reads as a numbered district or a street
  // and house number: refused with both readings, not sent off to "CZ"; without the postal code it
  // is looked up.
  const district = await waiter.call("weather_forecast", { place: "Praha 4, 14000, CZ", days: 1 });
  expect(text(district)).toContain('Send "Praha 4, CZ" if a district, or the town if a street');
  expect(text(district)).not.toContain('as "CZ"');
  expect(geocoding.requests.map((r) => r.query.get("name"))).not.toContain("Praha 4");
  await waiter.call("weather_forecast", { place: "Praha 4, CZ", days: 1 });
  expect(geocoding.requests.map((r) => r.query.get("name"))).toContain("Praha 4");
  // A town written first, its state and ZIP code after it, is looked up as the town it names.
  await waiter.call("weather_forecast", { place: "Springfield, IL 62701, US", days: 1 });
  expect(geocoding.requests.map((r) => r.query.get("name"))).toContain("Springfield");
  // Its street before it: the town is the one before the state, not the state.
  const street = await waiter.call("weather_forecast", { place: "1 Main St, Springfield, IL 62701, US", days: 1 });
  expect(text(street)).toContain('as "Springfield, IL, US"');
  // Neither the customer's name nor the street went to the geocoder, a third party: only towns did.
  const searched = geocoding.requests.map((r) => r.query.get("name"));
  expect(searched.filter((name) => /Marie|Stodoln|phone/.test(name ?? ""))).toEqual([]);
});

test("a time copied from an order's text into eshop_orders_list's after is taken, one in UTC words refused with the time to send", async () => {
  const order = await waiter.call("eshop_order_get", { id: WOO_IDS.orders.pending1999 });
  // The shop's time, with its offset: an ISO 8601 time as after takes it.
  const placed = /placed (\S+?)(?:,|$)/m.exec(text(order))?.[1] ?? "";
  expect(placed).toBe("2026-11-15T10:02+01:00");
  const since = await waiter.call("eshop_orders_list", { after: placed.replace("10:02", "10:01") });
  expect(data<{ orders: { id: number }[] }>(since).orders.map((o) => o.id)).toContain(WOO_IDS.orders.pending1999);
  // As the texts of the tools that write to an order show a time.
  const refused = await waiter.call("eshop_orders_list", { after: "2026-11-15 09:02 UTC" });
  expect(text(refused)).toContain("after: must be an ISO 8601 time: send 2026-11-15T09:02Z");
  const listed = await waiter.call("eshop_orders_list", { after: "2026-11-15T09:02Z" });
  expect(data<{ orders: { id: number }[] }>(listed).orders.map((o) => o.id)).toContain(WOO_IDS.orders.pending1999);
  // An event's received_at is ISO 8601 already, milliseconds and all.
  expect((await waiter.call("eshop_orders_list", { after: "2026-11-15T09:02:00.605Z" })).isError).toBeFalsy();
});

/** A header as a mail client shows it: unfolded, its encoded words (RFC 2047) decoded. */
function mailHeader(message: string, name: string): string {
  const head = message.slice(0, message.indexOf("\r\n\r\n")).replace(/\r\n[ \t]/g, " ");
  const value = new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1] ?? "";
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, kind: string, word: string) =>
      kind.toUpperCase() === "B"
        ? Buffer.from(word, "base64").toString("utf8")
        : Buffer.from(
            word
              .replace(/_/g, " ")
              .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
            "latin1",
          ).toString("utf8"),
    );
}

/** What a model tells people: the same text to Telegram and by email, each as the person gets it. */
async function tell(message: string) {
  for (const channel of ["ops", "office"]) {
    const sent = await waiter.call("notify_send", { channel, text: message });
    expect(sent.isError, text(sent)).toBeFalsy();
    const to = channel === "ops" ? [CHAT] : ["pokladna@eshop-waiter.cz"];
    expect(data(sent)).toEqual({ channel, sent: to, failed: [] });
    expect(text(sent)).toBe(`Sent on ${channel} to ${to.join(", ")}.`);
  }
  expect(telegram.delivered.at(-1)).toMatchObject({ chat_id: CHAT, text: message });
  // By email, each line that another follows ends in three spaces, which keep Outlook from joining them.
  expect(mailText(smtp.messages.at(-1) ?? "")).toBe(message.replace(/([^\n])\n/g, "$1   \n"));
  // The subject is the channel's, then the first line, cut to 100 characters.
  const line = message.split("\n")[0] ?? "";
  const subject = `E-shop: ${line.length > 100 ? `${line.slice(0, 99)}…` : line}`;
  expect(mailHeader(smtp.messages.at(-1) ?? "", "Subject")).toBe(subject);
}

/** The gist's fields as a model reads them off events_list's text line: quoted, as JSON. */
function gistOf(listed: { structuredContent?: unknown }, id: string): string {
  const line = text(listed as Parameters<typeof text>[0])
    .split("\n")
    .find((l) => l.startsWith(id));
  const quoted = /payload: (".*")$/.exec(line ?? "")?.[1] ?? '""';
  const gist = JSON.parse(quoted) as string;
  // The text and the structured content say the same.
  expect(data<{ events: { id: string; gist: string }[] }>(listed).events.find((e) => e.id === id)?.gist).toBe(gist);
  return gist;
}

test("a GoPay payment: looked up, its order found by order_number, marked paid with GoPay's payment id, people told", async () => {
  const order = WOO_IDS.orders.pendingStockManaged;
  const payment = 3000006542;
  gopay.payments.set(payment, {
    id: payment,
    order_number: String(order),
    state: "PAID",
    amount: 9887,
    currency: "EUR",
    payer: {
      contact: { email: "jana.novakova@example.cz", first_name: "Jana", last_name: "Nováková" },
      payment_card: { card_number: "444444******4448" },
    },
    gw_url: "https://gw.sandbox.gopay.com/gw/v3/bCcvmwTKK5hrJx2aGG8ZnFyBJhAvF",
  });
  // GoPay's notification is a GET with the payment's id: waiter asks GoPay for the payment.
  const notified = await request(`${waiter.listenerUrl}/webhooks/gopay?id=${payment}`);
  expect(notified.statusCode).toBe(200);
  const { id } = (await notified.body.json()) as { id: string };

  const listed = await waiter.call("events_list", { source: "gopay", unacked_only: true });
  expect(data<{ events: { type: string }[] }>(listed).events.map((e) => e.type)).toEqual(["payment.paid"]);
  expect(gistOf(listed, id)).toBe('{"amount":9887,"currency":"EUR","order_number":"7084","id":3000006542}');
  // 9887 beside EUR is not 9887 euros: the list says how GoPay writes a sum.
  const minor = "GoPay writes amounts in the currency's minor units: 9887 EUR is 98.87 EUR.";
  expect(data(listed)).toMatchObject({ note: minor });
  expect(text(listed)).toContain(minor);

  // The prompt a person starts it with says which events pay and how their sums read.
  const prompt = await waiter.client.getPrompt({ name: "process_payments", arguments: { source: "gopay" } });
  const [message] = prompt.messages;
  const asked = message?.content.type === "text" ? message.content.text : "";
  expect(asked).toContain('events_list (unacked_only: true, source: "gopay")');
  expect(asked).toContain("payment.paid (GoPay, Comgate)");
  expect(asked).toContain(
    "Stripe, GoPay and Comgate send amounts in the currency's minor units (9887 EUR is 98.87 EUR)",
  );

  const got = await waiter.call("events_get", { id });
  expect(data(got)).toMatchObject({ note: minor });
  expect(text(got).split("\n")[0]).toBe(minor);
  // Read as resources, as a person attaches them, they say so too.
  const resource = async (uri: string) => {
    const [content] = (await waiter.client.readResource({ uri })).contents;
    return JSON.parse(content && "text" in content ? content.text : "{}") as { note?: string };
  };
  expect(await resource(`events://event/${id}`)).toMatchObject({ note: minor });
  expect((await resource("events://recent")).note).toMatch(/writes? amounts in the currency's minor units/);
  // Waited for, it says so too.
  const waited = await waiter.call("events_wait", { source: "gopay", since: "c0", timeout_s: 1 });
  expect(data(waited)).toMatchObject({ event: { id, note: minor } });
  expect(text(waited).split("\n")[0]).toBe(minor);
  const paid = JSON.parse(data<{ payload: string }>(got).payload);
  expect(paid).toMatchObject({ id: payment, order_number: "7084", amount: 9887, currency: "EUR", state: "PAID" });
  expect(text(got)).toContain('"order_number": "7084"');

  const shown = await waiter.call("eshop_order_get", { id: Number(paid.order_number) });
  expect(data(shown)).toMatchObject({ total: (paid.amount / 100).toFixed(2), currency: paid.currency });
  expect(data(shown)).toMatchObject({ customer_name: "Jana Nováková" });
  expect(text(shown)).toMatch(/^#7084 \(id 7084\) pending: 98\.87 EUR, 4 items, Jana Nováková </);

  // GoPay's payment id is a number in its payload; copied so, it is refused with what to send.
  const copied = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: paid.id });
  expect(copied.isError).toBe(true);
  expect(text(copied)).toContain('transaction_id: expected string, received number: send "3000006542", in quotes');
  const marked = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: String(paid.id) });
  expect(marked.isError, text(marked)).toBeFalsy();
  expect(data(marked)).toMatchObject({
    already_paid: false,
    order: { id: order, number: "7084", status: "processing", total: "98.87" },
    transaction_id: "3000006542",
  });
  expect(text(marked)).toMatch(
    /^Order #7084 \(id 7084\) is now paid \(2026-11-30T09:00\+01:00\) and processing \(was pending\); note \d+ added\.\nTimes are the shop's, UTC\+1\.\nThe shop took this order's items from stock \(its notes say which\)\.\nWooCommerce emails the customer its "Processing order" email on this change, /,
  );
  // GoPay notifies again on the same state: the same payment, not a second one.
  const again = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: "3000006542" });
  expect(data(again)).toMatchObject({ already_paid: true, transaction_id: "3000006542" });
  expect(data(again)).not.toHaveProperty("transaction_differs");
  expect(data(await waiter.call("events_ack", { ids: [id] }))).toMatchObject({ acked: [id] });
  expect(data(await waiter.call("events_list", { source: "gopay", unacked_only: true }))).toMatchObject({ events: [] });

  const name = data<{ customer_name: string }>(shown).customer_name;
  await tell(`Zaplaceno přes GoPay: objednávka #7084, ${data<{ total: string }>(shown).total} EUR, ${name}.`);
});

test("a Comgate payment: confirmed with Comgate, its order found by refId, marked paid with its transId, people told", async () => {
  const order = WOO_IDS.orders.pending1999;
  const payment = {
    transId: "AB12-CD34-EF56",
    status: "PAID" as const,
    price: "1999",
    curr: "EUR",
    label: "Objednávka 7081",
    refId: String(order),
    email: "filip.benes@example.cz",
    method: "CARD_CZ_CSOB_2",
    test: "false" as const,
  };
  comgate.payments.set(payment.transId, payment);
  const pushed = await request(`${waiter.listenerUrl}/webhooks/comgate`, {
    method: "POST",
    body: notification(COMGATE_MERCHANT, COMGATE_SECRET, payment),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  expect(pushed.statusCode).toBe(200);
  const { id } = (await pushed.body.json()) as { id: string };

  const listed = await waiter.call("events_list", { source: "comgate", unacked_only: true });
  const gist = gistOf(listed, id);
  expect(gist).toMatch(/^\{"price":"1999","curr":"EUR","refId":"7081","transId":"AB12-CD34-EF56",/);
  // Neither the secret Comgate sent nor its "test":"false" of a live payment.
  expect(gist).not.toMatch(/secret|"test"/);
  const minor = "Comgate writes amounts in the currency's minor units: 9887 EUR is 98.87 EUR.";
  expect(data(listed)).toMatchObject({ note: minor });
  expect(text(listed)).toContain(minor);

  const got = await waiter.call("events_get", { id });
  expect(data(got)).toMatchObject({ note: minor, type: "payment.paid", delivery_id: "AB12-CD34-EF56:PAID" });
  const paid = JSON.parse(data<{ payload: string }>(got).payload);
  expect(paid).toMatchObject({ refId: "7081", transId: "AB12-CD34-EF56", price: "1999", label: "Objednávka 7081" });
  expect(text(got)).toContain('"label": "Objednávka 7081"');

  // refId is text: plain digits, it is the order's id as it is sent.
  const shown = await waiter.call("eshop_order_get", { id: paid.refId });
  expect(shown.isError, text(shown)).toBeFalsy();
  expect(data(shown)).toMatchObject({ total: (Number(paid.price) / 100).toFixed(2), currency: paid.curr });
  expect(data(shown)).toMatchObject({ customer_name: "Filip Beneš" });
  expect(data(shown)).not.toHaveProperty("transaction_id");

  const marked = await waiter.call("eshop_order_mark_paid", { id: order, transaction_id: paid.transId });
  expect(marked.isError, text(marked)).toBeFalsy();
  expect(data(marked)).toMatchObject({
    already_paid: false,
    order: { id: order, status: "processing", total: "19.99" },
    transaction_id: "AB12-CD34-EF56",
  });
  const after = await waiter.call("eshop_order_get", { id: order });
  expect(data(after)).toMatchObject({ transaction_id: "AB12-CD34-EF56" });
  expect(text(after)).toContain("Payment: PayPal, transaction AB12-CD34-EF56");
  expect(text(after)).toContain('"Marked paid by waiter (transaction AB12-CD34-EF56)."');
  expect(data(await waiter.call("events_ack", { ids: [id] }))).toMatchObject({ acked: [id] });

  await tell(
    `Zaplaceno přes Comgate: objednávka #7081, 19.99 EUR, ${data<{ customer_name: string }>(shown).customer_name}.`,
  );
});

/** An orders/paid as Shopify sends it: the sample order (its ids past 2^53 as written), made this one. */
function shopifyPaid(name: string, total: string, first: string, last: string): string {
  const sample = readFileSync(
    new URL("./fakes/samples/shopify-webhook-orders-paid-TRIMMED.json", import.meta.url),
    "utf8",
  );
  const replaced = [
    ['"financial_status": "voided"', '"financial_status": "paid"'],
    ['"test": true', '"test": false'],
    ['"cancel_reason": "customer"', '"cancel_reason": null'],
    ['"cancelled_at": "2021-12-31T19:00:00-05:00"', '"cancelled_at": null'],
    ['"name": "#9999"', `"name": "#${name}"`],
    ['"order_number": 1234', `"order_number": ${name}`],
    ['"currency": "USD",\n  "current', '"currency": "EUR",\n  "current'],
    ['"total_price": "388.00"', `"total_price": "${total}"`],
    ['"first_name": "John"', `"first_name": "${first}"`],
    ['"last_name": "Smith"', `"last_name": "${last}"`],
  ].reduce((body, [from, to]) => {
    expect(body).toContain(from);
    return body.replace(from as string, to as string);
  }, sample);
  return replaced;
}

test("a Shopify orders/paid: its order found by its name or order_number, people told with a link", async () => {
  const order = 7060;
  const shown = await waiter.call("eshop_order_get", { id: order });
  const { total, customer_name: name } = data<{ total: string; customer_name: string }>(shown);
  expect(name).toBe("Ivana Pokorná");
  const body = shopifyPaid(String(order), total, "Ivana", "Pokorná");
  expect(
    await post("shopify", body, {
      "x-shopify-hmac-sha256": createHmac("sha256", SHOPIFY_SECRET).update(body).digest("base64"),
      "x-shopify-topic": "orders/paid",
      "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
      "x-shopify-shop-domain": "jsmith.myshopify.com",
      "x-shopify-api-version": "2025-10",
    }),
  ).toBe(200);

  const listed = await waiter.call("events_list", { source: "shopify", type: "orders/paid", unacked_only: true });
  const [event] = data<{ events: { id: string }[] }>(listed).events;
  const id = event?.id ?? "";
  // Shopify writes decimals, as the shop does: nothing to say of minor units, nor of a live payment.
  expect(gistOf(listed, id)).toMatch(
    new RegExp(`^\\{"total_price":"${total}","currency":"EUR","order_number":7060,"id":820982911946154508,`),
  );
  expect(data(listed)).not.toHaveProperty("note");
  const got = await waiter.call("events_get", { id });
  expect(data(got)).not.toHaveProperty("note");
  const payload = data<{ payload: string }>(got).payload;
  expect(payload).toBe(body);
  expect(text(got)).toContain('"name": "#7060"');
  expect(text(got)).toContain('"id": 820982911946154508,');

  // The name as Shopify writes it finds the order by its number; order_number is its id here.
  const byName = await waiter.call("eshop_order_get", { id: "#7060" });
  expect(data(byName)).toMatchObject({ id: order, number: "7060" });
  const found = await waiter.call("eshop_orders_list", { search: "#7060" });
  expect(data<{ orders: { id: number }[] }>(found).orders.map((o) => o.id)).toEqual([order]);
  const parsed = JSON.parse(payload) as { order_number: number; total_price: string; currency: string };
  expect(data(await waiter.call("eshop_order_get", { id: parsed.order_number }))).toMatchObject({
    total: parsed.total_price,
    currency: parsed.currency,
  });

  expect(data(await waiter.call("events_ack", { ids: [id] }))).toMatchObject({ acked: [id] });

  // The order's id in Shopify's admin, read off events_get's text: every digit as Shopify sent it.
  const shopifyId = /"id": (\d+),/.exec(text(got))?.[1];
  await tell(
    `Zaplaceno v Shopify: objednávka #7060, ${total} EUR, ${name}. https://admin.shopify.com/store/jsmith/orders/${shopifyId}`,
  );
  expect(telegram.delivered.at(-1)?.text).toContain("/orders/820982911946154508");
});

test("a failed GitHub deployment: its run found in the gist, its link read whole, people told", async () => {
  const run = {
    action: "completed",
    workflow_run: {
      id: 30433642,
      name: "Deploy",
      node_id: "WFR_kwLOAAAAAAAAAAAA",
      head_branch: "main",
      head_sha: "acb5820ced9479c074f688cc328bf03f341a511d",
      display_title: "Úprava košíku: doprava zdarma nad 50 €",
      run_number: 562,
      event: "push",
      status: "completed",
      conclusion: "failure",
      html_url: "https://github.com/kavarna/eshop/actions/runs/30433642",
      created_at: "2026-11-30T07:50:00Z",
      updated_at: "2026-11-30T07:58:00Z",
      actor: { login: "tomas-cerny", id: 5012345 },
    },
    repository: { id: 1296269, full_name: "kavarna/eshop", html_url: "https://github.com/kavarna/eshop" },
    sender: { login: "tomas-cerny", id: 5012345 },
  };
  const body = JSON.stringify(run);
  expect(
    await post("github", body, {
      "x-hub-signature-256": `sha256=${createHmac("sha256", GITHUB_SECRET).update(body).digest("hex")}`,
      "x-github-event": "workflow_run",
      "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      "x-github-hook-id": "292430182",
    }),
  ).toBe(200);

  const listed = await waiter.call("events_list", { source: "github", type: "workflow_run.*", unacked_only: true });
  const [event] = data<{ events: { id: string; type: string }[] }>(listed).events;
  expect(event?.type).toBe("workflow_run.completed");
  const id = event?.id ?? "";
  const gist = gistOf(listed, id);
  expect(gist).toMatch(
    /^\{"conclusion":"failure","repository.full_name":"kavarna\/eshop","id":30433642,"name":"Deploy","head_branch":"main",/,
  );
  expect(data(listed)).not.toHaveProperty("note");

  const got = await waiter.call("events_get", { id });
  expect(data(got)).not.toHaveProperty("note");
  const payload = JSON.parse(data<{ payload: string }>(got).payload) as typeof run;
  expect(text(got)).toContain(`"html_url": "${run.workflow_run.html_url}"`);
  expect(text(got)).toContain(`"display_title": "${run.workflow_run.display_title}"`);
  expect(data(await waiter.call("events_ack", { ids: [id] }))).toMatchObject({ acked: [id] });

  const { name, display_title: title, html_url: link } = payload.workflow_run;
  await tell(`${name} selhal (${payload.repository.full_name}): ${title}\n${link}`);
});
