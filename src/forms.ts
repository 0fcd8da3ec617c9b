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

/**
 * The fields of a body of `NAME=value` lines, as an env file or a script's settings write them, its
 * first ENV_LINES_READ lines: two at least, each one such, blank or a `#` comment, or the lines of a
 * quoted value up to its closing quote (a private key's PEM, as dotenv reads one). A quote no later
 * line closes is the value's own character, as dotenv reads it: the lines after are fields still.
 * Undefined for a body of another kind (a sentence, a log of lines with an = in some).
 */
export function envLines(payload: string): [string, string][] | undefined {
  // A JSON, XML or sentence is known by its first characters, not by a thousand lines split off it.
  if (!ENV_OPENING.test(payload)) return undefined;
  const entries: [string, string][] = [];
  const lines = payload.split("\n", ENV_LINES_READ).map((line) => line.replace(/\r$/, ""));
  // The last line each quote could close a value on.
  const lastClosing = (quote: string) => lines.findLastIndex((text) => text.trimEnd().endsWith(quote));
  const closing = { '"': lastClosing('"'), "'": lastClosing("'") };
  let open: { quote: string; entry: [string, string] } | undefined;
  for (const [at, text] of lines.entries()) {
    if (open) {
      const end = text.trimEnd();
      const closes = end.endsWith(open.quote);
      open.entry[1] += `\n${closes ? end.slice(0, -1) : text}`;
      if (closes) open = undefined;
      continue;
    }
    if (/^[ \t]*(#.*)?$/.test(text)) continue;
    const [, name, value = ""] = ENV_LINE.exec(text) ?? [];
    if (name === undefined) return undefined;
    const trimmed = value.trim();
    const quoted = /^(["'])(.*)\1$/.exec(trimmed);
    const quote = quoted ? undefined : /^["']/.exec(trimmed)?.[0];
    const opening = quote && closing[quote as keyof typeof closing] > at ? quote : undefined;
    const entry: [string, string] = [name, quoted ? (quoted[2] as string) : opening ? trimmed.slice(1) : trimmed];
    entries.push(entry);
    if (opening) open = { quote: opening, entry };
  }
  return entries.length > 1 ? entries : undefined;
}
