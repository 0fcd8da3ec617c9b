import { decodeHTML } from "entities";
import { withoutInvisible } from "./shown.js";

/**
 * Text a sender wrote as HTML, as its pages show it. WooCommerce gives product, item, fee,
 * shipping, coupon and tax names as WordPress keeps titles, HTML: "Tom &amp; Jerry", "Hoodie
 * &ndash; Blue", a tag a shop put in. Tags are left out before entities are decoded, so
 * `&lt;b&gt;` stays as written; and the invisible characters entities can write in plain ASCII
 * (`&#xE0049;`, `&ZeroWidthSpace;`) after, as a page shows nothing of them and a model would read them.
 */
export function htmlAsText(html: string): string {
  // A line break (a long name broken on the shop's pages) parts two words: left out, it would run them together.
  return withoutInvisible(decodeHTML(html.replace(/<br\s*\/?>/gi, " ").replace(/<\/?[a-z][^<>]*>/gi, "")));
}
