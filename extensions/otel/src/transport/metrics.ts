/**
 * Metrics through a private MeterProvider (never the global one, so the official diagnostics-otel
 * and other plugins keep theirs): instruments from a fixed table, a cap on distinct series with a
 * counter of what it refused, cumulative collections encoded as OTLP and handed to a kit pipeline
 * (so they spool and retry like traces), and an optional Prometheus pull endpoint.
 */
import {
  createPackLogger,
  type KitLogger,
  PACK_GAUGE_DEFINITIONS,
  type PackGaugeReading,
  type PackLogger,
  readPackGauges,
} from "@clawscope/kit";
import { type OtlpEncoder, type SpooledOtlpBody, toSpooledBody } from "@clawscope/kit/otlp";
import type { Attributes as ApiAttributes, Meter } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import {
  AggregationTemporality,
  AggregationType,
  type IMetricReader,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
  type ViewOptions,
} from "@opentelemetry/sdk-metrics";
import { METRIC_DEFINITIONS, type MetricDefinition } from "../mapping/metric-names.js";
import { OTLP_SCOPE_NAME } from "./otlp-scope.js";

/** Low-cardinality labels; ids never belong here. */
export type MeterAttributes = Readonly<Record<string, string | number | boolean>>;

/** One measurement (the mapping stage's `MetricRecording` is one). */
export interface MeterRecording {
  name: string;
  value: number;
  attributes?: MeterAttributes;
}

/** Options for {@link createMetricsRecorder}. */
export interface MetricsRecorderOptions {
  /** The instrument table (default: the mapping stage's `METRIC_DEFINITIONS`). */
  definitions?: readonly MetricDefinition[];
  /** Resource, scope version and OTLP encoding. */
  encoder: OtlpEncoder;
  /** Receives each collection as an OTLP body (the metrics pipeline's `enqueue`); absent: no OTLP push. */
  enqueue?: (id: string, payload: SpooledOtlpBody) => void;
  /** Between two pushed collections (default 60 000 ms). */
  exportIntervalMs?: number;
  /** Distinct series (instrument + labels) kept in all; beyond it new series are dropped and counted (default 2000). */
  maxSeries?: number;
  /** A Prometheus scrape endpoint on the same provider; the port must be given (1–65535). */
  prometheus?: { enabled?: boolean; host?: string; port?: number; endpoint?: string };
  logger?: KitLogger | PackLogger;
  /** What the pack's other extensions publish as gauges (default: the kit's registry), read at each collection. */
  packGauges?: () => readonly PackGaugeReading[];
}

/** Counters of the recorder. */
export interface MetricsRecorderStats {
  series: number;
  seriesDropped: number;
  /** Recordings refused: unknown instrument, non-finite or negative value. */
  invalidRecordings: number;
  collections: number;
  lastCollectionError?: string;
  prometheus?: { url: string; listening: boolean };
}

/** The metrics side of the extension. */
export interface MetricsRecorder {
  /** Starts the push timer and the Prometheus server (a port in use logs one line, the rest runs on). */
  start(): Promise<void>;
  /** Records measurements; never throws. */
  record(recordings: readonly MeterRecording[]): void;
  /** Collects now and enqueues the encoded collection; `undefined` when push is off or nothing was recorded. */
  collectNow(): Promise<{ id: string; payload: SpooledOtlpBody } | undefined>;
  /** Stops the timer, enqueues a final collection, shuts the provider down (and the Prometheus server). */
  shutdown(): Promise<void>;
  stats(): MetricsRecorderStats;
}

interface Instrument {
  definition: MetricDefinition;
  /** Label keys the definition allows: others are dropped before they can make a series. */
  labels: ReadonlySet<string>;
  /** The same keys sorted: attributes are read in this order, so a series key needs no sort. */
  labelOrder: readonly string[];
  record(value: number, attributes: ApiAttributes): void;
}

/** Bounds a label value's memory even if the mapping stage let a long one through. */
const MAX_LABEL_CHARS = 256;
/** The label of the dropped counter that names the capped metric. */
const SERIES_DROPPED_LABEL = "openclaw.metric.name";

/** Counts what the series cap refused, by metric, so operators see the cap at work. */
export const SERIES_DROPPED_METRIC: MetricDefinition = {
  name: "openclaw.clawscope.series_dropped",
  kind: "counter",
  unit: "{recording}",
  description: "Recordings not kept because the series cap (maxSeries) was reached, by metric.",
  labels: [SERIES_DROPPED_LABEL],
};
/** A reader collected on our own timer: the push goes into a pipeline, not an SDK exporter. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Creates the recorder and its private MeterProvider; nothing global is read or written. */
export function createMetricsRecorder(options: MetricsRecorderOptions): MetricsRecorder {
  const baseLogger = options.logger ?? {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const logger: PackLogger =
    typeof (baseLogger as PackLogger).limited === "function"
      ? (baseLogger as PackLogger)
      : createPackLogger(baseLogger, "clawscope-otel");
  const maxSeries = toCount(options.maxSeries, 2000);
  const intervalMs = toCount(options.exportIntervalMs, 60_000);
  // the SDK's own per-instrument limit (default 2000) must never cut in before our global cap does
  const sdkLimit = maxSeries + 1;
  const given = Array.isArray(options.definitions) ? options.definitions : METRIC_DEFINITIONS;
  // the cap's own counter is always there, and exempt from the cap (one series per instrument at most)
  const definitions = given.some((definition) => definition?.name === SERIES_DROPPED_METRIC.name)
    ? given
    : [...given, SERIES_DROPPED_METRIC];

  const readers: IMetricReader[] = [];
  const pushReader = options.enqueue
    ? new CollectingReader({
        aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
        cardinalitySelector: () => sdkLimit,
      })
    : undefined;
  if (pushReader) readers.push(pushReader);
  const prometheus = createPrometheusReader(options.prometheus, logger);
  if (prometheus) readers.push(prometheus.reader);

  const provider = new MeterProvider({
    resource: options.encoder.resource,
    readers,
    views: definitions.map((definition) => toView(definition, sdkLimit)),
  });
  const meter = provider.getMeter(OTLP_SCOPE_NAME, options.encoder.scope.version);
  const instruments = new Map<string, Instrument>();
  for (const definition of definitions) {
    if (typeof definition?.name !== "string" || instruments.has(definition.name)) continue;
    const instrument = createInstrument(meter, definition);
    if (instrument) instruments.set(definition.name, instrument);
    else logger.error(`metric ${definition.name} left out: unsupported kind ${String(definition.kind)}`);
  }
  const droppedCounter = instruments.get(SERIES_DROPPED_METRIC.name);
  // the figures other extensions publish (the memory's budget burn, anomalies, last consolidation):
  // observed at each collection, a fixed and small set of series, so outside the series cap
  const readGauges = options.packGauges ?? readPackGauges;
  const gauges = new Map(
    PACK_GAUGE_DEFINITIONS.map((definition) => [
      definition.name,
      meter.createObservableGauge(definition.name, {
        unit: definition.unit,
        description: definition.description,
      }),
    ]),
  );
  meter.addBatchObservableCallback(
    (result) => {
      let readings: readonly PackGaugeReading[] = [];
      try {
        readings = readGauges();
      } catch {
        return;
      }
      for (const reading of readings) {
        const gauge = gauges.get(reading.name);
        if (gauge) result.observe(gauge, reading.value, { ...reading.attributes });
      }
    },
    [...gauges.values()],
  );

  const series = new Set<string>();
  const counters = { seriesDropped: 0, invalidRecordings: 0, collections: 0 };
  let lastCollectionError: string | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let collecting: Promise<{ id: string; payload: SpooledOtlpBody } | undefined> | undefined;
  let lastBase = "";
  let idSuffix = 0;
  let state: "idle" | "running" | "stopped" = "idle";
  let stopping: Promise<void> | undefined;

  const recordOne = (recording: MeterRecording): void => {
    const instrument = typeof recording?.name === "string" ? instruments.get(recording.name) : undefined;
    const value = recording?.value;
    // counters only go up and histograms here measure sizes and durations: negatives are bugs upstream
    if (!instrument || typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      counters.invalidRecordings += 1;
      logger.limited(
        "warn",
        "invalid-recording",
        `metric recording refused: ${describeRecording(recording)}`,
      );
      return;
    }
    const { attributes, key } = toMetricSeries(recording.name, recording.attributes, instrument.labelOrder);
    if (instrument.definition.name === SERIES_DROPPED_METRIC.name) {
      instrument.record(value, attributes);
      return;
    }
    if (!series.has(key)) {
      if (series.size >= maxSeries) {
        counters.seriesDropped += 1;
        droppedCounter?.record(1, { [SERIES_DROPPED_LABEL]: recording.name });
        logger.limited(
          "warn",
          "series-cap",
          `metric series cap (${maxSeries}) reached: new series are dropped`,
        );
        return;
      }
      series.add(key);
    }
    instrument.record(value, attributes);
  };

  const collect = async (): Promise<{ id: string; payload: SpooledOtlpBody } | undefined> => {
    if (!pushReader || !options.enqueue) return undefined;
    const { resourceMetrics, errors } = await pushReader.collect();
    if (errors.length > 0) {
      lastCollectionError = String(errors[0]).slice(0, 200);
      logger.limited("warn", "collect-errors", `metric collection reported: ${lastCollectionError}`);
    }
    const points = countDataPoints(resourceMetrics);
    if (points === 0) return undefined;
    const body = options.encoder.encodeMetrics(resourceMetrics);
    const base = `metrics-${Date.now()}-${process.pid}`;
    // two collections in one millisecond (the final one right after the timer's) keep distinct ids
    idSuffix = base === lastBase ? idSuffix + 1 : 0;
    lastBase = base;
    const id = idSuffix === 0 ? base : `${base}-${idSuffix}`;
    const payload = toSpooledBody(body, points);
    options.enqueue(id, payload);
    counters.collections += 1;
    return { id, payload };
  };

  const collectNow = (): Promise<{ id: string; payload: SpooledOtlpBody } | undefined> => {
    if (state === "stopped") return Promise.resolve(undefined);
    // one collection at a time: the timer and a caller never interleave
    collecting ??= collect()
      .catch((error: unknown) => {
        lastCollectionError = error instanceof Error ? error.message : String(error);
        logger.limited("error", "collect-failed", `metric collection failed: ${lastCollectionError}`);
        return undefined;
      })
      .finally(() => {
        collecting = undefined;
      });
    return collecting;
  };

  return {
    async start() {
      if (state !== "idle") return;
      state = "running";
      if (pushReader) {
        timer = setInterval(() => void collectNow(), intervalMs);
        timer.unref();
      }
      if (prometheus) {
        try {
          await prometheus.reader.startServer();
          prometheus.listening = true;
          logger.info(`Prometheus metrics at ${prometheus.url}`);
        } catch (error) {
          logger.error(
            `Prometheus endpoint could not listen on ${prometheus.url} (${error instanceof Error ? error.message : String(error)}); OTLP metrics carry on`,
          );
        }
      }
    },
    record(recordings) {
      if (state === "stopped" || !Array.isArray(recordings)) return;
      for (const recording of recordings) {
        try {
          recordOne(recording);
        } catch (error) {
          counters.invalidRecordings += 1;
          logger.limited("warn", "record-failed", `metric recording failed: ${String(error).slice(0, 200)}`);
        }
      }
    },
    collectNow,
    shutdown() {
      stopping ??= (async () => {
        if (timer) clearInterval(timer);
        timer = undefined;
        if (collecting) await collecting;
        await collectNow();
        state = "stopped";
        if (prometheus) prometheus.listening = false;
        try {
          await provider.shutdown({ timeoutMillis: 2000 });
        } catch (error) {
          logger.warn(`metrics shutdown: ${error instanceof Error ? error.message : String(error)}`);
        }
      })();
      return stopping;
    },
    stats() {
      return {
        series: series.size,
        ...counters,
        ...(lastCollectionError ? { lastCollectionError } : {}),
        ...(prometheus ? { prometheus: { url: prometheus.url, listening: prometheus.listening } } : {}),
      };
    },
  };
}

function createPrometheusReader(
  config: MetricsRecorderOptions["prometheus"],
  logger: PackLogger,
): { reader: PrometheusExporter; url: string; listening: boolean } | undefined {
  if (!config?.enabled) return undefined;
  const port = config.port;
  // the exporter reads port 0 as "use 9464": a port must be given
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65_535) {
    logger.error(`Prometheus endpoint disabled: port ${String(port)} is not a port number (1-65535)`);
    return undefined;
  }
  const host = typeof config.host === "string" && config.host !== "" ? config.host : "127.0.0.1";
  const endpoint =
    typeof config.endpoint === "string" && config.endpoint !== "" ? config.endpoint : "/metrics";
  // started by `start`, so a port in use is reported by us and not by the SDK's global diag logger
  const reader = new PrometheusExporter({ host, port, endpoint, preventServerStart: true });
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    reader,
    url: `http://${shownHost}:${port}${endpoint.startsWith("/") ? "" : "/"}${endpoint}`,
    listening: false,
  };
}

function toView(definition: MetricDefinition, cardinalityLimit: number): ViewOptions {
  const boundaries = Array.isArray(definition.boundaries)
    ? definition.boundaries.filter((bound) => Number.isFinite(bound))
    : undefined;
  return {
    instrumentName: definition.name,
    meterName: OTLP_SCOPE_NAME,
    aggregationCardinalityLimit: cardinalityLimit,
    ...(definition.kind === "histogram" && boundaries && boundaries.length > 0
      ? { aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries } } }
      : {}),
  };
}

function createInstrument(meter: Meter, definition: MetricDefinition): Instrument | undefined {
  const options = { unit: definition.unit ?? "", description: definition.description ?? "" };
  const labels = new Set(Array.isArray(definition.labels) ? definition.labels : []);
  const labelOrder = [...labels].sort();
  const instrument = definition.kind;
  switch (instrument) {
    case "histogram": {
      const histogram = meter.createHistogram(definition.name, options);
      return {
        definition,
        labels,
        labelOrder,
        record: (value, attributes) => histogram.record(value, attributes),
      };
    }
    case "counter": {
      const counter = meter.createCounter(definition.name, options);
      return {
        definition,
        labels,
        labelOrder,
        record: (value, attributes) => counter.add(value, attributes),
      };
    }
    default: {
      // a new instrument kind in the table must be wired here: the compiler says so
      const unsupported: never = instrument;
      void unsupported;
      return undefined;
    }
  }
}

/**
 * The attributes a recording may carry (the instrument's labels, values bounded) and its series key:
 * the metric name and each kept label with its value's type and value, in label order.
 */
function toMetricSeries(
  name: string,
  attributes: unknown,
  labelOrder: readonly string[],
): { attributes: ApiAttributes; key: string } {
  const result: ApiAttributes = Object.create(null);
  let key = name;
  if (typeof attributes !== "object" || attributes === null) return { attributes: result, key };
  const given = attributes as Record<string, unknown>;
  for (const label of labelOrder) {
    if (!Object.hasOwn(given, label)) continue;
    const value = given[label];
    if (typeof value === "string") {
      const bounded = value.slice(0, MAX_LABEL_CHARS);
      result[label] = bounded;
      key += `\u0000${label}\u0001s${bounded}`;
    } else if (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
      result[label] = value;
      key += `\u0000${label}\u0001${typeof value === "boolean" ? "b" : "n"}${String(value)}`;
    }
  }
  return { attributes: result, key };
}

function countDataPoints(resourceMetrics: ResourceMetrics): number {
  let points = 0;
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) points += metric.dataPoints.length;
  }
  return points;
}

function describeRecording(recording: unknown): string {
  if (typeof recording !== "object" || recording === null) return "not an object";
  const { name, value } = recording as { name?: unknown; value?: unknown };
  return `${typeof name === "string" ? name.slice(0, 80) : "(no name)"} = ${String(value).slice(0, 40)}`;
}

function toCount(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}
