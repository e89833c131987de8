/** The collections this extension owns, with their indexes; retention defaults come from the store package. */
import type { CollectionSpec } from "@clawscope/store";
export declare const COLLECTIONS: readonly CollectionSpec[];
//# sourceMappingURL=collections.d.ts.map
