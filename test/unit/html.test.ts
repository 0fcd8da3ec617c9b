import { expect, test } from "vitest";
import { htmlAsText } from "../../src/html.js";

test("a line break in a name reads as the space between its words, not as none", () => {
  // WordPress keeps a title's <br> (a long product name broken on the shop's pages).
  expect(htmlAsText("Hoodie<br>Blue")).toBe("Hoodie Blue");
  expect(htmlAsText("Hoodie<BR />Blue &ndash; <b>XL</b>")).toBe("Hoodie Blue – XL");
});
