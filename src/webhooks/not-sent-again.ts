import type { WebhookSource } from "./settings.js";

/**
 * What to do about a delivery not stored, for the senders that never send one again, and the
 * header that carries the delivery ID their own log finds it by. Kept apart from the listener, as
 * the store says which of the deliveries a stop left unstored their senders will not send again.
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
