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
      return /^webhook_id=\d+$/.test(body.toString("utf8").trim())
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

/**
 * WordPress's sanitize_text_field on one line of text: what reads as a tag goes (PHP's
 * strip_tags), a lone `<` is escaped, runs of blanks become one space, the ends are trimmed and
 * each `%` with two hex digits goes.
 */
function wpSanitizeTextField(text: string): string {
  let filtered = text;
  if (filtered.includes("<")) {
    // wp_pre_kses_less_than: a `<` with no `>` before the next `<` is no tag, but escaped (as
    // esc_html does, which the decoding at signing undoes).
    filtered = filtered.replace(/<[^>]*?((?=<)|>|$)/g, (segment) =>
      segment.includes(">") ? segment : segment.replace(/&/g, "&amp;").replace(/</g, "&lt;"),
    );
    filtered = filtered.replace(/<(script|style)[^>]*?>.*?<\/\1>/gis, "");
    filtered = phpTrim(phpStripTags(filtered));
  }
  filtered = phpTrim(filtered.replace(/[\r\n\t ]+/g, " "));
  let found = false;
  for (let octet = /%[a-f0-9]{2}/i.exec(filtered); octet; octet = /%[a-f0-9]{2}/i.exec(filtered)) {
    filtered = filtered.split(octet[0]).join("");
    found = true;
  }
  return found ? phpTrim(filtered.replace(/ +/g, " ")) : filtered;
}

/** PHP's trim, but for NUL, which no secret from the environment holds. */
function phpTrim(text: string): string {
  return text.replace(/^[ \t\n\r\v]+|[ \t\n\r\v]+$/g, "");
}

/**
 * PHP's strip_tags($text) with no tag allowed: its state machine, in PHP 8's php_strip_tags_ex, but
 * for NUL, which it drops and no secret from the environment holds.
 */
function phpStripTags(text: string): string {
  const isSpace = (c: string | undefined) => c !== undefined && /^[ \t\n\v\f\r]$/.test(c);
  let out = "";
  let state = 0;
  let depth = 0;
  let inQuote = "";
  let last = "";
  let brackets = 0;
  let xml = false;
  const at = (i: number) => text[i] ?? "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (state === 0) {
      if (c === "<") {
        if (inQuote) continue;
        if (isSpace(text[i + 1])) out += c;
        else {
          last = "<";
          state = 1;
        }
      } else if (c === ">") {
        if (depth) depth--;
        else if (!inQuote) out += c;
      } else out += c;
    } else if (state === 1) {
      if (c === "<") {
        if (!inQuote && !isSpace(text[i + 1])) depth++;
      } else if (c === ">") {
        if (depth) depth--;
        else if (!inQuote) {
          last = ">";
          if (xml && at(i - 1) === "-") continue;
          inQuote = "";
          state = 0;
          xml = false;
        }
      } else if (c === '"' || c === "'") {
        if (i !== 0 && (!inQuote || c === inQuote)) inQuote = inQuote ? "" : c;
      } else if (c === "!" && at(i - 1) === "<") {
        state = 3;
        last = c;
      } else if (c === "?" && at(i - 1) === "<") {
        brackets = 0;
        state = 2;
      }
    } else if (state === 2) {
      if (c === "(" || c === ")") {
        if (last !== '"' && last !== "'") {
          last = c;
          brackets += c === "(" ? 1 : -1;
        }
      } else if (c === ">") {
        if (depth) depth--;
        else if (!inQuote && !brackets && last !== '"' && at(i - 1) === "?") {
          inQuote = "";
          state = 0;
        }
      } else if (c === '"' || c === "'") {
        if (i >= 1 && at(i - 1) !== "\\") {
          if (last === c) last = "";
          else if (last !== "\\") last = c;
          if (!inQuote || c === inQuote) inQuote = inQuote ? "" : c;
        }
      } else if ((c === "l" || c === "L") && i > 4 && /^<\?xm$/i.test(text.slice(i - 4, i))) {
        state = 1;
        xml = true;
      }
    } else if (state === 3) {
      if (c === ">") {
        if (depth) depth--;
        else if (!inQuote) {
          inQuote = "";
          state = 0;
        }
      } else if (c === '"' || c === "'") {
        if (i !== 0 && at(i - 1) !== "\\" && (!inQuote || c === inQuote)) inQuote = inQuote ? "" : c;
      } else if (c === "-" && text.slice(i - 2, i) === "!-") {
        state = 4;
      } else if ((c === "e" || c === "E") && i > 6 && /^doctyp$/i.test(text.slice(i - 6, i))) {
        state = 1;
      }
    } else if (c === ">" && !inQuote && text.slice(i - 2, i) === "--") {
      state = 0;
    }
  }
  return out;
}
