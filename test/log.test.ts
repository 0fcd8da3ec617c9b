import { afterEach, expect, test, vi } from "vitest";
import { Log } from "../src/log.js";

afterEach(() => {
  vi.restoreAllMocks();
});

function logged(message: string): string[] {
  const lines: string[] = [];
  new Log("info", (line) => lines.push(line)).info(message);
  return lines.map((line) => line.replace(/^\S+Z info {4}\[waiter\] /, ""));
}

// A line of the listener's for each delivery stored: splitting and escaping it cost more than its
// write, for nothing.
test("a line of printable ASCII is written as it is, only its trailing blanks taken off, with nothing split or escaped", () => {
  const splits = vi.spyOn(RegExp.prototype, Symbol.split);
  expect(logged('webhook svc stored evt_1: type "order.paid",\tdelivery "msg_1" \t ')).toEqual([
    'webhook svc stored evt_1: type "order.paid",\tdelivery "msg_1"\n',
  ]);
  expect(splits).not.toHaveBeenCalled();
});

test("a line with a break, a control or an invisible character in it is one entry, each of them escaped", () => {
  expect(logged("first  \n  second\u001b[2J\r\n\n third\u2028fourth\u202e \u00e9\t")).toEqual([
    "first | second\\u001b[2J | third | fourth\\u202e é\n",
  ]);
});
