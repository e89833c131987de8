import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readGatewayVersion } from "./gateway-version.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "clawscope-gateway-version-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("readGatewayVersion", () => {
  it("walks up from the gateway's entry script to the openclaw package.json", async () => {
    await mkdir(path.join(root, "openclaw", "dist"), { recursive: true });
    await writeFile(
      path.join(root, "package.json"),
      JSON.stringify({ name: "not-openclaw", version: "9.9.9" }),
    );
    await writeFile(
      path.join(root, "openclaw", "package.json"),
      JSON.stringify({ name: "openclaw", version: "2026.9.6" }),
    );
    const script = path.join(root, "openclaw", "dist", "entry.js");
    await writeFile(script, "");
    expect(readGatewayVersion({}, script)).toEqual({ version: "2026.9.6", source: "package.json" });
  });

  it("falls back to the version that last wrote the host config, else nothing", async () => {
    const script = path.join(root, "entry.js");
    await writeFile(script, "");
    const hostConfig = { meta: { lastTouchedVersion: "2026.9.1" } };
    expect(readGatewayVersion(hostConfig, script)).toEqual({ version: "2026.9.1", source: "config.meta" });
    expect(readGatewayVersion({ meta: { lastTouchedVersion: 5 } }, script)).toBeUndefined();
    expect(readGatewayVersion(null, undefined)).toBeUndefined();
    expect(readGatewayVersion(undefined, path.join(root, "missing.js"))).toBeUndefined();
  });
});
