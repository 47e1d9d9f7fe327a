import type { RowResult } from '../src/contracts/batch-messages';
import { BatchStore } from '../src/store/batch-store';
import { poolSession, type Session, type Transaction } from '../src/store/session';
import { sqlAs, testDatabaseUrl, testSql } from './helpers/postgres';

// A page's store queries read the page's rows, not the batch's: each query's rows read from batch_rows are counted in
// its plan as PostgreSQL runs it (EXPLAIN ANALYZE, rolled back), on a batch of 20 pages with fresh statistics. A row
// condition the index cannot use makes every page read the rest of the batch; the bench measures what that costs.

const PAGES = 20;
const PAGE_SIZE = 1_000;
const PAGE = 10;

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** The rows a plan read from batch_rows: those its scans returned and those they read and dropped, in every loop. */
function batchRowsRead(node: PlanNode): number {
  const own =
    node['Relation Name'] === 'batch_rows'
      ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
        node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + batchRowsRead(child), 0);
}

/** The store's session, noting each query it sends (inside transactions too). */
function noting<S extends Session>(session: S, queries: Array<{ text: string; values?: unknown[] }>): S {
  return {
    ...session,
    query: (text: string, values?: unknown[]) => (queries.push({ text, values }), session.query(text, values)),
    transaction: (work: (tx: Transaction) => Promise<unknown>) =>
      session.transaction((tx) => work(noting(tx, queries))),
  };
}

it("reads only a page's rows in each query of the page: plan, intent, teams, outcomes, hand-offs, counts", async () => {
  const url = await testDatabaseUrl();
  const owner = testSql(url);
  await owner.query(
    `INSERT INTO batches (batch_id, run_id, source, object, mapping, status, valid_rows, page_size, page_starts)
     SELECT 'reads', 'run', 'test.csv', 'capa__c', '{}', 'prepared', $1 * $2, $2, array_agg(1 + p * $2 ORDER BY p)
     FROM generate_series(0, $1 - 1) p`,
    [PAGES, PAGE_SIZE],
  );
  await owner.query(
    `INSERT INTO batch_rows (batch_id, row_no, record_id, field_values)
     SELECT 'reads', n, 'V' || n, '{"priority__c": "High"}' FROM generate_series(1, $1) n`,
    [PAGES * PAGE_SIZE],
  );
  await owner.query('ANALYZE batch_rows');

  const queries: Array<{ text: string; values?: unknown[] }> = [];
  const store = new BatchStore(noting(poolSession(sqlAs(url)), queries));
  const { rows } = await store.page('reads', PAGE);
  expect(rows.map((r) => r.row)).toEqual(Array.from({ length: PAGE_SIZE }, (_, i) => PAGE * PAGE_SIZE + i + 1));
  const before = { priority__c: 'Low' };
  const tally = { changedRecords: PAGE_SIZE, fields: {} };
  await store.savePlan(
    'reads',
    PAGE,
    rows.map((r) => ({ row: r.row, planned: 'update' as const, before })),
    tally,
  );
  await store.saveIntent(
    'reads',
    rows.map((r) => ({ row: r.row, values: before })),
  );
  await store.saveTeams(
    'reads',
    rows.map((r) => ({ row: r.row, team: 'qa' })),
  );
  const [handed, ...written] = rows;
  const updated = written.map((r): RowResult => ({ row: r.row, recordId: r.id, outcome: 'updated' }));
  await store.savePage('reads', PAGE, updated, [{ row: handed, baseline: before }]);
  const handOffs = await store.handOffs('reads', PAGE);
  expect(handOffs.map((h) => h.row.row)).toEqual([handed.row]);
  const waiting: RowResult = { row: handed.row, recordId: handed.id, outcome: 'waiting', workflowId: 'w' };
  expect(await store.saveHandedOff('reads', PAGE, [waiting])).toMatchObject({
    updated: PAGE_SIZE - 1,
    waiting: 1,
  });

  const read: Array<[string, number]> = [];
  const client = await owner.connect();
  try {
    for (const q of queries.filter((q) => q.text.includes('batch_rows'))) {
      await client.query('BEGIN');
      const explained = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`, q.values);
      await client.query('ROLLBACK');
      read.push([q.text.replace(/\s+/g, ' ').slice(0, 60), batchRowsRead(explained.rows[0]['QUERY PLAN'][0].Plan)]);
    }
  } finally {
    client.release();
  }
  expect(read).toHaveLength(10); // every query of the page that touches batch_rows, transactions' too
  // Each read at most the page's rows (with the old conditions: the 10,000 after the page, or all 20,000).
  expect(read.filter(([, n]) => n > PAGE_SIZE)).toEqual([]);
});
