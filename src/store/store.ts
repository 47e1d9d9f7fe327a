// store/: the PostgreSQL store every worker and the CLI share: the schema and its migrations, batches and their rows,
// the audit trail, the alert outbox, the lock watchers' notes, the write intents, and the embedded server. Imports the
// layers below it.

import type { Logger } from '../observability/logger';
import { AlertOutbox } from './alert-outbox';
import { AuditTrail } from './audit-trail';
import { BatchStore } from './batch-store';
import { closePool, openDatabase } from './database';
import { LockWatchers } from './lock-watchers';
import { type Session, poolSession } from './session';
import { StagedSources } from './staged-sources';
import { WriteIntents } from './write-intents';

/** capa-sync's shared state in PostgreSQL: batches and their rows, the audit trail, the alerts to deliver and sent, the watchers' reads, the writes in flight. */
export interface StoreOperations {
  batches: BatchStore;
  staged: StagedSources;
  audit: AuditTrail;
  alertOutbox: AlertOutbox;
  watchers: LockWatchers;
  intents: WriteIntents;
}

export interface Store extends StoreOperations {
  /** One unit of work: what `work` does through `tx` is committed together, or not at all. */
  transaction<T>(work: (tx: StoreOperations) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function operationsOn(db: Session): StoreOperations {
  return {
    batches: new BatchStore(db),
    staged: new StagedSources(db),
    audit: new AuditTrail(db),
    alertOutbox: new AlertOutbox(db),
    watchers: new LockWatchers(db),
    intents: new WriteIntents(db),
  };
}

/** Connects to CAPA_DATABASE_URL and brings its schema up to date (see database.ts). */
export async function openStore(url: string, logger: Logger): Promise<Store> {
  const pool = await openDatabase(url, logger);
  const db = poolSession(pool);
  return {
    ...operationsOn(db),
    transaction: (work) => db.transaction((tx) => work(operationsOn(tx))),
    close: () => closePool(pool),
  };
}
