import { parseArgs } from "node:util";
import { fail, isCommand, OPTIONS, PAGES, parseFlags, seeHelp } from "./command.js";
import { meantKey, quote } from "./shown.js";
import type { Toolset } from "./toolset.js";
import { VERSION } from "./version.js";

/** A command: `stdio` is waiter without one. */
type Command = "stdio" | "listen" | "serve";

/** Each command's line of the help's usage, and what it does, wrapped to the help's width. */
const COMMANDS: Record<Command, { usage: string; does: string[] }> = {
  stdio: {
    usage: "waiter [options]",
    does: [
      "serve MCP over stdio (an MCP client starts this); also receives",
      "webhooks when sources are configured and the port is free, or",
      "once another assistant's waiter that had it quits (automations",
      "run in waiter listen or serve: with some configured, it leaves",
      "the port to them)",
    ],
  },
  listen: {
    usage: "waiter listen [options]",
    does: [
      "only receive webhooks, for a machine that must take them while",
      "no assistant runs; SIGTERM, SIGHUP or Ctrl+C stops it cleanly",
    ],
  },
  serve: {
    usage: "waiter serve [options]",
    does: [
      "one server for many MCP clients: Streamable HTTP at /mcp, the",
      "webhooks and /healthz on one address; reached from other",
      "machines (not loopback, or through a public URL), only with",
      "http.tokens or http.oauth",
    ],
  },
};

/** Each flag as the help shows it, and the commands that take it (every one when not said). */
const FLAGS: { shown: string; says: string | ((known: readonly Toolset[]) => string); for?: Command[] }[] = [
  {
    shown: "--config FILE",
    says: "JSON config file (default: $WAITER_CONFIG); secrets come from the environment only",
  },
  {
    shown: "--toolsets a,b",
    says: (known) => `enable only these toolsets (known: ${known.map((t) => t.name).join(", ")})`,
  },
  { shown: "--tools a,b", says: "serve only these tools of the enabled toolsets (currency_convert, ...)" },
  { shown: "--exclude-tools a,b", says: "serve every tool but these" },
  { shown: "--read-only", says: "remove every tool that changes anything; beats every other setting" },
  { shown: "--no-listener", says: "do not receive webhooks in this process (stdio mode)", for: ["stdio"] },
  {
    shown: "--listen HOST:PORT",
    says: "address of waiter serve (default: $WAITER_LISTEN, else the config file's listen, else webhooks.listen)",
    for: ["serve"],
  },
  { shown: "-h, --help", says: "show this help" },
  { shown: "-v, --version", says: "print the version" },
];

const usageLines = (command: Command) => {
  const [first, ...rest] = COMMANDS[command].does;
  return [`  ${COMMANDS[command].usage.padEnd(26)}${first}`, ...rest.map((line) => `${" ".repeat(28)}${line}`)];
};

/** The flags `command` takes, or every flag; a name too long for the column keeps two blanks after it. */
const flagLines = (known: readonly Toolset[], command?: Command) =>
  FLAGS.filter((flag) => command === undefined || flag.for === undefined || flag.for.includes(command)).map(
    ({ shown, says }) =>
      `  ${shown.length > 17 ? `${shown}  ` : shown.padEnd(19)}${typeof says === "string" ? says : says(known)}`,
  );

/** The help of every command, and of the toolsets `known`. */
function help(known: readonly Toolset[]): string {
  return `waiter ${VERSION}: an MCP server that serves a company's APIs (currency rates, webhooks, ...) as tools.

Usage:
${(Object.keys(COMMANDS) as Command[]).flatMap(usageLines).join("\n")}

Options:
${flagLines(known).join("\n")}

Toolsets:
${known.map((t) => `  ${t.name.padEnd(17)}${t.description}`).join("\n")}

Every setting is also an environment variable (WAITER_*); docs/settings.md lists them all.`;
}

/** The help of one command: what it does and the flags it takes, in the words of the general help. */
function commandHelp(command: keyof typeof PAGES, known: readonly Toolset[]): string {
  return `waiter ${VERSION}: waiter ${command}

Usage:
${usageLines(command).join("\n")}

Options:
${flagLines(known, command).join("\n")}

Every setting is also an environment variable (WAITER_*); docs/settings.md lists them all, and
${PAGES[command]} says more. waiter --help shows every command.`;
}

/** The command typed, read past the flags node refuses (an unknown one, a value forgotten), if any. */
function typedCommand(): keyof typeof PAGES | undefined {
  const [first] = parseArgs({ strict: false, allowPositionals: true, options: OPTIONS }).positionals;
  return isCommand(first) ? first : undefined;
}

/**
 * An argument that holds a flag or a command and more after a blank ("--toolsets currency"): an
 * MCP client's "args" written as one item where waiter takes several. node would call the flag
 * unknown, and the command unknown too.
 */
function joinedArgs(): string | undefined {
  const { tokens } = parseArgs({ strict: false, allowPositionals: true, tokens: true, options: OPTIONS });
  for (const token of tokens) {
    const arg = token.kind === "option" ? token.rawName : token.kind === "positional" ? token.value : "";
    const first = /^(\S+)\s+\S/.exec(arg)?.[1];
    if (first === undefined) continue;
    const known =
      isCommand(first) ||
      Object.entries(OPTIONS).some(
        ([name, option]) => first === `--${name}` || ("short" in option && first === `-${option.short}`),
      );
    if (!known) continue;
    const items = arg
      .trim()
      .split(/\s+/)
      .map((item) => JSON.stringify(item));
    return `'${arg}' is one argument with a blank in it: give each flag and each value as an argument of its own, in an MCP client's "args" as items of their own: ${items.join(", ")} ${seeHelp(undefined)}`;
  }
  return undefined;
}

/**
 * An argument that is a long flag typed with one hyphen (`-help`, `-config=x.json`), as some
 * commands take them: node reads it as short flags run together, and would name only its first
 * unknown letter. What to type instead, with the flag meant and any value after `=`.
 */
function oneHyphen(): string | undefined {
  const args = process.argv.slice(2);
  const end = args.indexOf("--");
  for (const arg of end === -1 ? args : args.slice(0, end)) {
    const [, name = "", value = ""] = /^-([^-=][^=]+)(=.*)?$/s.exec(arg) ?? [];
    const meant = Object.hasOwn(OPTIONS, name) ? name : meantKey(name, Object.keys(OPTIONS));
    if (meant === undefined) continue;
    return `'${arg}' begins with one hyphen: an option begins with two, as in --${meant}${value}`;
  }
  return undefined;
}

/**
 * What to say of a flag that takes a value, given `next` after it where its value was forgotten:
 * another flag (`--config --read-only`), or a command (`--listen serve`), which `command`, the one
 * given if any, is shown with.
 */
function forgottenValue(flag: string, next: string | undefined, command?: string): string {
  const described = FLAGS.find((f) => f.shown.startsWith(`${flag} `));
  // The command given, unless it refuses the flag (`waiter listen --listen serve`): then another.
  const given = isCommand(command) && (described?.for?.includes(command) ?? true) ? command : undefined;
  if (isCommand(next)) {
    const shown = described?.shown ?? `${flag} VALUE`;
    const run = given ?? next;
    const file = shown.endsWith(" FILE") ? `, or ${flag} ./${next} for a file of that name` : "";
    return `option '${flag}' takes a value, and '${next}' after it is a command, not its value: give the command first, then the flag with its value, as in waiter ${run} ${shown}${file} ${seeHelp(run)}`;
  }
  const help = given ?? described?.for?.find(isCommand);
  return `option '${flag}' takes a value, and ${next === undefined ? "what follows it" : `'${next}' after it`} starts with a dash: give its value right after it, or as ${flag}=VALUE when it starts with a dash ${seeHelp(help)}`;
}

/** The names the lists `values` hold, each once and without blanks: one argument to type. */
const joinedLists = (values: string[]) =>
  [...new Set(values.flatMap((value) => value.split(",").map((name) => name.trim())))].filter(Boolean).join(",");

/** What is said of `stdio` or `--stdio`, another server's way of asking for what waiter does unasked. */
const STDIO_UNASKED = (typed: string) =>
  `: waiter serves MCP over stdio with no command, so leave '${typed}' out (of an MCP client's "args" too)`;

/** The dashes a word processor or chat puts for hyphens: -- made an en or em dash, a minus sign. */
const DASHES = /^[\u2010-\u2015\u2212]/;

/** What each flag that takes a value is given once with, when it was given more than once. */
const ONCE_WITH: Record<string, (values: string[]) => string> = {
  config: () => "the one config file waiter reads",
  toolsets: (values) => `every toolset: --toolsets ${joinedLists(values)}`,
  tools: (values) => `every tool: --tools ${joinedLists(values)}`,
  "exclude-tools": (values) => `every tool: --exclude-tools ${joinedLists(values)}`,
  listen: () => "the one address waiter serve binds",
};

/**
 * A flag that takes a value given again with another: node keeps the last, and the first would be
 * dropped without a word (`--toolsets currency --toolsets events` would serve the events only).
 */
function repeatedFlag(tokens: ReturnType<typeof parseFlags>["tokens"]): string | undefined {
  const given = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind !== "option" || token.value === undefined) continue;
    given.set(token.name, [...(given.get(token.name) ?? []), token.value]);
  }
  for (const [name, values] of given) {
    const distinct = [...new Set(values)];
    if (distinct.length < 2) continue;
    const times = values.length === 2 ? "twice" : `${values.length} times`;
    const once = ONCE_WITH[name]?.(distinct) ?? "one value";
    return `--${name} is given ${times} (${values.map(quote).join(", then ")}), and only one would count: give it once, with ${once}`;
  }
  return undefined;
}

/**
 * Runs the command process.argv names: what it prints on stdout (the help, the version), which
 * src/cli.ts writes, stdout being the JSON-RPC stream's in the stdio mode; undefined for a mode,
 * once it has stopped.
 */
export async function main(): Promise<string | undefined> {
  const joined = joinedArgs();
  if (joined) fail(joined);
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags();
  } catch (err) {
    // A flag whose value was forgotten takes none from the next flag: node's first sentence says
    // only that it is "ambiguous", and its advice is on lines of their own.
    const ambiguous = /^Option '(--?[^']+)' argument is ambiguous/.exec((err as Error).message)?.[1];
    if (ambiguous !== undefined) {
      const args = process.argv.slice(2);
      fail(
        forgottenValue(
          ambiguous,
          args.find((arg, i) => args[i - 1] === ambiguous && arg.startsWith("-")),
          typedCommand(),
        ),
      );
    }
    const hyphen = oneHyphen();
    if (hyphen !== undefined) fail(`${hyphen} ${seeHelp(typedCommand())}`);
    // node's wording runs on with advice about '--'; its first sentence names the flag.
    const first = (err as Error).message.split(/\.\s/)[0] ?? "";
    const unknown = /^Unknown option '--([^']+)'/.exec(first)?.[1];
    const meant = unknown === undefined ? undefined : meantKey(unknown, Object.keys(OPTIONS));
    const said = unknown === "stdio" ? STDIO_UNASKED("--stdio") : meant ? `; did you mean --${meant}?` : "";
    fail(`${first.charAt(0).toLowerCase()}${first.slice(1)}${said} ${seeHelp(typedCommand())}`);
  }
  const { values, positionals, tokens } = parsed;
  // A flag whose value was forgotten before a command takes the command as its value, and the
  // command would be lost: `waiter --listen serve` would start the stdio mode. A value given after
  // `=` is meant.
  for (const token of tokens) {
    if (token.kind === "option" && !token.inlineValue && isCommand(token.value)) {
      fail(forgottenValue(token.rawName, token.value, positionals[0]));
    }
  }
  const repeated = repeatedFlag(tokens);
  if (repeated) fail(repeated);
  // Node reads an option typed with a dash that is no hyphen as an argument: it would be told an unknown command.
  const dashed = positionals.find((arg) => DASHES.test(arg));
  if (dashed !== undefined) {
    const dash = (dashed.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    fail(
      `'${dashed}' begins with a dash that is no hyphen (U+${dash}): an option begins with two hyphens, as in --${dashed.replace(/^[-\u2010-\u2015\u2212]+/, "")} ${seeHelp(positionals[0])}`,
    );
  }
  // `waiter -- --read-only` would be told of an unknown command, or an argument, the flag taken for one.
  const ended = tokens.findIndex((token) => token.kind === "option-terminator");
  const flagAfterEnd = tokens
    .slice(ended + 1)
    .find((token) => token.kind === "positional" && token.value.startsWith("-"));
  if (ended !== -1 && flagAfterEnd?.kind === "positional") {
    fail(
      `'${flagAfterEnd.value}' comes after '--', which ends the options and makes it an argument: leave '--' out ${seeHelp(positionals[0])}`,
    );
  }
  const command = positionals[0];
  if (command !== undefined && !isCommand(command)) {
    const meant = meantKey(command, Object.keys(PAGES));
    const said = command === "stdio" ? STDIO_UNASKED(command) : meant ? `; did you mean ${meant}?` : "";
    fail(`unknown command '${command}'${said} (see waiter --help)`);
  }
  // Refused before --help or --version is answered, as it is without them: `waiter serve --help
  // listen` would show serve's help and say nothing of the listen typed after it.
  if (positionals.length > 1) {
    fail(`unexpected argument '${positionals[1]}': waiter ${command} takes none after its command ${seeHelp(command)}`);
  }
  if (values.help) {
    const { toolsets } = await import("./toolsets.js");
    return `${command === undefined ? help(toolsets()) : commandHelp(command, toolsets())}\n`;
  }
  if (values.version) return `${VERSION}\n`;
  // A flag of another mode would be ignored without a word.
  if (values["no-listener"] && command !== undefined) {
    fail(`--no-listener is for the stdio mode; waiter ${command} always receives webhooks ${seeHelp(command)}`);
  }
  if (values.listen !== undefined && command !== "serve") {
    fail(
      `--listen is waiter serve's address ${seeHelp("serve")}; the webhook listener binds webhooks.listen (WAITER_WEBHOOKS_LISTEN)`,
    );
  }

  const { run } = await import("./modes.js");
  await run(command, values);
  return undefined;
}
