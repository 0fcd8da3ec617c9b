/** How much of a value from outside waiter (an argument, a sender's text) a message quotes back. */
export const SHOWN_CHARACTERS = 40;

/**
 * A value as a message shows it: whole when short, else its first 40 characters and its length,
 * counted as zod's limits and notify_send count them (codePoints): an emoji is one character.
 */
export function shorten(value: string): string {
  // A value of at most 40 units has at most 40 code points.
  if (value.length <= SHOWN_CHARACTERS) return value;
  let shown = "";
  let length = 0;
  for (const point of value) {
    if (length < SHOWN_CHARACTERS) shown += point;
    length++;
  }
  return length <= SHOWN_CHARACTERS ? value : `${shown}…(${length} characters)`;
}

/** The first `count` characters of `text`, one fewer rather than half a surrogate pair. */
export function firstCharacters(text: string, count: number): string {
  const code = text.charCodeAt(count - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? count - 1 : count);
}

/**
 * The longest start of `text` that takes at most `max` bytes of UTF-8, or, `asJson`, as a JSON
 * string carries it (a quote as \", a control character as \n or \u0001); never half a surrogate
 * pair. What a client takes is counted so: a character of most scripts takes two or three bytes.
 */
export function firstBytes(text: string, max: number, asJson = false): string {
  // No character takes more than six bytes a UTF-16 unit.
  if (text.length * 6 <= max) return text;
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1));
    const size = pair ? 4 : unitBytes(code, asJson);
    if (used + size > max) return text.slice(0, i);
    used += size;
    if (pair) i++;
  }
  return text;
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** What `withinBytes` adds to a text it cuts, at most: "…(cut at 12345 of its 123456 characters)". */
const CUT_SAID_BYTES = 48;

/**
 * `value` whole when its JSON takes at most `max` bytes, else a copy whose longest texts under the
 * keys `written` names (what people wrote: names, notes) are cut, each to as many bytes as all can
 * keep (firstBytes, as JSON carries them), saying where and of how many characters: the shorter
 * ones stay whole, and so does every other value (ids, sums, dates). Where those alone take more
 * than `max`, every such text is cut to nothing but what says so.
 */
export function withinBytes<T>(value: T, max: number, written: ReadonlySet<string>): T {
  const json = JSON.stringify(value);
  if (json === undefined || Buffer.byteLength(json) <= max) return value;
  const copy = JSON.parse(json) as T;
  const texts: { holder: Record<string, unknown>; key: string; text: string; bytes: number }[] = [];
  const walk = (node: unknown) => {
    if (typeof node !== "object" || node === null) return;
    for (const [key, field] of Object.entries(node)) {
      if (typeof field === "string" && written.has(key)) {
        const bytes = Buffer.byteLength(JSON.stringify(field)) - 2;
        texts.push({ holder: node as Record<string, unknown>, key, text: field, bytes });
      } else walk(field);
    }
  };
  walk(copy);
  const room = max - (Buffer.byteLength(json) - texts.reduce((sum, { bytes }) => sum + bytes, 0));
  const cost = (most: number) =>
    texts.reduce((sum, { bytes }) => sum + (bytes <= most ? bytes : most + CUT_SAID_BYTES), 0);
  // The most bytes a text keeps, found by halving: the most for which all of them fit the room.
  let most = 0;
  let over = Math.max(0, ...texts.map(({ bytes }) => bytes));
  while (most + 1 < over) {
    const middle = Math.floor((most + over) / 2);
    if (cost(middle) <= room) most = middle;
    else over = middle;
  }
  for (const { holder, key, text, bytes } of texts) {
    if (bytes <= most) continue;
    const shown = firstBytes(text, most, true);
    holder[key] = `${shown}…(cut at ${shown.length} of its ${text.length} characters)`;
  }
  return copy;
}

/**
 * The bytes of one UTF-16 unit that is no half of a pair. In JSON (JSON.stringify's): \b, \t, \n,
 * \f, \r, \" and \\ two, another control or a lone surrogate six; in UTF-8 a lone surrogate is U+FFFD.
 */
function unitBytes(code: number, asJson: boolean): number {
  if (code >= 0x80) return code < 0x800 ? 2 : asJson && code >= 0xd800 && code <= 0xdfff ? 6 : 3;
  if (!asJson) return 1;
  if (code === 0x22 || code === 0x5c || code === 8 || code === 9 || code === 10 || code === 12 || code === 13) return 2;
  return code < 0x20 ? 6 : 1;
}

/**
 * `text` whole when it has at most `max` characters, else as many of its first `max` - 1 as end
 * between two characters a reader sees, and "…": never a letter without the accent typed apart
 * from it, half a flag or part of an emoji sequence.
 */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : cutBetweenGraphemes(text, max - 1, (segment) => segment.length);
}

/** `text` with its first letter a capital, as a sentence begins. */
export const capitalized = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** `text` as a sentence another follows: with a full stop unless it ends in one, a ! or ?, or a cut's "…". */
export function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/** The start of `text` whose characters a reader sees take at most `room` by `size`, and "…". */
function cutBetweenGraphemes(text: string, room: number, size: (segment: string) => number): string {
  let end = 0;
  let used = 0;
  for (const { index, segment } of graphemes.segment(text)) {
    used += size(segment);
    if (used > room) break;
    end = index + segment.length;
  }
  return `${text.slice(0, end)}…`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * How many characters `text` has as notify_send, zod and Telegram count them: by code point, an
 * emoji one, where JavaScript's length counts its two UTF-16 units.
 */
export function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * `text` whole when it has at most `max` code points (codePoints), else as many of its first
 * `max` - 1 as end between two characters a reader sees, and "…": never a letter without the
 * accent typed apart from it (r and its caron, ř), half a flag or part of an emoji sequence.
 */
export function cutCodePoints(text: string, max: number): string {
  // A text of at most `max` units has at most `max` code points.
  if (text.length <= max || codePoints(text) <= max) return text;
  return cutBetweenGraphemes(text, max - 1, codePoints);
}

/**
 * Unicode's invisible format characters but those names are spelled with (the joiners, ZWNJ and
 * ZWJ: نیک‌نام, 👩‍💻; the direction marks, LRM and RLM, which hold for a character). Among them:
 * the direction controls that hold until closed, so one left open in a name turns the rest of its
 * line around on screen, the amount too; zero-width spaces; and the tag characters, which show
 * nothing to a person and read as ASCII to a model, so a name can hide words for it.
 */
const INVISIBLE = /(?![\u200c-\u200f])\p{Cf}/gu;

/** `text` without the invisible format characters that are no part of how a name is spelled. */
export function withoutInvisible(text: string): string {
  return text.replace(INVISIBLE, "");
}

/** Letters no accent is taken off to write them in ASCII, as people type them: "Lodz" for Łódź. */
const UNACCENTED: Record<string, string> = {
  ł: "l",
  ø: "o",
  æ: "ae",
  ß: "ss",
  đ: "d",
  ð: "d",
  þ: "th",
  œ: "oe",
  ı: "i",
};

/**
 * `text` as compared without regard to letter case or accents, NFC and NFD alike: "mostoles" is
 * "Móstoles", "strasse" "Straße", and KAVA-1 is a SKU stored as KÁVA-1, or as KA\u0301VA-1 pasted from macOS.
 */
export function folded(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[łøæßđðþœı]/g, (letter) => UNACCENTED[letter] ?? letter);
}

/**
 * `text` as one line of at most `max` characters, its runs of whitespace and control characters
 * (NEL among them, which is no whitespace to JavaScript yet breaks a line on screen) made single
 * spaces, without invisible format characters (withoutInvisible).
 */
export function oneLine(text: string, max = 200): string {
  return cut(
    withoutInvisible(text)
      .replace(/[\s\p{Cc}]+/gu, " ")
      .trim(),
    max,
  );
}

/**
 * A stranger's text (a buyer's note, a refund's reason) as `oneLine` makes it, in a JSON string
 * literal: whole up to `max` characters, it can neither end the quote nor start a line.
 */
export function quoteLine(text: string, max = 200): string {
  return JSON.stringify(oneLine(text, max));
}

/**
 * What JSON.stringify leaves as it is yet a terminal or a log viewer takes as a control: the C1
 * controls (CSI begins an escape sequence as ESC [ does, NEL a line) and the line and paragraph
 * separators.
 */
const UNESCAPED_CONTROLS = /[\u007f-\u009f\u2028\u2029]/g;

/** Each UTF-16 unit of `text` as a JSON escape: \u202e, a tag character as its pair \udb40\udc41. */
function escaped(text: string): string {
  return Array.from({ length: text.length }, (_, i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, "0")}`).join(
    "",
  );
}

/**
 * A value from outside as a JSON string literal: it can neither end the quote nor start a line,
 * and its invisible format characters (withoutInvisible) are written as escapes, so that it
 * neither hides words nor turns its line around, and still says exactly what was given.
 */
export function quote(value: string): string {
  return withEscapes(JSON.stringify(shorten(value)));
}

/**
 * A zod issue's words that end with the value refused: its `message` quotes it, and `words` keeps
 * them apart, so that an automation's log, which names no payload's values, says what kind it was.
 */
export function endingWith(words: string, value: string): { message: string; words: string } {
  return { message: `${words} ${quote(value)}`, words };
}

/**
 * A JSON text with what JSON.stringify leaves as it is written as escapes: the controls a terminal
 * or a log viewer takes as such (UNESCAPED_CONTROLS) and the invisible format characters.
 */
export function withEscapes(json: string): string {
  return json.replace(UNESCAPED_CONTROLS, escaped).replace(INVISIBLE, escaped);
}

/**
 * `text` with what a terminal or a log viewer takes as a control written as escapes: every control
 * character but the tab (ESC begins an escape sequence, CR goes back over the line), the line and
 * paragraph separators, and the invisible format characters (withEscapes).
 */
export function withControlsEscaped(text: string): string {
  return withEscapes(text.replace(/(?!\t)\p{Cc}/gu, escaped));
}

/**
 * `text` with every long string of `values` (arguments, at any depth) cut as `shorten` cuts it,
 * wherever the text repeats it, plainly or JSON-escaped.
 */
export function shortenEchoes(text: string, values: unknown): string {
  const long = new Set<string>();
  const collect = (value: unknown, depth: number) => {
    if (typeof value === "string") {
      if (value.length > SHOWN_CHARACTERS && codePoints(value) > SHOWN_CHARACTERS) long.add(value);
    } else if (typeof value === "object" && value !== null && depth < 8) {
      for (const item of Object.values(value)) collect(item, depth + 1);
    }
  };
  collect(values, 0);
  let shown = text;
  for (const value of [...long].sort((a, b) => b.length - a.length)) {
    const short = shorten(value);
    shown = shown.replaceAll(value, short);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) shown = shown.replaceAll(escaped, JSON.stringify(short).slice(1, -1));
  }
  return shown;
}

/** How long a value is before it cannot be taken for an ordinary word where it stands in a text. */
export const MAY_BE_A_WORD = 8;

/** Where a value shorter than MAY_BE_A_WORD is found: what comes before it. */
const SHORT_BEFORE = {
  // A secret where a request carries it: after = or :, as written or percent-encoded (a URL quoted
  // encoded), then what an echoed request puts between: spaces (a header, pretty-printed JSON), an
  // Authorization scheme, a JSON quote.
  carried: '(?<=(?:[=:]|%3[DdAa])[ \\t]*(?:(?:[Bb]earer|[Bb]asic) +)?(?:\\\\?")?)',
  // A value standing as a word of its own, after a percent-escape too (%3D, %26 end in a letter or a
  // digit). Not a number where the same digits are waiter's words: the start of a wait or of a
  // larger number (SHORT_AFTER), or its end (2-3, 1.2, 2:30, 1/2).
  word: "(?:(?<=%[0-9A-Fa-f]{2})|(?<![\\p{L}\\p{N}]))(?!(?<=\\p{N}[-–./:])\\p{N})",
  // As a word, a value that is the status the text's error answered with, but where waiter's words
  // put a status: after "answered ", "status " or "(", as in "(404 woocommerce_rest_…".
  status: "(?:(?<=%[0-9A-Fa-f]{2})|(?<![\\p{L}\\p{N}]))(?<!\\b(?:answered|status) |\\()(?!(?<=\\p{N}[-–./:])\\p{N})",
};

/**
 * What may not come after a value shorter than MAY_BE_A_WORD where SHORT_BEFORE finds it: for a
 * word, after its last digit, a wait's unit ("in 2 s", "30 ms") or the rest of a larger number
 * (2-3, 1.2, 2:30): a value that holds a dash, a dot or a colon itself (2024-17, 12.50) is one.
 */
const NO_WAIT_NOR_LARGER_NUMBER = "(?!(?<=\\p{N})(?: m?s\\b|[-–./:]\\p{N}))";
const SHORT_AFTER: Record<keyof typeof SHORT_BEFORE, string> = {
  carried: "",
  word: NO_WAIT_NOR_LARGER_NUMBER,
  status: NO_WAIT_NOR_LARGER_NUMBER,
};

/**
 * `text` with each of `secrets` shown as `shownAs` ([credential] unless told), as written, URL-encoded and form-encoded (a
 * key in a query, as URLSearchParams sends it: a space as +, ~ and ( ) escaped, and that form
 * percent-encoded again, as a URL quoting the request's writes it), in upper- or
 * lower-case hex, and in a JSON string, as PHP's json_encode writes it too (a / as \/, a letter
 * past ASCII as \u00e9): an answer may repeat the request that carried them, and what quotes it
 * reads its JSON, then cuts its words short, where what is left of a secret is no longer found.
 * One shorter than 8 characters (a password such as hunter2, admin or 1) may be an ordinary word or
 * number of the text: it is taken out only where a request carries it, as a value whole after = or
 * : (a query's key=, a pair's user:, a header's "X-Api-Key: " or "Authorization: Bearer ", JSON's
 * "key": "), either percent-encoded; a value that may be an ordinary word (a user's name) is no secret.
 * `short: "word"` takes a short one out wherever it stands as a word of its own (a value that is no
 * secret, kept out of the log), but a number where the same digits are a wait or part of a larger
 * number; `short: "status"`, one that is the text's error's status, but where a status stands too.
 */
export function withoutSecrets(
  text: string,
  secrets: readonly string[],
  shownAs = "[credential]",
  short: keyof typeof SHORT_BEFORE = "carried",
): string {
  let shown = text;
  // Percent-encoding's hex digits in either case (RFC 3986 2.1): a server may write %3a for %3A.
  const lower = (encoded: string) => encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  // The longest first: one that holds another is taken out whole, not left in part.
  for (const secret of secrets.filter(Boolean).sort((a, b) => b.length - a.length)) {
    const encoded = encodeURIComponent(secret);
    const form = new URLSearchParams([["", secret]]).toString().slice(1);
    const json = JSON.stringify(secret).slice(1, -1);
    const php = json
      .replaceAll("/", "\\/")
      .replace(/[\u0080-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`);
    // The query as sent, quoted percent-encoded (a login page's redirect_to): its %2B as %252B.
    const quoted = encodeURIComponent(form);
    for (const each of new Set([
      secret,
      encoded,
      lower(encoded),
      form,
      lower(form),
      quoted,
      lower(quoted),
      json,
      php,
    ])) {
      // One that holds a control character (AUTH PLAIN's NUL-separated pair) is no word either.
      if (secret.length >= MAY_BE_A_WORD || /\p{Cc}/u.test(secret)) shown = shown.replaceAll(each, shownAs);
      else {
        const pattern = each.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        shown = shown.replace(
          new RegExp(`${SHORT_BEFORE[short]}${pattern}(?![\\p{L}\\p{N}])${SHORT_AFTER[short]}`, "gu"),
          shownAs,
        );
      }
    }
  }
  return shown;
}

/**
 * Whether text looks like a credential: a known key prefix (whsec_, sk_live_, ghp_, a JWT...),
 * letters and digits mixed in a long run, a very long run without separators, or a URL that
 * carries a user or a query.
 */
export function credentialShaped(text: string): boolean {
  if (/(^|[^A-Za-z0-9])(whsec_|[spr]k_(live|test)_|gh[pousr]_|github_pat_|glpat-|xox[a-z]-|AKIA|ASIA|eyJ)/.test(text)) {
    return true;
  }
  if (/[A-Za-z0-9+/=-]{32,}/.test(text)) return true;
  // In any language's letters: a password written with diacritics is one all the same.
  if ((text.match(/[\p{L}\p{M}\p{N}]{16,}/gu) ?? []).some((run) => /\p{N}/u.test(run) && /\p{L}/u.test(run)))
    return true;
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@|^[a-z][a-z0-9+.-]*:\/\/[^?#\s]*\?/i.test(text);
}

/** What `noSuchName` calls a webhook source. */
export const SOURCE: [string, string] = ["webhook source", "sources"];

/**
 * What a name none has says, with the names there are, the one likely meant first: "No
 * automation is named "stripe_paid"; the automations are stripe-paid (the closest), tell."
 */
export function noSuchName([one, many]: [string, string], name: string, names: readonly string[]): string {
  const no = `No ${one} is named ${quote(name)}`;
  if (names.length === 1) return `${no}; the only ${one} is ${names[0]}.`;
  const meant = meantKey(name, names);
  const listed = meant ? [`${meant} (the closest)`, ...names.filter((n) => n !== meant)] : names;
  return `${no}; the ${many} are ${listed.join(", ") || "none"}.`;
}

/** Words as a sentence lists them: "a, b or c" (`last` "or"), "a and b"; "" for none. */
export function enumerated(words: readonly string[], last: "and" | "or"): string {
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} ${last} ${words.at(-1)}` : (words[0] ?? "");
}

/**
 * The key of `known` that `name` was probably meant to be: the same but for case, `_` and `-`
 * (loglevel, dry_run for logLevel, dryRun), or else one or two letters off (chatId for chatIds).
 */
export function meantKey(name: string, known: readonly string[]): string | undefined {
  return meantKeys(name, known)[0];
}

/**
 * The name of `known` (a toolset's) that `name` was probably meant to be: one near it, or the one a
 * longer name begins with, or nearly (currencies, notifications).
 */
export function meantName(name: string, known: readonly string[]): string | undefined {
  const begins = known.filter((each) => meantKey(plainKey(name).slice(0, each.length), [each]));
  return meantKey(name, known) ?? (begins.length === 1 ? begins[0] : undefined);
}

/**
 * Every key of `known` that `name` may have been meant to be: the fewest edits away, one in a
 * short name and two in a long one, since a short name is one edit away from many others.
 */
export function meantKeys(name: string, known: readonly string[]): string[] {
  const plain = plainKey(name);
  const most = plain.length >= 8 ? 2 : 1;
  // No fewer edits than the lengths differ by: a name far longer than any key (a megabyte's) is
  // never compared letter by letter.
  const distances = known.map((key) => {
    const candidate = plainKey(key);
    return Math.abs(candidate.length - plain.length) > most ? Number.POSITIVE_INFINITY : edits(candidate, plain);
  });
  const least = Math.min(...distances);
  return least > most ? [] : known.filter((_, i) => distances[i] === least);
}

/**
 * How many single-character edits make `a` into `b`, two neighbours swapped being one edit, as a
 * slip of the fingers makes it (`stirpe` for `stripe`): the optimal string alignment distance.
 */
function edits(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        next[j] = Math.min(next[j] ?? 0, (before[j - 2] ?? 0) + 1);
    }
    before = row;
    row = next;
  }
  return row[b.length] ?? 0;
}

/** A key or a variable's name without what a typo changes most: case, `_` and `-`. */
export function plainKey(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, "");
}
