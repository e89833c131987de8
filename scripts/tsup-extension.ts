/**
 * The one build every plugin shares: a single ESM file in dist/ that the gateway loads, with the
 * private @clawscope/* packages bundled in and the host (`openclaw`) left external, since the host
 * installs plugins without dev or peer dependencies and aliases `openclaw/plugin-sdk/*` to its own copy.
 */
import { defineConfig, type Options } from "tsup";

/** tsup options for a clawscope plugin package; `overrides` for the rare extension that needs more. */
export function defineExtensionBuild(overrides: Options = {}) {
  return defineConfig({
    entry: { index: "src/index.ts" },
    format: ["esm"],
    platform: "node",
    target: "node24",
    outDir: "dist",
    clean: true,
    bundle: true,
    splitting: false,
    sourcemap: true,
    dts: false,
    noExternal: [/^@clawscope\//],
    external: ["openclaw", /^openclaw\//],
    // keep `node:` on builtins: `node:sqlite` (the store's default) has no name without it
    removeNodeProtocol: false,
    ...overrides,
  });
}
