import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditEntry, AuditTrail } from '../src/audit/audit-trail';

// A worker SIGKILLed in the middle of an append leaves a torn line (found by `npm run chaos`): the trail stays
// readable, and the write's retry audits the entry whole, once.

const entry = (recordId: string, newValue: string): AuditEntry => ({
  time: '2026-11-24T02:00:00.000Z',
  object: 'capa__c',
  recordId,
  field: 'priority__c',
  oldValue: 'Low',
  newValue,
  batchId: 'b1',
  actor: 'integration',
});

it('closes off a torn line, reads past it, and lets the retry audit the entry once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-audit-'));
  const trail = new AuditTrail(dir);
  await trail.append([entry('R1', 'High')], { id: 'w1', retried: false });
  const file = path.join(dir, 'audit-2026-11.jsonl');
  const whole = JSON.stringify({ ...entry('R2', 'Medium'), writeId: 'w2' });
  fs.appendFileSync(file, whole.slice(0, -1)); // the append a SIGKILL cut short, one character before its end

  await trail.append([entry('R2', 'Medium')], { id: 'w2', retried: true });
  await trail.append([entry('R2', 'Medium')], { id: 'w2', retried: true }); // a second retry adds nothing
  await trail.append([entry('R3', 'Low')], { id: 'w3', retried: false });

  expect((await trail.read()).map((e) => [e.recordId, e.newValue, e.writeId])).toEqual([
    ['R1', 'High', 'w1'],
    ['R2', 'Medium', 'w2'],
    ['R3', 'Low', 'w3'],
  ]);
  expect(fs.readFileSync(file, 'utf8').split('\n')).toHaveLength(5); // 3 entries, the torn line, the final newline
  expect(await trail.lastOwnWrites('capa__c', 'R2', ['priority__c'], '2026-11-01')).toEqual({
    priority__c: { value: 'Medium', sourceTimestamp: undefined },
  });
});
