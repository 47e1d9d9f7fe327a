import path from 'node:path';
import fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '../../.data/test-workflow-bundle.js');

/** Bundles the workflow code once per test run; every test worker loads the same bundle. */
export default async function globalSetup(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: console.warn,
      error: console.error,
    },
  });
  fs.mkdirSync(path.dirname(WORKFLOW_BUNDLE_PATH), { recursive: true });
  fs.writeFileSync(WORKFLOW_BUNDLE_PATH, code);
}
