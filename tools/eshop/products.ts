import { z } from "zod";
import { AdvisesTool, ToolError } from "../../src/errors.js";
import type { Call } from "../../src/http/client.js";
import { digits } from "../../src/settings.js";
import { oneLine, quote } from "../../src/shown.js";
import { defineTool, type Serving, type Tool } from "../../src/toolset.js";
import type { Product, ShopProvider, ShopZone } from "./provider.js";
import {
  boundBefore,
  lastListedBound,
  leftOutSince,
  newestFirstResult,
  noneAfterPageBefore,
  noneMatch,
  oneAtATime,
  pageLine,
  pageRequest,
  paging,
  pagingOut,
  pinnedPages,
  productOut,
  shopPage,
  shopTime,
  skipsByCount,
  stockOut,
  unconfirmedWrites,
  withinAnswer,
  zoneLine,
  zoneOf,
} from "./shapes.js";

const STOCK_STATUSES = ["instock", "outofstock", "onbackorder"] as const;

const which = {
  id: digits(z.number().int().positive()).optional().describe("This or sku."),
  sku: z.string().trim().min(1).max(100).optional().describe("Whole, in any letter case; or id."),
};

const currencyOut = z.string().optional();

/** A product's name and SKU, each made one line: neither can start a line that reads as another product's. */
function named(p: Pick<Product, "name" | "sku">): string {
  return `${oneLine(p.name)}${p.sku ? ` [${oneLine(p.sku)}]` : ""}`;
}

/**
 * Why a product counted above 0 is not in stock: WooCommerce takes one saved at or below the
 * shop's out-of-stock threshold (0 unless set) as out of stock, or on backorder where it takes
 * backorders. A product saved before the threshold was changed keeps the status it had then, so
 * only a count just set tells the threshold now.
 */
function underThreshold(p: { stock_quantity?: number | undefined; stock_status: string }, justSet: boolean): string {
  const counted = p.stock_quantity;
  if (counted === undefined || counted <= 0 || !["outofstock", "onbackorder"].includes(p.stock_status)) return "";
  const where = "WooCommerce → Settings → Products → Inventory";
  if (!justSet) {
    return ` (WooCommerce sets a product out of stock, or on backorder where it takes backorders, when its count is saved at or below the shop's "Out of stock threshold", ${where})`;
  }
  const backorder = p.stock_status === "onbackorder" ? ", and as it takes backorders, on backorder" : "";
  return ` (WooCommerce takes ${counted} as out of stock${backorder}: the shop's "Out of stock threshold" is ${counted} or more, ${where})`;
}

/**
 * The product that counts a variation's stock, for the text only: structuredContent has no field
 * for it, and the variation's quantity, its product's, reads as the variation's own without it.
 */
const countedOn = new WeakMap<object, number | "unsaid">();

/**
 * A variable product's variations, for the text only: structuredContent has no field for them, and
 * a stock kept per variation is read by their ids.
 */
const variationsOf = new WeakMap<object, number[]>();

/** When a product's sale ends, for the text only: structuredContent has no field for it. */
const saleEnds = new WeakMap<object, string>();

/** A variable or grouped product one of whose variations or products is on sale, for the text only. */
const childrenOnSale = new WeakSet<object>();

/** A sale the price charged has not followed yet, for the text only: structuredContent has no field for it. */
const saleLags = new WeakMap<object, NonNullable<Product["sale_lag"]>>();

/** A sale price set that the shop will never sell at, and why, for the text only: it is no sale. */
const idleSales = new WeakMap<object, NonNullable<Product["idle_sale"]>>();

/**
 * The product a variation is of, where it is not published, for the text only: WooCommerce sells a
 * variation only while its product is published (WC_Product_Variation::is_purchasable()), whatever
 * the variation's own status says.
 */
const unpublishedParent = new WeakMap<object, { id: number; status: string }>();

/** A variation of no product (its variable product gone), for the text only: it has no product to be published. */
const ofNoProduct = new WeakSet<object>();

/** A variation whose answer left out the product it is of, for the text only: it has one, unnamed. */
const ofUnsaidProduct = new WeakSet<object>();

/** A product's status as a line names it. */
const STATUS_WORDS: Record<string, string> = {
  draft: "a draft",
  pending: "pending review",
  private: "private",
  future: "scheduled",
  trash: "in the trash",
};

/** Whether a product's line shows a time, which the text then says the zone of. */
const showsTime = (p: z.output<typeof productOut>) =>
  p.sale_from !== undefined || saleEnds.has(p) || saleLags.get(p)?.at !== undefined;

/**
 * Remembers for the text the product that counts the stock of each of `products`, a variable
 * one's variations, when a sale ends, whether a variable or grouped one's children are on sale,
 * and the status of a variation's product not published (`parents`, by id), as the answer, once
 * cut by withinAnswer, shows it (`shown`, in the same order): the cut answer holds copies.
 */
function rememberForText(products: Product[], shown: object[], parents: Map<number, string>): void {
  shown.forEach((out, i) => {
    const of = products[i]?.variation_of;
    const parentStatus = of === undefined ? undefined : parents.get(of);
    if (of !== undefined && parentStatus !== undefined) unpublishedParent.set(out, { id: of, status: parentStatus });
    if (products[i]?.variation_of_unsaid) ofUnsaidProduct.add(out);
    else if (products[i]?.type === "variation" && of === undefined) ofNoProduct.add(out);
    const parent = products[i]?.counted_on ?? (products[i]?.counted_on_unsaid ? "unsaid" : undefined);
    if (parent !== undefined) countedOn.set(out, parent);
    const variations = products[i]?.variations;
    if (variations) variationsOf.set(out, variations);
    const ends = products[i]?.sale_to;
    if (ends) saleEnds.set(out, ends);
    const idle = products[i]?.idle_sale;
    if (idle) idleSales.set(out, idle);
    const lag = products[i]?.sale_lag;
    if (lag) saleLags.set(out, lag);
    if (products[i]?.children_on_sale) childrenOnSale.add(out);
  });
}

/**
 * Stock set on a product that was on backorder by its status alone, for the text only: counted now,
 * it takes no backorders, which structuredContent has no field to say.
 */
const backordersEnded = new WeakSet<object>();

/**
 * The variations of a variable product whose stock was set as a whole, for the text only: the count
 * is not theirs where they count their own, which the change's answer must say as the product's read does.
 */
const stockSharedBy = new WeakMap<object, number[]>();

/** Variations a product's line names by id: a page of products with hundreds each stays short. */
const VARIATIONS_SHOWN = 20;

function idsShown(ids: number[]): string {
  const more = ids.length > VARIATIONS_SHOWN ? ` and ${ids.length - VARIATIONS_SHOWN} more` : "";
  return `${ids.slice(0, VARIATIONS_SHOWN).join(", ")}${more}`;
}

function variationIds(ids: number[] | undefined): string {
  return ids?.length ? ` (variations ${idsShown(ids)})` : "";
}

/**
 * Which variations a variable product's stock counts: WC_Product_Variation counts its own where
 * it manages stock, its product's only where it does not.
 */
const SHARED = "for its variations that count none of their own";

/** A stock count as a model reads it: below 0, a product that takes backorders owes them. */
function stockCount(quantity: number): string {
  return quantity < 0 ? `${-quantity} on backorder, none in stock` : `${quantity} in stock`;
}

/**
 * A sale whose price WooCommerce's scheduled-sales job has not set yet: the price shown is the one
 * charged, the sale's own or the regular one, whatever the sale's dates say. A sale with no start
 * is priced as it is saved, and no job moves it: something else kept the price apart. A started
 * sale charged at the regular price reads the same as a pricing plugin's price filtered back to it
 * (woocommerce_product_get_price), which no job moves either: both are said.
 */
function saleLagged(
  lag: NonNullable<Product["sale_lag"]>,
  regular: string,
  ends: string | undefined,
  shopZone: ShopZone | undefined,
): string {
  if (lag.change === "ended") {
    return ` (its sale ended ${shopTime(lag.at, shopZone)}, but the shop charges this sale price until WooCommerce's scheduled-sales job sets the regular ${regular})`;
  }
  const until = ends ? `; the sale ends ${shopTime(ends, shopZone)}` : "";
  return lag.at
    ? ` (its sale at ${lag.sale_price} started ${shopTime(lag.at, shopZone)}, but the shop charges this price: WooCommerce's scheduled-sales job has not set the sale's, or a pricing plugin keeps this one${until})`
    : ` (its sale price ${lag.sale_price} is set, but the shop charges this price${until})`;
}

function productLine(p: z.output<typeof productOut>, currency: string | undefined, shopZone?: ShopZone): string {
  const variable = p.type === "variable";
  const parent = countedOn.get(p);
  // A variation that counts its own stock is not counted on its product, which names them all:
  // the ids are all its variations', not only those counted on it.
  const ids = variationsOf.get(p);
  const variations = variationIds(ids);
  const shared =
    variable && ids?.length ? `, for those of its variations (${idsShown(ids)}) that count none of their own` : "";
  const stock = p.manage_stock
    ? `${stockCount(p.stock_quantity ?? 0)}${parent === undefined ? shared : `, counted on ${parent === "unsaid" ? "its product" : `product ${parent}`} ${SHARED}`}`
    : variable
      ? `stock kept per variation${variations}`
      : "stock not counted";
  // A sale that ends is no price from then on.
  const ends = saleEnds.get(p);
  const until = ends ? ` until ${shopTime(ends, shopZone)}` : "";
  const idle = idleSales.get(p);
  const lag = saleLags.get(p);
  const sale = lag
    ? saleLagged(lag, p.regular_price, ends, shopZone)
    : p.sale_from
      ? ` (sale ${p.sale_price} from ${shopTime(p.sale_from, shopZone)}${until})`
      : p.sale_price
        ? ` (on sale${until}; regular ${p.regular_price})`
        : idle
          ? ` (its sale price ${idle.price} never applies: ${idle.why})`
          : childrenOnSale.has(p)
            ? ` (some of its ${variable ? "variations" : "products"} on sale)`
            : "";
  // A draft, or a variation found by its SKU, must not read as a product the shop sells as it is.
  // A variation is private where its "Enabled" box is unticked in the admin.
  const status = p.type === "variation" && p.status === "private" ? "private: disabled" : p.status;
  const unpublished = unpublishedParent.get(p);
  const type = unpublished
    ? `variation of product ${unpublished.id}, ${STATUS_WORDS[unpublished.status] ?? unpublished.status}: not for sale`
    : ofNoProduct.has(p)
      ? "variation of no product: not for sale"
      : ofUnsaidProduct.has(p)
        ? "variation of a product the shop's answer does not name"
        : p.type;
  const kind = [p.type !== "simple" && type, p.status !== "publish" && status].filter(Boolean);
  // A variable product's price is its cheapest variation's, a grouped one's its cheapest product's.
  // Without one (none set, or a variable product without variations) WooCommerce sells it to no one.
  const cheapest = variable || p.type === "grouped";
  const price =
    p.price === ""
      ? "no price, so it cannot be bought"
      : `${cheapest ? "from " : ""}${p.price}${currency ? ` ${currency}` : ""}`;
  return `${named(p)} (id ${[p.id, ...kind].join(", ")}): ${price}${sale}, ${p.stock_status}, ${stock}${underThreshold(p, false)}`;
}

/**
 * What a list by a stock status other than in stock leaves out: WooCommerce lists products, not
 * their variations (but by SKU), and a variable product whose stock is kept per variation is in
 * stock while any of its variations is. Said on the first page; the pages after it leave out no more.
 */
function variationsLeftOut(
  args: { sku?: string | undefined; stock_status?: string | undefined; cursor?: string | undefined },
  session: Serving,
) {
  if (!args.stock_status || args.stock_status === "instock" || args.sku || args.cursor) return undefined;
  const read = session.serves("eshop_product_get") ? ", by which eshop_product_get reads each" : "";
  return `A variation is not listed by its own stock status: its variable product is, which is in stock while any of its variations is (a variable product's line names its variations' ids${read}).`;
}

/**
 * Why a SKU the shop had may find nothing: WooCommerce lists products of any status but trash. Said
 * of every SKU that finds none, so worded not to claim the product is in the trash.
 */
const IN_TRASH = "a deleted product would be under Products → Trash in the shop's admin";
const NOT_IN_TRASH = `WooCommerce does not look in its trash by SKU: ${IN_TRASH}`;
/** WooCommerce lists products of any status but trash (WP_Query's "any"): a search finds no deleted one. */
const IN_NO_LIST = `WooCommerce lists no product in its trash: ${IN_TRASH}`;

/** What a list without products says: the filters that found none, and what to try. */
function noProducts(
  args: {
    search?: string | undefined;
    sku?: string | undefined;
    stock_status?: string | undefined;
  },
  session: Serving,
) {
  const filters = [
    args.search && `search ${quote(args.search)}`,
    args.sku && `SKU ${quote(args.sku)}`,
    args.stock_status && `stock status ${args.stock_status}`,
  ];
  return noneMatch("product", filters, [
    args.search &&
      `The search finds products with every word of it in their name or description (letter case and accents aside), not in their SKU: a whole SKU goes in \`sku\`${args.sku ? "." : `; ${IN_NO_LIST}.`}`,
    args.sku &&
      `\`sku\` finds a whole SKU (letter case and accents aside), not a part of one: search finds a product by words of its name; ${NOT_IN_TRASH}.`,
    variationsLeftOut(args, session),
  ]);
}

/**
 * What a quantity sent as text other than plain digits is told. One written as a change ("+10": ten
 * more came in) is not the count: read as 10, it would set the stock to 10.
 * Said as the arguments are checked, where what the session serves is not known: it names no tool.
 */
function quantityAsText(input: unknown): string | undefined {
  const given = typeof input === "string" ? input.trim() : "";
  return /^[+-]\s*\d+$/.test(given)
    ? `expected number, received string: ${quote(given)} is written as a change, and quantity is the count to set, not a change to it: read the count it has now and send that with the change made`
    : undefined;
}

/** Why an id and a SKU together, or neither, name no one product. */
function notOneProduct(args: { id?: number | undefined; sku?: string | undefined }): string | undefined {
  return (args.id === undefined) === (args.sku === undefined)
    ? "Give either `id` or `sku` of the product, not both and not neither."
    : undefined;
}

/**
 * How the shop enters the prices an answer shows, and the ids of those it taxes not, for the text
 * only: a field would lengthen the tools' schemas.
 */
const priceTaxOf = new WeakMap<object, { tax: "with" | "without" | "unknown"; untaxed: number[] }>();

/** The answers whose prices' currency the shop failed to give (a refusal is silent, as for tax), for the text only. */
const currencyUnknown = new WeakSet<object>();
const UNKNOWN = Symbol("unknown");

/** What a text says of its prices' currency where the shop failed to give it: a price is not to be quoted in a guessed one. */
function currencyLine(result: object, products: { price: string }[]): string[] {
  return currencyUnknown.has(result) && products.some((p) => p.price !== "")
    ? ["The prices' currency is not known: the shop's currency setting could not be read now."]
    : [];
}

/** What a text says of its prices' tax, where the shop taxes them and says how: a price quoted must say which it is. */
function taxLine(result: object, products: { id: number; price: string }[]): string[] {
  const known = priceTaxOf.get(result);
  const priced = products.filter((p) => p.price !== "");
  if (!known || priced.length === 0) return [];
  const untaxed = priced.filter((p) => known.untaxed.includes(p.id)).map((p) => p.id);
  if (untaxed.length === priced.length) return ["Not taxable: checkout adds no tax to these prices."];
  const entered =
    known.tax === "with"
      ? "Prices include tax, as the shop enters them."
      : known.tax === "without"
        ? "Prices are before tax, as the shop enters them: checkout adds the tax."
        : "Whether these prices include tax is not known: the shop's tax settings could not be read now.";
  if (untaxed.length === 0) return [entered];
  const notTaxable =
    untaxed.length === 1
      ? `Product ${untaxed[0]} is not taxable: checkout adds no tax to its price.`
      : `Products ${untaxed.join(", ")} are not taxable: checkout adds no tax to theirs.`;
  return [`${entered} ${notTaxable}`];
}

export function productTools(shop: ShopProvider): Tool[] {
  /**
   * The shop's currency, for prices that do not name it; none when the shop will not say (a key
   * whose user may read products and not the shop's settings) or cannot now: the products are
   * answered anyway.
   */
  const currencyOf = (call: Call) => shop.currency(call).catch(() => UNKNOWN);
  const currencyField = (currency: Awaited<ReturnType<typeof currencyOf>>) =>
    typeof currency === "string" && currency ? { currency } : {};
  /**
   * How the shop enters its prices: nothing where it will not say, "unknown" where it cannot now
   * (a price must not read as one whose tax is settled). The products are answered anyway.
   */
  const priceTax = (call: Call) => shop.priceTax(call).catch(() => "unknown" as const);
  const keepTax = (result: object, tax: Awaited<ReturnType<typeof priceTax>>, products: Product[]) => {
    const untaxed = products.filter((p) => p.untaxed).map((p) => p.id);
    if (tax === "with" || tax === "without" || tax === "unknown") priceTaxOf.set(result, { tax, untaxed });
  };
  /**
   * The stock this process set that the shop did not confirm, by product: the quantity sent, and the
   * product as it was before. The same quantity set again finds it counted so, maybe by that
   * request: answered as that change, from the stock it had before.
   */
  const unconfirmedStock = unconfirmedWrites<{ quantity: number; before: Product }>();

  /**
   * The status of each product a variation among `products` is of, by id, where it is not
   * published; one that cannot be read is left out, as the variation is answered all the same.
   */
  async function unpublishedParents(products: Product[], call: Call): Promise<Map<number, string>> {
    const ids = new Set(products.flatMap((p) => (p.variation_of === undefined ? [] : [p.variation_of])));
    const read = await Promise.all(
      [...ids].map((id) =>
        shop.productStatus(id, call).then(
          (status) => [id, status] as const,
          () => undefined,
        ),
      ),
    );
    return new Map(read.filter((entry) => entry !== undefined && entry[1] !== "publish") as [number, string][]);
  }

  async function find(args: { id?: number | undefined; sku?: string | undefined }, call: Call): Promise<Product> {
    if (args.id !== undefined) return shop.getProduct(args.id, call);
    const sku = args.sku as string;
    const found = await shop.findProductsBySku(sku, call);
    // The shop finds a SKU in another letter case or without its accents: the one written as given is meant.
    const exact = found.filter((p) => p.sku?.normalize("NFC") === sku.normalize("NFC"));
    const [product, ...others] = exact.length ? exact : found;
    if (!product) {
      throw new AdvisesTool(
        `The shop has no product with SKU "${sku}" (${NOT_IN_TRASH}).`,
        "eshop_products_list",
        "Search for it with eshop_products_list.",
        "Look it up in the shop's admin (Products).",
      );
    }
    if (others.length) {
      const which = [product, ...others].map((p) => `${named(p)} (id ${p.id})`).join(", ");
      throw new ToolError(
        `The SKU "${sku}" is ambiguous: the shop compares SKUs without regard to letter case or accents, and finds ${which}. Give the id of the one meant.`,
      );
    }
    return product;
  }

  const list = defineTool({
    name: "eshop_products_list",
    title: "List products",
    description: "Finds products in the shop by text, SKU or stock status, with price, currency and stock.",
    input: {
      search: z.string().trim().min(1).max(200).optional().describe("In the name or description."),
      sku: z.string().trim().min(1).max(100).optional().describe("The whole SKU."),
      stock_status: z.enum(STOCK_STATUSES).optional().describe("Only this status."),
      ...paging,
    },
    output: { products: z.array(productOut), currency: currencyOut, ...pagingOut },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async run(args, call) {
      const request = pageRequest("products", args);
      // Newest first by the shop's wall time (Product.listed), each page after the last product
      // listed (afterLastListed); a cursor of the older form pages by number, within the bound its
      // first page set, in UTC as it was set.
      const lastListed = lastListedBound(request);
      const [page, currency, shopZone, tax] = await Promise.all([
        shop.listProducts(
          {
            ...(args.search ? { search: args.search } : {}),
            ...(args.sku ? { sku: args.sku } : {}),
            ...(args.stock_status ? { stockStatus: args.stock_status } : {}),
            ...(lastListed ?? (request.pin !== undefined ? { createdBefore: boundBefore(request.pin) } : {})),
          },
          shopPage(request),
          call,
        ),
        currencyOf(call),
        shop.timeZone(call),
        priceTax(call),
      ]);
      // The shop's wall times, read as UTC: a bound sent back as such.
      const listedAt = (p: Product) => p.listed && `${p.listed}Z`;
      const result = withinAnswer({
        products: page.items.map((p) => productOut.parse(p)),
        ...currencyField(currency),
        ...newestFirstResult(page, request, listedAt),
      });
      if (request.pin !== undefined) pinnedPages.add(result);
      if (currency === UNKNOWN) currencyUnknown.add(result);
      rememberForText(page.items, result.products, await unpublishedParents(page.items, call));
      if (shopZone) zoneOf.set(result, shopZone);
      keepTax(result, tax, page.items);
      return result;
    },
    render(r, args, session) {
      if (r.products.length === 0) {
        return args.cursor ? noneAfterPageBefore("products") : noProducts(args, session);
      }
      const lines = r.products.map((p) => productLine(p, r.currency, zoneOf.get(r)));
      const zone = r.products.some(showsTime) ? [zoneLine(zoneOf.get(r), false)] : [];
      const leftOut = variationsLeftOut(args, session);
      return [
        ...lines,
        ...currencyLine(r, r.products),
        ...taxLine(r, r.products),
        ...zone,
        ...(leftOut ? [leftOut] : []),
        pageLine(r.products.length, r, "products", skipsByCount(r.next_cursor)),
        ...leftOutSince(r, "Products added"),
      ].join("\n");
    },
  });

  const get = defineTool({
    name: "eshop_product_get",
    title: "Read a product",
    description: "One product of the shop by id or SKU: prices, currency, stock quantity and status.",
    input: which,
    output: { ...productOut.shape, currency: currencyOut },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    refuses: notOneProduct,
    async run(args, call) {
      const [product, currency, shopZone, tax] = await Promise.all([
        find(args, call),
        currencyOf(call),
        shop.timeZone(call),
        priceTax(call),
      ]);
      const result = withinAnswer({ ...productOut.parse(product), ...currencyField(currency) });
      if (currency === UNKNOWN) currencyUnknown.add(result);
      rememberForText([product], [result], await unpublishedParents([product], call));
      if (shopZone) zoneOf.set(result, shopZone);
      keepTax(result, tax, [product]);
      return result;
    },
    render: (r) =>
      [
        productLine(r, r.currency, zoneOf.get(r)),
        ...currencyLine(r, [r]),
        ...taxLine(r, [r]),
        ...(showsTime(r) ? [zoneLine(zoneOf.get(r), false)] : []),
      ].join("\n"),
  });

  async function setStock(id: number, quantity: number, call: Call) {
    const before = await find({ id }, call);
    // Read by its id, a deleted product answers as any other; its SKU finds it no more.
    if (before.status === shop.trashStatus) {
      throw new ToolError(
        `${named(before)} (id ${before.id}) is in the shop's trash (deleted, not for good), which sells it to no one, so its stock is not set. If it should be sold again, restore it in the shop's admin first (Products → Trash → Restore) and set its stock then.`,
      );
    }
    // A variation is changed through its product: one left of none (a variable product deleted around it) has none to go through.
    if (before.variation_of_unsaid) {
      const [whose, where] = before.counted_on_unsaid
        ? [
            ` whose stock is counted on its product ${SHARED}`,
            "on that product's Inventory tab in the shop's admin (Products → its variable product → Inventory)",
          ]
        : [
            ", whose stock WooCommerce sets only through its product",
            "in the shop's admin (Products → its variable product → Variations)",
          ];
      throw new ToolError(
        `${named(before)} (id ${before.id}) is a product variation${whose}, and the shop's answer leaves out which product that is (its parent_id, which a plugin that trims the shop's REST answers drops), so its stock is not set. Set it ${where}, or ask whoever runs the shop to leave parent_id in the REST API's answers.`,
      );
    }
    if (before.type === "variation" && before.variation_of === undefined) {
      throw new ToolError(
        `${named(before)} (id ${before.id}) is a product variation of no product (the variable product it was of is gone), which the shop sells to no one and its admin lists under no product, so its stock is not set.`,
      );
    }
    // WooCommerce counts a variable product's stock on the product when it manages stock there, else per variation.
    if (before.type === "variable" && !before.manage_stock) {
      // Their ids, which no other answer shows: a variation's stock is set by its id.
      const variations = await shop.listVariations(before.id, call).then(
        ({ items: listed, total }) => {
          if (listed.length === 0) return "";
          const each = listed.map((v) => {
            const sku = v.sku ? ` [${oneLine(v.sku)}]` : "";
            const name = v.name ? ` (${oneLine(v.name)})` : "";
            return `${v.id}${name}${sku}, ${v.manage_stock ? stockCount(v.stock_quantity ?? 0) : "stock not counted"}`;
          });
          // The shop gives a hundred at most a page: the others are said, lest the one meant read as missing.
          // Counted by the product's own list of them where a proxy dropped X-WP-Total.
          const unlisted = (total ?? before.variations?.length ?? 0) - listed.length;
          const more = unlisted > 0 ? `; and ${unlisted} more, not listed here (give the one meant by its SKU)` : "";
          return `: ${each.join("; ")}${more}`;
        },
        (err: unknown) =>
          ` (its variations could not be listed: ${(err instanceof Error ? err.message : String(err)).replace(/\.$/, "")})`,
      );
      throw new ToolError(
        `${oneLine(before.name)} (id ${before.id}) is a variable product whose stock is kept per variation: set the stock of the variation meant, by its id${variations}. (To count one stock ${SHARED}, turn on "Manage stock?" on the product's Inventory tab, which shows it only while stock management is on for the whole shop, WooCommerce → Settings → Products → Inventory; then this tool sets it.)`,
      );
    }
    if (before.counted_on !== undefined) {
      throw new ToolError(
        `${oneLine(before.name)} (id ${before.id}) is a product variation whose stock is counted on its product (id ${before.counted_on}) ${SHARED}: set that product's stock.`,
      );
    }
    // WooCommerce counts stock for neither (its Inventory tab has no stock for them): the admin has none to set.
    if (before.type === "grouped") {
      throw new ToolError(
        `${oneLine(before.name)} (id ${before.id}) is a grouped product, which keeps no stock of its own: set the stock of each product in its group.`,
      );
    }
    if (before.type === "external") {
      throw new ToolError(
        `${oneLine(before.name)} (id ${before.id}) is an external product, sold on another site: the shop keeps no stock for it.`,
      );
    }
    if (!["simple", "variable", "variation"].includes(before.type)) {
      throw new ToolError(
        `${oneLine(before.name)} (id ${before.id}) is a ${before.type} product; waiter sets the stock of simple products, of variations, and of variable ones counted as a whole. Set it in the shop's admin.`,
      );
    }
    if (quantity < 0 && before.backorders_allowed === false) {
      // Most often a change sent as the count: "3 sold" as -3 would leave it at -3, and out of stock.
      const counted = before.manage_stock ? (before.stock_quantity ?? 0) : undefined;
      const now =
        counted === undefined
          ? before.stock_status === "onbackorder"
            ? "It is on backorder by its stock status alone, its stock not counted: counted, it takes none (WooCommerce keeps backorders off while it counts no stock) and is out of stock at 0, unless backorders are allowed on its Inventory tab in the shop's admin first."
            : "Its stock is not counted now."
          : `It has ${stockCount(counted)} now${counted + quantity >= 0 ? `; to take ${-quantity} off, send ${counted + quantity}` : ""}.`;
      throw new ToolError(
        `${named(before)} (id ${before.id}) takes no backorders, so its stock does not go below 0: quantity is the count to set, not a change to it. ${now}`,
      );
    }
    const sent = unconfirmedStock.take(before.id);
    const was =
      sent?.quantity === quantity && before.manage_stock && before.stock_quantity === quantity ? sent.before : before;
    const after = await unconfirmedStock.send(
      before.id,
      { quantity, before: was },
      shop.setStock(before, quantity, call),
    );
    // Asked to count it, a product counts no stock only where the shop counts none at all:
    // WooCommerce then ignores both fields and answers as if it had set them.
    if (!after.manage_stock) {
      throw new ToolError(
        `${named(before)} (id ${before.id}): the shop did not take the stock: it counts no product's stock, as stock management is off for the whole shop (WooCommerce → Settings → Products → Inventory, "Enable stock management"). Turn it on there, then set the stock.`,
      );
    }
    const result = withinAnswer({
      product: stockOut.parse(after),
      ...(was.manage_stock && was.stock_quantity !== undefined ? { previous_quantity: was.stock_quantity } : {}),
      started_counting: !was.manage_stock,
    });
    // WooCommerce keeps backorders off while it counts no stock: one on backorder by its status
    // alone takes none once counted, and is out of stock at 0.
    if (!was.manage_stock && was.stock_status === "onbackorder" && after.backorders_allowed !== true) {
      backordersEnded.add(result);
    }
    const variations = after.variations ?? before.variations;
    if (after.type === "variable" && variations?.length) stockSharedBy.set(result, variations);
    return result;
  }

  const stockSet = defineTool({
    name: "eshop_stock_set",
    title: "Set stock",
    description:
      "Sets (not adds to: read it first) a product's or variation's stock quantity, turning counting on; its " +
      "stock status follows.",
    input: {
      ...which,
      quantity: digits(
        z
          .number({ error: (issue) => quantityAsText(issue.input) })
          .int()
          .min(-1_000_000)
          .max(1_000_000_000)
          .describe("Below 0 only for backorders."),
      ),
    },
    output: {
      product: stockOut,
      previous_quantity: z.number().optional(),
      started_counting: z.boolean(),
    },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    refuses: notOneProduct,
    async run(args, call) {
      // Read inside the product's turn, so that "was" is what the write before this one left.
      const id = args.id !== undefined && args.sku === undefined ? args.id : (await find(args, call)).id;
      return oneAtATime(`product:${id}`, () => setStock(id, args.quantity, call));
    },
    render(r) {
      const ended = backordersEnded.has(r)
        ? ` It was on backorder by its stock status alone: counted, it takes no backorders (WooCommerce keeps them off while it counts no stock), so it is out of stock at 0${r.product.stock_status === "outofstock" ? ", as now" : ""}; to keep taking orders, allow backorders on its Inventory tab in the shop's admin.`
        : "";
      const was =
        r.previous_quantity === undefined
          ? r.started_counting
            ? " (stock was not counted before)"
            : ""
          : ` (was ${r.previous_quantity < 0 ? stockCount(r.previous_quantity) : r.previous_quantity})`;
      const variations = stockSharedBy.get(r);
      const shared = variations
        ? ` Of its variations (${idsShown(variations)}), those that count no stock of their own share this count; one that counts its own keeps it, set by the variation's id.`
        : "";
      return `${named(r.product)} (id ${r.product.id}): ${r.product.stock_quantity === undefined ? "? in stock" : stockCount(r.product.stock_quantity)}${was}, ${r.product.stock_status}${underThreshold(r.product, true)}.${shared}${ended}`;
    },
  });

  return [list, get, stockSet];
}
