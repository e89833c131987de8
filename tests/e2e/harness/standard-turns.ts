/**
 * The turns most extension e2e files drive, in one place: a warm-up turn in its own session, then a
 * plain turn, a tool-call turn and a provider-400 turn in one session over HTTP, and a WS
 * `chat.send` turn (which gives the host's `message_received`, with a sender) — and the wait until
 * the probe has assembled all five.
 */
import type { Turn } from "@clawscope/kit";
import { expect } from "vitest";
import type { GatewayHandle } from "./gateway.js";
import { chatCompletion, chatSend } from "./gateway-client.js";
import { type ProbeRecords, waitForProbeRecords } from "./probe.js";

/** One turn as the test drove it. */
export interface DrivenTurn {
  runId: string;
  status: number;
  sentAt: number;
  answeredAt: number;
}

/** The names of the standard turns. */
export type StandardTurnName = "warmUp" | "plain" | "tool" | "failed" | "ws";

/** What {@link driveStandardTurns} drove and what the probe assembled. */
export interface StandardTurns {
  driven: Record<StandardTurnName, DrivenTurn>;
  records: ProbeRecords;
}

/**
 * Drives the five turns; `name` prefixes the sessions (`agent:main:<name>`, `<name>-warm-up`,
 * `agent:main:<name>-ws`). Asserts the HTTP statuses (200, 200, 200, 400) and that exactly one turn
 * of the session is the failed one, whose run id it fills in (the 400 answer carries none).
 */
export async function driveStandardTurns(gateway: GatewayHandle, name: string): Promise<StandardTurns> {
  const sessionKey = `agent:main:${name}`;
  const drive = async (session: string, content: string): Promise<DrivenTurn> => {
    const sentAt = Date.now();
    const result = await chatCompletion(gateway, { sessionKey: session, content });
    return { runId: result.id ?? "", status: result.status, sentAt, answeredAt: Date.now() };
  };
  const warmUp = await drive(`${name}-warm-up`, "warm up");
  const plain = await drive(name, `hello ${name}`);
  const tool = await drive(name, "please USE_TOOL now");
  const failed = await drive(name, "FAIL_400 please");
  expect([warmUp, plain, tool, failed].map((turn) => turn.status)).toEqual([200, 200, 200, 400]);
  // the run id shows up in exported metadata: it must not contain the session's name, which tests
  // check never leaves the gateway
  const wsRunId = `ws-run-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
  const wsSentAt = Date.now();
  await chatSend(gateway, {
    sessionKey: `agent:main:${name}-ws`,
    message: "hello over ws",
    idempotencyKey: wsRunId,
  });
  const ws = { runId: wsRunId, status: 200, sentAt: wsSentAt, answeredAt: Date.now() };

  const records = await waitForProbeRecords(
    gateway,
    (current) =>
      [warmUp.runId, plain.runId, tool.runId, wsRunId].every((id) =>
        current.turns.some((turn) => turn.runId === id),
      ) && current.turns.filter((turn) => turn.sessionKey === sessionKey).length >= 3,
    "the probe to assemble the warm-up, plain, tool, provider-400 and WS turns",
  );
  // the 400 answer carries no completion id: its turn is the session's third, started during that request
  const failedTurns = records.turns.filter(
    (turn) => turn.sessionKey === sessionKey && turn.runId !== plain.runId && turn.runId !== tool.runId,
  );
  expect(failedTurns).toHaveLength(1);
  const failedTurn = failedTurns[0] as Turn;
  expect(failedTurn.startedAt).toBeGreaterThanOrEqual(failed.sentAt - 1000);
  failed.runId = failedTurn.runId;
  return { driven: { warmUp, plain, tool, failed, ws }, records };
}
