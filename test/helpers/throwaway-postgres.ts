import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev-server';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../../src/store/embedded-postgres';

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
