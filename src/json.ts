/**
 * A JSON text without the UTF-8 byte order mark some senders' frameworks and Windows editors put
 * before it: no part of the JSON text (RFC 8259 §8.1), and JSON.parse refuses it.
 */
export function jsonText(text: string): string {
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}
