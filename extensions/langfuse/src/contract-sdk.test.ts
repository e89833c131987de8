/**
 * Contract test against the official SDK's own export (`langfuse-js-sdk-5.11.1-otlp-export.json`):
 * replaying every recorded scenario, what we send must populate every Langfuse field, and carry
 * every span attribute key, that the SDK does for the same observation type. The reference sets are
 * read from the SDK's export, never written down here.
 */
import {
  createLangfuseReceiver,
  type FakeHost,
  type LangfuseReceiver,
  type LangfuseTraceView,
  listCapturedScenarios,
  loadCapturedScenario,
  type OtlpSpan,
  toLangfuseObservations,
} from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONTRACT_KEYS,
  type ExpectedTurn,
  isPopulated,
  loadSdkReference,
  readExpectedTurns,
  replayCaptured,
  startContractGateway,
  toExpectedUsageDetails,
  toLangfuseKeys,
  toObservationIds,
  waitForTurns,
} from "./contract-fixtures.js";

const sdk = loadSdkReference();
const CONTENT_FIELDS = ["input", "output"];
const CONTENT_KEYS = ["langfuse.observation.input", "langfuse.observation.output"];
/** The field and the span attribute of usage and of cost, left out where the host had no figure. */
const COUNTS = {
  usage: ["usageDetails", "langfuse.observation.usage_details"],
  cost: ["costDetails", "langfuse.observation.cost_details"],
} as const;
/** Fields every observation has whatever was sent: comparing them says nothing. */
const ALWAYS_SET = [
  "id",
  "traceId",
  "type",
  "name",
  "environment",
  "level",
  "startTime",
  "endTime",
  "problems",
];

const typeOf = (span: OtlpSpan) => String(span.attributes["langfuse.observation.type"] ?? "span");
const sdkTypes = [...new Set(sdk.views.flatMap((view) => view.observations.map((item) => item.type)))];
const populatedFields = (record: object, skip: readonly string[] = []) =>
  Object.entries(record)
    .filter(([key, value]) => !skip.includes(key) && isPopulated(value))
    .map(([key]) => key)
    .sort();
/** Per observation type: the Langfuse fields the SDK populated, and its span attribute keys. */
const sdkFields = new Map(
  sdkTypes.map((type) => {
    const observations = sdk.views.flatMap((view) => view.observations.filter((item) => item.type === type));
    return [type, [...new Set(observations.flatMap((item) => populatedFields(item, ALWAYS_SET)))]];
  }),
);
const sdkKeys = new Map(
  sdkTypes.map((type) => [
    type,
    [
      ...new Set(
        sdk.spans.filter((span) => typeOf(span) === type).flatMap((span) => [...toLangfuseKeys(span)]),
      ),
    ],
  ]),
);
const sdkTraceFields = populatedFields(sdk.views[0]?.trace ?? {}, ["id"]);
const sdkSpanKeys = [...new Set(sdk.spans.flatMap((span) => Object.keys(span.attributes)))];

it("reads an agent root, a generation and a tool with usage, cost, session, user and tags from the SDK", () => {
  expect(sdkTypes.sort()).toEqual(["agent", "generation", "tool"]);
  expect(sdkFields.get("generation")).toEqual(
    expect.arrayContaining(["model", "usageDetails", "costDetails", "modelParameters"]),
  );
  expect(sdkTraceFields).toEqual(
    expect.arrayContaining(["name", "userId", "sessionId", "tags", "environment"]),
  );
  expect(sdkSpanKeys).toEqual(expect.arrayContaining(["user.id", "session.id", "langfuse.trace.tags"]));
});

/** Scenarios where the host shared content (conversation hooks) and every turn succeeded. */
const withContent = (name: string) => {
  const scenario = loadCapturedScenario(name);
  const hooks = new Set(scenario.hooks.map((row) => row.hook));
  const turns = readExpectedTurns(scenario);
  return (
    hooks.has("llm_input") && hooks.has("llm_output") && turns.every((turn) => turn.outcome === "success")
  );
};
const RUNS = [
  ...listCapturedScenarios().map((name) => ({ name, captureContent: false })),
  ...listCapturedScenarios()
    .filter(withContent)
    .map((name) => ({ name, captureContent: true })),
];

describe.each(RUNS)(
  "captured scenario $name, content capture $captureContent",
  ({ name, captureContent }) => {
    const scenario = loadCapturedScenario(name);
    const expected = readExpectedTurns(scenario);
    let receiver: LangfuseReceiver;
    let host: FakeHost;
    let views: LangfuseTraceView[];

    beforeAll(async () => {
      receiver = await createLangfuseReceiver(CONTRACT_KEYS);
      host = await startContractGateway(receiver.url, {
        config: { captureContent },
        allowConversationAccess: name !== "e2e-conversation-access-off",
      });
      await replayCaptured(host, scenario);
      await waitForTurns(receiver, expected);
      views = toLangfuseObservations(receiver.spans);
    });
    afterAll(async () => {
      await host?.cleanup();
      await receiver?.close();
    });

    /** Each of our observations with its turn, and whether the host counted anything for it. */
    const ours = () =>
      expected.flatMap((turn) => {
        const view = views.find((candidate) => candidate.trace.id === turn.traceId);
        const ids = toObservationIds(turn);
        return (view?.observations ?? []).map((observation) => {
          const call = turn.calls[ids.calls.indexOf(observation.id)];
          const carrier = observation.metadata.usage_scope === "turn";
          // what the host did not count or price is left out on purpose (asserted in the scenario tests)
          const notCounted: Array<keyof typeof COUNTS> = [];
          if (call && !carrier && !(call.usage && toExpectedUsageDetails(call.usage)))
            notCounted.push("usage");
          if (call && !carrier && call.costUsd === undefined) notCounted.push("cost");
          const span = receiver.spans.find((item) => item.spanId === observation.id) as OtlpSpan;
          return { turn, observation, span, notCounted };
        });
      });
    const missing = (required: readonly string[], present: readonly string[], skip: readonly string[]) =>
      required.filter((key) => !skip.includes(key) && !present.includes(key));

    it("sends the observation types the SDK sends, for what the turns did", () => {
      const types = new Set(ours().map((item) => item.observation.type));
      const hasTools = expected.some((turn: ExpectedTurn) => turn.tools.length > 0);
      expect([...types].sort()).toEqual(hasTools ? ["agent", "generation", "tool"] : ["agent", "generation"]);
      for (const type of types) expect(sdkTypes).toContain(type);
    });

    it("populates every Langfuse field the SDK populates for the same observation type", () => {
      for (const { observation, notCounted } of ours()) {
        // content is checked apart: the host hands over the prompt once and the reply once per run
        const skip = [...CONTENT_FIELDS, ...notCounted.map((kind) => COUNTS[kind][0])];
        const required = sdkFields.get(observation.type) ?? [];
        expect([observation.type, missing(required, populatedFields(observation), skip)]).toEqual([
          observation.type,
          [],
        ]);
        if (!captureContent) expect([observation.input, observation.output]).toEqual([null, null]);
      }
      if (captureContent) {
        for (const type of sdkTypes) {
          const sameType = ours().filter((item) => item.observation.type === type);
          if (sameType.length === 0) continue;
          const union = [...new Set(sameType.flatMap((item) => populatedFields(item.observation)))];
          const required = (sdkFields.get(type) ?? []).filter((field) => CONTENT_FIELDS.includes(field));
          expect([type, missing(required, union, [])]).toEqual([type, []]);
        }
      }
    });

    it("populates every trace field the SDK populates", () => {
      for (const turn of expected) {
        const view = views.find((candidate) => candidate.trace.id === turn.traceId) as LangfuseTraceView;
        const skip = [...(captureContent ? [] : CONTENT_FIELDS), ...(turn.senderId ? [] : ["userId"])];
        expect(missing(sdkTraceFields, populatedFields(view.trace), skip)).toEqual([]);
      }
    });

    it("sends every span attribute key the SDK sends for the same observation type", () => {
      for (const { turn, observation, span, notCounted } of ours()) {
        const keys = [...toLangfuseKeys(span), ...Object.keys(span.attributes)];
        const skip = [
          ...CONTENT_KEYS,
          ...notCounted.map((kind) => COUNTS[kind][1]),
          ...(turn.senderId ? [] : ["user.id"]),
        ];
        const sdkTypeKeys = [
          ...(sdkKeys.get(observation.type) ?? []),
          // the SDK propagates session and user to every span of its trace
          ...sdkSpanKeys.filter((key) => !key.startsWith("langfuse.")),
        ];
        expect([observation.type, missing(sdkTypeKeys, keys, skip)]).toEqual([observation.type, []]);
        if (!captureContent) expect(keys.filter((key) => CONTENT_KEYS.includes(key))).toEqual([]);
      }
      if (captureContent) {
        for (const type of sdkTypes) {
          const spans = ours().filter((item) => item.observation.type === type);
          if (spans.length === 0) continue;
          const union = [...new Set(spans.flatMap((item) => Object.keys(item.span.attributes)))];
          const required = (sdkKeys.get(type) ?? []).filter((key) => CONTENT_KEYS.includes(key));
          expect([type, missing(required, union, [])]).toEqual([type, []]);
        }
      }
    });
  },
);
