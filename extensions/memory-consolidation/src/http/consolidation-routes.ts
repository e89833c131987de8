/**
 * `/api/consolidation/…` on the gateway port (gateway auth):
 * - `GET /api/consolidation/latest` and `GET /api/consolidation/<YYYY-MM-DD>`, with `?format=json|markdown|html`
 *   (default json) or `html` (the digest page, charts inline) and `?scope=fleet|<gateway id>` (default fleet);
 * - `POST /api/consolidation/run` with an optional `{ "date": "YYYY-MM-DD" }` (default: yesterday):
 *   consolidates that day now, replacing what was there.
 * A bad parameter answers 400 with one line naming it.
 */
import type { PackHttpRequest, PackHttpResponse } from "@clawscope/kit";
import type { Consolidator } from "../consolidator.js";
import type { Consolidation } from "../domain/consolidation.js";
import { toHtml } from "../mapping/to-html.js";
import { toMarkdown } from "../mapping/to-markdown.js";
import { type ConsolidationRepository, FLEET } from "../store/consolidation-repository.js";

export const CONSOLIDATION_ROUTE = "/api/consolidation";

export async function answerConsolidation(
  request: PackHttpRequest,
  repository: ConsolidationRepository,
  consolidator: Consolidator,
  now: () => number,
): Promise<PackHttpResponse> {
  const rest = request.path.slice(CONSOLIDATION_ROUTE.length).replace(/^\/+|\/+$/g, "");
  if (rest === "run") {
    if (request.method !== "POST") return bad(405, "method not allowed: POST /api/consolidation/run");
    let body = request.body;
    // a JSON body sent without its content type arrives as text
    if (typeof body === "string" && body.trim() !== "") {
      try {
        body = JSON.parse(body);
      } catch {
        return bad(400, 'the body must be JSON: { "date": "YYYY-MM-DD" }');
      }
    }
    const asked =
      body !== undefined && body !== null && typeof body === "object"
        ? (body as { date?: unknown }).date
        : undefined;
    if (asked !== undefined && typeof asked !== "string")
      return bad(400, 'parameter "date" must be a YYYY-MM-DD string');
    const date = asked ?? consolidator.dayOf(consolidator.dayOf(now()).from - 1).date;
    const day = consolidator.dayNamed(date);
    if (!day)
      return bad(400, `parameter "date" is not a day: ${JSON.stringify(date).slice(0, 40)} (use YYYY-MM-DD)`);
    if (day.to > now()) return bad(400, `parameter "date": ${date} has not ended yet`);
    const record = await consolidator.run(date);
    if (!record)
      return { status: 409, json: { error: `another gateway is consolidating ${date}; try again shortly` } };
    return { status: 200, json: { date, summary: record.summary, anomalies: record.anomalies.length } };
  }
  if (request.method !== "GET") return bad(405, "method not allowed: use GET");
  const format = request.query.get("format") ?? "json";
  if (format !== "json" && format !== "markdown" && format !== "html")
    return bad(
      400,
      `parameter "format" must be json, markdown or html, not ${JSON.stringify(format).slice(0, 40)}`,
    );
  const scope = request.query.get("scope") ?? FLEET;
  if (scope.length === 0 || scope.length > 300)
    return bad(400, 'parameter "scope" must be "fleet" or a gateway id');
  let record: Consolidation | undefined;
  if (rest === "latest") record = await repository.latest(scope);
  else if (consolidator.dayNamed(rest)) record = await repository.get(scope, rest);
  else
    return bad(
      400,
      `the path names no day: ${JSON.stringify(rest).slice(0, 40)} (use /latest or /YYYY-MM-DD)`,
    );
  if (!record) return { status: 404, json: { error: `no consolidation for ${rest} (scope ${scope})` } };
  if (format === "html")
    return { status: 200, text: toHtml(record), contentType: "text/html; charset=utf-8" };
  if (format === "markdown")
    return { status: 200, text: toMarkdown(record), contentType: "text/markdown; charset=utf-8" };
  return { status: 200, json: record };
}

function bad(status: number, error: string): PackHttpResponse {
  return { status, json: { error } };
}
