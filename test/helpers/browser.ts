import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

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
