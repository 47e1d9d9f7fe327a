import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCsv } from '../src/sources/csv';
import { DEFAULT_MAPPING } from '../src/sources/mapping';
import { prepareBatch } from '../src/sources/prepare-batch';
import type { BatchStore } from '../src/store/batch-store';
import { testDatabaseUrl, testStore } from './helpers/postgres';
import { splitJsonArray } from '../src/sources/json-stream';

async function* chunks(...parts: string[]) {
  yield* parts;
}
async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'capa-src-'));

let batches: BatchStore;
beforeAll(async () => {
  batches = (await testStore(await testDatabaseUrl())).batches;
});

/** Prepares a source file into the store as the batch's prepare activity does. */
const prepareInStore = (batchId: string, file: string, pageSize: number, runId = 'run-1') =>
  batches.prepare(
    { batchId, runId, kind: 'batch', source: file, object: 'capa__c', mapping: DEFAULT_MAPPING, pageSize },
    (stage) => prepareBatch({ file }, DEFAULT_MAPPING, pageSize, stage),
    async () => [],
  );
const pageRows = async (batchId: string, page: number) =>
  (await batches.page(batchId, page)).rows.map(({ row, id, values }) => ({ row, id, values }));

describe('CSV reader', () => {
  it('handles quotes, embedded commas and newlines, CRLF and a BOM, across chunk boundaries', async () => {
    const text = '\uFEFFa,b,c\r\n1,"x, ""quoted""",3\r\n"multi\nline",,"end"\r\n';
    for (const split of [1, 5, text.length]) {
      const parts = text.match(new RegExp(`[\\s\\S]{1,${split}}`, 'g'))!;
      const records = await all(parseCsv(chunks(...parts), 1000));
      expect(records.map((r) => r.cells)).toEqual([
        ['a', 'b', 'c'],
        ['1', 'x, "quoted"', '3'],
        ['multi\nline', '', 'end'],
      ]);
      expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
    }
  });

  it('flags an oversized cell without buffering it', async () => {
    const [, rec] = await all(parseCsv(chunks('a,b\n', 'ok,', 'y'.repeat(5000), '\n'), 100));
    expect(rec.oversized).toEqual([1]);
    expect(rec.cells[1]).toHaveLength(100);
  });
});

it('splits a JSON array into elements, whatever the chunking', async () => {
  const text = '[{"a":"x,]"}, {"b":[1,2]} ,{"c":"\\"}"}]';
  const parts = text.split('');
  expect(await all(splitJsonArray(chunks(...parts), 100))).toEqual([
    { text: '{"a":"x,]"}' },
    { text: ' {"b":[1,2]} ' },
    { text: '{"c":"\\"}"}' },
  ]);
});

describe('preparing a batch', () => {
  it('rejects bad rows with row, field and reason, supersedes duplicates, and keeps every valid row', async () => {
    const dir = tmp();
    const file = path.join(dir, 'export.csv');
    fs.writeFileSync(
      file,
      [
        'capa_id,priority,risk_score,due_date,state__v,comment',
        'A1,High,10,2027-01-01,approved_state__c,x', // row 1: superseded by row 6
        "x') OR id CONTAINS ('y,High,10,2027-01-01,,", // row 2: VQL injection in the id
        'A2,=HYPERLINK("http://evil"),10,2027-01-01,,', // row 3: CSV injection
        'A3,Low,101,2027-01-01,,', // row 4: out of range
        'A4,Low,5,2027-02-30,,', // row 5: not a real date
        'A1,Medium,,,,', // row 6: wins over row 1
        `A5,Low,5,2027-01-01,,${'z'.repeat(200_000)}`, // row 7: a huge cell
        'A6,Low,5', // row 8: too few cells
        'A7,Low,7,2027-01-01,,',
      ].join('\n') + '\n',
    );
    const invalidUtf8 = Buffer.concat([
      fs.readFileSync(file),
      Buffer.from('A8,Lo'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('w,1,2027-01-01,,\n'),
    ]);
    fs.writeFileSync(file, invalidUtf8);
    const staged: unknown[] = [];
    const prepared = await prepareBatch({ file }, DEFAULT_MAPPING, 2, (row) => void staged.push(row));
    expect(prepared).toMatchObject({
      inputRows: 10,
      validRows: 3,
      rejected: 7,
      repeated: { recordIds: ['A1'], lastRows: [6] },
      pageStarts: [6],
      ignoredColumns: ['comment', 'state__v'],
    });
    expect(staged).toHaveLength(10);
    expect(await prepareInStore('csv-1', file, 2)).toEqual({ inputRows: 10, pages: 1, rejected: 7, superseded: 1 });
    const rejected = await batches.firstResults('csv-1', ['rejected'], 100);
    expect(rejected.map((r) => [r.row, r.field])).toEqual([
      [2, 'capa_id'],
      [3, 'priority'],
      [4, 'risk_score'],
      [5, 'due_date'],
      [7, 'comment'],
      [8, '*'],
      [10, 'priority'],
    ]);
    expect(rejected[0].message).toContain('invalid record id');
    expect(rejected[6].message).toBe('not valid UTF-8');
    expect(await batches.firstResults('csv-1', ['superseded'], 100)).toEqual([
      { row: 1, recordId: 'A1', outcome: 'superseded', message: 'superseded by row 6' },
    ]);
    const rows = await pageRows('csv-1', 0);
    expect(rows).toEqual([
      { row: 6, id: 'A1', values: { priority__c: 'Medium' } },
      { row: 9, id: 'A7', values: { priority__c: 'Low', risk_score__c: 7, due_date__c: '2027-01-01' } },
    ]);
    expect(JSON.stringify(rows)).not.toContain('state__v');
  });

  it('streams JSON and JSON Lines sources, paging by row number', async () => {
    const dir = tmp();
    const items = Array.from({ length: 5 }, (_, i) => ({ capa_id: `J${i}`, priority: 'High', extra: 1 }));
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(items));
    fs.writeFileSync(path.join(dir, 'a.jsonl'), items.map((i) => JSON.stringify(i)).join('\n') + '\nnot json\n');
    expect(await prepareInStore('json-1', path.join(dir, 'a.json'), 2)).toEqual({
      inputRows: 5,
      pages: 3,
      rejected: 0,
      superseded: 0,
    });
    expect((await batches.batch('json-1'))!.ignoredColumns).toEqual(['extra']);
    expect((await pageRows('json-1', 2)).map((r) => r.id)).toEqual(['J4']);
    expect(await prepareInStore('jsonl-1', path.join(dir, 'a.jsonl'), 2)).toMatchObject({ inputRows: 6, rejected: 1 });
  });

  it('leaves nothing of a failed prepare, prepares once, and refuses another run under the same batch id', async () => {
    const dir = tmp();
    const file = path.join(dir, 'a.json');
    fs.writeFileSync(file, JSON.stringify([{ capa_id: 'J1', priority: 'High' }]));
    const failing = batches.prepare(
      {
        batchId: 'once-1',
        runId: 'run-1',
        kind: 'batch',
        source: file,
        object: 'capa__c',
        mapping: DEFAULT_MAPPING,
        pageSize: 2,
      },
      async (stage) => {
        await stage({ valid: { row: 1, id: 'J1', values: { priority__c: 'High' } } });
        throw new Error('the worker lost its source half-way');
      },
      async () => [],
    );
    await expect(failing).rejects.toThrow(/half-way/);
    expect(await batches.batch('once-1')).toBeUndefined();
    expect(await prepareInStore('once-1', file, 2)).toEqual({ inputRows: 1, pages: 1, rejected: 0, superseded: 0 });
    expect(await prepareInStore('once-1', file, 2)).toEqual({ inputRows: 1, pages: 1, rejected: 0, superseded: 0 });
    expect((await batches.counts('once-1')).pending).toBe(1); // loaded once, not twice
    await expect(prepareInStore('once-1', file, 2, 'run-2')).rejects.toThrow(/already holds an earlier batch/);
  });
});
