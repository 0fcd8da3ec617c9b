import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { satisfies } from "semver";
import { afterAll, expect, test } from "vitest";
import { automation } from "../src/automations/rules.js";
import { coreSettings, loadConfig } from "../src/config.js";
import { databaseSettings } from "../src/events/database.js";
import { MIGRATIONS } from "../src/events/postgres/schema.js";
import { SCHEMA_VERSION, SqliteEventStore } from "../src/events/sqlite/store.js";
import { CONFIG_FILE_ENV } from "../src/settings.js";
import { toolsets } from "../src/toolsets.js";
import { webhookSettings, webhooksOf } from "../src/webhooks/settings.js";
import { channel, notifyToolset } from "../tools/notify/index.js";
import { onFreePort } from "./fakes/http.js";
import { EVERY_TOOLSET, renderReadme, renderSettings, renderTools } from "./reference.js";

const directories: string[] = [];
/** A new directory under the system's temporary one, removed once the file's tests ran. */
function temporary(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  directories.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const docs = readdirSync(join(root, "docs"))
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => `docs/${name}`);
const pages = ["README.md", ...docs];

const settings = [...Object.values(coreSettings), ...toolsets().flatMap((t) => Object.values(t.settings))];

const STALE = "is not what the code generates: run `npm run docs` and review the change";

test("docs/settings.md is generated from the settings declarations", async () => {
  await expect(await renderSettings(), `docs/settings.md ${STALE}`).toMatchFileSnapshot("../docs/settings.md");
});

test("WAITER_AUTOMATIONS' description, and so docs/settings.md, names every key an automation takes", () => {
  const { description } = coreSettings.automations;
  expect(Object.keys(automation.shape).filter((key) => !new RegExp(`[{ ]${key}[,:}]`).test(description))).toEqual([]);
});

test("WAITER_NOTIFY_CHANNELS' description, and so docs/settings.md, names every key a channel of each type takes", () => {
  const { description } = notifyToolset().settings.channels as { description: string };
  const keys = channel.out.options.flatMap((type) => Object.keys(type.shape));
  expect(keys.filter((key) => !new RegExp(`[{ ]${key}[,:}]`).test(description))).toEqual([]);
});

test("docs/tools.md is generated from tools/list with every toolset on", async () => {
  await expect(await renderTools(), `docs/tools.md ${STALE}`).toMatchFileSnapshot("../docs/tools.md");
});

test("docs/tools.md gives no name the fixture configures as a value: a reader would take it for the only one", () => {
  const names = [
    ...Object.keys(JSON.parse(EVERY_TOOLSET.WAITER_NOTIFY_CHANNELS)),
    ...Object.keys(JSON.parse(EVERY_TOOLSET.WAITER_WEBHOOKS_SOURCES)),
    ...JSON.parse(EVERY_TOOLSET.WAITER_AUTOMATIONS).map((automation: { name: string }) => automation.name),
  ];
  const reference = read("docs/tools.md");
  expect(names.filter((name) => reference.includes(`\`${name}\``) || reference.includes(`(${name})`))).toEqual([]);
});

test("the README's list of tools is generated from tools/list with every toolset on", async () => {
  await expect(await renderReadme(read("README.md")), `README.md's tools ${STALE}`).toMatchFileSnapshot("../README.md");
});

test("the README stays an overview: at most 12 KB, the rest in docs/", async () => {
  // As `npm run docs` writes it: that run checks the size before it writes the list of tools.
  const size = Buffer.byteLength(await renderReadme(read("README.md")));
  expect(
    size,
    `README.md, with its list of tools as generated, is ${size} bytes: take text out of it (into a page in docs/) until it fits`,
  ).toBeLessThanOrEqual(12 * 1024);
});

test("every Node.js the README's quick start names builds and tests a clone: each package npm installs there takes it", () => {
  const start = /^## Quick start\n\n(.*?)In a clone/ms.exec(read("README.md"))?.[1] ?? "";
  // Versions as X.Y or X.Y.Z, or a major alone after "Node.js".
  const named = [...start.matchAll(/(?<=Node\.js )\d+(?![.\d])|\b\d+\.\d+(?:\.\d+)?\b/g)].map(([version]) =>
    [...version.split("."), "0", "0"].slice(0, 3).join("."),
  );
  expect(named.length, "the quick start's first lines name the Node.js versions it needs").toBeGreaterThan(0);
  const installed = Object.entries(
    JSON.parse(read("package-lock.json")).packages as Record<
      string,
      { engines?: { node?: string }; optional?: boolean }
    >,
  ).filter(([path, entry]) => path.startsWith("node_modules/") && entry.engines?.node && !entry.optional);
  const refused = named.flatMap((version) =>
    installed
      .filter(([, entry]) => !satisfies(version, entry.engines?.node ?? ""))
      .map(([path, entry]) => `${path.slice("node_modules/".length)} (${entry.engines?.node}) refuses ${version}`),
  );
  expect(refused).toEqual([]);
});

test("the upgrade notice docs/webhooks.md quotes names each store's last upgrade, to the schema a current waiter has", () => {
  const quoted = [...read("docs/webhooks.md").matchAll(/from schema \d+ to \d+` on (?:SQLite|PostgreSQL)/g)].map(
    ([quote]) => quote,
  );
  expect(quoted.sort()).toEqual([
    `from schema ${MIGRATIONS.length - 1} to ${MIGRATIONS.length}\` on PostgreSQL`,
    `from schema ${SCHEMA_VERSION - 1} to ${SCHEMA_VERSION}\` on SQLite`,
  ]);
});

test("the README links every page in docs/", () => {
  const linked = new Set([...read("README.md").matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]));
  expect(docs.filter((page) => !linked.has(page))).toEqual([]);
});

test("every vitest command the README and docs/ show names its files before -u, which would take a file for its value", () => {
  const commands = pages.flatMap((page) =>
    [...read(page).matchAll(/vitest run[^`\n]*/g)].map((match) => ({ page, command: match[0] })),
  );
  expect(commands.length).toBeGreaterThan(0);
  const valueTaken = /\s(-u|--update)\s+(?!-)(?!(true|false|new|all|none)\b)\S/;
  expect(commands.filter(({ command }) => valueTaken.test(command))).toEqual([]);
});

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, "").split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    found.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return found;
}

test("every relative link in the README and docs/ points at a file, and at a heading when it names one", () => {
  const broken: string[] = [];
  for (const page of pages) {
    const text = read(page).replace(/^```[\s\S]*?^```/gm, "");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/i.test(target)) continue;
      const [path = "", anchor] = target.split("#");
      const file = path === "" ? join(root, page) : resolve(dirname(join(root, page)), path);
      if (!existsSync(file)) {
        broken.push(`${page}: ${target} (no ${relative(root, file)})`);
      } else if (anchor !== undefined && file.endsWith(".md") && !anchors(readFileSync(file, "utf8")).has(anchor)) {
        broken.push(`${page}: ${target} (no such heading)`);
      }
    }
  }
  expect(broken).toEqual([]);
});

test("every WAITER_ variable the README and docs/ name is a setting, or one a secret or a shell command is given in", () => {
  const settingsTable = [...read("docs/settings.md").matchAll(/^\| `(WAITER_\w+)`/gm)].map((m) => m[1]);
  expect(settingsTable.length).toBeGreaterThan(40);
  const files = [
    ...pages.filter((page) => page !== "docs/settings.md"),
    "Dockerfile",
    "docs/compose.yml",
    "docs/waiter.env.example",
  ];
  const texts = files.map((file) => ({ file, text: read(file) }));
  const everywhere = texts.map(({ text }) => text).join("\n");
  const known = new Set([
    CONFIG_FILE_ENV,
    ...settingsTable,
    // Variables a secret is read from, named by a setting's value ("secretEnv": "WAITER_TOKEN_OPS").
    ...[...everywhere.matchAll(/Env"?\s*[:=]\s*"?(WAITER_\w+)/g)].map((m) => m[1]),
    // Variables of the reader's shell or compose's ($WAITER_TOKEN, ${WAITER_DB_PASSWORD}), and the tests' own.
    ...[...everywhere.matchAll(/\$\{?(WAITER_\w+)/g)].map((m) => m[1]),
    ...readdirSync(join(root, "test"), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts"))
      .flatMap((name) => [...read(`test/${name}`).matchAll(/process\.env\.(WAITER_TEST_\w+)/g)].map((m) => m[1])),
    // An older docs/compose.yml's, which docs/scaling.md names as such.
    "WAITER_PUBLIC_URL",
  ]);
  const unknown = texts.flatMap(({ file, text }) =>
    // A name ending in _ or followed by * stands for every setting it begins (WAITER_WOO_*).
    [...text.matchAll(/\bWAITER_\w+\b(?![*\w])/g)]
      .map((m) => m[0])
      .filter((name) => !name.endsWith("_") && !known.has(name))
      .map((name) => `${file}: ${name}`),
  );
  expect([...new Set(unknown)]).toEqual([]);
});

test("every default the README and docs/ give beside a setting's variable is the default docs/settings.md has from the code", () => {
  const defaults = new Map(
    [...read("docs/settings.md").matchAll(/^\| `(WAITER_\w+)` \|.*\| `(\d+)` \|$/gm)].map((m) => [m[1], m[2]]),
  );
  expect(defaults.size).toBeGreaterThan(10);
  // "WAITER_STOP_SECONDS, 10 s", "`WAITER_AUTOMATION_RETRY_SECONDS` (600)", "(`WAITER_EVENTS_PROGRESS_SECONDS`, 5 s)".
  const given = [...pages.filter((page) => page !== "docs/settings.md"), "Dockerfile", "docs/compose.yml"].flatMap(
    (page) =>
      [
        ...read(page).matchAll(/\b(WAITER_\w+)`?(?: \(`[\w.]+`\))?(?:, | \()([\d,]+)(?: ?(?:s|seconds|minutes)\b|\))/g),
      ].map(([said = "", name = "", value = ""]) => ({ page, said, name, value: value.replaceAll(",", "") })),
  );
  expect(given.length).toBeGreaterThan(5);
  expect(
    given
      .filter(({ name, value }) => defaults.has(name) && defaults.get(name) !== value)
      .map(({ page, said }) => `${page}: ${said}`),
  ).toEqual([]);
});

test("every docs page the code names for a reader to look up exists, with the heading it names", () => {
  const code = (dir: string): string[] =>
    readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts"))
      .map((name) => `${dir}/${name}`);
  const named = [...code("src"), ...code("tools")].flatMap((file) =>
    [...read(file).matchAll(/\bdocs\/([\w-]+\.md)(?:#([\w-]+))?/g)].map(([name = "", page = "", anchor]) => ({
      file,
      name,
      page,
      anchor,
    })),
  );
  expect(named.length).toBeGreaterThan(0);
  const missing = named.filter(
    ({ page, anchor }) =>
      !docs.includes(`docs/${page}`) || (anchor !== undefined && !anchors(read(`docs/${page}`)).has(anchor)),
  );
  expect(missing.map(({ file, name }) => `${file}: ${name}`)).toEqual([]);
});

/** The repository's files the README and docs/ name: `src/…`, `test/…` and the like, each a file (with its extension) or a folder (with its slash). */
function filesNamed(page: string, text: string): { page: string; path: string }[] {
  const spans = [...text.matchAll(/`((?:src|test|tools|devtools|docs|\.ci)\/[\w./-]*(?:\.\w+|\/))`/g)].map((m) => m[1]);
  // docs/development.md's layout: a folder at the line's start, then the files in it, indented.
  const layout = /^## Layout\n+```\n([\s\S]*?)^```/m.exec(text)?.[1] ?? "";
  let folder = "";
  const listed = layout.split("\n").flatMap((line) => {
    const name = /^( {2})?([\w.][\w./-]*)(?: {2,}|$)/.exec(line);
    if (!name?.[2]) return [];
    if (!name[1]) folder = name[2].endsWith("/") ? name[2] : "";
    return [name[1] ? `${folder}${name[2]}` : name[2]];
  });
  return [...spans, ...listed]
    .filter((path): path is string => path !== undefined && path !== "docs/waiter.env")
    .map((path) => ({ page, path }));
}

test("every file and folder of the repository, and every npm script, the README and docs/ name exists", () => {
  const named = pages.flatMap((page) => filesNamed(page, read(page)));
  expect(named.length).toBeGreaterThan(40);
  expect(named.filter(({ path }) => !existsSync(join(root, path))).map(({ page, path }) => `${page}: ${path}`)).toEqual(
    [],
  );
  const scripts = Object.keys(JSON.parse(read("package.json")).scripts);
  const run = pages.flatMap((page) =>
    [...read(page).matchAll(/\bnpm run ([\w:-]+)/g)].map(([, script]) => ({ page, script: script as string })),
  );
  expect(run.length).toBeGreaterThan(5);
  expect(run.filter(({ script }) => !scripts.includes(script)).map(({ page, script }) => `${page}: ${script}`)).toEqual(
    [],
  );
});

test("the check of the files the docs name reads the layout's folders and files, and backquoted paths", () => {
  const page = "## Layout\n\n```\nsrc/  the core\n  cli.ts  flags\n  gone.ts  moved\nDockerfile  the image\n```\n";
  expect(filesNamed("x.md", `${page}and \`test/gone.test.ts\`, \`tools/list\``).map(({ path }) => path)).toEqual([
    "test/gone.test.ts",
    "src/",
    "src/cli.ts",
    "src/gone.ts",
    "Dockerfile",
  ]);
});

/** Every JSON example in the README and docs/, by page: those indented in a list item too. */
const examples = pages.flatMap((page) =>
  [...read(page).matchAll(/^( *)```json\n([\s\S]*?)^\1```/gm)].map((m) => ({
    page,
    json: JSON.parse((m[2] ?? "").replace(new RegExp(`^${m[1]}`, "gm"), "")),
  })),
);

test("mcp.json and the client entries the docs show start waiter and set only real settings", () => {
  const shown = [{ page: "mcp.json", json: JSON.parse(read("mcp.json")) }, ...examples];
  const entries = shown.flatMap(({ page, json }) =>
    Object.values(json.mcpServers ?? json.servers ?? {}).map((entry) => ({
      page,
      entry: entry as Record<string, never>,
      vsCode: json.servers !== undefined,
    })),
  );
  expect(entries.map((e) => e.page)).toContain("mcp.json");
  expect(entries.length).toBeGreaterThanOrEqual(4);
  const known = new Set([CONFIG_FILE_ENV, ...settings.map((s) => s.env)]);
  for (const { page, entry, vsCode } of entries) {
    // VS Code requires the transport named; an entry that names it names the right one.
    if (entry.url) {
      expect(entry.url, page).toBe("https://waiter.example.com/mcp");
      if (vsCode || entry.type) expect(entry.type, page).toBe("http");
      continue;
    }
    if (vsCode || entry.type) expect(entry.type, page).toBe("stdio");
    expect(entry.command, page).toBe("node");
    expect(entry.args, page).toEqual(["/path/to/waiter/dist/src/cli.js"]);
    for (const name of Object.keys(entry.env ?? {})) expect(known, `${page}: ${name}`).toContain(name);
  }
});

test("every `claude mcp add` the docs give names waiter, and the command after `--`: --env and --header take every word up to the next option", () => {
  const known = new Set([CONFIG_FILE_ENV, ...settings.map((s) => s.env)]);
  const commands = pages.flatMap((page) =>
    [...read(page).matchAll(/claude mcp add ([^`\n]*(?:\n {2}[^`\n]*(?=`))?)/g)].map((m) => ({
      page,
      words: (m[1] ?? "").match(/"[^"]*"|\S+/g) ?? [],
    })),
  );
  expect(commands.length).toBeGreaterThanOrEqual(2);
  const single = new Set(["--scope", "-s", "--transport", "-t"]);
  const many = new Set(["--env", "-e", "--header", "-H"]);
  for (const { page, words } of commands) {
    // As Claude Code's parser reads them: a variadic option takes words until the next option or `--`.
    const positional: string[] = [];
    const env: string[] = [];
    let taking: string | undefined;
    let rest: string[] = [];
    for (const [i, word] of words.entries()) {
      if (word === "--") {
        rest = words.slice(i + 1);
        break;
      }
      if (single.has(word) || many.has(word)) {
        taking = word;
        continue;
      }
      if (word.startsWith("-")) throw new Error(`${page}: claude mcp add ${word} is not checked here`);
      if (taking) {
        if (taking === "--env" || taking === "-e") env.push(word.split("=")[0] ?? "");
        if (single.has(taking)) taking = undefined;
        continue;
      }
      positional.push(word);
    }
    const [name, ...target] = [...positional, ...rest];
    expect(name, `${page}: ${words.join(" ")}`).toBe("waiter");
    expect(target.join(" "), `${page}: ${words.join(" ")}`).toMatch(
      /^(node \/path\/to\/waiter\/dist\/src\/cli\.js|https:\/\/waiter\.example\.com\/mcp)$/,
    );
    if (target[0] === "node") expect(rest[0], `${page}: the command goes after --`).toBe("node");
    for (const variable of env) expect(known, `${page}: ${variable}`).toContain(variable);
  }
});

test("the config files shown load, with the secrets they name in the environment", () => {
  const files = examples.filter(({ json }) => !json.mcpServers && !json.servers);
  expect(files.length).toBeGreaterThanOrEqual(2);
  const dir = temporary("waiter-docs-");
  for (const [i, { page, json }] of files.entries()) {
    const file = join(dir, `${i}.json`);
    writeFileSync(file, JSON.stringify(json));
    const sources = Object.values(json.webhooks?.sources ?? {}) as { secretEnv?: string }[];
    const tokens = (json.http?.tokens ?? []) as { secretEnv: string }[];
    const channels = Object.values(json.notify?.channels ?? {}) as { botTokenEnv?: string; passwordEnv?: string }[];
    const env = Object.fromEntries([
      ...sources.flatMap((s) => (s.secretEnv ? [[s.secretEnv, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]] : [])),
      // Each token its own secret, as waiter requires.
      ...tokens.map((t, j) => [t.secretEnv, `${"0123456789abcdef".repeat(4)}${j}`]),
      ...channels.flatMap((c) => [
        ...(c.botTokenEnv ? [[c.botTokenEnv, "7000000005:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"]] : []),
        ...(c.passwordEnv ? [[c.passwordEnv, "secret"]] : []),
      ]),
    ]);
    expect(
      () => loadConfig({ env: { WAITER_DATA_DIR: "/nonexistent", ...env }, file }, toolsets()),
      page,
    ).not.toThrow();
  }
});

const hasSystemd = spawnSync("systemd-analyze", ["--version"]).status === 0;
test.runIf(hasSystemd)("the systemd unit shown passes systemd-analyze verify", () => {
  const units = pages.flatMap((page) =>
    [...read(page).matchAll(/```ini\n(\[Unit\].*?)```/gs)].map((match) => ({ page, unit: match[1] as string })),
  );
  expect(units.length).toBeGreaterThanOrEqual(1);
  const dir = temporary("waiter-unit-");
  for (const [i, { page, unit }] of units.entries()) {
    const file = join(dir, `waiter-${i}.service`);
    // The unit names /usr/bin/node; this machine's node may be elsewhere.
    writeFileSync(file, unit.replaceAll("/usr/bin/node ", `${process.execPath} `));
    const verified = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
    expect({ page, status: verified.status, stderr: verified.stderr }).toEqual({ page, status: 0, stderr: "" });
  }
});

/** What a stop of `waiter serve` may take past WAITER_STOP_SECONDS: a PostgreSQL store that does not answer holds it 5 s more at most (serve.md). */
const STOP_PAST_DRAIN_SECONDS = 5;

test("every process manager the docs set up lets a stop (SIGTERM) take the time waiter gives what is in flight, and a few seconds more", () => {
  const drain = coreSettings.stopSeconds.schema.parse(undefined);
  const given = [
    ...pages.flatMap((page) => [...read(page).matchAll(/^TimeoutStopSec=(\d+)$/gm)].map((m) => [page, m[1]])),
    // Each `docker run` of waiter given, in a page or the Dockerfile's own usage: Docker's own 10 s would cut the drain.
    ...[...pages, "Dockerfile"].flatMap((page) =>
      [...read(page).matchAll(/^[#\s]*docker run ((?:.*\\\n)*.*)$/gm)]
        .filter((m) => !m[1]?.includes("--entrypoint "))
        .map((m) => [page, /--stop-timeout (\d+)/.exec(m[1] ?? "")?.[1] ?? "10"]),
    ),
    ...[...read("docs/compose.yml").matchAll(/^\s*stop_grace_period: (\d+)s$/gm)].map((m) => [
      "docs/compose.yml",
      m[1],
    ]),
  ];
  expect(given.map(([page]) => page)).toEqual(
    expect.arrayContaining(["docs/serve.md", "docs/compose.yml", "Dockerfile"]),
  );
  expect(given.filter(([, seconds]) => Number(seconds) < drain + STOP_PAST_DRAIN_SECONDS)).toEqual([]);
});

test("every container of waiter the docs run keeps a log of bounded size: Docker's default driver keeps every line until the disk is full", () => {
  // Each `docker run` that leaves waiter running (not one --rm runs once), in a page or the Dockerfile's usage.
  const runs = [...pages, "Dockerfile"].flatMap((page) =>
    [...read(page).matchAll(/^[#\s]*docker run ((?:.*\\\n)*.*)$/gm)]
      .filter((m) => !m[1]?.includes("--rm "))
      .map((m) => ({ page, rotated: /--log-driver (local|journald)\b/.test(m[1] ?? "") })),
  );
  expect(runs.map(({ page }) => page)).toEqual(expect.arrayContaining(["docs/serve.md", "Dockerfile"]));
  expect(runs.filter(({ rotated }) => !rotated)).toEqual([]);
  // As docs/compose.yml's services do.
  const services = read("docs/compose.yml")
    .split(/^ {2}(?=[\w-]+:)/m)
    .slice(1)
    .filter((s) => /^\s+(image|build):/m.test(s));
  expect(services.length).toBeGreaterThan(2);
  for (const service of services) expect(service).toMatch(/logging:\n\s+driver: local\n/);
});

/** docs/waiter.env.example as docs/compose.yml's replicas read it: one KEY=value a line. */
const replicaEnv: Record<string, string> = Object.fromEntries(
  read("docs/waiter.env.example")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
);

test("docs/compose.yml's environment sets the database alone: what it sets beats docs/waiter.env, where the rest goes", () => {
  const replica = read("docs/compose.yml").split(/^ {2}waiter-1:/m)[1] ?? "";
  const block = /^ {4}environment:\n((?: {6}.*\n)+)/m.exec(replica)?.[1] ?? "";
  const set = [...block.matchAll(/^ {6}(\w+):/gm)].map((m) => m[1]);
  expect(set).toContain(databaseSettings.url.env);
  expect(set.filter((name) => name !== databaseSettings.url.env && name !== "PGPASSWORD")).toEqual([]);
  expect(replicaEnv).toHaveProperty(webhookSettings.publicUrl.env);
});

test("docs/compose.yml's database is healthy, so the replicas start, once it takes connections over TCP as they do", () => {
  const db =
    read("docs/compose.yml")
      .split(/^ {2}db:/m)[1]
      ?.split(/^ {2}\S/m)[0] ?? "";
  const check = JSON.parse(/^ {6}test: (\[.*\])$/m.exec(db)?.[1] ?? "[]") as string[];
  expect(check.slice(0, 2)).toEqual(["CMD", "pg_isready"]);
  // The image sets a new volume up on a server that listens on its Unix socket alone, then stops it:
  // pg_isready through the socket, its default, says ready then, and the replicas find no server.
  expect(check[check.indexOf("-h") + 1]).toBe("127.0.0.1");
});

/** docs/compose.yml's services by name, each its block of lines; one written `*anchor` is the block anchored `&anchor`. */
function composeServices(): Map<string, string> {
  const services =
    read("docs/compose.yml")
      .split(/^services:\n/m)[1]
      ?.split(/^\S/m)[0] ?? "";
  const anchored = new Map<string, string>();
  const blocks = new Map<string, string>();
  for (const chunk of services.split(/^ {2}(?=[\w-]+:)/m).slice(1)) {
    const [, name = "", anchor, alias, block = ""] = /^([\w-]+):(?: &(\S+)| \*(\S+))?\n([\s\S]*)$/.exec(chunk) ?? [];
    if (anchor) anchored.set(anchor, block);
    blocks.set(name, alias ? (anchored.get(alias) ?? "") : block);
  }
  return blocks;
}

test("every docker run the docs give publishes waiter's plain HTTP on loopback, for a proxy on the host to put HTTPS in front", () => {
  const published = [...pages, "Dockerfile"].flatMap((page) =>
    [...read(page).matchAll(/^[#\s]*docker run ((?:.*\\\n)*.*)$/gm)].flatMap((m) =>
      [...(m[1] ?? "").matchAll(/(?:-p|--publish)[ =](\S+)/g)].map(([, port]) => [page, port]),
    ),
  );
  expect(published.map(([page]) => page)).toEqual(expect.arrayContaining(["docs/serve.md", "Dockerfile"]));
  expect(published.filter(([, port]) => !port?.startsWith("127.0.0.1:"))).toEqual([]);
});

test("docs/compose.yml's services each start again after a crash or a reboot", () => {
  const services = composeServices();
  expect([...services.keys()]).toEqual(expect.arrayContaining(["db", "waiter-1", "waiter-2", "proxy"]));
  for (const [name, block] of services) expect(block, name).toMatch(/^ {4}restart: unless-stopped$/m);
});

test("docs/compose.yml's services each keep a bounded log: Docker's default driver, json-file, keeps every line", () => {
  for (const [name, block] of composeServices()) expect(block, name).toMatch(/^ {4}logging:\n {6}driver: local$/m);
});

test("docs/compose.yml's nginx starts once the replicas answer /healthz, as the image's HEALTHCHECK asks", () => {
  const services = composeServices();
  const replicas = [...services.keys()].filter((name) => /^waiter-\d+$/.test(name));
  expect(replicas.length).toBeGreaterThanOrEqual(2);
  const proxy = services.get("proxy") ?? "";
  for (const replica of replicas) {
    expect(proxy, replica).toMatch(
      new RegExp(`^ {4}depends_on:\\n(?: {6}.*\\n)*? {6}${replica}:\\n {8}condition: service_healthy$`, "m"),
    );
  }
  expect(read("Dockerfile")).toMatch(/^HEALTHCHECK .*\/healthz/ms);
});

test("docs/compose.yml's replicas read docs/waiter.env as written: compose would replace a $ in a secret, drop quotes and a # after a blank", () => {
  for (const [name, block] of composeServices()) {
    if (!block.includes("env_file")) continue;
    expect(block, name).toMatch(/^ {4}env_file:\n {6}- path: waiter\.env\n {8}format: raw$/m);
  }
  expect(composeServices().get("waiter-2")).toContain("env_file");
});

test("no page runs waiter as npx waiter: npx runs no bin of the project it is in, and fetches a package of that name", () => {
  const bins = Object.keys((JSON.parse(read("package.json")) as { bin: Record<string, string> }).bin);
  const npx = new RegExp(`npx (?:-\\S+ )*(?:${bins.join("|")})(?![\\w-])`);
  expect(pages.filter((page) => npx.test(read(page)))).toEqual([]);
});

test("every docker compose command the docs give for docs/compose.yml names services it has", () => {
  const services = new Set([...read("docs/compose.yml").matchAll(/^ {2}([\w-]+):/gm)].map((m) => m[1]));
  // `up` takes the services it names; `exec` one, before the command run in it.
  const named = pages.flatMap((page) =>
    [...read(page).matchAll(/docker compose -f docs\/compose\.yml (up|exec)((?: [^ `]+)+)/g)].flatMap((m) => {
      const words = (m[2] ?? "")
        .trim()
        .split(" ")
        .filter((word) => !word.startsWith("-"));
      return (m[1] === "exec" ? words.slice(0, 1) : words).map((service) => [page, service]);
    }),
  );
  expect(named.map(([, service]) => service)).toEqual(expect.arrayContaining(["waiter-1", "proxy", "db"]));
  expect(named.filter(([, service]) => !services.has(service))).toEqual([]);
});

test("every docker compose command the docs give names docs/compose.yml: from the repository's root, compose finds no file else", () => {
  const commands = pages.flatMap((page) =>
    [...read(page).matchAll(/docker compose(?: -[\w-]+(?: [^ `-][^ `]*)?)* (?!-)[\w-]+/g)].map((m) => [page, m[0]]),
  );
  expect(commands.length).toBeGreaterThan(3);
  expect(commands.filter(([, command]) => !command?.startsWith("docker compose -f docs/compose.yml "))).toEqual([]);
});

test("the proxies the docs set up say to let the proxy's address hold every connection, and the replicas' environment does", () => {
  const { maxConnections, maxConnectionsPerClient } = webhookSettings;
  expect(replicaEnv[maxConnectionsPerClient.env]).toBe(String(maxConnections.schema.parse(undefined)));
  const proxies = readdirSync(join(root, "docs")).filter((name) => /^nginx.*\.conf$/.test(name));
  expect(proxies.length).toBeGreaterThanOrEqual(2);
  for (const conf of proxies) expect(read(`docs/${conf}`), conf).toContain("webhooks.maxConnectionsPerClient");
});

test("docs/waiter.env.example, the replicas' environment in docs/compose.yml, loads once its secrets are filled in", () => {
  const env = replicaEnv;
  // A copy that is not filled in does not start: its secrets are no placeholders anyone could use.
  // Each is named at once, not one per start.
  expect(() => loadConfig({ env: { WAITER_DATA_DIR: "/nonexistent", ...env } }, toolsets())).toThrow(
    /STRIPE_WEBHOOK_SECRET is set but empty.*OPS_TOKEN is set but empty/,
  );
  const filled = {
    ...env,
    OPS_TOKEN: randomBytes(32).toString("hex"),
    STRIPE_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  };
  const config = loadConfig({ env: { WAITER_DATA_DIR: "/nonexistent", ...filled } }, toolsets());
  expect(webhooksOf(config).sources.map((source) => source.name)).toEqual(["stripe"]);
  expect(config.http.tokens.map((token) => token.name)).toEqual(["ops"]);
});

const hasCurlAndOpenssl =
  spawnSync("curl", ["--version"]).status === 0 && spawnSync("openssl", ["version"]).status === 0;
test.runIf(hasCurlAndOpenssl)(
  "the delivery docs/webhooks.md signs by hand is stored, and is a duplicate sent again",
  async () => {
    const block = /^### Sending a delivery by hand\n[\s\S]*?^```sh\n([\s\S]*?)^```/m.exec(
      read("docs/webhooks.md"),
    )?.[1];
    expect(block, "docs/webhooks.md shows how to send a delivery by hand").toBeDefined();
    // curl's retries wait 30 s for the listener's start on a loaded machine, within the test's
    // minute; a port another run took between its pick and the listener's start is left for another.
    const dataDir = temporary("waiter-by-hand-");
    const sent = (port: number) => {
      const script = (block ?? "")
        .replaceAll("127.0.0.1:8790", `127.0.0.1:${port}`)
        .replace("--retry 10 ", "--retry 30 ");
      const send = script.split("\n").find((line) => line.startsWith("curl "));
      const run = spawnSync("bash", ["-c", `${script}echo\n${send}\necho\nkill $!\nwait $!`], {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          WAITER_DATA_DIR: dataDir,
          WAITER_WEBHOOKS_LISTEN: `127.0.0.1:${port}`,
        },
      });
      if (run.stderr.includes("EADDRINUSE")) throw new Error(run.stderr);
      return run;
    };
    const run = await onFreePort(async (port) => sent(port));
    const [first, again] = run.stdout.split("\n");
    expect({ first, status: run.status, stderr: run.stderr }).toMatchObject({
      first: expect.stringMatching(/^\{"id":"[0-9A-Z]{26}","duplicate":false\}$/),
      status: 0,
    });
    expect(again).toBe(first?.replace('"duplicate":false', '"duplicate":true'));
    // Stored with the content type of the JSON it sent, not curl's default for -d, a form's.
    const store = new SqliteEventStore(join(dataDir, "events.db"), { maxEvents: 1000, maxBytes: 1e8, maxAgeDays: 1 });
    try {
      const event = await store.get((JSON.parse(first ?? "{}") as { id: string }).id);
      expect(event?.headers["content-type"]).toBe("application/json");
    } finally {
      await store.close();
    }
  },
  60_000,
);

test("erasing a customer's events names every place a PostgreSQL store's copies stay: its WAL archive and standbys too", () => {
  const erasing = /### Erasing a customer's events\n([\s\S]*?)\n### /.exec(read("docs/webhooks.md"))?.[1] ?? "";
  expect(erasing).toMatch(/in backups/);
  expect(erasing).toMatch(/WAL archive/);
  expect(erasing).toMatch(/standby/);
});

test("each way a start refuses the config file or a setting opens with words an entry of docs/troubleshooting.md is headed by", () => {
  // Each text a heading quotes, "…" standing for what varies, as where a refusal opens.
  const headings = [...read("docs/troubleshooting.md").matchAll(/^- \*\*(.*?)\*\*/gms)].flatMap(([, heading = ""]) =>
    [...heading.replace(/\s+/g, " ").matchAll(/"([^"]+)"/g)].map(
      ([, quoted = ""]) =>
        new RegExp(
          `^${quoted
            .split("…")
            .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*")}`,
        ),
    ),
  );
  const dir = temporary("waiter-docs-");
  const refusal = (env: NodeJS.ProcessEnv, settings?: object) => {
    const file = settings && join(dir, `${randomBytes(4).toString("hex")}.json`);
    if (file) writeFileSync(file, JSON.stringify(settings));
    try {
      loadConfig({ env: { WAITER_DATA_DIR: "/nonexistent", ...env }, ...(file ? { file } : {}) }, toolsets());
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${JSON.stringify({ env, settings })} was not refused`);
  };
  const refusals = [
    refusal({ WAITER_LOG_LEVEL: "loud" }),
    refusal({}, { logLevl: "debug" }),
    refusal({}, { logLevl: "debug", webhooks: { maxbodybytes: 1 } }),
    refusal({ WAITER_LOG_LEVEL: "loud" }, { logLevl: "debug" }),
    refusal({ WAITER_LOG_LEVEL: "loud" }, { toolTimeout: 99 }),
  ];
  expect(refusals.filter((message) => !headings.some((heading) => heading.test(message)))).toEqual([]);
});
