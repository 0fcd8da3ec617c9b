import { meantKey } from "../shown.js";
import type { EventFilter, StoredEvent } from "./store.js";

/**
 * A type as shown to a model: one line of at most 100 plain characters. For some schemes it is
 * the payload's own word, which a stranger could fill with newlines and instructions.
 */
export function cleanType(type: string): string {
  const line = type
    .replace(/[^\x20-\x7e]+/g, " ")
    .trim()
    .slice(0, 100);
  return line || "unknown";
}

/** A type filter ending in ".", "/" or "*" is a prefix (without the "*"); else the exact type. */
export function typePrefix(type: string): string | undefined {
  return /[./*]$/.test(type) ? type.replace(/\*$/, "") : undefined;
}

/** What a type filter's matches begin with: its prefix, or the exact type; "" without one. */
export function typeStem(filter: EventFilter): string {
  return filter.type ? (typePrefix(filter.type) ?? filter.type) : "";
}

/** The filter applied to one event, as the SQL of `where` applies it to many. */
export function matchesFilter(filter: EventFilter, event: StoredEvent): boolean {
  if (filter.source && event.source !== filter.source) return false;
  if (filter.type) {
    const prefix = typePrefix(filter.type);
    if (prefix === undefined ? event.type !== filter.type : !event.type.startsWith(prefix)) return false;
  }
  return !(filter.unackedOnly && event.ackedAt !== null);
}

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
