import { createHmac } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { request } from "undici";
import { expect } from "vitest";
import type { EventStore } from "../src/events/store.js";
import { clock } from "../src/time.js";
import { SERVING, startNode } from "./spawn.js";
import { CLI } from "./stdio.js";

/** A Shopify app's webhooks, as a source configured for them, signed with SHOPIFY_SECRET. */
export const SHOPIFY_SECRET = "shpss_app_client_secret";
export const SHOPIFY_SOURCE = { scheme: "shopify", secretEnv: "SHOPIFY_SECRET" };

/** A paid order as Shopify's orders/paid webhook posts it, trimmed. */
function paidOrder(id: number): string {
  return JSON.stringify({ id, admin_graphql_api_id: `gid://shopify/Order/${id}`, financial_status: "paid" });
}

/** The headers Shopify posts a webhook's delivery with, signature aside. */
function shopifyHeaders(webhookId: string, eventId: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-shopify-topic": "orders/paid",
    "x-shopify-webhook-id": webhookId,
    "x-shopify-event-id": eventId,
    "x-shopify-api-version": "2025-07",
    "x-shopify-shop-domain": "shop.myshopify.com",
  };
}

/**
 * A Shopify delivery across an upgrade from a waiter that keyed each on its webhook id, with the
 * store at `env` (WAITER_DATA_DIR's events.db, or WAITER_DATABASE_URL's database), which `older`
 * has open: a retry of a delivery stored before the upgrade is a repeat of it, stored once, as
 * events_list over MCP shows; and a webhook id, as Shopify shows it, finds the event waiter stored
 * its delivery as, through events_get and events_ack.
 */
export async function shopifyAcrossTheUpgrade(env: Record<string, string>, older: EventStore): Promise<void> {
  const before = { webhook: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", event: "98880550-7158-44d4-b7cd-2c97c8a091b5" };
  const after = { webhook: "c6d1f2a8-3e4b-4c5d-9e6f-7a8b9c0d1e2f", event: "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b" };
  // As the older waiter stored it: keyed on its webhook id.
  const stored = await older.add({
    source: "shop",
    type: "orders/paid",
    scheme: "shopify",
    dedupeId: before.webhook,
    headers: shopifyHeaders(before.webhook, before.event),
    body: Buffer.from(paidOrder(5902813462617)),
    isJson: true,
    receivedAt: clock.now(),
  });
  const waiter = await startNode(
    [CLI, "serve"],
    {
      ...env,
      WAITER_LISTEN: "127.0.0.1:0",
      WAITER_WEBHOOKS_SOURCES: JSON.stringify({ shop: SHOPIFY_SOURCE }),
      SHOPIFY_SECRET,
      // The event stored before is kept, however far the wall clock this process runs by is from the test's.
      WAITER_WEBHOOKS_RETENTION: JSON.stringify({ maxAgeDays: 36_500 }),
    },
    SERVING,
  );
  const deliver = async (ids: { webhook: string; event: string }, order: number) => {
    const body = paidOrder(order);
    const signature = createHmac("sha256", SHOPIFY_SECRET).update(body).digest("base64");
    const posted = await request(`${waiter.said}/webhooks/shop`, {
      method: "POST",
      body,
      headers: { ...shopifyHeaders(ids.webhook, ids.event), "x-shopify-hmac-sha256": signature },
    });
    return { status: posted.statusCode, body: await posted.body.json() };
  };
  const client = new Client({ name: "waiter-tests", version: "0.0.0" });
  try {
    // Shopify retries the delivery the older waiter stored (its answer lost, or late).
    expect(await deliver(before, 5902813462617)).toEqual({ status: 200, body: { id: stored.id, duplicate: true } });
    const now = await deliver(after, 5902813462618);
    expect(now).toEqual({ status: 200, body: { id: expect.any(String), duplicate: false } });
    const { id } = now.body as { id: string };
    await client.connect(new StreamableHTTPClientTransport(new URL(`${waiter.said}/mcp`)));
    const call = async (name: string, args: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult;
    const said = (result: CallToolResult) => (result.content[0] as { text: string }).text;
    for (const [webhook, event] of [
      [before.webhook, stored.id],
      [after.webhook, id],
    ]) {
      const named = `"${webhook}" is the sender's delivery id of event ${event} (source "shop"): pass waiter's event id instead.`;
      const got = await call("events_get", { id: webhook });
      expect(got.isError).toBe(true);
      expect(said(got)).toContain(named);
      expect((await call("events_ack", { ids: [webhook] })).structuredContent).toMatchObject({
        acked: [],
        unknown: [webhook],
        note: named,
      });
    }
    const listed = (await call("events_list", { source: "shop" })).structuredContent as { events: { id: string }[] };
    expect(listed.events.map((e) => e.id)).toEqual([id, stored.id]);
  } finally {
    await client.close();
    waiter.child.kill("SIGKILL");
    await waiter.exited;
  }
}
