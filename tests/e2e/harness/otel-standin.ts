/**
 * A stand-in for the official `diagnostics-otel` plugin, written as a throwaway plain-JS plugin: in
 * its service start it registers a GLOBAL TracerProvider and MeterProvider (`@opentelemetry/api`)
 * exporting OTLP/JSON to a collector under `service.name` "official-standin", and it emits through
 * the global API only — a heartbeat span every 500 ms and a span per `model_call_ended` hook, each
 * with a counter increment. Every span says whether the globals were still its own when it was made.
 *
 * The OpenTelemetry packages come from `extensions/otel/node_modules` (createRequire), so the stand-in
 * and the process share one `@opentelemetry/api` global, as two real plugins would.
 */
import path from "node:path";
import type { GatewayPluginSpec } from "./gateway-config.js";
import { OTEL_DIR } from "./otel-plugin.js";
import { writePluginFixture } from "./plugin-fixtures.js";

/** The stand-in's plugin id. */
export const STANDIN_ID = "e2e-official-standin";
/** Its resource `service.name`. */
export const STANDIN_SERVICE = "official-standin";
/** The name of its tracer and meter. */
export const STANDIN_SCOPE = "official-standin";
/** Its counter (one per span it makes, by `standin.event`). */
export const STANDIN_COUNTER = "standin.events";

/** Writes the stand-in under `parentDir`, exporting to `endpoint` (the collector's base URL). */
export function writeOfficialStandin(input: { parentDir: string; endpoint: string }): GatewayPluginSpec {
  const preamble = `
import { createRequire } from "node:module";
const requireOtel = createRequire(${JSON.stringify(path.join(OTEL_DIR, "package.json"))});
const otel = requireOtel("@opentelemetry/api");
const { TracerProvider, SimpleSpanProcessor } = requireOtel("@opentelemetry/sdk-trace");
const { MeterProvider, PeriodicExportingMetricReader } = requireOtel("@opentelemetry/sdk-metrics");
const { resourceFromAttributes } = requireOtel("@opentelemetry/resources");
const { JsonTraceSerializer, JsonMetricsSerializer } = requireOtel("@opentelemetry/otlp-transformer");
const ENDPOINT = ${JSON.stringify(input.endpoint)};
// shared by the service instance and the discovery instances that run the hooks
const STATE = Symbol.for("e2e-official-standin.state");

function createJsonExporter(url, serializer) {
  return {
    export(items, done) {
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: serializer.serializeRequest(items) })
        .then(async (response) => {
          await response.arrayBuffer();
          done(response.ok ? { code: 0 } : { code: 1, error: new Error("HTTP " + response.status) });
        })
        .catch((error) => done({ code: 1, error }));
    },
    async forceFlush() {},
    async shutdown() {},
  };
}

function emit(name, attributes) {
  const state = globalThis[STATE];
  if (!state) return;
  // through the GLOBAL api only, as instrumented libraries and the official plugin do
  const intact =
    otel.trace.getTracerProvider().getDelegate() === state.tracerProvider &&
    otel.metrics.getMeterProvider() === state.meterProvider;
  const span = otel.trace.getTracer(${JSON.stringify(STANDIN_SCOPE)}).startSpan(name, {
    attributes: { ...attributes, "standin.globals_intact": intact },
  });
  span.end();
  state.counter ??= otel.metrics.getMeter(${JSON.stringify(STANDIN_SCOPE)}).createCounter(${JSON.stringify(STANDIN_COUNTER)});
  state.counter.add(1, { "standin.event": name });
}
`;
  const registerBody = `
    api.registerService({
      id: ${JSON.stringify(STANDIN_ID)},
      async start(ctx) {
        const resource = resourceFromAttributes({ "service.name": ${JSON.stringify(STANDIN_SERVICE)} });
        const tracerProvider = new TracerProvider({
          resource,
          spanProcessors: [
            new SimpleSpanProcessor({ exporter: createJsonExporter(ENDPOINT + "/v1/traces", JsonTraceSerializer) }),
          ],
        });
        const meterProvider = new MeterProvider({
          resource,
          readers: [
            new PeriodicExportingMetricReader({
              exporter: createJsonExporter(ENDPOINT + "/v1/metrics", JsonMetricsSerializer),
              exportIntervalMillis: 1000,
            }),
          ],
        });
        // the SDK reports export failures through the diag logger: make them visible in the gateway log
        const toLog = (level) => (...parts) => ctx.logger[level]("official-standin diag: " + parts.map(String).join(" "));
        otel.diag.setLogger({ error: toLog("error"), warn: toLog("warn"), info() {}, debug() {}, verbose() {} }, otel.DiagLogLevel.WARN);
        const state = { tracerProvider, meterProvider };
        globalThis[STATE] = state;
        state.tracerRegistered = otel.trace.setGlobalTracerProvider(tracerProvider);
        state.meterRegistered = otel.metrics.setGlobalMeterProvider(meterProvider);
        ctx.logger.info("official-standin: global providers registered: tracer " + state.tracerRegistered + ", meter " + state.meterRegistered);
        emit("standin.started", { "standin.tracer_registered": state.tracerRegistered, "standin.meter_registered": state.meterRegistered });
        state.timer = setInterval(() => emit("standin.heartbeat", {}), 500);
        state.timer.unref?.();
      },
      async stop() {
        const state = globalThis[STATE];
        if (!state) return;
        clearInterval(state.timer);
        await state.tracerProvider.shutdown();
        await state.meterProvider.shutdown();
      },
    });
    api.on("model_call_ended", (event) => {
      emit("standin.model_call", { "standin.outcome": String(event?.outcome ?? "unknown") });
    });
`;
  return writePluginFixture({ parentDir: input.parentDir, id: STANDIN_ID, preamble, registerBody });
}
