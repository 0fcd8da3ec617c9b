import type { Readable, Writable } from "node:stream";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Log } from "../log.js";
import { oneLine } from "../shown.js";

const LIMIT_MIB = STDIO_DEFAULT_MAX_BUFFER_SIZE / (1024 * 1024);

/**
 * Serves MCP on `stdin`/`stdout` until the client closes stdin or `stop` is called, then calls
 * `onClose` once with the exit status the reason calls for. stdout carries JSON-RPC only;
 * everything else goes to the log.
 *
 * The SDK's transport stops reading, for good, when one line of stdin outgrows its buffer
 * (10 MiB). That request cannot be answered: the client puts its id after the arguments, in
 * the part never read. So waiter says why and exits 1, and the client fails every pending
 * request at once instead of waiting for answers that cannot come.
 */
export async function serveStdio(
  server: McpServer,
  log: Log,
  onClose: (status: number) => Promise<void>,
  { stdin = process.stdin, stdout = process.stdout }: { stdin?: Readable; stdout?: Writable } = {},
): Promise<(why: string) => Promise<void>> {
  let closing = false;
  const stop = async (why: string, status = 0) => {
    if (closing) return;
    closing = true;
    // The client may be gone: its log lines stop before the last one is written.
    log.attachClient(undefined);
    log.debug(`stopping: ${why}`);
    await server.close().catch(() => {});
    await onClose(status);
  };
  const transport = new StdioServerTransport(stdin, stdout);
  let lastError: Error | undefined;
  transport.onerror = (error) => {
    lastError = error;
    if (outgrew(error)) return;
    // A line that does not parse, as JSON or as JSON-RPC, is skipped and the next one read.
    if (error instanceof SyntaxError || error.name === "ZodError") {
      log.warning(`ignored a line on stdin that is not JSON-RPC: ${oneLine(error.message)}`);
    } else {
      log.warning(`stdin: ${oneLine(error.message)}`);
    }
  };
  transport.onclose = () => {
    if (closing) return;
    const why =
      lastError && outgrew(lastError)
        ? `a message on stdin was larger than ${LIMIT_MIB} MiB, the most one JSON-RPC line may be; the client must send less (smaller arguments) in one call`
        : `stdin can no longer be read${lastError ? ` (${oneLine(lastError.message)})` : ""}`;
    log.error(`stopping: ${why}`);
    void stop(why, 1);
  };
  stdin.on("end", () => void stop("stdin closed"));
  // A client that closed its end of stdout (EPIPE) has gone as surely as one that closed stdin.
  stdout.on(
    "error",
    (error: NodeJS.ErrnoException) => void stop(`stdout cannot be written (${error.code ?? error.message})`),
  );
  await server.connect(transport);
  return stop;
}

/** The transport's own words when a line outgrows its buffer; it closes itself then. */
function outgrew(error: Error): boolean {
  return /exceeded maximum size/.test(error.message);
}
