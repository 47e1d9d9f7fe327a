import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBatch } from '../src/operations';
import { sampleRecordId } from '../src/simulator/seed';
import {
  busyCpu,
  exportFile,
  Harness,
  LOCKED,
  MeasuredProcess,
  metric,
  startRate,
  terminateAll,
  vaultCalls,
} from './harness';

export interface PollingFigures {
  waiting: number;
  tickSeconds: number;
  /** Vault calls, workflow tasks and sticky-cache misses per tick, with the machine idle and then busy. */
  idle: TickCost;
  busy: TickCost;
  rssMb: number;
  /** Record workflows started by the batch's hand-offs, per second. */
  startsPerSecond: number;
}

interface TickCost {
  calls: number;
  workflowTasks: number;
}

/** Seconds between ticks for W waiting records: time for one 2-core worker to wake them all (300: the default). */
export const tickSecondsFor = (waiting: number) => (waiting <= 500 ? 20 : waiting <= 5_000 ? 30 : 300);

/**
 * W records waiting on one capa-sync worker process (records from `first` on, apart from the large batches'):
 * what a tick costs, idle and with another process spinning a core, and the worker's memory.
 */
export async function pollingCost(
  h: Harness,
  waiting: number,
  ticks: number,
  { first, last }: { first: number; last: boolean },
): Promise<PollingFigures> {
  const tickSeconds = tickSecondsFor(waiting);
  const taskQueue = `bench-waiting-${waiting}`;
  const metricsPort = await freePort();
  const worker = MeasuredProcess.capaWorker(h, taskQueue, {
    CAPA_TICK_SECONDS: String(tickSeconds),
    METRICS_PORT: String(metricsPort),
  });
  try {
    const ids = Array.from({ length: waiting }, (_, i) => sampleRecordId(first + i));
    for (const id of ids) h.sim.store.records.get(id)!.state__v = LOCKED;
    const config = { ...h.config, temporal: { ...h.config.temporal, taskQueue } };
    const file = exportFile(first, first + waiting, waiting);
    await (await startBatch(h.env.client, config, { source: file, batchId: taskQueue })).result();
    const startsPerSecond = await startRate(
      h.env.client,
      `TaskQueue = '${taskQueue}' AND WorkflowType = 'capaRecordWorkflow'`,
    );
    // The first aligned tick sets the count the next ones wait for; measuring starts after it.
    await untilTick(tickSeconds, 0.5);
    const measure = async (): Promise<TickCost> => {
      const calls = vaultCalls(h.sim).reads;
      const tasks = await metric(metricsPort, 'temporal_workflow_task_execution_latency_count');
      await sleep(ticks * tickSeconds * 1000);
      return {
        calls: (vaultCalls(h.sim).reads - calls) / ticks,
        workflowTasks: ((await metric(metricsPort, 'temporal_workflow_task_execution_latency_count')) - tasks) / ticks,
      };
    };
    const idle = await measure();
    const rssMb = worker.rssMb();
    const spinner = busyCpu();
    const busy = await measure().finally(() => spinner.stop());
    return { waiting, tickSeconds, idle, busy, rssMb, startsPerSecond };
  } finally {
    await worker.stop();
    // The next run starts with none waiting; after the last, the bench tears the dev server down (terminating
    // 50,000 workflows took it 13 minutes).
    if (!last) await terminateAll(h, `TaskQueue = '${taskQueue}'`);
  }
}

/** Sleeps until `fraction` of the way into the next tick. */
async function untilTick(tickSeconds: number, fraction: number): Promise<void> {
  const ms = tickSeconds * 1000;
  await sleep((Math.floor(Date.now() / ms) + 1 + fraction) * ms - Date.now());
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
