import {
  type Delivery,
  header,
  headerOnce,
  jsonBody,
  missingHeader,
  reject,
  signedWithAny,
  unsignedHeader,
  type Verdict,
} from "./common.js";

/** The header GitHub signs a delivery in; a webhook whose Secret is empty sends none. */
export const GITHUB_SIGNATURE = "X-Hub-Signature-256";

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body; type is the event and its action.
 * A webhook whose content type is `form` (GitHub's default when one is made through its API)
 * posts the JSON as a form's `payload` field: the signature covers the form, and the JSON in it
 * is what is read and stored. The ping GitHub sends when a webhook is made is no event.
 */
export function github(secrets: readonly string[]) {
  return ({ headers, body }: Delivery): Verdict => {
    const signature = headerOnce(headers, GITHUB_SIGNATURE);
    if (typeof signature === "object") return signature;
    if (!signature) return missingHeader(GITHUB_SIGNATURE);
    if (!signature.startsWith("sha256=")) return reject(`malformed ${GITHUB_SIGNATURE} header`);
    if (!signedWithAny([signature.slice(7)], secrets, "hex", body)) return reject("signature mismatch");
    const differing: string[] = [];
    const id = unsignedHeader(headers, differing, "X-GitHub-Delivery");
    if (!id) return missingHeader("X-GitHub-Delivery");
    const event = unsignedHeader(headers, differing, "X-GitHub-Event") ?? "unknown";
    if (event === "ping")
      return { kind: "ping", sender: "GitHub", signed: true, id, ...(differing.length > 0 ? { differing } : {}) };
    const form = header(headers, "content-type")?.toLowerCase().startsWith("application/x-www-form-urlencoded");
    const json = form ? new URLSearchParams(body.toString("utf8")).get("payload") : undefined;
    if (json === null) return reject("form delivery without a payload field");
    const payload = json === undefined ? undefined : Buffer.from(json);
    const action = jsonBody(payload ?? body)?.action;
    return {
      kind: "accept",
      id,
      type: typeof action === "string" ? `${event}.${action}` : event,
      ...(payload ? { payload } : {}),
      ...(differing.length > 0 ? { differing } : {}),
    };
  };
}
