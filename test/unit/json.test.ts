import { describe, expect, test } from "vitest";
import { pastBound } from "../../src/json.js";

describe("pastBound", () => {
  const deeper = (text: string, depth: number) => pastBound(Buffer.from(text), { depth }) === "depth";

  test("counts arrays and objects alike, to the limit and past it", () => {
    expect(deeper('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(deeper('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(deeper("[[],[],[[]]]", 3)).toBe(false);
    expect(deeper("[[],[],[[]]]", 2)).toBe(true);
    expect(deeper(`${"[".repeat(65)}${"]".repeat(65)}`, 64)).toBe(true);
    expect(deeper("", 0)).toBe(false);
    expect(deeper("17", 0)).toBe(false);
  });

  test("counts the arrays, objects and strings it holds, keys too, to their bound and past it", () => {
    const many = `[${"[],".repeat(9)}{"a":[]}]`;
    expect(pastBound(Buffer.from(many), { depth: 3, values: 13 })).toBeUndefined();
    expect(pastBound(Buffer.from(many), { depth: 3, values: 12 })).toBe("values");
    // Brackets and escaped quotes in a string are the string's: one value each.
    expect(pastBound(Buffer.from(String.raw`["[]{}", "\"[\\", {}]`), { depth: 2, values: 4 })).toBeUndefined();
    expect(pastBound(Buffer.from(String.raw`["[]{}", "\"[\\", {}]`), { depth: 2, values: 3 })).toBe("values");
  });

  test("counts numbers, true, false and null as values too: JSON.parse takes as long over them", () => {
    const literals = "[-0, 1.5e-7, 10, true, false, null, 2E+3]";
    expect(pastBound(Buffer.from(literals), { depth: 1, values: 8 })).toBeUndefined();
    expect(pastBound(Buffer.from(literals), { depth: 1, values: 7 })).toBe("values");
    expect(pastBound(Buffer.from(`[${"-0,".repeat(10_000)}0]`), { depth: 64, values: 10_000 })).toBe("values");
    // In a string, they are the string's.
    expect(pastBound(Buffer.from('["true 12 null", 3]'), { depth: 1, values: 3 })).toBeUndefined();
    expect(pastBound(Buffer.from("17"), { depth: 0, values: 1 })).toBeUndefined();
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
