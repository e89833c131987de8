/**
 * Counts co-occurrences for the concept graph as turns, failures and alerts go by: one counts
 * document per hour for this gateway process (`concept_counts`), rewritten through a spooled
 * pipeline while the hour lasts (the same id each time, so a re-sent write changes nothing), and a
 * new one after a restart, so the hour's earlier counts are never overwritten.
 */
import { randomUUID } from "node:crypto";
import type { Turn } from "@clawscope/kit";
import {
  addBasket,
  type ConceptCounts,
  conceptId,
  type StoredConceptCounts,
  toStoredCounts,
} from "./domain/concept-graph.js";
import type { Occurrence } from "./domain/occurrence.js";

const HOUR_MS = 3_600_000;

export interface ConceptRecorder {
  /** `at`: the turn's end on the extension's clock. */
  addTurn(turn: Turn, occurrences: readonly Occurrence[], at: number): void;
  addNodes(nodes: readonly string[], at: number): void;
  /** The documents that changed since the last call, in their stored form. */
  takeChanged(): StoredConceptCounts[];
}

export function createConceptRecorder(gateway: string): ConceptRecorder {
  const process = randomUUID().slice(0, 8);
  const documents = new Map<number, ConceptCounts>();
  const changed = new Set<number>();
  const documentFor = (at: number) => {
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    let document = documents.get(hour);
    if (!document) {
      document = { id: `${gateway}:${hour}:${process}`, gateway, ts: hour, baskets: 0, nodes: {}, pairs: {} };
      documents.set(hour, document);
      // past hours are written already; keep the two newest in memory
      for (const old of [...documents.keys()].sort((left, right) => left - right).slice(0, -2)) {
        if (!changed.has(old)) documents.delete(old);
      }
    }
    changed.add(hour);
    return document;
  };
  const addNodes = (nodes: readonly string[], at: number) => addBasket(documentFor(at), nodes);
  return {
    addNodes,
    addTurn(turn, occurrences, at) {
      const nodes: string[] = [];
      if (turn.agentId) nodes.push(conceptId("agent", turn.agentId));
      if (turn.channel) nodes.push(conceptId("channel", turn.channel));
      for (const call of turn.modelCalls) {
        const provider = call.provider ?? turn.provider;
        const model = call.model ?? turn.model;
        if (provider) nodes.push(conceptId("provider", provider));
        if (model) nodes.push(conceptId("model", model));
      }
      if (turn.modelCalls.length === 0) {
        if (turn.provider) nodes.push(conceptId("provider", turn.provider));
        if (turn.model) nodes.push(conceptId("model", turn.model));
      }
      for (const tool of turn.toolCalls) nodes.push(conceptId("tool", tool.toolName));
      for (const occurrence of occurrences) {
        nodes.push(conceptId("issue", occurrence.entry));
        if (occurrence.category) nodes.push(conceptId("category", occurrence.category));
      }
      addNodes(nodes, at);
    },
    takeChanged() {
      const out = [...changed].flatMap((hour) => {
        const document = documents.get(hour);
        return document ? [toStoredCounts(document)] : [];
      });
      changed.clear();
      return out;
    },
  };
}
