import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './helpers/wait';
import { freePort } from '../src/dev-server';

const CLI = path.join(__dirname, '../bin/capa-sync.js');

/** Processes whose command line mentions the data folder: the dev server the demo started. */
const processesUsing = (dataDir: string) => {
  try {
    return execFileSync('pgrep', ['-f', dataDir]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

const processGroupOf = (pid: string) => execFileSync('ps', ['-o', 'pgid=', '-p', pid]).toString().trim();

async function runDemoUntilReady(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  // A process group of its own, like a terminal's foreground job: Ctrl-C goes to the whole group.
  const child = spawn('node', [CLI, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(
    'the demo summary',
    async () => out.includes('Ctrl-C stops everything') || child.exitCode !== null,
    120_000,
  );
  expect([child.exitCode, out]).toEqual([null, expect.stringContaining('Ctrl-C stops everything')]);
  return { child, output: () => out };
}

async function interrupt(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.kill(-child.pid!, 'SIGINT');
  return exited;
}

it('runs the main job, stops every process on Ctrl-C, and resumes on the same state', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-demo-'));
  const [temporalPort, uiPort, vaultPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    CAPA_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
    VAULT_BASE_URL: `http://127.0.0.1:${vaultPort}`,
  };

  const first = await runDemoUntilReady(env);
  expect(first.output()).toContain('new sample vault: 2000 CAPA records');
  expect(first.output()).toMatch(/waiting\s+200/);
  expect(first.output()).toContain(
    `http://localhost:${uiPort}/namespaces/default/workflows?query=CapaSyncState%3D%22waiting-for-unlock%22`,
  );
  expect(processesUsing(dataDir).length).toBeGreaterThan(0);
  const serverGroups = processesUsing(dataDir).map(processGroupOf);
  expect(await interrupt(first.child)).toBe(0);
  expect(processesUsing(dataDir)).toEqual([]);
  // Ctrl-C reached the demo alone: it stopped the dev server itself, after the worker.
  expect(serverGroups).not.toContain(String(first.child.pid));
  // The worker finished its tasks before the dev server stopped.
  expect(first.output()).not.toMatch(/Connection refused|tcp connect error/);
  expect(fs.existsSync(path.join(dataDir, 'simulator-state.json'))).toBe(true);

  const second = await runDemoUntilReady(env);
  expect(second.output()).toContain('resumed: 2000 CAPA records');
  // The records still waiting from the first run get the second batch's values: no new workflow for them.
  expect(second.output()).toMatch(/waiting\s+200/);
  expect(await interrupt(second.child)).toBe(0);
  expect(processesUsing(dataDir)).toEqual([]);
}, 300_000);
