import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineConfig, field } from "../packages/kit/src/config/define-config.js";
import { toManifestConfigSchema, toUiHints } from "../packages/kit/src/config/json-schema.js";
import { checkShape, firstDifference } from "./check-shape.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const defineConfigUrl = pathToFileURL(path.join(repoRoot, "packages/kit/src/config/define-config.ts")).href;

const configSource = `import { defineConfig, field } from ${JSON.stringify(defineConfigUrl)};
export const configDefinition = defineConfig({
  endpoint: field.url({ description: "Backend URL.", env: ["DEMO_ENDPOINT"] }),
  flushIntervalMs: field.integer({ description: "Flush interval.", min: 100, default: 5000 }),
});
`;
const sameDefinition = defineConfig({
  endpoint: field.url({ description: "Backend URL.", env: ["DEMO_ENDPOINT"] }),
  flushIntervalMs: field.integer({ description: "Flush interval.", min: 100, default: 5000 }),
});

interface FakeExtension {
  packageJson?: Record<string, unknown>;
  manifest?: Record<string, unknown>;
  entryId?: string;
  config?: string | null;
}

function goodExtension(name: string): Required<FakeExtension> {
  return {
    packageJson: {
      name: `@clawscope/${name}`,
      version: "0.1.0",
      type: "module",
      openclaw: {
        extensions: ["./src/index.ts"],
        runtimeExtensions: ["./dist/index.js"],
        compat: { pluginApi: ">=2026.9.6" },
      },
      dependencies: { "some-lib": "1.0.0" },
      peerDependencies: { openclaw: ">=2026.9.6" },
      devDependencies: { openclaw: "2026.9.6", "@clawscope/kit": "workspace:*" },
    },
    manifest: {
      id: `clawscope-${name}`,
      name,
      description: "demo",
      activation: { onStartup: true },
      configSchema: toManifestConfigSchema(sameDefinition),
      uiHints: toUiHints(sameDefinition),
    },
    entryId: `clawscope-${name}`,
    config: configSource,
  };
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "clawscope-shape-"));
  await mkdir(path.join(root, "extensions"), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeExtension(
  name: string,
  changes: FakeExtension = {},
  base = "extensions",
): Promise<string> {
  const extension = { ...goodExtension(name), ...changes };
  const folder = path.join(root, base, name);
  await mkdir(path.join(folder, "src"), { recursive: true });
  await writeFile(path.join(folder, "package.json"), JSON.stringify(extension.packageJson, null, 2));
  await writeFile(path.join(folder, "openclaw.plugin.json"), JSON.stringify(extension.manifest, null, 2));
  await writeFile(
    path.join(folder, "src", "index.ts"),
    `export default { id: ${JSON.stringify(extension.entryId)}, name: "x", description: "x", register() {} };\n`,
  );
  if (extension.config !== null) await writeFile(path.join(folder, "src", "config.ts"), extension.config);
  return folder;
}

async function problemsOf(name: string, changes: FakeExtension): Promise<string[]> {
  await writeExtension(name, changes);
  return (await checkShape(root)).problems;
}

describe("checkShape", () => {
  it("passes on an empty or missing extensions folder", async () => {
    expect(await checkShape(root)).toEqual({ problems: [], checked: { extensions: 0, fixtures: 0 } });
    await rm(path.join(root, "extensions"), { recursive: true });
    expect((await checkShape(root)).problems).toEqual([]);
  });

  it("passes a well-formed extension", async () => {
    await writeExtension("demo");
    expect(await checkShape(root)).toEqual({ problems: [], checked: { extensions: 1, fixtures: 0 } });
  });

  it("catches a package name that does not match the folder", async () => {
    const good = goodExtension("demo");
    expect(
      await problemsOf("demo", { packageJson: { ...good.packageJson, name: "@clawscope/other" } }),
    ).toEqual(['extensions/demo: package.json name is "@clawscope/other", expected "@clawscope/demo"']);
  });

  it("catches a manifest id and an entry id that do not match", async () => {
    const good = goodExtension("demo");
    expect(
      await problemsOf("demo", { manifest: { ...good.manifest, id: "demo" }, entryId: "clawscope-demo2" }),
    ).toEqual([
      'extensions/demo: openclaw.plugin.json id is "demo", expected "clawscope-demo"',
      'extensions/demo: src/index.ts plugin entry id is "clawscope-demo2", expected "clawscope-demo"',
    ]);
  });

  it("catches packaging mistakes", async () => {
    const problems = await problemsOf("demo", {
      packageJson: {
        name: "@clawscope/demo",
        type: "commonjs",
        openclaw: { extensions: ["./src/index.ts"] },
        dependencies: { openclaw: "2026.9.6", "@clawscope/kit": "workspace:*" },
      },
    });
    expect(problems).toEqual([
      'extensions/demo: package.json must have "type": "module"',
      "extensions/demo: package.json openclaw.runtimeExtensions must be a non-empty list of entry files",
      'extensions/demo: package.json openclaw.compat.pluginApi must be set (e.g. ">=2026.9.6")',
      "extensions/demo: openclaw must not be in dependencies: the host provides it (peer + dev dependency only)",
      "extensions/demo: openclaw must be a peerDependency",
      "extensions/demo: openclaw must be a devDependency",
      'extensions/demo: dependencies.@clawscope/kit is "workspace:*": bundle workspace packages (tsup noExternal), list them in devDependencies',
    ]);
  });

  it("catches a configSchema or uiHints that drifted from src/config.ts", async () => {
    const good = goodExtension("demo");
    const schema = structuredClone(good.manifest.configSchema) as {
      properties: { flushIntervalMs: { default: number } };
    };
    schema.properties.flushIntervalMs.default = 1000;
    const hints = {
      ...(good.manifest.uiHints as Record<string, unknown>),
      extra: { label: "Extra", help: "x" },
    };
    expect(
      await problemsOf("demo", { manifest: { ...good.manifest, configSchema: schema, uiHints: hints } }),
    ).toEqual([
      'extensions/demo: configSchema.properties.flushIntervalMs.default (manifest 1000, generated 5000) differs from src/config.ts; run "pnpm check:shape --write" to regenerate',
      'extensions/demo: uiHints.extra (manifest {"label":"Extra","help":"x"}, generated undefined) differs from src/config.ts; run "pnpm check:shape --write" to regenerate',
    ]);
  });

  it("catches a missing config module, a missing export and broken JSON", async () => {
    expect(await problemsOf("a", { config: null })).toEqual([
      "extensions/a: src/config.ts is missing (it must export configDefinition)",
    ]);
    await rm(path.join(root, "extensions", "a"), { recursive: true });
    expect(await problemsOf("b", { config: "export const other = 1;\n" })).toEqual([
      "extensions/b: src/config.ts does not export configDefinition (made with defineConfig)",
    ]);
    await writeFile(path.join(root, "extensions", "b", "openclaw.plugin.json"), "{ nope");
    expect((await checkShape(root)).problems[0]).toMatch(
      /^extensions\/b: openclaw\.plugin\.json is not valid JSON: /,
    );
  });

  it("--write regenerates configSchema and uiHints, keeping the other manifest fields", async () => {
    const good = goodExtension("demo");
    const folder = await writeExtension("demo", {
      manifest: { ...good.manifest, configSchema: {}, uiHints: undefined },
    });
    expect((await checkShape(root)).problems).toHaveLength(1);
    await checkShape(root, { write: true });
    const manifest = JSON.parse(await readFile(path.join(folder, "openclaw.plugin.json"), "utf8"));
    expect(manifest).toEqual(good.manifest);
    expect((await checkShape(root)).problems).toEqual([]);
  });

  it("checks fixture plugins: manifest id equals entry id, any id prefix", async () => {
    const good = goodExtension("echo");
    await writeExtension(
      "echo",
      {
        manifest: { ...good.manifest, id: "e2e-echo" },
        entryId: "e2e-echo",
        packageJson: { name: "fixture" },
      },
      "tests/e2e/fixtures",
    );
    expect(await checkShape(root)).toEqual({ problems: [], checked: { extensions: 0, fixtures: 1 } });
    await writeExtension(
      "broken",
      { entryId: "clawscope-other", packageJson: { name: "fixture" } },
      "tests/e2e/fixtures",
    );
    expect((await checkShape(root)).problems).toEqual([
      'tests/e2e/fixtures/broken: src/index.ts plugin entry id is "clawscope-other", manifest id is "clawscope-broken"',
    ]);
  });
});

describe("firstDifference", () => {
  it("ignores key order and names the first differing path", () => {
    expect(firstDifference({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBeUndefined();
    expect(firstDifference({ b: [1, { c: 2 }] }, { b: [1, { c: 3 }] }, "x")).toBe(
      "x.b[1].c (manifest 2, generated 3)",
    );
    expect(firstDifference([1], { 0: 1 }, "x")).toBe('x (manifest [1], generated {"0":1})');
  });
});

describe("the CLI", () => {
  const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");
  const script = path.join(repoRoot, "scripts", "check-shape.ts");
  const run = (...args: string[]) =>
    promisify(execFile)(tsx, [script, ...args]).then(
      (result) => ({ code: 0, ...result }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it("exits 0 with a summary when all is well, 1 with one line per problem otherwise", async () => {
    const passed = await run("--root", root);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toBe("shape check passed for 0 extension(s), 0 fixture plugin(s)\n");
    const good = goodExtension("demo");
    await writeExtension("demo", { manifest: { ...good.manifest, id: "wrong" } });
    const failed = await run("--root", root);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(
      'shape: extensions/demo: openclaw.plugin.json id is "wrong", expected "clawscope-demo"\n' +
        "shape check failed: 1 problem(s) in 1 extension(s), 0 fixture plugin(s)\n",
    );
  });
});
