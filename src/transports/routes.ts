import {
  InvalidRequestError,
  InvalidTokenError,
  OAuthError,
  ServerError,
  TemporarilyUnavailableError,
} from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { metadataHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/metadata.js";
// Its types give express's Request the `auth` the bearer check sets.
import type {} from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import { ErrorCode, isJSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
import cors from "cors";
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import type { App } from "../app-types.js";
import { bodyComing } from "../bodies.js";
import { pastBound } from "../json.js";
import { type Log, throttled } from "../log.js";
import { quoteLine } from "../shown.js";
import { clock } from "../time.js";
import { isWellKnown } from "../webhooks/hosts.js";
import { awaitingContinue, closeOnceRead, type ListenerTimeouts } from "../webhooks/limits.js";
import { bearerRefusal, NO_BODY, rpcError } from "./answers.js";
import { CallerRefusedError, NotAJwtError, oauthVerifier, readsAsJwt } from "./oauth.js";
import { batchTold, NO_BATCHES, WITHOUT_BATCHES } from "./refusals.js";
import type { SessionOptions } from "./sessions.js";
import { callerNamed, OAUTH_SCOPES, rateLimit, tokenVerifier } from "./tokens.js";

/** The largest JSON-RPC request body taken: arguments are small, and a model's context smaller. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/**
 * The deepest a request may nest arrays and objects, and how many values (keys too) it may hold.
 * An MCP message nests a dozen levels at most (a batch, a call, its arguments, a list in them) and
 * holds a few dozen values, as every tool's arguments have a fixed shape: a batch of a hundred calls
 * holds some fifteen hundred. JSON.parse of 4 MB of arrays in arrays (a million deep or eight)
 * blocks every other client for a second, of small values side by side (`-0,`) for a few hundred ms.
 */
const MAX_DEPTH = 64;
const MAX_VALUES = 10_000;

/**
 * The charsets a request may name, which TextDecoder reads as the body parser (iconv-lite) does. Not
 * "utf-16" alone: the parser reads it big-endian by its BOM, or by a guess without one, where
 * TextDecoder reads little-endian, so a body the check saw flat could be parsed a million deep.
 */
const CHECKED_CHARSETS = new Set(["utf-8", "utf-16le", "utf-16be"]);

/**
 * express.json's check of the bytes before they are parsed: a body past a bound is refused unread,
 * and one of no bytes sent chunked, which the parser would read as `{}`, as a body that has none.
 */
function refuseBeyondBounds(_req: Request, _res: Response, body: Buffer, charset: string): void {
  if (body.length === 0) throw Object.assign(new Error("no body"), { status: 400, type: "entity.empty" });
  if (!CHECKED_CHARSETS.has(charset)) {
    throw Object.assign(new Error(`charset ${charset} is not checked`), { status: 415, type: "charset.unchecked" });
  }
  // In UTF-16 a character's bytes may hold a quote's or a bracket's: its text is what is read.
  const utf8 = charset === "utf-8" ? body : Buffer.from(new TextDecoder(charset).decode(body));
  const past = pastBound(utf8, { depth: MAX_DEPTH, values: MAX_VALUES });
  if (past) throw Object.assign(new Error(`past the ${past} bound`), { status: 400, type: `entity.${past}` });
}

/** The 413 of a body past MAX_REQUEST_BYTES, logged as the other refusals of /mcp are, with its size and where it came from. */
function refuseTooLarge(req: Request, res: Response, refused: Refused): void {
  const declared = req.headers["content-length"];
  // In bytes, as the listener's size refusals and settings say sizes; no setting names this one.
  const why = `A request to /mcp may be at most ${MAX_REQUEST_BYTES} bytes (${MAX_REQUEST_BYTES / 2 ** 20} MiB), a bound no setting changes: send less in one request`;
  refused(
    413,
    `${why} (${declared === undefined ? "sent chunked" : `Content-Length ${declared}`}, from ${req.socket.remoteAddress ?? "unknown"})`,
    req.auth?.clientId,
    why,
  );
  rpcError(res, 413, -32600, why);
}

/**
 * A body past MAX_REQUEST_BYTES gets its 413 as soon as that is known, by its Content-Length or, sent
 * chunked, by its bytes: the body parser answers only once it has read a body it refuses to its
 * end, so a client uploading 100 MB heard nothing until all had come, and one slower than the
 * request timeout got a 408. A body with a Content-Length has no more bytes than it says, so only
 * a chunked one is counted. The rest is still read and dropped (until the request timeout): a
 * connection closed mid-upload would leave a client that reads no answer before it has sent all
 * with no status (fetch, sending 20 MB, failed with EPIPE).
 */
function refuseOversized(refused: Refused): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined) {
      if (Number(declared) > MAX_REQUEST_BYTES) refuseTooLarge(req, res, refused);
      else next();
      return;
    }
    let received = 0;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= MAX_REQUEST_BYTES) return;
      req.off("data", count);
      refuseTooLarge(req, res, refused);
    };
    req.on("data", count);
    req.once("end", () => req.off("data", count));
    next();
  };
}

/**
 * The 100 Continue a client that waits for it before its body (`Expect: 100-continue`) is sent once
 * its token and declared size passed: one refused before is refused without inviting its upload.
 */
const inviteBody: RequestHandler = (req, res, next) => {
  if (awaitingContinue.has(req) && !req.complete) res.writeContinue();
  next();
};

/**
 * CORS for MCP clients in a browser page (a web app of the company's; not the MCP Inspector 2, which
 * calls from its own server): they may send MCP's headers, and read a 401's challenge, the
 * session's id and a refusal's Retry-After. The listener runs it for a request of an allowed Origin
 * (waiter's own, or one in webhooks.allowedOrigins), before any answer to it.
 */
export const pageAccess = cors({
  origin: true,
  methods: ["GET", "POST", "DELETE"],
  allowedHeaders: [
    "Authorization",
    "Content-Type",
    "Accept",
    "Mcp-Session-Id",
    "Mcp-Protocol-Version",
    "Last-Event-ID",
    // The request's method and tool, prompt or resource, mirrored for proxies (MCP draft, SEP-2243).
    "Mcp-Method",
    "Mcp-Name",
  ],
  // Retry-After: when a 429 or a 503 says to come back, which a browser hides from the page otherwise.
  exposedHeaders: ["WWW-Authenticate", "Mcp-Session-Id", "Retry-After"],
  // A day, Firefox's most (Chromium keeps it 2 hours): without it a browser keeps a preflight 5 s,
  // and sends one before nearly every request. A request with a header the preflight did not allow
  // is preflighted again, so one kept from before an upgrade holds back no request.
  maxAge: 86_400,
});

/** A 401's words for "Bearer" with nothing after it; ASCII with no quote, as a challenge's description (RFC 6750 §3). */
const EMPTY_BEARER =
  "The Authorization header carries no token after Bearer: check that the variable the client takes the token from is set";

/** A 401's words for "Bearer Bearer <token>"; ASCII with no quote, as a challenge's description. */
const BEARER_TWICE =
  "The Authorization header names Bearer twice: the client adds Bearer itself, so give it the token alone, without Bearer before it";

/**
 * A 401's words for a token sent with RFC 9449's DPoP scheme: waiter checks no DPoP proof, so it
 * takes no DPoP-bound token, and its client needs one bound to no key.
 */
const DPOP_SCHEME =
  "The Authorization header carries a DPoP token, and this server takes Bearer tokens only: a token bound to no key, sent as Bearer";

/**
 * The scopes a client is told to ask for, in a 401's challenge as in a scopeless token's 403: those a
 * full session needs, as the resource metadata lists them. MCP has a client ask for the scope a
 * challenge names, and for all the metadata lists only when it names none.
 */
const SESSION_SCOPES = OAUTH_SCOPES.join(" ");

/**
 * Where the metadata of the URL a request reached /mcp at is: a client given …/mcp/ takes only
 * metadata that names …/mcp/, character for character (RFC 9728 §3.3).
 */
export function metadataUrlOf(req: Request, oauth: SessionOptions["oauth"]): string | undefined {
  if (!oauth) return undefined;
  return req.path.endsWith("/") ? `${oauth.metadataUrl}/` : oauth.metadataUrl;
}

/** The query parameters a token is sent in by a client that puts it in the URL. */
const QUERY_TOKENS = ["access_token", "token"];

/** The query of a request's URL, without its `?`. */
const queryOf = (req: Request) => req.originalUrl.split("?").slice(1).join("?");

/**
 * The refusal of a request that carried no Bearer token (no Authorization, or another scheme's):
 * its challenge names no error, as no token was invalid (RFC 6750 §3.1), only where to log in.
 */
class NoTokenError extends InvalidTokenError {}

/**
 * A refused request to /mcp, said in the log: its status, why, the caller, what the line is keyed
 * by, and the address it came from, for a caller its token does not name.
 */
export type Refused = (status: number, why: string, caller?: string, reason?: string, from?: string) => void;

/**
 * The bearer check: the token as `verifier` knows it, set on the request, or a refusal in OAuth's
 * words, a 401 naming the scopes to ask for with OAuth. It is the SDK's requireBearerAuth but for
 * that scope, which the SDK names only when it requires every scope it names (requiredScopes),
 * where a token needs either of waiter's; it reads the time from waiter's clock; and it says in
 * the log why a request carried no bearer token, or one `verifier` refused, and from which address:
 * the machine where a variable is unset or a token was left is found so.
 */
function bearerCheck(
  verifier: OAuthTokenVerifier,
  log: Log,
  oauth: SessionOptions["oauth"],
  refused: Refused,
  timeouts: ListenerTimeouts,
): RequestHandler {
  // A request without a bearer token is how an OAuth client's first request finds where to log
  // in: said at debug then.
  const tokenless = throttled((line) => (oauth ? log.debug(line) : log.info(line)));
  // A token sent as DPoP, in the URL's query or after Bearer twice, is no OAuth client's first
  // request: its client was set up wrong, which the person who set it up reads here.
  const otherScheme = throttled((line) => log.info(line));
  return async (req, res, next) => {
    const address = req.socket.remoteAddress ?? "unknown";
    try {
      const header = req.headers.authorization ?? "";
      // A token in the URL (RFC 6750 §2.3's access_token, or a connector's own token=): MCP takes
      // none there, and the person who put it there is told where it goes instead.
      // An empty one (a URL template's unset variable) sends none.
      const query = req.originalUrl.includes("?") ? new URLSearchParams(queryOf(req)) : undefined;
      const inQuery = query && QUERY_TOKENS.find((name) => query.get(name));
      // "Bearer $WAITER_TOKEN" with the variable unset, a header of the wrong format else: the
      // person is sent to the variable. (Node drops the space after "Bearer".) Beside a token in
      // the URL, the header sends none, and the URL's token is what the person must hear of.
      const emptyBearer = /^bearer\s*$/i.test(header);
      if (emptyBearer && !inQuery) {
        tokenless(
          `MCP request from ${address} got 401: its Authorization header carries no token after Bearer (is the variable the client takes it from set?)`,
          `empty\n${address}`,
        );
        throw new InvalidTokenError(EMPTY_BEARER);
      }
      // RFC 6750 §2.1: the scheme, one space or more, the token. A token holds no space, so all
      // that follows is taken as the token, which no verifier knows if it holds one.
      const [, type, token] = /^(\S+)\s+(.*)$/s.exec(header) ?? [undefined, header, ""];
      // A scheme waiter does not take is a request without a token (RFC 6750 §3.1: its challenge
      // carries no error), said in the body and, as no OAuth client's first request, at info.
      if (type?.toLowerCase() === "dpop" && token) {
        otherScheme(
          `MCP request from ${address} got 401: its Authorization header carries a DPoP token, and only Bearer is taken`,
          `dpop\n${address}`,
        );
        throw new NoTokenError(DPOP_SCHEME);
      }
      // Sent both ways, RFC 6750 §3.1's invalid_request: the token in the URL is kept in logs all the same.
      if (inQuery && header && !emptyBearer) {
        otherScheme(
          `MCP request from ${address} got 400: it carries a token in the URL's query (${inQuery}=) besides its Authorization header, where one is taken`,
          `query and header ${inQuery}\n${address}`,
        );
        throw new InvalidRequestError(
          `The token was sent in the URL's query (${inQuery}=) besides the Authorization header, where this server takes one: take it out of the URL, and replace the token, as a URL is kept in logs on its way`,
        );
      }
      if (inQuery) {
        otherScheme(
          `MCP request from ${address} got 401: it carries a token in the URL's query (${inQuery}=), where none is taken (Authorization: Bearer <token>)`,
          `query ${inQuery}\n${address}`,
        );
        throw new NoTokenError(
          `The token was sent in the URL's query (${inQuery}=), where this server takes none: send it as Authorization: Bearer <token> (MCP has a token sent in that header only), and replace it, as a URL is kept in logs on its way`,
        );
      }
      if (type?.toLowerCase() !== "bearer" || !token) {
        const why = header ? "its Authorization header is no Bearer token" : "it carries no token";
        tokenless(`MCP request from ${address} got 401: ${why} (Authorization: Bearer <token>)`, `${why}\n${address}`);
        throw new NoTokenError(
          header ? "Invalid Authorization header format, expected 'Bearer TOKEN'" : "Missing Authorization header",
        );
      }
      // A token pasted with its scheme into a client's token field, which adds Bearer itself: the
      // token may be right, and the person is told what to take off.
      if (type?.toLowerCase() === "bearer" && /^bearer\s/i.test(token)) {
        otherScheme(
          `MCP request from ${address} got 401: its Authorization header names Bearer twice (the token was given to its client with Bearer before it)`,
          `twice\n${address}`,
        );
        throw new InvalidTokenError(BEARER_TWICE);
      }
      const auth = await verifier.verifyAccessToken(token).catch((refusal: unknown) => {
        // An issuer that cannot be reached is the issuer's failure, which its verifier says.
        if (refusal instanceof InvalidTokenError) {
          const caller = refusal instanceof CallerRefusedError ? refusal.caller : undefined;
          refused(401, refusal.message, caller, refusal.message, address);
        }
        throw refusal;
      });
      // A token without a time, or past it, is taken no more (a configured token's is Infinity).
      if (!((auth.expiresAt ?? Number.NaN) * 1000 >= clock.now())) throw new InvalidTokenError("Token has expired");
      req.auth = auth;
    } catch (err) {
      // Anyone may send a body to be refused: read to its end, a stranger's endless one would keep waiter reading.
      if (bodyComing(req)) closeOnceRead(req, res, timeouts);
      if (err instanceof InvalidTokenError) {
        bearerRefusal(res, 401, err instanceof NoTokenError ? undefined : err.errorCode, err.message, {
          whyInChallenge: true,
          ...(oauth ? { scope: SESSION_SCOPES, metadataUrl: metadataUrlOf(req, oauth) } : {}),
        });
      } else if (err instanceof InvalidRequestError) {
        bearerRefusal(res, 400, err.errorCode, err.message, { whyInChallenge: true });
      } else if (err instanceof TemporarilyUnavailableError) {
        // An issuer that cannot be reached now (RFC 9110 §15.6.4), as its words say when to try again.
        res.set("retry-after", "60").status(503).json(err.toResponseObject());
      } else if (err instanceof OAuthError) {
        res.status(err instanceof ServerError ? 500 : 400).json(err.toResponseObject());
      } else res.status(500).json(new ServerError("Internal Server Error").toResponseObject());
      return;
    }
    next();
  };
}

/** An access token the issuer signed without a waiter scope: the client is told which to ask for. */
function scopeless(refused: Refused, oauth: SessionOptions["oauth"], timeouts: ListenerTimeouts): RequestHandler {
  return (req, res, next) => {
    if (req.auth?.scopes.length) return next();
    if (bodyComing(req)) closeOnceRead(req, res, timeouts);
    const why = `The access token carries neither ${OAUTH_SCOPES.join(" nor ")}; give its client one of them at the issuer`;
    refused(403, why, req.auth?.clientId);
    bearerRefusal(res, 403, "insufficient_scope", why, {
      whyInChallenge: true,
      scope: SESSION_SCOPES,
      metadataUrl: metadataUrlOf(req, oauth),
    });
  };
}

/**
 * The 429 to a caller past http.requestsPerMinute, with when to try again. Only a POST that carries
 * a JSON-RPC request counts: a notification (a cancel, `initialized`), an answer to waiter's own
 * request, a GET that opens the session's stream and a DELETE ask for no work, and refused they
 * would leave a cancelled call running, an ended session open, or a session deaf to its
 * notifications (the SDK's client sends a cancel or opens its stream once, and gives up on a 429).
 * A batch is one request to refuse or let go, but as many calls as it holds to the rate: up to 100
 * events_wait in one POST would otherwise cost a token what one does.
 */
function throttle(rate: ReturnType<typeof rateLimit>, perMinute: number, refused: Refused): RequestHandler {
  return (req, res, next) => {
    const calls = (Array.isArray(req.body) ? req.body : [req.body]).filter((message) => isJSONRPCRequest(message));
    if (calls.length === 0) return next();
    const caller = req.auth?.clientId ?? "";
    const wait = rate.take(caller);
    if (wait === undefined) {
      if (calls.length > 1) rate.owe(caller, calls.length - 1);
      return next();
    }
    res.set("retry-after", String(wait));
    refused(
      429,
      `past http.requestsPerMinute (${perMinute}); told to try again in ${wait} s`,
      req.auth?.clientId,
      "rate",
    );
    rpcError(
      res,
      429,
      -32000,
      `Too many requests: ${callerNamed(req.auth?.clientId ?? "")} may make ${perMinute} a minute; try again in ${wait} s`,
    );
  };
}

/**
 * A JSON-RPC batch in a version of MCP that takes none (the MCP-Protocol-Version its client sends on
 * every request after initialize; without one, MCP has a server take 2025-03-26, which takes them),
 * refused before its calls count against the rate. A version waiter does not speak is left to the
 * transport to refuse.
 */
const refuseBatchWhereVersionTakesNone: RequestHandler = (req, res, next) => {
  const version = req.headers["mcp-protocol-version"];
  if (!Array.isArray(req.body) || typeof version !== "string" || !WITHOUT_BATCHES.includes(version)) return next();
  const why = `Invalid Request: ${NO_BATCHES} (this request's MCP-Protocol-Version is ${version}): send each message in a POST of its own`;
  // Each of its requests is told by its id, as over stdio: told by id null, its client could tie the
  // refusal to none of them, and would wait for each until its own timeout.
  res.status(400).json(batchTold(req.body, why));
};

/**
 * Protected Resource Metadata (RFC 9728): where a client learns which server issues tokens.
 * The SDK's handler serves it to any page (a browser client reads it before it has a token).
 */
function serveResourceMetadata(web: express.Express, oauth: NonNullable<SessionOptions["oauth"]>): void {
  const describing = (resource: string) =>
    metadataHandler({
      resource,
      authorization_servers: [oauth.issuer],
      scopes_supported: [...OAUTH_SCOPES],
      bearer_methods_supported: ["header"],
      resource_name: "waiter",
    });
  const metadata = describing(oauth.resource);
  // …/mcp/'s, which the 401 to a request at /mcp/ points at (metadataUrlOf).
  const withSlash = describing(`${oauth.resource}/`);
  web.use("/.well-known/oauth-protected-resource/mcp", (req, res, next) =>
    (req.originalUrl.split("?", 1)[0]?.endsWith("/") ? withSlash : metadata)(req, res, next),
  );
  web.use("/.well-known/oauth-protected-resource", metadata);
}

/**
 * Where an OAuth client looks for a login after a 401 (the MCP Inspector, when no header gives it
 * the token): the resource metadata, then the server's origin (or /mcp) taken for the issuer, its
 * metadata and its default endpoints. Without http.oauth each is told that tokens are taken, not a login; with
 * it, a client that looks past the metadata (MCP 2025-03-26's, which reads none) is told the
 * issuer. The listener's 404 would have the person look for a proxy. An OAuth error's shape, which
 * a client shows the description of.
 */
const OAUTH_LOGIN_PATHS = [
  "/.well-known/oauth-protected-resource",
  "/.well-known/oauth-authorization-server",
  "/.well-known/openid-configuration",
  "/mcp/.well-known/openid-configuration",
  "/register",
  "/authorize",
  "/token",
];

function refuseOAuthLogin(web: express.Express, refused: Refused, oauth: SessionOptions["oauth"]): void {
  // With http.oauth, the resource metadata is served (serveResourceMetadata).
  const paths = oauth
    ? OAUTH_LOGIN_PATHS.filter((path) => !path.endsWith("/oauth-protected-resource"))
    : OAUTH_LOGIN_PATHS;
  const told = oauth
    ? `this waiter serve is no OAuth authorization server: log in at the issuer ${oauth.issuer}, which its resource metadata, ${oauth.metadataUrl}, names`
    : `this waiter serve takes no OAuth login (http.oauth is not set): send one of its tokens (http.tokens) as "Authorization: Bearer <token>"`;
  const logged = oauth
    ? `on waiter, not at the issuer ${oauth.issuer} (http.oauth.issuer): its client reads no resource metadata (RFC 9728), which MCP clients read from protocol 2025-06-18 on`
    : "and this waiter takes tokens of http.tokens only";
  // A page's too (the MCP Inspector in a browser): the listener let through only an allowed Origin,
  // but under /.well-known/, which any page may read.
  web.use(paths, pageAccess, (req, res) => {
    const path = req.originalUrl.split("?", 1)[0] ?? "";
    if (!isWellKnown(path)) {
      refused(404, `it looked for an OAuth login at ${req.baseUrl}, ${logged}`, undefined, "oauth");
    }
    // Kept open, the connection would have Node read a body left unread to its end, a stranger's endless one too.
    if (bodyComing(req)) res.set("connection", "close");
    res.status(404).json({ error: "invalid_request", error_description: `not found: ${quoteLine(path)}; ${told}` });
  });
}

/** The methods /mcp takes, as its 405 and its answer to an OPTIONS from no page name them. */
const ALLOW = "GET, POST, DELETE, OPTIONS";

/** The 405 to a method /mcp does not take, naming those it does. */
const notAllowed: RequestHandler = (_req, res) => {
  res.set("allow", ALLOW);
  rpcError(res, 405, -32000, "Method not allowed: /mcp takes POST, GET (the notification stream) and DELETE");
};

/**
 * A body that is too large or not JSON, said as JSON-RPC rather than as the listener would; any
 * other failure on the way to `handle` is waiter's, logged and answered 503.
 */
function jsonRpcErrors(log: Log, refused: Refused): ErrorRequestHandler {
  return (err: Error & { type?: string; status?: number }, req: Request, res: Response, _next: NextFunction) => {
    // Answered already: a body past its bound, refused before the parser had read it to its end.
    if (res.headersSent) return;
    if (err.type === "entity.too.large") refuseTooLarge(req, res, refused);
    else if (err.type === "entity.empty") rpcError(res, 400, ErrorCode.ParseError, NO_BODY);
    else if (err.type === "entity.depth") {
      rpcError(res, 400, -32600, `A request may nest arrays and objects at most ${MAX_DEPTH} levels deep`);
    } else if (err.type === "charset.unchecked" || err.type === "charset.unsupported") {
      rpcError(res, 415, -32600, "A request must be JSON in UTF-8 (or in UTF-16LE or UTF-16BE, named so)");
    } else if (err.type === "entity.values") {
      rpcError(
        res,
        400,
        -32600,
        `A request may hold at most ${MAX_VALUES} values (keys, strings, numbers, true, false, null, arrays and objects)`,
      );
    }
    // The body parser's refusals are the client's; anything else is waiter's, and passing.
    else if (err.type && err.status && err.status < 500) {
      rpcError(res, 400, -32700, "Parse error: the request body is not JSON");
    } else {
      log.fault("MCP request failed", err);
      res.set("retry-after", "5");
      rpcError(res, 503, -32603, "The request could not be handled now; try again in a moment");
    }
  };
}

/**
 * Mounts /mcp on the listener's app with what a request passes before `handle`: the bearer check
 * (tokens, OAuth), the rate and the body's bounds, each refusal said as JSON-RPC.
 */
export function mountRoutes(
  web: express.Express,
  app: App,
  log: Log,
  limits: SessionOptions & { timeouts: ListenerTimeouts },
  refused: Refused,
  handle: RequestHandler,
): void {
  const rate = rateLimit(limits.requestsPerMinute, () => clock.now());
  const { oauth } = limits;
  const known = limits.tokens.length ? tokenVerifier(limits.tokens) : undefined;
  const verifiers = [
    ...(known ? [known] : []),
    ...(oauth ? [oauthVerifier(oauth, log, (url, init) => app.http.fetch(url, init), limits.oauthTimeouts)] : []),
  ];
  const auth: RequestHandler[] = verifiers.length
    ? [
        bearerCheck(firstOf(verifiers), log, oauth, refused, limits.timeouts),
        scopeless(refused, oauth, limits.timeouts),
      ]
    : [];
  if (oauth) serveResourceMetadata(web, oauth);
  if (oauth || limits.tokens.length) refuseOAuthLogin(web, refused, oauth);
  // Express finds /mcp in any case, where OAuth names the resource as written: a client given /MCP
  // would be pointed at metadata naming …/mcp, which it refuses, and could get no token for /MCP.
  // One of http.tokens needs no login, and is served there as without OAuth.
  if (oauth) {
    web.use("/mcp", async (req, res, next) => {
      if (req.baseUrl === "/mcp") return next();
      const bearer = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
      if (known && bearer && (await known.verifyAccessToken(bearer).then(Boolean, () => false))) return next();
      // As asked: under publicUrl's path too, which a proxy may have passed on and the listener took off.
      const asked = req.originalUrl.split("?", 1)[0] ?? "";
      // A token of http.tokens mistyped, whose sender has no OAuth login to think of: both mistakes said at once.
      const why =
        known && bearer && !readsAsJwt(bearer)
          ? `Not found: ${quoteLine(asked)} is not this server's MCP address: connect to ${oauth.resource}, its path ${quoteLine(new URL(oauth.resource).pathname)} written letter for letter; and the token sent is not one this server knows`
          : `Not found: ${quoteLine(asked)} is not this server's MCP address, which OAuth logins are for as written: connect to ${oauth.resource}`;
      refused(404, why, undefined, "path");
      // Kept open, the connection would have Node read a body left unread to its end, a stranger's endless one too.
      if (bodyComing(req)) res.set("connection", "close");
      rpcError(res, 404, -32000, why);
    });
  }
  // Express answers HEAD with the GET route, which would check the token and the session first.
  web.head("/mcp", notAllowed);
  web.post(
    "/mcp",
    ...auth,
    refuseOversized(refused),
    inviteBody,
    // Not strict: a string or a number is JSON too, refused as no JSON-RPC message, not as no JSON.
    express.json({ limit: MAX_REQUEST_BYTES, verify: refuseBeyondBounds, strict: false }),
    refuseBatchWhereVersionTakesNone,
    ...(auth.length ? [throttle(rate, limits.requestsPerMinute, refused)] : []),
    handle,
  );
  web.get("/mcp", ...auth, handle);
  web.delete("/mcp", ...auth, handle);
  // An OPTIONS from no page, no preflight, is told the methods (RFC 9110 §9.3.7).
  web.options("/mcp", (_req, res) => void res.set("allow", ALLOW).status(204).end());
  web.all("/mcp", notAllowed);
  web.use("/mcp", jsonRpcErrors(log, refused));
}

/**
 * The first of `verifiers` that knows the token. When none does, the last refusal stands unless it
 * only says the token is no JWT: a mistyped configured token is refused in the words of theirs.
 */
function firstOf(verifiers: OAuthTokenVerifier[]): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token) {
      const refusals: unknown[] = [];
      for (const verifier of verifiers) {
        try {
          return await verifier.verifyAccessToken(token);
        } catch (err) {
          refusals.push(err);
        }
      }
      throw refusals.findLast((err) => !(err instanceof NotAJwtError)) ?? refusals.at(-1);
    },
  };
}
