// Commits events to a store file one at a time, as `waiter listen` does under a burst of
// deliveries, until its stdin ends: node store-writer.mjs <file>. Says "writing" after its
// first commit and, when it stops, how many it committed.
import { SqliteEventStore } from "../../dist/src/events/sqlite/store.js";
import { clock } from "../../dist/src/time.js";

const [file] = process.argv.slice(2);
const store = new SqliteEventStore(file, { maxEvents: 1_000_000, maxBytes: 2 ** 40, maxAgeDays: 1 });
let stopped = false;
process.stdin.on("end", () => {
  stopped = true;
});
process.stdin.resume();
let written = 0;
// A test that never stops it cannot make it run forever.
while (!stopped && written < 100_000) {
  await store.add({
    source: "writer",
    type: "order.paid",
    scheme: "none",
    dedupeId: `w${written}`,
    headers: {},
    body: Buffer.from(JSON.stringify({ n: written })),
    isJson: true,
    receivedAt: clock.now(),
  });
  written += 1;
  if (written === 1) process.stdout.write("writing\n");
  // Lets the stdin's end be seen between commits.
  await new Promise((resolve) => setImmediate(resolve));
}
await store.close();
process.stdout.write(`wrote ${written}\n`);
