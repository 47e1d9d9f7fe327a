import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { WORKER_ENV, WORKER_NODE_ARGS } from '../../src/temporal/worker-memory';
import { waitFor } from './wait';

export const CLI = path.join(__dirname, '../../bin/capa-sync.js');

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker printed so far (JSON log lines). */
  log(): string;
}

/** `capa-sync worker` as its own process with its memory settings (as `npm run worker` runs it), once it has started. */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  let log = '';
  const child = spawn('node', [...WORKER_NODE_ARGS, CLI, 'worker'], {
    env: { ...process.env, ...WORKER_ENV, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  await waitFor('the worker to start', async () => log.includes('worker started') || child.exitCode !== null, 120_000);
  if (child.exitCode !== null) throw new Error(`the worker exited: ${log}`);
  return { child, log: () => log };
}

/** Stops a worker process with `signal` unless it has ended already (by itself or by a signal), once it has exited. */
export async function stopWorkerProcess(worker: WorkerProcess, signal: NodeJS.Signals): Promise<void> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  worker.child.kill(signal);
  await once(worker.child, 'exit');
}
