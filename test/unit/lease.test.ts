import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Lease, pidSpace } from "../../src/automations/lease.js";
import { SqliteEventStore } from "../../src/events/sqlite/store.js";
import { clock, setClock } from "../../src/time.js";

const LEASE_MS = 30_000;
let store: SqliteEventStore;

beforeEach(() => {
  setClock("2026-03-29T00:30:00Z");
  store = new SqliteEventStore(":memory:", { maxEvents: 100, maxBytes: 1e7, maxAgeDays: 30 });
});
afterEach(async () => {
  await store.close();
  setClock();
});

/** The pid of a process that ran here and has ended. */
function endedPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid as number;
}

/** Whether `lease` takes over from the holder before, and after, the holder's lease runs out. */
async function takesOver(lease: Lease): Promise<{ before: boolean; after: boolean }> {
  const before = await lease.renew();
  setClock(new Date(clock.now() + LEASE_MS + 1).toISOString());
  return { before, after: await lease.renew() };
}

// Two containers sharing the host's network share its hostname, but each numbers its own
// processes: a pid that runs nowhere in one may be a live waiter in the other.
describe.runIf(process.platform === "linux")("a holder in another container of this machine", () => {
  test("named by its host and pid, as waiter named holders until now, keeps the lease until it runs out", async () => {
    const holder = `${hostname()}:${endedPid()}:x`;
    expect((await store.runs.lease(holder, clock.now(), LEASE_MS)).holder).toBe(holder);
    expect(await takesOver(new Lease(store.runs, LEASE_MS))).toEqual({ before: false, after: true });
  });

  test("named by its pid namespace, another than this one's, keeps the lease until it runs out", async () => {
    const here = pidSpace() as string;
    expect(here).toMatch(/\/\d+$/);
    const otherContainer = here.replace(/\d+$/, (inode) => String(Number(inode) + 1));
    const holder = new Lease(store.runs, LEASE_MS, { pid: endedPid(), space: otherContainer });
    expect(await holder.renew()).toBe(true);
    expect(await takesOver(new Lease(store.runs, LEASE_MS))).toEqual({ before: false, after: true });
  });
});

test("a holder among this process's pids that has ended is taken over at once", async () => {
  const holder = new Lease(store.runs, LEASE_MS, { pid: endedPid(), space: pidSpace() });
  expect(await holder.renew()).toBe(true);
  expect(await new Lease(store.runs, LEASE_MS).renew()).toBe(true);
});

test("a holder among this process's pids that still runs keeps the lease until it runs out", async () => {
  const holder = new Lease(store.runs, LEASE_MS, { pid: process.ppid, space: pidSpace() });
  expect(await holder.renew()).toBe(true);
  expect(await takesOver(new Lease(store.runs, LEASE_MS))).toEqual({ before: false, after: true });
});

test("a process that cannot tell its pid namespace takes over from none before the lease runs out", async () => {
  const holder = new Lease(store.runs, LEASE_MS, { pid: endedPid(), space: undefined });
  expect(await holder.renew()).toBe(true);
  const blind = new Lease(store.runs, LEASE_MS, { pid: process.pid, space: undefined });
  expect(await takesOver(blind)).toEqual({ before: false, after: true });
});

test("a lease taken from a holder says whom from and until when it ran: gone, or run out", async () => {
  const pid = endedPid();
  const asked = clock.now();
  expect(await new Lease(store.runs, LEASE_MS, { pid, space: pidSpace() }).renew()).toBe(true);
  const next = new Lease(store.runs, LEASE_MS);
  expect(await next.renew()).toBe(true);
  expect(next.takenFrom).toEqual({
    holder: expect.stringContaining(`:${pid}:`),
    until: expect.any(Number),
    gone: true,
  });
  expect((next.takenFrom?.until ?? 0) - asked).toBeGreaterThanOrEqual(LEASE_MS);
  const waiting = new Lease(store.runs, LEASE_MS, { pid: process.ppid, space: "elsewhere" });
  expect(await takesOver(waiting)).toEqual({ before: false, after: true });
  expect(waiting.takenFrom).toEqual({
    holder: expect.stringContaining(`:${process.pid}:`),
    until: expect.any(Number),
    gone: false,
  });
  expect(clock.now() - (waiting.takenFrom?.until ?? 0)).toBeGreaterThan(0);
});
