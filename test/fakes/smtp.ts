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
 * message and keeps its recipients; `options` add its checks (onRcptTo, maxClients, no AUTH).
 * `answerAfterMs` holds the answer to each message that long.
 */
export async function startMailServer(options: SMTPServerOptions = {}, answerAfterMs = 0): Promise<MailServer> {
  const received: string[] = [];
  const messages: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    ...options,
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
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
