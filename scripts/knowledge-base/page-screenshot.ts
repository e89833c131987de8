/**
 * Takes the README's screenshot of the knowledge base's HTML issue page
 * (`docs/images/kb-issue.png`) from the page a real gateway served in `tests/e2e/kb-turns.test.ts`
 * (`.cache/e2e-artifacts/kb-issue.html`), in headless Chromium, offline.
 *
 * Usage: `tsx scripts/knowledge-base/page-screenshot.ts [--html FILE] [--chromium PATH] [--out DIR]`
 * (Chromium from Debian: `apt-get install -y --no-install-recommends chromium`).
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      html: { type: "string", default: path.join(root, ".cache", "e2e-artifacts", "kb-issue.html") },
      chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
      out: { type: "string", default: path.join(root, "docs", "images") },
    },
  });
  const html = values.html as string;
  if (!existsSync(html)) throw new Error(`no page at ${html}: run tests/e2e/kb-turns.test.ts first`);
  const chromiumPath = values.chromium as string;
  if (!existsSync(chromiumPath))
    throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y --no-install-recommends chromium`);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 780, height: 700 }, deviceScaleFactor: 1 });
    // the page must render offline: refuse every request it might make
    await page.route("**/*", (route) => route.abort());
    await page.setContent(readFileSync(html, "utf8"), { waitUntil: "load" });
    const out = values.out as string;
    mkdirSync(out, { recursive: true });
    const file = path.join(out, "kb-issue.png");
    await page.screenshot({ path: file, fullPage: true });
    console.log(`${path.relative(root, file)} (${Math.round(statSync(file).size / 1024)} KiB) from ${html}`);
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(String(error instanceof Error ? error.message : error));
  process.exitCode = 1;
});
