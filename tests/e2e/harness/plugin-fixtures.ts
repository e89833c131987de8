/**
 * Plugin folders for the e2e gateway: the committed fixtures, and throwaway plain-JS plugins written
 * into a temp folder by a test (for one-off host behaviour checks).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./gateway.js";
import type { GatewayPluginSpec } from "./gateway-config.js";

/** Folder of the committed fixtures (`tests/e2e/fixtures`). */
export const FIXTURES_DIR = path.join(REPO_ROOT, "tests", "e2e", "fixtures");

/** The echo-tool fixture: registers `echo_tool` (`{ input }` → `echo:<input>`). */
export const ECHO_TOOL_PLUGIN: GatewayPluginSpec = {
  dir: path.join(FIXTURES_DIR, "echo-tool-plugin"),
  id: "e2e-echo-tool",
};

/** Inputs of {@link writePluginFixture}. */
export interface PluginFixtureInput {
  /** Parent folder; the plugin goes to `<parentDir>/<id>`. */
  parentDir: string;
  id: string;
  /** Body of `register(api)` (plain JS; `api` is in scope). */
  registerBody: string;
  /** Statements placed before the entry (imports, helpers). */
  preamble?: string;
  /** Tools registered by the body (listed in `contracts.tools`, or the host drops them). */
  tools?: string[];
  /** The manifest's configSchema (default: an object with no properties). */
  configSchema?: Record<string, unknown>;
  /** Extra manifest fields (e.g. `cliCommands`). */
  manifest?: Record<string, unknown>;
}

/** Writes a minimal plain-JS plugin folder and returns its spec for `startGateway({ plugins })`. */
export function writePluginFixture(input: PluginFixtureInput): GatewayPluginSpec {
  const dir = path.join(input.parentDir, input.id);
  mkdirSync(dir, { recursive: true });
  const packageJson = {
    name: `fixture-${input.id}`,
    version: "0.0.0",
    private: true,
    type: "module",
    openclaw: { extensions: ["./index.js"], compat: { pluginApi: ">=2026.9.6" } },
  };
  const manifest = {
    id: input.id,
    name: input.id,
    description: `test fixture ${input.id}`,
    activation: { onStartup: true },
    contracts: { tools: input.tools ?? [] },
    configSchema: input.configSchema ?? { type: "object", additionalProperties: false, properties: {} },
    ...input.manifest,
  };
  const entry = [
    'import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";',
    input.preamble ?? "",
    "export default definePluginEntry({",
    `  id: ${JSON.stringify(input.id)},`,
    `  name: ${JSON.stringify(input.id)},`,
    `  description: ${JSON.stringify(`test fixture ${input.id}`)},`,
    "  register(api) {",
    input.registerBody,
    "  },",
    "});",
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(packageJson, null, 2)}\n`);
  writeFileSync(path.join(dir, "openclaw.plugin.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(dir, "index.js"), entry);
  return { dir, id: input.id };
}
