import { createServer, type Server } from "node:net";
import type { PackGaugeReading } from "@clawscope/kit";
import {
  createOtlpEncoder,
  createOtlpSender,
  type OtlpProtocol,
  type SpooledOtlpBody,
} from "@clawscope/kit/otlp";
import {
  createCapturedLogger,
  createHttpReceiver,
  decodeOtlpRequest,
  type OtlpRequest,
} from "@clawscope/testing";
import { metrics, trace } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it, vi } from "vitest";
import { METRICS, type MetricDefinition } from "../mapping/metric-names.js";
import {
  createMetricsRecorder,
  type MetricsRecorder,
  type MetricsRecorderOptions,
  SERIES_DROPPED_METRIC,
} from "./metrics.js";

const DEFINITIONS: MetricDefinition[] = [
  {
    name: "openclaw.tokens",
    kind: "counter",
    unit: "{token}",
    description: "Tokens by type.",
    labels: ["openclaw.token.type", "openclaw.channel"],
  },
  {
    name: "openclaw.run.duration_ms",
    kind: "histogram",
    unit: "ms",
    description: "Turn duration.",
    labels: ["openclaw.outcome", "openclaw.channel"],
    boundaries: [100, 1000, 10_000],
  },
];
const DROPPED = SERIES_DROPPED_METRIC.name;
const DROPPED_LABEL = "openclaw.metric.name";

interface Enqueued {
  id: string;
  payload: SpooledOtlpBody;
}

const recorders: MetricsRecorder[] = [];
function recorderWith(options: Partial<MetricsRecorderOptions> & { protocol?: OtlpProtocol } = {}) {
  const enqueued: Enqueued[] = [];
  const recorder = createMetricsRecorder({
    definitions: "definitions" in options ? options.definitions : DEFINITIONS,
    encoder: createOtlpEncoder({
      protocol: options.protocol ?? "http/protobuf",
      resourceAttributes: { "service.name": "openclaw-gateway" },
      scopeName: "clawscope-otel",
      scopeVersion: "0.1.0",
    }),
    enqueue: (id, payload) => enqueued.push({ id, payload }),
    ...options,
  });
  recorders.push(recorder);
  return { recorder, enqueued };
}

type OtlpMetric = Extract<OtlpRequest, { signal: "metrics" }>["metrics"][number];

function decodeCollection(item: Enqueued | undefined): OtlpMetric[] {
  if (!item) throw new Error("no collection was enqueued");
  return decodeOtlpRequest("metrics", Buffer.from(item.payload.body, "base64"), item.payload.contentType)
    .metrics;
}
const metricNamed = (list: OtlpMetric[], name: string) => list.find((metric) => metric.name === name);

async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

afterEach(async () => {
  await Promise.all(recorders.splice(0).map((recorder) => recorder.shutdown()));
  metrics.disable();
  trace.disable();
  vi.restoreAllMocks();
});

describe.each<OtlpProtocol>(["http/protobuf", "http/json"])("metrics collection as %s", (protocol) => {
  it("encodes cumulative sums and histograms with the table's units and buckets", async () => {
    const { recorder, enqueued } = recorderWith({ protocol });
    await recorder.start();
    recorder.record([
      { name: "openclaw.tokens", value: 100, attributes: { "openclaw.token.type": "input" } },
      { name: "openclaw.tokens", value: 50, attributes: { "openclaw.token.type": "input" } },
      { name: "openclaw.tokens", value: 20, attributes: { "openclaw.token.type": "output" } },
      { name: "openclaw.run.duration_ms", value: 50, attributes: { "openclaw.outcome": "ok" } },
      { name: "openclaw.run.duration_ms", value: 350, attributes: { "openclaw.outcome": "ok" } },
    ]);
    const collected = await recorder.collectNow();
    expect(collected?.id).toMatch(new RegExp(`^metrics-\\d+-${process.pid}$`));
    expect(enqueued).toHaveLength(1);
    expect(enqueued[0]?.payload.contentType).toBe(
      protocol === "http/json" ? "application/json" : "application/x-protobuf",
    );
    expect(enqueued[0]?.payload.count).toBe(3);
    const decoded = decodeCollection(enqueued[0]);
    const tokens = metricNamed(decoded, "openclaw.tokens");
    expect(tokens).toMatchObject({
      type: "sum",
      isMonotonic: true,
      aggregationTemporality: 2,
      unit: "{token}",
      description: "Tokens by type.",
    });
    expect(tokens?.resource["service.name"]).toBe("openclaw-gateway");
    expect(tokens?.scope).toMatchObject({ name: "clawscope-otel", version: "0.1.0" });
    const byType = Object.fromEntries(
      (tokens?.dataPoints ?? []).map((point) => [point.attributes["openclaw.token.type"], point.value]),
    );
    expect(byType).toEqual({ input: 150, output: 20 });
    const duration = metricNamed(decoded, "openclaw.run.duration_ms");
    expect(duration).toMatchObject({ type: "histogram", aggregationTemporality: 2, unit: "ms" });
    expect(duration?.dataPoints).toHaveLength(1);
    expect(duration?.dataPoints[0]).toMatchObject({
      attributes: { "openclaw.outcome": "ok" },
      count: 2,
      sum: 400,
      min: 50,
      max: 350,
      explicitBounds: [100, 1000, 10_000],
      bucketCounts: [1, 1, 0, 0],
    });
  });
});

describe("the metrics recorder", () => {
  it("stays cumulative across collections and enqueues nothing before the first recording", async () => {
    const { recorder, enqueued } = recorderWith();
    expect(await recorder.collectNow()).toBeUndefined();
    recorder.record([{ name: "openclaw.tokens", value: 5, attributes: { "openclaw.token.type": "input" } }]);
    await recorder.collectNow();
    recorder.record([{ name: "openclaw.tokens", value: 7, attributes: { "openclaw.token.type": "input" } }]);
    await recorder.collectNow();
    expect(enqueued).toHaveLength(2);
    expect(enqueued[0]?.id).not.toBe(enqueued[1]?.id);
    const values = enqueued.map(
      (item) => metricNamed(decodeCollection(item), "openclaw.tokens")?.dataPoints[0]?.value,
    );
    expect(values).toEqual([5, 12]);
  });

  it("drops series beyond maxSeries, counts them in series_dropped, and keeps updating known series", async () => {
    const { recorder, enqueued } = recorderWith({ maxSeries: 3 });
    const channels = ["telegram", "discord", "slack", "matrix", "signal"];
    const tokens = (channel: string, value: number) => ({
      name: "openclaw.tokens",
      value,
      attributes: { "openclaw.channel": channel },
    });
    recorder.record(channels.map((channel) => tokens(channel, 1)));
    recorder.record([
      { name: "openclaw.run.duration_ms", value: 10, attributes: { "openclaw.channel": "telegram" } },
    ]);
    recorder.record([tokens("telegram", 4)]);
    await recorder.collectNow();
    const decoded = decodeCollection(enqueued[0]);
    const tokenPoints = metricNamed(decoded, "openclaw.tokens")?.dataPoints ?? [];
    expect(
      Object.fromEntries(tokenPoints.map((point) => [point.attributes["openclaw.channel"], point.value])),
    ).toEqual({
      telegram: 5,
      discord: 1,
      slack: 1,
    });
    expect(metricNamed(decoded, "openclaw.run.duration_ms")).toBeUndefined();
    const dropped = metricNamed(decoded, DROPPED)?.dataPoints ?? [];
    expect(dropped.map((point) => [point.attributes[DROPPED_LABEL], point.value])).toEqual(
      expect.arrayContaining([
        ["openclaw.tokens", 2],
        ["openclaw.run.duration_ms", 1],
      ]),
    );
    expect(recorder.stats()).toMatchObject({ series: 3, seriesDropped: 3 });
  });

  it("counts a series once whatever the attribute order or the labels it drops, and tells value types apart", async () => {
    const { recorder, enqueued } = recorderWith({ maxSeries: 3 });
    recorder.record([
      {
        name: "openclaw.tokens",
        value: 1,
        attributes: { "openclaw.token.type": "input", "openclaw.channel": "slack" },
      },
      {
        name: "openclaw.tokens",
        value: 2,
        attributes: { "openclaw.channel": "slack", "openclaw.token.type": "input", "session.id": "s-1" },
      },
      { name: "openclaw.tokens", value: 4, attributes: { "openclaw.channel": "7" } },
      { name: "openclaw.tokens", value: 8, attributes: { "openclaw.channel": 7 } },
      { name: "openclaw.tokens", value: 16, attributes: { "openclaw.channel": true } },
    ]);
    expect(recorder.stats()).toMatchObject({ series: 3, seriesDropped: 1 });
    await recorder.collectNow();
    const points = metricNamed(decodeCollection(enqueued[0]), "openclaw.tokens")?.dataPoints ?? [];
    expect(points.map((point) => point.value).sort((left, right) => Number(left) - Number(right))).toEqual([
      3, 4, 8,
    ]);
  });

  it("refuses unknown instruments, bad values and garbage, and drops labels the table does not allow", async () => {
    const captured = createCapturedLogger();
    const { recorder, enqueued } = recorderWith({ logger: captured.logger });
    recorder.record([
      { name: "openclaw.unknown", value: 1 },
      { name: "openclaw.tokens", value: Number.NaN },
      { name: "openclaw.tokens", value: -3 },
      { name: "openclaw.run.duration_ms", value: -1 },
      null,
      "garbage",
      {
        name: "openclaw.tokens",
        value: 2,
        attributes: { "openclaw.token.type": "input", "openclaw.channel": { no: 1 }, "session.id": "abc123" },
      },
    ] as never);
    recorder.record("not a list" as never);
    expect(recorder.stats().invalidRecordings).toBe(6);
    await recorder.collectNow();
    const decoded = decodeCollection(enqueued[0]);
    expect(decoded.map((metric) => metric.name)).toEqual(["openclaw.tokens"]);
    expect(decoded[0]?.dataPoints[0]).toEqual(
      expect.objectContaining({ attributes: { "openclaw.token.type": "input" }, value: 2 }),
    );
    expect(captured.messages("warn")).toEqual([
      "clawscope-otel: metric recording refused: openclaw.unknown = 1",
    ]);
  });

  it("uses the mapping stage's metric table by default", async () => {
    const { recorder, enqueued } = recorderWith({ definitions: undefined });
    recorder.record([
      {
        name: METRICS.genAiTokenUsage.name,
        value: 1200,
        attributes: { "gen_ai.token.type": "input", "gen_ai.operation.name": "chat" },
      },
    ]);
    await recorder.collectNow();
    const usage = metricNamed(decodeCollection(enqueued[0]), METRICS.genAiTokenUsage.name);
    expect(usage).toMatchObject({ type: "histogram", unit: METRICS.genAiTokenUsage.unit });
    expect(usage?.dataPoints[0]?.explicitBounds).toEqual([...METRICS.genAiTokenUsage.boundaries]);
  });

  it("enqueues a final collection on shutdown and ignores what comes after", async () => {
    const { recorder, enqueued } = recorderWith({ exportIntervalMs: 3_600_000 });
    await recorder.start();
    recorder.record([{ name: "openclaw.tokens", value: 9 }]);
    // a second stop while the first runs shares it: one final collection, one provider shutdown
    await Promise.all([recorder.shutdown(), recorder.shutdown()]);
    expect(enqueued).toHaveLength(1);
    expect(metricNamed(decodeCollection(enqueued[0]), "openclaw.tokens")?.dataPoints[0]?.value).toBe(9);
    recorder.record([{ name: "openclaw.tokens", value: 1 }]);
    expect(await recorder.collectNow()).toBeUndefined();
    await recorder.shutdown();
    expect(enqueued).toHaveLength(1);
  });

  it("collects on its own timer", async () => {
    const { recorder, enqueued } = recorderWith({ exportIntervalMs: 25 });
    await recorder.start();
    recorder.record([{ name: "openclaw.tokens", value: 1 }]);
    await vi.waitFor(() => expect(enqueued.length).toBeGreaterThanOrEqual(2), { timeout: 3000 });
  });

  it("sends collections merged into one request to /v1/metrics", async () => {
    const receiver = await createHttpReceiver();
    try {
      for (const protocol of ["http/protobuf", "http/json"] as const) {
        receiver.clearRequests();
        const { recorder, enqueued } = recorderWith({ protocol });
        recorder.record([{ name: "openclaw.tokens", value: 3 }]);
        await recorder.collectNow();
        recorder.record([{ name: "openclaw.tokens", value: 4 }]);
        await recorder.collectNow();
        const sender = createOtlpSender({ url: receiver.url, protocol });
        // through JSON, as the pipeline's spool stores them
        const items = enqueued.map((item) => JSON.parse(JSON.stringify({ ...item, enqueuedAt: Date.now() })));
        expect(await sender.sendMetrics(items, new AbortController().signal)).toEqual({ kind: "ok" });
        expect(receiver.requests).toHaveLength(1);
        const [request] = receiver.requests;
        expect(request?.path).toBe("/v1/metrics");
        const decoded = decodeOtlpRequest(
          "metrics",
          request?.body ?? Buffer.alloc(0),
          request?.headers["content-type"],
        );
        const values = decoded.metrics
          .filter((metric) => metric.name === "openclaw.tokens")
          .map((m) => m.dataPoints[0]?.value);
        expect(values).toEqual([3, 7]);
        expect(sender.stats().metrics.exportedRecords).toBe(2);
      }
    } finally {
      await receiver.close();
    }
  });
});

describe("coexistence with global OpenTelemetry providers (as diagnostics-otel registers them)", () => {
  it("never replaces the globals, and each side exports only its own data", async () => {
    const theirMetrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const theirReader = new PeriodicExportingMetricReader({
      exporter: theirMetrics,
      exportIntervalMillis: 3_600_000,
    });
    const theirMeterProvider = new MeterProvider({ readers: [theirReader] });
    const theirSpans = new InMemorySpanExporter();
    const theirTracerProvider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter: theirSpans })],
    });
    expect(metrics.setGlobalMeterProvider(theirMeterProvider)).toBe(true);
    expect(trace.setGlobalTracerProvider(theirTracerProvider)).toBe(true);
    const setMeterProvider = vi.spyOn(metrics, "setGlobalMeterProvider");
    const setTracerProvider = vi.spyOn(trace, "setGlobalTracerProvider");

    const receiver = await createHttpReceiver();
    try {
      const { recorder, enqueued } = recorderWith();
      await recorder.start();
      // same instrument name on both sides: neither may see the other's measurements
      metrics.getMeter("diagnostics-otel").createCounter("openclaw.tokens").add(7);
      recorder.record([{ name: "openclaw.tokens", value: 100 }]);
      trace.getTracer("diagnostics-otel").startSpan("their span").end();
      await recorder.collectNow();
      const sender = createOtlpSender({ url: receiver.url });
      const ourSpan = {
        traceId: "1".repeat(32),
        spanId: "2".repeat(16),
        name: "our span",
        kind: "internal" as const,
        startTimeMs: Date.now(),
        endTimeMs: Date.now(),
        attributes: {},
        status: { code: "unset" as const },
      };
      const turn = { id: "t", enqueuedAt: 0, payload: { id: "t", spans: [ourSpan], logs: [] } };
      expect(await sender.sendTraces([turn], new AbortController().signal)).toEqual({ kind: "ok" });
      await theirReader.forceFlush();

      expect(metrics.getMeterProvider()).toBe(theirMeterProvider);
      const globalTracer = trace.getTracerProvider() as unknown as { getDelegate(): unknown };
      expect(globalTracer.getDelegate()).toBe(theirTracerProvider);
      expect(setMeterProvider).not.toHaveBeenCalled();
      expect(setTracerProvider).not.toHaveBeenCalled();

      const theirs = theirMetrics.getMetrics().flatMap((resource) => resource.scopeMetrics);
      expect(theirs.map((scope) => scope.scope.name)).toEqual(["diagnostics-otel"]);
      expect(theirs[0]?.metrics[0]?.dataPoints.map((point) => point.value)).toEqual([7]);
      expect(theirSpans.getFinishedSpans().map((span) => span.name)).toEqual(["their span"]);

      const ours = decodeCollection(enqueued[0]);
      expect(ours.map((metric) => [metric.scope.name, metric.name, metric.dataPoints[0]?.value])).toEqual([
        ["clawscope-otel", "openclaw.tokens", 100],
      ]);
      const sent = decodeOtlpRequest("traces", receiver.requests[0]?.body ?? Buffer.alloc(0)).spans;
      expect(sent.map((span) => span.name)).toEqual(["our span"]);
    } finally {
      await receiver.close();
      await theirMeterProvider.shutdown();
      await theirTracerProvider.shutdown();
    }
  });
});

describe("the pack's gauges", () => {
  it("exports what other extensions publish, under the names the memory's own endpoint uses, in OTLP and on Prometheus", async () => {
    const port = await freePort();
    const { recorder, enqueued } = recorderWith({
      prometheus: { enabled: true, port },
      packGauges: (): PackGaugeReading[] => [
        {
          name: "clawscope.memory.spend",
          value: 12.5,
          attributes: { "clawscope.spend.window": "month_to_date" },
        },
        { name: "clawscope.memory.anomalies", value: 2, attributes: { "clawscope.anomaly.kind": "cost" } },
        { name: "clawscope.memory.last_consolidation.time", value: 1_795_000_000 },
      ],
    });
    await recorder.start();
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(
      /^clawscope_memory_spend\{[^}]*clawscope_spend_window="month_to_date"[^}]*\} 12\.5$/m,
    );
    expect(text).toMatch(/^clawscope_memory_anomalies\{[^}]*clawscope_anomaly_kind="cost"[^}]*\} 2$/m);
    expect(text).toMatch(/^clawscope_memory_last_consolidation_time(\{[^}]*\})? 1795000000$/m);

    await recorder.collectNow();
    const collected = decodeCollection(enqueued[0]);
    expect(metricNamed(collected, "clawscope.memory.spend")).toBeDefined();
    expect(JSON.stringify(metricNamed(collected, "clawscope.memory.anomalies"))).toContain("cost");
    expect(metricNamed(collected, "clawscope.memory.last_consolidation.time")).toBeDefined();
    await recorder.shutdown();
  });
});

describe("the Prometheus pull endpoint", () => {
  it("serves our series on 127.0.0.1 and stops on shutdown", async () => {
    const port = await freePort();
    const { recorder } = recorderWith({ prometheus: { enabled: true, port } });
    await recorder.start();
    expect(recorder.stats().prometheus).toEqual({ url: `http://127.0.0.1:${port}/metrics`, listening: true });
    recorder.record([
      { name: "openclaw.tokens", value: 150, attributes: { "openclaw.token.type": "input" } },
      { name: "openclaw.run.duration_ms", value: 350 },
    ]);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^openclaw_tokens_total\{[^}]*openclaw_token_type="input"[^}]*\} 150$/m);
    expect(text).toMatch(/^openclaw_run_duration_ms_count\{[^}]*\} 1$/m);
    await recorder.shutdown();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it("reports a port in use in one line and keeps pushing OTLP", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const captured = createCapturedLogger();
      const { recorder, enqueued } = recorderWith({
        prometheus: { enabled: true, port },
        logger: captured.logger,
      });
      await recorder.start();
      expect(recorder.stats().prometheus?.listening).toBe(false);
      expect(captured.messages("error")).toEqual([
        expect.stringMatching(
          new RegExp(
            `^clawscope-otel: Prometheus endpoint could not listen on http://127\\.0\\.0\\.1:${port}/metrics \\(.*EADDRINUSE`,
          ),
        ),
      ]);
      recorder.record([{ name: "openclaw.tokens", value: 1 }]);
      await recorder.collectNow();
      expect(enqueued).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
