import { createHmac } from "node:crypto";

/**
 * A sender of the generic hmac-sha256 scheme, as a company's own system (an ERP) posts: a hex
 * HMAC of the body after "sha256=" in X-Signature, its delivery id and event type in headers.
 */
export const ERP_SECRET = "erp-signing-secret";

/** The source as configured, its secret in ERP_SECRET. */
export const ERP_SOURCE = {
  scheme: "hmac-sha256",
  secretEnv: "ERP_SECRET",
  header: "X-Signature",
  encoding: "hex",
  prefix: "sha256=",
  idHeader: "X-Delivery-Id",
  typeHeader: "X-Event-Type",
};

/** waiter's environment for that source alone: the source as `erp`, and its secret. */
export const ERP_ENV = { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }), ERP_SECRET };

/** The headers such a sender posts `body` with. */
export function erpHeaders(body: string, delivery: string, type = "invoice.created"): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-signature": `sha256=${createHmac("sha256", ERP_SECRET).update(body).digest("hex")}`,
    "x-delivery-id": delivery,
    "x-event-type": type,
  };
}
