import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { describe, expect, test } from "vitest";
import {
  keepAliveWhileIdle,
  leftUnread,
  notificationsUnread,
  UNREAD_CEILING,
  UNREAD_MOST,
} from "../../src/transports/streams.js";

describe("a notification stream left unread", () => {
  test("is one whose connection took none of UNREAD_MOST more messages", () => {
    expect(leftUnread(UNREAD_MOST, 0)).toBe(false);
    expect(leftUnread(UNREAD_MOST + 1, 0)).toBe(true);
    expect(leftUnread(UNREAD_MOST + 300, 300)).toBe(false);
  });

  test("is one with more than UNREAD_CEILING waiting, however steadily its client reads", () => {
    // A client behind a slow link that takes some at each drain, fewer than come.
    expect(leftUnread(UNREAD_CEILING, UNREAD_CEILING - 100)).toBe(false);
    expect(leftUnread(UNREAD_CEILING + 1, UNREAD_CEILING - 100)).toBe(true);
    expect(UNREAD_CEILING).toBeGreaterThan(4 * UNREAD_MOST);
  });
});

describe("keepalives held back while a stream waits", () => {
  test("wrap the SDK transport's own keepalive, and leave a transport without one to open as before", () => {
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const internals = transport as unknown as { startKeepAlive?: unknown };
    const own = internals.startKeepAlive;
    expect(typeof own).toBe("function");
    keepAliveWhileIdle(transport);
    expect(internals.startKeepAlive).not.toBe(own);
    const renamed = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    Object.defineProperty(renamed, "startKeepAlive", { value: undefined });
    expect(() => keepAliveWhileIdle(renamed)).not.toThrow();
  });
});

describe("a notification stream's unread messages", () => {
  test("are none when the SDK names its streams otherwise, so that sending goes on", () => {
    const renamed = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    Object.defineProperty(renamed, "_streamMapping", { value: undefined });
    expect(notificationsUnread(renamed)).toBe(0);
  });
});
