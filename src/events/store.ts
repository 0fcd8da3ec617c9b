/** What the event store keeps and answers; SQLite implements it (sqlite.ts). */

/** A verified delivery, as the listener hands it to the store. */
export interface NewEvent {
  source: string;
  type: string;
  scheme: string;
  dedupeId: string;
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
  isJson: boolean;
  size: number;
  ackedAt: string | null;
}

export interface Added {
  id: string;
  /** A repeat of a stored delivery: nothing new was stored. */
  duplicate: boolean;
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

/** Per source and outcome: received, accepted, duplicate, rejected:<reason>. */
export type Counters = Record<string, Record<string, number>>;

export interface EventFilter {
  source?: string | undefined;
  /** Exact, or a prefix when it ends with "." or "/" or "*": `order.` matches order.paid. */
  type?: string | undefined;
  unackedOnly?: boolean | undefined;
}

export interface Acked {
  acked: string[];
  already: string[];
  unknown: string[];
}

/**
 * The shared event store. The listener adds verified deliveries and answers only once `add`
 * resolves (committed); tools and resources read, wait and acknowledge. Events are ordered by
 * `seq`, their commit order across every process sharing the store. Bounded by `Retention`.
 */
export interface EventStore {
  /** Stores an event once per source and delivery id; a repeat resolves to the stored one. */
  add(event: NewEvent): Promise<Added>;
  /** Counts a request that stored nothing: rejected:<reason>, ping. `add` counts accepted and duplicate. */
  count(source: string, outcome: string): Promise<void>;
  /** Newest first; `after` and `before` are sequence numbers that bound the page. */
  list(filter: EventFilter, page: { after?: number; before?: number; limit: number }): Promise<StoredEvent[]>;
  /** The oldest matching event committed after sequence number `after`. */
  firstAfter(filter: EventFilter, after: number): Promise<StoredEvent | undefined>;
  get(id: string): Promise<StoredEvent | undefined>;
  /** Ids of the newest events, optionally those starting with `prefix`: for completion. */
  recentIds(prefix: string, limit: number): Promise<string[]>;
  /** Marks events handled. Idempotent: an event acknowledged before keeps its first time. */
  ack(ids: string[], now?: number): Promise<Acked>;
  /** The sequence number of the newest event: "now" as a cursor. */
  latestSeq(): Promise<number>;
  stats(): Promise<StoreStats>;
  counters(): Promise<Counters>;
  /** Drops the events past the age limit now; adding an event does this too. */
  expire(now?: number): Promise<void>;
  /** Calls `listener` with every new event, whichever process committed it. Returns the unsubscribe function. */
  subscribe(listener: (event: StoredEvent) => void): () => void;
  /** Calls `listener` with the ids this process acknowledges. Returns the unsubscribe function. */
  onAck(listener: (ids: string[]) => void): () => void;
  close(): Promise<void>;
}
