import { asActivityFailure } from './activity-failures';
import { currentWriteId } from './activity-ids';
import type { AlertRouter } from '../alerts/alert-router';
import type { AuditSigner } from '../audit/signing-key';
import type { Store } from '../store/store';
import type { Logger } from '../observability/logger';
import type { VaultDialect } from '../vault/dialect';
import { snapshotOf } from './record-snapshot';
import type { VaultClient } from '../vault/client';
import { createGuardedWrites, type GroupWindow } from './guarded-writes';
import type { RecordActivities, RecordAlert } from '../contracts/record-activities';

export interface RecordActivityDeps {
  /** Direct: a waiting record's read and write go through its write group (guarded-writes.ts). */
  vault: VaultClient;
  dialect: VaultDialect;
  store: Store;
  signer: AuditSigner;
  alerts: AlertRouter;
  logger: Logger;
  /** The write group's window. */
  groupWindow: GroupWindow;
}

const ALERT_TITLES = {
  conflict: 'needs decision: changed by hand during review',
  'max-wait': 'needs decision: still locked after the maximum wait',
  'permanent-failure': 'update failed permanently',
  'not-found': 'record no longer exists',
  'lock-reminder': 'still locked in Vault, waiting to apply',
  'lock-escalation': 'escalated: still locked in Vault, waiting to apply',
} as const;

/** What the people told should do next. A ladder step only tells: forcing or cancelling stays their decision. */
function nextStep({ reason, recordId, lockedBy }: RecordAlert): string {
  const decide =
    `capa-sync force ${recordId} --operator <you> --reason <why> writes the batch's values; ` +
    `capa-sync cancel ${recordId} --operator <you> --reason <why> keeps Vault's.`;
  if (reason === 'conflict' || reason === 'max-wait') return `Decide: ${decide}`;
  if (reason === 'lock-reminder' || reason === 'lock-escalation')
    return `Ask ${lockedBy ?? 'the holder'} to finish the Vault workflow (capa-sync then applies the change), or decide: ${decide}`;
  return 'Check the record in Vault; the change was not applied.';
}

export function createRecordActivities(deps: RecordActivityDeps): RecordActivities {
  const guardedWrite = createGuardedWrites({ ...deps, window: deps.groupWindow });
  return {
    guardedWrite,

    ...legacyActivities(deps, guardedWrite),
    lastOwnWrites({ object, recordId, fields, since }) {
      return deps.store.audit.lastOwnWrites(object, recordId, fields, since);
    },

    async settleRecord({ workflowId, batchId, resolution, object, recordId }) {
      await deps.store.batches.settle(workflowId, batchId, resolution, recordId);
      if (object && recordId) await deps.store.watchers.forget(object, recordId);
    },

    async recordDecision(d) {
      const writeId = currentWriteId({ workflowId: d.workflowId });
      await deps.store.audit.appendDecision(
        {
          ...{ object: d.object, recordId: d.recordId, batchId: d.batchId, workflowId: d.workflowId },
          ...{ actor: d.operator, reason: d.reason, decision: d.decision, outcome: d.outcome, origin: d.origin },
          ...{ values: d.values, sourceTimestamp: d.sourceTimestamp },
        },
        writeId,
      );
      deps.logger.info('operator decision audited', { ...d, values: undefined });
      return deps.store.audit.signHead(deps.signer, `${d.decision} of ${d.recordId} by ${d.operator}`);
    },

    async readLockHolder({ object, recordId }) {
      if (!deps.dialect.lockEndpoint) return undefined;
      return deps.vault.readLock(object, recordId).catch((err: Error) => {
        deps.logger.warn('lock endpoint did not answer: the ladder goes on with the holder it knows', {
          ...{ recordId, error: err.message },
        });
        return undefined;
      });
    },

    async sendRecordAlert(alert) {
      const key = currentWriteId({ prefix: 'record/', workflowId: alert.workflowId });
      if (alert.reason === 'lock-escalation') await deps.alerts.escalate(key, alert.team, alertMessage(alert));
      else await deps.alerts.toTeam(key, alert.team, alertMessage(alert));
    },
  };
}

/** Before GUARDED_WRITES: what runs started earlier still call, until their next step takes the new path. */
function legacyActivities(
  deps: RecordActivityDeps,
  guardedWrite: RecordActivities['guardedWrite'],
): Pick<RecordActivities, 'readRecord' | 'applyChange'> {
  return {
    async readRecord({ object, recordId, fields, unlessWatched }) {
      return asActivityFailure(async () => {
        if (unlessWatched && (await deps.store.watchers.covers(object))) return { watched: true };
        const [state] = await deps.vault.readStates(object, [recordId], fields);
        return snapshotOf(state, deps.dialect, (id) => deps.vault.readLock(object, id));
      });
    },

    /**
     * A write of values its workflow read in an earlier activity. It goes through the guard
     * again against that read (a change since is a person's edit): such a record is answered `locked`, and its next
     * step, on the new path, reads again and stops for a decision.
     */
    async applyChange({ object, recordId, values, previous, batchId, sourceTimestamp, actor }) {
      const result = await guardedWrite({
        ...{ object, recordId, batchId, sourceTimestamp, actor },
        ...{ desired: values, baseline: previous, ownWritesSince: sourceTimestamp },
      });
      if (result.status === 'written') return { status: result.changed ? 'updated' : 'unchanged' };
      if (result.status === 'permanent')
        return { status: 'permanent', errorType: result.errorType, message: result.message };
      if (result.status === 'not-found')
        return { status: 'permanent', errorType: 'NOT_FOUND', message: 'record no longer found' };
      return { status: 'locked' };
    },
  };
}

function alertMessage(alert: RecordAlert) {
  return {
    title: `CAPA ${alert.recordId}: ${ALERT_TITLES[alert.reason]}`,
    lines: [
      alert.detail,
      `Vault state: ${alert.vaultState ?? 'unknown'}${alert.lockedBy ? ` (locked by ${alert.lockedBy})` : ''}`,
      `Workflow: ${alert.workflowId} (batch ${alert.batchId}${alert.team ? `, team ${alert.team}` : ''})`,
      nextStep(alert),
    ],
    fields: { ...alert },
  };
}
