import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { processes, readProc } from './proc';

/** Core-seconds each part of the machine spent over a run: which part bounds it, where the cores are all busy. */
export interface CpuSplit {
  worker: number;
  temporal: number;
  /** PostgreSQL's backends serving the Temporal server (its history and visibility databases). */
  temporalDb: number;
  /** Those serving capa-sync's store, and the rest of PostgreSQL (its own processes, ended backends). */
  storeDb: number;
  /** This process: the bench and the Vault simulator. */
  bench: number;
  /** Every process, and the core-seconds the run had (its time times the cores). */
  busy: number;
  available: number;
}

type Part = keyof Omit<CpuSplit, 'busy' | 'available'>;
interface Sample {
  at: number;
  parts: Record<Part, number>;
  busy: number;
}

let clockTicks: number | undefined;
const ticksPerSecond = () => (clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })));

/** A process's own CPU ticks and those of its children it has reaped (PostgreSQL's ended backends). */
function ticks(pid: string): number {
  const stat = readProc(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
}

function partOf({ pid, command }: { pid: string; command: string }, workerPid: number): Part | undefined {
  if (pid === String(workerPid)) return 'worker';
  if (pid === String(process.pid)) return 'bench';
  // A backend's title names its user and database: "postgres: temporal temporal_visibility 127.0.0.1(...) idle".
  if (command.startsWith('postgres: ')) return command.split(' ')[2]?.startsWith('temporal') ? 'temporalDb' : 'storeDb';
  if (/(^|\/)postgres\b/.test(command)) return 'storeDb';
  if (command.includes('temporal-server') || command.includes('start-dev')) return 'temporal';
  return undefined;
}

export function sampleCpu(workerPid: number): Sample {
  const parts: Record<Part, number> = { worker: 0, temporal: 0, temporalDb: 0, storeDb: 0, bench: 0 };
  for (const p of processes()) {
    const part = partOf(p, workerPid);
    if (part) parts[part] += ticks(p.pid);
  }
  // The machine's first line: user nice system idle iowait irq softirq steal.
  const [user, nice, system, , , irq, softirq, steal] = readProc('/proc/stat')
    .split('\n')[0]
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { at: Date.now(), parts, busy: user + nice + system + irq + softirq + steal };
}

export function cpuSince(before: Sample, workerPid: number): CpuSplit {
  const after = sampleCpu(workerPid);
  const seconds = (part: Part) => (after.parts[part] - before.parts[part]) / ticksPerSecond();
  return {
    worker: seconds('worker'),
    temporal: seconds('temporal'),
    temporalDb: seconds('temporalDb'),
    storeDb: seconds('storeDb'),
    bench: seconds('bench'),
    busy: (after.busy - before.busy) / ticksPerSecond(),
    available: ((after.at - before.at) / 1000) * os.availableParallelism(),
  };
}
