import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CLI } from "./stdio.js";

/** `node --import` it, as root, and waiter runs as nobody (65534), as a service runs under a user of its own. */
export const asNobody = fileURLToPath(new URL("./fixtures/as-nobody.mjs", import.meta.url));

/** As `asNobody`, as uid 4242, of no account: the system names no home directory for it. */
export const asNoAccount = fileURLToPath(new URL("./fixtures/as-no-account.mjs", import.meta.url));

/** Why the tests that run waiter as nobody are skipped here, if they are: each says it as it skips. */
export const notAsNobody: string | undefined =
  process.getuid?.() !== 0
    ? "running waiter as another user (nobody) needs root"
    : spawnSync(process.execPath, ["--import", asNobody, CLI, "--version"]).status !== 0
      ? "waiter does not start as nobody here: the checkout must be readable by that user"
      : undefined;
