/**
 * A connection's failures by their error codes (Node's, or undici's), for every client that opens
 * one: the upstream HTTP client and the mail server's. Each message begins in its own words
 * ("Could not reach WooCommerce (shop.example): ", "Not sent: "); what the code means is said here.
 */

/** No route from this machine to the other end's address. */
export const NO_ROUTE = ["ENETDOWN", "ENETUNREACH", "EHOSTDOWN", "EHOSTUNREACH"];

/** No file handle left in this process (or this machine) for a connection: too many open at once. */
export const NO_HANDLE = ["EMFILE", "ENFILE"];

/** Failures that come only before anything is sent: it cannot have been carried out. */
const NOT_SENT = ["UND_ERR_CONNECT_TIMEOUT", "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", ...NO_HANDLE];

/**
 * A connection's error as Node.js or undici gives it: its code, the call that failed, and, for a
 * connection tried at several addresses, each one's error. The error itself, never its code alone:
 * a code says nothing of where it came.
 */
export interface SocketError {
  code?: string;
  syscall?: string;
  errors?: readonly unknown[];
}

/**
 * Whether a connection's error `err` says it never opened: nothing was sent, so even a write may
 * be made again. Any error of Node's syscall "connect" came as the connection opened; a lost route
 * or a timeout counts only so: TCP reports them on an open connection too, once the request may
 * have gone out. A connection tried at several addresses (IPv6 and IPv4) that opened at none fails
 * with each one's error, and with the first one's code: an address that did not answer in its
 * turn (Node's ETIMEDOUT, after 250 ms) may come before one that refused.
 */
export function neverConnected(err: SocketError): boolean {
  const { code = "", syscall, errors } = err;
  if (NOT_SENT.includes(code) || syscall === "connect") return true;
  return errors?.length ? errors.every((each) => neverConnected(each as SocketError)) : false;
}

/**
 * An address this machine cannot connect to at all: ::1 of "localhost" where IPv6 is off, one of a
 * family it lacks, a link-local one without its zone. Its failure says nothing of the other end.
 */
export const UNUSABLE = ["EADDRNOTAVAIL", "EAFNOSUPPORT", "EINVAL"];

/**
 * The code that tells most of why a connection failed. One tried at several addresses (IPv6 and
 * IPv4) that opened at none takes the first one's code, which may say little: a refusal or a reset
 * says the other end answered, so it tells most; an address that did not answer in its turn
 * (ETIMEDOUT, after 250 ms: a broken IPv6 path) tells less than any other failure, and an address
 * this machine cannot use (UNUSABLE) nothing.
 */
export function tellingCode(err: SocketError): string | undefined {
  const codes = (err.errors ?? []).map((each) => (each as SocketError).code ?? "");
  return (
    codes.find((code) => code === "ECONNREFUSED" || code === "ECONNRESET") ??
    codes.find((code) => code && code !== "ETIMEDOUT" && !UNUSABLE.includes(code)) ??
    codes.find((code) => code === "ETIMEDOUT") ??
    err.code
  );
}

/**
 * What a connection's error says: its message, or, for a connection tried at several addresses
 * (IPv6 and IPv4), whose error says nothing itself, each address's.
 */
export function connectionMessage(err: unknown): string {
  const { message, errors } = (err ?? {}) as { message?: unknown; errors?: readonly unknown[] };
  if (typeof message === "string" && message) return message;
  const each = (errors ?? []).map((one) => (one as Error).message).join("; ");
  return each || (typeof message === "string" ? "" : String(err));
}

/** A connection cut once it was open. */
export const CUT = ["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"];

/** Certificates no authority waiter trusts vouches for: self-signed, or signed by a private authority. */
export const UNTRUSTED = [
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
];

/**
 * A certificate check's reason without the advice Node.js 24 appends to it ("self-signed
 * certificate; if the root CA is installed locally, try running Node.js with --use-system-ca"):
 * the messages that quote it say what to do themselves, alike on every Node.js.
 */
export function certificateReason(message: string): string {
  return message.replace(/; if the root CA is installed locally, try running Node\.js with\s+--use-system-ca/, "");
}

/**
 * OpenSSL's reason alone ("sslv3 alert handshake failure") from the error text Node.js gives for a
 * TLS alert or a handshake refused, which wraps it in OpenSSL's error queue entry ("80…:error:
 * 0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/…"); the
 * message as it is where it has no such entry.
 */
export function opensslReason(message: string): string {
  return /:SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message;
}

/**
 * What follows "its certificate" for a certificate no authority waiter knows vouches for, with
 * the reason TLS gave (`message`): where to give waiter a private authority's certificate.
 */
export function notTrusted(message: string): string {
  return `is not trusted (${certificateReason(message)}); if a private authority signed it, ${extraCertificate("its certificate")}`;
}

/**
 * What to do with `whose` ("its certificate", an authority's) for waiter to trust what it signs:
 * give it in NODE_EXTRA_CA_CERTS, or, with that set already, add it to the file it names, which
 * then does not hold it (or could not be read: Node.js says so on stderr as it starts).
 */
export function extraCertificate(whose: string): string {
  const given = process.env.NODE_EXTRA_CA_CERTS?.trim();
  return given
    ? `${whose} is not among those in NODE_EXTRA_CA_CERTS (${given}): add it to that file, in PEM, and start waiter again (Node.js reads the file only as it starts, and says on stderr if it cannot)`
    : `give ${whose} to waiter in NODE_EXTRA_CA_CERTS (a PEM file's path)`;
}

/** What a message calls the other end of a connection, and the settings that say where it is. */
export interface Peer {
  /** Its name, as DNS is asked it: "its name" after a beginning that named it, "the mail server's name smtp.shop.example". */
  name: string;
  /** The connection to it: "the connection", "the connection to the mail server smtp.shop.example:587". */
  connection: string;
  /**
   * What holds its name: WAITER_WOO_URL, the channel's host; undefined for a public API's address
   * that waiter chose, whose name resolves wherever the internet can be reached.
   */
  nameSetting: string | undefined;
  /** What holds its port: the port in WAITER_WOO_URL, the channel's host and port; undefined as nameSetting. */
  portSetting: string | undefined;
  /**
   * The connection is one waiter's start needs (its database's), which nothing tries again: the
   * operator starts waiter again, where a call or a send is tried again later.
   */
  atStart?: boolean;
}

/**
 * Why a connection never opened, in words, with what to do, for the codes any client meets alike:
 * a name that does not resolve, or not for now, and a connection refused. Undefined for another code.
 */
export function notConnected(code: string | undefined, peer: Peer): string | undefined {
  const { atStart } = peer;
  // An offline machine's resolver gives ENOTFOUND on macOS and Windows, EAI_AGAIN on Linux.
  if (code === "ENOTFOUND") {
    return peer.nameSetting
      ? `${peer.name} does not resolve, as DNS knows no such host or this machine is offline; check ${peer.nameSetting}, and this machine's network and DNS settings${atStart ? ", then start waiter again" : ""}`
      : `${peer.name} does not resolve, so this machine is offline or its DNS is failing; ${atStart ? "start waiter again" : "try again"} once it is online, or if it lasts, check this machine's network and DNS settings`;
  }
  if (code === "EAI_AGAIN") {
    return `looking up ${peer.name} failed for now (a temporary DNS failure, or this machine is offline); ${atStart ? "start waiter again in a moment" : "try again later"}, or if it lasts, check this machine's network and DNS settings`;
  }
  if (code === "ECONNREFUSED") {
    if (peer.portSetting) {
      return atStart
        ? `${peer.connection} was refused, as nothing listens there: start the server, or set ${peer.portSetting} to its address and port, then start waiter again`
        : `${peer.connection} was refused, as nothing listens there; try again later, or if it lasts, check ${peer.portSetting}`;
    }
    return `${peer.connection} was refused: the service is down, or a firewall on this machine or its network refuses it; ${atStart ? "start waiter again once it is up" : "try again later"}, or if it lasts, check this machine's network`;
  }
  return undefined;
}
