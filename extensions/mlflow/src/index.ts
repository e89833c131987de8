import { createPackPlugin } from "@clawscope/kit";
import { definePluginEntry, onInternalDiagnosticEvent } from "./api.js";
import { createMlflowPluginSpec } from "./plugin-spec.js";

export default definePluginEntry(
  createPackPlugin(createMlflowPluginSpec(), { subscribe: onInternalDiagnosticEvent }) as never,
);
