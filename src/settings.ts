import { isIP } from "node:net";
import { parse as parseLossless } from "lossless-json";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { jsonText, lineAndColumn } from "./json.js";
import { credentialShaped, meantKey, meantKeys } from "./shown.js";

/**
 * One setting: where it comes from and how it is checked. The core and every toolset declare
 * theirs this way; config.ts composes them into the one schema, docs/settings.md is generated from them.
 */
export interface Setting<S extends z.ZodType = z.ZodType> {
  /** The environment variable, e.g. WAITER_FRANKFURTER_URL. */
  env: string;
  description: string;
  /** Parses the environment string or the config-file value. */
  schema: S;
  /** Secrets are read from the environment only, never from the config file. */
  secret?: boolean;
  /**
   * How an error names the place of a bad value inside this setting's value, given its path there
   * (never empty) and the value as given: by default the path, such as stripe.secretEnv.
   */
  locate?: (path: readonly PropertyKey[], value: unknown) => string;
}

export type Settings = Record<string, Setting>;
export type SettingValues<S extends Settings> = { [K in keyof S]: z.output<S[K]["schema"]> };

/**
 * An upstream base URL: https, or plain http to loopback only. This is the one place the rule
 * is checked; an upstream is declared with the URL parsed here. `defaultUrl` is waiter's own.
 */
export function upstreamUrl(defaultUrl: string) {
  waitersOwnUrl(defaultUrl);
  return z.string().default(defaultUrl).transform(checkUpstreamUrl);
}

/** The base URLs of the public APIs waiter reaches where no setting names another, by href. */
const waitersOwn = new Set<string>();

/**
 * A public API's base URL that waiter chose, where no setting says otherwise. One failing to
 * connect or to show its certificate is no fault of a setting's: the network is down, or answers
 * in the API's place (a Wi-Fi's login page).
 */
export function waitersOwnUrl(href: string): URL {
  const url = new URL(href);
  waitersOwn.add(url.href);
  return url;
}

/** Whether `url` is one of waiter's own (waitersOwnUrl), however it was given: set to it, or left to it. */
export function isWaitersOwnUrl(url: URL): boolean {
  return waitersOwn.has(url.href);
}

/**
 * A URL's user or password as meant: percent-decoded, as undici and the database driver decode
 * them, or as written where it holds a % that begins no escape.
 */
export function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** An upstream base URL whose default the toolset picks from other settings (a paid host with a key). */
export function optionalUpstreamUrl() {
  return z
    .string()
    .optional()
    .transform((value, ctx) => (value === undefined ? undefined : checkUpstreamUrl(value, ctx)));
}

/**
 * A URL waiter fetches from that has no default, https or plain http to loopback only, kept as
 * written: an OAuth issuer is an identifier compared character for character, trailing slash and all.
 */
export function requiredUpstreamUrl() {
  return z.string().superRefine((value, ctx) => {
    checkUpstreamUrl(value, ctx);
  });
}

function checkUpstreamUrl(value: string, ctx: z.RefinementCtx): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Echoed only where echoable, as a URL may carry a token: the host alone, as a shop's address
    // is often written, is named as the URL meant.
    const meant =
      echoable(value) && !value.includes("@") && URL.canParse(`https://${value}`) ? `: write https://${value}` : "";
    ctx.addIssue({
      code: "custom",
      message: `must be an https:// URL (plain http only to loopback addresses)${meant}`,
    });
    return z.NEVER;
  }
  const problem = upstreamUrlProblem(url, value);
  if (problem) {
    ctx.addIssue({ code: "custom", message: problem });
    return z.NEVER;
  }
  return url;
}

/**
 * The URL waiter is reached at from outside (through a proxy or a tunnel), kept as written: waiter
 * puts its own paths after it (/webhooks/<source>, /mcp) and names the result to senders and to
 * OAuth clients. So it has no user, query or fragment, which would land before those paths, and
 * does not end in /mcp: that is the MCP address under it, pasted from a connector, which would
 * make …/mcp/webhooks/<source> and the OAuth resource …/mcp/mcp, neither of which anything serves.
 * Nor does its path begin as one of waiter's own (/webhooks): waiter serves its paths with and
 * without that path, and a request for /webhooks/<source> would be taken for one under it.
 * Refused rather than warned of: every URL built from it would be wrong.
 */
export function publicUrl() {
  // abort: the refinement reads the URL, which a value that is none (the host alone) would make throw.
  return z
    .url({ protocol: /^https?$/, error: "must be an https:// (or, for local trials, http://) URL", abort: true })
    .superRefine((value, ctx) => {
      const url = new URL(value);
      // Not echoed: a query or a user may carry a token.
      if (url.username || url.password || /[?#]/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message:
            "must be the bare address waiter is reached at, with no user, query or fragment (https://waiter.example.com, or with the path a proxy serves it under): waiter puts /webhooks/<source> and /mcp after it",
        });
      } else if (/\/mcp\/?$/.test(url.pathname)) {
        ctx.addIssue({
          code: "custom",
          message:
            "ends in /mcp, the address of MCP under it: set it without that /mcp, as waiter serves MCP at its /mcp and the webhooks at its /webhooks/<source>",
        });
      } else {
        const own = /^\/(webhooks|healthz|\.well-known|mcp)(?:\/|$)/i.exec(url.pathname)?.[1];
        if (own) {
          ctx.addIssue({
            code: "custom",
            message: `its path begins with /${own.toLowerCase()}, a path of waiter's own: waiter serves its paths both under the path of publicUrl and without it (for a proxy that takes the path off), so it could not tell the two apart; serve it under another path, such as /waiter`,
          });
        }
      }
    });
}

/** 0.0.0.0 or ::, which a listener binds to take every address of the machine. */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/**
 * localhost (in any case), 127.0.0.0/8, also mapped into IPv6 (::ffff:127.0.0.1), or ::1 (written
 * whole too): where plain http cannot leave the machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  // Not localhost. with the root's dot: the hosts file names localhost alone, so DNS is asked, and may answer any address.
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  // A URL writes an IPv6 address in its shortest form, a mapped IPv4 one in hex (::ffff:7f00:1); one
  // with a zone (fe80::1%eth0) is none of its own.
  if (isIP(host) !== 6 || !URL.canParse(`http://[${host}]`)) return false;
  const shortest = new URL(`http://[${host}]`).hostname;
  return shortest === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(shortest);
}

function upstreamUrlProblem(url: URL, written: string): string | undefined {
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === "http:") {
    // Without the / a URL adds after a host written alone: an OAuth issuer is named character for character.
    const hostAlone = url.pathname === "/" && !/^[a-z][\w+.-]*:[/\\]*[^/\\?#]+[/\\]/i.test(written.trim());
    const path = hostAlone ? "" : url.pathname;
    // A query may carry a key, and is not shown; left out, the URL told would be another.
    const query = url.search ? " with the same query after it" : "";
    return `plain http is allowed only to loopback addresses; use https://${url.host}${path}${query}`;
  }
  return `unsupported protocol ${url.protocol} (use https)`;
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off", ""];

/**
 * true or false, or a word of TRUE or FALSE in any case: a variable's "1", and the config file's
 * 1 too, as the settings page says of both.
 */
export function flag(defaultValue = false) {
  return z
    .union([z.boolean(), z.string(), z.number()], {
      error: (issue) => `expected true or false, got ${JSON.stringify(issue.input)}`,
    })
    .default(defaultValue)
    .transform((value, ctx) => {
      if (typeof value === "boolean") return value;
      const word = String(value).trim().toLowerCase();
      if (TRUE.includes(word)) return true;
      if (FALSE.includes(word)) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got ${JSON.stringify(value)}` });
      return z.NEVER;
    });
}

/**
 * One of a few lowercase words, written in any case (INFO, CNB, Basic) and with blanks around it,
 * as `flag` takes TRUE: one that is none of them so is refused as written, with `takes`, where
 * given, for what the words mean, or in the words `takes` gives for what was written. A
 * preprocess, not a transform, so that a tool's published schema still lists the words.
 */
export function word<const T extends readonly [string, ...string[]]>(
  values: T,
  takes?: string | ((given: unknown) => string | undefined),
) {
  const refused = typeof takes === "string" ? (given: unknown) => expected(takes, given) : takes;
  return z.preprocess(
    (value) => {
      const read = wordRead(value);
      return values.includes(read as string) ? read : value;
    },
    z.enum(values, refused ? { error: (issue) => refused(issue.input) } : undefined),
  );
}

/**
 * A boolean, or one written as text, a word of TRUE or FALSE in any case ("true", "no", "1"), as
 * some MCP clients send every argument (anthropics/claude-code#29104): other text is refused as
 * written, empty text left for the call to take as the argument left out. A preprocess, so that a
 * tool's published schema is the boolean's.
 */
export function truth<T extends z.ZodType>(boolean: T) {
  return z.preprocess((value) => {
    const read = typeof value === "string" ? value.trim().toLowerCase() : "";
    return TRUE.includes(read) ? true : read && FALSE.includes(read) ? false : value;
  }, boolean);
}

/**
 * A list, or one written as text, as some MCP clients send every argument: JSON text of the list
 * ('["a","b"]'), or its one item alone ("a"), or with `separators` its items between them
 * ("EUR, USD"). Empty text and "null" stay as sent, for the call to take as the argument left out.
 * A preprocess, so that a tool's published schema is the list's.
 */
export function listed<T extends z.ZodType>(items: T, separators?: RegExp) {
  return z.preprocess((value) => {
    if (typeof value !== "string") return value;
    const text = value.trim();
    if (text === "" || text === "null") return value;
    if (!text.startsWith("[")) return separators ? text.split(separators).filter(Boolean) : [text];
    try {
      return JSON.parse(text);
    } catch {
      return value;
    }
  }, items);
}

/**
 * A number, or one written as plain decimal text ("50.08", "-3"), as some MCP clients send every
 * argument: text with units, grouping or a plus sign is refused as written. A preprocess, so that
 * a tool's published schema is the number's.
 */
export function decimal<T extends z.ZodType>(number: T, written = /^-?\d+(\.\d+)?$/) {
  return z.preprocess(
    (value) => (typeof value === "string" && written.test(value.trim()) ? Number(value) : value),
    number,
  );
}

/** Text `digits` reads as a number. */
export const UNSIGNED_DECIMAL = /^\d+(\.\d+)?$/;

/**
 * A number, or one written as unsigned decimal text ("7081"), as `decimal` takes one: where a sign
 * would be read otherwise (an id, a count that "-5" would take for a change). A fraction is read,
 * for a whole number's refusal to say what is asked.
 */
export function digits<T extends z.ZodType>(number: T) {
  return decimal(number, UNSIGNED_DECIMAL);
}

/**
 * Each of `published`'s readers: the schema whose values it takes beside text of its own, as the
 * start check of automations reads it, and what it reads a number as, said where a number is
 * advised for text it refuses (`to_number(…)` in an automation's path).
 */
export const publishedAs = new WeakMap<z.ZodType, { schema: z.ZodType; number: (n: number) => string }>();

/**
 * `reader`, for an argument that reads text of its own beside what `schema` takes (the order id,
 * an order's number): published as text, with `schema`'s description, as every value it reads can
 * be written; published as `schema`, a client that checks or converts arguments by it (the MCP
 * Inspector's form) could not send that text. The start check of automations reads it as taking
 * what `schema` takes, or text. `number`: what it reads a number as, which text of its own may
 * mean otherwise ("as the order's id 7081, …").
 */
export function published<T extends z.ZodType>(reader: T, schema: z.ZodType, number: (n: number) => string): T {
  reader._zod.toJSONSchema = () => ({ type: "string", description: schema.description });
  publishedAs.set(reader, { schema, number });
  return reader;
}

/** Each of `withCore`'s schemas: the core words it takes, what one is called, and whose they are. */
export const coreWordsOf = new WeakMap<z.ZodType, { words: readonly string[]; one: string; system: string }>();

/**
 * `schema`, text that takes `system`'s core `words` (WooCommerce's order statuses) and the shop's
 * own, which only the shop can tell: the start check of automations warns of a literal one near a
 * core word but none of them ("complete"), as it cannot ask the shop. `one`: what a word is called.
 */
export function withCore<T extends z.ZodType>(schema: T, words: readonly string[], one: string, system: string): T {
  coreWordsOf.set(schema, { words, one, system });
  return schema;
}

/** A value as `word` reads it: text without blanks around it, in lowercase. */
function wordRead(value: unknown): unknown {
  return typeof value === "string" ? value.trim().toLowerCase() : value;
}

/**
 * Objects told apart by their `key`, one of a few lowercase words (a source's scheme, a channel's
 * type), which is read as `word` reads one: "Stripe" is stripe.
 */
export function byWord<
  const K extends string,
  const T extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]],
>(key: K, options: T) {
  const union = z.discriminatedUnion(key, options);
  const words = union._zod.propValues[key] ?? new Set();
  return z.preprocess((value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    const read = wordRead((value as Record<string, unknown>)[key]);
    return words.has(read as string) ? { ...value, [key]: read } : value;
  }, union);
}

/** Text that must not be empty, and what it `takes`, as a message says when it is missing or empty. */
export function needed(takes: string) {
  return z.string().min(1, `is empty; it takes ${takes}`).describe(takes);
}

/** A comma-separated list in the environment, an array in the config file. */
export function list() {
  return z
    .union([z.array(z.string()), z.string()], {
      // A list with a number or a null in it, which the union's own words call "Invalid input".
      error: ({ input }) =>
        Array.isArray(input)
          ? `expected a list of strings, got one holding ${kindOf(input.find((item) => typeof item !== "string"))}`
          : undefined,
    })
    .transform((value) =>
      (typeof value === "string" ? value.split(",") : value).map((item) => item.trim()).filter(Boolean),
    );
}

/** What a refusal says of a number written past the range of one (1e400), which JSON.parse makes Infinity. */
export const PAST_RANGE = "is a number too large to read, past 1.8e308";

/** Whether `value` is a number JSON.parse could not hold (Infinity, from 1e400): JSON writes it as null. */
export function pastRange(value: unknown): value is number {
  return typeof value === "number" && !Number.isFinite(value);
}

/**
 * A whole number within bounds, from a string or a number: never from true, a list or null, which
 * Number() would make 1, the list's one item, or 0, nor from text of blanks alone ("toolTimeout": ""
 * in the config file), which it makes 0 too. A refusal names its `unit`: one who wrote a duration
 * ("10m") would otherwise write its number alone and get 10 seconds.
 */
export function integer(defaultValue: number, min: number, max: number, unit?: "seconds" | "minutes" | "bytes") {
  const whole = unit ? `expected a whole number of ${unit}` : "expected a whole number";
  // A bound in its unit too: 30000 for milliseconds meant is told that 55 is seconds.
  const counted = (bound: number) => (unit ? `${bound} ${bound === 1 ? unit.slice(0, -1) : unit}` : `${bound}`);
  const atMost = `must be at most ${counted(max)}`;
  const atLeast = `must be at least ${counted(min)}`;
  return z
    .union([z.number(), z.string()], {
      // Not a list's or an object's items: what they hold is not shown.
      error: ({ input }) =>
        pastRange(input)
          ? input > 0
            ? atMost
            : atLeast
          : `expected a number, got ${input !== null && typeof input === "object" ? kindOf(input) : JSON.stringify(input)}`,
    })
    .transform((value) => (typeof value === "string" && value.trim() === "" ? Number.NaN : value))
    .pipe(
      z.coerce
        // Its own words for text that is no number ("20s"), not the schema's "received NaN".
        .number<string | number>({
          error: (issue) => (issue.code === "invalid_type" ? whole : undefined),
        })
        .min(min, atLeast)
        .max(max, atMost)
        // After the bounds: a whole number past them (1e20) is out of JavaScript's safe range too,
        // which this check refuses in the same words.
        .int({ error: whole }),
    )
    .default(defaultValue);
}

/** A host as a URL and host:port write it, an IPv6 one in brackets: [::1]:8790, where ::1:8790 would read as one address. */
export function bracketedHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** An address to bind, host:port (an IPv6 host in brackets): 127.0.0.1:8790, [::1]:8790. */
export function listenAddress(defaultValue?: string) {
  // A port alone, as a config file's number: "expected a string" would leave the host to guess.
  const address = z.string({
    error: ({ input }) =>
      Number.isInteger(input) && (input as number) >= 0 && (input as number) <= 65535
        ? `must be host:port, written as a string: "127.0.0.1:${input}"`
        : typeof input === "number"
          ? 'must be host:port, written as a string, like "127.0.0.1:8790"'
          : undefined,
  });
  const text = defaultValue === undefined ? address : address.default(defaultValue);
  return text.transform((value, ctx) => {
    // No blanks inside: "127.0.0.1 :8790" would bind a host "127.0.0.1 " and be told it is no loopback.
    const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
    // Only a flag's value keeps them (the environment's and the file's lose them), and the address
    // would otherwise look like the one the refusal asks for.
    if (!match && value !== value.trim()) {
      ctx.addIssue({
        code: "custom",
        message:
          "has a blank or line break around it (the CR a script saved with Windows line endings leaves on its last argument): write host:port alone, like 127.0.0.1:8790",
      });
      return z.NEVER;
    }
    if (!match) {
      ctx.addIssue({ code: "custom", message: "must be host:port, like 127.0.0.1:8790" });
      return z.NEVER;
    }
    const port = Number(match[3]);
    if (port > 65535) {
      ctx.addIssue({ code: "custom", message: "the port must be 0 to 65535" });
      return z.NEVER;
    }
    return { host: (match[1] ?? match[2]) as string, port };
  });
}

/** The pattern of every name the settings give (a source, a channel, a token, an automation). */
export const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * A settings name as a model gives one, to be taken: without blanks around it (copied from a
 * sentence) and in lowercase, as every name is ("Stripe", a brand as a model writes it, is stripe).
 */
export const givenName = (name: string) => name.trim().toLowerCase();

/** A name the settings give a `kind` ("source"): one a URL, a log line and a tool's argument carry as written. */
export function settingName(kind: string) {
  return z
    .string()
    .regex(NAME, `${kind} names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit`)
    .describe(`the ${kind}'s name: 1 to 63 characters, lowercase a-z, digits, - and _`);
}

/**
 * The name of an environment variable, where a secret is to be read from. One written as a shell
 * reads it ($NAME) or with a blank around it is told so, without being shown: it may be a secret.
 */
export const envName = z.string().superRefine((name, ctx) => {
  const message = notEnvName(name);
  if (message) ctx.addIssue({ code: "custom", message });
});

/** Why `name` is no environment variable's name, or undefined when it is one. */
function notEnvName(name: string): string | undefined {
  const variable = /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (variable.test(name)) return undefined;
  const how = variable.test(name.trim())
    ? ", with no blank around it"
    : /^\$(?:[A-Za-z_]\w*|\{[A-Za-z_]\w*\})$/.test(name.trim())
      ? ", written without the $ (and braces) a shell reads it with"
      : "";
  return `must be an environment variable name${how}`;
}

/** Whether what stands where a variable's name goes looks like a secret pasted there instead. */
const secretShaped = (name: string) => credentialShaped(name) || name.length > 64;

/**
 * Whether `name` is a variable's name written with dashes between its words: a long one reads as
 * credential-shaped (dashes join its words into one run), but it is a name mistyped, not a secret.
 */
const dashedName = (name: string) =>
  /^[A-Za-z_]\w*(?:-[A-Za-z_]\w*)+$/.test(name) && !credentialShaped(name.replace(/-/g, "_"));

/** Whether what stands where a variable's name goes, and is none, is a secret pasted there. */
const pastedSecret = (name: string) => secretShaped(name) && !dashedName(name);

/**
 * The name of an environment variable whose setting's owner is known only once the settings are
 * read: a secret pasted there is let through, to be refused by Secrets.required, which says what it
 * holds with a name its owner suggests and never shows it; any other non-name is refused as envName does.
 */
export const envNameOrPastedSecret = z.string().superRefine((name, ctx) => {
  const message = notEnvName(name);
  if (message && !pastedSecret(name)) ctx.addIssue({ code: "custom", message });
});

/**
 * What a setting that names the variable holding `holds` is told when the secret itself stands
 * there, which it never shows.
 */
function secretInNamesPlace(holds: string, example?: string): string {
  const such = example ? ` (such as ${example})` : "";
  return `it must name the environment variable that holds ${holds}${such}, not hold it; what it holds is not shown`;
}

/**
 * A key that names the variable holding `secret` (the Telegram bot token): its description is
 * what a message says of the key when it is missing, or when the secret's own key stands in its place.
 * What is no variable's name and looks like a credential, or like `pasted.shape`, is called the secret.
 */
export function secretVariable(secret: string, pasted?: { shape: RegExp; example: string }) {
  return z
    .string()
    .superRefine((name, ctx) => {
      const message = notEnvName(name);
      if (!message) return;
      const secretItself = pastedSecret(name) || pasted?.shape.test(name.trim());
      ctx.addIssue({ code: "custom", message: secretItself ? secretInNamesPlace(secret, pasted?.example) : message });
    })
    .describe(`the name of the environment variable that holds ${secret}`);
}

/**
 * An environment variable's value, or undefined when it is unset, empty or blanks only: a value of
 * blanks (`X=" "`, an empty line of an env file saved with Windows line endings) is no more set
 * than an empty one.
 */
export function setValue(value: string | undefined): string | undefined {
  return value?.trim() ? value : undefined;
}

/**
 * What a message says of a value wrapped in quotes: docker run --env-file passes a line's value as
 * written, quotes and all, which a shell, systemd's EnvironmentFile and Compose's env_file take off.
 */
const IN_QUOTES =
  'is in quotes, which are part of its value: docker run --env-file keeps them, as does set NAME="value" in Windows cmd (a POSIX shell, PowerShell, systemd\'s EnvironmentFile and Compose\'s env_file take them off); remove them, and in cmd write set "NAME=value"';

/**
 * What a message says of a comment after a value: systemd's EnvironmentFile and docker run
 * --env-file take a # as a comment only at the start of a line.
 */
export const COMMENT =
  "holds a comment after its value (a # with a blank beside it), which systemd's EnvironmentFile and docker run --env-file keep as part of it; put the comment on a line of its own";

/** A # with a blank beside it, as a comment kept after a value leaves one: what COMMENT speaks of. */
export const COMMENTED = /\s#|#\s/;

/** A placeholder for a variable's value: `${NAME}`, `${env:NAME}`, `${input:id}`, the variable's name captured. */
const PLACEHOLDER = /\$\{((?:env:|input:)?[A-Za-z_][\w.-]*)(?::-[^}]*)?\}/;
const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER.source}$`);

/**
 * The placeholder written as a setting's whole value that reached waiter as written, from an env
 * file or an MCP client's entry, without a `:-default`, which may be the secret itself; else undefined.
 */
function unreplaced(value: string): string | undefined {
  const name = WHOLE_PLACEHOLDER.exec(value)?.[1];
  return name === undefined ? undefined : `\${${name}}`;
}

/** What a message says of a placeholder in an environment variable's value, as `placeholderIn` says where it stands. */
function leftAsWritten(placeholder: string): string {
  return `${placeholder}, a placeholder for a variable's value that nothing replaced: systemd's EnvironmentFile, docker run --env-file, a raw env_file (format: raw) and some MCP clients replace none, Claude Code none whose variable is unset where it runs, and only VS Code asks for an \${input:…}; write the value itself, or set the variable where the client starts`;
}

/**
 * Where a placeholder stands in a setting's value, which would be taken as written: "is ${NAME}"
 * as the whole value, "its password holds ${…}" in a URL's password or a query's value ("its token
 * holds"), never shown as it may be the password or key itself, whose own $ a URL writes as %24;
 * "holds ${SHOP}" within the rest (https://${SHOP}.example/); else undefined. A password is looked
 * into only where `passwords` (a file holds none). JSON's text (a notification's) may hold one.
 */
export function placeholderIn(value: string, passwords = true): string | undefined {
  const whole = unreplaced(value);
  if (whole) return `is ${whole}`;
  if (/^[[{]/.test(value)) return undefined;
  const userinfo = /^([A-Za-z][\w+.-]*:\/\/(?:\$\{[^}]*\}|[^/?#@:{])*:)([^/?#]*)@/;
  const rest = value.replace(userinfo, "$1");
  const [head = "", query = "", fragment = ""] = rest.split(/\?([^#]*)/);
  const keys = query ? query.split("&").map((pair) => pair.split(/=(.*)/s)) : [];
  for (const [name = "", key = ""] of [["password", userinfo.exec(value)?.[2] ?? ""], ...keys]) {
    if (PLACEHOLDER.test(key) && (passwords || name !== "password"))
      return `its ${name} holds \${…} (if the ${name}'s own, write its $ as %24)`;
  }
  const name = PLACEHOLDER.exec([head, ...keys.map(([name]) => name), fragment].join("&"))?.[1];
  return name === undefined ? undefined : `holds \${${name}}`;
}

/** Whether `value` is an absolute path (POSIX, Windows or UNC) that goes on past its last # into a folder. */
function inPathName(value: string): boolean {
  return /^(?:\/|[A-Za-z]:[/\\]|\\\\)/.test(value) && /[/\\]/.test(value.slice(value.lastIndexOf("#")));
}

/** Whether `value` starts and ends with the same quote, as `KEY="value"` in an env file does. */
function inQuotes(value: string): boolean {
  return /^(["']).*\1$/s.test(value);
}

/**
 * A setting's value from the environment variable `variable`, without the blanks around it, as
 * `setValue` takes it. One in quotes, or with a comment after it, is refused, naming the variable
 * only: they would make another value (a file name, a contact), or be refused in words that do not
 * say why.
 */
export function settingFromEnv(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = setValue(env[variable])?.trim();
  if (value === undefined) return undefined;
  if (inQuotes(value)) throw new ConfigError(`invalid setting ${variable}: ${IN_QUOTES}`);
  const placeholder = placeholderIn(value);
  if (placeholder) throw new ConfigError(`invalid setting ${variable}: ${leftAsWritten(placeholder)}`);
  // No setting's own value holds a # beside a blank, but JSON's text may; after its JSON, JSON.parse names it.
  // Nor does a path's, but in a folder's name (C# Projects): a comment is not followed by more of the path.
  if (!/^[[{]/.test(value) && COMMENTED.test(value) && !inPathName(value)) {
    throw new ConfigError(`invalid setting ${variable}: ${COMMENT}`);
  }
  return value;
}

/** Why a variable naming a file that holds a setting's value (WAITER_WOO_SECRET_FILE) is read by nothing. */
export const NO_FILE = "waiter reads no setting or secret from a file that a variable names";

/** A secret waiter read while it was configured, whose it is and where it is set, as a message names them. */
export interface SecretRead {
  secret: string;
  /** "webhook source stripe", "http token ops"; else what it is read from: WAITER_WOO_SECRET, PGPASSWORD, WAITER_DATABASE_URL. */
  owner: string;
  /** "WAITER_WEBHOOKS_SOURCES at stripe.secretEnv (STRIPE_WEBHOOK_SECRET)"; a secret setting's own variable. */
  where: string;
}

/** A secret a setting names that is unset or blank: loadConfig goes on, to name every such one in one refusal. */
class UnsetSecret extends ConfigError {}

/** Several refusals met while a setting was read (a list's items), which loadConfig says each apart. */
export class Refusals extends ConfigError {
  constructor(readonly each: readonly string[]) {
    super(each.join(". "));
  }
}

/** What `err` refuses, each apart. */
export function refusalsOf(err: ConfigError): readonly string[] {
  return err instanceof Refusals ? err.each : [err.message];
}

export type Read<Result> = { value: Result; unset?: undefined } | { unset: UnsetSecret };

/**
 * The one reader of secrets from the environment: it records each secret it hands out, with its
 * owner and where it is set, and loadConfig checks the tokens against that record.
 */
export class Secrets {
  readonly read: SecretRead[] = [];
  /** Why each secret `required` found unset is refused, in the order read. */
  readonly #unset: string[] = [];
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  /** Records a secret read from somewhere other than its own variable (a password inside a URL). */
  record(read: SecretRead): void {
    this.read.push(read);
  }

  /**
   * The secret in the environment variable `variable`, or undefined when it is unset or blank,
   * recorded with its owner and the setting that names the variable (`where`; without it, the
   * variable is both). One that begins or ends with a line break or a space (kept from an env file
   * saved with Windows line endings, or from a file read whole) is a ConfigError naming the owner
   * and the variable, never the secret: no caller or sender sends it so, and it would match nothing
   * they send. Spaces at its ends are kept where `where.spacesKept` says its sender may sign with them.
   */
  optional(variable: string, where?: { owner: string; setting: string; spacesKept?: boolean }): string | undefined {
    const secret = setValue(this.#env[variable]);
    if (secret === undefined) return undefined;
    const padded = /^(\s)|(\s)$/.exec(where?.spacesKept ? secret.replace(/^ +| +$/g, "") : secret);
    // No caller or sender sends the quotes either.
    if (!padded && inQuotes(secret)) {
      throw new ConfigError(`${where ? `${where.owner}: ` : ""}${variable} ${IN_QUOTES}`);
    }
    const placeholder = padded ? undefined : unreplaced(secret);
    if (placeholder)
      throw new ConfigError(`${where ? `${where.owner}: ` : ""}${variable} ${leftAsWritten(`is ${placeholder}`)}`);
    if (!padded) {
      this.record({
        secret,
        owner: where?.owner ?? variable,
        where: where ? `${where.setting} (${variable})` : variable,
      });
      return secret;
    }
    const what = characterNamed(padded[1] ?? padded[2] ?? "");
    throw new ConfigError(
      `${where ? `${where.owner}: ` : ""}${variable} ${padded[1] ? "begins" : "ends"} with ${what}; remove it`,
    );
  }

  /**
   * The secret in the environment variable `variable`, which the setting `where.setting` names
   * (such as "WAITER_WEBHOOKS_SOURCES at stripe.secretEnv"), as `optional` takes it. Unset or blank, it
   * is a ConfigError naming `where.owner` and what the variable must hold; when the name looks like the
   * secret itself, pasted where the variable's name belongs, the error says so and never shows it.
   */
  required(
    variable: string,
    where: { setting: string; owner: string; holds: string; example: string; spacesKept?: boolean },
  ): string {
    const secret = this.optional(variable, where);
    if (secret) return secret;
    // Set but blank (a line of an env file whose value is still to be pasted): the name is a
    // variable's, and "not set" would send its reader looking for why the file is not read.
    const blank = this.#env[variable];
    if (blank !== undefined) {
      const state = blank === "" ? "is set but empty" : "is set to blanks alone";
      throw this.#unsetSecret(`${where.owner}: ${variable} ${state}; it must hold ${where.holds}`);
    }
    if (secretShaped(variable)) {
      throw new ConfigError(`invalid setting ${where.setting}: ${secretInNamesPlace(where.holds, where.example)}`);
    }
    // A name not written as variables' names are may be a password pasted there ("hunter2hunter2"): never shown.
    if (!/^[A-Z_][A-Z0-9_]*$/.test(variable)) {
      throw new ConfigError(
        `invalid setting ${where.setting}: no environment variable of the name it holds is set, and the name is not shown: it is not written in capitals, as variables' names are, and may be the secret itself; it must name the variable that holds ${where.holds} (such as ${where.example})`,
      );
    }
    const file = `${variable}_FILE`;
    const fileSet = setValue(this.#env[file]) ? ` (${file} is set, but ${NO_FILE}: set ${variable} itself)` : "";
    // The setting that names it, where that is not its owner already: a file's or a variable's, as it was given.
    const namedBy = where.setting === where.owner ? "" : `, which ${where.setting} names,`;
    throw this.#unsetSecret(
      `${where.owner}: ${variable}${namedBy} is not set; set it in waiter's environment to ${where.holds}${fileSet}`,
    );
  }

  /** Why each secret `required` found unset so far is refused, in the order read. */
  get unset(): readonly string[] {
    return this.#unset;
  }

  #unsetSecret(why: string): UnsetSecret {
    this.#unset.push(why);
    return new UnsetSecret(why);
  }

  /**
   * `read` of each of `items`, each tried even where one's secret is unset (`required`) or one is
   * refused, so that a copied env file is told every secret still to fill in at once, not one per
   * start; the items refused are thrown once every item is read, each said apart.
   */
  each<Item, Result>(items: readonly Item[], read: (item: Item, i: number) => Result): Result[] {
    let unset: UnsetSecret | undefined;
    const refused: ConfigError[] = [];
    const results: Result[] = [];
    items.forEach((item, i) => {
      try {
        const result = this.unlessUnset(() => read(item, i));
        if (result.unset) unset = result.unset;
        else results.push(result.value);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        refused.push(err);
      }
    });
    // A variable listed twice (a rotation's copied line) is refused twice alike: it is said once.
    if (refused.length > 1) throw new Refusals([...new Set(refused.flatMap(refusalsOf))]);
    if (refused[0] ?? unset) throw refused[0] ?? unset;
    return results;
  }

  /** What `read` gives, or the UnsetSecret it threw, which `valueOf` names with the others. */
  unlessUnset<Result>(read: () => Result): Read<Result> {
    try {
      return { value: read() };
    } catch (err) {
      if (err instanceof UnsetSecret) return { unset: err };
      throw err;
    }
  }

  /**
   * The value `unlessUnset` read; where a secret was unset, a refusal naming every secret found
   * unset so far: read each setting with `unlessUnset` before taking any value.
   */
  valueOf<Result>(read: Read<Result>): Result {
    if (read.unset) throw new ConfigError(this.#unset.join(". "));
    return read.value;
  }
}

const BLANKS: Record<string, string> = {
  "\r": "a line break (a carriage return, which ends each line of a file saved with Windows line endings)",
  "\n": "a line break",
  " ": "a space",
  "\t": "a tab",
};

/** A character as a message names it: a blank by its name, one that shows as itself, another by its code point. */
export function characterNamed(character: string): string {
  const code = `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  if (BLANKS[character]) return BLANKS[character];
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(character) ? character : `an invisible blank (${code})`;
}

/**
 * An object of these keys and no other: a key it does not take is named, with the key probably
 * meant (onfailure for onFailure), or the key that names the variable of a secret written in its
 * place (botToken for botTokenEnv), or else the keys `what` takes.
 */
export function closedObject<Shape extends z.ZodRawShape>(
  what: string,
  shape: Shape,
  told: {
    /** What a value that is no object is told, when it may say more than the kind expected. */
    notObject?: (input: unknown) => string | undefined;
    /**
     * What a key it does not take is told, when it is one written for what the object does otherwise;
     * `input` is the object as written, for what its other keys say.
     */
    unknownKey?: (key: string, input: unknown) => string | undefined;
  } = {},
) {
  const keys = Object.keys(shape);
  const unknownKey = (key: string, input: unknown) => {
    const unknown = `unknown key ${JSON.stringify(key)}`;
    const otherwise = told.unknownKey?.(key, input);
    if (otherwise) return `${unknown}: ${otherwise}`;
    const written = key.trim();
    // Of keys as near as each other (to and tls for tos), the one the object needs and lacks is meant.
    const near = meantKeys(written, keys);
    const lacks = (each: string) =>
      !Object.hasOwn(input as object, each) && !(shape[each] as z.ZodType).safeParse(undefined).success;
    const meant = keys.includes(written) ? written : (near.find(lacks) ?? near[0]);
    // A key with a blank at either end is not shown, so "did you mean" would name what the reader sees.
    if (meant && written !== key) return `${unknown}: ${strayBlanks(key)}; write ${JSON.stringify(meant)} alone`;
    if (meant) return `${unknown} (did you mean ${meant}?)`;
    const variable = meantKey(`${written}Env`, keys);
    if (variable) {
      return `${unknown}: a secret is set in the environment, not here; ${variable} takes ${descriptionOf(shape[variable]) ?? "the name of the environment variable that holds it"}`;
    }
    return `${unknown} (${what} takes ${keys.join(", ")})`;
  };
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "invalid_type") return told.notObject?.(issue.input);
      if (issue.code !== "unrecognized_keys") return undefined;
      // Each key it does not take, not the first alone: mended one at a time, each would stop a start.
      return issue.keys.map((key) => unknownKey(key, issue.input)).join("; ");
    },
  });
}

/**
 * What the blanks at either end of a key do, as a refusal that does not show the key says: "a space
 * after it makes it another key"; `it` names the key where "it" would name something else.
 */
export function strayBlanks(key: string, it = "it"): string {
  const before = key.slice(0, key.length - key.trimStart().length);
  const after = key.slice(key.trimEnd().length);
  const blanks = [
    ...(before ? [`${characterNamed(before.charAt(0))} before ${it}`] : []),
    ...(after ? [`${characterNamed(after.charAt(after.length - 1))} after ${it}`] : []),
  ];
  return `${blanks.join(" and ")} make${blanks.length > 1 ? "" : "s"} it another key`;
}

function descriptionOf(schema: z.core.$ZodType | undefined): string | undefined {
  if (!schema) return undefined;
  const { description } = z.globalRegistry.get(schema) ?? {};
  return description ?? (schema instanceof z.ZodOptional ? descriptionOf(schema.unwrap()) : undefined);
}

/**
 * Whether a bad value may be quoted back: a number, or a short plain word that is no credential,
 * in any language's letters (a name written "platba-přijata" is told what it got, as "Platba" is),
 * or an email address, as one is often written where a name goes (a channel named for its reader).
 */
export function echoable(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value === "boolean") return true;
  if (typeof value !== "string" || credentialShaped(value)) return false;
  return /^[\p{L}\p{M}\p{N}_.,:+-]{0,40}$/u.test(value) || EMAIL_SHAPED.test(value);
}

/** An email address as a person writes one, of a length a message can quote: no list, name or comment. */
const EMAIL_SHAPED = /^(?=.{3,80}$)[\p{L}\p{M}\p{N}_.+-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)+$/u;

/**
 * What a refusal of `value` adds to its `message`: the value given, " (got 5)", where it may be
 * quoted back (echoable) and the message does not say it already; else nothing.
 */
export function gotten(message: string, value: unknown): string {
  if (!echoable(value) || shows(message, value)) return "";
  return value === "" && message.startsWith("is empty") ? "" : ` (got ${JSON.stringify(value)})`;
}

/**
 * Whether `message` says `value` already: a number as a word of its own, not as a name's digits
 * (hmac-sha256) nor an example's port (127.0.0.1:8790).
 */
function shows(message: string, value: unknown): boolean {
  const shown = JSON.stringify(value);
  if (typeof value === "string") return message.includes(shown);
  const pattern = shown.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![\\w.:-])${pattern}(?![\\w-]|\\.\\d)`).test(message);
}

/** "a or b", or "one of a, b, c". */
function oneOf(values: readonly unknown[]): string {
  return values.length <= 2 ? values.join(" or ") : `one of ${values.join(", ")}`;
}

/** The kinds zod names, as the settings' messages say them: a record is an object of named items. */
const KINDS: Record<string, string> = {
  object: "an object",
  record: "an object",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

/** What kind of JSON value `value` is, as a message names it. */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return typeof value === "boolean" ? "true or false" : "a number";
}

/**
 * What goes where `given` was given, and what that is when it is a list, an object or null: the
 * loader shows a value of another kind itself (got "loud"), where it may be shown.
 */
function expected(takes: string, given: unknown): string {
  const kind = given === null || typeof given === "object" ? kindOf(given) : "";
  return `expected ${takes}${kind && `, got ${kind}`}`;
}

/**
 * How the config loader words an issue zod would word as a type's: a key that is missing says
 * so, with what it takes (its schema's description, or the values a discriminator takes); a value
 * of another kind than goes there (a list where an object goes) says what goes there.
 */
export const settingsErrors: z.core.$ZodErrorMap = (issue) => {
  if (pastRange(issue.input)) return PAST_RANGE;
  // A discriminated union's issue holds the object, and the values its key takes.
  if (issue.code === "invalid_union" && issue.discriminator !== undefined) {
    const { options = [] } = issue as { options?: unknown[] };
    const written = (issue.input ?? {}) as Record<string, unknown>;
    const given = written[issue.discriminator];
    if (given !== undefined) return expected(oneOf(options), given);
    // The object's other keys are not checked till this one is given: a misspelling of it would go unsaid.
    const { discriminator } = issue;
    const near = Object.keys(written).find((key) => echoable(key.trim()) && meantKey(key.trim(), [discriminator]));
    if (near === undefined) return `is missing; it takes ${oneOf(options)}`;
    // A key with a blank at either end is not shown: the blank is said, as an unknown key's is.
    const beside =
      near.trim() === near
        ? `${JSON.stringify(near)} is written there: ${discriminator} misspelt?`
        : `the key ${JSON.stringify(near)} is written there: ${strayBlanks(near)}; write "${discriminator}" alone`;
    return `is missing (${beside}); it takes ${oneOf(options)}`;
  }
  // The issue holds the check, not the schema whose description would say what goes there: `needed` says it.
  if (issue.code === "too_small" && (issue.origin === "string" || issue.origin === "array") && issue.minimum === 1) {
    return "is empty";
  }
  // A number past a bound, such as a port's.
  if ((issue.code === "too_small" || issue.code === "too_big") && issue.origin === "number") {
    const small = issue.code === "too_small";
    const bound = small ? issue.minimum : issue.maximum;
    return `must be ${issue.inclusive ? (small ? "at least" : "at most") : small ? "more than" : "less than"} ${bound}`;
  }
  if (issue.input !== undefined) {
    if (issue.code === "invalid_value") return expected(oneOf(issue.values), issue.input);
    // A union of kinds (a list, or a string for one) whose every option refused the value's kind.
    const types =
      issue.code === "invalid_type"
        ? [issue.expected]
        : issue.code === "invalid_union"
          ? issue.errors.map(([first, ...more]) =>
              first?.code === "invalid_type" && first.path.length === 0 && more.length === 0 ? first.expected : "",
            )
          : [];
    const kinds = types.map((type) => KINDS[type]);
    if (kinds.length === 0 || !kinds.every(Boolean)) return undefined;
    return expected([...new Set(kinds)].join(" or "), issue.input);
  }
  if (typeof issue.path?.at(-1) !== "string") return undefined;
  if (issue.code === "invalid_value") return `is missing; it takes ${oneOf(issue.values)}`;
  if (issue.code !== "invalid_type" && issue.code !== "invalid_union") return undefined;
  const takes = descriptionOf(issue.inst as z.core.$ZodType);
  return `is missing${takes ? `; it takes ${takes}` : ""}`;
};

/**
 * An object setting: a JSON object in the config file, a JSON string in the environment. A string
 * that is no JSON is refused with an issue whose params hold `jsonText`; one that does not even
 * begin as a list or an object (a token pasted alone) is told `shape`, what to write instead.
 */
export function jsonSetting<S extends z.ZodType>(schema: S, defaultValue: z.output<S>, shape?: string) {
  const parsed = z.preprocess((value, ctx) => {
    if (typeof value !== "string") return value;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      const told = shape && !/^\s*[[{]/.test(value) ? `; write it as ${shape}` : "";
      ctx.addIssue({
        code: "custom",
        message: `is not valid JSON: ${jsonProblem((err as Error).message, value)}${told}`,
        // The example is waiter's own text, which a value written like it must not blank.
        params: { jsonText: true, told },
      });
      return z.NEVER;
    }
    const repeated = repeatedKey(value);
    if (repeated) {
      ctx.addIssue({ code: "custom", message: repeated });
      return z.NEVER;
    }
    return parsed;
  }, schema);
  return parsed.default(defaultValue as never);
}

/**
 * What to say of a key an object of `json`, valid JSON, repeats with another value, if one does:
 * JSON.parse keeps the last, so what the first held would be left out without a word (a second
 * automations list written below the first). Said with the second's line and column, as an
 * editor finds it.
 */
export function repeatedKey(json: string): string | undefined {
  let repeated: { key: string; position: number } | undefined;
  try {
    parseLossless(json, null, {
      onDuplicateKey: (duplicate) => {
        repeated ??= duplicate;
        return duplicate.newValue;
      },
    });
  } catch {
    return undefined;
  }
  if (!repeated) return undefined;
  // lossless-json counts the position from 1.
  return `has the key ${JSON.stringify(repeated.key)} twice in one object (${lineAndColumn(json, repeated.position - 1)}), with other values: JSON keeps only the last, and waiter would go without the first; put what both hold under one key`;
}

/** The two ways to write a Windows path in JSON, where a single backslash begins an escape. */
export const WINDOWS_PATH_IN_JSON =
  "with forward slashes (C:/Users/you) or with each backslash doubled (C:\\\\Users\\\\you)";

/**
 * What JSON.parse said of `text`, a setting's in the environment or the config file's, without
 * the stretch of the text V8 quotes (it may be a pasted secret), with the line and column of the
 * place where V8 gives a position alone (Node 20's; Node 22's says the line itself) or none (an
 * unexpected token, such as the ] after a trailing comma), so an editor finds it; a trailing comma,
 * which V8 never names, is named.
 */
export function jsonProblem(message: string, text: string): string {
  const reason = message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, "");
  const json = jsonText(text);
  const position = Number(/ at position (\d+)/.exec(reason)?.[1] ?? jsonTaken(json));
  // Where an object's key begins: a YAML file's first line is no such place.
  const unquotedKey = /[{,]\s*$/.test(json.slice(0, position))
    ? /^[A-Za-z_$][\w$]*(?=\s*:)/.exec(json.slice(position))?.[0]
    : undefined;
  // JavaScript takes a comma after a list's or object's last item, and comments, as do editors'
  // JSON with comments (VS Code's settings) and JSON5; JSON does not. A # starts a comment in a
  // shell script, YAML or TOML, and nothing in JSON.
  const hint =
    /,\s*$/.test(json.slice(0, position)) && /^[\]}]/.test(json.slice(position))
      ? ": a comma after the last item, which JSON does not allow; remove it"
      : /^(?:\/\/|\/\*|#)/.test(json.slice(position))
        ? ": a comment, which JSON does not allow; remove it"
        : // JavaScript and Python write their text in single quotes too; JSON does not.
          json.startsWith("'", position)
          ? `: a single quote, where JSON needs double quotes around each key and text ("name", not 'name')`
          : // JavaScript and JSON5 take a key that is a name without quotes; JSON does not.
            unquotedKey
            ? `: a key without quotes, where JSON needs double quotes around each key ("${unquotedKey}", not ${unquotedKey})`
            : // A Windows path as Explorer, `pwd` and `where.exe` print it: C:\Users is \U, which is no escape.
              /^Bad (?:escaped character|Unicode escape)/.test(reason)
              ? `: a single backslash, which begins an escape in JSON; write a Windows path ${WINDOWS_PATH_IN_JSON}`
              : "";
  if (reason.includes("(line ")) return `${reason}${hint}`;
  return `${reason} (${lineAndColumn(json, position)})${hint}`;
}

/** How much of `text` JSON.parse takes: the length of its longest start that is JSON or could begin some. */
function jsonTaken(text: string): number {
  const begins = (length: number) => {
    try {
      JSON.parse(text.slice(0, length));
      return true;
    } catch (err) {
      const { message } = err as Error;
      const at = / at position (\d+)/.exec(message)?.[1];
      return message.includes("end of JSON input") || Number(at) >= length;
    }
  };
  // What begins JSON, cut shorter, still does: the longest is found by halving.
  let [taken, over] = [0, text.length + 1];
  while (over - taken > 1) {
    const middle = Math.floor((taken + over) / 2);
    if (begins(middle)) taken = middle;
    else over = middle;
  }
  return taken;
}

/** Where the config file comes from when --config is not given. */
export const CONFIG_FILE_ENV = "WAITER_CONFIG";

/**
 * Why a part is off that nothing configures, and where to configure it: the key in the config file
 * waiter read or, with none (a fresh install has none), how to name one; then the page that says
 * how to write it.
 */
export function noneConfigured(
  what: string,
  setting: { key: string; env: string; page: string },
  file: string | undefined,
): string {
  const inFile = file
    ? `${setting.key} in ${file}`
    : `${setting.key} in a JSON config file (named by --config FILE, or by ${CONFIG_FILE_ENV} as an absolute path)`;
  return `no ${what} are configured: set ${inFile} or ${setting.env}; ${setting.page} says how`;
}
