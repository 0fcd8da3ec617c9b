import { Transform } from "node:stream";
import type { Transporter } from "nodemailer";
import { ToolError, UpstreamError } from "../../src/errors.js";
import { stoppedBeforeDeadline, throwIfMayNotSend, untilAborted, withDeadline } from "../../src/http/deadline.js";
import type { Call } from "../../src/http/types.js";
import {
  CUT,
  connectionMessage,
  NO_HANDLE,
  NO_ROUTE,
  neverConnected,
  notConnected,
  notTrusted,
  tellingCode,
  UNTRUSTED,
} from "../../src/net-failures.js";
import { cutCodePoints, oneLine, withoutInvisible, withoutSecrets } from "../../src/shown.js";
import { clock } from "../../src/time.js";
import type { ToolCall } from "../../src/toolset.js";
import type { Sender } from "./sender.js";

/** The port each way of securing the connection is served on, when the channel names none. */
export const SMTP_PORTS = { tls: 465, starttls: 587, none: 25 } as const;

export interface SmtpOptions {
  host: string;
  port: number;
  /** tls: TLS from the start (port 465); starttls: upgraded, and required; none: loopback only. */
  tls: "tls" | "starttls" | "none";
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  /** Shown beside `from` by mail clients: "Shop <shop@example.cz>". */
  fromName?: string | undefined;
  subject: string;
}

/**
 * A channel's pooled transport, the sends whose message its server had whole, what its EHLO
 * offered, and `loginFailed`, aborted with a login it refused for good, which ends the pool's other sends.
 */
interface Pool {
  transport: Transporter;
  handedOver: WeakSet<AbortSignal>;
  ehlo: Ehlo;
  loginFailed: AbortController;
}

/** What the server's answer to EHLO offered that a failure's advice needs. */
interface Ehlo {
  startTls: boolean;
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
    async send(to: string, text: string, call: ToolCall): Promise<undefined> {
      open ??= { pool: connect(options, call), users: 0 };
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
      return undefined;
    },
  };
}

/** The most a connection may take to open and be greeted (nodemailer's own are 2 min and 30 s). */
const SETUP_MS = 10_000;

/**
 * How long a connection may take to open and be greeted: half the call's time left at most, so
 * that a server that never greets (one that wants TLS from the start) is named as such before the
 * call runs out. Whole milliseconds: nodemailer gives it to node:dns as the look-up's timeout,
 * and a fraction there throws where nothing catches it, ending the process.
 */
export function setupMs(deadline: number, now = clock.now()): number {
  return Math.max(100, Math.min(SETUP_MS, Math.floor((deadline - now) / 2)));
}

/**
 * How nodemailer reaches the channel's server and logs in, a send and a check alike, within `setupMs`;
 * `ehlo` learns what the server's EHLO offered.
 */
function serverOptions(options: SmtpOptions, setup: number, ehlo: Ehlo) {
  return {
    connectionTimeout: setup,
    greetingTimeout: setup,
    host: options.host,
    port: options.port,
    secure: options.tls === "tls",
    requireTLS: options.tls === "starttls",
    ignoreTLS: options.tls === "none",
    // A login configured is a login used: a server that offers none is refused, not sent to without it.
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" }, forceAuth: true } : {}),
    // A channel that never upgrades (nodemailer's ignoreTLS) hears of STARTTLS only in the server's
    // answers, which nodemailer hands only to a logger: a login the server then refuses may be one
    // it gives only over TLS (Postfix's smtpd_tls_auth_only), and the advice is tls "starttls".
    ...(options.tls === "none" && options.user
      ? {
          transactionLog: true,
          logger: {
            debug(entry: { tnx?: string } | undefined, said?: unknown) {
              if (entry?.tnx === "server" && typeof said === "string" && /^250[ -]STARTTLS\b/im.test(said)) {
                ehlo.startTls = true;
              }
            },
          },
        }
      : {}),
  };
}

/** A pool for the messages of `call`, set up within `setupMs`. */
async function connect(options: SmtpOptions, call: ToolCall): Promise<Pool> {
  const nodemailer = await import("nodemailer");
  const ehlo = { startTls: false };
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 1,
    ...serverOptions(options, setupMs(call.deadline), ehlo),
  });
  // The server has the whole message once the stream its connection reads has ended.
  const handedOver = new WeakSet<AbortSignal>();
  transport.use("stream", (mail, done) => {
    const { signal } = mail.data;
    mail.message.processFunc((input) => input.pipe(withoutFromLines()));
    mail.message.processFunc((input) => input.once("end", () => signal && handedOver.add(signal)));
    done();
  });
  return { transport, handedOver, ehlo, loginFailed: new AbortController() };
}

/** A line that begins "From ", which an mbox mailbox reads as the start of another message. */
const FROM_LINE = /^From /m;

/**
 * A message whose lines that begin "From " read "=46rom " (quoted-printable's "F"): a mailbox in the
 * mbox format (Postfix's local delivery to /var/mail) begins each message with such a line, and
 * its delivery writes a text's own as ">From ", which the reader then sees. Only a quoted-printable
 * body can be written so: a text with such a line is sent in it, and a body in base64 holds no space.
 * Header lines never begin so: each is a name and a colon, or folded, white space first.
 */
function withoutFromLines(): Transform {
  // What follows the last line break so far, whose line may begin "From " once the next chunk comes.
  let line = "";
  const armored = (lines: string) => lines.replace(/(^|\n)From /g, "$1=46rom ");
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const text = line + chunk.toString("latin1");
      const end = text.lastIndexOf("\n") + 1;
      line = text.slice(end);
      done(null, Buffer.from(armored(text.slice(0, end)), "latin1"));
    },
    flush(done) {
      done(null, Buffer.from(armored(line), "latin1"));
    },
  });
}

/** Characters of a message's first line its subject shows after the channel's subject. */
const SUBJECT_CHARACTERS = 100;

/**
 * The channel's subject and the message's first line ("From the shop: Order 1042 is paid."): an
 * inbox of messages that all read "waiter" cannot be sorted, and mail clients thread them as one.
 * A first line that already begins with the channel's subject (a failed automation's notice,
 * "waiter: automation …", to a channel with the default subject) does not get it twice.
 */
function subjectOf(subject: string, text: string): string {
  // The first line a reader sees something of: one of invisible or control characters alone is as blank.
  const line = text
    .split(/\r\n|\r|\n/)
    .map(asSubject)
    .find((each) => each !== "");
  if (!line) return subject;
  const own = `${subject}: `;
  return `${own}${cutCodePoints(line.startsWith(own) ? line.slice(own.length) : line, SUBJECT_CHARACTERS)}`;
}

/**
 * A line as a subject shows it: without invisible format characters, its runs of controls and
 * spaces one space, as oneLine makes them, but a no-break space and Unicode's other spaces (thin,
 * narrow, ideographic) kept as the body has them: "1 999 Kč" and "v Praze" are written with a
 * no-break space so that they do not break apart. Spaces at either end show nothing.
 */
function asSubject(line: string): string {
  return withoutInvisible(line)
    .replace(/[ \p{Cc}\u2028\u2029]+/gu, " ")
    .replace(/^\s+|\s+$/gu, "");
}

/**
 * The subject as it goes in its header. nodemailer passes on what already reads as an encoded word
 * (RFC 2047, =?UTF-8?Q?…?=) as it is, which a mail client decodes: a sender's text in a first line
 * would show other words than were sent, a direction override among them. Such a subject is
 * encoded whole, so it shows as written.
 */
async function subjectHeader(subject: string): Promise<string> {
  if (!subject.includes("=?")) return subject;
  const { encodeWord } = await import("nodemailer/lib/mime-funcs");
  return encodeWord(subject, "Q", 52);
}

/**
 * The text as a mail's body: each line that another follows ends in three spaces, which no reader
 * sees. Outlook's default ("remove extra line breaks in plain text messages") runs a line into the
 * next once a line of 40 characters or more came before, unless it ends in three spaces or more:
 * its reader would see "Částka: 1 999 Kč Doprava: Zásilkovna" as one line.
 */
function asMailBody(text: string): string {
  // One that ends in a space or two gets only the spaces it lacks; one of spaces alone is blank.
  return text.replace(/(?<=[^\n ]) {0,2}\n/g, "   \n");
}

async function deliver(pool: Pool, options: SmtpOptions, to: string, text: string, call: ToolCall): Promise<void> {
  const refused = pool.loginFailed.signal;
  if (refused.aborted) throw refused.reason;
  // As the HTTP client asks before each request: an automation's replica frozen past its lease sends nothing.
  throwIfMayNotSend(call, `The mail server (${options.host}:${options.port})`, "send it");
  const bounded = withDeadline(call);
  const signal = AbortSignal.any([bounded.call.signal, refused]);
  try {
    await pool.transport.sendMail({
      from: options.fromName ? { name: options.fromName, address: options.from } : options.from,
      to,
      subject: await subjectHeader(subjectOf(options.subject, text)),
      // A machine's message (RFC 3834): auto-responders (out of office) do not answer it; Exchange's
      // and Outlook's heed their own header for it (MS-OXCMAIL 2.1.3.2.20).
      headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "OOF, AutoReply" },
      date: new Date(clock.now()),
      text: asMailBody(text),
      ...(FROM_LINE.test(text) ? { textEncoding: "quoted-printable" as const } : {}),
      signal,
    });
  } catch (err) {
    // Queued behind a login the server refused: the same login on a connection of its own would be
    // refused too, and a server that bans an address after a few (fail2ban) would ban this machine.
    if (refused.aborted && !bounded.call.signal.aborted) throw refused.reason;
    const ended = !bounded.call.signal.aborted
      ? "the connection closed"
      : call.signal.aborted
        ? "the call was cancelled"
        : `the call's time${call.deadlineSetting ? ` (${call.deadlineSetting})` : ""} ran out`;
    const { responseCode } = err as SmtpFailure;
    // Past the message, only the server's answer to it says whether it was delivered: a 4xx or
    // 5xx that it was not (RFC 5321 4.2.1), where any other code says nothing of it.
    if (pool.handedOver.has(signal) && !(responseCode && responseCode >= 400 && responseCode < 600)) {
      const answer = responseCode
        ? `answered ${saidBy(err as SmtpFailure, options)}, which says neither that it took it nor that it refused it`
        : `had not confirmed it when ${ended}`;
      throw new ToolError(
        `The mail server had the whole message ${responseCode ? "and" : "but"} ${answer}: it may have been delivered, and sending it again may deliver it twice.`,
      );
    }
    if (bounded.call.signal.aborted) {
      // The server never had it whole, so it cannot deliver it: sending it again later is safe.
      throw new UpstreamError(`Not sent: ${ended} before the mail server had the message.`, undefined, undefined, true);
    }
    const failure = smtpFailure(err as SmtpFailure, options, to, pool.ehlo);
    if ((err as SmtpFailure).code === "EAUTH" && !(failure instanceof UpstreamError)) pool.loginFailed.abort(failure);
    throw failure;
  } finally {
    bounded.end();
  }
}

/** How nodemailer reports a failure: the server's reply and the command it answered, or the socket's error. */
export interface SmtpFailure {
  responseCode?: number;
  response?: string;
  command?: string;
  code?: string;
  originalCode?: string;
  /** Which part of opening the connection took too long: CONNECT_TIMEOUT, GREETING_TIMEOUT, UPGRADE_TIMEOUT. */
  timeoutType?: string;
  reason?: string;
  message: string;
  /** The socket error's own, which nodemailer keeps: where it failed, and each address's error. */
  syscall?: string;
  errors?: unknown[];
}

const base64 = (text: string) => Buffer.from(text).toString("base64");

/** What the server or the socket said of a failure, on one line, without the login a reply may repeat. */
function saidBy({ reason, response, message }: SmtpFailure, { user = "", password = "" }: SmtpOptions): string {
  // The password as AUTH LOGIN and AUTH PLAIN send it, and as written; PLAIN's pair decoded too.
  const plain = `\0${user}\0${password}`;
  const login = [password, base64(password), plain, base64(plain)];
  return oneLine(withoutSecrets(reason || response || message, login));
}

/** OpenSSL's words when one side speaks TLS and the other does not. */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol/;

/** What to do where no setting of the channel but the mail server it sends through mends a refusal. */
const ELSEWHERE = "send through another mail server (the channel's host, port, user and passwordEnv)";

/**
 * Mail servers' own words for a refusal that neither an address nor the text mends, whichever
 * command they answer and whatever their codes otherwise say, each with what to change; the
 * first that matches is told. `later`: the server takes the mail again in time.
 */
const SERVER_WORDS: readonly { words: RegExp; fix: string; later?: true }[] = [
  {
    // A sending quota used up: RFC 3463's 5.4.5 (mail system congestion, "a persistent transient error"),
    // as Gmail answers a login past its daily sending limit, or its words (a Postfix host's "Sending
    // Quota Exceeded", Exchange Online's SubmissionQuotaExceeded). No address, sender or login of the
    // channel is wrong.
    words: /^5\.4\.5\b|\bsending (?:quota|limit)\b|SubmissionQuotaExceeded/i,
    fix: "the server lets the channel send no more for now, as it has sent what its sending quota allows (as Gmail's daily one): it takes mail again once that frees up, so send it then, or through another mail server",
    later: true,
  },
  {
    // This machine's address on a blocklist (a DNSBL), said in the answer to an address as Postfix's
    // reject_rbl_client ("Client host [ip] blocked using …"), Exim's dnslists and Microsoft 365 say
    // it (5.7.606 to 5.7.649 "banned sending IP", 5.7.511 "banned sender[ip]"), or to MAIL FROM as
    // Outlook.com does ("on our block list (S3150)").
    words:
      /\bclient(?: host)? \[[^\]]*\] blocked using\b|\bis in a black ?list at\b|\bbanned send(?:ing IP|er ?\[)|\bon our block ?list\b/i,
    fix: `the server takes no mail from this machine, whose address a blocklist names: ${ELSEWHERE}, or ask whoever runs it to take mail from this machine`,
  },
  {
    // Exchange Online's answer to the message's end where the login may not send as its From (5.2.252,
    // or 5.2.0 with STOREDRV's SendAsDeniedException), and Exchange Server's 5.7.60 in its words for
    // it: neither the text nor the sender's domain.
    words: /\bSendAsDenied|\bpermissions? to send as this sender/i,
    fix: "the channel's login may not send as its from: set from to the login's own address, or have the login given the right to send as it",
  },
  {
    // Amazon SES's answer to the message's end where an address it names is none of its verified identities.
    words: /\bEmail address is not verified\b/i,
    fix: "the server sends only from and to addresses verified with it (Amazon SES's identities, which its answer names; in its sandbox, the addresses in to too): verify those with it, or set from to an address it has verified",
  },
];

/**
 * Why a message the server never had whole was not sent, and what to change. A 4xx is "not
 * done, try later" (RFC 5321 4.2.1: greylisting, too many connections, a busy mailbox), and so are
 * a code that is neither 4xx nor 5xx and a server that could not be reached at all: an automation
 * tries again. A 5xx, a login refused or answered out of turn, or TLS that fails will fail again
 * until the channel changes. `ehlo`, what the server's EHLO offered, where known.
 */
export function smtpFailure(err: SmtpFailure, options: SmtpOptions, to?: string, ehlo?: Ehlo): ToolError {
  const { responseCode, response, command, code, originalCode, message, timeoutType } = err;
  const { host, port, tls } = options;
  const said = saidBy(err, options);
  if (NOT_TLS.test(message)) {
    return new ToolError(
      `Not sent: the mail server ${host}:${port} does not answer TLS (${said}); with tls "tls" use the server's port for TLS from the start (usually 465), or tls "starttls" (usually 587).`,
    );
  }
  if (originalCode && UNTRUSTED.includes(originalCode)) {
    return new ToolError(`Not sent: the mail server's certificate ${notTrusted(said)}.`);
  }
  if (originalCode === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new ToolError(
      `Not sent: the mail server's certificate does not name ${host} (${said}); set host to a name the certificate names.`,
    );
  }
  if (code === "ETLS" && command === "STARTTLS") {
    return new ToolError(
      `Not sent: the mail server does not offer STARTTLS (${said}); if it takes TLS from the start, use tls "tls" and its port for that (usually 465).`,
    );
  }
  // Mail or a login taken only once TLS is up (RFC 3207's 530 "Must issue a STARTTLS command first",
  // RFC 4954's 538), from a channel that never upgrades: not a login missing or refused.
  if (tls === "none" && (responseCode === 538 || (responseCode === 530 && /STARTTLS/i.test(response ?? "")))) {
    return new ToolError(
      `Not sent: the mail server takes ${code === "EAUTH" ? "a login" : "mail"} only over TLS (${said}); set the channel's tls to "starttls".`,
    );
  }
  // Only a 4xx or 5xx refuses a command (RFC 5321 4.2.1): another code is a server out of step.
  const outOfTurn = !!responseCode && (responseCode < 400 || responseCode >= 600);
  if (outOfTurn && code === "EAUTH" && command?.startsWith("AUTH ")) {
    // A login the server answers out of step (AUTH LOGIN answered 235 where it asks for the user)
    // goes the same way on every connection: trying again later will not mend it.
    return new ToolError(
      `Not sent: the login to the mail server did not complete, as it answered ${command} out of turn (${said}); check the channel's user and the password in the variable its passwordEnv names, and which login mechanisms the server offers, as sending it again will not help.`,
    );
  }
  if (outOfTurn) {
    // Out of step before it had the message whole, it may answer right on a new connection.
    return new UpstreamError(
      `The mail server answered out of turn (${said}): not sent; try again later.`,
      responseCode,
      undefined,
      true,
    );
  }
  // RFC 7372's x.7.25 (reverse DNS validation failed), as Gmail answers the message, or Postfix's
  // reject_unknown_client_hostname and reject_unknown_reverse_client_hostname in their own words,
  // 450 unless its unknown_client_reject_code says 550: this machine's address names no host that
  // leads back to it (a PTR record), which no setting of the channel but another server mends.
  const noHostName = /^[45]\.7\.25\b|\bcannot find your (?:reverse )?hostname\b|\bPTR record/i.test(
    response?.slice(4) ?? "",
  );
  const setHostName = `have one set by whoever runs this machine's network, or ${ELSEWHERE}`;
  if (responseCode && responseCode < 500) {
    const hostName = noHostName
      ? `, but while it finds no host name that leads back to this machine's address (reverse DNS, a PTR record) it will not take it: ${setHostName}`
      : "";
    return new UpstreamError(
      `The mail server refused it for now (${said}): not sent; try again later${hostName}.`,
      responseCode,
      undefined,
      true,
    );
  }
  // AUTH unknown, not implemented or not enabled (Postfix: 503 5.5.1 Error: authentication not
  // enabled): no login is given on that port, whatever the password, as on a relay's port 25.
  if (code === "EAUTH" && (responseCode === 500 || responseCode === 502 || responseCode === 503)) {
    // One that offers STARTTLS to a channel that never upgrades may give a login once TLS is up.
    if (tls === "none" && ehlo?.startTls) {
      return new ToolError(
        `Not sent: the mail server offers no login without TLS (${said}), and offers STARTTLS; set the channel's tls to "starttls", or leave out its user and passwordEnv if it takes the channel's mail without a login.`,
      );
    }
    return new ToolError(
      `Not sent: the mail server offers no login (${said}); set the channel's port to the one it takes logged-in mail on (usually 587), or leave out its user and passwordEnv if it takes the channel's mail without a login.`,
    );
  }
  // RFC 4954's 504 to AUTH: a mechanism it does not take. nodemailer picks PLAIN, LOGIN or
  // CRAM-MD5 from those the server offers, and PLAIN when it offers none of them (Exchange's
  // GSSAPI NTLM, a provider's XOAUTH2 alone): no password would be taken that way.
  if (code === "EAUTH" && responseCode === 504) {
    return new ToolError(
      `Not sent: the mail server takes none of the login mechanisms waiter uses, PLAIN, LOGIN and CRAM-MD5 (${said}); have it take one of them for the channel's user, on its port or another (usually 587), or leave out the channel's user and passwordEnv if it takes the channel's mail without a login.`,
    );
  }
  // Microsoft 365's 535 5.7.139 where SMTP AUTH is off for the tenant or the mailbox, or its security
  // defaults block it: the same refusal whatever the password. Security defaults keep it off whatever
  // the mailbox's Authenticated SMTP says.
  const smtpAuthOff = /SmtpClientAuthentication is disabled|(security defaults)/i.exec(response ?? "");
  if (code === "EAUTH" && smtpAuthOff) {
    const mend = smtpAuthOff[1]
      ? "turn off the security defaults (in Microsoft Entra ID), which keep SMTP AUTH off whatever the mailbox's Authenticated SMTP says"
      : "turn on Authenticated SMTP for the user";
    return new ToolError(
      `Not sent: the mail server takes no password for the channel's user (${said}), as Microsoft 365 does where SMTP AUTH is off for its tenant or mailbox or its security defaults are on: an administrator must ${mend}, or send through another mail server, as no password mends it.`,
    );
  }
  // Gmail's 534 5.7.9 to an account's own password where the account has 2-Step Verification.
  if (code === "EAUTH" && /Application-specific password required/i.test(response ?? "")) {
    return new ToolError(
      `Not sent: the mail server wants an app password for the channel's user (${said}), as Gmail does for an account with 2-Step Verification: create one in the Google account (Security, App passwords), put it in the variable the channel's passwordEnv names, then restart waiter, which reads it only as it starts.`,
    );
  }
  if (code === "EAUTH") {
    return new ToolError(
      `Not sent: the mail server refused the login (${said}); check the channel's user and the password in the variable its passwordEnv names, then restart waiter, which reads it only as it starts.`,
    );
  }
  // A 554 for the greeting (RFC 5321 3.1): the server takes nothing from this machine (its address on
  // a blocklist, a network it does not serve), whatever the channel's addresses or login.
  if (responseCode && command === "CONN") {
    return new ToolError(
      `Not sent: the mail server refused the connection in its greeting (${said}), before any address or login: it takes no mail from this machine; check the channel's host and port, or ask whoever runs the server to take mail from this machine, as sending it again will not help.`,
    );
  }
  if (responseCode) {
    // RFC 3463's enhanced code tells an address (5.1.x) from the server's policy (5.7.x: relaying
    // denied), which no change of address in to mends. To MAIL FROM of a login, it is a sender the
    // login may not send as (Postfix's "not owned by user"), which the channel's from mends.
    const enhanced = response?.slice(4) ?? "";
    const policy = /^5\.7\./.test(enhanced);
    // 5.1.7 and 5.1.8 (the sender's address or its domain): the channel's from, whichever command
    // was answered, as Postfix answers its checks of the sender at RCPT TO (smtpd_delay_reject).
    const sender = /^5\.1\.[78]\b/.test(enhanced);
    // A message larger than the server takes: RFC 3463's 5.3.4 (Postfix's message_size_limit) and
    // 5.2.3, or a 552 without an enhanced code in RFC 1870's words ("message size exceeds fixed maximum").
    const bare552 = responseCode === 552 && !/^\d\.\d/.test(enhanced);
    const tooBig = /^5\.(3\.4|2\.3)\b/.test(enhanced) || (bare552 && /\bsize\b/i.test(enhanced));
    // 5.2.1 and 5.2.2 (mailbox disabled, full), or another 552 without an enhanced code (RFC 5321:
    // exceeded storage allocation) to RCPT TO or DATA, each message having one recipient: the
    // address is right, and its owner can mend it. To MAIL FROM, no mailbox is named yet: it is
    // the message's size, or the server's own storage.
    const mailbox =
      /^5\.2\.[12]\b/.test(enhanced) || (bare552 && !tooBig && (command === "RCPT TO" || command === "DATA"));
    const tooLarge = bare552 && command === "MAIL FROM";
    // A server that wants a login (RFC 4954: 530), or that relays only for one, from a channel that
    // gives none: there is no user to check, one is to be given.
    const anonymous = !options.user && (command === "MAIL FROM" || command === "RCPT TO");
    // Refused at the message's end (nodemailer's EMESSAGE): its envelope was taken, so not the
    // addresses nor the login, but the message, by a spam filter or the sender's domain's SPF or DMARC.
    const messageRefused = code === "EMESSAGE" && command === "DATA";
    // RFC 7372's 5.7.20 to 5.7.29 but 5.7.25: the sender's domain failed SPF, DKIM or DMARC, or its MX is null,
    // whichever command it answers (policyd-spf answers RCPT TO): neither the login nor the address.
    const senderDomain = /^5\.7\.2\d\b/.test(enhanced);
    const known = SERVER_WORDS.find(({ words }) => words.test(enhanced));
    if (known) {
      return new ToolError(
        `The mail server refused it (${said}): not sent; ${known.fix}${known.later ? "" : ", as sending it again will not help"}.`,
      );
    }
    const login =
      "and the channel logs in as no one: give it the user and passwordEnv of an account that may send through the server";
    const fix = tooBig
      ? "the message is larger than the server takes: send a shorter text, or ask whoever runs the server to take larger messages"
      : noHostName
        ? `the server takes no mail from this machine, whose address has no host name that leads back to it (reverse DNS, a PTR record): ${setHostName}`
        : messageRefused && !mailbox
          ? "the server refused the message itself, once it had it, as a spam filter or a check of the sender's domain (SPF, DMARC) does: check the text, and that the channel's from is an address of a domain that lets this server send for it"
          : senderDomain
            ? "the server's check of the sender's domain (SPF, DKIM, DMARC) failed: check that the channel's from is an address of a domain that lets this server send for it"
            : anonymous && responseCode === 530
              ? `the server wants a login, ${login}`
              : anonymous && policy
                ? `the server's policy refuses it, ${login}, and to such addresses`
                : policy && command !== "MAIL FROM"
                  ? "the server's policy refuses it: check that the channel's user may send through it, and to such addresses"
                  : mailbox
                    ? "the mailbox takes no mail (full, or disabled): tell its owner, or take the address out of the channel's to"
                    : tooLarge
                      ? "the server refused it before any recipient was named, so not for a mailbox: it takes no message this large, or has no room for the channel's mail; ask whoever runs it"
                      : sender || command === "MAIL FROM"
                        ? `check the channel's from${options.user ? ", an address its login may send as" : ""}${needsSmtpUtf8(options.from)}`
                        : command === "RCPT TO"
                          ? `correct the address in the channel's to${needsSmtpUtf8(to)}`
                          : "check the channel's settings";
    return new ToolError(`The mail server refused it (${said}): not sent; ${fix}, as sending it again will not help.`);
  }
  // Connected, and not greeted within what was left of the time to connect and be greeted: a server
  // that takes TLS from the start waits in silence for it, and so does one merely slow to greet
  // (a slow look-up or connection left it little time, or it pauses its greeting against spam, as
  // Postfix's postscreen does). Port 465 is TLS's from the start (RFC 8314), where silence says so.
  if (timeoutType === "GREETING_TIMEOUT" && tls !== "tls" && port === SMTP_PORTS.tls) {
    return new ToolError(
      `Not sent: the mail server ${host}:${port} sent no greeting (${said}); port ${port} is for TLS from the start, where a server waits in silence for it: set the channel's tls to "tls".`,
    );
  }
  if (timeoutType === "GREETING_TIMEOUT" && tls !== "tls") {
    return new UpstreamError(
      `Not sent: the mail server ${host}:${port} sent no greeting in time (${said}): it is slow, or waits in silence for TLS from the start (tls "tls"); try again later, or if it lasts, check the channel's host, port and tls.`,
      undefined,
      undefined,
      true,
    );
  }
  if (timeoutType === "GREETING_TIMEOUT") {
    // TLS came up, so the port serves it: a server too busy or hung to greet, sent nothing, as
    // one that never connects is; an automation tries again.
    return new UpstreamError(
      `Not sent: the mail server ${host}:${port} sent no greeting once TLS was up (${said}); try again later, or if it lasts, check the channel's host and port.`,
      undefined,
      undefined,
      true,
    );
  }
  if (timeoutType === "UPGRADE_TIMEOUT") {
    // The server said yes to STARTTLS and the handshake did not end within what was left of the time
    // to connect: nothing was sent, and an automation tries again.
    return new UpstreamError(
      `Not sent: the mail server ${host}:${port} did not end its STARTTLS handshake in time (${said}); try again later, or if it lasts, check the channel's host, port and tls.`,
      undefined,
      undefined,
      true,
    );
  }
  if (timeoutType === "CONNECT_TIMEOUT" && tls === "tls") {
    // Opening it includes the TLS handshake, which a port that takes the connection and serves no
    // TLS from the start never ends: nothing was sent either way.
    return new UpstreamError(
      `Not sent: no TLS connection to the mail server ${host}:${port} opened in time (${said}); it or the network is down, a firewall drops the connection, or the port serves no TLS from the start; try again later, or if it lasts, check the channel's host, port and tls.`,
      undefined,
      undefined,
      true,
    );
  }
  if (timeoutType === "CONNECT_TIMEOUT") {
    // No connection opened: nothing was sent, and an automation tries again.
    return new UpstreamError(
      `Not sent: no connection to the mail server ${host}:${port} opened in time (${said}); it or the network is down, or a firewall drops the connection; try again later.`,
      undefined,
      undefined,
      true,
    );
  }
  const server = `the mail server ${host}:${port}`;
  const socket = { code: originalCode, syscall: err.syscall, errors: err.errors };
  // Tried at IPv6 and IPv4, by the address that tells most: a refusal over a timeout in its turn.
  const failed = tellingCode(socket);
  const why = notConnected(failed, {
    name: `the mail server's name ${host}`,
    connection: `the connection to ${server}`,
    nameSetting: "the channel's host",
    portSetting: "the channel's host and port",
  });
  const opened = !neverConnected(socket);
  if (why) {
    const notSent = `Not sent: ${why}.`;
    return opened ? new ToolError(notSent) : new UpstreamError(notSent, undefined, undefined, true);
  }
  // This machine's reasons, not the channel's settings: no connection opened, so nothing was sent.
  if (NO_HANDLE.includes(failed ?? "")) {
    return new UpstreamError(
      `Not sent: waiter has no file handle left for a connection to ${server} (too many open at once, or its ulimit -n too low); try again later, or if it lasts, tell whoever runs waiter.`,
      undefined,
      undefined,
      true,
    );
  }
  if (NO_ROUTE.includes(failed ?? "")) {
    return new UpstreamError(
      `Not sent: this machine has no route to ${server} (its network is down or unreachable); try again later, or if it lasts, check this machine's network.`,
      undefined,
      undefined,
      true,
    );
  }
  // nodemailer's words for a connection the server closed while a command waited for its answer.
  const closed = code === "ECONNECTION" && command === "CONN" && !originalCode;
  if (closed || CUT.includes(failed ?? "")) {
    // Cut before the server had the whole message, which it cannot have delivered: an automation tries again.
    return new UpstreamError(
      `Not sent: ${server} cut the connection before it had the message; try again later, or if it lasts, check the channel's host, port and tls.`,
      undefined,
      undefined,
      true,
    );
  }
  if (!opened) {
    // Tried at each of its addresses, none of which opened, for reasons named nowhere above.
    const each = said || connectionMessage(err);
    return new UpstreamError(
      `Not sent: no connection to ${server} opened (${each}); it or the network is down; try again later.`,
      undefined,
      undefined,
      true,
    );
  }
  return new ToolError(
    `Not sent: the connection to ${server} failed (${said}); check host and port, or try again later.`,
  );
}

/**
 * Advice for an address whose part before the @ is not ASCII (jiří@…), which only a server that
 * offers SMTPUTF8 (RFC 6531) takes, else "".
 */
function needsSmtpUtf8(address: string | undefined): string {
  const local = address?.slice(0, address.lastIndexOf("@")) ?? "";
  return /\P{ASCII}/u.test(local)
    ? ", or, as its part before the @ is not ASCII, send through a mail server that offers SMTPUTF8"
    : "";
}

const NOT_SENT = "Not sent: ";

/**
 * Opens a connection to the channel's server as a send does and logs in (nodemailer's verify:
 * the greeting, EHLO, STARTTLS as configured, AUTH), sending nothing: what is wrong with the
 * channel, in a send's words, or undefined when nothing is. A stop (`call.signal` aborted before
 * the deadline) rejects with its reason; the connection then ends at its own timeouts. `call` ends
 * at the tool timeout, which a server too slow for it is said not to log in within, named as `call.deadlineSetting`.
 */
export async function checkSmtp(options: SmtpOptions, call: Call): Promise<string | undefined> {
  const nodemailer = await import("nodemailer");
  const { host, port } = options;
  const ehlo = { startTls: false };
  const transport = nodemailer.createTransport({
    ...serverOptions(options, setupMs(call.deadline), ehlo),
    // nodemailer's own wait for an answer to EHLO or AUTH is 10 minutes.
    socketTimeout: Math.max(100, call.deadline - clock.now()),
  });
  try {
    await untilAborted(transport.verify(), call.signal);
    return undefined;
  } catch (err) {
    if (call.signal.aborted) {
      if (stoppedBeforeDeadline(call.signal)) throw call.signal.reason;
      return `the mail server ${host}:${port} did not greet and log in within the tool timeout${call.deadlineSetting ? ` (${call.deadlineSetting})` : ""}; check the channel's host, port and tls.`;
    }
    const failure = err as SmtpFailure;
    const { responseCode, code, command } = failure;
    // Not done for now (RFC 5321 4.2.1: a server busy, its login's backend down): the channel's
    // settings may be right, and a send later may go.
    if (responseCode && responseCode >= 400 && responseCode < 500) {
      return `the mail server ${host}:${port} refused for now (${saidBy(failure, options)}); it may take the channel's mail later, and if it lasts, check the channel's host, port and tls.`;
    }
    // A refusal of the greeting or EHLO: a send's words for it speak of a message. A login refused
    // or answered out of turn is the channel's login, and STARTTLS refused the channel's tls, as a send says.
    const ofTheChannel = code === "EAUTH" || (code === "ETLS" && command === "STARTTLS");
    if (responseCode && !ofTheChannel) {
      return `the mail server ${host}:${port} answered ${saidBy(failure, options)}; check the channel's host, port and tls, and that it takes mail from this machine.`;
    }
    const { message } = smtpFailure(failure, options, undefined, ehlo);
    return (message.startsWith(NOT_SENT) ? message.slice(NOT_SENT.length) : message)
      .replace(" before it had the message", "")
      .replace(", as sending it again will not help", "");
  } finally {
    transport.close();
  }
}
