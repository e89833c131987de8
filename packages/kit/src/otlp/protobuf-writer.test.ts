import { ProtobufLogsSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { describe, expect, it } from "vitest";
import { toReadableLogRecord, toReadableSpan } from "./encoding.js";
import { serializeLogsRequest, serializeSpansRequest } from "./protobuf-writer.js";
import type { LogRecordData, SpanRecord } from "./records.js";

/** Records that reach every branch of the writer: value kinds, lengths, ids, times, events, links. */
function variedSpans(): SpanRecord[] {
  const long = "a".repeat(300);
  const unicode = "héllo ✓ 𝄞 — ".repeat(40);
  return [
    {
      traceId: "0123456789abcdef0123456789abcdef",
      spanId: "0123456789abcdef",
      name: "invoke_agent main",
      kind: "server",
      startTimeMs: 1_764_000_000_123.456,
      endTimeMs: 1_764_000_003_999.001,
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        short: "x",
        empty: "",
        long,
        unicode,
        lone: "\ud800 broken",
        flag: true,
        off: false,
        zero: 0,
        count: 42,
        big: 5_000_000_000,
        negative: -7,
        hugeNegative: -5_000_000_000,
        fraction: 0.0012,
        tiny: 1e-12,
        strings: ["a", "bé", long],
        numbers: [1, 2.5, -3],
        booleans: [true, false],
        none: [],
        cost: { total: 0.0042, currency: "USD", estimated: true },
      },
      status: { code: "ok" },
    },
    {
      traceId: "0123456789abcdef0123456789abcdef",
      spanId: "fedcba9876543210",
      parentSpanId: "0123456789abcdef",
      name: "chat gpt-4o ✓",
      kind: "client",
      startTimeMs: 0.001,
      endTimeMs: 4_102_444_800_000.5,
      attributes: Object.fromEntries(
        Array.from({ length: 40 }, (_, index) => [`key.${index}`, long + index]),
      ),
      status: { code: "error", message: `rate_limit: ${long}` },
      events: [
        { name: "gen_ai.choice", timeMs: 1_764_000_001_000, attributes: { index: 0, text: unicode } },
        { name: "exception", timeMs: 1_764_000_001_500 },
      ],
      links: [
        {
          traceId: "ffffffffffffffffffffffffffffffff",
          spanId: "1111111111111111",
          attributes: { why: "host" },
        },
        { traceId: "abababababababababababababababab", spanId: "2222222222222222" },
      ],
    },
    {
      traceId: "ABCDEFABCDEFABCDEFABCDEFABCDEF12",
      spanId: "00000000000000ff",
      name: "",
      kind: "internal",
      startTimeMs: 1_764_000_000_000,
      endTimeMs: 1_763_000_000_000,
      attributes: {},
      status: { code: "unset", message: "ignored unless error" },
    },
  ];
}

function variedLogs(): LogRecordData[] {
  return [
    {
      timeMs: 1_764_000_000_123.456,
      severity: "INFO",
      body: "turn completed",
      attributes: { "openclaw.agent": "main", tokens: 222, cost: 0.001326, ok: true },
      traceId: "0123456789abcdef0123456789abcdef",
      spanId: "0123456789abcdef",
    },
    {
      timeMs: 1_764_000_000_999,
      severity: "ERROR",
      body: `${"é".repeat(200)} failed`,
      attributes: { list: ["a", "b"], map: { a: 1, b: "two" } },
      traceId: "0123456789abcdef0123456789abcdef",
    },
    { timeMs: 5, severity: "DEBUG", body: "", attributes: {} },
  ];
}

const resource = resourceFromAttributes({
  "service.name": "openclaw-gateway",
  "service.version": "2026.9.6",
  "host.name": "gw-1",
});
const scope = { name: "clawscope-otel", version: "0.1.0" };
const otherResource = resourceFromAttributes({ "service.name": "other" });
const otherScope = { name: "other-scope" };

describe("serializeSpansRequest", () => {
  it("writes the official serializer's bytes", () => {
    const spans = variedSpans().flatMap((record) => toReadableSpan(record, resource, scope) ?? []);
    expect(spans).toHaveLength(3);
    const ours = serializeSpansRequest(spans);
    expect(Buffer.from(ours).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? []))).toBe(
      true,
    );
    expect(ours.length).toBeGreaterThan(14_000);
  });

  it("groups by resource and scope like the official serializer, and grows past its first buffer", () => {
    const records = Array.from({ length: 120 }, () => variedSpans()).flat();
    const spans = records.flatMap((record, index) => {
      const span = toReadableSpan(
        record,
        index % 3 === 0 ? otherResource : resource,
        index % 5 === 0 ? otherScope : scope,
      );
      return span ? [span] : [];
    });
    const ours = serializeSpansRequest(spans);
    expect(ours.length).toBeGreaterThan(1024 * 1024);
    expect(Buffer.from(ours).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? []))).toBe(
      true,
    );
    // the next, small request starts clean
    const one = spans.slice(0, 1);
    expect(
      Buffer.from(serializeSpansRequest(one)).equals(
        Buffer.from(ProtobufTraceSerializer.serializeRequest(one) ?? []),
      ),
    ).toBe(true);
  });

  it("writes nothing for no spans", () => {
    expect(serializeSpansRequest([])).toHaveLength(0);
  });
});

describe("serializeLogsRequest", () => {
  it("writes the official serializer's bytes", () => {
    const logs = [...variedLogs(), ...variedLogs()].flatMap((record, index) => {
      const log = toReadableLogRecord(record, index > 2 ? otherResource : resource, scope);
      return log ? [log] : [];
    });
    expect(logs).toHaveLength(6);
    expect(
      Buffer.from(serializeLogsRequest(logs)).equals(
        Buffer.from(ProtobufLogsSerializer.serializeRequest(logs) ?? []),
      ),
    ).toBe(true);
  });
});
