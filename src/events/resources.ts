import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  type CompleteResult,
  ErrorCode,
  type ListResourcesResult,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { ProtocolError, ToolError } from "../errors.js";
import { takesNoArgument, wrapHandler } from "../handlers.js";
import type { Log } from "../log.js";
import { percentDecoded } from "../settings.js";
import { quote, withEscapes } from "../shown.js";
import {
  blankId,
  copied,
  droppedUnder,
  eventUri,
  goneHow,
  idAs,
  idNotKept,
  isCursor,
  isEventId,
  isSlackEventId,
  moreNamed,
  NOT_DROPPED,
  retentionOf,
  SLACK_KEPT,
  storedId,
  storedUnder,
  type Under,
} from "./ids.js";
import { eventRecord, minorUnitsNote, NOTICE, notUtf8Note, parseExact, repeatedKeysNote, summary } from "./present.js";
import type { EventStore, StoredEvent } from "./store.js";

export const RECENT_URI = "events://recent";
/** The MCP specification's code for a resource that does not exist; the SDK names none. */
const RESOURCE_NOT_FOUND = -32002;
const RECENT_COUNT = 50;
const EVENT_TEMPLATE = "events://event/{id}";
/**
 * A URI as resources/read takes it: parsed as McpServer parses it, which puts the scheme in lower
 * case and drops white space around it and tabs and line breaks within it.
 */
const asRead = (uri: string) => (URL.canParse(uri) ? new URL(uri).href : uri);
/**
 * The stored event's id a URI names, in any letter case, its percent-escapes read (a client makes
 * the URI with the template, which escapes the white space of an id copied with it); undefined
 * when it names no event.
 */
const idIn = (uri: string) => {
  const read = asRead(uri);
  return read.startsWith(eventUri("")) ? storedId(percentDecoded(read.slice(eventUri("").length))) : undefined;
};
/**
 * A read or a subscription of what is no resource here, with the ones there are. Its data names
 * the URI, as the MCP specification's example of the error has it: clients (the SDK's among them)
 * tell a resource not found from other errors by it.
 */
const noResource = (uri: string) =>
  new ProtocolError(
    RESOURCE_NOT_FOUND,
    // Whole, as refuseLongUri keeps it short: cut as other values are, an event's URI would lose what
    // follows its id, the very part that makes it no resource.
    `No resource ${withEscapes(JSON.stringify(uri))} here: ${RECENT_URI} lists the newest events, ${eventUri("<id>")} is one stored event`,
    { uri },
  );
/**
 * A read or a subscription of an event not stored, as a resource not found: a sender's id (Stripe's
 * evt_…) did arrive, as the event it names; a Comgate or GoPay payment's id, as the events of that
 * payment. Its data names the URI as its client wrote it, where that is known.
 */
async function noEvent(store: EventStore, id: string, uri?: string): Promise<ProtocolError> {
  const data = uri === undefined ? undefined : { uri };
  if (copied(id) === "") {
    return new ProtocolError(RESOURCE_NOT_FOUND, `${blankId(false)}; ${RECENT_URI} lists the stored ones.`, data);
  }
  const under = await storedUnder(store, id);
  const uris = under && `${under.events.map((event) => eventUri(event.id)).join(" and ")}${moreNamed(under)}`;
  // Another source's delivery of that id, dropped, is said too.
  const gone = under && (await droppedUnder(store, id));
  const why = !under
    ? await neverOrDropped(store, id)
    : `it is ${idAs(under)} of ${uris}${gone ? `, and ${gone.as === under.as ? "" : `${idAs(gone)} `}of ${urisDropped(gone)}` : ""}`;
  return new ProtocolError(
    RESOURCE_NOT_FOUND,
    `No stored event ${quote(id)}: ${why}; ${RECENT_URI} lists the stored ones.`,
    data,
  );
}
/** The URIs of events retention dropped or erased by hand (`droppedUnder`), as a not-found answer names them. */
function urisDropped(dropped: Under): string {
  return `${dropped.events.map((event) => eventUri(event.id)).join(" and ")}${moreNamed(dropped)}, which ${goneHow(dropped)}`;
}
/** Why `id` names no event: an event id, whether retention may have dropped it (it drops the oldest first). */
async function neverOrDropped(store: EventStore, id: string): Promise<string> {
  if (isCursor(id)) return "it is a cursor, not an event id";
  // The template read as listed, its placeholder unfilled.
  if (id === "{id}") return "{id} stands for an event's id";
  // A query or a fragment written after an id, as if the URI took events_get's fields, or a slash.
  const [, named, after] = /^([^?#/]+)([?#/].*)$/s.exec(id) ?? [];
  if (named && after && (await store.get(storedId(named)).catch(() => undefined))) {
    return `it is ${eventUri(storedId(named))} with ${quote(after)} after it, which an event's URI does not take`;
  }
  // A delivery remembered past its event arrived: the model must not report it never did. A sender's
  // own ids may read as event ids (ULIDs) too.
  const gone = await droppedUnder(store, id);
  if (gone) return `it is ${idAs(gone)} of ${urisDropped(gone)}`;
  if (isSlackEventId(id)) return `it reads as a Slack event_id, and ${SLACK_KEPT}`;
  if (!isEventId(id)) return `it never arrived here, or retention dropped it${idNotKept([id])}`;
  const { dropped, mayBe, through } = await retentionOf(store, [id]);
  if (dropped[0]?.erased) return `it was erased from the store by hand on ${dropped[0].droppedAt}`;
  if (dropped[0]?.orErased)
    return `retention dropped it, or it was erased from the store by hand, on ${dropped[0].droppedAt}`;
  if (dropped[0]) return `retention dropped it on ${dropped[0].droppedAt}`;
  if (mayBe.length > 0) return "retention has dropped the oldest events, and it may be one of them";
  return `retention has dropped no event ${through === 0 ? "here" : "with this id"}, so the id is ${NOT_DROPPED}`;
}
/**
 * What one session may subscribe to, each kept with it in the store: the list, and events one by
 * one to hear of their acknowledgement.
 */
const MAX_SUBSCRIPTIONS = 100;
/** The longest URI read or subscribed to; no resource here has one nearly as long. */
const MAX_URI = 200;

/** Refuses a URI longer than any here, before it is parsed or kept. */
function refuseLongUri(uri: string): void {
  if (uri.length > MAX_URI) {
    throw new ProtocolError(ErrorCode.InvalidParams, `A resource URI here has at most ${MAX_URI} characters`);
  }
}
/**
 * Makes `send`, one notification's: a session taken up on a server learns so which messages its
 * catch-up (`missedSince`) stored.
 */
export type Sending = (send: () => Promise<void>) => Promise<void>;
const sendNow: Sending = (send) => send();

/** A session's event resources, as registerEventResources serves them. */
export interface EventResources {
  /** Stops the notifications. */
  stop(): void;
  /**
   * Tells a client what changed since `at`, while no server held its session (stopped, or left to
   * the store), which none told it: the list of resources where events were stored after the one of
   * sequence number `heardSeq` (0: it heard of none), and what it subscribed to of the recent events
   * and the events acknowledged or dropped.
   */
  missedSince(at: number, heardSeq: number, sending?: Sending): Promise<void>;
  /**
   * The newest event the session's client was told of, or that was stored as it began to listen:
   * it has not heard of one stored after. 0 until the store said.
   */
  heardSeq(): number;
}

/** How often, at most, a session is told that the list of events changed. */
const LIST_CHANGED_WINDOW_MS = 250;
/**
 * How long before a session's last use an acknowledgement is still told to the session taken up:
 * one has no sequence number, only the time of the clock of the replica that made it, which may be
 * behind the one that served the session last, and one made just before a stop may not have reached
 * the stopping server. Told twice, its client reads the event again; never told, it waits on.
 */
const ACKED_BEFORE_LAST_USE_MS = 60_000;

/**
 * The events as MCP resources: a list of recent events and one resource per event (with
 * completion of ids). The SDK does not handle resources/subscribe, so this server declares it
 * and keeps its session's subscriptions in `subscribed`: a subscribed client is sent
 * notifications/resources/updated for the list when an event arrives, from any process. A
 * subscription or unsubscription is answered once `kept` has kept the session's subscriptions.
 */
export function registerEventResources(
  server: McpServer,
  store: EventStore,
  log: Log,
  subscribed = new Set<string>(),
  kept: () => Promise<void> = async () => {},
): EventResources {
  /**
   * Why a resources/list, known by its request's signal, lists no event: the store could not be
   * read. The list still names the resources there are, the recent events' saying why.
   */
  const unlisted = new WeakMap<AbortSignal, string>();
  const listed = async (signal: AbortSignal) => {
    try {
      return await store.list({}, { limit: RECENT_COUNT, bodies: false });
    } catch (err) {
      if (!(err instanceof ToolError)) throw err;
      log.child("events").operatorOnly(err.logLevel, `resources/list listed no event: ${err.message}`);
      unlisted.set(signal, err.message);
      return [];
    }
  };
  server.registerResource(
    "recent-events",
    RECENT_URI,
    {
      title: "Recent webhook events",
      description: `The ${RECENT_COUNT} newest webhook events, newest first. ${NOTICE}`,
      mimeType: "application/json",
    },
    async (uri) => {
      const found = await store.list({}, { limit: RECENT_COUNT + 1 });
      const events = found.slice(0, RECENT_COUNT);
      // Attached by a person, the list may be all the model reads of the events: it is told there are more.
      const older =
        found.length > RECENT_COUNT
          ? `Older events are stored: events_list with before ${JSON.stringify(events.at(-1)?.id)} lists them.`
          : undefined;
      const note = [minorUnitsNote(events), older].filter((part) => part !== undefined).join(" ") || undefined;
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: "application/json",
            text: JSON.stringify({ notice: NOTICE, events: events.map(summary), ...(note ? { note } : {}) }, null, 2),
          },
        ],
      };
    },
  );

  server.registerResource(
    "webhook-event",
    new ResourceTemplate(EVENT_TEMPLATE, {
      list: async (extra) => ({
        // What the list shows: names, not payloads, which may be a megabyte each.
        resources: (await listed(extra.signal)).map((event) => ({
          uri: eventUri(event.id),
          // The type is the sender's text: quoted, as the tools quote it. Each its own title, or
          // the template's ("Webhook event") would show on every one.
          name: `${JSON.stringify(event.type)} from ${event.source}`,
          title: `${JSON.stringify(event.type)} from ${event.source}, ${event.receivedAt}`,
          mimeType: "application/json",
        })),
      }),
      // One more than the SDK's 100 values, so that its `hasMore` says when there are more (and
      // its total is not said: see below).
      // Ids are stored in capitals, and taken as tools take them: in any letter case, and as copied
      // with white space around them or a sentence's full stop after them.
      complete: { id: async (value) => store.recentIds(copied(value).toUpperCase(), 101) },
    }),
    {
      title: "Webhook event",
      description: `One stored webhook event with its payload as sent. ${NOTICE}`,
      mimeType: "application/json",
    },
    async (uri, variables) => {
      const id = percentDecoded(String(variables.id));
      const event = await store.get(storedId(id));
      if (!event) throw await noEvent(store, id);
      // Said as events_get says them: the resource shows the payload as events_get does.
      const note = [minorUnitsNote([event]), repeatedKeysNote(parseExact(event)?.repeated ?? []), notUtf8Note(event)]
        .filter((part) => part !== undefined)
        .join(" ");
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: "application/json",
            text: JSON.stringify({ ...eventRecord(event), ...(note ? { note } : {}) }, null, 2),
          },
        ],
      };
    },
  );

  // The events the list could not name are said on the recent events' resource, which it still lists.
  wrapHandler(server, "resources/list", (sdk) => async (request, extra) => {
    const result = (await sdk(request, extra)) as ListResourcesResult;
    const why = unlisted.get(extra.signal);
    if (why === undefined) return result;
    return {
      ...result,
      resources: result.resources.map((resource) =>
        resource.uri === RECENT_URI
          ? { ...resource, description: `${resource.description} No event is listed now: ${why}` }
          : resource,
      ),
    };
  });

  // McpServer counts the ids it was given as the total: of the capped query, one more than the
  // hundred shown, whatever the number that match. With more than shown, only that there are more is said.
  // A template of none here is told the one there is, where McpServer says it was not found; an
  // argument it does not take is told the one it does, where McpServer answers no values (and so
  // is one of the recent events' resource, which takes none).
  wrapHandler(server, "completion/complete", (sdk) => async (request, extra) => {
    const ref = request.params?.ref as { type?: unknown; uri?: unknown } | undefined;
    if (
      ref?.type === "ref/resource" &&
      typeof ref.uri === "string" &&
      ref.uri !== EVENT_TEMPLATE &&
      ref.uri !== RECENT_URI
    ) {
      throw new ProtocolError(
        ErrorCode.InvalidParams,
        `No resource template ${quote(ref.uri)} here; the template is ${EVENT_TEMPLATE}.`,
      );
    }
    const argument = (request.params?.argument as { name?: unknown } | undefined)?.name;
    if (ref?.type === "ref/resource" && typeof argument === "string") {
      if (ref.uri === RECENT_URI) throw takesNoArgument(RECENT_URI, argument, []);
      if (ref.uri === EVENT_TEMPLATE && argument !== "id") throw takesNoArgument(EVENT_TEMPLATE, argument, ["id"]);
    }
    const result = (await sdk(request, extra)) as CompleteResult;
    if (ref?.type !== "ref/resource" || ref.uri !== EVENT_TEMPLATE || !result.completion.hasMore) return result;
    const { total: _, ...completion } = result.completion;
    return { ...result, completion };
  });

  // McpServer answers a URI that does not parse as an internal error ("Invalid URL"), and one of no
  // resource as invalid params; both are a resource not found, said as a subscription's is. An
  // event not stored names the URI as its client wrote it, not as McpServer parsed it. One too long
  // to be any here (which McpServer answers as an internal error too) is refused as a subscription's is.
  wrapHandler(server, "resources/read", (sdk) => async (request, extra) => {
    const uri = request.params?.uri;
    if (typeof uri !== "string") return sdk(request, extra);
    refuseLongUri(uri);
    if (!URL.canParse(uri)) throw noResource(uri);
    try {
      return await sdk(request, extra);
    } catch (err) {
      if (err instanceof McpError && err.code === ErrorCode.InvalidParams) throw noResource(uri);
      if (err instanceof ProtocolError && err.code === RESOURCE_NOT_FOUND) {
        throw new ProtocolError(RESOURCE_NOT_FOUND, err.message, { uri });
      }
      throw err;
    }
  });

  // Declared beforehand where the store opened after its client had initialized.
  if (!server.isConnected()) server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  /**
   * The session's subscriptions by what each names, the stored event's id or the list's URI, each
   * under the URI its client gave: an event told or acknowledged is looked up, and an id in another
   * letter case names the same subscription.
   */
  const held = new Map<string, string>();
  /**
   * The sequence numbers of the events subscribed to, until their drop is told: retention drops
   * every event up to a number, so a drop of thousands is matched against these alone.
   */
  const seqs = new Map<string, number>();
  /** The events subscribed to while the store could not say their sequence numbers: looked up at a drop. */
  const unsure = new Set<string>();
  const named = (uri: string) => idIn(uri) ?? asRead(uri);
  const drop = (uri: string) => {
    const given = held.get(named(uri));
    if (given === undefined) return;
    held.delete(named(uri));
    seqs.delete(named(uri));
    unsure.delete(named(uri));
    subscribed.delete(given);
  };
  /** The event `id` names, undefined when none is stored; null when the store cannot say, which is no reason to refuse a subscription. */
  const lookUp = (id: string) => store.get(id).catch(() => null);
  /** Holds `uri` in place of another URI of the same event, which has sequence number `seq` (looked up when not given). */
  const keep = (uri: string, seq?: number) => {
    drop(uri);
    const name = named(uri);
    held.set(name, uri);
    subscribed.add(uri);
    if (seq !== undefined) seqs.set(name, seq);
    else if (name !== RECENT_URI) {
      unsure.add(name);
      void lookUp(name).then((event) => settle(name, event));
    }
  };
  /** Keeps the sequence number of `id`, held unsure, as the store said it: true where none is stored. */
  const settle = (id: string, event: StoredEvent | undefined | null) => {
    if (event === null || !unsure.has(id)) return false;
    unsure.delete(id);
    if (event) seqs.set(id, event.seq);
    return event === undefined;
  };
  for (const uri of [...subscribed]) keep(uri);
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const { uri } = request.params;
    refuseLongUri(uri);
    // Only what exists here: a mistyped URI would be a subscription that never hears anything.
    const id = idIn(uri);
    let seq: number | undefined;
    if (asRead(uri) !== RECENT_URI) {
      if (!id) throw noResource(uri);
      const event = await lookUp(id);
      if (event === undefined) throw await noEvent(store, id, uri);
      seq = event?.seq;
    }
    if (!held.has(named(uri)) && held.size >= MAX_SUBSCRIPTIONS) {
      // A subscription to an event retention dropped can never be heard: it makes room first.
      for (const [what, given] of [...held]) {
        if (what !== RECENT_URI && (await lookUp(what)) === undefined) drop(given);
      }
    }
    if (!held.has(named(uri)) && held.size >= MAX_SUBSCRIPTIONS) {
      throw new ProtocolError(
        ErrorCode.InvalidParams,
        `A session subscribes to at most ${MAX_SUBSCRIPTIONS} resources; unsubscribe from one first (${RECENT_URI} hears every event)`,
      );
    }
    keep(uri, seq);
    await kept();
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    drop(request.params.uri);
    await kept();
    return {};
  });

  // Initialization is the first exchange: nothing is told before the client's
  // notifications/initialized, though a webhook may arrive while a stdio client is starting.
  let initialized = false;
  const onInitialized = server.server.oninitialized;
  server.server.oninitialized = () => {
    initialized = true;
    onInitialized?.();
  };
  const listening = () => initialized && server.isConnected();
  /** Tells the subscriptions of `what`, the list's URI or events' ids, each under the URI its client gave. */
  const notify = (what: string[], sending = sendNow) => {
    if (!listening()) return;
    for (const name of what) {
      const uri = held.get(name);
      if (uri === undefined) continue;
      sending(() => server.server.sendResourceUpdated({ uri })).catch((err) =>
        log.debug(`resource update not sent: ${err}`),
      );
    }
  };
  // A client that hears the list changed reads it again: a burst of webhooks is told at most once a
  // window, at its start and, if more came, at its end.
  let listWindow: NodeJS.Timeout | undefined;
  let listChangedMeanwhile = false;
  const listChanged = (sending = sendNow) => {
    if (listWindow) {
      listChangedMeanwhile = true;
      return;
    }
    if (listening()) {
      sending(() => server.server.sendResourceListChanged()).catch((err) => log.debug(`list change not sent: ${err}`));
    }
    listWindow = setTimeout(() => {
      listWindow = undefined;
      if (listChangedMeanwhile) {
        listChangedMeanwhile = false;
        listChanged();
      }
    }, LIST_CHANGED_WINDOW_MS);
    listWindow.unref();
  };
  let heardSeq = 0;
  const heard = (seq: number) => {
    heardSeq = Math.max(heardSeq, seq);
  };
  // An event stored before is in the list its client reads as it begins.
  store.latestSeq().then(heard, () => {});
  const stopEvents = store.subscribe((event) => {
    heard(event.seq);
    notify([RECENT_URI, event.id]);
    listChanged();
  });
  /** Whether the list shows one of `ids`; a store that cannot say is taken to. */
  const listShows = (ids: string[]) =>
    store.list({}, { limit: RECENT_COUNT, bodies: false }).then(
      (recent) => recent.some((event) => ids.includes(event.id)),
      () => true,
    );
  // An acknowledgement changes the event, and the list's "acked" flag when the list shows it.
  const stopAcks = store.onAck((ids) => {
    notify(ids);
    if (held.has(RECENT_URI) && listening()) void listShows(ids).then((shows) => shows && notify([RECENT_URI]));
  });
  // A dropped event changes: a read says it is gone. The list changes where it showed one, or said
  // that older events were stored: where no more than it shows are left.
  /**
   * Drops the subscriptions to events `told` gone, once their clients were told: they can never
   * change again, and kept, each would be told gone anew at every later take-up of the session.
   * The store learns so at once: a server killed before its sweep would leave them to the next.
   */
  const forget = async (told: string[]) => {
    const ended = told.filter((name) => name !== RECENT_URI && held.has(name) && listening());
    for (const name of ended) drop(held.get(name) as string);
    if (ended.length > 0) await kept();
  };
  const stopGone = store.onGone(async ({ through, left }) => {
    const gone = [...seqs].filter(([, seq]) => seq <= through).map(([id]) => id);
    for (const id of gone) seqs.delete(id);
    for (const id of [...unsure]) if (settle(id, await lookUp(id))) gone.push(id);
    if (left <= RECENT_COUNT) gone.push(RECENT_URI);
    notify(gone);
    if (left < RECENT_COUNT) listChanged();
    await forget(gone);
  });
  return {
    stop() {
      stopEvents();
      stopAcks();
      stopGone();
      clearTimeout(listWindow);
    },
    heardSeq: () => heardSeq,
    async missedSince(at, heardBefore, sending) {
      const ackedSince = (time: string | null) => time !== null && Date.parse(time) > at - ACKED_BEFORE_LAST_USE_MS;
      // A store that cannot list them is taken to show an acknowledgement, as one that cannot say
      // below whether events were stored.
      const recent = await store.list({}, { limit: RECENT_COUNT, bodies: false }).catch(() => undefined);
      // By sequence numbers, not times: an event's time is its receiving replica's clock's, and one
      // stored just before a stop, which this server had yet to hear of, is older than its last use.
      // A session opened on a store that never held an event heard of none: 0. (One an older waiter
      // recorded, which heard of some, is told of them once more: its client reads the list again.)
      // A store that cannot say is taken to have some: told in vain, the client reads the list again.
      // So is one whose newest number is below the one the session heard of: a backup restored
      // without its numbers moved on (docs/webhooks.md), whose new events take the lost ones' numbers.
      const stored = await store
        .firstAfter({}, heardBefore)
        .then(async (event) => event !== undefined || (await store.latestSeq()) < heardBefore)
        .catch(() => true);
      // An event acknowledged (by another process of the store, or another replica) or dropped meanwhile changed too.
      const subscribedEvents = [...held.keys()].filter((name) => name !== RECENT_URI);
      const looked = await Promise.all(subscribedEvents.map(async (id) => [id, await lookUp(id)] as const));
      // One the store could not say of (null) is taken to have changed, as the list above.
      const changed = looked.filter(([, event]) => event === undefined || event === null || ackedSince(event.ackedAt));
      const recentChanged = stored || recent === undefined || recent.some((event) => ackedSince(event.ackedAt));
      notify([...changed.map(([id]) => id), ...(recentChanged ? [RECENT_URI] : [])], sending);
      if (stored) listChanged(sending);
      await forget(looked.filter(([, event]) => event === undefined).map(([id]) => id));
    },
  };
}
