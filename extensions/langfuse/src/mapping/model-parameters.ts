/**
 * Model parameters where the gateway knows them. The host's events carry none per call, but its
 * config declares each provider model's request limit (`models.providers.<p>.models[].maxTokens`),
 * which is what the gateway asks the provider for: Langfuse shows it as `max_tokens`.
 */
import { readField } from "@clawscope/kit";

/** Parameters of one model, as Langfuse's `modelParameters` holds them. */
export type ModelParameters = Record<string, string | number>;

/** Finds a model's parameters by provider and model id. */
export type ModelParameterLookup = (
  provider: string | undefined,
  model: string | undefined,
) => ModelParameters | undefined;

/** Most models read from the config: it is operator-written and small, this only bounds garbage. */
const MAX_MODELS = 2000;

/**
 * Builds the lookup once from the whole OpenClaw config (read-only). Tolerates any shape: a config
 * without `models.providers` gives a lookup that finds nothing.
 */
export function createModelParameterLookup(hostConfig: unknown): ModelParameterLookup {
  const byKey = new Map<string, ModelParameters>();
  const providers = readField(readField(hostConfig, "models"), "providers");
  if (providers !== null && typeof providers === "object" && !Array.isArray(providers)) {
    for (const [provider, entry] of Object.entries(providers as Record<string, unknown>)) {
      const models = readField(entry, "models");
      if (!Array.isArray(models)) continue;
      for (const model of models) {
        if (byKey.size >= MAX_MODELS) break;
        const id = readField(model, "id");
        const maxTokens = readField(model, "maxTokens");
        if (typeof id !== "string" || id === "") continue;
        if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens <= 0) continue;
        byKey.set(`${provider}\u0000${id}`, { max_tokens: maxTokens });
      }
    }
  }
  return (provider, model) => {
    if (typeof provider !== "string" || typeof model !== "string") return undefined;
    const found = byKey.get(`${provider}\u0000${model}`);
    return found ? { ...found } : undefined;
  };
}
