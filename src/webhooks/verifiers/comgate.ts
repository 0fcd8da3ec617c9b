import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { UpstreamError } from "../../errors.js";
import type { Upstream } from "../../http/upstream.js";
import { clock } from "../../time.js";
import { type Delivery, reject, type Verdict } from "./common.js";

/** How long the confirmation may take: Comgate waits for the answer to its notification. */
const CONFIRM_MS = 10_000;

/** The payment as Comgate's REST API (v2.0) describes it; `code` 0 is an answer, others an error. */
const payment = z.looseObject({
  code: z.coerce.number(),
  message: z.string().optional(),
  transId: z.string().optional(),
  status: z.string().optional(),
});

/** Equal, in time that does not depend on where they differ. */
function same(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The fields of a payment worth keeping: never the secret, nor the API's own code and message. */
function kept(fields: Record<string, unknown>): Buffer {
  const { secret: _secret, code: _code, message: _message, ...rest } = fields;
  return Buffer.from(JSON.stringify(rest));
}

/**
 * Comgate's push notification: a form (`application/x-www-form-urlencoded`) with `merchant`,
 * `secret`, `transId`, `status` and the payment's details. It is signed by nothing but the
 * secret it carries, so `merchant` and `secret` must match the configured ones, and then, unless
 * `confirm` is off, Comgate's API is asked for the payment (`GET /v2.0/payment/transId/{id}.json`,
 * Basic authentication with the merchant id and the secret): what is stored is what the API says,
 * and a notification whose status it contradicts is refused. An API that cannot be asked makes a
 * 503, and Comgate sends the notification again later.
 */
export function comgate(merchant: string, secret: string, api: Upstream | undefined) {
  return async ({ body }: Delivery): Promise<Verdict> => {
    const form = new URLSearchParams(body.toString("utf8"));
    const claimed = Object.fromEntries(form);
    if (!claimed.merchant || claimed.merchant !== merchant) return reject("merchant mismatch");
    if (!claimed.secret || !same(claimed.secret, secret)) return reject("secret mismatch");
    const { transId, status } = claimed;
    if (!transId || !status) return reject("missing transId or status");
    if (!api) {
      return {
        kind: "accept",
        id: `${transId}:${status}`,
        type: `payment.${status.toLowerCase()}`,
        payload: kept(claimed),
      };
    }
    let confirmed: z.infer<typeof payment>;
    try {
      const call = { signal: AbortSignal.timeout(CONFIRM_MS), deadline: clock.now() + CONFIRM_MS };
      confirmed = await api.json(
        payment,
        `/v2.0/payment/transId/${encodeURIComponent(transId)}.json`,
        { ttl: 0 },
        call,
      );
    } catch (err) {
      // Comgate's answer about this payment (unknown, refused) is the notification's fault; no
      // answer at all is a moment's trouble, and Comgate retries.
      if (
        err instanceof UpstreamError &&
        err.status !== undefined &&
        err.status >= 400 &&
        err.status < 500 &&
        err.status !== 401 &&
        err.status !== 429
      ) {
        return reject("transaction unknown to Comgate");
      }
      return { kind: "unavailable", reason: `Comgate's API could not confirm the payment: ${(err as Error).message}` };
    }
    if (confirmed.code !== 0) {
      return confirmed.code === 1400
        ? reject("transaction unknown to Comgate")
        : { kind: "unavailable", reason: `Comgate's API answered code ${confirmed.code}` };
    }
    if (confirmed.transId !== transId || !confirmed.status) return reject("Comgate's API answered for another payment");
    if (confirmed.status !== status) return reject(`status ${status} contradicted by Comgate's API`);
    return {
      kind: "accept",
      id: `${transId}:${confirmed.status}`,
      type: `payment.${confirmed.status.toLowerCase()}`,
      payload: kept(confirmed),
    };
  };
}
