/**
 * For tests and benches whose exports set one priority on every record (to check Vault's state simply): the gate's
 * one-value rule would hold them for approval. The gate has its own tests (test/approval-gate.test.ts).
 */
export const ONE_VALUE_EXPORTS = { CAPA_GATE_MAX_ONE_VALUE_PERCENT: '100' };
