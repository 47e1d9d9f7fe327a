import type { Client } from '@temporalio/client';
import { recordQuery } from '../contracts/visibility';
import type { MetricMeter } from '@temporalio/common';
import type { VaultCallStats } from '../vault/http';
import type { OutcomeCounts } from '../contracts/batch-messages';

/** capa-sync's own metrics, exported with the Temporal runtime's on the worker's Prometheus endpoint. */
export interface SyncMetrics {
  rowsProcessed(counts: Partial<OutcomeCounts>): void;
  /** Waiting records the lock watcher passed over at a tick (their lock endpoint or signal failed). */
  watcherSkipped(records: number): void;
  /** Unlocked records a tick left to the next while the workers still wrote those it told (CAPA_WATCH_WINDOW). */
  watcherDeferred(records: number): void;
  /** An alert the delivery loop gave up on (alerts/alert-delivery.ts): its error log line says which and why. */
  alertGivenUp(): void;
}

export function syncMetrics(meter: MetricMeter): SyncMetrics {
  const rows = meter.createCounter('capa_sync_rows', 'rows', 'Input rows by outcome');
  const skipped = meter.createCounter(
    'capa_sync_watcher_skipped',
    'records',
    'Waiting records the lock watcher passed over at a tick (lock endpoint or signal failed)',
  );
  const deferred = meter.createCounter(
    'capa_sync_watcher_deferred',
    'records',
    'Unlocked records a lock watcher tick left to the next while the workers still wrote those it told',
  );
  const givenUp = meter.createCounter(
    'capa_sync_alerts_given_up',
    'alerts',
    'Alerts given up after their last failed delivery attempt (one per alert and channel)',
  );
  return {
    rowsProcessed(counts) {
      for (const [outcome, n] of Object.entries(counts)) if (n) rows.add(n, { outcome });
    },
    watcherSkipped(records) {
      skipped.add(records);
    },
    watcherDeferred(records) {
      deferred.add(records);
    },
    alertGivenUp() {
      givenUp.add(1);
    },
  };
}

/**
 * Samples the Vault client's counters and the number of waiting records every interval, for the process's life.
 * The waiting count comes from Temporal visibility: one count query per interval, not one per record.
 */
export function sampleGauges(
  meter: MetricMeter,
  vault: VaultCallStats,
  temporal: Client,
  object: string,
  intervalMs = 15_000,
): void {
  const calls = meter.createGauge('capa_sync_vault_calls', 'int', 'calls', 'Vault calls made by this worker');
  const delayed = meter.createGauge(
    'capa_sync_vault_delayed',
    'int',
    'ms',
    'Time spent delayed by Vault burst limits and 429s',
  );
  const remaining = meter.createGauge(
    'capa_sync_vault_burst_limit_remaining',
    'int',
    'calls',
    'Last X-VaultAPI-BurstLimitRemaining',
  );
  const records = meter.createGauge('capa_sync_records', 'int', 'records', 'Record workflows by CapaSyncState');
  const sample = async () => {
    calls.set(vault.calls);
    delayed.set(Math.round(vault.delayedMs));
    if (vault.burstLimitRemaining !== undefined) remaining.set(vault.burstLimitRemaining);
    for (const phase of ['waiting-for-unlock', 'needs-decision'] as const) {
      const { count } = await temporal.workflow
        .count(recordQuery({ object, phase, running: true }))
        .catch(() => ({ count: undefined }));
      if (count !== undefined) records.set(count, { state: phase });
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
}
