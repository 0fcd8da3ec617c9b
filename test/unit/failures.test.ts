import { expect, test } from "vitest";
import { describeFailure, describeStatus, mayHaveActed } from "../../src/http/failures.js";
import type { HttpClientOptions, HttpResponse } from "../../src/http/types.js";

const url = new URL("https://shop.example/wp-json/wc/v3/orders/1/notes");
const call = { signal: new AbortController().signal, deadline: Number.MAX_SAFE_INTEGER };
const options = {
  responseTimeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  maxResponseBytes: 1,
} as Required<HttpClientOptions>;
const failed = (code: string) => Object.assign(new Error(code), { code });
const answer = (method: "GET" | "POST", status: number): HttpResponse => ({
  url,
  path: "/orders/1/notes",
  changes: mayHaveActed(method),
  status,
  headers: {},
  text: "<html>504 Gateway Time-out</html>",
});
const READ_FIRST = /may have been made\. Read the current state before trying again/;

test.each([
  ["UND_ERR_HEADERS_TIMEOUT", /did not confirm the change \(nothing for 15 s\); it may have been made/],
  ["UND_ERR_SOCKET", /did not confirm the change \(UND_ERR_SOCKET\); it may have been made/],
  ["ECONNRESET", READ_FIRST],
])("a write that fails with %s after it was sent may have been made", (code, said) => {
  const failure = describeFailure(failed(code), "WooCommerce", url, call, options, true);
  expect(failure.message).toMatch(said);
  expect(failure.refused).toBe(false);
  expect(describeFailure(failed(code), "WooCommerce", url, call, options, false).message).toMatch(/try again later/);
});

test.each([
  ["ECONNREFUSED", /Could not reach WooCommerce .*ECONNREFUSED.*try again later/],
  ["ENOTFOUND", /Could not reach WooCommerce .*ENOTFOUND.*try again later/],
  ["UND_ERR_CONNECT_TIMEOUT", /Could not connect to WooCommerce .* within 5 s/],
])("a write that never left (%s) is said to have failed, and may be made again", (code, said) => {
  const failure = describeFailure(failed(code), "WooCommerce", url, call, options, true);
  expect(failure.message).toMatch(said);
  expect(failure.refused).toBe(true);
});

test.each([500, 502, 504])("a write answered %d may have been made; a read is tried again later", (status) => {
  expect(describeStatus("WooCommerce", answer("POST", status)).message).toMatch(READ_FIRST);
  expect(describeStatus("WooCommerce", answer("GET", status)).message).toMatch(/failing; try again later/);
});

test("an answer over the size limit names the limit, and for a write that the change may have been made", () => {
  const tooLarge = failed("UND_ERR_RES_EXCEEDED_MAX_SIZE");
  expect(describeFailure(tooLarge, "WooCommerce", url, call, options, false).message).toMatch(
    /larger than 1 bytes, the limit set by WAITER_MAX_RESPONSE_BYTES; ask for less/,
  );
  expect(describeFailure(tooLarge, "WooCommerce", url, call, options, true).message).toMatch(
    /the limit set by WAITER_MAX_RESPONSE_BYTES; the change may have been made/,
  );
});
