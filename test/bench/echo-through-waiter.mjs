// waiter's own server (createServer: its tool adapter, deadline, logging) serving the SDK echo server's
// echo tool: what the core costs per call, apart from any particular tool's schemas and work.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { loadConfig } from "../../dist/src/config.js";
import { Log } from "../../dist/src/log.js";
import { createServer } from "../../dist/src/server.js";

const echo = {
  name: "echo",
  title: "Echo",
  description: "Echoes its input.",
  input: { text: z.string() },
  output: { text: z.string() },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: async ({ text }) => ({ text }),
  render: ({ text }) => text,
};
const { server } = createServer([echo], loadConfig({ env: {} }, []), new Log("error"));
await server.connect(new StdioServerTransport());
