import { currency } from "../tools/currency/index.js";
import { eshop } from "../tools/eshop/index.js";
import { notify } from "../tools/notify/index.js";
import { weather } from "../tools/weather/index.js";
import type { Automation } from "./automations/rules.js";
import { automationsToolset } from "./automations/tools.js";
import type { EventStore } from "./events/store.js";
import { eventsToolset } from "./events/tools.js";
import type { Toolset } from "./toolset.js";
import { webhooksToolset } from "./webhooks/tools.js";

export const NO_SOURCES =
  "no webhook sources are configured (webhooks.sources in the config file, or WAITER_WEBHOOKS_SOURCES)";

/**
 * Every toolset waiter knows, in the order their tools are listed. The event and automation tools
 * serve `store`; without one (to read the settings, or when it could not open) `noStore` says why.
 * `sources`: the configured webhook sources, which the event tools check a filter against.
 * `portNote`: who receives the webhooks when this process does not (an assistant's waiter).
 */
export function toolsets(
  store?: EventStore,
  noStore = NO_SOURCES,
  automations: readonly Automation[] = [],
  sources: readonly string[] = [],
  portNote?: () => Promise<string | undefined>,
): readonly Toolset[] {
  return [
    eventsToolset(store, noStore, sources),
    webhooksToolset(store, noStore, portNote),
    currency,
    weather,
    eshop,
    notify,
    automationsToolset(store, noStore, automations),
  ];
}
