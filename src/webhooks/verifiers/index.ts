import type { HttpClient } from "../../http/client.js";
import type { WebhookSource } from "../settings.js";
import { comgate } from "./comgate.js";
import { jsonBody, type Verdict, type Verifier } from "./common.js";
import { github } from "./github.js";
import { gopay, gopayErrors } from "./gopay.js";
import { hmacSha256, identify } from "./hmac-sha256.js";
import { shopify } from "./shopify.js";
import { standardWebhooks } from "./standard-webhooks.js";
import { stripe } from "./stripe.js";
import { woocommerce } from "./woocommerce.js";

export { alike, type Delivery, parseBody, type Verdict, type Verifier } from "./common.js";

/** The verifier of a configured source's scheme, keyed with its secrets; `http` asks a sender's API. */
export function verifierFor(source: WebhookSource, http?: HttpClient): Verifier {
  if (source.scheme === "none")
    return (delivery) =>
      graphValidation(delivery.url) ?? slackUrlVerification(delivery.body) ?? identify(delivery, source, false);
  // An empty key would make signatures anyone can compute: a signed source without one is a bug.
  const secrets = source.secrets ?? [];
  const [secret] = secrets;
  if (!secret || secrets.some((s) => !s)) throw new Error(`webhook source ${source.name} has no secret`);
  const urlSetting = `the apiUrl of webhook source ${source.name}`;
  switch (source.scheme) {
    case "standard-webhooks":
      return standardWebhooks(secrets);
    case "stripe":
      return stripe(secrets);
    case "github":
      return github(secrets);
    case "shopify":
      return shopify(secrets);
    case "woocommerce":
      return woocommerce(secrets);
    case "hmac-sha256":
      return hmacSha256(secrets, source);
    case "comgate": {
      if (source.confirm && !http)
        throw new Error(`webhook source ${source.name} confirms payments but has no HTTP client`);
      const authorization = `Basic ${Buffer.from(`${source.merchant}:${secret}`).toString("base64")}`;
      const api = source.confirm
        ? http?.upstream("Comgate API", source.apiUrl, {
            urlSetting,
            keySetting: `the merchant and secretEnv of webhook source ${source.name}`,
            headers: { authorization },
          })
        : undefined;
      return comgate(source.merchant, secret, api);
    }
    case "gopay": {
      if (!http) throw new Error(`webhook source ${source.name} asks GoPay but has no HTTP client`);
      const authorization = `Basic ${Buffer.from(`${source.clientId}:${secret}`).toString("base64")}`;
      return gopay(
        http.upstream("GoPay API", source.apiUrl, {
          headers: { authorization },
          urlSetting,
          keySetting: `the clientId and secretEnv of webhook source ${source.name}`,
          errors: gopayErrors,
        }),
      );
    }
  }
}

/**
 * Slack's check of an Events API Request URL, `{"type":"url_verification","challenge":…}`, which
 * must be answered with its challenge: Slack's signature covers a timestamp with the body, which no
 * signed scheme here checks, so its events reach an unsigned source alone.
 */
export function slackUrlVerification(body: Buffer): Extract<Verdict, { kind: "echo" }> | undefined {
  const json = jsonBody(body);
  return json?.type === "url_verification" && typeof json.challenge === "string" && json.challenge
    ? { kind: "echo", sender: "Slack", challenge: json.challenge }
    : undefined;
}

/**
 * Microsoft Graph's validation of a subscription's notificationUrl, a POST (or GET) with its
 * `validationToken` in the query, which must be answered 200 with the token decoded as text/plain
 * within 10 s, or the subscription is not made. Graph signs nothing (its clientState is in the
 * body), so its notifications reach an unsigned source alone.
 */
export function graphValidation(url: string | undefined): Extract<Verdict, { kind: "echo" }> | undefined {
  const query = url?.split("?")[1];
  const token = query === undefined ? null : new URLSearchParams(query).get("validationToken");
  return token ? { kind: "echo", sender: "Microsoft Graph", challenge: token, asText: true } : undefined;
}
