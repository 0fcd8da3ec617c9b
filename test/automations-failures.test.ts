import { readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { describe, expect, test } from "vitest";
import { type RunningServe, startServe } from "../src/app.js";
import { withoutRetryAdvice } from "../src/automations/calls.js";
import { loadConfig } from "../src/config.js";
import { SqliteEventStore } from "../src/events/sqlite/store.js";
import { Log } from "../src/log.js";
import { clock, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import {
  CHAT,
  dataDir,
  env,
  holdAnswers,
  O,
  PAID,
  pay,
  runsOf,
  sequence,
  serve,
  shopDown,
  TELL,
  telegram,
  useFakes,
  WATCH,
  waitingStep,
  woo,
} from "./automations-harness.js";
import { freePort, json } from "./fakes/http.js";
import { startProxy } from "./fakes/proxy.js";
import { BOT_TOKEN } from "./fakes/telegram.js";
import { startWaiter } from "./memory.js";
import { localhostCertificate } from "./nginx.js";
import { SERVING, startNode } from "./spawn.js";
import { CLI, text } from "./stdio.js";

useFakes();

describe("when a public API fails", () => {
  test("a public API's certificate refused at a Wi-Fi's login page in its place is tried again: signing in mends it", async () => {
    // Every host reached through the proxy is the login page's, as a hotel's Wi-Fi answers until one signs in.
    let handshakes = 0;
    const portal = createHttpsServer({
      key: readFileSync(new URL("./fixtures/shop-tls.key", import.meta.url)),
      cert: readFileSync(new URL("./fixtures/shop-tls.crt", import.meta.url)),
    });
    portal.on("connection", () => handshakes++);
    await new Promise<void>((resolve) => portal.listen(0, "127.0.0.1", resolve));
    const proxy = await startProxy();
    proxy.portal = (portal.address() as AddressInfo).port;
    const convert = {
      name: "convert",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [{ tool: "currency_convert", args: { amount: 1, from: "USD", to: "EUR" } }],
    };
    const server = await serve([convert], { HTTPS_PROXY: proxy.origin, WAITER_AUTOMATION_RETRY_SECONDS: "600" });
    try {
      const event = await pay(server, undefined, "evt_wifi_login");
      const waiting = async () => {
        const [run] = await runsOf(event.id, false);
        return `${run?.status}: ${JSON.parse(run?.steps[0]?.detail ?? "{}").waiting}`;
      };
      await expect
        .poll(waiting, { timeout: 5_000 })
        .toMatch(
          /^running: Could not reach Frankfurter \(ECB rates\) \(api\.frankfurter\.dev\) securely: its certificate is not trusted \(self-signed certificate\), so another server answers in its place: .* Trying again at /,
        );
      await expect.poll(() => handshakes, { timeout: 10_000 }).toBeGreaterThan(1);
    } finally {
      await server.close();
      await proxy.close();
      portal.close();
    }
  });
  test("a message to Telegram refused at a Wi-Fi's login page in its place is tried again: it was never sent", async () => {
    let handshakes = 0;
    const portal = createHttpsServer({
      key: readFileSync(new URL("./fixtures/shop-tls.key", import.meta.url)),
      cert: readFileSync(new URL("./fixtures/shop-tls.crt", import.meta.url)),
    });
    portal.on("connection", () => handshakes++);
    await new Promise<void>((resolve) => portal.listen(0, "127.0.0.1", resolve));
    const proxy = await startProxy();
    proxy.portal = (portal.address() as AddressInfo).port;
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] };
    const server = await serve([tell], {
      HTTPS_PROXY: proxy.origin,
      WAITER_AUTOMATION_RETRY_SECONDS: "600",
      // Telegram's own address, which the login page answers in place of.
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT] },
      }),
    });
    try {
      const event = await pay(server, undefined, "evt_wifi_login_message");
      const waiting = async () => {
        const [run] = await runsOf(event.id, false);
        return `${run?.status}: ${JSON.parse(run?.steps[0]?.detail ?? "{}").waiting}`;
      };
      await expect
        .poll(waiting, { timeout: 5_000 })
        .toMatch(
          /^running: No chat of team confirmed the message: 424242: Could not reach Telegram Bot API \(api\.telegram\.org\) securely: its certificate is not trusted \(self-signed certificate\), so another server answers in its place: .* Trying again at /,
        );
      await expect.poll(() => handshakes, { timeout: 10_000 }).toBeGreaterThan(1);
      expect((await runsOf(event.id, false))[0]?.status).toBe("running");
    } finally {
      await server.close();
      await proxy.close();
      portal.close();
    }
  });
  test("a message to Telegram whose place a server takes that asks for a client certificate is tried again: it was never taken", async () => {
    // The server in Telegram's place, with a certificate this machine trusts, refuses waiter, which
    // sends none, once waiter's side of the TLS 1.3 handshake is done and its request written.
    const { cert, key } = localhostCertificate("api.telegram.org");
    let handshakes = 0;
    const portal = createHttpsServer({
      key: readFileSync(key),
      cert: readFileSync(cert),
      requestCert: true,
      rejectUnauthorized: true,
    });
    portal.on("connection", () => handshakes++);
    await new Promise<void>((resolve) => portal.listen(0, "127.0.0.1", resolve));
    const proxy = await startProxy();
    proxy.portal = (portal.address() as AddressInfo).port;
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] };
    // In a process of its own, which trusts that certificate as it starts.
    const server = await startNode(
      [CLI, "serve"],
      env([tell], {
        HTTPS_PROXY: proxy.origin,
        NODE_EXTRA_CA_CERTS: cert,
        WAITER_AUTOMATION_RETRY_SECONDS: "600",
        WAITER_LOG_LEVEL: "info",
        WAITER_NOTIFY_CHANNELS: JSON.stringify({
          team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT] },
        }),
      }),
      SERVING,
    );
    try {
      const event = await pay({ url: server.said }, undefined, "evt_client_certificate_message");
      const waiting = async () => {
        const [run] = await runsOf(event.id, false);
        return `${run?.status}: ${JSON.parse(run?.steps[0]?.detail ?? "{}").waiting}`;
      };
      await expect
        .poll(waiting, { timeout: 5_000 })
        .toMatch(
          /^running: No chat of team confirmed the message: 424242: Could not reach Telegram Bot API \(api\.telegram\.org\) securely: it asks for a client certificate \(tlsv13 alert certificate required\), which waiter does not send, so another server may answer in its place; .* Trying again at /,
        );
      await expect.poll(() => handshakes, { timeout: 10_000 }).toBeGreaterThan(1);
      expect((await runsOf(event.id, false))[0]?.status).toBe("running");
    } finally {
      server.child.kill();
      await server.exited;
      await proxy.close();
      portal.close();
    }
  });
  test("a message through an https proxy whose certificate is not trusted fails its run at once: no wait mends it", async () => {
    // The proxy at an address set, HTTPS_PROXY, behind TLS whose certificate signed itself.
    const front = createTlsServer(
      {
        key: readFileSync(new URL("./fixtures/shop-tls.key", import.meta.url)),
        cert: readFileSync(new URL("./fixtures/shop-tls.crt", import.meta.url)),
      },
      (socket) => socket.destroy(),
    );
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] };
    const server = await serve([tell], {
      HTTPS_PROXY: proxyUrl,
      WAITER_AUTOMATION_RETRY_SECONDS: "600",
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT] },
      }),
    });
    try {
      const event = await pay(server, undefined, "evt_untrusted_proxy");
      await expect.poll(async () => (await runsOf(event.id, false))[0]?.status, { timeout: 5_000 }).toBe("failed");
      expect((await runsOf(event.id))[0]?.error).toContain(
        `No chat of team confirmed the message: 424242: Could not reach Telegram Bot API (api.telegram.org) through the proxy ${proxyUrl} (HTTPS_PROXY) securely: its certificate is not trusted (self-signed certificate)`,
      );
    } finally {
      await server.close();
      await new Promise((resolve) => front.close(resolve));
    }
  });
});

describe("when the shop fails", () => {
  test("a run waiting out a shop outage holds no later event's run: the shop is paid once when it is back", async () => {
    // Tries a second, two, four and eight apart: the run waits for its next one, and is still
    // tried 15 s after the first, however long a loaded machine takes over the agent's look.
    const server = await serve([PAID, TELL], { WAITER_AUTOMATION_RETRY_SECONDS: "20" });
    try {
      const sent = telegram.delivered.length;
      const refused = shopDown();
      const first = await pay(server, String(O.pending1999), "evt_during_outage");
      await expect.poll(refused).toBeGreaterThan(0);
      const second = await pay(server, undefined, "evt_behind_outage");
      await expect
        .poll(() => telegram.delivered.slice(sent).map((message) => message.text))
        .toEqual(["Paid without an order: “pi_evt_behind_outage”"]);
      expect((await runsOf(second.id))[0]).toMatchObject({ status: "done" });
      expect((await runsOf(first.id, false))[0]).toMatchObject({ status: "running" });
      // An agent asking how the payment's run goes is told the step waits, why, and until when; not
      // to read the order before trying again, which waiter does itself.
      const agent = await startWaiter(env([PAID, TELL]));
      try {
        await waitingStep(
          agent,
          first.id,
          /^WooCommerce answered 503 "Down for maintenance": the service is failing, and the change may have been made\. Trying again at \d{4}-\d\d-\d\dT[\d:.]+Z\.$/,
        );
      } finally {
        await agent.close();
      }
      woo.intercept = undefined;
      const [run] = await runsOf(first.id);
      expect(run).toMatchObject({ status: "done" });
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done", "done"]);
      expect(woo.shop.writes.filter((w) => w.method === "PUT")).toHaveLength(1);
      expect(woo.shop.order(O.pending1999).status).toBe("processing");
      expect(telegram.delivered.slice(sent).map((message) => message.text)).toEqual([
        "Paid without an order: “pi_evt_behind_outage”",
        `Order “${O.pending1999}” is paid (“pi_evt_during_outage”).`,
      ]);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  }, 60_000);

  test("a change Wordfence's lockout stopped is tried again, and its failure told without advice to try again", async () => {
    // Tries half a second apart, then gives up: a next try would come after the retry time.
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "1" });
    try {
      woo.intercept = (req) =>
        req.method === "PUT"
          ? {
              status: 503,
              headers: { "content-type": "text/html; charset=UTF-8" },
              body: '<html><head><title>Your access to this site has been limited</title></head><body><p>Reason: <span style="color: #c10000;">Exceeded the maximum number of page requests per minute for crawlers.</span></p><p><em>Generated by Wordfence at Sat, 5 Dec 2026 21:40:00 GMT.</em></p></body></html>',
            }
          : undefined;
      const event = await pay(server, String(O.pending1999), "evt_wordfence");
      await expect.poll(async () => (await runsOf(event.id))[0]?.status).toBe("failed");
      expect((await runsOf(event.id))[0]?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): Wordfence on the shop limits this machine's requests \(503: "Exceeded the maximum number of page requests per minute for crawlers\."\), so nothing was changed: ask whoever runs the shop to allowlist this machine's address in Wordfence \(Firewall → All Firewall Options → Allowlisted IP addresses\)\. waiter tried it (once|\d+ times); a next try would come after the retry time/,
      );
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a change Cloudflare did not pass on for the shop's certificate is tried again, and not told that no retry mends it", async () => {
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "1" });
    try {
      woo.intercept = (req) =>
        req.method === "PUT"
          ? {
              status: 526,
              headers: {
                "content-type": "text/html; charset=UTF-8",
                server: "cloudflare",
                "cf-ray": "8f0c2a1b3c4d5e6f-PRG",
              },
              body: "<!DOCTYPE html><html><head><title>shop.example | 526: Invalid SSL certificate</title></head><body></body></html>",
            }
          : undefined;
      const event = await pay(server, String(O.pending1999), "evt_cloudflare_526");
      await expect.poll(async () => (await runsOf(event.id))[0]?.status).toBe("failed");
      expect((await runsOf(event.id))[0]?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): WooCommerce answered 526 "shop\.example \| 526: Invalid SSL certificate": Cloudflare in front of it did not pass the request on, as its web server's certificate is not valid \(expired, self-signed or for another name\), so the change was not made; tell whoever runs it, as it lasts until they mend that\. waiter tried it (once|\d+ times); a next try would come after the retry time/,
      );
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a shop whose certificate is refused fails the step at once: no retry mends that", async () => {
    let handshakes = 0;
    const shop = createHttpsServer({
      key: readFileSync(new URL("./fixtures/shop-tls.key", import.meta.url)),
      cert: readFileSync(new URL("./fixtures/shop-tls.crt", import.meta.url)),
    });
    shop.on("connection", () => handshakes++);
    await new Promise<void>((resolve) => shop.listen(0, "127.0.0.1", resolve));
    const server = await serve([PAID], {
      WAITER_WOO_URL: `https://127.0.0.1:${(shop.address() as AddressInfo).port}`,
      WAITER_AUTOMATION_RETRY_SECONDS: "600",
    });
    try {
      const event = await pay(server, String(O.pending1999), "evt_shop_certificate");
      await expect.poll(async () => (await runsOf(event.id, false))[0]?.status).toBe("failed");
      expect((await runsOf(event.id))[0]?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): Could not reach WooCommerce \(127\.0\.0\.1:\d+\) securely: its certificate is not trusted \(self-signed certificate\); .*\.$/,
      );
      expect(handshakes).toBe(1);
    } finally {
      await server.close();
      shop.close();
    }
  });

  test("a run that fails after another automation acknowledged its event does not tell the team it is not acknowledged", async () => {
    // Two automations on the payment: the first tells the team and acknowledges, the second fails.
    const seen = {
      name: "seen",
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [{ notify: "team", text: "Payment {{payload.data.object.id}}" }, { ack: true }],
    };
    const server = await serve([seen, { ...PAID, onFailure: { notify: "team" } }]);
    try {
      const sent = telegram.delivered.length;
      await pay(server, "999999", "evt_acked_by_another");
      await expect
        .poll(() => telegram.delivered.slice(sent).map((message) => message.text))
        .toEqual([
          "Payment “pi_evt_acked_by_another”",
          expect.stringMatching(
            /^waiter: automation stripe-paid failed on the delivery “evt_acked_by_another” from stripe\.\n.*The shop has no order 999999 .* Steps 2-3 \(notify, ack\) were not run; the event is acknowledged all the same \(by an agent or another automation\)\.$/,
          ),
        ]);
    } finally {
      await server.close();
    }
  });

  test("a run that acknowledged its event before the step that failed says so: the event no longer waits among those not acknowledged", async () => {
    const ackFirst = { ...PAID, do: [{ ack: true }, ...PAID.do.filter((step) => !("ack" in step))] };
    const server = await serve([{ ...ackFirst, onFailure: { notify: "team" } }]);
    try {
      const sent = telegram.delivered.length;
      await pay(server, "999999", "evt_acked_first");
      await expect
        .poll(() => telegram.delivered.slice(sent).map((message) => message.text))
        .toEqual([
          expect.stringMatching(
            /^waiter: automation stripe-paid failed on the delivery “evt_acked_first” from stripe\.\n.*\. Step 1 \(ack\) was done\. Step 2 \(eshop_order_mark_paid.*The shop has no order 999999 .* Step 3 \(notify\) was not run\. Step 1 acknowledged the event, so it no longer waits among those not acknowledged\.$/,
          ),
        ]);
    } finally {
      await server.close();
    }
  });

  test("a run waiting to try a step again whose event retention drops meanwhile fails, and says so", async () => {
    const lines: string[] = [];
    const server = await serve(
      [{ ...PAID, onFailure: { notify: "team" } }],
      { WAITER_AUTOMATION_RETRY_SECONDS: "10" },
      lines,
    );
    try {
      const sent = telegram.delivered.length;
      // A 500, which the HTTP client does not retry itself: the step waits for its next try at once.
      let refused = 0;
      woo.intercept = (req) =>
        req.method === "PUT" && ++refused
          ? json(500, '{"code":"internal_error","message":"Database error"}')
          : undefined;
      const event = await pay(server, String(O.pending1999), "evt_dropped_waiting");
      await expect.poll(() => refused).toBeGreaterThan(0);
      const s = new SqliteEventStore(join(dataDir, "events.db"), { maxEvents: 1000, maxBytes: 1e8, maxAgeDays: 1 });
      await s.expire(clock.now() + 2 * 86_400_000);
      await s.close();
      // The event is gone: the notice names the order and the payment, for the person who pays it by
      // hand, and says nothing of whether an event no longer stored is acknowledged.
      const said = `failed on waiter's event ${event.id}.\nIt waited to try a step again, and retention dropped its event meanwhile. Step 1 (eshop_order_mark_paid, id ${O.pending1999}, transaction_id “pi_evt_dropped_waiting”) was not done. Steps 2-3 (notify, ack) were not run.`;
      await expect
        .poll(() =>
          lines.filter((line) =>
            line.includes(
              `of automation stripe-paid ${said.replace("\n", " ").replace(`id ${O.pending1999}, transaction_id “pi_evt_dropped_waiting”`, "id …, transaction_id …")}`,
            ),
          ),
        )
        .toHaveLength(1);
      await expect
        .poll(() => telegram.delivered.slice(sent).map((message) => message.text))
        .toEqual([expect.stringContaining(said)]);
      expect(woo.shop.order(O.pending1999).status).toBe("pending");
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a step's dates read in its run and its failure notice as written, not as the instants the tool reads them into", async () => {
    const list = {
      name: "list-orders",
      when: { source: "stripe" },
      do: [
        {
          tool: "eshop_orders_list",
          args: { after: "2026-11-01", before: { path: "payload.data.object.metadata.until" } },
        },
      ],
      onFailure: { notify: "team" },
    };
    const server = await serve([list, { ...list, name: "list-orders-trial", dryRun: true }]);
    woo.intercept = (req) =>
      req.method === "GET"
        ? json(400, '{"code":"rest_invalid_param","message":"Invalid parameter(s): after"}')
        : undefined;
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, undefined, undefined, { metadata: { until: "2026-11-20T12:00:00+01:00" } });
      const runs = await runsOf(event.id);
      const dates = { after: "2026-11-01", before: "2026-11-20T12:00:00+01:00", page_size: 20 };
      for (const run of runs) expect(JSON.parse(run.steps[0]?.detail ?? "{}").args).toEqual(dates);
      await expect
        .poll(() => telegram.delivered.slice(sent).map((message) => message.text))
        .toEqual([
          expect.stringContaining(
            "Step 1 (eshop_orders_list, after “2026-11-01”, before “2026-11-20T12:00:00+01:00”, page_size 20) failed: ",
          ),
        ]);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a shop that answers 500 once is tried again, and the order is paid", async () => {
    const lines: string[] = [];
    const server = await serve([PAID], {}, lines);
    try {
      let failed = 0;
      woo.intercept = (req) =>
        req.method === "PUT" && failed++ === 0
          ? json(500, '{"code":"internal_error","message":"Database error"}')
          : undefined;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(failed).toBe(2);
      expect(woo.shop.order(O.pending1999).status).toBe("processing");
      // Two seconds of retries begin with a tenth of a second's wait; the line names the run.
      expect(lines.filter((line) => line.includes("trying again"))).toEqual([
        expect.stringMatching(
          new RegExp(
            `automation stripe-paid, run ${run?.id} \\(event ${event.id}\\), step 1: eshop_order_mark_paid failed \\(.*500.*may have been made\\.\\); trying again in 100 ms\n$`,
          ),
        ),
      ]);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a retry's line in the log says the shop's words without the order the payload gave", async () => {
    const lines: string[] = [];
    const server = await serve([PAID], {}, lines);
    try {
      let failed = 0;
      woo.intercept = (req) =>
        req.method === "PUT" && failed++ === 0
          ? json(500, `{"code":"internal_error","message":"Database error saving order ${O.pending1999}"}`)
          : undefined;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      const retries = lines.filter((line) => line.includes("trying again"));
      expect(retries).toEqual([expect.stringContaining('"Database error saving order …"')]);
      expect(retries.join("")).not.toContain(String(O.pending1999));
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a retry's line in the log hides the order however the shop's words number it, as No. or č.", async () => {
    const lines: string[] = [];
    const server = await serve([PAID], {}, lines);
    try {
      let failed = 0;
      const message = `Objednávka č. ${O.pending1999} nebyla uložena. Order No. ${O.pending1999} is locked.`;
      woo.intercept = (req) =>
        req.method === "PUT" && failed++ === 0
          ? json(500, JSON.stringify({ code: "internal_error", message }))
          : undefined;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      const retries = lines.filter((line) => line.includes("trying again"));
      expect(retries).toEqual([expect.stringContaining('"Objednávka č. … nebyla uložena. Order No. … is locked."')]);
      expect(retries.join("")).not.toContain(String(O.pending1999));
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a shop whose web server takes no PUT (501) fails the step at once: no wait makes it take one", async () => {
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "60" });
    try {
      let puts = 0;
      woo.intercept = (req) =>
        req.method === "PUT" && ++puts
          ? { status: 501, headers: { "content-type": "text/html" }, body: "<title>501 Method Not Implemented</title>" }
          : undefined;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/^step 1 \(eshop_order_mark_paid\): .*\b501\b.*[Nn]othing was/),
      });
      expect(puts).toBe(1);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a step that is not idempotent is not tried again after a failure that may have been carried out", async () => {
    const note = {
      name: "note-it",
      when: { source: "stripe" },
      do: [{ tool: "eshop_order_add_note", args: { id: O.pending1999, note: "Paid by card." } }],
      onFailure: { notify: "team" },
    };
    const server = await serve([note]);
    try {
      const sent = telegram.delivered.length;
      let posts = 0;
      woo.intercept = (req) =>
        req.method === "POST" && req.path.endsWith("/notes") && ++posts
          ? json(500, '{"code":"internal_error","message":"Database error"}')
          : undefined;
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      // A model reading the run (automations_runs) reads the order before trying again; the person
      // told of it, who has the shop's admin and no tool, checks it there before adding it by hand.
      expect(run).toMatchObject({
        status: "failed",
        error:
          'step 1 (eshop_order_add_note): WooCommerce answered 500 "Database error": the service is failing, and the change may have been made. Read the current state before trying again.',
      });
      expect(posts).toBe(1);
      await expect
        .poll(() => telegram.delivered.slice(sent).map((message) => message.text))
        .toEqual([
          expect.stringContaining(
            'failed: WooCommerce answered 500 "Database error": the service is failing, and the change may have been made. Check whether it was made before doing it by hand.',
          ),
        ]);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a payment the shop answered 2xx in another shape fails its run, saying it was most likely made, and is not made again", async () => {
    const server = await serve([PAID]);
    try {
      let puts = 0;
      // A plugin that wraps WooCommerce's answers: {"data":…}.
      woo.intercept = (req) => (req.method === "PUT" && ++puts ? json(200, '{"data":{"id":1}}') : undefined);
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({
        status: "failed",
        error: expect.stringMatching(
          /^step 1 \(eshop_order_mark_paid\): WooCommerce accepted the change \(status 200\) but answered in an unexpected format .*: it was most likely made\./,
        ),
      });
      expect(puts).toBe(1);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a step waiting for its next try says it waits, and once the retry time is over, that waiter tried and stopped", async () => {
    const server = await serve([PAID], { WAITER_WOO_URL: `http://127.0.0.1:${await freePort()}` });
    const agent = await startWaiter(env([PAID]));
    // A token whose toolsets are events alone: automations_runs is none of its tools.
    const reader = await startWaiter(env([PAID]), { allow: (tool) => tool.name.startsWith("events_") });
    try {
      const event = await pay(server, String(O.pending1999));
      // Advice to the model ("try again later") is waiter's to follow here: it says what it does instead.
      const unreachable =
        "Could not reach WooCommerce \\(127\\.0\\.0\\.1:\\d+\\): the connection was refused, as nothing listens there; if it lasts, check the port in WAITER_WOO_URL\\.";
      await waitingStep(agent, event.id, new RegExp(`^${unreachable} Trying again at [\\dT:.-]+Z\\.$`));
      // Reading the event, the model is told where the run's state is kept, not just that it runs.
      const runs = `automations_runs with event_id="${event.id}" shows`;
      expect(text(await agent.call("events_get", { id: event.id }))).toContain(
        `Automations on it: stripe-paid (running). ${runs} the step a running one is at, and why it waits if it does.`,
      );
      const [run] = await runsOf(event.id);
      expect(text(await agent.call("events_get", { id: event.id }))).toContain(
        `Automations on it: stripe-paid (failed). ${runs} the step a failed one stopped at, why, and its arguments.`,
      );
      expect(text(await reader.call("events_get", { id: event.id }))).toContain(
        "\nAutomations on it: stripe-paid (failed).\n",
      );
      expect(run?.error).toMatch(
        new RegExp(
          `^step 1 \\(eshop_order_mark_paid\\): ${unreachable} waiter tried it \\d+ times; a next try would come after the retry time \\(WAITER_AUTOMATION_RETRY_SECONDS, 2 s\\), so it is not tried again\\.$`,
        ),
      );
    } finally {
      await Promise.all([agent.close(), reader.close()]);
      await server.close();
    }
  });

  test("a step waiting for its next try, the waiter that ran it stopped, is said to wait for the next to start", async () => {
    const server = await serve([PAID], {
      WAITER_WOO_URL: `http://127.0.0.1:${await freePort()}`,
      WAITER_AUTOMATION_RETRY_SECONDS: "60",
    });
    const agent = await startWaiter(env([PAID]));
    let stopped = false;
    try {
      const event = await pay(server, String(O.pending1999));
      await waitingStep(agent, event.id, / Trying again at [\dT:.-]+Z\.$/);
      expect((await agent.call("automations_runs", { event_id: event.id })).structuredContent).not.toHaveProperty(
        "note",
      );
      await server.close();
      stopped = true;
      // Its next try's time passes with no waiter to make it.
      expect((await agent.call("automations_runs", { event_id: event.id })).structuredContent).toMatchObject({
        runs: [{ status: "running", steps: [{ status: "waiting" }] }],
        note: "No waiter serve or waiter listen runs the automations on this store now: the runs shown running and any step waiting for its next try wait for the next to start with them configured.",
      });
      // The list counts it running: it waits as well as the events that come.
      expect((await agent.call("automations_list")).structuredContent).toMatchObject({
        automations: [{ name: "stripe-paid", runs: { running: 1 } }],
        note: "No waiter serve or waiter listen runs the automations on this store now: the events stored meanwhile and the runs counted running wait for the next to start with them configured.",
      });
    } finally {
      await agent.close();
      if (!stopped) await server.close();
    }
  });

  test("a shop whose answers break midway fails the step without the advice to try again, which waiter did", async () => {
    const server = await serve([PAID]);
    try {
      // Every read of the order is cut after its headers and a few bytes.
      woo.intercept = (req) =>
        req.method === "GET" && req.path.includes(`/orders/${O.pending1999}`)
          ? { ...json(200, JSON.stringify({ id: O.pending1999, status: "pending" })), breakAfter: 5 }
          : undefined;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): The connection to WooCommerce \(127\.0\.0\.1:\d+\) broke while it was answering\. waiter tried it \d+ times; a next try would come after the retry time \(WAITER_AUTOMATION_RETRY_SECONDS, 2 s\), so it is not tried again\.$/,
      );
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a shop slower than the tool timeout fails the step naming WAITER_TOOL_TIMEOUT, with no advice to ask for less", async () => {
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }], {
      WAITER_TOOL_TIMEOUT: "4",
      WAITER_AUTOMATION_RETRY_SECONDS: "1",
    });
    // The shop answers once the test is over: the call's 4 s leave a loaded machine time to connect (half of them).
    const release = holdAnswers(woo);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      const slow =
        /^step 1 \(eshop_order_mark_paid\): WooCommerce \(127\.0\.0\.1:\d+\) did not answer before the tool call's deadline \(WAITER_TOOL_TIMEOUT, 4 s\)\. waiter tried it once;/;
      expect(run?.error).toMatch(slow);
      await expect.poll(() => telegram.delivered.length).toBe(sent + 1);
      expect(telegram.delivered.at(-1)?.text).not.toContain("ask for less");
    } finally {
      release();
      await server.close();
    }
  });

  test("a change the shop does not confirm before the tool timeout fails the step naming WAITER_TOOL_TIMEOUT", async () => {
    const server = await serve([PAID], { WAITER_TOOL_TIMEOUT: "4", WAITER_AUTOMATION_RETRY_SECONDS: "1" });
    let release = () => {};
    try {
      // The order is read at once; its payment is answered once the test is over.
      woo.intercept = (r) => {
        if (r.method === "PUT") release = holdAnswers(woo);
        return undefined;
      };
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): WooCommerce \(127\.0\.0\.1:\d+\) did not confirm the change before the tool call's deadline \(WAITER_TOOL_TIMEOUT, 4 s\); it may have been made\. Read the current state before trying again\. waiter tried it /,
      );
    } finally {
      woo.intercept = undefined;
      release();
      await server.close();
    }
  });

  test("set in the config file, the tool timeout and the retry time are named as written there", async () => {
    const file = join(dataDir, "times.json");
    writeFileSync(file, JSON.stringify({ toolTimeout: 4, automationRetrySeconds: 1 }));
    const { WAITER_AUTOMATION_RETRY_SECONDS: _, ...rest } = env([PAID]);
    const server = await startServe(loadConfig({ env: rest, file }, toolsets()), new Log("error", () => {}));
    const release = holdAnswers(woo);
    try {
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run?.error).toContain(`before the tool call's deadline (toolTimeout in ${file}, 4 s).`);
      expect(run?.error).toMatch(
        new RegExp(
          `after the retry time \\(automationRetrySeconds in ${file.replace(/[.]/g, "\\.")}, 1 s\\), so it is not tried again\\.$`,
        ),
      );
    } finally {
      release();
      await server.close();
    }
  });

  test("a step waiting for its next try keeps its retry time and its waits when waiter starts again", async () => {
    const lines: string[] = [];
    const servers: RunningServe[] = [];
    const start = async () => servers.push(await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "60" }, lines));
    const stop = async () => servers.pop()?.close();
    const waits = () => lines.filter((line) => line.includes("trying again in"));
    const offset = clock.now() - Date.now();
    try {
      // A 500, which the HTTP client does not retry itself: each try is one request.
      woo.intercept = (req) =>
        req.method === "PUT" ? json(500, '{"code":"internal_error","message":"Database error"}') : undefined;
      await start();
      const event = await pay(servers[0] as RunningServe, String(O.pending1999));
      await expect.poll(waits).toHaveLength(1);
      expect(waits()[0]).toMatch(/trying again in 2 s\n$/);
      await stop();
      // Ten seconds on, its wait doubles, as it would have had waiter not stopped.
      setClock(clock.now() + 10_000);
      await start();
      await expect.poll(waits).toHaveLength(2);
      expect(waits()[1]).toMatch(/trying again in 4 s\n$/);
      await stop();
      // Past the minute from its first try: it is tried once more, and not again.
      setClock(clock.now() + 51_000);
      await start();
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("failed");
      expect(run?.error).toMatch(
        /waiter tried it 3 times; a next try would come after the retry time \(WAITER_AUTOMATION_RETRY_SECONDS, 60 s\), so it is not tried again\.$/,
      );
    } finally {
      woo.intercept = undefined;
      while (servers.length > 0) await stop();
      setClock(Date.now() + offset);
    }
  });

  test("a step under way when waiter stopped keeps its retry time at the next start", async () => {
    const offset = clock.now() - Date.now();
    let puts = 0;
    // The first try is still waiting for the shop's answer when waiter stops; later ones fail.
    woo.intercept = (req) =>
      req.method === "PUT" && ++puts
        ? { ...json(500, '{"code":"internal_error","message":"Database error"}'), delayMs: puts === 1 ? 5_000 : 0 }
        : undefined;
    // Cut after a second: the shop's answer comes after five.
    const first = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "60", WAITER_STOP_SECONDS: "1" });
    let second: RunningServe | undefined;
    try {
      const event = await pay(first, String(O.pending1999));
      await expect.poll(() => puts).toBe(1);
      await first.close();
      expect((await runsOf(event.id, false))[0]?.steps.map((s) => s.status)).toEqual(["started"]);
      // Past the minute from that first try: the step is tried once more, and not again.
      setClock(clock.now() + 61_000);
      second = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "60" });
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("failed");
      // Both tries are counted: the shop had the one under way too.
      expect(run?.error).toMatch(/waiter tried it 2 times; a next try would come after the retry time/);
      expect(puts).toBe(2);
    } finally {
      woo.intercept = undefined;
      await second?.close();
      setClock(Date.now() + offset);
    }
  });

  test("a change WordPress's maintenance mode refused is tried again a minute later, not failed for its 600 s Retry-After", async () => {
    // wp_maintenance() names 600 s to every request, the most an update may keep WordPress down; one
    // takes seconds. The reads are asked again the minute WordPress names on, and the step with them.
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "600" });
    setClock("2026-12-05T21:40:00Z");
    try {
      woo.intercept = (req) =>
        req.method === "PUT"
          ? {
              status: 503,
              headers: { "content-type": "text/html; charset=utf-8", "retry-after": "600" },
              body: '<!DOCTYPE html><html dir="ltr" lang="en-US"><head><meta charset="utf-8"><title>Maintenance</title></head><body id="error-page"><div class="wp-die-message">Briefly unavailable for scheduled maintenance. Check back in a minute.</div></body></html>',
            }
          : undefined;
      const event = await pay(server, String(O.pending1999));
      await expect
        .poll(async () => (await runsOf(event.id, false))[0])
        .toMatchObject({
          status: "running",
          steps: [{ status: "refused", detail: expect.stringMatching(/Trying again at 2026-12-05T21:41:0/) }],
        });
    } finally {
      woo.intercept = undefined;
      setClock();
      await server.close();
    }
  });

  test("a Wordfence lockout past the retry time keeps the lockout's end for whoever finishes the step, not waiter's 5 minutes", async () => {
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "60" });
    setClock("2026-12-05T21:40:00Z");
    try {
      // Wordfence's lockout page (wf503.php), its Retry-After the lockout's time left.
      woo.intercept = (req) =>
        req.method === "PUT"
          ? {
              status: 503,
              headers: { "content-type": "text/html; charset=UTF-8", "retry-after": "3600" },
              body: "<html><body><p>Reason: <span>Exceeded the maximum number of requests per minute.</span></p><em>Generated by Wordfence at Sat, 5 Dec 2026 21:40:00 GMT.</em></body></html>",
            }
          : undefined;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      // The lockout's end, which the person finishing the step needs, not the advice a model reads.
      expect(run?.error).toMatch(
        /^step 1 \(eshop_order_mark_paid\): Wordfence .*Allowlisted IP addresses\)\. waiter tried it once; it asked not to be tried again before 2026-12-05 22:4\d UTC, after/,
      );
    } finally {
      woo.intercept = undefined;
      setClock();
      await server.close();
    }
  });

  test("the log of a run that failed after its tries says how many, even where a payload's value has that number", async () => {
    const lines: string[] = [];
    const server = await serve([PAID], { WAITER_AUTOMATION_RETRY_SECONDS: "60" }, lines);
    try {
      let puts = 0;
      // A 500, tried again; then a 429 whose wait ends past the retry time: two tries, and no more.
      woo.intercept = (req) =>
        req.method === "PUT"
          ? ++puts === 1
            ? json(500, '{"code":"internal_error","message":"Database error"}')
            : json(429, '{"code":"too_many","message":"Slow down"}', { "retry-after": "3600" })
          : undefined;
      // The payment's id, the step's transaction_id, is "2".
      const event = await pay(server, String(O.pending1999), undefined, { id: "2" });
      const [run] = await runsOf(event.id);
      expect(run?.error).toMatch(/waiter tried it 2 times; it asked not to be tried again before/);
      const logged = lines.filter((line) => line.includes(`waiter's event ${event.id}`));
      expect(logged).toEqual([expect.stringMatching(/transaction_id …\) failed: .*waiter tried it 2 times; it asked/)]);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("the log hides a payload's number the shop's words put in brackets, which is not the shop's status", async () => {
    const lines: string[] = [];
    const server = await serve([PAID], {}, lines);
    try {
      const message = "Transaction (250) is already recorded";
      woo.intercept = (req) =>
        req.method === "PUT" ? json(400, JSON.stringify({ code: "woocommerce_rest_duplicate", message })) : undefined;
      // The payment's id, the step's transaction_id, is "250".
      const event = await pay(server, String(O.pending1999), undefined, { id: "250" });
      const [run] = await runsOf(event.id);
      expect(run?.error).toContain(message);
      const logged = lines.filter((line) => line.includes(`waiter's event ${event.id}`));
      expect(logged).toEqual([
        expect.stringContaining('(400 woocommerce_rest_duplicate: "Transaction (…) is already recorded")'),
      ]);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });

  test("a shop that stays down fails the run after the retry time, and the team is told of the failure, not of a payment", async () => {
    // A retry time of a second: tries 50, 100, 200 and 400 ms apart.
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }], { WAITER_AUTOMATION_RETRY_SECONDS: "1" });
    try {
      const sent = telegram.delivered.length;
      woo.intercept = (req) =>
        req.method === "PUT" ? json(500, '{"code":"internal_error","message":"Database error"}') : undefined;
      const event = await pay(server, String(O.pending1999));
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/^step 1 \(eshop_order_mark_paid\): .*500/),
      });
      expect(run?.steps.map((s) => s.status)).toEqual(["failed"]);
      // The team is told once the run is marked failed.
      for (let waited = 0; telegram.delivered.length === sent && waited < 5_000; waited += 25) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // The person told does by hand what waiter no longer tries, and reads the order in the shop's
      // admin first: no advice to read the current state before trying again, which a model follows.
      expect(telegram.delivered.slice(sent)).toEqual([
        expect.objectContaining({
          text: expect.stringMatching(
            new RegExp(
              `^waiter: automation stripe-paid failed on the delivery “evt_${sequence}” from stripe\\.\nThe delivery is waiter's event ${event.id} \\(“payment_intent\\.succeeded”\\)\\. Step 1 \\(eshop_order_mark_paid, id 7081, transaction_id “pi_evt_${sequence}”\\) failed: WooCommerce answered 500 "Database error": the service is failing, and the change may have been made\\. waiter tried it \\d+ times; a next try would come after the retry time \\(WAITER_AUTOMATION_RETRY_SECONDS, 1 s\\), so it is not tried again\\. Check whether it was made before doing it by hand\\. Steps 2-3 \\(notify, ack\\) were not run; the event is not acknowledged\\.$`,
            ),
          ),
        }),
      ]);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });
});

describe("automations are checked at start", () => {
  const broken: [string, object, RegExp][] = [
    [
      "an unknown source",
      { ...PAID, when: { ...PAID.when, source: "paypal" } },
      /automation stripe-paid: when.source "paypal" is no configured webhook source \(stripe\)/,
    ],
    [
      "a tool not served",
      { ...PAID, do: [{ tool: "eshop_order_delete" }] },
      /automation stripe-paid, step 1: eshop_order_delete is not served here/,
    ],
    [
      "a step that waits for events",
      { ...PAID, do: [{ tool: "events_wait", args: { timeout_s: 50 } }] },
      /step 1: events_wait waits for an event, up to its timeout, while every other run waits its turn/,
    ],
    [
      "more steps than an automation takes",
      { ...PAID, do: Array(21).fill({ ack: true }) },
      /automation stripe-paid, do: has 21 steps: an automation takes at most 20$/,
    ],
    ["no steps", { ...PAID, do: [] }, /automation stripe-paid, do: has no steps: an automation takes 1 to 20$/],
    [
      "an argument the tool has not",
      { ...PAID, do: [{ tool: "eshop_order_get", args: { id: 1, extra: true } }] },
      /step 1: eshop_order_get has no argument extra; it takes id$/,
    ],
    [
      "an argument the tool has under a longer name",
      { ...PAID, do: [{ tool: "eshop_order_mark_paid", args: { id: 1, transaction: "pi_1" } }] },
      /step 1: eshop_order_mark_paid has no argument transaction \(did you mean transaction_id\?\)$/,
    ],
    [
      "a literal argument the tool refuses",
      { ...PAID, do: [{ tool: "eshop_order_get", args: { id: -5 } }] },
      /step 1: eshop_order_get's argument id: .* \(got -5\)$/,
    ],
    [
      "a literal argument of another kind than the tool takes",
      { ...PAID, do: [{ tool: "events_ack", args: { ids: {} } }] },
      /step 1: events_ack's argument ids: expected a list, got an object$/,
    ],
    [
      "a literal argument written as text where a number goes",
      { ...PAID, do: [{ tool: "eshop_order_get", args: { id: "abc" } }] },
      /step 1: eshop_order_get's argument id: expected the order's id \(a number such as 7084\) or its number as the shop writes it \(such as "#7084" or "WC-0042"\), got "abc"$/,
    ],
    [
      "a literal argument with decimals where a whole number goes",
      { ...PAID, do: [{ tool: "eshop_order_get", args: { id: 1.5 } }] },
      /step 1: eshop_order_get's argument id: expected a whole number \(got 1\.5\)$/,
    ],
    [
      "an item of a literal list the tool refuses",
      { ...PAID, do: [{ tool: "currency_rates", args: { symbols: ["USD", "dollars"] } }] },
      /step 1: currency_rates's argument symbols\.1: must be a three-letter ISO 4217 currency code such as EUR: .* \(got "dollars"\)$/,
    ],
    [
      "an item of a literal list of another kind than the list takes",
      { ...PAID, do: [{ tool: "events_ack", args: { ids: ["01J", 7] } }] },
      /step 1: events_ack's argument ids\.1: expected a string \(got 7\)$/,
    ],
    [
      "a value from the event written with a misspelt path key",
      { ...PAID, do: [{ tool: "eshop_order_get", args: { id: { pth: "to_number(payload.id)" } } }] },
      /step 1: eshop_order_get's argument id holds \{"pth": …\}, which is sent as written: a value taken from the event is \{"path": "…"\} \(did you mean path\?\)$/,
    ],
    [
      "a value from the event written with a key beside its path",
      { ...PAID, do: [{ tool: "eshop_order_get", args: { id: { path: "to_number(payload.id)", default: 1 } } }] },
      /step 1: eshop_order_get's argument id holds \{"path": …, "default": …\}, which is sent as written: a value taken from the event is \{"path": "…"\}, with no other key$/,
    ],
    [
      "a required argument left out",
      { ...PAID, do: [{ tool: "eshop_order_get", args: {} }] },
      /step 1: eshop_order_get needs the argument id/,
    ],
    [
      "an onFailure channel not configured",
      { ...PAID, onFailure: { notify: "nobody" } },
      /automation stripe-paid, onFailure: No notification channel is named "nobody"; the only notification channel is team\.$/,
    ],
    [
      "an address as the onFailure channel",
      { ...PAID, onFailure: { notify: "boss@shop.example" } },
      /automation stripe-paid, onFailure: No notification channel is named "boss@shop\.example"; the only notification channel is team\. An address is not a channel: list it in the to of an email channel \(notify\.channels in the config file, or WAITER_NOTIFY_CHANNELS; docs\/notifications\.md\), and name that channel here\.$/,
    ],
    [
      "a Telegram chat as a notify step's channel",
      { ...PAID, do: [{ notify: "@shop_news", text: "Hi" }] },
      /step 1: No notification channel is named "@shop_news"; the only notification channel is team\. A chat is not a channel: list it in the chatIds of a telegram channel \(notify\.channels in the config file, or WAITER_NOTIFY_CHANNELS; docs\/notifications\.md\), and name that channel here\.$/,
    ],
    [
      "a Telegram chat's collectible @name of 4 characters as a notify step's channel",
      { ...PAID, do: [{ notify: "@bank", text: "Hi" }] },
      /step 1: No notification channel is named "@bank"; the only notification channel is team\. A chat is not a channel: list it in the chatIds of a telegram channel /,
    ],
    [
      "a channel not configured",
      { ...PAID, do: [{ notify: "everyone", text: "Hi" }] },
      /automation stripe-paid, step 1: No notification channel is named "everyone"; the only notification channel is team\.$/,
    ],
    [
      "a channel not configured in a notify_send step",
      { ...PAID, do: [{ tool: "notify_send", args: { channel: "tema", text: "Hi" } }] },
      /automation stripe-paid, step 1: No notification channel is named "tema"; the only notification channel is team\.$/,
    ],
    [
      "a template that reads neither payload nor event",
      { ...PAID, do: [{ notify: "team", text: "Order {{data.object.id}} is paid" }] },
      /automation stripe-paid, step 1: \{\{data.object.id\}\} starts at "data", which is neither payload nor event, so it is always empty \(payload.data.object.id, perhaps\)/,
    ],
    [
      "a template that reads an earlier step's answer, which no step reads",
      { ...PAID, do: [PAID.do[0], { notify: "team", text: "Paid: {{steps.1.result}}" }] },
      /automation stripe-paid, step 2: \{\{steps.1.result\}\} starts at "steps", which is neither payload nor event, so it is always empty: a step reads the event alone, never an earlier step's answer \(automations_runs shows those\); the payload's own field "steps" is read as payload\.steps$/,
    ],
    [
      "a path that reads an earlier step's answer, which no step reads",
      { ...PAID, do: [PAID.do[0], { tool: "eshop_order_get", args: { id: { path: "result.id" } } }] },
      /automation stripe-paid, step 2, argument id: "result.id" starts at "result", which is neither payload nor event, so it never has a value: a step reads the event alone, never an earlier step's answer \(automations_runs shows those\); the payload's own field "result" is read as payload\.result$/,
    ],
    [
      "a template for an argument that takes a number",
      { ...PAID, do: [{ tool: "eshop_stock_set", args: { sku: "A", quantity: "{{payload.data.object.quantity}}" } }] },
      /automation stripe-paid, step 1: eshop_stock_set's argument quantity takes no text, which a template always gives; take the value with \{"path": …\}$/,
    ],
    [
      // Stripe's metadata names the order by its number, which a numbering plugin makes differ from its id.
      "a template of digits alone for an order, which would read them as the order's id",
      { ...PAID, do: [{ tool: "eshop_order_get", args: { id: "{{payload.data.object.metadata.order_id}}" } }] },
      /automation stripe-paid, step 1: eshop_order_get's argument id reads the digits a template writes alone, 7084 say, as the order's id 7084, where the order numbered 7084 is "#7084": for the number the event names, write "#\{\{payload\.data\.object\.metadata\.order_id\}\}"; for the id, take it with \{"path": …\}$/,
    ],
    [
      "a template inside a list, which is sent as written",
      { ...PAID, do: [{ tool: "events_ack", args: { ids: ["{{event.id}}"] } }] },
      /automation stripe-paid, step 1: events_ack's argument ids holds "\{\{event.id\}\}", which is sent as written: only a whole argument is a template or a path; take the list with \{"path": "\[event.id\]"\}, perhaps/,
    ],
    [
      "a path inside a list",
      { ...PAID, do: [{ tool: "events_ack", args: { ids: [{ path: "event.id" }] } }] },
      /automation stripe-paid, step 1: events_ack's argument ids holds \{"path":"event.id"\}, which is sent as written: only a whole argument is a template or a path; take the list with \{"path": "\[event.id\]"\}, perhaps/,
    ],
    [
      "arguments the tool refuses together",
      { ...PAID, do: [{ tool: "eshop_product_get", args: { id: 101, sku: "COF-ESP-1KG" } }] },
      /automation stripe-paid, step 1: eshop_product_get refuses these arguments: Give either `id` or `sku` of the product, not both and not neither\./,
    ],
    [
      "an argument a path fills beside one the tool refuses with it",
      {
        ...PAID,
        do: [
          {
            tool: "eshop_product_get",
            args: { id: { path: "to_number(payload.data.object.metadata.order_id)" }, sku: "COF-ESP-1KG" },
          },
        ],
      },
      /automation stripe-paid, step 1: eshop_product_get refuses these arguments: Give either `id` or `sku` of the product, not both and not neither\./,
    ],
    [
      "an email by template beside a search",
      {
        ...PAID,
        do: [
          {
            tool: "eshop_customers_list",
            args: { email: "{{payload.data.object.receipt_email}}", search: "Novák" },
          },
        ],
      },
      /automation stripe-paid, step 1: eshop_customers_list refuses these arguments: Give email or search, not both/,
    ],
    [
      "an argument another needs left out",
      { ...PAID, do: [{ tool: "eshop_stock_set", args: { quantity: 3 } }] },
      /automation stripe-paid, step 1: eshop_stock_set refuses these arguments: Give either `id` or `sku`/,
    ],
    [
      "dates the tool reads, in the wrong order",
      { ...PAID, do: [{ tool: "eshop_orders_list", args: { after: "2026-11-20", before: "2026-11-01" } }] },
      /automation stripe-paid, step 1: eshop_orders_list refuses these arguments: `after` \(2026-11-20\) must be earlier than `before` \(2026-11-01\)\./,
    ],
  ];
  test.each(broken)("%s stops waiter serve with the automation's name", async (_, automation, message) => {
    await expect(serve([automation])).rejects.toThrow(message);
  });

  test("a key or password pasted as a literal argument is not quoted back in the refusal", async () => {
    // A channel named by the bot's token, and one by the shop's password, as the environment holds them.
    const channel = { ...PAID, do: [{ tool: "notify_send", args: { channel: BOT_TOKEN, text: "Hi" } }] };
    const refused = await serve([channel]).catch((err: Error) => err.message);
    expect(refused).toMatch(/step 1: No notification channel is named "\[not shown\]"/);
    expect(refused).not.toContain(BOT_TOKEN.slice(0, 20));
    const password = { ...PAID, do: [{ notify: "hunter2hunter", text: "Hi" }] };
    const told = await serve([password], { WAITER_WOO_SECRET: "hunter2hunter" }).catch((err: Error) => err.message);
    expect(told).toMatch(/step 1: No notification channel is named "\[not shown\]"/);
    expect(told).not.toContain("hunter2hunter");
    // A key the environment does not hold, shaped as one, pasted as the channel to tell of failures.
    const key = "sk_live_51NxFakeKeyPastedInTheConfig0123";
    const keyed = await serve([{ ...PAID, onFailure: { notify: key } }]).catch((err: Error) => err.message);
    expect(keyed).toMatch(/onFailure: No notification channel is named "\[not shown\]"/);
    expect(keyed).not.toContain("sk_live_");
  });

  test("an automation where no webhook source is configured is named, with its source and where sources are set", async () => {
    const message =
      'automation stripe-paid: when.source "stripe" is no configured webhook source (none are): set it in webhooks.sources (WAITER_WEBHOOKS_SOURCES), as docs/webhooks.md#configuring-sources says';
    await expect(serve([PAID], { WAITER_WEBHOOKS_SOURCES: "" })).rejects.toThrow(message);
  });

  test("a type a Comgate or GoPay source never stores, as waiter names their events payment.<state> in lowercase, stops waiter serve", async () => {
    const sources = JSON.stringify({
      stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" },
      comgate: { scheme: "comgate", merchant: "498621", secretEnv: "STRIPE_SECRET" },
      gopay: { scheme: "gopay", clientId: "1744960415", secretEnv: "STRIPE_SECRET" },
    });
    const on = (source: string, type: string) => ({ ...TELL, when: { source, type } });
    await expect(serve([on("comgate", "PAID")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "PAID" never matches: waiter stores the events of comgate, a comgate source, as payment.<state>, in lowercase, from Comgate\'s states: payment.pending, payment.authorized, payment.paid, payment.cancelled ("payment.paid", perhaps)',
    );
    await expect(serve([on("gopay", "payment.PAID")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "payment.PAID" never matches: waiter stores the events of gopay, a gopay source, as payment.<state>, in lowercase, from GoPay\'s states: payment.created, payment.payment_method_chosen, payment.paid, payment.authorized, payment.canceled, payment.timeouted, payment.refunded, payment.partially_refunded ("payment.paid", perhaps)',
    );
    // A prefix of their types, and Stripe's own types, are left as they are.
    const fine = await serve(
      [on("comgate", "payment."), { ...on("gopay", "pay*"), name: "g" }, { ...on("stripe", "payment.x"), name: "s" }],
      {
        WAITER_WEBHOOKS_SOURCES: sources,
      },
    );
    await fine.close();
  });

  test("a type a WooCommerce source is meant to send, misspelt, is warned of at start with the core topic meant; a plugin's own topic is not", async () => {
    const sources = JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "STRIPE_SECRET" } });
    const on = (name: string, type: string, where: object[] = []) => ({
      ...TELL,
      name,
      when: { source: "shop", type, where },
    });
    const lines: string[] = [];
    const server = await serve(
      [
        on("created", "order.create"),
        on("cased", "Order.Updated"),
        on("prefix", "ordr.*"),
        on("either", "order.", [{ path: "event.type", in: ["order.updated", "order.deletd"] }]),
        // Topics WooCommerce and its plugins send: no word of them.
        on("core", "order.created"),
        on("action", "action.woocommerce_order_status_completed"),
        on("plugin", "subscription.created"),
        on("all", "product."),
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
      lines,
      "warning",
    );
    await server.close();
    const warned = lines.filter((line) => line.includes("WooCommerce"));
    const but = " A plugin's own topic is taken as written.";
    expect(warned).toEqual([
      expect.stringContaining(
        `setting WAITER_AUTOMATIONS at automation created: when.type "order.create" is no core topic of WooCommerce's, which shop sends; did you mean "order.created"?${but}`,
      ),
      expect.stringContaining(
        `automation cased: when.type "Order.Updated" is no core topic of WooCommerce's, which shop sends; did you mean "order.updated"?${but}`,
      ),
      expect.stringContaining(
        `automation prefix: when.type "ordr.*" is no core topic of WooCommerce's, which shop sends; did you mean "order.*"?${but}`,
      ),
      expect.stringContaining(
        `automation either, when.where 1: "order.deletd" is no core topic of WooCommerce's, which shop sends; did you mean "order.deleted"?${but}`,
      ),
    ]);
  });

  test("a Stripe payment type misspelt is warned of at start with the type meant; another of Stripe's types is not", async () => {
    const on = (name: string, type: string, where: object[] = []) => ({
      ...TELL,
      name,
      when: { source: "stripe", type, where },
    });
    const lines: string[] = [];
    const server = await serve(
      [
        on("succeed", "payment_intent.succeed"),
        on("either", "payment_intent.", [
          { path: "event.type", in: ["payment_intent.succeeded", "payment_intent.cancelled"] },
        ]),
        on("paid", "payment_intent.succeeded"),
        on("invoice", "invoice.paid"),
        on("dispute", "charge.dispute.closed"),
      ],
      {},
      lines,
      "warning",
    );
    await server.close();
    const but = " Another of Stripe's types is taken as written.";
    expect(lines.filter((line) => line.includes("did you mean"))).toEqual([
      expect.stringContaining(
        `automation succeed: when.type "payment_intent.succeed" is none of Stripe's payment types, which stripe sends; did you mean "payment_intent.succeeded"?${but}`,
      ),
      expect.stringContaining(
        `automation either, when.where 1: "payment_intent.cancelled" is none of Stripe's payment types, which stripe sends; did you mean "payment_intent.canceled"?${but}`,
      ),
    ]);
  });

  test("a type without a dot on a Stripe or WooCommerce source, whose every type has one, stops waiter serve, naming the prefix meant", async () => {
    const sources = JSON.stringify({
      stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" },
      shop: { scheme: "woocommerce", secretEnv: "STRIPE_SECRET" },
    });
    const on = (source: string, type: string, where: object[] = []) => ({ ...TELL, when: { source, type, where } });
    await expect(serve([on("stripe", "payment_intent")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "payment_intent" never matches: Stripe names every event object.event ("payment_intent.succeeded"), so no type stripe sends is "payment_intent" ("payment_intent.", which takes each of them that begins so, perhaps)',
    );
    await expect(serve([on("shop", "order")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "order" never matches: WooCommerce names every webhook topic resource.event ("order.created") or action.hook, so no type shop sends is "order" ("order.", which takes each of them that begins so, perhaps)',
    );
    await expect(
      serve([on("shop", "order.", [{ path: "event.type", in: ["product"] }])], {
        WAITER_WEBHOOKS_SOURCES: sources,
      }),
    ).rejects.toThrow('automation tell, when.where 1: "product" never matches: WooCommerce names every webhook topic');
    // Prefixes, and a type the listener stores for a delivery that names none, are left as they are.
    const fine = await serve(
      [
        on("stripe", "payment_intent*"),
        { ...on("shop", "unknown"), name: "u" },
        { ...on("shop", "action."), name: "a" },
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
    );
    await fine.close();
  });

  test("a GitHub event that always has an action, as a type without it, stops waiter serve: waiter's type adds the action", async () => {
    const sources = JSON.stringify({ gh: { scheme: "github", secretEnv: "STRIPE_SECRET" } });
    const on = (type: string) => ({ ...TELL, when: { source: "gh", type } });
    await expect(serve([on("issues")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "issues" never matches: GitHub sends every issues event with an action, which waiter adds to its type ("issues.opened"), so no type gh sends is "issues" ("issues.", which takes each of them that begins so, perhaps)',
    );
    await expect(serve([on("pull_request")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'when.type "pull_request" never matches: GitHub sends every pull_request event with an action',
    );
    // A push has no action, and a prefix takes every action.
    const fine = await serve([on("push"), { ...on("issues."), name: "i" }], { WAITER_WEBHOOKS_SOURCES: sources });
    await fine.close();
  });

  test("a GitHub type in capitals or with a slash, which GitHub never sends, stops waiter serve; a repository_dispatch's action is the caller's", async () => {
    const sources = JSON.stringify({ gh: { scheme: "github", secretEnv: "STRIPE_SECRET" } });
    const on = (type: string | undefined, where: object[] = []) => ({ ...TELL, when: { source: "gh", type, where } });
    await expect(serve([on("Issues.opened")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "Issues.opened" never matches: GitHub names every event and its action in lower case, the action after a dot ("issues.opened"), so no type gh sends is "Issues.opened" ("issues.opened", perhaps)',
    );
    await expect(serve([on("issues/")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'so no type gh sends is "issues/" ("issues.", perhaps)',
    );
    await expect(
      serve([on(undefined, [{ path: "event.type", in: ["issues/opened"] }])], { WAITER_WEBHOOKS_SOURCES: sources }),
    ).rejects.toThrow(
      'automation tell, when.where 1: "issues/opened" never matches: GitHub names every event and its action in lower case, the action after a dot ("issues.opened"), so no type gh sends is "issues/opened" ("issues.opened", perhaps)',
    );
    const fine = await serve(
      [
        on("issues.opened"),
        { ...on("repository_dispatch.Deploy/Prod"), name: "dispatch" },
        { ...on("unknown"), name: "u" },
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
    );
    await fine.close();
  });

  test("a GitHub type whose event is one GitHub sends with an action but for its plural, as issue.opened, stops waiter serve", async () => {
    const sources = JSON.stringify({ gh: { scheme: "github", secretEnv: "STRIPE_SECRET" } });
    const on = (type: string | undefined, where: object[] = []) => ({ ...TELL, when: { source: "gh", type, where } });
    await expect(serve([on("issue.opened")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "issue.opened" never matches: GitHub sends no issue event, but issues, so no type gh sends is "issue.opened" ("issues.opened", perhaps)',
    );
    await expect(
      serve([on(undefined, [{ path: "event.type", equals: "pull_requests.opened" }])], {
        WAITER_WEBHOOKS_SOURCES: sources,
      }),
    ).rejects.toThrow('"pull_requests.opened" never matches: GitHub sends no pull_requests event, but pull_request');
    await expect(serve([on("issue.*")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow('("issues.*", perhaps)');
    const fine = await serve(
      [on("issue_comment.created"), { ...on("status"), name: "status" }, { ...on("issues.opened"), name: "i" }],
      { WAITER_WEBHOOKS_SOURCES: sources },
    );
    await fine.close();
  });

  test("a GitHub prefix that ends within an event's name, as issue*, takes the events it begins (issues, issue_comment)", async () => {
    const sources = JSON.stringify({ gh: { scheme: "github", secretEnv: "STRIPE_SECRET" } });
    const fine = await serve([{ ...TELL, when: { source: "gh", type: "issue*" } }], {
      WAITER_WEBHOOKS_SOURCES: sources,
    });
    await fine.close();
  });

  test("a Stripe type in capitals or with a slash, which Stripe never sends, stops waiter serve, naming the type meant", async () => {
    const on = (type: string | undefined, where: object[] = []) => ({
      ...TELL,
      when: { source: "stripe", type, where },
    });
    await expect(serve([on("Payment_Intent.Succeeded")])).rejects.toThrow(
      'automation tell: when.type "Payment_Intent.Succeeded" never matches: Stripe names every event in lower case, object.event ("payment_intent.succeeded"), so no type stripe sends is "Payment_Intent.Succeeded" ("payment_intent.succeeded", perhaps)',
    );
    await expect(serve([on("charge.", [{ path: "event.type", equals: "charge.dispute/created" }])])).rejects.toThrow(
      '"charge.dispute/created" never matches: Stripe names every event in lower case, object.event ("payment_intent.succeeded"), so no type stripe sends is "charge.dispute/created" ("charge.dispute.created", perhaps)',
    );
    const fine = await serve([
      on("payment_intent.succeeded"),
      { ...on("v2.core.account[requirements].updated"), name: "v2" },
    ]);
    await fine.close();
  });

  test("a prefix among a condition's types, which it matches whole, stops waiter serve, pointing to starts_with", async () => {
    const refunds = {
      ...TELL,
      when: { source: "stripe", where: [{ path: "event.type", in: ["refund.*"] }] },
    };
    await expect(serve([refunds])).rejects.toThrow(
      `automation tell, when.where 1: "refund.*" never matches: a condition's value is matched whole, and no type stripe sends ends in "*" (a prefix is when.type's, or {"path": "starts_with(event.type, 'refund.')", "equals": true} takes the types that begin so)`,
    );
    const dotted = { ...refunds, when: { ...refunds.when, where: [{ path: "event.type", equals: "refund." }] } };
    await expect(serve([dotted])).rejects.toThrow(`"refund." never matches: a condition's value is matched whole`);
  });

  test("a prefix among a condition's types on a Shopify source, whose topics end in none, stops waiter serve too", async () => {
    const sources = JSON.stringify({ shop: { scheme: "shopify", secretEnv: "STRIPE_SECRET" } });
    const refunds = {
      ...TELL,
      when: { source: "shop", where: [{ path: "event.type", in: ["refunds/"] }] },
    };
    await expect(serve([refunds], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      `automation tell, when.where 1: "refunds/" never matches: a condition's value is matched whole, and no type shop sends ends in "/" (a prefix is when.type's, or {"path": "starts_with(event.type, 'refunds/')", "equals": true} takes the types that begin so)`,
    );
  });

  test("a type with a dot on a Shopify source, whose topics are resource/event, stops waiter serve, naming the topic meant", async () => {
    const sources = JSON.stringify({ shop: { scheme: "shopify", secretEnv: "STRIPE_SECRET" } });
    const on = (type: string | undefined, where: object[] = []) => ({ ...TELL, when: { source: "shop", type, where } });
    await expect(serve([on("orders.paid")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "orders.paid" never matches: Shopify names its topics resource/event, with a "/" ("orders/paid"), so no type shop sends is "orders.paid" ("orders/paid", perhaps)',
    );
    await expect(serve([on("orders.")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow('("orders/", perhaps)');
    await expect(
      serve([on(undefined, [{ path: "event.type", equals: "orders.create" }])], { WAITER_WEBHOOKS_SOURCES: sources }),
    ).rejects.toThrow(
      'automation tell, when.where 1: "orders.create" never matches: Shopify names its topics resource/event, with a "/" ("orders/paid"), so no type shop sends is "orders.create" ("orders/create", perhaps)',
    );
    // The customer's segment and tag topics are Shopify's own with a dot.
    const fine = await serve(
      [
        on("orders/paid"),
        { ...on("Product/"), name: "events" },
        { ...on("customer.tags_added"), name: "tags" },
        {
          ...on("customer.", [{ path: "event.type", in: ["customer.joined_segment", "customer.left_segment"] }]),
          name: "segments",
        },
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
    );
    await fine.close();
  });

  test("a Shopify type without a slash, or with its event in capitals, stops waiter serve: Shopify sends neither", async () => {
    const sources = JSON.stringify({ shop: { scheme: "shopify", secretEnv: "STRIPE_SECRET" } });
    const on = (type: string | undefined, where: object[] = []) => ({ ...TELL, when: { source: "shop", type, where } });
    await expect(serve([on("ORDERS_PAID")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "ORDERS_PAID" never matches: Shopify names every webhook topic resource/event in lower case ("orders/paid"), and an Events delivery Resource/action ("Product/create"), so no type shop sends is "ORDERS_PAID" ("orders/paid", perhaps)',
    );
    await expect(
      serve([on(undefined, [{ path: "event.type", in: ["Orders/Paid"] }])], { WAITER_WEBHOOKS_SOURCES: sources }),
    ).rejects.toThrow(
      'automation tell, when.where 1: "Orders/Paid" never matches: Shopify names every webhook topic resource/event in lower case ("orders/paid"), and an Events delivery Resource/action ("Product/create"), so no type shop sends is "Orders/Paid" ("orders/paid", perhaps)',
    );
    await expect(serve([on("orders/Paid*")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'so no type shop sends is "orders/Paid*" ("orders/paid*", perhaps)',
    );
    await expect(serve([on("customer/tags_added")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "customer/tags_added" never matches: Shopify names the topics of a customer\'s tags and segments with a dot ("customer.tags_added"), so no type shop sends is "customer/tags_added" ("customer.tags_added", perhaps)',
    );
    await expect(
      serve([on(undefined, [{ path: "event.type", in: ["customer/left_segment"] }])], {
        WAITER_WEBHOOKS_SOURCES: sources,
      }),
    ).rejects.toThrow('so no type shop sends is "customer/left_segment" ("customer.left_segment", perhaps)');
    await expect(serve([on("Customer.Tags_Added")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'so no type shop sends is "Customer.Tags_Added" ("customer.tags_added", perhaps)',
    );
    await expect(serve([on("Orders.Paid")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'so no type shop sends is "Orders.Paid" ("orders/paid", perhaps)',
    );
    await expect(serve([on("CUSTOMER_TAGS_ADDED")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'so no type shop sends is "CUSTOMER_TAGS_ADDED" ("customer.tags_added", perhaps)',
    );
    const fine = await serve(
      [
        on("app/scopes_update"),
        { ...on("Product/update"), name: "events" },
        { ...on("orders*"), name: "prefix" },
        { ...on("unknown"), name: "u" },
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
    );
    await fine.close();
  });

  test("a type without its dot among a condition's types is pointed to starts_with, not to a prefix the condition matches whole", async () => {
    const sources = JSON.stringify({ gh: { scheme: "github", secretEnv: "STRIPE_SECRET" } });
    const issues = { ...TELL, when: { source: "gh", where: [{ path: "event.type", in: ["issues"] }] } };
    await expect(serve([issues], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      `automation tell, when.where 1: "issues" never matches: GitHub sends every issues event with an action, which waiter adds to its type ("issues.opened"), so no type gh sends is "issues" ({"path": "starts_with(event.type, 'issues.')", "equals": true} takes each of them that begins so, perhaps)`,
    );
  });

  test("a condition on event.type that takes a type that can match beside ones that never do runs on it, warned of each", async () => {
    const sources = JSON.stringify({
      stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" },
      comgate: { scheme: "comgate", merchant: "498621", secretEnv: "STRIPE_SECRET" },
      shop: { scheme: "shopify", secretEnv: "STRIPE_SECRET" },
      gh: { scheme: "github", secretEnv: "STRIPE_SECRET" },
    });
    const on = (name: string, source: string, types: string[], type?: string) => ({
      ...TELL,
      name,
      when: { source, type, where: [{ path: "event.type", in: types }] },
    });
    const lines: string[] = [];
    const runs = await serve(
      [
        on("paid", "comgate", ["payment.paid", "PAID"]),
        on("refunds", "shop", ["orders/create", "refunds/"]),
        on("issues", "gh", ["push", "issues"]),
        on("refunded", "stripe", ["charge.refunded", "refund.*"]),
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
      lines,
      "warning",
    );
    await runs.close();
    for (const [name, type] of [
      ["paid", "PAID"] as const,
      ["refunds", "refunds/"],
      ["issues", "issues"],
      ["refunded", "refund.*"],
    ]) {
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `automation ${name}, when\\.where 1: "${type.replace(/[.*]/g, "\\$&")}" never matches: .*; it runs on the others it takes`,
          ),
        ),
      );
    }
    // One none of whose types matches, each for its own reason, still stops it.
    await expect(
      serve([on("none", "stripe", ["charge", "refund.created"], "charge.")], { WAITER_WEBHOOKS_SOURCES: sources }),
    ).rejects.toThrow('automation none, when.where 1: "charge" never matches: Stripe names every event');
  });

  test("a type a condition on event.type takes that when.type leaves out stops waiter serve, as the condition never holds for it", async () => {
    const on = (type: string, where: object[]) => ({ ...TELL, when: { source: "stripe", type, where } });
    const never =
      'automation tell, when.where 1: "refund.created" never matches: when.type "charge." takes only the types that begin with "charge.", so event.type is never "refund.created" on the events it takes (leave type out, or widen it, to take that type too)';
    await expect(serve([on("charge.", [{ path: "event.type", in: ["refund.created"] }])])).rejects.toThrow(never);
    // docs/automations.md's refunds, with Stripe's refund objects' own events added to the list: it
    // still runs on the charge's, and is warned of.
    const lines: string[] = [];
    const refunds = on("charge.", [{ path: "event.type", in: ["charge.refunded", "refund.created"] }]);
    const runs = await serve([refunds], {}, lines, "warning");
    await runs.close();
    expect(lines).toContainEqual(expect.stringContaining(`${never}; it runs on the others it takes`));
    await expect(
      serve([on("payment_intent.succeeded", [{ path: " event.type", equals: "charge.succeeded" }])]),
    ).rejects.toThrow(
      'automation tell, when.where 1: "charge.succeeded" never matches: when.type "payment_intent.succeeded" takes only that type, so event.type is never "charge.succeeded" on the events it takes',
    );
    const fine = await serve([
      on("charge.", [{ path: "event.type", in: ["charge.refunded", "charge.dispute.created"] }]),
      { ...TELL, name: "any", when: { source: "stripe", where: [{ path: "event.type", equals: "refund.created" }] } },
    ]);
    await fine.close();
  });

  test("a condition on event.source that takes only another source than when.source stops waiter serve; one beside it is warned of", async () => {
    const on = (where: object[]) => ({ ...TELL, when: { source: "stripe", where } });
    const never =
      'automation tell, when.where 1: "shop" never matches: when.source is "stripe", so event.source is "stripe" on every event it takes';
    await expect(serve([on([{ path: "event.source", equals: "shop" }])])).rejects.toThrow(never);
    const lines: string[] = [];
    const runs = await serve([on([{ path: "event.source", in: ["stripe", "shop"] }])], {}, lines, "warning");
    await runs.close();
    expect(lines).toContainEqual(expect.stringContaining(`${never}; it runs on the others it takes`));
  });

  test("a condition's type with letters beyond ASCII, which the listener never stores, stops waiter serve, naming the type stored", async () => {
    const sources = JSON.stringify({
      shop: { scheme: "hmac-sha256", secretEnv: "STRIPE_SECRET", header: "X-Signature" },
    });
    const on = (where: object[], type?: string) => ({ ...TELL, when: { source: "shop", type, where } });
    await expect(
      serve([on([{ path: "event.type", equals: "objednávka.vytvořena" }])], { WAITER_WEBHOOKS_SOURCES: sources }),
    ).rejects.toThrow(
      'automation tell, when.where 1: "objednávka.vytvořena" never matches: the listener stores a type as one line of at most 100 plain characters (ASCII) without blanks around it, so no event\'s type is "objednávka.vytvořena" ("objedn vka.vytvo ena", perhaps, as when.type takes it)',
    );
    // when.type is read as the listener stores it: the condition is told so, not that when.type leaves it out.
    await expect(
      serve([on([{ path: "event.type", in: ["objednávka.vytvořena"] }], "objednávka.vytvořena")], {
        WAITER_WEBHOOKS_SOURCES: sources,
      }),
    ).rejects.toThrow('"objednávka.vytvořena" never matches: the listener stores a type as one line');
    const fine = await serve([on([{ path: "event.type", equals: "objedn vka.vytvo ena" }], "objednávka.vytvořena")], {
      WAITER_WEBHOOKS_SOURCES: sources,
    });
    await fine.close();
  });

  test("an order status misspelt from one of WooCommerce's in a step is warned of at start with the status meant; a shop's own is not", async () => {
    const steps = (name: string, ...step: object[]) => ({ ...TELL, name, do: step, onFailure: { notify: "team" } });
    const lines: string[] = [];
    const server = await serve(
      [
        steps("complete", { tool: "eshop_order_update_status", args: { id: O.processing, status: "complete" } }),
        steps("cased", { tool: "eshop_order_update_status", args: { id: O.processing, status: "Processing" } }),
        steps("listed", {
          tool: "eshop_orders_list",
          // "payed" is near no status of WooCommerce's: only the shop can tell it.
          args: { status: ["processing", "on_hold", "payed", "shipped"] },
        }),
        // WooCommerce's own, a plugin's, and one an event gives: no word of them.
        steps("core", { tool: "eshop_order_update_status", args: { id: O.processing, status: "on-hold" } }),
        steps("plugin", { tool: "eshop_order_update_status", args: { id: O.processing, status: "shipped" } }),
        steps("given", {
          tool: "eshop_order_update_status",
          args: { id: O.processing, status: "{{payload.data.object.metadata.status}}" },
        }),
      ],
      {},
      lines,
      "warning",
    );
    await server.close();
    const but = " A shop's own order status is taken as written.";
    expect(lines.filter((line) => line.includes("order status"))).toEqual([
      expect.stringContaining(
        `setting WAITER_AUTOMATIONS at automation complete, step 1: eshop_order_update_status's argument status: "complete" is no core order status of WooCommerce's; did you mean "completed"?${but}`,
      ),
      expect.stringContaining(
        `automation cased, step 1: eshop_order_update_status's argument status: "Processing" is no core order status of WooCommerce's; did you mean "processing"?${but}`,
      ),
      expect.stringContaining(
        `automation listed, step 1: eshop_orders_list's argument status.1: "on_hold" is no core order status of WooCommerce's; did you mean "on-hold"?${but}`,
      ),
    ]);
  });

  test("an automation that changes the shop without an onFailure is warned of at start: its failures would be told to no one", async () => {
    const lines: string[] = [];
    const server = await serve(
      [
        PAID,
        { ...PAID, name: "told", onFailure: { notify: "team" } },
        // A dry run changes nothing: it is warned of once dryRun is switched off.
        { ...PAID, name: "tried", dryRun: true },
        // Only tells, or only reads: a failure leaves nothing changed undone.
        TELL,
        { ...TELL, name: "reads", do: [{ tool: "eshop_order_get", args: { id: 7081 } }] },
        { ...PAID, name: "restock", do: [{ tool: "eshop_stock_set", args: { sku: "COF-ESP-1KG", quantity: 3 } }] },
      ],
      {},
      lines,
      "warning",
    );
    await server.close();
    expect(lines.filter((line) => line.includes("onFailure"))).toEqual([
      expect.stringContaining(
        'setting WAITER_AUTOMATIONS at automation stripe-paid: it changes the shop (step 1, eshop_order_mark_paid) and has no onFailure, so a run of it that fails (an order it cannot change, the shop away past the retry time) is told to no one, only said in this log and in automations_runs; add "onFailure": {"notify": "<channel>"} to have a person told, who finishes the run by hand.',
      ),
      expect.stringContaining(
        "automation restock: it changes the shop (step 1, eshop_stock_set) and has no onFailure, so a run of it that fails (a product whose stock it cannot set, the shop away past the retry time) is told to no one,",
      ),
    ]);
  });

  test("an automation that marks orders paid on a payment event that pays nothing, or may not yet, is warned of at start", async () => {
    const sources = JSON.stringify({
      stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" },
      gopay: { scheme: "gopay", clientId: "1744960415", secretEnv: "STRIPE_SECRET" },
    });
    const markPaid = PAID.do[0] as object;
    const on = (name: string, source: string, type: string | undefined, where: object[] = []) => ({
      name,
      when: { source, ...(type === undefined ? {} : { type }), where },
      do: [markPaid],
    });
    const lines: string[] = [];
    const server = await serve(
      [
        // Stripe's own guide fulfils on a session completed: one paid by a bank debit completes unpaid.
        on("session", "stripe", "checkout.session.completed"),
        // docs/automations.md's prefix: every PaymentIntent event, one created at checkout too.
        on("every-intent", "stripe", "payment_intent."),
        on("every-session", "stripe", "checkout.session."),
        on("every-charge", "stripe", "charge."),
        on("every-gopay", "gopay", "payment."),
        // Payments made, or a condition that leaves out those not made: no word of them.
        on("session-paid", "stripe", "checkout.session.completed", [
          { path: "payload.data.object.payment_status", equals: "paid" },
        ]),
        on("intent", "stripe", "payment_intent.succeeded"),
        on("intent-narrowed", "stripe", "payment_intent.", [{ path: "event.type", in: ["payment_intent.succeeded"] }]),
        on("intent-status", "stripe", "payment_intent.", [{ path: "payload.data.object.status", equals: "succeeded" }]),
        on("gopay-paid", "gopay", "payment.paid"),
        { ...on("told", "stripe", "payment_intent."), do: [{ notify: "team", text: "{{event.type}}" }] },
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
      lines,
      "warning",
    );
    await server.close();
    expect(lines.filter((line) => line.includes("marks an order paid"))).toEqual([
      expect.stringContaining(
        'setting WAITER_AUTOMATIONS at automation session, step 1: eshop_order_mark_paid marks an order paid on "checkout.session.completed", which Stripe sends unpaid too (payment_status "unpaid") for a payment the customer completes later, as a bank debit or a voucher, which may never come: add the condition {"path": "payload.data.object.payment_status", "equals": "paid"}, and mark those paid later on "checkout.session.async_payment_succeeded".',
      ),
      expect.stringContaining(
        'automation every-intent, step 1: eshop_order_mark_paid marks an order paid on "payment_intent.created", "payment_intent.processing", "payment_intent.requires_action", "payment_intent.amount_capturable_updated", "payment_intent.partially_funded", "payment_intent.payment_failed" and "payment_intent.canceled" too, which when.type "payment_intent." takes, and which leave the order unpaid, or not yet paid: take only payments made, as {"path": "event.type", "equals": "payment_intent.succeeded"} does.',
      ),
      expect.stringContaining(
        'automation every-session, step 1: eshop_order_mark_paid marks an order paid on "checkout.session.completed", which Stripe sends unpaid too',
      ),
      expect.stringContaining(
        'automation every-session, step 1: eshop_order_mark_paid marks an order paid on "checkout.session.expired" and "checkout.session.async_payment_failed" too, which when.type "checkout.session." takes, and which leave the order unpaid, or not yet paid: take only payments made, as {"path": "payload.data.object.payment_status", "equals": "paid"} does.',
      ),
      expect.stringContaining(
        'automation every-charge, step 1: eshop_order_mark_paid marks an order paid on "charge.pending", "charge.failed", "charge.expired", "charge.refunded" and "charge.dispute.created" too, which when.type "charge." takes, and which leave the order unpaid, or not yet paid: take only payments made, as {"path": "event.type", "equals": "charge.succeeded"} does.',
      ),
      expect.stringContaining(
        'automation every-gopay, step 1: eshop_order_mark_paid marks an order paid on "payment.created", "payment.payment_method_chosen", "payment.authorized", "payment.canceled", "payment.timeouted", "payment.refunded" and "payment.partially_refunded" too, which when.type "payment." takes, and which leave the order unpaid, or not yet paid: take only payments made, as {"path": "event.type", "equals": "payment.paid"} does.',
      ),
    ]);
  });

  test("a state of the other gateway, or of none, on a Comgate or GoPay source stops waiter serve, naming the gateway's states", async () => {
    const sources = JSON.stringify({
      comgate: { scheme: "comgate", merchant: "498621", secretEnv: "STRIPE_SECRET" },
      gopay: { scheme: "gopay", clientId: "1744960415", secretEnv: "STRIPE_SECRET" },
    });
    const on = (source: string, type: string) => ({ ...TELL, when: { source, type } });
    // GoPay writes CANCELED, Comgate CANCELLED: the other's spelling takes no cancelled payment.
    await expect(serve([on("gopay", "payment.cancelled")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "payment.cancelled" never matches: waiter stores the events of gopay, a gopay source, as payment.<state>, in lowercase, from GoPay\'s states: payment.created, payment.payment_method_chosen, payment.paid, payment.authorized, payment.canceled, payment.timeouted, payment.refunded, payment.partially_refunded ("payment.canceled", perhaps)',
    );
    await expect(serve([on("comgate", "payment.canceled")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "payment.canceled" never matches: waiter stores the events of comgate, a comgate source, as payment.<state>, in lowercase, from Comgate\'s states: payment.pending, payment.authorized, payment.paid, payment.cancelled ("payment.cancelled", perhaps)',
    );
    // Comgate notifies no refund, and GoPay's prefix of refunds names no Comgate state.
    await expect(serve([on("comgate", "payment.refunded")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell: when.type "payment.refunded" never matches: waiter stores the events of comgate, a comgate source, as payment.<state>, in lowercase, from Comgate\'s states: payment.pending, payment.authorized, payment.paid, payment.cancelled',
    );
    await expect(serve([on("comgate", "payment.partially_*")], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'when.type "payment.partially_*" never matches',
    );
    const fine = await serve(
      [
        on("gopay", "payment.canceled"),
        { ...on("comgate", "payment.cancelled"), name: "c" },
        { ...on("gopay", "payment.partially_*"), name: "g" },
      ],
      { WAITER_WEBHOOKS_SOURCES: sources },
    );
    await fine.close();
  });

  test("a type a GoPay or Comgate source never stores, in a condition on event.type, stops waiter serve", async () => {
    const sources = JSON.stringify({
      gopay: { scheme: "gopay", clientId: "1744960415", secretEnv: "STRIPE_SECRET" },
    });
    // docs/automations.md's refunds, told for GoPay, with the cancellation spelt as Comgate spells it.
    const refunds = (types: string[]) => ({
      ...TELL,
      when: { source: "gopay", type: "payment.", where: [{ path: "event.type", in: types }] },
    });
    await expect(serve([refunds(["payment.cancelled"])], { WAITER_WEBHOOKS_SOURCES: sources })).rejects.toThrow(
      'automation tell, when.where 1: "payment.cancelled" never matches: waiter stores the events of gopay, a gopay source, as payment.<state>, in lowercase, from GoPay\'s states: payment.created, payment.payment_method_chosen, payment.paid, payment.authorized, payment.canceled, payment.timeouted, payment.refunded, payment.partially_refunded ("payment.canceled", perhaps)',
    );
    const fine = await serve([refunds(["payment.refunded", "payment.canceled"])], { WAITER_WEBHOOKS_SOURCES: sources });
    await fine.close();
  });

  test("a date range one end of which a path fills is left to each event, as only its values can refuse it", async () => {
    const orders = { tool: "eshop_orders_list", args: { after: { path: "event.received_at" }, before: "2026-11-01" } };
    const server = await serve([{ ...PAID, do: [orders] }]);
    await server.close();
  });

  test.each([[{ pay: "team" }], ["ack"], [[{ ack: true }]]])(
    "a step that names no kind of step (%j) is told the shapes a step may have",
    (half) => {
      expect(() => loadConfig({ env: env([{ ...PAID, do: [half] }]) }, toolsets())).toThrow(
        /automation stripe-paid, step 1: a step is \{"tool": …, "args": \{…\}\}, \{"notify": <channel>, "text": …\} or \{"ack": true\}/,
      );
    },
  );

  test("a step that names two kinds of step is told to make each a step of its own", () => {
    const both = { ...PAID, do: [{ notify: "team", text: "{{payload.id}}", ack: true }] };
    expect(() => loadConfig({ env: env([both]) }, toolsets())).toThrow(
      'invalid setting WAITER_AUTOMATIONS at automation stripe-paid, step 1: it is both a notify step and an ack step; a step is {"tool": …, "args": {…}}, {"notify": <channel>, "text": …} or {"ack": true}: make each a step of its own',
    );
  });

  test("a condition with two tests, as a range, is told to make each a condition of its own", () => {
    const range = { ...PAID, when: { ...PAID.when, where: [{ path: "to_number(payload.total)", gte: 100, lt: 500 }] } };
    expect(() => loadConfig({ env: env([range]) }, toolsets())).toThrow(
      "invalid setting WAITER_AUTOMATIONS at automation stripe-paid, when.where 1: it has both gte and lt; a condition has a path and one of equals, in, present, gt, gte, lt, lte: make each a condition of its own, as all of them must hold",
    );
  });

  test.each([
    [
      { notify: "team" },
      "step 1, text: is missing; it takes the message: a template, where {{payload.id}} inserts a value from the event",
    ],
    [
      { notify: "team", text: { path: "payload.id" } },
      'step 1, text: is a template, not a {"path": …}: write the value into the text, as {{payload.id}}',
    ],
    [{ notify: "team", text: "" }, "step 1, text: is empty: a notify step sends a message"],
    [{ notify: "", text: "Paid." }, "step 1, notify: is empty: it names a notification channel"],
    [
      { ack: false },
      'step 1, ack: must be true: {"ack": true} acknowledges the event; leave the step out to leave the event unacknowledged (got false)',
    ],
    [{ tool: "" }, "step 1, tool: is empty: it names the tool to call"],
    [
      { tool: "eshop_order_get", args: [1] },
      "step 1, args: must be an object of the tool's arguments by name, {} for none",
    ],
    [{ notify: "team", txt: "Paid." }, 'step 1: unknown key "txt" (did you mean text?)'],
  ])("a step of a known kind that is written wrong (%j) is told what is wrong with it", (half, message) => {
    expect(() => loadConfig({ env: env([{ ...PAID, do: [half] }]) }, toolsets())).toThrow(
      `invalid setting WAITER_AUTOMATIONS at automation stripe-paid, ${message}`,
    );
  });

  test.each([
    [
      "a key written in another case",
      [{ ...PAID, onfailure: { notify: "team" } }],
      'automation stripe-paid: unknown key "onfailure" (did you mean onFailure?)',
    ],
    [
      "a key in snake_case",
      [{ ...PAID, dry_run: true }],
      'automation stripe-paid: unknown key "dry_run" (did you mean dryRun?)',
    ],
    [
      "a plural key without its s",
      [{ ...PAID, do: [{ tool: "eshop_order_get", arg: { id: 1 } }] }],
      'automation stripe-paid, step 1: unknown key "arg" (did you mean args?)',
    ],
    [
      "a key nothing is like",
      [{ ...PAID, do: [{ tool: "eshop_order_get", params: { id: 1 } }] }],
      'automation stripe-paid, step 1: unknown key "params" (a tool step takes tool, args)',
    ],
    [
      "a condition that equals an object",
      [{ ...PAID, when: { ...PAID.when, where: [{ path: "payload.x", equals: { a: 1 } }] } }],
      "automation stripe-paid, when.where 1, equals: must be a string, a number, true, false or null",
    ],
    [
      "a condition that equals a list, meant as in",
      [
        {
          ...PAID,
          when: {
            ...PAID.when,
            where: [{ path: "event.type", equals: ["charge.refunded", "charge.dispute.created"] }],
          },
        },
      ],
      'automation stripe-paid, when.where 1, equals: must be a string, a number, true, false or null; a condition that holds for any of several values is {"path": …, "in": [the values]}',
    ],
    [
      "a type given as a list of types",
      [{ ...PAID, when: { ...PAID.when, type: ["charge.refunded", "charge.dispute.created"] } }],
      'automation stripe-paid, when.type: is one type, or a prefix ending in ".", "/" or "*" ("charge."); an automation on several types has a condition {"path": "event.type", "in": [the types]}',
    ],
    [
      "a condition in no values",
      [{ ...PAID, when: { ...PAID.when, where: [{ path: "event.type", in: [] }] } }],
      "automation stripe-paid, when.where 1, in: is empty: it lists the values of which the path's must be one",
    ],
    [
      "a bound written as text, in the second automation",
      [WATCH, { ...PAID, when: { ...PAID.when, where: [{ path: "payload.x", gte: "5" }] } }],
      'automation stripe-paid, when.where 1, gte: must be a number (got "5")',
    ],
    [
      "a name taken twice",
      [PAID, WATCH, PAID],
      "automation stripe-paid: the list's automation #3 has the name of #1 too: give each automation a name of its own, by which the log and automations_runs tell their runs apart",
    ],
    [
      "a name that is no name, by its place",
      [WATCH, { ...PAID, name: "Stripe-Paid" }],
      'automation #2, name: automation names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit (got "Stripe-Paid")',
    ],
    [
      "a name with a letter outside a-z",
      [{ ...PAID, name: "platba-přijata" }],
      'automation #1, name: automation names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit (got "platba-přijata")',
    ],
    [
      "a name written as an email address",
      [{ ...PAID, name: "orders@shop.example" }],
      'automation #1, name: automation names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit (got "orders@shop.example")',
    ],
    [
      "a name longer than a name takes",
      [{ ...PAID, name: `stripe-paid-${"x".repeat(52)}` }],
      "automation #1, name: automation names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit",
    ],
  ])("%s is named in the automation it is in, by its name", (_, automations, message) => {
    expect(() => loadConfig({ env: env(automations) }, toolsets())).toThrow(
      `invalid setting WAITER_AUTOMATIONS at ${message}`,
    );
    const file = join(dataDir, "waiter.json");
    writeFileSync(file, JSON.stringify({ automations }));
    expect(() => loadConfig({ env: { ...env([]), WAITER_AUTOMATIONS: "" }, file }, toolsets())).toThrow(
      `invalid setting automations in ${file} at ${message}`,
    );
  });

  test.each([
    ["in ASCII letters", "Tajne7heslo2pristup9"],
    ["in letters outside a-z", "Tajné7heslo2přístup9"],
  ])(
    "a refused name shaped like a credential (letters and digits in one long run) is not quoted back, %s",
    (_, name) => {
      const refused =
        /^invalid setting WAITER_AUTOMATIONS at automation #1, name: automation names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit$/;
      expect(() => loadConfig({ env: env([{ ...PAID, name }]) }, toolsets())).toThrow(refused);
    },
  );

  test("a path that is not JMESPath, or reads neither payload nor event, stops waiter serve, naming where it is", async () => {
    const typo = { ...PAID, when: { ...PAID.when, where: [{ path: "payload..x", present: true }] } };
    await expect(serve([typo])).rejects.toThrow(
      /automation stripe-paid, when.where 1: "payload..x" is not a JMESPath expression/,
    );
    const stray = { ...PAID, when: { ...PAID.when, where: [{ path: "data.object.status", equals: "succeeded" }] } };
    await expect(serve([stray])).rejects.toThrow(
      /automation stripe-paid, when.where 1: "data.object.status" starts at "data", which is neither payload nor event, so it never has a value/,
    );
    // A key with a hyphen, which JMESPath reads as a subtraction, is told quoted.
    const hyphen = { ...PAID, when: { ...PAID.when, where: [{ path: "payload.order-id", present: true }] } };
    await expect(serve([hyphen])).rejects.toThrow(
      /"payload.order-id" starts at "id", which is neither payload nor event, so it never has a value \(payload\."order-id", perhaps\)/,
    );
    const path = "length(payload.data.object.metadata.*) > `0` && event.type != 'x'";
    await (await serve([{ ...PAID, when: { ...PAID.when, where: [{ path, equals: true }] } }])).close();
    // Wherever in the expression the typo hides, it is found: a hash of it would be present on every event.
    for (const typo of [
      "{id: paylod.data.object.id}",
      "payload.livemode ? payload.id : paylod.id",
      "let $o = paylod.data.object in $o.id",
      "!paylod.data.object.livemode",
      "-paylod.data.object.amount",
      "@.paylod.id",
      "payload.data.object.charges[?amount > $.paylod.min]",
    ]) {
      await expect(
        serve([{ ...PAID, when: { ...PAID.when, where: [{ path: typo, present: true }] } }]),
      ).rejects.toThrow(/starts at "paylod", which is neither payload nor event/);
    }
    for (const fine of [
      "let $o = payload.data.object in {id: $o.id, first: $o.charges[?amount > `0`] | [0].id, by: sort_by(@.payload.items, &price)}",
      // Over the top's values, payload and event: read from them, not from the top.
      "*.id",
    ]) {
      await (await serve([{ ...PAID, when: { ...PAID.when, where: [{ path: fine, present: true }] } }])).close();
    }
    const arg = { ...PAID, do: [{ tool: "eshop_order_get", args: { id: { path: "to_number(" } } }] };
    await expect(serve([arg])).rejects.toThrow(
      /automation stripe-paid, step 1, argument id: "to_number\(" is not a JMESPath/,
    );
  });

  test("a path that calls a function JMESPath has not, or with a wrong number of arguments, stops waiter serve, as it fails on every event", async () => {
    const where = (path: string) => ({ ...PAID, when: { ...PAID.when, where: [{ path, gt: 5 }] } });
    await expect(serve([where("to_numbr(payload.data.object.amount)")])).rejects.toThrow(
      'automation stripe-paid, when.where 1: "to_numbr(payload.data.object.amount)" calls to_numbr, a function JMESPath has not (did you mean to_number?)',
    );
    await expect(serve([where("lenth(payload.data.object.items)")])).rejects.toThrow(
      /calls lenth, a function JMESPath has not \(did you mean length\?\)/,
    );
    await expect(serve([where("to_number(payload.data.object.amount, `0`)")])).rejects.toThrow(
      'automation stripe-paid, when.where 1: "to_number(payload.data.object.amount, `0`)" calls to_number with 2 arguments, where it takes 1',
    );
    const arg = { ...PAID, do: [{ tool: "eshop_order_get", args: { id: { path: "max_by(payload.items)" } } }] };
    await expect(serve([arg])).rejects.toThrow(
      'automation stripe-paid, step 1, argument id: "max_by(payload.items)" calls max_by with 1 argument, where it takes 2',
    );
    // A function of its own waiter's to_number is, and one of many arguments, take what they are given.
    await (await serve([where("to_number(join('', [payload.a, payload.b, payload.c]))")])).close();
    await (await serve([where("length(not_null(payload.a, payload.b, payload.c))")])).close();
  });

  test("text written in double quotes in a path, which JMESPath reads as a field's name, is told to take single quotes", async () => {
    const where = (path: string) => ({ ...PAID, when: { ...PAID.when, where: [{ path, equals: true }] } });
    await expect(serve([where('payload.data.object.status == "succeeded"')])).rejects.toThrow(
      `automation stripe-paid, when.where 1: "payload.data.object.status == \\"succeeded\\"" starts at "succeeded", which is neither payload nor event, so it never has a value ('succeeded', perhaps: JMESPath reads a name in double quotes as a field, and text in single quotes)`,
    );
    // A quoted key under payload is a field, as meant.
    await (await serve([where("payload.\"order-id\" == '1042'")])).close();
  });

  test("a bare word compared with, which JMESPath reads as a field's name, is told to take single quotes as text", async () => {
    const where = (path: string) => ({ ...PAID, when: { ...PAID.when, where: [{ path, equals: true }] } });
    for (const path of ["payload.data.object.status == succeeded", "succeeded != payload.data.object.status"]) {
      await expect(serve([where(path)])).rejects.toThrow(
        `starts at "succeeded", which is neither payload nor event, so it never has a value ('succeeded', perhaps: JMESPath reads a bare name as a field, and text in single quotes)`,
      );
    }
    // null, true and false are JSON's, which JMESPath takes in backticks.
    for (const word of ["null", "true", "false"]) {
      await expect(serve([where(`payload.data.object.metadata.order_id != ${word}`)])).rejects.toThrow(
        `starts at "${word}", which is neither payload nor event, so it never has a value (\`${word}\`, perhaps: JMESPath reads a bare name as a field, and null, true and false in backticks)`,
      );
    }
    await expect(serve([where("payload.data.object.livemode || false")])).rejects.toThrow(
      "(`false`, perhaps: JMESPath reads a bare name as a field, and null, true and false in backticks)",
    );
    // A name that is not compared with is a field the person left payload out of.
    await expect(serve([where("data.object.livemode")])).rejects.toThrow(/\(payload\.data, perhaps\)/);
  });

  test("a path JMESPath refuses for a bare number, a word for and, or or not, or a field in brackets says how JMESPath writes it", async () => {
    const where = (path: string) => ({ ...PAID, when: { ...PAID.when, where: [{ path, equals: true }] } });
    await expect(serve([where("payload.data.object.amount_received > 1000")])).rejects.toThrow(
      'automation stripe-paid, when.where 1: "payload.data.object.amount_received > 1000" is not a JMESPath expression (Syntax error: invalid token (Number): "1000"): a number is written in backticks, `1000`',
    );
    // The compiler names the token it stops at: the word, or what follows a not.
    for (const [path, token, word, written] of [
      ["payload.data.object.livemode and payload.data.object.amount_received > `0`", "and", "and", "&&"],
      ["payload.data.object.livemode or payload.data.object.test", "or", "or", "||"],
      ["not payload.data.object.livemode", "payload", "not", "!"],
    ] as const) {
      await expect(serve([where(path)])).rejects.toThrow(
        `is not a JMESPath expression (Syntax error: unexpected token type: UnquotedIdentifier, value: ${token}): JMESPath writes ${word} as ${written}`,
      );
    }
    await expect(serve([where("payload.data.object.amount_received >= 10.5")])).rejects.toThrow(
      "a number is written in backticks, `10.5`",
    );
    // The number compared with, not the same digits at the end of a field's name or in an index.
    await expect(serve([where("payload.data.object.lines[2].tax2 > 2.5")])).rejects.toThrow(
      "a number is written in backticks, `2.5`",
    );
    // A field in brackets, as JavaScript and Python read one, is read after a dot.
    for (const [path, token] of [
      ["payload.data.object.metadata['order_id']", "Literal"],
      ['payload.data.object.metadata["order_id"]', "QuotedIdentifier"],
    ]) {
      await expect(serve([where(`${path} != \`null\``)])).rejects.toThrow(
        `(Syntax error: expected Star, got: ${token}): JMESPath reads a field after a dot, "payload.data.object.metadata.order_id != \`null\`", and only a number or * in brackets`,
      );
    }
  });

  test("a path that compares with =, which JMESPath reads as no comparison, stops waiter serve, pointing to ==", async () => {
    const where = (path: string) => ({ ...PAID, when: { ...PAID.when, where: [{ path, equals: true }] } });
    await expect(serve([where("payload.data.object.status = 'succeeded'")])).rejects.toThrow(
      `automation stripe-paid, when.where 1: "payload.data.object.status = 'succeeded'" has =, which JMESPath takes only in a let's bindings (let $x = … in …): a comparison is ==`,
    );
    await (await serve([where("let $o = payload.data.object in $o.status == 'succeeded'")])).close();
  });

  test("a path with ! before a field's path, which JMESPath reads as a field of true or false, stops waiter serve, pointing to !(…)", async () => {
    const where = (path: string) => ({ ...PAID, when: { ...PAID.when, where: [{ path, equals: true }] } });
    // !payload.livemode is (!payload).livemode: null on every event, so no test payment is ever taken.
    await expect(serve([where("!payload.livemode")])).rejects.toThrow(
      `automation stripe-paid, when.where 1: "!payload.livemode" has ! before a field's path, which JMESPath reads as (!payload).livemode, a field of true or false, so it gives null on every event: write what ! negates in parentheses, !(payload.livemode)`,
    );
    await expect(serve([where("payload.livemode && !payload.data.object.metadata.order_id")])).rejects.toThrow(
      /when\.where 1: .* reads as \(!payload\)\.data\.object\.metadata\.order_id, .*, !\(payload\.data\.object\.metadata\.order_id\)$/,
    );
    // Said of what ! stands before, a variable or !! alike, never of a payload the path does not name.
    await expect(serve([where("let $o = payload.data.object in !$o.livemode")])).rejects.toThrow(
      /reads as \(!\$o\)\.livemode, .*, !\(\$o\.livemode\)$/,
    );
    await expect(serve([where("!!payload.livemode")])).rejects.toThrow(
      /reads as \(!!payload\)\.livemode, .*, !!\(payload\.livemode\)$/,
    );
    for (const path of ["!(payload.livemode)", "!payload", "!contains(['a'], payload.data.object.status)"]) {
      await (await serve([where(path)])).close();
    }
    // A pipe reads its right from the whole of its left: !(…) | to_string(@) gives "true" or "false".
    const piped = { path: "!(payload.livemode) | to_string(@)", equals: "true" };
    await (await serve([{ ...PAID, when: { ...PAID.when, where: [piped] } }])).close();
  });

  test("a path that gives a kind of value the argument never takes stops waiter serve, saying what each is", async () => {
    const stock = (quantity: string) => ({
      ...PAID,
      do: [{ tool: "eshop_stock_set", args: { sku: "COF-ESP-1KG", quantity: { path: quantity } } }],
    });
    // A projection or a filter gives a list even when it finds one item.
    await expect(serve([stock("payload.data.object.items[*].quantity")])).rejects.toThrow(
      `automation stripe-paid, step 1: eshop_stock_set's argument quantity takes a number or text that writes a number, which the path "payload.data.object.items[*].quantity" never gives: it gives a list or null, whatever the event ("payload.data.object.items[*].quantity | [0]" gives its first item, perhaps)`,
    );
    await expect(serve([stock("payload.data.object.items[?sku == 'COF-ESP-1KG']")])).rejects.toThrow(
      /step 1: eshop_stock_set's argument quantity takes a number or text that writes a number, which the path .* never gives: it gives a list or null/,
    );
    // Text it takes, read as the number its digits write ("7"), or refused at the step when it is not.
    await (await serve([stock("to_string(payload.data.object.quantity)")])).close();
    await expect(serve([stock("{q: payload.data.object.quantity}")])).rejects.toThrow(
      /step 1: eshop_stock_set's argument quantity takes a number or text that writes a number, which the path "\{q: payload.data.object.quantity\}" never gives: it gives an object, whatever the event$/,
    );
    const paid = {
      ...PAID,
      do: [
        {
          tool: "eshop_order_mark_paid",
          args: { id: 1042, transaction_id: { path: "payload.data.object.status == 'succeeded'" } },
        },
      ],
    };
    await expect(serve([paid])).rejects.toThrow(
      `automation stripe-paid, step 1: eshop_order_mark_paid's argument transaction_id takes text, which the path "payload.data.object.status == 'succeeded'" never gives: it gives true or false, whatever the event`,
    );
    // An order's id takes its number as text too, and no list.
    const order = {
      ...PAID,
      do: [{ tool: "eshop_order_mark_paid", args: { id: { path: "payload.data.object.items[*].id" } } }],
    };
    await expect(serve([order])).rejects.toThrow(
      `automation stripe-paid, step 1: eshop_order_mark_paid's argument id takes a number or text, which the path "payload.data.object.items[*].id" never gives: it gives a list or null, whatever the event ("payload.data.object.items[*].id | [0]" gives its first item, perhaps)`,
    );
  });

  test("a path to one of event's fields, always text, where a number is taken stops waiter serve", async () => {
    const when = { ...PAID, when: { ...PAID.when, where: [{ path: "event.received_at", gt: 5 }] } };
    await expect(serve([when])).rejects.toThrow(
      `automation stripe-paid, when.where 1: gt 5 holds only for a number, which the path "event.received_at" never gives: it gives text, whatever the event`,
    );
    // A list, its one item alone (events_ack takes one id as text), and a payload's own event, whose
    // kind only the payload tells, start.
    for (const ids of ["[event.id]", "event.id", "payload.event.id"]) {
      await (await serve([{ ...PAID, do: [{ tool: "events_ack", args: { ids: { path: ids } } }] }])).close();
    }
    await (
      await serve([
        { ...PAID, when: { ...PAID.when, where: [{ path: "event.type", equals: "payment_intent.succeeded" }] } },
      ])
    ).close();
  });

  test("the event's id or time of receipt, text that writes no number, given a number or an order id stops waiter serve", async () => {
    const stock = (quantity: unknown) => ({
      ...PAID,
      do: [{ tool: "eshop_stock_set", args: { sku: "COF-ESP-1KG", quantity } }],
    });
    const paid = (id: unknown) => ({
      ...PAID,
      do: [{ tool: "eshop_order_mark_paid", args: { id, transaction_id: { path: "payload.data.object.id" } } }],
    });
    const time =
      "event.received_at is the time waiter received the event, as 2026-12-05T10:00:00.000Z, whatever the event";
    const id = "event.id is waiter's id of the event, as 01KBQ3M9Z4X8T2V6N5R7W1Y0HC, whatever the event";
    for (const [automation, message] of [
      [
        stock("{{event.received_at}}"),
        `eshop_stock_set's argument quantity takes a number or text that writes one, which the template "{{event.received_at}}" never writes: ${time}`,
      ],
      [
        stock({ path: "event.received_at" }),
        `eshop_stock_set's argument quantity takes a number or text that writes one, which the path "event.received_at" never gives: ${time}`,
      ],
      [
        stock({ path: "event.id" }),
        `eshop_stock_set's argument quantity takes a number or text that writes one, which the path "event.id" never gives: ${id}`,
      ],
      [
        paid("#{{event.id}}"),
        `eshop_order_mark_paid's argument id takes a number or text that writes one, which the template "#{{event.id}}" never writes: ${id}`,
      ],
      [
        paid("Order {{ event.received_at }}"),
        `eshop_order_mark_paid's argument id takes a number or text that writes one, which the template "Order {{ event.received_at }}" never writes: ${time}`,
      ],
      [
        paid({ path: "event.received_at" }),
        `eshop_order_mark_paid's argument id takes a number or text that writes one, which the path "event.received_at" never gives: ${time}`,
      ],
    ] as const) {
      await expect(serve([automation]), JSON.stringify(automation.do)).rejects.toThrow(
        `automation stripe-paid, step 1: ${message}`,
      );
    }
    // A payload's field may write a number, which only the event tells; so may the length of the event's id.
    for (const automation of [
      paid("#{{payload.data.object.metadata.order_id}}"),
      paid({ path: "payload.data.object.metadata.order_id" }),
      stock({ path: "length(event.id)" }),
    ]) {
      await (await serve([automation])).close();
    }
  });

  test("a path whose value's kind only the event tells is left to each event", async () => {
    for (const quantity of [
      "to_number(payload.data.object.metadata.quantity)",
      "payload.data.object.quantity",
      "payload.data.object.items[*].quantity | [0]",
      "length(payload.data.object.items[?sku == 'COF-ESP-1KG'])",
      // && and || give one of their sides, not true or false.
      "payload.data.object.quantity || `0`",
    ]) {
      const step = { tool: "eshop_stock_set", args: { sku: "COF-ESP-1KG", quantity: { path: quantity } } };
      await (await serve([{ ...PAID, do: [step] }])).close();
    }
    // A notification's text quotes what its path gives, whatever it is.
    const told = { tool: "notify_send", args: { channel: "team", text: { path: "payload.data.object.items[*].sku" } } };
    await (await serve([{ ...PAID, do: [told] }])).close();
  });

  test("a condition whose path never gives what it compares with stops waiter serve, saying what each is", async () => {
    const where = (condition: object) => ({ ...PAID, when: { ...PAID.when, where: [PAID.when.where[0], condition] } });
    // A projection gives a list, or null on a payload without one: no comparison holds for either.
    await expect(serve([where({ path: "payload.data.object.items[*].amount", gt: 10000 })])).rejects.toThrow(
      `automation stripe-paid, when.where 2: gt 10000 holds only for a number, which the path "payload.data.object.items[*].amount" never gives: it gives a list or null, whatever the event ("payload.data.object.items[*].amount | [0]" gives its first item, perhaps)`,
    );
    await expect(serve([where({ path: "payload.data.object.items[?sku == 'X']", lte: 1 })])).rejects.toThrow(
      /when\.where 2: lte 1 holds only for a number, which the path .* never gives: it gives a list or null, whatever the event/,
    );
    await expect(serve([where({ path: "payload.data.object.status == 'succeeded'", equals: "paid" })])).rejects.toThrow(
      `automation stripe-paid, when.where 2: equals "paid" holds only for text, which the path "payload.data.object.status == 'succeeded'" never gives: it gives true or false, whatever the event`,
    );
    await expect(serve([where({ path: "length(payload.data.object.items)", equals: "3" })])).rejects.toThrow(
      /when\.where 2: equals "3" holds only for text, which the path "length\(payload\.data\.object\.items\)" never gives: it gives a number, whatever the event$/,
    );
    // equals compares as ===: a number never equals text.
    await expect(serve([where({ path: "to_string(payload.data.object.amount)", equals: 5 })])).rejects.toThrow(
      /when\.where 2: equals 5 holds only for a number, which the path .* never gives: it gives text, whatever the event$/,
    );
    await expect(serve([where({ path: "{a: payload.data.object.amount}", in: ["paid", null] })])).rejects.toThrow(
      /when\.where 2: in \["paid",null\] holds only for text or null, which the path .* never gives: it gives an object, whatever the event$/,
    );
    // A comparison always gives true or false: it never finds nothing.
    await expect(serve([where({ path: "payload.data.object.status == 'succeeded'", present: false })])).rejects.toThrow(
      /when\.where 2: present false holds only for nothing found \(null, or an empty list\), which the path .* never gives: it gives true or false, whatever the event$/,
    );
    // Nor does it fail on any payload: present true would hold on every event, the status whatever it is.
    await expect(serve([where({ path: "payload.data.object.status == 'succeeded'", present: true })])).rejects.toThrow(
      `automation stripe-paid, when.where 2: present true holds on every event, as the path "payload.data.object.status == 'succeeded'" gives true or false on each, never nothing: for the events where it is true, write {"path": "payload.data.object.status == 'succeeded'", "equals": true}`,
    );
    await expect(serve([where({ path: "!(payload.data.object.livemode)", present: true })])).rejects.toThrow(
      /when\.where 2: present true holds on every event, as the path .* gives true or false on each/,
    );
    // to_string and type take any value and give text for each, "null" for nothing found.
    await expect(
      serve([where({ path: "to_string(payload.data.object.metadata.order_id)", present: true })]),
    ).rejects.toThrow(
      `automation stripe-paid, when.where 2: present true holds on every event, as the path "to_string(payload.data.object.metadata.order_id)" gives text on each, "null" for nothing found: for the events where it finds a value, write {"path": "payload.data.object.metadata.order_id", "present": true}`,
    );
    await expect(serve([where({ path: " type( payload.data.object.customer ) ", present: true })])).rejects.toThrow(
      /when\.where 2: present true holds on every event, as the path .* gives text on each, "null" for nothing found: for the events where it finds a value, write \{"path": "payload\.data\.object\.customer", "present": true\}$/,
    );
  });

  test("a condition that can hold on some event is left to each event", async () => {
    for (const condition of [
      { path: "payload.data.object.amount", gt: 10000 },
      { path: "payload.data.object.amount", equals: "paid" },
      { path: "to_number(payload.data.object.metadata.order_id)", gt: 1000 },
      { path: "max(payload.data.object.items[*].amount)", gte: 100 },
      { path: "payload.data.object.items[*].amount | [0]", lt: 100 },
      { path: "payload.data.object.items[*].sku", present: true },
      { path: "length(payload.data.object.items[*].sku)", present: true },
      // A pipe stops where its left finds nothing, before to_string: null there.
      { path: "payload.data.object.metadata.order_id | to_string(@)", present: true },
      // not_null gives null where all it is given is null; to_array an empty list for an empty list.
      { path: "not_null(payload.data.object.metadata.order_id)", present: true },
      { path: "to_array(payload.data.object.items)", present: true },
      // An ordering gives null where a side is no number: present true holds only where it is one.
      { path: "payload.data.object.amount >= `100`", present: true },
      // A projection gives null on a payload without the list.
      { path: "payload.data.object.items[*].sku", equals: null },
      { path: "payload.data.object.items[?sku == 'X']", in: ["X", null] },
      { path: "payload.data.object.status == 'succeeded'", equals: true },
      { path: "payload.data.object.amount < `100`", equals: null },
      { path: "length(payload.data.object.items)", in: ["3", 3] },
      { path: "payload.data.object.quantity || `0`", gt: 1 },
    ]) {
      await (await serve([{ ...PAID, when: { ...PAID.when, where: [condition] } }])).close();
    }
  });

  test("a field event has not, in a template or a path, stops waiter serve with the fields it has", async () => {
    const typo = { ...PAID, do: [{ notify: "team", text: "{{event.typ}} {{event.id}}" }] };
    await expect(serve([typo])).rejects.toThrow(
      /automation stripe-paid, step 1: \{\{event\.typ\}\} reads "typ", which event has not, so it is always empty: event has id, source, type, received_at \(event\.type, perhaps\)$/,
    );
    // A Stripe payload is itself an event: its fields read as the event's are pointed to the payload.
    const stripeShaped = { ...PAID, do: [{ notify: "team", text: "Order {{event.data.object.metadata.order_id}}" }] };
    await expect(serve([stripeShaped])).rejects.toThrow(
      /\{\{event\.data\.object\.metadata\.order_id\}\} reads "data", which event has not, so it is always empty: event has id, source, type, received_at \(payload\.data\.object\.metadata\.order_id, perhaps: the payload's own fields are under payload\)$/,
    );
    for (const path of ["event.sourc", "$.event.sourc", "event.[id, sourc]", "length(@.event.sourc)"]) {
      await expect(serve([{ ...PAID, when: { ...PAID.when, where: [{ path, present: true }] } }])).rejects.toThrow(
        `automation stripe-paid, when.where 1: ${JSON.stringify(path)} reads "sourc", which event has not, so it never has a value: event has id, source, type, received_at (event.source, perhaps)`,
      );
    }
    // The event's fields are text: only their length is read further.
    const below = { ...PAID, do: [{ notify: "team", text: "{{event.type.name}} ({{event.type.length}})" }] };
    await expect(serve([below])).rejects.toThrow(
      /automation stripe-paid, step 1: \{\{event\.type\.name\}\} reads "name" of event\.type, which is text, so it is always empty: of an event's field only its length is read \(\{\{event\.type\.length\}\}\)$/,
    );
    await (await serve([{ ...PAID, do: [{ notify: "team", text: "{{event.type.length}}" }] }])).close();
    // A payload's own "event", and an item's, are not waiter's.
    for (const fine of [
      "event.source == 'stripe' && event.received_at",
      "payload.event.sourc",
      "payload.items[?event.sourc]",
    ]) {
      await (await serve([{ ...PAID, when: { ...PAID.when, where: [{ path: fine, present: true }] } }])).close();
    }
  });

  test("a template that does not parse, or does more than insert values, stops waiter serve", async () => {
    const unclosed = { ...PAID, do: [{ notify: "team", text: "Order {{payload.id" }] };
    await expect(serve([unclosed])).rejects.toThrow(/automation stripe-paid, step 1: the template .* does not parse/);
    // The part refused is quoted as the template has it.
    for (const [text, part] of [
      ["Raw {{{payload.id}}}", "{{{payload.id}}}"],
      ["Raw {{& payload.id}}", "{{& payload.id}}"],
      ["{{#payload.items}}x{{/payload.items}}", "{{#payload.items}}"],
      ["{{=<% %>=}}", "{{=<% %>=}}"],
    ]) {
      await expect(serve([{ ...PAID, do: [{ notify: "team", text }] }])).rejects.toThrow(
        `has ${part}; only insertions like {{payload.id}} are allowed`,
      );
    }
  });

  test("an insertion written in single braces, or after a $ as in JavaScript, stops waiter serve, where it would be sent as written", async () => {
    for (const [text, part] of [
      ["Order {payload.data.object.id} is paid.", "{payload.data.object.id}"],
      // \u0024 is $: JavaScript's ${…}, written so in a string.
      ["Order \u0024{payload.data.object.id} is paid.", "\u0024{payload.data.object.id}"],
      ["Order { event.id } is paid.", "{ event.id }"],
    ]) {
      await expect(serve([{ ...PAID, do: [{ notify: "team", text }] }])).rejects.toThrow(
        `automation stripe-paid, step 1: the template ${JSON.stringify(text)} has ${part}, which is sent as written: an insertion is in double braces, {{${(part as string).replace(/^\$?\{\s*|\s*\}$/g, "")}}}`,
      );
    }
    // Braces around other words are text, as JSON in a message is.
    await (
      await serve([{ ...PAID, do: [{ notify: "team", text: 'Paid {"order": {{payload.id}}} {payloads}' }] }])
    ).close();
  });

  test("a template written as JMESPath stops waiter serve, saying templates take dotted names", async () => {
    const said = [
      [
        "{{payload.data.object.charges[0].id}}",
        /step 1: \{\{payload.data.object.charges\[0\].id\}\} is not a dotted name: .*\(\{\{payload.data.object.charges.0.id\}\}, perhaps\)/,
      ],
      ["{{to_string(payload.id)}}", /step 1: \{\{to_string\(payload.id\)\}\} is not a dotted name: .*such as/],
      ["{{payload.a || payload.b}}", /is not a dotted name/],
      ["{{payload.items[*].name}}", /is not a dotted name/],
      ["{{payload.metadata.'order id'}}", /is not a dotted name/],
    ] as const;
    for (const [text, message] of said) {
      await expect(serve([{ ...PAID, do: [{ notify: "team", text: `Paid: ${text}` }] }])).rejects.toThrow(message);
    }
    const item = {
      ...PAID,
      when: { source: "stripe" },
      // A key JSON-LD or JSON Schema would write ("@type", "$id") is a name as any other.
      do: [
        { notify: "team", text: "First charge {{payload.data.object.charges.0.id}} ({{payload.data.object.@type}})" },
      ],
    };
    const server = await serve([item]);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, undefined, undefined, {
        charges: [{ id: "ch_first" }, { id: "ch_second" }],
        "@type": "Charge",
      });
      await runsOf(event.id);
      expect(telegram.delivered.slice(sent)).toEqual([
        expect.objectContaining({ text: "First charge “ch_first” (“Charge”)" }),
      ]);
    } finally {
      await server.close();
    }
  });

  test("an automation that cannot run is named where it is set, as a mistake in its setting is: the config file, or WAITER_AUTOMATIONS", async () => {
    const misspelt = { ...PAID, do: [{ ...PAID.do[0], tool: "eshop_order_markpaid" }] };
    const elsewhere = { ...PAID, when: { ...PAID.when, source: "paypal" } };
    const file = join(dataDir, "waiter.json");
    const { WAITER_AUTOMATIONS: _, ...rest } = env([]);
    for (const [automation, message] of [
      [misspelt, "automation stripe-paid, step 1: eshop_order_markpaid is not served here"],
      [elsewhere, 'automation stripe-paid: when.source "paypal" is no configured webhook source (stripe)'],
    ] as const) {
      await expect(serve([automation])).rejects.toThrow(`invalid setting WAITER_AUTOMATIONS at ${message}`);
      writeFileSync(file, JSON.stringify({ automations: [automation] }));
      const config = loadConfig({ env: rest, file }, toolsets());
      await expect(startServe(config, new Log("error", () => {}))).rejects.toThrow(
        `invalid setting automations in ${file} at ${message}`,
      );
    }
  });

  test("a notification whose text is only insertions starts: the text is filled in when an event arrives", async () => {
    const only = { ...PAID, do: [{ notify: "team", text: "{{payload.data.object.description}}" }] };
    await (await serve([only])).close();
  });

  test.each([
    [
      "a misspelt tool, with the tool meant",
      { ...PAID, do: [{ ...PAID.do[0], tool: "eshop_order_markpaid" }, ...PAID.do.slice(1)] },
      {},
      /step 1: eshop_order_markpaid is not served here: waiter has no tool of that name; did you mean eshop_order_mark_paid\?$/,
    ],
    [
      "a misspelt tool as near two tools, with both",
      { ...PAID, do: [{ ...PAID.do[0], tool: "eshop_order_lst" }, ...PAID.do.slice(1)] },
      {},
      /step 1: eshop_order_lst is not served here: waiter has no tool of that name; did you mean eshop_orders_list or eshop_order_get\?$/,
    ],
    [
      "a step that writes under --read-only, with the setting",
      PAID,
      { WAITER_READ_ONLY: "true" },
      /step 1: eshop_order_mark_paid is not served here: --read-only \(WAITER_READ_ONLY, readOnly in the config file\) leaves out every tool that changes something$/,
    ],
    [
      "a tool --tools does not list, with the setting",
      PAID,
      { WAITER_TOOLS: "eshop_order_mark_paid,notify_send" },
      /step 3: events_ack is not served here: --tools \(WAITER_TOOLS, tools in the config file\) does not list it$/,
    ],
    [
      "a tool --exclude-tools lists, with the setting",
      PAID,
      { WAITER_EXCLUDE_TOOLS: "notify_send" },
      /step 2: notify_send is not served here: --exclude-tools \(WAITER_EXCLUDE_TOOLS, excludeTools in the config file\) lists it$/,
    ],
    [
      "a tool of a toolset --toolsets leaves off, with the setting",
      PAID,
      { WAITER_TOOLSETS: "events,webhooks,notify,automations" },
      /step 1: eshop_order_mark_paid is not served here: toolset eshop is off: --toolsets \(WAITER_TOOLSETS, toolsets in the config file\) does not list it$/,
    ],
    [
      "a tool of a toolset that is not configured, with what to set",
      PAID,
      { WAITER_WOO_KEY: "" },
      /step 1: eshop_order_mark_paid is not served here: toolset eshop is off: set WAITER_WOO_KEY to a WooCommerce REST API key with Read\/Write permission; docs\/eshop\.md#connecting-the-shop says how$/,
    ],
  ])("%s is said when a step's tool is not served", async (_, automation, settings, message) => {
    await expect(serve([automation], settings)).rejects.toThrow(message);
  });
});

describe("advice to try again, which waiter follows itself in an automation", () => {
  test("is cut from a weather service's 429 however it is worded", () => {
    expect(
      withoutRetryAdvice(
        'MET Norway is throttling waiter (429 "Too Many Requests"): too many requests from this address. Try again in 30 s; MET Norway throttles clients without a real contact in WAITER_MET_CONTACT first.',
      ),
    ).toBe(
      'MET Norway is throttling waiter (429 "Too Many Requests"): too many requests from this address. MET Norway throttles clients without a real contact in WAITER_MET_CONTACT first.',
    );
    expect(
      withoutRetryAdvice(
        "Open-Meteo refused (429): the plan's daily limit is used up; try again tomorrow, or raise the plan's limit with Open-Meteo.",
      ),
    ).toBe("Open-Meteo refused (429): the plan's daily limit is used up; raise the plan's limit with Open-Meteo.");
    expect(
      withoutRetryAdvice(
        "Open-Meteo refused (429): too many requests (the free tier allows 600 a minute, 5,000 an hour, 10,000 a day), or too many at once; wait, then try again.",
      ),
    ).toBe(
      "Open-Meteo refused (429): too many requests (the free tier allows 600 a minute, 5,000 an hour, 10,000 a day), or too many at once.",
    );
    expect(withoutRetryAdvice("MET Norway is busy. Try again in 30 s.")).toBe("MET Norway is busy.");
    expect(withoutRetryAdvice("MET Norway is busy. Try again in 30 s. It throttles by address.")).toBe(
      "MET Norway is busy. It throttles by address.",
    );
    expect(withoutRetryAdvice("Could not reach it; try again later.")).toBe("Could not reach it.");
  });
});
