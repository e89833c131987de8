import { defineExtensionBuild } from "../../scripts/tsup-extension.js";

// the OpenTelemetry SDK is bundled too: the gateway loads one file, with no dependency install to go wrong
export default defineExtensionBuild({ noExternal: [/^@clawscope\//, /^@opentelemetry\//] });
