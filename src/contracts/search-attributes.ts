import { defineSearchAttributeKey } from '@temporalio/common';

/** Custom search attributes (all Keyword) that let operators find records in the Web UI and CLI. */
export const CapaSyncState = defineSearchAttributeKey('CapaSyncState', 'KEYWORD');
export const CapaRecordId = defineSearchAttributeKey('CapaRecordId', 'KEYWORD');
export const CapaVaultState = defineSearchAttributeKey('CapaVaultState', 'KEYWORD');
export const CapaBatchId = defineSearchAttributeKey('CapaBatchId', 'KEYWORD');

export const ALL_SEARCH_ATTRIBUTES = [CapaSyncState, CapaRecordId, CapaVaultState, CapaBatchId];
