import { z } from "zod";
import { ToolError } from "../errors.js";
import { type EventStore, ID_REUSED } from "../events/store.js";
import { givenName, isLoopbackHost } from "../settings.js";
import { enumerated, noSuchName, SOURCE } from "../shown.js";
import { defineTool, defineToolset, type Toolset } from "../toolset.js";
import { refusalCause } from "./secrets.js";
import { GITHUB_REDELIVERY, SMALL_DELIVERIES } from "./senders.js";
import {
  deliveredBy,
  MISSPELT_PATH,
  resolveWebhooks,
  sourceUrl,
  type WebhookSource,
  webhookSettings,
} from "./settings.js";
import { STORE_CONNECTION } from "./verifiers/comgate.js";

/** The webhook listener as this process knows it. */
export interface ListenerPort {
  /** Its address as bound, while this process has the port. */
  url(): string | undefined;
  /** Who receives the webhooks when this process does not; undefined while it does. */
  note(): Promise<string | undefined>;
}

/**
 * What the URLs of a loopback listen address without publicUrl are, given "to the provider": no
 * provider reaches them, and a model handing one on would have it pasted where it is refused.
 * `listenFrom` names the setting that gave the address (`waiter serve` binds its own, --listen).
 */
const loopbackOnly = (listenFrom: string) =>
  `These URLs reach this machine alone (${listenFrom} is a loopback address and webhooks.publicUrl is not set): a provider cannot post to them, a tool on this machine can (stripe listen --forward-to). For a provider, put a tunnel or an HTTPS reverse proxy in front and set webhooks.publicUrl (WAITER_WEBHOOKS_PUBLIC_URL) to its https:// address: docs/webhooks.md#pointing-the-providers-at-waiter.`;

/**
 * What to do by hand about the refused deliveries of a sender that never sends one again. The
 * counts add up from the start and may be a stranger's alone, so it is said as holding if any were
 * the sender's.
 */
const SENT_AGAIN_BY_HAND: Partial<Record<WebhookSource["scheme"], string>> = {
  github: `if any refused were GitHub's, it does not send them again: once the cause is mended, redeliver each ${GITHUB_REDELIVERY}`,
  woocommerce:
    "if any refused were WooCommerce's, it does not send them again (WooCommerce → Status → Logs lists them), and at its seventh failure in a row it disables the webhook: set it back to Active under WooCommerce → Settings → Advanced → Webhooks once the cause is mended",
};

/** Where a model reads what WooCommerce's deliveries, never sent again, told of: each tool, and what it reads. */
const READ_THE_SHOP: [tool: string, reads: string][] = [
  ["eshop_orders_list", "orders"],
  ["eshop_products_list", "products"],
  ["eshop_customers_list", "customers"],
];

/** The tools of READ_THE_SHOP a call is served, as the note names them; empty for none. */
function shopReadBy(serves: (name: string) => boolean): string {
  const served = READ_THE_SHOP.filter(([tool]) => serves(tool));
  if (served.length === 0) return "";
  const tools = enumerated(
    served.map(([tool]) => tool),
    "and",
  );
  const what = enumerated(
    served.map(([, reads]) => reads),
    "and",
  );
  return `; ${tools} ${served.length === 1 ? "reads" : "read"} the ${what} such deliveries told of as they are now`;
}

/**
 * What to check when every delivery of `source` is refused for `reason`, as counted: the log says
 * it beside each refusal, which the model reading the counts does not see.
 */
function whyRefused(
  reason: string,
  source: WebhookSource,
  publicUrl: string | undefined,
  named: (setting: keyof typeof webhookSettings) => string,
): string | undefined {
  // A sender whose deliveries are small (Comgate's) is refused past its own bound, which no setting raises.
  if (reason === "body too large" && !SMALL_DELIVERIES[source.scheme]) {
    return `raise ${named("maxBodyBytes")} to the size of its sender's deliveries`;
  }
  // With publicUrl set, a Host of another name is most often a proxy that does not pass it on, as the log says.
  if (reason === "Host not allowed" && publicUrl) {
    return `a reverse proxy in front does not pass on the Host it was asked for, webhooks.publicUrl's host, ${new URL(publicUrl).host} (nginx: proxy_set_header Host $host); or, if the host refused is an address of this listener, add it to ${named("allowedHosts")}`;
  }
  if (reason === "Host not allowed") {
    return `set webhooks.publicUrl (WAITER_WEBHOOKS_PUBLIC_URL) to the address its sender posts to, or add that host to ${named("allowedHosts")}`;
  }
  // As the listener's warning says it: one address's share of the bodies read at once, which behind a
  // proxy holds every sender's.
  if (reason === "client busy") {
    return `its deliveries come from one address that holds its share of the bodies being read at once (behind a reverse proxy or tunnel, every sender's come from the proxy's): raise ${named("maxConnectionsPerClient")}, which sets that share, up to ${named("maxConnections")} where the proxy limits its clients itself`;
  }
  if (reason === MISSPELT_PATH)
    return "its sender was given a URL a letter or two off the source's url: give it that url";
  if (reason === "not confirmed yet" && source.scheme === "comgate") {
    return `Comgate's API does not take calls from this machine's public address (add it in Comgate's client portal, ${STORE_CONNECTION}), or cannot be asked at the source's apiUrl, or fails itself (its codes 1100, 1200, 1500): the log says which`;
  }
  if (reason === "not confirmed yet" && source.scheme === "gopay") {
    return `GoPay's API gives waiter no access token (check the source's clientId, the client secret in ${source.secretEnv}, and its apiUrl: sandbox credentials work only with the sandbox's), or will not show it the payments, which are not of the e-shop the clientId is for, or cannot be asked: the log says which`;
  }
  return refusalCause(reason, source);
}

/**
 * The webhooks toolset: its settings are the listener's (the "webhooks" section), and its tool
 * reads the store's counts. Without a store, `whyOff` says why it is off, given the config file
 * read. `port` is the listener as this process knows it: its URL as bound while this process has
 * it, and who receives the webhooks when it does not.
 */
export function webhooksToolset(
  store: EventStore | undefined,
  whyOff: (configFile: string | undefined) => string,
  port?: ListenerPort,
): Toolset {
  return defineToolset({
    name: "webhooks",
    description: "The webhook listener and its sources: where each posts, and what arrived.",
    settings: webhookSettings,
    resolve: resolveWebhooks,
    comesWithStore: true,
    unconfigured: ({ configFile }) => (store ? undefined : whyOff(configFile)),
    tools({ settings, origin, named }) {
      if (!store) throw new Error("the event store is not open");
      const sources = defineTool({
        name: "webhooks_sources",
        title: "Webhook sources",
        description:
          "Each webhook source: its URL to give the provider, signature scheme, and counts of what arrived: to check a " +
          "provider's setup and that its deliveries verify.",
        input: {
          source: z.string().overwrite(givenName).min(1).optional().describe("One source; default: all."),
        },
        output: {
          sources: z.array(
            z.object({
              name: z.string(),
              scheme: z.string(),
              url: z.string(),
              received: z.number(),
              accepted: z.number(),
              duplicate: z.number(),
              ping: z.number(),
              rejected: z.array(z.object({ reason: z.string(), count: z.number() })),
            }),
          ),
          store: z.object({
            events: z.number(),
            bytes: z.number(),
            oldest: z.string().optional(),
            dropped_by_count: z.number(),
            dropped_by_bytes: z.number(),
            dropped_by_age: z.number(),
          }),
          note: z.string().optional(),
        },
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        async run({ source: only }, call) {
          const names = settings.sources.map((source) => source.name);
          if (only !== undefined && !names.includes(only)) {
            throw new ToolError(noSuchName(SOURCE, only, names));
          }
          const [counters, stats, held] = await Promise.all([store.counters(), store.stats(), port?.note()]);
          const bound = port?.url();
          const local = !settings.publicUrl && isLoopbackHost(settings.listen.host);
          const listed = settings.sources.filter((source) => only === undefined || source.name === only);
          const sources = listed.map((source) => {
            const counts = counters[source.name] ?? {};
            return {
              name: source.name,
              scheme: source.scheme,
              url: sourceUrl(settings, source.name, bound),
              received: (counts.received ?? 0) - (counts[ID_REUSED] ?? 0),
              accepted: counts.accepted ?? 0,
              duplicate: counts.duplicate ?? 0,
              ping: counts.ping ?? 0,
              rejected: Object.entries(counts)
                .filter(([outcome]) => outcome.startsWith("rejected:"))
                .map(([outcome, count]) => ({ reason: outcome.slice("rejected:".length), count })),
            };
          });
          const causes = listed.flatMap((source, i) => {
            // A reason an earlier waiter counted in other words has today's cause: said once for both.
            const reasonsOf = new Map<string, string[]>();
            for (const { reason } of sources[i]?.rejected ?? []) {
              const cause = whyRefused(reason, source, settings.publicUrl, named);
              if (cause) reasonsOf.set(cause, [...(reasonsOf.get(cause) ?? []), reason]);
            }
            const said = [...reasonsOf].map(
              ([cause, reasons]) =>
                `${source.name}'s ${reasons.join(" and ")}: if every delivery of this source is refused so, ${cause}.`,
            );
            // As the log says beside each refusal: the model helping to mend the setup is the one to tell.
            const lost = said.length > 0 ? SENT_AGAIN_BY_HAND[source.scheme] : undefined;
            // Its log holds no body: the shop itself says what became of what a lost delivery told of.
            const shop = source.scheme === "woocommerce" ? shopReadBy((name) => call.serves(name)) : "";
            const reused = counters[source.name]?.[ID_REUSED] ?? 0;
            const keyedWrongly =
              reused > 0 && "idHeader" in source
                ? [
                    `${source.name}: ${reused} of the deliveries accepted came with a delivery id in ${source.idHeader} that one stored before had with another body, and were stored as events of their own: its sender puts the same id on different deliveries; set idHeader to a header it changes for each delivery, or remove it to key each delivery on its body.`,
                  ]
                : [];
            return [...said, ...(lost ? [`${source.name}: ${lost}${shop}.`] : []), ...keyedWrongly];
          });
          const note = [held, local ? loopbackOnly(origin("listen")) : undefined, ...causes].filter(Boolean).join(" ");
          return {
            sources,
            store: {
              events: stats.events,
              bytes: stats.bytes,
              ...(stats.oldest ? { oldest: stats.oldest } : {}),
              dropped_by_count: stats.droppedBy.count,
              dropped_by_bytes: stats.droppedBy.bytes,
              dropped_by_age: stats.droppedBy.age,
            },
            ...(note ? { note } : {}),
          };
        },
        render(r) {
          const lines = r.sources.map((s) => {
            const rejected = s.rejected.map((x) => `${x.count} ${x.reason}`).join(", ");
            return `${s.name} (${s.scheme}) <- ${deliveredBy(s)} ${s.url}\n  received ${s.received}, accepted ${s.accepted}, duplicate ${s.duplicate}, ping ${s.ping}, rejected ${rejected || "0"}`;
          });
          const dropped = r.store.dropped_by_count + r.store.dropped_by_bytes + r.store.dropped_by_age;
          const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
          return [
            ...lines,
            `Store: ${count(r.store.events, "event")}, ${count(r.store.bytes, "byte")}${r.store.oldest ? `, the oldest received ${r.store.oldest}` : ""}; retention dropped ${dropped} (count ${r.store.dropped_by_count}, bytes ${r.store.dropped_by_bytes}, age ${r.store.dropped_by_age}).`,
            ...(r.note ? [r.note] : []),
          ].join("\n");
        },
      });
      return [sources];
    },
  });
}
