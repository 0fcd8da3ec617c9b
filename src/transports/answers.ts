import { getRequestListener } from "@hono/node-server";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { isJSONRPCRequest, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { Request, Response } from "express";
import { requestIdOf } from "./refusals.js";

/** What a POST that carries no message at all is told, with -32700. */
export const NO_BODY = "Parse error: the request has no body; each MCP message is sent as JSON in the body of a POST";

/**
 * A JSON-RPC error, by the id of the one request the POST's body held unless `id` names another:
 * JSON-RPC has an error carry its request's id wherever it could be read. By id null for a batch,
 * a notification, or a body not read, where the SDK's transport answers every refusal so.
 */
export function rpcError(
  res: Response,
  status: number,
  code: number,
  message: string,
  id: RequestId | null = requestIdOf(res.req.body),
): void {
  res.status(status).json({ jsonrpc: "2.0", error: { code, message }, id });
}

/**
 * A refusal in OAuth's words (RFC 6750 §3): `status`, a WWW-Authenticate challenge naming `error`,
 * the scope to ask for and where to log in, and the same as JSON. `why` stands in the challenge
 * only when `whyInChallenge`: a quoted parameter must hold no `"` or `\`, which a caller's name
 * in it may. A request that carried no token has no `error` (RFC 6750 §3.1): its challenge only
 * says where to log in, or, with nowhere to log in, names waiter's realm: RFC 6750 §3 has every
 * Bearer challenge hold a parameter, and a strict parser refuses a bare "Bearer".
 */
export function bearerRefusal(
  res: Response,
  status: number,
  error: string | undefined,
  why: string,
  challenge: { whyInChallenge: boolean; scope?: string; metadataUrl?: string | undefined },
): void {
  const parameters = [
    ...(error ? [`error="${error}"`] : []),
    ...(error && challenge.whyInChallenge ? [`error_description="${why}"`] : []),
    ...(challenge.scope ? [`scope="${challenge.scope}"`] : []),
    ...(challenge.metadataUrl ? [`resource_metadata="${challenge.metadataUrl}"`] : []),
  ];
  res.set("www-authenticate", `Bearer ${parameters.length ? parameters.join(", ") : 'realm="waiter"'}`);
  res.status(status).json(error ? { error, error_description: why } : { error_description: why });
}

/** The media ranges an Accept takes, in lower case: those it gives no weight (q=0) left out. */
function rangesOf(accept: string): string[] {
  return accept.split(",").flatMap((part) => {
    const [range = "", ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
    return params.some((param) => /^q=0(\.0*)?$/.test(param)) ? [] : [range];
  });
}

/**
 * Whether a GET's Accept takes the event stream: by name, by `text/*` or `*\/*`, or, sending none,
 * any type. The SDK's transport refuses with 406 one that does not name it: a connector that sends
 * `*\/*` heard no notification.
 */
export function takesEventStream(accept: string | undefined): boolean {
  return (
    accept === undefined || rangesOf(accept).some((range) => ["text/event-stream", "text/*", "*/*"].includes(range))
  );
}

/**
 * How a POST is answered by what its Accept takes: `"stream"` where it names the event stream,
 * `"json"` where it takes JSON but names no event stream (connectors that send `application/json`
 * alone, any type, or no Accept at all), `"stream"` again where it takes the stream by `text/*`
 * and no JSON, undefined where it takes neither. The SDK's transport refuses with 406 any that
 * does not name both, as claude.ai's connector, which sends any type, could not connect. MCP lets
 * a server answer a POST either way.
 */
function answeredAs(accept: string | undefined): "stream" | "json" | undefined {
  if (accept === undefined) return "json";
  const ranges = rangesOf(accept);
  if (ranges.includes("text/event-stream")) return "stream";
  if (ranges.some((range) => range === "application/json" || range === "application/*" || range === "*/*")) {
    return "json";
  }
  return ranges.includes("text/*") ? "stream" : undefined;
}

/** Whether a POST is answered in JSON, its event stream read by waiter, not by its client. */
export const answeredInJson = (req: Request): boolean =>
  req.method === "POST" && answeredAs(req.headers.accept) === "json";

/** What a POST is told whose Accept takes neither type a POST is answered in. */
const TAKES_NEITHER =
  "Not Acceptable: a POST is answered in JSON (application/json) or as an event stream (text/event-stream), and this Accept takes neither";

/**
 * The answers an event stream of the SDK's transport carried, as one JSON-RPC answer (a list for
 * a batch), for a client that takes no event stream: what else the stream said (a call's log
 * lines, its progress) such a client cannot be sent. A request the stream ended without
 * answering (cancelled, or its session ended) is answered so.
 */
async function asJson(answer: globalThis.Response, body: unknown): Promise<globalThis.Response> {
  if (!answer.headers.get("content-type")?.startsWith("text/event-stream")) return answer;
  const messages = (await answer.text())
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line.length > "data: ".length)
    .map((line) => JSON.parse(line.slice("data: ".length)) as JSONRPCMessage);
  const answers = messages.filter((message) => "result" in message || "error" in message);
  const requests = (Array.isArray(body) ? body : [body]).filter((message) => isJSONRPCRequest(message));
  for (const unanswered of requests.filter(({ id }) => !answers.some((a) => "id" in a && a.id === id))) {
    answers.push({
      jsonrpc: "2.0",
      id: unanswered.id,
      error: { code: -32000, message: "The request ended unanswered: it was cancelled, or its session ended" },
    });
  }
  const headers = new Headers({ "content-type": "application/json" });
  const session = answer.headers.get("mcp-session-id");
  if (session) headers.set("mcp-session-id", session);
  return new globalThis.Response(JSON.stringify(Array.isArray(body) ? answers : answers[0]), { headers });
}

/**
 * Answers an Express request through the SDK's web-standard transport, as the SDK's Node
 * transport does; `before` sees the transport's answer before the client does. A POST comes with
 * its body read as JSON: one of another type, or with none, is refused before.
 */
export async function serveThrough(
  transport: WebStandardStreamableHTTPServerTransport,
  req: Request,
  res: Response,
  before?: (answer: globalThis.Response) => Promise<void>,
) {
  const answered = req.method === "POST" ? answeredAs(req.headers.accept) : undefined;
  // The transport would tell it to take both types, where waiter answers in either.
  if (req.method === "POST" && answered === undefined) {
    rpcError(res, 406, -32000, TAKES_NEITHER);
    return;
  }
  const jsonOnly = answered === "json";
  // The transport answers a POST as a stream where Accept names both types, and looks for them in
  // lower case: media types are case-insensitive (RFC 9110 §8.3.1).
  const accept = answered
    ? "application/json, text/event-stream"
    : req.method === "GET" && takesEventStream(req.headers.accept)
      ? "text/event-stream"
      : req.headers.accept?.toLowerCase();
  const listener = getRequestListener(
    async (webRequest) => {
      let asked = webRequest;
      // A POST's body was read as JSON: the transport is given it, and does not read the request's.
      if (accept !== undefined && accept !== req.headers.accept) {
        const headers = new Headers(webRequest.headers);
        headers.set("accept", accept);
        // Copied from the request as it arrived: the Last-Event-ID is the one waiter's checks left
        // (none for an empty one, a taken-up copy's catch-up for none), as the transport reads it uncopied.
        const lastId = req.headers["last-event-id"];
        if (typeof lastId === "string") headers.set("last-event-id", lastId);
        else headers.delete("last-event-id");
        asked = new globalThis.Request(webRequest.url, { method: req.method, headers, signal: webRequest.signal });
      }
      const answer = await transport.handleRequest(asked, { authInfo: req.auth, parsedBody: req.body });
      await before?.(answer);
      return jsonOnly ? asJson(answer, req.body) : answer;
    },
    { overrideGlobalObjects: false },
  );
  await listener(req, res);
}
