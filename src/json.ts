/**
 * A JSON text without the UTF-8 byte order mark some senders' frameworks and Windows editors put
 * before it: no part of the JSON text (RFC 8259 §8.1), and JSON.parse refuses it.
 */
export function jsonText(text: string): string {
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

/**
 * The deepest a payload may nest arrays and objects. lossless-json, which reads payloads back for
 * events_get and its fields, runs out of stack a few thousand levels down, and parsing a deep
 * megabyte holds every other request for half a second; no provider's event nests past a dozen.
 */
export const MAX_PAYLOAD_DEPTH = 512;

/** Where `position` is in `text`, as an editor counts from 1: "line 3, column 52". */
export function lineAndColumn(text: string, position: number): string {
  const lines = text.slice(0, position).split("\n");
  return `line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Which bound a JSON text (its UTF-8 bytes, read before it is parsed) passes: arrays and objects
 * nested more than `depth` deep, or more than `values` values in all (keys too). JSON.parse's time
 * grows with the values, whatever they are: 4 MB of `-0,` or of `[],` takes it a few hundred ms,
 * 4 MB of one string a few. One pass that skips strings, escapes and all, as it runs on every
 * request. No byte of a character beyond ASCII is a bracket, a quote or a digit in UTF-8, so the
 * count is exact there.
 */
export function pastBound(bytes: Buffer, bounds: { depth: number; values?: number }): "depth" | "values" | undefined {
  const most = bounds.values ?? Number.POSITIVE_INFINITY;
  let depth = 0;
  let values = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      if (++values > most) return "values";
      // To the quote that ends the string: one after an odd run of backslashes is escaped.
      for (;;) {
        i = bytes.indexOf(QUOTE, i + 1);
        if (i < 0) return undefined;
        let escapes = 0;
        while (bytes[i - escapes - 1] === BACKSLASH) escapes++;
        if (escapes % 2 === 0) break;
      }
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > bounds.depth) return "depth";
      if (++values > most) return "values";
    } else if (byte === 0x5d || byte === 0x7d) depth--;
    // true, false, null, or a number's first character (what follows a digit, a sign, a point or an
    // exponent's e is the same number's).
    else if (byte === 0x74 || byte === 0x66 || byte === 0x6e || (startsNumber(byte) && !inNumber(bytes[i - 1]))) {
      if (++values > most) return "values";
    }
  }
  return undefined;
}

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;
const startsNumber = (byte: number | undefined) => byte === 0x2d || isDigit(byte);
/** A digit, `-`, `+`, `.`, `e` or `E`. */
const inNumber = (byte: number | undefined) =>
  isDigit(byte) || byte === 0x2d || byte === 0x2b || byte === 0x2e || byte === 0x65 || byte === 0x45;
