import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeOtlpRequest, otlpRequestMessage, otlpSignalFromPath } from "./otlp-decoder.js";

const TRACE_ID = "5b8efff798038103d269b633813fc60c";
const SPAN_ID = "eee19b7ec3c1b174";
const PARENT_ID = "eee19b7ec3c1b173";
const START = "1700000000123456768";
const END = "1700000001123456768";

function encode(signal: "traces" | "metrics" | "logs", object: Record<string, unknown>): Uint8Array {
  const message = otlpRequestMessage(signal) as unknown as {
    fromObject: (value: unknown) => unknown;
    encode: (message: unknown) => { finish: () => Uint8Array };
  };
  return message.encode(message.fromObject(object)).finish();
}

const hexBytes = (hex: string) => Buffer.from(hex, "hex");
const resource = { attributes: [{ key: "service.name", value: { stringValue: "openclaw-gateway" } }] };
const scope = { name: "clawscope-otel", version: "0.1.0" };

function traceRequest(ids: (hex: string) => unknown, times: (text: string) => unknown) {
  return {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope,
            spans: [
              {
                traceId: ids(TRACE_ID),
                spanId: ids(SPAN_ID),
                parentSpanId: ids(PARENT_ID),
                name: "chat mock-model",
                kind: 3,
                startTimeUnixNano: times(START),
                endTimeUnixNano: times(END),
                attributes: [
                  { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
                  { key: "gen_ai.usage.input_tokens", value: { intValue: times("111") } },
                  { key: "gen_ai.usage.cost", value: { doubleValue: 0.000663 } },
                  { key: "stream", value: { boolValue: true } },
                  {
                    key: "tags",
                    value: { arrayValue: { values: [{ stringValue: "a" }, { intValue: times("2") }] } },
                  },
                  {
                    key: "meta",
                    value: { kvlistValue: { values: [{ key: "k", value: { stringValue: "v" } }] } },
                  },
                ],
                events: [{ name: "first_token", timeUnixNano: times(START), attributes: [] }],
                links: [{ traceId: ids(TRACE_ID), spanId: ids(PARENT_ID) }],
                status: { code: 2, message: "provider error" },
              },
            ],
          },
        ],
      },
    ],
  };
}

const expectedSpan = {
  resource: { "service.name": "openclaw-gateway" },
  scope: { name: "clawscope-otel", version: "0.1.0", attributes: {} },
  traceId: TRACE_ID,
  spanId: SPAN_ID,
  parentSpanId: PARENT_ID,
  name: "chat mock-model",
  kind: 3,
  startTimeUnixNano: Number(START),
  endTimeUnixNano: Number(END),
  attributes: {
    "gen_ai.operation.name": "chat",
    "gen_ai.usage.input_tokens": 111,
    "gen_ai.usage.cost": 0.000663,
    stream: true,
    tags: ["a", 2],
    meta: { k: "v" },
  },
  events: [{ name: "first_token", timeUnixNano: Number(START), attributes: {} }],
  links: [{ traceId: TRACE_ID, spanId: PARENT_ID, attributes: {} }],
  status: { code: 2, message: "provider error" },
};

describe("decodeOtlpRequest: traces", () => {
  it("decodes protobuf (base64 ids, string int64s) to hex ids and numbers", () => {
    const body = encode(
      "traces",
      traceRequest(hexBytes, (text) => text),
    );
    expect(decodeOtlpRequest("traces", body, "application/x-protobuf")).toEqual({
      signal: "traces",
      spans: [expectedSpan],
    });
  });

  it("decodes OTLP/JSON (hex ids, numbers or strings) to the same shape", () => {
    const asNumbers = JSON.stringify(
      traceRequest(
        (hex) => hex.toUpperCase(),
        (text) => Number(text),
      ),
    );
    const asStrings = JSON.stringify(
      traceRequest(
        (hex) => hex,
        (text) => text,
      ),
    );
    expect(decodeOtlpRequest("traces", asNumbers, "application/json").spans).toEqual([expectedSpan]);
    expect(
      decodeOtlpRequest("traces", Buffer.from(asStrings), "application/json; charset=utf-8").spans,
    ).toEqual([expectedSpan]);
    expect(decodeOtlpRequest("traces", JSON.parse(asStrings)).spans).toEqual([expectedSpan]);
  });

  it("leaves out the parent of a root span and accepts enum names", () => {
    const request = traceRequest(
      (hex) => hex,
      (text) => text,
    );
    const span = request.resourceSpans[0]?.scopeSpans[0]?.spans[0] as Record<string, unknown>;
    span.parentSpanId = "";
    span.kind = "SPAN_KIND_SERVER";
    const decoded = decodeOtlpRequest("traces", JSON.stringify(request), "application/json").spans[0];
    expect(decoded).not.toHaveProperty("parentSpanId");
    expect(decoded?.kind).toBe(2);
  });

  it("says in one line what is wrong with a bad body", () => {
    expect(() => decodeOtlpRequest("traces", "{not json", "application/json")).toThrow(
      /^not a valid OTLP traces JSON body: /,
    );
    expect(() =>
      decodeOtlpRequest("traces", Buffer.from([0xff, 0xff, 0xff]), "application/x-protobuf"),
    ).toThrow(/^not a valid OTLP traces protobuf body: [^\n]+$/);
  });

  it.skipIf(!existsSync("/work/shared/reference/langfuse/langfuse-js-sdk-5.11.1-otlp-export.json"))(
    "decodes a real OTLP/JSON export of the Langfuse SDK",
    () => {
      const exports = JSON.parse(
        readFileSync("/work/shared/reference/langfuse/langfuse-js-sdk-5.11.1-otlp-export.json", "utf8"),
      ) as { url: string; body: Record<string, unknown> }[];
      const spans = exports.flatMap((item) => decodeOtlpRequest("traces", item.body).spans);
      expect(spans.length).toBeGreaterThan(0);
      const generation = spans.find((span) => span.name === "llm-call");
      expect(generation?.traceId).toBe("646360e5fede17da60141df5a4965a74");
      expect(generation?.attributes["session.id"]).toBe("s1");
    },
  );
});

describe("decodeOtlpRequest: metrics", () => {
  const metricsRequest = (times: (text: string) => unknown) => ({
    resourceMetrics: [
      {
        resource,
        scopeMetrics: [
          {
            scope,
            metrics: [
              {
                name: "gen_ai.client.token.usage.total",
                unit: "{token}",
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [{ key: "gen_ai.token.type", value: { stringValue: "input" } }],
                      startTimeUnixNano: times(START),
                      timeUnixNano: times(END),
                      asInt: times("222"),
                    },
                  ],
                },
              },
              {
                name: "clawscope.queue.depth",
                gauge: { dataPoints: [{ timeUnixNano: times(END), asDouble: 1.5 }] },
              },
              {
                name: "gen_ai.client.operation.duration",
                unit: "s",
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      timeUnixNano: times(END),
                      count: times("3"),
                      sum: 4.5,
                      min: 0.5,
                      max: 2,
                      bucketCounts: [times("1"), times("2"), times("0")],
                      explicitBounds: [1, 2],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  });

  const expected = [
    {
      name: "gen_ai.client.token.usage.total",
      unit: "{token}",
      type: "sum",
      aggregationTemporality: 2,
      isMonotonic: true,
      dataPoints: [
        {
          attributes: { "gen_ai.token.type": "input" },
          startTimeUnixNano: Number(START),
          timeUnixNano: Number(END),
          value: 222,
        },
      ],
    },
    {
      name: "clawscope.queue.depth",
      type: "gauge",
      dataPoints: [{ attributes: {}, timeUnixNano: Number(END), value: 1.5 }],
    },
    {
      name: "gen_ai.client.operation.duration",
      unit: "s",
      type: "histogram",
      aggregationTemporality: 1,
      dataPoints: [
        {
          attributes: {},
          timeUnixNano: Number(END),
          count: 3,
          sum: 4.5,
          min: 0.5,
          max: 2,
          bucketCounts: [1, 2, 0],
          explicitBounds: [1, 2],
        },
      ],
    },
  ];

  it("decodes protobuf and JSON sums, gauges and histograms alike", () => {
    const fromProtobuf = decodeOtlpRequest(
      "metrics",
      encode(
        "metrics",
        metricsRequest((text) => text),
      ),
    );
    const fromJson = decodeOtlpRequest(
      "metrics",
      JSON.stringify(metricsRequest((text) => Number(text))),
      "application/json",
    );
    expect(fromProtobuf.metrics).toMatchObject(expected);
    expect(fromJson.metrics).toEqual(fromProtobuf.metrics);
    expect(fromProtobuf.metrics[0]?.resource).toEqual({ "service.name": "openclaw-gateway" });
  });
});

describe("decodeOtlpRequest: logs", () => {
  const logsRequest = (ids: (hex: string) => unknown) => ({
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            scope,
            logRecords: [
              {
                timeUnixNano: START,
                severityNumber: 17,
                severityText: "ERROR",
                body: {
                  kvlistValue: { values: [{ key: "message", value: { stringValue: "export failed" } }] },
                },
                attributes: [{ key: "clawscope.extension", value: { stringValue: "otel" } }],
                traceId: ids(TRACE_ID),
                spanId: ids(SPAN_ID),
                eventName: "clawscope.export.error",
              },
              { body: { stringValue: "plain" } },
            ],
          },
        ],
      },
    ],
  });

  it("decodes protobuf and JSON log records alike", () => {
    const fromProtobuf = decodeOtlpRequest("logs", encode("logs", logsRequest(hexBytes)));
    const fromJson = decodeOtlpRequest("logs", JSON.stringify(logsRequest((hex) => hex)), "application/json");
    expect(fromProtobuf.logs).toEqual([
      {
        resource: { "service.name": "openclaw-gateway" },
        scope: { name: "clawscope-otel", version: "0.1.0", attributes: {} },
        timeUnixNano: Number(START),
        severityNumber: 17,
        severityText: "ERROR",
        body: { message: "export failed" },
        attributes: { "clawscope.extension": "otel" },
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        eventName: "clawscope.export.error",
      },
      {
        resource: { "service.name": "openclaw-gateway" },
        scope: { name: "clawscope-otel", version: "0.1.0", attributes: {} },
        body: "plain",
        attributes: {},
      },
    ]);
    expect(fromJson.logs).toEqual(fromProtobuf.logs);
  });
});

describe("otlpSignalFromPath", () => {
  it("reads the signal from OTLP/HTTP paths", () => {
    expect(otlpSignalFromPath("/v1/traces")).toBe("traces");
    expect(otlpSignalFromPath("/api/public/otel/v1/metrics")).toBe("metrics");
    expect(otlpSignalFromPath("/v1/logs?x=1")).toBe("logs");
    expect(otlpSignalFromPath("/v1/tracesx")).toBeUndefined();
  });
});
