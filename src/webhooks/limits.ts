import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { clock } from "../time.js";

/** How long a client may take over a request, and how fast its body must come. */
export interface ListenerTimeouts {
  /** To send a request's headers. */
  headersMs: number;
  /** To send a whole request, headers and body. */
  requestMs: number;
  /** A kept-alive connection's wait for its next request. */
  keepAliveMs: number;
  /** How often the server looks for requests past headersMs or requestMs. */
  checkEveryMs: number;
  /** Once this long has passed since the headers, the body must have come at minBodyBytesPerSecond on average. */
  bodyGraceMs: number;
  minBodyBytesPerSecond: number;
  /**
   * Bytes of bodies read and not yet answered, across requests: what strangers may make waiter
   * hold. One client may hold the share of it that it may hold of the connections.
   */
  maxHeldBytes: number;
  /** How long a connection that has sent nothing is kept once the listener stops, or once past its client's cap. */
  silentMs: number;
  /** How long a body refused before it was read is still read and dropped, once answered, before its connection closes. */
  lingerMs: number;
  /** How many bytes of it are read and dropped at most. */
  lingerMaxBytes: number;
  /** How long the look-up of a delivery whose write the store refused may take, its turn's wait included. */
  storeLookupMs: number;
}

/**
 * Senders deliver a webhook in well under a second and give up after 10 to 30 s themselves;
 * these leave a real delivery plenty of room and a trickling client little.
 */
export const DEFAULT_TIMEOUTS: ListenerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  // Longer than a proxy in front keeps an idle connection to waiter (Caddy 2 minutes, nginx and
  // cloud load balancers 1): closed by waiter first, one the proxy sends a request on as it closes
  // would fail that request (a webhook, a tool call) with a 502.
  keepAliveMs: 130_000,
  checkEveryMs: 1_000,
  bodyGraceMs: 5_000,
  minBodyBytesPerSecond: 1024,
  // A thousand connections could each hold a 1 MiB body for the request timeout: a GB.
  maxHeldBytes: 64 * 1024 * 1024,
  silentMs: 1_000,
  // Enough for a sender still uploading when it is refused to read the answer: the rest of the
  // largest delivery any sends (GitHub's, up to 25 MB) over a link of 40 Mbit/s, or a sender that
  // reads the answer stopping within a round trip. Not longer, as anyone may send a body to be refused.
  lingerMs: 5_000,
  lingerMaxBytes: 32 * 1024 * 1024,
  // A lock another session holds may keep reads waiting too (PostgreSQL's LOCK TABLE, in its own
  // mode, ACCESS EXCLUSIVE), and the 503 must still reach a sender that waits 5 s in all (Shopify),
  // after the write's own wait for the lock (BUSY_MS, LOCK_WAIT_MS: 3 s).
  storeLookupMs: 1_000,
};

/** Who a connection is for the limits each client has: its address (behind a proxy, the proxy's). */
export function clientOf(socket: Socket): string {
  return socket.remoteAddress ?? "unknown";
}

/** Counts one connection of `client`'s fewer. */
function release(held: Map<string, number>, client: string): void {
  const left = (held.get(client) ?? 1) - 1;
  if (left > 0) held.set(client, left);
  else held.delete(client);
}

/** How many connections past its cap one address may have answered 503 at once; more are closed at once. */
export const ANSWERED_PAST_CAP = 10;
const pastCap = new WeakSet<Socket>();

/** Whether a connection came while its client address held its most: its request gets 503. */
export const isPastCap = (socket: Socket): boolean => pastCap.has(socket);

/**
 * Marks a new connection past its cap while its client address already holds `max`, so that its
 * request is answered 503 saying which setting to raise (closed at once, its client would read
 * only that the connection failed); one that sends no request within `silentMs` is closed.
 */
export function capConnectionsPerClient(
  server: Server,
  max: number,
  silentMs: number,
  refused: (client: string) => void,
): void {
  const open = new Map<string, number>();
  const answering = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const client = clientOf(socket);
    const count = open.get(client) ?? 0;
    if (count >= max) {
      refused(client);
      const past = answering.get(client) ?? 0;
      if (past >= ANSWERED_PAST_CAP) {
        socket.destroy();
        return;
      }
      pastCap.add(socket);
      answering.set(client, past + 1);
      socket.setTimeout(silentMs, () => socket.destroy());
      socket.once("close", () => release(answering, client));
      return;
    }
    open.set(client, count + 1);
    socket.once("close", () => release(open, client));
  });
}

/**
 * Bodies read and not yet answered, across requests: bounded, so that strangers who send large
 * bodies on many connections cannot make waiter hold more than `maxHeldBytes`. And per client, so
 * that one who stalls bodies on many connections cannot take all of it and leave every real
 * delivery a 503: a client may hold `share` of it.
 */
export class HeldBodies {
  private held = 0;
  private readonly heldBy = new Map<string, number>();

  constructor(
    readonly maxHeldBytes: number,
    readonly share: number,
  ) {}

  /** Holds `bytes` more for `client`: whether it stays within its share and the whole budget. */
  hold(client: string, bytes: number): boolean {
    const fits = this.fits(client, bytes);
    this.held += bytes;
    this.heldBy.set(client, (this.heldBy.get(client) ?? 0) + bytes);
    return fits;
  }

  /** Gives back what a request held for `client`, once its answer is done. */
  giveBack(client: string, bytes: number): void {
    this.held -= bytes;
    const left = (this.heldBy.get(client) ?? 0) - bytes;
    if (left > 0) this.heldBy.set(client, left);
    else this.heldBy.delete(client);
  }

  /** Whether `client`, holding `more` bytes besides, holds more than its share (else the whole budget is what ran out). */
  pastShare(client: string, more = 0): boolean {
    return (this.heldBy.get(client) ?? 0) + more > this.share;
  }

  /** Whether `bytes` more for `client` would stay within its share and the whole budget. */
  fits(client: string, bytes: number): boolean {
    return !this.pastShare(client, bytes) && this.held + bytes <= this.maxHeldBytes;
  }
}

export interface BodyWatch {
  maxBytes: number;
  tooLarge: () => void;
  tooSlow: () => void;
  /** Takes `bytes` more of the listener's budget for bodies held; false when it is spent. */
  hold: (bytes: number) => boolean;
  busy: () => void;
}

/**
 * Watches a request body as it comes: calls `tooLarge` as soon as it passes maxBytes, `busy` as
 * soon as the listener's budget for bodies held is spent, and `tooSlow` when, after the grace, it
 * has come slower than the floor rate on average (a stalled body too). Returns the function that
 * stops watching.
 */
export function watchBody(req: IncomingMessage, timeouts: ListenerTimeouts, watch: BodyWatch): () => void {
  const started = clock.now();
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    req.off("data", count);
  };
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received > watch.maxBytes) {
      stop();
      watch.tooLarge();
    } else if (!watch.hold(chunk.length)) {
      stop();
      watch.busy();
    }
  };
  const check = () => {
    const onPaceUntil = started + timeouts.bodyGraceMs + (received / timeouts.minBodyBytesPerSecond) * 1000;
    const left = onPaceUntil - clock.now();
    if (left > 0) {
      timer = setTimeout(check, left);
      return;
    }
    stop();
    watch.tooSlow();
  };
  req.on("data", count);
  // Most deliveries come whole with their headers, all read once the loop turns (not by the next
  // tick: Node's parser hands over the headers and then the body in calls of their own, each
  // followed by the ticks): only a body still coming then is timed, until its end.
  setImmediate(() => {
    if (stopped || req.complete) return;
    req.once("end", stop);
    timer = setTimeout(check, timeouts.bodyGraceMs);
  });
  return stop;
}

/**
 * The requests whose client waits for 100 Continue before its body, as Node read them (HTTP/1.1
 * and `Expect: 100-continue`; an HTTP/1.0 client takes a 100 for the answer), marked by the
 * listener: the delivery route and /mcp invite those they do not refuse first.
 */
export const awaitingContinue = new WeakSet<IncomingMessage>();

/**
 * Closes the connection of a request answered before its body was read as nginx's lingering close
 * does: the answer says Connection: close and ends the listener's side, and what the sender still
 * sends is read and dropped until the body's end or the sender's own close, for at most lingerMs
 * and lingerMaxBytes. Closed at once, a connection with bytes still coming is reset, and a sender
 * still uploading (fetch, GitHub sending 20 MB) reads EPIPE or ECONNRESET in place of the answer;
 * read to the end, as /mcp is, a stranger's endless body would keep waiter reading.
 */
export function closeOnceRead(req: IncomingMessage, res: ServerResponse, timeouts: ListenerTimeouts): void {
  res.setHeader("connection", "close");
  const socket = req.socket;
  let dropped = 0;
  let lingering = false;
  let closing = false;
  // Once the answer is written: destroyed before, it would be lost. Once: every chunk past the
  // bound that comes meanwhile would wait on the answer's write again.
  const close = () => {
    if (!lingering || closing) return;
    closing = true;
    if (socket.writableFinished) socket.destroy();
    else socket.once("finish", () => socket.destroy());
  };
  // Read here, the body is dropped as it comes: Node does not dump a request that is read.
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > timeouts.lingerMaxBytes) close();
  });
  req.once("end", close);
  // Node closes a connection whose answer says Connection: close with destroySoon once the answer
  // is written, which ends the listener's side and then destroys it with whatever is still coming.
  socket.destroySoon = () => {
    lingering = true;
    socket.end();
    // express.raw pauses a body it finds too large.
    req.resume();
    const cut = setTimeout(() => socket.destroy(), timeouts.lingerMs);
    cut.unref();
    socket.once("close", () => clearTimeout(cut));
    if (req.readableEnded || dropped > timeouts.lingerMaxBytes) close();
  };
}

/**
 * Runs tasks at most `atOnce` at a time, with up to `waiting` more waiting their turn in order of
 * arrival; a task beyond those is not run, and gets undefined.
 */
export function takingTurns(atOnce: number, waiting: number): <T>(task: () => Promise<T>) => Promise<T> | undefined {
  let running = 0;
  const queue: (() => void)[] = [];
  // A finished task hands its place to the first waiting one, so none can slip in between.
  const done = () => {
    const next = queue.shift();
    if (next) next();
    else running -= 1;
  };
  return (task) => {
    if (running < atOnce) {
      running += 1;
      // A task that throws at once gives its place back too.
      return Promise.resolve().then(task).finally(done);
    }
    if (queue.length >= waiting) return undefined;
    return new Promise<void>((turn) => queue.push(turn)).then(() => Promise.resolve().then(task).finally(done));
  };
}
