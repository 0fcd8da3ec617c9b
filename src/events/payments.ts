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

/** The configured webhook sources, each by its name and scheme. */
export type SourceSchemes = readonly { name: string; scheme: string }[];

/**
 * The configured sources of a scheme other than a payment's: a dropped delivery keeps no scheme, and
 * another sender's delivery id may read as a payment's state (3000006542:PAID) too. A source no
 * longer configured is none of them: its scheme went with it, and a Comgate or GoPay one may be it.
 */
export function otherSchemeSources(sources: SourceSchemes): string[] {
  return sources.filter((source) => !Object.hasOwn(PAYMENT_STATES, source.scheme)).map((source) => source.name);
}

/** A payment's event retention dropped (`droppedPayment`); `unconfigured`: its source is not configured, nor so its scheme known. */
export interface DroppedPayment {
  id: string;
  source: string;
  dedupeId: string;
  unconfigured?: true;
}

/**
 * A payment's dropped events, those of a source not among the configured `sources` marked
 * unconfigured (those of another scheme name no payment: `otherSchemeSources`); none is where the
 * sources are not given.
 */
export function markUnconfigured(
  events: { id: string; source: string; dedupeId: string }[],
  sources: SourceSchemes | undefined,
): DroppedPayment[] {
  if (!sources) return events;
  return events.map((event) =>
    sources.some((source) => source.name === event.source) ? event : { ...event, unconfigured: true },
  );
}

/** How many of a payment's events are listed, the oldest. */
export const PAYMENT_EVENTS_LISTED = 10;

/**
 * The delivery ids of a payment's events, after its id: each of its gateway's PAYMENT_STATES, and those of a GoPay payment
 * refunded in part, one for each refund from the second on, numbered (3000006542:PARTIALLY_REFUNDED:2),
 * as many as are listed.
 */
const PAYMENT_DELIVERIES = [
  ...new Set(Object.values(PAYMENT_STATES).flatMap((gateway) => gateway.states)),
  ...Array.from({ length: PAYMENT_EVENTS_LISTED }, (_, i) => `PARTIALLY_REFUNDED:${i + 2}`),
];

/** The delivery ids the events of the payment `paymentId` are stored under (3000006542:PAID). */
export function paymentDeliveries(paymentId: string): string[] {
  return PAYMENT_DELIVERIES.map((delivery) => `${paymentId}:${delivery}`);
}
