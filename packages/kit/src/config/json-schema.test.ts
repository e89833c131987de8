import { buildJsonPluginConfigSchema } from "openclaw/plugin-sdk/plugin-entry";
import { describe, expect, it } from "vitest";
import { defineConfig, field } from "./define-config.js";
import { toLabel, toManifestConfigSchema, toUiHints } from "./json-schema.js";
import { packConfigFields } from "./pack-config.js";

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
  it("emits a closed draft-07 schema with a description on every field", () => {
    expect(toManifestConfigSchema(definition)).toEqual({
      type: "object",
      additionalProperties: false,
      properties: {
        trackingUri: { type: "string", description: "MLflow server.", format: "uri", pattern: "^https?://" },
        token: { type: "string", description: "API token.", minLength: 8 },
        flushIntervalMs: { type: "integer", description: "Flush interval.", minimum: 100, default: 5000 },
        mode: { type: "string", description: "Mode.", enum: ["traces", "metrics"], default: "traces" },
        tags: { type: "array", description: "Tags.", items: { type: "string" }, maxItems: 10 },
        headers: {
          type: "object",
          description: "Extra headers.",
          additionalProperties: { type: "string", description: "Header value." },
        },
        batch: {
          type: "object",
          description: "Batching.",
          additionalProperties: false,
          properties: {
            maxItems: { type: "integer", description: "Items per batch.", minimum: 1, default: 100 },
          },
        },
      },
    });
  });

  it("is accepted by the host's own validator, which rejects what resolveConfig rejects", () => {
    const schema = buildJsonPluginConfigSchema(toManifestConfigSchema(definition));
    const valid = schema.safeParse?.({ token: "12345678", headers: { a: "b" }, batch: {} });
    expect(valid?.success).toBe(true);
    // the host fills schema defaults, except where an env var must still be able to win
    expect(valid?.data).toMatchObject({ flushIntervalMs: 5000, mode: "traces", batch: { maxItems: 100 } });
    expect((valid?.data ?? {}) as Record<string, unknown>).not.toHaveProperty("trackingUri");
    expect(schema.safeParse?.({ unknownKey: 1 })?.success).toBe(false);
    expect(schema.safeParse?.({ trackingUri: "ftp://x" })?.success).toBe(false);
    expect(schema.safeParse?.({ flushIntervalMs: 5.5 })?.success).toBe(false);
    expect(schema.safeParse?.({ batch: { other: 1 } })?.success).toBe(false);
  });

  it("marks env-less required fields required, and the pack fragment validates in the host", () => {
    const pack = toManifestConfigSchema(defineConfig(packConfigFields));
    const pricing = (pack.properties as Record<string, { additionalProperties: Record<string, unknown> }>)
      .pricing;
    expect(pricing?.additionalProperties.required).toEqual(["input", "output"]);
    const schema = buildJsonPluginConfigSchema(pack);
    expect(schema.safeParse?.({ pricing: { "gpt-4o": { input: 2.5, output: 10 } } })?.success).toBe(true);
    expect(schema.safeParse?.({ pricing: { "gpt-4o": { input: 2.5 } } })?.success).toBe(false);
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
