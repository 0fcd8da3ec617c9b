import { z } from "zod";
import { defineTool, type Tool } from "../../src/toolset.js";
import { type Sources, sourceArg, sourceLabel, sourceOut } from "./shapes.js";

export function listTool({ configured, pick }: Sources): Tool {
  return defineTool({
    name: "currency_list",
    title: "List currencies",
    description: "The currencies a source publishes rates for, with their names: to find a valid ISO 4217 code.",
    input: { source: sourceArg(configured) },
    output: {
      source: sourceOut,
      base: z.string(),
      currencies: z.array(
        z.object({
          code: z.string(),
          name: z.string(),
        }),
      ),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const source = pick(args.source);
      // By code point: localeCompare follows the process's locale, and Estonian's puts ZAR before THB.
      const currencies = (await source.currencies(call)).sort((a, b) =>
        a.code < b.code ? -1 : a.code > b.code ? 1 : 0,
      );
      return { source: source.id, base: source.base, currencies };
    },
    render(r) {
      return [
        // The base has no rate of its own: counted, it would read as one more currency with rates.
        `${sourceLabel(r.source)} publishes rates for ${r.currencies.filter((c) => c.code !== r.base).length} currencies against ${r.base}, its base, listed with them:`,
        ...r.currencies.map((c) => `${c.code}  ${c.name}`),
      ].join("\n");
    },
  });
}
