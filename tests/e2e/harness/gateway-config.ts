/**
 * Builds the OpenClaw config for a test gateway: loopback, token auth, the HTTP chat endpoint, the
 * mock provider as the only model, direct plugin tools, and the plugins under test.
 */

/** A plugin folder to load, and its entry under `plugins.entries`. */
export interface GatewayPluginSpec {
  /** Absolute path of the plugin folder (package.json + openclaw.plugin.json + entry). */
  dir: string;
  /** Plugin id: must equal the manifest's and the entry's id. */
  id: string;
  /** `plugins.entries.<id>.config`; the host validates it against the manifest's configSchema, which is annotation-only: the extension checks it at start. */
  config?: Record<string, unknown>;
  /** `hooks.allowConversationAccess` (default true): needed for llm_input/llm_output/agent_end. */
  allowConversationAccess?: boolean;
}

/** The model API the mock provider is configured with. */
export type MockProviderApi = "openai-completions" | "openai-responses";

/** Inputs of {@link createGatewayConfig}. */
export interface GatewayConfigInput {
  port: number;
  token: string;
  logFile: string;
  providerBaseUrl: string;
  providerApi: MockProviderApi;
  plugins: GatewayPluginSpec[];
  extraConfig?: Record<string, unknown>;
}

export type JsonObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Deep merge for config objects: objects merge key by key, everything else (arrays too) replaces. */
export function mergeConfig(base: JsonObject, override: JsonObject): JsonObject {
  const result: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfig(current, value) : value;
  }
  return result;
}

/** The config that worked in HOST.md ("Running the real gateway offline"), filled in. */
export function createGatewayConfig(input: GatewayConfigInput): JsonObject {
  const entries: JsonObject = {};
  for (const plugin of input.plugins) {
    entries[plugin.id] = {
      enabled: true,
      hooks: { allowConversationAccess: plugin.allowConversationAccess ?? true },
      config: plugin.config ?? {},
    };
  }
  const base: JsonObject = {
    gateway: {
      mode: "local",
      port: input.port,
      bind: "loopback",
      auth: { mode: "token", token: input.token },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    logging: { file: input.logFile, level: "info" },
    diagnostics: { enabled: true },
    tools: { toolSearch: false },
    models: {
      mode: "merge",
      providers: {
        mock: {
          baseUrl: input.providerBaseUrl,
          apiKey: "mock-local",
          api: input.providerApi,
          models: [
            {
              id: "mock-model",
              name: "Mock Model",
              reasoning: false,
              input: ["text"],
              cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
              contextWindow: 128000,
              maxTokens: 4096,
            },
          ],
        },
      },
    },
    agents: { defaults: { model: { primary: "mock/mock-model" } } },
    plugins: {
      load: { paths: input.plugins.map((plugin) => plugin.dir) },
      entries,
    },
  };
  return input.extraConfig ? mergeConfig(base, input.extraConfig) : base;
}

/**
 * A second provider, `mock2`, whose one model `mock-model-b` is priced apart from `mock/mock-model`,
 * on the same mock provider (`baseUrl`): for `extraConfig`, with turns that ask for it through
 * `x-openclaw-model: mock2/mock-model-b`.
 */
export function secondModelConfig(baseUrl: string): JsonObject {
  return {
    models: {
      providers: {
        mock2: {
          baseUrl,
          apiKey: "mock-two",
          api: "openai-completions",
          models: [
            {
              id: "mock-model-b",
              name: "mock-model-b",
              reasoning: false,
              input: ["text"],
              cost: { input: 1, output: 4, cacheRead: 0.1, cacheWrite: 1.25 },
              contextWindow: 128000,
              maxTokens: 4096,
            },
          ],
        },
      },
    },
  };
}
