import { createServer } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

/** One request that came to the proxy. */
export interface ProxiedRequest {
  /** What it asked for: "CONNECT rates.example:443". */
  line: string;
  /** Its Proxy-Authorization header, if it sent one. */
  authorization: string | undefined;
}

/**
 * An HTTP proxy on loopback, as a company network has one: it tunnels CONNECT to the port asked
 * for on a name under .example, which it reaches at 127.0.0.1 (as the company's DNS would, and
 * without the test's machine knowing that name), and keeps what it was asked. Any other host gets
 * 502, as tests never reach the internet; any other request 405, as waiter tunnels every one.
 */
export interface FakeProxy {
  /** Its URL, http://127.0.0.1:port, without credentials. */
  origin: string;
  seen: ProxiedRequest[];
  /** While set, "user:password": a request without them as Basic credentials is answered 407. */
  credentials: string | undefined;
  /** The challenges its 407 offers, one Proxy-Authenticate header each: Basic unless set (NTLM and Negotiate, a Windows domain's). */
  challenges: string[] | undefined;
  /** While set, every CONNECT is answered with this status instead (a rule that refuses the host). */
  refuse: number | undefined;
  /** Statuses the next CONNECTs are answered with instead, one each, first in first out (a proxy overloaded for now). */
  refuseNext: number[];
  /** While set, every CONNECT is taken and never answered (a proxy stuck reaching the upstream). */
  hold: boolean;
  /** Milliseconds every CONNECT is answered late, a refusal too: a proxy slow to reach the upstream. */
  slowMs: number;
  /**
   * While set, every CONNECT, whatever host it names, is tunnelled to this port on loopback: a
   * network that answers in every server's place (a Wi-Fi's login page, a proxy that inspects TLS).
   */
  portal: number | undefined;
  close(): Promise<void>;
}

export async function startProxy(): Promise<FakeProxy> {
  const tunnels = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405, { allow: "CONNECT" }).end();
  });
  const proxy: FakeProxy = {
    origin: "",
    seen: [],
    credentials: undefined,
    challenges: undefined,
    refuse: undefined,
    refuseNext: [],
    hold: false,
    slowMs: 0,
    portal: undefined,
    close: () =>
      new Promise((resolve) => {
        for (const socket of tunnels) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on("connect", (req, client: Socket) => {
    const authorization = req.headers["proxy-authorization"];
    proxy.seen.push({ line: `CONNECT ${req.url}`, authorization });
    client.on("error", () => {});
    const expected = proxy.credentials && `Basic ${Buffer.from(proxy.credentials).toString("base64")}`;
    if (expected && authorization !== expected) {
      const challenges = (proxy.challenges ?? ['Basic realm="proxy"']).map((each) => `Proxy-Authenticate: ${each}\r\n`);
      client.end(`HTTP/1.1 407 Proxy Authentication Required\r\n${challenges.join("")}Content-Length: 0\r\n\r\n`);
      return;
    }
    if (proxy.hold) {
      tunnels.add(client);
      return;
    }
    const refusal = proxy.refuseNext.shift() ?? proxy.refuse;
    if (refusal) {
      const timer = setTimeout(
        () => client.end(`HTTP/1.1 ${refusal} Refused\r\nContent-Length: 0\r\n\r\n`),
        proxy.slowMs,
      );
      client.on("close", () => clearTimeout(timer));
      return;
    }
    const { hostname, port } = new URL(`http://${req.url}`);
    if (!hostname.endsWith(".example") && !proxy.portal) {
      // Tests never reach the internet, through a proxy either.
      client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const target = connect(proxy.portal ?? (Number(port) || 443), "127.0.0.1");
    tunnels.add(client).add(target);
    target.on("error", () => client.destroy());
    target.on("close", () => client.destroy());
    client.on("close", () => target.destroy());
    target.on("connect", () => {
      const timer = setTimeout(() => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        target.pipe(client).pipe(target);
      }, proxy.slowMs);
      client.on("close", () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
