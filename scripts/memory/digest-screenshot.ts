/**
 * A screenshot of the consolidation's HTML digest in headless Chromium, for the README
 * (`docs/images/memory-digest.png`). With `--html FILE`, of a digest a real gateway served
 * (`GET /api/consolidation/<date>?format=html`; the fleet end-to-end test writes the one its gateways
 * consolidated to `.cache/e2e-artifacts/`, the demo writes its own to `.demo/`). Without it, of a
 * synthetic day built by the extension's own code from rollups of a steady week and a day with a
 * cost spike driven by one model, rendered by `toHtml` exactly as that route serves it.
 *
 * Usage: `tsx scripts/memory/digest-screenshot.ts [--html FILE] [--chromium PATH] [--out DIR]`
 * (Chromium from Debian: `apt-get install -y --no-install-recommends chromium`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { toConsolidation } from "../../extensions/memory-consolidation/src/domain/consolidation.js";
import {
  createWindowFold,
  foldRollup,
  type WindowFold,
} from "../../extensions/memory-consolidation/src/domain/day-fold.js";
import { makeRollup } from "../../extensions/memory-consolidation/src/domain/rollup-fixture.js";
import { toHtml } from "../../extensions/memory-consolidation/src/mapping/to-html.js";
import { screenshotOffline } from "../offline-screenshot.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A day of traffic shaped like a working day: quiet at night, busy by day, a little noise. */
function workingDay(start: number): WindowFold {
  const fold = createWindowFold();
  for (let hour = 0; hour < 24; hour += 1) {
    const busy = hour >= 8 && hour <= 19 ? 3 : 1;
    const noise = ((hour * 7 + start / DAY) % 5) / 10;
    const turns = Math.round(40 * busy * (1 + noise / 5));
    foldRollup(
      fold,
      makeRollup("gw-eu-1", start + hour * HOUR, "gpt-4.1-mini", { turns, costUsd: turns * 0.004 }),
    );
    foldRollup(
      fold,
      makeRollup("gw-eu-1", start + hour * HOUR + 60_000, "claude-sonnet-4", {
        turns: Math.round(turns / 4),
        costUsd: turns * 0.006,
        failed: hour % 6 === 0 ? 2 : 0,
      }),
    );
  }
  return fold;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
      out: { type: "string", default: path.join(root, "docs", "images") },
      html: { type: "string" },
    },
  });
  const day0 = Date.UTC(2026, 10, 20);
  const day = workingDay(day0);
  // 15:00: an agent loops on the expensive model
  foldRollup(day, makeRollup("gw-eu-1", day0 + 15 * HOUR + 120_000, "o3-pro", { turns: 30, costUsd: 18 }));
  const record = toConsolidation({
    scope: "fleet",
    date: "2026-11-20",
    timeZone: "UTC",
    from: day0,
    to: day0 + DAY,
    createdAt: day0 + DAY + HOUR,
    day,
    previousDay: workingDay(day0 - DAY),
    baselineDays: Array.from({ length: 7 }, (_, index) => workingDay(day0 - (index + 1) * DAY)),
    budget: { dailyUsd: 25, monthlyUsd: 600 },
    month: { toDateUsd: 480, dayOfMonth: 20, daysInMonth: 30 },
  });
  const file = path.join(values.out as string, "memory-digest.png");
  const size = await screenshotOffline({
    chromiumPath: values.chromium as string,
    html: values.html ? readFileSync(values.html, "utf8") : toHtml(record),
    file,
    width: 780,
    height: 900,
  });
  console.log(
    `${path.relative(root, file)} (${size} KiB): ${values.html ? `from ${values.html}` : record.summary}`,
  );
}

main().catch((error: unknown) => {
  console.error(String(error instanceof Error ? error.message : error));
  process.exitCode = 1;
});
