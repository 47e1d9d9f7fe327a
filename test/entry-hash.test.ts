import canonicalize from 'canonicalize';
import type { AuditEntry } from '../src/store/audit-entry';
import { canonicalContent, hashedContent, hashedText } from '../src/store/entry-hash';

// The text an entry's hash covers is RFC 8785 canonical JSON: written field by field, it must be byte for byte what
// an RFC 8785 library (canonicalize) writes, whatever the values, or the trail would no longer verify.

const common = {
  time: '2026-11-24T02:00:00.000Z',
  object: 'capa__c',
  batchId: 'b1',
  actor: 'integration',
};
const writes: AuditEntry[] = [
  'Low',
  42,
  -0.5,
  1e21,
  null,
  true,
  'quote " backslash \\ line\nbreak \u2028 emoji 😀 \u0007',
  '',
].map((newValue, i) => ({
  ...common,
  kind: 'write',
  recordId: `R${i}`,
  field: i % 2 ? 'risk_score__c' : 'priority__c',
  oldValue: i % 3 ? 'Medium' : null,
  newValue,
  ...(i % 2 ? { reason: 'forced: board', workflowId: 'capa-sync:capa__c:R1', writeId: 'w/1' } : {}),
  ...(i % 4 ? { sourceTimestamp: '2026-11-24T01:00:00.000Z' } : {}),
}));
const decisions: AuditEntry[] = [
  {
    ...common,
    kind: 'decision',
    recordId: 'R1',
    decision: 'force',
    outcome: 'applied',
    values: { risk_score__c: 42, priority__c: 'High', due_date__c: null, closed__c: false },
    origin: { via: 'update', host: 'ops-1', account: 'jané.doe', client: 'capa-sync 0.1 "cli"' },
    reason: 'CAPA board',
  } as AuditEntry,
  {
    ...common,
    kind: 'decision',
    decision: 'approve',
    outcome: 'approved: the batch writes now',
    values: {},
    origin: { via: 'time-out' },
  } as AuditEntry,
];

it.each([...writes, ...decisions].map((e) => [e.kind, e] as const))(
  'writes a %s entry as canonicalize does',
  (_kind, e) => {
    expect(canonicalContent(hashedContent(e))).toBe(canonicalize(hashedContent(e)));
    expect(hashedText(e)).toBe(canonicalize(hashedContent(e)));
  },
);

it('refuses what RFC 8785 cannot write, as canonicalize does', () => {
  for (const newValue of [NaN, Infinity])
    expect(() => canonicalContent(hashedContent({ ...(writes[0] as AuditEntry), newValue } as AuditEntry))).toThrow();
});
