import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerOptions } from '@temporalio/worker';
import type { Alert } from '../../src/alerts/alert-channel';
import type { EnqueueAlert } from '../../src/alerts/alert-router';
import { type ChannelSpec, channelKey } from '../../src/alerts/channel-spec';
import { AppConfig } from '../../src/config';
import { silentLogger } from '../../src/observability/logger';
import { VaultSimulator } from '../../src/simulator/server';
import type { FieldValues } from '../../src/contracts/field-values';
import { buildActivities, CapaWorker, deliverAlerts } from '../../src/worker';
import { capaRecordWorkflow } from '../../src/workflows/record';
import {
  DEFAULT_RECORD_OPTIONS,
  recordWorkflowId,
  RecordRouting,
  RecordWorkflowOptions,
} from '../../src/contracts/record-messages';
import { createTestWorker } from './temporal';
import { testConfig } from './config';
import { testStore } from './postgres';

/** Collects the alerts the activities enqueue (once per key and channel, as the outbox keeps them), for asserts. */
export class CapturedAlerts {
  readonly sent: Alert[] = [];
  /** Each alert's channels, by its title. */
  readonly channels = new Map<string, ChannelSpec[]>();
  private readonly keys = new Set<string>();
  readonly enqueue: EnqueueAlert = async (key, channels, alert) => {
    const fresh = channels.filter((c) => !this.keys.has(`${key} ${channelKey(c)}`));
    if (!fresh.length) return;
    fresh.forEach((c) => this.keys.add(`${key} ${channelKey(c)}`));
    this.sent.push(alert);
    this.channels.set(alert.title, fresh);
  };
}

/** A worker wired like production (buildActivities), talking to the simulator over HTTP, with captured alerts. */
export async function testWorker(
  env: TestWorkflowEnvironment,
  sim: VaultSimulator,
  taskQueue: string,
  {
    tuning = {},
    settings = {},
    enqueueAlert,
  }: { tuning?: Partial<WorkerOptions>; settings?: Record<string, string>; enqueueAlert?: EnqueueAlert } = {},
) {
  const config: AppConfig = await testConfig(sim, { TEMPORAL_TASK_QUEUE: taskQueue, ...settings });
  const store = await testStore(config.databaseUrl);
  // Alerts are captured, unless the test exercises the configured channels (a webhook, a routing file): those go
  // through the store's outbox and this worker's delivery loop, as in production.
  const alerts = new CapturedAlerts();
  const captured = !settings.ALERT_CHANNEL && !settings.CAPA_ROUTING_FILE;
  const { activities, vaultStats } = buildActivities(config, {
    logger: silentLogger,
    temporal: env.client,
    store,
    ...(captured ? { enqueueAlert: enqueueAlert ?? alerts.enqueue } : {}),
  });
  const delivery = captured ? undefined : deliverAlerts(config, store, silentLogger);
  // Tests tick every second or so: a cache that holds every test workflow spares replaying them at each tick.
  const on = (queue: string) =>
    createTestWorker(env, { taskQueue: queue, activities, maxCachedWorkflows: 1000, ...tuning });
  const worker = new CapaWorker(await on(taskQueue), await on(config.temporal.controlTaskQueue));
  return { worker, alerts, store, audit: store.audit, vaultStats, config, delivery };
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
  /** The state the handing batch saw, and the team it routed the record to. */
  vaultState?: string;
  routing?: RecordRouting;
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
        ...(o.vaultState ? { vaultState: o.vaultState } : {}),
        ...(o.routing ? { routing: o.routing } : {}),
      },
    ],
  });
}
