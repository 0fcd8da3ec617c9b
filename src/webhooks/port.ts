import { createServer } from "node:net";
import type { Dispatcher } from "undici";
import type { Stopped } from "../app-types.js";
import type { Log } from "../log.js";
import { bracketedHost, isWildcardHost } from "../settings.js";
import type { ListenerMode, RunningListener } from "./listener.js";
import { shownListener } from "./settings.js";

type Listen = { host: string; port: number };

/** A listen address as it is set, an IPv6 host in brackets: [::1]:8790. */
export function shownAddress({ host, port }: Listen): string {
  return `${bracketedHost(host)}:${port}`;
}

/**
 * What holds the webhook port: a waiter by its mode ("waiter" for one of a release that does not
 * say it), something that is not a waiter, or nothing.
 */
export type PortHolder = ListenerMode | "waiter" | "stranger" | "nothing";

const WAITERS: Record<ListenerMode | "waiter", string> = {
  stdio: "another assistant's waiter",
  listen: "waiter listen",
  serve: "waiter serve",
  waiter: "another waiter",
};

/** How long a waiter waits for the /healthz of what holds its port. */
const ASK_MS = 1000;

/**
 * What holds the port when it took connections but did not answer /healthz within ASK_MS: a waiter
 * whose event loop is held (a long write, a machine starting everything at once) as well as another program.
 */
export const SILENT_HOLDER = `did not answer its /healthz within ${ASK_MS / 1000} s (a waiter too busy to answer, or another program)`;

/**
 * What answers at `listen` (a waiter answers /healthz with its status, sources and mode), and, for
 * a waiter, the sources it receives and the id of the store it stores into, where it says one.
 * `silent`: a stranger only as far as can be told, as it did not answer in time (SILENT_HOLDER).
 */
export async function portHolding({
  host,
  port,
}: Listen): Promise<{ holder: PortHolder; storeId?: string; sources?: string[]; silent?: boolean }> {
  const reachable = isWildcardHost(host) ? "127.0.0.1" : bracketedHost(host);
  let response: Dispatcher.ResponseData;
  try {
    // Loaded here, not at start: an assistant's waiter that finds its port free never needs it.
    const { request } = await import("undici");
    // On a connection of its own (reset), closed after: one kept from asking the port's last holder,
    // gone since, would fail this ask as if a stranger held it.
    response = await request(`http://${reachable}:${port}/healthz`, {
      reset: true,
      signal: AbortSignal.timeout(ASK_MS),
    });
  } catch (err) {
    if ((err as { code?: string }).code === "ECONNREFUSED") return { holder: "nothing" };
    return (err as Error).name === "TimeoutError" ? { holder: "stranger", silent: true } : { holder: "stranger" };
  }
  try {
    const health = (await response.body.json()) as {
      status?: unknown;
      sources?: unknown;
      mode?: unknown;
      storeId?: unknown;
    };
    // A waiter whose store is away or full answers 503 with the same shape: still a waiter.
    if (typeof health.status !== "string" || !Array.isArray(health.sources)) return { holder: "stranger" };
    const holder =
      typeof health.mode === "string" && Object.hasOwn(WAITERS, health.mode) ? (health.mode as ListenerMode) : "waiter";
    const sources = health.sources.filter((name): name is string => typeof name === "string");
    return typeof health.storeId === "string" ? { holder, sources, storeId: health.storeId } : { holder, sources };
  } catch {
    return { holder: "stranger" };
  }
}

/** What holds `listen`, when `err` is that it is in use: what a failed bind is said by. */
export async function holderIfInUse(listen: Listen, err: unknown): Promise<PortHolder | undefined> {
  return (err as NodeJS.ErrnoException).code === "EADDRINUSE" ? (await portHolding(listen)).holder : undefined;
}

/**
 * Binds `listen` for a moment and lets it go, rejecting as the listener's bind would (EADDRINUSE,
 * EACCES, EADDRNOTAVAIL): a start that cannot listen stops before it sets up an event store, which
 * it would leave behind in a data directory no waiter uses. Port 0 too: its host may be amiss.
 */
export async function tryBinding({ host, port }: Listen): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/**
 * Why `listen` cannot be bound, and what to do: `setting` is where the address comes from. A port
 * in use is said by what holds it (`holder`), where it was asked: an assistant's waiter lets it go
 * only when its assistant quits.
 */
export function listenProblem(listen: Listen, err: unknown, setting: string, holder?: PortHolder): string {
  const code = (err as NodeJS.ErrnoException).code;
  const other = `set ${setting} to another port`;
  const advice =
    code === "EADDRINUSE"
      ? holder === "stdio"
        ? `another assistant's waiter holds the port until its assistant quits; quit that assistant and start this again (an assistant's waiter with the automations configured leaves the port to waiter listen and serve), or ${other}`
        : `${holder && holder !== "stranger" && holder !== "nothing" ? WAITERS[holder] : "another program"} holds the port; stop it, or ${other}`
      : code === "EACCES"
        ? refusedPort(listen.port, setting)
        : code === "EADDRNOTAVAIL"
          ? `no network interface here has that address; set ${setting} to one this machine has`
          : `check ${setting}`;
  return `cannot listen on ${shownAddress(listen)}: ${code ?? err}: ${advice}`;
}

/**
 * Why the system refuses a port (EACCES). Windows needs no privilege for any port, but refuses
 * those in the ranges it reserves (Hyper-V, WSL and Docker Desktop reserve some) with WSAEACCES,
 * which Node.js says as EACCES: a higher port is no remedy there. Elsewhere, a port below 1024
 * needs privileges, and one above is refused by the system's settings or a security policy.
 */
function refusedPort(port: number, setting: string): string {
  if (process.platform === "win32") {
    return `Windows reserves the port (Hyper-V, WSL and Docker Desktop reserve ranges of ports, which \`netsh interface ipv4 show excludedportrange protocol=tcp\` lists); set ${setting} to a port outside them`;
  }
  return port < 1024
    ? `ports below 1024 need privileges; set ${setting} to a higher port`
    : `the system refuses this port to waiter's user (net.ipv4.ip_unprivileged_port_start set above it, or a security policy such as SELinux's); set ${setting} to another port, or allow this one`;
}

/** An assistant's waiter's hold on the webhook port, which several such waiters share in turn. */
export interface PortHold {
  /** The listener while this process has the port. */
  readonly listener: RunningListener | undefined;
  /** Who receives the webhooks when this process does not, for webhooks_sources; undefined while it does. */
  note(): Promise<string | undefined>;
  /** Stops trying to bind, then closes the listener. */
  close(): Promise<Stopped>;
}

/** Whose settings to make alike, this waiter's and those of the waiter holding the port. */
function bothSettings(holder: ListenerMode | "waiter"): string {
  return holder === "stdio" ? "both assistants' settings" : `this assistant's settings and ${WAITERS[holder]}'s`;
}

/** What to change when the waiter holding the port stores into another store than this one reads. */
function sameStore(holder: ListenerMode | "waiter"): string {
  return `give ${bothSettings(holder)} the same data directory, WAITER_DATA_DIR (dataDir), or the same database, WAITER_DATABASE_URL (database.url)`;
}

/**
 * What to say of the sources of this waiter's (`ours`) that the waiter holding the port does not
 * receive (`theirs`, in its /healthz), if any: it answers a delivery to one 404.
 */
function sourcesNotThere(
  ours: readonly string[],
  theirs: readonly string[] | undefined,
  holder: ListenerMode | "waiter",
): string | undefined {
  const missing = theirs ? ours.filter((name) => !theirs.includes(name)) : [];
  if (missing.length === 0) return undefined;
  const names = missing.map((name) => JSON.stringify(name)).join(" nor ");
  return `has no source ${names} of this waiter's, and refuses a delivery to ${missing.length === 1 ? "its URL" : "their URLs"} (404, unknown webhook source)${holder === "stdio" ? " until it stops" : ""}`;
}

/**
 * What to say of the sources the waiter holding the port receives (`theirs`) and this one has not
 * (`ours`), if any: its tools refuse such a name until a delivery of it is counted in the store.
 * `taken`: said as this waiter takes the port from that assistant's waiter, when a delivery to one
 * is refused from then on.
 */
function sourcesOnlyThere(
  ours: readonly string[],
  theirs: readonly string[] | undefined,
  holder: ListenerMode | "waiter",
  taken = false,
): string | undefined {
  const extra = theirs ? theirs.filter((name) => !ours.includes(name)) : [];
  if (extra.length === 0) return undefined;
  const names = extra.map((name) => JSON.stringify(name)).join(" and ");
  const one = extra.length === 1;
  if (taken) {
    return `the waiter that had it received ${names}, ${one ? "a source" : "sources"} this waiter has not: a delivery to ${one ? "its URL" : "their URLs"} is refused from now on (404, unknown webhook source): ${sameSources(holder)}`;
  }
  const taking =
    holder === "stdio" ? ", and once this waiter takes the port it refuses them (404, unknown webhook source)" : "";
  return `receives ${names}, ${one ? "a source" : "sources"} this waiter has not: this waiter's tools refuse ${one ? "its name until one of its deliveries arrives" : "their names until one of their deliveries arrives"}${taking}`;
}

/** What to change when the waiter holding the port and this one have not the same sources. */
function sameSources(holder: ListenerMode | "waiter"): string {
  return `give ${bothSettings(holder)} the same webhooks.sources (WAITER_WEBHOOKS_SOURCES)`;
}

/**
 * What to say where the sources of this waiter's (`ours`) and of the one holding the port
 * (`theirs`) differ: both ways in one line where they differ so, as the same sources mend both.
 */
function sourcesDiffer(
  ours: readonly string[],
  theirs: readonly string[] | undefined,
  holder: ListenerMode | "waiter",
): string | undefined {
  const differ = [sourcesNotThere(ours, theirs, holder), sourcesOnlyThere(ours, theirs, holder)].filter(Boolean);
  return differ.length === 0 ? undefined : `${differ.join(", and ")}: ${sameSources(holder)}`;
}

/**
 * Whether the waiter holding the port says (`theirs`, in its /healthz) that it stores into another
 * store than this waiter reads (`ours`). A waiter of a release that says no id is taken to share it.
 */
export function storesElsewhere(theirs: string | undefined, ours: string | undefined): boolean {
  return theirs !== undefined && ours !== undefined && theirs !== ours;
}

/** What this waiter's log says of a waiter holding the port at `where` that stores elsewhere (`storesElsewhere`). */
export function takenForAnotherStore(where: string, holder: ListenerMode | "waiter"): string {
  return `${where} is taken by ${WAITERS[holder]}, which stores the webhooks in another store than this waiter reads: none of them reaches this waiter's events; ${sameStore(holder)}`;
}

/**
 * What a waiter that does not listen can say of a listen address of port 0, which `setting` set;
 * PORT_0_LOGGED where the URLs are.
 */
export const port0 = (setting: string) =>
  `${setting} names port 0, for which the system gives each waiter that listens a port of its own: this waiter, which does not listen, cannot tell which, nor whether one listens`;
const PORT_0_LOGGED = 'The log of the waiter that listens names each URL ("source <name> (<scheme>): <URL>").';

/** What changed for a bind that failed with `code` to succeed: a port in use is free again. */
function nowBound(code: string | undefined): string {
  if (code === "EADDRINUSE") return "the port is free again";
  if (code === "EADDRNOTAVAIL") return "this machine has the address now";
  return `the bind that failed (${code ?? "an error"}) succeeds now`;
}

/**
 * Binds the webhook port for an assistant's stdio waiter (`take`), or leaves it to another process.
 * A port another assistant's waiter holds, or something that is no waiter, or that cannot be bound
 * for now, is tried again every `retryMs`: when that waiter's assistant quits, this one receives
 * the webhooks instead. A port waiter listen or serve holds is left to it for good: it comes
 * back after a restart, and must find its port free.
 */
export async function holdPort(parts: {
  listen: Listen;
  /** The setting that gave `listen`, as a message asking to change it names it. */
  setting: string;
  take: boolean;
  bind: () => Promise<RunningListener>;
  /** This waiter's sources' names, which a waiter holding the port may not receive. */
  sources: readonly string[];
  /** What to log once the port is bound at a URL: where each source posts. */
  sourceLines: (url: string) => string[];
  log: Log;
  retryMs: number;
  /** The id of the store this waiter reads, which a waiter holding the port says of its own in /healthz. */
  storeId: string | undefined;
}): Promise<PortHold> {
  const { listen, bind, log, retryMs } = parts;
  const elsewhere = (storeId: string | undefined) => storesElsewhere(storeId, parts.storeId);
  const where = shownAddress(listen);
  const every = `every ${retryMs / 1000} s`;
  let listener: RunningListener | undefined;
  let trying = parts.take;
  /** Why the last bind failed, when not for another process holding the port. */
  let failed: string | undefined;
  /** The error code of the last failed bind, which a later success is said against. */
  let failedCode: string | undefined;
  /** The sources of the assistant's waiter that held the port when last asked, which this one takes it from. */
  let holderSources: readonly string[] | undefined;
  /** What was last said of the port, so that a try again says only what changed. */
  let said: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let attempt: Promise<void> | undefined;
  let closed = false;

  const say = (key: string, write: () => void) => {
    if (key !== said) write();
    said = key;
  };

  async function tryBind(first: boolean): Promise<void> {
    try {
      listener = await bind();
      trying = false;
      const shown = shownListener(listen.host, listener.url);
      if (first) log.info(`receiving webhooks on ${shown}`);
      else {
        const taken = `receiving webhooks on ${shown} from now on: ${nowBound(failedCode)}`;
        const dropped = sourcesOnlyThere(parts.sources, holderSources, "stdio", true);
        if (dropped) log.warning(`${taken}; ${dropped}`);
        else log.notice(taken);
      }
      for (const line of parts.sourceLines(listener.url)) log.info(line);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      failedCode = code;
      if (code !== "EADDRINUSE") {
        failed = listenProblem(listen, err, parts.setting);
        say(failed, () =>
          log.warning(`${failed}; no webhook reaches the store through this waiter, which tries again ${every}`),
        );
      } else {
        failed = undefined;
        const { holder, storeId, sources, silent } = await portHolding(listen);
        holderSources = holder === "stdio" ? sources : undefined;
        const notThere =
          holder === "stranger" || holder === "nothing" ? undefined : sourcesDiffer(parts.sources, sources, holder);
        if (holder !== "stranger" && holder !== "nothing" && elsewhere(storeId)) {
          // A port waiter listen or serve holds is never tried again, as below.
          if (holder !== "stdio") trying = false;
          say(`${holder}\nanother store`, () =>
            log.warning(
              `${takenForAnotherStore(where, holder)}. This waiter ${holder === "stdio" ? `takes the port when that waiter stops (trying ${every})` : "leaves the port to it, restarts included"}`,
            ),
          );
        } else if (silent) {
          say("silent", () =>
            log.warning(
              `${where} is taken by something that ${SILENT_HOLDER}: whether webhooks reach this store cannot be told until it answers. This waiter asks again, and takes the port once it is free, trying ${every}`,
            ),
          );
        } else if (holder === "stranger") {
          say(holder, () =>
            log.warning(
              `${where} is taken by something that is not a waiter (its /healthz is not waiter's): no webhook reaches this store; free the port, or set ${parts.setting} to another. This waiter takes the port once it is free, trying ${every}`,
            ),
          );
        } else if (holder !== "nothing") {
          // Never tried again: a waiter listen or serve that restarts must find its port free.
          if (holder !== "stdio") trying = false;
          const leaving =
            holder === "stdio"
              ? `taking the port when that waiter stops (trying ${every})`
              : "leaving the port to it, restarts included";
          say(`${holder}\n${notThere}`, () =>
            notThere
              ? log.warning(
                  `${where} is taken by ${WAITERS[holder]}, which ${notThere}; serving the events it stores in the shared store, and ${leaving}`,
                )
              : log.notice(
                  `${where} is taken by ${WAITERS[holder]}; serving the events it stores in the shared store, and ${leaving}`,
                ),
          );
        }
      }
    }
    if (trying && !closed) {
      timer = setTimeout(() => {
        attempt = tryBind(false);
      }, retryMs);
      timer.unref();
    }
  }

  if (trying) await tryBind(true);

  return {
    get listener() {
      return listener;
    },
    async note() {
      if (listener) return undefined;
      if (failed)
        return `This waiter ${failed}. No delivery to these URLs is stored meanwhile; it tries again ${every}.`;
      // Port 0 asks nobody: each waiter that binds it is given a port of its own.
      if (listen.port === 0) return `${port0(parts.setting)}. ${PORT_0_LOGGED}`;
      const { holder, storeId, sources, silent } = await portHolding(listen);
      if (silent) {
        return `Something holds ${where} that ${SILENT_HOLDER}: whether deliveries to these URLs are stored here cannot be told until it answers; ask again in a moment.`;
      }
      if (holder === "nothing") {
        const refused = `Nothing listens on ${where}: a delivery to these URLs is refused, and a sender that does not retry (WooCommerce, GitHub) loses it.`;
        return `${refused} ${trying ? `This waiter takes the port within ${retryMs / 1000} s.` : "Start waiter listen (or serve), which receives them."}`;
      }
      if (holder === "stranger") {
        return `Something that is not a waiter holds ${where}: no delivery to these URLs is stored. Free the port, or set ${parts.setting} to another${trying ? "; this waiter takes the port once it is free" : ""}.`;
      }
      const taking = trying && holder === "stdio";
      if (elsewhere(storeId)) {
        return `These webhooks are received on ${where} by ${WAITERS[holder]}, which stores them in another store than this waiter reads: none of them shows here; ${sameStore(holder)}.${taking ? " This waiter takes the port when that one stops." : ""}`;
      }
      const notThere = sourcesDiffer(parts.sources, sources, holder);
      return `These webhooks are received on ${where} by ${WAITERS[holder]}, into the store this waiter reads${taking ? "; this waiter takes the port when that one stops" : ""}.${notThere ? ` That waiter ${notThere}.` : ""}`;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await attempt;
      return (await listener?.close()) ?? { cut: false };
    },
  };
}
