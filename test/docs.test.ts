import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { CONFIG_FILE_ENV, coreSettings, loadConfig } from "../src/config.js";
import { SqliteEventStore } from "../src/events/sqlite.js";
import { HttpClient } from "../src/http/client.js";
import { Log } from "../src/log.js";
import { toolsets } from "../src/toolsets.js";
import { webhooksOf } from "../src/webhooks/settings.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const settings = [...Object.values(coreSettings), ...toolsets().flatMap((t) => Object.values(t.settings))];

test("the README's settings table names every setting", () => {
  for (const env of [CONFIG_FILE_ENV, ...settings.map((s) => s.env)]) expect(readme).toContain(`| \`${env}\` |`);
});

test("the README's tools table names every tool", () => {
  const http = new HttpClient({ userAgent: "t", maxResponseBytes: 1024 });
  const events = new SqliteEventStore(":memory:", webhooksOf(loadConfig({ env: {} }, toolsets())).retention);
  for (const toolset of toolsets(events)) {
    const values = Object.fromEntries(
      Object.entries(toolset.settings).map(([key, setting]) => [key, setting.schema.parse(undefined)]),
    );
    for (const tool of toolset.tools({ settings: values, http, log: new Log("error") })) {
      expect(readme).toContain(`| \`${tool.name}\` |`);
    }
  }
  void http.close();
  events.close();
});

test("mcp.json is a ready client entry that sets only real settings", () => {
  const entry = JSON.parse(readFileSync(new URL("../mcp.json", import.meta.url), "utf8")).mcpServers.waiter;
  expect(entry.command).toBe("node");
  expect(entry.args[0]).toMatch(/dist\/src\/cli\.js$/);
  const known = new Set(settings.map((s) => s.env));
  for (const name of Object.keys(entry.env)) expect(known).toContain(name);
});
