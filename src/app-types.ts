import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { Sending } from "./events/resources.js";
import type { EventStore } from "./events/store.js";
import type { HttpClient } from "./http/client.js";
import type { Log } from "./log.js";
import type { Tool } from "./toolset.js";

/** How a stop went: `cut` when its drain time ran out and cut what was still in flight. */
export interface Stopped {
  cut: boolean;
}

/**
 * A start that a stop signal may end: `signal` aborts at the signal, which ends a wait of no known
 * end (another waiter's upgrade lock), and each step names itself in `step` as it begins, for the
 * stop to say where it found the start.
 */
export interface Starting {
  signal: AbortSignal;
  step?: string;
}

/** One client's MCP server, before its transport. */
export interface Session {
  server: McpServer;
  /** The resources its client subscribed to. */
  subscriptions: ReadonlySet<string>;
  /**
   * Serves also the tools `allow` lets through that it does not yet (a caller that logged in again
   * with a wider scope), and tells its client the list changed; never takes a tool away. The names
   * of the tools it gained. Its prompts, resources and instructions stay as it opened with.
   */
  widen(allow: (tool: Tool) => boolean): string[];
  /** Tells tool call `request`, under way, that its answer can no longer reach its client. */
  lost(request: RequestId): void;
  /**
   * Tells its client what it subscribed to that changed since `at`, while no server held the
   * session (a restart, or a copy left to the store): the list of resources and the recent events
   * where some were stored after the one of sequence number `heardSeq` (0: it heard of none), the
   * events acknowledged or dropped.
   */
  missedSince(at: number, heardSeq: number, sending?: Sending): Promise<void>;
  /** The newest event its client was told of (0 where it shows no events, or the store has yet to say). */
  heardSeq(): number;
  /** Stops the session's event notifications and closes its server. */
  close(): Promise<void>;
}

/** What the configuration enables, shared by every client: tools, store, listener, upstream connections. */
export interface App {
  tools: Tool[];
  /** Why a tool is not among `tools`: the setting that leaves it out, its toolset off, or no such tool. */
  whyNotServed(name: string): string;
  store: EventStore | undefined;
  /** The upstream connections the tools, and the listener's confirmations, share. */
  http: HttpClient;
  /**
   * The webhook listener in this process while it has the port (an assistant's waiter may take it
   * later, when another that had it stops): its address as bound.
   */
  listener: { url: string } | undefined;
  /**
   * An MCP server for one client, with every enabled tool and the event resources. Its logging
   * notifications go to `log`'s client: the app's own log for the one client of stdio, a
   * `log.forSession()` for each of several. `allow` narrows the tools (a read-only caller's);
   * `subscriptions`, those of a session taken up, which its client made on another server.
   * A subscription or unsubscription is answered once `kept` has kept the subscriptions.
   */
  session(
    log: Log,
    allow?: (tool: Tool) => boolean,
    subscriptions?: Iterable<string>,
    kept?: () => Promise<void>,
  ): Session;
  /** Answers the calls that wait for something to happen (events_wait) at once: the server is stopping. */
  endWaits(): void;
  /** Ends every call still in flight, each answering that the stop cut it: a stop's drain time ran out. */
  cutCalls(): void;
  /** Ends the waits, then stops the listener, the store and the upstream connections. */
  close(): Promise<Stopped>;
}
