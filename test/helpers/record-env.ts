import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, WorkerOptions } from '@temporalio/worker';
import { Alert, AlertChannel } from '../../src/alerts/alert-channel';
import { AppConfig } from '../../src/config';
import { silentLogger } from '../../src/observability/logger';
import { VaultSimulator } from '../../src/simulator/server';
import type { FieldValues } from '../../src/contracts/field-values';
import { buildActivities } from '../../src/worker';
import { capaRecordWorkflow } from '../../src/workflows/record';
import { DEFAULT_RECORD_OPTIONS, recordWorkflowId, RecordWorkflowOptions } from '../../src/contracts/record-messages';
import { createTestWorker } from './temporal';
import { testConfig } from './config';
import { testStore } from './postgres';

/** Collects alerts so tests can assert on them. */
export class CapturedAlerts implements AlertChannel {
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<void> {
    this.sent.push(alert);
  }
}

/** A worker wired like production (buildActivities), talking to the simulator over HTTP, with captured alerts. */
export async function testWorker(
  env: TestWorkflowEnvironment,
  sim: VaultSimulator,
  taskQueue: string,
  { tuning = {}, settings = {} }: { tuning?: Partial<WorkerOptions>; settings?: Record<string, string> } = {},
) {
  const config: AppConfig = await testConfig(sim, { TEMPORAL_TASK_QUEUE: taskQueue, ...settings });
  const store = await testStore(config.databaseUrl);
  // Alerts are captured, unless the test exercises the configured channel (the webhook).
  const alerts = new CapturedAlerts();
  const captured = config.alerts.channel === 'log' ? alerts : undefined;
  const { activities, vaultStats } = buildActivities(config, {
    logger: silentLogger,
    temporal: env.client,
    store,
    alerts: captured,
  });
  // Tests tick every second or so: a cache that holds every test workflow spares replaying them at each tick.
  const worker: Worker = await createTestWorker(env, { taskQueue, activities, maxCachedWorkflows: 1000, ...tuning });
  return { worker, alerts, store, audit: store.audit, vaultStats, config };
}

export interface StartRecordOptions {
  recordId: string;
  desired: FieldValues;
  baseline: FieldValues;
  options?: Partial<RecordWorkflowOptions>;
  sourceTimestamp?: string;
  batchId?: string;
  /** Another id than the record's own (a workflow the visibility listing does not match). */
  workflowId?: string;
}

export function startRecordWorkflow(env: TestWorkflowEnvironment, taskQueue: string, o: StartRecordOptions) {
  return env.client.workflow.start(capaRecordWorkflow, {
    taskQueue,
    workflowId: o.workflowId ?? recordWorkflowId('capa__c', o.recordId),
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
