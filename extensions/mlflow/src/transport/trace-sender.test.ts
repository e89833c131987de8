import type { ExportItem, Turn } from "@clawscope/kit";
import type { TurnExport } from "@clawscope/kit/otlp";
import { createHttpReceiver, decodeOtlpRequest, type HttpReceiver } from "@clawscope/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { toTraceSpans } from "../mapping/to-trace-spans.js";
import type { RunState } from "./run-state-file.js";
import { createTraceSender } from "./trace-sender.js";

const turn: Turn = {
  id: "run-9",
  runId: "run-9",
  sessionKey: "agent:main:s9",
  agentId: "main",
  startedAt: 1_763_798_400_000,
  endedAt: 1_763_798_401_000,
  durationMs: 1_000,
  modelCalls: [
    {
      callId: "run-9:model:1",
      attempt: 1,
      model: "gpt-4o",
      startedAt: 1_763_798_400_100,
      endedAt: 1_763_798_400_900,
      usage: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0, total: 15 },
      cost: { usd: null, source: "unknown" },
      outcome: "success",
    },
  ],
  toolCalls: [],
  usage: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0, total: 15 },
  cost: { usd: null, source: "unknown" },
  usageSource: "model.usage",
  outcome: "success",
  attempts: 1,
  revision: 1,
};

function itemOf(value: Turn): ExportItem<TurnExport> {
  const spans = toTraceSpans(value, {
    hashId: (id) => (id ? `h-${id.length}` : undefined),
    captureContent: false,
  });
  return { id: value.id, payload: { id: value.id, spans, logs: [] }, enqueuedAt: 0 };
}

describe("createTraceSender", () => {
  let receiver: HttpReceiver;
  beforeEach(async () => {
    receiver = await createHttpReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it("waits (retry) while the experiment is unknown, sending nothing", async () => {
    const sender = createTraceSender({
      trackingUri: receiver.url,
      lifecycle: { ensureRun: async () => undefined },
    });
    const result = await sender.send([itemOf(turn)], new AbortController().signal);
    expect(result.kind).toBe("retry");
    expect(receiver.requests).toHaveLength(0);
  });

  it("posts protobuf spans to /v1/traces at the server root with the experiment, run and auth headers", async () => {
    const run: RunState = { runId: "r-1", experimentId: "7", startedAt: 0, gatewayInstance: "g", pid: 1 };
    const sender = createTraceSender({
      trackingUri: `${receiver.url}/`,
      authorization: "Bearer t0k3n",
      lifecycle: { ensureRun: async () => run },
    });
    expect(sender.endpoint).toBe(`${receiver.url}/v1/traces`);
    const result = await sender.send([itemOf(turn)], new AbortController().signal);
    expect(result.kind).toBe("ok");
    const [request] = receiver.requests;
    expect(request?.path).toBe("/v1/traces");
    expect(request?.headers).toMatchObject({
      "content-type": "application/x-protobuf",
      "x-mlflow-experiment-id": "7",
      "x-mlflow-run-id": "r-1",
      authorization: "Bearer t0k3n",
    });
    const decoded = decodeOtlpRequest("traces", request?.body ?? Buffer.alloc(0), "application/x-protobuf");
    expect(decoded.spans.map((span) => span.name)).toEqual(["invoke_agent main", "chat gpt-4o"]);
    expect(sender.stats()?.exportedRecords).toBe(2);
  });
});
