import { describe, expect, it } from "vitest";
import {
  checkLangfuseTraceExport,
  describeLangfuseExportRejection,
  isRejectedExport,
} from "./langfuse-otlp-rules.js";

const TRACE_ID = "bb14c33c23138873afcc5e6f3c2b5f61";
const SPAN_ID = "cb00000daff4e5ae";

function wrap(spans: unknown, scopeName = "clawscope-langfuse") {
  return [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: scopeName }, spans }] }];
}

describe("checkLangfuseTraceExport", () => {
  it("passes well-formed spans, with or without a parent", () => {
    const check = checkLangfuseTraceExport(
      wrap([
        { traceId: TRACE_ID, spanId: SPAN_ID, attributes: [], events: [] },
        { traceId: TRACE_ID, spanId: "cb00000daff4e5af", parentSpanId: SPAN_ID },
        { traceId: TRACE_ID, spanId: "cb00000daff4e5b0", parentSpanId: "" },
      ]),
      { ids: "hex" },
    );
    expect(isRejectedExport(check)).toBe(false);
    expect(check.totalSpanCount).toBe(3);
  });

  it.each([
    [{ spanId: SPAN_ID }, "traceId:absent"],
    [{ traceId: "00000000000000000000000000000000", spanId: SPAN_ID }, "traceId:all_zero"],
    [{ traceId: TRACE_ID.slice(2), spanId: SPAN_ID }, "traceId:wrong_length"],
    [{ traceId: `${TRACE_ID.slice(2)}zz`, spanId: SPAN_ID }, "traceId:not_hex"],
    [{ traceId: 42, spanId: SPAN_ID }, "traceId:not_an_id"],
    [{ traceId: TRACE_ID, spanId: "0000000000000000" }, "spanId:all_zero"],
    [{ traceId: TRACE_ID, spanId: TRACE_ID }, "spanId:wrong_length"],
    [{ traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: "abc" }, "parentSpanId:wrong_length"],
    [{ traceId: TRACE_ID, spanId: SPAN_ID, attributes: { key: "value" } }, "attributes:not_an_array"],
    [{ traceId: TRACE_ID, spanId: SPAN_ID, events: {} }, "events:not_an_array"],
    [{ traceId: TRACE_ID, spanId: SPAN_ID, events: [{ attributes: {} }] }, "event.attributes:not_an_array"],
  ])("rejects the export for %j (%s)", (bad, reason) => {
    const check = checkLangfuseTraceExport(wrap([{ traceId: TRACE_ID, spanId: SPAN_ID }, bad]), {
      ids: "hex",
    });
    expect(isRejectedExport(check)).toBe(true);
    expect(check.reasons).toEqual([reason]);
    expect(check.invalidSpanCount).toBe(1);
    expect(check.totalSpanCount).toBe(2);
  });

  it.each([
    [{ resourceSpans: {} }, "resourceSpans:not_an_array"],
    [[{ scopeSpans: {} }], "scopeSpans:not_an_array"],
    [[{ scopeSpans: [{ spans: 7 }] }], "spans:not_an_array"],
    [[{ resource: { attributes: {} }, scopeSpans: [] }], "resource.attributes:not_an_array"],
    [
      [{ scopeSpans: [{ scope: { name: "s", attributes: {} }, spans: [] }] }],
      "scope.attributes:not_an_array",
    ],
  ])("rejects a non-array collection %j", (payload, reason) => {
    const input = "resourceSpans" in payload ? payload.resourceSpans : payload;
    const check = checkLangfuseTraceExport(input, { ids: "hex" });
    expect(check.malformedCollectionCount).toBe(1);
    expect(check.reasons).toEqual([reason]);
  });

  it("checks base64 ids (decoded protobuf) by byte length", () => {
    const base64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
    const ok = checkLangfuseTraceExport(wrap([{ traceId: base64(TRACE_ID), spanId: base64(SPAN_ID) }]), {
      ids: "base64",
    });
    expect(isRejectedExport(ok)).toBe(false);
    const bad = checkLangfuseTraceExport(wrap([{ traceId: base64(TRACE_ID), spanId: base64("cb00") }]), {
      ids: "base64",
    });
    expect(bad.reasons).toEqual(["spanId:wrong_length"]);
  });

  it("tolerates absent and empty collections and garbage entries", () => {
    for (const payload of [
      undefined,
      null,
      [],
      [null, 1, "x"],
      [{ scopeSpans: null }],
      wrap(null),
      wrap([]),
    ]) {
      expect(isRejectedExport(checkLangfuseTraceExport(payload, { ids: "hex" }))).toBe(false);
    }
  });

  it("words the rejection like Langfuse and caps the sampled scope names", () => {
    const payload = Array.from({ length: 10 }, (_unused, index) => wrap([{}], `scope-${index}`)).flat();
    const check = checkLangfuseTraceExport(payload, { ids: "hex", maxSamples: 2 });
    expect(check.scopeNames).toEqual(["scope-0", "scope-1"]);
    expect(check.reasonCounts).toEqual({ "traceId:absent": 10, "spanId:absent": 10 });
    const message = describeLangfuseExportRejection(check);
    expect(message).toMatch(/^Invalid OTLP trace export: 10 of 10 span\(s\) cannot be processed/);
    expect(message).toMatch(/The entire export was rejected and no spans were ingested/);
  });
});
