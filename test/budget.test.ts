import { expect, test } from "vitest";
import { startWaiter } from "./memory.js";
import { EVERY_TOOLSET } from "./reference.js";

/**
 * What waiter's tools cost a model's context, with every toolset on. Most clients put each
 * tool's name, description and input schema before the model; some send the output schemas too.
 * At about 4 bytes a token: tools/list at most 8k tokens (32 KiB of compact JSON), what the model
 * reads first at most 3.5k (14 KiB). A new tool or a longer description has to fit in these, or
 * make room.
 */
const TOOLS_LIST_BYTES = 32 * 1024;
const MODEL_READS_BYTES = 14 * 1024;

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

test("tools/list, and what a model reads first of it, stay within their ceilings", async () => {
  const waiter = await startWaiter(EVERY_TOOLSET);
  try {
    const { tools } = await waiter.client.listTools();
    expect(tools.length).toBe(21);
    const reads = tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
    const rows = tools
      .map((tool, i) => ({
        name: tool.name,
        all: bytes(tool),
        reads: bytes(reads[i]),
        output: bytes(tool.outputSchema),
      }))
      .sort((a, b) => b.all - a.all);
    const total = { all: bytes({ tools }), reads: bytes(reads) };
    console.log(
      [
        `tools/list: ${total.all} bytes, about ${Math.round(total.all / 4)} tokens (at most ${TOOLS_LIST_BYTES})`,
        `names, descriptions, input schemas: ${total.reads} bytes, about ${Math.round(total.reads / 4)} tokens (at most ${MODEL_READS_BYTES})`,
        "tool                          all  reads  output",
        ...rows.map(
          (r) =>
            `${r.name.padEnd(26)} ${String(r.all).padStart(6)} ${String(r.reads).padStart(6)} ${String(r.output).padStart(6)}`,
        ),
      ].join("\n"),
    );
    expect(total.all).toBeLessThanOrEqual(TOOLS_LIST_BYTES);
    expect(total.reads).toBeLessThanOrEqual(MODEL_READS_BYTES);
  } finally {
    await waiter.close();
  }
});
