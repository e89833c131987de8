/**
 * Okapi BM25 over small documents with weighted fields (an entry's title counts more than its
 * solutions' text). Pure and in memory: the knowledge base holds thousands of entries, not millions,
 * and a query must answer in milliseconds on the gateway.
 */

/** BM25's usual constants: term-frequency saturation and length normalization. */
const K1 = 1.2;
const B = 0.75;
const MAX_QUERY_TERMS = 32;

// words too common in error text to say anything about a cause
const STOPWORDS = new Set(
  "a an and are as at be by for from has have in is it its of on or that the this to was were will with your you please try again error request".split(
    " ",
  ),
);

/** Lower-case word tokens (letters, digits, `_`), placeholders and stopwords left out. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const raw of text
    .toLowerCase()
    .replace(/<[a-z]+(?: [^>]*)?>/g, " ")
    .split(/[^\p{L}\p{N}_]+/u)) {
    if (raw.length < 2 || raw.length > 64 || STOPWORDS.has(raw)) continue;
    tokens.push(raw);
  }
  return tokens;
}

/** A document: its id and its text by field. */
export interface SearchDocument {
  id: string;
  fields: Readonly<Record<string, string>>;
}

export interface Bm25Index {
  readonly size: number;
  /** Documents ranked by score for the query (only those matching a term), best first. */
  search(query: string, limit?: number): { id: string; score: number }[];
}

/** Builds the index; `weights` multiply each field's term frequency (default 1). */
export function createBm25Index(
  documents: readonly SearchDocument[],
  weights: Readonly<Record<string, number>> = {},
): Bm25Index {
  const postings = new Map<string, Map<number, number>>();
  const lengths: number[] = [];
  documents.forEach((document, index) => {
    let length = 0;
    const frequencies = new Map<string, number>();
    for (const [field, text] of Object.entries(document.fields)) {
      const weight = weights[field] ?? 1;
      for (const token of tokenize(text)) {
        frequencies.set(token, (frequencies.get(token) ?? 0) + weight);
        length += weight;
      }
    }
    lengths.push(length);
    for (const [token, frequency] of frequencies) {
      let posting = postings.get(token);
      if (!posting) {
        posting = new Map();
        postings.set(token, posting);
      }
      posting.set(index, frequency);
    }
  });
  const count = documents.length;
  const averageLength = count === 0 ? 0 : lengths.reduce((sum, length) => sum + length, 0) / count;
  return {
    size: count,
    search(query, limit = 20) {
      const scores = new Map<number, number>();
      const terms = [...new Set(tokenize(query))].slice(0, MAX_QUERY_TERMS);
      for (const term of terms) {
        const posting = postings.get(term);
        if (!posting) continue;
        // the BM25+ style idf that stays positive for terms in most documents
        const idf = Math.log(1 + (count - posting.size + 0.5) / (posting.size + 0.5));
        for (const [index, frequency] of posting) {
          const length = lengths[index] ?? 0;
          const norm = frequency + K1 * (1 - B + (B * length) / (averageLength || 1));
          scores.set(index, (scores.get(index) ?? 0) + (idf * frequency * (K1 + 1)) / norm);
        }
      }
      return [...scores]
        .sort((left, right) => right[1] - left[1] || left[0] - right[0])
        .slice(0, Math.max(0, limit))
        .map(([index, score]) => ({ id: documents[index]?.id ?? "", score }));
    },
  };
}
