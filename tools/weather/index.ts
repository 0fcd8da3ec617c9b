import { domainToASCII } from "node:url";
import { z } from "zod";
import { optionalUpstreamUrl, upstreamUrl, waitersOwnUrl, word } from "../../src/settings.js";
import { defineToolset } from "../../src/toolset.js";
import { currentTool } from "./current.js";
import { forecastTool } from "./forecast.js";
import { geocodeTool } from "./geocode.js";
import { metDeprecation, metErrors, metNorway } from "./met.js";
import { openMeteo, openMeteoErrors } from "./open-meteo.js";
import { geocoder } from "./places.js";

const OPEN_METEO = { free: "https://api.open-meteo.com/v1", customer: "https://customer-api.open-meteo.com/v1" };
const GEOCODING = {
  free: "https://geocoding-api.open-meteo.com/v1",
  customer: "https://customer-geocoding-api.open-meteo.com/v1",
};

/**
 * An email address, or an http(s) URL: somewhere a provider's operators can reach whoever runs waiter.
 * It goes in the User-Agent, a header of ASCII only: a domain with other letters goes as IDNA writes
 * it (xn--…), a URL's path percent-encoded; before an email's @ there is no such form.
 */
const contact = z
  .string()
  .trim()
  .refine((value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) || /^https?:\/\/[^\s]+\.[^\s]+$/.test(value), {
    message: "must be an email address or an http(s) URL",
  })
  .transform((value, ctx) => {
    if (isAscii(value)) return value;
    const url = /^https?:/.test(value) ? URL.parse(value) : null;
    if (url) return url.href;
    const at = value.lastIndexOf("@");
    const local = value.slice(0, at);
    const domain = domainToASCII(value.slice(at + 1));
    if (at > 0 && isAscii(local) && domain) return `${local}@${domain}`;
    ctx.addIssue({
      code: "custom",
      message: isAscii(local)
        ? "has a domain that IDNA cannot write in ASCII, for the User-Agent header it goes in: check it"
        : "has letters beyond ASCII before the @, which the User-Agent header it goes in cannot carry: give an address without them, or a URL",
    });
    return z.NEVER;
  })
  .optional();

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/**
 * The domain of a contact that reaches no one: reserved for examples and tests (RFC 2606, RFC 6761),
 * as the placeholders in the docs' client entries are.
 */
function reservedDomain(contact: string): string | undefined {
  const host =
    contact.includes("@") && !/^https?:/.test(contact) ? contact.split("@").pop() : URL.parse(contact)?.hostname;
  return host && /(^|\.)(example|test|invalid|localhost|example\.(com|net|org))$/i.test(host) ? host : undefined;
}

const settings = {
  provider: {
    env: "WAITER_WEATHER_PROVIDER",
    description:
      "Forecast provider: met (MET Norway, free also for commercial use, needs WAITER_CONTACT) or open-meteo (free for non-commercial use; commercial use needs WAITER_OPEN_METEO_API_KEY).",
    schema: word(["met", "open-meteo"]).default("met"),
  },
  contact: {
    env: "WAITER_CONTACT",
    description:
      "An email or URL where MET Norway can reach whoever runs waiter; its terms require it in the User-Agent. The weather tools stay off with the met provider until it is set, at a domain not reserved for examples.",
    schema: contact,
  },
  metUrl: {
    env: "WAITER_MET_URL",
    description: "Base URL of MET Norway's weather API.",
    schema: upstreamUrl("https://api.met.no/weatherapi"),
  },
  openMeteoUrl: {
    env: "WAITER_OPEN_METEO_URL",
    description: `Base URL of Open-Meteo's forecast API (default ${OPEN_METEO.free}, or ${OPEN_METEO.customer} with an API key).`,
    schema: optionalUpstreamUrl(),
  },
  openMeteoApiKey: {
    env: "WAITER_OPEN_METEO_API_KEY",
    description:
      "Open-Meteo API key of a commercial plan; sent as `apikey` to the forecast and geocoding APIs. Place names go through Open-Meteo's geocoder with either provider: a company asking by name needs it with MET Norway too.",
    schema: z.string().min(1).optional(),
    secret: true,
  },
  geocodingUrl: {
    env: "WAITER_GEOCODING_URL",
    description: `Base URL of Open-Meteo's geocoding API (default ${GEOCODING.free}, or ${GEOCODING.customer} with an API key).`,
    schema: optionalUpstreamUrl(),
  },
};

/** Where the weather is off for want of a contact, the page that gives each provider's terms, Open-Meteo's too. */
const TERMS_PAGE = "docs/weather.md#providers-one-line-of-terms-each gives each provider's terms";

export const weather = defineToolset({
  name: "weather",
  description:
    "Weather for a place name or coordinates, from MET Norway or Open-Meteo; a name several places share is the most populous, the others listed; with no population known, all are listed to pick from.",
  settings,
  unconfigured({ settings, origin, named }) {
    if (settings.provider === "met" && !settings.contact) {
      // A key given is for Open-Meteo: its owner most likely meant that provider.
      const choose = `set ${named("provider")} to open-meteo`;
      const other = settings.openMeteoApiKey
        ? `or, for the Open-Meteo key WAITER_OPEN_METEO_API_KEY holds, ${choose}`
        : `or ${choose}`;
      return `MET Norway's terms require a contact in the User-Agent: set ${named("contact")} to an email or URL where you can be reached (${other}); ${TERMS_PAGE}`;
    }
    const reserved = settings.provider === "met" && settings.contact && reservedDomain(settings.contact);
    if (reserved) {
      return `${origin("contact")} is ${settings.contact}, whose domain ${reserved} is reserved for examples and reaches no one: MET Norway's terms require an email or URL where you can be reached; ${TERMS_PAGE}`;
    }
    return undefined;
  },
  tools({ settings, http, log, origin }) {
    const key = settings.openMeteoApiKey;
    // A 429 from these counts against the plan or the terms: retried only when it says when.
    const polite = { throttleNeedsRetryAfter: true };
    const openMeteoApi = {
      ...polite,
      errors: openMeteoErrors(key !== undefined),
      ...(key ? { query: { apikey: key }, keySetting: "WAITER_OPEN_METEO_API_KEY" } : {}),
    };
    const places = geocoder(
      http.upstream(
        "Open-Meteo geocoding",
        settings.geocodingUrl ?? waitersOwnUrl(key ? GEOCODING.customer : GEOCODING.free),
        { ...openMeteoApi, urlSetting: origin("geocodingUrl") },
      ),
    );
    const provider =
      settings.provider === "met"
        ? metNorway(
            http.upstream("MET Norway", settings.metUrl, {
              ...polite,
              urlSetting: origin("metUrl"),
              headers: { "user-agent": `${http.userAgent} ${settings.contact ?? ""}`.trim() },
              errors: (response, name) => metErrors(response, name, origin("contact")),
              onAnswer: metDeprecation(log),
            }),
          )
        : openMeteo(
            http.upstream(
              "Open-Meteo",
              settings.openMeteoUrl ?? waitersOwnUrl(key ? OPEN_METEO.customer : OPEN_METEO.free),
              {
                ...openMeteoApi,
                urlSetting: origin("openMeteoUrl"),
              },
            ),
          );
    return [geocodeTool(places), currentTool(places, provider), forecastTool(places, provider)];
  },
});
