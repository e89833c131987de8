/**
 * The concept graph: nodes for agents, models, providers, tools, channels, error categories, issues
 * and alerts; links weighted by how much more often two of them occur together (in one turn, one
 * failure, one alert) than chance would have it. The weight is the normalized pointwise mutual
 * information, NPMI = log(p(a,b) / (p(a) p(b))) / -log p(a,b), from -1 to 1: a node present in
 * every turn (the only agent, the default model) links to nothing in particular, because it
 * co-occurs with everything exactly as often as chance says.
 *
 * Counts are kept per gateway, hour and process (`concept_counts`), so that a fleet's graph sums
 * every gateway's without doubling, and a restart starts a document of its own instead of
 * overwriting the hour's. The graph is derived from them; pure.
 */

export type ConceptType =
  | "agent"
  | "model"
  | "provider"
  | "tool"
  | "channel"
  | "category"
  | "issue"
  | "alert";

/**
 * Co-occurrence counts of one gateway process for one hour, as the recorder keeps them (maps, to
 * count fast). Stored as {@link StoredConceptCounts}.
 */
export type ConceptCounts = {
  id: string;
  gateway: string;
  /** The hour (epoch ms); the store's time field. */
  ts: number;
  /** Baskets (turns, failures, alerts) counted. */
  baskets: number;
  nodes: Record<string, number>;
  /** `a|b` with a < b. */
  pairs: Record<string, number>;
};

/**
 * The counts as stored: lists, because node names (`model:gpt-4.1`) as keys would hold dots, which
 * MongoDB-wire servers such as FerretDB refuse.
 */
export type StoredConceptCounts = {
  id: string;
  gateway: string;
  ts: number;
  baskets: number;
  nodes: { id: string; count: number }[];
  pairs: { source: string; target: string; count: number }[];
};

/** The recorder's counts in their stored form. */
export function toStoredCounts(counts: ConceptCounts): StoredConceptCounts {
  return {
    id: counts.id,
    gateway: counts.gateway,
    ts: counts.ts,
    baskets: counts.baskets,
    nodes: Object.entries(counts.nodes).map(([id, count]) => ({ id, count })),
    pairs: Object.entries(counts.pairs).map(([pair, count]) => {
      const [source = "", target = ""] = pair.split("|");
      return { source, target, count };
    }),
  };
}

export type Concept = {
  id: string;
  type: ConceptType;
  name: string;
  count: number;
  degree: number;
  centrality: number;
};
export type ConceptLink = {
  id: string;
  source: string;
  target: string;
  count: number;
  lift: number;
  npmi: number;
};

export interface NetworkStats {
  nodes: number;
  links: number;
  density: number;
  components: number;
  central: { id: string; type: ConceptType; name: string; centrality: number }[];
}

/** Limits that keep a counts document small whatever the traffic. */
export const MAX_NODES_PER_DOCUMENT = 2_000;
export const MAX_PAIRS_PER_DOCUMENT = 20_000;
/** Two nodes must co-occur at least this often to be linked. */
export const MIN_LINK_COUNT = 2;

/** A node's id: its type and name (`model:gpt-4o`). */
export function conceptId(type: ConceptType, name: string): string {
  return `${type}:${name.slice(0, 200)}`;
}

/** Adds one basket (the distinct nodes of a turn, a failure or an alert) to the counts. */
export function addBasket(counts: ConceptCounts, nodes: readonly string[]): void {
  const distinct = [...new Set(nodes)].sort();
  if (distinct.length === 0) return;
  let sizes = SIZES.get(counts);
  if (!sizes) {
    sizes = { nodes: Object.keys(counts.nodes).length, pairs: Object.keys(counts.pairs).length };
    SIZES.set(counts, sizes);
  }
  counts.baskets += 1;
  for (const node of distinct) {
    const current = counts.nodes[node];
    if (current === undefined) {
      if (sizes.nodes >= MAX_NODES_PER_DOCUMENT) continue;
      sizes.nodes += 1;
    }
    counts.nodes[node] = (current ?? 0) + 1;
  }
  for (let left = 0; left < distinct.length; left += 1) {
    for (let right = left + 1; right < distinct.length; right += 1) {
      const key = `${distinct[left]}|${distinct[right]}`;
      const current = counts.pairs[key];
      if (current === undefined) {
        if (sizes.pairs >= MAX_PAIRS_PER_DOCUMENT) continue;
        sizes.pairs += 1;
      }
      counts.pairs[key] = (current ?? 0) + 1;
    }
  }
}

// how many keys each document holds, so the caps cost nothing per basket
const SIZES = new WeakMap<ConceptCounts, { nodes: number; pairs: number }>();

/** The graph from counts documents (any gateways, any hours): concepts, links and network stats. */
export function toConceptGraph(documents: readonly StoredConceptCounts[]): {
  concepts: Concept[];
  links: ConceptLink[];
  stats: NetworkStats;
} {
  let baskets = 0;
  const nodes = new Map<string, number>();
  const pairs = new Map<string, number>();
  for (const document of documents) {
    baskets += document.baskets;
    if (!Array.isArray(document.nodes) || !Array.isArray(document.pairs)) continue;
    for (const { id, count } of document.nodes) nodes.set(id, (nodes.get(id) ?? 0) + count);
    for (const { source, target, count } of document.pairs) {
      const pair = source < target ? `${source}|${target}` : `${target}|${source}`;
      pairs.set(pair, (pairs.get(pair) ?? 0) + count);
    }
  }
  const links: ConceptLink[] = [];
  for (const [pair, count] of pairs) {
    if (count < MIN_LINK_COUNT || baskets === 0) continue;
    const [source, target] = pair.split("|");
    if (!source || !target) continue;
    const countSource = nodes.get(source) ?? 0;
    const countTarget = nodes.get(target) ?? 0;
    if (countSource === 0 || countTarget === 0) continue;
    const joint = count / baskets;
    const lift = (count * baskets) / (countSource * countTarget);
    // a pair present in every basket has p = 1: no information either way
    const npmi = joint >= 1 ? 0 : Math.log(lift) / -Math.log(joint);
    if (!(npmi > 0)) continue;
    links.push({ id: pair, source, target, count, lift: round(lift), npmi: round(npmi) });
  }
  links.sort(
    (left, right) => right.npmi - left.npmi || right.count - left.count || left.id.localeCompare(right.id),
  );
  const degree = new Map<string, { degree: number; weight: number }>();
  for (const link of links) {
    for (const end of [link.source, link.target]) {
      const current = degree.get(end) ?? { degree: 0, weight: 0 };
      current.degree += 1;
      current.weight += link.npmi;
      degree.set(end, current);
    }
  }
  const concepts: Concept[] = [...nodes].map(([id, count]) => {
    const separator = id.indexOf(":");
    return {
      id,
      type: id.slice(0, separator) as ConceptType,
      name: id.slice(separator + 1),
      count,
      degree: degree.get(id)?.degree ?? 0,
      centrality: round(degree.get(id)?.weight ?? 0),
    };
  });
  concepts.sort(
    (left, right) =>
      right.centrality - left.centrality || right.count - left.count || left.id.localeCompare(right.id),
  );
  const size = concepts.length;
  return {
    concepts,
    links,
    stats: {
      nodes: size,
      links: links.length,
      density: size < 2 ? 0 : round((2 * links.length) / (size * (size - 1))),
      components: countComponents(
        concepts.map((concept) => concept.id),
        links,
      ),
      central: concepts
        .filter((concept) => concept.degree > 0)
        .slice(0, 10)
        .map(({ id, type, name, centrality }) => ({ id, type, name, centrality })),
    },
  };
}

/** The neighbours of a node, strongest link first. */
export function neighboursOf(
  links: readonly ConceptLink[],
  id: string,
  limit = 10,
): { id: string; npmi: number }[] {
  return links
    .filter((link) => link.source === id || link.target === id)
    .slice(0, limit)
    .map((link) => ({ id: link.source === id ? link.target : link.source, npmi: link.npmi }));
}

function countComponents(ids: readonly string[], links: readonly ConceptLink[]): number {
  const parent = new Map(ids.map((id) => [id, id]));
  const find = (id: string): string => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    let node = id;
    while (parent.get(node) !== root) {
      const next = parent.get(node) ?? root;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  for (const link of links) {
    if (!parent.has(link.source) || !parent.has(link.target)) continue;
    const left = find(link.source);
    const right = find(link.target);
    if (left !== right) parent.set(left, right);
  }
  return new Set(ids.map(find)).size;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
