/**
 * A PNG of an HTML page in headless Chromium, offline (every request the page makes is refused, so
 * it must render from its own markup), for the READMEs' screenshots.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

/** Renders `html` at `width` × `height` (the full page is taken) into `file`; returns its size in KiB. */
export async function screenshotOffline(options: {
  chromiumPath: string;
  html: string;
  file: string;
  width: number;
  height: number;
}): Promise<number> {
  if (!existsSync(options.chromiumPath))
    throw new Error(
      `no Chromium at ${options.chromiumPath}: apt-get install -y --no-install-recommends chromium`,
    );
  const browser = await chromium.launch({
    executablePath: options.chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({
      viewport: { width: options.width, height: options.height },
      deviceScaleFactor: 1,
    });
    await page.route("**/*", (route) => route.abort());
    await page.setContent(options.html, { waitUntil: "load" });
    mkdirSync(path.dirname(options.file), { recursive: true });
    await page.screenshot({ path: options.file, fullPage: true });
    return Math.round(statSync(options.file).size / 1024);
  } finally {
    await browser.close();
  }
}
