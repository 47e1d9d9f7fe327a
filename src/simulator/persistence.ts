import fs from 'node:fs';
import type { VaultSimulator } from './server';
import type { SimRecord } from './store';

/** Saves the simulator's records, so a demo stopped with Ctrl-C resumes on the same vault. */
export function saveSimulator(sim: VaultSimulator, file: string): void {
  fs.writeFileSync(file, JSON.stringify({ records: [...sim.store.records.values()], audit: sim.store.audit }));
}

export function loadSimulator(sim: VaultSimulator, file: string): boolean {
  if (!fs.existsSync(file)) return false;
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    records: SimRecord[];
    audit: VaultSimulator['store']['audit'];
  };
  sim.store.seed(saved.records);
  sim.store.audit.push(...saved.audit);
  return true;
}
