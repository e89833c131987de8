/**
 * The running OpenClaw version, for the run's tags. The SDK exposes no version, so: walk up from the
 * gateway's entry script to the `openclaw` package.json; else the version that last wrote the host
 * config (`meta.lastTouchedVersion`); else undefined. Never throws.
 */
import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";

/** Where the version was found. */
export interface GatewayVersion {
  version: string;
  source: "package.json" | "config.meta";
}

/** Reads the gateway version; `entryScript` defaults to `process.argv[1]`. */
export function readGatewayVersion(
  hostConfig: unknown,
  entryScript = process.argv[1],
): GatewayVersion | undefined {
  const fromPackage = readFromPackage(entryScript);
  if (fromPackage) return { version: fromPackage, source: "package.json" };
  const meta = isRecord(hostConfig) && isRecord(hostConfig.meta) ? hostConfig.meta : undefined;
  const touched = meta?.lastTouchedVersion;
  if (typeof touched === "string" && touched.length > 0 && touched.length < 64)
    return { version: touched, source: "config.meta" };
  return undefined;
}

function readFromPackage(entryScript: string | undefined): string | undefined {
  if (!entryScript) return undefined;
  try {
    let directory = path.dirname(realpathSync(entryScript));
    // a few levels are enough: the bin lives in the package root or in dist/
    for (let depth = 0; depth < 6; depth += 1) {
      const version = readPackageVersion(path.join(directory, "package.json"));
      if (version) return version;
      const parent = path.dirname(directory);
      if (parent === directory) break;
      directory = parent;
    }
  } catch {}
  return undefined;
}

function readPackageVersion(file: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (isRecord(parsed) && parsed.name === "openclaw" && typeof parsed.version === "string")
      return parsed.version;
  } catch {}
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
