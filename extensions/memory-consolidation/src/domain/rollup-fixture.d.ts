/** Test support: one minute's rollup of one model's steady traffic, as the rollup job writes it. */
import { type MinuteRollup } from "./minute-rollup.js";
export declare function makeRollup(
  gateway: string,
  ts: number,
  model: string,
  figures: {
    turns: number;
    costUsd: number;
    failed?: number;
  },
): MinuteRollup;
//# sourceMappingURL=rollup-fixture.d.ts.map
