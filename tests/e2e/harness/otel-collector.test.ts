import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollectorHandle, ensureCollectorBinary, startCollector } from "./otel-collector.js";
import { encodeOtlpRequest } from "./otlp-encode.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const resource = { attributes: [{ key: "service.name", value: { stringValue: "openclaw-gateway" } }] };
const scope = { name: "clawscope-otel", version: "0.1.0" };
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

function traceExport(traceId: string, spanId: string, parentSpanId: string, name: string) {
  return {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope,
            spans: [
              {
                traceId,
                spanId,
                parentSpanId,
                name,
                kind: 3,
                startTimeUnixNano: "1700000000123000000",
                endTimeUnixNano: "1700000001123000000",
                attributes: [
                  { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
                  { key: "gen_ai.usage.input_tokens", value: { intValue: "111" } },
                  { key: "gen_ai.usage.cost", value: { doubleValue: 0.000663 } },
                  { key: "stream", value: { boolValue: true } },
                ],
                status: { code: 2, message: "provider error" },
              },
            ],
          },
        ],
      },
    ],
  };
}

async function post(
  collector: CollectorHandle,
  signal: "traces" | "metrics" | "logs",
  body: Uint8Array | string,
  contentType: string,
): Promise<number> {
  const response = await fetch(`${collector.endpoint}/v1/${signal}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : Buffer.from(body),
  });
  await response.arrayBuffer();
  return response.status;
}

async function postTraceProtobuf(collector: CollectorHandle, traceId: string, name: string): Promise<number> {
  const body = encodeOtlpRequest("traces", traceExport(traceId, hex(8), hex(8), name));
  return await post(collector, "traces", body, "application/x-protobuf");
}

describe("real OpenTelemetry Collector (ocb build, OTLP/HTTP → file exporter)", () => {
  const dir = path.join(REPO_ROOT, ".e2e-tmp", `otelcol-${Date.now()}-${hex(3)}`);
  let collector: CollectorHandle;

  beforeAll(async () => {
    // a cold build downloads modules and compiles for minutes; a cached one returns at once
    await ensureCollectorBinary();
    collector = await startCollector({ dir });
  }, 35 * 60_000);

  afterAll(async () => {
    await collector?.stop();
    if (process.env.CLAWSCOPE_E2E_KEEP !== "1" && existsSync(dir)) rmSync(dir, { recursive: true });
  });

  it("listens on 127.0.0.1 and hands back a protobuf trace export with hex ids and typed attributes", async () => {
    expect(collector.endpoint).toBe(`http://127.0.0.1:${collector.port}`);
    expect(collector.pid).toBeGreaterThan(0);
    const [traceId, spanId, parentSpanId] = [hex(16), hex(8), hex(8)];
    const body = encodeOtlpRequest("traces", traceExport(traceId, spanId, parentSpanId, "chat mock-model"));
    expect(await post(collector, "traces", body, "application/x-protobuf")).toBe(200);

    await waitFor(() => collector.readTraces().some((span) => span.traceId === traceId), 10_000, {
      message: "span in traces.jsonl",
    });
    const spans = collector.readTraces().filter((span) => span.traceId === traceId);
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({
      traceId,
      spanId,
      parentSpanId,
      name: "chat mock-model",
      kind: 3,
      startTimeUnixNano: 1700000000123000000,
      endTimeUnixNano: 1700000001123000000,
      resource: { "service.name": "openclaw-gateway" },
      scope: { name: "clawscope-otel", version: "0.1.0" },
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.usage.input_tokens": 111,
        "gen_ai.usage.cost": 0.000663,
        stream: true,
      },
      status: { code: 2, message: "provider error" },
    });
  });

  it("hands back an OTLP/JSON metrics export: sum and histogram with their points", async () => {
    const run = hex(4);
    const request = {
      resourceMetrics: [
        {
          resource,
          scopeMetrics: [
            {
              scope,
              metrics: [
                {
                  name: `openclaw.tokens.${run}`,
                  unit: "{token}",
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        attributes: [{ key: "openclaw.token.type", value: { stringValue: "input" } }],
                        startTimeUnixNano: "1700000000000000000",
                        timeUnixNano: "1700000005000000000",
                        asInt: "111",
                      },
                      {
                        attributes: [{ key: "openclaw.token.type", value: { stringValue: "output" } }],
                        startTimeUnixNano: "1700000000000000000",
                        timeUnixNano: "1700000005000000000",
                        asInt: "22",
                      },
                    ],
                  },
                },
                {
                  name: `openclaw.run.duration_ms.${run}`,
                  unit: "ms",
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        startTimeUnixNano: "1700000000000000000",
                        timeUnixNano: "1700000005000000000",
                        count: "3",
                        sum: 1250.5,
                        bucketCounts: ["1", "2", "0"],
                        explicitBounds: [100, 1000],
                        min: 50,
                        max: 900.5,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    expect(await post(collector, "metrics", JSON.stringify(request), "application/json")).toBe(200);

    const ours = () => collector.readMetrics().filter((metric) => metric.name.endsWith(`.${run}`));
    await waitFor(() => ours().length === 2, 10_000, { message: "metrics in metrics.jsonl" });
    const [tokens, duration] = ours();
    expect(tokens).toMatchObject({
      type: "sum",
      unit: "{token}",
      aggregationTemporality: 2,
      isMonotonic: true,
    });
    expect(tokens?.dataPoints.map((point) => [point.attributes["openclaw.token.type"], point.value])).toEqual(
      [
        ["input", 111],
        ["output", 22],
      ],
    );
    expect(duration).toMatchObject({ type: "histogram", unit: "ms" });
    expect(duration?.dataPoints[0]).toMatchObject({
      count: 3,
      sum: 1250.5,
      min: 50,
      max: 900.5,
      bucketCounts: [1, 2, 0],
      explicitBounds: [100, 1000],
      timeUnixNano: 1700000005000000000,
    });
  });

  it("hands back an OTLP/JSON logs export correlated with its trace", async () => {
    const [traceId, spanId] = [hex(16), hex(8)];
    const request = {
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              scope,
              logRecords: [
                {
                  timeUnixNano: "1700000002000000000",
                  severityNumber: 17,
                  severityText: "ERROR",
                  body: { stringValue: "turn failed: provider returned 400" },
                  attributes: [
                    { key: "openclaw.outcome", value: { stringValue: "error" } },
                    { key: "openclaw.tokens.total", value: { intValue: "133" } },
                  ],
                  traceId,
                  spanId,
                },
              ],
            },
          ],
        },
      ],
    };
    expect(await post(collector, "logs", JSON.stringify(request), "application/json")).toBe(200);

    await waitFor(() => collector.readLogs().some((log) => log.traceId === traceId), 10_000, {
      message: "log record in logs.jsonl",
    });
    const logs = collector.readLogs().filter((log) => log.traceId === traceId);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      traceId,
      spanId,
      severityNumber: 17,
      severityText: "ERROR",
      body: "turn failed: provider returned 400",
      attributes: { "openclaw.outcome": "error", "openclaw.tokens.total": 133 },
      timeUnixNano: 1700000002000000000,
      resource: { "service.name": "openclaw-gateway" },
    });
  });

  it("rejects a body that is not OTLP protobuf with 400 and writes nothing for it", async () => {
    const before = collector.readTraces().length;
    expect(
      await post(collector, "traces", new Uint8Array([0xff, 0xff, 0xff]), "application/x-protobuf"),
    ).toBe(400);
    expect(collector.readTraces()).toHaveLength(before);
  });

  it("fails fast with the collector's own words when it cannot start", async () => {
    const badDir = path.join(dir, "bad-config");
    const start = startCollector({
      dir: badDir,
      binary: await ensureCollectorBinary(),
      config: path.join(badDir, "missing.yaml"),
    });
    await expect(start).rejects.toThrow(
      /collector exited \(code 1\) before it was ready:[\s\S]*missing\.yaml/,
    );
  });

  it("stops by its PID (refusing connections), restarts on the same port and keeps earlier output", async () => {
    const beforeStop = hex(16);
    expect(await postTraceProtobuf(collector, beforeStop, "before stop")).toBe(200);
    const firstPid = collector.pid;
    const port = collector.port;

    await collector.stop();
    expect(collector.pid).toBeUndefined();
    // SIGTERM flushes the buffered file writer: the span exported just before is on disk
    expect(collector.readTraces().filter((span) => span.traceId === beforeStop)).toHaveLength(1);
    await expect(postTraceProtobuf(collector, hex(16), "while stopped")).rejects.toThrow();

    await collector.restart();
    expect(collector.port).toBe(port);
    expect(collector.pid).toBeGreaterThan(0);
    expect(collector.pid).not.toBe(firstPid);
    const afterRestart = hex(16);
    expect(await postTraceProtobuf(collector, afterRestart, "after restart")).toBe(200);
    await waitFor(() => collector.readTraces().some((span) => span.traceId === afterRestart), 10_000, {
      message: "span after restart",
    });
    const names = collector.readTraces().map((span) => span.name);
    expect(names.filter((name) => name === "before stop")).toHaveLength(1);
    expect(names.filter((name) => name === "after restart")).toHaveLength(1);
    expect(names).toContain("chat mock-model");
  });
});
