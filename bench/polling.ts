import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBatch } from '../src/cli/operations';
import { onTaskQueue } from '../test/helpers/config';
import { approvalTrace, type ApprovalTrace } from './approval-trace';
import { sampleRecordId } from '../src/simulator/seed';
import {
  lastWrites,
  UNLOCKED,
  busyCpu,
  exportFile,
  Harness,
  LOCKED,
  MeasuredProcess,
  metric,
  startRate,
  onQueues,
  terminateAll,
  vaultCalls,
} from './harness';
import { workflowResult } from '../src/temporal/workflow-result';

export interface PollingFigures {
  waiting: number;
  workers: number;
  tickSeconds: number;
  /** Vault calls and workflow tasks per tick, and the longest tick's own time, with the machine idle and then busy. */
  idle: TickCost;
  busy: TickCost;
  rssMb: number;
  /** The Temporal dev server's memory with them waiting. */
  serverRssMb: number;
  /** Record workflows started by the batch's hand-offs, per second. */
  startsPerSecond: number;
  /** From the batch's end until the workers' workflow tasks go quiet: the record workflows' first steps done. */
  firstStepsSeconds: number;
  /**
   * Reviewers approve `approved` records at once: the bulk updates that wrote them, and the time from the unlock to
   * the first record's write and to the last's; each update's records, and when it went out (s after the unlock).
   */
  approvals: Array<{
    approved: number;
    updates: number;
    firstSeconds: number;
    seconds: number;
    sent: Array<{ records: number; atSeconds: number }>;
    trace: ApprovalTrace;
  }>;
}

interface TickCost {
  calls: number;
  workflowTasks: number;
  /** The longest tick's own time (from its moment to the watcher's note that it is done), and ticks that ran. */
  tickMs: number;
  ticks: number;
}

/**
 * Waits until the workers' workflow tasks go quiet, 10 or fewer (a watcher's tick runs 2) between one pause's start and
 * its end; returns when that quiet pause began.
 */
async function quietAfter(tasks: () => Promise<number>, pause: () => Promise<void>): Promise<number> {
  for (let before = await tasks(); ;) {
    const pausedAt = Date.now();
    await pause();
    const now = await tasks();
    if (now - before <= 10) return pausedAt;
    before = now;
  }
}

/** Seconds between ticks for W waiting records: what the watcher's listing takes on a dev server, and more. */
export const tickSecondsFor = (waiting: number) => (waiting <= 5_000 ? 20 : 300);

/**
 * W records waiting on `workers` capa-sync worker processes (records from `first` on, apart from the large
 * batches'): what a tick costs, idle and with another process spinning a core, the first worker's memory, and a
 * mass approval's writes.
 */
export async function pollingCost(
  h: Harness,
  waiting: number,
  ticks: number,
  { first, last, workers, approve }: { first: number; last: boolean; workers: number; approve: number[] },
): Promise<PollingFigures> {
  const tickSeconds = tickSecondsFor(waiting);
  const taskQueue = `bench-waiting-${waiting}-${workers}`;
  const ports = await Promise.all(Array.from({ length: workers }, freePort));
  const processes = ports.map((port) =>
    MeasuredProcess.capaWorker(h, taskQueue, {
      CAPA_TICK_SECONDS: String(tickSeconds),
      METRICS_PORT: String(port),
      CAPA_GATE_MAX_ONE_VALUE_PERCENT: '100',
    }),
  );
  const tasks = async () =>
    (await Promise.all(ports.map((p) => metric(p, 'temporal_workflow_task_execution_latency_count')))).reduce(
      (a, b) => a + b,
    );
  try {
    const ids = Array.from({ length: waiting }, (_, i) => sampleRecordId(first + i));
    for (const id of ids) h.sim.store.records.get(id)!.state__v = LOCKED;
    const config = onTaskQueue(h.config, taskQueue);
    // Another priority for each run: a record a run's mass approval wrote is written again by the next.
    const file = exportFile(first, first + waiting, waiting + workers);
    await workflowResult(await startBatch(h.client, config, { source: file, batchId: taskQueue }));
    const batchDone = Date.now();
    const firstStepsDone = await quietAfter(tasks, () => sleep(10_000));
    const firstStepsSeconds = Math.max(0, firstStepsDone - batchDone) / 1000;
    const startsPerSecond = await startRate(
      h.client,
      `TaskQueue = '${taskQueue}' AND WorkflowType = 'capaRecordWorkflow'`,
    );
    // Measuring starts once the watcher has listed every waiting record and their first steps are done (a tick
    // with no more workflow tasks than the watcher's own).
    for (;;) {
      const seen = await h.store.watchers.last(config.vault.object);
      if (seen?.waiting === waiting && seen.told === 0) break;
      await sleep(1_000);
    }
    await quietAfter(tasks, () => untilTick(tickSeconds, 0.5));
    const measure = async (): Promise<TickCost> => {
      const calls = vaultCalls(h.sim).reads;
      const before = await tasks();
      const ticked = await tickTimes(h, config.vault.object, tickSeconds, ticks * tickSeconds * 1000);
      return {
        calls: (vaultCalls(h.sim).reads - calls) / ticks,
        workflowTasks: ((await tasks()) - before) / ticks,
        tickMs: Math.max(0, ...ticked),
        ticks: ticked.length,
      };
    };
    const idle = await measure();
    const rssMb = processes[0].rssMb();
    const serverRssMb = h.serverRssMb();
    const spinner = busyCpu();
    const busy = await measure().finally(() => spinner.stop());
    const approvals = [];
    for (let from = 0, i = 0; i < approve.length && from + approve[i] <= waiting; from += approve[i++])
      approvals.push(await massApproval(h, config.vault.object, ids.slice(from, from + approve[i])));
    const started = { startsPerSecond, firstStepsSeconds };
    return { waiting, workers, tickSeconds, idle, busy, rssMb, serverRssMb, ...started, approvals };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    // The next run starts with none waiting; after the last, the bench tears the dev server down (terminating
    // 50,000 workflows took it 13 minutes).
    if (!last) await terminateAll(h, onQueues(taskQueue));
  }
}

/** Reviewers approve these records at once: the bulk updates until every one holds the batch's values. */
async function massApproval(h: Harness, object: string, ids: string[]) {
  const updates = vaultCalls(h.sim).updates;
  const sizes = h.sim.updateRequestSizes;
  const seq = h.sim.store.audit.length;
  const started = Date.now();
  const sinceStart = () => (Date.now() - started) / 1000;
  for (const id of ids) h.sim.store.records.get(id)!.state__v = UNLOCKED;
  const wanted = new Set(ids);
  let firstSeconds: number | undefined;
  const sent: Array<{ records: number; atSeconds: number }> = [];
  for (let written = 0, seen = sizes.length; written < ids.length; await sleep(100)) {
    for (; seen < sizes.length; seen++) sent.push({ records: sizes[seen], atSeconds: sinceStart() });
    written = lastWrites(h.sim, seq, wanted).size;
    if (written && firstSeconds === undefined) firstSeconds = sinceStart();
  }
  const seconds = sinceStart();
  return {
    approved: ids.length,
    updates: vaultCalls(h.sim).updates - updates,
    firstSeconds: firstSeconds ?? seconds,
    seconds,
    sent,
    trace: await approvalTrace(h.client, object, ids, started),
  };
}

/**
 * Watches the object's watcher for `ms`: each tick's own time, from its moment on the wall clock (ticks are aligned
 * to it) to the store's note that it is done.
 */
async function tickTimes(h: Harness, object: string, tickSeconds: number, ms: number): Promise<number[]> {
  const seen = new Set<string>();
  const times: number[] = [];
  for (const end = Date.now() + ms; Date.now() < end; await sleep(500)) {
    const tickedAt = (await h.store.watchers.last(object))?.tickedAt;
    if (!tickedAt || seen.has(tickedAt)) continue;
    seen.add(tickedAt);
    const at = Date.parse(tickedAt);
    times.push(at - Math.floor(at / (tickSeconds * 1000)) * tickSeconds * 1000);
  }
  return times.slice(1); // the first was noted before the measure began
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
