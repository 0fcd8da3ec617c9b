import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { RunLog } from "../events/store.js";
import { clock } from "../time.js";

/**
 * The automations' lease on a store: one process runs them, renewing it; another waits, and takes
 * over when it runs out (the holder stopped or died). What the engine does on taking or losing it
 * is the engine's.
 */
export class Lease {
  /** This process, as the store names the holder: host, pid, and what tells a pid reused. */
  readonly #owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  /** Until when the lease is this process's, as its last renewal set it. */
  #heldUntil = 0;
  #term = 0;

  constructor(
    private readonly runs: RunLog,
    private readonly ms: number,
  ) {}

  /** Takes or renews the lease: whether this process holds it now. The store's failure is thrown. */
  async renew(): Promise<boolean> {
    let asked = clock.now();
    let lease = await this.runs.lease(this.#owner, asked, this.ms);
    // A holder on this machine whose process is gone (killed) cannot renew: its lease ends now.
    if (lease.holder !== this.#owner && gone(lease.holder)) {
      await this.runs.release(lease.holder);
      asked = clock.now();
      lease = await this.runs.lease(this.#owner, asked, this.ms);
    }
    if (lease.holder !== this.#owner) return false;
    // Not renewed but taken anew (never held, let go, or another's meanwhile: this process was
    // frozen, or its store slow to answer, past its lease).
    if (!lease.renewed) this.#term += 1;
    this.#heldUntil = asked + this.ms;
    return true;
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

/** Whether a lease's owner (host:pid:…) is a process of this machine that no longer runs. */
function gone(owner: string): boolean {
  const [host, pid] = owner.split(":");
  if (host !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
