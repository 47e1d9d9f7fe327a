import { sampleRecordId } from '../src/simulator/seed';
import { DOCUMENTED_DIALECT, isLockedState } from '../src/vault/dialect';
import { rowValues, simulatorClient } from './simulator-client';

// The plain script, in a process of its own: the same minimal calls as capa-sync's batch (state reads of 1,000,
// updates of 500), one after the other, with no record of what it could not write. Prints its time and peak RSS.
async function main() {
  const [baseUrl, n, round] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
  const client = simulatorClient(baseUrl, 'bench-plain', 1);
  const ids = Array.from({ length: n }, (_, i) => sampleRecordId(i));
  const start = Date.now();
  const states = await client.readStates('capa__c', ids, ['priority__c', 'risk_score__c', 'due_date__c']);
  const rows = states
    .filter((s) => !isLockedState(DOCUMENTED_DIALECT, s.state))
    .map((s) => Number(s.id.slice(3)) - 1)
    .map((i) => ({ id: sampleRecordId(i), values: rowValues(i, round) }));
  await client.bulkUpdate('capa__c', rows);
  console.log(JSON.stringify({ ms: Date.now() - start, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
