import { setTimeout as sleep } from 'node:timers/promises';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from './binaries';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';

/** A loopback TCP port nobody listens on right now (for servers a test or a harness starts). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether a Temporal frontend answers at the address. */
export async function temporalReachable(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `temporal server start-dev` with the Web UI, the custom search attributes and its database in the data
 * folder (so a second start resumes every workflow), and waits until it answers.
 */
export async function startDevServer(dataDir: string, port = 7233, uiPort = 8233): Promise<ChildProcess> {
  fs.mkdirSync(dataDir, { recursive: true });
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort)];
  args.push('--db-filename', path.join(dataDir, 'temporal-dev.db'), '--log-level', 'error');
  for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  // A process group of its own: a terminal's Ctrl-C reaches only the caller, which stops the server last, after
  // the worker has finished its tasks (otherwise the worker's last calls meet a server already gone).
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  const address = `127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) {
      throw new Error(`the Temporal dev server exited (${child.exitCode}): ${stderr.trim().split('\n').pop()}`);
    }
    if (await temporalReachable(address)) return child;
    await sleep(500);
  }
  child.kill('SIGTERM');
  throw new Error(`temporal dev server did not answer on ${address} within 60 s`);
}
