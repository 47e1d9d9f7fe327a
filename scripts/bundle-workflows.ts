// Bundles the workflow code at build time (npm run build), so that a production worker does not load webpack.
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const target = path.join(__dirname, '../dist/workflow-bundle.js'); // what src/worker.ts loads when compiled

bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') }).then(({ code }) => {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, code);
  console.log(`workflow bundle written to ${target}`);
});
