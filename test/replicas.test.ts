import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import pg from "pg";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { sessionOptions } from "../src/app.js";
import { Log } from "../src/log.js";
import { clock } from "../src/time.js";
import { mcpSessions } from "../src/transports/http.js";
import { startListener } from "../src/webhooks/listener.js";
import { webhooksOf } from "../src/webhooks/settings.js";
import { caddy, caddyRequired, caddySiteIn, startCaddy } from "./caddy.js";
import { ERP_ENV, erpHeaders } from "./erp.js";
import { freePort } from "./fakes/http.js";
import { startApp } from "./memory.js";
import { localized, nginx, nginxRequired, startNginx } from "./nginx.js";
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

async function replica(url: string, env: Record<string, string> = {}, port = 0): Promise<Started & { base: string }> {
  const started = await startNode(
    [CLI, "serve", "--listen", `127.0.0.1:${port}`],
    {
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-replica-")),
      WAITER_DATABASE_URL: url,
      ...ERP_ENV,
      WAITER_TOOLSETS: "events,webhooks",
      WAITER_EVENTS_PROGRESS_SECONDS: "1",
      ...env,
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
      const answers = new Map<string, number>();
      for (let attempt = 0; ; attempt++) {
        const live = bases();
        const base = live[turn++ % live.length] as string;
        const status = await post(base, delivery);
        if (status >= 200 && status < 300) break;
        const key = `${status} from ${base}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
        if (attempt > 200) {
          const seen = [...answers].map(([answer, times]) => `${answer} ×${times}`).join(", ");
          throw new Error(`${delivery} was never stored; the replicas answered ${seen} (0: no answer)`);
        }
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

/**
 * events_wait on `client`, for an event of `type` after `since`, or after its cursor "now";
 * `underWay()` says whether the replica that took it waits, as its first progress shows.
 */
function waitFor(client: Client, type = "invoice.created", timeout_s = 30, since?: string) {
  let underWay = false;
  const answer = client.callTool(
    { name: "events_wait", arguments: { type, timeout_s, ...(since ? { since } : {}) } },
    undefined,
    {
      timeout: (timeout_s + 10) * 1000,
      onprogress: () => {
        underWay = true;
      },
    },
  );
  return Object.assign(answer, { underWay: () => underWay });
}

const deliveryOf = (result: Awaited<ReturnType<Client["callTool"]>>) =>
  JSON.parse(((result.structuredContent as { event?: { payload?: string } }).event?.payload as string) ?? "{}")
    .delivery;

describe.runIf(postgresAvailable || postgresRequired)("two waiter serve replicas on one database", () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  const proxies: ChildProcess[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
    killStarted();
    for (const proxy of proxies.splice(0)) proxy.kill("SIGKILL");
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("a delivery to one replica wakes events_wait and resource subscribers on the other, and one killed mid-burst loses nothing", async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await replica(url), await replica(url)];
    const agent = await connect(b.base);
    const updates: string[] = [];
    agent.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await agent.subscribeResource({ uri: "events://recent" });
    // Waits on both replicas, several agents each: one delivery wakes every one.
    const agents = [agent, await connect(b.base), await connect(a.base), await connect(a.base)];
    // After the empty store's start: a wait whose call comes in after the delivery still wakes for it.
    const waiting = agents.map((each) => waitFor(each, "invoice.created", 30, "c0"));
    // Most of the waits are in before the delivery, which is what they wait for.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await post(a.base, "first")).toBe(200);
    expect((await Promise.all(waiting)).map(deliveryOf)).toEqual(["first", "first", "first", "first"]);
    await expect.poll(() => updates).toContain("events://recent");

    let aAlive = true;
    const deliveries = Array.from({ length: 100 }, (_, i) => `d${i}`);
    const sending = burst(() => (aAlive ? [a.base, b.base] : [b.base]), deliveries);
    await expect.poll(async () => (await storedDeliveries(url)).length, { interval: 20 }).toBeGreaterThan(30);
    a.child.kill("SIGKILL");
    await a.exited;
    aAlive = false;
    const acknowledged = await sending;
    expect(acknowledged).toHaveLength(100);
    const stored = await storedDeliveries(url);
    expect(stored.filter((d) => d !== "first").sort()).toEqual([...deliveries].sort());
    expect(new Set(stored).size).toBe(stored.length);
  }, 60_000);

  test("a session opened on one replica is taken up by the other: calls, events_wait, its stream, its end", async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await replica(url), await replica(url)];
    // A load balancer without affinity: POSTs alternate between the replicas, the GET stream goes to a.
    const reached: string[] = [];
    let turn = 0;
    const roundRobin = (input: string | URL | Request, init?: RequestInit) => {
      const base = init?.method === "GET" ? a.base : [a.base, b.base][turn++ % 2];
      reached.push(`${init?.method} ${base === a.base ? "a" : "b"}`);
      return fetch(new URL(new URL(String(input)).pathname, base as string), init);
    };
    const client = new Client({ name: "waiter-tests", version: "0.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`${a.base}/mcp`), { fetch: roundRobin });
    await client.connect(transport);
    clients.push(client);
    for (let i = 0; i < 4; i++) {
      const listed = await client.callTool({ name: "webhooks_sources", arguments: {} });
      expect(listed.isError).toBeFalsy();
    }
    expect(reached.filter((r) => r === "POST b").length).toBeGreaterThanOrEqual(2);
    // Whichever replica takes the wait, a delivery through either wakes it. The two waits are
    // under way together: each is told of its first progress only after a second.
    const waits = [a, b].map((through) => ({ through, waiting: waitFor(client, `via.${through === a ? "a" : "b"}`) }));
    await expect.poll(() => waits.every(({ waiting }) => waiting.underWay())).toBe(true);
    for (const { through, waiting } of waits) {
      expect(await post(through.base, `w-${through === a ? "a" : "b"}`, `via.${through === a ? "a" : "b"}`)).toBe(200);
      expect(deliveryOf(await waiting)).toBe(`w-${through === a ? "a" : "b"}`);
    }
    const sessionId = transport.sessionId as string;
    const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18", accept: "text/event-stream" };
    // b holds a copy of the session now: it serves the session's stream too.
    const stream = await request(`${b.base}/mcp`, { method: "GET", headers });
    expect(stream.statusCode).toBe(200);
    expect(stream.headers["content-type"]).toBe("text/event-stream");
    stream.body.destroy();
    await expect.poll(() => b.stderr()).toMatch(new RegExp(`MCP session ${sessionId} taken up from the store`));
    // Ended through the other replica, the session is gone there.
    const ended = await request(`${b.base}/mcp`, { method: "DELETE", headers });
    expect(ended.statusCode).toBe(200);
    await ended.body.dump();
    const gone = await request(`${b.base}/mcp`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
    });
    expect(gone.statusCode).toBe(404);
    await gone.body.dump();
  }, 60_000);

  test("a call whose replica is killed is told its answer is lost as soon as its client comes back to the other", async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await replica(url), await replica(url)];
    // A proxy that routes the session to a while it lives, then to b.
    let live = a;
    const resumed: string[] = [];
    const proxied = async (input: string | URL | Request, init?: RequestInit) => {
      const through = live;
      const answer = await fetch(new URL(new URL(String(input)).pathname, through.base), init);
      const lastId = new Headers(init?.headers).get("last-event-id");
      // The call's stream, not the notification stream, which the client opens again too.
      if (lastId && !lastId.startsWith("_GET_stream:"))
        resumed.push(`${through === a ? "a" : "b"} ${lastId} ${answer.status}`);
      return answer;
    };
    const client = new Client({ name: "waiter-tests", version: "0.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`${a.base}/mcp`), { fetch: proxied });
    await client.connect(transport);
    clients.push(client);
    // Its request times out after 55 s, with other words: only an answer from b says the replica stopped.
    const waiting = waitFor(client, "never.sent", 45);
    await expect.poll(() => waiting.underWay()).toBe(true);
    a.child.kill("SIGKILL");
    await a.exited;
    live = b;
    const lost = await waiting.then(
      () => undefined,
      (err: Error) => err,
    );
    expect(lost?.message).toMatch(/replica that ran it stopped.*may have made its change/s);
    await expect
      .poll(() => b.stderr())
      .toMatch(new RegExp(`MCP session ${transport.sessionId} taken up from the store`));
    // Told once: the client comes back to the stream once more, from the error's id, and is told
    // there is nothing more (204), which it does not come back from.
    await expect.poll(() => resumed.at(-1)).toMatch(/ 204$/);
    expect(resumed).toEqual([expect.stringMatching(/^b .* 200$/), expect.stringMatching(/^b .* 204$/)]);
  }, 60_000);

  test("another replica answers a session only for the token that opened it, and after that one stopped", async () => {
    const url = await freshDatabaseUrl();
    const tokens = {
      WAITER_HTTP_TOKENS: JSON.stringify([
        { name: "ops", secretEnv: "OPS_TOKEN", scope: "write" },
        { name: "viewer", secretEnv: "VIEW_TOKEN", scope: "read" },
      ]),
      OPS_TOKEN: "ops-token-0123456789abcdef0123456789abcdef",
      VIEW_TOKEN: "view-token-0123456789abcdef0123456789abcdef",
    };
    const [a, b] = [await replica(url, tokens), await replica(url, tokens)];
    const opened = await request(`${a.base}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tokens.OPS_TOKEN}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
      }),
    });
    const sessionId = opened.headers["mcp-session-id"] as string;
    await opened.body.dump();
    const listAs = async (token: string) => {
      const answer = await request(`${b.base}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "mcp-session-id": sessionId,
          "mcp-protocol-version": "2025-06-18",
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      });
      const text = await answer.body.text();
      return { status: answer.statusCode, text };
    };
    // Another token's request arriving first neither takes it up nor keeps the owner from it.
    const [theirs, mine] = await Promise.all([listAs(tokens.VIEW_TOKEN), listAs(tokens.OPS_TOKEN)]);
    expect(theirs.status).toBe(404);
    expect(mine.status).toBe(200);
    expect(mine.text).toContain("events_ack");
    // The replica that opened it stops (a rolling restart): the session goes on with the other.
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect((await listAs(tokens.OPS_TOKEN)).status).toBe(200);
  }, 60_000);

  const sites = [
    {
      proxy: "nginx",
      setUp: "docs/nginx-replicas.conf",
      runs: nginx !== undefined || nginxRequired,
      passesOn: true,
      start: (ports: { a: number; b: number; proxy: number }) =>
        startNginx(
          localized(readFileSync(new URL("../docs/nginx-replicas.conf", import.meta.url), "utf8"), [
            ["waiter-1:8790", `127.0.0.1:${ports.a}`],
            ["waiter-2:8790", `127.0.0.1:${ports.b}`],
            ["listen 80;", `listen 127.0.0.1:${ports.proxy};`],
          ]),
        ).process,
    },
    {
      proxy: "Caddy",
      setUp: "docs/scaling.md's site",
      runs: caddy !== undefined || caddyRequired,
      // A request that finds its replica down gets 502; the next goes to the other.
      passesOn: false,
      start: (ports: { a: number; b: number; proxy: number }) => {
        const doc = readFileSync(new URL("../docs/scaling.md", import.meta.url), "utf8");
        return startCaddy(
          localized(caddySiteIn(doc, "waiter.example.com"), [
            ["waiter.example.com {", `http://127.0.0.1:${ports.proxy} {`],
            ["waiter-1:8790", `127.0.0.1:${ports.a}`],
            ["waiter-2:8790", `127.0.0.1:${ports.b}`],
            ["Host waiter.example.com", `Host 127.0.0.1:${ports.proxy}`],
          ]),
        );
      },
    },
  ];
  for (const { proxy, setUp, runs, passesOn, start } of sites) {
    test.runIf(runs)(
      `behind ${proxy} set up as ${setUp}, a session's stream works, and its calls go on when its replica dies`,
      async () => {
        const url = await freshDatabaseUrl();
        const [portA, portB, portProxy] = [await freePort(), await freePort(), await freePort()];
        const base = `http://127.0.0.1:${portProxy}`;
        const behind = { WAITER_WEBHOOKS_PUBLIC_URL: base };
        const [a, b] = [await replica(url, behind, portA), await replica(url, behind, portB)];
        proxies.push(start({ a: portA, b: portB, proxy: portProxy }));
        // The proxy is up once it answers; /healthz it keeps from the internet.
        await expect
          .poll(() =>
            request(`${base}/healthz`).then(
              (r) => r.statusCode,
              () => 0,
            ),
          )
          .toBe(404);

        const client = await connect(base);
        const updates: string[] = [];
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
          updates.push(n.params.uri);
        });
        await client.subscribeResource({ uri: "events://recent" });
        expect(await post(base, "through-the-proxy")).toBe(200);
        // Over the session's GET stream, through the proxy, from the replica that holds the session.
        await expect.poll(() => updates).toContain("events://recent");

        // The replica the proxy sends the session to: the one that took it up, or the one that opened it.
        const holder = ([a, b].find((r) => /taken up/.test(r.stderr())) ??
          [a, b].find((r) => /MCP session \S+ opened/.test(r.stderr()))) as typeof a;
        // A call under way there is lost with it: its client, back on its stream through the
        // proxy, is told so at once, not at its own timeout (55 s, past the test's 30 s).
        const cut = waitFor(client, "never.sent", 45);
        await expect.poll(cut.underWay).toBe(true);
        holder.child.kill("SIGKILL");
        await holder.exited;
        await expect(cut).rejects.toThrow(/The answer to this request is lost/);
        const list = () => client.callTool({ name: "events_list", arguments: {} });
        const listed = passesOn
          ? await list()
          : await list().catch((err) => {
              expect(err).toMatchObject({ code: 502 });
              return list();
            });
        expect(listed.isError).toBeFalsy();
        expect(JSON.stringify(listed.structuredContent)).toContain("through-the-proxy");
        const waiting = waitFor(client, "after.failover");
        await expect.poll(waiting.underWay).toBe(true);
        expect(await post(base, "failover", "after.failover")).toBe(200);
        expect(deliveryOf(await waiting)).toBe("failover");
      },
      60_000,
    );
  }

  test("a session is taken up once however many requests bring it, and ended through one replica its copy on another closes at the next sweep", async () => {
    const url = await freshDatabaseUrl();
    // Two replicas in this process, their minute's sweep on a clock the test moves.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const replicas = [];
    try {
      for (let i = 0; i < 2; i++) {
        const { app, config, log, stderr } = await startApp({
          WAITER_DATABASE_URL: url,
          ...ERP_ENV,
          WAITER_TOOLSETS: "events,webhooks",
        });
        const sessions = mcpSessions(app, log, sessionOptions(config));
        const listener = await startListener({
          webhooks: { ...webhooksOf(config), listen: { host: "127.0.0.1", port: 0 } },
          mode: "serve",
          store: app.store,
          http: app.http,
          log,
          routes: sessions,
          named: config.named,
          drainMs: config.core.stopSeconds * 1000,
        });
        replicas.push({ app, config, sessions, listener, stderr });
      }
      const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
      const rpc = (base: string, method: "POST" | "DELETE", id?: string, body?: object) =>
        request(`${base}/mcp`, {
          method,
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-protocol-version": "2025-06-18",
            ...(id ? { "mcp-session-id": id } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      const initialize = async () => {
        const opened = await rpc(a.listener.url, "POST", undefined, {
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
        });
        await opened.body.dump();
        return opened.headers["mcp-session-id"] as string;
      };
      const id = await initialize();
      let calls = 1;
      const list = () => ({ jsonrpc: "2.0", id: ++calls, method: "tools/list" });
      const statusOn = async (base: string, session = id) => {
        const answer = await rpc(base, "POST", session, list());
        await answer.body.dump();
        return answer.statusCode;
      };
      // Requests that arrive together take the session up once.
      expect(await Promise.all([1, 2, 3, 4, 5].map(() => statusOn(b.listener.url)))).toEqual([200, 200, 200, 200, 200]);
      expect(b.sessions.count()).toBe(1);
      expect(b.stderr().match(/taken up from the store/g)).toHaveLength(1);
      const ended = await rpc(a.listener.url, "DELETE", id);
      expect(ended.statusCode).toBe(200);
      await ended.body.dump();
      expect(await statusOn(a.listener.url)).toBe(404);
      // b's copy answers until its sweep learns the session ended.
      expect(await statusOn(b.listener.url)).toBe(200);
      await vi.advanceTimersByTimeAsync(60_000);
      await expect.poll(() => b.sessions.count()).toBe(0);
      expect(b.stderr()).toContain(`MCP session ${id} ended on another replica: closed here`);
      expect(await statusOn(b.listener.url)).toBe(404);

      // A session opened while the store was away is recorded by the next sweep, then taken up elsewhere.
      const sessions = a.app.store?.sessions as NonNullable<typeof a.app.store>["sessions"];
      vi.spyOn(sessions, "open").mockRejectedValueOnce(new Error("connection refused"));
      const unrecorded = await initialize();
      expect(await statusOn(b.listener.url, unrecorded)).toBe(404);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(await statusOn(a.listener.url, unrecorded)).toBe(200);
      await expect.poll(() => statusOn(b.listener.url, unrecorded)).toBe(200);

      // A replica at its most sessions tells the client to come back, not that its session is gone.
      const full = mcpSessions(b.app, new Log("error", () => {}), { ...sessionOptions(b.config), maxSessions: 0 });
      const fullListener = await startListener({
        webhooks: { ...webhooksOf(b.config), listen: { host: "127.0.0.1", port: 0 } },
        mode: "serve",
        store: b.app.store,
        http: b.app.http,
        log: new Log("error", () => {}),
        routes: full,
        named: b.config.named,
        drainMs: b.config.core.stopSeconds * 1000,
      });
      const refused = await rpc(fullListener.url, "POST", unrecorded, list());
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["retry-after"]).toBe("5");
      await refused.body.dump();
      await full.close();
      await fullListener.close();

      // A request that fails inside waiter is a 503 to try again, not the client's parse error.
      const db = new pg.Client(url);
      await db.connect();
      await db.query("INSERT INTO mcp_sessions (id, caller, init, last_seen) VALUES ('broken', NULL, 'not json', $1)", [
        clock.now(),
      ]);
      await db.end();
      const failed = await rpc(b.listener.url, "POST", "broken", list());
      expect(failed.statusCode).toBe(503);
      expect(failed.headers["retry-after"]).toBe("5");
      await failed.body.dump();
    } finally {
      vi.useRealTimers();
      for (const { app, sessions, listener } of replicas) {
        await sessions.close();
        await listener.close();
        await app.close();
      }
    }
  }, 60_000);

  test("a PostgreSQL restart mid-burst: senders told to retry, nothing lost or stored twice, waits still woken", async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = [await replica(url), await replica(url)];
    const agent = await connect(b.base);
    const waiting = waitFor(agent, "restart.over", 50);
    await expect.poll(waiting.underWay).toBe(true);

    const deliveries = Array.from({ length: 80 }, (_, i) => `p${i}`);
    const statuses: number[] = [];
    const sending = burst(() => [a.base, b.base], deliveries);
    await expect.poll(async () => (await storedDeliveries(url)).length, { interval: 20 }).toBeGreaterThan(20);
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
    // A model calling a tool is told so, within the call's deadline.
    const listed = await agent.callTool({ name: "events_list", arguments: {} });
    expect(listed.isError).toBe(true);
    expect(JSON.stringify(listed.content)).toMatch(/event store's database cannot be reached/);
    // And a load balancer's health check sees the replica unwell.
    const health = await request(`${b.base}/healthz`);
    expect(health.statusCode).toBe(503);
    await health.body.dump();
    await server.resume();
    const acknowledged = await sending;
    expect(statuses).toEqual([503]);
    expect(acknowledged).toHaveLength(80);
    const stored = await storedDeliveries(url);
    expect(stored.sort()).toEqual([...deliveries].sort());

    // The wait on b began before the restart; its replica listens again and it is woken by a
    // delivery through the other replica after it, not found by its last look at its timeout.
    const posted = performance.now();
    expect(await post(a.base, "after", "restart.over")).toBe(200);
    expect(deliveryOf(await waiting)).toBe("after");
    expect(performance.now() - posted).toBeLessThan(20_000);
  }, 60_000);
});

test("a replica whose database cannot be reached at start stops, in one line that shows no password", async () => {
  const port = await freePort();
  const run = spawnSync(process.execPath, [CLI, "serve", "--listen", "127.0.0.1:0"], {
    env: {
      PATH: process.env.PATH ?? "",
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-replica-")),
      WAITER_DATABASE_URL: `postgres://waiter:db-pw-not-shown@127.0.0.1:${port}/waiter`,
      ...ERP_ENV,
    },
    encoding: "utf8",
    // Against a start that never ends; one that refuses may take over 15 s on a busy machine.
    timeout: 60_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split("\n")).toEqual([
    `waiter: cannot open the event store: PostgreSQL 127.0.0.1:${port}/waiter: connect ECONNREFUSED 127.0.0.1:${port}: the connection was refused, as nothing listens there: start the server, or set WAITER_DATABASE_URL to its address and port, then start waiter again`,
  ]);
});
