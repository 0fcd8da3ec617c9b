import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { startServe } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { Log } from "../src/log.js";
import { setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import {
  dataDir,
  env,
  O,
  PAID,
  pay,
  STRIPE_SECRET,
  sendStripe,
  serve,
  store,
  telegram,
  useFakes,
  woo,
} from "./automations-harness.js";
import { type ComgateFake, notification, startComgate } from "./fakes/comgate.js";
import { type GoPayFake, type GoPayPayment, startGoPay } from "./fakes/gopay.js";
import { startTelegram, type TelegramFake } from "./fakes/telegram.js";
import { CONSUMER_KEY, CONSUMER_SECRET, WOO_IDS } from "./fakes/woocommerce.js";

/**
 * Every automation the README and docs/automations.md show, in JSON, as a GoPay variant told in
 * prose or as the conditions for an order a gateway's plugin marked paid, is read out of the page,
 * given the delivery its provider really sends, and must do what the page says: the order paid with
 * the payment's id, the team told, the event acknowledged; for the refunds, the team told of each
 * refund and dispute; for the plugin's orders, the team told at each save of a paid one.
 */

useFakes();

/**
 * The number the payments name their order by. A numbering plugin (Sequential Order Numbers) makes
 * it differ from the order's id: the order paid is 7081, numbered 7084, and the order whose id is
 * 7084 is numbered 7090.
 */
const NUMBER = "7084";
beforeEach(() => {
  const renumber = (id: number, number: string) =>
    woo.shop.order(id).meta_data.push({ id: 95_000 + id, key: "_order_number", value: number });
  renumber(O.pending1999, NUMBER);
  renumber(O.pendingStockManaged, "7090");
});

// The chat, merchant and GoPay client the docs' examples name.
const DOC_CHAT = "-1001234567890";
const COMGATE_MERCHANT = "498621";
const COMGATE_SECRET = "ZqVmRr0lUFRm7ZXbHpd7QnSGfCbVnw5U";
const GOPAY_CLIENT = "1744960415";
const GOPAY_SECRET = "h9wyRz2s";
const WOO_WEBHOOK_SECRET = "woo-webhook-secret-you-choose";
let team: TelegramFake;
let comgate: ComgateFake;
let gopay: GoPayFake;

beforeAll(async () => {
  setClock("2026-11-30T08:00:00Z");
  [team, comgate, gopay] = await Promise.all([
    startTelegram([DOC_CHAT]),
    startComgate(COMGATE_MERCHANT, COMGATE_SECRET),
    startGoPay(GOPAY_CLIENT, GOPAY_SECRET),
  ]);
});
afterAll(async () => {
  await Promise.all([team?.close(), comgate?.close(), gopay?.close()]);
});

interface Example {
  webhooks: { sources: Record<string, Record<string, unknown>> };
  notify: { channels: Record<string, Record<string, unknown>> };
  automations: Record<string, unknown>[];
}

const read = (page: string) => readFileSync(new URL(page, import.meta.url), "utf8");
const examplesOf = (page: string) =>
  [...read(page).matchAll(/^```json\n([\s\S]*?)^```/gm)]
    .map((m) => m[1] ?? "")
    .filter((json) => json.includes('"automations"'))
    .map((json) => JSON.parse(json) as Example);
const readme = examplesOf("../README.md");
const automationsPage = examplesOf("../docs/automations.md");
const named = (examples: Example[], name: string) => {
  const found = examples.find((example) => example.automations[0]?.name === name);
  if (!found) throw new Error(`no example named ${name}`);
  return found;
};

/** The `"key": value` pairs the paragraphs telling a GoPay variant quote, after `name`'s example or all. */
function gopayChanges(name?: string): [string, unknown][] {
  const page = read("../docs/automations.md");
  const after = name === undefined ? page : page.slice(page.indexOf(`"name": "${name}"`));
  const paragraphs = [...after.matchAll(/^A GoPay shop does the same with ([\s\S]*?)\n\n/gm)].map((m) => m[1] ?? "");
  return (name === undefined ? paragraphs : paragraphs.slice(0, 1)).flatMap((prose) =>
    [...prose.matchAll(/`("[a-z_]+": [^`]+)`/g)].map(
      (m) => Object.entries(JSON.parse(`{${m[1]}}`) as Record<string, unknown>)[0] as [string, unknown],
    ),
  );
}

/**
 * The GoPay variant the paragraph after `name`'s example tells in prose, assembled as a reader
 * would: the GoPay source the docs quote in place of the example's, and each other `"key": value`
 * the paragraph quotes replacing that key's value wherever the automation has it.
 */
function gopayVariant(name: string): Example {
  const base = named(automationsPage, name);
  const isSource = ([, value]: [string, unknown]) => typeof value === "object" && value !== null && "scheme" in value;
  const sources = gopayChanges().filter(isSource);
  expect(sources).toHaveLength(1);
  const changes = gopayChanges(name).filter((change) => !isSource(change));
  expect(changes.length).toBeGreaterThan(2);
  const automation = structuredClone(base.automations[0]) as Record<string, unknown>;
  for (const [key, value] of changes) {
    let replaced = 0;
    const replace = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(replace);
      else if (node && typeof node === "object") {
        const object = node as Record<string, unknown>;
        for (const field of Object.keys(object)) {
          if (field === key) {
            object[field] = value;
            replaced++;
          } else replace(object[field]);
        }
      }
    };
    replace(automation);
    expect(replaced, `the prose's ${key} replaces something in ${name}`).toBeGreaterThan(0);
  }
  return {
    ...base,
    webhooks: { sources: Object.fromEntries(sources) as Example["webhooks"]["sources"] },
    automations: [automation],
  };
}

/** waiter serve with `example` as its config file, pointed at the fakes rather than the providers. */
async function serveExample(example: Example, lines?: string[]) {
  const config = structuredClone(example);
  for (const channel of Object.values(config.notify.channels)) channel.baseUrl = team.origin;
  for (const source of Object.values(config.webhooks.sources)) {
    if (source.scheme === "comgate") source.apiUrl = comgate.origin;
    if (source.scheme === "gopay") source.apiUrl = `${gopay.origin}/api`;
  }
  const file = join(dataDir, "waiter.json");
  writeFileSync(file, JSON.stringify(config));
  const { WAITER_WEBHOOKS_SOURCES, WAITER_NOTIFY_CHANNELS, WAITER_AUTOMATIONS, ...rest } = env([]);
  const secrets = {
    STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
    COMGATE_SECRET,
    GOPAY_CLIENT_SECRET: GOPAY_SECRET,
    WOO_WEBHOOK_SECRET,
  };
  const token = {
    WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
    OPS_TOKEN: "0123456789abcdef".repeat(4),
  };
  const loaded = loadConfig({ env: { ...rest, ...secrets, ...token }, file }, toolsets());
  return startServe(loaded, lines ? new Log("warning", (line) => lines.push(line)) : new Log("error", () => {}));
}

/** What the team is told from here on. */
function told() {
  const sent = team.delivered.length;
  return () => team.delivered.slice(sent).map((message) => message.text);
}

async function acknowledged(eventId: string) {
  const s = store();
  try {
    return (await s.get(eventId))?.ackedAt != null;
  } finally {
    await s.close();
  }
}

/**
 * The order is paid with `transactionId`, the team told `said`, the event acknowledged; the order's
 * last note is `noted` where given. What the gateway took is in both, so that a payment of another
 * sum or currency than the order's does not read as the order paid in full.
 */
async function paid(eventId: string, transactionId: string, texts: () => string[], said: string, noted?: string) {
  await expect.poll(texts).toEqual([said]);
  await expect.poll(() => acknowledged(eventId)).toBe(true);
  const order = woo.shop.order(O.pending1999);
  expect(order).toMatchObject({ status: "processing", transaction_id: transactionId });
  if (noted !== undefined) expect(order.notes.at(-1)?.note).toBe(noted);
}

const payment = (orderId: string, id: string) => ({
  id,
  object: "payment_intent",
  amount_received: 1999,
  currency: "eur",
  metadata: { order_id: orderId },
});

test("every automation the docs show, and each GoPay variant, starts without a warning", async () => {
  for (const example of [...readme, ...automationsPage, gopayVariant("comgate-paid"), gopayVariant("stripe-refunds")]) {
    const lines: string[] = [];
    const server = await serveExample(example, lines);
    await server.close();
    expect(lines, String(example.automations[0]?.name)).toEqual([]);
  }
});

test("the docs show their automations in four JSON examples and two GoPay variants in prose", () => {
  expect(readme.map((example) => example.automations.map((a) => a.name))).toEqual([["stripe-paid"]]);
  expect(automationsPage.map((example) => example.automations.map((a) => a.name))).toEqual([
    ["stripe-paid"],
    ["comgate-paid"],
    ["stripe-refunds", "stripe-no-order"],
    ["low-stock", "big-order"],
  ]);
  expect(read("../docs/automations.md").match(/^A GoPay shop does the same with /gm)).toHaveLength(2);
});

test("each payment example gives its order's number with # before it, and its field is named where the docs say why", () => {
  const page = read("../docs/automations.md");
  const why = /^\*\*The order is found by its number\.\*\*[\s\S]*?\n\n/m.exec(page)?.[0] ?? "";
  const markPaid = (example: Example) =>
    ((example.automations[0]?.do ?? []) as { tool?: string; args?: { id?: string } }[]).find(
      (step) => step.tool === "eshop_order_mark_paid",
    )?.args?.id ?? "";
  // The field as a reader knows it: `metadata.order_id`, `refId`, `order_number`.
  const field = (template: string) => /^#\{\{payload\.(?:data\.object\.)?([\w.]+)\}\}$/.exec(template)?.[1];
  const fields = [
    markPaid(named(readme, "stripe-paid")),
    markPaid(named(automationsPage, "stripe-paid")),
    markPaid(named(automationsPage, "comgate-paid")),
    markPaid(gopayVariant("comgate-paid")),
  ].map(field);
  expect(fields).toEqual(["metadata.order_id", "metadata.order_id", "refId", "order_number"]);
  for (const name of new Set(fields)) expect(why).toContain(`\`${name}\``);
  // The README's example reads the number too, and points to why.
  const readmeAfter = read("../README.md").split('"name": "stripe-paid"')[1] ?? "";
  expect(readmeAfter.slice(readmeAfter.indexOf("```\n") + 4).split("\n\n")[0]).toContain(
    "(docs/automations.md#the-payment-example)",
  );
});

for (const [page, example, said, noted] of [
  [
    "README.md",
    () => named(readme, "stripe-paid"),
    `Order “${NUMBER}” is marked paid: 1999 “eur” in minor units.`,
    undefined,
  ],
  [
    "docs/automations.md",
    () => named(automationsPage, "stripe-paid"),
    `Order “${NUMBER}” is marked paid: Stripe took 1999 “eur” in minor units (“pi_doc”).`,
    "Marked paid by waiter: Stripe payment pi_doc, 1999 eur in minor units.",
  ],
] as const) {
  test(`${page}'s Stripe payment marks its order paid, tells the team and acknowledges the event, and leaves a test payment and a connected account's alone`, async () => {
    const server = await serveExample(example());
    try {
      const texts = told();
      // A test payment (livemode false), which a live Connect endpoint receives too, pays nothing:
      // it comes first, and the order is still there for the live payment after it.
      const tested = await sendStripe(
        server,
        "evt_doc_test",
        "payment_intent.succeeded",
        payment(`${NUMBER}`, "pi_doc_test"),
        false,
      );
      // A connected account's live payment, which a platform's Connect endpoint receives with its
      // `account`, is another merchant's: its metadata naming an order here pays nothing.
      const connected = await sendStripe(
        server,
        "evt_doc_connected",
        "payment_intent.succeeded",
        payment(`${NUMBER}`, "pi_doc_connected"),
        true,
        { account: "acct_1Nv0FGQ9RKHgCVdK" },
      );
      const event = await sendStripe(
        server,
        "evt_doc",
        "payment_intent.succeeded",
        payment(`${NUMBER}`, "pi_doc"),
        true,
      );
      await paid(event.id, "pi_doc", texts, said, noted);
      expect(await acknowledged(tested.id)).toBe(false);
      expect(await acknowledged(connected.id)).toBe(false);
    } finally {
      await server.close();
    }
  });
}

test("docs/automations.md's Comgate payment marks its order paid, tells the team and acknowledges the event, and leaves a test payment alone", async () => {
  const server = await serveExample(named(automationsPage, "comgate-paid"));
  try {
    const texts = told();
    /** Notifies a PAID card payment of the order, as Comgate does; the id it is stored as. */
    const notified = async (transId: string, test: "true" | "false") => {
      const payment = {
        transId,
        status: "PAID" as const,
        price: "1999",
        curr: "CZK",
        label: `Objednávka ${NUMBER}`,
        refId: `${NUMBER}`,
        email: "jana.novakova@example.cz",
        method: "CARD_CZ_CSOB_2",
        test,
      };
      comgate.payments.set(transId, payment);
      const response = await request(`${server.url}/webhooks/comgate`, {
        method: "POST",
        body: notification(COMGATE_MERCHANT, COMGATE_SECRET, payment),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(response.statusCode).toBe(200);
      return ((await response.body.json()) as { id: string }).id;
    };
    // A payment made in Comgate's test mode (`test` "true") pays nothing: it comes first, and
    // the order is still there for the real payment after it.
    const testEvent = await notified("TEST-1111-2222", "true");
    const id = await notified("AB12-CD34-EF56", "false");
    await paid(
      id,
      "AB12-CD34-EF56",
      texts,
      `Order “${NUMBER}” is marked paid: Comgate took “1999” “CZK” in minor units (“AB12-CD34-EF56”).`,
      "Marked paid by waiter: Comgate payment AB12-CD34-EF56, 1999 CZK in minor units.",
    );
    expect(await acknowledged(testEvent)).toBe(false);
  } finally {
    await server.close();
  }
});

const gopayPayment = (id: number, state: GoPayPayment["state"]): GoPayPayment => ({
  id,
  order_number: `${NUMBER}`,
  state,
  amount: 1999,
  currency: "CZK",
  payer: { contact: { email: "jana.novakova@example.cz" } },
  gw_url: "https://gw.sandbox.gopay.com/gw/v3/bCcvmwTKK5hrJx2aGG8ZnFyBJhAvF",
});
/** GoPay's notification of `payment`: a GET carrying its id alone. */
async function notifyGoPay(server: { url: string }, payment: GoPayPayment) {
  gopay.payments.set(payment.id, payment);
  const response = await request(`${server.url}/webhooks/gopay?id=${payment.id}`);
  expect(response.statusCode).toBe(200);
  return ((await response.body.json()) as { id: string }).id;
}

test("the GoPay variant of the Comgate payment marks its order paid, tells the team and acknowledges the event", async () => {
  const server = await serveExample(gopayVariant("comgate-paid"));
  try {
    const texts = told();
    const id = await notifyGoPay(server, gopayPayment(3000006542, "PAID"));
    await paid(
      id,
      "3000006542",
      texts,
      `Order “${NUMBER}” is marked paid: GoPay took 1999 “CZK” in minor units (3000006542).`,
      "Marked paid by waiter: GoPay payment 3000006542, 1999 CZK in minor units.",
    );
  } finally {
    await server.close();
  }
});

test("docs/automations.md's Stripe refunds tell the team of a live refund, naming its order where it has one, or dispute, even one that came before its payment, and leave them unacknowledged", async () => {
  const [refunds, disputes] = named(automationsPage, "stripe-refunds").automations;
  const lines: string[] = [];
  const server = await serve(
    [{ ...PAID, onFailure: { notify: "team" } }, refunds as object, disputes as object],
    {},
    lines,
    "warning",
  );
  try {
    const sent = telegram.delivered.length;
    const deliver = async (id: string, type: string, object: object, livemode = true) =>
      (await sendStripe(server, id, type, object, livemode)).id;
    // A refund made in test mode, which a live Connect endpoint receives too, is no one's to check.
    const tested = await deliver(
      "evt_refund_test",
      "charge.refunded",
      { id: "ch_test", object: "charge", amount_refunded: 1999, payment_intent: "pi_test" },
      false,
    );
    // The refund first, its payment after it: the payment still marks the order paid.
    // Stripe copies the payment's metadata, the order's number, to its charge.
    const refund = await deliver("evt_refund_first", "charge.refunded", {
      id: "ch_refunded",
      object: "charge",
      amount_refunded: 1999,
      payment_intent: "pi_refunded",
      metadata: { order_id: String(O.pending1999) },
    });
    await pay(server, String(O.pending1999), "evt_refunded_payment", { id: "pi_refunded" });
    await deliver("evt_charge_ok", "charge.succeeded", { id: "ch_ok", object: "charge", payment_intent: "pi_ok" });
    await deliver("evt_dispute", "charge.dispute.created", {
      id: "du_1",
      object: "dispute",
      amount: 1999,
      charge: "ch_disputed",
      payment_intent: "pi_disputed",
    });
    // A payment made outside the shop's checkout (a payment link, the Dashboard) names no order.
    const unnamed = await deliver("evt_refund_unnamed", "charge.refunded", {
      id: "ch_unnamed",
      object: "charge",
      amount_refunded: 500,
      payment_intent: "pi_unnamed",
      metadata: {},
    });
    await expect
      .poll(() => telegram.delivered.slice(sent).map((m) => m.text))
      .toEqual([
        `Stripe “charge.refunded” of order “${O.pending1999}” (payment “pi_refunded”): check it in the shop.`,
        `Order “${O.pending1999}” is paid (“pi_refunded”).`,
        "Stripe “charge.dispute.created” of payment “pi_disputed”: find its order in the shop, if it has one.",
        "Stripe “charge.refunded” of payment “pi_unnamed”: find its order in the shop, if it has one.",
      ]);
    // Nothing was inserted as nothing: a dispute, or a refund, that carries no order is not told of one.
    expect(lines).toEqual([]);
    expect(await acknowledged(refund)).toBe(false);
    expect(await acknowledged(unnamed)).toBe(false);
    expect(await acknowledged(tested)).toBe(false);
  } finally {
    await server.close();
  }
});

test("the GoPay variant of the refunds tells the team of a refund and a partial one, naming the order", async () => {
  const server = await serveExample(gopayVariant("stripe-refunds"));
  try {
    const texts = told();
    const refunded = await notifyGoPay(server, gopayPayment(3000006601, "REFUNDED"));
    await notifyGoPay(server, gopayPayment(3000006602, "PAID"));
    await notifyGoPay(server, gopayPayment(3000006603, "PARTIALLY_REFUNDED"));
    await expect
      .poll(texts)
      .toEqual([
        `GoPay “payment.refunded” of order “${NUMBER}”: check it in the shop.`,
        `GoPay “payment.partially_refunded” of order “${NUMBER}”: check it in the shop.`,
      ]);
    expect(await acknowledged(refunded)).toBe(false);
  } finally {
    await server.close();
  }
});

/** A WooCommerce delivery of `topic`, signed as WooCommerce signs it; the event waiter stored, or none. */
async function deliverWoo(server: { url: string }, topic: string, record: object) {
  const body = JSON.stringify(record);
  const response = await request(`${server.url}/webhooks/shop`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-wc-webhook-signature": createHmac("sha256", WOO_WEBHOOK_SECRET).update(body).digest("base64"),
      "x-wc-webhook-id": "12",
      "x-wc-webhook-topic": topic,
    },
  });
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as { id: string };
}

/** A product or variation as the shop's products endpoint answers it, the body of its Product updated. */
async function wooProduct(id: number) {
  const auth = Buffer.from(`${CONSUMER_KEY}:${CONSUMER_SECRET}`).toString("base64");
  const answer = await request(`${woo.origin}/wp-json/wc/v3/products/${id}`, {
    headers: { authorization: `Basic ${auth}` },
  });
  expect(answer.statusCode).toBe(200);
  return (await answer.body.json()) as object;
}

test("docs/automations.md's shop example tells the team of a product down to its low stock threshold and of an order of 500 or more", async () => {
  const server = await serveExample(named(automationsPage, "low-stock"));
  const sample = (name: string) =>
    JSON.parse(readFileSync(new URL(`./fakes/samples/${name}.json`, import.meta.url), "utf8")) as Record<
      string,
      unknown
    >;
  const product = sample("woocommerce-v3-product-retrieve");
  const order = sample("woocommerce-v3-order-retrieve");
  try {
    const texts = told();
    let edit = 0;
    // Each change of a product is a delivery of its own: its modification time tells them apart.
    const updated = (changes: object) =>
      deliverWoo(server, "product.updated", {
        ...product,
        date_modified_gmt: `2026-11-30T08:0${edit++}:00`,
        ...changes,
      });
    // Its own low stock threshold where it has one, else the shop's, 2.
    const stock = { sku: "PQ-TEE", manage_stock: true, low_stock_amount: null };
    await updated({ ...stock, stock_quantity: 12 });
    await updated({ ...stock, stock_quantity: 3 });
    await updated({ ...stock, stock_quantity: 2 });
    await updated({ ...stock, stock_quantity: 5, low_stock_amount: 5 });
    await updated({ ...stock, stock_quantity: 6, low_stock_amount: 5 });
    await updated({ ...stock, manage_stock: false, stock_quantity: null });
    await updated({ ...stock, stock_quantity: 0 });
    // A variation's stock change is a Product updated too, of the variation as the products endpoint reads it.
    const variation = (woo.shop.product(WOO_IDS.products.houseBlend).variations[0] as { id: number }).id;
    Object.assign(woo.shop.product(variation), { stock_quantity: 0, stock_status: "outofstock" });
    await deliverWoo(server, "product.updated", await wooProduct(variation));
    // Without one of its own it follows its product's, 5, which its Product updated does not carry: not told at 3.
    woo.shop.product(WOO_IDS.products.houseBlend).low_stock_amount = 5;
    Object.assign(woo.shop.product(variation), { stock_quantity: 3, stock_status: "instock" });
    const following = await wooProduct(variation);
    expect(following).toMatchObject({ stock_quantity: 3, low_stock_amount: null });
    await deliverWoo(server, "product.updated", following);
    // Its own threshold, above the shop's.
    Object.assign(woo.shop.product(variation), { stock_quantity: 4, stock_status: "instock", low_stock_amount: 5 });
    await deliverWoo(server, "product.updated", await wooProduct(variation));
    await deliverWoo(server, "order.created", order);
    await deliverWoo(server, "order.created", { ...order, id: 728, number: "728", total: "529.00" });
    await expect
      .poll(texts)
      .toEqual([
        "Low stock: “Premium Quality”, SKU “PQ-TEE”, 2 left.",
        "Low stock: “Premium Quality”, SKU “PQ-TEE”, 5 left.",
        "Low stock: “Premium Quality”, SKU “PQ-TEE”, 0 left.",
        "Low stock: “House Blend - 250 g”, SKU “COF-HOUSE-250”, 0 left.",
        "Low stock: “House Blend - 250 g”, SKU “COF-HOUSE-250”, 4 left.",
        "Order “728” for “529.00” “USD” from “john.doe@example.com”.",
      ]);
  } finally {
    await server.close();
  }
});

test("docs/automations.md's conditions for an order GoPay's plugin marked paid tell the team from WooCommerce's Order updated, again at each save of it", async () => {
  const page = read("../docs/automations.md");
  const section = /^### With the gateway's plugin\n([\s\S]*?)^## /m.exec(page)?.[1] ?? "";
  const where = JSON.parse(/whose `where` is\n`(\[[^`]+\])`/.exec(section)?.[1] ?? "null") as object[];
  expect(where).toHaveLength(2);
  // The shop's source of "From the shop", with the automation the section tells in prose.
  const server = await serveExample({
    ...named(automationsPage, "low-stock"),
    automations: [
      {
        name: "gopay-plugin-paid",
        when: { source: "shop", type: "order.updated", where },
        do: [{ notify: "team", text: "Order {{payload.number}} is paid through GoPay: {{payload.status}}." }],
      },
    ],
  });
  const sample = JSON.parse(
    readFileSync(new URL("./fakes/samples/woocommerce-v3-order-retrieve.json", import.meta.url), "utf8"),
  ) as Record<string, unknown>;
  // An order placed with GoPay's plugin, not paid yet, as WooCommerce sends it at each save.
  const placed = {
    ...sample,
    id: 1043,
    number: "1043",
    status: "pending",
    payment_method: "wc_gopay_gateway",
    payment_method_title: "GoPay",
    date_paid: null,
    date_paid_gmt: null,
    date_modified_gmt: "2026-11-30T07:58:00",
  };
  const saved = (order: object, at: string, changes: object = {}) => ({ ...order, ...changes, date_modified_gmt: at });
  try {
    const texts = told();
    await deliverWoo(server, "order.updated", placed);
    // The plugin saves the order paid when the payer comes back, and again when GoPay notifies the
    // shop: with High-Performance Order Storage each save is a new modification time.
    const paidOrder = saved(placed, "2026-11-30T07:59:00", {
      status: "processing",
      date_paid: "2026-11-30T08:59:00",
      date_paid_gmt: "2026-11-30T07:59:00",
    });
    await deliverWoo(server, "order.updated", paidOrder);
    const notified = await deliverWoo(server, "order.updated", saved(paidOrder, "2026-11-30T07:59:04"));
    // In the posts storage a save that changes nothing keeps the time: the same delivery, stored once.
    const kept = await deliverWoo(server, "order.updated", saved(paidOrder, "2026-11-30T07:59:04"));
    expect(kept).toMatchObject({ id: notified.id, duplicate: true });
    // Another gateway's paid order, and GoPay's cancelled and refunded ones, are none of its.
    await deliverWoo(server, "order.updated", { ...sample, id: 1044, number: "1044", payment_method: "cod" });
    await deliverWoo(server, "order.updated", { ...placed, id: 1045, number: "1045", status: "failed" });
    await deliverWoo(server, "order.updated", { ...paidOrder, id: 1046, number: "1046", status: "refunded" });
    // Each later change to the paid order is told again: a refund of part of it, completing it,
    // editing its address.
    const refunds = [{ id: 1050, reason: "", total: "-5.00" }];
    await deliverWoo(server, "order.updated", saved(paidOrder, "2026-11-30T08:05:00", { refunds }));
    const completed = saved(paidOrder, "2026-11-30T08:10:00", { refunds, status: "completed" });
    await deliverWoo(server, "order.updated", completed);
    const shipping = { ...(sample.shipping as object), address_1: "Vinohradská 12" };
    await deliverWoo(server, "order.updated", saved(completed, "2026-11-30T08:20:00", { shipping }));
    await expect
      .poll(texts)
      .toEqual([
        ...Array(3).fill("Order “1043” is paid through GoPay: “processing”."),
        ...Array(2).fill("Order “1043” is paid through GoPay: “completed”."),
      ]);
    // The section says so.
    expect(section.replace(/\s+/g, " ")).toMatch(/when the payer comes back .* when GoPay notifies it/);
  } finally {
    await server.close();
  }
});

test("docs/automations.md's failure message is the one its Stripe payment tells the team for an order number no order has", async () => {
  const page = read("../docs/automations.md");
  const shown = /```\n(waiter: automation stripe-paid failed on [^`]*)\n```/.exec(page)?.[1] ?? "";
  expect(shown).not.toBe("");
  const server = await serveExample(named(automationsPage, "stripe-paid"));
  try {
    const texts = told();
    await sendStripe(server, "evt_3NxUnknown", "payment_intent.succeeded", payment("999999", "pi_3NxUnknown"), true);
    await expect.poll(texts).toHaveLength(1);
    // What the docs elide with "…" (ids) is any text there.
    const pattern = shown
      .split("…")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^ ]*");
    expect(texts()[0]).toMatch(new RegExp(`^${pattern}$`));
  } finally {
    await server.close();
  }
});
