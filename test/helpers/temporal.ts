import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { temporalCliPath, temporalTestServerPath } from '../../src/temporal/binaries';
import { WORKFLOW_BUNDLE_PATH } from './global-setup';
import { WORKER_TUNING } from '../../src/worker';

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/**
 * A real Temporal dev server (the `temporal` CLI) with the project's custom search attributes registered, and its
 * Web UI where a port is given.
 */
export async function startDevServer(uiPort?: number): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      ...(uiPort ? { ui: true, uiPort } : {}),
    },
  });
}

/**
 * The real time-skipping test server: timers of days complete in seconds. It refuses unknown search attributes
 * and createTimeSkipping takes none, but it accepts them through the operator service, as a cluster does.
 */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

/** A worker on the test environment that loads the workflow bundle built once by global-setup. */
export async function createTestWorker(
  env: TestWorkflowEnvironment,
  options: Omit<WorkerOptions, 'connection' | 'workflowBundle' | 'workflowsPath'>,
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
    ...WORKER_TUNING,
    ...options,
  });
}
