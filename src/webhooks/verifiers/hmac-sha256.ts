import type { IncomingHttpHeaders } from "node:http";
import {
  bodyDigest,
  type Delivery,
  formType,
  headerOnce,
  isDigest,
  jsonBody,
  malformedHeader,
  missingHeader,
  payloadType,
  reject,
  signedWithAny,
  unsignedHeader,
  type Verdict,
} from "./common.js";

export interface HmacOptions {
  header: string;
  encoding: "hex" | "base64";
  prefix: string;
  idHeader?: string | undefined;
  typeHeader?: string | undefined;
}

/** Any sender that puts an HMAC-SHA256 of the body in a header; id and type from headers. */
export function hmacSha256(secrets: readonly string[], options: HmacOptions) {
  return ({ headers, body }: Delivery): Verdict => {
    const signature = headerOnce(headers, options.header);
    if (typeof signature === "object") return signature;
    if (!signature) return missingHeader(options.header);
    const received = signature.startsWith(options.prefix) ? signature.slice(options.prefix.length) : "";
    // A sender that writes a prefix the source does not name (sha256=), or another encoding, has
    // its setup to mend, not its secret.
    if (!isDigest(received, options.encoding)) return reject(malformedHeader(options.header));
    if (!signedWithAny([received], secrets, options.encoding, body)) return reject("signature mismatch");
    return testDelivery(headers) ?? identify({ headers, body }, options, true);
  };
}

/**
 * A sender's test delivery, signed as its deliveries are, where a source of this scheme takes that
 * sender's (GitHub's sha256= hex, Shopify's base64): GitHub's ping and Shopify's test notification,
 * whose sample order would pass for an order of the shop. No event, as at their own scheme's source.
 */
function testDelivery(headers: IncomingHttpHeaders): Verdict | undefined {
  const differing: string[] = [];
  const ping = (sender: string, id: string | undefined): Verdict => ({
    kind: "ping",
    sender,
    signed: true,
    ...(id ? { id } : {}),
    ...(differing.length > 0 ? { differing } : {}),
  });
  if (unsignedHeader(headers, differing, "X-GitHub-Event") === "ping") {
    return ping("GitHub", unsignedHeader(headers, differing, "X-GitHub-Delivery"));
  }
  if (unsignedHeader(headers, differing, "Shopify-Test", "X-Shopify-Test")?.toLowerCase() === "true") {
    return ping("Shopify", unsignedHeader(headers, differing, "Shopify-Webhook-Id", "X-Shopify-Webhook-Id"));
  }
  return undefined;
}

/**
 * A delivery taken, its id and type from configured headers, else a Slack event's id (slackEventId)
 * or the body's digest, and its own type, a JSON's or a form's. The signature covers no header: on a `verified` delivery each is read as `unsignedHeader`
 * reads it; on an unsigned one, as `headerOnce` does, its copies differing refused.
 */
export function identify(
  { headers, body }: Pick<Delivery, "headers" | "body">,
  options: Pick<HmacOptions, "idHeader" | "typeHeader">,
  verified: boolean,
): Verdict {
  const differing: string[] = [];
  const read = (name: string | undefined) =>
    name === undefined ? undefined : verified ? unsignedHeader(headers, differing, name) : headerOnce(headers, name);
  const id = read(options.idHeader);
  if (typeof id === "object") return id;
  const type = read(options.typeHeader);
  if (typeof type === "object") return type;
  // An older waiter keyed a Slack event on its body's digest, its `formerId`.
  const slack = id ? undefined : slackEventId(body);
  return {
    kind: "accept",
    id: id || slack || bodyDigest(body),
    type: type || payloadType(body) || formType(headers, body) || "unknown",
    ...(slack ? { formerId: bodyDigest(body) } : {}),
    ...(id && options.idHeader ? { idHeader: options.idHeader } : {}),
    ...(differing.length > 0 ? { differing } : {}),
  };
}

/**
 * The `event_id` of a Slack Events API delivery (an `event_callback`), which Slack sends again with
 * a retry (X-Slack-Retry-Num) as the same event, where it promises no same bytes; after its app's
 * `api_app_id`, as apps that share a Request URL are each posted one event under one event_id (a
 * message that mentions both).
 */
function slackEventId(body: Buffer): string | undefined {
  const json = jsonBody(body);
  if (json?.type !== "event_callback" || typeof json.event_id !== "string" || !json.event_id) return undefined;
  return typeof json.api_app_id === "string" && json.api_app_id ? `${json.api_app_id}:${json.event_id}` : json.event_id;
}
