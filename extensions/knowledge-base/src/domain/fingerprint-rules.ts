/**
 * Operator fingerprint rules, from config: each matches on kind, category, provider, model, tool
 * or a pattern of the normalized message, and either assigns a fingerprint of its own (every
 * failure it matches becomes one entry) or refines the default one (splits it further). The first
 * rule that matches wins.
 */
import type { FailureSignal } from "./fingerprint.js";

/** One rule as the config gives it. */
export interface FingerprintRuleConfig {
  /** A name for the rule, shown on the entries it grouped (default `rule-<n>`). */
  id?: string;
  match: {
    kind?: string;
    category?: string;
    provider?: string;
    model?: string;
    tool?: string;
    /** A regular expression (case-insensitive) tested against the normalized message. */
    message?: string;
  };
  /** Every failure the rule matches is grouped under this fingerprint. */
  assign?: string;
  /** The default fingerprint with this value added: one entry becomes several. */
  refine?: string;
}

/** A rule ready to match. */
export interface FingerprintRule {
  id: string;
  match: Omit<FingerprintRuleConfig["match"], "message">;
  message?: RegExp;
  assign?: string;
  refine?: string;
}

const MATCH_KEYS = ["kind", "category", "provider", "model", "tool"] as const;

/**
 * Compiles the configured rules; a rule that cannot work (no condition, neither or both of
 * `assign`/`refine`, a pattern that does not compile) is left out with one warning naming it.
 */
export function compileFingerprintRules(rules: readonly FingerprintRuleConfig[] | undefined): {
  rules: FingerprintRule[];
  warnings: string[];
} {
  const compiled: FingerprintRule[] = [];
  const warnings: string[] = [];
  (rules ?? []).forEach((rule, index) => {
    const id = typeof rule.id === "string" && rule.id !== "" ? rule.id : `rule-${index + 1}`;
    const match = rule.match ?? {};
    const conditions = MATCH_KEYS.filter((key) => typeof match[key] === "string" && match[key] !== "");
    if (conditions.length === 0 && !match.message) {
      warnings.push(`fingerprint rule ${id} has no condition in match; it is ignored`);
      return;
    }
    const hasAssign = typeof rule.assign === "string" && rule.assign !== "";
    const hasRefine = typeof rule.refine === "string" && rule.refine !== "";
    if (hasAssign === hasRefine) {
      warnings.push(`fingerprint rule ${id} needs exactly one of assign or refine; it is ignored`);
      return;
    }
    let message: RegExp | undefined;
    if (match.message) {
      try {
        message = new RegExp(match.message, "i");
      } catch (error) {
        warnings.push(
          `fingerprint rule ${id}: match.message is not a valid regular expression (${(error as Error).message}); it is ignored`,
        );
        return;
      }
    }
    const compiledMatch: FingerprintRule["match"] = {};
    for (const key of conditions) compiledMatch[key] = match[key];
    compiled.push({
      id,
      match: compiledMatch,
      ...(message ? { message } : {}),
      ...(hasAssign ? { assign: rule.assign } : { refine: rule.refine }),
    });
  });
  return { rules: compiled, warnings };
}

/** Whether every condition of the rule holds for the signal (names compare case-insensitively). */
export function matchRule(rule: FingerprintRule, signal: FailureSignal, normalizedMessage: string): boolean {
  for (const key of MATCH_KEYS) {
    const wanted = rule.match[key];
    if (wanted === undefined) continue;
    const actual = signal[key];
    if (typeof actual !== "string" || actual.toLowerCase() !== wanted.toLowerCase()) return false;
  }
  return rule.message ? rule.message.test(normalizedMessage) : true;
}
