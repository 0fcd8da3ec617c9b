import { expect, test } from "vitest";
import { startWaiter } from "./memory.js";
import { EVERY_TOOLSET } from "./reference.js";

/**
 * What waiter's tools cost a model's context, with every toolset on. Most clients put each
 * tool's name, description and input schema before the model; some send the output schemas too.
 * The aim, at about 4 bytes a token: tools/list at most 8k tokens (32 KiB), what the model reads
 * first 3.5k (14 KiB). Until the surface is slimmed to that, the test holds today's figures as
 * ceilings, so that no change makes them worse, and prints the aim beside them.
 */
const TOOLS_LIST_BYTES = 52 * 1024;
const MODEL_READS_BYTES = 19 * 1024;
const AIM = { all: 32 * 1024, reads: 14 * 1024 };

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
        `tools/list: ${total.all} bytes, about ${Math.round(total.all / 4)} tokens (ceiling ${TOOLS_LIST_BYTES}, aim ${AIM.all})`,
        `names, descriptions, input schemas: ${total.reads} bytes, about ${Math.round(total.reads / 4)} tokens (ceiling ${MODEL_READS_BYTES}, aim ${AIM.reads})`,
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
