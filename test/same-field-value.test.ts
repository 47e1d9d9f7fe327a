import { changedFields, sameFieldValue } from '../src/contracts/field-values';

// The one rule for "the same value", used by the conflict guard, the audit and the lost-answer checks.

it.each([
  [16, '16'],
  [16, '16.0'],
  [0.5, '.5'],
  [-3, '-3'],
  [null, ''],
  [undefined, null],
  ['', undefined],
  ['2027-04-30', '2027-04-30'],
  [true, 'true'],
  ['High', 'High'],
] as const)('takes %p and %p for the same value', (a, b) => {
  expect(sameFieldValue(a, b)).toBe(true);
  expect(sameFieldValue(b, a)).toBe(true);
});

it.each([
  [16, '17'],
  [16, 'sixteen'],
  [0, ''],
  [0, null],
  [0, ' '],
  ['2027-04-30', '2027-4-30'],
  ['2027-04-30', '2027-04-30T00:00:00Z'],
  ['High', 'high'],
  ['High', 'High '],
  [false, null],
] as const)('takes %p and %p for different values', (a, b) => {
  expect(sameFieldValue(a, b)).toBe(false);
  expect(sameFieldValue(b, a)).toBe(false);
});

it('audits as changed only the fields whose value differs by that rule', () => {
  expect(
    changedFields(
      { risk_score__c: 16, priority__c: 'High', due_date__c: null },
      { risk_score__c: '16', priority__c: 'Low', due_date__c: '' },
    ),
  ).toEqual(['priority__c']);
});
