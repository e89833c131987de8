import { buildJsonPluginConfigSchema } from "openclaw/plugin-sdk/plugin-entry";
import { describe, expect, it } from "vitest";
import { defineConfig, field } from "./define-config.js";
import { toLabel, toManifestConfigSchema, toUiHints } from "./json-schema.js";
import { packConfigFields } from "./pack-config.js";
import { ConfigError, resolveConfig } from "./resolve-config.js";

const definition = defineConfig({
  trackingUri: field.url({
    description: "MLflow server.",
    env: ["MLFLOW_TRACKING_URI"],
    default: "http://localhost:5000",
  }),
  token: field.secret({ description: "API token.", minLength: 8 }),
  flushIntervalMs: field.integer({ description: "Flush interval.", min: 100, default: 5000 }),
  mode: field.enum({
    description: "Mode.",
    values: ["traces", "metrics"],
    default: "traces",
    advanced: true,
  }),
  tags: field.stringArray({ description: "Tags.", maxItems: 10 }),
  headers: field.record({
    description: "Extra headers.",
    values: field.secret({ description: "Header value." }),
  }),
  batch: field.object({
    description: "Batching.",
    fields: {
      maxItems: field.integer({ description: "Items per batch.", min: 1, default: 100, label: "Batch size" }),
    },
  }),
});

describe("toManifestConfigSchema", () => {
  it("emits an annotation-only schema: a description and the rule in words on every field", () => {
    expect(toManifestConfigSchema(definition)).toEqual({
      $comment: "validated by the plugin at start (unknown keys are reported there)",
      properties: {
        trackingUri: { description: "MLflow server.", $comment: "http(s) URL" },
        token: { description: "API token.", $comment: "secret string, at least 8 chars" },
        flushIntervalMs: { description: "Flush interval.", $comment: "integer >= 100", default: 5000 },
        mode: { description: "Mode.", $comment: "one of traces, metrics", default: "traces" },
        tags: { description: "Tags.", $comment: "array of strings, at most 10" },
        headers: {
          description: "Extra headers.",
          $comment: "map of names to values",
          additionalProperties: { description: "Header value.", $comment: "secret string" },
        },
        batch: {
          description: "Batching.",
          $comment: "object",
          properties: {
            maxItems: { description: "Items per batch.", $comment: "integer >= 1", default: 100 },
          },
        },
      },
    });
  });

  it("never makes the host refuse to boot: its validator accepts what resolveConfig rejects with a named field", () => {
    const schema = buildJsonPluginConfigSchema(toManifestConfigSchema(definition));
    const valid = schema.safeParse?.({ token: "12345678", headers: { a: "b" }, batch: {} });
    expect(valid?.success).toBe(true);
    // the host fills schema defaults, except where an env var must still be able to win
    expect(valid?.data).toMatchObject({ flushIntervalMs: 5000, mode: "traces" });
    expect((valid?.data ?? {}) as Record<string, unknown>).not.toHaveProperty("trackingUri");
    for (const bad of [
      { unknownKey: 1 },
      { trackingUri: "ftp://x" },
      { flushIntervalMs: 5.5 },
      { batch: { other: 1 } },
    ]) {
      expect(schema.safeParse?.(bad)?.success).toBe(true);
      expect(() => resolveConfig(definition, bad, {})).toThrow(ConfigError);
    }
  });

  it("describes the pack fragment's required nested fields in words", () => {
    const pack = toManifestConfigSchema(defineConfig(packConfigFields));
    const pricing = (
      pack.properties as Record<
        string,
        { additionalProperties: { properties: Record<string, { $comment: string }> } }
      >
    ).pricing;
    expect(pricing?.additionalProperties.properties.input?.$comment).toBe("required number >= 0");
    expect(pricing?.additionalProperties.properties.cacheRead?.$comment).toBe("number >= 0");
    const schema = buildJsonPluginConfigSchema(pack);
    expect(schema.safeParse?.({ pricing: { "gpt-4o": { input: 2.5, output: 10 } } })?.success).toBe(true);
    expect(() =>
      resolveConfig(defineConfig(packConfigFields), { pricing: { "gpt-4o": { input: 2.5 } } }, {}),
    ).toThrow(/pricing\.gpt-4o\.output/);
  });
});

describe("toUiHints", () => {
  it("gives every field path a label and help in the host's uiHints format", () => {
    expect(toUiHints(definition)).toEqual({
      trackingUri: {
        label: "Tracking URI",
        help: 'MLflow server. Fallback: env MLFLOW_TRACKING_URI. Default: "http://localhost:5000".',
      },
      token: { label: "Token", help: "API token.", sensitive: true },
      flushIntervalMs: { label: "Flush Interval (ms)", help: "Flush interval. Default: 5000." },
      mode: { label: "Mode", help: 'Mode. Default: "traces".', advanced: true },
      tags: { label: "Tags", help: "Tags." },
      headers: { label: "Headers", help: "Extra headers.", sensitive: true },
      batch: { label: "Batch", help: "Batching." },
      "batch.maxItems": { label: "Batch size", help: "Items per batch. Default: 100." },
    });
  });

  it("uses `*` for record entries with object values", () => {
    const hints = toUiHints(defineConfig(packConfigFields));
    expect(hints["pricing.*.input"]).toEqual({ label: "Input", help: "USD per million input tokens." });
    expect(hints.hashKey?.sensitive).toBe(true);
    expect(hints.hashKey?.help).toContain("Fallback: env CLAWSCOPE_HASH_KEY.");
  });
});

describe("toLabel", () => {
  it("spells out keys", () => {
    expect(toLabel("flushIntervalMs")).toBe("Flush Interval (ms)");
    expect(toLabel("rawIds")).toBe("Raw IDs");
    expect(toLabel("otlpEndpointUrl")).toBe("OTLP Endpoint URL");
    expect(toLabel("spoolMaxBytes")).toBe("Spool Max (bytes)");
    expect(toLabel("ms")).toBe("Ms");
  });
});
