import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import type { Page, PageRequest } from "./provider.js";

/** Money is a decimal string as the shop keeps it ("19.99"), which the tools' descriptions say once. */
const money = (what?: string) => (what ? z.string().describe(what) : z.string());
const time = (what: string) => z.string().describe(`${what}, ISO 8601 in UTC.`);

export const orderSummaryOut = z.object({
  id: z.number().describe("The order's id: pass it to the other eshop_order_* tools."),
  number: z.string().describe("The order number customers see (often the id)."),
  status: z.string(),
  total: money(),
  currency: z.string().describe("ISO 4217 code."),
  customer_id: z.number().optional().describe("The customer's account id; absent for a guest order."),
  customer_name: z.string().optional(),
  email: z.string().optional(),
  created: time("When it was placed"),
  paid: time("When it was paid").optional(),
  payment_method: z.string().optional(),
  item_count: z.number().describe("Units ordered, all line items together."),
});

const addressOut = z
  .object({
    name: z.string().optional(),
    company: z.string().optional(),
    address: z.string().optional(),
    city: z.string().optional(),
    state: z.string().optional(),
    postcode: z.string().optional(),
    country: z.string().optional(),
    email: z.string().optional(),
    phone: z.string().optional(),
  })
  .describe("Only the parts the order has.");

export const noteOut = z.object({
  id: z.number(),
  date: time("Written"),
  note: z.string(),
  customer_note: z.boolean().describe("True when the customer was sent it; false for a private note."),
  author: z.string().optional(),
});

export const orderOut = {
  ...orderSummaryOut.shape,
  needs_payment: z.boolean().optional().describe("The shop says the order awaits payment."),
  needs_processing: z
    .boolean()
    .optional()
    .describe("The shop says something must be shipped once paid; false when paid orders go straight to completed."),
  shipping_total: money(),
  discount_total: money(),
  total_tax: money(),
  prices_include_tax: z.boolean(),
  transaction_id: z.string().optional().describe("The payment gateway's transaction id."),
  customer_note: z.string().optional().describe("What the customer wrote at checkout."),
  completed: time("When it was completed").optional(),
  line_items: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      product_id: z.number().optional(),
      variation_id: z.number().optional(),
      sku: z.string().optional(),
      quantity: z.number(),
      subtotal: money("Before discounts."),
      total: money("After discounts."),
      tax: money(),
    }),
  ),
  billing: addressOut,
  shipping: addressOut,
  shipping_lines: z.array(z.object({ method: z.string(), total: z.string() })),
  fees: z.array(z.object({ name: z.string(), total: z.string() })),
  coupons: z.array(z.object({ code: z.string(), discount: z.string() })),
  taxes: z.array(z.object({ label: z.string(), total: z.string() })),
  refunds: z.array(z.object({ id: z.number(), total: z.string(), reason: z.string().optional() })),
};

export const productOut = z.object({
  id: z.number(),
  name: z.string(),
  sku: z.string().optional(),
  type: z.string().describe("simple, variable, grouped or external."),
  status: z.string().describe("publish, draft, pending or private."),
  price: money(),
  regular_price: money(),
  sale_price: money("When on sale.").optional(),
  manage_stock: z.boolean().describe("Whether the shop counts this product's stock."),
  stock_quantity: z.number().optional().describe("Units in stock, when the shop counts them."),
  stock_status: z.string().describe("instock, outofstock or onbackorder."),
});

export const customerOut = z.object({
  id: z.number(),
  email: z.string(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  city: z.string().optional(),
  country: z.string().optional(),
  phone: z.string().optional(),
  created: time("Registered"),
  paying_customer: z.boolean().describe("Whether the customer has paid for an order."),
});

export const orderId = z.number().int().positive().describe("The order's id (from eshop_orders_list).");

/** Paging: a cursor is "p" and a page number, handed out by the previous page. */
export const paging = {
  page_size: z.number().int().min(1).max(100).default(20).describe("Items per page, 1 to 100. Default 20."),
  cursor: z
    .string()
    .regex(/^p[1-9]\d{0,5}$/, "is not a cursor this tool handed out")
    .optional()
    .describe("`next_cursor` of the previous page, to read the next one; keep the other arguments the same."),
};

export const pagingOut = {
  total: z.number().describe("Items matching, across all pages."),
  next_cursor: z.string().optional().describe("Pass as `cursor` for the next page; absent on the last page."),
};

export function pageRequest(args: { page_size: number; cursor?: string | undefined }): PageRequest {
  return { page: args.cursor ? Number(args.cursor.slice(1)) : 1, size: args.page_size };
}

export function pageResult<T>(page: Page<T>, request: PageRequest): { total: number; next_cursor?: string } {
  if (page.items.length === 0 && request.page > 1 && page.total > 0) {
    throw new ToolError(`There is no page ${request.page}: ${page.total} items fill ${page.pages} pages of this size.`);
  }
  return { total: page.total, ...(request.page < page.pages ? { next_cursor: `p${request.page + 1}` } : {}) };
}

/** A line that says how many there are and how to read on. */
export function pageLine(shown: number, result: { total: number; next_cursor?: string }, what: string): string {
  const more = result.next_cursor ? `; next page: cursor "${result.next_cursor}"` : "";
  return `${shown} of ${result.total} ${what}${more}`;
}
