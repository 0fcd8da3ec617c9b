#!/usr/bin/env node
import { holdStopSignals } from "./signals.js";
import { toStderr } from "./stderr.js";
import { OLDEST_NODE } from "./version.js";

// The command an MCP client runs. It loads the rest of waiter only once this Node.js is new
// enough: an older one fails while loading it, before any of it runs (Node.js 16.16 has no
// parseArgs, 12 cannot read `??`), with a SyntaxError that names neither waiter nor the Node.js
// it needs. So this file and what it imports are written as Node.js 12 reads them.

/**
 * Whether this Node.js is older than OLDEST_NODE. waiter starts on one and lists its tools, but
 * its packages fail on their first use (undici: "File is not defined"), said as a bug in waiter.
 */
function nodeTooOld(): boolean {
  const sortable = (version: string) =>
    version
      .split(".")
      .map((part) => part.padStart(5, "0"))
      .join(".");
  return sortable(process.versions.node) < sortable(OLDEST_NODE);
}

if (nodeTooOld()) {
  // A desktop client's short PATH may find an old system node before the one the user installed.
  // Windows has no `which`, and PowerShell's `where` is another command: `where.exe` runs in both shells.
  // What it prints there (C:\Program Files\nodejs\node.exe) is, as it is, a bad escape in a client's JSON.
  const whichNode =
    process.platform === "win32"
      ? "`where.exe node` prints the one your terminal runs; in JSON, write its backslashes doubled or as forward slashes"
      : "`which node` prints the one your terminal runs";
  toStderr(
    `waiter: needs Node.js ${OLDEST_NODE} or later, and ${process.execPath} is ${process.version}: give the MCP client's "command" the absolute path of a newer node (${whichNode})\n`,
    "error",
  );
  process.exit(1);
}

// Loading the rest takes a moment, longer than a stop right after the start (`docker stop`) waits.
holdStopSignals();

// The only writer to stdout besides the stdio mode's JSON-RPC: the help or the version main prints.
// A failure is thrown again outside the promise, as a failure of the command's first module is: to
// the uncaughtException handler main.ts sets, or else to Node's own report and exit status 1.
import("./main.js")
  .then(({ main }) => main())
  .then((printed) => {
    if (printed === undefined) return;
    // A reader gone before it is written (`waiter --help | grep -q listen`) wants no more of it:
    // unheard, the EPIPE would end the command with a stack trace and status 1.
    process.stdout.on("error", () => {});
    process.stdout.write(printed);
  })
  .catch((err: unknown) => {
    setImmediate(() => {
      throw err;
    });
  });
