// The only file that imports the host: the seam to OpenClaw stays visible and small.
export { onInternalDiagnosticEvent } from "openclaw/plugin-sdk/diagnostic-runtime";
export { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
