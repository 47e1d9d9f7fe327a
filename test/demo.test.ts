import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './helpers/wait';
import net from 'node:net';
import { freePort } from '../src/temporal/dev-server';
import { temporalCliPath } from '../src/temporal/binaries';
import { reviewAfterMs } from '../src/cli/demo';

// Every demo here uses the embedded store's fixed port (55432): they run one after the other, in this file.

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'bin/capa-sync.js');

/** Processes whose command line mentions the data folder: the dev server the demo started. */
const processesUsing = (dataDir: string) => {
  try {
    return execFileSync('pgrep', ['-f', dataDir]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

const processGroupOf = (pid: string) => execFileSync('ps', ['-o', 'pgid=', '-p', pid]).toString().trim();

/** A data folder and free ports for one demo. */
async function demoEnv(): Promise<NodeJS.ProcessEnv & { CAPA_DATA_DIR: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-demo-'));
  const [temporalPort, uiPort, vaultPort] = [await freePort(), await freePort(), await freePort()];
  return {
    ...process.env,
    CAPA_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
    VAULT_BASE_URL: `http://127.0.0.1:${vaultPort}`,
  };
}

/**
 * Demos still running, each in a process group of its own, like a terminal's foreground job (Ctrl-C goes to the
 * whole group), with their data folders. A test that fails before it stops its demo stops it after: a demo left
 * running holds the store's port, and every later demo would start on its store.
 */
const running = new Map<ChildProcess, string>();
const tracked = (child: ChildProcess, dataDir: string) => {
  running.set(child, dataDir);
  child.once('exit', () => running.delete(child));
  return child;
};
afterEach(() => Promise.all([...running].map(([child, dataDir]) => stopLeftover(child, dataDir))));

/** Ctrl-C, and a minute later SIGKILL to the demo's group and to the servers it started (they have groups of their own). */
async function stopLeftover(child: ChildProcess, dataDir: string): Promise<void> {
  if (await Promise.race([interrupt(child).then(() => true), sleep(60_000, false, { ref: false })])) return;
  const kill = (pid: number) => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  };
  kill(-child.pid!);
  for (const pid of processesUsing(dataDir)) kill(Number(pid));
}

/** Runs the demo of a checkout (this one by default) to its end, with what it printed. */
async function runDemoToExit(
  env: NodeJS.ProcessEnv,
  checkout = ROOT,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = tracked(
    spawn('node', [path.join(checkout, 'bin/capa-sync.js'), 'demo'], {
      cwd: checkout,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
    env.CAPA_DATA_DIR!,
  );
  let [stdout, stderr] = ['', ''];
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

async function runDemoUntilReady(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  const child = tracked(
    spawn('node', [CLI, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }),
    env.CAPA_DATA_DIR!,
  );
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

/**
 * Checks the sample batch's summary table: every row of the export written, unchanged or waiting (the rest are its 13
 * rejected and 3 superseded rows), and the 200 records under review waiting but those reviewers may have approved
 * since the vault's start (`vaultStartedAt` or later): on a slow machine a few are approved before the batch reads them,
 * and a resumed batch finds those written by their workflows.
 */
function expectSampleBatch(output: string, vaultStartedAt: number): void {
  expect(output).toMatch(/^waiting\s+\d+$/m);
  const rows = (outcome: string) => Number(new RegExp(`^${outcome}\\s+(\\d+)$`, 'm').exec(output)?.[1]);
  const since = Date.now() - vaultStartedAt;
  const notYetApproved = Array.from({ length: 200 }, (_, k) => reviewAfterMs(k)).filter((at) => at > since).length;
  const waiting = rows('waiting');
  expect(waiting).toBeGreaterThanOrEqual(notYetApproved);
  expect(waiting).toBeLessThanOrEqual(200);
  expect(rows('updated') + rows('unchanged') + waiting).toBe(2003 - 13 - 3);
}

/** Ctrl-C, once: a second would cut the demo's own orderly stop short. */
const interrupted = new WeakMap<ChildProcess, Promise<number | null>>();
function interrupt(child: ChildProcess): Promise<number | null> {
  if (!interrupted.has(child)) {
    interrupted.set(child, new Promise((resolve) => child.once('exit', (code) => resolve(code))));
    process.kill(-child.pid!, 'SIGINT');
  }
  return interrupted.get(child)!;
}

it('runs the main job, stops every process on Ctrl-C, and resumes on the same state', async () => {
  const env = await demoEnv();
  const dataDir = env.CAPA_DATA_DIR;
  const uiPort = new URL(env.TEMPORAL_UI_URL!).port;

  const vaultStartedAt = Date.now();
  const first = await runDemoUntilReady(env);
  expect(first.output()).toContain('new sample vault: 2000 CAPA records');
  expectSampleBatch(first.output(), vaultStartedAt);
  expect(first.output()).toContain(
    `http://localhost:${uiPort}/namespaces/default/workflows?query=CapaSyncState%3D%22waiting-for-unlock%22`,
  );
  expect(processesUsing(dataDir).length).toBeGreaterThan(0);
  const serverGroups = processesUsing(dataDir).map(processGroupOf);
  expect(await interrupt(first.child)).toBe(0);
  expect(processesUsing(dataDir)).toEqual([]);
  // Ctrl-C reached the demo alone: it stopped the dev server itself, after the worker.
  expect(serverGroups).not.toContain(String(first.child.pid));
  // The worker finished its tasks before the dev server stopped, and the store stopped after the worker and the
  // alert delivery: Ctrl-C reached neither the store nor them before the demo stopped them in order.
  expect(first.output()).not.toMatch(/Connection refused|tcp connect error/);
  const workerLog = fs.readFileSync(path.join(dataDir, 'worker.log'), 'utf8');
  expect(workerLog).not.toMatch(/database connection lost|alert outbox unreachable|did not stop cleanly/);
  expect(fs.existsSync(path.join(dataDir, 'simulator-state.json'))).toBe(true);

  const second = await runDemoUntilReady(env);
  expect(second.output()).toContain('resumed: 2000 CAPA records');
  // The records still locked get the second batch's values in their waiting workflows.
  expectSampleBatch(second.output(), vaultStartedAt);
  expect(await interrupt(second.child)).toBe(0);
  expect(processesUsing(dataDir)).toEqual([]);
}, 300_000);

describe('a start that fails stops what it started and says in one line what was in the way', () => {
  it('names the port the Vault simulator needs and who holds it', async () => {
    const env = await demoEnv();
    const holder = net.createServer().listen(Number(new URL(env.VAULT_BASE_URL!).port), '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    try {
      const run = await runDemoToExit(env);
      const port = new URL(env.VAULT_BASE_URL!).port;
      expect([run.code, run.stderr]).toEqual([
        1,
        expect.stringMatching(
          new RegExp(
            `^capa-sync: port ${port} \\(the Vault simulator\\) is in use by pid ${process.pid} \\(.*\\): stop it, or choose another port\n$`,
          ),
        ),
      ]);
      expect(processesUsing(env.CAPA_DATA_DIR)).toEqual([]); // the dev server it had started
    } finally {
      holder.close();
    }
  }, 120_000);

  it('says that the store did not start, and why', async () => {
    const env = await demoEnv();
    fs.chmodSync(env.CAPA_DATA_DIR, 0o755); // the data stays here, as root too
    fs.mkdirSync(path.join(env.CAPA_DATA_DIR, 'postgres'));
    fs.writeFileSync(path.join(env.CAPA_DATA_DIR, 'postgres', 'PG_VERSION'), '17\n'); // a data folder half gone
    const run = await runDemoToExit(env);
    expect([run.code, run.stderr]).toEqual([
      1,
      expect.stringMatching(
        /^capa-sync: the embedded PostgreSQL server on port 55432 did not start: PostgreSQL exited \(\d+\): postgres: could not access the server configuration file .*\n$/,
      ),
    ]);
    expect(processesUsing(env.CAPA_DATA_DIR)).toEqual([]);
  }, 120_000);

  it('stops everything on Ctrl-C while the sample batch runs, and says the batch goes on at the next start', async () => {
    // The approval gate holds the batch: Ctrl-C comes while the demo follows it, whatever the machine's speed.
    const env = { ...(await demoEnv()), CAPA_GATE_MAX_CHANGED_RECORDS: '0' };
    const child = tracked(
      spawn('node', [CLI, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }),
      env.CAPA_DATA_DIR,
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const log = path.join(env.CAPA_DATA_DIR, 'worker.log');
    const held = () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('batch held for approval');
    await waitFor('the batch held for approval', async () => held() || child.exitCode !== null, 120_000);
    const started = Date.now();
    expect([await interrupt(child), out]).toEqual([
      130,
      expect.stringMatching(/^Stopped before batch \S+ ended: it goes on when a worker runs again\.$/m),
    ]);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(processesUsing(env.CAPA_DATA_DIR)).toEqual([]);
  }, 300_000);

  it('still stops everything on Ctrl-C after its output pipe has closed (npm start | tee, tee gone first)', async () => {
    const env = await demoEnv();
    const demo = await runDemoUntilReady(env);
    demo.child.stdout!.destroy();
    expect(await interrupt(demo.child)).toBe(0);
    expect(processesUsing(env.CAPA_DATA_DIR)).toEqual([]);
  }, 300_000);
});

/**
 * root's home folder is 0700 in every container image: a clone there (node_modules included) must start, although
 * the user PostgreSQL runs as cannot enter it.
 */
(process.getuid?.() === 0 ? it : it.skip)(
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
    const env = { ...(await demoEnv()), CAPA_DEMO_EXIT_AFTER_BATCH: '1', CAPA_DATA_DIR: path.join(clone, '.data') };
    const vaultStartedAt = Date.now();
    const { code, stdout, stderr } = await runDemoToExit({ ...env, TEMPORAL_CLI_PATH: temporalCliPath() }, clone);
    const out = stdout + stderr;
    try {
      expect([code, out]).toEqual([0, expect.stringContaining('Ctrl-C stops everything')]);
      expectSampleBatch(out, vaultStartedAt);
      expect(out).not.toMatch(/EACCES|\n\s+at /);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  },
  240_000,
);
