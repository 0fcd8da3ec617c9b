import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { madeOnce, scratchDir } from "../postgres.js";

let root: string;
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A maker of a small data directory, counting how often it is asked. */
function maker() {
  const made = { times: 0 };
  const make = (data: string) => {
    made.times += 1;
    mkdirSync(join(data, "base", "1"), { recursive: true });
    mkdirSync(join(data, "pg_notify"));
    writeFileSync(join(data, "PG_VERSION"), "15\n");
    writeFileSync(join(data, "base", "1", "1259"), "x".repeat(8192));
  };
  return { made, make };
}

test("the template is made once, then found; one left incomplete is made again rather than copied", () => {
  root = mkdtempSync(join(tmpdir(), "waiter-template-test-"));
  const at = join(root, "template");
  const { made, make } = maker();
  const data = madeOnce(at, make);
  expect(data).toBe(join(at, "data"));
  expect(madeOnce(at, make)).toBe(data);
  expect(made.times).toBe(1);

  // Half removed, each way a removal stopped midway leaves it: a file gone, one cut short, a directory gone.
  for (const damage of [
    () => rmSync(join(data, "base", "1", "1259")),
    () => writeFileSync(join(data, "base", "1", "1259"), "x"),
    () => rmSync(join(data, "pg_notify"), { recursive: true }),
    () => rmSync(join(at, "files")),
  ]) {
    damage();
    expect(madeOnce(at, make)).toBe(data);
    expect(readFileSync(join(data, "base", "1", "1259"), "utf8")).toHaveLength(8192);
    expect(readdirSync(data).sort()).toEqual(["PG_VERSION", "base", "pg_notify"]);
  }
  expect(made.times).toBe(5);
  // Nothing left beside it: neither the one set aside nor the makings.
  expect(readdirSync(root)).toEqual(["template"]);
});

test("a maker stopped midway leaves no template: the next makes it whole", () => {
  root = mkdtempSync(join(tmpdir(), "waiter-template-test-"));
  const at = join(root, "template");
  expect(() =>
    madeOnce(at, (data) => {
      mkdirSync(data);
      writeFileSync(join(data, "PG_VERSION"), "15\n");
      throw new Error("initdb was killed");
    }),
  ).toThrow("initdb was killed");
  expect(readdirSync(root)).toEqual([]);
  const { made, make } = maker();
  madeOnce(at, make);
  expect(made.times).toBe(1);
});

test("a cluster's directory goes to the system's temporary directory where /dev/shm is missing or takes none", () => {
  root = mkdtempSync(join(tmpdir(), "waiter-scratch-test-"));
  // As root writes anywhere, a file where the directory should be stands for one mounted read-only.
  const taken = join(root, "shm");
  writeFileSync(taken, "");
  for (const shm of [join(root, "none"), taken]) {
    const dir = scratchDir(shm);
    try {
      expect(dirname(dir)).toBe(tmpdir());
      expect(statSync(dir).isDirectory()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const shm = join(root, "room");
  mkdirSync(shm);
  expect(dirname(scratchDir(shm))).toBe(shm);
});
