import { type ChildProcess, spawn } from "node:child_process";
import { onTestFailed, TestRunner } from "vitest";

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
 * captures what the caller needs); rejects with what the process said if it exits first, or if
 * it has not said it by the time its test fails (its time run out) or, started in a hook, by 18 s,
 * short of the hooks' 20 s.
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
  await untilSaid(child, () => stderr, ready, `${args.join(" ")} did not start`, 18_000);
  return { child, said: ready.exec(stderr)?.[1] ?? "", stderr: () => stderr, exited };
}

/**
 * Resolves once what `child` said on stderr matches `ready`, however long a busy machine takes.
 * Otherwise fails with `notStarted` and what it said, so a start that hangs is told by its own
 * words, not only by a timeout: once it ends, once the test waiting on it fails, or, outside a
 * test (a beforeAll), after `hookLimitMs`, which the caller sets short of the hook's own time.
 */
export function untilSaid(
  child: ChildProcess,
  said: () => string,
  ready: RegExp,
  notStarted: string,
  hookLimitMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let waiting = true;
    let limit: NodeJS.Timeout | undefined;
    const settle = (end: () => void) => {
      if (!waiting) return;
      waiting = false;
      clearTimeout(limit);
      child.stderr?.off("data", heard);
      end();
    };
    const failure = () => new Error(`${notStarted}: ${said()}`);
    const heard = () => {
      if (ready.test(said())) settle(resolve);
    };
    heard();
    child.stderr?.on("data", heard);
    // After the last of its output: a ready line said just before it exited still counts.
    child.once("close", () => settle(() => reject(failure())));
    if (TestRunner.getCurrentTest()) {
      onTestFailed(() => {
        if (!waiting) return;
        settle(() => {});
        throw failure();
      });
    } else {
      limit = setTimeout(() => settle(() => reject(failure())), hookLimitMs);
    }
  });
}

/** Kills what startNode started and is still running; for afterAll. */
export function killStarted(): void {
  for (const child of running) child.kill("SIGKILL");
}
