export { capaRecordWorkflow } from './record';
export { capaBatchWorkflow } from './batch';
