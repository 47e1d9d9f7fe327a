export { capaRecordWorkflow } from './record';
export { capaBatchWorkflow } from './batch';
export { capaPlanWorkflow } from './plan';
export { capaLockWatcherWorkflow } from './lock-watcher';
