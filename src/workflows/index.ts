// workflows/: the deterministic workflow code: the batch, the record, the lock watcher and the plan. Imports only
// contracts (and other workflow code): everything else runs in activities.

export { capaRecordWorkflow } from './record';
export { capaBatchWorkflow } from './batch';
export { capaPlanWorkflow } from './plan';
export { capaLockWatcherWorkflow } from './lock-watcher';
