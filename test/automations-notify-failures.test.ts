import { connect as connectTcp, createServer } from "node:net";
import { join } from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import type { RunRecord } from "../src/events/store.js";
import { clock, setClock } from "../src/time.js";
import {
  CHAT,
  dataDir,
  holdAnswers,
  mailChannel,
  nextSequence,
  PAID,
  pay,
  runsOf,
  serve,
  TELL,
  TELL_OFFICE,
  telegram,
  unreachableUntilOpened,
  useFakes,
  woo,
} from "./automations-harness.js";
import { freePort, json } from "./fakes/http.js";
import { mailText, startMailServer, subjectOf } from "./fakes/smtp.js";
import { tooManyRequests } from "./fakes/telegram.js";
import { erase } from "./store-contract.js";

useFakes();

describe("when a channel cannot be reached", () => {
  /** The team's Telegram channel, and `down`, one whose Bot API at `port` on this machine does not answer. */
  const teamAndDown = (port: number) => {
    const channel = (baseUrl: string) => ({
      type: "telegram",
      botTokenEnv: "TELEGRAM_BOT_TOKEN",
      chatIds: [CHAT],
      baseUrl,
    });
    return JSON.stringify({ team: channel(telegram.origin), down: channel(`http://127.0.0.1:${port}`) });
  };

  test("an onFailure channel that cannot be reached holds no later event's run while it is tried", async () => {
    const lines: string[] = [];
    const server = await serve(
      [{ ...PAID, onFailure: { notify: "down" } }, TELL],
      // Tries of the failure's notice until 4.5 s after the first, 300 ms to 2.4 s apart: time
      // enough for the later event's run however slowly a loaded machine goes through it.
      { WAITER_NOTIFY_CHANNELS: teamAndDown(await freePort()), WAITER_AUTOMATION_RETRY_SECONDS: "6" },
      lines,
    );
    try {
      const sent = telegram.delivered.length;
      await pay(server, "999999", "evt_fails_untold");
      await pay(server, undefined, "evt_told_meanwhile");
      await expect
        .poll(() => telegram.delivered.slice(sent).map((m) => m.text))
        .toEqual([expect.stringMatching(/^Paid without an order: /)]);
      // The failure is still being told when the later event's run is done.
      expect(lines.filter((line) => line.includes("failure could not be told"))).toEqual([]);
      await expect
        .poll(() => lines.filter((line) => /automation stripe-paid: run \d+'s failure could not be told/.test(line)))
        .toHaveLength(1);
    } finally {
      await server.close();
    }
  }, 30_000);

  test("a failure still being told to a channel that cannot be reached is not told once its run is erased", async () => {
    const bot = await unreachableUntilOpened(Number(new URL(telegram.origin).port));
    const lines: string[] = [];
    const server = await serve(
      [{ ...PAID, onFailure: { notify: "down" } }],
      {
        WAITER_NOTIFY_CHANNELS: teamAndDown(bot.port),
        WAITER_AUTOMATION_RETRY_SECONDS: "10",
      },
      lines,
    );
    try {
      const sent = telegram.delivered.length;
      // An order the shop does not have: the run fails, and its notice waits for the channel.
      const erased = await pay(server, "999999", "evt_erased_customer");
      const [run] = await runsOf(erased.id);
      expect(run).toMatchObject({ status: "failed" });
      // The customer's events erased as docs/webhooks.md says, their run and its owed notice with them.
      erase(join(dataDir, "events.db"), "pi_evt_erased_customer");
      // The try under way as it was erased ends refused; the next, half a second later, would reach the channel.
      await expect
        .poll(() => lines.filter((line) => /telling run \d+'s failure: notify_send failed/.test(line)))
        .toHaveLength(1);
      await bot.open();
      // Its next try, once the channel takes messages, finds the notice no longer owed.
      await expect
        .poll(() => lines.filter((line) => line.includes("failure is no longer owed in the event store")))
        .toHaveLength(1);
      const other = await pay(server, "999998", "evt_told_after");
      await expect
        .poll(() => telegram.delivered.slice(sent).map((m) => m.text))
        .toContainEqual(expect.stringContaining("evt_told_after"));
      expect(telegram.delivered.slice(sent).map((m) => m.text)).not.toContainEqual(
        expect.stringContaining("erased_customer"),
      );
      expect((await runsOf(other.id))[0]).toMatchObject({ status: "failed" });
    } finally {
      await server.close();
      await bot.close();
    }
  });

  test("many failures told at once to a channel that cannot be reached are no memory leak warning", async () => {
    const warnings: string[] = [];
    // Only the warning guarded against: process warnings are the worker's, which other test files share.
    const heard = (warning: Error) => {
      if (warning.name === "MaxListenersExceededWarning") warnings.push(warning.message);
    };
    process.on("warning", heard);
    const lines: string[] = [];
    const server = await serve(
      [{ ...PAID, onFailure: { notify: "down" } }],
      // Each failure's next try 2 s after its first: the twelve wait for theirs at once.
      { WAITER_NOTIFY_CHANNELS: teamAndDown(await freePort()), WAITER_AUTOMATION_RETRY_SECONDS: "60" },
      lines,
    );
    try {
      // Orders the shop does not have: each run fails, and its failure waits for its next try on the channel.
      await Promise.all(Array.from({ length: 12 }, () => pay(server, "999999")));
      await expect
        .poll(() =>
          lines.filter((line) => /telling run \d+'s failure: notify_send failed .*trying again in 2 s/.test(line)),
        )
        .toHaveLength(12);
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", heard);
      await server.close();
    }
  });

  test("a notification that could not connect, so was not sent, is sent once the channel answers, once", async () => {
    const smtp = await startMailServer();
    const [bot, mail] = await Promise.all([
      unreachableUntilOpened(Number(new URL(telegram.origin).port)),
      unreachableUntilOpened(smtp.port),
    ]);
    const tell = {
      name: "tell",
      when: { source: "stripe" },
      do: [
        { notify: "team", text: "Paid {{event.id}}" },
        { notify: "office", text: "Paid" },
      ],
    };
    const server = await serve([tell], {
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: {
          type: "telegram",
          botTokenEnv: "TELEGRAM_BOT_TOKEN",
          chatIds: [CHAT],
          baseUrl: `http://127.0.0.1:${bot.port}`,
        },
        office: mailChannel(mail.port, "boss@shop.example"),
      }),
      // A first wait of 0.3 s, long enough to see the step wait for its next try.
      WAITER_AUTOMATION_RETRY_SECONDS: "6",
    });
    /** The run once its step `index` waits for a next try, or once it ended. */
    const waiting = async (eventId: string, index: number) => {
      for (;;) {
        const [run] = await runsOf(eventId, false);
        if (run?.status !== "running" || run.steps[index]?.status === "refused") return run;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, undefined);
      expect(await waiting(event.id, 0)).toMatchObject({ status: "running" });
      await bot.open();
      expect(await waiting(event.id, 1)).toMatchObject({ status: "running" });
      await mail.open();
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(telegram.delivered.slice(sent)).toEqual([expect.objectContaining({ text: `Paid “${event.id}”` })]);
      expect(smtp.received).toEqual(["boss@shop.example"]);
    } finally {
      await server.close();
      await Promise.all([bot.close(), mail.close(), smtp.close()]);
    }
  });

  test("a notification whose connection broke once it was sent may have been sent, and is not sent again", async () => {
    const server = await serve([{ name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] }]);
    try {
      const asked = telegram.requests.length;
      telegram.queue.push({ status: 200, destroy: true });
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({
        status: "failed",
        error: expect.stringMatching(
          /did not confirm the message \(the connection was cut\); it may have been sent\. Sending the message again may send it twice/,
        ),
      });
      expect(telegram.requests.length - asked).toBe(1);
    } finally {
      await server.close();
    }
  });

  test("a notification Telegram does not confirm before the tool timeout names WAITER_TOOL_TIMEOUT, and says the message may have been sent", async () => {
    const server = await serve([{ name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] }], {
      WAITER_TOOL_TIMEOUT: "4",
    });
    // Telegram answers once the test is over: the call's 4 s leave a loaded machine time to connect (half of them).
    const release = holdAnswers();
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run?.error).toMatch(
        /: Telegram Bot API \(127\.0\.0\.1:\d+\) did not confirm the message before the tool call's deadline \(WAITER_TOOL_TIMEOUT, 4 s\); it may have been sent\. Sending the message again may send it twice\.$/,
      );
    } finally {
      release();
      await server.close();
    }
  });

  test("an email the mail server does not take before the tool timeout names WAITER_TOOL_TIMEOUT, and one it had but did not confirm may have been delivered", async () => {
    // The first address is answered, and the message to the second confirmed, only once the test is
    // over; till the call's time runs out, time enough for the rest on a loaded machine (connecting
    // and the greeting share half of it).
    const held: (() => void)[] = [];
    const smtp = await startMailServer({
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith("slow")) held.push(() => callback());
        else callback();
      },
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => held.push(() => callback()));
      },
    });
    const channels = JSON.stringify({
      slow: mailChannel(smtp.port, "slow@shop.example"),
      late: mailChannel(smtp.port, "late@shop.example"),
    });
    const tell = (channel: string) => ({
      name: channel,
      when: { source: "stripe" },
      do: [{ notify: channel, text: "Paid" }],
    });
    const server = await serve([tell("slow"), tell("late")], {
      WAITER_NOTIFY_CHANNELS: channels,
      WAITER_TOOL_TIMEOUT: "4",
      WAITER_AUTOMATION_RETRY_SECONDS: "1",
    });
    try {
      const event = await pay(server, undefined);
      const runs = await runsOf(event.id);
      expect(runs.find((r) => r.automation === "slow")?.error).toMatch(
        /^step 1 \(notify_send\): No address of slow confirmed the message: slow@shop\.example: Not sent: the call's time \(WAITER_TOOL_TIMEOUT, 4 s\) ran out before the mail server had the message\. waiter tried it /,
      );
      expect(runs.find((r) => r.automation === "late")?.error).toMatch(
        /^step 1 \(notify_send\): No address of late confirmed the message: late@shop\.example: The mail server had the whole message but had not confirmed it when the call's time \(WAITER_TOOL_TIMEOUT, 4 s\) ran out: it may have been delivered/,
      );
    } finally {
      for (const answer of held) answer();
      await server.close();
      await smtp.close();
    }
  });

  test("a notification Telegram took but did not confirm (ok without a message id) may have been sent, and is not sent again", async () => {
    const server = await serve([{ name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] }]);
    try {
      const asked = telegram.requests.length;
      telegram.queue.push(json(200, '{"ok":true,"result":{}}'));
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({
        status: "failed",
        error: expect.stringMatching(
          /accepted the message \(status 200\) .*: it was most likely sent\. Sending the message again may send it twice/,
        ),
      });
      expect(telegram.requests.length - asked).toBe(1);
    } finally {
      await server.close();
    }
  });
});

test("a sender's text cut inside an emoji reaches Telegram, the broken half shown as �", async () => {
  const tell = {
    name: "tell",
    when: { source: "stripe" },
    do: [{ notify: "team", text: "Paid: {{payload.data.object.description}}" }],
  };
  const server = await serve([tell]);
  try {
    const sent = telegram.delivered.length;
    // A checkout that cut the description at a length in UTF-16 units, inside 🍩 (\ud83c\udf69).
    const event = await pay(server, undefined, undefined, { description: "Káva a \ud83c" });
    const [run] = await runsOf(event.id);
    expect(run).toMatchObject({ status: "done" });
    expect(telegram.delivered.slice(sent).map((m) => m.text)).toEqual(["Paid: “Káva a \ufffd”"]);
  } finally {
    await server.close();
  }
});

test("a failure told by email is said in its subject: which automation failed, on which delivery", async () => {
  const smtp = await startMailServer();
  const team = { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT], baseUrl: telegram.origin };
  const channels = JSON.stringify({ team, office: mailChannel(smtp.port, "boss@shop.example") });
  const server = await serve([{ ...PAID, onFailure: { notify: "office" } }], { WAITER_NOTIFY_CHANNELS: channels });
  try {
    const delivery = `evt_subject_${nextSequence()}`;
    await pay(server, "999999", delivery);
    await expect.poll(() => smtp.messages).toHaveLength(1);
    // The subject is cut at 100 characters: the headline fits, the step and why follow in the body.
    expect(subjectOf(smtp.messages[0])).toBe(
      `waiter: automation stripe-paid failed on the delivery “${delivery}” from stripe.`,
    );
  } finally {
    await server.close();
    await smtp.close();
  }
});

describe("when a mail server refuses for now", () => {
  test("a greylisted email (451) is sent again later, once, and a refusal for good (550) fails the run at once", async () => {
    let greylisted = 0;
    const smtp = await startMailServer({
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith("gone")) {
          callback(Object.assign(new Error("5.1.1 Mailbox unavailable"), { responseCode: 550 }));
        } else if (greylisted++ === 0) {
          callback(Object.assign(new Error("4.7.1 Greylisted, try again later"), { responseCode: 451 }));
        } else callback();
      },
    });
    const { port, received } = smtp;
    const mail = (to: string) => mailChannel(port, to);
    const tell = (channel: string) => ({
      name: channel,
      when: { source: "stripe" },
      do: [{ notify: channel, text: "Paid" }],
    });
    // A next try 300 ms after the first, well within the retry time however long the first takes.
    const server = await serve([tell("office"), tell("nobody")], {
      WAITER_NOTIFY_CHANNELS: JSON.stringify({ office: mail("boss@shop.example"), nobody: mail("gone@shop.example") }),
      WAITER_AUTOMATION_RETRY_SECONDS: "6",
    });
    try {
      const event = await pay(server, undefined);
      const runs = await runsOf(event.id);
      expect(runs.find((r) => r.automation === "office")).toMatchObject({ status: "done" });
      expect(runs.find((r) => r.automation === "nobody")).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/550 .*not sent; correct the address in the channel's to/),
      });
      expect(greylisted).toBe(2);
      expect(received).toEqual(["boss@shop.example"]);
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  test("a channel all of whose addresses are refused for now until the retry time is over says so without advising to try again", async () => {
    const smtp = await startMailServer({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error("4.2.1 Mailbox busy"), { responseCode: 450 }));
      },
    });
    const channels = JSON.stringify({ office: mailChannel(smtp.port, "boss@shop.example", "accounts@shop.example") });
    const server = await serve([TELL_OFFICE], {
      WAITER_NOTIFY_CHANNELS: channels,
      WAITER_AUTOMATION_RETRY_SECONDS: "1",
    });
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("failed");
      // waiter tried, and says it will not again: no address's reason tells a person to try later.
      expect(run?.error).toMatch(/waiter tried it \d+ times/);
      expect(run?.error).not.toMatch(/try again later/);
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  test("the warning that an address did not confirm a step's email names the run it was for", async () => {
    const smtp = await startMailServer({
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith("accounts")) {
          callback(Object.assign(new Error("5.1.1 No such user"), { responseCode: 550 }));
        } else callback();
      },
    });
    const channels = JSON.stringify({ office: mailChannel(smtp.port, "boss@shop.example", "accounts@shop.example") });
    const lines: string[] = [];
    const server = await serve([TELL_OFFICE], { WAITER_NOTIFY_CHANNELS: channels }, lines);
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      await expect
        .poll(() => lines.filter((line) => line.includes("not confirmed by accounts@shop.example")))
        .toEqual([
          expect.stringMatching(
            new RegExp(`notify office for automation office, run ${run?.id}\\b.*: not confirmed by`),
          ),
        ]);
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  test("an email whose connection the mail server cut or closed before it had the message is sent again later, once", async () => {
    const smtp = await startMailServer();
    // The first connection is greeted, then cut at the first command (a server restarting), the
    // second closed there; the next ones reach the mail server.
    let connections = 0;
    const flaky = createServer((socket) => {
      socket.on("error", () => {});
      const which = connections++;
      if (which < 2) {
        socket.write("220 mail.shop.example ESMTP\r\n");
        socket.once("data", () => (which === 0 ? socket.resetAndDestroy() : socket.end()));
        return;
      }
      const server = connectTcp(smtp.port, "127.0.0.1");
      server.on("error", () => socket.destroy());
      socket.pipe(server).pipe(socket);
    });
    await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve));
    const port = (flaky.address() as { port: number }).port;
    const channels = JSON.stringify({ office: mailChannel(port, "boss@shop.example") });
    // Tries 300 and 600 ms apart: the third is due well within the retry time, however long a
    // loaded machine takes over the first two.
    const server = await serve([TELL_OFFICE], {
      WAITER_NOTIFY_CHANNELS: channels,
      WAITER_AUTOMATION_RETRY_SECONDS: "6",
    });
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run).toMatchObject({ status: "done" });
      expect(connections).toBe(3);
      expect(smtp.received).toEqual(["boss@shop.example"]);
    } finally {
      await server.close();
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
      await smtp.close();
    }
  });

  test("an email a stop cut short before the mail server had it is sent at the next start, once", async () => {
    let held: (() => void) | undefined;
    const smtp = await startMailServer({
      onRcptTo(_address, _session, callback) {
        // The first recipient's answer waits for the stop; the server never has that message.
        if (held === undefined) held = callback;
        else callback();
      },
    });
    const { port, received } = smtp;
    const channels = JSON.stringify({ office: mailChannel(port, "boss@shop.example") });
    try {
      const first = await serve([TELL_OFFICE], { WAITER_NOTIFY_CHANNELS: channels, WAITER_STOP_SECONDS: "1" });
      const event = await pay(first, undefined);
      await expect.poll(() => held).toBeDefined();
      await first.close();
      expect(received).toEqual([]);
      const second = await serve([TELL_OFFICE], { WAITER_NOTIFY_CHANNELS: channels });
      try {
        const [run] = await runsOf(event.id);
        expect(run).toMatchObject({ status: "done" });
        expect(received).toEqual(["boss@shop.example"]);
      } finally {
        await second.close();
      }
    } finally {
      held?.();
      await smtp.close();
    }
  });
});

describe("a notification some targets refused for now", () => {
  /** The outcome a run's step `i` recorded: the tool's answer, or why it failed. */
  const outcome = (run: RunRecord | undefined, i = 0) => {
    const detail = JSON.parse(run?.steps[i]?.detail ?? "{}") as { said?: string; error?: string };
    return detail.said ?? detail.error;
  };
  const OTHER = "-100777";
  /** The team's channel with a second chat, which Telegram knows. */
  const twoChats = () =>
    JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT, OTHER], baseUrl: telegram.origin },
    });
  const toChat = (chat: string, from: number) => telegram.delivered.slice(from).filter((m) => m.chat_id === chat);
  /** Telegram asks to wait `seconds` the first time a message goes to `chat`. */
  function limitOnce(chat: string, seconds: number): void {
    let limited = false;
    telegram.intercept = (req) => {
      if (limited || req.method !== "POST" || (JSON.parse(req.body) as { chat_id: string }).chat_id !== chat) return;
      limited = true;
      return tooManyRequests(seconds);
    };
  }
  /**
   * A call of 2 s, half of them to connect however loaded the machine, and Telegram's wait of as
   * long (limitOnce), which never fits in it: the chat is tried again, alone, within the retry time.
   */
  const WAIT_OUTLASTS_CALL = { seconds: 2, env: { WAITER_TOOL_TIMEOUT: "2", WAITER_AUTOMATION_RETRY_SECONDS: "5" } };
  beforeEach(() => {
    telegram.chats.add(OTHER);
    return () => {
      telegram.intercept = undefined;
      telegram.chats.delete(OTHER);
    };
  });

  test("two addresses, one greylisted twice then taking it: each gets it once, and the step names both", async () => {
    let greylisted = 0;
    const smtp = await startMailServer({
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith("accounts") && greylisted++ < 2) {
          callback(Object.assign(new Error("4.7.1 Greylisted, try again later"), { responseCode: 451 }));
        } else callback();
      },
    });
    const channels = JSON.stringify({ office: mailChannel(smtp.port, "boss@shop.example", "accounts@shop.example") });
    // Tries 300 and 600 ms apart: the third is due well within the retry time, however long a
    // loaded machine takes over the first two.
    const server = await serve([TELL_OFFICE], {
      WAITER_NOTIFY_CHANNELS: channels,
      WAITER_AUTOMATION_RETRY_SECONDS: "6",
    });
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("done");
      expect(greylisted).toBe(3);
      expect([...smtp.received].sort()).toEqual(["accounts@shop.example", "boss@shop.example"]);
      expect(outcome(run)).toBe("Sent on office to boss@shop.example, accounts@shop.example.");
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  test("an address refused for good is not tried again and is named; the one refused for now gets it later", async () => {
    const asked: string[] = [];
    let greylisted = 0;
    const smtp = await startMailServer({
      onRcptTo(address, _session, callback) {
        asked.push(address.address);
        if (address.address.startsWith("gone")) {
          callback(Object.assign(new Error("5.1.1 Mailbox unavailable"), { responseCode: 550 }));
        } else if (address.address.startsWith("accounts") && greylisted++ === 0) {
          callback(Object.assign(new Error("4.7.1 Greylisted, try again later"), { responseCode: 451 }));
        } else callback();
      },
    });
    const to = ["gone@shop.example", "accounts@shop.example"];
    const channels = JSON.stringify({ office: mailChannel(smtp.port, ...to) });
    // A next try 300 ms after the first, well within the retry time however long the first takes.
    const server = await serve([TELL_OFFICE], {
      WAITER_NOTIFY_CHANNELS: channels,
      WAITER_AUTOMATION_RETRY_SECONDS: "6",
    });
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("done");
      expect(smtp.received).toEqual(["accounts@shop.example"]);
      expect(asked.filter((a) => a.startsWith("gone"))).toHaveLength(1);
      expect(outcome(run)).toMatch(
        /^Sent on office to accounts@shop\.example\.\nNot confirmed by gone@shop\.example: The mail server refused it \(550 /,
      );
      // The run, not a user, decides: it tries again only those that refused it for now, so those
      // left refused it for good.
      expect(outcome(run)).toMatch(
        /\nIt is not sent again to those that did not confirm it: each refused it for good, or may have it already, as its reason says\. Tell them by hand, if they need it\.$/,
      );
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  test("a chat whose answer says the message may have reached it is not said to have refused it", async () => {
    // A proxy in front of Telegram that gave up on its answer: the message may have been sent.
    telegram.intercept = (req) =>
      req.method === "POST" && (JSON.parse(req.body) as { chat_id: string }).chat_id === OTHER
        ? json(502, JSON.stringify({ ok: false, error_code: 502, description: "Bad Gateway" }))
        : undefined;
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] };
    const server = await serve([tell], { WAITER_NOTIFY_CHANNELS: twoChats() });
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("done");
      expect(outcome(run)).toMatch(
        new RegExp(`^Sent on team to ${CHAT}\\.\nNot confirmed by ${OTHER}: .*may have been sent`),
      );
      expect(outcome(run)).toMatch(
        /\nIt is not sent again to those that did not confirm it: each refused it for good, or may have it already, as its reason says\. Tell them by hand, if they need it\.$/,
      );
    } finally {
      await server.close();
    }
  });

  test("a chat Telegram asks to wait for (429) gets it after the wait; the other chat once, at once", async () => {
    limitOnce(OTHER, WAIT_OUTLASTS_CALL.seconds);
    const sent = telegram.delivered.length;
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }, { ack: true }] };
    const server = await serve([tell], { WAITER_NOTIFY_CHANNELS: twoChats(), ...WAIT_OUTLASTS_CALL.env });
    try {
      const before = clock.now();
      const event = await pay(server, undefined);
      await expect.poll(() => toChat(CHAT, sent)).toHaveLength(1);
      const [run] = await runsOf(event.id);
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done"]);
      expect(toChat(CHAT, sent)).toHaveLength(1);
      expect(toChat(OTHER, sent)).toHaveLength(1);
      expect(clock.now() - before).toBeGreaterThanOrEqual(WAIT_OUTLASTS_CALL.seconds * 1000);
      expect(outcome(run)).toBe(`Sent on team to ${CHAT}, ${OTHER}.`);
    } finally {
      await server.close();
    }
  });

  test("a group upgraded to a supergroup, told at the first try, is still named with where it went once the other chat's 429 is over", async () => {
    const group = "-4012345";
    const supergroup = -1004012345670;
    telegram.chats.add(group);
    telegram.chats.add(String(supergroup));
    telegram.migrated.set(group, supergroup);
    limitOnce(OTHER, WAIT_OUTLASTS_CALL.seconds);
    const channels = JSON.stringify({
      team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [group, OTHER], baseUrl: telegram.origin },
    });
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] };
    const server = await serve([tell], { WAITER_NOTIFY_CHANNELS: channels, ...WAIT_OUTLASTS_CALL.env });
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("done");
      expect(outcome(run)).toBe(
        `Sent on team to ${group} (upgraded to supergroup ${supergroup}, where it went), ${OTHER}.`,
      );
    } finally {
      await server.close();
      telegram.migrated.delete(group);
      telegram.chats.delete(group);
      telegram.chats.delete(String(supergroup));
    }
  });

  test("a restart while a chat's wait is not over sends to it at the next start, and not again to the chat that has it", async () => {
    limitOnce(OTHER, 60);
    const sent = telegram.delivered.length;
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }, { ack: true }] };
    const extra = { WAITER_NOTIFY_CHANNELS: twoChats(), WAITER_AUTOMATION_RETRY_SECONDS: "120" };
    const first = await serve([tell], extra);
    const event = await pay(first, undefined);
    await expect.poll(async () => (await runsOf(event.id, false))[0]?.steps.map((s) => s.status)).toEqual(["refused"]);
    await first.close();
    expect(toChat(CHAT, sent)).toHaveLength(1);
    expect(toChat(OTHER, sent)).toHaveLength(0);
    setClock(clock.now() + 61_000);
    const second = await serve([tell], extra);
    try {
      const [run] = await runsOf(event.id);
      expect(run?.steps.map((s) => s.status)).toEqual(["done", "done"]);
      expect(toChat(CHAT, sent)).toHaveLength(1);
      expect(toChat(OTHER, sent)).toHaveLength(1);
      expect(outcome(run)).toBe(`Sent on team to ${CHAT}, ${OTHER}.`);
    } finally {
      await second.close();
      setClock(clock.now() - 61_000);
    }
  });

  test("a stop while notify_send waits out one chat's 429 sends to that chat at the next start, and not again to the other", async () => {
    // Five seconds fit in a call: notify_send waits them out itself, and the stop cuts that wait.
    limitOnce(OTHER, 5);
    const sent = telegram.delivered.length;
    const tell = { name: "tell", when: { source: "stripe" }, do: [{ notify: "team", text: "Paid" }] };
    const lines: string[] = [];
    const first = await serve([tell], { WAITER_NOTIFY_CHANNELS: twoChats() }, lines);
    const event = await pay(first, undefined);
    await expect.poll(() => lines.join("")).toContain(`asked for 5 s without messages to chat ${OTHER} (429)`);
    await first.close();
    expect((await runsOf(event.id, false))[0]?.steps.map((s) => s.status)).toEqual(["refused"]);
    const second = await serve([tell], { WAITER_NOTIFY_CHANNELS: twoChats() });
    try {
      const [run] = await runsOf(event.id);
      expect(run?.status).toBe("done");
      expect(toChat(CHAT, sent)).toHaveLength(1);
      expect(toChat(OTHER, sent)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  test("an address still refused for now when the retry time is over fails the run, naming who has it and who has not, to onFailure too", async () => {
    const smtp = await startMailServer({
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith("accounts")) {
          callback(Object.assign(new Error("4.2.1 Mailbox busy"), { responseCode: 450 }));
        } else callback();
      },
    });
    const channels = JSON.parse(twoChats()) as Record<string, object>;
    channels.office = mailChannel(smtp.port, "boss@shop.example", "accounts@shop.example");
    const sent = telegram.delivered.length;
    // The failure's notice too reaches a chat Telegram asks to wait for once, and the other once.
    limitOnce(OTHER, WAIT_OUTLASTS_CALL.seconds);
    const told = { ...TELL_OFFICE, onFailure: { notify: "team" } };
    const server = await serve([told], { WAITER_NOTIFY_CHANNELS: JSON.stringify(channels), ...WAIT_OUTLASTS_CALL.env });
    try {
      const event = await pay(server, undefined);
      const [run] = await runsOf(event.id);
      const why =
        /Sent on office to boss@shop\.example; not confirmed by accounts@shop\.example: The mail server refused it for now \(450 [^)]*\): not sent\. waiter tried it \d+ times; a next try would come after the retry time \(WAITER_AUTOMATION_RETRY_SECONDS, 5 s\), so it is not tried again\.$/;
      expect(run?.status).toBe("failed");
      expect(run?.error).toMatch(new RegExp(`^step 1 \\(notify_send\\): ${why.source}`));
      expect(smtp.received).toEqual(["boss@shop.example"]);
      await expect.poll(() => toChat(CHAT, sent)).toHaveLength(1);
      expect(toChat(CHAT, sent)[0]?.text).toMatch(
        new RegExp(
          `^waiter: automation office failed on the delivery “evt_\\d+” from stripe\\.\n.* Step 1 \\(notify_send, channel “office”, text “Paid”\\) failed: ${why.source}`,
        ),
      );
      await expect.poll(() => toChat(OTHER, sent)).toHaveLength(1);
      expect(toChat(OTHER, sent)[0]?.text).toBe(toChat(CHAT, sent)[0]?.text);
      expect(toChat(CHAT, sent)).toHaveLength(1);
    } finally {
      await server.close();
      await smtp.close();
    }
  });
});

/**
 * How long the notices of a burst take to arrive while Telegram asks to wait: each message after
 * the first waits out whole seconds of real time, the 1 s pace waiter keeps after a wait is
 * refused again by the fake's stricter one and waits once more, and on a loaded machine each try
 * between those waits takes seconds of its own.
 */
const TELEGRAM_WAITS_MS = 60_000;

describe("a burst of notices to one chat", () => {
  test(
    "more than Telegram takes at once (429 with retry_after) all arrive, in order, none given up",
    async () => {
      // Scaled down from Telegram's 20 messages a minute in a group, whose wait is longer than a tool
      // call's time: 1 in 4 s, and a second to each call.
      telegram.pace = { messages: 1, ms: 4_000 };
      const server = await serve([TELL], { WAITER_AUTOMATION_RETRY_SECONDS: "600", WAITER_TOOL_TIMEOUT: "1" });
      const moved = 1_100;
      try {
        const sent = telegram.delivered.length;
        const deliveries = Array.from({ length: 3 }, () => `evt_burst_${nextSequence()}`);
        const [first, second, third] = deliveries as [string, string, string];
        await pay(server, undefined, first);
        await expect.poll(() => telegram.delivered.length - sent).toBe(1);
        // Refused (429: 4 s) as the first has just been sent: its run waits for its next try.
        const waits = await pay(server, undefined, second);
        await expect.poll(async () => (await runsOf(waits.id, false))[0]?.steps[0]?.status).toBe("refused");
        // The next order comes a second later, while Telegram's wait holds the chat: told to wait
        // what is left of it, 3 s rounded up, it would be sent before the second.
        setClock(clock.now() + moved);
        await pay(server, undefined, third);
        await expect
          .poll(() => telegram.delivered.length - sent, { timeout: TELEGRAM_WAITS_MS, interval: 200 })
          .toBeGreaterThanOrEqual(3);
        expect(telegram.delivered.slice(sent).map((m) => m.text)).toEqual(
          deliveries.map((delivery) => `Paid without an order: “pi_${delivery}”`),
        );
      } finally {
        telegram.pace = undefined;
        setClock(clock.now() - moved);
        await server.close();
      }
    },
    TELEGRAM_WAITS_MS + 30_000,
  );
});

describe("failures of one automation told while Telegram asks to wait", () => {
  test(
    "each keeps its own turn, named by its run, and all arrive",
    async () => {
      telegram.pace = { messages: 1, ms: 3_000 };
      const lines: string[] = [];
      const server = await serve(
        [{ ...PAID, onFailure: { notify: "team" } }],
        { WAITER_AUTOMATION_RETRY_SECONDS: "600", WAITER_TOOL_TIMEOUT: "1" },
        lines,
      );
      try {
        const sent = telegram.delivered.length;
        // Orders the shop does not have: each run fails, and its notice goes to the one chat.
        const deliveries = ["evt_weekend_1", "evt_weekend_2", "evt_weekend_3"].map((d) => `${d}_${nextSequence()}`);
        const events = [];
        for (const delivery of deliveries) events.push(await pay(server, "999999", delivery));
        const runs = (await Promise.all(events.map(async (event) => (await runsOf(event.id))[0]?.id))).map(Number);
        // Those told to wait for their turns wait each under its own run's name.
        const waited = () =>
          lines.flatMap((line) => /telling run (\d+)'s failure: notify_send failed/.exec(line)?.[1] ?? []).map(Number);
        await expect.poll(() => waited().length).toBeGreaterThan(0);
        expect(runs).toEqual(expect.arrayContaining(waited()));
        await expect
          .poll(() => telegram.delivered.length - sent, { timeout: TELEGRAM_WAITS_MS, interval: 200 })
          .toBeGreaterThanOrEqual(3);
        // Each arrives, once: the one the chat took at once, if any, then the others in the order the
        // wait refused them, each in the turn it kept.
        const refused = [...new Set(waited())];
        const delivery = (run: number) => deliveries[runs.indexOf(run)];
        const first = runs.filter((run) => !refused.includes(run));
        expect(first.length).toBeLessThanOrEqual(1);
        expect(telegram.delivered.slice(sent).map((m) => /evt_weekend_\d_\d+/.exec(m.text)?.[0])).toEqual(
          [...first, ...refused].map(delivery),
        );
      } finally {
        telegram.pace = undefined;
        await server.close();
      }
    },
    TELEGRAM_WAITS_MS + 30_000,
  );
});

describe("the log of a failure told", () => {
  test("the lines notify_send and Telegram's wait write while telling it name its run", async () => {
    const lines: string[] = [];
    const server = await serve([{ ...PAID, onFailure: { notify: "team" } }], {}, lines);
    try {
      const sent = telegram.delivered.length;
      telegram.queue.push(tooManyRequests(1));
      const event = await pay(server, "999999", `evt_told_named_${nextSequence()}`);
      await expect.poll(() => telegram.delivered.length - sent).toBe(1);
      const [run] = await runsOf(event.id);
      const named = `for automation stripe-paid, telling run ${run?.id}'s failure`;
      await expect
        .poll(() => lines.filter((line) => /asked for 1 s without messages|notify team/.test(line)))
        .toEqual([
          expect.stringContaining(`Telegram Bot API asked for 1 s without messages to chat ${CHAT} (429) ${named};`),
          expect.stringContaining(`notify team ${named}: sent to ${CHAT}`),
        ]);
    } finally {
      await server.close();
    }
  });
});

describe("a payload's text in a notice", () => {
  test("an @name a customer wrote mentions no one in the team's chat, and reads as written in an email; the author's own, quoted too, still mentions", async () => {
    const smtp = await startMailServer();
    const note = (channel: string) => ({
      name: `note-${channel}`,
      when: { source: "stripe", type: "payment_intent.succeeded" },
      do: [{ notify: channel, text: "“@shop_owner”: a payment says {{payload.data.object.description}}" }],
    });
    const server = await serve([note("team"), note("office")], {
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [CHAT], baseUrl: telegram.origin },
        office: mailChannel(smtp.port, "boss@shop.example"),
      }),
    });
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, undefined, `evt_mention_${nextSequence()}`, {
        description: "@admin please call jan@shop.example (@Boss_1)",
      });
      expect((await runsOf(event.id)).map((run) => run.status)).toEqual(["done", "done"]);
      expect(telegram.delivered.slice(sent).map((m) => m.text)).toEqual([
        "“@shop_owner”: a payment says “@\u2060admin please call jan@shop.example (@\u2060Boss_1)”",
      ]);
      expect(smtp.messages.map(mailText)).toEqual([
        "“@shop_owner”: a payment says “@admin please call jan@shop.example (@Boss_1)”",
      ]);
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  test("an @name the shop's answer repeats from the event mentions no one in the failure's notice; the author's in the step's arguments still mentions", async () => {
    // A plugin refusing the note says why in its own words, the note's text in them.
    woo.intercept = (req) =>
      req.method === "POST" && req.path.endsWith("/notes")
        ? json(400, '{"code":"note_refused","message":"Note @admin please call refused","data":{"status":400}}')
        : undefined;
    const server = await serve([
      {
        name: "note",
        when: { source: "stripe", type: "payment_intent.succeeded" },
        // The author's own @name too, shown with the step's arguments.
        do: [
          { tool: "eshop_order_add_note", args: { id: 1, note: "@shop_owner: {{payload.data.object.description}}" } },
        ],
        onFailure: { notify: "team" },
      },
    ]);
    try {
      const sent = telegram.delivered.length;
      const event = await pay(server, undefined, `evt_mention_${nextSequence()}`, {
        description: "@admin please call",
      });
      expect((await runsOf(event.id)).map((run) => run.status)).toEqual(["failed"]);
      await expect.poll(() => telegram.delivered.length - sent).toBe(1);
      const told = telegram.delivered.at(-1)?.text ?? "";
      expect(told).toContain('"Note @\u2060admin please call refused"');
      // The author's @name, in the arguments shown, mentions as the author wrote it; no other does.
      expect(told).toContain("@shop_owner: @\u2060admin please call");
      expect(told.replaceAll("@shop_owner", "")).not.toMatch(/(^|[^\p{L}\p{N}_])@(?=[\p{L}\p{N}_])/u);
    } finally {
      woo.intercept = undefined;
      await server.close();
    }
  });
});
