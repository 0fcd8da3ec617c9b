import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import {
  ErrorCode,
  InitializeRequestSchema,
  isJSONRPCRequest,
  JSONRPCMessageSchema,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import type express from "express";
import type { Request, Response } from "express";
import type { App } from "../app-types.js";
import { declaresBody } from "../bodies.js";
import { invalidParams } from "../handlers.js";
import { type Log, throttled } from "../log.js";
import { clock } from "../time.js";
import type { ListenerTimeouts } from "../webhooks/limits.js";
import { answeredInJson, bearerRefusal, NO_BODY, rpcError, serveThrough } from "./answers.js";
import {
  batchRefusals,
  EMPTY_BATCH,
  INITIALIZE_ALONE,
  NOT_A_MESSAGE,
  OWN_ID,
  reusedId,
  whatIsWrong,
  wrongInBatch,
} from "./refusals.js";
import { metadataUrlOf, mountRoutes, pageAccess, type Refused } from "./routes.js";
import { type Open, type SessionOptions, sessionTable } from "./sessions.js";
import {
  answersLost,
  endCancelled,
  endHeldStream,
  NO_SUCH_EVENT_ID,
  namesStream,
  nameWhereItStands,
  notificationsUnread,
  opensStream,
  replayEnded,
  resumesCall,
  speaksVersion,
  streamEnded,
  takesStandingId,
  underWay,
  unspokenVersion,
} from "./streams.js";
import { allowedTools, WRITE_SCOPE, writeRefused } from "./tokens.js";

/** MCP over Streamable HTTP at /mcp, one MCP server per session; mounted on the listener's app. */
export interface McpSessions {
  /** `timeouts` bound how much of a body refused unread is still read. */
  mount(web: express.Express, timeouts: ListenerTimeouts): void;
  /** CORS for a page whose origin is allowed, run before any answer to /mcp. */
  pageAccess: express.RequestHandler;
  count(): number;
  /** GET streams open across the sessions: clients listening for notifications. */
  streams(): number;
  /** Requests under way across the sessions, streams among them. */
  answering(): number;
  /**
   * The first step of stopping: ends the sessions' notification streams, telling their clients
   * when to open them again, and refuses new ones, so that only requests in flight keep
   * connections open while they finish.
   */
  endStreams(): void;
  /** Closes every session: their GET streams end and their servers stop. */
  close(): Promise<void>;
}

/** What a request of a session that ended is told, with 404: how its client starts a new one. */
const SESSION_NOT_FOUND =
  "Session not found: it ended or expired; start a new one with an initialize that names no session (no Mcp-Session-Id header)";

/**
 * The ids of the requests a JSON-RPC message or batch cancels (`notifications/cancelled`). One sent
 * with an id is a request, refused as such: it cancels nothing.
 */
function cancelledIn(body: unknown): RequestId[] {
  return (Array.isArray(body) ? body : [body]).flatMap((message) => {
    const cancel = message as { method?: unknown; id?: unknown; params?: { requestId?: unknown } } | undefined;
    const id = cancel?.params?.requestId;
    return cancel?.method === "notifications/cancelled" &&
      cancel.id === undefined &&
      (typeof id === "string" || typeof id === "number")
      ? [id]
      : [];
  });
}

/**
 * Whether a body is a JSON-RPC message MCP takes, or a batch of them: what the SDK's transport
 * checks first in a session, where it refuses anything else.
 */
function jsonRpc(body: unknown): boolean {
  const valid = (message: unknown) => JSONRPCMessageSchema.safeParse(message).success;
  return Array.isArray(body) ? body.length > 0 && body.every(valid) : valid(body);
}

/**
 * The id of a request in `body` that another request of the session under way, or of the same
 * batch, has too, and why it is refused. MCP has each request of a session take an id of its own;
 * the SDK's transport sends an answer down the stream of the last request of its id, so the one
 * under way would never be answered, its stream held open for good.
 */
function reusedIn(body: unknown, transport: Open["transport"]): { id: RequestId; taken: string } | undefined {
  const ids = (Array.isArray(body) ? body : [body]).flatMap((message) =>
    isJSONRPCRequest(message) ? [message.id] : [],
  );
  return reusedId(ids, (id) => underWay(transport, id));
}

/**
 * Answers a POST whose body is JSON but no JSON-RPC message (an id that is an object, a progress
 * token with decimals, a string) -32600 by its id, as over stdio. True when it did. In a session
 * the SDK's transport answers it -32700, "Parse error", with id null: a client reads that as JSON
 * it garbled, and cannot tell which of its requests failed. Outside one, an initialize so refused
 * is told that, rather than told to start its session with the initialize it may be.
 */
function refuseNonMessage(req: Request, res: Response): boolean {
  // A body of another type was not read as JSON: refuseOtherType refuses it.
  if (req.method !== "POST" || !req.is("application/json") || jsonRpc(req.body)) return false;
  const batch: unknown = req.body;
  if (!Array.isArray(batch)) {
    rpcError(res, 400, ErrorCode.InvalidRequest, `${NOT_A_MESSAGE}: ${whatIsWrong(batch)}`);
    return true;
  }
  if (batch.length === 0) {
    rpcError(res, 400, ErrorCode.InvalidRequest, `Invalid Request: ${EMPTY_BATCH}`);
    return true;
  }
  const wrong = batch.findIndex((message) => !JSONRPCMessageSchema.safeParse(message).success);
  refuseBatch(res, batch, wrongInBatch(batch[wrong], wrong + 1));
  return true;
}

/** Answers a batch none of which is done 400, each of its requests told `why` by its id. */
function refuseBatch(res: Response, batch: readonly unknown[], why: string) {
  res.status(400).json(batchRefusals(batch, why));
}

/**
 * Answers a POST that carries no body at all (`curl -X POST`, or a Content-Length of 0) -32700 by
 * itself: read further, one that names no Content-Length would be told its type is not JSON, and
 * one of 0 bytes, read as `{}`, that it is no JSON-RPC message. True when it did. One sent chunked
 * is known to be empty only once read: the body's bounds check refuses it so.
 */
function refuseEmpty(req: Request, res: Response): boolean {
  if (req.method !== "POST" || declaresBody(req)) return false;
  rpcError(res, 400, ErrorCode.ParseError, NO_BODY);
  return true;
}

/**
 * Answers a POST whose body is of another type than JSON 415, saying the type to send. True when it
 * did. The body was not read, so whether it is an initialize is not known: the type is what to fix.
 * In a session the SDK's transport checks Accept first: a client that takes JSON alone, as waiter
 * lets it, was told to take an event stream too, and then that its type was wrong.
 */
function refuseOtherType(req: Request, res: Response): boolean {
  if (req.method !== "POST" || req.is("application/json")) return false;
  rpcError(res, 415, -32000, "Unsupported Media Type: MCP messages are sent as Content-Type: application/json");
  return true;
}

/**
 * What a GET for an event stream naming no session is told: the HTTP+SSE transport of MCP
 * 2024-11-05 opens so, and the SDK's client of it shows its user the status alone, so the log says
 * it too.
 */
const NOT_STREAMABLE =
  "Bad Request: a GET for an event stream naming no session (no Mcp-Session-Id header) opens the HTTP+SSE transport of MCP 2024-11-05, which waiter does not serve: connect with Streamable HTTP, whose session starts with an initialize POSTed to this address";

/**
 * Answers a request without Mcp-Session-Id that opens no session: anything but an initialize its
 * schema takes. True when it did.
 */
function refuseOutsideSession(req: Request, res: Response, refused: Refused): boolean {
  // Not a page opened in a browser, which asks for no event stream by name, nor a Streamable HTTP
  // client that names its version or where its stream stood: the SDK's opens its stream again so
  // once it ended its session.
  if (
    req.method === "GET" &&
    /text\/event-stream/i.test(req.headers.accept ?? "") &&
    req.headers["mcp-protocol-version"] === undefined &&
    req.headers["last-event-id"] === undefined
  ) {
    refused(400, NOT_STREAMABLE, req.auth?.clientId);
    rpcError(res, 400, -32000, NOT_STREAMABLE);
    return true;
  }
  // MCP 2025-03-26, the one version with batches, has an initialize sent alone: one in a batch is
  // refused, but told so, not to start its session with the initialize it sent.
  if (
    req.method === "POST" &&
    Array.isArray(req.body) &&
    req.body.some((m) => isJSONRPCRequest(m) && m.method === "initialize")
  ) {
    refuseBatch(res, req.body, INITIALIZE_ALONE);
    return true;
  }
  // A session starts with an initialize; one its schema refuses (no clientInfo, a version as a
  // number) opens none, and is told what is wrong as over stdio.
  const initialize =
    req.method === "POST" && isJSONRPCRequest(req.body) && req.body.method === "initialize" ? req.body : undefined;
  const checked = initialize && InitializeRequestSchema.safeParse(initialize);
  if (!checked?.success) {
    if (initialize && checked) {
      const refused = invalidParams("initialize", checked.error, initialize.params);
      rpcError(res, 400, refused.code, refused.message);
    } else {
      rpcError(res, 400, -32000, "Bad Request: no Mcp-Session-Id header; a session starts with an initialize request");
    }
    return true;
  }
  return false;
}

/**
 * A GET's stream, while it is open: counted in its session's streams, and ended when its token
 * lapses. The one it opens again, if held, ends first. A full notification stream cut so is said
 * through `cut`, with why: its client is not told, and its operator would see it end unexplained.
 */
function holdStream(entry: Open, req: Request, res: Response, cut: (why: string) => void) {
  // A client opens a stream again when it lost the one it had, which may still look open here: it
  // died at a proxy, or on a network the client left, unseen. The transport would refuse the new
  // one with 409, which the SDK's clients give up on after two tries, and the session would be
  // heard on the dead one. The newest is the one its client reads, once the transport will take it:
  // a GET it refuses must not end the stream the client does read.
  const lastId = req.headers["last-event-id"];
  const reopened = typeof lastId === "string" ? lastId : undefined;
  if (opensStream(req)) {
    if (endHeldStream(entry, reopened)) cut("its client opened it again on another connection");
    entry.takesStandingId = takesStandingId(req.headers["mcp-protocol-version"]);
    if (!resumesCall(reopened)) {
      entry.notifications = res;
      entry.heardWhileListening = undefined;
      entry.unreadWhenTaking = 0;
      res.on("drain", () => {
        if (entry.notifications === res) entry.unreadWhenTaking = notificationsUnread(entry.transport);
      });
    }
  }
  entry.streams += 1;
  // A stream is heard for as long as its token holds, no longer: the client opens it again with a
  // token it has now, and a lapsed or revoked one is asked for another. The stream is the one this
  // GET opened: a call's it came back to, or else the session's notification stream, which another
  // GET with a newer token may hold by then.
  const heldFor = req.auth?.expiresAt === undefined ? undefined : req.auth.expiresAt * 1000 - clock.now();
  // Past a timer's longest wait (24.8 days) a token is as good as lasting.
  const lapse =
    heldFor === undefined || heldFor >= 2 ** 31
      ? undefined
      : setTimeout(() => {
          if (endHeldStream(entry, reopened)) cut("the token it was opened with lapsed");
        }, heldFor);
  lapse?.unref();
  res.once("close", () => {
    clearTimeout(lapse);
    entry.streams -= 1;
    if (entry.notifications === res) {
      entry.notifications = undefined;
      // Of a copy taken up whose client has yet to read its stream, as much as it had heard before.
      entry.heardWhileListening ??= entry.catchingUp?.heardSeq ?? entry.session.heardSeq();
    }
  });
}

/**
 * The sessions of MCP clients over Streamable HTTP, as the SDK's transport keeps them: an
 * initialize without Mcp-Session-Id opens one (its own McpServer, its own log for notifications),
 * every later request names it, DELETE ends it. A session that sends nothing and listens on no
 * stream for `idleMs` is closed, checked each minute and before a new one opens; their number is capped.
 *
 * A session is also written to the event store with what its client sent at initialize, and a
 * server that gets a request of a session it does not hold (a replica on the same PostgreSQL, or
 * this server restarted) takes it up: it opens its own copy, initialized as the client
 * initialized the first and subscribed to what its client subscribed to, and keeps it while the
 * session's requests come to it. What a copy holds between requests (its notification stream,
 * logging level, replay buffer) is its own.
 */
export function mcpSessions(app: App, log: Log, limits: SessionOptions): McpSessions {
  const {
    open,
    shared,
    storeFailed,
    unseenSince,
    closeIdle,
    roomForCaller,
    holdsHalf,
    roomForOne,
    openSession,
    leftIfServedElsewhere,
    close,
  } = sessionTable(app, log, limits);

  /**
   * A refused request to /mcp, said as its client was told: the connectors of claude.ai and ChatGPT
   * show a 401's reason to no one, so the log is where it is read. A line a minute for each caller,
   * reason and address: a flood of bad tokens from one machine, whose callers are not known, makes
   * one line a minute.
   */
  const refusals = throttled((line) => log.info(line));
  const refused = (status: number, why: string, caller?: string, reason = why, from?: string) =>
    refusals(
      `MCP request${from ? ` from ${from}` : ""}${caller ? ` with token ${caller}` : ""} got ${status}: ${why}`,
      `${caller ?? ""}\n${reason}\n${from ?? ""}`,
    );

  /**
   * A tools/call, alone or in a JSON-RPC batch, of a tool the caller could call with waiter:write
   * but not with the scope it has: its name. A tool outside a token's toolsets is none its session
   * serves, which that session says as of any unknown tool: no scope would let the token call it.
   */
  const needsWrite = (body: unknown, auth: AuthInfo | undefined): string | undefined => {
    if (!auth || auth.scopes.includes(WRITE_SCOPE)) return undefined;
    const withWrite = allowedTools({ ...auth, scopes: [...auth.scopes, WRITE_SCOPE] });
    for (const message of Array.isArray(body) ? body : [body]) {
      const call = message as { method?: unknown; params?: { name?: unknown } } | undefined;
      if (call?.method !== "tools/call" || typeof call.params?.name !== "string") continue;
      const tool = app.tools.find((t) => t.name === call.params?.name);
      // Without waiter:write, a tool that is not read-only is not this token's now.
      if (tool && !tool.annotations.readOnlyHint && withWrite(tool)) return tool.name;
    }
    return undefined;
  };

  /** Answers 403 to a call the caller's token needs waiter:write for; true when it did. */
  const refuseWrite = (req: Request, res: Response): boolean => {
    const caller = req.auth?.clientId;
    const beyond = needsWrite(req.body, req.auth);
    if (!beyond) return false;
    // The challenge in OAuth's words, with where to ask for more, as the 401's says it.
    const why = writeRefused(caller ?? "", beyond);
    refused(403, why, caller);
    bearerRefusal(res, 403, "insufficient_scope", why, {
      whyInChallenge: false,
      scope: WRITE_SCOPE,
      metadataUrl: metadataUrlOf(req, limits.oauth),
    });
    return true;
  };

  let stopping = false;
  /** Take-ups under way, by caller and session: requests of one session that arrive together take it up once. */
  const takingUps = new Map<string, Promise<"unavailable" | "full" | "caller" | undefined>>();
  /** Session `id` as the store holds it, if it is open and the caller's. */
  const heldInStore = async (req: Request, id: string) => {
    const known = await shared?.get(id).catch(() => "unavailable" as const);
    if (known === "unavailable") return known;
    // One left in the store by a server that stopped long ago ended while no server was up to end it.
    if (!known || known.lastSeen < unseenSince() || (known.caller ?? undefined) !== req.auth?.clientId) {
      return undefined;
    }
    return known;
  };
  /** Opens this replica's copy of a session another opened, if it is open and the caller's. */
  const takeUp = async (req: Request, id: string) => {
    const known = await heldInStore(req, id);
    if (known === "unavailable" || !known) return known;
    if (stopping) return "full";
    // A DELETE is taken up only to be ended, which is what a caller told its sessions are all in
    // use is asked to do: it needs no room. Anything else would, past the caller's half or the cap;
    // its sessions left to the store, or opened on other replicas, would otherwise all come back
    // here past its half, and keep the other callers out.
    if (req.method !== "DELETE") {
      if (req.auth && !roomForCaller(req.auth.clientId, true)) return "caller";
      if (!roomForOne()) return "full";
    }
    await openSession(req, {
      id,
      init: JSON.parse(known.init),
      subscriptions: known.subscriptions,
      lastSeen: known.lastSeen,
      heardSeq: known.heardSeq,
    });
    return undefined;
  };

  /**
   * The copy of session `id` this server holds for the caller, taken up from the store if another
   * server opened it, or served it since this one last did. Undefined when there is none to serve
   * the request, which was answered so.
   */
  const sessionFor = async (req: Request, res: Response, id: string): Promise<Open | undefined> => {
    const caller = req.auth?.clientId;
    const held = open.get(id);
    // Another request of the session may have left the copy meanwhile, and be taking it up.
    if (held && held.caller === caller) await leftIfServedElsewhere(id, held);
    let entry = open.get(id);
    if (!entry && shared) {
      // Refused as the transport would refuse it, and no copy takes a place for it. A session no
      // server holds is told 404 first, as the transport tells it: its client starts a new one, in
      // a version they negotiate. One the store cannot be asked of now is told its version: told
      // 503, its client would try again in the version it cannot change.
      if (!speaksVersion(req)) {
        if (await heldInStore(req, id)) rpcError(res, 400, -32000, unspokenVersion(req));
        else rpcError(res, 404, -32001, SESSION_NOT_FOUND);
        return undefined;
      }
      const key = `${caller ?? ""}\n${id}`;
      let takingUp = takingUps.get(key);
      if (!takingUp) {
        takingUp = takeUp(req, id).finally(() => takingUps.delete(key));
        takingUps.set(key, takingUp);
      }
      const refusal = await takingUp;
      // The session lives on: a 404 would make the client drop it, so it is told to come back.
      if (refusal) {
        res.set("retry-after", "5");
        const message =
          refusal === "unavailable"
            ? "The session cannot be looked up now (the event store is unreachable); try again"
            : refusal === "caller" && caller !== undefined
              ? holdsHalf(caller)
              : "This replica holds its most sessions, or is stopping; try again";
        refused(503, message, caller);
        rpcError(res, 503, -32000, message);
        return undefined;
      }
      entry = open.get(id);
    }
    // Another token's session is as unknown to this caller as one that ended.
    if (!entry || entry.caller !== caller) {
      rpcError(res, 404, -32001, SESSION_NOT_FOUND);
      return undefined;
    }
    return entry;
  };

  /**
   * A client told by a 403 to ask for waiter:write logs in again and goes on in its session
   * with the new token (MCP's step-up): the session gains the tools that scope allows, and
   * its client is told the list changed. A narrower token takes nothing away: needsWrite
   * refuses its writes request by request.
   */
  const stepUp = (entry: Open, req: Request, id: string) => {
    if (!entry.writes && req.auth?.scopes.includes(WRITE_SCOPE)) {
      entry.writes = true;
      const gained = entry.session.widen(allowedTools(req.auth));
      if (gained.length) {
        log.info(
          `MCP session ${id} serves ${gained.join(", ")} too: token ${req.auth.clientId} came with ${WRITE_SCOPE}`,
        );
      }
    }
  };

  /**
   * A request of a session: its copy found or taken up, widened for a token that came with
   * waiter:write or refused a call that needs it, then served through the copy's transport.
   */
  const serveInSession = async (req: Request, res: Response, id: string) => {
    const entry = await sessionFor(req, res, id);
    if (!entry) return;
    // The transport refuses it with id null, which its client cannot tie to the request, and in
    // words ("Server already initialized") that do not say how a session starts anew.
    if (req.method === "POST" && isJSONRPCRequest(req.body) && req.body.method === "initialize") {
      rpcError(
        res,
        400,
        ErrorCode.InvalidRequest,
        "Invalid Request: this session is initialized already; an initialize that names no session (no Mcp-Session-Id header) starts a new one",
      );
      return;
    }
    // The transport refuses a POST so too, but by id null, where the request's id is known.
    if (req.method === "POST" && !speaksVersion(req)) {
      rpcError(res, 400, -32000, unspokenVersion(req));
      return;
    }
    entry.lastSeen = clock.now();
    stepUp(entry, req, id);
    if (refuseWrite(req, res)) return;
    const reused = req.method === "POST" ? reusedIn(req.body, entry.transport) : undefined;
    if (reused !== undefined) {
      const why = `${reused.taken}; ${OWN_ID}`;
      if (Array.isArray(req.body)) refuseBatch(res, req.body, why);
      else rpcError(res, 400, ErrorCode.InvalidRequest, `Invalid Request: ${why}`);
      return;
    }
    const lastId = req.headers["last-event-id"];
    if (req.method === "GET" && typeof lastId === "string" && opensStream(req) && !namesStream(lastId)) {
      rpcError(res, 400, -32000, NO_SUCH_EVENT_ID);
      return;
    }
    // A GET the transport would refuse (no event stream in Accept, a protocol version it does not
    // speak) is left to it to refuse, as MCP has it, whatever stream it names.
    if (
      req.method === "GET" &&
      typeof lastId === "string" &&
      opensStream(req) &&
      streamEnded(entry.transport, lastId)
    ) {
      replayEnded(entry.replay, lastId, id, res);
      return;
    }
    // A client that sends on the session while a stream the catch-up was sent on is open has had it:
    // one that keeps no event ids, back with none, must not be sent it again at each GET.
    if (req.method === "POST" && entry.notifications !== undefined) entry.catchingUp = undefined;
    if (req.method === "GET" && opensStream(req) && !resumesCall(typeof lastId === "string" ? lastId : undefined)) {
      // A client whose stream named no event id before (one of MCP before 2025-11-25, whose stream
      // carried nothing) comes back with none: it is sent the catch-up the copy taken up kept for it
      // all the same, but not what it read live after it.
      // Until its client names the catch-up's last event or a later one: one back with none, or with
      // one from before it, read none or only some of it (its connection closed first), and is sent
      // the rest again.
      const { catchingUp } = entry;
      if (catchingUp !== undefined && lastId === undefined) {
        req.headers["last-event-id"] = entry.replay.catchUpId(catchingUp.through);
      } else if (typeof lastId === "string" && catchingUp && entry.replay.heardThrough(lastId, catchingUp.through)) {
        entry.catchingUp = undefined;
      }
    }
    if (req.method === "GET") {
      holdStream(entry, req, res, (why) =>
        log.info(`MCP session ${id}: cut its notification stream, whose client left its connection full, as ${why}`),
      );
    }
    entry.inFlight += 1;
    res.once("close", () => {
      entry.inFlight -= 1;
      entry.lastSeen = clock.now();
      if (req.method !== "POST") return;
      for (const lost of answersLost(entry.transport, req.body, answeredInJson(req))) {
        log.info(
          `MCP session ${id}: the answer to request ${JSON.stringify(lost)} is lost: its stream's connection closed before it, its client holding no event id to come back for it with`,
        );
        entry.session.lost(lost);
      }
    });
    // A DELETE the transport took ends the session for the other replicas too, before its client
    // hears so: its next request, to any replica, finds it ended.
    const ending =
      req.method === "DELETE" && shared
        ? async (answer: globalThis.Response) => {
            if (answer.ok) await shared.close(id).catch(storeFailed(`ending session ${id}`, "ending"));
          }
        : undefined;
    // A stream the GET opened names where it stands first, to a client that takes that.
    const opening =
      req.method === "GET" && takesStandingId(req.headers["mcp-protocol-version"])
        ? async (answer: globalThis.Response) => {
            if (answer.ok && answer.headers.get("content-type")?.startsWith("text/event-stream")) {
              nameWhereItStands(entry, typeof lastId === "string" ? lastId : undefined);
            }
          }
        : undefined;
    await serveThrough(entry.transport, req, res, ending ?? opening);
    if (req.method === "DELETE" && res.statusCode < 300) log.info(`MCP session ${id} ended by its client: closed`);
    // After the transport took it: the call is aborted, and sends nothing more on its stream.
    if (req.method === "POST" && res.statusCode < 300) {
      for (const cancelled of cancelledIn(req.body)) endCancelled(entry.transport, cancelled);
    }
  };

  /**
   * An initialize: opens a session where there is room for one (the caller's half, and the most the
   * server holds), and answers it there.
   */
  const serveInitialize = async (req: Request, res: Response) => {
    const caller = req.auth?.clientId;
    closeIdle();
    if (caller !== undefined && !roomForCaller(caller)) {
      res.set("retry-after", "60");
      refused(503, holdsHalf(caller), caller);
      rpcError(res, 503, -32000, holdsHalf(caller));
      return;
    }
    if (!roomForOne()) {
      res.set("retry-after", "60");
      const full = (most: string) =>
        `The server holds its most sessions (${most})${shared ? ", none of which it can leave to the store now" : ""}; try again later`;
      // The operator reads it in the log, where the setting that raises the cap is named.
      refused(503, full(`${limits.maxSessions}, ${limits.maxSessionsSetting}`), caller);
      rpcError(res, 503, -32000, full(String(limits.maxSessions)));
      return;
    }
    const transport = await openSession(req);
    await serveThrough(transport, req, res);
    // An initialize the transport refused (an Accept without both types, say) opened no session,
    // and nothing else would ever close the server made for it.
    if (transport.sessionId === undefined) await transport.close();
  };

  /** A request to /mcp past the routes' checks: one of a session, or one that may open a session. */
  const handle = async (req: Request, res: Response) => {
    // An empty one names no event, as the SDK's transport and an EventSource take it: the stream opens afresh.
    if (req.headers["last-event-id"] === "") delete req.headers["last-event-id"];
    // A client back for a call's answer is served: the stop lets the call finish.
    const lastId = req.headers["last-event-id"];
    if (stopping && req.method === "GET" && !resumesCall(typeof lastId === "string" ? lastId : undefined)) {
      res.set("retry-after", "5");
      rpcError(res, 503, -32000, "The server is stopping; open the stream again on its next start");
      return;
    }
    if (refuseEmpty(req, res) || refuseOtherType(req, res) || refuseNonMessage(req, res)) return;
    const id = req.headers["mcp-session-id"];
    // An empty header names no session, as the SDK's transport takes it.
    if (typeof id === "string" && id !== "" && !(await startsAfresh(req, id))) await serveInSession(req, res, id);
    else if (!refuseOutsideSession(req, res, refused)) await serveInitialize(req, res);
  };

  /**
   * Whether a request is an initialize naming a session that no server holds for its caller: one
   * that ended (idle, or on a restart). It opens a new session, as one that names none: a client
   * that starts again with the id it had kept would be told 404 for it again and again. One naming
   * a session the caller holds is refused as initialized already.
   */
  const startsAfresh = async (req: Request, id: string): Promise<boolean> => {
    if (req.method !== "POST" || !isJSONRPCRequest(req.body) || req.body.method !== "initialize") return false;
    const held = open.get(id);
    if (held && held.caller === req.auth?.clientId) return false;
    return shared === undefined || (await heldInStore(req, id)) === undefined;
  };

  return {
    mount: (web, timeouts) => mountRoutes(web, app, log, { ...limits, timeouts }, refused, handle),
    pageAccess,
    count: () => open.size,
    endStreams() {
      stopping = true;
      // Each ends after what waits on it, not cut when its connection is full: its client, reading
      // slowly through a burst, has the rest within the drain time, which no next start keeps for it.
      for (const entry of open.values()) {
        endHeldStream({ ...entry, notifications: undefined }, undefined);
        // What the copy hears from now on, as deliveries in flight commit, reaches its client only
        // through the next server, which tells it of the events stored after those it was told of.
        entry.heardWhileListening ??= entry.session.heardSeq();
      }
    },
    streams: () => [...open.values()].reduce((sum, entry) => sum + entry.streams, 0),
    answering: () => [...open.values()].reduce((sum, entry) => sum + entry.inFlight, 0),
    close,
  };
}
