import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type FailureKind, toFingerprint } from "./fingerprint.js";

interface CorpusItem {
  group: string;
  source: string;
  kind: FailureKind;
  category?: string;
  status?: number;
  provider?: string;
  model?: string;
  tool?: string;
  message: string;
}

const corpus = JSON.parse(
  readFileSync(new URL("./__fixtures__/error-corpus.json", import.meta.url), "utf8"),
) as { groups: number; items: CorpusItem[] };

/** Pairwise precision and recall of a grouping against the labels. */
function scoreGrouping(labels: readonly string[], predicted: readonly string[]) {
  let together = 0;
  let labelledTogether = 0;
  let both = 0;
  for (let left = 0; left < labels.length; left += 1) {
    for (let right = left + 1; right < labels.length; right += 1) {
      const sameLabel = labels[left] === labels[right];
      const samePrediction = predicted[left] === predicted[right];
      if (samePrediction) together += 1;
      if (sameLabel) labelledTogether += 1;
      if (sameLabel && samePrediction) both += 1;
    }
  }
  return {
    precision: together === 0 ? 1 : both / together,
    recall: labelledTogether === 0 ? 1 : both / labelledTogether,
  };
}

describe("fingerprint quality on the labelled corpus of real-world error formats", () => {
  it("has at least 300 messages from every provider family and common tool failures", () => {
    expect(corpus.items.length).toBeGreaterThanOrEqual(300);
    const providers = new Set(corpus.items.map((item) => item.provider).filter(Boolean));
    for (const provider of [
      "openai",
      "anthropic",
      "google",
      "amazon-bedrock",
      "azure-openai",
      "ollama",
      "openrouter",
    ])
      expect(providers).toContain(provider);
    expect(corpus.items.some((item) => item.kind === "tool_error")).toBe(true);
  });

  it("groups same-cause messages together and keeps different causes apart (precision and recall >= 0.95)", () => {
    const labels = corpus.items.map((item) => item.group);
    const predicted = corpus.items.map((item) => toFingerprint(item).hash);
    const { precision, recall } = scoreGrouping(labels, predicted);
    const groups = new Set(labels).size;
    const fingerprints = new Set(predicted).size;
    console.log(
      `fingerprint corpus: ${corpus.items.length} messages, ${groups} causes, ${fingerprints} fingerprints; pairwise precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`,
    );
    // name the causes that were split or merged, so a regression says where it is
    const splitCauses = [...new Set(labels)].filter(
      (label) => new Set(predicted.filter((_hash, index) => labels[index] === label)).size > 1,
    );
    const mergedFingerprints = [...new Set(predicted)].filter(
      (hash) => new Set(labels.filter((_label, index) => predicted[index] === hash)).size > 1,
    );
    if (splitCauses.length > 0 || mergedFingerprints.length > 0)
      console.log({
        splitCauses,
        merged: mergedFingerprints.map((hash) => [
          ...new Set(labels.filter((_l, i) => predicted[i] === hash)),
        ]),
      });
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });

  it("scores a grouping that folds everything, or nothing, as poor (the measure can fail)", () => {
    const labels = corpus.items.map((item) => item.group);
    expect(
      scoreGrouping(
        labels,
        labels.map(() => "one"),
      ).precision,
    ).toBeLessThan(0.1);
    expect(
      scoreGrouping(
        labels,
        labels.map((_label, index) => String(index)),
      ).recall,
    ).toBe(0);
  });
});
