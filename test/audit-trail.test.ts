import type { AuditEntry } from '../src/store/audit-trail';
import { entryHash } from '../src/store/entry-hash';
import { GENESIS } from '../src/store/audit-trail';
import { exportTrail } from '../src/cli/audit-trail-output';
import fs from 'node:fs';
import { type CsvRecord, parseCsv } from '../src/sources/csv';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../src/store/store';
import crypto from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { AuditSigner } from '../src/audit/signing-key';
import { testDatabaseUrl, testSql, testStore } from './helpers/postgres';

const entry = (recordId: string, newValue: string | number, field = 'priority__c'): AuditEntry => ({
  kind: 'write',
  time: '2026-11-24T02:00:00.000Z',
  object: 'capa__c',
  recordId,
  field,
  oldValue: 'Low',
  newValue,
  batchId: 'b1',
  actor: 'integration',
  sourceTimestamp: '2026-11-24T01:00:00.000Z',
});

/** An exported CSV's rows by column name, read with the project's RFC 4180 reader. */
async function csvRows(file: string): Promise<Record<string, string>[]> {
  const records: CsvRecord[] = [];
  for await (const r of parseCsv(fs.createReadStream(file, 'utf8'), 1e6)) records.push(r);
  const [header, ...rows] = records;
  return rows.map((r) => Object.fromEntries(header.cells.map((name, i) => [name, r.cells[i]])));
}

let store: Store;
let sql: Pool;
beforeEach(async () => {
  const url = await testDatabaseUrl();
  store = await testStore(url);
  sql = testSql(url);
});

it('audits a retried or zombie write once: the attempt that comes second adds nothing', async () => {
  await store.audit.append([entry('R1', 'High'), entry('R1', 7, 'risk_score__c')], 'w1');
  await store.audit.append([entry('R1', 'High'), entry('R1', 7, 'risk_score__c')], 'w1');
  // Two attempts at once (a zombie and its retry): the chain lock and the unique key let one through.
  await Promise.all([
    store.audit.append([entry('R2', 'Medium')], 'w2'),
    store.audit.append([entry('R2', 'Medium')], 'w2'),
  ]);
  expect((await store.audit.writes()).map((e) => [e.recordId, e.field, e.newValue, e.writeId])).toEqual([
    ['R1', 'priority__c', 'High', 'w1'],
    ['R1', 'risk_score__c', 7, 'w1'],
    ['R2', 'priority__c', 'Medium', 'w2'],
  ]);
  expect(await store.audit.lastOwnWrites('capa__c', 'R1', ['priority__c', 'due_date__c'], '2026-11-01')).toEqual({
    priority__c: { value: 'High', sourceTimestamp: '2026-11-24T01:00:00.000Z' },
  });
  expect(await store.audit.verify()).toEqual({ entries: 3, anchors: 0, problems: [] });
});

it('hashes a write once when one call carries it twice (a retry auditing an earlier attempt and its own write)', async () => {
  const twice = { ...entry('R3', 'High'), writeId: 'w3' };
  await store.audit.append([twice, twice, { ...entry('R4', 'Low'), writeId: 'w4' }]);
  expect((await store.audit.writes()).map((e) => [e.recordId, e.writeId])).toEqual([
    ['R3', 'w3'],
    ['R4', 'w4'],
  ]);
  expect(await store.audit.verify()).toEqual({ entries: 2, anchors: 0, problems: [] });
});

it('hashes RFC 8785 canonical JSON that an auditor recomputes from the export, and still verifies older entries', async () => {
  // An entry written before RFC 8785 (hash version 1), as the owner's migration left it.
  const old = entry('R0', 'Medium');
  const oldHash = entryHash(GENESIS, { ...old, writeId: 'w0' }, 1);
  await sql.query(
    `INSERT INTO audit_entries (time, object, record_id, field, old_value, new_value, batch_id, actor, write_id,
       source_timestamp, prev_hash, hash) VALUES ($1, 'capa__c', 'R0', 'priority__c', '"Low"', '"Medium"', 'b1',
       'integration', 'w0', $2, $3, $4)`,
    [old.time, old.sourceTimestamp, GENESIS, oldHash],
  );
  await store.audit.append([{ ...entry('R1', 16.5, 'risk_score__c'), reason: 'ünïcode "quoted"' }], 'w1');
  const [first, second] = await store.audit.read();
  expect([first.hashVersion, second.hashVersion]).toEqual([1, 2]);
  expect(await store.audit.verify()).toEqual({ entries: 2, anchors: 0, problems: [] });
  // The auditor's recomputation: sha256 over prev_hash followed by the hashed content, keys in RFC 8785 order.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-export-'));
  await exportTrail(store.audit, { from: '2000-01-01', to: '2100-01-01' }, path.join(dir, 'trail.csv'));
  const rows = await csvRows(path.join(dir, 'trail.csv'));
  const row = rows.find((r) => r.record_id === 'R1')!;
  expect(row.hash_version).toBe('2');
  expect(
    crypto
      .createHash('sha256')
      .update(row.prev_hash + row.hashed_content)
      .digest('hex'),
  ).toBe(row.hash);
  const content = JSON.parse(row.hashed_content) as Record<string, unknown>;
  expect(Object.keys(content)).toEqual(Object.keys(content).sort());
  expect(content).toMatchObject({
    record_id: 'R1',
    field: 'risk_score__c',
    new_value: 16.5,
    reason: 'ünïcode "quoted"',
  });
});

it('refuses UPDATE, DELETE and TRUNCATE of the trail', async () => {
  await store.audit.append([entry('R1', 'High')], 'w1');
  for (const statement of [
    `UPDATE audit_entries SET new_value = '"Low"'`,
    'DELETE FROM audit_entries',
    'TRUNCATE audit_entries',
  ])
    await expect(sql.query(statement)).rejects.toThrow(/append-only/);
  expect(await store.audit.read()).toHaveLength(1);
});

it('audit verify names the first entry edited or removed behind the trigger', async () => {
  for (const [i, id] of ['R1', 'R2', 'R3', 'R4'].entries()) await store.audit.append([entry(id, 'High')], `w${i}`);
  const db = await sql.connect();
  try {
    // Only the owner (or a superuser) can switch the trigger off; the chain still tells.
    await db.query("SET session_replication_role = 'replica'");
    await db.query(`UPDATE audit_entries SET new_value = '"Medium"' WHERE record_id = 'R3'`);
    expect(await store.audit.verify()).toEqual({
      entries: 2,
      anchors: 0,
      problems: [expect.stringMatching(/^entry 3 \(R3 priority__c\): its content does not match its hash/)],
    });
    await db.query(`UPDATE audit_entries SET new_value = '"High"' WHERE record_id = 'R3'`);
    await db.query(`DELETE FROM audit_entries WHERE record_id = 'R2'`);
    expect((await store.audit.verify()).problems).toEqual([expect.stringMatching(/^entry 3 .*removed or inserted/)]);
  } finally {
    db.release();
  }
});

describe('signed heads: what the owner of the database can do, and what the anchors show of it', () => {
  const signer = new AuditSigner(crypto.generateKeyPairSync('ed25519').privateKey);
  const publicKeys = [signer.publicKey];
  /** Five entries and the head signed after them, as a batch's end signs it; the anchor as published outside. */
  const signedTrail = async () => {
    for (const [i, id] of ['R1', 'R2', 'R3', 'R4', 'R5'].entries())
      await store.audit.append([entry(id, 'High')], `w${i}`);
    return store.audit.signHead(signer, 'test batch finished');
  };
  /** The owner's statements, as in the report: the trigger switched off for the change, then on again. */
  const asOwner = async (change: (db: PoolClient) => Promise<void>) => {
    const db = await sql.connect();
    try {
      await db.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
      await change(db);
      await db.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
    } finally {
      db.release();
    }
  };

  it('verifies an untouched trail up to its newest signed head', async () => {
    const anchor = await signedTrail();
    expect(await store.audit.verify({ publicKeys, anchors: [anchor] })).toEqual({
      entries: 5,
      anchors: 1,
      anchoredTo: anchor,
      problems: [],
    });
  });

  it('names a tail cut with the owner credentials, even with the copy in the store deleted', async () => {
    const published = await signedTrail();
    await asOwner(async (db) => {
      await db.query('DELETE FROM audit_entries WHERE seq > (SELECT max(seq) - 2 FROM audit_entries)');
      await db.query('DELETE FROM audit_anchors');
    });
    const result = await store.audit.verify({ publicKeys, anchors: [published] });
    expect(result.problems).toEqual([expect.stringMatching(/^entry 5, the head signed .* is gone: the trail was cut/)]);
  });

  it('names an entry rewritten with the chain recomputed, which the hash chain alone cannot see', async () => {
    const published = await signedTrail();
    const entries = await store.audit.writes();
    await asOwner(async (db) => {
      let prev = entries[1].prevHash;
      for (const e of entries.slice(1)) {
        const forged = e.recordId === 'R2' ? { ...e, newValue: 'Low' } : e;
        const hash = entryHash(prev, forged);
        await db.query('UPDATE audit_entries SET new_value = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [
          e.seq,
          JSON.stringify(forged.newValue),
          prev,
          hash,
        ]);
        prev = hash;
      }
    });
    expect((await store.audit.verify()).problems).toEqual([
      // The copy in the store is checked too: without the public key it proves nothing, and says so.
      expect.stringMatching(/anchor at entry 5 .* cannot be trusted: signed with key \w+, which is not among/),
    ]);
    const result = await store.audit.verify({ publicKeys, anchors: [published] });
    expect(result.problems).toEqual([
      expect.stringMatching(/^the trail up to entry 5 is not the one signed .*recomputed/),
    ]);
    expect(result.entries).toBe(5); // the chain itself verifies: only the signed head shows the forgery
  });

  it('refuses an anchor forged with another key or altered', async () => {
    const anchor = await signedTrail();
    const other = new AuditSigner(crypto.generateKeyPairSync('ed25519').privateKey).sign(anchor);
    // The head moved back one entry, with the signature of the real one: no longer what was signed.
    const altered = { ...anchor, seq: anchor.seq - 1 };
    const result = await store.audit.verify({ publicKeys, anchors: [other, altered] });
    expect(result.problems).toEqual([
      expect.stringMatching(/^the anchor at entry 5 .* not among the public keys given$/),
      expect.stringMatching(/^the anchor at entry 4 .* signature does not verify: it was forged or altered$/),
    ]);
    expect(result).toMatchObject({ anchors: 1, anchoredTo: anchor });
  });
});
