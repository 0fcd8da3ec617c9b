import { expect, test } from "vitest";
import { startWaiter } from "./memory.js";
import { EVERY_TOOLSET, SERVED_BY_EVERY_TOOLSET, TOOL_COUNT } from "./reference.js";

/**
 * Every input schema, as tools/list publishes it with every toolset on, against the published
 * rules of the model providers clients pass it to. Each rule names where it is written.
 */

type Schema = Record<string, unknown>;
interface Rule {
  provider: string;
  /** The problems of one schema node; `root` for the inputSchema itself. */
  check(node: Schema, root: boolean): string[];
}

// OpenAI, Structured Outputs / strict function calling, "Supported schemas"
// (developers.openai.com/api/docs/guides/structured-outputs): every object closed, and only the
// keywords listed as supported (strings: pattern, format; numbers: minimum, maximum, exclusive
// bounds, multipleOf; arrays: minItems, maxItems; anyOf, enum, const, $ref, $defs, description).
const OPENAI_KEYWORDS = new Set([
  ...["type", "description", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf"],
  ...["$ref", "$defs", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
  ...["multipleOf", "minItems", "maxItems"],
]);
const openai: Rule = {
  provider: "OpenAI strict",
  check: (node) => [
    ...Object.keys(node)
      .filter((key) => !OPENAI_KEYWORDS.has(key))
      .map((key) => `keyword ${key} is not supported`),
    ...(node.type === "object" && node.additionalProperties !== false
      ? ["an object without additionalProperties: false"]
      : []),
  ],
};

// Gemini, function declarations (ai.google.dev/api/caching#Schema): an OpenAPI 3.0 subset.
const gemini: Rule = {
  provider: "Gemini",
  check: (node) => [
    ...("$schema" in node ? ["$schema"] : []),
    ...["exclusiveMinimum", "exclusiveMaximum"]
      .filter((key) => key in node)
      .map((key) => `${key} (no exclusive bounds)`),
    ...(node.type === "string" && node.format !== undefined && !["enum", "date-time"].includes(node.format as string)
      ? [`string format ${node.format}`]
      : []),
    ...(node.type === "object" && Object.keys((node.properties as object | undefined) ?? {}).length === 0
      ? ["an object with empty properties"]
      : []),
  ],
};

// Anthropic, tool use (docs.claude.com, "input_schema"): a JSON Schema object at the root,
// without a combinator there.
const anthropic: Rule = {
  provider: "Anthropic",
  check: (node, root) =>
    root
      ? [
          ...(node.type === "object" ? [] : ["a root that is not type object"]),
          ...["anyOf", "oneOf", "allOf"].filter((key) => key in node).map((key) => `${key} at the root`),
        ]
      : [],
};

/** Every schema node under `schema`, with where it is. */
function nodes(schema: Schema, path = "", root = true): { node: Schema; path: string; root: boolean }[] {
  const found = [{ node: schema, path: path || "(root)", root }];
  for (const [name, property] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
    found.push(...nodes(property, `${path}.${name}`, false));
  }
  if (schema.items && typeof schema.items === "object")
    found.push(...nodes(schema.items as Schema, `${path}[]`, false));
  for (const [i, branch] of ((schema.anyOf as Schema[] | undefined) ?? []).entries()) {
    found.push(...nodes(branch, `${path}|${i}`, false));
  }
  return found;
}

test("every input schema keeps to OpenAI's strict subset, Gemini's declarations and Anthropic's input_schema", async () => {
  const waiter = await startWaiter(EVERY_TOOLSET);
  try {
    const { tools } = await waiter.client.listTools();
    expect(tools.length, SERVED_BY_EVERY_TOOLSET).toBe(TOOL_COUNT);
    const problems: string[] = [];
    let checked = 0;
    for (const tool of tools) {
      for (const { node, path, root } of nodes(tool.inputSchema as Schema)) {
        checked += 1;
        for (const rule of [openai, gemini, anthropic]) {
          for (const problem of rule.check(node, root))
            problems.push(`${rule.provider}: ${tool.name} ${path}: ${problem}`);
        }
      }
    }
    console.log(
      `${tools.length} input schemas, ${checked} schema nodes, checked against OpenAI strict, Gemini and Anthropic: ${problems.length} problems`,
    );
    expect(problems).toEqual([]);
  } finally {
    await waiter.close();
  }
});

test("a rule a keyword no longer shows is still the tool's, and its refusal says it", async () => {
  // Refused before any upstream is asked.
  const waiter = await startWaiter(EVERY_TOOLSET);
  try {
    const { tools } = await waiter.client.listTools();
    const convert = tools.find((t) => t.name === "currency_convert");
    const amount = (convert?.inputSchema.properties as Record<string, Schema> | undefined)?.amount;
    expect(amount).toBeDefined();
    expect(amount).not.toHaveProperty("exclusiveMinimum");
    const refused = await waiter.call("currency_convert", { amount: 0, from: "EUR", to: "CZK" });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/amount/);
    // An email's format goes, and the pattern zod spelt it out in with it; the tool still checks it.
    const customers = tools.find((t) => t.name === "eshop_customers_list");
    const email = (customers?.inputSchema.properties as Record<string, Schema> | undefined)?.email;
    expect(email).toEqual({ type: "string", description: expect.any(String) });
    const notEmail = await waiter.call("eshop_customers_list", { email: "jana at example.cz" });
    expect(notEmail.isError).toBe(true);
    expect(JSON.stringify(notEmail.content)).toMatch(/email/);
  } finally {
    await waiter.close();
  }
});

test("no output schema names its keys' type, a keyword Gemini refuses, for clients that pass output schemas on", async () => {
  const waiter = await startWaiter(EVERY_TOOLSET);
  try {
    const { tools } = await waiter.client.listTools();
    const named = tools.filter((tool) => JSON.stringify(tool.outputSchema ?? {}).includes('"propertyNames"'));
    expect(named.map((tool) => tool.name)).toEqual([]);
    // A record is still an object a program checks a result against.
    const wait = tools.find((tool) => tool.name === "events_wait");
    expect((wait?.outputSchema?.properties as Record<string, Schema> | undefined)?.event).toMatchObject({
      type: "object",
    });
  } finally {
    await waiter.close();
  }
});
