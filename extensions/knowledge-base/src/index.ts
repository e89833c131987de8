import { createPackPlugin } from "@clawscope/kit";
import { definePluginEntry, onInternalDiagnosticEvent } from "./api.js";
import { createKnowledgeBasePluginSpec } from "./plugin-spec.js";

export default definePluginEntry(
  createPackPlugin(createKnowledgeBasePluginSpec(), { subscribe: onInternalDiagnosticEvent }) as never,
);
