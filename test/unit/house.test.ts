import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Each source file of src/ and tools/, with the files of the project it imports. */
function imports(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const dir of ["src", "tools"]) {
    for (const file of readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const path = join(dir, file);
      const text = readFileSync(join(root, path), "utf8");
      const named = [...text.matchAll(/from "(\.[^"]+)\.js"/g)].map((m) => `${join(dirname(path), m[1] as string)}.ts`);
      found.set(path, named);
    }
  }
  return found;
}

test("a toolset's module is imported by the list of toolsets alone, and a verifier by nothing of the event store", () => {
  const toolset = (path: string) => /^src\/[a-z]+\/tools\.ts$|^tools\/[a-z]+\/index\.ts$/.test(path);
  const house = imports();
  expect(house.get("src/toolsets.ts")).toContain("src/events/tools.ts");
  const wrong: string[] = [];
  for (const [file, named] of house) {
    for (const imported of named) {
      if (toolset(imported) && file !== "src/toolsets.ts") wrong.push(`${file} -> ${imported}`);
      if (file.startsWith("src/webhooks/verifiers/") && imported.startsWith("src/events/")) {
        wrong.push(`${file} -> ${imported}`);
      }
    }
  }
  expect(wrong).toEqual([]);
});
