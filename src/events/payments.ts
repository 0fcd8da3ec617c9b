/**
 * The states GoPay's and Comgate's documentation give a payment, by the scheme that stores it: the
 * second half of the delivery ids waiter stores their notifications under (3000006542:PAID), and,
 * in lowercase after payment., their events' types. GoPay spells CANCELED, Comgate CANCELLED, and
 * Comgate notifies no refund.
 */
export const PAYMENT_STATES: Readonly<Record<string, { gateway: string; states: readonly string[] }>> = {
  comgate: { gateway: "Comgate", states: ["PENDING", "AUTHORIZED", "PAID", "CANCELLED"] },
  gopay: {
    gateway: "GoPay",
    states: [
      "CREATED",
      "PAYMENT_METHOD_CHOSEN",
      "PAID",
      "AUTHORIZED",
      "CANCELED",
      "TIMEOUTED",
      "REFUNDED",
      "PARTIALLY_REFUNDED",
    ],
  },
};
