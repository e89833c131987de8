/**
 * Issue 5, end to end: with content capture on, a corpus of secrets and personal data planted in a
 * prompt and in a tool call's arguments (which the echo tool returns as its result, and the model
 * repeats in its reply) never reaches Langfuse. Every byte the extension sent is searched, as it
 * crossed the wire (a recording proxy sits in front of the receiver) and as the receiver decoded it;
 * the text around each planted value must have arrived, so the test fails if capture is off.
 */
import {
  createLangfuseReceiver,
  type LangfuseObservation,
  type LangfuseReceiver,
  type LangfuseTraceView,
} from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { LANGFUSE_SETUP_TIMEOUT_MS, langfuseLogLines, langfusePlugin } from "./harness/langfuse-plugin.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";
import { type RecordingProxy, startRecordingProxy } from "./harness/recording-proxy.js";

/** One planted item: the sentence that carries it and the strings that must never arrive. */
interface PlantedItem {
  name: string;
  sentence: string;
  needles: string[];
}

const PEM_LINES = [
  "MIIEpAIBAAKCAQEAw7Zk3Nq9RtLp2XvB8mWc4YhJ6sFd1GaK0eT5uI3oP7lQ9nMr",
  "b2VxC8kZ1tY4wE7aS3dF6gH9jK2lP5qR8sT1uV4xW7yZ0aB3cD6eF9gH2iJ5kL8m",
];
const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUgRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.qL3vX8kP2mR5tW9yB1cF4hJ7nQ0sD6gK3zA8eU5iO2w";

/** Fake but well-formed values, each in the kind of sentence it turns up in. */
const CORPUS: PlantedItem[] = [
  item("openai-key", "my OpenAI key is sk-proj-Qm8Xv2Lk9Tz4Wn7Bc3Hd6Fj1Rp5Sy0Ga2Ke", [
    "sk-proj-Qm8Xv2Lk9Tz4Wn7Bc3Hd6Fj1Rp5Sy0Ga2Ke",
  ]),
  item("anthropic-key", "the Anthropic one is sk-ant-api03-Zx7Kq2Wv9Lm4Np8Rt3Zs6Bd1Fh5Jc0Ge-AbCdEfGh", [
    "sk-ant-api03-Zx7Kq2Wv9Lm4Np8Rt3Zs6Bd1Fh5Jc0Ge-AbCdEfGh",
  ]),
  item("aws-access-key-id", "our AWS access key id AKIAQ3EGRXHW2ZK7TPLM works", ["AKIAQ3EGRXHW2ZK7TPLM"]),
  item("aws-secret-access-key", "export AWS_SECRET_ACCESS_KEY=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", [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8vRt2Lp4",
  ]),
  item("github-token", "push with ghp_R8sT2vW5xY7zA1bC3dE6fG9hJ0kL4mN8pQ2r please", [
    "ghp_R8sT2vW5xY7zA1bC3dE6fG9hJ0kL4mN8pQ2r",
  ]),
  item("slack-token", "the bot runs as xoxb-2741853096-5829104736251-Qm7Xk2Lp9Vr4Tz8Wn3Bc6Hd1 today", [
    "xoxb-2741853096-5829104736251-Qm7Xk2Lp9Vr4Tz8Wn3Bc6Hd1",
  ]),
  item("jwt", `the session cookie holds ${JWT} still`, [JWT, JWT.split(".")[2] as string]),
  item(
    "pem-private-key",
    `the deploy key:\n-----BEGIN RSA PRIVATE KEY-----\n${PEM_LINES.join("\n")}\n-----END RSA PRIVATE KEY-----`,
    PEM_LINES,
  ),
  item(
    "authorization-header",
    "curl -H 'Authorization: Bearer tk_live_9f8e7d6c5b4a3210ZyXwVu' https://api.example.com",
    ["tk_live_9f8e7d6c5b4a3210ZyXwVu"],
  ),
  item("bearer-token", "then call it with Bearer 7Hq2Lm9Xv4Tn8Rw3Zk6Pj1Cd5 as the token", [
    "7Hq2Lm9Xv4Tn8Rw3Zk6Pj1Cd5",
  ]),
  item(
    "connection-string-password",
    "DATABASE_URL=postgres://app_admin:S3cr3t-Db-Passw0rd@db.internal.example:5432/prod",
    ["S3cr3t-Db-Passw0rd"],
  ),
  item(
    "url-password-parameter",
    "log in at https://portal.example.com/login?user=jdoe&password=Hunter2-Pa55word&next=/home",
    ["Hunter2-Pa55word"],
  ),
  item("email", "write to jane.doe@example.com or ops+alerts@corp.example.org", [
    "jane.doe@example.com",
    "ops+alerts@corp.example.org",
  ]),
  item("phone", "call +1 415 555 2671 or (415) 555-2671 or +44 20 7946 0958", [
    "+1 415 555 2671",
    "(415) 555-2671",
    "+44 20 7946 0958",
  ]),
  // Luhn-valid test numbers (Visa, Mastercard, Amex)
  item("credit-card", "cards 4111 1111 1111 1111 and 5500-0000-0000-0004 and 378282246310005", [
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "378282246310005",
  ]),
  // mod-97-valid IBANs, grouped and compact
  item("iban", "pay to DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432", [
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
  ]),
  item("us-ssn", "her SSN is 078-05-1120 on file", ["078-05-1120"]),
];

function item(name: string, sentence: string, needles: string[]): PlantedItem {
  return { name, sentence, needles };
}

/** Non-secret text in front of each planted sentence: it must arrive, so capture is really on. */
function canary(where: "prompt" | "tool", name: string): string {
  return `canary-${where}-${name}`;
}

/** The corpus as one text, each sentence on its own line behind its canary. */
function toCorpusText(where: "prompt" | "tool"): string {
  return CORPUS.map((planted) => `${canary(where, planted.name)} ${planted.sentence}`).join("\n");
}

/** Shortest piece of a planted value that counts as leaked. */
const FRAGMENT_CHARS = 12;

const PROMPT = `USE_TOOL on the notes below.\n${toCorpusText("prompt")}`;
const TOOL_INPUT = toCorpusText("tool");

describe("langfuse: secrets and personal data never reach Langfuse with content capture on", () => {
  let receiver: LangfuseReceiver;
  let proxy: RecordingProxy;
  let gateway: GatewayHandle;
  let view: LangfuseTraceView;

  beforeAll(async () => {
    receiver = await createLangfuseReceiver();
    proxy = await startRecordingProxy(receiver.url);
    gateway = await startGateway({
      plugins: [
        langfusePlugin(
          { url: proxy.url, credentials: receiver.credentials },
          // large bounds: a secret must be redacted, not merely cut off
          { flushIntervalMs: 200, settleMs: 300, captureContent: true, maxContentChars: 100_000 },
        ),
        ECHO_TOOL_PLUGIN,
      ],
      // the model asks for the tool with the corpus as its argument; the tool echoes it back
      providerOptions: { rules: { toolArguments: { input: TOOL_INPUT } } },
    });
    const result = await chatCompletion(gateway, { sessionKey: "langfuse-redaction", content: PROMPT });
    expect(result.status).toBe(200);
    view = await waitFor(
      () =>
        receiver
          .observations()
          .find(
            (candidate) =>
              candidate.observations.length === 4 &&
              candidate.observations.some((observation) => observation.type === "tool"),
          ),
      30_000,
      200,
      "the tool turn's four observations at the receiver",
    );
    await waitFor(() => receiver.scores.length >= 1, 30_000, 200, "the turn's outcome score");
    // the receiver stores before it answers: wait for the answers to cross the proxy too
    await waitFor(
      () => proxy.requests.every((request) => request.status !== undefined),
      10_000,
      50,
      "every proxied request answered",
    );
  }, LANGFUSE_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.close();
    await proxy?.close();
    await receiver?.close();
  });

  /** Every string that left the gateway for Langfuse: wire bodies and headers, decoded spans, scores. */
  function sentTexts(): { where: string; text: string }[] {
    const texts: { where: string; text: string }[] = [];
    for (const [index, request] of proxy.requests.entries()) {
      const where = `request ${index} ${request.method} ${request.url}`;
      texts.push({ where: `${where} body`, text: request.body.toString("utf8") });
      texts.push({ where: `${where} headers`, text: JSON.stringify(request.headers) });
    }
    for (const span of receiver.spans) collectStrings(span, `span ${span.name}`, texts);
    for (const score of receiver.scores) collectStrings(score.body, `score ${score.body.name}`, texts);
    return texts;
  }

  /** Where any fragment of a planted value arrived: a half-redacted secret is a leak too. */
  function findLeaks(needles: readonly string[]): string[] {
    const texts = sentTexts();
    const leaks = new Set<string>();
    for (const needle of needles) {
      for (const fragment of toFragments(needle)) {
        for (const { where, text } of texts)
          if (text.includes(fragment))
            leaks.add(`${JSON.stringify(fragment)} of ${JSON.stringify(needle)} in ${where}`);
      }
    }
    return [...leaks].slice(0, 20);
  }

  const observation = (type: LangfuseObservation["type"]) =>
    view.observations.filter((candidate) => candidate.type === type);

  it("captured content: the text around every planted value arrived, redaction markers in place", () => {
    expect(proxy.requests.length).toBeGreaterThan(0);
    const refused = proxy.requests
      .filter((request) => request.status !== 200 && request.status !== 207)
      .map((request) => `${request.method} ${request.url} ${request.status}`);
    expect(refused).toEqual([]);
    // a 207 carries per-event results: none of them may be an error
    expect(receiver.rejectedScores).toEqual([]);
    expect(receiver.rejectedExports).toEqual([]);
    const [tool] = observation("tool");
    const toolInput = JSON.stringify(tool?.input ?? null);
    const toolOutput = JSON.stringify(tool?.output ?? null);
    const prompts = JSON.stringify(
      [...observation("generation"), ...observation("agent")].map((entry) => entry.input),
    );
    const replies = JSON.stringify(observation("generation").map((entry) => entry.output));
    for (const planted of CORPUS) {
      expect(prompts, "the prompt reached Langfuse").toContain(canary("prompt", planted.name));
      expect(toolInput, "the tool arguments reached Langfuse").toContain(canary("tool", planted.name));
      expect(toolOutput, "the tool result reached Langfuse").toContain(canary("tool", planted.name));
      expect(replies, "the model's reply (which repeats the tool result) reached Langfuse").toContain(
        canary("tool", planted.name),
      );
    }
    for (const text of [prompts, toolInput, toolOutput, replies]) expect(text).toContain("[REDACTED:");
    // the wire holds the same texts: the receiver did not make them up
    const wire = proxy.requests.map((request) => request.body.toString("utf8")).join("\n");
    expect(wire).toContain(canary("prompt", "us-ssn"));
    expect(wire).toContain(canary("tool", "us-ssn"));
  });

  it.each(CORPUS.map((planted) => [planted.name, planted] as const))(
    "never sends the planted %s",
    (_name, planted) => {
      expect(findLeaks(planted.needles)).toEqual([]);
    },
  );

  it("logged no error while capturing", () => {
    const errors = langfuseLogLines(gateway).filter((line) => line.level === "ERROR");
    expect(errors.map((line) => line.message)).toEqual([]);
  });
});

/**
 * Every window of {@link FRAGMENT_CHARS} characters of a planted value (the value itself when it is
 * shorter). The host masks known token formats in tool results to their first 6 and last 4
 * characters before plugins see them (`sk-pro…a2Ke`); that keeps no window, a real leak does.
 */
function toFragments(needle: string): string[] {
  if (needle.length <= FRAGMENT_CHARS) return [needle];
  const fragments: string[] = [];
  for (let start = 0; start + FRAGMENT_CHARS <= needle.length; start += 1)
    fragments.push(needle.slice(start, start + FRAGMENT_CHARS));
  return fragments;
}

/** Pushes every string inside `value`, and the strings inside JSON-encoded strings, with a location. */
function collectStrings(
  value: unknown,
  where: string,
  into: { where: string; text: string }[],
  depth = 0,
): void {
  if (depth > 32) return;
  if (typeof value === "string") {
    into.push({ where, text: value });
    const trimmed = value.trimStart();
    if (trimmed.startsWith("{") || trimmed.startsWith("[") || trimmed.startsWith('"')) {
      try {
        collectStrings(JSON.parse(value), `${where} (decoded)`, into, depth + 1);
      } catch {
        // not JSON: the raw string was searched already
      }
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const entry of value) collectStrings(entry, where, into, depth + 1);
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, entry] of Object.entries(value)) {
      into.push({ where: `${where} key`, text: key });
      collectStrings(entry, `${where}.${key}`, into, depth + 1);
    }
  }
}
