import { ConfigError, redactConfigForDisplay, resolveConfig, toManifestConfigSchema } from "@clawscope/kit";
import { describe, expect, it } from "vitest";
import {
  configDefinition,
  DEFAULT_BASE_URL,
  maskPublicKey,
  toBaseUrl,
  validateLangfuseConfig,
} from "./config.js";

const KEYS = { publicKey: "pk-lf-1111-2222", secretKey: "sk-lf-3333-4444" };

describe("clawscope-langfuse config", () => {
  it("defaults to Langfuse Cloud, every healthy turn, scores on, content off", () => {
    const { config } = resolveConfig(configDefinition, KEYS, {});
    expect(config).toMatchObject({
      ...KEYS,
      baseUrl: DEFAULT_BASE_URL,
      sampling: { ratio: 1 },
      scores: true,
      toolLoopThreshold: 5,
      captureContent: false,
      timeoutMs: 10_000,
    });
    expect(config.environment).toBeUndefined();
    expect(config.release).toBeUndefined();
  });

  it("reads the SDK's env vars when the plugin config leaves a field unset, plugin config first", () => {
    const env = {
      LANGFUSE_PUBLIC_KEY: "pk-lf-env",
      LANGFUSE_SECRET_KEY: "sk-lf-env",
      LANGFUSE_BASE_URL: "https://us.cloud.langfuse.com",
      LANGFUSE_TRACING_ENVIRONMENT: "staging",
      LANGFUSE_RELEASE: "2026.11.1",
      LANGFUSE_SAMPLE_RATE: "0.5",
    };
    expect(resolveConfig(configDefinition, {}, env).config).toMatchObject({
      publicKey: "pk-lf-env",
      secretKey: "sk-lf-env",
      baseUrl: "https://us.cloud.langfuse.com",
      environment: "staging",
      release: "2026.11.1",
      sampling: { ratio: 0.5 },
    });
    expect(resolveConfig(configDefinition, { publicKey: "pk-lf-mine" }, env).config.publicKey).toBe(
      "pk-lf-mine",
    );
    const legacy = resolveConfig(configDefinition, KEYS, {
      LANGFUSE_BASEURL: "http://langfuse.internal:3000",
    });
    expect(legacy.config.baseUrl).toBe("http://langfuse.internal:3000");
  });

  it("refuses a baseUrl that carries a password, in one line that never shows it", () => {
    let message = "";
    try {
      resolveConfig(configDefinition, { ...KEYS, baseUrl: "https://admin:hunter2@langfuse.example" }, {});
    } catch (error) {
      message = String((error as Error).message);
    }
    expect(message).toBe(
      'config field "baseUrl" must not carry credentials (user:password@); give them in their own fields (got "https://admin:***@langfuse.example")',
    );
    // from the env too: never a quiet fall back to Langfuse Cloud, which would send the data elsewhere
    expect(() =>
      resolveConfig(configDefinition, KEYS, { LANGFUSE_BASE_URL: "https://admin:hunter2@langfuse.example" }),
    ).toThrow('config field "baseUrl" from env LANGFUSE_BASE_URL must not carry credentials');
  });

  it("names the missing key and where to set it", () => {
    expect(() => resolveConfig(configDefinition, { secretKey: "sk-lf-x" }, {})).toThrow(
      /"publicKey" is required: set it in the plugin config or env LANGFUSE_PUBLIC_KEY/,
    );
    expect(() => resolveConfig(configDefinition, { publicKey: "pk-lf-x" }, {})).toThrow(
      /"secretKey" is required/,
    );
  });

  it("refuses swapped keys and bad environments without showing the secret", () => {
    const swapped = () =>
      validateLangfuseConfig({ publicKey: "sk-lf-secret-value", secretKey: "pk-lf-public" });
    expect(swapped).toThrow(ConfigError);
    expect(swapped).toThrow(/"secretKey" holds a public key/);
    try {
      swapped();
    } catch (error) {
      expect(String(error)).not.toContain("sk-lf-secret-value");
    }
    expect(() => validateLangfuseConfig({ publicKey: "sk-lf-secret", secretKey: "sk-lf-other" })).toThrow(
      /"publicKey" holds a secret key/,
    );
    for (const environment of ["Production", "langfuse-prod", "a b"])
      expect(() => validateLangfuseConfig({ ...KEYS, environment })).toThrow(/"environment"/);
    expect(() => validateLangfuseConfig({ ...KEYS, environment: "prod_eu-1" })).not.toThrow();
  });

  it("keeps the secret out of config dumps and shows only the public key's tail", () => {
    const { config } = resolveConfig(configDefinition, KEYS, {});
    expect(JSON.stringify(redactConfigForDisplay(configDefinition, config))).not.toContain(KEYS.secretKey);
    expect(maskPublicKey("pk-lf-1111-2222")).toBe("pk-lf-…2222");
    expect(maskPublicKey("short")).toBe("…");
    expect(toBaseUrl(" https://cloud.langfuse.com/// ")).toBe("https://cloud.langfuse.com");
    expect(() => resolveConfig(configDefinition, { ...KEYS, sampling: { ratio: 1.5 } }, {})).toThrow(
      /sampling\.ratio/,
    );
  });

  it("reads the old sampleRate as sampling.ratio, with a deprecation warning, and refuses both at once", () => {
    const old = resolveConfig(configDefinition, { ...KEYS, sampleRate: 0.25 }, {});
    expect(old.config.sampling.ratio).toBe(0.25);
    expect(old.config).not.toHaveProperty("sampleRate");
    expect(old.warnings).toEqual([
      'config field "sampleRate" is deprecated: use "sampling.ratio" (it is read as that for now)',
    ]);
    expect(() => resolveConfig(configDefinition, { ...KEYS, sampleRate: 1.5 }, {})).toThrow(
      /sampling\.ratio/,
    );
    expect(() =>
      resolveConfig(configDefinition, { ...KEYS, sampleRate: 0.5, sampling: { ratio: 0.5 } }, {}),
    ).toThrow(
      'config fields "sampleRate" (deprecated) and "sampling.ratio" are both set: keep "sampling.ratio" only',
    );
    // the gateway validates the entry against the manifest: the old name stays in it
    expect(toManifestConfigSchema(configDefinition).properties).toHaveProperty("sampleRate.deprecated", true);
  });
});
