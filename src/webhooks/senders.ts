import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { quote } from "../shown.js";
import type { WebhookSource } from "./settings.js";
import { alike, copiesOf, signedWithAny } from "./verifiers/common.js";

/*
 * What waiter knows of particular senders, apart from the listener: webhooks_sources reads it
 * without loading the listener's HTTP stack, and the start tells a PostgreSQL store which senders
 * never send a delivery again (`neverResentBy`), whose stop names the deliveries it left unstored.
 */

/**
 * Senders whose deliveries are small forms that their verifier must parse before anything can be
 * checked: a body past this is refused before it is read whole, as a stranger's megabyte of form
 * fields would cost the event loop hundreds of milliseconds to parse. Comgate's notification is
 * some thirty short fields (ids, an amount, an email, a name and an address), about a kilobyte.
 */
export const SMALL_DELIVERIES: Partial<Record<WebhookSource["scheme"], { maxBytes: number; what: string }>> = {
  comgate: { maxBytes: 8 * 1024, what: "a Comgate notification" },
};

/** Why no signed scheme takes Slack's requests: its signature covers `v0:<X-Slack-Request-Timestamp>:<body>`, not the body alone. */
const SLACK_SIGNS = "Slack signs a timestamp with the body, as no signed scheme here checks";

/** Of the handshakes only a `none` source answers, what each is and why no signed scheme takes its sender's deliveries. */
const UNSIGNED_HANDSHAKES: Record<string, { what: string; why: string }> = {
  "Microsoft Graph": { what: "validation of a notification URL (?validationToken=…)", why: "Graph signs nothing" },
  Slack: { what: "URL verification", why: SLACK_SIGNS },
};

/**
 * What a signed source's refusal of `sender`'s handshake that only a `none` source answers is
 * counted under (Microsoft Graph's validation of a notification URL, Slack's URL verification):
 * its sender's deliveries are refused whatever secret or header the source is given.
 */
export function handshakeRefused(sender: string): string | undefined {
  const handshake = UNSIGNED_HANDSHAKES[sender];
  return handshake && `${sender}'s ${handshake.what}`;
}

/**
 * What a signed source's refusal of a request signed as Slack signs is counted under: an
 * `hmac-sha256` source set to X-Slack-Signature verifies none of them, whatever its secret.
 */
export const SLACK_SIGNED = "Slack's signed delivery";

/**
 * What the signature mismatch of an `hmac-sha256` source set to X-Slack-Signature is counted under
 * where the request carries Slack's timestamp too but the source's secret makes its signature neither Slack's way nor over
 * the body alone: Slack's, signed with another secret, which no secret makes the source take, or a
 * relay's that passes Slack's headers on and signs the body with a secret waiter does not hold.
 */
export const SLACK_HEADERS_MISMATCH = "signature mismatch, with Slack's headers";

/**
 * Whether a request carries Slack's signature (X-Slack-Signature: v0=…) and the timestamp it covers;
 * given `secrets`, whether that signature is Slack's over v0:<timestamp>:<body> with one of them.
 */
export function signedAsSlack(headers: IncomingHttpHeaders, body: Buffer, secrets?: readonly string[]): boolean {
  const signature = copiesOf(headers, ["x-slack-signature"]);
  const timestamps = copiesOf(headers, ["x-slack-request-timestamp"]);
  const timestamp = timestamps && alike(timestamps.copies);
  if (signature === undefined || timestamp === undefined) return false;
  if (!signature.copies.every((copy) => copy.startsWith("v0="))) return false;
  const received = signature.copies.map((copy) => copy.slice("v0=".length));
  return secrets === undefined || signedWithAny(received, secrets, "hex", `v0:${timestamp}:`, body);
}

/**
 * Why a request refused as handshakeRefused or SLACK_SIGNED says is taken at a `none` source
 * alone, as the log and webhooks_sources say it.
 */
export function noneOnlyCause(reason: string): string | undefined {
  const why =
    reason === SLACK_SIGNED
      ? SLACK_SIGNS
      : Object.entries(UNSIGNED_HANDSHAKES).find(([sender]) => handshakeRefused(sender) === reason)?.[1].why;
  return (
    why &&
    `${why}: only a source of scheme none takes its deliveries, for local trials on a loopback address with no public URL (docs/webhooks.md#configuring-sources)`
  );
}

/**
 * What a refusal of WooCommerce's ping (isWooCommercePing) at a source of another scheme is counted
 * under: WooCommerce signs none, and shows the webhook's activation as failed unless it gets 200.
 */
export const WOOCOMMERCE_PING = "WooCommerce's ping";

/**
 * Where and until when a GitHub delivery can be redelivered: GitHub.com lists a webhook's
 * deliveries, and redelivers them, for 3 days; GitHub Enterprise Server for 7.
 */
export const GITHUB_REDELIVERY = "within 3 days (7 on GitHub Enterprise Server) from the webhook's Recent Deliveries";

/**
 * What to do about a delivery not stored, for the senders that never send one again, and the
 * header that carries the delivery ID their own log finds it by.
 */
export const NOT_SENT_AGAIN: Partial<
  Record<WebhookSource["scheme"], { sender: string; what: string; idHeader: string }>
> = {
  github: {
    sender: "GitHub",
    what: `GitHub does not send it again: redeliver it ${GITHUB_REDELIVERY}`,
    idHeader: "x-github-delivery",
  },
  woocommerce: {
    sender: "WooCommerce",
    // Its log keeps a delivery's headers and answer, and its body only where WP_DEBUG is on.
    what: "WooCommerce does not send it again and logs its body only with WP_DEBUG on: the shop shows the order, product, customer or coupon as it is now, and WooCommerce → Status → Logs the delivery's topic and time",
    idHeader: "x-wc-webhook-delivery-id",
  },
};

/**
 * The headers that carry the delivery ID a sender's own log lists, for the senders that send a
 * delivery again, whose refusals `notSentAgain` does not name it: Shopify's webhook id, by its new
 * name and its legacy one, and Standard Webhooks' message id (Svix's msg_…); a generic source's
 * is its `idHeader`.
 */
const CLAIMED_IN: Partial<Record<WebhookSource["scheme"], string[]>> = {
  shopify: ["shopify-webhook-id", "x-shopify-webhook-id"],
  "standard-webhooks": ["webhook-id", "svix-id"],
};

/**
 * The id a Stripe event's body opens with, as Stripe writes it, read from its first bytes: a
 * refused body is anyone's, not parsed whole (one nested too deep takes seconds).
 */
const STRIPE_EVENT_ID = /^\s*\{\s*"id"\s*:\s*"([^"\\]+)"/;

/** A Stripe event of test mode, or of a sandbox, by its `livemode` (its object's is alike): found, not parsed. */
const STRIPE_TEST_MODE = /"livemode"\s*:\s*false\b/;

/**
 * The delivery a refused request claims to be, unverified, by the id its sender's dashboard lists
 * it under, where `notSentAgain` does not name it: Stripe's event id, in the body once read (and,
 * refused for a signature mismatch, whether it is of test mode), else
 * the header `CLAIMED_IN` names.
 */
export function claimedDelivery(
  req: Pick<IncomingMessage, "headers"> & { body?: unknown },
  source: WebhookSource | undefined,
  reason: string,
): string | undefined {
  if (source?.scheme === "stripe") {
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    const id = body && STRIPE_EVENT_ID.exec(body.toString("utf8", 0, 512))?.[1];
    if (!body || id === undefined) return undefined;
    // The live endpoint's secret is the one most often held: a test one's differs. Refused for another
    // reason (a stale timestamp), it verified, or was not checked: its secret is not in question.
    const test =
      reason === "signature mismatch" && STRIPE_TEST_MODE.test(body.toString("utf8"))
        ? ", of test mode or a sandbox (livemode false), whose destination signs with a secret of its own, not the live one's"
        : "";
    return `it claims to be event ${quote(id)}${test}`;
  }
  const names =
    source && (CLAIMED_IN[source.scheme] ?? ("idHeader" in source && source.idHeader ? [source.idHeader] : undefined));
  const sent = names && copiesOf(req.headers, names);
  return sent ? `it claims to be delivery ${shownCopies(sent.copies)}` : undefined;
}

/** The most copies of a header a line shows: a proxy adds one or two; a stranger may send thousands. */
const SHOWN_COPIES = 3;

/** A header's copies as a line shows them: its one value, or the first few where copies differ. */
function shownCopies(copies: string[]): string {
  const id = alike(copies);
  if (id !== undefined) return quote(id);
  const more = copies.length - SHOWN_COPIES;
  const shown = copies.slice(0, SHOWN_COPIES).map(quote).join(" or ");
  return `${shown}${more > 0 ? ` or ${more} more` : ""}, the header's copies differing`;
}

/** The name of the sender of a scheme's deliveries that never sends one again (GitHub), for the store's last words. */
export function neverResentBy(scheme: string): string | undefined {
  return NOT_SENT_AGAIN[scheme as WebhookSource["scheme"]]?.sender;
}

/**
 * What to do about a delivery not stored, for a sender that never sends one again, with its
 * delivery ID as the request gave it, unverified: the sender's log finds it by that. Such senders
 * POST every delivery: a request of another method is theirs only where something on the way
 * changed it, and then it carries their delivery ID; without it (a browser's GET, a monitor's
 * HEAD) it is none of theirs, and nothing is lost. A request whose path names no source (one
 * renamed in waiter, a URL mistyped at the sender) is such a sender's by the delivery ID it carries.
 */
export function notSentAgain(
  req: Pick<IncomingMessage, "method" | "headers">,
  source: WebhookSource | undefined,
): string | undefined {
  const notAgain = source
    ? NOT_SENT_AGAIN[source.scheme]
    : Object.values(NOT_SENT_AGAIN).find(({ idHeader }) => copiesOf(req.headers, [idHeader]));
  if (!notAgain) return undefined;
  const sent = copiesOf(req.headers, [notAgain.idHeader]);
  if (!sent) return req.method === "POST" ? notAgain.what : undefined;
  // Of copies a proxy sent that differ, one is the sender's.
  return `${notAgain.what} (delivery ID ${shownCopies(sent.copies)})`;
}
