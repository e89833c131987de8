import type { PackPluginSpec } from "@clawscope/kit";
import { configDefinition } from "./config.js";
import { LANGFUSE_EVENT_TYPES, type LangfuseStartOptions, startLangfuse } from "./service.js";

/** The plugin's spec for `createPackPlugin`; `options` are test seams. */
export function createLangfusePluginSpec(
  options: LangfuseStartOptions = {},
): PackPluginSpec<typeof configDefinition> {
  return {
    id: "clawscope-langfuse",
    name: "clawscope Langfuse",
    description:
      "Every OpenClaw turn as a Langfuse trace — agent, generations with usage and cost, tool and retriever observations, sessions, users and tags — plus outcome, tool-loop and stuck-session scores, through the official SDK and a spooled pipeline.",
    config: configDefinition,
    eventTypes: LANGFUSE_EVENT_TYPES,
    start: (context) => startLangfuse(context, options),
  };
}
