import { mkdtempSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect, test } from "vitest";
import { startFrankfurter } from "./fakes/frankfurter.js";
import { CLI, text } from "./stdio.js";

/** Opens connections to `port` until `count` are open, or refused; each stays open until destroyed. */
async function hold(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    sockets.push(
      await new Promise<Socket>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => resolve(socket));
        socket.on("error", () => resolve(socket));
      }),
    );
  }
  return sockets;
}

/** Ends `socket`, and resolves once the other side has closed the connection too. */
function hangUp(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) return resolve();
    socket.once("close", () => resolve());
    socket.end();
  });
}

test.skipIf(process.platform === "win32")(
  "webhook senders that take every file handle (ulimit -n 64) leave the tools working once they are gone",
  async () => {
    const frankfurter = await startFrankfurter();
    const transport = new StdioClientTransport({
      command: "bash",
      args: ["-c", `ulimit -n 64 && exec "$0" "$1"`, process.execPath, CLI],
      env: {
        PATH: process.env.PATH ?? "",
        WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-handles-")),
        WAITER_FRANKFURTER_URL: `${frankfurter.origin}/v1`,
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ trial: { scheme: "none", allowUnsigned: true } }),
        // Port 0: waiter takes a free one and says which; one picked beforehand may be taken by then.
        WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
      },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    const client = new Client({ name: "waiter-tests", version: "0.0.0" });
    await client.connect(transport);
    const rates = async () =>
      (await client.callTool({ name: "currency_rates", arguments: { base: "EUR" } })) as CallToolResult;
    try {
      await expect.poll(() => stderr).toMatch(/receiving webhooks on/);
      const port = Number(new URL(/receiving webhooks on (http:\S+)/.exec(stderr)?.[1] ?? "").port);
      // Slow senders, each holding a connection: more than the process has file handles for.
      const senders = await hold(port, 80);
      await rates();
      // Gone once waiter has hung up on each: their handles are free again.
      await Promise.all(senders.map(hangUp));
      const after = await rates();
      expect(after.isError, text(after)).toBeFalsy();
      expect(text(after)).toMatch(/USD/);
    } finally {
      await client.close();
      await frankfurter.close();
    }
  },
  30_000,
);
