/**
 * The operator configs in examples/*.json. The host only checks a plugin's config against its
 * manifest schema, which is annotation-only, so a typo inside `config` would boot fine and leave
 * the extension disabled. This checks each config with the extension's own resolver, and asks the
 * real gateway (`openclaw config validate`) about everything else.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import type { ConfigDefinition, FieldMap } from "../packages/kit/src/config/define-config.js";
import { type ConfigEnv, resolveConfig } from "../packages/kit/src/config/resolve-config.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const examplesDir = path.join(repoRoot, "examples");
const exampleFiles = readdirSync(examplesDir)
  .filter((file) => file.endsWith(".json"))
  .sort();

// Only what the examples leave to the environment: process.env (a machine's OTEL_* or MLFLOW_*
// variables) must not change the verdict.
const exampleEnv: ConfigEnv = {
  LANGFUSE_PUBLIC_KEY: "pk-lf-example",
  LANGFUSE_SECRET_KEY: "sk-lf-example",
  LANGFUSE_BASE_URL: "http://127.0.0.1:3000",
};

/** The checks an extension's service runs after resolving (`validate<Name>Config`). */
type ExtraValidator = (config: unknown) => void;

interface Extension {
  dir: string;
  id: string;
  definition: ConfigDefinition;
  validators: ExtraValidator[];
}

type JsonObject = Record<string, unknown>;

/** `resolveConfig` for a definition imported at run time (its inferred config type has no bound). */
const resolvePluginConfig = resolveConfig as unknown as (
  definition: ConfigDefinition,
  raw: unknown,
  env: ConfigEnv,
) => { config: JsonObject; warnings: string[] };

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every extensions/<name> with a manifest, by plugin id, with its config definition. */
async function loadExtensions(): Promise<Map<string, Extension>> {
  const extensions = new Map<string, Extension>();
  const extensionsDir = path.join(repoRoot, "extensions");
  for (const name of readdirSync(extensionsDir).sort()) {
    const dir = path.join(extensionsDir, name);
    const manifestFile = path.join(dir, "openclaw.plugin.json");
    if (!existsSync(manifestFile)) continue;
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { id: string };
    const module = (await import(pathToFileURL(path.join(dir, "src", "config.ts")).href)) as Record<
      string,
      unknown
    >;
    const validators = Object.entries(module)
      .filter(
        ([exportName, value]) => /^validate[A-Z]\w*Config$/.test(exportName) && typeof value === "function",
      )
      .map(([, value]) => value as ExtraValidator);
    extensions.set(manifest.id, {
      dir,
      id: manifest.id,
      definition: module.configDefinition as ConfigDefinition,
      validators,
    });
  }
  return extensions;
}

/** Every problem the extension would report at start for `config`: none means it starts. */
function checkPluginConfig(extension: Extension, config: unknown, env: ConfigEnv): string[] {
  try {
    const resolved = resolvePluginConfig(extension.definition, config, env);
    for (const validate of extension.validators) validate(resolved.config);
    return resolved.warnings;
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

function readExample(file: string): JsonObject {
  return JSON.parse(readFileSync(path.join(examplesDir, file), "utf8")) as JsonObject;
}

/** `plugins.entries` of an example, clawscope ones only. */
function clawscopeEntries(example: JsonObject): [string, JsonObject][] {
  const plugins = isPlainObject(example.plugins) ? example.plugins : {};
  const entries = isPlainObject(plugins.entries) ? plugins.entries : {};
  return Object.entries(entries)
    .filter(([id]) => id.startsWith("clawscope-"))
    .map(([id, entry]) => [id, isPlainObject(entry) ? entry : {}]);
}

function loadPaths(example: JsonObject): unknown[] {
  const plugins = isPlainObject(example.plugins) ? example.plugins : {};
  const load = isPlainObject(plugins.load) ? plugins.load : {};
  return Array.isArray(load.paths) ? load.paths : [];
}

/** Every env var a definition reads, nested object fields included. */
function envNames(fields: FieldMap): string[] {
  return Object.values(fields).flatMap((spec) => [
    ...(spec.env ?? []),
    ...(spec.kind === "object" ? envNames(spec.fields) : []),
  ]);
}

/** A Node >= 24 for the openclaw CLI, whatever Node runs vitest. */
function resolveNodeBinary(): string {
  if (Number(process.versions.node.split(".")[0]) >= 24) return process.execPath;
  return path.join(repoRoot, "node_modules", "node", "bin", "node");
}

interface HostVerdict {
  valid: boolean;
  warnings?: { path: string; message: string }[];
  issues?: { path: string; message: string }[];
}

/**
 * `openclaw config validate --json` on a copy of the example, in an isolated HOME and state dir,
 * run from the repo root as examples/README.md says (relative load paths resolve against it).
 */
async function validateWithHost(file: string): Promise<HostVerdict> {
  const workDir = mkdtempSync(path.join(tmpdir(), "clawscope-examples-"));
  try {
    const configPath = path.join(workDir, "openclaw.json");
    writeFileSync(configPath, readFileSync(path.join(examplesDir, file)));
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith("OPENCLAW_") && key !== "NODE_OPTIONS" && !key.startsWith("VITEST"))
        env[key] = value;
    }
    Object.assign(env, {
      HOME: path.join(workDir, "home"),
      OPENCLAW_STATE_DIR: path.join(workDir, "state"),
      OPENCLAW_CONFIG_PATH: configPath,
      TMPDIR: workDir,
      NO_COLOR: "1",
    });
    const entry = path.join(repoRoot, "node_modules", "openclaw", "openclaw.mjs");
    // an invalid config exits 1 with the verdict still on stdout
    const stdout = await promisify(execFile)(resolveNodeBinary(), [entry, "config", "validate", "--json"], {
      cwd: repoRoot,
      env,
      maxBuffer: 4 * 1024 * 1024,
    }).then(
      (result) => result.stdout,
      (error: { stdout?: string }) => error.stdout ?? "",
    );
    const json = stdout.slice(stdout.indexOf("{"));
    return JSON.parse(json) as HostVerdict;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

let extensions = new Map<string, Extension>();
beforeAll(async () => {
  extensions = await loadExtensions();
});

it("finds the example files", () => {
  expect(exampleFiles).toEqual([
    "all.json",
    "knowledge-base.json",
    "langfuse.json",
    "memory-consolidation.json",
    "mlflow.json",
    "otel.json",
  ]);
});

describe.each(exampleFiles)("examples/%s", (file) => {
  it("is JSON with at least one clawscope plugin, enabled, with conversation access", () => {
    const entries = clawscopeEntries(readExample(file));
    expect(entries.length).toBeGreaterThan(0);
    for (const [id, entry] of entries) {
      expect(extensions.has(id), `${id} is not the id of any extensions/*/openclaw.plugin.json`).toBe(true);
      expect(entry.enabled, id).toBe(true);
      // without it agent_end and llm_* are blocked and no turn is ever complete
      expect(entry.hooks, id).toEqual({ allowConversationAccess: true });
      expect(isPlainObject(entry.config), `${id}.config`).toBe(true);
    }
  });

  it("has configs every extension accepts at start, privacy defaults kept", () => {
    for (const [id, entry] of clawscopeEntries(readExample(file))) {
      const extension = extensions.get(id);
      if (!extension) throw new Error(`${id}: no such extension`);
      expect(checkPluginConfig(extension, entry.config, exampleEnv), id).toEqual([]);
      const { config } = resolvePluginConfig(extension.definition, entry.config, exampleEnv);
      expect(config, id).toMatchObject({ captureContent: false, rawIds: false });
    }
  });

  it("loads exactly its plugins' folders, relative to the repo root", () => {
    const example = readExample(file);
    const paths = loadPaths(example);
    for (const loadPath of paths) {
      expect(typeof loadPath === "string" && !path.isAbsolute(loadPath), String(loadPath)).toBe(true);
    }
    const loaded = paths.map((loadPath) => path.resolve(repoRoot, String(loadPath))).sort();
    const wanted = clawscopeEntries(example)
      .map(([id]) => extensions.get(id)?.dir)
      .sort();
    expect(loaded).toEqual(wanted);
  });

  it("is accepted by the real gateway without warnings", { timeout: 60_000 }, async () => {
    const verdict = await validateWithHost(file);
    expect(verdict.issues ?? []).toEqual([]);
    expect(verdict.warnings ?? []).toEqual([]);
    expect(verdict.valid).toBe(true);
  });
});

describe("the config check itself", () => {
  const pluginConfigs = exampleFiles.flatMap((file) =>
    clawscopeEntries(readExample(file)).map(([id, entry]) => ({
      name: `${file} ${id}`,
      id,
      config: entry.config as JsonObject,
    })),
  );

  it.each(pluginConfigs)("rejects a typo'd or mistyped field in $name", ({ id, config }) => {
    const extension = extensions.get(id);
    if (!extension) throw new Error(`${id}: no such extension`);
    for (const [key, value] of Object.entries(config)) {
      const typo = { ...config, [`${key}s`]: value };
      delete typo[key];
      expect(checkPluginConfig(extension, typo, exampleEnv), `${key}s`).toHaveLength(1);
      const wrongType = { ...config, [key]: typeof value === "string" ? 42 : "wrong" };
      expect(checkPluginConfig(extension, wrongType, exampleEnv), `${key} mistyped`).toHaveLength(1);
      // records (headers, attributes, pricing) take any key; object fields take only theirs
      if (isPlainObject(value) && extension.definition.fields[key]?.kind === "object") {
        for (const nestedKey of Object.keys(value)) {
          const nested = { ...config, [key]: { ...value, [`${nestedKey}s`]: value[nestedKey] } };
          expect(checkPluginConfig(extension, nested, exampleEnv), `${key}.${nestedKey}s`).toHaveLength(1);
        }
      }
    }
  });
});

describe("langfuse keys", () => {
  const langfuseExamples = exampleFiles.filter((file) =>
    clawscopeEntries(readExample(file)).some(([id]) => id === "clawscope-langfuse"),
  );

  it.each(langfuseExamples)("%s takes them from LANGFUSE_* and fails without them", (file) => {
    const entry = clawscopeEntries(readExample(file)).find(([id]) => id === "clawscope-langfuse")?.[1];
    const extension = extensions.get("clawscope-langfuse");
    if (!entry || !extension) throw new Error("clawscope-langfuse missing");
    expect(Object.keys(entry.config as JsonObject)).not.toContain("publicKey");
    expect(Object.keys(entry.config as JsonObject)).not.toContain("secretKey");
    expect(Object.keys(entry.config as JsonObject)).not.toContain("baseUrl");
    const { config } = resolvePluginConfig(extension.definition, entry.config, exampleEnv);
    expect(config).toMatchObject({ publicKey: "pk-lf-example", baseUrl: "http://127.0.0.1:3000" });
    expect(checkPluginConfig(extension, entry.config, {})).toEqual([
      'config field "publicKey" is required: set it in the plugin config or env LANGFUSE_PUBLIC_KEY',
    ]);
  });
});

describe("examples/all.json", () => {
  it("enables every extension with content capture off and hashing on its defaults", () => {
    const entries = clawscopeEntries(readExample("all.json"));
    expect(entries.map(([id]) => id).sort()).toEqual([...extensions.keys()].sort());
    for (const [id, entry] of entries) {
      expect(entry.config, id).toMatchObject({ captureContent: false, rawIds: false });
      expect(Object.keys(entry.config as JsonObject), id).not.toContain("hashKey");
    }
  });
});

describe("examples/README.md", () => {
  it("names every example and every env var the examples' extensions read", () => {
    const readme = readFileSync(path.join(examplesDir, "README.md"), "utf8");
    for (const file of exampleFiles) expect(readme, file).toContain(`\`${file}\``);
    const used = new Set(
      exampleFiles.flatMap((file) => clawscopeEntries(readExample(file)).map(([id]) => id)),
    );
    for (const id of used) {
      const extension = extensions.get(id);
      if (!extension) throw new Error(`${id}: no such extension`);
      for (const name of envNames(extension.definition.fields))
        expect(readme, `${id}: ${name}`).toContain(name);
    }
  });
});
