import { defineSearchAttributeKey } from '@temporalio/common';

/** Custom search attributes (all Keyword) that let operators find records in the Web UI and CLI. */
export const CapaSyncState = defineSearchAttributeKey('CapaSyncState', 'KEYWORD');
export const CapaRecordId = defineSearchAttributeKey('CapaRecordId', 'KEYWORD');
export const CapaVaultState = defineSearchAttributeKey('CapaVaultState', 'KEYWORD');
export const CapaBatchId = defineSearchAttributeKey('CapaBatchId', 'KEYWORD');
/** A batch workflow's approval: awaiting-approval, approved or rejected (absent where the gate let it through). */
export const CapaBatchState = defineSearchAttributeKey('CapaBatchState', 'KEYWORD');

/** The team responsible for the record (the routing file's), and who holds its lock where Vault says. */
export const CapaTeam = defineSearchAttributeKey('CapaTeam', 'KEYWORD');
export const CapaLockHolder = defineSearchAttributeKey('CapaLockHolder', 'KEYWORD');

export const ALL_SEARCH_ATTRIBUTES = [
  CapaSyncState,
  CapaRecordId,
  CapaVaultState,
  CapaBatchId,
  CapaBatchState,
  CapaTeam,
  CapaLockHolder,
];

/** A record workflow's search attributes: its phase (CapaSyncState), the record, the batch that handed it over, Vault's state. */
export const recordSearchAttributes = (a: {
  phase: string;
  recordId: string;
  batchId: string;
  vaultState?: string;
  /** Records with a team (handed over since routing), and who holds their lock. */
  team?: string;
  holder?: string;
}) => [
  { key: CapaSyncState, value: a.phase },
  { key: CapaRecordId, value: a.recordId },
  { key: CapaBatchId, value: a.batchId },
  ...(a.vaultState ? [{ key: CapaVaultState, value: a.vaultState }] : []),
  ...(a.team ? [{ key: CapaTeam, value: a.team }] : []),
  ...(a.holder ? [{ key: CapaLockHolder, value: a.holder }] : []),
];
