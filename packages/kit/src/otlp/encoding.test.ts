import { describe, expect, it } from "vitest";
import { decodeOtlpRequest } from "../../../testing/src/index.js";
import {
  createOtlpEncoder,
  DEFAULT_OTLP_SCOPE_NAME,
  mergeOtlpBodies,
  type OtlpProtocol,
  toHrTime,
} from "./encoding.js";
import type { LogRecordData, SpanRecord } from "./records.js";

const SCOPE_NAME = "clawscope-test";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const ROOT_ID = "00f067aa0ba902b7";
const CHILD_ID = "a1b2c3d4e5f60718";
const OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const START = 1_763_798_400_123;

const root: SpanRecord = {
  traceId: TRACE_ID,
  spanId: ROOT_ID,
  name: "invoke_agent main",
  kind: "internal",
  startTimeMs: START,
  endTimeMs: START + 2_500,
  attributes: {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.usage.input_tokens": 1234,
    "gen_ai.usage.cost": 0.0125,
    "openclaw.turn.incomplete": false,
    "openclaw.tools": ["read", "exec"],
    "openclaw.latencies": [1.5, 2],
    "openclaw.flags": [true, false],
  },
  status: { code: "error", message: "provider answered 400" },
  events: [{ name: "exception", timeMs: START + 2_000, attributes: { "exception.type": "ProviderError" } }],
  links: [{ traceId: OTHER_TRACE, spanId: CHILD_ID, attributes: { "link.reason": "retry of" } }],
};
const child: SpanRecord = {
  traceId: TRACE_ID,
  spanId: CHILD_ID,
  parentSpanId: ROOT_ID,
  name: "chat gpt-5",
  kind: "client",
  startTimeMs: START + 10,
  endTimeMs: START + 900,
  attributes: { "gen_ai.request.model": "gpt-5", "gen_ai.provider.name": "openai" },
  status: { code: "ok" },
};
const resourceAttributes = { "service.name": "openclaw-gateway", "service.instance.id": "gw-1" };

describe.each<[OtlpProtocol, string]>([
  ["http/protobuf", "application/x-protobuf"],
  ["http/json", "application/json"],
])("span encoding as %s", (protocol, contentType) => {
  const encoder = createOtlpEncoder({
    protocol,
    resourceAttributes,
    scopeName: SCOPE_NAME,
    scopeVersion: "0.1.0",
  });

  it("round-trips ids, parentage, times, attributes, events, links and status exactly", () => {
    const encoded = encoder.encodeSpans([root, child]);
    expect(encoded.contentType).toBe(contentType);
    expect(encoded.count).toBe(2);
    expect(encoded.dropped).toBe(0);
    const { spans } = decodeOtlpRequest("traces", encoded.body, encoded.contentType);
    expect(spans).toHaveLength(2);
    const [decodedRoot, decodedChild] = spans;
    expect(decodedRoot).toMatchObject({
      traceId: TRACE_ID,
      spanId: ROOT_ID,
      name: "invoke_agent main",
      kind: 1,
      startTimeUnixNano: START * 1e6,
      endTimeUnixNano: (START + 2_500) * 1e6,
      status: { code: 2, message: "provider answered 400" },
      resource: resourceAttributes,
      scope: { name: SCOPE_NAME, version: "0.1.0" },
    });
    expect(decodedRoot?.parentSpanId).toBeUndefined();
    expect(decodedRoot?.attributes).toEqual(root.attributes);
    expect(decodedRoot?.events).toEqual([
      {
        name: "exception",
        timeUnixNano: (START + 2_000) * 1e6,
        attributes: { "exception.type": "ProviderError" },
      },
    ]);
    expect(decodedRoot?.links).toEqual([
      { traceId: OTHER_TRACE, spanId: CHILD_ID, attributes: { "link.reason": "retry of" } },
    ]);
    expect(decodedChild).toMatchObject({
      traceId: TRACE_ID,
      spanId: CHILD_ID,
      parentSpanId: ROOT_ID,
      kind: 3,
      startTimeUnixNano: (START + 10) * 1e6,
      endTimeUnixNano: (START + 900) * 1e6,
      attributes: child.attributes,
      status: { code: 1 },
    });
  });

  it("leaves out spans that cannot be valid OTLP and counts them", () => {
    const bad = [
      { ...child, spanId: "xyz" },
      { ...child, traceId: "0".repeat(32) },
      { ...child, startTimeMs: Number.NaN },
      null as unknown as SpanRecord,
    ];
    const encoded = encoder.encodeSpans([...bad, child]);
    expect(encoded.count).toBe(1);
    expect(encoded.dropped).toBe(4);
    expect(
      decodeOtlpRequest("traces", encoded.body, encoded.contentType).spans.map((span) => span.spanId),
    ).toEqual([CHILD_ID]);
  });

  it("drops attribute values OTLP cannot carry, sends flat maps as kvlists, and keeps a __proto__ key as a plain key", () => {
    const attributes = JSON.parse(
      '{"ok":"yes","nested":{"a":1,"deep":{"x":1},"list":[1]},"empty":{},"onlyDeep":{"d":{"x":1}},"nan":null,"__proto__":"kept","mixed":["a",1,"b"]}',
    ) as SpanRecord["attributes"];
    (attributes as Record<string, unknown>).infinite = Number.POSITIVE_INFINITY;
    const encoded = encoder.encodeSpans([{ ...child, attributes, endTimeMs: child.startTimeMs - 5 }]);
    const [span] = decodeOtlpRequest("traces", encoded.body, encoded.contentType).spans;
    expect({ ...span?.attributes }).toEqual({
      ok: "yes",
      nested: { a: 1 },
      ["__proto__"]: "kept",
      mixed: ["a", "b"],
    });
    // an end before the start is clamped to the start rather than sent negative
    expect(span?.endTimeUnixNano).toBe(span?.startTimeUnixNano);
  });

  it("merges two request bodies into one request holding both", () => {
    const first = encoder.encodeSpans([root]);
    const second = encoder.encodeSpans([child]);
    const merged = mergeOtlpBodies([first.body, second.body], contentType);
    expect(merged.skipped).toBe(0);
    const { spans } = decodeOtlpRequest("traces", merged.body, contentType);
    expect(spans.map((span) => span.spanId)).toEqual([ROOT_ID, CHILD_ID]);
  });
});

describe("createOtlpEncoder scope", () => {
  it("names the scope after the extension, or the kit's default when none is given", () => {
    expect(createOtlpEncoder({ scopeName: "clawscope-mlflow" }).scope.name).toBe("clawscope-mlflow");
    expect(createOtlpEncoder({ scopeName: "" }).scope.name).toBe(DEFAULT_OTLP_SCOPE_NAME);
    expect(DEFAULT_OTLP_SCOPE_NAME).toBe("clawscope");
  });
});

describe("mergeOtlpBodies", () => {
  it("leaves out a JSON body that does not parse and counts it", () => {
    const encoder = createOtlpEncoder({ protocol: "http/json" });
    const good = encoder.encodeSpans([child]).body;
    const merged = mergeOtlpBodies([good, new TextEncoder().encode("{not json"), good], "application/json");
    expect(merged.skipped).toBe(1);
    expect(decodeOtlpRequest("traces", merged.body, "application/json").spans).toHaveLength(2);
  });
});

describe.each<OtlpProtocol>(["http/protobuf", "http/json"])("log encoding as %s", (protocol) => {
  const encoder = createOtlpEncoder({
    protocol,
    resourceAttributes,
    scopeName: SCOPE_NAME,
    scopeVersion: "0.1.0",
  });
  const logs: LogRecordData[] = [
    {
      timeMs: START + 2_500,
      severity: "ERROR",
      body: "turn failed: provider answered 400",
      attributes: { "error.type": "provider_error", "openclaw.outcome": "error" },
      traceId: TRACE_ID,
      spanId: ROOT_ID,
    },
    { timeMs: START + 3_000, severity: "INFO", body: "turn completed", attributes: {}, traceId: TRACE_ID },
    {
      timeMs: START + 3_100,
      severity: "WARN",
      body: "uncorrelated",
      attributes: { n: 3 },
      traceId: "not-hex",
    },
  ];

  it("round-trips severity, body, attributes, times and trace correlation", () => {
    const encoded = encoder.encodeLogs(logs);
    expect(encoded.count).toBe(3);
    const decoded = decodeOtlpRequest("logs", encoded.body, encoded.contentType).logs;
    expect(decoded[0]).toMatchObject({
      timeUnixNano: (START + 2_500) * 1e6,
      observedTimeUnixNano: (START + 2_500) * 1e6,
      severityNumber: 17,
      severityText: "ERROR",
      body: "turn failed: provider answered 400",
      attributes: { "error.type": "provider_error", "openclaw.outcome": "error" },
      traceId: TRACE_ID,
      spanId: ROOT_ID,
      resource: resourceAttributes,
      scope: { name: SCOPE_NAME, version: "0.1.0" },
    });
    // a log of the turn without a span still carries its trace
    expect(decoded[1]).toMatchObject({ severityNumber: 9, traceId: TRACE_ID });
    expect(decoded[1]?.spanId).toBeUndefined();
    // a bad trace id costs the correlation, not the record
    expect(decoded[2]).toMatchObject({ severityNumber: 13, body: "uncorrelated", attributes: { n: 3 } });
    expect(decoded[2]?.traceId).toBeUndefined();
  });

  it("encodes nothing for no logs", () => {
    const encoded = encoder.encodeLogs([]);
    expect(encoded.count).toBe(0);
    expect(encoded.body.byteLength).toBe(0);
  });
});

describe("toHrTime", () => {
  it("keeps fractions of a millisecond to the microsecond", () => {
    expect(toHrTime(1_700_000_000_123.456)).toEqual([1_700_000_000, 123_456_000]);
    expect(toHrTime(START)).toEqual([1_763_798_400, 123_000_000]);
    expect(toHrTime(999.9999)).toEqual([1, 0]);
  });
});
