import type { PackPluginSpec } from "@clawscope/kit";
import { configDefinition } from "./config.js";
import { MLFLOW_EVENT_TYPES, type MlflowStartOptions, startMlflow } from "./service.js";

/** The plugin's spec for `createPackPlugin`; `options` are test seams (faster run-creation retries). */
export function createMlflowPluginSpec(
  options: MlflowStartOptions = {},
): PackPluginSpec<typeof configDefinition> {
  return {
    id: "clawscope-mlflow",
    name: "clawscope MLflow",
    description:
      "One MLflow run per OpenClaw gateway process with per-interval token, cost, latency, outcome and tool metrics — spooled while the tracking server is down.",
    config: configDefinition,
    eventTypes: MLFLOW_EVENT_TYPES,
    start: (context) => startMlflow(context, options),
  };
}
