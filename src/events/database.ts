import { z } from "zod";
import { ConfigError } from "../errors.js";
import { envName, envSecret, recordSecret, type Settings, type SettingValues, secretFromEnv } from "../settings.js";

/** Where the event store lives: the "database" section of the config file. Without a URL, the SQLite file. */
export const databaseSettings = {
  url: {
    env: "WAITER_DATABASE_URL",
    description:
      "A postgres:// URL: the event store on that PostgreSQL server, which several waiter servers can share, instead of the SQLite file in dataDir. TLS as libpq names it, the CA in the URL (?sslmode=verify-full&sslrootcert=/path/ca.pem): PGSSLROOTCERT, PGSSLCERT, PGSSLKEY and PGSERVICE are not read, and PGSSLMODE only turns TLS on (verified) or off, or on unverified (no-verify). What the URL leaves out comes from PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD and PGOPTIONS. A password may be in the environment's URL, never in the config file's, its reserved characters percent-encoded (# as %23, / as %2F, ? as %3F, @ as %40, % as %25).",
    schema: z
      .string()
      .superRefine((value, ctx) => {
        const problem = postgresUrlProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
  },
  passwordEnv: {
    env: "WAITER_DATABASE_PASSWORD_ENV",
    description:
      "The environment variable that holds the database password, when it is not PGPASSWORD (which is read too) or in WAITER_DATABASE_URL.",
    schema: envName.optional(),
  },
} satisfies Settings;

/**
 * Why `value` is no postgres:// URL, if it is not. A #, / or ? written as is in the password (or
 * the user) ends it there: the URL then does not parse, or parses without its user, the user and
 * the password's start taken for the host and port, their rest for the path, the query or a
 * fragment (which no postgres:// URL has). Neither the URL nor the password is repeated.
 */
function postgresUrlProblem(value: string): string | undefined {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const postgres = url ? /^postgres(ql)?:$/.test(url.protocol) : /^postgres(ql)?:\/\//i.test(value);
  const withUser = value.includes("@");
  const userCut = url
    ? url.hash !== "" || (withUser && url.username === "" && `${url.pathname}${url.search}`.includes("@"))
    : withUser;
  if (postgres && userCut) {
    return "must be a postgres:// URL, and a #, / or ? in its password ends the password there: percent-encode the password's reserved characters (# as %23, / as %2F, ? as %3F, @ as %40, % as %25), or leave the password out of the URL and set it in PGPASSWORD";
  }
  // No user or query in the example: a message hides anything shaped like a credential.
  return postgres && url ? undefined : "must be a postgres:// URL, such as postgres://db.internal:5432/waiter";
}

export interface DatabaseConfig {
  url?: string;
  password?: string;
  /** Where the password comes from, as a message may name it (never the password itself). */
  passwordFrom?: string;
}

/** Reads the password from the variable passwordEnv names; refuses a password written into the config file. */
export function resolveDatabase(
  values: SettingValues<typeof databaseSettings>,
  env: NodeJS.ProcessEnv,
  origin: (setting: keyof typeof databaseSettings) => string,
): DatabaseConfig {
  const { url, passwordEnv } = values;
  if (url === undefined) return {};
  // The driver takes a password from the query too (?password=…), before the one after the user.
  const parsed = new URL(url);
  const inUrl = Boolean(parsed.password || parsed.searchParams.has("password"));
  if (inUrl && origin("url") !== databaseSettings.url.env) {
    throw new ConfigError(
      `invalid setting ${origin("url")}: it holds a password, which must not be written in a file; put it in PGPASSWORD or in the variable database.passwordEnv names`,
    );
  }
  const urlPassword = parsed.searchParams.get("password") || percentDecoded(parsed.password);
  if (urlPassword) {
    recordSecret({ secret: urlPassword, owner: origin("url"), where: `${origin("url")} (the password in it)` });
  }
  if (passwordEnv === undefined) {
    // The driver reads PGPASSWORD itself; it is checked as every secret waiter reads is.
    if (!inUrl) envSecret(env, "PGPASSWORD");
    return { url, passwordFrom: inUrl ? origin("url") : "PGPASSWORD" };
  }
  const password = secretFromEnv(env, passwordEnv, {
    setting: origin("passwordEnv"),
    owner: origin("passwordEnv"),
    holds: "the database password",
    example: "WAITER_DB_PASSWORD",
  });
  return { url, password, passwordFrom: `${passwordEnv} (the variable ${origin("passwordEnv")} names)` };
}

/** `text` percent-decoded as the driver decodes a URL's password, or as written where it holds a bare %. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The database as a log line may show it: host, port and name, never a user's password. */
export function databaseLabel(url: string): string {
  const { hostname, port, pathname } = new URL(url);
  return `PostgreSQL ${hostname || "(PGHOST)"}${port ? `:${port}` : ""}${pathname.length > 1 ? pathname : ""}`;
}
