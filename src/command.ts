import { parseArgs } from "node:util";
import { withControlsEscaped } from "./shown.js";
import { toStderr } from "./stderr.js";

// What the argument reader (main.ts) and the modes it loads (modes.ts) both use.

/** Where each command is told at length. */
export const PAGES = { listen: "docs/webhooks.md", serve: "docs/serve.md" };

/** Whether `arg` names a command (waiter without one serves over stdio). */
export const isCommand = (arg: string | undefined): arg is keyof typeof PAGES =>
  arg !== undefined && Object.hasOwn(PAGES, arg);

/**
 * Says why waiter stops, as one line: a control character in what was typed (the CR a script
 * saved with Windows line endings leaves on its last argument) is shown as an escape, not obeyed.
 */
export function sayStop(message: string): void {
  toStderr(`waiter: ${withControlsEscaped(message)}\n`, "error");
}

export function fail(message: string): never {
  sayStop(message);
  process.exit(2);
}

/** The flags as node reads them; main.ts's FLAGS says what each does. */
export const OPTIONS = {
  config: { type: "string" },
  toolsets: { type: "string" },
  tools: { type: "string" },
  "exclude-tools": { type: "string" },
  "read-only": { type: "boolean" },
  "no-listener": { type: "boolean" },
  listen: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

export function parseFlags() {
  return parseArgs({ strict: true, allowPositionals: true, tokens: true, options: OPTIONS });
}

/** The flags given, for the mode main.ts loads. */
export type Flags = ReturnType<typeof parseFlags>["values"];

/**
 * Where a refusal points: the help of `command` when one was given, which lists the flags it
 * takes, and the general help otherwise.
 */
export function seeHelp(command: string | undefined): string {
  return `(see waiter ${isCommand(command) ? `${command} ` : ""}--help)`;
}
