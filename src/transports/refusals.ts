import { ErrorCode, type RequestId, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";

// The refusals, and the rules they rest on, said alike over HTTP and stdio, here rather than in
// answers.ts, which loads the HTTP server that a session over stdio does without.

/** The versions of MCP waiter speaks that take no JSON-RPC batch: 2025-06-18 removed them. */
export const WITHOUT_BATCHES: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS.filter(
  (version) => version >= "2025-06-18",
);

/** What a batch is told where its session's protocol takes none. */
export const NO_BATCHES = "a JSON-RPC batch (an array), which MCP takes no longer from protocol 2025-06-18 on";

/** How a message MCP does not take begins its refusal. */
export const NOT_A_MESSAGE = "Invalid Request: not a JSON-RPC 2.0 message MCP takes";

/** What a request reusing the id of one under way is told. */
export const OWN_ID = "MCP has each request of a session take an id of its own: send it with another";

/**
 * The first of `ids` (a batch's requests', or one request's) that is the id of a request of its
 * session not yet answered (`underWay`), or of another beside it in its batch; with why it is
 * refused (`taken`), before OWN_ID.
 */
export function reusedId(
  ids: readonly RequestId[],
  underWay: (id: RequestId) => boolean,
): { id: RequestId; taken: string } | undefined {
  for (const [i, id] of ids.entries()) {
    const whose = underWay(id)
      ? "a request of this session still under way"
      : ids.indexOf(id) !== i
        ? "another request of the same batch"
        : undefined;
    if (whose) return { id, taken: `id ${JSON.stringify(id)} is that of ${whose}` };
  }
  return undefined;
}

/** Why a JSON-RPC batch holding an initialize is refused: MCP 2025-03-26, which takes batches, has it sent alone. */
export const INITIALIZE_ALONE = "an initialize is sent alone, not in a JSON-RPC batch (an array)";

/** Why an empty JSON-RPC batch is refused. */
export const EMPTY_BATCH = "an empty JSON-RPC batch (an array of no message)";

/** A request's id, to answer it with: null unless it is a request's string or number, as JSON-RPC says. */
export function requestIdOf(body: unknown): RequestId | null {
  const message = isObject(body) ? body : {};
  if (!("method" in message) || !("id" in message)) return null;
  return typeof message.id === "string" || typeof message.id === "number" ? message.id : null;
}

/**
 * The answers to a JSON-RPC batch none of which is done: each of its requests is told `why` -32600
 * by its id (once an id), as its client would otherwise wait for its own timeout on every one; one
 * error by id null where it holds no request.
 */
export function batchRefusals(batch: readonly unknown[], why: string) {
  return batchTold(batch, `Invalid Request: ${why}; none of the batch was done`);
}

/**
 * -32600 with `message` to a batch refused: an array of one for each of its requests, by its id; one
 * error with no id, not in an array, where it holds notifications alone, which are owed no batch of
 * answers (JSON-RPC 2.0 section 6) and MCP's transports answer so.
 */
export function batchTold(batch: readonly unknown[], message: string) {
  const told = eachRequestTold(batch, message);
  // Told by id null, it holds no request.
  return told[0]?.id === null ? told[0] : told;
}

/** -32600 with `message` to each request of `batch` by its id, once an id; one by id null where it holds none. */
export function eachRequestTold(batch: readonly unknown[], message: string) {
  const ids = new Set(batch.map(requestIdOf).filter((id) => id !== null));
  return (ids.size > 0 ? [...ids] : [null]).map((id) => ({
    jsonrpc: "2.0" as const,
    error: { code: ErrorCode.InvalidRequest, message },
    id,
  }));
}

/**
 * What makes `json` no JSON-RPC message MCP takes, in words its client's author reads; the shape
 * of one when none of these says it. The SDK's schema says it as zod's issues of its four kinds of
 * message at once, as "Unrecognized key: id" for an id of 1.5 (the kind with no id, a notification).
 */
export function whatIsWrong(json: unknown): string {
  if (Array.isArray(json)) return `it is ${NO_BATCHES}`;
  if (!isObject(json)) return `it is ${kindOf(json)}, not an object`;
  const message = json as Record<string, unknown>;
  if (!("jsonrpc" in message)) return 'it has no "jsonrpc": "2.0"';
  if (message.jsonrpc !== "2.0") return `its "jsonrpc" is ${JSON.stringify(message.jsonrpc)}, not "2.0"`;
  if ("method" in message && typeof message.method !== "string") {
    return `its method is ${kindOf(message.method)}, not a string`;
  }
  const request = "method" in message;
  if (!request && !("result" in message) && !("error" in message)) {
    return "it has no method, nor the result or error of an answer";
  }
  if ("id" in message) {
    const wrong = notAnId("id", message.id);
    if (wrong) return wrong;
  }
  const members = request ? ["jsonrpc", "id", "method", "params"] : ["jsonrpc", "id", "result", "error"];
  const unknown = Object.keys(message).filter((key) => !members.includes(key));
  if (!request && "result" in message && "error" in message) return "it has both a result and an error";
  if (unknown.length > 0) {
    return `it has ${unknown.length === 1 ? "a member" : "members"} JSON-RPC does not define: ${unknown.map((key) => JSON.stringify(key)).join(", ")}`;
  }
  if ("params" in message) {
    const { params } = message;
    if (!isObject(params)) return `its params are ${kindOf(params)}, not an object`;
    const meta = (params as { _meta?: unknown })._meta;
    if (meta !== undefined && !isObject(meta)) return `its params._meta is ${kindOf(meta)}, not an object`;
    if (isObject(meta) && "progressToken" in meta) {
      const wrong = notAnId("params._meta.progressToken", meta.progressToken);
      if (wrong) return wrong;
    }
  }
  if ("result" in message && !isObject(message.result)) return `its result is ${kindOf(message.result)}, not an object`;
  if ("error" in message) {
    const { error } = message;
    const valid =
      isObject(error) &&
      "code" in error &&
      Number.isInteger(error.code) &&
      "message" in error &&
      typeof error.message === "string";
    if (!valid) return "its error is no object with an integer code and a string message";
  }
  return SHAPE;
}

/** What is wrong with the `name` (an id or a progress token) `value`, which MCP takes as a string or an integer. */
function notAnId(name: string, value: unknown): string | undefined {
  if (typeof value === "string" || Number.isSafeInteger(value)) return undefined;
  if (value === null) return `its ${name} is null, which MCP does not allow: it is a string or an integer`;
  if (typeof value === "number" && Number.isInteger(value)) {
    return `its ${name} is an integer larger than ${Number.MAX_SAFE_INTEGER}, the largest the MCP SDK takes: give it a smaller one or a string`;
  }
  if (typeof value === "number") return `its ${name} ${value} is neither a string nor an integer`;
  return `its ${name} is ${kindOf(value)}, neither a string nor an integer`;
}

/** What JSON value `value` is, in words: "an array", "a number". */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "boolean") return `${value}`;
  return `a ${typeof value}`;
}

export function isObject(json: unknown): json is object {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}

/** Why message `n` (counted from 1) of a JSON-RPC batch, `item`, is no message MCP takes. */
export function wrongInBatch(item: unknown, n: number): string {
  return `message ${n} of the batch is not a JSON-RPC 2.0 message MCP takes: ${Array.isArray(item) ? NESTED : whatIsWrong(item)}`;
}

/** What a message MCP takes is, said of an object when whatIsWrong finds nothing else to name. */
const SHAPE =
  "it is an object, but of none of the shapes of one: a request (an id and a method), a notification (a method and no id) or an answer (a result object with its request's id, or an error)";

/** Why a batch inside a batch is refused: the session's protocol, which takes batches, is not. */
const NESTED = "it is an array, and a JSON-RPC batch holds messages, not batches";
