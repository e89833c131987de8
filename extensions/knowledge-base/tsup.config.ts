import { defineExtensionBuild } from "../../scripts/tsup-extension.js";

// kit and store are bundled; the MongoDB driver stays a dependency, loaded only when store.kind is mongodb
export default defineExtensionBuild({ external: ["openclaw", /^openclaw\//, "mongodb"] });
