import type { IncomingMessage } from "node:http";
import { typePrefix } from "../events/filter.js";
import { meantKey, quote } from "../shown.js";
import type { WebhookSource } from "./settings.js";
import { header } from "./verifiers/common.js";

/*
 * What waiter knows of particular senders, apart from the listener: webhooks_sources reads it
 * without loading the listener's HTTP stack, and the start tells a PostgreSQL store which senders
 * never send a delivery again (`neverResentBy`), whose stop names the deliveries it left unstored.
 */

/**
 * Senders whose deliveries are small forms that their verifier must parse before anything can be
 * checked: a body past this is refused before it is read whole, as a stranger's megabyte of form
 * fields would cost the event loop hundreds of milliseconds to parse. Comgate's notification is
 * some thirty short fields (ids, an amount, an email, a name and an address), about a kilobyte.
 */
export const SMALL_DELIVERIES: Partial<Record<WebhookSource["scheme"], { maxBytes: number; what: string }>> = {
  comgate: { maxBytes: 8 * 1024, what: "a Comgate notification" },
};

/**
 * What to do about a delivery not stored, for the senders that never send one again, and the
 * header that carries the delivery ID their own log finds it by.
 */
export const NOT_SENT_AGAIN: Partial<
  Record<WebhookSource["scheme"], { sender: string; what: string; idHeader: string }>
> = {
  github: {
    sender: "GitHub",
    what: "GitHub does not send it again: redeliver it from the webhook's Recent Deliveries",
    idHeader: "x-github-delivery",
  },
  woocommerce: {
    sender: "WooCommerce",
    // Its log keeps a delivery's headers and answer, and its body only where WP_DEBUG is on.
    what: "WooCommerce does not send it again and logs its body only with WP_DEBUG on: the shop shows the order, product, customer or coupon as it is now, and WooCommerce → Status → Logs the delivery's topic and time",
    idHeader: "x-wc-webhook-delivery-id",
  },
};

/**
 * WooCommerce's core webhook topics, as wc_is_webhook_valid_topic takes them: a resource and an
 * event. Plugins add resources and events, and `action.<hook>` topics name any action.
 */
export const WOOCOMMERCE_TOPICS = ["coupon", "customer", "order", "product"].flatMap((resource) =>
  ["created", "updated", "deleted", "restored"].map((event) => `${resource}.${event}`),
);

/**
 * The core WooCommerce topic, or prefix of some, that a type or prefix (`order.create`,
 * `Order.Updated`, `ordr.*`) that matches none was likely meant to be; undefined for one that
 * matches a core topic, or is near none, as a plugin's own.
 */
export function wooTopicMeant(written: string): string | undefined {
  const prefix = typePrefix(written);
  if (
    prefix === undefined ? WOOCOMMERCE_TOPICS.includes(written) : WOOCOMMERCE_TOPICS.some((t) => t.startsWith(prefix))
  )
    return undefined;
  const resources = [...new Set(WOOCOMMERCE_TOPICS.map((topic) => topic.replace(/\..*/, ".")))];
  const near = meantKey(
    prefix ?? written,
    prefix === undefined ? WOOCOMMERCE_TOPICS : [...resources, ...WOOCOMMERCE_TOPICS],
  );
  return near && `${near}${written.endsWith("*") ? "*" : ""}`;
}

/** What a type `wooTopicMeant` finds a core topic near is told, `source` naming the WooCommerce source. */
export function wooTopicMisspelt(written: string, source: string, meant: string): string {
  return `${JSON.stringify(written)} is no core topic of WooCommerce's, which ${source} sends; did you mean ${JSON.stringify(meant)}? A plugin's own topic is taken as written.`;
}

/** The name of the sender of a scheme's deliveries that never sends one again (GitHub), for the store's last words. */
export function neverResentBy(scheme: string): string | undefined {
  return NOT_SENT_AGAIN[scheme as WebhookSource["scheme"]]?.sender;
}

/**
 * What to do about a delivery not stored, for a sender that never sends one again, with its
 * delivery ID as the request gave it, unverified: the sender's log finds it by that. Such senders
 * POST every delivery: a request of another method is theirs only where something on the way
 * changed it, and then it carries their delivery ID; without it (a browser's GET, a monitor's
 * HEAD) it is none of theirs, and nothing is lost.
 */
export function notSentAgain(
  req: Pick<IncomingMessage, "method" | "headers">,
  source: WebhookSource | undefined,
): string | undefined {
  const notAgain = source && NOT_SENT_AGAIN[source.scheme];
  if (!notAgain) return undefined;
  const id = header(req.headers, notAgain.idHeader);
  if (req.method !== "POST" && id === undefined) return undefined;
  return `${notAgain.what}${id !== undefined ? ` (delivery ID ${quote(id)})` : ""}`;
}
