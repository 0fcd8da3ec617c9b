import { expect, test } from "vitest";
import { UnconfirmedChange } from "../../src/errors.js";
import { UNCONFIRMED_KEPT, unconfirmedWrites } from "../../tools/eshop/shapes.js";

/** A write the shop did not confirm: kept for `id` with `value`. */
async function unconfirmed(writes: ReturnType<typeof unconfirmedWrites<string>>, id: number, value: string) {
  const failure = new UnconfirmedChange("WooCommerce did not answer in time; the change may have been made.");
  await expect(writes.send(id, value, Promise.reject(failure))).rejects.toBe(failure);
}

test("the writes a shop did not confirm are kept for the latest orders only, however many are never asked again", async () => {
  // Each keeps the order or product as it was: a long-running server whose shop often answers late
  // would otherwise keep one for every order it ever wrote and never read again.
  const writes = unconfirmedWrites<string>();
  for (let id = 1; id <= UNCONFIRMED_KEPT + 1; id++) await unconfirmed(writes, id, `sent ${id}`);
  expect(writes.take(1)).toBeUndefined();
  expect(writes.take(2)).toBe("sent 2");
  expect(writes.take(UNCONFIRMED_KEPT + 1)).toBe(`sent ${UNCONFIRMED_KEPT + 1}`);
  // One sent again counts as the latest, not as the first it was.
  await unconfirmed(writes, 3, "sent 3");
  await unconfirmed(writes, 3, "sent 3 again");
  for (let id = 1; id <= UNCONFIRMED_KEPT - 1; id++) await unconfirmed(writes, 1000 + id, `other ${id}`);
  expect(writes.take(3)).toBe("sent 3 again");
  // Taken, it is forgotten: asked again, it was not sent.
  expect(writes.take(3)).toBeUndefined();
  // A write the shop confirmed, or refused, is not kept.
  await writes.send(7, "confirmed", Promise.resolve("done"));
  await expect(writes.send(8, "refused", Promise.reject(new Error("400")))).rejects.toThrow("400");
  expect([writes.take(7), writes.take(8)]).toEqual([undefined, undefined]);
});
