import type Database from "better-sqlite3";
import { warn } from "../listeners.js";
import type { StoredEvent } from "../store.js";

/** How often a listening process looks for events other processes committed. */
const POLL_MS = 200;

/**
 * Hears of the events other processes commit to the same file. While someone in this process
 * listens, it asks SQLite every 200 ms whether another connection committed (data_version: a
 * cheap question) and, when one did, reads the newer rows. Events this process committed were
 * told at once as they were; the watch skips them.
 */
export class CommitWatch {
  #timer: NodeJS.Timeout | undefined;
  /** The last sequence number looked at. */
  #seen = 0;
  #version = 0;
  /** Told as this process committed them, not yet met by the watch. */
  readonly #toldHere = new Set<number>();

  constructor(
    private readonly db: Database.Database,
    private readonly newerThan: (seq: number) => StoredEvent[],
    private readonly tell: (event: StoredEvent) => void,
  ) {}

  start(latestSeq: number): void {
    this.#seen = latestSeq;
    this.#version = this.db.pragma("data_version", { simple: true }) as number;
    this.#timer = setInterval(() => {
      try {
        this.#look();
      } catch (err) {
        // The next commit brings the watch back, and it reads from where it last succeeded.
        warn("watching for events from other processes failed", err);
      }
    }, POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#toldHere.clear();
  }

  /** An event this process committed and told its listeners of: the watch will meet it too. */
  toldHere(event: StoredEvent): void {
    if (this.#timer) this.#toldHere.add(event.seq);
  }

  #look(): void {
    if (!this.db.open) return;
    const version = this.db.pragma("data_version", { simple: true }) as number;
    if (version === this.#version) return;
    this.#version = version;
    for (const event of this.newerThan(this.#seen)) {
      this.#seen = event.seq;
      if (this.#toldHere.delete(event.seq)) continue;
      this.tell(event);
    }
  }
}
