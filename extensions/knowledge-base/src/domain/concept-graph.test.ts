import { describe, expect, it } from "vitest";
import {
  addBasket,
  type ConceptCounts,
  neighboursOf,
  toConceptGraph,
  toStoredCounts,
} from "./concept-graph.js";

const empty = (id: string): ConceptCounts => ({ id, gateway: "g", ts: 0, baskets: 0, nodes: {}, pairs: {} });

describe("concept graph", () => {
  it("links what occurs together more often than chance, not what occurs everywhere", () => {
    const counts = empty("a");
    for (let turn = 0; turn < 20; turn += 1) {
      const failing = turn % 4 === 0;
      addBasket(counts, [
        "agent:main",
        turn % 2 === 0 ? "model:gpt-4o" : "model:claude",
        ...(failing ? ["issue:rate-limit", "category:rate_limit"] : []),
      ]);
    }
    const graph = toConceptGraph([toStoredCounts(counts)]);
    const ids = graph.links.map((link) => link.id);
    expect(ids).toContain("category:rate_limit|issue:rate-limit");
    expect(ids).toContain("issue:rate-limit|model:gpt-4o");
    // the only agent is in every turn: no link carries information
    expect(ids.some((id) => id.includes("agent:main"))).toBe(false);
    expect(ids).not.toContain("issue:rate-limit|model:claude");
    expect(neighboursOf(graph.links, "issue:rate-limit").map((neighbour) => neighbour.id)).toEqual(
      expect.arrayContaining(["category:rate_limit", "model:gpt-4o"]),
    );
    expect(graph.stats).toMatchObject({ nodes: 5, links: graph.links.length });
    expect(graph.stats.components).toBe(3); // {gpt-4o, issue, category}, {claude}, {agent}
    expect(
      graph.stats.central
        .slice(0, 2)
        .map((node) => node.id)
        .sort(),
    ).toEqual(["category:rate_limit", "issue:rate-limit"]);
  });

  it("sums documents of several gateways and processes without doubling", () => {
    const first = empty("g1");
    const second = empty("g2");
    addBasket(first, ["tool:exec", "issue:x"]);
    addBasket(first, ["tool:exec", "issue:x"]);
    addBasket(second, ["tool:exec", "issue:x"]);
    addBasket(second, ["tool:read"]);
    const graph = toConceptGraph([toStoredCounts(first), toStoredCounts(second)]);
    expect(graph.links).toEqual([expect.objectContaining({ id: "issue:x|tool:exec", count: 3 })]);
    expect(graph.concepts.find((concept) => concept.id === "tool:exec")?.count).toBe(3);
  });

  it("bounds a document's size whatever the input", () => {
    const counts = empty("big");
    for (let index = 0; index < 3_000; index += 1) addBasket(counts, [`tool:t${index}`, `issue:i${index}`]);
    expect(Object.keys(counts.nodes).length).toBeLessThanOrEqual(2_000);
    expect(counts.baskets).toBe(3_000);
  });
});
