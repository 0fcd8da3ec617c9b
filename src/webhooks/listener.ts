import { createServer, maxHeaderSize, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { Stopped } from "../app-types.js";
import { loggedWords } from "../errors.js";
import { type EventStore, NewerSchema, type StoreNotWritable, type StoreStats } from "../events/store.js";
import type { HttpClient } from "../http/client.js";
import { untilAborted } from "../http/deadline.js";
import { type Log, throttled } from "../log.js";
import { meantKey, quote } from "../shown.js";
import { clock } from "../time.js";
import { boundedCounts } from "./counts.js";
import {
  ASKED_OF_THEIR_API,
  answerUnread,
  bodyLimit,
  mountDeliveries,
  NOT_STORED,
  type Refusal,
  refusalBody,
  SEND_NO_MORE,
} from "./delivery.js";
import { byPublicName, isWellKnown, originCheck, requestGuard } from "./hosts.js";
import {
  ANSWERED_PAST_CAP,
  awaitingContinue,
  capConnectionsPerClient,
  clientOf,
  closeOnceRead,
  DEFAULT_TIMEOUTS,
  isPastCap,
  type ListenerTimeouts,
} from "./limits.js";
import { claimedDelivery, neverResentBy, notSentAgain, SMALL_DELIVERIES } from "./senders.js";
import {
  MISSPELT_PATH,
  publicPath,
  type WebhookSource,
  type WebhooksConfig,
  type webhookSettings,
} from "./settings.js";
import { type Verifier, verifierFor } from "./verifiers/index.js";

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
  /**
   * More routes on the same address, behind the same Host and Origin checks (MCP at /mcp, in
   * `waiter serve`), and their CORS, which a request to /mcp from a page whose origin is allowed
   * passes before any answer: the listener's refusals are read by the page too.
   */
  routes?: { mount(app: express.Express, timeouts: ListenerTimeouts): void; pageAccess: RequestHandler };
  /** True once the listener is stopping: answers then close their connections. */
  stopping?: () => boolean;
  /** The limits its refusals name, as the configuration's `named` gives them (webhooks.maxBodyBytes). */
  named: (path: `webhooks.${keyof typeof webhookSettings}`) => string;
  /** Bounds on slow clients; the defaults suit production, tests pick shorter ones. */
  timeouts?: Partial<ListenerTimeouts>;
  /** How long requests in flight may take to finish once the listener stops (WAITER_STOP_SECONDS). */
  drainMs: number;
  /** Run when the drain time is out, before the connections still open are cut: their last answers. */
  beforeCut?: () => Promise<void>;
}

/** The listener as the log names it: in waiter serve it takes MCP's requests too. */
const listenerNamed = (mode: ListenerMode) => (mode === "serve" ? "MCP and webhook listener" : "webhook listener");

// In waiter serve the connections are MCP clients' too, which hold one for their stream and one for
// each call (kept alive after it): a team of 100 agents behind one NAT holds 200 and more.
const heldFor = (mode: ListenerMode) =>
  mode === "serve" ? " (an MCP client holds one for its stream and one for each call under way)" : "";

/** An address at its most connections, as the log says it: the setting to raise. */
const atItsMost = (client: string, { webhooks, mode, named }: ListenerParts) =>
  `${client} holds ${webhooks.maxConnectionsPerClient} connections, the most ${named("webhooks.maxConnectionsPerClient")} lets one address hold${heldFor(mode)}`;

/**
 * A request's target as waiter serves it: without the path of publicUrl (/waiter) when a proxy
 * passes it on (/waiter/mcp), as ingress-nginx, Traefik's PathPrefix router and nginx's
 * proxy_pass without a URI do; and RFC 9728's address of the metadata of <publicUrl>/mcp,
 * /.well-known/oauth-protected-resource/waiter/mcp, as waiter's own. The settings refuse a path
 * that begins like one of waiter's own, so a proxy that takes the path off is served as before.
 */
function withoutPublicPath(publicUrl: string | undefined): (target: string) => string {
  const path = publicPath(publicUrl);
  const metadata = `/.well-known/oauth-protected-resource${path}/mcp`;
  return (target) => {
    if (!path) return target;
    const end = target.indexOf("?");
    const requested = end < 0 ? target : target.slice(0, end);
    const query = target.slice(requested.length);
    // …/mcp/'s too, which names the URL with its slash.
    if (requested === metadata || requested === `${metadata}/`) {
      return `/.well-known/oauth-protected-resource/mcp${requested.slice(metadata.length)}${query}`;
    }
    if (requested !== path && !requested.startsWith(`${path}/`)) return target;
    return `${requested.slice(path.length) || "/"}${query}`;
  };
}

/** The path as it arrived, before the path of publicUrl was taken off. */
const arrivedPath = (req: Request) => req.originalUrl.split("?", 1)[0] ?? "";

/**
 * The source a path nothing serves was meant for: one of two parts, the first `webhooks` a letter
 * or two off (`webhook`, `webhoks`) and the second a source's name or near it, or `webhooks/`, a
 * source's name and one more part.
 */
function sourceMeant(path: string, names: readonly string[]): string | undefined {
  const parts = path.split("/").slice(1);
  if (parts.length < 2 || parts.length > 3 || !meantKey(parts[0] ?? "", ["webhooks"])) return undefined;
  if (parts.length === 3 && parts[0] !== "webhooks") return undefined;
  return meantKey(parts[1] ?? "", names);
}

/** How long /healthz waits for the store's figures. */
const HEALTH_STORE_MS = 500;

/**
 * The most /healthz writes to prove the store takes a delivery refused: a write of a body of tens
 * of megabytes would not end within HEALTH_STORE_MS, and /healthz would stay 503 once the disk has
 * room; a megabyte needs new pages all the same.
 */
const PROOF_MAX_BYTES = 1024 * 1024;

/** How many ids of a source's deliveries not stored are kept to tell them apart, while the store does not answer. */
const MAX_UNSTORED_IDS = 10_000;

/**
 * A source's deliveries not stored while the store did not answer: distinct deliveries, and the
 * requests that carried them where a sender sent some again.
 */
function unstoredFrom({
  source,
  requests,
  ids,
  lostBy,
}: {
  source: string;
  requests: number;
  ids: number;
  lostBy: string | undefined;
}): string {
  const deliveries = ids >= MAX_UNSTORED_IDS ? `at least ${ids}` : `${ids}`;
  return `${deliveries} from ${source}${requests > ids ? ` (in ${requests} requests)` : ""}${lostBy ? `, which ${lostBy} does not send again` : ""}`;
}

/**
 * The webhook listener: POST /webhooks/<source> reads the raw bytes, verifies them with the
 * source's scheme, commits the event, and only then answers 2xx. A failed check is a 4xx with
 * the check's name, never a 5xx (that would make the sender retry forever). `writeHeldCounts`
 * writes the counts still held once no more requests come.
 */
export function listenerApp(parts: ListenerParts): {
  app: express.Express;
  writeHeldCounts: () => void;
} {
  const { webhooks, mode, store, http, log, stopping, timeouts, routes } = parts;
  const limits = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const sources = new Map<string, { source: WebhookSource; verify: Verifier }>(
    webhooks.sources.map((source) => [source.name, { source, verify: verifierFor(source, http) }]),
  );
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  // Before every route and check, so that each, the Host and Origin guard's among them, sees the
  // path the same whether a proxy takes publicUrl's path off or not; req.originalUrl keeps the path
  // as it arrived, which is what the log and the 404 show. Without a path there, nothing to take off.
  if (publicPath(webhooks.publicUrl)) {
    const served = withoutPublicPath(webhooks.publicUrl);
    app.use((req, _res, next) => {
      req.url = served(req.url);
      next();
    });
  }

  /** Whether a request is to /mcp, whose refusals are JSON-RPC errors. */
  const atMcp = (req: Request) => routes !== undefined && MCP_PATH.test(req.path);

  if (routes) {
    // Before any answer, so that a page whose origin is allowed reads each refusal below; one not
    // allowed reads none. Its preflight is answered here, so that the request it clears comes and
    // reads its refusal; past the address's cap, its connection is closed as the 503's would be.
    // A request with no Origin is from no page: an OPTIONS then is no preflight, and is checked.
    const allowed = originCheck(webhooks);
    app.all("/mcp", (req, res, next) => {
      const { origin } = req.headers;
      if (origin === undefined || !allowed(origin, req.socket.localPort ?? 0)) {
        next();
        return;
      }
      if (isPastCap(req.socket)) res.setHeader("connection", "close");
      routes.pageAccess(req, res, next);
    });
  }

  // A connection its address opened past its cap gets a word on what to do, not a bare close. Anyone
  // may open the connections: the address (behind a proxy, the proxy's own) and the setting, in the
  // config file or the environment, are said in the log alone.
  app.use((req, res, next) => {
    if (!isPastCap(req.socket)) {
      next();
      return;
    }
    closeOnceRead(req, res, limits);
    res.setHeader("retry-after", "5");
    res
      .status(503)
      .json(
        refusalBody(
          `too many connections from this address: it holds ${webhooks.maxConnectionsPerClient}, the most one address may hold${heldFor(mode)}; retry once some close`,
          atMcp(req),
        ),
      );
  });

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
  // A store that is away or full refuses every delivery: a line a minute says so, not one each,
  // for each kind of failure, so that none hides another: a source's deliveries not stored (each
  // line names one to send again), requests not counted, /healthz; and a line says when it answers
  // again, with how many deliveries of each source it did not store.
  // Whether it wrote a line since storeAnswers last ended its runs: each run begins with one, so
  // without it there is no run to end, and a delivery stored need not look for any.
  let storeWarned = false;
  const storeWarning = throttled((line) => {
    storeWarned = true;
    log.warning(line);
  });
  const NOT_COUNTED = "\nnot counted";
  const HEALTH = "\n/healthz";
  const notStored = (source: string) => `${source}\nnot stored`;
  // Whether the last delivery could not be stored because the store takes no writes (a full
  // disk), none stored since: /healthz answers 503 then, though the store can be read, so a
  // health check hears what deliveries get.
  let unwritable = false;
  // Whether a write (a delivery, a count) failed for the store's own reason, none gone through
  // since: a lock another program holds fails writes while reads go on, so a /healthz that reads
  // the store says it answers again only once a write of its own goes through.
  let unwritten = false;
  // The size of the last delivery not stored, up to PROOF_MAX_BYTES: what /healthz writes to prove
  // the store takes writes.
  let refusedBytes = 0;
  // The ids of each source's deliveries not stored since the store last answered: a sender that
  // retries sends one delivery many times, each a request refused.
  const unstoredIds = new Map<string, Set<string>>();
  const storeAnswers = () => {
    unwritable = false;
    unwritten = false;
    if (!storeWarned) return;
    storeWarned = false;
    const lost = [...sources.keys()].flatMap((source) => {
      const run = storeWarning.end(notStored(source));
      if (!run) return [];
      // The run's lines named some of them, a line a minute: all must be sent again by hand.
      const lostBy = neverResentBy(sources.get(source)?.source.scheme ?? "");
      return [{ source, requests: run.count, first: run.first, ids: unstoredIds.get(source)?.size ?? 0, lostBy }];
    });
    unstoredIds.clear();
    const firsts = [...[NOT_COUNTED, HEALTH].map((key) => storeWarning.end(key)), ...lost].flatMap((run) =>
      run ? [run.first] : [],
    );
    if (firsts.length === 0) return;
    const seconds = Math.round((clock.now() - Math.min(...firsts)) / 1000);
    log.warning(
      `webhook listener: the event store answers again after ${seconds} s; ${
        lost.length > 0
          ? `deliveries it did not store meanwhile: ${lost.map(unstoredFrom).join(", ")}`
          : "every delivery meanwhile was stored"
      }`,
    );
  };
  // So does a gateway's API that is down, and a stranger's flood past a GoPay source's bound on
  // lookups: a line a minute for each source and kind of reason.
  const unconfirmedWarning = throttled((line) => log.warning(line));

  // Counting is bookkeeping: a store too busy to count must not turn a 401 into a 5xx. Its
  // failures are the store's, said with theirs: every request counts, a stranger's too.
  const { count, writeHeldCounts } = boundedCounts(store, (source, outcome, n, err) => {
    unwritten = true;
    // Of a delivery the store did not take: its own line says the store's failure.
    if (outcome === NOT_STORED) return;
    const requests = (n: number) => (n === 1 ? "a request" : `${n} requests`);
    // A count taken back: a delivery the store counted a duplicate was stored on its own.
    const said =
      n < 0 ? `${outcome} counts ${requests(-n)} too many, not taken back` : `${requests(n)} not counted (${outcome})`;
    storeWarning(`webhook ${source}: ${said}: ${loggedWords(err)}`, NOT_COUNTED);
  });

  /**
   * Every refusal: answered `status` with `error`, counted under rejected:<reason> for the source
   * its path names, and said at info (`said`, else the error) with the address it came from, a line
   * a minute for each source, reason and address saying how many like it were left out since: a
   * stranger's flood of forgeries must not flood the log nor hide another reason, nor a provider
   * whose secret is wrong, and a sender refused for its size or method is heard of.
   */
  const refuse = (req: Request, res: Response, refusal: Refusal) => {
    const { status, reason, error = reason, said = error, source } = refusal;
    if (source) count(source.name, `rejected:${reason}`);
    // A sender that never sends a refused delivery again has lost this one, unless it is sent by hand;
    // another's is found in its dashboard by the id it claims.
    const which = notSentAgain(req, source) ?? claimedDelivery(req, source, reason);
    const client = clientOf(req.socket);
    infoAMinute(
      `${source ? `webhook ${source.name} rejected` : `${listenerNamed(mode)} refused ${req.method} ${quote(arrivedPath(req))}`} from ${client}: ${said}${which ? `; ${which}` : ""}`,
      `${source?.name ?? ""}\n${reason}\n${client}`,
    );
    if (refusal.sameEachRetry) res.set(SEND_NO_MORE);
    answerUnread(req, res, status, error, limits, atMcp(req));
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
      said: `${error}${declared > 0 ? ` (Content-Length ${declared})` : ""}${small ? "" : `: if its sender's deliveries are this large, raise ${parts.named("webhooks.maxBodyBytes")}`}`,
      source,
    });
  };

  const guard = requestGuard(webhooks);
  app.use((req, res, next) => {
    const refusal = guard(req.headers, req.socket.localPort ?? 0, req.path, req.socket.localAddress);
    if (!refusal) {
      next();
      return;
    }
    const named = /^\/webhooks\/([^/]+)\/?$/.exec(req.path)?.[1];
    const source = named ? sources.get(named)?.source : undefined;
    // A forgotten publicUrl behind a proxy refuses every delivery: said.
    refuse(req, res, {
      status: 403,
      reason: refusal.reason,
      error: refusal.message,
      said: refusal.message.replace(/^refused: /, ""),
      source,
    });
  });

  const publicly = byPublicName(webhooks);
  app.get("/healthz", async (req, res, next) => {
    // At this one spelling, as it arrived: a proxy that keeps /healthz from the internet keeps it
    // all (express would also answer /HEALTHZ and /healthz/, and publicUrl's path then /healthz).
    if (arrivedPath(req) !== "/healthz") {
      next();
      return;
    }
    // Who answers, in every answer: the store's id tells another waiter that finds the port held
    // whether the webhooks go into the store it reads. Asked by publicUrl's or an allowedHosts name,
    // through a proxy or tunnel that passes /healthz on from anyone, the status alone, which a load balancer or an
    // uptime monitor reads: the sources and the store's figures are for waiter's own address.
    const shown = !publicly(req.headers.host);
    const who = shown
      ? { mode, sources: [...sources.keys()], ...(store?.storeId ? { storeId: store.storeId } : {}) }
      : {};
    const figures = (stats: StoreStats | undefined) => (shown && stats ? { store: stats } : {});
    let stats: StoreStats | undefined;
    let unfit: NewerSchema | StoreNotWritable | undefined;
    try {
      [stats, unfit] = store
        ? await untilAborted(Promise.all([store.stats(), store.unfit()]), AbortSignal.timeout(HEALTH_STORE_MS))
        : [];
    } catch (err) {
      // Unhealthy while the store cannot be read: a load balancer sends deliveries elsewhere.
      // A database that does not answer is not waited for: a health check, or another waiter
      // asking who holds the port, hears at once.
      const silent = err instanceof DOMException && err.name === "TimeoutError";
      storeWarning(
        `webhook listener: /healthz: ${silent ? `the event store did not answer within ${HEALTH_STORE_MS} ms` : loggedWords(err)}`,
        HEALTH,
      );
      res.status(503).json({ status: silent ? "store not answering" : "store unavailable", ...who });
      return;
    }
    if (unfit instanceof NewerSchema) {
      // Said at error by the store, once: a deployment's health check shows it too.
      res.status(503).json({ status: "store upgraded by a newer waiter", ...who, ...figures(stats) });
      return;
    }
    if (unfit) {
      // A database made read-only (a standby after a failover) refuses every delivery a load
      // balancer would send here: said before the first is refused, and a line a minute after.
      storeWarning(`webhook listener: /healthz: ${loggedWords(unfit)}`, HEALTH);
      res.status(503).json({ status: "store not writable", ...who, ...figures(stats) });
      return;
    }
    const ok = { status: "ok", ...who, ...figures(stats) };
    if (unwritable || unwritten) {
      // A load balancer that finds this waiter unhealthy sends it no delivery that could show the
      // store takes writes again: a write of its own, which leaves nothing, shows it instead; as
      // large as the delivery refused, as a small one fits where the delivery's did not.
      try {
        if (store) await untilAborted(store.proveWritable(refusedBytes), AbortSignal.timeout(HEALTH_STORE_MS));
      } catch {
        if (unwritable) {
          res.status(503).json({ status: "store not writable", ...who, ...figures(stats) });
          return;
        }
        // It reads, and takes no write yet: the deliveries it refuses are still said a line a minute.
        res.json(ok);
        return;
      }
    }
    storeAnswers();
    res.json(ok);
  });
  routes?.mount(app, limits);

  mountDeliveries(app, {
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
    named: parts.named,
    storeFailed: (full, bytes, source, id) => {
      unwritten = true;
      const ids = unstoredIds.get(source) ?? new Set();
      unstoredIds.set(source, ids);
      if (ids.size < MAX_UNSTORED_IDS) ids.add(id);
      refusedBytes = Math.min(bytes, PROOF_MAX_BYTES);
      if (full) unwritable = true;
    },
    storeAnswers,
  });

  // A path nothing serves: a proxy that adds a prefix (/waiter/mcp) publicUrl does not have, a
  // client given the host without /mcp. Said with the paths there are, and logged, a line a
  // minute for each address; but for the metadata clients look for under /.well-known/, whose 404
  // they take as an answer.
  const prefix = publicPath(webhooks.publicUrl);
  const paths =
    mode === "serve"
      ? (under: string) => `MCP is served at ${under}/mcp and webhooks at POST ${under}/webhooks/<source>`
      : (under: string) => `webhooks go to POST ${under}/webhooks/<source>`;
  const whereServed = prefix
    ? `${paths(prefix)}, under the path of webhooks.publicUrl, or without ${prefix} from a reverse proxy that takes it off`
    : `${paths("")}${mode === "serve" ? "; a reverse proxy must pass paths unchanged" : ""}`;
  app.use((req, res) => {
    // A source's path mistyped before its name (/webhook/stripe, /webhooks/stripe/): the path meant,
    // as the misspelt source's 404 names it, and nothing of the sources not near the name.
    const meant = sourceMeant(req.path, [...sources.keys()]);
    if (meant && !isWellKnown(req.path)) {
      const guess = `did you mean ${prefix}/webhooks/${meant}?`;
      count(meant, `rejected:${MISSPELT_PATH}`);
      refuse(req, res, {
        status: 404,
        reason: `no such path near ${meant}`,
        error: `not found: ${quote(arrivedPath(req))}; ${guess}`,
        said: `no such path; ${guess} (the sources: ${[...sources.keys()].join(", ")})`,
      });
      return;
    }
    const error = `not found: ${quote(arrivedPath(req))}; ${whereServed}`;
    // Any page reads it, as it reads the metadata waiter serves there: an MCP client in a browser
    // looks for OAuth metadata there, and is told "Failed to fetch" of a 404 it may not read.
    if (isWellKnown(req.path)) {
      const answer = () => answerUnread(req, res, 404, error, limits);
      if (routes) routes.pageAccess(req, res, answer);
      else answer();
    } else refuse(req, res, { status: 404, reason: "no such path", error, said: `no such path; ${whereServed}` });
  });

  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    const configured = (res.locals.entry as { source: WebhookSource } | undefined)?.source;
    if (err.type === "entity.too.large") {
      refuseTooLarge(req, res, configured);
      return;
    }
    if (err.type === "request.aborted" && configured) {
      // No refusal: the sender went away before its body had come (its own timeout, a network
      // that failed), and hears no answer; or Node cut it with a bare 408 at the request timeout,
      // while its body still came. Counted, so that received stays the sum.
      const { received, expected } = err as { received?: number; expected?: number | null };
      const cut = (req.socket.errored as { code?: string } | null)?.code === "ERR_HTTP_REQUEST_TIMEOUT";
      const reason = cut ? "body too slow" : "closed by sender";
      count(configured.name, `rejected:${reason}`);
      const client = clientOf(req.socket);
      const came = expected == null ? `${received} bytes of the body` : `${received} of the body's ${expected} bytes`;
      infoAMinute(
        `webhook ${configured.name} delivery not stored: ${cut ? `the listener cut its sender, ${client}, with 408 after ${came}, as the request took longer than ${limits.requestMs / 1000} s to arrive` : `its sender, ${client}, closed the connection after ${came}`} (${notSentAgain(req, configured) ?? "a sender that retries sends it again"})`,
        `${configured.name}\n${reason}\n${client}`,
      );
      return;
    }
    if (err.type === "encoding.unsupported") {
      res.set("accept-encoding", "identity");
      const why =
        // No signature covers the bodies of these: a source with none, or one whose event is asked of its API.
        configured && (configured.scheme === "none" || ASKED_OF_THEIR_API.has(configured.scheme))
          ? "waiter inflates no body, as a small one can inflate to a huge one"
          : "the signature is checked on the bytes as sent";
      refuse(req, res, {
        status: 415,
        reason: "encoded body",
        error: `Content-Encoding ${JSON.stringify(req.headers["content-encoding"])} refused: ${why}, so send the body unencoded`,
        source: configured,
        sameEachRetry: true,
      });
      return;
    }
    // A source name that is not percent-encoded right (/webhooks/%ZZ) names no source: express
    // refuses it before the route's own 404 for an unknown source could.
    const undecoded = err instanceof URIError ? /^\/webhooks\/([^/]+)\/?$/.exec(req.path)?.[1] : undefined;
    if (undecoded !== undefined) {
      refuse(req, res, {
        status: 404,
        reason: "unknown source",
        error: `unknown webhook source "${undecoded}"`,
        said: `no source is named ${quote(undecoded)} (the sources: ${[...sources.keys()].join(", ") || "none"})`,
      });
      return;
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      refuse(req, res, {
        status: err.status,
        reason: err.type ?? "bad request",
        error: err.message,
        source: configured,
      });
      return;
    }
    // A fault: the event was not committed, and a 5xx tells the sender to try again later.
    // Counted for its source as every request is, so that received stays their sum and a bug
    // that fails a source's deliveries shows in webhooks_sources beside its refusals.
    if (configured) count(configured.name, "rejected:failed in waiter");
    log.fault("webhook listener failed", err);
    res.status(503).set("retry-after", "5").json({ error: "event not stored; retry later" });
  });
  return { app, writeHeldCounts };
}

const HEADERS_TOO_LARGE = `its headers are larger than ${maxHeaderSize} bytes, the most Node reads; if its sender's headers are this large, raise it in waiter's environment, NODE_OPTIONS=--max-http-header-size=${2 * maxHeaderSize} for twice as much (the flag without a number stops Node at start)`;

/**
 * Of the request a chunk of it begins, as far as the chunk holds them: the method and path as the
 * log says them, or "a request"; the path; its Origin.
 */
function requestHead(chunk: Buffer | undefined): { said: string; path?: string; origin?: string } {
  const text = chunk?.toString("latin1") ?? "";
  const line = /^([A-Z]{1,20}) (\S{1,2000}) HTTP\/1\.[01]\r?\n/.exec(text.slice(0, 2100));
  // Without its query, as every line of the log shows a path: a query may carry a token.
  const path = line?.[2]?.split("?", 1)[0];
  const origin = /\norigin:[ \t]*([^\r\n]*?)[ \t]*\r?\n/i.exec(text)?.[1];
  return { said: line && path !== undefined ? `${line[1]} ${quote(path)}` : "a request", path, origin };
}

/** /mcp as express routes it: in any letter case, with or without a trailing slash. */
const MCP_PATH = /^\/mcp\/?$/i;

/** The status Node answers a request it cannot read with, by its error's code: 400 for any other. */
const UNREAD: Record<string, string> = {
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
  HPE_CHUNK_EXTENSIONS_OVERFLOW: "413 Payload Too Large",
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
};

export interface RunningListener {
  server: Server;
  /** http://host:port, as bound. */
  url: string;
  /** Lets the requests in flight finish for the drain time, then cuts those still open. */
  close(): Promise<Stopped>;
}

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
  // Node answers Expect: 100-continue by itself, inviting a body the listener may refuse: a webhook
  // gets its 100 from the delivery route once every check that needs no body has passed (see
  // mountDeliveries), and a refusal (its Host, source, method, size, encoding or the bodies' budget)
  // before the body is sent. /mcp in waiter serve gets its 100 once its token and declared size
  // pass (see mountRoutes): a stranger is refused before uploading. No other route reads a body:
  // each is answered without one, its 404 or its refusal, never invited to send it.
  server.on("checkContinue", (req, res) => {
    awaitingContinue.add(req);
    server.emit("request", req, res);
  });
  server.maxConnections = webhooks.maxConnections;
  // A line a minute for each limit, and for connections not accepted: a flood that reaches one
  // must not hide that another is reached too (one address's connections, past all of them).
  const warn = throttled((message) => log.warning(message));
  const listenerName = listenerNamed(parts.mode);
  server.on("drop", () =>
    warn(
      `${listenerName} at ${webhooks.maxConnections} connections, the most ${parts.named("webhooks.maxConnections")} lets it hold${heldFor(parts.mode)}: closing new ones`,
      "maxConnections",
    ),
  );
  capConnectionsPerClient(server, webhooks.maxConnectionsPerClient, timeouts.silentMs, (client) =>
    warn(
      `${listenerName}: ${atItsMost(client, parts)}: answering its new ones 503, closing those past ${ANSWERED_PAST_CAP} at once`,
      "maxConnectionsPerClient",
    ),
  );
  const refusedHeaders = throttled((line) => log.info(line));
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const pageAllowed = originCheck(webhooks);
  const served = withoutPublicPath(webhooks.publicUrl);
  // A request Node cannot read (headers past its bound, a body not whole within the request
  // timeout) is answered as Node answers it, with the CORS its route gives a page: without it, a
  // page calling /mcp reads "Failed to fetch", not the status.
  server.on("clientError", (err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => {
    const head = requestHead(err.rawPacket);
    if (err.code === "HPE_HEADER_OVERFLOW") {
      // Before any route sees the request: a sender whose deliveries all end so is heard of here.
      const client = clientOf(socket);
      refusedHeaders(
        `${listenerName} refused ${head.said} from ${client} with 431: ${HEADERS_TOO_LARGE}`,
        `431\n${client}`,
      );
    }
    // The answer under way on the connection, as Node's own answer looks for it: kept by Node on
    // the socket, not tracked here for every request.
    const answer = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code !== "ECONNRESET" && socket.writable && !answer?.headersSent) {
      const { origin, path = "" } = head;
      const page = answer
        ? answer.getHeader("access-control-allow-origin")
        : parts.routes && origin && MCP_PATH.test(served(path)) && pageAllowed(origin, socket.localPort ?? 0)
          ? origin
          : undefined;
      const cors = page === undefined ? "" : `Access-Control-Allow-Origin: ${page}\r\nVary: Origin\r\n`;
      socket.write(`HTTP/1.1 ${UNREAD[err.code ?? ""] ?? "400 Bad Request"}\r\n${cors}Connection: close\r\n\r\n`);
    }
    socket.destroy(err);
  });
  return new Promise((resolve, reject) => {
    server.listen(port, host);
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      // Once it listens, the server's errors are connections the system would not hand over (no
      // file handle left, libuv's spare one gone too): one connection lost, not the listener.
      server.on("error", (err) =>
        warn(`${listenerName}: a connection could not be accepted (${err.message})`, "not accepted"),
      );
      const address = server.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${shown}:${address.port}`,
        close: () =>
          new Promise<Stopped>((done) => {
            // Stop accepting, let requests in flight finish, drop connections as they fall idle
            // (one whose request finishes during the drain would otherwise wait for the client to
            // close it), and cut whatever is still open after the drain time.
            closing = true;
            let cut = false;
            const idle = setInterval(() => server.closeIdleConnections(), 50);
            // Node counts a connection that has sent nothing (a client's spare one, a load
            // balancer's probe) as awaiting headers, not idle: the stop would wait for its client
            // or the drain time. Closed after a moment, in which a request already on its way is
            // read and answered.
            const silent = setTimeout(() => {
              for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
            }, timeouts.silentMs);
            server.close(() => {
              clearInterval(idle);
              clearTimeout(silent);
              clearTimeout(cutting);
              // Before the store closes, which waits for what it has under way.
              writeHeldCounts();
              done({ cut });
            });
            server.closeIdleConnections();
            const cutting = setTimeout(() => {
              cut = true;
              void (parts.beforeCut?.() ?? Promise.resolve()).finally(() => server.closeAllConnections());
            }, parts.drainMs);
            cutting.unref();
          }),
      });
    });
  });
}
