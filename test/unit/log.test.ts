import { expect, test } from "vitest";
import { Log, logWarnings } from "../../src/log.js";

test("process warnings (a store's failed retention) are log lines with time and level, not Node's bare ones", async () => {
  const lines: string[] = [];
  const before = process.listeners("warning");
  const restore = logWarnings(new Log("info", (line) => lines.push(line)));
  try {
    expect(process.listeners("warning")).not.toContain(before[0]);
    process.emitWarning("event retention failed: database or disk is full");
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([
      expect.stringMatching(
        /^\d{4}-\d\d-\d\dT[\d:.]+Z warning +\[waiter\] event retention failed: database or disk is full\n$/,
      ),
    ]);
  } finally {
    restore();
  }
  expect(process.listeners("warning")).toEqual(before);
});
