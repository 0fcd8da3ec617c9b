import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { automationsSetting } from "./automations/rules.js";
import { ConfigError } from "./errors.js";
import {
  type DatabaseConfig,
  databaseSettings,
  passwordWithoutDatabase,
  resolveDatabase,
  unreadVariables,
} from "./events/database.js";
import { type HttpProxy, proxyFrom } from "./http/proxy.js";
import { jsonText, lineAndColumn } from "./json.js";
import { LOG_LEVELS } from "./log.js";
import {
  CONFIG_FILE_ENV,
  echoable,
  flag,
  gotten,
  integer,
  jsonProblem,
  list,
  listenAddress,
  NO_FILE,
  placeholderIn,
  type Read,
  refusalsOf,
  repeatedKey,
  Secrets,
  type Setting,
  type Settings,
  type SettingValues,
  settingFromEnv,
  settingsErrors,
  setValue,
  strayBlanks,
  WINDOWS_PATH_IN_JSON,
  word,
} from "./settings.js";
import { credentialShaped, enumerated, meantKey, meantKeys, meantName, plainKey, quote, shorten } from "./shown.js";
import type { Toolset } from "./toolset.js";
import { type HttpConfig, httpSettings, resolveHttp, tokensSharingSecrets } from "./transports/tokens.js";
import type { webhookSettings } from "./webhooks/settings.js";

/** A list of tool names: snake_case, as tools/list has them. */
function toolNames(empty: string) {
  return (
    list()
      .refine((names) => names.length > 0, empty)
      // A word with hyphens reaches enabledTools, which names the tool meant.
      .refine(
        (names) => names.every((name) => /^[a-z][\w-]{0,63}$/i.test(name)),
        "holds something that is no tool name (tool names are snake_case, such as currency_convert; separate several with commas: currency_convert,currency_list)",
      )
      // In any case, as toolsets: Currency_Convert is currency_convert.
      .transform((names) => names.map((name) => name.toLowerCase()))
      .optional()
  );
}

/** The core's settings; each toolset declares its own, under its name in the config file. */
export const coreSettings = {
  dataDir: {
    env: "WAITER_DATA_DIR",
    description:
      "Per-user directory for waiter's state, an absolute path written out (never the current directory: MCP clients start servers from anywhere; nothing expands ~ or $HOME). Default: $XDG_STATE_HOME/waiter when that is an absolute path, else ~/.local/state/waiter, on Linux, ~/Library/Application Support/waiter on macOS, %LOCALAPPDATA%\\waiter on Windows (where Claude Desktop's waiter writes into a private copy of AppData: docs/clients.md#claude-desktop).",
    // loadConfig checks that it is absolute: its message shows the path, which a schema's would not.
    schema: z.string().optional(),
  },
  logLevel: {
    env: "WAITER_LOG_LEVEL",
    description: `Least severe log level written to stderr (a client chooses its own with logging/setLevel): ${LOG_LEVELS.join(", ")}.`,
    schema: word(LOG_LEVELS).default("info"),
  },
  toolsets: {
    env: "WAITER_TOOLSETS",
    description: "Comma-separated toolsets to enable (default: every configured one). Same as --toolsets.",
    schema: list()
      .refine((names) => names.length > 0, "names no toolset; leave it unset to enable every configured one")
      .refine(
        (names) => names.every((name) => /^[\w-]{1,40}$/.test(name) && !credentialShaped(name)),
        "holds something that is no toolset name (toolset names are lowercase words such as currency; separate several with commas: currency,events)",
      )
      .optional(),
  },
  tools: {
    env: "WAITER_TOOLS",
    description: "Comma-separated tools to serve, of the enabled toolsets (default: all of them). Same as --tools.",
    schema: toolNames("names no tool; leave it unset to serve every tool of the enabled toolsets"),
  },
  excludeTools: {
    env: "WAITER_EXCLUDE_TOOLS",
    description: "Comma-separated tools not to serve. Same as --exclude-tools.",
    schema: toolNames("names no tool; leave it unset to exclude none"),
  },
  readOnly: {
    env: "WAITER_READ_ONLY",
    description: "true removes every tool that is not read-only; beats every other setting. Same as --read-only.",
    schema: flag(false),
  },
  noListener: {
    env: "WAITER_NO_LISTENER",
    description:
      "true keeps an assistant's waiter (the stdio mode) from receiving webhooks: it leaves the port to waiter listen or serve, which ignore this. Same as --no-listener.",
    schema: flag(false),
  },
  toolTimeout: {
    env: "WAITER_TOOL_TIMEOUT",
    description: "Deadline of one tool call in seconds, retries included (1-55; MCP clients give up at 60).",
    schema: integer(20, 1, 55, "seconds"),
  },
  listen: {
    env: "WAITER_LISTEN",
    description:
      "Address `waiter serve` binds, host:port: MCP at /mcp, webhooks at /webhooks/<source>, /healthz. Same as --listen. Default: webhooks.listen (127.0.0.1:8790).",
    schema: listenAddress().optional(),
  },
  stopSeconds: {
    env: "WAITER_STOP_SECONDS",
    description:
      "How long a stop (SIGTERM, SIGHUP, Ctrl+C) of `waiter serve` or `waiter listen` lets tool calls and deliveries in flight finish before cutting them, in seconds; give the process manager a few seconds more.",
    schema: integer(10, 1, 300, "seconds"),
  },
  maxSessions: {
    env: "WAITER_MAX_SESSIONS",
    description:
      "Most MCP sessions `waiter serve` holds open at once. Past it, the idlest is left to the event store, which keeps it for its next request; when each is in use, or there is no event store (no webhook sources or database), an initialize gets 503. With several callers (OAuth, tokens), one holds half at most: its idlest session makes room.",
    schema: integer(100, 1, 10_000),
  },
  sessionIdleMinutes: {
    env: "WAITER_SESSION_IDLE_MINUTES",
    description: "Minutes after which `waiter serve` closes an MCP session that sent nothing and listens on no stream.",
    schema: integer(30, 1, 24 * 60, "minutes"),
  },
  maxResponseBytes: {
    env: "WAITER_MAX_RESPONSE_BYTES",
    description: "Largest upstream answer accepted, in bytes; a larger one fails the call instead of filling memory.",
    schema: integer(5 * 1024 * 1024, 1024, 100 * 1024 * 1024, "bytes"),
  },
  automations: automationsSetting,
  automationRetrySeconds: {
    env: "WAITER_AUTOMATION_RETRY_SECONDS",
    description:
      "How long an automation's step that fails for a passing reason (an upstream unreachable, failing or busy) is tried again, in seconds, before its run is marked failed.",
    schema: integer(600, 1, 86_400, "seconds"),
  },
  automationLeaseSeconds: {
    env: "WAITER_AUTOMATION_LEASE_SECONDS",
    description:
      "With several waiter processes on one store, how long the one running the automations holds them without renewing, in seconds: another takes over after that, and one that lost them stops.",
    schema: integer(30, 3, 3600, "seconds"),
  },
} satisfies Settings;

export type CoreConfig = SettingValues<typeof coreSettings> & { dataDir: string };

/** The paths of a section's settings: webhooks.listen. */
type Paths<Key extends string, S extends Settings> = `${Key}.${keyof S & string}`;

/**
 * A setting's path, as a message names it: a core key (dataDir) or a section's (webhooks.listen).
 * A toolset of tools/ names its own settings by their keys (ToolsetContext).
 */
export type SettingPath =
  | keyof typeof coreSettings
  | Paths<"http", typeof httpSettings>
  | Paths<"database", typeof databaseSettings>
  | Paths<"webhooks", typeof webhookSettings>;

export interface Config {
  core: CoreConfig;
  /** Who may call `waiter serve`. */
  http: HttpConfig;
  /** The event store's PostgreSQL server, when one is set. */
  database: DatabaseConfig;
  /** Each toolset's settings, parsed and resolved, by toolset name. */
  toolsets: Record<string, Record<string, unknown>>;
  /** The config file that was read, if any. */
  file?: string;
  /** What to warn of at start: variables of the environment that look like misspelt settings. */
  warnings: string[];
  /** What to say at start: the config file's keys a flag or a variable beats, which are not read. */
  notices: string[];
  /** The HTTP proxy the environment names for upstream requests (HTTPS_PROXY...), not a setting of waiter's. */
  proxy?: HttpProxy;
  /**
   * Where a setting, by its path (`webhooks.listen`), was given, as a message names it: the flag, the
   * variable, or the key and the file; a setting given nowhere, its variable.
   */
  origin(path: SettingPath): string;
  /**
   * A setting as a message asking to change it names it: where it was given (the flag, the variable,
   * or its key and the file), as what gave it beats the rest; one given nowhere, `otherwise`, by
   * default its key and its variable.
   */
  named(path: SettingPath, otherwise?: string): string;
  /** Whether a setting was given anywhere (a flag, a variable, the config file), empty too. */
  given(path: SettingPath): boolean;
  /** The secrets the settings read from the environment, which no message may show (shownSafely). */
  secrets?: readonly string[];
}

/** The settings that choose the tools served. */
const TOOL_CHOICES = ["toolsets", "tools", "excludeTools", "readOnly"] as const;

/** A setting a flag sets too, named where it may be set: the flag, its variable, the config file. */
const choosing = (key: (typeof TOOL_CHOICES)[number] | "listen") =>
  `${flagName(key)} (${coreSettings[key].env}, ${key} in the config file)`;
export const TOOLSETS = choosing("toolsets");
export const TOOLS = choosing("tools");
export const EXCLUDE_TOOLS = choosing("excludeTools");
export const READ_ONLY = choosing("readOnly");

/**
 * The address `waiter serve` binds, as a message asking to change it names it: listen, else
 * webhooks.listen, where it was given; given nowhere, each place that sets serve's own.
 */
export const serveListenNamed = (config: Pick<Config, "core" | "named">) =>
  config.named(config.core.listen ? "listen" : "webhooks.listen", choosing("listen"));

/**
 * What is said of `name`, named as toolset `toolset`'s tools are, where the toolset's tools are not
 * made (before the settings are read, or while it is off): whether it is one of them is not known.
 */
export const namedLikeTools = (name: string, toolset: string) => `${name} is named like toolset ${toolset}'s tools`;

/**
 * The settings that choose tools which were given, after `first`, each named where it was
 * (WAITER_TOOLSETS, --tools) and the config file's keys together, its path said once ("toolsets and
 * readOnly in /etc/waiter/config.json"); with how many settings were given.
 */
export function toolChoicesGiven(
  config: Pick<Config, "core" | "origin" | "file">,
  first: readonly string[] = [],
): { count: number; named: string } {
  const given = TOOL_CHOICES.filter((key) => config.core[key]);
  const inFile = given.filter((key) => config.file && config.origin(key) === `${key} in ${config.file}`);
  const elsewhere = [...first, ...given.filter((key) => !inFile.includes(key)).map((key) => config.origin(key))];
  if (inFile.length === 0) return { count: given.length, named: enumerated(elsewhere, "and") };
  const fileKeys = `${enumerated(inFile, "and")} in ${config.file}`;
  // A comma before the file's keys where an "and" inside them would run on with the list's.
  const joiner = elsewhere.length > 1 || inFile.length > 1 ? ", and " : " and ";
  return { count: given.length, named: elsewhere.length ? `${elsewhere.join(", ")}${joiner}${fileKeys}` : fileKeys };
}

export interface ConfigSources {
  env: NodeJS.ProcessEnv;
  /** --config FILE; falls back to WAITER_CONFIG. */
  file?: string;
  /** Command-line flags, which beat the environment and the file. */
  overrides?: Partial<Record<keyof typeof coreSettings, unknown>>;
}

interface Section {
  /** Key in the config file; undefined for the core, whose keys sit at the top. */
  key?: string;
  settings: Settings;
}

/**
 * Reads every setting: flags beat environment variables, which beat the config file.
 * One zod schema, composed of the core's and the toolsets' settings, checks them all. Every secret
 * is read through one reader, whose record of them the tokens are checked against.
 */
export function loadConfig(sources: ConfigSources, toolsets: readonly Toolset[]): Config {
  const file: { name?: string; refused: string[] } = { refused: [] };
  let config: Config;
  try {
    config = readConfig(sources, toolsets, file);
  } catch (err) {
    // A value refused as well as the file's keys is said with them: each would stop a start of its own.
    if (!(err instanceof ConfigError) || file.refused.length === 0) throw err;
    const values = err instanceof SettingsRefused ? err.each : [err.message];
    throw new ConfigError(toMend([...file.refused, ...values], file.name, values.length));
  }
  if (file.refused.length > 0) throw new ConfigError(toMend(file.refused, file.name));
  return config;
}

/**
 * The settings `loadConfig` reads, the keys of the config file it refuses being put in `read.refused`
 * (with the file's name in `read.name`), to be said with any value refused after them.
 */
function readConfig(
  sources: ConfigSources,
  toolsets: readonly Toolset[],
  read: { name?: string; refused: string[] },
): Config {
  const sections: Section[] = [
    { settings: coreSettings },
    { key: "http", settings: httpSettings },
    { key: "database", settings: databaseSettings },
    // A toolset without settings has no section.
    ...toolsets.filter((t) => Object.keys(t.settings).length > 0).map((t) => ({ key: t.name, settings: t.settings })),
  ];
  if (sources.file === "") throw new ConfigError("--config needs a file name");
  const fileFromEnv = sources.file === undefined ? settingFromEnv(sources.env, CONFIG_FILE_ENV) : undefined;
  if (fileFromEnv !== undefined && !isAbsolute(fileFromEnv)) {
    throw new ConfigError(
      `invalid setting ${CONFIG_FILE_ENV}: ${mustBeAbsolute(fileFromEnv)}; in a terminal, --config takes a path relative to the current directory`,
    );
  }
  const file = sources.file ?? fileFromEnv;
  const notices: string[] = [];
  // As a file's key that a variable beats: the file the image's or the unit's WAITER_CONFIG names is
  // not read at all, so a value it would be refused for (in quotes, a placeholder) does not stop the start.
  const fileBeaten = sources.file === undefined ? undefined : setValue(sources.env[CONFIG_FILE_ENV])?.trim();
  if (fileBeaten !== undefined && resolve(fileBeaten) !== resolve(sources.file as string)) {
    // A path is shown, though a long one looks like a token; a token pasted there is not.
    const named =
      !isAbsolute(fileBeaten) && credentialShaped(fileBeaten)
        ? `the config file ${CONFIG_FILE_ENV} names`
        : `config file ${fileBeaten}, which ${CONFIG_FILE_ENV} names,`;
    notices.push(`${named} is not read: --config beats it`);
  }
  const fromFile = file
    ? readConfigFile(file, sources.file === undefined ? `unset ${CONFIG_FILE_ENV}` : "leave out --config")
    : {};
  read.name = file;
  const { refused, unread } = fileKeysRefused(fromFile, sections, file);
  read.refused = refused;

  const secrets = new Secrets(sources.env);
  const input: Record<string, unknown> = {};
  const shape: Record<string, z.ZodType> = {};
  const origins = new Map<string, string>();
  const givenInFile = new Set<string>();
  /** The settings a flag or a variable gave. */
  const givenOutside = new Set<string>();
  /** Each setting with its variable, as a message that asks to set it names it. */
  const withVariable = new Map<string, string>();
  for (const section of sections) {
    const fileValues = (section.key ? fromFile[section.key] : fromFile) as Record<string, unknown> | undefined;
    const values: Record<string, unknown> = {};
    const sectionShape: Record<string, z.ZodType> = {};
    for (const [name, setting] of Object.entries(section.settings)) {
      const path = section.key ? `${section.key}.${name}` : name;
      sectionShape[name] = setting.schema;
      // A core key, at the top of the file, says less than its variable.
      withVariable.set(path, section.key ? `${path} (${setting.env})` : `${setting.env} (${path})`);
      const override = section.key ? undefined : sources.overrides?.[name as keyof typeof coreSettings];
      // Blanks around a value (the \r an env file saved with Windows line endings keeps, the byte-order
      // mark of a JSON file a Windows editor saved, read into a variable) are no part of it:
      // WAITER_DATA_DIR=/data\r would be another directory. A secret's are refused instead.
      const envValue = setting.secret ? secrets.optional(setting.env) : settingFromEnv(sources.env, setting.env);
      // The image's own environment (WAITER_LISTEN, WAITER_DATA_DIR) beats a config file mounted in it:
      // said where the file's value is another, as one the same changes nothing.
      const beats = override !== undefined ? flagName(name) : envValue !== undefined ? setting.env : undefined;
      const read = (value: unknown) => setting.schema.safeParse(typeof value === "string" ? value.trim() : value).data;
      if (
        beats &&
        fileValues?.[name] !== undefined &&
        !isDeepStrictEqual(read(override ?? envValue), read(fileValues[name]))
      ) {
        notices.push(`${path} in ${file} is not read: ${beats} beats it`);
      }
      // As the image's WAITER_LISTEN under `serve --listen`, which its health check still asks.
      if (override !== undefined && envValue !== undefined && !isDeepStrictEqual(read(override), read(envValue))) {
        notices.push(`${setting.env} is not read: ${flagName(name)} beats it`);
      }
      if (override !== undefined) {
        values[name] = override;
        origins.set(path, `${flagName(name)}`);
        givenOutside.add(path);
      } else if (envValue !== undefined) {
        values[name] = envValue;
        origins.set(path, setting.env);
        givenOutside.add(path);
      } else if (fileValues?.[name] !== undefined && !unread.has(path)) {
        // As in a variable: "/srv/waiter " would be another directory, "cnb " no source.
        const fileValue = fileValues[name];
        values[name] = typeof fileValue === "string" ? fileValue.trim() : fileValue;
        const placeholder = typeof fileValue === "string" ? placeholderIn(fileValue.trim(), false) : undefined;
        if (placeholder) {
          throw new ConfigError(
            `invalid setting ${path} in ${file}: ${placeholder}, a placeholder for a variable's value, which waiter does not replace in its config file: write the value itself`,
          );
        }
        origins.set(path, `${path} in ${file}`);
        givenInFile.add(path);
      } else {
        origins.set(path, setting.env);
      }
    }
    if (section.key) {
      input[section.key] = values;
      shape[section.key] = z.object(sectionShape);
    } else {
      Object.assign(input, values);
      Object.assign(shape, sectionShape);
    }
  }

  const origin = (path: string) => origins.get(path) ?? path;
  const given = (path: string) => givenInFile.has(path) || givenOutside.has(path);
  const named = (path: string, otherwise?: string) =>
    given(path) ? origin(path) : (otherwise ?? withVariable.get(path) ?? path);

  /**
   * What the core's values are refused for once each is read: a data directory that is not
   * absolute, a toolset waiter has none of. The default data directory is looked up elsewhere.
   */
  const coreRefused = (dataDir: string | undefined, names: readonly string[] | undefined): string[] => {
    const refused: string[] = [];
    if (dataDir !== undefined && !isAbsolute(dataDir)) {
      refused.push(`invalid setting ${origin("dataDir")}: ${mustBeAbsolute(dataDir)}`);
    }
    // In any case, as the settings' other words: Currency is currency. An unknown one is quoted as given.
    const unknown = names?.find((name) => !toolsets.some((toolset) => toolset.name === name.toLowerCase()));
    if (unknown !== undefined) {
      // A tool's name is its toolset's and a word: --toolsets currency_convert meant --tools. Which
      // tools a toolset has is known once the settings are read, so the name is not said to be one.
      const toolOf = toolsets.find((toolset) =>
        unknown.toLowerCase().replaceAll("-", "_").startsWith(`${toolset.name}_`),
      );
      const known = toolsets.map((toolset) => toolset.name);
      const meant = meantName(unknown, known);
      const hint = toolOf
        ? `: ${namedLikeTools(unknown, toolOf.name)}, and ${TOOLS} chooses tools`
        : meant
          ? `; did you mean ${meant}?`
          : "";
      refused.push(`unknown toolset '${unknown}' in ${origin("toolsets")} (known: ${known.join(", ")})${hint}`);
    }
    return refused;
  };

  const parsed = z.object(shape).safeParse(input, { error: settingsErrors });
  if (!parsed.success) {
    /**
     * What the sections no value of which is refused are refused for once read (a secret their
     * settings name still unset, one limit beyond another), so that a start says it with the values.
     */
    const refusedOnceRead = (refused: ReadonlyMap<string, unknown>): string[] => {
      const said: string[] = [];
      let tokens: SettingValues<typeof httpSettings>["tokens"] | undefined;
      const readWhole = (read: () => unknown) => {
        try {
          read();
        } catch (err) {
          // The secrets unset are said together, as Secrets keeps them. Anything else is met again
          // once the values refused are mended, where it is read as at any start.
          if (err instanceof ConfigError && !secrets.unset.includes(err.message)) said.push(...refusalsOf(err));
        }
      };
      const readSection = (key: string, values: Record<string, unknown>, reader: Secrets) => {
        const own = (name: string) => origin(`${key}.${name}`);
        const toolset = toolsets.find((t) => t.name === key);
        if (key === "http") {
          const names = toolsets.map((t) => t.name);
          const http = values as SettingValues<typeof httpSettings>;
          tokens = http.tokens;
          resolveHttp(http, reader, own, names);
        } else if (key === "database") {
          resolveDatabase(values as SettingValues<typeof databaseSettings>, reader, own);
        } else {
          toolset?.resolve?.(values, reader, own, (name) => given(`${key}.${name}`));
        }
      };
      // A section with a value refused is read aside, without that value, for the secrets alone: a
      // token that holds one of them is said now, not at the start after the value is mended. What
      // else it is refused for is met once that value is mended, where the section is read whole.
      const aside = new Secrets(sources.env);
      for (const section of sections) {
        const key = section.key;
        if (key === undefined) continue;
        const refusedHere = new Set(
          [...refused.keys()].filter((path) => path.startsWith(`${key}.`)).map((path) => path.slice(key.length + 1)),
        );
        const others = Object.entries(input[key] as Record<string, unknown>).filter(([name]) => !refusedHere.has(name));
        const values = shape[key]?.safeParse(Object.fromEntries(others), { error: settingsErrors }).data as
          | Record<string, unknown>
          | undefined;
        if (values === undefined) continue;
        if (refusedHere.size === 0) readWhole(() => readSection(key, values, secrets));
        else {
          try {
            readSection(key, values, aside);
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
          }
        }
      }
      // Once every secret is read: a token's may be any of them.
      const read = tokens;
      if (read) said.push(...tokensSharingSecrets(read, [...secrets.read, ...aside.read], origin("http.tokens")));
      // The core's values not refused themselves.
      const readAlone = (name: "dataDir" | "toolsets") =>
        refused.has(name) ? undefined : shape[name]?.safeParse(input[name], { error: settingsErrors }).data;
      const dataDir = readAlone("dataDir") as string | undefined;
      const core = coreRefused(dataDir, readAlone("toolsets") as string[] | undefined);
      // A default under a home this user has none of, as a start with no value refused says it.
      if (dataDir === undefined && !refused.has("dataDir")) {
        try {
          defaultDataDir(sources.env);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          core.push(err.message);
        }
      }
      return [...core, ...said, ...secrets.unset];
    };
    /** The setting an issue's path is in: the path's first key (core) or first two (a section's); the rest is inside it. */
    const depthOf = (keys: readonly PropertyKey[]) => (sections.some((s) => s.key === keys[0]) ? 2 : 1);
    const bySetting = new Map<string, z.core.$ZodIssue[]>();
    for (const issue of parsed.error.issues) {
      const keys = issue.path.map(String);
      const path = keys.slice(0, depthOf(keys)).join(".");
      bySetting.set(path, [...(bySetting.get(path) ?? []), issue]);
    }
    const hide = hiddenStrings(input, sections, sources.env);
    const refusalOf = (issue: z.core.$ZodIssue | undefined): string => {
      const keys = (issue?.path ?? []).map(String);
      const depth = depthOf(keys);
      const settingPath = keys.slice(0, depth).join(".");
      const setting = (depth === 2 ? sections.find((s) => s.key === keys[0]) : sections[0])?.settings[
        keys[depth - 1] ?? ""
      ];
      const dig = (v: unknown, k: PropertyKey) => (v as Record<PropertyKey, unknown> | undefined)?.[k];
      // A JSON setting from the environment is a string: the path goes on inside what it holds.
      const given = fromJson(keys.slice(0, depth).reduce(dig, input));
      const insidePath = (issue?.path ?? []).slice(depth);
      const inside =
        insidePath.length === 0 ? "" : setting?.locate ? setting.locate(insidePath, given) : insidePath.join(".");
      const value = insidePath.reduce(dig, given);
      // The file holds a JSON setting as JSON: a string there that is none is of the wrong kind, and
      // the line and column JSON.parse found in it are no place in the file.
      const wrongKind =
        issue?.code === "custom" && issue.params?.jsonText && givenInFile.has(settingPath)
          ? `${setting?.schema.safeParse(0, { error: settingsErrors }).error?.issues[0]?.message}, got a string: the config file holds it as JSON itself, where its variable holds it as text`
          : undefined;
      // A bad key says why through its own issue: the key may be what cannot be shown.
      const said = wrongKind ?? (issue?.code === "invalid_key" ? issue.issues[0]?.message : issue?.message) ?? "";
      const example: string = (!wrongKind && issue?.code === "custom" && issue.params?.told) || "";
      const message = `${scrub(said.slice(0, said.length - example.length), hide)}${example}`;
      // What stands where a secret's variable is named (secretEnv, passwordEnv) may be the secret itself.
      const namesSecret = /Env$/.test(String(keys.at(-1)));
      const got =
        setting?.secret || namesSecret || hide.anywhere.includes(value as string) ? "" : gotten(message, value);
      const where = `${origin(settingPath)}${inside ? ` at ${scrub(inside, hide)}` : ""}`;
      return `invalid setting ${where}: ${message}${got}`;
    };
    // Each setting refused is said at once, each place in it too, not one a start. A misspelt key
    // leaves the key meant missing: the unknown one says more, and that missing one is not said;
    // another key missing beside it is.
    const placeOf = (issue: z.core.$ZodIssue) => JSON.stringify(issue.path);
    const missing = (issue: z.core.$ZodIssue) => {
      const keys = issue.path.map(String);
      const depth = depthOf(keys);
      const dig = (v: unknown, k: PropertyKey) => (v as Record<PropertyKey, unknown> | undefined)?.[k];
      return issue.path.slice(depth).reduce(dig, fromJson(keys.slice(0, depth).reduce(dig, input))) === undefined;
    };
    const refusals = [...bySetting.values()].map((issues) => {
      const unknownKeys = issues.filter((i) => i.code === "unrecognized_keys");
      /** The keys each object holds that it does not take. */
      const unknownIn = new Map(unknownKeys.map((i) => [placeOf(i), i.keys]));
      // As the unknown key's refusal names it: the key near it, or the `…Env` key of a secret written in its place.
      const meantByUnknown = (issue: z.core.$ZodIssue) => {
        const key = String(issue.path.at(-1));
        const written = unknownIn.get(placeOf({ ...issue, path: issue.path.slice(0, -1) })) ?? [];
        return written.some((k) => [k.trim(), `${k.trim()}Env`].some((name) => meantKey(name, [key])));
      };
      const places = new Map<string, z.core.$ZodIssue>();
      for (const issue of [...unknownKeys, ...issues]) {
        const place = placeOf(issue);
        if (places.has(place) || (issue.code !== "unrecognized_keys" && missing(issue) && meantByUnknown(issue))) {
          continue;
        }
        places.set(place, issue);
      }
      return [...places.values()].map(refusalOf);
    });
    const later = refusedOnceRead(bySetting);
    const each = [...refusals.flat(), ...later];
    if (each.length === 1) throw new ConfigError(each[0] as string);
    if (later.length > 0) throw new SettingsRefused(each);
    throw new SettingsRefused(
      each,
      refusals.length === 1 ? origin([...bySetting.keys()][0] as string) : refusals.length,
    );
  }
  const data = parsed.data as Record<string, unknown>;
  const core = Object.fromEntries(Object.keys(coreSettings).map((k) => [k, data[k]])) as CoreConfig;
  // Each setting is read before any is taken, so that one refusal names every secret still unset,
  // and what else the settings are refused for once read.
  const refusedRead = coreRefused(core.dataDir, core.toolsets);
  core.toolsets = core.toolsets?.map((name) => name.toLowerCase());
  const readOrRefused = <Result>(read: () => Result) => {
    try {
      return secrets.unlessUnset(read);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      refusedRead.push(...refusalsOf(err));
      return undefined;
    }
  };
  const dataDirRead = readOrRefused(() => core.dataDir ?? defaultDataDir(sources.env));
  const toolsetReads = toolsets.map((toolset) =>
    readOrRefused(() => {
      const values = Object.keys(toolset.settings).length > 0 ? (data[toolset.name] as Record<string, unknown>) : {};
      const own = (name: string) => origin(`${toolset.name}.${name}`);
      const ownGiven = (name: string) => given(`${toolset.name}.${name}`);
      return [toolset.name, toolset.resolve ? toolset.resolve(values, secrets, own, ownGiven) : values] as const;
    }),
  );
  const httpOrigin = (name: keyof typeof httpSettings) => origin(`http.${name}`);
  const httpRead = readOrRefused(() =>
    resolveHttp(
      data.http as SettingValues<typeof httpSettings>,
      secrets,
      httpOrigin,
      toolsets.map((toolset) => toolset.name),
    ),
  );
  const databaseValues = data.database as SettingValues<typeof databaseSettings>;
  const databaseOrigin = (name: keyof typeof databaseSettings) => origin(`database.${name}`);
  const databaseRead = readOrRefused(() => resolveDatabase(databaseValues, secrets, databaseOrigin));
  // Once every secret is read: a token's may be any of them.
  const { tokens } = data.http as SettingValues<typeof httpSettings>;
  refusedRead.push(...tokensSharingSecrets(tokens, secrets.read, httpOrigin("tokens")));
  const each = [...refusedRead, ...secrets.unset];
  if (each.length > 0) {
    if (each.length === 1) throw new ConfigError(each[0] as string);
    throw new SettingsRefused(each);
  }
  const taken = <Result>(reading: Read<Result> | undefined) => secrets.valueOf(reading as Read<Result>);
  const toolsetValues = Object.fromEntries(toolsetReads.map((reading) => taken(reading)));
  const http = taken(httpRead);
  const database = taken(databaseRead);
  core.dataDir = taken(dataDirRead);
  const warnings = [
    ...misspeltVariables(sources.env, sections, JSON.stringify(fromFile)),
    ...unreadVariables(sources.env, database.url, database.urlFrom),
    ...passwordWithoutDatabase(databaseValues, databaseOrigin),
  ];
  const proxy = proxyFrom(sources.env);
  return {
    core,
    http,
    database,
    toolsets: toolsetValues,
    ...(file ? { file } : {}),
    warnings,
    notices,
    ...(proxy ? { proxy } : {}),
    origin,
    named,
    given,
    secrets: secrets.read.map((read) => read.secret),
  };
}

function flagName(setting: string): string {
  return `--${setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Reads the config file; `otherwise` is how to go without one, as it was named. */
function readConfigFile(file: string, otherwise: string): Record<string, unknown> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    // A relative path, which only --config may give, is read from the current directory.
    // A name JSON put a line break in is shown as JSON writes it, on one line.
    const inJson = escapedInJson(file);
    const named = inJson ? quote(file) : file;
    const where = isAbsolute(file) ? named : `${named} (from ${process.cwd()})`;
    const code = (err as NodeJS.ErrnoException).code;
    // --config=~/… is no word a shell expands, and a client's args go to waiter as written.
    const notExpanded = unexpanded(
      file,
      "a shell does, but not after --config=, and an MCP client starts waiter without one",
      true,
    );
    const relativeHint = isAbsolute(file)
      ? undefined
      : "a relative path is read from the current directory, which an MCP client chooses (often /), so give a client's args an absolute path";
    const hint = inJson ?? notExpanded ?? relativeHint;
    const why =
      code === "ENOENT"
        ? `ENOENT, there is no such file${hint ? `: ${hint}` : ""}`
        : code === "EACCES"
          ? `EACCES, ${mayNotEnter(file) ?? `the user waiter runs as${runningUser()} may not read it`}`
          : code === "EPERM"
            ? `EPERM, the system does not let waiter read it${process.platform === "darwin" ? `: ${macosPrivacy("read", "keep the file elsewhere")}` : ""}`
            : code === "EISDIR"
              ? "EISDIR, it is a directory"
              : code === "ENOTDIR"
                ? `ENOTDIR, ${fileAbove(file) ?? "a directory on its path"} is a file, not a directory`
                : (code ?? String(err));
    throw new ConfigError(`cannot read config file ${where}: ${why}`);
  }
  const text = fileText(bytes, file);
  // A file just made (`touch`, an editor's new file) holds nothing, which JSON.parse calls an
  // "unexpected end" of it.
  if (jsonText(text).trim() === "") {
    throw new ConfigError(`config file ${file} is empty: write {} in it for no settings, or ${otherwise}`);
  }
  // An env file (a unit's EnvironmentFile, docker's --env-file) or YAML, comments first as often:
  // JSON's error would name the first # as a comment to remove, then the first letter of its first line.
  const firstLine = jsonText(text)
    .split(/\r?\n/)
    .find((line) => line.trim() !== "" && !line.trimStart().startsWith("#") && line.trimEnd() !== "---");
  if (firstLine !== undefined && /^\s*(?:export\s+)?[A-Za-z_]\w*=/.test(firstLine)) {
    throw new ConfigError(
      `config file ${file} holds environment variables (KEY=value lines), not JSON: give them to waiter as its environment (a systemd unit's EnvironmentFile=, docker run --env-file, compose's env_file), and ${otherwise}, or name a JSON file`,
    );
  }
  const yamlKey = firstLine === undefined ? undefined : /^([A-Za-z_][\w-]*):(?:\s|$)/.exec(firstLine)?.[1];
  if (yamlKey !== undefined) {
    throw new ConfigError(
      `config file ${file} is YAML (key: value lines), and waiter reads JSON: write it as one JSON object, each key in double quotes ({"${yamlKey}": ...})`,
    );
  }
  let value: unknown;
  try {
    // Windows editors (Notepad, Windows PowerShell's Out-File -Encoding utf8) start a UTF-8 file
    // with a byte-order mark.
    value = JSON.parse(jsonText(text));
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${jsonProblem((err as Error).message, text)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const repeated = repeatedKey(jsonText(text));
  if (repeated) throw new ConfigError(`config file ${file} ${repeated}`);
  return value as Record<string, unknown>;
}

/**
 * Why macOS refuses a file with EPERM: its privacy protection (TCC) answers so for these places,
 * to a program started by an app that was not allowed into them. `otherwise`: what to do instead.
 */
export function macosPrivacy(verb: "read" | "use", otherwise: string): string {
  return `macOS lets only an app allowed in System Settings → Privacy & Security → Files and Folders (or Full Disk Access) ${verb} Desktop, Documents, Downloads, iCloud Drive and external or network volumes, and waiter ${verb === "read" ? "reads" : "uses them"} as the app that starts it (the MCP client, or the terminal); allow that app there, or ${otherwise}`;
}

/** Who waiter runs as, in parentheses: a uid, or where there are none (Windows) the user's name. */
function runningUser(): string {
  const uid = process.getuid?.();
  if (uid !== undefined) return ` (uid ${uid})`;
  try {
    return ` (${userInfo().username})`;
  } catch {
    return "";
  }
}

/**
 * The first directory on `path`'s way that waiter's user may not enter, said so, if one: an EACCES
 * for a file or directory it was given (a service's config file or data directory) in a directory
 * of root's alone, where the file's own mode is no help.
 */
export function mayNotEnter(path: string): string | undefined {
  const dirs: string[] = [];
  for (let above = dirname(path); above !== dirname(above); above = dirname(above)) dirs.unshift(above);
  for (const dir of dirs) {
    try {
      accessSync(dir, constants.X_OK);
    } catch (err) {
      // One not there yet (what the data directory's mkdir makes) closes nothing: what refused is said as it is.
      if ((err as { code?: string }).code !== "EACCES") return undefined;
      return `the user waiter runs as${runningUser()} may not enter ${dir}, a directory on its path (it needs x permission there)`;
    }
  }
  return undefined;
}

/**
 * The file that stands where the directory `path` or one above it must be (mkdir's EEXIST and
 * ENOTDIR), as `path` names it: a data directory set to the store's file, say.
 */
export function fileInTheWay(path: string): string | undefined {
  try {
    if (!statSync(path).isDirectory()) return path;
  } catch {
    // Not there, or under a file.
  }
  return fileAbove(path);
}

/** The file on `path`'s way that is no directory (ENOTDIR), as `path` names it. */
function fileAbove(path: string): string | undefined {
  for (let above = dirname(path); above !== dirname(above); above = dirname(above)) {
    try {
      if (statSync(above).isFile()) return above;
    } catch {
      // Beyond that file (ENOTDIR again), or not there: it is further up.
    }
  }
  return undefined;
}

/**
 * A config file's characters: UTF-16 when it starts with that byte-order mark, which Windows
 * PowerShell's `>` and Out-File write by default (read as UTF-8 it is not JSON), else UTF-8. A
 * file in a code page (Windows PowerShell's Set-Content writes the system's) is refused: read as
 * UTF-8, each of its letters outside ASCII would be lost, silently, from a path or a message.
 */
function fileText(bytes: Buffer, file: string): string {
  const utf16 =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? "utf-16le"
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? "utf-16be"
        : undefined;
  if (utf16) return new TextDecoder(utf16).decode(bytes);
  try {
    // The byte-order mark is kept, as jsonText takes it off.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Decoded again only to say where: each byte that is no UTF-8 becomes a replacement character.
    const text = bytes.toString("utf8");
    throw new ConfigError(
      `config file ${file} is not UTF-8 (${lineAndColumn(text, text.indexOf("\uFFFD"))}): save it as UTF-8 (Windows PowerShell's Set-Content writes the system's code page unless given -Encoding utf8)`,
    );
  }
}

/**
 * The path to a web address that has a user, a password or a query: [] for `value` itself, else
 * one a JSON setting holds. A user or a password anywhere (a link in a message's text too); a
 * query only where the key says a URL (ending in url: a channel's baseUrl, a source's apiUrl), as a
 * link in a message's text has its own. undefined for none.
 */
function urlWithCredentials(value: unknown, isUrl = true): string[] | undefined {
  if (typeof value === "string") {
    if (/https?:\/\/[^\s/?#@]*@/i.test(value)) return [];
    const url = isUrl && /^https?:\/\//i.test(value) && URL.canParse(value) ? new URL(value) : undefined;
    return url?.search ? [] : undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  for (const [key, each] of Object.entries(value)) {
    const inside = urlWithCredentials(each, typeof each !== "string" || /url$/i.test(key));
    if (inside) return [key, ...inside];
  }
  return undefined;
}

/**
 * A typo in the file must not pass silently, and a secret must not be written there. Every key
 * refused is said at once: one a start would have the file mended and waiter restarted for each.
 * `unread`: the settings refused where they were written, whose values are not read from it.
 */
function fileKeysRefused(
  fromFile: Record<string, unknown>,
  sections: Section[],
  file: string | undefined,
): { refused: string[]; unread: Set<string> } {
  const refused: string[] = [];
  const unread = new Set<string>();
  const check = (section: Section, values: Record<string, unknown>) => {
    const prefix = section.key ? `${section.key}.` : "";
    for (const name of Object.keys(values)) {
      const setting: Setting | undefined = section.settings[name];
      if (!setting) {
        const shown = echoable(name) ? name : HIDDEN;
        refused.push(
          `unknown setting ${prefix}${shown} in config file ${file}; ${fileKeyHint(name, values[name], section, sections)}`,
        );
        continue;
      }
      if (setting.secret) {
        unread.add(`${prefix}${name}`);
        refused.push(
          `${prefix}${name} is a secret: set it in the environment as ${setting.env}, not in config file ${file}`,
        );
        continue;
      }
      // A web address with a user, a password or a query may carry a key (a shop's, a proxy's token),
      // a JSON setting's too (a channel's baseUrl, a source's apiUrl), written as JSON or as its text.
      const inside = urlWithCredentials(fromJson(values[name]));
      if (inside !== undefined) {
        const at = inside.length ? ` at ${inside.map((key) => (echoable(key) ? key : HIDDEN)).join(".")}` : "";
        // What an automation's step writes goes out, from the environment too; a condition's value does not.
        const inText = name === "automations" && inside[1] === "do";
        unread.add(`${prefix}${name}`);
        refused.push(
          inText
            ? `${prefix}${name}${at} in config file ${file} holds a link with a user or a password, which would go out wherever that text goes, from the environment too: write the link without them`
            : `${prefix}${name}${at} in config file ${file} holds a user, a password or a query in its URL, which may be credentials: set that URL in the environment as ${setting.env}, not in a file`,
        );
      }
    }
  };
  for (const [key, value] of Object.entries(fromFile)) {
    const section = sections.find((s) => s.key === key);
    if (!section) {
      check(sections[0] as Section, { [key]: value });
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      refused.push(`${key} in config file ${file} must be an object`);
      continue;
    }
    check(section, value as Record<string, unknown>);
  }
  return { refused, unread };
}

/** Several settings' values refused at once, each said in `each`. */
class SettingsRefused extends ConfigError {
  /**
   * `settings`: how many settings `each` refuses, or the one's name; undefined where `each` holds
   * what the settings are refused for once read (one setting may name several secrets still unset).
   */
  constructor(
    readonly each: string[],
    settings?: number | string,
  ) {
    const count = typeof settings === "number" ? settings : 1;
    const refused =
      settings === undefined
        ? `The settings are refused for ${each.length} reasons`
        : typeof settings === "string"
          ? `${settings} is refused in ${each.length} places`
          : `${settings} settings are refused${count < each.length ? `, in ${each.length} places` : ""}`;
    super(`${refused}, each said here: ${each.map((refusal, i) => `(${i + 1}) ${refusal}`).join(" ")}`);
  }
}

/** What the refusals of a start say as one: the config file's keys, and the last `values` of them values' after them. */
function toMend(refused: string[], file: string | undefined, values = 0): string {
  if (refused.length === 1) return refused[0] as string;
  const each = refused.map((message, i) => `(${i + 1}) ${message}`).join(" ");
  const keys = refused.length - values;
  // The setting was read with those keys left out, which it may be refused for (a source's name misspelt
  // there); it is said apart from the file, as it may be a variable's.
  const without = keys === 1 ? "that key" : "those keys";
  const refusedToo =
    values === 0
      ? ""
      : values === 1
        ? `, and a setting read without ${without} is refused too`
        : `, and ${values} settings read without ${without} are refused too`;
  const what = `${keys} ${keys === 1 ? "key" : "keys"} to mend${refusedToo}`;
  return `config file ${file} has ${what}, each said here: ${each}`;
}

/**
 * What an unknown key of the file, in `section`, was probably meant to be: a key of that section
 * (wooUrl for eshop's url), else the key, or one near it, in another section (sources for
 * webhooks.sources), or the setting whose environment variable it names (WAITER_CONTACT for
 * weather.contact). At the top, an object of settings under a name of none (core, woocommerce, a
 * client entry's env) says where they go, and an MCP client's config given for waiter's says so; a
 * section's key written with its dot (webhooks.listen) is told to go in the section's object.
 */
function fileKeyHint(name: string, value: unknown, section: Section, sections: Section[]): string {
  // A key with a blank at either end is not shown, so "did you mean" would name what the reader sees.
  const written = name.trim();
  const sectionNamed = !section.key && sections.some((s) => s.key === written);
  if (written !== name && (Object.hasOwn(section.settings, written) || sectionNamed)) {
    // Said after the file's path, "it" would read as the file.
    return `${strayBlanks(name, "the setting's name")}; write ${JSON.stringify(written)} alone`;
  }
  const all = sections.flatMap((s) =>
    Object.entries(s.settings).map(([key, setting]) => ({
      section: s,
      path: s.key ? `${s.key}.${key}` : key,
      written: s.key ? `{"${s.key}": {"${key}": …}}` : `{"${key}": …}`,
      key,
      setting,
    })),
  );
  const own = all.filter((candidate) => candidate.section === section);
  const meantHere = meantKeys(name, Object.keys(section.settings));
  // A section's name says what its keys are of, so a key there may leave out its first word.
  const here = own.filter(({ key }) => (meantHere.length > 0 ? meantHere.includes(key) : endsWithWord(key, name)));
  const keys = all.map(({ key }) => key);
  const meant = here.length > 0 ? [] : meantKeys(name, keys);
  const elsewhere = all.filter(({ key }) => meant.includes(key));
  const variable = all.find(({ setting }) => plainKey(setting.env) === plainKey(name));
  const inEnvironment = ({ path, setting }: (typeof all)[number]) =>
    `${path} is a secret: set it in the environment as ${setting.env}, not in a file`;
  // As docs/settings.md names a section's key (webhooks.listen): the file nests it.
  const dotted = section.key ? undefined : all.find(({ path }) => path === name && path.includes("."));
  if (dotted) return dotted.setting.secret ? inEnvironment(dotted) : `a key holds no dot: write it ${dotted.written}`;
  const secret = [...here, ...elsewhere, variable].find((candidate) => candidate?.setting.secret);
  if (secret) return inEnvironment(secret);
  if (here.length > 0) {
    const [only] = here;
    // A key not shown for its blanks is told them with the key meant, as a key inside a setting's JSON is.
    if (written !== name && only && here.length === 1 && !unitNote(asVariable(name), asVariable(only.key))) {
      return `${strayBlanks(name, "the setting's name")}; write ${JSON.stringify(only.key)} alone`;
    }
    return `did you mean ${here.map(({ path, key }) => `${path}${unitNote(asVariable(name), asVariable(key))}`).join(", or ")}?`;
  }
  if (elsewhere.length > 0) {
    return `did you mean ${elsewhere.map(({ path, written }) => `${path}, written ${written}`).join(", or ")}?`;
  }
  const part = meantInside(name, all);
  if (part) {
    const { section: s, key } = part.of;
    const written = s.key ? `{"${s.key}": {"${key}": {"${part.key}": …}}}` : `{"${key}": {"${part.key}": …}}`;
    return `that is ${part.key} of ${part.of.path}, written ${written}`;
  }
  if (variable) {
    return `that is the environment variable's name; the file's key is ${variable.path}, written ${variable.written}`;
  }
  // A section's name misspelt, or in other case: its keys are that section's, which another may share (listen).
  const sectionMeant = section.key
    ? []
    : meantKeys(
        name,
        sections.flatMap((s) => (s.key ? [s.key] : [])),
      );
  if (sectionMeant.length > 0) {
    return `did you mean ${sectionMeant.map((key) => `${key}, written {"${key}": {…}}`).join(", or ")}?`;
  }
  // In other words or with a unit, as a variable's name is read (sessionIdleMin, toolTimeoutMs).
  const worded = inOtherWords(
    asVariable(name),
    own.map(({ key }) => asVariable(key)),
  ).flatMap((inWords) => own.filter(({ key }) => asVariable(key) === inWords));
  const wordedSecret = worded.find(({ setting }) => setting.secret);
  if (wordedSecret) return inEnvironment(wordedSecret);
  if (worded.length > 0) {
    return `did you mean ${worded.map(({ path, key }) => `${path}${unitNote(asVariable(name), asVariable(key))}`).join(", or ")}?`;
  }
  const inside = !section.key && typeof value === "object" && value !== null && !Array.isArray(value);
  if (inside && name === "mcpServers") {
    return "that is an MCP client's config, not waiter's: the client reads it, and waiter's settings go in the env of its entry there, or in a file of waiter's own keys (docs/settings.md)";
  }
  const placed = inside
    ? Object.keys(value).flatMap((key) => {
        const found = all.find((c) => c.key === key) ?? all.find(({ setting }) => setting.env === key);
        return found ? [found] : [];
      })
    : [];
  const placedSecret = placed.find(({ setting }) => setting.secret);
  if (placedSecret) return inEnvironment(placedSecret);
  if (placed.length > 0) {
    return `the settings in it go elsewhere: ${placed.map(({ path, written }) => `${path}, written ${written}`).join("; ")}`;
  }
  // A secret's key is left out: it belongs in the environment, not in the file.
  const known = own.filter(({ setting }) => !setting.secret).map(({ key }) => key);
  return section.key ? `${section.key} takes ${known.join(", ")}` : "docs/settings.md lists the settings";
}

/** Whether `key` ends with the words of `name`, as wooUrl does with url. */
function endsWithWord(key: string, name: string): boolean {
  const tail = key.slice(key.length - plainKey(name).length);
  return tail.length < key.length && plainKey(tail) === plainKey(name) && /^[A-Z]/.test(tail);
}

/**
 * The key of a JSON setting's object (webhooks.retention's maxEvents, maxBytes, maxAgeDays) that
 * `name`, a file's key or a variable's name without its prefix, names as a setting of its own: the
 * key itself, one a slip away, or in other words after the setting's (retentionDays, as
 * RETENTION_DAYS). Those keys are the ones of the setting's default, where it takes that as JSON.
 */
function meantInside<Candidate extends { section: Section; key: string; setting: Setting }>(
  name: string,
  candidates: readonly Candidate[],
): { of: Candidate; key: string } | undefined {
  const words = asVariable(name).split("_");
  for (const candidate of candidates) {
    const byDefault = candidate.setting.schema.safeParse(undefined);
    const value: unknown = byDefault.success ? byDefault.data : undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
    // An object parsed from other text (webhooks.listen's host and port) is no JSON to write keys in.
    if (!candidate.setting.schema.safeParse(JSON.stringify(value)).success) continue;
    const keys = Object.keys(value);
    const own = new Set([
      ...asVariable(candidate.section.key ?? "").split("_"),
      ...asVariable(candidate.key).split("_"),
    ]);
    const rest = words.filter((word) => !own.has(word));
    const settingNamed = words.includes(asVariable(candidate.key));
    const [worded, ...others] = settingNamed ? inOtherWords(rest.join("_"), keys.map(asVariable)) : [];
    const key = meantKey(rest.join("_"), keys) ?? keys.find((key) => others.length === 0 && asVariable(key) === worded);
    if (rest.length > 0 && key) return { of: candidate, key };
  }
  return undefined;
}

/** What a JSON setting's string holds, or the value itself. */
function fromJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Variables of the environment that look like a misspelt setting (WAITER_LOGLEVEL,
 * WAITER_WEBHOOK_SOURCES) or name one in other words (WAITER_DB_URL, WAITER_PORT), each with the
 * setting meant: the config file refuses an unknown key, and a variable would otherwise be ignored
 * without a word (WAITER_DB_URL's events kept in SQLite). Only near misses are named (a WAITER_…
 * variable may hold a secret: WAITER_DB_PASSWORD), and never one that the environment or
 * `fileText`, the config file, names (a token's secretEnv: WAITER_HTTP_TOKEN).
 */
function misspeltVariables(env: NodeJS.ProcessEnv, sections: Section[], fileText: string): string[] {
  const known = [
    CONFIG_FILE_ENV,
    ...sections.flatMap((section) => Object.values(section.settings).map((setting) => setting.env)),
  ];
  // Near is judged without the prefix all share: WAITER_DB_URL is no WAITER_CNB_URL.
  const prefix = "WAITER_";
  const settings = known.filter((setting) => setting.startsWith(prefix)).map((setting) => setting.slice(prefix.length));
  const named = new Set([fileText, ...Object.values(env)].join("\n").match(/\w+/g));
  // Windows finds a variable whatever the case of its name: there, waiter_log_level is read as WAITER_LOG_LEVEL.
  const readAsSetting = (name: string) =>
    known.some((setting) => setting.toUpperCase() === name.toUpperCase()) && env[name.toUpperCase()] === env[name];
  // Kubernetes gives a pod WAITER_PORT=tcp://10.96.0.11:8790 for a Service named waiter, as Docker's links did.
  const serviceLink = (name: string) => /^(?:tcp|udp|sctp):\/\/[^/]+:\d+$/.test(env[name] ?? "");
  return Object.keys(env)
    .filter(
      (name) =>
        name.toUpperCase().startsWith(prefix) &&
        !known.includes(name) &&
        !named.has(name) &&
        !readAsSetting(name) &&
        !serviceLink(name),
    )
    .flatMap((name) => {
      // A setting's variable with _FILE or _PATH after it, as Docker's secrets are given to images that read them so.
      const stem = /^(.+)_(?:FILE|PATH)$/.exec(name)?.[1];
      if (stem === CONFIG_FILE_ENV) {
        return [
          `${name} is no setting of waiter's and is ignored; did you mean ${CONFIG_FILE_ENV}, which names the config file?`,
        ];
      }
      if (stem !== undefined && known.includes(stem)) {
        return [`${name} is no setting of waiter's and is ignored: ${NO_FILE}; set ${stem} itself`];
      }
      // A secret set under the name of the setting that names its variable, without the _ENV.
      if (known.includes(`${name}_ENV`)) {
        return [
          `${name} is no setting of waiter's and is ignored; ${name}_ENV names the variable it is read from: set ${name}_ENV=${name}`,
        ];
      }
      const rest = name.slice(prefix.length);
      const misspelt = meantKey(rest, settings);
      const part =
        misspelt === undefined
          ? meantInside(
              rest,
              sections.flatMap((section) =>
                Object.entries(section.settings).map(([key, setting]) => ({
                  section,
                  path: setting.env,
                  key,
                  setting,
                })),
              ),
            )
          : undefined;
      if (part) {
        return [
          `${name} is no setting of waiter's and is ignored; that is ${part.key} of ${part.of.path}, which takes JSON: ${part.of.path}={"${part.key}":…}`,
        ];
      }
      const worded = misspelt ? [misspelt] : inOtherWords(rest, settings);
      const [meant] = worded;
      if (!meant) return [];
      if (worded.length > 1) {
        return [
          `${name} is no setting of waiter's and is ignored; did you mean ${worded.map((each) => `${prefix}${each}`).join(", or ")}?`,
        ];
      }
      // A port or host alone, where WAITER_LISTEN takes both.
      const takes =
        meant === "LISTEN" ? `, which takes host:port (${prefix}LISTEN=127.0.0.1:8790)` : unitNote(rest, meant);
      return [`${name} is no setting of waiter's and is ignored; did you mean ${prefix}${meant}${takes}?`];
    });
}

/**
 * What a setting's name written with a duration or rate in another unit than the setting's (TOOL_TIMEOUT_MS=30000,
 * SESSION_IDLE_SECONDS=600, HTTP_REQUESTS_PER_SEC=10, which would be carried over as they are) is told of `meant`,
 * the setting, both written as its variable is without the prefix; nothing for the same unit or none.
 */
function unitNote(written: string, meant: string): string {
  const unit = written
    .toUpperCase()
    .split("_")
    .map((word) => UNIT_WORDS[word])
    .find((unit) => unit !== undefined);
  // A setting whose name has no unit is in seconds (WAITER_TOOL_TIMEOUT).
  const own = /_MINUTES?$/.test(meant) ? "minutes" : "seconds";
  if (unit === undefined || unit === own) return "";
  return meant.endsWith("_PER_MINUTE")
    ? `, which counts per minute${unit in PER_MINUTE_EXAMPLES ? ` (${PER_MINUTE_EXAMPLES[unit]})` : ""}`
    : `, which is not in ${unit}`;
}

/** A config file's key as its variable writes it, without the prefix: sessionIdleMin is SESSION_IDLE_MIN. */
function asVariable(key: string): string {
  return key.replace(/([a-z\d])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Words an operator may write for a duration's unit, each with the unit. */
const UNIT_WORDS: Record<string, string> = {
  SECONDS: "seconds",
  SECOND: "seconds",
  SECS: "seconds",
  SEC: "seconds",
  MS: "milliseconds",
  MINUTES: "minutes",
  MINUTE: "minutes",
  MINS: "minutes",
  // Not a minimum: no setting of waiter's has one.
  MIN: "minutes",
  HOURS: "hours",
  HOUR: "hours",
};

/** A rate in a unit, as a rate setting per minute would count it (WAITER_HTTP_REQUESTS_PER_SEC=10). */
const PER_MINUTE_EXAMPLES: Record<string, string> = {
  seconds: "10 a second is 600",
  hours: "600 an hour is 10",
};

/** Words an operator may write for a setting's own (WAITER_DB_URL, WAITER_PORT), each with the settings' word. */
const OTHER_WORDS: Record<string, string> = {
  DB: "DATABASE",
  PG: "DATABASE",
  POSTGRES: "DATABASE",
  POSTGRESQL: "DATABASE",
  DSN: "URL",
  URI: "URL",
  PORT: "LISTEN",
  HOST: "LISTEN",
  BIND: "LISTEN",
  ADDRESS: "LISTEN",
  ADDR: "LISTEN",
  STATE: "DATA",
  PATH: "DIR",
  DIRECTORY: "DIR",
  DEBUG: "LOG",
  VERBOSE: "LOG",
  WOOCOMMERCE: "WOO",
  // WooCommerce's words: a consumer key and secret.
  CONSUMER: "",
  // A unit, as some settings' names end in one (WAITER_STOP_SECONDS): WAITER_TOOL_TIMEOUT_SECONDS.
  ...Object.fromEntries(Object.keys(UNIT_WORDS).map((word) => [word, ""])),
};

/**
 * The settings, of `settings` (without the prefix), that `name` names in other words or fewer
 * (DB_URL, PORT, TIMEOUT): the one holding each of its words, or the settings' word for it, in
 * order, with the fewest words left over. One word that several hold and none is (MAX, or
 * WEBHOOKS_MAX after the words each of them begins with) gives each of them, the nearest first:
 * fewer words left over make none likelier. None where several are as near (URL), nor the
 * setting that names a secret's variable (DB_PASSWORD is the secret's own).
 */
function inOtherWords(name: string, settings: readonly string[]): string[] {
  const words = name
    .toUpperCase()
    .split("_")
    .map((word) => OTHER_WORDS[word] ?? word)
    .filter((word, i, all) => word !== "" && word !== all[i - 1]);
  if (words.length === 0) return [];
  const leftOver = settings.map((setting) => {
    const own = setting.split("_");
    let found = 0;
    for (const word of own) if (word === words[found]) found++;
    return found === words.length && !setting.endsWith("_ENV") ? own.length - found : Number.POSITIVE_INFINITY;
  });
  const least = Math.min(...leftOver);
  if (!Number.isFinite(least)) return [];
  const nearest = settings.filter((_, i) => leftOver[i] === least);
  const holding = settings
    .map((setting, i) => ({ setting, left: leftOver[i] ?? Number.POSITIVE_INFINITY }))
    .filter(({ left }) => Number.isFinite(left));
  const lead = words.slice(0, -1);
  const oneWordMore = holding.every(({ setting }) => lead.every((word, i) => setting.split("_")[i] === word));
  if (oneWordMore && least > 0 && holding.length > 1 && nearest.length === 1) {
    return holding.sort((a, b) => a.left - b.left).map(({ setting }) => setting);
  }
  return nearest.length === 1 ? nearest : [];
}

/**
 * Why `path`, a setting's, must be written out whole, with `path` (unless it looks like a
 * credential): waiter resolves no setting's path against the current directory, which an MCP
 * client chooses (often /), and expands no ~ nor $HOME, which a shell would but a client's JSON
 * "env" block passes as written. Only --config, typed in a terminal, may be relative.
 */
function mustBeAbsolute(path: string): string {
  // A long relative path may look like a token too, and is hidden with it: a secret pasted here
  // may hold slashes (base64), so its parts alone do not tell.
  const hidden = credentialShaped(path);
  const given = `must be an absolute path, and ${hidden ? "what it holds" : quote(path)} is not`;
  const why =
    escapedInJson(path) ?? unexpanded(path, "a shell does, and an MCP client starts waiter without one", !hidden);
  return `${given}: ${why ?? `MCP clients start servers from any directory (this one from ${process.cwd()})`}`;
}

/**
 * What JSON made of the single backslashes of a Windows path (C:\new is C:, a line break, ew) in
 * an MCP client's config or waiter's file, and how to write it; undefined for a path without.
 */
function escapedInJson(path: string): string | undefined {
  // A line break at its end is a paste's, as a client's args get one, not a backslash's.
  const controls = [...new Set(path.replace(/[\r\n]+$/, "").match(/[\b\t\n\f\r]/g))].map((c) =>
    JSON.stringify(c).slice(1, -1),
  );
  if (controls.length === 0) return undefined;
  const letters = controls.map((written) => written.slice(1));
  return `it holds ${controls.join(" and ")}, which JSON makes of a single backslash before ${letters.join(" or ")}; write a Windows path in JSON ${WINDOWS_PATH_IN_JSON}`;
}

/**
 * That waiter does not expand the ~ or the variable `path` begins with or holds, as `noShell` says
 * why, with the path written out when `example` allows it; undefined for a path with neither.
 */
function unexpanded(path: string, noShell: string, example: boolean): string | undefined {
  if (path.startsWith("~")) {
    const home = homeIfAny();
    // On Windows with forward slashes, which a JSON file (a client's env, waiter's own) holds as they are.
    const written = (whole: string) => (process.platform === "win32" ? whole.replaceAll("\\", "/") : whole);
    const out =
      home !== undefined && example && /^~([/\\]|$)/.test(path)
        ? `, such as ${written(join(home, path.slice(1)))}`
        : "";
    return `waiter does not expand ~ (${noShell}); write it out${out}`;
  }
  if (/\$\{?\w+\}?|%\w+%/.test(path)) {
    return `waiter does not expand variables such as $HOME (${noShell}); write the path out`;
  }
  return undefined;
}

/** The user's home directory, or undefined where the system names none. */
function homeIfAny(): string | undefined {
  try {
    return homedir();
  } catch {
    // Where HOME is unset and the system knows no home for the user (a container run as a uid of no account).
    return undefined;
  }
}

/**
 * The platform's per-user state directory, never the current one: clients start servers from
 * anywhere. `home` is asked only when the default needs it.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, platform = process.platform, home = homeIfAny): string {
  const under = (...parts: string[]) => {
    const dir = home();
    if (dir === undefined) {
      const unset = platform === "win32" ? "USERPROFILE" : "HOME";
      throw new ConfigError(
        `WAITER_DATA_DIR is not set, and its default is under the home directory, which this user has none of (${unset} is unset, and the system names none): set WAITER_DATA_DIR (dataDir) to an absolute path, where waiter may keep its event store`,
      );
    }
    return join(dir, ...parts);
  };
  if (platform === "win32") return join(env.LOCALAPPDATA || under("AppData", "Local"), "waiter");
  if (platform === "darwin") return under("Library", "Application Support", "waiter");
  // The XDG Base Directory Specification holds a relative path there invalid, to be ignored.
  const state = env.XDG_STATE_HOME;
  return join(state && isAbsolute(state) ? state : under(".local", "state"), "waiter");
}

/** What a message shows instead of a value it must not repeat. */
const HIDDEN = "[not shown]";

/**
 * Every string of the settings as given (keys too, and inside a JSON string) that a message must
 * not repeat: the ones that cannot be echoed, every secret setting's value, and what the variables
 * a …Env key names hold (a password pasted into another setting too).
 */
function hiddenStrings(input: Record<string, unknown>, sections: Section[], env: NodeJS.ProcessEnv): Hidden {
  const hidden = new Set<string>();
  const quotedOnly = new Set<string>();
  // Where a URL goes (a key ending in url), "token@host" is a URL's user, not an email address.
  const walk = (value: unknown, secret: boolean, depth: number, key = "") => {
    if (typeof value === "string") {
      if (secret || !echoable(value) || (/url$/i.test(key) && value.includes("@"))) hidden.add(value);
      if (/^\s*[[{]/.test(value) && depth < 8) {
        try {
          walk(JSON.parse(value), secret, depth + 1);
        } catch {}
      }
    } else if (typeof value === "object" && value !== null && depth < 8) {
      for (const [key, item] of Object.entries(value)) {
        // A key that is a word with blanks around it is hidden where quoted, not in the word shown without them.
        if (!Array.isArray(value)) {
          if (!secret && key !== key.trim() && echoable(key.trim())) quotedOnly.add(key);
          else walk(key, secret, depth + 1);
        }
        if (/Env$/.test(key) && typeof item === "string" && env[item]) hidden.add(env[item]);
        walk(item, secret, depth + 1, key);
      }
    }
  };
  for (const section of sections) {
    const values = (section.key ? input[section.key] : input) as Record<string, unknown> | undefined;
    for (const [name, setting] of Object.entries(section.settings)) {
      if (values?.[name] !== undefined) walk(values[name], setting.secret === true, 0, name);
    }
  }
  return {
    anywhere: [...hidden].filter((s) => s.length > 0).sort((a, b) => b.length - a.length),
    quoted: [...quotedOnly],
  };
}

/** Strings a message must not repeat: anywhere, or only where quoted as JSON quotes them. */
type Hidden = { anywhere: readonly string[]; quoted: readonly string[] };

/**
 * A message about the automations (a refusal at start, a warning) as it may be shown: without the
 * secrets the settings read (a password pasted as an argument), nor a credential-shaped value
 * written in a step (a key pasted as a channel's name), as given or shortened as a message quotes it.
 */
export function shownSafely(config: Pick<Config, "secrets" | "core">, text: string): string {
  const written = new Set<string>();
  const walk = (value: unknown, depth: number) => {
    if (typeof value === "string") {
      if (credentialShaped(value)) written.add(value);
    } else if (typeof value === "object" && value !== null && depth < 8) {
      for (const item of Object.values(value)) walk(item, depth + 1);
    }
  };
  for (const automation of config.core.automations) walk([automation.do, automation.onFailure], 0);
  const hidden = [...(config.secrets ?? []), ...written].flatMap((secret) => [secret, shorten(secret)]);
  return withoutHidden(
    text,
    [...new Set(hidden)].sort((a, b) => b.length - a.length),
  );
}

/** `text` without the hidden strings (quoted anywhere, or plain when long enough not to be a word) and without anything credential-shaped. */
function scrub(text: string, { anywhere, quoted }: Hidden): string {
  const unquoted = quoted.reduce((shown, key) => shown.replaceAll(JSON.stringify(key), `"${HIDDEN}"`), text);
  return (
    withoutHidden(unquoted, anywhere)
      .replace(/[^\s"'`,;()<>]+/g, (token) => (credentialShaped(token) ? HIDDEN : token))
      // Quoted, a key not shown would read as one named "[not shown]".
      .replaceAll(`key "${HIDDEN}"`, `key ${HIDDEN}`)
  );
}

/** `text` without the hidden strings, longest first: quoted anywhere, or plain when long enough not to be a word. */
function withoutHidden(text: string, hidden: readonly string[]): string {
  let shown = text;
  for (const value of hidden) {
    shown = shown.replaceAll(JSON.stringify(value), `"${HIDDEN}"`);
    if (value.length >= 8) shown = shown.replaceAll(value, HIDDEN);
  }
  return shown;
}
