// The floor the SDK sets for currency_convert: a minimal SDK server like the baseline, serving a
// tool with currency_convert's own input and output schemas that answers a fixed result at
// once. What it costs over the echo tool is the SDK's work on the larger arguments and result.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { convertTool } from "../../dist/tools/currency/convert.js";

const tool = convertTool({ pick: () => undefined, fixingFor: async () => undefined });
const server = new McpServer({ name: "same-schema", version: "0.0.0" });
server.registerTool(
  tool.name,
  { description: tool.description, inputSchema: tool.input, outputSchema: tool.output },
  async ({ amount, from, to }) => {
    const result = { amount, from, to, rate: 1.0813, result: 108.13, date: "2024-03-01", source: "ecb" };
    return { content: [{ type: "text", text: tool.render(result) }], structuredContent: result };
  },
);
await server.connect(new StdioServerTransport());
