import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { z } from "zod";
import { A_CHANGE, UnconfirmedChange } from "../../src/errors.js";
import { storeError } from "../../src/events/postgres/store.js";
import { describeFailure, describeStatus, mayHaveActed, READ_BEFORE_RETRYING } from "../../src/http/failures.js";
import type { HttpClientOptions, HttpResponse } from "../../src/http/types.js";
import { passing, Upstream } from "../../src/http/upstream.js";
import { neverConnected } from "../../src/net-failures.js";

const url = new URL("https://shop.example/wp-json/wc/v3/orders/1/notes");
const call = { signal: new AbortController().signal, deadline: Number.MAX_SAFE_INTEGER };
const options = {
  responseTimeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  maxResponseBytes: 1,
  maxResponseBytesSetting: "WAITER_MAX_RESPONSE_BYTES",
} as Required<HttpClientOptions>;
/** A connection's error as Node gives it: its code, and a message that names the code (getaddrinfo ENOTFOUND shop.example). */
const failed = (code: string, message = `${code} shop.example`) => Object.assign(new Error(message), { code });
const answer = (method: "GET" | "POST", status: number): HttpResponse => ({
  url,
  path: "/orders/1/notes",
  method,
  changes: mayHaveActed(method),
  status,
  headers: {},
  text: "<html>504 Gateway Time-out</html>",
});
/** A request to `url`: `changes`, one that may change something; `urlSetting`, the setting that holds its URL. */
const sent = (changes: boolean, urlSetting = "the configured base URL") => ({
  url,
  changes,
  urlSetting,
  urlIsWaitersOwn: false,
  changeAdvice: READ_BEFORE_RETRYING,
  change: A_CHANGE,
});
const READ_FIRST = /may have been made\. Read the current state before trying again/;

test.each([
  ["UND_ERR_HEADERS_TIMEOUT", /did not confirm the change \(no answer's headers within 15 s\); it may have been made/],
  [
    "UND_ERR_BODY_TIMEOUT",
    /did not confirm the change \(its answer stopped midway, nothing more for 15 s\); it may have been made/,
  ],
  ["UND_ERR_SOCKET", /did not confirm the change \(the connection was cut\); it may have been made/],
  ["ECONNRESET", /did not confirm the change \(the connection was cut\); it may have been made/],
  ["ETIMEDOUT", /did not confirm the change \(the connection timed out\); it may have been made/],
])("a write that fails with %s after it was sent may have been made", (code, said) => {
  const failure = describeFailure(failed(code), "WooCommerce", sent(true), call, options);
  expect(failure.message).toMatch(said);
  expect(failure.refused).toBe(false);
  expect(describeFailure(failed(code), "WooCommerce", sent(false), call, options).message).toMatch(/try again later/);
});

test.each([
  ["ECONNREFUSED", /Could not reach WooCommerce .*: the connection was refused.*try again later/],
  ["ENOTFOUND", /Could not reach WooCommerce .*: its name does not resolve/],
  ["UND_ERR_CONNECT_TIMEOUT", /Could not connect to WooCommerce .* within 5 s/],
  ["EMFILE", /Could not reach WooCommerce .*: waiter has no file handle left for a connection/],
])("a write that never left (%s) is said to have failed, and may be made again", (code, said) => {
  const failure = describeFailure(failed(code), "WooCommerce", sent(true), call, options);
  expect(failure.message).toMatch(said);
  expect(failure.refused).toBe(true);
});

const where = "WooCommerce \\(shop\\.example\\)";
test.each([
  [
    "ENOTFOUND",
    `Could not reach ${where}: its name does not resolve, as DNS knows no such host or this machine is offline; check WAITER_WOO_URL, and this machine's network and DNS settings\\.$`,
  ],
  [
    "EAI_AGAIN",
    `Could not reach ${where}: looking up its name failed for now \\(a temporary DNS failure, or this machine is offline\\); try again later, or if it lasts, check this machine's network and DNS settings\\.$`,
  ],
  [
    "ECONNREFUSED",
    `Could not reach ${where}: the connection was refused, as nothing listens there; try again later, or if it lasts, check the port in WAITER_WOO_URL\\.$`,
  ],
  [
    "EMFILE",
    `^Could not reach ${where}: waiter has no file handle left for a connection \\(too many open at once, or its ulimit -n too low\\); try again in a moment, or if it lasts, tell whoever runs waiter\\.$`,
  ],
  ["ECONNRESET", `^The connection to ${where} was cut before it answered; try again later\\.$`],
  ["UND_ERR_SOCKET", `^The connection to ${where} was cut before it answered; try again later\\.$`],
  ["ETIMEDOUT", `^The connection to ${where} timed out; the service or the network is down, try again later\\.$`],
  [
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    `Could not reach ${where} securely: its certificate is not trusted \\(self-signed certificate\\); if a private authority signed it, or a proxy or antivirus that inspects TLS stands in between, give that authority's certificate to waiter in NODE_EXTRA_CA_CERTS`,
  ],
  [
    "ERR_TLS_CERT_ALTNAME_INVALID",
    `Could not reach ${where} securely: its certificate does not name shop\\.example; check WAITER_WOO_URL, or, on a Wi-Fi with a login page \\(a hotel's, an airport's\\), sign in in a browser, then try again\\.$`,
  ],
  ["CERT_HAS_EXPIRED", `Could not reach ${where} securely: its certificate has expired; whoever runs it must renew it`],
  [
    "ERR_SSL_WRONG_VERSION_NUMBER",
    `Could not reach ${where} securely: it does not answer TLS at that port; check WAITER_WOO_URL`,
  ],
])("a read whose connection fails with %s says what happened in words and what to do", (code, said) => {
  const error = failed(code, code === "DEPTH_ZERO_SELF_SIGNED_CERT" ? "self-signed certificate" : undefined);
  const { message } = describeFailure(error, "WooCommerce", sent(false, "WAITER_WOO_URL"), call, options);
  expect(message).toMatch(new RegExp(said));
  expect(message).not.toContain(code);
});

test.each([
  ["CERT_REVOKED", "certificate revoked"],
  ["CERT_SIGNATURE_FAILURE", "certificate signature failure"],
  ["INVALID_CA", "invalid CA certificate"],
])(
  "a certificate TLS refuses with %s is said as refused, to mend where it is served, not as a service down",
  (code, reason) => {
    const where = "WooCommerce \\(shop\\.example\\)";
    const said = (own: boolean) =>
      describeFailure(
        failed(code, reason),
        "WooCommerce",
        { ...sent(false, "WAITER_WOO_URL"), urlIsWaitersOwn: own },
        call,
        options,
      ).message;
    expect(said(false)).toMatch(
      new RegExp(
        `^Could not reach ${where} securely: its certificate was refused \\(${reason}\\); tell whoever runs it, as it lasts until they mend that\\.$`,
      ),
    );
    expect(said(true)).toMatch(
      new RegExp(
        `^Could not reach ${where} securely: its certificate was refused \\(${reason}\\), so another server may answer in its place; if it lasts, check this machine's network\\.$`,
      ),
    );
  },
);

test("a lost route is said as a connection that never opened only when it came as the connection opened", () => {
  // As Node gives them: the syscall that failed, and, for a connection tried at IPv6 and IPv4, each one's error.
  const opening = Object.assign(failed("EHOSTUNREACH", "connect EHOSTUNREACH 192.0.2.1:443"), { syscall: "connect" });
  const everyAddress = Object.assign(new AggregateError([opening, { code: "ENETUNREACH", syscall: "connect" }]), {
    code: "EHOSTUNREACH",
  });
  const open = Object.assign(failed("EHOSTUNREACH", "read EHOSTUNREACH"), { syscall: "read" });
  const noRoute = `^Could not reach ${where}: this machine has no route to it \\(its network is down or unreachable\\); try again later, or if it lasts, check this machine's network\\.$`;
  for (const never of [opening, everyAddress]) {
    for (const changes of [true, false]) {
      const failure = describeFailure(never, "WooCommerce", sent(changes), call, options);
      expect(failure.message).toMatch(new RegExp(noRoute));
      expect(failure.refused).toBe(true);
    }
  }
  const write = describeFailure(open, "WooCommerce", sent(true), call, options);
  expect(write.message).toBe(
    "WooCommerce (shop.example) did not confirm the change (the route to it was lost); it may have been made. Read the current state before trying again.",
  );
  expect(write.refused).toBe(false);
  const read = describeFailure(open, "WooCommerce", sent(false), call, options);
  expect(read.message).toBe(
    "The connection to WooCommerce (shop.example) lost its route before it answered (this machine's network went down or changed); try again later, or if it lasts, check this machine's network.",
  );
  expect(read.refused).toBe(false);
});

test("whether a connection never opened is read from its error, which its code alone does not tell", () => {
  // @ts-expect-error: a code says neither which call failed nor what each address gave.
  expect(neverConnected("ECONNREFUSED")).toBe(false);
  expect(neverConnected(failed("ECONNREFUSED"))).toBe(true);
});

test("a write tried at IPv6 and IPv4, whose first address did not answer in its turn, was never sent", () => {
  // As Node gives it: each address's error, of the syscall connect, and the first one's code.
  const ipv6 = Object.assign(failed("ETIMEDOUT", "connect ETIMEDOUT 2001:db8::1:443"), { syscall: "connect" });
  const ipv4 = Object.assign(failed("ECONNREFUSED", "connect ECONNREFUSED 192.0.2.1:443"), { syscall: "connect" });
  const everyAddress = Object.assign(new AggregateError([ipv6, ipv4]), { code: "ETIMEDOUT" });
  const write = describeFailure(everyAddress, "WooCommerce", sent(true), call, options);
  expect(write).not.toBeInstanceOf(UnconfirmedChange);
  expect(write.refused).toBe(true);
  // One that timed out on an open connection may have gone out.
  const open = Object.assign(failed("ETIMEDOUT", "read ETIMEDOUT"), { syscall: "read" });
  expect(describeFailure(open, "WooCommerce", sent(true), call, options)).toBeInstanceOf(UnconfirmedChange);
});

test("a connection tried at IPv6 and IPv4 that opened at neither is said by its most telling error, not its first", () => {
  // As Node builds it: each address's error, of the syscall connect, and the first one's code.
  const ipv6 = Object.assign(failed("ETIMEDOUT", "connect ETIMEDOUT 2001:db8::1:443"), { syscall: "connect" });
  const ipv4 = Object.assign(failed("ECONNREFUSED", "connect ECONNREFUSED 192.0.2.1:443"), { syscall: "connect" });
  const refused = `^Could not reach ${where}: the connection was refused, as nothing listens there; try again later, or if it lasts, check the port in WAITER_WOO_URL\\.$`;
  // A broken IPv6 path times out first; the refusal at IPv4 says the service is down.
  for (const errors of [
    [ipv6, ipv4],
    [ipv4, ipv6],
  ]) {
    const everyAddress = Object.assign(new AggregateError(errors), { code: errors[0]?.code });
    for (const changes of [true, false]) {
      const failure = describeFailure(everyAddress, "WooCommerce", sent(changes, "WAITER_WOO_URL"), call, options);
      expect(failure.message).toMatch(new RegExp(refused));
      expect(failure.refused).toBe(true);
    }
  }
  // Timed out at both, it is a timeout still.
  const ipv4Timeout = Object.assign(failed("ETIMEDOUT", "connect ETIMEDOUT 192.0.2.1:443"), { syscall: "connect" });
  const bothTimedOut = Object.assign(new AggregateError([ipv6, ipv4Timeout]), { code: "ETIMEDOUT" });
  expect(describeFailure(bothTimedOut, "WooCommerce", sent(false), call, options).message).toBe(
    "The connection to WooCommerce (shop.example) timed out; the service or the network is down, try again later.",
  );
});

test("an address this machine cannot use at all says nothing of the other end: the other address's failure is said", () => {
  // As Node builds it: ::1 where IPv6 is off fails before it is tried; the IPv4 address timed out in its turn.
  const ipv6 = Object.assign(failed("EADDRNOTAVAIL", "connect EADDRNOTAVAIL ::1:443 - Local (:::0)"), {
    syscall: "connect",
  });
  const ipv4 = Object.assign(failed("ETIMEDOUT", "connect ETIMEDOUT 192.0.2.1:443"), { syscall: "connect" });
  for (const errors of [
    [ipv6, ipv4],
    [ipv4, ipv6],
  ]) {
    const everyAddress = Object.assign(new AggregateError(errors), { code: errors[0]?.code });
    expect(describeFailure(everyAddress, "WooCommerce", sent(false), call, options).message).toBe(
      "The connection to WooCommerce (shop.example) timed out; the service or the network is down, try again later.",
    );
  }
  // A reset, as a refusal, says the other end answered: not that this machine has no route to it.
  const noRoute = Object.assign(failed("EHOSTUNREACH", "connect EHOSTUNREACH 2001:db8::1:443"), { syscall: "connect" });
  const reset = Object.assign(failed("ECONNRESET", "connect ECONNRESET 192.0.2.1:443"), { syscall: "connect" });
  const everyAddress = Object.assign(new AggregateError([noRoute, reset]), { code: "EHOSTUNREACH" });
  expect(describeFailure(everyAddress, "WooCommerce", sent(false), call, options).message).toBe(
    "Could not reach WooCommerce (shop.example): the connection was cut as it opened, before waiter's request went out (by the service, or by a firewall or filter on the way to it); try again later, and if it lasts, tell whoever runs it, or check this machine's network.",
  );
});

test("docs/behaviour.md quotes what a response timeout is said as, of a read and of a write", () => {
  const page = readFileSync(new URL("../../docs/behaviour.md", import.meta.url), "utf8").replace(/\s+/g, " ");
  const said = (code: string, changes: boolean) =>
    describeFailure(failed(code), "WooCommerce", sent(changes), call, options).message;
  for (const [code, changes, words] of [
    ["UND_ERR_HEADERS_TIMEOUT", false, "did not send its answer's headers within 15 s"],
    ["UND_ERR_BODY_TIMEOUT", false, "began to answer, then stopped midway"],
    ["UND_ERR_HEADERS_TIMEOUT", true, "no answer's headers within 15 s"],
    ["UND_ERR_BODY_TIMEOUT", true, "its answer stopped midway"],
  ] as const) {
    expect(said(code, changes)).toContain(words);
    expect(page).toContain(`"${words}"`);
  }
});

test("a public API waiter chose, not a setting, is not said to be a setting's fault when it cannot be reached", () => {
  const own = { ...sent(false, "WAITER_WOO_URL"), urlIsWaitersOwn: true };
  const said = (code: string) => describeFailure(failed(code), "WooCommerce", own, call, options).message;
  expect(said("ENOTFOUND")).toBe(
    "Could not reach WooCommerce (shop.example): its name does not resolve, so this machine is offline or its DNS is failing; try again once it is online, or if it lasts, check this machine's network and DNS settings.",
  );
  expect(said("ECONNREFUSED")).toBe(
    "Could not reach WooCommerce (shop.example): the connection was refused: the service is down, or a firewall on this machine or its network refuses it; try again later, or if it lasts, check this machine's network.",
  );
  // A public API renews its certificate: an expired one is likelier a Wi-Fi's login page's.
  expect(said("CERT_HAS_EXPIRED")).toBe(
    "Could not reach WooCommerce (shop.example) securely: its certificate has expired, so another server may answer in its place: on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again; or, if this machine's clock is wrong, set it right.",
  );
});

test("a public API waiter chose that answers plain HTTP, or shows a certificate of many other names, is another server answering in its place", () => {
  const own = { ...sent(false, "WAITER_WOO_URL"), urlIsWaitersOwn: true };
  const plain = describeFailure(failed("ERR_SSL_WRONG_VERSION_NUMBER"), "WooCommerce", own, call, options);
  expect(plain.message).toBe(
    "Could not reach WooCommerce (shop.example) securely: it does not answer TLS at that port, so another server answers in its place: on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again; if it lasts, check this machine's network.",
  );
  const cert = { subjectaltname: "DNS:a.example, IP Address:10.0.0.1, DNS:b.example, DNS:c.example, DNS:d.example" };
  const other = Object.assign(failed("ERR_TLS_CERT_ALTNAME_INVALID"), { cert });
  expect(describeFailure(other, "WooCommerce", own, call, options).message).toMatch(
    /^Could not reach WooCommerce \(shop\.example\) securely: its certificate is for a\.example, b\.example, c\.example and 1 more, not shop\.example, so another server answers in its place: /,
  );
});

test("a certificate no authority vouches for is said alike on every Node.js, without the advice Node.js 24 adds to its reason", () => {
  // Node 24's reason; Node 20 and 22 say "self-signed certificate" alone.
  const node24 = failed(
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca",
  );
  expect(describeFailure(node24, "WooCommerce", sent(false, "WAITER_WOO_URL"), call, options).message).toBe(
    "Could not reach WooCommerce (shop.example) securely: its certificate is not trusted (self-signed certificate); if a private authority signed it, or a proxy or antivirus that inspects TLS stands in between, give that authority's certificate to waiter in NODE_EXTRA_CA_CERTS (a PEM file's path); or, on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again.",
  );
});

test("the event store's database whose certificate no authority vouches for is said without Node.js 24's advice", () => {
  const node24 = Object.assign(
    new Error(
      "self-signed certificate in certificate chain; if the root CA is installed locally, try running Node.js with --use-system-ca",
    ),
    { code: "SELF_SIGNED_CERT_IN_CHAIN" },
  );
  const { message } = storeError(node24, {
    database: "db.example:5432/waiter",
    passwordFrom: "PGPASSWORD",
    lockWaitMs: 5_000,
  }) as Error;
  expect(message).toMatch(
    /^The event store's database refuses waiter's connection \(TLS: self-signed certificate in certificate chain; db\.example:5432\/waiter\): .* tell them to check that the CA the URL's sslrootcert names/,
  );
  expect(message).not.toContain("--use-system-ca");
});

test("a write that fails in TLS was not sent: it says so, not that it may have been made", () => {
  const failure = describeFailure(failed("DEPTH_ZERO_SELF_SIGNED_CERT"), "WooCommerce", sent(true), call, options);
  expect(failure.message).toMatch(
    /^Could not reach WooCommerce \(shop\.example\) securely: its certificate is not trusted/,
  );
  expect(failure.message).not.toMatch(READ_FIRST);
});

test.each([500, 502, 504])("a write answered %d may have been made; a read is tried again later", (status) => {
  expect(describeStatus("WooCommerce", answer("POST", status)).message).toMatch(READ_FIRST);
  expect(describeStatus("WooCommerce", answer("GET", status)).message).toMatch(/failing; try again later/);
});

test("a 501 says the upstream takes no such request, so nothing was done, not that a change may have been made", () => {
  for (const method of ["POST", "GET"] as const) {
    const failure = describeStatus("WooCommerce", answer(method, 501));
    expect(failure.message).toBe(
      "WooCommerce answered 501: it does not take this request, so nothing was done; tell whoever runs it.",
    );
    expect(failure).not.toBeInstanceOf(UnconfirmedChange);
  }
});

test("a 409 says the request conflicts with the current state, which is read before trying again, not that the arguments are wrong", () => {
  const conflict = { ...answer("POST", 409), text: '{"code":"order_locked","message":"Order is being edited."}' };
  const { message, status } = describeStatus("WooCommerce", conflict);
  expect(message).toBe(
    'WooCommerce answered 409 "Order is being edited.": it was not carried out, as it conflicts with the current state; read that before trying again.',
  );
  expect(status).toBe(409);
});

test("a 408 says the service did not wait for the whole request, not that the arguments are wrong; it passes", () => {
  const read = describeStatus("WooCommerce", answer("GET", 408));
  expect(read.message).toBe(
    "WooCommerce answered 408: it did not receive the whole request in time (a slow network, or the service busy); try again.",
  );
  expect(passing(read)).toBe(true);
  expect(describeStatus("WooCommerce", answer("POST", 408)).message).toBe(
    "WooCommerce answered 408: it did not receive the whole request in time (a slow network, or the service busy), so the change should not have been made. Read the current state before trying again.",
  );
});

test("a 400 or 422 tells the upstream's words and points at the arguments only through them", () => {
  const refused = (status: number, text: string, method: "GET" | "POST" = "GET") =>
    describeStatus("GoPay API", { ...answer(method, status), text }).message;
  expect(refused(400, "")).toBe(
    "GoPay API answered 400: it refused the request without saying why; tell whoever runs waiter.",
  );
  // GoPay's errors are a list: {"errors":[{"error_code":…,"message":…,"description":…}]}.
  const gopay =
    '{"date_issued":"2026-11-30T09:00:00.000+0100","errors":[{"scope":"G","error_code":110,"error_name":"PAYMENT_NOT_FOUND","message":"Payment not found."}]}';
  expect(refused(422, gopay, "POST")).toBe(
    'GoPay API answered 422 "Payment not found.": it refused the request, so nothing was changed; if its words point at an argument, change that, else tell whoever runs waiter.',
  );
  // Stripe's (and others') error is an object: {"error":{"type":…,"message":…}}.
  expect(
    refused(400, '{"error":{"type":"invalid_request_error","message":"No such payment_intent: \'pi_1\'"}}'),
  ).toMatch(/^GoPay API answered 400 "No such payment_intent: 'pi_1'": it refused the request;/);
});

test("an answer over the size limit names the limit, and for a write that the change may have been made", () => {
  const tooLarge = failed("UND_ERR_RES_EXCEEDED_MAX_SIZE");
  expect(describeFailure(tooLarge, "WooCommerce", sent(false), call, options).message).toMatch(
    /larger than 1 bytes, the limit set by WAITER_MAX_RESPONSE_BYTES; ask for less/,
  );
  expect(describeFailure(tooLarge, "WooCommerce", sent(true), call, options).message).toMatch(
    /the limit set by WAITER_MAX_RESPONSE_BYTES; the change may have been made/,
  );
});

test("a change not confirmed is said in its upstream's words and ends with its advice, however it failed", () => {
  const advice = "Sending the message again may send it twice";
  const message = { what: "the message", made: "sent" };
  const told = /(the message|it) may have been sent\. Sending the message again may send it twice\.$/;
  const telegram = { ...sent(true), changeAdvice: advice, change: message };
  for (const code of ["UND_ERR_HEADERS_TIMEOUT", "ECONNRESET", "UND_ERR_RES_EXCEEDED_MAX_SIZE", "Z_DATA_ERROR"]) {
    expect(describeFailure(failed(code), "Telegram", telegram, call, options).message, code).toMatch(told);
  }
  const cancelled = { signal: AbortSignal.abort(), deadline: Number.MAX_SAFE_INTEGER };
  expect(describeFailure(failed("ABORT_ERR"), "Telegram", telegram, cancelled, options).message).toMatch(told);
  for (const status of [304, 502]) {
    const failure = describeStatus("Telegram", answer("POST", status), {
      urlSetting: "the baseUrl of channel ops",
      changeAdvice: advice,
      change: message,
    });
    expect(failure.message, String(status)).toMatch(told);
  }
  const late = describeStatus("Telegram", answer("POST", 408), {
    urlSetting: "",
    changeAdvice: advice,
    change: message,
  });
  expect(late.message).toMatch(/so the message should not have been sent\. Sending the message again/);
});

test("the event store's database that takes no connection in time is said with the timeout, and where it was set", () => {
  const connect = { ms: 15_000, from: "connect_timeout in WAITER_DATABASE_URL" };
  // The pool's words for a connection attempt it ended, and the client's for one it ended itself.
  for (const failure of [new Error("Connection terminated due to connection timeout"), new Error("timeout expired")]) {
    const { message } = storeError(failure, {
      database: "db.example:5432/waiter",
      passwordFrom: "PGPASSWORD",
      lockWaitMs: 5_000,
      connect,
    }) as Error;
    expect(message).toBe(
      "The event store's database cannot be reached: it took no connection within 15 s (connect_timeout in WAITER_DATABASE_URL). waiter connects again by itself; try again in a moment.",
    );
  }
  // Every connection of waiter's busy the while: the pool's words.
  const busy = storeError(new Error("timeout exceeded when trying to connect"), {
    database: "db.example:5432/waiter",
    passwordFrom: "PGPASSWORD",
    lockWaitMs: 5_000,
    connect,
  }) as Error;
  expect(busy.message).toBe(
    "The event store's database cannot be reached: none of waiter's 10 connections to it came free within 15 s (connect_timeout in WAITER_DATABASE_URL), statements slow to be answered holding them. waiter connects again by itself; try again in a moment.",
  );
});

test("the event store's database whose transaction_timeout ended waiter's session says which setting to lift for waiter's user", () => {
  // PostgreSQL 17's words and code (25P04, transaction_timeout), which the tests' PostgreSQL 15 cannot give.
  const ended = Object.assign(new Error("terminating connection due to transaction timeout"), {
    code: "25P04",
    severity: "FATAL",
  });
  const { message } = storeError(ended, {
    database: "db.example:5432/waiter",
    passwordFrom: "PGPASSWORD",
    lockWaitMs: 5_000,
  }) as Error;
  expect(message).toBe(
    "The event store's database ended waiter's session (PostgreSQL 25P04: terminating connection due to transaction timeout; db.example:5432/waiter): a transaction_timeout set on its user or database shorter than the statement needed (ALTER ROLE … SET transaction_timeout = 0, for waiter's user, lifts it); nothing of it is stored, so tell whoever runs waiter if this lasts; try again in a moment.",
  );
});

test("the event store's database URL written in the config file is named there by what a call says to change in it", () => {
  const urlFrom = "database.url in /etc/waiter/waiter.json";
  const said = (err: Error) =>
    (
      storeError(err, {
        database: "db.example:5432/waiter",
        passwordFrom: "PGPASSWORD",
        lockWaitMs: 5_000,
        urlFrom,
      }) as Error
    ).message;
  const readOnly = Object.assign(new Error("cannot execute INSERT in a read-only transaction"), { code: "25006" });
  expect(said(readOnly)).toContain(
    `Nothing is stored until whoever runs waiter points ${urlFrom} at the primary server`,
  );
  const noDatabase = Object.assign(new Error('database "nosuch" does not exist'), { code: "3D000" });
  expect(said(noDatabase)).toContain(`check the database's name in ${urlFrom}`);
  const tlsOnly = Object.assign(
    new Error('no pg_hba.conf entry for host "10.0.0.5", user "waiter", database "waiter", no encryption'),
    { code: "28000" },
  );
  expect(said(tlsOnly)).toContain(`which waiter uses only when the sslmode in ${urlFrom} (or PGSSLMODE) asks for it`);
  const otherName = Object.assign(
    new Error(
      "Hostname/IP does not match certificate's altnames: Host: db.example. is not in the cert's altnames: DNS:other.example",
    ),
    { code: "ERR_TLS_CERT_ALTNAME_INVALID" },
  );
  expect(said(otherName)).toContain(`check that ${urlFrom} names the database server by a name its certificate holds`);
});

test("a change's failure that repeats the request's credentials has them taken out of what a waiting step says too", () => {
  const upstream = new Upstream("WooCommerce", new URL("https://shop.example/wp-json/wc/v3"), {} as never);
  const secret = "cs_0123456789abcdef0123456789abcdef";
  let thrown: unknown;
  try {
    upstream.read(z.unknown(), {
      ...answer("POST", 500),
      headers: { "content-type": "application/json" },
      text: JSON.stringify({ code: "internal_error", message: `Internal error for consumer_secret=${secret}` }),
      credentials: [secret],
    });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(UnconfirmedChange);
  const { message, failure } = thrown as UnconfirmedChange;
  expect(failure).toContain("consumer_secret=");
  expect(message).not.toContain(secret);
  expect(failure).not.toContain(secret);
});
