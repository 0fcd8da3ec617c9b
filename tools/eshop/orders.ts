import Big from "big.js";
import { z } from "zod";
import { ToolError, UnconfirmedChange, UpstreamError } from "../../src/errors.js";
import { digits, listed, truth, withCore } from "../../src/settings.js";
import { capitalized, oneLine, quote, quoteLine } from "../../src/shown.js";
import {
  clock,
  DAY_MS,
  HOUR_MS,
  isoDate,
  isoTime,
  lessAgoThan,
  localIso,
  offsetMinutes,
  zonedEpoch,
} from "../../src/time.js";
import { defineTool, notBlank, notEmpty, type Serving, type Tool, type ToolCall } from "../../src/toolset.js";
import type { Order, OrderSummary, ShopProvider, ShopZone, StatusEmail } from "./provider.js";
import {
  boundBefore,
  lastListedBound,
  leftOutSince,
  newestFirstResult,
  noneAfterPageBefore,
  noneMatch,
  noteOut,
  OrderNumber,
  oneAtATime,
  orderId,
  orderOut,
  orderStateOut,
  orderSummaryOut,
  pageLine,
  pageRequest,
  paging,
  pagingOut,
  pinnedPages,
  shopPage,
  shopTime,
  skipsByCount,
  unconfirmedWrites,
  withinAnswer,
  zoneLine,
  zoneOf,
} from "./shapes.js";

/**
 * Whether WooCommerce takes an order to await payment, by its own rule (WC_Order::needs_payment()):
 * pending or failed, with a total above 0.
 */
function awaitsPayment({ status, total }: { status: string; total: string }): boolean {
  return ["pending", "failed"].includes(status) && /[1-9]/.test(total);
}

/** The shop's statuses of an order it will not fill as it stands: a payment for one is to return. */
const UNFILLED_STATUSES = ["cancelled", "refunded", "checkout-draft"];

/** Notes an order answer shows, newest first. */
const NOTES_SHOWN = 10;
/**
 * Notes left out of an order answer, for the text only: structuredContent has no field for them,
 * and ten notes shown read as all there are without it.
 */
const notesLeftOut = new WeakMap<object, number>();
/**
 * The status an order was paid from, for the text only: a model asked to mark an order paid has
 * often not read it, and structuredContent has the status it was left in alone.
 */
const paidFrom = new WeakMap<object, string>();
/**
 * The orders of an answer that are to be paid on delivery and are not yet, by id, for the text only:
 * structuredContent leaves out the paid date the shop may give them, and has no field for it.
 */
const dueOnDelivery = new WeakMap<object, Set<number>>();
/**
 * Of an order read whole, whether each refund, by id, went back through the payment gateway, and the
 * units refunded of each item, by id, for the text only: structuredContent has no field for them.
 */
const refundsRead = new WeakMap<object, { sent: Map<number, boolean>; units: Map<number, number> }>();
/** Of an order read whole, why its refunds could not be read apart, for the text only. */
const refundsUnread = new WeakMap<object, string>();
/**
 * The orders read whole that are collected in person, and whether the shop's emails show an
 * address for them, for the text only: structuredContent has no field for it.
 */
const collectedInPerson = new WeakMap<object, { address_shown: boolean }>();
/** The number of the order a note was added to, where the call read it, for the text only. */
const numberOf = new WeakMap<object, string>();
/**
 * The payment method of a status change's order paid offline (a bank transfer, cash on delivery;
 * "" for none), which no gateway can return, for the text only.
 */
const paidOfflineBy = new WeakMap<object, string>();
/**
 * Of a status change's order refunded in part or whole before, how much of that no payment gateway
 * sent back (the shop only recorded it; "0" when a gateway sent all), or why that could not be read,
 * for the text only.
 */
const recordedBefore = new WeakMap<object, { amount: string } | { unread: string }>();
/**
 * Of a status change or a payment, whether the shop put back the stock its order had taken (a cancel,
 * a move back to pending) or took it (a payment), for the text only: structuredContent has no field for it.
 */
const stockMoved = new WeakMap<object, "returned" | "taken">();
/**
 * What a status change did to its order's stock, from the items marked taken before and after: an
 * item unmarked was put back, even where another stays marked (its product no longer counts stock).
 */
function stockMoves(before: number[] = [], after: number[] = []): "returned" | "taken" | undefined {
  if (before.some((item) => !after.includes(item))) return "returned";
  return after.some((item) => !before.includes(item)) ? "taken" : undefined;
}
/**
 * The line of what a change did to its order's stock: the shop moves it of itself, and counted again
 * by hand it would count twice.
 */
function stockLine(r: object, session: Serving): string {
  const moved = stockMoved.get(r);
  return moved === "returned"
    ? `\nThe shop put back in stock what this order had taken (its notes say which)${session.serves("eshop_stock_set") ? ": eshop_stock_set is not to count it again" : ""}.`
    : moved === "taken"
      ? "\nThe shop took this order's items from stock (its notes say which)."
      : "";
}
/** The status changes whose order was to be paid on delivery before, for the text only. */
const dueBefore = new WeakSet<object>();
/**
 * Of those, the ones whose order kept a paid date the shop gave it before the cash came (as it was
 * set to processing), for the text only: completing it dated no payment.
 */
const datedBeforeCash = new WeakSet<object>();
/** Characters of a note the text shows; structuredContent has it whole, unless withinAnswer cuts it. */
const NOTE_CHARACTERS = 500;
/** A note waiter adds to an order. */
const noteText = z.string().check(notEmpty).max(2000).check(notBlank);

/**
 * A date or a time: the time as given, to quote, and its instant, or, where it names no offset
 * (`local`), the instant its wall time is in UTC, which the shop's time zone makes its own (`atShop`).
 * An offset may be written as ISO 8601 allows, +01:00, +0100 or +01. A time in words ("yesterday")
 * is refused with the time now, which a model may not know: the shop's, in which a date is read,
 * where `shopZone` has it.
 */
const dateTime = (shopZone: () => ShopZone | undefined) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/, {
      error: (issue) => {
        // The way waiter's texts write a time ("placed 2026-11-15 09:02 UTC"), copied from one.
        const shown = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?) ?(?:UTC|Z)$/.exec(String(issue.input).trim());
        if (shown) return `must be an ISO 8601 time: send ${shown[1]}T${shown[2]}Z`;
        const zone = shopZone();
        const now = zone
          ? `${localIso(clock.now(), zone.zone)} now, the shop's time (${zone.name})`
          : `${new Date(clock.now()).toISOString().slice(0, 16)}Z now`;
        return `must be YYYY-MM-DD or an ISO 8601 time; it is ${now}`;
      },
    })
    .transform((value, ctx) => {
      const read = isoTime(value);
      if (!read) {
        ctx.addIssue({ code: "custom", message: "is not a real date or time" });
        return z.NEVER;
      }
      return { given: value, local: !read.zoned, epoch: read.epoch };
    });

/**
 * The instant `t` names: one without an offset is read in the shop's time zone, as the shop's
 * admin and its owner read a date ("2026-12-05" is the shop's day); in UTC where the shop does not
 * say its zone.
 */
function atShop(t: { local: boolean; epoch: number }, shopZone: ShopZone | undefined): number {
  if (!t.local || !shopZone) return t.epoch;
  const wall = new Date(t.epoch);
  const minutes = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  const [y, m, d] = [wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate()];
  return zonedEpoch(y, m, d, minutes, shopZone.zone) + (wall.getUTCSeconds() * 1000 + wall.getUTCMilliseconds());
}

/**
 * An instant as the shop takes it: UTC (dates_are_gmt) to the whole second. The shop keeps whole
 * seconds and compares strictly; a range is from `after` on and up to `before`, so that an order
 * placed at the shop's midnight is in the day it starts: `after` goes to the second before.
 */
function shopSecond(epoch: number, from: boolean): string {
  return new Date((Math.ceil(epoch / 1000) - (from ? 1 : 0)) * 1000).toISOString().slice(0, 19);
}

/** `amount` less `less`, to as many decimals as the shop writes them: "26.86" less "6.99" is "19.87". */
function difference(amount: string, less: string): string {
  const places = Math.max(...[amount, less].map((a) => a.split(".")[1]?.length ?? 0));
  return new Big(amount).minus(less).toFixed(places);
}

/**
 * Characters of each part of a name or an address a line shows: what a buyer typed is cut alone,
 * so that a long one cannot push the order's own email, customer or city off the line.
 */
const PART_CHARACTERS = 100;

/** Parts of a name or an address, each on one line and cut alone, joined with `separator`. */
function parts(values: (string | undefined)[], separator = ", "): string {
  return values
    .map((value) => oneLine(value ?? "", PART_CHARACTERS))
    .filter(Boolean)
    .join(separator);
}

/**
 * `due`: what is said of an order to be paid on delivery, and not yet recorded paid (its cash not
 * collected, or not recorded), or undefined for any other.
 */
function summaryLine(o: OrderSummary, shopZone: ShopZone | undefined, due?: string, draft = false): string {
  // The customer's id and the payment method too: clients that show only the text have no other way to them.
  const who = parts(
    [o.customer_name, o.email && `<${o.email}>`, o.customer_id ? `(customer ${o.customer_id})` : undefined],
    " ",
  );
  // A paid date stays on an order set back to await payment (a bounced transfer): it is not paid now.
  const setBack = ["pending", "failed"].includes(o.status) ? `, then set back to ${o.status}` : "";
  const paid = o.paid ? `, paid ${shopTime(o.paid, shopZone)}${setBack}` : "";
  const by = `${o.payment_method ? `, by ${oneLine(o.payment_method)}` : ""}${due ? `, to be paid on delivery (${due})` : ""}`;
  const refunded = o.refunded ? ` (refunded ${o.refunded})` : "";
  return `#${o.number} (id ${o.id}) ${o.status}: ${o.total} ${o.currency}${refunded}, ${o.item_count} item${o.item_count === 1 ? "" : "s"}${who ? `, ${who}` : ""}${by}, ${draft ? "checkout started" : "placed"} ${shopTime(o.created, shopZone)}${paid}`;
}

/**
 * What a list by customer_id leaves out: WooCommerce does not give an account the orders its buyer
 * placed as a guest (before the account, or signed out).
 */
const GUEST_ORDERS =
  "customer_id finds the orders placed signed in to that account; search with the buyer's email finds those placed as a guest too.";

/** The longest part of `text` between `separator`s: "jana+shop@example.cz" is "shop@example.cz". */
function longestPart(text: string, separator: string): string {
  return text.split(separator).reduce((longest, part) => (part.length > longest.length ? part : longest), "");
}

/** What a list without orders says: the filters that found none, and where else to look. */
function noOrders(
  args: {
    status?: string[] | undefined;
    after?: Instant | undefined;
    before?: Instant | undefined;
    search?: string | undefined;
    customer_id?: number | undefined;
  },
  unlisted: Unlisted,
  shopZone: ShopZone | undefined,
): string {
  // A time without an offset names the zone it was read in, and one its clocks skip what it was read as.
  const when = (t: Instant) => {
    if (!t.local) return t.given;
    const readAs = /^\d{4}-\d{2}-\d{2}$/.test(t.given) ? undefined : skippedAs(t, shopZone);
    return `${t.given} (${shopZone?.name ?? "UTC"}${readAs ? `, whose clocks skip it that day: read as ${readAs}` : ""})`;
  };
  const withoutPlus = args.search && longestPart(args.search, "+");
  const filters = [
    args.status?.length && `status ${args.status.join(" or ")}`,
    args.after && `placed from ${when(args.after)}`,
    args.before && `placed before ${when(args.before)}`,
    args.customer_id && `customer ${args.customer_id}`,
    args.search && `search ${quote(args.search)}`,
  ];
  return noneMatch("order", filters, [
    args.search &&
      "The search finds its text whole (letter case and accents aside) in the buyer's name, email, phone or address, an item's name or the order number: a shorter part of it finds more.",
    args.customer_id && GUEST_ORDERS,
    // WooCommerce's order tables urldecode() the term WordPress decoded already (OrdersTableSearchQuery),
    // so that an address "jana+shop@…" is looked for as "jana shop@…".
    withoutPlus &&
      withoutPlus !== args.search &&
      `The shop may read a "+" in the search as a space (WooCommerce's order tables do): search a part without it, as ${quote(withoutPlus)}.`,
    args.search && /^#?\d+$/.test(args.search) && unlistedLine(args.status ?? [], unlisted),
  ]);
}

/** The statuses a list leaves out unless asked for by them, and what becomes of a draft. */
interface Unlisted {
  trash: string;
  drafts: readonly string[];
  draftsDeleted: string;
}

/**
 * Where else an order number a list did not find may be: an order deleted in the shop waits in its
 * trash, and a checkout never completed is a draft (WooCommerce's block checkout makes one), which
 * only their own statuses list.
 */
function unlistedLine(listed: string[], { trash, drafts, draftsDeleted }: Unlisted) {
  const draftsBy = drafts.filter((s) => !listed.includes(s)).join(" or ");
  if (listed.includes(trash)) {
    return draftsBy && `Checkouts never completed (drafts) are listed by status ${draftsBy} alone: ${draftsDeleted}.`;
  }
  return `Orders in the shop's trash are listed by status ${trash} alone${draftsBy ? `, and checkouts never completed (drafts) by status ${draftsBy} alone: ${draftsDeleted}` : ""}.`;
}

/** How `note_error` begins when the shop may have added the note without confirming it. */
const NOTE_UNCONFIRMED = "the shop did not confirm the note";

/**
 * Why the note a change adds is not known to be there. One the shop did not confirm (no answer in
 * time, a 5xx) may have been added: said so, with where to look before adding it, which a retry of
 * the change does not (it finds the change made and adds none).
 */
function noteFailure(err: unknown, call: Serving): string {
  if (!(err instanceof UnconfirmedChange)) return err instanceof Error ? err.message : String(err);
  const check = call.serves("eshop_order_get")
    ? "eshop_order_get shows the latest notes, to check"
    : "read the order's notes in the shop";
  const add = call.serves("eshop_order_add_note") ? "before eshop_order_add_note adds it" : "before adding it again";
  return `${NOTE_UNCONFIRMED}, which may have been added all the same (${err.failure.replace(/\.$/, "")}): ${check} ${add}.`;
}

/** What became of the note a change adds, as "; …" to end a sentence with. */
function noteLine(r: { note_id?: number | undefined; note_error?: string | undefined }): string {
  if (r.note_error?.startsWith(NOTE_UNCONFIRMED)) return `; ${r.note_error.replace(/\.$/, "")}`;
  if (r.note_error) return `; adding the note failed: ${r.note_error.replace(/\.$/, "")}`;
  return r.note_id ? `; note ${r.note_id} added` : "";
}

/**
 * What the shop emailed the customer of a status change, as a line to end the answer with: the
 * owner decides by it whether to tell them, and knows that a status changed away and back mails
 * them again.
 */
function emailLine(shop: ShopProvider, email: StatusEmail | "none" | undefined, session: Serving): string {
  if (email === undefined) return "";
  const tell = session.serves("eshop_order_add_note") ? "; eshop_order_add_note with customer_note tells them" : "";
  const settings = `${shop.name} → Settings → Emails`;
  if (email === "none") return `\n${shop.name} emails the customer nothing of this change${tell}.`;
  if (email.sent === "on") {
    return `\n${shop.name} emails the customer its "${email.name}" email on this change, unless it is turned off (${settings}) or the order has no email; changing the status away and back sends it again.`;
  }
  if (email.sent === "newer") {
    return `\nNewer ${shop.name} versions email the customer their "${email.name}" email on this change, unless it is turned off (${settings}).`;
  }
  return `\nThe customer is emailed of this change only where the shop turned on its "${email.name}" email to customers (newer ${shop.name} versions, ${settings})${tell}.`;
}

type Instant = z.output<ReturnType<typeof dateTime>>;

/**
 * The instants a list's `after` and `before` were taken as, to the second the shop compares, as the
 * list's times are shown: a model asking for a day's orders sees which it got.
 */
function placedRange(
  { after, before }: { after?: Instant | undefined; before?: Instant | undefined },
  shopZone: ShopZone | undefined,
): string[] {
  const shown = (t: Instant) => {
    const second = Math.ceil(atShop(t, shopZone) / 1000) * 1000;
    const time = shopTime(new Date(second).toISOString(), shopZone);
    // Both ways of showing a time end its minutes at the 16th character.
    const seconds = new Date(second).getUTCSeconds();
    return seconds ? `${time.slice(0, 16)}:${String(seconds).padStart(2, "0")}${time.slice(16)}` : time;
  };
  if (after && before) return [`Placed from ${shown(after)} and before ${shown(before)}.`];
  if (after) return [`Placed from ${shown(after)} on.`];
  return before ? [`Placed before ${shown(before)}.`] : [];
}

/**
 * What `t` is read as where it is a wall time the shop's clocks skip (02:30 as they jump from 02:00
 * to 03:00): as much later (03:30), with its offset.
 */
function skippedAs(t: Instant, shopZone: ShopZone | undefined): string | undefined {
  if (!t.local || !shopZone) return undefined;
  const at = atShop(t, shopZone);
  if (at + offsetMinutes(at, shopZone.zone) * 60_000 === t.epoch) return undefined;
  // The clocks skip whole minutes: the seconds given are the time's read as, which ends its minutes at the 16th character.
  const minute = localIso(at, shopZone.zone);
  const seconds = /T\d{2}:\d{2}(:\d{2}(?:\.\d+)?)/.exec(t.given)?.[1] ?? "";
  return `${minute.slice(0, 16)}${seconds}${minute.slice(16)}`;
}

/**
 * Why orders placed from `after` and before `before` can be none: `after` is not earlier. Without
 * `shopZone`, only where both are read alike, before the shop says its zone.
 */
function emptyRange(
  { after, before }: { after?: Instant | undefined; before?: Instant | undefined },
  shopZone?: ShopZone,
): string | undefined {
  const comparable = shopZone !== undefined || after?.local === before?.local;
  // Not `<`: an automation's check passes times its events fill in later, which compare neither way.
  if (!after || !before || !comparable || !(atShop(after, shopZone) >= atShop(before, shopZone))) return undefined;
  // One date twice is one day asked for, whose end is the next day's 00:00.
  const day = /^\d{4}-\d{2}-\d{2}$/.test(after.given) && after.given === before.given ? after.given : undefined;
  const oneDay = day
    ? ` \`before\` is not in the range: the orders of ${day} are from ${day} and before ${isoDate(after.epoch + DAY_MS)}.`
    : "";
  // A wall time the shop's clocks skip is read as much later, which may meet the other.
  const skipped = [after, before].flatMap((t) => {
    const readAs = skippedAs(t, shopZone);
    if (!readAs || !shopZone) return [];
    // A date is its day, which begins as the clocks jump: its midnight alone is skipped.
    return [
      /^\d{4}-\d{2}-\d{2}$/.test(t.given)
        ? ` ${t.given} begins at ${readAs} in ${shopZone.name}, whose clocks skip its midnight.`
        : ` ${t.given} is no time in ${shopZone.name}, whose clocks skip it that day: it is read as ${readAs}.`,
    ];
  });
  return `\`after\` (${after.given}) must be earlier than \`before\` (${before.given}).${oneDay}${skipped.join("")}`;
}

/**
 * Why a search of "#" alone is refused: the "#" before an order number is left out, and with no
 * number after it nothing is searched, so the list would be every order.
 */
function hashAlone({ search }: { search?: string | undefined }): string | undefined {
  return search === "#"
    ? 'search "#" names no order: give the number after the "#" ("#7084"), or leave search out to list every order.'
    : undefined;
}

export function orderTools(shop: ShopProvider): Tool[] {
  // A plugin's status is the shop's own as WooCommerce's are: refuseUnknown() checks it, not the schema.
  const status = (schema: z.ZodString) => withCore(schema, shop.orderStatuses, "order status", shop.name);
  // A plugin's status may come after the delivery (delivered) as well as before it (shipped): the
  // shop's record of the cash alone is known.
  const dueWords = (o: OrderSummary, due: Set<number> | undefined) =>
    !due?.has(o.id)
      ? undefined
      : shop.orderStatuses.includes(o.status)
        ? "not collected yet"
        : `${shop.name} records its cash once the order is completed`;
  const statuses = `${shop.orderStatuses.join(", ")}, or the shop's own`;
  const unlisted = {
    trash: shop.trashStatus,
    drafts: shop.unlistedStatuses.filter((s) => s !== shop.trashStatus),
    draftsDeleted: shop.draftsDeleted,
  };
  /**
   * Whether an order in `current` with a paid date is paid: a plugin's status (shipped) says nothing
   * of payment to waiter, the paid date the order kept does.
   */
  const paidInPluginStatus = (current: string, paid: string | undefined) =>
    !shop.orderStatuses.includes(current) && paid !== undefined;
  /**
   * The payments this process sent that the shop did not confirm, by order: the transaction given,
   * "" for none, and the order as it was before. The same payment marked again finds the order paid,
   * maybe by that request, whose note was never added: it is added then, and answered as the first
   * try would have been (from its status, with the stock it took).
   */
  const unconfirmedPayments = unconfirmedWrites<{ transaction: string; before: Order }>();
  /**
   * The status changes this process sent that the shop did not confirm, by order: the status asked
   * for, and the order as it was before. The same status asked again finds the order in it, maybe
   * by that request: answered as that change, with the note it was to add.
   */
  const unconfirmedStatuses = unconfirmedWrites<{ status: string; before: Order }>();

  /**
   * The order `ref` names: an id as it is; a number as the shop writes it, the order the shop's
   * search finds numbered so (a numbering plugin adds its numbers to the search, which finds an
   * order's id too), as a payment gateway's plugin sends the number, not the id.
   */
  /**
   * When the shop last refused a search by every status a list leaves out (400: one it does not
   * have, a checkout's draft where no block checkout is), to a key whose user may not view its
   * reports: for an hour, as the statuses would be, the trash alone is searched.
   */
  let unlistedRefusedAt: number | undefined;
  async function orderOf(ref: number | OrderNumber, call: ToolCall): Promise<{ id: number; number?: string }> {
    if (!(ref instanceof OrderNumber)) return { id: ref };
    const { number } = ref;
    const search = async (status?: string[]) => {
      const page = await shop.listOrders(
        { search: number, ...(status ? { status } : {}) },
        { page: 1, size: 100 },
        call,
      );
      return { page, numbered: page.items.filter((o) => o.number.toLowerCase() === number.toLowerCase()) };
    };
    const listed = await search();
    // Else among the orders a list leaves out but by their status (a payment may name one deleted
    // since, or a checkout's draft), of those statuses the shop has. Where it will not list them (to
    // a key whose user may not view its reports), all, and the trash alone if it refuses the others.
    const hiddenAmong = async () => {
      const known = (await shop.shopStatuses(call))?.map((k) => k.status);
      if (known) return search(shop.unlistedStatuses.filter((s) => s === shop.trashStatus || known.includes(s)));
      if (unlistedRefusedAt !== undefined && lessAgoThan(unlistedRefusedAt, HOUR_MS)) return search([shop.trashStatus]);
      return search([...shop.unlistedStatuses]).catch((err: unknown) => {
        if (!(err instanceof UpstreamError && err.status === 400)) throw err;
        unlistedRefusedAt = clock.now();
        return search([shop.trashStatus]);
      });
    };
    const { numbered } = listed.numbered.length ? listed : await hiddenAmong();
    const [only, ...others] = numbered;
    if (only && others.length === 0) return only;
    if (only) {
      throw new ToolError(
        `Orders ${numbered.map((o) => o.id).join(", ")} are each numbered #${only.number}: give the id of the one meant.`,
      );
    }
    const { page } = listed;
    const unread =
      page.total !== undefined && page.total > page.items.length ? ` of the newest ${page.items.length}` : "";
    const list = call.serves("eshop_orders_list")
      ? `eshop_orders_list with search ${quote(number)}`
      : "the shop's admin";
    throw new ToolError(
      `No order${unread} that the shop's search finds for ${quote(number)} is numbered #${number}; nothing was read or changed. Check the number (${list} lists what it finds).`,
    );
  }

  /**
   * Refuses a status the shop does not have, naming those it has. The shop system's own are taken
   * without asking; another (a plugin's: shipped) is looked up among the shop's, whose API takes it.
   * No order is set to a checkout's draft, which the shop takes but deletes.
   */
  async function refuseUnknown(given: string[], change: boolean, call: ToolCall): Promise<void> {
    const refuseDraft = (draft: string) => {
      throw new ToolError(
        `An order's status is not set to ${quote(draft)}, a checkout never completed (a draft), as ${unlisted.draftsDeleted}; nothing was read or changed.`,
      );
    };
    // Written as WooCommerce stores it ("wc-shipped"), which its REST API names without "wc-", or by
    // its name ("On hold").
    const slugOf = (s: string) => s.trim().toLowerCase().replace(/^wc-/, "").replace(/\s+/g, "-");
    const named = (name: string | undefined, s: string) => name?.toLowerCase() === s.trim().toLowerCase();
    const draft = change ? given.find((s) => unlisted.drafts.includes(slugOf(s))) : undefined;
    if (draft !== undefined) refuseDraft(draft);
    const listed = change ? [] : [shop.anyStatus, shop.trashStatus];
    const others = given.filter((s) => !shop.orderStatuses.includes(s) && !listed.includes(s));
    if (others.length === 0) return;
    // To a key whose user may not view the shop's reports, the shop's own check of the status stands.
    const known = await shop.shopStatuses(call);
    const unchanged = change ? "; nothing was read or changed" : "";
    if (known === undefined) {
      // Written as stored, or one of the shop system's own by its name ("On hold", "Pending payment").
      const own = (s: string) =>
        shop.orderStatuses.find((status) => status === slugOf(s) || named(shop.orderStatusNames[status], s));
      const stored = others.find((s) => /^wc-./i.test(s) || own(s) !== undefined);
      if (stored === undefined) return;
      const slug = own(stored);
      // A plugin's status written as stored may be one the shop does not have: its reports would say.
      const send =
        slug === undefined
          ? `send ${quote(slugOf(stored))} if the shop has that status (its REST API names each status without "wc-")`
          : `send ${quote(slug)}`;
      throw new ToolError(`The shop has no order status ${quote(stored)}: ${send}${unchanged}.`);
    }
    const unknown = others.find((s) => !known.some((k) => k.status === s));
    if (unknown === undefined) return;
    const meant = known.find((k) => k.status === slugOf(unknown) || named(k.name, unknown));
    if (change && meant && unlisted.drafts.includes(meant.status)) refuseDraft(unknown);
    const send = meant ? `: send ${quote(meant.status)}` : "";
    const all = known.map((k) => `${oneLine(k.status)} (${oneLine(k.name)})`).join(", ");
    const alsoListed = change
      ? ""
      : ` A list takes "${shop.anyStatus}" too (all but the trash${unlisted.drafts.length ? ` and ${unlisted.drafts.join(", ")}` : ""}) and "${shop.trashStatus}" (deleted orders).`;
    throw new ToolError(
      `The shop has no order status ${quote(unknown)}${send}${unchanged}. Its statuses: ${all}.${alsoListed}`,
    );
  }

  /** How much of `order`'s refunds no payment gateway sent back, as the shop writes it, or why that could not be read. */
  async function recordedOnly(order: Order, call: ToolCall): Promise<{ amount: string } | { unread: string }> {
    try {
      const { sent } = await shop.refundDetails(order.id, call);
      if (order.refunds.some((r) => !sent.has(r.id))) return { unread: `${shop.name} did not list each refund` };
      const places = Math.max(0, ...order.refunds.map((r) => r.total.split(".")[1]?.length ?? 0));
      const amount = order.refunds.filter((r) => !sent.get(r.id)).reduce((all, r) => all.minus(r.total), new Big(0));
      return { amount: amount.toFixed(places) };
    } catch (err) {
      return { unread: err instanceof Error ? err.message : String(err) };
    }
  }

  const placed = dateTime(() => shop.lastTimeZone());
  const list = defineTool({
    name: "eshop_orders_list",
    title: "List orders",
    description:
      "Finds orders, newest first, by status, dates, customer or text, as summaries; eshop_order_get has items and addresses.",
    input: {
      status: listed(z.array(status(z.string())).max(20))
        .optional()
        .describe(`Any of: ${statuses}.`),
      after: placed.optional().describe("Placed from: YYYY-MM-DD (its 00:00) or ISO 8601, shop's time if no offset."),
      before: placed.optional().describe("Placed before, the same way."),
      search: z
        .string()
        .trim()
        .min(1)
        .max(200)
        .optional()
        .describe("In the name, email, address, item names or order number."),
      customer_id: digits(z.number().int().positive()).optional().describe("From eshop_customers_list."),
      ...paging,
    },
    output: { orders: z.array(orderSummaryOut), ...pagingOut },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    refuses: (args) => emptyRange(args) ?? hashAlone(args),
    timeZone: (call) => shop.timeZone(call),
    async run(args, call) {
      await refuseUnknown(args.status ?? [], false, call);
      // The shop's time zone is asked first only where a time given needs it, so that a shop that
      // refuses waiter's key is told of by the list's own request.
      const local = [args.after, args.before].some((t) => t?.local);
      const zoneFirst = local ? await shop.timeZone(call) : undefined;
      const empty = emptyRange(args, zoneFirst);
      if (empty) throw new ToolError(empty);
      const [after, before] = [args.after, args.before].map((t) => t && atShop(t, zoneFirst));
      // "#7084" is how the shop writes an order number; its search knows the number without "#".
      const search = args.search?.replace(/^#/, "");
      const filters = {
        // An empty list is no filter: sent as `status=`, it would match no order.
        ...(args.status?.length ? { status: args.status } : {}),
        ...(after !== undefined ? { after: shopSecond(after, true) } : {}),
        ...(before !== undefined ? { before: shopSecond(before, false) } : {}),
        ...(search ? { search } : {}),
        ...(args.customer_id ? { customerId: args.customer_id } : {}),
      };
      // The cursor's tag is of the list the shop is asked for: a date written as the same instant
      // another way, or a "#" before a number, is the same list.
      const request = pageRequest("orders", { ...filters, page_size: args.page_size, cursor: args.cursor });
      // Newest first, each page after the last order listed (afterLastListed): within the list's own
      // `before`, which every order listed was placed before.
      const lastListed = lastListedBound(request);
      // A cursor of the older form pages by number, within the bound its first page set.
      const pinned = lastListed
        ? { ...filters, ...lastListed }
        : request.pin !== undefined && (before === undefined || request.pin * 1000 < before)
          ? { ...filters, before: boundBefore(request.pin) }
          : filters;
      const page = await shop.listOrders(pinned, shopPage(request), call);
      const orders = page.items.map(({ due_on_delivery: _, ...o }) => o);
      const paged = newestFirstResult({ ...page, items: orders }, request, (o) => o.created);
      const result = withinAnswer({ orders, ...paged });
      // An order placed since the first page matches only a list placed before a time still to come.
      if (request.pin !== undefined && (before === undefined || before > clock.now())) pinnedPages.add(result);
      dueOnDelivery.set(result, new Set(page.items.filter((o) => o.due_on_delivery).map((o) => o.id)));
      const shopZone = local ? zoneFirst : await shop.timeZone(call);
      if (shopZone) zoneOf.set(result, shopZone);
      return result;
    },
    render(r, args) {
      const shopZone = zoneOf.get(r);
      if (r.orders.length === 0) {
        return args.cursor ? noneAfterPageBefore("orders") : noOrders(args, unlisted, shopZone);
      }
      const guests = args.customer_id ? [GUEST_ORDERS] : [];
      const lines = r.orders.map((o) =>
        summaryLine(o, shopZone, dueWords(o, dueOnDelivery.get(r)), unlisted.drafts.includes(o.status)),
      );
      const range = placedRange(args, shopZone);
      return [
        ...lines,
        ...range,
        zoneLine(shopZone, true),
        pageLine(r.orders.length, r, "orders", skipsByCount(r.next_cursor)),
        ...leftOutSince(r, "Orders placed"),
        ...guests,
      ].join("\n");
    },
  });

  const get = defineTool({
    name: "eshop_order_get",
    title: "Read an order",
    description:
      `One order in full: line items, totals, taxes, shipping, discounts, refunds, addresses, payment ` +
      `and its ${NOTES_SHOWN} latest notes.`,
    input: { id: orderId },
    output: { ...orderOut, notes: z.array(noteOut) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const { id } = await orderOf(args.id, call);
      const [{ payment_ids: _, paid_offline: __, due_on_delivery: due, collected, stock_taken: ___, ...order }, notes] =
        await Promise.all([shop.getOrder(id, call), shop.listNotes(id, call)]);
      // The order says neither whether money went back (a refund may be only recorded) nor which
      // items were refunded; without them it is still the order, so their failure fails no read.
      const [shopZone, refunds] = await Promise.all([
        shop.timeZone(call),
        order.refunds.length
          ? shop.refundDetails(id, call).catch((err: unknown) => (err instanceof Error ? err.message : String(err)))
          : undefined,
      ]);
      const result = withinAnswer({ ...order, notes: notes.slice(0, NOTES_SHOWN) });
      if (typeof refunds === "string") refundsUnread.set(result, refunds);
      else if (refunds) refundsRead.set(result, refunds);
      if (due) dueOnDelivery.set(result, new Set([id]));
      if (collected) collectedInPerson.set(result, collected);
      if (shopZone) zoneOf.set(result, shopZone);
      if (notes.length > NOTES_SHOWN) notesLeftOut.set(result, notes.length - NOTES_SHOWN);
      return result;
    },
    render(o) {
      // When it was completed (shipped, for most shops), which a summary does not carry.
      const shopZone = zoneOf.get(o);
      const refunds = refundsRead.get(o);
      const completed = o.completed ? `, completed ${shopTime(o.completed, shopZone)}` : "";
      const draft = unlisted.drafts.includes(o.status);
      const lines = [`${summaryLine(o, shopZone, dueWords(o, dueOnDelivery.get(o)), draft)}${completed}`];
      if (draft) {
        lines.push(
          `A checkout never completed (a draft), not an order the buyer placed: it is not to be shipped as it stands, and ${shop.draftsDeleted}.`,
        );
      }
      // WooCommerce keeps these amounts before tax, also where the shop's prices are entered with it.
      if (/[1-9]/.test(o.total_tax)) lines.push("Items, shipping, discount and fees before tax; the total with it:");
      // Names (of items, fees, shipping, coupons, taxes, the buyer) are made one line each, so that
      // none can start a line that reads as the order's.
      for (const item of o.line_items) {
        // The ids the product tools take: a model reading only the text has no other way to them.
        const ids = [
          item.product_id && `product ${item.product_id}`,
          item.variation_id && `variation ${item.variation_id}`,
          item.sku && `SKU ${oneLine(item.sku)}`,
        ].filter(Boolean);
        // Before discounts: the totals line takes the discount off once, so the lines add up to the total.
        lines.push(
          `- ${item.quantity} × ${oneLine(item.name)}${ids.length ? ` (${ids.join(", ")})` : ""}: ${item.subtotal} ${o.currency}${refunds?.units.get(item.id) ? `, ${refunds.units.get(item.id)} refunded` : ""}`,
        );
      }
      const each = (parts: string[]) => (parts.length ? ` (${parts.join(", ")})` : "");
      // Each method's amount where there are several (packages); one method's is the shipping's.
      const shipping = o.shipping_lines.map((l) =>
        o.shipping_lines.length > 1 ? `${oneLine(l.method)} ${l.total}` : oneLine(l.method),
      );
      const fees = o.fees.map((f) => `, fee ${oneLine(f.name)} ${f.total}`).join("");
      lines.push(
        `Shipping ${o.shipping_total}${each(shipping)}, ` +
          `discount ${o.discount_total}${each(o.coupons.map((c) => `coupon ${oneLine(c.code)} ${c.discount}`))}${fees}, ` +
          `tax ${o.total_tax}${each(o.taxes.map((t) => `${oneLine(t.label)} ${t.total}`))}, total ${o.total} ${o.currency}`,
      );
      // WooCommerce writes a refund's total negative ("-6.99"); the text says what was returned, as
      // the summary's "refunded 6.99" does, and whether a gateway returned it: one only recorded is
      // money the customer has not had back through the payment.
      for (const r of o.refunds) {
        const sent = refunds?.sent.get(r.id);
        const how =
          sent === undefined
            ? ""
            : sent
              ? ", sent back through the payment gateway"
              : ", recorded only: no payment gateway sent it back (returned another way, or not yet)";
        lines.push(
          `Refund ${difference("0", r.total)} ${o.currency}${how}${r.reason ? `: ${quoteLine(r.reason)}` : ""}`,
        );
      }
      const unread = refundsUnread.get(o);
      if (unread) {
        lines.push(
          `Whether a payment gateway sent each refund back, and which items were refunded, could not be read (${unread.replace(/\.$/, "")}).`,
        );
      }
      const payment = [o.payment_method, o.transaction_id && `transaction ${o.transaction_id}`].filter(Boolean);
      if (payment.length) lines.push(`Payment: ${oneLine(payment.join(", "))}`);
      // The billing name and email are on the first line.
      // Every part structuredContent has: a state (CA, a province) is part of where a parcel goes.
      const place = (a: Order["billing"]) => [
        a.company,
        a.address,
        a.postcode,
        a.city,
        a.state,
        a.country,
        a.phone && `phone ${a.phone}`,
      ];
      const bill = parts(place(o.billing));
      if (bill) lines.push(`Bill to: ${bill}`);
      const ship = parts([o.shipping.name, ...place(o.shipping)]);
      // WooCommerce fills the shipping fields of an order collected in person too (from the billing
      // ones, or the pickup location's), which its emails and the buyer's order pages leave out
      // (needs_shipping_address()), but for its pickup from before shipping zones; the admin's
      // order screen shows them whatever the method.
      const collected = collectedInPerson.get(o);
      if (collected) {
        const methods = o.shipping_lines.map((l) => oneLine(l.method)).join(", ");
        const shown = collected.address_shown
          ? ship
            ? `: the shop's emails and the buyer's order pages still show its shipping fields as its address, as they do for the local pickup from before shipping zones: ${ship}`
            : ""
          : `: the shop's emails and the buyer's order pages show no shipping address for it${ship ? `, though its fields keep ${ship} (shown in the shop's admin)` : ""}`;
        lines.push(`Ship to: none, collected in person (${methods})${shown}`);
      } else if (ship) lines.push(`Ship to: ${ship}`);
      // What the buyer and the notes' authors wrote is quoted, on one line: it cannot pass for waiter's lines.
      if (o.customer_note) lines.push(`Customer's note: ${quoteLine(o.customer_note, NOTE_CHARACTERS)}`);
      // Of the times above and of the notes' below.
      lines.push(zoneLine(shopZone, false));
      // Who wrote a note, as the shop's admin says it: a person (or the API key's user) by name,
      // the shop itself not.
      for (const note of o.notes) {
        const by = note.author && note.author !== "system" ? ` by ${oneLine(note.author, 80)}` : "";
        lines.push(
          `Note ${shopTime(note.date, shopZone)}${by}${note.customer_note ? " (to customer)" : ""}: ${quoteLine(note.note, NOTE_CHARACTERS)}`,
        );
      }
      const older = notesLeftOut.get(o);
      if (older) {
        lines.push(
          `${older} older note${older === 1 ? " is" : "s are"} not shown: the shop's admin shows every note of the order.`,
        );
      }
      return lines.join("\n");
    },
  });

  const markPaid = defineTool({
    name: "eshop_order_mark_paid",
    title: "Mark an order paid",
    description:
      // WooCommerce completes a payment only where every item is virtual and downloadable.
      `Records that an order is paid: the paid date, processing (completed ` +
      "if only downloads), stock reduced, a note. One already paid is left alone (`already_paid`). " +
      `Only ${shop.payableStatuses.join(", ")} orders.`,
    input: {
      id: orderId,
      transaction_id: z
        .string({
          // GoPay's payment id is a number in its payload, and is copied so.
          error: (issue) =>
            Number.isSafeInteger(issue.input)
              ? `expected string, received number: send "${issue.input}", in quotes`
              : undefined,
        })
        .trim()
        .min(1)
        .max(200)
        .optional()
        .describe("The gateway's, kept on the order."),
      note: noteText.optional().describe("Private; default: says paid."),
    },
    output: {
      already_paid: z.boolean(),
      order: orderStateOut,
      transaction_id: z.string().optional(),
      transaction_differs: z.boolean().optional(),
      note_id: z.number().optional(),
      note_error: z.string().optional(),
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    async run({ id: ref, transaction_id, note }, call) {
      const { id } = await orderOf(ref, call);
      // Asked once the order is read: a shop that cannot be reached is told of by that request.
      let shopZone: ShopZone | undefined;
      const result = await oneAtATime(`order:${id}`, async () => {
        const before = await shop.getOrder(id, call);
        shopZone = await shop.timeZone(call);
        // Its paid date, if any, is from before it was deleted: it is not paid as it stands, nor payable.
        refuseTrashed(shop, before, "it was not marked paid", "mark it paid", true, shopZone);
        if (before.due_on_delivery) {
          const complete = call.serves("eshop_order_update_status")
            ? "set it to completed with eshop_order_update_status"
            : "have it set to completed in the shop's admin";
          // A payment by card or transfer instead (a payment link) leaves the courier to collect the cash too.
          const next = transaction_id
            ? `If ${quote(transaction_id)} is its cash, collected on delivery, ${complete}. If the customer paid the order with it instead, set the order's payment method and transaction ID in the shop's admin before it is delivered, so that its cash is not collected as well, and mark it paid then.`
            : `Once it is delivered and its cash collected, ${complete}.`;
          throw new ToolError(
            `Order ${named(before)} is ${before.status}, to be paid on delivery${before.payment_method ? ` (${oneLine(before.payment_method)})` : ""}, so it was not marked paid: ${shop.name} records it paid when it is completed. ${next}`,
          );
        }
        // Paid already with another payment than this one, or offline with none on record (on
        // delivery, a transfer marked by hand): nothing shows this one paid it, and the customer may
        // have paid twice. A gateway's plugin may pay an order recording no transaction: its
        // payment's event names that payment.
        const differs = Boolean(transaction_id && !maySamePayment(transaction_id, before));
        // The payment given is one the order carries: its transaction, or the Stripe intent kept beside
        // it. An intent on an order that records no transaction is a checkout's begun since (a bank
        // transfer that bounced, paid again by card), not a payment recorded.
        const carried =
          transaction_id !== undefined &&
          before.transaction_id !== undefined &&
          [before.transaction_id, ...(before.payment_ids ?? [])].includes(transaction_id);
        const stored = {
          ...(before.transaction_id ? { transaction_id: before.transaction_id } : {}),
          ...(differs ? { transaction_differs: true } : {}),
        };
        const sentBefore = unconfirmedPayments.take(id);
        // Paid by this payment's request the shop did not confirm: that try's answer, with its note.
        const paidBySent =
          sentBefore?.transaction === (transaction_id ?? "") && (transaction_id === undefined || carried) && !differs;
        const alreadyPaid = () =>
          paidBySent
            ? paidNow(sentBefore.before, before)
            : Promise.resolve({ already_paid: true, order: orderStateOut.parse(before), ...stored });
        if (shop.paidStatuses.includes(before.status) || paidInPluginStatus(before.status, before.paid)) {
          return alreadyPaid();
        }
        if (!shop.payableStatuses.includes(before.status) && before.paid) {
          // Paid, then refunded or cancelled (a cancel keeps the paid date): setting its status
          // back to take this payment would reopen an order whose money may be returned already.
          const recorded = carried
            ? `with this payment (${quote(transaction_id)})`
            : before.transaction_id
              ? `(transaction ${quote(before.transaction_id)})`
              : "";
          const what = carried
            ? before.status === "refunded"
              ? "Check with the gateway that the payment was returned; the order needs nothing more."
              : // A cancel sends no money back.
                "The shop holds the payment still unless it was refunded: check with the gateway, and refund it there if the order stays cancelled."
            : !transaction_id
              ? "Check with the gateway or the bank what this payment is before changing the order."
              : !before.transaction_id
                ? `It records no transaction: check with the gateway whether ${quote(transaction_id)} is the payment it was paid with before changing the order.`
                : differs
                  ? `${quote(transaction_id)} is another payment: the customer may have paid twice; check both with the gateway.`
                  : `${quote(transaction_id)} may be that payment under Stripe's other id for it, or another one: check with the gateway.`;
          throw new ToolError(
            `Order ${named(before)} is ${before.status}, so it was not marked paid: it was paid on ${shopTime(before.paid, shopZone)}${recorded ? ` ${recorded}` : ""} and ${before.status} since. ${what} ${zoneLine(shopZone, false)}`,
          );
        }
        if (!shop.payableStatuses.includes(before.status)) {
          // The customer paid all the same: an order left as it is, never to be filled, leaves the
          // money to return. A plugin's status (shipped) may be one the payment pays for.
          const held =
            transaction_id && UNFILLED_STATUSES.includes(before.status)
              ? ` If it stays ${before.status}, the payment ${quote(transaction_id)} is the customer's to get back: refund it with the gateway.`
              : "";
          const pendingFirst = call.serves("eshop_order_update_status")
            ? `set its status to ${shop.awaitingPaymentStatus} with eshop_order_update_status first`
            : `have its status set to ${shop.awaitingPaymentStatus} first, in the shop's admin`;
          // WooCommerce would pay a draft as it is, but mails the customer and the shop of an order
          // placed and paid only from pending, which its checkout sets a draft to as it completes.
          if (unlisted.drafts.includes(before.status)) {
            throw new ToolError(
              `Order ${named(before)} is ${before.status}, a checkout never completed (a draft), so it was not marked paid: paid as a draft, it would reach neither the customer's "Processing order" email nor the shop's "New order" one. If the payment is for it, ${pendingFirst}, as the checkout does when it completes, and mark it paid then.${held}`,
            );
          }
          throw new ToolError(
            `Order ${named(before)} is ${before.status}, so it was not marked paid: only ${shop.payableStatuses.join(", ")} orders can be. If it really should be paid, ${pendingFirst}.${held}`,
          );
        }
        // A paid date stays when an order goes back to pending or failed (a bank transfer bounced):
        // the shop says it needs payment then, and a new payment pays it. A shop that does not say
        // (WooCommerce before 6.6) decides it so: pending or failed, with a total above 0.
        const needsPayment = before.needs_payment ?? awaitsPayment(before);
        if (before.paid && !needsPayment) return alreadyPaid();
        if (before.paid && carried) {
          throw new ToolError(
            `Order ${named(before)} is ${before.status} and needs payment, but its payment ${quote(transaction_id)} was recorded before (${shopTime(before.paid, shopZone)}) and the order set back since: that payment is not taken again. Check with the gateway whether it was reversed; a new payment's id marks it paid. ${zoneLine(shopZone, false)}`,
          );
        }
        const after = await unconfirmedPayments.send(
          id,
          { transaction: transaction_id ?? "", before },
          shop.setPaid(before, transaction_id, call),
        );
        return paidNow(before, after);
      });
      if (shopZone) zoneOf.set(result, shopZone);
      return result;

      /** The answer of a payment that moved the order from `before` to `after`. */
      async function paidNow(before: Order, after: Order) {
        const result = await recorded(after);
        paidFrom.set(result, before.status);
        const stock = stockMoves(before.stock_taken, after.stock_taken);
        if (stock) stockMoved.set(result, stock);
        return result;
      }

      /** The answer of a payment recorded: the order as it was left, and the note added. */
      async function recorded(after: Order) {
        // WooCommerce dates a payment only in the status its payment completes to: an order with
        // nothing to ship, moved to processing (by a shop before 6.6, which does not say what an
        // order needs, or where a plugin completes payments elsewhere), is paid without a date.
        // Its status says it is paid.
        if (!after.paid && !shop.paidStatuses.includes(after.status)) {
          throw new ToolError(
            `${shop.name} accepted the payment for order ${named(after)} but did not record it as paid (status ${after.status}); check the order in the shop.`,
          );
        }
        // Who asked, as waiter's log names them: the shop records every write as its API key's user.
        const text =
          note ??
          `Marked paid by waiter${call.caller ? ` for ${call.caller}` : ""}${transaction_id ? ` (transaction ${transaction_id})` : ""}.`;
        const paid = {
          already_paid: false,
          order: orderStateOut.parse(after),
          ...(after.transaction_id ? { transaction_id: after.transaction_id } : {}),
        };
        try {
          return { ...paid, note_id: (await shop.addNote(id, text, false, call)).id };
        } catch (err) {
          // The payment is recorded; a retry would find it paid and never add the note.
          return { ...paid, note_error: noteFailure(err, call) };
        }
      }
    },
    render(r, _args, session) {
      const shopZone = zoneOf.get(r);
      const zoneSaid = r.order.paid ? zoneLine(shopZone, false) : "";
      // An order is paid from a status awaiting payment, and the shop mails alike from each of them.
      const emailed = r.already_paid
        ? ""
        : emailLine(shop, shop.statusEmail(shop.awaitingPaymentStatus, r.order.status, false), session);
      const from = paidFrom.get(r);
      const status = `${r.order.status}${from && from !== r.order.status ? ` (was ${from})` : ""}`;
      const other = !r.transaction_differs
        ? ""
        : r.transaction_id
          ? ` Its transaction is ${quote(r.transaction_id)}, not the one given: the customer may have paid twice; check both with the gateway.`
          : " It records no transaction, so nothing shows it was paid with the one given: the customer may have paid twice; check with the gateway.";
      return r.already_paid
        ? `Order #${r.order.number} (id ${r.order.id}) was already paid${r.order.paid ? ` on ${shopTime(r.order.paid, shopZone)}` : ""} and is ${r.order.status}; nothing was changed.${zoneSaid && ` ${zoneSaid}`}${other}`
        : `Order #${r.order.number} (id ${r.order.id}) is now paid ${r.order.paid ? `(${shopTime(r.order.paid, shopZone)}) and ${status}` : `and ${status}, which the shop counts paid though it recorded no paid date`}${noteLine(r)}.${zoneSaid && `\n${zoneSaid}`}${stockLine(r, session)}${emailed}`;
    },
    needsPerson: (r) => r.transaction_differs === true,
  });

  /** What an order to be paid on delivery, set to a status the shop counts paid, is told of its cash. */
  const cashCollected = (paid: string | undefined, dated: boolean, shopZone?: ShopZone) =>
    !paid
      ? `It was to be paid on delivery: ${shop.name} now counts its cash collected, though it recorded no paid date.`
      : dated
        ? `It was to be paid on delivery: ${shop.name} now counts its cash collected, under the paid date it gave the order before (${shopTime(paid, shopZone)}), not when the cash came.`
        : `It was to be paid on delivery: ${shop.name} now counts its cash collected (paid ${shopTime(paid, shopZone)}).`;

  const updateStatus = defineTool({
    name: "eshop_order_update_status",
    title: "Change an order's status",
    description:
      "Sets an order's status; the shop acts as in its admin (emails, cancel restocks, refunded " +
      "sends no money). Payments: eshop_order_mark_paid.",
    input: {
      id: orderId,
      status: status(z.string().describe(`The new one: ${statuses}.`)),
      note: noteText.optional().describe("Private; added only on a change."),
    },
    output: {
      changed: z.boolean(),
      previous_status: z.string(),
      order: orderStateOut,
      paid_now: z.boolean().optional(),
      transaction_id: z.string().optional(),
      refunded_before: z.string().optional(),
      note_id: z.number().optional(),
      note_error: z.string().optional(),
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    async run({ id: ref, status: wanted, note }, call) {
      await refuseUnknown([wanted], true, call);
      const { id } = await orderOf(ref, call);
      let shopZone: ShopZone | undefined;
      let due = { before: false, now: false };
      let datedBefore = false;
      let offlineBy: string | undefined;
      let recorded: { amount: string } | { unread: string } | undefined;
      let stock: "returned" | "taken" | undefined;
      const changedTo = await oneAtATime(`order:${id}`, async () => {
        const before = await shop.getOrder(id, call);
        shopZone = await shop.timeZone(call);
        refuseTrashed(shop, before, "its status was not changed", "change its status", false, shopZone);
        const sent = unconfirmedStatuses.take(id);
        // Set by this status's request the shop did not confirm: the change is that request's.
        const from = sent?.status === wanted && before.status === wanted ? sent.before : before;
        const changed = from.status !== wanted;
        const after: Order =
          before.status !== wanted
            ? await unconfirmedStatuses.send(id, { status: wanted, before }, shop.setStatus(id, wanted, call))
            : before;
        // Completed as it is delivered, an order to be paid then is dated paid with its completion,
        // in the same save (each with its own time(): a second apart at most), unless it kept the
        // date the shop gave it before, which a plugin that completes an order as it is placed gave
        // seconds before; the shop dates no payment as an order reaches a status it does not count
        // paid (a plugin's: shipped).
        datedBefore =
          from.due_on_delivery === true &&
          after.paid !== undefined &&
          (!shop.paidStatuses.includes(after.status) ||
            (after.completed !== undefined && Date.parse(after.paid) < Date.parse(after.completed) - 1000));
        const result = {
          changed,
          previous_status: from.status,
          order: orderStateOut.parse(after),
          // The shop dates a payment when a status it counts paid is set, if the order had no date.
          ...(!from.paid && after.paid && !datedBefore ? { paid_now: true } : {}),
          ...(after.transaction_id ? { transaction_id: after.transaction_id } : {}),
          ...(changed && from.refunded ? { refunded_before: from.refunded } : {}),
        };
        due = { before: from.due_on_delivery === true, now: after.due_on_delivery === true };
        offlineBy = from.paid_offline ? (from.payment_method ?? "") : undefined;
        if (changed) stock = stockMoves(from.stock_taken, after.stock_taken);
        // A refund only recorded may not have reached the customer: what is left is not all to return.
        // The change is made: a failure to read this fails it not.
        if (changed && from.refunded) recorded = await recordedOnly(from, call);
        // The note goes with the change, so that the same call again (a retry) adds no second one.
        if (!note) return result;
        if (!changed) {
          const adds = call.serves("eshop_order_add_note") ? "; eshop_order_add_note adds one" : "";
          return { ...result, note_error: `not added: nothing changed${adds}` };
        }
        try {
          return { ...result, note_id: (await shop.addNote(id, note, false, call)).id };
        } catch (err) {
          // The status is changed; a retry would find it so and never add the note.
          return { ...result, note_error: noteFailure(err, call) };
        }
      });
      if (shopZone) zoneOf.set(changedTo, shopZone);
      if (due.now) dueOnDelivery.set(changedTo, new Set([id]));
      if (due.before) dueBefore.add(changedTo);
      if (datedBefore) datedBeforeCash.add(changedTo);
      if (offlineBy !== undefined) paidOfflineBy.set(changedTo, offlineBy);
      if (recorded) recordedBefore.set(changedTo, recorded);
      if (stock) stockMoved.set(changedTo, stock);
      return changedTo;
    },
    render(r, _args, session) {
      // What the change did to money, which no status name says: WooCommerce records a refund of
      // what is left but asks no gateway; a cancel keeps the payment; a paid status sets a paid date.
      // An order put on hold after its payment keeps its paid date, and eshop_order_mark_paid counts
      // it paid; a refund or a cancel leaves the paid date as it was.
      const heldPaid =
        r.previous_status === "on-hold" && r.order.paid !== undefined && !shop.paidStatuses.includes(r.order.status);
      // The paid date it kept, not the one this change gave it.
      const pluginPaid = !r.paid_now && paidInPluginStatus(r.previous_status, r.order.paid);
      const wasPaid = !dueBefore.has(r) && (shop.paidStatuses.includes(r.previous_status) || heldPaid || pluginPaid);
      // Paid by a bank transfer, a cheque or in cash: no gateway took the money, so none returns it.
      // With no method named: an order entered in the admin.
      const offline = paidOfflineBy.get(r);
      const tookIt = offline
        ? `it was paid by ${oneLine(offline)}, which no payment gateway took`
        : "no payment gateway took its payment";
      const byHand =
        offline === undefined ? undefined : `${capitalized(tookIt)}: return the money to the customer yourself.`;
      // A hold may also be for a payment that never came, recorded paid by mistake or reversed since.
      const refundIt = heldPaid
        ? "Check with the payment gateway or the bank that the payment came and was not reversed before refunding it there."
        : (byHand ?? "Refund the payment through the payment gateway that took it.");
      const shopZone = zoneOf.get(r);
      const recorded = [
        r.order.paid && shopTime(r.order.paid, shopZone),
        r.transaction_id && `transaction ${oneLine(r.transaction_id)}`,
      ]
        .filter(Boolean)
        .join(", ");
      const paidSaid = (when: string) =>
        `${heldPaid ? "It was recorded paid" : "It was paid"}${when ? ` (${when})` : ""}${heldPaid ? " before it was put on hold" : ""}`;
      // A refund recorded before (from the shop's admin, or a refunded status set back) is told, so
      // that it is not returned twice; of refunds that cover the whole total, nothing is left. Of
      // that, a refund only recorded (by hand, or by a refunded status) may not have reached the customer.
      const { currency } = r.order;
      const way = recordedBefore.get(r);
      const unsent = way && "amount" in way && new Big(way.amount).gt(0) ? way.amount : undefined;
      const recordedPart = `${unsent && r.refunded_before && new Big(unsent).eq(r.refunded_before) ? "" : `${unsent} ${currency} of it `}only recorded: no payment gateway sent that back.`;
      const unread =
        way && "unread" in way
          ? `, unless no payment gateway sent that back (which could not be read: ${way.unread.replace(/\.$/, "")})`
          : "";
      const refundedBefore = (what: string) =>
        `${what} was refunded before${unsent ? `, ${recordedPart}` : way && !unread ? " through the payment gateway" : ""}`;
      const left = !r.refunded_before
        ? ""
        : ` ${refundedBefore(`${r.refunded_before} ${currency} of its ${r.order.total} ${currency}`)}${
            unsent
              ? ` The ${difference(r.order.total, r.refunded_before)} ${currency} left is to return, and the ${unsent} ${currency} too unless it was returned another way.`
              : `: only the ${difference(r.order.total, r.refunded_before)} ${currency} left is to return${unread}.`
          }`;
      const refundedWhole = r.refunded_before !== undefined && new Big(r.refunded_before).gte(r.order.total);
      const toReturn = (said: string) =>
        !refundedWhole
          ? `${said}${left}`
          : `\n${refundedBefore(`Its ${r.order.total} ${currency}`)}${
              unsent
                ? ` Unless it was returned another way, the ${unsent} ${currency} is still to return.`
                : `: there is nothing left to return${unread}.`
            }`;
      // A refund in the shop's admin puts the stock back as its ticked "Restock refunded items" does;
      // the refund a status records puts back none.
      const restock = session.serves("eshop_stock_set")
        ? " If the goods came back, eshop_stock_set counts them again."
        : "";
      // WooCommerce records no refund of a total of 0 (a 100% coupon), and such an order took no money.
      const nothingPaid = new Big(r.order.total).eq(0);
      const money = !r.changed
        ? ""
        : r.order.status === "refunded"
          ? nothingPaid
            ? `\nIts total is ${r.order.total} ${r.order.currency}: there is no money to return.`
            : wasPaid
              ? toReturn(
                  `\nNo money was sent back and no stock put back: the shop only recorded the refund. ${heldPaid ? `${paidSaid(shopTime(r.order.paid as string, shopZone))}. ${refundIt}` : (byHand ?? "Return the payment through the payment gateway that took it.")}`,
                ) + (refundedWhole ? "" : restock)
              : "\nIt was not paid: the shop recorded a refund of money it never took, and there is none to return."
          : r.order.status === "cancelled" && wasPaid && !nothingPaid
            ? toReturn(
                `\n${paidSaid(r.order.paid ? shopTime(r.order.paid, shopZone) : "")}: cancelling sent no money back. ${refundIt}`,
              )
            : // Set back to await payment (a bounced transfer, a chargeback): the shop keeps the paid
              // date and would take a new payment, while the old one is still taken unless reversed.
              awaitsPayment(r.order) && wasPaid
              ? toReturn(
                  `\n${paidSaid(recorded)}: moving it to ${r.order.status} sent no money back, and the shop now awaits another payment for it. ${heldPaid ? refundIt : `Unless that payment was reversed, ${offline === undefined ? "refund it through the payment gateway that took it" : `return it to the customer yourself (${tookIt})`}, or the customer may pay twice.`}`,
                )
              : dueOnDelivery.get(r)?.has(r.order.id)
                ? `\nIt is to be paid on delivery: ${shop.name} records it paid when it is completed.`
                : dueBefore.has(r) && !r.refunded_before && shop.paidStatuses.includes(r.order.status)
                  ? `\n${cashCollected(r.order.paid, datedBeforeCash.has(r), shopZone)}`
                  : // An order with nothing to ship counts paid in processing too, though the shop dates it
                    // paid only when it is completed.
                    !wasPaid && shop.paidStatuses.includes(r.order.status)
                    ? `\n${countedPaid(r, session, shopZone, refundedBefore, unsent, unread)}`
                    : "";
      const refundRecorded = r.order.status === "refunded" && !nothingPaid && !refundedWhole;
      const emailed = r.changed
        ? emailLine(shop, shop.statusEmail(r.previous_status, r.order.status, refundRecorded), session)
        : "";
      // The paid date shows in what the change did to money.
      const zoneSaid =
        r.order.paid && money.includes(shopTime(r.order.paid, shopZone)) ? `\n${zoneLine(shopZone, false)}` : "";
      return r.changed
        ? `Order #${r.order.number} (id ${r.order.id}): ${r.previous_status} → ${r.order.status}${noteLine(r)}.${money}${zoneSaid}${stockLine(r, session)}${emailed}`
        : `Order #${r.order.number} (id ${r.order.id}) was already ${r.order.status}; nothing was changed${r.note_error ? `, so the note was not added${session.serves("eshop_order_add_note") ? " (eshop_order_add_note adds one)" : ""}` : ""}.`;
    },
  });

  const addNote = defineTool({
    name: "eshop_order_add_note",
    title: "Add an order note",
    description:
      "Adds a note to an order: private, or with customer_note also emailed to the customer. Each call adds one.",
    input: {
      id: orderId,
      note: noteText.describe("Its text."),
      customer_note: truth(z.boolean()).default(false).describe("Email it to the customer too."),
    },
    output: { order_id: z.number(), note: noteOut },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run({ id: ref, note, customer_note }, call) {
      const found = await orderOf(ref, call);
      const { id } = found;
      // The shop mails a note to the customer to the order's billing email, and to no one without it.
      const order = customer_note ? await shop.getOrder(id, call) : undefined;
      if (order && !order.email) {
        throw new ToolError(
          `Order ${named(order)} has no email, so the shop would send the note to no one; nothing was added. Reach the customer another way (the order's phone or address${call.serves("eshop_order_get") ? ", eshop_order_get" : ""}), or add the note without customer_note.`,
        );
      }
      const result = { order_id: id, note: await shop.addNote(id, note, customer_note, call) };
      const number = order?.number ?? found.number;
      if (number) numberOf.set(result, number);
      return result;
    },
    render(r) {
      // WooCommerce emails a note to the customer only while its email for notes is on.
      const emailed = ` and emailed to the customer by the shop's "Customer note" email, unless it is turned off (${shop.name} → Settings → Emails)`;
      // Given by its id alone nothing was read: its number, which may be another order's id, is not known.
      const number = numberOf.get(r);
      const order = number ? named({ id: r.order_id, number }) : `id ${r.order_id}`;
      return `Note ${r.note.id} added to order ${order}${r.note.customer_note ? emailed : " (private)"}.`;
    },
  });

  return [list, get, markPaid, updateStatus, addNote];
}

/**
 * An order as a person finds it in the shop's admin: by its number, with its id where a numbering
 * plugin makes them differ (the order whose number is its id is another one).
 */
function named(order: Pick<Order, "id" | "number">): string {
  return order.number === String(order.id) ? String(order.id) : `#${order.number} (id ${order.id})`;
}

/**
 * Refuses a write to an order in the shop's trash: deleted, not for good. A status set on it would
 * take it out of the trash without what the admin's Restore does (the status it had put back), and
 * undo a deletion nobody asked to undo. `payment` says a payment came for it, which, like one it
 * was paid with before, may be to return.
 */
function refuseTrashed(
  shop: ShopProvider,
  order: Order,
  refused: string,
  then: string,
  payment: boolean,
  shopZone: ShopZone | undefined,
): void {
  if (order.status !== shop.trashStatus) return;
  throw new ToolError(
    `Order ${named(order)} is in the shop's trash (status ${order.status}), so ${refused}: it was deleted${order.paid ? `, after it was paid on ${shopTime(order.paid, shopZone)}` : ""}. If it should stand, restore it in the shop's admin first (${shop.name} → Orders → Trash → Restore) and ${then} then; if it was deleted on purpose, leave it${payment || order.paid ? ", and check with the gateway whether a payment for it is to be returned" : ""}.${order.paid ? ` ${zoneLine(shopZone, false)}` : ""}`,
  );
}

/**
 * Whether `given` may name the payment `order` was paid with: its transaction id, an id the shop
 * keeps beside it (the Stripe plugin's intent), or, where the shop keeps no Stripe id of its kind,
 * Stripe's id of another kind. Stripe names a payment by its intent (pi_, the id of a
 * payment_intent.succeeded), its charge (ch_, py_: WooCommerce's Stripe plugin records that one)
 * and its checkout session (cs_): which of them stands for which payment only Stripe can say. An
 * order that keeps no id may have been paid with any payment but when it was paid offline.
 */
function maySamePayment(given: string, order: Order): boolean {
  const kind = (id: string) => /^(pi|ch|py|cs)_/.exec(id)?.[1];
  const kept = [order.transaction_id ?? "", ...(order.payment_ids ?? [])].filter(Boolean);
  if (kept.includes(given)) return true;
  // An order that keeps no payment's id shows none it was paid with: paid offline, not this one; by
  // a gateway's plugin that records none, maybe this one.
  if (kept.length === 0) return !order.paid_offline;
  const givenKind = kind(given);
  return givenKind !== undefined && kept.every((id) => kind(id) !== undefined && kind(id) !== givenKind);
}

/**
 * What an order not paid before, set to a status the shop counts paid, is told: no payment was
 * checked, or, taken back from a refund, that the refund stands, which the new status does not undo.
 */
function countedPaid(
  r: {
    order: { total: string; currency: string; paid?: string };
    refunded_before?: string;
    previous_status: string;
  },
  session: Serving,
  shopZone: ShopZone | undefined,
  refundedBefore: (what: string) => string,
  unsent?: string,
  unread = "",
): string {
  const when = r.order.paid ? ` (${shopTime(r.order.paid, shopZone)})` : "";
  if (!r.refunded_before) {
    const markPaid = session.serves("eshop_order_mark_paid") ? "; eshop_order_mark_paid is for payments that came" : "";
    return `The shop counts it paid now${when}, though no payment was checked${markPaid}.`;
  }
  const { total, currency } = r.order;
  const whole = new Big(r.refunded_before).gte(total);
  const refund = whole
    ? `Its ${r.refunded_before} ${currency}`
    : `Of its ${total} ${currency}, ${r.refunded_before} ${currency}`;
  const reason = session.serves("eshop_order_get")
    ? "eshop_order_get shows the refund's reason"
    : "the refund's reason may say";
  // A refund only recorded may never have left: the payment may stand, and is not to be taken again.
  // The rest of it a payment gateway sent back.
  if (unsent) {
    const sent = new Big(r.refunded_before).gt(unsent) ? difference(r.refunded_before, unsent) : undefined;
    const whether = `whether the ${unsent} ${currency} was returned another way`;
    const then = !sent
      ? `check ${whether}${whole ? `, and if it was, have it paid again or set it back to ${r.previous_status}` : ""}`
      : whole
        ? `have that paid again or set it back to ${r.previous_status}, and check ${whether}, and if it was, have it paid again too`
        : `check what that was for, and ${whether}`;
    return `${refundedBefore(refund)} It stays refunded: the shop counts it paid now${when}${sent ? `, though the other ${sent} ${currency} went back through the payment gateway` : ""}; before it is shipped, ${then}: ${reason}.`;
  }
  return `${refundedBefore(refund)}, and stays refunded: the shop counts it paid now${when}, though ${whole ? `that money went back${unread}. Before it is shipped, ${unread ? "if it went back, " : ""}have it paid again or set it back to ${r.previous_status}.` : `that part went back${unread}; before it is shipped, check what it was for: ${reason}.`}`;
}
