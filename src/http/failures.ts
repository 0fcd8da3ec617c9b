import {
  A_CHANGE,
  type ChangeWords,
  DeadlinePassed,
  LastingFailure,
  UnconfirmedChange,
  UpstreamError,
} from "../errors.js";
import { htmlAsText } from "../html.js";
import {
  CUT,
  certificateReason,
  connectionMessage,
  extraCertificate,
  NO_HANDLE,
  NO_ROUTE,
  neverConnected,
  notConnected,
  opensslReason,
  type SocketError,
  tellingCode,
  UNTRUSTED,
} from "../net-failures.js";
import { oneLine } from "../shown.js";
import { DAY_MS } from "../time.js";
import { NOT_IMPLEMENTED, proxyFailure, schemesWithoutBasic, tunnelRefused } from "./proxy.js";
import { longestHoldMs, retryAfterMs } from "./retry.js";
import type { Call, ClientOptions, HttpResponse, Outgoing } from "./types.js";
import { BrokenAnswer, StoppedAnswer } from "./whole.js";

/**
 * Whether a request that fails without a clear refusal may have been carried out all the same:
 * any but a read. Its failure then says to read before retrying, as a retry could do it twice.
 */
export function mayHaveActed(method: string): boolean {
  return !["GET", "HEAD", "OPTIONS"].includes(method);
}

/** What to do about a change that may have been made, unless its upstream says otherwise (UpstreamOptions.changeAdvice). */
export const READ_BEFORE_RETRYING = "Read the current state before trying again";

/** What a message names when an upstream was declared without the setting that holds its URL. */
export const BASE_URL = "the configured base URL";

/** What a failure's message says of the request that failed. */
type Sent = Pick<Outgoing, "url" | "changes" | "urlSetting" | "urlIsWaitersOwn" | "changeAdvice" | "change">;

/**
 * Turns a transport failure of the request `sent` into a message a model can act on: one that may
 * have changed something says so, with the upstream's advice, one that could not reach the
 * upstream names the setting that holds its URL. `written`: whether the request was written to the
 * upstream (Reached), which a stop's error does not tell.
 */
export function describeFailure(
  err: unknown,
  name: string,
  sent: Sent,
  call: Call,
  options: ClientOptions,
  written = true,
): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const { url, changes, changeAdvice } = sent;
  const { what: change, made } = sent.change;
  const where = `${name} (${url.host})`;
  // This call's own cancellation or deadline comes first; else the shared load's deadline passed.
  const reason = (call.signal.aborted ? call.signal.reason : err) as Error | undefined;
  // undici's error codes, so that describing a failure does not load undici.
  const code = (err as { code?: string }).code;
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
    // The upstream answered, too much to read: a change it was asked for may well have been made.
    const limit = `${where} sent an answer larger than ${formatBytes(options.maxResponseBytes)}, the limit set by ${options.maxResponseBytesSetting}`;
    return changes
      ? new UnconfirmedChange(`${limit}; ${change} may have been ${made}.`, changeAdvice)
      : new UpstreamError(`${limit}; ask for less (fewer items, a shorter range).`);
  }
  // zlib's codes, and brotli's: the answer's bytes are not in the coding its Content-Encoding names.
  if (/^(Z_|ERR__ERROR_)/.test(code ?? "")) {
    const what = `${where} sent an answer that does not decode as its Content-Encoding says (${err instanceof Error ? err.message : String(err)})`;
    return changes
      ? new UnconfirmedChange(`${what}; ${change} may have been ${made}.`, changeAdvice)
      : new UpstreamError(
          `${what}; the service may be failing: try again later, and if it lasts, tell whoever runs it what it sends.`,
        );
  }
  // undici's refusal of a tunnel is an AbortError: told before a cancellation is.
  const proxied = call.signal.aborted ? undefined : proxyFailureOf(err, where, sent, options);
  if (proxied) return proxied;
  if (reason?.name === "TimeoutError" || reason?.name === "AbortError" || call.signal.aborted) {
    // Stopped while its connection (or a proxy's tunnel) was still opening, or it waited for one of
    // the connections busy with other requests: nothing reached the upstream.
    const late = reason?.name === "TimeoutError";
    const deadline = `the tool call's deadline${call.deadlineSetting ? ` (${call.deadlineSetting})` : ""}`;
    const unreached = `${where} was not reached (no connection to it opened, or none was free)`;
    if (!written && late && !changes) return new DeadlinePassed(unreached, "try again later.");
    if (!written && changes) {
      const stop = late ? `${deadline} passed` : "the tool call ended";
      return new UpstreamError(
        `${unreached} when ${stop}, so ${change} was not ${made}; try again${late ? " later" : ""}.`,
        undefined,
        undefined,
        true,
      );
    }
    if (changes) {
      const ended = late ? deadline : "the tool call ended";
      return new UnconfirmedChange(
        `${where} did not confirm ${change} before ${ended}; it may have been ${made}.`,
        changeAdvice,
      );
    }
    if (reason?.name !== "TimeoutError") return new UpstreamError(`The request to ${where} was cancelled.`);
    const answered = err instanceof StoppedAnswer ? "began to answer, but did not finish" : "did not answer";
    return new DeadlinePassed(`${where} ${answered}`, "try again later, or ask for less at once.");
  }
  // undici's headers timeout: the answer's status and headers did not all come within the response
  // timeout (the request may still be worked on); its body timeout: an answer begun, then nothing
  // more of it for as long. The headers timeout is the same whether nothing came or a status line
  // came and the headers then stalled, so its words hold for both.
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    const seconds = options.responseTimeoutMs / 1000;
    const begun = code === "UND_ERR_BODY_TIMEOUT";
    if (changes) {
      const silent = begun
        ? `its answer stopped midway, nothing more for ${seconds} s`
        : `no answer's headers within ${seconds} s`;
      return new UnconfirmedChange(
        `${where} did not confirm ${change} (${silent}); it may have been ${made}.`,
        changeAdvice,
      );
    }
    return new UpstreamError(
      begun
        ? `${where} began to answer, then stopped midway (nothing more for ${seconds} s); try again later.`
        : `${where} did not send its answer's headers within ${seconds} s; try again later.`,
    );
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return new UpstreamError(
      `Could not connect to ${where} within ${options.connectTimeoutMs / 1000} s; the service or the network is down, try again later.`,
      undefined,
      undefined,
      true,
    );
  }
  if (err instanceof BrokenAnswer && !changes) {
    return new UpstreamError(`The connection to ${where} broke while it was answering; try again.`);
  }
  return connectionFailure(err, where, sent, written);
}

/**
 * A failure of the proxy, not of the upstream beyond it: a connection to the proxy that did not
 * open, or a CONNECT it refused. Nothing reached the upstream, so nothing was changed there. A
 * refusal for its credentials or its rules carries the proxy's status, as an upstream's 401 or 403
 * does: it lasts until someone changes them, so an automation does not wait it out.
 */
function proxyFailureOf(err: unknown, where: string, sent: Sent, options: ClientOptions): UpstreamError | undefined {
  const { proxy } = options;
  if (!proxy) return undefined;
  const through = `${where} through the proxy ${proxy.shown} (${proxy.variable})`;
  const status = tunnelRefused(err);
  const schemes = status === 407 ? schemesWithoutBasic(err) : undefined;
  if (schemes) {
    return new UpstreamError(
      `Could not reach ${through}: it asks for credentials (407 Proxy Authentication Required) by ${schemes.join(" or ")}, which waiter cannot give: it sends a user and password as Basic only. Ask whoever runs the proxy to let waiter through without them, or to take Basic credentials; or go through a proxy on this machine that signs in for it (as Cntlm or Px do).`,
      status,
    );
  }
  if (status === 407) {
    const fix = proxy.credentials
      ? `it refused the user and password in ${proxy.variable}; check them there`
      : `put its user and password in ${proxy.variable}, as http://user:password@proxy.example:3128`;
    return new UpstreamError(
      `Could not reach ${through}: it asks for credentials (407 Proxy Authentication Required); ${fix}.`,
      status,
    );
  }
  if (status === 403) {
    return new UpstreamError(
      `Could not reach ${through}: it answered ${status} to waiter's CONNECT, as its rules may not let waiter reach that host; ask whoever runs the proxy.`,
      status,
    );
  }
  if (status !== undefined && (status < 500 || status === NOT_IMPLEMENTED)) {
    return new UpstreamError(
      `Could not reach ${through}: it answered ${status} to waiter's CONNECT, not the 200 of a proxy that tunnels: the host and port in ${proxy.variable} may name another server than the proxy; check them, or ask whoever runs the proxy.`,
      status,
    );
  }
  if (status !== undefined) {
    return new UpstreamError(
      `Could not reach ${through}: it answered ${status} to waiter's CONNECT, as it could not reach the service: the service or the network beyond the proxy is down, try again later.`,
      undefined,
      undefined,
      true,
    );
  }
  const failure = proxyFailure(err);
  if (!failure) return undefined;
  if ((failure as { code?: string }).code === "UND_ERR_CONNECT_TIMEOUT") {
    return new UpstreamError(
      `Could not reach ${through}: it did not take a connection within ${options.connectTimeoutMs / 1000} s; it or the network is down, try again later.`,
      undefined,
      undefined,
      true,
    );
  }
  if ((failure as { code?: string }).code === "UND_ERR_HEADERS_TIMEOUT") {
    return new UpstreamError(
      `Could not reach ${through}: it did not answer waiter's CONNECT within ${options.connectTimeoutMs / 1000} s; it, or the service beyond it, is down or slow, try again later.`,
      undefined,
      undefined,
      true,
    );
  }
  // The proxy's URL stands for the upstream's, its variable for the upstream's setting.
  const said = connectionFailure(failure, through, {
    ...sent,
    url: new URL(proxy.shown),
    changes: false,
    urlSetting: proxy.variable,
    urlIsWaitersOwn: false,
  });
  // Its TLS that waiter cannot meet (a certificate refused, one asked of waiter) lasts, as an upstream's does.
  return said instanceof LastingFailure ? said : new UpstreamError(said.message, undefined, undefined, true);
}

/**
 * A connection's failure by its code, in words, with what to do: a name that does not resolve, a
 * connection refused or cut, a certificate not trusted. `written`: whether the request was written
 * (Reached); one cut before, as its TLS handshake went on, never connected, whatever its code.
 */
function connectionFailure(
  err: unknown,
  where: string,
  { url, changes, urlSetting, urlIsWaitersOwn, changeAdvice, change }: Sent,
  written = true,
): UpstreamError {
  const code = tellingCode(err as SocketError) ?? "";
  const message = oneLine(connectionMessage(err));
  // TLS fails before the request is sent: nothing was carried out, and a retry will not mend it.
  const insecure = tlsFailure(err, code, message, url.hostname, urlIsWaitersOwn ? undefined : urlSetting, written);
  if (insecure) {
    const said = `Could not reach ${where} securely: ${insecure}.`;
    // At a public API's address waiter chose, another server answers in its place (a Wi-Fi's login page)
    // until one signs in: a request not yet written may then be sent, even a write; so may one written
    // once waiter's side of a TLS 1.3 handshake was done, which the server refused, taking nothing.
    const taken = written && code !== CERTIFICATE_REQUIRED && code !== HANDSHAKE_FAILURE;
    return urlIsWaitersOwn ? new UpstreamError(said, undefined, undefined, !taken) : new LastingFailure(said);
  }
  const connected = written && !neverConnected(err as SocketError);
  // TLS that fails once the request went out (a record garbled on the way) is no handshake refused.
  if (/^ERR_SSL_/.test(code) && !connected) {
    return new UpstreamError(
      `Could not reach ${where} securely: the TLS handshake failed (${opensslReason(message)}); if it lasts, tell whoever runs it.`,
      undefined,
      undefined,
      true,
    );
  }
  if (changes && connected) {
    const what = CUT.includes(code)
      ? "the connection was cut"
      : code === "ETIMEDOUT"
        ? "the connection timed out"
        : NO_ROUTE.includes(code)
          ? "the route to it was lost"
          : opensslReason(message);
    return new UnconfirmedChange(
      `${where} did not confirm ${change.what} (${what}); it may have been ${change.made}.`,
      changeAdvice,
    );
  }
  const why = notConnected(code, {
    name: "its name",
    connection: "the connection",
    nameSetting: urlIsWaitersOwn ? undefined : urlSetting,
    portSetting: urlIsWaitersOwn ? undefined : `the port in ${urlSetting}`,
  });
  let said: string;
  if (why) {
    said = `Could not reach ${where}: ${why}.`;
  } else if (NO_ROUTE.includes(code) && connected) {
    said = `The connection to ${where} lost its route before it answered (this machine's network went down or changed); try again later, or if it lasts, check this machine's network.`;
  } else if (NO_ROUTE.includes(code)) {
    said = `Could not reach ${where}: this machine has no route to it (its network is down or unreachable); try again later, or if it lasts, check this machine's network.`;
  } else if (NO_HANDLE.includes(code)) {
    said = `Could not reach ${where}: waiter has no file handle left for a connection (too many open at once, or its ulimit -n too low); try again in a moment, or if it lasts, tell whoever runs waiter.`;
  } else if (CUT.includes(code) && !connected) {
    said = `Could not reach ${where}: the connection was cut as it opened, before waiter's request went out (by the service, or by a firewall or filter on the way to it); try again later, and if it lasts, tell whoever runs it, or check this machine's network.`;
  } else if (CUT.includes(code)) {
    said = `The connection to ${where} was cut before it answered; try again later.`;
  } else if (/^ERR_SSL_/.test(code)) {
    said = `The connection to ${where} broke before it answered (TLS: ${opensslReason(message)}); try again later.`;
  } else if (code === "ETIMEDOUT") {
    said = `The connection to ${where} timed out; the service or the network is down, try again later.`;
  } else {
    said = `Could not reach ${where} (${message}); the service or the network is down, try again later.`;
  }
  return new UpstreamError(said, undefined, undefined, !connected);
}

/** What to do on a Wi-Fi that answers in every server's place until one signs in on its login page. */
const SIGN_IN = "on a Wi-Fi with a login page (a hotel's, an airport's), sign in in a browser, then try again";

/**
 * What a TLS handshake's failure that lasts until it is mended says, after "Could not reach …
 * securely: ", or undefined for another failure. `urlSetting` is undefined for a public API's URL
 * waiter chose: a certificate there that is not its own is another server's, answering in its
 * place (a Wi-Fi's login page, a proxy or antivirus that inspects TLS), and the setting is not
 * what to check.
 */
function tlsFailure(
  err: unknown,
  code: string,
  message: string,
  host: string,
  urlSetting: string | undefined,
  written: boolean,
): string | undefined {
  if (UNTRUSTED.includes(code)) {
    const untrusted = `its certificate is not trusted (${certificateReason(message)})`;
    return urlSetting
      ? `${untrusted}; if a private authority signed it, or a proxy or antivirus that inspects TLS stands in between, ${extraCertificate("that authority's certificate")}; or, ${SIGN_IN}`
      : `${untrusted}, so another server answers in its place: ${SIGN_IN}; behind a proxy or antivirus that inspects TLS, ${extraCertificate("its authority's certificate")}`;
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const names = certificateNames(err);
    const other = names ? `its certificate is for ${names}, not ${host}` : `its certificate does not name ${host}`;
    return urlSetting
      ? `${other}; check ${urlSetting}, or, ${SIGN_IN}`
      : `${other}, so another server answers in its place: ${SIGN_IN}; if it lasts, check this machine's network`;
  }
  if (code === "CERT_HAS_EXPIRED") {
    return urlSetting
      ? "its certificate has expired; whoever runs it must renew it, or, if this machine's clock is wrong, set it right"
      : `its certificate has expired, so another server may answer in its place: ${SIGN_IN}; or, if this machine's clock is wrong, set it right`;
  }
  if (code === "CERT_NOT_YET_VALID") {
    return "its certificate is not valid yet; if this machine's clock is behind, set it right";
  }
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG") {
    return urlSetting
      ? `it does not answer TLS at that port; check ${urlSetting}, whose port may be one for plain HTTP`
      : `it does not answer TLS at that port, so another server answers in its place: ${SIGN_IN}; if it lasts, check this machine's network`;
  }
  if (CERTIFICATE_REFUSED.includes(code)) {
    const refused = `its certificate was refused (${certificateReason(message)})`;
    return urlSetting
      ? `${refused}; ${MENDED}`
      : `${refused}, so another server may answer in its place; if it lasts, check this machine's network`;
  }
  // A server that asks for a client certificate refuses one without it once waiter's side of the
  // handshake is done (TLS 1.3): with certificate_required, or with a handshake_failure then.
  if (code === CERTIFICATE_REQUIRED || (code === HANDSHAKE_FAILURE && written)) {
    const asks = `it asks for a client certificate (${opensslReason(message)}), which waiter does not send`;
    return urlSetting
      ? `${asks}; ask whoever runs it to take waiter's requests without one, as it lasts until they do`
      : `${asks}, so another server may answer in its place; if it lasts, check this machine's network`;
  }
  // A TLS version or cipher waiter refuses or the server does: it lasts until the server's TLS setup changes.
  if (VERSION_REFUSED.includes(code)) {
    const refused = `it and waiter share no TLS version (${opensslReason(message)}), as it takes only one older than TLS 1.2, which waiter refuses`;
    return `${refused}; ${urlSetting ? MENDED : "if it lasts, check this machine's network"}`;
  }
  if (NO_SHARED_CIPHER.includes(code)) {
    return `the TLS handshake failed (${opensslReason(message)}), as it and waiter share no cipher, or it asks for a client certificate; ${urlSetting ? MENDED : "if it lasts, check this machine's network"}`;
  }
  return undefined;
}

/** What ends a failure that lasts until whoever runs the server mends it, which no retry does. */
const MENDED = "tell whoever runs it, as it lasts until they mend that";

/**
 * OpenSSL's codes for a certificate refused for another reason than its authority, its name or its
 * dates, each said on its own above: one revoked, badly signed or not for a server.
 */
const CERTIFICATE_REFUSED = [
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
];

/** OpenSSL's codes for a handshake refused for its TLS version, by waiter or by the server. */
const VERSION_REFUSED = [
  "ERR_SSL_UNSUPPORTED_PROTOCOL",
  "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
  "ERR_SSL_WRONG_SSL_VERSION",
  "ERR_SSL_VERSION_TOO_LOW",
];

/** OpenSSL's code for TLS 1.3's certificate_required alert: the server asks for a client certificate. */
const CERTIFICATE_REQUIRED = "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED";

/** OpenSSL's code for a handshake_failure alert: no cipher shared, or no client certificate given. */
const HANDSHAKE_FAILURE = "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE";

/** OpenSSL's codes for a handshake the server, or waiter, found no cipher to agree on. */
const NO_SHARED_CIPHER = [
  HANDSHAKE_FAILURE,
  "ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY",
  "ERR_SSL_NO_SHARED_CIPHER",
  "ERR_SSL_NO_CIPHERS_AVAILABLE",
];

/**
 * The names a certificate is for, as TLS gave it with a failure to match the host (three at most):
 * "hotspot.example", or "a.example, b.example, c.example and 40 more". Undefined without any.
 */
function certificateNames(err: unknown): string | undefined {
  const cert = (err as { cert?: { subjectaltname?: string; subject?: { CN?: unknown } } }).cert;
  const alternative = (cert?.subjectaltname ?? "")
    .split(", ")
    .filter((name) => name.startsWith("DNS:"))
    .map((name) => name.slice(4));
  const names = (alternative.length ? alternative : [String(cert?.subject?.CN ?? "")]).filter((name) =>
    /^[\w*.-]+$/.test(name),
  );
  if (names.length === 0) return undefined;
  const more = names.length > 3 ? ` and ${names.length - 3} more` : "";
  return `${names.slice(0, 3).join(", ")}${more}`;
}

/** What describeStatus says of an upstream beside its name. */
export interface StatusWords {
  /** The setting that holds the upstream's base URL: an answer that a wrong one explains names it. */
  urlSetting?: string;
  /** Advice a write the service failed on (5xx: a proxy that gave up, an error after the save) ends with. */
  changeAdvice?: string;
  /** What holds the credentials its requests carry, which a 401 or 403 says to check; none where they carry none. */
  keys?: string | undefined;
  /** Whether its base URL is a public API's address that waiter chose, which no setting pointed elsewhere. */
  ownUrl?: boolean;
  change?: ChangeWords;
}

/**
 * Turns a non-2xx answer into a message with the upstream's status, its own words, and what to
 * do; a Retry-After, whatever the status, is passed on as when to try again. A write the service
 * failed on may have been carried out, and its message ends with `changeAdvice`.
 */
export function describeStatus(
  name: string,
  response: HttpResponse,
  {
    urlSetting = BASE_URL,
    changeAdvice = READ_BEFORE_RETRYING,
    keys,
    ownUrl = false,
    change = A_CHANGE,
  }: StatusWords = {},
): UpstreamError {
  const { status } = response;
  if (status === 304) {
    // A 304 answers a conditional request (RFC 9110 15.4.5), and Upstream.json takes one to its
    // own conditions before this: to a request without any, a cache in between answered, not the
    // upstream. It fails as an unreachable upstream does, for now and without a status.
    const broken = `${name} answered 304 (Not Modified) to a request that was not conditional: a cache in between (a proxy or CDN in front of it) is broken`;
    return response.changes
      ? new UnconfirmedChange(`${broken}, and ${change.what} may have been ${change.made}.`, changeAdvice)
      : new UpstreamError(`${broken}; try again later, or if it lasts, tell whoever runs that cache.`);
  }
  const { said, page } = upstreamWords(response);
  const seconds = retryAfterSeconds(response);
  const again = seconds === undefined ? undefined : `try again in ${seconds} s`;
  const answered = `${name} answered ${status}${said ? ` "${said}"` : ""}`;
  if (challenged(response)) {
    return new UpstreamError(
      `${answered}: Cloudflare in front of it answered with a challenge for a browser to solve, which waiter cannot${nothingChanged(response)}; ask whoever runs it to let waiter's requests skip the challenge (a WAF skip rule for this machine's address or the API's path).`,
      status,
    );
  }
  const gate = accessLogin(response);
  if (gate) {
    return new UpstreamError(
      `${answered}: Cloudflare Access in front of it sends waiter to its login (${gate}), which only a person in a browser passes${nothingChanged(response)}; ask whoever runs it to let waiter's requests by (a Bypass policy in the Access application for this machine's address, or the API's path left out of it).`,
      status,
    );
  }
  const signIn = signInAt(response);
  if (signIn) {
    const sentToSignIn = `${answered}: it sends waiter to sign in at ${signIn}, a page for a person in a browser`;
    const unchanged = nothingChanged(response);
    return new UpstreamError(
      ownUrl
        ? `${sentToSignIn}: something on the way to it (a proxy that inspects TLS) turned the request away${unchanged}; sign in there in a browser on this machine, or tell whoever runs this machine's network.`
        : `${sentToSignIn}: a single sign-on in front of it turned the request away${unchanged}; ${keys ? `check ${keys}, if that sign-on takes credentials, or ` : ""}ask whoever runs it to let waiter's requests by (an exception for this machine's address or the API's path).`,
      status,
    );
  }
  if (status === NOT_IMPLEMENTED) {
    // Not Implemented (RFC 9110 15.6.2): the server takes no such request, so it did nothing, and no wait changes that.
    return new UpstreamError(
      `${answered}: it does not take this request, so nothing was done; tell whoever runs it.`,
      status,
    );
  }
  const unsent = CLOUDFLARE_UNSENT[status];
  if (unsent && (response.headers.server === "cloudflare" || response.headers["cf-ray"])) {
    const unchanged = response.changes ? `, so ${change.what} was not ${change.made}` : "";
    const lasts =
      status >= 525
        ? "tell whoever runs it, as it lasts until they mend that"
        : "try again later, and if it lasts, tell whoever runs it";
    return new UpstreamError(
      `${answered}: Cloudflare in front of it did not pass the request on, as ${unsent}${unchanged}; ${lasts}.`,
      status,
      seconds,
      true,
    );
  }
  if (status >= 500 && response.changes) {
    const when = seconds === undefined ? "" : ` (in ${seconds} s)`;
    return new UnconfirmedChange(
      `${answered}: the service is failing, and ${change.what} may have been ${change.made}.`,
      `${changeAdvice}${when}`,
      status,
      seconds,
    );
  }
  if (status === 408) {
    // Request Timeout (RFC 9110 15.5.9): the service gave up waiting for the rest of the request.
    const late = `${answered}: it did not receive the whole request in time (a slow network, or the service busy)`;
    return response.changes
      ? new UpstreamError(
          `${late}, so ${change.what} should not have been ${change.made}. ${changeAdvice}.`,
          status,
          seconds,
        )
      : new UpstreamError(`${late}; ${again ?? "try again"}.`, status, seconds);
  }
  let advice: string;
  if (status === 429) {
    advice = `it is rate-limiting waiter; ${again ?? "wait a minute before trying again"}.`;
  } else if (status >= 500) {
    advice = `the service is failing; ${again ?? "try again later"}.`;
  } else {
    advice = `${statusAdvice(response, urlSetting, keys, ownUrl, page ? "page" : said !== undefined)}${again ? `, or ${again}` : ""}.`;
  }
  return new UpstreamError(`${answered}: ${advice}`, status, seconds);
}

/** Whether Cloudflare answered in the service's place with a challenge for a browser (its cf-mitigated header). */
export function challenged(response: HttpResponse): boolean {
  return response.headers["cf-mitigated"] === "challenge";
}

/** What the refusal of a change adds: the upstream made none. Empty for a read. */
export function nothingChanged(response: HttpResponse): string {
  return response.changes ? ", so nothing was changed" : "";
}

/**
 * The host of the Cloudflare Access login a redirect sends to (its /cdn-cgi/access/login path, on
 * the team's cloudflareaccess.com domain or the service's own), if it sends to one.
 */
export function accessLogin(response: HttpResponse): string | undefined {
  if (response.status < 300 || response.status >= 400) return undefined;
  const target = movedTo(response);
  if (!target) return undefined;
  const url = new URL(target);
  return /^\/cdn-cgi\/access\/login(\/|$)/.test(url.pathname) ? url.host : undefined;
}

/**
 * Where a redirect sends to sign in (its origin and path), if it sends to a single sign-on's login
 * rather than to where the resource moved: one that asks a sign-on's question (signOnAsked), or a
 * login page by its path (oauth2-proxy's /oauth2/sign_in, Keycloak's openid-connect/auth, an
 * identity provider's /login), or by the page to come back to (wordPressLogin).
 */
export function signInAt(response: HttpResponse): string | undefined {
  if (response.status < 300 || response.status >= 400) return undefined;
  const target = movedTo(response);
  if (!target) return undefined;
  const { pathname } = new URL(String(response.headers.location), response.url);
  const login =
    /\/(log-?in|log-?on|sign-?in|sign_in|sso|authorize|oauth2\/start|outpost\.goauthentik\.io\/start|openid-connect\/auth)(\.\w+)?\/?$/i.test(
      pathname,
    );
  return login || signOnAsked(response) || wordPressLogin(response) ? target : undefined;
}

/**
 * Whether a redirect sends to WordPress's login on the host asked, whatever its path (a plugin may
 * rename wp-login.php): its redirect_to names the page asked for, to come back to once signed in.
 * One to that page under another path (a prefix added) is the site's own move, whatever its query.
 */
export function wordPressLogin(response: HttpResponse): boolean {
  const location = URL.parse(String(response.headers.location ?? ""), response.url.href);
  if (!location || location.host !== response.url.host) return false;
  if (location.pathname.endsWith(response.url.pathname)) return false;
  return comesBack(location.searchParams.get("redirect_to"), response.url);
}

/**
 * Whether `back`, a redirect's parameter, names the page `asked` to come back to: as a path or a
 * URL with its path, or its end where a proxy in front took a prefix off.
 */
function comesBack(back: string | null, asked: URL): boolean {
  const path = back !== null && /^(\/|https?:)/i.test(back) ? URL.parse(back, asked.href)?.pathname : undefined;
  // A pathname begins with a slash: one the path asked for ends with is its last segments.
  return path !== undefined && (path === asked.pathname || (path !== "/" && asked.pathname.endsWith(path)));
}

/**
 * Whether a redirect's query is a single sign-on's, whatever its path: an OAuth or OpenID Connect
 * authorization request (a client_id with a response_type or redirect_uri), a SAML request, or the
 * request itself to come back to once signed in (Authelia's, Authentik's and oauth2-proxy's rd, Vouch
 * Proxy's url beside its vouch-failcount or X-Vouch-Token, as a path or a URL with the path asked for,
 * or its end where a proxy in front took a prefix off; Pomerium's pomerium_redirect_uri). One that
 * names another page is a site's own redirect's, and a url alone may be a site's login page's.
 */
export function signOnAsked(response: HttpResponse): boolean {
  const location = response.headers.location;
  if (!location) return false;
  let query: URLSearchParams;
  try {
    query = new URL(String(location), response.url).searchParams;
  } catch {
    return false;
  }
  const authorization = query.has("client_id") && (query.has("response_type") || query.has("redirect_uri"));
  const vouch = [...query.keys()].some((name) =>
    /^(vouch-failcount|x-vouch-token|lasso-failcount|x-lasso-token)$/i.test(name),
  );
  const comeBack = comesBack(query.get("rd"), response.url) || (vouch && comesBack(query.get("url"), response.url));
  return authorization || query.has("SAMLRequest") || comeBack || query.has("pomerium_redirect_uri");
}

/**
 * Why Cloudflare did not pass a request on to the server behind it, by its own statuses that say so
 * (developers.cloudflare.com, Cloudflare 5xx errors); its 520, 522 and 524 may follow a request the
 * server took, and are told as any 5xx.
 */
const CLOUDFLARE_UNSENT: Record<number, string> = {
  521: "its web server refused the connection (down, or its firewall does not let Cloudflare in)",
  523: "it could not reach its web server (the address Cloudflare has for it is wrong, or its network is down)",
  525: "the TLS handshake with its web server failed (its TLS setup does not match Cloudflare's SSL mode)",
  526: "its web server's certificate is not valid (expired, self-signed or for another name)",
};

/**
 * Seconds an answer's Retry-After asks to wait (delta-seconds or an HTTP date), if it asks for a
 * wait: one that says now (0, a date past) leaves the advice as it is without one, not "in 0 s".
 * For a read, no longer than the client holds such a refusal before it asks again (a 503's five
 * minutes, any other's a day): a maintenance page may name an hour and end in ten minutes. A write
 * is never held, so its wait is the one named, a day at most, as a date from a wrong clock may
 * name next year.
 */
export function retryAfterSeconds(response: HttpResponse): number | undefined {
  const ms = retryAfterMs(response.headers);
  const held = response.changes
    ? DAY_MS
    : Math.min(longestHoldMs(response.status), response.heldMs ?? Number.POSITIVE_INFINITY);
  return ms ? Math.ceil(Math.min(ms, held) / 1000) : undefined;
}

/**
 * Seconds an answer's Retry-After names, a day at most, where it is known to be kept (a lockout's
 * end): longer than retryAfterSeconds, which tells when the client asks again.
 */
export function namedWaitSeconds(response: HttpResponse): number | undefined {
  const ms = retryAfterMs(response.headers);
  return ms ? Math.ceil(Math.min(ms, DAY_MS) / 1000) : undefined;
}

/**
 * `said`: whether the answer carries the upstream's own words, which alone can point at an argument;
 * "page" where it is a web page, which the API does not write.
 */
function statusAdvice(
  response: HttpResponse,
  urlSetting: string,
  keys: string | undefined,
  ownUrl: boolean,
  said: boolean | "page",
): string {
  const { status } = response;
  // An API refuses a key in its own words: a 403 page is a firewall's or a proxy's in front of it.
  if (status === 403 && keys && said === "page")
    return `it refused the request${nothingChanged(response)} with a web page, not its API's answer: a firewall or proxy in front of it does not let this machine's requests by, which no change to ${keys} mends; tell whoever runs waiter${ownUrl ? "" : `, or check ${urlSetting}`}`;
  if ((status === 401 || status === 403) && keys)
    return `it refused waiter's credentials or permissions; check ${keys}`;
  if (status === 401 && ownUrl)
    return "it asks for credentials, which waiter sends it none of, so something in front of it (a gateway, a proxy) asks for them; tell whoever runs waiter";
  if (status === 401)
    return `it asks for credentials, which waiter sends it none of; check ${urlSetting}, which may point at another service, or put in it the user and password of a gateway in front of it (https://user:password@host/path)`;
  if (status === 403)
    return `it refused the request, which carries no credentials: it, or a firewall in front of it, does not let this machine in; tell whoever runs waiter${ownUrl ? "" : `, or check ${urlSetting}`}`;
  // What an argument names in a path (an order's id) has its upstream's own 404: this one is the URL's.
  const urlWrong = ownUrl
    ? `the service may have moved or changed: tell whoever runs waiter, who can set its new address in ${urlSetting}`
    : `check ${urlSetting}, which may point at another service, or if it is right, tell whoever runs waiter`;
  if (status === 404) return `it has nothing at that address; ${urlWrong}`;
  // Conflict (RFC 9110 15.5.10): the arguments may be right, and what they name has moved on (changed
  // by someone else at the same time, or in a state that refuses this).
  if (status === 409)
    return "it was not carried out, as it conflicts with the current state; read that before trying again";
  // Method Not Allowed, Not Acceptable, Gone, Unsupported Media Type (RFC 9110 15.5.6, 15.5.7, 15.5.11,
  // 15.5.16): what answers at that address takes no such request, which waiter makes the same way
  // whatever a tool's arguments.
  if ([405, 406, 410, 415].includes(status))
    return `it takes no such request at that address, whatever the arguments; ${urlWrong}`;
  const unchanged = nothingChanged(response);
  // waiter follows no redirect: a change redirected was not made.
  if (status >= 300 && status < 400) {
    const target = movedTo(response);
    return target
      ? `it moved this to ${target}${unchanged}; check ${urlSetting}`
      : `it redirects elsewhere without saying where${unchanged}; check ${urlSetting}`;
  }
  // A tool's arguments are checked before they are sent, and much of a request is waiter's own:
  // only the upstream's words can say an argument is at fault.
  if (said === "page")
    return `it refused the request${unchanged} with a web page, not its API's answer (a page of a proxy, firewall or web server in front of it), which says nothing of the arguments; tell whoever runs waiter`;
  return said
    ? `it refused the request${unchanged}; if its words point at an argument, change that, else tell whoever runs waiter`
    : `it refused the request without saying why${unchanged}; tell whoever runs waiter`;
}

/** A redirect's Location, resolved against the request, without its query: that may carry a key. */
export function movedTo(response: HttpResponse): string | undefined {
  const location = response.headers.location;
  if (!location) return undefined;
  try {
    const url = new URL(location, response.url);
    return url.origin === "null" ? undefined : `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** The upstream's own error words, from the usual JSON error fields or a short plain-text body. */
export function upstreamMessage(response: HttpResponse): string | undefined {
  return upstreamWords(response).said;
}

/** The upstream's error words, and whether the answer is a web page (`page`), whose title alone is told. */
function upstreamWords(response: HttpResponse): { said: string | undefined; page: boolean } {
  const text = response.text.trim();
  if (!text) return { said: undefined, page: false };
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    // Beside the usual fields: a list of errors (GoPay's {"errors":[{"message"}]}), or an error
    // that is an object (Stripe's {"error":{"message"}}), whose first words are told.
    const [listed] = Array.isArray(body?.errors) ? body.errors : [];
    const nested = typeof body?.error === "object" ? body.error : undefined;
    for (const found of [body, listed, nested]) {
      for (const key of ["message", "reason", "description", "error_description", "detail", "error"]) {
        const value = (found as Record<string, unknown> | null | undefined)?.[key];
        if (typeof value === "string" && value) return { said: oneLine(value), page: false };
      }
    }
    return { said: undefined, page: false };
  } catch {
    const type = String(response.headers["content-type"] ?? "");
    if (type.startsWith("text/plain")) return { said: oneLine(text), page: false };
    // A page's title says what answered in the service's place: a security plugin's block ("Your
    // access to this site has been limited"), a proxy's or a CDN's error. One without (Imperva's) is
    // a page all the same.
    const page = type.startsWith("text/html");
    const title = page ? /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1] : undefined;
    const said = title ? oneLine(htmlAsText(title), 120) || undefined : undefined;
    return { said, page };
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
