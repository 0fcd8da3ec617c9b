// Beside the baseline: a bare SDK server with the input and output schemas of every waiter tool
// that needs no event store (the contracts waiter serves with its toolsets on), each answering
// currency_convert's constant. What it costs over the one-tool baseline is what serving many zod
// schemas costs any SDK server: zod's shared parsing code sees many shapes and runs slower.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { loadConfig } from "../../dist/src/config.js";
import { HttpClient } from "../../dist/src/http/client.js";
import { Log } from "../../dist/src/log.js";
import { enabledTools } from "../../dist/src/server.js";
import { toolsets } from "../../dist/src/toolsets.js";
import { registerConstant } from "./same-schema-server.mjs";

const env = {
  WAITER_DATA_DIR: "/nonexistent",
  WAITER_CONTACT: "bench@eshop-waiter.cz",
  WAITER_WOO_URL: "https://shop.example",
  WAITER_WOO_KEY: "ck_bench",
  WAITER_WOO_SECRET: "cs_bench",
  WAITER_NOTIFY_CHANNELS: JSON.stringify({ team: { type: "telegram", botTokenEnv: "BOT_TOKEN", chatIds: ["1"] } }),
  BOT_TOKEN: "7000000004:AABenchBenchBenchBenchBenchBenchBen",
};
const log = new Log("error", () => {});
const http = new HttpClient({ userAgent: "bench", maxResponseBytes: 1024 * 1024 });
const { tools } = enabledTools({ config: loadConfig({ env }, toolsets()), toolsets: toolsets(), http, log });

const server = new McpServer({ name: "every-schema", version: "0.0.0" });
for (const tool of tools) registerConstant(server, tool);
await server.connect(new StdioServerTransport());
