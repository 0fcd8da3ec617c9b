import { createHash, timingSafeEqual } from "node:crypto";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { z } from "zod";
import { ConfigError } from "../errors.js";
import {
  characterNamed,
  closedObject,
  integer,
  jsonSetting,
  NAME,
  requiredUpstreamUrl,
  type SecretRead,
  type Secrets,
  type Settings,
  type SettingValues,
  secretVariable,
  settingName,
  word,
} from "../settings.js";
import { meantName } from "../shown.js";
import type { Tool } from "../toolset.js";

/** What a token may do: `read` lists and runs the read-only tools only, `write` every tool. */
export const SCOPES = ["read", "write"] as const;

/** The same, as a caller holds them, from a configured token or an OAuth access token. */
export const OAUTH_SCOPES = ["waiter:read", "waiter:write"] as const;
export const [READ_SCOPE, WRITE_SCOPE] = OAUTH_SCOPES;

/** Bearer tokens shorter than this are refused: `openssl rand -hex 32` makes one of 64. */
const MIN_SECRET = 32;

const token = closedObject("a token", {
  name: settingName("token"),
  secretEnv: secretVariable("the token"),
  scope: word(SCOPES),
  toolsets: z.array(z.string()).min(1).optional(),
});

/**
 * Where in the tokens a bad value is, the token named by its name (ops.scope), as the sources and
 * channels are and as the checks after these name it; by its place from 1 where it has none (#1.name).
 */
function locateToken([index, ...inside]: readonly PropertyKey[], tokens: unknown): string {
  const name = (tokens as { name?: unknown }[] | undefined)?.[index as number]?.name;
  const which = typeof name === "string" && NAME.test(name) ? name : `#${Number(index) + 1}`;
  return [which, ...inside.map(String)].join(".");
}

/** `waiter serve`'s callers: the "http" section of the config file. */
export const httpSettings = {
  tokens: {
    env: "WAITER_HTTP_TOKENS",
    description: `Bearer tokens that may call waiter serve, as JSON: a list of {name, secretEnv, scope (${SCOPES.join(" or ")}), toolsets (optional)}. Each secret is read from the variable secretEnv names, at least ${MIN_SECRET} characters, each token's its own.`,
    schema: jsonSetting(
      z.array(token),
      [],
      'a JSON list of tokens, such as [{"name":"ops","secretEnv":"WAITER_TOKEN_OPS","scope":"write"}]',
    ),
    locate: locateToken,
  },
  requestsPerMinute: {
    env: "WAITER_HTTP_REQUESTS_PER_MINUTE",
    description:
      "JSON-RPC requests to /mcp one token may make per minute (each call of a batch counts as one; notifications, GET and DELETE count none), with bursts of a sixth of that; past it, 429 with Retry-After.",
    schema: integer(600, 6, 1_000_000),
  },
  oauth: {
    env: "WAITER_HTTP_OAUTH",
    description:
      "An OAuth 2.1 authorization server whose access tokens may call waiter serve, as JSON: {issuer, audience}; audience, what the tokens' aud holds (a URL, or the client id in Entra's v2.0 tokens), defaults to the public URL of /mcp. Tokens need the scope waiter:read or waiter:write.",
    schema: jsonSetting(
      closedObject("oauth", {
        issuer: requiredUpstreamUrl()
          .superRefine((value, ctx) => {
            // Not echoed: a user or a query may carry a credential, which resource metadata would publish.
            const url = URL.canParse(value) ? new URL(value) : undefined;
            if (url && (url.username || url.password || /[?#]/.test(value))) {
              ctx.addIssue({
                code: "custom",
                message:
                  "must be the issuer's identifier as its tokens' iss and its metadata name it, with no user, password, query or fragment (RFC 8414 §2), like https://id.example.com/realms/company",
              });
            }
          })
          .describe("the authorization server's issuer URL, like https://id.example.com"),
        audience: z.string().trim().min(1, "is empty; leave it out for the public URL of /mcp").optional(),
      }).optional(),
      undefined,
      'a JSON object, such as {"issuer":"https://id.example.com"}',
    ),
  },
} satisfies Settings;

export type HttpConfig = Omit<SettingValues<typeof httpSettings>, "tokens"> & { tokens: Token[] };
export type Token = z.output<typeof token> & { secret: string };

/** Whose a token's secret is, as the secrets read record it and a message names it. */
const tokenOwner = (name: string) => `http token ${name}`;

/**
 * Reads each token's secret from the variable its secretEnv names; a missing or short one stops
 * waiter, as does a toolset no toolset is named (it would leave the token no tools, silently).
 */
export function resolveHttp(
  values: SettingValues<typeof httpSettings>,
  secrets: Secrets,
  origin: (setting: keyof typeof httpSettings) => string,
  toolsets: readonly string[],
): HttpConfig {
  const names = new Set<string>();
  const tokens = secrets.each(values.tokens, (configured): Token => {
    if (names.has(configured.name)) {
      throw new ConfigError(`invalid setting ${origin("tokens")}: two tokens are named ${configured.name}`);
    }
    names.add(configured.name);
    // In any case, as the settings' other words: Currency is currency. An unknown one is quoted as given.
    const stray = configured.toolsets?.find((name) => !toolsets.includes(name.toLowerCase()));
    if (stray !== undefined) {
      const meant = meantName(stray, toolsets);
      throw new ConfigError(
        `invalid setting ${origin("tokens")} at ${configured.name}.toolsets: no toolset is named ${JSON.stringify(stray)} (they are: ${toolsets.join(", ")})${meant ? `; did you mean ${meant}?` : ""}`,
      );
    }
    const secret = secrets.required(configured.secretEnv, {
      setting: `${origin("tokens")} at ${configured.name}.secretEnv`,
      owner: tokenOwner(configured.name),
      holds: "the token",
      example: `${configured.name.toUpperCase().replace(/-/g, "_")}_TOKEN`,
    });
    if (secret.length < MIN_SECRET) {
      throw new ConfigError(
        `${tokenOwner(configured.name)}: ${configured.secretEnv} is shorter than ${MIN_SECRET} characters; make one with \`openssl rand -hex 32\``,
      );
    }
    // RFC 6750's token is one word of visible ASCII after "Bearer": a secret past that never matches.
    const unsendable = /[^\x21-\x7e]/u.exec(secret);
    if (unsendable) {
      throw new ConfigError(
        `${tokenOwner(configured.name)}: ${configured.secretEnv} holds ${characterNamed(unsendable[0])}, which a client cannot send in a bearer token: a token is one word of visible ASCII characters; make one with \`openssl rand -hex 32\``,
      );
    }
    const named = configured.toolsets?.map((name) => name.toLowerCase());
    return { ...configured, ...(named ? { toolsets: named } : {}), secret };
  });
  return { ...values, tokens };
}

/**
 * Why each token whose secret waiter read for anything else too, as the record of the secrets read
 * says, stops waiter, all said at once. Another token's: its holder would be taken for either, a
 * read token's for a write one's. Another system's (a webhook source's, an API key, a password):
 * that system knows it (a shop's admin shows its webhook secret), and whoever reads it there could
 * call waiter with the token's scope. `tokens` are as configured, each one's secret as it was read,
 * so that one is said though another token was refused. `origin` is where the tokens are set.
 */
export function tokensSharingSecrets(
  tokens: readonly Pick<Token, "name" | "secretEnv">[],
  read: readonly SecretRead[],
  origin: string,
): string[] {
  const refused: string[] = [];
  /** The tokens already said with the token they share a secret with. */
  const twinned = new Set<string>();
  for (const token of tokens) {
    const own = read.find(({ owner }) => owner === tokenOwner(token.name));
    if (!own) continue;
    const shared = read.find(({ secret, owner }) => secret === own.secret && owner !== own.owner);
    if (!shared || twinned.has(token.name)) continue;
    const twin = tokens.find((other) => tokenOwner(other.name) === shared.owner);
    if (twin) {
      twinned.add(twin.name);
      const held =
        twin.secretEnv === token.secretEnv
          ? `both read ${token.secretEnv}`
          : `hold the same secret (${token.secretEnv} and ${twin.secretEnv} are equal)`;
      refused.push(
        `invalid setting ${origin}: tokens ${token.name} and ${twin.name} ${held}, so waiter cannot tell which a caller holds; give each token a secret of its own, made with \`openssl rand -hex 32\``,
      );
    } else {
      refused.push(
        `${tokenOwner(token.name)}: ${token.secretEnv} holds the secret of ${shared.where}, which the system it is for knows too: whoever reads it there could call waiter as ${token.name}. Give the token a secret of its own, made with \`openssl rand -hex 32\``,
      );
    }
  }
  return refused;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * The bearer check (routes.ts) asks this whether a token is one of the configured ones.
 * Every configured token is compared, in constant time, whichever matches: how long the answer
 * takes says nothing about which one came close.
 */
export function tokenVerifier(tokens: readonly Token[]): OAuthTokenVerifier {
  const known = tokens.map((t) => ({ token: t, digest: digest(t.secret) }));
  return {
    async verifyAccessToken(given: string): Promise<AuthInfo> {
      const presented = digest(given);
      let found: Token | undefined;
      for (const candidate of known) {
        if (timingSafeEqual(presented, candidate.digest)) found = candidate.token;
      }
      if (!found) throw new InvalidTokenError("The token is not one this server knows");
      return { ...heldAs(found), token: given };
    },
  };
}

/**
 * A caller as a message to its client names it: a token by its name, an OAuth access token's
 * caller by its client and user, who hold no token of that name.
 */
export const callerNamed = (caller: string) =>
  caller.startsWith("oauth:") ? `The OAuth client and user ${caller}` : `Token ${caller}`;

/**
 * Why a caller without the write scope may not call `tool`, in the words that gave it its scope:
 * an OAuth caller's, the scope waiter:write its issuer grants; a configured token's, the `scope`
 * of http.tokens, where waiter:write is written nowhere.
 */
export const writeRefused = (caller: string, tool: string) =>
  caller.startsWith("oauth:")
    ? `${callerNamed(caller)} may not call ${tool}, which needs the scope ${WRITE_SCOPE}`
    : `${callerNamed(caller)} may not call ${tool}: its scope is read, and ${tool} needs a token of scope write`;

/** A configured token as its caller holds it: its name, scopes and toolsets. */
function heldAs(token: Token): AuthInfo {
  return {
    token: "",
    clientId: token.name,
    scopes: token.scope === "write" ? [...OAUTH_SCOPES] : [READ_SCOPE],
    // Configured tokens do not expire; the bearer check (routes.ts) wants a time.
    expiresAt: Number.POSITIVE_INFINITY,
    ...(token.toolsets ? { extra: { toolsets: token.toolsets } } : {}),
  };
}

/**
 * Why each token that would be served none of `tools` gets none: its toolsets are off here, or
 * serve no read-only tool for a read token. Its client would connect and find nothing to call.
 */
export function toollessTokens(tokens: readonly Token[], tools: readonly Tool[]): string[] {
  if (tools.length === 0) return [];
  return tokens.flatMap((token) => {
    if (tools.some(allowedTools(heldAs(token)))) return [];
    const within = tools.filter(allowedTools(heldAs({ ...token, scope: "write" })));
    const toolsets = token.toolsets?.join(", ");
    const why =
      within.length === 0
        ? `its toolsets (${toolsets}) serve no tool here`
        : `its scope is read, and ${toolsets ? `its toolsets (${toolsets}) serve` : "this server serves"} no read-only tool`;
    return [`http token ${token.name} is served no tool: ${why}`];
  });
}

/**
 * The tools a caller may see and call: every one with waiter:write, the read-only ones with
 * waiter:read alone; within its toolsets when its token names them.
 */
export function allowedTools(auth: AuthInfo): (tool: Tool) => boolean {
  const write = auth.scopes.includes(WRITE_SCOPE);
  const toolsets = auth.extra?.toolsets as string[] | undefined;
  return (tool) =>
    (write || tool.annotations.readOnlyHint) &&
    (!toolsets || toolsets.some((name) => tool.name.startsWith(`${name}_`)));
}

/**
 * How fast each token may call: a bucket per token that holds a sixth of a minute's requests and
 * fills at the per-minute rate. `take` answers undefined when a request may go, else the seconds
 * to wait; `owe` takes what a request that went turns out to cost besides (the other calls of a
 * batch), which its token's next requests wait for.
 */
export function rateLimit(
  perMinute: number,
  now: () => number,
): { take(name: string): number | undefined; owe(name: string, requests: number): void; readonly size: number } {
  const capacity = perMinute / 6;
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { level: number; at: number }>();
  // A bucket untouched this long is full again, as good as none: OAuth brings a name per user,
  // so buckets are dropped then rather than kept for every user the server ever saw.
  const refillMs = capacity / perMs;
  let sweptAt = now();
  const bucketOf = (name: string) => {
    const t = now();
    if (t - sweptAt >= refillMs) {
      // A bucket in debt is full again only once the debt is paid too.
      for (const [key, { level, at }] of buckets)
        if (t - at >= refillMs + Math.max(0, -level) / perMs) buckets.delete(key);
      sweptAt = t;
    }
    const bucket = buckets.get(name) ?? { level: capacity, at: t };
    // A clock set back (NTP correcting one that ran ahead) is no time run backwards: it drains nothing.
    bucket.level = Math.min(capacity, bucket.level + Math.max(0, t - bucket.at) * perMs);
    bucket.at = t;
    buckets.set(name, bucket);
    return bucket;
  };
  return {
    owe(name, requests) {
      bucketOf(name).level -= requests;
    },
    take(name) {
      const bucket = bucketOf(name);
      if (bucket.level >= 1) {
        bucket.level -= 1;
        return undefined;
      }
      return Math.ceil((1 - bucket.level) / perMs / 1000);
    },
    get size() {
      return buckets.size;
    },
  };
}
