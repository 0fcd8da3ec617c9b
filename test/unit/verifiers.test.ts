import { createHmac } from "node:crypto";
import { sign as githubSign } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, test } from "vitest";
import type { WebhookSource } from "../../src/webhooks/settings.js";
import { headerMissingIn } from "../../src/webhooks/verifiers/common.js";
import { type Delivery, type Verdict, verifierFor } from "../../src/webhooks/verifiers/index.js";
import { wpSpecialcharsDecode } from "../../src/webhooks/verifiers/woocommerce.js";

const NOW = 1_614_265_330_000;

function delivery(headers: Record<string, string>, body: string | Buffer, now = NOW): Delivery {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: lower, body: Buffer.isBuffer(body) ? body : Buffer.from(body), now };
}

/** The schemes checked here answer at once; only Comgate's asks its API first (test/comgate.test.ts). */
const source = (config: Record<string, unknown>) =>
  verifierFor({ name: "s", ...config } as WebhookSource) as (delivery: Delivery) => Verdict;

describe("Standard Webhooks", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const verify = source({ scheme: "standard-webhooks", secretEnv: "X", secrets: [secret] });
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const body = '{"test": 2432232314}';
  const signed = (signature: string, extra: Record<string, string> = {}) =>
    delivery({ "webhook-id": id, "webhook-timestamp": "1614265330", "webhook-signature": signature, ...extra }, body);

  test("the specification's test vector", () => {
    expect(verify(signed("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="))).toEqual({
      kind: "accept",
      id,
      type: "unknown",
    });
  });

  test("signatures made by the standardwebhooks library, under webhook-* and svix-* names", () => {
    const payload = JSON.stringify({ type: "invoice.paid", data: { id: 7 } });
    const timestamp = new Date(NOW);
    const signature = new Webhook(secret).sign("msg_1", timestamp, payload);
    const ts = String(Math.floor(timestamp.getTime() / 1000));
    expect(
      verify(
        delivery({ "webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": signature }, payload, NOW),
      ),
    ).toEqual({ kind: "accept", id: "msg_1", type: "invoice.paid" });
    expect(
      verify(delivery({ "svix-id": "msg_1", "svix-timestamp": ts, "svix-signature": signature }, payload, NOW)).kind,
    ).toBe("accept");
  });

  test("a Svix sender's refusal for a missing header names the svix-* header it sends too", () => {
    const svix = (headers: Record<string, string>) => verify(delivery(headers, body));
    expect(svix({ "svix-timestamp": "1614265330", "svix-signature": VECTOR })).toMatchObject({
      reason: "missing webhook-id (or svix-id) header",
    });
    expect(svix({ "svix-id": id, "svix-timestamp": "1614265330" })).toMatchObject({
      reason: "missing webhook-signature (or svix-signature) header",
    });
    // Missing, as the others: something on the way dropped it, not a clock out of step.
    expect(svix({ "svix-id": id, "svix-signature": VECTOR })).toMatchObject({
      reason: "missing webhook-timestamp (or svix-timestamp) header",
    });
  });

  test("any one signature of several may match", () => {
    expect(verify(signed("v1,AAAA v1a,zzz v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")).kind).toBe("accept");
  });

  const VECTOR = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  /** The specification's vector with one thing changed. */
  const vector = (change: { body?: string; now?: number; headers?: Record<string, string> }) =>
    delivery(
      { "webhook-id": id, "webhook-timestamp": "1614265330", "webhook-signature": VECTOR, ...change.headers },
      change.body ?? body,
      change.now ?? NOW,
    );
  const wrongSecret = source({
    scheme: "standard-webhooks",
    secretEnv: "X",
    secrets: ["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  });

  test.each([
    ["a tampered body", () => verify(vector({ body: '{"test": 2432232315}' })), "signature mismatch"],
    ["an old timestamp", () => verify(vector({ now: NOW + 301_000 })), "timestamp outside the 300 s tolerance"],
    ["a future timestamp", () => verify(vector({ now: NOW - 400_000 })), "timestamp outside the 300 s tolerance"],
    ["a missing id", () => verify(vector({ headers: { "webhook-id": "" } })), "missing webhook-id"],
    [
      "a missing signature",
      () => verify(vector({ headers: { "webhook-signature": "" } })),
      "missing webhook-signature",
    ],
    [
      "a garbage timestamp",
      () => verify(vector({ headers: { "webhook-timestamp": "yesterday" } })),
      "malformed webhook-timestamp header",
    ],
    ["the wrong secret", () => wrongSecret(vector({})), "signature mismatch"],
  ])("rejects %s", (_name, run, reason) => {
    const verdict = run();
    expect(verdict.kind).toBe("reject");
    expect(verdict.kind === "reject" && verdict.reason).toContain(reason);
  });

  test("a signature written otherwise than v1,<base64> is refused as malformed, under the header sent: no secret makes it", () => {
    const hex = `v1,${createHmac("sha256", Buffer.from(secret.slice(6), "base64"))
      .update(`${id}.1614265330.${body}`)
      .digest("hex")}`;
    const malformed = (signature: string, name = "webhook-signature") =>
      verify(vector({ headers: { [name]: signature } }));
    expect(malformed("v1,!!!not-base64!!!")).toEqual({ kind: "reject", reason: "malformed webhook-signature header" });
    // Hex where base64 is asked, and the signature without its v1, prefix.
    expect(malformed(hex)).toEqual({ kind: "reject", reason: "malformed webhook-signature header" });
    expect(malformed(VECTOR.slice(3))).toEqual({ kind: "reject", reason: "malformed webhook-signature header" });
    const svix = delivery({ "svix-id": id, "svix-timestamp": "1614265330", "svix-signature": hex }, body);
    expect(verify(svix)).toEqual({ kind: "reject", reason: "malformed svix-signature header" });
    // One well-formed beside it is checked, as any of several may match.
    expect(malformed(`${hex} v1,${"A".repeat(43)}=`)).toEqual({ kind: "reject", reason: "signature mismatch" });
  });

  test("a stale timestamp's refusal says, for the log, how far behind or ahead of waiter's clock it is", () => {
    expect(verify(vector({ now: NOW + 301_999 }))).toEqual({
      kind: "reject",
      reason: "timestamp outside the 300 s tolerance",
      detail: "stamped 301 s behind this machine's clock",
    });
    expect(verify(vector({ now: NOW - 3_600_000 }))).toEqual({
      kind: "reject",
      reason: "timestamp outside the 300 s tolerance",
      detail: "stamped 3600 s ahead of this machine's clock",
    });
  });
});

describe("Stripe", () => {
  const secret = "whsec_test_secret_for_waiter";
  const verify = source({ scheme: "stripe", secretEnv: "X", secrets: [secret] });
  const stripeClient = new Stripe("sk_test_waiter");
  const payload = JSON.stringify({ id: "evt_1", object: "event", type: "payment_intent.succeeded" });

  test("a header made by stripe's own generateTestHeaderString", () => {
    const timestamp = Math.floor(NOW / 1000);
    const signature = stripeClient.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    expect(verify(delivery({ "stripe-signature": signature }, payload, NOW))).toEqual({
      kind: "accept",
      id: "evt_1",
      type: "payment_intent.succeeded",
    });
  });

  test("one valid v1 among several, as during a secret rotation", () => {
    const timestamp = Math.floor(NOW / 1000);
    const good = stripeClient.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    const v1 = good.split(",").find((p) => p.startsWith("v1="));
    expect(
      verify(delivery({ "stripe-signature": `t=${timestamp},v1=${"0".repeat(64)},${v1}` }, payload, NOW)).kind,
    ).toBe("accept");
  });

  test.each([
    ["tampered", payload.replace("evt_1", "evt_2"), 0, "signature mismatch"],
    ["stale", payload, 400, "timestamp outside the 300 s tolerance"],
  ])("rejects a %s delivery", (_name, body, age, reason) => {
    const timestamp = Math.floor(NOW / 1000) - age;
    const signature = stripeClient.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    const verdict = verify(delivery({ "stripe-signature": signature }, body, NOW));
    expect(verdict).toMatchObject({ kind: "reject", reason: expect.stringContaining(reason) });
  });

  test("a signature no copy's secret makes is a mismatch, whatever a relay's copy or its age: Stripe's SDK checks it first", () => {
    const timestamp = Math.floor(NOW / 1000);
    const sign = (key: string, t: number | string) =>
      `t=${t},v1=${createHmac("sha256", key).update(`${t}.${payload}`).digest("hex")}`;
    const reason = (signature: string) => verify(delivery({ "stripe-signature": signature }, payload, NOW));
    // A relay's copy first, its t no number; Stripe's after it, signed with another secret than waiter's.
    const stripes = sign("whsec_another_endpoint_secret", timestamp);
    expect(reason(`${sign("relay", "abc")}, ${stripes}`)).toEqual({ kind: "reject", reason: "signature mismatch" });
    expect(reason(sign("whsec_another_endpoint_secret", timestamp - 400))).toEqual({
      kind: "reject",
      reason: "signature mismatch",
    });
    // No copy with a t that is a number is no Stripe delivery's.
    expect(reason(sign("relay", "abc"))).toEqual({ kind: "reject", reason: "missing or malformed timestamp" });
    // Nor with a t in milliseconds, signed or not.
    const ms = String(NOW);
    const inMilliseconds = { kind: "reject", reason: "timestamp in milliseconds, where seconds are asked" };
    expect(reason(sign("relay", ms))).toEqual(inMilliseconds);
    expect(reason(sign(secret, ms))).toEqual(inMilliseconds);
    // A relay's copy in milliseconds beside Stripe's in seconds: Stripe's copy decides.
    expect(reason(`${sign("relay", ms)}, ${stripes}`)).toEqual({ kind: "reject", reason: "signature mismatch" });
    expect(reason(`${sign("relay", ms)}, ${sign(secret, timestamp)}`)).toMatchObject({ kind: "accept", id: "evt_1" });
  });

  test("a second copy written v1 before t, as Stripe's SDK reads a copy, is checked with its own t, not the first copy's", () => {
    const timestamp = Math.floor(NOW / 1000);
    const sign = (key: string, t: number) => createHmac("sha256", key).update(`${t}.${payload}`).digest("hex");
    const relays = `t=${timestamp},v1=${sign("whsec_the-relay-s-own-secret", timestamp)}`;
    const stripes = `v1=${sign(secret, timestamp - 2)},t=${timestamp - 2}`;
    const verdict = (signature: string) => verify(delivery({ "stripe-signature": signature }, payload, NOW));
    expect(verdict(stripes)).toMatchObject({ kind: "accept", id: "evt_1" });
    expect(verdict(`${relays}, ${stripes}`)).toMatchObject({ kind: "accept", id: "evt_1" });
    expect(verdict(`${stripes}, ${relays}`)).toMatchObject({ kind: "accept", id: "evt_1" });
    // Stripe's v1 beside the relay's t, in one copy, signs nothing Stripe sent.
    const mixed = `t=${timestamp},v1=${sign(secret, timestamp - 2)}`;
    expect(verdict(`${mixed}, ${relays}`)).toEqual({ kind: "reject", reason: "signature mismatch" });
  });

  test("Stripe's v1 is checked with its own t in any order of the copies and of their parts, spaced or not", () => {
    const timestamp = Math.floor(NOW / 1000);
    const sign = (key: string, t: number) => createHmac("sha256", key).update(`${t}.${payload}`).digest("hex");
    const relay = { t: `t=${timestamp}`, v1: `v1=${sign("whsec_the-relay-s-own-secret", timestamp)}` };
    const stripes = { t: `t=${timestamp - 2}`, v1: `v1=${sign(secret, timestamp - 2)}` };
    const verdict = (signature: string) => verify(delivery({ "stripe-signature": signature }, payload, NOW));
    for (const [first, second] of [
      [relay, stripes],
      [stripes, relay],
    ] as const) {
      for (const one of [
        `${first.t},${first.v1}`,
        `${first.v1},${first.t}`,
        `${first.t}, ${first.v1}`,
        `${first.v1}, ${first.t}`,
      ]) {
        for (const other of [
          `${second.t},${second.v1}`,
          `${second.v1},${second.t}`,
          `${second.t}, ${second.v1}`,
          `${second.v1}, ${second.t}`,
        ]) {
          expect(verdict(`${one}, ${other}`), `${one}, ${other}`).toMatchObject({ kind: "accept", id: "evt_1" });
        }
      }
    }
    // A header of v1s only has no t to check them with.
    expect(verdict(stripes.v1)).toEqual({ kind: "reject", reason: "malformed Stripe-Signature header" });
  });

  test("takes a delivery stamped ahead of its clock, as Stripe's own library does: it checks the age only", () => {
    const timestamp = Math.floor(NOW / 1000) + 400;
    const signature = stripeClient.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    expect(verify(delivery({ "stripe-signature": signature }, payload, NOW))).toMatchObject({ kind: "accept" });
    // Stripe's SDK, whose clock is the system's, takes one stamped ahead of it just so.
    const ahead = Math.floor(Date.now() / 1000) + 400;
    const stamped = stripeClient.webhooks.generateTestHeaderString({ payload, secret, timestamp: ahead });
    expect(stripeClient.webhooks.constructEvent(payload, stamped, secret).id).toBe("evt_1");
  });

  test("a signed body that is no Stripe event is rejected", () => {
    const body = JSON.stringify({ object: "event" });
    const signature = stripeClient.webhooks.generateTestHeaderString({
      payload: body,
      secret,
      timestamp: Math.floor(NOW / 1000),
    });
    expect(verify(delivery({ "stripe-signature": signature }, body, NOW))).toEqual({
      kind: "reject",
      reason: "body is not a Stripe event (no id)",
    });
  });

  test.each([["t=1,v0=abc"], ["garbage"], ["v1=abc"]])("rejects the malformed header %s", (value) => {
    expect(verify(delivery({ "stripe-signature": value }, payload, NOW))).toEqual({
      kind: "reject",
      reason: "malformed Stripe-Signature header",
    });
  });
});

describe("GitHub", () => {
  const secret = "It's a Secret to Everybody";
  const verify = source({ scheme: "github", secretEnv: "X", secrets: [secret] });

  test("GitHub's documented vector; its ping is no event", () => {
    const signed = (event: string) =>
      verify(
        delivery(
          {
            "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "x-github-event": event,
          },
          "Hello, World!",
        ),
      );
    expect(signed("issues")).toEqual({ kind: "accept", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", type: "issues" });
    expect(signed("ping")).toEqual({
      kind: "ping",
      sender: "GitHub",
      signed: true,
      id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    });
  });

  test("a signature from @octokit/webhooks-methods, with the payload's action in the type", async () => {
    const payload = JSON.stringify({ action: "opened", issue: { number: 1 } });
    const signature = await githubSign(secret, payload);
    const verdict = verify(
      delivery({ "x-hub-signature-256": signature, "x-github-delivery": "d-1", "x-github-event": "issues" }, payload),
    );
    expect(verdict).toEqual({ kind: "accept", id: "d-1", type: "issues.opened" });
  });

  test.each([
    [{ "x-github-delivery": "d" }, "missing X-Hub-Signature-256", "X-Hub-Signature-256"],
    [{ "x-hub-signature-256": "sha1=abc", "x-github-delivery": "d" }, "malformed", undefined],
    [{ "x-hub-signature-256": "sha256=zz", "x-github-delivery": "d" }, "signature mismatch", undefined],
    [{ "x-hub-signature-256": `sha256=${"a".repeat(64)}`, "x-github-delivery": "d" }, "signature mismatch", undefined],
  ])("rejects %j", (headers, reason, missingHeader) => {
    const verdict = verify(delivery(headers, "Hello, World!"));
    expect(verdict).toEqual({ kind: "reject", reason: expect.stringContaining(reason) });
    expect(headerMissingIn(verdict.kind === "reject" ? verdict.reason : "")).toBe(missingHeader);
  });
});

const base64Hmac = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("base64");

describe("Shopify", () => {
  const verify = source({ scheme: "shopify", secretEnv: "X", secrets: ["shpss_secret"] });
  const body = '{"id":820982911946154508,"email":"jon@example.com"}';

  test("accepts its signature; the delivery is its webhook id, and the type its topic", () => {
    const verdict = verify(
      delivery(
        {
          "x-shopify-hmac-sha256": base64Hmac("shpss_secret", body),
          "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
          "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
          "x-shopify-topic": "orders/paid",
        },
        body,
      ),
    );
    expect(verdict).toEqual({
      kind: "accept",
      id: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      type: "orders/paid",
    });
  });

  test("two deliveries of one merchant action, for two resources, are two deliveries", () => {
    const [first, second] = ['{"id":111}', '{"id":222}'].map((product, n) =>
      verify(
        delivery(
          {
            "x-shopify-hmac-sha256": base64Hmac("shpss_secret", product),
            "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
            "x-shopify-webhook-id": `b54557e4-bdd9-4b37-8a5f-bf7d70bcd04${n}`,
            "x-shopify-topic": "products/update",
          },
          product,
        ),
      ),
    );
    expect(first).toMatchObject({ kind: "accept" });
    expect(second).toMatchObject({ kind: "accept" });
    if (first?.kind === "accept" && second?.kind === "accept") expect(first.id).not.toBe(second.id);
  });

  test("takes the Shopify-* headers Shopify moves to, alone or beside the legacy X-Shopify-* ones, as one delivery", () => {
    const legacy = {
      "x-shopify-hmac-sha256": base64Hmac("shpss_secret", body),
      "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
      "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "x-shopify-topic": "orders/paid",
    };
    // As shopify-app-js and shopify-api-ruby read them: the new names, lowercase.
    const current = {
      "shopify-hmac-sha256": base64Hmac("shpss_secret", body),
      "shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
      "shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "shopify-topic": "orders/paid",
    };
    const accepted = { kind: "accept", id: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", type: "orders/paid" };
    for (const headers of [legacy, current, { ...legacy, ...current }]) {
      expect(verify(delivery(headers, body))).toEqual(accepted);
    }
    expect(verify(delivery({ ...current, "shopify-hmac-sha256": base64Hmac("other", body) }, body))).toMatchObject({
      kind: "reject",
      reason: "signature mismatch",
    });
  });

  test("an Events delivery without a webhook id is its topic, action, event id and subscription handle, as Shopify's library reads it", () => {
    // As shopify-app-js's header-names.ts reads an Events delivery's headers: no webhook id; its subscription's handle.
    const event = (handle: string) => ({
      "shopify-hmac-sha256": base64Hmac("shpss_secret", body),
      "shopify-topic": "Product",
      "shopify-action": "create",
      "shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
      "shopify-handle": handle,
      "shopify-resource-id": "gid://shopify/Product/111",
    });
    const first = verify(delivery(event("stock-sync"), body));
    const second = verify(delivery(event("price-watch"), body));
    expect(first).toMatchObject({ kind: "accept", type: "Product/create" });
    expect(second).toMatchObject({ kind: "accept", type: "Product/create" });
    // Two subscriptions of one topic, each with its own handle, triggers and query: two deliveries.
    if (first?.kind === "accept" && second?.kind === "accept") expect(first.id).not.toBe(second.id);
    // A retry of one is that delivery again.
    expect(verify(delivery(event("stock-sync"), body))).toEqual(first);
  });

  test("an Events delivery without a webhook id names the key an older waiter stored it under, without its handle, so its retry is no second event", () => {
    const headers = {
      "shopify-hmac-sha256": base64Hmac("shpss_secret", body),
      "shopify-topic": "Product",
      "shopify-action": "create",
      "shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
      "shopify-handle": "stock-sync",
    };
    expect(verify(delivery(headers, body))).toEqual({
      kind: "accept",
      id: "Product/create:98880550-7158-44d4-b7cd-2c97c8a091b5:stock-sync",
      type: "Product/create",
      formerId: "Product/create:98880550-7158-44d4-b7cd-2c97c8a091b5",
    });
  });

  test.each([
    [
      { "x-shopify-event-id": "e" },
      "missing Shopify-Hmac-Sha256 (or X-Shopify-Hmac-Sha256) header",
      "Shopify-Hmac-Sha256",
    ],
    [{ "x-shopify-hmac-sha256": "garbage!", "x-shopify-event-id": "e" }, "signature mismatch", undefined],
    [
      { "x-shopify-hmac-sha256": base64Hmac("shpss_secret", body) },
      "missing Shopify-Webhook-Id (or X-Shopify-Webhook-Id) header",
      "Shopify-Webhook-Id",
    ],
  ])("rejects %j", (headers, reason, missingHeader) => {
    expect(verify(delivery(headers, body))).toEqual({ kind: "reject", reason });
    expect(headerMissingIn(reason)).toBe(missingHeader);
  });

  test("falls back to the topic and event id, and rejects a bad signature", () => {
    const headers = { "x-shopify-hmac-sha256": base64Hmac("shpss_secret", body), "x-shopify-event-id": "e-1" };
    expect(verify(delivery(headers, body))).toMatchObject({ kind: "accept", id: "unknown:e-1" });
    expect(verify(delivery({ ...headers, "x-shopify-hmac-sha256": base64Hmac("other", body) }, body))).toMatchObject({
      kind: "reject",
    });
  });
});

describe("WooCommerce", () => {
  const verify = source({ scheme: "woocommerce", secretEnv: "X", secrets: ["wc-secret"] });
  const body = JSON.stringify({ id: 1042, status: "processing", date_modified_gmt: "2026-11-27T10:00:00" });
  const headers = {
    "x-wc-webhook-signature": base64Hmac("wc-secret", body),
    "x-wc-webhook-id": "12",
    "x-wc-webhook-topic": "order.updated",
  };

  test("a delivery is the webhook, the resource and its modification time", () => {
    expect(verify(delivery(headers, body))).toEqual({
      kind: "accept",
      id: expect.stringMatching(/^12:1042:2026-11-27T10:00:00:[0-9a-f]{16}$/),
      type: "order.updated",
    });
  });

  test("two updates within date_modified's second are two deliveries", () => {
    const other = body.replace("processing", "completed");
    const first = verify(delivery(headers, body));
    const second = verify(delivery({ ...headers, "x-wc-webhook-signature": base64Hmac("wc-secret", other) }, other));
    expect(first.kind === "accept" && second.kind === "accept" && first.id !== second.id).toBe(true);
  });

  test("deletions, which carry only the resource's id, are told apart by webhook, topic and WooCommerce's delivery id", () => {
    const deleted = JSON.stringify({ id: 42 });
    const deletion = (webhook: string, topic: string, deliveryId: string) =>
      verify(
        delivery(
          {
            "x-wc-webhook-signature": base64Hmac("wc-secret", deleted),
            "x-wc-webhook-id": webhook,
            "x-wc-webhook-topic": topic,
            "x-wc-webhook-delivery-id": deliveryId,
          },
          deleted,
        ),
      );
    const ids = [
      deletion("12", "customer.deleted", "a1"),
      deletion("13", "product.deleted", "b1"),
      // The same product deleted again after it was restored, a minute later.
      deletion("13", "product.deleted", "b2"),
    ].map((verdict) => (verdict.kind === "accept" ? verdict.id : verdict.kind));
    expect(new Set(ids).size).toBe(3);
    // A delivery the sender's HTTP client repeats carries the same headers: one event.
    expect(deletion("13", "product.deleted", "b2")).toEqual({
      kind: "accept",
      id: ids[2],
      type: "product.deleted",
      sendersId: { sender: "WooCommerce", id: "b2" },
    });
  });

  test("a garbage signature is rejected", () => {
    expect(verify(delivery({ ...headers, "x-wc-webhook-signature": "@@@not base64@@@" }, body))).toMatchObject({
      kind: "reject",
      reason: "signature mismatch",
    });
  });

  test("the creation ping gets through unsigned, as a ping", () => {
    expect(verify(delivery({ "content-type": "application/x-www-form-urlencoded" }, "webhook_id=12"))).toEqual({
      kind: "ping",
      sender: "WooCommerce",
    });
  });

  test("anything else unsigned, or signed wrongly, is rejected", () => {
    expect(verify(delivery({}, body))).toMatchObject({
      kind: "reject",
      reason: "missing X-WC-Webhook-Signature header",
    });
    expect(verify(delivery(headers, body.replace("1042", "1043")))).toMatchObject({ kind: "reject" });
  });

  describe("a secret with & < > or quotes, as WooCommerce stores it", () => {
    // WooCommerce keys the HMAC with wp_specialchars_decode($secret, ENT_QUOTES), not the stored text.
    const stored = "k&amp;y&lt;1&gt;&quot;2&#039;3&#39;4&#x27;5";
    const decoded = "k&y<1>\"2'3'4'5";
    const woo = source({ scheme: "woocommerce", secretEnv: "X", secrets: [stored] });
    const signedWith = (key: string) => delivery({ ...headers, "x-wc-webhook-signature": base64Hmac(key, body) }, body);

    test("verifies what WooCommerce signed with the decoded secret", () => {
      expect(woo(signedWith(decoded)).kind).toBe("accept");
    });

    test("still verifies a signature made with the secret as configured", () => {
      expect(woo(signedWith(stored)).kind).toBe("accept");
      expect(verify(signedWith("wc-secret")).kind).toBe("accept");
    });

    test("a secret decoded further than WordPress decodes is a mismatch", () => {
      const overDecoded = source({ scheme: "woocommerce", secretEnv: "X", secrets: ["a&amp;lt;b&apos;c"] });
      expect(overDecoded(signedWith("a<b'c")).kind).toBe("reject");
      expect(overDecoded(signedWith("a&lt;b&apos;c")).kind).toBe("accept");
    });
  });
});

/** An order's update as WooCommerce delivers it, signed with `key`. */
function wooSignedWith(key: string): Delivery {
  const body = '{"id":1042,"date_modified_gmt":"2026-03-02T10:00:00"}';
  return delivery(
    {
      "x-wc-webhook-signature": createHmac("sha256", key).update(body).digest("base64"),
      "x-wc-webhook-id": "7",
      "x-wc-webhook-topic": "order.updated",
    },
    body,
  );
}

describe("a WooCommerce secret with a space at an end", () => {
  // One WooCommerce generated (wp_generate_password's characters include the space) and signs with
  // as it is, until the webhook is saved again: sanitize_text_field then trims it.
  const generated = " Kq7}x<Lm@2=vT;9hR|pZ[4wN&c8]Yf^3sJ`e6aG-u1(oD~b5i ";
  const woo = source({ scheme: "woocommerce", secretEnv: "X", secrets: [generated] });

  test("verifies what WooCommerce signs with the secret as generated, and once saved again, trimmed", () => {
    expect(woo(wooSignedWith(generated)).kind).toBe("accept");
    expect(woo(wooSignedWith(generated.trim())).kind).toBe("accept");
    expect(woo(wooSignedWith(generated.slice(1))).kind).toBe("reject");
  });
});

describe("a WooCommerce secret that sanitize_text_field changes on saving", () => {
  // Saving the webhook passes its Secret through WordPress's sanitize_text_field, which strips
  // what reads as a tag, `%` and two hex digits, and runs of spaces; WooCommerce signs with the
  // result (its form then shows that). A secret WooCommerce generated is stored as generated until
  // the webhook is saved again, as it is to set it back to Active; about one in seven of them
  // changes so. What each becomes is what PHP 8.2 gives for WordPress's functions.

  test.each([
    ["Kq7}x<Lm@2=vT;9hR|pZ[4wN>c8]Yf^3sJ`e6aG-u1(oD~b5iQ", "Kq7}xc8]Yf^3sJ`e6aG-u1(oD~b5iQ"],
    ["k^*]YQ%= 6{24M]9<+[]I4j>/b0+B(Y6%_IPIvxBSCl,Y:uO/{", "k^*]YQ%= 6{24M]9/b0+B(Y6%_IPIvxBSCl,Y:uO/{"],
    ["=4Q[Oz[x(&/[OM,50Y<X el@<Wy|>1#sM)Xq,BekjSjrNN3dGH", "=4Q[Oz[x(&/[OM,50Y<X el@1#sM)Xq,BekjSjrNN3dGH"],
    ["abcdefgh  ijklmnop%4Fqrst%3a<uv", "abcdefgh ijklmnopqrst<uv"],
    [`0123456789abcdef<!-- y -->z<?php q(")?>") ?>w<a'b>c>d`, "0123456789abcdefzw"],
    ['0123456789abcdef<!DOCTYPE x>y<?xml v="1"?>w', "0123456789abcdefyw"],
  ])("verifies %s signed as generated, and once saved, as %s", (secret, saved) => {
    const woo = source({ scheme: "woocommerce", secretEnv: "X", secrets: [secret] });
    expect(woo(wooSignedWith(secret)).kind).toBe("accept");
    expect(woo(wooSignedWith(saved)).kind).toBe("accept");
  });

  test("what it leaves of a secret is no key when shorter than a secret may be: none left keys nothing", () => {
    for (const [secret, saved] of [
      ["<abcdefghijklmnopqrst>", ""],
      ["0123456789<abcdefghijklmnop>", "0123456789"],
    ] as const) {
      const woo = source({ scheme: "woocommerce", secretEnv: "X", secrets: [secret] });
      expect(woo(wooSignedWith(secret)).kind).toBe("accept");
      expect(woo(wooSignedWith(saved)).kind).toBe("reject");
    }
  });
});

describe("wp_specialchars_decode with ENT_QUOTES", () => {
  test.each([
    ["&amp; &lt; &gt; &quot; &#039; &#39; &#x27;", "& < > \" ' ' '"],
    ["&#034; &#x22; &#060; &#062; &#038; &#x26;", '" " < > & &'],
    ["zero padded: &#00039; &#x0027; &#X27; &#0000060;", "zero padded: ' ' ' <"],
    ["one pass: &amp;lt; &amp;amp;", "one pass: &lt; &amp;"],
    [
      "left alone: &AMP; &Lt; &apos; &nbsp; &#x3c; &#x3E; &#65; &amp &#39",
      "left alone: &AMP; &Lt; &apos; &nbsp; &#x3c; &#x3E; &#65; &amp &#39",
    ],
    ["no entity at all", "no entity at all"],
  ])("%s", (text, expected) => {
    expect(wpSpecialcharsDecode(text)).toBe(expected);
  });
});

test("a signed source without a secret is refused, not keyed with nothing", () => {
  expect(() => source({ scheme: "github", secretEnv: "X" })).toThrow("webhook source s has no secret");
});

describe("generic HMAC-SHA256", () => {
  const config = {
    scheme: "hmac-sha256",
    secretEnv: "X",
    secrets: ["erp"],
    header: "X-Signature",
    encoding: "hex",
    prefix: "sha256=",
    idHeader: "X-Delivery-Id",
    typeHeader: "X-Event-Type",
  };
  const verify = source(config);
  const body = '{"invoice":7}';
  const signature = `sha256=${createHmac("sha256", "erp").update(body).digest("hex")}`;

  test("id and type come from the configured headers", () => {
    expect(
      verify(delivery({ "x-signature": signature, "x-delivery-id": "d9", "x-event-type": "invoice.created" }, body)),
    ).toEqual({
      kind: "accept",
      id: "d9",
      type: "invoice.created",
      idHeader: "X-Delivery-Id",
    });
  });

  test("without an id header the body's digest identifies the delivery", () => {
    expect(verify(delivery({ "x-signature": signature }, body))).toMatchObject({
      id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
  });

  test("base64 encoding without a prefix", () => {
    const b64 = source({ ...config, encoding: "base64", prefix: "" });
    expect(b64(delivery({ "x-signature": base64Hmac("erp", body) }, body)).kind).toBe("accept");
  });

  test("a wrong signature is a mismatch; one with trailing junk, or in another encoding, is no HMAC as the source writes it", () => {
    const wrong = `sha256=${createHmac("sha256", "other").update(body).digest("hex")}`;
    expect(verify(delivery({ "x-signature": wrong }, body))).toEqual({ kind: "reject", reason: "signature mismatch" });
    const malformed = { kind: "reject", reason: "malformed X-Signature header" };
    expect(verify(delivery({ "x-signature": `${signature}zz` }, body))).toEqual(malformed);
    expect(verify(delivery({ "x-signature": `sha256=${base64Hmac("erp", body)}` }, body))).toEqual(malformed);
    const b64 = source({ ...config, encoding: "base64", prefix: "" });
    expect(b64(delivery({ "x-signature": `${base64Hmac("erp", body)}@@` }, body))).toEqual(malformed);
  });

  test("a form's type is its type, event or topic field, as Mailchimp posts type and Mailgun's legacy webhooks event", () => {
    const bare = source({ ...config, typeHeader: undefined });
    const unsigned = source({ scheme: "none", allowUnsigned: true });
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const typeOf = (verify: (delivery: Delivery) => Verdict, fields: string, headers = form) => {
      const signed = `sha256=${createHmac("sha256", "erp").update(fields).digest("hex")}`;
      return (verify(delivery({ ...headers, "x-signature": signed }, fields)) as { type?: string }).type;
    };
    const subscribed = "fired_at=2026-12-07+01%3A00%3A00&type=subscribe&data%5Bemail%5D=api%40mailchimp.com";
    expect(typeOf(bare, subscribed)).toBe("subscribe");
    expect(typeOf(unsigned, subscribed)).toBe("subscribe");
    expect(typeOf(unsigned, "event=delivered&recipient=alice%40example.com")).toBe("delivered");
    expect(typeOf(unsigned, "topic=orders%2Fpaid+now&type=")).toBe("orders/paid now");
    expect(typeOf(unsigned, "subtype=x&data%5Btype%5D=y")).toBe("unknown");
    expect(typeOf(unsigned, subscribed, { "content-type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8" })).toBe(
      "subscribe",
    );
    // A form posted as text is read as one, as its line reads it; text that is no form is not, nor a
    // field whose percent-escapes are broken.
    expect(typeOf(unsigned, subscribed, { "content-type": "text/plain" })).toBe("subscribe");
    expect(typeOf(unsigned, "Note: type=subscribe for order 1042", { "content-type": "text/plain" })).toBe("unknown");
    expect(typeOf(unsigned, "type=%E0%A4%A")).toBe("unknown");
    // The type header set still decides.
    expect(
      typeOf(source({ scheme: "none", allowUnsigned: true, typeHeader: "X-Event" }), subscribed, {
        ...form,
        "x-event": "list.subscribe",
      } as typeof form),
    ).toBe("list.subscribe");
  });

  test("a type its sender nests elsewhere is read there: Mailgun's event-data.event, PayPal IPN's txn_type, Slack's payload field", () => {
    const unsigned = source({ scheme: "none", allowUnsigned: true });
    const typeOf = (body: string, type: string) =>
      (unsigned(delivery({ "content-type": type }, body)) as { type?: string }).type;
    const mailgun = JSON.stringify({
      signature: {
        timestamp: "1529006854",
        token: "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
        signature: "d2",
      },
      "event-data": { event: "opened", timestamp: 1529006854.329574, id: "DACSsAdVSeGpLid7TN03WA" },
    });
    expect(typeOf(mailgun, "application/json")).toBe("opened");
    const ipn =
      "mc_gross=19.95&payment_type=instant&payer_id=LPLWNMTBWMFAY&txn_id=61E67681CH3238416&txn_type=web_accept&payment_status=Completed";
    expect(typeOf(ipn, "application/x-www-form-urlencoded")).toBe("web_accept");
    const slack = `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", user: { id: "U0CA5" } }))}`;
    expect(typeOf(slack, "application/x-www-form-urlencoded")).toBe("block_actions");
    // A payload field that is no JSON object, or has no type, gives none.
    expect(typeOf("payload=%7Bbroken", "application/x-www-form-urlencoded")).toBe("unknown");
    expect(typeOf(`payload=${encodeURIComponent("[1]")}`, "application/x-www-form-urlencoded")).toBe("unknown");
  });

  test("a payload field that nests past the depth a body may is not parsed for its type: its percent-escapes hide it from the body's check", () => {
    const unsigned = source({ scheme: "none", allowUnsigned: true });
    const deep = `{"type":"block_actions","actions":${"[".repeat(513)}${"]".repeat(513)}}`;
    const verdict = unsigned(
      delivery({ "content-type": "application/x-www-form-urlencoded" }, `payload=${encodeURIComponent(deep)}`),
    );
    // Stored still, as a form, untyped: a Slack interaction nests a dozen levels.
    expect(verdict).toMatchObject({ kind: "accept", type: "unknown" });
    const shallow = `{"type":"block_actions","actions":${"[".repeat(500)}${"]".repeat(500)}}`;
    expect(
      unsigned(
        delivery({ "content-type": "application/x-www-form-urlencoded" }, `payload=${encodeURIComponent(shallow)}`),
      ),
    ).toMatchObject({ kind: "accept", type: "block_actions" });
  });

  test("a missing prefix or header is named", () => {
    expect(verify(delivery({ "x-signature": signature.slice(7) }, body))).toEqual({
      kind: "reject",
      reason: "malformed X-Signature header",
    });
    expect(verify(delivery({}, body))).toEqual({ kind: "reject", reason: "missing X-Signature header" });
    expect(headerMissingIn("missing X-Signature header")).toBe("X-Signature");
  });
});

describe("while a secret is rotated, a source keyed with the new and the old accepts either", () => {
  const body = JSON.stringify({ id: "evt_9", type: "order.paid", date_modified_gmt: "2025-01-01T00:00:00" });
  const hexHmac = (secret: string) => createHmac("sha256", secret).update(body).digest("hex");
  const stripeClient = new Stripe("sk_test_waiter");
  const timestamp = Math.floor(NOW / 1000);
  /** Each scheme, its secrets as the sender would show them, and a delivery of `body` its sender signs with one. */
  const schemes: [string, Record<string, unknown>, [string, string, string], (secret: string) => Delivery][] = [
    [
      "github",
      {},
      ["gh-new", "gh-old", "gh-neither"],
      (secret) => delivery({ "x-hub-signature-256": `sha256=${hexHmac(secret)}`, "x-github-delivery": "d-9" }, body),
    ],
    [
      "shopify",
      {},
      ["shpss_new", "shpss_old", "shpss_neither"],
      (secret) => delivery({ "x-shopify-hmac-sha256": base64Hmac(secret, body), "x-shopify-event-id": "e-9" }, body),
    ],
    [
      "woocommerce",
      {},
      ["wc-new", "wc-old", "wc-neither"],
      (secret) => delivery({ "x-wc-webhook-signature": base64Hmac(secret, body), "x-wc-webhook-id": "3" }, body),
    ],
    [
      "hmac-sha256",
      { header: "X-Signature", encoding: "hex", prefix: "" },
      ["erp-new", "erp-old", "erp-neither"],
      (secret) => delivery({ "x-signature": hexHmac(secret) }, body),
    ],
    [
      "stripe",
      {},
      ["whsec_new", "whsec_old", "whsec_neither"],
      (secret) =>
        delivery(
          { "stripe-signature": stripeClient.webhooks.generateTestHeaderString({ payload: body, secret, timestamp }) },
          body,
        ),
    ],
    [
      "standard-webhooks",
      {},
      [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
      ],
      (secret) => {
        const signature = new Webhook(secret).sign("msg_9", new Date(NOW), body);
        return delivery(
          { "webhook-id": "msg_9", "webhook-timestamp": String(timestamp), "webhook-signature": signature },
          body,
        );
      },
    ],
  ];

  test.each(schemes)("%s", (scheme, options, [fresh, old, neither], signedWith) => {
    const verify = source({ scheme, ...options, secretEnv: ["NEW", "OLD"], secrets: [fresh, old] });
    expect(verify(signedWith(fresh)).kind).toBe("accept");
    expect(verify(signedWith(old)).kind).toBe("accept");
    expect(verify(signedWith(neither))).toEqual({ kind: "reject", reason: "signature mismatch" });
  });
});

describe("a signature header sent more than once, its copies joined by Node with a comma", () => {
  const twice = (value: string) => `${value}, ${value}`;
  const body = '{"id":1042,"date_modified_gmt":"2026-11-27T10:00:00"}';
  const hex = createHmac("sha256", "a-secret-of-sixteen").update(body).digest("hex");
  const base64 = base64Hmac("a-secret-of-sixteen", body);
  const forgedHex = createHmac("sha256", "not-the-secret-of-16").update(body).digest("hex");
  const forgedBase64 = base64Hmac("not-the-secret-of-16", body);
  const of = (scheme: string, extra: Record<string, string> = {}) =>
    source({ scheme, secretEnv: "X", secrets: ["a-secret-of-sixteen"], ...extra });

  test.each([
    ["github", of("github"), "X-Hub-Signature-256", `sha256=${hex}`, `sha256=${forgedHex}`],
    ["shopify", of("shopify"), "Shopify-Hmac-Sha256", base64, forgedBase64],
    ["shopify's legacy header", of("shopify"), "X-Shopify-Hmac-Sha256", base64, forgedBase64],
    ["woocommerce", of("woocommerce"), "X-WC-Webhook-Signature", base64, forgedBase64],
    [
      "hmac-sha256",
      of("hmac-sha256", { header: "X-Signature", encoding: "hex", prefix: "sha256=" }),
      "X-Signature",
      `sha256=${hex}`,
      `sha256=${forgedHex}`,
    ],
    [
      "hmac-sha256 in base64",
      of("hmac-sha256", { header: "X-Sig", encoding: "base64", prefix: "" }),
      "X-Sig",
      base64,
      forgedBase64,
    ],
  ])(
    "%s, whose header holds one signature, sent twice alike is that signature, checked as ever",
    (_, verify, name, signature, forged) => {
      const headers = { "x-github-delivery": "d", "x-shopify-webhook-id": "w", "x-wc-webhook-id": "12" };
      const sent = (value: string) => verify(delivery({ ...headers, [name]: value }, body));
      const once = sent(signature);
      expect(once.kind).toBe("accept");
      expect(sent(twice(signature))).toEqual(once);
      expect(sent(`${signature}, ${signature}, ${signature}`)).toEqual(once);
      expect(sent(twice(forged))).toEqual(sent(forged));
      expect(sent(twice(forged))).toEqual({ kind: "reject", reason: "signature mismatch" });
      const differing = { kind: "reject", reason: `${name} header sent more than once, its copies differing` };
      expect(sent(`${signature}, ${forged}`)).toEqual(differing);
      expect(sent(`${forged}, ${signature}`)).toEqual(differing);
    },
  );

  test("Stripe's and Standard Webhooks' headers, which list signatures, are taken twice", () => {
    const stripeSecret = "whsec_test_secret_for_waiter";
    const payload = JSON.stringify({ id: "evt_1", object: "event", type: "payment_intent.succeeded" });
    const timestamp = Math.floor(NOW / 1000);
    const stripeSigned = new Stripe("sk_test_waiter").webhooks.generateTestHeaderString({
      payload,
      secret: stripeSecret,
      timestamp,
    });
    const stripe = source({ scheme: "stripe", secretEnv: "X", secrets: [stripeSecret] });
    expect(stripe(delivery({ "stripe-signature": twice(stripeSigned) }, payload)).kind).toBe("accept");
    const standard = source({
      scheme: "standard-webhooks",
      secretEnv: "X",
      secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    });
    const signed = {
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": twice("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    };
    expect(standard(delivery(signed, '{"test": 2432232314}')).kind).toBe("accept");
  });

  test.each(["webhook", "svix"])(
    "a %s-signature sent twice, the copies differing, lists each copy's signatures: the signed one verifies",
    (prefix) => {
      const standard = source({
        scheme: "standard-webhooks",
        secretEnv: "X",
        secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
      });
      const signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
      const forged = `v1,${forgedBase64}`;
      const sent = (value: string) =>
        standard(
          delivery(
            {
              [`${prefix}-id`]: "msg_p5jXN8AQM9LWM0D4loKWxJek",
              [`${prefix}-timestamp`]: "1614265330",
              [`${prefix}-signature`]: value,
            },
            '{"test": 2432232314}',
          ),
        );
      const accepted = { kind: "accept", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", type: "unknown" };
      expect(sent(`${signature}, ${forged}`)).toEqual(accepted);
      expect(sent(`${forged}, ${signature}`)).toEqual(accepted);
      expect(sent(`${forged} ${signature.replace("v1,", "v1a,")}, ${signature}`)).toEqual(accepted);
      const mismatch = { kind: "reject", reason: "signature mismatch" };
      expect(sent(`${forged}, ${forged}`)).toEqual(mismatch);
      // Only a v1 signature counts, in whichever copy: a v1a or a comma the copies' join left is none.
      expect(sent(`${signature.replace("v1,", "v1a,")}, ${forged}`)).toEqual(mismatch);
      expect(sent(`${forged}, ${signature},`)).toEqual(mismatch);
      expect(sent(`${forged}, v1a,x, ${signature.replace("v1,", "")}`)).toEqual(mismatch);
    },
  );
});

describe("a delivery's id or timestamp sent more than once, its copies joined by Node with a comma", () => {
  const standard = source({
    scheme: "standard-webhooks",
    secretEnv: "X",
    secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
  });
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const signed = (headers: Record<string, string>) =>
    delivery(
      { "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", ...headers },
      '{"test": 2432232314}',
    );

  test.each([
    ["webhook-id", "webhook-timestamp"],
    ["svix-id", "svix-timestamp"],
  ])("a Standard Webhooks %s or %s sent twice alike is the one its sender signed", (idHeader, timestampHeader) => {
    const accepted = { kind: "accept", id, type: "unknown" };
    expect(standard(signed({ [idHeader]: `${id}, ${id}`, [timestampHeader]: "1614265330" }))).toEqual(accepted);
    expect(standard(signed({ [idHeader]: id, [timestampHeader]: "1614265330, 1614265330" }))).toEqual(accepted);
  });

  test.each([
    ["webhook-id", `${id}, msg_2`, "1614265330"],
    ["webhook-timestamp", id, "1614265330, 1614265331"],
  ])("a Standard Webhooks %s sent twice, the copies differing, is told so", (name, sentId, timestamp) => {
    expect(standard(signed({ "webhook-id": sentId, "webhook-timestamp": timestamp }))).toEqual({
      kind: "reject",
      reason: `${name} header sent more than once, its copies differing`,
    });
  });
});

describe("a header a delivery's id is made of, sent more than once, its copies joined by Node with a comma", () => {
  const body = '{"id":1042,"date_modified_gmt":"2026-11-27T10:00:00"}';
  const hex = createHmac("sha256", "a-secret-of-sixteen").update(body).digest("hex");
  const base64 = base64Hmac("a-secret-of-sixteen", body);
  const of = (scheme: string, extra: Record<string, unknown> = {}) =>
    source({ scheme, secretEnv: "X", secrets: ["a-secret-of-sixteen"], ...extra });
  const shopify = { "x-shopify-hmac-sha256": base64, "x-shopify-topic": "orders/paid" };
  const woocommerce = {
    "x-wc-webhook-signature": base64,
    "x-wc-webhook-id": "12",
    "x-wc-webhook-topic": "order.deleted",
  };
  const generic = { idHeader: "X-Delivery-Id" };

  test.each([
    ["github", of("github"), { "x-hub-signature-256": `sha256=${hex}`, "x-github-event": "push" }, "X-GitHub-Delivery"],
    [
      "github's event",
      of("github"),
      { "x-hub-signature-256": `sha256=${hex}`, "x-github-delivery": "g" },
      "X-GitHub-Event",
    ],
    ["shopify's webhook id", of("shopify"), shopify, "X-Shopify-Webhook-Id"],
    ["shopify's event id", of("shopify"), shopify, "X-Shopify-Event-Id"],
    ["shopify's topic", of("shopify"), { ...shopify, "x-shopify-event-id": "e" }, "X-Shopify-Topic"],
    [
      "shopify's Events action",
      of("shopify"),
      { "shopify-hmac-sha256": base64, "shopify-topic": "Product", "shopify-webhook-id": "w" },
      "Shopify-Action",
    ],
    ["woocommerce's webhook id", of("woocommerce"), woocommerce, "X-WC-Webhook-Id"],
    ["woocommerce's delivery id", of("woocommerce"), woocommerce, "X-WC-Webhook-Delivery-ID"],
    ["woocommerce's topic", of("woocommerce"), woocommerce, "X-WC-Webhook-Topic"],
    [
      "hmac-sha256",
      of("hmac-sha256", { ...generic, header: "X-Sig", encoding: "hex", prefix: "" }),
      { "x-sig": hex },
      "X-Delivery-Id",
    ],
  ])(
    "%s sent twice alike is the one value its sender sent; of copies that differ, a verified delivery takes the first, and tells them",
    (_, verify, headers, name) => {
      const sent = (value: string) => verify(delivery({ ...headers, [name]: value }, body));
      const once = sent("upd");
      expect(once.kind).toBe("accept");
      expect(sent("upd, upd")).toEqual(once);
      expect(sent("upd, other")).toEqual({ ...once, differing: [`${name} ("upd", "other")`] });
    },
  );

  test.each([
    ["none", source({ scheme: "none", allowUnsigned: true, ...generic }), "X-Delivery-Id"],
    ["a generic type", source({ scheme: "none", allowUnsigned: true, typeHeader: "X-Event-Type" }), "X-Event-Type"],
  ])("%s, unsigned, sent twice with copies that differ is refused: anyone may have sent either", (_, verify, name) => {
    expect(verify(delivery({ [name]: "upd, other" }, body))).toEqual({
      kind: "reject",
      reason: `${name} header sent more than once, its copies differing`,
    });
  });

  test("a Shopify test notification sent twice alike is no event", () => {
    const verify = of("shopify");
    expect(verify(delivery({ ...shopify, "x-shopify-test": "true, true" }, body))).toEqual(
      verify(delivery({ ...shopify, "x-shopify-test": "true" }, body)),
    );
  });
});
