import { type ChildProcess, spawn } from "node:child_process";

export interface Started {
  child: ChildProcess;
  /** The first group of the line `ready` matched: an address, usually. */
  said: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  exited: Promise<number | null>;
}

/** What `waiter serve` says once it serves; the group is its base URL, before `/mcp` (no URL bound to every address). */
export const SERVING = /serving MCP on (http:\/\/[^/\n]+)\/mcp/;

const running = new Set<ChildProcess>();

/**
 * Runs `node args` with only `env` and PATH, and resolves once stderr matches `ready` (which
 * captures what the caller needs); rejects with what the process said if it exits first. However
 * long a busy machine takes to start it: the test's own time bounds that.
 */
export async function startNode(args: string[], env: Record<string, string>, ready: RegExp): Promise<Started> {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env } });
  running.add(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const said = () => {
      if (ready.test(stderr)) resolve();
    };
    said();
    child.stderr.on("data", said);
    // After the last of its output: a ready line said just before it exited still counts.
    child.once("close", () => reject(new Error(`${args.join(" ")} did not start: ${stderr}`)));
  });
  return { child, said: ready.exec(stderr)?.[1] ?? "", stderr: () => stderr, exited };
}

/** Kills what startNode started and is still running; for afterAll. */
export function killStarted(): void {
  for (const child of running) child.kill("SIGKILL");
}
