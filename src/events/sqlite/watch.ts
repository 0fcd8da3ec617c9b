import type Database from "better-sqlite3";
import { warn } from "../listeners.js";
import type { StoredEvent } from "../store.js";

/** How often a listening process looks for events other processes committed. */
const POLL_MS = 200;

/** The acknowledgements other processes make in the same file, as the store reads them. */
export interface OthersAcks {
  /** The number of the latest acknowledgement. */
  latest(): number;
  /** The number of the latest after `n`, and the ids other processes acknowledged after it. */
  after(n: number): { last: number; ids: string[] };
  tell(ids: string[]): void;
}

/**
 * Hears of the events other processes commit to the same file, of their acknowledgements and of what their retention drops. While someone in this process
 * listens, it asks SQLite every 200 ms whether another connection committed (data_version: a
 * cheap question) and, when one did, reads the newer rows. Events this process committed were
 * told at once as they were; the watch skips them, without reading them again: SQLite's
 * data_version counts only the other connections' commits, so a process that stores thousands
 * of events before another commits once would otherwise read them all back at once.
 */
export class CommitWatch {
  #timer: NodeJS.Timeout | undefined;
  /** The last sequence number looked at. */
  #seen = 0;
  #version = 0;
  /** The number of the last acknowledgement looked at. */
  #ackSeen = 0;
  /** Whether the last look failed: a failure is said once, not at every poll until a look succeeds. */
  #failing = false;
  /** Told as this process committed them, not yet met by the watch. */
  readonly #toldHere = new Set<number>();

  constructor(
    private readonly db: Database.Database,
    /** The sequence numbers after `seq`, in order. */
    private readonly newerThan: (seq: number) => number[],
    private readonly read: (seq: number) => StoredEvent | undefined,
    private readonly tell: (event: StoredEvent) => void,
    private readonly acks?: OthersAcks,
    /** Reads what retention left, told where another process's retention dropped events since. */
    private readonly dropped?: () => void,
  ) {}

  start(latestSeq: number): void {
    this.#seen = latestSeq;
    this.#ackSeen = this.acks?.latest() ?? 0;
    this.#version = this.db.pragma("data_version", { simple: true }) as number;
    this.#timer = setInterval(() => {
      try {
        this.#look();
        this.#failing = false;
      } catch (err) {
        // The next poll looks again, from the first event not yet told: no commit may come to bring it back.
        if (!this.#failing) warn("watching for events from other processes failed", err);
        this.#failing = true;
      }
    }, POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#toldHere.clear();
    this.#failing = false;
  }

  /** An event this process committed and told its listeners of: the watch will meet it too. */
  toldHere(event: StoredEvent): void {
    if (!this.#timer) return;
    // No other connection committed since the watch last looked: every row up to this one is
    // this process's, and told.
    if (this.#toldHere.size === 0 && this.db.pragma("data_version", { simple: true }) === this.#version) {
      this.#seen = Math.max(this.#seen, event.seq);
      return;
    }
    this.#toldHere.add(event.seq);
  }

  #look(): void {
    if (!this.db.open) return;
    const version = this.db.pragma("data_version", { simple: true }) as number;
    if (version === this.#version) return;
    for (const seq of this.newerThan(this.#seen)) {
      if (!this.#toldHere.delete(seq)) {
        const event = this.read(seq);
        if (event) this.tell(event);
      }
      this.#seen = seq;
    }
    if (this.acks) {
      const { last, ids } = this.acks.after(this.#ackSeen);
      this.#ackSeen = last;
      if (ids.length > 0) this.acks.tell(ids);
    }
    this.dropped?.();
    this.#version = version;
    // Those retention dropped before the watch met them.
    for (const seq of this.#toldHere) if (seq <= this.#seen) this.#toldHere.delete(seq);
  }
}
