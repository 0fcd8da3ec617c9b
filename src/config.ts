import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { LOG_LEVELS } from "./log.js";
import { flag, integer, list, type Setting, type Settings, type SettingValues } from "./settings.js";
import type { Toolset } from "./toolset.js";
import { type SourceConfig, webhookSettings } from "./webhooks/settings.js";

/** The core's settings; each toolset declares its own, under its name in the config file. */
export const coreSettings = {
  dataDir: {
    env: "WAITER_DATA_DIR",
    description:
      "Per-user directory for waiter's state. Default: $XDG_STATE_HOME/waiter (~/.local/state/waiter) on Linux, ~/Library/Application Support/waiter on macOS, %LOCALAPPDATA%\\waiter on Windows.",
    schema: z
      .string()
      .refine(isAbsolute, "must be an absolute path: MCP clients start servers from any directory")
      .optional(),
  },
  logLevel: {
    env: "WAITER_LOG_LEVEL",
    description: `Least severe log level written to stderr and, until the client sets its own, sent to the client: ${LOG_LEVELS.join(", ")}.`,
    schema: z.enum(LOG_LEVELS).default("info"),
  },
  toolsets: {
    env: "WAITER_TOOLSETS",
    description: "Comma-separated toolsets to enable (default: every configured one). Same as --toolsets.",
    schema: list()
      .refine((names) => names.length > 0, "names no toolset; leave it unset to enable every configured one")
      .optional(),
  },
  readOnly: {
    env: "WAITER_READ_ONLY",
    description: "true removes every tool that is not read-only; beats every other setting. Same as --read-only.",
    schema: flag(false),
  },
  toolTimeout: {
    env: "WAITER_TOOL_TIMEOUT",
    description: "Deadline of one tool call in seconds, retries included (1-55; MCP clients give up at 60).",
    schema: integer(20, 1, 55),
  },
  maxResponseBytes: {
    env: "WAITER_MAX_RESPONSE_BYTES",
    description: "Largest upstream answer accepted, in bytes; a larger one fails the call instead of filling memory.",
    schema: integer(5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  },
} satisfies Settings;

/** Where the config file comes from when --config is not given. */
export const CONFIG_FILE_ENV = "WAITER_CONFIG";

export type CoreConfig = SettingValues<typeof coreSettings> & { dataDir: string };

/** A webhook source as configured, with its secret read from the environment. */
export type WebhookSource = SourceConfig & { name: string; secret?: string };

export type WebhooksConfig = Omit<SettingValues<typeof webhookSettings>, "sources"> & { sources: WebhookSource[] };

export interface Config {
  core: CoreConfig;
  webhooks: WebhooksConfig;
  /** Each toolset's parsed settings, by toolset name. */
  toolsets: Record<string, Record<string, unknown>>;
  /** The config file that was read, if any. */
  file?: string;
}

export class ConfigError extends Error {}

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
 * One zod schema, composed of the core's and the toolsets' settings, checks them all.
 */
export function loadConfig(sources: ConfigSources, toolsets: readonly Toolset[]): Config {
  const sections: Section[] = [
    { settings: coreSettings },
    { key: "webhooks", settings: webhookSettings },
    // A toolset without settings has no section: the "webhooks" toolset reads the core's.
    ...toolsets.filter((t) => Object.keys(t.settings).length > 0).map((t) => ({ key: t.name, settings: t.settings })),
  ];
  if (sources.file === "") throw new ConfigError("--config needs a file name");
  const file = sources.file ?? (sources.env[CONFIG_FILE_ENV] || undefined);
  const fromFile = file ? readConfigFile(file) : {};
  checkFileKeys(fromFile, sections, file);

  const input: Record<string, unknown> = {};
  const shape: Record<string, z.ZodType> = {};
  const origins = new Map<string, string>();
  for (const section of sections) {
    const fileValues = (section.key ? fromFile[section.key] : fromFile) as Record<string, unknown> | undefined;
    const values: Record<string, unknown> = {};
    const sectionShape: Record<string, z.ZodType> = {};
    for (const [name, setting] of Object.entries(section.settings)) {
      const path = section.key ? `${section.key}.${name}` : name;
      sectionShape[name] = setting.schema;
      const override = section.key ? undefined : sources.overrides?.[name as keyof typeof coreSettings];
      const envValue = sources.env[setting.env];
      if (override !== undefined) {
        values[name] = override;
        origins.set(path, `${flagName(name)}`);
      } else if (envValue !== undefined && envValue !== "") {
        values[name] = envValue;
        origins.set(path, setting.env);
      } else if (fileValues?.[name] !== undefined) {
        values[name] = fileValues[name];
        origins.set(path, `${path} in ${file}`);
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

  const parsed = interpreted(() => z.object(shape).safeParse(input));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = (issue?.path ?? []).map(String);
    // The setting is the path's first key (core) or first two (a section's); the rest is inside it.
    const depth = sections.some((s) => s.key === keys[0]) ? 2 : 1;
    const settingPath = keys.slice(0, depth).join(".");
    const inside = keys.slice(depth).join(".");
    const setting = (depth === 2 ? sections.find((s) => s.key === keys[0]) : sections[0])?.settings[
      keys[depth - 1] ?? ""
    ];
    const value = keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], input);
    // Only short plain values are echoed: a URL or a JSON string may carry a token.
    const plain = (typeof value === "string" && /^[\w.,:+-]{0,40}$/.test(value)) || typeof value === "number";
    const got = !setting?.secret && plain ? ` (got ${JSON.stringify(value)})` : "";
    const where = `${origins.get(settingPath) ?? settingPath}${inside ? ` at ${inside}` : ""}`;
    throw new ConfigError(`invalid setting ${where}: ${issue?.message}${got}`);
  }
  const data = parsed.data as Record<string, unknown>;
  const core = Object.fromEntries(Object.keys(coreSettings).map((k) => [k, data[k]])) as CoreConfig;
  core.dataDir = core.dataDir ?? defaultDataDir(sources.env);
  const toolsetValues = Object.fromEntries(
    toolsets.map((t) => [t.name, Object.keys(t.settings).length > 0 ? (data[t.name] as Record<string, unknown>) : {}]),
  );
  const webhooks = data.webhooks as SettingValues<typeof webhookSettings>;
  if (webhooks.retention.maxBytes < webhooks.maxBodyBytes) {
    throw new ConfigError(
      `invalid setting ${origins.get("webhooks.retention")}: maxBytes (${webhooks.retention.maxBytes}) is below webhooks.maxBodyBytes (${webhooks.maxBodyBytes}); a single webhook could not be kept`,
    );
  }
  return {
    core,
    webhooks: { ...webhooks, sources: withSecrets(webhooks.sources, sources.env) },
    toolsets: toolsetValues,
    ...(file ? { file } : {}),
  };
}

/** Each signed source's secret, from the variable its secretEnv names; a missing one stops waiter. */
function withSecrets(configured: Record<string, SourceConfig>, env: NodeJS.ProcessEnv): WebhookSource[] {
  return Object.entries(configured).map(([name, source]) => {
    if (source.scheme === "none") return { ...source, name };
    const secret = env[source.secretEnv];
    if (!secret) {
      throw new ConfigError(
        `webhook source ${name}: ${source.secretEnv} is not set; its ${source.scheme} signing secret must be in the environment`,
      );
    }
    return { ...source, name, secret };
  });
}

function flagName(setting: string): string {
  return `--${setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** A typo in the file must not pass silently, and a secret must not be written there. */
function checkFileKeys(fromFile: Record<string, unknown>, sections: Section[], file: string | undefined): void {
  const core = sections[0]?.settings ?? {};
  const sectionKeys = new Map(sections.filter((s) => s.key).map((s) => [s.key as string, s.settings]));
  const check = (settings: Settings, values: Record<string, unknown>, prefix: string) => {
    for (const name of Object.keys(values)) {
      const setting: Setting | undefined = settings[name];
      if (!setting) throw new ConfigError(`unknown setting ${prefix}${name} in config file ${file}`);
      if (setting.secret) {
        throw new ConfigError(
          `${prefix}${name} is a secret: set it in the environment as ${setting.env}, not in config file ${file}`,
        );
      }
    }
  };
  for (const [key, value] of Object.entries(fromFile)) {
    const settings = sectionKeys.get(key);
    if (!settings) {
      check(core, { [key]: value }, "");
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ConfigError(`${key} in config file ${file} must be an object`);
    }
    check(settings, value as Record<string, unknown>, `${key}.`);
  }
}

/** The platform's per-user state directory, never the current one: clients start servers from anywhere. */
export function defaultDataDir(env: NodeJS.ProcessEnv, platform = process.platform, home = homedir()): string {
  if (platform === "win32") return join(env.LOCALAPPDATA || join(home, "AppData", "Local"), "waiter");
  if (platform === "darwin") return join(home, "Library", "Application Support", "waiter");
  return join(env.XDG_STATE_HOME || join(home, ".local", "state"), "waiter");
}

/**
 * Runs a parse on zod's interpreter: a schema read once at start is not worth the parser that
 * zod/compile (imported first in cli.ts) would generate for it, about 7 ms of the cold start.
 */
function interpreted<T>(parse: () => T): T {
  const jitless = z.config().jitless;
  z.config({ jitless: true });
  try {
    return parse();
  } finally {
    z.config({ jitless });
  }
}
