import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { DOCUMENTED_DIALECT } from '../../src/vault/dialect';
import { simulatorClient } from '../simulator-client';
import { naiveActivities } from './activities';

// The naive design's worker, in a process of its own so that its memory is measured alone: the SDK's default
// tuning, the workflow bundle the bench built (argv[2]), and the same Vault client as capa-sync.
async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const { TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, VAULT_BASE_URL } = process.env as Record<string, string>;
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: TEMPORAL_ADDRESS }),
    taskQueue: TEMPORAL_TASK_QUEUE,
    workflowBundle: { codePath: process.argv[2] },
    activities: naiveActivities(simulatorClient(VAULT_BASE_URL, 'bench-naive'), DOCUMENTED_DIALECT),
  });
  // SIGINT ends it: the SDK's runtime shuts its workers down on that signal.
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
