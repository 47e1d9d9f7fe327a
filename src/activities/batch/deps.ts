// What every part of the batch activities shares: their dependencies, a bounded parallel loop, and a page's read
// of Vault (applyPage and planPage read alike).
import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { AlertRouter } from '../../alerts/alert-router';
import { teamOf } from '../../alerts/routing';
import type { AuditSigner } from '../../audit/signing-key';
import type { GateSettings } from '../../change-control/approval-gate';
import type { RecordWorkflowOptions } from '../../contracts/record-messages';
import type { Logger } from '../../observability/logger';
import type { SyncMetrics } from '../../temporal/metrics';
import { type Mapping, writableFields } from '../../sources/mapping';
import type { Store } from '../../store/store';
import type { VaultClient } from '../../vault/client';
import { isLockedState } from '../../vault/dialect';
import type { RecordState } from '../../vault/types';

export interface BatchActivityDeps {
  /** Direct (not coalesced): the batch already sends full requests. */
  vault: VaultClient;
  temporal: Client;
  /** Record workflows' task queue. */
  taskQueue: string;
  /** The lock watcher's task queue (the batches' own). */
  controlTaskQueue: string;
  object: string;
  mapping: Mapping;
  recordOptions: RecordWorkflowOptions;
  store: Store;
  signer: AuditSigner;
  gate: GateSettings;
  approvalTimeoutSeconds: number;
  /** Where the finish step writes the batch's report files (the store holds every row either way). */
  reportsDir: string;
  pageSize: number;
  sourceMaxBytes: number;
  alerts: AlertRouter;
  logger: Logger;
  metrics: SyncMetrics;
}

/** How many record workflows are signalled, started or cancelled at once. */
export const START_CONCURRENCY = 50;

/** Runs fn over items with at most `limit` in flight. */
export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const run = pLimit(limit);
  await Promise.all(items.map((item) => run(() => fn(item))));
}

/** Whether a Vault state is one of the dialect's locked states. */
export const lockedIn =
  (deps: BatchActivityDeps) =>
  (state: string): boolean =>
    isLockedState(deps.vault.dialect, state);

/**
 * A page's records as Vault holds them now (their mapped fields), by record id, and the team responsible for each
 * (by the routing rules' fields, read in the same query): one query.
 */
export async function readPageStates(
  deps: BatchActivityDeps,
  rows: { id: string }[],
): Promise<{ states: Map<string, RecordState>; teams: Map<string, string> }> {
  const mapped = new Set(writableFields(deps.mapping));
  const { routing } = deps.alerts;
  const fields = [...new Set([...mapped, ...routing.fields])];
  const read = await deps.vault.readStates(
    deps.object,
    rows.map((r) => r.id),
    fields,
  );
  const states = new Map<string, RecordState>();
  const teams = new Map<string, string>();
  for (const s of read) {
    if (routing.rules.length) teams.set(s.id, teamOf(routing, s.values));
    // The routing fields are not the batch's to compare or write.
    states.set(s.id, { ...s, values: Object.fromEntries(Object.entries(s.values).filter(([f]) => mapped.has(f))) });
  }
  return { states, teams };
}
