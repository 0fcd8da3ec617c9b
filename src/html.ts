import { decodeHTML, decodeHTMLStrict } from "entities";
import { withoutInvisible } from "./shown.js";

/**
 * Text a sender wrote as HTML, as its pages show it. WooCommerce gives product and item names as
 * WordPress keeps titles, HTML: "Tom &amp; Jerry", "Hoodie
 * &ndash; Blue", a tag a shop put in. Tags are left out before entities are decoded, so
 * `&lt;b&gt;` stays as written; and the invisible characters entities can write in plain ASCII
 * (`&#xE0049;`, `&ZeroWidthSpace;`) after, as a page shows nothing of them and a model would read them.
 * With `strict`, an entity is one only with its ";", as a sender that shows text through a filter
 * such as WordPress's wp_kses() takes it: "Good&times Bar" stays so, where a browser reads "Good× Bar".
 */
export function htmlAsText(html: string, { strict = false }: { strict?: boolean } = {}): string {
  // A line break (a long name broken on the shop's pages) parts two words: left out, it would run them together.
  const text = html.replace(/<br\s*\/?>/gi, " ").replace(/<\/?[a-z][^<>]*>/gi, "");
  return strict ? unescaped(text) : withoutInvisible(decodeHTML(text));
}

/**
 * Text a sender escaped as it saved it (WordPress's esc_html(), sanitize_text_field()), as typed:
 * its entities decoded, but those of invisible characters. Only an entity closed by its ";" is one,
 * as wp_kses() and esc_html() show text: an "&" typed before letters ("Good&times Bar") stays so.
 */
export function unescaped(text: string): string {
  return withoutInvisible(decodeHTMLStrict(text));
}
