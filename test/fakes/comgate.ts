import { type Fake, json, startFake } from "./http.js";

/**
 * Comgate's REST API (v2.0) as far as waiter asks it: `GET /v2.0/payment/transId/{transId}.json`
 * with HTTP Basic authentication (merchant id and secret), answering the payment as JSON with
 * `code` 0, or an error: 401 for wrong credentials, and (RECONSTRUCTED from the API's documented
 * codes) 400 `{"code":1400}` for a transaction it does not know. The answer carries the secret
 * back, as Comgate's status answer does, so a test sees that waiter does not keep it.
 */

export interface ComgatePayment {
  transId: string;
  status: "PENDING" | "PAID" | "CANCELLED" | "AUTHORIZED";
  price: string;
  curr: string;
  label: string;
  refId: string;
  email: string;
  method: string;
  test: "true" | "false";
  /** A card payment's, masked, as Comgate's status answer has them. */
  cardNumber?: string;
  cardValid?: string;
}

/** A card payment of order 1042, paid, as Comgate's push and status answer name it. */
export const PAID_PAYMENT: ComgatePayment = {
  transId: "AB12-CD34-EF56",
  status: "PAID",
  price: "199900",
  curr: "CZK",
  label: "Objednávka 1042",
  refId: "1042",
  email: "jana.novakova@example.cz",
  method: "CARD_CZ_CSOB_2",
  test: "false",
};

export interface ComgateFake extends Fake {
  payments: Map<string, ComgatePayment>;
}

export async function startComgate(merchant: string, secret: string): Promise<ComgateFake> {
  const payments = new Map<string, ComgatePayment>();
  const expected = `Basic ${Buffer.from(`${merchant}:${secret}`).toString("base64")}`;
  const fake = await startFake((request) => {
    const match = /^\/v2\.0\/payment\/transId\/([^/]+)\.json$/.exec(request.path);
    if (!match || request.method !== "GET") return json(404, '{"code":1400,"message":"Not found"}');
    if (request.headers.authorization !== expected) return json(401, '{"code":1401,"message":"Unauthorized"}');
    const found = payments.get(decodeURIComponent(match[1] as string));
    if (!found) return json(400, '{"code":1400,"message":"Payment not found"}');
    return json(200, JSON.stringify({ code: 0, message: "OK", merchant, ...found, secret }));
  });
  return Object.assign(fake, { payments });
}

/** The push notification Comgate posts for `payment`, as a form. */
export function notification(merchant: string, secret: string, payment: ComgatePayment): string {
  return new URLSearchParams({ merchant, secret, ...payment }).toString();
}
