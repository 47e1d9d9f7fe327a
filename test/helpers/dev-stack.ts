import { TestWorkflowEnvironment } from '@temporalio/testing';
import { VaultSimulator } from '../../src/simulator/server';
import { sampleRecords } from '../../src/simulator/seed';
import { startDevServer } from './temporal';
import { startSimulator } from './vault';
import { testWorker } from './record-env';
import { takeTurn } from './turns';

export interface DevStack {
  env: TestWorkflowEnvironment;
  sim: VaultSimulator;
  ctx: Awaited<ReturnType<typeof testWorker>>;
  stop(): Promise<void>;
}

type StackOptions = {
  records: number;
  lockedFraction: number;
  taskQueue: string;
  settings?: Record<string, string>;
  uiPort?: number;
  dialect?: 'documented' | 'customer';
  /** The states the simulated vault locks (default: those capa-sync's dialects know). */
  lockedStates?: string[];
  /** A stack for a thousand records waiting or more: it takes turns with the others (see turns.ts). */
  takesTurns?: boolean;
  /** The control queue's worker alone: record workflows stay queued, as behind a backlog of their first steps. */
  controlOnly?: boolean;
};

/**
 * The end-to-end setup: a real dev server (with its Web UI where uiPort is given), a simulator seeded with sample
 * CAPAs, and a running worker.
 */
export async function startDevStack(o: StackOptions): Promise<DevStack> {
  if (!o.takesTurns) return startStack(o);
  const giveBack = await takeTurn();
  const stack = await startStack(o).catch((err) => {
    giveBack();
    throw err;
  });
  return { ...stack, stop: () => stack.stop().finally(giveBack) };
}

async function startStack(o: StackOptions): Promise<DevStack> {
  const env = await startDevServer(o.uiPort);
  const sim = await startSimulator({
    dialect: o.dialect,
    ...(o.lockedStates ? { lockedStates: o.lockedStates } : {}),
  }).catch(async (err) => {
    await env.teardown();
    throw err;
  });
  sim.store.seed(sampleRecords({ count: o.records, lockedFraction: o.lockedFraction }));
  // A setup that fails stops what it had started: a dev server left behind outlives the test run.
  const ctx = await testWorker(env, sim, o.taskQueue, { settings: o.settings }).catch(async (err) => {
    await sim.stop();
    await env.teardown();
    throw err;
  });
  const worker = o.controlOnly ? ctx.worker.control : ctx.worker;
  const running = worker.run();
  return {
    env,
    sim,
    ctx,
    async stop() {
      worker.shutdown();
      await running;
      // A worker releases its connection once it has run: the teardown below waits for that.
      if (o.controlOnly) await ctx.worker.main.runUntil(Promise.resolve());
      await ctx.delivery?.stop();
      await sim.stop();
      await env.teardown();
    },
  };
}

/**
 * The environment of a `capa-sync worker` process that joins the stack (its Temporal, simulator, store and data
 * folder) on a task queue, with the settings given.
 */
export const workerEnvOf = (stack: DevStack, taskQueue: string, settings: Record<string, string> = {}) => ({
  ...settings,
  TEMPORAL_ADDRESS: stack.env.address,
  TEMPORAL_TASK_QUEUE: taskQueue,
  VAULT_BASE_URL: stack.sim.baseUrl,
  CAPA_DATA_DIR: stack.ctx.config.dataDir,
  CAPA_DATABASE_URL: stack.ctx.config.databaseUrl,
});
