import { upstreamUrl, word } from "../../src/settings.js";
import { defineToolset, type ToolCall } from "../../src/toolset.js";
import { cnbSource } from "./cnb.js";
import { convertTool } from "./convert.js";
import { ecbSource, frankfurterErrors } from "./ecb.js";
import { areCurrencies, euroFixedAlone, type Fixing, lackingOn, type RateSource, withRatesFor } from "./fixing.js";
import { historyTool } from "./history.js";
import { listTool } from "./list.js";
import { ratesTool } from "./rates.js";
import { beforeFirst, SOURCES, type SourceId } from "./shapes.js";

const settings = {
  source: {
    env: "WAITER_CURRENCY_SOURCE",
    description:
      "Default source of rates when a call names none: ecb (European Central Bank) or cnb (Czech National Bank).",
    schema: word(SOURCES).default("ecb"),
  },
  frankfurterUrl: {
    env: "WAITER_FRANKFURTER_URL",
    description: "Base URL of the Frankfurter v1 API serving the ECB's rates.",
    schema: upstreamUrl("https://api.frankfurter.dev/v1"),
  },
  cnbUrl: {
    env: "WAITER_CNB_URL",
    description: "Base URL of the Czech National Bank's JSON API.",
    schema: upstreamUrl("https://api.cnb.cz/cnbapi"),
  },
};

export const currency = defineToolset({
  name: "currency",
  description: "Official reference exchange rates of the ECB and the Czech National Bank; keyless.",
  settings,
  tools({ settings, http, origin }) {
    const sources: Record<SourceId, RateSource> = {
      ecb: ecbSource(
        http.upstream("Frankfurter (ECB rates)", settings.frankfurterUrl, {
          urlSetting: origin("frankfurterUrl"),
          errors: frankfurterErrors,
        }),
      ),
      cnb: cnbSource(http.upstream("CNB API", settings.cnbUrl, { urlSetting: origin("cnbUrl") })),
    };
    const pick = (id: SourceId | undefined) => sources[id ?? settings.source];
    const otherThan = (source: RateSource) => sources[source.id === "ecb" ? "cnb" : "ecb"];

    async function fixingFor(
      source: RateSource,
      day: string | undefined,
      codes: string[],
      call: ToolCall,
    ): Promise<Fixing> {
      const alone = euroFixedAlone(codes, day);
      if (alone) return alone;
      if (day !== undefined && day < source.earliest) {
        const other = otherThan(source);
        // A misspelt code is sent on too: the other source's refusal says to check it, not that no rate exists.
        const lacking = await lackingOn(
          day,
          codes.filter((code) => areCurrencies([code])),
          other,
          call,
        );
        throw beforeFirst("date", day, source, other, [...lacking]);
      }
      return withRatesFor(await source.fixing(day, call), codes, day, source, otherThan(source), call);
    }

    const shared = { configured: settings.source, pick, otherThan, fixingFor };
    return [ratesTool(shared), convertTool(shared), historyTool(shared), listTool(shared)];
  },
});
