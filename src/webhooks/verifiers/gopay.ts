import { LRUCache } from "lru-cache";
import { z } from "zod";
import { UpstreamError } from "../../errors.js";
import { upstreamMessage } from "../../http/failures.js";
import type { Call, ErrorMapper, HttpResponse } from "../../http/types.js";
import type { Upstream } from "../../http/upstream.js";
import { oneLine } from "../../shown.js";
import { clock, lessAgoThan } from "../../time.js";
import { takingTurns } from "../limits.js";
import { type Delivery, notAnswered, reject, type Verdict } from "./common.js";

/** How long asking GoPay may take, a wait for a turn included: it waits for the answer to its notification. */
const CONFIRM_MS = 10_000;

/**
 * Anyone who finds the notification URL can send made-up ids, and each distinct one is asked of
 * GoPay's API with the merchant's credentials. GoPay notifies once per change of a payment's
 * state, a few a minute for a small shop: 4 lookups at a time, each well under a second, with 16
 * more waiting, answer a burst of 20 notifications within seconds. Beyond that the answer is 503,
 * and GoPay calls again.
 */
const LOOKUPS_AT_ONCE = 4;
const LOOKUPS_WAITING = 16;
/**
 * Ids GoPay answered 404 for are refused without asking again for 5 minutes from that answer (a
 * repeat does not prolong it), the latest 4096 of them: a stranger repeating made-up ids costs no
 * lookup. Not longer: GoPay's ids grow in sequence, so an id asked for before GoPay issued it
 * holds up that payment's notification until it is forgotten, and GoPay calls again.
 */
const UNKNOWN_FOR_MS = 5 * 60_000;
const UNKNOWN_KEPT = 4096;
/** The refusal of an id GoPay's API does not know. */
export const PAYMENT_UNKNOWN = "payment unknown to GoPay";

/** GoPay's words for an error, its first `errors` entry's (`{"errors":[{"message":…}]}`). */
function gopaySaid(response: HttpResponse): string | undefined {
  try {
    const [first] =
      (JSON.parse(response.text) as { errors?: { message?: unknown; description?: unknown }[] }).errors ?? [];
    const said = [first?.message, first?.description].find((value) => typeof value === "string" && value);
    return said === undefined ? undefined : oneLine(String(said));
  } catch {
    return undefined;
  }
}

/**
 * GoPay's API refusing to issue a token is the source's configuration, not the request's
 * arguments: the answer says what to check, the apiUrl when nothing answers at the token's
 * address (a 404: the URL without its /api), else the credentials. A payment's lookup refused
 * with a token issued after the one refused before is not the credentials, which GoPay took: the
 * payment is not the client's to see. Other answers read as any upstream's.
 */
export const gopayErrors: ErrorMapper = (response, upstream, urlSetting) => {
  const { status, url } = response;
  const lookedUp = /^\/payments\/payment\/(\d+)/.exec(response.path)?.[1];
  if (lookedUp && (status === 401 || status === 403)) {
    const said = gopaySaid(response) ?? upstreamMessage(response);
    return new UpstreamError(
      `${upstream} refused waiter payment ${lookedUp} (${status}${said ? ` ${JSON.stringify(said)}` : ""}) with an access token it had just issued: it takes the source's clientId and secret, and the payment is not one of the e-shop (goid) that clientId is for; if every notification is refused so, check that the clientId is the one GoPay issued for the e-shop whose payments notify this URL, else another e-shop's payments are notified to it (their notification_url), or someone other than GoPay sends their ids`,
      status,
    );
  }
  if (response.path !== "/oauth2/token" || status < 400 || status >= 500 || status === 429) return undefined;
  const said = gopaySaid(response) ?? upstreamMessage(response);
  const answered = `(${status}${said ? ` ${JSON.stringify(said)}` : ""})`;
  if (status === 404) {
    return new UpstreamError(
      `${upstream} has no token endpoint at ${url.origin}${url.pathname} ${answered}: check ${urlSetting}, GoPay's API with its /api (https://gate.gopay.cz/api, or https://gw.sandbox.gopay.com/api for the sandbox)`,
      status,
    );
  }
  return new UpstreamError(
    `${upstream} refused to issue an access token ${answered}: check the source's clientId and secretEnv (sandbox credentials work only with the sandbox's apiUrl), and that GoPay lets that client use the scope payment-all`,
    status,
  );
};

/** The token request failed: its own words, not those of a payment's lookup. */
class NoToken extends Error {}

const token = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });
const payment = z.looseObject({
  id: z.union([z.number(), z.string()]),
  state: z.string().min(1),
  payer: z.looseObject({}).optional(),
});
/** `GET /payments/payment/{id}/refunds`: each refund with its id, amount, currency, state and dates. */
const refundList = z.array(z.looseObject({}));
type Refunds = z.infer<typeof refundList>;

/**
 * The payment as kept: without the payer's card details or the payment page's link; with its
 * refunds as GoPay lists them, where they were asked for.
 */
function kept(found: z.infer<typeof payment>, refunds: Refunds | undefined): Buffer {
  const { gw_url: _link, ...rest } = found;
  const withRefunds = refunds ? { ...rest, refunds } : rest;
  if (rest.payer) {
    const { payment_card: _card, ...payer } = rest.payer;
    return Buffer.from(JSON.stringify({ ...withRefunds, payer }));
  }
  return Buffer.from(JSON.stringify(withRefunds));
}

/**
 * GoPay calls the notification URL with a GET that carries only `?id=<payment id>`, and says
 * nothing else: waiter asks GoPay's API for the payment (`GET /payments/payment/{id}`, with an
 * access token from `POST /oauth2/token`, client credentials, scope payment-all, kept until it
 * runs out) and stores what it answers. A payment refunded in part stays PARTIALLY_REFUNDED
 * through each later refund, so for that state its refunds are asked for too (`GET
 * /payments/payment/{id}/refunds`, with the same token), and how many it lists tells its
 * notifications apart. A payment GoPay does not know is refused; an API that cannot be asked, or
 * lookups past the bound, make a 503, and GoPay calls again. `api` is declared
 * with the client's Basic authorization, which the token request carries (so any answer quoted
 * leaves the client's secret out); a lookup carries its access token instead.
 */
export function gopay(api: Upstream) {
  let cached: { token: string; until: number } | undefined;
  /** The token request in flight: notifications that arrive together share it. */
  let pending: Promise<string> | undefined;

  async function fetchToken(call: Call): Promise<string> {
    const answer = await api
      .json(
        token,
        "/oauth2/token",
        {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
          },
          body: new URLSearchParams({ grant_type: "client_credentials", scope: "payment-all" }).toString(),
          // Asking for a token changes nothing: its failure is not a change that may have been made.
          changes: false,
        },
        call,
      )
      .catch((err: unknown) => {
        throw new NoToken(`waiter could not get an access token from GoPay's API: ${notAnswered(err, CONFIRM_MS)}`);
      });
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
  const inTurn = takingTurns(LOOKUPS_AT_ONCE, LOOKUPS_WAITING);
  /** Ids GoPay did not know, with when it said so. */
  const unknown = new LRUCache<string, number>({ max: UNKNOWN_KEPT });

  return async ({ url }: Delivery): Promise<Verdict> => {
    // The query alone: a target in absolute form names a host and port, which a stranger may write
    // so that no URL parser takes them.
    const query = url?.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
    // GoPay appends its id to the query the payment's notification_url has: where that names an id
    // of its own, GoPay's comes last, the one PHP's $_GET, which GoPay's SDKs are read with, takes.
    const id = new URLSearchParams(query).getAll("id").at(-1) ?? "";
    if (!/^[1-9]\d{0,15}$/.test(id)) return reject("missing or malformed id");
    if (lessAgoThan(unknown.get(id) ?? Number.NEGATIVE_INFINITY, UNKNOWN_FOR_MS)) return reject(PAYMENT_UNKNOWN);
    let verdict = asking.get(id);
    if (!verdict) {
      const call = { signal: AbortSignal.timeout(CONFIRM_MS), deadline: clock.now() + CONFIRM_MS };
      verdict = inTurn(() => lookUp(id, call));
      if (!verdict) {
        return {
          kind: "unavailable",
          reason: `GoPay's API is being asked about ${LOOKUPS_AT_ONCE} payments with ${LOOKUPS_WAITING} more waiting, more than GoPay notifies at once: perhaps a stranger is sending made-up ids; if it goes on, look at who calls the notification URL`,
        };
      }
      verdict = verdict.finally(() => asking.delete(id));
      asking.set(id, verdict);
    }
    return verdict;
  };

  /**
   * A failure to ask GoPay's API, the token endpoint's refusals too: waiter's credentials or scope
   * are for the operator to fix, and GoPay calls again meanwhile.
   */
  function notAsked(err: unknown): Verdict {
    return {
      kind: "unavailable",
      reason: err instanceof NoToken ? err.message : `GoPay's API could not be asked: ${notAnswered(err, CONFIRM_MS)}`,
    };
  }

  /**
   * GoPay's answer at `path`, with the cached token; a token GoPay no longer takes (revoked, or its
   * clock ahead of ours): once more, with another. GoPay's documentation answers such a token 403
   * ("Not-authorized access", listing no 401); a 401 is taken so too.
   */
  async function ask(path: string, call: Call): Promise<HttpResponse> {
    const send = (bearer: string) =>
      api.send(path, { headers: { authorization: `Bearer ${bearer}`, accept: "application/json" } }, call);
    const first = await accessToken(call);
    const answer = await send(first);
    return answer.status === 401 || answer.status === 403 ? send(await accessToken(call, first)) : answer;
  }

  async function lookUp(id: string, call: Call): Promise<Verdict> {
    if (call.signal.aborted)
      return {
        kind: "unavailable",
        reason: `waited its turn to ask GoPay's API past the ${CONFIRM_MS / 1000} s an answer may take`,
      };
    let answer: HttpResponse;
    try {
      answer = await ask(`/payments/payment/${id}`, call);
    } catch (err) {
      return notAsked(err);
    }
    if (answer.status === 404) {
      unknown.set(id, clock.now());
      return reject(PAYMENT_UNKNOWN);
    }
    let found: z.infer<typeof payment>;
    try {
      found = api.read(payment, answer);
    } catch (err) {
      return { kind: "unavailable", reason: `GoPay's API did not answer the payment: ${(err as Error).message}` };
    }
    if (String(found.id) !== id) return reject("GoPay's API answered for another payment");
    let refunds: Refunds | undefined;
    if (found.state === "PARTIALLY_REFUNDED") {
      try {
        answer = await ask(`/payments/payment/${id}/refunds`, call);
      } catch (err) {
        return notAsked(err);
      }
      try {
        refunds = api.read(refundList, answer);
      } catch (err) {
        return {
          kind: "unavailable",
          reason: `GoPay's API did not answer the payment's refunds: ${(err as Error).message}`,
        };
      }
    }
    return {
      kind: "accept",
      // A number the store can list a payment's deliveries by, as a refund's id is not; from the
      // second refund on, so the first keeps the id it had before refunds were counted.
      id: refunds && refunds.length > 1 ? `${id}:${found.state}:${refunds.length}` : `${id}:${found.state}`,
      type: `payment.${found.state.toLowerCase()}`,
      payload: kept(found, refunds),
    };
  }
}
