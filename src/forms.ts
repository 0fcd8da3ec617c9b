/** What tells a form a sender posts, whatever content type it came with: the event's line and its type both read it so. */

/**
 * Whether a body's first fields (`pairs`, split at "&") are a form's though its content type does
 * not say so (none, text/plain, application/octet-stream, as a script posts one): each a name and
 * "=", no space anywhere (a form escapes its spaces), one value at least not empty. A name is of
 * letters, digits, the characters a form leaves unescaped and brackets (`data[email]`): a sentence
 * with an "=" in it, a link with a query, base64 ending in "=" or "==", JSON or XML is text.
 */
export function isForm(pairs: string[]): boolean {
  return (
    pairs.every(
      (pair, at) => /^[\p{L}\p{N}_.*~%+[\]-]+=(?!=)\S*$/u.test(pair) || (pair === "" && at === pairs.length - 1),
    ) && pairs.some((pair) => pair.indexOf("=") < pair.length - 1)
  );
}

/** Whether a body no content type says is a form is one all the same (isForm), by its first thousand fields. */
export function readsAsForm(body: string): boolean {
  return isForm(body.split("&", 1000));
}

/**
 * The boundary of a multipart/form-data body: the one its content type names, else, where the
 * content type names none or is another (a proxy that dropped it, a script that posts the form as
 * text), the one its first line opens with, where the part after it is a form's field.
 */
export function multipartBoundary(contentType: string | undefined, body: string): string | undefined {
  const type = /^multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? "");
  const named = type?.[1] ?? type?.[2];
  if (named) return named;
  // RFC 2046's boundary: at most 70 characters, each a letter, a digit or one of '()+_,-./:=?
  return /^--([\w'()+,./:=?-]{1,70})\r?\n(?:[^\r\n]{1,1000}\r?\n){0,4}?content-disposition:[ \t]*form-data\s*;/i.exec(
    body.slice(0, 8000),
  )?.[1];
}

/** A line of an env file: `NAME=value`, after an `export` or not, its value quoted or bare. */
const ENV_LINE = /^(?:export[ \t]+)?([A-Za-z_][\w.-]*)[ \t]*=(.*)$/;

/** The lines of a body read as `NAME=value` lines: the verifier's type and the event's line read the same ones. */
const ENV_LINES_READ = 1000;

/** How a body of such lines opens, after blank lines: with a `#` comment or a line's `NAME=`. */
const ENV_OPENING = /^\s*(?:#|(?:export[ \t]+)?[A-Za-z_][\w.-]*[ \t]*=)/;

/** A quote of each kind dotenv takes off a value (a backtick too) that no backslash escapes, found from where lastIndex is set. */
const UNESCAPED = { '"': /(?<!\\)"/g, "'": /(?<!\\)'/g, "`": /(?<!\\)`/g };

/** Where the first `quote` no backslash escapes is in `text`, from `from`; -1 where none is. */
function unescapedAt(text: string, quote: keyof typeof UNESCAPED, from = 0): number {
  const pattern = UNESCAPED[quote];
  pattern.lastIndex = from;
  return pattern.exec(text)?.index ?? -1;
}

/**
 * The fields of a body of `NAME=value` lines, as an env file or a script's settings write them, its
 * first ENV_LINES_READ lines: two at least, each one such, blank or a `#` comment, or the lines of a
 * quoted value, as dotenv reads them. A value that opens with a quote (", ' or a backtick) ends at the next like quote
 * no backslash escapes, on its line or a later one (a private key's PEM), where nothing but blanks
 * or a `#` comment follows it on its line, or else at the last quote before it after a backslash that
 * only those follow; else that quote is the value's own character, its value
 * is the rest of its line (bare of a quote each end), and the lines after are fields still. A bare
 * value ends where a blank and a `#` begin a comment. A value that opens with a double quote has
 * its `\n` and `\r` read as line breaks.
 * Undefined for a body of another kind (a sentence, a log of lines with an = in some).
 */
export function envLines(payload: string): [string, string][] | undefined {
  // A JSON, XML or sentence is known by its first characters, not by a thousand lines split off it.
  if (!ENV_OPENING.test(payload)) return undefined;
  const entries: [string, string][] = [];
  // A line ends at a CRLF, a LF or a lone CR (as classic Mac OS editors end one), as dotenv ends it.
  const lines = payload.split(/\r\n?|\n/, ENV_LINES_READ);
  // For each line and quote, the first line from it on that holds the quote unescaped (-1 for none),
  // so that a value is closed without reading the lines after it again for each quote never closed.
  const holding = (quote: keyof typeof UNESCAPED) => {
    const from = Array<number>(lines.length + 1).fill(-1);
    for (let at = lines.length - 1; at >= 0; at -= 1) {
      from[at] = unescapedAt(lines[at] as string, quote) >= 0 ? at : (from[at + 1] as number);
    }
    return from;
  };
  const nextHolding = { '"': holding('"'), "'": holding("'"), "`": holding("`") };
  /** Whether a quote at `end` on line `at` may close a value: only blanks or a `#` comment follow it on its line. */
  const endsLine = (at: number, end: number) => /^\s*(#.*)?$/.test((lines[at] as string).slice(end + 1));
  /**
   * Where dotenv closes a value whose first unescaped closing quote, at `end` on line `last` (or none,
   * `last` -1), has more than a comment after it: at the latest backslash-escaped like quote before
   * it that only a comment follows (`"C:\dir\" # a folder`), the backslash the value's last character.
   */
  const escapedClosing = (at: number, from: number, quote: string, last: number, end: number) => {
    const upTo = last < 0 ? lines.length - 1 : last;
    for (let line = upTo; line >= at; line -= 1) {
      const text = lines[line] as string;
      const start = line === at ? from + 1 : 0;
      for (let close = text.lastIndexOf(quote, line === upTo && last >= 0 ? end - 1 : text.length); close > start; ) {
        if (text[close - 1] === "\\" && endsLine(line, close)) return { last: line, end: close };
        close = text.lastIndexOf(quote, close - 1);
      }
    }
    return undefined;
  };
  /** The value whose opening quote is at `from` on line `at`, and the line it ends on, where a quote closes it. */
  const closed = (at: number, from: number, quote: keyof typeof UNESCAPED) => {
    const opening = lines[at] as string;
    let end = unescapedAt(opening, quote, from + 1);
    let last = end >= 0 ? at : (nextHolding[quote][at + 1] as number);
    if (last >= 0 && last !== at) end = unescapedAt(lines[last] as string, quote);
    if (last < 0 || !endsLine(last, end)) {
      const escaped = escapedClosing(at, from, quote, last, end);
      if (!escaped) return undefined;
      ({ last, end } = escaped);
    }
    const closing = lines[last] as string;
    const value =
      last === at
        ? opening.slice(from + 1, end)
        : [opening.slice(from + 1), ...lines.slice(at + 1, last), closing.slice(0, end)].join("\n");
    return { value, last };
  };
  for (let at = 0; at < lines.length; at += 1) {
    const text = lines[at] as string;
    if (/^[ \t]*(#.*)?$/.test(text)) continue;
    const [, name, value = ""] = ENV_LINE.exec(text) ?? [];
    if (name === undefined) return undefined;
    const trimmed = value.trim();
    const quote = trimmed[0];
    const quoted =
      quote !== undefined && Object.hasOwn(UNESCAPED, quote)
        ? closed(at, text.length - value.trimStart().length, quote as keyof typeof UNESCAPED)
        : undefined;
    // As dotenv, a value that opens with a double quote has its \n and \r as the line breaks they stand for.
    const escapesRead = (read: string) => (quote === '"' ? read.replace(/\\n/g, "\n").replace(/\\r/g, "\r") : read);
    if (quoted) {
      entries.push([name, escapesRead(quoted.value)]);
      at = quoted.last;
      continue;
    }
    // A comment ends it where a blank comes before its #: dotenv ends it at any #, which would cut a link's #fragment.
    // The blanks after its = count: a value that is only a comment (`NOTE= # none yet`) is empty.
    const comment = value.search(/\s#/);
    const bare = comment < 0 ? trimmed : value.slice(0, comment).trim();
    entries.push([name, escapesRead(/^(["'`])(.*)\1$/.exec(bare)?.[2] ?? bare)]);
  }
  return entries.length > 1 ? entries : undefined;
}
