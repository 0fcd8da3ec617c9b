import { currency } from "../tools/currency/index.js";
import { eshop } from "../tools/eshop/index.js";
import { weather } from "../tools/weather/index.js";
import { events } from "./events/tools.js";
import type { Toolset } from "./toolset.js";
import { webhooks } from "./webhooks/tools.js";

/** Every toolset waiter knows, in the order their tools are listed. */
export const TOOLSETS: readonly Toolset[] = [events, webhooks, currency, weather, eshop];
