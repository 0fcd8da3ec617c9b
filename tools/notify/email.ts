import type { Transporter } from "nodemailer";
import { ToolError } from "../../src/errors.js";
import { untilAborted, withDeadline } from "../../src/http/deadline.js";
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

/**
 * Sends over SMTP with nodemailer, one message per recipient, so one refused address stops no
 * other. nodemailer loads at the first message: it is a third of a start-up that sends none.
 */
export function emailSender(options: SmtpOptions): Sender {
  let transport: Promise<Transporter> | undefined;
  const connect = async () => {
    const nodemailer = await import("nodemailer");
    return nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.tls === "tls",
      requireTLS: options.tls === "starttls",
      ignoreTLS: options.tls === "none",
      ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" } } : {}),
    });
  };
  return {
    async send(to: string, text: string, call: ToolCall): Promise<void> {
      if (call.signal.aborted) throw new ToolError("Not sent: waiter is stopping.");
      transport ??= connect().catch((err) => {
        transport = undefined;
        throw err;
      });
      const sending = transport.then((t) => t.sendMail({ from: options.from, to, subject: options.subject, text }));
      const bounded = withDeadline(call);
      try {
        await untilAborted(sending, bounded.call.signal);
      } catch (err) {
        if (call.signal.aborted) throw new ToolError("waiter stopped before the mail server answered.");
        if (bounded.call.signal.aborted) throw new ToolError("The mail server did not answer within the call's time.");
        const { responseCode, message } = err as { responseCode?: number; message?: string };
        throw new ToolError(`The mail server refused it${responseCode ? ` (${responseCode})` : ""}: ${message ?? err}`);
      } finally {
        bounded.end();
      }
    },
  };
}
