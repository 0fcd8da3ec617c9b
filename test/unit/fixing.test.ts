import { describe, expect, test } from "vitest";
import { clock } from "../../src/time.js";
import {
  booked,
  crossRate,
  type Fixing,
  lackingOn,
  minorUnits,
  type RateSource,
  significant,
} from "../../tools/currency/fixing.js";
import { formatNumber } from "../../tools/currency/shapes.js";

const cnb = { id: "cnb", name: "the Czech National Bank", fixedFor: {}, fixedFrom: {} } as RateSource;
const fixing: Fixing = {
  date: "2026-08-28",
  base: "CZK",
  quotes: new Map([
    ["JPY", { units: 100, value: 15.193 }],
    ["IDR", { units: 1000, value: 1.233 }],
    ["EUR", { units: 1, value: 24.365 }],
    ["HUF", { units: 100, value: 6.304 }],
    ["KWD", { units: 1, value: 67.5 }],
  ]),
};

describe("cross rates", () => {
  test("per-row amounts divide the rate", () => {
    expect(significant(crossRate(fixing, "JPY", "CZK", cnb))).toBe(0.15193);
    expect(significant(crossRate(fixing, "IDR", "CZK", cnb))).toBe(0.001233);
  });

  test("pairs without the base go through it", () => {
    expect(significant(crossRate(fixing, "EUR", "JPY", cnb))).toBe(significant((24.365 * 100) / 15.193));
  });

  test("an unknown code names itself, and no tool: only a fixing no call checked lacks it", () => {
    expect(() => crossRate(fixing, "EUR", "XYZ", cnb)).toThrow(
      /^No rate for currency "XYZ" in the fixing of \d{4}-\d\d-\d\d by the Czech National Bank\. Check the code \(ISO 4217, like USD\)\.$/,
    );
  });
});

describe("rounding to the minor unit", () => {
  test.each([
    [1.005, "EUR", 1.01],
    [1234.5, "JPY", 1235],
    [1.0005, "KWD", 1.001],
    [1e-7, "EUR", 0],
    [1234.567, "HUF", 1234.57],
    [1234.567, "IDR", 1234.57],
  ])("%d %s is %d", (amount, currency, expected) => {
    expect(booked(fixing, amount, currency, currency, cnb).toNumber()).toBe(expected);
  });

  test("a product that is exactly half a minor unit rounds up, whatever its binary approximation", () => {
    // 121.825, 170.555 and 379.825 CZK; in binary 121.82499999999999, 170.55499999999998, 379.82500000000005.
    expect(booked(fixing, 5, "EUR", "CZK", cnb).toNumber()).toBe(121.83);
    expect(booked(fixing, 7, "EUR", "CZK", cnb).toNumber()).toBe(170.56);
    expect(booked(fixing, 2500, "JPY", "CZK", cnb).toNumber()).toBe(379.83);
    // Through CZK, to a currency without decimals: 100 EUR is 2,436.5 CZK, 16,036.9907... JPY.
    expect(booked(fixing, 100, "EUR", "JPY", cnb).toNumber()).toBe(16037);
  });

  test("a result just under half a minor unit rounds down, however many decimals it has", () => {
    // 0.00021645021645021645 USD at 23.1 is 0.004999999999999999999995 CZK: 24 decimals, under 0.005.
    const usd: Fixing = { ...fixing, quotes: new Map([["USD", { units: 1, value: 23.1 }]]) };
    expect(booked(usd, 0.00021645021645021645, "USD", "CZK", cnb).toNumber()).toBe(0);
  });

  test("every currency the ECB or the CNB publishes has its ISO 4217 minor unit", () => {
    const none = ["ISK", "JPY", "KRW"];
    const two =
      "AUD BGN BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF IDR ILS INR MXN MYR NOK NZD PHP PLN RON SEK SGD THB TRY USD XDR ZAR";
    for (const code of none) expect(minorUnits(code), code).toBe(0);
    for (const code of two.split(" ")) expect(minorUnits(code), code).toBe(2);
  });
});

describe("numbers in the text rendering", () => {
  test("the whole part is grouped by thousands, the fraction kept as it is", () => {
    expect(formatNumber(100)).toBe("100");
    expect(formatNumber(1234)).toBe("1,234");
    expect(formatNumber(1234567.891)).toBe("1,234,567.891");
    expect(formatNumber(-1234.5)).toBe("-1,234.5");
    expect(formatNumber(0.15193)).toBe("0.15193");
    expect(formatNumber(1e12)).toBe("1,000,000,000,000");
  });

  test("what JavaScript would write with an exponent is written out", () => {
    expect(formatNumber(5.9e-7)).toBe("0.00000059");
    expect(formatNumber(1.2e21)).toBe("1,200,000,000,000,000,000,000");
  });
});

describe("what a refusal looks up of the other source", () => {
  test("a look-up a cancelled call gives up on is still heard: its failure is no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const hear = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", hear);
    // As an upstream refuses a request for a call cancelled already.
    const other = {
      ...cnb,
      earliest: "1991-01-01",
      fixing: async () => {
        throw new Error("not asked: the call was cancelled");
      },
    } as RateSource;
    const cancelled = new AbortController();
    cancelled.abort(new DOMException("The call was cancelled.", "AbortError"));
    try {
      const call = { signal: cancelled.signal, deadline: clock.now() + 10_000 };
      await expect(lackingOn("2026-08-28", ["JPY"], other, call)).rejects.toThrow("The call was cancelled.");
      // Node tells of a rejection left unhandled once the microtasks have run.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", hear);
    }
  });
});
