import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DevStack } from './dev-stack';
import { CLI } from './worker-process';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI as its own process, as an operator runs it: its exit code and output, whether it failed or not.
 * `onStderr` sees what it says as it says it.
 */
export async function runCli(
  env: Record<string, string>,
  args: string[],
  onStderr?: (text: string) => void,
): Promise<CliRun> {
  try {
    const run = promisify(execFile)('node', [CLI, ...args], {
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (onStderr) run.child.stderr?.on('data', (chunk) => onStderr(String(chunk)));
    const { stdout, stderr } = await run;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as CliRun;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** An operator's machine beside a dev stack: its Temporal and store, and none of the worker's files. */
export const operatorEnv = (stack: DevStack, taskQueue: string): Record<string, string> => ({
  TEMPORAL_ADDRESS: stack.env.address,
  TEMPORAL_TASK_QUEUE: taskQueue,
  CAPA_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'capa-operator-')),
  CAPA_DATABASE_URL: stack.ctx.config.databaseUrl,
  LOG_LEVEL: 'error',
});
