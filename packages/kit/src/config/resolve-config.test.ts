import { describe, expect, expectTypeOf, it } from "vitest";
import { defineConfig, field, type InferConfig, parseKeyValueList } from "./define-config.js";
import { ConfigError, redactConfigForDisplay, resolveConfig } from "./resolve-config.js";

const definition = defineConfig({
  trackingUri: field.url({ description: "MLflow server.", env: ["MLFLOW_TRACKING_URI"], required: true }),
  experiment: field.string({ description: "Experiment name.", default: "openclaw", minLength: 1 }),
  token: field.secret({ description: "API token.", env: ["MLFLOW_TRACKING_TOKEN"], minLength: 8 }),
  flushIntervalMs: field.integer({ description: "Flush interval.", min: 100, default: 5000 }),
  sampleRate: field.number({ description: "Sampling.", min: 0, max: 1, default: 1, env: ["SAMPLE_RATE"] }),
  enabled: field.boolean({ description: "On.", default: true, env: ["ENABLED"] }),
  mode: field.enum({ description: "Mode.", values: ["traces", "metrics"], default: "traces" }),
  tags: field.stringArray({ description: "Tags.", env: ["TAGS"] }),
  headers: field.record({
    description: "Extra headers.",
    values: field.secret({ description: "Header value." }),
    env: ["OTEL_EXPORTER_OTLP_HEADERS"],
  }),
  batch: field.object({
    description: "Batching.",
    fields: { maxItems: field.integer({ description: "Items per batch.", min: 1, max: 1000, default: 100 }) },
  }),
});

const base = { trackingUri: "http://127.0.0.1:5000" };

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("resolveConfig", () => {
  it("fills defaults and infers the config type", () => {
    const { config, warnings } = resolveConfig(definition, base, {});
    expect(config).toEqual({
      trackingUri: "http://127.0.0.1:5000",
      experiment: "openclaw",
      flushIntervalMs: 5000,
      sampleRate: 1,
      enabled: true,
      mode: "traces",
      batch: { maxItems: 100 },
    });
    expect(warnings).toEqual([]);
    expectTypeOf(config.trackingUri).toEqualTypeOf<string>();
    expectTypeOf(config.token).toEqualTypeOf<string | undefined>();
    expectTypeOf(config.mode).toEqualTypeOf<"traces" | "metrics">();
    expectTypeOf(config.batch.maxItems).toEqualTypeOf<number>();
    expectTypeOf(config.headers).toEqualTypeOf<Record<string, string> | undefined>();
    expectTypeOf<InferConfig<typeof definition>["tags"]>().toEqualTypeOf<string[] | undefined>();
  });

  it("applies plugin config, then env, then default", () => {
    const env = { MLFLOW_TRACKING_URI: "https://env.example", SAMPLE_RATE: "0.25", ENABLED: "false" };
    expect(resolveConfig(definition, {}, env).config.trackingUri).toBe("https://env.example");
    expect(resolveConfig(definition, base, env).config.trackingUri).toBe("http://127.0.0.1:5000");
    const { config } = resolveConfig(definition, { ...base, sampleRate: 0.5 }, env);
    expect(config.sampleRate).toBe(0.5);
    expect(config.enabled).toBe(false);
    expect(resolveConfig(definition, base, { SAMPLE_RATE: "  " }).config.sampleRate).toBe(1);
  });

  it("parses env lists and OTEL-style headers", () => {
    const env = {
      ...{ MLFLOW_TRACKING_URI: "http://x" },
      TAGS: "a, b,,c",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic%20abc,x-team = blue",
    };
    const { config } = resolveConfig(definition, {}, env);
    expect(config.tags).toEqual(["a", "b", "c"]);
    expect(config.headers).toEqual({ Authorization: "Basic abc", "x-team": "blue" });
  });

  it("uses a field's own env parser", () => {
    const custom = defineConfig({
      ports: field.stringArray({
        description: "Ports.",
        env: ["PORTS"],
        parseEnv: (text) => text.split(";"),
      }),
    });
    expect(resolveConfig(custom, {}, { PORTS: "1;2" }).config.ports).toEqual(["1", "2"]);
  });

  it("ignores an invalid env var with a warning that never shows a secret", () => {
    const { config, warnings } = resolveConfig(definition, base, {
      SAMPLE_RATE: "lots",
      MLFLOW_TRACKING_TOKEN: "short",
      ENABLED: 42 as unknown as string,
    });
    expect(config.sampleRate).toBe(1);
    expect(config.token).toBeUndefined();
    expect(config.enabled).toBe(true);
    expect(warnings).toEqual([
      'config field "token" from env MLFLOW_TRACKING_TOKEN must be a string of at least 8 characters (got a string of 5 characters); env MLFLOW_TRACKING_TOKEN ignored',
      'config field "sampleRate" from env SAMPLE_RATE must be a number between 0 and 1 (got "lots"); env SAMPLE_RATE ignored',
    ]);
  });

  it("falls through to the next env var when one cannot be parsed", () => {
    const custom = defineConfig({
      endpoint: field.url({
        description: "Endpoint.",
        env: ["FIRST", "SECOND"],
        parseEnv: (text) => {
          if (text === "boom") throw new Error("secret-looking text");
          return text;
        },
      }),
    });
    const { config, warnings } = resolveConfig(custom, {}, { FIRST: "boom", SECOND: "http://second" });
    expect(config.endpoint).toBe("http://second");
    expect(warnings).toEqual([
      'config field "endpoint" from env FIRST could not be parsed; env FIRST ignored',
    ]);
  });

  it("reports a bad value as one line: path, expectation, received value", () => {
    const error = errorOf(() => resolveConfig(definition, { ...base, flushIntervalMs: "abc" }, {}));
    expect(error.message).toBe('config field "flushIntervalMs" must be an integer >= 100 (got "abc")');
    expect(error.path).toBe("flushIntervalMs");
    expect(errorOf(() => resolveConfig(definition, { ...base, flushIntervalMs: 50.5 }, {})).message).toBe(
      'config field "flushIntervalMs" must be an integer >= 100 (got 50.5)',
    );
    expect(errorOf(() => resolveConfig(definition, { trackingUri: "ftp://x" }, {})).message).toBe(
      'config field "trackingUri" must be an http or https URL (got "ftp://x")',
    );
    expect(errorOf(() => resolveConfig(definition, { ...base, mode: "logs" }, {})).message).toBe(
      'config field "mode" must be one of "traces", "metrics" (got "logs")',
    );
    expect(errorOf(() => resolveConfig(definition, { ...base, batch: { maxItems: 0 } }, {})).message).toBe(
      'config field "batch.maxItems" must be an integer between 1 and 1000 (got 0)',
    );
    expect(errorOf(() => resolveConfig(definition, { ...base, tags: ["a", 3] }, {})).message).toBe(
      'config field "tags[1]" must be a string (got 3)',
    );
    expect(errorOf(() => resolveConfig(definition, { ...base, enabled: null }, {})).message).toBe(
      'config field "enabled" must be true or false (got null)',
    );
    expect(errorOf(() => resolveConfig(definition, { ...base, experiment: "" }, {})).message).toBe(
      'config field "experiment" must be a string of at least 1 characters (got "")',
    );
  });

  it("truncates long received values and keeps the message on one line", () => {
    const message = errorOf(() =>
      resolveConfig(definition, { trackingUri: `${"x".repeat(500)}\nsecond line` }, {}),
    ).message;
    expect(message).not.toContain("\n");
    expect(message.length).toBeLessThan(160);
    expect(message).toContain("…");
  });

  it("never shows a secret value in an error", () => {
    const message = errorOf(() =>
      resolveConfig(definition, { ...base, headers: { Authorization: 12345 } }, {}),
    ).message;
    expect(message).toBe('config field "headers.Authorization" must be a string (got a number)');
    const long = defineConfig({ key: field.secret({ description: "Key.", minLength: 16 }) });
    const shortKey = errorOf(() => resolveConfig(long, { key: "hunter2" }, {})).message;
    expect(shortKey).toBe(
      'config field "key" must be a string of at least 16 characters (got a string of 7 characters)',
    );
    expect(shortKey).not.toContain("hunter2");
  });

  it("rejects unknown keys, naming them, at any depth", () => {
    expect(errorOf(() => resolveConfig(definition, { ...base, flushIntervalMS: 5 }, {})).message).toMatch(
      /^config field "flushIntervalMS" is not a known option \(known: trackingUri, experiment, /,
    );
    expect(errorOf(() => resolveConfig(definition, { ...base, batch: { size: 1 } }, {})).message).toBe(
      'config field "batch.size" is not a known option (known: maxItems)',
    );
  });

  it("names the env vars of a missing required field", () => {
    expect(errorOf(() => resolveConfig(definition, {}, {})).message).toBe(
      'config field "trackingUri" is required: set it in the plugin config or env MLFLOW_TRACKING_URI',
    );
  });

  it("tolerates garbage input without crashing", () => {
    expect(errorOf(() => resolveConfig(definition, "nope", {})).message).toBe(
      'plugin config must be an object (got "nope")',
    );
    expect(errorOf(() => resolveConfig(definition, [1], {})).message).toBe(
      "plugin config must be an object (got a list)",
    );
    expect(resolveConfig(definition, null, { MLFLOW_TRACKING_URI: "http://a" }).config.experiment).toBe(
      "openclaw",
    );
    expect(errorOf(() => resolveConfig(definition, { ...base, batch: 7 }, {})).message).toBe(
      'config field "batch" must be an object (got 7)',
    );
  });

  it("rejects an enum default outside its values at compile time", () => {
    // biome-ignore format: the directive must sit on the line of the whole call
    // @ts-expect-error "logs" is not one of the values
    const spec: unknown = field.enum({ description: "Mode.", values: ["traces", "metrics"], default: "logs" });
    expect(spec).toMatchObject({ kind: "enum" });
  });

  it("returns fresh objects and keeps __proto__ keys as data", () => {
    const raw = JSON.parse('{"trackingUri":"http://a","tags":["x"],"headers":{"__proto__":"v"}}');
    const { config } = resolveConfig(definition, raw, {});
    config.tags?.push("y");
    expect(raw.tags).toEqual(["x"]);
    expect(Object.getPrototypeOf(config.headers)).toBe(Object.prototype);
    expect(Object.keys(config.headers ?? {})).toEqual(["__proto__"]);
  });
});

describe("redactConfigForDisplay", () => {
  it("shows secrets and secret records as [redacted] and leaves out unset fields", () => {
    const { config } = resolveConfig(
      definition,
      { ...base, token: "tok-123456", headers: { Authorization: "Basic abc" } },
      {},
    );
    const shown = redactConfigForDisplay(definition, config);
    expect(shown).toEqual({
      trackingUri: "http://127.0.0.1:5000",
      experiment: "openclaw",
      token: "[redacted]",
      flushIntervalMs: 5000,
      sampleRate: 1,
      enabled: true,
      mode: "traces",
      headers: { Authorization: "[redacted]" },
      batch: { maxItems: 100 },
    });
    expect(JSON.stringify(shown)).not.toContain("tok-123456");
  });
});

describe("parseKeyValueList", () => {
  it("parses the OTEL header list and rejects malformed text", () => {
    expect(parseKeyValueList("a=b, c = d%3De")).toEqual({ a: "b", c: "d=e" });
    expect(parseKeyValueList("novalue")).toBeUndefined();
    expect(parseKeyValueList("=x")).toBeUndefined();
    expect(parseKeyValueList("a=%E0%A4%A")).toEqual({ a: "%E0%A4%A" });
  });
});

describe("secrets and URL credentials in config errors and displays", () => {
  it("never echoes a record of secrets given the wrong way, and takes a name=value list", () => {
    const secret = "Bearer sk-live-abcdefghijklmnop";
    const message = errorOf(() => resolveConfig(definition, { ...base, headers: 42 }, {})).message;
    expect(message).toBe(
      'config field "headers" must be an object or a name=value,name2=value2 list (got a number)',
    );
    const listed = resolveConfig(definition, { ...base, headers: `authorization=${secret}` }, {}).config;
    expect(listed.headers).toEqual({ authorization: secret });
    const broken = errorOf(() =>
      resolveConfig(definition, { ...base, headers: `authorization ${secret}` }, {}),
    );
    expect(broken.message).not.toContain("sk-live");
    expect(broken.message).toContain("a string of");
  });

  it("refuses a URL with credentials where the backend takes them elsewhere, masking the password", () => {
    const strict = defineConfig({
      baseUrl: field.url({ description: "Server.", required: true, credentials: "refuse" }),
    });
    const message = errorOf(() =>
      resolveConfig(strict, { baseUrl: "https://admin:hunter2-secret@langfuse.example" }, {}),
    ).message;
    expect(message).toBe(
      'config field "baseUrl" must not carry credentials (user:password@); give them in their own fields (got "https://admin:***@langfuse.example")',
    );
    expect(resolveConfig(strict, { baseUrl: "https://langfuse.example" }, {}).config.baseUrl).toBe(
      "https://langfuse.example",
    );
  });

  it("masks URL passwords in displays and in messages about other problems", () => {
    const values: Record<string, unknown> = { ...base, trackingUri: "https://u:p4ss@mlflow.example/" };
    const shown = redactConfigForDisplay(definition, values);
    expect(shown.trackingUri).toBe("https://u:***@mlflow.example/");
    const message = errorOf(() =>
      resolveConfig(definition, { trackingUri: "ftp://u:p4ss@mlflow.example" }, {}),
    ).message;
    expect(message).not.toContain("p4ss");
  });
});
