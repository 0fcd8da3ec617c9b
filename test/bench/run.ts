import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, test } from "vitest";
import { startFrankfurter } from "../fakes/frankfurter.js";
import type { Fake } from "../fakes/http.js";
import { CLI } from "../stdio.js";

/**
 * waiter against minimal SDK servers, all started the same way and measured side by side, so
 * what is printed is a ratio that survives a busy machine.
 * Cold start: spawn to the first tools/list answer, waiter with every toolset on against the
 * smallest SDK server (one echo tool); target at most 1.5x with a bare JSON-RPC client, which
 * times the server alone. The SDK's Client is timed too, as information: on tools/list it
 * compiles a validator for every tool's output schema, which grows with the number of tools.
 * Throughput: the baseline is the same contract on a bare SDK server: McpServer.registerTool
 * with currency_convert's own input and output schemas, answering a constant. waiter answering
 * currency_convert from its cache must reach 0.9x of it. Beside them, as information: a bare SDK
 * server registering every waiter tool's schemas (what serving many zod schemas costs any SDK
 * server), and the echo tool on a bare SDK server and through waiter's own server code (what the
 * SDK and waiter's core cost per call apart from any tool's schemas and work). Throughput is measured
 * twice: with the SDK's Client, as assistants call, and with a bare JSON-RPC client that only
 * matches answers to requests, so the client's own parsing and validation of the larger result
 * does not count against the server.
 */

const ROUNDS = 10;
// Many short rounds rather than a few long ones: on a shared machine the neighbours' load comes
// and goes within seconds, and subjects measured close together in time share it.
const SEQUENTIAL_CALLS = 200;
const PARALLEL_CALLS = 1000;
const THROUGHPUT_ROUNDS = 25;
const IN_FLIGHT = 10;
// Calls each server answers before the rounds: the first fills waiter's cache, and by some 4,000
// V8 has compiled the code a call runs, in waiter and in the baselines alike (their CPU per call
// settles there). After 300, the one-call-at-a-time rounds, measured first, timed mostly that
// compiling: 150-390 µs a call over the first 500 against 40-60 once compiled, more in waiter,
// which runs more code per call. The warm-up's CPU per call is printed apart.
const WARM_UP_CALLS = 5000;

interface Subject {
  name: string;
  script: string;
  /** After the script: waiter's flags. */
  flags?: string[];
  tool: string;
  args: Record<string, unknown>;
}

const convertArgs = { amount: 100, from: "EUR", to: "USD", date: "2024-03-01" };
const baseline: Subject = {
  name: "baseline: SDK server, currency_convert's schemas",
  script: fileURLToPath(new URL("./same-schema-server.mjs", import.meta.url)),
  tool: "currency_convert",
  args: convertArgs,
};
const everySchema: Subject = {
  name: "SDK server with every waiter tool's schemas",
  script: fileURLToPath(new URL("./every-schema-server.mjs", import.meta.url)),
  tool: "currency_convert",
  args: convertArgs,
};
const echoArgs = { text: "hello" };
const echo: Subject = {
  name: "SDK echo server",
  script: fileURLToPath(new URL("./echo-server.mjs", import.meta.url)),
  tool: "echo",
  args: echoArgs,
};
const core: Subject = {
  name: "waiter's core serving echo",
  script: fileURLToPath(new URL("./echo-through-waiter.mjs", import.meta.url)),
  tool: "echo",
  args: echoArgs,
};
// Every toolset on: a webhook source brings events and webhooks, a contact the weather, a shop
// the e-shop. The listener stays off; it is not part of what a client waits for on tools/list.
const waiter: Subject = {
  name: "waiter, cached currency_convert",
  script: CLI,
  flags: ["--no-listener"],
  tool: "currency_convert",
  args: convertArgs,
};

let frankfurter: Fake;
let env: Record<string, string>;
beforeAll(async () => {
  frankfurter = await startFrankfurter();
  env = {
    WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
    WAITER_LOG_LEVEL: "error",
    WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-bench-")),
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ trial: { scheme: "none", allowUnsigned: true } }),
    WAITER_CONTACT: "ops@eshop-waiter.cz",
    WAITER_WOO_URL: "https://shop.example",
    WAITER_WOO_KEY: "ck_bench",
    WAITER_WOO_SECRET: "cs_bench",
  };
});
afterAll(() => frankfurter.close());

async function connect(subject: Subject): Promise<{ client: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [subject.script, ...(subject.flags ?? [])],
    env,
  });
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(transport);
  return { client, transport };
}

/** What the measurements need of a client: the tool list, and one tool call that fails loudly on a tool error. */
interface Caller {
  list(): Promise<void>;
  call(subject: Subject): Promise<void>;
  close(): Promise<void>;
  /** The server process, whose CPU time is read beside the rate. */
  pid: number | undefined;
}

/**
 * CPU time the process has used, in milliseconds, from Linux's /proc (clock ticks of 10 ms);
 * undefined elsewhere. Less disturbed by a busy neighbour than a rate is.
 */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

async function coldStart(subject: Subject, open: (subject: Subject) => Promise<Caller>): Promise<number> {
  const started = performance.now();
  const client = await open(subject);
  await client.list();
  const elapsed = performance.now() - started;
  await client.close();
  return elapsed;
}

async function sdkCaller(subject: Subject): Promise<Caller> {
  const { client, transport } = await connect(subject);
  return {
    pid: transport.pid ?? undefined,
    // The SDK's Client also compiles a validator for each tool's output schema here.
    list: async () => {
      await client.listTools();
    },
    async call({ tool, args }) {
      const result = await client.callTool({ name: tool, arguments: args });
      if (result.isError) throw new Error(`${tool} failed: ${JSON.stringify(result.content)}`);
    },
    close: () => client.close(),
  };
}

/** Newline-delimited JSON-RPC over the child's pipes; an answer is only matched to its request by id. */
async function rawCaller(subject: Subject): Promise<Caller> {
  const child = spawn(process.execPath, [subject.script, ...(subject.flags ?? [])], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const pending = new Map<number, (line: string) => void>();
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const id = /"id":(\d+)/.exec(line)?.[1];
      if (id) pending.get(Number(id))?.(line);
    }
  });
  let lastId = 0;
  const request = (method: string, params: object) =>
    new Promise<string>((resolve) => {
      const id = ++lastId;
      pending.set(id, (line) => {
        pending.delete(id);
        resolve(line);
      });
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    });
  await request("initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "bench", version: "0" },
  });
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  return {
    pid: child.pid,
    list: async () => {
      await request("tools/list", {});
    },
    async call({ tool, args }) {
      const line = await request("tools/call", { name: tool, arguments: args });
      if (line.includes('"isError":true')) throw new Error(`${tool} failed: ${line}`);
    },
    close: async () => {
      child.stdin.end();
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

/** Calls per second, and the server's CPU milliseconds over them where they can be read. */
async function callsPerSecond(
  client: Caller,
  subject: Subject,
  calls: number,
  inFlight: number,
): Promise<{ rate: number; cpuMs: number | undefined }> {
  const started = performance.now();
  const cpuBefore = cpuMs(client.pid);
  let next = 0;
  const worker = async () => {
    while (next++ < calls) await client.call(subject);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const rate = calls / ((performance.now() - started) / 1000);
  const cpuAfter = cpuMs(client.pid);
  return { rate, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function line(label: string, value: string, ratio: number, target?: { ok: boolean; text: string }) {
  const verdict = target ? `  target ${target.text}: ${target.ok ? "met" : "MISSED"}` : "";
  console.log(`${label.padEnd(52)} ${value.padStart(12)}  ratio ${ratio.toFixed(2)}${verdict}`);
}

test("cold start over stdio, as a ratio to a bare SDK server", async () => {
  // Spawn to the first tools/list answer; the subjects alternate so drift hits both.
  const openers = [
    ["a bare JSON-RPC client", rawCaller],
    ["the SDK's Client", sdkCaller],
  ] as const;
  const starts = openers.map(() => [[], []] as [number[], number[]]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, open]] of openers.entries()) {
      starts[i]?.[0].push(await coldStart(echo, open));
      starts[i]?.[1].push(await coldStart(waiter, open));
    }
  }
  for (const [i, [clientLabel]] of openers.entries()) {
    const [bare, served] = (starts[i] as [number[], number[]]).map(median) as [number, number];
    console.log(`cold start with ${clientLabel}, median of ${ROUNDS} (spawn to the first tools/list answer)`);
    line(`  baseline: ${echo.name}`, `${bare.toFixed(0)} ms`, 1);
    const ratio = served / bare;
    const target = i === 0 ? { ok: ratio <= 1.5, text: "<= 1.5" } : undefined;
    line("  waiter, every toolset on", `${served.toFixed(0)} ms`, ratio, target);
  }
});

// Throughput: one warm session each (WARM_UP_CALLS), then rounds that alternate between the
// subjects; the median of the per-round ratios resists a noisy machine. One test for each client,
// each within the time limit on its own: on a loaded machine the sections together outlast it, and
// the last would report nothing.
test.each([
  ["the SDK's Client", sdkCaller],
  ["a bare JSON-RPC client", rawCaller],
] as const)("tool-call throughput over stdio with %s, as ratios to bare SDK servers", async (clientLabel, open) => {
  const subjects = [baseline, everySchema, echo, core, waiter];
  const clients = await Promise.all(subjects.map(open));
  const warmUp: (number | undefined)[] = [];
  for (const [i, subject] of subjects.entries()) {
    warmUp[i] = (await callsPerSecond(clients[i] as Caller, subject, WARM_UP_CALLS, 1)).cpuMs;
  }
  if (warmUp.every((ms) => ms !== undefined)) {
    const perCall = (i: number) => (((warmUp[i] as number) * 1000) / WARM_UP_CALLS).toFixed(0);
    console.log(
      `server CPU per call over the first ${WARM_UP_CALLS} calls with ${clientLabel}, one at a time (warm-up, not in the rounds): ${subjects.map((s, i) => `${s.name.split(",")[0]} ${perCall(i)} µs`).join("; ")}`,
    );
  }
  for (const [label, calls, inFlight] of [
    ["sequential", SEQUENTIAL_CALLS, 1],
    [`${IN_FLIGHT} in flight`, PARALLEL_CALLS, IN_FLIGHT],
  ] as const) {
    const rounds: number[][] = [];
    // Summed over the rounds: one round is too short for the 10 ms ticks the time is counted in.
    const cpu = subjects.map(() => 0 as number | undefined);
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      // Each round starts with the next subject, so none is always measured first or last.
      const rates: number[] = [];
      for (let k = 0; k < subjects.length; k++) {
        const i = (round + k) % subjects.length;
        const measured = await callsPerSecond(clients[i] as Caller, subjects[i] as Subject, calls, inFlight);
        rates[i] = measured.rate;
        cpu[i] = measured.cpuMs === undefined ? undefined : (cpu[i] ?? 0) + measured.cpuMs;
      }
      rounds.push(rates);
    }
    console.log(
      `tool calls per second with ${clientLabel}, ${label} (median of ${THROUGHPUT_ROUNDS} rounds, subjects in turn)`,
    );
    for (const [i, subject] of subjects.entries()) {
      const rate = median(rounds.map((r) => r[i] as number));
      const ratio = median(rounds.map((r) => (r[i] as number) / (r[0] as number)));
      const target = subject === waiter ? { ok: ratio >= 0.9, text: ">= 0.9" } : undefined;
      line(`  ${subject.name}`, `${rate.toFixed(0)} /s`, ratio, target);
    }
    if (cpu.every((ms) => ms !== undefined)) {
      const perCall = (i: number) => (((cpu[i] as number) * 1000) / (calls * THROUGHPUT_ROUNDS)).toFixed(0);
      console.log(
        `  server CPU per call: ${subjects.map((s, i) => `${s.name.split(",")[0]} ${perCall(i)} µs`).join("; ")}`,
      );
    }
  }
  await Promise.all(clients.map((c) => c.close()));
});
