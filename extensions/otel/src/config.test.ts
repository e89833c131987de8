import {
  ConfigError,
  redactConfigForDisplay,
  resolveConfig,
  toManifestConfigSchema,
  toUiHints,
} from "@clawscope/kit";
import { describe, expect, it } from "vitest";
import {
  configDefinition,
  mergeHeaders,
  type OtelConfig,
  resolveOtlpTargets,
  toResourceAttributes,
  toSignalUrl,
} from "./config.js";

const resolve = (raw: unknown, env: Record<string, string> = {}) => resolveConfig(configDefinition, raw, env);
const errorOf = (raw: unknown, env: Record<string, string> = {}): ConfigError => {
  try {
    resolve(raw, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
};

describe("configDefinition", () => {
  it("defaults to a local Collector over protobuf with every signal on", () => {
    const { config, warnings } = resolve({});
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      endpoint: "http://127.0.0.1:4318",
      protocol: "http/protobuf",
      timeoutMs: 10_000,
      serviceName: "openclaw-gateway",
      traces: true,
      metrics: true,
      logs: true,
      metricIntervalMs: 15_000,
      maxSeries: 2_000,
      sampling: { ratio: 1, keepErrors: true, slowTurnMs: 30_000, expensiveTurnUsd: 0.5 },
      prometheus: { enabled: false, host: "127.0.0.1", port: 9464 },
      captureContent: false,
    });
    expect(config.headers).toBeUndefined();
    expect(resolveOtlpTargets(config)).toEqual({
      traces: { enabled: true, url: "http://127.0.0.1:4318/v1/traces", headers: {} },
      metrics: { enabled: true, url: "http://127.0.0.1:4318/v1/metrics", headers: {} },
      logs: { enabled: true, url: "http://127.0.0.1:4318/v1/logs", headers: {} },
    });
  });

  it("falls back to the standard OTEL_* variables", () => {
    const { config, warnings } = resolve(
      {},
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example.com/otlp/",
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "https://logs.example.com/custom/ingest",
        OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20abc,x-team=core",
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: "authorization=Bearer metrics-only",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
        OTEL_SERVICE_NAME: "gw-eu",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod,service.name=ignored",
        OTEL_METRIC_EXPORT_INTERVAL: "5000",
      },
    );
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      protocol: "http/json",
      timeoutMs: 2_500,
      serviceName: "gw-eu",
      metricIntervalMs: 5_000,
    });
    const targets = resolveOtlpTargets(config);
    expect(targets.traces).toEqual({
      enabled: true,
      url: "https://otlp.example.com/otlp/v1/traces",
      headers: { Authorization: "Bearer abc", "x-team": "core" },
    });
    // a per-signal endpoint is used exactly as given
    expect(targets.logs.url).toBe("https://logs.example.com/custom/ingest");
    // per-signal headers win per name, whatever its case
    expect(targets.metrics.headers).toEqual({ "x-team": "core", authorization: "Bearer metrics-only" });
    expect(toResourceAttributes(config)).toEqual({
      "deployment.environment.name": "prod",
      "service.name": "gw-eu",
    });
  });

  it("prefers plugin config over env, and a per-signal env endpoint over the shared one", () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://from-env:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces-env:4318/v1/traces",
      OTEL_EXPORTER_OTLP_HEADERS: "x-env=1",
      OTEL_SERVICE_NAME: "from-env",
    };
    const { config } = resolve(
      { endpoint: "http://from-config:4318", headers: { "x-config": "2" }, serviceName: "from-config" },
      env,
    );
    const targets = resolveOtlpTargets(config);
    expect(targets.metrics.url).toBe("http://from-config:4318/v1/metrics");
    // the official plugin's rule: signal config, then signal env, then the shared endpoint
    expect(targets.traces.url).toBe("http://traces-env:4318/v1/traces");
    // headers set in the plugin config replace the env list as a whole
    expect(targets.traces.headers).toEqual({ "x-config": "2" });
    expect(config.serviceName).toBe("from-config");
    const own = resolve({ tracesEndpoint: "http://own:4318/t" }, env).config;
    expect(resolveOtlpTargets(own).traces.url).toBe("http://own:4318/t");
  });

  it("ignores an unusable env value with a warning that names the field and the variable", () => {
    const { config, warnings } = resolve(
      {},
      { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TIMEOUT: "5s" },
    );
    expect(config.protocol).toBe("http/protobuf");
    expect(config.timeoutMs).toBe(10_000);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('"protocol"');
    expect(warnings[0]).toContain("OTEL_EXPORTER_OTLP_PROTOCOL");
    expect(warnings[1]).toContain('"timeoutMs"');
  });

  it("rejects bad plugin config with an error naming the field", () => {
    expect(errorOf({ sampling: { ratio: 2 } }).path).toBe("sampling.ratio");
    expect(errorOf({ sampling: { ratio: 2 } }).message).toContain("between 0 and 1");
    expect(errorOf({ prometheus: { port: 0 } }).path).toBe("prometheus.port");
    expect(errorOf({ endpoint: "ftp://collector" }).path).toBe("endpoint");
    expect(errorOf({ protocol: "grpc" }).path).toBe("protocol");
    expect(errorOf({ headers: { authorization: 42 } }).path).toBe("headers.authorization");
    expect(errorOf({ metricIntervalMs: 10 }).path).toBe("metricIntervalMs");
    expect(errorOf({ endpoints: "http://x" }).path).toBe("endpoints");
    expect(errorOf({ sampling: { ratio: 0.5, slowMs: 1 } }).path).toBe("sampling.slowMs");
  });

  it("keeps header values out of displayed config and marks them sensitive", () => {
    const { config } = resolve({ headers: { authorization: "Bearer secret-token" } });
    expect(JSON.stringify(redactConfigForDisplay(configDefinition, config))).not.toContain("secret-token");
    const hints = toUiHints(configDefinition);
    expect(hints.headers?.sensitive).toBe(true);
    expect(hints.tracesHeaders?.sensitive).toBe(true);
    expect(hints.endpoint?.help).toContain("OTEL_EXPORTER_OTLP_ENDPOINT");
    expect(hints["sampling.ratio"]?.label).toBe("Ratio");
  });

  it("takes headers written as a name=value string, and never shows a header value in an error", () => {
    const { config } = resolve({ headers: "authorization=Bearer s3cr3t-value,x-tenant=a" });
    expect(config.headers).toEqual({ authorization: "Bearer s3cr3t-value", "x-tenant": "a" });
    const error = errorOf({ headers: "Authorization: Bearer s3cr3t-value" });
    expect(error.path).toBe("headers");
    expect(error.message).toBe(
      'config field "headers" must be an object or a name=value,name2=value2 list (got a string of 34 characters)',
    );
    expect(errorOf({ tracesHeaders: "Bearer s3cr3t-value" }).message).not.toContain("s3cr3t");
  });

  it("emits no schema default for env-backed fields, so the host cannot shadow the env var", () => {
    const properties = toManifestConfigSchema(configDefinition).properties as Record<
      string,
      Record<string, unknown>
    >;
    expect(properties.endpoint).not.toHaveProperty("default");
    expect(properties.protocol).not.toHaveProperty("default");
    expect(properties.traces?.default).toBe(true);
  });
});

describe("toSignalUrl", () => {
  it("appends the signal path to the base, keeping its own path and query", () => {
    expect(toSignalUrl("http://127.0.0.1:4318", "traces")).toBe("http://127.0.0.1:4318/v1/traces");
    expect(toSignalUrl("http://127.0.0.1:4318/", "logs")).toBe("http://127.0.0.1:4318/v1/logs");
    expect(toSignalUrl("https://api.vendor.io/otlp?tenant=a", "metrics")).toBe(
      "https://api.vendor.io/otlp/v1/metrics?tenant=a",
    );
  });

  it("keeps or swaps a signal path already on the base", () => {
    expect(toSignalUrl("https://x.io/api/v1/traces", "traces")).toBe("https://x.io/api/v1/traces");
    expect(toSignalUrl("https://x.io/api/v1/traces", "metrics")).toBe("https://x.io/api/v1/metrics");
  });
});

describe("mergeHeaders", () => {
  it("lets specific headers win by name regardless of case, and keeps __proto__ a header", () => {
    expect(mergeHeaders({ "X-Key": "a", other: "b" }, { "x-key": "c" })).toEqual({
      other: "b",
      "x-key": "c",
    });
    const merged = mergeHeaders(JSON.parse('{"__proto__":"p"}'), {});
    expect(Object.keys(merged)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
});

describe("OtelConfig", () => {
  it("types the nested objects as always present", () => {
    const config: OtelConfig = resolve({}).config;
    const ratio: number = config.sampling.ratio;
    const port: number = config.prometheus.port;
    expect([ratio, port]).toEqual([1, 9464]);
  });
});
