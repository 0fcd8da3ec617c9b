import type { ToolCall } from "../../src/toolset.js";

/**
 * One channel's way to deliver a message to one of its targets; resolves once the target's server
 * took it, with a few words on where it went when that is not the target itself.
 */
export interface Sender {
  send(target: string, text: string, call: ToolCall): Promise<string | undefined>;
}

/** Whom a message is for, as the log names them after what it says of it (" for automation …, run 7"), where known. */
export const forWhom = (call: Pick<ToolCall, "caller">): string =>
  call.caller === undefined ? "" : ` for ${call.caller}`;
