/**
 * A hash of the effective config, so a snapshot shows when the config changed (and the knowledge
 * base can tie an issue that went quiet to that change). Keys are sorted, so the hash does not
 * depend on their order; secrets are left out and URL credentials masked first, so the hash cannot
 * be used to guess a password.
 */
import { createHash } from "node:crypto";
import { maskUrlCredentials } from "@clawscope/kit";

const SECRET_KEY = /(key|secret|token|password|credential)/i;

export function toConfigHash(config: unknown): string {
  return createHash("sha256").update(canonical(config)).digest("hex").slice(0, 16);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .filter((key) => !SECRET_KEY.test(key))
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  if (typeof value === "string" && value.includes("://")) return JSON.stringify(maskUrlCredentials(value));
  return JSON.stringify(value) ?? "null";
}
