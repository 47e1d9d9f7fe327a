import { asActivityFailure } from './activity-failures';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AlertChannel } from '../alerts/alert-channel';
import { changeEntries, type DecisionEntry } from '../store/audit-trail';
import type { AuditSigner } from '../audit/signing-key';
import type { Store } from '../store/store';
import type { Logger } from '../logger';
import type { VaultDialect } from '../vault/dialect';
import { snapshotOf } from './record-snapshot';
import type { CoalescingVaultClient } from '../vault/coalescing-client';
import type { RecordActivities } from '../contracts/record-activities';

export interface RecordActivityDeps {
  /** Coalescing: all waiting records' reads at one tick share a query. */
  coalesced: CoalescingVaultClient;
  dialect: VaultDialect;
  store: Store;
  signer: AuditSigner;
  alerts: AlertChannel;
  logger: Logger;
}

const ALERT_TITLES = {
  conflict: 'needs decision: changed by hand during review',
  'max-wait': 'needs decision: still locked after the maximum wait',
  'permanent-failure': 'update failed permanently',
  'not-found': 'record no longer exists',
} as const;

export function createRecordActivities(deps: RecordActivityDeps): RecordActivities {
  return {
    async readRecord({ object, recordId, fields, tick, unlessWatched }) {
      return asActivityFailure(async () => {
        if (unlessWatched && (await deps.store.watchers.covers(object)))
          return { watched: true, found: true, values: {}, locked: true };
        const [state] = await deps.coalesced.readStates(object, [recordId], fields, tick);
        return snapshotOf(state, deps.dialect, (id) => deps.coalesced.readLock(object, id));
      });
    },

    async applyChange({ object, recordId, workflowId, values, previous, batchId, sourceTimestamp, actor, tick }) {
      return asActivityFailure(async () => {
        const info = Context.current().info;
        const retried = info.attempt > 1;
        const [outcome] = await deps.coalesced.bulkUpdate(object, [{ id: recordId, values }], tick);
        deps.logger.info('record update', {
          recordId,
          batchId,
          workflowId,
          status: outcome.status,
          errorType: outcome.errorType,
        });
        if (outcome.status === 'transient') {
          throw ApplicationFailure.retryable(
            `Vault answered ${outcome.errorType ?? 'a transient error'}`,
            'Vault.transient',
          );
        }
        const who =
          actor.kind === 'operator' ? { actor: actor.operator, reason: actor.reason } : { actor: 'integration' };
        const time = new Date().toISOString();
        const common = { time, object, recordId, batchId, workflowId, sourceTimestamp, ...who };
        const entries = changeEntries(common, values, previous);
        // An attempt that died after Vault took its write leaves Vault holding our values: the retry hears
        // NO_DATA_CHANGES, yet the change was ours and is reported and audited as such.
        const wrote = outcome.status === 'updated' || (outcome.status === 'unchanged' && retried && entries.length > 0);
        if (wrote) {
          const writeId = `${workflowId}/${info.workflowExecution?.runId}/${info.activityId}`;
          await deps.store.audit.append(entries, writeId);
        }
        return { status: wrote ? 'updated' : outcome.status, errorType: outcome.errorType, message: outcome.message };
      });
    },

    lastOwnWrites({ object, recordId, fields, since }) {
      return deps.store.audit.lastOwnWrites(object, recordId, fields, since);
    },

    settleRecord({ workflowId, batchId, resolution }) {
      return deps.store.batches.settle(workflowId, batchId, resolution);
    },

    async recordDecision(d) {
      const info = Context.current().info;
      const writeId = `${d.workflowId}/${info.workflowExecution?.runId}/${info.activityId}`;
      const entry: DecisionEntry = {
        kind: 'decision',
        time: new Date().toISOString(),
        ...{ object: d.object, recordId: d.recordId, batchId: d.batchId, workflowId: d.workflowId },
        ...{ actor: d.operator, reason: d.reason, decision: d.decision, outcome: d.outcome, origin: d.origin },
        ...{ values: d.values, sourceTimestamp: d.sourceTimestamp },
      };
      await deps.store.audit.append([entry], writeId);
      deps.logger.info('operator decision audited', { ...d, values: undefined });
      return deps.store.audit.signHead(deps.signer, `${d.decision} of ${d.recordId} by ${d.operator}`);
    },

    async sendRecordAlert(alert) {
      const info = Context.current().info;
      const key = `record/${alert.workflowId}/${info.workflowExecution?.runId}/${info.activityId}`;
      await deps.store.sentAlerts.sendOnce(key, deps.alerts, {
        title: `CAPA ${alert.recordId}: ${ALERT_TITLES[alert.reason]}`,
        lines: [
          alert.detail,
          `Vault state: ${alert.vaultState ?? 'unknown'}${alert.lockedBy ? ` (locked by ${alert.lockedBy})` : ''}`,
          `Workflow: ${alert.workflowId} (batch ${alert.batchId})`,
          alert.reason === 'conflict' || alert.reason === 'max-wait'
            ? `Decide: capa-sync force ${alert.recordId} --operator <you> --reason <why>, or capa-sync cancel ...`
            : 'Check the record in Vault; the change was not applied.',
        ],
        fields: { ...alert },
      });
    },
  };
}
