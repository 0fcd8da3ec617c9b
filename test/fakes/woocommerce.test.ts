import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { setClock } from "../../src/time.js";
import {
  CONSUMER_KEY,
  CONSUMER_SECRET,
  READ_ONLY_CONSUMER_KEY,
  READ_ONLY_CONSUMER_SECRET,
  startWooCommerce,
  WOO_IDS,
  type WooCommerceFake,
} from "./woocommerce.js";

const sample = (name: string) =>
  JSON.parse(readFileSync(new URL(`./samples/${name}`, import.meta.url), "utf8")) as Record<string, unknown>;

let woo: WooCommerceFake;

beforeAll(async () => {
  woo = await startWooCommerce();
});

afterAll(async () => {
  await woo?.close();
});

beforeEach(() => {
  woo.shop.reset();
  woo.settings.stripAuthorization = false;
  woo.settings.plainHttp = false;
});

const basic = (key = CONSUMER_KEY, secret = CONSUMER_SECRET) =>
  `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`;

interface Call {
  method?: string;
  auth?: string | null;
  body?: unknown;
}

async function call(path: string, { method = "GET", auth = basic(), body }: Call = {}) {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${woo.api}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as unknown };
}

/** Response bodies, typed just enough to index into; expect() checks the rest. */
interface Item {
  id: number;
  [key: string]: unknown;
}
interface ErrorBody {
  code: string;
  message: string;
  data: { status: number; params: Record<string, unknown>; details: Record<string, { code: string }> };
}
const items = (res: { json: unknown }) => res.json as Item[];
const item = (res: { json: unknown }) => res.json as Item;
const err = (res: { json: unknown }) => res.json as ErrorBody;

const ids = (res: { json: unknown }) => items(res).map((entry) => entry.id);

describe("authentication", () => {
  test("Basic auth and query-string keys both work", async () => {
    expect((await call("/orders")).status).toBe(200);
    const viaQuery = await call(`/orders?consumer_key=${CONSUMER_KEY}&consumer_secret=${CONSUMER_SECRET}`, {
      auth: null,
    });
    expect(viaQuery.status).toBe(200);
  });

  test("no credentials, or an unknown key, leave the request anonymous: 401 woocommerce_rest_cannot_view", async () => {
    const cannotList = {
      code: "woocommerce_rest_cannot_view",
      message: "Sorry, you cannot list resources.",
      data: { status: 401 },
    };
    expect((await call("/orders", { auth: null })).json).toEqual(cannotList);
    const unknown = await call("/orders", { auth: basic(`ck_${"0".repeat(40)}`, `cs_${"0".repeat(40)}`) });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(cannotList);
    const single = await call(`/orders/${WOO_IDS.orders.processing}`, { auth: null });
    expect(single.json).toEqual({
      code: "woocommerce_rest_cannot_view",
      message: "Sorry, you cannot view this resource.",
      data: { status: 401 },
    });
  });

  test("a known key with a wrong secret is woocommerce_rest_authentication_error", async () => {
    const res = await call("/orders", { auth: basic(CONSUMER_KEY, `cs_${"1".repeat(40)}`) });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      code: "woocommerce_rest_authentication_error",
      message: "Consumer secret is invalid.",
      data: { status: 401 },
    });
  });

  test("a host that strips Authorization: Basic fails, query keys still work", async () => {
    woo.settings.stripAuthorization = true;
    expect(err(await call("/orders")).code).toBe("woocommerce_rest_cannot_view");
    const viaQuery = await call(`/orders?consumer_key=${CONSUMER_KEY}&consumer_secret=${CONSUMER_SECRET}`, {
      auth: null,
    });
    expect(viaQuery.status).toBe(200);
  });

  test("over plain http neither Basic auth nor query keys are read: every request is anonymous", async () => {
    woo.settings.plainHttp = true;
    expect(err(await call("/orders")).code).toBe("woocommerce_rest_cannot_view");
    const viaQuery = await call(`/orders?consumer_key=${CONSUMER_KEY}&consumer_secret=${CONSUMER_SECRET}`, {
      auth: null,
    });
    expect(err(viaQuery).code).toBe("woocommerce_rest_cannot_view");
  });

  test("a read-only key reads but cannot write", async () => {
    const auth = basic(READ_ONLY_CONSUMER_KEY, READ_ONLY_CONSUMER_SECRET);
    expect((await call("/products", { auth })).status).toBe(200);
    const res = await call(`/orders/${WOO_IDS.orders.pendingStockManaged}`, {
      method: "PUT",
      auth,
      body: { set_paid: true },
    });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      code: "woocommerce_rest_authentication_error",
      message: "The API key provided does not have write permissions.",
      data: { status: 401 },
    });
    expect(woo.shop.order(WOO_IDS.orders.pendingStockManaged).status).toBe("pending");
    expect(woo.shop.writes).toMatchObject([{ method: "PUT", status: 401 }]);
  });
});

describe("paging", () => {
  test("X-WP-Total, X-WP-TotalPages, Link, newest first", async () => {
    const first = await call("/orders");
    expect(first.headers.get("x-wp-total")).toBe("28");
    expect(first.headers.get("x-wp-totalpages")).toBe("3");
    expect(first.json).toHaveLength(10);
    expect(items(first)[0]?.id).toBe(WOO_IDS.orders.pendingStockManaged);
    const dates = items(first).map((o) => o.date_created_gmt as string);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(first.headers.get("link")).toBe(`<${woo.api}/orders?page=2>; rel="next"`);
    // PHP's json_encode escapes slashes.
    expect(first.text).toContain(`"self":[{"href":"${woo.api.replace(/\//g, "\\/")}\\/orders\\/7084"}]`);
  });

  test("Link carries the request's query, credentials included, with page replaced", async () => {
    const q = `consumer_key=${CONSUMER_KEY}&consumer_secret=${CONSUMER_SECRET}`;
    const second = await call(`/orders?per_page=10&${q}&page=2&utm_source=a b`, { auth: null });
    expect(second.headers.get("link")).toBe(
      `<${woo.api}/orders?per_page=10&${q}&page=1&utm_source=a+b>; rel="prev", <${woo.api}/orders?per_page=10&${q}&page=3&utm_source=a+b>; rel="next"`,
    );
    const last = await call("/orders?page=3");
    expect(last.json).toHaveLength(8);
    expect(last.headers.get("link")).toBe(`<${woo.api}/orders?page=2>; rel="prev"`);
    const beyond = await call("/orders?page=4");
    expect(beyond.json).toEqual([]);
    expect(beyond.headers.get("x-wp-total")).toBe("28");
  });

  test("per_page over 100 is refused as WordPress does", async () => {
    const res = await call("/orders?per_page=101");
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject(sample("woocommerce-v3-error-per_page-400-RECONSTRUCTED.json"));
    expect(err(res).data.details.per_page?.code).toBe("rest_out_of_bounds");
    expect(err(await call("/orders?page=0")).data.params).toEqual({ page: "page must be greater than or equal to 1" });
    expect(err(await call("/products?per_page=abc")).data.params).toEqual({
      per_page: "per_page is not of type integer.",
    });
  });
});

describe("order filters", () => {
  test("status as a comma list, as status[], and a repeated plain name keeping only the last", async () => {
    const list = await call("/orders?status=pending,failed&per_page=100");
    expect(new Set(items(list).map((o) => o.status))).toEqual(new Set(["pending", "failed"]));
    expect(list.json).toHaveLength(7);
    expect((await call("/orders?status[]=on-hold&status[]=refunded")).json).toHaveLength(4);
    expect((await call("/orders?status=on-hold&status=refunded")).json).toHaveLength(2);
    const bad = await call("/orders?status=paid");
    expect(err(bad).data.params.status).toBe(
      "status[0] is not one of any, trash, pending, processing, on-hold, completed, cancelled, refunded, failed, checkout-draft, and shipped.",
    );
  });

  test("every status the shop has, a plugin's too, is listed with its name and orders by /reports/orders/totals", async () => {
    const totals = (await call("/reports/orders/totals")).json as { slug: string; name: string; total: number }[];
    expect(totals.find((s) => s.slug === "shipped")).toEqual({ slug: "shipped", name: "Shipped", total: 0 });
    expect(totals.find((s) => s.slug === "pending")).toMatchObject({ name: "Pending payment" });
    expect(totals.map((s) => s.slug)).not.toContain("trash");
    expect(totals.reduce((sum, s) => sum + s.total, 0)).toBe(
      [...woo.shop.orders.values()].filter((o) => o.status !== "trash").length,
    );
  });

  test("customer, search, after/before", async () => {
    expect(ids(await call("/orders?customer=33"))).toEqual([7078, 7051, 7003]);
    expect(ids(await call("/orders?search=anna.schmidt@example.de"))).toEqual([7078, 7051, 7003]);
    expect(ids(await call("/orders?search=7063"))).toEqual([7063]);
    const range = await call("/orders?after=2026-11-06T15:44:50&before=2026-11-15T10:02:44");
    expect(ids(range)).toEqual([7078, 7075]);
    const withOffset = await call(`/orders?after=${encodeURIComponent("2026-11-15T09:02:43Z")}`);
    expect(ids(withOffset)).toEqual([7084, 7081]);
    const invalid = await call("/orders?after=2026-11-01");
    expect(err(invalid).data.params).toEqual({ after: "Invalid date." });
  });

  test("a numbering plugin's number is the order's number, and its search finds it", async () => {
    // Sequential Order Numbers Pro with a prefix: _order_number, and _order_number_formatted shown.
    const order = woo.shop.order(WOO_IDS.orders.processing);
    order.meta_data.push(
      { id: 9001, key: "_order_number", value: "42" },
      { id: 9002, key: "_order_number_formatted", value: "WC-0042" },
    );
    const one = (await call(`/orders/${order.id}`)).json as Item;
    expect(one.number).toBe("WC-0042");
    expect(ids(await call("/orders?search=wc-0042"))).toEqual([order.id]);
    // The id still finds it; another order's number stays its id.
    expect(ids(await call(`/orders?search=${order.id}`))).toEqual([order.id]);
    expect(((await call("/orders/7063")).json as Item).number).toBe("7063");
  });
});

describe("order updates", () => {
  const pending = WOO_IDS.orders.pendingStockManaged;

  test("set_paid twice reduces stock once", async () => {
    const { espresso, paperFilters, grinder } = WOO_IDS.products;
    const first = await call(`/orders/${pending}`, {
      method: "PUT",
      body: { set_paid: true, transaction_id: "pi_123" },
    });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ status: "processing", transaction_id: "pi_123", needs_payment: false });
    expect(item(first).date_paid).toEqual(expect.any(String));
    expect(woo.shop.product(espresso).stock_quantity).toBe(38);
    expect(woo.shop.product(paperFilters).stock_quantity).toBe(249);
    expect(woo.shop.product(grinder).stock_quantity).toBeNull();
    const second = await call(`/orders/${pending}`, { method: "PUT", body: { set_paid: true } });
    expect(item(second).date_paid).toBe(item(first).date_paid);
    expect(woo.shop.product(espresso).stock_quantity).toBe(38);
    expect(woo.shop.writes.filter((w) => w.method === "PUT")).toHaveLength(2);
    const notes = items(await call(`/orders/${pending}/notes`)).map((n) => n.note);
    expect(notes).toEqual([
      "Order status changed from Pending payment to Processing.",
      "Stock levels reduced: Espresso Beans 1 kg (COF-ESP-1KG) 40&rarr;38, Paper Filters (100 pcs) (FLT-100) 250&rarr;249",
    ]);
  });

  test("a status change to processing reduces stock; cancelling restores it", async () => {
    await call(`/orders/${pending}`, { method: "POST", body: { status: "processing" } });
    expect(woo.shop.product(WOO_IDS.products.espresso).stock_quantity).toBe(38);
    expect(woo.shop.order(pending).datePaid).not.toBeNull();
    await call(`/orders/${pending}`, { method: "PUT", body: { status: "cancelled" } });
    expect(woo.shop.product(WOO_IDS.products.espresso).stock_quantity).toBe(40);
  });

  test("set_paid on an order that needs no payment changes nothing", async () => {
    const onHold = WOO_IDS.orders.onHold;
    const res = await call(`/orders/${onHold}`, { method: "PUT", body: { set_paid: true } });
    expect(res.json).toMatchObject({ status: "on-hold", date_paid: null });
  });

  test("stock can go below zero: a managed product with no backorders goes out of stock", async () => {
    await call(`/orders/${WOO_IDS.orders.pendingLowStock}`, { method: "PUT", body: { set_paid: true } });
    expect(woo.shop.product(WOO_IDS.products.apron)).toMatchObject({ stock_quantity: -1, stock_status: "outofstock" });
  });

  test("an unknown status is rest_invalid_param", async () => {
    const res = await call(`/orders/${pending}`, { method: "PUT", body: { status: "paid" } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      code: "rest_invalid_param",
      message: "Invalid parameter(s): status",
      data: {
        status: 400,
        params: {
          status:
            "status is not one of pending, processing, on-hold, completed, cancelled, refunded, failed, checkout-draft, and shipped.",
        },
      },
    });
    expect(woo.shop.order(pending).status).toBe("pending");
  });

  test("unknown ids: 404 on GET, 400 on update", async () => {
    const missing = await call("/orders/999999");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual(sample("woocommerce-v3-error-order-invalid-id-404-RECONSTRUCTED.json"));
    const update = await call("/orders/999999", { method: "PUT", body: { status: "completed" } });
    expect(update.status).toBe(400);
    expect(err(update).code).toBe("woocommerce_rest_shop_order_invalid_id");
  });
});

describe("notes", () => {
  test("create, list newest first, filter by type", async () => {
    const order = WOO_IDS.orders.withCustomerNote;
    const created = await call(`/orders/${order}/notes`, { method: "POST", body: { note: "Called the customer." } });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`${woo.api}/orders/${order}/notes/${item(created).id}`);
    expect(created.json).toMatchObject({ author: "WooCommerce", note: "Called the customer.", customer_note: false });
    expect(item(created).date_created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const list = await call(`/orders/${order}/notes`);
    expect(items(list)[0]?.id).toBe(item(created).id);
    const forCustomer = await call(`/orders/${order}/notes?type=customer`);
    expect(forCustomer.json).toHaveLength(1);
    expect(items(forCustomer)[0]).toMatchObject({ customer_note: true, author: "Shop Admin" });
    const missing = await call(`/orders/${order}/notes`, { method: "POST", body: {} });
    expect(missing.json).toEqual({
      code: "rest_missing_callback_param",
      message: "Missing parameter(s): note",
      data: { status: 400, params: ["note"] },
    });
    expect(err(await call("/orders/1/notes")).code).toBe("woocommerce_rest_shop_order_invalid_id");
  });
});

describe("products and customers", () => {
  test("sku, stock_status and search filters", async () => {
    const bySku = await call(`/products?sku=${WOO_IDS.skus.espresso}`);
    expect(ids(bySku)).toEqual([WOO_IDS.products.espresso]);
    expect(items(bySku)[0]).toMatchObject({
      price: "19.99",
      manage_stock: true,
      stock_quantity: 40,
      stock_status: "instock",
    });
    expect(ids(await call("/products?stock_status=onbackorder")).sort()).toEqual([104, 111]);
    expect(ids(await call("/products?search=beans")).sort()).toEqual([101, 110]);
    expect((await call("/products?per_page=100")).headers.get("x-wp-total")).toBe("18");
    expect((await call("/products/424242")).json).toEqual({
      code: "woocommerce_rest_product_invalid_id",
      message: "Invalid ID.",
      data: { status: 404 },
    });
  });

  test("stock_quantity counts only when stock is managed", async () => {
    const { grinder, espresso } = WOO_IDS.products;
    const unmanaged = await call(`/products/${grinder}`, { method: "PUT", body: { stock_quantity: 7 } });
    expect(unmanaged.json).toMatchObject({ manage_stock: false, stock_quantity: null });
    const managed = await call(`/products/${grinder}`, {
      method: "PUT",
      body: { manage_stock: true, stock_quantity: 7 },
    });
    expect(managed.json).toMatchObject({ manage_stock: true, stock_quantity: 7, stock_status: "instock" });
    const empty = await call(`/products/${espresso}`, { method: "PUT", body: { stock_quantity: 0 } });
    expect(empty.json).toMatchObject({ stock_quantity: 0, stock_status: "outofstock" });
  });

  test("customers: by display name, email filter, role, unknown id", async () => {
    const list = await call("/customers?per_page=100");
    expect(list.headers.get("x-wp-total")).toBe("13");
    expect(items(list)[0]?.first_name).toBe("Anna");
    expect(ids(await call("/customers?email=john.doe@example.com"))).toEqual([WOO_IDS.customers.johnDoe]);
    expect(ids(await call("/customers?search=novak")).sort()).toEqual([31, 39]);
    // Customers only, unless every role is asked for.
    expect(ids(await call("/customers?email=admin@coffee-shop.example"))).toEqual([]);
    expect(ids(await call("/customers?email=admin@coffee-shop.example&role=all"))).toEqual([WOO_IDS.customers.admin]);
    expect((await call("/customers?role=all&per_page=100")).headers.get("x-wp-total")).toBe("14");
    expect((await call("/customers/99999")).json).toEqual({
      code: "wc_user_invalid_id",
      message: "Invalid user ID.",
      data: { status: 404 },
    });
  });
});

test("in a subdirectory, or with plain permalinks, the REST API is where WordPress serves it", async () => {
  const [subdirectory, plain] = await Promise.all([
    startWooCommerce({ home: "/shop" }),
    startWooCommerce({ plainPermalinks: true }),
  ]);
  try {
    const get = (url: string) => fetch(url, { headers: { authorization: basic() } });
    expect(subdirectory.api).toBe(`${subdirectory.origin}/shop/wp-json/wc/v3`);
    expect((await get(`${subdirectory.api}/orders`)).status).toBe(200);
    const root = await get(`${subdirectory.origin}/wp-json/wc/v3/orders`);
    expect([root.status, root.headers.get("content-type")]).toEqual([404, "text/html; charset=UTF-8"]);
    const pretty = await get(`${plain.api}/orders`);
    expect([pretty.status, pretty.headers.get("content-type")]).toEqual([404, "text/html; charset=UTF-8"]);
    // Served, but WooCommerce 9-10 reads no key for a URI without wp-json/wc/ in it.
    const routed = await get(`${plain.origin}/?rest_route=/wc/v3/orders`);
    expect([routed.status, ((await routed.json()) as { code: string }).code]).toEqual([
      401,
      "woocommerce_rest_cannot_view",
    ]);
  } finally {
    await Promise.all([subdirectory.close(), plain.close()]);
  }
});

test("WordPress's index says the site's time zone, a city's with its offset now or a fixed one, and takes no consumer key", async () => {
  const index = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${woo.origin}/wp-json/?_fields=gmt_offset,timezone_string`, { headers });
    return [res.status, await res.json()];
  };
  expect(await index()).toEqual([200, { gmt_offset: "1", timezone_string: "" }]);
  woo.shop.timeZone = "Europe/Prague";
  try {
    setClock("2026-07-01T12:00:00Z");
    expect(await index()).toEqual([200, { gmt_offset: 2, timezone_string: "Europe/Prague" }]);
    // date_created is the wall time when the order was placed (November: +01:00), not at the offset now.
    const order = (await (
      await fetch(`${woo.api}/orders/${WOO_IDS.orders.pending1999}`, { headers: { authorization: basic() } })
    ).json()) as Record<string, string>;
    expect(Date.parse(`${order.date_created}Z`) - Date.parse(`${order.date_created_gmt}Z`)).toBe(3_600_000);
    // WordPress reads HTTP Basic on its own routes as an application password, of no user here.
    const [status, body] = await index({ authorization: basic() });
    expect([status, (body as { code: string }).code]).toEqual([401, "invalid_username"]);
  } finally {
    setClock();
  }
});

test("an unknown route is rest_no_route", async () => {
  const res = await call("/nothing-here");
  expect(res.status).toBe(404);
  expect(res.json).toEqual(sample("woocommerce-v3-error-rest_no_route-404.json"));
  expect(err(await call("/orders", { method: "DELETE" })).code).toBe("rest_no_route");
});
