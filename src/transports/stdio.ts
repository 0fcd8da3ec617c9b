import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Log } from "../log.js";

/**
 * Serves MCP on stdin/stdout until the client closes stdin or a signal arrives, then calls
 * `onClose` once. stdout carries JSON-RPC only; everything else goes to stderr.
 */
export async function serveStdio(server: McpServer, log: Log, onClose: () => Promise<void>): Promise<void> {
  let closing = false;
  const close = async (why: string) => {
    if (closing) return;
    closing = true;
    log.debug(`stopping: ${why}`);
    log.attachClient(undefined);
    await server.close().catch(() => {});
    await onClose();
  };
  process.stdin.on("end", () => void close("stdin closed"));
  process.on("SIGINT", () => void close("SIGINT"));
  process.on("SIGTERM", () => void close("SIGTERM"));
  await server.connect(new StdioServerTransport());
}
