import { z } from "zod";
import { UpstreamError } from "../../errors.js";
import type { Call } from "../../http/types.js";
import type { Upstream } from "../../http/upstream.js";
import { clock } from "../../time.js";
import { type Delivery, reject, type Verdict } from "./common.js";

/** How long asking GoPay may take: it waits for the answer to its notification. */
const CONFIRM_MS = 10_000;

const token = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });
const payment = z.looseObject({
  id: z.union([z.number(), z.string()]),
  state: z.string().min(1),
  payer: z.looseObject({}).optional(),
});

/** The payment as kept: without the payer's card details or the payment page's link. */
function kept(found: z.infer<typeof payment>): Buffer {
  const { gw_url: _link, ...rest } = found;
  if (rest.payer) {
    const { payment_card: _card, ...payer } = rest.payer;
    return Buffer.from(JSON.stringify({ ...rest, payer }));
  }
  return Buffer.from(JSON.stringify(rest));
}

/**
 * GoPay calls the notification URL with a GET that carries only `?id=<payment id>`, and says
 * nothing else: waiter asks GoPay's API for the payment (`GET /payments/payment/{id}`, with an
 * access token from `POST /oauth2/token`, client credentials, scope payment-all, kept until it
 * runs out) and stores what it answers. A payment GoPay does not know is refused; an API that
 * cannot be asked makes a 503, and GoPay calls again.
 */
export function gopay(clientId: string, secret: string, api: Upstream) {
  const basic = `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`;
  let cached: { token: string; until: number } | undefined;

  async function accessToken(call: Call, renew: boolean): Promise<string> {
    if (!renew && cached && cached.until > clock.now()) return cached.token;
    const answer = await api.json(
      token,
      "/oauth2/token",
      {
        method: "POST",
        headers: {
          authorization: basic,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: new URLSearchParams({ grant_type: "client_credentials", scope: "payment-all" }).toString(),
      },
      call,
    );
    // A minute early: a token that runs out on its way is refused.
    cached = { token: answer.access_token, until: clock.now() + Math.max(0, answer.expires_in - 60) * 1000 };
    return cached.token;
  }

  return async ({ query }: Delivery): Promise<Verdict> => {
    const id = query?.get("id") ?? "";
    if (!/^\d{1,20}$/.test(id)) return reject("missing or malformed id");
    const call = { signal: AbortSignal.timeout(CONFIRM_MS), deadline: clock.now() + CONFIRM_MS };
    try {
      const ask = async (renew: boolean) =>
        api.send(
          `/payments/payment/${id}`,
          { headers: { authorization: `Bearer ${await accessToken(call, renew)}`, accept: "application/json" } },
          call,
        );
      let answer = await ask(false);
      // A token GoPay no longer takes (revoked, or its clock ahead of ours): one more, fresh.
      if (answer.status === 401) answer = await ask(true);
      if (answer.status === 404) return reject("payment unknown to GoPay");
      const found = api.read(payment, answer);
      if (String(found.id) !== id) return reject("GoPay's API answered for another payment");
      return {
        kind: "accept",
        id: `${id}:${found.state}`,
        type: `payment.${found.state.toLowerCase()}`,
        payload: kept(found),
      };
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 400) return reject("payment unknown to GoPay");
      return { kind: "unavailable", reason: `GoPay's API could not be asked: ${(err as Error).message}` };
    }
  };
}
