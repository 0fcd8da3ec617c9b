/**
 * The schemas tools/list publishes. zod writes JSON Schema that is valid but says more than some
 * model providers accept: OpenAI's strict function calling wants every object closed and knows
 * only some keywords, Gemini's function declarations take an OpenAPI subset (no `$schema`, no
 * exclusive bounds, string formats only `enum` and `date-time`). A keyword dropped here still
 * holds: the tool checks its arguments against its zod schema, and a refusal names the rule.
 */

type Schema = Record<string, unknown>;

/**
 * Input keywords kept: those OpenAI's strict mode lists as supported, and Gemini takes in its
 * JSON Schema declarations (`parametersJsonSchema`, as Gemini CLI sends them). Gemini's older
 * OpenAPI `parameters` refuses `additionalProperties`, which strict mode requires: a client that
 * fills `parameters` must drop it, as such clients do.
 */
const KEPT = new Set([
  "type",
  "description",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "const",
  "anyOf",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "minItems",
  "maxItems",
]);

/** zod's bound on every integer, a safe integer's: no rule a model or program needs to read. */
const safeBound = (key: string, value: unknown) =>
  (key === "minimum" || key === "maximum") && Math.abs(value as number) === Number.MAX_SAFE_INTEGER;

/** `schema` with `node` applied to it and to every schema under its properties, items and anyOf. */
function everyNode(schema: Schema, node: (schema: Schema) => Schema): Schema {
  const out = node(schema);
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, Schema>).map(([name, sub]) => [name, everyNode(sub, node)]),
    );
  }
  if (out.items && typeof out.items === "object") out.items = everyNode(out.items as Schema, node);
  if (out.anyOf) out.anyOf = (out.anyOf as Schema[]).map((sub) => everyNode(sub, node));
  return out;
}

/** An input schema every model provider takes. */
export function portableSchema(schema: Schema): Schema {
  return everyNode(schema, (node) => {
    const dropped = node.format !== undefined && node.format !== "date-time";
    const out = Object.fromEntries(
      Object.entries(node).filter(
        ([key, value]) =>
          KEPT.has(key) &&
          !safeBound(key, value) &&
          // Gemini takes no other string format, and the pattern zod spells a format out in goes
          // with it (an email's is 110 characters of regex); the tool still checks it.
          !(dropped && (key === "format" || key === "pattern")),
      ),
    );
    // An integer above n is one of at least n + 1: the same rule, in a keyword every provider takes.
    if (node.type === "integer" && typeof node.exclusiveMinimum === "number") out.minimum = node.exclusiveMinimum + 1;
    if (node.type === "integer" && typeof node.exclusiveMaximum === "number") out.maximum = node.exclusiveMaximum - 1;
    if (node.type === "object") out.additionalProperties = false;
    return out;
  });
}

/**
 * An output schema as published: what a program checks a result against and a model may read,
 * without what says nothing to either (`$schema`, zod's safe-integer bounds, a record's keys
 * being strings, as every JSON object's are, in a keyword Gemini refuses). Objects stay open
 * here: a client checks a result, it does not generate one.
 */
export function publishedOutputSchema(schema: Schema): Schema {
  const stringKeys = (key: string, value: unknown) =>
    key === "propertyNames" && JSON.stringify(value) === JSON.stringify({ type: "string" });
  return everyNode(schema, (node) =>
    Object.fromEntries(
      Object.entries(node).filter(
        ([key, value]) =>
          key !== "$schema" && key !== "additionalProperties" && !safeBound(key, value) && !stringKeys(key, value),
      ),
    ),
  );
}
