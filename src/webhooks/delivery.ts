import type { IncomingHttpHeaders } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { bodyComing } from "../bodies.js";
import { ToolError } from "../errors.js";
import { cleanType } from "../events/filter.js";
import { type Added, type EventStore, ID_REUSED, StoreBusy, StoreNotWritable } from "../events/store.js";
import { MAX_PAYLOAD_DEPTH, pastBound } from "../json.js";
import { type Log, type Throttled, throttled } from "../log.js";
import { meantKey, quote, withEscapes } from "../shown.js";
import { clock } from "../time.js";
import { awaitingContinue, clientOf, closeOnceRead, HeldBodies, type ListenerTimeouts, watchBody } from "./limits.js";
import { isMismatch, refusalCause, secretWatch, withCause } from "./secrets.js";
import {
  handshakeRefused,
  NOT_SENT_AGAIN,
  notSentAgain,
  SLACK_HEADERS_MISMATCH,
  SLACK_SIGNED,
  SMALL_DELIVERIES,
  signedAsSlack,
  WOOCOMMERCE_PING,
} from "./senders.js";
import {
  deliveredBy,
  MISSPELT_PATH,
  publicPath,
  type WebhookSource,
  type WebhooksConfig,
  type webhookSettings,
} from "./settings.js";
import { bodyDigest } from "./verifiers/common.js";
import {
  alike,
  graphValidation,
  parseBody,
  slackUrlVerification,
  type Verdict,
  type Verifier,
} from "./verifiers/index.js";
import { isWooCommercePing } from "./verifiers/woocommerce.js";

/** Headers that carry a signature: checked, never stored. */
const SIGNATURE_HEADERS = new Set([
  "webhook-signature",
  "svix-signature",
  "stripe-signature",
  "x-hub-signature",
  "x-hub-signature-256",
  "shopify-hmac-sha256",
  "x-shopify-hmac-sha256",
  "x-wc-webhook-signature",
]);
/**
 * The headers kept with an event: what its body is and who sent it (content-type, user-agent),
 * and its own provider's headers, not another's. A Comgate or GoPay event is their API's answer,
 * not the request, whose headers anyone who knows a payment's id could write: none are kept.
 */
const PROVIDER_HEADERS: Partial<Record<WebhookSource["scheme"], RegExp>> = {
  "standard-webhooks": /^(webhook|svix)-(id|timestamp)$/,
  github: /^x-github-/,
  shopify: /^(x-)?shopify-/,
  woocommerce: /^x-wc-webhook-/,
};
/**
 * The scheme of a sender that GETs a URL to check it before it POSTs there: Mailchimp, which signs
 * nothing, so no signed scheme verifies its POSTs, and a GET counted a ping there would be a stranger's.
 */
const CHECKED_WITH_GET = new Set<WebhookSource["scheme"]>(["none"]);
/** What the log adds to a GET or HEAD refused at an hmac-sha256 source, which may be Mailchimp's check of the URL. */
const CHECKED_AT_HMAC =
  " (if it is Mailchimp's check of the URL: Mailchimp signs none of its webhooks, so an hmac-sha256 source would refuse them all; docs/webhooks.md says where they can be taken)";
/** What a delivery the store did not commit is counted under. */
export const NOT_STORED = "rejected:not stored";

/** The schemes whose event is their API's answer, not the delivery: Comgate's form carries its secret, GoPay's GET nothing. */
export const ASKED_OF_THEIR_API = new Set<WebhookSource["scheme"]>(["comgate", "gopay"]);

/**
 * Looks up what `source`'s delivery, whose write the store refused, was stored as, as a repeat of it
 * is answered (under the former id an older waiter keyed it on first, one retention dropped since
 * too), within `lookupMs`. One look-up at a time: where a lock keeps reads waiting too, a burst of
 * them would hold each of the store's connections for its lock wait, and the deliveries after would
 * wait for one; a look-up whose time ran out before its turn came is not made.
 */
function retryLookups(store: EventStore, lookupMs: number) {
  let last: Promise<unknown> = Promise.resolve();
  const lookUp = async (source: WebhookSource, ids: string[]): Promise<Added | undefined> => {
    const ofSource = <Found extends { source: string }>(found: Found[]) => found.find((e) => e.source === source.name);
    for (const id of ids) {
      const kept = ofSource(await store.deliveredAs(id));
      if (kept) return { id: kept.id, duplicate: true };
      const dropped = ofSource(await store.droppedAs(id));
      if (dropped) {
        const { digest } = dropped;
        return { id: dropped.id, duplicate: true, dropped: true, ...(digest ? { digest } : {}) };
      }
    }
    return undefined;
  };
  return async (source: WebhookSource, { id, formerId }: { id: string; formerId?: string }) => {
    let wanted = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), lookupMs);
    });
    const turn = last.then(() => (wanted ? lookUp(source, formerId ? [formerId, id] : [id]) : undefined));
    last = turn.catch(() => {});
    try {
      return await Promise.race([turn.catch(() => undefined), late]);
    } finally {
      wanted = false;
      clearTimeout(timer);
    }
  };
}

/** The largest body a source takes: webhooks.maxBodyBytes, or less for a sender whose deliveries are small. */
export function bodyLimit(webhooks: Pick<WebhooksConfig, "maxBodyBytes">, source: WebhookSource | undefined): number {
  const small = source && SMALL_DELIVERIES[source.scheme];
  return Math.min(webhooks.maxBodyBytes, small?.maxBytes ?? Number.POSITIVE_INFINITY);
}

function keptHeaders(headers: IncomingHttpHeaders, source: WebhookSource, asSent: boolean): Record<string, string> {
  if (ASKED_OF_THEIR_API.has(source.scheme)) return {};
  const own = PROVIDER_HEADERS[source.scheme];
  const extra = new Set(
    "idHeader" in source ? [source.idHeader, source.typeHeader].filter(Boolean).map((h) => h?.toLowerCase()) : [],
  );
  const signature = source.scheme === "hmac-sha256" ? source.header.toLowerCase() : undefined;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || SIGNATURE_HEADERS.has(name) || name === signature) continue;
    // Shopify's Events deliveries send each header under its new name and, for now, its legacy X- one: kept once, new.
    if (source.scheme === "shopify" && name.startsWith("x-") && headers[name.slice(2)] !== undefined) continue;
    // What is stored in place of the body (a GitHub form's JSON) is not what its Content-Type names.
    if ((name === "content-type" && asSent) || name === "user-agent" || own?.test(name) || extra.has(name)) {
      const sent = Array.isArray(value) ? value.join(", ") : value;
      // Copies alike, a proxy's beside the sender's, are its one value (see headerOnce): the id its sender shows finds the event.
      kept[name] = alike(sent.split(", ")) ?? sent;
    }
  }
  return kept;
}

/**
 * Why a delivery id is no text a store keeps as sent, if it is not. An id with control characters
 * is no sender's id, and no store must choke on its NUL; half a surrogate pair (a JSON escape) has
 * no UTF-8 form, so two such ids would be stored as one.
 */
function badIdReason(id: string): string | undefined {
  if (/\p{Cc}/u.test(id)) return "the delivery id holds control characters";
  return id.isWellFormed() ? undefined : "the delivery id holds half a surrogate pair";
}

/**
 * The reason counted for a refusal at a signed source of a request only a `none` source takes:
 * Microsoft Graph's validation of a notification URL, Slack's URL verification, a delivery signed
 * as Slack signs. Its sender is no sender of the source's scheme, and no secret or header set
 * otherwise would take its deliveries.
 */
function takenByNoneOnly(req: Request, source: WebhookSource, reason: string): string | undefined {
  if (source.scheme === "none") return undefined;
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const echo = graphValidation(req.originalUrl) ?? slackUrlVerification(body);
  if (echo) return handshakeRefused(echo.sender);
  // A source that checks the signature Slack's header carries hears from its own sender too (a
  // relay that passes Slack's headers on): its mismatch is Slack's only where Slack's way, with the
  // source's secret, it matches, else it is its sender's, signed with a secret waiter does not hold.
  const secrets = isMismatch(reason) ? (source.secrets ?? []) : undefined;
  return signedAsSlack(req.headers, body, secrets) ? SLACK_SIGNED : undefined;
}

/** Whether a request's body is sent encoded (gzip, deflate, br), which the listener refuses. */
const encoded = (req: Request) => (req.headers["content-encoding"] || "identity").toLowerCase() !== "identity";

/**
 * A refusal's body: `{ error }`, or where `jsonRpc` (a request to /mcp) a JSON-RPC error by id null,
 * as the MCP transport's own refusals are, and as MCP has a 403 for an Origin say it.
 */
export const refusalBody = (error: string, jsonRpc: boolean) =>
  jsonRpc ? { jsonrpc: "2.0", error: { code: -32000, message: error }, id: null } : { error };

/**
 * An answer to a request whose body may still be coming: the connection closes once what still comes
 * is dropped, within bounds.
 */
export function answerUnread(
  req: Request,
  res: Response,
  status: number,
  error: string,
  limits: ListenerTimeouts,
  jsonRpc = false,
): void {
  if (bodyComing(req)) closeOnceRead(req, res, limits);
  res.status(status).json(refusalBody(error, jsonRpc));
}

/**
 * The headers of an answer that tell a sender to send the delivery no more: Svix's (its Delivery
 * Control, which Standard Webhooks senders built on it honour) and Slack's Events API's. Stripe,
 * Shopify and the others read none, and retry on their own schedule.
 */
export const SEND_NO_MORE = { "webhook-delivery": "abort-message", "x-slack-no-retry": "1" };

/** A request the listener refuses: its answer, the reason it is counted under, and what the log says. */
export interface Refusal {
  status: number;
  reason: string;
  error?: string;
  said?: string;
  source?: WebhookSource | undefined;
  /** Refused for what each retry of it sends alike: answered with SEND_NO_MORE. */
  sameEachRetry?: true;
}

/** What the delivery routes are given: the listener's settings and store, and its refusals, counts and warnings. */
export interface DeliveryParts {
  webhooks: WebhooksConfig;
  store: EventStore | undefined;
  log: Log;
  limits: ListenerTimeouts;
  sources: Map<string, { source: WebhookSource; verify: Verifier }>;
  count: (source: string, outcome: string, n?: number) => void;
  refuse: (req: Request, res: Response, refusal: Refusal) => void;
  refuseTooLarge: (req: Request, res: Response, source: WebhookSource | undefined) => void;
  infoAMinute: Throttled;
  storeWarning: Throttled;
  notStored: (source: string) => string;
  unconfirmedWarning: Throttled;
  /** A setting as the log names it: where it was given (webhooks.maxConnectionsPerClient). */
  named: (path: `webhooks.${keyof typeof webhookSettings}`) => string;
  /**
   * Said when a delivery was not stored for the store's own failure, for /healthz: `full` when the
   * store takes no writes at all (a full disk), else for a while (a lock another program holds);
   * `bytes`, the delivery's size, for /healthz's own write to stand for it; the source and delivery
   * id, so that a delivery sent again meanwhile is told from another.
   */
  storeFailed: (full: boolean, bytes: number, source: string, id: string) => void;
  storeAnswers: () => void;
}

/**
 * Whether the store's failure is a bug in waiter's own code (a property read of undefined), which
 * JavaScript throws as these, rather than one of its database (a corrupt file, a lost connection).
 */
function isFaultInWaiter(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
}

/**
 * Mounts /webhooks/<source>: a delivery from its bytes to its answer (the source, the body's
 * bounds, the signature, the store), and the 405 for a method its source does not deliver with.
 */
export function mountDeliveries(
  app: express.Express,
  {
    webhooks,
    store,
    log,
    limits,
    sources,
    count,
    refuse,
    refuseTooLarge,
    infoAMinute,
    storeWarning,
    notStored,
    unconfirmedWarning,
    named,
    storeFailed,
    storeAnswers,
  }: DeliveryParts,
): void {
  const storedAlready = store && retryLookups(store, limits.storeLookupMs);
  const secrets = secretWatch(log, async (source) => {
    const [last] = store ? await store.list({ source }, { limit: 1, bodies: false }) : [];
    return last && Date.parse(last.receivedAt);
  });

  // The warnings of an outage of a source's gateway's API end with a line saying it is over.
  const confirmedAgain = (source: string) => {
    const unconfirmed = unconfirmedWarning.endAll(`${source}\n`);
    if (!unconfirmed) return;
    const { count, seconds } = unconfirmed;
    log.warning(
      `webhook ${source}: notifications are confirmed again after ${seconds} s; ${count} not confirmed meanwhile ${count === 1 ? "was" : "were"} answered 503, for the sender to send again`,
    );
  };

  /** Whether `json` nests too deep to be stored, refused if so: the same again on every retry of it. */
  const refusedDeep = (req: Request, res: Response, source: WebhookSource, json: Buffer) => {
    if (!pastBound(json, { depth: MAX_PAYLOAD_DEPTH })) return false;
    const error = `the payload nests arrays and objects more than ${MAX_PAYLOAD_DEPTH} levels deep, past what waiter reads back`;
    refuse(req, res, {
      status: 400,
      reason: "nested too deep",
      error,
      said: `${error}; answered so that Svix and Slack send it no more, and refused the same each time another sender sends it again, as no provider's event nests so deep`,
      source,
      sameEachRetry: true,
    });
    return true;
  };

  /** The source the path names, set on res.locals for the handlers after it, or the 404 if none is. */
  const known = (req: Request, res: Response, next: NextFunction) => {
    const name = String(req.params.source);
    const entry = sources.get(name);
    if (!entry) {
      // A renamed source, or a provider set up with the wrong case, is heard of: a line a minute for
      // each address, and one for each source a path misspells, so that a stranger's scan hides no
      // provider's mistyped URL. The answer, which anyone may ask for and the provider's delivery log
      // shows, names the one path meant: what a POST to it would show anyway (401, not 404), and
      // nothing of the sources not near the name.
      const meant = meantKey(name, [...sources.keys()]);
      const guess = meant ? `; did you mean ${meant}?` : "";
      const path = meant ? `; did you mean ${publicPath(webhooks.publicUrl)}/webhooks/${meant}?` : "";
      // Counted under the source meant, whose counts are where its sender's setup is checked.
      if (meant) count(meant, `rejected:${MISSPELT_PATH}`);
      refuse(req, res, {
        status: 404,
        reason: meant ? `unknown source near ${meant}` : "unknown source",
        error: `unknown webhook source "${req.params.source}"${path}`,
        said: `no source is named ${quote(name)}${guess} (the sources: ${[...sources.keys()].join(", ") || "none"})`,
      });
      return;
    }
    res.locals.entry = entry;
    next();
  };

  // With the defaults a client's share is three tenths, 19.2 MiB: the share of the budget that it
  // may hold of the connections. A real sender's body is held only while it arrives and is stored,
  // milliseconds, so a burst of three hundred 64 KiB deliveries in flight at once, or nineteen of
  // 1 MiB, still fits in that; behind a proxy, where every sender is the proxy, raising
  // maxConnectionsPerClient raises the share with it. Never less than one largest body.
  const bodies = new HeldBodies(
    limits.maxHeldBytes,
    Math.max(
      webhooks.maxBodyBytes,
      Math.floor(limits.maxHeldBytes * Math.min(1, webhooks.maxConnectionsPerClient / webhooks.maxConnections)),
    ),
  );
  const busyWarning = throttled((line) => log.warning(line));

  /** The 503 to a body past the budgets: past `client`'s share of them, or past the whole. */
  const refuseBusy = (req: Request, res: Response, source: WebhookSource, client: string, more = 0) => {
    res.set("retry-after", "5");
    // A 503 brings no retry from a sender that never sends a delivery again: this one is lost.
    const lost = notSentAgain(req, source);
    if (lost) {
      busyWarning(
        `webhook ${source.name} delivery not stored, answered 503 as the listener is busy (${lost})`,
        `${source.name}\nbusy`,
      );
    }
    if (bodies.pastShare(client, more)) {
      count(source.name, "rejected:client busy");
      busyWarning(
        `webhook listener: ${client} holds its share of the bodies being read at once (${bodies.share} bytes); refusing more of its bodies with 503 until some are answered (a reverse proxy's address holds every sender's: raise ${named("webhooks.maxConnectionsPerClient")}, which sets the share)`,
        "client",
      );
      answerUnread(
        req,
        res,
        503,
        "too many webhook bodies from this client are being read at once; retry later",
        limits,
      );
      return;
    }
    count(source.name, "rejected:busy");
    busyWarning(
      `webhook listener: ${limits.maxHeldBytes} bytes of bodies are being read at once; refusing more with 503 until some are answered`,
    );
    answerUnread(req, res, 503, "too many webhook bodies are being read at once; retry later", limits);
  };

  const refuseTooSlow = (req: Request, res: Response, source: WebhookSource) =>
    refuse(req, res, {
      status: 408,
      reason: "body too slow",
      error: `body arrived slower than ${limits.minBodyBytesPerSecond} bytes/s after ${limits.bodyGraceMs / 1000} s`,
      source,
    });

  // Sizes and pace are checked as the body comes, so a lying Content-Length or a trickle is
  // answered at once instead of after reading (or waiting for) the whole body.
  const bodyLimits = (req: Request, res: Response, next: NextFunction) => {
    const { source } = res.locals.entry as { source: WebhookSource };
    const maxBytes = bodyLimit(webhooks, source);
    const declared = Number(req.headers["content-length"]) || 0;
    if (declared > maxBytes) {
      refuseTooLarge(req, res, source);
      return;
    }
    // What this request holds of the budgets, given back once its answer is done.
    const client = clientOf(req.socket);
    let mine = 0;
    res.once("close", () => bodies.giveBack(client, mine));
    const hold = (bytes: number) => {
      mine += bytes;
      return bodies.hold(client, bytes);
    };
    const busy = () => refuseBusy(req, res, source, client);
    if (req.complete) {
      // Read whole already, before this handler ran: it holds its bytes too.
      if (req.readableLength > maxBytes) {
        refuseTooLarge(req, res, source);
        return;
      }
      if (!hold(req.readableLength)) {
        busy();
        return;
      }
    } else {
      // Asked for by a sender that waits for it before its body (see startListener); an encoded
      // body gets its 415 instead, from the body's reader, and one past the budgets its 503 now.
      const invited = awaitingContinue.has(req) && !encoded(req);
      if (invited && !bodies.fits(client, declared)) {
        refuseBusy(req, res, source, client, declared);
        return;
      }
      const stop = watchBody(req, limits, {
        maxBytes,
        tooLarge: () => refuseTooLarge(req, res, source),
        hold,
        busy,
        tooSlow: () => refuseTooSlow(req, res, source),
      });
      res.once("close", stop);
      if (invited) res.writeContinue();
    }
    next();
  };
  // Never inflated: the signature covers the bytes as sent, so an encoded body is refused (415).
  const raw = express.raw({ type: () => true, limit: webhooks.maxBodyBytes, inflate: false });

  /** The warning that `what` was taken by the first of a header's differing copies, which it names. */
  const tookFirstCopy = (source: WebhookSource, what: string, differing: string[]) =>
    `webhook ${source.name} took ${what} reading the first of the differing copies of ${differing.join(" and ")}: something on the way (a proxy, a tunnel) sends it again after its sender's, and the signature does not cover it: have it pass the sender's header on once`;
  // Of a source whose idHeader its sender repeats: a line a minute for each source.
  const idReusedWarning = throttled((line) => log.warning(line));
  // Of a signed ping, which anyone may replay (GitHub's carries no time): a line a minute for each source.
  const pingWarning = throttled((line) => log.warning(line));

  /**
   * The answer to a verdict that stores nothing: the 401 of a check that failed, the 503 of a
   * delivery its sender's API could not confirm yet, the 204 of an endpoint-verification
   * challenge, or the 200 of a sender's ping.
   */
  const answerUnaccepted = (
    req: Request,
    res: Response,
    source: WebhookSource,
    verdict: Exclude<Verdict, { kind: "accept" }>,
    receivedAt: number,
  ) => {
    if (verdict.kind === "reject") {
      const noneOnly = takenByNoneOnly(req, source, verdict.reason);
      // WooCommerce's ping at a source of another scheme, which refuses it as any request unsigned.
      const wooPing =
        !noneOnly && source.scheme !== "woocommerce" && Buffer.isBuffer(req.body) && isWooCommercePing(req.body)
          ? WOOCOMMERCE_PING
          : undefined;
      const named = noneOnly ?? wooPing;
      // Slack's headers with a signature the source's secret makes neither way: Slack's with another secret, or a relay's.
      // A mismatch in another header than Slack's is no delivery of Slack's, whatever headers it passes on.
      const slackOrRelay =
        !noneOnly &&
        isMismatch(verdict.reason) &&
        source.scheme === "hmac-sha256" &&
        source.header.toLowerCase() === "x-slack-signature" &&
        Buffer.isBuffer(req.body) &&
        signedAsSlack(req.headers, req.body)
          ? SLACK_HEADERS_MISMATCH
          : undefined;
      refuse(req, res, {
        status: 401,
        reason: named ?? slackOrRelay ?? verdict.reason,
        error: verdict.reason,
        said:
          named !== undefined
            ? `${verdict.reason}: it is ${named}, and ${refusalCause(named, source)}`
            : withCause({ ...verdict, reason: slackOrRelay ?? verdict.reason }, source),
        source,
      });
      if (isMismatch(verdict.reason) && !noneOnly) secrets.mismatched(source, receivedAt, verdict.reason);
      return;
    }
    if (verdict.kind === "unavailable") {
      count(source.name, "rejected:not confirmed yet");
      // Keyed by the reason's own words before any quoted from the gateway: each kind its line.
      const kind = verdict.reason.split(":")[0] ?? "";
      unconfirmedWarning(
        `webhook ${source.name} not stored, the sender will retry: ${verdict.reason}`,
        `${source.name}\n${kind}`,
      );
      res.status(503).set("retry-after", "60").json({ error: "could not be confirmed now; retry later" });
      return;
    }
    // A sender's handshake, no event.
    count(source.name, "ping");
    if (verdict.kind === "echo") {
      if (verdict.asText) {
        infoAMinute(
          `webhook ${source.name}: ${verdict.sender}'s validation of the notification URL, answered with its validationToken, not stored`,
          `${source.name}\necho\n${verdict.sender}`,
        );
        // As text its sender reads whole: a page that opens the URL must not take it for HTML.
        res.status(200).type("text/plain").set("x-content-type-options", "nosniff").send(verdict.challenge);
        return;
      }
      infoAMinute(
        `webhook ${source.name}: ${verdict.sender}'s URL verification, answered with its challenge, not stored`,
        `${source.name}\necho\n${verdict.sender}`,
      );
      res.status(200).json({ challenge: verdict.challenge });
      return;
    }
    if (verdict.kind === "challenge") {
      // Anyone may post one: a line a minute for each source.
      infoAMinute(
        `webhook ${source.name} endpoint-verification challenge: answered in webhook-challenge-response with the source's secret, not stored`,
        `${source.name}\nchallenge`,
      );
      res.status(204).set("webhook-challenge-response", verdict.response).end();
      return;
    }
    if (verdict.signed) secrets.verified(source, receivedAt);
    // Anyone may post an unsigned ping, and replay a signed one (GitHub's carries no time): a line
    // a minute for each source.
    const shown = verdict.id === undefined ? "" : ` ${withEscapes(JSON.stringify(verdict.id))}`;
    if (verdict.differing)
      pingWarning(tookFirstCopy(source, `${verdict.sender}'s test delivery${shown}`, verdict.differing), source.name);
    const delivery = shown && `, delivery${shown}`;
    infoAMinute(
      `webhook ${source.name} ping${delivery}: ${verdict.sender}'s test delivery, ${verdict.signed ? "verified" : `unsigned as ${verdict.sender} sends it`}, not stored`,
      `${source.name}\nping`,
    );
    res.status(200).json({ ok: true });
  };

  /** Whether the delivery `id` is no text a store keeps as sent, refused if so. */
  const refusedBadId = (req: Request, res: Response, source: WebhookSource, id: string) => {
    const error = badIdReason(id);
    if (!error) return false;
    refuse(req, res, { status: 400, reason: "bad delivery id", error, source, sameEachRetry: true });
    return true;
  };

  /**
   * The 503 to a delivery the store did not commit, so that its sender tries again later: counted,
   * and logged with the delivery id, as a run of the store's failures or as a fault in waiter.
   */
  const answerNotStored = (
    res: Response,
    source: WebhookSource,
    { id, delivery }: { id: string; delivery: string },
    receivedAt: number,
    bytes: number,
    err: unknown,
  ) => {
    // Not known to repeat a stored one: taken for a delivery its sender signed now.
    secrets.verified(source, receivedAt);
    // The event was not committed: a 503 tells the sender to try again later, unless the connection
    // closed while the store had not answered (a stop's drain time cut it, or the sender gave up).
    const answered = res.req.socket.destroyed ? "its connection closed before an answer" : "answered 503";
    const lost = `webhook ${source.name} delivery ${delivery} not stored, ${answered} (${NOT_SENT_AGAIN[source.scheme]?.what ?? "a sender that retries sends it again"})`;
    count(source.name, isFaultInWaiter(err) ? "rejected:failed in waiter" : NOT_STORED);
    if (err instanceof ToolError) {
      storeFailed(err instanceof StoreNotWritable, bytes, source.name, id);
      storeWarning(`${lost}: ${err.logged ?? err.message}`, notStored(source.name));
    } else {
      // A failure of the database the store does not name (a corrupt file), or a fault in waiter's
      // code: its stack is wanted, with the delivery to send again, not one of the store's runs.
      log.fault(lost, err);
    }
    res.status(503).set("retry-after", "5").json({ error: "event not stored; retry later" });
  };

  /** The 200 to a delivery the store committed, or found it holds already, and its line in the log. */
  const answerStored = (
    res: Response,
    source: WebhookSource,
    { id, duplicate, dropped }: Added,
    type: string,
    delivery: string,
    receivedAt: number,
  ) => {
    // A repeat verifies with the secret it was signed with when first stored: it says nothing of
    // the secret its sender signs with now.
    if (!duplicate) secrets.verified(source, receivedAt);
    // The type and the delivery id are the sender's text: quoted, so a line cannot be forged. A
    // repeat is anyone's who kept a signed delivery (Shopify's and WooCommerce's carry no time):
    // a line a minute for each source.
    if (duplicate) {
      const gone = dropped ? ", which retention has dropped since; not stored again" : "";
      infoAMinute(`webhook ${source.name} delivery ${delivery} again: already stored as ${id}${gone}`, source.name);
    } else if (res.req.socket.destroyed) {
      // Its sender's delivery log shows a failure (toward disabling the endpoint), not this event:
      // it gave up waiting, or a stop's drain time cut the connection.
      log.warning(
        `webhook ${source.name} stored ${id}: type ${JSON.stringify(type)}, delivery ${delivery}, after its connection closed before an answer: its sender counts the delivery as failed, and one it sends again is answered as a repeat`,
      );
    } else {
      log.info(`webhook ${source.name} stored ${id}: type ${JSON.stringify(type)}, delivery ${delivery}`);
    }
    res.json({ id, duplicate });
  };

  /**
   * A delivery once its body is read: checked for depth, verified, stored, and answered with the
   * event's id, or refused with what failed.
   */
  const receive = async (req: Request, res: Response) => {
    // A body refused while it came (too large, too slow) has had its answer.
    if (res.headersSent) return;
    if (!store) {
      res
        .status(503)
        .set("retry-after", "60")
        .json({ error: "the event store is not available; the server's log says why" });
      return;
    }
    const { source, verify } = res.locals.entry as { source: WebhookSource; verify: Verifier };
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // Before a verifier parses it: an unsigned source's body is anyone's.
    if (refusedDeep(req, res, source, body)) return;
    const receivedAt = clock.now();
    const verdict = await verify({ headers: req.headers, body, url: req.originalUrl, now: receivedAt });
    if (verdict.kind !== "accept") {
      answerUnaccepted(req, res, source, verdict, receivedAt);
      return;
    }
    confirmedAgain(source.name);
    if (refusedBadId(req, res, source, verdict.id)) return;
    const stored = verdict.payload ?? body;
    // A payload the verifier found in the body (a GitHub form's JSON) is read only now.
    if (verdict.payload && refusedDeep(req, res, source, verdict.payload)) return;
    const type = cleanType(verdict.type);
    // Whole, as the sender's dashboard finds it, yet escaped: its lines reach a client that asks too.
    const shown = (id: string) => withEscapes(JSON.stringify(id));
    const delivery = `${shown(verdict.id)}${verdict.sendersId ? ` (${verdict.sendersId.sender}'s delivery ID ${shown(verdict.sendersId.id)})` : ""}`;
    let added: Added;
    const event = {
      source: source.name,
      type,
      scheme: source.scheme,
      dedupeId: verdict.id,
      ...(verdict.formerId ? { formerDedupeId: verdict.formerId } : {}),
      headers: keptHeaders(req.headers, source, verdict.payload === undefined),
      body: stored,
      isJson: parseBody(stored) !== undefined,
      receivedAt,
    };
    // A sender may put its webhook's id in the header, not each delivery's: a repeat whose body
    // differs is another delivery, not a retry. Where retention dropped the event stored under the
    // id, its body is gone, and its digest tells; where the store kept none (dropped by an older
    // waiter), a repeat is another delivery once the source's sender is known to reuse ids.
    const anotherDelivery = async ({ id, dropped, digest }: Added) => {
      if (!verdict.idHeader) return false;
      if (dropped && digest !== undefined) return digest !== bodyDigest(stored);
      if (dropped) return ((await store.counters())[source.name]?.[ID_REUSED] ?? 0) > 0;
      // Byte for byte: as text, bytes that are not UTF-8 (a windows-1252 body) all read as U+FFFD.
      const kept = await store.storedBody(id);
      return kept !== undefined && !kept.equals(stored);
    };
    let rekeyed = false;
    try {
      added = await store.add(event);
      // The store counted it a duplicate: a delivery not known to be one is answered as not stored alone.
      const unsure = (err: unknown) => {
        count(source.name, "duplicate", -1);
        throw err;
      };
      if (added.duplicate && (await anotherDelivery(added).catch(unsure))) {
        const first = added;
        // The store counted it a duplicate: it is counted as what its own add makes it.
        rekeyed = true;
        count(source.name, "duplicate", -1);
        added = await store.add({ ...event, dedupeId: `${verdict.id} ${bodyDigest(stored)}` });
        // A dropped one's body known by its digest alone, its sender is found reusing ids as surely.
        if (!added.duplicate && (!first.dropped || first.digest !== undefined)) {
          count(source.name, ID_REUSED);
          const beside = first.dropped ? `${first.id}, which retention has dropped since` : first.id;
          idReusedWarning(
            `webhook ${source.name} stored ${added.id}: delivery ${delivery} came again with another body, so ${verdict.idHeader} names no single delivery: its sender puts the same id on different deliveries (a webhook's id, not a delivery's); stored as an event of its own beside ${beside}, keyed on the id and the body. Set the source's idHeader to a header its sender changes for each delivery, or remove it to key each delivery on its body`,
            source.name,
          );
        }
      }
    } catch (err) {
      // A retry of a delivery stored before the store stopped taking writes (a full disk, a write
      // lock another program holds) has its answer still, where the store can be read: a 503 would
      // have it sent again and again. Not asked of a store out of reach, whose 503 would wait for it twice.
      const stillRead = !rekeyed && (err instanceof StoreNotWritable || err instanceof StoreBusy);
      let kept = stillRead ? await storedAlready?.(source, verdict) : undefined;
      // Not one whose body differs from what its idHeader's id was stored with: another delivery,
      // unless stored already on its own, keyed on the id and the body.
      if (kept && (await anotherDelivery(kept).catch(() => true))) {
        kept = await storedAlready?.(source, { id: `${verdict.id} ${bodyDigest(stored)}` });
      }
      if (kept) {
        // Counted here: the store counts a duplicate within its write, which it refused.
        count(source.name, "duplicate");
        answerStored(res, source, kept, type, delivery, receivedAt);
      } else answerNotStored(res, source, { id: verdict.id, delivery }, receivedAt, stored.length, err);
      return;
    }
    storeAnswers();
    if (verdict.differing) log.warning(tookFirstCopy(source, delivery, verdict.differing));
    answerStored(res, source, added, type, delivery, receivedAt);
  };

  /**
   * A GET to a source that delivers with GETs (GoPay) is received; one to an unsigned source is the
   * check of a sender that GETs the URL before it saves a webhook there (Mailchimp, which saves none
   * its GET was not answered 2xx); any other passes to the 405.
   */
  const receiveGet = (req: Request, res: Response, next: NextFunction) => {
    const { source } = res.locals.entry as { source: WebhookSource };
    const validation = source.scheme === "none" ? graphValidation(req.originalUrl) : undefined;
    if (validation) {
      answerUnaccepted(req, res, source, validation, clock.now());
      return;
    }
    if (CHECKED_WITH_GET.has(source.scheme)) {
      count(source.name, "ping");
      infoAMinute(
        `webhook ${source.name}: a ${req.method} from ${clientOf(req.socket)} answered 200, as a sender that checks the URL before it posts (Mailchimp) asks; stored nothing`,
        `${source.name}\nchecked`,
      );
      res.status(200).json({
        ok: true,
        note: `${source.name}'s webhooks are POSTed here; a GET is answered 200 for senders that check the URL with one`,
      });
      return;
    }
    if (deliveredBy(source) !== "GET") {
      next();
      return;
    }
    void receive(req, res).catch(next);
  };

  /** The 405 to a method the source does not deliver with, naming the ones it does. */
  const wrongMethod = (req: Request, res: Response) => {
    const { source } = res.locals.entry as { source: WebhookSource };
    const method = deliveredBy(source);
    res.set("allow", method === "GET" || CHECKED_WITH_GET.has(source.scheme) ? "GET, HEAD, POST" : "POST");
    const error = `${source.name}'s webhooks are ${method === "GET" ? "GETs" : "POSTed"}`;
    refuse(req, res, {
      status: 405,
      reason: "wrong method",
      error,
      said: `${/^[AEIOU]/.test(req.method) ? "an" : "a"} ${req.method}; ${error}${source.scheme === "hmac-sha256" && (req.method === "GET" || req.method === "HEAD") ? CHECKED_AT_HMAC : ""}`,
      source,
    });
  };

  app.post("/webhooks/:source", known, bodyLimits, raw, receive);
  // A HEAD reaches GET routes too, and is answered as its GET without the body (RFC 9110 9.3.2), as
  // /healthz is: for GoPay, the payment is looked up and stored, once however often it is notified.
  app.get("/webhooks/:source", known, receiveGet);
  app.all("/webhooks/:source", known, wrongMethod);
}
