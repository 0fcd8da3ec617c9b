import { z } from "zod";
import { ToolError } from "../errors.js";
import { noEventStored, storedId } from "../events/ids.js";
import { type EventStore, noticeStatus, type RunLog, type RunRecord, type StoredEvent } from "../events/store.js";
import { decimal, givenName, noneConfigured, word } from "../settings.js";
import {
  capitalized,
  cut,
  enumerated,
  firstBytes,
  noSuchName,
  oneLine,
  quote,
  sentence,
  withEscapes,
} from "../shown.js";
import { clock } from "../time.js";
import { defineTool, defineToolset, type Toolset } from "../toolset.js";
import { type Automation, testOf, toolOf, written } from "./rules.js";

const READS = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const STATUSES = ["running", "done", "failed"] as const;
const MAX_RUNS = 50;
/**
 * The runs an answer shows stop here, in bytes of their structured content as JSON carries it, the
 * text being shorter: some clients refuse a result over 25k tokens, and twenty steps a run, told by
 * their arguments, make fifty runs several times that; a step's answer in Japanese takes three
 * bytes a character. The newest run is shown however long it is.
 */
const MAX_RUNS_BYTES = 40_000;
/**
 * A step's outcome stops here, in bytes as JSON carries it, so that the twenty steps of the newest
 * run fit MAX_RUNS_BYTES: each told by the 4,000 characters its run keeps of an answer, they would
 * be 80,000 characters, and three times as many bytes in Japanese.
 */
const MAX_OUTCOME_BYTES = 1_800;

/** A step's outcome as an answer shows it: a long one cut, saying where and how long it was. */
function bounded(outcome: string): string {
  const shown = firstBytes(outcome, MAX_OUTCOME_BYTES, true);
  return shown.length < outcome.length
    ? `${shown}…\n(Cut here at ${shown.length} of its ${outcome.length} characters.)`
    : outcome;
}

/**
 * What a step did, or would do, and the insertions of its templates that found nothing (`nothing`):
 * after it, as a gap in its text, or before an answer so long that the outcome is cut in it.
 */
function withNothing(done: string, nothing: string): string {
  const after = `${sentence(done)} ${nothing}`;
  return Buffer.byteLength(after) <= MAX_OUTCOME_BYTES ? after : `${nothing} ${done}`;
}

/**
 * Why the automations of `event`'s source (or the one `asked` about) that have no run on it
 * (`ran` names those that have) did not run, each in a sentence: which does not take it and why,
 * as the engine decides, and which takes it and has not run on it, whether it will (the
 * automations have not reached the event: the waiter running them, or the next to start when none
 * does) or not (they passed it, and it was configured only after, or in no waiter that ran them):
 * undefined when every one ran. `running` names those whose run on it is running: the automations
 * on an event run one after the other, in the order configured, so one after such a run has its
 * turn when that run is done or waits.
 */
export async function whyNoRun(
  automations: readonly Automation[],
  runLog: Pick<RunLog, "cursor" | "leaseUntil" | "seenFrom">,
  event: StoredEvent,
  ran: ReadonlySet<string>,
  asked?: string,
  running: ReadonlySet<string> = new Set(),
): Promise<string | undefined> {
  // The engine, with its template and path packages, loads when first needed, not at every start.
  const { viewOf, whyNotTaken } = await import("./view.js");
  const other = automations.find((a) => a.name === asked && a.when.source !== event.source);
  if (other) return `${other.name} is on the source ${other.when.source}; this event came from ${event.source}.`;
  const ofSource = automations.filter((a) => a.when.source === event.source);
  if (ofSource.length === 0) return `No automation is on the source ${event.source}, which sent this event.`;
  const mine = ofSource.filter((a) => !ran.has(a.name) && (asked === undefined || a.name === asked));
  if (mine.length === 0) return undefined;
  let parsed: ReturnType<typeof viewOf> | undefined;
  const view = () => (parsed ??= viewOf(event));
  // The last event the automations looked at: they take events in the order stored, and an
  // automation acts only on those stored after they first ran with it. Before any process that
  // runs automations has started on the store, none is set, and the first to start leaves every
  // event stored before it as history.
  let handled: Promise<number | undefined> | undefined;
  const cursor = () => (handled ??= runLog.cursor());
  // Whether a waiter runs the automations on this store now: its lease has not run out.
  let leased: Promise<boolean> | undefined;
  const held = () => (leased ??= runLog.leaseUntil().then((until) => until !== undefined && until > clock.now()));
  const said = await Promise.all(
    mine.map(async (automation) => {
      let why: string | undefined;
      try {
        why = whyNotTaken(automation, event, view);
      } catch (err) {
        why = err instanceof Error ? err.message : String(err);
      }
      if (why) return `${automation.name} does not take it: ${why}.`;
      const before = automations.slice(0, automations.indexOf(automation)).find((a) => running.has(a.name));
      if (before)
        return `${automation.name} takes it and has not run on it yet: the automations on an event run one after the other, and ${before.name}'s run on it, which comes before, is running.`;
      const through = await cursor();
      if (through === undefined)
        return `${automation.name} takes it but will not run on it: no waiter serve or waiter listen has run automations on this store yet, and the first to do so leaves the events stored before it started; what the automation does is left to be done by hand.`;
      // Each waiter sets where its automations start as it begins them, before it takes any event:
      // one never started was in no configuration of a waiter that ran them (a replica's or an
      // assistant's has it). Until they pass the event, the waiter that just took the lease may have it.
      if (event.seq <= through)
        return (await runLog.seenFrom(automation.name)) === undefined
          ? `${automation.name} takes it but will not run on it: the automations passed it, and no waiter that ran them on this store was configured with ${automation.name}; give every waiter on it the same automations. What the automation does is left to be done by hand.`
          : `${automation.name} takes it but will not run on it: the automations had passed the event before ${automation.name} was configured to take it, and do not go back to it; what the automation does is left to be done by hand.`;
      // Whether a waiter runs them, which an operator is to start, or they are behind, which is waited for.
      return (await held())
        ? `${automation.name} takes it and has not run on it yet: the automations take events in the order stored, and the waiter that runs them now has not reached this one.`
        : `${automation.name} takes it and has not run on it yet: no waiter serve or waiter listen runs the automations on this store now, and the next to start with ${automation.name} configured runs it on this event.`;
    }),
  );
  return said.join(" ");
}

/**
 * A text of several lines (a notify step that reached only some targets) with its lines after the
 * first indented by `depth`, so that they read as part of their run or step, not as lines of their own.
 */
function under(text: string, depth: number): string {
  return text.replaceAll("\n", `\n${" ".repeat(depth)}`);
}

/**
 * The steps a failed run did not run, as its automation is configured now, for a model to finish
 * by hand what the run left (its onFailure message names them too): none when the steps it
 * recorded are not those at their places now (its automation edited since, or gone), as what it
 * would have gone on with is then not known.
 */
function stepsNotRun(automations: readonly Automation[], run: RunRecord) {
  const automation = run.status === "failed" ? automations.find((a) => a.name === run.automation) : undefined;
  if (!automation) return [];
  const same = run.steps.every((recorded, i) => {
    const step = automation.do[i];
    return step !== undefined && toolOf(step) === (JSON.parse(recorded.detail) as { tool: string }).tool;
  });
  if (!same) return [];
  return automation.do.slice(run.steps.length).map((step) => {
    const args = written(step);
    const json = Object.keys(args).length > 0 ? withEscapes(JSON.stringify(args)) : undefined;
    return {
      status: run.dryRun ? "not checked" : "not run",
      tool: toolOf(step),
      ...(json ? { outcome: `as configured ${cut(json, 300)}` } : {}),
    };
  });
}

/** What automations_runs names a failed run's onFailure message by, after its steps. */
const ON_FAILURE = "onFailure";

/**
 * What became of a failed run's onFailure message, after its steps, so that whoever reads the run
 * knows whether the team was told: told (to whom), not told and why, not tried and why, or under
 * way when waiter stopped; while it is owed, waiting for its try or being told. None for a run that
 * had no message to tell (its automation has no onFailure, or runs from before waiter kept this).
 */
function onFailureOf(automations: readonly Automation[], run: RunRecord) {
  const status = noticeStatus(run);
  if (status === undefined) return [];
  if (run.noticeOutcome) return [{ status, tool: ON_FAILURE, outcome: sentence(capitalized(run.noticeOutcome.said)) }];
  const channel = automations.find((a) => a.name === run.automation)?.onFailure?.notify ?? run.onFailure;
  const on = channel ? ` on ${channel}` : "";
  const outcome =
    status === "started"
      ? `Being told${on}; if waiter stopped meanwhile, it may or may not have reached it, and is not told again.`
      : `Not told${on} yet: its first try, or its next after the channel refused it for now, is to come.`;
  return [{ status, tool: ON_FAILURE, outcome }];
}

/**
 * An automation's conditions as its line in automations_list says them, each with its test as the
 * config names it (`to_number(payload.total) gte 500`): a model asked why it did not run on an event
 * compares them with the payload.
 */
function conditionsOf(automation: Automation | undefined): string {
  if (!automation) return "";
  const said = automation.when.where.map((condition) => {
    const { test, value } = testOf(condition);
    const shown =
      test === "present"
        ? value
          ? "present"
          : "not present"
        : `${test} ${cut(withEscapes(JSON.stringify(value)), 100)}`;
    return `${oneLine(condition.path, 200)} ${shown}`;
  });
  return said.length > 0 ? ` where ${said.join(" and ")}` : "";
}

/**
 * The dry runs shown of automations that run for real now: those do not go back to the events
 * their dry runs took, so what those runs would have done is left to a person, which a model
 * asked whether an order was paid must not take for a real run to come; undefined when none.
 */
function leftByDryRuns(
  automations: readonly Automation[],
  runs: readonly { id: number; automation: string; dry_run: boolean }[],
): string | undefined {
  const real = new Set(automations.filter((a) => !a.dryRun).map((a) => a.name));
  const byAutomation = new Map<string, number[]>();
  for (const run of runs) {
    if (run.dry_run && real.has(run.automation))
      byAutomation.set(run.automation, [...(byAutomation.get(run.automation) ?? []), run.id]);
  }
  const said = [...byAutomation].map(([name, dry]) => {
    const ids = enumerated(
      dry.map((id) => `#${id}`),
      "and",
    );
    return `${dry.length === 1 ? `${ids} is a dry run` : `${ids} are dry runs`} of ${name}, which now runs for real but does not go back to the events its dry runs took: what ${dry.length === 1 ? "it" : "they"} would have done is left to be done by hand.`;
  });
  return said.length > 0 ? said.join(" ") : undefined;
}

/**
 * What a model must not read into no run on an event id retention may have dropped: a run goes
 * with its event, so none listed does not say that no automation ran on it.
 */
const RUNS_GONE = "Runs go with their event: that none is listed does not mean no automation ran on it.";

/**
 * The events retention dropped before the automations reached them, while they are behind it (the
 * last event they handled before the last one it dropped): no automation ran on those, which the
 * engine says only in the log. Once they take an event after those, the store no longer tells.
 */
async function droppedUnreached(store: EventStore): Promise<string | undefined> {
  const [through, cursor] = await Promise.all([store.droppedThrough(), store.runs.cursor()]);
  // None set: no waiter has run them here, and the first to leaves what is stored before it as history.
  if (cursor === undefined || through <= cursor) return undefined;
  return `Retention dropped ${cursor === 0 ? "every event" : `the events after c${cursor}`} up to c${through} before the automations reached them: no automation ran on those.`;
}

/**
 * What a model must not take the configured automations for while no waiter runs them on this
 * store (its lease has run out, or none ever held it): that they act on the events that arrive, or
 * go on with `waiting` (the runs shown running). Undefined while one runs them.
 */
async function whoRuns(
  runLog: Pick<RunLog, "cursor" | "leaseUntil">,
  waiting = "the events stored meanwhile",
): Promise<string | undefined> {
  const [until, cursor] = await Promise.all([runLog.leaseUntil(), runLog.cursor()]);
  if (until !== undefined && until > clock.now()) return undefined;
  return cursor === undefined
    ? "No waiter serve or waiter listen has run the automations on this store yet; the first to start with them configured leaves alone the events stored before it."
    : `No waiter serve or waiter listen runs the automations on this store now: ${waiting} wait for the next to start with them configured.`;
}

/**
 * Of an event with no run in the state asked for, the states its runs are in, so that a model asking
 * whether the run on it failed does not take "none failed" for "none ran"; undefined when it has none.
 */
async function inOtherStates(runLog: Pick<RunLog, "list">, eventId: string, automation?: string) {
  const runs = await runLog.list({ eventId, automation, limit: MAX_RUNS });
  const held = STATUSES.flatMap((status) =>
    [false, true].map((dry) => {
      const count = runs.filter((run) => run.status === status && run.dryRun === dry).length;
      return count ? `${count} ${status}${dry ? " (dry run)" : ""}` : undefined;
    }),
  ).filter((state) => state !== undefined);
  return held.length
    ? `Its runs${automation === undefined ? "" : ` of ${automation}`} are in other states: ${held.join(", ")}.`
    : undefined;
}

/**
 * How many runs match `automation` and `status` in all, each way they ended (or all of one, asked
 * for by it), for a model shown only the newest: the page is not what the automations came to.
 */
async function allMatching(runLog: Pick<RunLog, "counts">, automation?: string, status?: RunRecord["status"]) {
  const [real, dry] = await Promise.all([runLog.counts(false), runLog.counts(true)]);
  const tally = (byAutomation: typeof real) => {
    const sum = { running: 0, done: 0, failed: 0 };
    for (const [name, counts] of Object.entries(byAutomation)) {
      if (automation !== undefined && name !== automation) continue;
      for (const s of STATUSES) sum[s] += counts[s];
    }
    return sum;
  };
  const [realRuns, dryRuns] = [tally(real), tally(dry)];
  const of = (s: RunRecord["status"]) => realRuns[s] + dryRuns[s];
  // A dry run's "done" did nothing: said of the runs in `s`, with or without a status asked for.
  const dryOnes = (s: RunRecord["status"]) =>
    dryRuns[s] === 0
      ? ""
      : dryRuns[s] === of(s)
        ? ` (${of(s) === 1 ? "a dry run" : "all dry runs"})`
        : ` (${dryRuns[s]} of them ${dryRuns[s] === 1 ? "a dry run" : "dry runs"})`;
  if (status) return `${of(status)} runs match in all${dryOnes(status)}.`;
  // As the owner reads it: what went well, what failed, what still waits.
  const said = (["done", "failed", "running"] as const)
    .filter((s) => of(s) > 0)
    .map((s) => `${of(s)} ${s}${dryOnes(s)}`);
  return `${of("done") + of("failed") + of("running")} runs match in all, ${enumerated(said, "and")}.`;
}

/** What `noSuchName` calls an automation. */
const AUTOMATION: [string, string] = ["automation", "automations"];

/** What each configured automation is and how its runs went; its runs with their steps. */
export function automationsToolset(
  store: EventStore | undefined,
  whyOff: (configFile: string | undefined) => string,
  automations: readonly Automation[],
): Toolset {
  return defineToolset({
    name: "automations",
    description: "What waiter serve and waiter listen do by themselves when webhook events arrive.",
    settings: {},
    comesWithStore: automations.length > 0,
    unconfigured: ({ configFile }) =>
      !store
        ? whyOff(configFile)
        : automations.length === 0
          ? noneConfigured(
              "automations",
              { key: "automations", env: "WAITER_AUTOMATIONS", page: "docs/automations.md" },
              configFile,
            )
          : undefined,
    tools() {
      if (!store) throw new Error("the event store is not open");
      const list = defineTool({
        name: "automations_list",
        title: "List automations",
        description: "Each automation: its trigger, steps, dry run or not, and its runs by outcome.",
        input: { name: z.string().overwrite(givenName).min(1).optional().describe("One automation; default: all.") },
        output: {
          automations: z.array(
            z.object({
              name: z.string(),
              source: z.string(),
              type: z.string().optional(),
              dry_run: z.boolean(),
              steps: z.array(z.string()),
              on_failure: z.string().optional(),
              runs: z.object({ running: z.number(), done: z.number(), failed: z.number() }),
            }),
          ),
          note: z.string().optional(),
        },
        annotations: READS,
        async run(args) {
          if (args.name !== undefined && !automations.some((a) => a.name === args.name)) {
            throw new ToolError(
              noSuchName(
                AUTOMATION,
                args.name,
                automations.map((a) => a.name),
              ),
            );
          }
          // The runs it made as it runs now: a dry run's "done" did nothing, and must not read as a
          // real run's once dryRun is switched off (automations_runs lists both, each said to be which).
          const [real, dry] = await Promise.all([store.runs.counts(false), store.runs.counts(true)]);
          const listed = automations
            .filter((a) => args.name === undefined || a.name === args.name)
            .map((a) => ({
              name: a.name,
              source: a.when.source,
              ...(a.when.type ? { type: a.when.type } : {}),
              dry_run: a.dryRun,
              steps: a.do.map(toolOf),
              ...(a.onFailure ? { on_failure: a.onFailure.notify } : {}),
              runs: (a.dryRun ? dry : real)[a.name] ?? { running: 0, done: 0, failed: 0 },
            }));
          // Runs counted running wait for a waiter as the events do: a model must not take them for under way.
          const note = await whoRuns(
            store.runs,
            listed.some((a) => a.runs.running > 0)
              ? "the events stored meanwhile and the runs counted running"
              : undefined,
          );
          return { ...(note ? { note } : {}), automations: listed };
        },
        render: (r) =>
          [
            ...r.automations.map(
              (a) =>
                `${a.name}${a.dry_run ? " (dry run)" : ""}: on ${a.source}${a.type ? ` ${a.type}` : ""}${conditionsOf(automations.find((configured) => configured.name === a.name))}, ${a.steps.join(" → ")}${a.on_failure ? `; a failed run is told on ${a.on_failure}` : ""}; runs ${a.runs.done} done, ${a.runs.failed} failed, ${a.runs.running} running`,
            ),
            ...(r.note ? [r.note] : []),
          ].join("\n"),
      });

      const runs = defineTool({
        name: "automations_runs",
        title: "Automation runs",
        description: "Recent automation runs, newest first, each step with what it did or why it failed.",
        input: {
          automation: z.string().overwrite(givenName).min(1).optional().describe("Runs of this one."),
          status: word(STATUSES).optional().describe("Only runs in it."),
          event_id: z.string().min(1).optional().describe("Runs on this event."),
          limit: decimal(z.number().int().min(1).max(MAX_RUNS)).optional().describe(`1-${MAX_RUNS}, default 10.`),
        },
        output: {
          runs: z.array(
            z.object({
              id: z.number(),
              automation: z.string(),
              event_id: z.string(),
              status: z.enum(STATUSES),
              dry_run: z.boolean(),
              started_at: z.string(),
              error: z.string().optional(),
              steps: z.array(z.object({ status: z.string(), tool: z.string(), outcome: z.string().optional() })),
            }),
          ),
          note: z.string().optional(),
        },
        annotations: READS,
        async run(args, call) {
          const limit = args.limit ?? 10;
          // One more than asked for tells whether older runs match: a model must not take the page for all of them.
          const matched = await store.runs.list({
            automation: args.automation,
            status: args.status,
            // Any letter case names the stored event; the id as sent may be a sender's delivery id.
            eventId: args.event_id && storedId(args.event_id),
            limit: limit + 1,
          });
          const found = matched.slice(0, limit);
          // A name no longer configured still lists the runs it made.
          const { automation } = args;
          if (automation !== undefined && found.length === 0 && !automations.some((a) => a.name === automation)) {
            throw new ToolError(
              noSuchName(
                AUTOMATION,
                automation,
                automations.map((a) => a.name),
              ),
            );
          }
          // The automations with no run on an event: why, in the words the engine decides by, for a
          // model asking why a payment did nothing, while another automation of its source ran on it too.
          // Runs of one state leave out those of the others, so only without `status` do they tell
          // which automations did not run; with it, none in that state says the states they are in, and
          // an id no event has (a sender's) is said to be none.
          let note: string | undefined;
          // An automation that never ran, as a misspelt type or path leaves it: where to ask why.
          const never = found.length === 0 && args.event_id === undefined && args.status === undefined;
          const source = never && automations.find((a) => a.name === automation)?.when.source;
          if (source) {
            const ids = call.serves("events_list") ? ` (events_list with source ${quote(source)} gives their ids)` : "";
            note = `${automation} has not run on any event kept: automations_runs with the event_id of one it should have taken says why it did not${ids}.`;
          }
          const unreached = args.event_id === undefined ? await droppedUnreached(store) : undefined;
          if (unreached) note = note ? `${note} ${unreached}` : unreached;
          if (args.event_id !== undefined && matched.length <= limit) {
            const event = await store.get(storedId(args.event_id));
            note = !event
              ? found.length === 0
                ? await noEventStored(
                    store,
                    args.event_id,
                    call,
                    [RUNS_GONE, await droppedUnreached(store)].filter(Boolean).join(" "),
                  )
                : undefined
              : args.status
                ? found.length === 0
                  ? await inOtherStates(store.runs, event.id, args.automation)
                  : undefined
                : await whyNoRun(
                    automations,
                    store.runs,
                    event,
                    new Set(found.map((run) => run.automation)),
                    args.automation,
                    // Without `automation`, the page holds every run on the event; with it, only that one's.
                    new Set(
                      (args.automation === undefined
                        ? found
                        : await store.runs.list({ eventId: event.id, status: "running", limit: MAX_RUNS })
                      )
                        .filter((run) => run.status === "running")
                        .map((run) => run.automation),
                    ),
                  );
          }
          // A run left running by a waiter that stopped (or was killed) reads as under way, its waiting
          // step as tried again at a time no waiter may be there for.
          const stalled = found.some((run) => run.status === "running")
            ? await whoRuns(store.runs, "the runs shown running and any step waiting for its next try")
            : undefined;
          if (stalled) note = note ? `${note} ${stalled}` : stalled;
          const runs = found.map((run) => ({
            id: run.id,
            automation: run.automation,
            event_id: run.eventId,
            status: run.status,
            dry_run: run.dryRun,
            started_at: run.startedAt,
            ...(run.error ? { error: bounded(run.error) } : {}),
            steps: run.steps
              .map((step) => {
                const detail = JSON.parse(step.detail) as {
                  tool: string;
                  args?: unknown;
                  said?: string;
                  error?: string;
                  waiting?: string;
                  nothing?: string;
                };
                // A step that would run, or was under way, is told by what it was called with.
                // As JSON, every string quoted; line separators, NEL and invisible characters, which
                // JSON leaves as they are, escaped.
                const args = JSON.stringify(detail.args);
                const json = args === undefined ? undefined : withEscapes(args);
                const called = json === undefined ? undefined : `with ${cut(json, 300)}`;
                // A step that waits for its next try is recorded as started, or as refused when the
                // upstream refused it, but is waiting, and says why and until when.
                const waiting = run.status === "running" ? detail.waiting : undefined;
                // One its run left waiting when it failed (its automation gone or edited, its event
                // dropped) was not done: why it waited, without the next try (calls.ts) that never came.
                const left =
                  run.status !== "running" && (detail.waiting !== undefined || step.status === "refused")
                    ? `${detail.waiting ? `${detail.waiting.replace(/ Trying again at \S+\.$/, "")} ` : ""}It was waiting for its next try when its run failed, and was not tried again.${json === undefined ? "" : ` Its arguments were ${cut(json, 300)}.`}`
                    : undefined;
                // A failed step's arguments (the order, the payment) are what a model needs to finish it by hand:
                // a sentence after the reason, which may end in no full stop ("… on this event's payload)").
                const failed =
                  detail.error &&
                  (json === undefined
                    ? detail.error
                    : `${sentence(detail.error)} Its arguments were ${cut(json, 300)}.`);
                const done = detail.said ?? (step.status === "would" ? called : undefined);
                const outcome =
                  failed ||
                  (done && detail.nothing ? withNothing(done, detail.nothing) : (done ?? waiting ?? left ?? called));
                return {
                  status: waiting ? "waiting" : left ? "not done" : step.status,
                  tool: detail.tool,
                  ...(outcome ? { outcome: bounded(outcome) } : {}),
                };
              })
              .concat(stepsNotRun(automations, run))
              .concat(onFailureOf(automations, run).map((told) => ({ ...told, outcome: bounded(told.outcome) }))),
          }));
          let fitting = 0;
          for (let used = 0; fitting < runs.length; fitting++) {
            used += Buffer.byteLength(JSON.stringify(runs[fitting]));
            if (used > MAX_RUNS_BYTES && fitting > 0) break;
          }
          // The filters not given yet: one given already narrows nothing more.
          const unused = (["automation", "status", "event_id"] as const).filter((filter) => args[filter] === undefined);
          const narrow = `narrow by ${enumerated(unused, "or")}`;
          // How many match in all: on an event, its few runs; else counted by the store.
          const counted = () =>
            args.event_id === undefined ? allMatching(store.runs, args.automation, args.status) : undefined;
          if (fitting < runs.length) {
            const newest = fitting === 1 ? "run fits" : `${fitting} runs fit`;
            const all = await counted();
            // After why an automation did not run on the event asked about, which the runs left out do not change.
            note = `${note ? `${note} ` : ""}Only the newest ${newest} in one answer${all ? `; ${all} ${capitalized(narrow)}` : `: ${narrow}`} for older ones.`;
          } else if (matched.length > limit) {
            const all = await counted();
            const how = `${limit < MAX_RUNS ? `pass a higher limit (at most ${MAX_RUNS}), or ` : ""}${narrow}.`;
            note = `${note ? `${note} ` : ""}Older runs match too: ${all ? `${all} ${capitalized(how)}` : how}`;
          }
          const shown = runs.slice(0, fitting);
          const left = leftByDryRuns(automations, shown);
          if (left) note = note ? `${note} ${left}` : left;
          return { ...(note ? { note } : {}), runs: shown };
        },
        render(r, args) {
          if (r.runs.length === 0)
            return r.note
              ? `No ${args.event_id === undefined ? "runs match" : `${args.status ? `${args.status} ` : ""}runs on it`}. ${r.note}`
              : "No runs match.";
          const runs = r.runs.map((run) => {
            // A run that failed at a step has the step's reason for its error: said once, at the step,
            // whose outcome goes on with the step's arguments.
            const at = run.steps.findIndex((s, i) => {
              const prefix = `step ${i + 1} (${s.tool}): `;
              return run.error?.startsWith(prefix) && s.outcome?.startsWith(run.error.slice(prefix.length));
            });
            const why = at >= 0 ? ` at step ${at + 1}` : run.error ? ` — ${under(run.error, 2)}` : "";
            // When, for whoever asks later who told the team or marked the order paid.
            // The onFailure message comes after the steps, told apart from them by its name in place of a number.
            return `#${run.id} ${run.automation} on ${run.event_id}, started ${run.started_at}: ${run.status}${run.dry_run ? " (dry run)" : ""}${why}\n${run.steps
              .map(
                (s, i) =>
                  `  ${s.tool === ON_FAILURE ? "" : `${i + 1}. `}${s.tool}: ${s.status}${s.outcome ? ` — ${under(s.outcome, 5)}` : ""}`,
              )
              .join("\n")}`;
          });
          return [...runs, ...(r.note ? [r.note] : [])].join("\n");
        },
      });
      return [list, runs];
    },
  });
}
