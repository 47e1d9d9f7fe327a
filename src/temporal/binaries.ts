import path from 'node:path';
import fs from 'node:fs';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

function resolveBinary(envVar: string, name: string): string {
  const fromEnv = process.env[envVar];
  const candidate = fromEnv || path.join(PROJECT_ROOT, '.temporal', 'bin', name);
  if (!fs.existsSync(candidate)) {
    throw new Error(`${name} not found at ${candidate}: run "npm run setup" (or set ${envVar} to an existing binary)`);
  }
  return candidate;
}

/** The `temporal` CLI (dev server + Web UI), installed by scripts/setup-temporal.sh. */
export const temporalCliPath = (): string => resolveBinary('TEMPORAL_CLI_PATH', 'temporal');

/** The time-skipping test server, installed by scripts/setup-temporal.sh. */
export const temporalTestServerPath = (): string => resolveBinary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');
