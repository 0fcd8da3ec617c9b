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
  return withoutInvisible(decodeHTML(html.replace(/<\/?[a-z][^<>]*>/gi, "")));
}
