import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, test } from "vitest";
import { untilSaid } from "./spawn.js";

// A process that says why it is stuck, then never says it is ready nor ends.
const stuck = spawn(process.execPath, [
  "-e",
  'console.error("waiting for the database"); setInterval(() => {}, 1_000)',
]);
let said = "";
stuck.stderr.on("data", (chunk) => {
  said += chunk;
});
let refused: unknown;

beforeAll(async () => {
  await untilSaid(stuck, () => said, /waiting for the database/, "it said nothing", 15_000);
  refused = await untilSaid(stuck, () => said, /serving/, "it did not start", 500).catch((error: unknown) => error);
});
afterAll(() => {
  stuck.kill("SIGKILL");
});

test("a start that hangs in a hook fails before the hook's time with what the process said, not with a bare timeout", () => {
  expect(refused).toBeInstanceOf(Error);
  expect((refused as Error).message).toBe("it did not start: waiting for the database\n");
});
