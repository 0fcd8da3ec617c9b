// The throughput baseline: currency_convert's contract on a bare SDK server, McpServer.registerTool
// with the tool's own input and output schemas, answering a fixed result at once. What it costs
// over the echo tool is the SDK's work on the larger arguments and result. Run, it serves over
// stdio; same-schema-http-server.mjs serves the same server over Streamable HTTP.
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { convertTool } from "../../dist/tools/currency/convert.js";

const tool = convertTool({ pick: () => undefined, fixingFor: async () => undefined });

/** Registers `registered`'s contract on `server`, answering currency_convert's constant. */
export function registerConstant(server, registered) {
  server.registerTool(
    registered.name,
    // Closed, as waiter's are: an argument the tool does not take is refused.
    {
      description: registered.description,
      inputSchema: z.strictObject(registered.input),
      outputSchema: registered.output,
    },
    async ({ amount, from, to }) => {
      const result = { amount, from, to, rate: 1.0813, result: 108.13, date: "2024-03-01", source: "ecb" };
      return { content: [{ type: "text", text: tool.render(result) }], structuredContent: result };
    },
  );
}

/** A bare SDK server with currency_convert's contract. */
export function sameSchemaServer() {
  const server = new McpServer({ name: "same-schema", version: "0.0.0" });
  registerConstant(server, tool);
  return server;
}

if (fileURLToPath(import.meta.url) === process.argv[1]) await sameSchemaServer().connect(new StdioServerTransport());
