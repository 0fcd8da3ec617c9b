import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root, found from this file whether it runs from src/ or from dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above waiter's code");
    dir = parent;
  }
  return dir;
}

const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
  version: string;
  homepage: string;
  engines: { node: string };
};

export const VERSION = pkg.version;
/** The oldest Node.js waiter and its packages run on: package.json's engines (">=20.18.1"). */
export const OLDEST_NODE = pkg.engines.node.replace(/^>=\s*/, "");
export const USER_AGENT = `waiter-mcp/${pkg.version} (+${pkg.homepage})`;
