/**
 * The alert rules under deploy/prometheus/rules, checked by the real promtool: every rule file
 * parses, and every `*.test.yml` beside them (promtool's own unit tests: input series, expected
 * alerts with their labels and annotations) passes.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runPromtool } from "@clawscope/testing";
import { describe, expect, it } from "vitest";

const RULES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deploy/prometheus/rules");
const files = readdirSync(RULES_DIR);
const ruleFiles = files.filter((file) => file.endsWith(".rules.yml"));
const testFiles = files.filter((file) => file.endsWith(".test.yml"));

describe("the Prometheus alert rules", () => {
  it("has rule files, each with a promtool test", () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    for (const file of ruleFiles) expect(testFiles).toContain(file.replace(/\.rules\.yml$/, ".test.yml"));
  });

  it.each(ruleFiles)(
    "%s passes promtool check rules",
    async (file) => {
      const result = await runPromtool(["check", "rules", file], RULES_DIR);
      expect(result.status, result.output).toBe(0);
    },
    300_000,
  );

  it.each(testFiles)(
    "%s passes promtool test rules",
    async (file) => {
      const result = await runPromtool(["test", "rules", file], RULES_DIR);
      expect(result.status, result.output).toBe(0);
      expect(result.output).toContain("SUCCESS");
    },
    300_000,
  );
});
