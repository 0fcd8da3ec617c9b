import { z } from "zod";
import { oneLine, quote } from "../../src/shown.js";
import { defineTool, type Tool } from "../../src/toolset.js";
import type { ShopProvider } from "./provider.js";
import {
  customerOut,
  listEnded,
  pageLine,
  pageRequest,
  pageResult,
  paging,
  pagingOut,
  shopTime,
  withinAnswer,
  zoneLine,
  zoneOf,
} from "./shapes.js";

/** WooCommerce searches by the email alone when given one, and would drop `search` unsaid. */
function emailAndSearch(args: { search?: string | undefined; email?: string | undefined }): string | undefined {
  return args.search && args.email
    ? "Give email or search, not both: an email finds its one account, whatever search says."
    : undefined;
}

export function customerTools(shop: ShopProvider): Tool[] {
  return [
    defineTool({
      name: "eshop_customers_list",
      title: "List customers",
      description:
        "Finds accounts by name, email or text, with contact details; guest orders have none " +
        "(eshop_orders_list's search finds them).",
      input: {
        search: z.string().trim().min(1).max(200).optional().describe("In the name, username or email."),
        email: z
          .string()
          .trim()
          // Not z.email(): WordPress takes addresses it refuses ("jana&petr@…", "jana.@…"), and an account may have one.
          .refine(
            (email) => /^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]+$/.test(email),
            "is not an email address: a name or a part of one goes in search",
          )
          .optional()
          .describe("The whole address; not with search."),
        ...paging,
      },
      output: { customers: z.array(customerOut), ...pagingOut },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      refuses: emailAndSearch,
      async run(args, call) {
        const request = pageRequest("customers", args);
        const page = await shop.listCustomers(
          { ...(args.search ? { search: args.search } : {}), ...(args.email ? { email: args.email } : {}) },
          request,
          call,
        );
        const result = withinAnswer({ customers: page.items, ...pageResult(page, request) });
        const shopZone = await shop.timeZone(call);
        if (shopZone) zoneOf.set(result, shopZone);
        return result;
      },
      render(r, args, session) {
        const ended = r.customers.length === 0 && listEnded(r, args, "customers");
        if (ended) return ended;
        if (r.customers.length === 0) {
          const none = args.email
            ? `No customer account has the email ${quote(args.email)}.`
            : args.search
              ? `No customer account's username, email or display name contains ${quote(args.search)} (letter case and accents aside).`
              : "The shop has no customer accounts.";
          const orders = session.serves("eshop_orders_list")
            ? ": eshop_orders_list's search finds their orders by name, email or address"
            : "";
          return `${none} A buyer who checked out as a guest has none${orders}.`;
        }
        const lines = r.customers.map((c) => {
          const fullName = [c.first_name, c.last_name].filter(Boolean).join(" ");
          const name = fullName || c.username || "(no name)";
          // Every field structuredContent has: clients that show the model only the text have no other way to them.
          const details = [
            c.role && c.role !== "customer" && `role ${c.role}`,
            fullName && c.username && `username ${c.username}`,
            [c.city, c.country].filter(Boolean).join(", "),
            c.phone && `phone ${c.phone}`,
            `account since ${shopTime(c.created, zoneOf.get(r))}`,
            c.paying_customer && "has paid",
          ].filter(Boolean);
          // What a buyer typed, each on one line: it cannot pass for another customer's.
          return oneLine(`${name} <${c.email}> (id ${c.id}), ${details.join(", ")}`, Number.POSITIVE_INFINITY);
        });
        return [...lines, zoneLine(zoneOf.get(r), false), pageLine(r.customers.length, r, "customers")].join("\n");
      },
    }),
  ];
}
