import { randomUUID } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import type { RunLog } from "../events/store.js";
import { clock } from "../time.js";

/**
 * The pids this process's pid is one of, as a lease's holder names them: on Linux the host, its
 * boot and the pid namespace (two containers sharing the host's network, and so its hostname,
 * each number their own processes), elsewhere the host. Undefined where Linux does not say.
 */
export function pidSpace(): string | undefined {
  if (process.platform !== "linux") return hostname();
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    // "pid:[4026531836]": the namespace's inode, which no other namespace of this boot has while it lives.
    const namespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1];
    return boot && namespace ? `${hostname()}/${boot}/${namespace}` : undefined;
  } catch {
    return undefined;
  }
}

/** Who holds a lease: the pid, and the pids it is one of (`pidSpace`). */
export interface Holder {
  pid: number;
  space: string | undefined;
}

/**
 * The automations' lease on a store: one process runs them, renewing it; another waits, and takes
 * over when it runs out (the holder stopped or died). What the engine does on taking or losing it
 * is the engine's.
 */
export class Lease {
  /** This process, as the store names the holder: its pid's space, the pid, and what tells a pid reused. */
  readonly #owner: string;
  readonly #space: string | undefined;
  /** Until when the lease is this process's, as its last renewal set it. */
  #heldUntil = 0;
  #term = 0;

  constructor(
    private readonly runs: RunLog,
    private readonly ms: number,
    holder: Holder = { pid: process.pid, space: pidSpace() },
  ) {
    this.#space = holder.space;
    // A space not known is named so that no holder's matches it.
    this.#owner = `${holder.space ?? `${hostname()}/?`}:${holder.pid}:${randomUUID()}`;
  }

  /** Takes or renews the lease: whether this process holds it now. The store's failure is thrown. */
  async renew(): Promise<boolean> {
    let asked = clock.now();
    let lease = await this.runs.lease(this.#owner, asked, this.ms);
    let from: TakenFrom | undefined;
    // A holder among this process's pids whose process is gone (killed) cannot renew: its lease ends now.
    if (lease.holder !== this.#owner && gone(lease.holder, this.#space)) {
      from = { holder: lease.holder, until: lease.until, gone: true };
      await this.runs.release(lease.holder);
      asked = clock.now();
      lease = await this.runs.lease(this.#owner, asked, this.ms);
    }
    if (lease.holder !== this.#owner) {
      this.#heldBy = { holder: lease.holder, until: lease.until };
      return false;
    }
    this.#heldBy = undefined;
    // Not renewed but taken anew (never held, let go, or another's meanwhile: this process was
    // frozen, or its store slow to answer, past its lease).
    if (!lease.renewed) {
      this.#term += 1;
      this.#takenFrom = lease.from ? { holder: lease.from.owner, until: lease.from.until, gone: false } : from;
    }
    this.#heldUntil = asked + this.ms;
    return true;
  }

  #heldBy: { holder: string; until: number } | undefined;
  /** Another's lease, as the last renewal found it held: who holds it (`holderName`), and until when. */
  get heldBy(): { holder: string; until: number } | undefined {
    return this.#heldBy;
  }

  #takenFrom: TakenFrom | undefined;
  /** The other's lease this process took it from, the last time it took it anew; undefined if it was free. */
  get takenFrom(): TakenFrom | undefined {
    return this.#takenFrom;
  }

  /** How many times this process took the lease anew: while it stays the same, no other waiter held it. */
  get term(): number {
    return this.#term;
  }

  /** Whether the last renewal still holds by the clock, with no need to ask the store. */
  get current(): boolean {
    return clock.now() < this.#heldUntil;
  }

  release(): Promise<void> {
    return this.runs.release(this.#owner);
  }
}

/** A lease taken from another holder: who (`holderName`), until when its lease ran, and whether its process was found gone before. */
export interface TakenFrom {
  holder: string;
  until: number;
  gone: boolean;
}

/**
 * A lease's holder as a person reads it: its pid and host ("pid 4242 on shop-1"), from the
 * space:pid:… it is named by, or by the host alone as older waiters named themselves.
 */
export function holderName(owner: string): string {
  const [space = "", pid] = owner.split(":");
  if (pid === undefined || !/^\d+$/.test(pid)) return JSON.stringify(owner);
  return `pid ${pid} on ${space.split("/")[0]}`;
}

/**
 * Whether a lease's owner (space:pid:…) is a process that no longer runs, of the pids `space`
 * names. Any other (another machine, another container, a space not known, on Linux an owner an
 * older waiter named by its host alone) holds the lease until it runs out.
 */
function gone(owner: string, space: string | undefined): boolean {
  const [theirs, pid] = owner.split(":");
  if (space === undefined || theirs !== space) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
