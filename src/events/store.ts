/** What the event store keeps and answers; SQLite (sqlite/) and PostgreSQL (postgres/) implement it. */

import { ToolError } from "../errors.js";
import type { Log } from "../log.js";
import { clock } from "../time.js";
import { VERSION } from "../version.js";
import { warn } from "./listeners.js";
import type { DroppedPayment } from "./payments.js";

/** A verified delivery, as the listener hands it to the store. */
export interface NewEvent {
  source: string;
  type: string;
  scheme: string;
  dedupeId: string;
  /**
   * The delivery id an older waiter stored the delivery under, where it is not `dedupeId`: a retry
   * of a delivery stored (or dropped) under it is a repeat of that one.
   */
  formerDedupeId?: string;
  /** The headers worth keeping; never a signature. */
  headers: Record<string, string>;
  /** The raw bytes as they arrived; stored verbatim. */
  body: Buffer;
  /** Whether the body is JSON, when the caller already knows; else the store finds out. */
  isJson?: boolean;
  receivedAt: number;
}

export interface StoredEvent {
  /** Sortable and unique (ULID). */
  id: string;
  /** Commit order across every process sharing the store; cursors are built from it. */
  seq: number;
  source: string;
  type: string;
  scheme: string;
  dedupeId: string;
  receivedAt: string;
  headers: Record<string, string>;
  /** The payload's text exactly as it arrived: never parsed and re-serialized, which changes numbers. */
  payload: string;
  /** Some of the payload's bytes are not UTF-8: each run of them reads as U+FFFD in `payload`. */
  notUtf8?: true;
  /** The payload's bytes as stored, where some are not UTF-8 (notUtf8): a multipart form's part in its own charset is read from them. */
  bytes?: Buffer;
  isJson: boolean;
  size: number;
  ackedAt: string | null;
}

export interface Added {
  id: string;
  /** A repeat of a stored delivery: nothing new was stored. */
  duplicate: boolean;
  /** A repeat of a delivery whose event retention has dropped since: `id` is the event it was. */
  dropped?: true;
  /**
   * The SHA-256 of that dropped event's body, as `sha256:<hex>`, where the store kept it: for an
   * hmac-sha256 or none source's delivery, whose id may come back with another body (not one dropped
   * by an older waiter, or erased by hand).
   */
  digest?: string;
}

/** Who holds the automations' lease, as `RunLog.lease` answers. */
export interface LeaseHeld {
  holder: string;
  renewed: boolean;
  until: number;
  from?: { owner: string; until: number };
}

export interface Retention {
  maxEvents: number;
  maxBytes: number;
  maxAgeDays: number;
}

export interface StoreStats {
  events: number;
  bytes: number;
  oldest: string | null;
  newest: string | null;
  /** How many events retention removed, by the limit that removed them (maxEvents, maxBytes, maxAgeDays). */
  droppedBy: { count: number; bytes: number; age: number };
}

/** How many events retention removed in all, by every limit. */
export const droppedInAll = ({ droppedBy }: Pick<StoreStats, "droppedBy">): number =>
  droppedBy.count + droppedBy.bytes + droppedBy.age;

/**
 * What one run of retention dropped, by the limit that dropped it (named as in `droppedBy`): how
 * many events, and how many of them no one had acknowledged. A limit that dropped none is absent.
 */
export type Dropped = Partial<Record<keyof StoreStats["droppedBy"], { events: number; unacked: number }>>;

/**
 * What the store holds after a run of retention that dropped events: every event up to sequence
 * number `through` is gone (it drops the oldest first), and `left` events are stored.
 */
export interface Gone {
  through: number;
  left: number;
}

/** Adds what a run of retention dropped to `total`, limit by limit. */
export function addDropped(total: Dropped, dropped: Dropped): void {
  for (const [by, run] of Object.entries(dropped) as [keyof Dropped, { events: number; unacked: number }][]) {
    const sum = total[by] ?? { events: 0, unacked: 0 };
    total[by] = { events: sum.events + run.events, unacked: sum.unacked + run.unacked };
  }
}

/** Tells `onDropped` what a run of retention dropped, when it dropped anything. */
export function tellDropped(onDropped: ((dropped: Dropped) => void) | undefined, dropped: Dropped | null | undefined) {
  if (dropped && Object.keys(dropped).length > 0) onDropped?.(dropped);
}

const LIMIT = { age: "maxAgeDays", count: "maxEvents", bytes: "maxBytes" } as const;

/**
 * What retention drops, as log lines, a line a minute at most: a warning when a count or a size
 * dropped events no one had acknowledged, with what keeps them; else a line of information. The first drop is said at
 * once; what later ones drop within the minute is added up and said at its end, so a burst that
 * drops thousands is said as such, not as its first run's one event. `flush` says what is held at
 * once: the store closes, and a stop must not leave the minute's drops unsaid.
 */
export function logDropped(
  log: Log,
  retention: Retention,
  /** The retention setting as the operator set it: WAITER_WEBHOOKS_RETENTION, or the key in their file. */
  retentionSetting: string,
): ((dropped: Dropped) => void) & { flush(): void } {
  const everyMs = 60_000;
  let held: Dropped = {};
  let writtenAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  const write = () => {
    timer = undefined;
    writtenAt = clock.now();
    let unacked = 0;
    // Events dropped before their age by a count or a size: work an agent may not have seen yet.
    // Those that reached maxAgeDays unacknowledged are the limit doing what it was set to do.
    let cutShort = 0;
    const parts = (Object.keys(LIMIT) as (keyof Dropped)[]).flatMap((by) => {
      const run = held[by];
      if (!run) return [];
      const limit = LIMIT[by];
      unacked += run.unacked;
      if (by !== "age") cutShort += run.unacked;
      return [
        `${run.events} event${run.events === 1 ? "" : "s"} by ${limit} (${retention[limit]}), ${run.unacked} of them not acknowledged`,
      ];
    });
    held = {};
    const keep = unacked > 0 ? `: to keep such events, raise ${retentionSetting} or acknowledge them sooner` : "";
    log[cutShort > 0 ? "warning" : "info"](`event retention dropped ${parts.join("; ")}${keep}`);
  };
  const told = (dropped: Dropped) => {
    addDropped(held, dropped);
    if (timer) return;
    // A clock set back counts the minute from now.
    const wait = Math.min(everyMs, writtenAt + everyMs - clock.now());
    if (wait <= 0) write();
    else {
      timer = setTimeout(write, wait);
      timer.unref();
    }
  };
  const flush = () => {
    if (!timer) return;
    clearTimeout(timer);
    write();
  };
  return Object.assign(told, { flush });
}

/**
 * What a delivery stored as its own event though its `idHeader` repeated a stored delivery's id,
 * with another body, is tallied under besides `accepted`: no outcome of its own, so not received twice.
 */
export const ID_REUSED = "id reused";

/** Per source and outcome: received, accepted, duplicate, rejected:<reason>. */
export type Counters = Record<string, Record<string, number>>;

/**
 * The sources whose events a filter finds: those configured, then those no longer configured
 * (or configured in another process) whose events the store still holds.
 */
export async function sourcesHeld(store: EventStore, sources: readonly string[]): Promise<string[]> {
  const heard = Object.keys(await store.counters());
  return [...sources, ...heard.filter((name) => !sources.includes(name)).sort()];
}

export interface EventFilter {
  source?: string | undefined;
  /** Exact, or a prefix when it ends with "." or "/" or "*": `order.` matches order.paid. */
  type?: string | undefined;
  unackedOnly?: boolean | undefined;
}

export interface Acked {
  acked: string[];
  /** Those acknowledged before, with when. */
  already: { id: string; ackedAt: string }[];
  unknown: string[];
}

/** A step's state; "refused": the upstream refused its call (429), which is made again after the wait. */
export type StepStatus = "started" | "refused" | "done" | "failed" | "would" | "interrupted";

export interface StepRecord {
  step: number;
  status: StepStatus;
  /** What the step did or would do, as JSON: the tool and its arguments, its outcome or error. */
  detail: string;
  at: string;
}

/**
 * Where telling a failed run's onFailure notice got to: "owed", not tried yet, or refused for now
 * (a 429, a mail server's 4xx), so it did not reach the channel; "started", a try under way, which
 * may have.
 */
export type NoticeStatus = "owed" | "started";

/**
 * What became of a failed run's onFailure notice once telling it ended: "told", the channel took
 * it (`said`: notify_send's answer, who has it); "not told", the channel refused it, or could not
 * be reached for the retry time (`said`: why); "not tried", as its automation or channel is gone
 * (`said`: which); "interrupted", a try was under way when waiter stopped or its store failed, and
 * may or may not have reached the channel, so it was not told again (`said`: so).
 */
export interface NoticeOutcome {
  status: "told" | "not told" | "not tried" | "interrupted";
  said: string;
}

export interface RunRecord {
  id: number;
  automation: string;
  eventId: string;
  status: "running" | "done" | "failed";
  dryRun: boolean;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  steps: StepRecord[];
  /** The onFailure notice of a failed run while it is not yet told: its text and where telling it got to. */
  notice: { text: string; status: NoticeStatus } | null;
  /** What became of the notice once telling it ended; null while it is owed, and for a run that had none to tell. */
  noticeOutcome: NoticeOutcome | null;
  /** The onFailure channel its automation had when it began: told of its end once the automation is gone. */
  onFailure: string | null;
}

/**
 * What became of a failed run's onFailure notice, as automations_runs names it: told, not told, not
 * tried, interrupted; while it is owed, waiting or started. Undefined for a run that had none to tell.
 */
export function noticeStatus(run: Pick<RunRecord, "notice" | "noticeOutcome">): string | undefined {
  if (run.noticeOutcome) return run.noticeOutcome.status;
  if (run.notice) return run.notice.status === "started" ? "started" : "waiting";
  return undefined;
}

export interface RunFilter {
  automation?: string | undefined;
  status?: RunRecord["status"] | undefined;
  eventId?: string | undefined;
  limit: number;
}

/**
 * What automations record, in the store beside the events: a run begins once per automation and
 * event (a repeat resolves to undefined), each step's outcome is kept as it happens, so a restart
 * resumes a run where it stopped and never repeats a step that completed.
 */
export interface RunLog {
  begin(
    automation: string,
    eventId: string,
    dryRun: boolean,
    now: number,
    onFailure?: string,
  ): Promise<number | undefined>;
  step(runId: number, step: number, status: StepStatus, detail: string, now: number): Promise<void>;
  /**
   * `notice`: the failed run's onFailure notice, owed from the same write that marks the run
   * failed; or, for one that cannot be told (its automation and channel gone), why not.
   */
  finish(
    runId: number,
    status: "done" | "failed",
    now: number,
    error?: string,
    notice?: string | NoticeOutcome,
  ): Promise<void>;
  /**
   * Where telling the run's notice got to; once it is told, or given up, what became of it, and it
   * is owed no more. Whether the store still owed it: not for a run erased by hand meanwhile.
   */
  notice(runId: number, status: NoticeStatus | NoticeOutcome): Promise<boolean>;
  get(runId: number): Promise<RunRecord | undefined>;
  /** Runs a stopped process left running. */
  unfinished(): Promise<RunRecord[]>;
  /** Failed runs whose notice is owed, or was being told when a process stopped. */
  untold(): Promise<RunRecord[]>;
  /** Newest first. */
  list(filter: RunFilter): Promise<RunRecord[]>;
  /** How many runs of each automation ended each way, and how many are running: its dry runs, or its real ones. */
  counts(dryRun: boolean): Promise<Record<string, Record<RunRecord["status"], number>>>;
  /**
   * The sequence number from which `automation` acts: `seq` the first time it is asked about, the
   * same number ever after. An automation added later does not act on the events before it.
   */
  firstSeen(automation: string, seq: number): Promise<number>;
  /** What `firstSeen` answers for `automation`, read without setting it: undefined before it first ran. */
  seenFrom(automation: string): Promise<number | undefined>;
  /**
   * Takes, or renews, the right to run automations on this store until `now + ms`, unless another
   * owner's lease has not run out. One process runs them, so no run is taken up twice. `holder` is
   * who holds it now (`owner`, or that other); `renewed`, whether it was `owner`'s already, so that
   * no other held it since `owner` last took it; `until`, when the holder's lease runs out. `from`
   * is the run-out lease of another owner that `owner` took it from, as it was.
   */
  lease(owner: string, now: number, ms: number): Promise<LeaseHeld>;
  release(owner: string): Promise<void>;
  /**
   * When the last lease taken runs out, read without taking it: past where its holder stopped without
   * letting it go (killed); undefined when none was taken or it was let go.
   */
  leaseUntil(): Promise<number | undefined>;
  /** The sequence number of the last event automations looked at; undefined before the first. */
  cursor(): Promise<number | undefined>;
  setCursor(seq: number): Promise<void>;
  /** Sets the cursor to `seq` unless one is set: what a store holds before automations first ran on it is history. */
  markHistory(seq: number): Promise<void>;
}

/**
 * The MCP sessions of `waiter serve`, kept in the store so that a replica sharing it can answer a
 * session another opened, and a restarted server the sessions it had.
 */
export interface SessionLog {
  /**
   * `caller`: the token that opened it, null when callers are not asked; `init`: the initialize
   * request's params, as JSON. Its client is taken to have heard of the events stored so far, which
   * the list it reads first shows. Writing one already there changes nothing.
   */
  open(id: string, caller: string | null, init: string, now: number): Promise<void>;
  /**
   * The open session, with the resources its client subscribed to and `heardSeq`, the newest event
   * its client was told of (0 when the store held none as it opened, or an older waiter recorded it);
   * undefined when it is not open.
   */
  get(
    id: string,
  ): Promise<
    { caller: string | null; init: string; lastSeen: number; heardSeq: number; subscriptions: string[] } | undefined
  >;
  /**
   * The resources the session's client is subscribed to, in place of those kept before, for a
   * server that takes the session up; nothing when the store does not hold the session.
   */
  keepSubscriptions(id: string, uris: readonly string[]): Promise<void>;
  /**
   * Marks sessions seen, each at its time, and as told of the events up to the sequence number
   * `heard` has for it; resolves with those of them still open (not ended, nor expired).
   */
  seen(at: Map<string, number>, heard?: ReadonlyMap<string, number>): Promise<Set<string>>;
  /**
   * Ends a session, and its subscriptions; with `unlessSeenAfter`, only when no server has marked
   * it seen after that time.
   */
  close(id: string, unlessSeenAfter?: number): Promise<void>;
  /** Closes the sessions no replica has seen since `before`. */
  expire(before: number): Promise<void>;
}

/**
 * The waits an upstream asked for (a 429's retry-after), kept in the store so that no process on it
 * calls during a wait another was told of: a call then makes some upstreams (Telegram) wait longer.
 * `key` is the caller's name for what waits (a bot's chat), never a secret.
 */
export interface WaitLog {
  /** Keeps that `key` waits from `at` until `until`, unless a wait kept for it ends later. */
  hold(key: string, at: number, until: number): Promise<void>;
  /** The wait kept for `key` that is not over at `now`: when it was asked for, and when it ends. */
  held(key: string, now: number): Promise<{ at: number; until: number } | undefined>;
}

/** Events between two sequence numbers (both excluded), at most `limit` of them. */
/**
 * `bodies: false`: without the payloads (each reads empty), for a listing that shows none;
 * `oldestFirst`: the oldest `limit` of them, oldest first.
 */
export type EventPage = { after?: number; before?: number; limit: number; bodies?: false; oldestFirst?: true };

/** The schema an opening brought a store up from, and to. */
export type Upgraded = { from: number; to: number };

/**
 * The shared event store. The listener adds verified deliveries and answers only once `add`
 * resolves (committed); tools and resources read, wait and acknowledge. Events are ordered by
 * `seq`, their commit order across every process sharing the store. Bounded by `Retention`.
 */
export interface EventStore {
  /** Set when this opening upgraded a store an older waiter set up: an older waiter refuses it now. */
  readonly upgraded?: Upgraded;
  /** Whether this opening set the store up, where none was: it holds nothing from before. */
  readonly created?: boolean;
  /**
   * The store's identity, made as it was set up and kept in it, the same for every process that
   * opens it: /healthz says it. Undefined for a SQLite store an older waiter set up, which this one
   * could not write to as it opened it (another program held its lock).
   */
  readonly storeId?: string | undefined;
  /** Stores an event once per source and delivery id; a repeat resolves to the stored one. */
  add(event: NewEvent): Promise<Added>;
  /** Counts `n` requests that stored nothing: rejected:<reason>, ping. `add` counts accepted and duplicate. */
  count(source: string, outcome: string, n?: number): Promise<void>;
  /**
   * Writes an event of `bytes` bytes into the events' storage as a delivery that size does, and
   * leaves nothing behind: no event, no sequence number taken. It fails where such a delivery
   * would (a full disk): a smaller write fits in a page the store has, where a delivery needs new
   * ones. SQLite's is committed, as its pages reach the file (its -wal) only then; PostgreSQL's is
   * rolled back, its files grown at the insert.
   */
  proveWritable(bytes: number): Promise<void>;
  /**
   * What keeps this process from using the store as it should, found without a write and cheaply
   * enough for every health check: a schema a newer waiter upgraded the store to since this one
   * opened it (told to the store's onNewerSchema once, whether found here or by its retention's
   * timer), or a database that takes no writes (a PostgreSQL standby, or one read-only by its
   * settings, as the connection asked finds it). Undefined while there is none.
   */
  unfit(): Promise<NewerSchema | StoreNotWritable | undefined>;
  /** Newest first, unless the page asks for the oldest; `after` and `before` are sequence numbers that bound it. */
  list(filter: EventFilter, page: EventPage): Promise<StoredEvent[]>;
  /** The oldest matching event committed after sequence number `after`. */
  firstAfter(filter: EventFilter, after: number): Promise<StoredEvent | undefined>;
  get(id: string): Promise<StoredEvent | undefined>;
  /** An event's body as it arrived, byte for byte: a payload not all UTF-8 reads as U+FFFD in `get`'s text. */
  storedBody(id: string): Promise<Buffer | undefined>;
  /**
   * The stored events a sender's delivery id (`dedupeId`, or a Shopify webhook's id its headers
   * carry) names, at most one per source, oldest first.
   */
  deliveredAs(deliveryId: string): Promise<{ id: string; source: string }[]>;
  /**
   * The stored events of deliveries a sender put `deliveryId` on beside the one stored under it,
   * each with another body, which the listener keyed on the id and the body (`<id> sha256:<hex>`),
   * oldest first: of the sources that stored or dropped an event under `deliveryId` itself or are
   * counted as reusing ids (ID_REUSED), at most REUSED_LISTED and one more where there are more.
   */
  reusedAs(deliveryId: string): Promise<{ id: string; source: string }[]>;
  /**
   * The events a sender's delivery id named that retention dropped, while their deliveries are
   * remembered, with their bodies' digests where kept (as `Added` has them).
   */
  droppedAs(deliveryId: string): Promise<{ id: string; source: string; digest?: string }[]>;
  /** The events `reusedAs` would name that retention dropped, while their deliveries are remembered, oldest drop first, as many. */
  droppedReusedAs(deliveryId: string): Promise<{ id: string; source: string }[]>;
  /**
   * When retention dropped the events of `ids` (event ids) it did, while their deliveries are
   * remembered (`forgottenBefore`): an id not answered names no event it dropped in that time.
   */
  droppedEvents(ids: string[]): Promise<{ id: string; droppedAt: string }[]>;
  /**
   * The oldest event id among the drops remembered (ids sort by time), undefined for none: a store
   * upgraded from a waiter that kept no record of drops holds none of those it made, which came
   * before every drop on record, as retention drops the oldest first.
   */
  oldestDroppedId(): Promise<string | undefined>;
  /**
   * How many drops are remembered: where as many as stats count, none was made unrecorded nor
   * forgotten. With `after`, only those of the event ids greater than it: made after its time.
   */
  droppedRemembered(after?: string): Promise<number>;
  /**
   * The stored events of a Comgate or GoPay payment, whose delivery ids are its id and a state
   * (`3000006542:PAID`), oldest first, at most ten.
   */
  paymentEvents(paymentId: string): Promise<{ id: string; source: string; dedupeId: string }[]>;
  /**
   * The events of a Comgate or GoPay payment that retention dropped, while their deliveries are
   * remembered (`paymentEvents`); dropped deliveries keep no scheme, so those of a source not among
   * the configured sources of another scheme the store was opened with (`otherSchemeSources`), those
   * of a source not configured marked so (`markUnconfigured`).
   */
  droppedPayment(paymentId: string): Promise<DroppedPayment[]>;
  /** Ids of the newest events, optionally those starting with `prefix`: for completion. */
  recentIds(prefix: string, limit: number): Promise<string[]>;
  /**
   * The types of the events after sequence number `after` that `filter`'s source and unackedOnly
   * select and that begin with its type (the prefix, for one) in any letter case, at most `limit`:
   * what a type that matched nothing may have meant. The type in another case comes first, then
   * those that begin with it in its case, then the rest, each shortest first. Only the events
   * after `after` are read: no index serves a type in any letter case.
   */
  typesLike(filter: EventFilter, after: number, limit: number): Promise<string[]>;
  /** Marks events handled. Idempotent: an event acknowledged before keeps its first time. */
  ack(ids: string[], now?: number): Promise<Acked>;
  /**
   * The sequence number of the newest event committed, kept or dropped since: "now" as a cursor,
   * which never goes back, not even when retention empties the store. A cursor beyond it never
   * came from this store.
   */
  latestSeq(): Promise<number>;
  /**
   * The greatest sequence number retention has dropped, 0 while it has dropped none: a reader
   * whose cursor is below it missed the events retention dropped after its cursor.
   */
  droppedThrough(): Promise<number>;
  stats(): Promise<StoreStats>;
  counters(): Promise<Counters>;
  /** Drops the events past the age limit now; adding an event does this too. */
  expire(now?: number): Promise<void>;
  /** Calls `listener` with every new event, whichever process committed it. Returns the unsubscribe function. */
  subscribe(listener: (event: StoredEvent) => void): () => void;
  /** Automations' runs, kept beside the events. */
  readonly runs: RunLog;
  /** MCP sessions of `waiter serve`. */
  readonly sessions: SessionLog;
  /** The waits upstreams asked for, which every process on the store keeps to. */
  readonly waits: WaitLog;
  /** Calls `listener` with the ids acknowledged, whichever process acknowledged them. Returns the unsubscribe function. */
  onAck(listener: (ids: string[]) => void): () => void;
  /**
   * Calls `listener` with what retention left when it drops events, whichever process ran it, each
   * drop once (another process's several may come in one call). Returns the unsubscribe function.
   */
  onGone(listener: (gone: Gone) => void): () => void;
  /** Writes what was added, then closes; rejects with a LeftUndone naming what it may not have stored. */
  close(): Promise<void>;
}

/**
 * A store that takes no writes until someone frees space or makes it writable, in the same words
 * whichever database holds it: the operator's to fix, not a fault in waiter. `why`: the
 * database's own code and words; `what`: which disk or file, and where.
 */
export class StoreNotWritable extends ToolError {
  override name = "StoreNotWritable";
  /** What cannot be written and why, which a log line of a run no caller waits for says with `remedy`. */
  readonly said: string;
  constructor(
    why: string,
    what: string,
    readonly remedy = "frees space there",
  ) {
    const said = `The event store cannot be written (${why}): ${what}`;
    super(`${said}. Nothing is stored until whoever runs waiter ${remedy}; tell them.`);
    this.said = said;
    this.logged = `${said}. Nothing is stored until whoever runs waiter ${remedy}.`;
  }
}

/**
 * A write that waited past its bound for a lock another program or session holds on the store (a
 * transaction left open): writes wait for it to end, while reads go on, so what the store holds
 * already can still be found.
 */
export class StoreBusy extends ToolError {
  override name = "StoreBusy";
}

/**
 * A store a newer waiter set up: this one could misread what it keeps, so it refuses the store
 * at open and leaves it as it is. `version`: the store's schema; `known`: the newest this one knows.
 */
export class NewerStore extends Error {
  constructor(version: number, known: number) {
    super(
      `set up by a newer waiter (schema ${version}; this waiter, ${VERSION}, knows schemas up to ${known}), and left as it is: upgrade waiter to the release that upgraded it (its log says "waiter … upgraded the event store"), or, to go back to this one, restore the backup taken before that upgrade (docs/webhooks.md#backing-up-and-restoring-the-store)`,
    );
  }
}

/**
 * Another program's write lock held past the open's wait on a store an older waiter set up, which
 * this waiter must write to upgrade: most often another waiter upgrading it, as every process on the
 * store starts after an update, which on a large store holds the lock for seconds. `schema`: the store's.
 */
export class OlderStoreBusy extends Error {
  readonly code = "SQLITE_BUSY";
  constructor(readonly schema: number) {
    super(`SQLITE_BUSY: the store, of schema ${schema}, is locked by another program`);
  }
}

/**
 * A schema a newer waiter upgraded the store to while this one had it open: this one goes on, as
 * stopping would lose what it does for the deliveries it takes, but may misread what the newer
 * one keeps. `version`: the store's schema now; `known`: the newest this one knows.
 */
export class NewerSchema extends Error {
  constructor(version: number, known: number) {
    super(
      `a newer waiter upgraded the event store to schema ${version} while this waiter (${VERSION}, which knows schemas up to ${known}) had it open: this one goes on, but may misread what the store keeps and write what the newer one does not expect; upgrade this waiter and start it again, as every process on a store must run the same release`,
    );
  }
}

/**
 * Given each schema version a store reads, the newer schema it was found in, if any: said once to
 * `tell` (a process warning where the store was given none), and found from then on (this process
 * stays of the older release until started again).
 */
export function newerSchemaWatch(
  known: number,
  tell: (newer: NewerSchema) => void = (newer) => warn("the event store", newer),
): (version: number) => NewerSchema | undefined {
  let found: NewerSchema | undefined;
  return (version) => {
    if (!found && version > known) {
      found = new NewerSchema(version, known);
      tell(found);
    }
    return found;
  };
}
