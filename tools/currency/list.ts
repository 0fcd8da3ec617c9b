import { z } from "zod";
import { defineTool, type Tool } from "../../src/toolset.js";
import { type Sources, sourceArg, sourceLabel, sourceOut } from "./shapes.js";

export function listTool({ pick }: Sources): Tool {
  return defineTool({
    name: "currency_list",
    title: "List currencies",
    description:
      "The currencies a source publishes reference rates for, with their names. Use it to find a valid ISO 4217 code " +
      "before calling currency_rates, currency_convert or currency_history.",
    input: { source: sourceArg },
    output: {
      source: sourceOut,
      base: z.string().describe("The source's own base currency."),
      currencies: z
        .array(
          z.object({
            code: z.string().describe("ISO 4217 code."),
            name: z.string().describe("Name as the source gives it."),
          }),
        )
        .describe("Every currency the source publishes, by code."),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const source = pick(args.source);
      const currencies = (await source.currencies(call)).sort((a, b) => a.code.localeCompare(b.code));
      return { source: source.id, base: source.base, currencies };
    },
    render(r) {
      return [
        `${sourceLabel(r.source)} publishes rates for ${r.currencies.length} currencies (base ${r.base}):`,
        ...r.currencies.map((c) => `${c.code}  ${c.name}`),
      ].join("\n");
    },
  });
}
