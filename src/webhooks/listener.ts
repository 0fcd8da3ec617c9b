import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import { ToolError } from "../errors.js";
import { type Added, type EventStore, StoreNotWritable, type StoreStats } from "../events/store.js";
import type { HttpClient } from "../http/client.js";
import { untilAborted } from "../http/deadline.js";
import { pastBound } from "../json.js";
import { type Log, throttled } from "../log.js";
import { quote, withEscapes } from "../shown.js";
import { clock } from "../time.js";
import { boundedCounts } from "./counts.js";
import { requestGuard } from "./hosts.js";
import { capConnectionsPerClient, clientOf, DEFAULT_TIMEOUTS, type ListenerTimeouts, watchBody } from "./limits.js";
import { secretWatch, withCause } from "./secrets.js";
import { deliveredBy, type WebhookSource, type WebhooksConfig } from "./settings.js";
import { parseBody, type Verifier, verifierFor } from "./verifiers/index.js";

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
const ASKED_OF_THEIR_API = new Set<WebhookSource["scheme"]>(["comgate", "gopay"]);

/**
 * Senders whose deliveries are small forms that their verifier must parse before anything can be
 * checked: a body past this is refused before it is read whole, as a stranger's megabyte of form
 * fields would cost the event loop hundreds of milliseconds to parse. Comgate's notification is
 * some thirty short fields (ids, an amount, an email, a name and an address), about a kilobyte.
 */
const SMALL_DELIVERIES: Partial<Record<WebhookSource["scheme"], { maxBytes: number; what: string }>> = {
  comgate: { maxBytes: 8 * 1024, what: "a Comgate notification" },
};

/**
 * The deepest a payload may nest arrays and objects. lossless-json, which reads payloads back for
 * events_get and its fields, runs out of stack a few thousand levels down, and parsing a deep
 * megabyte holds every other request for half a second; no provider's event nests past a dozen.
 */
const MAX_PAYLOAD_DEPTH = 512;

/** The largest body a source takes: webhooks.maxBodyBytes, or less for a sender whose deliveries are small. */
function bodyLimit(webhooks: Pick<WebhooksConfig, "maxBodyBytes">, source: WebhookSource | undefined): number {
  const small = source && SMALL_DELIVERIES[source.scheme];
  return Math.min(webhooks.maxBodyBytes, small?.maxBytes ?? Number.POSITIVE_INFINITY);
}

/** What to do about a delivery not stored, for the senders that never send one again. */
const NOT_SENT_AGAIN: Partial<Record<WebhookSource["scheme"], string>> = {
  github: "GitHub does not send it again: redeliver it from the webhook's Recent Deliveries",
  woocommerce: "WooCommerce does not send it again: find it in WooCommerce → Status → Logs",
};

function keptHeaders(headers: IncomingHttpHeaders, source: WebhookSource): Record<string, string> {
  if (ASKED_OF_THEIR_API.has(source.scheme)) return {};
  const own = PROVIDER_HEADERS[source.scheme];
  const extra = new Set(
    "idHeader" in source ? [source.idHeader, source.typeHeader].filter(Boolean).map((h) => h?.toLowerCase()) : [],
  );
  const signature = source.scheme === "hmac-sha256" ? source.header.toLowerCase() : undefined;
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || SIGNATURE_HEADERS.has(name) || name === signature) continue;
    // Shopify sends each header under its new name and, for now, its legacy X- one: kept once, new.
    if (source.scheme === "shopify" && name.startsWith("x-") && headers[name.slice(2)] !== undefined) continue;
    if (name === "content-type" || name === "user-agent" || own?.test(name) || extra.has(name)) {
      kept[name] = Array.isArray(value) ? value.join(", ") : value;
    }
  }
  return kept;
}

/**
 * A type as shown to a model: one line of at most 100 plain characters. For some schemes it is
 * the payload's own word, which a stranger could fill with newlines and instructions.
 */
export function cleanType(type: string): string {
  const line = type
    .replace(/[^\x20-\x7e]+/g, " ")
    .trim()
    .slice(0, 100);
  return line || "unknown";
}

/** Which waiter runs a listener: an assistant's (stdio), waiter listen or waiter serve. */
export type ListenerMode = "stdio" | "listen" | "serve";

export interface ListenerParts {
  webhooks: WebhooksConfig;
  /** Which waiter listens, said in /healthz: another assistant's waiter takes the port of a stdio one that stops. */
  mode: ListenerMode;
  /** Where events are committed; without one (no sources configured) no webhook is taken. */
  store: EventStore | undefined;
  /** For the schemes that ask the sender's API before storing (Comgate). */
  http?: HttpClient;
  log: Log;
  /** More routes on the same address, behind the same Host and Origin checks (MCP, in `waiter serve`). */
  routes?: (app: express.Express) => void;
  /** True once the listener is stopping: answers then close their connections. */
  stopping?: () => boolean;
  /** Bounds on slow clients; the defaults suit production, tests pick shorter ones. */
  timeouts?: Partial<ListenerTimeouts>;
  /** How long requests in flight may take to finish once the listener stops (WAITER_STOP_SECONDS). */
  drainMs: number;
  /** Run when the drain time is out, before the connections still open are cut: their last answers. */
  beforeCut?: () => Promise<void>;
}

/** An answer to a request whose body may still be coming: the connection closes rather than read it. */
function answerUnread(req: Request, res: Response, status: number, error: string): void {
  if (!req.complete) res.set("connection", "close");
  res.status(status).json({ error });
}

/** How long /healthz waits for the store's figures. */
const HEALTH_STORE_MS = 500;

/**
 * The webhook listener: POST /webhooks/<source> reads the raw bytes, verifies them with the
 * source's scheme, commits the event, and only then answers 2xx. A failed check is a 4xx with
 * the check's name, never a 5xx (that would make the sender retry forever). `writeHeldCounts`
 * writes the counts still held once no more requests come.
 */
export function listenerApp({ webhooks, mode, store, http, log, stopping, timeouts, routes }: ListenerParts): {
  app: express.Express;
  writeHeldCounts: () => void;
} {
  const limits = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const sources = new Map<string, { source: WebhookSource; verify: Verifier }>(
    webhooks.sources.map((source) => [source.name, { source, verify: verifierFor(source, http) }]),
  );
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  if (stopping) {
    // Once stopping, every answer, even to a request that began before, closes its connection:
    // a kept-alive socket brings no new request. app.response is this app's own prototype of
    // its responses, so this is set once, not per request.
    const writeHead = app.response.writeHead;
    app.response.writeHead = function (this: Response, ...args: Parameters<typeof writeHead>) {
      if (stopping()) this.setHeader("connection", "close");
      return writeHead.apply(this, args);
    } as typeof writeHead;
  }

  // A line a minute for each key: a source and reason refused, or a source's repeats.
  const infoAMinute = throttled((line) => log.info(line));
  const secrets = secretWatch(log, async (source) => {
    const [last] = store ? await store.list({ source }, { limit: 1, bodies: false }) : [];
    return last && Date.parse(last.receivedAt);
  });
  // A store that is away or full refuses every delivery: a line a minute says so, not one each,
  // for each kind of failure, so that none hides another: a source's deliveries not stored (each
  // line names one to send again), requests not counted, /healthz; and a line says when it answers
  // again, with how many deliveries of each source it did not store.
  const storeWarning = throttled((line) => log.warning(line));
  const NOT_COUNTED = "\nnot counted";
  const HEALTH = "\n/healthz";
  const notStored = (source: string) => `${source}\nnot stored`;
  // Whether the last delivery could not be stored because the store takes no writes (a full
  // disk), none stored since: /healthz answers 503 then, though the store can be read, so a
  // health check hears what deliveries get.
  let unwritable = false;
  const storeAnswers = () => {
    unwritable = false;
    const lost = [...sources.keys()].flatMap((source) => {
      const run = storeWarning.end(notStored(source));
      return run ? [{ source, ...run }] : [];
    });
    const firsts = [...[NOT_COUNTED, HEALTH].map((key) => storeWarning.end(key)), ...lost].flatMap((run) =>
      run ? [run.first] : [],
    );
    if (firsts.length === 0) return;
    const seconds = Math.round((clock.now() - Math.min(...firsts)) / 1000);
    log.warning(
      `webhook listener: the event store answers again after ${seconds} s; ${
        lost.length > 0
          ? `deliveries it did not store meanwhile (each answered 503): ${lost.map(({ source, count }) => `${count} from ${source}`).join(", ")}`
          : "every delivery meanwhile was stored"
      }`,
    );
  };
  // So does a gateway's API that is down, and a stranger's flood past a GoPay source's bound on
  // lookups: a line a minute for each source and kind of reason.
  const unconfirmedWarning = throttled((line) => log.warning(line));

  // Counting is bookkeeping: a store too busy to count must not turn a 401 into a 5xx. Its
  // failures are the store's, said with theirs: every request counts, a stranger's too.
  const { count, writeHeldCounts } = boundedCounts(store, (source, outcome, n, err) =>
    storeWarning(
      `webhook ${source}: ${n === 1 ? "a request" : `${n} requests`} not counted (${outcome}): ${err instanceof Error ? err.message : err}`,
      NOT_COUNTED,
    ),
  );

  /**
   * Every refusal: answered `status` with `error`, counted under rejected:<reason> for the source
   * its path names, and said at info (`said`, else the error), a line a minute for each source and
   * reason saying how many like it were left out since: a stranger's flood of forgeries must not
   * flood the log nor hide another reason, and a sender refused for its size or method is heard of.
   */
  const refuse = (
    req: Request,
    res: Response,
    refusal: { status: number; reason: string; error?: string; said?: string; source?: string | undefined },
  ) => {
    const { status, reason, error = reason, said = error, source } = refusal;
    if (source) count(source, `rejected:${reason}`);
    infoAMinute(
      `${source ? `webhook ${source} rejected` : `webhook listener refused ${req.method} ${quote(req.path)}`}: ${said}`,
      `${source ?? ""}\n${reason}`,
    );
    answerUnread(req, res, status, error);
  };
  const refuseTooLarge = (req: Request, res: Response, source: WebhookSource | undefined) => {
    const declared = Number(req.headers["content-length"]);
    const limit = bodyLimit(webhooks, source);
    // Past a small sender's own bound, raising the setting would not help: no delivery of its is that large.
    const small = limit < webhooks.maxBodyBytes ? source && SMALL_DELIVERIES[source.scheme] : undefined;
    const error = `body larger than ${limit} bytes${small ? `, more than ${small.what} holds` : ""}`;
    refuse(req, res, {
      status: 413,
      reason: "body too large",
      error,
      said: `${error}${declared > 0 ? ` (Content-Length ${declared})` : ""}${small ? "" : ": if its sender's deliveries are this large, raise webhooks.maxBodyBytes (WAITER_WEBHOOKS_MAX_BODY_BYTES)"}`,
      source: source?.name,
    });
  };

  /** Whether `json` nests too deep to be stored, refused if so: the same again on every retry of it. */
  const refusedDeep = (req: Request, res: Response, source: WebhookSource, json: Buffer) => {
    if (!pastBound(json, { depth: MAX_PAYLOAD_DEPTH })) return false;
    const error = `the payload nests arrays and objects more than ${MAX_PAYLOAD_DEPTH} levels deep, past what waiter reads back`;
    refuse(req, res, {
      status: 400,
      reason: "nested too deep",
      error,
      said: `${error}; refused the same each time it is sent again, as no provider's event nests so deep`,
      source: source.name,
    });
    return true;
  };

  const guard = requestGuard(webhooks);
  app.use((req, res, next) => {
    const refusal = guard(req.headers, req.socket.localPort ?? 0, req.path);
    if (!refusal) {
      next();
      return;
    }
    const named = /^\/webhooks\/([^/]+)\/?$/.exec(req.path)?.[1];
    // A forgotten publicUrl behind a proxy refuses every delivery: said.
    refuse(req, res, {
      status: 403,
      reason: refusal.reason,
      error: refusal.message,
      said: refusal.message.replace(/^refused: /, ""),
      source: named && sources.has(named) ? named : undefined,
    });
  });

  app.get("/healthz", async (req, res, next) => {
    // At this one spelling: a proxy that keeps /healthz from the internet keeps it all (express
    // would also answer /HEALTHZ and /healthz/).
    if (req.path !== "/healthz") {
      next();
      return;
    }
    let stats: StoreStats | undefined;
    try {
      stats = store && (await untilAborted(store.stats(), AbortSignal.timeout(HEALTH_STORE_MS)));
    } catch (err) {
      // Unhealthy while the store cannot be read: a load balancer sends deliveries elsewhere.
      // A database that does not answer is not waited for: a health check, or another waiter
      // asking who holds the port, hears at once.
      const silent = err instanceof DOMException && err.name === "TimeoutError";
      storeWarning(
        `webhook listener: /healthz: ${silent ? `the event store did not answer within ${HEALTH_STORE_MS} ms` : err instanceof Error ? err.message : err}`,
        HEALTH,
      );
      res
        .status(503)
        .json({ status: silent ? "store not answering" : "store unavailable", mode, sources: [...sources.keys()] });
      return;
    }
    if (unwritable) {
      // A load balancer that finds this waiter unhealthy sends it no delivery that could show the
      // store takes writes again: a write that adds nothing to a count shows it instead.
      const [source] = sources.keys();
      try {
        if (store && source) {
          await untilAborted(store.count(source, "accepted", 0), AbortSignal.timeout(HEALTH_STORE_MS));
        }
      } catch {
        res.status(503).json({ status: "store not writable", mode, sources: [...sources.keys()], store: stats });
        return;
      }
    }
    storeAnswers();
    res.json({ status: "ok", mode, sources: [...sources.keys()], ...(stats ? { store: stats } : {}) });
  });
  routes?.(app);

  const known = (req: Request, res: Response, next: NextFunction) => {
    const entry = sources.get(req.params.source as string);
    if (!entry) {
      // A renamed source, or a provider set up with the wrong case, is heard of: a line a minute in all.
      refuse(req, res, {
        status: 404,
        reason: "unknown source",
        error: `unknown webhook source "${req.params.source}"`,
        said: `no source is named ${quote(String(req.params.source))} (the sources: ${[...sources.keys()].join(", ") || "none"})`,
      });
      return;
    }
    res.locals.entry = entry;
    next();
  };

  // Bodies read and not yet answered, across requests: bounded, so that strangers who send large
  // bodies on many connections cannot make waiter hold more than limits.maxHeldBytes. And per
  // client, so that one who stalls bodies on many connections cannot take all of it and leave
  // every real delivery a 503: a client may hold the share of it that it may hold of the
  // connections (with the defaults a tenth, 6.4 MiB). A real sender's body is held only while it
  // arrives and is stored, milliseconds, so a burst of a hundred 64 KiB deliveries in flight at
  // once, or six of 1 MiB, still fits in that; behind a proxy, where every sender is the proxy,
  // raising maxConnectionsPerClient raises the share with it. Never less than one largest body.
  let held = 0;
  const heldBy = new Map<string, number>();
  const clientShare = Math.max(
    webhooks.maxBodyBytes,
    Math.floor(limits.maxHeldBytes * Math.min(1, webhooks.maxConnectionsPerClient / webhooks.maxConnections)),
  );
  const busyWarning = throttled((line) => log.warning(line));
  // Sizes and pace are checked as the body comes, so a lying Content-Length or a trickle is
  // answered at once instead of after reading (or waiting for) the whole body.
  const bodyLimits = (req: Request, res: Response, next: NextFunction) => {
    const { source } = res.locals.entry as { source: WebhookSource };
    const maxBytes = bodyLimit(webhooks, source);
    if (Number(req.headers["content-length"]) > maxBytes) {
      refuseTooLarge(req, res, source);
      return;
    }
    // What this request holds of the budgets, given back once its answer is done.
    const client = clientOf(req.socket);
    let mine = 0;
    res.once("close", () => {
      held -= mine;
      const left = (heldBy.get(client) ?? 0) - mine;
      if (left > 0) heldBy.set(client, left);
      else heldBy.delete(client);
    });
    const hold = (bytes: number) => {
      mine += bytes;
      held += bytes;
      const clientHeld = (heldBy.get(client) ?? 0) + bytes;
      heldBy.set(client, clientHeld);
      return clientHeld <= clientShare && held <= limits.maxHeldBytes;
    };
    const busy = () => {
      res.set("retry-after", "5");
      if ((heldBy.get(client) ?? 0) > clientShare) {
        count(source.name, "rejected:client busy");
        busyWarning(
          `webhook listener: ${client} holds its share of the bodies being read at once (${clientShare} bytes); refusing more of its bodies with 503 until some are answered (a reverse proxy's address holds every sender's: raise webhooks.maxConnectionsPerClient, which sets the share)`,
          "client",
        );
        answerUnread(req, res, 503, "too many webhook bodies from this client are being read at once; retry later");
        return;
      }
      count(source.name, "rejected:busy");
      busyWarning(
        `webhook listener: ${limits.maxHeldBytes} bytes of bodies are being read at once; refusing more with 503 until some are answered`,
      );
      answerUnread(req, res, 503, "too many webhook bodies are being read at once; retry later");
    };
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
      const stop = watchBody(req, limits, {
        maxBytes,
        tooLarge: () => refuseTooLarge(req, res, source),
        hold,
        busy,
        tooSlow: () =>
          refuse(req, res, {
            status: 408,
            reason: "body too slow",
            error: `body arrived slower than ${limits.minBodyBytesPerSecond} bytes/s after ${limits.bodyGraceMs / 1000} s`,
            source: source.name,
          }),
      });
      res.once("close", stop);
    }
    next();
  };
  // Never inflated: the signature covers the bytes as sent, so an encoded body is refused (415).
  const raw = express.raw({ type: () => true, limit: webhooks.maxBodyBytes, inflate: false });

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
    if (verdict.kind === "reject") {
      refuse(req, res, {
        status: 401,
        reason: verdict.reason,
        said: withCause(verdict.reason, source),
        source: source.name,
      });
      if (verdict.reason === "signature mismatch") secrets.mismatched(source, receivedAt);
      return;
    }
    if (verdict.kind === "unavailable") {
      count(source.name, "rejected:not confirmed yet");
      // Keyed by the reason's own words before any quoted from the gateway: each kind its line.
      const kind = verdict.reason.split(":")[0];
      unconfirmedWarning(
        `webhook ${source.name} not stored, the sender will retry: ${verdict.reason}`,
        `${source.name}\n${kind}`,
      );
      res.status(503).set("retry-after", "60").json({ error: "could not be confirmed now; retry later" });
      return;
    }
    if (verdict.kind === "ping") {
      count(source.name, "ping");
      res.status(200).json({ ok: true });
      return;
    }
    // An id with control characters is no sender's id, and no store must choke on its NUL.
    if (/\p{Cc}/u.test(verdict.id)) {
      refuse(req, res, {
        status: 400,
        reason: "bad delivery id",
        error: "the delivery id holds control characters",
        source: source.name,
      });
      return;
    }
    const stored = verdict.payload ?? body;
    // A payload the verifier found in the body (a GitHub form's JSON) is read only now.
    if (verdict.payload && refusedDeep(req, res, source, verdict.payload)) return;
    const type = cleanType(verdict.type);
    // Whole, as the sender's dashboard finds it, yet escaped: its lines reach a client that asks too.
    const delivery = withEscapes(JSON.stringify(verdict.id));
    let added: Added;
    try {
      added = await store.add({
        source: source.name,
        type,
        scheme: source.scheme,
        dedupeId: verdict.id,
        headers: keptHeaders(req.headers, source),
        body: stored,
        isJson: parseBody(stored) !== undefined,
        receivedAt,
      });
    } catch (err) {
      // Not known to repeat a stored one: taken for a delivery its sender signed now.
      secrets.verified(source, receivedAt);
      // The event was not committed: a 503 tells the sender to try again later.
      const lost = `webhook ${source.name} delivery ${delivery} not stored, answered 503 (${NOT_SENT_AGAIN[source.scheme] ?? "a sender that retries sends it again"})`;
      count(source.name, "rejected:not stored");
      if (err instanceof ToolError) {
        if (err instanceof StoreNotWritable) unwritable = true;
        storeWarning(`${lost}: ${err.message}`, notStored(source.name));
      } else {
        // Anything but the store's own failure (a corrupt file) is a fault whose stack is wanted,
        // with the delivery to send again: it is not one of the store's runs of failures.
        log.error(`${lost}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      res.status(503).set("retry-after", "5").json({ error: "event not stored; retry later" });
      return;
    }
    const { id, duplicate } = added;
    storeAnswers();
    // A repeat verifies with the secret it was signed with when first stored: it says nothing of
    // the secret its sender signs with now.
    if (!duplicate) secrets.verified(source, receivedAt);
    // The type and the delivery id are the sender's text: quoted, so a line cannot be forged. A
    // repeat is anyone's who kept a signed delivery (Shopify's and WooCommerce's carry no time):
    // a line a minute for each source.
    if (duplicate) {
      infoAMinute(`webhook ${source.name} delivery ${delivery} again: already stored as ${id}`, source.name);
    } else {
      log.info(`webhook ${source.name} stored ${id}: type ${JSON.stringify(type)}, delivery ${delivery}`);
    }
    res.status(200).json({ id, duplicate });
  };
  app.post("/webhooks/:source", known, bodyLimits, raw, receive);
  // A HEAD reaches GET routes too, and is answered as its GET without the body (RFC 9110 9.3.2), as
  // /healthz is: for GoPay, the payment is looked up and stored, once however often it is notified.
  app.get("/webhooks/:source", known, (req, res, next) => {
    if (deliveredBy((res.locals.entry as { source: WebhookSource }).source) !== "GET") {
      next();
      return;
    }
    void receive(req, res).catch(next);
  });

  app.all("/webhooks/:source", known, (req, res) => {
    const { source } = res.locals.entry as { source: WebhookSource };
    const method = deliveredBy(source);
    res.set("allow", method === "GET" ? "GET, HEAD, POST" : "POST");
    const error = `${source.name}'s webhooks are ${method === "GET" ? "GETs" : "POSTed"}`;
    refuse(req, res, {
      status: 405,
      reason: "wrong method",
      error,
      said: `a ${req.method}; ${error}`,
      source: source.name,
    });
  });

  // A path nothing serves: a proxy that adds a prefix (/waiter/mcp) or does not take off the one
  // publicUrl has, a client given the host without /mcp. Said with the paths there are, and
  // logged, a line a minute in all; but for the metadata clients look for under /.well-known/,
  // whose 404 they take as an answer.
  const prefix = webhooks.publicUrl ? new URL(webhooks.publicUrl).pathname.replace(/\/$/, "") : "";
  const proxied = prefix
    ? `a reverse proxy must take ${prefix}, the path of webhooks.publicUrl, off the paths it passes`
    : "a reverse proxy must pass paths unchanged";
  const served =
    mode === "serve"
      ? `MCP is served at /mcp and webhooks at POST /webhooks/<source>; ${proxied}`
      : `webhooks go to POST /webhooks/<source>${prefix ? `; ${proxied}` : ""}`;
  app.use((req, res) => {
    const error = `not found: ${quote(req.path)}; ${served}`;
    if (req.path.startsWith("/.well-known/")) answerUnread(req, res, 404, error);
    else refuse(req, res, { status: 404, reason: "no such path", error, said: `no such path; ${served}` });
  });

  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    const configured = (res.locals.entry as { source: WebhookSource } | undefined)?.source;
    const source = configured?.name;
    if (err.type === "entity.too.large") {
      refuseTooLarge(req, res, configured);
      return;
    }
    if (err.type === "encoding.unsupported") {
      res.set("accept-encoding", "identity");
      refuse(req, res, {
        status: 415,
        reason: "encoded body",
        error: `Content-Encoding ${JSON.stringify(req.headers["content-encoding"])} refused: the signature is checked on the bytes as sent, so send the body unencoded`,
        source,
      });
      return;
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      refuse(req, res, { status: err.status, reason: err.type ?? "bad request", error: err.message, source });
      return;
    }
    // A fault: the event was not committed, and a 5xx tells the sender to try again later.
    log.error(`webhook listener failed: ${err.stack ?? err.message}`);
    res.status(503).set("retry-after", "5").json({ error: "event not stored; retry later" });
  });
  return { app, writeHeldCounts };
}

export interface RunningListener {
  server: Server;
  /** http://host:port, as bound. */
  url: string;
  close(): Promise<void>;
}

/** How long a connection that has sent nothing is kept once the listener stops. */
const SILENT_MS = 1_000;

/**
 * Binds the listener; rejects with the socket error (EADDRINUSE when another waiter listens).
 * Slow or numerous clients are bounded here: header and request timeouts, a cap on connections
 * overall (Node closes the excess) and per client address.
 */
export function startListener(parts: ListenerParts): Promise<RunningListener> {
  const { webhooks, log } = parts;
  const { host, port } = webhooks.listen;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...parts.timeouts };
  let closing = false;
  const { app, writeHeldCounts } = listenerApp({ ...parts, timeouts, stopping: () => closing });
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: timeouts.checkEveryMs,
    },
    app,
  );
  // Node answers Expect: 100-continue by itself, inviting a body the listener is sure to refuse:
  // a webhook whose declared length is over the limit gets its 413 instead, before the body is
  // sent. Other routes (MCP in waiter serve) have limits of their own and get their 100.
  server.on("checkContinue", (req, res) => {
    const name = /^\/webhooks\/([^/?]+)/.exec(req.url ?? "")?.[1];
    const source = webhooks.sources.find((known) => known.name === name);
    const refused = name !== undefined && Number(req.headers["content-length"]) > bodyLimit(webhooks, source);
    if (!refused) res.writeContinue();
    server.emit("request", req, res);
  });
  server.maxConnections = webhooks.maxConnections;
  const warn = throttled((message) => log.warning(message));
  server.on("drop", () => warn(`webhook listener at ${webhooks.maxConnections} connections: closing new ones`));
  capConnectionsPerClient(server, webhooks.maxConnectionsPerClient, (client) =>
    warn(`webhook listener: ${client} holds ${webhooks.maxConnectionsPerClient} connections: closing its new ones`),
  );
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.listen(port, host);
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      // Once it listens, the server's errors are connections the system would not hand over (no
      // file handle left, libuv's spare one gone too): one connection lost, not the listener.
      server.on("error", (err) => warn(`webhook listener: a connection could not be accepted (${err.message})`));
      const address = server.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${shown}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            // Stop accepting, let requests in flight finish, drop connections as they fall idle
            // (one whose request finishes during the drain would otherwise wait for the client to
            // close it), and cut whatever is still open after the drain time.
            closing = true;
            const idle = setInterval(() => server.closeIdleConnections(), 50);
            // Node counts a connection that has sent nothing (a client's spare one, a load
            // balancer's probe) as awaiting headers, not idle: the stop would wait for its client
            // or the drain time. Closed after a moment, in which a request already on its way is
            // read and answered.
            const silent = setTimeout(() => {
              for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
            }, SILENT_MS);
            server.close(() => {
              clearInterval(idle);
              clearTimeout(silent);
              clearTimeout(cutting);
              // Before the store closes, which waits for what it has under way.
              writeHeldCounts();
              done();
            });
            server.closeIdleConnections();
            const cutting = setTimeout(() => {
              void (parts.beforeCut?.() ?? Promise.resolve()).finally(() => server.closeAllConnections());
            }, parts.drainMs);
            cutting.unref();
          }),
      });
    });
  });
}
