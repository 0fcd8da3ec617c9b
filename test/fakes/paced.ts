import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

/**
 * A TCP relay on loopback to a server's port, as a slow link between a client and the server:
 * what the client sends goes through at once; what the server sends goes through as it comes until
 * the relay holds, and then only as much as each step forwards. Held, the relay reads nothing
 * more from the server than it forwards, so what the server sends fills the connection and waits.
 */
export interface PacedRelay {
  port: number;
  /** From now on, forwards to the client only what `forward` steps on. */
  hold(): void;
  /** Forwards to the client the next `bytes` the server sent, waiting for them to come. */
  forward(bytes: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPacedRelay(port: number): Promise<PacedRelay> {
  const links = new Set<Socket>();
  let upstream: Socket | undefined;
  let client: Socket | undefined;
  const server = createServer((accepted) => {
    const toServer = connect(port, "127.0.0.1");
    client = accepted;
    upstream = toServer;
    links.add(accepted).add(toServer);
    for (const socket of [accepted, toServer]) socket.on("error", () => {});
    accepted.pipe(toServer);
    toServer.pipe(accepted);
    accepted.once("close", () => toServer.destroy());
    toServer.once("close", () => accepted.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    hold() {
      if (!upstream || !client) throw new Error("no connection to hold");
      upstream.unpipe(client);
      upstream.pause();
    },
    async forward(bytes) {
      if (!upstream || !client) throw new Error("no connection to step");
      for (let left = bytes; left > 0; ) {
        const chunk = upstream.read(Math.min(left, upstream.readableLength)) as Buffer | null;
        if (chunk?.length) {
          client.write(chunk);
          left -= chunk.length;
        } else {
          await once(upstream, "readable");
        }
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of links) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
