import { expect, test } from "vitest";
import { Log } from "../src/log.js";

function logged(message: string): string[] {
  const lines: string[] = [];
  new Log("info", (line) => lines.push(line)).info(message);
  return lines.map((line) => line.replace(/^\S+Z info {4}\[waiter\] /, ""));
}

test("a line of printable ASCII is written as it is, its tabs kept, only its trailing blanks taken off", () => {
  expect(logged('webhook svc stored evt_1: type "order.paid",\tdelivery "msg_1" \t ')).toEqual([
    'webhook svc stored evt_1: type "order.paid",\tdelivery "msg_1"\n',
  ]);
  expect(logged("")).toEqual(["\n"]);
});

test("a line with a break, a control or an invisible character in it is one entry, each of them escaped", () => {
  expect(logged("first  \n  second\u001b[2J\r\n\n third\u2028fourth\u202e \u00e9\t")).toEqual([
    "first | second\\u001b[2J | third | fourth\\u202e é\n",
  ]);
});

// Next to printable ASCII, they are no part of it: a terminal deletes a character at DEL, and
// takes CSI (U+009B) for ESC [.
test("a DEL or a C1 control in a line otherwise of printable ASCII is escaped", () => {
  expect(logged("order\u007f 1\tpaid \u009b2J")).toEqual(["order\\u007f 1\tpaid \\u009b2J\n"]);
});
