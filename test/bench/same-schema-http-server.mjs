// The Streamable HTTP baseline: same-schema-server.mjs's server, one per session as the SDK's
// example does it. PORT names the port; RESUMABLE=1 gives each session the SDK's example event
// store, so that streams can be resumed with Last-Event-ID, as waiter's can.
import { randomUUID } from "node:crypto";
import { InMemoryEventStore } from "@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import express from "express";
import { sameSchemaServer } from "./same-schema-server.mjs";

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
      eventStore: process.env.RESUMABLE ? new InMemoryEventStore() : undefined,
      onsessioninitialized: (sid) => sessions.set(sid, transport),
    });
    const server = sameSchemaServer();
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
