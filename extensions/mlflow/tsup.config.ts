import { defineExtensionBuild } from "../../scripts/tsup-extension.js";

// kit and mlflow-client (both @clawscope/*) are bundled: the plugin has no runtime dependencies
export default defineExtensionBuild();
