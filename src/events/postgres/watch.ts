import { randomUUID } from "node:crypto";
import type pg from "pg";
import { throttled } from "../../log.js";
import type { Gone, StoredEvent } from "../store.js";
import { throughTransactionPooler } from "./pooler.js";

/** The longest wait between attempts to listen again after the database went away. */
const MAX_BACKOFF_MS = 10_000;
/** How often the listening connection is asked whether it still answers. */
const PING_MS = 30_000;
/** Events read at a time when catching up. */
const PAGE = 500;
/** How long a notification the watch sends itself may take to come back before the log says none does. */
export const PROBE_MS = 5_000;
/** The payload of a notification a watch sends itself; every other but an acknowledgement's is a sequence number. */
const PROBE = "probe ";
/**
 * What an acknowledgement's notification starts with: the store that made it and the ids follow,
 * separated by spaces. A replica from before these reads it as no sequence number: it reads the
 * events after its last once more, and finds none it has not told.
 */
export const ACKED = "acked ";
/** What the notification of a run of retention that dropped events starts with: what it left (`Gone`) follows, the numbers separated by a space. */
const DROPPED = "dropped ";

export interface WatchParts {
  connect: () => pg.Client;
  /** What the connection runs before it listens: the session's settings. */
  setUp: string;
  /** The NOTIFY channel of this store's schema. */
  channel: string;
  /** Where the database URL was given, as a warning names it: WAITER_DATABASE_URL, or database.url in the config file. */
  urlFrom: string;
  /** The newest sequence number, and what retention has left. */
  latest: () => Promise<{ seq: number; gone: Gone }>;
  /** Sends a notification on the channel from another connection than the listening one. */
  notify: (payload: string) => Promise<void>;
  newerThan: (seq: number, limit: number) => Promise<StoredEvent[]>;
  /** Whether anyone in this process listens: only then are the events read. */
  wanted: () => boolean;
  tell: (event: StoredEvent) => void;
  /** Told the ids of an acknowledgement, with the store that made it. */
  acked: (by: string, ids: string[]) => void;
  /** Told what retention left as it drops events, and as the watch listens (again): some drops it may have told before. */
  dropped: (gone: Gone) => void;
  /**
   * Words for a failure to listen that say more than the driver's, if any: a connection attempt
   * the connect timeout ended, with the time and where it was set, rather than "timeout expired".
   */
  failure?: (err: unknown) => string | undefined;
  /** How long the notification the watch sends itself may take to come back; PROBE_MS unless given. */
  probeMs?: number;
}

/**
 * Tells this process's listeners of the events every waiter sharing the database commits, in
 * sequence order. Each commit notifies its newest sequence number by LISTEN (this process's own
 * commits also ask directly), and since commits take turns (see PostgresEventStore), every event
 * up to it is committed then. While someone listens, the watch reads the events after the last
 * it told, so none is missed or told twice whichever replica committed it; while no one does, it
 * only moves its mark. When the connection drops it listens again, with a growing pause, and
 * catches up from where it was; a read that fails is tried again the same way. One connection
 * for as long as the store is open.
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
  /** The read under way; a notification during it asks for one more after it. */
  #reading: Promise<void> | undefined;
  #again = false;
  #rereading: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;
  /** The payload of the notification sent to check that the listening connection hears, and what it calls when heard. */
  #probe: { payload: string; heard: () => void } | undefined;
  /** Failed attempts to listen, a line a minute while they go on, and one when listening again. */
  readonly #trouble = throttled((line) => process.emitWarning(line));

  constructor(private readonly parts: WatchParts) {}

  get #probeMs(): number {
    return this.parts.probeMs ?? PROBE_MS;
  }

  /** `seen`: the newest sequence number now. Resolves once listening, or once the first attempt failed: it goes on trying. */
  async start(seen: number): Promise<void> {
    this.#running = true;
    this.#seen = seen;
    this.#notified = seen;
    await this.#listen();
    // A connection that died where no reset reached it (a NAT's idle timeout) says nothing: ask it.
    this.#ping = setInterval(() => {
      const client = this.#client;
      client?.query("SELECT 1").catch((err) => this.#lost(client, err));
    }, PING_MS);
    this.#ping.unref();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#retry);
    clearTimeout(this.#rereading);
    clearInterval(this.#ping);
    this.#probe?.heard();
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => {});
    this.#trouble.sayLeftOut();
  }

  /**
   * Resolves once a read that began after the call has ended: every event committed before it is
   * then told, unless that read failed, when they are told as it is tried again.
   */
  async catchUp(): Promise<void> {
    const under = this.#reading;
    if (under) {
      // It may have read before the commit: the read it starts when it ends comes after.
      this.#again = true;
      await under;
    } else this.#look();
    await this.#reading;
  }

  async #listen(): Promise<void> {
    const client = this.parts.connect();
    this.#client = client;
    client.on("error", (err) => this.#lost(client, err));
    client.on("end", () => this.#lost(client, new Error("the connection ended")));
    client.on("notification", (message) => {
      if (message.payload?.startsWith(PROBE)) {
        if (message.payload === this.#probe?.payload) this.#probe.heard();
        return;
      }
      if (message.payload?.startsWith(ACKED)) {
        const [by = "", ...ids] = message.payload.slice(ACKED.length).split(" ");
        this.parts.acked(by, ids);
        return;
      }
      if (message.payload?.startsWith(DROPPED)) {
        const [through = 0, left = 0] = message.payload.slice(DROPPED.length).split(" ").map(Number);
        this.parts.dropped({ through, left });
        return;
      }
      this.#notified = Math.max(this.#notified, Number(message.payload) || 0);
      this.#look();
    });
    try {
      await client.connect();
      await client.query(this.parts.setUp);
      await client.query(`LISTEN ${client.escapeIdentifier(this.parts.channel)}`);
      // After LISTEN, what was committed or dropped while no one listened is read, and nothing after it is missed.
      const latest = await this.parts.latest();
      this.#notified = Math.max(this.#notified, latest.seq);
      this.parts.dropped(latest.gone);
      this.#backoff = 250;
      this.#trouble.ended("listening again for events committed by other waiter processes");
      this.#look();
    } catch (err) {
      this.#lost(client, err);
      return;
    }
    void this.#checkHeard(client);
  }

  /**
   * Sends a notification from another connection and says so when the listening one does not hear
   * it: through a pooler in transaction mode, LISTEN succeeds and runs on a server connection that
   * goes back to the pool, and nothing it hears ever reaches the watch, without an error.
   */
  async #checkHeard(client: pg.Client): Promise<void> {
    const payload = `${PROBE}${randomUUID()}`;
    let timer: NodeJS.Timeout | undefined;
    let answer = (_heard: boolean) => {};
    const heard = new Promise<boolean>((resolve) => {
      answer = resolve;
      this.#probe = { payload, heard: () => resolve(true) };
    });
    const answered = await this.parts.notify(payload).then(
      () => {
        // Counted from when it was sent: a notification slow to go out (every connection busy)
        // is no pooler's doing.
        timer = setTimeout(() => answer(false), this.#probeMs);
        timer.unref();
        return heard;
      },
      // The database away: the listening connection's own failure says so.
      () => undefined,
    );
    clearTimeout(timer);
    if (this.#probe?.payload === payload) this.#probe = undefined;
    if (answered === undefined) return;
    if (this.#client !== client || !this.#running) return;
    if (answered) {
      this.#trouble.ended("the listening connection hears notifications again", "probe");
      return;
    }
    this.#trouble(
      `a notification waiter sent did not reach its listening connection within ${this.#probeMs / 1000} s, so events other waiter processes store do not wake this one (events_wait calls, resource subscribers, automations) until it stores one itself: ${throughTransactionPooler("keeps LISTEN from working", this.parts.urlFrom)}`,
      "probe",
    );
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client || !this.#running) return;
    this.#client = undefined;
    client.end().catch(() => {});
    const known = this.parts.failure?.(err);
    const said = known ? `: ${known}` : ` (${err instanceof Error ? err.message : err})`;
    this.#trouble(
      `listening for events committed by other waiter processes failed${said}; trying again every ${MAX_BACKOFF_MS / 1000} s at most`,
    );
    this.#retry = setTimeout(() => void this.#listen(), this.#backoff);
    this.#retry.unref();
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
  }

  #look(): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#again = false;
    this.#reading = this.#read().finally(() => {
      this.#reading = undefined;
      if (this.#again && this.#running) this.#look();
    });
  }

  async #read(): Promise<void> {
    if (!this.parts.wanted()) {
      this.#seen = Math.max(this.#seen, this.#notified);
      return;
    }
    try {
      let page: StoredEvent[];
      do {
        page = await this.parts.newerThan(this.#seen, PAGE);
        for (const event of page) {
          this.#seen = event.seq;
          if (this.#running) this.parts.tell(event);
        }
      } while (page.length === PAGE && this.#running);
      this.#trouble.ended("reading again events committed by waiter processes", "read");
    } catch (err) {
      // Read again from where this one stopped, after a pause, even if no other commit comes.
      this.#trouble(
        `reading events committed by waiter processes failed (${err instanceof Error ? err.message : err})`,
        "read",
      );
      clearTimeout(this.#rereading);
      this.#rereading = setTimeout(() => this.#look(), this.#backoff);
      this.#rereading.unref();
    }
  }
}
