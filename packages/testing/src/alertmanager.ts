/**
 * A real Alertmanager (Debian's 0.25, installed by `scripts/alertmanager/setup.sh` when missing) for
 * tests: one webhook receiver, sending resolved alerts too, grouped by alert name with one-second
 * waits, with an optional bearer token in `http_config.authorization`. `amtool` posts alerts to it.
 * Stopped by its own PID.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findFreePort } from "./free-port.js";
import { runSetupScriptOnce } from "./setup-script.js";
import { stopChild } from "./stop-child.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const SETUP_SCRIPT = path.join(REPO_ROOT, "scripts", "alertmanager", "setup.sh");

export interface AlertmanagerServer {
  url: string;
  /** `amtool alert add` with these labels and annotations; `endsAt` in the past resolves the alert. */
  addAlert(input: {
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    startsAt?: Date;
    endsAt?: Date;
  }): Promise<void>;
  /** Alertmanager's own log (notification failures show there). */
  log(): string;
  stop(): Promise<void>;
}

/** The binaries' folder after setup: `prometheus-alertmanager` and `amtool` from Debian. */
export async function ensureAlertmanagerInstalled(): Promise<string> {
  return await runSetupScriptOnce(SETUP_SCRIPT, { cwd: REPO_ROOT, timeoutMs: 300_000 });
}

export async function startAlertmanager(options: {
  webhookUrl: string;
  bearerToken?: string;
}): Promise<AlertmanagerServer> {
  const bin = await ensureAlertmanagerInstalled();
  const dir = mkdtempSync(path.join(tmpdir(), "clawscope-alertmanager-"));
  const port = await findFreePort();
  const config = [
    "route:",
    "  receiver: webhook",
    "  group_by: [alertname]",
    "  group_wait: 1s",
    "  group_interval: 1s",
    "  repeat_interval: 1h",
    "receivers:",
    "  - name: webhook",
    "    webhook_configs:",
    `      - url: ${JSON.stringify(options.webhookUrl)}`,
    "        send_resolved: true",
    ...(options.bearerToken
      ? [
          "        http_config:",
          "          authorization:",
          "            type: Bearer",
          `            credentials: ${JSON.stringify(options.bearerToken)}`,
        ]
      : []),
  ].join("\n");
  const configFile = path.join(dir, "alertmanager.yml");
  writeFileSync(configFile, `${config}\n`);
  const checked = spawnSync(path.join(bin, "amtool"), ["check-config", configFile], { encoding: "utf8" });
  if (checked.status !== 0) throw new Error(`amtool check-config failed: ${checked.stdout}${checked.stderr}`);
  const logFile = path.join(dir, "alertmanager.log");
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    path.join(bin, "prometheus-alertmanager"),
    [
      `--config.file=${configFile}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // one instance: no gossip port
      "--cluster.listen-address=",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited (${child.exitCode}): see ${logFile}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {}
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`alertmanager not ready in 30 s: see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    async addAlert(input) {
      const args = [
        "alert",
        "add",
        `--alertmanager.url=${url}`,
        ...Object.entries(input.labels).map(([key, value]) => `${key}=${value}`),
        ...Object.entries(input.annotations ?? {}).map(([key, value]) => `--annotation=${key}=${value}`),
        ...(input.startsAt ? [`--start=${input.startsAt.toISOString()}`] : []),
        ...(input.endsAt ? [`--end=${input.endsAt.toISOString()}`] : []),
      ];
      const result = spawnSync(path.join(bin, "amtool"), args, { encoding: "utf8", timeout: 30_000 });
      if (result.status !== 0) throw new Error(`amtool alert add failed: ${result.stdout}${result.stderr}`);
    },
    log: () => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
    async stop() {
      await stopChild(child);
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
