import type { IncomingMessage } from "node:http";

/** Whether a request declares a body: sent chunked, or with a Content-Length above 0. */
export function declaresBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/**
 * Whether a request has a body still to come: one it declares that Node has not read to its end. A
 * GET's has none, though Node marks it complete only after its handler runs.
 */
export function bodyComing(req: IncomingMessage): boolean {
  return declaresBody(req) && !req.complete;
}
