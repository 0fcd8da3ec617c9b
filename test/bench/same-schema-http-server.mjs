// The Streamable HTTP baseline: currency_convert's contract on bare SDK servers, one McpServer per
// session as the SDK's example does it, answering a fixed result at once. PORT names the port.
import { randomUUID } from "node:crypto";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import express from "express";
import { convertTool } from "../../dist/tools/currency/convert.js";

const tool = convertTool({ pick: () => undefined, fixingFor: async () => undefined });
const sessions = new Map();
const app = express();
app.use(express.json({ limit: "4mb" }));
const handle = async (req, res) => {
  const id = req.headers["mcp-session-id"];
  let transport = id ? sessions.get(id) : undefined;
  if (!transport) {
    if (id || !isInitializeRequest(req.body)) return res.status(400).end();
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sid) => sessions.set(sid, transport),
    });
    const server = new McpServer({ name: "same-schema-http", version: "0.0.0" });
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: tool.input, outputSchema: tool.output },
      async ({ amount, from, to }) => {
        const result = { amount, from, to, rate: 1.0813, result: 108.13, date: "2024-03-01", source: "ecb" };
        return { content: [{ type: "text", text: tool.render(result) }], structuredContent: result };
      },
    );
    await server.connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
};
app.post("/mcp", handle);
app.get("/mcp", handle);
app.delete("/mcp", handle);
const server = app.listen(Number(process.env.PORT), "127.0.0.1", () =>
  process.stderr.write(`serving MCP on http://127.0.0.1:${server.address().port}/mcp\n`),
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
