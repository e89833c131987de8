/**
 * Contract test: keys Langfuse refuses. The receiver answers 401 with Langfuse's own wordings; the
 * plugin must say once which key is wrong (never showing a secret), keep every turn, and deliver
 * all of it once the config is fixed by a hot reload.
 */
import {
  createLangfuseReceiver,
  type FakeHost,
  type LangfuseReceiver,
  loadCapturedScenario,
  waitFor,
} from "@clawscope/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  CONTRACT_KEYS,
  contractConfig,
  readExpectedTurns,
  replayCaptured,
  startContractGateway,
  toObservationIds,
  waitForTurns,
} from "./contract-fixtures.js";

const scenario = loadCapturedScenario("e2e-http-2turns");
const expected = readExpectedTurns(scenario);
const WRONG_SECRET = "sk-lf-wrong-secret-0000";
const UNKNOWN_PUBLIC = "pk-lf-unknown-key-5555";
/** How logs may show a public key: its prefix and last four characters. */
const masked = (publicKey: string) => `pk-lf-…${publicKey.slice(-4)}`;

let receiver: LangfuseReceiver | undefined;
let host: FakeHost | undefined;
afterEach(async () => {
  await host?.cleanup();
  await receiver?.close();
  host = undefined;
  receiver = undefined;
});

describe("keys Langfuse refuses", () => {
  it.each([
    {
      wrong: "secretKey",
      config: { secretKey: WRONG_SECRET },
      says: [`rejected secretKey`, `publicKey ${masked(CONTRACT_KEYS.publicKey)}`],
      never: [],
    },
    {
      wrong: "publicKey",
      config: { publicKey: UNKNOWN_PUBLIC },
      says: [`does not know publicKey ${masked(UNKNOWN_PUBLIC)}`],
      never: ["secretKey"],
    },
  ])("name the wrong $wrong in one error line, lose nothing, and deliver after a reload", async (refused) => {
    const langfuse = await createLangfuseReceiver(CONTRACT_KEYS);
    receiver = langfuse;
    const gateway = await startContractGateway(langfuse.url, { config: refused.config });
    host = gateway;
    await replayCaptured(gateway, scenario);
    await waitFor(() => langfuse.requests.some((request) => request.status === 401), 15_000);
    await waitFor(() => gateway.logs.messages("error").length > 0, 15_000);
    // both pipelines flush several times more: a second report would show by now
    await new Promise((resolve) => setTimeout(resolve, 600));

    const errors = gateway.logs.messages("error");
    expect(errors).toHaveLength(1);
    for (const part of refused.says) expect(errors[0]).toContain(part);
    for (const part of refused.never) expect(errors[0]).not.toContain(part);
    const everything = gateway.logs.lines.map((line) => line.message).join("\n");
    for (const secret of [WRONG_SECRET, CONTRACT_KEYS.secretKey, CONTRACT_KEYS.publicKey, UNKNOWN_PUBLIC])
      expect(everything).not.toContain(secret);
    expect(langfuse.requests.every((request) => request.outcome === "unauthorized")).toBe(true);
    expect([langfuse.spans.length, langfuse.scores.length]).toEqual([0, 0]);

    const refusedRequests = langfuse.requests.length;
    await gateway.reloadConfig(contractConfig({ baseUrl: langfuse.url }));
    await waitForTurns(langfuse, expected);
    const arrived = new Set(langfuse.spans.map((span) => span.spanId));
    for (const turn of expected) {
      const ids = toObservationIds(turn);
      for (const id of [ids.root, ...ids.calls, ...ids.tools]) expect(arrived.has(id)).toBe(true);
    }
    expect(langfuse.scores.map((score) => score.body.traceId).sort()).toEqual(
      expected.map((turn) => turn.traceId).sort(),
    );
    const afterFix = langfuse.requests.slice(refusedRequests);
    expect(afterFix.length).toBeGreaterThan(0);
    for (const request of afterFix) expect(request.outcome).toBe("accepted");
    expect([langfuse.rejectedExports, langfuse.rejectedScores]).toEqual([[], []]);
    expect(gateway.logs.messages("error")).toHaveLength(1);
  });
});
