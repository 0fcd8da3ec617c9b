import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface MailServer {
  port: number;
  /** Each recipient of each message it took, in order. */
  received: string[];
  /** Each message it took, as sent (headers and encoded body). */
  messages: string[];
  close(): Promise<void>;
}

/**
 * A real SMTP server (smtp-server) on a free loopback port, without STARTTLS, that takes any
 * message and keeps its recipients; `options` add its checks (onRcptTo, maxClients, no AUTH, an
 * onData that answers the message's end in place of taking it). A
 * `disabledCommands` of its own that leaves STARTTLS out offers it in EHLO, with smtp-server's
 * own certificate.
 * `answerAfterMs` holds the answer to each message that long.
 */
export async function startMailServer(options: SMTPServerOptions = {}, answerAfterMs = 0): Promise<MailServer> {
  const received: string[] = [];
  const messages: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      let data = "";
      stream.on("data", (chunk: Buffer) => {
        data += chunk.toString("utf8");
      });
      stream.on("end", () => {
        received.push(...session.envelope.rcptTo.map((r) => r.address));
        messages.push(data);
        setTimeout(callback, answerAfterMs);
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A mail's subject as a mail client shows it: unfolded (RFC 5322 2.2.3), each encoded word decoded
 * (RFC 2047, Q or B), and the white space between two encoded words left out.
 */
export function subjectOf(data = ""): string {
  const folded = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(data)?.[1] ?? "";
  const word = /=\?UTF-8\?([QB])\?([^?]*)\?=/gi;
  const decoded = (encoding: string, encoded: string) =>
    encoding.toUpperCase() === "B"
      ? Buffer.from(encoded, "base64")
      : Buffer.from(
          encoded
            .replace(/_/g, " ")
            .replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16))),
          "latin1",
        );
  const bytes = folded
    .replace(/\r?\n(?=[ \t])/g, "")
    .replace(/(\?=)\s+(?==\?)/g, "$1")
    .split(/(=\?UTF-8\?[QB]\?[^?]*\?=)/i)
    .map((part) => {
      const [, encoding, encoded] = new RegExp(word.source, "i").exec(part) ?? [];
      return encoding && encoded !== undefined ? decoded(encoding, encoded) : Buffer.from(part, "utf8");
    });
  return Buffer.concat(bytes).toString("utf8");
}

/** A message's text as a mail client shows it: its body decoded from the transfer encoding nodemailer chose. */
export function mailText(message: string): string {
  const split = message.indexOf("\r\n\r\n");
  const [head, body] = [message.slice(0, split), message.slice(split + 4)];
  const encoding = /^Content-Transfer-Encoding: (.+)$/im.exec(head)?.[1]?.trim().toLowerCase();
  if (encoding === "base64") return Buffer.from(body, "base64").toString("utf8").replace(/\r\n/g, "\n");
  if (encoding !== "quoted-printable") return body;
  const bytes = body
    .replace(/=\r\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  // Mail's lines end in CRLF, which a mail client shows as the line breaks the text had.
  return Buffer.from(bytes, "latin1").toString("utf8").replace(/\r\n$/, "").replace(/\r\n/g, "\n");
}
