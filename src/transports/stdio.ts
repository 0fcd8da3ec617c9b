import { isUtf8 } from "node:buffer";
import type { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  deserializeMessage,
  ReadBuffer,
  STDIO_DEFAULT_MAX_BUFFER_SIZE,
} from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ErrorCode,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { CUT } from "../errors.js";
import type { Log } from "../log.js";
import { oneLine } from "../shown.js";
import {
  batchRefusals,
  EMPTY_BATCH,
  eachRequestTold,
  INITIALIZE_ALONE,
  isObject,
  NO_BATCHES,
  NOT_A_MESSAGE,
  OWN_ID,
  requestIdOf,
  reusedId,
  WITHOUT_BATCHES,
  whatIsWrong,
  wrongInBatch,
} from "./refusals.js";

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
 *
 * Every stop first calls `endWaits` (which ends the waits, each answered with its cursor): the
 * calls the close then ends are said as the stop cut them, not as cancelled by their client.
 * `stop(why, true)`, a stop by signal or by stdin's end, gives the calls in flight up to ANSWER_MS
 * to be answered first, as `waiter serve` does: a client that closes stdin reads on until waiter
 * exits, as MCP's shutdown has it and a script that pipes its requests does, and the SDK would
 * otherwise drop them unanswered as it closes. Those still running then are answered that the stop
 * cut them (STOPPED_CALL), without a link from each call to the stop, which would cost every call
 * over stdio; the close then ends them. Every stop then gives stdout up to FLUSH_MS to be read, so
 * that no answer already written is cut by the exit.
 */
export async function serveStdio(
  server: McpServer,
  log: Log,
  onClose: (status: number) => Promise<void>,
  {
    stdin = process.stdin,
    stdout = process.stdout,
    endWaits,
  }: { stdin?: Readable; stdout?: Writable; endWaits?: () => void } = {},
): Promise<(why: string, answering?: boolean) => Promise<void>> {
  let closing = false;
  const stdio = new StdioServerTransport(stdin, stdout);
  // The transport's (private) read buffer: the SDK has no hook for a line its schema refuses.
  const lines = new Lines();
  (stdio as unknown as { _readBuffer: Lines })._readBuffer = lines;
  // The transport waits for stdout's "drain" once for each answer the client has not read yet: a
  // busy client's many calls in flight are as many listeners, and no leak to warn the log of.
  stdout.setMaxListeners(0);
  /** Requests received and not yet answered (nor cancelled, which the SDK never answers), with their methods. */
  const unanswered = new Map<RequestId, string>();
  /** The protocol version the session's initialize agreed on, once answered, and that initialize's id. */
  let version: string | undefined;
  let initializeId: RequestId | undefined;
  /** The JSON-RPC batches being served: the ids of their requests not yet answered, and the answers so far. */
  const batches: { ids: Set<RequestId>; answers: JSONRPCMessage[] }[] = [];
  const send = stdio.send.bind(stdio);
  /** Sends a batch's answers, as one array on one line, once none of its requests is left to answer. */
  const settle = async (batch: (typeof batches)[number]) => {
    if (batch.ids.size > 0) return;
    batches.splice(batches.indexOf(batch), 1);
    // The transport writes any JSON value as a line; the SDK's types have no batch.
    if (batch.answers.length > 0) await send(batch.answers as unknown as JSONRPCMessage);
  };
  /** Sends an answer, held while it answers a request of a batch until the batch's last is answered. */
  const emit = (message: JSONRPCMessage) => {
    const id = "id" in message && !("method" in message) ? (message.id as RequestId) : undefined;
    const batch = id === undefined ? undefined : batches.find(({ ids }) => ids.has(id));
    if (!batch || id === undefined) return send(message);
    batch.ids.delete(id);
    batch.answers.push(message);
    return settle(batch);
  };
  /** Counts a message read; false for a request refused here, which the server is not given. */
  const admitted = (message: JSONRPCMessage): boolean => {
    if ("method" in message && "id" in message) {
      // The SDK would run both, and keep only the later one's cancellation: the one under way could
      // no longer be cancelled, and its client would take the first answer for the later request's.
      const reused = reusedId([message.id], (id) => unanswered.has(id));
      if (reused) {
        log.warning(`answered -32600 to a request on stdin whose ${reused.taken} (${oneLine(message.method)})`);
        // Sent past the count of requests answered: the one under way is not.
        void send(refusal(message.id, `Invalid Request: ${reused.taken}; ${OWN_ID}`));
        return false;
      }
      unanswered.set(message.id, message.method);
      if (message.method === "initialize") initializeId = message.id;
    }
    // One sent with an id is a request, refused as such: it cancels nothing.
    if ("method" in message && message.method === "notifications/cancelled" && !("id" in message)) {
      const cancelled = message.params?.requestId as RequestId;
      unanswered.delete(cancelled);
      // A batch's request cancelled is answered no more: the batch is sent without it.
      const batch = batches.find(({ ids }) => ids.has(cancelled));
      if (batch) {
        batch.ids.delete(cancelled);
        void settle(batch);
      }
    }
    return true;
  };
  /** A message of the server's, counted, then sent. */
  const counted = (message: JSONRPCMessage) => {
    if (!("method" in message) && "id" in message) {
      unanswered.delete(message.id as RequestId);
      if (message.id === initializeId && "result" in message && typeof message.result.protocolVersion === "string") {
        version = message.result.protocolVersion;
      }
    }
    return emit(message);
  };
  /**
   * What the server connects to: the SDK's transport, each message it reads counted (a batch's
   * served) before the server gets it, each one sent counted before it is written. Its start hooks
   * them in before stdin is read: a line already waiting (the initialize, which says whether the
   * session takes batches) is counted too.
   */
  const transport: Transport = {
    start: async () => {
      stdio.onmessage = (message) => {
        if (admitted(message)) transport.onmessage?.(message);
      };
      stdio.onerror = (error) => transport.onerror?.(error);
      stdio.onclose = () => transport.onclose?.();
      await stdio.start();
    },
    send: counted,
    close: () => stdio.close(),
  };
  /**
   * Serves a JSON-RPC batch of a session at a protocol that takes them (MCP 2025-03-26 has its
   * servers take one), as JSON-RPC has it: each message, and the answers in one array. One the
   * HTTP side would refuse (a message MCP does not take, an id used twice) is refused whole.
   */
  const serveBatch = (items: unknown[]) => {
    const requests = items.filter((item) => isObject(item) && "method" in item);
    const ids = items.map(requestIdOf).filter((id) => id !== null);
    const wrong = items.findIndex((item) => !JSONRPCMessageSchema.safeParse(item).success);
    const reused = reusedId(ids, (id) => unanswered.has(id));
    const why =
      items.length === 0
        ? EMPTY_BATCH
        : wrong !== -1
          ? wrongInBatch(items[wrong], wrong + 1)
          : reused
            ? `${reused.taken}; ${OWN_ID}`
            : requests.some((request) => (request as { method: unknown }).method === "initialize")
              ? INITIALIZE_ALONE
              : undefined;
    if (why === undefined) {
      if (ids.length > 0) batches.push({ ids: new Set(ids), answers: [] });
      // Each as if read on a line of its own.
      for (const item of items) stdio.onmessage?.(item as JSONRPCMessage);
      return;
    }
    log.warning(`answered -32600 to a JSON-RPC batch on stdin, none of it done: ${oneLine(why)}`);
    if (items.length === 0) {
      void send(refusal(null, `Invalid Request: ${why}`));
      return;
    }
    void send(batchRefusals(items, why) as unknown as JSONRPCMessage);
  };
  const stop = async (why: string, answering = false, status = 0) => {
    if (closing) return;
    closing = true;
    log.debug(`stopping: ${why}`);
    endWaits?.();
    if (answering) {
      for (let waited = 0; unanswered.size > 0 && waited < ANSWER_MS; waited += 10) await sleep(10);
      // Not waited for one by one: a client that reads nothing of stdout would hold the stop for good;
      // the wait for stdout below gives them their time.
      for (const [id, method] of unanswered) {
        void transport.send(
          method === "tools/call"
            ? { jsonrpc: "2.0", id, result: { content: [{ type: "text", text: STOPPED_CALL }], isError: true } }
            : { jsonrpc: "2.0", id, error: { code: ErrorCode.InternalError, message: STOPPED_CALL } },
        );
      }
    }
    // The client may be gone: its log lines stop before the last one is written.
    log.attachClient(undefined);
    await server.close().catch(() => {});
    // An answer handed to stdout may still be in its buffer (a pipe takes some 64 KiB at a time):
    // the exit that follows would cut it short, and the client would get half a line instead.
    for (let waited = 0; stdout.writableLength > 0 && !stdout.destroyed && waited < FLUSH_MS; waited += 10) {
      await sleep(10);
    }
    await onClose(status);
  };
  let lastError: Error | undefined;
  transport.onerror = (error) => {
    // A blank line, which a client may send between messages, is no message: skipped without a word.
    if (error instanceof SyntaxError) return;
    lastError = error;
    // A stdin that fails to read, said as the reason of the stop.
    if (outgrew(error) || closing) return;
    // A line that is not JSON is answered -32700 with id null, as JSON-RPC has it, and one that is
    // JSON and no JSON-RPC message -32600, rather than left to the client's timeout; the next one
    // is read either way.
    if (error instanceof NotJson) {
      log.warning(`answered -32700 to a line on stdin that is not JSON: ${oneLine(error.message)}`);
      void transport.send(PARSE_ERROR);
    } else if (error instanceof NotUtf8) {
      const answers = notUtf8(error.json, error.message);
      log.warning(
        `${answers.length > 0 ? "answered -32700 to" : "ignored"} a line on stdin that is not UTF-8, as MCP's messages are (${error.message})`,
      );
      for (const answer of answers) void transport.send(answer);
    } else if (error instanceof InvalidMessage && Array.isArray(error.json) && takesBatches(version)) {
      serveBatch(error.json);
    } else if (error instanceof InvalidMessage) {
      const answers = invalidRequest(error.json, error.message);
      log.warning(
        `${answers.length > 0 ? "answered -32600 to" : "ignored"} a line on stdin that is not JSON-RPC: ${oneLine(error.message)}`,
      );
      for (const answer of answers) void transport.send(answer);
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
    void stop(why, false, 1);
  };
  stdin.on("end", () => {
    // A client that wrote its last message without the line break that ends it is never answered:
    // said, or its author would look for the cause in waiter.
    const unended = lines.unended();
    if (unended > 0 && !closing) {
      log.warning(
        `stdin closed after ${unended} bytes not ended by a line break, which were not read: each message on stdin ends with one (\\n)`,
      );
    }
    void stop("stdin closed", true);
  });
  // A read that fails (a terminal gone, a connection reset, an fd not open for reading) ends stdin
  // without an "end": nothing more will come, and no client is left to stop waiter, whose webhook
  // listener would keep it running.
  stdin.on("error", (error: Error) => {
    if (closing) return;
    const why = `stdin can no longer be read (${oneLine(error.message)})`;
    log.error(`stopping: ${why}`);
    void stop(why, false, 1);
  });
  // A client that closed its end of stdout (EPIPE) has gone as surely as one that closed stdin.
  stdout.on(
    "error",
    (error: NodeJS.ErrnoException) => void stop(`stdout cannot be written (${error.code ?? error.message})`),
  );
  await server.connect(transport);
  return stop;
}

/**
 * Whether a session at protocol `version` takes JSON-RPC batches: MCP 2025-03-26 has its servers
 * take them, and 2025-06-18 took them out; a session not yet initialized takes none, as its
 * initialize is sent alone.
 */
function takesBatches(version: string | undefined): boolean {
  return version !== undefined && !WITHOUT_BATCHES.includes(version);
}

/** How long a stop by signal or stdin's end waits for the calls in flight to be answered. */
const ANSWER_MS = 1000;

/** What a request still running as such a stop ends is answered. */
const STOPPED_CALL = `${CUT}it was still running a second after the stop began; a tool that changes something may have made its change: check before calling it again.`;

/** How long a stop waits for what is written to stdout to be read by the client. */
const FLUSH_MS = 1000;

/** The transport's own words when a line outgrows its buffer; it closes itself then. */
function outgrew(error: Error): boolean {
  return /exceeded maximum size/.test(error.message);
}

/** A line of stdin that is JSON and no JSON-RPC message, with the JSON it holds. */
class InvalidMessage extends Error {
  constructor(
    readonly json: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** The length of the UTF-8 byte order mark, EF BB BF. */
const BOM_LENGTH = 3;

/** The byte that ends each message on stdin (\n). */
const LINE_FEED = 0x0a;

/** A line of stdin that is not JSON, and not blank. */
class NotJson extends Error {}

/** A line of stdin that is not UTF-8, with the JSON it holds when it can be read all the same. */
class NotUtf8 extends Error {
  constructor(
    readonly json: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** Where `bytes` (not UTF-8) first stop being UTF-8, as "its byte 112 is 0xF8" (counted from 1). */
function firstNotUtf8(bytes: Buffer): string {
  // Up to the first replacement character it did not write itself, the decoded text is the bytes'.
  let at = 0;
  for (const char of bytes.toString("utf8")) {
    if (char === "\uFFFD" && !bytes.subarray(at, at + 3).equals(REPLACEMENT)) break;
    at += Buffer.byteLength(char);
  }
  return `its byte ${at + 1} is 0x${(bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, "0")}`;
}

/** U+FFFD, the replacement character, in UTF-8. */
const REPLACEMENT = Buffer.from("\uFFFD");

/**
 * The SDK's ReadBuffer (the stdin of StdioServerTransport cut into lines), but a line that is JSON
 * and no JSON-RPC message throws an InvalidMessage with that JSON, whose id the answer echoes, and
 * one that is not JSON a NotJson. The SDK's throws zod's error, which holds no id: such a request
 * (an id or a progress token that is an object) went unanswered, and its client waited for its own
 * timeout. A blank line (spaces, or a line break alone, which a client may send between messages)
 * is no message: it throws JSON.parse's SyntaxError, and is skipped without an answer. A byte
 * order mark before a line is dropped, as an HTTP body's is. A line that is not UTF-8 (a client
 * writing its system's code page) throws a NotUtf8: the SDK reads the bytes that are no UTF-8 as
 * U+FFFD, and would run the call with those letters replaced (a note written to an order so).
 */
class Lines extends ReadBuffer {
  /** How many bytes after the last line break are held, but for blanks: a line begun and not ended. */
  unended(): number {
    const held = (this as unknown as { _buffer?: Buffer })._buffer;
    return held && held.toString("utf8").trim() !== "" ? held.length : 0;
  }

  override readMessage(): JSONRPCMessage | null {
    // The SDK's (private) buffer, read as the SDK's readMessage reads it, but each line decoded once.
    const held = this as unknown as { _buffer?: Buffer };
    let buffer = held._buffer;
    if (!buffer) return null;
    // A UTF-8 byte order mark is no part of the JSON text (RFC 8259 §8.1), as an HTTP body's is
    // not: Windows PowerShell puts one before what it pipes with UTF-8 as its output encoding.
    if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) {
      buffer = buffer.subarray(BOM_LENGTH);
      held._buffer = buffer;
    }
    const lineEnd = buffer.indexOf(LINE_FEED);
    if (lineEnd === -1) return null;
    const text = buffer.toString("utf8", 0, lineEnd);
    held._buffer = buffer.subarray(lineEnd + 1);
    // The decoder writes a U+FFFD where the bytes are no UTF-8 (one for each character cut short or
    // byte that starts none): only a line that holds one, which its client may also have written
    // itself, is checked byte by byte.
    if (text.includes("\uFFFD") && !isUtf8(buffer.subarray(0, lineEnd))) {
      throw new NotUtf8(jsonIn(text), firstNotUtf8(buffer.subarray(0, lineEnd)));
    }
    try {
      return deserializeMessage(text.endsWith("\r") ? text.slice(0, -1) : text);
    } catch (err) {
      if (err instanceof SyntaxError && text.trim() !== "") throw new NotJson(err.message);
      if (!(err instanceof Error && err.name === "ZodError")) throw err;
      const json: unknown = JSON.parse(text);
      throw new InvalidMessage(json, whatIsWrong(json));
    }
  }
}

/**
 * JSON-RPC's answer to a line that is not JSON (2.0, section 5.1): -32700 Parse error, with id
 * null, as no id could be read. It answers no request of the client's: the SDK's client reads it as
 * a message it cannot parse, logs it and reads on.
 */
const PARSE_ERROR = {
  jsonrpc: "2.0",
  // JSON-RPC's null: the SDK's types have only an id or none.
  id: null as unknown as string,
  error: { code: ErrorCode.ParseError, message: "Parse error: the line is not JSON" },
} satisfies JSONRPCMessage;

/**
 * The answer to a line that is not UTF-8: -32700, as JSON text is UTF-8 (RFC 8259 §8.1), by the id
 * the line has when it can be read all the same, so that its client fails that request at once.
 * A response (a result or an error, no method) gets none, as in invalidRequest.
 */
function notUtf8(json: unknown, where: string): JSONRPCMessage[] {
  const message = isObject(json) ? json : {};
  if (isResponse(message)) return [];
  const said = `Parse error: the line is not UTF-8, as MCP's messages are (${where}); nothing of it was done: send it again written in UTF-8`;
  return [refusal(idOf(message), said, ErrorCode.ParseError)];
}

/** The JSON `text` holds, or undefined when it holds none. */
function jsonIn(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * JSON-RPC's answer to a message it cannot take (2.0, section 5.1): -32600, saying `why`, with the
 * id the line has when it is a string or a number, null otherwise. A malformed response (a result or an error,
 * no method) gets none: its id is one of waiter's requests, and the client would take the answer for
 * one of its own. A batch (an array) where the session takes none (from 2025-06-18 on) gets one for
 * each request in it, by its id (once an id, as over HTTP), each on a line of its own as MCP's
 * messages are: its client is told at once that each failed, rather than wait for its own timeout;
 * one with no such request, one with id null.
 */
function invalidRequest(json: unknown, why: string): JSONRPCMessage[] {
  // The SDK's types have no id null, which JSON-RPC answers with where no request is.
  if (Array.isArray(json)) return eachRequestTold(json, BATCH) as JSONRPCMessage[];
  const message = isObject(json) ? json : {};
  if (isResponse(message)) return [];
  return [refusal(idOf(message), `${NOT_A_MESSAGE}: ${why}`)];
}

/** Whether a message is a response (a result or an error, no method), which no answer is sent to. */
function isResponse(message: object): boolean {
  return !("method" in message) && ("result" in message || "error" in message);
}

/** A message's id when it is a string or a number; null otherwise, which no answer can echo. */
function idOf(message: object): string | number | null {
  return "id" in message && (typeof message.id === "string" || typeof message.id === "number") ? message.id : null;
}

const BATCH = `Invalid Request: ${NO_BATCHES} (waiter takes one only in a session initialized at 2025-03-26 or older): send each message on a line of its own`;

function refusal(id: string | number | null, message: string, code = ErrorCode.InvalidRequest): JSONRPCMessage {
  return {
    jsonrpc: "2.0",
    // JSON-RPC's null where the id cannot be read: the SDK's types have only an id or none.
    id: id as string | number,
    error: { code, message },
  };
}
