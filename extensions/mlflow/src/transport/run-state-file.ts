/**
 * `run.json` in the extension's state dir: the run of the current gateway process, so the next
 * process can close it as FAILED if this one crashes, and operators can see which run is live.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/** The run a process created, as persisted. */
export interface RunState {
  runId: string;
  experimentId: string;
  startedAt: number;
  gatewayInstance: string;
  pid: number;
}

const FILE_NAME = "run.json";

/** Reads `run.json`; undefined when absent, unreadable or malformed. */
export async function readRunState(stateDir: string): Promise<RunState | undefined> {
  if (!stateDir) return undefined;
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(stateDir, FILE_NAME), "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const record = parsed as Record<string, unknown>;
    if (typeof record.runId !== "string" || typeof record.experimentId !== "string") return undefined;
    return {
      runId: record.runId,
      experimentId: record.experimentId,
      startedAt: typeof record.startedAt === "number" ? record.startedAt : 0,
      gatewayInstance: typeof record.gatewayInstance === "string" ? record.gatewayInstance : "",
      pid: typeof record.pid === "number" ? record.pid : 0,
    };
  } catch {
    return undefined;
  }
}

/** Writes `run.json` atomically (temp file + rename). Throws on disk errors; callers log them. */
export async function writeRunState(stateDir: string, state: RunState): Promise<void> {
  if (!stateDir) return;
  const file = path.join(stateDir, FILE_NAME);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, "utf8");
  await rename(temporary, file);
}
