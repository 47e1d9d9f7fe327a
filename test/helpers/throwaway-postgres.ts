import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server';
import { EmbeddedPostgres, ensureDatabase, startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { migrateStore } from '../../src/store/database';
import { silentLogger } from '../../src/observability/logger';

/**
 * A server of its own for a test file or a benchmark: in a new temporary folder, on a free port, removed when
 * stopped. `restart` stops it, runs `whileDown`, and starts it again on the same port with the same data (a database
 * outage, for tests and the chaos harness).
 */
export async function startThrowawayPostgres(): Promise<
  EmbeddedPostgres & { restart(whileDown: () => Promise<unknown>): Promise<void> }
> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-pg-'));
  fs.chmodSync(dir, 0o755); // as root, PostgreSQL runs as its own user, which must reach the data folder
  const port = await freePort();
  let server = await startEmbeddedPostgres(path.join(dir, 'data'), port);
  return {
    url: server.url,
    async restart(whileDown) {
      await server.stop();
      await whileDown();
      server = await startEmbeddedPostgres(path.join(dir, 'data'), port);
    },
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The runtime role test and bench stores log in as, as workers do: it owns nothing. */
const RUNTIME = { user: 'capa_runtime', password: 'capa-runtime-password' };

/**
 * A database on the server, made and migrated by its owner (the superuser): the URL of the runtime role to it, which
 * is what the workers and the CLI are given.
 */
export async function migratedDatabase(server: EmbeddedPostgres, name: string): Promise<string> {
  const owner = server.url(name);
  const runtime = new URL(owner);
  runtime.username = RUNTIME.user;
  runtime.password = RUNTIME.password;
  await ensureDatabase(owner, runtime.toString());
  await migrateStore(owner, runtime.toString(), silentLogger);
  return runtime.toString();
}
