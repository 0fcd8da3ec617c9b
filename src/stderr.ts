import { fstatSync } from "node:fs";

// Loaded before waiter checks the Node.js version (cli.ts): written as Node.js 12 reads it.

/** The syslog priority of each of the log's levels, which journald takes from a line that begins "<N>". */
const PRIORITY = { debug: 7, info: 6, notice: 5, warning: 4, error: 3 };

/**
 * Whether stderr is a stream into journald: systemd names it in JOURNAL_STREAM, which a program
 * started from the service with stderr elsewhere (a pipe, a file) inherits, so it is compared.
 */
function stderrIsJournal(): boolean {
  const stream = process.env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const { dev, ino } = fstatSync(2);
    return stream === `${dev}:${ino}`;
  } catch {
    return false;
  }
}

let journal: boolean | undefined;

/**
 * Writes a line to stderr; into journald, with its level as the entry's priority, which journald
 * would otherwise make info for every line (`journalctl -p warning` would show none).
 */
export function toStderr(line: string, level: keyof typeof PRIORITY): void {
  if (journal === undefined) {
    journal = stderrIsJournal();
    // A stderr whose reader is gone (EPIPE: the client, or the pipe to a log shipper, closed its
    // end) loses the log lines, not the server: unheard, its error would stop waiter as an
    // uncaught exception, while its client still talks to it on stdin and stdout.
    process.stderr.on("error", () => {});
  }
  process.stderr.write(journal ? `<${PRIORITY[level]}>${line}` : line);
}
