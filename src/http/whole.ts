import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";

/**
 * An interceptor, composed under undici's retry interceptor, that hands an answer on only once all
 * of it has come. A connection that breaks while the upstream answers then fails the request before
 * any of the answer was handed on, and the retry interceptor sends it again whole, as after a
 * connection that broke before the answer. Left to itself it would ask for the rest with a Range
 * and join it to the bytes it had: two answers in one when the upstream's has changed meanwhile,
 * which only a strong ETag on the first could rule out (RFC 9111 §3.4), and few APIs send one.
 * waiter reads every answer whole anyway, at most WAITER_MAX_RESPONSE_BYTES of it.
 */
export const wholeAnswers: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
  const { progress, reached, answerBegins } = options as {
    progress?: Progress;
    reached?: Reached;
    answerBegins?: AnswerBegins;
  };
  return dispatch(options, new WholeAnswer(handler, progress, reached, answerBegins));
};

/**
 * Hears each try's status and headers as they come, given with its dispatch options as
 * `answerBegins`: the rest of the answer is handed on only once its body has come, which may take
 * long.
 */
export type AnswerBegins = (statusCode: number, headers: IncomingHttpHeaders) => void;

/**
 * Whether a request was written to its upstream, given with its dispatch options as `reached`:
 * undici starts a request only once its connection has opened (through a proxy, its tunnel), and
 * one stopped by then is not written. A request stopped before any try of it was written changed
 * nothing, which undici's error (the stop's own reason) does not tell.
 */
export interface Reached {
  written: boolean;
}

/**
 * How far a request that several callers share has got, given with its dispatch options as
 * `progress`: each caller leaves it at its own deadline without hearing its end, and says from
 * this whether the answer had begun. `begun` holds while an answer is coming and not all of it
 * has: the try under way's, not one before it that was sent again.
 */
export interface Progress extends Reached {
  begun: boolean;
  /**
   * How many of the callers waiting on it have no answer kept to stand in should it fail: while
   * any has none, a connection that did not open in time is tried again (RetryPolicy.keptStandsIn).
   */
  withoutKept: number;
  /** The callers with an answer kept, who take it as soon as a connection did not open in time, not after the tries again for the others. */
  notOpened: Set<(err: Error) => void>;
}

/** A connection that broke after the upstream began to answer: it was reached, and had answered in part. */
export class BrokenAnswer extends Error {
  readonly code: string | undefined;

  constructor(cause: Error & { code?: string }) {
    super(cause.message, { cause });
    this.code = cause.code;
  }
}

/**
 * A request its call stopped (its deadline, a cancel) once the upstream had begun to answer: it
 * was reached, and answering. Named as the stop is, which it stands for.
 */
export class StoppedAnswer extends Error {
  constructor(stop: Error) {
    super(stop.message, { cause: stop });
    this.name = stop.name;
  }
}

/** One request's answer, held until it has all come; the controller of the handler above it. */
class WholeAnswer implements Dispatcher.DispatchHandler, Dispatcher.DispatchController {
  #connection: Dispatcher.DispatchController | undefined;
  #start: { statusCode: number; headers: IncomingHttpHeaders; statusMessage: string | undefined } | undefined;
  #chunks: Buffer[] = [];
  /** Set once all of the answer has come. */
  #trailers: IncomingHttpHeaders | undefined;
  #paused = false;
  /** Handed on, or failed: nothing more goes up. */
  #done = false;
  #reason: Error | null = null;

  constructor(
    private readonly handler: Dispatcher.DispatchHandler,
    private readonly progress: Progress | undefined,
    private readonly reached: Reached | undefined,
    private readonly answerBegins: AnswerBegins | undefined,
  ) {
    // Each try is a request of its own: an answer to one before it (a 503 sent again) is no answer to this.
    if (progress) progress.begun = false;
  }

  get aborted(): boolean {
    return this.#reason !== null || (this.#connection?.aborted ?? false);
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason ?? this.#connection?.reason ?? null;
  }

  /** The retry interceptor pauses an answer it will send the request again for, until its wait ends. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#handOn();
  }

  abort(reason: Error): void {
    if (!this.#trailers) {
      this.#connection?.abort(reason);
    } else if (!this.#done) {
      // The connection is done with this request: the handler above hears it from here.
      this.#done = true;
      this.#reason = reason;
      this.handler.onResponseError?.(this, reason);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#connection = controller;
    this.handler.onRequestStart?.(this, context);
    // A request its call stopped while it connected is stopped here, before it is written.
    if (this.reached && !this.aborted) this.reached.written = true;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.#start = { statusCode, headers, statusMessage };
    if (this.progress) this.progress.begun = true;
    this.answerBegins?.(statusCode, headers);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#trailers = trailers;
    // All of it came: a wait to send it again after is no answer cut off.
    if (this.progress) this.progress.begun = false;
    if (this.#start) {
      const { statusCode, headers, statusMessage } = this.#start;
      // An empty body is in no coding, whatever its Content-Encoding says: decoded, it would be a
      // broken gzip instead of a 429 with its Retry-After.
      const { "content-encoding": _, ...uncoded } = headers;
      const empty = this.#chunks.length === 0;
      this.handler.onResponseStart?.(this, statusCode, empty ? uncoded : headers, statusMessage);
    }
    this.#handOn();
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#done) return;
    if (this.#start && !controller.aborted && errorAnswerTooLarge(this.#start.statusCode, error)) {
      // Told by its status and headers alone, as an answer with no body.
      this.#chunks = [];
      this.onResponseEnd(controller, {});
      return;
    }
    this.#done = true;
    if (!this.#start) this.handler.onResponseError?.(this, error);
    else this.handler.onResponseError?.(this, controller.aborted ? new StoppedAnswer(error) : new BrokenAnswer(error));
  }

  #handOn(): void {
    if (this.#paused || this.#done || !this.#trailers) return;
    this.#done = true;
    const chunks = this.#chunks;
    this.#chunks = [];
    for (const chunk of chunks) this.handler.onResponseData?.(this, chunk);
    this.handler.onResponseEnd?.(this, this.#trailers);
  }
}

/**
 * Whether `error` cut off, at the size cap (WAITER_MAX_RESPONSE_BYTES), an answer of `status` that
 * is not a 2xx: an error page's bulk, whose status says all that matters (a 500 is no answer to ask
 * less of, and a change refused with a 4xx was not made).
 */
export function errorAnswerTooLarge(status: number, error: unknown): boolean {
  return (status < 200 || status >= 300) && (error as { code?: string }).code === "UND_ERR_RES_EXCEEDED_MAX_SIZE";
}
