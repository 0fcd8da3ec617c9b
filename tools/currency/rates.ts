import { z } from "zod";
import { dateIn } from "../../src/time.js";
import { defineTool, type Tool } from "../../src/toolset.js";
import { EURO_REPLACED, euroNote, fixedAloneNote, ofFixedRatesAlone, withEuroRates } from "./fixing.js";
import {
  code,
  codes,
  crossNote,
  date,
  dateNote,
  formatNumber,
  note,
  rateRow,
  rateRows,
  requestedDate,
  type Sources,
  sourceArg,
  sourceLabel,
  sourceOut,
} from "./shapes.js";

export function ratesTool({ configured, pick, fixingFor }: Sources): Tool {
  return defineTool({
    name: "currency_rates",
    title: "Exchange rates",
    description:
      "Official reference exchange rates of one day, the ECB's or the Czech National Bank's; default " +
      "the latest. Weekends and holidays have no fixing: the last one before is valid for them; `date` is its day. " +
      "To convert: currency_convert.",
    input: {
      base: code.optional().describe("Rates per 1 unit of it; default EUR (ecb), CZK (cnb)."),
      symbols: codes(z.array(code).max(50)).optional().describe("Default: all the source publishes."),
      date: date.optional().describe("YYYY-MM-DD; default: the latest."),
      source: sourceArg(configured),
    },
    output: {
      source: sourceOut,
      base: z.string(),
      date: z.string(),
      requested_date: requestedDate,
      note,
      rates: z.array(rateRow),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const source = pick(args.source);
      const base = args.base ?? source.base;
      // The source's own base is in each of its fixings: a date before its first is sent on for the codes asked
      // only. The euro's fixed rates alone (1 to 3 January 1999) hold no CZK, the CNB's base: it is asked for.
      const asked = [...(args.base || base !== "EUR" ? [base] : []), ...(args.symbols ?? [])];
      const given = await fixingFor(source, args.date, asked, call);
      // An empty list is none asked for, as a form's list left empty sends it: the whole table, where a
      // currency the euro had replaced by the date has its fixed rate, as asked for alone (HRK on
      // 2023-01-01, whose fixing, of 2022-12-30, still had the ECB's own); of the fixed rates alone, each of them.
      const fixing = args.symbols?.length
        ? given
        : withEuroRates(
            given,
            given.fixedOnly ? EURO_REPLACED : [...given.quotes.keys()],
            args.date ?? dateIn(source.publication.zone),
          );
      const symbols = args.symbols?.length
        ? [...new Set(args.symbols)]
        : [...fixing.quotes.keys(), fixing.base].filter((c) => c !== base).sort();
      // Regulation (EC) No 1103/97 converts only through EUR at the fixed rates, never at rates derived from them.
      const convert = call.serves("currency_convert") ? ", as currency_convert converts it" : "";
      const note = [
        dateNote(args.date, fixing, source),
        fixing.fixedOnly ? fixedAloneNote(fixing) : crossNote(base, source),
        euroNote(fixing.euroFixed),
        fixing.euroFixed?.length
          ? `An amount converts through EUR at the fixed rates${convert}, not at these rates worked out from them and rounded (Council Regulation (EC) No 1103/97).`
          : undefined,
      ]
        .filter(Boolean)
        .join(" ");
      return {
        source: source.id,
        base,
        date: fixing.date,
        ...(args.date && args.date !== fixing.date ? { requested_date: args.date } : {}),
        ...(note ? { note } : {}),
        rates: rateRows(fixing, base, symbols, source),
      };
    },
    render(r) {
      const lines = r.rates.map(
        (row) =>
          `1 ${r.base} = ${formatNumber(row.rate)} ${row.currency}   (1 ${row.currency} = ${formatNumber(row.inverse)} ${r.base})`,
      );
      const whose = ofFixedRatesAlone(r.date) ? "Euro fixed" : `${sourceLabel(r.source)} reference`;
      return [`${whose} rates of ${r.date}:`, ...(r.note ? [r.note] : []), ...lines].join("\n");
    },
  });
}
