import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/dev-server';
import { temporalCliPath } from '../src/temporal-binaries';

const ROOT = path.resolve(__dirname, '..');
const asRoot = process.getuid?.() === 0;

/**
 * root's home folder is 0700 in every container image: a clone there (node_modules included) must start, although
 * the user PostgreSQL runs as cannot enter it.
 */
(asRoot ? it : it.skip)(
  'runs the main job as root from a clone inside a folder closed to other users',
  async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-home-'));
    fs.chmodSync(home, 0o700);
    const clone = path.join(home, 'capa-sync');
    fs.mkdirSync(clone);
    // Hard links: a full copy of the checkout (its node_modules too) in a second, under the closed folder.
    for (const entry of ['bin', 'src', 'examples', 'node_modules', 'package.json', 'tsconfig.json']) {
      execFileSync('cp', ['-al', path.join(ROOT, entry), path.join(clone, entry)]);
    }
    const [temporalPort, uiPort, vaultPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn('node', [path.join(clone, 'bin/capa-sync.js'), 'demo'], {
      cwd: clone,
      env: {
        ...process.env,
        CAPA_DEMO_EXIT_AFTER_BATCH: '1',
        CAPA_DATA_DIR: path.join(clone, '.data'),
        TEMPORAL_CLI_PATH: temporalCliPath(),
        TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
        TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
        VAULT_BASE_URL: `http://127.0.0.1:${vaultPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    try {
      expect([code, out]).toEqual([0, expect.stringMatching(/waiting\s+200/)]);
      expect(out).not.toMatch(/EACCES|\n\s+at /);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  },
  240_000,
);
