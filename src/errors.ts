/**
 * A failure the model can act on. Its message becomes the text of an `isError` tool result,
 * so it says what failed and what to try next, and never carries a secret.
 */
export class ToolError extends Error {
  override name = "ToolError";
  /**
   * The level the operator's log says the failed call at: a warning for one that left people
   * untold of what they were to be told (a message no target took), which an operator who reads
   * the warnings must see.
   */
  logLevel: "info" | "warning" = "info";
  /**
   * What a line of the operator's log says of it where no model reads it (a delivery not stored,
   * automations paused), when the message asks the model to tell whoever runs waiter: said to them
   * instead.
   */
  logged?: string;
}

/** What the operator's log says of a failure: a ToolError's `logged` where it has one. */
export function loggedWords(err: unknown): string {
  if (err instanceof ToolError) return err.logged ?? err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A failure whose advice sends the model to another tool: a call that does not serve that tool (an
 * automation's, whose failure a person reads, or a session without it) is told where a person goes.
 */
export class AdvisesTool extends ToolError {
  override name = "AdvisesTool";
  constructor(
    /** What failed, without the advice after it. */
    readonly failure: string,
    readonly tool: string,
    advice: string,
    readonly otherwise: string,
    /** The status the upstream answered, where it answered one. */
    readonly status?: number,
  ) {
    super(`${failure} ${advice}`);
  }

  /** The message for a call that serves what `serves` says. */
  toCall(serves: (name: string) => boolean): string {
    return serves(this.tool) ? this.message : `${this.failure} ${this.otherwise}`;
  }
}

/** An upstream API failed: unreachable, too slow, refused the call or answered nonsense. */
export class UpstreamError extends ToolError {
  override name = "UpstreamError";
  constructor(
    message: string,
    readonly status?: number,
    /** Seconds the upstream asked to wait (Retry-After), when it said. */
    readonly retryAfter?: number,
    /**
     * The request was not carried out, and may be made again later, even a write: the upstream
     * refused it for now (HTTP 429, a mail server's 4xx), or no connection to it ever opened.
     */
    readonly refused = status === 429,
  ) {
    super(message);
  }

  /**
   * Set where the upstream refused waiter's credentials (401, 403), which every call meets until a
   * person mends them: says `line` as a warning, a line a minute at most while the refusals last.
   */
  sayRefused?: (line: string) => void;
}

/**
 * An upstream failure that lasts until someone mends it, which no wait passes: a certificate
 * refused, a TLS setup waiter cannot meet. An automation fails its step at once.
 */
export class LastingFailure extends UpstreamError {
  override name = "LastingFailure";
}

/** An upstream that did not answer, or did not finish its answer, before the tool call's deadline. */
export class DeadlinePassed extends UpstreamError {
  override name = "DeadlinePassed";
  constructor(
    /**
     * What did not come, its deadline not named (`Shop (shop.example) did not answer`): for a
     * caller whose deadline is no tool call's, as a webhook's confirmation.
     */
    readonly late: string,
    advice: string,
  ) {
    super(`${late} ${BEFORE_DEADLINE}; ${advice}`);
  }

  /** What did not come in time, without the advice to a model after it: an automation says its own. */
  get failure(): string {
    return `${this.late} ${BEFORE_DEADLINE}`;
  }
}

const BEFORE_DEADLINE = "before the tool call's deadline";

/**
 * What a failure calls a change, and the word for its being made: "the change" that "may have
 * been made" by default; "the message" that "may have been sent" for a chat's.
 */
export interface ChangeWords {
  what: string;
  made: string;
}

export const A_CHANGE: ChangeWords = { what: "the change", made: "made" };

/**
 * A change an upstream may or may not have made: no answer came once the request was sent (a
 * dropped connection, a timeout, a 5xx after the save), or a 2xx that could not be read. Its
 * message says to check before a retry.
 */
export class UnconfirmedChange extends UpstreamError {
  override name = "UnconfirmedChange";
  constructor(
    /**
     * What failed, up to whether the change was made ("… may have been made."), without the advice
     * after it: an automation that tries again itself says this while it waits. The whole message
     * where no advice stands apart.
     */
    public failure: string,
    /** What to do before trying again, without its full stop: the end of the message. */
    advice?: string,
    status?: number,
    retryAfter?: number,
  ) {
    super(advice === undefined ? failure : `${failure} ${advice}.`, status, retryAfter);
  }
}

/** A setting is missing or wrong; the message names it and never repeats a secret. Stops waiter at start. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A stop that left something undone (a database that did not answer): the message says what. waiter exits 1. */
export class LeftUndone extends Error {
  override name = "LeftUndone";
}

/**
 * A JSON-RPC error the SDK answers with its code, message and data, as it does an McpError, but
 * with the message as written: McpError's own begins "MCP error <code>: ", which the client's
 * McpError begins with again ("MCP error -32002: MCP error -32002: …").
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** What a call cut by a stop says first: its client must not take it for a cancellation of its own. */
export const CUT = "waiter stopped before this call finished: ";
