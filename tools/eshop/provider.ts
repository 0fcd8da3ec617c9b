import type { Call } from "../../src/http/client.js";

/**
 * An email a status change sends the customer: sent unless turned off in the shop's settings
 * ("on"), sent so by newer versions of the shop only ("newer"), or sent by newer versions only
 * where it was turned on ("optIn").
 */
export interface StatusEmail {
  name: string;
  sent: "on" | "newer" | "optIn";
}

/**
 * What the e-shop tools need from a shop. WooCommerce implements it; another shop system is
 * another implementation, with the tools unchanged. Money is a decimal string as the shop
 * sends it, never a float; times are ISO 8601 in UTC.
 */
export interface ShopProvider {
  /** The shop system's name, for messages: "WooCommerce". */
  name: string;
  /** The shop system's own order statuses, taken without asking the shop. */
  orderStatuses: readonly string[];
  /** Their names as the shop system gives them in English ("Pending payment"), by status. */
  orderStatusNames: Readonly<Record<string, string>>;
  /**
   * Every status an order may take in this shop, a plugin's too (WooCommerce: shipped), with its
   * name there ("Shipped"); read at most once an hour. Undefined when the shop will not say (a key
   * whose user may not view its reports), asked again an hour later, or cannot (a firewall's block, a
   * report that fails), asked again minutes later.
   */
  shopStatuses(call: Call): Promise<{ status: string; name: string }[] | undefined>;
  /** Statuses an order may be marked paid from. */
  payableStatuses: readonly string[];
  /**
   * The status to set an order that is to be marked paid but is in none of those: WooCommerce's
   * pending, which a checkout draft takes as its checkout completes.
   */
  awaitingPaymentStatus: string;
  /** Statuses that mean an order is paid. */
  paidStatuses: readonly string[];
  /** The status an order or product in the shop's trash reads with: deleted, not for good, and no order status. */
  trashStatus: string;
  /** The status a list of orders takes for every order but those in the trash (WooCommerce: any). */
  anyStatus: string;
  /** The statuses of orders a list leaves out unless asked for by them: the trash's, and a checkout's draft. */
  unlistedStatuses: readonly string[];
  /** What becomes of a checkout's draft (an unlisted status but the trash's) left as it is, said after one. */
  draftsDeleted: string;
  /**
   * The email the shop sends the customer of itself when an order's status goes from `from` to
   * `to`, by its name in the shop's settings; `refund` says the change records a refund. "none"
   * when it sends none; undefined when that cannot be told (a plugin's status may send its own).
   */
  statusEmail(from: string, to: string, refund: boolean): StatusEmail | "none" | undefined;
  listOrders(filter: OrderFilter, page: PageRequest, call: Call): Promise<Page<OrderSummary>>;
  getOrder(id: number, call: Call): Promise<Order>;
  /** Records the payment of an unpaid order: paid date, the paid status, stock reduced (once, by the shop). */
  setPaid(order: Order, transactionId: string | undefined, call: Call): Promise<Order>;
  setStatus(id: number, status: string, call: Call): Promise<Order>;
  addNote(id: number, note: string, forCustomer: boolean, call: Call): Promise<Note>;
  /** The order's notes, newest first. */
  listNotes(id: number, call: Call): Promise<Note[]>;
  /**
   * What the order says of its refunds only apart: whether each, by id, was sent back by the payment
   * gateway (true) or only recorded by the shop (a refund made by hand, or the one a status set to
   * refunded records), and the units refunded of each line item, by its id.
   */
  refundDetails(id: number, call: Call): Promise<{ sent: Map<number, boolean>; units: Map<number, number> }>;
  /**
   * The currency its products are priced in (ISO 4217: "CZK"; an order names its own), or
   * undefined when the shop will not say.
   */
  currency(call: Call): Promise<string | undefined>;
  /**
   * How its products' prices are entered: "with" tax, "without" it (checkout adds it), or "none"
   * where the shop calculates no tax; undefined when the shop will not say.
   */
  priceTax(call: Call): Promise<"with" | "without" | "none" | undefined>;
  /** The time zone the shop's days and its admin's times go by, or undefined when the shop will not say. */
  timeZone(call: Call): Promise<ShopZone | undefined>;
  /** What `timeZone` last answered, for a refusal of an argument, which is worded before the shop is asked. */
  lastTimeZone(): ShopZone | undefined;
  listProducts(filter: ProductFilter, page: PageRequest, call: Call): Promise<Page<Product>>;
  getProduct(id: number, call: Call): Promise<Product>;
  /**
   * A product's status (publish, draft, …) as it is now: what a variation's product is says whether
   * the variation is for sale.
   */
  productStatus(id: number, call: Call): Promise<string>;
  /**
   * The products (and variations) whose SKU the shop takes for this one: WooCommerce's database
   * compares SKUs without regard to letter case or accents, and NFC and NFD alike.
   */
  findProductsBySku(sku: string, call: Call): Promise<Product[]>;
  /**
   * A variable product's variations (the first hundred, and how many there are), each named by its
   * attributes ("Weight: 250 g"), for the ids that set their stock.
   */
  listVariations(id: number, call: Call): Promise<Page<Product>>;
  /** Sets the stock quantity, turning stock management on for the product (or variation) if it was off. */
  setStock(product: Product, quantity: number, call: Call): Promise<Product>;
  listCustomers(filter: CustomerFilter, page: PageRequest, call: Call): Promise<Page<Customer>>;
}

export interface ShopZone {
  /** A zone the clock's helpers take: an IANA one, "Europe/Prague", or a fixed offset, "+05:30". */
  zone: string;
  /** As the shop's settings name it: "Europe/Prague", "UTC+1". */
  name: string;
}

export interface PageRequest {
  page: number;
  size: number;
}

export interface Page<T> {
  items: T[];
  /** Items matching, across all pages; undefined when the shop did not say (a proxy dropped it). */
  total?: number;
  /** Pages of this size; undefined when the shop did not say. */
  pages?: number;
}

export interface OrderFilter {
  status?: string[];
  after?: string;
  before?: string;
  search?: string;
  customerId?: number;
  /** Ids left out: those a page before listed. */
  exclude?: number[];
  /** How many to skip from the first match: those listed before the ids left out. */
  offset?: number;
}

export interface ProductFilter {
  search?: string;
  sku?: string;
  stockStatus?: string;
  /** Listed before: `listed` earlier than this, the shop's wall time (YYYY-MM-DDTHH:MM:SS). */
  before?: string;
  /** Created before, UTC (YYYY-MM-DDTHH:MM:SS): the bound of a cursor handed out before `before` was. */
  createdBefore?: string;
  /** Ids left out: those a page before listed. */
  exclude?: number[];
  /** How many to skip from the first match: those listed before the ids left out. */
  offset?: number;
}

export interface CustomerFilter {
  search?: string;
  email?: string;
}

export interface OrderSummary {
  id: number;
  number: string;
  status: string;
  total: string;
  /** What was refunded of the total, which the shop leaves as it was. */
  refunded?: string;
  currency: string;
  customer_id?: number;
  customer_name?: string;
  email?: string;
  created: string;
  paid?: string;
  payment_method?: string;
  item_count: number;
  /**
   * To be paid on delivery, and not yet (WooCommerce: cash on delivery, before it is completed):
   * not paid, though its status is one the shop counts paid. The tools leave it out of their answers.
   */
  due_on_delivery?: true;
}

/** Without a name or email: the billing ones are the order's customer_name and email. */
export interface Address {
  company?: string;
  address?: string;
  city?: string;
  state?: string;
  postcode?: string;
  country?: string;
  phone?: string;
}

export interface LineItem {
  id: number;
  name: string;
  product_id?: number;
  variation_id?: number;
  sku?: string;
  quantity: number;
  subtotal: string;
  total: string;
  tax: string;
}

export interface Order extends OrderSummary {
  /** The shop says the order awaits payment (WooCommerce: pending or failed, total above 0). */
  needs_payment?: boolean;
  /** The shop says the order has something to ship once paid; false when its paid status is completed. */
  needs_processing?: boolean;
  shipping_total: string;
  discount_total: string;
  total_tax: string;
  prices_include_tax: boolean;
  transaction_id?: string;
  /** The shop's other ids of the payment transaction_id names (WooCommerce's Stripe plugin: its intent, pi_…). */
  payment_ids?: string[];
  /**
   * Paid by a method no gateway pays through (WooCommerce: bank transfer, cheque, cash on
   * delivery, or none, as for an order made in the admin): no gateway's payment is its own.
   */
  paid_offline?: boolean;
  /**
   * Every shipping method is one of collecting in person (WooCommerce: local pickup): the shop has
   * no address to send it to, whatever its shipping fields keep, though its emails may show them as one
   * (`address_shown`).
   */
  collected?: { address_shown: boolean };
  customer_note?: string;
  completed?: string;
  /**
   * The ids of the items the shop took from stock and has not put back (WooCommerce: items with
   * _reduced_stock), which it does as the order is cancelled or set back to pending; an item whose
   * product no longer counts its stock keeps its mark.
   */
  stock_taken?: number[];
  line_items: LineItem[];
  billing: Address;
  shipping: Address & { name?: string };
  shipping_lines: { method: string; total: string }[];
  fees: { name: string; total: string }[];
  coupons: { code: string; discount: string }[];
  taxes: { label: string; total: string }[];
  refunds: { id: number; total: string; reason?: string }[];
}

export interface Note {
  id: number;
  date: string;
  note: string;
  customer_note: boolean;
  author?: string;
}

export interface Product {
  id: number;
  name: string;
  /** When it was created, UTC; none for a draft the shop gave no date yet. */
  created?: string;
  /**
   * The shop's wall time it is listed by (WordPress's post_date, YYYY-MM-DDTHH:MM:SS): when it was
   * created, or, for a draft given no date yet, when it was last saved, which dates it so.
   */
  listed?: string;
  sku?: string;
  type: string;
  status: string;
  price: string;
  regular_price: string;
  /** While the sale is on, or before a scheduled one starts (then with `sale_from`). */
  sale_price?: string;
  sale_from?: string;
  /** When the sale ends, where it is set to. */
  sale_to?: string;
  /**
   * A sale price the shop will never sell at, though it is set and has not ended: set to end
   * before it starts, not below the regular price, or without a regular price.
   */
  idle_sale?: {
    price: string;
    why: "set to end before it starts" | "not below the regular price" | "no regular price";
  };
  /**
   * A sale that has started or ended while the price charged has not followed yet: WooCommerce's
   * scheduled-sales job moves it (since 10.5 at the sale's start and end, before once a day).
   * `price` is what the shop charges until then, and `at` when the sale started or ended; a sale
   * with no start has none, and no job moves its price.
   */
  sale_lag?:
    | { sale_price: string; change: "started"; at?: string }
    | { sale_price: string; change: "ended"; at: string };
  /** A variable or grouped product one of whose variations or products is on sale: its own sale fields are none. */
  children_on_sale?: true;
  manage_stock: boolean;
  /** The product that counts this variation's stock (its quantity is that one's). */
  counted_on?: number;
  /** The variable product this variation is of, through which its own stock is set. */
  variation_of?: number;
  /** A variation whose answer left out the product it is of (a plugin that trims the shop's answers): it has one. */
  variation_of_unsaid?: true;
  /** Such a variation whose stock its product counts (`counted_on`, were the product named). */
  counted_on_unsaid?: true;
  /** A variable product's variations, by id. */
  variations?: number[];
  stock_quantity?: number;
  stock_status: string;
  /** Whether its stock may go below 0, when the shop says; the tools check it and do not show it. */
  backorders_allowed?: boolean;
  /** Its price is taxed not (its tax status none, or shipping alone), whatever the shop's tax settings. */
  untaxed?: true;
}

export interface Customer {
  id: number;
  email: string;
  first_name?: string;
  last_name?: string;
  username?: string;
  city?: string;
  country?: string;
  phone?: string;
  created: string;
  paying_customer: boolean;
  /** WordPress's: customer, or another, as staff who buy have. */
  role?: string;
}
