/**
 * Checks that every extension has the shape the host and the pack expect:
 * `extensions/X` ↔ package `@clawscope/X` ↔ manifest id `clawscope-X` ↔ the entry's id; packaging
 * fields (`openclaw.extensions`, `runtimeExtensions`, `compat`; `openclaw` as peer + dev dependency
 * only; no `workspace:` in `dependencies`); and the manifest's `configSchema` (and `uiHints`, when
 * present) equal to what `src/config.ts`'s `configDefinition` generates. Test fixture plugins under
 * `tests/e2e/fixtures/*` with a manifest are checked for manifest id ↔ entry id and schema.
 *
 * Usage: `tsx scripts/check-shape.ts [--root <dir>] [--write]` (`--write` regenerates
 * `configSchema` and `uiHints` in the manifests). Exit code 1 on any problem.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ConfigDefinition } from "../packages/kit/src/config/define-config.js";
import { toManifestConfigSchema, toUiHints } from "../packages/kit/src/config/json-schema.js";

/** Options of {@link checkShape}. */
export interface ShapeCheckOptions {
  /** Rewrite `configSchema` and `uiHints` in manifests from `src/config.ts` instead of reporting. */
  write?: boolean;
}

/** What {@link checkShape} found. */
export interface ShapeCheckResult {
  problems: string[];
  checked: { extensions: number; fixtures: number };
}

type Json = Record<string, unknown>;

/** Checks every extension and fixture plugin under `root`; one line per problem. */
export async function checkShape(root: string, options: ShapeCheckOptions = {}): Promise<ShapeCheckResult> {
  const problems: string[] = [];
  const extensions = await listFolders(path.join(root, "extensions"));
  for (const name of extensions) {
    const report = (message: string) => problems.push(`extensions/${name}: ${message}`);
    await checkExtension(path.join(root, "extensions", name), name, report, options);
  }
  let fixtures = 0;
  for (const name of await listFolders(path.join(root, "tests", "e2e", "fixtures"))) {
    const folder = path.join(root, "tests", "e2e", "fixtures", name);
    if (!existsSync(path.join(folder, "openclaw.plugin.json"))) continue;
    fixtures += 1;
    await checkFixture(folder, (message) => problems.push(`tests/e2e/fixtures/${name}: ${message}`), options);
  }
  return { problems, checked: { extensions: extensions.length, fixtures } };
}

async function checkExtension(
  folder: string,
  name: string,
  report: (message: string) => void,
  options: ShapeCheckOptions,
): Promise<void> {
  const expectedId = `clawscope-${name}`;
  const packageJson = await readJson(path.join(folder, "package.json"), report);
  if (packageJson) checkPackage(packageJson, `@clawscope/${name}`, report);
  const manifest = await readJson(path.join(folder, "openclaw.plugin.json"), report);
  if (manifest && manifest.id !== expectedId) {
    report(`openclaw.plugin.json id is ${show(manifest.id)}, expected "${expectedId}"`);
  }
  const entryId = await readEntryId(path.join(folder, "src", "index.ts"), "src/index.ts", report);
  if (entryId !== undefined && entryId !== expectedId) {
    report(`src/index.ts plugin entry id is ${show(entryId)}, expected "${expectedId}"`);
  }
  if (manifest) await checkConfigSchema(folder, manifest, report, options, true);
}

async function checkFixture(
  folder: string,
  report: (message: string) => void,
  options: ShapeCheckOptions,
): Promise<void> {
  const manifest = await readJson(path.join(folder, "openclaw.plugin.json"), report);
  if (!manifest) return;
  if (typeof manifest.id !== "string" || manifest.id === "") report("openclaw.plugin.json has no id");
  const packageJson = existsSync(path.join(folder, "package.json"))
    ? await readJson(path.join(folder, "package.json"), report)
    : undefined;
  const declared = (packageJson?.openclaw as Json | undefined)?.extensions;
  const candidates = [
    ...(Array.isArray(declared)
      ? declared.filter((entry): entry is string => typeof entry === "string")
      : []),
    "src/index.ts",
    "index.ts",
    "index.js",
  ].map((entry) => path.join(folder, entry));
  const entryFile = candidates.find((file) => existsSync(file));
  if (!entryFile) {
    report("no entry module found (package.json openclaw.extensions, src/index.ts, index.ts or index.js)");
  } else {
    const label = path.relative(folder, entryFile);
    const entryId = await readEntryId(entryFile, label, report);
    if (entryId !== undefined && entryId !== manifest.id) {
      report(`${label} plugin entry id is ${show(entryId)}, manifest id is ${show(manifest.id)}`);
    }
  }
  await checkConfigSchema(folder, manifest, report, options, false);
}

function checkPackage(packageJson: Json, expectedName: string, report: (message: string) => void): void {
  if (packageJson.name !== expectedName) {
    report(`package.json name is ${show(packageJson.name)}, expected "${expectedName}"`);
  }
  if (packageJson.type !== "module") report('package.json must have "type": "module"');
  const openclaw = (packageJson.openclaw ?? {}) as Json;
  for (const key of ["extensions", "runtimeExtensions"]) {
    const value = openclaw[key];
    if (!Array.isArray(value) || value.length === 0 || value.some((entry) => typeof entry !== "string")) {
      report(`package.json openclaw.${key} must be a non-empty list of entry files`);
    }
  }
  if (typeof (openclaw.compat as Json | undefined)?.pluginApi !== "string") {
    report('package.json openclaw.compat.pluginApi must be set (e.g. ">=2026.9.6")');
  }
  const sections = (key: string) => (packageJson[key] ?? {}) as Record<string, unknown>;
  if ("openclaw" in sections("dependencies")) {
    report("openclaw must not be in dependencies: the host provides it (peer + dev dependency only)");
  }
  if (!("openclaw" in sections("peerDependencies"))) report("openclaw must be a peerDependency");
  if (!("openclaw" in sections("devDependencies"))) report("openclaw must be a devDependency");
  for (const key of ["dependencies", "optionalDependencies"]) {
    for (const [dependency, version] of Object.entries(sections(key))) {
      if (typeof version === "string" && version.startsWith("workspace:")) {
        report(
          `${key}.${dependency} is "${version}": bundle workspace packages (tsup noExternal), list them in devDependencies`,
        );
      }
    }
  }
}

async function checkConfigSchema(
  folder: string,
  manifest: Json,
  report: (message: string) => void,
  options: ShapeCheckOptions,
  configRequired: boolean,
): Promise<void> {
  const schema = manifest.configSchema;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    report("openclaw.plugin.json needs a configSchema object");
  }
  const configFile = path.join(folder, "src", "config.ts");
  if (!existsSync(configFile)) {
    if (configRequired) report("src/config.ts is missing (it must export configDefinition)");
    return;
  }
  let definition: ConfigDefinition;
  try {
    const module = (await import(pathToFileURL(configFile).href)) as { configDefinition?: ConfigDefinition };
    if (module.configDefinition?.kind !== "config") {
      report("src/config.ts does not export configDefinition (made with defineConfig)");
      return;
    }
    definition = module.configDefinition;
  } catch (error) {
    report(`src/config.ts could not be imported: ${oneLine(error)}`);
    return;
  }
  const generated = { configSchema: toManifestConfigSchema(definition), uiHints: toUiHints(definition) };
  if (options.write) {
    const manifestFile = path.join(folder, "openclaw.plugin.json");
    const next = { ...manifest, configSchema: generated.configSchema, uiHints: generated.uiHints };
    if (firstDifference(manifest, next) !== undefined)
      await writeFile(manifestFile, `${JSON.stringify(next, null, 2)}\n`);
    return;
  }
  for (const key of ["configSchema", "uiHints"] as const) {
    if (key === "uiHints" && manifest.uiHints === undefined) continue;
    const difference = firstDifference(manifest[key], generated[key], key);
    if (difference !== undefined) {
      report(`${difference} differs from src/config.ts; run "pnpm check:shape --write" to regenerate`);
    }
  }
}

/** The path of the first difference and both values, or undefined when deep-equal (key order ignored). */
export function firstDifference(actual: unknown, expected: unknown, at = "value"): string | undefined {
  if (Object.is(actual, expected)) return undefined;
  const bothObjects =
    typeof actual === "object" && typeof expected === "object" && actual !== null && expected !== null;
  if (bothObjects && Array.isArray(actual) === Array.isArray(expected)) {
    const left = actual as Json;
    const right = expected as Json;
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
    for (const key of keys) {
      const difference = firstDifference(
        left[key],
        right[key],
        Array.isArray(actual) ? `${at}[${key}]` : `${at}.${key}`,
      );
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  return `${at} (manifest ${show(actual)}, generated ${show(expected)})`;
}

async function readEntryId(
  file: string,
  label: string,
  report: (message: string) => void,
): Promise<string | undefined> {
  if (!existsSync(file)) {
    report(`${label} is missing`);
    return undefined;
  }
  try {
    const module = (await import(pathToFileURL(file).href)) as { default?: { id?: unknown } };
    const id = module.default?.id;
    if (typeof id !== "string") {
      report(`${label} has no default export with an id (use definePluginEntry)`);
      return undefined;
    }
    return id;
  } catch (error) {
    report(`${label} could not be imported: ${oneLine(error)}`);
    return undefined;
  }
}

async function readJson(file: string, report: (message: string) => void): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    report(`${path.basename(file)} is missing`);
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Json;
    report(`${path.basename(file)} is not a JSON object`);
  } catch (error) {
    report(`${path.basename(file)} is not valid JSON: ${oneLine(error)}`);
  }
  return undefined;
}

async function listFolders(folder: string): Promise<string[]> {
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").slice(0, 300);
}

async function main(argv: string[]): Promise<number> {
  const rootIndex = argv.indexOf("--root");
  const scriptRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const root =
    rootIndex >= 0 && argv[rootIndex + 1] ? path.resolve(argv[rootIndex + 1] as string) : scriptRoot;
  const write = argv.includes("--write");
  const result = await checkShape(root, { write });
  for (const problem of result.problems) process.stderr.write(`shape: ${problem}\n`);
  const summary = `${result.checked.extensions} extension(s), ${result.checked.fixtures} fixture plugin(s)`;
  if (result.problems.length > 0) {
    process.stderr.write(`shape check failed: ${result.problems.length} problem(s) in ${summary}\n`);
    return 1;
  }
  process.stdout.write(`shape check ${write ? "wrote manifests for" : "passed for"} ${summary}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`shape check crashed: ${oneLine(error)}\n`);
      process.exitCode = 1;
    },
  );
}
