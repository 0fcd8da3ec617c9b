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

/** Whose id a request may reuse: one of its session not yet answered, or one beside it in its batch. */
export const UNDER_WAY = "a request of this session still under way";
export const SAME_BATCH = "another request of the same batch";

/** Why a request is refused whose `id` is that of `whose` (UNDER_WAY or SAME_BATCH). */
export function idTaken(id: RequestId, whose: string): string {
  return `id ${JSON.stringify(id)} is that of ${whose}`;
}

/** Why an empty JSON-RPC batch is refused. */
export const EMPTY_BATCH = "an empty JSON-RPC batch (an array of no message)";

/** A request's id, to answer it with: null unless it is a request's string or number, as JSON-RPC says. */
export function requestIdOf(body: unknown): RequestId | null {
  const message = typeof body === "object" && body !== null && !Array.isArray(body) ? body : {};
  if (!("method" in message) || !("id" in message)) return null;
  return typeof message.id === "string" || typeof message.id === "number" ? message.id : null;
}

/**
 * The answers to a JSON-RPC batch none of which is done: each of its requests is told `why` -32600
 * by its id (once an id), as its client would otherwise wait for its own timeout on every one; one
 * error by id null where it holds no request.
 */
export function batchRefusals(batch: readonly unknown[], why: string) {
  return eachRequestTold(batch, `Invalid Request: ${why}; none of the batch was done`);
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
