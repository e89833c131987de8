#!/usr/bin/env node
// `pnpm test`: build what the gateway loads, run every vitest project (unit, contract, e2e on the
// real gateway), and finish with one plain "N passed, N failed" line that any CI can read.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const run = (command, args) => spawnSync(command, args, { cwd: root, stdio: "inherit", env: process.env });

const build = run("pnpm", ["run", "build"]);
if (build.status !== 0) {
  console.error("tests: build failed");
  process.exit(build.status ?? 1);
}

const reportPath = path.join(root, ".cache", "vitest-report.json");
mkdirSync(path.dirname(reportPath), { recursive: true });
const extra = process.argv.slice(2);
const vitest = run("pnpm", [
  "exec",
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${reportPath}`,
  ...extra,
]);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(reportPath, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
} catch {
  failed = Math.max(failed, 1);
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(vitest.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
