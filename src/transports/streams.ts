import { randomUUID } from "node:crypto";
import type { EventId, EventStore, StreamId } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import type { Request, Response } from "express";
import { takesEventStream } from "./answers.js";

/**
 * What waiter reads of the SDK's transport that it keeps to itself (1.32.2), each with the kind of
 * value it is and what goes without it. A later SDK may name one otherwise: sessions then open and
 * serve as before, without that (`sdkLacks` says which are missing).
 */
const SDK_INTERNALS = {
  startKeepAlive: { kind: Function, without: "keepalives pile up on a stream its client does not read" },
  _streamMapping: {
    kind: Map,
    without: "an ended stream does not tell its client when to come back, and one left unread is not closed",
  },
  _requestToStreamMapping: {
    kind: Map,
    without:
      "a cancelled call's stream is not ended at once, nor a call whose answer is lost with its connection told so",
  },
  _requestResponseMap: {
    kind: Map,
    without: "a call cancelled in a batch does not end the batch's stream once the others are answered",
  },
  _resumableStreams: {
    kind: Set,
    without: "a call whose answer is lost with its stream's connection is neither told so nor logged",
  },
} as const;

type SdkInternal = keyof typeof SDK_INTERNALS;

/** The private field `name` of the SDK's transport, if it holds what waiter reads there. */
function internal<T>(transport: WebStandardStreamableHTTPServerTransport, name: SdkInternal) {
  const field = (transport as unknown as Record<string, unknown>)[name];
  return field instanceof SDK_INTERNALS[name].kind ? (field as T) : undefined;
}

/** What waiter reads of the SDK's transport that `transport` does not hold: by name, and what goes without it. */
export const sdkLacks = (transport: WebStandardStreamableHTTPServerTransport): { name: string; without: string }[] =>
  (Object.keys(SDK_INTERNALS) as SdkInternal[])
    .filter((name) => !internal(transport, name))
    .map((name) => ({ name, without: SDK_INTERNALS[name].without }));

/**
 * Which stream carries each request's answer, as the SDK's transport keeps it: it says so to no
 * one (its closeSSEStream looks a request up here), and a cancelled request's stream must be known
 * to be ended for good.
 */
const answerStreams = (transport: WebStandardStreamableHTTPServerTransport) =>
  internal<Map<RequestId, StreamId>>(transport, "_requestToStreamMapping");

/** The answers the SDK's transport holds until their stream's every answer is ready (a batch's). */
const answersHeld = (transport: WebStandardStreamableHTTPServerTransport) =>
  internal<Map<RequestId, unknown>>(transport, "_requestResponseMap");

/** The requests whose answers `stream` carries, as the SDK's transport holds them until they are sent. */
export const requestsCarried = (transport: WebStandardStreamableHTTPServerTransport, stream: StreamId): RequestId[] =>
  [...(answerStreams(transport) ?? [])].flatMap(([request, of]) => (of === stream ? [request] : []));

/**
 * Whether request `id` of the session is under way: the SDK's transport holds its stream until it
 * is answered or cancelled, and a batch's answers until the batch's last.
 */
export const underWay = (transport: WebStandardStreamableHTTPServerTransport, id: RequestId): boolean =>
  (answerStreams(transport)?.has(id) ?? false) && !answersHeld(transport)?.has(id);

/**
 * The requests of a POST, its stream's connection closed, whose answers can no longer reach their
 * client: under way still, on a stream that carried no event id to come back to it with (the SDK's
 * transport sends none to a client of MCP before 2025-11-25 until a call's first progress), or
 * answered in JSON (`inJson`), whose client saw none of the stream's ids. The transport drops such
 * an answer when it comes, or waiter, the POST's connection gone.
 */
export function answersLost(
  transport: WebStandardStreamableHTTPServerTransport,
  body: unknown,
  inJson: boolean,
): RequestId[] {
  // Not known to be resumable, a stream is taken as one: its client may hold an id to come back with.
  const resumable = internal<Set<StreamId>>(transport, "_resumableStreams");
  return (Array.isArray(body) ? body : [body]).flatMap((message: unknown) => {
    if (!isJSONRPCRequest(message) || !underWay(transport, message.id)) return [];
    const stream = answerStreams(transport)?.get(message.id);
    return stream === undefined || (!inJson && (resumable?.has(stream) ?? true)) ? [] : [message.id];
  });
}

/**
 * How long a client waits before it opens again a stream waiter ended while its session goes on
 * (on stopping, or as its token lapses), in ms: what a GET refused while stopping is told in
 * Retry-After (5 s).
 */
const STREAM_RETRY_MS = 5000;

/**
 * The first version of MCP whose clients take an event with an id and empty data: the SDK's
 * transport primes a call's stream so for those only, as older clients read its data as a message.
 */
const NAMES_WHERE_IT_STANDS = "2025-11-25";

/** Whether a stream's client, in MCP `version`, takes an event that only names where its stream stands. */
export const takesStandingId = (version: unknown): boolean =>
  typeof version === "string" && version >= NAMES_WHERE_IT_STANDS;

/** The streams the SDK's transport holds, each with what it queues messages on for its client to read. */
const heldStreams = (
  transport: WebStandardStreamableHTTPServerTransport,
): Map<StreamId, { controller?: ReadableStreamDefaultController }> => {
  // Not known: none is seen as held, and every send and keepalive goes on.
  return (
    internal<Map<StreamId, { controller?: ReadableStreamDefaultController }>>(transport, "_streamMapping") ?? new Map()
  );
};

/** Writes `text` on `stream`, raw, if it is held. */
function writeOn(transport: WebStandardStreamableHTTPServerTransport, stream: StreamId, text: string) {
  try {
    heldStreams(transport).get(stream)?.controller?.enqueue(Buffer.from(text));
  } catch {
    // Its client went already.
  }
}

/**
 * Sends a stream's client, as its last event, the SSE retry field that says when to come back:
 * MCP has a server that closes the connection but not the stream send one (2025-11-25, Streamable
 * HTTP). The SDK's transport sends one only in the first event of a call's stream (its
 * retryInterval), to clients of 2025-11-25 only, and none on the notification stream; it ends a
 * stream with nothing. A field alone, with no data, is no event a client of any version hands on.
 * A client that takes an event of an id and empty data is also given the id to come back with
 * (`standsAt`), as MCP 2025-11-25 has a server give it: the SDK's clients come back with the last
 * id they heard, and with none from a stream that carried nothing, so what was sent meanwhile
 * would never reach them.
 */
function sayRetry(transport: WebStandardStreamableHTTPServerTransport, stream: StreamId, standsAt?: EventId) {
  const retry = `retry: ${STREAM_RETRY_MS}\n`;
  writeOn(transport, stream, standsAt === undefined ? `${retry}\n` : `id: ${standsAt}\n${retry}data: \n\n`);
}

/**
 * Tells the client of the stream a GET opened (the one `lastId` names, else the notification
 * stream), after what it was sent again, where the stream stands: an event of that id and empty
 * data, as MCP 2025-11-25 has a server prime a stream. The SDK's transport primes a call's stream
 * only, and the SDK's clients come back with no id from a stream that carried none: one that
 * dropped before it carried anything would be sent nothing of what came while its client was away.
 */
export function nameWhereItStands(
  { transport, replay }: { transport: WebStandardStreamableHTTPServerTransport; replay: ReplayBuffer },
  lastId: string | undefined,
) {
  const stream = streamOf(lastId);
  writeOn(transport, stream, `id: ${replay.standsAt(stream)}\ndata: \n\n`);
}

/**
 * Ends the stream a GET reopens, if it is held: the session's notification stream, or the stream
 * `lastId` names (a call's, as a client of MCP 2025-11-25 comes back to it). Its client is told
 * when to come back, and, where it takes one (`takesStandingId`, as its last GET said), the id to
 * come back with: the stream goes on, on another connection. A notification stream whose connection
 * is full (`notifications`, where given) is cut instead: its end would wait behind what its client
 * does not read, and hold that and the session, never idle, for as long as the connection lives.
 * True when it was cut.
 */
export function endHeldStream(
  {
    transport,
    replay,
    takesStandingId,
    notifications,
  }: {
    transport: WebStandardStreamableHTTPServerTransport;
    replay: ReplayBuffer;
    takesStandingId: boolean;
    notifications: { writableNeedDrain: boolean; destroy(): void } | undefined;
  },
  lastId: string | undefined,
): boolean {
  const stream = streamOf(lastId);
  const cut = stream === NOTIFICATION_STREAM && notifications?.writableNeedDrain === true;
  if (cut) notifications?.destroy();
  sayRetry(transport, stream, takesStandingId ? replay.standsAt(stream) : undefined);
  if (stream === NOTIFICATION_STREAM) transport.closeStandaloneSSEStream();
  else for (const request of requestsCarried(transport, stream)) transport.closeSSEStream(request);
  return cut;
}

/** The stream a GET opens: the one its `Last-Event-ID` names (a call's, or the notification stream's), else the notification stream. */
function streamOf(lastId: string | undefined): StreamId {
  return lastId === undefined ? NOTIFICATION_STREAM : lastId.slice(0, Math.max(0, lastId.lastIndexOf(":")));
}

/**
 * Whether a Last-Event-ID names a stream as every event id waiter sends does: the notification
 * stream's, or a call's, which the SDK's transport names by a UUID. One that names none would be
 * told there is nothing more (204), which has its client never come back.
 */
export const namesStream = (lastId: string) =>
  /^(?:_GET_stream|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):[\w.-]+$/i.test(lastId);

/** What a GET whose Last-Event-ID names no stream is told, with 400. */
export const NO_SUCH_EVENT_ID =
  "Bad Request: the Last-Event-ID header names no event waiter sent: it holds the id of the last event the client heard on the stream, as waiter sent it (the event's id: line); open the stream again without it to start the session's notification stream afresh";

/** Whether a GET comes back to a call's stream, which carries the call's answer, rather than to the notification stream. */
export function resumesCall(lastId: string | undefined): boolean {
  return streamOf(lastId) !== NOTIFICATION_STREAM;
}

/**
 * Whether the stream an event id names is a request's stream that carries nothing more: every
 * request it carries was answered or cancelled (the SDK holds a request until its stream's every
 * answer is sent: a batch's stream goes on after its first), or it was another copy's of the
 * session, whose requests this copy never had. The notification stream lasts as long as the session.
 */
export function streamEnded(transport: WebStandardStreamableHTTPServerTransport, id: EventId): boolean {
  const colon = id.lastIndexOf(":");
  const stream = id.slice(0, colon);
  // Not known, it is left to the transport, which holds it open rather than end a call's stream under way.
  const carried = answerStreams(transport);
  return (
    colon > 0 && stream !== NOTIFICATION_STREAM && carried !== undefined && ![...carried.values()].includes(stream)
  );
}

/**
 * Ends the stream of a request its client cancelled (an abort, or the client's own timeout). The
 * SDK answers a cancelled request never, and so never ends its stream: it would hold its connection
 * with keepalives for good, and count as a call under way, so the session would never be idle and
 * a stop would wait its whole drain time. The stream is ended for good: a client that comes back to
 * it is told there is nothing more, and the request is forgotten: the SDK forgets a request when
 * it sends its answer, and a session's every answer reads the requests it has not. A batch's
 * stream carries its other requests' answers: it ends once they are sent (the SDK ends it once
 * every request it holds for it is answered, which the cancelled one would never be), at once
 * when they already are.
 */
export const endCancelled = (transport: WebStandardStreamableHTTPServerTransport, id: RequestId) => {
  const streams = answerStreams(transport);
  const stream = streams?.get(id);
  if (streams === undefined || stream === undefined) return;
  const answered = answersHeld(transport);
  const others = requestsCarried(transport, stream).filter((request) => request !== id);
  if (others.some((other) => !answered?.has(other))) {
    streams.delete(id);
    return;
  }
  transport.closeSSEStream(id);
  // What the SDK forgets of a stream once its answers are sent: kept, it would grow by a stream a cancel.
  internal<Set<StreamId>>(transport, "_resumableStreams")?.delete(stream);
  for (const request of [id, ...others]) {
    streams.delete(request);
    answered?.delete(request);
  }
};

/** Whether a request names no MCP-Protocol-Version, or one the SDK's transport speaks: it refuses any other with 400. */
export function speaksVersion(req: Request): boolean {
  const version = req.headers["mcp-protocol-version"];
  return version === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(String(version));
}

/** What the SDK's transport tells a request in a version it does not speak, with its 400. */
export const unspokenVersion = (req: Request) =>
  `Bad Request: Unsupported protocol version: ${req.headers["mcp-protocol-version"]} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")})`;

/** Whether the SDK's transport takes a GET as a stream to open: it takes event streams and names a version the SDK speaks. */
export function opensStream(req: Request): boolean {
  return takesEventStream(req.headers.accept) && speaksVersion(req);
}

/**
 * Answers a client that comes back with Last-Event-ID to a request's stream that will carry
 * nothing more: what the stream carried after that id, then its end; with nothing left, 204, which
 * tells a client of server-sent events not to come back. The SDK's transport would hold such a
 * stream open for good, with nothing to end it. A stream another copy of the session carried, on
 * a replica that died, is first given an error for each request it carried (`answerLost`).
 */
export function replayEnded(replay: ReplayBuffer, lastId: string, sessionId: string, res: Response) {
  replay.answerLost(lastId);
  const missed = replay
    .missedAfter(lastId)
    .map(({ id, json }) => `event: message\nid: ${id}\ndata: ${json}\n\n`)
    .join("");
  if (!missed) {
    res.status(204).end();
    return;
  }
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache, no-transform",
    "mcp-session-id": sessionId,
  });
  res.end(missed);
}

/**
 * What a client back for the answer to a request another copy of its session ran is told: that
 * copy's replica stopped (or its proxy sends the session elsewhere now), and its answer went with it.
 */
export const ANSWER_LOST =
  "The answer to this request is lost: the waiter replica that ran it stopped, or can no longer be reached, before sending it, and no other replica has it. It may have finished: a tool that changes something may have made its change; check before calling it again";

/**
 * The longest an event id's list of the requests its stream carries may be, encoded: a client
 * sends the id back as a header. A stream of more (a large batch) names none.
 */
const REQUESTS_IN_ID = 256;

/** The requests an event id says its stream carried, as `#id` writes them; none when it names none. */
function requestsNamed(encoded: string | undefined): RequestId[] {
  if (!encoded) return [];
  try {
    const ids: unknown = JSON.parse(Buffer.from(encoded, "base64url").toString());
    return Array.isArray(ids) &&
      ids.every((id) => typeof id === "string" || (typeof id === "number" && Number.isInteger(id)))
      ? ids
      : [];
  } catch {
    return [];
  }
}

/** How many messages of a session's streams are kept for a client that comes back. */
const REPLAYABLE = 500;
/**
 * How many bytes of them, as sent: 500 notifications of a few hundred bytes, or ten or more of the
 * largest results (an events_get that shows all it shows of a payload is some 60-70 KB).
 * With every session full (WAITER_MAX_SESSIONS, 100 by default) that is 100 MiB at most.
 */
const REPLAYABLE_BYTES = 1024 * 1024;

/**
 * The most messages the session's notification stream holds unread past those that waited when
 * its connection last took any, for a client that reads none of them (one hung, or behind a proxy
 * that holds what it is sent): as many as the session keeps for a client that comes back, which is
 * what such a client could still be sent. The SDK's transport queues each message
 * whatever its client read, so that, unbounded, a session's every event would be held for good.
 */
export const UNREAD_MOST = REPLAYABLE;

/**
 * The most messages the notification stream holds unread however its client reads: one behind a
 * link that takes a few at a time, but fewer than come, would otherwise have them pile up without
 * end. Far above what a burst of events leaves waiting for a client that reads on.
 */
export const UNREAD_CEILING = 10 * UNREAD_MOST;

/**
 * Whether a notification stream's client, its connection full, left too much of it unread: it
 * took none of UNREAD_MOST more messages since its connection last took any (`unreadWhenTaking`
 * waited then), or more than UNREAD_CEILING wait, however it reads.
 */
export const leftUnread = (unread: number, unreadWhenTaking: number): boolean =>
  unread - unreadWhenTaking > UNREAD_MOST || unread > UNREAD_CEILING;

/**
 * How many messages of the session's notification stream wait in the SDK's transport for its
 * client to read them, past what its connection took: its stream queues each as one, and its
 * reader, waiting for the connection to drain, takes none meanwhile.
 */
export function notificationsUnread(transport: WebStandardStreamableHTTPServerTransport): number {
  const room = heldStreams(transport).get(NOTIFICATION_STREAM)?.controller?.desiredSize;
  // A high-water mark of one message, the stream's default: room for one when none waits.
  return typeof room === "number" ? 1 - room : 0;
}

/**
 * Has the SDK's transport queue its keepalive comment (one each 15 s on every stream it holds)
 * only while nothing waits on the stream for its client to read. It queues one whatever its client
 * read: a stream whose client reads none would hold one more each time, with no message sent to
 * have it closed (some 80 KB a day), for as long as its connection holds. A comment behind what
 * waits keeps nothing alive: what waits goes first.
 */
export function keepAliveWhileIdle(transport: WebStandardStreamableHTTPServerTransport) {
  type KeepAlive = (controller: ReadableStreamDefaultController, encoder: unknown) => unknown;
  const startKeepAlive = internal<KeepAlive>(transport, "startKeepAlive");
  // Not known: its keepalives go on unfiltered.
  if (!startKeepAlive) return;
  const keepAlive = startKeepAlive.bind(transport);
  (transport as unknown as { startKeepAlive: KeepAlive }).startKeepAlive = (controller, encoder) =>
    keepAlive(
      {
        enqueue(chunk: Uint8Array) {
          // A stream no longer held is let fail, so that the transport stops its keepalive.
          const waits =
            (controller.desiredSize ?? 1) < 1 &&
            [...heldStreams(transport).values()].some((held) => held.controller === controller);
          if (!waits) controller.enqueue(chunk);
        },
      } as ReadableStreamDefaultController,
      encoder,
    );
}

/** The SDK transport's name for a session's GET stream, which carries notifications for as long as the session lasts. */
const NOTIFICATION_STREAM = "_GET_stream";

/**
 * What stands for the copy in the Last-Event-ID a GET without one is taken to come back with while
 * the catch-up of a session taken up is unread (`catchUpId`): its number is the catch-up's last.
 */
const CATCH_UP = "catchup";

/**
 * The last messages sent on a session's streams, so a client that lost its stream and comes back
 * with Last-Event-ID misses none of them (the SDK's transport asks this). Bounded: a client away
 * for longer than REPLAYABLE messages, or REPLAYABLE_BYTES of them, gets what is left.
 *
 * Each is kept as the JSON that was sent, not as the message: a message's strings may point into
 * larger ones (a payload cut to what a result shows keeps the whole payload alive in V8), so a
 * kept message could cost many times what it shows.
 */
export class ReplayBuffer implements EventStore {
  readonly #events: { seq: number; stream: StreamId; json: string; bytes: number }[] = [];
  #bytes = 0;
  #seq = 0;
  /**
   * Which copy of the session numbered a message: a client that comes back to a copy taken up
   * after the one it heard last is sent all this copy kept, its numbers meaning nothing here.
   */
  readonly #copy = randomUUID().slice(0, 8);

  /**
   * @param requestsOn the requests a stream carries, as the session's transport holds them: a
   *   call's stream's ids name them, so that a copy of the session taken up on another replica,
   *   which never had them, can answer them when their client comes back (`answerLost`).
   */
  constructor(requestsOn: (stream: StreamId) => RequestId[] = () => []) {
    this.#requestsOn = requestsOn;
  }

  readonly #requestsOn: (stream: StreamId) => RequestId[];

  async storeEvent(stream: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = this.#store(stream, message);
    this.#queuing.push(this.#seq);
    queueMicrotask(this.#queuedNext);
    return id;
  }

  /**
   * The numbers of the messages stored that the SDK's transport has yet to queue on their streams,
   * oldest first: it awaits each store, then queues the message in the step after (1.32.2,
   * webStandardStreamableHttp.js). Named where a stream stands meanwhile, a message would be queued
   * after that id, and a client that dropped in between would come back past it.
   */
  readonly #queuing: number[] = [];
  /**
   * Put in line a step after the store, behind the transport's step that queues the message, which
   * was put in line as the store resolved: the mark comes right after the message is queued.
   */
  readonly #queuedNext = () => queueMicrotask(this.#queued);
  readonly #queued = () => {
    this.#queuing.shift();
  };

  #store(stream: StreamId, message: JSONRPCMessage): EventId {
    this.#seq += 1;
    const json = JSON.stringify(message);
    const bytes = Buffer.byteLength(json);
    this.#events.push({ seq: this.#seq, stream, json, bytes });
    this.#bytes += bytes;
    // The newest is kept whatever its size: it is what a client that lost its stream just now missed.
    while (this.#events.length > REPLAYABLE || (this.#bytes > REPLAYABLE_BYTES && this.#events.length > 1)) {
      this.#bytes -= this.#events.shift()?.bytes ?? 0;
    }
    return this.#id(stream, this.#seq);
  }

  async getStreamIdForEventId(id: EventId): Promise<StreamId | undefined> {
    const colon = id.lastIndexOf(":");
    return colon > 0 ? id.slice(0, colon) : undefined;
  }

  async replayEventsAfter(
    lastId: EventId,
    { send }: { send: (id: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    for (const { id, json } of this.missedAfter(lastId)) await send(id, JSON.parse(json));
    return (await this.getStreamIdForEventId(lastId)) ?? "";
  }

  /**
   * Makes `send`, which sends messages on the session's transport, noting in `sent.last` the number
   * of the last of them stored. The SDK's transport stores a message before its first await, within
   * the call that sends it (1.32.2, webStandardStreamableHttp.js `send`): what is stored during the
   * call is what it sent, not what the session sent meanwhile. Noted here, not followed across awaits
   * by an AsyncLocalStorage: its first use turns on async hooks for the whole process for good, and
   * every later call's promises cost some 20 % more CPU.
   */
  noteStored(sent: { last?: number }, send: () => Promise<void>): Promise<void> {
    const before = this.#seq;
    const sending = send();
    if (this.#seq > before) sent.last = this.#seq;
    return sending;
  }

  /** Whether `lastId` names this copy's message numbered `seq`, or a later one: its client heard that far. */
  heardThrough(lastId: EventId, seq: number): boolean {
    const { copy, number } = this.#parts(lastId);
    return copy === this.#copy && Number(number) >= seq;
  }

  /**
   * The Last-Event-ID a GET without one is taken to come back with while the catch-up of a session
   * taken up, kept through message `through`, is unread: it is sent the catch-up again, and not
   * what came after it, which its client read live.
   */
  catchUpId(through: number): EventId {
    return `${NOTIFICATION_STREAM}:${CATCH_UP}.${through}`;
  }

  /**
   * What was kept of the stream `lastId` names after it, each with its id and as it was sent; all
   * that was kept of it when `lastId` is another copy's; the catch-up when it is a `catchUpId`.
   */
  missedAfter(lastId: EventId): { id: EventId; json: string }[] {
    const { stream, copy, number } = this.#parts(lastId);
    const after = copy === this.#copy ? Number(number) : 0;
    const through = copy === CATCH_UP ? Number(number) : Number.POSITIVE_INFINITY;
    return this.#events
      .filter(({ seq, stream: of }) => of === stream && seq > after && seq <= through)
      .map(({ seq, json }) => ({ id: this.#id(stream, seq), json }));
  }

  /**
   * Keeps, on the stream `lastId` names, an error for each request its id says the stream carried,
   * when that id is another copy's of the session and this copy has kept nothing of the stream yet:
   * the copy that ran them is gone (its replica died, or stopped), and so are their answers. Told
   * nothing, the client would wait for them until its own timeout. Kept, the errors are sent again
   * to a client that comes back from the same id, and their own ids are this copy's: a client that
   * comes back from one is told there is nothing more.
   */
  answerLost(lastId: EventId): void {
    const { stream, copy, requests } = this.#parts(lastId);
    if (copy === this.#copy || stream === NOTIFICATION_STREAM || this.#events.some(({ stream: of }) => of === stream)) {
      return;
    }
    for (const id of requestsNamed(requests)) {
      this.#store(stream, { jsonrpc: "2.0", id, error: { code: -32000, message: ANSWER_LOST } });
    }
  }

  /** The parts of an event id as `#id` writes it. */
  #parts(id: EventId) {
    const stream = id.slice(0, Math.max(0, id.lastIndexOf(":")));
    const [copy, number, requests] = id.slice(stream.length + 1).split(".");
    return { stream, copy, number, requests };
  }

  /**
   * The id a client that heard what `stream` carried so far comes back with: that of the newest
   * message kept, of any stream, that the transport queued already, so it is sent only what comes
   * after.
   */
  standsAt(stream: StreamId): EventId {
    return this.#id(stream, (this.#queuing[0] ?? this.#seq + 1) - 1);
  }

  /**
   * An event's id: its stream, the copy of the session that numbered it, its number, and, on a
   * call's stream, the requests the stream carries (JSON in base64url, which no `:` or `.` is in).
   */
  #id(stream: StreamId, seq: number): EventId {
    const id = `${stream}:${this.#copy}.${seq}`;
    const requests = stream === NOTIFICATION_STREAM ? [] : this.#requestsOn(stream);
    if (requests.length === 0) return id;
    const encoded = Buffer.from(JSON.stringify(requests)).toString("base64url");
    return encoded.length > REQUESTS_IN_ID ? id : `${id}.${encoded}`;
  }
}
