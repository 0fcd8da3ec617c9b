import { z } from "zod";
import { ConfigError } from "../../src/errors.js";
import { optionalUpstreamUrl, word } from "../../src/settings.js";
import { defineToolset } from "../../src/toolset.js";
import { customerTools } from "./customers.js";
import { orderTools } from "./orders.js";
import { productTools } from "./products.js";
import { maintenanceHoldMs, withoutPhpWarnings, wooCommerce, wooErrors, wordPressErrors } from "./woocommerce.js";

const settings = {
  wooUrl: {
    env: "WAITER_WOO_URL",
    description: "The WooCommerce shop's base URL (https://shop.example.com); requests go to /wp-json/wc/v3 under it.",
    schema: optionalUpstreamUrl().superRefine((url, ctx) => {
      // Copied from the browser while in WordPress's admin: every call would then miss the REST API.
      const admin = url && /\/wp-admin(?:\/|$)/i.exec(url.pathname);
      if (url && admin) {
        ctx.addIssue({
          code: "custom",
          message: `is an address of WordPress's admin (/wp-admin); set the site's address, ${url.origin}${url.pathname.slice(0, admin.index)}, and waiter adds /wp-json/wc/v3 to it`,
        });
      }
    }),
  },
  wooKey: {
    env: "WAITER_WOO_KEY",
    description: "WooCommerce REST API consumer key (ck_…), with Read/Write permission for the write tools.",
    schema: z.string().min(1).optional(),
    secret: true,
  },
  wooSecret: {
    env: "WAITER_WOO_SECRET",
    description: "WooCommerce REST API consumer secret (cs_…).",
    schema: z.string().min(1).optional(),
    secret: true,
  },
  wooAuth: {
    env: "WAITER_WOO_AUTH",
    description:
      "How the key is sent: basic (HTTP Basic auth) or query (as query parameters, for hosts that drop the Authorization header).",
    schema: word(["basic", "query"]).default("basic"),
  },
};

export const eshop = defineToolset({
  name: "eshop",
  description: "The company's e-shop (WooCommerce); money as decimal strings in the shop's or order's currency.",
  settings,
  resolve(values, _secrets, origin) {
    // A gateway's user and password in the URL go as Basic authorization only where the key does not.
    const { wooUrl } = values;
    if (values.wooAuth === "basic" && (wooUrl?.username || wooUrl?.password)) {
      const auth = origin("wooAuth");
      throw new ConfigError(
        `invalid setting ${origin("wooUrl")}: it holds a user and password, which waiter sends as HTTP Basic authorization, and with ${auth} basic that header carries the consumer key instead; set ${auth} to query, which sends the key in the query and leaves the header to them`,
      );
    }
    // WooCommerce's own keys start ck_ and its secrets cs_; other auth plugins' keys start with neither.
    const [key, secret] = [origin("wooKey"), origin("wooSecret")];
    const keyIsSecret = values.wooKey?.startsWith("cs_");
    const secretIsKey = values.wooSecret?.startsWith("ck_");
    if (!keyIsSecret && !secretIsKey) return values;
    const wrong =
      keyIsSecret && secretIsKey
        ? `${key} and ${secret}: they are swapped`
        : keyIsSecret
          ? `${key}: it holds a consumer secret (it starts cs_)`
          : `${secret}: it holds a consumer key (it starts ck_)`;
    throw new ConfigError(
      `invalid setting ${wrong}; ${key} takes the WooCommerce consumer key, which starts ck_, and ${secret} the consumer secret, which starts cs_`,
    );
  },
  unconfigured({ settings, origin, named }) {
    const what = {
      wooUrl: "the shop's URL",
      wooKey: "a WooCommerce REST API key with Read/Write permission",
      wooSecret: "the key's secret",
    } as const;
    const missing = (["wooUrl", "wooKey", "wooSecret"] as const).filter((name) => !settings[name]);
    // The URL may be written in the config file too, so its key is named; a secret only in the environment.
    return missing.length
      ? `set ${missing.map((name) => `${name === "wooUrl" ? named(name) : origin(name)} to ${what[name]}`).join(", ")}; docs/eshop.md#connecting-the-shop says how`
      : undefined;
  },
  tools({ settings, http, origin, log }) {
    const { wooUrl, wooKey = "", wooSecret = "", wooAuth } = settings;
    const base = new URL(wooUrl ?? "https://shop.invalid/");
    // The REST API's own address, as WooCommerce's docs show it, is taken for the shop's too.
    base.pathname = `${base.pathname.replace(/\/$/, "").replace(/\/wp-json(\/wc\/v3)?$/i, "")}/wp-json/wc/v3`;
    const credentials =
      wooAuth === "query"
        ? { query: { consumer_key: wooKey, consumer_secret: wooSecret } }
        : { headers: { authorization: `Basic ${Buffer.from(`${wooKey}:${wooSecret}`).toString("base64")}` } };
    const site = new URL(base);
    site.pathname = site.pathname.replace(/\/wc\/v3$/, "");
    const shop = wooCommerce(
      http.upstream("WooCommerce", base, {
        ...credentials,
        urlSetting: origin("wooUrl"),
        errors: wooErrors(base, wooAuth, origin("wooAuth")),
        jsonIn: withoutPhpWarnings,
        holdsReadsMs: maintenanceHoldMs,
      }),
      http.upstream("WordPress", site, {
        urlSetting: origin("wooUrl"),
        errors: wordPressErrors,
        jsonIn: withoutPhpWarnings,
        holdsReadsMs: maintenanceHoldMs,
      }),
      log,
    );
    return [...orderTools(shop), ...productTools(shop), ...customerTools(shop)];
  },
});
