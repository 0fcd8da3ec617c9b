/**
 * Input schemas as every client's model provider takes them. zod writes JSON Schema that is
 * valid but says more than some providers accept: OpenAI's strict function calling wants every
 * object closed and knows only some keywords, Gemini's function declarations take an OpenAPI
 * subset (no `$schema`, no exclusive bounds, string formats only `enum` and `date-time`).
 * A keyword dropped here still holds: the tool checks its arguments against its zod schema,
 * and a refusal names the rule.
 */

type Schema = Record<string, unknown>;

/** Keywords kept: those OpenAI's strict mode lists as supported, and Gemini takes. */
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

/** zod's bounds of a safe integer: no rule a model needs to read. */
const SAFE = Number.MAX_SAFE_INTEGER;

export function portableSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT.has(key)) continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, property]) => [name, portableSchema(property)]),
      );
    } else if (key === "items" && typeof value === "object" && value !== null) {
      out.items = portableSchema(value as Schema);
    } else if (key === "anyOf") {
      out.anyOf = (value as Schema[]).map(portableSchema);
    } else if (key === "format" && value !== "date-time") {
      // Gemini takes no other string format; the tool still checks it.
    } else if ((key === "minimum" || key === "maximum") && Math.abs(value as number) === SAFE) {
      // The safe-integer bound zod adds to every integer.
    } else {
      out[key] = value;
    }
  }
  // An integer above n is one of at least n + 1: the same rule, said in a keyword every provider takes.
  if (schema.type === "integer" && typeof schema.exclusiveMinimum === "number") {
    out.minimum = schema.exclusiveMinimum + 1;
  }
  if (schema.type === "integer" && typeof schema.exclusiveMaximum === "number") {
    out.maximum = schema.exclusiveMaximum - 1;
  }
  if (schema.type === "object") out.additionalProperties = false;
  return out;
}

/**
 * An output schema as published: what a program checks a result against and a model may read,
 * without what says nothing to either (`$schema`, zod's safe-integer bounds). Objects stay open
 * here: a client checks a result, it does not generate one.
 */
export function publishedOutputSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "additionalProperties") continue;
    if ((key === "minimum" || key === "maximum") && Math.abs(value as number) === SAFE) continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, property]) => [
          name,
          publishedOutputSchema(property),
        ]),
      );
    } else if (key === "items" && typeof value === "object" && value !== null) {
      out.items = publishedOutputSchema(value as Schema);
    } else if (key === "anyOf") {
      out.anyOf = (value as Schema[]).map(publishedOutputSchema);
    } else {
      out[key] = value;
    }
  }
  return out;
}
