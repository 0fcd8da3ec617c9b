import { z } from "zod";
import { ConfigError } from "../errors.js";
import {
  bracketedHost,
  byWord,
  COMMENT,
  COMMENTED,
  closedObject,
  envNameOrPastedSecret,
  integer,
  isWildcardHost,
  jsonSetting,
  list,
  listenAddress,
  noneConfigured,
  publicUrl,
  type Read,
  Refusals,
  refusalsOf,
  type Secrets,
  type Settings,
  type SettingValues,
  secretVariable,
  settingName,
  upstreamUrl,
  word,
} from "../settings.js";
import { standardWebhooksKey } from "./verifiers/standard-webhooks.js";

export const SCHEMES = [
  "standard-webhooks",
  "stripe",
  "github",
  "shopify",
  "woocommerce",
  "hmac-sha256",
  "comgate",
  "gopay",
  "none",
] as const;
export type Scheme = (typeof SCHEMES)[number];

const headerName = z.string().regex(/^[A-Za-z0-9-]+$/, "must be an HTTP header name");

/**
 * The variable that holds a source's secret, or a list of them while a secret is rotated: a
 * delivery signed with any one of them is accepted.
 */
const secretEnvs = z
  .union([envNameOrPastedSecret, z.array(envNameOrPastedSecret).min(1, "lists at least one variable")])
  .describe(
    "the name of the environment variable that holds the signing secret, or a list of such names while it is rotated",
  );
const signed = { secretEnv: secretEnvs };
/** Comgate and GoPay call their API with the secret too: it is one credential, never a list. */
const apiSecret = { secretEnv: secretVariable("the secret the gateway issued the e-shop") };
const source = byWord("scheme", [
  closedObject("a standard-webhooks source", { scheme: z.literal("standard-webhooks"), ...signed }),
  closedObject("a stripe source", { scheme: z.literal("stripe"), ...signed }),
  closedObject("a github source", { scheme: z.literal("github"), ...signed }),
  closedObject("a shopify source", { scheme: z.literal("shopify"), ...signed }),
  closedObject("a woocommerce source", { scheme: z.literal("woocommerce"), ...signed }),
  closedObject("an hmac-sha256 source", {
    scheme: z.literal("hmac-sha256"),
    ...signed,
    header: headerName.describe("the HTTP header that carries the signature, like X-Signature"),
    encoding: word(["hex", "base64"]).default("hex"),
    prefix: z.string().default(""),
    idHeader: headerName.optional(),
    typeHeader: headerName.optional(),
  }),
  closedObject("a comgate source", {
    scheme: z.literal("comgate"),
    /** The e-shop's id at Comgate; a notification for another is refused. */
    // Without blanks a copy and paste brings: a notification's merchant, compared as sent, has none.
    merchant: z.string().trim().min(1).describe("the e-shop's merchant id at Comgate"),
    ...apiSecret,
    /** Ask Comgate's API for the payment's state before storing it (default): the notification alone is a claim. */
    confirm: z.boolean().default(true),
    apiUrl: upstreamUrl("https://payments.comgate.cz"),
  }),
  closedObject("a gopay source", {
    scheme: z.literal("gopay"),
    /** The OAuth client GoPay issued for the e-shop; its secret comes from `secretEnv`. */
    // Without blanks a copy and paste brings: GoPay's token endpoint takes the id as it issued it.
    clientId: z.string().trim().min(1).describe("the ClientID GoPay issued the e-shop"),
    ...apiSecret,
    /** GoPay's API: production by default, https://gw.sandbox.gopay.com/api for the sandbox. */
    apiUrl: upstreamUrl("https://gate.gopay.cz/api"),
  }),
  closedObject("an unsigned (none) source", {
    scheme: z.literal("none"),
    allowUnsigned: z.literal(true, { error: 'an unsigned source needs "allowUnsigned": true' }),
    idHeader: headerName.optional(),
    typeHeader: headerName.optional(),
  }),
]);
export type SourceConfig = z.output<typeof source>;

/** A configured source with its name and, once resolved, the secrets its secretEnv names, in its order. */
export type WebhookSource = SourceConfig & { name: string; secrets?: readonly string[] };

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
const sourceName = settingName("source");

/** A host name or address as a Host header carries it, without the port: hooks.example.com, 10.0.0.5, [::1]. */
export const HOST_NAME = /^(?:\[[0-9a-f:.]+\]|[a-z0-9._-]+)$/;

/** What a refusal of `item` adds when it holds several, blanks or semicolons between them, where the list takes commas. */
function severalInOne(item: string, example: string): string {
  return /[\s;]/.test(item) ? `; separate several with commas: ${example}` : "";
}

const hostNames = list()
  .default([])
  .transform((names, ctx) => {
    const lower = names.map((name) => name.toLowerCase());
    const bad = lower.find((name) => !HOST_NAME.test(name));
    if (bad !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: `lists host names without a port, like hooks.example.com or [::1]${severalInOne(bad, "hooks.example.com,admin.example.com")}`,
      });
      return z.NEVER;
    }
    return lower;
  });

const origins = list()
  .default([])
  .transform((values, ctx) => {
    const normalized: string[] = [];
    for (const value of values) {
      const url = URL.canParse(value) ? new URL(value) : undefined;
      const bare = url && /^https?:$/.test(url.protocol) && !url.username && url.pathname === "/" && !url.search;
      if (!url || !bare || url.hash) {
        ctx.addIssue({
          code: "custom",
          message: `lists origins, like https://admin.example.com${severalInOne(value, "https://admin.example.com,https://app.example.com")}`,
        });
        return z.NEVER;
      }
      normalized.push(url.origin);
    }
    return normalized;
  });

/** The listener's settings: the "webhooks" section of the config file. */
export const webhookSettings = {
  listen: {
    env: "WAITER_WEBHOOKS_LISTEN",
    description: "Address the webhook listener binds, host:port. Keep it on loopback behind a reverse proxy or tunnel.",
    schema: listenAddress("127.0.0.1:8790"),
  },
  bindRetrySeconds: {
    env: "WAITER_WEBHOOKS_BIND_RETRY_SECONDS",
    description:
      "How often, in seconds, an assistant's waiter that could not bind webhooks.listen tries again: when another assistant's waiter had the port, this one takes it within that time of that one's stopping. A port that `waiter listen` or `waiter serve` holds is left to it.",
    schema: integer(2, 1, 60, "seconds"),
  },
  publicUrl: {
    env: "WAITER_WEBHOOKS_PUBLIC_URL",
    description:
      "The URL the listener is reached at from outside (https:// for real providers; http:// is accepted for local trials), without a query, a fragment or /mcp at its end; source URLs, and waiter serve's /mcp, are built from it. Under a path (https://tools.example.com/waiter), waiter serves its paths both under it and without it, for a proxy that passes the path on or takes it off; the path may not begin with /webhooks, /healthz, /.well-known or /mcp. Default: the listen address.",
    schema: publicUrl().optional(),
  },
  maxBodyBytes: {
    env: "WAITER_WEBHOOKS_MAX_BODY_BYTES",
    description:
      "Largest webhook body accepted, in bytes; a larger one, or one whose Content-Length says it will be, gets 413.",
    schema: integer(1024 * 1024, 1024, 64 * 1024 * 1024, "bytes"),
  },
  allowedHosts: {
    env: "WAITER_WEBHOOKS_ALLOWED_HOSTS",
    description:
      "Host names without a port that the listener also answers to (comma-separated), besides its listen address and publicUrl's host; a request for any other Host gets 403.",
    schema: hostNames,
  },
  allowedOrigins: {
    env: "WAITER_WEBHOOKS_ALLOWED_ORIGINS",
    description:
      "Web origins allowed to send requests from a browser (comma-separated), besides waiter's own: the page of an MCP client that runs in one (https://app.example.com). A request with any other Origin header gets 403, the OAuth metadata excepted; webhook senders send none.",
    schema: origins,
  },
  maxConnections: {
    env: "WAITER_WEBHOOKS_MAX_CONNECTIONS",
    description: "Most connections the listener holds open at once; one more is closed at once.",
    schema: integer(1000, 1, 100_000),
  },
  maxConnectionsPerClient: {
    env: "WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT",
    description:
      "Most connections one client address may hold open at once; its share of maxConnections is also its share of the webhook bodies being read at once (64 MiB in all). Behind a reverse proxy or tunnel, every connection comes from its address.",
    schema: integer(300, 1, 100_000),
  },
  retention: {
    env: "WAITER_WEBHOOKS_RETENTION",
    description:
      "How many events the store keeps, as JSON: maxEvents (a count), maxBytes (payload bytes, at least webhooks.maxBodyBytes), maxAgeDays; the oldest go first.",
    schema: jsonSetting(
      closedObject("the retention", {
        maxEvents: z.number().int().positive().default(100_000),
        maxBytes: z.number().int().positive().default(DEFAULT_MAX_BYTES),
        maxAgeDays: z.number().positive().default(30),
      }),
      { maxEvents: 100_000, maxBytes: DEFAULT_MAX_BYTES, maxAgeDays: 30 },
      'a JSON object, such as {"maxEvents":100000,"maxAgeDays":30}',
    ),
  },
  sources: {
    env: "WAITER_WEBHOOKS_SOURCES",
    description: `The webhook sources as JSON: name -> {scheme, secretEnv, ...}, scheme one of ${SCHEMES.join(", ")}. Each secret is read from the variable secretEnv names; while a secret is rotated, secretEnv may list the new and the old one's variables, and a delivery signed with either is accepted (not for comgate or gopay).`,
    schema: jsonSetting(
      z.record(sourceName, source),
      {},
      'a JSON object of sources by name, such as {"stripe":{"scheme":"stripe","secretEnv":"STRIPE_WEBHOOK_SECRET"}}',
    ).transform((sources) =>
      Object.entries(sources).map(([name, configured]): WebhookSource => ({ ...configured, name })),
    ),
  },
} satisfies Settings;

/** The webhooks section, its sources' secrets read: what the listener and the store are started with. */
export type WebhooksConfig = SettingValues<typeof webhookSettings>;

/** Why the event tools are off, and waiter listen cannot start, with no source configured. */
export function noSources(configFile: string | undefined): string {
  return noneConfigured(
    "webhook sources",
    { key: "webhooks.sources", env: "WAITER_WEBHOOKS_SOURCES", page: "docs/webhooks.md#configuring-sources" },
    configFile,
  );
}

/** The webhooks section of a loaded configuration. */
export function webhooksOf(config: { toolsets: Record<string, unknown> }): WebhooksConfig {
  return config.toolsets.webhooks as WebhooksConfig;
}

/**
 * The shortest secret an HMAC scheme is keyed with: anyone who holds one delivery can try keys
 * against its signature offline, and a short one is soon found (the Standard Webhooks key's own
 * floor is 16 bytes). Every secret a provider issues is longer, so a shorter one was cut short
 * when pasted, or chosen by hand.
 */
export const MIN_HMAC_SECRET = 16;
const STRIPE_PREFIX = "whsec_";
/** How Standard Webhooks writes an ed25519 public key, which verifies its asymmetric (v1a) signatures. */
const STANDARD_PUBLIC_KEY_PREFIX = "whpk_";

/**
 * The prefixes of the access tokens Shopify issues for its Admin API (public, custom, legacy private
 * and undecided apps), which call the API and sign nothing; an app's client secret (shpss_) is
 * what its webhooks are signed with.
 */
const SHOPIFY_ACCESS_TOKEN = /^shp(?:at|ca|pa|ua)_/;

/** Why an HMAC secret is too short to keep strangers from finding it, or undefined when it will do. */
function shortSecret(variable: string, secret: string): string | undefined {
  // A WooCommerce secret's spaces at its ends are kept, and it is tried trimmed too.
  return secret.trim().length >= MIN_HMAC_SECRET
    ? undefined
    : `${variable} holds a secret shorter than ${MIN_HMAC_SECRET} characters, which anyone holding a delivery it signed could find by trying keys; copy the whole secret the sender shows, or set a longer one at the sender and here (\`openssl rand -hex 32\` makes one)`;
}

/**
 * What a source's secret keys its signatures with, for telling two secrets apart: a Standard Webhooks
 * secret keys the same written whsec_X, v1,whsec_X or X; any other is compared as written.
 */
export function signingKeyOf(scheme: Scheme, secret: string): string {
  return (scheme === "standard-webhooks" && standardWebhooksKey(secret)?.toString("base64")) || secret;
}

/** The schemes whose secrets their providers generate, none of which holds a blank. */
const WRITTEN_WITHOUT_BLANKS: ReadonlySet<Scheme> = new Set(["stripe", "shopify", "standard-webhooks"]);

/** Why a source's secret would be a key strangers could find, or undefined when it will do. */
function weakSecret(scheme: Scheme, variable: string, secret: string): string | undefined {
  switch (scheme) {
    case "standard-webhooks":
      // Written after the signature version it checks (v1a,whpk_…) where Supabase's Auth Hooks show it.
      if (secret.replace(/^v1a,/, "").startsWith(STANDARD_PUBLIC_KEY_PREFIX)) {
        return `${variable} holds a public key (${STANDARD_PUBLIC_KEY_PREFIX}), which checks a sender's asymmetric v1a signatures; waiter checks only symmetric v1 signatures, keyed with a whsec_ secret: have the sender sign with one, and put it in ${variable}`;
      }
      return standardWebhooksKey(secret)
        ? undefined
        : `${variable} must hold the secret as the sender shows it, whsec_ and base64 of at least 16 bytes; what it holds would make a key too short to keep strangers out`;
    case "stripe":
      return secret.startsWith(STRIPE_PREFIX) && secret.length >= STRIPE_PREFIX.length + MIN_HMAC_SECRET
        ? undefined
        : `${variable} must hold the endpoint's signing secret as Stripe shows it, ${STRIPE_PREFIX} and at least ${MIN_HMAC_SECRET} characters after it; what it holds is not one (cut short when pasted, or another of Stripe's keys)`;
    case "shopify": {
      const token = SHOPIFY_ACCESS_TOKEN.exec(secret)?.[0];
      if (token) {
        return `${variable} holds an access token for Shopify's Admin API (${token}…), which signs no webhook; Shopify signs a webhook made under Settings → Notifications → Webhooks with the key shown there, and an app's webhooks with the app's client secret: put that in ${variable}`;
      }
      return shortSecret(variable, secret);
    }
    case "github":
    case "woocommerce":
    case "hmac-sha256":
      return shortSecret(variable, secret);
    case "comgate":
    case "gopay":
    case "none":
      // Comgate's and GoPay's secrets are the gateways' API credentials, which sign nothing.
      return undefined;
  }
}

/**
 * What a gateway's secretEnv holds, as the gateway names it: a credential for its API, which signs
 * nothing, where a person told of a signing secret would look for one the gateway does not have.
 */
const SECRET_HELD: Partial<Record<Scheme, string>> = {
  comgate: "the secret Comgate shows for the e-shop's connection",
  gopay: "the client secret GoPay issued with the source's clientId",
};

/**
 * Reads each signed source's secret from the variable its secretEnv names, and checks what one
 * setting cannot alone; a missing secret, one pasted where its variable's name belongs, or one too
 * short to keep strangers from signing, stops waiter with the source's name, never the secret.
 */
export function resolveWebhooks(
  values: WebhooksConfig,
  secrets: Secrets,
  origin: (setting: keyof typeof webhookSettings) => string,
  given: (setting: keyof typeof webhookSettings) => boolean,
): WebhooksConfig {
  const bodyLimit = given("maxBodyBytes")
    ? `${origin("maxBodyBytes")} (${values.maxBodyBytes})`
    : `the largest body a webhook may have, ${values.maxBodyBytes} bytes by default (webhooks.maxBodyBytes, ${webhookSettings.maxBodyBytes.env})`;
  const retention =
    values.retention.maxBytes < values.maxBodyBytes
      ? `invalid setting ${origin("retention")}: maxBytes (${values.retention.maxBytes}) is below ${bodyLimit}; a single webhook could not be kept`
      : undefined;
  // The secrets are read before the retention is refused, so that one unset, a token holding one,
  // or a source refused is said with it.
  let sources: Read<WebhooksConfig["sources"]>;
  try {
    sources = secrets.unlessUnset(() =>
      secrets.each(values.sources, (source) => {
        if (source.scheme === "none") return source;
        const listed = typeof source.secretEnv !== "string";
        const variables = [source.secretEnv].flat();
        const signing = secrets.each(variables, (variable, i) => {
          const secret = secrets.required(variable, {
            setting: `${origin("sources")} at ${source.name}.secretEnv${listed ? `[${i}]` : ""}`,
            owner: `webhook source ${source.name}`,
            holds: SECRET_HELD[source.scheme] ?? `the ${source.scheme} signing secret`,
            example: `${source.name.toUpperCase().replace(/-/g, "_")}_WEBHOOK_SECRET`,
            // WooCommerce fills a Secret left empty with wp_generate_password(50, true, true), whose
            // characters include the space, and signs with it as generated.
            spacesKept: source.scheme === "woocommerce",
          });
          // Stripe, Shopify and Standard Webhooks senders write their secrets without a blank, where a
          // user's own (GitHub's, WooCommerce's, a generic sender's) may hold " # " as it was chosen.
          if (WRITTEN_WITHOUT_BLANKS.has(source.scheme) && COMMENTED.test(secret)) {
            throw new ConfigError(`webhook source ${source.name}: ${variable} ${COMMENT}`);
          }
          const weak = weakSecret(source.scheme, variable, secret);
          if (weak) throw new ConfigError(`webhook source ${source.name}: ${weak}`);
          return secret;
        });
        // A line copied in the environment file before its value was changed: the rotation would
        // accept the old secret twice and refuse every delivery once the provider signs with the new.
        const keys = signing.map((secret) => signingKeyOf(source.scheme, secret));
        keys.forEach((key, i) => {
          const twin = keys.indexOf(key);
          if (twin === i) return;
          throw new ConfigError(
            variables[twin] === variables[i]
              ? `webhook source ${source.name}: secretEnv lists ${variables[i]} twice; list the new secret's variable and the old one's`
              : `webhook source ${source.name}: ${variables[twin]} and ${variables[i]} hold the same secret, so a delivery signed with the new one would be refused; while a secret is rotated, one variable holds the new secret and another the old`,
          );
        });
        return { ...source, secrets: signing };
      }),
    );
  } catch (err) {
    if (retention && err instanceof ConfigError) throw new Refusals([retention, ...refusalsOf(err)]);
    throw err;
  }
  if (retention) throw new ConfigError(retention);
  if (sources.unset) throw sources.unset;
  return { ...values, sources: sources.value };
}

/** How a source's sender calls its URL: GoPay with a GET that carries only the payment's id, every other with a POST. */
export function deliveredBy(source: { scheme: string }): "GET" | "POST" {
  return source.scheme === "gopay" ? "GET" : "POST";
}

/** What the log says once the listener is bound at `url`: where each source's sender must post. */
export function sourceLines(webhooks: Pick<WebhooksConfig, "listen" | "publicUrl" | "sources">, url: string): string[] {
  return webhooks.sources.map(
    (source) => `source ${source.name} (${source.scheme}): ${sourceUrl(webhooks, source.name, url)}`,
  );
}

/**
 * Where a source's sender must post: behind publicUrl when set, else the listen address, with the
 * port of `boundUrl` when the listener is bound there: port 0 is the one the system chose, and
 * without `boundUrl` it is said where to find it.
 */
export function sourceUrl(
  webhooks: Pick<WebhooksConfig, "listen" | "publicUrl">,
  name: string,
  boundUrl?: string,
): string {
  const { host } = webhooks.listen;
  // The listener's URL is http://, which leaves port 80 out. Port 0 is the one the system chose
  // for the waiter that listens, which one that does not cannot know.
  const port = boundUrl ? new URL(boundUrl).port || 80 : webhooks.listen.port || "<the port the listening waiter logs>";
  const shown = isWildcardHost(host) ? ANY_ADDRESS : bracketedHost(host);
  const base = webhooks.publicUrl ?? `http://${shown}:${port}`;
  return `${base.replace(/\/$/, "")}/webhooks/${name}`;
}

/** The listener bound at `boundUrl` on `host`, as the log says it: a wildcard bind as ANY_ADDRESS, not as 0.0.0.0 or [::]. */
export function shownListener(host: string, boundUrl: string): string {
  return isWildcardHost(host) ? `http://${ANY_ADDRESS}:${new URL(boundUrl).port || 80}` : boundUrl;
}

// Bound to every address, the listener has no one a caller could be given: the place for it is said.
const ANY_ADDRESS = "<this machine's address>";

/** The path of publicUrl without its last slash (/waiter), or "" for none. */
export const publicPath = (publicUrl: string | undefined) =>
  publicUrl ? new URL(publicUrl).pathname.replace(/\/$/, "") : "";

/** What a delivery to a path a letter or two off a source's is counted under, for that source. */
export const MISSPELT_PATH = "misspelt path";
