import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { coreSettings } from "../src/config.js";
import { TOOLSETS } from "../src/toolsets.js";
import { webhookSettings } from "../src/webhooks/settings.js";
import { renderSettings, renderTools } from "./reference.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const docs = readdirSync(join(root, "docs"))
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => `docs/${name}`);
const pages = ["README.md", ...docs];

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

test("the README stays an overview: at most 12 KB, the rest in docs/", () => {
  expect(statSync(join(root, "README.md")).size).toBeLessThanOrEqual(12 * 1024);
});

test("the README links every page in docs/", () => {
  const linked = new Set([...read("README.md").matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]));
  expect(docs.filter((page) => !linked.has(page))).toEqual([]);
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

test("mcp.json is a ready client entry that sets only real settings", () => {
  const entry = JSON.parse(read("mcp.json")).mcpServers.waiter;
  expect(entry.command).toBe("node");
  expect(entry.args[0]).toMatch(/dist\/src\/cli\.js$/);
  const known = new Set(settings.map((s) => s.env));
  for (const name of Object.keys(entry.env)) expect(known).toContain(name);
});
