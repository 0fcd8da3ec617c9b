import { createServer, type Server } from "node:net";
import { afterEach, expect, test, vi } from "vitest";
import { onFreePort } from "./http.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const listen = (port: number) =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      servers.push(server);
      resolve(port);
    });
  });

test("a port taken between its pick and the start is left for another", async () => {
  const tried: number[] = [];
  const bound = await onFreePort(async (port) => {
    tried.push(port);
    // Another run's server binds the first port picked before this start does.
    if (tried.length === 1) await listen(port);
    return listen(port);
  });
  expect(tried).toHaveLength(2);
  expect(bound).toBe(tried[1]);
  expect(bound).not.toBe(tried[0]);
});

test("a start that fails otherwise is not tried again", async () => {
  let tries = 0;
  await expect(
    onFreePort(async () => {
      tries += 1;
      throw new Error("cannot listen on 127.0.0.1:8790: EACCES");
    }),
  ).rejects.toThrow(/EACCES/);
  expect(tries).toBe(1);
});

test("two runs of the tests, whose workers pick from the same block, pick their ports in different orders", async () => {
  const pid = process.pid;
  const firstPick = async (run: number) => {
    vi.resetModules();
    Object.defineProperty(process, "pid", { value: run, configurable: true });
    try {
      return await (await import("./http.js")).freePort();
    } finally {
      Object.defineProperty(process, "pid", { value: pid, configurable: true });
    }
  };
  expect(await firstPick(4242)).not.toBe(await firstPick(4243));
});
