import { createHash } from "node:crypto";
import { z } from "zod";
import { ToolError, UnconfirmedChange } from "../../src/errors.js";
import { digits, published, UNSIGNED_DECIMAL } from "../../src/settings.js";
import { endingWith, quote, withinBytes } from "../../src/shown.js";
import { localIso, utcMinute } from "../../src/time.js";
import type { Page, PageRequest, ShopZone } from "./provider.js";

/**
 * An answer stops here, in bytes of its structured content as JSON carries it: some clients refuse
 * a result over 25k tokens or keep one over 50,000 characters out of the model's context, and an
 * order of two hundred lines, or a page of a hundred products, with long names makes hundreds of
 * kilobytes, three bytes a character in Japanese.
 */
const ANSWER_BYTES = 40_000;

/** What people wrote in the shop (names, notes, addresses), which an answer cuts; ids, sums and dates stay whole. */
const WRITTEN = new Set([
  "name",
  "first_name",
  "last_name",
  "username",
  "customer_name",
  "note",
  "customer_note",
  "author",
  "reason",
  "method",
  "payment_method",
  "code",
  "label",
  "company",
  "address",
  "city",
  "state",
]);

/** `result` as an answer shows it: past ANSWER_BYTES, its longest written texts cut, each saying so. */
export function withinAnswer<T>(result: T): T {
  return withinBytes(result, ANSWER_BYTES, WRITTEN);
}

/** Money is a decimal string as the shop keeps it ("19.99"), which the tools' descriptions say once. */
const money = (what?: string) => (what ? z.string().describe(what) : z.string());

export const orderSummaryOut = z.object({
  id: z.number(),
  number: z.string(),
  status: z.string(),
  total: money(),
  refunded: money().optional(),
  currency: z.string(),
  customer_id: z.number().optional(),
  customer_name: z.string().optional(),
  email: z.string().optional(),
  created: z.string(),
  paid: z.string().optional(),
  payment_method: z.string().optional(),
  item_count: z.number().describe("Units."),
});

/** What a change to an order leaves to read: its state now. */
export const orderStateOut = orderSummaryOut.pick({
  id: true,
  number: true,
  status: true,
  total: true,
  currency: true,
  paid: true,
});

/** The billing address's name and email are the order's customer_name and email. */
const addressOut = z.object({
  company: z.string().optional(),
  address: z.string().optional(),
  city: z.string().optional(),
  state: z.string().optional(),
  postcode: z.string().optional(),
  country: z.string().optional(),
  phone: z.string().optional(),
});

export const noteOut = z.object({
  id: z.number(),
  date: z.string(),
  note: z.string(),
  customer_note: z.boolean(),
  author: z.string().optional(),
});

export const orderOut = {
  ...orderSummaryOut.shape,
  needs_payment: z.boolean().optional(),
  needs_processing: z.boolean().optional(),
  shipping_total: money(),
  discount_total: money(),
  total_tax: money(),
  prices_include_tax: z.boolean(),
  transaction_id: z.string().optional(),
  customer_note: z.string().optional().describe("What the customer wrote at checkout."),
  completed: z.string().optional(),
  line_items: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      product_id: z.number().optional(),
      variation_id: z.number().optional(),
      sku: z.string().optional(),
      quantity: z.number(),
      subtotal: money("Before discounts."),
      total: money(),
      tax: money(),
    }),
  ),
  billing: addressOut,
  shipping: addressOut.extend({ name: z.string().optional() }),
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
  type: z.string(),
  status: z.string(),
  price: money(),
  regular_price: money(),
  sale_price: money().optional(),
  sale_from: z.string().optional(),
  manage_stock: z.boolean(),
  stock_quantity: z.number().optional(),
  stock_status: z.string(),
});

/** A product's stock, as a change to it leaves it: counted (`started_counting` says if it was before). */
export const stockOut = productOut.pick({
  id: true,
  name: true,
  sku: true,
  stock_quantity: true,
  stock_status: true,
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
  created: z.string(),
  paying_customer: z.boolean(),
  role: z.string().optional(),
});

/** An order named by its number as the shop writes it ("#7084", a numbering plugin's "WC-7084"). */
export class OrderNumber {
  constructor(readonly number: string) {}
}

/** What `orderId` takes, as text that is neither is told. */
const ORDER_REF = `the order's id (a number such as 7084) or its number as the shop writes it (such as "#7084" or "WC-0042")`;

/** An id, or one written as decimal text, which `digits` reads (and says when it is no whole number). */
const positiveId = digits(z.number().int().positive());

/**
 * An order's id, plain digits as text too; or its number as the shop writes it, "#7084", or with
 * a numbering plugin's prefix or year ("WC-7084", "2026/0042"), which the order tools look up: a
 * plugin may number orders apart from their ids, so 7084 as the id could be another order.
 */
export const orderId = published(
  z.unknown().transform((value, ctx) => {
    // Trimmed first: white space matched on both sides of an optional "#" takes time squared in its length.
    const given = typeof value === "string" ? value.trim() : "";
    // Decimal text ("7084", "7084.0") is the id written as text, which positiveId reads.
    const number = UNSIGNED_DECIMAL.test(given)
      ? undefined
      : /^#?\s*([\p{L}\p{N}_./-]{0,40}\d[\p{L}\p{N}_./-]{0,40})$/u.exec(given)?.[1];
    if (number) return new OrderNumber(number);
    const id = positiveId.safeParse(value);
    if (id.success) return id.data;
    // Worded by the parse's own words (an automation's check says them as the settings do), but
    // for text, or none: told a number is expected, a model would stop sending an order's number,
    // and a form would read it as a number where tools/list publishes text.
    const asText = (issue: { code: string; expected?: unknown }) =>
      issue.code === "invalid_type" && issue.expected === "number";
    ctx.issues.push(
      ...id.error.issues.map(
        ({ message: _, ...issue }) =>
          ({
            ...issue,
            input: value,
            ...(typeof value === "string" && asText(issue) ? endingWith(`expected ${ORDER_REF}, got`, value) : {}),
            ...(value === undefined && asText(issue) ? { expected: "string" } : {}),
          }) as z.core.$ZodRawIssue,
      ),
    );
    return z.NEVER;
  }),
  positiveId.describe("Id, or #number as text."),
  (n) => `as the order's id ${n}, where the order numbered ${n} is "#${n}"`,
);

/**
 * The most ids a cursor carries, and the shop is asked to exclude: about 1 KB of query string for
 * ids of seven digits, each after a comma sent as %2C, where IIS takes 2 KB (its maxQueryString)
 * and nginx and Apache a request line of 8 KB.
 */
const LISTED_IDS_MAX = 100;

/** The most ids a cursor handed out before LISTED_IDS_MAX carried, taken still: those past it are skipped by count. */
const OLDER_LISTED_IDS_MAX = 500;

const CURSOR = new RegExp(
  `^p[1-9]\\d{0,5}(\\.[0-9a-z]{1,7}(-[0-9a-z]{1,8}){0,${OLDER_LISTED_IDS_MAX}}(_[0-9a-z]{1,7})?)?\\.[0-9a-f]{8}$`,
);

/**
 * Paging: a cursor is "p", a page number, where the list pins one the bound its first page set
 * (in base 36), or, for a list read on from its last item, that item's second and the ids listed
 * in it ("-" before each; past LISTED_IDS_MAX, the last of them, and "_" and how many before them),
 * and, after a dot, a tag of the list and the other arguments that gave it. The
 * shop's pages are numbers: a number alone, copied into another list or given other filters or
 * another page size, would be read as a page of a list it is not of.
 */
export const paging = {
  page_size: digits(z.number().int().min(1).max(100)).default(20).describe("1 to 100; default 20."),
  cursor: z
    .string()
    // Checked, not published as a pattern: what a model reads of it is its description. A bound of
    // seven base-36 digits at most is a date (to the year 4453); a longer one is no time to send.
    // The ids listed in the second a page ended in go on through each page of that second: an
    // import dates hundreds of products alike.
    .refine((cursor) => CURSOR.test(cursor), "is not a cursor this tool handed out")
    .optional()
    .describe("Prior page's `next_cursor`; same other args."),
};

export const pagingOut = {
  total: z.number().optional().describe("Matches, all pages, if known."),
  next_cursor: z.string().optional(),
};

/**
 * A page asked for, and the tag its list's cursors carry; `pin`, the bound the list's first page
 * set, which its cursors carry on (a list newest first: the time of its newest item); or, for a
 * list read on from its last item (`listedAtPin` given), that item's second and the ids listed in it,
 * and how many were listed in it before those (`skippedAtPin`).
 */
export type ListPage = PageRequest & { tag: string; pin?: number; listedAtPin?: number[]; skippedAtPin?: number };

/**
 * The page `args` ask `list` for. The tag is of the list and every other argument as parsed
 * (a list of values in any order, or with one twice, is the same filter); a cursor that carries
 * another is refused.
 */
export function pageRequest(list: string, args: { page_size: number; cursor?: string | undefined }): ListPage {
  const { cursor, ...others } = args;
  // An argument left out, sent as null or as an empty list is none.
  const keyed = Object.entries(others)
    .filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0))
    .map(([key, value]) => [key, Array.isArray(value) ? [...new Set(value.map(String))].sort() : value])
    .sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
  const tag = createHash("sha256")
    .update(JSON.stringify([list, keyed]))
    .digest("hex")
    .slice(0, 8);
  if (!cursor) return { page: 1, size: args.page_size, tag };
  const [page = "", ...rest] = cursor.slice(1).split(".");
  const [given, pin] = [rest.pop(), rest[0]];
  if (given !== tag) {
    throw new ToolError(
      `cursor ${quote(cursor)} was handed out by another list, or for other arguments than these: call again with the arguments of the call that gave it, page_size too, or without cursor for the first page.`,
    );
  }
  const [ids = "", skipped] = pin?.split("_") ?? [];
  const [second, ...carried] = ids.split("-");
  // An older cursor's ids past LISTED_IDS_MAX, listed first of that second, are skipped by count.
  const over = Math.max(0, carried.length - LISTED_IDS_MAX);
  const listed = carried.slice(over);
  const before = (skipped ? Number.parseInt(skipped, 36) : 0) + over;
  return {
    page: Number(page),
    size: args.page_size,
    tag,
    ...(second ? { pin: Number.parseInt(second, 36) } : {}),
    ...(listed.length ? { listedAtPin: listed.map((id) => Number.parseInt(id, 36)) } : {}),
    ...(before ? { skippedAtPin: before } : {}),
  };
}

/**
 * The page of a list newest first read on from the last item listed (its time by `listedAt`, in
 * whole seconds, as the shop compares them): the shop is asked for the first page of those up to
 * that item's second, less those listed in it. An item that leaves the list between pages (an order
 * paid while unpaid ones are listed) moves none onto a page already read, and one added since is
 * newer than any asked for. `total` counts the pages before as read. Past LISTED_IDS_MAX listed in
 * that second, those listed first in it are skipped (`offset`) rather than excluded: the shop lists
 * a second's newest id first, so they come first of it, unless one of them left the list meanwhile.
 */
function afterLastListed<T extends { id: number }>(
  page: Page<T>,
  request: ListPage,
  listedAt: (item: T) => string | undefined,
): { total?: number; next_cursor?: string } {
  const read = (request.page - 1) * request.size;
  const skipped = lastListedBound(request)?.offset ?? 0;
  // The shop counts those it skipped among the matches (WP_Query's found_posts).
  const left = page.total === undefined ? undefined : page.total - skipped;
  const more =
    left !== undefined
      ? left > request.size
      : page.pages === undefined
        ? page.items.length === request.size
        : page.pages > 1;
  const secondOf = (item: T) => Math.floor(Date.parse(listedAt(item) ?? "") / 1000);
  const last = page.items.findLast((item) => Number.isFinite(secondOf(item)));
  let next: string | undefined;
  if (more && last) {
    const second = secondOf(last);
    const inSecond = page.items.filter((item) => secondOf(item) === second);
    const sameSecond = second === request.pin;
    const ids = [...(sameSecond ? (request.listedAtPin ?? []) : []), ...inSecond.map((item) => item.id)];
    const over = Math.max(0, ids.length - LISTED_IDS_MAX);
    const listed = ids
      .slice(over)
      .map((id) => `-${id.toString(36)}`)
      .join("");
    const before = (sameSecond ? (request.skippedAtPin ?? 0) : 0) + over;
    next = `p${request.page + 1}.${second.toString(36)}${listed}${before ? `_${before.toString(36)}` : ""}.${request.tag}`;
  }
  return {
    ...(left === undefined ? {} : { total: read + left }),
    ...(next ? { next_cursor: next } : {}),
  };
}

/**
 * The paging of a list newest first: read on from its last item listed (afterLastListed), or by page
 * number for a cursor of the older form, which carries no ids listed.
 */
export function newestFirstResult<T extends { id: number }>(
  page: Page<T>,
  request: ListPage,
  listedAt: (item: T) => string | undefined,
): { total?: number; next_cursor?: string } {
  return request.page === 1 || lastListedBound(request)
    ? afterLastListed(page, request, listedAt)
    : pageResult(page, request);
}

/** The shop's page `request` asks for: the first of those after the last listed, or an older cursor's number. */
export function shopPage(request: ListPage): PageRequest {
  return lastListedBound(request) ? { page: 1, size: request.size } : request;
}

/** The `before`, `exclude` and `offset` that ask the shop for the page after `request`'s last listed item, or none. */
export function lastListedBound(request: ListPage): { before: string; exclude: number[]; offset?: number } | undefined {
  if (request.pin === undefined || request.listedAtPin === undefined) return undefined;
  const skipped = request.skippedAtPin ? { offset: request.skippedAtPin } : {};
  return { before: boundBefore(request.pin + 1), exclude: request.listedAtPin, ...skipped };
}

/**
 * A list's bound as the shop takes `before`, to the second: UTC for orders and for an older product
 * cursor's (sent with dates_are_gmt), the shop's wall time for a product list read on from its last.
 */
export function boundBefore(pin: number): string {
  return new Date(pin * 1000).toISOString().slice(0, 19);
}

/** The pages after a newest-first list's first, which leave out what was added since it, for the text only. */
export const pinnedPages = new WeakSet<object>();

/** What a page after a newest-first list's first says of the items added since (`what`: "Orders placed"). */
export function leftOutSince(result: object, what: string): string[] {
  return pinnedPages.has(result) ? [`${what} since the first page are left out: list without cursor to see them.`] : [];
}

/** The paging of a list by page number; its cursors carry on the bound its first page set (`request.pin`), where one did. */
export function pageResult<T>(page: Page<T>, request: ListPage): { total?: number; next_cursor?: string } {
  // A cursor past the end: the list shrank, or emptied, since it was handed out.
  if (page.items.length === 0 && request.page > 1 && page.total !== undefined) {
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
    const pages = page.pages ?? Math.ceil(page.total / request.size);
    const left =
      page.total > 0
        ? `, only ${count(pages, "page")} of this size (${count(page.total, "item")})`
        : ", and nothing matches now";
    throw new ToolError(
      `There is no page ${request.page}${left}: the list changed since that cursor was handed out; call again without cursor to list it from the first page.`,
    );
  }
  // A shop that does not say how many pages there are (a proxy dropped its headers) may have more
  // after a full page; the page after the last is empty, and ends the list.
  const more = page.pages === undefined ? page.items.length === request.size : request.page < page.pages;
  return {
    ...(page.total === undefined ? {} : { total: page.total }),
    ...(more
      ? {
          next_cursor: `p${request.page + 1}.${request.pin === undefined ? "" : `${request.pin.toString(36)}.`}${request.tag}`,
        }
      : {}),
  };
}

/** What an empty page of a list read on from the last one listed (afterLastListed) says. */
export const noneAfterPageBefore = (what: string) => `No more ${what}: none after the page before matches now.`;

/**
 * What an empty page a cursor led to says where the shop did not say how many there are: the
 * page before was full and the last. Undefined for any other empty list.
 */
export function listEnded(
  result: { total?: number | undefined },
  args: { cursor?: string | undefined },
  what: string,
): string | undefined {
  return result.total === undefined && args.cursor
    ? `No more ${what}: the page before was the last (the shop did not say how many there are). If the list changed since that cursor was handed out, call again without cursor to list it from the first page.`
    : undefined;
}

/**
 * Why a newest-first list's next page counts from a match rather than reading on from the last one
 * listed, or false: its cursor has the shop skip by count (`offset`) those listed of that second
 * before the ids it carries, so one of them that no longer matches makes it skip one unread.
 */
export function skipsByCount(cursor: string | undefined): string | false {
  return cursor && /_[0-9a-z]{1,7}\.[0-9a-f]{8}$/.test(cursor)
    ? `over ${LISTED_IDS_MAX} listed share one second, so the next page skips those already read by count`
    : false;
}

/**
 * A line that says how many there are and how to read on; `counted`, why the next page is counted
 * from a match (by default, the shop's pages are counted from the first match): a change that takes
 * listed items out of the filters moves later ones onto pages already read, so a model that works
 * through a list page by page would skip them.
 */
export function pageLine(
  shown: number,
  result: { total?: number | undefined; next_cursor?: string | undefined },
  what: string,
  counted: string | false = "pages count from the first match",
): string {
  const again = counted
    ? ` (after changing listed ${what} so they no longer match, list from the first page again: ${counted})`
    : "";
  const more = result.next_cursor ? `; next page: cursor "${result.next_cursor}"${again}` : "";
  return result.total === undefined
    ? `${shown} ${what}; the shop did not say how many in all${more}`
    : `${shown} of ${result.total} ${what}${more}`;
}

/**
 * Writes to one order or product (`order:7081`, `product:42`) run one at a time in this process:
 * two mark-paid calls cannot interleave, and a stock change reads what the one before it wrote.
 */
const queues = new Map<string, Promise<unknown>>();
export function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => {});
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

/**
 * How many writes the shop did not confirm are kept, the latest: each holds an order or a product as
 * it was, and one never asked again would be held as long as waiter runs.
 */
export const UNCONFIRMED_KEPT = 1000;

/**
 * The writes this process sent that the shop did not confirm (no answer in time, a 5xx), by order or
 * product id, each with what it was sent with (`T`), the latest UNCONFIRMED_KEPT. The same write
 * asked again may find it made by that request, and answers as that change: `take` reads what was
 * sent, and forgets it.
 */
export function unconfirmedWrites<T>() {
  const sent = new Map<number, T>();
  const keep = (id: number, value: T) => {
    // Set anew, it goes last: the first in the map is the one kept longest.
    sent.delete(id);
    sent.set(id, value);
    for (const [oldest] of sent) {
      if (sent.size <= UNCONFIRMED_KEPT) break;
      sent.delete(oldest);
    }
  };
  return {
    take(id: number): T | undefined {
      const value = sent.get(id);
      sent.delete(id);
      return value;
    },
    /** `write`'s answer; `value` is kept for `id` when the shop does not confirm it. */
    async send<R>(id: number, value: T, write: Promise<R>): Promise<R> {
      try {
        return await write;
      } catch (err) {
        if (err instanceof UnconfirmedChange) keep(id, value);
        throw err;
      }
    },
  };
}

/**
 * What a list that found nothing says: the filters given (none: the shop has no `what`s), then
 * the hints that apply to them, on where else to look.
 */
export function noneMatch(
  what: string,
  filters: (string | false | undefined | 0)[],
  hints: (string | false | undefined | 0)[],
): string {
  const given = filters.filter(Boolean);
  if (given.length === 0) return `The shop has no ${what}s.`;
  return [`No ${what} matches ${given.join(", ")}.`, ...hints.filter(Boolean)].join(" ");
}

/** A time as a text shows it: the shop's wall time with its offset (2026-12-05T00:10+01:00), or else UTC. */
export function shopTime(time: string, shopZone: ShopZone | undefined): string {
  return shopZone ? localIso(Date.parse(time), shopZone.zone) : utcMinute(time);
}

/** What a text says of the times it shows, and where `filters`, of the times given without an offset. */
export function zoneLine(shopZone: ShopZone | undefined, filters: boolean): string {
  const read = filters ? `; after and before without an offset are read in ${shopZone ? "it" : "UTC"}` : "";
  return shopZone
    ? `Times are the shop's, ${shopZone.name}${read}.`
    : `The shop's time zone could not be read: times are UTC${read}.`;
}

/**
 * The shop's time zone of the times a text shows, for the text only: structuredContent keeps each time
 * in UTC, and a field for the zone would lengthen every tool's schema.
 */
export const zoneOf = new WeakMap<object, ShopZone>();
