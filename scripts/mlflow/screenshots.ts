/**
 * `pnpm demo:screenshots`: the README's MLflow images, taken by headless Chromium (Debian
 * `chromium`) from the MLflow UI after the demo:
 * - `docs/images/mlflow-run.png`: the demo's run, "Model metrics" tab, with its metric charts;
 * - `docs/images/mlflow-traces.png`: the experiment's Traces tab with the tool-call turn's trace
 *   open on its span tree (AGENT → CHAT_MODEL, TOOL, CHAT_MODEL).
 *
 *   tsx scripts/mlflow/screenshots.ts                       # MLflow on the demo's store (.demo/mlflow)
 *   tsx scripts/mlflow/screenshots.ts --tracking-uri URL    # a running MLflow (e.g. pnpm demo --keep-mlflow)
 *
 * Options: `--experiment NAME` (default "openclaw"), `--out DIR` (default docs/images),
 * `--chromium PATH` (default /usr/bin/chromium, or CHROMIUM_PATH).
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { type MlflowServer, startMlflowServer } from "@clawscope/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import { DEMO_EXPERIMENT_NAME, DEMO_MLFLOW_ENV } from "./demo-mlflow.js";
import {
  findExperimentId,
  findLatestRun,
  type MlflowRunSummary,
  type MlflowSpanSummary,
  readSpans,
  searchTraces,
  toRunPageUrl,
  toTracesPageUrl,
} from "./mlflow-readback.js";

const root = path.resolve(import.meta.dirname, "../..");
const demoStore = path.join(root, ".demo", "mlflow");
/** The README's images: small, and readable at GitHub's column width. */
const VIEWPORT = { width: 1280, height: 800 };
/** How long the UI may take to render a page (the first load compiles and fetches the app). */
const RENDER_TIMEOUT_MS = 60_000;
/**
 * Headless Chromium in a closed network: no background requests (component updates, sync, field
 * trials) whose failures would stall or crash it. Playwright adds a fresh --user-data-dir itself.
 */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/**
 * What the UI would otherwise open over the page on a first visit: the assistant panel and the
 * "Detect issues" guidance. Keys as MLflow 3.17 stores them in localStorage.
 */
const QUIET_UI_STORAGE: Record<string, string> = {
  "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
  "mlflow.assistant.panelOpen_v1": "false",
  "mlflow.detectIssues.guidanceShown_v1": "true",
};

const { values: options } = parseArgs({
  options: {
    "tracking-uri": { type: "string" },
    experiment: { type: "string", default: DEMO_EXPERIMENT_NAME },
    out: { type: "string", default: path.join(root, "docs", "images") },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
  },
});

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const relative = (file: string) => path.relative(process.cwd(), file) || ".";

/** The trace to open: the newest one whose spans include a TOOL, else the newest. */
async function pickTrace(trackingUri: string, experimentId: string) {
  const traces = await searchTraces(trackingUri, experimentId);
  if (traces.length === 0) throw new Error(`experiment ${experimentId} has no traces`);
  for (const trace of traces) {
    const spans = await readSpans(trackingUri, trace.traceId);
    if (spans.some((span) => span.type === "TOOL"))
      return { traceId: trace.traceId, spans, count: traces.length };
  }
  const newest = traces[0]!;
  console.log("  no trace has a TOOL span: opening the newest trace");
  return {
    traceId: newest.traceId,
    spans: await readSpans(trackingUri, newest.traceId),
    count: traces.length,
  };
}

/** Run page, "Model metrics" tab: waits until the first charts have drawn their points. */
async function shootRunPage(page: Page, trackingUri: string, run: MlflowRunSummary, file: string) {
  await page.goto(`${toRunPageUrl(trackingUri, run.experimentId, run.runId)}/model-metrics`);
  await page.getByText(run.runName).first().waitFor({ timeout: RENDER_TIMEOUT_MS });
  // charts render lazily, the ones in view first: wait for those in the first row to show points
  const charts = Math.min(3, Object.keys(run.latestMetrics).length);
  await page.waitForFunction(
    (wanted) => {
      const cards = document.querySelectorAll('[data-testid="experiment-view-compare-runs-card"]');
      const drawn = Array.from(cards).filter((card) =>
        card.querySelector(".js-plotly-plot .scatterlayer .point"),
      );
      return drawn.length >= wanted;
    },
    charts,
    { timeout: RENDER_TIMEOUT_MS },
  );
  await settle(page);
  await page.screenshot({ path: file });
}

/** Traces tab, then the chosen trace opened: waits for every span of its tree by name. */
async function shootTracesPage(
  page: Page,
  trackingUri: string,
  experimentId: string,
  trace: { traceId: string; spans: MlflowSpanSummary[]; count: number },
  file: string,
) {
  await page.goto(toTracesPageUrl(trackingUri, experimentId));
  // the table's footer reads "<shown> of <total>" once the traces are listed
  await page
    .getByText(new RegExp(`^\\d+ of ${trace.count}$`))
    .first()
    .waitFor({ timeout: RENDER_TIMEOUT_MS });
  // the URL a click on the trace's row gives: it opens the trace beside the list
  await page.goto(toTracesPageUrl(trackingUri, experimentId, trace.traceId));
  await page.getByText("Spans", { exact: true }).first().waitFor({ timeout: RENDER_TIMEOUT_MS });
  for (const span of trace.spans) {
    await page.getByText(span.name, { exact: true }).first().waitFor({ timeout: RENDER_TIMEOUT_MS });
  }
  // the selected (root) span's inputs, in the pane beside the tree
  await page
    .getByTestId("model-trace-explorer-input-section-toggle")
    .first()
    .waitFor({ timeout: RENDER_TIMEOUT_MS });
  await settle(page);
  await page.screenshot({ path: file });
}

/** Web fonts loaded and the charts' and drawer's transitions over. */
async function settle(page: Page) {
  await page.evaluate(async () => {
    await document.fonts.ready;
  });
  await page.waitForTimeout(750);
}

async function main(): Promise<void> {
  let server: MlflowServer | undefined;
  let trackingUri = options["tracking-uri"]?.replace(/\/+$/, "");
  if (!trackingUri) {
    if (!existsSync(path.join(demoStore, "mlflow.db"))) {
      throw new Error(
        `no MLflow store in ${relative(demoStore)}: run \`pnpm demo\` first, or pass --tracking-uri`,
      );
    }
    server = await startMlflowServer({
      dir: demoStore,
      startTimeoutMs: 120_000,
      env: { ...DEMO_MLFLOW_ENV },
    });
    trackingUri = server.trackingUri;
    console.log(
      `  MLflow on ${trackingUri} (pid ${server.pid}) over ${relative(demoStore)}, ready after ${elapsed()}`,
    );
  }
  let browser: Browser | undefined;
  try {
    const experimentId = await findExperimentId(trackingUri, options.experiment);
    if (!experimentId) throw new Error(`MLflow at ${trackingUri} has no experiment "${options.experiment}"`);
    const run = await findLatestRun(trackingUri, experimentId);
    if (!run) throw new Error(`experiment "${options.experiment}" has no run`);
    const trace = await pickTrace(trackingUri, experimentId);
    console.log(
      `  run "${run.runName}" (${run.status}, ${Object.keys(run.latestMetrics).length} metric keys); ` +
        `trace ${trace.traceId}: ${trace.spans.map((span) => `${span.name} [${span.type}]`).join(", ")}`,
    );

    if (!existsSync(options.chromium))
      throw new Error(
        `no Chromium at ${options.chromium}: apt-get install -y --no-install-recommends chromium (or pass --chromium PATH)`,
      );
    browser = await chromium.launch({ executablePath: options.chromium, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    await context.addInitScript((entries) => {
      for (const [key, value] of Object.entries(entries)) window.localStorage.setItem(key, value);
    }, QUIET_UI_STORAGE);
    const page = await context.newPage();
    mkdirSync(options.out, { recursive: true });

    const runFile = path.join(options.out, "mlflow-run.png");
    await shootRunPage(page, trackingUri, run, runFile);
    console.log(`  ${relative(runFile)} (${kilobytes(runFile)}) after ${elapsed()}`);
    const tracesFile = path.join(options.out, "mlflow-traces.png");
    await shootTracesPage(page, trackingUri, experimentId, trace, tracesFile);
    console.log(`  ${relative(tracesFile)} (${kilobytes(tracesFile)}) after ${elapsed()}`);
  } finally {
    await browser?.close();
    await server?.stop();
  }
}

function kilobytes(file: string): string {
  return `${Math.round(statSync(file).size / 1024)} KB`;
}

console.log("clawscope MLflow screenshots: headless Chromium on the MLflow UI");
try {
  await main();
  console.log(`done in ${elapsed()}`);
  process.exit(0);
} catch (error) {
  console.error(`screenshots failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
