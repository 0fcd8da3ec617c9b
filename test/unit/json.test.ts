import { describe, expect, test } from "vitest";
import { nestedDeeperThan } from "../../src/json.js";

describe("nestedDeeperThan", () => {
  const deeper = (text: string, limit: number) => nestedDeeperThan(Buffer.from(text), limit);

  test("counts arrays and objects alike, to the limit and past it", () => {
    expect(deeper('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(deeper('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(deeper("[[],[],[[]]]", 3)).toBe(false);
    expect(deeper("[[],[],[[]]]", 2)).toBe(true);
    expect(deeper(`${"[".repeat(65)}${"]".repeat(65)}`, 64)).toBe(true);
    expect(deeper("", 0)).toBe(false);
    expect(deeper("17", 0)).toBe(false);
  });

  test("skips the brackets in strings, past escaped quotes and backslashes", () => {
    // The string is \"[[ : its quote is escaped, so the brackets are in it.
    expect(deeper(String.raw`["\\\"[[", "[[[{{{"]`, 1)).toBe(false);
    // A backslash escaped: the quote after it ends the string, and the brackets count.
    expect(deeper(String.raw`["\\", [[1]]]`, 2)).toBe(true);
    expect(deeper(String.raw`{"k\"[":"\u005b[", "v": {"w": []}}`, 3)).toBe(false);
    expect(deeper(String.raw`{"k\"[":"\u005b[", "v": {"w": []}}`, 2)).toBe(true);
    // A string never closed holds the rest.
    expect(deeper('["[[[[', 1)).toBe(false);
  });

  test("reads UTF-8 beyond ASCII as text", () => {
    expect(deeper('["žluťoučký [ kůň 🐎 {", {"ø": ["€"]}]', 3)).toBe(false);
    expect(deeper('["žluťoučký [ kůň 🐎 {", {"ø": ["€"]}]', 2)).toBe(true);
  });
});
