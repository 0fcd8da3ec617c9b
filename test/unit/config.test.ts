import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { defaultDataDir, loadConfig, serveListenNamed } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import {
  checkedPort,
  connectTimeout,
  databaseLabel,
  optionsSearchPath,
  urlSslmode,
} from "../../src/events/database.js";
import { jsonProblem, Secrets, upstreamUrl } from "../../src/settings.js";
import type { Toolset } from "../../src/toolset.js";
import { toolsets } from "../../src/toolsets.js";
import type { WebhooksConfig } from "../../src/webhooks/settings.js";
import { sourceUrl, webhooksOf } from "../../src/webhooks/settings.js";

const shop: Toolset = {
  name: "shop",
  description: "a test toolset",
  settings: {
    url: { env: "TEST_SHOP_URL", description: "base URL", schema: upstreamUrl("https://shop.example/api") },
    key: { env: "TEST_SHOP_KEY", description: "API key", schema: z.string().optional(), secret: true },
  },
  tools: () => [],
};

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "config.json");
  writeFileSync(path, typeof content === "string" || Buffer.isBuffer(content) ? content : JSON.stringify(content));
  return path;
}

const load = (env: NodeJS.ProcessEnv, extra: Partial<Parameters<typeof loadConfig>[0]> = {}) =>
  loadConfig({ env: { HOME: "/home/u", ...env }, ...extra }, [...toolsets(), shop]);

/** The message of the ConfigError `run` throws. */
function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("accepted");
}

describe("sources and precedence", () => {
  test("defaults apply when nothing is set", () => {
    const config = load({});
    expect(config.core).toMatchObject({
      logLevel: "info",
      readOnly: false,
      toolTimeout: 20,
      maxResponseBytes: 5242880,
    });
    expect(config.toolsets.shop?.url).toEqual(new URL("https://shop.example/api"));
  });

  test("the environment beats the file, and flags beat both", () => {
    const path = file({ logLevel: "debug", toolTimeout: 30, shop: { url: "https://file.example/" } });
    const config = load(
      { WAITER_TOOL_TIMEOUT: "10", TEST_SHOP_URL: "https://env.example/", WAITER_READ_ONLY: "false" },
      { file: path, overrides: { readOnly: true } },
    );
    expect(config.core).toMatchObject({ logLevel: "debug", toolTimeout: 10, readOnly: true });
    expect(String(config.toolsets.shop?.url)).toBe("https://env.example/");
    expect(config.file).toBe(path);
  });

  test("WAITER_CONFIG names the file when --config does not", () => {
    const path = file({ toolsets: ["shop"] });
    expect(load({ WAITER_CONFIG: path }).core.toolsets).toEqual(["shop"]);
  });

  test("WAITER_CONFIG must be an absolute path, as a client's working directory is often /; --config may be relative", () => {
    const path = file({ toolsets: ["shop"] });
    expect(messageOf(() => load({ WAITER_CONFIG: "configs/waiter.json" }))).toBe(
      `invalid setting WAITER_CONFIG: must be an absolute path, and "configs/waiter.json" is not: MCP clients start servers from any directory (this one from ${process.cwd()}); in a terminal, --config takes a path relative to the current directory`,
    );
    expect(messageOf(() => load({ WAITER_CONFIG: "~/waiter.json" }))).toMatch(
      /^invalid setting WAITER_CONFIG: must be an absolute path, and "~\/waiter.json" is not: waiter does not expand ~/,
    );
    expect(load({}, { file: relative(process.cwd(), path) }).core.toolsets).toEqual(["shop"]);
    // --config beats WAITER_CONFIG, which is then not read at all.
    expect(load({ WAITER_CONFIG: "waiter.json" }, { file: path }).core.toolsets).toEqual(["shop"]);
  });

  test("a file WAITER_CONFIG names that --config beats is said to be unread, as a file's key a variable beats is", () => {
    const path = file({ toolsets: ["shop"] });
    const other = file({ toolsets: ["currency"] });
    const config = load({ WAITER_CONFIG: other }, { file: path });
    expect(config.core.toolsets).toEqual(["shop"]);
    expect(config.notices).toEqual([`config file ${other}, which WAITER_CONFIG names, is not read: --config beats it`]);
    // The same file, named either way, goes unsaid.
    expect(load({ WAITER_CONFIG: path }, { file: relative(process.cwd(), path) }).notices).toEqual([]);
  });

  test("a WAITER_CONFIG that --config beats neither stops the start, as it is not read, nor has a token-like value shown", () => {
    const path = file({ toolsets: ["shop"] });
    // Left as written by docker run --env-file, or a client that replaces no placeholder: --config is the way around it.
    for (const written of ['"/etc/waiter.json"', `\${HOME}/waiter.json`]) {
      expect(load({ WAITER_CONFIG: written }, { file: path }).notices).toEqual([
        `config file ${written}, which WAITER_CONFIG names, is not read: --config beats it`,
      ]);
    }
    const token = "ghp_0123456789abcdefABCDEF0123456789abcd";
    expect(load({ WAITER_CONFIG: token }, { file: path }).notices).toEqual([
      "the config file WAITER_CONFIG names is not read: --config beats it",
    ]);
  });

  test("--config with a ~ or a $HOME that nothing expanded (--config=~/…, a client's args) says so when no such file is", () => {
    const noShell = "(a shell does, but not after --config=, and an MCP client starts waiter without one)";
    expect(messageOf(() => load({}, { file: "~/waiter.json" }))).toBe(
      `cannot read config file ~/waiter.json (from ${process.cwd()}): ENOENT, there is no such file: waiter does not expand ~ ${noShell}; write it out, such as ${join(homedir(), "waiter.json")}`,
    );
    expect(messageOf(() => load({}, { file: "$HOME/waiter.json" }))).toBe(
      `cannot read config file $HOME/waiter.json (from ${process.cwd()}): ENOENT, there is no such file: waiter does not expand variables such as $HOME ${noShell}; write the path out`,
    );
  });

  test("a variable of blanks only counts as unset, as an empty one does, for every kind of setting and for secrets", () => {
    const path = file({ toolTimeout: 30, toolsets: ["shop"], readOnly: true, shop: { url: "https://file.example/" } });
    const names = ["WAITER_TOOL_TIMEOUT", "WAITER_TOOLSETS", "WAITER_READ_ONLY", "TEST_SHOP_URL", "TEST_SHOP_KEY"];
    // What was read, and where from.
    const read = ({ origin, named, given, ...values }: ReturnType<typeof load>) => ({
      ...values,
      timeoutFrom: origin("toolTimeout"),
      timeoutNamed: named("toolTimeout"),
    });
    const empty = read(load(Object.fromEntries(names.map((name) => [name, ""])), { file: path }));
    expect(empty.core).toMatchObject({ toolTimeout: 30, toolsets: ["shop"], readOnly: true });
    expect(empty.timeoutFrom).toBe(`toolTimeout in ${path}`);
    for (const blanks of [" ", " \t", "\r\n"]) {
      const env = Object.fromEntries(names.map((name) => [name, blanks]));
      expect(read(load(env, { file: path })), JSON.stringify(blanks)).toEqual(empty);
      expect(read(load({ WAITER_WEBHOOKS_MAX_BODY_BYTES: blanks, WAITER_CONFIG: blanks }))).toEqual(read(load({})));
    }
  });

  test("a setting to change is named where it was given, as what gave it beats the rest; one given nowhere by its key and its variable", () => {
    const path = file({ toolTimeout: 30, weather: { provider: "met" } });
    const fromFile = load({}, { file: path });
    expect(fromFile.named("toolTimeout")).toBe(`toolTimeout in ${path}`);
    expect(fromFile.named("weather.provider" as never)).toBe(`weather.provider in ${path}`);
    // Set in the file as well, the variable beats it: the file's key would change nothing.
    const fromVariable = load({ WAITER_TOOL_TIMEOUT: "10", WAITER_WEATHER_PROVIDER: "met" }, { file: path });
    expect(fromVariable.named("toolTimeout")).toBe("WAITER_TOOL_TIMEOUT");
    expect(fromVariable.named("weather.provider" as never)).toBe("WAITER_WEATHER_PROVIDER");
    expect(load({}, { overrides: { listen: "127.0.0.1:9000" } }).named("listen")).toBe("--listen");
    const nowhere = load({});
    expect(nowhere.named("toolTimeout")).toBe("WAITER_TOOL_TIMEOUT (toolTimeout)");
    expect(nowhere.named("weather.provider" as never)).toBe("weather.provider (WAITER_WEATHER_PROVIDER)");
  });

  test("the address waiter serve binds is named where it was given; given nowhere, by its flag, its variable and its key in the config file", () => {
    expect(serveListenNamed(load({}))).toBe("--listen (WAITER_LISTEN, listen in the config file)");
    expect(serveListenNamed(load({ WAITER_WEBHOOKS_LISTEN: "127.0.0.1:9000" }))).toBe("WAITER_WEBHOOKS_LISTEN");
    const path = file({ listen: "127.0.0.1:9000" });
    expect(serveListenNamed(load({}, { file: path }))).toBe(`listen in ${path}`);
  });

  test("blanks around a variable's value (a line break kept from an env file saved with Windows line endings) are not part of it", () => {
    const env = {
      WAITER_DATA_DIR: "/srv/waiter\r",
      WAITER_LOG_LEVEL: " debug\r",
      WAITER_LISTEN: "127.0.0.1:8080\r",
      WAITER_WEBHOOKS_LISTEN: " 0.0.0.0:9000 ",
      WAITER_CURRENCY_SOURCE: "cnb\r",
    };
    const config = load(env);
    expect(config.core).toMatchObject({
      dataDir: "/srv/waiter",
      logLevel: "debug",
      listen: { host: "127.0.0.1", port: 8080 },
    });
    expect(webhooksOf(config).listen).toEqual({ host: "0.0.0.0", port: 9000 });
    expect(config.toolsets.currency?.source).toBe("cnb");
    const path = file({ toolsets: ["shop"] });
    expect(load({ WAITER_CONFIG: `${path}\r` }).core.toolsets).toEqual(["shop"]);
  });

  test("a variable's value in quotes, as docker run --env-file and Windows cmd's set keep them, stops waiter naming the quotes, never shown bare", () => {
    const quotes =
      'is in quotes, which are part of its value: docker run --env-file keeps them, as does set NAME="value" in Windows cmd (a POSIX shell, PowerShell, systemd\'s EnvironmentFile and Compose\'s env_file take them off); remove them, and in cmd write set "NAME=value"';
    const cases: [NodeJS.ProcessEnv, string][] = [
      // cmd's set WAITER_DATA_DIR="C:\waiter data" keeps the quotes, which a path with a space seems to need.
      [{ WAITER_DATA_DIR: '"C:\\waiter data"' }, `invalid setting WAITER_DATA_DIR: ${quotes}`],
      [{ WAITER_LOG_LEVEL: '"debug"' }, `invalid setting WAITER_LOG_LEVEL: ${quotes}`],
      [{ WAITER_READ_ONLY: "'true'" }, `invalid setting WAITER_READ_ONLY: ${quotes}`],
      [{ WAITER_DATA_DIR: '"/srv/waiter"\r' }, `invalid setting WAITER_DATA_DIR: ${quotes}`],
      [{ WAITER_CONTACT: '"it@company.example"' }, `invalid setting WAITER_CONTACT: ${quotes}`],
      [{ WAITER_CONFIG: `'${file({})}'` }, `invalid setting WAITER_CONFIG: ${quotes}`],
      [
        { WAITER_WEBHOOKS_SOURCES: `'${JSON.stringify({ stripe: { scheme: "stripe", secretEnv: "S" } })}'` },
        `invalid setting WAITER_WEBHOOKS_SOURCES: ${quotes}`,
      ],
      [
        {
          WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
          OPS_TOKEN: `"${"0123456789abcdef".repeat(4)}"`,
        },
        `http token ops: OPS_TOKEN ${quotes}`,
      ],
      [{ WAITER_WOO_SECRET: "'cs_52428c91b453307f688eea274d4d339657470e79'" }, `WAITER_WOO_SECRET ${quotes}`],
    ];
    for (const [env, message] of cases)
      expect(
        messageOf(() => load(env)),
        JSON.stringify(env),
      ).toBe(message);
    // A quote inside a value, or at one end only, is the value's own.
    const tokens = JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]);
    const token = `"${"0123456789abcdef".repeat(4)}`;
    expect(load({ WAITER_HTTP_TOKENS: tokens, OPS_TOKEN: token }).http.tokens).toMatchObject([{ secret: token }]);
  });

  test(`a value that is a \${NAME} left as written, by an env file or an MCP client, stops waiter saying nothing replaced it, never showing a default`, () => {
    // docs/compose.yml's raw env_file, systemd's EnvironmentFile and docker run --env-file replace none.
    const left = (placeholder: string) =>
      `is ${placeholder}, a placeholder for a variable's value that nothing replaced: systemd's EnvironmentFile, docker run --env-file, a raw env_file (format: raw) and some MCP clients replace none, Claude Code none whose variable is unset where it runs, and only VS Code asks for an \${input:…}; write the value itself, or set the variable where the client starts`;
    const stripe = JSON.stringify({ stripe: { scheme: "stripe", secretEnv: "STRIPE_WEBHOOK_SECRET" } });
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ WAITER_CONTACT: `\${WAITER_CONTACT}` }, `invalid setting WAITER_CONTACT: ${left(`\${WAITER_CONTACT}`)}`],
      [{ WAITER_DATA_DIR: `\${env:WAITER_DATA}` }, `invalid setting WAITER_DATA_DIR: ${left(`\${env:WAITER_DATA}`)}`],
      [
        { WAITER_WOO_URL: "https://shop.example", WAITER_WOO_KEY: "ck_1", WAITER_WOO_SECRET: `\${input:woo-secret}` },
        `WAITER_WOO_SECRET ${left(`\${input:woo-secret}`)}`,
      ],
      // A default written after :- may be the secret itself: only the variable's name is said.
      [
        {
          WAITER_WEBHOOKS_SOURCES: stripe,
          STRIPE_WEBHOOK_SECRET: `\${STRIPE_SECRET:-whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}`,
        },
        `webhook source stripe: STRIPE_WEBHOOK_SECRET ${left(`\${STRIPE_SECRET}`)}`,
      ],
    ];
    for (const [env, message] of cases)
      expect(
        messageOf(() => load(env)),
        JSON.stringify(env),
      ).toBe(message);
    // A $ or a ${ inside a value is the value's own.
    const secret = `whsec_\${MfKQ9r8GKYqr}TwjUPD8ILPZIo2$LaLaSw`;
    expect(
      webhooksOf(load({ WAITER_WEBHOOKS_SOURCES: stripe, STRIPE_WEBHOOK_SECRET: secret })).sources[0]?.secrets,
    ).toEqual([secret]);
  });

  test(`a \${NAME} left as written inside a URL or a path stops waiter, naming none in a password or a query's value`, () => {
    const left = (placeholder: string) =>
      `${placeholder}, a placeholder for a variable's value that nothing replaced: systemd's EnvironmentFile, docker run --env-file, a raw env_file (format: raw) and some MCP clients replace none, Claude Code none whose variable is unset where it runs, and only VS Code asks for an \${input:…}; write the value itself, or set the variable where the client starts`;
    // What it holds there may be the password or the key itself: it is not shown.
    const unshown = (name: string) => left(`its ${name} holds \${…} (if the ${name}'s own, write its $ as %24)`);
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ WAITER_WOO_URL: `https://\${SHOP}.example/` }, `invalid setting WAITER_WOO_URL: holds ${left(`\${SHOP}`)}`],
      [{ WAITER_DATA_DIR: `\${HOME}/waiter` }, `invalid setting WAITER_DATA_DIR: holds ${left(`\${HOME}`)}`],
      [
        { WAITER_DATABASE_URL: `postgres://\${env:DB_USER}@db/waiter` },
        `invalid setting WAITER_DATABASE_URL: holds ${left(`\${env:DB_USER}`)}`,
      ],
      ...[`\${abc}`, `\${PASS:-hunter2hunter2}`, `pa\${ss}word`, `\${PASS}word`].flatMap(
        (password): [NodeJS.ProcessEnv, string][] => [
          [
            { WAITER_DATABASE_URL: `postgres://waiter:${password}@db/waiter` },
            `invalid setting WAITER_DATABASE_URL: ${unshown("password")}`,
          ],
          [
            { WAITER_DATABASE_URL: `postgres://db/waiter?user=waiter&password=${password}` },
            `invalid setting WAITER_DATABASE_URL: ${unshown("password")}`,
          ],
        ],
      ),
      [
        { WAITER_FRANKFURTER_URL: `https://rates.example/v1?token=\${TOKEN}` },
        `invalid setting WAITER_FRANKFURTER_URL: ${unshown("token")}`,
      ],
      [
        { WAITER_FRANKFURTER_URL: `https://rates.example/v1?base=\${BASE}EUR` },
        `invalid setting WAITER_FRANKFURTER_URL: ${unshown("base")}`,
      ],
    ];
    for (const [env, message] of cases)
      expect(
        messageOf(() => load(env)),
        JSON.stringify(env),
      ).toBe(message);
    // A password or a key of its own holding ${ is written with its $ percent-encoded, as a URL takes it.
    const password = "pa%24%7Bss%7Dword";
    for (const url of [`postgres://waiter:${password}@db/waiter`, `postgres://db/waiter?password=${password}`]) {
      expect(load({ WAITER_DATABASE_URL: url }).database.url, url).toBe(url);
    }
    const keyed = `https://rates.example/v1?token=${password}`;
    expect(String(load({ WAITER_FRANKFURTER_URL: keyed }).toolsets.currency?.frankfurterUrl)).toBe(keyed);
    // A query's names, a query left whole to a variable, or the fragment after it: a ${ there is named.
    for (const query of [`\${QUERY}`, `\${QUERY}=1`, `base=EUR&\${QUERY}`, `base=EUR#\${QUERY}`]) {
      expect(messageOf(() => load({ WAITER_FRANKFURTER_URL: `https://rates.example/v1?${query}` }))).toBe(
        `invalid setting WAITER_FRANKFURTER_URL: holds ${left(`\${QUERY}`)}`,
      );
    }
    expect(load({ WAITER_OPEN_METEO_API_KEY: `k\${EY}` }).toolsets.weather?.openMeteoApiKey).toBe(`k\${EY}`);
  });

  test("a key of the config file that a variable or a flag beats is said to be unread, as the image's own WAITER_LISTEN beats listen", () => {
    const path = file({ listen: "0.0.0.0:9000", dataDir: "/srv/waiter", weather: { contact: "it@example.com" } });
    const image = { WAITER_LISTEN: "0.0.0.0:8790", WAITER_DATA_DIR: "/data" };
    const config = load(image, { file: path });
    expect(config.core.listen).toEqual({ host: "0.0.0.0", port: 8790 });
    expect(config.notices).toEqual([
      `dataDir in ${path} is not read: WAITER_DATA_DIR beats it`,
      `listen in ${path} is not read: WAITER_LISTEN beats it`,
    ]);
    expect(load(image, { file: path, overrides: { listen: "127.0.0.1:9001" } }).notices).toContain(
      `listen in ${path} is not read: --listen beats it`,
    );
    expect(load({}, { file: path }).notices).toEqual([]);
  });

  test("a variable that a flag beats with another value is said to be unread, as the image's WAITER_LISTEN under serve --listen", () => {
    const image = { WAITER_LISTEN: "0.0.0.0:8790", WAITER_TOOLSETS: "currency,weather" };
    const config = load(image, { overrides: { listen: "0.0.0.0:9000", toolsets: "currency" } });
    expect(config.core.listen).toEqual({ host: "0.0.0.0", port: 9000 });
    expect(config.notices).toEqual([
      "WAITER_TOOLSETS is not read: --toolsets beats it",
      "WAITER_LISTEN is not read: --listen beats it",
    ]);
    expect(load(image, { overrides: { listen: "0.0.0.0:8790", toolsets: "currency, weather" } }).notices).toEqual([]);
  });

  test("a key of the config file that a variable gives the same value goes unsaid, as the image's own WAITER_DATA_DIR=/data", () => {
    const path = file({ listen: "0.0.0.0:8790", dataDir: "/data", webhooks: { listen: "0.0.0.0:8790" } });
    const image = { WAITER_LISTEN: "0.0.0.0:8790 ", WAITER_WEBHOOKS_LISTEN: "0.0.0.0:8790", WAITER_DATA_DIR: "/data" };
    expect(load(image, { file: path }).notices).toEqual([]);
    expect(load({ ...image, WAITER_DATA_DIR: "/srv" }, { file: path }).notices).toEqual([
      `dataDir in ${path} is not read: WAITER_DATA_DIR beats it`,
    ]);
  });

  test(`a \${NAME} in the config file, which waiter replaces no more than an env file does, stops waiter naming it`, () => {
    const replacesNone =
      "a placeholder for a variable's value, which waiter does not replace in its config file: write the value itself";
    const shop = file({ eshop: { wooUrl: `https://\${SHOP}.example/` } });
    expect(messageOf(() => load({ WAITER_WOO_KEY: "ck_1", WAITER_WOO_SECRET: "cs_1" }, { file: shop }))).toBe(
      `invalid setting eshop.wooUrl in ${shop}: holds \${SHOP}, ${replacesNone}`,
    );
    const contact = file({ weather: { contact: `\${CONTACT:-it@example.com}` } });
    expect(messageOf(() => load({}, { file: contact }))).toBe(
      `invalid setting weather.contact in ${contact}: is \${CONTACT}, ${replacesNone}`,
    );
    // A password, placeholder or not, goes in the environment, not in the file.
    const database = file({ database: { url: `postgres://waiter:\${PASS}@db/waiter` } });
    expect(messageOf(() => load({}, { file: database }))).toBe(
      `invalid setting database.url in ${database}: it holds a password, which must not be written in a file; put it in PGPASSWORD or in the variable database.passwordEnv names`,
    );
    // A variable's value beats the file's, which is then not read.
    expect(load({ WAITER_CONTACT: "it@example.com" }, { file: contact }).toolsets.weather?.contact).toBe(
      "it@example.com",
    );
  });

  test("a comment after a variable's value, which an env file keeps as part of it, stops waiter naming the comment", () => {
    const comment =
      "holds a comment after its value (a # with a blank beside it), which systemd's EnvironmentFile and docker run --env-file keep as part of it; put the comment on a line of its own";
    const cases: NodeJS.ProcessEnv[] = [
      { WAITER_LOG_LEVEL: "debug # more lines while we set it up" },
      { WAITER_TOOL_TIMEOUT: "30\t# seconds" },
      { WAITER_CONTACT: '"it@company.example" # MET Norway asks for one' },
      { WAITER_DATA_DIR: "/srv/waiter # the volume" },
      // What systemd makes of KEY="value" # comment: the quotes gone, and the blanks before the #.
      { WAITER_CONTACT: "it@company.example# MET Norway asks for one" },
    ];
    for (const env of cases) {
      const [variable = ""] = Object.keys(env);
      expect(
        messageOf(() => load(env)),
        variable,
      ).toBe(`invalid setting ${variable}: ${comment}`);
    }
    // A # with no blank before it is the value's own; after a JSON setting's JSON, it is said as JSON's.
    expect(load({ WAITER_DATA_DIR: "/srv/waiter#2" }).core.dataDir).toBe("/srv/waiter#2");
    // So is one inside a path, in a folder's name (C# Projects, as Visual Studio and Rider users keep them): a comment ends no path.
    expect(load({ WAITER_DATA_DIR: "/home/jana/C# Projects/waiter-data" }).core.dataDir).toBe(
      "/home/jana/C# Projects/waiter-data",
    );
    const projects = join(mkdtempSync(join(tmpdir(), "waiter-config-")), "C# Projects");
    mkdirSync(projects);
    writeFileSync(join(projects, "waiter.json"), JSON.stringify({ logLevel: "debug" }));
    expect(load({ WAITER_CONFIG: join(projects, "waiter.json") }).core.logLevel).toBe("debug");
    expect(load({ WAITER_DATA_DIR: "/srv/waiter #2/data" }).core.dataDir).toBe("/srv/waiter #2/data");
    expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: '{"maxEvents": 10} # keep few' }))).toMatch(
      /^invalid setting WAITER_WEBHOOKS_RETENTION: is not valid JSON: .*: a comment, which JSON does not allow; remove it$/,
    );
  });

  test("blanks around a value in the config file are no part of it either, as in a variable", () => {
    const path = file({
      dataDir: "/srv/waiter ",
      logLevel: " debug",
      currency: { source: "cnb\t" },
      listen: "127.0.0.1:8080 ",
    });
    const config = load({}, { file: path });
    expect(config.core).toMatchObject({
      dataDir: "/srv/waiter",
      logLevel: "debug",
      listen: { host: "127.0.0.1", port: 8080 },
    });
    expect(config.toolsets.currency?.source).toBe("cnb");
  });

  test("a setting that is one of a few words takes them in any case, as a true or false does: INFO, CNB, Basic, MET", () => {
    const config = load({
      WAITER_LOG_LEVEL: "INFO",
      WAITER_CURRENCY_SOURCE: "CNB",
      WAITER_WOO_AUTH: "Basic",
      WAITER_WEATHER_PROVIDER: "Open-Meteo",
    });
    expect(config.core.logLevel).toBe("info");
    expect(config.toolsets.currency?.source).toBe("cnb");
    expect(config.toolsets.eshop?.wooAuth).toBe("basic");
    expect(config.toolsets.weather?.provider).toBe("open-meteo");
    expect(load({}, { file: file({ logLevel: "Debug" }) }).core.logLevel).toBe("debug");
    // A word that is none of them is quoted back as given.
    expect(messageOf(() => load({ WAITER_LOG_LEVEL: "LOUD" }))).toBe(
      'invalid setting WAITER_LOG_LEVEL: expected one of debug, info, notice, warning, error (got "LOUD")',
    );
  });

  test("a notification channel's words are taken in any case too: Telegram's MarkdownV2, STARTTLS", () => {
    const channels = load({
      T: "123:abc",
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: { type: "telegram", botTokenEnv: "T", chatIds: ["1"], format: "MarkdownV2" },
        office: { type: "email", host: "smtp.example.com", tls: "STARTTLS", from: "a@b.cz", to: ["c@d.cz"] },
      }),
    }).toolsets.notify?.channels;
    expect(channels).toMatchObject([{ format: "markdownv2" }, { tls: "starttls" }]);
  });

  test("a webhook source's scheme and encoding, and a channel's type, are taken in any case too: Stripe, HMAC-SHA256, Base64", () => {
    const config = load({
      S: "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG",
      E: "erp-webhook-secret",
      G: "github-webhook-secret",
      T: "123:abc",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({
        stripe: { scheme: "Stripe", secretEnv: "S" },
        erp: { scheme: "HMAC-SHA256", secretEnv: "E", header: "X-Signature", encoding: "\tBase64" },
        // Blanks around a word are no part of it, as around any value.
        gh: { scheme: "github ", secretEnv: "G" },
      }),
      WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: { type: "Telegram", botTokenEnv: "T", chatIds: ["1"] } }),
    });
    expect((config.toolsets.webhooks as WebhooksConfig).sources).toMatchObject([
      { name: "stripe", scheme: "stripe" },
      { name: "erp", scheme: "hmac-sha256", encoding: "base64" },
      { name: "gh", scheme: "github" },
    ]);
    expect(config.toolsets.notify?.channels).toMatchObject([{ name: "team", type: "telegram" }]);
  });

  test("lists come comma-separated from the environment", () => {
    expect(load({ WAITER_TOOLSETS: "currency, shop" }).core.toolsets).toEqual(["currency", "shop"]);
  });

  test("a list in the config file with an item that is no string says so, not in the schema's words", () => {
    for (const [content, holding] of [
      ['{"tools": ["currency_convert", 5]}', "a number"],
      ['{"excludeTools": [null]}', "null"],
      ['{"toolsets": [["currency"]]}', "a list"],
    ] as const) {
      const path = file(content);
      const key = Object.keys(JSON.parse(content))[0];
      expect(messageOf(() => load({}, { file: path }))).toBe(
        `invalid setting ${key} in ${path}: expected a list of strings, got one holding ${holding}`,
      );
    }
  });

  test("a number inside a JSON setting past its bounds is said in waiter's words, not the schema's", () => {
    const retention = file({ webhooks: { retention: { maxAgeDays: 0 } } });
    expect(messageOf(() => load({}, { file: retention }))).toBe(
      `invalid setting webhooks.retention in ${retention} at maxAgeDays: must be more than 0`,
    );
    const channel = (fields: object) => ({
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        office: { type: "email", host: "smtp.example.cz", from: "w@example.cz", to: ["b@example.cz"], ...fields },
      }),
    });
    expect(messageOf(() => load(channel({ port: 70000 })))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at office.port: must be at most 65535 (got 70000)",
    );
    expect(messageOf(() => load(channel({ port: 0 })))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at office.port: must be at least 1 (got 0)",
    );
  });

  test("every unknown key of a JSON setting is named, not the first alone", () => {
    expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: '{"maxEvent": 5, "maxByte": 2000000}' }))).toBe(
      'invalid setting WAITER_WEBHOOKS_RETENTION: unknown key "maxEvent" (did you mean maxEvents?); unknown key "maxByte" (did you mean maxBytes?)',
    );
  });

  test("an unknown key of the retention is named with the key meant, as other settings' are", () => {
    const path = file({ webhooks: { retention: { maxevents: 5000 } } });
    expect(messageOf(() => load({}, { file: path }))).toBe(
      `invalid setting webhooks.retention in ${path}: unknown key "maxevents" (did you mean maxEvents?)`,
    );
    expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: '{"days": 30}' }))).toBe(
      'invalid setting WAITER_WEBHOOKS_RETENTION: unknown key "days" (the retention takes maxEvents, maxBytes, maxAgeDays)',
    );
  });

  test("a key written with a stray blank, which the refusal does not show, is told which blank to take out", () => {
    const retention = (key: string) =>
      messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: `{${JSON.stringify(key)}: 30}` }));
    expect(retention(" maxAgeDays")).toBe(
      'invalid setting WAITER_WEBHOOKS_RETENTION: unknown key [not shown]: a space before it makes it another key; write "maxAgeDays" alone',
    );
    expect(retention("maxAgeDays\t")).toBe(
      'invalid setting WAITER_WEBHOOKS_RETENTION: unknown key [not shown]: a tab after it makes it another key; write "maxAgeDays" alone',
    );
    expect(retention(" maxagedays ")).toBe(
      'invalid setting WAITER_WEBHOOKS_RETENTION: unknown key [not shown]: a space before it and a space after it make it another key; write "maxAgeDays" alone',
    );
    // A key shaped like a credential is not shown either, and not as if it were named "[not shown]".
    expect(retention("ghp_abcdefghijklmnopqrstuvwxyz0123456789")).toBe(
      "invalid setting WAITER_WEBHOOKS_RETENTION: unknown key [not shown] (the retention takes maxEvents, maxBytes, maxAgeDays)",
    );
    // A notification channel's keys alike, its TLS mode's too.
    const channel = (fields: object) =>
      messageOf(() =>
        load({
          TELEGRAM_BOT_TOKEN: "1:a",
          WAITER_NOTIFY_CHANNELS: JSON.stringify({
            ops: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [1], ...fields },
          }),
        }),
      );
    expect(channel({ " chatIds": [2] })).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at ops: unknown key [not shown]: a space before it makes it another key; write "chatIds" alone',
    );
    expect(channel({ "topicId ": 5 })).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at ops: unknown key [not shown]: a space after it makes it another key; write "topicId" alone',
    );
    expect(
      messageOf(() =>
        load({
          WAITER_NOTIFY_CHANNELS: JSON.stringify({
            mail: { type: "email", host: "smtp.example.cz", from: "w@example.cz", to: ["b@example.cz"], "tls ": "tls" },
          }),
        }),
      ),
    ).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at mail: unknown key [not shown]: a space after it makes it another key; write "tls" alone',
    );
  });

  test("a key with a stray blank hides no other key's mention of the key it is meant to be", () => {
    const channel = (fields: object) =>
      messageOf(() =>
        load({
          TELEGRAM_BOT_TOKEN: "1:a",
          WAITER_NOTIFY_CHANNELS: JSON.stringify({
            ops: { type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [1], ...fields },
          }),
        }),
      );
    expect(channel({ " chatIds": [2], colour: "red" })).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at ops: unknown key [not shown]: a space before it makes it another key; write "chatIds" alone; unknown key "colour" (a telegram channel takes type, botTokenEnv, chatIds, format, topicId, baseUrl)',
    );
  });

  test("an unknown toolset is named with where it was given", () => {
    const path = file({ toolsets: ["Wether"] });
    expect(() => load({}, { file: path })).toThrow(`unknown toolset 'Wether' in toolsets in ${path} (known: `);
    expect(() => load({ WAITER_TOOLSETS: "wether" })).toThrow("unknown toolset 'wether' in WAITER_TOOLSETS (known: ");
  });

  test("an unknown toolset near a known one is told the one it likely meant", () => {
    const known = "(known: events, webhooks, currency, weather, eshop, notify, automations, shop)";
    expect(messageOf(() => load({ WAITER_TOOLSETS: "currency,e-shop" }))).toBe(
      `unknown toolset 'e-shop' in WAITER_TOOLSETS ${known}; did you mean eshop?`,
    );
    expect(messageOf(() => load({ WAITER_TOOLSETS: "currencies" }))).toBe(
      `unknown toolset 'currencies' in WAITER_TOOLSETS ${known}; did you mean currency?`,
    );
    const path = file({ toolsets: ["Notifications"] });
    expect(messageOf(() => load({}, { file: path }))).toBe(
      `unknown toolset 'Notifications' in toolsets in ${path} ${known}; did you mean notify?`,
    );
    // None near: the known ones alone.
    expect(messageOf(() => load({ WAITER_TOOLSETS: "telegram" }))).toBe(
      `unknown toolset 'telegram' in WAITER_TOOLSETS ${known}`,
    );
  });

  test("a token's toolset near a known one is told the one it likely meant, as the settings' toolsets are", () => {
    const token = (toolsets: string[]) =>
      messageOf(() =>
        load({
          WAITER_HTTP_TOKENS: JSON.stringify([{ name: "rates", secretEnv: "RATES_TOKEN", scope: "read", toolsets }]),
          RATES_TOKEN: "0123456789abcdef".repeat(4),
        }),
      );
    const known = "(they are: events, webhooks, currency, weather, eshop, notify, automations, shop)";
    expect(token(["curency"])).toBe(
      `invalid setting WAITER_HTTP_TOKENS at rates.toolsets: no toolset is named "curency" ${known}; did you mean currency?`,
    );
    expect(token(["Notifications"])).toBe(
      `invalid setting WAITER_HTTP_TOKENS at rates.toolsets: no toolset is named "Notifications" ${known}; did you mean notify?`,
    );
    expect(token(["telegram"])).toBe(
      `invalid setting WAITER_HTTP_TOKENS at rates.toolsets: no toolset is named "telegram" ${known}`,
    );
  });

  test("a tool's name where toolsets are listed is told where tools go", () => {
    expect(messageOf(() => load({ WAITER_TOOLSETS: "currency_convert" }))).toMatch(
      /^unknown toolset 'currency_convert' in WAITER_TOOLSETS \(known: [^)]*\): currency_convert is named like toolset currency's tools, and --tools \(WAITER_TOOLS, tools in the config file\) chooses tools$/,
    );
    // The toolsets' tools are not known before the settings are read: a name of no tool is not called one.
    expect(messageOf(() => load({ WAITER_TOOLSETS: "eshop_foo" }))).toMatch(
      /\): eshop_foo is named like toolset eshop's tools, and --tools \(WAITER_TOOLS, tools in the config file\) chooses tools$/,
    );
  });

  test("toolsets are named in any case, as the settings' other words are", () => {
    expect(load({ WAITER_TOOLSETS: "Currency, SHOP" }).core.toolsets).toEqual(["currency", "shop"]);
    expect(load({}, { overrides: { toolsets: "Currency" } }).core.toolsets).toEqual(["currency"]);
    expect(load({}, { file: file({ toolsets: ["Shop"] }) }).core.toolsets).toEqual(["shop"]);
  });

  test("tools are named in any case, as toolsets are", () => {
    expect(load({ WAITER_TOOLS: "Currency_Convert, CURRENCY_LIST" }).core.tools).toEqual([
      "currency_convert",
      "currency_list",
    ]);
    expect(load({}, { overrides: { excludeTools: "Events_Wait" } }).core.excludeTools).toEqual(["events_wait"]);
  });
});

describe("bad settings are refused by name", () => {
  test.each([
    [
      { WAITER_LOG_LEVEL: "loud" },
      /^invalid setting WAITER_LOG_LEVEL: expected one of debug, info, notice, warning, error \(got "loud"\)$/,
    ],
    // A JSON value of another kind than goes there is said in waiter's words, not the schema's (record, received).
    [{ WAITER_NOTIFY_CHANNELS: "[]" }, /^invalid setting WAITER_NOTIFY_CHANNELS: expected an object, got a list$/],
    [{ WAITER_HTTP_TOKENS: "{}" }, /^invalid setting WAITER_HTTP_TOKENS: expected a list, got an object$/],
    [
      { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: { scheme: "github", secretEnv: 5 } }) },
      /^invalid setting WAITER_WEBHOOKS_SOURCES at erp\.secretEnv: expected a string or a list$/,
    ],
    [
      { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: { scheme: ["github"], secretEnv: "X" } }) },
      /^invalid setting WAITER_WEBHOOKS_SOURCES at erp\.scheme: expected one of standard-webhooks, .*, none, got a list$/,
    ],
    // A number is said, though a name it could go in holds its digits (hmac-sha256).
    ...[5, 25, 256].map((scheme): [Record<string, string>, RegExp] => [
      { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ erp: { scheme, secretEnv: "X" } }) },
      new RegExp(
        `^invalid setting WAITER_WEBHOOKS_SOURCES at erp\\.scheme: expected one of standard-webhooks, .*, none \\(got ${scheme}\\)$`,
      ),
    ]),
    // A bound says the setting's unit: 30000, milliseconds meant, is told it is seconds.
    [{ WAITER_TOOL_TIMEOUT: "0" }, /^invalid setting WAITER_TOOL_TIMEOUT: must be at least 1 second \(got 0\)$/],
    [
      { WAITER_TOOL_TIMEOUT: "30000" },
      /^invalid setting WAITER_TOOL_TIMEOUT: must be at most 55 seconds \(got 30000\)$/,
    ],
    [
      { WAITER_WEBHOOKS_MAX_BODY_BYTES: "64" },
      /^invalid setting WAITER_WEBHOOKS_MAX_BODY_BYTES: must be at least 1024 bytes \(got 64\)$/,
    ],
    [{ WAITER_MAX_SESSIONS: "0" }, /^invalid setting WAITER_MAX_SESSIONS: must be at least 1 \(got 0\)$/],
    [
      { WAITER_WEBHOOKS_LISTEN: "127.0.0.1 :8790" },
      /^invalid setting WAITER_WEBHOOKS_LISTEN: must be host:port, like 127\.0\.0\.1:8790/,
    ],
    // The port alone is said, though the example's port is the same number.
    [
      { WAITER_LISTEN: "8790" },
      /^invalid setting WAITER_LISTEN: must be host:port, like 127\.0\.0\.1:8790 \(got 8790\)$/,
    ],
    // host:port written, with a port no address has: the port is said, not the form.
    [
      { WAITER_WEBHOOKS_LISTEN: "localhost:99999" },
      /^invalid setting WAITER_WEBHOOKS_LISTEN: the port must be 0 to 65535 \(got "localhost:99999"\)$/,
    ],
    // Said as a whole number of the setting's unit, in words an operator reads, not the schema's (NaN, int):
    // one who wrote a duration learns which number to write, not 10 for 10 minutes.
    [
      { WAITER_TOOL_TIMEOUT: "soon" },
      /^invalid setting WAITER_TOOL_TIMEOUT: expected a whole number of seconds \(got "soon"\)$/,
    ],
    [
      { WAITER_TOOL_TIMEOUT: "20s" },
      /^invalid setting WAITER_TOOL_TIMEOUT: expected a whole number of seconds \(got "20s"\)$/,
    ],
    [
      { WAITER_TOOL_TIMEOUT: "2.5" },
      /^invalid setting WAITER_TOOL_TIMEOUT: expected a whole number of seconds \(got 2\.5\)$/,
    ],
    [
      { WAITER_AUTOMATION_RETRY_SECONDS: "10m" },
      /^invalid setting WAITER_AUTOMATION_RETRY_SECONDS: expected a whole number of seconds \(got "10m"\)$/,
    ],
    [
      { WAITER_SESSION_IDLE_MINUTES: "2h" },
      /^invalid setting WAITER_SESSION_IDLE_MINUTES: expected a whole number of minutes \(got "2h"\)$/,
    ],
    [
      { WAITER_WEBHOOKS_MAX_BODY_BYTES: "2MB" },
      /^invalid setting WAITER_WEBHOOKS_MAX_BODY_BYTES: expected a whole number of bytes \(got "2MB"\)$/,
    ],
    [{ WAITER_MAX_SESSIONS: "many" }, /^invalid setting WAITER_MAX_SESSIONS: expected a whole number \(got "many"\)$/],
    // A whole number past any bound is said by the bound, not as no whole number.
    [
      { WAITER_TOOL_TIMEOUT: "99999999999999999999" },
      /^invalid setting WAITER_TOOL_TIMEOUT: must be at most 55 seconds \(got 100000000000000000000\)$/,
    ],
    [{ WAITER_CONTACT: "somebody" }, /^invalid setting WAITER_CONTACT: must be an email address or an http\(s\) URL/],
    [{ WAITER_READ_ONLY: "maybe" }, /^invalid setting WAITER_READ_ONLY: expected true or false/],
    [
      { TEST_SHOP_URL: "http://shop.example/api" },
      /^invalid setting TEST_SHOP_URL: plain http is allowed only to loopback addresses; use https:\/\/shop\.example\/api$/,
    ],
    // Told as written, with no / added after a host alone: an issuer is named character for character.
    [
      { WAITER_HTTP_OAUTH: '{"issuer":"http://id.example.com"}' },
      /^invalid setting WAITER_HTTP_OAUTH at issuer: plain http is allowed only to loopback addresses; use https:\/\/id\.example\.com$/,
    ],
    [
      { WAITER_HTTP_OAUTH: '{"issuer":"http://id.example.com/"}' },
      /^invalid setting WAITER_HTTP_OAUTH at issuer: plain http is allowed only to loopback addresses; use https:\/\/id\.example\.com\/$/,
    ],
    // Its query kept too, not shown: it may carry a key.
    [
      { TEST_SHOP_URL: "http://shop.example/api?lang=cs&key=k1" },
      /^invalid setting TEST_SHOP_URL: plain http is allowed only to loopback addresses; use https:\/\/shop\.example\/api with the same query after it$/,
    ],
    [
      { WAITER_HTTP_OAUTH: '{"issuer":"http://id.example.com?tenant=a"}' },
      /^invalid setting WAITER_HTTP_OAUTH at issuer: plain http is allowed only to loopback addresses; use https:\/\/id\.example\.com with the same query after it$/,
    ],
    // Its path kept, its // slipped: what follows the host is the path as written.
    [
      { TEST_SHOP_URL: "http:/shop.example/api" },
      /^invalid setting TEST_SHOP_URL: plain http is allowed only to loopback addresses; use https:\/\/shop\.example\/api$/,
    ],
    [
      { TEST_SHOP_URL: "not a url" },
      /^invalid setting TEST_SHOP_URL: must be an https:\/\/ URL \(plain http only to loopback addresses\)$/,
    ],
    // The host alone, as a shop's address is often written: told the URL meant.
    [
      { TEST_SHOP_URL: "shop.example" },
      /^invalid setting TEST_SHOP_URL: must be an https:\/\/ URL \(plain http only to loopback addresses\): write https:\/\/shop\.example \(got "shop\.example"\)$/,
    ],
    // A user before the host, as an email address writes one, may be a token: not quoted back.
    [
      { TEST_SHOP_URL: "s3cret@shop.example" },
      /^invalid setting TEST_SHOP_URL: must be an https:\/\/ URL \(plain http only to loopback addresses\)$/,
    ],
    [
      { WAITER_WEBHOOKS_PUBLIC_URL: "s3cret@hooks.example" },
      /^invalid setting WAITER_WEBHOOKS_PUBLIC_URL: must be an https:\/\/ \(or, for local trials, http:\/\/\) URL$/,
    ],
    [
      {
        WAITER_NOTIFY_CHANNELS: JSON.stringify({
          team: { type: "telegram", botTokenEnv: "T", chatIds: ["1"], baseUrl: "s3cret@api.example" },
        }),
      },
      /^invalid setting WAITER_NOTIFY_CHANNELS at team\.baseUrl: must be an https:\/\/ URL \(plain http only to loopback addresses\)$/,
    ],
    [
      { WAITER_WEBHOOKS_PUBLIC_URL: "ftp://hooks.example.com" },
      /^invalid setting WAITER_WEBHOOKS_PUBLIC_URL: must be an https:\/\/ \(or, for local trials, http:\/\/\) URL$/,
    ],
    // The host alone, as a proxy's server_name is written: refused by name, not a crash.
    [
      { WAITER_WEBHOOKS_PUBLIC_URL: "waiter.example.com" },
      /^invalid setting WAITER_WEBHOOKS_PUBLIC_URL: must be an https:\/\/ \(or, for local trials, http:\/\/\) URL \(got "waiter\.example\.com"\)$/,
    ],
    // A name with a letter outside a-z reads as lowercase letters to the one who wrote it: said as a-z.
    [
      { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ "platba-přijata": { scheme: "github", secretEnv: "X" } }) },
      /source names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit/,
    ],
    [
      {
        WAITER_NOTIFY_CHANNELS: JSON.stringify({ Team: { type: "email", host: "h", from: "a@b.cz", to: ["c@d.cz"] } }),
      },
      /channel names are 1 to 63 characters: lowercase a-z/,
    ],
    // A mail server written as a URL or with its port: said at start, not as a name that does not resolve at a send.
    // An IPv6 address in brackets, as a URL writes it, is no name a send resolves either.
    ...["smtp://mail.example.cz", "mail.example.cz:587", "mail.example.cz/", "[::1]:25", "[::1]"].map(
      (host): [Record<string, string>, RegExp] => [
        { WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: { type: "email", host, from: "a@b.cz", to: ["c@d.cz"] } }) },
        /^invalid setting WAITER_NOTIFY_CHANNELS at team\.host: is the mail server's name or address alone, like smtp\.example\.com/,
      ],
    ),
  ])("%j", (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  test("every setting refused is said at once, each with where it was given, not one a start", () => {
    const path = file({ logLevel: "loud", toolTimeout: 99, webhooks: { maxBodyBytes: "2MB" } });
    expect(messageOf(() => load({ WAITER_MAX_SESSIONS: "many" }, { file: path }))).toBe(
      `4 settings are refused, each said here: (1) invalid setting logLevel in ${path}: expected one of debug, info, notice, warning, error (got "loud") (2) invalid setting toolTimeout in ${path}: must be at most 55 seconds (got 99) (3) invalid setting WAITER_MAX_SESSIONS: expected a whole number (got "many") (4) invalid setting webhooks.maxBodyBytes in ${path}: expected a whole number of bytes (got "2MB")`,
    );
    // Said with the file's unknown keys, numbered on with them.
    const misspelt = file({ logLevl: "debug", toolTimeout: 99, webhooks: { maxBodyBytes: "2MB" } });
    expect(messageOf(() => load({}, { file: misspelt }))).toBe(
      `config file ${misspelt} has 1 key to mend, and 2 settings read without that key are refused too, each said here: (1) unknown setting logLevl in config file ${misspelt}; did you mean logLevel? (2) invalid setting toolTimeout in ${misspelt}: must be at most 55 seconds (got 99) (3) invalid setting webhooks.maxBodyBytes in ${misspelt}: expected a whole number of bytes (got "2MB")`,
    );
  });

  test("each of one setting's problems is said at once, not one a start", () => {
    const sources = JSON.stringify({ gh: { scheme: "nope", secretEnv: "S2" }, shop: { scheme: "shopify" } });
    expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources }))).toBe(
      'WAITER_WEBHOOKS_SOURCES is refused in 2 places, each said here: (1) invalid setting WAITER_WEBHOOKS_SOURCES at gh.scheme: expected one of standard-webhooks, stripe, github, shopify, woocommerce, hmac-sha256, comgate, gopay, none (got "nope") (2) invalid setting WAITER_WEBHOOKS_SOURCES at shop.secretEnv: is missing; it takes the name of the environment variable that holds the signing secret, or a list of such names while it is rotated',
    );
    // With another setting refused, counted as settings, each of their problems numbered.
    expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources, WAITER_LOG_LEVEL: "loud" }))).toMatch(
      /^2 settings are refused, in 3 places, each said here: \(1\) invalid setting WAITER_LOG_LEVEL: .* \(2\) invalid setting WAITER_WEBHOOKS_SOURCES at gh\.scheme: .* \(3\) invalid setting WAITER_WEBHOOKS_SOURCES at shop\.secretEnv: /,
    );
    // A misspelt key leaves the key meant missing: said once, as the unknown key.
    expect(
      messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: JSON.stringify({ gh: { scheme: "github", secretenv: "S2" } }) })),
    ).toBe('invalid setting WAITER_WEBHOOKS_SOURCES at gh: unknown key "secretenv" (did you mean secretEnv?)');
    // Another key truly missing beside it is said with it.
    expect(
      messageOf(() =>
        load({
          WAITER_NOTIFY_CHANNELS: JSON.stringify({
            team: { type: "email", hots: "smtp.example.cz", to: ["c@d.cz"], passwordEnv: "SMTP_PASSWORD" },
          }),
          SMTP_PASSWORD: "correct-horse-battery",
        }),
      ),
    ).toBe(
      'WAITER_NOTIFY_CHANNELS is refused in 2 places, each said here: (1) invalid setting WAITER_NOTIFY_CHANNELS at team: unknown key "hots" (did you mean host?) (2) invalid setting WAITER_NOTIFY_CHANNELS at team.from: is missing; it takes the address messages are sent from',
    );
    // A value written wrong beside it is no key left missing: said too.
    expect(
      messageOf(() =>
        load({
          WAITER_NOTIFY_CHANNELS: JSON.stringify({
            team: {
              type: "email",
              host: "smtp.example.cz",
              from: "nobody",
              to: ["c@d.cz"],
              passwrodEnv: "SMTP_PASSWORD",
            },
          }),
        }),
      ),
    ).toMatch(
      /^WAITER_NOTIFY_CHANNELS is refused in 2 places, each said here: \(1\) invalid setting WAITER_NOTIFY_CHANNELS at team: unknown key "passwrodEnv" .* \(2\) invalid setting WAITER_NOTIFY_CHANNELS at team\.from: /,
    );
  });

  test("a secret still unset is said with a value refused, not at the next start", () => {
    const path = file({
      logLevel: "loud",
      webhooks: { sources: { stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" } } },
    });
    expect(messageOf(() => load({}, { file: path }))).toBe(
      `The settings are refused for 2 reasons, each said here: (1) invalid setting logLevel in ${path}: expected one of debug, info, notice, warning, error (got "loud") (2) webhook source stripe: STRIPE_SECRET, which webhooks.sources in ${path} at stripe.secretEnv names, is not set; set it in waiter's environment to the stripe signing secret`,
    );
    // Two secrets of one setting are not two settings.
    const twice = file({
      logLevel: "loud",
      webhooks: {
        sources: {
          stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" },
          gh: { scheme: "github", secretEnv: "GH_SECRET" },
        },
      },
    });
    expect(messageOf(() => load({}, { file: twice }))).toMatch(
      /^The settings are refused for 3 reasons, each said here: /,
    );
    // Cross-checks of a setting refused itself wait for its value: its section is not read.
    const both = file({
      webhooks: { maxBodyBytes: "2MB", sources: { stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" } } },
    });
    expect(messageOf(() => load({}, { file: both }))).toBe(
      `invalid setting webhooks.maxBodyBytes in ${both}: expected a whole number of bytes (got "2MB")`,
    );
  });

  test("a secret still unset is said with another toolset's setting refused once read, not at the next start", () => {
    const env = {
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" } }),
      WAITER_NOTIFY_CHANNELS: JSON.stringify({
        team: {
          type: "email",
          host: "smtp.example.cz",
          from: "a@b.cz",
          to: ["c@d.cz", "C@d.cz"],
          passwordEnv: "SMTP_PASSWORD",
        },
      }),
      SMTP_PASSWORD: "correct-horse-battery",
    };
    expect(messageOf(() => load(env))).toBe(
      "The settings are refused for 2 reasons, each said here: (1) invalid setting WAITER_NOTIFY_CHANNELS at team.to: c@d.cz is listed twice; list each once (2) webhook source stripe: STRIPE_SECRET, which WAITER_WEBHOOKS_SOURCES at stripe.secretEnv names, is not set; set it in waiter's environment to the stripe signing secret",
    );
  });

  test("a token holding a webhook source's secret is said with a value refused beside either, not at the next start", () => {
    const secret = "0123456789abcdef".repeat(4);
    const env = {
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "agent", secretEnv: "AGENT_TOKEN", scope: "write" }]),
      AGENT_TOKEN: secret,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" } }),
      WOO_WEBHOOK_SECRET: secret,
    };
    const shared =
      "http token agent: AGENT_TOKEN holds the secret of WAITER_WEBHOOKS_SOURCES at shop.secretEnv (WOO_WEBHOOK_SECRET), which the system it is for knows too";
    for (const [refused, said] of [
      ["WAITER_WEBHOOKS_MAX_BODY_BYTES", 'expected a whole number of bytes (got "2MB")'],
      ["WAITER_HTTP_REQUESTS_PER_MINUTE", 'expected a whole number (got "2MB")'],
    ]) {
      expect(messageOf(() => load({ ...env, [refused as string]: "2MB" }))).toMatch(
        `The settings are refused for 2 reasons, each said here: (1) invalid setting ${refused}: ${said} (2) ${shared}`,
      );
    }
  });

  test("a relative data directory, an unknown toolset and a token holding another's secret are said in one refusal, with what else is refused", () => {
    const secret = "0123456789abcdef".repeat(4);
    const env = {
      WAITER_DATA_DIR: "state",
      WAITER_TOOLSETS: "currency,wether",
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "agent", secretEnv: "AGENT_TOKEN", scope: "write" }]),
      AGENT_TOKEN: secret,
      WAITER_WOO_SECRET: secret,
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe", secretEnv: "STRIPE_SECRET" } }),
    };
    const known = `(known: ${[...toolsets(), shop].map((t) => t.name).join(", ")})`;
    expect(messageOf(() => load(env))).toBe(
      `The settings are refused for 4 reasons, each said here: (1) invalid setting WAITER_DATA_DIR: must be an absolute path, and "state" is not: MCP clients start servers from any directory (this one from ${process.cwd()}) (2) unknown toolset 'wether' in WAITER_TOOLSETS ${known}; did you mean weather? (3) http token agent: AGENT_TOKEN holds the secret of WAITER_WOO_SECRET, which the system it is for knows too: whoever reads it there could call waiter as agent. Give the token a secret of its own, made with \`openssl rand -hex 32\` (4) webhook source stripe: STRIPE_SECRET, which WAITER_WEBHOOKS_SOURCES at stripe.secretEnv names, is not set; set it in waiter's environment to the stripe signing secret`,
    );
    // With a value refused too.
    expect(messageOf(() => load({ ...env, WAITER_LOG_LEVEL: "loud" }))).toMatch(
      /^The settings are refused for 5 reasons, each said here: \(1\) invalid setting WAITER_LOG_LEVEL: .* \(2\) invalid setting WAITER_DATA_DIR: must be an absolute path, .* \(3\) unknown toolset 'wether' in WAITER_TOOLSETS .* \(4\) http token agent: AGENT_TOKEN holds the secret of WAITER_WOO_SECRET, .* \(5\) webhook source stripe: STRIPE_SECRET, /,
    );
  });

  test("a number of seconds or a count in the config file is a number, or its digits: true is not 1, nor [30] 30", () => {
    expect(load({}, { file: file({ toolTimeout: 30, maxSessions: "50" }) }).core).toMatchObject({
      toolTimeout: 30,
      maxSessions: 50,
    });
    for (const [key, value] of [
      ["toolTimeout", true],
      ["maxSessions", true],
      ["stopSeconds", [30]],
      ["sessionIdleMinutes", null],
    ] as const) {
      const path = file({ [key]: value });
      expect(
        messageOf(() => load({}, { file: path })),
        key,
      ).toMatch(new RegExp(`^invalid setting ${key} in ${path}: expected a number, got (true|a list|null)$`));
    }
  });

  test("a port alone written as a number for an address in the config file is told host:port in quotes, with that port", () => {
    const core = file({ listen: 8080 });
    expect(messageOf(() => load({}, { file: core }))).toBe(
      `invalid setting listen in ${core}: must be host:port, written as a string: "127.0.0.1:8080" (got 8080)`,
    );
    const webhooks = file({ webhooks: { listen: 8790 } });
    expect(messageOf(() => load({}, { file: webhooks }))).toBe(
      `invalid setting webhooks.listen in ${webhooks}: must be host:port, written as a string: "127.0.0.1:8790" (got 8790)`,
    );
    // No port: the form alone is shown.
    const noPort = file({ listen: 99999 });
    expect(messageOf(() => load({}, { file: noPort }))).toBe(
      `invalid setting listen in ${noPort}: must be host:port, written as a string, like "127.0.0.1:8790" (got 99999)`,
    );
  });

  test("an empty number in the config file is said to be empty, not taken for 0 and said to be below the least", () => {
    for (const value of ["", "  "]) {
      const path = file({ maxResponseBytes: value });
      expect(messageOf(() => load({}, { file: path }))).toBe(
        `invalid setting maxResponseBytes in ${path}: expected a whole number of bytes (got "")`,
      );
    }
  });

  test("a number past the range JSON's numbers are read in (1e400) is said to be too large, not null, as JSON.parse makes it Infinity", () => {
    const toolTimeout = file('{"toolTimeout": 1e400}');
    expect(messageOf(() => load({}, { file: toolTimeout }))).toBe(
      `invalid setting toolTimeout in ${toolTimeout}: must be at most 55 seconds`,
    );
    const maxSessions = file('{"maxSessions": -1e400}');
    expect(messageOf(() => load({}, { file: maxSessions }))).toBe(
      `invalid setting maxSessions in ${maxSessions}: must be at least 1`,
    );
    const retention = file('{"webhooks": {"retention": {"maxAgeDays": 1e400}}}');
    expect(messageOf(() => load({}, { file: retention }))).toBe(
      `invalid setting webhooks.retention in ${retention} at maxAgeDays: is a number too large to read, past 1.8e308`,
    );
    const where =
      '[{"name": "big", "when": {"source": "erp", "where": [{"path": "payload.total", "gt": 1e400}]}, "do": [{"ack": true}]}]';
    expect(messageOf(() => load({ WAITER_AUTOMATIONS: where }))).toBe(
      "invalid setting WAITER_AUTOMATIONS at automation big, when.where 1, gt: is a number too large to read, past 1.8e308",
    );
  });

  test("the public URL is the bare address waiter's paths go after: no query, fragment or user, not its /mcp, nor a path that begins as one of waiter's own", () => {
    const bare =
      /^invalid setting WAITER_WEBHOOKS_PUBLIC_URL: must be the bare address waiter is reached at, with no user, query or fragment \(/;
    const mcp =
      /^invalid setting WAITER_WEBHOOKS_PUBLIC_URL: ends in \/mcp, the address of MCP under it: set it without that \/mcp, as waiter serves MCP at its \/mcp/;
    const own = (path: string) =>
      new RegExp(
        `^invalid setting WAITER_WEBHOOKS_PUBLIC_URL: its path begins with /${path.replace(".", "\\.")}, a path of waiter's own: `,
      );
    for (const [url, message] of [
      ["https://waiter.example.com?x=1", bare],
      ["https://waiter.example.com/?", bare],
      ["https://waiter.example.com#webhooks", bare],
      ["https://ops:s3cr3t@waiter.example.com", bare],
      ["https://waiter.example.com/mcp", mcp],
      ["https://waiter.example.com/waiter/mcp/", mcp],
      ["https://example.com/webhooks", own("webhooks")],
      ["https://example.com/Webhooks/waiter", own("webhooks")],
      ["https://example.com/healthz/", own("healthz")],
      ["https://example.com/.well-known/waiter", own(".well-known")],
      ["https://example.com/mcp/waiter", own("mcp")],
    ] as const) {
      const refused = messageOf(() => load({ WAITER_WEBHOOKS_PUBLIC_URL: url }));
      expect(refused, url).toMatch(message);
      expect(refused, url).not.toContain("s3cr3t");
    }
    // In the file too, where a fragment is no credential.
    expect(
      messageOf(() => load({}, { file: file({ webhooks: { publicUrl: "https://waiter.example.com#x" } }) })),
    ).toMatch(/webhooks\.publicUrl.*must be the bare address/);
    // A path a proxy serves waiter under is kept, as written.
    for (const url of [
      "https://waiter.example.com",
      "https://example.com/waiter/",
      "https://example.com/mcp-tools",
      "https://example.com/waiter/webhooks",
    ]) {
      expect(webhooksOf(load({ WAITER_WEBHOOKS_PUBLIC_URL: url })).publicUrl).toBe(url);
    }
  });

  test("the OAuth issuer is an issuer's identifier, with no user, password, query or fragment: one with them matches no token's iss, and is published to any caller", () => {
    const oauth = (issuer: string) => ({ WAITER_HTTP_OAUTH: JSON.stringify({ issuer }) });
    for (const issuer of [
      "https://waiter:s3cr3tPassw0rd@id.example.com/realms/company",
      "https://id.example.com/realms/company?client_secret=s3cr3tPassw0rd",
      "https://id.example.com/realms/company#s3cr3tPassw0rd",
    ]) {
      const refused = messageOf(() => load(oauth(issuer)));
      expect(refused, issuer).toBe(
        "invalid setting WAITER_HTTP_OAUTH at issuer: must be the issuer's identifier as its tokens' iss and its metadata name it, with no user, password, query or fragment (RFC 8414 §2), like https://id.example.com/realms/company",
      );
      expect(refused, issuer).not.toContain("s3cr3t");
    }
    expect(load(oauth("https://id.example.com/realms/company")).http.oauth?.issuer).toBe(
      "https://id.example.com/realms/company",
    );
  });

  test.each(["http://shop.example/api?token=s3cr3t", "shop.example/api?token=s3cr3t", "https://user:s3cr3t@[bad"])(
    "the value %s is not echoed: it may hold a token",
    (value) => {
      let message = "";
      try {
        load({ TEST_SHOP_URL: value });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^invalid setting TEST_SHOP_URL/);
      expect(message).not.toContain("s3cr3t");
    },
  );

  describe("a value shaped like a credential, or long, is never repeated: the setting is named instead", () => {
    const stripe = "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG";
    const standard = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+b5sSY/p=";
    const live = "sk_live_51HqQZbC8uV0mR3tYxW9nK2pL";
    const token = "q7Rk2VxZp9LmW4tB8nYc3HdF6gJs1aUe5oXi0KwT";
    const aws = "AKIAIOSFODNN7EXAMPLE";
    const bot = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    const long = "x".repeat(5000);
    const sources = (source: object) => JSON.stringify({ stripe: { scheme: "stripe", ...source } });
    /** The secret part, and every 8 characters of it: a snippet of a secret is a leak too. */
    const leaks = (message: string, secret: string) =>
      [...Array(Math.max(1, secret.length - 7)).keys()]
        .map((i) => secret.slice(i, i + 8))
        .filter((part) => message.includes(part));

    test.each([
      ["WAITER_WEBHOOKS_SOURCES", { WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: stripe }) }, stripe],
      ["WAITER_WEBHOOKS_SOURCES", { WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: standard }) }, standard],
      ["WAITER_WEBHOOKS_SOURCES", { WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: aws }) }, aws],
      ["WAITER_WEBHOOKS_SOURCES", { WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: "X", secret: live }) }, live],
      [
        "WAITER_WEBHOOKS_SOURCES",
        { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ [token]: { scheme: "github" } }) },
        token,
      ],
      // Not JSON: the place is said, not the text there.
      ["WAITER_WEBHOOKS_SOURCES", { WAITER_WEBHOOKS_SOURCES: `{"stripe": {"secretEnv": ${stripe}}}` }, stripe],
      ["WAITER_HTTP_TOKENS", { WAITER_HTTP_TOKENS: `[{"name": "ops", ${token}}]` }, token],
      ["WAITER_WEBHOOKS_RETENTION", { WAITER_WEBHOOKS_RETENTION: JSON.stringify({ [live]: 1 }) }, live],
      ["WAITER_WEBHOOKS_RETENTION", { WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxEvents: token }) }, token],
      ["WAITER_LOG_LEVEL", { WAITER_LOG_LEVEL: live }, live],
      ["WAITER_LOG_LEVEL", { WAITER_LOG_LEVEL: token }, token],
      ["WAITER_LOG_LEVEL", { WAITER_LOG_LEVEL: long }, long],
      ["WAITER_READ_ONLY", { WAITER_READ_ONLY: token }, token],
      ["WAITER_READ_ONLY", { WAITER_READ_ONLY: stripe }, stripe],
      ["WAITER_READ_ONLY", { WAITER_READ_ONLY: long }, long],
      ["WAITER_TOOL_TIMEOUT", { WAITER_TOOL_TIMEOUT: token }, token],
      ["WAITER_TOOLSETS", { WAITER_TOOLSETS: `currency,${live}` }, live],
      ["WAITER_TOOLSETS", { WAITER_TOOLSETS: token }, token],
      ["WAITER_WEBHOOKS_LISTEN", { WAITER_WEBHOOKS_LISTEN: token }, token],
      ["WAITER_WEBHOOKS_PUBLIC_URL", { WAITER_WEBHOOKS_PUBLIC_URL: `ftp://admin:${token}@hooks.example` }, token],
      ["TEST_SHOP_URL", { TEST_SHOP_URL: `http://admin:${token}@shop.example/api` }, token],
      ["TEST_SHOP_URL", { TEST_SHOP_URL: `http://api.example/bot${bot}/` }, bot],
      ["TEST_SHOP_URL", { TEST_SHOP_URL: `https://shop.example:99999/?key=${token}` }, token],
    ])("%s, case %#", (setting, env, secret) => {
      const message = messageOf(() => load(env));
      expect(message).toContain(setting);
      expect(leaks(message, secret)).toEqual([]);
    });

    test("in the config file too, and when the file is not JSON", () => {
      const cases: [object | string, string, string][] = [
        [{ webhooks: { sources: { stripe: { scheme: "stripe", secretEnv: stripe } } } }, "webhooks.sources", stripe],
        [{ webhooks: { retention: { maxEvents: 1, [token]: 2 } } }, "webhooks.retention", token],
        [{ logLevel: live }, "logLevel", live],
        [{ shop: { [live]: "x" } }, "unknown setting shop.", live],
        [{ [token]: true }, "unknown setting", token],
        [`{"webhooks": {"sources": {"stripe": {"secretEnv": ${stripe}}}}}`, "not valid JSON", stripe],
        [`{"logLevel": "debug", ${token}}`, "not valid JSON", token],
      ];
      for (const [content, named, secret] of cases) {
        const message = messageOf(() => load({}, { file: file(content) }));
        expect(message, JSON.stringify(content)).toContain(named);
        expect(leaks(message, secret), message).toEqual([]);
      }
    });

    test("a secret pasted into secretEnv is called what it is", () => {
      const message = messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: stripe }) }));
      expect(message).toBe(
        "invalid setting WAITER_WEBHOOKS_SOURCES at stripe.secretEnv: it must name the environment variable that holds the stripe signing secret (such as STRIPE_WEBHOOK_SECRET), not hold it; what it holds is not shown",
      );
    });

    test("a secret holding characters no variable's name has, pasted into secretEnv, is called what it is too", () => {
      const github = "3f9a1c7e-52b4-4d8e-9a06-c1e2f3a4b5d6";
      const colon = "whsec:Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG";
      for (const pasted of [github, colon, standard]) {
        const message = messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: pasted }) }));
        expect(message, pasted).toBe(
          "invalid setting WAITER_WEBHOOKS_SOURCES at stripe.secretEnv: it must name the environment variable that holds the stripe signing secret (such as STRIPE_WEBHOOK_SECRET), not hold it; what it holds is not shown",
        );
        expect(leaks(message, pasted), message).toEqual([]);
      }
      // Each name of a list as well, with the example its source's name suggests.
      const listed = JSON.stringify({ "my-repo": { scheme: "github", secretEnv: ["GH_NEW", github] } });
      expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: listed, GH_NEW: "new-webhook-secret" }))).toBe(
        "invalid setting WAITER_WEBHOOKS_SOURCES at my-repo.secretEnv[1]: it must name the environment variable that holds the github signing secret (such as MY_REPO_WEBHOOK_SECRET), not hold it; what it holds is not shown",
      );
      // A long name written with dashes is a name mistyped, not a secret.
      expect(
        messageOf(() =>
          load({ WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: "stripe-webhook-signing-secret-name" }) }),
        ),
      ).toBe("invalid setting WAITER_WEBHOOKS_SOURCES at stripe.secretEnv: must be an environment variable name");
    });

    test("a password pasted where a variable's name goes is never shown, short and plain as it may be", () => {
      for (const [env, setting] of [
        [{ WAITER_DATABASE_PASSWORD_ENV: "correct-horse-battery-staple" }, "WAITER_DATABASE_PASSWORD_ENV"],
        [
          { WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: "hunter2hunter2" }) },
          "WAITER_WEBHOOKS_SOURCES at stripe.secretEnv",
        ],
      ] as const) {
        const message = messageOf(() => load(env));
        expect(message).toMatch(new RegExp(`^invalid setting ${setting}: `));
        expect(message).not.toMatch(/correct-horse|hunter2/);
      }
      expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: "hunter2hunter2" }) }))).toBe(
        "invalid setting WAITER_WEBHOOKS_SOURCES at stripe.secretEnv: no environment variable of the name it holds is set, and the name is not shown: it is not written in capitals, as variables' names are, and may be the secret itself; it must name the variable that holds the stripe signing secret (such as STRIPE_WEBHOOK_SECRET)",
      );
    });

    test("a plain short value is still quoted back, and a variable name that is not set is named", () => {
      expect(messageOf(() => load({ WAITER_READ_ONLY: "maybe" }))).toBe(
        'invalid setting WAITER_READ_ONLY: expected true or false, got "maybe"',
      );
      expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: "SHOP2_HOOK_SECRET" }) }))).toBe(
        "webhook source stripe: SHOP2_HOOK_SECRET, which WAITER_WEBHOOKS_SOURCES at stripe.secretEnv names, is not set; set it in waiter's environment to the stripe signing secret",
      );
    });

    test("a variable set but empty (a line of an env file whose value is still to be pasted) is said to be empty, not unset", () => {
      for (const [value, state] of [
        ["", "is set but empty"],
        ["  ", "is set to blanks alone"],
      ]) {
        expect(
          messageOf(() =>
            load({ WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: "SHOP2_HOOK_SECRET" }), SHOP2_HOOK_SECRET: value }),
          ),
        ).toBe(`webhook source stripe: SHOP2_HOOK_SECRET ${state}; it must hold the stripe signing secret`);
      }
      // Its name is a variable's, set in the environment: not a secret pasted in its place.
      expect(
        messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources({ secretEnv: "shop2_hook" }), shop2_hook: "" })),
      ).toBe("webhook source stripe: shop2_hook is set but empty; it must hold the stripe signing secret");
    });

    test("every secret the settings name but that is unset is named in one refusal, not one per start", () => {
      const env = {
        WAITER_HTTP_TOKENS: JSON.stringify([
          { name: "ops", secretEnv: "OPS_TOKEN", scope: "write" },
          { name: "reader", secretEnv: "READER_TOKEN", scope: "read" },
        ]),
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({
          stripe: { scheme: "stripe", secretEnv: "STRIPE_WEBHOOK_SECRET" },
          gh: { scheme: "github", secretEnv: ["GH_SECRET", "GH_OLD"] },
        }),
        WAITER_DATABASE_URL: "postgres://waiter@db.internal/waiter",
        WAITER_DATABASE_PASSWORD_ENV: "DB_PASSWORD",
        OPS_TOKEN: "",
        STRIPE_WEBHOOK_SECRET: "",
        GH_OLD: "  ",
        READER_TOKEN: "f".repeat(64),
      };
      const message = messageOf(() => load(env));
      // Numbered as every refusal of several, with nothing else refused too.
      expect(message).toBe(
        "The settings are refused for 5 reasons, each said here: " +
          [
            "(1) webhook source stripe: STRIPE_WEBHOOK_SECRET is set but empty; it must hold the stripe signing secret",
            "(2) webhook source gh: GH_SECRET, which WAITER_WEBHOOKS_SOURCES at gh.secretEnv[0] names, is not set; set it in waiter's environment to the github signing secret",
            "(3) webhook source gh: GH_OLD is set to blanks alone; it must hold the github signing secret",
            "(4) http token ops: OPS_TOKEN is set but empty; it must hold the token",
            "(5) WAITER_DATABASE_PASSWORD_ENV: DB_PASSWORD is not set; set it in waiter's environment to the database password",
          ].join(" "),
      );
      expect(message).not.toContain("f".repeat(16));
      // A secret that is set but refused is told at once too, with those unset.
      expect(messageOf(() => load({ ...env, READER_TOKEN: "short" }))).toMatch(
        /^The settings are refused for 6 reasons, each said here: \(1\) http token reader: READER_TOKEN is shorter .* \(6\) WAITER_DATABASE_PASSWORD_ENV: DB_PASSWORD is not set;/,
      );
    });
  });

  test("a Standard Webhooks secret that is not base64 of at least 16 bytes is refused: it would make a key anyone could sign with", () => {
    const standard = (secret: string) => () =>
      load({
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ hooks: { scheme: "standard-webhooks", secretEnv: "HOOKS_SECRET" } }),
        HOOKS_SECRET: secret,
      });
    for (const secret of [
      "whsec_",
      "whsec_a",
      "whsec_!!!!",
      "whsec_c2hvcnQ=",
      "whsec_MfKQ9r8GKYqrTwjUPD8I LPZIo2LaLaSw",
    ]) {
      expect(standard(secret), secret).toThrow(
        new ConfigError(
          "webhook source hooks: HOOKS_SECRET must hold the secret as the sender shows it, whsec_ and base64 of at least 16 bytes; what it holds would make a key too short to keep strangers out",
        ),
      );
    }
    expect(standard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).not.toThrow();
  });

  test("a Standard Webhooks public key (whpk_) is refused as a key for asymmetric v1a signatures, which waiter does not check, not as a key too short", () => {
    const load32 = (secret: string) => () =>
      load({
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ hooks: { scheme: "standard-webhooks", secretEnv: "HOOKS_SECRET" } }),
        HOOKS_SECRET: secret,
      });
    const publicKey = new ConfigError(
      "webhook source hooks: HOOKS_SECRET holds a public key (whpk_), which checks a sender's asymmetric v1a signatures; waiter checks only symmetric v1 signatures, keyed with a whsec_ secret: have the sender sign with one, and put it in HOOKS_SECRET",
    );
    // An ed25519 public key as the specification writes it: whpk_ and the base64 of its 32 bytes;
    // and after the signature version it checks, as Supabase's Auth Hooks write it.
    expect(load32(`whpk_${Buffer.alloc(32, 7).toString("base64")}`)).toThrow(publicKey);
    expect(load32(`v1a,whpk_${Buffer.alloc(32, 7).toString("base64")}`)).toThrow(publicKey);
  });

  test("a Stripe secret not shaped as Stripe's, or an HMAC secret shorter than 16 characters, is refused, naming the variable, never the value", () => {
    const keyed = (scheme: string, secret: string) => () =>
      load({
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({
          pay: { scheme, secretEnv: "PAY_SECRET", ...(scheme === "hmac-sha256" ? { header: "X-Signature" } : {}) },
        }),
        PAY_SECRET: secret,
      });
    // A truncated paste, half a secret, the account's API key.
    for (const secret of ["whsec_", "whsec_Ks0nV1tT4q9mXcR", "sk_live_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG"]) {
      expect(messageOf(keyed("stripe", secret)), secret).toBe(
        "webhook source pay: PAY_SECRET must hold the endpoint's signing secret as Stripe shows it, whsec_ and at least 16 characters after it; what it holds is not one (cut short when pasted, or another of Stripe's keys)",
      );
    }
    expect(keyed("stripe", "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG")).not.toThrow();
    for (const scheme of ["github", "shopify", "woocommerce", "hmac-sha256"]) {
      for (const secret of ["a", "fifteen-chars!!"]) {
        expect(messageOf(keyed(scheme, secret)), `${scheme} ${secret}`).toBe(
          "webhook source pay: PAY_SECRET holds a secret shorter than 16 characters, which anyone holding a delivery it signed could find by trying keys; copy the whole secret the sender shows, or set a longer one at the sender and here (`openssl rand -hex 32` makes one)",
        );
      }
      expect(keyed(scheme, "sixteen-chars!!!"), scheme).not.toThrow();
    }
    // Comgate's and GoPay's secrets sign nothing: the gateway issues them as it will.
    expect(
      load({
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ pay: { scheme: "gopay", clientId: "1", secretEnv: "PAY_SECRET" } }),
        PAY_SECRET: "h9wyRz2s",
      }).toolsets.webhooks,
    ).toBeDefined();
  });

  test("a Shopify access token (shpat_, shpca_, shppa_, shpua_) is refused as one, which signs no webhook, not taken for the secret", () => {
    const shopify = (secret: string) => () =>
      load({
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ store: { scheme: "shopify", secretEnv: "STORE_SECRET" } }),
        STORE_SECRET: secret,
      });
    for (const prefix of ["shpat_", "shpca_", "shppa_", "shpua_"]) {
      expect(messageOf(shopify(`${prefix}9c31c19c74c7e92514ef82c7c091cb8e`)), prefix).toBe(
        `webhook source store: STORE_SECRET holds an access token for Shopify's Admin API (${prefix}…), which signs no webhook; Shopify signs a webhook made under Settings → Notifications → Webhooks with the key shown there, and an app's webhooks with the app's client secret: put that in STORE_SECRET`,
      );
    }
    // An app's client secret is what its webhooks are signed with.
    expect(shopify("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")).not.toThrow();
  });

  test("a comment after a provider's secret, which docker run --env-file keeps in the value, is refused as one", () => {
    const commented = (scheme: string, secret: string) => () =>
      load({
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ pay: { scheme, secretEnv: "PAY_SECRET" } }),
        PAY_SECRET: `${secret} # live endpoint`,
      });
    for (const [scheme, secret] of [
      ["stripe", "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG"],
      ["shopify", "9c31c19c74c7e92514ef82c7c091cb8e"],
      ["standard-webhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ] as const) {
      expect(messageOf(commented(scheme, secret)), scheme).toBe(
        "webhook source pay: PAY_SECRET holds a comment after its value (a # with a blank beside it), which systemd's EnvironmentFile and docker run --env-file keep as part of it; put the comment on a line of its own",
      );
    }
  });

  describe("a source keyed with several secrets while one is rotated", () => {
    const rotating =
      (source: object, env: NodeJS.ProcessEnv = {}) =>
      () =>
        load({ WAITER_WEBHOOKS_SOURCES: JSON.stringify({ gh: { scheme: "github", ...source } }), ...env });

    test("reads each variable secretEnv lists, in its order", () => {
      const config = rotating(
        { secretEnv: ["GH_NEW", "GH_OLD"] },
        { GH_NEW: "new-webhook-secret", GH_OLD: "old-webhook-secret" },
      )();
      expect((config.toolsets.webhooks as WebhooksConfig).sources[0]?.secrets).toEqual([
        "new-webhook-secret",
        "old-webhook-secret",
      ]);
    });

    test("a bad entry is named: unset, a secret pasted in, not a variable name, an empty list", () => {
      expect(messageOf(rotating({ secretEnv: ["GH_NEW", "GH_OLD"] }, { GH_NEW: "new-webhook-secret" }))).toBe(
        "webhook source gh: GH_OLD, which WAITER_WEBHOOKS_SOURCES at gh.secretEnv[1] names, is not set; set it in waiter's environment to the github signing secret",
      );
      const pasted = "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG";
      const message = messageOf(rotating({ secretEnv: ["GH_NEW", pasted] }, { GH_NEW: "new-webhook-secret" }));
      expect(message).toMatch(/^invalid setting WAITER_WEBHOOKS_SOURCES at gh\.secretEnv\[1\]: it must name/);
      expect(message).not.toContain(pasted.slice(6, 14));
      expect(messageOf(rotating({ secretEnv: ["GH_NEW", "gh old"] }))).toMatch(
        /WAITER_WEBHOOKS_SOURCES at gh\.secretEnv\.1: must be an environment variable name/,
      );
      expect(messageOf(rotating({ secretEnv: [] }))).toMatch(/gh\.secretEnv: lists at least one variable/);
    });

    test("a list whose variables hold one secret is refused: the new secret the sender is about to sign with is not there", () => {
      const copied = rotating(
        { secretEnv: ["GH_NEW", "GH_OLD"] },
        { GH_NEW: "old-webhook-secret", GH_OLD: "old-webhook-secret" },
      );
      expect(messageOf(copied)).toBe(
        "webhook source gh: GH_NEW and GH_OLD hold the same secret, so a delivery signed with the new one would be refused; while a secret is rotated, one variable holds the new secret and another the old",
      );
      expect(messageOf(copied)).not.toContain("old-webhook-secret");
      expect(messageOf(rotating({ secretEnv: ["GH_NEW", "GH_NEW"] }, { GH_NEW: "new-webhook-secret" }))).toBe(
        "webhook source gh: secretEnv lists GH_NEW twice; list the new secret's variable and the old one's",
      );
    });

    test("a Standard Webhooks list whose variables hold one key, written with whsec_ and without, is refused too", () => {
      const message = messageOf(() =>
        load({
          WAITER_WEBHOOKS_SOURCES: JSON.stringify({
            svc: { scheme: "standard-webhooks", secretEnv: ["SVC_NEW", "SVC_OLD"] },
          }),
          SVC_NEW: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
          SVC_OLD: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }),
      );
      expect(message).toBe(
        "webhook source svc: SVC_NEW and SVC_OLD hold the same secret, so a delivery signed with the new one would be refused; while a secret is rotated, one variable holds the new secret and another the old",
      );
    });

    test("each Standard Webhooks secret is checked, and the one that fails is named", () => {
      const message = messageOf(() =>
        load({
          WAITER_WEBHOOKS_SOURCES: JSON.stringify({
            svc: { scheme: "standard-webhooks", secretEnv: ["SVC_NEW", "SVC_OLD"] },
          }),
          SVC_NEW: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
          SVC_OLD: "whsec_c2hvcnQ=",
        }),
      );
      expect(message).toMatch(/^webhook source svc: SVC_OLD must hold the secret as the sender shows it/);
    });

    test("Comgate and GoPay call their API with the secret: one variable, never a list", () => {
      const comgate = JSON.stringify({ pay: { scheme: "comgate", merchant: "1", secretEnv: ["A", "B"] } });
      expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: comgate, A: "a", B: "b" }))).toMatch(
        /WAITER_WEBHOOKS_SOURCES at pay\.secretEnv/,
      );
    });
  });

  test("retention that could not keep one webhook is refused", () => {
    // A body size nobody set is named as its default, where it may be set.
    expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: '{"maxBytes": 1000}' }))).toBe(
      "invalid setting WAITER_WEBHOOKS_RETENTION: maxBytes (1000) is below the largest body a webhook may have, 1048576 bytes by default (webhooks.maxBodyBytes, WAITER_WEBHOOKS_MAX_BODY_BYTES); a single webhook could not be kept",
    );
    // Each limit named where it was set: a body size set by its variable is found by that name.
    expect(() =>
      load({ WAITER_WEBHOOKS_RETENTION: '{"maxBytes": 4000}', WAITER_WEBHOOKS_MAX_BODY_BYTES: "8000" }),
    ).toThrow("maxBytes (4000) is below WAITER_WEBHOOKS_MAX_BODY_BYTES (8000)");
    const path = file({ webhooks: { retention: { maxBytes: 4000 }, maxBodyBytes: 8000 } });
    expect(() => load({}, { file: path })).toThrow(
      `invalid setting webhooks.retention in ${path}: maxBytes (4000) is below webhooks.maxBodyBytes in ${path} (8000)`,
    );
  });

  test("retention that could not keep one webhook is said with a source's secret unset, or held by a token", () => {
    const env = {
      WAITER_WEBHOOKS_RETENTION: '{"maxBytes": 1000}',
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" } }),
    };
    const retention =
      "invalid setting WAITER_WEBHOOKS_RETENTION: maxBytes (1000) is below the largest body a webhook may have, 1048576 bytes by default (webhooks.maxBodyBytes, WAITER_WEBHOOKS_MAX_BODY_BYTES); a single webhook could not be kept";
    expect(messageOf(() => load(env))).toMatch(
      `The settings are refused for 2 reasons, each said here: (1) ${retention} (2) webhook source shop: WOO_WEBHOOK_SECRET, which WAITER_WEBHOOKS_SOURCES at shop.secretEnv names, is not set`,
    );
    const secret = "0123456789abcdef".repeat(4);
    const tokens = JSON.stringify([{ name: "agent", secretEnv: "AGENT_TOKEN", scope: "write" }]);
    expect(
      messageOf(() => load({ ...env, WOO_WEBHOOK_SECRET: secret, WAITER_HTTP_TOKENS: tokens, AGENT_TOKEN: secret })),
    ).toMatch(
      `The settings are refused for 2 reasons, each said here: (1) ${retention} (2) http token agent: AGENT_TOKEN holds the secret of WAITER_WEBHOOKS_SOURCES at shop.secretEnv (WOO_WEBHOOK_SECRET)`,
    );
  });

  test("retention that could not keep one webhook is said with each webhook source refused", () => {
    const sources = JSON.stringify({
      gh: { scheme: "github", secretEnv: ["GH_NEW", "GH_NEW"] },
      pay: { scheme: "stripe", secretEnv: "STRIPE_WEBHOOK_SECRET" },
    });
    const env = {
      WAITER_WEBHOOKS_RETENTION: '{"maxBytes": 1000}',
      WAITER_WEBHOOKS_SOURCES: sources,
      GH_NEW: "new-webhook-secret",
      STRIPE_WEBHOOK_SECRET: '"whsec_0123456789abcdef"',
    };
    expect(messageOf(() => load(env))).toMatch(
      /^The settings are refused for 3 reasons, each said here: \(1\) invalid setting WAITER_WEBHOOKS_RETENTION: maxBytes \(1000\) is below .* \(2\) webhook source gh: secretEnv lists GH_NEW twice; .* \(3\) webhook source pay: STRIPE_WEBHOOK_SECRET /,
    );
    expect(messageOf(() => load({ ...env, WAITER_HTTP_REQUESTS_PER_MINUTE: "many" }))).toMatch(
      / \(3\) webhook source gh: secretEnv lists GH_NEW twice; [^(]* \(4\) webhook source pay: STRIPE_WEBHOOK_SECRET /,
    );
  });

  test("a webhook source or a token refused leaves the next one's secret read: one unset is said with it", () => {
    const sources = JSON.stringify({
      gh: { scheme: "github", secretEnv: ["GH_NEW", "GH_NEW"] },
      shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" },
    });
    expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources, GH_NEW: "new-webhook-secret" }))).toBe(
      "The settings are refused for 2 reasons, each said here: (1) webhook source gh: secretEnv lists GH_NEW twice; list the new secret's variable and the old one's (2) webhook source shop: WOO_WEBHOOK_SECRET, which WAITER_WEBHOOKS_SOURCES at shop.secretEnv names, is not set; set it in waiter's environment to the woocommerce signing secret",
    );
    const tokens = JSON.stringify([
      { name: "rates", secretEnv: "RATES_TOKEN", scope: "read", toolsets: ["curency"] },
      { name: "agent", secretEnv: "AGENT_TOKEN", scope: "write" },
    ]);
    expect(messageOf(() => load({ WAITER_HTTP_TOKENS: tokens, RATES_TOKEN: "0123456789abcdef".repeat(4) }))).toMatch(
      /^The settings are refused for 2 reasons, each said here: \(1\) invalid setting WAITER_HTTP_TOKENS at rates\.toolsets: no toolset is named "curency" .* \(2\) http token agent: AGENT_TOKEN, which WAITER_HTTP_TOKENS at agent\.secretEnv names, is not set/,
    );
  });

  test("a secret variable listed twice in a webhook source and refused for its form is said once", () => {
    const sources = JSON.stringify({ gh: { scheme: "stripe", secretEnv: ["GH", "GH"] } });
    expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources, GH: '"whsec_0123456789abcdef"' }))).toMatch(
      /^webhook source gh: GH is in quotes, which are part of its value: .*write set "NAME=value"$/,
    );
  });

  test("a token holding a webhook source's secret is said though another token is refused or unset", () => {
    const secret = "0123456789abcdef".repeat(4);
    const env = {
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" } }),
      WOO_WEBHOOK_SECRET: secret,
      AGENT_TOKEN: secret,
    };
    const agent = { name: "agent", secretEnv: "AGENT_TOKEN", scope: "write" };
    const shared =
      "http token agent: AGENT_TOKEN holds the secret of WAITER_WEBHOOKS_SOURCES at shop.secretEnv (WOO_WEBHOOK_SECRET)";
    const misspelt = [{ name: "rates", secretEnv: "RATES_TOKEN", scope: "read", toolsets: ["curency"] }, agent];
    expect(
      messageOf(() => load({ ...env, WAITER_HTTP_TOKENS: JSON.stringify(misspelt), RATES_TOKEN: "f".repeat(64) })),
    ).toMatch(
      /^The settings are refused for 2 reasons, each said here: \(1\) invalid setting WAITER_HTTP_TOKENS at rates\.toolsets: no toolset is named "curency" .* \(2\) http token agent: AGENT_TOKEN holds the secret of WAITER_WEBHOOKS_SOURCES at shop\.secretEnv \(WOO_WEBHOOK_SECRET\)/,
    );
    const misspeltToo = {
      ...env,
      WAITER_HTTP_TOKENS: JSON.stringify(misspelt),
      WAITER_WEBHOOKS_MAX_BODY_BYTES: "lots",
    };
    expect(messageOf(() => load(misspeltToo))).toMatch(shared);
    const unset = [{ name: "rates", secretEnv: "RATES_TOKEN", scope: "read" }, agent];
    expect(messageOf(() => load({ ...env, WAITER_HTTP_TOKENS: JSON.stringify(unset) }))).toMatch(
      `The settings are refused for 2 reasons, each said here: (1) ${shared}`,
    );
  });

  test("an empty toolset list, a relative data directory and an empty --config are refused", () => {
    expect(() => load({ WAITER_TOOLSETS: "," })).toThrow(/WAITER_TOOLSETS: names no toolset/);
    expect(() => load({ WAITER_DATA_DIR: "state" })).toThrow(/WAITER_DATA_DIR: must be an absolute path/);
    expect(() => load({}, { file: "" })).toThrow("--config needs a file name");
  });

  test("a bad value in the file names its key and the file", () => {
    const path = file({ shop: { url: 42 } });
    expect(() => load({}, { file: path })).toThrow(`invalid setting shop.url in ${path}`);
    const flagged = file({ readOnly: 2 });
    expect(() => load({}, { file: flagged })).toThrow(
      `invalid setting readOnly in ${flagged}: expected true or false, got 2`,
    );
  });

  test("a true/false setting takes 1 and 0 in the file, as its variable does", () => {
    expect(load({}, { file: file({ readOnly: 1, noListener: 0 }) }).core).toMatchObject({
      readOnly: true,
      noListener: false,
    });
    expect(load({ WAITER_READ_ONLY: "1" }).core.readOnly).toBe(true);
  });

  test("an unknown key in the file is a typo, not ignored", () => {
    const path = file({ shop: { lru: "https://x.example" } });
    expect(() => load({}, { file: path })).toThrow(`unknown setting shop.lru in config file ${path}; shop takes url`);
    expect(() => load({}, { file: file({ logLevelSetting: "debug" }) })).toThrow(
      /unknown setting logLevelSetting in config file .*; docs\/settings.md lists the settings$/,
    );
    expect(() => load({}, { file: file({ loglevel: "debug" }) })).toThrow(
      /unknown setting loglevel in config file .*; did you mean logLevel\?$/,
    );
    expect(() => load({}, { file: file({ webhooks: { maxbodybytes: 1 } }) })).toThrow(
      /; did you mean webhooks\.maxBodyBytes\?$/,
    );
    expect(() => load({}, { file: file({ log_level: "debug" }) })).toThrow(/; did you mean logLevel\?$/);
  });

  test("every key of the file it refuses is said at once, not one a start", () => {
    const path = file({ logLevl: "debug", shop: { lru: "https://x.example" }, webhooks: { maxbodybytes: 1 } });
    expect(messageOf(() => load({}, { file: path }))).toBe(
      `config file ${path} has 3 keys to mend, each said here: (1) unknown setting logLevl in config file ${path}; did you mean logLevel? (2) unknown setting shop.lru in config file ${path}; shop takes url (3) unknown setting webhooks.maxbodybytes in config file ${path}; did you mean webhooks.maxBodyBytes?`,
    );
    // A secret written in the file is among them, as it was where it came first.
    const withSecret = file({ logLevl: "debug", shop: { key: "k" } });
    expect(messageOf(() => load({}, { file: withSecret }))).toMatch(
      /has 2 keys to mend, each said here: \(1\) unknown setting logLevl .* \(2\) shop\.key is a secret/,
    );
  });

  test("a value it refuses is said with the file's keys it refuses, not at the next start", () => {
    const path = file({ logLevl: "debug", webhooks: { maxBodyBytes: "lots" } });
    expect(messageOf(() => load({}, { file: path }))).toBe(
      `config file ${path} has 1 key to mend, and a setting read without that key is refused too, each said here: (1) unknown setting logLevl in config file ${path}; did you mean logLevel? (2) invalid setting webhooks.maxBodyBytes in ${path}: expected a whole number of bytes (got "lots")`,
    );
    // One from the environment too, named as it was set.
    expect(messageOf(() => load({ WAITER_LOG_LEVEL: "loud" }, { file: file({ logLevl: "debug" }) }))).toMatch(
      /^config file .* has 1 key to mend, and a setting read without that key is refused too, each said here: \(1\) unknown setting logLevl .* \(2\) invalid setting WAITER_LOG_LEVEL: /,
    );
    expect(
      messageOf(() => load({ WAITER_LOG_LEVEL: "loud" }, { file: file({ logLevl: "debug", toolTimout: 20 }) })),
    ).toMatch(
      /^config file .* has 2 keys to mend, and a setting read without those keys is refused too, each said here: \(1\) .* \(2\) .* \(3\) invalid setting WAITER_LOG_LEVEL: /,
    );
  });

  test("a key written as the settings page names it, with a dot (webhooks.listen), is said to go in its section's object", () => {
    const path = file({ "webhooks.listen": "0.0.0.0:8790" });
    expect(messageOf(() => load({}, { file: path }))).toBe(
      `unknown setting webhooks.listen in config file ${path}; a key holds no dot: write it {"webhooks": {"listen": …}}`,
    );
    // Also when that section's object is there too.
    const both = file({ webhooks: { maxBodyBytes: 2048 }, "webhooks.listen": "0.0.0.0:8790" });
    expect(messageOf(() => load({}, { file: both }))).toMatch(
      /; a key holds no dot: write it \{"webhooks": \{"listen": …\}\}$/,
    );
  });

  test("a key of the file with a stray blank, which the refusal does not show, is told which blank to take out", () => {
    const refused = (content: object) => messageOf(() => load({}, { file: file(content) }));
    expect(refused({ " logLevel": "debug" })).toMatch(
      /^unknown setting \[not shown\] in config file .*; a space before the setting's name makes it another key; write "logLevel" alone$/,
    );
    expect(refused({ webhooks: { "retention\t": {} } })).toMatch(
      /^unknown setting webhooks\.\[not shown\] in config file .*; a tab after the setting's name makes it another key; write "retention" alone$/,
    );
    expect(refused({ "notify ": { channels: {} } })).toMatch(
      /^unknown setting \[not shown\] in config file .*; a space after the setting's name makes it another key; write "notify" alone$/,
    );
    // Written in another case too, as the settings in JSON are told of theirs: the blank is said with the key meant.
    expect(refused({ "loglevel ": "debug" })).toMatch(
      /^unknown setting \[not shown\] in config file .*; a space after the setting's name makes it another key; write "logLevel" alone$/,
    );
    expect(refused({ webhooks: { " maxConections": 5 } })).toMatch(
      /^unknown setting webhooks\.\[not shown\] in config file .*; a space before the setting's name makes it another key; write "maxConnections" alone$/,
    );
  });

  test("a key one letter off, or two in a long one, is named with the key meant", () => {
    const refused = (content: object) => messageOf(() => load({}, { file: file(content) }));
    expect(refused({ logLevl: "debug" })).toMatch(/^unknown setting logLevl in .*; did you mean logLevel\?$/);
    expect(refused({ automationsRetrySeconds: 5 })).toMatch(/; did you mean automationRetrySeconds\?$/);
    expect(refused({ automationRetrySecond: 5 })).toMatch(/; did you mean automationRetrySeconds\?$/);
    expect(refused({ webhooks: { maxConections: 5 } })).toMatch(/; did you mean webhooks\.maxConnections\?$/);
    expect(refused({ webhooks: { sorces: {} } })).toMatch(/; did you mean webhooks\.sources\?$/);
    expect(refused({ sorces: {} })).toMatch(
      /; did you mean webhooks\.sources, written \{"webhooks": \{"sources": …\}\}\?$/,
    );
    // Two neighbours swapped are one slip; in three letters, two edits are too far.
    expect(refused({ shop: { uri: "https://x.example" } })).toMatch(/; did you mean shop\.url\?$/);
    expect(refused({ shop: { ulr: "https://x.example" } })).toMatch(/; did you mean shop\.url\?$/);
    expect(refused({ shop: { lru: "https://x.example" } })).toMatch(/; shop takes url$/);
  });

  test("a key written with a unit, or another unit than its setting's, is named with the key meant, as its variable is", () => {
    const refused = (content: object) => messageOf(() => load({}, { file: file(content) }));
    expect(refused({ sessionIdleMin: 30 })).toMatch(
      /^unknown setting sessionIdleMin in .*; did you mean sessionIdleMinutes\?$/,
    );
    expect(refused({ stopSecs: 5 })).toMatch(/; did you mean stopSeconds\?$/);
    expect(refused({ toolTimeoutMs: 30000 })).toMatch(/; did you mean toolTimeout, which is not in milliseconds\?$/);
    expect(refused({ http: { requestsPerSec: 10 } })).toMatch(
      /^unknown setting http\.requestsPerSec in .*; did you mean http\.requestsPerMinute, which counts per minute \(10 a second is 600\)\?$/,
    );
  });

  test("a word several keys hold (max) names each of them: the one with the fewest other words is no likelier", () => {
    const refused = (content: object) => messageOf(() => load({}, { file: file(content) }));
    expect(refused({ webhooks: { max: 5 } })).toMatch(
      /^unknown setting webhooks\.max in .*; did you mean webhooks\.maxConnections, or webhooks\.maxBodyBytes, or webhooks\.maxConnectionsPerClient\?$/,
    );
    expect(refused({ max: 5 })).toMatch(/; did you mean maxSessions, or maxResponseBytes\?$/);
    // A key that is the word itself is the one meant: port is listen.
    expect(refused({ port: 8790 })).toMatch(/; did you mean listen\?$/);
    expect(load({ WAITER_MAX: "5" }).warnings).toEqual([
      "WAITER_MAX is no setting of waiter's and is ignored; did you mean WAITER_MAX_SESSIONS, or WAITER_MAX_RESPONSE_BYTES, or WAITER_WEBHOOKS_MAX_CONNECTIONS, or WAITER_WEBHOOKS_MAX_BODY_BYTES, or WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT?",
    ]);
    // Its section's words before it, as webhooks.max is written in the file.
    expect(load({ WAITER_WEBHOOKS_MAX: "5" }).warnings).toEqual([
      "WAITER_WEBHOOKS_MAX is no setting of waiter's and is ignored; did you mean WAITER_WEBHOOKS_MAX_CONNECTIONS, or WAITER_WEBHOOKS_MAX_BODY_BYTES, or WAITER_WEBHOOKS_MAX_CONNECTIONS_PER_CLIENT?",
    ]);
  });

  test("a key of webhooks.retention's JSON written as a setting of its own (retentionDays, maxEvents) is named with where it goes", () => {
    const refused = (content: object) => messageOf(() => load({}, { file: file(content) }));
    const maxAgeDays =
      /; that is maxAgeDays of webhooks\.retention, written \{"webhooks": \{"retention": \{"maxAgeDays": …\}\}\}$/;
    expect(refused({ webhooks: { retentionDays: 7 } })).toMatch(maxAgeDays);
    expect(refused({ retentionDays: 7 })).toMatch(maxAgeDays);
    expect(refused({ webhooks: { maxAgeDays: 7 } })).toMatch(maxAgeDays);
    expect(refused({ webhooks: { maxEvents: 1000 } })).toMatch(
      /^unknown setting webhooks\.maxEvents in .*; that is maxEvents of webhooks\.retention, written \{"webhooks": \{"retention": \{"maxEvents": …\}\}\}$/,
    );
    const ignored = (name: string, key: string) =>
      `${name} is no setting of waiter's and is ignored; that is ${key} of WAITER_WEBHOOKS_RETENTION, which takes JSON: WAITER_WEBHOOKS_RETENTION={"${key}":…}`;
    expect(
      load({ WAITER_RETENTION_DAYS: "7", WAITER_WEBHOOKS_MAX_EVENTS: "1000", WAITER_MAX_AGE_DAYS: "7" }).warnings,
    ).toEqual([
      ignored("WAITER_RETENTION_DAYS", "maxAgeDays"),
      ignored("WAITER_WEBHOOKS_MAX_EVENTS", "maxEvents"),
      ignored("WAITER_MAX_AGE_DAYS", "maxAgeDays"),
    ]);
  });

  test("a key in another section's place, a section's key without its first word, or a variable's name as a key, is named with the key meant and where it goes", () => {
    const refused = (content: object) => messageOf(() => load({}, { file: file(content) }));
    expect(refused({ sources: {} })).toMatch(
      /^unknown setting sources in config file .*; did you mean webhooks\.sources, written \{"webhooks": \{"sources": …\}\}\?$/,
    );
    expect(refused({ contact: "it@example.com" })).toMatch(
      /; did you mean weather\.contact, written \{"weather": \{"contact": …\}\}\?$/,
    );
    expect(refused({ webhooks: { logLevel: "debug" } })).toMatch(
      /^unknown setting webhooks\.logLevel in .*; did you mean logLevel, written \{"logLevel": …\}\?$/,
    );
    expect(refused({ url: "https://x.example" })).toMatch(
      /; did you mean database\.url, written .*, or shop\.url, written/,
    );
    // Inside a section, the section's own key comes first, even written without its first word.
    expect(refused({ eshop: { url: "https://shop.example" } })).toMatch(
      /^unknown setting eshop\.url in .*; did you mean eshop\.wooUrl\?$/,
    );
    expect(refused({ weather: { url: "https://x.example" } })).toMatch(
      /; did you mean weather\.metUrl, or weather\.openMeteoUrl, or weather\.geocodingUrl\?$/,
    );
    expect(refused({ eshop: { shopUrl: "https://shop.example" } })).toMatch(/; eshop takes wooUrl, wooAuth$/);
    expect(refused({ WAITER_CONTACT: "it@example.com" })).toMatch(
      /^unknown setting WAITER_CONTACT in config file .*; that is the environment variable's name; the file's key is weather\.contact, written \{"weather": \{"contact": …\}\}$/,
    );
    // A secret's key or variable anywhere: it goes in the environment, and its value is not repeated.
    expect(refused({ key: "k3yk3yk3y" })).toMatch(
      /; shop\.key is a secret: set it in the environment as TEST_SHOP_KEY, not in a file$/,
    );
    expect(refused({ TEST_SHOP_KEY: "k3yk3yk3y" })).toMatch(
      /; shop\.key is a secret: set it in the environment as TEST_SHOP_KEY/,
    );
    expect(refused({ eshop: { key: "k3yk3yk3y" } })).toMatch(
      /; eshop\.wooKey is a secret: set it in the environment as WAITER_WOO_KEY, not in a file$/,
    );
    expect(refused({ TEST_SHOP_KEY: "k3yk3yk3y" })).not.toContain("k3y");
  });

  test("a secret in the file is refused and the environment variable named", () => {
    const path = file({ shop: { key: "k" } });
    expect(() => load({}, { file: path })).toThrow(/shop.key is a secret: set it in the environment as TEST_SHOP_KEY/);
  });

  test("a URL in the file with a user, a password or a query is refused: it may hold credentials", () => {
    for (const url of [
      "https://ck_live_1:cs_live_2@shop.example/api",
      "https://shop.example/api?key=abc",
      "https://owner@shop.example",
    ]) {
      const path = file({ shop: { url } });
      expect(() => load({}, { file: path }), url).toThrow(
        `shop.url in config file ${path} holds a user, a password or a query in its URL, which may be credentials: set that URL in the environment as TEST_SHOP_URL, not in a file`,
      );
    }
    expect(load({}, { file: file({ shop: { url: "https://shop.example/api" } }) }).toolsets.shop?.url).toBeDefined();
    // From the environment it is taken: a company proxy may want its token there.
    expect(load({ TEST_SHOP_URL: "https://shop.example/api?token=proxy" }).toolsets.shop?.url).toBeDefined();
  });

  test("a Telegram channel's baseUrl holding a bot token is refused, without the token", () => {
    const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    const channels = {
      ops: { type: "telegram", botTokenEnv: "TG", chatIds: ["1"], baseUrl: `https://api.telegram.org/bot${token}/` },
    };
    const path = file({ notify: { channels } });
    for (const [said, where] of [
      [
        messageOf(() => load({ TG: token, WAITER_NOTIFY_CHANNELS: JSON.stringify(channels) })),
        "WAITER_NOTIFY_CHANNELS",
      ],
      [messageOf(() => load({ TG: token }, { file: path })), `notify.channels in ${path}`],
    ]) {
      expect(said).toBe(
        `invalid setting ${where} at ops.baseUrl: holds a bot token in its path (/bot<token>): put the token in the variable botTokenEnv names, and in baseUrl the Bot API's address alone, like https://api.telegram.org`,
      );
      expect(said).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
    }
  });

  test("a Telegram bot token variable holding bot<token> or a Bot API URL is refused, without the token", () => {
    const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    const channels = JSON.stringify({ ops: { type: "telegram", botTokenEnv: "TG", chatIds: ["1"] } });
    for (const held of [
      `bot${token}`,
      `https://api.telegram.org/bot${token}`,
      `https://api.telegram.org/bot${token}/`,
    ]) {
      const said = messageOf(() => load({ TG: held, WAITER_NOTIFY_CHANNELS: channels }));
      expect(said).toBe(
        "notification channel ops: TG holds more than the Telegram bot token, which is the digits, a colon and the rest, like 123456:ABC-DEF1234ghIkl (without bot or the Bot API's address before it); what it holds is not shown",
      );
      expect(said).not.toContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw");
    }
    expect(load({ TG: token, WAITER_NOTIFY_CHANNELS: channels }).toolsets.notify).toBeDefined();
  });

  test("a password pasted into an ordinary setting is not quoted back in its refusal, a typo or a name is", () => {
    const mail = (settings: object, name = "m") =>
      JSON.stringify({
        [name]: {
          type: "email",
          host: "localhost",
          tls: "none",
          from: "a@b.example",
          to: ["c@d.example"],
          ...settings,
        },
      });
    const tlsModes =
      '"starttls" (the default: upgraded after connecting, usually port 587), "tls" (TLS from the start, which other tools call SSL or secure; usually port 465) or "none"';
    // The password its variable holds, whatever its shape.
    const login = { user: "shop", passwordEnv: "SMTP_PASSWORD" };
    expect(
      messageOf(() =>
        load({ SMTP_PASSWORD: "Hunter2024", WAITER_NOTIFY_CHANNELS: mail({ ...login, tls: "Hunter2024" }) }),
      ),
    ).toBe(`invalid setting WAITER_NOTIFY_CHANNELS at m.tls: expected ${tlsModes}`);
    expect(
      messageOf(() =>
        load({ SMTP_PASSWORD: "horsebattery", WAITER_NOTIFY_CHANNELS: mail({ ...login, port: "horsebattery" }) }),
      ),
    ).toBe("invalid setting WAITER_NOTIFY_CHANNELS at m.port: expected a number");
    expect(messageOf(() => load({ WAITER_NOTIFY_CHANNELS: mail({ tls: "startls" }) }))).toBe(
      `invalid setting WAITER_NOTIFY_CHANNELS at m.tls: expected ${tlsModes} (got "startls")`,
    );
    // A name or a typo in both cases and digits is no password: the refusal says which it is.
    expect(messageOf(() => load({ WAITER_NOTIFY_CHANNELS: mail({}, "Ops2Team2024") }))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at Ops2Team2024: channel names are 1 to 63 characters: lowercase a-z, digits, - and _, the first a letter or digit",
    );
    expect(messageOf(() => load({ WAITER_NOTIFY_CHANNELS: mail({ tls: "StartTLS2" }) }))).toBe(
      `invalid setting WAITER_NOTIFY_CHANNELS at m.tls: expected ${tlsModes} (got "StartTLS2")`,
    );
  });

  test("a Telegram bot token variable holding what is no bot token is refused at start, without it", () => {
    const channels = JSON.stringify({ ops: { type: "telegram", botTokenEnv: "TG", chatIds: ["1"] } });
    for (const held of [
      "@ShopNewsBot",
      "123456789:AAHdqTcvCH1vGWJx feofSAs0K5PALDsaw",
      "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'",
      "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    ]) {
      const said = messageOf(() => load({ TG: held, WAITER_NOTIFY_CHANNELS: channels }));
      expect(said).toBe(
        "notification channel ops: TG does not hold a Telegram bot token as @BotFather gives it: the bot's digits, a colon and letters, digits, _ or -, like 123456:ABC-DEF1234ghIkl, with no quote, space or @name; what it holds is not shown",
      );
      expect(said).not.toContain("AAHdqTcvCH1vGWJx");
      expect(said).not.toContain("ShopNewsBot");
    }
  });

  test("a URL with credentials inside a JSON setting in the file is refused too, without its value", () => {
    const telegram = { type: "telegram", botTokenEnv: "TG", chatIds: ["1"] };
    const gopay = { scheme: "gopay", clientId: "1234", secretEnv: "GOPAY_SECRET" };
    const env = { TG: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", GOPAY_SECRET: "gopay-client-secret" };
    for (const [content, where, variable] of [
      [
        { notify: { channels: { ops: { ...telegram, baseUrl: "https://gw:Gat3wayPassw0rd@tg.example.com" } } } },
        "notify.channels at ops.baseUrl",
        "WAITER_NOTIFY_CHANNELS",
      ],
      [
        {
          webhooks: { sources: { pay: { ...gopay, apiUrl: "https://gw.sandbox.gopay.com/api?key=Gat3wayPassw0rd" } } },
        },
        "webhooks.sources at pay.apiUrl",
        "WAITER_WEBHOOKS_SOURCES",
      ],
      // Written as its variable holds it, JSON text, which the file takes too.
      [
        {
          notify: {
            channels: JSON.stringify({ ops: { ...telegram, baseUrl: "https://tg.example.com/?key=Gat3wayPassw0rd" } }),
          },
        },
        "notify.channels at ops.baseUrl",
        "WAITER_NOTIFY_CHANNELS",
      ],
    ] as const) {
      const path = file(content);
      const said = messageOf(() => load(env, { file: path }));
      expect(said).toBe(
        `${where} in config file ${path} holds a user, a password or a query in its URL, which may be credentials: set that URL in the environment as ${variable}, not in a file`,
      );
      expect(said).not.toContain("Gat3wayPassw0rd");
    }
    // A link in a message's text is no URL waiter reaches: taken.
    const plain = {
      notify: { channels: { ops: { ...telegram, baseUrl: "https://tg.example.com" } } },
      webhooks: { sources: { shop: { scheme: "woocommerce", secretEnv: "SHOP_SECRET" } } },
      automations: [
        {
          name: "tell",
          when: { source: "shop" },
          do: [{ notify: "ops", text: "https://shop.example/wp-admin/post.php?post={{payload.id}}&action=edit" }],
        },
      ],
    };
    expect(load({ ...env, SHOP_SECRET: "shop-webhook-secret" }, { file: file(plain) }).core.automations).toHaveLength(
      1,
    );
  });

  test("a URL with a user and a password anywhere in a JSON setting in the file is refused, without them", () => {
    const env = { SHOP_SECRET: "shop-webhook-secret" };
    const tell = (text: string) => ({
      notify: {
        channels: { ops: { type: "email", host: "localhost", tls: "none", from: "a@b.example", to: ["c@d.example"] } },
      },
      webhooks: { sources: { shop: { scheme: "woocommerce", secretEnv: "SHOP_SECRET" } } },
      automations: [{ name: "tell", when: { source: "shop" }, do: [{ notify: "ops", text }] }],
    });
    for (const text of [
      "https://admin:Gat3wayPassw0rd@shop.example/wp-admin/",
      "Paid: see https://admin:Gat3wayPassw0rd@shop.example/wp-admin/post.php?post={{payload.id}}",
    ]) {
      const path = file(tell(text));
      const said = messageOf(() => load(env, { file: path }));
      expect(said).toBe(
        `automations at 0.do.0.text in config file ${path} holds a link with a user or a password, which would go out wherever that text goes, from the environment too: write the link without them`,
      );
      expect(said).not.toContain("Gat3wayPassw0rd");
    }
    // An address in a message's text is no user of a URL.
    const mail = "Paid: see https://shop.example/@team or write to shop@shop.example";
    expect(load(env, { file: file(tell(mail)) }).core.automations).toHaveLength(1);
  });

  test("a URL with a password that goes out in no message is told to move to the environment, not to drop it", () => {
    const env = { SHOP_SECRET: "shop-webhook-secret" };
    const link = "https://admin:Gat3wayPassw0rd@shop.example/";
    const where = [{ path: "payload.referrer", equals: link }];
    const automations = [{ name: "a", when: { source: "shop", where }, do: [{ ack: true }] }];
    const sources = { shop: { scheme: "woocommerce", secretEnv: "SHOP_SECRET" } };
    const compared = file({ webhooks: { sources }, automations });
    expect(messageOf(() => load(env, { file: compared }))).toBe(
      `automations at 0.when.where.0.equals in config file ${compared} holds a user, a password or a query in its URL, which may be credentials: set that URL in the environment as WAITER_AUTOMATIONS, not in a file`,
    );
    const origins = file({ webhooks: { sources, allowedOrigins: [link] } });
    expect(messageOf(() => load(env, { file: origins }))).toBe(
      `webhooks.allowedOrigins at 0 in config file ${origins} holds a user, a password or a query in its URL, which may be credentials: set that URL in the environment as WAITER_WEBHOOKS_ALLOWED_ORIGINS, not in a file`,
    );
  });

  test("a secret comes from the environment", () => {
    expect(load({ TEST_SHOP_KEY: "k" }).toolsets.shop?.key).toBe("k");
  });

  test("an unreadable or broken file says so", () => {
    expect(() => load({}, { file: "/nonexistent/waiter.json" })).toThrow(
      "cannot read config file /nonexistent/waiter.json: ENOENT, there is no such file",
    );
    // An MCP client's args name it from a directory of the client's choosing (often /).
    expect(messageOf(() => load({}, { file: "nonexistent.json" }))).toBe(
      `cannot read config file nonexistent.json (from ${process.cwd()}): ENOENT, there is no such file: a relative path is read from the current directory, which an MCP client chooses (often /), so give a client's args an absolute path`,
    );
    expect(() => load({}, { file: tmpdir() })).toThrow(
      `cannot read config file ${tmpdir()}: EISDIR, it is a directory`,
    );
    expect(() => load({}, { file: file("{oops") })).toThrow(/is not valid JSON/);
    // Where an editor finds it: a trailing comma on line 3 (Node 22's V8 says it without the comma).
    expect(() => load({}, { file: file('{\n  "logLevel": "debug",\n  "readOnly": true,\n}') })).toThrow(
      /is not valid JSON: .* \(line 4,? column 1\): a comma after the last item, which JSON does not allow; remove it$/,
    );
    // A comment, as VS Code's JSON with comments takes, on line 2 and after a value.
    expect(() => load({}, { file: file('{\n  // the shop\n  "logLevel": "debug"\n}') })).toThrow(
      /is not valid JSON: .* \(line 2,? column 3\): a comment, which JSON does not allow; remove it$/,
    );
    expect(() => load({}, { file: file('{\n  "logLevel": "debug" /* for now */\n}') })).toThrow(
      /is not valid JSON: .* \(line 2,? column 23\): a comment, which JSON does not allow; remove it$/,
    );
    expect(() => load({}, { file: file("[1]") })).toThrow(/must hold a JSON object/);
    // A Windows path as Explorer and `pwd` write it: in JSON a single backslash begins an escape.
    for (const path of ["C:\\Users\\jana\\waiter-data", "C:\\users\\jana\\waiter-data", "D:\\waiter"]) {
      expect(messageOf(() => load({}, { file: file(`{\r\n  "dataDir": "${path}"\r\n}`) }))).toMatch(
        /is not valid JSON: Bad (?:escaped character|Unicode escape) .* \(line 2,? column \d+\): a single backslash, which begins an escape in JSON; write a Windows path with forward slashes \(C:\/Users\/you\) or with each backslash doubled \(C:\\\\Users\\\\you\)$/,
      );
    }
  });

  test("an environment file (KEY=value lines) named as the config file is told to be given as the environment", () => {
    const said = (path: string) =>
      `config file ${path} holds environment variables (KEY=value lines), not JSON: give them to waiter as its environment (a systemd unit's EnvironmentFile=, docker run --env-file, compose's env_file), and leave out --config, or name a JSON file`;
    // As docs/waiter.env.example begins: comments, then a variable; one with export before it too.
    for (const content of [
      "# the replicas' settings\n\nWAITER_LOG_LEVEL=debug\nWAITER_WOO_SECRET=cs_x\n",
      "export WAITER_LOG_LEVEL=debug\r\n",
    ]) {
      const path = file(content);
      expect(
        messageOf(() => load({}, { file: path })),
        JSON.stringify(content),
      ).toBe(said(path));
    }
    // The secret after = is not repeated.
    expect(messageOf(() => load({}, { file: file("WAITER_WOO_SECRET=cs_secret\n") }))).not.toContain("cs_secret");
  });

  test("a YAML config file is told to be written as JSON, with its first key as JSON writes it", () => {
    for (const content of [
      "# waiter\nlogLevel: debug\nreadOnly: true\n",
      "---\nwebhooks:\n  listen: 127.0.0.1:8790\n",
    ]) {
      const path = file(content);
      const key = content.includes("logLevel") ? "logLevel" : "webhooks";
      expect(
        messageOf(() => load({}, { file: path })),
        JSON.stringify(content),
      ).toBe(
        `config file ${path} is YAML (key: value lines), and waiter reads JSON: write it as one JSON object, each key in double quotes ({"${key}": ...})`,
      );
    }
  });

  test("a key written twice in one object with other values, which JSON keeps only the last of, is named with where the second is", () => {
    // A second automations list, added below the first, would leave the first's automations out.
    const twice = file('{\n  "automations": [],\n  "logLevel": "debug",\n  "automations": [{ "name": "b" }]\n}');
    expect(() => load({}, { file: twice })).toThrow(
      `config file ${twice} has the key "automations" twice in one object (line 4, column 3), with other values: JSON keeps only the last, and waiter would go without the first; put what both hold under one key`,
    );
    // Written twice the same, nothing is lost.
    expect(load({}, { file: file('{"logLevel": "debug", "logLevel": "debug"}') }).core.logLevel).toBe("debug");
    expect(() => load({ WAITER_AUTOMATIONS: '[{"name": "a", "name": "b"}]' })).toThrow(
      'invalid setting WAITER_AUTOMATIONS: has the key "name" twice in one object (line 1, column 16), with other values: JSON keeps only the last, and waiter would go without the first; put what both hold under one key',
    );
  });

  test("a config path under a file, an empty file, or a # comment says what to write", () => {
    // A path through a file, as when a config file's name was given for its directory's.
    const inFile = file("{}");
    expect(() => load({}, { file: join(inFile, "waiter.json") })).toThrow(
      `cannot read config file ${join(inFile, "waiter.json")}: ENOTDIR, ${inFile} is a file, not a directory`,
    );
    expect(() => load({}, { file: join(inFile, "etc", "waiter.json") })).toThrow(
      `cannot read config file ${join(inFile, "etc", "waiter.json")}: ENOTDIR, ${inFile} is a file, not a directory`,
    );
    // Empty, or blanks only (a byte-order mark too), as `touch` or an editor leaves a new file.
    for (const content of ["", " \n", "\uFEFF\r\n"]) {
      const path = file(content);
      expect(
        messageOf(() => load({}, { file: path })),
        JSON.stringify(content),
      ).toBe(`config file ${path} is empty: write {} in it for no settings, or leave out --config`);
    }
    const named = file("");
    expect(messageOf(() => load({ WAITER_CONFIG: named }))).toBe(
      `config file ${named} is empty: write {} in it for no settings, or unset WAITER_CONFIG`,
    );
    // A comment as a shell script, YAML or TOML writes one, on its own line or after a value.
    expect(() => load({}, { file: file('# waiter\n{"logLevel": "debug"}') })).toThrow(
      /is not valid JSON: .* \(line 1,? column 1\): a comment, which JSON does not allow; remove it$/,
    );
    expect(() => load({}, { file: file('{\n  # the shop\n  "logLevel": "debug"\n}') })).toThrow(
      /is not valid JSON: .* \(line 2,? column 3\): a comment, which JSON does not allow; remove it$/,
    );
    expect(() => load({}, { file: file('{\n  "logLevel": "debug" # for now\n}') })).toThrow(
      /is not valid JSON: .* \(line 2,? column 23\): a comment, which JSON does not allow; remove it$/,
    );
  });

  test("tokens written as no JSON list at all (a name or a token alone) are told the shape to write", () => {
    const shape =
      'write it as a JSON list of tokens, such as [{"name":"ops","secretEnv":"WAITER_TOKEN_OPS","scope":"write"}]';
    const message = messageOf(() => load({ WAITER_HTTP_TOKENS: "abc" }));
    expect(message).toMatch(/^invalid setting WAITER_HTTP_TOKENS: is not valid JSON: .* \(line 1,? column 1\); /);
    expect(message.endsWith(`; ${shape} (got "abc")`), message).toBe(true);
    // A list or object that went wrong is told where, without the shape.
    expect(messageOf(() => load({ WAITER_HTTP_TOKENS: "[{name: 1}]" }))).not.toContain("such as");
  });

  test("an OAuth server or webhook sources written as no JSON object (a URL or a name alone) are told the shape to write", () => {
    expect(messageOf(() => load({ WAITER_HTTP_OAUTH: "https://login.example.org/realms/shop" }))).toMatch(
      /; write it as a JSON object, such as \{"issuer":"https:\/\/id\.example\.com"\}$/,
    );
    // Written as the example's issuer, which is no value to hide in waiter's own example.
    expect(messageOf(() => load({ WAITER_HTTP_OAUTH: "https://id.example.com" }))).toMatch(
      /; write it as a JSON object, such as \{"issuer":"https:\/\/id\.example\.com"\}$/,
    );
    expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: "stripe" }))).toMatch(
      /; write it as a JSON object of sources by name, such as \{"stripe":\{"scheme":"stripe","secretEnv":"STRIPE_WEBHOOK_SECRET"\}\}$/,
    );
  });

  test("automations, notification channels or retention written as no JSON are told the shape to write", () => {
    expect(messageOf(() => load({ WAITER_AUTOMATIONS: "paid" }))).toMatch(
      /^invalid setting WAITER_AUTOMATIONS: is not valid JSON: .*; write it as a JSON list of automations, such as \[\{"name":"paid","when":\{"source":"stripe","type":"payment_intent\.succeeded"\},"do":\[\{"notify":"team","text":"Paid\."\}\]\}\]$/,
    );
    expect(messageOf(() => load({ WAITER_NOTIFY_CHANNELS: "telegram" }))).toMatch(
      /^invalid setting WAITER_NOTIFY_CHANNELS: is not valid JSON: .*; write it as a JSON object of channels by name, such as \{"team":\{"type":"telegram","botTokenEnv":"TELEGRAM_BOT_TOKEN","chatIds":\["-1001234567890"\]\}\}$/,
    );
    expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: "maxAgeDays=30" }))).toMatch(
      /^invalid setting WAITER_WEBHOOKS_RETENTION: is not valid JSON: .*; write it as a JSON object, such as \{"maxEvents":100000,"maxAgeDays":30\}$/,
    );
  });

  test("a JSON setting in the environment that does not parse says why and where, as the config file does", () => {
    const ops = '{"name":"ops","secretEnv":"OPS_TOKEN","scope":"write"}';
    const inObject = `[${ops.replace("}", ",}")}]`;
    expect(messageOf(() => load({ WAITER_HTTP_TOKENS: inObject }))).toMatch(
      new RegExp(
        `^invalid setting WAITER_HTTP_TOKENS: is not valid JSON: Expected double-quoted property name in JSON at position \\d+ \\(line 1,? column ${inObject.indexOf(",}") + 2}\\): a comma after the last item, which JSON does not allow; remove it$`,
      ),
    );
    // V8 gives an unexpected token no position: the place is found, in the environment and in the file.
    const inList = `[${ops},]`;
    expect(messageOf(() => load({ WAITER_HTTP_TOKENS: inList }))).toMatch(
      new RegExp(
        `^invalid setting WAITER_HTTP_TOKENS: is not valid JSON: Unexpected token '\\]'.* \\(line 1,? column ${inList.indexOf(",]") + 2}\\): a comma after the last item, which JSON does not allow; remove it$`,
      ),
    );
    expect(messageOf(() => load({}, { file: file(`{"http": {"tokens": [\n  ${ops},\n]}}`) }))).toMatch(
      /is not valid JSON: Unexpected token '\]'.* \(line 3,? column 1\): a comma after the last item, which JSON does not allow; remove it$/,
    );
  });

  test("a JSON setting written as a string in the config file is said to be of the wrong kind, not JSON broken at a place the file does not have", () => {
    const asJson = "got a string: the config file holds it as JSON itself, where its variable holds it as text";
    const cases: [object, string][] = [
      [{ webhooks: { retention: "30d" } }, `webhooks.retention in {}: expected an object, ${asJson} (got "30d")`],
      [{ webhooks: { sources: "stripe" } }, `webhooks.sources in {}: expected an object, ${asJson} (got "stripe")`],
      [{ http: { tokens: "OPS_TOKEN" } }, `http.tokens in {}: expected a list, ${asJson} (got "OPS_TOKEN")`],
      [{ automations: "none" }, `automations in {}: expected a list, ${asJson} (got "none")`],
    ];
    for (const [content, message] of cases) {
      const path = file(content);
      expect(
        messageOf(() => load({}, { file: path })),
        JSON.stringify(content),
      ).toBe(`invalid setting ${message.replace("{}", path)}`);
    }
    // A string of JSON there is read, as the variable's is.
    const path = file({ webhooks: { retention: '{"maxEvents": 10}' } });
    expect(webhooksOf(load({}, { file: path })).retention.maxEvents).toBe(10);
    // In the variable, a value that is no JSON is said to be so.
    expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: "30d" }))).toMatch(
      /^invalid setting WAITER_WEBHOOKS_RETENTION: is not valid JSON: /,
    );
  });

  test("a file saved with a byte-order mark, as Windows editors save one, is read", () => {
    expect(load({}, { file: file('\uFEFF{"logLevel": "debug"}') }).core.logLevel).toBe("debug");
  });

  test("a JSON setting in a variable with a byte-order mark (a file saved by a Windows editor, read into it) is read", () => {
    const bom = "\uFEFF";
    const config = load({ WAITER_WEBHOOKS_RETENTION: `${bom}{"maxEvents": 10}` });
    expect(webhooksOf(config).retention.maxEvents).toBe(10);
    // A mistake inside it is named at its place, and what may be a secret there is not shown, as without the mark.
    const sources = JSON.stringify({
      shop: { scheme: "woocommerce", secretEnv: "SHOP_SECRET", secret: "hunter2hunter2" },
    });
    const without = messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: sources }));
    expect(without).toMatch(/^invalid setting WAITER_WEBHOOKS_SOURCES at shop: /);
    expect(messageOf(() => load({ WAITER_WEBHOOKS_SOURCES: `${bom}${sources}` }))).toBe(without);
  });

  test("a file saved as UTF-16, as Windows PowerShell's > and Out-File save one, is read", () => {
    const text =
      '{\r\n  "logLevel": "debug",\r\n  "weather": { "contact": "https://firma.example/jiří-novák" }\r\n}\r\n';
    const littleEndian = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    const bigEndian = Buffer.from([0xfe, 0xff, ...Buffer.from(text, "utf16le").swap16()]);
    for (const bytes of [littleEndian, bigEndian]) {
      const config = load({}, { file: file(bytes) });
      expect(config.core.logLevel).toBe("debug");
      // Read whole; kept as the User-Agent header it goes in can carry it, percent-encoded.
      expect(config.toolsets.weather).toMatchObject({ contact: "https://firma.example/ji%C5%99%C3%AD-nov%C3%A1k" });
    }
  });

  test("a file in the system's code page, as Windows PowerShell's Set-Content saves one, is refused where its first such character is, not read with that character lost", () => {
    // Windows-1250, a Czech Windows' code page: ř is 0xF8, í 0xED, á 0xE1; none of them is UTF-8.
    const text =
      '{\r\n  "logLevel": "debug",\r\n  "weather": { "contact": "https://firma.example/ji\u0159\u00ed-nov\u00e1k" }\r\n}\r\n';
    const cp1250 = Buffer.from(
      [...text].map((c) => ({ "\u0159": 0xf8, "\u00ed": 0xed, "\u00e1": 0xe1 })[c] ?? c.charCodeAt(0)),
    );
    const path = file(cp1250);
    expect(messageOf(() => load({}, { file: path }))).toBe(
      `config file ${path} is not UTF-8 (line 3, column 52): save it as UTF-8 (Windows PowerShell's Set-Content writes the system's code page unless given -Encoding utf8)`,
    );
  });
});

test("WooCommerce's key and secret in each other's variable are refused, saying which takes which; a key of neither shape is taken", () => {
  const key = "ck_228e704c201b7afca83657b3cc028cfd40f0d939";
  const secret = "cs_52428c91b453307f688eea274d4d339657470e79";
  const which =
    "WAITER_WOO_KEY takes the WooCommerce consumer key, which starts ck_, and WAITER_WOO_SECRET the consumer secret, which starts cs_";
  const swapped = messageOf(() => load({ WAITER_WOO_KEY: secret, WAITER_WOO_SECRET: key }));
  expect(swapped).toBe(`invalid setting WAITER_WOO_KEY and WAITER_WOO_SECRET: they are swapped; ${which}`);
  expect(swapped).not.toMatch(/228e|5242/);
  expect(messageOf(() => load({ WAITER_WOO_KEY: secret, WAITER_WOO_SECRET: secret }))).toBe(
    `invalid setting WAITER_WOO_KEY: it holds a consumer secret (it starts cs_); ${which}`,
  );
  expect(messageOf(() => load({ WAITER_WOO_KEY: key, WAITER_WOO_SECRET: key }))).toBe(
    `invalid setting WAITER_WOO_SECRET: it holds a consumer key (it starts ck_); ${which}`,
  );
  expect(load({ WAITER_WOO_KEY: key, WAITER_WOO_SECRET: secret }).toolsets.eshop?.wooKey).toBe(key);
  // Another auth plugin's credentials.
  expect(load({ WAITER_WOO_KEY: "shop-api-user", WAITER_WOO_SECRET: "app password" }).toolsets.eshop?.wooKey).toBe(
    "shop-api-user",
  );
});

test("a user and password in the shop's URL are refused where the key takes the Authorization header they would go in", () => {
  const keys = {
    WAITER_WOO_KEY: "ck_228e704c201b7afca83657b3cc028cfd40f0d939",
    WAITER_WOO_SECRET: "cs_52428c91b453307f688eea274d4d339657470e79",
  };
  // A staging shop behind a web server's HTTP Basic authentication.
  const gated = { ...keys, WAITER_WOO_URL: "https://staging:pa55word@shop.example" };
  const refused = messageOf(() => load(gated));
  expect(refused).toBe(
    "invalid setting WAITER_WOO_URL: it holds a user and password, which waiter sends as HTTP Basic authorization, and with WAITER_WOO_AUTH basic that header carries the consumer key instead; set WAITER_WOO_AUTH to query, which sends the key in the query and leaves the header to them",
  );
  expect(refused).not.toContain("pa55word");
  expect(load({ ...gated, WAITER_WOO_AUTH: "query" }).toolsets.eshop?.wooAuth).toBe("query");
});

test("the shop's URL copied from WordPress's admin is refused with the site's address to set; the REST API's is taken", () => {
  for (const [url, site] of [
    ["https://shop.example/wp-admin/", "https://shop.example"],
    ["https://shop.example/wp-admin", "https://shop.example"],
    ["https://shop.example/wp-admin/admin.php?page=wc-settings&tab=advanced", "https://shop.example"],
    ["https://user:pa55@www.example.cz/shop/WP-Admin/index.php#x", "https://www.example.cz/shop"],
  ] as const) {
    expect(
      messageOf(() => load({ WAITER_WOO_URL: url })),
      url,
    ).toBe(
      `invalid setting WAITER_WOO_URL: is an address of WordPress's admin (/wp-admin); set the site's address, ${site}, and waiter adds /wp-json/wc/v3 to it`,
    );
  }
  // Only a path segment of that name: a site of its own under /wp-administration is a site.
  for (const url of ["https://shop.example/wp-administration", "https://shop.example/wp-json/wc/v3"]) {
    expect(String(load({ WAITER_WOO_URL: url }).toolsets.eshop?.wooUrl)).toBe(url);
  }
});

test("a token whose secret is also another's (a webhook source's, an API key, a bot token, the database password from anywhere it is read) is refused, naming where, never the secret", () => {
  const secret = "0123456789abcdef".repeat(4);
  const ops = (secretEnv: string) =>
    JSON.stringify([
      { name: "ops", secretEnv: "OPS_TOKEN", scope: "read" },
      { name: "agent", secretEnv, scope: "write" },
    ]);
  const tokens = { WAITER_HTTP_TOKENS: ops("AGENT_TOKEN"), OPS_TOKEN: `${secret}-ops`, AGENT_TOKEN: secret };
  const hooks = {
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" } }),
  };
  const told = (where: string) =>
    `http token agent: AGENT_TOKEN holds the secret of ${where}, which the system it is for knows too: whoever reads it there could call waiter as agent. Give the token a secret of its own, made with \`openssl rand -hex 32\``;
  // One `openssl rand -hex 32` pasted as the token and as the shop's webhook secret, which the shop's admin shows.
  expect(messageOf(() => load({ ...tokens, ...hooks, WOO_WEBHOOK_SECRET: secret }))).toBe(
    told("WAITER_WEBHOOKS_SOURCES at shop.secretEnv (WOO_WEBHOOK_SECRET)"),
  );
  // The token reading the webhook secret's own variable.
  expect(
    messageOf(() =>
      load({ ...tokens, ...hooks, WAITER_HTTP_TOKENS: ops("WOO_WEBHOOK_SECRET"), WOO_WEBHOOK_SECRET: secret }),
    ),
  ).toMatch(/^http token agent: WOO_WEBHOOK_SECRET holds the secret of WAITER_WEBHOOKS_SOURCES at shop\.secretEnv/);
  expect(messageOf(() => load({ ...tokens, WAITER_WOO_SECRET: secret }))).toBe(told("WAITER_WOO_SECRET"));
  const bot = {
    WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: { type: "telegram", botTokenEnv: "BOT", chatIds: [1] } }),
  };
  // A bot token is the bot's digits, a colon and the rest: one pasted as an HTTP token too.
  const botToken = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
  expect(
    messageOf(() => load({ ...tokens, ...bot, BOT: botToken, OPS_TOKEN: `${botToken}-ops`, AGENT_TOKEN: botToken })),
  ).toBe(told("WAITER_NOTIFY_CHANNELS at team.botTokenEnv (BOT)"));
  const database = {
    WAITER_DATABASE_URL: "postgres://waiter@db.internal/waiter",
    WAITER_DATABASE_PASSWORD_ENV: "DB_PW",
  };
  expect(messageOf(() => load({ ...tokens, ...database, DB_PW: secret }))).toBe(
    told("WAITER_DATABASE_PASSWORD_ENV (DB_PW)"),
  );
  // PGPASSWORD, which the driver reads when neither passwordEnv nor the URL gives one.
  const postgres = { WAITER_DATABASE_URL: "postgres://waiter@db.internal/waiter" };
  expect(messageOf(() => load({ ...tokens, ...postgres, PGPASSWORD: secret }))).toBe(told("PGPASSWORD"));
  // A password in the URL, percent-encoded after the user or in the query.
  const reserved = `${secret}/+%`;
  for (const url of [
    `postgres://waiter:${encodeURIComponent(reserved)}@db.internal/waiter`,
    `postgres://waiter@db.internal/waiter?password=${encodeURIComponent(reserved)}`,
  ]) {
    const message = messageOf(() => load({ ...tokens, AGENT_TOKEN: reserved, WAITER_DATABASE_URL: url }));
    expect(message, url).toBe(told("WAITER_DATABASE_URL (the password in it)"));
  }
  // PGPASSWORD unread, without a database or beside a password in the URL, is no secret of waiter's.
  expect(load({ ...tokens, PGPASSWORD: secret }).http.tokens).toHaveLength(2);
  const inUrl = { WAITER_DATABASE_URL: "postgres://waiter:pw@db.internal/waiter" };
  expect(load({ ...tokens, ...inUrl, PGPASSWORD: secret }).http.tokens).toHaveLength(2);
  // Each its own: taken.
  expect(load({ ...tokens, ...hooks, WOO_WEBHOOK_SECRET: `${secret}-shop` }).http.tokens).toHaveLength(2);
  // Two tokens, each holding another system's secret: both said at once, not one a start.
  expect(
    messageOf(() => load({ ...tokens, ...hooks, WOO_WEBHOOK_SECRET: secret, WAITER_WOO_SECRET: `${secret}-ops` })),
  ).toBe(
    `The settings are refused for 2 reasons, each said here: (1) http token ops: OPS_TOKEN holds the secret of WAITER_WOO_SECRET, which the system it is for knows too: whoever reads it there could call waiter as ops. Give the token a secret of its own, made with \`openssl rand -hex 32\` (2) ${told("WAITER_WEBHOOKS_SOURCES at shop.secretEnv (WOO_WEBHOOK_SECRET)")}`,
  );
});

test("secrets are read through the reader a toolset's resolve is given, whose record holds each wherever it is read: a token holding one is refused, and one read after an await is recorded too", async () => {
  const secret = "0123456789abcdef".repeat(4);
  // A toolset whose secret's variable a setting names, as a webhook source's is.
  const vault: Toolset = {
    name: "vault",
    description: "a test toolset",
    settings: {
      keyEnv: { env: "TEST_VAULT_KEY_ENV", description: "the key's variable", schema: z.string().default("VAULT_KEY") },
    },
    resolve: (values, secrets, origin) => ({
      ...values,
      key: secrets.required(String(values.keyEnv), {
        setting: origin("keyEnv"),
        owner: "vault",
        holds: "the vault's key",
        example: "VAULT_KEY",
      }),
    }),
    tools: () => [],
  };
  const env = {
    HOME: "/home/u",
    WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
    OPS_TOKEN: secret,
    VAULT_KEY: secret,
  };
  expect(messageOf(() => loadConfig({ env }, [...toolsets(), vault]))).toMatch(
    /^http token ops: OPS_TOKEN holds the secret of TEST_VAULT_KEY_ENV \(VAULT_KEY\), which the system it is for knows too/,
  );
  // The record is the reader's, not a state that a synchronous call sets and restores.
  const reader = new Secrets(env);
  await Promise.resolve();
  expect(reader.optional("VAULT_KEY", { owner: "vault", setting: "TEST_VAULT_KEY_ENV" })).toBe(secret);
  reader.record({ secret: "pw", owner: "WAITER_DATABASE_URL", where: "WAITER_DATABASE_URL (the password in it)" });
  expect(reader.read).toEqual([
    { secret, owner: "vault", where: "TEST_VAULT_KEY_ENV (VAULT_KEY)" },
    { secret: "pw", owner: "WAITER_DATABASE_URL", where: "WAITER_DATABASE_URL (the password in it)" },
  ]);
});

test("a secret that begins or ends with a line break or a space stops waiter, naming its variable, never the secret", () => {
  const token = "0123456789abcdef".repeat(4);
  const tokens = { WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]) };
  const stripe = {
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe", secretEnv: "STRIPE_WEBHOOK_SECRET" } }),
  };
  const channel = (team: object) => ({ WAITER_NOTIFY_CHANNELS: JSON.stringify({ team }) });
  const mail = { type: "email", host: "smtp.example.com", from: "waiter@example.com", to: ["it@example.com"] };
  const database = { WAITER_DATABASE_URL: "postgres://waiter@db.internal/waiter" };
  const cases: [NodeJS.ProcessEnv, string][] = [
    // An env file saved with CRLF.
    [
      { ...tokens, OPS_TOKEN: `${token}\r` },
      "http token ops: OPS_TOKEN ends with a line break (a carriage return, which ends each line of a file saved with Windows line endings); remove it",
    ],
    // A secret mounted from a file, read with its last newline.
    [
      { ...stripe, STRIPE_WEBHOOK_SECRET: "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG\n" },
      "webhook source stripe: STRIPE_WEBHOOK_SECRET ends with a line break; remove it",
    ],
    [
      { WAITER_WOO_SECRET: " cs_52428c91b453307f688eea274d4d339657470e79" },
      "WAITER_WOO_SECRET begins with a space; remove it",
    ],
    [
      { ...channel({ ...mail, passwordEnv: "SMTP_PASSWORD" }), SMTP_PASSWORD: "hunter2hunter2\t" },
      "notification channel team: SMTP_PASSWORD ends with a tab; remove it",
    ],
    [
      { ...channel({ type: "telegram", botTokenEnv: "BOT", chatIds: [1] }), BOT: "123456789:AAHdqTcvCH1vGWJ\u00a0" },
      "notification channel team: BOT ends with an invisible blank (U+00A0); remove it",
    ],
    [{ ...database, PGPASSWORD: "s3cr3t-pw\n" }, "PGPASSWORD ends with a line break; remove it"],
    [
      { ...database, WAITER_DATABASE_PASSWORD_ENV: "DB_PW", DB_PW: "\ns3cr3t-pw" },
      "WAITER_DATABASE_PASSWORD_ENV: DB_PW begins with a line break; remove it",
    ],
  ];
  for (const [env, message] of cases) expect(messageOf(() => load(env))).toBe(message);
});

test("a WooCommerce webhook secret may begin or end with a space, as one WooCommerce generates does; a line break is still refused", () => {
  // WooCommerce fills a Secret left empty with wp_generate_password(50, true, true), whose characters
  // include the space, and signs with it as generated.
  const generated = " Kq7}x<Lm@2=vT;9hR|pZ[4wN&c8]Yf^3sJ`e6aG-u1(oD~b5iE";
  const shop = (secret: string) => ({
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "woocommerce", secretEnv: "WOO_WEBHOOK_SECRET" } }),
    WOO_WEBHOOK_SECRET: secret,
  });
  for (const secret of [generated, `${generated.trim()} `]) {
    expect(webhooksOf(load(shop(secret))).sources[0]?.secrets).toEqual([secret]);
  }
  expect(messageOf(() => load(shop(`${generated}\n`)))).toBe(
    "webhook source shop: WOO_WEBHOOK_SECRET ends with a line break; remove it",
  );
  // Tried trimmed too, so the floor holds for what is left.
  expect(messageOf(() => load(shop(`${" ".repeat(12)}short `)))).toMatch(
    /^webhook source shop: WOO_WEBHOOK_SECRET holds a secret shorter than 16 characters/,
  );
  // Another scheme's secret with a space around it was pasted so: no sender signs with it.
  expect(
    messageOf(() =>
      load({
        WAITER_WEBHOOKS_SOURCES: JSON.stringify({ gh: { scheme: "github", secretEnv: "GITHUB_WEBHOOK_SECRET" } }),
        GITHUB_WEBHOOK_SECRET: generated,
      }),
    ),
  ).toBe("webhook source gh: GITHUB_WEBHOOK_SECRET begins with a space; remove it");
});

test("a variable's name written as a shell reads it ($NAME, in braces too) or with a blank around it is refused saying so, never shown", () => {
  const source = (secretEnv: string) => ({
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe", secretEnv } }),
    STRIPE_WEBHOOK_SECRET: "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG",
  });
  const at = "invalid setting WAITER_WEBHOOKS_SOURCES at stripe.secretEnv";
  for (const name of ["$STRIPE_WEBHOOK_SECRET", `$${"{"}STRIPE_WEBHOOK_SECRET}`]) {
    expect(
      messageOf(() => load(source(name))),
      name,
    ).toBe(`${at}: must be an environment variable name, written without the $ (and braces) a shell reads it with`);
  }
  for (const name of ["STRIPE_WEBHOOK_SECRET ", " STRIPE_WEBHOOK_SECRET"]) {
    expect(
      messageOf(() => load(source(name))),
      name,
    ).toBe(`${at}: must be an environment variable name, with no blank around it`);
  }
  expect(messageOf(() => load(source("stripe secret")))).toBe(`${at}: must be an environment variable name`);
});

describe("the event store's database", () => {
  test("none by default: the SQLite file", () => {
    expect(load({}).database).toEqual({});
  });

  test("a postgres:// URL from the environment may hold a password; from the file it may not", () => {
    const withPassword = "postgres://waiter:s3cr3t-pw@db.internal:5432/waiter?sslmode=verify-full";
    expect(load({ WAITER_DATABASE_URL: withPassword }).database).toEqual({
      url: withPassword,
      urlFrom: "WAITER_DATABASE_URL",
      passwordFrom: "WAITER_DATABASE_URL",
    });
    const path = file({ database: { url: withPassword } });
    const refused = () => load({}, { file: path });
    expect(refused).toThrow(`invalid setting database.url in ${path}: it holds a password`);
    expect(refused).not.toThrow(/s3cr3t-pw/);
    const inQuery = file({ database: { url: "postgres://waiter@db.internal/waiter?password=s3cr3t-pw" } });
    expect(() => load({}, { file: inQuery })).toThrow(/it holds a password/);
    const withoutPassword = file({ database: { url: "postgres://waiter@db.internal/waiter" } });
    expect(load({ PGPASSWORD: "pw" }, { file: withoutPassword }).database).toEqual({
      url: "postgres://waiter@db.internal/waiter",
      urlFrom: `database.url in ${withoutPassword}`,
      passwordFrom: "PGPASSWORD",
    });
    // Without PGPASSWORD, the driver reads libpq's password file.
    expect(load({}, { file: withoutPassword }).database).toEqual({
      url: "postgres://waiter@db.internal/waiter",
      urlFrom: `database.url in ${withoutPassword}`,
      passwordFrom: "the password file (the one PGPASSFILE names, else ~/.pgpass)",
    });
  });

  test("the password comes from the variable passwordEnv names", () => {
    const url = "postgres://waiter@db.internal/waiter";
    const env = { WAITER_DATABASE_URL: url, WAITER_DATABASE_PASSWORD_ENV: "DB_PASSWORD" };
    expect(load({ ...env, DB_PASSWORD: "pw" }).database).toEqual({
      url,
      urlFrom: "WAITER_DATABASE_URL",
      password: "pw",
      passwordFrom: "DB_PASSWORD (the variable WAITER_DATABASE_PASSWORD_ENV names)",
    });
    expect(() => load(env)).toThrow(
      "WAITER_DATABASE_PASSWORD_ENV: DB_PASSWORD is not set; set it in waiter's environment to the database password",
    );
  });

  test("anything but a postgres:// URL is refused without being repeated", () => {
    const refused = () => load({ WAITER_DATABASE_URL: "mysql://root:hunter2@db/waiter" });
    expect(refused).toThrow(
      "invalid setting WAITER_DATABASE_URL: must be a postgres:// URL, such as postgres://db.internal:5432/waiter",
    );
    expect(refused).not.toThrow(/hunter2/);
    // Nor the port of one that neither the URL class nor the driver parses for it.
    const port =
      "invalid setting WAITER_DATABASE_URL: must give port as a whole number from 1 to 65535, as libpq reads it (port=5432)";
    expect(messageOf(() => load({ WAITER_DATABASE_URL: "postgres://db.internal:54x2/waiter" }))).toBe(port);
    // Its password is not what is wrong where the URL does not parse without it either.
    const badPort = () => load({ WAITER_DATABASE_URL: "postgres://waiter:hunter2@db.internal:54x2/waiter" });
    expect(messageOf(badPort)).toBe(port);
    expect(badPort).not.toThrow(/hunter2/);
  });

  test("libpq's keyword=value form is refused, saying how to write it as a URL, without repeating it", () => {
    const refused = () =>
      load({ WAITER_DATABASE_URL: "host=db.internal port=5432 dbname=waiter user=waiter password=hunter2" });
    expect(messageOf(refused)).toBe(
      "invalid setting WAITER_DATABASE_URL: must be a postgres:// URL, not libpq's keyword=value form (host=… dbname=…), which waiter's PostgreSQL driver does not read: write it as postgres://host:port/dbname, the user and an @ before the host, other keywords in the query (?sslmode=verify-full)",
    );
    expect(refused).not.toThrow(/hunter2/);
  });

  test("a password holding #, / or ? as written is told to be percent-encoded, without being repeated", () => {
    const encode =
      "invalid setting WAITER_DATABASE_URL: must be a postgres:// URL, and a #, / or ? in its password ends the password there: percent-encode the password's reserved characters (# as %23, / as %2F, ? as %3F, @ as %40, % as %25), or leave the password out of the URL and set it in PGPASSWORD";
    // Unparsable, or parsed with the user and the password's start as host and port (12) and the rest as a fragment, path or query.
    // After an @ of the password, the parser took its start for the user and password, the rest up
    // to the #, / or ? for the host, which a failed connection would have shown.
    for (const password of [
      "pa#ss",
      "pa/ss",
      "pa?ss",
      "12#ss",
      "12/ss",
      "12?ss",
      "#ss",
      "p@ss/w",
      "p@ss?w",
      "p@ss#w",
      // An = after the #, / or ? is no query's value (?user=waiter@myserver) either.
      "p@ss/w=1",
      "p@ss#w=1",
      "p@ss?a=b&w",
    ]) {
      const message = messageOf(() =>
        load({ WAITER_DATABASE_URL: `postgres://waiter:${password}@db.internal:5432/waiter` }),
      );
      expect(message, password).toBe(encode);
    }
    // Whatever names the server after the password: a host without a port, an IPv6 address, a Unix socket.
    for (const server of ["db.internal/waiter", "[::1]/waiter", "[::1]:5432/waiter", "/waiter?host=/run/postgresql"]) {
      for (const password of ["p@ss/w", "p@ss?w", "p@ss/w=1"]) {
        const url = `postgres://waiter:${password}@${server}`;
        expect(
          messageOf(() => load({ WAITER_DATABASE_URL: url })),
          url,
        ).toBe(encode);
      }
    }
    // Encoded, it is taken; an @ alone the parser takes too.
    for (const password of [encodeURIComponent("pa#s/s?"), "p@ss", "p@ss:w"]) {
      const url = `postgres://waiter:${password}@db.internal:5432/waiter`;
      expect(load({ WAITER_DATABASE_URL: url }).database.url, password).toBe(url);
    }
    expect(
      load({ WAITER_DATABASE_URL: "postgres://waiter@db.internal/waiter?application_name=a@b" }).database.url,
    ).toBeDefined();
  });

  test("what the driver takes is taken: an @ in the query or the path, a Unix socket's directory in place of a host", () => {
    for (const url of [
      // A user of Azure's, written user@server, in the query, with or without a port before it.
      "postgres://db.internal/waiter?user=waiter@myserver",
      "postgres://db.internal:5432/waiter?user=waiter@myserver",
      "postgres://db/w?sslrootcert=/etc/a@b.pem",
      "postgres://db/my@db",
      "postgres://waiter:pw@db/my@db",
      "postgres://waiter:pw@db/w?user=waiter@myserver",
      "postgres://waiter:pw@db/w?sslmode=verify-full&sslrootcert=/etc/a@b/ca.pem",
      // No host, which the URL class refuses after a user: the driver connects to the socket in ?host=.
      "postgres://waiter@/waiter?host=/var/run/postgresql",
      "postgres:///waiter?host=/var/run/postgresql",
      "postgres://waiter:s3cr3t-pw@/waiter?host=/var/run/postgresql",
    ]) {
      expect(load({ WAITER_DATABASE_URL: url }).database.url, url).toBe(url);
    }
    const socket = "postgres://waiter:s3cr3t-pw@/waiter?host=/var/run/postgresql";
    expect(load({ WAITER_DATABASE_URL: socket }).database.passwordFrom).toBe("WAITER_DATABASE_URL");
    const refused = () => load({}, { file: file({ database: { url: socket } }) });
    expect(refused).toThrow(/: it holds a password, which must not be written in a file/);
    expect(refused).not.toThrow(/s3cr3t-pw/);
  });

  test("a fragment, which the driver drops, is refused, saying to percent-encode a # that belongs to a value", () => {
    const fragment =
      "invalid setting WAITER_DATABASE_URL: must be a postgres:// URL without a fragment: the driver drops a # and all that follows it, so percent-encode a # that belongs to the database's name or to a query's value (?password=…) as %23";
    for (const url of [
      "postgres://db/w#x",
      "postgres://db/w#",
      "postgres://waiter@db.internal/waiter?password=pa#ss",
      "postgres://waiter@db.internal/waiter?user=a@b#x",
    ]) {
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(fragment);
    }
  });

  test("a list of hosts, which libpq tries in turn and the driver does not, is refused, saying to name one", () => {
    const several =
      "invalid setting WAITER_DATABASE_URL: must name one database server: libpq tries a list of hosts in turn (with target_session_attrs, until one takes writes), the driver does not and would look the whole list up as one name; name the primary server, or an address that follows it across a failover (a virtual IP, a DNS name, a proxy such as HAProxy)";
    for (const url of [
      "postgres://waiter@db1.internal:5432,db2.internal:5432/waiter?target_session_attrs=read-write",
      "postgres://waiter:pw@db1.internal,db2.internal/waiter",
      "postgres://waiter@/waiter?host=db1.internal,db2.internal",
      "postgres:///waiter?host=/var/run/postgresql,db2.internal&port=5432,5433",
    ]) {
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(several);
    }
  });

  test("libpq's TLS and service variables, which the driver does not read, are said at start to go in the URL", () => {
    const env = {
      PGSSLROOTCERT: "/etc/waiter/db-ca.pem",
      PGSSLCERT: "/etc/waiter/client.crt",
      PGSSLKEY: "/etc/waiter/client.key",
      PGSERVICE: "waiter",
    };
    expect(
      load({ ...env, WAITER_DATABASE_URL: "postgres://waiter@db.internal/waiter?sslmode=verify-full" }).warnings,
    ).toEqual([
      "PGSSLROOTCERT is set, but waiter's PostgreSQL driver does not read it: name the file in WAITER_DATABASE_URL instead (?sslrootcert=…)",
      "PGSSLCERT is set, but waiter's PostgreSQL driver does not read it: name the file in WAITER_DATABASE_URL instead (?sslcert=…)",
      "PGSSLKEY is set, but waiter's PostgreSQL driver does not read it: name the file in WAITER_DATABASE_URL instead (?sslkey=…)",
      "PGSERVICE is set, but waiter's PostgreSQL driver does not read it, nor pg_service.conf: write the service's host, port, database and user into WAITER_DATABASE_URL",
    ]);
    // The URL's own beat them, as with libpq; without a database URL, they are no concern of waiter's.
    const named = "postgres://waiter@db.internal/waiter?sslrootcert=/ca.pem&sslcert=/c.crt&sslkey=/c.key";
    expect(load({ ...env, WAITER_DATABASE_URL: named }).warnings).toEqual([
      "PGSERVICE is set, but waiter's PostgreSQL driver does not read it, nor pg_service.conf: write the service's host, port, database and user into WAITER_DATABASE_URL",
    ]);
    expect(load(env).warnings).toEqual([]);
    // A URL written in the config file is named there.
    const path = file({ database: { url: "postgres://waiter@db.internal/waiter?sslmode=verify-full" } });
    expect(load({ PGSSLROOTCERT: env.PGSSLROOTCERT, PGSERVICE: env.PGSERVICE }, { file: path }).warnings).toEqual([
      `PGSSLROOTCERT is set, but waiter's PostgreSQL driver does not read it: name the file in database.url in ${path} instead (?sslrootcert=…)`,
      `PGSERVICE is set, but waiter's PostgreSQL driver does not read it, nor pg_service.conf: write the service's host, port, database and user into database.url in ${path}`,
    ]);
  });

  test("a database password's variable set without a database URL is said at start to go unread", () => {
    const unread =
      "WAITER_DATABASE_PASSWORD_ENV is set, but no database is: without WAITER_DATABASE_URL (database.url), the events are kept in the SQLite file in dataDir, and the password is not read; set the PostgreSQL server's URL too";
    expect(
      load({ WAITER_DATABASE_PASSWORD_ENV: "WAITER_DB_PASSWORD", WAITER_DB_PASSWORD: "x".repeat(20) }).warnings,
    ).toEqual([unread]);
    const path = file({ database: { passwordEnv: "WAITER_DB_PASSWORD" } });
    expect(load({}, { file: path }).warnings).toEqual([
      unread.replace("WAITER_DATABASE_PASSWORD_ENV is set", `database.passwordEnv in ${path} is set`),
    ]);
  });

  test("libpq's sslrootcert=system, which the driver would read as a file's name, is refused, saying to leave it out", () => {
    const system =
      "invalid setting WAITER_DATABASE_URL: must not name sslrootcert=system, libpq's word for the CAs the system trusts: the driver reads it as the name of a CA file, so leave sslrootcert out, and sslmode=verify-full checks the server's certificate against the CAs Node.js trusts (NODE_EXTRA_CA_CERTS adds one)";
    for (const url of [
      "postgres://waiter@db.internal/waiter?sslmode=verify-full&sslrootcert=system",
      "postgres://waiter:pw@db.internal/waiter?sslrootcert=system",
    ]) {
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(system);
    }
    // A file of that name, as libpq takes it too, is a path.
    const file = "postgres://waiter@db.internal/waiter?sslmode=verify-full&sslrootcert=./system";
    expect(load({ WAITER_DATABASE_URL: file }).database.url).toBe(file);
  });

  test("libpq's service in the URL, which the driver does not read, is refused, saying to write the service out", () => {
    const service =
      "invalid setting WAITER_DATABASE_URL: must not name a service (service=waiter): waiter's PostgreSQL driver does not read it, nor pg_service.conf, and would connect without what the service says; write the service's host, port, database and user into the URL";
    for (const url of ["postgres:///?service=waiter", "postgres://waiter@db.internal/waiter?service=waiter"]) {
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(service);
    }
  });

  test("a channel_binding libpq does not know is refused, as libpq refuses it: the driver reads none", () => {
    for (const value of ["REQUIRE", "required", "true", ""]) {
      const url = `postgres://waiter@db.internal/waiter?sslmode=verify-full&channel_binding=${value}`;
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(
        `invalid setting WAITER_DATABASE_URL: must give channel_binding as one of disable, prefer or require, as libpq names them, not ${value || "empty"}`,
      );
    }
    for (const value of ["disable", "prefer", "require"]) {
      const url = `postgres://waiter@db.internal/waiter?sslmode=verify-full&channel_binding=${value}`;
      expect(load({ WAITER_DATABASE_URL: url }).database.url).toBe(url);
    }
  });

  test("an sslmode libpq does not know is refused, in the URL at start and in PGSSLMODE as the store opens: the driver took one in the URL as verify-full, and one in PGSSLMODE as no TLS", () => {
    const modes =
      "disable, allow, prefer, require, verify-ca or verify-full, as libpq names them, or the driver's no-verify";
    for (const mode of ["DISABLE", "required", "true", "verify_full", ""]) {
      const url = `postgres://waiter@db.internal/waiter?sslmode=${mode}`;
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(`invalid setting WAITER_DATABASE_URL: must give sslmode as one of ${modes}, not ${mode ? mode : "empty"}`);
      expect(() => urlSslmode("postgres://waiter@db.internal/waiter", { PGSSLMODE: mode }), mode).toThrow(
        `PGSSLMODE must be one of ${modes}, not ${mode ? mode : "empty"}`,
      );
    }
    for (const mode of ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"]) {
      const url = `postgres://waiter@db.internal/waiter?sslmode=${mode}`;
      expect(load({ WAITER_DATABASE_URL: url }).database.url).toBe(url);
      expect(urlSslmode("postgres://waiter@db.internal/waiter", { PGSSLMODE: mode }).mode).toBe(mode);
    }
    // The URL's sslmode beats PGSSLMODE, which is then not read.
    expect(urlSslmode("postgres://waiter@db.internal/waiter?sslmode=disable", { PGSSLMODE: "requir" }).mode).toBe(
      "disable",
    );
    // A file for TLS in the URL has the driver require TLS, but not through the Unix socket PGHOST names.
    const file = "postgres://waiter@/waiter?sslrootcert=/etc/waiter/ca.pem";
    expect(urlSslmode(file, {}).file).toBe("sslrootcert");
    expect(urlSslmode(file, { PGHOST: "/var/run/postgresql" }).file).toBeUndefined();
  });

  test("the database is named by the host the driver connects to: PGHOST where the URL names none, else localhost, which the driver takes where libpq takes its Unix socket; a socket's directory decoded", () => {
    expect(databaseLabel("postgres:///waiter", {})).toBe("PostgreSQL localhost/waiter");
    expect(databaseLabel("postgres://waiter@/waiter", { PGHOST: "/var/run/postgresql" })).toBe(
      "PostgreSQL /var/run/postgresql/waiter",
    );
    expect(databaseLabel("postgres://waiter@db.internal/waiter", { PGHOST: "other" })).toBe(
      "PostgreSQL db.internal/waiter",
    );
    expect(databaseLabel("postgres://waiter@%2Fvar%2Frun%2Fpostgresql:5433/waiter", {})).toBe(
      "PostgreSQL /var/run/postgresql:5433/waiter",
    );
    // And by the port it connects to: PGPORT where the URL names none.
    expect(databaseLabel("postgres:///waiter", { PGPORT: "5433" })).toBe("PostgreSQL localhost:5433/waiter");
    expect(databaseLabel("postgres://waiter@db.internal:6543/waiter", { PGPORT: "5433" })).toBe(
      "PostgreSQL db.internal:6543/waiter",
    );
  });

  test("the search_path the connection's options give is read as PostgreSQL reads them: the URL's, else PGOPTIONS", () => {
    const inUrl = (options: string) =>
      optionsSearchPath(`postgres://waiter@db/waiter?options=${encodeURIComponent(options)}`, "WAITER_DATABASE_URL", {})
        ?.path;
    for (const options of ["-c search_path=ws", "-csearch_path=ws", "--search-path=ws", "-c SEARCH_PATH=ws"]) {
      expect(inUrl(options), options).toBe("ws");
    }
    expect(inUrl("-c search_path=ws,\\ public -c statement_timeout=0")).toBe("ws, public");
    expect(inUrl("-c search_path=a -c search_path=b")).toBe("b");
    expect(inUrl("-c statement_timeout=0")).toBeUndefined();
    expect(
      optionsSearchPath("postgres://waiter@db/waiter", "WAITER_DATABASE_URL", { PGOPTIONS: "-c search_path=ws" }),
    ).toEqual({
      path: "ws",
      from: "the options in PGOPTIONS",
    });
    // The URL's options beat PGOPTIONS, which the driver then does not read.
    expect(
      optionsSearchPath("postgres://waiter@db/waiter?options=-c%20statement_timeout%3D0", "WAITER_DATABASE_URL", {
        PGOPTIONS: "-c search_path=ws",
      }),
    ).toBeUndefined();
  });

  test("a port that is no port number, in the URL at start or in PGPORT as the store opens, is refused as libpq refuses it: the driver took it to a connection that never ended, and waiter exited 13 without a word", () => {
    for (const port of ["abc", "5432x", "0", "99999", "-1"]) {
      const url = `postgres://waiter@db.internal/waiter?port=${port}`;
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(
        `invalid setting WAITER_DATABASE_URL: must give port as a whole number from 1 to 65535, as libpq reads it (port=5432), not ${port}`,
      );
      expect(() => checkedPort("postgres://waiter@db.internal/waiter", { PGPORT: port }), port).toThrow(
        `PGPORT must be a whole number from 1 to 65535, as libpq reads it (such as 5432), not ${port}`,
      );
    }
    expect(messageOf(() => load({ WAITER_DATABASE_URL: "postgres://waiter@db.internal:0/waiter" }))).toBe(
      "invalid setting WAITER_DATABASE_URL: must give port as a whole number from 1 to 65535, as libpq reads it (port=5432), not 0",
    );
    // After the host, where the URL parser refuses it before the driver reads it: a typo is named as the port's,
    // and not repeated, as a URL written without its user's @ has the password there, digits or not.
    for (const url of [
      "postgres://waiter:20240917/waiter",
      "postgres://waiter:s3cret/waiter",
      "postgres://waiter@db.internal:99999/waiter",
      "postgres://waiter@db.internal:65536/waiter",
    ]) {
      expect(messageOf(() => load({ WAITER_DATABASE_URL: url }))).toBe(
        "invalid setting WAITER_DATABASE_URL: must give port as a whole number from 1 to 65535, as libpq reads it (port=5432)",
      );
    }
    // An empty ?port= is none to the driver, which then takes the URL's own.
    expect(messageOf(() => load({ WAITER_DATABASE_URL: "postgres://waiter@db.internal:0/waiter?port=" }))).toBe(
      "invalid setting WAITER_DATABASE_URL: must give port as a whole number from 1 to 65535, as libpq reads it (port=5432), not 0",
    );
    // Empty, libpq and the driver take 5432; blanks around the number are C's, as libpq reads it.
    for (const port of ["", " 5433 ", "5433"]) {
      const url = `postgres://waiter@db.internal/waiter?port=${encodeURIComponent(port)}`;
      expect(load({ WAITER_DATABASE_URL: url }).database.url).toBe(url);
      expect(() => checkedPort("postgres://waiter@db.internal/waiter", { PGPORT: port })).not.toThrow();
    }
    // The URL's port beats PGPORT, which is then not read.
    expect(() => checkedPort("postgres://waiter@db.internal:5433/waiter", { PGPORT: "abc" })).not.toThrow();
    expect(() => checkedPort("postgres://waiter@db.internal/waiter?port=5433", { PGPORT: "abc" })).not.toThrow();
  });

  test("a % that begins no percent-encoded character is refused, saying to write it %25, without the URL", () => {
    const lone =
      "invalid setting WAITER_DATABASE_URL: must be a postgres:// URL in which every % begins a percent-encoded character (such as %2F): given a lone %, the driver encodes the whole URL again, which changes its password and every character encoded in it; write a % that belongs to a value as %25";
    for (const url of [
      "postgres://waiter@db.internal/db%zz",
      "postgres://waiter@db.internal/waiter%",
      "postgres://waiter@db.internal/waiter%a",
      "postgres://waiter:50%off@db.internal/waiter",
      "postgres://waiter:p%2Bw@db.internal/waiter?application_name=100%",
    ]) {
      const env = { WAITER_DATABASE_URL: url, WAITER_DATABASE_PASSWORD_ENV: "DB_PW", DB_PW: "'0+0@é" };
      expect(
        messageOf(() => load(env)),
        url,
      ).toBe(lone);
    }
    const encoded = "postgres://waiter:50%25off@db.internal/db%2Fx?application_name=100%25";
    expect(load({ WAITER_DATABASE_URL: encoded }).database.url).toBe(encoded);
  });

  test("connect_timeout in the URL, else PGCONNECT_TIMEOUT, is how long a connection attempt may take, read as libpq reads it", () => {
    const url = "postgres://waiter@db.internal/waiter";
    expect(connectTimeout(`${url}?connect_timeout=15`, { PGCONNECT_TIMEOUT: "8" })).toEqual({
      ms: 15_000,
      from: "connect_timeout in WAITER_DATABASE_URL",
    });
    expect(connectTimeout(url, { PGCONNECT_TIMEOUT: " 30 " })).toEqual({ ms: 30_000, from: "PGCONNECT_TIMEOUT" });
    // libpq's least is 2 s.
    expect(connectTimeout(`${url}?connect_timeout=1`, {})).toEqual({
      ms: 2_000,
      from: "connect_timeout in WAITER_DATABASE_URL",
    });
    expect(connectTimeout(url, {})).toEqual({
      ms: 5_000,
      from: "waiter's default; connect_timeout in WAITER_DATABASE_URL or PGCONNECT_TIMEOUT sets another",
    });
    // An empty PGCONNECT_TIMEOUT is set, to libpq, and no number: psql fails with 'invalid integer value ""
    // for connection option "connect_timeout"', so waiter refuses it too rather than connect where psql does not.
    expect(() => connectTimeout(url, { PGCONNECT_TIMEOUT: "" })).toThrow(
      "PGCONNECT_TIMEOUT must be a whole number of seconds, as libpq reads it (such as 15), not empty",
    );
    expect(() => connectTimeout(url, { PGCONNECT_TIMEOUT: " " })).toThrow(
      "PGCONNECT_TIMEOUT must be a whole number of seconds, as libpq reads it (such as 15), not blank",
    );
    // No limit at all, to libpq: waiter keeps its own.
    expect(connectTimeout(`${url}?connect_timeout=0`, { PGCONNECT_TIMEOUT: "20" })).toEqual({
      ms: 5_000,
      from: "waiter's default, which connect_timeout=0 in WAITER_DATABASE_URL, no limit to libpq, does not lift",
    });
    expect(connectTimeout(url, { PGCONNECT_TIMEOUT: "-1" })).toEqual({
      ms: 5_000,
      from: "waiter's default, which PGCONNECT_TIMEOUT=-1, no limit to libpq, does not lift",
    });
    expect(() => connectTimeout(url, { PGCONNECT_TIMEOUT: "15s" })).toThrow(
      "PGCONNECT_TIMEOUT must be a whole number of seconds, as libpq reads it (such as 15), not 15s",
    );
  });

  test("connect_timeout is named where the URL was given: WAITER_DATABASE_URL, or database.url in the config file", () => {
    const path = file({ database: { url: "postgres://waiter@db.internal/waiter?connect_timeout=15" } });
    const fromFile = load({}, { file: path }).database;
    expect(fromFile.urlFrom).toBe(`database.url in ${path}`);
    expect(connectTimeout(fromFile.url as string, {}, fromFile.urlFrom)).toEqual({
      ms: 15_000,
      from: `connect_timeout in database.url in ${path}`,
    });
    const url = "postgres://waiter@db.internal/waiter";
    expect(connectTimeout(`${url}?connect_timeout=0`, {}, `database.url in ${path}`).from).toBe(
      `waiter's default, which connect_timeout=0 in database.url in ${path}, no limit to libpq, does not lift`,
    );
    expect(connectTimeout(url, {}, `database.url in ${path}`).from).toBe(
      `waiter's default; connect_timeout in database.url in ${path} or PGCONNECT_TIMEOUT sets another`,
    );
    expect(() => connectTimeout(`${url}?connect_timeout=`, {}, `database.url in ${path}`)).toThrow(
      `connect_timeout in database.url in ${path} must be a whole number of seconds`,
    );
    expect(load({ WAITER_DATABASE_URL: url }).database.urlFrom).toBe("WAITER_DATABASE_URL");
  });

  test("a connect_timeout in the URL that is no whole number of seconds is refused, as libpq refuses it", () => {
    for (const url of [
      "postgres://waiter@db.internal/waiter?connect_timeout=15s",
      "postgres://waiter@db.internal/waiter?connect_timeout=1.5",
      "postgres://waiter:pw@db.internal/waiter?sslmode=require&connect_timeout=ten",
    ]) {
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: url })),
        url,
      ).toBe(
        "invalid setting WAITER_DATABASE_URL: must give connect_timeout as a whole number of seconds, as libpq reads it (connect_timeout=15)",
      );
    }
    const far = "postgres://waiter@db.internal/waiter?connect_timeout=15";
    expect(load({ WAITER_DATABASE_URL: far }).database.url).toBe(far);
  });

  test("an empty connect_timeout in the URL is refused, as libpq refuses it rather than take PGCONNECT_TIMEOUT", () => {
    const url = "postgres://waiter@db.internal/waiter";
    const empty =
      "invalid setting WAITER_DATABASE_URL: must give connect_timeout a whole number of seconds, as libpq reads it (connect_timeout=15), or leave it out: libpq refuses an empty one rather than take PGCONNECT_TIMEOUT";
    for (const given of [`${url}?connect_timeout=`, `${url}?sslmode=disable&connect_timeout=&application_name=w`]) {
      expect(
        messageOf(() => load({ WAITER_DATABASE_URL: given, PGCONNECT_TIMEOUT: "15" })),
        given,
      ).toBe(empty);
    }
    // Blanks only are no number to libpq either (invalid integer value " ").
    expect(messageOf(() => load({ WAITER_DATABASE_URL: `${url}?connect_timeout=%20` }))).toBe(empty);
    // Without "=", libpq refuses the URL itself (missing key/value separator).
    expect(messageOf(() => load({ WAITER_DATABASE_URL: `${url}?connect_timeout` }))).toBe(empty);
    expect(() => connectTimeout(`${url}?connect_timeout=`, { PGCONNECT_TIMEOUT: "15" })).toThrow(
      "connect_timeout in WAITER_DATABASE_URL must be a whole number of seconds, as libpq reads it (such as 15), not empty",
    );
  });

  test("a connect_timeout past what libpq reads into an int is refused, as libpq refuses it, not taken as some 24 days", () => {
    const url = "postgres://waiter@db.internal/waiter";
    expect(messageOf(() => load({ WAITER_DATABASE_URL: `${url}?connect_timeout=2147483648` }))).toBe(
      "invalid setting WAITER_DATABASE_URL: must give connect_timeout as a whole number of seconds, as libpq reads it (connect_timeout=15)",
    );
    expect(() => connectTimeout(url, { PGCONNECT_TIMEOUT: "99999999999" })).toThrow(
      "PGCONNECT_TIMEOUT must be a whole number of seconds, as libpq reads it (such as 15), not 99999999999",
    );
    expect(() => connectTimeout(url, { PGCONNECT_TIMEOUT: "-2147483649" })).toThrow(/not -2147483649$/);
    // The largest libpq takes, and blanks as C's isspace knows them around it.
    expect(connectTimeout(`${url}?connect_timeout=2147483647`, {}).ms).toBe(2 ** 31 - 1);
    expect(connectTimeout(url, { PGCONNECT_TIMEOUT: "\t15\n" }).ms).toBe(15_000);
    // A no-break space is none of C's blanks: libpq refuses it.
    expect(() => connectTimeout(url, { PGCONNECT_TIMEOUT: "15\u00a0" })).toThrow(/PGCONNECT_TIMEOUT must be/);
  });
});

describe("the data directory", () => {
  test("WAITER_DATA_DIR wins", () => {
    expect(load({ WAITER_DATA_DIR: "/srv/waiter" }).core.dataDir).toBe("/srv/waiter");
  });

  test("a path with ~ or $HOME is refused with the path, saying that nothing expands them", () => {
    expect(messageOf(() => load({ WAITER_DATA_DIR: "~/waiter" }))).toBe(
      `invalid setting WAITER_DATA_DIR: must be an absolute path, and "~/waiter" is not: waiter does not expand ~ (a shell does, and an MCP client starts waiter without one); write it out, such as ${join(homedir(), "waiter")}`,
    );
    expect(messageOf(() => load({}, { file: file({ dataDir: "$HOME/waiter" }) }))).toMatch(
      /^invalid setting dataDir in .*: must be an absolute path, and "\$HOME\/waiter" is not: waiter does not expand variables such as \$HOME/,
    );
    expect(messageOf(() => load({ WAITER_DATA_DIR: "state" }))).toBe(
      `invalid setting WAITER_DATA_DIR: must be an absolute path, and "state" is not: MCP clients start servers from any directory (this one from ${process.cwd()})`,
    );
    expect(messageOf(() => load({ WAITER_DATA_DIR: "~/sk_live_51HqQZbC8uV0mR3tYxW9nK2pL" }))).not.toContain("sk_live");
    // A secret may hold slashes (base64): hidden whole, whatever its parts look like.
    expect(messageOf(() => load({ WAITER_DATA_DIR: "q8/Zt+3eW0aFkLmN/pQrS7tUvWxYz12/34AbCdEf=" }))).toContain(
      "and what it holds is not",
    );
    const pasted = messageOf(() => load({ WAITER_DATA_DIR: "sk_live_51HqQZbC8uV0mR3tYxW9nK2pL" }));
    expect(pasted).toBe(
      `invalid setting WAITER_DATA_DIR: must be an absolute path, and what it holds is not: MCP clients start servers from any directory (this one from ${process.cwd()})`,
    );
  });

  test("a Windows path that JSON read with single backslashes (C:\\new is a line break) says how to write it", () => {
    // As an MCP client's JSON config or waiter's file gives it: "C:\new\tmp" is C:, a line break, ew, a tab, mp.
    const fromJson = JSON.parse(String.raw`"C:\new\tmp"`) as string;
    const how =
      "write a Windows path in JSON with forward slashes (C:/Users/you) or with each backslash doubled (C:\\\\Users\\\\you)";
    expect(messageOf(() => load({ WAITER_DATA_DIR: fromJson }))).toBe(
      `invalid setting WAITER_DATA_DIR: must be an absolute path, and "C:\\new\\tmp" is not: it holds \\n and \\t, which JSON makes of a single backslash before n or t; ${how}`,
    );
    expect(messageOf(() => load({}, { file: file(String.raw`{"dataDir": "C:\new\tmp"}`) }))).toMatch(
      /^invalid setting dataDir in .*: must be an absolute path, and "C:\\new\\tmp" is not: it holds \\n and \\t/,
    );
    expect(messageOf(() => load({ WAITER_CONFIG: JSON.parse(String.raw`"C:\tools\\waiter.json"`) }))).toBe(
      `invalid setting WAITER_CONFIG: must be an absolute path, and "C:\\tools\\\\waiter.json" is not: it holds \\t, which JSON makes of a single backslash before t; ${how}; in a terminal, --config takes a path relative to the current directory`,
    );
    // --config in a client's args: the name is shown as JSON writes it, not broken over two lines.
    expect(messageOf(() => load({}, { file: JSON.parse(String.raw`"C:\new\\waiter.json"`) }))).toBe(
      `cannot read config file "C:\\new\\\\waiter.json" (from ${process.cwd()}): ENOENT, there is no such file: it holds \\n, which JSON makes of a single backslash before n; ${how}`,
    );
  });

  test("defaults to the platform's per-user state directory, never the current one", () => {
    expect(defaultDataDir({}, "linux", () => "/home/u")).toBe("/home/u/.local/state/waiter");
    expect(defaultDataDir({ XDG_STATE_HOME: "/x" }, "linux", () => "/home/u")).toBe("/x/waiter");
    // The XDG Base Directory Specification: a relative path there is invalid and is ignored.
    expect(defaultDataDir({ XDG_STATE_HOME: "state" }, "linux", () => "/home/u")).toBe("/home/u/.local/state/waiter");
    expect(defaultDataDir({ XDG_STATE_HOME: "./x" }, "linux", () => "/home/u")).toBe("/home/u/.local/state/waiter");
    expect(defaultDataDir({}, "darwin", () => "/Users/u")).toBe("/Users/u/Library/Application Support/waiter");
    expect(defaultDataDir({ LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }, "win32", () => "C:\\Users\\u")).toMatch(
      /AppData.Local.waiter$/,
    );
  });

  test("without a home directory (HOME unset, a uid the system does not know), the start says to set WAITER_DATA_DIR", () => {
    // node's homedir() throws then, as in a container run with --user 1234 and no HOME.
    const noHome = () => undefined;
    expect(() => defaultDataDir({}, "linux", noHome)).toThrow(
      new ConfigError(
        "WAITER_DATA_DIR is not set, and its default is under the home directory, which this user has none of (HOME is unset, and the system names none): set WAITER_DATA_DIR (dataDir) to an absolute path, where waiter may keep its event store",
      ),
    );
    expect(() => defaultDataDir({}, "win32", noHome)).toThrow(/USERPROFILE is unset/);
    // A default that needs no home is taken as it is.
    expect(defaultDataDir({ XDG_STATE_HOME: "/x" }, "linux", noHome)).toBe("/x/waiter");
  });
});

test("a variable that looks like a misspelt setting is named with the setting meant; a secret's own variable is not", () => {
  expect(
    loadConfig(
      {
        env: {
          WAITER_LOGLEVEL: "debug",
          WAITER_WEBHOOK_SOURCES: "{}",
          WAITER_CURENCY_SOURCE: "cnb",
          WAITER_LOG_LEVEL: "info",
          WAITER_DB_PASSWORD: "hunter2hunter2",
          WAITER_OPS_TOKEN: "x",
          // Named by a token's secretEnv, in the environment or the config file: in use, whatever it looks like.
          WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "WAITER_HTTP_TOKEN", scope: "write" }]),
          WAITER_HTTP_TOKEN: "x".repeat(40),
          WAITER_STRIPE_SECRE: "whsec_Ks0nV1tT4q9mXcRzYb7LpW2eHjUa8DfG",
          PATH: "/usr/bin",
        },
        file: file({ webhooks: { sources: { stripe: { scheme: "stripe", secretEnv: "WAITER_STRIPE_SECRE" } } } }),
      },
      toolsets(),
    ).warnings,
  ).toEqual([
    "WAITER_LOGLEVEL is no setting of waiter's and is ignored; did you mean WAITER_LOG_LEVEL?",
    "WAITER_WEBHOOK_SOURCES is no setting of waiter's and is ignored; did you mean WAITER_WEBHOOKS_SOURCES?",
    "WAITER_CURENCY_SOURCE is no setting of waiter's and is ignored; did you mean WAITER_CURRENCY_SOURCE?",
  ]);
});

test("a variable that names a setting in other words (WAITER_DB_URL, WAITER_PORT) is named with the setting meant", () => {
  const guessed = {
    WAITER_DB_URL: "WAITER_DATABASE_URL",
    WAITER_POSTGRES_URL: "WAITER_DATABASE_URL",
    WAITER_DATABASE: "WAITER_DATABASE_URL",
    // One port or host alone is not what WAITER_LISTEN takes.
    WAITER_PORT: "WAITER_LISTEN, which takes host:port (WAITER_LISTEN=127.0.0.1:8790)",
    WAITER_HOST: "WAITER_LISTEN, which takes host:port (WAITER_LISTEN=127.0.0.1:8790)",
    WAITER_TIMEOUT: "WAITER_TOOL_TIMEOUT",
    WAITER_DEBUG: "WAITER_LOG_LEVEL",
    WAITER_STATE_DIR: "WAITER_DATA_DIR",
    WAITER_PUBLIC_URL: "WAITER_WEBHOOKS_PUBLIC_URL",
    WAITER_SOURCES: "WAITER_WEBHOOKS_SOURCES",
    WAITER_WOO_CONSUMER_KEY: "WAITER_WOO_KEY",
    // A unit after a setting's name, as WAITER_STOP_SECONDS has one.
    WAITER_TOOL_TIMEOUT_SECONDS: "WAITER_TOOL_TIMEOUT",
    // No setting is in milliseconds: 30000 written next would be far past any bound.
    WAITER_TOOL_TIMEOUT_MS: "WAITER_TOOL_TIMEOUT, which is not in milliseconds",
    // Another unit than the setting's: 600 seconds written next would be read as 10 hours.
    WAITER_SESSION_IDLE_SECONDS: "WAITER_SESSION_IDLE_MINUTES, which is not in seconds",
    WAITER_STOP_MINUTES: "WAITER_STOP_SECONDS, which is not in minutes",
    WAITER_TOOL_TIMEOUT_MINS: "WAITER_TOOL_TIMEOUT, which is not in minutes",
    WAITER_STOP_HOURS: "WAITER_STOP_SECONDS, which is not in hours",
    // MIN, as minutes are shortened: no setting of waiter's has a minimum to mean.
    WAITER_SESSION_IDLE_MIN: "WAITER_SESSION_IDLE_MINUTES",
    WAITER_STOP_MIN: "WAITER_STOP_SECONDS, which is not in minutes",
    WAITER_HTTP_REQUESTS_PER_MIN: "WAITER_HTTP_REQUESTS_PER_MINUTE",
    // A rate in another unit than the setting's: 10 a second written next would be read as 10 a minute.
    WAITER_HTTP_REQUESTS_PER_SEC: "WAITER_HTTP_REQUESTS_PER_MINUTE, which counts per minute (10 a second is 600)",
    WAITER_HTTP_REQUESTS_PER_SECOND: "WAITER_HTTP_REQUESTS_PER_MINUTE, which counts per minute (10 a second is 600)",
    WAITER_HTTP_REQUESTS_PER_HOUR: "WAITER_HTTP_REQUESTS_PER_MINUTE, which counts per minute (600 an hour is 10)",
  };
  const env = Object.fromEntries(Object.keys(guessed).map((name) => [name, "x"]));
  expect(load(env).warnings).toEqual(
    Object.entries(guessed).map(
      ([name, meant]) => `${name} is no setting of waiter's and is ignored; did you mean ${meant}?`,
    ),
  );
  // Words of no setting (a client's token, the tests' own), a secret's variable, and a word of many settings are let be.
  const quiet = ["WAITER_TOKEN", "WAITER_TOKEN_OPS", "WAITER_TEST_POSTGRES", "WAITER_DB_PASSWORD", "WAITER_URL"];
  expect(load(Object.fromEntries(quiet.map((name) => [name, "x"]))).warnings).toEqual([]);
  // Kubernetes gives every pod such variables for a Service named waiter in its namespace.
  const serviceLinks = {
    WAITER_SERVICE_HOST: "10.96.0.11",
    WAITER_SERVICE_PORT: "8790",
    WAITER_PORT: "tcp://10.96.0.11:8790",
    WAITER_PORT_8790_TCP: "tcp://10.96.0.11:8790",
    WAITER_PORT_8790_TCP_PROTO: "tcp",
    WAITER_PORT_8790_TCP_PORT: "8790",
    WAITER_PORT_8790_TCP_ADDR: "10.96.0.11",
  };
  expect(load(serviceLinks).warnings).toEqual([]);
});

test("a variable that would name a file holding a setting or a secret (WAITER_WOO_SECRET_FILE, as Docker's secrets are given) is said to be read by nothing", () => {
  const noFile = "waiter reads no setting or secret from a file that a variable names";
  expect(
    load({
      WAITER_CONFIG_FILE: "/etc/waiter/config.json",
      WAITER_WOO_SECRET_FILE: "/run/secrets/woo_secret",
      WAITER_HTTP_TOKENS_PATH: "/etc/waiter/tokens.json",
    }).warnings,
  ).toEqual([
    "WAITER_CONFIG_FILE is no setting of waiter's and is ignored; did you mean WAITER_CONFIG, which names the config file?",
    `WAITER_WOO_SECRET_FILE is no setting of waiter's and is ignored: ${noFile}; set WAITER_WOO_SECRET itself`,
    `WAITER_HTTP_TOKENS_PATH is no setting of waiter's and is ignored: ${noFile}; set WAITER_HTTP_TOKENS itself`,
  ]);
  // A secret's variable that a setting names, unset, while its _FILE twin is set.
  const sources = JSON.stringify({ stripe: { scheme: "stripe", secretEnv: "STRIPE_WEBHOOK_SECRET" } });
  expect(
    messageOf(() =>
      load({ WAITER_WEBHOOKS_SOURCES: sources, STRIPE_WEBHOOK_SECRET_FILE: "/run/secrets/stripe_webhook_secret" }),
    ),
  ).toBe(
    "webhook source stripe: STRIPE_WEBHOOK_SECRET, which WAITER_WEBHOOKS_SOURCES at stripe.secretEnv names, is not set; set it in waiter's environment to the stripe signing secret (STRIPE_WEBHOOK_SECRET_FILE is set, but waiter reads no setting or secret from a file that a variable names: set STRIPE_WEBHOOK_SECRET itself)",
  );
});

test("a variable named as a setting that names the variable of a secret, without its _ENV (WAITER_DATABASE_PASSWORD), is said to be read by nothing, with how to have it read", () => {
  expect(
    load({ WAITER_DATABASE_URL: "postgres://waiter@db/waiter", WAITER_DATABASE_PASSWORD: "hunter2" }).warnings,
  ).toEqual([
    "WAITER_DATABASE_PASSWORD is no setting of waiter's and is ignored; WAITER_DATABASE_PASSWORD_ENV names the variable it is read from: set WAITER_DATABASE_PASSWORD_ENV=WAITER_DATABASE_PASSWORD",
  ]);
  // Named so, it is read.
  expect(
    load({
      WAITER_DATABASE_URL: "postgres://waiter@db/waiter",
      WAITER_DATABASE_PASSWORD_ENV: "WAITER_DATABASE_PASSWORD",
      WAITER_DATABASE_PASSWORD: "hunter2",
    }).warnings,
  ).toEqual([]);
});

test("an unknown section of the config file that holds settings says where they go; an MCP client's config says what it is", () => {
  const refused = (content: object) => {
    const path = file(content);
    return messageOf(() => load({}, { file: path })).replace(path, "FILE");
  };
  expect(refused({ core: { logLevel: "debug", toolTimeout: 30 } })).toBe(
    'unknown setting core in config file FILE; the settings in it go elsewhere: logLevel, written {"logLevel": …}; toolTimeout, written {"toolTimeout": …}',
  );
  expect(refused({ woocommerce: { wooUrl: "https://shop.example.com" } })).toBe(
    'unknown setting woocommerce in config file FILE; the settings in it go elsewhere: eshop.wooUrl, written {"eshop": {"wooUrl": …}}',
  );
  expect(refused({ env: { WAITER_LOG_LEVEL: "debug" } })).toBe(
    'unknown setting env in config file FILE; the settings in it go elsewhere: logLevel, written {"logLevel": …}',
  );
  // A secret among them goes in the environment, and its value is not repeated.
  const secretInside = refused({ env: { WAITER_LOG_LEVEL: "debug", WAITER_WOO_KEY: "k3yk3yk3y" } });
  expect(secretInside).toBe(
    "unknown setting env in config file FILE; eshop.wooKey is a secret: set it in the environment as WAITER_WOO_KEY, not in a file",
  );
  expect(secretInside).not.toContain("k3y");
  expect(refused({ mcpServers: { waiter: { command: "node" } } })).toBe(
    "unknown setting mcpServers in config file FILE; that is an MCP client's config, not waiter's: the client reads it, and waiter's settings go in the env of its entry there, or in a file of waiter's own keys (docs/settings.md)",
  );
  expect(refused({ other: { nothing: 1 } })).toBe(
    "unknown setting other in config file FILE; docs/settings.md lists the settings",
  );
});

test("a section's name misspelt or in other case is named with the section meant, not its keys sent to another section's", () => {
  const refused = (content: object) => {
    const path = file(content);
    return messageOf(() => load({}, { file: path })).replace(path, "FILE");
  };
  // Sent to the top, webhooks.listen would be taken for listen, waiter serve's own address.
  expect(refused({ Webhooks: { listen: "127.0.0.1:8791" } })).toBe(
    'unknown setting Webhooks in config file FILE; did you mean webhooks, written {"webhooks": {…}}?',
  );
  expect(refused({ webhook: { listen: "127.0.0.1:8791" } })).toBe(
    'unknown setting webhook in config file FILE; did you mean webhooks, written {"webhooks": {…}}?',
  );
  expect(refused({ Weather: { contact: "ops@eshop-waiter.cz" } })).toBe(
    'unknown setting Weather in config file FILE; did you mean weather, written {"weather": {…}}?',
  );
});

test("a misspelt key of a webhook source is named with the key meant, not reported as the key missing", () => {
  const refused = (source: object) =>
    (() => {
      try {
        loadConfig({ env: { WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: source }) } }, toolsets());
      } catch (err) {
        return (err as Error).message;
      }
    })();
  expect(refused({ scheme: "stripe", secret_env: "STRIPE_SECRET" })).toBe(
    'invalid setting WAITER_WEBHOOKS_SOURCES at stripe: unknown key "secret_env" (did you mean secretEnv?)',
  );
  // The scheme misspelt: the source's other keys are checked only once it is given.
  expect(refused({ shceme: "stripe", secretEnv: "STRIPE_SECRET" })).toBe(
    'invalid setting WAITER_WEBHOOKS_SOURCES at stripe.scheme: is missing ("shceme" is written there: scheme misspelt?); it takes one of standard-webhooks, stripe, github, shopify, woocommerce, hmac-sha256, comgate, gopay, none',
  );
  // Written with a blank at an end, which the refusal does not show: the blank is said.
  expect(refused({ "scheme ": "stripe", secretEnv: "STRIPE_SECRET" })).toBe(
    'invalid setting WAITER_WEBHOOKS_SOURCES at stripe.scheme: is missing (the key [not shown] is written there: a space after it makes it another key; write "scheme" alone); it takes one of standard-webhooks, stripe, github, shopify, woocommerce, hmac-sha256, comgate, gopay, none',
  );
  // A key near none: the key missing is said too, with what it takes.
  expect(refused({ scheme: "stripe", signingSecret: "STRIPE_SECRET" })).toBe(
    'WAITER_WEBHOOKS_SOURCES is refused in 2 places, each said here: (1) invalid setting WAITER_WEBHOOKS_SOURCES at stripe: unknown key "signingSecret" (a stripe source takes scheme, secretEnv) (2) invalid setting WAITER_WEBHOOKS_SOURCES at stripe.secretEnv: is missing; it takes the name of the environment variable that holds the signing secret, or a list of such names while it is rotated',
  );
});

describe("a secret written where its variable's name goes, a key's near miss, or a key missing says what the key takes", () => {
  const bot = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
  const refused = (env: NodeJS.ProcessEnv, extra: Partial<Parameters<typeof loadConfig>[0]> = {}) =>
    messageOf(() => load(env, extra));
  const channels = (channel: object) => ({ WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: channel }) });
  const email = { type: "email", host: "smtp.example.com", from: "waiter@example.com", to: ["it@example.com"] };

  test("a secret's own key: the secret goes in the environment, and the file names its variable", () => {
    const message = refused(channels({ type: "telegram", botToken: bot, chatIds: [1] }));
    expect(message).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at team: unknown key "botToken": a secret is set in the environment, not here; botTokenEnv takes the name of the environment variable that holds the Telegram bot token',
    );
    expect(refused(channels({ ...email, password: "hunter2hunter2" }))).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at team: unknown key "password": a secret is set in the environment, not here; passwordEnv takes the name of the environment variable that holds the SMTP password',
    );
    const token = file({ http: { tokens: [{ name: "ops", secret: "x".repeat(40), scope: "write" }] } });
    expect(refused({}, { file: token })).toBe(
      `invalid setting http.tokens in ${token} at ops: unknown key "secret": a secret is set in the environment, not here; secretEnv takes the name of the environment variable that holds the token`,
    );
    expect(
      refused({ WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe", secret: "whsec_x" } }) }),
    ).toMatch(
      /at stripe: unknown key "secret": a secret is set in the environment, not here; secretEnv takes the name of the environment variable that holds the signing secret/,
    );
    expect(message).not.toContain("AAHdq");
  });

  test("a key without its plural's s or a letter off, or an unknown key of the OAuth server, is named as the others are", () => {
    expect(refused(channels({ type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN", chatId: 1 }))).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at team: unknown key "chatId" (did you mean chatIds?)',
    );
    expect(refused(channels({ type: "telegram", botTokenEvn: "TELEGRAM_BOT_TOKEN", chatIds: [1] }))).toBe(
      'invalid setting WAITER_NOTIFY_CHANNELS at team: unknown key "botTokenEvn" (did you mean botTokenEnv?)',
    );
    expect(
      refused({ WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe", secretEnc: "STRIPE" } }) }),
    ).toBe('invalid setting WAITER_WEBHOOKS_SOURCES at stripe: unknown key "secretEnc" (did you mean secretEnv?)');
    expect(refused({ WAITER_HTTP_OAUTH: JSON.stringify({ issuer: "https://id.example.com", aud: "x" }) })).toBe(
      'invalid setting WAITER_HTTP_OAUTH: unknown key "aud" (oauth takes issuer, audience)',
    );
  });

  test("a missing key is said to be missing, with what it takes", () => {
    expect(refused(channels({ type: "telegram", chatIds: [1] }))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at team.botTokenEnv: is missing; it takes the name of the environment variable that holds the Telegram bot token",
    );
    expect(refused(channels({ botTokenEnv: "TELEGRAM_BOT_TOKEN", chatIds: [1] }))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at team.type: is missing; it takes telegram or email",
    );
    expect(refused({ WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN" }]) })).toBe(
      "invalid setting WAITER_HTTP_TOKENS at ops.scope: is missing; it takes read or write",
    );
    // A token is named by its name, as the sources and channels are, not by where it sits in the list.
    const two = [
      { name: "ops", secretEnv: "OPS_TOKEN", scope: "write" },
      { name: "rates", secretEnv: "RATES_TOKEN", scope: "admin" },
    ];
    expect(refused({ WAITER_HTTP_TOKENS: JSON.stringify(two) })).toBe(
      'invalid setting WAITER_HTTP_TOKENS at rates.scope: expected read or write (got "admin")',
    );
    expect(refused({ WAITER_WEBHOOKS_SOURCES: JSON.stringify({ stripe: { scheme: "stripe" } }) })).toBe(
      "invalid setting WAITER_WEBHOOKS_SOURCES at stripe.secretEnv: is missing; it takes the name of the environment variable that holds the signing secret, or a list of such names while it is rotated",
    );
    expect(refused({ WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: { scheme: "comgate", merchant: "1" } }) })).toBe(
      "invalid setting WAITER_WEBHOOKS_SOURCES at shop.secretEnv: is missing; it takes the name of the environment variable that holds the secret the gateway issued the e-shop",
    );
    // Every key a setting cannot do without says what it takes, as these do.
    const sources = (source: object) => ({ WAITER_WEBHOOKS_SOURCES: JSON.stringify({ s: source }), S: "x".repeat(40) });
    expect(refused(sources({ scheme: "hmac-sha256", secretEnv: "S" }))).toBe(
      "invalid setting WAITER_WEBHOOKS_SOURCES at s.header: is missing; it takes the HTTP header that carries the signature, like X-Signature",
    );
    expect(refused(sources({ scheme: "comgate", secretEnv: "S" }))).toBe(
      "invalid setting WAITER_WEBHOOKS_SOURCES at s.merchant: is missing; it takes the e-shop's merchant id at Comgate",
    );
    expect(refused(sources({ scheme: "gopay", secretEnv: "S" }))).toBe(
      "invalid setting WAITER_WEBHOOKS_SOURCES at s.clientId: is missing; it takes the ClientID GoPay issued the e-shop",
    );
    expect(refused(channels({ type: "telegram", botTokenEnv: "TELEGRAM_BOT_TOKEN" }))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at team.chatIds: is missing; it takes a list of the chats messages go to: their ids, or @channelnames",
    );
    expect(refused(channels({ type: "email", from: "shop@example.cz", to: ["it@example.cz"] }))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at team.host: is missing; it takes the mail server's name or address, like smtp.example.com",
    );
    expect(refused(channels({ type: "email", host: "smtp.example.cz", to: ["it@example.cz"] }))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at team.from: is missing; it takes the address messages are sent from",
    );
    expect(refused(channels({ type: "email", host: "smtp.example.cz", from: "shop@example.cz" }))).toBe(
      "invalid setting WAITER_NOTIFY_CHANNELS at team.to: is missing; it takes a list of the addresses messages go to",
    );
    expect(refused({ WAITER_HTTP_TOKENS: JSON.stringify([{ secretEnv: "OPS_TOKEN", scope: "read" }]) })).toBe(
      "invalid setting WAITER_HTTP_TOKENS at #1.name: is missing; it takes the token's name: 1 to 63 characters, lowercase a-z, digits, - and _",
    );
    expect(refused({ WAITER_HTTP_OAUTH: JSON.stringify({ audience: "waiter" }) })).toBe(
      "invalid setting WAITER_HTTP_OAUTH at issuer: is missing; it takes the authorization server's issuer URL, like https://id.example.com",
    );
    const automations = (automation: object) => ({ WAITER_AUTOMATIONS: JSON.stringify([automation]) });
    const ack = [{ ack: true }];
    expect(refused(automations({ when: { source: "shop" }, do: ack }))).toMatch(
      /at automation #1, name: is missing; it takes the automation's name: 1 to 63 characters, lowercase a-z, digits, - and _$/,
    );
    expect(refused(automations({ name: "a", do: ack }))).toMatch(
      /at automation a, when: is missing; it takes the events it runs on: \{"source": …\}, with "type" and "where" to narrow them$/,
    );
    expect(refused(automations({ name: "a", when: {}, do: ack }))).toMatch(
      /at automation a, when\.source: is missing; it takes the webhook source whose events it runs on$/,
    );
    expect(refused(automations({ name: "a", when: { source: "shop", where: [{ equals: 1 }] }, do: ack }))).toMatch(
      /at automation a, when\.where 1, path: is missing; it takes where in the event the value is, like payload\.data\.object\.status$/,
    );
    expect(refused(automations({ name: "a", when: { source: "shop" } }))).toMatch(
      /at automation a, do: is missing; it takes its steps, 1 to 20: a step is \{"tool": …, "args": \{…\}\}, \{"notify": <channel>, "text": …\} or \{"ack": true\}$/,
    );
    expect(refused(automations({ name: "a", when: { source: "shop" }, do: ack, onFailure: {} }))).toMatch(
      /at automation a, onFailure\.notify: is missing; it takes the notification channel told when a run fails$/,
    );
  });

  test("an empty value where one is needed is said to be empty, with what it takes, not in the schema's words", () => {
    const automations = (automation: object) => ({ WAITER_AUTOMATIONS: JSON.stringify([automation]) });
    const ack = [{ ack: true }];
    expect(refused(automations({ name: "a", when: { source: "" }, do: ack }))).toMatch(
      /at automation a, when\.source: is empty; it takes the webhook source whose events it runs on$/,
    );
    // Blanks alone too: they would take only the events of no type, which the listener keeps as "unknown".
    for (const type of ["", "  "]) {
      expect(refused(automations({ name: "a", when: { source: "shop", type }, do: ack }))).toMatch(
        /at automation a, when\.type: is empty; leave it out for events of every type$/,
      );
    }
    expect(
      refused(automations({ name: "a", when: { source: "shop", where: [{ path: "", equals: 1 }] }, do: ack })),
    ).toMatch(
      /at automation a, when\.where 1, path: is empty; it takes where in the event the value is, like payload\.data\.object\.status$/,
    );
    expect(refused(automations({ name: "a", when: { source: "shop" }, do: ack, onFailure: { notify: "" } }))).toMatch(
      /at automation a, onFailure\.notify: is empty; it takes the notification channel told when a run fails$/,
    );
  });

  test('a type with a "*" before its end, which no type matches as written, is told that only a "*" at the end is a wildcard', () => {
    const automations = (type: string) => ({
      WAITER_AUTOMATIONS: JSON.stringify([{ name: "a", when: { source: "shop", type }, do: [{ ack: true }] }]),
    });
    expect(refused(automations("order.*.paid"))).toMatch(
      /at automation a, when\.type: has a "\*" before its end, which is matched as written, so no event's type matches it: only a "\*" at the end is a wildcard \("order\.\*" takes the types that begin with "order\."\)$/,
    );
    expect(refused(automations("*.paid"))).toMatch(
      /at automation a, when\.type: has a "\*" before its end, .*: only a "\*" at the end is a wildcard \(for the types that end in "\.paid", leave type out and add the condition \{"path": "ends_with\(event\.type, '\.paid'\)", "equals": true\}\)$/,
    );
    expect(() => load(automations("order.*"))).not.toThrow();
  });

  test("a channel or a source given alone where its object goes is told the object that holds it", () => {
    const automations = (automation: object) => ({
      WAITER_AUTOMATIONS: JSON.stringify([{ name: "a", when: { source: "shop" }, do: [{ ack: true }], ...automation }]),
    });
    expect(refused(automations({ onFailure: "team" }))).toMatch(
      /at automation a, onFailure: is the channel alone; onFailure is \{"notify": "team"\}$/,
    );
    expect(refused(automations({ when: "shop" }))).toMatch(
      /at automation a, when: is the source alone; when is \{"source": "shop"\}, with "type" and "where" to narrow it$/,
    );
  });

  test("a condition's test that waiter has not (not equals, contains) is told the path that tests it", () => {
    const where = (condition: object) => ({
      WAITER_AUTOMATIONS: JSON.stringify([
        { name: "a", when: { source: "shop", where: [{ path: "payload.status", ...condition }] }, do: [{ ack: true }] },
      ]),
    });
    for (const key of ["ne", "not", "not_equals", "notEquals"]) {
      expect(refused(where({ [key]: "cancelled" }))).toBe(
        `invalid setting WAITER_AUTOMATIONS at automation a, when.where 1: unknown key "${key}": a condition that holds where the value is not one is {"path": "payload.status != 'cancelled'", "equals": true}; not any of several, {"path": "!contains(['cancelled', 'failed'], payload.status)", "equals": true}`,
      );
    }
    expect(refused(where({ contains: "gift" }))).toMatch(
      /unknown key "contains": a condition on a list or text that holds a value is \{"path": "contains\(payload\.tags, 'gift'\)", "equals": true\}$/,
    );
  });

  test("a condition written as a JMESPath comparison alone is told how a condition holds one", () => {
    const where = (condition: unknown) => ({
      WAITER_AUTOMATIONS: JSON.stringify([
        { name: "a", when: { source: "shop", where: [condition] }, do: [{ ack: true }] },
      ]),
    });
    expect(refused(where("payload.amount > `1000`"))).toMatch(
      /at automation a, when\.where 1: is text, where a condition is an object, a path and one test: a JMESPath comparison is \{"path": "payload\.status == 'paid'", "equals": true\}$/,
    );
  });

  test("a value a condition compares with, written in a path's quotes, is told that it would be compared quotes and all", () => {
    const automations = (condition: object) => ({
      WAITER_AUTOMATIONS: JSON.stringify([
        { name: "a", when: { source: "shop", where: [{ path: "payload.status", ...condition }] }, do: [{ ack: true }] },
      ]),
    });
    expect(refused(automations({ equals: "'paid'" }))).toMatch(
      /at automation a, when\.where 1, equals: is in single quotes, which the payload's value would have to hold too, so it never matches: write it without them, "paid" \(quotes are for text inside a path: payload\.status == 'paid'\)$/,
    );
    expect(refused(automations({ in: ["processing", "`completed`"] }))).toMatch(
      /at automation a, when\.where 1, in\.1: is in backticks, .*: write it without them, "completed" /,
    );
    expect(() => load(automations({ equals: "paid" }))).not.toThrow();
    expect(() => load(automations({ equals: "'" }))).not.toThrow();
  });
});

test("a JSON error's place is said once: as a line and column where V8 gives a position alone", () => {
  const text = '{\n  "logLevel": "debug",\n}';
  expect(jsonProblem("Expected double-quoted property name in JSON at position 25", text)).toBe(
    "Expected double-quoted property name in JSON at position 25 (line 3, column 1): a comma after the last item, which JSON does not allow; remove it",
  );
  // Node 22's V8 says the line and column itself.
  const node22 = "Expected double-quoted property name in JSON at position 25 (line 3 column 1)";
  expect(jsonProblem(node22, text)).toBe(
    `${node22}: a comma after the last item, which JSON does not allow; remove it`,
  );
  const missing = '{\n  "logLevel": "debug"\n  "x": 1}';
  expect(jsonProblem("Expected ',' or '}' after property value in JSON at position 26", missing)).toBe(
    "Expected ',' or '}' after property value in JSON at position 26 (line 3, column 3)",
  );
});

test("a source's URL on a listener bound to every address says where this machine's address goes", () => {
  for (const host of ["0.0.0.0", "::"]) {
    expect(sourceUrl({ listen: { host, port: 8790 }, publicUrl: undefined }, "stripe")).toBe(
      "http://<this machine's address>:8790/webhooks/stripe",
    );
  }
  expect(sourceUrl({ listen: { host: "::1", port: 8790 }, publicUrl: undefined }, "stripe")).toBe(
    "http://[::1]:8790/webhooks/stripe",
  );
  expect(sourceUrl({ listen: { host: "0.0.0.0", port: 8790 }, publicUrl: "https://hooks.example.com/" }, "gh")).toBe(
    "https://hooks.example.com/webhooks/gh",
  );
});

test("a Comgate source's merchant id is read without the blanks around it, as Comgate's notifications carry none", () => {
  const config = load({
    WAITER_WEBHOOKS_SOURCES: JSON.stringify({
      comgate: { scheme: "comgate", merchant: " 498621 ", secretEnv: "COMGATE_SECRET" },
    }),
    COMGATE_SECRET: "ZqVmRr0lUFRm7ZXbHpd7QnSGfCbVnw5U",
  });
  expect(webhooksOf(config).sources.find((source) => source.name === "comgate")).toMatchObject({ merchant: "498621" });
});

test("a key written without quotes, as JavaScript and JSON5 take it, is told to put it in double quotes", () => {
  expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: "{maxEvents: 10}" }))).toMatch(
    /^invalid setting WAITER_WEBHOOKS_RETENTION: is not valid JSON: .* \(line 1,? column 2\): a key without quotes, where JSON needs double quotes around each key \("maxEvents", not maxEvents\)$/,
  );
  const path = file('{\n  "logLevel": "debug",\n  readOnly: true\n}');
  expect(messageOf(() => load({}, { file: path }))).toMatch(
    /\(line 3,? column 3\): a key without quotes, where JSON needs double quotes around each key \("readOnly", not readOnly\)$/,
  );
});

test("JSON written with single quotes, as JavaScript and Python take it, is told to use double quotes", () => {
  expect(messageOf(() => load({ WAITER_WEBHOOKS_RETENTION: "{'maxEvents': 10}" }))).toMatch(
    /^invalid setting WAITER_WEBHOOKS_RETENTION: is not valid JSON: .* \(line 1,? column 2\): a single quote, where JSON needs double quotes around each key and text \("name", not 'name'\)$/,
  );
  const path = file("{\n  \"logLevel\": 'debug'\n}");
  expect(messageOf(() => load({}, { file: path }))).toMatch(
    /\(line 2,? column 15\): a single quote, where JSON needs double quotes around each key and text \("name", not 'name'\)$/,
  );
});
