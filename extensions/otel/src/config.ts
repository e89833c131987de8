/**
 * Config of clawscope-otel. Precedence for every field: plugin config → the field's env vars (in
 * order) → default. The standard `OTEL_EXPORTER_OTLP_*` variables are the env fallbacks, so a
 * process already set up for OpenTelemetry needs no plugin config at all.
 */
import { type ConfigOf, defineConfig, field, packConfigFields } from "@clawscope/kit";

/** Where OTLP goes when nothing is set: a Collector on this machine. */
export const DEFAULT_OTLP_ENDPOINT = "http://127.0.0.1:4318";

const signalHeaders = (signal: "traces" | "metrics" | "logs", upper: string) =>
  field.record({
    description: `Extra HTTP headers for ${signal} only, merged over \`headers\` (a name set in both takes this value; names compare case-insensitively).`,
    values: field.secret({ description: `A ${signal} header value.` }),
    env: [`OTEL_EXPORTER_OTLP_${upper}_HEADERS`],
    maxKeys: 64,
    advanced: true,
  });

/** The extension's config definition (manifest schema and uiHints are generated from it). */
export const configDefinition = defineConfig({
  ...packConfigFields,
  endpoint: field.url({
    description:
      "Base URL of the OTLP/HTTP receiver (a Collector, or a vendor's OTLP endpoint). `/v1/traces`, `/v1/metrics` and `/v1/logs` are appended per signal; a URL already ending in one of them keeps it for that signal and swaps it for the others.",
    env: ["OTEL_EXPORTER_OTLP_ENDPOINT"],
    default: DEFAULT_OTLP_ENDPOINT,
    placeholder: DEFAULT_OTLP_ENDPOINT,
  }),
  tracesEndpoint: field.url({
    description:
      "Full URL for traces, used exactly as given (nothing appended, as the OpenTelemetry spec says for per-signal endpoints). When unset: `<endpoint>/v1/traces`.",
    env: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
    advanced: true,
  }),
  metricsEndpoint: field.url({
    description: "Full URL for metrics, used exactly as given. When unset: `<endpoint>/v1/metrics`.",
    env: ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"],
    advanced: true,
  }),
  logsEndpoint: field.url({
    description: "Full URL for logs, used exactly as given. When unset: `<endpoint>/v1/logs`.",
    env: ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"],
    advanced: true,
  }),
  headers: field.record({
    description:
      "HTTP headers sent with every export, e.g. an API key. From env: `OTEL_EXPORTER_OTLP_HEADERS` as `name=value,name2=value2` (percent-encoded values allowed). Setting this in the plugin config replaces the env var entirely.",
    values: field.secret({ description: "A header value (kept out of logs)." }),
    env: ["OTEL_EXPORTER_OTLP_HEADERS"],
    maxKeys: 64,
  }),
  tracesHeaders: signalHeaders("traces", "TRACES"),
  metricsHeaders: signalHeaders("metrics", "METRICS"),
  logsHeaders: signalHeaders("logs", "LOGS"),
  protocol: field.enum({
    description:
      "OTLP encoding over HTTP: binary protobuf (what every Collector accepts, and the default) or JSON. gRPC is not supported; an env value of `grpc` is ignored with a warning.",
    values: ["http/protobuf", "http/json"],
    env: ["OTEL_EXPORTER_OTLP_PROTOCOL"],
    default: "http/protobuf",
  }),
  timeoutMs: field.integer({
    description:
      "How long one export request may take before it is abandoned and retried later (milliseconds).",
    env: ["OTEL_EXPORTER_OTLP_TIMEOUT"],
    min: 100,
    max: 120_000,
    default: 10_000,
    advanced: true,
  }),
  serviceName: field.string({
    description:
      "The `service.name` resource attribute. It wins over a `service.name` inside `resourceAttributes`. A name different from the official diagnostics-otel plugin's keeps the two plugins' data apart.",
    env: ["OTEL_SERVICE_NAME"],
    default: "openclaw-gateway",
    minLength: 1,
    maxLength: 256,
  }),
  resourceAttributes: field.record({
    description:
      "Extra resource attributes on everything exported (e.g. `deployment.environment.name`). From env: `OTEL_RESOURCE_ATTRIBUTES` as `key=value,key2=value2`.",
    values: field.string({ description: "An attribute value.", maxLength: 1024 }),
    env: ["OTEL_RESOURCE_ATTRIBUTES"],
    maxKeys: 64,
    advanced: true,
  }),
  traces: field.boolean({
    description: "Export a trace per turn and spans for message, webhook and stuck-session events.",
    default: true,
  }),
  metrics: field.boolean({
    description: "Export token, cost, duration, message, queue and session metrics.",
    default: true,
  }),
  logs: field.boolean({
    description: "Export a log record per turn outcome and per error, correlated with its trace.",
    default: true,
  }),
  metricIntervalMs: field.integer({
    description: "How often metrics are pushed over OTLP (milliseconds).",
    env: ["OTEL_METRIC_EXPORT_INTERVAL"],
    min: 1_000,
    max: 3_600_000,
    default: 15_000,
    advanced: true,
  }),
  maxSeries: field.integer({
    description:
      "Most distinct metric series (metric name + label values) kept in all. Recordings that would add a series beyond it are dropped and counted in `openclaw.clawscope.series_dropped`, so memory and backend cost stay bounded.",
    min: 1,
    max: 100_000,
    default: 2_000,
    advanced: true,
  }),
  sampling: field.object({
    description:
      "Which turns' traces and logs are exported. Metrics always count every turn. Failed, slow and expensive turns are kept whatever the ratio.",
    fields: {
      ratio: field.number({
        description:
          "Share of healthy turns kept, from 0 (none) to 1 (all). Decided from the trace id, so a Collector's probabilistic sampler agrees.",
        min: 0,
        max: 1,
        default: 1,
      }),
      keepErrors: field.boolean({
        description: "Always keep turns that failed, were aborted or blocked, or were closed incomplete.",
        default: true,
      }),
      slowTurnMs: field.integer({
        description: "Always keep turns lasting at least this long (milliseconds); 0 turns the rule off.",
        min: 0,
        max: 86_400_000,
        default: 30_000,
      }),
      expensiveTurnUsd: field.number({
        description: "Always keep turns costing at least this much (US dollars); 0 turns the rule off.",
        min: 0,
        max: 1_000_000,
        default: 0.5,
      }),
    },
  }),
  prometheus: field.object({
    description:
      "An optional Prometheus scrape endpoint serving the same metrics, for setups that pull instead of push.",
    fields: {
      enabled: field.boolean({ description: "Serve `/metrics` for Prometheus to scrape.", default: false }),
      host: field.string({
        description:
          "Address to listen on. Keep the loopback default unless a scraper on another host needs it.",
        default: "127.0.0.1",
        minLength: 1,
        maxLength: 255,
      }),
      port: field.integer({
        description: "TCP port of the scrape endpoint.",
        min: 1,
        max: 65_535,
        default: 9464,
      }),
    },
  }),
});

/** The resolved config. */
export type OtelConfig = ConfigOf<typeof configDefinition>;

/** One signal's exporter settings, derived from the config. */
export interface OtlpSignalTarget {
  enabled: boolean;
  url: string;
  headers: Record<string, string>;
}

/** The three signals' targets. */
export interface OtlpTargets {
  traces: OtlpSignalTarget;
  metrics: OtlpSignalTarget;
  logs: OtlpSignalTarget;
}

const SIGNAL_PATHS = { traces: "/v1/traces", metrics: "/v1/metrics", logs: "/v1/logs" } as const;
type Signal = keyof typeof SIGNAL_PATHS;

/**
 * Per-signal URL and headers. URL: the signal's own endpoint as given, else the base endpoint plus
 * `/v1/<signal>`. Headers: `headers`, then the signal's headers on top (per name, ignoring case).
 */
export function resolveOtlpTargets(config: OtelConfig): OtlpTargets {
  const target = (
    signal: Signal,
    own: string | undefined,
    ownHeaders: Record<string, string> | undefined,
  ) => ({
    enabled: config[signal],
    url: own ?? toSignalUrl(config.endpoint, signal),
    headers: mergeHeaders(config.headers ?? {}, ownHeaders ?? {}),
  });
  return {
    traces: target("traces", config.tracesEndpoint, config.tracesHeaders),
    metrics: target("metrics", config.metricsEndpoint, config.metricsHeaders),
    logs: target("logs", config.logsEndpoint, config.logsHeaders),
  };
}

/**
 * `<base>/v1/<signal>` per the OTLP exporter spec (one slash between them, the base's own path
 * kept). A base already ending in a signal path keeps it for that signal and swaps it otherwise,
 * as the official plugin does for hosted frontends that hand out a traces URL.
 */
export function toSignalUrl(base: string, signal: Signal): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return base;
  }
  let path = url.pathname.replace(/\/+$/, "");
  for (const suffix of Object.values(SIGNAL_PATHS)) {
    if (path.endsWith(suffix)) {
      path = path.slice(0, -suffix.length);
      break;
    }
  }
  url.pathname = `${path}${SIGNAL_PATHS[signal]}`;
  return url.toString();
}

/** `general` with `specific` on top; a header named in both (any case) takes the specific value. */
export function mergeHeaders(
  general: Record<string, string>,
  specific: Record<string, string>,
): Record<string, string> {
  const merged: Record<string, string> = {};
  const overridden = new Set(Object.keys(specific).map((name) => name.toLowerCase()));
  // defineProperty: a header named "__proto__" must stay a header, never become the prototype
  const set = (name: string, value: string) =>
    Object.defineProperty(merged, name, { value, enumerable: true, writable: true, configurable: true });
  for (const [name, value] of Object.entries(general)) {
    if (!overridden.has(name.toLowerCase())) set(name, value);
  }
  for (const [name, value] of Object.entries(specific)) set(name, value);
  return merged;
}

/** Resource attributes: `resourceAttributes`, with `service.name` always from `serviceName`. */
export function toResourceAttributes(config: OtelConfig): Record<string, string> {
  return { ...(config.resourceAttributes ?? {}), "service.name": config.serviceName };
}
