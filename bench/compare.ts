import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startBatch } from '../src/cli/operations';
import { onTaskQueue } from '../test/helpers/config';
import { sampleRecordId } from '../src/simulator/seed';
import {
  exportFile,
  executions,
  Harness,
  lastWrites,
  LOCKED,
  MeasuredProcess,
  onQueues,
  terminateAll,
  UNLOCKED,
  vaultCalls,
} from './harness';
import { rowValues } from './simulator-client';
import { waitFor } from '../test/helpers/wait';
import { workflowResult } from '../src/temporal/workflow-result';

/** One design's figures for one run of n rows, 10% of them locked. */
export interface DesignFigures {
  reads: number;
  updates: number;
  executions: number;
  events: number;
  peakRssMb: number;
  /** From the start until Vault holds every unlocked row's values. */
  unlockedMs: number;
  /** From the moment the locked records are unlocked until Vault holds their values; undefined: never written. */
  lockedMs?: number;
}

export const DESIGNS = ['naive', 'capa-sync', 'plain'] as const;
export type Design = (typeof DESIGNS)[number];

const TICK_SECONDS = 10;
const WAIT_MS = 30 * 60_000;

interface Round {
  h: Harness;
  n: number;
  round: number;
  taskQueue: string;
  locked: string[];
  unlocked: string[];
}

/** Runs the designs one after the other on records [0, n), at the simulator's latency. */
export async function compareDesigns(
  h: Harness,
  n: number,
  latencyMs: number,
  firstRound: number,
  designs: readonly Design[] = DESIGNS,
) {
  h.sim.setFaults({ latencyMs });
  const naiveBundle = designs.includes('naive') ? await naiveWorkflowBundle() : '';
  const figures: Partial<Record<Design, DesignFigures>> = {};
  for (const [k, design] of designs.entries()) {
    const ids = Array.from({ length: n }, (_, i) => sampleRecordId(i));
    ids.forEach((id, i) => (h.sim.store.records.get(id)!.state__v = i % 10 === 0 ? LOCKED : UNLOCKED));
    const round = {
      h,
      n,
      round: firstRound + k,
      taskQueue: `bench-${design}-${latencyMs}ms`,
      locked: ids.filter((_, i) => i % 10 === 0),
      unlocked: ids.filter((_, i) => i % 10 !== 0),
    };
    const before = vaultCalls(h.sim);
    const run =
      design === 'naive' ? runNaive(round, naiveBundle) : design === 'capa-sync' ? runCapaSync(round) : runPlain(round);
    const { unlockedMs, lockedMs, peakRssMb } = await run;
    const after = vaultCalls(h.sim);
    const { count, events } = await executions(h.client, round.taskQueue);
    figures[design] = {
      reads: after.reads - before.reads,
      updates: after.updates - before.updates,
      executions: count,
      events,
      peakRssMb,
      unlockedMs,
      lockedMs,
    };
    console.log(`  ${design} at ${latencyMs} ms: ${JSON.stringify(figures[design])}`);
  }
  h.sim.setFaults({ latencyMs: 0 });
  return figures;
}

/** Waits until Vault holds a write of each id made after `fromSeq`; the time of the last of them. */
async function written(r: Round, ids: string[], fromSeq: number): Promise<number> {
  const wanted = new Set(ids);
  let last = new Map<string, number>();
  await waitFor(
    `${ids.length} writes`,
    async () => (last = lastWrites(r.h.sim, fromSeq, wanted)).size === wanted.size,
    WAIT_MS,
  );
  return Math.max(...last.values());
}

/** Unlocks the round's locked records once every workflow waits on them; how long until all are written. */
async function unlockAndWait(r: Round): Promise<number> {
  const fromSeq = r.h.sim.store.audit.length;
  const unlockedAt = Date.now();
  for (const id of r.locked) r.h.sim.store.records.get(id)!.state__v = UNLOCKED;
  return (await written(r, r.locked, fromSeq)) - unlockedAt;
}

/**
 * A design's run on its worker process: `start` starts the work; then the time until Vault holds the unlocked
 * rows, the unlock and the time until it holds the locked ones, and the worker's peak RSS once every workflow ended.
 */
async function onWorker(r: Round, worker: MeasuredProcess, start: () => Promise<unknown>) {
  try {
    const fromSeq = r.h.sim.store.audit.length;
    const startedAt = Date.now();
    await start();
    const unlockedMs = (await written(r, r.unlocked, fromSeq)) - startedAt;
    const lockedMs = await unlockAndWait(r);
    // Every record workflow of the round (the lock watcher, on the control queue, runs while the object has a worker).
    const running = `TaskQueue = '${r.taskQueue}' AND ExecutionStatus = 'Running'`;
    const { workflow } = r.h.client;
    await waitFor('the workflows to finish', async () => (await workflow.count(running)).count === 0, WAIT_MS);
    return { unlockedMs, lockedMs, peakRssMb: worker.peakRssMb() };
  } finally {
    await worker.stop();
    await terminateAll(r.h, onQueues(r.taskQueue));
  }
}

function runCapaSync(r: Round) {
  const worker = MeasuredProcess.capaWorker(r.h, r.taskQueue, { CAPA_TICK_SECONDS: String(TICK_SECONDS) });
  const config = onTaskQueue(r.h.config, r.taskQueue);
  const source = exportFile(0, r.n, r.round);
  return onWorker(r, worker, async () => {
    await workflowResult(await startBatch(r.h.client, config, { source, batchId: `bench-${r.taskQueue}` }));
  });
}

/** The naive worker runs as the SDK sets it up, with the same heap limit: none of capa-sync's tuning. */
function runNaive(r: Round, bundle: string) {
  const worker = new MeasuredProcess(['--max-old-space-size=256', 'dist/bench/naive/worker.js', bundle], {
    ...r.h.temporalEnv,
    TEMPORAL_TASK_QUEUE: r.taskQueue,
    VAULT_BASE_URL: r.h.sim.baseUrl,
  });
  // A workflow per input row, started as a script would: 20 at a time.
  let next = 0;
  const starter = async () => {
    for (let i = next++; i < r.n; i = next++)
      await r.h.client.workflow.start('naiveRecordWorkflow', {
        taskQueue: r.taskQueue,
        workflowId: `naive-${r.round}-${sampleRecordId(i)}`,
        args: [{ recordId: sampleRecordId(i), values: rowValues(i, r.round), tickMs: TICK_SECONDS * 1000 }],
      });
  };
  return onWorker(r, worker, () => Promise.all(Array.from({ length: 20 }, starter)));
}

async function runPlain(r: Round) {
  const script = new MeasuredProcess(
    ['dist/bench/plain-script.js', r.h.sim.baseUrl, String(r.n), String(r.round)],
    {},
    'pipe',
  );
  let out = '';
  script.child.stdout?.on('data', (chunk) => (out += chunk));
  if ((await script.done()) !== 0) throw new Error('bench: the plain script failed');
  const { ms, peakRssMb } = JSON.parse(out) as { ms: number; peakRssMb: number };
  return { unlockedMs: ms, lockedMs: undefined, peakRssMb };
}

async function naiveWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./naive/workflow'),
    logger: quietBundler,
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-bench-naive-')), 'bundle.js');
  fs.writeFileSync(file, code);
  return file;
}

const quietBundler = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
