import Big from "big.js";
import { z } from "zod";
import { decimal } from "../../src/settings.js";
import { dateIn } from "../../src/time.js";
import { defineTool, type Tool } from "../../src/toolset.js";
import {
  areCurrencies,
  atRate,
  booked,
  conversion,
  euroNote,
  type Fixing,
  fixedAloneNote,
  heldExactly,
  minorUnits,
  ofFixedRatesAlone,
  quoteOf,
  type RateSource,
  unrounded,
} from "./fixing.js";
import {
  code,
  date,
  dateNote,
  formatMoney,
  formatNumber,
  note,
  requestedDate,
  SIGNS,
  type Sources,
  sourceArg,
  sourceLabel,
  sourceOut,
} from "./shapes.js";

export function convertTool({ configured, pick, fixingFor }: Sources): Tool {
  return defineTool({
    name: "currency_convert",
    title: "Convert currency",
    description:
      "Converts an amount at an official reference rate of one day, default the latest, " +
      "rounded half up to the target's minor unit. Weekends and holidays use the last fixing before, valid for them; `date` is its day.",
    input: {
      amount: decimal(
        z
          .number({ error: amountAsText })
          .positive({ error: notPositive })
          .max(MAX_AMOUNT, { error: AT_MOST })
          .describe("Above 0, at most 1,000,000,000,000."),
        PLAIN_AMOUNT,
      ),
      from: code.describe("ISO 4217 code, e.g. JPY."),
      to: code.describe("ISO 4217 code, e.g. CZK."),
      date: date.optional().describe("YYYY-MM-DD; default: the latest."),
      source: sourceArg(configured),
    },
    output: {
      amount: z.number(),
      from: z.string(),
      to: z.string(),
      rate: z.number().describe("Units of `to` per 1 `from`."),
      result: z.number(),
      via: z.string().optional(),
      date: z.string(),
      requested_date: requestedDate,
      note,
      source: sourceOut,
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const source = pick(args.source);
      // A currency is 1 of itself on any day a source fixes: no fixing is asked for, which may fail, or named as used.
      // A code that is none goes on to the source, whose refusal says to check it.
      const itself = args.from === args.to && areCurrencies([args.from]);
      if (itself && !(args.date && args.date < source.earliest)) return inItself(args, source);
      const fixing = await fixingFor(source, args.date, [args.from, args.to], call);
      const { rate, cutRate } = conversion(fixing, args.from, args.to, source);
      const exact = booked(fixing, args.amount, args.from, args.to, source);
      const result = exact.toNumber();
      const rounded = cutRate && atRate(args.amount, cutRate, args.to);
      const note = [
        dateNote(args.date, fixing, source),
        fixedAloneNote(fixing),
        euroNote(fixing.euroFixed),
        result === 0 ? roundedAway(args, unrounded(fixing, args.amount, args.from, args.to, source)) : undefined,
        heldExactly(result, args.to) ? undefined : tooLong(args, exact.toFixed() as Intl.StringNumericLiteral, result),
        rounded && !rounded.eq(exact) ? notAtRate(args, rounded, fixing, source) : undefined,
      ]
        .filter(Boolean)
        .join(" ");
      // Between the euro and the currencies it replaced, the fixed rates alone convert.
      const euro = (code: string) => code === "EUR" || fixing.euroFixed?.includes(code);
      const through =
        args.from !== fixing.base &&
        args.to !== fixing.base &&
        args.from !== args.to &&
        !(euro(args.from) && euro(args.to));
      return {
        amount: args.amount,
        from: args.from,
        to: args.to,
        rate,
        result,
        ...(through ? { via: fixing.base } : {}),
        date: fixing.date,
        ...(args.date && args.date !== fixing.date ? { requested_date: args.date } : {}),
        ...(note ? { note } : {}),
        source: source.id,
      };
    },
    render(r) {
      if (r.from === r.to) {
        const head = `${formatMoney(r.amount, r.from)} ${r.from} = ${formatMoney(r.result, r.to)} ${r.to} at 1 (no fixing)`;
        return r.note ? `${head}\n${r.note}` : head;
      }
      const how = r.via ? `, through ${r.via}` : "";
      // A result a number does not hold to the minor unit is written as far as it holds it; the note has every digit.
      const result = heldExactly(r.result, r.to) ? formatMoney(r.result, r.to) : `about ${formatDigits(r.result)}`;
      const head = `${formatMoney(r.amount, r.from)} ${r.from} = ${result} ${r.to} at ${formatNumber(r.rate)} (${ofFixedRatesAlone(r.date) ? "euro fixed rates," : `${sourceLabel(r.source)} fixing of`} ${r.date}${how})`;
      return r.note ? `${head}\n${r.note}` : head;
    },
  });
}

/** `amount` of a currency in itself, rounded to its minor unit, dated the day asked or the source's today. */
function inItself(args: { amount: number; from: string; to: string; date?: string }, source: RateSource) {
  const result = atRate(args.amount, 1, args.to).toNumber();
  const asked = `${args.from} in ${args.to} is the amount at 1 on any day, so no fixing of ${source.name} was asked for or used.`;
  return {
    amount: args.amount,
    from: args.from,
    to: args.to,
    rate: 1,
    result,
    date: args.date ?? dateIn(source.publication.zone),
    note: result === 0 ? `${asked} ${roundedAway(args, new Big(args.amount))}` : asked,
    source: source.id,
  };
}

/**
 * Why a result is 0: the amount is worth less than half of the target currency's minor unit. Its
 * worth is cut to 8 significant digits, not rounded: 0.004999999958 USD rounded would read 0.005,
 * the half that rounds up.
 */
function roundedAway({ amount, from, to }: { amount: number; from: string; to: string }, exact: Big): string {
  const smallest = formatMoney(10 ** -minorUnits(to), to);
  return `${formatMoney(amount, from)} ${from} is ${formatNumber(exact.prec(8, Big.roundDown).toNumber())} ${to} at this rate, less than half of ${smallest} ${to}, the smallest amount of it, so the result rounds to 0.`;
}

/**
 * Why `amount` × `rate` is not the result: `rate` is rounded to 8 significant digits, which a large
 * amount shows (10,000 EUR in IDR through CZK), and the result is worked out from the rates the
 * source published, which are named so that the result can be checked.
 */
function notAtRate(
  { amount, from, to }: { amount: number; from: string; to: string },
  atRate: Big,
  fixing: Fixing,
  source: RateSource,
): string {
  // A currency the euro replaced is named at its fixed rate, and the euro at the fixing's.
  const fixed = fixing.euroFixed ?? [];
  const named = new Set([from, to].flatMap((currency) => (fixed.includes(currency) ? [currency, "EUR"] : [currency])));
  const published = [...named]
    .filter((currency) => currency !== fixing.base)
    .map((currency) => {
      const { units, value } = quoteOf(fixing, currency, source);
      if (fixed.includes(currency)) {
        return `1 EUR = ${formatNumber(units / quoteOf(fixing, "EUR", source).units)} ${currency} (fixed)`;
      }
      // The ECB's rates are so much of a currency per 1 EUR; the CNB's, CZK per so many of it.
      return value === 1
        ? `1 ${fixing.base} = ${formatNumber(units)} ${currency}`
        : `${formatNumber(units)} ${currency} = ${formatNumber(value)} ${fixing.base}`;
    });
  const would = formatMoney(atRate.toFixed() as Intl.StringNumericLiteral, to);
  return `\`rate\` is rounded to 8 significant digits, at which ${formatMoney(amount, from)} ${from} would be ${would} ${to}; the result is worked out from the fixing's own rates: ${published.join(", ")}.`;
}

/** The result to book, when `result`, a number, cannot hold every digit of it. */
function tooLong(
  { amount, from, to }: { amount: number; from: string; to: string },
  exact: Intl.StringNumericLiteral,
  held: number,
) {
  return `${formatMoney(amount, from)} ${from} is ${formatMoney(exact, to)} ${to} to the minor unit: book this amount, as \`result\`, a number of at most 17 significant digits, holds ${held}.`;
}

/** A number to the 15 significant digits every number holds, grouped by thousands. */
function formatDigits(value: number): string {
  return new Intl.NumberFormat("en-US", { maximumSignificantDigits: 15 }).format(value);
}

const MAX_AMOUNT = 1e12;
const AT_MOST = "must be at most 1,000,000,000,000";
const ABOVE_ZERO = "must be above 0";

/**
 * Decimal text taken as the number, but for one to three digits, a dot and three ("1.000", "12.500"):
 * a thousand as Czech and German write it, or a decimal, which `amountAsText` refuses naming both.
 */
const PLAIN_AMOUNT = /^(?!-?[1-9]\d{0,2}\.\d{3}$)-?\d+(\.\d+)?$/;

/** What a refund's amount, sent without its minus, does with the result: rounded half away from zero, it is the refund's. */
const MINUS_ON_RESULT = "put the minus on the result (rounding is the same either way)";

/**
 * Why an amount of 0 or less is refused, and for a refund (-1234.5) what to send: its amount without
 * the minus, whose result, rounded half away from zero, is the refund's without its minus, unless the
 * limit refuses that too.
 */
function notPositive(issue: { input: unknown }): string {
  const { input } = issue;
  if (typeof input !== "number" || input >= 0) return ABOVE_ZERO;
  return -input > MAX_AMOUNT
    ? `${ABOVE_ZERO}: ${refundOverLimit(plainDigits(-input))}`
    : `${ABOVE_ZERO}: for a refund, send ${plainDigits(-input)} and ${MINUS_ON_RESULT}`;
}

/**
 * A number above 0 as its digits are written, which JavaScript writes with an exponent from 1e21 on
 * (1e+21) and below 1e-6 (1e-7).
 */
function plainDigits(value: number): string {
  const [mantissa = "", exponent] = String(value).split("e");
  if (exponent === undefined) return mantissa;
  const [whole = "", fraction = ""] = mantissa.split(".");
  const shift = Number(exponent);
  return shift > 0 ? `${whole}${fraction.padEnd(shift, "0")}` : `0.${"0".repeat(-shift - 1)}${whole}${fraction}`;
}

/** Why a refund's amount is refused where its amount without the minus, `unsigned`, is over the limit too. */
const refundOverLimit = (unsigned: string) => `for a refund, the amount without its minus, ${unsigned}, ${AT_MOST}`;

/**
 * What to send for an amount given as text that is not plain decimal (which `decimal` takes), as a
 * person writes money ("1 234,50 Kč", "€100"): the number written plainly when the text says it
 * without doubt, and the code of a currency written before or after it, by its code or a sign only
 * it has; "1,234" or "1.234 Kč" may be a thousand or one and a bit, so both numbers are offered for those.
 */
function amountAsText(issue: { input: unknown }): string | undefined {
  if (typeof issue.input !== "string") return undefined;
  const general =
    "send the amount as a number, without quotes, grouping or currency, with a dot before its decimals: 1234.5";
  // A refund's minus, as a credit note writes it ("-1 234,50 Kč", "€-1 234,50", typeset as − or –), is not part of the number to send;
  // nor is a ledger's, the number in parentheses ("(1,234.50) EUR") or its minus after it ("1,234.50-", not a Czech price's ",-").
  const input = issue.input.trim().slice(0, 40);
  const [, outsideBefore, inParentheses, outsideAfter] = /^(\D*?)\(([^()]*\d[^()]*)\)(\D*)$/su.exec(input) ?? [];
  const unbracketed = inParentheses === undefined ? input : `${outsideBefore}${inParentheses.trim()}${outsideAfter}`;
  const [, minusAfter] = /^(.*\d)\s*[-\u2212\u2013]$/su.exec(unbracketed) ?? [];
  const ledger = inParentheses !== undefined || minusAfter !== undefined;
  // A credit's plus, as a bank statement writes it ("+1 234,50"), is not part of the number either.
  const [, leading, written = ""] = /^(?:\+|([-\u2212\u2013]?))\s*(.*)$/su.exec(minusAfter ?? unbracketed) ?? [];
  // The number, with its currency before or after it, and a Czech price's ",-" for whole crowns
  // (typeset ",–", with a dash). Apostrophes group thousands as Swiss write them, typed or typeset,
  // ’ or ‘ as a keyboard or word processor puts it after a digit.
  const [, before = "", signed, number = "", whole, after = ""] =
    /^(\D*?)\s*([-\u2212\u2013]?)\s*(\d[\d\s\u00a0\u202f'\u2018\u2019.,]*?)(?:([.,])[-\u2013\u2014])?\s*(\D*)$/u.exec(
      written,
    ) ?? [];
  const minus = leading || signed || ledger;
  const unit = before && after ? undefined : before || after;
  const codes = !unit
    ? []
    : (SIGNS.get(unit.toLowerCase()) ??
      (/^[A-Za-z]{3}$/.test(unit) && areCurrencies([unit.toUpperCase()]) ? [unit.toUpperCase()] : undefined));
  if (!number || !codes) return `expected number, received string: ${general}`;
  const digits = number.replace(/[\s\u00a0\u202f'\u2018\u2019]/g, "");
  // A group of three digits after one to three, not begun by 0 ("0,125" is a decimal), may be either,
  // but where a whole price's "-" holds the decimals' place ("1.000,-", "1,000,-"): one number has one
  // decimal sign, so the sign before the three digits groups thousands.
  const either = /^[1-9]\d{0,2}[.,]\d{3}$/.test(digits);
  // Commas group thousands (1,000,000), or as India writes, the last three digits and then twos
  // (1,00,000, a lakh): no decimal comma comes twice, nor any other grouping in twos.
  const plain = either
    ? whole
      ? digits.replace(/[.,]/, "")
      : undefined
    : /^\d+(\.\d+)?$/.test(digits)
      ? digits
      : /^[1-9]\d{0,2}(,\d{3})+(\.\d+)?$|^[1-9]\d?(,\d{2})+,\d{3}(\.\d+)?$/.test(digits)
        ? digits.replace(/,/g, "")
        : /^[1-9]\d{0,2}(\.\d{3})+,\d+$|^[1-9]\d{0,2}(\.\d{3}){2,}$|^\d+,\d+$/.test(digits)
          ? digits.replace(/\./g, "").replace(",", ".")
          : undefined;
  // A number no amount may be is not one to send: the limit it breaks is said instead, of a refund's too.
  const value = plain === undefined ? undefined : Number(plain);
  if (value === 0) return `expected number, received string: it is ${plain}, and an amount ${ABOVE_ZERO}`;
  if (value !== undefined && value > MAX_AMOUNT) {
    return minus
      ? `expected number, received string: it is -${plain}, and an amount ${ABOVE_ZERO}: ${refundOverLimit(String(plain))}`
      : `expected number, received string: it is ${plain}, and an amount ${AT_MOST}`;
  }
  const currency =
    codes.length === 0
      ? ""
      : codes.length === 1
        ? `, and ${codes[0]} as \`from\``
        : `, and the ISO 4217 code of the currency meant as \`from\`: ${unit} is written for ${codes.join(", ")}`;
  const refund = minus && (plain || either) ? `; for a refund, ${MINUS_ON_RESULT}` : "";
  const separator = digits.includes(".") ? "dot" : "comma";
  const decimal = Number(digits.replace(",", "."));
  // A client that quotes every number sends 1.234 as "1.234" again, which one more decimal place gets through.
  const quoted = PLAIN_AMOUNT.test(String(decimal)) ? "" : ` (as text, ${decimal}0 is read as ${decimal})`;
  const send = plain
    ? `send ${plain}, without quotes`
    : either
      ? `${digits} is ${digits.replace(/[.,]/, "")} where its ${separator} groups thousands, ${decimal} where it is a decimal ${separator === "dot" ? "point" : "comma"}: send the one meant, without quotes${quoted}`
      : general;
  return `expected number, received string: ${send}${currency}${refund}`;
}
