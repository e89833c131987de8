/** The instrumentation scope every span, log record and metric of this extension carries. */
export const OTLP_SCOPE_NAME = "clawscope-otel";
