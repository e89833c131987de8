/**
 * Redaction of secrets and personal data in free text and in structured values.
 *
 * Every pattern is linear-time: quantifiers are bounded, and each pattern starts with a
 * negative lookbehind on its own character class, so inside a long run of candidate characters
 * only the first position is tried. A 1 MB adversarial string therefore costs a few passes, not
 * a quadratic scan.
 */

/** The kinds of data replaced, as they appear in markers: `[REDACTED:<kind>]`. */
export type RedactionKind =
  | "private_key"
  | "jwt"
  | "authorization"
  | "bearer"
  | "credentials"
  | "anthropic_key"
  | "openai_key"
  | "langfuse_key"
  | "aws_key"
  | "github_token"
  | "slack_token"
  | "google_key"
  | "stripe_key"
  | "secret"
  | "email"
  | "iban"
  | "ssn"
  | "card"
  | "phone"
  | "ip";

/** Options of {@link redactText} and {@link redactValue}. */
export interface RedactOptions {
  /** Also replace IPv4 addresses (default false: they are rarely personal in gateway telemetry). */
  ipAddresses?: boolean;
  /** Also replace emails, IBANs, US social security numbers, phone numbers and card numbers (default true). */
  personalData?: boolean;
}

/** The marker that replaces redacted data. */
export function redactionMarker(kind: RedactionKind): string {
  return `[REDACTED:${kind}]`;
}

interface Rule {
  kind: RedactionKind;
  pattern: RegExp;
  /** Which rules run: secrets always, personal data and IPs by option. */
  group: "secret" | "personal" | "ip";
  /** Builds the replacement from the match; returning the match keeps it (failed validation). */
  replace?: (match: string, ...groups: string[]) => string;
}

const TOKEN_CHARS = "A-Za-z0-9_\\-";
const notAfterToken = `(?<![${TOKEN_CHARS}])`;

// key names whose values are secrets in `key=value`, `key: value` and JSON text
const SECRET_KEY_WORDS =
  "password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|token|access[_-]?token|refresh[_-]?token|auth[_-]?token|session[_-]?token|id[_-]?token|credentials?|cookie|set-cookie|x-api-key";

const RULES: Rule[] = [
  {
    kind: "private_key",
    group: "secret",
    // an unterminated block is redacted to the bound: better too much than half a key
    pattern:
      /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,16384}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[\s\S]{0,16384})/g,
  },
  {
    kind: "jwt",
    group: "secret",
    pattern: new RegExp(
      `${notAfterToken}eyJ[${TOKEN_CHARS}]{5,4096}\\.eyJ[${TOKEN_CHARS}]{5,8192}\\.[${TOKEN_CHARS}]{0,4096}`,
      "g",
    ),
  },
  {
    kind: "authorization",
    group: "secret",
    // the whole header value, whatever the scheme; keeps the header name for readability
    pattern:
      /(?<![A-Za-z0-9_-])((?:proxy-)?authorization)(["']?[ \t]{0,8}[:=][ \t]{0,8}["']?)([^\r\n"']{1,4096})/gi,
    replace: (_match, name = "", separator = "") => `${name}${separator}${redactionMarker("authorization")}`,
  },
  {
    kind: "bearer",
    group: "secret",
    // a digit within the first 200 characters tells a token from prose ("Bearer authentication")
    pattern: /(?<![A-Za-z0-9_-])(bearer[ \t]{1,8})(?=[A-Za-z._~+/=-]{0,200}\d)([A-Za-z0-9._~+/=-]{8,4096})/gi,
    replace: (_match, prefix = "") => `${prefix}${redactionMarker("bearer")}`,
  },
  {
    kind: "credentials",
    group: "secret",
    // user:password@ in URLs
    pattern: /(?<=:\/\/)[^\s/@:]{1,256}:[^\s/@]{1,256}@/g,
    replace: () => `${redactionMarker("credentials")}@`,
  },
  {
    kind: "anthropic_key",
    group: "secret",
    pattern: new RegExp(`${notAfterToken}sk-ant-[${TOKEN_CHARS}]{16,256}`, "g"),
  },
  {
    kind: "langfuse_key",
    group: "secret",
    pattern: new RegExp(`${notAfterToken}[ps]k-lf-[${TOKEN_CHARS}]{8,128}`, "g"),
  },
  {
    kind: "openai_key",
    group: "secret",
    // sk-..., sk-proj-..., sk-svcacct-..., sk-admin-...
    pattern: new RegExp(`${notAfterToken}sk-[${TOKEN_CHARS}]{20,256}`, "g"),
  },
  {
    kind: "aws_key",
    group: "secret",
    pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}(?![A-Z0-9])/g,
  },
  {
    kind: "github_token",
    group: "secret",
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{20,255})/g,
  },
  { kind: "slack_token", group: "secret", pattern: /(?<![A-Za-z0-9_-])xox[abposr]-[A-Za-z0-9-]{10,250}/g },
  { kind: "google_key", group: "secret", pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}/g },
  {
    kind: "stripe_key",
    group: "secret",
    pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,250}/g,
  },
  {
    kind: "secret",
    group: "secret",
    // password=..., "api_key": "...", secret: ... (quoted values may contain spaces)
    pattern: new RegExp(
      `(?<![A-Za-z0-9_])((?:[A-Za-z0-9]{1,30}[_-]){0,4}(?:${SECRET_KEY_WORDS}))(["']?[ \\t]{0,8}[:=][ \\t]{0,8})("[^"\\r\\n]{1,4096}"?|'[^'\\r\\n]{1,4096}'?|[^\\s"',;&}]{1,4096})`,
      "gi",
    ),
    replace: (match, key = "", separator = "", value = "") => {
      if (value.includes("[REDACTED:")) return match;
      // keep the quotes so JSON stays JSON (an unterminated quote stays unterminated)
      const open = value.startsWith('"') || value.startsWith("'") ? value.charAt(0) : "";
      const close = open && value.length > 1 && value.endsWith(open) ? open : "";
      return `${key}${separator}${open}${redactionMarker("secret")}${close}`;
    },
  },
  {
    kind: "email",
    group: "personal",
    pattern:
      /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
  },
  {
    kind: "iban",
    group: "personal",
    // country, check digits, then 11–30 letters/digits, grouped by 4 or not; mod-97 decides
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g,
    replace: (match) => (isValidIban(match) ? redactionMarker("iban") : match),
  },
  {
    kind: "ssn",
    group: "personal",
    // US SSN with dashes; area 000, 666 and 9xx, group 00 and serial 0000 are never issued
    pattern: /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g,
  },
  {
    kind: "card",
    group: "personal",
    pattern: /(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d]|[.-]\d)/g,
    replace: (match) => (isLikelyCardNumber(match) ? redactionMarker("card") : match),
  },
  {
    kind: "phone",
    group: "personal",
    // international: + then digit groups, each after exactly one separator or a (area code), so
    // a digit run has one way to split; the digit count is checked in toPhoneReplacement
    pattern: /(?<![\w+])\+\d{1,15}(?:[ .-]\d{1,6}|[ .-]?\(\d{1,5}\)[ .-]?\d{1,6}){0,7}(?!\d)/g,
    replace: (match) => toPhoneReplacement(match),
  },
  {
    kind: "phone",
    group: "personal",
    // US style with separators: (415) 555-2671, 415-555-2671, 1 415.555.2671; never bare digit runs
    pattern: /(?<![\w+.-])(?:1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/g,
  },
  {
    kind: "ip",
    group: "ip",
    pattern:
      /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d]|\.\d)/g,
  },
];

/**
 * Replaces secrets and personal data in `text` with `[REDACTED:<kind>]` markers. Linear in the
 * length of `text`; never throws (non-strings give ""). Callers bound the size (see
 * `toCapturedContent`).
 */
export function redactText(text: string, options: RedactOptions = {}): string {
  if (typeof text !== "string") return "";
  const personal = options.personalData !== false;
  let result = text;
  try {
    for (const rule of RULES) {
      if (rule.group === "personal" && !personal) continue;
      if (rule.group === "ip" && options.ipAddresses !== true) continue;
      rule.pattern.lastIndex = 0;
      const replace = rule.replace;
      result = replace
        ? result.replace(rule.pattern, (match: string, ...groups: unknown[]) =>
            replace(match, ...groups.filter((group): group is string => typeof group === "string")),
          )
        : result.replace(rule.pattern, redactionMarker(rule.kind));
    }
    return result;
  } catch {
    // a regex engine failure (stack, memory) must not leak the unredacted text
    return redactionMarker("secret");
  }
}

/** IBAN: 15–34 characters whose rearranged digits are 1 modulo 97 (ISO 13616). */
function isValidIban(candidate: string): boolean {
  const compact = candidate.replace(/ /g, "");
  if (compact.length < 15 || compact.length > 34) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const code = character.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : character;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

/** Card numbers: 13–19 digits, a known issuer prefix (so timestamps and ids pass), and Luhn. */
function isLikelyCardNumber(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, "");
  if (digits.length < 13 || digits.length > 19) return false;
  if (!/^(?:4|5[1-5]|2[2-7]|3[47]|3[068]|35|6)/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * E.164 allows 8–15 digits. A candidate that runs on into a following number ("+1 415 555 2671
 * 2024") loses trailing groups until it fits, and those groups are kept.
 */
function toPhoneReplacement(candidate: string): string {
  let phone = candidate;
  let tail = "";
  while (countDigits(phone) > 15) {
    const cut = Math.max(phone.lastIndexOf(" "), phone.lastIndexOf("."), phone.lastIndexOf("-"));
    if (cut <= 0) return candidate;
    tail = phone.slice(cut) + tail;
    phone = phone.slice(0, cut);
  }
  return countDigits(phone) >= 8 ? redactionMarker("phone") + tail : candidate;
}

function countDigits(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) count += 1;
  }
  return count;
}

/** Whether a property name holds a secret whatever its value looks like. */
export function isSensitiveKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (SENSITIVE_KEYS.has(normalized)) return true;
  return SENSITIVE_KEY_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

const SENSITIVE_KEYS = new Set([
  "authorization",
  "proxyauthorization",
  "cookie",
  "setcookie",
  "credentials",
  "credential",
  "passphrase",
  "pwd",
  "xapikey",
]);
const SENSITIVE_KEY_SUFFIXES = [
  "password",
  "passwd",
  "secret",
  "token",
  "apikey",
  "privatekey",
  "accesskey",
  "secretkey",
];
