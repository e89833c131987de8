import { createPackPlugin } from "@clawscope/kit";
import { definePluginEntry, onInternalDiagnosticEvent } from "./api.js";
import { configDefinition } from "./config.js";
import { OTEL_EVENT_TYPES, startOtel } from "./service.js";

export default definePluginEntry(
  createPackPlugin(
    {
      id: "clawscope-otel",
      name: "clawscope OpenTelemetry",
      description:
        "Every OpenClaw turn as an OTLP trace (GenAI semantic conventions), the gateway's usage as metrics, outcomes and errors as logs — through private providers, spooled while the collector is down.",
      config: configDefinition,
      eventTypes: OTEL_EVENT_TYPES,
      start: startOtel,
    },
    { subscribe: onInternalDiagnosticEvent },
  ) as never,
);
