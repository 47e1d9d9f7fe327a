import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Session } from './session';
import { StoreRefused } from './store-errors';

/** A file staged by the CLI: `staged:<id>/<file name>` (the name keeps its extension, which gives the format). */
const STAGED = /^staged:([0-9a-f-]{36})\/(.+)$/;
const CHUNK_BYTES = 1024 * 1024;

export const isStaged = (source: string) => STAGED.test(source);

/** Export files staged in the store by the CLI, so that whichever worker prepares the batch can read them. */
export class StagedSources {
  constructor(private readonly db: Session) {}

  /** Copies a file (checked by the caller) from the operator's machine into the store; returns the batch's source. */
  async stage(file: string): Promise<string> {
    const id = crypto.randomUUID();
    const name = path.basename(file);
    const { size } = await fs.promises.stat(file);
    await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO staged_sources (staged_id, name, bytes) VALUES ($1, $2, $3)', [id, name, size]);
      let seq = 0;
      for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES }))
        await tx.query('INSERT INTO staged_source_chunks (staged_id, seq, data) VALUES ($1, $2, $3)', [
          id,
          seq++,
          chunk,
        ]);
    });
    return `staged:${id}/${name}`;
  }

  /** Writes a staged source into `dir` (the worker's scratch space) and returns the file. */
  async materialize(source: string, dir: string): Promise<string> {
    const [, id, name] = STAGED.exec(source)!;
    const { rowCount } = await this.db.query('SELECT 1 FROM staged_sources WHERE staged_id = $1', [id]);
    if (!rowCount) throw new StoreRefused(`staged source ${source} is not in the store`);
    const file = path.join(dir, path.basename(name));
    const out = fs.createWriteStream(file);
    try {
      for (let seq = 0; ; seq++) {
        const { rows } = await this.db.query<{ data: Buffer }>(
          'SELECT data FROM staged_source_chunks WHERE staged_id = $1 AND seq = $2',
          [id, seq],
        );
        if (!rows.length) break;
        if (!out.write(rows[0].data)) await new Promise((resolve) => out.once('drain', () => resolve(undefined)));
      }
    } finally {
      await new Promise((resolve) => out.end(() => resolve(undefined)));
    }
    return file;
  }
}
