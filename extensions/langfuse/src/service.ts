/**
 * The Langfuse extension at run time: every turn becomes a plan (pure), the plan becomes the spans
 * the official SDK would send, and the spans and the scores leave through two kit pipelines —
 * spooled when a send fails or takes long, retried, paused on refused keys, flushed on stop.
 * A config change restarts the extension (the kit's hot reload), with fresh keys and pipelines.
 */
import {
  describeError,
  type OperationalEvent,
  type PackService,
  type PackStartContext,
  type Turn,
} from "@clawscope/kit";
import type { TurnExport } from "@clawscope/kit/otlp";
import { LANGFUSE_SDK_VERSION } from "@langfuse/core";
import { SDK_INFO } from "@opentelemetry/core";
import { type LangfuseConfig, maskPublicKey, toBaseUrl, validateLangfuseConfig } from "./config.js";
import { createSignalTracker } from "./domain/signal-tracker.js";
import { createModelParameterLookup } from "./mapping/model-parameters.js";
import { shouldSendTurn } from "./mapping/sampling.js";
import {
  detectToolLoop,
  isSessionSignal,
  SCORE_NAMES,
  type ScoreBody,
  SESSION_SIGNAL_TYPES,
  toSessionScore,
  toTurnScores,
} from "./mapping/to-scores.js";
import { toTurnPlan } from "./mapping/to-turn-plan.js";
import { createAuthGate } from "./transport/auth-failure.js";
import { createLangfuseTracing } from "./transport/langfuse-tracing.js";
import { createScoreSender } from "./transport/score-sender.js";
import { createTraceSender } from "./transport/trace-sender.js";

/** The pack version, in the user agent and the resource. */
export const LANGFUSE_EXTENSION_VERSION = "0.1.0";

/** Host events read besides assembled turns: the ones that become session and tool-loop scores. */
export const LANGFUSE_EVENT_TYPES = SESSION_SIGNAL_TYPES;

/** Scores per ingestion request: a few hundred bytes each, so a full batch stays far below Langfuse's 3.5 MB. */
const SCORES_PER_BATCH = 1000;
/** Bytes of scores per request, measured on their JSON; the envelope adds about 100 bytes per score. */
const SCORE_BATCH_BYTES = 2_000_000;

/** Test seams of {@link startLangfuse}. */
export interface LangfuseStartOptions {
  fetchImpl?: typeof fetch;
}

/** Starts the Langfuse service. Throws a `ConfigError` (the kit disables the extension) on bad keys. */
export async function startLangfuse(
  context: PackStartContext<LangfuseConfig>,
  options: LangfuseStartOptions = {},
): Promise<PackService> {
  const { config, logger } = context;
  validateLangfuseConfig(config);
  const baseUrl = toBaseUrl(config.baseUrl);
  const userAgent = `clawscope-langfuse/${LANGFUSE_EXTENSION_VERSION}`;
  const keys = { baseUrl, publicKey: config.publicKey.trim(), secretKey: config.secretKey.trim() };
  const authGate = createAuthGate(keys);
  // the resource the SDK's own provider would report, named after the gateway
  const resourceAttributes = {
    "service.name": "openclaw-gateway",
    "telemetry.sdk.language": SDK_INFO["telemetry.sdk.language"],
    "telemetry.sdk.name": SDK_INFO["telemetry.sdk.name"],
    "telemetry.sdk.version": SDK_INFO["telemetry.sdk.version"],
  };
  const traceSender = createTraceSender({
    ...keys,
    authGate,
    timeoutMs: config.timeoutMs,
    resourceAttributes,
    userAgent,
    logger,
    ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
  });
  const traces = context.createPipeline<TurnExport>("langfuse-traces", { send: traceSender.send });
  const scoreSender = config.scores
    ? createScoreSender({
        ...keys,
        authGate,
        timeoutMs: config.timeoutMs,
        userAgent,
        logger,
        ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
      })
    : undefined;
  const scores = scoreSender
    ? context.createPipeline<ScoreBody>("langfuse-scores", {
        send: scoreSender.send,
        maxBatchItems: SCORES_PER_BATCH,
        maxBatchBytes: SCORE_BATCH_BYTES,
      })
    : undefined;
  const counters = { sent: 0, sampledOut: 0, failed: 0, invalidSpans: 0, scores: 0 };
  const tracing = createLangfuseTracing({
    ...(config.environment ? { environment: config.environment } : {}),
    ...(config.release ? { release: config.release } : {}),
    maxContentChars: config.maxContentChars,
    enqueue: (id, payload) => traces.enqueue(id, payload),
    onInvalid: (reason) => {
      counters.invalidSpans += 1;
      logger.limited("warn", "invalid-span", `a span could not be exported (${reason}); dropped`);
    },
  });
  const modelParameters = createModelParameterLookup(context.hostConfig);
  const signals = createSignalTracker();
  const environment = config.environment ? { environment: config.environment } : {};
  context.health.setDetail("langfuse", {
    baseUrl,
    publicKey: maskPublicKey(keys.publicKey),
    ...environment,
    sdk: `@langfuse/tracing ${LANGFUSE_SDK_VERSION}`,
  });

  const enqueueScore = (score: ScoreBody | undefined) => {
    if (!scores || !score) return;
    counters.scores += 1;
    scores.enqueue(score.id, score);
  };

  const handleTurn = (turn: Turn) => {
    const plan = toTurnPlan(turn, {
      hashId: context.hashId,
      captureContent: context.captureContent,
      ...environment,
      ...(config.release ? { release: config.release } : {}),
      modelParameters,
    });
    const hostLoop = signals.takeHostLoop(turn.traceId);
    const toolLoop = detectToolLoop(turn.toolCalls, config.toolLoopThreshold) ?? hostLoop;
    const decision = shouldSendTurn(turn, plan.traceId, config.sampling.ratio, toolLoop !== undefined);
    if (!decision.keep) {
      counters.sampledOut += 1;
      return;
    }
    tracing.emit(plan);
    counters.sent += 1;
    for (const score of toTurnScores(turn, plan.traceId, {
      ...environment,
      ...(toolLoop ? { toolLoop } : {}),
    }))
      enqueueScore(score);
  };

  const handleEvent = (signal: OperationalEvent) => {
    if (!isSessionSignal(signal)) return;
    if (signal.type === "tool.loop" && signal.trace) {
      // the run's turn is still open: the score goes on its trace when it arrives
      signals.noteHostLoop(signal.trace.traceId, {
        toolName: signal.toolName,
        count: signal.count ?? 0,
        source: "host",
        ...(signal.detector ? { detector: signal.detector } : {}),
      });
      return;
    }
    const name = signal.type === "tool.loop" ? SCORE_NAMES.toolLoop : SCORE_NAMES.sessionStuck;
    if (!scores || !signals.claimSessionScore(signal, name)) return;
    enqueueScore(toSessionScore(signal, context.hashId(signal.session), environment));
  };

  return {
    onTurn(turn) {
      try {
        handleTurn(turn);
      } catch (error) {
        counters.failed += 1;
        logger.limited("error", "turn", `a turn could not be exported: ${describeError(error)}`);
      }
    },
    onEvent(event) {
      try {
        handleEvent(event);
      } catch (error) {
        logger.limited("error", "event", `a host event could not be scored: ${describeError(error)}`);
      }
    },
    async stop() {
      // every emitted turn is already queued: the kit's pipelines flush on their own stop
      tracing.shutdown();
    },
    status: () => ({
      baseUrl,
      turns: { ...counters },
      traces: { endpoint: traceSender.endpoint, requests: traceSender.stats() },
      scores: scoreSender ? { endpoint: scoreSender.endpoint, requests: scoreSender.stats() } : "off",
      signals: signals.stats(),
      ...(authGate.lastMessage() ? { lastAuthFailure: authGate.lastMessage() } : {}),
    }),
  };
}
