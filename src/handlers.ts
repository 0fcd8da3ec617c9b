import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  ErrorCode,
  type JSONRPCRequest,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { ProtocolError } from "./errors.js";
import { quote, shortenEchoes } from "./shown.js";

export type CallHandler = (
  request: JSONRPCRequest,
  extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
) => Promise<unknown>;

/**
 * The protocol's (private) map of request handlers, the one place that reaches into it: the SDK
 * has no hook before its own request parsing nor after its answer.
 */
export function requestHandlers(server: McpServer): Map<string, CallHandler> {
  return (server.server as unknown as { _requestHandlers: Map<string, CallHandler> })._requestHandlers;
}

/** Puts `wrap` around the handler McpServer installed for `method`. */
export function wrapHandler(server: McpServer, method: string, wrap: (sdk: CallHandler) => CallHandler): void {
  const handlers = requestHandlers(server);
  const sdk = handlers.get(method);
  if (!sdk) throw new Error(`McpServer installed no ${method} handler`);
  handlers.set(method, wrap(sdk));
}

/**
 * A request that asks for a task (`params.task`) is served as any other: waiter declares no tasks,
 * and the MCP specification (2025-11-25) has a receiver that declares none process it normally,
 * ignoring the task. The SDK refuses it as an internal error before any handler runs.
 */
export function ignoreTaskRequests(server: McpServer): void {
  (server.server as unknown as { assertTaskHandlerCapability: (method: string) => void }).assertTaskHandlerCapability =
    () => {};
}

/** A request whose params its schema refused, as the client's mistake: -32602 with each problem and its place. */
export function invalidParams(method: string, error: z.core.$ZodError, params: unknown): ProtocolError {
  return new ProtocolError(
    ErrorCode.InvalidParams,
    `Invalid params for ${method}: ${shortenEchoes(issues(error, { params }), params ?? {})}`,
  );
}

/**
 * An argument a prompt or a resource template does not take, refused with those it does: dropped,
 * or completed with nothing, a mistyped name would read as one that has nothing to offer.
 */
export function takesNoArgument(taker: string, argument: string, takes: readonly string[]): ProtocolError {
  return new ProtocolError(
    ErrorCode.InvalidParams,
    `${taker} takes no argument ${quote(argument)}; it takes ${takes.length ? takes.join(", ") : "none"}.`,
  );
}

/**
 * Each problem with its place: "from: must be a three-letter ISO 4217 currency code such as EUR".
 * The first few only: a long array of wrong items has a problem per item. `input` is what was
 * checked, for the type of a value refused.
 */
export function issues(error: z.core.$ZodError, input?: unknown): string {
  // zod still checks a value of the wrong type against the bounds of the right one ("expected
  // array, received string; Too big: expected string to have <=7 characters"): only the type is
  // said. And an integer's own bound is said rather than zod's on every integer (2^53 - 1).
  const at = (issue: z.core.$ZodIssue) => issue.path.join(".");
  const all = error.issues.flatMap(unfolded);
  const wrongType = new Set(all.filter((i) => i.code === "invalid_type").map(at));
  const ownRule = new Set(all.filter((i) => !safeIntegerBound(i)).map(at));
  const said = all.filter((i) =>
    wrongType.has(at(i)) ? i.code === "invalid_type" : !(safeIntegerBound(i) && ownRule.has(at(i))),
  );
  const shown = said
    .slice(0, MAX_ISSUES)
    .map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${message(issue, input)}` : issue.message))
    .join("; ");
  const more = said.length - MAX_ISSUES;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

const MAX_ISSUES = 5;

/**
 * A value that fits none of a union's kinds (completion/complete's ref, a prompt's or a resource
 * template's), which zod says as "Invalid input" alone: the problems of the kind its fixed field
 * names (a ref/prompt without its name), or, when it names none of them, the kinds there are.
 */
function unfolded(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue];
  const under = (inner: z.core.$ZodIssue) => ({ ...inner, path: [...issue.path, ...inner.path] }) as z.core.$ZodIssue;
  const fitting = issue.errors.filter((kind) => !kind.some((inner) => inner.code === "invalid_value"));
  if (fitting.length === 1) return (fitting[0] ?? []).map(under).flatMap(unfolded);
  const kinds = issue.errors.map((kind) =>
    kind.find((inner): inner is z.core.$ZodIssueInvalidValue => inner.code === "invalid_value"),
  );
  const [first] = kinds;
  const field = first?.path.join(".");
  if (!first || kinds.some((kind) => kind?.path.join(".") !== field)) return [issue];
  const values = kinds.flatMap((kind) => kind?.values ?? []);
  return [
    under({
      ...first,
      values,
      message: `Invalid option: expected ${options(values)}`,
    }),
  ];
}

/**
 * zod's words for an issue. A value that is none of those allowed is said with its type when it is
 * not theirs: ["completed"] for one status is refused with a list that has "completed" in it, and
 * would be sent again as it was. A value left out is said to be required and not given, and one
 * with decimals where a whole number goes is said with its number.
 */
function message(issue: z.core.$ZodIssue, input: unknown): string {
  if (input === undefined) return issue.message;
  const at = (path: readonly PropertyKey[]) =>
    path.reduce<unknown>(
      (at, key) => (at !== null && typeof at === "object" ? (at as Record<PropertyKey, unknown>)[key] : undefined),
      input,
    );
  // zod says an argument left out "received undefined", a value no JSON holds (nor a request's
  // params left out, though its checked input has them as undefined), and one of fixed options
  // left out as an option it is not.
  if ((issue.code === "invalid_type" || issue.code === "invalid_value") && issue.path.length > 0) {
    const parent = at(issue.path.slice(0, -1));
    const key = issue.path[issue.path.length - 1] as PropertyKey;
    if (parent === null || typeof parent !== "object" || (parent as Record<PropertyKey, unknown>)[key] === undefined) {
      return `required, not given (expected ${issue.code === "invalid_type" ? issue.expected : options(issue.values)})`;
    }
  }
  // zod's "expected int, received number" reads as if a number were the wrong thing to send.
  if (issue.code === "invalid_type" && issue.expected === "int") {
    const value = at(issue.path);
    if (typeof value === "number") return `expected a whole number, got ${value}`;
    if (typeof value === "string") return `expected a whole number, got ${quote(value)}`;
  }
  // Text a list or a number could not be read from (a "null" for a required list, broken JSON, blanks).
  if (issue.code === "invalid_type" && issue.message === `Invalid input: expected ${issue.expected}, received string`) {
    const value = at(issue.path) as string;
    if (issue.expected === "array") {
      return `expected a list, got ${quote(value)}: send it as JSON text, ["a","b"], or its one item alone`;
    }
    if (issue.expected === "number") return `expected a number, got ${quote(value)}: send one in digits, as 20`;
  }
  if (issue.code !== "invalid_value") return issue.message;
  const value = at(issue.path);
  const type = z.core.util.parsedType(value);
  return issue.values.some((allowed) => z.core.util.parsedType(allowed) === type)
    ? issue.message
    : `${issue.message}, received ${type}`;
}

/** Fixed options as zod says them: "a" alone, or one of "a"|"b". */
function options(values: readonly unknown[]): string {
  return `${values.length > 1 ? "one of " : ""}${values.map((value) => JSON.stringify(value)).join("|")}`;
}

function safeIntegerBound(issue: z.core.$ZodIssue): boolean {
  const bound = issue.code === "too_big" ? issue.maximum : issue.code === "too_small" ? issue.minimum : undefined;
  return bound !== undefined && Math.abs(Number(bound)) === Number.MAX_SAFE_INTEGER;
}
