/**
 * The demo's Langfuse. A Langfuse server cannot run on this machine (it needs ClickHouse, S3, Redis
 * and Docker images), so the in-process contract receiver from @clawscope/testing stands in for one:
 * it holds clawscope-langfuse's requests to the rules Langfuse publishes (Basic auth, the OTLP export
 * rules, score bodies against the official OpenAPI spec) and keeps what it accepts. The read-back
 * goes through Langfuse's own attribute mapping (`toLangfuseObservations`), so the section shows the
 * traces, observations and scores a Langfuse would record.
 */
import {
  createLangfuseReceiver,
  type LangfuseObservation,
  type LangfuseReceiver,
  type LangfuseStoredScore,
  type LangfuseTraceView,
  toLangfuseObservations,
} from "@clawscope/testing";
import { toLangfuseTraceId } from "../../tests/e2e/harness/langfuse-traces.js";

/** The Langfuse environment of the demo's traces and scores. */
export const DEMO_LANGFUSE_ENVIRONMENT = "demo";

/** What answers in Langfuse's place, for the demo's output. */
export const LANGFUSE_STAND_IN_NOTE =
  "not a Langfuse server: the contract receiver from @clawscope/testing stands in for one (Langfuse cannot run on this machine); it enforces Langfuse's published rules and checks scores against the official OpenAPI spec";

/** How to send to a real Langfuse instead, for the demo's output. */
export const REAL_LANGFUSE_HINT =
  "to use a real Langfuse: set LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASE_URL in the gateway's environment (or publicKey, secretKey and baseUrl in clawscope-langfuse's config)";

/** A turn the demo drove, to name its trace. */
export interface DemoLangfuseTurn {
  label: string;
  /** The pack's turn id, from which the extension derives the trace id. */
  turnId: string;
}

/** Starts the receiver, with one line saying where; undefined, after one line saying why, when it cannot start. */
export async function startDemoLangfuse(): Promise<LangfuseReceiver | undefined> {
  try {
    const receiver = await createLangfuseReceiver();
    console.log(
      `  Langfuse contract receiver on ${receiver.url} (in-process, standing in for a Langfuse server)`,
    );
    return receiver;
  } catch (error) {
    console.log(
      `  no Langfuse receiver (${firstLine(error)}): clawscope-langfuse will spool until one answers`,
    );
    return undefined;
  }
}

/** The demo's config for clawscope-langfuse: the receiver's URL and key pair, a short flush interval. */
export function toDemoLangfuseConfig(receiver: LangfuseReceiver): Record<string, unknown> {
  return {
    publicKey: receiver.credentials.publicKey,
    secretKey: receiver.credentials.secretKey,
    baseUrl: receiver.url,
    environment: DEMO_LANGFUSE_ENVIRONMENT,
    flushIntervalMs: 1000,
  };
}

/**
 * Waits until the receiver holds a `turn.outcome` score and a trace root per turn (traces and scores
 * leave through separate pipelines, and a trace's spans may come in several batches, its root last).
 * Resolves to undefined when they are there, else to one line saying what is missing.
 */
export async function waitForLangfuse(
  receiver: LangfuseReceiver,
  turnCount: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  try {
    await receiver.waitForScores(turnCount, remaining());
    await receiver.waitForSpans(turnCount, remaining());
    while (countRootedTraces(receiver) < turnCount) {
      if (Date.now() >= deadline) {
        return `timed out waiting for ${turnCount} trace root(s) at the Langfuse receiver (have ${countRootedTraces(receiver)})`;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return undefined;
  } catch (error) {
    return firstLine(error);
  }
}

/**
 * What the receiver holds, in a few lines: that it stands in for a Langfuse server, what did not
 * arrive in time (`waitProblem`, from {@link waitForLangfuse}), then per trace (in the order the
 * turns started) its name, its observations as a tree (type, name, model, usage, cost, level and
 * status message) and its scores, the count of rejected exports and scores, and how to use a real
 * Langfuse instead.
 */
export function describeLangfuse(
  receiver: LangfuseReceiver,
  turns: readonly DemoLangfuseTurn[],
  waitProblem?: string,
): string[] {
  const labels = new Map(turns.map((turn) => [toLangfuseTraceId(turn.turnId), turn.label]));
  const views = toLangfuseObservations(receiver.spans).sort((left, right) =>
    startOf(left).localeCompare(startOf(right)),
  );
  const lines: string[] = [LANGFUSE_STAND_IN_NOTE];
  if (waitProblem) lines.push(`not everything arrived: ${waitProblem}`);
  for (const view of views) {
    const { trace } = view;
    lines.push(
      `${labels.get(trace.id) ?? "another turn"}: trace "${trace.name ?? "(unnamed)"}" (${trace.id.slice(0, 8)}…), environment ${trace.environment}`,
    );
    for (const line of describeTree(view.observations)) lines.push(`    ${line}`);
    const scores = receiver.scores.filter((score) => score.body.traceId === trace.id);
    for (const score of scores) lines.push(`    score ${describeScore(score)}`);
    if (scores.length === 0) lines.push("    no score");
  }
  if (views.length === 0) lines.push("no traces");
  const onTraces = new Set(views.map((view) => view.trace.id));
  const otherScores = receiver.scores.filter((score) => !onTraces.has(String(score.body.traceId)));
  if (otherScores.length > 0) {
    lines.push(`other scores: ${otherScores.map((score) => describeScore(score)).join("; ")}`);
  }
  const rejectedExports = receiver.rejectedExports.length;
  const rejectedScores = receiver.rejectedScores.length;
  const firstRejections = [
    ...receiver.rejectedExports.map((rejection) => `export: ${rejection.message}`),
    ...receiver.rejectedScores.map(
      (rejection) => `score: ${rejection.issues.map((issue) => JSON.stringify(issue)).join(", ")}`,
    ),
  ]
    .slice(0, 3)
    .map((reason) => reason.slice(0, 200));
  const accepted = (endpoint: string) =>
    receiver.requests.filter((request) => request.endpoint === endpoint && request.outcome === "accepted")
      .length;
  lines.push(
    `rejected: ${rejectedExports} trace export(s), ${rejectedScores} score(s); accepted: ${accepted("traces")} trace export(s), ${accepted("scores")} score write(s)` +
      (firstRejections.length > 0 ? ` — ${firstRejections.join("; ")}` : ""),
  );
  lines.push(REAL_LANGFUSE_HINT);
  return lines;
}

/** The observations as a tree, children under their parent, in start order. */
function describeTree(observations: readonly LangfuseObservation[]): string[] {
  const ids = new Set(observations.map((observation) => observation.id));
  const byStart = [...observations].sort((left, right) => left.startTime.localeCompare(right.startTime));
  const children = (parentId: string | null) =>
    byStart.filter((observation) =>
      parentId === null
        ? observation.parentObservationId === null || !ids.has(observation.parentObservationId)
        : observation.parentObservationId === parentId,
    );
  const lines: string[] = [];
  const walk = (parentId: string | null, depth: number) => {
    // depth is capped: a cycle of parent ids in garbage data must not recurse for ever
    if (depth > 10) return;
    for (const observation of children(parentId)) {
      lines.push(`${"  ".repeat(depth)}${describeObservation(observation)}`);
      walk(observation.id, depth + 1);
    }
  };
  walk(null, 0);
  return lines;
}

function describeObservation(observation: LangfuseObservation): string {
  const parts = [`${observation.type} "${observation.name}"`];
  if (observation.model) parts.push(`model ${observation.model}`);
  const usage = observation.usageDetails;
  if (usage.input !== undefined || usage.output !== undefined) {
    parts.push(`usage in ${usage.input ?? 0} / out ${usage.output ?? 0}`);
  }
  const cost = observation.costDetails.total;
  if (cost !== undefined) parts.push(`cost $${cost.toFixed(6)}`);
  if (observation.level !== "DEFAULT" || observation.statusMessage) {
    const message = observation.statusMessage ? `: ${observation.statusMessage.slice(0, 120)}` : "";
    parts.push(`${observation.level}${message}`);
  }
  if (observation.problems.length > 0)
    parts.push(`Langfuse would object: ${observation.problems.join("; ")}`);
  return parts.join(", ");
}

function describeScore(score: LangfuseStoredScore): string {
  const { name, value, comment } = score.body;
  const note = typeof comment === "string" && comment !== "" ? ` (${comment.slice(0, 120)})` : "";
  return `${String(name)} = ${JSON.stringify(value)}${note}`;
}

/** The trace's earliest start: traces listed in the order their turns ran. */
function startOf(view: LangfuseTraceView): string {
  // ISO times of one format sort as text
  return view.observations.map((observation) => observation.startTime).sort()[0] ?? "";
}

function countRootedTraces(receiver: LangfuseReceiver): number {
  return receiver
    .observations()
    .filter((view) => view.observations.some((observation) => observation.parentObservationId === null))
    .length;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
