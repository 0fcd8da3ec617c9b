import { z } from "zod";
import { ToolError } from "../../src/errors.js";
import { defineTool, type Tool } from "../../src/toolset.js";
import type { Order, OrderSummary, ShopProvider } from "./provider.js";
import {
  noteOut,
  orderId,
  orderOut,
  orderSummaryOut,
  pageLine,
  pageRequest,
  pageResult,
  paging,
  pagingOut,
} from "./shapes.js";

/** Notes an order answer shows, newest first. */
const NOTES_SHOWN = 10;

/** A date or a time, read as UTC unless it names an offset, sent to the shop as UTC (dates_are_gmt). */
const dateTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/,
    "must be YYYY-MM-DD or an ISO 8601 time",
  )
  .transform((value, ctx) => {
    const [y, m, d, h = 0, min = 0, s = 0] = (value.match(/\d+/g) ?? []).map(Number);
    const wall = new Date(Date.UTC(y as number, (m as number) - 1, d, h, min, s));
    const real = wall.getUTCMonth() === (m as number) - 1 && wall.getUTCDate() === d && h < 24 && min < 60 && s < 60;
    const zoned = value.length === 10 ? `${value}T00:00:00Z` : /Z|[+-]\d{2}:\d{2}$/.test(value) ? value : `${value}Z`;
    const epoch = Date.parse(zoned);
    if (!real || Number.isNaN(epoch)) {
      ctx.addIssue({ code: "custom", message: "is not a real date or time" });
      return z.NEVER;
    }
    return new Date(epoch).toISOString().slice(0, 19);
  });

/** Writes to one order run one at a time in this process: two mark-paid calls cannot interleave. */
const queues = new Map<number, Promise<unknown>>();
function oneAtATime<T>(id: number, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(id) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => {});
  queues.set(id, settled);
  void settled.then(() => {
    if (queues.get(id) === settled) queues.delete(id);
  });
  return next;
}

function summaryLine(o: OrderSummary): string {
  const who = [o.customer_name, o.email ? `<${o.email}>` : ""].filter(Boolean).join(" ");
  const paid = o.paid ? `, paid ${o.paid.slice(0, 10)}` : "";
  return `#${o.number} (id ${o.id}) ${o.status}: ${o.total} ${o.currency}, ${o.item_count} item${o.item_count === 1 ? "" : "s"}${who ? `, ${who}` : ""}, placed ${o.created.slice(0, 16).replace("T", " ")}${paid}`;
}

export function orderTools(shop: ShopProvider): Tool[] {
  const statuses = shop.orderStatuses as [string, ...string[]];
  const status = z.enum(statuses);

  const list = defineTool({
    name: "eshop_orders_list",
    title: "List orders",
    description:
      `Finds orders in the ${shop.name} shop, newest first: by status, date range, customer, or a search over names, emails and order numbers. ` +
      "Each order is one summary line: id, number, status, total and currency, customer, dates, payment method, item count. " +
      "Pages of up to 100; pass `next_cursor` back as `cursor` for the next. Use eshop_order_get for an order's items and addresses.",
    input: {
      status: z
        .array(status)
        .max(statuses.length)
        .optional()
        .describe(`Only orders in these statuses: ${statuses.join(", ")}.`),
      after: dateTime
        .optional()
        .describe("Only orders placed after this: YYYY-MM-DD or ISO 8601 time (UTC unless an offset is given)."),
      before: dateTime.optional().describe("Only orders placed before this: YYYY-MM-DD or ISO 8601 time."),
      search: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe("Text to find in the customer's name, email, address or the order number."),
      customer_id: z
        .number()
        .int()
        .positive()
        .optional()
        .describe("Only this customer's orders (id from eshop_customers_list)."),
      ...paging,
    },
    output: { orders: z.array(orderSummaryOut), ...pagingOut },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      if (args.after && args.before && args.after >= args.before) {
        throw new ToolError(`\`after\` (${args.after}Z) must be earlier than \`before\` (${args.before}Z).`);
      }
      const request = pageRequest(args);
      const page = await shop.listOrders(
        {
          ...(args.status ? { status: args.status } : {}),
          ...(args.after ? { after: args.after } : {}),
          ...(args.before ? { before: args.before } : {}),
          ...(args.search ? { search: args.search } : {}),
          ...(args.customer_id ? { customerId: args.customer_id } : {}),
        },
        request,
        call,
      );
      return { orders: page.items, ...pageResult(page, request) };
    },
    render(r) {
      if (r.orders.length === 0) return "No orders match.";
      return [...r.orders.map(summaryLine), pageLine(r.orders.length, r, "orders")].join("\n");
    },
  });

  const get = defineTool({
    name: "eshop_order_get",
    title: "Read an order",
    description:
      `One order of the ${shop.name} shop in full: line items with SKUs and quantities, totals, taxes, shipping, discounts, refunds, billing and shipping addresses, payment (method, transaction id, paid date) and its ${NOTES_SHOWN} latest notes. ` +
      "Money is decimal strings in the order's currency.",
    input: { id: orderId },
    output: { ...orderOut, notes: z.array(noteOut).describe(`The ${NOTES_SHOWN} latest notes, newest first.`) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run({ id }, call) {
      const [order, notes] = await Promise.all([shop.getOrder(id, call), shop.listNotes(id, call)]);
      return { ...order, notes: notes.slice(0, NOTES_SHOWN) };
    },
    render(o) {
      const lines = [summaryLine(o)];
      for (const item of o.line_items) {
        lines.push(`- ${item.quantity} × ${item.name}${item.sku ? ` [${item.sku}]` : ""}: ${item.total} ${o.currency}`);
      }
      lines.push(
        `Shipping ${o.shipping_total}, discount ${o.discount_total}, tax ${o.total_tax}, total ${o.total} ${o.currency}`,
      );
      if (o.transaction_id) lines.push(`Transaction: ${o.transaction_id}`);
      const ship = [
        o.shipping.name,
        o.shipping.address,
        o.shipping.postcode,
        o.shipping.city,
        o.shipping.country,
      ].filter(Boolean);
      if (ship.length) lines.push(`Ship to: ${ship.join(", ")}`);
      if (o.customer_note) lines.push(`Customer's note: ${o.customer_note}`);
      for (const note of o.notes)
        lines.push(
          `Note ${note.date.slice(0, 16).replace("T", " ")}${note.customer_note ? " (to customer)" : ""}: ${note.note}`,
        );
      return lines.join("\n");
    },
  });

  const markPaid = defineTool({
    name: "eshop_order_mark_paid",
    title: "Mark an order paid",
    description:
      `Records that an order of the ${shop.name} shop is paid, as a payment gateway would: sets the paid date, moves it to processing (or straight to completed when every item is virtual and downloadable, as WooCommerce decides), reduces stock, and adds an order note. ` +
      "Idempotent: an order already paid is left alone and the result says so (`already_paid`), so stock is never reduced twice. " +
      `Only orders that are ${shop.payableStatuses.join(", ")} can be marked paid. Use it once a payment is confirmed (e.g. a payment webhook event).`,
    input: {
      id: orderId,
      transaction_id: z
        .string()
        .min(1)
        .max(200)
        .optional()
        .describe("The payment's transaction id at the gateway, kept on the order."),
      note: z
        .string()
        .min(1)
        .max(2000)
        .optional()
        .describe("Private order note to add (default: says the order was marked paid, with the transaction id)."),
    },
    output: {
      already_paid: z.boolean().describe("True when the order was paid before this call and nothing was changed."),
      order: orderSummaryOut,
      transaction_id: z
        .string()
        .optional()
        .describe("The transaction id the order carries: compare it with the payment's when already_paid."),
      note_id: z.number().optional().describe("The note added, when the order was marked paid now."),
      note_error: z
        .string()
        .optional()
        .describe("Why the note could not be added; the payment is recorded all the same."),
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    run({ id, transaction_id, note }, call) {
      return oneAtATime(id, async () => {
        const before = await shop.getOrder(id, call);
        const stored = before.transaction_id ? { transaction_id: before.transaction_id } : {};
        if (shop.paidStatuses.includes(before.status)) {
          return { already_paid: true, order: summary(before), ...stored };
        }
        if (!shop.payableStatuses.includes(before.status)) {
          throw new ToolError(
            `Order ${id} is ${before.status}, so it was not marked paid: only ${shop.payableStatuses.join(", ")} orders can be. If it really should be paid, set its status with eshop_order_update_status first.`,
          );
        }
        if (before.paid) return { already_paid: true, order: summary(before), ...stored };
        const after = await shop.setPaid(before, transaction_id, call);
        if (!after.paid) {
          throw new ToolError(
            `${shop.name} accepted the payment for order ${id} but did not record it as paid (status ${after.status}); check the order in the shop.`,
          );
        }
        const text = note ?? `Marked paid by waiter${transaction_id ? ` (transaction ${transaction_id})` : ""}.`;
        const paid = {
          already_paid: false,
          order: summary(after),
          ...(after.transaction_id ? { transaction_id: after.transaction_id } : {}),
        };
        try {
          return { ...paid, note_id: (await shop.addNote(id, text, false, call)).id };
        } catch (err) {
          // The payment is recorded; a retry would find it paid and never add the note.
          return { ...paid, note_error: err instanceof Error ? err.message : String(err) };
        }
      });
    },
    render(r) {
      return r.already_paid
        ? `Order #${r.order.number} (id ${r.order.id}) was already paid${r.order.paid ? ` on ${r.order.paid}` : ""} and is ${r.order.status}; nothing was changed.`
        : `Order #${r.order.number} (id ${r.order.id}) is now paid (${r.order.paid}) and ${r.order.status}; ${r.note_id ? `note ${r.note_id} added` : `the note was not added: ${r.note_error}`}.`;
    },
  });

  const updateStatus = defineTool({
    name: "eshop_order_update_status",
    title: "Change an order's status",
    description:
      `Sets an order's status in the ${shop.name} shop (${statuses.join(", ")}), optionally with a private note saying why. ` +
      "The shop acts on the change as it does in its admin: emails to the customer, stock restored on cancelled, and so on. " +
      "To record a payment use eshop_order_mark_paid instead, which sets the paid date too. Setting the status an order already has changes nothing.",
    input: {
      id: orderId,
      status: status.describe(`The new status: ${statuses.join(", ")}.`),
      note: z.string().min(1).max(2000).optional().describe("Private order note to add with the change."),
    },
    output: {
      changed: z.boolean().describe("False when the order already had that status."),
      previous_status: z.string(),
      order: orderSummaryOut,
      note_id: z.number().optional(),
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    run({ id, status: wanted, note }, call) {
      return oneAtATime(id, async () => {
        const before = await shop.getOrder(id, call);
        const after = before.status === wanted ? before : await shop.setStatus(id, wanted, call);
        const added = note ? await shop.addNote(id, note, false, call) : undefined;
        return {
          changed: before.status !== wanted,
          previous_status: before.status,
          order: summary(after),
          ...(added ? { note_id: added.id } : {}),
        };
      });
    },
    render(r) {
      return r.changed
        ? `Order #${r.order.number} (id ${r.order.id}): ${r.previous_status} → ${r.order.status}${r.note_id ? `; note ${r.note_id} added` : ""}.`
        : `Order #${r.order.number} (id ${r.order.id}) was already ${r.order.status}; its status was not changed${r.note_id ? `; note ${r.note_id} added` : ""}.`;
    },
  });

  const addNote = defineTool({
    name: "eshop_order_add_note",
    title: "Add an order note",
    description:
      `Adds a note to an order in the ${shop.name} shop. A private note (the default) is for the shop's staff; with customer_note true the shop also emails it to the customer. ` +
      "Each call adds another note.",
    input: {
      id: orderId,
      note: z.string().min(1).max(2000).describe("The note's text."),
      customer_note: z.boolean().default(false).describe("Send it to the customer too. Default false (private)."),
    },
    output: { order_id: z.number(), note: noteOut },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run({ id, note, customer_note }, call) {
      return { order_id: id, note: await shop.addNote(id, note, customer_note, call) };
    },
    render(r) {
      return `Note ${r.note.id} added to order ${r.order_id}${r.note.customer_note ? " and sent to the customer" : " (private)"}.`;
    },
  });

  return [list, get, markPaid, updateStatus, addNote];
}

const SUMMARY_KEYS = Object.keys(orderSummaryOut.shape) as (keyof OrderSummary)[];

function summary(order: Order): OrderSummary {
  return Object.fromEntries(
    SUMMARY_KEYS.filter((key) => order[key] !== undefined).map((key) => [key, order[key]]),
  ) as unknown as OrderSummary;
}
