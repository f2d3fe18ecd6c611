import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (npm cannot ship a browser here); .ci/run installs it. */
const chromiumPath = '/usr/bin/chromium';

/** Where the browser tests write the screenshots the README shows. */
export const screenshots = fileURLToPath(new URL('../console/screenshots/', import.meta.url));

/** The `skip` of a browser test: why it cannot run here, or false. */
export const chromiumSkip = existsSync(chromiumPath) ? false : 'Chromium is not installed (apt-get install chromium; .ci/run does it)';

export async function launchChromium(): Promise<Browser> {
  await mkdir(screenshots, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
