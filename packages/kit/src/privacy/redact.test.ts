import { describe, expect, it } from "vitest";
import { isSensitiveKey, redactText } from "./redact.js";

const cases: [string, string, string][] = [
  ["email", "mail jane.doe+tag@mail.example.co.uk now", "mail [REDACTED:email] now"],
  ["international phone", "call +1 (415) 555-2671 today", "call [REDACTED:phone] today"],
  ["compact E.164", "sms +14155552671.", "sms [REDACTED:phone]."],
  ["UK phone", "office +44 20 7946 0958", "office [REDACTED:phone]"],
  ["French phone", "+33 6 12 34 56 78", "[REDACTED:phone]"],
  ["US phone, dashes", "cell 415-555-2671", "cell [REDACTED:phone]"],
  ["US phone, parens", "(415) 555-2671", "[REDACTED:phone]"],
  ["US phone, dots with 1", "1.415.555.2671", "[REDACTED:phone]"],
  ["phone running into a year", "+1 415 555 2671 2024 2025", "[REDACTED:phone] 2025"],
  ["Visa with spaces", "card 4111 1111 1111 1111 exp", "card [REDACTED:card] exp"],
  ["Mastercard with dashes", "5555-5555-5555-4444", "[REDACTED:card]"],
  ["Amex plain", "378282246310005", "[REDACTED:card]"],
  ["OpenAI key", "key sk-abcdefghijklmnopqrstuvwxyz123456", "key [REDACTED:openai_key]"],
  ["OpenAI project key", "sk-proj-AbC_dEf-1234567890abcdefghij", "[REDACTED:openai_key]"],
  ["Anthropic key", "sk-ant-api03-abcdefghijklmnopqrstuvwx", "[REDACTED:anthropic_key]"],
  [
    "Langfuse keys",
    "pk-lf-1234abcd-5678 sk-lf-abcd1234-ef56",
    "[REDACTED:langfuse_key] [REDACTED:langfuse_key]",
  ],
  ["AWS access key", "AKIAIOSFODNN7EXAMPLE", "[REDACTED:aws_key]"],
  ["GitHub PAT", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[REDACTED:github_token]"],
  ["GitHub fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "[REDACTED:github_token]"],
  ["GitHub OAuth", "gho_abcdefghijklmnopqrstuvwxyz0123456789", "[REDACTED:github_token]"],
  ["Slack token", "xoxb-1234567890-abcdefghij", "[REDACTED:slack_token]"],
  ["Google key", "AIzaSyA-abcdefghijklmnopqrstuvwxyz12345", "[REDACTED:google_key]"],
  [
    "Stripe live keys",
    "sk_live_abcdefghij12 rk_live_ABCDEFGHIJ34",
    "[REDACTED:stripe_key] [REDACTED:stripe_key]",
  ],
  [
    "JWT",
    "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U;",
    "t=[REDACTED:jwt];",
  ],
  ["Bearer token", "use Bearer abc123def456ghi789 please", "use Bearer [REDACTED:bearer] please"],
  [
    "Authorization header",
    "Authorization: Basic dXNlcjpwYXNz\nnext",
    "Authorization: [REDACTED:authorization]\nnext",
  ],
  [
    "Authorization in JSON",
    '{"Authorization": "Bearer x1y2z3w4v5"}',
    '{"Authorization": "[REDACTED:authorization]"}',
  ],
  ["password=", "login?user=bob&password=hunter2&x=1", "login?user=bob&password=[REDACTED:secret]&x=1"],
  ["api_key in JSON", '{"api_key": "abc def", "n": 1}', '{"api_key": "[REDACTED:secret]", "n": 1}'],
  ["env-style key", "OPENAI_API_KEY=whatever-value", "OPENAI_API_KEY=[REDACTED:secret]"],
  ["secret: yaml", "client_secret: s3cr3t", "client_secret: [REDACTED:secret]"],
  [
    "aws secret",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG",
    "aws_secret_access_key = [REDACTED:secret]",
  ],
  ["unterminated quoted secret", 'password: "hunter2 and more', 'password: "[REDACTED:secret]'],
  ["URL credentials", "https://bob:pa55@db.example.com/x", "https://[REDACTED:credentials]@db.example.com/x"],
];

describe("redactText", () => {
  it.each(cases)("redacts %s", (_name, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it("redacts PEM private key blocks, even when cut off", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc+/=\n-----END RSA PRIVATE KEY-----";
    expect(redactText(`before\n${pem}\nafter`)).toBe("before\n[REDACTED:private_key]\nafter");
    expect(redactText("x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk")).toBe(
      "x [REDACTED:private_key]",
    );
  });

  it("keeps the kind of a key inside a key=value pair", () => {
    expect(redactText("api_key=sk-abcdefghijklmnopqrstuvwxyz123456")).toBe("api_key=[REDACTED:openai_key]");
  });

  it("leaves ordinary numbers, ids and prose alone", () => {
    const text = [
      "ts 1700000000000 and 1731234567890123",
      "id 123456789012345678",
      "on 2024-01-15 at 12:30:45",
      "version 1.2.3, port 8080, count 4111",
      "max_tokens: 100, tokens=5, input_tokens: 20",
      "Bearer authentication is used",
      "order 4111111111111112 fails Luhn",
      "call 555-1234",
      "uuid 123e4567-e89b-12d3-a456-426614174000",
      "sk-short",
    ].join("\n");
    expect(redactText(text)).toBe(text);
  });

  it("redacts IBANs that pass mod-97 and US social security numbers, and leaves look-alikes", () => {
    expect(redactText("pay to DE89 3704 0044 0532 0130 00 today")).toBe("pay to [REDACTED:iban] today");
    expect(redactText("iban GB82WEST12345698765432.")).toBe("iban [REDACTED:iban].");
    // one check digit off: not an IBAN
    expect(redactText("ref DE88 3704 0044 0532 0130 00")).toBe("ref DE88 3704 0044 0532 0130 00");
    expect(redactText("ssn 078-05-1120, id")).toBe("ssn [REDACTED:ssn], id");
    for (const kept of [
      "000-12-3456",
      "666-12-3456",
      "912-12-3456",
      "123-00-4567",
      "123-45-0000",
      "2024-11-22",
    ])
      expect(redactText(`value ${kept} end`)).toBe(`value ${kept} end`);
    expect(redactText("ssn 078-05-1120", { personalData: false })).toBe("ssn 078-05-1120");
  });

  it("redacts IPv4 addresses only when asked", () => {
    expect(redactText("from 192.168.1.20 port")).toBe("from 192.168.1.20 port");
    expect(redactText("from 192.168.1.20 port", { ipAddresses: true })).toBe("from [REDACTED:ip] port");
    expect(redactText("v1.2.3.4.5", { ipAddresses: true })).toBe("v1.2.3.4.5");
  });

  it("can keep personal data while still removing secrets", () => {
    expect(redactText("a@b.io password=x", { personalData: false })).toBe(
      "a@b.io password=[REDACTED:secret]",
    );
  });

  it("tolerates non-strings", () => {
    expect(redactText(undefined as unknown as string)).toBe("");
    expect(redactText(42 as unknown as string)).toBe("");
  });
});

describe("isSensitiveKey", () => {
  it("matches secret-bearing names in any case style, and not token counts", () => {
    for (const key of [
      "password",
      "apiKey",
      "api_key",
      "X-Api-Key",
      "Authorization",
      "cookie",
      "accessToken",
      "clientSecret",
    ]) {
      expect(isSensitiveKey(key), key).toBe(true);
    }
    for (const key of ["maxTokens", "input_tokens", "tokenCount", "author", "model"]) {
      expect(isSensitiveKey(key), key).toBe(false);
    }
  });
});
