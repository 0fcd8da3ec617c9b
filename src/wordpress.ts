/** WordPress's text sanitizing, for comparing text as a WordPress site saved and reads it. */

/**
 * WordPress's sanitize_text_field on one line of text: what reads as a tag goes (PHP's
 * strip_tags), a lone `<` is escaped, runs of blanks become one space, the ends are trimmed and
 * each `%` with two hex digits goes.
 */
export function wpSanitizeTextField(text: string): string {
  let filtered = text;
  if (filtered.includes("<")) {
    // wp_pre_kses_less_than: a `<` with no `>` before the next `<` is no tag, but escaped (as
    // esc_html does; a webhook's signing decodes it again).
    filtered = filtered.replace(/<[^>]*?((?=<)|>|$)/g, (segment) =>
      segment.includes(">") ? segment : segment.replace(/&/g, "&amp;").replace(/</g, "&lt;"),
    );
    filtered = filtered.replace(/<(script|style)[^>]*?>.*?<\/\1>/gis, "");
    filtered = phpTrim(phpStripTags(filtered));
  }
  filtered = phpTrim(filtered.replace(/[\r\n\t ]+/g, " "));
  let found = false;
  for (let octet = /%[a-f0-9]{2}/i.exec(filtered); octet; octet = /%[a-f0-9]{2}/i.exec(filtered)) {
    filtered = filtered.split(octet[0]).join("");
    found = true;
  }
  return found ? phpTrim(filtered.replace(/ +/g, " ")) : filtered;
}

/** PHP's trim, but for NUL, which neither a secret nor a SKU holds. */
function phpTrim(text: string): string {
  return text.replace(/^[ \t\n\r\v]+|[ \t\n\r\v]+$/g, "");
}

/**
 * PHP's strip_tags($text) with no tag allowed: its state machine, in PHP 8's php_strip_tags_ex, but
 * for NUL, which it drops and no secret from the environment holds.
 */
function phpStripTags(text: string): string {
  const isSpace = (c: string | undefined) => c !== undefined && /^[ \t\n\v\f\r]$/.test(c);
  let out = "";
  let state = 0;
  let depth = 0;
  let inQuote = "";
  let last = "";
  let brackets = 0;
  let xml = false;
  const at = (i: number) => text[i] ?? "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (state === 0) {
      if (c === "<") {
        if (inQuote) continue;
        if (isSpace(text[i + 1])) out += c;
        else {
          last = "<";
          state = 1;
        }
      } else if (c === ">") {
        if (depth) depth--;
        else if (!inQuote) out += c;
      } else out += c;
    } else if (state === 1) {
      if (c === "<") {
        if (!inQuote && !isSpace(text[i + 1])) depth++;
      } else if (c === ">") {
        if (depth) depth--;
        else if (!inQuote) {
          last = ">";
          if (xml && at(i - 1) === "-") continue;
          inQuote = "";
          state = 0;
          xml = false;
        }
      } else if (c === '"' || c === "'") {
        if (i !== 0 && (!inQuote || c === inQuote)) inQuote = inQuote ? "" : c;
      } else if (c === "!" && at(i - 1) === "<") {
        state = 3;
        last = c;
      } else if (c === "?" && at(i - 1) === "<") {
        brackets = 0;
        state = 2;
      }
    } else if (state === 2) {
      if (c === "(" || c === ")") {
        if (last !== '"' && last !== "'") {
          last = c;
          brackets += c === "(" ? 1 : -1;
        }
      } else if (c === ">") {
        if (depth) depth--;
        else if (!inQuote && !brackets && last !== '"' && at(i - 1) === "?") {
          inQuote = "";
          state = 0;
        }
      } else if (c === '"' || c === "'") {
        if (i >= 1 && at(i - 1) !== "\\") {
          if (last === c) last = "";
          else if (last !== "\\") last = c;
          if (!inQuote || c === inQuote) inQuote = inQuote ? "" : c;
        }
      } else if ((c === "l" || c === "L") && i > 4 && /^<\?xm$/i.test(text.slice(i - 4, i))) {
        state = 1;
        xml = true;
      }
    } else if (state === 3) {
      if (c === ">") {
        if (depth) depth--;
        else if (!inQuote) {
          inQuote = "";
          state = 0;
        }
      } else if (c === '"' || c === "'") {
        if (i !== 0 && at(i - 1) !== "\\" && (!inQuote || c === inQuote)) inQuote = inQuote ? "" : c;
      } else if (c === "-" && text.slice(i - 2, i) === "!-") {
        state = 4;
      } else if ((c === "e" || c === "E") && i > 6 && /^doctyp$/i.test(text.slice(i - 6, i))) {
        state = 1;
      }
    } else if (c === ">" && !inQuote && text.slice(i - 2, i) === "--") {
      state = 0;
    }
  }
  return out;
}
