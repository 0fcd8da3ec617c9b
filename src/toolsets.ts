import { currency } from "../tools/currency/index.js";
import { eshop } from "../tools/eshop/index.js";
import { notifyToolset } from "../tools/notify/index.js";
import { weather } from "../tools/weather/index.js";
import type { Automation } from "./automations/rules.js";
import { automationsToolset, whyNoRun } from "./automations/tools.js";
import type { EventStore } from "./events/store.js";
import { eventsToolset } from "./events/tools.js";
import type { Toolset } from "./toolset.js";
import { noSources, type WebhookSource } from "./webhooks/settings.js";
import { type ListenerPort, webhooksToolset } from "./webhooks/tools.js";

/**
 * Every toolset waiter knows, in the order their tools are listed. The event and automation tools
 * serve `store`; without one, `noStore` says why (the store could not open), or, unset, that no
 * source is configured. `sources`: the configured webhook sources, which the event tools check a
 * filter against. `port`: the webhook listener as this process knows it, bound or not (an
 * assistant's waiter may leave the port to another).
 */
export function toolsets(
  store?: EventStore,
  noStore?: string,
  automations: readonly Automation[] = [],
  sources: readonly Pick<WebhookSource, "name" | "scheme">[] = [],
  port?: ListenerPort,
): readonly Toolset[] {
  const whyOff = (configFile: string | undefined) => noStore ?? noSources(configFile);
  return [
    eventsToolset(
      store,
      whyOff,
      sources,
      store && automations.length > 0 ? (event) => whyNoRun(automations, store.runs, event, new Set()) : undefined,
    ),
    webhooksToolset(store, whyOff, port),
    currency,
    weather,
    eshop,
    notifyToolset(store?.waits),
    automationsToolset(store, whyOff, automations),
  ];
}
