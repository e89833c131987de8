/** Test support: one minute's rollup of one model's steady traffic, as the rollup job writes it. */
import { type MinuteRollup, toMinuteRollups } from "./minute-rollup.js";

export function makeRollup(
  gateway: string,
  ts: number,
  model: string,
  figures: { turns: number; costUsd: number; failed?: number },
): MinuteRollup {
  const [record] = toMinuteRollups(gateway, ts, [
    {
      group: {
        agent: "main",
        provider: "openai",
        model,
        channel: "webchat",
        outcome: "success",
        latencyBucket: 30,
      },
      count: figures.turns,
      sums: {
        turns: figures.turns,
        modelCalls: figures.turns,
        failedModelCalls: figures.failed ?? 0,
        inputTokens: figures.turns * 100,
        outputTokens: figures.turns * 20,
        costProviderUsd: figures.costUsd,
      },
    },
  ]);
  if (!record) throw new Error("no rollup");
  return record;
}
