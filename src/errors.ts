/**
 * A failure the model can act on. Its message becomes the text of an `isError` tool result,
 * so it says what failed and what to try next, and never carries a secret.
 */
export class ToolError extends Error {
  override name = "ToolError";
}

/** An upstream API failed: unreachable, too slow, refused the call or answered nonsense. */
export class UpstreamError extends ToolError {
  override name = "UpstreamError";
  constructor(
    message: string,
    readonly status?: number,
    /** Seconds the upstream asked to wait (Retry-After), when it said. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A setting is missing or wrong; the message names it and never repeats a secret. Stops waiter at start. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
