import { ApplicationFailure } from '@temporalio/activity';
import { isLockedState, VaultDialect } from '../../src/vault/dialect';
import type { VaultApi } from '../../src/vault/client';

const FIELDS = ['priority__c', 'risk_score__c', 'due_date__c'];

/** One Vault call per activity: a record's state read, or its update alone. */
export function naiveActivities(vault: VaultApi, dialect: VaultDialect) {
  return {
    async readRecord(recordId: string): Promise<{ locked: boolean }> {
      const [state] = await vault.readStates('capa__c', [recordId], FIELDS);
      return { locked: isLockedState(dialect, state.state) };
    },
    async writeRecord(recordId: string, values: Record<string, string | number>): Promise<void> {
      const [outcome] = await vault.bulkUpdate('capa__c', [{ id: recordId, values }]);
      if (outcome.status !== 'updated' && outcome.status !== 'unchanged')
        throw ApplicationFailure.retryable(`${outcome.errorType}: ${outcome.message}`); // e.g. locked again
    },
  };
}

export type NaiveActivities = ReturnType<typeof naiveActivities>;
