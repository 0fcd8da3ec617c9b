import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, test } from "vitest";
import { startFrankfurter } from "../fakes/frankfurter.js";
import type { Fake } from "../fakes/http.js";
import { CLI } from "../stdio.js";

/**
 * waiter against a minimal SDK server with one echo tool, both started the same way and
 * measured side by side, so what is printed is a ratio that survives a busy machine.
 * Targets: cold start at most 2x the baseline, throughput at least 0.8x.
 */

const ECHO = fileURLToPath(new URL("./echo-server.mjs", import.meta.url));
const ROUNDS = 10;
const SEQUENTIAL_CALLS = 300;
const PARALLEL_CALLS = 1000;
const IN_FLIGHT = 10;

let frankfurter: Fake;
beforeAll(async () => {
  frankfurter = await startFrankfurter();
});
afterAll(() => frankfurter.close());

interface Subject {
  name: string;
  script: string;
  tool: string;
  args: Record<string, unknown>;
}

const subjects = (): [Subject, Subject] => [
  { name: "baseline (echo)", script: ECHO, tool: "echo", args: { text: "hello" } },
  {
    name: "waiter (cached currency_convert)",
    script: CLI,
    tool: "currency_convert",
    args: { amount: 100, from: "EUR", to: "USD", date: "2024-03-01" },
  },
];

async function connect(subject: Subject): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [subject.script],
    env: { WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`, WAITER_LOG_LEVEL: "error" },
  });
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(transport);
  return client;
}

async function coldStart(subject: Subject): Promise<number> {
  const started = performance.now();
  const client = await connect(subject);
  await client.listTools();
  const elapsed = performance.now() - started;
  await client.close();
  return elapsed;
}

async function callsPerSecond(client: Client, subject: Subject, calls: number, inFlight: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < calls) {
      const result = await client.callTool({ name: subject.tool, arguments: subject.args });
      if (result.isError) throw new Error(`${subject.tool} failed: ${JSON.stringify(result.content)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return calls / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function report(label: string, baseline: number, waiter: number, unit: string, target: string, ok: boolean) {
  const ratio = waiter / baseline;
  console.log(
    `${label.padEnd(28)} baseline ${baseline.toFixed(1).padStart(8)} ${unit}  waiter ${waiter.toFixed(1).padStart(8)} ${unit}  ratio ${ratio.toFixed(2)}  (target ${target}) ${ok ? "met" : "MISSED"}`,
  );
}

test("cold start and tool-call throughput over stdio, as ratios to a minimal SDK server", async () => {
  const [baseline, waiter] = subjects();

  // Cold start: spawn to the first tools/list answer; the two alternate so drift hits both.
  const starts: [number[], number[]] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    starts[0].push(await coldStart(baseline));
    starts[1].push(await coldStart(waiter));
  }
  const [baseStart, waiterStart] = [median(starts[0]), median(starts[1])];
  report("cold start (median of 10)", baseStart, waiterStart, "ms", "<= 2x", waiterStart / baseStart <= 2);

  // Throughput: one warm session each; waiter's first call fills its cache.
  const clients = [await connect(baseline), await connect(waiter)] as const;
  await callsPerSecond(clients[0], baseline, 50, 1);
  await callsPerSecond(clients[1], waiter, 50, 1);
  const sequential = [
    await callsPerSecond(clients[0], baseline, SEQUENTIAL_CALLS, 1),
    await callsPerSecond(clients[1], waiter, SEQUENTIAL_CALLS, 1),
  ];
  report(
    "calls/s, sequential",
    sequential[0] as number,
    sequential[1] as number,
    "/s",
    ">= 0.8x",
    (sequential[1] as number) / (sequential[0] as number) >= 0.8,
  );
  const parallel = [
    await callsPerSecond(clients[0], baseline, PARALLEL_CALLS, IN_FLIGHT),
    await callsPerSecond(clients[1], waiter, PARALLEL_CALLS, IN_FLIGHT),
  ];
  report(
    `calls/s, ${IN_FLIGHT} in flight`,
    parallel[0] as number,
    parallel[1] as number,
    "/s",
    ">= 0.8x",
    (parallel[1] as number) / (parallel[0] as number) >= 0.8,
  );
  console.log(`upstream requests during the throughput runs: ${frankfurter.requests.length}`);
  await Promise.all(clients.map((c) => c.close()));
});
