import type { ToolCall } from "../../src/toolset.js";

/**
 * One channel's way to deliver a message to one of its targets; resolves once the target's server
 * took it, with a few words on where it went when that is not the target itself.
 */
export interface Sender {
  send(target: string, text: string, call: ToolCall): Promise<string | undefined>;
}
