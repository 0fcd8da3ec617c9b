import type { IncomingHttpHeaders } from "node:http";
import {
  type Delivery,
  headerOnce,
  jsonBody,
  missingHeader,
  reject,
  signedWithAny,
  unsignedHeader,
  type Verdict,
} from "./common.js";

const SENT_ONCE = ["Webhook-Id", "Test", "Topic", "Action", "Event-Id", "Handle"] as const;
type SentOnce = (typeof SENT_ONCE)[number];

/**
 * The Shopify headers a delivery's id and type are made of, each by its name: `Shopify-<name>`, as
 * Shopify's Events deliveries send it (beside the legacy one, for now), else the legacy
 * `X-Shopify-<name>`, the only one its webhooks send. Shopify's own libraries read the new name
 * first too: once the legacy headers are dropped, an Events delivery still verifies, and one sent
 * with either set is the same delivery. The signature covers none of them: each is read as
 * `unsignedHeader` reads it.
 */
function shopifyHeaders(headers: IncomingHttpHeaders, differing: string[]): Partial<Record<SentOnce, string>> {
  const sent: Partial<Record<SentOnce, string>> = {};
  for (const name of SENT_ONCE) {
    const value = unsignedHeader(headers, differing, `Shopify-${name}`, `X-Shopify-${name}`);
    if (value !== undefined) sent[name] = value;
  }
  return sent;
}

/**
 * Shopify: `Shopify-Hmac-Sha256` (or `X-Shopify-Hmac-Sha256`), base64 HMAC-SHA256 of the body. A
 * webhook's delivery is its topic, its event id and the resource it names: the event id is shared
 * by every delivery one merchant action brings (several topics, several resources: a bulk edit's
 * products), and a topic subscribed twice (in the admin and by an app) brings one delivery per
 * subscription, each with its own webhook id and maybe its own API version's body: Shopify's docs
 * say the same event id across deliveries is a duplicate. Where the body names no resource exactly
 * (no `admin_graphql_api_id`, no id a double holds), or no event id came, the delivery is its
 * webhook id, else its topic and event id. An older waiter keyed it on its webhook id alone, which
 * is its `formerId`. An Events delivery is its webhook id, as Shopify's Events docs say
 * (`Shopify-Webhook-Id`): its subscriptions of one topic are meant to differ (each its handle,
 * triggers and query). shopify-app-js reads no webhook id among an Events delivery's headers:
 * without one, the delivery is its type, event id and `Shopify-Handle`, its subscription's, where an older waiter keyed it on its
 * type and event id alone, its `formerId`. Its topic names the resource alone (`Product`), and its `Shopify-Action` what befell it: the type is both
 * (`Product/create`), as a webhook's topic is (`products/create`), so a type tells them apart.
 * A test notification (`X-Shopify-Test: true`, sent by the admin's Send test notification, with a
 * sample order and maybe no ids) is no event: taken for one, its sample would pass for an order of
 * the shop.
 */
export function shopify(secrets: readonly string[]) {
  return ({ headers, body }: Delivery): Verdict => {
    // The new name first, as for the headers below.
    const signature = headerOnce(headers, "Shopify-Hmac-Sha256", "X-Shopify-Hmac-Sha256");
    if (typeof signature === "object") return signature;
    if (!signature) return missingHeader("Shopify-Hmac-Sha256", "X-Shopify-Hmac-Sha256");
    if (!signedWithAny([signature], secrets, "base64", body)) return reject("signature mismatch");
    const differing: string[] = [];
    const sent = shopifyHeaders(headers, differing);
    const webhook = sent["Webhook-Id"];
    if (sent.Test?.toLowerCase() === "true")
      return {
        kind: "ping",
        sender: "Shopify",
        signed: true,
        ...(webhook ? { id: webhook } : {}),
        ...(differing.length > 0 ? { differing } : {}),
      };
    const topic = sent.Topic ?? "unknown";
    const action = sent.Action;
    const type = action ? `${topic}/${action}` : topic;
    const event = sent["Event-Id"];
    const resource = action ? undefined : resourceOf(body);
    const byEvent = event && `${type}:${event}`;
    // Without a webhook id, an Events delivery is its subscription's by its handle; an older waiter
    // keyed it on its type and event id alone, its `formerId`.
    const bySubscription = byEvent && sent.Handle ? `${byEvent}:${sent.Handle}` : byEvent;
    const byResource = event && resource ? `${byEvent}:${resource}` : undefined;
    const id = byResource ?? webhook ?? bySubscription;
    if (!id) return missingHeader("Shopify-Webhook-Id", "X-Shopify-Webhook-Id");
    const formerId = webhook ?? (byResource ? undefined : byEvent);
    return {
      kind: "accept",
      id,
      type,
      ...(webhook && webhook !== id ? { sendersId: { sender: "Shopify", id: webhook } } : {}),
      ...(formerId && formerId !== id ? { formerId } : {}),
      ...(differing.length > 0 ? { differing } : {}),
    };
  };
}

/** The resource a webhook's body is, exactly: its GraphQL id, else its id where a double holds it. */
function resourceOf(body: Buffer): string | undefined {
  const json = jsonBody(body);
  const gid = json?.admin_graphql_api_id;
  if (typeof gid === "string" && gid) return gid;
  const id = json?.id;
  return (typeof id === "string" && id) || Number.isSafeInteger(id) ? String(id) : undefined;
}
