/**
 * Health snapshots written to `<stateDir>/plugins/<id>/health.json`, so `openclaw clawscope status`
 * can answer from another process, and still say something useful when the gateway is down.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { HealthSnapshot } from "../health/health.js";

const FILE_NAME = "health.json";

/** Writes a snapshot atomically (temp file + rename) into an extension's state folder. */
export async function writeHealthFile(pluginStateDir: string, snapshot: HealthSnapshot): Promise<void> {
  const target = path.join(pluginStateDir, FILE_NAME);
  // unique per write: two writes in flight must not share (and garble) one temp file
  const temporary = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, target);
}

/**
 * Like {@link writeHealthFile}, creating the folder first, and never failing: status files are a
 * convenience, and a full or read-only disk must not stop (or crash) the extension.
 */
export async function writeHealthFileQuietly(
  pluginStateDir: string,
  snapshot: HealthSnapshot,
): Promise<boolean> {
  try {
    await mkdir(pluginStateDir, { recursive: true });
    await writeHealthFile(pluginStateDir, snapshot);
    return true;
  } catch {
    return false;
  }
}

/** Reads every clawscope extension's last snapshot under a host state dir; unreadable files are skipped. */
export async function readHealthFiles(hostStateDir: string): Promise<HealthSnapshot[]> {
  const pluginsDir = path.join(hostStateDir, "plugins");
  let names: string[];
  try {
    names = await readdir(pluginsDir);
  } catch {
    return [];
  }
  const snapshots: HealthSnapshot[] = [];
  for (const name of names.filter((entry) => entry.startsWith("clawscope-")).sort()) {
    try {
      const parsed = JSON.parse(
        await readFile(path.join(pluginsDir, name, FILE_NAME), "utf8"),
      ) as HealthSnapshot;
      if (parsed && typeof parsed.pluginId === "string") snapshots.push(parsed);
    } catch {}
  }
  return snapshots;
}
