/**
 * A body's text without the UTF-8 byte order mark some senders' frameworks put before their JSON:
 * no part of the JSON text (RFC 8259 §8.1), and JSON.parse refuses it.
 */
export function jsonText(text: string): string {
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}
