import { type Delivery, header, reject, signedWithAny, type Verdict } from "./common.js";

/**
 * Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the body. The delivery is its
 * `X-Shopify-Webhook-Id`, which Shopify's docs name the key to deduplicate deliveries by: the event
 * id is shared by every delivery one merchant action brings (several topics, several resources),
 * so keyed on it a second resource's delivery would be answered as a repeat and never stored. A
 * delivery without a webhook id is its topic and event id.
 */
export function shopify(secrets: readonly string[]) {
  return ({ headers, body }: Delivery): Verdict => {
    const signature = header(headers, "x-shopify-hmac-sha256");
    if (!signature) return reject("missing X-Shopify-Hmac-Sha256 header");
    if (!signedWithAny([signature], secrets, "base64", body)) return reject("signature mismatch");
    const type = header(headers, "x-shopify-topic") ?? "unknown";
    const event = header(headers, "x-shopify-event-id");
    const id = header(headers, "x-shopify-webhook-id") ?? (event && `${type}:${event}`);
    if (!id) return reject("missing X-Shopify-Webhook-Id header");
    return { kind: "accept", id, type };
  };
}
