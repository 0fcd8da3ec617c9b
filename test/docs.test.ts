import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { coreSettings } from "../src/config.js";
import { TOOLSETS } from "../src/toolsets.js";
import { webhookSettings } from "../src/webhooks/settings.js";
import { renderSettings, renderTools } from "./reference.js";

const settings = [
  ...Object.values(coreSettings),
  ...Object.values(webhookSettings),
  ...TOOLSETS.flatMap((t) => Object.values(t.settings)),
];

const STALE = "is not what the code generates: run `npm run docs` and review the change";

test("docs/settings.md is generated from the settings declarations", async () => {
  await expect(await renderSettings(), `docs/settings.md ${STALE}`).toMatchFileSnapshot("../docs/settings.md");
});

test("docs/tools.md is generated from tools/list with every toolset on", async () => {
  await expect(await renderTools(), `docs/tools.md ${STALE}`).toMatchFileSnapshot("../docs/tools.md");
});

test("mcp.json is a ready client entry that sets only real settings", () => {
  const entry = JSON.parse(readFileSync(new URL("../mcp.json", import.meta.url), "utf8")).mcpServers.waiter;
  expect(entry.command).toBe("node");
  expect(entry.args[0]).toMatch(/dist\/src\/cli\.js$/);
  const known = new Set(settings.map((s) => s.env));
  for (const name of Object.keys(entry.env)) expect(known).toContain(name);
});
