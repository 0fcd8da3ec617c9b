import type pg from "pg";
import { warn } from "../listeners.js";
import type { StoredEvent } from "../store.js";

/** The longest wait between attempts to listen again after the database went away. */
const MAX_BACKOFF_MS = 10_000;
/** Events read at a time when catching up. */
const PAGE = 500;

export interface WatchParts {
  connect: () => pg.Client;
  /** The NOTIFY channel of this store's schema. */
  channel: string;
  latestSeq: () => Promise<number>;
  newerThan: (seq: number, limit: number) => Promise<StoredEvent[]>;
  /** Whether anyone in this process listens: only then are the events read. */
  wanted: () => boolean;
  tell: (event: StoredEvent) => void;
}

/**
 * Hears of the events every waiter sharing the database commits, by LISTEN. Each commit
 * notifies its newest sequence number, and since commits take turns (see PostgresEventStore),
 * every event up to it is committed then. While someone in this process listens, the watch reads
 * the events after the last it saw, so none is missed whichever replica committed it; while no
 * one does, it only moves its mark. Events this process told its listeners of as it committed
 * them are skipped. When the connection drops it listens again, with a growing pause, and
 * catches up from where it was. One connection for as long as the store is open.
 */
export class ListenWatch {
  #client: pg.Client | undefined;
  #running = false;
  /** The last sequence number looked at. */
  #seen = 0;
  /** The newest sequence number a commit notified. */
  #notified = 0;
  #backoff = 250;
  #retry: NodeJS.Timeout | undefined;
  /** A read is under way; a notification during it asks for one more after it. */
  #reading = false;
  #again = false;
  readonly #toldHere = new Set<number>();

  constructor(private readonly parts: WatchParts) {}

  /** Resolves once listening, or once the first attempt failed: it goes on trying. */
  async start(): Promise<void> {
    this.#running = true;
    await this.#listen(true);
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => {});
  }

  /** An event this process committed and told its listeners of: the watch will meet it too. */
  toldHere(event: StoredEvent): void {
    this.#toldHere.add(event.seq);
  }

  async #listen(first: boolean): Promise<void> {
    const client = this.parts.connect();
    this.#client = client;
    client.on("error", (err) => this.#lost(client, err));
    client.on("end", () => this.#lost(client, new Error("the connection ended")));
    client.on("notification", (message) => {
      this.#notified = Math.max(this.#notified, Number(message.payload) || 0);
      this.#look();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.parts.channel)}`);
      // Only after LISTEN: a commit in between is then read, not missed.
      const latest = await this.parts.latestSeq();
      this.#notified = Math.max(this.#notified, latest);
      if (first) this.#seen = latest;
      else this.#look();
      this.#backoff = 250;
    } catch (err) {
      this.#lost(client, err);
    }
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client || !this.#running) return;
    this.#client = undefined;
    client.end().catch(() => {});
    warn(`listening for events committed by other waiter processes failed; trying again in ${this.#backoff} ms`, err);
    this.#retry = setTimeout(() => void this.#listen(false), this.#backoff);
    this.#retry.unref();
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
  }

  #look(): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    void this.#read().finally(() => {
      this.#reading = false;
      if (this.#again && this.#running) {
        this.#again = false;
        this.#look();
      }
    });
  }

  async #read(): Promise<void> {
    if (!this.parts.wanted()) {
      this.#seen = Math.max(this.#seen, this.#notified);
      this.#toldHere.clear();
      return;
    }
    try {
      let page: StoredEvent[];
      do {
        page = await this.parts.newerThan(this.#seen, PAGE);
        for (const event of page) {
          this.#seen = event.seq;
          if (this.#toldHere.delete(event.seq)) continue;
          this.parts.tell(event);
        }
      } while (page.length === PAGE && this.#running);
    } catch (err) {
      // The next notification, or listening again, reads from where this one stopped.
      warn("reading events committed by other waiter processes failed", err);
    }
  }
}
