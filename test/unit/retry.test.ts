import { afterEach, expect, test } from "vitest";
import { deadlineRetry } from "../../src/http/retry.js";
import { clock, setClock } from "../../src/time.js";

afterEach(() => setClock());

test("a connection that did not open is not tried again where undici's half-second tick could let the deadline cut the next one", async () => {
  setClock("2026-11-25T10:00:00Z");
  const policy = {
    methods: ["GET" as const],
    maxRetries: 3,
    minDelayMs: 200,
    maxDelayMs: 5_000,
    connectTimeoutMs: 5_000,
  };
  const notOpened = Object.assign(new Error("Connect Timeout Error"), { code: "UND_ERR_CONNECT_TIMEOUT" });
  const decided = (deadline: number) =>
    new Promise<Error | null | undefined>((resolve) =>
      deadlineRetry({ signal: new AbortController().signal, deadline }, policy)(
        notOpened,
        { state: { counter: 1 }, opts: { method: "GET", path: "/" } },
        resolve,
      ),
    );
  // The next try's connection ends up to half a second past its 5 s, after a wait of at most 200 ms.
  expect(await decided(clock.now() + 5_000 + 200 + 300)).toBe(notOpened);
  expect(await decided(clock.now() + 5_000 + 200 + 600)).toBeNull();
});
