/**
 * The span attribute names Langfuse reads, mirrored from `LangfuseOtelSpanAttributes` of
 * `@langfuse/core` 5.11.1 (member names kept) so the test side does not depend on the SDK.
 * `langfuse-attributes.test.ts` proves them against the official SDK's own OTLP export.
 */
export const LANGFUSE_SPAN_ATTRIBUTES = {
  TRACE_NAME: "langfuse.trace.name",
  TRACE_USER_ID: "user.id",
  TRACE_SESSION_ID: "session.id",
  TRACE_TAGS: "langfuse.trace.tags",
  TRACE_PUBLIC: "langfuse.trace.public",
  TRACE_METADATA: "langfuse.trace.metadata",
  TRACE_INPUT: "langfuse.trace.input",
  TRACE_OUTPUT: "langfuse.trace.output",
  OBSERVATION_TYPE: "langfuse.observation.type",
  OBSERVATION_METADATA: "langfuse.observation.metadata",
  OBSERVATION_LEVEL: "langfuse.observation.level",
  OBSERVATION_STATUS_MESSAGE: "langfuse.observation.status_message",
  OBSERVATION_INPUT: "langfuse.observation.input",
  OBSERVATION_OUTPUT: "langfuse.observation.output",
  OBSERVATION_COMPLETION_START_TIME: "langfuse.observation.completion_start_time",
  OBSERVATION_MODEL: "langfuse.observation.model.name",
  OBSERVATION_MODEL_PARAMETERS: "langfuse.observation.model.parameters",
  OBSERVATION_USAGE_DETAILS: "langfuse.observation.usage_details",
  OBSERVATION_COST_DETAILS: "langfuse.observation.cost_details",
  OBSERVATION_PROMPT_NAME: "langfuse.observation.prompt.name",
  OBSERVATION_PROMPT_VERSION: "langfuse.observation.prompt.version",
  ENVIRONMENT: "langfuse.environment",
  RELEASE: "langfuse.release",
  VERSION: "langfuse.version",
  AS_ROOT: "langfuse.internal.as_root",
  IS_APP_ROOT: "langfuse.internal.is_app_root",
  EXPERIMENT_ID: "langfuse.experiment.id",
  EXPERIMENT_NAME: "langfuse.experiment.name",
  EXPERIMENT_DESCRIPTION: "langfuse.experiment.description",
  EXPERIMENT_METADATA: "langfuse.experiment.metadata",
  EXPERIMENT_DATASET_ID: "langfuse.experiment.dataset.id",
  EXPERIMENT_ITEM_ID: "langfuse.experiment.item.id",
  EXPERIMENT_ITEM_EXPECTED_OUTPUT: "langfuse.experiment.item.expected_output",
  EXPERIMENT_ITEM_METADATA: "langfuse.experiment.item.metadata",
  EXPERIMENT_ITEM_ROOT_OBSERVATION_ID: "langfuse.experiment.item.root_observation_id",
  TRACE_COMPAT_USER_ID: "langfuse.user.id",
  TRACE_COMPAT_SESSION_ID: "langfuse.session.id",
} as const;

/** One of the names in {@link LANGFUSE_SPAN_ATTRIBUTES}. */
export type LangfuseSpanAttributeName =
  (typeof LANGFUSE_SPAN_ATTRIBUTES)[keyof typeof LANGFUSE_SPAN_ATTRIBUTES];

/** Langfuse observation types (`langfuse.observation.type` values), lower case as the SDK writes them. */
export const LANGFUSE_OBSERVATION_TYPES = [
  "span",
  "generation",
  "event",
  "agent",
  "tool",
  "chain",
  "retriever",
  "evaluator",
  "embedding",
  "guardrail",
] as const;

export type LangfuseObservationType = (typeof LANGFUSE_OBSERVATION_TYPES)[number];

/** Observation levels (`langfuse.observation.level` values). */
export const LANGFUSE_OBSERVATION_LEVELS = ["DEBUG", "DEFAULT", "WARNING", "ERROR"] as const;

export type LangfuseObservationLevel = (typeof LANGFUSE_OBSERVATION_LEVELS)[number];
