import {
  type Delivery,
  header,
  jsonBody,
  missingHeader,
  reject,
  signedWithAny,
  timestampProblem,
  type Verdict,
} from "./common.js";

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`, HMAC-SHA256 over `t.body` keyed
 * with the whole `whsec_…` string. The event's own `id` is the delivery id; retries repeat it.
 * The ping an event destination is sent from Workbench or the ping API (a thin
 * `v2.core.event_destination.ping`, signed as events are) is no event.
 */
export function stripe(secrets: readonly string[]) {
  return ({ headers, body, now }: Delivery): Verdict => {
    const signature = header(headers, "stripe-signature");
    if (!signature) return missingHeader("Stripe-Signature");
    const pairs = signature.split(",").map((part) => part.split("=", 2) as [string, string | undefined]);
    const timestamp = pairs.find(([k]) => k.trim() === "t")?.[1];
    const candidates = pairs.filter(([k, v]) => k.trim() === "v1" && v).map(([, v]) => v as string);
    if (!timestamp || candidates.length === 0) return reject("malformed Stripe-Signature header");
    const stale = timestampProblem(timestamp, now, false);
    if (stale) return reject(stale);
    if (!signedWithAny(candidates, secrets, "hex", `${timestamp}.`, body)) return reject("signature mismatch");
    const event = jsonBody(body);
    if (typeof event?.id !== "string") return reject("body is not a Stripe event (no id)");
    if (event.type === "v2.core.event_destination.ping")
      return { kind: "ping", sender: "Stripe", signed: true, id: event.id };
    return { kind: "accept", id: event.id, type: typeof event.type === "string" ? event.type : "unknown" };
  };
}
