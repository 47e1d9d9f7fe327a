import { TestWorkflowEnvironment } from '@temporalio/testing';
import { VaultSimulator } from '../../src/simulator/server';
import { startTimeSkippingServer } from './temporal';
import { startSimulator } from './vault';

/** A time-skipping server and a simulator for the whole test file, started before its tests and stopped after. */
export function useTimeSkippingStack(): { env: TestWorkflowEnvironment; sim: VaultSimulator } {
  const stack = {} as { env: TestWorkflowEnvironment; sim: VaultSimulator };
  beforeAll(async () => {
    stack.env = await startTimeSkippingServer();
    stack.sim = await startSimulator();
  });
  afterAll(async () => {
    await stack.sim?.stop();
    await stack.env?.teardown();
  });
  return stack;
}
