import { randomUUID } from "node:crypto";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Request, Response } from "express";
import type { App, Session } from "../app-types.js";
import type { SessionLog } from "../events/store.js";
import { untilAborted } from "../http/deadline.js";
import { type Log, throttled } from "../log.js";
import { clock } from "../time.js";
import type { OAuthSettings, OAuthTimeouts } from "./oauth.js";
import {
  keepAliveWhileIdle,
  leftUnread,
  notificationsUnread,
  ReplayBuffer,
  requestsCarried,
  sdkLacks,
} from "./streams.js";
import { allowedTools, callerNamed, type Token, WRITE_SCOPE } from "./tokens.js";

export interface SessionOptions {
  /** Most sessions open at once; an initialize beyond them gets 503. */
  maxSessions: number;
  /**
   * maxSessions' setting as the operator set it (WAITER_MAX_SESSIONS, or the key in their file),
   * which the log of a full server's 503 names for them to raise.
   */
  maxSessionsSetting: string;
  /** A session that sent nothing this long, and holds no stream open, is closed. */
  idleMs: number;
  /** Who may call, with a bearer token; none: anyone who reaches the address (loopback only). */
  tokens: readonly Token[];
  /** Requests one token may make per minute. */
  requestsPerMinute: number;
  /** An authorization server whose access tokens are taken too, and where clients learn of it. */
  oauth?: OAuthSettings & { metadataUrl: string };
  /** How long reading its metadata and keys may take: by default oauth.ts's; a test shortens them. */
  oauthTimeouts?: OAuthTimeouts;
}

/** This server's copy of a session, as the table holds it. */
export interface Open {
  /** The name of the token that opened the session; only it may use the session. */
  caller: string | undefined;
  transport: WebStandardStreamableHTTPServerTransport;
  replay: ReplayBuffer;
  session: Session;
  /** Whether it serves what waiter:write allows: opened or taken up with it, or with no token, or gained it since. */
  writes: boolean;
  lastSeen: number;
  /** What the client sent at initialize, while the shared store does not hold the session yet. */
  init: string | undefined;
  /** GET streams open: clients listening for notifications, counted for `streams()`. */
  streams: number;
  /**
   * The connection of the notification stream a GET holds open, if one does: closed when its client
   * leaves too much of it unread (`leftUnread`).
   */
  notifications: Response | undefined;
  /**
   * How many messages of the notification stream waited unread when its connection last took more
   * (its last drain), none when it opened: a client behind a slow link that reads on steadily may
   * leave many unread through a burst; one that takes none of UNREAD_MOST more is stuck.
   */
  unreadWhenTaking: number;
  /**
   * Requests under way, streams among them: a session answering one is not idle, however long it
   * waits, nor closed to make room.
   */
  inFlight: number;
  /**
   * Whether the client of its streams, as its last GET said, takes an event that only names where
   * a stream stands (MCP 2025-11-25 on): one ended while the session goes on names it.
   */
  takesStandingId: boolean;
  /**
   * The newest event its client was told of on its notification stream as that stream last stopped
   * carrying (its connection closed, or the stop ended it): one the copy heard of since reached no
   * client. Undefined while that stream carries, when its client is told what the copy hears.
   */
  heardWhileListening: number | undefined;
  /** The session's subscriptions as the store last had them from this server. */
  keptSubscriptions: string;
  /** The write of the session's subscriptions under way, after which the next is made: an older set must not land last. */
  keeping: Promise<void>;
  /**
   * For a copy taken up, until its client shows it read what the copy kept of its notification
   * stream (what changed while no server held the session): a GET names the catch-up's last message
   * (`through`, in the copy's replay buffer) or a later one, or a POST comes while a stream is open.
   * Its client had heard of the events up to `heardSeq`. A stream that closed before its client read
   * the catch-up, or a GET naming an event before it, leaves it so; undefined once caught up, or
   * when the copy had nothing to catch up.
   */
  catchingUp: { heardSeq: number; through: number } | undefined;
}

/** A session's subscriptions as one comparable value. */
const subscriptionsOf = (session: Session) => JSON.stringify([...session.subscriptions].sort());

/** How often sessions are looked over: idle ones closed, the shared store told and asked. */
const SWEEP_MS = 60_000;
/** How long a stop waits for the store to learn the sessions' last use: an unreachable one must not hold it. */
const STORE_AT_STOP_MS = 2_000;
/**
 * How long a subscription's answer waits for the store to keep it: a slow store must not hold the
 * client; the write goes on, and a failed one is made again at the sweep.
 */
const SUBSCRIPTIONS_KEPT_MS = 2_000;

/**
 * Initializes the copy of a session taken up from the store as its client initialized the first:
 * what it sent then, its initialize and notifications/initialized, sent again through the copy's
 * transport.
 */
async function initializeAgain(
  transport: WebStandardStreamableHTTPServerTransport,
  taken: { id: string; init: unknown },
  auth: AuthInfo | undefined,
) {
  const post = (message: object, sessionId?: string) =>
    transport.handleRequest(
      new Request("http://waiter.invalid/mcp", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          // After the initialize, the transport refuses a message that does not name the session.
          ...(sessionId ? { "mcp-session-id": sessionId } : {}),
        },
        body: JSON.stringify(message),
      }),
      { authInfo: auth, parsedBody: message },
    );
  await (await post({ jsonrpc: "2.0", id: 0, method: "initialize", params: taken.init })).text();
  await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, taken.id)).text();
}

/**
 * The copies of sessions this server holds: how one is opened or taken up, how room is made for
 * one, and what the shared store is told of them, at each sweep and at the stop.
 */
export function sessionTable(app: App, log: Log, limits: SessionOptions) {
  const open = new Map<string, Open>();
  const shared = app.store?.sessions;
  /** The copies the stop closed, which leaves their sessions in the store. */
  let leftAtStop: ReadonlySet<Open> = new Set();
  /**
   * A store that is away or full fails for every session at every sweep: a line a minute for each
   * kind of failure (`kind`, else `what`), saying how many like it were left out, not one each.
   */
  const storeWarning = throttled((line) => log.warning(line));
  const storeFailed =
    (what: string, kind = what) =>
    (err: unknown) =>
      storeWarning(`MCP sessions: ${what} in the store failed: ${err instanceof Error ? err.message : err}`, kind);
  /** The first write that goes through after failures says the store answers again. */
  const storeAnswers = () => {
    const failed = storeWarning.endAll();
    if (failed) {
      log.warning(
        `MCP sessions: the event store answers again after ${failed.seconds} s; ${failed.count} of its writes failed meanwhile`,
      );
    }
  };

  /** Writes a session this replica opened to the shared store; false when the store failed. */
  const record = (id: string, entry: Open) =>
    (shared as SessionLog).open(id, entry.caller ?? null, entry.init as string, entry.lastSeen).then(
      () => true,
      (err) => {
        storeFailed(`recording session ${id}`, "recording")(err);
        return false;
      },
    );

  /** Sessions no server has seen since this time are over (the store learns when each is used once a sweep). */
  const unseenSince = () => clock.now() - limits.idleMs - 2 * SWEEP_MS;

  /** Closes a session that holds no stream, for every server unless one used it since. */
  const end = (id: string, entry: Open, why: string) => {
    log.info(`MCP session ${id} ${why}: closed`);
    open.delete(id);
    void entry.transport.close();
    // Its next request is not taken up.
    if (shared && entry.init === undefined) {
      void shared.close(id, entry.lastSeen).catch(storeFailed(`ending session ${id}`, "ending"));
    }
  };
  /** Closes the copies nothing used for `idleMs`; a session listening on its stream is never idle. */
  const closeIdle = () => {
    for (const [id, entry] of open) {
      if (entry.inFlight > 0) entry.lastSeen = clock.now();
      else if (clock.now() - entry.lastSeen >= limits.idleMs) {
        end(id, entry, `was idle for ${Math.round(limits.idleMs / 60_000)} min`);
      }
    }
  };
  /**
   * Closes the least recently used of `copies` with nothing under way (no call, no stream), to make
   * room. With a store, only one the store holds whole (recorded, its subscriptions kept) goes: it
   * is left there, and its next request takes it up again, here or on another replica. It is never
   * ended for every replica, as an idle one is: another replica, which says when it used a session
   * only at its sweep, may have served it a moment ago. Without a store, the session ends. False
   * when none can go.
   */
  const makeRoom = (copies: [string, Open][], forWhom = ""): boolean => {
    const idlest = copies
      .filter(
        ([, entry]) =>
          entry.inFlight === 0 &&
          (!shared || (entry.init === undefined && subscriptionsOf(entry.session) === entry.keptSubscriptions)),
      )
      .sort(([, a], [, b]) => a.lastSeen - b.lastSeen)[0];
    if (!idlest) return false;
    const [id, entry] = idlest;
    if (!shared) {
      end(id, entry, `made room ${forWhom}`);
      return true;
    }
    log.info(
      `MCP session ${id} left to the store to make room${forWhom && ` ${forWhom}`}: its next request takes it up again`,
    );
    leaveToStore(id, entry);
    return true;
  };
  /** Closes this server's copy of a session the store holds whole, leaving the session to the store. */
  const leaveToStore = (id: string, entry: Open) => {
    open.delete(id);
    void entry.transport.close();
  };
  /**
   * Leaves to the store this server's copy of session `id` when another replica served the session
   * after its last use here (the store saw it later): its client's requests went there, which took
   * it up and may have subscribed it to more, and now come back (that replica died). The copy
   * would serve the session as it was when it was last used here. A copy used here within a sweep,
   * busy, or holding what the store has yet to keep stays.
   */
  const leftIfServedElsewhere = async (id: string, entry: Open): Promise<void> => {
    if (
      !shared ||
      entry.inFlight > 0 ||
      entry.init !== undefined ||
      subscriptionsOf(entry.session) !== entry.keptSubscriptions ||
      clock.now() - entry.lastSeen < SWEEP_MS
    ) {
      return;
    }
    const known = await shared.get(id).catch(() => undefined);
    if (!known || known.lastSeen <= entry.lastSeen || open.get(id) !== entry || entry.inFlight > 0) return;
    log.info(`MCP session ${id} was served on another replica since its last use here: taken up again from the store`);
    leaveToStore(id, entry);
  };
  /**
   * Room for a new session of a caller where there can be several (OAuth's users, more than one
   * token): it holds half the sessions at most, so one user's connector that opens a session per
   * chat and never ends one cannot keep the others out. At that share one of its own makes room.
   */
  const severalCallers = limits.oauth !== undefined || limits.tokens.length > 1;
  const roomForCaller = (caller: string, takingUp = false): boolean => {
    if (!severalCallers) return true;
    const own = [...open].filter(([, entry]) => entry.caller === caller);
    if (own.length < Math.max(1, Math.floor(limits.maxSessions / 2))) return true;
    const forWhat = takingUp ? "a session taken up by" : "a new session of";
    return makeRoom(own, `for ${forWhat} ${caller}, which holds ${own.length}`);
  };
  /** What a caller whose half of the sessions is all in use is told. */
  const holdsHalf = (caller: string) =>
    `${callerNamed(caller)} holds half the server's sessions, each with a call or its stream open${shared ? " or subscriptions the store has yet to keep" : ""}; end one (DELETE /mcp) or try again later`;
  /**
   * Room for one more copy of a session. Past the cap, one the store holds whole makes room. Without
   * this, the copy an initialize opened, whose client's later requests go to another replica (a load
   * balancer hashes the session header, which an initialize has not), would hold its place until idle.
   */
  const roomForOne = (): boolean => open.size < limits.maxSessions || (shared !== undefined && makeRoom([...open]));
  /**
   * Each minute: closes idle copies, tells the other replicas when this one last used each of its
   * sessions, closes the copies of sessions that ended elsewhere (a DELETE through another
   * replica), and ends the sessions no replica has used for `idleMs` (give or take a sweep).
   */
  const sweep = async () => {
    closeIdle();
    if (!shared) return;
    const { recorded, stillOpen } = await tellStore(shared);
    if (stillOpen) {
      for (const [id, entry] of recorded) {
        if (!stillOpen.has(id)) {
          log.info(`MCP session ${id} ended on another replica: closed here`);
          void entry.transport.close();
        }
      }
    }
    await shared.expire(unseenSince()).catch(storeFailed("ending idle sessions"));
  };
  /**
   * Writes the sessions the store does not hold yet (opened while it was away), when each of this
   * server's sessions was last used, and the subscriptions that changed since they were last
   * written; resolves with the sessions still open there.
   */
  const tellStore = async (store: SessionLog) => {
    for (const [id, entry] of open) {
      if (entry.init === undefined || !(await record(id, entry))) continue;
      entry.init = undefined;
      // Ended here while it was written (its client's DELETE, which found nothing to end in the
      // store): the write must not bring it back for its next request to take up. One the stop
      // closed stays, for the next server to take up.
      if (open.get(id) !== entry && !leftAtStop.has(entry)) {
        await store.close(id).catch(storeFailed(`ending session ${id}`, "ending"));
      }
    }
    const recorded = [...open].filter(([, entry]) => entry.init === undefined);
    const used = new Map(recorded.map(([id, entry]) => [id, entry.lastSeen]));
    const heard = new Map(recorded.map(([id, entry]) => [id, entry.heardWhileListening ?? entry.session.heardSeq()]));
    const stillOpen = await store.seen(used, heard).catch(storeFailed("marking sessions seen"));
    if (stillOpen) storeAnswers();
    for (const [id, entry] of recorded) await keepSubscriptions(store, id, entry);
    return { recorded, stillOpen };
  };
  /**
   * Writes the session's subscriptions where they changed since the store last had them, after the
   * write under way for it, if any. Its client, killed right after it subscribed, would find the
   * subscription gone at the next server.
   */
  const keepSubscriptions = (store: SessionLog, id: string, entry: Open): Promise<void> => {
    entry.keeping = entry.keeping.then(async () => {
      const now = subscriptionsOf(entry.session);
      if (entry.init !== undefined || now === entry.keptSubscriptions) return;
      try {
        await store.keepSubscriptions(id, [...entry.session.subscriptions]);
        entry.keptSubscriptions = now;
      } catch (err) {
        storeFailed(`keeping the subscriptions of session ${id}`, "subscriptions")(err);
      }
    });
    return entry.keeping;
  };
  /**
   * The sweep under way: a store slow enough to hold one past a minute gets no second beside it,
   * which would add to its load and could land an older set of subscriptions last.
   */
  let sweeping: Promise<void> | undefined;
  /** Whether the log said what waiter reads of the SDK's transport that it does not hold: said once. */
  let toldLacks = false;
  const sweeper = setInterval(() => {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
  }, SWEEP_MS);
  sweeper.unref();

  /**
   * Opens this replica's copy of a session: a new session for an initialize, or `taken`, one
   * another replica opened, initialized again from what its client sent then.
   */
  const openSession = async (
    req: Request,
    taken?: { id: string; init: unknown; subscriptions: string[]; lastSeen: number; heardSeq: number },
  ) => {
    const caller = req.auth?.clientId;
    /** Keeps the session's subscriptions in the store as its client changed them, before it is answered. */
    const kept = async () => {
      const id = transport.sessionId;
      const entry = id === undefined ? undefined : open.get(id);
      if (!shared || id === undefined || entry?.transport !== transport) return;
      await untilAborted(keepSubscriptions(shared, id, entry), AbortSignal.timeout(SUBSCRIPTIONS_KEPT_MS)).catch(
        () => {},
      );
    };
    const session = app.session(log.forSession(), req.auth && allowedTools(req.auth), taken?.subscriptions, kept);
    let closed = false;
    const replay = new ReplayBuffer((stream) => requestsCarried(transport, stream));
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: taken ? () => taken.id : randomUUID,
      eventStore: replay,
      onsessioninitialized: async (id) => {
        // What the client sent, kept until the shared store holds the session: the sweep tries
        // again while the store is away.
        const init = taken || !shared ? undefined : JSON.stringify((req.body as { params?: unknown }).params ?? {});
        const entry: Open = {
          caller,
          transport,
          replay,
          session,
          writes: !req.auth || req.auth.scopes.includes(WRITE_SCOPE),
          lastSeen: clock.now(),
          streams: 0,
          notifications: undefined,
          unreadWhenTaking: 0,
          inFlight: 0,
          takesStandingId: false,
          heardWhileListening: 0,
          init,
          keptSubscriptions: subscriptionsOf(session),
          keeping: Promise.resolve(),
          // Known once the catch-up is kept, before any request of the copy's client is served.
          catchingUp: taken && { heardSeq: taken.heardSeq, through: Number.POSITIVE_INFINITY },
        };
        open.set(id, entry);
        if (taken) {
          log.info(`MCP session ${id} taken up from the store${caller ? ` with token ${caller}` : ""}`);
          return;
        }
        log.info(`MCP session ${id} opened${caller ? ` with token ${caller}` : ""}`);
        // Before the client hears of it: its next request may reach another replica.
        if (init !== undefined && (await record(id, entry))) entry.init = undefined;
      },
    });
    if (!toldLacks) {
      toldLacks = true;
      const lacks = sdkLacks(transport);
      if (lacks.length) {
        log.warning(
          `MCP sessions: the MCP SDK's transport holds no ${lacks.map(({ name }) => name).join(", ")}, which waiter reads (as of @modelcontextprotocol/sdk 1.32.2): sessions are served, but ${lacks.map(({ without }) => without).join("; ")}`,
        );
      }
    }
    keepAliveWhileIdle(transport);
    // The transport queues each notification whatever its client read: a client that reads none
    // would have the session's every event held for it, for as long as its connection holds.
    const send = transport.send.bind(transport);
    transport.send = async (message, options) => {
      await send(message, options);
      const entry = transport.sessionId === undefined ? undefined : open.get(transport.sessionId);
      const unread = notificationsUnread(transport);
      // A burst is queued at once while its client reads on: only a full connection is one left unread.
      if (
        entry?.transport !== transport ||
        !entry.notifications?.writableNeedDrain ||
        !leftUnread(unread, entry.unreadWhenTaking)
      ) {
        return;
      }
      log.warning(
        `MCP session ${transport.sessionId}: closed its notification stream, whose client left ${unread} messages of it unread, ${unread - entry.unreadWhenTaking} more than when its connection last took any (a client that hangs, or one behind a link or proxy slower than what it is sent); back with Last-Event-ID, it is sent what the session kept`,
      );
      entry.notifications.destroy();
      entry.notifications = undefined;
      // What the copy hears from now on reaches its client only as kept here, which the next server lacks.
      entry.heardWhileListening ??= entry.session.heardSeq();
    };
    transport.onclose = () => {
      // Closing the session's server closes this transport again.
      if (closed) return;
      closed = true;
      const entry = transport.sessionId === undefined ? undefined : open.get(transport.sessionId);
      // Its notification stream carries nothing more: ended after what its client left unread, it
      // would hold that and its connection, for a session that is no more, as long as the connection lives.
      if (entry?.transport === transport && entry.notifications?.writableNeedDrain) entry.notifications.destroy();
      if (transport.sessionId) open.delete(transport.sessionId);
      void session.close();
    };
    await session.server.connect(transport);
    if (taken) {
      await initializeAgain(transport, taken, req.auth);
      // A replay this server refused opened nothing: its server goes.
      if (!open.has(taken.id)) await transport.close();
      // Kept for its client's notification stream, which comes back for what this copy sent.
      else {
        const caughtUp: { last?: number } = {};
        await session.missedSince(taken.lastSeen, taken.heardSeq, (send) => replay.noteStored(caughtUp, send));
        const entry = open.get(taken.id);
        if (entry?.catchingUp) {
          // Nothing to catch up: a GET without Last-Event-ID is sent nothing kept, as MCP has it.
          if (caughtUp.last === undefined) entry.catchingUp = undefined;
          else entry.catchingUp.through = caughtUp.last;
        }
      }
    }
    return transport;
  };

  return {
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
    async close() {
      clearInterval(sweeper);
      // The sessions outlive this server in the store: the next one takes them up, as last used.
      if (shared) {
        for (const entry of open.values()) if (entry.inFlight > 0) entry.lastSeen = clock.now();
        const told = (sweeping ?? Promise.resolve()).then(() => tellStore(shared));
        await untilAborted(told, AbortSignal.timeout(STORE_AT_STOP_MS)).catch(
          storeFailed("recording the sessions' last use"),
        );
      }
      leftAtStop = new Set(open.values());
      await Promise.all([...open.values()].map((entry) => entry.transport.close()));
    },
  };
}
