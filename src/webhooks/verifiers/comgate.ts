import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { HttpResponse } from "../../http/types.js";
import type { Upstream } from "../../http/upstream.js";
import { quoteLine } from "../../shown.js";
import { clock } from "../../time.js";
import { type Delivery, notAnswered, reject, type Verdict } from "./common.js";

/** How long the confirmation may take: Comgate waits for the answer to its notification. */
const CONFIRM_MS = 10_000;

/** The payment as Comgate's REST API (v2.0) describes it; `code` 0 is an answer, others an error. */
const payment = z.looseObject({
  code: z.coerce.number(),
  message: z.string().optional(),
  transId: z.string().optional(),
  status: z.string().optional(),
});

/** Comgate's own code and message in an answer's JSON, if it has them. */
function saidIn(text: string): { code?: number; message?: string } {
  try {
    const { code, message } = JSON.parse(text) as { code?: unknown; message?: unknown };
    return {
      ...(code === undefined ? {} : { code: Number(code) }),
      ...(typeof message === "string" ? { message } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * How far along its way a payment with each status is: from PENDING, through AUTHORIZED while a
 * card payment is only authorized, to PAID or CANCELLED.
 */
const STAGES = new Map([
  ["PENDING", 0],
  ["AUTHORIZED", 1],
  ["PAID", 2],
  ["CANCELLED", 2],
]);

/** Whether Comgate's API shows the payment short of where its notification says it got: late to show it. */
function behind(shown: string, notified: string): boolean {
  const [at, told] = [STAGES.get(shown), STAGES.get(notified)];
  return at !== undefined && told !== undefined && at < told;
}

/**
 * The codes Comgate documents for a payment's status besides 0 and 1400 (its wrong query: an
 * unknown payment, or a call from an address it does not take), each a failure of its own
 * (https://apidoc.comgate.cz, the status method).
 */
const OWN_FAILURES = new Map([
  [1100, "an unknown error"],
  [1200, "a database error"],
  [1500, "an unexpected error"],
]);

/** Why a notification waits when Comgate's API answered `code`, not 0, with `message`, if any. */
function failed(code: number, message: string | undefined): string {
  const answered = `Comgate's API answered code ${code}${message ? ` ${quoteLine(message)}` : ""}`;
  const documented = OWN_FAILURES.get(code);
  return documented
    ? `${answered}, which Comgate documents as ${documented} of its own: no setting of waiter's mends it; Comgate sends the notification again, and if this goes on for hours, tell Comgate's support`
    : `${answered}, which Comgate does not document for a payment's status (0, 1100, 1200, 1400 and 1500); Comgate sends the notification again, and if this goes on, tell Comgate's support`;
}

/** Equal, in time that does not depend on where they differ. */
function same(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The fields of a payment worth keeping: never the secret, nor the API's own code and message,
 * nor the payer's card (its masked number and expiry), as GoPay's payments are kept.
 */
function kept(fields: Record<string, unknown>): Buffer {
  const { secret: _secret, code: _code, message: _message, cardNumber: _card, cardValid: _valid, ...rest } = fields;
  return Buffer.from(JSON.stringify(rest));
}

/** Where Comgate's client portal shows the e-shop's id, its secret, and the addresses its API takes calls from. */
export const STORE_CONNECTION = "Integration > Store settings > Store connection";

/** The refusal of a notification whose `merchant` is not the source's. */
export const MERCHANT_MISMATCH = "merchant mismatch";

/**
 * Comgate's push notification: a form (`application/x-www-form-urlencoded`) with `merchant`,
 * `secret`, `transId`, `status` and the payment's details. It is signed by nothing but the
 * secret it carries, so `merchant` and `secret` must match the configured ones, and then, unless
 * `confirm` is off, Comgate's API is asked for the payment (`GET /v2.0/payment/transId/{id}.json`,
 * Basic authentication with the merchant id and the secret): what is stored is what the API says,
 * whatever status the notification claimed. An API that cannot be asked, or that does not show
 * the notified status yet, makes a 503, and Comgate sends the notification again later.
 */
export function comgate(merchant: string, secret: string, api: Upstream | undefined) {
  return async ({ body }: Delivery): Promise<Verdict> => {
    const form = new URLSearchParams(body.toString("utf8"));
    const claimed = Object.fromEntries(form);
    if (!claimed.merchant || claimed.merchant !== merchant) return reject(MERCHANT_MISMATCH);
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
    let answer: HttpResponse;
    try {
      // Asked whole every time, past the cache: a payment's state is what is being checked.
      const call = { signal: AbortSignal.timeout(CONFIRM_MS), deadline: clock.now() + CONFIRM_MS };
      answer = await api.send(`/v2.0/payment/transId/${encodeURIComponent(transId)}.json`, {}, call);
    } catch (err) {
      return { kind: "unavailable", reason: `Comgate's API could not be asked: ${notAnswered(err, CONFIRM_MS)}` };
    }
    // Comgate's code 1400: it does not know the payment, or (its message says so) it takes no
    // calls from waiter's address. That and any other refusal (a wrong apiUrl) are waiter's to
    // fix: 503 until they are.
    const said = saidIn(answer.text);
    if (said.code === 1400 && said.message && /unauthori[sz]ed location/i.test(said.message)) {
      return {
        kind: "unavailable",
        reason: `Comgate's API does not take calls from this machine's address: it answered ${quoteLine(said.message)}; add the address in Comgate's client portal (${STORE_CONNECTION})`,
      };
    }
    if (said.code === 1400) return reject("transaction unknown to Comgate");
    let confirmed: z.infer<typeof payment>;
    try {
      confirmed = api.read(payment, answer);
    } catch (err) {
      return { kind: "unavailable", reason: `Comgate's API did not confirm the payment: ${(err as Error).message}` };
    }
    if (confirmed.code !== 0) return { kind: "unavailable", reason: failed(confirmed.code, confirmed.message) };
    if (confirmed.transId !== transId || !confirmed.status) return reject("Comgate's API answered for another payment");
    // A payment Comgate still shows short of what it notified (pending, or authorized where it was
    // paid) is only late to show it: later, as answered now it would be stored as it was, and the
    // status notified might never be. Any other status the API shows instead is the payment's now
    // (a notification sent again after the payment moved on): that is stored, and Comgate hears 200
    // and stops sending the old one.
    if (behind(confirmed.status, status)) {
      return {
        kind: "unavailable",
        reason: `Comgate's API does not show the notified status yet: it shows ${confirmed.status}, the notification ${status}`,
      };
    }
    return {
      kind: "accept",
      id: `${transId}:${confirmed.status}`,
      type: `payment.${confirmed.status.toLowerCase()}`,
      payload: kept(confirmed),
    };
  };
}
