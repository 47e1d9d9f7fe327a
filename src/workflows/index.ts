export { capaRecordWorkflow } from './record';
