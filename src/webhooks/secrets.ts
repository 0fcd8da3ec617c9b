import type { Log } from "../log.js";
import { HOUR_MS, lessAgoThan } from "../time.js";
import { GITHUB_REDELIVERY, noneOnlyCause, SLACK_HEADERS_MISMATCH, SLACK_SIGNED, WOOCOMMERCE_PING } from "./senders.js";
import type { WebhookSource } from "./settings.js";
import { MERCHANT_MISMATCH, STORE_CONNECTION } from "./verifiers/comgate.js";
import {
  copiesDifferIn,
  finerUnitIn,
  headerMissingIn,
  MALFORMED_TIMESTAMP,
  malformedHeader,
  STALE_TIMESTAMP,
  type Verdict,
} from "./verifiers/common.js";
import { GITHUB_SIGNATURE } from "./verifiers/github.js";
import { PAYMENT_UNKNOWN } from "./verifiers/gopay.js";
import { ONLY_V1A } from "./verifiers/standard-webhooks.js";

/**
 * A refusal as the operator's log says it. A signature that never matches is most often a secret
 * set wrong (copied from another endpoint, or cut short), which only the log can name: the sender,
 * who may be a stranger, is told no more than the mismatch. A sender's stale retry is refused
 * alone; a clock of waiter's that is off refuses every delivery, which only its operator can mend.
 */
export function withCause({ reason, detail }: Extract<Verdict, { kind: "reject" }>, source: WebhookSource): string {
  const cause = refusalCause(reason, source);
  const said = detail ? `${reason} (${detail})` : reason;
  return cause ? `${said}: if every delivery of this source is refused so, ${cause}` : said;
}

/**
 * What to check when every delivery of `source` is refused for `reason`, a verdict's reason as
 * counted, or undefined where it says nothing of the setup: the variable or setting to mend, for
 * the log and for webhooks_sources, whose counts name only the reason.
 */
export function refusalCause(reason: string, source: WebhookSource): string | undefined {
  const noneOnly = noneOnlyCause(reason);
  if (noneOnly) return noneOnly;
  if (reason === WOOCOMMERCE_PING) {
    return "WooCommerce signs none of its pings (the webhook_id=… it posts when a webhook is made active, and shows as failed unless answered 200): a source of scheme woocommerce answers them, and checks its deliveries as WooCommerce signs them; give the webhook that source's url";
  }
  // Slack's own deliveries need a none source whatever the secret: said now, not once the secret is mended.
  if (reason === SLACK_HEADERS_MISMATCH) {
    const relay = secretNotHeld(source, "signature mismatch");
    return `its sender is Slack or a relay that passes Slack's headers on: if Slack, ${noneOnlyCause(SLACK_SIGNED)}, whatever secret this one holds${relay ? `; if a relay that signs the body alone, ${relay}` : ""}`;
  }
  // Stripe stamps each attempt as it sends it, retries too, and only one stamped behind is stale.
  if (reason === STALE_TIMESTAMP && source.scheme === "stripe") {
    return "this machine's clock may be ahead (check NTP): Stripe stamps each attempt as it sends it";
  }
  if (reason === STALE_TIMESTAMP) {
    return "this machine's clock may be wrong (check NTP), or its sender's: one a whole number of hours off takes local time for UTC";
  }
  const finer = finerUnitIn(reason);
  if (finer !== undefined) {
    // Stripe stamps whole seconds, always: a t in a finer unit is written by whatever signs in its stead.
    if (source.scheme === "stripe") {
      return `its sender is not Stripe, which writes Stripe-Signature's t in whole seconds, but something that signs the deliveries itself (a relay, a test script) and writes t in ${finer.unit} since 1970: have it write seconds`;
    }
    // A Standard Webhooks refusal names the header its sender sent; one counted by an older waiter, neither.
    const [header, scheme] =
      finer.named === "svix-timestamp" ? ["svix-timestamp", "Svix"] : ["webhook-timestamp", "Standard Webhooks"];
    return `its sender writes ${header} in ${finer.unit} since 1970, where ${scheme} asks whole seconds: have it write seconds`;
  }
  if (isMismatch(reason)) return secretNotHeld(source, reason);
  if (reason === MERCHANT_MISMATCH) {
    return `the source's merchant is not the e-shop's id its sender sends (Comgate's client portal shows it under ${STORE_CONNECTION}), or its sender is not Comgate`;
  }
  // GoPay gave waiter a token, so the credentials are the apiUrl's: the payments are the other GoPay's.
  if (reason === PAYMENT_UNKNOWN) {
    return "its payments are made at the other GoPay than the one its apiUrl names (the sandbox, https://gw.sandbox.gopay.com/api, or production, https://gate.gopay.cz/api: each knows only its own payments, and issues its own clientId and secret), or someone other than GoPay calls its URL with made-up ids";
  }
  if (source.scheme === "hmac-sha256" && reason === malformedHeader(source.header)) {
    return `its sender writes the signature otherwise than the source's prefix (${JSON.stringify(source.prefix)}) and encoding (${source.encoding}) say: set them to what it writes (a sender that writes sha256= before a hex HMAC, as GitHub does, needs "prefix": "sha256=" and "encoding": "hex"); encoding is "hex" or "base64" (with + and /, padded with =) only, so a sender that writes base64url or unpadded base64 must be made to write hex or padded base64`;
  }
  if (source.scheme === "standard-webhooks") {
    // An earlier waiter counted webhook-timestamp's refusal (this scheme's missing one has its own) so.
    const malformed =
      reason === MALFORMED_TIMESTAMP
        ? "webhook-timestamp"
        : ["webhook-timestamp", "svix-timestamp", "webhook-signature", "svix-signature"].find(
            (name) => reason === malformedHeader(name),
          );
    const scheme = malformed?.startsWith("svix-") ? "Svix" : "Standard Webhooks";
    if (malformed?.endsWith("-timestamp")) {
      return `its sender writes ${malformed} otherwise than ${scheme} asks, whole seconds since 1970 (no fraction, no date): have it write those`;
    }
    if (malformed !== undefined) {
      return `its sender writes ${malformed} otherwise than ${scheme} asks, v1,<base64 of the HMAC-SHA256> (not hex), several apart by spaces: have it write that`;
    }
  }
  if (reason === ONLY_V1A && "secretEnv" in source) {
    return `its sender signs only with an asymmetric v1a (ed25519) key, which waiter does not check: have it sign with a whsec_ secret too, and put that secret in ${[source.secretEnv].flat()[0]}`;
  }
  const differing = copiesDifferIn(reason);
  if (differing !== undefined) {
    return `something on the way (a proxy, a tunnel) sends the ${differing} header again beside its sender's, with another value, and waiter cannot tell which is the sender's: have it pass the sender's header on once`;
  }
  const missingHeader = headerMissingIn(reason);
  return missingHeader === undefined ? undefined : headerNotSent(source, missingHeader);
}

/**
 * Whether a refusal is what a sender with another secret than waiter's gets: a signature that does
 * not match, or, from Comgate, which signs nothing but sends its secret, a secret that does not.
 */
export function isMismatch(reason: string): boolean {
  return reason === "signature mismatch" || reason === "secret mismatch";
}

/**
 * The variables that do not hold the secret a source's sender signs with, as the log says it, and
 * where to find it; for a signature mismatch, the other cause too: every delivery of a sender
 * behind a proxy that re-encodes its JSON fails so, with the secret copied right.
 */
function secretNotHeld(source: WebhookSource, reason: string): string | undefined {
  if (!("secretEnv" in source)) return undefined;
  const variables = [source.secretEnv].flat();
  const holds = variables.length === 1 ? `${variables[0]} does not hold` : `none of ${variables.join(", ")} holds`;
  const uses = source.scheme === "comgate" ? "sends" : "signs with";
  const body =
    reason === "signature mismatch"
      ? ", or something on the way (a proxy, a tunnel) changes the body, whose bytes as sent the signature covers"
      : "";
  const shown =
    SECRET_SHOWN[source.scheme] ??
    "docs/webhooks.md#pointing-the-providers-at-waiter says where each provider shows it";
  return `${holds} the secret its sender ${uses}${body}; ${shown}`;
}

/** Where each provider shows the secret a source's variable must hold. */
const SECRET_SHOWN: Partial<Record<WebhookSource["scheme"], string>> = {
  stripe:
    "Stripe shows it as the endpoint's signing secret (whsec_…), on its page under Workbench → Webhooks, or, for the deliveries `stripe listen` forwards, which are signed with a secret of its own, `stripe listen --print-secret` prints it",
  github:
    "GitHub never shows a webhook's Secret again: type it anew under the repository's or organization's Settings → Webhooks → Edit, or for a GitHub App's webhook as its Webhook secret under Developer settings → GitHub Apps → Edit",
  woocommerce: "WooCommerce shows it as the webhook's Secret, under WooCommerce → Settings → Advanced → Webhooks",
  shopify:
    "Shopify shows it under Settings → Notifications → Webhooks, or, for an app's webhooks, as the app's client secret",
  comgate: `Comgate's client portal shows it under ${STORE_CONNECTION}`,
  "standard-webhooks":
    "a Standard Webhooks sender shows it as the endpoint's signing secret (whsec_…), on the endpoint's page of its webhook settings (Clerk's, Resend's, Svix's)",
};

/**
 * Why every delivery of a source may lack `missing`, a header its scheme needs, which its sender
 * is told no more of: the sender is not the scheme's (another provider's, or a generic source's
 * header set to another than the one its sender signs in), it signs nothing (a GitHub webhook
 * whose Secret is empty sends no X-Hub-Signature-256), or a proxy or tunnel on the way drops the
 * header.
 */
function headerNotSent(source: WebhookSource, missing: string): string {
  const sender =
    source.scheme === "hmac-sha256"
      ? "its sender does not send it (check the source's header)"
      : source.scheme === "github" && missing === GITHUB_SIGNATURE
        ? `its sender does not sign (a GitHub webhook whose Secret is empty: set it to the secret in ${[source.secretEnv].flat()[0]}), or is not GitHub (check the source's scheme)`
        : `its sender is not a ${source.scheme} sender (check the source's scheme)`;
  return `${sender}, or something on the way (a proxy, a tunnel) drops the header`;
}

/**
 * How long a source whose deliveries verified must see nothing but signature mismatches before
 * its secret is said to have changed at one end only. A stranger's forgeries between two real
 * deliveries an hour apart span less; WooCommerce, which never sends a refused delivery again,
 * disables its webhook at the seventh in a row: a shop making fewer than seven webhook events in
 * that hour hears of it first.
 */
const MISMATCHED_FOR_MS = HOUR_MS;

/** What a sender signing with another secret loses meanwhile, for the senders that never send a delivery again. */
const LOST_MEANWHILE: Partial<Record<WebhookSource["scheme"], (secretEnv: string) => string>> = {
  github: () =>
    `GitHub does not send the refused deliveries again: once they verify, redeliver each ${GITHUB_REDELIVERY}`,
  woocommerce: (secretEnv) =>
    `WooCommerce does not send the refused deliveries again (WooCommerce → Status → Logs lists them), and disables the webhook at its seventh failure in a row: once ${secretEnv} holds the secret it signs with, set it back to Active under WooCommerce → Settings → Advanced → Webhooks (WooCommerce keeps its count of failures until a delivery succeeds, so before that one more failure disables it again)`,
};

/**
 * Warns when a source's sender has been signing with another secret than waiter's for a while: a
 * source whose deliveries verified, and since the last of them has had only signature mismatches
 * (its scheme's headers well-formed and, where it signs one, a current timestamp: what a sender with
 * a wrong secret sends) for MISMATCHED_FOR_MS; a repeat of a stored delivery is not one verified.
 * Said again at most hourly while it lasts, and at info when a delivery verifies again. A source
 * none of whose deliveries verified is not warned of: forgeries raise it only where real deliveries
 * stopped verifying for that long. After a restart, `lastStored` (the newest event stored from the
 * source) stands for the last verified, so that a secret changed in waiter alone, which takes a
 * restart, is warned of too.
 */
export function secretWatch(log: Log, lastStored: (source: string) => Promise<number | undefined>) {
  // verifiedAt is unknown until a delivery verifies or the store has told of one.
  const watched = new Map<
    string,
    { verifiedAt?: number; mismatches: number; since?: number; warnedAt?: number; reason?: string }
  >();
  return {
    verified(source: WebhookSource, now: number) {
      const watch = watched.get(source.name);
      if (watch?.warnedAt !== undefined && watch.verifiedAt !== undefined) {
        log.info(
          `webhook ${source.name}: a delivery verifies again, after ${watch.mismatches} refused for a ${watch.reason ?? "signature mismatch"} since the last one verified, at ${new Date(watch.verifiedAt).toISOString()}`,
        );
      }
      watched.set(source.name, { verifiedAt: now, mismatches: 0 });
    },
    /** A refusal `isMismatch` takes for one: `reason`, as the warning names it. */
    mismatched(source: WebhookSource, now: number, reason: string) {
      let watch = watched.get(source.name);
      if (!watch) {
        const asked: { mismatches: number; verifiedAt?: number } = { mismatches: 0 };
        watched.set(source.name, asked);
        lastStored(source.name).then(
          (at) => {
            asked.verifiedAt ??= at;
          },
          // Asked again at the next mismatch; the store's failures are told where it fails to store.
          () => {
            if (watched.get(source.name) === asked) watched.delete(source.name);
          },
        );
        watch = asked;
      }
      watch.mismatches += 1;
      watch.reason = reason;
      // A clock set back: the span counts from the new time, not one that has not come yet.
      watch.since = Math.min(watch.since ?? now, now);
      if (watch.verifiedAt === undefined || now - watch.since < MISMATCHED_FOR_MS) return;
      if (watch.warnedAt !== undefined && lessAgoThan(watch.warnedAt, HOUR_MS)) return;
      watch.warnedAt = now;
      const lost = LOST_MEANWHILE[source.scheme]?.(
        "secretEnv" in source ? [source.secretEnv].flat().join(" or ") : "waiter",
      );
      log.warning(
        `webhook ${source.name}: no delivery verified since ${new Date(watch.verifiedAt).toISOString()}, and ${watch.mismatches} refused since for a ${reason}, over ${Math.round((now - watch.since) / 60_000)} min: its secret was likely changed at the sender and not in waiter, or the reverse; ${secretNotHeld(source, reason)}, and docs/webhooks.md#rotating-a-secret how to change one without refusing deliveries${lost ? `; ${lost}` : ""}`,
      );
    },
  };
}
