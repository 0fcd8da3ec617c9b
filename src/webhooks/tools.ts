import { z } from "zod";
import type { WebhooksConfig } from "../config.js";
import { storeOf, unconfigured } from "../events/tools.js";
import { defineTool, defineToolset } from "../toolset.js";

/** Where a source's sender must post: behind publicUrl when set, else the listen address. */
export function sourceUrl(webhooks: WebhooksConfig, name: string): string {
  const { host, port } = webhooks.listen;
  const base = webhooks.publicUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return `${base.replace(/\/$/, "")}/webhooks/${name}`;
}

export const webhooks = defineToolset({
  name: "webhooks",
  description: "The configured webhook sources: where they post, and what arrived.",
  settings: {},
  unconfigured,
  tools(context) {
    const store = storeOf(context);
    const sources = defineTool({
      name: "webhooks_sources",
      title: "Webhook sources",
      description:
        "Lists each configured webhook source: the URL to paste into the provider's webhook settings, its signature " +
        "scheme, and counts of what arrived (received, accepted, duplicate, rejected by reason), plus what the " +
        "store holds and what retention dropped. Use it to check that a provider is set up and its deliveries verify.",
      input: {},
      output: {
        sources: z
          .array(
            z.object({
              name: z.string().describe("Source name, as in /webhooks/<name>."),
              scheme: z.string().describe("Signature scheme."),
              url: z.string().describe("Where the provider must POST."),
              received: z.number().describe("Requests received."),
              accepted: z.number().describe("Verified and stored."),
              duplicate: z.number().describe("Verified repeats of a stored delivery (answered 2xx, not stored again)."),
              rejected: z
                .array(
                  z.object({
                    reason: z.string().describe("The check that failed."),
                    count: z.number().describe("How often."),
                  }),
                )
                .describe("Rejected requests, by reason."),
            }),
          )
          .describe("One entry per configured source."),
        store: z
          .object({
            events: z.number().describe("Events stored."),
            bytes: z.number().describe("Their payloads' size in bytes."),
            oldest: z.string().optional().describe("Receipt time of the oldest stored event."),
            dropped_by_count: z.number().describe("Events retention removed for the maxEvents limit."),
            dropped_by_bytes: z.number().describe("Events retention removed for the maxBytes limit."),
            dropped_by_age: z.number().describe("Events retention removed for the maxAgeDays limit."),
          })
          .describe("The shared event store."),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async run() {
        const [counters, stats] = await Promise.all([store.counters(), store.stats()]);
        return {
          sources: context.webhooks.sources.map((source) => {
            const counts = counters[source.name] ?? {};
            return {
              name: source.name,
              scheme: source.scheme,
              url: sourceUrl(context.webhooks, source.name),
              received: counts.received ?? 0,
              accepted: counts.accepted ?? 0,
              duplicate: counts.duplicate ?? 0,
              rejected: Object.entries(counts)
                .filter(([outcome]) => outcome.startsWith("rejected:"))
                .map(([outcome, count]) => ({ reason: outcome.slice("rejected:".length), count })),
            };
          }),
          store: {
            events: stats.events,
            bytes: stats.bytes,
            ...(stats.oldest ? { oldest: stats.oldest } : {}),
            dropped_by_count: stats.droppedBy.count,
            dropped_by_bytes: stats.droppedBy.bytes,
            dropped_by_age: stats.droppedBy.age,
          },
        };
      },
      render(r) {
        const lines = r.sources.map((s) => {
          const rejected = s.rejected.map((x) => `${x.count} ${x.reason}`).join(", ");
          return `${s.name} (${s.scheme}) <- POST ${s.url}\n  received ${s.received}, accepted ${s.accepted}, duplicate ${s.duplicate}, rejected ${rejected || "0"}`;
        });
        const dropped = r.store.dropped_by_count + r.store.dropped_by_bytes + r.store.dropped_by_age;
        return [
          ...lines,
          `Store: ${r.store.events} events, ${r.store.bytes} bytes; retention dropped ${dropped} (count ${r.store.dropped_by_count}, bytes ${r.store.dropped_by_bytes}, age ${r.store.dropped_by_age}).`,
        ].join("\n");
      },
    });
    return [sources];
  },
});
