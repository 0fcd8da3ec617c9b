import { z } from "zod";
import type { Call, HttpResponse } from "../../http/types.js";
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
  /** The token request in flight: notifications that arrive together share it. */
  let pending: Promise<string> | undefined;

  async function fetchToken(call: Call): Promise<string> {
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

  /** The cached token, or a new one; `refused`, a token GoPay did not take, is never handed out again. */
  function accessToken(call: Call, refused?: string): Promise<string> {
    if (cached && cached.until > clock.now() && cached.token !== refused) return Promise.resolve(cached.token);
    pending ??= fetchToken(call).finally(() => {
      pending = undefined;
    });
    return pending;
  }

  /** Lookups under way by payment id: GoPay's repeats, or a stranger's copies, share one request. */
  const asking = new Map<string, Promise<Verdict>>();

  return async ({ url }: Delivery): Promise<Verdict> => {
    const id = new URL(url ?? "/", "http://listener").searchParams.get("id") ?? "";
    if (!/^[1-9]\d{0,15}$/.test(id)) return reject("missing or malformed id");
    let verdict = asking.get(id);
    if (!verdict) {
      verdict = lookUp(id).finally(() => asking.delete(id));
      asking.set(id, verdict);
    }
    return verdict;
  };

  async function lookUp(id: string): Promise<Verdict> {
    const call = { signal: AbortSignal.timeout(CONFIRM_MS), deadline: clock.now() + CONFIRM_MS };
    let answer: HttpResponse;
    try {
      const ask = (bearer: string) =>
        api.send(
          `/payments/payment/${id}`,
          { headers: { authorization: `Bearer ${bearer}`, accept: "application/json" } },
          call,
        );
      const first = await accessToken(call);
      answer = await ask(first);
      // A token GoPay no longer takes (revoked, or its clock ahead of ours): once more, with another.
      if (answer.status === 401) answer = await ask(await accessToken(call, first));
    } catch (err) {
      // The token endpoint's refusals too: waiter's credentials or scope are for the operator to
      // fix, and GoPay calls again meanwhile.
      return { kind: "unavailable", reason: `GoPay's API could not be asked: ${(err as Error).message}` };
    }
    if (answer.status === 404) return reject("payment unknown to GoPay");
    let found: z.infer<typeof payment>;
    try {
      found = api.read(payment, answer);
    } catch (err) {
      return { kind: "unavailable", reason: `GoPay's API did not answer the payment: ${(err as Error).message}` };
    }
    if (String(found.id) !== id) return reject("GoPay's API answered for another payment");
    return {
      kind: "accept",
      id: `${id}:${found.state}`,
      type: `payment.${found.state.toLowerCase()}`,
      payload: kept(found),
    };
  }
}
