import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { request } from "undici";
import { afterAll, test } from "vitest";
import { ERP_SECRET, ERP_SOURCE, erpHeaders } from "../erp.js";
import { startFrankfurter } from "../fakes/frankfurter.js";
import { killStarted, SERVING, startNode } from "../spawn.js";
import { CLI } from "../stdio.js";

/**
 * `waiter serve` against the same tool contract on bare SDK servers over Streamable HTTP (one
 * McpServer per session, answering a constant), side by side in alternating rounds: calls per
 * second on one session and on 10 sessions at once (target at least 0.8x); then 50 sessions
 * holding their notification streams while webhooks arrive (every one notified, p99 from the
 * POST at most 50 ms); and memory per idle session.
 */

const ROUNDS = 9;
const SESSIONS = 10;
const LISTENERS = 50;
const WEBHOOKS = 100;
const IDLE = 1000;
afterAll(killStarted);

async function start(args: string[], env: Record<string, string>): Promise<{ url: string; pid: number }> {
  const { said, child } = await startNode(args, env, SERVING);
  return { url: `${said}/mcp`, pid: child.pid as number };
}

async function session(url: string): Promise<Client> {
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

const convert = { name: "currency_convert", arguments: { amount: 100, from: "EUR", to: "USD", date: "2024-03-01" } };

async function callsPerSecond(clients: Client[], perClient: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < perClient; i++) {
        const result = await client.callTool(convert);
        if (result.isError) throw new Error(JSON.stringify(result.content));
      }
    }),
  );
  return (clients.length * perClient) / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] as number;
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

test("waiter serve over Streamable HTTP, as ratios to bare SDK servers", async () => {
  const frankfurter = await startFrankfurter();
  try {
    const waiter = await start([CLI, "serve", "--listen", "127.0.0.1:0"], {
      WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-bench-")),
      WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }),
      WAITER_LOG_LEVEL: "info",
      WAITER_MAX_SESSIONS: "2000",
      ERP_SECRET,
    });
    const baselineServer = fileURLToPath(new URL("./same-schema-http-server.mjs", import.meta.url));
    const resumable = await start([baselineServer], { PORT: "0", RESUMABLE: "1" });
    const plain = await start([baselineServer], { PORT: "0" });
    // The target is against the same contract, streams resumable; the plain server shows what that costs.
    const subjects = [
      { name: "baseline: SDK servers, same schemas, resumable", clients: [] as Client[], url: resumable.url },
      { name: "waiter serve, cached currency_convert", clients: [] as Client[], url: waiter.url },
      { name: "SDK servers without resumable streams", clients: [] as Client[], url: plain.url },
    ];
    for (const subject of subjects) {
      subject.clients = await Promise.all(Array.from({ length: SESSIONS }, () => session(subject.url)));
      await callsPerSecond(subject.clients, 100);
    }
    for (const [label, sessions, perClient] of [
      ["one session", 1, 200],
      [`${SESSIONS} sessions at once`, SESSIONS, 50],
    ] as const) {
      const rounds: number[][] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const rates: number[] = [];
        for (let k = 0; k < subjects.length; k++) {
          const i = (round + k) % subjects.length;
          rates[i] = await callsPerSecond((subjects[i]?.clients ?? []).slice(0, sessions), perClient);
        }
        rounds.push(rates);
      }
      const ratio = median(rounds.map((r) => (r[1] as number) / (r[0] as number)));
      console.log(`tool calls per second over Streamable HTTP, ${label} (median of ${ROUNDS} rounds)`);
      for (const [i, subject] of subjects.entries()) {
        console.log(
          `  ${subject.name.padEnd(52)} ${median(rounds.map((r) => r[i] as number))
            .toFixed(0)
            .padStart(6)} /s`,
        );
      }
      const toPlain = median(rounds.map((r) => (r[1] as number) / (r[2] as number)));
      console.log(`  ratio ${ratio.toFixed(2)}  target >= 0.8: ${ratio >= 0.8 ? "met" : "MISSED"}`);
      console.log(`  (to the servers without resumable streams: ${toPlain.toFixed(2)})`);
    }
    for (const subject of subjects) await Promise.all(subject.clients.map((c) => c.close()));

    // Notifications: every listening session hears of each webhook.
    const listeners = await Promise.all(Array.from({ length: LISTENERS }, () => session(waiter.url)));
    const heard: number[][] = listeners.map(() => []);
    for (const [i, client] of listeners.entries()) {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        if (n.params.uri === "events://recent") heard[i]?.push(performance.now());
      });
      await client.subscribeResource({ uri: "events://recent" });
    }
    // Each session's GET stream opens after its initialize; give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const latencies: number[] = [];
    const base = waiter.url.replace(/\/mcp$/, "");
    for (let n = 0; n < WEBHOOKS; n++) {
      const body = JSON.stringify({ invoice: n });
      const counts = heard.map((h) => h.length);
      const sent = performance.now();
      const response = await request(`${base}/webhooks/erp`, {
        method: "POST",
        body,
        headers: erpHeaders(body, `bench-${n}`),
      });
      await response.body.dump();
      for (let waited = 0; heard.some((h, i) => h.length === counts[i]) && waited < 2_000; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      for (const [i, h] of heard.entries()) {
        if (h.length > (counts[i] as number)) latencies.push((h[counts[i] as number] as number) - sent);
      }
    }
    const missed = WEBHOOKS * LISTENERS - latencies.length;
    const p99 = percentile(latencies, 0.99);
    console.log(
      `notifications to ${LISTENERS} sessions holding their streams, ${WEBHOOKS} webhooks: ${missed} missed, from the POST p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target every one, p99 <= 50 ms: ${missed === 0 && p99 <= 50 ? "met" : "MISSED"})`,
    );
    await Promise.all(listeners.map((c) => c.close()));

    // Memory per idle session: initialize only, no stream.
    const before = rssKiB(waiter.pid);
    for (let i = 0; i < IDLE; i++) {
      const opened = await request(waiter.url, {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "idle", version: "0" } },
        }),
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      });
      if (opened.statusCode !== 200) throw new Error(`initialize answered ${opened.statusCode}`);
      await opened.body.dump();
    }
    const after = rssKiB(waiter.pid);
    console.log(`memory per idle session: about ${((after - before) / IDLE).toFixed(0)} KiB (${IDLE} sessions)`);
  } finally {
    await frankfurter.close();
  }
});
