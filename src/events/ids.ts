/** Event ids as tools take them, and what a model is told of an id that names no stored event. */

import { decodeTime, encodeTime } from "ulid";
import { enumerated, quote } from "../shown.js";
import { clock } from "../time.js";
import type { Serving } from "../toolset.js";
import type { DroppedPayment } from "./payments.js";
import { forgottenBefore, REUSED_LISTED } from "./rows.js";
import { droppedInAll, type EventStore } from "./store.js";

/** The URI of an event's resource, which serves its payload whole. */
export const eventUri = (id: string) => `events://event/${id}`;

/** A ULID in any letter case: ten characters of time (the first at most 7), sixteen of randomness. */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

/**
 * An event id as a model may type it: a ULID is Crockford's base32, which reads letters in any
 * case alike, so one in lower case is the stored id, in capitals; copied as `copied` reads it, or
 * as its resource's URI (events://event/<id>), it is that id too. Anything else (a cursor, a
 * sender's id) is left as it is.
 */
export function storedId(value: string): string {
  return eventIdIn(value) ?? value;
}

/** Whether a value reads as an event id (`storedId`), stored or not. */
export function isEventId(value: string): boolean {
  return eventIdIn(value) !== undefined;
}

/**
 * A cursor or an event id as copied from the sentence that gave it: without white space around it,
 * or the full stop after it ("Cursor for newer events: c4.").
 */
export function copied(value: string): string {
  return value.trim().replace(/\.$/, "");
}

/** Whether a value reads as a cursor of events_list or events_wait (c42), or a next_before (c20-40). */
export function isCursor(value: string): boolean {
  return /^c\d+(-\d+)?$/i.test(copied(value));
}

/** The event id `value` reads as, in capitals; undefined where it reads as none. */
function eventIdIn(value: string): string | undefined {
  const id = copied(value).replace(/^events:\/\/event\//, "");
  return ULID.test(id) ? id.toUpperCase() : undefined;
}

const DELIVERY_LOOKUPS = 5;

/**
 * How long after the oldest event kept an id must have been made to be no event retention dropped:
 * it drops by sequence number, which events take as they commit, a moment after their receipt
 * (and their id), in whichever of several processes received them.
 */
const DROP_ORDER_SLACK_MS = 60_000;

/**
 * An event retention dropped, or one `erased` by hand (that came after an event kept, or any on
 * record where retention has dropped none, `noneDropped`), or one of either (`orErased`: no event
 * kept came before it, and events were erased), and when.
 */
export interface DroppedEvent {
  id: string;
  droppedAt: string;
  erased?: true;
  noneDropped?: true;
  orErased?: true;
}

/**
 * What retention did with the events event ids `ids` name: when it dropped those it did (`dropped`),
 * the ids it dropped no event of (`never`), and those it may have dropped (`mayBe`), among every
 * event up to `through` (0 where it dropped none). Which events it dropped is remembered a year and
 * a day (`forgottenBefore`), and only from the oldest drop on record (`oldestDroppedId`: a waiter
 * that kept no record dropped events before it), or from the first where every drop counted is on
 * record: an id made within both, and not among them, names none it dropped; nor does one made
 * after the oldest event kept, as retention drops the oldest first (such an event was taken out by
 * hand, erased or lost to a backup restored over the store, or the id is mistyped).
 */
export async function retentionOf(
  store: EventStore,
  ids: string[],
): Promise<{ dropped: DroppedEvent[]; never: string[]; mayBe: string[]; through: number }> {
  const through = await store.droppedThrough();
  const droppedAt = new Map((await store.droppedEvents(ids.map(storedId))).map((row) => [row.id, row.droppedAt]));
  if (through === 0) {
    // Retention has dropped none: every event on record was erased by hand, the oldest kept too.
    const erased = ids.flatMap((id) => {
      const at = droppedAt.get(storedId(id));
      return at ? [{ id, droppedAt: at, erased: true as const, noneDropped: true as const }] : [];
    });
    return { dropped: erased, never: ids.filter((id) => !droppedAt.has(storedId(id))), mayBe: [], through };
  }
  const oldestKept = await store.firstAfter({}, through);
  // The erasing SQL of docs/webhooks.md records what it deletes as retention does; retention drops
  // the oldest first, so an event made after one kept was erased.
  const keptSince = oldestKept ? Date.parse(oldestKept.receivedAt) + DROP_ORDER_SLACK_MS : Number.POSITIVE_INFINITY;
  // Retention counts each event it drops: deliveries remembered past that count are of events erased
  // by hand, and one erased while it was the oldest kept reads on record as one retention dropped,
  // unless those of events made after one kept, erased for sure, account for them all.
  const erasures =
    [...droppedAt.keys()].some((id) => decodeTime(id) <= keptSince) &&
    (await store.droppedRemembered()) - droppedInAll(await store.stats()) >
      (Number.isFinite(keptSince) ? await store.droppedRemembered(`${encodeTime(keptSince, 10)}${"Z".repeat(16)}`) : 0);
  const droppedAs = (id: string): DroppedEvent | undefined => {
    const at = droppedAt.get(storedId(id));
    if (!at) return undefined;
    if (decodeTime(storedId(id)) > keptSince) return { id, droppedAt: at, erased: true };
    return { id, droppedAt: at, ...(erasures ? { orErased: true } : {}) };
  };
  const oldestRecorded = await store.oldestDroppedId();
  const recordedSince = oldestRecorded
    ? Math.max(forgottenBefore(clock.now()), decodeTime(oldestRecorded))
    : Number.POSITIVE_INFINITY;
  let droppedNoneAfter = Math.min(
    recordedSince,
    oldestKept ? Date.parse(oldestKept.receivedAt) : Number.POSITIVE_INFINITY,
  );
  const unsure = (id: string) =>
    !droppedAt.has(storedId(id)) && decodeTime(storedId(id)) <= droppedNoneAfter + DROP_ORDER_SLACK_MS;
  // Every drop counted still on record (a store that kept records from its first drop, none yet
  // forgotten) names each event retention dropped: an id older than its first event is none of them.
  if (ids.some(unsure) && (await everyDropRemembered(store))) droppedNoneAfter = Number.NEGATIVE_INFINITY;
  const dropped: DroppedEvent[] = [];
  const never: string[] = [];
  const mayBe: string[] = [];
  for (const id of ids) {
    const event = droppedAs(id);
    if (event) dropped.push(event);
    else if (unsure(id)) mayBe.push(id);
    else never.push(id);
  }
  return { dropped, never, mayBe, through };
}

/**
 * Whether the events erased by hand that event ids `ids` name were received before every event kept,
 * as one erased where retention has dropped none may have been: no event kept is there to read on from.
 */
export async function erasedBeforeAllKept(store: EventStore, ids: string[]): Promise<boolean> {
  const oldestKept = await store.firstAfter({}, 0);
  return !oldestKept || ids.every((id) => decodeTime(storedId(id)) < Date.parse(oldestKept.receivedAt));
}

/** Whether every drop the store counts is remembered: none was made unrecorded, none forgotten. */
async function everyDropRemembered(store: EventStore): Promise<boolean> {
  const counted = droppedInAll(await store.stats());
  return counted > 0 && counted === (await store.droppedRemembered());
}

/**
 * That retention dropped the events `dropped` (`retentionOf`), or they were erased by hand, and
 * when: as "it" where it is the one id given (`one`), else by their ids.
 */
export function droppedEventsSaid(dropped: DroppedEvent[], one: boolean): string {
  const which = (events: DroppedEvent[]) =>
    one
      ? `it on ${events[0]?.droppedAt}`
      : fewOf(
          events.map((event) => `${quote(event.id)} on ${event.droppedAt}`),
          "and",
        );
  const byRetention = dropped.filter((event) => !event.erased && !event.orErased);
  const eitherWay = dropped.filter((event) => event.orErased);
  const erased = dropped.filter((event) => event.erased);
  return [
    byRetention.length > 0
      ? `Retention dropped ${which(byRetention)}: gone from waiter, ${payloads(byRetention)} too.`
      : "",
    eitherWay.length > 0
      ? `${one ? `Retention dropped it, or it was erased from the store by hand, on ${eitherWay[0]?.droppedAt}` : `Dropped by retention or erased from the store by hand: ${which(eitherWay)}`}: gone from waiter, ${payloads(eitherWay)} too.`
      : "",
    erased.length > 0
      ? `${one ? `It was erased from the store by hand on ${erased[0]?.droppedAt}` : `Erased from the store by hand: ${which(erased)}`}, as ${erased.every((event) => event.noneDropped) ? "retention has dropped no event" : `events older than ${one ? "it" : "those"} are kept`}: gone from waiter, ${payloads(erased)} too.`
      : "",
  ]
    .filter(Boolean)
    .join(" ");
}

/**
 * Why an event id names no stored event where retention has dropped none: an event taken out by
 * hand (the erasing SQL of docs/webhooks.md, or a restore of a backup taken before it arrived) was
 * stored all the same, so "never stored" would send an agent to doubt the id it was given.
 */
export const NOT_DROPPED =
  "mistyped, or its event was taken out of the store by hand (erased, or lost when an older backup was restored)";

/** The form of a Shopify webhook id (a UUID). */
const UUID = /^[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}$/i;

/**
 * Why a sender's id may name no stored event though its delivery arrived: only the delivery an event
 * was stored from is found by its id (a second Shopify subscription's delivery of a stored event is
 * its repeat, with a webhook id of its own). Said after ids of that form alone, as an answer about
 * any other stays short.
 */
export function idNotKept(ids: string[]): string {
  return ids.some((id) => UUID.test(id))
    ? "; the id of a delivery refused, or of a repeat (another Shopify subscription's), is kept nowhere"
    : "";
}

/** The form of the event_id of a Slack Events API delivery (Ev0123ABCDEF). */
const SLACK_EVENT_ID = /^Ev[0-9A-Z]+$/;

/** Whether a value reads as the bare event_id Slack shows, which names no event waiter stored. */
export function isSlackEventId(value: string): boolean {
  return SLACK_EVENT_ID.test(copied(value));
}

/**
 * Where waiter keeps a Slack event: under its delivery's api_app_id and event_id, as apps that
 * share a URL are each posted one event under one event_id.
 */
export const SLACK_KEPT =
  "waiter keeps a Slack event under its api_app_id, a colon and its event_id, both in its payload (like A0123ABCDEF:Ev0123ABCDEF)";

/**
 * Why ids name no stored event, so that a model calls again with the right one: a sender's delivery
 * id (Stripe's evt_…, which is its payload's id too) names the event waiter stored it as (or did,
 * before retention dropped it, with `gone`), and a Comgate or GoPay payment's id (its payload's,
 * its delivery id without the state) the events of that payment; an event id, whether retention
 * may have dropped it, and then `gone` (what went with it, that a model must not read its absence
 * as never having been); a blank id or any other is told what waiter's look like.
 */
export async function notStored(store: EventStore, given: string[], session: Serving, gone = ""): Promise<string> {
  const listed = session.serves("events_list");
  const said: string[] = [];
  // A cursor names a place among events, never one: no look-up tells more.
  const cursors = given.filter(isCursor);
  if (cursors.length > 0) {
    const one = cursors.length === 1;
    said.push(
      `${enumerated(cursors.slice(0, DELIVERY_LOOKUPS).map(quote), "and")}${cursors.length > DELIVERY_LOOKUPS ? " and more" : ""} ${one ? "is a cursor, not an event id" : "are cursors, not event ids"}${listed ? ": events_list gives each event's id" : ""}.`,
    );
  }
  const blank = given.some((id) => copied(id) === "");
  const ids = given.filter((id) => !isCursor(id) && copied(id) !== "");
  const eventIds = ids.slice(DELIVERY_LOOKUPS).filter(isEventId);
  const slackIds = ids.slice(DELIVERY_LOOKUPS).filter(isSlackEventId);
  let others = ids.slice(DELIVERY_LOOKUPS).some((id) => !isEventId(id) && !isSlackEventId(id));
  // Three look-ups at most each: an acknowledgement of a hundred wrong ids makes a handful, not a hundred.
  for (const id of ids.slice(0, DELIVERY_LOOKUPS)) {
    const known = await deliveryNamed(store, id, gone);
    if (known) said.push(known);
    else if (isEventId(id)) eventIds.push(id);
    else if (isSlackEventId(id)) slackIds.push(id);
    else others = true;
  }
  if (slackIds.length > 0) {
    const one = slackIds.length === 1;
    said.push(
      `${fewOf(slackIds.map(quote), "and")} ${one ? "reads as a Slack event_id" : "read as Slack event_ids"}: ${SLACK_KEPT}; pass ${one ? "that" : "those"} instead.`,
    );
  }
  if (eventIds.length > 0) {
    const { dropped, never, mayBe, through } = await retentionOf(store, eventIds);
    // "It" where it is the one id given; among others, each is named.
    const one = given.length === 1;
    const kept = listed ? "events_list lists the events kept." : "";
    const stored = listed ? ": events_list gives the ids of those stored" : "";
    if (dropped.length > 0) said.push(droppedEventsSaid(dropped, one));
    if (mayBe.length > 0) {
      const they = one
        ? "it may be one of them"
        : `${fewOf(mayBe.map(quote), "and")} may be ${mayBe.length === 1 ? "one of" : "among"} them`;
      said.push(
        `Retention has dropped every event up to c${through}, and ${they}: gone from waiter, ${payloads(mayBe)} too.`,
      );
    }
    if (dropped.length + mayBe.length > 0) said.push(...[kept, gone].filter(Boolean));
    if (never.length > 0) {
      const which =
        through === 0
          ? "here"
          : one
            ? "with this id"
            : `with ${never.length === 1 ? "id" : "ids"} ${fewOf(never.map(quote), "or")}`;
      said.push(
        `Retention has dropped no event ${which}, so ${never.length === 1 ? "the id is" : "each id is"} ${NOT_DROPPED}${stored}.`,
      );
    }
  }
  const form = idForm(listed);
  if (others) said.push(`${form}; retention drops old ones${idNotKept(ids)}.`);
  if (blank)
    said.push(others ? "An id is blank." : given.length === 1 ? `${blankId(listed)}.` : `An id is blank: ${form}.`);
  return said.join(" ");
}

/** What a blank id is told: the form of waiter's event ids, and where the session is given them (`listed`). */
export function blankId(listed: boolean): string {
  return `The id is blank: ${idForm(listed)}`;
}

/** The form of waiter's event ids, and where the session is given them (`listed`: it serves events_list). */
export function idForm(listed: boolean): string {
  return `waiter's event ids are ULIDs like 01JD3Q6Z8W5M9R2T4V7X0Y1A2B${listed ? ", as events_list gives them" : ""}`;
}

/** Why the one id a model gave names no stored event, after that none is, unless the id is blank (`notStored`). */
export async function noEventStored(store: EventStore, id: string, session: Serving, gone = ""): Promise<string> {
  return noEventAs(id, await notStored(store, [id], session, gone));
}

/** That the one id a model gave names no stored event, unless the id is blank, and then `why`. */
export function noEventAs(id: string, why: string): string {
  return `${copied(id) ? `No event ${quote(id)} is stored. ` : ""}${why}`;
}

/**
 * The events a sender's delivery id names: those stored (a payment's too), and those retention
 * dropped (`droppedDeliverySaid`, with `gone`), as one source's may be while another's is kept, in one
 * sentence; undefined for none.
 */
export async function deliveryNamed(store: EventStore, id: string, gone = ""): Promise<string | undefined> {
  const stored = await storedUnder(store, id);
  const dropped = await droppedUnder(store, id);
  if (!stored) return droppedDeliverySaid(id, dropped, gone);
  if (!dropped) return `${quote(id)} is ${underNamed(stored)}: pass waiter's event id instead.`;
  const also = dropped.as === stored.as ? `of ${eventsOf(dropped)}` : underNamed(dropped);
  const kept = stored.events.length === 1 ? "the kept event's id" : "a kept event's id";
  return `${quote(id)} is ${underNamed(stored)}, and ${also}, which ${goneHow(dropped)} with ${payloads(dropped.events)}: pass ${kept} instead.${gone && ` ${gone}`}`;
}

/**
 * The events retention dropped that a sender's delivery id `id` named, or a Comgate or GoPay
 * payment's id (`dropped`, as `droppedUnder` found them), while the delivery is remembered: the
 * delivery arrived, which a model must not take for one never sent. Undefined for none.
 */
export function droppedDeliverySaid(id: string, dropped: Under | undefined, gone = ""): string | undefined {
  if (!dropped) return undefined;
  return `${quote(id)} is ${underNamed(dropped)}, which ${goneHow(dropped)}: gone from waiter, ${payloads(dropped.events)} too.${gone && ` ${gone}`}`;
}

/** `words` as a sentence lists them, the first DELIVERY_LOOKUPS of more said, and how many more. */
function fewOf(words: string[], last: "and" | "or"): string {
  if (words.length <= DELIVERY_LOOKUPS) return enumerated(words, last);
  return `${words.slice(0, DELIVERY_LOOKUPS).join(", ")} ${last} ${words.length - DELIVERY_LOOKUPS} more`;
}

/** The payloads of `events`, as an answer says they went with them. */
function payloads(events: unknown[]): string {
  return events.length === 1 ? "its payload" : "their payloads";
}

/**
 * Events an id names though it is none of their ids: as a sender's delivery id (`more`: it names more
 * than REUSED_LISTED of deliveries its sender put it on with other bodies, kept or dropped as those
 * named are), or as a payment's.
 */
export type Under = (
  | { as: "delivery"; events: { id: string; source: string }[]; more?: "kept" | "dropped" }
  | { as: "payment"; events: DroppedPayment[] }
) & { erased?: true; erasedOf?: string[]; orErased?: true };

/**
 * The events retention dropped (or a person erased, `erased`; some of them, `erasedOf`; either, the rest, `orErased`) that `id` named though it was none of
 * their ids: as a sender's delivery id, else as a Comgate or GoPay payment's id (GoPay's, ten
 * digits, reads as a Unix time too) of a source not configured with another scheme
 * (`droppedPayment`); undefined if neither.
 */
export async function droppedUnder(store: EventStore, id: string): Promise<Under | undefined> {
  // Those its sender put it on with other bodies too, each stored as an event of its own.
  const reused = await store.droppedReusedAs(id);
  const remembered = (await store.droppedAs(id)).map(({ id, source }) => ({ id, source }));
  const delivered = [...remembered, ...reused.slice(0, REUSED_LISTED)];
  const payments = delivered.length > 0 ? [] : await store.droppedPayment(id);
  const under: Under | undefined =
    delivered.length > 0
      ? { as: "delivery", events: delivered, ...moreThan(reused, "dropped") }
      : payments.length > 0
        ? { as: "payment", events: payments }
        : undefined;
  if (!under) return undefined;
  // Told as their event ids are (`retentionOf`): erased by hand, where every one of them was.
  const { dropped } = await retentionOf(
    store,
    under.events.map((event) => event.id),
  );
  const erased = dropped.filter((event) => event.erased).map((event) => event.id);
  const either = dropped.some((event) => event.orErased) ? { orErased: true as const } : {};
  if (erased.length === 0) return { ...under, ...either };
  return erased.length === under.events.length ? { ...under, erased: true } : { ...under, erasedOf: erased, ...either };
}

/** How the events `under` names went: "retention has dropped", or erased by hand, or some of each. */
export function goneHow(under: Under): string {
  const dropped = under.orErased
    ? "retention has dropped, or someone erased from the store by hand"
    : "retention has dropped";
  if (under.erasedOf)
    return `${dropped}, but for ${under.erasedOf.length === 1 ? "event" : "events"} ${fewOf(under.erasedOf, "and")}, erased from the store by hand`;
  if (!under.erased) return dropped;
  return `${under.events.length === 1 ? "was" : "were"} erased from the store by hand`;
}

/**
 * The stored events `id` names though it is none of their ids: as a sender's delivery id (Stripe's
 * evt_…), else as a Comgate or GoPay payment's id; undefined if neither.
 */
export async function storedUnder(store: EventStore, id: string): Promise<Under | undefined> {
  // Those its sender put it on with other bodies too, each stored as an event of its own.
  const reused = await store.reusedAs(id);
  const delivered = [...(await store.deliveredAs(id)), ...reused.slice(0, REUSED_LISTED)];
  if (delivered.length > 0) return { as: "delivery", events: delivered, ...moreThan(reused, "kept") };
  const payments = await store.paymentEvents(id);
  return payments.length > 0 ? { as: "payment", events: payments } : undefined;
}

/** Whether the events a store's look-up of a reused delivery id read are more than it lists (REUSED_LISTED). */
function moreThan(reused: unknown[], as: "kept" | "dropped"): { more?: "kept" | "dropped" } {
  return reused.length > REUSED_LISTED ? { more: as } : {};
}

/**
 * What an answer says after the events it names of a delivery id that names more (`Under`'s `more`):
 * where to list those kept; of those retention dropped, what the answer says of them all follows.
 */
export function moreNamed(under: Under): string {
  if (under.as !== "delivery" || !under.more) return "";
  const more = ", and more its sender put it on with other bodies";
  return under.more === "kept" ? `${more}, which events_list lists with their source` : more;
}

/** Events a sender's delivery id named, as an answer names them. */
function eventsNamed(events: { id: string; source: string }[]): string {
  return events.map((event) => `event ${event.id} (source ${quote(event.source)})`).join(" and ");
}

/** What `id` is to the events it names (`storedUnder`, `droppedUnder`), as an answer says it. */
function underNamed(under: Under): string {
  return `${idAs(under)} of ${eventsOf(under)}`;
}

/**
 * What an id is to the events it names though it is none of their ids (`storedUnder`, `droppedUnder`):
 * a payment's whose source is not configured is told as what its form reads as, as the scheme that
 * would say it is went with the source.
 */
export function idAs(under: Under): string {
  if (under.as === "delivery") return "the sender's delivery id";
  return under.events.some((event) => event.unconfigured) ? "by its form the payment" : "the payment";
}

/** The events `id` names, as an answer lists them: a payment's each with its delivery id. */
function eventsOf(under: Under): string {
  return under.as === "delivery" ? `${eventsNamed(under.events)}${moreNamed(under)}` : paymentNamed(under.events);
}

/** A payment's events, as an answer names them, each with its delivery id, and whether its source is not configured. */
function paymentNamed(events: DroppedPayment[]): string {
  return events
    .map(
      (event) =>
        `event ${event.id} (source ${quote(event.source)}${event.unconfigured ? ", not configured here" : ""}, delivery ${quote(event.dedupeId)})`,
    )
    .join(" and ");
}
