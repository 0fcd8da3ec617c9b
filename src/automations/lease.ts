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

  constructor(
    private readonly runs: RunLog,
    private readonly ms: number,
  ) {}

  /** Takes or renews the lease: whether this process holds it now. The store's failure is thrown. */
  async renew(): Promise<boolean> {
    let asked = clock.now();
    let other = await this.runs.lease(this.#owner, asked, this.ms);
    // A holder on this machine whose process is gone (killed) cannot renew: its lease ends now.
    if (other !== undefined && gone(other)) {
      await this.runs.release(other);
      asked = clock.now();
      other = await this.runs.lease(this.#owner, asked, this.ms);
    }
    if (other !== undefined) return false;
    this.#heldUntil = asked + this.ms;
    return true;
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
