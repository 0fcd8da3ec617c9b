import { clock } from "../../src/time.js";
import { type Fake, json, startFake } from "./http.js";

/**
 * GoPay's REST API as far as waiter asks it, after its documentation: `POST /api/oauth2/token`
 * (HTTP Basic with the client id and secret, a form with grant_type=client_credentials and
 * scope) answers a bearer token good for 30 minutes; `GET /api/payments/payment/{id}` with it
 * answers the payment, 404 for an id it does not know, 403 for a token that is unknown or has
 * run out (GoPay's documented code for "Not-authorized access", its error code 200; GoPay lists
 * no 401; error bodies RECONSTRUCTED in GoPay's {"errors":[...]} shape); `GET
 * /api/payments/payment/{id}/refunds` with it answers the payment's refunds as a JSON array (the
 * fields of GoPay's SDKs' refund: id, amount, currency, state, date_requested, date_last_change;
 * the dates' form RECONSTRUCTED).
 */

export interface GoPayPayment {
  id: number;
  order_number: string;
  state: "CREATED" | "PAID" | "CANCELED" | "TIMEOUTED" | "REFUNDED" | "AUTHORIZED" | "PARTIALLY_REFUNDED";
  amount: number;
  currency: string;
  payer: { contact: { email: string; first_name?: string; last_name?: string }; payment_card?: Record<string, string> };
  gw_url: string;
}

export interface GoPayRefund {
  id: number;
  amount: number;
  currency: string;
  state: "REQUESTED" | "SUCCESS" | "FAILED";
  date_requested: string;
  date_last_change?: string;
}

export interface GoPayFake extends Fake {
  payments: Map<number, GoPayPayment>;
  /** Each payment's refunds, oldest first; a payment with none is answered an empty list. */
  refunds: Map<number, GoPayRefund[]>;
  /** Tokens issued, with when each runs out; a test may revoke one. */
  tokens: Map<string, number>;
}

const TOKEN_SECONDS = 1800;
const error = (status: number, message: string, code = status) =>
  json(
    status,
    JSON.stringify({
      date_issued: new Date(clock.now()).toISOString(),
      errors: [{ scope: "G", error_code: code, message }],
    }),
  );

export async function startGoPay(clientId: string, secret: string): Promise<GoPayFake> {
  const payments = new Map<number, GoPayPayment>();
  const tokens = new Map<string, number>();
  const refunds = new Map<number, GoPayRefund[]>();
  const basic = `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`;
  let issued = 0;
  const fake = await startFake((request) => {
    if (request.method === "POST" && request.path === "/api/oauth2/token") {
      const form = new URLSearchParams(request.body);
      if (request.headers.authorization !== basic) return error(403, "Invalid client credentials");
      if (form.get("grant_type") !== "client_credentials" || !form.get("scope")) return error(400, "Invalid request");
      // As long as GoPay's: a quoted one is taken out of what waiter shows.
      const token = `AAArt6RuCY8pG2w5KjSp4Vh${++issued}`;
      tokens.set(token, clock.now() + TOKEN_SECONDS * 1000);
      return json(200, JSON.stringify({ token_type: "bearer", access_token: token, expires_in: TOKEN_SECONDS }));
    }
    const match = /^\/api\/payments\/payment\/(\d+)(\/refunds)?$/.exec(request.path);
    if (request.method === "GET" && match) {
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "";
      if ((tokens.get(bearer) ?? 0) <= clock.now()) return error(403, "Not authorized access", 200);
      const id = Number(match[1]);
      const found = payments.get(id);
      if (!found) return error(404, "Payment not found");
      return json(200, JSON.stringify(match[2] ? (refunds.get(id) ?? []) : found));
    }
    return error(404, "Not found");
  });
  return Object.assign(fake, { payments, refunds, tokens });
}
