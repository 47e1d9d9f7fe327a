import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCsv } from '../src/sources/csv';
import { DEFAULT_MAPPING } from '../src/sources/mapping';
import { prepareBatch, readJsonLines, readPage, batchFiles } from '../src/sources/prepare-batch';
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
    const prepared = await prepareBatch({ file }, DEFAULT_MAPPING, dir, 2);
    expect(prepared).toMatchObject({
      inputRows: 10,
      validRows: 2,
      rejected: 7,
      superseded: 1,
      ignoredColumns: ['comment', 'state__v'],
    });
    const rejected = await readJsonLines<{ row: number; field: string; reason: string }>(batchFiles(dir).rejected);
    expect(rejected.map((r) => [r.row, r.field])).toEqual([
      [2, 'capa_id'],
      [3, 'priority'],
      [4, 'risk_score'],
      [5, 'due_date'],
      [7, 'comment'],
      [8, '*'],
      [10, 'priority'],
    ]);
    expect(rejected[0].reason).toContain('invalid record id');
    expect(rejected[6].reason).toBe('not valid UTF-8');
    const rows = await readPage(dir, prepared, 0);
    expect(rows).toEqual([
      { row: 6, id: 'A1', values: { priority__c: 'Medium' } },
      { row: 9, id: 'A7', values: { priority__c: 'Low', risk_score__c: 7, due_date__c: '2027-01-01' } },
    ]);
    expect(JSON.stringify(rows)).not.toContain('state__v');
  });

  it('streams JSON and JSON Lines sources, paging by offset', async () => {
    const dir = tmp();
    const items = Array.from({ length: 5 }, (_, i) => ({ capa_id: `J${i}`, priority: 'High', extra: 1 }));
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(items));
    fs.writeFileSync(path.join(dir, 'a.jsonl'), items.map((i) => JSON.stringify(i)).join('\n') + '\nnot json\n');
    const fromJson = await prepareBatch({ file: path.join(dir, 'a.json') }, DEFAULT_MAPPING, path.join(dir, 'j'), 2);
    expect(fromJson).toMatchObject({
      inputRows: 5,
      validRows: 5,
      pageOffsets: [0, expect.any(Number), expect.any(Number)],
      ignoredColumns: ['extra'],
    });
    expect((await readPage(path.join(dir, 'j'), fromJson, 2)).map((r) => r.id)).toEqual(['J4']);
    const fromLines = await prepareBatch({ file: path.join(dir, 'a.jsonl') }, DEFAULT_MAPPING, path.join(dir, 'l'), 2);
    expect(fromLines).toMatchObject({ inputRows: 6, validRows: 5, rejected: 1 });
  });

  it('fails, rather than taking the worker down, when a prepared file cannot be written', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify([{ capa_id: 'J1', priority: 'High' }]));
    fs.mkdirSync(batchFiles(path.join(dir, 'b')).rows, { recursive: true }); // a folder where rows.jsonl goes
    await expect(
      prepareBatch({ file: path.join(dir, 'a.json') }, DEFAULT_MAPPING, path.join(dir, 'b'), 2),
    ).rejects.toThrow(/EISDIR/);
  });
});
