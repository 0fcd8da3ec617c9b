import type { Transporter } from "nodemailer";
import { ToolError, UpstreamError } from "../../src/errors.js";
import { withDeadline } from "../../src/http/deadline.js";
import { oneLine } from "../../src/shown.js";
import type { ToolCall } from "../../src/toolset.js";
import type { Sender } from "./sender.js";

export interface SmtpOptions {
  host: string;
  port: number;
  /** tls: TLS from the start (port 465); starttls: upgraded, and required; none: loopback only. */
  tls: "tls" | "starttls" | "none";
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  subject: string;
}

/** A channel's pooled transport, and the sends whose message its server had whole. */
interface Pool {
  transport: Transporter;
  handedOver: WeakSet<AbortSignal>;
}

/**
 * Sends over SMTP with nodemailer, one message per recipient, so one refused address stops no
 * other. nodemailer loads at the first message: it is a third of a start-up that sends none.
 * A channel's messages go one after the other over one connection, open while there are
 * messages to send: a server that limits connections (421) takes every address.
 * A call that ends before the server confirms a message closes the connection, so the message
 * is either not sent (the server never had all of it) or may have been (it had, and did not say).
 */
export function emailSender(options: SmtpOptions): Sender {
  let open: { pool: Promise<Pool>; users: number } | undefined;
  return {
    async send(to: string, text: string, call: ToolCall): Promise<void> {
      open ??= { pool: connect(options), users: 0 };
      const current = open;
      current.users++;
      try {
        await deliver(await current.pool, options, to, text, call);
      } finally {
        if (--current.users === 0) {
          if (open === current) open = undefined;
          current.pool.then(({ transport }) => transport.close()).catch(() => {});
        }
      }
    },
  };
}

async function connect(options: SmtpOptions): Promise<Pool> {
  const nodemailer = await import("nodemailer");
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 1,
    host: options.host,
    port: options.port,
    secure: options.tls === "tls",
    requireTLS: options.tls === "starttls",
    ignoreTLS: options.tls === "none",
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" } } : {}),
  });
  // The server has the whole message once the stream its connection reads has ended.
  const handedOver = new WeakSet<AbortSignal>();
  transport.use("stream", (mail, done) => {
    const { signal } = mail.data;
    mail.message.processFunc((input) => input.once("end", () => signal && handedOver.add(signal)));
    done();
  });
  return { transport, handedOver };
}

async function deliver(pool: Pool, options: SmtpOptions, to: string, text: string, call: ToolCall): Promise<void> {
  const bounded = withDeadline(call);
  try {
    await pool.transport.sendMail({
      from: options.from,
      to,
      subject: options.subject,
      text,
      signal: bounded.call.signal,
    });
  } catch (err) {
    const ended = !bounded.call.signal.aborted
      ? "the connection closed"
      : call.signal.aborted
        ? "the call was cancelled"
        : "the call's time ran out";
    const { responseCode, message } = err as { responseCode?: number; message?: string };
    // Past the message, only the server's answer to it says whether it was delivered.
    if (pool.handedOver.has(bounded.call.signal) && !responseCode) {
      throw new ToolError(
        `The mail server had the whole message but had not confirmed it when ${ended}: it may have been delivered, and sending it again may deliver it twice.`,
      );
    }
    if (bounded.call.signal.aborted) {
      throw new ToolError(`Not sent: ${ended} before the mail server had the message.`);
    }
    if (responseCode) throw refusal(err as SmtpFailure);
    throw new ToolError(`The mail server refused it: ${message ?? err}`);
  } finally {
    bounded.end();
  }
}

/** A mail server's answer, as nodemailer reports it: its reply and the command it answered. */
interface SmtpFailure {
  responseCode: number;
  response?: string;
  command?: string;
  message: string;
}

/**
 * A message the server refused, and what to do. A 4xx is "not done, try later" (RFC 5321
 * 4.2.1: greylisting, too many connections, a busy mailbox): an automation tries again. A 5xx
 * will be refused again until the channel changes.
 */
function refusal({ responseCode, response, command, message }: SmtpFailure): ToolError {
  const said = oneLine(response ?? message);
  if (responseCode < 500) {
    return new UpstreamError(
      `The mail server refused it for now (${said}): not sent; try again later.`,
      responseCode,
      undefined,
      true,
    );
  }
  const fix =
    command === "RCPT TO"
      ? "correct the address in the channel's to"
      : command === "MAIL FROM"
        ? "check the channel's from, an address its login may send as"
        : "check the channel's settings";
  return new ToolError(`The mail server refused it (${said}): not sent; ${fix}, as sending it again will not help.`);
}
