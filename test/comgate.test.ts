import { connect as openSocket, type Socket } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { clock, setClock } from "../src/time.js";
import { type ComgateFake, notification, PAID_PAYMENT, startComgate } from "./fakes/comgate.js";
import { startWaiter } from "./memory.js";
import type { Session } from "./stdio.js";

const MERCHANT = "498621";
const SECRET = "ZqVmRr0lUFRm7ZXbHpd7QnSGfCbVnw5U";

const PAID = PAID_PAYMENT;

let api: ComgateFake;
let waiter: Session & { listenerUrl: string | undefined };
let unconfirmed: Session & { listenerUrl: string | undefined };

function sources(confirm: boolean) {
  return JSON.stringify({
    comgate: { scheme: "comgate", merchant: MERCHANT, secretEnv: "COMGATE_SECRET", confirm, apiUrl: api.origin },
  });
}

beforeAll(async () => {
  api = await startComgate(MERCHANT, SECRET);
  const env = (confirm: boolean) => ({
    WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
    WAITER_WEBHOOKS_SOURCES: sources(confirm),
    COMGATE_SECRET: SECRET,
  });
  waiter = await startWaiter(env(true), { listener: true });
  unconfirmed = await startWaiter(env(false), { listener: true });
});
afterAll(async () => {
  await waiter?.close();
  await unconfirmed?.close();
  await api?.close();
});

async function push(to: { listenerUrl: string | undefined }, body: string) {
  const response = await request(`${to.listenerUrl}/webhooks/comgate`, {
    method: "POST",
    body,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  return {
    status: response.statusCode,
    retryAfter: response.headers["retry-after"],
    body: (await response.body.json()) as { id?: string; duplicate?: boolean; error?: string },
  };
}

async function stored(id: string) {
  return (await waiter.call("events_get", { id })).structuredContent as { type: string; payload: string };
}

describe("a Comgate notification", () => {
  test("that is genuine is stored as the payment Comgate's API confirms, without the secret", async () => {
    api.payments.set(PAID.transId, { ...PAID, cardNumber: "516874******0014", cardValid: "1229" });
    const answer = await push(waiter, notification(MERCHANT, SECRET, PAID));
    expect(answer).toMatchObject({ status: 200, body: { duplicate: false } });
    const event = await stored(answer.body.id as string);
    expect(event.type).toBe("payment.paid");
    // Neither the secret nor the payer's card is kept.
    const payload = JSON.parse(event.payload);
    expect(payload).toEqual({ merchant: MERCHANT, ...PAID });
    expect(event.payload).not.toContain(SECRET);
  });

  test("sent again is stored once", async () => {
    api.payments.set(PAID.transId, PAID);
    const first = await push(waiter, notification(MERCHANT, SECRET, PAID));
    const again = await push(waiter, notification(MERCHANT, SECRET, PAID));
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id, duplicate: true } });
  });

  test("with a forged secret, or for another merchant, is refused before the API is asked", async () => {
    const asked = api.requests.length;
    expect(await push(waiter, notification(MERCHANT, "guessed", PAID))).toMatchObject({
      status: 401,
      body: { error: "secret mismatch" },
    });
    expect(await push(waiter, notification("111111", SECRET, PAID))).toMatchObject({
      status: 401,
      body: { error: "merchant mismatch" },
    });
    expect(api.requests.length).toBe(asked);
  });

  test("whose claimed status the API has moved past is stored as the API shows it, so Comgate stops sending it", async () => {
    const paid = { ...PAID, transId: "MOVE-0002" };
    api.payments.set(paid.transId, paid);
    const current = await push(waiter, notification(MERCHANT, SECRET, paid));
    // The earlier notification, sent again after the payment was paid.
    const stale = await push(waiter, notification(MERCHANT, SECRET, { ...paid, status: "PENDING" }));
    expect(stale).toMatchObject({ status: 200, body: { id: current.body.id, duplicate: true } });
    const cancelled = { ...PAID, transId: "CANC-0002", status: "CANCELLED" as const };
    api.payments.set(cancelled.transId, cancelled);
    const answer = await push(waiter, notification(MERCHANT, SECRET, { ...cancelled, status: "PAID" }));
    expect(answer).toMatchObject({ status: 200, body: { duplicate: false } });
    expect((await stored(answer.body.id as string)).type).toBe("payment.cancelled");
  });

  test("that the API does not show yet (still pending) gets 503, so Comgate sends it again", async () => {
    const pending = { ...PAID, transId: "PEND-0001", status: "PENDING" as const };
    api.payments.set(pending.transId, pending);
    const early = await push(waiter, notification(MERCHANT, SECRET, { ...pending, status: "PAID" }));
    expect(early).toMatchObject({ status: 503 });
    // Said in the log, a line a minute: a payment the API never shows as notified is heard of.
    expect(waiter.stderr()).toMatch(
      /warning .*webhook comgate not stored, the sender will retry: Comgate's API does not show the notified status yet: it shows PENDING, the notification PAID\n/,
    );
    api.payments.set(pending.transId, { ...pending, status: "PAID" });
    const later = await push(waiter, notification(MERCHANT, SECRET, { ...pending, status: "PAID" }));
    expect(later).toMatchObject({ status: 200, body: { duplicate: false } });
  });

  test("that the API shows only as far as authorized gets 503, so Comgate sends it again, and is stored once it shows it", async () => {
    const authorized = { ...PAID, transId: "AUTH-0001", status: "AUTHORIZED" as const };
    api.payments.set(authorized.transId, authorized);
    const first = await push(waiter, notification(MERCHANT, SECRET, authorized));
    expect(first).toMatchObject({ status: 200, body: { duplicate: false } });
    // Captured: the notification says paid before the API does. Stored as authorized and answered
    // 200, it would be the authorized event again, and Comgate would not send it another time.
    const early = await push(waiter, notification(MERCHANT, SECRET, { ...authorized, status: "PAID" }));
    expect(early).toMatchObject({ status: 503, retryAfter: "60" });
    api.payments.set(authorized.transId, { ...authorized, status: "PAID" });
    const later = await push(waiter, notification(MERCHANT, SECRET, { ...authorized, status: "PAID" }));
    expect(later).toMatchObject({ status: 200, body: { duplicate: false } });
    expect((await stored(later.body.id as string)).type).toBe("payment.paid");
    // The authorized notification sent again after the capture is the payment as it is now.
    const again = await push(waiter, notification(MERCHANT, SECRET, authorized));
    expect(again).toMatchObject({ status: 200, body: { id: later.body.id, duplicate: true } });
  });

  test("refused by Comgate's API for another reason than an unknown payment gets 503, not a refusal", async () => {
    api.payments.set(PAID.transId, PAID);
    api.queue.push({ status: 404, headers: { "content-type": "text/html" }, body: "<html>Not Found</html>" });
    expect(await push(waiter, notification(MERCHANT, SECRET, { ...PAID, transId: "WRONG-URL" }))).toMatchObject({
      status: 503,
    });
  });

  test("asked of an API that does not take calls from waiter's address gets 503, though its code is 1400", async () => {
    // Comgate's API answers a call from an address not on the shop's allow-list with its code 1400,
    // as it answers a payment it does not know, in these words (https://help.comgate.cz/docs/chybove-hlasky).
    api.payments.set(PAID.transId, PAID);
    api.queue.push({
      status: 400,
      headers: { "content-type": "application/json" },
      body: '{"code":1400,"message":"Access from unauthorized location [194.212.79.116]!"}',
    });
    expect(await push(waiter, notification(MERCHANT, SECRET, PAID))).toMatchObject({ status: 503 });
  });

  test("while Comgate's API is too slow gets 503, and the log says how long waiter waited, not a tool call's deadline", async () => {
    const slow = { ...PAID, transId: "SLOW-0001" };
    api.payments.set(slow.transId, slow);
    // A minute on: a line a minute for each source and kind of reason.
    setClock(clock.now() + 61_000);
    const before = waiter.stderr().length;
    api.queue.push({ status: 200, delayMs: 11_000, headers: { "content-type": "application/json" }, body: "{}" });
    // The 10 s pass once Comgate's API is asked, however long a busy machine took to ask it: waiter's
    // timers, and the fake's answer after 11 s, move only as the test moves them.
    const asked = () => api.count(`/v2.0/payment/transId/${slow.transId}.json`);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const answer = push(waiter, notification(MERCHANT, SECRET, slow));
      await expect.poll(asked).toBe(1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(await answer).toMatchObject({ status: 503, retryAfter: "60" });
    } finally {
      vi.useRealTimers();
    }
    const said = waiter.stderr().slice(before);
    expect(said).toMatch(
      /webhook comgate not stored, the sender will retry: Comgate's API could not be asked: Comgate API \(127\.0\.0\.1:\d+\) did not answer within the 10 s waiter gives it while the notification waits\n/,
    );
    expect(said).not.toMatch(/tool call|ask for less/);
  });

  test("answered 200 with an error code by Comgate's API gets 503, and the log gives Comgate's message with its code", async () => {
    const failing = { ...PAID, transId: "FAIL-0001" };
    api.payments.set(failing.transId, failing);
    // A minute on: a line a minute for each source and kind of reason.
    setClock(clock.now() + 61_000);
    const before = waiter.stderr().length;
    api.queue.push({
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"code":1200,"message":"Database error"}',
    });
    expect(await push(waiter, notification(MERCHANT, SECRET, failing))).toMatchObject({ status: 503 });
    expect(waiter.stderr().slice(before)).toContain(
      `webhook comgate not stored, the sender will retry: Comgate's API answered code 1200 "Database error", which Comgate documents as a database error of its own: no setting of waiter's mends it; Comgate sends the notification again, and if this goes on for hours, tell Comgate's support\n`,
    );
  });

  test("answered 200 with an error code and no message says what Comgate documents the code as, or that it documents none", async () => {
    const failing = { ...PAID, transId: "FAIL-0002" };
    api.payments.set(failing.transId, failing);
    const said: string[] = [];
    for (const body of ['{"code":1500}', '{"code":"1100"}', '{"code":1104}']) {
      setClock(clock.now() + 61_000);
      const before = waiter.stderr().length;
      api.queue.push({ status: 200, headers: { "content-type": "application/json" }, body });
      expect(await push(waiter, notification(MERCHANT, SECRET, failing))).toMatchObject({ status: 503 });
      said.push(waiter.stderr().slice(before));
    }
    expect(said[0]).toContain(
      "Comgate's API answered code 1500, which Comgate documents as an unexpected error of its own: no setting of waiter's mends it;",
    );
    expect(said[1]).toContain(
      "Comgate's API answered code 1100, which Comgate documents as an unknown error of its own: no setting of waiter's mends it;",
    );
    expect(said[2]).toContain(
      "Comgate's API answered code 1104, which Comgate does not document for a payment's status (0, 1100, 1200, 1400 and 1500); Comgate sends the notification again, and if this goes on, tell Comgate's support",
    );
  });

  test("for a payment Comgate does not know is refused", async () => {
    const answer = await push(waiter, notification(MERCHANT, SECRET, { ...PAID, transId: "NONE-0000" }));
    expect(answer).toMatchObject({ status: 401, body: { error: "transaction unknown to Comgate" } });
  });

  test("confirmed by Comgate's API in gzip, asked for or not, is stored; one it does not know is refused", async () => {
    const zipped = { ...PAID, transId: "GZIP-0001" };
    api.payments.set(zipped.transId, zipped);
    api.encoding = "gzip";
    try {
      const answer = await push(waiter, notification(MERCHANT, SECRET, zipped));
      expect(answer).toMatchObject({ status: 200, body: { duplicate: false } });
      expect((await stored(answer.body.id as string)).type).toBe("payment.paid");
      // Its code 1400 is read from an error answer in gzip too.
      expect(await push(waiter, notification(MERCHANT, SECRET, { ...PAID, transId: "GZIP-NONE" }))).toMatchObject({
        status: 401,
        body: { error: "transaction unknown to Comgate" },
      });
    } finally {
      api.encoding = undefined;
    }
  });

  test("while Comgate's API is down gets 503, so Comgate sends it again, and is stored then", async () => {
    const later = { ...PAID, transId: "DOWN-0001" };
    api.payments.set(later.transId, later);
    api.queue.push(
      { status: 503, body: "" },
      { status: 503, body: "" },
      { status: 503, body: "" },
      { status: 503, body: "" },
    );
    const down = await push(waiter, notification(MERCHANT, SECRET, later));
    expect(down).toMatchObject({ status: 503, retryAfter: "60" });
    // Counted as docs/webhooks.md names it, beside the other refusals.
    const rejected = async () =>
      (
        (await waiter.call("webhooks_sources", { source: "comgate" })).structuredContent as {
          sources: { rejected: { reason: string }[] }[];
        }
      ).sources[0]?.rejected;
    await expect.poll(rejected).toContainEqual(expect.objectContaining({ reason: "not confirmed yet" }));
    // Every notification refused so is most often an address Comgate's API takes no calls from.
    const { note } = (await waiter.call("webhooks_sources", { source: "comgate" })).structuredContent as {
      note?: string;
    };
    expect(note).toContain(
      "comgate's not confirmed yet: if every delivery of this source is refused so, Comgate's API does not take calls from this machine's public address (add it in Comgate's client portal, Integration > Store settings > Store connection), or cannot be asked at the source's apiUrl, or fails itself (its codes 1100, 1200, 1500): the log says which.",
    );
    api.queue.length = 0;
    const retried = await push(waiter, notification(MERCHANT, SECRET, later));
    expect(retried).toMatchObject({ status: 200, body: { duplicate: false } });
  });

  test("with confirm off is stored as it came, without the secret", async () => {
    const cancelled = { ...PAID, transId: "CANC-0001", status: "CANCELLED" as const };
    const asked = api.requests.length;
    const answer = await push(unconfirmed, notification(MERCHANT, SECRET, cancelled));
    expect(answer).toMatchObject({ status: 200 });
    const event = (await unconfirmed.call("events_get", { id: answer.body.id as string })).structuredContent as {
      type: string;
      payload: string;
    };
    expect(event.type).toBe("payment.cancelled");
    expect(JSON.parse(event.payload)).toEqual({ merchant: MERCHANT, ...cancelled });
    expect(api.requests.length).toBe(asked);
  });
});

/** A raw connection to `to`'s listener, to send a body in parts or not at all; what came back, and whether it closed. */
async function rawConnection(to: { listenerUrl: string | undefined }) {
  const { hostname, port } = new URL(to.listenerUrl as string);
  const socket: Socket = openSocket(Number(port), hostname);
  let received = "";
  let closed = false;
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    received += chunk;
  });
  // The listener may close the connection while the body is still being written: EPIPE is the point.
  socket.on("error", () => {});
  socket.on("close", () => {
    closed = true;
  });
  await new Promise((resolve) => socket.once("connect", resolve));
  const head = `POST /webhooks/comgate HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\n`;
  return { socket, head, answer: () => ({ received, closed }) };
}

describe("a body larger than a Comgate notification", () => {
  const refusal = '{"error":"body larger than 8192 bytes, more than a Comgate notification holds"}';

  test("is refused 413 before it is read whole, so no stranger's megabyte of fields is parsed", async () => {
    // Declared: answered before a byte of the body is sent.
    const declared = await rawConnection(waiter);
    declared.socket.write(`${declared.head}Content-Length: 1048576\r\n\r\n`);
    await expect.poll(() => declared.answer()).toMatchObject({ closed: true });
    expect(declared.answer().received).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.answer().received.endsWith(refusal)).toBe(true);
    // Nor is it invited with a 100 Continue.
    const expecting = await rawConnection(waiter);
    expecting.socket.write(`${expecting.head}Content-Length: 9000\r\nExpect: 100-continue\r\n\r\n`);
    await expect.poll(() => expecting.answer()).toMatchObject({ closed: true });
    expect(expecting.answer().received).toMatch(/^HTTP\/1\.1 413 /);

    // Chunked, so no length is declared, and its end never sent: refused as soon as 8 KiB of
    // fields have come, while the rest of the body, which alone would let it be parsed, never does.
    const streamed = await rawConnection(waiter);
    streamed.socket.write(`${streamed.head}Transfer-Encoding: chunked\r\n\r\n`);
    const fields = "a=&".repeat(1024);
    for (let i = 0; i < 3; i++) streamed.socket.write(`${fields.length.toString(16)}\r\n${fields}\r\n`);
    await expect.poll(() => streamed.answer()).toMatchObject({ closed: true });
    expect(streamed.answer().received).toMatch(/^HTTP\/1\.1 413 /);
    expect(streamed.answer().received.endsWith(refusal)).toBe(true);
  });

  test("is none that Comgate sends: one with every field it documents, written long, is stored", async () => {
    const full = { ...PAID, transId: "FULL-0001" };
    api.payments.set(full.transId, full);
    const long = (text: string) => text.repeat(4);
    const body = new URLSearchParams({
      merchant: MERCHANT,
      secret: SECRET,
      ...full,
      payerId: "zákazník-8812345",
      payerName: long("Jana Nováková "),
      payerAcc: "CZ6508000000192000145399",
      account: "default",
      phone: "+420 777 123 456",
      name: long("Objednávka z e-shopu "),
      fee: "unknown",
      fullName: long("Jana Nováková "),
      billingAddrCity: long("Praha – Královské Vinohrady "),
      billingAddrStreet: long("Vinohradská 1234/56 "),
      billingAddrPostalCode: "120 00",
      billingAddrCountry: "CZ",
      delivery: "HOME_DELIVERY",
      homeDeliveryCity: long("Praha – Královské Vinohrady "),
      homeDeliveryStreet: long("Vinohradská 1234/56 "),
      homeDeliveryPostalCode: "120 00",
      homeDeliveryCountry: "CZ",
      category: "PHYSICAL_GOODS_ONLY",
    }).toString();
    // About 1.5 KB: the bound leaves five times that to spare.
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024);
    expect(await push(waiter, body)).toMatchObject({ status: 200, body: { duplicate: false } });
  });
});
