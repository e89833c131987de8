import type { PackPluginSpec } from "@clawscope/kit";
import { MEMORY_COMMANDS } from "./cli/memory-commands.js";
import { configDefinition } from "./config.js";
import { ACTIVITY_EVENT_TYPES } from "./domain/hour-activity.js";
import { MEMORY_ROUTES, startMemory } from "./service.js";

/** The plugin's spec for `createPackPlugin`. */
export function createMemoryPluginSpec(): PackPluginSpec<typeof configDefinition> {
  return {
    id: "clawscope-memory-consolidation",
    name: "clawscope memory consolidation",
    description:
      "The gateway's operational memory: minute rollups of turns, model and tool calls, tokens, cost by provenance and latency histograms, on an embedded SQLite store or a fleet's MongoDB.",
    config: configDefinition,
    eventTypes: ACTIVITY_EVENT_TYPES,
    routes: MEMORY_ROUTES,
    commands: MEMORY_COMMANDS,
    start: startMemory,
  };
}
