import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { clock, offsetMinutes } from "../../src/time.js";
import { wpSanitizeTextField } from "../../src/wordpress.js";
import { type Fake, type FakeAnswer, type SeenRequest, startFake } from "./http.js";

/**
 * A WooCommerce shop's REST API v3 (`/wp-json/wc/v3/...`) as WooCommerce 9-10 on WordPress 6.x
 * answers it over HTTPS, for the requests waiter sends. Faithful to WooCommerce's PHP source
 * (WC_REST_Authentication, the v3 order, product, customer and order-note controllers,
 * wc-stock-functions.php, WC_Order) and WordPress's REST server (rest_validate_value_from_schema):
 *
 * - Auth: `consumer_key`/`consumer_secret` query parameters first (both must be non-empty), else
 *   HTTP Basic (`stripAuthorization` plays a host that drops the Authorization header). No key, or
 *   an unknown one, is not an error in WooCommerce: the request just stays anonymous, and the
 *   endpoint's own check answers 401 `woocommerce_rest_cannot_view` ("Sorry, you cannot list
 *   resources." / "... view this resource."). A known key with a wrong secret is 401
 *   `woocommerce_rest_authentication_error` "Consumer secret is invalid."; a read key on
 *   POST/PUT/PATCH/DELETE is 401 "The API key provided does not have write permissions."
 * - Order of checks as in WP_REST_Server: authentication, key permissions, route
 *   (404 `rest_no_route`), parameter validation (400 `rest_invalid_param` with `params` and
 *   `details`, or `rest_missing_callback_param`), the endpoint's permission check (401), the handler.
 * - Lists: `page`, `per_page` (1..100), `search`; headers X-WP-Total, X-WP-TotalPages and one
 *   `Link` header whose rel="prev" and rel="next" URLs are the request's own query (credentials
 *   included, PHP-urlencoded) with `page` changed. Query strings are read as PHP reads them:
 *   `status=a&status=b` keeps only `b`; `status[]=a&status[]=b` and `status=a,b` are lists.
 *   Orders come newest first (by date, then ID), products by their local date (post_date), then ID, customers (role `customer` unless `role` says) by
 *   display name: the defaults, as `order`/`orderby` are not modelled but for customers. A search, a SKU and an
 *   email compare as the database's collation (utf8mb4_0900_ai_ci) does: letter case and accents aside.
 * - Orders in WooCommerce's statuses, the block checkout's `checkout-draft` (which `any` leaves
 *   out), a plugin's `shipped`, which nothing in WooCommerce sets, and the trash (`trash`: deleted
 *   in the admin, or by DELETE without `force`, which is not modelled; `any` leaves it out too, and
 *   a GET by id reads it with its status `trash`). `/reports/orders/totals` lists every status but
 *   the trash, by slug and name, with its count of orders; lists and updates take each slug.
 * - Order numbers: an order's id, unless a numbering plugin's meta (`_order_number`, or
 *   `_order_number_formatted` with a prefix, as Sequential Order Numbers keeps them) gives it
 *   another, which is its `number` and which the search finds as it finds an address.
 * - Orders: `status`, `customer`, `search` (a "+" in it read as a space, as the order tables'
 *   search urldecodes the term again), `after`/`before` (strictly after/before, site-local
 *   unless the value carries an offset), `dates_are_gmt`, `exclude` (ids), `offset`. PUT/POST/PATCH `/orders/{id}` with
 *   `transaction_id`, `status`, `set_paid`, like save_object(): props, then `status` (transition:
 *   date_paid, date_completed, stock reduced once on processing/completed/on-hold, restored on
 *   cancelled/pending, notes; refunded records a refund of what is left, as wc_order_fully_refunded()
 *   does, without the gateway), then `set_paid: true` only when needs_payment() (pending or failed,
 *   total > 0) runs payment_complete(). An unknown id on update is 400 "Invalid ID." (404 on GET).
 * - Line items: a simple product's (`product_id`), or a variation's (`variation_id` beside its
 *   product's id, and the variation's SKU), with their meta as get_all_formatted_meta_data() shows it
 *   (`display_key`, `display_value`; the key and value where a test gives none).
 * - Taxes: one rate, Austria's, on the orders of buyers there; prices before tax, as WooCommerce
 *   stores them. Each line item and shipping line carries its tax; a tax line (`tax_lines`) has the
 *   rate's tax on the items (`tax_total`) and on shipping (`shipping_tax_total`) apart, and the
 *   order's `total_tax` is both.
 * - Order refunds: GET `/orders/{id}/refunds` (newest first, with the line items they refund; an unknown
 *   order has none), each with `refunded_payment`: true for the gateway's, false for those only
 *   recorded (by hand, or by a status set to refunded).
 * - Order notes: GET (newest first, `type` any/customer/internal, no paging) and POST (`note`,
 *   `customer_note`, `added_by_user`: the note is the key's user's, by display name, else the
 *   system's; 201 + Location). The system's notes read with the author WC_Order::add_order_note()
 *   gives them, "WooCommerce": WC_REST_Order_Notes_Controller says "system" only of an author
 *   "woocommerce", in lower case.
 * - Variations: products of their own (type `variation`, `parent_id`, named as
 *   generate_product_title() names them), which GET /products/{id} reads and the `sku` filter finds,
 *   with `manage_stock` "parent" and their product's stock where it counts one for all; PUT
 *   /products/{id} refuses them (404 woocommerce_rest_invalid_product_id, as WooCommerce's products
 *   endpoint writes no variation); /products/{product_id}/variations lists them and
 *   /products/{product_id}/variations/{id} reads and writes one (`manage_stock`, `stock_quantity`),
 *   answered as WC_REST_Product_Variations_Controller does, without name, type or parent. A
 *   variation's `attributes` leave out one left to "Any …", as get_attributes() does.
 * - Products: `sku` (comma list, and the whole of it), `stock_status`, `search` (name and descriptions),
 *   `after`/`before`/`dates_are_gmt` on the date created, as the orders', `exclude`, `offset`; GET by id;
 *   variable products (parents) with their variations' ids and lowest price, their stock counted on
 *   the product (`manage_stock`) or else per variation, their stock status then as data; a sale
 *   price with its dates, on sale (`on_sale`, the sale price as `price`) between them, as
 *   WC_Product::is_on_sale() decides and the scheduled-sales job sets the price (`storedPrice`: a
 *   price the job has not moved yet, as is_on_sale() reads the dates and not the price);
 *   PUT `manage_stock` and `stock_quantity`, which only counts when stock is managed; with the
 *   shop-wide "Enable stock management" off (`manageStock`), every product reads `manage_stock:
 *   false` and a PUT leaves its stock as it was (orders' stock is not modelled so); stock_status
 *   follows the quantity (instock above the shop's "Out of stock threshold", `outOfStockThreshold`,
 *   default 0; else onbackorder if backorders are allowed, else outofstock).
 * - Customers: `email`, else `search` (login, email, nicename, display name), `orderby` name or id,
 *   `order`; GET by id.
 * - Settings: GET `/settings/general/woocommerce_calc_taxes` (`calcTaxes`, on) and
 *   `/settings/tax/woocommerce_prices_include_tax` (`pricesIncludeTax`, off, as the orders are).
 * - JSON as PHP's json_encode writes it, slashes escaped as `\/`.
 *
 * - Where it is: at the site's root or in a subdirectory (`home`), with pretty permalinks
 *   (`/wp-json/...`) or plain ones (only `?rest_route=/...`, which also wins over the path when
 *   both are there, as WP::parse_request() reads it, and where no key is read: WooCommerce before
 *   11.1 takes one only for a URI that names wp-json/wc/); over https, or plain http
 *   (`plainHttp`), where a key is taken only as an OAuth 1.0a signature.
 *
 * Not modelled: parameters and writable fields other than those above (ignored), bodies other
 * than JSON, creating or deleting resources (404 `rest_no_route`), OAuth 1.0a signatures,
 * tax classes, compound rates, rounding at subtotal, coupons, refunds via the API, variations'
 * own prices, sales and trash (a variable product keeps its variations' prices, as
 * WC_Product_Variable::sync() does), total_sales bookkeeping, `_fields`, `_embed`.
 * Data: the documentation's sample product (794) and customer (25), plus a made-up coffee shop.
 */

const sample = (name: string) => readFileSync(new URL(`./samples/${name}`, import.meta.url), "utf8");

interface WpErrorBody {
  code: string;
  message: string;
  data: { status: number } & Record<string, unknown>;
}

const PRODUCT_SAMPLE = JSON.parse(sample("woocommerce-v3-product-retrieve.json")) as Record<string, unknown>;
const CUSTOMER_SAMPLE = JSON.parse(sample("woocommerce-v3-customer-retrieve.json")) as {
  id: number;
  date_created_gmt: string;
  date_modified_gmt: string;
  email: string;
  first_name: string;
  last_name: string;
  username: string;
  billing: Address;
  shipping: Address;
};
const NO_ROUTE = JSON.parse(sample("woocommerce-v3-error-rest_no_route-404.json")) as WpErrorBody;
const ORDER_INVALID_ID = JSON.parse(
  sample("woocommerce-v3-error-order-invalid-id-404-RECONSTRUCTED.json"),
) as WpErrorBody;

// ---------------------------------------------------------------------------------------------
// Public constants

/** The read/write key pair (permission `read_write`), owned by the shop's administrator. */
export const CONSUMER_KEY = "ck_228e704c201b7afca83657b3cc028cfd40f0d939";
export const CONSUMER_SECRET = "cs_52428c91b453307f688eea274d4d339657470e79";
/** A key pair whose permission is `read`: writes get 401. */
export const READ_ONLY_CONSUMER_KEY = "ck_0ad3d2d6b740c69afd2b522df5a8212315794af6";
export const READ_ONLY_CONSUMER_SECRET = "cs_2c02909fde7666693dc3b1802c8ef3ed54758c84";
/**
 * The site's timezone setting (Settings → General) unless a test names a city's: a fixed "UTC+1"
 * (timezone_string empty, gmt_offset "1"), date_created this far ahead of date_created_gmt.
 */
export const SITE_UTC_OFFSET_MINUTES = 60;
export const CURRENCY = "EUR";

/** Ids a test can rely on. */
export const WOO_IDS = {
  orders: {
    /** Newest order: pending, unpaid, customer 31; 2 × product 101 and 1 × 107 (stock managed) and 1 × 105 (not). Total 98.87. */
    pendingStockManaged: 7084,
    /** Pending guest order, unpaid: 1 × product 101, local pickup. Total "19.99". */
    pending1999: 7081,
    /** Pending, customer 33: 2 × product 112 (stock 1) and 1 × 110. */
    pendingLowStock: 7078,
    /** Paid, processing, stock already reduced. */
    processing: 7075,
    /** On hold (bank transfer awaited), unpaid, stock already reduced. */
    onHold: 7072,
    /** On hold, from Austria: 2 × product 110 (23.80) and flat-rate shipping (4.90) at USt 20%: tax 4.76 + 0.98. */
    taxed: 7042,
    failed: 7069,
    completed: 7063,
    cancelled: 7048,
    refunded: 7036,
    /** Completed, total 26.86, of which 6.99 refunded (one pack of product 113): still completed. */
    partlyRefunded: 7039,
    /** Completed order that carries a note to the customer among its notes. */
    withCustomerNote: 7051,
    /** Oldest order. */
    oldest: 7003,
  },
  products: {
    /** "Espresso Beans 1 kg", SKU COF-ESP-1KG, "19.99", stock managed, 40 in stock. */
    espresso: 101,
    /** Stock managed, 3 in stock. */
    filterCoffee: 102,
    /** Stock managed, 0, backorders not allowed: outofstock. */
    ceramicMug: 103,
    /** Stock managed, 0, backorders allowed: onbackorder. */
    travelMug: 104,
    /** Stock not managed, instock. */
    grinder: 105,
    /** Stock not managed, outofstock. */
    dripper: 106,
    /** Stock managed, 250. */
    paperFilters: 107,
    /** Virtual and downloadable. */
    ebook: 109,
    /** Stock managed, 12. */
    decaf: 110,
    /** No SKU; stock not managed, onbackorder. */
    frother: 111,
    /** Stock managed, 1. */
    apron: 112,
    /** On sale: regular "8.49", price "6.99"; stock managed, 60. */
    tablets: 113,
    /** Regular "39.00", sale "33.00" from 2026-12-01 00:00 to 2026-12-24 23:59:59 site time (UTC+1). */
    giftBox: 115,
    /** The documentation's sample product: no SKU, stock not managed. */
    docsSample: 794,
    /** Variable, SKU COF-HOUSE, from "8.90": stock kept per variation (117: 250 g, 12 in stock; 118: 1 kg, not counted). */
    houseBlend: 116,
    /** Variable (variations 120, 121): its stock counted on the product, 4. */
    tastingSet: 119,
  },
  customers: {
    /** The documentation's sample customer John Doe, john.doe@example.com. */
    johnDoe: 25,
    /** Jana Nováková, jana.novakova@example.cz: orders 7015, 7066, 7084. */
    jana: 31,
    /** Anna Schmidt, anna.schmidt@example.de: orders 7003, 7051, 7078. */
    anna: 33,
    /** The administrator who owns the API keys: not listed under the default role=customer. */
    admin: 1,
  },
  skus: { espresso: "COF-ESP-1KG", paperFilters: "FLT-100" },
} as const;

// ---------------------------------------------------------------------------------------------
// Shop state

export type StockStatus = "instock" | "outofstock" | "onbackorder";
export type OrderStatus =
  | "pending"
  | "processing"
  | "on-hold"
  | "completed"
  | "cancelled"
  | "refunded"
  | "failed"
  | "checkout-draft"
  /** A plugin's (a shipment tracker's), registered as wc-shipped: WooCommerce itself sets it never. */
  | "shipped"
  /** In the trash: no order status WooCommerce takes in a PUT, but the one it reads a trashed order with. */
  | "trash";

export interface Address {
  first_name: string;
  last_name: string;
  company: string;
  address_1: string;
  address_2: string;
  city: string;
  state: string;
  postcode: string;
  country: string;
  email?: string;
  phone: string;
}

export interface WooProduct {
  id: number;
  name: string;
  type: "simple" | "variable" | "variation";
  /** publish, draft, pending or private. */
  status: string;
  /**
   * A variable product's variations: their ids and prices, as WooCommerce keeps them synced on
   * the product (WC_Product_Variable::sync()); each is a product of its own too.
   */
  variations: { id: number; price: string }[];
  /** A variation's variable product. */
  parent_id?: number;
  /** A variation's attributes: the attribute's name and the variation's option of it ("" for "Any …"). */
  attributes?: { name: string; option: string }[];
  slug: string;
  sku: string;
  regular_price: string;
  sale_price: string;
  /** The sale's first and last instant, when scheduled. */
  saleFrom: Date | null;
  saleTo: Date | null;
  /**
   * The price WooCommerce keeps (`_price`), which it charges, where its scheduled-sales job has not
   * yet moved it since the sale started or ended (wc_scheduled_sales()); unset, the job has, and
   * the price follows the sale's dates.
   */
  storedPrice?: string;
  manage_stock: boolean;
  stock_quantity: number | null;
  stock_status: StockStatus;
  /** Its own "Low stock threshold" (Inventory tab); unset (null) where it follows the shop's. */
  low_stock_amount?: number | null;
  backorders: "no" | "notify" | "yes";
  virtual: boolean;
  downloadable: boolean;
  /** Its post_date, by which it is listed (as a wall time in the site's zone). */
  dateCreated: Date;
  dateModified: Date;
  /**
   * A draft WordPress gave no GMT date (post_date_gmt 0000-00-00 00:00:00, as one saved in the
   * admin has until it is published): it reads with no date_created, and a bound in GMT lets it through.
   */
  undated?: boolean;
  total_sales: number;
  categories: { id: number; name: string; slug: string }[];
  description: string;
  short_description: string;
  /** Fields of the documentation sample kept as they are (images, related_ids, ...). */
  extra: Record<string, unknown>;
}

export interface WooMeta {
  id: number;
  key: string;
  value: string;
  /**
   * How a line item's meta reads in the shop's admin and emails, as WC_Order_Item's
   * get_all_formatted_meta_data() makes it: an attribute's label ("Size" for pa_size) and its
   * term's name ("M" for m). Without them, the key and value as they are.
   */
  display_key?: string;
  display_value?: string;
}

export interface WooLineItem {
  id: number;
  name: string;
  /** The variable product's id where the item is a variation. */
  product_id: number;
  /** The variation's id; none for a simple product. */
  variation_id?: number;
  quantity: number;
  /** Cents. */
  subtotal: number;
  /** Cents. */
  total: number;
  meta_data: WooMeta[];
}

export interface WooNote {
  id: number;
  author: string;
  date: Date;
  note: string;
  customer_note: boolean;
}

export interface WooOrder {
  id: number;
  status: OrderStatus;
  currency: string;
  customer_id: number;
  billing: Address;
  shipping: Address;
  payment_method: string;
  payment_method_title: string;
  transaction_id: string;
  customer_ip_address: string;
  customer_user_agent: string;
  created_via: string;
  customer_note: string;
  order_key: string;
  cart_hash: string;
  version: string;
  dateCreated: Date;
  dateModified: Date;
  datePaid: Date | null;
  dateCompleted: Date | null;
  line_items: WooLineItem[];
  /** `total` in cents. */
  shipping_lines: { id: number; method_title: string; method_id: string; instance_id: string; total: number }[];
  /** The tax rate the order was taxed at, with its tax line's item id; null for none. */
  tax: (TaxRate & { itemId: number }) | null;
  /**
   * `total` in cents, positive; `refunded_payment` when the payment gateway sent the money back (a
   * refund "via" the gateway in the admin, or `api_refund`), false when the shop only recorded it.
   */
  refunds: {
    id: number;
    reason: string;
    total: number;
    date: Date;
    refunded_payment: boolean;
    /** The order's line items it refunds, by their id, with the units refunded (positive). */
    items?: { itemId: number; quantity: number }[];
  }[];
  meta_data: WooMeta[];
  /** Newest last. */
  notes: WooNote[];
  /** WooCommerce's `_order_stock_reduced`: set once stock was reduced for this order. */
  stockReduced: boolean;
}

export interface TaxRate {
  rate_id: number;
  rate_code: string;
  label: string;
  percent: number;
}

export interface WooCustomer {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  username: string;
  display_name: string;
  role: string;
  registered: Date;
  modified: Date;
  billing: Address;
  shipping: Address;
}

/** A write request (POST/PUT/PATCH/DELETE) that reached the fake, whatever its outcome. */
export interface WooWrite {
  method: string;
  /** e.g. /wc/v3/orders/7084 */
  route: string;
  status: number;
  /** The request's JSON body, parsed. */
  body: unknown;
}

export interface WooShop {
  products: Map<number, WooProduct>;
  orders: Map<number, WooOrder>;
  customers: Map<number, WooCustomer>;
  writes: WooWrite[];
  /**
   * The shop-wide "Enable stock management" (woocommerce_manage_stock): off, every product reads
   * `manage_stock: false` (WC_Product::managing_stock()) and a PUT leaves its stock as it was.
   */
  manageStock: boolean;
  /**
   * The option woocommerce_notify_no_stock_amount (Settings → Products → Inventory, "Out of stock
   * threshold", default 0): a counted product at or below it is out of stock, or on backorder.
   */
  outOfStockThreshold: number;
  /**
   * The site's timezone_string (Settings → General → Timezone, a city: "Europe/Prague"), by which
   * its local times (date_created, a date filter without dates_are_gmt) go; "" for the fixed UTC+1.
   */
  timeZone: string;
  /** The key's user may not view the shop's reports (view_woocommerce_reports): they answer 403. */
  reportsClosed: boolean;
  /** The option woocommerce_calc_taxes (Settings → General, "Enable tax rates and calculations"). */
  calcTaxes: boolean;
  /** The option woocommerce_prices_include_tax (Settings → Tax, "Prices entered with tax"). */
  pricesIncludeTax: boolean;
  product(id: number): WooProduct;
  order(id: number): WooOrder;
  /** Back to the initial data; clears `writes`. */
  reset(): void;
}

/**
 * Fills `shop` with a page's worth of long names: 100 orders (ids from 20,000) and products (ids
 * from 30,000) copied from the pending order and the espresso, and every customer, named `name`.
 */
export function withLongNames(shop: WooShop, name: string): void {
  const order = shop.order(WOO_IDS.orders.pending1999);
  const product = shop.product(WOO_IDS.products.espresso);
  for (let i = 0; i < 100; i++) {
    const copy = structuredClone(order);
    copy.id = 20_000 + i;
    copy.billing.first_name = name;
    copy.payment_method_title = name;
    shop.orders.set(copy.id, copy);
    shop.products.set(30_000 + i, { ...structuredClone(product), id: 30_000 + i, name, sku: `LONG-${i}` });
  }
  for (const customer of shop.customers.values()) customer.first_name = name;
}

export interface WooCommerceOptions {
  /** Answer as a host that drops the Authorization header does: only query-string credentials work. */
  stripAuthorization?: boolean;
  /**
   * Served over plain http, as WordPress's is_ssl() sees it: WC_REST_Authentication then reads a
   * key only from an OAuth 1.0a signature (not modelled), neither from HTTP Basic nor from
   * `consumer_key`/`consumer_secret`, so every request stays anonymous.
   */
  plainHttp?: boolean;
  /** WordPress installed in a subdirectory ("/shop"): its pages and its REST API are under it. */
  home?: string;
  /**
   * Permalinks set to "Plain": no rewrite rule serves /wp-json/, whose requests get the web
   * server's 404 page; only `?rest_route=/wc/v3/...` at the site's address reaches the REST API.
   */
  plainPermalinks?: boolean;
  /**
   * The WooCommerce version it answers as (default 10.2.2). Before 6.6 an order carries no
   * `is_editable`, `needs_payment` or `needs_processing`.
   */
  version?: string;
}

export interface WooCommerceFake extends Fake {
  shop: WooShop;
  /** The REST root, e.g. http://127.0.0.1:41234/wp-json/wc/v3 */
  api: string;
  /**
   * Can be changed while running. `droppedHeaders` (lowercase names) plays a proxy or cache in
   * front of the shop that drops these headers from its answers (X-WP-Total, X-WP-TotalPages, Link).
   */
  settings: { stripAuthorization: boolean; plainHttp: boolean; version: string; droppedHeaders: string[] };
}

// ---------------------------------------------------------------------------------------------
// Time and money

const OFFSET_MS = SITE_UTC_OFFSET_MINUTES * 60_000;
const gmtWall = (d: Date) => d.toISOString().slice(0, 19);
/** The site's wall time at `d`: in its city's zone (`zone`, DST and all), or else at the fixed UTC+1. */
const localWall = (d: Date, zone = "") =>
  new Date(d.getTime() + (zone ? offsetMinutes(d.getTime(), zone) * MINUTE : OFFSET_MS)).toISOString().slice(0, 19);
/** A site-local wall time "2026-09-01 10:12:31" as an instant. */
const atLocal = (wall: string) => new Date(Date.parse(`${wall.replace(" ", "T")}Z`) - OFFSET_MS);
const money = (cents: number) => (cents / 100).toFixed(2);
const cents = (price: string) => Math.round(Number(price) * 100);
const MINUTE = 60_000;
/** The tax on an amount in cents, rounded per line as WooCommerce does by default. */
const taxOn = (amount: number, rate: TaxRate | null) => (rate ? Math.round((amount * rate.percent) / 100) : 0);
const DAY = 86_400_000;

function hashHex(text: string, algorithm = "sha1"): string {
  return createHash(algorithm).update(text).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Initial data

const ADMIN = { id: 1, display_name: "Shop Admin" };

/** The shop's one tax rate (WooCommerce → Settings → Tax → Standard rates): buyers in Austria. */
const TAX_RATES: Record<string, TaxRate> = {
  AT: { rate_id: 3, rate_code: "AT-UST 20%-1", label: "USt 20%", percent: 20 },
};

const PAYMENT: Record<string, string> = {
  stripe: "Credit / Debit Card",
  paypal: "PayPal",
  bacs: "Direct bank transfer",
  cod: "Cash on delivery",
};

function address(
  first: string,
  last: string,
  street: string,
  city: string,
  postcode: string,
  country: string,
  email: string,
  phone: string,
): Address {
  return {
    first_name: first,
    last_name: last,
    company: "",
    address_1: street,
    address_2: "",
    city,
    state: "",
    postcode,
    country,
    email,
    phone,
  };
}

function shippingOf(billing: Address): Address {
  const { email: _email, ...rest } = billing;
  return { ...rest, phone: "" };
}

function buildCustomers(): Map<number, WooCustomer> {
  const customers = new Map<number, WooCustomer>();
  const s = CUSTOMER_SAMPLE;
  customers.set(s.id, {
    id: s.id,
    email: s.email,
    first_name: s.first_name,
    last_name: s.last_name,
    username: s.username,
    display_name: `${s.first_name} ${s.last_name}`,
    role: "customer",
    registered: new Date(`${s.date_created_gmt}Z`),
    modified: new Date(`${s.date_modified_gmt}Z`),
    billing: { ...s.billing },
    shipping: { ...s.shipping, phone: "" },
  });
  // id | first name | last name | email | street | city | postcode | country | phone
  const rows = `
    31|Jana|Nováková|jana.novakova@example.cz|Vinohradská 12|Praha|12000|CZ|+420 601 111 222
    32|Petr|Svoboda|petr.svoboda@example.cz|Masarykova 5|Brno|60200|CZ|+420 602 333 444
    33|Anna|Schmidt|anna.schmidt@example.de|Torstraße 101|Berlin|10119|DE|+49 30 1234567
    34|Lukas|Weber|lukas.weber@example.de|Leopoldstraße 8|München|80802|DE|+49 89 7654321
    35|Marie|Dvořáková|marie.dvorakova@example.cz|Stodolní 3|Ostrava|70200|CZ|+420 603 555 666
    36|Tomáš|Černý|tomas.cerny@example.cz|Americká 22|Plzeň|30100|CZ|+420 604 777 888
    37|Emma|Rossi|emma.rossi@example.it|Via Torino 40|Milano|20123|IT|+39 02 1234 5678
    38|Lucas|Martin|lucas.martin@example.fr|Rue de la République 9|Lyon|69002|FR|+33 4 78 12 34 56
    39|Sofia|Novak|sofia.novak@example.si|Slovenska cesta 15|Ljubljana|1000|SI|+386 1 234 5678
    40|Jakub|Král|jakub.kral@example.cz|Horní náměstí 1|Olomouc|77900|CZ|+420 605 999 000
    41|Olivia|Brown|olivia.brown@example.co.uk|221 Baker Street|London|NW1 6XE|GB|+44 20 7946 0000
    42|Noah|Müller|noah.mueller@example.at|Mariahilfer Straße 50|Wien|1070|AT|+43 1 234 56 78`
    .trim()
    .split("\n")
    .map((line) => line.trim().split("|") as [string, string, string, string, string, string, string, string, string]);
  rows.forEach(([idText, first, last, email, street, city, postcode, country, phone], i) => {
    const id = Number(idText);
    const billing = address(first, last, street, city, postcode, country, email, phone);
    const registered = new Date(Date.UTC(2025, 1 + i, 3 + i, 8 + i, 15, 30));
    customers.set(id, {
      id,
      email,
      first_name: first,
      last_name: last,
      username: email.split("@")[0] as string,
      display_name: `${first} ${last}`,
      role: "customer",
      registered,
      modified: new Date(registered.getTime() + 40 * DAY),
      billing,
      shipping: shippingOf(billing),
    });
  });
  return customers;
}

/** WordPress's roles and the two WooCommerce adds. */
const USER_ROLES = ["administrator", "editor", "author", "contributor", "subscriber", "customer", "shop_manager"];

const ADMIN_USER: WooCustomer = {
  id: ADMIN.id,
  email: "admin@coffee-shop.example",
  first_name: "Shop",
  last_name: "Admin",
  username: "shopadmin",
  display_name: ADMIN.display_name,
  role: "administrator",
  registered: new Date(Date.UTC(2024, 10, 1, 9, 0, 0)),
  modified: new Date(Date.UTC(2024, 10, 1, 9, 0, 0)),
  billing: address("", "", "", "", "", "", "", ""),
  shipping: { ...shippingOf(address("", "", "", "", "", "", "", "")) },
};

function buildProducts(): Map<number, WooProduct> {
  const products = new Map<number, WooProduct>();
  const coffee = { id: 15, name: "Coffee", slug: "coffee" };
  const gear = { id: 16, name: "Brewing gear", slug: "brewing-gear" };
  const extras = { id: 17, name: "Extras", slug: "extras" };
  type Row = [
    number,
    string,
    string,
    string,
    string,
    boolean,
    number | null,
    StockStatus,
    "no" | "notify" | "yes",
    boolean,
    boolean,
    (typeof coffee)[],
  ];
  const rows: Row[] = [
    [101, "Espresso Beans 1 kg", "COF-ESP-1KG", "19.99", "", true, 40, "instock", "no", false, false, [coffee]],
    [102, "Filter Coffee 500 g", "COF-FIL-500", "9.50", "", true, 3, "instock", "no", false, false, [coffee]],
    [103, "Ceramic Mug", "MUG-CER-01", "12.00", "", true, 0, "outofstock", "no", false, false, [extras]],
    [104, "Travel Mug", "MUG-TRV-02", "24.90", "", true, 0, "onbackorder", "notify", false, false, [extras]],
    [105, "Hand Grinder", "GRD-HND-01", "49.00", "", false, null, "instock", "no", false, false, [gear]],
    [106, "Pour-over Dripper", "BRW-V60-02", "18.50", "", false, null, "outofstock", "no", false, false, [gear]],
    [107, "Paper Filters (100 pcs)", "FLT-100", "4.99", "", true, 250, "instock", "no", false, false, [gear]],
    [108, "Gift Card €25", "GIFT-25", "25.00", "", false, null, "instock", "no", true, false, [extras]],
    [109, "Home Brewing Guide (PDF)", "EBOOK-BREW", "7.99", "", false, null, "instock", "no", true, true, [extras]],
    [110, "Decaf Beans 500 g", "COF-DEC-500", "11.90", "", true, 12, "instock", "no", false, false, [coffee]],
    [111, "Milk Frother", "", "34.00", "", false, null, "onbackorder", "no", false, false, [gear]],
    [112, "Barista Apron", "APR-BLK", "21.00", "", true, 1, "instock", "no", false, false, [extras]],
    [113, "Cleaning Tablets (50 pcs)", "CLN-TAB-50", "8.49", "6.99", true, 60, "instock", "no", false, false, [gear]],
    [114, "Espresso Cup Set", "CUP-ESP-SET", "29.99", "", true, 5, "instock", "no", false, false, [extras]],
    [115, "Coffee Gift Box", "BOX-GIFT", "39.00", "33.00", true, 8, "instock", "no", false, false, [coffee]],
    // Variable: a variable product has no price of its own.
    [116, "House Blend", "COF-HOUSE", "", "", false, null, "instock", "no", false, false, [coffee]],
    [119, "Tasting Set", "SET-TASTE", "", "", true, 4, "instock", "no", false, false, [coffee]],
  ];
  const sampleDate = new Date(`${String(PRODUCT_SAMPLE.date_created_gmt)}Z`);
  products.set(794, {
    id: 794,
    name: String(PRODUCT_SAMPLE.name),
    type: "simple",
    status: "publish",
    variations: [],
    slug: String(PRODUCT_SAMPLE.slug),
    sku: String(PRODUCT_SAMPLE.sku),
    regular_price: String(PRODUCT_SAMPLE.regular_price),
    sale_price: String(PRODUCT_SAMPLE.sale_price),
    saleFrom: null,
    saleTo: null,
    manage_stock: PRODUCT_SAMPLE.manage_stock === true,
    stock_quantity: null,
    stock_status: PRODUCT_SAMPLE.stock_status as StockStatus,
    backorders: "no",
    virtual: false,
    downloadable: false,
    dateCreated: sampleDate,
    dateModified: sampleDate,
    total_sales: 3,
    categories: PRODUCT_SAMPLE.categories as WooProduct["categories"],
    description: String(PRODUCT_SAMPLE.description),
    short_description: String(PRODUCT_SAMPLE.short_description),
    extra: { images: PRODUCT_SAMPLE.images, related_ids: PRODUCT_SAMPLE.related_ids },
  });
  rows.forEach(([id, name, sku, regular, sale, manage, qty, stock, backorders, virtual, downloadable, cats], i) => {
    const created = new Date(Date.UTC(2025, 3 + (i % 9), 2 + i, 9 + (i % 8), 5 * i, 12));
    products.set(id, {
      id,
      name,
      type: "simple",
      status: "publish",
      variations: [],
      slug: name
        .toLowerCase()
        .normalize("NFD")
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, ""),
      sku,
      regular_price: regular,
      sale_price: sale,
      saleFrom: null,
      saleTo: null,
      manage_stock: manage,
      stock_quantity: qty,
      stock_status: stock,
      backorders,
      virtual,
      downloadable,
      dateCreated: created,
      dateModified: new Date(created.getTime() + 30 * DAY),
      total_sales: 0,
      categories: cats,
      description: `<p>${name}, from our own roastery in Ostrava.</p>\n`,
      short_description: `<p>${name}.</p>\n`,
      extra: { images: [], related_ids: [] },
    });
  });
  const variable = (id: number, variations: WooProduct["variations"]) =>
    Object.assign(products.get(id) as WooProduct, { type: "variable", variations });
  variable(116, [
    { id: 117, price: "8.90" },
    { id: 118, price: "24.90" },
  ]);
  variable(119, [
    { id: 120, price: "15.00" },
    { id: 121, price: "15.00" },
  ]);
  // The variations, each with its name as WooCommerce makes it of its product's and its attribute's
  // (WC_Product_Variation_Data_Store_CPT::generate_product_title()).
  // id | product | option | SKU | stock counted | quantity
  const variations: [number, number, string, string, boolean, number | null][] = [
    [117, 116, "250 g", "COF-HOUSE-250", true, 12],
    [118, 116, "1 kg", "COF-HOUSE-1KG", false, null],
    [120, 119, "Light", "SET-TASTE-L", false, null],
    [121, 119, "Dark", "SET-TASTE-D", false, null],
  ];
  for (const [id, parentId, option, sku, manage, quantity] of variations) {
    const parent = products.get(parentId) as WooProduct;
    const price = parent.variations.find((v) => v.id === id)?.price ?? "";
    products.set(id, {
      ...structuredClone(parent),
      id,
      name: `${parent.name} - ${option}`,
      type: "variation",
      variations: [],
      parent_id: parentId,
      attributes: [{ name: parentId === 116 ? "Weight" : "Roast", option }],
      slug: `${parent.slug}-${option.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
      sku,
      regular_price: price,
      manage_stock: manage,
      stock_quantity: quantity,
      stock_status: "instock",
    });
  }
  Object.assign(products.get(115) as WooProduct, {
    saleFrom: atLocal("2026-12-01 00:00:00"),
    saleTo: atLocal("2026-12-24 23:59:59"),
  });
  return products;
}

/**
 * WC_Product::is_on_sale(): a sale price below the regular one, and now within its dates. A variable
 * product's (WC_Product_Variable::is_on_sale()) is whether one of its variations is, in `shop`.
 */
function onSale(product: WooProduct, now: Date, shop?: ShopData): boolean {
  if (product.type === "variable" && shop) {
    return product.variations.some(({ id }) => {
      const variation = shop.products.get(id);
      return variation !== undefined && onSale(variation, now);
    });
  }
  return (
    product.sale_price !== "" &&
    Number(product.regular_price) > Number(product.sale_price) &&
    !(product.saleFrom && product.saleFrom > now) &&
    !(product.saleTo && product.saleTo < now)
  );
}

/** The price a product sells at: the sale price while on sale; a variable product's, its lowest variation's. */
function priceOf(product: WooProduct, now: Date): string {
  if (product.type === "variable") return variationPrices(product)[0] ?? "";
  if (product.storedPrice !== undefined) return product.storedPrice;
  return onSale(product, now) ? product.sale_price : product.regular_price;
}

function variationPrices(product: WooProduct): string[] {
  return product.variations.map((v) => v.price).sort((a, b) => Number(a) - Number(b));
}

interface Counters {
  note: number;
  meta: number;
  item: number;
}

interface ShopData {
  products: Map<number, WooProduct>;
  orders: Map<number, WooOrder>;
  customers: Map<number, WooCustomer>;
  counters: Counters;
  /** The option woocommerce_manage_stock (Settings → Products → Inventory, "Enable stock management"). */
  manageStock: boolean;
  /** The option woocommerce_notify_no_stock_amount (Settings → Products → Inventory, "Out of stock threshold"). */
  outOfStockThreshold: number;
  /** The option timezone_string (Settings → General, a city's zone), or "" for the fixed UTC+1. */
  timeZone: string;
  reportsClosed: boolean;
  calcTaxes: boolean;
  pricesIncludeTax: boolean;
}

/**
 * wc_get_order_statuses(), without the "wc-" each is stored with: WooCommerce's, the block checkout's
 * draft and a plugin's, registered through the wc_order_statuses filter.
 */
const ORDER_STATUS_NAMES: Record<string, string> = {
  pending: "Pending payment",
  processing: "Processing",
  "on-hold": "On hold",
  completed: "Completed",
  cancelled: "Cancelled",
  refunded: "Refunded",
  failed: "Failed",
  "checkout-draft": "Draft",
  shipped: "Shipped",
};
// wc_get_order_status_name() names a status it does not know by itself.
const STATUS_NAMES: Record<string, string> = { ...ORDER_STATUS_NAMES, trash: "trash" };

function buildOrders(products: Map<number, WooProduct>, customers: Map<number, WooCustomer>, counters: Counters) {
  const orders = new Map<number, WooOrder>();
  const guests: Record<number, Address> = {
    7006: address("Martin", "Horák", "Palackého 14", "Hradec Králové", "50002", "CZ", "martin.horak@example.cz", ""),
    7024: address("Eva", "Malá", "Nádražní 7", "Pardubice", "53002", "CZ", "eva.mala@example.cz", ""),
    7048: address("Karel", "Veselý", "Husova 30", "Liberec", "46001", "CZ", "karel.vesely@example.cz", ""),
    7060: address("Ivana", "Pokorná", "Dlouhá 2", "Zlín", "76001", "CZ", "ivana.pokorna@example.cz", ""),
    7081: address("Filip", "Beneš", "Zámecká 11", "Opava", "74601", "CZ", "filip.benes@example.cz", "+420 606 121 212"),
  };
  type Ship = "flat" | "pickup" | "none";
  /** [id, created (site time), status, customer (0: guest), "product:quantity ...", shipping, payment, customer note] */
  type Row = [number, string, OrderStatus, number, string, Ship, string, string?];
  const rows: Row[] = [
    [7003, "2026-09-01 10:12:31", "completed", 33, "101:1 107:2", "flat", "stripe"],
    [7006, "2026-09-03 14:40:02", "completed", 0, "113:2", "flat", "paypal"],
    [7009, "2026-09-06 08:05:47", "completed", 25, "794:1", "flat", "stripe"],
    [7012, "2026-09-08 19:22:10", "refunded", 37, "104:1", "flat", "stripe"],
    [7015, "2026-09-11 11:03:55", "completed", 31, "102:2 103:1", "flat", "bacs"],
    [7018, "2026-09-14 16:47:20", "cancelled", 38, "105:1", "flat", "bacs"],
    [7021, "2026-09-17 09:30:00", "completed", 34, "110:1", "pickup", "cod"],
    [7024, "2026-09-19 21:15:42", "failed", 0, "114:1", "flat", "stripe"],
    [7027, "2026-09-22 12:00:09", "completed", 39, "109:1", "none", "stripe"],
    [7030, "2026-09-25 15:20:33", "completed", 35, "101:2 112:1", "flat", "stripe"],
    [7033, "2026-09-28 10:44:18", "completed", 40, "108:1", "none", "paypal"],
    [7036, "2026-10-01 13:37:51", "refunded", 41, "106:1", "flat", "paypal"],
    [7039, "2026-10-04 18:09:27", "completed", 32, "107:3 113:1", "flat", "stripe"],
    [7042, "2026-10-07 08:58:02", "on-hold", 42, "110:2", "flat", "bacs"],
    [7045, "2026-10-10 17:25:40", "completed", 36, "102:1", "flat", "cod"],
    [7048, "2026-10-13 11:11:11", "cancelled", 0, "111:1", "flat", "stripe"],
    [7051, "2026-10-16 20:02:45", "completed", 33, "101:1 102:1", "flat", "stripe"],
    [7054, "2026-10-19 09:48:13", "failed", 37, "105:1", "flat", "stripe"],
    [7057, "2026-10-22 14:16:29", "processing", 38, "114:2", "flat", "paypal"],
    [7060, "2026-10-25 10:39:56", "pending", 0, "114:1", "flat", "stripe"],
    [7063, "2026-10-28 16:53:04", "completed", 25, "794:2", "flat", "stripe", "Gift wrap, please."],
    [7066, "2026-10-31 12:27:38", "processing", 31, "113:4", "flat", "cod"],
    [7069, "2026-11-03 09:05:21", "failed", 36, "103:1", "flat", "stripe"],
    [7072, "2026-11-06 15:44:50", "on-hold", 35, "104:1", "flat", "bacs"],
    [7075, "2026-11-09 11:21:07", "processing", 32, "102:1 110:2", "flat", "stripe"],
    [7078, "2026-11-12 18:36:15", "pending", 33, "112:2 110:1", "flat", "paypal"],
    [7081, "2026-11-15 10:02:44", "pending", 0, "101:1", "pickup", "paypal"],
    [7084, "2026-11-18 13:58:30", "pending", 31, "101:2 107:1 105:1", "flat", "stripe", "Please ring twice."],
  ];
  const note = (order: WooOrder, date: Date, text: string, customerNote = false, author = "system") => {
    order.notes.push({ id: counters.note++, author, date, note: text, customer_note: customerNote });
  };
  for (const [id, created, status, customerId, items, ship, payment, customerNote] of rows) {
    const customer = customers.get(customerId);
    const billing = customer ? { ...customer.billing } : { ...(guests[id] as Address) };
    const createdAt = atLocal(created);
    const paidStatuses: OrderStatus[] = ["processing", "completed", "refunded"];
    const paid = paidStatuses.includes(status);
    const reduced = paid || status === "on-hold";
    const hash = hashHex(`order-${id}`);
    const order: WooOrder = {
      id,
      status,
      currency: CURRENCY,
      customer_id: customerId,
      billing,
      shipping: ship === "none" ? shippingOf(address("", "", "", "", "", "", "", "")) : shippingOf(billing),
      payment_method: payment,
      payment_method_title: PAYMENT[payment] as string,
      transaction_id: "",
      customer_ip_address: `203.0.113.${id % 250}`,
      customer_user_agent:
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
      created_via: "checkout",
      customer_note: customerNote ?? "",
      order_key: `wc_order_${Buffer.from(hash, "hex")
        .toString("base64")
        .replace(/[^A-Za-z0-9]/g, "")
        .slice(0, 13)}`,
      cart_hash: hashHex(`cart-${id}`, "md5"),
      version: "10.2.2",
      dateCreated: createdAt,
      dateModified: createdAt,
      datePaid: null,
      dateCompleted: null,
      line_items: items.split(" ").map((entry) => {
        const [productId, quantity] = entry.split(":").map(Number) as [number, number];
        const product = products.get(productId) as WooProduct;
        const total = cents(priceOf(product, createdAt)) * quantity;
        return {
          id: counters.item++,
          name: product.name,
          product_id: productId,
          quantity,
          subtotal: total,
          total,
          meta_data:
            reduced && product.manage_stock
              ? [{ id: counters.meta++, key: "_reduced_stock", value: String(quantity) }]
              : [],
        };
      }),
      shipping_lines: [],
      tax: null,
      refunds: [],
      meta_data: [{ id: counters.meta++, key: "is_vat_exempt", value: "no" }],
      notes: [],
      stockReduced: reduced,
    };
    if (ship !== "none") {
      order.shipping_lines.push(
        ship === "flat"
          ? { id: counters.item++, method_title: "Flat rate", method_id: "flat_rate", instance_id: "1", total: 490 }
          : {
              id: counters.item++,
              method_title: "Local pickup",
              method_id: "local_pickup",
              instance_id: "2",
              total: 0,
            },
      );
    }
    const rate = TAX_RATES[billing.country];
    if (rate) order.tax = { ...rate, itemId: counters.item++ };
    if (paid) {
      order.datePaid = new Date(createdAt.getTime() + (payment === "bacs" ? 2 * DAY : 2 * MINUTE));
      if (payment === "stripe") order.transaction_id = `pi_3Q${hash.slice(0, 22)}`;
      if (payment === "paypal") order.transaction_id = hash.slice(8, 25).toUpperCase();
    }
    const at = (ms: number) => new Date(createdAt.getTime() + ms);
    const virtualOnly = order.line_items.every((item) => {
      const product = products.get(item.product_id) as WooProduct;
      return product.virtual && product.downloadable;
    });
    if (status === "on-hold") {
      note(order, at(MINUTE), "Awaiting BACS payment Order status changed from Pending payment to On hold.");
    }
    if (paid) {
      const via = payment === "bacs" ? "On hold" : "Pending payment";
      if (payment === "bacs") {
        note(order, at(MINUTE), "Awaiting BACS payment Order status changed from Pending payment to On hold.");
      }
      const paidStatus = virtualOnly ? "Completed" : "Processing";
      note(order, order.datePaid as Date, `Order status changed from ${via} to ${paidStatus}.`);
      if (status !== "processing") {
        order.dateCompleted = virtualOnly ? (order.datePaid as Date) : at(2 * DAY + 3 * 60 * MINUTE);
        if (!virtualOnly) note(order, order.dateCompleted, "Order status changed from Processing to Completed.");
      }
      if (id === 7051) {
        note(
          order,
          at(2 * DAY + 3 * 60 * MINUTE + MINUTE),
          "Your parcel is on its way: tracking number CZ123456789.",
          true,
          ADMIN.display_name,
        );
      }
      if (status === "refunded") {
        const total = orderTotal(order);
        // Refunded through the card's gateway from the order's admin page.
        order.refunds.push({
          id: id + 1,
          reason: id === 7012 ? "Damaged in transit" : "",
          total,
          date: at(5 * DAY),
          refunded_payment: true,
        });
        note(order, at(5 * DAY), "Order status changed from Completed to Refunded.");
        order.dateModified = at(5 * DAY);
      } else if (id === 7039) {
        // A partial refund from the order's admin page ("Refund manually"): the status stays.
        order.refunds.push({
          id: id + 1,
          reason: "One pack arrived crushed",
          total: 699,
          date: at(6 * DAY),
          refunded_payment: false,
          items: order.line_items
            .filter((item) => item.product_id === 113)
            .map((item) => ({ itemId: item.id, quantity: 1 })),
        });
        order.dateModified = at(6 * DAY);
      } else {
        order.dateModified = order.dateCompleted ?? (order.datePaid as Date);
      }
    }
    if (status === "cancelled") {
      note(
        order,
        at(60 * MINUTE),
        "Unpaid order cancelled - time limit reached. Order status changed from Pending payment to Cancelled.",
      );
      order.dateModified = at(60 * MINUTE);
    }
    if (status === "failed") {
      note(order, at(3 * MINUTE), "Order status changed from Pending payment to Failed.");
      order.dateModified = at(3 * MINUTE);
    }
    if (status === "on-hold") order.dateModified = at(MINUTE);
    orders.set(id, order);
  }
  return orders;
}

function buildShop(): ShopData {
  const counters: Counters = { note: 9101, meta: 20001, item: 501 };
  const products = buildProducts();
  const customers = buildCustomers();
  const orders = buildOrders(products, customers, counters);
  return {
    products,
    orders,
    customers,
    counters,
    manageStock: true,
    outOfStockThreshold: 0,
    timeZone: "",
    reportsClosed: false,
    // As the orders are: taxed, their prices entered without tax.
    calcTaxes: true,
    pricesIncludeTax: false,
  };
}

/** The order's taxes in cents: on its items (cart tax) and on its shipping. */
function taxesOf(order: WooOrder): { cart: number; shipping: number } {
  return {
    cart: order.line_items.reduce((sum, item) => sum + taxOn(item.total, order.tax), 0),
    shipping: order.shipping_lines.reduce((sum, line) => sum + taxOn(line.total, order.tax), 0),
  };
}

function orderTotal(order: WooOrder): number {
  const taxes = taxesOf(order);
  return (
    order.line_items.reduce((sum, item) => sum + item.total, 0) +
    order.shipping_lines.reduce((sum, line) => sum + line.total, 0) +
    taxes.cart +
    taxes.shipping
  );
}

// ---------------------------------------------------------------------------------------------
// Query strings as PHP reads and writes them; WordPress errors

/** `$_GET`: `a[]=x&a[]=y` builds a list, a repeated plain name keeps the last value. */
type Query = Map<string, string | string[]>;

function parseQuery(params: URLSearchParams): Query {
  const out: Query = new Map();
  for (const [key, value] of params) {
    if (!key.endsWith("[]")) {
      out.set(key, value);
      continue;
    }
    const list = out.get(key.slice(0, -2));
    if (Array.isArray(list)) list.push(value);
    else out.set(key.slice(0, -2), [value]);
  }
  return out;
}

/** PHP urlencode(): everything but A-Za-z0-9_.- is %XX, space is +. */
function phpUrlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/%20/g, "+")
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** add_query_arg( 'page', $page, ... ): the request's own query, urlencoded, with `page` replaced in place. */
function pageLink(base: string, query: Query, page: number): string {
  const parts = [...new Map(query).set("page", String(page))].flatMap(([key, value]) =>
    typeof value === "string"
      ? [`${phpUrlencode(key)}=${phpUrlencode(value)}`]
      : value.map((v, i) => `${phpUrlencode(key)}%5B${i}%5D=${phpUrlencode(v)}`),
  );
  return `${base}?${parts.join("&")}`;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A WP_Error as the REST server sends it. */
const wpError = (code: string, message: string, status: number, data: Record<string, unknown> = {}): Reply => ({
  status,
  body: { code, message, data: { status, ...data } },
});

const fromSample = (body: WpErrorBody): Reply => ({ status: body.data.status, body });

// ---------------------------------------------------------------------------------------------
// Parameter validation, after rest_validate_value_from_schema()

interface Spec {
  type: "integer" | "string" | "boolean" | "array";
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  format?: "date-time";
  items?: Spec;
  required?: boolean;
  default?: unknown;
}

interface Invalid {
  code: string;
  message: string;
  data: Record<string, unknown> | null;
}

const isNumeric = (value: unknown) =>
  (typeof value === "number" && Number.isFinite(value)) ||
  (typeof value === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value));

const isBoolish = (value: unknown) =>
  typeof value === "boolean" ||
  (typeof value === "string" && ["true", "false", "0", "1"].includes(value.toLowerCase())) ||
  value === 0 ||
  value === 1;

const toBool = (value: unknown) =>
  typeof value === "string" ? !["false", "0", ""].includes(value.toLowerCase()) : Boolean(value);

/** wp_parse_list(): a string is split at commas and whitespace. */
const parseList = (value: unknown): unknown[] | null =>
  typeof value === "string" || typeof value === "number"
    ? String(value)
        .split(/[\s,]+/)
        .filter((part) => part !== "")
    : Array.isArray(value)
      ? value
      : null;

const typeError = (param: string, type: string): Invalid => ({
  code: "rest_invalid_type",
  message: `${param} is not of type ${type}.`,
  data: { param },
});

function validateValue(value: unknown, spec: Spec, param: string): Invalid | null {
  switch (spec.type) {
    case "array": {
      const list = parseList(value);
      if (!list) return typeError(param, "array");
      for (const [i, item] of list.entries()) {
        const invalid = spec.items ? validateValue(item, spec.items, `${param}[${i}]`) : null;
        if (invalid) return invalid;
      }
      return null;
    }
    case "integer": {
      if (!isNumeric(value)) return typeError(param, "integer");
      const n = Number(value);
      if (spec.minimum !== undefined && spec.maximum !== undefined && (n < spec.minimum || n > spec.maximum)) {
        return {
          code: "rest_out_of_bounds",
          message: `${param} must be between ${spec.minimum} (inclusive) and ${spec.maximum} (inclusive)`,
          data: null,
        };
      }
      if (spec.minimum !== undefined && spec.maximum === undefined && n < spec.minimum) {
        return {
          code: "rest_out_of_bounds",
          message: `${param} must be greater than or equal to ${spec.minimum}`,
          data: null,
        };
      }
      if (!Number.isInteger(n)) return typeError(param, "integer");
      break;
    }
    case "boolean":
      if (!isBoolish(value)) return typeError(param, "boolean");
      break;
    case "string":
      if (typeof value !== "string") return typeError(param, "string");
      break;
  }
  if (spec.enum && !spec.enum.includes(String(value))) {
    // wp_sprintf( '%l' ): "a, b, and c".
    const choices = `${spec.enum.slice(0, -1).join(", ")}, and ${spec.enum.at(-1)}`;
    return { code: "rest_not_in_enum", message: `${param} is not one of ${choices}.`, data: null };
  }
  if (spec.format === "date-time" && !parseRestDate(String(value))) {
    return { code: "rest_invalid_date", message: "Invalid date.", data: null };
  }
  return null;
}

/** rest_parse_date()'s pattern; the result is the wall time plus its offset in minutes, if any. */
function parseRestDate(value: string): { wall: string; offsetMinutes: number | null } | null {
  const match = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(value);
  if (!match) return null;
  const wall = `${match[1]}T${match[2]}`;
  if (Number.isNaN(Date.parse(`${wall}Z`))) return null;
  const zone = match[3];
  if (!zone) return { wall, offsetMinutes: null };
  if (zone === "Z") return { wall, offsetMinutes: 0 };
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return { wall, offsetMinutes: sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0")) };
}

/** WP_Date_Query: the value as the site's local wall time (an offset, if given, is converted). */
function siteLocalWall(value: string, zone: string): string {
  const parsed = parseRestDate(value) as { wall: string; offsetMinutes: number | null };
  if (parsed.offsetMinutes === null) return parsed.wall;
  const instant = Date.parse(`${parsed.wall}Z`) - parsed.offsetMinutes * MINUTE;
  return localWall(new Date(instant), zone);
}

function sanitize(value: unknown, spec: Spec): unknown {
  switch (spec.type) {
    case "integer":
      return Math.trunc(Number(value));
    case "boolean":
      return toBool(value);
    case "array":
      return (parseList(value) ?? []).map((item) => (spec.items ? sanitize(item, spec.items) : item));
    default:
      return value;
  }
}

/** The endpoint's arguments from the JSON body, else the query: sanitized values, or the 400 answer. */
function readParams(
  args: Record<string, Spec>,
  param: (name: string) => unknown,
): { values: Record<string, unknown>; error?: Reply } {
  const values: Record<string, unknown> = {};
  const missing = Object.keys(args).filter((name) => args[name]?.required && param(name) === undefined);
  if (missing.length > 0) {
    const error = wpError("rest_missing_callback_param", `Missing parameter(s): ${missing.join(", ")}`, 400, {
      params: missing,
    });
    return { values, error };
  }
  const params: Record<string, string> = {};
  const details: Record<string, Invalid> = {};
  for (const [name, spec] of Object.entries(args)) {
    const value = param(name);
    if (value === undefined) {
      if (spec.default !== undefined) values[name] = spec.default;
      continue;
    }
    const invalid = validateValue(value, spec, name);
    if (invalid) {
      params[name] = invalid.message;
      details[name] = invalid;
    } else {
      values[name] = sanitize(value, spec);
    }
  }
  const names = Object.keys(params);
  if (names.length === 0) return { values };
  const error = wpError("rest_invalid_param", `Invalid parameter(s): ${names.join(", ")}`, 400, { params, details });
  return { values, error };
}

// ---------------------------------------------------------------------------------------------
// Rendering

interface Ctx {
  /** Named groups of the route pattern. */
  ids: Record<string, number>;
  query: Query;
  user: ApiKey | null;
  origin: string;
  now: Date;
  shop: ShopData;
  /** Sanitized parameter values. */
  values: Record<string, unknown>;
  /** The WooCommerce version it answers as. */
  version: string;
}

function renderAddress(a: Address, withEmail: boolean) {
  return {
    first_name: a.first_name,
    last_name: a.last_name,
    company: a.company,
    address_1: a.address_1,
    address_2: a.address_2,
    city: a.city,
    state: a.state,
    postcode: a.postcode,
    country: a.country,
    ...(withEmail ? { email: a.email ?? "" } : {}),
    phone: a.phone,
  };
}

const link = (href: string) => [{ href }];

function needsProcessing(order: WooOrder, shop: ShopData): boolean {
  return order.line_items.some((item) => {
    const product = shop.products.get(item.product_id);
    return product ? !(product.virtual && product.downloadable) : false;
  });
}

function needsPayment(order: WooOrder): boolean {
  return (order.status === "pending" || order.status === "failed") && orderTotal(order) > 0;
}

/** Whether a version ("6.5.1") is `least` ([6, 6]) or later. */
function versionAtLeast(version: string, least: number[]): boolean {
  const parts = version.split(".").map(Number);
  for (const [i, want] of least.entries()) {
    const have = parts[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

const date = (d: Date | null, ctx: Ctx) => (d ? localWall(d, ctx.shop.timeZone) : null);
const dateGmt = (d: Date | null) => (d ? gmtWall(d) : null);

function renderOrder(order: WooOrder, ctx: Ctx) {
  const api = `${ctx.origin}/wp-json/wc/v3`;
  const total = orderTotal(order);
  const shippingTotal = order.shipping_lines.reduce((sum, line) => sum + line.total, 0);
  const taxes = taxesOf(order);
  const rate = order.tax;
  /** A line's `taxes`: its tax at each rate, unrounded in WooCommerce (here whole cents). */
  const lineTaxes = (total: number, subtotal: number | "") =>
    rate
      ? [
          {
            id: rate.rate_id,
            total: money(taxOn(total, rate)),
            subtotal: subtotal === "" ? "" : money(taxOn(subtotal, rate)),
          },
        ]
      : [];
  return {
    id: order.id,
    parent_id: 0,
    number: orderNumber(order),
    order_key: order.order_key,
    created_via: order.created_via,
    version: order.version,
    status: order.status,
    currency: order.currency,
    date_created: date(order.dateCreated, ctx),
    date_created_gmt: dateGmt(order.dateCreated),
    date_modified: date(order.dateModified, ctx),
    date_modified_gmt: dateGmt(order.dateModified),
    discount_total: "0.00",
    discount_tax: "0.00",
    shipping_total: money(shippingTotal),
    shipping_tax: money(taxes.shipping),
    cart_tax: money(taxes.cart),
    total: money(total),
    total_tax: money(taxes.cart + taxes.shipping),
    prices_include_tax: false,
    customer_id: order.customer_id,
    customer_ip_address: order.customer_ip_address,
    customer_user_agent: order.customer_user_agent,
    customer_note: order.customer_note,
    billing: renderAddress(order.billing, true),
    shipping: renderAddress(order.shipping, false),
    payment_method: order.payment_method,
    payment_method_title: order.payment_method_title,
    transaction_id: order.transaction_id,
    date_paid: date(order.datePaid, ctx),
    date_paid_gmt: dateGmt(order.datePaid),
    date_completed: date(order.dateCompleted, ctx),
    date_completed_gmt: dateGmt(order.dateCompleted),
    cart_hash: order.cart_hash,
    meta_data: order.meta_data.map((m) => ({ ...m })),
    line_items: order.line_items.map((item) => {
      // The item's product: its variation, where it is one, whose SKU it carries.
      const product = ctx.shop.products.get(item.variation_id || item.product_id);
      return {
        id: item.id,
        name: item.name,
        product_id: item.product_id,
        variation_id: item.variation_id ?? 0,
        quantity: item.quantity,
        tax_class: "",
        subtotal: money(item.subtotal),
        subtotal_tax: money(taxOn(item.subtotal, rate)),
        total: money(item.total),
        total_tax: money(taxOn(item.total, rate)),
        taxes: lineTaxes(item.total, item.subtotal),
        meta_data: item.meta_data.map((m) => ({ display_key: m.key, display_value: m.value, ...m })),
        sku: product ? product.sku : null,
        price: item.quantity ? item.total / 100 / item.quantity : 0,
        image: { id: "", src: "" },
        parent_name: null,
      };
    }),
    tax_lines: rate
      ? [
          {
            id: rate.itemId,
            rate_code: rate.rate_code,
            rate_id: rate.rate_id,
            label: rate.label,
            compound: false,
            tax_total: money(taxes.cart),
            shipping_tax_total: money(taxes.shipping),
            rate_percent: rate.percent,
            meta_data: [],
          },
        ]
      : [],
    shipping_lines: order.shipping_lines.map((line) => ({
      id: line.id,
      method_title: line.method_title,
      method_id: line.method_id,
      instance_id: line.instance_id,
      total: money(line.total),
      total_tax: money(taxOn(line.total, rate)),
      taxes: lineTaxes(line.total, ""),
      meta_data: [],
    })),
    fee_lines: [],
    coupon_lines: [],
    refunds: order.refunds.map((r) => ({ id: r.id, reason: r.reason, total: `-${money(r.total)}` })),
    payment_url: `${ctx.origin}/checkout/order-pay/${order.id}/?pay_for_order=true&key=${order.order_key}`,
    // Since WooCommerce 6.6.
    ...(versionAtLeast(ctx.version, [6, 6])
      ? {
          is_editable: ["pending", "on-hold", "auto-draft"].includes(order.status),
          needs_payment: needsPayment(order),
          needs_processing: needsProcessing(order, ctx.shop),
        }
      : {}),
    _links: {
      self: link(`${api}/orders/${order.id}`),
      collection: link(`${api}/orders`),
      ...(order.customer_id !== 0 ? { customer: link(`${api}/customers/${order.customer_id}`) } : {}),
    },
  };
}

function priceHtml(product: WooProduct, now: Date): string {
  const amount = (price: string) =>
    `<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">&euro;</span>${price}</bdi></span>`;
  if (product.type === "variable") {
    const prices = variationPrices(product);
    return `${amount(prices[0] ?? "")} &ndash; ${amount(prices.at(-1) ?? "")}`;
  }
  if (!onSale(product, now)) return amount(product.regular_price);
  return `<del aria-hidden="true">${amount(product.regular_price)}</del> <ins aria-hidden="true">${amount(product.sale_price)}</ins>`;
}

/**
 * Where a product's stock is counted, as WC_Product_Variation reads it: a variation that counts none
 * of its own, of a product that counts one for all its variations, is counted on that product
 * (`manage_stock` "parent", with its quantity and status).
 */
function stockOf(product: WooProduct, ctx: Ctx) {
  const parent = product.parent_id === undefined ? undefined : ctx.shop.products.get(product.parent_id);
  const counted = !product.manage_stock && parent?.manage_stock ? parent : product;
  return {
    manage_stock:
      ctx.shop.manageStock && product.manage_stock
        ? true
        : counted !== product && ctx.shop.manageStock
          ? "parent"
          : false,
    stock_quantity: counted.manage_stock ? counted.stock_quantity : null,
    stock_status: counted.stock_status,
    backorders: counted.backorders,
    backorders_allowed: counted.backorders !== "no",
    backordered: counted.stock_status === "onbackorder",
    low_stock_amount: product.low_stock_amount ?? null,
  };
}

/**
 * A variation's attributes as get_attributes() gives them: one left to "Any …" (an empty option)
 * is left out.
 */
function variationAttributes(variation: WooProduct) {
  return (variation.attributes ?? []).filter((a) => a.option !== "");
}

/** A variation as WC_REST_Product_Variations_Controller answers it: without name, type or parent. */
function renderVariation(variation: WooProduct, ctx: Ctx) {
  const api = `${ctx.origin}/wp-json/wc/v3`;
  return {
    id: variation.id,
    date_created: date(variation.dateCreated, ctx),
    date_created_gmt: dateGmt(variation.dateCreated),
    date_modified: date(variation.dateModified, ctx),
    date_modified_gmt: dateGmt(variation.dateModified),
    description: "",
    permalink: `${ctx.origin}/product/${variation.slug}/`,
    sku: variation.sku,
    price: priceOf(variation, ctx.now),
    regular_price: variation.regular_price,
    sale_price: variation.sale_price,
    date_on_sale_from: date(variation.saleFrom, ctx),
    date_on_sale_from_gmt: dateGmt(variation.saleFrom),
    date_on_sale_to: date(variation.saleTo, ctx),
    date_on_sale_to_gmt: dateGmt(variation.saleTo),
    on_sale: onSale(variation, ctx.now),
    status: variation.status,
    purchasable: priceOf(variation, ctx.now) !== "",
    virtual: variation.virtual,
    downloadable: variation.downloadable,
    ...stockOf(variation, ctx),
    attributes: variationAttributes(variation).map((a) => ({ id: 0, name: a.name, option: a.option })),
    menu_order: 0,
    meta_data: [],
    _links: {
      self: link(`${api}/products/${variation.parent_id}/variations/${variation.id}`),
      collection: link(`${api}/products/${variation.parent_id}/variations`),
      up: link(`${api}/products/${variation.parent_id}`),
    },
  };
}

function renderProduct(product: WooProduct, ctx: Ctx) {
  const api = `${ctx.origin}/wp-json/wc/v3`;
  return {
    ...PRODUCT_SAMPLE,
    id: product.id,
    name: product.name,
    slug: product.slug,
    permalink: `${ctx.origin}/product/${product.slug}/`,
    date_created: date(product.undated ? null : product.dateCreated, ctx),
    date_created_gmt: dateGmt(product.undated ? null : product.dateCreated),
    date_modified: date(product.dateModified, ctx),
    date_modified_gmt: dateGmt(product.dateModified),
    type: product.type,
    status: product.status,
    featured: false,
    catalog_visibility: "visible",
    description: product.description,
    short_description: product.short_description,
    sku: product.sku,
    price: priceOf(product, ctx.now),
    regular_price: product.regular_price,
    sale_price: product.sale_price,
    date_on_sale_from: date(product.saleFrom, ctx),
    date_on_sale_from_gmt: dateGmt(product.saleFrom),
    date_on_sale_to: date(product.saleTo, ctx),
    date_on_sale_to_gmt: dateGmt(product.saleTo),
    price_html: priceHtml(product, ctx.now),
    on_sale: onSale(product, ctx.now, ctx.shop),
    purchasable: priceOf(product, ctx.now) !== "",
    total_sales: product.total_sales,
    virtual: product.virtual,
    downloadable: product.downloadable,
    ...stockOf(product, ctx),
    shipping_required: !product.virtual,
    shipping_taxable: !product.virtual,
    categories: product.categories,
    tags: [],
    ...product.extra,
    parent_id: product.parent_id ?? 0,
    ...(product.attributes
      ? { attributes: variationAttributes(product).map(({ name, option }) => ({ id: 0, name, slug: name, option })) }
      : {}),
    variations: product.variations.map((v) => v.id),
    meta_data: [],
    _links: { self: link(`${api}/products/${product.id}`), collection: link(`${api}/products`) },
  };
}

function renderCustomer(customer: WooCustomer, ctx: Ctx) {
  const api = `${ctx.origin}/wp-json/wc/v3`;
  const paying = [...ctx.shop.orders.values()].some(
    (o) => o.customer_id === customer.id && (o.status === "processing" || o.status === "completed"),
  );
  return {
    id: customer.id,
    date_created: date(customer.registered, ctx),
    date_created_gmt: dateGmt(customer.registered),
    date_modified: date(customer.modified, ctx),
    date_modified_gmt: dateGmt(customer.modified),
    email: customer.email,
    first_name: customer.first_name,
    last_name: customer.last_name,
    role: customer.role,
    username: customer.username,
    billing: renderAddress(customer.billing, true),
    shipping: renderAddress(customer.shipping, false),
    is_paying_customer: paying,
    avatar_url: `https://secure.gravatar.com/avatar/${hashHex(customer.email.trim().toLowerCase(), "md5")}?s=96&d=mm&r=g`,
    meta_data: [],
    _links: { self: link(`${api}/customers/${customer.id}`), collection: link(`${api}/customers`) },
  };
}

/**
 * As WC_REST_Order_Refunds_V2_Controller::prepare_object_for_response() writes one: its line items
 * with negative quantities and amounts, each naming the order's item it refunds in its
 * `_refunded_item_id` meta, as wc_create_refund() saves it. No tax, shipping or fee lines.
 */
function renderRefund(order: WooOrder, refund: WooOrder["refunds"][number], ctx: Ctx) {
  const api = `${ctx.origin}/wp-json/wc/v3`;
  const orderId = order.id;
  const lines = (refund.items ?? []).flatMap(({ itemId, quantity }, i) => {
    const item = order.line_items.find((line) => line.id === itemId);
    if (!item) return [];
    const amount = -Math.round((item.subtotal * quantity) / item.quantity);
    const product = ctx.shop.products.get(item.variation_id || item.product_id);
    const metaId = refund.id * 100 + i;
    return [
      {
        id: refund.id * 100 + i,
        name: item.name,
        product_id: item.product_id,
        variation_id: item.variation_id ?? 0,
        quantity: -quantity,
        tax_class: "",
        subtotal: money(amount),
        subtotal_tax: "0.00",
        total: money(amount),
        total_tax: "0.00",
        taxes: [],
        meta_data: [
          {
            id: metaId,
            key: "_refunded_item_id",
            value: String(item.id),
            display_key: "_refunded_item_id",
            display_value: String(item.id),
          },
        ],
        sku: product ? product.sku : null,
        price: amount / 100 / quantity,
        image: { id: "", src: "" },
        parent_name: null,
      },
    ];
  });
  return {
    id: refund.id,
    date_created: localWall(refund.date, ctx.shop.timeZone),
    date_created_gmt: gmtWall(refund.date),
    amount: money(refund.total),
    reason: refund.reason,
    refunded_by: ADMIN.id,
    refunded_payment: refund.refunded_payment,
    meta_data: [],
    line_items: lines,
    shipping_lines: [],
    tax_lines: [],
    fee_lines: [],
    _links: {
      self: link(`${api}/orders/${orderId}/refunds/${refund.id}`),
      collection: link(`${api}/orders/${orderId}/refunds`),
      up: link(`${api}/orders/${orderId}`),
    },
  };
}

function renderNote(orderId: number, note: WooNote, ctx: Ctx) {
  const api = `${ctx.origin}/wp-json/wc/v3`;
  return {
    id: note.id,
    author: note.author === "system" ? "WooCommerce" : note.author,
    date_created: localWall(note.date, ctx.shop.timeZone),
    date_created_gmt: gmtWall(note.date),
    note: note.note,
    customer_note: note.customer_note,
    _links: {
      self: link(`${api}/orders/${orderId}/notes/${note.id}`),
      collection: link(`${api}/orders/${orderId}/notes`),
      up: link(`${api}/orders/${orderId}`),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Lists

function paged<T>(ctx: Ctx, collection: string, items: T[], render: (item: T) => unknown): Reply {
  const perPage = ctx.values.per_page as number;
  const page = ctx.values.page as number;
  // WP_Query's offset stands for the page's (paged), and is counted in found_posts.
  const from = (ctx.values.offset as number | undefined) ?? (page - 1) * perPage;
  const total = items.length;
  const maxPages = Math.ceil(total / perPage);
  const headers: Record<string, string> = { "X-WP-Total": String(total), "X-WP-TotalPages": String(maxPages) };
  const base = `${ctx.origin}/wp-json/wc/v3/${collection}`;
  const links: string[] = [];
  if (page > 1) links.push(`<${pageLink(base, ctx.query, Math.min(page - 1, maxPages))}>; rel="prev"`);
  if (maxPages > page) links.push(`<${pageLink(base, ctx.query, page + 1)}>; rel="next"`);
  if (links.length > 0) headers.Link = links.join(", ");
  return { status: 200, body: items.slice(from, from + perPage).map(render), headers };
}

/**
 * The meta keys a numbering plugin keeps an order's number in: Sequential Order Numbers (Pro)
 * keeps `_order_number` (and, with a prefix or suffix, `_order_number_formatted`), and gives it
 * as the order's number (the `woocommerce_order_number` filter), which the REST API's `number` is.
 */
const NUMBER_KEYS = ["_order_number", "_order_number_formatted"];

/** The order's number: its id, unless a numbering plugin gave it one. */
function orderNumber(order: WooOrder): string {
  const meta = (key: string) => order.meta_data.find((m) => m.key === key)?.value;
  return meta("_order_number_formatted") ?? meta("_order_number") ?? String(order.id);
}

/** The default order of orders and products: newest first, then by ID. */
const newestFirst = (a: { id: number; dateCreated: Date }, b: { id: number; dateCreated: Date }) =>
  b.dateCreated.getTime() - a.dateCreated.getTime() || b.id - a.id;

/**
 * Text as MySQL's utf8mb4_0900_ai_ci (or WordPress's older utf8mb4_unicode_520_ci) compares it in
 * a search, a SKU or an email: without regard to letter case or accents, and the same in NFC and
 * NFD ("Káva", "kava" and "Ka\u0301va" are one).
 */
const collated = (text: string) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

const contains = (haystack: string, needle: string) => collated(haystack).includes(collated(needle));

/**
 * Whether `created` is within the request's `after`/`before`, as WP_Date_Query compares them:
 * strictly, against the local or GMT column; `undated`, a GMT column of zeros.
 */
function createdWithin(ctx: Ctx, created: Date, undated = false): boolean {
  const zone = ctx.shop.timeZone;
  const gmt = (d: Date) => (undated ? "0000-00-00T00:00:00" : gmtWall(d));
  const wall = (d: Date) => (ctx.values.dates_are_gmt === true ? gmt(d) : localWall(d, zone));
  const after = ctx.values.after as string | undefined;
  const before = ctx.values.before as string | undefined;
  if (after !== undefined && wall(created) <= siteLocalWall(after, zone)) return false;
  return before === undefined || wall(created) < siteLocalWall(before, zone);
}

function listOrders(ctx: Ctx): Reply {
  const statuses = ctx.values.status as string[];
  // The order tables (HPOS, the default storage since WooCommerce 8.2) urldecode() the search term
  // WordPress decoded already (OrdersTableSearchQuery): a "+" in it is a space.
  const search = ((ctx.values.search as string | undefined) ?? "").replaceAll("+", " ").trim();
  const orders = [...ctx.shop.orders.values()].filter((order) => {
    if (!statuses.includes("any") && !statuses.includes(order.status)) return false;
    if (statuses.includes("any") && (order.status === "checkout-draft" || order.status === "trash")) return false;
    if ((ctx.values.exclude as number[]).includes(order.id)) return false;
    if (ctx.values.customer !== undefined && order.customer_id !== Math.abs(ctx.values.customer as number)) {
      return false;
    }
    if (!createdWithin(ctx, order.dateCreated)) return false;
    if (search !== "") {
      const b = order.billing;
      const s = order.shipping;
      const fields = [
        String(order.id),
        // A numbering plugin adds its meta key to the search (woocommerce_shop_order_search_fields,
        // and woocommerce_order_table_search_query_meta_keys under HPOS), compared as LIKE '%…%'.
        ...order.meta_data.filter((m) => NUMBER_KEYS.includes(m.key)).map((m) => m.value),
        b.first_name,
        b.last_name,
        `${b.first_name} ${b.last_name}`,
        b.company,
        b.email ?? "",
        b.phone,
        b.address_1,
        b.city,
        s.first_name,
        s.last_name,
        ...order.line_items.map((i) => i.name),
      ];
      if (!fields.some((field) => contains(field, search))) return false;
    }
    return true;
  });
  return paged(ctx, "orders", orders.sort(newestFirst), (order) => renderOrder(order, ctx));
}

function listProducts(ctx: Ctx): Reply {
  const search = ((ctx.values.search as string | undefined) ?? "").trim();
  // sanitize_text_field(), as the endpoint's `sku` argument reads it: white space runs made one space.
  // A comma list, with the whole of it among them ("Include the current string as a SKU too").
  const sku = ctx.values.sku === undefined ? null : wpSanitizeTextField(String(ctx.values.sku));
  const parts = sku?.split(",") ?? [];
  const skus =
    sku === null
      ? null
      : [...parts, ...(parts.length > 1 ? [sku] : [])].map((s) => collated(s.trim())).filter((s) => s !== "");
  const products = [...ctx.shop.products.values()].filter((product) => {
    // The default status, any, is WP_Query's: every status but trash and auto-draft.
    if (product.status === "trash" || product.status === "auto-draft") return false;
    // A SKU is looked for among variations too (post_type product and product_variation).
    if (product.type === "variation" && !skus) return false;
    if ((ctx.values.exclude as number[]).includes(product.id)) return false;
    if (skus && !skus.includes(collated(product.sku))) return false;
    if (ctx.values.stock_status !== undefined && product.stock_status !== ctx.values.stock_status) return false;
    if (!createdWithin(ctx, product.dateCreated, product.undated)) return false;
    if (search !== "") {
      const words = search.split(/\s+/);
      const text = [product.name, product.description, product.short_description];
      if (!words.every((word) => text.some((field) => contains(field, word)))) return false;
    }
    return true;
  });
  // WP_Query's orderby date: post_date, the local wall time, which goes back an hour when clocks do.
  const posted = (product: WooProduct) => localWall(product.dateCreated, ctx.shop.timeZone);
  const byPostDate = (a: WooProduct, b: WooProduct) =>
    posted(a) < posted(b) ? 1 : posted(a) > posted(b) ? -1 : b.id - a.id;
  return paged(ctx, "products", products.sort(byPostDate), (product) => renderProduct(product, ctx));
}

/**
 * Users of `role` (`customer` unless asked; `all`, every role, the administrator too) by display
 * name, or by id (`orderby=id`), `order` asc unless desc, as WooCommerce's customers endpoint asks
 * WP_User_Query.
 */
function listCustomers(ctx: Ctx): Reply {
  const role = ctx.values.role as string;
  let users = [...ctx.shop.customers.values(), ADMIN_USER].filter((u) => role === "all" || u.role === role);
  const email = ctx.values.email as string | undefined;
  const search = ((ctx.values.search as string | undefined) ?? "").trim();
  if (email !== undefined && email !== "") {
    users = users.filter((u) => collated(u.email) === collated(email));
  } else if (search !== "") {
    // WP_User_Query picks the columns from the search term's shape.
    const columns = (u: WooCustomer): string[] =>
      search.includes("@")
        ? [u.email]
        : /^\d+$/.test(search)
          ? [u.username, String(u.id)]
          : [u.username, u.email, u.username.replace(/[^a-z0-9_-]/gi, "-"), u.display_name];
    users = users.filter((u) => columns(u).some((c) => contains(c, search)));
  }
  const byName = (a: WooCustomer, b: WooCustomer) =>
    a.display_name.localeCompare(b.display_name, "en", { sensitivity: "base" }) || a.id - b.id;
  const sign = ctx.values.order === "desc" ? -1 : 1;
  users.sort((a, b) => sign * (ctx.values.orderby === "id" ? a.id - b.id : byName(a, b)));
  return paged(ctx, "customers", users, (user) => renderCustomer(user, ctx));
}

// ---------------------------------------------------------------------------------------------
// Order behaviour: status transitions, stock, payment

function formattedName(product: WooProduct): string {
  return `${product.name} (${product.sku !== "" ? product.sku : `#${product.id}`})`;
}

function addNote(ctx: Ctx, order: WooOrder, text: string, customerNote = false, author = "system"): WooNote {
  const note: WooNote = {
    id: ctx.shop.counters.note++,
    author,
    date: ctx.now,
    note: text,
    customer_note: customerNote,
  };
  order.notes.push(note);
  return note;
}

/** wc_reduce_stock_levels() for an order whose stock was not reduced yet. */
function reduceStock(ctx: Ctx, order: WooOrder) {
  if (order.stockReduced) return;
  const changes: string[] = [];
  for (const item of order.line_items) {
    const product = ctx.shop.products.get(item.product_id);
    if (!product?.manage_stock || item.meta_data.some((m) => m.key === "_reduced_stock")) continue;
    const from = product.stock_quantity ?? 0;
    setStock(ctx, product, from - item.quantity);
    item.meta_data.push({ id: ctx.shop.counters.meta++, key: "_reduced_stock", value: String(item.quantity) });
    changes.push(`${formattedName(product)} ${from}&rarr;${from - item.quantity}`);
  }
  if (changes.length > 0) addNote(ctx, order, `Stock levels reduced: ${changes.join(", ")}`);
  order.stockReduced = true;
}

/** wc_increase_stock_levels() for an order whose stock was reduced. */
function restoreStock(ctx: Ctx, order: WooOrder) {
  if (!order.stockReduced) return;
  const changes: string[] = [];
  for (const item of order.line_items) {
    const product = ctx.shop.products.get(item.product_id);
    const reduced = item.meta_data.find((m) => m.key === "_reduced_stock");
    if (!reduced || !product?.manage_stock) continue;
    const from = product.stock_quantity ?? 0;
    const to = from + Number(reduced.value);
    setStock(ctx, product, to);
    item.meta_data = item.meta_data.filter((m) => m !== reduced);
    changes.push(`${formattedName(product)} ${from}&rarr;${to}`);
  }
  if (changes.length > 0) addNote(ctx, order, `Stock levels increased: ${changes.join(", ")}`);
  order.stockReduced = false;
}

/** WC_Product::validate_props(): a managed product's stock status follows its quantity and the shop's threshold. */
function settleStockStatus(product: WooProduct, threshold: number) {
  if (!product.manage_stock) {
    product.stock_quantity = null;
    product.backorders = "no";
    return;
  }
  const quantity = product.stock_quantity ?? 0;
  product.stock_status = quantity > threshold ? "instock" : product.backorders !== "no" ? "onbackorder" : "outofstock";
}

function setStock(ctx: Ctx, product: WooProduct, quantity: number) {
  product.stock_quantity = quantity;
  settleStockStatus(product, ctx.shop.outOfStockThreshold);
  product.dateModified = ctx.now;
}

/** WC_Order::set_status() followed by save(): date props, then the status hooks and the note. */
function changeStatus(ctx: Ctx, order: WooOrder, to: OrderStatus) {
  const from = order.status;
  if (from === to) return;
  order.status = to;
  const paidStatus = needsProcessing(order, ctx.shop) ? "processing" : "completed";
  if (!order.datePaid && (to === paidStatus || (paidStatus === "processing" && to === "completed"))) {
    order.datePaid = ctx.now;
  }
  if (to === "completed") order.dateCompleted = ctx.now;
  if (to === "completed" || to === "processing" || to === "on-hold") reduceStock(ctx, order);
  if (to === "cancelled" || to === "pending") restoreStock(ctx, order);
  addNote(ctx, order, `Order status changed from ${STATUS_NAMES[from]} to ${STATUS_NAMES[to]}.`);
  if (to === "refunded") recordFullRefund(ctx, order);
}

/** wc_order_fully_refunded(): what is left of the total is recorded as a refund; no payment gateway is asked. */
function recordFullRefund(ctx: Ctx, order: WooOrder) {
  const left = orderTotal(order) - order.refunds.reduce((sum, refund) => sum + refund.total, 0);
  if (left <= 0) return;
  const ids = [...ctx.shop.orders.values()].flatMap((o) => [o.id, ...o.refunds.map((refund) => refund.id)]);
  order.refunds.push({
    id: Math.max(...ids) + 1,
    reason: "Order fully refunded.",
    total: left,
    date: ctx.now,
    refunded_payment: false,
  });
  addNote(
    ctx,
    order,
    "Order status set to refunded. To return funds to the customer you will need to issue a refund through your payment gateway.",
  );
}

/** WC_Order::payment_complete(). */
function paymentComplete(ctx: Ctx, order: WooOrder, transactionId: string) {
  if (!["on-hold", "pending", "failed", "cancelled"].includes(order.status)) return;
  if (transactionId !== "") order.transaction_id = transactionId;
  if (!order.datePaid) order.datePaid = ctx.now;
  changeStatus(ctx, order, needsProcessing(order, ctx.shop) ? "processing" : "completed");
  reduceStock(ctx, order);
}

/** save_object(): props, then the status transition, then `set_paid` if the order still needs payment. */
function updateOrder(ctx: Ctx): Reply {
  const order = ctx.shop.orders.get(ctx.ids.id as number);
  if (!order) return wpError(ORDER_INVALID_ID.code, ORDER_INVALID_ID.message, 400);
  const v = ctx.values;
  const before = JSON.stringify(renderOrder(order, ctx));
  if (typeof v.transaction_id === "string") order.transaction_id = v.transaction_id;
  if (typeof v.status === "string" && v.status !== "") changeStatus(ctx, order, v.status as OrderStatus);
  if (v.set_paid === true && needsPayment(order)) {
    paymentComplete(ctx, order, typeof v.transaction_id === "string" ? v.transaction_id : "");
  }
  if (JSON.stringify(renderOrder(order, ctx)) !== before) order.dateModified = ctx.now;
  return { status: 200, body: renderOrder(order, ctx) };
}

function updateProduct(ctx: Ctx): Reply {
  const product = ctx.shop.products.get(ctx.ids.id as number);
  if (!product) return wpError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400);
  if (product.type === "variation") {
    // WC_REST_Products_Controller's write endpoints take no variation.
    return wpError(
      "woocommerce_rest_invalid_product_id",
      "To manipulate product variations you should use the /products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
      404,
    );
  }
  const v = ctx.values;
  const before = JSON.stringify(renderProduct(product, ctx));
  // Stock data is read only while the shop manages stock at all.
  if (ctx.shop.manageStock) {
    if (typeof v.manage_stock === "boolean") product.manage_stock = v.manage_stock;
    if (product.manage_stock && typeof v.stock_quantity === "number") product.stock_quantity = v.stock_quantity;
    settleStockStatus(product, ctx.shop.outOfStockThreshold);
  }
  if (JSON.stringify(renderProduct(product, ctx)) !== before) product.dateModified = ctx.now;
  return { status: 200, body: renderProduct(product, ctx) };
}

/** The variation a variations route names, of the product it names; undefined for another. */
function variationOf(ctx: Ctx): WooProduct | undefined {
  const variation = ctx.shop.products.get(ctx.ids.id as number);
  return variation?.type === "variation" && variation.parent_id === ctx.ids.product_id ? variation : undefined;
}

const NO_VARIATION = wpError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404);

/**
 * WC_REST_Product_Variations_Controller::prepare_object_for_database(): `manage_stock`, then
 * `stock_quantity` only while the variation counts its own.
 */
function updateVariation(ctx: Ctx): Reply {
  const variation = variationOf(ctx);
  if (!variation) return NO_VARIATION;
  const v = ctx.values;
  if (ctx.shop.manageStock) {
    if (typeof v.manage_stock === "boolean") variation.manage_stock = v.manage_stock;
    if (variation.manage_stock && typeof v.stock_quantity === "number") variation.stock_quantity = v.stock_quantity;
    settleStockStatus(variation, ctx.shop.outOfStockThreshold);
  }
  variation.dateModified = ctx.now;
  return { status: 200, body: renderVariation(variation, ctx) };
}

// ---------------------------------------------------------------------------------------------
// Routes

interface Endpoint {
  args: Record<string, Spec>;
  /** The endpoint's permission check: the 401 (or 404) to answer, or null. */
  permission: (ctx: Ctx) => Reply | null;
  handle: (ctx: Ctx) => Reply;
}

interface Route {
  pattern: RegExp;
  /** EDIT answers POST, PUT and PATCH. */
  endpoints: { GET?: Endpoint; POST?: Endpoint; EDIT?: Endpoint };
}

const cannot = {
  list: wpError("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401),
  view: wpError("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401),
  edit: wpError("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 401),
  create: wpError("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.", 401),
};

/** The permission check of an endpoint any API key may use. */
const keyed = (denied: Reply) => (ctx: Ctx) => (ctx.user ? null : denied);

const ORDER_STATUSES = Object.keys(ORDER_STATUS_NAMES);
const STOCK_STATUSES = ["instock", "outofstock", "onbackorder"];

const PAGING: Record<string, Spec> = {
  page: { type: "integer", minimum: 1, default: 1 },
  per_page: { type: "integer", minimum: 1, maximum: 100, default: 10 },
  search: { type: "string" },
};

/**
 * WC_REST_Setting_Options_Controller::get_item: one yes/no option of a settings group, as its page
 * registers it, read by a key whose user may manage WooCommerce.
 */
function settingRoute(group: string, id: string, label: string, value: (shop: ShopData) => boolean): Route {
  return {
    pattern: new RegExp(`^/wc/v3/settings/${group}/${id}$`, "i"),
    endpoints: {
      GET: {
        args: {},
        permission: keyed(cannot.list),
        handle: (ctx) => ({
          status: 200,
          body: {
            id,
            label,
            description: "",
            type: group === "tax" ? "radio" : "checkbox",
            default: "no",
            value: value(ctx.shop) ? "yes" : "no",
            group_id: group,
            _links: { self: link(`${ctx.origin}/wp-json/wc/v3/settings/${group}/${id}`) },
          },
        }),
      },
    },
  };
}

const ROUTES: Route[] = [
  {
    // WP_REST_Server::get_index(): the site's data, public, `_fields` as rest_filter_response_fields()
    // keeps them. gmt_offset is the option as stored ("1") for a fixed offset, and the offset now,
    // a number, where a city is set (wp_timezone_override_offset()). Its routes are left out.
    pattern: /^\/$/,
    endpoints: {
      GET: {
        args: {},
        permission: () => null,
        handle: (ctx) => {
          const zone = ctx.shop.timeZone;
          const index: Record<string, unknown> = {
            name: "Kafe Praha",
            description: "",
            url: ctx.origin,
            home: ctx.origin,
            gmt_offset: zone ? offsetMinutes(ctx.now.getTime(), zone) / 60 : String(SITE_UTC_OFFSET_MINUTES / 60),
            timezone_string: zone,
            namespaces: ["oembed/1.0", "wc/v3", "wp/v2"],
            authentication: [],
            routes: {},
          };
          const fields = String(ctx.query.get("_fields") ?? "")
            .split(",")
            .map((f) => f.trim())
            .filter(Boolean);
          const body = fields.length
            ? Object.fromEntries(Object.entries(index).filter(([k]) => fields.includes(k)))
            : index;
          return { status: 200, body };
        },
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/orders$/i,
    endpoints: {
      GET: {
        args: {
          ...PAGING,
          after: { type: "string", format: "date-time" },
          before: { type: "string", format: "date-time" },
          dates_are_gmt: { type: "boolean", default: false },
          status: {
            type: "array",
            items: { type: "string", enum: ["any", "trash", ...ORDER_STATUSES] },
            default: ["any"],
          },
          customer: { type: "integer" },
          exclude: { type: "array", items: { type: "integer" }, default: [] },
          offset: { type: "integer", minimum: 0 },
        },
        permission: keyed(cannot.list),
        handle: listOrders,
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/orders\/(?<id>\d+)$/i,
    endpoints: {
      GET: {
        args: {},
        permission: keyed(cannot.view),
        handle: (ctx) => {
          const order = ctx.shop.orders.get(ctx.ids.id as number);
          return order ? { status: 200, body: renderOrder(order, ctx) } : fromSample(ORDER_INVALID_ID);
        },
      },
      EDIT: {
        args: {
          status: { type: "string", enum: ORDER_STATUSES },
          transaction_id: { type: "string" },
          set_paid: { type: "boolean" },
        },
        permission: keyed(cannot.edit),
        handle: updateOrder,
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/orders\/(?<order_id>\d+)\/notes$/i,
    endpoints: {
      GET: {
        args: { type: { type: "string", enum: ["any", "customer", "internal"], default: "any" } },
        permission: keyed(cannot.list),
        handle: (ctx) => {
          const order = ctx.shop.orders.get(ctx.ids.order_id as number);
          if (!order) return wpError("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404);
          const type = ctx.values.type;
          const notes = order.notes
            .filter((n) => type === "any" || (type === "customer" ? n.customer_note : !n.customer_note))
            .sort((a, b) => b.date.getTime() - a.date.getTime() || b.id - a.id);
          return { status: 200, body: notes.map((n) => renderNote(order.id, n, ctx)) };
        },
      },
      POST: {
        args: {
          note: { type: "string", required: true },
          customer_note: { type: "boolean", default: false },
          added_by_user: { type: "boolean", default: false },
        },
        permission: keyed(cannot.create),
        handle: (ctx) => {
          const order = ctx.shop.orders.get(ctx.ids.order_id as number);
          if (!order) return wpError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404);
          // WC_Order::add_order_note(): the current user's (every key here is the admin's) only when asked.
          const author = ctx.values.added_by_user === true ? ADMIN.display_name : "system";
          const note = addNote(ctx, order, String(ctx.values.note), ctx.values.customer_note === true, author);
          return {
            status: 201,
            body: renderNote(order.id, note, ctx),
            headers: { Location: `${ctx.origin}/wp-json/wc/v3/orders/${order.id}/notes/${note.id}` },
          };
        },
      },
    },
  },
  {
    // WC_REST_Order_Refunds_Controller: an order's refunds, newest first.
    pattern: /^\/wc\/v3\/orders\/(?<order_id>\d+)\/refunds$/i,
    endpoints: {
      GET: {
        args: {},
        permission: keyed(cannot.list),
        handle: (ctx) => {
          // WooCommerce queries the refunds by their parent: an unknown order has none.
          const order = ctx.shop.orders.get(ctx.ids.order_id as number);
          if (!order) return { status: 200, body: [] };
          const refunds = [...order.refunds].sort((a, b) => b.date.getTime() - a.date.getTime() || b.id - a.id);
          return { status: 200, body: refunds.map((r) => renderRefund(order, r, ctx)) };
        },
      },
    },
  },
  {
    // WC_REST_Data_Currencies_Controller::get_current_item: the woocommerce_currency option.
    pattern: /^\/wc\/v3\/data\/currencies\/current$/i,
    endpoints: {
      GET: {
        args: {},
        permission: keyed(cannot.view),
        handle: (ctx) => ({
          status: 200,
          body: {
            code: CURRENCY,
            name: "Euro",
            symbol: "&euro;",
            _links: {
              self: link(`${ctx.origin}/wp-json/wc/v3/data/currencies/${CURRENCY}`),
              collection: link(`${ctx.origin}/wp-json/wc/v3/data/currencies`),
            },
          },
        }),
      },
    },
  },
  settingRoute("general", "woocommerce_calc_taxes", "Enable tax rates and calculations", (shop) => shop.calcTaxes),
  settingRoute("tax", "woocommerce_prices_include_tax", "Prices entered with tax", (shop) => shop.pricesIncludeTax),
  {
    // WC_REST_Report_Orders_Totals_Controller: every status wc_get_order_statuses() has, with its
    // name and its orders (OrderUtil::get_count_for_type() counts each, 0 too); no paging.
    pattern: /^\/wc\/v3\/reports\/orders\/totals$/i,
    endpoints: {
      GET: {
        args: {},
        // wc_rest_check_manager_permissions('reports'): 403 to a user without the capability.
        permission: (ctx) =>
          !ctx.user
            ? cannot.list
            : ctx.shop.reportsClosed
              ? wpError("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 403)
              : null,
        handle: (ctx) => {
          const orders = [...ctx.shop.orders.values()];
          const body = Object.entries(ORDER_STATUS_NAMES).map(([slug, name]) => ({
            slug,
            name,
            total: orders.filter((o) => o.status === slug).length,
          }));
          return { status: 200, body };
        },
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/products$/i,
    endpoints: {
      GET: {
        args: {
          ...PAGING,
          sku: { type: "string" },
          stock_status: { type: "string", enum: STOCK_STATUSES },
          after: { type: "string", format: "date-time" },
          before: { type: "string", format: "date-time" },
          dates_are_gmt: { type: "boolean", default: false },
          exclude: { type: "array", items: { type: "integer" }, default: [] },
          offset: { type: "integer", minimum: 0 },
        },
        permission: keyed(cannot.list),
        handle: listProducts,
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/products\/(?<id>\d+)$/i,
    endpoints: {
      // WC_REST_CRUD_Controller checks permissions only on products that exist.
      GET: {
        args: {},
        permission: (ctx) => (ctx.user || !ctx.shop.products.has(ctx.ids.id as number) ? null : cannot.view),
        handle: (ctx) => {
          const product = ctx.shop.products.get(ctx.ids.id as number);
          return product
            ? { status: 200, body: renderProduct(product, ctx) }
            : wpError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404);
        },
      },
      EDIT: {
        args: { manage_stock: { type: "boolean" }, stock_quantity: { type: "integer" } },
        permission: (ctx) => (ctx.user || !ctx.shop.products.has(ctx.ids.id as number) ? null : cannot.edit),
        handle: updateProduct,
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/products\/(?<product_id>\d+)\/variations$/i,
    endpoints: {
      GET: {
        args: PAGING,
        permission: keyed(cannot.list),
        handle: (ctx) => {
          const product = ctx.shop.products.get(ctx.ids.product_id as number);
          const variations = (product?.variations ?? [])
            .map((v) => ctx.shop.products.get(v.id))
            .filter((v): v is WooProduct => v !== undefined);
          return paged(ctx, `products/${ctx.ids.product_id}/variations`, variations, (v) => renderVariation(v, ctx));
        },
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/products\/(?<product_id>\d+)\/variations\/(?<id>\d+)$/i,
    endpoints: {
      GET: {
        args: {},
        permission: keyed(cannot.view),
        handle: (ctx) => {
          const variation = variationOf(ctx);
          return variation ? { status: 200, body: renderVariation(variation, ctx) } : NO_VARIATION;
        },
      },
      EDIT: {
        args: { manage_stock: { type: "boolean" }, stock_quantity: { type: "integer" } },
        permission: keyed(cannot.edit),
        handle: updateVariation,
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/customers$/i,
    endpoints: {
      GET: {
        args: {
          ...PAGING,
          email: { type: "string" },
          role: { type: "string", enum: ["all", ...USER_ROLES], default: "customer" },
          orderby: { type: "string", enum: ["id", "include", "name", "registered_date"], default: "name" },
          order: { type: "string", enum: ["asc", "desc"], default: "asc" },
        },
        permission: keyed(cannot.list),
        handle: listCustomers,
      },
    },
  },
  {
    pattern: /^\/wc\/v3\/customers\/(?<id>\d+)$/i,
    endpoints: {
      GET: {
        args: {},
        // Users::get_user_in_current_site() answers an unknown id before any permission check.
        permission: (ctx) =>
          !userById(ctx, ctx.ids.id as number)
            ? wpError("wc_user_invalid_id", "Invalid user ID.", 404)
            : ctx.user
              ? null
              : cannot.view,
        handle: (ctx) => ({
          status: 200,
          body: renderCustomer(userById(ctx, ctx.ids.id as number) as WooCustomer, ctx),
        }),
      },
    },
  },
];

function userById(ctx: Ctx, id: number): WooCustomer | undefined {
  return id === ADMIN_USER.id ? ADMIN_USER : ctx.shop.customers.get(id);
}

// ---------------------------------------------------------------------------------------------
// Authentication, after WC_REST_Authentication over HTTPS

interface ApiKey {
  key: string;
  secret: string;
  permissions: "read" | "read_write";
}

const KEYS: ApiKey[] = [
  { key: CONSUMER_KEY, secret: CONSUMER_SECRET, permissions: "read_write" },
  { key: READ_ONLY_CONSUMER_KEY, secret: READ_ONLY_CONSUMER_SECRET, permissions: "read" },
];

const authError = (message: string) => wpError("woocommerce_rest_authentication_error", message, 401);

function basicCredentials(header: string | undefined): [string, string] | null {
  const match = /^Basic\s+(\S+)/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/**
 * `consumer_key`/`consumer_secret` from the query when both are non-empty, else from HTTP Basic.
 * An unknown key, or none, leaves the request anonymous (user null) for the endpoint to refuse.
 */
function authenticate(query: Query, authorization: string | undefined): { user: ApiKey | null; error?: Reply } {
  const fromQuery = [query.get("consumer_key"), query.get("consumer_secret")];
  const [key, secret] = fromQuery.every((v) => typeof v === "string" && v !== "")
    ? (fromQuery as [string, string])
    : (basicCredentials(authorization) ?? ["", ""]);
  const found = key !== "" && secret !== "" ? KEYS.find((k) => k.key === key.trim()) : undefined;
  if (!found) return { user: null };
  return found.secret === secret ? { user: found } : { user: null, error: authError("Consumer secret is invalid.") };
}

// ---------------------------------------------------------------------------------------------
// Wordfence

/**
 * Wordfence's 503 block page as lib/wf503.php writes it (Wordfence 7.x, wfLog::do503(): its rate
 * limits, blocked addresses, countries and URLs), sent before WordPress serves the request, with
 * Retry-After the block's time left in seconds where it has one (`retryAfter`), in English.
 */
export function wordfenceBlockPage(reason: string, { retryAfter }: { retryAfter?: number } = {}): FakeAnswer {
  const htmlSpecialChars = (text: string) =>
    text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#039;");
  const time = "Sat, 5 Dec 2026 21:40:00 GMT";
  const body = `<!DOCTYPE html>
<html>
	<head>
		<title>Your access to this site has been limited</title>
		<style>
			html { font-family: "Helvetica Neue", Helvetica, Arial, sans-serif; }
			.generated { color: #999999; margin-top: 2rem; }
		</style>
	</head>
	<body>
	<div class="top-accent"></div>
	<div class="container">
		<h1>Your access to this site has been limited by the site owner</h1>
		<p>Your access to this service has been limited. (HTTP response code 503)</p>
		<p>If you think you have been blocked in error, contact the owner of this site for assistance.</p>
		<hr>
		<p>If you are a WordPress user with administrative privileges on this site please enter your email in the box below and click &quot;Send&quot;. You will then receive an email that helps you regain access.</p>
<form method="POST" id="unlock-form" action="#">
	<input type="hidden" name="nonce" value="4f1b2c3d4e">
	<input type="text" size="50" name="email" id="unlock-email" value="" maxlength="255" placeholder="email@example.com">&nbsp;&nbsp;<input type="submit" class="wf-btn wf-btn-default" id="unlock-submit" name="s" value="Send Unlock Email" disabled>
</form>

		<h2 class="h3">Block Technical Data</h2>
		<table border="0" cellspacing="0" cellpadding="0" class="block-data">
			<tr>
				<th class="reason">Block Reason:</th>
				<td class="reason">${htmlSpecialChars(reason)}</td>
			</tr>
			<tr>
				<th class="time">Time:</th>
				<td class="time">${time}</td>
			</tr>
		</table>

		<div class="about">
			<div class="about-text">
				<h3 class="h4">About Wordfence</h3>
				<p>Wordfence is a security plugin installed on over 4 million WordPress sites. The owner of this site is using Wordfence to manage access to their site.</p>
			</div>
		</div>

		<p class="documentation small">Click here to learn more: <a href="https://www.wordfence.com/help/?query=locked-out" target="_blank" rel="noopener noreferrer">Documentation<span class="screen-reader-text"> (opens in new tab)</span></a></p>
		<p class="generated small"><em>Generated by Wordfence at ${time}.<br>Your computer&#039;s time: <script type="application/javascript">document.write(new Date().toUTCString());</script>.</em></p>
	</div>
	</body>
</html>`;
  return {
    status: 503,
    headers: {
      "content-type": "text/html; charset=UTF-8",
      "cache-control": "no-cache, must-revalidate, max-age=0",
      ...(retryAfter ? { "retry-after": String(retryAfter) } : {}),
    },
    body,
  };
}

/**
 * Wordfence's firewall's 403 page, as its views/403.php writes it (Wordfence 7.x, wfWAF's block
 * action): a firewall rule matched the request (what it carries, not the machine that sent it),
 * before WordPress serves it, in English.
 */
export function wordfenceFirewallPage(): FakeAnswer {
  const time = "Sat, 5 Dec 2026 21:40:00 GMT";
  const unsafe = "A potentially unsafe operation has been detected in your request to this site";
  const body = `<!DOCTYPE html>
<html>
<head>
	<title>403 Forbidden</title>
	<style>
		html { font-family: "Helvetica Neue", Helvetica, Arial, sans-serif; }
		.generated { color: #999999; margin-top: 2rem; }
	</style>
</head>
<body>
<!-- WFWAF NONCE: 6b1e0c2d7f -->
<div class="top-accent"></div>
<div class="container">
	<h1>${unsafe}</h1>
	<p>Your access to this service has been limited. (HTTP response code 403)</p>
	<p>If you think you have been blocked in error, contact the owner of this site for assistance.</p>

	<h2 class="h3">Block Technical Data</h2>
	<table border="0" cellspacing="0" cellpadding="0" class="block-data">
		<tr>
			<th class="reason">Block Reason:</th>
			<td class="reason">${unsafe}</td>
		</tr>
		<tr>
			<th class="time">Time:</th>
			<td class="time">${time}</td>
		</tr>
	</table>

	<div class="about">
		<div class="badge"></div>
        <div class="about-text">
            <h3 class="h4">About Wordfence</h3>
            <p>Wordfence is a security plugin installed on over 4 million WordPress sites. The owner of this site is using Wordfence to manage access to their site.</p>
            <p>You can also read the documentation to learn about Wordfence&#039;s blocking tools, or visit wordfence.com to learn more about Wordfence.</p>
        </div>
    </div>

    <p class="documentation small">Click here to learn more: <a
                href="https://www.wordfence.com/help/?query=locked-out" target="_blank"
                rel="noopener noreferrer">Documentation</a></p>
    <p class="generated small">
        <em>Generated by Wordfence at ${time}.
            <br>Your computer&#039;s time: 
            <script type="application/javascript">document.write(new Date().toUTCString());</script>
            .</em></p>
</div>
</body>
</html>`;
  return { status: 403, headers: { "content-type": "text/html; charset=UTF-8" }, body };
}

/**
 * Wordfence's 403 page for an address on its Real-Time IP Blocklist (views/403-blacklist.php): the
 * machine, not what it sent, names no rule, and offers to report the block to Wordfence, in English.
 */
export function wordfenceBlocklistPage(): FakeAnswer {
  const body = `<!DOCTYPE html>
<html>
<head>
    <meta charset="UTF-8">
    <title>403 Forbidden</title>
</head>
<body>
<!-- WFWAF NONCE: 0a9c3e5d21 -->

<h1>403 Forbidden</h1>

<h3>WHAT? Why am I seeing this?</h3>

<p>Your access to this site was blocked by Wordfence, a security provider, who protects sites from malicious activity.</p>

<p>If you believe Wordfence should be allowing you access to this site, please let them know using the steps below so they can investigate why this is happening.</p>

<hr>

<h3>Reporting a Problem</h3>

<h4>1. Please copy this text. You need to paste it into a form later.</h4>

<p>
    <textarea id="payload" autocomplete="off" autocorrect="off" autocapitalize="off" spellcheck="false" cols="65">eyJpcCI6IjEyNy4wLjAuMSJ9</textarea>
</p>

<h4>2. Click this button and you will be prompted to paste the text above.</h4>

<p>
    <a href="#" id="reportButton" class="btn disabled" target="_blank" rel="noopener noreferrer">Report Problem</a>
</p>

<p style="color: #999999;margin-top: 2rem;">
    <em>Generated by Wordfence at Sat, 5 Dec 2026 21:40:00 GMT.
        <br>Your computer&#039;s time: 
        <script type="application/javascript">document.write(new Date().toUTCString());</script>
        .</em></p>

</body>
</html>`;
  return { status: 403, headers: { "content-type": "text/html; charset=UTF-8" }, body };
}

// ---------------------------------------------------------------------------------------------
// The server

const WRITES = ["POST", "PUT", "PATCH", "DELETE"];

export async function startWooCommerce(options: WooCommerceOptions = {}): Promise<WooCommerceFake> {
  const settings = {
    stripAuthorization: options.stripAuthorization ?? false,
    plainHttp: options.plainHttp ?? false,
    version: options.version ?? "10.2.2",
    droppedHeaders: [] as string[],
  };
  const home = options.home ?? "";
  const data = buildShop();
  const writes: WooWrite[] = [];

  const handle = (req: SeenRequest): FakeAnswer => {
    const query = parseQuery(req.query);
    const path = req.path.startsWith(`${home}/`) ? req.path.slice(home.length) : undefined;
    // WP::parse_request(): a `rest_route` in the query wins over the one a rewrite rule found.
    const asked = query.get("rest_route");
    const wordpress = options.plainPermalinks ? path === "/" || path === "/index.php" : path !== undefined;
    const rewritten = !options.plainPermalinks && (path === "/wp-json" || path?.startsWith("/wp-json/"));
    if (!wordpress || (typeof asked !== "string" && !rewritten)) {
      return {
        status: 404,
        headers: { "content-type": "text/html; charset=UTF-8" },
        body: "<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Oops! That page can&rsquo;t be found.</h1></body></html>",
      };
    }
    let route = typeof asked === "string" ? asked : (path as string).slice("/wp-json".length) || "/";
    route = route.length > 1 ? route.replace(/\/+$/, "") : route;
    const method = req.method.toUpperCase();

    let json: Record<string, unknown> = {};
    let bodyError: Reply | null = null;
    if (req.body !== "") {
      try {
        // PHP's json_decode refuses half a surrogate pair written as an escape (JSON_ERROR_UTF16).
        const parsed = JSON.parse(req.body, (_, value) => {
          if (typeof value === "string" && !value.isWellFormed()) throw new RangeError("UTF-16");
          return value;
        }) as unknown;
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
          json = parsed as Record<string, unknown>;
        }
      } catch (err) {
        bodyError = wpError(
          "rest_invalid_json",
          "Invalid JSON body passed.",
          400,
          err instanceof RangeError
            ? { json_error_code: 10, json_error_message: "Single unpaired UTF-16 surrogate in unicode escape" }
            : { json_error_code: 4, json_error_message: "Syntax error" },
        );
      }
    }

    const reply = (answer: Reply): FakeAnswer => {
      if (WRITES.includes(method)) writes.push({ method, route, status: answer.status, body: json });
      const headers = Object.entries({ "content-type": "application/json; charset=UTF-8", ...answer.headers }).filter(
        ([name]) => !settings.droppedHeaders.includes(name.toLowerCase()),
      );
      return {
        status: answer.status,
        // WordPress's json_encode() escapes slashes.
        headers: Object.fromEntries(headers),
        body: JSON.stringify(answer.body).replace(/\//g, "\\/"),
      };
    };

    // WP_REST_Server::serve_request(): authentication, key permissions, route, parameters, permission check.
    // WooCommerce 9-10 reads a key only for a request whose URI names wp-json/wc/ (not ?rest_route=/wc/).
    const toWooCommerce = `${req.path}?${req.query}`.includes("wp-json/wc/");
    const auth: { user: ApiKey | null; error?: Reply } =
      settings.plainHttp || !toWooCommerce
        ? { user: null }
        : authenticate(query, settings.stripAuthorization ? undefined : req.headers.authorization);
    if (auth.error) return reply(auth.error);
    // WordPress's own application passwords read HTTP Basic on its routes (the index, wp/v2), and
    // refuse the request for a user name (a consumer key) that is no user's. (WooCommerce's routes
    // reached by ?rest_route= are left as they were: not modelled.)
    const basicAuth = /^basic /i.test(String(req.headers.authorization ?? ""));
    if (!route.startsWith("/wc/") && !settings.plainHttp && basicAuth) {
      return reply(wpError("invalid_username", "Unknown username. Check again or try your email address.", 401));
    }
    if (auth.user?.permissions === "read" && WRITES.includes(method)) {
      return reply(authError("The API key provided does not have write permissions."));
    }

    let matched: { endpoint: Endpoint; ids: Record<string, number> } | undefined;
    for (const candidate of ROUTES) {
      const m = candidate.pattern.exec(route);
      const key = ["POST", "PUT", "PATCH"].includes(method) && candidate.endpoints.EDIT ? "EDIT" : method;
      const endpoint = candidate.endpoints[key as keyof Route["endpoints"]];
      if (!m || !endpoint) continue;
      matched = { endpoint, ids: Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, Number(v)])) };
      break;
    }
    if (!matched) return reply(fromSample(NO_ROUTE));
    if (bodyError) return reply(bodyError);

    const { values, error } = readParams(matched.endpoint.args, (name) =>
      json[name] !== undefined && json[name] !== null ? json[name] : query.get(name),
    );
    if (error) return reply(error);
    const ctx: Ctx = {
      ids: matched.ids,
      query,
      user: auth.user,
      origin: `${fake.origin}${home}`,
      now: new Date(clock.now()),
      shop: data,
      values,
      version: settings.version,
    };
    return reply(matched.endpoint.permission(ctx) ?? matched.endpoint.handle(ctx));
  };

  const fake = await startFake(handle);
  // The tests read and set the shop's data itself; a reset fills it anew in place.
  const shop: WooShop = Object.assign(data, {
    writes,
    product(id: number) {
      const product = data.products.get(id);
      if (!product) throw new Error(`no product ${id} in the fake shop`);
      return product;
    },
    order(id: number) {
      const order = data.orders.get(id);
      if (!order) throw new Error(`no order ${id} in the fake shop`);
      return order;
    },
    reset() {
      Object.assign(data, buildShop());
      writes.length = 0;
    },
  });
  return Object.assign(fake, { shop, api: `${fake.origin}${home}/wp-json/wc/v3`, settings });
}
