import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES, CapaLockHolder, CapaTeam } from '../src/contracts/search-attributes';
import { temporalCliPath } from '../src/temporal/binaries';
import { runCli } from './helpers/cli';
import { testDatabaseUrl } from './helpers/postgres';
import { quietRuntime } from './helpers/temporal';

// A worker on a namespace that lacks capa-sync's search attributes (an upgrade that did not create the new ones)
// would have every hand-off refused and every routed record's workflow task failing: it does not start.

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  quietRuntime();
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: ALL_SEARCH_ATTRIBUTES.filter((k) => k !== CapaTeam && k !== CapaLockHolder),
    },
  });
}, 60_000);
afterAll(() => env?.teardown());

it('refuses to start on a namespace without its search attributes, in one line naming them', async () => {
  const run = await runCli(
    {
      TEMPORAL_ADDRESS: env.address,
      CAPA_DATABASE_URL: await testDatabaseUrl(),
      CAPA_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'capa-worker-start-')),
      LOG_LEVEL: 'error',
    },
    ['worker'],
  );
  expect(run.code).not.toBe(0);
  expect(run.stderr.trim()).toMatch(
    /^capa-sync: the namespace default has no search attribute CapaTeam, CapaLockHolder: create them first \(docs\/production\.md\)$/,
  );
});
