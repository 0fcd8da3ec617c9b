import { isLosslessNumber, parse as parseLossless, stringify as stringifyLossless } from "lossless-json";
import { oneLine } from "../shown.js";
import type { StoredEvent } from "./store.js";

/** A JSON payload parsed so that numbers keep their exact text (order ids beyond 2^53). */
export function parseExact(event: StoredEvent): unknown {
  if (!event.isJson) return undefined;
  try {
    return parseLossless(event.payload);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/** One line about a payload: its top-level scalar fields, cut short. Untrusted text, kept brief. */
function gist(event: StoredEvent): string {
  const parsed = parseExact(event);
  const text = isRecord(parsed)
    ? (stringifyLossless(
        Object.fromEntries(
          Object.entries(parsed).filter(([, v]) => v === null || typeof v !== "object" || isLosslessNumber(v)),
        ),
      ) ?? "")
    : event.payload;
  return oneLine(text, 120);
}

/** One event whole, under the names events_get and the event resource both use. */
export function eventRecord(event: StoredEvent) {
  return {
    id: event.id,
    source: event.source,
    scheme: event.scheme,
    type: event.type,
    delivery_id: event.dedupeId,
    received_at: event.receivedAt,
    ...(event.ackedAt ? { acked_at: event.ackedAt } : {}),
    headers: Object.entries(event.headers).map(([name, value]) => ({ name, value })),
    payload_format: event.isJson ? ("json" as const) : ("text" as const),
    payload: event.payload,
    size: event.size,
  };
}

/** One event in a line: what the list tool and the list resource show. */
export function summary(event: StoredEvent) {
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    received_at: event.receivedAt,
    acked: event.ackedAt !== null,
    gist: gist(event),
  };
}
