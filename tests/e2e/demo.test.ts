/**
 * `pnpm demo`, the newcomer's first command, as it runs on a fresh clone (after the build `pnpm test`
 * does first): the real gateway with the whole pack, its turns, the gateway's figures equal to the
 * pack's, and the closing "ask the pack" command run exactly as printed, from the repository root.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, resolveNodeBinary } from "./harness/gateway.js";

/** The environment of a newcomer's shell: nothing of the test's own gateway or tooling. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("OPENCLAW_") || key.startsWith("VITEST") || key === "NODE_OPTIONS") continue;
    env[key] = value;
  }
  return env;
}

async function runDemo(): Promise<{ code: number | null; output: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(resolveNodeBinary(), ["--import", "tsx", "scripts/demo.ts"], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 8 * 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("pnpm demo", () => {
  it(
    "runs the gateway with the pack, its figures equal the gateway's, and what it prints works",
    async () => {
      const { code, output } = await runDemo();
      expect(code, output.slice(-3000)).toBe(0);
      const own = /The gateway's own figures \(sessions\.usage\): (\d+) tokens, \$([\d.]+) .* \(equal\)/.exec(
        output,
      );
      expect(own, output.slice(-3000)).not.toBeNull();
      // today's consolidation, run within the demo: its summary holds the gateway's tokens and cost
      const digest = /^ {2}\d{4}-\d\d-\d\d: (\d+) turns, \$([\d.]+), (\d+) tokens/m.exec(output);
      expect(digest, output.slice(-3000)).not.toBeNull();
      expect(Number(digest?.[1])).toBe(3);
      expect(Number(digest?.[3])).toBe(Number(own?.[1]));
      expect(Math.abs(Number(digest?.[2]) - Number(own?.[2]))).toBeLessThan(1e-4);
      const htmlFile = /as HTML: (\S+\.html)$/m.exec(output)?.[1];
      expect(htmlFile).toBeDefined();
      expect(readFileSync(path.resolve(REPO_ROOT, htmlFile as string), "utf8")).toContain("<svg");
      // the knowledge base made the failed turn an issue, with a solution and its page
      const issue = /^ {2}(\d+) issues?; (.+) \((\w+), (\d+)×\)$/m.exec(output);
      expect(issue, output.slice(-3000)).not.toBeNull();
      expect(issue?.[2]).toMatch(/^provider error/);
      expect(output).toMatch(/^ {2}what fixes it \(/m);
      const issuePage = /this issue's page: (\S+\.html)$/m.exec(output)?.[1];
      expect(readFileSync(path.resolve(REPO_ROOT, issuePage as string), "utf8")).toContain("<svg");
      const asked = /Ask the pack any time: (.+)$/m.exec(output)?.[1];
      expect(asked, "the demo prints a status command").toBeDefined();
      const status = spawnSync("sh", ["-c", asked as string], {
        cwd: REPO_ROOT,
        env: cleanEnv(),
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(status.status, `${asked}\n${status.stdout}\n${status.stderr}`).toBe(0);
      expect(status.stdout).not.toContain("does not know the command");
      for (const id of ["clawscope-otel", "clawscope-mlflow", "clawscope-langfuse"]) {
        expect(status.stdout, `${asked} names ${id}`).toMatch(new RegExp(`^${id}: stopped`, "m"));
      }
    },
    10 * 60_000,
  );
});
