import { defineExtensionBuild } from "../../scripts/tsup-extension.js";

// kit (with its OTLP encoder for traces) and mlflow-client are bundled, and so is the OpenTelemetry
// serializer the kit's `otlp` subpath imports: the plugin still has no runtime dependencies
export default defineExtensionBuild({ noExternal: [/^@clawscope\//, /^@opentelemetry\//] });
