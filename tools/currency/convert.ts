import { z } from "zod";
import { defineTool, type Tool } from "../../src/toolset.js";
import { crossRate, significant, toMinorUnit } from "./fixing.js";
import {
  code,
  date,
  dateNote,
  effectiveDate,
  formatNumber,
  note,
  requestedDate,
  type Sources,
  sourceArg,
  sourceLabel,
  sourceOut,
} from "./shapes.js";

export function convertTool({ pick, fixingFor }: Sources): Tool {
  return defineTool({
    name: "currency_convert",
    title: "Convert currency",
    description:
      "Converts an amount between two currencies at an official reference rate (ECB or Czech National Bank) of one day. " +
      "The result is rounded to the target currency's minor unit (cents; whole yen). Without a date the latest fixing is used. " +
      "On weekends and holidays the last working day's fixing applies; `date` in the result says which, so record that date. " +
      "Pairs without the source's base (EUR for ecb, CZK for cnb) are converted through it.",
    input: {
      amount: z
        .number()
        .positive()
        .max(1e12)
        .describe("Amount of `from` to convert; greater than 0, at most 1,000,000,000,000."),
      from: code.describe("Currency of the amount, ISO 4217 code (e.g. JPY)."),
      to: code.describe("Currency to convert into, ISO 4217 code (e.g. CZK)."),
      date: date.optional().describe("Day of the fixing, YYYY-MM-DD (default: the latest)."),
      source: sourceArg,
    },
    output: {
      amount: z.number().describe("The amount converted, in `from`."),
      from: z.string().describe("ISO 4217 code converted from."),
      to: z.string().describe("ISO 4217 code converted into."),
      rate: z.number().describe("Units of `to` per 1 unit of `from` (8 significant digits)."),
      result: z.number().describe("The amount in `to`, rounded to the currency's minor unit."),
      via: z
        .string()
        .optional()
        .describe("The currency a cross rate went through, when neither side is the source's base."),
      date: effectiveDate,
      requested_date: requestedDate,
      note,
      source: sourceOut,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const source = pick(args.source);
      const fixing = await fixingFor(source, args.date, call);
      const rate = crossRate(fixing, args.from, args.to, source);
      const note = dateNote(args.date, fixing, source);
      const through = args.from !== fixing.base && args.to !== fixing.base && args.from !== args.to;
      return {
        amount: args.amount,
        from: args.from,
        to: args.to,
        rate: significant(rate),
        result: toMinorUnit(args.amount * rate, args.to),
        ...(through ? { via: fixing.base } : {}),
        date: fixing.date,
        ...(args.date && args.date !== fixing.date ? { requested_date: args.date } : {}),
        ...(note ? { note } : {}),
        source: source.id,
      };
    },
    render(r) {
      const how = r.via ? `, through ${r.via}` : "";
      const head = `${formatNumber(r.amount)} ${r.from} = ${formatNumber(r.result)} ${r.to} at ${formatNumber(r.rate)} (${sourceLabel(r.source)} fixing of ${r.date}${how})`;
      return r.note ? `${head}\n${r.note}` : head;
    },
  });
}
