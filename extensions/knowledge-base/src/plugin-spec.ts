import type { PackPluginSpec } from "@clawscope/kit";
import { KB_COMMANDS } from "./cli/kb-commands.js";
import { configDefinition } from "./config.js";
import { FAILURE_EVENT_TYPES } from "./domain/failure-signals.js";
import { KNOWLEDGE_ROUTES, KNOWLEDGE_TOOLS, startKnowledgeBase } from "./service.js";

/** The plugin's spec for `createPackPlugin`. */
export function createKnowledgeBasePluginSpec(): PackPluginSpec<typeof configDefinition> {
  return {
    id: "clawscope-knowledge-base",
    name: "clawscope knowledge base",
    description:
      "Recurring failures of the gateway grouped by fingerprint into issue entries (count, first and last seen, trend, who and where, example traces, status), on an embedded SQLite store or a fleet's MongoDB.",
    config: configDefinition,
    eventTypes: FAILURE_EVENT_TYPES,
    routes: KNOWLEDGE_ROUTES,
    tools: KNOWLEDGE_TOOLS,
    commands: KB_COMMANDS,
    start: startKnowledgeBase,
  };
}
