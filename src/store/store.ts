import type { Logger } from '../logger';
import { AuditTrail } from './audit-trail';
import { BatchStore } from './batch-store';
import { openDatabase } from './database';
import { SentAlerts } from './sent-alerts';
import { StagedSources } from './staged-sources';

/** capa-sync's shared state in PostgreSQL: batches and their rows, the audit trail, and the alerts sent. */
export interface Store {
  batches: BatchStore;
  staged: StagedSources;
  audit: AuditTrail;
  sentAlerts: SentAlerts;
  close(): Promise<void>;
}

/** Connects to CAPA_DATABASE_URL and brings its schema up to date (see database.ts). */
export async function openStore(url: string, logger: Logger): Promise<Store> {
  const pool = await openDatabase(url, logger);
  return {
    batches: new BatchStore(pool),
    staged: new StagedSources(pool),
    audit: new AuditTrail(pool),
    sentAlerts: new SentAlerts(pool),
    close: () => pool.end(),
  };
}
