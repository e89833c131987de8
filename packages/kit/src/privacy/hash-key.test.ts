import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashKeyPath, loadOrCreateHashKey } from "./hash-key.js";

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "clawscope-hash-key-"));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("loadOrCreateHashKey", () => {
  it("creates a random 64-hex key with mode 0600 under plugins/clawscope, then reuses it", async () => {
    const key = await loadOrCreateHashKey(stateDir);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const file = hashKeyPath(stateDir);
    expect(file).toBe(path.join(stateDir, "plugins", "clawscope", "hash-key"));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateHashKey(stateDir)).toBe(key);
    expect(await readdir(path.dirname(file))).toEqual(["hash-key"]);
  });

  it("gives one key to many concurrent callers in one process", async () => {
    const keys = await Promise.all(Array.from({ length: 20 }, () => loadOrCreateHashKey(stateDir)));
    expect(new Set(keys).size).toBe(1);
    expect(await readdir(path.dirname(hashKeyPath(stateDir)))).toEqual(["hash-key"]);
  });

  it("gives one key to extensions starting at once in separate processes", async () => {
    const module = path.join(path.dirname(fileURLToPath(import.meta.url)), "hash-key.ts");
    const script = `import(${JSON.stringify(module)}).then(async (m) => process.stdout.write(await m.loadOrCreateHashKey(${JSON.stringify(stateDir)})))`;
    const run = () => promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
    const results = await Promise.all([run(), run(), run(), run()]);
    const keys = new Set(results.map((result) => result.stdout));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toBe(await loadOrCreateHashKey(stateDir));
  });

  it("refuses a malformed key file instead of silently changing every hash", async () => {
    await loadOrCreateHashKey(stateDir);
    await writeFile(hashKeyPath(stateDir), "not a key\n");
    await expect(loadOrCreateHashKey(stateDir)).rejects.toThrow(
      /is malformed \(expected 64 hex characters\)/,
    );
  });
});
