// Commits events to a store file one at a time, as `waiter listen` does under a burst of
// deliveries: node store-writer.mjs <file> <count>. Says "writing" after its first commit.
import { SqliteEventStore } from "../../dist/src/events/sqlite/store.js";
import { clock } from "../../dist/src/time.js";

const [file, count] = process.argv.slice(2);
const store = new SqliteEventStore(file, { maxEvents: 1_000_000, maxBytes: 2 ** 40, maxAgeDays: 1 });
for (let i = 0; i < Number(count); i++) {
  await store.add({
    source: "writer",
    type: "order.paid",
    scheme: "none",
    dedupeId: `w${i}`,
    headers: {},
    body: Buffer.from(JSON.stringify({ n: i })),
    isJson: true,
    receivedAt: clock.now(),
  });
  if (i === 0) process.stdout.write("writing\n");
}
await store.close();
