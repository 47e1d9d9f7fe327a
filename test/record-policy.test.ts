import {
  alertDue,
  conflictDetail,
  decisionProblem,
  forceOutcome,
  nextTickAt,
  statusView,
} from '../src/workflows/record-policy';
import { conflictingFields, ownWrites } from '../src/contracts/conflict-guard';
import { CarriedState, DEFAULT_RECORD_OPTIONS } from '../src/contracts/record-messages';

// The record workflow's decisions, without a server: a policy change is caught here in milliseconds.

const MIN = 60_000;

describe('nextTickAt', () => {
  const options = { ...DEFAULT_RECORD_OPTIONS, tickScheduleSeconds: [300, 900, 3600], ticksPerStep: 2 };
  const at = Date.UTC(2026, 10, 27, 2, 7, 30);

  it('wakes on the next wall-clock multiple of the interval, so that all records share a tick', () => {
    expect(new Date(nextTickAt(at, 0, options)).toISOString()).toBe('2026-11-27T02:10:00.000Z');
    expect(nextTickAt(Date.UTC(2026, 10, 27, 2, 10), 1, options) - Date.UTC(2026, 10, 27, 2, 10)).toBe(5 * MIN);
  });

  it('backs off after ticksPerStep ticks on each interval, and stays on the last', () => {
    expect(new Date(nextTickAt(at, 2, options)).toISOString()).toBe('2026-11-27T02:15:00.000Z');
    expect(new Date(nextTickAt(at, 4, options)).toISOString()).toBe('2026-11-27T03:00:00.000Z');
    expect(nextTickAt(at, 400, options)).toBe(nextTickAt(at, 4, options));
  });
});

describe('conflictingFields', () => {
  const baseline = { priority__c: 'Low', risk_score__c: 16, due_date__c: null };
  const desired = { priority__c: 'High', risk_score__c: 20, due_date__c: '2027-01-01' };

  it('flags a field changed by hand to something else than what we write', () => {
    expect(conflictingFields({ ...baseline, priority__c: 'Medium' }, baseline, desired)).toEqual(['priority__c']);
  });

  it('does not flag unchanged values, values already as desired, or fields the batch never saw', () => {
    expect(conflictingFields(baseline, baseline, desired)).toEqual([]);
    expect(conflictingFields({ ...baseline, priority__c: 'High' }, baseline, desired)).toEqual([]);
    expect(conflictingFields({ priority__c: 'Low', other__c: 'x' }, { priority__c: 'Low' }, { other__c: 'y' })).toEqual(
      [],
    );
  });

  it('takes a number read back as text, and a missing value as null, for the same value', () => {
    expect(conflictingFields({ ...baseline, risk_score__c: '16' }, baseline, desired)).toEqual([]);
    expect(conflictingFields({ ...baseline, risk_score__c: '16.0' }, baseline, desired)).toEqual([]);
    expect(conflictingFields({ priority__c: 'Low', risk_score__c: 16 }, baseline, desired)).toEqual([]);
    expect(conflictingFields({ ...baseline, due_date__c: '' }, baseline, desired)).toEqual([]);
  });

  it('names each conflicting field with its three values', () => {
    expect(conflictDetail(['priority__c'], { baseline, desired }, { priority__c: 'Medium' })).toBe(
      'priority__c: was "Low", now "Medium", desired "High"',
    );
  });
});

describe('ownWrites', () => {
  it("takes capa-sync's own newest write for no edit, and a write from a newer source as making ours stale", () => {
    const current = { priority__c: 'Medium', risk_score__c: 30, due_date__c: '2027-02-02' };
    const written = {
      priority__c: { value: 'Medium', sourceTimestamp: '2026-11-26T02:00:00Z' },
      risk_score__c: { value: 30, sourceTimestamp: '2026-11-28T02:00:00Z' },
      due_date__c: { value: '2027-01-01', sourceTimestamp: '2026-11-28T02:00:00Z' },
    };
    expect(ownWrites(Object.keys(current), current, written, '2026-11-27T02:00:00Z')).toEqual({
      ours: ['priority__c', 'risk_score__c'],
      newer: ['risk_score__c'],
    });
  });
});

describe('operator decisions', () => {
  it('needs an operator and a reason, and refuses a record already done', () => {
    expect(decisionProblem({ operator: ' ', reason: 'x' }, 'waiting-for-unlock')).toBe('operator is required');
    expect(decisionProblem({ operator: 'qa', reason: '' }, 'waiting-for-unlock')).toBe('reason is required');
    expect(decisionProblem({ operator: 'qa', reason: 'ok' }, 'applied')).toBe('record is already applied');
    expect(decisionProblem({ operator: 'qa', reason: 'ok' }, 'needs-decision')).toBeUndefined();
  });

  it('answers a force with what Vault did', () => {
    expect(forceOutcome({ status: 'updated' })).toBe('applied');
    expect(forceOutcome({ status: 'locked' })).toBe('still locked: waiting');
    expect(forceOutcome({ status: 'permanent', errorType: 'INVALID_DATA', message: 'bad' })).toBe(
      'failed: INVALID_DATA bad',
    );
  });
});

it('alerts once a day at most for the same reason', () => {
  const now = Date.UTC(2026, 10, 27);
  expect(alertDue({}, 'conflict', now)).toBe(true);
  expect(alertDue({ conflict: now - 23 * 60 * MIN }, 'conflict', now)).toBe(false);
  expect(alertDue({ conflict: now - 24 * 60 * MIN }, 'conflict', now)).toBe(true);
  expect(alertDue({ conflict: now }, 'max-wait', now)).toBe(true);
});

it('shows the next check only while waiting for the unlock', () => {
  const s = {
    phase: 'waiting-for-unlock',
    desired: {},
    baseline: {},
    sourceTimestamp: 't',
    batchId: 'b',
    waitingSince: 0,
    nextCheck: 60_000,
    attempts: 1,
    decisions: [],
    pending: [],
    alertsSent: {},
    operationSeq: 0,
    runs: 0,
  } as CarriedState;
  const ids = { workflowId: 'w', object: 'capa__c', recordId: 'R1' };
  expect(statusView(s, ids)).toMatchObject({ phase: 'waiting-for-unlock', nextCheck: '1970-01-01T00:01:00.000Z' });
  expect(statusView({ ...s, phase: 'needs-decision' }, ids).nextCheck).toBeUndefined();
});
