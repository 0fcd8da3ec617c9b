import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { loadConfig } from "../src/config.js";
import { EventStore } from "../src/events/store.js";
import { Log } from "../src/log.js";
import { requestGuard } from "../src/webhooks/hosts.js";
import { type RunningListener, startListener } from "../src/webhooks/listener.js";

const ERP_SECRET = "erp-secret";
const SOURCES = {
  erp: {
    scheme: "hmac-sha256",
    secretEnv: "ERP_SECRET",
    header: "X-Signature",
    encoding: "hex",
    prefix: "sha256=",
    idHeader: "X-Delivery-Id",
  },
  trial: { scheme: "none", allowUnsigned: true },
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The listener in this process on a free loopback port, with its own in-memory store. */
async function start(env: Record<string, string> = {}) {
  const { webhooks } = loadConfig(
    {
      env: {
        ERP_SECRET,
        WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
        WAITER_WEBHOOKS_SOURCES: JSON.stringify(SOURCES),
        WAITER_WEBHOOKS_MAX_BODY_BYTES: "65536",
        ...env,
      },
    },
    [],
  );
  const store = new EventStore(":memory:", webhooks.retention);
  const listener: RunningListener = await startListener({ webhooks, store, log: new Log("error") });
  cleanups.push(async () => {
    listener.server.closeAllConnections();
    await listener.close();
    store.close();
  });
  const port = Number(new URL(listener.url).port);
  const rejected = (reason: string) => store.counters().erp?.[`rejected:${reason}`] ?? 0;
  return { listener, store, port, url: listener.url, rejected };
}

/** A raw connection, to send what no well-behaved client sends: headers or a body a byte at a time. */
interface Probe {
  socket: Socket;
  received(): string;
  closed(): boolean;
}

function probe(port: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    let received = "";
    let closed = false;
    const socket = connect(port, "127.0.0.1");
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.once("error", reject);
    socket.on("close", () => {
      closed = true;
    });
    socket.once("connect", () => {
      socket.off("error", reject);
      // The listener cuts these connections while they still write: EPIPE and ECONNRESET are the point.
      socket.on("error", () => {});
      resolve({ socket, received: () => received, closed: () => closed });
    });
    cleanups.push(() => socket.destroy());
  });
}

const statusOf = (p: Probe) => /^HTTP\/1\.1 (\d{3})/.exec(p.received())?.[1];

/** A request with exactly the Host and Origin given (or none), as a browser or a rebinding page would send. */
function send(
  port: number,
  options: { method?: string; path: string; host?: string; origin?: string; body?: string; type?: string },
): Promise<{ status: number; body: { error?: string } }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": options.type ?? "text/plain" };
    if (options.host !== undefined) headers.host = options.host;
    if (options.origin !== undefined) headers.origin = options.origin;
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path,
        headers,
        setHost: false,
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("Host and Origin", () => {
  test("a web page's POST, or a request for a foreign Host, gets 403 and stores nothing", async () => {
    const { port, store } = await start({
      WAITER_WEBHOOKS_PUBLIC_URL: "https://hooks.example.com",
      WAITER_WEBHOOKS_ALLOWED_HOSTS: "hooks.internal",
      WAITER_WEBHOOKS_ALLOWED_ORIGINS: "https://admin.example.com",
    });
    const here = `127.0.0.1:${port}`;
    const event = '{"type":"order.paid"}';
    const refused: [string, Parameters<typeof send>[1], RegExp][] = [
      [
        "a foreign Origin",
        { path: "/webhooks/trial", host: here, origin: "https://evil.example", body: event },
        /Origin "https:\/\/evil.example"/,
      ],
      ["Origin null", { path: "/webhooks/trial", host: here, origin: "null", body: event }, /Origin "null"/],
      [
        "a rebinding Host",
        { path: "/webhooks/trial", host: `rebind.evil.example:${port}`, body: event },
        /Host "rebind.evil.example:\d+"/,
      ],
      ["userinfo in Host", { path: "/webhooks/trial", host: `evil.example@${here}`, body: event }, /Host/],
      ["a loopback name on another port", { path: "/webhooks/trial", host: "localhost:1", body: event }, /Host/],
      [
        "the public host on another port",
        { path: "/webhooks/trial", host: "hooks.example.com:8443", body: event },
        /Host/,
      ],
      [
        "healthz for a rebinding Host",
        { method: "GET", path: "/healthz", host: `rebind.evil.example:${port}` },
        /Host/,
      ],
      [
        "healthz from a web page",
        { method: "GET", path: "/healthz", host: here, origin: "https://evil.example" },
        /Origin/,
      ],
    ];
    for (const [name, options, message] of refused) {
      const answer = await send(port, options);
      expect(answer.status, name).toBe(403);
      expect(answer.body.error, name).toMatch(message);
    }
    expect(store.stats().events).toBe(0);
    const counts = store.counters().trial ?? {};
    expect(counts["rejected:Origin not allowed"]).toBe(2);
    expect(counts["rejected:Host not allowed"]).toBe(4);

    for (const host of [
      here,
      `localhost:${port}`,
      `[::1]:${port}`,
      "hooks.example.com",
      "HOOKS.example.com:443",
      "hooks.internal:9000",
    ]) {
      expect((await send(port, { method: "GET", path: "/healthz", host })).status, host).toBe(200);
    }
    const allowed = await send(port, {
      path: "/webhooks/trial",
      host: here,
      origin: "https://admin.example.com",
      body: event,
    });
    expect(allowed.status).toBe(200);
    expect(store.stats().events).toBe(1);
  });

  test("a request that names no Host is refused", async () => {
    const { port } = await start();
    const old = await probe(port);
    old.socket.write("GET /healthz HTTP/1.0\r\n\r\n");
    await expect.poll(() => statusOf(old), { timeout: 1000 }).toBe("403");
    expect(old.received()).toMatch(/names no Host/);
  });

  test("bound to a wildcard address, any Host is taken until publicUrl or allowedHosts names one; Origin never is", () => {
    const guard = (settings: { host: string; publicUrl?: string; allowedHosts?: string[] }) =>
      requestGuard({
        listen: { host: settings.host, port: 8790 },
        publicUrl: settings.publicUrl,
        allowedHosts: settings.allowedHosts ?? [],
        allowedOrigins: [],
      });
    for (const host of ["0.0.0.0", "::"]) {
      const open = guard({ host });
      expect(open({ host: "192.168.1.20:8790" }, 8790), host).toBeUndefined();
      expect(open({ host: "anything.example" }, 8790), host).toBeUndefined();
      expect(open({ host: "192.168.1.20:8790", origin: "https://evil.example" }, 8790)?.reason).toBe(
        "Origin not allowed",
      );
      const named = guard({ host, publicUrl: "https://hooks.example.com" });
      expect(named({ host: "anything.example" }, 8790)?.reason).toBe("Host not allowed");
      expect(named({ host: "hooks.example.com" }, 8790)).toBeUndefined();
      expect(named({ host: "localhost:8790" }, 8790)).toBeUndefined();
      const listed = guard({ host, allowedHosts: ["192.168.1.20"] });
      expect(listed({ host: "192.168.1.20:8790" }, 8790)).toBeUndefined();
      expect(listed({ host: "anything.example" }, 8790)?.reason).toBe("Host not allowed");
    }
    const lan = guard({ host: "192.168.1.20" });
    expect(lan({ host: "192.168.1.20:8790" }, 8790)).toBeUndefined();
    expect(lan({ host: "localhost:8790" }, 8790)?.reason).toBe("Host not allowed");
  });

  test("allowedHosts and allowedOrigins are checked as they are read", () => {
    const load = (env: Record<string, string>) => () => loadConfig({ env }, []);
    expect(load({ WAITER_WEBHOOKS_ALLOWED_HOSTS: "hooks.example.com:443" })).toThrow(/host names without a port/);
    expect(load({ WAITER_WEBHOOKS_ALLOWED_ORIGINS: "https://admin.example.com/path" })).toThrow(/lists origins/);
    const { webhooks } = loadConfig(
      {
        env: {
          WAITER_WEBHOOKS_ALLOWED_HOSTS: "Hooks.Example.com, [::1]",
          WAITER_WEBHOOKS_ALLOWED_ORIGINS: "HTTPS://Admin.example.com:443/",
        },
      },
      [],
    );
    expect(webhooks.allowedHosts).toEqual(["hooks.example.com", "[::1]"]);
    expect(webhooks.allowedOrigins).toEqual(["https://admin.example.com"]);
  });
});
