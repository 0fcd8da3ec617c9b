import { type Delivery, header, reject, signedWithAny, type Verdict } from "./common.js";

/**
 * Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the body. The delivery is the topic and
 * the event id: an event id names the merchant's action, which may bring deliveries on several
 * topics (a product created and published at once), each an event of its own.
 */
export function shopify(secrets: readonly string[]) {
  return ({ headers, body }: Delivery): Verdict => {
    const signature = header(headers, "x-shopify-hmac-sha256");
    if (!signature) return reject("missing X-Shopify-Hmac-Sha256 header");
    if (!signedWithAny([signature], secrets, "base64", body)) return reject("signature mismatch");
    const id = header(headers, "x-shopify-event-id") ?? header(headers, "x-shopify-webhook-id");
    if (!id) return reject("missing X-Shopify-Event-Id header");
    const type = header(headers, "x-shopify-topic") ?? "unknown";
    return { kind: "accept", id: `${type}:${id}`, type };
  };
}
