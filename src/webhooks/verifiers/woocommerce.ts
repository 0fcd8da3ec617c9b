import {
  bodyDigest,
  type Delivery,
  header,
  jsonBody,
  missingHeader,
  reject,
  signedWithAny,
  type Verdict,
} from "./common.js";

/**
 * WooCommerce: `X-WC-Webhook-Signature`, base64 HMAC-SHA256 of the body. It sends no stable
 * delivery id, so a delivery is the webhook, the resource and the resource's date_modified, and
 * the body's digest: two updates within date_modified's one second are still two events.
 * WooCommerce never sends a delivery again by itself, so telling events apart matters more than
 * catching repeats.
 * The unsigned ping it posts when a webhook is created (`webhook_id=N`) must get 200.
 * WooCommerce keys the HMAC with its stored secret after wp_specialchars_decode(secret,
 * ENT_QUOTES), so a secret copied as stored (`&amp;`) verifies as well as one copied decoded. A
 * secret it generated with a space at an end is trimmed when the webhook is saved again
 * (sanitize_text_field): one copied before that verifies after it too.
 */
export function woocommerce(secrets: readonly string[]) {
  const keys = [
    ...new Set(
      secrets.flatMap((secret) =>
        [secret, secret.replace(/^ +| +$/g, "")].flatMap((key) => [key, wpSpecialcharsDecode(key)]),
      ),
    ),
  ];
  return ({ headers, body }: Delivery): Verdict => {
    const signature = header(headers, "x-wc-webhook-signature");
    if (!signature) {
      return /^webhook_id=\d+$/.test(body.toString("utf8").trim())
        ? { kind: "ping", sender: "WooCommerce" }
        : missingHeader("X-WC-Webhook-Signature");
    }
    if (!signedWithAny([signature], keys, "base64", body)) return reject("signature mismatch");
    const resource = jsonBody(body);
    const webhook = header(headers, "x-wc-webhook-id");
    const topic = header(headers, "x-wc-webhook-topic") ?? "unknown";
    const modified = resource?.date_modified_gmt ?? resource?.date_modified;
    const delivery = header(headers, "x-wc-webhook-delivery-id");
    const id =
      webhook && resource?.id !== undefined && typeof modified === "string"
        ? `${webhook}:${resource.id}:${modified}:${bodyDigest(body).slice(-16)}`
        : // A deletion carries only `{"id":N}`: the webhook, its topic and WooCommerce's delivery id (a hash of
          // the webhook and the second it was sent) tell apart what the body alone does not.
          `${webhook ?? ""}:${topic}:${delivery ?? ""}:${bodyDigest(body)}`;
    return {
      kind: "accept",
      id,
      type: topic,
      ...(delivery ? { sendersId: { sender: "WooCommerce", id: delivery } } : {}),
    };
  };
}

const NAMED: Record<string, string> = { quot: '"', lt: "<", gt: ">", amp: "&" };

/**
 * WordPress's wp_specialchars_decode($text, ENT_QUOTES): only the entities of & < > " ', named
 * ones in lower case, numeric ones with any leading zeros (WordPress has no hex form of < and >),
 * in one pass, so `&amp;lt;` becomes `&lt;`.
 */
export function wpSpecialcharsDecode(text: string): string {
  return text.replace(
    /&(?:(quot|lt|gt|amp)|#0*(39|34|60|62|38)|#[xX]0*(27|22|26));/g,
    (_entity, named?: string, decimal?: string, hex?: string) =>
      named
        ? (NAMED[named] as string)
        : String.fromCharCode(decimal ? Number(decimal) : Number.parseInt(hex ?? "", 16)),
  );
}
