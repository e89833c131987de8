import { defineExtensionBuild } from "../../scripts/tsup-extension.js";

// the Langfuse SDK and the OpenTelemetry SDK are bundled too: the gateway loads one file, with no
// dependency install to go wrong, and the kit's OTLP encoder keeps its own serializer versions
export default defineExtensionBuild({
  noExternal: [/^@clawscope\//, /^@opentelemetry\//, /^@langfuse\//],
});
