import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { Alert, AlertChannel } from '../../src/alerts/alert-channel';
import { AuditTrail } from '../../src/audit/audit-trail';
import { silentLogger } from '../../src/logger';
import { VaultSimulator } from '../../src/simulator/server';
import { CoalescingVaultClient, CoalescingWindows } from '../../src/vault/coalescing-client';
import { DIALECTS } from '../../src/vault/dialect';
import type { FieldValues } from '../../src/vault/types';
import { capaRecordWorkflow } from '../../src/workflows/record';
import { DEFAULT_RECORD_OPTIONS, recordWorkflowId, RecordWorkflowOptions } from '../../src/workflows/record-messages';
import { createTestWorker } from './temporal';
import { clientFor } from './vault';

/** Collects alerts so tests can assert on them. */
export class CapturedAlerts implements AlertChannel {
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<void> {
    this.sent.push(alert);
  }
}

/** A worker whose activities talk to the simulator over HTTP, with captured alerts and a temporary audit trail. */
/** Short windows keep time-skipping tests fast (each tick waits for its reads); the production default is in DEFAULT_WINDOWS. */
export const FAST_WINDOWS: CoalescingWindows = { readMs: 20, updateMs: 5 };

export async function recordWorker(
  env: TestWorkflowEnvironment,
  sim: VaultSimulator,
  taskQueue: string,
  { tuning = {}, windows = FAST_WINDOWS }: { tuning?: Partial<WorkerOptions>; windows?: CoalescingWindows } = {},
) {
  const alerts = new CapturedAlerts();
  const audit = new AuditTrail(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-audit-')));
  const client = clientFor(sim);
  const activities = createActivities({
    vault: new CoalescingVaultClient(client, windows),
    dialect: DIALECTS[sim.options.dialect],
    audit,
    alerts,
    logger: silentLogger,
  });
  const worker: Worker = await createTestWorker(env, { taskQueue, activities, ...tuning });
  return { worker, alerts, audit, vaultStats: client.stats };
}

export interface StartRecordOptions {
  recordId: string;
  desired: FieldValues;
  baseline: FieldValues;
  options?: Partial<RecordWorkflowOptions>;
  sourceTimestamp?: string;
  batchId?: string;
}

export function startRecordWorkflow(env: TestWorkflowEnvironment, taskQueue: string, o: StartRecordOptions) {
  return env.client.workflow.start(capaRecordWorkflow, {
    taskQueue,
    workflowId: recordWorkflowId('capa__c', o.recordId),
    args: [
      {
        object: 'capa__c',
        recordId: o.recordId,
        desired: o.desired,
        baseline: o.baseline,
        sourceTimestamp: o.sourceTimestamp ?? '2026-11-24T01:00:00.000Z',
        batchId: o.batchId ?? 'batch-1',
        options: { ...DEFAULT_RECORD_OPTIONS, ...o.options },
      },
    ],
  });
}
