import { describe, expect, test } from "vitest";
import { leftUnread, UNREAD_CEILING, UNREAD_MOST } from "../../src/transports/streams.js";

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
