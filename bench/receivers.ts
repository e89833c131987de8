/**
 * The backends of the cost benchmark, in a process of their own so their work is not counted in the
 * gateway's CPU: an OTLP/HTTP receiver (the Collector's place), an MLflow tracking-server stand-in
 * (the REST calls the mlflow extension makes, and its OTLP trace endpoint), and a Langfuse stand-in
 * (OTLP traces and the ingestion endpoint). Each answers at once, as a healthy backend on the same
 * host would, and counts what it got — turns by trace id, scores by id — so the benchmark can check
 * that every turn arrived before it reports a cost.
 *
 * Started with `fork`; says `{ ports }` when listening; answers `"counts"` with the tallies and
 * `"reset"` by clearing them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { decodeOtlpRequest, otlpSignalFromPath } from "@clawscope/testing";

interface Tally {
  requests: Record<string, number>;
  traceIds: Set<string>;
  spans: number;
  logRecords: number;
  metricPoints: number;
  scores: Set<string>;
  bytes: number;
  errors: string[];
}

const newTally = (): Tally => ({
  requests: {},
  traceIds: new Set(),
  spans: 0,
  logRecords: 0,
  metricPoints: 0,
  scores: new Set(),
  bytes: 0,
  errors: [],
});

const tallies: Record<string, Tally> = { otel: newTally(), mlflow: newTally(), langfuse: newTally() };

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

function countOtlp(tally: Tally, path: string, body: Buffer, contentType: string | undefined): void {
  const signal = otlpSignalFromPath(path);
  if (!signal) return;
  const decoded = decodeOtlpRequest(signal, body, contentType);
  if (decoded.signal === "traces") {
    tally.spans += decoded.spans.length;
    for (const span of decoded.spans) if (!span.parentSpanId) tally.traceIds.add(span.traceId);
  } else if (decoded.signal === "logs") tally.logRecords += decoded.logs.length;
  else tally.metricPoints += decoded.metrics.reduce((sum, metric) => sum + metric.dataPoints.length, 0);
}

/** The answers of an MLflow tracking server, for the calls the extension makes. */
function mlflowAnswer(path: string, json: Record<string, unknown>): unknown {
  if (path.endsWith("/experiments/get-by-name"))
    return { experiment: { experiment_id: "1", name: "bench", lifecycle_stage: "active" } };
  if (path.endsWith("/experiments/create")) return { experiment_id: "1" };
  if (path.endsWith("/runs/create"))
    return {
      run: {
        info: {
          run_id: "bench-run",
          run_uuid: "bench-run",
          experiment_id: "1",
          status: "RUNNING",
          lifecycle_stage: "active",
          start_time: Date.now(),
        },
        data: { tags: json.tags ?? [] },
      },
    };
  if (path.endsWith("/runs/search")) return { runs: [] };
  return {};
}

function handler(name: keyof typeof tallies) {
  return async (request: IncomingMessage, response: ServerResponse) => {
    const tally = tallies[name] as Tally;
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    tally.requests[path] = (tally.requests[path] ?? 0) + 1;
    try {
      const body = await readBody(request);
      tally.bytes += body.length;
      const contentType = request.headers["content-type"];
      if (otlpSignalFromPath(path)) {
        countOtlp(tally, path, body, contentType);
        return answer(response, 200, {});
      }
      const json = body.length > 0 && /json/.test(contentType ?? "") ? JSON.parse(body.toString("utf8")) : {};
      if (name === "mlflow") return answer(response, 200, mlflowAnswer(path, json));
      if (name === "langfuse" && path.endsWith("/api/public/ingestion")) {
        const batch = Array.isArray(json.batch)
          ? (json.batch as { id?: string; body?: { id?: string } }[])
          : [];
        for (const event of batch) if (event.body?.id) tally.scores.add(event.body.id);
        return answer(response, 207, {
          successes: batch.map((event) => ({ id: event.id, status: 201 })),
          errors: [],
        });
      }
      if (name === "langfuse" && path.endsWith("/api/public/scores")) {
        if (typeof json.id === "string") tally.scores.add(json.id);
        return answer(response, 200, { id: json.id });
      }
      return answer(response, 200, {});
    } catch (error) {
      tally.errors.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      return answer(response, 200, {});
    }
  };
}

async function listen(name: keyof typeof tallies): Promise<number> {
  const server = createServer((request, response) => void handler(name)(request, response));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const ports = {
  otel: await listen("otel"),
  mlflow: await listen("mlflow"),
  langfuse: await listen("langfuse"),
};

process.on("message", (message) => {
  if (message === "reset") {
    for (const key of Object.keys(tallies)) tallies[key] = newTally();
    process.send?.({ reset: true });
  } else if (message === "counts") {
    const counts = Object.fromEntries(
      Object.entries(tallies).map(([name, tally]) => [
        name,
        {
          requests: tally.requests,
          turns: tally.traceIds.size,
          spans: tally.spans,
          logRecords: tally.logRecords,
          metricPoints: tally.metricPoints,
          scores: tally.scores.size,
          bytes: tally.bytes,
          errors: tally.errors.slice(0, 5),
        },
      ]),
    );
    process.send?.({ counts });
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ports });
