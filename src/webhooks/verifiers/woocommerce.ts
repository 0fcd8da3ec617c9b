import { wpSanitizeTextField } from "../../wordpress.js";
import { MIN_HMAC_SECRET } from "../settings.js";
import {
  bodyDigest,
  type Delivery,
  headerOnce,
  jsonBody,
  missingHeader,
  reject,
  signedWithAny,
  unsignedHeader,
  type Verdict,
} from "./common.js";

/** Whether a body is the unsigned ping WooCommerce posts when a webhook is made active: `webhook_id=<its id>`. */
export function isWooCommercePing(body: Buffer): boolean {
  return /^webhook_id=\d+$/.test(body.toString("utf8").trim());
}

/**
 * WooCommerce: `X-WC-Webhook-Signature`, base64 HMAC-SHA256 of the body. It sends no stable
 * delivery id, so a delivery is the webhook, the resource and the resource's date_modified, and
 * the body's digest: two updates within date_modified's one second are still two events.
 * WooCommerce never sends a delivery again by itself, so telling events apart matters more than
 * catching repeats.
 * The unsigned ping it posts when a webhook is created (`webhook_id=N`) must get 200.
 * WooCommerce keys the HMAC with its stored secret after wp_specialchars_decode(secret,
 * ENT_QUOTES), so a secret copied as stored (`&amp;`) verifies as well as one copied decoded. A
 * secret is stored through sanitize_text_field when the webhook is saved, except one WooCommerce
 * generated, until the webhook is saved again: one copied as generated or as typed verifies after
 * that too.
 */
export function woocommerce(secrets: readonly string[]) {
  const keys = [
    ...new Set(
      secrets.flatMap((secret) =>
        [secret, savedSecret(secret)].flatMap((key) => (key ? [key, wpSpecialcharsDecode(key)] : [])),
      ),
    ),
  ];
  return ({ headers, body }: Delivery): Verdict => {
    const signature = headerOnce(headers, "X-WC-Webhook-Signature");
    if (typeof signature === "object") return signature;
    if (!signature) {
      return isWooCommercePing(body)
        ? { kind: "ping", sender: "WooCommerce" }
        : missingHeader("X-WC-Webhook-Signature");
    }
    if (!signedWithAny([signature], keys, "base64", body)) return reject("signature mismatch");
    const differing: string[] = [];
    const webhook = unsignedHeader(headers, differing, "X-WC-Webhook-Id");
    const topic = unsignedHeader(headers, differing, "X-WC-Webhook-Topic") ?? "unknown";
    const delivery = unsignedHeader(headers, differing, "X-WC-Webhook-Delivery-ID");
    const resource = jsonBody(body);
    const modified = resource?.date_modified_gmt ?? resource?.date_modified;
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
      ...(differing.length > 0 ? { differing } : {}),
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

/**
 * The secret as saving the webhook stores it, unless that leaves fewer characters than a secret
 * must have: a key that short (or empty) anyone could find.
 */
function savedSecret(secret: string): string | undefined {
  const saved = wpSanitizeTextField(secret);
  return saved.length >= MIN_HMAC_SECRET ? saved : undefined;
}
