import type { ToolCall } from "../../src/toolset.js";

/** One channel's way to deliver a message to one of its targets; resolves once the target's server took it. */
export interface Sender {
  send(target: string, text: string, call: ToolCall): Promise<void>;
}
