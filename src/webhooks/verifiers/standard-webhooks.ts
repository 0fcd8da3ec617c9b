import { createHmac } from "node:crypto";
import {
  type Delivery,
  header,
  headerOnce,
  isDigest,
  malformedHeader,
  missingHeader,
  payloadType,
  reject,
  signedWithAny,
  timestampRefusal,
  type Verdict,
} from "./common.js";

/**
 * The refusal of a delivery signed with asymmetric v1a signatures alone: its sender's setup, not
 * a secret that does not match, so it is not counted as a mismatch.
 */
export const ONLY_V1A = "no v1 signature, only v1a";

/**
 * Standard Webhooks (and Svix, whose header names it accepts): HMAC-SHA256 over
 * `id.timestamp.body`, keyed with the base64 secret after `whsec_`; `webhook-signature` is a
 * space-separated list of `v1,<base64>`, any of which may match.
 */
export function standardWebhooks(secrets: readonly string[]) {
  const keys = secrets.map((secret) => {
    const key = standardWebhooksKey(secret);
    if (!key) throw new Error("not a Standard Webhooks secret");
    return key;
  });
  return ({ headers, body, now }: Delivery): Verdict => {
    const challenge = header(headers, "webhook-challenge");
    if (challenge !== undefined)
      return { kind: "challenge", response: challengeResponse(keys[0] as Buffer, challenge) };
    const id = headerOnce(headers, "webhook-id", "svix-id");
    if (typeof id === "object") return id;
    const timestamp = headerOnce(headers, "webhook-timestamp", "svix-timestamp");
    if (typeof timestamp === "object") return timestamp;
    // The header of the two names its sender sent, as a refusal names it.
    const sentAs = (name: string) =>
      header(headers, `webhook-${name}`) === undefined ? `svix-${name}` : `webhook-${name}`;
    const signatureHeader = sentAs("signature");
    const signatures = header(headers, signatureHeader);
    if (!id) return missingHeader("webhook-id", "svix-id");
    if (!signatures) return missingHeader("webhook-signature", "svix-signature");
    if (!timestamp) return missingHeader("webhook-timestamp", "svix-timestamp");
    const stale = timestampRefusal(timestamp, now, true, sentAs("timestamp"));
    if (stale) return stale;
    // A proxy that sends the header again beside the sender's makes Node join the copies with ", ":
    // each copy is a list of its own.
    const entries = signatures.split(/, | /);
    const received = entries.filter((entry) => entry.startsWith("v1,")).map((entry) => entry.slice(3));
    if (received.length === 0 && entries.some((entry) => entry.startsWith("v1a,"))) return reject(ONLY_V1A);
    // A sender that writes hex, or leaves v1, off, has its setup to mend, not its secret.
    if (!received.some((signature) => isDigest(signature, "base64"))) return reject(malformedHeader(signatureHeader));
    if (!signedWithAny(received, keys, "base64", `${id}.${timestamp}.`, body)) return reject("signature mismatch");
    return { kind: "accept", id, type: payloadType(body) ?? "unknown" };
  };
}

/**
 * The answer to an endpoint-verification challenge, as the standardwebhooks library (1.3.0)
 * words it in endpointVerificationResponse: `v1,` and the base64 HMAC-SHA256 of the challenge,
 * keyed with the HMAC of "wev-v1" under the secret's key, so that no answer is a delivery's
 * signature. With several secrets, the first: the one its sender signs with after a rotation.
 */
function challengeResponse(key: Buffer, challenge: string): string {
  const verificationKey = createHmac("sha256", key).update("wev-v1").digest();
  return `v1,${createHmac("sha256", verificationKey).update(challenge).digest("base64")}`;
}

/**
 * The HMAC key a Standard Webhooks secret (`whsec_` + base64) stands for, or undefined when it is
 * not base64 of at least 16 bytes: Buffer.from skips what is not base64, so a mistyped secret
 * would make a short key (`whsec_` alone an empty one) that anyone could sign with. A secret may
 * come after the signature version it makes (`v1,whsec_…`), as Supabase's Auth Hooks show it.
 */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  const encoded = secret.replace(/^v1,/, "").replace(/^whsec_/, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const key = Buffer.from(encoded, "base64");
  return key.length >= 16 ? key : undefined;
}
