/**
 * The benchmark, on the real dev server, simulator and PostgreSQL, each design's worker in a process of its own:
 *  1. capa-sync beside the naive design (a workflow per row) and a plain script, at each latency;
 *  2. a large batch, and one ten times smaller, for memory, history size and growth;
 *  3. the polling cost of W waiting records, idle and with a core busy.
 * `npm run bench` (about 100 minutes on 2 cores); `npm run bench -- --quick` (about 10 minutes). Options: --latency-ms 0,50,
 * --records 1000000 (the large batch), --waiting 500,5000,50000, --approve 500,5000 (mass approvals, while
 * enough records wait), --workers 1,2 (worker processes for the waiting records; by default two as well where the
 * server holds them), --only compare,polling,scale, --cluster (on the cluster suite's Temporal server and PostgreSQL).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { ApprovalTrace } from './approval-trace';
import { compareDesigns, Design, DesignFigures, DESIGNS } from './compare';
import { startHarness } from './harness';
import { pollingCost, PollingFigures } from './polling';
import { SETTINGS } from '../src/config';
import { scaleRun, ScaleFigures } from './scale';

function option(name: string, fallback: string): number[] {
  const at = process.argv.indexOf(`--${name}`);
  return (at >= 0 ? process.argv[at + 1] : fallback).split(',').map(Number);
}
const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : undefined;
const runs = (section: string) => !only || only.includes(section);
const latencies = option('latency-ms', '0,50');
const [compareRows] = option('compare-rows', quick ? '2000' : '5000');
/** The designs to compare (naive starts a workflow per row: too many for 100,000 rows on one machine). */
const designs = (
  process.argv.includes('--designs') ? process.argv[process.argv.indexOf('--designs') + 1].split(',') : DESIGNS
) as Design[];
const waitingCounts = option('waiting', quick ? '500' : '500,5000,50000');
const [largeRows] = option('records', quick ? '20000' : '1000000');
const approvals = option('approve', '500,5000');
const workerCounts = process.argv.includes('--workers') ? option('workers', '1') : undefined;
/** On the cluster suite's topology (Temporal 1.28 on PostgreSQL, built from its Go module) instead of the dev server. */
const cluster = process.argv.includes('--cluster');

async function main() {
  const started = new Date();
  // Waiting records come after the large batches' records, whose record workflows are left waiting.
  if (cluster) execFileSync('bash', ['scripts/setup-temporal-server.sh'], { stdio: 'inherit' });
  const h = await startHarness(Math.max(compareRows, largeRows + Math.max(...waitingCounts)), { cluster });
  const comparisons: Array<[number, Partial<Record<Design, DesignFigures>>]> = [];
  const polling: PollingFigures[] = [];
  const scale: ScaleFigures[] = [];
  try {
    if (runs('compare'))
      for (const [i, latencyMs] of latencies.entries()) {
        console.log(`\n1. ${compareRows} rows, 10% locked, at ${latencyMs} ms a Vault call`);
        comparisons.push([latencyMs, await compareDesigns(h, compareRows, latencyMs, i * DESIGNS.length, designs)]);
      }
    if (runs('scale'))
      for (const rows of [largeRows / 10, largeRows]) {
        console.log(`\n2. a batch of ${rows} rows, 5% locked`);
        scale.push(await scaleRun(h, rows));
        console.log(`  ${JSON.stringify(scale.at(-1))}`);
      }
    if (runs('polling')) {
      // Two workers where the server's workflows fit them (the cluster's hold more than the dev server's); the
      // largest counts on one worker, as their target asks.
      const twoWorkersUpTo = cluster ? 20_000 : 5_000;
      const runsOf = waitingCounts.flatMap((w) =>
        (workerCounts ?? (w <= twoWorkersUpTo ? [1, 2] : [1])).map((workers) => ({ w, workers })),
      );
      for (const [i, { w, workers }] of runsOf.entries()) {
        console.log(`\n3. ${w} records waiting, ${workers} worker${workers > 1 ? 's' : ''}`);
        const last = i === runsOf.length - 1;
        const run = { first: largeRows, last, workers, approve: approvals };
        polling.push(await pollingCost(h, w, w > 5_000 ? 1 : 2, run));
        console.log(`  ${JSON.stringify(polling.at(-1))}`);
      }
    }
  } finally {
    await h.stop();
  }
  console.log(
    `\ncapa-sync bench, ${started.toISOString().slice(0, 10)}, ${cluster ? 'the cluster (Temporal 1.28 on PostgreSQL)' : 'the dev server'}, ${os.cpus().length} cores, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}: npm run bench -- ${process.argv.slice(2).join(' ')}`,
  );
  for (const [latencyMs, f] of comparisons) printComparison(latencyMs, f);
  if (scale.length) printScale(scale);
  if (polling.length) printPolling(polling);
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(a / b < 10 ? 2 : 0)}x` : '-';
const table = (rows: string[][]) => rows.forEach((r) => console.log(`| ${r.join(' | ')} |`));

function printComparison(latencyMs: number, f: Partial<Record<Design, DesignFigures>>) {
  const shown = DESIGNS.filter((d) => f[d]);
  const s = (ms?: number) => (ms === undefined ? 'not written' : `${(ms / 1000).toFixed(1)} s`);
  const ratios = (get: (d: DesignFigures) => number | undefined) => [
    ...(f.naive && f['capa-sync'] ? [ratio(get(f.naive), get(f['capa-sync']))] : []),
    ...(f['capa-sync'] && f.plain ? [ratio(get(f['capa-sync']), get(f.plain))] : []),
  ];
  const heads = [
    ...(f.naive && f['capa-sync'] ? ['naive / capa-sync'] : []),
    ...(f['capa-sync'] && f.plain ? ['capa-sync / plain'] : []),
  ];
  const names: Record<Design, string> = {
    naive: 'naive (workflow per row)',
    'capa-sync': 'capa-sync',
    plain: 'plain script',
  };
  console.log(`\n${compareRows} rows, 10% locked, ${latencyMs} ms a Vault call:\n`);
  table([
    ['', ...shown.map((d) => names[d]), ...heads],
    Array(1 + shown.length + heads.length).fill('---'),
    ...(
      [
        ['Vault reads', (d: DesignFigures) => d.reads, String],
        ['Vault updates', (d: DesignFigures) => d.updates, String],
        ['Vault calls', (d: DesignFigures) => d.reads + d.updates, String],
        ['workflow executions', (d: DesignFigures) => d.executions, String],
        ['history events', (d: DesignFigures) => d.events, String],
        ['worker peak RSS (MB)', (d: DesignFigures) => d.peakRssMb, String],
        ['unlocked rows written', (d: DesignFigures) => d.unlockedMs, s],
        ['locked rows written after unlock', (d: DesignFigures) => d.lockedMs, s],
      ] as const
    ).map(([label, get, show]) => [label, ...shown.map((d) => show(get(f[d]!))), ...ratios(get)]),
  ]);
}

function printPolling(figures: PollingFigures[]) {
  console.log('\nWaiting records, per tick (idle / with a core busy):\n');
  table([
    [
      'waiting',
      'workers',
      'tick',
      'Vault queries',
      'target',
      'workflow tasks',
      "a tick's own time",
      'target',
      'worker RSS',
      cluster ? 'Temporal server RSS' : 'dev server RSS',
      'record starts/s',
      'first steps done',
    ],
    ['---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---'],
    ...figures.map((p) => [
      String(p.waiting),
      String(p.workers),
      `${p.tickSeconds} s`,
      `${p.idle.calls.toFixed(1)} / ${p.busy.calls.toFixed(1)}`,
      String(Math.ceil(p.waiting / 1000) + 1),
      `${Math.round(p.idle.workflowTasks)} / ${Math.round(p.busy.workflowTasks)}`,
      `${(p.idle.tickMs / 1000).toFixed(1)} s / ${(p.busy.tickMs / 1000).toFixed(1)} s`,
      `under ${p.tickSeconds} s`,
      `${p.rssMb} MB`,
      `${p.serverRssMb} MB`,
      p.startsPerSecond.toFixed(0),
      `${p.firstStepsSeconds.toFixed(0)} s after the batch`,
    ]),
  ]);
  console.log('\nMass approvals: reviewers approve U waiting records at once:\n');
  table([
    ['waiting', 'workers', 'approved at once', 'bulk updates', 'target', 'unlock to write (first / last)', 'bound'],
    ['---', '---', '---', '---', '---', '---', '---'],
    ...figures.flatMap((p) =>
      p.approvals.map((a) => [
        String(p.waiting),
        String(p.workers),
        String(a.approved),
        String(a.updates),
        String(Math.ceil(a.approved / 500) + 1),
        `${a.firstSeconds.toFixed(0)} s / ${a.seconds.toFixed(0)} s`,
        `${p.tickSeconds + Number(SETTINGS.VAULT_GROUP_HOLD_MS.default) / 1000} s (a tick + the group hold)`,
      ]),
    ),
  ]);
  // What splits a mass approval into more updates than its target: each update's records, and when it went out.
  for (const p of figures)
    for (const a of p.approvals)
      console.log(
        `\n${a.approved} approved (${p.waiting} waiting, ${p.workers} workers), records per update @ s after the unlock: ` +
          a.sent.map((u) => `${u.records} @ ${u.atSeconds.toFixed(1)}`).join(', ') +
          `\n  s after the unlock (first / median / 90% / last): ${traceLine(a.trace)}`,
      );
}

function traceLine(t: ApprovalTrace): string {
  const steps = {
    told: t.told,
    'task started': t.taskStarted,
    'write scheduled': t.scheduled,
    'write started': t.started,
    answered: t.answered,
  };
  return Object.entries(steps)
    .map(([step, s]) => `${step} ${s.join(' / ')}`)
    .concat(
      `${t.retried} retried`,
      `workflow tasks lost: ${
        Object.entries(t.tasksLost)
          .map(([kind, n]) => `${n} ${kind}`)
          .join(', ') || 'none'
      }`,
    )
    .join('; ');
}

function printScale(figures: ScaleFigures[]) {
  console.log('\nOne batch, 5% locked:\n');
  table([
    ['rows', 'time', 'rows/s', 'worker peak RSS', 'largest run history', 'record workflows', 'record starts/s'],
    ['---', '---', '---', '---', '---', '---', '---'],
    ...figures.map((f) => [
      String(f.rows),
      `${f.seconds.toFixed(1)} s`,
      (f.rows / f.seconds).toFixed(0),
      `${f.peakRssMb} MB`,
      `${f.largestHistory} events`,
      String(f.recordWorkflows),
      f.startsPerSecond.toFixed(0),
    ]),
  ]);
  console.log('\nWhere the time went: core-seconds during the batch, and each activity type summed (pages overlap):\n');
  const types = [...new Set(figures.flatMap((f) => Object.keys(f.activitySeconds)))];
  const cores = (n: number) => `${n.toFixed(0)} s`;
  table([
    [
      'rows',
      'worker',
      'Temporal server',
      "Temporal's PostgreSQL",
      "the store's PostgreSQL",
      'bench + simulator',
      'machine busy / available',
      ...types,
    ],
    ['---', '---', '---', '---', '---', '---', '---', ...types.map(() => '---')],
    ...figures.map(({ rows, cpu, activitySeconds }) => [
      String(rows),
      ...[cpu.worker, cpu.temporal, cpu.temporalDb, cpu.storeDb, cpu.bench].map(cores),
      `${cores(cpu.busy)} / ${cores(cpu.available)}`,
      ...types.map((t) => cores(activitySeconds[t] ?? 0)),
    ]),
  ]);
  if (figures.length === 2) {
    const [small, large] = figures;
    const growth = (a: number, b: number) => `${(b / a).toFixed(2)}x`;
    console.log(`\nTime for 10x the rows: ${growth(small.seconds, large.seconds)} (linear: 10x; target at most 11x)`);
    console.log(
      `Growth, 10x the rows: worker ${growth(small.cpu.worker, large.cpu.worker)}, Temporal server ` +
        `${growth(small.cpu.temporal, large.cpu.temporal)}, its PostgreSQL ` +
        `${growth(small.cpu.temporalDb, large.cpu.temporalDb)}, the store's ${growth(small.cpu.storeDb, large.cpu.storeDb)}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
