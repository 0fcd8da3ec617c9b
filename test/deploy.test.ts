import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { freePort } from "./fakes/http.js";
import { killStarted, SERVING, startNode } from "./spawn.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
afterAll(killStarted);

interface Instruction {
  name: string;
  args: string;
}

/** The Dockerfile's instructions by stage, continuation lines joined and comments dropped. */
function dockerStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, name = "", args = ""] = match;
    if (name === "FROM") stages.push([]);
    stages.at(-1)?.push({ name, args: args.trim() });
  }
  return stages;
}

const argsOf = (stage: Instruction[], name: string) => stage.filter((i) => i.name === name).map((i) => i.args);
/** `KEY=value` pairs of ENV instructions (the form the Dockerfile uses). */
const envOf = (stage: Instruction[]) =>
  Object.fromEntries(
    argsOf(stage, "ENV").flatMap((args) => [...args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])),
  );

test("the Dockerfile builds in one stage, runs as a user in another, keeps the data on a volume", () => {
  const stages = dockerStages(read("Dockerfile"));
  expect(stages.length).toBe(2);
  const [build = [], run = []] = stages;
  expect(argsOf(build, "FROM")[0]).toMatch(/^node:20\S* AS build$/);
  // What the build copies exists, and .dockerignore does not keep it out of the context.
  const ignored = read(".dockerignore")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"));
  const copied = argsOf(build, "COPY").flatMap((args) => args.split(/\s+/).slice(0, -1));
  for (const path of copied) {
    expect(existsSync(join(root, path)), path).toBe(true);
    expect(ignored, path).not.toContain(path);
  }
  const built = JSON.parse(read("tsconfig.build.json")) as { include: string[] };
  for (const dir of built.include) expect(copied, `the build compiles ${dir}/`).toContain(dir);

  expect(argsOf(run, "USER")).toEqual(["node"]);
  const env = envOf(run);
  expect(argsOf(run, "VOLUME")).toEqual([env.WAITER_DATA_DIR]);
  const port = /:(\d+)$/.exec(env.WAITER_LISTEN ?? "")?.[1];
  expect(argsOf(run, "EXPOSE")).toEqual([port]);
  expect(argsOf(run, "HEALTHCHECK")[0]).toContain(`http://127.0.0.1:${port}/healthz`);
  for (const from of argsOf(run, "COPY").filter((args) => args.startsWith("--from=build"))) {
    expect(from).toMatch(/^--from=build \/waiter\/(package\.json|node_modules|dist) /);
  }
});

test("the image's command serves with its environment, refuses to start there without auth, and its healthcheck passes", async () => {
  const run = dockerStages(read("Dockerfile"))[1] ?? [];
  const json = (name: string) => JSON.parse(argsOf(run, name)[0] ?? "[]") as string[];
  const [node, ...command] = [...json("ENTRYPOINT"), ...json("CMD")];
  expect(node).toBe("node");
  const healthcheck = JSON.parse(/CMD (\[.*\])$/.exec(argsOf(run, "HEALTHCHECK")[0] ?? "")?.[1] ?? "[]") as string[];
  expect(healthcheck[0]).toBe("node");

  // The image's environment, on a free port and a fresh data directory; the image's WORKDIR is
  // the package root, as the tests' working directory is.
  const port = await freePort();
  const env = {
    ...envOf(run),
    WAITER_LISTEN: `0.0.0.0:${port}`,
    WAITER_DATA_DIR: mkdtempSync(join(tmpdir(), "waiter-image-")),
  };
  const refused = await promisify(execFile)(process.execPath, command, { env }).catch((e) => e);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/WAITER_HTTP_TOKENS/);

  await startNode(
    command,
    {
      ...env,
      WAITER_HTTP_TOKENS: JSON.stringify([{ name: "ops", secretEnv: "OPS_TOKEN", scope: "write" }]),
      OPS_TOKEN: "0123456789abcdef".repeat(4),
    },
    SERVING,
  );
  const probe = healthcheck.slice(1).map((arg) => arg.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
  const healthy = await promisify(execFile)(process.execPath, probe).then(
    () => 0,
    (e) => e.code,
  );
  expect(healthy).toBe(0);
});
