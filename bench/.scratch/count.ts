import { assembleCapturedTurns } from "@clawscope/testing";
import { toMetricRecordings } from "../../extensions/otel/src/mapping/to-metric-recordings.ts";
import { METRIC_DEFINITIONS } from "../../extensions/otel/src/mapping/metric-names.ts";
const kinds = new Map(METRIC_DEFINITIONS.map((d) => [d.name, d.kind]));
for (const turn of assembleCapturedTurns("e2e-http-2turns")) {
  const recs = toMetricRecordings(turn as never) as { name: string }[];
  const by = new Map<string, number>();
  for (const r of recs) by.set(`${kinds.get(r.name)} ${r.name}`, (by.get(`${kinds.get(r.name)} ${r.name}`) ?? 0) + 1);
  console.log(recs.length, [...by].map(([k, v]) => `${v} ${k}`).join("; "));
}
