import { domainToUnicode } from "node:url";
import { z } from "zod";
import { ConfigError, ToolError, UpstreamError } from "../../src/errors.js";
import type { WaitLog } from "../../src/events/store.js";
import type { HttpClient } from "../../src/http/client.js";
import {
  byWord,
  closedObject,
  isLoopbackHost,
  jsonSetting,
  noneConfigured,
  secretVariable,
  settingName,
  upstreamUrl,
  word,
} from "../../src/settings.js";
import { enumerated, noSuchName } from "../../src/shown.js";
import { defineTool, defineToolset, notBlank, notEmpty, type Toolset } from "../../src/toolset.js";
import { checkSmtp, emailSender, SMTP_PORTS, type SmtpOptions } from "./email.js";
import { forWhom, type Sender } from "./sender.js";
import { checkTelegram, type FloodWaits, sameChat, telegramErrors, telegramSender } from "./telegram.js";

/**
 * Telegram takes 4096 characters (code points, as zod counts a string's length) after its
 * entities are parsed; the tool takes a round number under it.
 */
const MAX_TEXT = 4000;

/**
 * An email address, internationalized ones too (jiri@příklad.cz): nodemailer sends an ASCII
 * address's domain as punycode (jiri@xn--pklad-zsa96e.cz), as any mail server takes it.
 */
const address = (nameSetting?: string) =>
  z
    .email({ pattern: z.regexes.unicodeEmail, error: (issue) => notOneAddress(issue.input, nameSetting) })
    // The pattern takes these, where a mail library reads a list, a comment, the address itself or
    // a group: "a,b@x.cz" would go to "a" and to "b@x.cz", "a(b)@x.cz" to "a@x.cz", "a@x.cz<b@y.cz"
    // to "b@y.cz", "team:a@x.cz" to "a@x.cz". A colon after the @ is a domain literal's ([IPv6:…]).
    .refine((text) => !/[,;()<>]|:.*@/.test(text), { error: (issue) => notOneAddress(issue.input, nameSetting) });

/**
 * An address as it is told apart from another: in any case, and its domain as it is written with
 * diacritics (příklad.cz), which its punycode (xn--pklad-zsa96e.cz) is too, as nodemailer sends it.
 */
function sameAddress(address: string): string {
  const at = address.lastIndexOf("@");
  const domain = address.slice(at + 1).toLowerCase();
  return `${address.slice(0, at).toLowerCase()}@${domainToUnicode(domain) || domain}`;
}

/**
 * Why a setting's text is not one address, for the forms a mail client takes and a channel does
 * not: a name with the address ("Shop <shop@x.cz>"), several separated by commas. `nameSetting`
 * is where the name goes instead, where there is one.
 */
function notOneAddress(input: unknown, nameSetting?: string): string | undefined {
  if (typeof input !== "string") return undefined;
  if (/<[^<>]*@[^<>]*>\s*$/.test(input)) {
    return `has a name with the address: give the address alone${nameSetting ? `, and the name in ${nameSetting}` : ""}`;
  }
  if (/[,;]/.test(input)) return `is more than one address: list each as a string of its own`;
  if (/[()]/.test(input)) return "holds a comment in ( ), which is not sent: give the address alone";
  return "is not an email address";
}

/**
 * A text as every channel is to show it, alike: each line break a line feed, as Telegram deletes a
 * lone CR and the line and paragraph separators, running two lines together ("100" and "5 items"
 * read "1005 items"), and a CR without its LF is no line break in mail (RFC 5322); a vertical tab
 * (a word processor's line break, Shift+Enter, which pasted text keeps) and a form feed, Unicode's
 * line breaks too, which Telegram shows as spaces, a line feed as well; the other controls but the
 * tab a space, as Telegram shows them, where a mail client shows nothing or a box, and may end the
 * text at a NUL; and without the direction embeddings and overrides (U+202A-U+202E), which
 * Telegram deletes too, and which a mail client would obey, turning the rest of a line around, an
 * amount in it too. A letter with the combining ring above (U+030A), which Telegram deletes, is
 * composed (NFC): "ů" written as u and the ring, as macOS and some shops store it, would show as
 * "u"; composed, it is one character Telegram keeps. Only those: NFC of the whole text would
 * lengthen some (Devanagari's क़ is two). Spaces, tabs and line breaks at either end are left out,
 * as Telegram leaves them out (tdlib's fix_formatted_text), where a mail would open on blank lines.
 */
function asShown(text: string): string {
  return (
    text
      .replace(/\P{M}\p{M}*\u030a\p{M}*/gu, (letter) => letter.normalize("NFC"))
      .replace(/\r\n?|[\v\f\u2028\u2029]/g, "\n")
      // The C0 controls left, but the tab: Telegram keeps DEL and the C1 controls.
      .replace(/(?![\t\n\x7f-\x9f])\p{Cc}/gu, " ")
      .replace(/[\u202a-\u202e]/g, "")
      .replace(/^[ \t\n]+|[ \t\n]+$/g, "")
  );
}

const ONE_LINE = /^[^\r\n]*$/;

/** A bot token copied with what comes before it in a Bot API URL: `bot<token>`, alone or in a path. */
const TOKEN_COPIED = /(^|\/)bot\d+(:|%3a)/i;

/** A bot token as @BotFather gives it: the bot's id, a colon and the rest (core.telegram.org/bots/api#authorizing-your-bot). */
const BOT_TOKEN = /^\d+:[\w-]+$/;

/** The variable a message names as the one to hold the bot token. */
const BOT_TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN";

/**
 * A Telegram chat as chatIds lists it: its id, or a public group's or channel's @name, of 5 to 32
 * characters, or 4 for a collectible one bought on Fragment (@bank).
 */
const CHAT_ID = /^(-?\d+|@\w{4,32})$/;

/**
 * The pages of t.me that are no chat's, as long as a chat's @name (core.telegram.org/api/links):
 * t.me/share/url?… is a link to share, not the chat @share.
 */
const NOT_CHATS = new Set([
  "addemoji",
  "addlist",
  "addstickers",
  "addstyle",
  "addtheme",
  "auction",
  "auth",
  "boost",
  "call",
  "confirmphone",
  "contact",
  "giftcode",
  "invoice",
  "login",
  "newbot",
  "proxy",
  "setlanguage",
  "share",
  "socks",
]);

/**
 * The Bot API's id of the supergroup or channel a link names by its own number (t.me/c/<number>,
 * Telegram Web K's #-<number>): -(10^12 + number), which reads "-100" and the number only when it
 * has 10 digits, as newer ones do.
 */
const channelId = (number: string) => `-1${number.padStart(12, "0")}`;

/**
 * The t.me link a link of the Telegram app (tg:<action>?…) stands for, where it names a chat, a
 * phone number or an invite (core.telegram.org/api/links), or undefined.
 */
function tmeOf(action: string, query: URLSearchParams): string | undefined {
  const [domain, phone, invite, channel] = ["domain", "phone", "invite", "channel"].map((key) => {
    const value = query.get(key) ?? "";
    return /^[\w-]+$/.test(value) ? value : undefined;
  });
  if (action === "resolve") return domain ? `t.me/${domain}` : phone ? `t.me/+${phone}` : undefined;
  if (action === "join") return invite && `t.me/joinchat/${invite}`;
  if (action === "privatepost") return channel && `t.me/c/${channel}`;
  if (action === "boost") return domain ? `t.me/boost/${domain}` : channel && `t.me/boost?c=${channel}`;
  return undefined;
}

/** A URL's component decoded, or as it is where it holds no valid encoding. */
function decodedOrNot(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}

/**
 * Why a chatIds entry is none: a link to a chat, as Telegram shares one, is said with the id or
 * @name it stands for (t.me/c/<number>/… is a private chat's, by its own number, which channelId
 * reads; t.me/s/<name> a public channel's preview; <name>.t.me is t.me/<name>); an invite link
 * (t.me/+…, t.me/joinchat/…) stands for none, nor does a phone number's (t.me/+<digits>) or another
 * page of t.me (NOT_CHATS). A link of the Telegram app (tg:…) is said as its t.me link is, and so
 * is Telegram Web's address of one (#?tgaddr=…).
 * Telegram Web's address of an open chat ends in #@name or #<id>: Web A's id is the Bot API's,
 * followed by _<message or topic> or _pinned in a message's or topic's address; Web K's is a
 * supergroup's or channel's own number, as channelId reads it, and a group's the Bot API's.
 */
function notChatId(input: unknown): string {
  if (typeof input !== "string") return "is not a chat id or @channelname";
  // A person's link is as a group's or channel's, and a bot reaches a person by their number only.
  // A bot's @name ends in bot, as @BotFather requires; its link (which @BotFather gives) names no chat a bot can write to.
  // A group's or channel's @name may end in bot too: the ending alone does not tell which.
  const byName = (name: string) =>
    /bot$/i.test(name)
      ? `is a link to a chat or a bot: list the chat's @name, @${name}, instead if it is a public group or channel; if it is a bot, as an @name ending in bot may be, no bot can write to it: list the chat's id, a number getUpdates shows (docs/notifications.md says how)`
      : `is a link to a chat: list the chat's @name, @${name}, instead if it is a public group or channel; a person is listed by their number, which getUpdates shows (docs/notifications.md says how)`;
  const app = /^tg:(?:\/\/)?(\w+)\/?(?:\?([^#]*))?(?:#.*)?$/i.exec(input);
  if (app) {
    const [, action = "", query = ""] = app;
    const params = new URLSearchParams(query);
    // A username's link names that @name, though t.me/<name> may be a page of t.me (t.me/share).
    const domain = params.get("domain") ?? "";
    if (/^resolve$/i.test(action) && /^\w{4,32}$/.test(domain)) return byName(domain);
    const asLink = tmeOf(action.toLowerCase(), params);
    if (asLink) return notChatId(asLink);
    // A person's, by their id, as the Bot API writes a mention of one who has no @name; Telegram for
    // Android's openmessage names a person so too, and a group or channel by its own number.
    const [user = "", group = ""] = /^openmessage$/i.test(action)
      ? [params.get("user_id") ?? "", params.get("chat_id") ?? ""]
      : [/^user$/i.test(action) ? (params.get("id") ?? "") : ""];
    if (/^\d+$/.test(user)) return `is a link to a chat: list the chat's id, ${user}, instead`;
    if (/^\d{1,12}$/.test(group)) {
      return `is a link to a chat: list the chat's id, ${channelId(group)} if it is a supergroup or channel, or -${group} if it is a group`;
    }
    return "is a link of the Telegram app (tg:…) that waiter does not read: list the chat's id, a number getUpdates shows (docs/notifications.md says how), or a public group's or channel's @name";
  }
  // The Telegram Web that Web K and Web A replaced names a chat by a letter, its number and its
  // access hash: u a person, g a group, c a channel, s a supergroup.
  const old =
    /^(?:https?:\/\/)?web\.telegram\.org\/#\/im\?p=(?:@(\w{4,32})|([ucsg])(\d{1,12})(?:_-?\d+)?)(?:&|$)/i.exec(input);
  if (old) {
    const [, name, kind = "", number = ""] = old;
    if (name) return byName(name);
    const id = /u/i.test(kind) ? number : /g/i.test(kind) ? `-${number}` : channelId(number);
    return `is a link to a chat: list the chat's id, ${id}, instead`;
  }
  // Telegram Web opens a link of the app in its own address: #?tgaddr= and the link, encoded.
  const opened = /^(?:https?:\/\/)?web\.telegram\.org\/(?:[akz]\/)?#\?(?:[^#]*&)?tgaddr=([^&#]*)/i.exec(input)?.[1];
  const addressed = opened === undefined ? undefined : decodedOrNot(opened);
  if (addressed && /^tg:/i.test(addressed)) return notChatId(addressed);
  const web = /^(?:https?:\/\/)?web\.telegram\.org\/(?:([akz])\/)?#(?:@(\w{4,32})|(-?)(\d+)(?:_\w+)*)$/i.exec(input);
  if (web) {
    const [, client = "", name, minus, number] = web;
    if (name) return byName(name);
    // The Bot API's id of a supergroup or channel is -(10^12 + its number); a group's is below 10^12.
    // Web A (once Web Z) shows the Bot API's id: only another's short negative id has two readings.
    return minus && number && number.length <= 12 && !/^[az]$/i.test(client)
      ? `is a link to a chat: list the chat's id, ${channelId(number)} if it is a supergroup or channel (Telegram Web K shows its own number), or -${number} if it is a group`
      : `is a link to a chat: list the chat's id, ${minus}${number}, instead`;
  }
  // A public chat's @name may come first, as a host of its own: shopnews.t.me is t.me/shopnews.
  const named = /^(?:https?:\/\/)?(\w{4,32})\.t\.me(?:[/?#]|$)/i.exec(input)?.[1];
  if (named && !NOT_CHATS.has(named.toLowerCase()) && !/^joinchat$/i.test(named)) return byName(named);
  // Telegram's apps open t.me's links at telegram.me and telegram.dog too, with or without www.
  const link =
    /^(?:https?:\/\/)?(?:www\.)?(?:t\.me|telegram\.(?:me|dog))\/([^/?#]*)\/?([^/?#]*)[^?#]*(?:\?([^#]*))?/i.exec(input);
  if (!link) return "is not a chat id or @channelname";
  const [, first = "", second = "", query = ""] = link;
  const page = first.toLowerCase();
  if (/^\+\d+$/.test(first)) {
    return "is a link to a phone number, which a bot cannot write to: list the person's id instead, a number getUpdates shows once they have written to the bot (docs/notifications.md says how)";
  }
  if (first.startsWith("+") || page === "joinchat") {
    return "is an invite link, which names no chat: add the bot to the chat, then list the chat's id, a number getUpdates shows (docs/notifications.md says how)";
  }
  if (page === "c" && /^\d{1,12}$/.test(second)) {
    return `is a link to a chat: list the chat's id, ${channelId(second)}, instead`;
  }
  // Only a public channel or group has a preview, or is boosted by its @name; a private one by its number.
  if ((page === "s" || page === "boost") && /^\w{4,32}$/.test(second)) {
    return `is a link to a chat: list the chat's @name, @${second}, instead`;
  }
  const boosted = page === "boost" ? new URLSearchParams(query).get("c") : null;
  if (boosted && /^\d{1,12}$/.test(boosted)) {
    return `is a link to a chat: list the chat's id, ${channelId(boosted)}, instead`;
  }
  if (NOT_CHATS.has(page)) {
    return `is a t.me/${page} link, which names no chat: list the chat's id, a number getUpdates shows (docs/notifications.md says how), or a public group's or channel's @name`;
  }
  return /^\w{4,32}$/.test(first) ? byName(first) : "is not a chat id or @channelname";
}

/** The TLS modes an email channel takes, as a refusal names them: other tools call them otherwise (nodemailer's secure). */
const TLS_MODES =
  '"starttls" (the default: upgraded after connecting, usually port 587), "tls" (TLS from the start, which other tools call SSL or secure; usually port 465) or "none"';

/**
 * Keys other tools write for what an email channel's tls says, by their lowercase without blanks, _ or -
 * (PHPMailer's SMTPSecure, Laravel's MAIL_ENCRYPTION, .NET's EnableSsl, Django's EMAIL_USE_TLS, Flask-Mail's MAIL_USE_TLS).
 */
const TLS_KEYS = new Set([
  "secure",
  "ssl",
  "starttls",
  "requiretls",
  "ignoretls",
  "usetls",
  "usessl",
  "encryption",
  "mailencryption",
  "smtpsecure",
  "enablessl",
  "emailusetls",
  "emailusessl",
  "mailusetls",
  "mailusessl",
]);

/**
 * Those of TLS_KEYS whose tools upgrade after connecting where they say tls (PHPMailer, Laravel off port 465, Django's
 * and Flask-Mail's use_tls) or SSL (.NET).
 */
const STARTTLS_KEYS = new Set([
  "encryption",
  "mailencryption",
  "smtpsecure",
  "enablessl",
  "emailusetls",
  "mailusetls",
  "usetls",
]);

/** What reads as one email address, a part before the @ and one after. */
const ADDRESS = /^[^@\s]+@[^@\s]+$/;

const channelName = settingName("channel");

/** What `noSuchName` calls a notification channel. */
const CHANNEL: [string, string] = ["notification channel", "notification channels"];

export const channel = byWord("type", [
  closedObject("a telegram channel", {
    type: z.literal("telegram"),
    botTokenEnv: secretVariable("the Telegram bot token", { shape: BOT_TOKEN, example: BOT_TOKEN_VARIABLE }),
    chatIds: z
      .array(z.union([z.string().regex(CHAT_ID, { error: (issue) => notChatId(issue.input) }), z.number().int()]))
      .min(1)
      .describe("a list of the chats messages go to: their ids, or @channelnames")
      .transform((ids) => ids.map(String)),
    // As Telegram writes it, parse_mode MarkdownV2, too.
    format: word(["text", "markdownv2"]).default("text"),
    // Bot API's message_thread_id: a forum's topic, where messages otherwise go to its General topic,
    // whose own id (1) sendMessage refuses ("message thread not found").
    topicId: z
      .number()
      .int()
      .positive()
      .refine((id) => id !== 1, "is the General topic's, which messages go to without a topicId: leave topicId out")
      .optional(),
    // A Bot API address copied with its /bot<token> would carry the token where a setting's value
    // may be written down (the config file), and every request would go to /bot<token>/bot<token>/.
    baseUrl: upstreamUrl("https://api.telegram.org").refine(
      (url) => !TOKEN_COPIED.test(url.pathname),
      "holds a bot token in its path (/bot<token>): put the token in the variable botTokenEnv names, and in baseUrl the Bot API's address alone, like https://api.telegram.org",
    ),
  }),
  closedObject(
    "an email channel",
    {
      type: z.literal("email"),
      // Its name alone, which a send resolves: a URL, host:port or an IPv6 address in brackets ([::1]:25)
      // would be said there as a name that does not resolve.
      host: z
        .string()
        .min(1)
        .refine(
          (host) => !/:\/\/|[/@\s[\]]/.test(host) && !/^[^:]+:\d+$/.test(host),
          "is the mail server's name or address alone, like smtp.example.com or ::1: no scheme, user, path or brackets, and its port goes in port",
        )
        .describe("the mail server's name or address, like smtp.example.com"),
      port: z.number().int().min(1).max(65535).optional(),
      tls: word(["starttls", "tls", "none"], TLS_MODES).default("starttls"),
      user: z.string().min(1).optional(),
      passwordEnv: secretVariable("the SMTP password").optional(),
      from: address("fromName").describe("the address messages are sent from"),
      // Sent as headers, which nodemailer encodes: one line each, no more.
      fromName: z.string().min(1).max(100).regex(ONE_LINE, "is one line").optional(),
      to: z.array(address()).min(1).describe("a list of the addresses messages go to"),
      subject: z.string().min(1).max(200).regex(ONE_LINE, "is one line").default("waiter"),
    },
    {
      unknownKey: (key, input) => {
        const written = key.toLowerCase().replace(/[\s_-]/g, "");
        if (!TLS_KEYS.has(written)) return undefined;
        // Port 465 takes TLS from the start (RFC 8314), as Laravel's "tls" does there: written as the
        // channel's port or with the tool's own key for it (MAIL_PORT), copied from an env file as text.
        const fromTheStart = Object.entries((input ?? {}) as Record<string, unknown>).some(
          ([name, value]) =>
            /port$/.test(name.toLowerCase().replace(/[\s_-]/g, "")) && Number(value) === SMTP_PORTS.tls,
        );
        const upgraded = !STARTTLS_KEYS.has(written)
          ? ""
          : fromTheStart
            ? `; on port 465 the connection is TLS from the start, which is "tls" here`
            : `; its "tls" (or true) upgrades after connecting, which is "starttls" here`;
        return `the channel's tls says how it connects, ${TLS_MODES}${upgraded}`;
      },
    },
  ),
]);
type Channel = z.output<typeof channel> & { name: string; secret?: string };

/**
 * The target a result names as reached, without where the message went instead ("-4012345
 * (upgraded to supergroup …)"): no chat id or address holds " (".
 */
const targetOf = (reached: string) => reached.replace(/ \(.*\)$/, "");

/** Each target and why it did not confirm the message, a sentence each. */
function said(failed: { target: string; error: string }[]): string {
  return failed.map((f) => `${f.target}: ${/[.!?]$/.test(f.error) ? f.error : `${f.error}.`}`).join(" ");
}

const settings = {
  channels: {
    env: "WAITER_NOTIFY_CHANNELS",
    description:
      "Where people are told, as JSON: name -> {type: telegram, botTokenEnv, chatIds, topicId, format, baseUrl} or {type: email, host, port, tls, user, passwordEnv, from, fromName, to, subject}. Messages go only to the chats and addresses listed; docs/notifications.md says how.",
    schema: jsonSetting(
      z.record(channelName, channel),
      {},
      'a JSON object of channels by name, such as {"team":{"type":"telegram","botTokenEnv":"TELEGRAM_BOT_TOKEN","chatIds":["-1001234567890"]}}',
    ).transform((channels) => Object.entries(channels).map(([name, configured]): Channel => ({ ...configured, name }))),
  },
};

/**
 * Tells people on the channels configured. `waits`: the event store's, where one is open: a chat's
 * flood wait heard by another waiter on the store holds this one's messages to it too.
 */
export function notifyToolset(waits?: WaitLog): Toolset {
  return defineToolset({
    name: "notify",
    description: "Tells people: a message to the Telegram chats or email addresses configured for a channel.",
    settings,
    resolve(values, secrets, origin) {
      const channels = secrets.each(values.channels, (configured): Channel => {
        const secretIn = (variable: string, holds: string, example: string) =>
          secrets.required(variable, {
            setting: `${origin("channels")} at ${configured.name}.${configured.type === "telegram" ? "botTokenEnv" : "passwordEnv"}`,
            owner: `notification channel ${configured.name}`,
            holds,
            example,
          });
        // A target listed twice (a chat id as text and as a number, a channel's @name or an address in
        // another case) would be sent to twice.
        const [key, targets] =
          configured.type === "telegram"
            ? ["chatIds", configured.chatIds.map(sameChat)]
            : ["to", configured.to.map(sameAddress)];
        const twice = targets.find((target, i) => targets.indexOf(target) !== i);
        // Read before the channel is refused for anything else, so that a token holding it is said with that.
        const secret = secrets.unlessUnset(() =>
          configured.type === "telegram"
            ? secretIn(configured.botTokenEnv, "the Telegram bot token", BOT_TOKEN_VARIABLE)
            : configured.passwordEnv && secretIn(configured.passwordEnv, "the SMTP password", "SMTP_PASSWORD"),
        );
        if (twice !== undefined) {
          throw new ConfigError(
            `invalid setting ${origin("channels")} at ${configured.name}.${key}: ${twice} is listed twice; list each once`,
          );
        }
        if (configured.type === "telegram") {
          if (secret.unset) throw secret.unset;
          const token = secret.value as string;
          // Copied from a Bot API URL (bot<token>, or the whole URL), it would be sent as /botbot<token>/,
          // and every send told the token was refused.
          if (TOKEN_COPIED.test(token)) {
            throw new ConfigError(
              `notification channel ${configured.name}: ${configured.botTokenEnv} holds more than the Telegram bot token, which is the digits, a colon and the rest, like 123456:ABC-DEF1234ghIkl (without bot or the Bot API's address before it); what it holds is not shown`,
            );
          }
          // Any other shape (a quote or a space pasted in, the bot's @name) would be refused at every send.
          if (!BOT_TOKEN.test(token)) {
            throw new ConfigError(
              `notification channel ${configured.name}: ${configured.botTokenEnv} does not hold a Telegram bot token as @BotFather gives it: the bot's digits, a colon and letters, digits, _ or -, like 123456:ABC-DEF1234ghIkl, with no quote, space or @name; what it holds is not shown`,
            );
          }
          return { ...configured, secret: token };
        }
        if (configured.tls === "none" && !isLoopbackHost(configured.host)) {
          throw new ConfigError(
            `invalid setting ${origin("channels")} at ${configured.name}.tls: "none" is allowed only to a mail server on this machine (localhost); use starttls or tls`,
          );
        }
        // Port 465 takes TLS from the start (RFC 8314): a server there waits in silence for it, and every send would time out.
        if (configured.port === SMTP_PORTS.tls && configured.tls === "starttls") {
          throw new ConfigError(
            `invalid setting ${origin("channels")} at ${configured.name}.tls: port 465 takes TLS from the start, which tls "starttls" (the default) does not do: set tls to "tls", or use the mail server's port for STARTTLS (usually 587)`,
          );
        }
        if (configured.user && !configured.passwordEnv) {
          throw new ConfigError(
            `invalid setting ${origin("channels")} at ${configured.name}: user needs passwordEnv, the variable that holds the password`,
          );
        }
        if (secret.unset) throw secret.unset;
        return secret.value ? { ...configured, secret: secret.value } : configured;
      });
      return { ...values, channels };
    },
    unconfigured: ({ settings, configFile }) =>
      settings.channels.length === 0
        ? noneConfigured(
            "notification channels",
            {
              key: "notify.channels",
              env: "WAITER_NOTIFY_CHANNELS",
              page: "docs/notifications.md#configuring-channels",
            },
            configFile,
          )
        : undefined,
    tools({ settings, http, log, origin }) {
      const floodWaits: FloodWaits = new Map();
      const channels = new Map(
        (settings.channels as Channel[]).map((c) => {
          const sender: Sender =
            c.type === "telegram"
              ? telegramSender(
                  telegramApi(c, http, origin),
                  c.secret ?? "",
                  c.format,
                  floodWaits,
                  c.topicId,
                  c.chatIds,
                  waits,
                )
              : emailSender(smtpOptions(c));
          const kind = c.type === "telegram" ? "chat" : "address";
          return [c.name, { kind, targets: c.type === "telegram" ? c.chatIds : c.to, sender }] as const;
        }),
      );
      const names = [...channels.keys()] as [string, ...string[]];
      // A chat or an address (one a person asked to be told at) is named as such, with the channels that send to it.
      const noChannel = (name: string) => {
        const refused = noSuchName(CHANNEL, name, names);
        const kind = CHAT_ID.test(name) ? "chat" : ADDRESS.test(name) ? "address" : undefined;
        if (!kind) return refused;
        const same = kind === "chat" ? sameChat : sameAddress;
        const sending = names.filter((each) => {
          const channel = channels.get(each);
          return channel?.kind === kind && channel.targets.some((target) => same(target) === same(name));
        });
        const what = `${name} is ${kind === "chat" ? "a chat" : "an address"}, not a channel`;
        return sending.length > 0
          ? `${refused} ${what}: name the channel that sends to it, ${enumerated(sending, "or")}, which sends to all it lists.`
          : `${refused} ${what}, and no channel sends to it: a channel sends only to the chats and addresses configured for it, which whoever runs waiter sets.`;
      };
      return [
        defineTool({
          name: "notify_send",
          title: "Tell people",
          description: `Sends plain text to each chat or address of a channel (${names.join(", ")}), and no one else; a retry resends to all.`,
          input: {
            // A channel's name is lowercase: Team is team, as other tools take their words.
            channel: word(names, (given) => (typeof given === "string" ? noChannel(given) : undefined)).describe(
              "Where to.",
            ),
            text: z
              .string()
              .check(notEmpty)
              // Telegram's limit (4,096 after its own formatting), kept for every channel: one text reads alike everywhere.
              .max(
                MAX_TEXT,
                `is longer than ${MAX_TEXT} characters: send it as several messages, each of at most ${MAX_TEXT}`,
              )
              // Telegram refuses a text of white space alone ("message text is empty"); so would a reader.
              .check(notBlank)
              .describe(`At most ${MAX_TEXT} characters.`),
          },
          output: {
            channel: z.string(),
            sent: z.array(z.string()),
            failed: z.array(z.object({ target: z.string(), error: z.string() })),
          },
          annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
          async run({ channel: name, text }, call) {
            const {
              kind,
              targets: all,
              sender,
            } = channels.get(name) as { kind: string; targets: string[]; sender: Sender };
            const earlier = call.notified;
            const settled = new Set([
              ...(earlier?.sent ?? []).map(targetOf),
              ...(earlier?.failed ?? []).map((f) => f.target),
            ]);
            const targets = all.filter((target) => !settled.has(target));
            const shown = asShown(text);
            // The event's texts an automation quoted, as they read in the text sent.
            const sending = call.quoted ? { ...call, quoted: call.quoted.map(asShown) } : call;
            const outcomes = await Promise.allSettled(targets.map((target) => sender.send(target, shown, sending)));
            const sentNow = targets.filter((_, i) => outcomes[i]?.status === "fulfilled");
            // As the result names them: with where each went, when not to itself (a group now a supergroup).
            const reachedNow = targets.flatMap((target, i) => {
              const outcome = outcomes[i];
              if (outcome?.status !== "fulfilled") return [];
              return [outcome.value === undefined ? target : `${target} (${outcome.value})`];
            });
            const failedNow = outcomes.flatMap((o, i) =>
              o.status === "rejected"
                ? [
                    {
                      target: targets[i] as string,
                      error: o.reason instanceof Error ? o.reason.message : String(o.reason),
                      refused: o.reason instanceof UpstreamError && o.reason.refused ? o.reason : undefined,
                    },
                  ]
                : [],
            );
            const forNow = failedNow.flatMap((f) => (f.refused ? [f.refused] : []));
            const asFailed = ({ target, error }: { target: string; error: string }) => ({ target, error });
            const sent = [...(earlier?.sent ?? []), ...reachedNow];
            const failed = [...(earlier?.failed ?? []), ...failedNow.map(asFailed)];
            // Kept for an automation's next try, which goes to the targets that refused it for now only.
            earlier?.sent.push(...reachedNow);
            earlier?.failed.push(...failedNow.filter((f) => !f.refused).map(asFailed));
            // The operator's record of what was sent where (the client has it as the result); a run's
            // also keeps it with its step.
            if (sentNow.length > 0)
              log.operatorOnly("info", `notify ${name}${forWhom(call)}: sent to ${sentNow.join(", ")}`);
            if (sent.length === 0 || (earlier && forNow.length > 0)) {
              // The call's failure says it all, and is logged once, as a failed call (a warning when no one
              // was told) or run.
              const message =
                sent.length === 0
                  ? `No ${kind} of ${name} confirmed the message: ${said(failed)}`
                  : `Sent on ${name} to ${sent.join(", ")}; not confirmed by ${said(failed)}`;
              // Not sent to some targets (to any, outside an automation), which refuse it for now
              // (429, 4xx) or are out of reach: an automation may try again, when they say.
              const failure = (earlier ? forNow.length > 0 : forNow.length === failedNow.length)
                ? new UpstreamError(
                    message,
                    (forNow[0] as UpstreamError).status,
                    Math.max(...forNow.map((r) => r.retryAfter ?? 0)) || undefined,
                    true,
                  )
                : new ToolError(message);
              if (sent.length === 0) failure.logLevel = "warning";
              throw failure;
            }
            for (const f of failed)
              log.operatorOnly("warning", `notify ${name}${forWhom(call)}: not confirmed by ${f.target}: ${f.error}`);
            return { channel: name, sent, failed };
          },
          render(r, _, session) {
            const lines = [`Sent on ${r.channel} to ${r.sent.join(", ")}.`];
            if (r.failed.length) {
              lines.push(
                `Not confirmed by ${said(r.failed)}`,
                // Each refusal for now says to try again later, which for this tool is sending it to every target again.
                session.serves("notify_send")
                  ? "Sending it again sends it to every target of the channel, those it reached too: tell the user which did not confirm it, and send it again only if they want those it reached to get it twice."
                  : // An automation's step, whose run a person reads: it tries again only those that refused it
                    // for now, not those that refused it for good nor those that may have it (a 5xx after it was sent).
                    "It is not sent again to those that did not confirm it: each refused it for good, or may have it already, as its reason says. Tell them by hand, if they need it.",
              );
            }
            return lines.join("\n");
          },
        }),
      ];
    },
    async check({ settings, http, log, origin }, call) {
      await Promise.all(
        (settings.channels as Channel[]).map(async (c) => {
          let problems: string[];
          let passed: string;
          if (c.type === "telegram") {
            const checked = await checkTelegram(
              telegramApi(c, http, origin),
              c.secret ?? "",
              c.chatIds,
              call,
              c.topicId,
            );
            problems = checked.problems;
            passed = `${checked.bot} can reach ${c.chatIds.map((id) => `chat ${id}`).join(", ")}`;
          } else {
            const options = smtpOptions(c);
            const problem = await checkSmtp(options, call);
            problems = problem ? [problem] : [];
            // verify asks nothing without a login that would show whether the server wants one (no MAIL FROM).
            passed = `the mail server ${options.host}:${options.port} took the connection (tls ${c.tls})${c.user ? ` and the login of ${c.user}` : ", without a login: the channel has no user, and a server that wants one says so only at the first message"}`;
          }
          const where = `${origin("channels")} at ${c.name}`;
          for (const problem of problems) {
            log.warning(`channel ${c.name} (${where}) failed its check at start, nothing sent: ${problem}`);
          }
          if (problems.length === 0) log.info(`channel ${c.name} passed its check at start, nothing sent: ${passed}`);
        }),
      );
    },
  });
}

/** What a channel's sends and checks go through to the Bot API: its base URL, with the token kept out of what is shown. */
function telegramApi(c: Channel & { type: "telegram" }, http: HttpClient, origin: (setting: "channels") => string) {
  return http.upstream("Telegram Bot API", c.baseUrl, {
    secrets: [c.secret ?? ""],
    urlSetting: `the baseUrl of channel ${c.name} in ${origin("channels")}`,
    errors: telegramErrors,
    // No tool reads a chat to check.
    changeAdvice: "Sending the message again may send it twice",
    change: { what: "the message", made: "sent" },
  });
}

function smtpOptions(c: Channel & { type: "email" }): SmtpOptions {
  return { ...c, port: c.port ?? SMTP_PORTS[c.tls], password: c.secret };
}
