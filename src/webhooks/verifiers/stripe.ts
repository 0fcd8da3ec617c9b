import {
  type Delivery,
  finerUnitIn,
  header,
  jsonBody,
  MALFORMED_TIMESTAMP,
  missingHeader,
  reject,
  signedWithAny,
  timestampProblem,
  timestampRefusal,
  type Verdict,
} from "./common.js";

/** The most timestamps read: Stripe's and those of the copies added on the way. */
const MAX_SIGNED = 4;

/**
 * The timestamps of a Stripe-Signature, each with every v1 signature in it. Node joins a header sent
 * more than once with ", ": a relay that signs a delivery again may write its copy before Stripe's
 * or after it, and Stripe's SDK reads a copy's parts in any order, so which copy a part is of cannot
 * be told. A v1 verifies only with the t it signs: each t is checked against them all.
 */
function signedParts(signature: string): { timestamp: string; candidates: string[] }[] {
  const timestamps: string[] = [];
  const candidates: string[] = [];
  for (const part of signature.split(",")) {
    const [key = "", value] = part.split("=", 2);
    if (key.trim() === "t" && value) timestamps.push(value);
    else if (key.trim() === "v1" && value) candidates.push(value);
  }
  return candidates.length > 0 ? timestamps.map((timestamp) => ({ timestamp, candidates })) : [];
}

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
    const copies = signedParts(signature);
    if (copies.length === 0 || copies.length > MAX_SIGNED) return reject("malformed Stripe-Signature header");
    const signed = copies.filter(({ timestamp, candidates }) =>
      signedWithAny(candidates, secrets, "hex", `${timestamp}.`, body),
    );
    const fresh = signed.find(({ timestamp }) => !timestampProblem(timestamp, now, false));
    if (!fresh) {
      const [first] = signed;
      if (first) return timestampRefusal(first.timestamp, now, false) as Verdict;
      // None signed: the signature is what failed, as Stripe's SDK checks it before the age, and a
      // relay's copy beside Stripe's has a t of its own; without a t in seconds, none is Stripe's.
      const unread = copies.map(({ timestamp }) => timestampProblem(timestamp, now));
      const noSeconds = unread.every(
        (problem) => problem === MALFORMED_TIMESTAMP || (problem !== undefined && finerUnitIn(problem) !== undefined),
      );
      return reject(noSeconds ? (unread[0] as string) : "signature mismatch");
    }
    const event = jsonBody(body);
    if (typeof event?.id !== "string") return reject("body is not a Stripe event (no id)");
    if (event.type === "v2.core.event_destination.ping")
      return { kind: "ping", sender: "Stripe", signed: true, id: event.id };
    return { kind: "accept", id: event.id, type: typeof event.type === "string" ? event.type : "unknown" };
  };
}
