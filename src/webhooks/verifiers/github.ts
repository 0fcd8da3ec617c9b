import { type Delivery, header, jsonBody, reject, signedWithAny, type Verdict } from "./common.js";

/** GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body; type is the event and its action. */
export function github(secrets: readonly string[]) {
  return ({ headers, body }: Delivery): Verdict => {
    const signature = header(headers, "x-hub-signature-256");
    if (!signature) return reject("missing X-Hub-Signature-256 header");
    if (!signature.startsWith("sha256=")) return reject("malformed X-Hub-Signature-256 header");
    if (!signedWithAny([signature.slice(7)], secrets, "hex", body)) return reject("signature mismatch");
    const id = header(headers, "x-github-delivery");
    if (!id) return reject("missing X-GitHub-Delivery header");
    const event = header(headers, "x-github-event") ?? "unknown";
    const action = jsonBody(body)?.action;
    return { kind: "accept", id, type: typeof action === "string" ? `${event}.${action}` : event };
  };
}
