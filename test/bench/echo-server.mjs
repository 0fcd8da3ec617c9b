// The smallest MCP server the SDK makes, with one echo tool, served over stdio: the cold-start baseline.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "echo", version: "0.0.0" });
server.registerTool(
  "echo",
  {
    description: "Echoes its input.",
    inputSchema: { text: z.string() },
    outputSchema: { text: z.string() },
  },
  async ({ text }) => ({ content: [{ type: "text", text }], structuredContent: { text } }),
);
await server.connect(new StdioServerTransport());
