/**
 * Takes the README's screenshot of the knowledge base's HTML issue page
 * (`docs/images/kb-issue.png`) from the page a real gateway served in `tests/e2e/kb-turns.test.ts`
 * (`.cache/e2e-artifacts/kb-issue.html`), in headless Chromium, offline.
 *
 * Usage: `tsx scripts/knowledge-base/page-screenshot.ts [--html FILE] [--chromium PATH] [--out DIR]`
 * (Chromium from Debian: `apt-get install -y --no-install-recommends chromium`).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { screenshotOffline } from "../offline-screenshot.js";

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
  const file = path.join(values.out as string, "kb-issue.png");
  const size = await screenshotOffline({
    chromiumPath: values.chromium as string,
    html: readFileSync(html, "utf8"),
    file,
    width: 780,
    height: 700,
  });
  console.log(`${path.relative(root, file)} (${size} KiB) from ${html}`);
}

main().catch((error: unknown) => {
  console.error(String(error instanceof Error ? error.message : error));
  process.exitCode = 1;
});
