import { Resolver } from "node:dns";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { startServe } from "../src/app.js";
import { withoutRetryAdvice } from "../src/automations/calls.js";
import { loadConfig } from "../src/config.js";
import { ConfigError, UpstreamError } from "../src/errors.js";
import { HttpClient } from "../src/http/client.js";
import { withDeadline } from "../src/http/deadline.js";
import { Log } from "../src/log.js";
import { clock, HOUR_MS, setClock } from "../src/time.js";
import { toolsets } from "../src/toolsets.js";
import { checkSmtp, emailSender, type SmtpOptions, setupMs, smtpFailure } from "../tools/notify/email.js";
import {
  checkTelegram,
  escapeMarkdownV2,
  type FloodWaits,
  telegramErrors,
  telegramSender,
} from "../tools/notify/telegram.js";
import { ERP_ENV, erpHeaders } from "./erp.js";
import { type FakeAnswer, json, type SeenRequest, startFake } from "./fakes/http.js";
import { startMailServer, subjectOf } from "./fakes/smtp.js";
import { BOT, BOT_TOKEN, startTelegram, type TelegramFake, tooManyRequests } from "./fakes/telegram.js";
import { startWaiter } from "./memory.js";
import { postgresAvailable, postgresRequired, silentProxy } from "./postgres.js";
import { killStarted, SERVING, startNode } from "./spawn.js";
import { CLI, type Session, startServer, text } from "./stdio.js";
import { freshSchema, proxies, usePostgres } from "./store-postgres-shared.js";

const GROUP = "-1001234567890";
const OWNER = "424242";
const SMTP_PASSWORD = "smtp-secret-for-tests";
/** What a result some targets confirmed says of sending it again, which would reach the others twice. */
const AGAIN_TO_ALL =
  "Sending it again sends it to every target of the channel, those it reached too: tell the user which did not confirm it, and send it again only if they want those it reached to get it twice";

/** A channel's check at start, as waiter serve and listen make it, with time for a slow fake. */
const checkedNow = (channel: SmtpOptions) =>
  checkSmtp(channel, {
    signal: new AbortController().signal,
    deadline: clock.now() + 5_000,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  });

/** A channel on the fake at `port` with a login and no TLS. */
const plainLogin = (port: number): SmtpOptions => ({
  host: "127.0.0.1",
  port,
  tls: "none",
  user: "waiter",
  password: SMTP_PASSWORD,
  from: "w@shop.example",
  subject: "waiter",
});
/** An address the test mail server refuses for now (451), as a greylisting server does. */
const GREYLISTED = "later@shop.example";
/** An address of another domain, which the server relays for no one who has not logged in. */
const RELAYED = "partner@elsewhere.example";

interface Mail {
  from: string;
  to: string[];
  data: string;
  user: string | undefined;
}

/** A real SMTP server on loopback (the smtp-server package) that keeps what it receives. */
async function startSmtp(refuse: string[] = []) {
  const received: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    onAuth(auth, _session, callback) {
      if (auth.username === "waiter" && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
      else callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      if (refuse.includes(address.address)) {
        callback(Object.assign(new Error("Mailbox unavailable"), { responseCode: 550 }));
      } else if (address.address === RELAYED) {
        callback(Object.assign(new Error("5.7.1 Relaying denied"), { responseCode: 550 }));
      } else if (address.address === GREYLISTED) {
        callback(Object.assign(new Error("4.7.1 Greylisted, try again later"), { responseCode: 451 }));
      } else callback();
    },
    onData(stream, session, callback) {
      let data = "";
      stream.on("data", (chunk: Buffer) => {
        data += chunk.toString("utf8");
      });
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A server that takes connections and never says a word: a mail server that hangs. */
async function startSilentServer() {
  const held: Socket[] = [];
  const silent = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  return {
    port: (silent.address() as AddressInfo).port,
    held,
    async close() {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    },
  };
}

function channels(telegram: TelegramFake, smtpPort: number) {
  return JSON.stringify({
    ops: {
      type: "telegram",
      botTokenEnv: "TELEGRAM_BOT_TOKEN",
      chatIds: [GROUP, Number(OWNER)],
      baseUrl: telegram.origin,
    },
    fancy: {
      type: "telegram",
      botTokenEnv: "TELEGRAM_BOT_TOKEN",
      chatIds: [OWNER],
      format: "markdownv2",
      baseUrl: telegram.origin,
    },
    stranger: {
      type: "telegram",
      botTokenEnv: "TELEGRAM_BOT_TOKEN",
      chatIds: [OWNER, "-100999"],
      baseUrl: telegram.origin,
    },
    office: {
      type: "email",
      host: "127.0.0.1",
      port: smtpPort,
      tls: "none",
      user: "waiter",
      passwordEnv: "SMTP_PASSWORD",
      from: "waiter@shop.example",
      fromName: "Kavárna, s.r.o.",
      to: ["boss@shop.example", "accounts@shop.example"],
      subject: "From the shop",
    },
    bounce: {
      type: "email",
      host: "127.0.0.1",
      port: smtpPort,
      tls: "none",
      from: "waiter@shop.example",
      to: ["boss@shop.example", "gone@shop.example", RELAYED],
    },
    grey: {
      type: "email",
      host: "127.0.0.1",
      port: smtpPort,
      tls: "none",
      from: "waiter@shop.example",
      to: [GREYLISTED],
    },
  });
}

/** An email channel to b@shop.example, with `settings` over it. */
function mail(settings: object) {
  return { type: "email", from: "w@shop.example", to: ["b@shop.example"], ...settings };
}

/** The one channel, office, of a case's own waiter: plain SMTP to `port` on loopback, with `settings` over it. */
function office(port: number, settings: object = {}) {
  return JSON.stringify({ office: mail({ host: "127.0.0.1", port, tls: "none", ...settings }) });
}

let telegram: TelegramFake;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let waiter: Session;

beforeAll(async () => {
  [telegram, smtp] = await Promise.all([startTelegram([GROUP, OWNER]), startSmtp(["gone@shop.example"])]);
  waiter = await startWaiter({
    WAITER_NOTIFY_CHANNELS: channels(telegram, smtp.port),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    SMTP_PASSWORD,
    WAITER_TOOL_TIMEOUT: "10",
    WAITER_LOG_LEVEL: "info",
  });
});

afterAll(async () => {
  await waiter?.close();
  await Promise.all([telegram?.close(), smtp?.close()]);
});

describe("notify_send on Telegram", () => {
  test("goes to every chat of the channel, as plain text", async () => {
    const before = telegram.delivered.length;
    const result = await waiter.call("notify_send", { channel: "ops", text: "Order #1042 is paid (19.99 EUR)." });
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      channel: "ops",
      sent: [GROUP, OWNER],
      failed: [],
    });
    expect(telegram.delivered.slice(before)).toEqual([
      { chat_id: GROUP, text: "Order #1042 is paid (19.99 EUR).", link_preview_options: { is_disabled: true } },
      { chat_id: OWNER, text: "Order #1042 is paid (19.99 EUR).", link_preview_options: { is_disabled: true } },
    ]);
    expect(text(result)).toBe(`Sent on ops to ${GROUP}, ${OWNER}.`);
    // A model's own text mentions as it writes it, between curly quotes too: only an automation
    // keeps the event's text it quotes from mentioning anyone.
    const quoted = "Ask “@shop_owner” about order #1042.";
    const asked = await waiter.call("notify_send", { channel: "ops", text: quoted });
    expect(asked.isError, text(asked)).toBeFalsy();
    expect(telegram.delivered.slice(before + 2).map((m) => m.text)).toEqual([quoted, quoted]);
    expect(waiter.stderr()).toContain(`notify ops: sent to ${GROUP}, ${OWNER}`);
  });

  test("a MarkdownV2 channel escapes every reserved character, so the text shows as written", async () => {
    const written = "Paid: *1042* [card] 19.99 - thanks! (_a_ `b` ~c~ > #d + e = f | {g} . \\)";
    const result = await waiter.call("notify_send", { channel: "fancy", text: written });
    expect(result.isError, text(result)).toBeFalsy();
    const last = telegram.delivered.at(-1);
    expect(last).toMatchObject({ parse_mode: "MarkdownV2", text: escapeMarkdownV2(written) });
    // What Telegram shows is the text with the escapes taken out.
    expect(last?.text.replace(/\\(.)/g, "$1")).toBe(written);
  });

  test("each line break shows as one, and no direction override turns a line around, in plain text and MarkdownV2", async () => {
    // Telegram deletes a lone CR, the line and paragraph separators and the direction embeddings
    // and overrides: the lines would run together ("100" and "5 items" read "1005 items").
    await expectShown(
      "Paid: 100\r5 items\r\nRefund: 20\u2028Jan\u2029Note: \u202Eevil\u202C end",
      "Paid: 100\n5 items\nRefund: 20\nJan\nNote: evil end",
    );
  });

  test("a vertical tab or form feed shows as a line break, and another control as the space Telegram makes it", async () => {
    // A word processor's line break (Shift+Enter) is a vertical tab, which a pasted product name
    // or note keeps; Telegram shows it, a form feed and the other controls but the tab as a space.
    await expectShown("Praha\vBrno\fSklad: 3\u0000ks\u001bOK\tnote", "Praha\nBrno\nSklad: 3 ks OK\tnote");
  });

  /** `written`, sent to the plain text channel and the MarkdownV2 one, arrives as `shown` on each. */
  async function expectShown(written: string, shown: string): Promise<void> {
    for (const channel of ["ops", "fancy"]) {
      const before = telegram.delivered.length;
      const result = await waiter.call("notify_send", { channel, text: written });
      expect(result.isError, text(result)).toBeFalsy();
      const sent = telegram.delivered.slice(before).map((m) => m.text);
      expect(sent.length).toBeGreaterThan(0);
      for (const each of sent) expect(each).toBe(channel === "fancy" ? escapeMarkdownV2(shown) : shown);
    }
  }

  test("a text written decomposed keeps its ring above on Telegram, as it does by email", async () => {
    // Telegram deletes the combining ring above (U+030A): "ů" typed as u and the ring, as macOS
    // and some shops store it, would show as "u". Composed, it is one character Telegram keeps.
    // The rest stays as written: composed whole, some texts would grow (\u095B, Devanagari's za, is two).
    const written = "Zu\u030Astatek: 2 ks, A\u030Angström, \u095Bरूरत";
    for (const channel of ["ops", "fancy"]) {
      const before = telegram.delivered.length;
      const result = await waiter.call("notify_send", { channel, text: written });
      expect(result.isError, text(result)).toBeFalsy();
      const sent = telegram.delivered.slice(before).map((m) => m.text);
      expect(sent.length).toBeGreaterThan(0);
      const shown = "Zůstatek: 2 ks, Ångström, \u095Bरूरत";
      for (const each of sent) expect(each).toBe(channel === "fancy" ? escapeMarkdownV2(shown) : shown);
    }
  });

  test("a chat that does not take it fails alone, in Telegram's words", async () => {
    const result = await waiter.call("notify_send", { channel: "stranger", text: "Stock of COF-ESP-1KG is out." });
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      sent: [OWNER],
      failed: [{ target: "-100999", error: expect.stringMatching(/chat not found/) }],
    });
    expect(text(result)).toBe(
      `Sent on stranger to ${OWNER}.\nNot confirmed by -100999: Telegram Bot API did not take the message (400: Bad Request: chat not found); check the id in the channel's chatIds (a supergroup's or channel's begins with -100 and has 13 digits), and that the bot is a member of the group.\n${AGAIN_TO_ALL}.`,
    );
    expect(waiter.stderr()).toMatch(
      /notify stranger: not confirmed by -100999: .*chat not found\); check the id .*group\.$/m,
    );
  });

  test("a 429 is waited out as long as Telegram asks, then the message is sent once", async () => {
    const before = telegram.delivered.length;
    telegram.queue.push(tooManyRequests(1));
    const started = performance.now();
    const result = await waiter.call("notify_send", { channel: "fancy", text: "Again" });
    expect(result.isError, text(result)).toBeFalsy();
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(telegram.delivered.length - before).toBe(1);
    // Its wait, and the turn after it of the message sent then, are over before the next message to that chat.
    setClock(clock.now() + 2_000);
  });

  test("a 429 without Telegram's words (a proxy's) is waited out as long as its Retry-After asks", async () => {
    const before = telegram.delivered.length;
    telegram.queue.push({ status: 429, headers: { "retry-after": "1" }, body: "" });
    const started = performance.now();
    const result = await waiter.call("notify_send", { channel: "fancy", text: "Again" });
    expect(result.isError, text(result)).toBeFalsy();
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(telegram.delivered.length - before).toBe(1);
    // The turn after its wait, which the message sent then took, is over: the next message goes at once.
    setClock(clock.now() + 1_000);
    telegram.queue.push({ status: 429, headers: { "retry-after": "3600" }, body: "" });
    expect(text(await waiter.call("notify_send", { channel: "fancy", text: "Later" }))).toMatch(
      /did not take the message \(429\); try again in 3600 s/,
    );
    // The hour it asked for passes before the next message to that chat.
    setClock(clock.now() + 3_601_000);
  });

  test("a message to a group upgraded to a supergroup goes to the supergroup, and the log names its id for chatIds", async () => {
    // A group's members, history and bot go to the supergroup, which Telegram names in its refusal
    // (migrate_to_chat_id): the people of the group are still the ones told.
    const group = "-4012345678";
    const supergroup = -1004012345678;
    const upgraded = await startTelegram([group, String(supergroup)]);
    upgraded.migrated.set(group, supergroup);
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [group], baseUrl: upgraded.origin },
      }),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    });
    try {
      const result = await team.call("notify_send", { channel: "team", text: "Order 1042 is paid." });
      expect(result.isError, text(result)).toBeFalsy();
      // The result names the chat it went to: the group's id alone would be a wrong fact.
      const went = `${group} (upgraded to supergroup ${supergroup}, where it went)`;
      expect(result.structuredContent).toMatchObject({ sent: [went], failed: [] });
      expect(text(result)).toBe(`Sent on team to ${went}.`);
      expect(upgraded.delivered.map((m) => [String(m.chat_id), m.text])).toEqual([
        [String(supergroup), "Order 1042 is paid."],
      ]);
      expect(team.stderr()).toContain(
        `warning [notify] Telegram Bot API says group ${group} was upgraded to a supergroup, chat ${supergroup}, and the message went there: put that id in the channel's chatIds`,
      );
    } finally {
      await team.close();
      await upgraded.close();
    }
  });

  test("a group upgraded to a supergroup that chatIds lists too is not sent to twice", async () => {
    // The operator put the supergroup's id in chatIds, as told, and left the group's there.
    const group = "-4012345679";
    const supergroup = -1004012345679;
    const upgraded = await startTelegram([group, String(supergroup)]);
    upgraded.migrated.set(group, supergroup);
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: {
          type: "telegram",
          botTokenEnv: "TELEGRAM_BOT_TOKEN",
          chatIds: [group, String(supergroup)],
          baseUrl: upgraded.origin,
        },
      }),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    });
    try {
      const result = await team.call("notify_send", { channel: "team", text: "Order 1042 is paid." });
      expect(upgraded.delivered.map((m) => [String(m.chat_id), m.text])).toEqual([
        [String(supergroup), "Order 1042 is paid."],
      ]);
      expect(result.structuredContent).toMatchObject({
        sent: [String(supergroup)],
        failed: [{ target: group, error: expect.stringContaining(`the group is now chat ${supergroup}`) }],
      });
      // The supergroup is in chatIds already: what is left to do is take the group's id out.
      const { error } = (result.structuredContent as { failed: { error: string }[] }).failed[0] as { error: string };
      expect(error).toContain(`which chatIds lists too: take ${group} out of the channel's chatIds`);
      expect(error).not.toContain("put that id in");
    } finally {
      await team.close();
      await upgraded.close();
    }
  });

  test("a bot blocked or removed, or a chat not found, says what to do", async () => {
    telegram.queue.push(
      json(403, JSON.stringify({ ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" })),
    );
    expect(text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }))).toMatch(
      /\(403: Forbidden: bot was blocked by the user\); a person must unblock the bot, a group or channel must add it again, or the chat must leave chatIds/,
    );
    telegram.queue.push(
      json(400, JSON.stringify({ ok: false, error_code: 400, description: "Bad Request: chat not found" })),
    );
    expect(text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }))).toMatch(
      /\(400: Bad Request: chat not found\); check the id in the channel's chatIds: the bot reaches a person only once they have written to it \(opened it in Telegram and pressed Start\)\.$/,
    );
    // No one was told: the operator who reads the warnings sees it.
    expect(waiter.stderr()).toMatch(
      /warning \[notify\] notify_send failed: No chat of fancy confirmed the message: 424242: .*\(400: Bad Request: chat not found\)/,
    );
  });

  test("a chat not found by a group's or channel's own number is told its id, as a person's is told to start the bot", async () => {
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [1234567890], baseUrl: telegram.origin },
      }),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    });
    try {
      telegram.queue.push(
        json(400, JSON.stringify({ ok: false, error_code: 400, description: "Bad Request: chat not found" })),
      );
      expect(text(await team.call("notify_send", { channel: "team", text: "Hi" }))).toMatch(
        /\(400: Bad Request: chat not found\); check the id in the channel's chatIds: the bot reaches a person only once they have written to it \(opened it in Telegram and pressed Start\), and a supergroup or channel by -100 and the number in its t\.me\/c\/… link, -1001234567890\.$/,
      );
    } finally {
      await team.close();
    }
  });

  test("a channel with a topic posts in that topic of a forum, and a topic the chat does not have is the setting to fix", async () => {
    const forum = await startTelegram([GROUP]);
    forum.standing.set(GROUP, { type: "supergroup", member: { status: "member" }, topics: [7] });
    const topic = (topicId: number) => ({
      type: "telegram",
      botTokenEnv: "TELEGRAM_BOT_TOKEN",
      chatIds: [GROUP],
      topicId,
      baseUrl: forum.origin,
    });
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({ orders: topic(7), gone: topic(8) }),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    });
    try {
      const sent = await team.call("notify_send", { channel: "orders", text: "Order 1042 is paid." });
      expect(sent.isError, text(sent)).toBeFalsy();
      expect(forum.delivered).toEqual([
        {
          chat_id: GROUP,
          message_thread_id: 7,
          text: "Order 1042 is paid.",
          link_preview_options: { is_disabled: true },
        },
      ]);
      const missing = await team.call("notify_send", { channel: "gone", text: "Hi" });
      expect(missing.isError).toBe(true);
      expect(text(missing)).toMatch(
        /\(400: Bad Request: message thread not found\); check the channel's topicId, which the chat has no topic by \(a topic's id is the last number in a link to it, t\.me\/c\/…\/<topicId>\), or list a chat without topics in a channel without topicId\.$/,
      );
      expect(forum.delivered).toHaveLength(1);
    } finally {
      await team.close();
      await forum.close();
    }
  });

  test("a topic an administrator closed is said to be closed, not left as Telegram's code alone", async () => {
    telegram.queue.push(
      json(400, JSON.stringify({ ok: false, error_code: 400, description: "Bad Request: TOPIC_CLOSED" })),
    );
    expect(text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }))).toMatch(
      /\(400: Bad Request: TOPIC_CLOSED\); the forum's topic it goes to \(the channel's topicId, else the General topic\) is closed: an administrator must reopen it, or topicId name an open one\.$/,
    );
  });

  test("a person who never started the bot, whose account is gone, or a bot is not told to unblock it", async () => {
    const forbidden = (description: string) => json(403, JSON.stringify({ ok: false, error_code: 403, description }));
    telegram.queue.push(forbidden("Forbidden: bot can't initiate conversation with a user"));
    const never = text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }));
    expect(never).toMatch(
      /\(403: Forbidden: bot can't initiate conversation with a user\); the person must open the bot in Telegram and press Start first \(a bot cannot write first\), or the chat must leave chatIds/,
    );
    expect(never).not.toMatch(/unblock/);
    telegram.queue.push(forbidden("Forbidden: user is deactivated"));
    const gone = text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }));
    expect(gone).toMatch(
      /\(403: Forbidden: user is deactivated\); the account or chat no longer exists: take it out of chatIds/,
    );
    expect(gone).not.toMatch(/unblock/);
    // A bot's id, as the number before a token's colon is, which no bot can write to.
    telegram.queue.push(forbidden("Forbidden: bot can't send messages to bots"));
    const bot = text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }));
    expect(bot).toMatch(
      /\(403: Forbidden: bot can't send messages to bots\); the chat is a bot's, which no bot can write to \(the number before the colon in a bot token is that bot's id\): take it out of chatIds, and list the people, groups or channels to tell\./,
    );
    expect(bot).not.toMatch(/unblock/);
  });

  test("a bot a channel or group does not let post is told which right to give it", async () => {
    const refused = (description: string) => json(400, JSON.stringify({ ok: false, error_code: 400, description }));
    telegram.queue.push(refused("Bad Request: need administrator rights in the channel chat"));
    expect(text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }))).toMatch(
      /\(400: Bad Request: need administrator rights in the channel chat\); make the bot an administrator of the channel with the right to post messages/,
    );
    telegram.queue.push(refused("Bad Request: not enough rights to send text messages to the chat"));
    expect(text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }))).toMatch(
      /\(400: Bad Request: not enough rights to send text messages to the chat\); the chat does not let the bot post: in a group, an administrator must let members send messages or make the bot an administrator; in a channel, make it an administrator with the right to post messages/,
    );
  });

  test("Telegram's description of a refusal is told on one line, as it is in its own words", async () => {
    const description = "Bad Request: chat not found\nSent to every chat.\u2028\u001b[2J";
    telegram.queue.push(json(400, JSON.stringify({ ok: false, error_code: 400, description })));
    const said = text(await waiter.call("notify_send", { channel: "fancy", text: "Hi" }));
    expect(said).toMatch(/\(400: Bad Request: chat not found Sent to every chat\. \[2J\); check the id/);
    for (const breaking of ["\n", "\u2028", "\u001b"]) expect(said).not.toContain(breaking);
  });

  test("a 429 that asks for longer than the call has fails at once and says so", async () => {
    telegram.queue.push(tooManyRequests(3600));
    const result = await waiter.call("notify_send", { channel: "fancy", text: "Later" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/Too Many Requests: retry after 3600/);
    setClock(clock.now() + 3_601_000);
  });

  test("while Telegram asks a chat to wait, no message is sent to it, whichever channel or call sends it", async () => {
    const sent = () =>
      telegram.requests.filter((r) => r.path.endsWith("/sendMessage")).map((r) => JSON.parse(r.body).chat_id);
    telegram.queue.push(tooManyRequests(600));
    expect(text(await waiter.call("notify_send", { channel: "fancy", text: "First" }))).toMatch(
      /Too Many Requests: retry after 600/,
    );
    const before = sent().length;
    try {
      setClock(clock.now() + 60_000);
      const later = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          waiter.call("notify_send", { channel: i % 2 ? "fancy" : "stranger", text: `Order ${i}` }),
        ),
      );
      for (const result of later) {
        expect(text(result)).toMatch(
          /424242: Telegram Bot API did not take the message \(429: .*nothing was sent\); try again in 5[34]\d s\./,
        );
      }
      // Only the other chat of "stranger" was sent to: the wait is the chat's, on every channel.
      expect(sent().slice(before)).toEqual(Array(5).fill("-100999"));
      setClock(clock.now() + 541_000);
      expect((await waiter.call("notify_send", { channel: "fancy", text: "Now" })).isError).toBeFalsy();
      expect(sent().slice(before + 5)).toEqual([OWNER]);
    } finally {
      setClock(clock.now() + 600_000);
    }
  });

  test("an answer that quotes the request's path, which holds the token, is not repeated", async () => {
    telegram.queue.push(
      { status: 301, headers: { location: `/bot${BOT_TOKEN}/sendMessage/` }, body: "" },
      { status: 502, headers: { "content-type": "text/plain" }, body: `bad gateway for /bot${BOT_TOKEN}/sendMessage` },
    );
    const result = await waiter.call("notify_send", { channel: "ops", text: "Hello" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /did not take the message \(301\).*answered 502: the message may have been sent, and sending it again may send it twice/s,
    );
    expect(text(result)).not.toContain(BOT_TOKEN.split(":")[1]);
    expect(waiter.stderr()).not.toContain(BOT_TOKEN.split(":")[1]);
  });

  test("a 2xx that is not Telegram's, repeating the request's path, never shows the token", async () => {
    telegram.queue.push({
      status: 200,
      headers: { "content-type": "text/html" },
      body: `Blocked: POST /bot${BOT_TOKEN}/sendMessage is not allowed by policy`,
    });
    const result = await waiter.call("notify_send", { channel: "fancy", text: "Hello" });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('beginning "Blocked: POST /bot[credential]/sendMessage is not allowed by policy"');
    expect(text(result)).not.toContain(BOT_TOKEN.split(":")[1]);
    expect(waiter.stderr()).not.toContain(BOT_TOKEN.split(":")[1]);
  });

  test("a 2xx Telegram's answer does not confirm says the message may have been sent, not to read a chat", async () => {
    telegram.queue.push(
      { status: 200, headers: { "content-type": "text/html" }, body: "<html>Accepted</html>" },
      json(200, '{"ok":true,"result":{}}'),
    );
    const said = async () => text(await waiter.call("notify_send", { channel: "fancy", text: "Hello" }));
    expect(await said()).toMatch(
      /sent an answer that is not JSON \(status 200, 21 bytes, beginning "<html>Accepted<\/html>"\); the message may have been sent\. Sending the message again may send it twice\.$/,
    );
    expect(await said()).toMatch(
      /accepted the message \(status 200\) but answered in an unexpected format \(result\.message_id: [^)]+\): it was most likely sent\. Sending the message again may send it twice\.$/,
    );
  });

  test("an answer that comes after the call's time says the message may have been sent", async () => {
    const hasty = await startWaiter({
      WAITER_NOTIFY_CHANNELS: channels(telegram, smtp.port),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      SMTP_PASSWORD,
      WAITER_TOOL_TIMEOUT: "10",
    });
    // The deadline passes once the message is in, however long a busy machine took to send it, and
    // the answer comes after it: waiter's timers move only as the test moves them. It is short of
    // the 15 s waiter waits for an answer's headers, which would answer first.
    telegram.delayMs = HOUR_MS;
    const sent = () => telegram.requests.filter((r) => r.path.endsWith("/sendMessage")).length;
    const before = sent();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const called = hasty.call("notify_send", { channel: "fancy", text: "Slow" });
      await expect.poll(sent).toBe(before + 1);
      await vi.advanceTimersByTimeAsync(10_000);
      const result = await called;
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /Telegram Bot API \(127\.0\.0\.1:\d+\) did not confirm the message before the tool call's deadline; it may have been sent\. Sending the message again may send it twice\.$/,
      );
    } finally {
      vi.useRealTimers();
      telegram.delayMs = 0;
      await hasty.close();
    }
  });

  test("a connection that breaks once the message is sent says it may have been sent, not to read anything", async () => {
    telegram.queue.push({ status: 200, body: "", destroy: true });
    const result = await waiter.call("notify_send", { channel: "fancy", text: "Cut" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /Telegram Bot API \(127\.0\.0\.1:\d+\) did not confirm the message \(the connection was cut\); it may have been sent\. Sending the message again may send it twice\.$/,
    );
    expect(text(result)).not.toMatch(/Read the current state/);
  });

  test("a wrong token is said to be the token, and never shown", async () => {
    const wrong = await startWaiter({
      WAITER_NOTIFY_CHANNELS: channels(telegram, smtp.port),
      TELEGRAM_BOT_TOKEN: "7000000000:AAWrongWrongWrongWrongWrongWrongWrong",
      SMTP_PASSWORD,
    });
    try {
      const result = await wrong.call("notify_send", { channel: "ops", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/refused the bot token/);
      expect(text(result)).not.toContain("AAWrong");
      expect(wrong.stderr()).not.toContain("AAWrong");
    } finally {
      await wrong.close();
    }
  });
});

/** A mail's body as its reader has it, quoted-printable decoded. */
function bodyOf(data = ""): string {
  const [, ...body] = data.split("\r\n\r\n");
  const encoded = /^Content-Transfer-Encoding: quoted-printable\r?$/m.test(data);
  const joined = body.join("\r\n\r\n");
  if (!encoded) return joined;
  return Buffer.from(
    joined.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16))),
    "latin1",
  ).toString("utf8");
}

describe("notify_send by email", () => {
  test("goes to every address of the channel, one message each, logged in to the server", async () => {
    const result = await waiter.call("notify_send", { channel: "office", text: "Order 1042 is paid." });
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      sent: ["boss@shop.example", "accounts@shop.example"],
      failed: [],
    });
    const mails = smtp.received.filter((m) => m.data.includes("Order 1042 is paid."));
    expect(mails.map((m) => m.to).sort()).toEqual([["accounts@shop.example"], ["boss@shop.example"]]);
    for (const mail of mails) {
      expect(mail).toMatchObject({ from: "waiter@shop.example", user: "waiter" });
      // The channel's subject, then the message's first line: an inbox can tell the messages apart.
      expect(mail.data).toMatch(/^Subject: From the shop: Order 1042 is paid\.\r?$/m);
      // The channel's fromName, encoded as RFC 2047 has it: mail clients show "Kavárna, s.r.o.".
      expect(mail.data).toMatch(/^From: =\?UTF-8\?Q\?Kav=C3=A1rna=2C_s=2Er=2Eo=2E\?= <waiter@shop\.example>\r?$/m);
      // Made by a machine (RFC 3834): an out-of-office reply does not answer it, nor Exchange's and
      // Outlook's, which heed their own header (MS-OXCMAIL 2.1.3.2.20).
      expect(mail.data).toMatch(/^Auto-Submitted: auto-generated\r?$/m);
      expect(mail.data).toMatch(/^X-Auto-Response-Suppress: OOF, AutoReply\r?$/m);
    }
  });

  test("each line break is sent as one, and no direction override turns a line around, as on Telegram", async () => {
    const result = await waiter.call("notify_send", {
      channel: "office",
      text: "Zaplaceno: 100\r5 kusů\u2028Jan\u2029Poznámka: \u202Eevil\u202C konec",
    });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("Zaplaceno"));
    expect(bodyOf(mail?.data)).toBe("Zaplaceno: 100   \r\n5 kusů   \r\nJan   \r\nPoznámka: evil konec\r\n");
  });

  test("each line followed by another ends in three spaces, so Outlook does not run the lines together", async () => {
    // Outlook's default "remove extra line breaks" joins a line to the one after it once a line of
    // 40 characters or more came before, unless it ends in three spaces or more: its reader would
    // see "…kartou Částka: 1 999 Kč Doprava: Zásilkovna" on one line.
    const result = await waiter.call("notify_send", {
      channel: "office",
      text: "Objednávka 1042 od Jana Nováka zaplacena kartou\nČástka: 1 999 Kč\n\nDoprava: Zásilkovna",
    });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("1042 od Jana"));
    expect(bodyOf(mail?.data)).toBe(
      "Objednávka 1042 od Jana Nováka zaplacena kartou   \r\nČástka: 1 999 Kč   \r\n\r\nDoprava: Zásilkovna\r\n",
    );
    expect(subjectOf(mail?.data)).toBe("From the shop: Objednávka 1042 od Jana Nováka zaplacena kartou");
  });

  test("a line that already ends in spaces or a tab gets only the spaces it lacks of three, not three more", async () => {
    const result = await waiter.call("notify_send", {
      channel: "office",
      text: "Objednávka 1043 zaplacena \nČástka: 1 999 Kč  \nDoprava: Zásilkovna    \nPoznámka:\t\nKonec",
    });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("1043 zaplacena"));
    expect(bodyOf(mail?.data)).toBe(
      "Objednávka 1043 zaplacena   \r\nČástka: 1 999 Kč   \r\nDoprava: Zásilkovna    \r\nPoznámka:\t   \r\nKonec\r\n",
    );
  });

  test("the blank lines, spaces and tabs at the text's ends are left out, as Telegram leaves them out", async () => {
    // A template whose first or last field is empty (a customer's note) begins or ends so: Telegram
    // trims spaces, tabs and line breaks at both ends, and the mail would open on an empty screen.
    const result = await waiter.call("notify_send", {
      channel: "office",
      text: "\n\t  Objednávka 1042 zaplacena\n\n\tDěkujeme.\t\n \n",
    });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("1042 zaplacena"));
    expect(bodyOf(mail?.data)).toBe("Objednávka 1042 zaplacena   \r\n\r\n\tDěkujeme.\r\n");
  });

  test("a vertical tab or form feed is sent as a line break, and another control as a space, as on Telegram", async () => {
    // A mail client shows a raw control as nothing or as a box, and may end the text at a NUL.
    const result = await waiter.call("notify_send", {
      channel: "office",
      text: "Sklad Praha\vBrno\fPozn\u00e1mka: 3\u0000ks\u001bOK\tnote",
    });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("Sklad Praha"));
    expect(bodyOf(mail?.data)).toBe("Sklad Praha   \r\nBrno   \r\nPozn\u00e1mka: 3 ks OK\tnote\r\n");
    expect(subjectOf(mail?.data)).toBe("From the shop: Sklad Praha");
  });

  test("the subject shows the message's first line, cut to 100 characters", async () => {
    const long = `Stock ran out: ${"x".repeat(120)}`;
    const result = await waiter.call("notify_send", { channel: "office", text: `\n  ${long}\nSecond line` });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("Second line"));
    expect(subjectOf(mail?.data)).toBe(`From the shop: ${long.slice(0, 99)}…`);
  });

  test("the subject counts characters as notify_send does, an emoji one", async () => {
    const long = `Pizza ${"🍕".repeat(120)}`;
    const result = await waiter.call("notify_send", { channel: "office", text: `${long}\nPizza line` });
    expect(result.isError, text(result)).toBeFalsy();
    // Mostly emoji, the body goes in base64: the mail is found by its subject.
    const mail = smtp.received.find((m) => subjectOf(m.data).includes("Pizza"));
    expect(subjectOf(mail?.data)).toBe(`From the shop: ${Array.from(long).slice(0, 99).join("")}…`);
  });

  test("the subject is cut between characters as a reader sees them, not inside a letter or a flag", async () => {
    // A name typed on macOS keeps its accents apart from their letters (Jir\u030Ci\u0301 is Jiří): cut
    // between the r and its caron, the subject would name "Jir"; a flag is two code points.
    const name = "Jir\u030Ci\u0301 Nova\u0301k";
    for (const [head, tail, kept] of [
      ["x".repeat(96), name, "Ji…"],
      ["x".repeat(98), "\u{1F1E8}\u{1F1FF} Praha", "…"],
    ] as const) {
      const result = await waiter.call("notify_send", { channel: "office", text: `${head}${tail}\nGrapheme line` });
      expect(result.isError, text(result)).toBeFalsy();
      const mail = smtp.received.findLast((m) => m.data.includes("Grapheme line"));
      expect(subjectOf(mail?.data)).toBe(`From the shop: ${head}${kept}`);
    }
  });

  test("a first line of nothing a reader sees is passed over for the subject, as a blank one is", async () => {
    // A zero-width space, a soft hyphen and a bell: text, though no mail client shows any of it.
    const result = await waiter.call("notify_send", {
      channel: "office",
      text: "\u200b\u00ad\u0007\nZásoba došla: KÁVA-1\nObjednejte ji.",
    });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("Objednejte ji."));
    expect(subjectOf(mail?.data)).toBe("From the shop: Zásoba došla: KÁVA-1");
  });

  test("the subject keeps the no-break and other Unicode spaces of the first line, as its body does", async () => {
    // Czech writes 1 999 Kč and "v Praze" with a no-break space, French 12,5 % with a narrow one.
    const line = "Zaplaceno 1\u00a0999\u00a0Kč v\u00a0Praze, 12,5\u202f%, A\u2009B\u3000C";
    const result = await waiter.call("notify_send", { channel: "office", text: `${line}\nUnicode spaces.` });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("Unicode spaces."));
    expect(subjectOf(mail?.data)).toBe(`From the shop: ${line}`);
    expect(bodyOf(mail?.data)).toContain(line);
  });

  test("a first line of encoded words and a no-break space keeps it in the subject too", async () => {
    const line = "Paid =?UTF-8?Q?x?= 1\u00a0999\u00a0Kč";
    const result = await waiter.call("notify_send", { channel: "office", text: `${line}\nEncoded, spaced.` });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("Encoded, spaced."));
    expect(subjectOf(mail?.data)).toBe(`From the shop: ${line}`);
  });

  test("a message that begins with the channel's subject does not repeat it in the subject", async () => {
    // A failed automation's notice begins "waiter: ", and the channel's subject is "waiter" by default.
    const notice = "waiter: automation stripe-paid failed on the delivery “evt_1” from stripe.";
    const result = await waiter.call("notify_send", { channel: "bounce", text: notice });
    expect(result.structuredContent).toMatchObject({ sent: expect.arrayContaining(["boss@shop.example"]) });
    const mail = smtp.received.find((m) => m.data.includes("evt_1") && m.to.includes("boss@shop.example"));
    expect(subjectOf(mail?.data)).toBe(notice);
  });

  test("a first line that holds encoded words of its own shows them as written, not decoded", async () => {
    // RFC 2047's form in a subject is decoded by every mail client: a sender's text put in a message
    // would show other words there, a direction override that turns the rest of the line around too.
    const line = "Paid by =?UTF-8?Q?=E2=80=AEtnuoma?= 1042";
    const result = await waiter.call("notify_send", { channel: "office", text: `${line}\nEncoded words.` });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("Encoded words."));
    expect(subjectOf(mail?.data)).toBe(`From the shop: ${line}`);
  });

  test("no line of the message begins From, which an mbox delivery would show as >From", async () => {
    // A line of its own, and one that quoted-printable's 76-character lines would begin with.
    const sent = `Order 1042 is paid.\nFrom now on, ship it by DPD.\n${"x".repeat(75)}From the warehouse.`;
    const result = await waiter.call("notify_send", { channel: "office", text: sent });
    expect(result.isError, text(result)).toBeFalsy();
    const mail = smtp.received.find((m) => m.data.includes("ship it by DPD."));
    expect(mail?.data).not.toMatch(/^From /m);
    expect(bodyOf(mail?.data)).toBe(`${sent.replaceAll("\n", "   \r\n")}\r\n`);
  });

  test("the message is dated by waiter's clock", async () => {
    setClock("2026-11-30T08:00:00Z");
    try {
      const result = await waiter.call("notify_send", { channel: "office", text: "Dated by the clock." });
      expect(result.isError, text(result)).toBeFalsy();
    } finally {
      setClock();
    }
    const mail = smtp.received.find((m) => m.data.includes("Dated by the clock."));
    expect(mail?.data).toMatch(/^Date: Mon, 30 Nov 2026 08:00:0\d \+0000\r?$/m);
  });

  test("an address the server refuses fails alone", async () => {
    const result = await waiter.call("notify_send", { channel: "bounce", text: "Stock is out." });
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      sent: ["boss@shop.example"],
      failed: [
        {
          target: "gone@shop.example",
          error: expect.stringMatching(
            /\(550 Mailbox unavailable\): not sent; correct the address in the channel's to, as sending it again will not help/,
          ),
        },
        {
          // RFC 3463's 5.7.x is the server's policy, not the address; this channel logs in as no one.
          target: RELAYED,
          error: expect.stringMatching(
            /\(550 5\.7\.1 Relaying denied\): not sent; the server's policy refuses it, and the channel logs in as no one: give it the user and passwordEnv of an account that may send through the server, and to such addresses, as sending it again will not help/,
          ),
        },
      ],
    });
    // A retry would send the others the message again, and the text says so.
    expect(text(result).endsWith(`\n${AGAIN_TO_ALL}.`), text(result)).toBe(true);
  });

  test("a message some addresses have and one refuses for now says not to send it again to all without the user", async () => {
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(smtp.port, { to: ["boss@shop.example", GREYLISTED] }),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Order 1042 is paid." });
      expect(result.isError, text(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ sent: ["boss@shop.example"], failed: [{ target: GREYLISTED }] });
      // The refusal for now says to try again later, which only sending it to every address again would do.
      expect(text(result)).toBe(
        [
          "Sent on office to boss@shop.example.",
          `Not confirmed by ${GREYLISTED}: The mail server refused it for now (451 4.7.1 Greylisted, try again later): not sent; try again later.`,
          `${AGAIN_TO_ALL}.`,
        ].join("\n"),
      );
    } finally {
      await team.close();
    }
  });

  test("a mail server named by a host name is looked up and mailed, whatever is left of the call's time", async () => {
    // nodemailer gives the set-up time to node:dns as the look-up's timeout, which takes whole
    // milliseconds only: a fraction (half of 19,999 ms left) threw where nothing caught it.
    const now = clock.now();
    for (const left of [19_999, 20_000, 1_001, 150, 1]) {
      expect(() => new Resolver({ timeout: setupMs(now + left, now) }), `${left} ms left`).not.toThrow();
    }
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(smtp.port, { host: "localhost", to: ["boss@shop.example"] }),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Named by its host name." });
      expect(result.isError, text(result)).toBeFalsy();
      expect(smtp.received.at(-1)?.to).toEqual(["boss@shop.example"]);
    } finally {
      await team.close();
    }
  });

  test("an internationalized address (a Czech domain with diacritics) is taken and mailed", async () => {
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(smtp.port, {
        user: "waiter",
        passwordEnv: "SMTP_PASSWORD",
        from: "waiter@příklad.cz",
        to: ["jiri@příklad.cz"],
      }),
      SMTP_PASSWORD,
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Ahoj" });
      expect(result.isError, text(result)).toBeFalsy();
      // smtp-server reports the domain decoded from the punycode nodemailer sends.
      expect(smtp.received.at(-1)?.to).toEqual(["jiri@příklad.cz"]);
    } finally {
      await team.close();
    }
  });

  test("an address with diacritics before the @ that a server without SMTPUTF8 refuses says so, not only to correct it", async () => {
    // As Postfix refuses such an address from a client that did not declare SMTPUTF8 (RFC 6531).
    const plain = await startMailServer({
      hideSMTPUTF8: true,
      onRcptTo(address, _session, callback) {
        if (/\P{ASCII}/u.test(address.address)) {
          callback(
            Object.assign(new Error("5.6.7 Must declare SMTPUTF8 to send unicode address"), { responseCode: 553 }),
          );
        } else callback();
      },
    });
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(plain.port, { to: ["jiří@shop.example", "boss@shop.example"] }),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError, text(result)).toBeFalsy();
      expect(plain.received).toEqual(["boss@shop.example"]);
      expect(text(result)).toMatch(
        /jiří@shop.example: The mail server refused it \(553 5.6.7 Must declare SMTPUTF8 to send unicode address\): not sent; correct the address in the channel's to, or, as its part before the @ is not ASCII, send through a mail server that offers SMTPUTF8, as sending it again will not help\./,
      );
    } finally {
      await team.close();
      await plain.close();
    }
  });

  test.each<[string, SMTPServerOptions, string]>([
    [
      "a channel with a login never sends without it, even to a server that offers none",
      { disabledCommands: ["STARTTLS", "AUTH"] },
      // Not the password to check: the server has no login to give, on that port at least.
      `the mail server offers no login (500 Error: command not recognized); set the channel's port to the one it takes logged-in mail on (usually 587), or leave out its user and passwordEnv if it takes the channel's mail without a login.`,
    ],
    [
      "a mail server that offers STARTTLS and no login without it tells a channel with tls none to use starttls",
      // As Postfix with smtpd_tls_auth_only answers AUTH before STARTTLS (503, or 500 as here): the
      // login may be offered over TLS, which its EHLO offers.
      { disabledCommands: ["AUTH"] },
      `the mail server offers no login without TLS (500 Error: command not recognized), and offers STARTTLS; set the channel's tls to "starttls", or leave out its user and passwordEnv if it takes the channel's mail without a login.`,
    ],
    [
      "a mail server that offers only login mechanisms waiter does not use is not said to refuse the password",
      // As Exchange's internal connector offers AUTH GSSAPI NTLM, and a provider that has turned
      // passwords off offers XOAUTH2 alone: waiter's AUTH PLAIN is answered 504, whatever the password.
      { authMethods: ["XOAUTH2"], onAuth: (_auth, _session, callback) => callback(null, { user: "x" }) },
      "the mail server takes none of the login mechanisms waiter uses, PLAIN, LOGIN and CRAM-MD5 (504 Error: Unrecognized authentication type); have it take one of them for the channel's user, on its port or another (usually 587), or leave out the channel's user and passwordEnv if it takes the channel's mail without a login.",
    ],
  ])("%s", async (_, options, said) => {
    const server = await startMailServer(options);
    const { port, received } = server;
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port, { to: ["a@shop.example"], user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
      SMTP_PASSWORD,
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toContain(`a@shop.example: Not sent: ${said}`);
      expect(received).toEqual([]);
      expect(await checkedNow(plainLogin(port))).toBe(said);
    } finally {
      await team.close();
      await server.close();
    }
  });

  test("a mail server that takes mail or a login only over TLS tells a channel with tls none to use starttls", async () => {
    // As Postfix with smtpd_tls_security_level = encrypt answers (RFC 3207), and a login over plain text (RFC 4954's 538).
    const encrypting = smtpAnswering("220 mail.shop.example ESMTP", (line) => {
      if (line.startsWith("EHLO")) return "250-mail.shop.example\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN";
      if (line.startsWith("AUTH")) return "538 5.7.11 Encryption required for requested authentication mechanism";
      if (line === "QUIT") return "221 Bye";
      return "530 5.7.0 Must issue a STARTTLS command first";
    });
    await new Promise<void>((resolve) => encrypting.listen(0, "127.0.0.1", resolve));
    const port = (encrypting.address() as AddressInfo).port;
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        anonymous: mail({ host: "127.0.0.1", port, tls: "none" }),
        login: mail({ host: "127.0.0.1", port, tls: "none", user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
      }),
      SMTP_PASSWORD,
    });
    try {
      const said = async (channel: string) => text(await team.call("notify_send", { channel, text: "Hello" }));
      expect(await said("anonymous")).toMatch(
        /b@shop.example: Not sent: the mail server takes mail only over TLS \(530 5.7.0 Must issue a STARTTLS command first\); set the channel's tls to "starttls"\.$/,
      );
      const login = `the mail server takes a login only over TLS (538 5.7.11 Encryption required for requested authentication mechanism); set the channel's tls to "starttls".`;
      expect(await said("login")).toContain(`b@shop.example: Not sent: ${login}`);
      expect(await checkedNow(plainLogin(port))).toBe(login);
    } finally {
      await team.close();
      await new Promise<void>((resolve) => encrypting.close(() => resolve()));
    }
  });

  test("a channel's addresses are sent to one at a time, so a server that allows one connection takes them all", async () => {
    const strict = await startMailServer({ maxClients: 1 }, 50);
    const { port, received } = strict;
    const to = ["a@shop.example", "b@shop.example", "c@shop.example", "d@shop.example"];
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port, { to }),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError, text(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ sent: to, failed: [] });
      expect(received).toEqual(to);
    } finally {
      await team.close();
      await strict.close();
    }
  });

  test("a login refused is tried once for all of a channel's addresses, not once each", async () => {
    // A server that bans an address after a few failed logins (fail2ban, a provider's lockout)
    // would ban waiter's machine for one message to a channel of five addresses.
    let logins = 0;
    const server = await startMailServer({
      allowInsecureAuth: true,
      onAuth(_auth, _session, callback) {
        logins++;
        callback(new Error("Invalid username or password"));
      },
    });
    const to = ["a@shop.example", "b@shop.example", "c@shop.example", "d@shop.example", "e@shop.example"];
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(server.port, { to, user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
      SMTP_PASSWORD: "not-the-password",
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      for (const address of to) {
        expect(text(result)).toContain(
          `${address}: Not sent: the mail server refused the login (535 Invalid username or password); check the channel's user`,
        );
      }
      expect(logins).toBe(1);
    } finally {
      await team.close();
      await server.close();
    }
  });

  test("TLS that fails and a login the server refuses say what to change in the channel", async () => {
    const secured = new SMTPServer({
      authOptional: true,
      logger: false,
      key: readFileSync(new URL("./fixtures/smtp-tls.key", import.meta.url)),
      cert: readFileSync(new URL("./fixtures/smtp-tls.crt", import.meta.url)),
    });
    await new Promise<void>((resolve) => secured.listen(0, "127.0.0.1", resolve));
    const misfits = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        implicit: mail({ host: "127.0.0.1", port: smtp.port, tls: "tls" }),
        private: mail({ host: "127.0.0.1", port: (secured.server.address() as AddressInfo).port }),
        login: mail({ host: "127.0.0.1", port: smtp.port, tls: "none", user: "waiter", passwordEnv: "WRONG" }),
        unported: mail({ host: "127.0.0.1", tls: "tls" }),
      }),
      WRONG: "not-the-password",
    });
    try {
      const said = async (channel: string) => text(await misfits.call("notify_send", { channel, text: "Hi" }));
      expect(await said("implicit")).toMatch(
        /Not sent: the mail server 127.0.0.1:\d+ does not answer TLS \(wrong version number\); with tls "tls" use the server's port for TLS from the start \(usually 465\), or tls "starttls"/,
      );
      expect(await said("private")).toMatch(
        /Not sent: the mail server's certificate is not trusted \(self-signed certificate\); .* NODE_EXTRA_CA_CERTS/,
      );
      expect(await said("login")).toMatch(
        /Not sent: the mail server refused the login \(535 Invalid username or password\); check the channel's user and the password in the variable its passwordEnv names, then restart waiter, which reads it only as it starts/,
      );
      // TLS from the start goes to its own port, 465, when the channel names none.
      expect(await said("unported")).toMatch(/127\.0\.0\.1:465/);
    } finally {
      await misfits.close();
      await new Promise<void>((resolve) => secured.close(() => resolve()));
    }
  });

  test("a mail server's reply that repeats the login never shows the password", async () => {
    // Offers one way to log in, and refuses it repeating what it was sent, and decoded.
    const repeater = (method: string) =>
      smtpAnswering("220 mail.test ESMTP", (line) => {
        const sent = line.split(" ").at(-1) ?? "";
        if (line.startsWith("EHLO")) return `250-mail.test\r\n250 AUTH ${method}`;
        if (line === "AUTH LOGIN") return "334 VXNlcm5hbWU6";
        if (line === Buffer.from("waiter").toString("base64")) return "334 UGFzc3dvcmQ6";
        return `535 5.7.8 ${line} (${Buffer.from(sent, "base64").toString()}) refused`;
      });
    const [plain, login] = [repeater("PLAIN"), repeater("LOGIN")];
    const servers = [plain, login];
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))));
    const mail = (server: ReturnType<typeof createServer>) => ({
      type: "email",
      host: "127.0.0.1",
      port: (server.address() as AddressInfo).port,
      tls: "none",
      user: "waiter",
      passwordEnv: "SMTP_PASSWORD",
      from: "w@shop.example",
      to: ["b@shop.example"],
    });
    const told = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({ plain: mail(plain), login: mail(login) }),
      SMTP_PASSWORD,
    });
    try {
      for (const channel of ["plain", "login"]) {
        const result = await told.call("notify_send", { channel, text: "Hi" });
        expect(text(result)).toMatch(/the mail server refused the login \(535 5\.7\.8 .*\[credential\].* refused\)/);
        for (const shown of [text(result), told.stderr()]) {
          expect(shown).not.toContain(SMTP_PASSWORD);
          expect(shown).not.toContain(Buffer.from(SMTP_PASSWORD).toString("base64"));
          expect(shown).not.toContain(Buffer.from(`\0waiter\0${SMTP_PASSWORD}`).toString("base64"));
        }
      }
    } finally {
      await told.close();
      for (const server of servers) server.close();
    }
  });

  test("a short password is taken out of the login a mail server's reply repeats, not out of its status code", async () => {
    // Postfix's refusal, its enhanced code 5.7.8 holding the password "8" as a word of its own,
    // and the PLAIN login it got, as sent and decoded.
    const refusing = smtpAnswering("220 mail.test ESMTP", (line) => {
      if (line.startsWith("EHLO")) return "250-mail.test\r\n250 AUTH PLAIN";
      const sent = line.split(" ").at(-1) ?? "";
      return `535 5.7.8 Error: authentication failed: ${sent} is ${Buffer.from(sent, "base64").toString()}`;
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const port = (refusing.address() as AddressInfo).port;
      // A short user too: the pair, NULs and all, is still no word of the reply.
      for (const user of ["waiter", "bob"]) {
        expect(await checkedNow({ ...plainLogin(port), user, password: "8" })).toMatch(
          /^the mail server refused the login \(535 5\.7\.8 Error: authentication failed: \[credential\] is \[credential\]\); /,
        );
      }
    } finally {
      refusing.close();
    }
  });

  test("a mailbox that is full or disabled is not said to be a wrong address", async () => {
    // RFC 3463's 5.2.x is the mailbox's state: the address is right, and its owner can mend it.
    const full = await startMailServer({
      onRcptTo(address, _session, callback) {
        if (address.address === "boss@shop.example") {
          callback(Object.assign(new Error("5.2.2 Mailbox full"), { responseCode: 552 }));
        } else if (address.address === "old@shop.example") {
          callback(Object.assign(new Error("5.2.1 Mailbox disabled, not accepting messages"), { responseCode: 550 }));
        } else if (address.address === "quota@shop.example") {
          // RFC 5321's own words for 552, which a server without enhanced codes answers alone.
          callback(
            Object.assign(new Error("Requested mail action aborted: exceeded storage allocation"), {
              responseCode: 552,
            }),
          );
        } else callback();
      },
    });
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(full.port, {
        to: ["boss@shop.example", "old@shop.example", "quota@shop.example", "accounts@shop.example"],
      }),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError, text(result)).toBeFalsy();
      const told = text(result);
      expect(told).toMatch(
        /boss@shop.example: The mail server refused it \(552 5.2.2 Mailbox full\): not sent; the mailbox takes no mail \(full, or disabled\): tell its owner, or take the address out of the channel's to, as sending it again will not help\./,
      );
      expect(told).toMatch(
        /old@shop.example: The mail server refused it \(550 5.2.1 Mailbox disabled, not accepting messages\): not sent; the mailbox takes no mail/,
      );
      expect(told).toMatch(
        /quota@shop.example: The mail server refused it \(552 Requested mail action aborted: exceeded storage allocation\): not sent; the mailbox takes no mail/,
      );
      expect(told).not.toMatch(/correct the address/);
    } finally {
      await team.close();
      await full.close();
    }
  });

  test("a 552 to MAIL FROM, before any recipient is named, is not said to be a full mailbox", async () => {
    // RFC 5321's own words for 552, answered to MAIL FROM: the server's storage, or the message's size.
    const { result, received } = await sentThrough({
      onMailFrom(_address, _session, callback) {
        callback(
          Object.assign(new Error("Requested mail action aborted: exceeded storage allocation"), {
            responseCode: 552,
          }),
        );
      },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /b@shop.example: The mail server refused it \(552 Requested mail action aborted: exceeded storage allocation\): not sent; the server refused it before any recipient was named, so not for a mailbox: it takes no message this large, or has no room for the channel's mail; ask whoever runs it, as sending it again will not help\.$/,
    );
    expect(received).toEqual([]);
  });

  test.each([
    // Postfix's answer to a message over its message_size_limit (RFC 3463's 5.3.4: message too big for system).
    ["with RFC 3463's code for it", "5.3.4 Message size exceeds fixed limit"],
    // Gmail's answer to a message over its size limit (RFC 3463's 5.2.3: message length exceeds administrative limit).
    ["with RFC 3463's code for a length limit", "5.2.3 Your message exceeded Google's message size limits."],
    // RFC 1870's words, which a server without enhanced codes (smtp-server's own example) answers alone.
    ["in words alone", "Message exceeds fixed maximum message size"],
  ])("a message too large, refused at its end %s, is not said to be a full mailbox nor spam", async (_, said) => {
    const small = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => callback(Object.assign(new Error(said), { responseCode: 552 })));
      },
    });
    await new Promise<void>((resolve) => small.listen(0, "127.0.0.1", resolve));
    const team = await startWaiter({ WAITER_NOTIFY_CHANNELS: office((small.server.address() as AddressInfo).port) });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toContain(
        `b@shop.example: The mail server refused it (552 ${said}): not sent; the message is larger than the server takes: send a shorter text, or ask whoever runs the server to take larger messages, as sending it again will not help.`,
      );
    } finally {
      await team.close();
      await new Promise<void>((resolve) => small.close(() => resolve()));
    }
  });

  /**
   * What notify_send of "Hello" to the office channel answers, sent through a mail server started with
   * `server` (logged in as waiter where `login`), and the recipients that server took; both waiter and
   * the server are closed by then.
   */
  async function sentThrough(server: Parameters<typeof startMailServer>[0], login = false) {
    const relay = await startMailServer(server);
    const team = await startWaiter(
      login
        ? {
            WAITER_NOTIFY_CHANNELS: office(relay.port, { user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
            SMTP_PASSWORD,
          }
        : { WAITER_NOTIFY_CHANNELS: office(relay.port) },
    );
    try {
      return { result: await team.call("notify_send", { channel: "office", text: "Hello" }), received: relay.received };
    } finally {
      await team.close();
      await relay.close();
    }
  }

  test.each([
    // Gmail's answer once the login has sent its day's most (RFC 3463's 5.4.5), to MAIL FROM.
    ["MAIL FROM", 550, "5.4.5 Daily user sending limit exceeded."],
    // A Postfix host's sending quota per domain, in its answer to each address.
    ["RCPT TO", 550, "5.4.5 <b@shop.example>: Recipient address rejected: Domain Sending Quota Exceeded"],
    // Exchange Online's past a mailbox's recipients a day, to the message's end, as Microsoft's
    // "SMTP AUTH client submission" page quotes it: no 5.4.5, and 5.2.0 to the message's end is
    // otherwise the text's (a spam filter's).
    ["DATA", 554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"],
  ] as const)(
    "a channel that sent what the server's quota allows, refused at %s, is not told to correct an address",
    async (command, code, said) => {
      const refusal = Object.assign(new Error(said), { responseCode: code });
      const { result, received } = await sentThrough(
        {
          allowInsecureAuth: true,
          onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
          ...(command === "MAIL FROM"
            ? { onMailFrom: (_address, _session, callback) => callback(refusal) }
            : command === "RCPT TO"
              ? { onRcptTo: (_address, _session, callback) => callback(refusal) }
              : {
                  onData: (stream, _session, callback) => {
                    stream.resume();
                    stream.on("end", () => callback(refusal));
                  },
                }),
        },
        true,
      );
      expect(result.isError).toBe(true);
      expect(text(result)).toContain(
        `b@shop.example: The mail server refused it (${code} ${said}): not sent; the server lets the channel send no more for now, as it has sent what its sending quota allows (as Gmail's daily one): it takes mail again once that frees up, so send it then, or through another mail server.`,
      );
      expect(received).toEqual([]);
    },
  );

  test.each([
    [
      "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
      "turn on Authenticated SMTP for the user",
    ],
    // Security defaults keep SMTP AUTH off whatever the mailbox's setting, as Microsoft's "Enable or
    // disable SMTP AUTH in Exchange Online" says.
    [
      "5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy.",
      "turn off the security defaults \\(in Microsoft Entra ID\\), which keep SMTP AUTH off whatever the mailbox's Authenticated SMTP says",
    ],
  ])("a login Microsoft 365 takes by no password is not told to check the password: %s", async (said, mend) => {
    const server = {
      allowInsecureAuth: true,
      onAuth: (_auth: unknown, _session: unknown, callback: (err: Error) => void) =>
        callback(Object.assign(new Error(said), { responseCode: 535 })),
    };
    const advice = new RegExp(
      `the mail server takes no password for the channel's user \\(535 5\\.7\\.139 Authentication unsuccessful, [^)]*\\), as Microsoft 365 does where SMTP AUTH is off for its tenant or mailbox or its security defaults are on: an administrator must ${mend}, or send through another mail server, as no password mends it\\.`,
    );
    const { result, received } = await sentThrough(server as Parameters<typeof startMailServer>[0], true);
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(new RegExp(`b@shop\\.example: Not sent: ${advice.source}`));
    expect(text(result)).not.toMatch(/check the channel's user and the password/);
    expect(received).toEqual([]);
    // The check at start says the same.
    const relay = await startMailServer(server as Parameters<typeof startMailServer>[0]);
    try {
      expect(await checkedNow(plainLogin(relay.port))).toMatch(new RegExp(`^${advice.source}$`));
    } finally {
      await relay.close();
    }
  });

  test("Gmail's call for an app password says to create one, not only to check the password", async () => {
    // Gmail's answer to the account's own password where it has 2-Step Verification.
    const said =
      "5.7.9 Application-specific password required. For more information, go to https://support.google.com/mail/?p=InvalidSecondFactor";
    const { result, received } = await sentThrough(
      {
        allowInsecureAuth: true,
        onAuth: (_auth, _session, callback) => callback(Object.assign(new Error(said), { responseCode: 534 })),
      },
      true,
    );
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /b@shop\.example: Not sent: the mail server wants an app password for the channel's user \(534 5\.7\.9 Application-specific password required\.[^)]*\), as Gmail does for an account with 2-Step Verification: create one in the Google account \(Security, App passwords\), put it in the variable the channel's passwordEnv names, then restart waiter, which reads it only as it starts\.$/,
    );
    expect(received).toEqual([]);
  });

  test("a sender the server's policy refuses for the channel's login is told to check the channel's from", async () => {
    // As Postfix's reject_sender_login_mismatch answers MAIL FROM of an address the login does not own.
    const { result, received } = await sentThrough(
      {
        allowInsecureAuth: true,
        onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
        onMailFrom(address, _session, callback) {
          callback(
            Object.assign(new Error(`5.7.1 <${address.address}>: Sender address rejected: not owned by user waiter`), {
              responseCode: 553,
            }),
          );
        },
      },
      true,
    );
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /b@shop.example: The mail server refused it \(553 5.7.1 <w@shop.example>: Sender address rejected: not owned by user waiter\): not sent; check the channel's from, an address its login may send as, as sending it again will not help\.$/,
    );
    expect(received).toEqual([]);
  });

  test("a sender refused to a channel that logs in as no one is told to check the channel's from, not its login", async () => {
    // As Postfix's reject_unknown_sender_domain answers MAIL FROM of a domain that does not resolve.
    const { result } = await sentThrough({
      onMailFrom(_address, _session, callback) {
        callback(Object.assign(new Error("5.1.8 Sender address rejected: Domain not found"), { responseCode: 550 }));
      },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /b@shop.example: The mail server refused it \(550 5.1.8 Sender address rejected: Domain not found\): not sent; check the channel's from, as sending it again will not help\.$/,
    );
  });

  test("a sender refused in the answer to RCPT TO is told to check the channel's from, not its to", async () => {
    // As Postfix answers, its checks of the sender delayed to RCPT TO (smtpd_delay_reject, on by
    // default), with RFC 3463's code for a sender's address (5.1.8).
    const { result } = await sentThrough({
      onRcptTo(_address, session, callback) {
        const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        callback(
          Object.assign(new Error(`5.1.8 <${sender}>: Sender address rejected: Domain not found`), {
            responseCode: 550,
          }),
        );
      },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /b@shop.example: The mail server refused it \(550 5.1.8 <w@shop.example>: Sender address rejected: Domain not found\): not sent; check the channel's from, as sending it again will not help\.$/,
    );
  });

  test("a sender's domain that fails SPF in the answer to RCPT TO is said to be the channel's from, not the login or the address", async () => {
    // As policyd-spf answers for Postfix, with RFC 7372's code for an SPF check that failed (5.7.23).
    const { result } = await sentThrough(
      {
        allowInsecureAuth: true,
        onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
        onRcptTo(address, _session, callback) {
          callback(
            Object.assign(
              new Error(
                `5.7.23 <${address.address}>: Recipient address rejected: Message rejected due to: SPF fail - not authorized`,
              ),
              { responseCode: 550 },
            ),
          );
        },
      },
      true,
    );
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /b@shop.example: The mail server refused it \(550 5.7.23 <b@shop.example>: Recipient address rejected: Message rejected due to: SPF fail - not authorized\): not sent; the server's check of the sender's domain \(SPF, DKIM, DMARC\) failed: check that the channel's from is an address of a domain that lets this server send for it, as sending it again will not help\.$/,
    );
  });

  test("a refusal by the server's policy to a channel that logs in says to check its user, and one of the sender's domain says its from, login or none", async () => {
    // 5.7.1 (Postfix's "Relay access denied" to a login that may not relay), and RFC 7372's 5.7.23
    // (SPF failed), which is a 5.7.x too but is mended in from, whatever the login.
    const relay = await startMailServer({
      allowInsecureAuth: true,
      authOptional: true,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onRcptTo(address, _session, callback) {
        const said = address.address.startsWith("spf")
          ? "5.7.23 Message rejected due to: SPF fail - not authorized"
          : "5.7.1 Relay access denied";
        callback(Object.assign(new Error(said), { responseCode: 554 }));
      },
    });
    const to = ["far@other.example", "spf@other.example"];
    const loggedIn = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(relay.port, { to, user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
      SMTP_PASSWORD,
    });
    const anonymous = await startWaiter({ WAITER_NOTIFY_CHANNELS: office(relay.port, { to: ["spf@other.example"] }) });
    const spf =
      /spf@other.example: The mail server refused it \(554 5.7.23 Message rejected due to: SPF fail - not authorized\): not sent; the server's check of the sender's domain \(SPF, DKIM, DMARC\) failed: check that the channel's from is an address of a domain that lets this server send for it, as sending it again will not help\./;
    try {
      const told = text(await loggedIn.call("notify_send", { channel: "office", text: "Hello" }));
      expect(told).toMatch(
        /far@other.example: The mail server refused it \(554 5.7.1 Relay access denied\): not sent; the server's policy refuses it: check that the channel's user may send through it, and to such addresses, as sending it again will not help\./,
      );
      expect(told).toMatch(spf);
      expect(text(await anonymous.call("notify_send", { channel: "office", text: "Hello" }))).toMatch(spf);
    } finally {
      await loggedIn.close();
      await anonymous.close();
      await relay.close();
    }
  });

  test("a mail server whose blocklist names this machine, in its answer to RCPT TO, says so, with a login or none", async () => {
    // Postfix's reject_rbl_client answers RCPT TO (smtpd_delay_reject, on by default) in its
    // default_rbl_reply; Exim's dnslists and Microsoft 365 say it in their own words.
    const refusals = {
      "postfix@other.example":
        "5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1",
      "exim@other.example": "rejected because 127.0.0.1 is in a black list at zen.spamhaus.org",
      "outlook@other.example": "5.7.606 Access denied, banned sending IP [127.0.0.1]",
      "office365@other.example":
        "5.7.511 Access denied, banned sender[127.0.0.1]. To request removal from this list please forward this message to delist@microsoft.com",
    };
    const listing = await startMailServer({
      allowInsecureAuth: true,
      authOptional: true,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onRcptTo(address, _session, callback) {
        const said = refusals[address.address as keyof typeof refusals];
        callback(Object.assign(new Error(said), { responseCode: address.address.startsWith("postfix") ? 554 : 550 }));
      },
    });
    const to = Object.keys(refusals);
    const loggedIn = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(listing.port, { to, user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
      SMTP_PASSWORD,
    });
    const anonymous = await startWaiter({ WAITER_NOTIFY_CHANNELS: office(listing.port, { to }) });
    try {
      for (const team of [loggedIn, anonymous]) {
        const told = text(await team.call("notify_send", { channel: "office", text: "Hello" }));
        for (const [address, said] of Object.entries(refusals)) {
          expect(told).toContain(
            `${address}: The mail server refused it (${address.startsWith("postfix") ? 554 : 550} ${said}): not sent; the server takes no mail from this machine, whose address a blocklist names: send through another mail server (the channel's host, port, user and passwordEnv), or ask whoever runs it to take mail from this machine, as sending it again will not help.`,
          );
        }
      }
      expect(listing.received).toEqual([]);
    } finally {
      await loggedIn.close();
      await anonymous.close();
      await listing.close();
    }
  });

  test("Outlook.com's block list, in its answer to MAIL FROM, is said as a blocklist that names this machine", async () => {
    const said =
      "5.7.1 Unfortunately, messages from [127.0.0.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).";
    const outlook = await startMailServer({
      allowInsecureAuth: true,
      authOptional: true,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onMailFrom: (_address, _session, callback) => callback(Object.assign(new Error(said), { responseCode: 550 })),
    });
    const to = ["someone@hotmail.example"];
    const loggedIn = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(outlook.port, { to, user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
      SMTP_PASSWORD,
    });
    const anonymous = await startWaiter({ WAITER_NOTIFY_CHANNELS: office(outlook.port, { to }) });
    try {
      for (const team of [loggedIn, anonymous]) {
        expect(text(await team.call("notify_send", { channel: "office", text: "Hello" }))).toContain(
          `someone@hotmail.example: The mail server refused it (550 ${said}): not sent; the server takes no mail from this machine, whose address a blocklist names: send through another mail server (the channel's host, port, user and passwordEnv), or ask whoever runs it to take mail from this machine, as sending it again will not help.`,
        );
      }
    } finally {
      await loggedIn.close();
      await anonymous.close();
      await outlook.close();
    }
  });

  test("a mail server that finds no host name for this machine's address says so, not to check the text or the login", async () => {
    // Postfix's reject_unknown_client_hostname answers RCPT TO; Gmail answers the message's end
    // with RFC 7372's 5.7.25 (reverse DNS validation failed).
    const gmail =
      "5.7.25 [127.0.0.1] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP.";
    const postfix = "5.7.1 Client host rejected: cannot find your hostname, [127.0.0.1]";
    const checking = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith("postfix")) {
          callback(Object.assign(new Error(postfix), { responseCode: 550 }));
        } else callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => callback(Object.assign(new Error(gmail), { responseCode: 550 })));
      },
    });
    await new Promise<void>((resolve) => checking.listen(0, "127.0.0.1", resolve));
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office((checking.server.address() as AddressInfo).port, {
        to: ["postfix@other.example", "gmail@other.example"],
      }),
    });
    const fix =
      "not sent; the server takes no mail from this machine, whose address has no host name that leads back to it (reverse DNS, a PTR record): have one set by whoever runs this machine's network, or send through another mail server (the channel's host, port, user and passwordEnv), as sending it again will not help.";
    try {
      const told = text(await team.call("notify_send", { channel: "office", text: "Hello" }));
      expect(told).toContain(`postfix@other.example: The mail server refused it (550 ${postfix}): ${fix}`);
      expect(told).toContain(`gmail@other.example: The mail server refused it (550 ${gmail}): ${fix}`);
    } finally {
      await team.close();
      await new Promise<void>((resolve) => checking.close(() => resolve()));
    }
  });

  test("Postfix's refusal for now of a machine it finds no host name for says so with its try again later", async () => {
    // reject_unknown_client_hostname and reject_unknown_reverse_client_hostname answer 450 unless
    // the server's unknown_client_reject_code says otherwise: the answer is the same at every try.
    const answers = [
      "4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]",
      "4.7.1 Client host rejected: cannot find your reverse hostname, [127.0.0.1]",
    ];
    const checking = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onRcptTo(address, _session, callback) {
        const answer = answers[Number(address.address.slice(1, 2))];
        callback(Object.assign(new Error(answer), { responseCode: 450 }));
      },
    });
    await new Promise<void>((resolve) => checking.listen(0, "127.0.0.1", resolve));
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office((checking.server.address() as AddressInfo).port, {
        to: ["p0@other.example", "p1@other.example"],
      }),
    });
    const fix =
      "not sent; try again later, but while it finds no host name that leads back to this machine's address (reverse DNS, a PTR record) it will not take it: have one set by whoever runs this machine's network, or send through another mail server (the channel's host, port, user and passwordEnv).";
    try {
      const told = text(await team.call("notify_send", { channel: "office", text: "Hello" }));
      for (const [i, answer] of answers.entries()) {
        expect(told).toContain(`p${i}@other.example: The mail server refused it for now (450 ${answer}): ${fix}`);
      }
    } finally {
      await team.close();
      await new Promise<void>((resolve) => checking.close(() => resolve()));
    }
  });

  test("a message the mail server refuses once it has it whole is said to be refused for its text or sender, not the channel's login", async () => {
    // As a spam filter, or a check of the sender's domain (Gmail's 550 5.7.26 for DMARC), answers the message's end.
    const filtering = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () =>
          callback(Object.assign(new Error("5.7.1 Message rejected as spam"), { responseCode: 554 })),
        );
      },
    });
    await new Promise<void>((resolve) => filtering.listen(0, "127.0.0.1", resolve));
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office((filtering.server.address() as AddressInfo).port),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /b@shop.example: The mail server refused it \(554 5.7.1 Message rejected as spam\): not sent; the server refused the message itself, once it had it, as a spam filter or a check of the sender's domain \(SPF, DMARC\) does: check the text, and that the channel's from is an address of a domain that lets this server send for it, as sending it again will not help\.$/,
      );
      expect(text(result)).not.toMatch(/user/);
    } finally {
      await team.close();
      await new Promise<void>((resolve) => filtering.close(() => resolve()));
    }
  });

  test.each([
    [
      554,
      "5.2.252 SendAsDenied; waiter@shop.example not allowed to send as w@shop.example; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData]",
    ],
    [
      554,
      "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.",
    ],
    // Exchange Server's own words for it.
    [550, "5.7.60 SMTP; Client does not have permissions to send as this sender"],
  ])(
    "Exchange's refusal of a from the login may not send as says so, not to check the text: %i %s",
    async (code, said) => {
      // Exchange Online answers the message's end so where the channel's from is not its login's own address.
      const { result } = await sentThrough(
        {
          allowInsecureAuth: true,
          onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
          onData(stream, _session, callback) {
            stream.resume();
            stream.on("end", () => callback(Object.assign(new Error(said), { responseCode: code })));
          },
        },
        true,
      );
      expect(result.isError).toBe(true);
      // The server's words, cut where they are long.
      expect(text(result)).toContain(`b@shop.example: The mail server refused it (${code} ${said.slice(0, 100)}`);
      expect(text(result)).toMatch(
        /\): not sent; the channel's login may not send as its from: set from to the login's own address, or have the login given the right to send as it, as sending it again will not help\.$/,
      );
    },
  );

  test("Amazon SES's refusal of an address not verified with it says to verify it, not to check the text", async () => {
    // SES answers the message's end so for a from (and, in its sandbox, an address in to) it has not verified.
    const said =
      "Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: w@shop.example";
    const { result } = await sentThrough({
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => callback(Object.assign(new Error(said), { responseCode: 554 })));
      },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(
      `b@shop.example: The mail server refused it (554 ${said}): not sent; the server sends only from and to addresses verified with it (Amazon SES's identities, which its answer names; in its sandbox, the addresses in to too): verify those with it, or set from to an address it has verified, as sending it again will not help.`,
    );
  });

  test("a mail server that wants a login, from a channel that gives none, says to give the channel one", async () => {
    // As a submission server answers MAIL FROM from a client that did not log in (RFC 4954: 530 5.7.0).
    const submission = await startMailServer({ authOptional: false });
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(submission.port, { to: ["boss@shop.example"] }),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /boss@shop.example: The mail server refused it \(530 Error: authentication Required\): not sent; the server wants a login, and the channel logs in as no one: give it the user and passwordEnv of an account that may send through the server, as sending it again will not help\.$/,
      );
      expect(submission.received).toEqual([]);
    } finally {
      await team.close();
      await submission.close();
    }
  });

  test("a mail server that refuses this machine in its greeting says so, not to check a login the channel does not have", async () => {
    // As a server answers a connection from an address on a blocklist (RFC 5321 3.1: 554 for 220).
    const blocked = createServer((socket) => {
      socket.on("data", () => socket.end("221 Bye\r\n"));
      socket.write("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org\r\n");
    });
    await new Promise<void>((resolve) => blocked.listen(0, "127.0.0.1", resolve));
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office((blocked.address() as AddressInfo).port, { to: ["boss@shop.example"] }),
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /boss@shop.example: Not sent: the mail server refused the connection in its greeting \(554 5.7.1 Service unavailable; Client host \[127.0.0.1\] blocked using zen.spamhaus.org\), before any address or login: it takes no mail from this machine; check the channel's host and port, or ask whoever runs the server to take mail from this machine, as sending it again will not help\.$/,
      );
    } finally {
      await team.close();
      await new Promise<void>((resolve) => blocked.close(() => resolve()));
    }
  });

  test("a refusal for now (4xx) says to try again later", async () => {
    const result = await waiter.call("notify_send", { channel: "grey", text: "Stock is out." });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(
      /later@shop.example: The mail server refused it for now \(451 4.7.1 Greylisted, try again later\): not sent; try again later\.$/,
    );
    // Sent nowhere, the failure is the call's, logged once, as a warning: no one was told.
    expect(waiter.stderr().match(/Greylisted/g)).toHaveLength(1);
    expect(waiter.stderr()).toMatch(/warning \[notify\] notify_send failed: No address of grey .*Greylisted/);
  });

  test("a mail server that refuses the check at start for now is not said to have the channel's settings wrong", async () => {
    // As a server answers while its authentication backend is down (RFC 4954: 454 4.7.0).
    const server = await startMailServer({
      allowInsecureAuth: true,
      onAuth(_auth, _session, callback) {
        callback(Object.assign(new Error("4.7.0 Temporary authentication failure"), { responseCode: 454 }));
      },
    });
    try {
      expect(await checkedNow(plainLogin(server.port))).toBe(
        `the mail server 127.0.0.1:${server.port} refused for now (454 4.7.0 Temporary authentication failure); it may take the channel's mail later, and if it lasts, check the channel's host, port and tls.`,
      );
    } finally {
      await server.close();
    }
  });

  test("a mail server that answers out of turn before it has the message says so, not that it refused it", async () => {
    // 354 ("start mail input") answers DATA alone; to RCPT TO it is a broken server's.
    const broken = await startMailServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error("Go ahead"), { responseCode: 354 }));
      },
    });
    const team = await startWaiter({ WAITER_NOTIFY_CHANNELS: office(broken.port) });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /b@shop.example: The mail server answered out of turn \(354 Go ahead\): not sent; try again later\.$/,
      );
      expect(text(result)).not.toMatch(/refused/);
      expect(broken.received).toEqual([]);
      // Nothing was sent, so an automation's step tries again.
      const failure = { responseCode: 354, response: "354 Go ahead", command: "RCPT TO", message: "Go ahead" };
      const channel = { host: "127.0.0.1", port: broken.port, tls: "none" } as SmtpOptions;
      expect(smtpFailure(failure, channel)).toMatchObject({ refused: true });
    } finally {
      await team.close();
      await broken.close();
    }
  });

  test("a login the mail server answers out of turn is said not to complete, and is not tried again", async () => {
    // Offers AUTH LOGIN, and answers it as if the login were done, where it should ask for the user.
    const skipping = smtpAnswering("220 mail.shop.example ESMTP", (line) => {
      if (line.startsWith("EHLO")) return "250-mail.shop.example\r\n250 AUTH LOGIN";
      if (line === "AUTH LOGIN") return "235 2.7.0 Accepted";
      return "221 Bye";
    });
    await new Promise<void>((resolve) => skipping.listen(0, "127.0.0.1", resolve));
    const port = (skipping.address() as AddressInfo).port;
    const team = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port, { user: "waiter", passwordEnv: "SMTP_PASSWORD" }),
      SMTP_PASSWORD,
    });
    try {
      const result = await team.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /b@shop.example: Not sent: the login to the mail server did not complete, as it answered AUTH LOGIN out of turn \(235 2\.7\.0 Accepted\); check the channel's user and the password in the variable its passwordEnv names, and which login mechanisms the server offers, as sending it again will not help\.$/,
      );
      expect(text(result)).not.toMatch(/try again later/);
      // Each connection logs in the same way: an automation's step does not try again.
      const channel = { host: "127.0.0.1", port, tls: "none", user: "waiter", password: SMTP_PASSWORD } as SmtpOptions;
      const failure = {
        code: "EAUTH",
        responseCode: 334,
        response: "334 ",
        command: "AUTH PLAIN",
        message: "Invalid login: 334 ",
      };
      expect(smtpFailure(failure, channel)).not.toHaveProperty("refused", true);
      expect(smtpFailure(failure, channel).message).toMatch(/^Not sent: the login to the mail server did not complete/);
      // The check at start words it as a send does: the login, not the host, port and tls.
      const checked = await checkedNow(channel);
      expect(checked).toBe(
        "the login to the mail server did not complete, as it answered AUTH LOGIN out of turn (235 2.7.0 Accepted); check the channel's user and the password in the variable its passwordEnv names, and which login mechanisms the server offers.",
      );
    } finally {
      await team.close();
      await new Promise<void>((resolve) => skipping.close(() => resolve()));
    }
  });

  test("a mail server nothing listens for, whose name does not resolve, or that cuts the connection is said so in words", async () => {
    // A port nothing listens on: taken, then freed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    // Greets, then cuts the connection at the first command.
    const cutting = createServer((socket) => {
      socket.on("error", () => {});
      socket.write("220 mail.shop.example ESMTP\r\n");
      socket.once("data", () => socket.resetAndDestroy());
    });
    await new Promise<void>((resolve) => cutting.listen(0, "127.0.0.1", resolve));
    const cuttingPort = (cutting.address() as AddressInfo).port;
    const down = await startWaiter({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        office: mail({ host: "127.0.0.1", port, tls: "none" }),
        cut: mail({ host: "127.0.0.1", port: cuttingPort, tls: "none" }),
      }),
    });
    try {
      const said = async (channel: string) => {
        const result = await down.call("notify_send", { channel, text: "Hello" });
        expect(result.isError).toBe(true);
        return text(result);
      };
      expect(await said("office")).toBe(
        `No address of office confirmed the message: b@shop.example: Not sent: the connection to the mail server 127.0.0.1:${port} was refused, as nothing listens there; try again later, or if it lasts, check the channel's host and port.`,
      );
      expect(await said("cut")).toMatch(
        new RegExp(
          `b@shop.example: Not sent: the mail server 127\\.0\\.0\\.1:${cuttingPort} cut the connection before it had the message; try again later, or if it lasts, check the channel's host, port and tls\\.$`,
        ),
      );
    } finally {
      await down.close();
      await new Promise<void>((resolve) => cutting.close(() => resolve()));
    }
  });

  test("a mail server that takes the connection and greets too late was sent nothing, may be tried again, and may want TLS", async () => {
    // Greets once the test is over: as slow as a server that pauses its greeting against spam, or
    // whose connection took most of the time to set up, and, till then, as silent as one that takes TLS from the start.
    const greet: (() => void)[] = [];
    const late = await startMailServer({
      onConnect(_session, callback) {
        greet.push(() => callback());
      },
    });
    // Half of the call's 4 s to connect and be greeted, which pass once the server has the connection,
    // however long a busy machine took to open it: waiter's timers move only as the test moves them.
    const slow = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(late.port),
      WAITER_TOOL_TIMEOUT: "4",
    });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const called = slow.call("notify_send", { channel: "office", text: "Hello" });
      await expect.poll(() => greet.length).toBe(1);
      await vi.advanceTimersByTimeAsync(2_000);
      vi.useRealTimers();
      const result = await called;
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        new RegExp(
          `b@shop.example: Not sent: the mail server 127\\.0\\.0\\.1:${late.port} sent no greeting in time \\(Greeting never received\\): it is slow, or waits in silence for TLS from the start \\(tls "tls"\\); try again later, or if it lasts, check the channel's host, port and tls\\.$`,
        ),
      );
      expect(text(result)).not.toMatch(/current state/);
      expect(greet.length).toBe(1);
      expect(late.received).toEqual([]);
    } finally {
      vi.useRealTimers();
      await slow.close();
      for (const each of greet) each();
      await late.close();
    }
    // As nodemailer reports it: nothing was sent, so an automation's step tries again; on port 465,
    // TLS's from the start, silence says the server waits for TLS, which only the channel's tls mends.
    const silent = {
      code: "ETIMEDOUT",
      command: "CONN",
      timeoutType: "GREETING_TIMEOUT",
      message: "Greeting never received",
    };
    expect(smtpFailure(silent, { host: "mail.shop.example", port: 587, tls: "starttls" } as SmtpOptions)).toMatchObject(
      {
        refused: true,
      },
    );
    // An automation's step tries again itself, and its last try says what to check.
    expect(
      withoutRetryAdvice(
        smtpFailure(silent, { host: "mail.shop.example", port: 587, tls: "starttls" } as SmtpOptions).message,
      ),
    ).toBe(
      'Not sent: the mail server mail.shop.example:587 sent no greeting in time (Greeting never received): it is slow, or waits in silence for TLS from the start (tls "tls"); if it lasts, check the channel\'s host, port and tls.',
    );
    // A channel the settings take: starttls on port 465 is refused at start, no TLS to a server on this machine is not.
    const plainOn465 = {
      type: "email",
      host: "127.0.0.1",
      port: 465,
      tls: "none",
      from: "a@b.example",
      to: ["c@d.example"],
    };
    expect(() =>
      loadConfig({ env: { WAITER_NOTIFY_CHANNELS: JSON.stringify({ local: plainOn465 }) } }, toolsets()),
    ).not.toThrow();
    const tlsPort = smtpFailure(silent, { ...plainOn465, subject: "waiter" } as SmtpOptions);
    expect(tlsPort).not.toBeInstanceOf(UpstreamError);
    expect(tlsPort.message).toBe(
      'Not sent: the mail server 127.0.0.1:465 sent no greeting (Greeting never received); port 465 is for TLS from the start, where a server waits in silence for it: set the channel\'s tls to "tls".',
    );
  });

  test("a mail server that agrees to STARTTLS and never completes the handshake was sent nothing, and may be tried again", async () => {
    // Says yes to STARTTLS, then reads the client's hello and answers nothing, as a server too busy or a
    // middlebox that holds TLS back does: the upgrade waits what is left of the time to connect.
    const held: Socket[] = [];
    const stalling = createServer((socket) => {
      held.push(socket);
      socket.on("error", () => {});
      socket.write("220 mail.shop.example ESMTP\r\n");
      let lines = "";
      const onData = (chunk: Buffer) => {
        lines += chunk.toString("latin1");
        for (let end = lines.indexOf("\r\n"); end >= 0; end = lines.indexOf("\r\n")) {
          const line = lines.slice(0, end);
          lines = lines.slice(end + 2);
          if (line === "STARTTLS") {
            socket.off("data", onData);
            socket.on("data", () => {});
            socket.write("220 2.0.0 Ready to start TLS\r\n");
            return;
          }
          socket.write(line.startsWith("EHLO") ? "250-mail.shop.example\r\n250 STARTTLS\r\n" : "502 5.5.2 Error\r\n");
        }
      };
      socket.on("data", onData);
    });
    await new Promise<void>((resolve) => stalling.listen(0, "127.0.0.1", resolve));
    const port = (stalling.address() as AddressInfo).port;
    // Half of the call's 4 s to connect, be greeted and upgrade: time enough for a loaded machine to ask for STARTTLS.
    const slow = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port, { tls: "starttls" }),
      WAITER_TOOL_TIMEOUT: "4",
    });
    try {
      const result = await slow.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        new RegExp(
          `b@shop.example: Not sent: the mail server 127\\.0\\.0\\.1:${port} did not end its STARTTLS handshake in time \\(TLS handshake timed out\\); try again later, or if it lasts, check the channel's host, port and tls\\.$`,
        ),
      );
      expect(held.length).toBe(1);
    } finally {
      await slow.close();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => stalling.close(() => resolve()));
    }
    const stalled = {
      code: "ETIMEDOUT",
      command: "CONN",
      timeoutType: "UPGRADE_TIMEOUT",
      message: "TLS handshake timed out",
    };
    expect(
      smtpFailure(stalled, { host: "mail.shop.example", port: 587, tls: "starttls" } as SmtpOptions),
    ).toMatchObject({
      refused: true,
    });
  });

  test("a mail server that takes the connection and never answers TLS from the start is not said to be unreachable", async () => {
    // The connection opens; the TLS handshake, part of opening it for tls "tls", never ends.
    const { port, held, close } = await startSilentServer();
    const slow = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port, { tls: "tls" }),
      WAITER_TOOL_TIMEOUT: "1",
    });
    try {
      const result = await slow.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        new RegExp(
          `b@shop.example: Not sent: no TLS connection to the mail server 127\\.0\\.0\\.1:${port} opened in time \\(Connection timeout\\); it or the network is down, a firewall drops the connection, or the port serves no TLS from the start; try again later, or if it lasts, check the channel's host, port and tls\\.$`,
        ),
      );
      expect(held.length).toBe(1);
    } finally {
      await slow.close();
      await close();
    }
  });

  test("a mail server that takes TLS from the start and then never greets was sent nothing, and may be tried again", async () => {
    // Completes the TLS handshake, with a certificate waiter trusts, and never says a word.
    const held: TLSSocket[] = [];
    const mute = createTlsServer(
      {
        key: readFileSync(new URL("./fixtures/smtp-tls.key", import.meta.url)),
        cert: readFileSync(new URL("./fixtures/smtp-tls.crt", import.meta.url)),
      },
      (socket) => held.push(socket),
    );
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
    const port = (mute.address() as AddressInfo).port;
    const server = await startServer(
      {
        WAITER_NOTIFY_CHANNELS: JSON.stringify({ office: mail({ host: "mail.other.example", port, tls: "tls" }) }),
        NODE_EXTRA_CA_CERTS: fileURLToPath(new URL("./fixtures/smtp-tls.crt", import.meta.url)),
        // The look-up, the connection, the TLS handshake and the greeting share half of it (3 s),
        // counted from before the look-up (nodemailer's connectionTimeout bounds the greeting too):
        // a handshake a loaded machine takes over half a second to make still leaves the greeting
        // its wait, and is not mistaken for a connection never opened.
        WAITER_TOOL_TIMEOUT: "6",
      },
      [],
      ["--import", fileURLToPath(new URL("./fixtures/example-names.mjs", import.meta.url))],
    );
    try {
      const result = await server.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        new RegExp(
          `b@shop.example: Not sent: the mail server mail\\.other\\.example:${port} sent no greeting once TLS was up \\(Greeting never received\\); try again later, or if it lasts, check the channel's host and port\\.$`,
        ),
      );
      expect(held.length).toBe(1);
    } finally {
      await server.close();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
    // As nodemailer reports it: nothing was sent, so an automation's step tries again.
    const channel = { host: "mail.other.example", port, tls: "tls" } as SmtpOptions;
    const silent = {
      code: "ETIMEDOUT",
      command: "CONN",
      timeoutType: "GREETING_TIMEOUT",
      message: "Greeting never received",
    };
    expect(smtpFailure(silent, channel)).toMatchObject({ refused: true });
  });

  test("a mail server that has the message and does not confirm it in time may have delivered it, and the send stops", async () => {
    let closed = false;
    /** The server's confirmations of the messages it had, which it gives only once the test ends. */
    const unconfirmed: (() => void)[] = [];
    const slow = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => unconfirmed.push(() => callback()));
      },
      onClose() {
        closed = true;
      },
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    const port = (slow.server.address() as AddressInfo).port;
    const late = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port),
      WAITER_TOOL_TIMEOUT: "4",
    });
    // The call's 4 s pass once the server has the whole message, however long a busy machine took
    // to send it: waiter's timers move only as the test moves them.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const called = late.call("notify_send", { channel: "office", text: "Hello" });
      await expect.poll(() => unconfirmed.length).toBe(1);
      await vi.advanceTimersByTimeAsync(4_000);
      vi.useRealTimers();
      const result = await called;
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /b@shop.example: The mail server had the whole message but had not confirmed it when the call's time ran out: it may have been delivered, and sending it again may deliver it twice\.$/,
      );
      expect(text(result)).not.toMatch(/Not sent|current state/);
      // waiter closed the connection rather than waiting on for the server's answer.
      await expect.poll(() => closed).toBe(true);
    } finally {
      vi.useRealTimers();
      for (const confirm of unconfirmed) confirm();
      await late.close();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  test("a mail server that has the message and answers neither yes, no nor not now may have delivered it", async () => {
    // RFC 5321 has only 2xx, 4xx or 5xx end a message; another code says nothing of its fate.
    const odd = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => callback(Object.assign(new Error("Queued as 4F2A"), { responseCode: 354 })));
      },
    });
    await new Promise<void>((resolve) => odd.listen(0, "127.0.0.1", resolve));
    const port = (odd.server.address() as AddressInfo).port;
    const told = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port),
    });
    try {
      const result = await told.call("notify_send", { channel: "office", text: "Hello" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(
        /b@shop.example: The mail server had the whole message and answered 354 Queued as 4F2A, which says neither that it took it nor that it refused it: it may have been delivered, and sending it again may deliver it twice\.$/,
      );
      expect(text(result)).not.toMatch(/Not sent|try again/);
    } finally {
      await told.close();
      await new Promise<void>((resolve) => odd.close(() => resolve()));
    }
  });

  test("a call cancelled before the mail server had the message says it was not sent, and closes the connection", async () => {
    const { port, held, close } = await startSilentServer();
    const mute = await startWaiter({
      WAITER_NOTIFY_CHANNELS: office(port),
      WAITER_LOG_LEVEL: "info",
    });
    try {
      const cancel = new AbortController();
      const call = mute.client.callTool(
        { name: "notify_send", arguments: { channel: "office", text: "Hi" } },
        undefined,
        {
          signal: cancel.signal,
        },
      );
      await expect.poll(() => held.length).toBe(1);
      cancel.abort();
      await expect(call).rejects.toThrow();
      await expect
        .poll(() => mute.stderr())
        .toMatch(/b@shop.example: Not sent: the call was cancelled before the mail server had the message/);
      // Closed by the cancel, well before the wait to connect and be greeted (10 s from before the look-up) ends it.
      await expect.poll(() => held[0]?.readableEnded || held[0]?.destroyed, { timeout: 5_000 }).toBe(true);
    } finally {
      await mute.close();
      await close();
    }
  });
});

describe("who may be told", () => {
  test("a channel named in another case is that channel, as the answer names it", async () => {
    const before = telegram.delivered.length;
    const result = await waiter.call("notify_send", { channel: "Ops", text: "Order #1043 is paid." });
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ channel: "ops", sent: [GROUP, OWNER], failed: [] });
    expect(telegram.delivered.slice(before).map((m) => m.chat_id)).toEqual([GROUP, OWNER]);
    expect(text(result)).toBe(`Sent on ops to ${GROUP}, ${OWNER}.`);
  });

  test("only the channels configured, and no text longer than a message", async () => {
    const unknown = await waiter.call("notify_send", { channel: "everyone", text: "Hi" });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toBe(
      'Invalid arguments for notify_send: channel: No notification channel is named "everyone"; the notification channels are ops, fancy, stranger, office, bounce, grey.',
    );
    const misspelt = await waiter.call("notify_send", { channel: "ofice", text: "Hi" });
    expect(text(misspelt)).toMatch(/"ofice"; the notification channels are office \(the closest\), ops, /);
    // An address is sent to only as one of a channel's: the channel is named instead.
    const listed = await waiter.call("notify_send", { channel: "Boss@shop.example", text: "Hi" });
    expect(text(listed)).toMatch(
      /"Boss@shop\.example"; the notification channels are .*\. Boss@shop\.example is an address, not a channel: name the channel that sends to it, office or bounce, which sends to all it lists\.$/,
    );
    // So is a Telegram chat, and an @name is a chat, never an address.
    const chat = await waiter.call("notify_send", { channel: OWNER, text: "Hi" });
    expect(text(chat)).toMatch(
      /\. 424242 is a chat, not a channel: name the channel that sends to it, ops, fancy or stranger, which sends to all it lists\.$/,
    );
    const named = await waiter.call("notify_send", { channel: "@shop_news", text: "Hi" });
    expect(text(named)).toMatch(/\. @shop_news is a chat, not a channel, and no channel sends to it: /);
    const stray = await waiter.call("notify_send", { channel: "nobody@shop.example", text: "Hi" });
    expect(text(stray)).toMatch(
      /\. nobody@shop\.example is an address, not a channel, and no channel sends to it: a channel sends only to the chats and addresses configured for it, which whoever runs waiter sets\.$/,
    );
    const long = await waiter.call("notify_send", { channel: "ops", text: "x".repeat(4001) });
    expect(long.isError).toBe(true);
    expect(text(long)).toMatch(
      /text: is longer than 4000 characters: send it as several messages, each of at most 4000/,
    );
    // Telegram refuses a text of white space alone; waiter refuses it before sending anything.
    const asked = telegram.requests.length;
    const blank = await waiter.call("notify_send", { channel: "ops", text: " \n\t " });
    expect(blank.isError).toBe(true);
    expect(text(blank)).toMatch(/text: has nothing but white space/);
    // Nor one of spaces no reader sees, which Telegram counts as empty too: a zero-width space, a
    // braille blank, a direction mark.
    const unseen = await waiter.call("notify_send", { channel: "ops", text: "\u200b\u2800\u200e\n" });
    expect(unseen.isError).toBe(true);
    expect(text(unseen)).toMatch(/text: has nothing but white space/);
    // An empty text is said the same, once.
    const empty = await waiter.call("notify_send", { channel: "ops", text: "" });
    expect(empty.isError).toBe(true);
    expect(text(empty)).toBe("Invalid arguments for notify_send: text: has nothing but white space");
    expect(telegram.requests.length).toBe(asked);
    const refused = await request(`${telegram.origin}/bot${BOT_TOKEN}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: OWNER, text: "  " }),
    });
    expect(refused.statusCode).toBe(400);
    expect(await refused.body.json()).toMatchObject({ description: "Bad Request: message text is empty" });
  });

  test("--read-only serves no notify_send", async () => {
    const readOnly = await startWaiter(
      { WAITER_NOTIFY_CHANNELS: channels(telegram, smtp.port), TELEGRAM_BOT_TOKEN: BOT_TOKEN, SMTP_PASSWORD },
      { overrides: { readOnly: true } },
    );
    try {
      const { tools } = await readOnly.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain("notify_send");
    } finally {
      await readOnly.close();
    }
  });

  const load = (channels: object, env: Record<string, string> = {}) =>
    loadConfig({ env: { WAITER_NOTIFY_CHANNELS: JSON.stringify(channels), ...env } }, toolsets());

  test("a channel named by an email address is refused naming it, as any other name is", () => {
    const channel = { type: "email", host: "smtp.example.com", from: "a@b.example", to: ["boss@shop.example"] };
    expect(() => load({ "boss@shop.example": channel })).toThrow(
      "invalid setting WAITER_NOTIFY_CHANNELS at boss@shop.example: channel names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit",
    );
  });

  test("an email channel written with another tool's words for TLS is told the tls it takes", () => {
    const mail = (settings: object) =>
      load({
        mail: { type: "email", host: "smtp.example.com", from: "a@b.example", to: ["c@d.example"], ...settings },
      });
    const modes =
      '"starttls" (the default: upgraded after connecting, usually port 587), "tls" (TLS from the start, which other tools call SSL or secure; usually port 465) or "none"';
    for (const key of ["secure", "ssl", "requireTLS", "starttls"]) {
      expect(() => mail({ [key]: true })).toThrow(
        `invalid setting WAITER_NOTIFY_CHANNELS at mail: unknown key "${key}": the channel's tls says how it connects, ${modes}`,
      );
    }
    // Written as words, with a space between them, as a form or a YAML file may have it.
    for (const key of ["use tls", "Start TLS"]) {
      expect(() => mail({ [key]: true })).toThrow(`: the channel's tls says how it connects, ${modes}`);
    }
    // The keys of PHPMailer, Laravel, WordPress's mail plugins, .NET, Django and Flask, whose "tls" upgrades after connecting.
    for (const key of [
      "encryption",
      "SMTPSecure",
      "EnableSsl",
      "MAIL_ENCRYPTION",
      "EMAIL_USE_TLS",
      "use_tls",
      "MAIL_USE_TLS",
    ]) {
      expect(() => mail({ [key]: "tls" })).toThrow(
        `unknown key "${key}": the channel's tls says how it connects, ${modes}; its "tls" (or true) upgrades after connecting, which is "starttls" here`,
      );
    }
    // Laravel's "tls" on port 465 is TLS from the start (its smtps), as any client's there must be.
    for (const key of ["MAIL_ENCRYPTION", "encryption", "SMTPSecure"]) {
      const refused = () => mail({ port: 465, [key]: "tls" });
      expect(refused).toThrow(
        `unknown key "${key}": the channel's tls says how it connects, ${modes}; on port 465 the connection is TLS from the start, which is "tls" here`,
      );
      expect(refused).not.toThrow('which is "starttls" here');
    }
    // Copied with Laravel's own key for the port beside it, as its .env holds both, the port in digits or as text.
    for (const port of [465, "465"]) {
      expect(() => mail({ MAIL_PORT: port, MAIL_ENCRYPTION: "tls" })).toThrow(
        `unknown key "MAIL_ENCRYPTION": the channel's tls says how it connects, ${modes}; on port 465 the connection is TLS from the start, which is "tls" here`,
      );
    }
    // Django's and Flask-Mail's key for TLS from the start, which is tls here.
    for (const key of ["EMAIL_USE_SSL", "MAIL_USE_SSL"]) {
      expect(() => mail({ [key]: true })).toThrow(
        `at mail: unknown key "${key}": the channel's tls says how it connects, ${modes}`,
      );
      expect(() => mail({ [key]: true })).not.toThrow('which is "starttls" here');
    }
    expect(() => mail({ "encryption ": "tls" })).toThrow(
      `unknown key [not shown]: the channel's tls says how it connects, ${modes}; its "tls" (or true) upgrades after connecting, which is "starttls" here`,
    );
    expect(() => mail({ " secure": true })).toThrow(`: the channel's tls says how it connects, ${modes}`);
    expect(() => mail({ TLS: "tls" })).toThrow('unknown key "TLS" (did you mean tls?)');
    expect(() => mail({ tls: "ssl" })).toThrow(`at mail.tls: expected ${modes} (got "ssl")`);
    expect(() => mail({ tls: true })).toThrow(`at mail.tls: expected ${modes} (got true)`);
  });

  test("a key as near to and tls that stands for the to the channel lacks is told to, which it needs", () => {
    const mail = { type: "email", host: "smtp.example.com", from: "a@b.example" };
    expect(() => load({ m: { ...mail, tos: ["c@d.example"] } })).toThrow(
      new ConfigError('invalid setting WAITER_NOTIFY_CHANNELS at m: unknown key "tos" (did you mean to?)'),
    );
    // With to there, the other near key is the one meant.
    expect(() => load({ m: { ...mail, to: ["c@d.example"], tos: "tls" } })).toThrow(
      new ConfigError('invalid setting WAITER_NOTIFY_CHANNELS at m: unknown key "tos" (did you mean tls?)'),
    );
  });

  test("a channel refused for its chats still has its bot token read: a token holding it, or its unset variable, is said with it", () => {
    const twice = { ops: { type: "telegram", botTokenEnv: "BOT", chatIds: [1, "1"] } };
    const tokens = JSON.stringify([{ name: "agent", secretEnv: "AGENT_TOKEN", scope: "write" }]);
    const listed = "invalid setting WAITER_NOTIFY_CHANNELS at ops.chatIds: 1 is listed twice; list each once";
    expect(() => load(twice, { WAITER_HTTP_TOKENS: tokens, BOT: BOT_TOKEN, AGENT_TOKEN: BOT_TOKEN })).toThrow(
      `The settings are refused for 2 reasons, each said here: (1) ${listed} (2) http token agent: AGENT_TOKEN holds the secret of WAITER_NOTIFY_CHANNELS at ops.botTokenEnv (BOT), which the system it is for knows too: whoever reads it there could call waiter as agent. Give the token a secret of its own, made with \`openssl rand -hex 32\``,
    );
    expect(() => load(twice)).toThrow(
      `The settings are refused for 2 reasons, each said here: (1) ${listed} (2) notification channel ops: BOT, which WAITER_NOTIFY_CHANNELS at ops.botTokenEnv names, is not set; set it in waiter's environment to the Telegram bot token`,
    );
  });

  test("a channel refused for its chats leaves the other channels' bot tokens read: one unset, or a token holding one, is said with it", () => {
    const channels = {
      ops: { type: "telegram", botTokenEnv: "BOT", chatIds: [1, "1"] },
      team: { type: "telegram", botTokenEnv: "TEAM_BOT", chatIds: ["2"] },
    };
    const listed = "invalid setting WAITER_NOTIFY_CHANNELS at ops.chatIds: 1 is listed twice; list each once";
    expect(() => load(channels, { BOT: BOT_TOKEN })).toThrow(
      `The settings are refused for 2 reasons, each said here: (1) ${listed} (2) notification channel team: TEAM_BOT, which WAITER_NOTIFY_CHANNELS at team.botTokenEnv names, is not set; set it in waiter's environment to the Telegram bot token`,
    );
    const tokens = JSON.stringify([{ name: "agent", secretEnv: "AGENT_TOKEN", scope: "write" }]);
    const team = `${BOT_TOKEN.split(":")[0]}:${"T".repeat(35)}`;
    expect(() =>
      load(channels, { WAITER_HTTP_TOKENS: tokens, BOT: BOT_TOKEN, TEAM_BOT: team, AGENT_TOKEN: team }),
    ).toThrow(
      `The settings are refused for 2 reasons, each said here: (1) ${listed} (2) http token agent: AGENT_TOKEN holds the secret of WAITER_NOTIFY_CHANNELS at team.botTokenEnv (TEAM_BOT), which the system it is for knows too`,
    );
  });

  test("an email channel refused for plain SMTP off this machine is told its password's variable unset too", () => {
    const plain = { type: "email", host: "smtp.example.com", tls: "none", user: "u", passwordEnv: "PW" };
    expect(() => load({ m: { ...plain, from: "a@b.example", to: ["c@d.example"] } })).toThrow(
      `The settings are refused for 2 reasons, each said here: (1) invalid setting WAITER_NOTIFY_CHANNELS at m.tls: "none" is allowed only to a mail server on this machine (localhost); use starttls or tls (2) notification channel m: PW, which WAITER_NOTIFY_CHANNELS at m.passwordEnv names, is not set; set it in waiter's environment to the SMTP password`,
    );
  });

  test("a channel is checked at start: its secret set, never plain SMTP off this machine", () => {
    expect(() => load({ ops: { type: "telegram", botTokenEnv: "NOT_SET_ANYWHERE", chatIds: ["1"] } })).toThrow(
      /notification channel ops: NOT_SET_ANYWHERE, which WAITER_NOTIFY_CHANNELS at ops.botTokenEnv names, is not set/,
    );
    // Named by the setting that names it, env or file, and told where a secret is set.
    const withPassword = {
      type: "email",
      host: "smtp.example.com",
      user: "u",
      passwordEnv: "PW",
      from: "a@b.example",
      to: ["c@d.example"],
    };
    expect(() => load({ m: withPassword })).toThrow(
      new ConfigError(
        "notification channel m: PW, which WAITER_NOTIFY_CHANNELS at m.passwordEnv names, is not set; set it in waiter's environment to the SMTP password",
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), "waiter-notify-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ notify: { channels: { m: withPassword } } }));
    expect(() => loadConfig({ env: {}, file }, toolsets())).toThrow(
      new ConfigError(
        `notification channel m: PW, which notify.channels in ${file} at m.passwordEnv names, is not set; set it in waiter's environment to the SMTP password`,
      ),
    );
    rmSync(dir, { recursive: true });
    const pasted = () =>
      load({ ops: { type: "telegram", botTokenEnv: "7000000000:AAPastedTokenPastedTokenPasted", chatIds: ["1"] } });
    // Refused as a secret pasted into secretEnv is, and not shown.
    expect(pasted).toThrow(
      "invalid setting WAITER_NOTIFY_CHANNELS at ops.botTokenEnv: it must name the environment variable that holds the Telegram bot token (such as TELEGRAM_BOT_TOKEN), not hold it; what it holds is not shown",
    );
    expect(pasted).not.toThrow(/AAPasted/);
    // A long name written with dashes is a name, not the token itself.
    expect(() =>
      load({ ops: { type: "telegram", botTokenEnv: "ops-alerts-telegram-bot-token-name", chatIds: ["1"] } }),
    ).toThrow(/at ops\.botTokenEnv: must be an environment variable name$/);
    expect(() =>
      load({
        mail: { type: "email", host: "smtp.example.com", tls: "none", from: "a@b.example", to: ["c@d.example"] },
      }),
    ).toThrow(ConfigError);
    // This machine however its name or address is written: DNS names know no case, ::1 has a long form.
    for (const host of ["LOCALHOST", "0:0:0:0:0:0:0:1", "127.0.0.2"]) {
      expect(() =>
        load({ mail: { type: "email", host, tls: "none", from: "a@b.example", to: ["c@d.example"] } }),
      ).not.toThrow();
    }
    expect(() =>
      load({ mail: { type: "email", host: "smtp.example.com", user: "u", from: "a@b.example", to: ["c@d.example"] } }),
    ).toThrow(/user needs passwordEnv/);
    // Port 465 takes TLS from the start: a channel that would upgrade there hears no greeting at its first send.
    for (const tls of [{}, { tls: "starttls" }]) {
      expect(() =>
        load({
          mail: {
            type: "email",
            host: "smtp.example.com",
            port: 465,
            ...tls,
            from: "a@b.example",
            to: ["c@d.example"],
          },
        }),
      ).toThrow(
        'invalid setting WAITER_NOTIFY_CHANNELS at mail.tls: port 465 takes TLS from the start, which tls "starttls" (the default) does not do: set tls to "tls", or use the mail server\'s port for STARTTLS (usually 587)',
      );
    }
    expect(() =>
      load({
        mail: {
          type: "email",
          host: "smtp.example.com",
          port: 465,
          tls: "tls",
          from: "a@b.example",
          to: ["c@d.example"],
        },
      }),
    ).not.toThrow();
    expect(() => load({ ops: { type: "telegram", botTokenEnv: "T", chatIds: [] } }, { T: "x" })).toThrow(ConfigError);
    // Listed twice, a target would be told twice.
    expect(() =>
      load({ ops: { type: "telegram", botTokenEnv: "T", chatIds: ["424242", 424242] } }, { T: "x" }),
    ).toThrow(/at ops.chatIds: 424242 is listed twice; list each once$/);
    // A link to a chat, as Telegram shares it, is refused with the id or @name it stands for.
    const chat = (id: string) => load({ ops: { type: "telegram", botTokenEnv: "T", chatIds: [id] } }, { T: "x" });
    // t.me/<name> is a person's link as much as a group's or channel's, and a bot reaches no person by @name.
    const byName =
      /at ops.chatIds.0: is a link to a chat: list the chat's @name, @shopnews, instead if it is a public group or channel; a person is listed by their number, which getUpdates shows \(docs\/notifications.md says how\)$/;
    expect(() => chat("https://t.me/shopnews")).toThrow(byName);
    // A bot's own link, as @BotFather gives it ("You will find it at t.me/…_bot"), is no chat a bot can
    // write to; a public group's or channel's @name may end in bot too, and is told to be listed.
    expect(() => chat("t.me/shop_orders_bot")).toThrow(
      /at ops.chatIds.0: is a link to a chat or a bot: list the chat's @name, @shop_orders_bot, instead if it is a public group or channel; if it is a bot, as an @name ending in bot may be, no bot can write to it: list the chat's id, a number getUpdates shows \(docs\/notifications.md says how\)$/,
    );
    // Telegram's other addresses of t.me, as its apps open them.
    for (const link of ["https://telegram.me/shopnews", "https://telegram.dog/shopnews", "https://www.t.me/shopnews"]) {
      expect(() => chat(link)).toThrow(byName);
    }
    // A collectible @name, bought on Fragment, may have 4 characters.
    expect(() => load({ ops: { type: "telegram", botTokenEnv: "T", chatIds: ["@bank"] } }, { T: "1:x" })).not.toThrow();
    expect(() => chat("https://t.me/bank")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's @name, @bank, instead if it is a public group or channel; /,
    );
    // As Telegram writes a public chat's link with its @name as a host of its own too.
    expect(() => chat("https://shopnews.t.me/")).toThrow(byName);
    expect(() => chat("https://t.me/c/1234567890/42")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890, instead$/,
    );
    // An older channel's number has fewer digits: the Bot API's id is -(10^12 + it), not -100 before it.
    expect(() => chat("https://t.me/c/987654321/42")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1000987654321, instead$/,
    );
    // A public channel's preview (t.me/s/…) and Telegram Web's address of an open chat (#<id> or #@name)
    // stand for a chat too; Telegram Web K shows a supergroup's or channel's own number, Web A its id.
    expect(() => chat("https://t.me/s/shopnews")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's @name, @shopnews, instead$/,
    );
    expect(() => chat("https://web.telegram.org/k/#@shopnews")).toThrow(byName);
    expect(() => chat("https://web.telegram.org/a/#-1001234567890")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890, instead$/,
    );
    // Web A's address of a message, a topic or a chat's pinned messages adds _<number> or _<kind> to the id.
    for (const web of [
      "https://web.telegram.org/a/#-1001234567890_187",
      "web.telegram.org/a/#-1001234567890_5_pinned",
    ]) {
      expect(() => chat(web)).toThrow(
        /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890, instead$/,
      );
    }
    expect(() => chat("web.telegram.org/k/#424242")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, 424242, instead$/,
    );
    expect(() => chat("https://web.telegram.org/k/#-1234567890")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890 if it is a supergroup or channel \(Telegram Web K shows its own number\), or -1234567890 if it is a group$/,
    );
    // An older channel's number has fewer digits, in Web K as in its t.me/c link.
    expect(() => chat("https://web.telegram.org/k/#-987654321")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1000987654321 if it is a supergroup or channel \(Telegram Web K shows its own number\), or -987654321 if it is a group$/,
    );
    // Web A's id is the Bot API's, a group's as much as a channel's: it has but one reading.
    expect(() => chat("https://web.telegram.org/a/#-4012345678")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -4012345678, instead$/,
    );
    // Web K's id of an older channel begins with 100 too: the Bot API's, as Web A shows it, has 13 digits or more.
    expect(() => chat("https://web.telegram.org/k/#-1006503122")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001006503122 if it is a supergroup or channel \(Telegram Web K shows its own number\), or -1006503122 if it is a group$/,
    );
    // An invite link names no chat: its number is found as for any other group.
    for (const invite of ["https://t.me/+AbCdEfGhIjK12345", "t.me/joinchat/AbCdEfGhIjK12345"]) {
      expect(() => chat(invite)).toThrow(
        /at ops.chatIds.0: is an invite link, which names no chat: add the bot to the chat, then list the chat's id, a number getUpdates shows \(docs\/notifications.md says how\)$/,
      );
    }
    // A t.me/joinchat link of the oldest form has its invite in the query.
    expect(() => chat("https://t.me/joinchat?invite=AbCdEfGhIjK12345")).toThrow(
      /at ops.chatIds.0: is an invite link, which names no chat: /,
    );
    // t.me/+<digits> opens the chat of whoever has that phone number, to which no bot can write.
    expect(() => chat("https://t.me/+420601234567")).toThrow(
      /at ops.chatIds.0: is a link to a phone number, which a bot cannot write to: list the person's id instead, a number getUpdates shows once they have written to the bot \(docs\/notifications.md says how\)$/,
    );
    // Telegram's other pages of t.me name no chat, though they are as long as an @name.
    for (const [page, link] of [
      ["share", "https://t.me/share/url?url=https%3A%2F%2Fshop.example&text=Paid"],
      ["addstickers", "t.me/addstickers/ShopPack"],
      ["proxy", "https://t.me/proxy?server=proxy.example&port=443&secret=ee00"],
      ["socks", "https://t.me/socks?server=proxy.example&port=1080"],
      ["setlanguage", "https://t.me/setlanguage/cs"],
      // A group call's link, and one that asks to create a bot: as short as a collectible @name, or longer.
      ["call", "https://t.me/call/AbCdEfGhIjKl"],
      ["newbot", "https://t.me/newbot/ShopManagerBot/shop_news_bot?name=Shop+news"],
    ]) {
      expect(() => chat(link as string)).toThrow(
        new RegExp(
          `at ops.chatIds.0: is a t.me/${page} link, which names no chat: list the chat's id, a number getUpdates shows \\(docs/notifications.md says how\\), or a public group's or channel's @name$`,
        ),
      );
    }
    // A boost link names a channel, by its @name or, of a private one, its number.
    expect(() => chat("https://t.me/boost/shopnews")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's @name, @shopnews, instead$/,
    );
    expect(() => chat("https://t.me/boost?c=1234567890")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890, instead$/,
    );
    // A link of the Telegram app (tg:…) stands for what its t.me link does.
    expect(() => chat("tg://resolve?domain=shopnews&post=42")).toThrow(byName);
    expect(() => chat("tg://privatepost?channel=1234567890&post=42")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890, instead$/,
    );
    expect(() => chat("tg:join?invite=AbCdEfGhIjK12345")).toThrow(/at ops.chatIds.0: is an invite link, /);
    expect(() => chat("tg://resolve?phone=420601234567")).toThrow(/at ops.chatIds.0: is a link to a phone number, /);
    expect(() => chat("tg://user?id=424242")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, 424242, instead$/,
    );
    // A username's link names that @name, as long as it is, whatever page of t.me has the same word.
    expect(() => chat("tg://resolve?domain=share")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's @name, @share, instead if it is a public group or channel; /,
    );
    // Telegram for Android's link to a person's chat, or to a group's or channel's by its own number.
    expect(() => chat("tg://openmessage?user_id=424242")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, 424242, instead$/,
    );
    expect(() => chat("tg:openmessage?chat_id=1234567890&message_id=42")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890 if it is a supergroup or channel, or -1234567890 if it is a group$/,
    );
    // Telegram Web opens a link of the app in its address, encoded after #?tgaddr=.
    for (const client of ["a", "k"]) {
      expect(() =>
        chat(`https://web.telegram.org/${client}/#?tgaddr=${encodeURIComponent("tg://resolve?domain=shopnews")}`),
      ).toThrow(byName);
    }
    expect(() => chat("https://web.telegram.org/a/#?tgaddr=tg://privatepost?channel=1234567890")).toThrow(
      /at ops.chatIds.0: is a link to a chat: list the chat's id, -1001234567890, instead$/,
    );
    expect(() => chat("tg://addstickers?set=ShopPack")).toThrow(
      /at ops.chatIds.0: is a link of the Telegram app \(tg:…\) that waiter does not read: list the chat's id, a number getUpdates shows \(docs\/notifications.md says how\), or a public group's or channel's @name$/,
    );
    // The Telegram Web before Web K and Web A wrote a chat's kind as a letter before its number.
    expect(() => chat("https://web.telegram.org/#/im?p=@shopnews")).toThrow(byName);
    for (const [peer, id] of [
      ["s1234567890_16728910236512095432", "-1001234567890"],
      ["c987654321_6728910236512095432", "-1000987654321"],
      ["g123456789", "-123456789"],
      ["u424242_8765432109876543210", "424242"],
    ]) {
      expect(() => chat(`https://web.telegram.org/#/im?p=${peer}`)).toThrow(
        new RegExp(`at ops.chatIds.0: is a link to a chat: list the chat's id, ${id}, instead$`),
      );
    }
    expect(() => chat("shopnews")).toThrow(/at ops.chatIds.0: is not a chat id or @channelname \(got "shopnews"\)$/);
    // Telegram's @names are one whatever their case: @ShopNews is @shopnews.
    expect(() =>
      load({ ops: { type: "telegram", botTokenEnv: "T", chatIds: ["@ShopNews", "@shopnews"] } }, { T: "x" }),
    ).toThrow(/at ops.chatIds: @shopnews is listed twice; list each once$/);
    const mail = (settings: object) => ({
      mail: { type: "email", host: "127.0.0.1", tls: "none", from: "a@b.example", to: ["c@d.example"], ...settings },
    });
    expect(() => load(mail({ to: ["c@d.example", "C@d.example"] }))).toThrow(/at mail.to: c@d.example is listed twice/);
    // A domain with diacritics and its punycode are one domain: nodemailer sends the one as the other.
    expect(() => load(mail({ to: ["jan@příklad.cz", "jan@XN--PKLAD-ZSA96E.cz"] }))).toThrow(
      /at mail.to: jan@příklad.cz is listed twice/,
    );
    // Addresses as a mail client takes them say what the channel takes instead.
    expect(() => load(mail({ to: ["c@d.example, e@f.example"] }))).toThrow(
      /at mail.to.0: is more than one address: list each as a string of its own$/,
    );
    // A list or a comment in the part before the @, which the address pattern takes: sent, it would
    // go to "c" and "e@d.example", or to "c@d.example" alone.
    expect(() => load(mail({ to: ["c,e@d.example"] }))).toThrow(
      /at mail.to.0: is more than one address: list each as a string of its own$/,
    );
    expect(() => load(mail({ from: "shop(eshop)@d.example" }))).toThrow(
      /at mail.from: holds a comment in \( \), which is not sent: give the address alone$/,
    );
    // An angle bracket or a group's colon, which a mail library reads as the address itself or a
    // group's name: sent, these would go to "e@f.example" and to "c@d.example", not as written.
    for (const to of ["c@d.example<e@f.example", "team:c@d.example", "c<d@d.example"]) {
      expect(() => load(mail({ to: [to] }))).toThrow(/at mail.to.0: is not an email address/);
    }
    expect(() => load(mail({ from: "Shop<shop@d.example>" }))).toThrow(
      /at mail.from: has a name with the address: give the address alone, and the name in fromName/,
    );
    // A domain literal's colons are the address's own (RFC 5321 4.1.3).
    expect(() => load(mail({ to: ["c@[IPv6:2001:db8::1]"] }))).not.toThrow();
    expect(() => load(mail({ to: ["Boss <boss@d.example>"] }))).toThrow(
      /at mail.to.0: has a name with the address: give the address alone$/,
    );
    expect(() => load(mail({ from: "Shop <shop@d.example>" }))).toThrow(
      /at mail.from: has a name with the address: give the address alone, and the name in fromName$/,
    );
    expect(() => load(mail({ to: ["boss.d.example"] }))).toThrow(
      /at mail.to.0: is not an email address \(got "boss.d.example"\)$/,
    );
    // A name or subject on two lines would write a header of its own.
    expect(() => load(mail({ fromName: "Shop\r\nBcc: all@x.example" }))).toThrow(/at mail.fromName: is one line/);
    expect(() => load(mail({ subject: "Paid\r\nBcc: all@x.example" }))).toThrow(/at mail.subject: is one line/);
    // The General topic's id, the last number of a link to it, is one sendMessage refuses ("message
    // thread not found"): messages go there without a topicId.
    expect(() =>
      load({ ops: { type: "telegram", botTokenEnv: "T", chatIds: ["-1001"], topicId: 1 } }, { T: "x" }),
    ).toThrow(
      /at ops.topicId: is the General topic's, which messages go to without a topicId: leave topicId out \(got 1\)$/,
    );
    expect(() =>
      load(
        { ops: { type: "telegram", botTokenEnv: "T", chatIds: ["1"], baseUrl: "http://telegram.example" } },
        { T: "x" },
      ),
    ).toThrow(/plain http is allowed only to loopback/);
  });
});

test("MarkdownV2 escaping covers every character Telegram reserves", () => {
  expect(escapeMarkdownV2("_*[]()~`>#+-=|{}.!\\")).toBe("\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\");
  expect(escapeMarkdownV2("Plain words 123")).toBe("Plain words 123");
});

test("a mail server's name that does not resolve, or not for now, is said in words with what to check", () => {
  const channel = { host: "smtp.shop.invalid", port: 587, tls: "starttls" } as SmtpOptions;
  // As nodemailer gives a lookup's failure: its own code EDNS, the system's kept as originalCode.
  const lookup = (originalCode: string) =>
    smtpFailure({ code: "EDNS", originalCode, message: `getaddrinfo ${originalCode} smtp.shop.invalid` }, channel)
      .message;
  expect(lookup("ENOTFOUND")).toBe(
    "Not sent: the mail server's name smtp.shop.invalid does not resolve, as DNS knows no such host or this machine is offline; check the channel's host, and this machine's network and DNS settings.",
  );
  expect(lookup("EAI_AGAIN")).toBe(
    "Not sent: looking up the mail server's name smtp.shop.invalid failed for now (a temporary DNS failure, or this machine is offline); try again later, or if it lasts, check this machine's network and DNS settings.",
  );
});

test("a mail server's certificate no authority vouches for is said alike on every Node.js, without the advice Node.js 24 adds to its reason", () => {
  const channel = { host: "smtp.shop.example", port: 465, tls: "tls" } as SmtpOptions;
  // As nodemailer gives a certificate's failure on Node 24; Node 20 and 22 say "self-signed certificate" alone.
  const failure = smtpFailure(
    {
      code: "ESOCKET",
      originalCode: "DEPTH_ZERO_SELF_SIGNED_CERT",
      command: "CONN",
      message: "self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca",
    },
    channel,
  );
  expect(failure.message).toBe(
    "Not sent: the mail server's certificate is not trusted (self-signed certificate); if a private authority signed it, give its certificate to waiter in NODE_EXTRA_CA_CERTS (a PEM file's path).",
  );
});

test("a connection to the mail server this machine could not open (no file handle left, no route) is not sent, said so, and may be sent again", () => {
  const channel = { host: "smtp.shop.example", port: 587, tls: "starttls" } as SmtpOptions;
  // As nodemailer gives a socket's failure: its own code ESOCKET, the system's kept as originalCode.
  const failure = (originalCode: string) =>
    smtpFailure(
      { code: "ESOCKET", originalCode, command: "CONN", message: `connect ${originalCode} 192.0.2.25:587` },
      channel,
    );
  const handles = failure("EMFILE");
  expect(handles.message).toBe(
    "Not sent: waiter has no file handle left for a connection to the mail server smtp.shop.example:587 (too many open at once, or its ulimit -n too low); try again later, or if it lasts, tell whoever runs waiter.",
  );
  expect(handles).toMatchObject({ refused: true });
  const route = failure("ENETUNREACH");
  expect(route.message).toBe(
    "Not sent: this machine has no route to the mail server smtp.shop.example:587 (its network is down or unreachable); try again later, or if it lasts, check this machine's network.",
  );
  expect(route).toMatchObject({ refused: true });
});

test("a mail server tried at IPv6 and IPv4, whose first address did not answer in its turn, is said by the one that refused, sent nothing and may be sent again", () => {
  const channel = { host: "smtp.shop.example", port: 587, tls: "starttls" } as SmtpOptions;
  const at = (code: string, address: string) =>
    Object.assign(new Error(`connect ${code} ${address}:587`), { code, syscall: "connect" });
  // As nodemailer gives Node's failure at every address: each one's error, the first one's code kept as originalCode.
  const failedAt = (...errors: Error[]) =>
    smtpFailure({ code: "ESOCKET", originalCode: "ETIMEDOUT", command: "CONN", message: "", errors }, channel);
  const refused = failedAt(at("ETIMEDOUT", "2001:db8::25"), at("ECONNREFUSED", "192.0.2.25"));
  expect(refused.message).toBe(
    "Not sent: the connection to the mail server smtp.shop.example:587 was refused, as nothing listens there; try again later, or if it lasts, check the channel's host and port.",
  );
  expect(refused).toMatchObject({ refused: true });
  // Neither answered in its turn: each address's reason.
  const silent = failedAt(at("ETIMEDOUT", "2001:db8::25"), at("ETIMEDOUT", "192.0.2.25"));
  expect(silent.message).toBe(
    "Not sent: no connection to the mail server smtp.shop.example:587 opened (connect ETIMEDOUT 2001:db8::25:587; connect ETIMEDOUT 192.0.2.25:587); it or the network is down; try again later.",
  );
  expect(silent).toMatchObject({ refused: true });
});

// Each test starts the built server, which takes a second here and ten and more on a loaded machine.
describe("channels checked when waiter serve or listen starts", { timeout: 60_000 }, () => {
  const WRONG_PASSWORD = "not-the-smtp-password";
  const base = () => ({
    WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-check-")),
    ...ERP_ENV,
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    SMTP_PASSWORD,
    WRONG_PASSWORD,
    WAITER_LOG_LEVEL: "info",
  });
  const mail = (port: number, passwordEnv: string) => ({
    type: "email",
    host: "127.0.0.1",
    port,
    tls: "none",
    user: "waiter",
    passwordEnv,
    from: "waiter@shop.example",
    to: ["boss@shop.example"],
  });
  const bot = (...chatIds: string[]) => ({
    type: "telegram",
    botTokenEnv: "TELEGRAM_BOT_TOKEN",
    chatIds,
    baseUrl: telegram.origin,
  });

  afterAll(() => killStarted());

  test("a channel of more than ten chats, checked at start and sent a message, logs no memory leak warning", async () => {
    const chats = Array.from({ length: 12 }, (_, i) => String(-1001234567800 - i));
    const many = await startTelegram(chats);
    const warnings: string[] = [];
    // Only the warning guarded against: process warnings are the worker's, which other test files share.
    const heard = (warning: Error) => {
      if (warning.name === "MaxListenersExceededWarning") warnings.push(warning.message);
    };
    process.on("warning", heard);
    const lines: string[] = [];
    const env = {
      ...base(),
      WAITER_LISTEN: "127.0.0.1:0",
      WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: { ...bot(...chats), baseUrl: many.origin } }),
    };
    const server = await startServe(loadConfig({ env }, toolsets()), new Log("info", (line) => lines.push(line)));
    const assistant = await startWaiter(env);
    try {
      server.checkToolsets();
      await expect
        .poll(() => lines.filter((line) => line.includes("[notify] channel team passed its check")))
        .toHaveLength(1);
      const sent = await assistant.call("notify_send", { channel: "team", text: "Told." });
      expect(sent.structuredContent).toMatchObject({ sent: chats, failed: [] });
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", heard);
      await assistant.close();
      await server.close();
      await many.close();
    }
  });

  test("waiter serve warns of a refused login and a chat the bot cannot reach, names what passed, and sends nothing", async () => {
    const [asked, sent, mailed] = [telegram.requests.length, telegram.delivered.length, smtp.received.length];
    telegram.kicked.add("-100777");
    try {
      const started = await startNode(
        [CLI, "serve", "--listen", "127.0.0.1:0"],
        {
          ...base(),
          WAITER_NOTIFY_CHANNELS: JSON.stringify({
            office: mail(smtp.port, "WRONG_PASSWORD"),
            accounts: mail(smtp.port, "SMTP_PASSWORD"),
            relay: { ...mail(smtp.port, "SMTP_PASSWORD"), user: undefined, passwordEnv: undefined },
            team: bot(GROUP, "-100999", "-100777"),
            owner: bot(OWNER),
          }),
        },
        SERVING,
      );
      const said = () => started.stderr().split("\n");
      await expect.poll(() => said().filter((line) => /\[notify\] channel/.test(line)).length).toBe(6);
      expect(said()).toContainEqual(
        expect.stringMatching(
          /warning \[notify\] channel office \(WAITER_NOTIFY_CHANNELS at office\) failed its check at start, nothing sent: the mail server refused the login \(535 Invalid username or password\); check the channel's user and the password in the variable its passwordEnv names, then restart waiter, which reads it only as it starts\.$/,
        ),
      );
      expect(said()).toContainEqual(
        expect.stringMatching(
          /warning \[notify\] channel team \(WAITER_NOTIFY_CHANNELS at team\) failed its check at start, nothing sent: Telegram Bot API says @shop_notices_bot cannot reach chat -100999 \(400: Bad Request: chat not found\); check the id in the channel's chatIds/,
        ),
      );
      expect(said()).toContainEqual(
        expect.stringMatching(
          /warning \[notify\] channel team .* cannot reach chat -100777 \(403: Forbidden: bot was kicked from the group chat\); a person must unblock the bot, a group or channel must add it again/,
        ),
      );
      expect(said()).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `info    \\[notify\\] channel accounts passed its check at start, nothing sent: the mail server 127\\.0\\.0\\.1:${smtp.port} took the connection \\(tls none\\) and the login of waiter$`,
          ),
        ),
      );
      // verify sends no MAIL FROM: a server that wants a login answers the first message with 530.
      expect(said()).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `info    \\[notify\\] channel relay passed its check at start, nothing sent: the mail server 127\\.0\\.0\\.1:${smtp.port} took the connection \\(tls none\\), without a login: the channel has no user, and a server that wants one says so only at the first message$`,
          ),
        ),
      );
      expect(said()).toContainEqual(
        expect.stringMatching(
          /info {4}\[notify\] channel owner passed its check at start, nothing sent: @shop_notices_bot can reach chat 424242$/,
        ),
      );
      // The channel whose chats failed is not said to pass.
      expect(started.stderr()).not.toMatch(/channel (office|team) passed/);
      expect(started.stderr()).not.toContain(WRONG_PASSWORD);
      expect(started.stderr()).not.toContain(BOT_TOKEN);
      expect(telegram.delivered.length).toBe(sent);
      expect(smtp.received.length).toBe(mailed);
      const methods = telegram.requests.slice(asked).map((r) => r.path.split("/").at(-1));
      expect(
        methods.filter(
          (method) => !["getMe", "getChat", "getChatMemberCount", "getChatMember"].includes(method as string),
        ),
      ).toEqual([]);
      started.child.kill("SIGTERM");
      expect(await started.exited).toBe(0);
    } finally {
      telegram.kicked.delete("-100777");
    }
  });

  test("a wrong bot token is said once, as the token, for waiter listen with automations", async () => {
    const automation = {
      name: "tell",
      when: { source: "erp", type: "never.sent" },
      do: [{ notify: "team", text: "x" }],
    };
    const started = await startNode(
      [CLI, "listen"],
      {
        ...base(),
        WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
        WAITER_AUTOMATIONS: JSON.stringify([automation]),
        WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: bot(GROUP, OWNER) }),
        TELEGRAM_BOT_TOKEN: "7000000000:AARevokedTokenRevokedTokenRevoked",
      },
      /listening for webhooks on (http:\/\/\S+);/,
    );
    await expect.poll(() => started.stderr()).toMatch(/\[notify\] channel team/);
    expect(started.stderr().match(/\[notify\] channel team.*/g)).toEqual(
      [
        "channel team (WAITER_NOTIFY_CHANNELS at team) failed its check at start, nothing sent: Telegram Bot API refused the bot token (401: Unauthorized); check the variable the channel's botTokenEnv names, then restart waiter, which reads it only as it starts.",
      ].map((line) => `[notify] ${line}`),
    );
    expect(started.stderr()).not.toContain("RevokedToken");
    started.child.kill("SIGTERM");
    expect(await started.exited).toBe(0);
  });

  test("the stdio mode an assistant starts checks nothing", async () => {
    const silent = await startSilentServer();
    const asked = telegram.requests.length;
    const assistant = await startServer(
      {
        ...base(),
        WAITER_NOTIFY_CHANNELS: JSON.stringify({ office: mail(silent.port, "SMTP_PASSWORD"), team: bot(GROUP) }),
      },
      ["--no-listener"],
    );
    try {
      expect((await assistant.client.listTools()).tools.map((tool) => tool.name)).toContain("notify_send");
      // waiter serve's check starts as soon as it serves (the test above): its questions would
      // come before a message sent once this one answers.
      const result = await assistant.client.callTool({
        name: "notify_send",
        arguments: { channel: "team", text: "x" },
      });
      expect(result.isError).toBeFalsy();
      expect(telegram.requests.slice(asked).map((r) => r.path.split("/").at(-1))).toEqual(["sendMessage"]);
      expect(silent.held).toEqual([]);
      expect(assistant.stderr()).not.toMatch(/check at start/);
    } finally {
      await assistant.close();
      await silent.close();
    }
  });

  test("a Bot API that does not answer the check in time names the tool timeout as set in the config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waiter-check-"));
    const file = join(dir, "waiter.json");
    writeFileSync(file, JSON.stringify({ toolTimeout: 1 }));
    const lines: string[] = [];
    const env = {
      ...base(),
      WAITER_DATA_DIR: dir,
      WAITER_LISTEN: "127.0.0.1:0",
      WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: bot(GROUP) }),
    };
    let answer = () => {};
    telegram.held = new Promise((resolve) => {
      answer = resolve;
    });
    const server = await startServe(loadConfig({ env, file }, toolsets()), new Log("info", (line) => lines.push(line)));
    try {
      server.checkToolsets();
      await expect
        .poll(() => lines.filter((line) => line.includes("[notify] channel team")), { timeout: 5_000 })
        .toEqual([
          expect.stringMatching(
            new RegExp(
              `failed its check at start, nothing sent: Telegram Bot API \\(127\\.0\\.0\\.1:\\d+\\) did not answer within the tool timeout \\(toolTimeout in ${file.replace(/[.]/g, "\\.")}\\); check the channel's baseUrl`,
            ),
          ),
        ]);
    } finally {
      answer();
      telegram.held = undefined;
      await server.close();
    }
  });

  test("a mail server that does not log the check in in time names the tool timeout as set in the config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waiter-check-"));
    const file = join(dir, "waiter.json");
    writeFileSync(file, JSON.stringify({ toolTimeout: 4 }));
    // It greets at once and never answers the login; closed, it cuts the connection waiter leaves
    // to its own timeouts.
    let loggingIn = false;
    const holding = await startMailServer({
      allowInsecureAuth: true,
      closeTimeout: 1,
      onAuth() {
        loggingIn = true;
      },
    });
    const lines: string[] = [];
    const env = {
      ...base(),
      WAITER_DATA_DIR: dir,
      WAITER_LISTEN: "127.0.0.1:0",
      WAITER_NOTIFY_CHANNELS: JSON.stringify({ office: mail(holding.port, "SMTP_PASSWORD") }),
    };
    const server = await startServe(loadConfig({ env, file }, toolsets()), new Log("info", (line) => lines.push(line)));
    // The 4 s pass once the login is in, however long a busy machine took to send it: waiter's
    // timers move only as the test moves them.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      server.checkToolsets();
      await expect.poll(() => loggingIn).toBe(true);
      await vi.advanceTimersByTimeAsync(4_000);
      vi.useRealTimers();
      await expect
        .poll(() => lines.filter((line) => line.includes("[notify] channel office")))
        .toEqual([
          expect.stringContaining(
            `failed its check at start, nothing sent: the mail server 127.0.0.1:${holding.port} did not greet and log in within the tool timeout (toolTimeout in ${file}); check the channel's host, port and tls.`,
          ),
        ]);
    } finally {
      vi.useRealTimers();
      await server.close();
      await holding.close();
    }
  });

  test("a mail server or Bot API that never answers holds neither the webhooks nor a stop", async () => {
    const silent = await startSilentServer();
    const asked = telegram.requests.length;
    let answer = () => {};
    telegram.held = new Promise((resolve) => {
      answer = resolve;
    });
    try {
      const automation = {
        name: "tell",
        when: { source: "erp", type: "never.sent" },
        do: [
          { notify: "office", text: "x" },
          { notify: "team", text: "x" },
        ],
      };
      const started = await startNode(
        [CLI, "listen"],
        {
          ...base(),
          WAITER_WEBHOOKS_LISTEN: "127.0.0.1:0",
          WAITER_AUTOMATIONS: JSON.stringify([automation]),
          WAITER_NOTIFY_CHANNELS: JSON.stringify({ office: mail(silent.port, "SMTP_PASSWORD"), team: bot(GROUP) }),
          WAITER_TOOL_TIMEOUT: "30",
        },
        /listening for webhooks on (http:\/\/\S+);/,
      );
      // The checks have their connections, and wait for a greeting and an answer that never come.
      await expect.poll(() => silent.held.length).toBe(1);
      await expect.poll(() => telegram.requests.length).toBe(asked + 1);
      const body = JSON.stringify({ invoice: 7 });
      const response = await request(`${started.said}/webhooks/erp`, {
        method: "POST",
        body,
        headers: erpHeaders(body, "check-hangs"),
      });
      // Stored: the listener answers once the event is committed.
      expect(response.statusCode).toBe(200);
      await response.body.dump();
      const stopping = performance.now();
      started.child.kill("SIGTERM");
      expect(await started.exited).toBe(0);
      expect(performance.now() - stopping).toBeLessThan(5_000);
      expect(started.stderr()).not.toMatch(/check at start/);
    } finally {
      answer();
      telegram.held = undefined;
      await silent.close();
    }
  });
});

test("a mail server that turns the check away is quoted, and a stop ends a check that waits", async () => {
  const refusing = await startMailServer({
    onConnect(_session, callback) {
      callback(Object.assign(new Error("5.7.1 No mail from your network"), { responseCode: 554 }));
    },
  });
  const channel = (port: number): SmtpOptions => ({
    host: "127.0.0.1",
    port,
    tls: "none",
    from: "w@shop.example",
    subject: "waiter",
  });
  try {
    expect(await checkedNow(channel(refusing.port))).toBe(
      `the mail server 127.0.0.1:${refusing.port} answered 554 5.7.1 No mail from your network; check the channel's host, port and tls, and that it takes mail from this machine.`,
    );
  } finally {
    await refusing.close();
  }
  const silent = await startSilentServer();
  try {
    const stop = new AbortController();
    const checked = checkSmtp(channel(silent.port), {
      signal: stop.signal,
      deadline: clock.now() + 20_000,
      deadlineSetting: "WAITER_TOOL_TIMEOUT",
    });
    await expect.poll(() => silent.held.length).toBe(1);
    stop.abort(new Error("waiter is stopping"));
    await expect(checked).rejects.toThrow("waiter is stopping");
  } finally {
    await silent.close();
  }
});

test("a check at start of a mail server that does not offer STARTTLS says so, in the words a send gets", async () => {
  const plain = await startMailServer();
  const channel: SmtpOptions = {
    host: "localhost",
    port: plain.port,
    tls: "starttls",
    from: "w@shop.example",
    subject: "waiter",
  };
  try {
    const said = `the mail server does not offer STARTTLS (500 Error: command not recognized); if it takes TLS from the start, use tls "tls" and its port for that (usually 465).`;
    expect(await checkedNow(channel)).toBe(said);
    const sender = await startWaiter({ WAITER_NOTIFY_CHANNELS: JSON.stringify({ office: mail(channel) }) });
    try {
      expect(text(await sender.call("notify_send", { channel: "office", text: "Hi" }))).toContain(`Not sent: ${said}`);
    } finally {
      await sender.close();
    }
  } finally {
    await plain.close();
  }
});

/** The Bot API of `telegram`, as waiter's Telegram channel reaches it, tried once. */
function botApi(telegram: { origin: string }) {
  return new HttpClient({ userAgent: "waiter-test/0", maxResponseBytes: 1 << 20, maxRetries: 0 }).upstream(
    "Telegram Bot API",
    new URL(telegram.origin),
    { secrets: [BOT_TOKEN], errors: telegramErrors },
  );
}

test("a 401 or 404 page that is not the Bot API's says to check the channel's baseUrl, not the bot token", async () => {
  // A web server at a wrong baseUrl (a local Bot API server's path mistyped), and a gateway in front
  // of it that asks for credentials of its own: neither read the token.
  const pages = await startFake(() => ({
    status: 404,
    headers: { "content-type": "text/html" },
    body: "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1><hr>nginx</body></html>",
  }));
  pages.queue.push({
    status: 401,
    headers: { "content-type": "text/html", "www-authenticate": 'Basic realm="gateway"' },
    body: "<html><head><title>401 Authorization Required</title></head><body>nginx</body></html>",
  });
  const told = await startWaiter({
    WAITER_NOTIFY_CHANNELS: JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [OWNER], baseUrl: pages.origin },
    }),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  });
  try {
    const said = [];
    for (const _ of [401, 404]) said.push(text(await told.call("notify_send", { channel: "team", text: "Hi" })));
    const check = "check the baseUrl of channel team in WAITER_NOTIFY_CHANNELS";
    expect(said[0]).toContain(
      `Telegram Bot API answered 401 with a page that is not the Bot API's: something in front of it (a proxy, a gateway) asks for credentials of its own, not the bot token; ${check}`,
    );
    expect(said[1]).toContain(
      `Telegram Bot API answered 404 with a page that is not the Bot API's: no Bot API answers at that address; ${check}`,
    );
    for (const shown of [...said, told.stderr()]) expect(shown).not.toContain("botTokenEnv names");
  } finally {
    await told.close();
    await pages.close();
  }
});

test("a 403 page that is not the Bot API's says something in front of it blocks waiter, not that a person must unblock the bot", async () => {
  // A firewall's block page in front of a self-hosted Bot API (a WAF's rule, an address not let in).
  const blocked = await startFake(() => ({
    status: 403,
    headers: { "content-type": "text/html" },
    body: "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1><hr>nginx</body></html>",
  }));
  const told = await startWaiter({
    WAITER_NOTIFY_CHANNELS: JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [OWNER], baseUrl: blocked.origin },
    }),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  });
  try {
    const said = text(await told.call("notify_send", { channel: "team", text: "Hi" }));
    expect(said).toContain(
      "Telegram Bot API answered 403 with a page that is not the Bot API's: something in front of it (a firewall, a proxy) does not let this machine's requests by, so the message was not sent; tell whoever runs it, or check the baseUrl of channel team in WAITER_NOTIFY_CHANNELS.",
    );
    expect(said).not.toContain("unblock");
  } finally {
    await told.close();
    await blocked.close();
  }
});

test("a self-hosted Bot API behind a single sign-on says that sign-on turned waiter away, not only its 302", async () => {
  // oauth2-proxy in front of it sends to its login, with the path to come back to: the bot token's.
  const gated = await startFake((request) => ({
    status: 302,
    headers: { location: `/oauth2/sign_in?rd=${encodeURIComponent(request.path)}` },
  }));
  const told = await startWaiter({
    WAITER_NOTIFY_CHANNELS: JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [OWNER], baseUrl: gated.origin },
    }),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  });
  try {
    const said = text(await told.call("notify_send", { channel: "team", text: "Hi" }));
    expect(said).toContain(
      `Telegram Bot API answered 302: it sends waiter to sign in at ${gated.origin}/oauth2/sign_in, a page for a person in a browser: a single sign-on in front of the Bot API turned the request away, so the message was not sent; ask whoever runs it to let waiter's requests by (an exception for this machine's address or the Bot API's path), or check the baseUrl of channel team in WAITER_NOTIFY_CHANNELS.`,
    );
    for (const shown of [said, told.stderr()]) expect(shown).not.toContain(BOT_TOKEN);
  } finally {
    await told.close();
    await gated.close();
  }
});

test("a self-hosted Bot API behind Cloudflare's challenge says waiter cannot pass it, not that a person must unblock the bot", async () => {
  const challenged = await startFake(() => ({
    status: 403,
    headers: { "content-type": "text/html; charset=UTF-8", "cf-mitigated": "challenge", server: "cloudflare" },
    body: '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>',
  }));
  const told = await startWaiter({
    WAITER_NOTIFY_CHANNELS: JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [OWNER], baseUrl: challenged.origin },
    }),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
  });
  try {
    const said = text(await told.call("notify_send", { channel: "team", text: "Hi" }));
    expect(said).toContain(
      "Telegram Bot API answered 403: Cloudflare in front of the Bot API answered with a challenge for a browser to solve, which waiter cannot, so the message was not sent; ask whoever runs it to let waiter's requests skip the challenge (a WAF skip rule for this machine's address or the Bot API's path).",
    );
    expect(said).not.toContain("unblock");
  } finally {
    await told.close();
    await challenged.close();
  }
});

/** A call of a sender that has `ms` left. */
function senderCall(ms: number) {
  return {
    signal: new AbortController().signal,
    deadline: clock.now() + ms,
    log: new Log("error", () => {}),
    progress: async () => {},
    serves: () => true,
  };
}

test("the check at start says which chats do not let the bot post, and what right to give it", async () => {
  const chats = ["-1001", "-1002", "-1003", "-1004", "-1005", "-1006", "-1007", "424242"];
  const telegram = await startTelegram(chats);
  const api = botApi(telegram);
  const call = {
    signal: new AbortController().signal,
    deadline: clock.now() + 5_000,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  };
  const standing = (id: string, type: string, member: object, permissions?: object) =>
    telegram.standing.set(id, { type, member, ...(permissions ? { permissions } : {}) });
  standing("-1001", "channel", { status: "administrator", can_post_messages: false });
  standing("-1002", "channel", { status: "administrator", can_post_messages: true });
  standing("-1003", "supergroup", { status: "member" }, { can_send_messages: false });
  standing("-1004", "supergroup", { status: "administrator" }, { can_send_messages: false });
  standing("-1005", "group", { status: "restricted", is_member: true, can_send_messages: false });
  standing("-1006", "channel", { status: "left" });
  standing("-1007", "supergroup", { status: "member" }, { can_send_messages: true });
  try {
    const { bot, problems } = await checkTelegram(api, BOT_TOKEN, chats, call);
    expect(bot).toBe("@shop_notices_bot");
    expect(problems).toEqual([
      "Telegram Bot API says @shop_notices_bot cannot post in chat -1001: it is an administrator of the channel without the right to post messages; give it that right.",
      "Telegram Bot API says @shop_notices_bot cannot post in chat -1003: the group lets no member send messages; let members send messages, or make the bot an administrator.",
      "Telegram Bot API says @shop_notices_bot cannot post in chat -1005: an administrator restricted it from sending messages; lift the restriction, or make the bot an administrator.",
      "Telegram Bot API says @shop_notices_bot cannot post in chat -1006: it is not a member of the channel; add it as an administrator with the right to post messages.",
    ]);
    // The bot's own standing is asked of each group and channel, by its id; a person's chat is not.
    const asked = telegram.requests.filter((r) => r.path.endsWith("/getChatMember"));
    expect(asked.map((r) => r.query.get("chat_id")).sort()).toEqual(chats.filter((id) => id.startsWith("-")).sort());
    expect(new Set(asked.map((r) => r.query.get("user_id")))).toEqual(new Set([String(BOT.id)]));
  } finally {
    await telegram.close();
  }
});

test("the check at start names the new id of a group upgraded to a supergroup, which getChat still reads", async () => {
  const telegram = await startTelegram(["-1013", "-1014"]);
  const api = botApi(telegram);
  const call = {
    signal: new AbortController().signal,
    deadline: clock.now() + 5_000,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  };
  telegram.migrated.set("-1013", -1001987654321);
  try {
    expect((await checkTelegram(api, BOT_TOKEN, ["-1013", "-1014"], call)).problems).toEqual([
      "Telegram Bot API says @shop_notices_bot cannot reach chat -1013 (400: Bad Request: group chat was upgraded to a supergroup chat); the group is now chat -1001987654321: put that id in the channel's chatIds.",
    ]);
    // Where chatIds lists the supergroup already, what is left to do is take the group's id out.
    telegram.chats.add("-1001987654321");
    expect((await checkTelegram(api, BOT_TOKEN, ["-1013", "-1001987654321"], call)).problems).toEqual([
      "Telegram Bot API says @shop_notices_bot cannot reach chat -1013 (400: Bad Request: group chat was upgraded to a supergroup chat); the group is now chat -1001987654321, which chatIds lists too: take -1013 out of the channel's chatIds.",
    ]);
  } finally {
    await telegram.close();
  }
});

test("the check at start names a chat chatIds lists twice, by its @name and by its id", async () => {
  const telegram = await startTelegram(["-1001555", "424242"]);
  telegram.usernames.set("@shop_news", "-1001555");
  telegram.standing.set("-1001555", { type: "channel", member: { status: "administrator" } });
  const call = { signal: new AbortController().signal, deadline: clock.now() + 5_000 };
  try {
    // Only Telegram knows the @name is that id: each message would go to the channel twice.
    expect(
      (await checkTelegram(botApi(telegram), BOT_TOKEN, ["@Shop_News", "424242", "-1001555"], call)).problems,
    ).toEqual([
      "Telegram Bot API says chat -1001555 is chat @Shop_News, which chatIds lists too, so each message goes to it twice: take -1001555 out of the channel's chatIds.",
    ]);
  } finally {
    await telegram.close();
  }
});

test("the check at start says a channel's topic was given for a chat without topics", async () => {
  const telegram = await startTelegram(["-1011", "-1012", "424242"]);
  const api = botApi(telegram);
  const call = {
    signal: new AbortController().signal,
    deadline: clock.now() + 5_000,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  };
  telegram.standing.set("-1011", { type: "supergroup", member: { status: "member" }, topics: [7] });
  telegram.standing.set("-1012", { type: "supergroup", member: { status: "member" } });
  try {
    // topicId goes to each chat of the channel: one without topics moves to another channel, the forum's
    // topic stays; a person's chat has no topics to turn on.
    expect((await checkTelegram(api, BOT_TOKEN, ["-1011", "-1012", "424242"], call, 7)).problems).toEqual([
      "Telegram Bot API says chat -1012 has no topics, though the channel's topicId is 7: turn topics on in the group, or list the chat in a channel without topicId (its messages then go to the chat itself).",
      "Telegram Bot API says chat 424242 has no topics, though the channel's topicId is 7: list the chat in a channel without topicId (its messages then go to the chat itself).",
    ]);
    // Without a topic, a chat without topics is as good as any.
    expect((await checkTelegram(api, BOT_TOKEN, ["-1012"], call)).problems).toEqual([]);
  } finally {
    await telegram.close();
  }
});

test("a bot restricted in a group it is no longer in is said not to be a member, though its restriction lets it write", async () => {
  const telegram = await startTelegram(["-1009"]);
  const api = botApi(telegram);
  const call = {
    signal: new AbortController().signal,
    deadline: clock.now() + 5_000,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  };
  // A restricted user that left or was removed stays "restricted", with is_member false.
  telegram.standing.set("-1009", {
    type: "supergroup",
    member: { status: "restricted", is_member: false, can_send_messages: true },
    permissions: { can_send_messages: true },
  });
  try {
    expect((await checkTelegram(api, BOT_TOKEN, ["-1009"], call)).problems).toEqual([
      "Telegram Bot API says @shop_notices_bot cannot post in chat -1009: it is not a member of the group; add it again.",
    ]);
  } finally {
    await telegram.close();
  }
});

test("a channel that refuses the bot its own standing is said to need it as an administrator", async () => {
  const telegram = await startTelegram(["-1010"]);
  const api = botApi(telegram);
  const call = {
    signal: new AbortController().signal,
    deadline: clock.now() + 5_000,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  };
  telegram.standing.set("-1010", { type: "channel", member: { status: "member" } });
  // Of a channel, only its administrators may read its members.
  telegram.intercept = (request) =>
    request.path.endsWith("/getChatMember")
      ? json(400, '{"ok":false,"error_code":400,"description":"Bad Request: member list is inaccessible"}')
      : undefined;
  try {
    expect((await checkTelegram(api, BOT_TOKEN, ["-1010"], call)).problems).toEqual([
      "Telegram Bot API says @shop_notices_bot cannot post in chat -1010 (400: Bad Request: member list is inaccessible): it is no administrator of the channel; make it one with the right to post messages.",
    ]);
  } finally {
    await telegram.close();
  }
});

test("a Bot API that fails the check at start for another reason is said to answer so, not to refuse a message", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const call = {
    signal: new AbortController().signal,
    deadline: clock.now() + 5_000,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  };
  try {
    telegram.queue.push(json(500, '{"ok":false,"error_code":500,"description":"Internal Server Error"}'));
    expect(await checkTelegram(api, BOT_TOKEN, ["424242"], call)).toEqual({
      problems: ["Telegram Bot API answered 500: Internal Server Error."],
    });
    telegram.queue.push(json(200, JSON.stringify({ ok: true, result: BOT })));
    telegram.queue.push(tooManyRequests(5));
    expect(await checkTelegram(api, BOT_TOKEN, ["424242"], call)).toEqual({
      bot: "@shop_notices_bot",
      problems: ["chat 424242: Telegram Bot API answered 429: Too Many Requests: retry after 5."],
    });
  } finally {
    await telegram.close();
  }
});

test("a Bot API that does not answer the check at start in the tool timeout is said so, with what to check", async () => {
  const telegram = await startTelegram(["424242"]);
  let answer = () => {};
  telegram.held = new Promise((resolve) => {
    answer = resolve;
  });
  // As a check at start is bounded: its signal aborts at the tool timeout.
  const bounded = withDeadline({
    signal: new AbortController().signal,
    deadline: clock.now() + 500,
    deadlineSetting: "WAITER_TOOL_TIMEOUT",
  });
  try {
    const { problems } = await checkTelegram(botApi(telegram), BOT_TOKEN, ["424242"], bounded.call);
    expect(problems).toEqual([
      expect.stringMatching(
        /^Telegram Bot API \(127\.0\.0\.1:\d+\) did not answer within the tool timeout \(WAITER_TOOL_TIMEOUT\); check the channel's baseUrl, and this machine's network and proxy settings\.$/,
      ),
    ]);
  } finally {
    bounded.end();
    answer();
    await telegram.close();
  }
});

test("an @name in a quote a cut ended mentions no one, though a line that says it is told late follows", async () => {
  const telegram = await startTelegram(["424242"]);
  const sender = telegramSender(botApi(telegram), BOT_TOKEN, "text");
  // A customer's note, quoted, that the text's cut ended, then the line of a notification told late.
  const note = "“@admin please call about order 1042”";
  const text = "Paid: “@admin please…\nIts event came at 2026-12-01 09:00 UTC, and this is told only now.";
  try {
    await sender.send("424242", text, { ...senderCall(5_000), quoted: [note] });
    expect(telegram.delivered.map((m) => m.text)).toEqual([text.replace("@admin", "@\u2060admin")]);
  } finally {
    await telegram.close();
  }
});

test("a quote full of @names is cut to what Telegram takes, the word joiners that keep them from mentioning counted", async () => {
  const telegram = await startTelegram(["424242"]);
  const sender = telegramSender(botApi(telegram), BOT_TOKEN, "text");
  // Within notify_send's 4000 characters, it would be a thousand more with a joiner after each @.
  const note = `“${"@ab ".repeat(990).trimEnd()}”`;
  try {
    await sender.send("424242", `Note: ${note}`, { ...senderCall(5_000), quoted: [note] });
    const [told] = telegram.delivered.map((m) => m.text);
    expect([...(told ?? "")].length).toBeLessThanOrEqual(4096);
    expect(told).toMatch(/^Note: “@\u2060ab @\u2060ab .*…$/su);
    expect(told).not.toMatch(/(^|[^\p{L}\p{N}_])@(?=[\p{L}\p{N}_])/u);
  } finally {
    await telegram.close();
  }
});

test("the warning that a group was upgraded to a supergroup names whom the message was for", async () => {
  const group = "-4012345678";
  const supergroup = -1004012345678;
  const telegram = await startTelegram([group, String(supergroup)]);
  telegram.migrated.set(group, supergroup);
  const lines: string[] = [];
  const sender = telegramSender(botApi(telegram), BOT_TOKEN, "text");
  const caller = "automation stripe-paid, run 7, step 1";
  try {
    const went = await sender.send(group, "Order 1042 is paid.", {
      ...senderCall(5_000),
      log: new Log("info", (line) => lines.push(line)),
      caller,
    });
    expect(went).toBe(`upgraded to supergroup ${supergroup}, where it went`);
    expect(lines).toContainEqual(
      expect.stringContaining(
        `says group ${group} was upgraded to a supergroup, chat ${supergroup}, and the message for ${caller} went there`,
      ),
    );
  } finally {
    await telegram.close();
  }
});

test("a flood wait on a chat's @name holds it under every spelling, as Telegram reads an @name in any case", async () => {
  const telegram = await startTelegram(["@shop_news"]);
  const api = botApi(telegram);
  // Two channels, each with the channel's @name as its owner wrote it.
  const floodWaits: FloodWaits = new Map();
  const team = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  const news = telegramSender(api, BOT_TOKEN, "markdownv2", floodWaits);
  const call = () => senderCall(5_000);
  try {
    telegram.queue.push(tooManyRequests(600));
    await expect(team.send("@Shop_News", "Order #1042 is paid.", call())).rejects.toThrow(/retry after 600/);
    await expect(news.send("@shop_news", "Order #1043 is paid.", call())).rejects.toThrow(
      /nothing was sent\); try again in 600 s/,
    );
    expect(telegram.requests.filter((r) => r.path.endsWith("/sendMessage"))).toHaveLength(1);
    expect(telegram.delivered).toEqual([]);
  } finally {
    await telegram.close();
  }
});

test("the messages a flood wait held go one a second once it is over, the one Telegram refused first", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  const call = () => senderCall(10_000);
  /** When each message Telegram took came, by waiter's clock. */
  const took: number[] = [];
  telegram.intercept = (request) => {
    if (request.path.endsWith("/sendMessage")) took.push(clock.now());
    return undefined;
  };
  try {
    telegram.queue.push(tooManyRequests(1));
    const first = sender.send("424242", "Order #1042 is paid.", call());
    await expect.poll(() => floodWaits.size).toBe(1);
    const heard = ([...floodWaits.values()][0] as { at: number }).at;
    // Two more, from other calls, held by the wait the first one heard.
    const later = [2, 3].map((n) => sender.send("424242", `Order #104${2 + n} is paid.`, call()));
    await Promise.all([first, ...later]);
    expect(telegram.delivered.map((m) => m.text)).toEqual([
      "Order #1042 is paid.",
      "Order #1044 is paid.",
      "Order #1045 is paid.",
    ]);
    // Each in its own second after the 1 s wait: none before its turn (a loaded machine may send one
    // late, which brings it nearer the next, so the turns are counted from the 429, not one from another).
    const after = took.map((at) => at - heard);
    expect(after).toHaveLength(3);
    after.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(1_000 * (i + 1) - 20);
    });
  } finally {
    await telegram.close();
  }
});

test("messages held in place by a wait that a longer 429 replaces go only once the longer wait is over", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  /** When each message Telegram was sent came, by waiter's clock, with its text. */
  const sent: { at: number; text: string }[] = [];
  const refusals = [tooManyRequests(1), tooManyRequests(2)];
  telegram.intercept = (request) => {
    if (!request.path.endsWith("/sendMessage")) return undefined;
    sent.push({ at: clock.now(), text: (JSON.parse(request.body) as { text: string }).text });
    return refusals.shift();
  };
  try {
    const first = sender.send("424242", "Order #1041 is paid.", senderCall(15_000));
    await expect.poll(() => floodWaits.size).toBe(1);
    // Two more, held in place by the 1 s wait; the first, sent again after it, is asked for 2 s more.
    const later = [2, 3].map((n) => sender.send("424242", `Order #104${n} is paid.`, senderCall(15_000)));
    await Promise.all([first, ...later]);
    const [, longer] = sent;
    expect(sent.map((m) => m.text)).toEqual([
      "Order #1041 is paid.",
      "Order #1041 is paid.",
      "Order #1041 is paid.",
      "Order #1042 is paid.",
      "Order #1043 is paid.",
    ]);
    // None is sent within the longer wait, and each after it in its own second.
    sent.slice(2).forEach((m, i) => {
      expect(m.at - (longer?.at ?? 0)).toBeGreaterThanOrEqual(2_000 + 1_000 * i - 20);
    });
    expect(telegram.delivered.map((m) => m.text)).toEqual([
      "Order #1041 is paid.",
      "Order #1042 is paid.",
      "Order #1043 is paid.",
    ]);
  } finally {
    await telegram.close();
  }
});

test("an automation's message refused for now keeps its turn in the flood wait though its text changes when tried again", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  /** An automation's call, which is told to try again rather than wait longer than its time. */
  const automation = (caller: string, ms: number) => ({
    ...senderCall(ms),
    caller,
    notified: { sent: [], failed: [] },
  });
  const notice = "automation stripe-paid, telling run 7's failure";
  const step = "automation stripe-paid, run 8 (event evt_8), step 1";
  try {
    telegram.queue.push(tooManyRequests(1));
    // A failure notice, then a step's message, each refused for now: each keeps its turn, in that order.
    await expect(sender.send("424242", "Run 7 failed.", automation(notice, 500))).rejects.toThrow(/429/);
    await expect(sender.send("424242", "Order #1048 is paid.", automation(step, 500))).rejects.toThrow(/429/);
    // Told late, the notice comes back saying so: it still goes in its turn, before the message after it.
    await Promise.all([
      sender.send(
        "424242",
        "Run 7 failed.\nThe run failed at 09:00 UTC, and is told only now.",
        automation(notice, 10_000),
      ),
      sender.send("424242", "Order #1048 is paid.", automation(step, 10_000)),
    ]);
    expect(telegram.delivered.map((m) => m.text)).toEqual([
      "Run 7 failed.\nThe run failed at 09:00 UTC, and is told only now.",
      "Order #1048 is paid.",
    ]);
  } finally {
    await telegram.close();
  }
});

/**
 * Refuses each text's first message with a wait of a second, told 200 ms late for `later`'s: by
 * what it says, not by which of two messages sent at once reaches the chat first.
 */
function refusedOnceEach(later: string): (request: SeenRequest) => FakeAnswer | undefined {
  const refused = new Set<string>();
  return (request) => {
    const { text } = JSON.parse(request.body) as { text: string };
    if (refused.has(text)) return undefined;
    refused.add(text);
    return text === later ? { ...tooManyRequests(1), delayMs: 200 } : tooManyRequests(1);
  };
}

test("an automation's message refused as another's 429 was heard waits after that one, though it comes back first", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  const automation = (run: number, ms: number) => ({
    ...senderCall(ms),
    caller: `automation stripe-paid, run ${run} (event evt_${run}), step 1`,
    notified: { sent: [], failed: [] },
  });
  try {
    // Two messages sent at once, both refused by one wait: the second's refusal comes later.
    telegram.intercept = refusedOnceEach("Order #1042 is paid.");
    const first = sender.send("424242", "Order #1041 is paid.", automation(1, 500));
    const second = sender.send("424242", "Order #1042 is paid.", automation(2, 500));
    await expect(first).rejects.toThrow(/429/);
    await expect(second).rejects.toThrow(/429/);
    // Each comes back for its turn, the second first: it still goes after the first.
    const again = sender.send("424242", "Order #1042 is paid.", automation(2, 10_000));
    await sender.send("424242", "Order #1041 is paid.", automation(1, 10_000));
    await again;
    expect(telegram.delivered.map((m) => m.text)).toEqual(["Order #1041 is paid.", "Order #1042 is paid."]);
  } finally {
    await telegram.close();
  }
});

test("an event's text an automation quotes mentions no one, though it holds half a character", async () => {
  const telegram = await startTelegram(["424242"]);
  const sender = telegramSender(botApi(telegram), BOT_TOKEN, "text");
  try {
    const note = "“@admin please \ud83d”";
    await sender.send("424242", `Paid: ${note}`, { ...senderCall(5_000), quoted: [note] });
    expect(telegram.delivered.map((m) => m.text)).toEqual(["Paid: “@\u2060admin please \ufffd”"]);
  } finally {
    await telegram.close();
  }
});

test("a message refused as another's 429 was heard goes after that one, which waits its turn in place", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  try {
    // Two messages sent at once, both refused by one wait: the second's refusal comes later.
    telegram.intercept = refusedOnceEach("Order #1042 is paid.");
    const first = sender.send("424242", "Order #1041 is paid.", senderCall(10_000));
    const second = sender.send("424242", "Order #1042 is paid.", senderCall(10_000));
    await Promise.all([first, second]);
    expect(telegram.delivered.map((m) => m.text)).toEqual(["Order #1041 is paid.", "Order #1042 is paid."]);
  } finally {
    await telegram.close();
  }
});

test("a turn kept for an automation's message that never came back for it is given up a minute after its time", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  const automation = (run: number) => ({
    ...senderCall(500),
    caller: `automation stripe-paid, run ${run} (event evt_${run}), step 1`,
    notified: { sent: [], failed: [] },
  });
  const keptFor = () => [...floodWaits.values()].flatMap((flood) => flood.kept.map((k) => k.caller.split(",")[1]));
  try {
    // Run 1's message is refused for now, and its run never sends it again (its retry time ran out).
    telegram.queue.push(tooManyRequests(1));
    await expect(sender.send("424242", "Order #1041 is paid.", automation(1))).rejects.toThrow(/429/);
    // Once its turn has passed, the chat's next 429 keeps it, as its message may still come.
    setClock(clock.now() + 2_500);
    telegram.queue.push(tooManyRequests(1));
    await expect(sender.send("424242", "Order #1042 is paid.", automation(2))).rejects.toThrow(/429/);
    expect(keptFor()).toEqual([" run 2 (event evt_2)", " run 1 (event evt_1)"]);
    // A minute after its first turn, the next 429 keeps it no more: it would hold every later message back.
    setClock(clock.now() + 59_500);
    telegram.queue.push(tooManyRequests(1));
    await expect(sender.send("424242", "Order #1043 is paid.", automation(3))).rejects.toThrow(/429/);
    expect(keptFor()).toEqual([" run 3 (event evt_3)", " run 2 (event evt_2)"]);
  } finally {
    await telegram.close();
  }
});

test("a flood wait that ends too close to the call's end to send in is not waited out: the call ends at once, nothing sent", async () => {
  const telegram = await startTelegram(["424242"]);
  const api = botApi(telegram);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(api, BOT_TOKEN, "text", floodWaits);
  const call = senderCall;
  const notSent = /did not take the message \(429/;
  // Telegram takes longer to answer than the call would have left once the wait is over.
  telegram.delayMs = 300;
  try {
    // A wait heard earlier (another call's), which ends 100 ms before this call does.
    floodWaits.set(`${api.baseUrl.href} ${BOT_TOKEN} 424242`, {
      at: clock.now() - 900,
      ms: 1000,
      next: clock.now() + 100,
      kept: [],
    });
    await expect(sender.send("424242", "Order #1042 is paid.", call(150))).rejects.toThrow(notSent);
    // A wait asked for by this call's own message, which ends 150 ms before the call does.
    floodWaits.clear();
    telegram.queue.push(tooManyRequests(1));
    await expect(sender.send("424242", "Order #1042 is paid.", call(1150))).rejects.toThrow(notSent);
    expect(telegram.delivered).toEqual([]);
  } finally {
    await telegram.close();
  }
});

/** A mail server of a few lines: it greets, then answers each line the client sends with `answer`'s. */
function smtpAnswering(greeting: string, answer: (line: string) => string) {
  return createServer((socket) => {
    socket.on("error", () => {});
    socket.write(`${greeting}\r\n`);
    let lines = "";
    socket.on("data", (chunk: Buffer) => {
      lines += chunk.toString();
      for (let end = lines.indexOf("\r\n"); end >= 0; end = lines.indexOf("\r\n")) {
        socket.write(`${answer(lines.slice(0, end))}\r\n`);
        lines = lines.slice(end + 2);
      }
    });
  });
}

test("an automation's email whose lease ran out before it was sent is not sent, and is refused for now", async () => {
  const server = await startMailServer();
  try {
    const sender = emailSender({
      host: "127.0.0.1",
      port: server.port,
      tls: "none",
      from: "w@shop.example",
      subject: "waiter",
    });
    const call = {
      signal: new AbortController().signal,
      deadline: clock.now() + 5_000,
      log: new Log("error", () => {}),
      progress: async () => {},
      serves: () => false,
    };
    // A replica frozen past its lease wakes with the message still to send: another has taken its run up.
    const refused = await sender
      .send("owner@shop.example", "Order 1042 is paid.", { ...call, mayNotSend: () => "the lease ran out" })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(UpstreamError);
    expect(refused).toMatchObject({
      message: `The mail server (127.0.0.1:${server.port}) was not asked to send it: the lease ran out.`,
      refused: true,
    });
    expect(server.received).toEqual([]);
    await sender.send("owner@shop.example", "Order 1042 is paid.", call);
    expect(server.received).toEqual(["owner@shop.example"]);
  } finally {
    await server.close();
  }
});

test("a message whose wait a stop cut short says the wait left, not the whole one Telegram asked for", async () => {
  const telegram = await startTelegram(["424242"]);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(botApi(telegram), BOT_TOKEN, "text", floodWaits);
  const cancel = new AbortController();
  try {
    setClock("2026-12-05T08:00:00Z");
    telegram.queue.push(tooManyRequests(600));
    const sent = sender.send("424242", "Order #1042 is paid.", { ...senderCall(700_000), signal: cancel.signal });
    await expect.poll(() => floodWaits.size).toBe(1);
    setClock("2026-12-05T08:08:20Z");
    cancel.abort();
    const refused = await sent.then(
      () => undefined,
      (err: unknown) => err as UpstreamError,
    );
    // Of the 600 s Telegram asked for, 500 passed (and the milliseconds the request took).
    expect(refused?.message).toMatch(/^Not sent: the call ended while .*; try again in 10[01] s\.$/);
    expect([100, 101]).toContain(refused?.retryAfter);
  } finally {
    setClock();
    await telegram.close();
  }
});

test("a message held by another's wait, cut short by a stop, says the wait left", async () => {
  const telegram = await startTelegram(["424242"]);
  const floodWaits: FloodWaits = new Map();
  const sender = telegramSender(botApi(telegram), BOT_TOKEN, "text", floodWaits);
  const first = new AbortController();
  const second = new AbortController();
  try {
    setClock("2026-12-05T08:00:00Z");
    telegram.queue.push(tooManyRequests(600));
    const refused = sender.send("424242", "Order #1042 is paid.", { ...senderCall(700_000), signal: first.signal });
    await expect.poll(() => floodWaits.size).toBe(1);
    const held = sender.send("424242", "Order #1043 is paid.", { ...senderCall(700_000), signal: second.signal });
    setClock("2026-12-05T08:08:20Z");
    second.abort();
    const cut = await held.then(
      () => undefined,
      (err: unknown) => err as UpstreamError,
    );
    // Its turn comes a second after the 600 s Telegram asked for, of which 500 passed.
    expect(cut?.message).toMatch(/^Not sent: the call ended while .*; try again in 10[12] s\.$/);
    expect([101, 102]).toContain(cut?.retryAfter);
    first.abort();
    await refused.catch(() => undefined);
  } finally {
    setClock();
    await telegram.close();
  }
});

/**
 * Two waiters on one event store (`store`: the settings that name it), each with a channel to one
 * chat: the one that did not hear Telegram's 429 sends nothing into its wait, and says when it may.
 */
async function oneFloodWaitOnTheStore(store: Record<string, string>) {
  const telegram = await startTelegram([OWNER]);
  const env = {
    ...ERP_ENV,
    ...store,
    WAITER_NOTIFY_CHANNELS: JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [OWNER], baseUrl: telegram.origin },
    }),
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    WAITER_TOOL_TIMEOUT: "10",
  };
  const assistants = await startWaiter(env);
  const server = await startWaiter(env);
  const sent = () => telegram.requests.filter((r) => r.path.endsWith("/sendMessage")).length;
  try {
    telegram.queue.push(tooManyRequests(600));
    const told = await server.call("notify_send", { channel: "team", text: "Order #1042 is paid." });
    expect(text(told)).toMatch(/Too Many Requests: retry after 600/);
    setClock(clock.now() + 60_000);
    const held = await assistants.call("notify_send", { channel: "team", text: "Order #1043 is paid." });
    expect(held.isError).toBe(true);
    expect(text(held)).toMatch(
      /424242: Telegram Bot API did not take the message \(429: it asked for 600 s without messages to this chat, and sending during them makes the wait longer; nothing was sent\); try again in 5(40|39) s\./,
    );
    expect(sent()).toBe(1);
    setClock(clock.now() + 541_000);
    const later = await assistants.call("notify_send", { channel: "team", text: "Order #1043 is paid." });
    expect(later.isError, text(later)).toBeFalsy();
    expect(telegram.delivered.map((m) => m.text)).toEqual(["Order #1043 is paid."]);
  } finally {
    await assistants.close();
    await server.close();
    await telegram.close();
  }
}

test("a chat's flood wait one waiter heard holds the messages of another on its data directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "waiter-test-"));
  try {
    await oneFloodWaitOnTheStore({ WAITER_DATA_DIR: dir });
    // The wait is kept by the bot's id, never by its token.
    const stored = readFileSync(join(dir, "events.db"), "latin1");
    expect(stored).toContain(BOT.id.toString());
    expect(stored).not.toContain(BOT_TOKEN.split(":")[1]);
  } finally {
    setClock();
  }
});

describe.runIf(postgresAvailable || postgresRequired)("replicas on one PostgreSQL store", () => {
  usePostgres();

  test("a chat's flood wait one replica heard holds the messages of another", async () => {
    await oneFloodWaitOnTheStore({ WAITER_DATABASE_URL: await freshSchema() });
  });

  test("a replica whose database went silent sends a Telegram message without its answer, and says so", async () => {
    const telegram = await startTelegram([OWNER]);
    const proxy = await silentProxy(await freshSchema());
    proxies.push(proxy);
    const replica = await startWaiter({
      ...ERP_ENV,
      WAITER_DATABASE_URL: proxy.url,
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [OWNER], baseUrl: telegram.origin },
      }),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      // Shorter than the database's query timeout (15 s).
      WAITER_TOOL_TIMEOUT: "5",
    });
    try {
      proxy.silence();
      const result = await replica.call("notify_send", { channel: "team", text: "Order #1042 is paid." });
      expect(result.isError, text(result)).toBeFalsy();
      expect(telegram.delivered.map((m) => m.text)).toEqual(["Order #1042 is paid."]);
      expect(replica.stderr()).toMatch(
        /warning .*the event store could not be asked whether another waiter heard Telegram Bot API ask chat 424242 to wait \(429\); the message is sent all the same: it did not answer within 1 s\n/,
      );
    } finally {
      await replica.close().catch(() => {});
      await telegram.close();
    }
  });

  test("a replica whose database went silent sends the message Telegram asked to wait for once the wait is over, within its call", async () => {
    const telegram = await startTelegram([OWNER]);
    const proxy = await silentProxy(await freshSchema());
    proxies.push(proxy);
    const replica = await startWaiter({
      ...ERP_ENV,
      WAITER_DATABASE_URL: proxy.url,
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [OWNER], baseUrl: telegram.origin },
      }),
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      // A second for the store's answer before the message, 3 s of Telegram's wait, and 2 s to spare.
      WAITER_TOOL_TIMEOUT: "6",
    });
    try {
      proxy.silence();
      telegram.queue.push(tooManyRequests(3));
      const result = await replica.call("notify_send", { channel: "team", text: "Order #1042 is paid." });
      expect(result.isError, text(result)).toBeFalsy();
      expect(telegram.delivered.map((m) => m.text)).toEqual(["Order #1042 is paid."]);
      expect(replica.stderr().match(/the event store could not be asked/g)).toHaveLength(1);
      expect(replica.stderr()).toMatch(
        /warning .*the event store could not keep Telegram Bot API's wait on chat 424242 \(429\), so another waiter on it may send into it: it did not answer within 1 s\n/,
      );
    } finally {
      await replica.close().catch(() => {});
      await telegram.close();
    }
  });
});
