/**
 * Wall-clock phases of an MLflow e2e scenario (server start, gateway start, turns, delivery), printed
 * as one line: these files are the slowest of the suite, and the line shows where the time went.
 */

/** Records phases; `end(name)` closes the current one, `summary()` is `"name 12 s, ..."`. */
export interface PhaseTimer {
  end(name: string): void;
  summary(): string;
}

/** Starts timing the first phase now. */
export function createPhaseTimer(): PhaseTimer {
  const phases: string[] = [];
  let startedAt = Date.now();
  return {
    end(name) {
      phases.push(`${name} ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
      startedAt = Date.now();
    },
    summary: () => phases.join(", "),
  };
}
