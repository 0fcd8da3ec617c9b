import dns from "node:dns";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { type AddressInfo, createServer as createNetServer, isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { PostgresEventStore } from "../src/events/postgres/store.js";
import { type FakeProxy, startProxy } from "./fakes/proxy.js";
import { CONSUMER_KEY, CONSUMER_SECRET, WOO_IDS } from "./fakes/woocommerce.js";
import { startWaiter } from "./memory.js";
import { startServer, text } from "./stdio.js";
import { LOOSE } from "./store-contract.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/**
 * waiter on a laptop that travels: offline, on a Wi-Fi whose login page answers in every server's
 * place, on a network that drops what it does not let through. Names resolve as `names` says, in
 * this process, so nothing here asks this machine's DNS and no request reaches the internet.
 */
const lookup = dns.lookup;
/** What a name resolves to: an address, its addresses in order, or the code its lookup fails with. */
let names: Record<string, string | string[]> = {};
const lookups: string[] = [];

beforeAll(() => {
  (dns as { lookup: unknown }).lookup = (hostname: string, ...rest: unknown[]) => {
    const pass = lookup as (...args: unknown[]) => void;
    // An address is its own answer: a server listening on 127.0.0.1 looks it up too.
    if (isIP(hostname)) return pass(hostname, ...rest);
    lookups.push(hostname);
    const answer = names[hostname] ?? "ENOTFOUND";
    if (Array.isArray(answer)) {
      // Several addresses, as Node asks for them to try each in turn (autoSelectFamily): all of them.
      const [options, callback] = rest as [{ all?: boolean }, (err: null, ...found: unknown[]) => void];
      const found = answer.map((address) => ({ address, family: isIP(address) }));
      return process.nextTick(() =>
        options.all ? callback(null, found) : callback(null, found[0]?.address, found[0]?.family),
      );
    }
    if (isIP(answer)) return pass(answer, ...rest);
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
  const waiter = await startWaiter({ WAITER_TOOL_TIMEOUT: "20" });
  // At once: answered while waiter's timers stand still, so after no pause to try again, however busy the machine.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const offline = await waiter.call("currency_rates", { symbols: ["USD"] });
    expect(offline.isError).toBe(true);
    expect(text(offline)).toBe(
      "Could not reach Frankfurter (ECB rates) (api.frankfurter.dev): its name does not resolve, so this machine is offline or its DNS is failing; try again once it is online, or if it lasts, check this machine's network and DNS settings.",
    );
  } finally {
    vi.useRealTimers();
    await waiter.close();
  }
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

test("a name with an IPv6 and an IPv4 address, refused at the one after failing at the other, is tried again and said as refused", async () => {
  // localhost where IPv6 is off has ::1 all the same, which fails before it is tried (EADDRNOTAVAIL);
  // here, a link-local address without its zone fails so (EINVAL). Nothing listens at the port.
  const closed = createNetServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  names = { localhost: ["fe80::1", "127.0.0.1"] };
  const refused = await rates({ WAITER_FRANKFURTER_URL: `http://localhost:${port}/v1` });
  expect(refused.said).toBe(
    `Could not reach Frankfurter (ECB rates) (localhost:${port}): the connection was refused, as nothing listens there; try again later, or if it lasts, check the port in WAITER_FRANKFURTER_URL.`,
  );
  // Refused, it is tried again, as at a name with one address.
  expect(lookups).toHaveLength(4);
});

test("a name none of whose addresses this machine can connect to says why at each, not nothing", async () => {
  // Node's error for every address says nothing itself: each address's does.
  names = { "rates.example": ["fe80::1", "fe80::2"] };
  const unusable = await rates({ WAITER_FRANKFURTER_URL: "https://rates.example/v1" });
  expect(unusable.said).toMatch(
    /^Could not reach Frankfurter \(ECB rates\) \(rates\.example\) \(connect E\w+ fe80::1:443[^;]*; connect E\w+ fe80::2:443.*\); the service or the network is down, try again later\.$/,
  );
});

test("a database none of whose addresses this machine can connect to says why at each, not nothing", async () => {
  names = { "db.example": ["fe80::1", "fe80::2"] };
  const opening = PostgresEventStore.open({ url: "postgres://waiter@db.example:5432/waiter", retention: LOOSE });
  await expect(opening).rejects.toThrow(/^connect E\w+ fe80::1:5432[^;]*; connect E\w+ fe80::2:5432/);
  // Refused at the one after failing at the other: each says why, and the refusal what to check.
  const closed = createNetServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  names = { "db.example": ["fe80::1", "127.0.0.1"] };
  const refused = PostgresEventStore.open({ url: `postgres://waiter@db.example:${port}/waiter`, retention: LOOSE });
  await expect(refused).rejects.toThrow(
    new RegExp(
      `^connect E\\w+ fe80::1:${port}[^;]*; connect ECONNREFUSED 127\\.0\\.0\\.1:${port}: the connection was refused, as nothing listens there: start the server, or set WAITER_DATABASE_URL to its address and port, then start waiter again$`,
    ),
  );
});

test("a database that cannot be reached as waiter starts says to start waiter again, which does not try it again itself", async () => {
  const open = (host: string) =>
    PostgresEventStore.open({ url: `postgres://waiter@${host}:5432/waiter`, retention: LOOSE });
  names = { "db.example": "EAI_AGAIN" };
  await expect(open("db.example")).rejects.toThrow(
    "getaddrinfo EAI_AGAIN db.example: looking up its name failed for now (a temporary DNS failure, or this machine is offline); start waiter again in a moment, or if it lasts, check this machine's network and DNS settings",
  );
  names = {};
  await expect(open("db.example")).rejects.toThrow(
    "getaddrinfo ENOTFOUND db.example: its name does not resolve, as DNS knows no such host or this machine is offline; check WAITER_DATABASE_URL, and this machine's network and DNS settings, then start waiter again",
  );
});

test("a database address whose listener closes every connection at once says what to check", async () => {
  // As a container's published port does while its server is down, or another service on the port.
  const closing = createNetServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => closing.listen(0, "127.0.0.1", resolve));
  const { port } = closing.address() as AddressInfo;
  try {
    await expect(
      PostgresEventStore.open({ url: `postgres://waiter@127.0.0.1:${port}/waiter`, retention: LOOSE }),
    ).rejects.toThrow(
      "Connection terminated unexpectedly: what listens at that address and port closed the connection before a database server answered: check that a PostgreSQL server runs there (not another service, nor a container's published port whose server is not up), that WAITER_DATABASE_URL names its address and port, then start waiter again",
    );
  } finally {
    await new Promise((resolve) => closing.close(resolve));
  }
});

describe("a network that answers in every server's place", () => {
  let proxy: FakeProxy;
  /** A Wi-Fi's login page over https, its certificate for shop.example, signed by itself. */
  let portal: Server;

  beforeAll(async () => {
    portal = createServer(
      { key: readFileSync(fixture("shop-tls.key")), cert: readFileSync(fixture("shop-tls.crt")) },
      (_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>Sign in to Hotel Wi-Fi</html>"),
    );
    await new Promise<void>((resolve) => portal.listen(0, "127.0.0.1", resolve));
    proxy = await startProxy();
    proxy.portal = (portal.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all([proxy?.close(), new Promise((resolve) => portal?.close(resolve))]);
  });

  /** What the ECB's rates and a shop's order say, with the network between waiter and them answering itself. */
  async function answers(
    env: Record<string, string> = {},
  ): Promise<{ rates: string; order: string; ratesAsked: number }> {
    // Every request goes through the proxy, which tunnels it to the login page, as a Wi-Fi that
    // answers in every server's place, or a proxy that inspects TLS, does.
    const server = await startServer({
      HTTPS_PROXY: proxy.origin,
      WAITER_WOO_URL: "https://www.shop.example",
      WAITER_WOO_KEY: CONSUMER_KEY,
      WAITER_WOO_SECRET: CONSUMER_SECRET,
      ...env,
    });
    try {
      proxy.seen.length = 0;
      const rates = await server.call("currency_rates", { symbols: ["USD"] });
      const ratesAsked = proxy.seen.filter((seen) => seen.line.startsWith("CONNECT api.frankfurter.dev:")).length;
      const order = await server.call("eshop_order_get", { id: WOO_IDS.orders.pending1999 });
      expect([rates.isError, order.isError]).toEqual([true, true]);
      return { rates: text(rates), order: text(order), ratesAsked };
    } finally {
      await server.close();
    }
  }

  test("a certificate no authority vouches for says, for a public API, to sign in to the Wi-Fi or to trust the inspecting proxy's authority", async () => {
    const { rates, order, ratesAsked } = await answers();
    expect(rates).toBe(
      "Could not reach Frankfurter (ECB rates) (api.frankfurter.dev) securely: its certificate is not trusted (self-signed certificate), so another server answers in its place: on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again; behind a proxy or antivirus that inspects TLS, give its authority's certificate to waiter in NODE_EXTRA_CA_CERTS (a PEM file's path).",
    );
    // Not tried again: a retry would meet the same certificate.
    expect(ratesAsked).toBe(1);
    // A shop's own server may have a private authority's certificate.
    expect(order).toBe(
      "Could not reach WooCommerce (www.shop.example) securely: its certificate is not trusted (self-signed certificate); if a private authority signed it, or a proxy or antivirus that inspects TLS stands in between, give that authority's certificate to waiter in NODE_EXTRA_CA_CERTS (a PEM file's path); or, on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again.",
    );
  });

  test("a certificate for another name names it, and says, for a public API, to sign in to the Wi-Fi, for a shop also to check its URL", async () => {
    const { rates, order } = await answers({ NODE_EXTRA_CA_CERTS: fixture("shop-tls.crt") });
    expect(rates).toBe(
      "Could not reach Frankfurter (ECB rates) (api.frankfurter.dev) securely: its certificate is for shop.example, not api.frankfurter.dev, so another server answers in its place: on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again; if it lasts, check this machine's network.",
    );
    expect(order).toBe(
      "Could not reach WooCommerce (www.shop.example) securely: its certificate is for shop.example, not www.shop.example; check WAITER_WOO_URL, or, on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again.",
    );
  });
});
