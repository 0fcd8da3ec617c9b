import dns from "node:dns";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { startWaiter } from "./memory.js";
import { text } from "./stdio.js";

/**
 * waiter on a laptop that travels: offline, on a Wi-Fi whose login page answers in every server's
 * place, on a network that drops what it does not let through. Names resolve as `names` says, in
 * this process, so nothing here asks this machine's DNS and no request reaches the internet.
 */
const lookup = dns.lookup;
/** What a name resolves to: an address, or the code its lookup fails with. */
let names: Record<string, string> = {};
const lookups: string[] = [];

beforeAll(() => {
  (dns as { lookup: unknown }).lookup = (hostname: string, ...rest: unknown[]) => {
    lookups.push(hostname);
    const answer = names[hostname] ?? "ENOTFOUND";
    if (/^[\d.]+$/.test(answer)) return (lookup as (...args: unknown[]) => void)(answer, ...rest);
    const failure = Object.assign(new Error(`getaddrinfo ${answer} ${hostname}`), {
      code: answer,
      syscall: "getaddrinfo",
      hostname,
    });
    const callback = rest.at(-1) as (err: Error) => void;
    process.nextTick(() => callback(failure));
  };
});

afterAll(() => {
  dns.lookup = lookup;
});

afterEach(() => {
  names = {};
  lookups.length = 0;
});

/** A currency tool's call, and how long it took. */
async function rates(env: Record<string, string> = {}): Promise<{ said: string; ms: number }> {
  const server = await startWaiter({ WAITER_TOOL_TIMEOUT: "20", ...env });
  try {
    const started = performance.now();
    const result = await server.call("currency_rates", { symbols: ["USD"] });
    expect(result.isError).toBe(true);
    return { said: text(result), ms: performance.now() - started };
  } finally {
    await server.close();
  }
}

test("offline, a public API waiter chose whose name does not resolve says this machine is offline, at once, naming no setting", async () => {
  // macOS and Windows, offline, answer every lookup so (EAI_NONAME, WSAHOST_NOT_FOUND).
  const offline = await rates();
  expect(offline.said).toBe(
    "Could not reach Frankfurter (ECB rates) (api.frankfurter.dev): its name does not resolve, so this machine is offline or its DNS is failing; try again once it is online, or if it lasts, check this machine's network and DNS settings.",
  );
  expect(offline.ms).toBeLessThan(1_000);
  expect(lookups).toEqual(["api.frankfurter.dev"]);

  const server = await startWaiter({ WAITER_WEATHER_PROVIDER: "open-meteo" });
  try {
    const weather = await server.call("weather_current", { latitude: 50.08, longitude: 14.44 });
    expect(text(weather)).toMatch(
      /^Could not reach Open-Meteo \(api\.open-meteo\.com\): its name does not resolve, so this machine is offline/,
    );
  } finally {
    await server.close();
  }

  // A URL someone set may hold a name no DNS knows.
  const set = await rates({ WAITER_FRANKFURTER_URL: "https://rates.example/v1" });
  expect(set.said).toBe(
    "Could not reach Frankfurter (ECB rates) (rates.example): its name does not resolve, as DNS knows no such host or this machine is offline; check WAITER_FRANKFURTER_URL, and this machine's network and DNS settings.",
  );
});

test("offline, a lookup that fails for now (Linux's resolver) and a network without a route are tried again for about a second, then said", async () => {
  names = { "api.frankfurter.dev": "EAI_AGAIN" };
  const lookupFailed = await rates();
  expect(lookupFailed.said).toBe(
    "Could not reach Frankfurter (ECB rates) (api.frankfurter.dev): looking up its name failed for now (a temporary DNS failure, or this machine is offline); try again later, or if it lasts, check this machine's network and DNS settings.",
  );
  expect(lookups).toHaveLength(4);
  expect(lookupFailed.ms).toBeLessThan(3_000);

  // Linux refuses a TCP connection to a multicast address as it does one without a route, at once.
  names = { "api.frankfurter.dev": "224.0.0.1" };
  const noRoute = await rates();
  expect(noRoute.said).toBe(
    "Could not reach Frankfurter (ECB rates) (api.frankfurter.dev): this machine has no route to it (its network is down or unreachable); try again later, or if it lasts, check this machine's network.",
  );
  expect(noRoute.ms).toBeLessThan(3_000);
});
