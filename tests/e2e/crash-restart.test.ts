/**
 * Issue 10, end to end: the gateway is killed with SIGKILL while an export is in flight (the
 * backend holds the requests unanswered), then started again. The spool now costs nothing while a
 * backend answers at once, and is written when a send outlasts `spoolAfterMs`; so once every turn
 * is on disk, a crash loses nothing: after the restart, every turn's trace and outcome score reach
 * Langfuse — exactly once after de-duplication by id — and the spool ends empty.
 */
import { createLangfuseReceiver, type LangfuseReceiver } from "@clawscope/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayHandle, startGateway } from "./harness/gateway.js";
import { chatCompletion, waitFor } from "./harness/gateway-client.js";
import { type HoldingProxy, startHoldingProxy } from "./harness/holding-proxy.js";
import {
  LANGFUSE_SETUP_TIMEOUT_MS,
  langfusePlugin,
  listLangfuseSpool,
  readLangfuseStatus,
} from "./harness/langfuse-plugin.js";
import { findDeliveredTurn, toLangfuseTraceId, toOutcomeScoreId } from "./harness/langfuse-traces.js";
import { ECHO_TOOL_PLUGIN } from "./harness/plugin-fixtures.js";

const SESSION = "crash-restart";
const TURNS = 6;

describe("crash: SIGKILL mid-export, then a restart", () => {
  let receiver: LangfuseReceiver;
  let proxy: HoldingProxy;
  let gateway: GatewayHandle;
  const runIds: string[] = [];

  const drive = async (content: string): Promise<string> => {
    const result = await chatCompletion(gateway, { sessionKey: SESSION, content });
    expect(result.status, `turn "${content}"`).toBe(200);
    return result.id as string;
  };
  const missing = (ids: readonly string[]): string[] => {
    const views = receiver.observations();
    return ids.filter(
      (runId) =>
        (findDeliveredTurn(views, toLangfuseTraceId(runId))?.roots.length ?? 0) === 0 ||
        receiver.score(toOutcomeScoreId(runId)) === undefined,
    );
  };

  beforeAll(async () => {
    receiver = await createLangfuseReceiver();
    proxy = await startHoldingProxy(receiver.url);
    gateway = await startGateway({
      plugins: [
        langfusePlugin(
          { url: proxy.url, credentials: receiver.credentials },
          { flushIntervalMs: 200, settleMs: 300 },
        ),
        ECHO_TOOL_PLUGIN,
      ],
    });
    // a first turn through the open proxy: the extension is up and delivering
    const warmUp = await drive("warm up");
    await waitFor(() => missing([warmUp]).length === 0, 30_000, 200, "the warm-up turn at the receiver");
  }, LANGFUSE_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.close();
    await proxy?.close();
    await receiver?.close();
  });

  it("has every turn on disk while the backend holds the export unanswered", async () => {
    proxy.hold();
    for (let index = 1; index <= TURNS; index += 1)
      runIds.push(await drive(index % 3 === 0 ? `crash turn ${index} USE_TOOL` : `crash turn ${index}`));
    // every turn assembled, nothing delivered since the hold, everything waiting is on disk
    await waitFor(
      async () => {
        const status = await readLangfuseStatus(gateway);
        return (
          proxy.heldCount >= 1 &&
          status.turns.open === 0 &&
          status.export.pending > 0 &&
          status.export.pending === status.export.pendingOnDisk
        );
      },
      30_000,
      250,
      "every waiting item on disk with an export held in flight",
    );
    expect(missing(runIds)).toEqual(runIds);
    expect(listLangfuseSpool(gateway).live.length).toBeGreaterThan(0);
  });

  it("after SIGKILL and a restart, delivers every turn's trace and score once after de-duplication", async () => {
    const exit = await gateway.kill();
    expect(exit?.code === 0, `the crashed gateway's exit ${JSON.stringify(exit)}`).toBe(false);
    // requests of the dead process are dropped by the proxy; the new process sends from its spool
    await proxy.release();
    await gateway.restart();
    await waitFor(() => missing(runIds).length === 0, 60_000, 250, "every crash turn after the restart");
    let copies = 0;
    for (const [index, runId] of runIds.entries()) {
      const delivered = findDeliveredTurn(receiver.observations(), toLangfuseTraceId(runId));
      const ids = delivered?.view.observations.map((observation) => observation.id) ?? [];
      copies += ids.length - new Set(ids).size;
      // de-duplicated by id (as Langfuse upserts), each turn is there once: one root, its model call,
      // and its tool call for a tool turn
      const distinct = (list: readonly { id: string }[] | undefined) => new Set(list?.map((o) => o.id)).size;
      expect(distinct(delivered?.roots), `root of ${runId}`).toBe(1);
      expect(distinct(delivered?.generations), `generations of ${runId}`).toBeGreaterThanOrEqual(1);
      expect(distinct(delivered?.tools), `tools of ${runId}`).toBe((index + 1) % 3 === 0 ? 1 : 0);
    }
    console.info(`crash-restart: ${runIds.length} turns delivered after the crash, ${copies} re-sent copies`);
    const scoreIds = runIds.map(toOutcomeScoreId);
    expect(new Set(scoreIds).size).toBe(TURNS);
    for (const id of scoreIds) expect(receiver.score(id)?.body).toMatchObject({ name: "turn.outcome" });
    await waitFor(() => listLangfuseSpool(gateway).live.length === 0, 30_000, 250, "an empty spool");
    const status = await readLangfuseStatus(gateway);
    expect(status.export).toMatchObject({ dropped: 0, deadLettered: 0 });
  });
});
