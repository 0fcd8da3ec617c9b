import { currency } from "../tools/currency/index.js";
import type { Toolset } from "./toolset.js";

/** Every toolset waiter knows, in the order their tools are listed. */
export const TOOLSETS: readonly Toolset[] = [currency];
