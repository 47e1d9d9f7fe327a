import fs from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { waitFor } from './wait';

// Debian's Chromium, installed by scripts/setup-browser.sh (npm test runs it); CHROMIUM_PATH names another one.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Headless as root on a machine without internet: no sandbox, no background calls home.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: run scripts/setup-browser.sh`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Reloads the page until it shows the text: the UI lists what visibility has indexed, a moment after the fact. */
export async function waitForText(page: Page, url: string, text: string): Promise<void> {
  await waitFor(`"${text}" in the Web UI at ${url}`, async () => {
    await page.goto(url);
    return page
      .getByText(text, { exact: true })
      .first()
      .waitFor({ timeout: 5_000 })
      .then(
        () => true,
        () => false,
      );
  });
}
