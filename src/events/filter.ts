import type { EventFilter, StoredEvent } from "./store.js";

/**
 * A type as shown to a model: one line of at most 100 plain characters. For some schemes it is
 * the payload's own word, which a stranger could fill with newlines and instructions.
 */
export function cleanType(type: string): string {
  const line = type
    .replace(/[^\x20-\x7e]+/g, " ")
    .trim()
    .slice(0, 100);
  return line || "unknown";
}

/** A type filter ending in ".", "/" or "*" is a prefix (without the "*"); else the exact type. */
export function typePrefix(type: string): string | undefined {
  return /[./*]$/.test(type) ? type.replace(/\*$/, "") : undefined;
}

/** What a type filter's matches begin with: its prefix, or the exact type; "" without one. */
export function typeStem(filter: EventFilter): string {
  return filter.type ? (typePrefix(filter.type) ?? filter.type) : "";
}

/** The filter applied to one event, as the SQL of `where` applies it to many. */
export function matchesFilter(filter: EventFilter, event: StoredEvent): boolean {
  if (filter.source && event.source !== filter.source) return false;
  if (filter.type) {
    const prefix = typePrefix(filter.type);
    if (prefix === undefined ? event.type !== filter.type : !event.type.startsWith(prefix)) return false;
  }
  return !(filter.unackedOnly && event.ackedAt !== null);
}
