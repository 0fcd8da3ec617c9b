import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import pg from "pg";
import { request } from "undici";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ERP_SECRET, ERP_SOURCE, erpHeaders } from "../erp.js";
import { postgresAvailable, postgresRequired, type RunningPostgres, startPostgres } from "../postgres.js";
import { killStarted, SERVING, type Started, startNode } from "../spawn.js";
import { CLI } from "../stdio.js";

/**
 * `waiter serve` replicas on one PostgreSQL database: webhook ingest (signed erp deliveries, each
 * with its own id, from one autocannon) on one replica, on two replicas with the connections
 * split evenly between them, and on one `waiter serve` on SQLite, in alternating rounds; every 2xx
 * must be stored exactly once. Targets: two replicas at least 1.6x one. Then push latency across
 * replicas: from a POST to replica A to events_wait answering on replica B (target p99 at most
 * 50 ms), against the same with both on one replica.
 */

const CONNECTIONS = 20;
const SECONDS = 3;
const ROUNDS = 3;
const WARMUP = 2000;
const PUSHES = 200;
/** How long each events_wait is given to arrive and subscribe before its delivery is posted. */
const SETTLE_MS = 20;
const PUSH_TYPE = "bench.push";
const PAD = "x".repeat(960);
const SKIP = "no PostgreSQL server here (Debian's postgresql-15): the replicas benchmark is skipped";
const TICK_MS = 10; // /proc's clock ticks: 100 a second on Linux

let postgres: RunningPostgres | undefined;
let databaseUrl = "";
/** The benchmark's own connection to the replicas' database, for counting what they stored. */
let admin: pg.Client | undefined;
let postmaster: number | undefined;
type Server = Started & { base: string; dataDir: string };
/** Replicas a and b on PostgreSQL, and one waiter serve on SQLite; started once for both tests. */
const servers = {} as Record<"a" | "b" | "sqlite", Server>;
const clients: Client[] = [];

if (!postgresAvailable && !postgresRequired) console.log(SKIP);

beforeAll(async () => {
  if (!postgresAvailable && !postgresRequired) return;
  postgres = await startPostgres();
  databaseUrl = `${postgres.url}?options=${encodeURIComponent("-c search_path=bench")}`;
  admin = new pg.Client(databaseUrl);
  await admin.connect();
  await admin.query("CREATE SCHEMA bench");
  // Time spent in waiter_add, the function that holds the turn: how long commits hold it.
  await admin.query("ALTER DATABASE waiter SET track_functions = 'pl'");
  const dataDirectory = (await admin.query<{ data_directory: string }>("SHOW data_directory")).rows[0]?.data_directory;
  postmaster = pidIn(`${dataDirectory}/postmaster.pid`);
  // The first replica sets up the schema alone; the others find it done.
  servers.a = await serve({ WAITER_DATABASE_URL: databaseUrl });
  [servers.b, servers.sqlite] = await Promise.all([serve({ WAITER_DATABASE_URL: databaseUrl }), serve({})]);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  killStarted();
  await admin?.end();
  await postgres?.stop();
});

async function serve(env: Record<string, string>): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), "waiter-bench-"));
  const started = await startNode(
    [CLI, "serve", "--listen", "127.0.0.1:0"],
    {
      WAITER_DATA_DIR: dataDir,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: ERP_SOURCE }),
      WAITER_TOOLSETS: "events,webhooks",
      // Room for every delivery of the run: retention dropping some would spoil the count.
      WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxEvents: 10_000_000, maxBytes: 2 ** 32, maxAgeDays: 30 }),
      ERP_SECRET,
      ...env,
    },
    SERVING,
  );
  return { ...started, base: started.said, dataDir };
}

function pidIn(file: string): number | undefined {
  try {
    return Number(readFileSync(file, "utf8").split("\n")[0]) || undefined;
  } catch {
    return undefined;
  }
}

/** utime, stime and, with `children`, the reaped children's: in ms, from /proc. */
function cpuOf(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state is field 3, so utime (14), stime (15), cutime, cstime are 11-14 here.
    const own = Number(fields[11]) + Number(fields[12]);
    return (children ? own + Number(fields[13]) + Number(fields[14]) : own) * TICK_MS;
  } catch {
    return 0;
  }
}

/** PostgreSQL's CPU time: the postmaster's, its backends' and that of those that exited. */
function postgresCpu(): number {
  if (postmaster === undefined) return Number.NaN;
  let total = cpuOf(postmaster, true);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === postmaster) total += cpuOf(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

const loadGeneratorCpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** The whole machine's busy CPU time, in ms: every core, every process (the other engineer's too). */
function machineCpu(): number {
  const [, ...ticks] = (readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: all but idle and iowait.
  return ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + (t as number)), 0) * TICK_MS;
}

function cpuSnapshot() {
  return {
    machine: machineCpu(),
    waiter: {
      a: cpuOf(servers.a.child.pid as number),
      b: cpuOf(servers.b.child.pid as number),
      sqlite: cpuOf(servers.sqlite.child.pid as number),
    },
    postgres: postgresCpu(),
    load: loadGeneratorCpu(),
  };
}

function erpDelivery(id: string, type = "invoice.created") {
  const body = JSON.stringify({ delivery: id, pad: PAD });
  return { body, headers: erpHeaders(body, id, type) };
}

/** Signed ahead, so the load generator spends its core on sending, not on signing. */
function presign(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => erpDelivery(`${prefix}${i}`));
}

type Subject = "sqlite" | "one" | "two";
const TARGETS: Record<Subject, () => string[]> = {
  sqlite: () => [servers.sqlite.base],
  one: () => [servers.a.base],
  two: () => [servers.a.base, servers.b.base],
};
const LABELS: Record<Subject, string> = {
  sqlite: "SQLite, one waiter serve",
  one: "PostgreSQL, one replica",
  two: "PostgreSQL, two replicas, load split",
};

/** Deliveries with ids under `prefix` stored in `subject`'s store. */
async function storedUnder(subject: Subject, prefix: string): Promise<number> {
  if (subject === "sqlite") {
    const db = new Database(join(servers.sqlite.dataDir, "events.db"), { readonly: true });
    try {
      return (
        db
          .prepare("SELECT count(*) AS n FROM events WHERE source = 'erp' AND substr(dedupe_id, 1, ?) = ?")
          .get(prefix.length, prefix) as { n: number }
      ).n;
    } finally {
      db.close();
    }
  }
  const { rows } = await (admin as pg.Client).query<{ n: number }>(
    "SELECT count(*)::int AS n FROM events WHERE source = 'erp' AND starts_with(dedupe_id, $1)",
    [prefix],
  );
  return rows[0]?.n ?? 0;
}

/**
 * The next transaction id: the replicas' writing transactions take one each (their group commits,
 * during a load nothing else), and so does this call.
 */
async function nextXid(): Promise<number> {
  const { rows } = await (admin as pg.Client).query<{ xid: string }>("SELECT txid_current()::text AS xid");
  return Number(rows[0]?.xid);
}

interface Run {
  rate: number;
  p99: number;
  amount: number;
  seconds: number;
  /** CPU ms over the run, by process. */
  cpu: { waiter: number; postgres: number; load: number; machine: number };
  /** Transactions that wrote to PostgreSQL: the group commits. */
  commits: number;
  /** Calls of waiter_add and the milliseconds spent in them, as PostgreSQL's statistics count. */
  turns: { calls: number; ms: number };
}

/** waiter_add's calls and time so far: each call holds the turn while it runs. */
async function turnsSoFar(): Promise<{ calls: number; ms: number }> {
  if (!admin) return { calls: 0, ms: 0 };
  // Backends report their statistics once idle for a second: the run's last commits too.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await admin.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await admin.query<{ calls: string; ms: number }>(
    "SELECT calls::text, total_time AS ms FROM pg_stat_user_functions WHERE funcname = 'waiter_add'",
  );
  return { calls: Number(rows[0]?.calls ?? 0), ms: rows[0]?.ms ?? 0 };
}

let runs = 0;

/** `amount` deliveries from one autocannon, its connections spread evenly over the subject's servers. */
async function load(subject: Subject, amount: number): Promise<Run> {
  const prefix = `${subject}-${++runs}-`;
  const signed = presign(prefix, amount);
  let next = 0;
  const xidBefore = subject === "sqlite" ? 0 : await nextXid();
  const turnsBefore = subject === "one" ? await turnsSoFar() : { calls: 0, ms: 0 };
  const before = cpuSnapshot();
  const started = performance.now();
  const result = await autocannon({
    // Several URLs share the connections out in turn (the types know only one).
    url: TARGETS[subject]().map((base) => `${base}/webhooks/erp`) as unknown as string,
    connections: CONNECTIONS,
    amount,
    // autocannon notices the last answer at its next sample: every second by default, which would
    // round each run up to whole seconds.
    sampleInt: 5,
    requests: [
      {
        method: "POST",
        setupRequest: (req) => ({ ...req, ...(signed[next++] ?? erpDelivery(`${prefix}${next - 1}`)) }),
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  const after = cpuSnapshot();
  const commits = subject === "sqlite" ? 0 : (await nextXid()) - xidBefore - 1;
  const turnsAfter = subject === "one" ? await turnsSoFar() : { calls: 0, ms: 0 };
  const ok = result["2xx"];
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0 || ok !== amount) throw new Error(`${subject}: ${ok} of ${amount} deliveries got a 2xx`);
  // Each 2xx stored, and nothing stored that was not answered 2xx (ids are unique, so at most once).
  expect(await storedUnder(subject, prefix), `${subject}: stored deliveries against 2xx answers`).toBe(ok);
  const waiterCpu =
    subject === "sqlite"
      ? after.waiter.sqlite - before.waiter.sqlite
      : after.waiter.a - before.waiter.a + after.waiter.b - before.waiter.b;
  return {
    rate: ok / seconds,
    p99: result.latency.p99,
    amount: ok,
    seconds,
    commits,
    turns: { calls: turnsAfter.calls - turnsBefore.calls, ms: turnsAfter.ms - turnsBefore.ms },
    cpu: {
      waiter: waiterCpu,
      postgres: after.postgres - before.postgres,
      load: after.load - before.load,
      machine: after.machine - before.machine,
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

test("webhook ingest on one and two PostgreSQL replicas, and on SQLite", async (ctx) => {
  if (!postgres) ctx.skip(SKIP);
  const subjects: Subject[] = ["one", "two", "sqlite"];
  // A short run each to warm up, and to size the rounds so each takes about SECONDS.
  const amounts = {} as Record<Subject, number>;
  for (const subject of subjects) {
    const warm = await load(subject, WARMUP);
    amounts[subject] = Math.max(CONNECTIONS, Math.round((warm.rate * SECONDS) / CONNECTIONS) * CONNECTIONS);
  }
  const results: Record<Subject, Run[]> = { one: [], two: [], sqlite: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(round + i) % subjects.length] as Subject;
      results[subject].push(await load(subject, amounts[subject]));
    }
  }
  const rate = (s: Subject) => median(results[s].map((r) => r.rate));
  const twoToOne = median(results.two.map((r, i) => r.rate / (results.one[i] as Run).rate));
  const pgToSqlite = median(results.one.map((r, i) => r.rate / (results.sqlite[i] as Run).rate));
  const stored = Object.values(results)
    .flat()
    .reduce((sum, r) => sum + r.amount, 0);

  const perDelivery = (s: Subject, part: keyof Run["cpu"]) => {
    const total = results[s].reduce((sum, r) => sum + r.cpu[part], 0);
    return (total * 1000) / results[s].reduce((sum, r) => sum + r.amount, 0);
  };
  const perCommit = (s: Subject) => {
    if (s === "sqlite") return "";
    const commits = results[s].reduce((sum, r) => sum + r.commits, 0);
    return `; ${(results[s].reduce((sum, r) => sum + r.amount, 0) / commits).toFixed(1)}`;
  };
  /** Cores busy over the subject's runs: of its processes, and of the whole machine. */
  const busyCores = (s: Subject, part: "ours" | "machine") => {
    const seconds = results[s].reduce((sum, r) => sum + r.seconds, 0);
    const cpu = results[s].reduce(
      (sum, r) =>
        sum + (part === "machine" ? r.cpu.machine : r.cpu.waiter + (s === "sqlite" ? 0 : r.cpu.postgres) + r.cpu.load),
      0,
    );
    return cpu / 1000 / seconds;
  };
  console.log(
    `webhook ingest, 1 KiB signed erp deliveries, ${CONNECTIONS} connections from one autocannon, median of ${ROUNDS} alternating rounds of about ${SECONDS} s`,
  );
  for (const s of ["sqlite", "one", "two"] as Subject[]) {
    const ratio =
      s === "one"
        ? `  ratio to SQLite ${pgToSqlite.toFixed(2)}`
        : s === "two"
          ? `  ratio to one replica ${twoToOne.toFixed(2)} (target >= 1.6: ${twoToOne >= 1.6 ? "met" : "MISSED"})`
          : "";
    console.log(
      `  ${LABELS[s].padEnd(38)} ${rate(s).toFixed(0).padStart(6)} deliveries/s  p99 ${median(results[s].map((r) => r.p99))} ms${ratio}`,
    );
  }
  console.log(
    "  CPU per delivery (µs): waiter / PostgreSQL / load generator; cores busy of 2: these processes / the whole machine; deliveries per commit",
  );
  for (const s of ["sqlite", "one", "two"] as Subject[]) {
    const postgresPart = s === "sqlite" ? "-" : perDelivery(s, "postgres").toFixed(0);
    console.log(
      `  ${LABELS[s].padEnd(38)} ${perDelivery(s, "waiter").toFixed(0).padStart(4)} / ${postgresPart.padStart(3)} / ${perDelivery(s, "load").toFixed(0).padStart(3)}; ${busyCores(s, "ours").toFixed(2)} / ${busyCores(s, "machine").toFixed(2)}${perCommit(s)}`,
    );
  }
  // On one replica no commit waits for another's turn, so waiter_add's time is how long each holds it.
  const calls = results.one.reduce((sum, r) => sum + r.turns.calls, 0);
  const heldMs = results.one.reduce((sum, r) => sum + r.turns.ms, 0) / calls;
  const busy = (heldMs * calls) / 1000 / results.one.reduce((sum, r) => sum + r.seconds, 0);
  const batch = results.one.reduce((sum, r) => sum + r.amount, 0) / calls;
  console.log(
    `  one replica holds the turn ${heldMs.toFixed(2)} ms per commit, ${(busy * 100).toFixed(0)}% of the time: commits taking turns allow about ${((batch / heldMs) * 1000).toFixed(0)} deliveries/s at ${batch.toFixed(1)} per commit`,
  );
  console.log(`  every 2xx stored exactly once: ${stored} deliveries`);
});

async function connect(base: string): Promise<Client> {
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
  clients.push(client);
  return client;
}

/**
 * Milliseconds from sending a POST to `postTo` (and from its 2xx) to events_wait answering on
 * `waitOn`, one delivery at a time; each wait goes on from the last one's cursor, so none is missed.
 */
async function pushLatencies(waitOn: Client, postTo: string, label: string, count = PUSHES) {
  const listed = await waitOn.callTool({ name: "events_list", arguments: { type: PUSH_TYPE, limit: 1 } });
  let since = (listed.structuredContent as { cursor: string }).cursor;
  const fromPost: number[] = [];
  const fromAnswer: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${label}-${i}`;
    const waiting = waitOn.callTool({ name: "events_wait", arguments: { type: PUSH_TYPE, since, timeout_s: 10 } });
    let arrivedAt = 0;
    void waiting.then(() => {
      arrivedAt = performance.now();
    });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const { body, headers } = erpDelivery(id, PUSH_TYPE);
    const sentAt = performance.now();
    const response = await request(`${postTo}/webhooks/erp`, { method: "POST", body, headers });
    await response.body.dump();
    const answeredAt = performance.now();
    expect(response.statusCode).toBe(200);
    const result = await waiting;
    const found = result.structuredContent as { cursor: string; event?: { delivery_id?: string } };
    expect(found.event?.delivery_id, `${label}: the wait's event`).toBe(id);
    since = found.cursor;
    fromPost.push(arrivedAt - sentAt);
    fromAnswer.push(Math.max(0, arrivedAt - answeredAt));
  }
  fromPost.sort((a, b) => a - b);
  fromAnswer.sort((a, b) => a - b);
  return { fromPost, fromAnswer };
}

test("push latency: a delivery to one replica answers events_wait on the other", async (ctx) => {
  if (!postgres) ctx.skip(SKIP);
  const onA = await connect(servers.a.base);
  const onB = await connect(servers.b.base);
  // Warm both paths before timing them.
  await pushLatencies(onA, servers.a.base, "warm-same", 20);
  await pushLatencies(onB, servers.a.base, "warm-across", 20);
  const same = await pushLatencies(onA, servers.a.base, "same");
  const across = await pushLatencies(onB, servers.a.base, "across");
  const line = (name: string, r: { fromPost: number[]; fromAnswer: number[] }) =>
    `  ${name.padEnd(38)} p50 ${percentile(r.fromPost, 0.5).toFixed(1)} ms, p95 ${percentile(r.fromPost, 0.95).toFixed(1)} ms, p99 ${percentile(r.fromPost, 0.99).toFixed(1)} ms; after the 2xx p99 ${percentile(r.fromAnswer, 0.99).toFixed(1)} ms`;
  const p99 = percentile(across.fromPost, 0.99);
  console.log(
    `push latency, from sending the POST to events_wait's answer, ${PUSHES} deliveries one at a time (PostgreSQL)`,
  );
  console.log(line("POST and wait on one replica", same));
  console.log(
    `${line("POST to replica A, wait on replica B", across)} (target p99 <= 50: ${p99 <= 50 ? "met" : "MISSED"})`,
  );
  expect(p99, "p99 from the POST to events_wait on the other replica, ms").toBeLessThanOrEqual(50);
});
