import type { WebhookSource } from "../settings.js";
import type { Verifier } from "./common.js";
import { github } from "./github.js";
import { hmacSha256, identify } from "./hmac-sha256.js";
import { shopify } from "./shopify.js";
import { standardWebhooks } from "./standard-webhooks.js";
import { stripe } from "./stripe.js";
import { woocommerce } from "./woocommerce.js";

export { type Delivery, parseBody, type Verdict, type Verifier } from "./common.js";

/** The verifier of a configured source's scheme, keyed with its secret. */
export function verifierFor(source: WebhookSource): Verifier {
  if (source.scheme === "none") return (delivery) => ({ kind: "accept", ...identify(delivery, source) });
  // An empty key would make signatures anyone can compute: a signed source without one is a bug.
  const secret = source.secret;
  if (!secret) throw new Error(`webhook source ${source.name} has no secret`);
  switch (source.scheme) {
    case "standard-webhooks":
      return standardWebhooks(secret);
    case "stripe":
      return stripe(secret);
    case "github":
      return github(secret);
    case "shopify":
      return shopify(secret);
    case "woocommerce":
      return woocommerce(secret);
    case "hmac-sha256":
      return hmacSha256(secret, source);
  }
}
