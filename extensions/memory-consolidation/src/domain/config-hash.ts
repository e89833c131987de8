/**
 * A hash of the effective config, so a snapshot shows when the config changed (and the knowledge
 * base can tie an issue that went quiet to that change). Keys are sorted, so the hash does not
 * depend on their order; secrets are left out and URL credentials masked first, so the hash cannot
 * be used to guess a password.
 */
import { createHash } from "node:crypto";
import { maskUrlCredentials, toCanonicalJson } from "@clawscope/kit";

const SECRET_KEY = /(key|secret|token|password|credential)/i;

export function toConfigHash(config: unknown): string {
  const canonical = toCanonicalJson(config, {
    omitKey: (key) => SECRET_KEY.test(key),
    mapString: (text) => (text.includes("://") ? maskUrlCredentials(text) : text),
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
