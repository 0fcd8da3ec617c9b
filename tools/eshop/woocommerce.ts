import Big from "big.js";
import { z } from "zod";
import { AdvisesTool, DeadlinePassed, UpstreamError } from "../../src/errors.js";
import { htmlAsText, unescaped } from "../../src/html.js";
import { untilAborted, withDeadline } from "../../src/http/deadline.js";
import {
  accessLogin,
  challenged,
  describeStatus,
  movedTo,
  namedWaitSeconds,
  nothingChanged,
  retryAfterSeconds,
  signInAt,
  signOnAsked,
  wordPressLogin,
} from "../../src/http/failures.js";
import { answeredItself } from "../../src/http/retry.js";
import type { Call, ErrorMapper, HttpResponse } from "../../src/http/types.js";
import type { Upstream } from "../../src/http/upstream.js";
import type { Log } from "../../src/log.js";
import { folded, oneLine, quoteLine } from "../../src/shown.js";
import { clock, HOUR_MS, isTimeZone, lessAgoThan } from "../../src/time.js";
import { wpSanitizeTextField } from "../../src/wordpress.js";
import type {
  Address,
  Customer,
  Note,
  Order,
  OrderSummary,
  Page,
  PageRequest,
  Product,
  ShopProvider,
  ShopZone,
} from "./provider.js";

/** WooCommerce's order statuses (without plugins'). */
export const WOO_STATUSES = [
  "pending",
  "processing",
  "on-hold",
  "completed",
  "cancelled",
  "refunded",
  "failed",
] as const;

/** wc_get_order_statuses(): its statuses' names, as its admin, emails and reports give them in English. */
const WOO_STATUS_NAMES: Record<(typeof WOO_STATUSES)[number], string> = {
  pending: "Pending payment",
  processing: "Processing",
  "on-hold": "On hold",
  completed: "Completed",
  cancelled: "Cancelled",
  refunded: "Refunded",
  failed: "Failed",
};

const text = z.string().nullish();
/**
 * A GMT time as the REST API writes it ("2017-03-22T19:28:08", no zone designator). Another form (a
 * plugin's "22/03/2017 19:28") is refused with the shop's answer: read, it would be no time at all.
 */
const gmt = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:?\d\d)?$/, "is not a date and time");
const money = z.string();
/** Money waiter adds up: a decimal as WooCommerce writes one ("-5.00"). */
const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, "is not a decimal number");
const address = z
  .object({
    first_name: text,
    last_name: text,
    company: text,
    address_1: text,
    address_2: text,
    city: text,
    state: text,
    postcode: text,
    country: text,
    email: text,
    phone: text,
  })
  .partial();

const orderSchema = z.object({
  id: z.number(),
  number: z.string(),
  status: z.string(),
  currency: z.string(),
  total: money,
  total_tax: money,
  shipping_total: money,
  discount_total: money,
  prices_include_tax: z.boolean().optional(),
  customer_id: z.number().optional(),
  customer_note: text,
  billing: address,
  shipping: address,
  payment_method: text,
  payment_method_title: text,
  transaction_id: text,
  date_created_gmt: gmt,
  date_paid_gmt: gmt.nullish(),
  needs_payment: z.boolean().optional(),
  needs_processing: z.boolean().optional(),
  date_completed_gmt: gmt.nullish(),
  meta_data: z.array(z.object({ key: z.string(), value: z.unknown() })).optional(),
  line_items: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      product_id: z.number().optional(),
      variation_id: z.number().optional(),
      sku: text,
      quantity: z.number(),
      subtotal: money,
      total: money,
      total_tax: money,
      meta_data: z
        .array(
          z.object({
            key: z.string(),
            value: z.unknown(),
            display_key: z.unknown().optional(),
            display_value: z.unknown().optional(),
          }),
        )
        .optional(),
    }),
  ),
  // tax_total is the rate's tax on the items; its tax on shipping is apart.
  tax_lines: z
    .array(z.object({ label: z.string(), tax_total: decimal, shipping_tax_total: decimal.optional() }))
    .optional(),
  shipping_lines: z
    .array(z.object({ method_title: z.string(), method_id: z.string().optional(), total: money }))
    .optional(),
  fee_lines: z.array(z.object({ name: z.string(), total: money })).optional(),
  coupon_lines: z.array(z.object({ code: z.string(), discount: money })).optional(),
  // A refund's total is negative: "-5.00".
  refunds: z.array(z.object({ id: z.number(), total: decimal, reason: text })).optional(),
});
type WooOrder = z.output<typeof orderSchema>;

/** An order's refunds, as /orders/{id}/refunds lists them. */
const refundSchema = z.array(
  z.object({
    id: z.number(),
    refunded_payment: z.boolean(),
    line_items: z
      .array(
        z.object({
          quantity: z.number(),
          meta_data: z.array(z.object({ key: z.string(), value: z.unknown() })).optional(),
        }),
      )
      .optional(),
  }),
);

const productSchema = z.object({
  id: z.number(),
  name: z.string(),
  sku: text,
  type: z.string(),
  status: z.string(),
  price: z.string(),
  regular_price: z.string(),
  sale_price: text,
  on_sale: z.boolean(),
  date_on_sale_from_gmt: gmt.nullish(),
  date_on_sale_to_gmt: gmt.nullish(),
  // None for a draft WordPress gave no date yet ("0000-00-00 00:00:00").
  date_created_gmt: gmt.nullish(),
  // The shop's wall times, without an offset: its lists go by the date's, a draft's by its last save.
  date_created: gmt.nullish(),
  date_modified: gmt.nullish(),
  // "parent": a variation whose stock its product counts; stock_quantity is then the product's.
  manage_stock: z.union([z.boolean(), z.literal("parent")]),
  parent_id: z.number().optional(),
  variations: z.array(z.number()).optional(),
  stock_quantity: z.number().nullish(),
  stock_status: z.string(),
  backorders_allowed: z.boolean().optional(),
  // "none", or "shipping" (its shipping alone): no tax is added to its price.
  tax_status: z.string().optional(),
});

/**
 * A variation as WooCommerce's variations endpoint answers it: without the name, type and product
 * the products endpoint gives, and with its attributes.
 */
const variationSchema = productSchema.omit({ name: true, type: true }).extend({
  attributes: z.array(z.object({ name: z.string(), option: z.string() })).optional(),
});

const customerSchema = z.object({
  id: z.number(),
  email: z.string(),
  first_name: text,
  last_name: text,
  username: text,
  date_created_gmt: gmt,
  is_paying_customer: z.boolean().optional(),
  role: text,
  billing: address.optional(),
});

const noteSchema = z.object({
  id: z.number(),
  author: text,
  date_created_gmt: gmt,
  note: z.string(),
  customer_note: z.boolean(),
});

/** WordPress's REST errors: {"code", "message", "data": {"status", "params"?}}. */
const errorSchema = z.object({
  code: z.string(),
  message: z.string(),
  data: z.object({ status: z.number().optional(), params: z.record(z.string(), z.string()).optional() }).nullish(),
});

/**
 * The warnings PHP prints ahead of a shop's answer where display_errors is on (php_error_cb():
 * "<br />\n<b>Deprecated</b>:  … in <b>…</b> on line <b>42</b><br />\n" with html_errors, else
 * "\nDeprecated: … in … on line 42\n"), followed by the JSON. Fatal errors end the answer instead.
 */
const PHP_WARNINGS =
  /^(?:\s*(?:<br \/>\s*<b>(?:Deprecated|Notice|Warning|Strict Standards)<\/b>:[^\n]* on line <b>\d+<\/b><br \/>|(?:Deprecated|Notice|Warning|Strict Standards): [^\n]* on line \d+))+\s*(?=[[{])/;

/**
 * WooCommerce's JSON without the PHP warnings a shop that shows them prints before it: the answer
 * a shop that logs them gives.
 */
export function withoutPhpWarnings(text: string): string {
  return text.replace(PHP_WARNINGS, "");
}

/** WooCommerce's GMT times have no zone designator. */
function utc(time: string | null | undefined): string | undefined {
  if (!time) return undefined;
  return /[Zz]|[+-]\d\d:?\d\d$/.test(time) ? time : `${time}Z`;
}

/** Decimal strings added up exactly, to the most decimals any has: "3.47" and "1.03" make "4.50". */
function sum(amounts: string[]): string {
  const places = Math.max(0, ...amounts.map((amount) => amount.split(".")[1]?.length ?? 0));
  return amounts.reduce((total, amount) => total.plus(amount), new Big(0)).toFixed(places);
}

function negated(amount: string): string {
  return amount.startsWith("-") ? amount.slice(1) : `-${amount}`;
}

function present(value: string | null | undefined): string | undefined {
  return value ? value : undefined;
}

function nameOf(a: z.output<typeof address>): string {
  return unescaped([a.first_name, a.last_name].filter(Boolean).join(" "));
}

/** Without the name and email: the billing's are the order's customer_name and email, and a shipping address has no email. */
function toAddress(a: z.output<typeof address>): Address {
  const street = unescaped([a.address_1, a.address_2].filter(Boolean).join(", "));
  const out: Address = street ? { address: street } : {};
  for (const key of ["company", "city", "state", "postcode", "country", "phone"] as const) {
    const value = present(a[key]);
    if (value) out[key] = unescaped(value);
  }
  return out;
}

function toSummary(o: WooOrder): OrderSummary {
  const name = nameOf(o.billing);
  // WC_Gateway_COD puts an order in processing (on-hold, with downloads) and completes its payment
  // when it is completed: a paid date before that (WooCommerce 3.0 gave one, as a status set where
  // the gateway is not loaded does) is not the cash collected, in whatever status the order went on
  // to (cancelled, or a plugin's shipped on its way to the customer). One awaiting payment (entered
  // in the admin, set back to pending) is paid so too: payment_complete() completes it where the
  // gateway is loaded, as if delivered, and else dates it in processing, still to be delivered.
  // One completed and set back since keeps the payment its completion recorded, as WooCommerce
  // keeps both dates. One of nothing to pay has no cash to collect: its checkout completes it at once.
  const uncollected = o.payment_method === "cod" && /[1-9]/.test(o.total) && !o.date_completed_gmt;
  const dueOnDelivery =
    uncollected && !["completed", "cancelled", "refunded", "trash", "checkout-draft"].includes(o.status);
  const paid = uncollected ? undefined : utc(o.date_paid_gmt);
  // WooCommerce leaves the total as it was and lists the refunds beside it.
  const refunded = o.refunds?.length ? negated(sum(o.refunds.map((r) => r.total))) : "0";
  // An order made over the REST API or in the admin may carry the method without its title (""). The
  // title is as its gateway's settings saved it (wp_kses_post(), a typed & as &amp;), which the admin
  // shows through esc_html().
  const method = present(o.payment_method_title && unescaped(o.payment_method_title)) ?? present(o.payment_method);
  return {
    id: o.id,
    number: o.number,
    status: o.status,
    total: o.total,
    ...(/[1-9]/.test(refunded) ? { refunded } : {}),
    currency: o.currency,
    ...(o.customer_id ? { customer_id: o.customer_id } : {}),
    ...(name ? { customer_name: name } : {}),
    ...(present(o.billing.email) ? { email: o.billing.email as string } : {}),
    created: utc(o.date_created_gmt) as string,
    ...(paid ? { paid } : {}),
    ...(method ? { payment_method: method } : {}),
    item_count: o.line_items.reduce((sum, item) => sum + item.quantity, 0),
    ...(dueOnDelivery ? { due_on_delivery: true as const } : {}),
  };
}

/**
 * An item's name with what the shop's admin and emails show under it: its options (a variation's
 * attributes, a plugin's fields: "Size: M", "Engraving: Jana") and WooCommerce's "Backordered: 2"
 * until the order is completed. A variation of more than two attributes is named by its product
 * alone, so that without them the item reads as any of its variations. Keys that start "_" are the
 * shop's own bookkeeping; a variation's attribute already in its name ("Paper Filters - White") is
 * not said twice, as wc_is_attribute_in_product_name() decides. Each value is quoted, on one line:
 * a plugin's field holds what the buyer wrote (a gift message), which must not read as the order's.
 */
function itemName(item: WooOrder["line_items"][number], status: string): string {
  const name = htmlAsText(item.name);
  const inName = (value: string) => {
    const [lower, wanted] = [name.toLowerCase(), ` ${value.toLowerCase()}`];
    return lower.includes(`${wanted},`) || lower.endsWith(wanted);
  };
  const options = (item.meta_data ?? []).flatMap(({ key, value, display_key, display_value }) => {
    const shown = display_value ?? value;
    if (key.startsWith("_") || (typeof shown !== "string" && typeof shown !== "number")) return [];
    // WooCommerce names it in the shop's language (woocommerce_backordered_item_meta_name): English alone is known.
    if (key === "Backordered" && status === "completed") return [];
    const text = htmlAsText(String(shown)).trim();
    if (!text || (item.variation_id && inName(text))) return [];
    return [`${htmlAsText(typeof display_key === "string" && display_key ? display_key : key)}: ${quoteLine(text)}`];
  });
  return options.length ? `${name} – ${options.join(", ")}` : name;
}

/**
 * WooCommerce's own offline methods (bank transfer, cheque, cash on delivery), and none. A
 * gateway's plugin may pay an order without recording its transaction (GoPay's keeps its id in
 * its own meta): only these say the payment came by no gateway.
 */
const OFFLINE_METHODS = ["bacs", "cheque", "cod", ""];

/**
 * The shipping methods of an order collected in person for which WC_Order::needs_shipping_address()
 * says there is no address (woocommerce_order_hide_shipping_address: local_pickup, and the methods
 * that declare local-pickup support, LocalPickupUtils::get_local_pickup_method_ids()): core's local
 * pickup and the block checkout's pickup_location.
 */
const ADDRESS_HIDDEN = ["local_pickup", "pickup_location"];

/** Core's local pickup from before shipping zones, which declares no local-pickup support: its address is shown. */
const LEGACY_PICKUP = "legacy_local_pickup";

/** A shipping line's method without the instance an older WooCommerce saved after ":" (local_pickup:3). */
const methodOf = (id = "") => id.split(":")[0] ?? "";

/** Whether an order of shipping methods `methods` is collected in person, and shown with an address. */
function collectedOf(methods: string[]): Pick<Order, "collected"> {
  if (!methods.length || !methods.every((m) => m === LEGACY_PICKUP || ADDRESS_HIDDEN.includes(m))) return {};
  return { collected: { address_shown: methods.includes(LEGACY_PICKUP) } };
}

function toOrder(o: WooOrder): Order {
  const completed = utc(o.date_completed_gmt);
  // WooCommerce's Stripe plugin records a payment's charge as its transaction, and its intent here.
  const intent = o.meta_data?.find((meta) => meta.key === "_stripe_intent_id")?.value;
  const shipTo = nameOf(o.shipping);
  const stockTaken = o.line_items
    .filter((item) => item.meta_data?.some((meta) => meta.key === "_reduced_stock"))
    .map((item) => item.id);
  return {
    ...toSummary(o),
    ...(o.needs_payment === undefined ? {} : { needs_payment: o.needs_payment }),
    ...(o.needs_processing === undefined ? {} : { needs_processing: o.needs_processing }),
    shipping_total: o.shipping_total,
    discount_total: o.discount_total,
    total_tax: o.total_tax,
    prices_include_tax: o.prices_include_tax ?? false,
    ...(present(o.transaction_id) ? { transaction_id: o.transaction_id as string } : {}),
    ...(typeof intent === "string" && intent ? { payment_ids: [intent] } : {}),
    ...(OFFLINE_METHODS.includes(o.payment_method ?? "") ? { paid_offline: true } : {}),
    ...collectedOf(o.shipping_lines?.map((line) => methodOf(line.method_id)) ?? []),
    ...(present(o.customer_note) ? { customer_note: unescaped(o.customer_note as string) } : {}),
    ...(completed ? { completed } : {}),
    // wc_reduce_stock_levels() marks each item it takes from stock; wc_increase_stock_levels() unmarks it.
    ...(stockTaken.length ? { stock_taken: stockTaken } : {}),
    line_items: o.line_items.map((item) => ({
      id: item.id,
      name: itemName(item, o.status),
      ...(item.product_id ? { product_id: item.product_id } : {}),
      ...(item.variation_id ? { variation_id: item.variation_id } : {}),
      ...(present(item.sku) ? { sku: item.sku as string } : {}),
      quantity: item.quantity,
      subtotal: item.subtotal,
      total: item.total,
      tax: item.total_tax,
    })),
    billing: toAddress(o.billing),
    shipping: { ...(shipTo ? { name: shipTo } : {}), ...toAddress(o.shipping) },
    // Kept as the checkout or a plugin set them, which the shop's admin shows through esc_html(): its
    // tags as text, and an entity one only with its ";", so that "Sun&paradise tour" is not "Sun¶dise tour".
    shipping_lines: (o.shipping_lines ?? []).map((line) => ({
      method: unescaped(line.method_title),
      total: line.total,
    })),
    fees: (o.fee_lines ?? []).map((fee) => ({ name: unescaped(fee.name), total: fee.total })),
    coupons: (o.coupon_lines ?? []).map((coupon) => ({ code: unescaped(coupon.code), discount: coupon.discount })),
    taxes: (o.tax_lines ?? []).map((line) => ({
      // A rate's name as typed, which the shop's pages show through esc_html(): its tags as text, an
      // entity typed there as the character it writes, esc_html() encoding none twice.
      label: unescaped(line.label),
      total: sum([line.tax_total, line.shipping_tax_total ?? "0"]),
    })),
    refunds: (o.refunds ?? []).map((r) => ({
      id: r.id,
      total: r.total,
      // Written on the order's admin page, which saves it as the checkout does a buyer's note.
      ...(present(r.reason) ? { reason: unescaped(r.reason as string) } : {}),
    })),
  };
}

/**
 * Whether an answer of `status` may have come from in front of the shop, so that it is no sign a
 * firewall's block there was lifted: a 429, a rate limit, which what is in front sets (WordPress sets
 * none); a 503, a wait, which may be waiter's own answer as it holds the shop's reads; a gateway's
 * 502 or 504 (nginx's in front of PHP, a load balancer's, Cloudflare's), and Cloudflare's own 52x,
 * which they answer when the shop's server fails them.
 */
function mayBeInFront(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504 || (status >= 520 && status <= 530);
}

/** How long a shop's failure to give a setting (a 5xx, a firewall's 403) stands before it is asked again. */
const FAILED_READ_MS = 5 * 60_000;

/** What waiter does without the shop's report of its order statuses, asking for it again `again`. */
function goesOnWithoutReports(again: string): string {
  return `waiter goes on without them, asking again ${again}: the shop checks a status an order is listed by or set to, and a plugin's status is known by its slug only, not by its name.`;
}

/** The longest waiter waits for the shop's report of its order statuses: less than the client's response timeout (15 s). */
const REPORT_MS = 10_000;

/**
 * How long a failure to read a setting is remembered: the shop's own (a 5xx) a few minutes, or until
 * it says to try again if sooner (WordPress's maintenance mode, in a minute), and so a 403 not taken
 * for the shop's refusal (a firewall's or a security plugin's rule, Cloudflare's challenge), which
 * may pass; a 429 as long as its Retry-After asks (a day at most, as retryAfterSeconds reads it). Any
 * other (the call's deadline or cancel, a dropped connection, a 429 that asks no wait) says nothing
 * of the next call, which asks again.
 */
function failureStandsMs(err: unknown): number | undefined {
  if (!(err instanceof UpstreamError) || err.status === undefined) return undefined;
  if (err.status === 403) return FAILED_READ_MS;
  if (err.status === 429) return err.retryAfter === undefined ? undefined : err.retryAfter * 1000;
  return err.status >= 500 ? Math.min(FAILED_READ_MS, (err.retryAfter || Number.POSITIVE_INFINITY) * 1000) : undefined;
}

/**
 * WooCommerce's own refusal of what the key's user may not do (403 woocommerce_rest_…), which only a
 * change to the user mends: not a firewall's or a CDN's 403 (Cloudflare's challenge), which passes.
 */
class UserMayNot extends UpstreamError {
  override name = "UserMayNot";
}

/**
 * A 403 page in WordPress's place: Cloudflare's challenge, or a firewall's page. It passes, or ends
 * once this machine is let by, where WordPress's own refusal of a caller without a login stands.
 */
class NotWordPress extends UpstreamError {
  override name = "NotWordPress";
}

/** WordPress's own index's failures, as every upstream's, but for a 403 that is not WordPress's (NotWordPress). */
export const wordPressErrors: ErrorMapper = (response, upstream, urlSetting) => {
  if (response.status !== 403) return undefined;
  let wordPress = false;
  try {
    wordPress = errorSchema.safeParse(JSON.parse(withoutPhpWarnings(response.text))).success;
  } catch {}
  if (wordPress) return undefined;
  return new NotWordPress(describeStatus(upstream, response, { urlSetting }).message, response.status);
};

/**
 * `read` of the shop's settings, or undefined where the shop refuses it: a key whose user may read
 * products but not the shop's settings is asked again an hour later, not at every call. The shop's
 * own failure is thrown again without asking while failureStandsMs says: a shop whose settings fail
 * would otherwise cost every answer that reads them a failed request (and its retries), where the
 * answer goes on without them. A read whose failure fails the call (`failuresStand: false`) asks
 * again at the next call, which a model told to try again later makes. `refusal` says which failure
 * is the shop's refusal of the read itself: by default WooCommerce's own 403, and any other 4xx but
 * a 429, a 401 (the key refused, as every request is until it is mended) and a 403 that is not
 * WooCommerce's (a firewall's, Cloudflare's challenge); `refused` hears each.
 */
function unlessRefused<T>(
  read: (call: Call) => Promise<T>,
  {
    failuresStand = true,
    refusal = (err: UpstreamError) =>
      err instanceof UserMayNot ||
      (err.status !== undefined && err.status >= 400 && err.status < 500 && ![401, 403, 429].includes(err.status)),
    refused = (_err: UpstreamError) => {},
  } = {},
): (call: Call) => Promise<T | undefined> {
  let refusedAt: number | undefined;
  let failed: { at: number; forMs: number; err: unknown } | undefined;
  return async (call) => {
    if (refusedAt !== undefined && lessAgoThan(refusedAt, HOUR_MS)) return undefined;
    if (failed && lessAgoThan(failed.at, failed.forMs)) throw failed.err;
    try {
      const value = await read(call);
      failed = undefined;
      return value;
    } catch (err) {
      if (err instanceof UpstreamError && refusal(err)) {
        refusedAt = clock.now();
        refused(err);
        return undefined;
      }
      const forMs = failuresStand ? failureStandsMs(err) : undefined;
      failed = forMs === undefined ? undefined : { at: clock.now(), forMs, err };
      throw err;
    }
  };
}

/**
 * Whether a product has the whole of `sku`: the shop reads a SKU with a comma in it as a list of
 * SKUs too, and the whole one among them. Compared as the shop's database compares text (MySQL's
 * utf8mb4_0900_ai_ci, WordPress's utf8mb4_unicode_520_ci), and as sanitize_text_field() left both
 * the SKU saved and the one asked for: each run of spaces, tabs and line breaks one space, a lone
 * "<" escaped.
 */
function hasSku(sku: string): (p: Product) => boolean {
  const compared = (text: string) => folded(wpSanitizeTextField(text));
  return (p) => p.sku !== undefined && compared(p.sku) === compared(sku);
}

function toProduct(p: z.output<typeof productSchema>): Product {
  const managed = p.manage_stock !== false;
  // WooCommerce keeps a sale price before its sale starts and after it ends: on_sale says whether it is on.
  const from = utc(p.date_on_sale_from_gmt);
  const to = utc(p.date_on_sale_to_gmt);
  // WC_Product::is_on_sale() takes a sale price below the regular one, from its start to its end:
  // one that is not (or has no regular price to be below), or set to end before it starts, it never
  // starts (its sales job clears it at its end). A variable or grouped product is on sale as its
  // children are, whatever sale price and dates its own fields keep from when it was simple.
  const ownSale = p.type !== "variable" && p.type !== "grouped";
  const ended = to !== undefined && Date.parse(to) <= clock.now();
  const idle =
    p.on_sale || !ownSale || !present(p.sale_price) || ended
      ? undefined
      : !present(p.regular_price)
        ? ("no regular price" as const)
        : !(Number(p.sale_price) < Number(p.regular_price))
          ? ("not below the regular price" as const)
          : from !== undefined && to !== undefined && Date.parse(to) < Date.parse(from)
            ? ("set to end before it starts" as const)
            : undefined;
  const upcoming = ownSale && !p.on_sale && !idle && from !== undefined && Date.parse(from) > clock.now();
  // The shop charges the price it keeps, which its scheduled-sales job (since 10.5 an action at the
  // sale's start and end, before wc_scheduled_sales() once a day) sets to the sale price once a sale
  // starts and to the regular one once it ends; on_sale reads the dates, so until the job runs they
  // disagree, and the price is what a buyer pays.
  const salePrice = ownSale && present(p.sale_price) && p.price !== p.regular_price ? p.sale_price : undefined;
  const lag: Product["sale_lag"] =
    ownSale && present(p.sale_price) && p.on_sale && p.price === p.regular_price
      ? { sale_price: p.sale_price as string, change: "started", ...(from ? { at: from } : {}) }
      : salePrice && !p.on_sale && ended && to && p.price === salePrice
        ? { sale_price: salePrice, change: "ended", at: to }
        : undefined;
  const sale = lag
    ? { sale_lag: lag, ...(lag.change === "started" && to ? { sale_to: to } : {}) }
    : ownSale && present(p.sale_price) && (p.on_sale || upcoming)
      ? {
          sale_price: p.sale_price as string,
          ...(upcoming ? { sale_from: from } : {}),
          ...(to ? { sale_to: to } : {}),
        }
      : idle
        ? { idle_sale: { price: p.sale_price as string, why: idle } }
        : {};
  // WordPress dates a draft given no date to each save (wp_update_post()): its last is its date.
  const listed = (p.date_created_gmt ? p.date_created : p.date_modified)?.slice(0, 19);
  return {
    id: p.id,
    name: htmlAsText(p.name),
    ...(present(p.sku) ? { sku: p.sku as string } : {}),
    type: p.type,
    status: p.status,
    price: p.price,
    regular_price: p.regular_price,
    ...sale,
    ...(!ownSale && p.on_sale ? { children_on_sale: true as const } : {}),
    manage_stock: managed,
    ...(p.manage_stock === "parent" && p.parent_id ? { counted_on: p.parent_id } : {}),
    ...(p.type === "variation" && p.parent_id ? { variation_of: p.parent_id } : {}),
    // WooCommerce names a variation of no product parent_id 0; one not named at all, a plugin left out.
    ...(p.type === "variation" && p.parent_id === undefined ? { variation_of_unsaid: true as const } : {}),
    ...(p.manage_stock === "parent" && p.parent_id === undefined ? { counted_on_unsaid: true as const } : {}),
    ...(p.type === "variable" && p.variations?.length ? { variations: p.variations } : {}),
    ...(managed && typeof p.stock_quantity === "number" ? { stock_quantity: p.stock_quantity } : {}),
    stock_status: p.stock_status,
    ...(p.backorders_allowed !== undefined ? { backorders_allowed: p.backorders_allowed } : {}),
    ...(p.tax_status && p.tax_status !== "taxable" ? { untaxed: true as const } : {}),
    ...(p.date_created_gmt ? { created: utc(p.date_created_gmt) as string } : {}),
    ...(listed ? { listed } : {}),
  };
}

/**
 * A search for accounts as WordPress saved the display name it looks in: wp_insert_user() and
 * wp_update_user() escape & < > in it (_wp_specialchars on pre_user_display_name), but an entity.
 * A search with an @ in it looks in the email alone, which is saved as typed.
 */
function savedByWordPress(search: string): string {
  return search.includes("@") ? search : escapedAsSaved(search);
}

/** Text with & < > escaped, but an entity, as WordPress saves a display name and kses a post's title. */
function escapedAsSaved(text: string): string {
  return text
    .replace(/&(?!(?:[a-z][a-z0-9]*|#\d+|#x[0-9a-f]+);)/gi, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/**
 * The page of a search the shop may keep in either of two forms (& escaped, as WordPress saves a name,
 * or as typed), of both forms' matches in the list's order (`before`): each form is read from its
 * first match as far as the page asked, in pages of 100 past the first, and the page taken of both
 * merged, so that neither form's are left out or come after the other's later ones. `offset` is how
 * many the page is after the first match (a cursor's, where the list is read on from its last item),
 * which `list` is given to send where the search has one form.
 */
async function eitherForm<T extends { id: number }>(
  asked: string | undefined,
  other: string | undefined,
  page: PageRequest,
  list: (search: string | undefined, page: PageRequest, offset: number | undefined) => Promise<Page<T>>,
  before: (a: T, b: T) => number,
  offset = 0,
): Promise<Page<T>> {
  if (other === asked) return list(asked, page, offset || undefined);
  const skip = offset + (page.page - 1) * page.size;
  const size = skip ? 100 : page.size;
  const upTo = async (search: string | undefined) => {
    const items: T[] = [];
    for (let n = 1; ; n++) {
      const got = await list(search, { page: n, size }, undefined);
      items.push(...got.items);
      const ended = got.items.length < size;
      if (ended || items.length >= skip + page.size) return { items, ended, total: got.total, pages: got.pages };
    }
  };
  const [found, also] = await Promise.all([upTo(asked), upTo(other)]);
  const alone = !also.items.length ? found : !found.items.length ? also : undefined;
  const ids = new Set(found.items.map((item) => item.id));
  const both = [...found.items, ...also.items.filter((item) => !ids.has(item.id))].sort(before);
  // The shop counts each form's matches apart, an item of both twice: counted here where both
  // lists are read to their end, else unsaid, and the next page is asked of both.
  const total = alone
    ? alone.total
    : found.ended && also.ended && found.total !== undefined && also.total !== undefined
      ? both.length
      : undefined;
  // The shop's count of pages is of 100 a page where it skips, not of the size asked.
  const pages = total === undefined ? (alone && !skip ? alone.pages : undefined) : Math.ceil(total / page.size);
  return {
    items: both.slice(skip, skip + page.size),
    ...(total === undefined ? {} : { total }),
    ...(pages === undefined ? {} : { pages }),
  };
}

function toCustomer(c: z.output<typeof customerSchema>): Customer {
  const b = c.billing ?? {};
  return {
    id: c.id,
    email: c.email,
    // Saved through wp_insert_user() or wp_update_user() (the profile screen, My account, an account
    // made at checkout), which escape & < > in them (_wp_specialchars on pre_user_first_name/last_name);
    // the REST API saves them as sent (update_user_meta()), where an & before letters stays as typed.
    ...(present(c.first_name) ? { first_name: unescaped(c.first_name as string) } : {}),
    ...(present(c.last_name) ? { last_name: unescaped(c.last_name as string) } : {}),
    ...(present(c.username) ? { username: c.username as string } : {}),
    // Saved as on the customer's orders: through wc_clean() at checkout, which escapes from a lone "<" on.
    ...(present(b.city) ? { city: unescaped(b.city as string) } : {}),
    ...(present(b.country) ? { country: b.country as string } : {}),
    ...(present(b.phone) ? { phone: unescaped(b.phone as string) } : {}),
    created: utc(c.date_created_gmt) as string,
    paying_customer: c.is_paying_customer ?? false,
    ...(present(c.role) ? { role: c.role as string } : {}),
  };
}

/**
 * The relation types a Link header names (RFC 8288): each link's rel may list several, apart by
 * spaces ("last next"), and they are compared without regard to case.
 */
function linkRels(link: string): Set<string> {
  const rels = new Set<string>();
  for (const [, params = ""] of link.matchAll(/<[^>]*>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    for (const type of (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/)) if (type) rels.add(type);
  }
  return rels;
}

/**
 * A note's text as the shop's admin shows it (wp_kses_post()): WooCommerce writes its own in HTML
 * (stock notes' "40&rarr;38", a refund's price as wc_price() makes it) and a gateway's plugin a
 * link or a line break (`<br />`, kept as one).
 */
function noteText(note: string): string {
  return htmlAsText(note.replace(/<br\s*\/?>/gi, "\n"), { strict: true });
}

/**
 * The author WC_Order::add_order_note() gives the shop's own notes. The REST API says "system" only
 * of an author "woocommerce", in lower case, so it gives them as written; the admin shows them by none.
 */
const SHOP_AUTHOR = "WooCommerce";

function toNote(n: z.output<typeof noteSchema>): Note {
  // The admin shows the author through esc_html(): its entities, closed by their ";", are its text.
  const author = present(n.author) && unescaped(n.author as string);
  return {
    id: n.id,
    date: utc(n.date_created_gmt) as string,
    note: noteText(n.note),
    customer_note: n.customer_note,
    ...(author ? { author: author === SHOP_AUTHOR ? "system" : author } : {}),
  };
}

/**
 * What a request's path names, for messages: /orders/1042/notes names "order 1042", which
 * eshop_orders_list lists; /products/116/variations/117 the variation, which its product names.
 */
function named(path: string): { name: string; tool: string; lookUp: string; byNumber: string } | undefined {
  const variation = /^\/products\/(\d+)\/variations\/(\d+)/.exec(path);
  if (variation) {
    const [, product, id] = variation;
    return {
      name: `variation ${id} of product ${product}`,
      tool: "eshop_product_get",
      lookUp: `See the variations product ${product} has now with eshop_product_get`,
      byNumber: "",
    };
  }
  const [, kind, id] = /^\/(order|product)s\/(\d+)/.exec(path) ?? [];
  if (!kind) return undefined;
  // An order's number, which a numbering plugin makes differ from its id, given as the id.
  const byNumber = kind === "order" ? `; if ${id} is its number, "#${id}" finds it by that` : "";
  const tool = kind === "order" ? "eshop_orders_list" : "eshop_products_list";
  return { name: `${kind} ${id}`, tool, lookUp: `Look it up with ${tool} first`, byNumber };
}

/**
 * The tools' arguments that the shop's parameters come from, by the request's path: what a model
 * changes where WooCommerce refuses a parameter (rest_invalid_param). Every other parameter waiter
 * sets itself. A request whose route serves two tools names its own (RequestOptions.arguments).
 */
const ARGUMENTS: [RegExp, Record<string, string>][] = [
  [
    /^\/orders$/,
    {
      status: "status",
      after: "after",
      before: "before",
      search: "search",
      customer: "customer_id",
      per_page: "page_size",
    },
  ],
  [/^\/orders\/\d+$/, { status: "status", transaction_id: "transaction_id" }],
  [/^\/orders\/\d+\/notes$/, { note: "note", customer_note: "customer_note" }],
  [/^\/products$/, { search: "search", sku: "sku", stock_status: "stock_status", per_page: "page_size" }],
  [/^\/products\/\d+(\/variations\/\d+)?$/, { stock_quantity: "quantity" }],
  [/^\/customers$/, { search: "search", email: "email", per_page: "page_size" }],
];

/** The route WooCommerce's products endpoint names, in any language, where it refuses a variation's id. */
const VARIATIONS_ROUTE = /\/variations\/(<|&lt;)id(>|&gt;)/;

/** wp_maintenance()'s words in English, on its page and in the JSON wp_die answers a request that accepts JSON with. */
const MAINTENANCE = /Briefly unavailable for scheduled maintenance/;

/** wp_die()'s answer: the code of its JSON, or the body of its page. */
const WP_DIE = /"code"\s*:\s*"wp_die"|<body id="error-page">/;

/**
 * Whether an answer is wp_maintenance()'s, an update under way: a 503 in its English words, or any 503
 * of wp_die's, whose words are in the site's language, which wp_maintenance() loads first.
 */
function inMaintenance({ status, text }: Pick<HttpResponse, "status" | "text">): boolean {
  return status === 503 && (MAINTENANCE.test(text) || WP_DIE.test(text));
}

/**
 * How long WordPress's maintenance mode holds the shop's reads: the minute its words name ("Check back
 * in a minute"), not the 600 s of its Retry-After, which it names to every request, the most an update
 * may keep it down; one takes seconds.
 */
export function maintenanceHoldMs(answer: Pick<HttpResponse, "status" | "text">): number | undefined {
  return inMaintenance(answer) ? 60_000 : undefined;
}

/**
 * WooCommerce's error answers, in terms of its settings. `base` is the REST API's base URL;
 * `auth` how the key is sent ("query" when the host drops the Authorization header), and
 * `authSetting` the setting that says so, as a message names it.
 */
export function wooErrors(base: URL, auth: "basic" | "query", authSetting: string): ErrorMapper {
  const where = `${base.host}${base.pathname.replace(/\/$/, "")}`;
  return (response, _upstream, urlSetting) => {
    // Told as for every upstream: not the shop's refusal or move, nor a firewall's that an address lets by.
    if (challenged(response) || accessLogin(response)) return undefined;
    let body: z.output<typeof errorSchema> | undefined;
    try {
      body = errorSchema.parse(JSON.parse(withoutPhpWarnings(response.text)));
    } catch {
      body = undefined;
    }
    const status = response.status;
    // A plugin's words, which may come from anyone's code: told on one line, the message quoted;
    // as text, since wp_die writes it in HTML (the fatal-error handler's "<p>…</p><p><a …>…</a></p>").
    const said = body
      ? ` ${oneLine(body.code, 100)}: ${quoteLine(htmlAsText(body.message.replace(/<\/p>|<br\s*\/?>/gi, " ")))}`
      : "";
    const asked = named(response.path);
    const unchanged = nothingChanged(response);
    // waiter follows no redirect: a write redirected was not made, whatever the status.
    if (status >= 300 && status < 400) {
      const target = movedTo(response);
      const signIn = signInAt(response);
      // A single sign-on's login on another host than the shop's, or one that asks a sign-on's
      // question (an authorization request, the page asked for to come back to) on the shop's own, is no
      // plugin's: told as for every upstream.
      const elsewhere =
        signIn && new URL(signIn).hostname.replace(/^www\./, "") !== base.hostname.replace(/^www\./, "");
      if (elsewhere || signOnAsked(response)) return undefined;
      // A login page ends the path (WordPress's, a plugin's /login/, WooCommerce's account page), or
      // is WordPress's under another name; a moved shop keeps the REST API's route, whatever its path holds.
      const login = /\/(wp-login\.php|login|my-account)\/?$/i;
      if (target && (login.test(new URL(target).pathname) || wordPressLogin(response))) {
        return new UpstreamError(
          `The shop sends its REST API's requests to its login page (${status} to ${target})${unchanged}: a plugin that keeps the site for signed-in users (a force-login, members-only or coming-soon plugin) turns waiter away before WooCommerce answers. Ask whoever runs the shop to leave the REST API open there (${where}).`,
          status,
        );
      }
      // Told as for every upstream: a single sign-on's login elsewhere, not a moved shop.
      if (signIn) return undefined;
      return new UpstreamError(
        `The shop redirects its REST API (${status}${target ? ` to ${target}` : ""})${unchanged}; set ${urlSetting} to the shop's address as it redirects (https, with or without www).`,
        status,
      );
    }
    // Its texts are in the site's language; the link to its documentation on locking out is not.
    if (status === 503 && /Generated by Wordfence|wordfence\.com\/help\/\?query=locked-out/.test(response.text)) {
      // Wordfence's lockout page (wf503.php), sent before WordPress serves the request, with the
      // rule it broke (in its "Block Technical Data" table since Wordfence 7, before in a span);
      // its Retry-After is the lockout's time left, and the next lockout follows the same
      // requests unless this machine is allowlisted.
      const reason = (/<td class="reason">([^<]+)</.exec(response.text) ??
        /Reason:\s*<span[^>]*>([^<]+)</.exec(response.text))?.[1];
      // waiter asks again within 5 minutes, as the lockout may be lifted sooner (this machine allowlisted);
      // a write it never holds, but sends whenever it is asked.
      const again = retryAfterSeconds(response);
      const ends = namedWaitSeconds(response);
      const when =
        ends && again && ends > again
          ? `in ${ends} s, when the lockout ends (waiter asks the shop again in ${again} s, in case it is lifted sooner)`
          : ends && response.changes
            ? `in ${ends} s, when the lockout ends`
            : again
              ? `in ${again} s`
              : "later";
      return new UpstreamError(
        `Wordfence on the shop limits this machine's requests (503${reason ? `: ${quoteLine(htmlAsText(reason), 160)}` : ""})${unchanged}: ask whoever runs the shop to allowlist this machine's address in Wordfence (Firewall → All Firewall Options → Allowlisted IP addresses), or try again ${when}.`,
        status,
        ends,
        true,
      );
    }
    if (status === 403 && /Generated by Wordfence|wordfence\.com\/help\/|<!-- WFWAF NONCE:/.test(response.text)) {
      // Wordfence's firewall (its views/403.php), before WordPress serves the request: a rule matched
      // what the request carries, which its "Block Technical Data" names (Wordfence 6 said it under its
      // heading). Its page for an address on its blocklist (views/403-blacklist.php) names no rule.
      const rule = (/<td class="reason">([^<]+)</.exec(response.text) ??
        /<h2>403 Forbidden<\/h2>\s*<p>([^<]+)</.exec(response.text))?.[1];
      const allowlist =
        "ask whoever runs the shop to allowlist this machine's address in Wordfence (Firewall → All Firewall Options → Allowlisted IP addresses)";
      return new UpstreamError(
        rule
          ? `Wordfence's firewall on the shop blocked the request (403: ${quoteLine(htmlAsText(rule), 160)})${unchanged}: one of its rules took something the request carries (a search, a note's text) for an attack. Try it without that text, or ${allowlist}.`
          : `Wordfence on the shop blocks this machine's address (403)${unchanged}: ${allowlist}.`,
        status,
      );
    }
    if (inMaintenance(response)) {
      // wp_maintenance(): WordPress stops before it loads a plugin while an update runs (10 minutes at most).
      // Its Retry-After is always 600, that most; an update takes seconds, and its answer holds the
      // reads a minute (maintenanceHoldMs). A write is told the wait of the reads its answer holds, as
      // a read is: a change tried again sooner reads the order or the product first, and would be told
      // the rest of that wait.
      const seconds = retryAfterSeconds({ ...response, changes: false });
      const unchanged = response.changes ? " and made no change" : "";
      return new UpstreamError(
        `WordPress is in maintenance mode (503: an update is under way)${unchanged}; try again ${seconds ? `in ${seconds} s` : "later"}.`,
        status,
        seconds,
        true,
      );
    }
    if (
      auth === "basic" &&
      (status === 401 || status === 403) &&
      body &&
      !body.code.startsWith("woocommerce_") &&
      /jwt|bearer|auth(orization)?[_ ]header/i.test(`${body.code} ${body.message}`)
    ) {
      // A JWT plugin (JWT Authentication for WP REST API) reads every REST request's Authorization
      // header as its token and refuses one that is not; without the header it lets the request by.
      return new UpstreamError(
        `A plugin on the shop refused the request (${status}${said}) before WooCommerce saw the key: it reads the Authorization header, where waiter sends the key, as its own login token (a JWT plugin's). Set ${authSetting} to query, which sends the key in the query instead.`,
        status,
      );
    }
    if (status === 401) {
      // This code means WooCommerce found the key: the Authorization header arrived.
      const found = body?.code === "woocommerce_rest_authentication_error";
      if (found && /write permission/i.test(body?.message ?? "")) {
        return new UpstreamError(
          `WooCommerce refused the change (401${said}): the key may read but not write. Give it Read/Write permission (WooCommerce → Settings → Advanced → REST API, edit the key), or run waiter with --read-only.`,
          status,
        );
      }
      if (!found && base.protocol === "http:") {
        // WC_REST_Authentication reads Basic and query keys only when is_ssl(); over http it wants OAuth 1.0a.
        return new UpstreamError(
          `WooCommerce refused the request (401${said}): over plain http it takes a key only as an OAuth 1.0a signature, which waiter does not make, so the shop saw none. Serve the shop over https and set ${urlSetting} to its https:// address.`,
          status,
        );
      }
      if (auth === "basic" && !found && body?.code.startsWith("woocommerce_rest_")) {
        // WooCommerce's own refusal of a request from no one (rest_authorization_required_code()).
        // WC_REST_Authentication leaves a Basic request anonymous, without an error of its own, both
        // where no key came and where the key is not one of the shop's; a known key with a wrong
        // secret is answered woocommerce_rest_authentication_error.
        return new UpstreamError(
          `WooCommerce refused the request (401${said}): it took the request as from no one: it saw no key in it (a web server that drops the Authorization header, where waiter sends the key), or does not know the key (a wrong or revoked one). Set ${authSetting} to query; if it is refused still, check WAITER_WOO_KEY and WAITER_WOO_SECRET (waiter reads them only as it starts).`,
          status,
        );
      }
      const header =
        auth === "basic" && !found
          ? ` If they are right, the web server may be dropping the Authorization header: set ${authSetting} to query.`
          : "";
      return new UpstreamError(
        `WooCommerce refused the request (401${said}). Check WAITER_WOO_KEY and WAITER_WOO_SECRET, and that the key has Read/Write permission (WooCommerce → Settings → Advanced → REST API); waiter reads them only as it starts.${header}`,
        status,
      );
    }
    if (status === 403 && body?.code.startsWith("woocommerce_rest_")) {
      return new UserMayNot(
        `WooCommerce refused the request (403${said}): the key works, but its user may not do this. Give the key to a user with the Shop manager or Administrator role (WooCommerce → Settings → Advanced → REST API).`,
        status,
      );
    }
    if (!body && (status === 405 || status === 501) && response.method === "PUT") {
      // WordPress takes PUT on WooCommerce's routes; a host's rule (mod_security's) may let only GET and POST past.
      return new UpstreamError(
        `The shop's web server refused waiter's change with a page that is not WordPress's (${status}), before WooCommerce saw it: a host or security rule that lets only GET and POST through, where WooCommerce takes changes as PUT. Nothing was changed. Ask whoever runs the shop to let PUT requests to ${where} through from this machine.`,
        status,
      );
    }
    if (status === 403 || (status === 406 && !body)) {
      // WordPress's own answer names no WooCommerce rule; a firewall's or a CDN's page is no JSON at all
      // (mod_security's is often a 406).
      const by = body
        ? `WordPress refused the request (403${said}), not WooCommerce: a security plugin or a rule that keeps the REST API from callers`
        : `The shop's REST API refused the request with a page that is not WordPress's (${status}): a firewall, CDN or security plugin in front of the shop blocks waiter, before the key is checked`;
      return new UpstreamError(
        `${by}. Allow requests to ${where} from this machine there (its address, or the key's requests).`,
        status,
      );
    }
    const productId = /^\/products\/(\d+)$/.exec(response.path)?.[1];
    if (productId && body && /_invalid_(\w+_)?id$/.test(body.code) && VARIATIONS_ROUTE.test(body.message)) {
      // The products endpoint's refusal of a variation's id, which names the route that takes it: not a missing product.
      return new AdvisesTool(
        `WooCommerce takes ${productId} for a product variation's id, which it changes only through the variation's product${response.changes ? ", so nothing was changed" : ""} (${status}${said}).`,
        "eshop_product_get",
        response.changes
          ? "Read it again with eshop_product_get (by its SKU, where its id is refused), which names a variation's product, then set it by the id that answer gives."
          : "Read it by its SKU with eshop_product_get, which finds a variation and names its product.",
        "Look it up in the shop's admin, among its product's variations.",
        status,
      );
    }
    if (asked && body && /_invalid_(\w+_)?id$/.test(body.code)) {
      return new AdvisesTool(
        `The shop has no ${asked.name} (${status}${said}).`,
        asked.tool,
        `${asked.lookUp}${asked.byNumber}.`,
        `Look it up in the shop's admin${asked.byNumber}.`,
        status,
      );
    }
    if (status === 404 && (!body || body.code === "rest_no_route")) {
      // rest_no_route, or not WordPress at all.
      return new UpstreamError(
        `No WooCommerce REST API answers at ${where} (404${said}). Check ${urlSetting} (the shop's address), that WooCommerce is active, and that WordPress permalinks are not set to "Plain".`,
        404,
      );
    }
    if (status === 500 && body?.code === "internal_server_error" && !response.changes) {
      // WordPress's fatal-error handler: a plugin or theme broke, which no retry mends.
      return new UpstreamError(
        `WordPress failed with a PHP error (500${said}): a plugin or theme that broke, or a PHP time or memory limit reached, which waits for whoever runs the shop; the PHP error log, or the recovery-mode email WordPress sent its admin, says which.`,
        status,
      );
    }
    if (status === 400 && body?.data?.params && Object.keys(body.data.params).length) {
      const params = oneLine(Object.values(body.data.params).join("; "));
      // Named as the tool's argument the shop's parameter came from (per_page is page_size); one
      // waiter sets itself (orderby, role, manage_stock) no argument mends.
      const argumentOf = response.arguments ?? ARGUMENTS.find(([route]) => route.test(response.path))?.[1] ?? {};
      const refused = Object.keys(body.data.params);
      const given = refused.flatMap((param) => argumentOf[param] ?? []);
      const own = refused.filter((param) => !argumentOf[param]).map((param) => oneLine(param, 40));
      const fix = [
        given.length && `check the argument${given.length > 1 ? "s" : ""} ${given.join(", ")}`,
        own.length &&
          `waiter sets ${own.join(", ")} itself, not from an argument: a plugin on the shop may narrow what it takes; tell whoever runs the shop`,
      ].filter(Boolean);
      return new UpstreamError(
        `WooCommerce refused the request (400${said} (${params}))${unchanged}; ${fix.join("; ")}.`,
        400,
      );
    }
    if (status === 400 && body) {
      // Not a parameter's check: the shop's own rule, or a plugin's, refused it (a product it cannot save).
      return new UpstreamError(
        `WooCommerce refused the request (400${said})${unchanged}; if its message points at an argument, change that, else tell whoever runs the shop.`,
        400,
      );
    }
    return undefined;
  };
}

/**
 * The site's timezone as WordPress's REST index gives it: a city's (timezone_string), or else a
 * fixed offset in hours (gmt_offset, "1" or 5.5), named as WordPress's settings name it ("UTC+5:30").
 */
const siteIndex = z
  .object({ timezone_string: z.string().nullish(), gmt_offset: z.union([z.number(), z.string()]).nullish() })
  .transform(({ timezone_string: city, gmt_offset }): ShopZone | undefined => {
    if (city && isTimeZone(city)) return { zone: city, name: city };
    const minutes = Math.round(Number(gmt_offset ?? Number.NaN) * 60);
    if (!Number.isFinite(minutes) || Math.abs(minutes) > 14 * 60) return undefined;
    if (minutes === 0) return { zone: "UTC", name: "UTC" };
    const [sign, h, m] = [minutes < 0 ? "-" : "+", Math.floor(Math.abs(minutes) / 60), Math.abs(minutes) % 60];
    const mm = String(m).padStart(2, "0");
    return { zone: `${sign}${String(h).padStart(2, "0")}:${mm}`, name: `UTC${sign}${h}${m ? `:${mm}` : ""}` };
  });

/**
 * WooCommerce's shop through its REST API v3 (`/wp-json/wc/v3`), authenticated with a consumer key
 * and secret; `site` is WordPress's own (/wp-json), asked without the key, which WordPress would take
 * for a user's application password and refuse.
 */
export function wooCommerce(api: Upstream, site?: Upstream, log?: Log): ShopProvider {
  async function list<S extends z.ZodType, T>(
    path: string,
    schema: S,
    map: (item: z.output<S>) => T,
    query: Record<string, string | number | undefined>,
    page: PageRequest,
    call: Call,
  ): Promise<Page<T>> {
    const response = await api.send(path, { query: { ...query, page: page.page, per_page: page.size } }, call);
    const items = api.read(z.array(schema), response) as z.output<S>[];
    const header = (name: string) => [response.headers[name] ?? []].flat().join(", ").trim();
    const count = (name: string) => (/^\d+$/.test(header(name)) ? Number(header(name)) : undefined);
    // A proxy or cache may drop WordPress's X-WP-* headers. The standard Link header, if it stays,
    // still says which page is the last: one with a prev link and no next link.
    const total = count("x-wp-total");
    const rels = linkRels(header("link"));
    const last = rels.has("prev") && !rels.has("next") ? page.page : undefined;
    const pages = count("x-wp-totalpages") ?? (total === undefined ? last : Math.ceil(total / page.size));
    return {
      items: items.map(map),
      ...(total === undefined ? {} : { total }),
      ...(pages === undefined ? {} : { pages }),
    };
  }

  /**
   * The products of the whole SKU the shop lists for `query`. It lists the products of each part
   * of a SKU with a comma in it too, before the whole one's when newer; those are few (it keeps
   * SKUs unique), so all are read in one page of 100, not in the page of the size asked.
   */
  async function withWholeSku(query: { sku: string; [name: string]: string | undefined }, call: Call) {
    const found = await list("/products", productSchema, toProduct, query, { page: 1, size: 100 }, call);
    return found.items.filter(hasSku(query.sku));
  }

  const indexAt = site && `${site.baseUrl.host}${site.baseUrl.pathname.replace(/\/$/, "")}/`;
  /** Whether a firewall's 403 page kept WordPress's index from waiter when last asked: the operator is told once while it lasts. */
  let indexBlocked = false;
  // The site's setting, which changes as good as never: read at most once an hour. A security plugin
  // that closes WordPress's index to callers without a login refuses it.
  const siteZone =
    site &&
    unlessRefused(
      async (call) => {
        try {
          const zone = await site.json(
            siteIndex,
            "/",
            { query: { _fields: "gmt_offset,timezone_string" }, ttl: 3600 },
            call,
          );
          indexBlocked = false;
          return zone;
        } catch (err) {
          if (err instanceof NotWordPress) {
            if (!indexBlocked) {
              log?.warning(
                `Something in front of WordPress refused waiter its REST API's index (403 to ${indexAt}), where the shop says its time zone: a firewall, CDN or security plugin's rule. waiter goes on in UTC, asking again every ${FAILED_READ_MS / 60_000} minutes: the shop's times are shown in UTC, and a date or time without an offset is read in UTC, not in the shop's zone. Let waiter's requests to that address through there.`,
              );
            }
            indexBlocked = true;
          } else if (err instanceof UpstreamError && err.status !== undefined && !mayBeInFront(err.status)) {
            indexBlocked = false;
          }
          throw err;
        }
      },
      // Asked without the key: its 401 or 403 is the plugin's refusal of every caller without a login.
      {
        refusal: (err) =>
          !(err instanceof NotWordPress) &&
          err.status !== undefined &&
          err.status >= 400 &&
          err.status < 500 &&
          err.status !== 429,
        // The model is told its times are UTC; only whoever runs the shop can open the index: told each time it is asked.
        // A 404 is its routes taken away from such callers, the index among them.
        refused: (err) => {
          const why =
            err.status === 401 || err.status === 403
              ? `refused waiter its REST API's index (${err.status} to ${indexAt}), where the shop says its time zone: a security plugin closes the REST API to callers without a login, and waiter asks the index without the key`
              : `answered ${err.status} to waiter's request for its REST API's index (${indexAt}), where the shop says its time zone: a security plugin takes the index away from callers without a login, and waiter asks it without the key`;
          log?.warning(
            `WordPress ${why}. waiter goes on in UTC, asking again in an hour: the shop's times are shown in UTC, and a date or time without an offset is read in UTC, not in the shop's zone. Let requests to that address through without a login in that plugin.`,
          );
        },
      },
    );
  /** What timeZone last answered. */
  let zoneRead: ShopZone | undefined;
  /** When a firewall's 403 last kept the shop's report of its order statuses from waiter. */
  let reportsBlockedAt: number | undefined;
  /**
   * When the shop last failed its report of its order statuses (a 5xx), for how long that stands, and
   * whether the shop answered since (`alone`): else it may have failed with the whole shop.
   */
  let reportsFailed: { at: number; forMs: number; alone?: true } | undefined;
  /**
   * The warning of a report that failed, was too slow or refused, said once the shop then answers a
   * request: where the whole shop fails, the call says so, and the reports failing alone would mislead.
   */
  let reportsUnsaid: string | undefined;
  /**
   * Whether the shop's requests (its orders, products, customers) last failed as the whole shop does
   * (a 5xx, no answer) without saying when to ask again: a report that failed is not asked again until
   * one is answered, as it would fail too, costing a request. A failure that names its wait holds the
   * report that long alone.
   */
  let failingWhole = false;
  /** The shop answered a request, were it with an error of its own: it is up. */
  const shopAnswered = () => {
    // Answered again after failing whole: a report that failed with it is asked again at once,
    // its warning unsaid, as it may have come back with the shop.
    if (failingWhole && reportsFailed && !reportsFailed.alone) {
      reportsFailed = undefined;
      reportsUnsaid = undefined;
    }
    failingWhole = false;
    if (reportsFailed) reportsFailed.alone = true;
    if (reportsUnsaid !== undefined) log?.warning(reportsUnsaid);
    reportsUnsaid = undefined;
  };
  /** A request's answer, which says the report's held warning; its failure, whether the whole shop fails. */
  const answered = <T>(request: Promise<T>): Promise<T> =>
    request.then(
      (answer) => {
        shopAnswered();
        return answer;
      },
      (err: unknown) => {
        // The shop's own refusal (an order it has not, a parameter it refuses), not something's in front
        // of it: a 403 but WooCommerce's own is a firewall's, as the report's is taken.
        const status = err instanceof UpstreamError || err instanceof AdvisesTool ? err.status : undefined;
        if ((status !== undefined && answeredItself(status)) || err instanceof UserMayNot) {
          shopAnswered();
        } else
          failingWhole =
            err instanceof UpstreamError &&
            !(err instanceof DeadlinePassed) &&
            (err.status === undefined || err.status >= 500) &&
            err.retryAfter === undefined;
        throw err;
      },
    );
  const reportsRoute = () => `${api.baseUrl.host}${api.baseUrl.pathname.replace(/\/$/, "")}/reports/orders/totals`;

  // Half a surrogate pair (a text cut inside an emoji) is sent as �: PHP's json_decode refuses the
  // whole body for it (JSON_ERROR_UTF16), so the shop would answer 400 "Invalid JSON body passed".
  const write = (method: "PUT" | "POST", body: unknown) => ({
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body, (_, value) => (typeof value === "string" ? value.toWellFormed() : value)),
  });

  return {
    name: "WooCommerce",
    orderStatuses: WOO_STATUSES,
    orderStatusNames: WOO_STATUS_NAMES,
    // WC_Order::payment_complete() acts on these and on cancelled, which waiter leaves alone: a
    // cancelled order may have been paid and its money returned (orders.ts says what to check).
    payableStatuses: ["pending", "on-hold", "failed"],
    awaitingPaymentStatus: "pending",
    // wc_get_is_paid_statuses()
    paidStatuses: ["processing", "completed"],
    // A trashed order's or product's post status (or HPOS's status column), which the REST API shows as it is.
    trashStatus: "trash",
    // The orders endpoint's status takes any and trash besides the orders' own statuses.
    anyStatus: "any",
    // The block checkout's drafts, which a shop may leave out of a list by any, as it does the trash.
    unlistedStatuses: ["trash", "checkout-draft"],
    // DraftOrders' daily cleanup deletes the drafts not modified for a day.
    draftsDeleted: "the shop deletes a draft for good a day or two after its last change",

    // The customer's emails WC_Emails hooks on status transitions, and the refund's: a status set to
    // refunded records a refund of what is left (wc_order_fully_refunded), which sends one.
    statusEmail(from, to, refund) {
      if (![from, to].every((status) => (WOO_STATUSES as readonly string[]).includes(status))) return undefined;
      const unpaid = ["pending", "failed", "cancelled"];
      if (to === "completed") return { name: "Completed order", sent: "on" };
      if (to === "processing" && [...unpaid, "on-hold"].includes(from)) return { name: "Processing order", sent: "on" };
      if (to === "on-hold" && unpaid.includes(from)) return { name: "Order on-hold", sent: "on" };
      if (to === "refunded" && refund) return { name: "Refunded order", sent: "on" };
      if (to === "failed") return { name: "Failed order", sent: "newer" };
      if (to === "cancelled" && ["processing", "on-hold"].includes(from))
        return { name: "Cancelled order", sent: "optIn" };
      return "none";
    },

    listOrders(filter, page, call) {
      const orders = (search: string | undefined, page: PageRequest, offset: number | undefined) =>
        list(
          "/orders",
          orderSchema,
          toSummary,
          {
            status: filter.status?.join(","),
            after: filter.after,
            before: filter.before,
            search,
            customer: filter.customerId,
            exclude: filter.exclude?.join(","),
            offset,
            // after and before are UTC, not the shop's local time.
            dates_are_gmt: filter.after || filter.before ? "true" : undefined,
            orderby: "date",
            order: "desc",
          },
          page,
          call,
        );
      // The search looks in the items' names as the shop keeps them, a product's title as WordPress
      // saved it ("Tom &amp; Jerry Mug"), and in the buyer's details as typed: a name with & in it,
      // as an order shows it, that matches none as typed is asked as its items' names keep it.
      const newest = (a: OrderSummary, b: OrderSummary) => b.created.localeCompare(a.created) || b.id - a.id;
      const escaped = filter.search && escapedAsSaved(filter.search);
      return answered(eitherForm(filter.search, escaped, page, orders, newest, filter.offset));
    },

    getOrder(id, call) {
      // Not shared with a read already in flight: a write decides on what this read says.
      return answered(api.send(`/orders/${id}`, {}, call).then((response) => toOrder(api.read(orderSchema, response))));
    },

    async setPaid(order, transactionId, call) {
      // set_paid runs WC_Order::payment_complete(), which acts only on an order that needs payment
      // (pending or failed, total above 0). Any other order (on-hold: a bank transfer awaited) is
      // paid by moving it to the shop's paid status, which sets the paid date: processing, or
      // completed when nothing needs shipping. Its stock was reduced when it was put on hold.
      const change = order.needs_payment
        ? { set_paid: true }
        : { status: order.needs_processing === false ? "completed" : "processing" };
      const body = await answered(
        api.json(
          orderSchema,
          `/orders/${order.id}`,
          // The route's status is eshop_order_update_status's argument; here it is waiter's.
          {
            ...write("PUT", { ...change, ...(transactionId ? { transaction_id: transactionId } : {}) }),
            arguments: { transaction_id: "transaction_id" },
          },
          call,
        ),
      );
      return toOrder(body);
    },

    setStatus(id, status, call) {
      return answered(api.json(orderSchema, `/orders/${id}`, write("PUT", { status }), call).then(toOrder));
    },

    async addNote(id, note, forCustomer, call) {
      // Without added_by_user the shop writes the note as its own ("system"), as it does its status changes.
      // The shop keeps a note as sent and shows it as HTML (its admin through wp_kses_post(), the
      // customer's email as it is): & < > are escaped, each, so that it reads as typed.
      const html = note.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      const body = await answered(
        api.json(
          noteSchema,
          `/orders/${id}/notes`,
          write("POST", { note: html, customer_note: forCustomer, added_by_user: true }),
          call,
        ),
      );
      return toNote(body);
    },

    async listNotes(id, call) {
      const body = await answered(api.json(z.array(noteSchema), `/orders/${id}/notes`, { ttl: 0 }, call));
      return body.map(toNote).sort((a, b) => b.date.localeCompare(a.date) || b.id - a.id);
    },

    async refundDetails(id, call) {
      // The order lists its refunds without refunded_payment and its items without what was
      // refunded of them: the refunds endpoint has both, 10 a page unless asked for more. A refund's
      // item names the order's item in its _refunded_item_id, with a negative quantity.
      const query = { per_page: 100 };
      const body = await answered(api.json(refundSchema, `/orders/${id}/refunds`, { query, ttl: 0 }, call));
      const units = new Map<number, number>();
      for (const item of body.flatMap((r) => r.line_items ?? [])) {
        const of = Number(item.meta_data?.find((meta) => meta.key === "_refunded_item_id")?.value);
        if (Number.isSafeInteger(of)) units.set(of, (units.get(of) ?? 0) - item.quantity);
      }
      return { sent: new Map(body.map((r) => [r.id, r.refunded_payment])), units };
    },

    // wc_get_order_statuses(), which a plugin's status joins through the wc_order_statuses filter
    // and which the orders endpoint's status takes: listed here with each one's name and orders. A
    // key whose user may not view the shop's reports is refused them (403), and a shop may have
    // taken their route away (404). A 401 is the key refused, as every other request will be: said.
    // A firewall's 403 (Cloudflare's challenge, a security plugin's rule for the reports alone) is
    // gone without them, the shop checking the status itself, and asked again a few minutes later, as
    // it may pass; the operator is told once while it lasts, as only they can let waiter by.
    shopStatuses: unlessRefused(
      async (call: Call) => {
        if (reportsBlockedAt !== undefined && lessAgoThan(reportsBlockedAt, FAILED_READ_MS)) return undefined;
        if (reportsFailed && (failingWhole || lessAgoThan(reportsFailed.at, reportsFailed.forMs))) return undefined;
        // A report that outlasts the time it is given (on a large shop, every time) leaves the rest
        // of the call to the orders: half of it, and less than the client's response timeout, after
        // which a slow answer is a failure without the deadline's mark.
        const givenMs = Math.min(REPORT_MS, Math.max(0, call.deadline - clock.now()) / 2);
        const reportCall = { ...call, deadline: clock.now() + givenMs };
        // Asked within the call's own time, so that a report come after the time given is kept
        // and stands from then on: on a shop whose report is always slow, it is never kept otherwise.
        const report = api.json(
          z.array(z.object({ slug: z.string(), name: z.string() })),
          "/reports/orders/totals",
          { ttl: 3600, aside: true },
          call,
        );
        const given = withDeadline(reportCall);
        try {
          const body = await untilAborted(report, given.call.signal)
            .catch((err: unknown) => {
              if (!(err instanceof DOMException && err.name === "TimeoutError")) throw err;
              report.then(
                () => {
                  // Said once, by whichever call's wait it came after: the log said it was too slow.
                  if (reportsFailed) {
                    log?.info(
                      `WooCommerce sent the report of its order statuses (${reportsRoute()}) after the ${Math.round(givenMs / 100) / 10} s waiter gave it: it is kept for an hour, and its statuses are named from now on.`,
                    );
                  }
                  reportsFailed = undefined;
                  reportsUnsaid = undefined;
                },
                () => {},
              );
              throw new DeadlinePassed("WooCommerce did not send the report of its order statuses", "");
            })
            .finally(given.end);
          reportsBlockedAt = undefined;
          reportsFailed = undefined;
          reportsUnsaid = undefined;
          return body.map(({ slug, name }) => ({ status: slug, name }));
        } catch (err) {
          if (!(err instanceof UpstreamError && err.status === 403 && !(err instanceof UserMayNot))) {
            // Another answer (the shop's 500, its 404) came from behind the firewall: a block after it is a new one, told again.
            if (err instanceof UpstreamError && err.status !== undefined && !mayBeInFront(err.status))
              reportsBlockedAt = undefined;
            // A report that fails (a gateway's 502 where it outlasts a proxy's timeout on a large shop)
            // leaves the shop to check the status, as a firewall's block does, and is asked again a
            // few minutes later: failing the call, it would fail every list by a status at every call.
            const timedOut =
              err instanceof DeadlinePassed && reportCall.deadline < call.deadline && !call.signal.aborted;
            if (timedOut && !reportsFailed) {
              reportsUnsaid = `WooCommerce did not send the report of its order statuses within ${Math.round(givenMs / 100) / 10} s (${reportsRoute()}), as on a large shop it may not. ${goesOnWithoutReports(`in ${FAILED_READ_MS / 60_000} minutes`)}`;
            }
            if (timedOut) {
              reportsFailed = { ...reportsFailed, at: clock.now(), forMs: FAILED_READ_MS };
              return undefined;
            }
            const forMs = err instanceof UpstreamError && (err.status ?? 0) >= 500 ? failureStandsMs(err) : undefined;
            if (forMs === undefined) throw err;
            if (!reportsFailed && err instanceof UpstreamError && err.status !== 503) {
              reportsUnsaid = `WooCommerce failed the report of its order statuses (${err.status} to ${reportsRoute()}). ${goesOnWithoutReports(forMs < 120_000 ? `in ${Math.ceil(forMs / 1000)} s` : `in ${Math.ceil(forMs / 60_000)} minutes`)}`;
            }
            reportsFailed = { ...reportsFailed, at: clock.now(), forMs };
            return undefined;
          }
          if (reportsBlockedAt === undefined) {
            reportsUnsaid = `Something in front of WooCommerce refused waiter the report of its order statuses (403 to ${reportsRoute()}): a firewall, CDN or security plugin's rule, not WooCommerce's. ${goesOnWithoutReports(`every ${FAILED_READ_MS / 60_000} minutes`)} Let waiter's requests to that route through there.`;
          }
          reportsBlockedAt = clock.now();
          return undefined;
        }
      },
      {
        failuresStand: false,
        refusal: (err) => err instanceof UserMayNot || err.status === 404,
        // The route gone leaves every key without them, which the operator is told, once an hour.
        refused: (err) => {
          if (err.status !== 404) return;
          reportsUnsaid = `WooCommerce answered 404 to the report of its order statuses (${reportsRoute()}): a plugin or a newer WooCommerce took the route away. ${goesOnWithoutReports("in an hour")}`;
        },
      },
    ),

    currency: unlessRefused(async (call: Call) => {
      // The shop's setting, which changes as good as never: read at most once an hour.
      const body = await api.json(
        z.object({ code: z.string() }),
        "/data/currencies/current",
        { ttl: 3600, aside: true },
        call,
      );
      return body.code;
    }),

    priceTax: unlessRefused(async (call: Call) => {
      // The shop's settings, which change as good as never: each read at most once an hour. The
      // REST API gives a product's prices as entered, with tax or without it as the second says. A
      // wait its answer asks for holds the settings alone: the products answered go on without them.
      const option = z.object({ value: z.string() });
      const read = (path: string) => api.json(option, `/settings/${path}`, { ttl: 3600, aside: true }, call);
      if ((await read("general/woocommerce_calc_taxes")).value !== "yes") return "none" as const;
      return (await read("tax/woocommerce_prices_include_tax")).value === "yes" ? ("with" as const) : "without";
    }),

    async timeZone(call) {
      // A failure leaves this answer's times in UTC, saying so, rather than failing it.
      zoneRead = await siteZone?.(call).catch(() => undefined);
      return zoneRead;
    },

    lastTimeZone: () => zoneRead,

    async listProducts(filter, page, call) {
      const query = {
        search: filter.search,
        sku: filter.sku,
        stock_status: filter.stockStatus,
        // The shop's wall time, as it lists products by (post_date): in UTC, the bound would let a draft
        // given no date yet through (its post_date_gmt is zeros), and split an hour its clocks repeat.
        before: filter.before ?? filter.createdBefore,
        dates_are_gmt: filter.createdBefore ? "true" : undefined,
        exclude: filter.exclude?.join(","),
        offset: filter.offset?.toString(),
      };
      if (!filter.sku?.includes(",")) {
        // The search looks in names and descriptions as WordPress saved them, & escaped: a word with
        // & in it, as a product's name shows it ("Tom&Jerry"), that matches none as typed is asked so.
        // Newest first by the shop's wall time, as it lists them and pages on from the last listed.
        const newest = (a: Product, b: Product) => (b.listed ?? "").localeCompare(a.listed ?? "") || b.id - a.id;
        return answered(
          eitherForm(
            filter.search,
            filter.search && escapedAsSaved(filter.search),
            page,
            (search, page, offset) =>
              list("/products", productSchema, toProduct, { ...query, search, offset: offset?.toString() }, page, call),
            newest,
            filter.offset,
          ),
        );
      }
      const items = await answered(withWholeSku({ ...query, sku: filter.sku }, call));
      const from = (page.page - 1) * page.size;
      const pages = Math.max(1, Math.ceil(items.length / page.size));
      return { items: items.slice(from, from + page.size), total: items.length, pages };
    },

    async getProduct(id, call) {
      const body = await answered(api.json(productSchema, `/products/${id}`, { ttl: 0 }, call));
      return toProduct(body);
    },

    async productStatus(id, call) {
      // Its status alone (WordPress's _fields), read as it is now: one kept a while would call the
      // variations of a product just unpublished in the admin for sale.
      const query = { _fields: "status" };
      const body = await answered(
        api.json(z.object({ status: z.string() }), `/products/${id}`, { query, ttl: 0 }, call),
      );
      return body.status;
    },

    findProductsBySku: (sku, call) => answered(withWholeSku({ sku }, call)),

    async listVariations(id, call) {
      const named = (v: z.output<typeof variationSchema>) =>
        toProduct({
          ...v,
          // An attribute left to "Any …" is not among them: one left so alone leaves no name.
          name: (v.attributes ?? []).map((a) => `${a.name}: ${a.option}`).join(", "),
          type: "variation",
          parent_id: id,
        });
      return answered(list(`/products/${id}/variations`, variationSchema, named, {}, { page: 1, size: 100 }, call));
    },

    async setStock(product, quantity, call) {
      const change = write("PUT", { manage_stock: true, stock_quantity: quantity });
      const parent = product.variation_of;
      if (parent === undefined)
        return toProduct(await answered(api.json(productSchema, `/products/${product.id}`, change, call)));
      // The products endpoint writes no variation; the variations one answers without its name.
      const body = await answered(
        api.json(variationSchema, `/products/${parent}/variations/${product.id}`, change, call),
      );
      return { ...toProduct({ ...body, name: "", type: "variation", parent_id: parent }), name: product.name };
    },

    listCustomers(filter, page, call) {
      // Oldest account first: one registered while the list is paged comes last, where the
      // default order, by name, would push an account already read onto the next page.
      const accounts = (search: string | undefined, page: PageRequest) =>
        list(
          "/customers",
          customerSchema,
          toCustomer,
          { search, email: filter.email, role: "all", orderby: "id", order: "asc" },
          page,
          call,
        );
      // The same search looks in the login, email and URL too, saved as typed: "tom&jerry" of an
      // email "tom&jerry@…" is there as typed, and a display name of it escaped: both are listed.
      const oldest = (a: Customer, b: Customer) => a.id - b.id;
      return answered(
        eitherForm(filter.search && savedByWordPress(filter.search), filter.search, page, accounts, oldest),
      );
    },
  };
}
