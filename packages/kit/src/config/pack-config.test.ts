import { describe, expect, it } from "vitest";
import { defineConfig, field } from "./define-config.js";
import { packConfigFields } from "./pack-config.js";
import { redactConfigForDisplay, resolveConfig } from "./resolve-config.js";

const definition = defineConfig({ ...packConfigFields, endpoint: field.url({ description: "Backend." }) });

describe("packConfigFields", () => {
  it("defaults to privacy-preserving settings", () => {
    const { config } = resolveConfig(definition, {}, {});
    expect(config.captureContent).toBe(false);
    expect(config.rawIds).toBe(false);
    expect(config.hashKey).toBeUndefined();
    expect(config.pricing).toBeUndefined();
    expect(config).toMatchObject({
      turnTimeoutMs: 600_000,
      settleMs: 2000,
      flushIntervalMs: 5000,
      maxContentChars: 8000,
    });
  });

  it("reads the hash key from CLAWSCOPE_HASH_KEY and never displays it", () => {
    const { config } = resolveConfig(definition, {}, { CLAWSCOPE_HASH_KEY: "0123456789abcdef-key" });
    expect(config.hashKey).toBe("0123456789abcdef-key");
    expect(redactConfigForDisplay(definition, config).hashKey).toBe("[redacted]");
  });

  it("validates pricing entries", () => {
    const { config } = resolveConfig(
      definition,
      { pricing: { "mock-model": { input: 3, output: 15, cacheRead: 0.3 } } },
      {},
    );
    expect(config.pricing?.["mock-model"]).toEqual({ input: 3, output: 15, cacheRead: 0.3 });
    expect(() => resolveConfig(definition, { pricing: { m: { input: 3 } } }, {})).toThrow(
      'config field "pricing.m.output" is required: set it in the plugin config',
    );
    expect(() => resolveConfig(definition, { pricing: { m: { input: -1, output: 1 } } }, {})).toThrow(
      'config field "pricing.m.input" must be a number >= 0 (got -1)',
    );
  });
});
