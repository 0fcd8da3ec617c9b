import { webcrypto } from "node:crypto";
import { InvalidTokenError, TemporarilyUnavailableError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import type { FetchInit } from "../http/client.js";
import { proxyFailure, tunnelRefused } from "../http/proxy.js";
import { type Log, throttled } from "../log.js";
import { isLoopbackHost } from "../settings.js";
import { clock, lessAgoThan } from "../time.js";
import { OAUTH_SCOPES } from "./tokens.js";

export interface OAuthSettings {
  /** The authorization server that issues the access tokens (Keycloak, Auth0, Entra, ...), as configured. */
  issuer: string;
  /**
   * What the tokens' `aud` must hold one of: waiter's /mcp URL (RFC 8707's resource), as clients
   * write it and as the public URL was typed, or `http.oauth.audience`, which need be no URL
   * (Entra's v2.0 tokens hold the API's client id).
   */
  audience: readonly string[];
  /** The URL clients reach /mcp at, which the metadata must name (RFC 9728 §3.3). */
  resource: string;
}

/** How the issuer is read: as every upstream is reached (HttpClient.fetch), through a proxy if one is set. */
export type Fetch = (url: string, init: FetchInit) => Promise<Response>;

/** The refusal of a token that is no JWT: a static token's verifier, when there is one, says more. */
export class NotAJwtError extends InvalidTokenError {}

/** Whether `token` reads as a JWT (a JWE too), as an issuer's access token does, not as one of http.tokens. */
export function readsAsJwt(token: string): boolean {
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

/**
 * The refusal of a token the issuer signed (expired, for another audience, without a waiter
 * scope): its client and user are the issuer's word, and the log names them.
 */
export class CallerRefusedError extends InvalidTokenError {
  constructor(
    message: string,
    readonly caller: string,
  ) {
    super(message);
  }
}

/** Senders' and issuers' clocks differ a little: `exp` and `nbf` are allowed this much. */
const LEEWAY_SECONDS = 60;
/** An issuer that could not be reached is asked again after this long, not at every request. */
const ISSUER_RETRY_MS = 30_000;
/**
 * How soon after the issuer's keys were read a token naming a key they lack has them read again.
 * An issuer may sign with a key the moment it publishes it (Keycloak's new key provider of a higher
 * priority), and its client, refused, logs its user in again: a few seconds let such a token
 * through at once, and still keep tokens with forged key ids from having the keys read at each.
 */
const KEYS_COOLDOWN_MS = 5_000;
/**
 * How long a reading of the issuer's metadata may take at each address, and one of its keys, each
 * answer read whole; a test shortens them, as it would otherwise wait them out.
 */
export interface OAuthTimeouts {
  metadataMs: number;
  keysMs: number;
}
const TIMEOUTS: OAuthTimeouts = { metadataMs: 10_000, keysMs: 5_000 };
/** How long the issuer's keys are taken as read: a key it stopped publishing is refused from then. */
const KEYS_MAX_AGE_MS = 600_000;

/**
 * Where an issuer's metadata may be, in the order MCP clients try them: RFC 8414's, then OpenID
 * Connect discovery's, with the well-known part before the issuer's path, then OpenID's after
 * it (Keycloak's `/realms/<realm>/.well-known/openid-configuration`).
 */
function metadataUrls(issuer: URL): string[] {
  const path = issuer.pathname.replace(/\/$/, "");
  const urls = [
    `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuer.origin}/.well-known/openid-configuration${path}`,
  ];
  if (path) urls.push(`${issuer.origin}${path}/.well-known/openid-configuration`);
  return urls;
}

/**
 * What a redirect answered for `url` is, said, or undefined for an answer that is none: its
 * status and where it leads (origin and path: a query may carry anything), and why it is not
 * followed.
 */
function redirected(url: string, response: Response, why: string): string | undefined {
  if (response.status < 300 || response.status > 399) return undefined;
  const location = response.headers.get("location");
  const to = location && URL.canParse(location, url) ? new URL(location, url) : undefined;
  return `${url}: ${response.status} redirect${to ? ` to ${to.origin}${to.pathname}` : ""}, not followed: ${why}`;
}

/**
 * A key set's address that answered other than 200, a redirect (which is not followed) or an
 * error's status: the issuer's failure, said with the address and the status.
 */
class KeysNotServedError extends Error {}

/** A key set's address that answered 200 with what is no key set: the issuer answered, waiter cannot use it. */
class UnusableKeysError extends Error {}

/** An issuer's name without its trailing slash, which issuers differ on (Auth0 writes one, Keycloak does not). */
const bare = (name: string) => name.replace(/\/$/, "");

/**
 * The fetch jose reads the key set with: as it asks, without following a redirect, and with an
 * answer other than 200, or none, said as what it is, where it came from, rather than as jose's
 * "Expected 200 OK" or fetch's "fetch failed", which name neither.
 */
function keysFetch(fetch: Fetch): Fetch {
  return async (url, init) => {
    const response = await fetch(url, { ...init, redirect: "manual" }).catch((err: Error) => {
      // jose says a timeout (by its name) itself; fetch says the network's reason as "fetch failed".
      if (err.name === "TimeoutError") throw err;
      throw new KeysNotServedError(`${url}: ${whyFetchFailed(err)}`);
    });
    if (response.status === 200) return response;
    await response.body?.cancel();
    throw new KeysNotServedError(
      redirected(url, response, "the keys are read at the jwks_uri the metadata names only") ??
        `${url}: ${response.status}`,
    );
  };
}

/**
 * jose's failure to read a key set that answered 200, said with the key set's address as
 * KeysNotServedError says the others: jose's own words name none. No key set, or no JSON, is one
 * waiter cannot use (UnusableKeysError), not one out of reach. jose says "not JSON" of any answer
 * whose reading failed: only a SyntaxError is that; an answer cut off (the connection closed, the
 * size limit reached) is said with the reason its reading gave, and one not read whole in time
 * with the time it had. Any other failure as it is.
 */
function unreadableKeys(uri: URL, err: unknown, keysMs: number): unknown {
  // jose's "request timed out" names neither the address nor how long it waited.
  if (err instanceof errors.JWKSTimeout)
    return new KeysNotServedError(`${uri.href}: no answer within ${keysMs / 1000} s`);
  if (err instanceof errors.JWKSInvalid)
    return new UnusableKeysError(`${uri.href}: 200, but no key set (${err.message})`);
  if (err instanceof errors.JOSEError && err.code === "ERR_JOSE_GENERIC") {
    if (err.cause instanceof SyntaxError) return new UnusableKeysError(`${uri.href}: 200, but not JSON`);
    // fetch's "terminated", with the reason as its cause.
    const read = err.cause as (Error & { cause?: Error }) | undefined;
    return new KeysNotServedError(
      `${uri.href}: 200, but its answer broke off (${read?.cause?.message ?? read?.message ?? err.message})`,
    );
  }
  return err;
}

/**
 * The issuer's keys, as jwtVerify asks for the one a token names, and `readAgain`, which reads them
 * again unless they were asked for less than KEYS_COOLDOWN_MS ago, and says whether it did; asked
 * that soon after a read that failed, it fails as that read did.
 */
type Keys = JWTVerifyGetKey & { readAgain(): Promise<boolean> };

/**
 * The issuer's keys at `uri`: read by jose, and read again at the first token past
 * KEYS_MAX_AGE_MS and when a token names a key they lack, or, naming none, is signed by none of
 * them (readAgain), not sooner than KEYS_COOLDOWN_MS after
 * they were last asked for, whether that read worked or failed; a read that failed is not made
 * again sooner either, past KEYS_MAX_AGE_MS too, its failure said again instead. jose would time
 * both by the wall clock; they are timed by waiter's clock. `readOk` hears each read that worked.
 */
function issuerKeys(uri: URL, fetch: Fetch, keysMs: number, readOk: () => void): Keys {
  // jose reads them again on its own never: only when told.
  const remote = createRemoteJWKSet(uri, {
    [customFetch]: keysFetch(fetch),
    cooldownDuration: Number.POSITIVE_INFINITY,
    cacheMaxAge: Number.POSITIVE_INFINITY,
    timeoutDuration: keysMs,
  });
  let readAt = Number.NEGATIVE_INFINITY;
  // When the keys were last asked for, read or not: a key set that fails to answer is not asked
  // again at each token naming a key the keys held lack, any more than one that answers.
  let askedAt = Number.NEGATIVE_INFINITY;
  // Why the last read failed, until one works: every token would ask again, the keys held being too old.
  let failure: unknown;
  // Tokens that come while the keys are read wait for that reading (jose makes one at a time).
  const read = async () => {
    if (failure !== undefined && lessAgoThan(askedAt, KEYS_COOLDOWN_MS)) throw failure;
    try {
      await remote.reload();
      readAt = clock.now();
      failure = undefined;
      readOk();
    } catch (err) {
      failure = unreadableKeys(uri, err, keysMs);
      throw failure;
    } finally {
      askedAt = clock.now();
    }
  };
  const readAgain = async () => {
    // While the last read failed, whether the issuer publishes the key a token needs is not known:
    // read, which fails as that read did, has its failure stand (a 503), not a refusal of the token
    // that has its client log in again.
    if (failure === undefined && lessAgoThan(askedAt, KEYS_COOLDOWN_MS)) return false;
    await read();
    return true;
  };
  const keys: JWTVerifyGetKey = async (header, token) => {
    if (!lessAgoThan(readAt, KEYS_MAX_AGE_MS)) await read();
    try {
      return await remote(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !(await readAgain())) throw err;
      return remote(header, token);
    }
  };
  return Object.assign(keys, { readAgain });
}

/**
 * Where the issuer publishes its keys, read from its metadata: only metadata that names this
 * issuer (RFC 8414 3.3), and keys over https but on this machine, as every upstream is reached.
 * A redirect is not followed, to https or to anywhere else: the metadata is at the well-known URL
 * made from the issuer (RFC 8414 3), and a redirect, to plain http above all, would let whoever
 * answers where it leads name the keys that tokens are checked with.
 */
async function jwksUri(issuer: URL, fetch: Fetch, metadataMs: number): Promise<URL> {
  const failed: string[] = [];
  const notInTime = `no answer within ${metadataMs / 1000} s`;
  let answered = false;
  for (const url of metadataUrls(issuer)) {
    const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(metadataMs) }).catch(
      (err: Error) => {
        failed.push(`${url}: ${err.name === "TimeoutError" ? notInTime : whyFetchFailed(err)}`);
        return undefined;
      },
    );
    if (!response) continue;
    const moved = redirected(url, response, "the metadata is read at its well-known URL only");
    if (moved) {
      await response.body?.cancel();
      failed.push(moved);
      continue;
    }
    if (!response.ok) {
      failed.push(`${url}: ${response.status}`);
      continue;
    }
    // A page in its place (a proxy's sign-in) is no metadata; an answer cut off is none either.
    let metadata: { issuer?: unknown; jwks_uri?: unknown };
    try {
      metadata = (await response.json()) as typeof metadata;
    } catch (err) {
      if (!(err instanceof SyntaxError)) {
        // fetch's "terminated", with the reason as its cause.
        const read = err as Error & { cause?: Error };
        failed.push(
          read.name === "TimeoutError"
            ? `${url}: ${response.status}, but not read whole within ${metadataMs / 1000} s`
            : `${url}: ${response.status}, but its answer broke off (${read.cause?.message ?? read.message})`,
        );
        continue;
      }
      answered = true;
      failed.push(`${url}: ${response.status}, but not JSON`);
      continue;
    }
    answered = true;
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      failed.push(`${url}: ${response.status}, but no JSON object`);
      continue;
    }
    // Issuers differ on a trailing slash (Auth0 writes one, Keycloak does not): either is this one.
    if (typeof metadata.issuer !== "string" || bare(metadata.issuer) !== bare(issuer.href)) {
      failed.push(
        metadata.issuer === undefined
          ? `${url}: it names no issuer`
          : `${url}: it names the issuer ${JSON.stringify(metadata.issuer)}, not this one`,
      );
      continue;
    }
    const keys =
      typeof metadata.jwks_uri === "string" && URL.canParse(metadata.jwks_uri) ? new URL(metadata.jwks_uri) : undefined;
    if (!keys) {
      failed.push(
        typeof metadata.jwks_uri === "string"
          ? `${url}: its jwks_uri ${JSON.stringify(metadata.jwks_uri)} is no absolute URL`
          : `${url}: no jwks_uri`,
      );
      continue;
    }
    if (keys.protocol !== "https:" && !(keys.protocol === "http:" && isLoopbackHost(keys.hostname))) {
      failed.push(`${url}: its jwks_uri ${keys.origin} is not https`);
      continue;
    }
    return keys;
  }
  if (answered) throw new UnusableMetadataError(failed.join("; "));
  throw new Error(`no metadata names its keys: ${failed.join("; ")}`);
}

/** The issuer answered at a metadata address, but with metadata waiter cannot take: what each address answered. */
class UnusableMetadataError extends Error {}

/**
 * Why fetch failed, in a word: fetch's own message is "fetch failed", and the network's reason
 * (ENOTFOUND, ECONNREFUSED) is in its causes, or the proxy's, named as such.
 */
function whyFetchFailed(err: Error): string {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    const status = tunnelRefused(cause);
    if (status !== undefined) return `the proxy answered ${status}`;
    const { code } = cause as { code?: unknown };
    if (typeof code === "string") return proxyFailure(cause) ? `the proxy: ${code}` : code;
  }
  return err.name;
}

/**
 * Whether jose failed for want of the issuer (a key set it could not fetch) rather than because
 * of the token: an answer other than 200 (keysFetch's), its timeout, its generic error (a key
 * set answered with no JSON), an answer that is no key set, or the network's failure under fetch.
 */
function issuerFailed(err: unknown): boolean {
  if (err instanceof KeysNotServedError || err instanceof UnusableKeysError) return true;
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return true;
  if (err instanceof errors.JOSEError) return err.code === "ERR_JOSE_GENERIC";
  return err instanceof TypeError && err.message === "fetch failed";
}

/**
 * A token's claim as WWW-Authenticate's quoted error_description may carry it: ASCII without `"`,
 * `\` or control characters (RFC 6750 §3), at most 100 characters.
 */
function inChallenge(claim: unknown): string {
  const plain = String(claim).replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "?");
  return plain.length > 100 ? `${plain.slice(0, 97)}...` : plain;
}

/**
 * Why a token whose header names `alg` is one no key of the issuer could check, if it is: no key
 * set holds a key for these (jose: "Unsupported alg value for a JSON Web Key Set"). An issuer set
 * to sign with a secret (Keycloak's HS256, a legacy Supabase project) issues them.
 */
function uncheckable(alg: unknown): string | undefined {
  if (alg === "none")
    return "it is not signed (alg none), and only tokens signed with a key the issuer publishes are taken";
  if (typeof alg === "string" && /^HS\d+$/.test(alg)) {
    return `it is signed with a shared secret (${alg}), which no key the issuer publishes can check; have the issuer sign its access tokens with a key pair (RS256 or ES256)`;
  }
  const instead = "have the issuer sign its access tokens with RS256 or ES256";
  if (typeof alg !== "string")
    return `its header names no signing algorithm (alg), so waiter cannot check it; ${instead}`;
  if (!KEY_SET_ALGS.test(alg)) return `it is signed with ${inChallenge(alg)}, which waiter cannot check; ${instead}`;
  // jose checks ML-DSA with WebCrypto, which Node.js has from 24.7 on (with SubtleCrypto.supports),
  // built with OpenSSL 3.5 or later; else it finds so only as it reads the issuer's key, and calls
  // the token no valid one.
  if (alg.startsWith("ML-DSA-")) {
    const subtle = webcrypto.subtle.constructor as { supports?: (operation: string, algorithm: string) => boolean };
    if (!subtle.supports) {
      return `it is signed with ${alg}, which waiter cannot check on a Node.js before 24.7; ${instead}, or run waiter on Node.js 24.7 or later`;
    }
    if (!subtle.supports("verify", alg)) {
      return `it is signed with ${alg}, which this Node.js cannot check, as it is built with OpenSSL ${process.versions.openssl} and ML-DSA needs OpenSSL 3.5 or later; ${instead}, or run waiter on a Node.js built with OpenSSL 3.5 or later (as the Node.js project's own builds of 24.7 and later are)`;
    }
  }
  return undefined;
}

/** The signing algorithms jose checks with a key from a key set (its JWS table, less the shared secrets'). */
const KEY_SET_ALGS = /^(?:[RP]S(?:256|384|512)|ES(?:256|384|512)|EdDSA|Ed25519|ML-DSA-(?:44|65|87))$/;

/**
 * Why jose refused a token, in waiter's words: they stand in WWW-Authenticate's quoted
 * error_description, where RFC 6750 §3 allows no `"` or `\`, and jose's quote the claim.
 * `audience` is what aud must hold, `issuer` what iss must name.
 */
function whyRefused(err: unknown, audience: readonly string[], issuer: string): string {
  if (err instanceof errors.JWTExpired) return "it has expired; log in again for a new one";
  if (err instanceof errors.JWTClaimValidationFailed) {
    // A time written otherwise (as text, or null): the token does have one, which no clock decides.
    if (err.reason === "invalid") return `its ${err.claim} claim is not a number of seconds (a NumericDate, RFC 7519)`;
    if (err.claim === "exp") return "it never expires (it has no exp), and only tokens that do are taken";
    // The commonest set-up mistake (Keycloak puts waiter's URL in aud only with an Audience mapper):
    // what the token names beside what it should.
    if (err.claim === "aud") {
      const carried = [err.payload.aud ?? []].flat().map(inChallenge);
      const named = carried.length
        ? `is for another audience: its aud is ${carried.join(", ")}`
        : "names no audience (aud)";
      // …/mcp/ beside …/mcp is the same URL to the person who sets the issuer up.
      const shown = audience.filter((name) => !(name.endsWith("/") && audience.includes(name.slice(0, -1))));
      return `it ${named}, and this server takes only ${shown.map(inChallenge).join(" or ")}; have the issuer put that in aud (in Keycloak, an Audience mapper on the client scope)`;
    }
    if (err.reason === "missing") return `it has no ${err.claim} claim`;
    // Signed with the issuer's keys yet naming another (Entra's v1.0 tokens name sts.windows.net,
    // its v2.0 metadata login.microsoftonline.com): only the two names show which.
    if (err.claim === "iss") {
      const entraV1 = String(err.payload.iss).startsWith("https://sts.windows.net/")
        ? "; Entra issues v1.0 tokens, which name sts.windows.net, unless waiter's app registration has requestedAccessTokenVersion 2 in its manifest"
        : "";
      return `it is from another issuer: its iss is ${inChallenge(err.payload.iss)}, and this server trusts only ${inChallenge(issuer)} (http.oauth.issuer)${entraV1}`;
    }
    if (err.claim === "nbf") return "it is not valid yet: check the clocks of the issuer and this server";
    return `its ${err.claim} claim is not valid`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
    return "it is not signed by any key the issuer publishes";
  }
  return "it is not a valid access token";
}

/**
 * The scopes a token carries, in `scope` or `scp`, each a space-separated string (RFC 9068, and
 * Entra's `scp`) or a list (as other issuers write them). Entra's client-credentials token has
 * neither, and names its client and no login: its `roles` are the application permissions its
 * client was granted, which Entra writes in place of scopes. A user's token carries its scopes in
 * `scp`, and its `roles` are the user's (as are an ID token's, which names no client): they must
 * not widen what the client was granted.
 */
function scopesOf(payload: JWTPayload): string[] {
  const appOnly = payload.scope === undefined && payload.scp === undefined && namesClientOnly(payload);
  const granted = appOnly ? [payload.roles] : [payload.scope, payload.scp];
  return granted.flatMap((claim) => {
    if (typeof claim === "string") return claim.split(" ").filter(Boolean);
    if (Array.isArray(claim)) return claim.filter((s): s is string => typeof s === "string");
    return [];
  });
}

/**
 * The client app a token was issued to, in the claim its issuer writes it in: OpenID Connect's
 * `azp` (Keycloak, Auth0, Entra's v2.0 tokens), RFC 9068's `client_id`, Okta's `cid`, Entra's
 * v1.0 `appid`.
 */
function clientOf(payload: JWTPayload): unknown {
  return payload.azp ?? payload.client_id ?? payload.cid ?? payload.appid;
}

/**
 * Who a token says it is, as sessions and rate limits know the caller: the client app and the user
 * it acts for, each escaped so that no pair passes for another.
 */
function callerOf(payload: JWTPayload): string {
  const part = (value: unknown) => (value === undefined ? "" : encodeURIComponent(String(value)));
  return `oauth:${part(clientOf(payload))}/${part(payload.sub)}`;
}

/**
 * What a token's `cnf` (RFC 7800) binds it to, said: DPoP's key thumbprint (RFC 9449 §6.1), a TLS
 * client certificate's (RFC 8705 §3.1), or another key.
 */
function boundTo(cnf: unknown): string {
  const members = typeof cnf === "object" && cnf !== null ? cnf : {};
  if ("jkt" in members) return "its client's DPoP key (cnf jkt)";
  if ("x5t#S256" in members) return "its client's TLS certificate (cnf x5t#S256)";
  return "a key its client holds (cnf)";
}

/** Claims of a user's login (OpenID Connect's session and login time, the user's name and address). */
const LOGIN_CLAIMS = ["sid", "session_state", "auth_time", "preferred_username", "email"];

/** Whether a token names its client and nothing of a user's login, as a client-credentials grant's does. */
function namesClientOnly(payload: JWTPayload): boolean {
  const client = clientOf(payload);
  return typeof client === "string" && client !== "" && LOGIN_CLAIMS.every((claim) => payload[claim] === undefined);
}

/** Whether a token without `sub` is its client's own (namesClientOnly). An empty sub names no one. */
function clientsOwn(payload: JWTPayload): boolean {
  return payload.sub === undefined && namesClientOnly(payload);
}

/**
 * Checks JWT access tokens the way a resource server must: signed by a key in the issuer's JWKS
 * (found through its metadata, fetched once and again when a token names a new key), `iss`
 * the issuer, `aud` waiter's /mcp URL, `exp` and `nbf` by waiter's clock with a little leeway,
 * bound to no key (no `cnf`: waiter takes bearer tokens only), and a waiter scope. waiter is no authorization server: it only reads what one issued.
 */
export function oauthVerifier(
  settings: OAuthSettings,
  log: Log,
  fetch: Fetch,
  timeouts: OAuthTimeouts = TIMEOUTS,
): OAuthTokenVerifier {
  const issuer = new URL(settings.issuer);
  const bareIssuer = bare(issuer.href);
  let keys: Promise<Keys> | undefined;
  /** When the issuer's metadata last could not be read: it is not asked again before ISSUER_RETRY_MS. */
  let lookupFailedAt = Number.NEGATIVE_INFINITY;
  const issuerWarning = throttled((line) => log.warning(line), ISSUER_RETRY_MS);
  // Neither the token's fault (a 401 would have its client drop it) nor waiter's own (500): the
  // issuer's, for now, a 503 (routes.ts).
  const issuerUnavailable = (err: unknown) => {
    const unusable =
      err instanceof UnusableMetadataError ? "metadata" : err instanceof UnusableKeysError ? "key set" : undefined;
    if (unusable) {
      issuerWarning(
        `OAuth: waiter cannot use the issuer ${settings.issuer}'s ${unusable} (${(err as Error).message}); its tokens are refused with 503 until waiter can`,
      );
      return new TemporarilyUnavailableError(
        `The issuer ${settings.issuer}'s ${unusable} cannot be used to check the token; try again in a minute`,
      );
    }
    issuerWarning(
      `OAuth: the issuer ${settings.issuer} cannot be reached (${err instanceof Error ? err.message : err}); its tokens are refused with 503 until it answers`,
    );
    return new TemporarilyUnavailableError(
      `The issuer ${settings.issuer} cannot be reached to check the token; try again in a minute`,
    );
  };
  /** Why the last metadata lookup failed, said again while it is not made again. */
  let lookupFailure: unknown;
  const jwks = async () => {
    if (lessAgoThan(lookupFailedAt, ISSUER_RETRY_MS)) {
      throw issuerUnavailable(
        lookupFailure instanceof UnusableMetadataError ? lookupFailure : "it did not answer a moment ago",
      );
    }
    // It answers again once its keys are read: metadata that answers names a key set that may not.
    keys ??= jwksUri(issuer, fetch, timeouts.metadataMs).then((uri) =>
      issuerKeys(uri, fetch, timeouts.keysMs, () =>
        issuerWarning.ended(`OAuth: the issuer ${settings.issuer} answers again`),
      ),
    );
    const loading = keys;
    try {
      return await loading;
    } catch (err) {
      // Tokens that waited on the same lookup fail with it; the lookup is made again later.
      if (keys === loading) {
        keys = undefined;
        lookupFailedAt = clock.now();
        lookupFailure = err;
      }
      throw issuerUnavailable(err);
    }
  };
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      // What is no JWT at all is refused before the issuer is asked for anything.
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw new NotAJwtError("The access token was refused: it is not a JWT");
      }
      // jose reads a JWE's header too, and would then refuse it as "no valid access token".
      if (header.enc !== undefined) {
        const audience = inChallenge(settings.audience[0]);
        throw new InvalidTokenError(
          `The access token was refused: it is encrypted (a JWE), and only signed JWTs are taken; have the issuer issue JWT access tokens for ${audience} (Auth0 issues encrypted ones for a login that names none of its APIs: create an API of that identifier, and turn on the tenant's Resource Parameter Compatibility Profile)`,
        );
      }
      // Refused as such before the issuer is asked: one that cannot be reached now would have its
      // client told to try again, with a token no answer of the issuer admits.
      const unchecked = uncheckable(header.alg);
      if (unchecked) throw new InvalidTokenError(`The access token was refused: ${unchecked}`);
      let payload: JWTPayload;
      const options = {
        // Issuers differ on a trailing slash (Auth0 writes one, Keycloak does not), whichever was configured.
        issuer: [bareIssuer, `${bareIssuer}/`],
        audience: [...settings.audience],
        clockTolerance: LEEWAY_SECONDS,
        // An access token that never expires is not one to take.
        requiredClaims: ["exp"],
        currentDate: new Date(clock.now()),
      };
      try {
        const keys = await jwks();
        const verified = () =>
          jwtVerify(token, keys, options).catch(async (err) => {
            // A token that names no key (no kid) while the issuer publishes several, as while it
            // rotates them, is tried with each, as jose has it done: the one that signed it decides.
            if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
            for await (const key of err) {
              try {
                return await jwtVerify(token, key, options);
              } catch (inner) {
                if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
              }
            }
            throw new errors.JWSSignatureVerificationFailed();
          });
        ({ payload } = await verified().catch(async (err) => {
          // Naming no key, it may be signed by one the issuer published since the keys were read:
          // they are read again, as for a token naming a key they lack (jose does that only then).
          if (!(err instanceof errors.JWSSignatureVerificationFailed) || header.kid !== undefined) throw err;
          if (!(await keys.readAgain())) throw err;
          return verified();
        }));
      } catch (err) {
        if (err instanceof InvalidTokenError || err instanceof TemporarilyUnavailableError) throw err;
        // The key set could not be fetched: said, but with no pause on later tokens, which one
        // crafted token (an unknown key id makes jose fetch the set) must not impose on everyone.
        if (issuerFailed(err)) throw issuerUnavailable(err);
        const why = `The access token was refused: ${whyRefused(err, settings.audience, settings.issuer)}`;
        // jose checks the claims once the signature holds: then they are the issuer's.
        if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired) {
          throw new CallerRefusedError(why, callerOf(err.payload));
        }
        throw new InvalidTokenError(why);
      }
      // A token bound to a key is its client's only with the proof that the client holds the key, a
      // DPoP proof (RFC 9449 §7) or its TLS certificate (RFC 8705 §3), which waiter does not check:
      // taken as a bearer token, a stolen one would work here. It is refused, as both RFCs have a
      // resource server refuse a bound token whose binding it has not verified.
      // An empty cnf object binds it to nothing; a cnf of another shape (RFC 7800 has it an object)
      // binds it to what waiter cannot read, and is refused too.
      const { cnf } = payload;
      const unbound =
        cnf === undefined ||
        (typeof cnf === "object" && cnf !== null && !Array.isArray(cnf) && Object.keys(cnf).length === 0);
      if (!unbound) {
        throw new CallerRefusedError(
          `The access token was refused: it is bound to ${boundTo(payload.cnf)}, which this server cannot check: it takes bearer tokens only; have the issuer give its client bearer tokens, bound to no key`,
          callerOf(payload),
        );
      }
      // A sub of another type (a number) names its user, but not as RFC 7519 has it.
      if (payload.sub !== undefined && typeof payload.sub !== "string") {
        throw new CallerRefusedError(
          `The access token was refused: its sub claim is no string (it is ${inChallenge(JSON.stringify(payload.sub))}), and RFC 7519 has sub name its user as a string; have the issuer write it as one`,
          callerOf(payload),
        );
      }
      // Sessions and rate limits are its user's own: a user's token that names none (Keycloak's
      // without its client scope basic) would be every such user's of the connector at once (RFC
      // 9068 §2.2). A client-credentials token has no user, and its client is the caller: Duende
      // IdentityServer's carries no sub, and nothing of a login.
      if ((typeof payload.sub !== "string" || !payload.sub) && !clientsOwn(payload)) {
        throw new CallerRefusedError(
          "The access token was refused: it names no user (no sub claim), and each session is its user's own; have the issuer put sub in its access tokens (in Keycloak, the client scope basic)",
          callerOf(payload),
        );
      }
      // A good token without a waiter scope is taken with none: it is refused with 403
      // insufficient_scope (RFC 6750 §3.1), which names the scopes to ask for (routes.ts), where a
      // 401 would have its client drop it and log in again for one just like it.
      const scopes = scopesOf(payload).filter((s) => (OAUTH_SCOPES as readonly string[]).includes(s));
      return {
        token,
        // Sessions and rate limits are each user's own, also when many come through one connector.
        clientId: callerOf(payload),
        scopes,
        // jose took exp by waiter's clock with the leeway; the bearer check (routes.ts) compares
        // expiresAt with that clock again, strictly, which would refuse a token within the leeway.
        expiresAt: Number(payload.exp) + LEEWAY_SECONDS,
        resource: new URL(settings.resource),
      };
    },
  };
}
