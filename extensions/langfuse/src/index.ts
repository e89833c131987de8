import { createPackPlugin } from "@clawscope/kit";
import { definePluginEntry, onInternalDiagnosticEvent } from "./api.js";
import { createLangfusePluginSpec } from "./plugin-spec.js";

export default definePluginEntry(
  createPackPlugin(createLangfusePluginSpec(), { subscribe: onInternalDiagnosticEvent }) as never,
);
