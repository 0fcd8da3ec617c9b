import type { IncomingHttpHeaders } from "node:http";
import { type Delivery, header, missingHeader, reject, signedWithAny, type Verdict } from "./common.js";

/**
 * A Shopify header by its name: `Shopify-<name>`, as Shopify's Events deliveries send it (beside
 * the legacy one, for now), else the legacy `X-Shopify-<name>`, the only one its webhooks send.
 * Shopify's own libraries read the new name first too: once the legacy headers are dropped, an
 * Events delivery still verifies, and one sent with either set is the same delivery.
 */
function shopifyHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  return header(headers, `shopify-${name}`) ?? header(headers, `x-shopify-${name}`);
}

/**
 * Shopify: `Shopify-Hmac-Sha256` (or `X-Shopify-Hmac-Sha256`), base64 HMAC-SHA256 of the body. The
 * delivery is its webhook id, which Shopify's docs name the key to deduplicate deliveries by: the
 * event id is shared by every delivery one merchant action brings (several topics, several
 * resources), so keyed on it a second resource's delivery would be answered as a repeat and never
 * stored. A delivery without a webhook id is its topic and event id. An Events delivery's topic
 * names the resource alone (`Product`), and its `Shopify-Action` what befell it: the type is both
 * (`Product/create`), as a webhook's topic is (`products/create`), so a type tells them apart.
 * A test notification (`X-Shopify-Test: true`, sent by the admin's Send test notification, with a
 * sample order and maybe no ids) is no event: taken for one, its sample would pass for an order of
 * the shop.
 */
export function shopify(secrets: readonly string[]) {
  return ({ headers, body }: Delivery): Verdict => {
    const signature = shopifyHeader(headers, "hmac-sha256");
    if (!signature) return missingHeader("Shopify-Hmac-Sha256", "X-Shopify-Hmac-Sha256");
    if (!signedWithAny([signature], secrets, "base64", body)) return reject("signature mismatch");
    const webhook = shopifyHeader(headers, "webhook-id");
    if (shopifyHeader(headers, "test")?.toLowerCase() === "true")
      return { kind: "ping", sender: "Shopify", signed: true, ...(webhook ? { id: webhook } : {}) };
    const topic = shopifyHeader(headers, "topic") ?? "unknown";
    const action = shopifyHeader(headers, "action");
    const type = action ? `${topic}/${action}` : topic;
    const event = shopifyHeader(headers, "event-id");
    const id = webhook ?? (event && `${type}:${event}`);
    if (!id) return missingHeader("Shopify-Webhook-Id", "X-Shopify-Webhook-Id");
    return { kind: "accept", id, type };
  };
}
