import { testDatabaseUrl, testSql, testStore } from './helpers/postgres';

// The lock watcher's listing in the store: which waiting records a page holds, on a real PostgreSQL.

it("pages the object's waiting records by id, each with its latest batch's row, leaving out the ended and the other object's, and notes reads of waiting records only", async () => {
  const url = await testDatabaseUrl();
  const store = await testStore(url);
  const sql = testSql(url);
  const batch = (id: string, object: string, minutesAgo: number) =>
    sql.query(
      `INSERT INTO batches (batch_id, run_id, source, object, mapping, status, created_at)
       VALUES ($1, 'run', 'export.csv', $2, '{}', 'finished', now() - make_interval(mins => $3))`,
      [id, object, minutesAgo],
    );
  await batch('night-1', 'capa__c', 60);
  await batch('night-2', 'capa__c', 10);
  await batch('other', 'deviation__c', 5);
  // Records R01..R25 wait from night 1; R05 waits again from night 2 (another run); R07's row has ended; night 2 also
  // hands over R30; the other object has a waiting R02 of its own.
  type Row = [batchId: string, rowNo: number, recordId: string, workflowId: string, resolution: string | null];
  const rows: Row[] = [
    ...Array.from({ length: 25 }, (_, i): Row => {
      const id = `R${String(i + 1).padStart(2, '0')}`;
      return ['night-1', i + 1, id, `wf-${id}-1`, id === 'R07' ? 'applied' : null];
    }),
    ['night-2', 1, 'R05', 'wf-R05-2', null],
    ['night-2', 2, 'R30', 'wf-R30-2', null],
    ['other', 1, 'R02', 'wf-other-R02', null],
  ];
  for (const [batchId, rowNo, recordId, workflowId, resolution] of rows)
    await sql.query(
      `INSERT INTO batch_rows (batch_id, row_no, record_id, outcome, workflow_id, resolution)
       VALUES ($1, $2, $3, 'waiting', $4, $5)`,
      [batchId, rowNo, recordId, workflowId, resolution],
    );
  // R07's workflow has settled its row (and forgotten the record): a late note of it leaves no row behind.
  await store.watchers.noteReads('capa__c', [
    { recordId: 'R03', state: 'in_review__c', told: 'in_review__c' },
    { recordId: 'R07', state: 'closed__c', told: 'closed__c' },
  ]);
  const noted = await sql.query('SELECT record_id FROM watched_records ORDER BY record_id');
  expect(noted.rows).toEqual([{ record_id: 'R03' }]);

  const pages: Array<Awaited<ReturnType<typeof store.watchers.waitingPage>>> = [];
  for (let after = ''; ;) {
    const page = await store.watchers.waitingPage('capa__c', after, 10);
    if (!page.length) break;
    pages.push(page);
    after = page[page.length - 1].recordId;
  }
  expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
  const listed = pages.flat();
  const expected = [...Array.from({ length: 25 }, (_, i) => `R${String(i + 1).padStart(2, '0')}`), 'R30'];
  expect(listed.map((r) => r.recordId)).toEqual(expected.filter((id) => id !== 'R07'));
  expect(listed.find((r) => r.recordId === 'R05')).toEqual({ recordId: 'R05', workflowId: 'wf-R05-2' });
  expect(listed.find((r) => r.recordId === 'R02')).toEqual({ recordId: 'R02', workflowId: 'wf-R02-1' });
  expect(listed.find((r) => r.recordId === 'R03')).toEqual({
    recordId: 'R03',
    workflowId: 'wf-R03-1',
    toldState: 'in_review__c',
  });
});

it('keeps a tell a refused write took back, counts recent unlock tells still waiting, and starts a handed record afresh', async () => {
  const url = await testDatabaseUrl();
  const store = await testStore(url);
  const sql = testSql(url);
  const object = 'pacing__c';
  await sql.query(
    `INSERT INTO batches (batch_id, run_id, source, object, mapping, status)
     VALUES ('p', 'run', 'x.csv', $1, '{}', 'finished')`,
    [object],
  );
  for (const [rowNo, recordId] of ['P1', 'P2', 'P3', 'P4'].entries())
    await sql.query(
      `INSERT INTO batch_rows (batch_id, row_no, record_id, outcome, workflow_id) VALUES ('p', $1, $2, 'waiting', $3)`,
      [rowNo + 1, recordId, `wf-${recordId}`],
    );
  const told = (recordId: string, state: string, unlock: boolean) => ({ recordId, state, told: state, unlock });
  const toldState = async (recordId: string) =>
    (await sql.query('SELECT told_state FROM watched_records WHERE record_id = $1', [recordId])).rows[0]?.told_state;

  // P1's write is refused as locked (untell) after the watcher told it and before the watcher noted that tell.
  const tellStarted = new Date();
  await store.watchers.noteReads(object, [{ recordId: 'P1', state: 'in_review__c' }]);
  await store.watchers.untell(object, ['P1']);
  await store.watchers.noteReads(object, [told('P1', 'closed__c', true)], tellStarted);
  expect(await toldState('P1')).toBeNull(); // the next tick tells it again
  // A tell noted long after an earlier untell is noted.
  await sql.query("UPDATE watched_records SET untold_at = now() - interval '1 hour' WHERE record_id = 'P1'");
  await store.watchers.noteReads(object, [told('P1', 'closed__c', true)]);
  expect(await toldState('P1')).toBe('closed__c');

  // In flight: unlock tells within the window that still wait; not a lock's tell, not a settled record's.
  await store.watchers.noteReads(object, [
    told('P2', 'closed__c', true),
    told('P3', 'in_review__c', false),
    told('P4', 'closed__c', true),
  ]);
  await sql.query("UPDATE batch_rows SET resolution = 'applied' WHERE record_id = 'P4'");
  const inFlight = await store.watchers.unlocksInFlight(object, 60_000);
  expect(inFlight.map((r) => r.recordId).sort()).toEqual(['P1', 'P2']);
  expect(inFlight.every((r) => r.toldMsAgo >= 0 && r.toldMsAgo < 60_000)).toBe(true);
  await sql.query("UPDATE watched_records SET unlock_told_at = now() - interval '2 minutes' WHERE record_id = 'P2'");
  expect((await store.watchers.unlocksInFlight(object, 60_000)).map((r) => r.recordId)).toEqual(['P1']);

  // Handed to a new workflow that read it unlocked: what was told before is gone, so the watcher tells it again.
  await store.watchers.handedOver(object, [{ recordId: 'P1', state: 'closed__c' }]);
  expect(await toldState('P1')).toBeNull();
  expect((await store.watchers.unlocksInFlight(object, 60_000)).map((r) => r.recordId)).toEqual([]);
});

it('keeps the resolution of a record whose workflow settled while its hand-off was being saved, and does not watch it', async () => {
  const url = await testDatabaseUrl();
  const store = await testStore(url);
  const sql = testSql(url);
  const object = 'race__c';
  await sql.query(
    `INSERT INTO batches (batch_id, run_id, source, object, mapping, status, page_starts)
     VALUES ('night', 'run', 'x.csv', $1, '{}', 'prepared', '{1}')`,
    [object],
  );
  await sql.query(
    `INSERT INTO batch_rows (batch_id, row_no, record_id, outcome)
     VALUES ('night', 1, 'H1', 'hand-off'), ('night', 2, 'H2', 'hand-off'), ('night', 3, 'H3', 'hand-off')`,
  );
  // A running record workflow takes the batch's values by signal-with-start, writes them and settles, while the
  // batch's hand-off of the page has not reached the store (H1), or has not committed (H3).
  const settles = (recordId: string) =>
    store.batches
      .settle(`wf-${recordId}`, 'night', 'applied', recordId)
      .then(() => store.watchers.forget(object, recordId));
  await settles('H1');
  let h3Settled: Promise<void> | undefined;
  const ids = ['H1', 'H2', 'H3'];
  // The page's hand-off transaction, in handOffPage's order: the rows, then the watcher's start.
  await store.transaction(async (tx) => {
    await tx.batches.saveHandedOff(
      'night',
      0,
      ids.map((recordId, i) => ({
        ...{ row: i + 1, recordId, outcome: 'waiting' as const },
        ...{ workflowId: `wf-${recordId}`, vaultState: 'in_review__c' },
      })),
    );
    h3Settled = settles('H3');
    await new Promise((resolve) => setTimeout(resolve, 300)); // H3's settle reaches the store meanwhile
    await tx.watchers.handedOver(
      object,
      ids.map((recordId) => ({ recordId, state: 'in_review__c', told: 'in_review__c' })),
    );
  });
  await h3Settled;
  const rows = await sql.query('SELECT record_id, resolution FROM batch_rows WHERE outcome = $1 ORDER BY row_no', [
    'waiting',
  ]);
  expect(rows.rows).toEqual([
    { record_id: 'H1', resolution: 'applied' },
    { record_id: 'H2', resolution: null },
    { record_id: 'H3', resolution: 'applied' },
  ]);
  // H2 waits, and the watcher starts from the batch's read of it; H1 and H3 are not watched.
  expect((await sql.query('SELECT record_id, told_state FROM watched_records')).rows).toEqual([
    { record_id: 'H2', told_state: 'in_review__c' },
  ]);
  expect((await store.watchers.waitingPage(object, '', 10)).map((r) => r.recordId)).toEqual(['H2']);
});
