import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import {
  type AddressInfo,
  createConnection as connectTcp,
  createServer as createNetServer,
  type Socket,
} from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./fakes/http.js";
import { untilSaid } from "./spawn.js";

/**
 * A throwaway PostgreSQL server for the tests that need a real one: `initdb` into a temporary
 * directory, `postgres` on a free loopback port, stopped and removed by `stop()`. It uses the
 * server of Debian's postgresql-15 package, which .ci/run installs where it is missing (and sets
 * WAITER_TEST_POSTGRES=required so the tests fail rather than skip without it). PostgreSQL
 * refuses to run as root, so under root (CI) the cluster is run as the `postgres` user.
 */

const BIN = ["15", "16", "17"]
  .map((version) => `/usr/lib/postgresql/${version}/bin`)
  .find((dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")));

/** psql of the same PostgreSQL, which reads a URL as libpq does (pg_dump and pg_restore too). */
export const PSQL = join(BIN ?? "/usr/lib/postgresql/15/bin", "psql");

/** Whether a PostgreSQL server can be started here. */
export const postgresAvailable = BIN !== undefined;
export const postgresRequired = process.env.WAITER_TEST_POSTGRES === "required";

export interface RunningPostgres {
  /** postgres://waiter@127.0.0.1:<port>/waiter */
  url: string;
  port: number;
  /** The directory of its Unix socket, as ?host= names it. */
  socket: string;
  /** Stops the server and keeps its data, as a restart or an outage would. */
  halt(): Promise<void>;
  /** Starts it again on the same port after `halt`. */
  resume(): Promise<void>;
  /** Puts `line` first in the server's pg_hba.conf, and has the server read it again. */
  hbaFirst(line: string): void;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

/** `command args` as the user the cluster belongs to: the postgres user when this process is root. */
function asOwner(command: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

/**
 * `password`: the user waiter must give it over TCP (scram-sha-256); without one, none is asked.
 * `tls`: the server also takes TLS, with a certificate for localhost and 127.0.0.1 that the
 * returned `ca` file signs (self-signed). `pickPort`: where its port comes from (freePort).
 */
export async function startPostgres({
  password,
  tls,
  pickPort = freePort,
  shm = "/dev/shm",
}: {
  password?: string;
  tls?: boolean;
  pickPort?: () => Promise<number>;
  /** Where its directory goes when there is room for it (scratchDir). */
  shm?: string;
} = {}): Promise<RunningPostgres & { ca?: string }> {
  if (!BIN) throw new Error("no PostgreSQL server here (Debian's package postgresql-15)");
  const owner =
    userInfo().uid === 0
      ? {
          uid: Number(execFileSync("id", ["-u", "postgres"]).toString()),
          gid: Number(execFileSync("id", ["-g", "postgres"]).toString()),
        }
      : undefined;
  const dir = scratchDir(shm);
  try {
    return await startIn(dir, owner, { password, tls, pickPort });
  } catch (err) {
    // Left behind, each failed start would hold its copy of the template in memory (a tmpfs) for good.
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** startPostgres's cluster in `dir`, which `owner` (the postgres user, under root) is given. */
async function startIn(
  dir: string,
  owner: { uid: number; gid: number } | undefined,
  { password, tls, pickPort }: { password?: string; tls?: boolean; pickPort: () => Promise<number> },
): Promise<RunningPostgres & { ca?: string }> {
  const data = join(dir, "data");
  if (owner) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  const settings: string[] = [];
  if (tls) {
    const [cert, key] = [join(dir, "server.crt"), join(dir, "server.key")];
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"],
        ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ...["-keyout", key, "-out", cert],
      ],
      { stdio: "ignore" },
    );
    // PostgreSQL reads its key only when the key is the server's own and private.
    if (owner) chownSync(key, owner.uid, owner.gid);
    chmodSync(key, 0o600);
    settings.push("-c", "ssl=on", "-c", `ssl_cert_file=${cert}`, "-c", `ssl_key_file=${key}`);
  }
  cpSync(template(password, owner), data, { recursive: true, preserveTimestamps: true });
  if (owner) chownTree(data, owner);
  const { port, running } = await runOnFreePort(data, dir, settings, pickPort);
  let exited = running;
  // Through pg_ctl, as the cluster's owner: a signal to runuser would not reach the server.
  const halt = async () => {
    execFileSync(...asOwner(join(BIN as string, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]), {
      stdio: "ignore",
    });
    await exited.gone;
  };
  return {
    ...(tls ? { ca: join(dir, "server.crt") } : {}),
    url: `postgres://waiter@127.0.0.1:${port}/waiter`,
    port,
    socket: dir,
    halt,
    async resume() {
      exited = run(data, dir, port, settings);
      await exited.ready;
    },
    hbaFirst(line) {
      const hba = join(data, "pg_hba.conf");
      writeFileSync(hba, `${line}\n${readFileSync(hba, "utf8")}`);
      execFileSync(...asOwner(join(BIN as string, "pg_ctl"), ["-D", data, "reload"]), { stdio: "ignore" });
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A new directory for a cluster: in `shm` (/dev/shm, a tmpfs) where it has room and takes one, else
 * in the system's temporary directory. On a machine busy writing to its disk, copying the template's
 * thousand-odd files there at each start and removing them at each stop took seconds each, past a
 * hook's time.
 */
export function scratchDir(shm: string): string {
  try {
    const free = statfsSync(shm);
    if (free.bavail * free.bsize >= 2 ** 30) return mkdtempSync(join(shm, "waiter-pg-"));
  } catch {
    // None here (macOS), or one this user may not write to (mounted read-only, or for others).
  }
  return mkdtempSync(join(tmpdir(), "waiter-pg-"));
}

/**
 * A cluster's data directory as `initdb` makes it, with the database `waiter` created: made once
 * for this PostgreSQL and `password` under the system's temporary directory, then copied by every
 * start, which spares each its initdb and createdb (over a second of CPU). It is made under a name
 * of its own, with the list of its files, and renamed into place once complete; two makers at once
 * each build their own, and the first rename wins. One found without a file its list names (a run
 * that removed it was stopped midway, or a cleaner of old files took some) is set aside and made
 * again, rather than failing every start after.
 */
function template(password: string | undefined, owner: { uid: number; gid: number } | undefined): string {
  const bin = BIN as string;
  // "listed": a name of its own for this layout, lest an older checkout's template, without a list, be set aside.
  const key = createHash("sha256")
    .update(`${bin}\0${statSync(join(bin, "postgres")).mtimeMs}\0${userInfo().uid}\0${password ?? ""}\0listed`)
    .digest("hex")
    .slice(0, 16);
  return madeOnce(join(tmpdir(), `waiter-pg-template-${key}`), (data) => {
    const dir = join(data, "..");
    if (owner) chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o700);
    const auth = ["--auth=trust"];
    if (password !== undefined) {
      writeFileSync(join(dir, "pwfile"), password, { mode: 0o644 });
      auth.push("--auth-host=scram-sha-256", `--pwfile=${join(dir, "pwfile")}`);
    }
    execFileSync(
      ...asOwner(join(bin, "initdb"), ["-D", data, "-U", "waiter", ...auth, "-E", "UTF8", "--no-locale", "--no-sync"]),
      { stdio: "ignore" },
    );
    rmSync(join(dir, "pwfile"), { force: true });
    // The database, created in single-user mode: no server, no port, no password asked.
    execFileSync(...asOwner(join(bin, "postgres"), ["--single", "-D", data, "-c", "fsync=off", "postgres"]), {
      input: "CREATE DATABASE waiter\n",
      stdio: ["pipe", "ignore", "ignore"],
    });
  });
}

/**
 * `made/data`, as `make` fills the data directory it is given, when `made` holds it complete (each
 * entry its list `made/files` names); made once under a temporary name and renamed to
 * `made`, so that a maker stopped midway leaves nothing there. One found incomplete is set aside
 * and removed first.
 */
export function madeOnce(made: string, make: (data: string) => void): string {
  const data = join(made, "data");
  if (complete(made)) return data;
  // Asked again: another maker may have renamed its own into place since.
  if (existsSync(made) && !complete(made)) {
    const aside = mkdtempSync(`${made}-incomplete-`);
    try {
      renameSync(made, join(aside, "made"));
    } catch {
      // Another maker set it aside first.
    }
    rmSync(aside, { recursive: true, force: true });
  }
  const dir = mkdtempSync(`${made}-making-`);
  try {
    make(join(dir, "data"));
    writeFileSync(
      join(dir, "files"),
      listed(join(dir, "data"))
        .map(({ path, size }) => `${size} ${path}\n`)
        .join(""),
    );
    try {
      renameSync(dir, made);
    } catch (err) {
      // Another maker's came first: theirs is the same.
      if (!complete(made)) throw err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return data;
}

/** Whether `made` holds a data directory with every entry its list names: each file at its size, each directory. */
function complete(made: string): boolean {
  let list: string;
  try {
    list = readFileSync(join(made, "files"), "utf8");
  } catch {
    return false;
  }
  const entries = list.split("\n").filter(Boolean);
  return (
    entries.length > 0 &&
    entries.every((line) => {
      const [size, path] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
      try {
        const found = statSync(join(made, "data", path));
        return size === "dir" ? found.isDirectory() : found.size === Number(size);
      } catch {
        return false;
      }
    })
  );
}

/** Each entry under `dir`, its path from `dir`, and its size in bytes or "dir". */
function listed(dir: string, under = ""): { path: string; size: number | "dir" }[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((entry) => {
    const path = join(under, entry.name);
    if (entry.isDirectory()) return [{ path, size: "dir" as const }, ...listed(dir, path)];
    return [{ path, size: statSync(join(dir, path)).size }];
  });
}

/** Gives `path` and everything under it to `owner`, as a copy made by root is not. */
function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), owner);
}

/**
 * Starts the server on `data` on a port `pickPort` gives, once it accepts connections. A port from
 * freePort is free only until another process binds it (another run's server, whose worker picks
 * from the same block): the server, unable to listen there, exits, and is started on another.
 */
async function runOnFreePort(
  data: string,
  dir: string,
  settings: string[],
  pickPort: () => Promise<number>,
): Promise<{ port: number; running: ReturnType<typeof run> }> {
  for (let tries = 1; ; tries++) {
    const port = await pickPort();
    const running = run(data, dir, port, settings);
    try {
      await running.ready;
      return { port, running };
    } catch (err) {
      if (tries === 3 || !/Address already in use/.test((err as Error).message)) throw err;
      await running.gone;
    }
  }
}

/** Starts the server on `data`; `ready` once it accepts connections, `gone` once it exited. */
function run(
  data: string,
  dir: string,
  port: number,
  settings: string[],
): { ready: Promise<void>; gone: Promise<void> } {
  const [command, args] = asOwner(join(BIN as string, "postgres"), [
    "-D",
    data,
    "-p",
    String(port),
    "-h",
    "127.0.0.1",
    "-k",
    dir,
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    ...settings,
  ]);
  const server = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let said = "";
  server.stderr.on("data", (chunk) => {
    said += chunk;
  });
  const gone = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  // Started in a hook, by 28 s: the hooks that start it give it 30.
  const ready = untilSaid(server, () => said, /ready to accept connections/, "PostgreSQL did not start", 28_000);
  return { ready, gone };
}

/** A TCP proxy in front of a PostgreSQL server, which can go silent as a frozen server does. */
export interface SilentProxy {
  /** The URL it was given, with the proxy's port. */
  url: string;
  /**
   * From now on nothing passes either way, and new connections are taken but never answered: the
   * server looks frozen (stopped, or a peer that accepts and never answers) rather than gone.
   */
  silence(): void;
  /** Bytes clients sent since the silence: statements (or connection attempts) waiting for an answer. */
  unanswered(): number;
  close(): Promise<void>;
}

/**
 * A TCP relay on loopback to the server at `url` (postgres://…, its host and port), and that URL
 * with the relay's port: `relay` joins each client to the server, its sockets given to `held`, which
 * close() ends.
 */
async function tcpRelay(
  url: string,
  relay: (client: Socket, held: (socket: Socket) => void, target: URL) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const held = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
  };
  const proxy = createNetServer((client) => {
    held(client);
    relay(client, held, target);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(url);
  proxied.port = String((proxy.address() as AddressInfo).port);
  return {
    url: proxied.href,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

/**
 * A proxy to the server at `url` (postgres://…, its host and port). `answering`: how many
 * connections it joins to the server before it takes each new one and never answers it, as
 * silence() does every one (a server that took the first connection and takes no other in time).
 */
export async function silentProxy(url: string, answering = Number.POSITIVE_INFINITY): Promise<SilentProxy> {
  let silent = false;
  let unanswered = 0;
  let joined = 0;
  const relay = await tcpRelay(url, (client, held, target) => {
    const upstream = silent || joined >= answering ? undefined : connectTcp(Number(target.port), target.hostname);
    if (upstream) joined += 1;
    client.on("data", (chunk) => {
      if (silent || !upstream) unanswered += chunk.length;
      else upstream.write(chunk);
    });
    if (!upstream) return;
    held(upstream);
    upstream.on("data", (chunk) => {
      if (!silent) client.write(chunk);
    });
    upstream.once("close", () => client.destroy());
    client.once("close", () => upstream.destroy());
  });
  return {
    ...relay,
    silence() {
      silent = true;
    },
    unanswered: () => unanswered,
  };
}

/**
 * A proxy to the server at `url` that passes everything but the notifications the server sends (the
 * protocol's NotificationResponse messages): what a client sees of its LISTEN through a pooler in
 * transaction mode (PgBouncer's `pool_mode = transaction`, Supabase's port 6543), where the server
 * connection that ran it goes back to the pool and another client, or none, is sent what it hears.
 */
export function poolerProxy(url: string): Promise<{ url: string; close(): Promise<void> }> {
  return serverMessagesRelay(url, (message) => (message[0] === "A".charCodeAt(0) ? undefined : message));
}

/**
 * A proxy to the server at `url` that gives each error's severity in German, as a server whose
 * lc_messages is German sends it ("FEHLER" for ERROR): the protocol's ErrorResponse's S field. The
 * V field, PostgreSQL's unlocalised severity, is left as it is.
 */
export function germanProxy(url: string): Promise<{ url: string; close(): Promise<void> }> {
  return serverMessagesRelay(url, (message) => {
    if (message[0] !== "E".charCodeAt(0)) return message;
    const fields = message
      .subarray(5)
      .toString("utf8")
      .replace(/(^|\0)SERROR\0/, "$1SFEHLER\0");
    const head = Buffer.alloc(5);
    head.write("E");
    head.writeInt32BE(4 + Buffer.byteLength(fields), 1);
    return Buffer.concat([head, Buffer.from(fields)]);
  });
}

/**
 * A proxy to the server at `url` that passes the client's bytes as they come and each message the
 * server sends as `rewrite` returns it (left out where it returns undefined).
 */
function serverMessagesRelay(
  url: string,
  rewrite: (message: Buffer) => Buffer | undefined,
): Promise<{ url: string; close(): Promise<void> }> {
  return tcpRelay(url, (client, held, target) => {
    const upstream = connectTcp(Number(target.port), target.hostname);
    held(upstream);
    client.on("data", (chunk) => upstream.write(chunk));
    // Each message the server sends: a type byte, then its length (which counts itself).
    let pending = Buffer.alloc(0);
    upstream.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const end = 1 + pending.readInt32BE(1);
        if (pending.length < end) break;
        const message = rewrite(pending.subarray(0, end));
        if (message) client.write(message);
        pending = pending.subarray(end);
      }
    });
    upstream.once("close", () => client.destroy());
    client.once("close", () => upstream.destroy());
  });
}

/** PgBouncer's refusal of a connection, as it sends it: an ErrorResponse of SQLSTATE 08P01. */
function poolerError(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C08P01\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write("E");
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/**
 * A proxy to the server at `url` that meets each client's startup as PgBouncer does by its
 * settings. `ignore`: a startup parameter it passes the rest on without (one in its
 * ignore_startup_parameters, as `options` often is); `refuse`: the parameters it refuses, each
 * with its words (before PgBouncer 1.20, "unsupported startup parameter: options"). `clients`: how
 * many connections it holds at once (max_client_conn) before it refuses each new one. `servers`: how
 * many of them it gives a server connection at once, each for as long as it is open (session mode's
 * pool size): the others, logged in, wait with what they send until one closes.
 */
export function startupProxy(
  url: string,
  {
    ignore,
    refuse = {},
    clients = Number.POSITIVE_INFINITY,
    servers = Number.POSITIVE_INFINITY,
  }: { ignore?: string; refuse?: Record<string, string>; clients?: number; servers?: number },
): Promise<{ url: string; close(): Promise<void> }> {
  let open = 0;
  let serving = 0;
  const waiting: (() => void)[] = [];
  const served = (client: Socket) => {
    serving += 1;
    client.once("close", () => {
      serving -= 1;
      waiting.shift()?.();
    });
  };
  return tcpRelay(url, (client, held, target) => {
    open += 1;
    client.once("close", () => {
      open -= 1;
    });
    let upstream: Socket | undefined;
    /** What the client sent while it waits for a server connection. */
    let queued: Buffer[] | undefined;
    let first = Buffer.alloc(0);
    client.on("data", (chunk) => {
      if (queued) return void queued.push(chunk);
      if (upstream) return void upstream.write(chunk);
      first = Buffer.concat([first, chunk]);
      if (first.length < 8 || first.length < first.readInt32BE(0)) return;
      const length = first.readInt32BE(0);
      let startup = first.subarray(0, length);
      // The startup message (protocol 3.0): its parameters, name and value, each ended by a zero byte.
      if (startup.readInt32BE(4) === 196608) {
        if (open > clients) return void client.end(poolerError("no more connections allowed (max_client_conn)"));
        const words = startup
          .subarray(8, length - 1)
          .toString()
          .split("\0")
          .slice(0, -1);
        const kept: string[] = [];
        for (let i = 0; i < words.length; i += 2) {
          const [name, value] = [words[i] as string, words[i + 1] as string];
          const refusal = refuse[name];
          if (refusal) return void client.end(poolerError(refusal));
          if (name !== ignore) kept.push(name, value);
        }
        const body = Buffer.from(`${kept.join("\0")}\0\0`);
        startup = Buffer.alloc(8 + body.length);
        startup.writeInt32BE(startup.length, 0);
        startup.writeInt32BE(196608, 4);
        body.copy(startup, 8);
      }
      const joined = connectTcp(Number(target.port), target.hostname);
      upstream = joined;
      held(joined);
      joined.write(startup);
      const rest = [first.subarray(length)];
      if (serving < servers) {
        served(client);
        joined.write(rest[0] as Buffer);
      } else {
        queued = rest;
        waiting.push(() => {
          if (client.destroyed) return void waiting.shift()?.();
          served(client);
          for (const data of queued ?? []) joined.write(data);
          queued = undefined;
        });
      }
      joined.on("data", (data) => client.write(data));
      joined.once("close", () => client.destroy());
      client.once("close", () => joined.destroy());
    });
  });
}
