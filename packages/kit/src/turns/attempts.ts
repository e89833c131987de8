/**
 * Which run of a turn an input belongs to. The host retries a failed provider call (429, 5xx) and
 * falls back to other models by running the whole attempt again under the same run id and call ids
 * (`run.started` … `run.completed` each time). What tells attempts apart is the trace: each attempt
 * has its own harness span and run span.
 *
 * Inputs name one of the two (`llm_output` the harness span, a model call its run span); only
 * `run.*` events and `before_tool_call` name both. So inputs are gathered into fragments by the
 * span they name, and fragments are joined when an input links the two spans — whatever the
 * arrival order. Without the bus nothing links a plain turn's spans: then the hooks' own order
 * (they are called inline, in order) pairs each run with the harness before it, in a view that is
 * recomputed rather than stored, so a bus event arriving later still decides.
 */
import type { AttemptState, ModelCallState, OpenTurn } from "./open-turn.js";
import { createAttempt } from "./open-turn.js";

/** The span ids an input names its attempt by; `link` when it names both (they belong together). */
export interface AttemptKey {
  harnessSpanId?: string;
  runSpanId?: string;
  link?: boolean;
}

/** What kind of start an input is, when it starts an attempt (`undefined`: not a start). */
export type AttemptStart = "run" | "harness" | "hook" | undefined;

/** The attempts of a turn as they stand: each with the fragments it was gathered from. */
export interface AttemptView {
  /** In the order they started (host time), then in the order they were heard of. */
  attempts: AttemptState[];
  /** The attempt a fragment (what a call was recorded against) belongs to. */
  of(fragment: AttemptState): AttemptState;
}

/** Whether an attempt has ended, as the bus reports it when the bus saw the run, else the hooks. */
export function hasAttemptEnded(turn: OpenTurn, attempt: AttemptState): boolean {
  return attempt.runCompleted || attempt.harnessEnded || (!turn.busObserved && attempt.hookEnded);
}

/**
 * The fragment of an input: the one that owns one of its span ids (joining two fragments when the
 * input links their spans); a new one for a span not heard of yet. An input naming no span (made by
 * hand, or `after_tool_call`) goes to the latest fragment, or a new one when it starts a run the
 * latest already ran to its end.
 */
export function attemptFor(
  turn: OpenTurn,
  key: AttemptKey,
  start: AttemptStart,
  maxAttempts: number,
): AttemptState {
  const byHarness =
    key.harnessSpanId === undefined ? undefined : owner(turn, "harnessSpanId", key.harnessSpanId);
  const byRun = key.runSpanId === undefined ? undefined : owner(turn, "runSpanId", key.runSpanId);
  if (key.link === true && key.harnessSpanId !== undefined && key.runSpanId !== undefined) {
    if (byRun === undefined && byHarness === undefined)
      return claimSpanless(turn, key) ?? create(turn, key, maxAttempts);
    if (byRun !== undefined && byHarness !== undefined) {
      if (byRun === byHarness) return byRun;
      // both halves of one attempt were heard of apart: join them, unless each already has another partner
      if (byRun.harnessSpanId === undefined && byHarness.runSpanId === undefined) {
        return join(turn, byRun, byHarness);
      }
      return byRun;
    }
    if (byRun !== undefined) {
      byRun.harnessSpanId ??= key.harnessSpanId;
      return byRun;
    }
    // a harness already paired with another run (a run span whose parent is not a harness): a new attempt
    if (byHarness !== undefined && byHarness.runSpanId === undefined) {
      byHarness.runSpanId = key.runSpanId;
      return byHarness;
    }
    return claimSpanless(turn, key) ?? create(turn, key, maxAttempts);
  }
  const found = byRun ?? byHarness;
  if (found !== undefined) return found;
  if (key.runSpanId !== undefined || key.harnessSpanId !== undefined) {
    return claimSpanless(turn, key) ?? create(turn, key, maxAttempts);
  }
  const latest = turn.attempts.at(-1);
  if (latest === undefined) return create(turn, key, maxAttempts);
  if (start !== undefined && startedBefore(latest, start) && hasAttemptEnded(turn, latest)) {
    return create(turn, key, maxAttempts);
  }
  return latest;
}

/**
 * The turn's attempts. With the bus, fragments are joined by the links it carries; without it,
 * each fragment that names only a run span is paired with the latest fragment before it that names
 * only a harness span (the hooks' order: `llm_input`, the model calls, then `llm_output`).
 */
export function viewAttempts(turn: OpenTurn): AttemptView {
  const fragments = turn.attempts;
  if (turn.busObserved || fragments.length < 2) {
    const attempts = [...fragments].sort(byStart);
    return { attempts, of: (fragment) => fragment };
  }
  const owners = new Map<AttemptState, AttemptState>();
  const groups: AttemptState[][] = [];
  // a fragment naming only a run span waits for one naming only a harness span, or the reverse
  let waitingForHarness: AttemptState[] | undefined;
  let waitingForRun: AttemptState[] | undefined;
  for (const fragment of fragments) {
    const runOnly = fragment.runSpanId !== undefined && fragment.harnessSpanId === undefined;
    const harnessOnly = fragment.harnessSpanId !== undefined && fragment.runSpanId === undefined;
    const partner = runOnly ? waitingForRun : harnessOnly ? waitingForHarness : undefined;
    if (partner !== undefined) {
      partner.push(fragment);
      waitingForHarness = undefined;
      waitingForRun = undefined;
      continue;
    }
    const group = [fragment];
    groups.push(group);
    waitingForHarness = runOnly ? group : undefined;
    waitingForRun = harnessOnly ? group : undefined;
  }
  const attempts = groups.map((group) => {
    if (group.length === 1) return group[0] as AttemptState;
    const merged = group.reduce(
      (into, part) => mergeFields(into, part),
      createAttempt(group[0]?.created ?? 0),
    );
    return merged;
  });
  groups.forEach((group, index) => {
    for (const fragment of group) owners.set(fragment, attempts[index] as AttemptState);
  });
  attempts.sort(byStart);
  return { attempts, of: (fragment) => owners.get(fragment) ?? fragment };
}

/** The attempt that ran last: it decides the turn's outcome. */
export function lastAttempt(turn: OpenTurn): AttemptState | undefined {
  return viewAttempts(turn).attempts.at(-1);
}

/** The calls of an attempt (as the view groups them). */
export function callsOf(turn: OpenTurn, view: AttemptView, attempt: AttemptState): ModelCallState[] {
  const calls: ModelCallState[] = [];
  for (const call of turn.modelCalls.values()) if (view.of(call.attempt) === attempt) calls.push(call);
  return calls;
}

/** The fragment holding this span as `field`, else as the other field (inputs made without a harness span). */
function owner(
  turn: OpenTurn,
  field: "harnessSpanId" | "runSpanId",
  spanId: string,
): AttemptState | undefined {
  const other = field === "harnessSpanId" ? "runSpanId" : "harnessSpanId";
  let fallback: AttemptState | undefined;
  for (let index = turn.attempts.length - 1; index >= 0; index -= 1) {
    const attempt = turn.attempts[index] as AttemptState;
    if (attempt[field] === spanId) return attempt;
    if (fallback === undefined && attempt[other] === spanId) fallback = attempt;
  }
  return fallback;
}

function create(turn: OpenTurn, key: AttemptKey, maxAttempts: number): AttemptState {
  const latest = turn.attempts.at(-1);
  // beyond the cap, further attempts fold into the last one: memory stays bounded
  if (latest !== undefined && turn.attempts.length >= maxAttempts) return latest;
  const attempt = createAttempt((latest?.created ?? 0) + 1);
  attempt.harnessSpanId = key.harnessSpanId;
  attempt.runSpanId = key.runSpanId;
  turn.attempts.push(attempt);
  return attempt;
}

/** A fragment of input that named no span (`after_tool_call`) fits any attempt: the first span heard of claims it. */
function claimSpanless(turn: OpenTurn, key: AttemptKey): AttemptState | undefined {
  const spanless = turn.attempts.find(
    (attempt) => attempt.runSpanId === undefined && attempt.harnessSpanId === undefined,
  );
  if (spanless === undefined) return undefined;
  spanless.runSpanId = key.runSpanId;
  spanless.harnessSpanId = key.harnessSpanId;
  return spanless;
}

/** Joins `source` into `target` for good: facts combined, its calls moved, `source` gone. */
function join(turn: OpenTurn, target: AttemptState, source: AttemptState): AttemptState {
  mergeFields(target, source);
  for (const call of turn.modelCalls.values()) if (call.attempt === source) call.attempt = target;
  const index = turn.attempts.indexOf(source);
  if (index >= 0) turn.attempts.splice(index, 1);
  return target;
}

/** Copies what `part` knows into `into` where `into` knows nothing yet; flags add up. */
function mergeFields(into: AttemptState, part: AttemptState): AttemptState {
  into.created = Math.min(into.created || part.created, part.created);
  for (const key of Object.keys(part) as Array<keyof AttemptState>) {
    const value = part[key];
    if (value === undefined) continue;
    if (typeof value === "boolean") {
      (into as unknown as Record<string, unknown>)[key] = (into[key] as boolean) || value;
    } else if (into[key] === undefined) {
      (into as unknown as Record<string, unknown>)[key] = value;
    }
  }
  into.runStartedAt = earliest(into.runStartedAt, part.runStartedAt);
  into.harnessStartedAt = earliest(into.harnessStartedAt, part.harnessStartedAt);
  into.earliestEventAt = earliest(into.earliestEventAt, part.earliestEventAt);
  into.hookStartedAt = earliest(into.hookStartedAt, part.hookStartedAt);
  return into;
}

function byStart(left: AttemptState, right: AttemptState): number {
  return startOf(left) - startOf(right) || left.created - right.created;
}

function startOf(attempt: AttemptState): number {
  return (
    attempt.harnessStartedAt ??
    attempt.runStartedAt ??
    attempt.earliestEventAt ??
    attempt.hookStartedAt ??
    Number.POSITIVE_INFINITY
  );
}

function startedBefore(attempt: AttemptState, start: Exclude<AttemptStart, undefined>): boolean {
  if (start === "run") return attempt.runStarted;
  if (start === "harness") return attempt.harnessStarted;
  return attempt.hookStarted;
}

function earliest(left: number | undefined, right: number | undefined): number | undefined {
  if (left === undefined) return right;
  if (right === undefined) return left;
  return Math.min(left, right);
}
