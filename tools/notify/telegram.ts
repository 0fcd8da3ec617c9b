import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { UnconfirmedChange, UpstreamError } from "../../src/errors.js";
import { retryAfterSeconds } from "../../src/http/failures.js";
import type { ErrorMapper, HttpResponse } from "../../src/http/types.js";
import type { Upstream } from "../../src/http/upstream.js";
import { clock } from "../../src/time.js";
import type { ToolCall } from "../../src/toolset.js";
import type { Sender } from "./sender.js";

/** Telegram's error envelope: {"ok":false,"error_code":400,"description":"Bad Request: chat not found"}. */
const failure = z.object({
  ok: z.literal(false),
  description: z.string().default(""),
  parameters: z.object({ retry_after: z.number().optional(), migrate_to_chat_id: z.number().optional() }).optional(),
});
const sent = z.object({ ok: z.literal(true), result: z.object({ message_id: z.number() }) });

function refusal(response: HttpResponse): z.infer<typeof failure> | undefined {
  try {
    return failure.parse(JSON.parse(response.text));
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
 * bot token. A 429 carries the wait Telegram asks for. A 5xx to a message sent may have come
 * after Telegram took it (a proxy that gave up on Telegram's answer).
 */
export const telegramErrors: ErrorMapper = (response, upstream) => {
  const answer = refusal(response);
  const said = answer?.description ? `: ${answer.description}` : "";
  if (response.status >= 500 && response.changes) {
    return new UnconfirmedChange(
      `${upstream} answered ${response.status}${said}: the message may have been sent, and sending it again may send it twice.`,
      response.status,
    );
  }
  if (response.status === 401 || response.status === 404) {
    return new UpstreamError(
      `${upstream} refused the bot token (${response.status}${said}); check the variable the channel's botTokenEnv names.`,
      response.status,
    );
  }
  const moved = answer?.parameters?.migrate_to_chat_id;
  const wait = response.status === 429 ? retryAfter(response, answer) : undefined;
  let advice = "";
  if (wait !== undefined && !said) advice = `; try again in ${wait} s`;
  else if (moved !== undefined) advice = `; the group is now chat ${moved}: put that id in the channel's chatIds`;
  else if (response.status === 403) {
    advice = "; a person must unblock the bot, a group or channel must add it again, or the chat must leave chatIds";
  } else if (/chat not found/i.test(said)) {
    advice =
      "; check the id in the channel's chatIds (a supergroup's starts -100), that the bot is a member of the group or channel, and that a person wrote to the bot first";
  }
  return new UpstreamError(
    `${upstream} did not take the message (${response.status}${said})${advice}.`,
    response.status,
    wait,
  );
};

/** The characters MarkdownV2 reserves, each sent escaped so the text shows as written. */
const RESERVED = /[_*[\]()~`>#+\-=|{}.!\\]/g;

export function escapeMarkdownV2(text: string): string {
  return text.replace(RESERVED, "\\$&");
}

/**
 * Sends through the Bot API's sendMessage. A 429 says how long to wait (`retry_after`); the
 * message was not sent, so it is sent again after that wait when the call's deadline allows.
 */
export function telegramSender(api: Upstream, token: string, format: "text" | "markdownv2"): Sender {
  return {
    async send(chatId: string, text: string, call: ToolCall): Promise<void> {
      // Telegram refuses a text that is not UTF-8 whole ("text must be encoded in UTF-8"); a mail
      // client shows such a half as �, and so does the chat.
      const shown = text.toWellFormed();
      const body = JSON.stringify({
        chat_id: chatId,
        text: format === "markdownv2" ? escapeMarkdownV2(shown) : shown,
        ...(format === "markdownv2" ? { parse_mode: "MarkdownV2" } : {}),
        link_preview_options: { is_disabled: true },
      });
      for (;;) {
        const response = await api.send(
          `/bot${token}/sendMessage`,
          { method: "POST", headers: { "content-type": "application/json" }, body },
          call,
        );
        const asked = response.status === 429 ? retryAfter(response) : undefined;
        // At least a second: a retry_after of 0 must not turn into a burst.
        const wait = asked === undefined ? undefined : Math.max(1, asked);
        if (wait !== undefined && clock.now() + wait * 1000 < call.deadline) {
          // Cut short (the call cancelled, waiter stopping), the call ends in the refusal: nothing was sent.
          const waited = await sleep(wait * 1000, true, { signal: call.signal }).catch(() => false);
          if (!waited) api.read(sent, response);
          continue;
        }
        api.read(sent, response);
        return;
      }
    },
  };
}
