import { runChaos } from '../bench/chaos';

// A short round of `npm run chaos`: overlapping nights, Vault faults on about one call in seven, a worker SIGKILL,
// a dev-server restart, a database restart and reviewers (some editing by hand). Every count of what capa-sync lost track of is 0.
it('loses track of nothing under faults, a worker kill, a server restart and overlapping batches', async () => {
  const lines: string[] = [];
  const result = await runChaos({
    records: 1000,
    seed: 11,
    kills: 1,
    restarts: 1,
    dbRestarts: 1,
    reviewSeconds: 30,
    settleSeconds: 120,
    editFraction: 0.1,
    log: (line) => lines.push(line),
  });
  console.log([...lines, JSON.stringify(result.figures)].join('\n'));
  expect(result.counts).toEqual({
    rowsLost: 0,
    staleWrites: 0,
    writesWhileLocked: 0,
    duplicateWrites: 0,
    reviewerEditsOverwritten: 0,
    falseNeedsDecision: 0,
    writesMissingFromAudit: 0,
    auditEntriesWithoutWrite: 0,
    reportRowsNotReconciled: 0,
    recordsStuck: 0,
  });
  expect(lines.join('\n')).toMatch(/worker SIGKILLed/);
  expect(lines.join('\n')).toMatch(/dev server restarted/);
  expect(lines.join('\n')).toMatch(/database restarted/);
}, 400_000);
