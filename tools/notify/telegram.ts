import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { DeadlinePassed, loggedWords, UnconfirmedChange, UpstreamError } from "../../src/errors.js";
import type { WaitLog } from "../../src/events/store.js";
import { eitherSignal, stoppedBeforeDeadline, untilAborted } from "../../src/http/deadline.js";
import { accessLogin, challenged, retryAfterSeconds, signInAt } from "../../src/http/failures.js";
import type { Call, ErrorMapper, HttpResponse } from "../../src/http/types.js";
import type { Upstream } from "../../src/http/upstream.js";
import { cutCodePoints, oneLine } from "../../src/shown.js";
import { clock, lessAgoThan } from "../../src/time.js";
import type { ToolCall } from "../../src/toolset.js";
import { forWhom, type Sender } from "./sender.js";

/** Telegram's error envelope: {"ok":false,"error_code":400,"description":"Bad Request: chat not found"}. */
const failure = z.object({
  ok: z.literal(false),
  description: z.string().default(""),
  parameters: z.object({ retry_after: z.number().optional(), migrate_to_chat_id: z.number().optional() }).optional(),
});
const sent = z.object({ ok: z.literal(true), result: z.object({ message_id: z.number() }) });

/** Telegram's refusal, its description on one line: it is told to models, people and the log. */
function refusal(response: HttpResponse): z.infer<typeof failure> | undefined {
  try {
    const answer = failure.parse(JSON.parse(response.text));
    return { ...answer, description: oneLine(answer.description) };
  } catch {
    return undefined;
  }
}

/**
 * Seconds a 429 asks to wait: Telegram's retry_after (from its refusal, read once), else a
 * Retry-After header (a proxy's).
 */
function retryAfter(response: HttpResponse, answer = refusal(response)): number | undefined {
  return answer?.parameters?.retry_after ?? retryAfterSeconds(response);
}

/**
 * Every answer that is not a 2xx, in Telegram's own words or by its status alone: never the
 * general wording, which may quote the request's path or a redirect's, and the path carries the
 * bot token. A 401 or 404 is the token's only in Telegram's words; else a page of what answers at the
 * base URL. Only a refused sendMessage is worded as a message not taken. A 429 carries the wait
 * Telegram asks for. A 5xx to a message sent may have come after Telegram took it (a proxy that
 * gave up on Telegram's answer). A redirect to a single sign-on's login (in front of a self-hosted
 * Bot API) is told by the login's address alone, which does not carry the token; Cloudflare's
 * challenge in front of one, as no chat's refusal.
 */
export const telegramErrors: ErrorMapper = (response, upstream, urlSetting) => {
  const signIn = signInAt(response) ?? accessLogin(response);
  if (signIn) {
    // The token is in the path, which no sign-on reads: it is no credential to check there.
    return new UpstreamError(
      `${upstream} answered ${response.status}: it sends waiter to sign in at ${signIn}, a page for a person in a browser: a single sign-on in front of the Bot API turned the request away${response.changes ? ", so the message was not sent" : ""}; ask whoever runs it to let waiter's requests by (an exception for this machine's address or the Bot API's path), or check ${urlSetting}.`,
      response.status,
    );
  }
  if (challenged(response)) {
    // Cloudflare's page in front of a self-hosted Bot API: its 403 is no chat's refusal of the bot.
    return new UpstreamError(
      `${upstream} answered ${response.status}: Cloudflare in front of the Bot API answered with a challenge for a browser to solve, which waiter cannot${response.changes ? ", so the message was not sent" : ""}; ask whoever runs it to let waiter's requests skip the challenge (a WAF skip rule for this machine's address or the Bot API's path).`,
      response.status,
    );
  }
  const answer = refusal(response);
  // Not the Bot API's refusal, which always comes in its JSON: a page of what answers at the base URL,
  // which did not read the token, nor refused a chat.
  if (response.status === 403 && !answer) {
    return new UpstreamError(
      `${upstream} answered 403 with a page that is not the Bot API's: something in front of it (a firewall, a proxy) does not let this machine's requests by${response.changes ? ", so the message was not sent" : ""}; tell whoever runs it, or check ${urlSetting}.`,
      response.status,
    );
  }
  if ((response.status === 401 || response.status === 404) && !answer) {
    const there =
      response.status === 401
        ? "something in front of it (a proxy, a gateway) asks for credentials of its own, not the bot token"
        : "no Bot API answers at that address";
    return new UpstreamError(
      `${upstream} answered ${response.status} with a page that is not the Bot API's: ${there}; check ${urlSetting}.`,
      response.status,
    );
  }
  const said = answer?.description ? `: ${answer.description}` : "";
  if (response.status >= 500 && response.changes) {
    return new UnconfirmedChange(
      `${upstream} answered ${response.status}${said}: the message may have been sent, and sending it again may send it twice.`,
      undefined,
      response.status,
    );
  }
  if (response.status === 401 || response.status === 404) {
    return new UpstreamError(
      `${upstream} refused the bot token (${response.status}${said}); check the variable the channel's botTokenEnv names, then restart waiter, which reads it only as it starts.`,
      response.status,
    );
  }
  const wait = response.status === 429 ? retryAfter(response, answer) : undefined;
  const advice = wait !== undefined && !said ? `; try again in ${wait} s` : chatAdvice(response.status, answer);
  // Only sendMessage changes anything; getMe, getChat and getChatMember, the check at start, send no message.
  const answered = response.changes
    ? `did not take the message (${response.status}${said})`
    : `answered ${response.status}${said}`;
  return new UpstreamError(`${upstream} ${answered}${advice}.`, response.status, wait);
};

/**
 * What to change when Telegram refuses a chat (with its refusal's leading "; "), or "": of chat
 * `chatId` among `chatIds`, where they are known.
 */
function chatAdvice(
  status: number,
  answer: z.infer<typeof failure> | undefined,
  chatId?: string,
  chatIds: readonly string[] = [],
): string {
  const moved = answer?.parameters?.migrate_to_chat_id;
  if (moved !== undefined && lists(chatIds, moved)) {
    return `; the group is now chat ${moved}, which chatIds lists too: take ${chatId} out of the channel's chatIds`;
  }
  if (moved !== undefined) return `; the group is now chat ${moved}: put that id in the channel's chatIds`;
  const said = answer?.description ?? "";
  if (status === 403) {
    // A bot writes to a person only after they started it: nothing to unblock.
    if (/can't initiate conversation/i.test(said)) {
      return "; the person must open the bot in Telegram and press Start first (a bot cannot write first), or the chat must leave chatIds";
    }
    // A deleted account or group: no one can unblock the bot or add it again.
    if (/deactivated|was deleted/i.test(said)) return "; the account or chat no longer exists: take it out of chatIds";
    if (/can't send messages to bots/i.test(said)) {
      return "; the chat is a bot's, which no bot can write to (the number before the colon in a bot token is that bot's id): take it out of chatIds, and list the people, groups or channels to tell";
    }
    return "; a person must unblock the bot, a group or channel must add it again, or the chat must leave chatIds";
  }
  // A channel posts only through its administrators with the right to; a group may let no member post.
  if (/need administrator rights/i.test(said)) {
    return "; make the bot an administrator of the channel with the right to post messages";
  }
  if (/not enough rights|have no rights|no write access/i.test(said)) {
    return "; the chat does not let the bot post: in a group, an administrator must let members send messages or make the bot an administrator; in a channel, make it an administrator with the right to post messages";
  }
  if (/message thread not found/i.test(said)) {
    return "; check the channel's topicId, which the chat has no topic by (a topic's id is the last number in a link to it, t.me/c/…/<topicId>), or list a chat without topics in a channel without topicId";
  }
  // A forum's closed topic, the channel's or the General one, takes no message from the bot.
  if (/TOPIC_CLOSED/.test(said)) {
    return "; the forum's topic it goes to (the channel's topicId, else the General topic) is closed: an administrator must reopen it, or topicId name an open one";
  }
  if (/chat not found/i.test(said)) return chatNotFound(chatId);
  return "";
}

/**
 * What to check of a chat Telegram does not find, by what its id or @name says it is, where known:
 * Telegram takes the @name of a public group or channel only, never a person's; a person's number
 * only once they wrote to the bot; a supergroup's or channel's id is -(10^12 + its own number), not
 * that number (t.me/c/<number>, Telegram Web K's #-<number>).
 */
function chatNotFound(chatId?: string): string {
  const check = "; check the id in the channel's chatIds";
  const supergroup = "a supergroup's or channel's begins with -100 and has 13 digits";
  if (chatId === undefined) {
    return `${check} (${supergroup}; an @name reaches only a public group or channel), that the bot is a member of the group or channel, and that a person wrote to the bot first`;
  }
  if (chatId.startsWith("@")) {
    return "; check the @name in the channel's chatIds: an @name reaches only a public group or channel the bot is a member of, not a person, whom chatIds lists by their number";
  }
  if (!chatId.startsWith("-")) {
    const person = `${check}: the bot reaches a person only once they have written to it (opened it in Telegram and pressed Start)`;
    // Ten digits may be a supergroup's or channel's own number as its link shows it, without the -100.
    return /^\d{10}$/.test(chatId)
      ? `${person}, and a supergroup or channel by -100 and the number in its t.me/c/… link, -100${chatId}`
      : person;
  }
  if (/^-100\d{10}$/.test(chatId)) return `${check}, and that the bot is a member of the group or channel`;
  return `${check} (${supergroup}), and that the bot is a member of the group`;
}

/** The characters MarkdownV2 reserves, each sent escaped so the text shows as written. */
const RESERVED = /[_*[\]()~`>#+\-=|{}.!\\]/g;

export function escapeMarkdownV2(text: string): string {
  return text.replace(RESERVED, "\\$&");
}

/**
 * The text with no mention in the event's texts an automation quoted in it, between “ and ”
 * (`quoted`: its own double quotes made straight; one the text's cut left open runs to the cut's …,
 * which may end the text or come before the line that says it is told late), or anywhere when
 * `quoted` holds the whole text. Telegram reads an @ that begins a word as a mention of that
 * @username: a customer's note ("@admin please") would notify that person in the team's group. A
 * word joiner after the @, which no one sees, leaves it none; an email address's @ is within a
 * word, and an @name the text's author wrote, quoted or not, still mentions. A text quoted whole
 * (a failed run's notice) mentions only the @names in `authored`, what its automation's author wrote,
 * in any case, as Telegram reads an @username.
 */
function quotedWithoutMentions(text: string, quoted: readonly string[], authored: readonly string[] = []): string {
  // Made whole as the text is, so that a stranger's lone surrogate does not set a quote apart from it.
  const theirs = quoted.map((q) => q.toWellFormed());
  if (theirs.includes(text)) {
    const meant = new Set(
      authored.flatMap((words) => [...words.matchAll(NAMED_MENTION)].map(([, , name]) => name?.toLowerCase())),
    );
    return text.replace(NAMED_MENTION, (mention, before: string, name: string) =>
      meant.has(name.toLowerCase()) ? mention : `${before}@\u2060${name}`,
    );
  }
  return text.replace(/“[^“”]*(?:”|$)/g, (quote) => {
    // One the cut left open ends at the cut's …, which the line of a text told late may follow.
    const end = quote.lastIndexOf("…");
    const cut = quote.endsWith("”") ? undefined : end === -1 ? quote : quote.slice(0, end);
    const quotesTheirs = theirs.some((q) => (cut === undefined ? q === quote : q.startsWith(cut)));
    return quotesTheirs ? quote.replace(MENTION, "$1@\u2060") : quote;
  });
}

const MENTION = /(^|[^\p{L}\p{N}_])@(?=[\p{L}\p{N}_])/gu;

/** An @ that begins a word, as MENTION, and the name after it. */
const NAMED_MENTION = /(^|[^\p{L}\p{N}_])@([\p{L}\p{N}_]+)/gu;

/** The most characters sendMessage takes, after its entities are parsed: MarkdownV2's escapes are not counted. */
const MAX_SENT = 4096;

/** Whether `chatIds` lists chat `id`, written either way sameChat reads. */
function lists(chatIds: readonly string[], id: string | number): boolean {
  return chatIds.some((listed) => sameChat(listed) === sameChat(String(id)));
}

/**
 * A chat as Telegram tells chats apart: a public channel's or group's @name in any case is one
 * chat (@Shop_News is @shop_news), an id is itself.
 */
export function sameChat(chatId: string): string {
  return chatId.startsWith("@") ? chatId.toLowerCase() : chatId;
}

/**
 * Per bot and chat, when Telegram last answered 429 and how many ms it asked to wait: every message
 * to that chat meanwhile, another session's or automation run's, on any channel, would be refused
 * too, and sending during a flood wait is what makes Telegram lengthen it. `next` is when the next
 * message held by it may go: each takes its turn a second after the one before (PACE_MS), so that
 * those held do not all go at once when the wait is over and draw the next 429.
 */
export type FloodWaits = Map<string, FloodWait>;
export interface FloodWait {
  at: number;
  ms: number;
  next: number;
  /**
   * The turns kept for messages refused for now, by the automation's call that sends them (its
   * `caller`: run and step, or failure notice), in the order they came: each comes back for its own
   * (it sends again when told), so that a burst of them goes in the order it came, however the
   * seconds they were told to wait round; its text may have changed meanwhile (told late). `passed`:
   * when a turn carried into a later wait had first come without its message.
   */
  kept: { caller: string; at: number; passed?: number }[];
}

/**
 * How long after its time first came a turn kept for a message refused for now is still kept for
 * it: a message that never comes back (its run's retry time ran out) holds later ones back no longer.
 */
const KEPT_MS = 60_000;

/**
 * The time between two messages to one chat held by a flood wait: Telegram's Bot FAQ asks for no
 * more than one message a second in a chat.
 */
const PACE_MS = 1_000;

/**
 * How long a message waits for the event store to say whether another waiter heard a flood wait,
 * or to keep one this one heard: a database gone silent would hold it for its query's timeout,
 * past the call's.
 */
const STORE_MS = 1_000;

/** The store's answer, or its failure, in words: one not given within STORE_MS too. */
async function askStore<T>(asking: Promise<T>): Promise<T> {
  try {
    return await untilAborted(asking, AbortSignal.timeout(STORE_MS));
  } catch (err) {
    throw new Error(
      (err as Error).name === "TimeoutError" ? `it did not answer within ${STORE_MS / 1000} s` : loggedWords(err),
    );
  }
}

/**
 * Gives the turns `from` kept for messages refused for now turns in the wait `into`, after those it
 * holds, in their order: each but one whose time first came over KEPT_MS ago.
 */
function carry(from: FloodWait | undefined, into: FloodWait): void {
  for (const k of from?.kept ?? []) {
    const passed = k.at > clock.now() ? k.passed : (k.passed ?? k.at);
    if (passed === undefined || lessAgoThan(passed, KEPT_MS)) {
      into.kept.push({ caller: k.caller, at: into.next, ...(passed === undefined ? {} : { passed }) });
      into.next += PACE_MS;
    }
  }
}

/**
 * Waits `ms`, or less when the call ends or waiter begins to stop: whether it waited it all. A wait
 * holds no stop, which gives calls under way time for their answers: nothing is being sent.
 */
async function waitOut(ms: number, call: ToolCall): Promise<boolean> {
  const { signal, end } = eitherSignal(call.signal, call.stopping);
  try {
    return await sleep(ms, true, { signal }).catch(() => false);
  } finally {
    end();
  }
}

/**
 * Sends through the Bot API's sendMessage. A 429 says how long to wait (`retry_after`); the
 * message was not sent, so it is sent again after that wait when the call's deadline leaves room
 * to send it after, and no other message goes to that chat before then; the messages held by a
 * wait go when it is over, one a second. With `topicId`, each message goes to that topic of a
 * forum (a supergroup with topics), else to its General topic. With `waits`, the event store's, a
 * wait is kept there too, and one another waiter on the store heard holds this one's messages alike.
 */
export function telegramSender(
  api: Upstream,
  token: string,
  format: "text" | "markdownv2",
  floodWaits: FloodWaits = new Map(),
  topicId?: number,
  /** The channel's chats: a supergroup among them is sent to as itself, not again for its old group. */
  chatIds: readonly string[] = [],
  waits?: WaitLog,
): Sender {
  // The bot's id, before the token's colon: Telegram's wait is the bot's in a chat, and the token is no key to keep.
  const bot = token.slice(0, token.indexOf(":"));
  return {
    async send(chatId: string, text: string, call: ToolCall): Promise<string | undefined> {
      /** The chat it goes to: `chatId`, or the supergroup Telegram says that group was upgraded to. */
      let to = chatId;
      const floodKey = () => `${api.baseUrl.href} ${token} ${sameChat(to)}`;
      const storeKey = () => `telegram bot ${bot} chat ${sameChat(to)}`;
      /** The flood wait this message holds a turn in, once it has taken one. */
      let turn: FloodWait | undefined;
      /** Whether the store failed to answer for this message: asked again, it would hold it past its turn. */
      let storeFailed = false;
      /** Takes up the chat's wait another waiter on the store heard, where it ends after any this one knows. */
      const heardElsewhere = async () => {
        if (storeFailed) return;
        let kept: { at: number; until: number } | undefined;
        try {
          kept = waits && (await askStore(waits.held(storeKey(), clock.now())));
        } catch (err) {
          storeFailed = true;
          call.log.warning(
            `the event store could not be asked whether another waiter heard ${api.name} ask chat ${to} to wait (429); the message${forWhom(call)} is sent all the same: ${(err as Error).message}`,
          );
          return;
        }
        const known = floodWaits.get(floodKey());
        if (!kept || (known && known.at + known.ms >= kept.until)) return;
        const flood: FloodWait = { at: kept.at, ms: kept.until - kept.at, next: kept.until, kept: [] };
        carry(known, flood);
        floodWaits.set(floodKey(), flood);
      };
      /** Keeps in the store the wait this message heard, once its turns are given: no other waiter sends into it. */
      const keptInStore = async (flood: FloodWait) => {
        if (!waits) return;
        await askStore(waits.hold(storeKey(), flood.at, flood.at + flood.ms)).catch((err: Error) =>
          call.log.warning(
            `the event store could not keep ${api.name}'s wait on chat ${to} (429), so another waiter on it may send into it: ${err.message}`,
          ),
        );
      };
      /** Waits for this message's turn while a flood wait holds the chat; throws when it cannot. */
      const held = async () => {
        for (;;) {
          await heardElsewhere();
          const flood = floodWaits.get(floodKey());
          if (!flood || flood === turn) return;
          // The turn it was given as it was refused for now, or the next one.
          const keptAt = call.notified ? flood.kept.findIndex((k) => k.caller === call.caller) : -1;
          const [kept] = keptAt === -1 ? [] : flood.kept.splice(keptAt, 1);
          // Its turn has come, unless a 429 heard meanwhile asked for a new wait.
          if (!kept && !lessAgoThan(flood.at, flood.next - flood.at)) return;
          const at = kept?.at ?? flood.next;
          const left = at - clock.now();
          if (left <= 0) return;
          if (clock.now() + left + api.roomMs >= call.deadline) {
            if (keep(flood, at) && !kept) flood.next += PACE_MS;
            const seconds = Math.ceil(left / 1000);
            throw new UpstreamError(
              `${api.name} did not take the message (429: it asked for ${Math.ceil(flood.ms / 1000)} s without messages to this chat, and sending during them makes the wait longer; nothing was sent); try again in ${seconds} s.`,
              429,
              seconds,
            );
          }
          if (!kept) flood.next += PACE_MS;
          turn = flood;
          // Cut short (the call cancelled, waiter stopping), nothing was sent.
          const waited = await waitOut(left, call);
          if (!waited) {
            keep(flood, at);
            const seconds = Math.max(1, Math.ceil((at - clock.now()) / 1000));
            throw new UpstreamError(
              `Not sent: the call ended while ${api.name} asked to wait (429: ${Math.ceil(flood.ms / 1000)} s without messages to this chat); try again in ${seconds} s.`,
              429,
              seconds,
            );
          }
        }
      };
      /**
       * Keeps this message's turn, at `at`, for its next try, when an automation sends it (`notified`),
       * which tries again when told: those after it keep theirs after it. An assistant told to try
       * again may not, and would hold every later message back a turn.
       */
      const keep = (flood: FloodWait, at: number): boolean => {
        if (!call.notified || call.caller === undefined) return false;
        const after = flood.kept.findIndex((k) => k.at > at);
        flood.kept.splice(after === -1 ? flood.kept.length : after, 0, { caller: call.caller, at });
        return true;
      };
      // Telegram refuses a text that is not UTF-8 whole ("text must be encoded in UTF-8"); a mail
      // client shows such a half as �, and so does the chat.
      const shown = text.toWellFormed();
      // A word joiner after each @ quoted makes the text longer than the text notify_send took.
      const unmentioned = cutCodePoints(
        call.quoted ? quotedWithoutMentions(shown, call.quoted, call.authored) : shown,
        MAX_SENT,
      );
      const body = () =>
        JSON.stringify({
          chat_id: to,
          ...(topicId === undefined ? {} : { message_thread_id: topicId }),
          text: format === "markdownv2" ? escapeMarkdownV2(unmentioned) : unmentioned,
          ...(format === "markdownv2" ? { parse_mode: "MarkdownV2" } : {}),
          link_preview_options: { is_disabled: true },
        });
      for (;;) {
        await held();
        const response = await api.send(
          `/bot${token}/sendMessage`,
          { method: "POST", headers: { "content-type": "application/json" }, body: body() },
          call,
        );
        // A group upgraded to a supergroup took its members and the bot there: the message goes
        // to the supergroup, once, and the operator is told the id to put in chatIds.
        const answer = to === chatId && response.status === 400 ? refusal(response) : undefined;
        const moved = answer?.parameters?.migrate_to_chat_id;
        if (moved !== undefined && lists(chatIds, moved)) {
          const advice = chatAdvice(400, answer, chatId, chatIds);
          throw new UpstreamError(`${api.name} did not take the message (400)${advice}.`, 400);
        }
        if (moved !== undefined) {
          to = String(moved);
          continue;
        }
        // What to check of a chat not found depends on the chat, which the error mapper does not know.
        if (answer && /chat not found/i.test(answer.description)) {
          throw new UpstreamError(
            `${api.name} did not take the message (400: ${answer.description})${chatAdvice(400, answer, to, chatIds)}.`,
            400,
          );
        }
        const asked = response.status === 429 ? retryAfter(response) : undefined;
        // At least a second: a retry_after of 0 must not turn into a burst.
        const wait = asked === undefined ? undefined : Math.max(1, asked);
        const flood: FloodWait | undefined =
          wait === undefined
            ? undefined
            : { at: clock.now(), ms: wait * 1000, next: clock.now() + wait * 1000, kept: [] };
        const before = floodWaits.get(floodKey());
        // Sent as another message heard a wait (both went at once), it was refused within that wait
        // (its end told in whole seconds, so up to one later): it queues after the turns that wait
        // holds, as one held by it would, and those waiting in place for theirs keep them.
        if (
          flood !== undefined &&
          before !== undefined &&
          before !== turn &&
          lessAgoThan(before.at, before.next - before.at) &&
          flood.next <= before.at + before.ms + 1000
        ) {
          before.next = Math.max(before.next, flood.next);
          continue;
        }
        if (flood) floodWaits.set(floodKey(), flood);
        // The message Telegram refused goes first once the wait is over; those held meanwhile after it,
        // and those refused for now before it, in their order, after them.
        if (flood && clock.now() + flood.ms + api.roomMs < call.deadline) {
          call.log.info(
            `${api.name} asked for ${wait} s without messages to chat ${to} (429)${forWhom(call)}; sending it then`,
          );
          turn = flood;
          flood.next += PACE_MS;
          carry(before, flood);
          await keptInStore(flood);
          // Cut short (the call cancelled, waiter stopping), nothing was sent: the wait left is told,
          // not the whole one Telegram asked for before it. The time the store took is part of the wait.
          const waited = await waitOut(Math.max(0, flood.at + flood.ms - clock.now()), call);
          if (!waited) {
            const left = Math.max(1, Math.ceil((flood.at + flood.ms - clock.now()) / 1000));
            throw new UpstreamError(
              `Not sent: the call ended while ${api.name} asked to wait (429: ${wait} s without messages to this chat); try again in ${left} s.`,
              429,
              left,
            );
          }
          continue;
        }
        if (flood) {
          // Refused for now, it is sent again when the wait is over, first.
          if (keep(flood, flood.next)) flood.next += PACE_MS;
          carry(before, flood);
          await keptInStore(flood);
        }
        api.read(sent, response);
        if (to === chatId) return undefined;
        call.log.warning(
          `${api.name} says group ${chatId} was upgraded to a supergroup, chat ${to}, and the message${forWhom(call)} went there: put that id in the channel's chatIds`,
        );
        return `upgraded to supergroup ${to}, where it went`;
      }
    },
  };
}

const bot = z.object({ ok: z.literal(true), result: z.object({ id: z.number(), username: z.string().optional() }) });
const chat = z.object({
  ok: z.literal(true),
  result: z.object({
    id: z.number(),
    type: z.string().optional(),
    is_forum: z.boolean().optional(),
    permissions: z.object({ can_send_messages: z.boolean().optional() }).optional(),
  }),
});
const memberCount = z.object({ ok: z.literal(true), result: z.number() });
const member = z.object({
  ok: z.literal(true),
  result: z.object({
    status: z.string(),
    is_member: z.boolean().optional(),
    can_post_messages: z.boolean().optional(),
    can_send_messages: z.boolean().optional(),
  }),
});

/** A channel posts only through its administrators with the right to. */
const NO_CHANNEL_ADMIN = "it is no administrator of the channel; make it one with the right to post messages";

/**
 * Why the bot cannot post in a group or channel, by its own standing there (getChatMember) and
 * what the group lets members do (getChat's permissions), with what to change; or undefined.
 */
function whyCannotPost(
  type: string,
  permissions: z.infer<typeof chat>["result"]["permissions"],
  { status, is_member, can_post_messages, can_send_messages }: z.infer<typeof member>["result"],
): string | undefined {
  if (status === "creator") return undefined;
  if (type === "channel") {
    if (status === "administrator") {
      return can_post_messages === false
        ? "it is an administrator of the channel without the right to post messages; give it that right"
        : undefined;
    }
    return status === "left" || status === "kicked"
      ? "it is not a member of the channel; add it as an administrator with the right to post messages"
      : NO_CHANNEL_ADMIN;
  }
  if (status === "administrator") return undefined;
  // A restricted user that left or was removed stays "restricted", no member (is_member false).
  if (status === "left" || status === "kicked" || (status === "restricted" && is_member === false)) {
    return "it is not a member of the group; add it again";
  }
  if (status === "restricted" && can_send_messages === false) {
    return "an administrator restricted it from sending messages; lift the restriction, or make the bot an administrator";
  }
  if (permissions?.can_send_messages === false) {
    return "the group lets no member send messages; let members send messages, or make the bot an administrator";
  }
  return undefined;
}

/**
 * Whether the bot can send to its chats, sending nothing: getMe says whether Telegram takes the
 * token, getChat whether the bot can reach each chat (a chat it was never added to, or was
 * removed from, is refused), and whether it has topics when the channel names one (`topicId`),
 * getChatMemberCount, of a group, whether it was upgraded to a supergroup, and getChatMember, of
 * a group or channel, whether it may post there; getChat's ids, whether two of them (an @name and
 * its id) are one chat.
 * Each problem is a sentence; `bot` is the bot's name once the token is taken. Whether a person
 * blocked the bot may show only when a message is sent. A stop rejects. `call` ends at the tool
 * timeout, which a Bot API too slow for it is said not to answer within, named as `call.deadlineSetting`.
 */
export async function checkTelegram(
  api: Upstream,
  token: string,
  chatIds: readonly string[],
  call: Call,
  topicId?: number,
): Promise<{ bot?: string; problems: string[] }> {
  const ask = (method: string, query?: Record<string, string>) =>
    api.send(`/bot${token}/${method}`, { ...(query ? { query } : {}), changes: false }, call);
  const asked = (err: unknown) => {
    if (stoppedBeforeDeadline(call.signal)) throw err;
    // A call's words for its deadline ask for less at once; a check asks for nothing to cut down.
    if (err instanceof DeadlinePassed) {
      return `${api.name} (${api.baseUrl.host}) did not answer within the tool timeout${call.deadlineSetting ? ` (${call.deadlineSetting})` : ""}; check the channel's baseUrl, and this machine's network and proxy settings.`;
    }
    return err instanceof Error ? err.message : String(err);
  };
  let name: string;
  let botId: number;
  try {
    const { result } = api.read(bot, await ask("getMe"));
    name = result.username ? `@${result.username}` : "the bot";
    botId = result.id;
  } catch (err) {
    return { problems: [asked(err)] };
  }
  /** The id Telegram gives each chat it read, an @name's too. */
  const read = new Map<string, number>();
  const problems = await Promise.all(
    chatIds.map(async (id) => {
      /** Telegram's refusal of the chat, as a sentence with what to change, or undefined. */
      const unreachable = (response: HttpResponse) => {
        const answer = refusal(response);
        if (!answer || (response.status !== 400 && response.status !== 403)) return undefined;
        return `${api.name} says ${name} cannot reach chat ${id} (${response.status}: ${answer.description})${chatAdvice(response.status, answer, id, chatIds)}.`;
      };
      try {
        const response = await ask("getChat", { chat_id: id });
        const unread = unreachable(response);
        if (unread) return unread;
        const { id: chatId, type = "private", is_forum, permissions } = api.read(chat, response).result;
        read.set(id, chatId);
        // getChat, and getChatMember of the bot itself, still read a group upgraded to a supergroup;
        // getChatMemberCount, as sendMessage, is refused with the supergroup's id.
        if (type === "group") {
          const counted = await ask("getChatMemberCount", { chat_id: id });
          const upgraded = unreachable(counted);
          if (upgraded) return upgraded;
          api.read(memberCount, counted);
        }
        if (topicId !== undefined && !is_forum) {
          // Only a group can have topics; topicId goes to every chat of the channel, so the chat moves, not it.
          const group = type === "group" || type === "supergroup" ? "turn topics on in the group, or " : "";
          return `${api.name} says chat ${id} has no topics, though the channel's topicId is ${topicId}: ${group}list the chat in a channel without topicId (its messages then go to the chat itself).`;
        }
        if (type === "private") return undefined;
        const asking = await ask("getChatMember", { chat_id: id, user_id: String(botId) });
        // Of a channel, only its administrators may read its members, the bot's own standing too.
        const refused = type === "channel" && (asking.status === 400 || asking.status === 403) && refusal(asking);
        if (refused) {
          return `${api.name} says ${name} cannot post in chat ${id} (${asking.status}: ${refused.description}): ${NO_CHANNEL_ADMIN}.`;
        }
        const standing = api.read(member, asking).result;
        const why = whyCannotPost(type, permissions, standing);
        return why && `${api.name} says ${name} cannot post in chat ${id}: ${why}.`;
      } catch (err) {
        return `chat ${id}: ${asked(err)}`;
      }
    }),
  );
  // A public chat's @name and its id, both listed, are one chat, which each message would reach twice.
  const twice = chatIds.flatMap((id, i) => {
    const first = chatIds.slice(0, i).find((other) => read.has(id) && read.get(other) === read.get(id));
    return first === undefined
      ? []
      : [
          `${api.name} says chat ${id} is chat ${first}, which chatIds lists too, so each message goes to it twice: take ${id} out of the channel's chatIds.`,
        ];
  });
  return { bot: name, problems: [...problems.filter((problem) => problem !== undefined), ...twice] };
}
