import { bodyDigest, type Delivery, header, hmac, jsonBody, reject, sameSignature, type Verdict } from "./common.js";

/**
 * WooCommerce: `X-WC-Webhook-Signature`, base64 HMAC-SHA256 of the body. It sends no stable
 * delivery id, so a delivery is the webhook, the resource and the resource's date_modified, and
 * the body's digest: two updates within date_modified's one second are still two events.
 * The unsigned ping it posts when a webhook is created (`webhook_id=N`) must get 200.
 */
export function woocommerce(secret: string) {
  return ({ headers, body }: Delivery): Verdict => {
    const signature = header(headers, "x-wc-webhook-signature");
    if (!signature) {
      return /^webhook_id=\d+$/.test(body.toString("utf8").trim())
        ? { kind: "ping" }
        : reject("missing X-WC-Webhook-Signature header");
    }
    if (!sameSignature(signature, hmac(secret, body), "base64")) return reject("signature mismatch");
    const resource = jsonBody(body);
    const webhook = header(headers, "x-wc-webhook-id");
    const modified = resource?.date_modified_gmt ?? resource?.date_modified;
    const id =
      webhook && resource?.id !== undefined && typeof modified === "string"
        ? `${webhook}:${resource.id}:${modified}:${bodyDigest(body).slice(-16)}`
        : bodyDigest(body);
    return { kind: "accept", id, type: header(headers, "x-wc-webhook-topic") ?? "unknown" };
  };
}
