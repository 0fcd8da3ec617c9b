import { mkdtempSync, readFileSync } from "node:fs";
import { type AddressInfo, connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { fileURLToPath } from "node:url";
import { EnvHttpProxyAgent, request } from "undici";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { startServe } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { ConfigError } from "../src/errors.js";
import { type Call, HttpClient } from "../src/http/client.js";
import { proxyFrom, sentDirectly } from "../src/http/proxy.js";
import { Log } from "../src/log.js";
import { clock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { oauthVerifier } from "../src/transports/oauth.js";
import { json, startFake } from "./fakes/http.js";
import { type FakeProxy, startProxy } from "./fakes/proxy.js";
import { CONSUMER_KEY, CONSUMER_SECRET, startWooCommerce, WOO_IDS, type WooCommerceFake } from "./fakes/woocommerce.js";
import { startWaiter } from "./memory.js";
import { localhostCertificate } from "./nginx.js";
import { startServer, text } from "./stdio.js";

const ORDER = WOO_IDS.orders.pending1999;
const PASSWORD = "s3cret-proxy-pass";
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let woo: WooCommerceFake;
let proxy: FakeProxy;
/** The shop over https at a name that is not loopback (shop.example), its certificate signed by itself. */
let tls: TlsServer;
let shopUrl: string;

beforeAll(async () => {
  [woo, proxy] = await Promise.all([startWooCommerce(), startProxy()]);
  const wooPort = Number(new URL(woo.origin).port);
  tls = createTlsServer(
    { key: readFileSync(fixture("shop-tls.key")), cert: readFileSync(fixture("shop-tls.crt")) },
    (socket) => {
      const shop = connect(wooPort, "127.0.0.1");
      socket.on("error", () => shop.destroy());
      shop.on("error", () => socket.destroy());
      socket.pipe(shop).pipe(socket);
    },
  );
  await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
  shopUrl = `https://shop.example:${(tls.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([woo?.close(), proxy?.close(), new Promise((resolve) => tls?.close(resolve))]);
});

beforeEach(() => {
  proxy.seen.length = 0;
  proxy.credentials = undefined;
  proxy.challenges = undefined;
  proxy.refuse = undefined;
  proxy.refuseNext = [];
  proxy.hold = false;
  proxy.slowMs = 0;
  proxy.portal = undefined;
});

const shop = (url: string, env: Record<string, string> = {}) => ({
  WAITER_WOO_URL: url,
  WAITER_WOO_KEY: CONSUMER_KEY,
  WAITER_WOO_SECRET: CONSUMER_SECRET,
  WAITER_TOOL_TIMEOUT: "5",
  WAITER_LOG_LEVEL: "info",
  ...env,
});

test("a shop on loopback is reached directly, whatever the proxy variables say, and the log names the proxy without its password", async () => {
  const proxyUrl = `http://waiter:${PASSWORD}@${new URL(proxy.origin).host}`;
  const server = await startWaiter(shop(woo.origin, { HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl }));
  try {
    const result = await server.call("eshop_order_get", { id: ORDER });
    expect(result.isError).toBeFalsy();
    expect(proxy.seen).toEqual([]);
    expect(server.stderr()).toContain(
      `upstream requests go through the proxy ${proxy.origin} (HTTPS_PROXY), but to loopback addresses\n`,
    );
    expect(server.stderr()).not.toContain(PASSWORD);
  } finally {
    await server.close();
  }
});

test("a shop elsewhere is reached through the proxy, with the credentials its URL holds, which no output shows", async () => {
  proxy.credentials = `waiter:${PASSWORD}`;
  const server = await startServer(
    shop(shopUrl, {
      HTTPS_PROXY: `http://waiter:${PASSWORD}@${new URL(proxy.origin).host}`,
      NO_PROXY: "erp.example,.internal.example",
      NODE_EXTRA_CA_CERTS: fixture("shop-tls.crt"),
    }),
  );
  try {
    const result = await server.call("eshop_order_get", { id: ORDER });
    expect(text(result)).toContain(String(ORDER));
    expect(result.isError).toBeFalsy();
    expect(proxy.seen.length).toBeGreaterThan(0);
    for (const seen of proxy.seen) {
      expect(seen).toEqual({
        line: `CONNECT ${new URL(shopUrl).host}`,
        authorization: `Basic ${Buffer.from(`waiter:${PASSWORD}`).toString("base64")}`,
      });
    }
    expect(server.stderr()).toContain(
      `upstream requests go through the proxy ${proxy.origin} (HTTPS_PROXY), but to loopback addresses and the hosts NO_PROXY names (erp.example,.internal.example)\n`,
    );
    expect(server.stderr() + JSON.stringify(result)).not.toContain(PASSWORD);
  } finally {
    await server.close();
  }
});

test("a proxy over https named by its address brings no warning of Node's to the log: the TLS name is undici's to give", async () => {
  // The fake proxy behind TLS, at 127.0.0.1: undici names the proxy's host as the TLS server name,
  // an address too, which Node warns of (DEP0123) as a deprecation the operator cannot act on.
  const front = createTlsServer(
    { key: readFileSync(fixture("shop-tls.key")), cert: readFileSync(fixture("shop-tls.crt")) },
    (socket) => {
      const plain = connect(Number(new URL(proxy.origin).port), "127.0.0.1");
      socket.on("error", () => plain.destroy());
      plain.on("error", () => socket.destroy());
      socket.pipe(plain).pipe(socket);
    },
  );
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  const server = await startServer(
    shop(shopUrl, { HTTPS_PROXY: `https://127.0.0.1:${(front.address() as AddressInfo).port}` }),
  );
  try {
    // Its certificate names shop.example, not the address: the call fails on it, after the warning would come.
    expect((await server.call("eshop_order_get", { id: ORDER })).isError).toBe(true);
    expect(server.stderr()).not.toMatch(/TLS ServerName|RFC 6066/);
  } finally {
    await server.close();
    await new Promise((resolve) => front.close(resolve));
  }
});

test("a proxy over https that asks for a client certificate says so, as a shop that asks for one does", async () => {
  // The fake proxy behind TLS 1.3 that takes only a client with a certificate: it refuses waiter's,
  // which sends none, once waiter's side of the handshake is done and its CONNECT sent.
  const { cert, key } = localhostCertificate();
  let connections = 0;
  const front = createTlsServer(
    {
      key: readFileSync(key),
      cert: readFileSync(cert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => socket.destroy(),
  );
  front.on("connection", () => connections++);
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  const proxyUrl = `https://localhost:${(front.address() as AddressInfo).port}`;
  const server = await startServer(shop(shopUrl, { HTTPS_PROXY: proxyUrl, NODE_EXTRA_CA_CERTS: cert }));
  try {
    expect(text(await server.call("eshop_order_get", { id: ORDER }))).toBe(
      `Could not reach WooCommerce (${new URL(shopUrl).host}) through the proxy ${proxyUrl} (HTTPS_PROXY) securely: it asks for a client certificate (tlsv13 alert certificate required), which waiter does not send; ask whoever runs it to take waiter's requests without one, as it lasts until they do.`,
    );
    // The order and its notes, each tried once: no retry passes the refusal.
    expect(connections).toBe(2);
  } finally {
    await server.close();
    await new Promise((resolve) => front.close(resolve));
  }
});

test("a certificate no authority vouches for, with NODE_EXTRA_CA_CERTS already set, says the file does not hold that authority's, not to set it", async () => {
  const given = fixture("smtp-tls.crt");
  const server = await startServer(shop(shopUrl, { HTTPS_PROXY: proxy.origin, NODE_EXTRA_CA_CERTS: given }));
  try {
    const result = await server.call("eshop_order_get", { id: ORDER });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(
      `Could not reach WooCommerce (${new URL(shopUrl).host}) securely: its certificate is not trusted (self-signed certificate); if a private authority signed it, or a proxy or antivirus that inspects TLS stands in between, that authority's certificate is not among those in NODE_EXTRA_CA_CERTS (${given}): add it to that file, in PEM, and start waiter again (Node.js reads the file only as it starts, and says on stderr if it cannot)`,
    );
  } finally {
    await server.close();
  }
});

test("NO_PROXY's entries that match no host, as a Windows bypass list writes them, are named in a warning at start", async () => {
  const server = await startServer(
    shop(shopUrl, { HTTPS_PROXY: proxy.origin, NO_PROXY: "192.168.*,<local>, *.corp.example,10.0.0.0/8,erp*,*" }),
  );
  try {
    expect(server.stderr()).toContain(
      "warning [waiter] NO_PROXY's 192.168.*, <local>, erp* and * match no host, so the hosts meant go through the proxy: a * is read alone, as all of NO_PROXY, for every host, or at a name's start (*.corp.example); an address range is written as 192.168.0.0/16\n",
    );
  } finally {
    await server.close();
  }
  const matched = await startServer(shop(shopUrl, { HTTPS_PROXY: proxy.origin, NO_PROXY: "*" }));
  try {
    expect(matched.stderr()).not.toContain("match no host");
  } finally {
    await matched.close();
  }
});

test("a shop NO_PROXY names is reached directly", async () => {
  const server = await startServer(
    shop(shopUrl, {
      https_proxy: proxy.origin,
      no_proxy: "localhost,.example",
      NODE_EXTRA_CA_CERTS: fixture("shop-tls.crt"),
    }),
    [],
    ["--import", fixture("example-names.mjs")],
  );
  try {
    const result = await server.call("eshop_order_get", { id: ORDER });
    expect(result.isError).toBeFalsy();
    expect(proxy.seen).toEqual([]);
  } finally {
    await server.close();
  }
});

test("a shop that asks for a client certificate says so through the proxy, and for a host NO_PROXY names", async () => {
  let connections = 0;
  const mutual = createTlsServer({
    key: readFileSync(fixture("shop-tls.key")),
    cert: readFileSync(fixture("shop-tls.crt")),
    requestCert: true,
    rejectUnauthorized: true,
  });
  mutual.on("connection", () => connections++);
  await new Promise<void>((resolve) => mutual.listen(0, "127.0.0.1", resolve));
  const url = `https://shop.example:${(mutual.address() as AddressInfo).port}`;
  const said = `Could not reach WooCommerce (${new URL(url).host}) securely: it asks for a client certificate (tlsv13 alert certificate required), which waiter does not send; ask whoever runs it to take waiter's requests without one, as it lasts until they do.`;
  const through = await startServer(
    shop(url, { HTTPS_PROXY: proxy.origin, NODE_EXTRA_CA_CERTS: fixture("shop-tls.crt") }),
  );
  const direct = await startServer(
    shop(url, { HTTPS_PROXY: proxy.origin, NO_PROXY: ".example", NODE_EXTRA_CA_CERTS: fixture("shop-tls.crt") }),
    [],
    ["--import", fixture("example-names.mjs")],
  );
  try {
    expect(text(await through.call("eshop_order_get", { id: ORDER }))).toBe(said);
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(text(await direct.call("eshop_order_get", { id: ORDER }))).toBe(said);
    // The order and its notes, each asked once by each server: no retry passes the refusal.
    expect(connections).toBe(4);
  } finally {
    await Promise.all([through.close(), direct.close()]);
    mutual.close();
  }
});

test("an IPv6 address NO_PROXY names is reached directly, written as curl takes it, without brackets, or with them", async () => {
  // The unspecified address mapped into IPv6, which Linux connects to this machine and waiter does
  // not take for loopback, stands for a host on the company's network that only an address names.
  const erp = await startFake(() => json(200, "{}"));
  const at = `http://[::ffff:0.0.0.0]:${new URL(erp.origin).port}/`;
  try {
    for (const noProxy of [
      "::ffff:0:0",
      "::ffff:0.0.0.0",
      "[::ffff:0.0.0.0]",
      `.corp.example,[::ffff:0:0]:${new URL(erp.origin).port}`,
    ]) {
      const http = new HttpClient({
        userAgent: "waiter-test/0",
        maxResponseBytes: 1 << 20,
        maxRetries: 0,
        proxy: proxyFrom({ HTTPS_PROXY: proxy.origin, NO_PROXY: noProxy }),
      });
      try {
        const call = { signal: new AbortController().signal, deadline: clock.now() + 3_000 };
        const answer = await http
          .upstream("ERP", new URL(at))
          .send("/stock", {}, call)
          .catch((err: Error) => err.message);
        expect([noProxy, typeof answer === "string" ? answer : answer.status]).toEqual([noProxy, 200]);
        expect(proxy.seen).toEqual([]);
      } finally {
        await http.close();
      }
    }
  } finally {
    await erp.close();
  }
});

test("the hosts NO_PROXY names are those undici's own proxy agent sends without the proxy", async () => {
  // undici's decision, made on loopback: its direct connection is refused here before it opens, the
  // proxy refuses every CONNECT.
  proxy.refuse = 403;
  const urls = [
    "https://corp.example/",
    "https://erp.corp.example/",
    "https://erp.corp.example:8443/",
    "http://erp.corp.example:8443/",
    "https://notcorp.example/",
    "https://corp.example.org/",
    "https://10.0.0.5/",
    "https://10.0.0.50/",
    "https://[fd00::5]/",
    "https://[fd00::5]:8443/",
  ];
  const lists = [
    "",
    "*",
    "corp.example",
    ".corp.example",
    "*.corp.example",
    "ERP.Corp.Example:8443",
    "erp.corp.example:443",
    "other.example notcorp.example",
    "10.0.0.5,[fd00::5]:8443",
  ];
  for (const noProxy of lists) {
    const agent = new EnvHttpProxyAgent({
      httpProxy: proxy.origin,
      httpsProxy: proxy.origin,
      noProxy,
      connect: (_options, callback) => callback(new Error("direct"), null),
    });
    const directly = sentDirectly(noProxy);
    try {
      for (const url of urls) {
        const undiciSent = await request(url, { dispatcher: agent }).then(
          () => "answered",
          (err: Error) => (err.message === "direct" ? "directly" : "through the proxy"),
        );
        const waiterSends = directly(new URL(url)) ? "directly" : "through the proxy";
        expect({ noProxy, url, sent: waiterSends }).toEqual({ noProxy, url, sent: undiciSent });
      }
    } finally {
      await agent.close();
    }
  }
});

test("an address range NO_PROXY names in CIDR form takes the addresses in it, not a host named, whose name is not resolved", async () => {
  // As above, the unspecified address mapped into IPv6 stands for a host on the company's network.
  const erp = await startFake(() => json(200, "{}"));
  const port = new URL(erp.origin).port;
  proxy.portal = Number(port);
  const read = async (at: string, noProxy: string) => {
    const http = new HttpClient({
      userAgent: "waiter-test/0",
      maxResponseBytes: 1 << 20,
      maxRetries: 0,
      proxy: proxyFrom({ HTTPS_PROXY: proxy.origin, NO_PROXY: noProxy }),
    });
    proxy.seen.length = 0;
    try {
      const call = { signal: new AbortController().signal, deadline: clock.now() + 3_000 };
      const answer = await http.upstream("ERP", new URL(at)).send("/stock", {}, call);
      return { noProxy, status: answer.status, proxied: proxy.seen.map((seen) => seen.line) };
    } finally {
      await http.close();
    }
  };
  const mapped = `http://[::ffff:0.0.0.0]:${port}/`;
  try {
    for (const noProxy of ["0.0.0.0/8", ".corp.example, ::ffff:0.0.0.0/104", "::ffff:0:0/96"]) {
      expect(await read(mapped, noProxy)).toEqual({ noProxy, status: 200, proxied: [] });
    }
    // Out of the range, through the proxy (tunnelled to the same fake, as a network's route would).
    expect(await read(mapped, "10.0.0.0/8,fd00::/8")).toEqual({
      noProxy: "10.0.0.0/8,fd00::/8",
      status: 200,
      proxied: [`CONNECT [::ffff:0:0]:${port}`],
    });
    // A host by its name is matched by name only: the proxy is the one to resolve it.
    expect(await read(`http://erp.example:${port}/`, "127.0.0.0/8")).toEqual({
      noProxy: "127.0.0.0/8",
      status: 200,
      proxied: [`CONNECT erp.example:${port}`],
    });
  } finally {
    await erp.close();
  }
});

/** The failure of one order's read through the proxy at `proxyUrl`, as the tool words it. */
async function failureThrough(proxyUrl: string, variable = "HTTPS_PROXY"): Promise<string> {
  const server = await startWaiter(shop("https://shop.example", { [variable]: proxyUrl }));
  try {
    const result = await server.call("eshop_order_get", { id: ORDER });
    expect(result.isError).toBe(true);
    return text(result);
  } finally {
    await server.close();
  }
}

test("a proxy that asks for credentials says where they go, or that it refused those given, never showing them", async () => {
  proxy.credentials = `waiter:${PASSWORD}`;
  expect(await failureThrough(proxy.origin)).toContain(
    `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (HTTPS_PROXY): it asks for credentials (407 Proxy Authentication Required); put its user and password in HTTPS_PROXY, as http://user:password@proxy.example:3128.`,
  );
  const wrong = await failureThrough(`http://waiter:wrong-${PASSWORD}@${new URL(proxy.origin).host}`, "http_proxy");
  expect(wrong).toContain(
    `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (http_proxy): it asks for credentials (407 Proxy Authentication Required); it refused the user and password in http_proxy; check them there.`,
  );
  expect(wrong).not.toContain(PASSWORD);
});

test("a proxy that takes no Basic credentials, only a Windows domain's sign-in, says so, not that the password is wrong", async () => {
  // No Basic credentials pass: the proxy takes none.
  proxy.credentials = "nobody:nothing";
  proxy.challenges = ["Negotiate", "NTLM"];
  const through = `http://waiter:${PASSWORD}@${new URL(proxy.origin).host}`;
  const said = `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (HTTPS_PROXY): it asks for credentials (407 Proxy Authentication Required) by Negotiate or NTLM, which waiter cannot give: it sends a user and password as Basic only. Ask whoever runs the proxy to let waiter through without them, or to take Basic credentials; or go through a proxy on this machine that signs in for it (as Cntlm or Px do).`;
  expect(await failureThrough(through)).toContain(said);
  expect(await failureThrough(proxy.origin)).toContain(said);
});

test("a proxy that refuses the CONNECT, or cannot reach the shop, says so as the proxy's answer", async () => {
  proxy.refuse = 403;
  expect(await failureThrough(proxy.origin)).toContain(
    `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (HTTPS_PROXY): it answered 403 to waiter's CONNECT, as its rules may not let waiter reach that host; ask whoever runs the proxy.`,
  );
  proxy.refuse = 502;
  expect(await failureThrough(proxy.origin)).toContain(
    `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (HTTPS_PROXY): it answered 502 to waiter's CONNECT, as it could not reach the service: the service or the network beyond the proxy is down, try again later.`,
  );
});

test("a server that does not tunnel, at the port of a web page rather than the proxy's, is said as maybe no proxy, and not tried again", async () => {
  // As many CONNECTs as the tool's requests, each once: a 501 is no more tried again than a 400.
  const tunnels = new Set<number>();
  for (const status of [400, 405, 501]) {
    proxy.refuse = status;
    proxy.seen.length = 0;
    expect(await failureThrough(proxy.origin)).toContain(
      `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (HTTPS_PROXY): it answered ${status} to waiter's CONNECT, not the 200 of a proxy that tunnels: the host and port in HTTPS_PROXY may name another server than the proxy; check them, or ask whoever runs the proxy.`,
    );
    tunnels.add(proxy.seen.length);
  }
  expect(tunnels.size).toBe(1);
});

test("a 5xx to the CONNECT is tried again within the call, a change's too, as it never reached the service; a 407 is not", async () => {
  // Tunnelled to a fake on this machine, as the proxy reaches a host on the company's network; the
  // unspecified address mapped into IPv6 is not loopback to waiter, so the requests go through the proxy.
  const erp = await startFake((request) => json(request.method === "POST" ? 201 : 200, '{"ok":true}'));
  proxy.portal = Number(new URL(erp.origin).port);
  const clients: HttpClient[] = [];
  /**
   * A client of its own for each request, so that each opens its own tunnel; its call of 3 s is shorter
   * than a tunnel may take to open (three times 5.5 s), yet has time for another as quick as the first.
   */
  const send = (options: { method?: "POST"; body?: string }) => {
    const http = new HttpClient({
      userAgent: "waiter-test/0",
      maxResponseBytes: 1 << 20,
      minRetryDelayMs: 10,
      maxRetryDelayMs: 20,
      proxy: proxyFrom({ HTTPS_PROXY: proxy.origin }),
    });
    clients.push(http);
    const call = { signal: new AbortController().signal, deadline: clock.now() + 3_000 };
    return http.upstream("ERP", new URL(`http://[::ffff:0.0.0.0]:${proxy.portal}/`)).send("/orders", options, call);
  };
  try {
    proxy.refuseNext = [502, 504];
    expect((await send({})).status).toBe(200);
    expect(proxy.seen.length).toBe(3);

    proxy.seen.length = 0;
    proxy.refuseNext = [503];
    expect((await send({ method: "POST", body: "{}" })).status).toBe(201);
    expect(proxy.seen.length).toBe(2);
    expect(erp.requests.map((request) => request.method)).toEqual(["GET", "POST"]);

    proxy.seen.length = 0;
    proxy.credentials = `waiter:${PASSWORD}`;
    const refused = await send({}).catch((err: Error) => err.message);
    expect(refused).toContain("it asks for credentials (407 Proxy Authentication Required)");
    expect(proxy.seen.length).toBe(1);
  } finally {
    await Promise.all(clients.map((http) => http.close()));
    await erp.close();
  }
});

test("a connection through a proxy that did not open is not tried again without time for the CONNECT and the handshake: it could not connect", async () => {
  // The proxy answers the CONNECT at once and the shop never completes its TLS handshake: the try
  // ends at the 2 s connect timeout (undici's clock may add half a second), leaving over 5 s of the
  // call however slowly a loaded machine went: room for a connection that opens in one step, not for
  // one through the proxy, which opens in three (7.5 s). Tried again, the shop would be said not
  // reached wherever a slow proxy left the try cut by the deadline.
  const silent = createNetServer((socket) => socket.on("error", () => {}));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const http = new HttpClient({
    userAgent: "waiter-test/0",
    maxResponseBytes: 1 << 20,
    connectTimeoutMs: 2_000,
    minRetryDelayMs: 10,
    maxRetryDelayMs: 20,
    proxy: proxyFrom({ HTTPS_PROXY: proxy.origin }),
  });
  try {
    const host = `shop.example:${(silent.address() as AddressInfo).port}`;
    const call = { signal: new AbortController().signal, deadline: clock.now() + 8_000 };
    const failed = await http
      .upstream("WooCommerce", new URL(`https://${host}`))
      .json(z.unknown(), "/orders", {}, call)
      .catch((err: Error) => err.message);
    expect(failed).toBe(
      `Could not connect to WooCommerce (${host}) within 2 s; the service or the network is down, try again later.`,
    );
    expect(proxy.seen).toHaveLength(1);
  } finally {
    await http.close();
    silent.close();
  }
});

test("a 5xx from a slow proxy to the CONNECT is not tried again without time for the next CONNECT: it is told as the proxy's", async () => {
  // The proxy answers each CONNECT 502 after 1.5 s, as one that spent that long failing to reach the
  // shop: a try again cut by the deadline would say the shop was not reached before it.
  proxy.slowMs = 1_500;
  proxy.refuse = 502;
  const http = new HttpClient({
    userAgent: "waiter-test/0",
    maxResponseBytes: 1 << 20,
    connectTimeoutMs: 3_000,
    minRetryDelayMs: 10,
    maxRetryDelayMs: 20,
    proxy: proxyFrom({ HTTPS_PROXY: proxy.origin }),
  });
  try {
    const call = { signal: new AbortController().signal, deadline: clock.now() + 2_500 };
    const failed = await http
      .upstream("WooCommerce", new URL("https://shop.example"))
      .send("/orders", {}, call)
      .catch((err: Error) => err.message);
    expect(failed).toBe(
      `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (HTTPS_PROXY): it answered 502 to waiter's CONNECT, as it could not reach the service: the service or the network beyond the proxy is down, try again later.`,
    );
    expect(proxy.seen.length).toBe(1);
  } finally {
    await http.close();
  }
});

test("a connection that did not open to a host NO_PROXY names is tried again while a direct one fits, as it never meets the proxy", async () => {
  // The unspecified address mapped into IPv6 stands for a host on the company's network, as above,
  // whose TLS handshake never completes: each try spends its 1 s to open, up to half a second late.
  const silent = createNetServer((socket) => socket.on("error", () => {}));
  let connections = 0;
  silent.on("connection", () => connections++);
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const host = `[::ffff:0:0]:${(silent.address() as AddressInfo).port}`;
  const http = new HttpClient({
    userAgent: "waiter-test/0",
    maxResponseBytes: 1 << 20,
    connectTimeoutMs: 1_000,
    minRetryDelayMs: 10,
    maxRetryDelayMs: 20,
    proxy: proxyFrom({ HTTPS_PROXY: proxy.origin, NO_PROXY: ".corp.example,::ffff:0.0.0.0" }),
  });
  try {
    // Time for a direct try again (1.5 s), not for one through the proxy (three times that).
    const call = { signal: new AbortController().signal, deadline: clock.now() + 5_000 };
    const failed = await http
      .upstream("ERP", new URL(`https://${host}`))
      .send("/stock", {}, call)
      .catch((err: Error) => err.message);
    expect(failed).toBe(
      `Could not connect to ERP (${host}) within 1 s; the service or the network is down, try again later.`,
    );
    expect(connections).toBeGreaterThan(1);
    expect(proxy.seen).toEqual([]);
  } finally {
    await http.close();
    silent.close();
  }
});

test("an automation's step through a proxy that asks for credentials, or whose rules refuse the shop, fails its run at once, not waiting it out", async () => {
  const lines: string[] = [];
  const automation = {
    name: "read-order",
    when: { source: "trial" },
    do: [{ tool: "eshop_order_get", args: { id: ORDER } }],
  };
  const config = loadConfig(
    {
      env: shop("https://shop.example", {
        HTTPS_PROXY: proxy.origin,
        WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-proxy-")),
        WAITER_LISTEN: "127.0.0.1:0",
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ trial: { scheme: "none", allowUnsigned: true } }),
        WAITER_AUTOMATIONS: JSON.stringify([automation]),
        WAITER_AUTOMATION_RETRY_SECONDS: "60",
      }),
    },
    toolsets(),
  );
  const server = await startServe(config, new Log("info", (line) => lines.push(line)));
  try {
    for (const [refusal, said] of [
      [() => (proxy.credentials = `waiter:${PASSWORD}`), "it asks for credentials (407 Proxy Authentication Required)"],
      [() => (proxy.refuse = 403), "it answered 403 to waiter's CONNECT"],
    ] as const) {
      proxy.credentials = undefined;
      proxy.refuse = undefined;
      refusal();
      const delivered = await fetch(`${server.url}/webhooks/trial`, { method: "POST", body: JSON.stringify({ said }) });
      expect(delivered.status).toBe(200);
      await expect.poll(() => lines.filter((line) => line.includes("automation read-order")).at(-1)).toContain(said);
      expect(lines.filter((line) => line.includes("trying again"))).toEqual([]);
    }
  } finally {
    await server.close();
  }
});

test("a proxy that never answers the CONNECT fails a change within the call's deadline, said as not made", async () => {
  proxy.hold = true;
  // A tool timeout of 6 s gives the CONNECT half of it, 3 s, which undici ends on a half-second
  // tick, and the call the seconds after to say so, a process held up meanwhile too.
  const server = await startWaiter(
    shop("https://shop.example", { HTTPS_PROXY: proxy.origin, WAITER_TOOL_TIMEOUT: "6" }),
  );
  try {
    const result = await server.call("eshop_order_update_status", { id: ORDER, status: "cancelled" });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(
      `Could not reach WooCommerce (shop.example) through the proxy ${proxy.origin} (HTTPS_PROXY): it did not answer waiter's CONNECT within 3 s; it, or the service beyond it, is down or slow, try again later.`,
    );
    expect(text(result)).not.toContain("may have been made");
  } finally {
    await server.close();
  }
});

test("a proxy nothing listens at is told as the proxy's failure, with the variable to check", async () => {
  const closed = await startProxy();
  await closed.close();
  expect(await failureThrough(`${closed.origin}/`)).toContain(
    `Could not reach WooCommerce (shop.example) through the proxy ${closed.origin} (HTTPS_PROXY): the connection was refused, as nothing listens there; try again later, or if it lasts, check the port in HTTPS_PROXY.`,
  );
});

test("the OAuth issuer's metadata is read through the proxy too, and its refusal told as the proxy's", async () => {
  proxy.refuse = 403;
  const http = new HttpClient({
    userAgent: "waiter-test/0",
    maxResponseBytes: 1 << 20,
    proxy: proxyFrom({ HTTPS_PROXY: proxy.origin }),
  });
  let logged = "";
  const verifier = oauthVerifier(
    { issuer: "https://id.example/realms/company", audience: ["waiter"], resource: "http://127.0.0.1:8790/mcp" },
    new Log("warning", (line) => {
      logged += line;
    }),
    (url, init) => http.fetch(url, init),
  );
  const header = Buffer.from(JSON.stringify({ alg: "ES256", kid: "k1" })).toString("base64url");
  try {
    await expect(verifier.verifyAccessToken(`${header}.e30.c2lnbmF0dXJl`)).rejects.toThrow(/cannot be reached/);
    expect(proxy.seen.map((seen) => seen.line)).toEqual(Array(3).fill("CONNECT id.example:443"));
    expect(logged).toContain(
      `OAuth: the issuer https://id.example/realms/company cannot be reached (no metadata names its keys: https://id.example/.well-known/oauth-authorization-server/realms/company: the proxy answered 403;`,
    );
  } finally {
    await http.close();
  }
});

test("the proxy is read as curl and npm read it, and one waiter cannot go through stops it at start", () => {
  expect(proxyFrom({})).toBeUndefined();
  expect(proxyFrom({ HTTPS_PROXY: " ", NO_PROXY: "erp.example" })).toBeUndefined();
  // The lower-case name first; HTTP_PROXY when no HTTPS_PROXY is set; no scheme is http://.
  expect(proxyFrom({ https_proxy: "http://a.example:3128", HTTPS_PROXY: "http://b.example:3128" })).toMatchObject({
    shown: "http://a.example:3128",
    variable: "https_proxy",
  });
  expect(proxyFrom({ HTTP_PROXY: "proxy.example:3128", no_proxy: ".corp.example" })).toEqual({
    url: "http://proxy.example:3128",
    shown: "http://proxy.example:3128",
    variable: "HTTP_PROXY",
    credentials: false,
    noProxy: ".corp.example",
  });
  // An empty no_proxy (a compose file's "no_proxy: ${no_proxy}" with none set) is unset, as curl reads it.
  expect(proxyFrom({ HTTPS_PROXY: "proxy.example:3128", no_proxy: "", NO_PROXY: ".corp.example" })).toMatchObject({
    noProxy: ".corp.example",
  });
  expect(proxyFrom({ HTTPS_PROXY: `https://waiter:${PASSWORD}@proxy.example` })).toMatchObject({
    shown: "https://proxy.example",
    credentials: true,
  });
  const refused = (value: string) => () =>
    loadConfig({ env: { WAITER_DATA_DIR: "/tmp/waiter-unused", HTTPS_PROXY: value } }, toolsets());
  expect(refused(`socks5://waiter:${PASSWORD}@proxy.example:1080`)).toThrow(
    new ConfigError(
      "invalid HTTPS_PROXY: it names a socks5 proxy, and waiter goes through an HTTP one (http:// or https://)",
    ),
  );
  // A % in a password is written %25: one that begins no escape is said at start, without the password.
  expect(refused(`http://waiter:50%off-${PASSWORD}@proxy.example:3128`)).toThrow(
    new ConfigError(
      "invalid HTTPS_PROXY: its user or password holds a % that begins no escape; write each % in them as %25",
    ),
  );
  expect(proxyFrom({ HTTPS_PROXY: `http://waiter:50%25off@proxy.example:3128` })).toMatchObject({ credentials: true });
  // A Windows domain's user, CORP\waiter: a URL reads the \ as a /, and the host as corp.
  expect(refused(`http://CORP\\waiter:${PASSWORD}@proxy.example:3128`)).toThrow(
    new ConfigError(
      "invalid HTTPS_PROXY: it holds a \\, which a URL reads as a / (http://CORP\\user:… names the host corp); write each \\ in its user or password as %5C, as CORP%5Cuser",
    ),
  );
  expect(proxyFrom({ HTTPS_PROXY: `http://CORP%5Cwaiter:${PASSWORD}@proxy.example:3128` })).toMatchObject({
    shown: "http://proxy.example:3128",
    credentials: true,
  });
  expect(refused("http://:3128")).toThrow(
    new ConfigError("invalid HTTPS_PROXY: it is no proxy's URL; write it as http://proxy.example:3128"),
  );
});

test(`a \${NAME} nothing replaced, or quotes an env file kept, in the proxy's variables stop waiter at start`, () => {
  const left = `a placeholder for a variable's value that nothing replaced: systemd's EnvironmentFile, docker run --env-file, a raw env_file (format: raw) and some MCP clients replace none, Claude Code none whose variable is unset where it runs, and only VS Code asks for an \${input:…}; write the value itself, or set the variable where the client starts`;
  const refused = (env: NodeJS.ProcessEnv) => () =>
    loadConfig({ env: { WAITER_DATA_DIR: "/tmp/waiter-unused", ...env } }, toolsets());
  // Each parses as a proxy's URL, whose host no request would resolve.
  const cases: [NodeJS.ProcessEnv, string][] = [
    [{ HTTPS_PROXY: `\${HTTPS_PROXY}` }, `invalid setting HTTPS_PROXY: is \${HTTPS_PROXY}, ${left}`],
    [{ http_proxy: `http://\${PROXY_HOST}:3128` }, `invalid setting http_proxy: holds \${PROXY_HOST}, ${left}`],
    [
      { HTTPS_PROXY: `http://waiter:\${PROXY_PASSWORD}@proxy.example:3128` },
      `invalid setting HTTPS_PROXY: its password holds \${…} (if the password's own, write its $ as %24), ${left}`,
    ],
    [
      { HTTPS_PROXY: "proxy.example:3128", NO_PROXY: `\${NO_PROXY}` },
      `invalid setting NO_PROXY: is \${NO_PROXY}, ${left}`,
    ],
    [
      { HTTPS_PROXY: '"http://proxy.example:3128"' },
      `invalid setting HTTPS_PROXY: is in quotes, which are part of its value: docker run --env-file keeps them, as does set NAME="value" in Windows cmd (a POSIX shell, PowerShell, systemd's EnvironmentFile and Compose's env_file take them off); remove them, and in cmd write set "NAME=value"`,
    ],
  ];
  for (const [env, message] of cases) expect(refused(env), JSON.stringify(env)).toThrow(new ConfigError(message));
});

test("a request whose deadline passes while the proxy has not answered the CONNECT is said as never sent", async () => {
  proxy.hold = true;
  // The CONNECT may take longer than the call has left (the call spent it on an earlier request):
  // the deadline is made to pass once the proxy holds the CONNECT, however slow the machine.
  const http = new HttpClient({
    userAgent: "waiter-test/0",
    maxResponseBytes: 1 << 20,
    maxRetries: 0,
    connectTimeoutMs: 600_000,
    proxy: proxyFrom({ HTTPS_PROXY: proxy.origin }),
  });
  const shop = http.upstream("WooCommerce", new URL("https://shop.example"));
  const stoppedOnceHeld = async (answered: (call: Call) => Promise<unknown>) => {
    const stop = new AbortController();
    const held = proxy.seen.length + 1;
    const failed = answered({
      signal: stop.signal,
      deadline: clock.now() + 600_000,
      deadlineSetting: "WAITER_TOOL_TIMEOUT",
    }).then(
      () => "answered",
      (err: Error) => err.message,
    );
    await expect.poll(() => proxy.seen.length).toBe(held);
    stop.abort(new DOMException("The tool call's deadline passed.", "TimeoutError"));
    return failed;
  };
  try {
    expect(await stoppedOnceHeld((call) => shop.send("/orders/1", { method: "PUT", body: "{}" }, call))).toBe(
      "WooCommerce (shop.example) was not reached (no connection to it opened, or none was free) when the tool call's deadline (WAITER_TOOL_TIMEOUT) passed, so the change was not made; try again later.",
    );
    expect(await stoppedOnceHeld((call) => shop.json(z.unknown(), "/orders/1", {}, call))).toBe(
      "WooCommerce (shop.example) was not reached (no connection to it opened, or none was free) before the tool call's deadline; try again later.",
    );
  } finally {
    await http.close();
  }
});
