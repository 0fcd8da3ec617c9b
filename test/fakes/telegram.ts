import { readFileSync } from "node:fs";
import { clock } from "../../src/time.js";
import { type Fake, json, startFake } from "./http.js";

/**
 * The Telegram Bot API's sendMessage as the documentation and the samples in samples/ show it:
 * POST /bot<token>/sendMessage with a JSON body; {"ok":true,"result":Message} on success, the
 * {"ok":false,"error_code","description"} envelope otherwise: 401 for a wrong token, 400 "chat
 * not found" for a chat the bot is not in, 400 "can't parse entities" for MarkdownV2 with an
 * unescaped reserved character, 400 "message text is empty" for a text of white space alone, 400
 * "text must be encoded in UTF-8" for a text with half a surrogate pair, 400 "message is too long"
 * for one of more than 4096 characters once MarkdownV2's escapes are read, 429 with
 * parameters.retry_after and a Retry-After header of the same seconds; 403 "bot was kicked from
 * the group chat" for a group that removed it.
 * getMe describes the bot (BOT), getChat a chat the bot is in, refused as sendMessage refuses,
 * and getChatMember the bot's own standing in a group or channel (a member, unless `standing` says
 * otherwise). A forum (a supergroup with `topics`) is `is_forum` to getChat; a message_thread_id
 * that is none of its topics, or given to a chat without topics, is 400 "message thread not found".
 * getChatMemberCount answers 3. A group `migrated` to a supergroup is still read by getChat and by
 * getChatMember of the bot itself, as the Bot API reads it (its Read access), while sendMessage and
 * getChatMemberCount (Write and ReadMembers access) are refused with 400 "group chat was upgraded
 * to a supergroup chat" and parameters.migrate_to_chat_id.
 */

const sample = (name: string) => readFileSync(new URL(`./samples/${name}`, import.meta.url), "utf8");
const UNAUTHORIZED = sample("telegram-error-401-RECONSTRUCTED.json");
const CHAT_NOT_FOUND = sample("telegram-error-400-chat-not-found-RECONSTRUCTED.json");
const OK = JSON.parse(sample("telegram-sendMessage-ok-chatid-REDACTED.json")) as { result: Record<string, unknown> };

export const BOT_TOKEN = "7012345678:AAFakeTokenForWaiterTests_0123456789x";

export interface TelegramFake extends Fake {
  /** The chats the bot is a member of. */
  chats: Set<string>;
  /** The groups the bot was removed from: 403, "bot was kicked". */
  kicked: Set<string>;
  /** The groups upgraded to a supergroup, each with the supergroup's id. */
  migrated: Map<string, number>;
  /** The @names of public groups and channels, in lower case, each with its chat's id: every method takes either. */
  usernames: Map<string, string>;
  /**
   * What getChat says a chat is (its type, a group's permissions for members) and getChatMember
   * the bot's ChatMember there, by chat id: else a group (negative ids) the bot is a member of.
   */
  standing: Map<string, Standing>;
  /** Every message delivered, in order. */
  delivered: { chat_id: string; message_thread_id?: number; text: string; parse_mode?: string }[];
  /**
   * The most messages a chat takes within `ms` (Telegram's 20 a minute in a group), where set: one
   * more is refused 429 with the seconds until the oldest of them leaves the window, as Telegram does.
   */
  pace: { messages: number; ms: number } | undefined;
}

/** A chat's type, a group's permissions for members, the bot's ChatMember, and a forum's topics by id. */
interface Standing {
  type: string;
  member: object;
  permissions?: object;
  topics?: number[];
}

/** Characters MarkdownV2 reserves, which must come escaped. */
const RESERVED = "_*[]()~`>#+-=|{}.!";

function unescapedReserved(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      i++;
      continue;
    }
    if (RESERVED.includes(c)) return c;
  }
  return undefined;
}

/** The bot the token belongs to, as getMe describes it. */
export const BOT = {
  id: 7012345678,
  is_bot: true,
  first_name: "Shop notices",
  username: "shop_notices_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

const USER_NOT_FOUND = JSON.stringify({ ok: false, error_code: 400, description: "Bad Request: user not found" });

const KICKED = JSON.stringify({
  ok: false,
  error_code: 403,
  description: "Forbidden: bot was kicked from the group chat",
});

export async function startTelegram(chats: string[]): Promise<TelegramFake> {
  let nextId = 100;
  const state = {
    chats: new Set(chats),
    kicked: new Set<string>(),
    migrated: new Map<string, number>(),
    usernames: new Map<string, string>(),
    standing: new Map<string, Standing>(),
    delivered: [] as TelegramFake["delivered"],
    pace: undefined as TelegramFake["pace"],
  };
  /**
   * When each chat was last sent to, by chat, as far back as `pace` counts: for each pace set, so
   * that a test's sends do not count against the next test's.
   */
  const sentUnder = new WeakMap<object, Map<string, number[]>>();
  const fake = await startFake((request) => {
    const match = /^\/bot([^/]+)\/(sendMessage|getMe|getChat|getChatMember|getChatMemberCount)$/.exec(request.path);
    if (!match) return json(404, '{"ok":false,"error_code":404,"description":"Not Found"}');
    if (match[1] !== BOT_TOKEN) return json(401, UNAUTHORIZED);
    // The Bot API takes a method's parameters in the query string or as a JSON body, by GET or POST.
    const parameters = { ...Object.fromEntries(request.query), ...(request.body ? JSON.parse(request.body) : {}) };
    const given = String(parameters.chat_id);
    const chatId = (given.startsWith("@") && state.usernames.get(given.toLowerCase())) || given;
    if (match[2] === "getMe") return json(200, JSON.stringify({ ok: true, result: BOT }));
    const upgraded = state.migrated.get(chatId);
    if (upgraded !== undefined && (match[2] === "sendMessage" || match[2] === "getChatMemberCount")) {
      return json(
        400,
        JSON.stringify({
          ok: false,
          error_code: 400,
          description: "Bad Request: group chat was upgraded to a supergroup chat",
          parameters: { migrate_to_chat_id: upgraded },
        }),
      );
    }
    if (match[2] === "getChatMemberCount") {
      if (state.kicked.has(chatId)) return json(403, KICKED);
      if (!state.chats.has(chatId)) return json(400, CHAT_NOT_FOUND);
      return json(200, JSON.stringify({ ok: true, result: 3 }));
    }
    if (match[2] === "getChat" || match[2] === "getChatMember") {
      if (state.kicked.has(chatId)) return json(403, KICKED);
      if (!state.chats.has(chatId)) return json(400, CHAT_NOT_FOUND);
      const id = Number(chatId);
      const standing =
        state.standing.get(chatId) ?? (id < 0 ? { type: "group", member: { status: "member" } } : undefined);
      if (match[2] === "getChatMember") {
        if (!standing || Number(parameters.user_id) !== BOT.id) return json(400, USER_NOT_FOUND);
        return json(200, JSON.stringify({ ok: true, result: { user: BOT, ...standing.member } }));
      }
      const { type, permissions, topics } = standing ?? { type: "private" };
      return json(
        200,
        JSON.stringify({
          ok: true,
          result:
            type === "private"
              ? { id, type, first_name: "Jiří" }
              : {
                  id,
                  type,
                  title: "Shop team",
                  ...(topics ? { is_forum: true } : {}),
                  ...(permissions ? { permissions } : {}),
                },
        }),
      );
    }
    if (request.method !== "POST") return json(404, '{"ok":false,"error_code":404,"description":"Not Found"}');
    const body = parameters as TelegramFake["delivered"][number];
    if (state.kicked.has(chatId)) return json(403, KICKED);
    if (!state.chats.has(chatId)) return json(400, CHAT_NOT_FOUND);
    const topic = body.message_thread_id;
    if (topic !== undefined && !state.standing.get(chatId)?.topics?.includes(topic)) {
      return json(400, '{"ok":false,"error_code":400,"description":"Bad Request: message thread not found"}');
    }
    // Half of a surrogate pair (a sender's text cut inside an emoji) has no UTF-8 form.
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(body.text ?? "")) {
      return json(400, '{"ok":false,"error_code":400,"description":"Bad Request: text must be encoded in UTF-8"}');
    }
    if (!body.text?.trim()) {
      return json(400, '{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}');
    }
    const shown = body.parse_mode === "MarkdownV2" ? body.text.replace(/\\(.)/gsu, "$1") : body.text;
    if ([...shown].length > 4096) {
      return json(400, '{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}');
    }
    const bad = body.parse_mode === "MarkdownV2" ? unescapedReserved(body.text) : undefined;
    if (bad) {
      return json(
        400,
        JSON.stringify({
          ok: false,
          error_code: 400,
          description: `Bad Request: can't parse entities: Character '${bad}' is reserved and must be escaped with the preceding '\\'`,
        }),
      );
    }
    // Set on the fake a test holds, not on `state`, which the fake was given a copy of.
    const { pace } = fake as Partial<TelegramFake>;
    if (pace) {
      const { messages, ms } = pace;
      const sentAt = sentUnder.get(pace) ?? new Map<string, number[]>();
      sentUnder.set(pace, sentAt);
      const recent = (sentAt.get(chatId) ?? []).filter((at) => at > clock.now() - ms);
      sentAt.set(chatId, recent);
      if (recent.length >= messages) {
        return tooManyRequests(Math.ceil(((recent[0] as number) + ms - clock.now()) / 1000));
      }
      recent.push(clock.now());
    }
    state.delivered.push(body);
    return json(
      200,
      JSON.stringify({
        ok: true,
        result: {
          ...OK.result,
          message_id: nextId++,
          chat: { id: Number(chatId) },
          date: Math.floor(clock.now() / 1000),
          text: body.text,
        },
      }),
    );
  });
  return Object.assign(fake, state);
}

const TOO_MANY = JSON.parse(sample("telegram-error-429.json")) as { parameters: { retry_after: number } };

/**
 * A 429 as Telegram sends it (samples/), asking to wait `seconds`: in its body's retry_after, and
 * in a Retry-After header, which the Bot API server adds to every answer that carries retry_after.
 */
export function tooManyRequests(seconds: number) {
  return json(
    429,
    JSON.stringify({
      ...TOO_MANY,
      description: `Too Many Requests: retry after ${seconds}`,
      parameters: { ...TOO_MANY.parameters, retry_after: seconds },
    }),
    { "retry-after": String(seconds) },
  );
}
