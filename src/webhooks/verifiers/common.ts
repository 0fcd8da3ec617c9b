import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { DeadlinePassed } from "../../errors.js";
import { envLines, multipartBoundary, readsAsForm } from "../../forms.js";
import { jsonText, MAX_PAYLOAD_DEPTH, pastBound } from "../../json.js";
import { quote } from "../../shown.js";

/** One POST as it arrived: the raw bytes, never a re-serialized JSON. */
export interface Delivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The request's path and query as sent; only GoPay's GET notifications carry anything in it. */
  url?: string;
  /** Epoch milliseconds at arrival, for timestamp tolerance. */
  now: number;
}

export type Verdict =
  /**
   * Authentic: store it. `id` is the scheme's delivery id, `type` its event type; `payload`, when
   * given, is stored instead of the body (JSON): what the sender's API confirmed.
   */
  | {
      kind: "accept";
      id: string;
      type: string;
      payload?: Buffer;
      /**
       * The id the sender's own log finds the delivery by, where it is not `id` (WooCommerce's
       * delivery ID), with the sender's name: said beside `id` in waiter's log.
       */
      sendersId?: { sender: string; id: string };
      /**
       * The id an older waiter keyed the delivery on, where `id` is not it (a Shopify webhook's id):
       * a retry of a delivery it stored is a repeat of that one.
       */
      formerId?: string;
      /**
       * The header the source's `idHeader` names gave `id`: a sender may put its webhook's id there,
       * not each delivery's, so a repeat of it with another body is another delivery.
       */
      idHeader?: string;
      /**
       * The headers the signature does not cover that came more than once with copies that differ,
       * each with its copies, as `unsignedHeader` words them: said in waiter's log.
       */
      differing?: string[];
    }
  /** Cannot be checked now (the sender's API is unreachable): a 503, so the sender tries again. */
  | { kind: "unavailable"; reason: string }
  /**
   * A sender's handshake that must get 200 but is no event: WooCommerce's creation ping, unsigned,
   * or GitHub's or Stripe's ping or Shopify's test notification, `signed` with the source's secret
   * as its deliveries are, with its delivery `id` (where Shopify's test notification has one).
   * `sender` names the provider, for the log line that says the ping came; `differing`, as an
   * accepted delivery's.
   */
  | { kind: "ping"; sender: string; signed?: true; id?: string; differing?: string[] }
  /**
   * A Standard Webhooks sender's endpoint-verification challenge, no event: answered 204 with
   * `response` in its webhook-challenge-response header, which proves the endpoint holds the secret.
   */
  | { kind: "challenge"; response: string }
  /**
   * Slack's url_verification, no event: answered 200 with its `challenge` in the body, which Slack
   * takes a Request URL only after, `asText` where the sender wants it as the body's whole text
   * (Microsoft Graph's validationToken). Unsigned here: it proves only that the URL answers.
   */
  | { kind: "echo"; sender: string; challenge: string; asText?: true }
  /**
   * Not authentic; `reason` names the check that failed, never an expected value (a header the
   * delivery lacks as `missingHeader` words it, which `headerMissingIn` reads back). `detail`, said
   * beside it in the log alone, tells this refusal from others for the reason (how far a stale
   * timestamp is off), which is counted without it.
   */
  | { kind: "reject"; reason: string; detail?: string };

export type Verifier = (delivery: Delivery) => Verdict | Promise<Verdict>;

/** Senders' clocks and retries: a signed timestamp may be this far from ours either way. */
export const TOLERANCE_SECONDS = 300;

/** The refusal of a signed timestamp too far from waiter's clock, as its sender is told it. */
export const STALE_TIMESTAMP = `timestamp outside the ${TOLERANCE_SECONDS} s tolerance`;

/** The refusal of a signed timestamp that is no number of seconds. */
export const MALFORMED_TIMESTAMP = "missing or malformed timestamp";

/** The refusal of a header written otherwise than its scheme asks. */
export const malformedHeader = (name: string) => `malformed ${name} header`;

/**
 * The finer units a signed timestamp may be written in where its scheme asks seconds, by its
 * digits today (2001 to 2286): a sender that stamps its platform's own time as it is, JavaScript's
 * milliseconds, Go's UnixMicro or UnixNano, Python's time_ns. Seconds will not have 13 digits for
 * 30,000 years.
 */
const FINER_UNITS = new Map([
  [13, "milliseconds"],
  [16, "microseconds"],
  [19, "nanoseconds"],
]);

/** The refusal of a signed timestamp, `named` as its sender sent it, written in a finer unit than seconds. */
const inUnit = (named: string, unit: string) => `${named} in ${unit}, where seconds are asked`;

/**
 * The timestamp (as the refusal names it) and unit a refusal for a timestamp in a finer unit than
 * seconds names, read back from its reason.
 */
export function finerUnitIn(reason: string): { named: string; unit: string } | undefined {
  const [, named, unit] = /^(\S+) in (\w+), where seconds are asked$/.exec(reason) ?? [];
  return named !== undefined && unit !== undefined && [...FINER_UNITS.values()].includes(unit)
    ? { named, unit }
    : undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A header's value as its sender wrote it: Node hands each byte over as one character (latin1),
 * where senders write UTF-8 (and sign an id's UTF-8 bytes). Bytes that are no UTF-8 stay as Node
 * read them.
 */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = Array.isArray(raw) ? raw[0] : raw;
  // Most values are ASCII: read as they are, with no copy made.
  if (value === undefined || !/[\u0080-\u00ff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, "latin1"));
  } catch {
    return value;
  }
}

function hmac(key: Buffer | string, ...parts: (Buffer | string)[]): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** The bytes of an HMAC-SHA256 as `encoding` writes it, or undefined when `received` is none. */
function digestOf(received: string, encoding: "hex" | "base64"): Buffer | undefined {
  const decoded = Buffer.from(received, encoding);
  // Buffer.from skips what is not hex or base64: an odd length or a stray character must not
  // shrink a garbage signature into a match, so the received text must re-encode to itself.
  if (decoded.length !== 32) return undefined;
  const canonical = encoding === "hex" ? decoded.toString("hex") : decoded.toString("base64");
  return canonical === (encoding === "hex" ? received.toLowerCase() : received) ? decoded : undefined;
}

/** Whether `received` is an HMAC-SHA256 as `encoding` writes one, whatever key made it. */
export function isDigest(received: string, encoding: "hex" | "base64"): boolean {
  return digestOf(received, encoding) !== undefined;
}

/** Constant-time comparison of a received signature with the expected one; its form first. */
function sameSignature(received: string, expected: Buffer, encoding: "hex" | "base64"): boolean {
  const decoded = digestOf(received, encoding);
  return decoded !== undefined && timingSafeEqual(decoded, expected);
}

/**
 * Whether any received signature is the HMAC of `parts` under any of `keys` (a source's secrets
 * while one is rotated), each compared in constant time.
 */
export function signedWithAny(
  received: readonly string[],
  keys: readonly (Buffer | string)[],
  encoding: "hex" | "base64",
  ...parts: (Buffer | string)[]
): boolean {
  return keys.some((key) => {
    const expected = hmac(key, ...parts);
    return received.some((signature) => sameSignature(signature, expected, encoding));
  });
}

/**
 * Why a sender's API could not be asked about a delivery, for the log: past `withinMs`, the time
 * waiter gives it while the sender waits for its answer, which is no tool call's deadline, with
 * nothing to ask less of.
 */
export function notAnswered(err: unknown, withinMs: number): string {
  return err instanceof DeadlinePassed
    ? `${err.late} within the ${withinMs / 1000} s waiter gives it while the notification waits`
    : (err as Error).message;
}

export function reject(reason: string): Verdict {
  return { kind: "reject", reason };
}

/**
 * The refusal of a delivery without a header its scheme needs, `name` as its sender spells it
 * (`or`, the other name the header is read by): the log's advice on why every delivery of a
 * source may lack it goes by the header's name, not by the reason's words.
 */
export function missingHeader(name: string, or?: string): Verdict {
  return reject(`missing ${name}${or ? ` (or ${or})` : ""} header`);
}

/**
 * The header a refusal `missingHeader` made names as missing, read back from its reason: the log
 * has the verdict, webhooks_sources only the reason as counted, and both say the same of it.
 */
export function headerMissingIn(reason: string): string | undefined {
  return /^missing (\S+)(?: \(or \S+\))? header$/.exec(reason)?.[1];
}

/**
 * The first of `names` sent, a header its sender sends once (a signature where the scheme takes
 * one, a signed id or timestamp, any header of an unsigned source), where something on the way (a proxy) may have sent it
 * again beside the sender's: Node joins the copies, with ", " between them. Copies alike are the
 * sender's one value, the one its retry sends, so a retry is a repeat however many copies either
 * brought, and a delivery is not refused that no retry would bring again (GitHub and WooCommerce
 * send none). Copies that differ leave no value to take for the sender's: the refusal that says
 * so, which `copiesDifferIn` reads back.
 */
export function headerOnce(headers: IncomingHttpHeaders, ...names: string[]): string | undefined | Verdict {
  const sent = copiesOf(headers, names);
  if (!sent) return undefined;
  return alike(sent.copies) ?? reject(`${sent.name} header sent more than once, its copies differing`);
}

/**
 * The first of `names` sent, a header its signature does not cover, on a delivery whose signature
 * verified. Of copies that differ it is the first: Node joins them in the order they came, and a
 * proxy adds its own after the sender's; the header and its copies are pushed onto `differing`,
 * for the log. Refusing them (`headerOnce`) would lose a signed delivery, which GitHub and
 * WooCommerce never send again, for a header anyone on the way can add.
 */
export function unsignedHeader(
  headers: IncomingHttpHeaders,
  differing: string[],
  ...names: string[]
): string | undefined {
  const sent = copiesOf(headers, names);
  if (!sent) return undefined;
  if (alike(sent.copies) === undefined) differing.push(`${sent.name} (${sent.copies.map(quote).join(", ")})`);
  return sent.copies[0];
}

/** The one value of a header's copies (a value Node joined, split at ", "), undefined where they differ. */
export function alike(copies: string[]): string | undefined {
  const [first = "", ...more] = copies;
  return more.every((copy) => copy === first) ? first : undefined;
}

/** The first of `names` sent, with its copies: Node joins a header sent more than once with ", ". */
export function copiesOf(
  headers: IncomingHttpHeaders,
  names: string[],
): { name: string; copies: string[] } | undefined {
  for (const name of names) {
    const value = header(headers, name);
    if (value !== undefined) return { name, copies: value.split(", ") };
  }
  return undefined;
}

/** The header a refusal `headerOnce` made names as sent more than once, read back from its reason. */
export function copiesDifferIn(reason: string): string | undefined {
  return /^(\S+) header sent more than once, its copies differing$/.exec(reason)?.[1];
}

const parsedBodies = new WeakMap<Buffer, { value: unknown } | null>();

/** The body parsed as JSON, once per delivery however many look; undefined when it is not JSON. */
export function parseBody(body: Buffer): { value: unknown } | undefined {
  let parsed = parsedBodies.get(body);
  if (parsed === undefined) {
    try {
      parsed = { value: JSON.parse(jsonText(body.toString("utf8"))) };
    } catch {
      parsed = null;
    }
    parsedBodies.set(body, parsed);
  }
  return parsed ?? undefined;
}

/** The JSON body as an object, or undefined when the body is not a JSON object. */
export function jsonBody(body: Buffer): Record<string, unknown> | undefined {
  const value = parseBody(body)?.value;
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A stable id for a sender that gives none: the same bytes are the same event. */
export function bodyDigest(body: Buffer): string {
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

/** A type from the payload, as `typeIn` reads it, for senders that put it there. */
export function payloadType(body: Buffer): string | undefined {
  return typeIn(jsonBody(body));
}

/**
 * The type a JSON object names: its `type`, `event` or `topic`, else Mailgun's `event-data.event`;
 * of Slack's Events API, whose every delivery is an `event_callback`, its event's `type`.
 */
function typeIn(json: Record<string, unknown> | undefined): string | undefined {
  const slack = json?.type === "event_callback" ? (json.event as Record<string, unknown> | undefined) : undefined;
  if (typeof slack?.type === "string" && slack.type) return slack.type;
  for (const key of ["type", "event", "topic"]) {
    if (typeof json?.[key] === "string" && json[key]) return json[key] as string;
  }
  const mailgun = json?.["event-data"] as Record<string, unknown> | undefined;
  return typeof mailgun?.event === "string" && mailgun.event ? mailgun.event : undefined;
}

/**
 * A type from a form body (`application/x-www-form-urlencoded`, or multipart/form-data:
 * multipartType; or one under another content type or none, as the event's line reads it) by the fields `payloadType` reads,
 * as Mailchimp posts its `type` and Mailgun's legacy webhooks their `event`; else PayPal IPN's
 * `txn_type`, else a Slack slash command's `command`, else the type of the JSON in a `payload`
 * field, as Slack posts its interactions. Read by a pattern, not parsed whole: an unsigned source
 * takes a stranger's megabyte of fields.
 */
export function formType(headers: IncomingHttpHeaders, body: Buffer): string | undefined {
  const contentType = header(headers, "content-type")?.toLowerCase() ?? "";
  const form = body.toString("utf8");
  // As the event's line reads it: by its boundary, or its fields, whatever content type it came with.
  if (contentType.startsWith("multipart/form-data") || multipartBoundary(undefined, form)) return multipartType(form);
  if (!contentType.startsWith("application/x-www-form-urlencoded") && !readsAsForm(form)) return envType(form);
  for (const key of ["type", "event", "topic", "txn_type"]) {
    const type = formField(form, key);
    if (type) return type;
  }
  // A Slack slash command, whose fields name no type: by its command (/refund), as Slack shows it.
  const command = formField(form, "command");
  if (command?.startsWith("/")) return command;
  const payload = formField(form, "payload");
  // Its brackets were percent-escaped past the body's depth check.
  if (!payload || pastBound(Buffer.from(payload), { depth: MAX_PAYLOAD_DEPTH })) return undefined;
  try {
    const json: unknown = JSON.parse(payload);
    return typeof json === "object" && json !== null && !Array.isArray(json)
      ? typeIn(json as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A type from lines of `NAME=value`, as an env file writes them (envLines), as the event's line reads
 * them: the value of its first line named `type`, `event` or `topic`, in either case (`EVENT=`).
 */
function envType(body: string): string | undefined {
  const lines = envLines(body);
  for (const key of ["type", "event", "topic"]) {
    const type = lines?.find(([name]) => name.toLowerCase() === key)?.[1];
    if (type) return type;
  }
  return undefined;
}

/**
 * A type from a multipart/form-data body, as Mailgun's legacy webhooks post one with the message
 * attached: the text of its first part named `type`, `event` or `topic`, a few part headers or none
 * (a Content-Type, a Content-Transfer-Encoding) between its Content-Disposition and its text.
 */
function multipartType(form: string): string | undefined {
  for (const key of ["type", "event", "topic"]) {
    const type = new RegExp(`\\bname="?${key}"?[ \\t]*\\r?\\n(?:[^\\r\\n]+\\r?\\n){0,4}\\r?\\n([^\\r\\n]+)`).exec(
      form,
    )?.[1];
    if (type) return type;
  }
  return undefined;
}

/** A form field's first value, decoded; undefined where its percent-escapes are broken. */
function formField(form: string, key: string): string | undefined {
  const value = new RegExp(`(?:^|&)${key}=([^&]*)`).exec(form)?.[1];
  try {
    return value && decodeURIComponent(value.replaceAll("+", " "));
  } catch {
    // Broken percent-escapes are no value.
    return undefined;
  }
}

/**
 * The refusal of a signed timestamp `timestampProblem` finds fault with, if it does: a stale one
 * with how far behind or ahead of waiter's clock it is, for the log, as a sender whose clock is off
 * by a whole number of hours (its local time taken for UTC) is told so from a clock of ours that is
 * wrong.
 */
export function timestampRefusal(
  seconds: string | undefined,
  now: number,
  aheadToo = true,
  named = "timestamp",
): Verdict | undefined {
  const problem = timestampProblem(seconds, now, aheadToo, named);
  if (problem !== STALE_TIMESTAMP) return problem === undefined ? undefined : reject(problem);
  const age = ageInSeconds(seconds as string, now);
  const off = age > 0 ? `${age} s behind` : `${-age} s ahead of`;
  return { kind: "reject", reason: problem, detail: `stamped ${off} this machine's clock` };
}

/** How long before `now` a signed timestamp was, in whole seconds, as the senders' own libraries count. */
const ageInSeconds = (seconds: string, now: number) => Math.floor(now / 1000) - Number(seconds);

/**
 * Whether a signed timestamp is within the tolerance of `now`, as the sender's own library checks
 * it: Standard Webhooks' on both sides; Stripe's (`aheadToo` false) only its age, so a delivery
 * stamped ahead of a clock of ours that runs slow is taken, as Stripe's SDK takes it. One fixed
 * reason per failed check: reasons are counted per source, so none may carry a number. One in a
 * finer unit than seconds is told as `named`, the header its sender sent it in where it has more
 * than one name, as one written otherwise than in seconds (a fraction, a date) is.
 */
export function timestampProblem(
  seconds: string | undefined,
  now: number,
  aheadToo = true,
  named = "timestamp",
): string | undefined {
  const finer = seconds && /^\d+$/.test(seconds) ? FINER_UNITS.get(seconds.length) : undefined;
  if (finer) return inUnit(named, finer);
  if (!seconds || !/^\d{1,12}$/.test(seconds))
    return named === "timestamp" ? MALFORMED_TIMESTAMP : malformedHeader(named);
  const age = ageInSeconds(seconds, now);
  const skew = aheadToo ? Math.abs(age) : age;
  return skew > TOLERANCE_SECONDS ? STALE_TIMESTAMP : undefined;
}
