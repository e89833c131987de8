/**
 * Safe readers for values from the host: they never throw (throwing getters, proxies) and bound
 * what they return, so the mappers can be handed anything. They live in the kit; the mappers import
 * them from here so one place names what they use.
 */
export { MAX_FIELD_CHARS, readCount, readField, readId, readNumber, readText } from "@clawscope/kit";
