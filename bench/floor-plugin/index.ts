/**
 * The floor under every extension, bundled by `pack-cost.ts` exactly as an extension is (one ESM
 * file, the kit inside, the host external): a plugin on the kit whose service receives each
 * assembled, frozen turn and does nothing with it. What it costs over the baseline is the kit's
 * subscription, input queue and turn assembly — paid once per process however many extensions run.
 */
import { createPackPlugin, defineConfig, packConfigFields } from "@clawscope/kit";
import { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";

export default definePluginEntry(
  createPackPlugin(
    {
      // pack-cost.ts waits on this id
      id: "clawscope-bench-floor",
      name: "clawscope bench floor",
      description: "The kit's turn assembly with a service that does nothing (benchmark).",
      config: defineConfig({ ...packConfigFields }),
      eventTypes: [],
      start: () => ({ onTurn: () => undefined }),
    },
    { subscribe: onInternalDiagnosticEvent },
  ) as never,
);
