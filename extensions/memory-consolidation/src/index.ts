import { createPackPlugin } from "@clawscope/kit";
import { definePluginEntry, onInternalDiagnosticEvent } from "./api.js";
import { createMemoryPluginSpec } from "./plugin-spec.js";

export default definePluginEntry(
  createPackPlugin(createMemoryPluginSpec(), { subscribe: onInternalDiagnosticEvent }) as never,
);
