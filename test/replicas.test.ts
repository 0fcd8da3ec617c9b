import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import pg from "pg";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { ERP_SECRET, ERP_SOURCE, erpHeaders } from "./erp.js";
import { freePort } from "./fakes/http.js";
import { postgresAvailable, postgresRequired, type RunningPostgres, startPostgres } from "./postgres.js";
import { killStarted, SERVING, type Started, startNode } from "./spawn.js";
import { CLI } from "./stdio.js";

/**
 * Several `waiter serve` replicas on one PostgreSQL database, as behind a load balancer: what a
 * sender is told was stored is stored once, whichever replica it reached and whatever died.
 */

let server: RunningPostgres;
let schemas = 0;
const clients: Client[] = [];

async function freshDatabaseUrl(): Promise<string> {
  const name = `r${++schemas}`;
  const admin = new pg.Client(server.url);
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${name}`);
  await admin.end();
  return `${server.url}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
}

async function replica(url: string): Promise<Started & { base: string }> {
  const started = await startNode(
    [CLI, "serve", "--listen", "127.0.0.1:0"],
    {
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-replica-")),
      WAITER_DATABASE_URL: url,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }),
      WAITER_TOOLSETS: "events,webhooks",
      ERP_SECRET,
    },
    SERVING,
  );
  return { ...started, base: started.said };
}

async function connect(base: string): Promise<Client> {
  const client = new Client({ name: "waiter-tests", version: "0.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
  clients.push(client);
  return client;
}

/** Posts one delivery to `base`; the status, or 0 when the replica could not be reached. */
async function post(base: string, delivery: string, type?: string): Promise<number> {
  const body = JSON.stringify({ delivery });
  try {
    const { statusCode, body: answer } = await request(`${base}/webhooks/erp`, {
      method: "POST",
      body,
      headers: erpHeaders(body, delivery, type),
    });
    await answer.dump();
    return statusCode;
  } catch {
    return 0;
  }
}

/**
 * A sender behind a load balancer: each delivery goes to the next replica, and one that gets no
 * 2xx (a replica gone, a 503 while the database is away) is sent again, to the next, until one
 * answers 2xx. Resolves with the deliveries in the order they were acknowledged.
 */
async function burst(bases: () => string[], deliveries: string[], inFlight = 8): Promise<string[]> {
  const acknowledged: string[] = [];
  let next = 0;
  let turn = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++] as string;
      for (let attempt = 0; ; attempt++) {
        const live = bases();
        const status = await post(live[turn++ % live.length] as string, delivery);
        if (status >= 200 && status < 300) break;
        if (attempt > 200) throw new Error(`${delivery} was never stored (last status ${status})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      acknowledged.push(delivery);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return acknowledged;
}

async function storedDeliveries(url: string): Promise<string[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ dedupe_id: string }>("SELECT dedupe_id FROM events ORDER BY seq");
    return rows.map((r) => r.dedupe_id);
  } finally {
    await client.end();
  }
}

/** events_wait on `client`, for an event of `type` after its cursor "now". */
function waitFor(client: Client, type = "invoice.created", timeout_s = 30) {
  return client.callTool({ name: "events_wait", arguments: { type, timeout_s } }, undefined, {
    timeout: (timeout_s + 10) * 1000,
  });
}

const deliveryOf = (result: Awaited<ReturnType<Client["callTool"]>>) =>
  JSON.parse(((result.structuredContent as { event?: { payload?: string } }).event?.payload as string) ?? "{}")
    .delivery;

describe.runIf(postgresAvailable || postgresRequired)("two waiter serve replicas on one database", () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 30_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
    killStarted();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("a delivery to one replica wakes events_wait on the other, and one killed mid-burst loses nothing", async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await replica(url), await replica(url)];
    const agent = await connect(b.base);
    const waiting = waitFor(agent);
    // The wait has read its cursor once the call is in; a delivery after it is what it waits for.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await post(a.base, "first")).toBe(200);
    expect(deliveryOf(await waiting)).toBe("first");

    let aAlive = true;
    const deliveries = Array.from({ length: 200 }, (_, i) => `d${i}`);
    const sending = burst(() => (aAlive ? [a.base, b.base] : [b.base]), deliveries);
    await expect.poll(async () => (await storedDeliveries(url)).length, { interval: 20 }).toBeGreaterThan(60);
    a.child.kill("SIGKILL");
    await a.exited;
    aAlive = false;
    const acknowledged = await sending;
    expect(acknowledged).toHaveLength(200);
    const stored = await storedDeliveries(url);
    expect(stored.filter((d) => d !== "first").sort()).toEqual([...deliveries].sort());
    expect(new Set(stored).size).toBe(stored.length);
  }, 60_000);

  test("a PostgreSQL restart mid-burst: senders told to retry, nothing lost or stored twice, waits still woken", async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await replica(url), await replica(url)];
    const agent = await connect(b.base);
    const waiting = waitFor(agent, "restart.over", 50);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const deliveries = Array.from({ length: 150 }, (_, i) => `p${i}`);
    const statuses: number[] = [];
    const sending = burst(() => [a.base, b.base], deliveries);
    await expect.poll(async () => (await storedDeliveries(url)).length, { interval: 20 }).toBeGreaterThan(40);
    await server.halt();
    // While the database is away, a sender is told to come back later, never that it was stored.
    const away = await request(`${a.base}/webhooks/erp`, {
      method: "POST",
      body: '{"delivery":"away"}',
      headers: erpHeaders('{"delivery":"away"}', "away"),
    });
    statuses.push(away.statusCode);
    expect(away.headers["retry-after"]).toBeDefined();
    await away.body.dump();
    await server.resume();
    const acknowledged = await sending;
    expect(statuses).toEqual([503]);
    expect(acknowledged).toHaveLength(150);
    const stored = await storedDeliveries(url);
    expect(stored.sort()).toEqual([...deliveries].sort());

    // The wait on b began before the restart; its replica listens again and it is woken by a
    // delivery through the other replica after it.
    expect(await post(a.base, "after", "restart.over")).toBe(200);
    expect(deliveryOf(await waiting)).toBe("after");
  }, 60_000);
});

test("a replica whose database cannot be reached at start stops, in one line that shows no password", async () => {
  const port = await freePort();
  const run = spawnSync(process.execPath, [CLI, "serve", "--listen", "127.0.0.1:0"], {
    env: {
      PATH: process.env.PATH ?? "",
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-replica-")),
      WAITER_DATABASE_URL: `postgres://waiter:db-pw-not-shown@127.0.0.1:${port}/waiter`,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }),
      ERP_SECRET,
    },
    encoding: "utf8",
    timeout: 15_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split("\n")).toEqual([
    `waiter: cannot open the event store: PostgreSQL 127.0.0.1:${port}/waiter: connect ECONNREFUSED 127.0.0.1:${port}`,
  ]);
});
