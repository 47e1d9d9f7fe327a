import { from as copyFrom } from 'pg-copy-streams';
import { finished } from 'node:stream/promises';
import type { Mapping } from '../sources/mapping';
import type { PreparedBatch, StagedRow } from '../sources/prepare-batch';
import type { ValidRow } from '../sources/validate-row';
import type { FieldValues } from '../contracts/field-values';
import { OutcomeCounts, ROW_OUTCOMES, RowOutcome, RowResult, zeroCounts } from '../contracts/batch-messages';
import type { AuditAnchor } from '../contracts/audit-anchor';
import { inPages, present } from './rows';
import type { Session } from './session';
import {
  type PlanCounts,
  type PlannedAction,
  type GateTally,
  type PlannedRow,
  type PlanResult,
  zeroPlanCounts,
} from '../contracts/plan-messages';
import { PLANNED_OUTCOME } from '../contracts/row-decision';
import { StoreRefused } from './store-errors';
import { copyLine } from './copy';
import { LineWriter } from './line-writer';

/** A live row of a page, with what an earlier attempt of the page left for it. */
export interface PageRow extends ValidRow {
  /** A record workflow for the record was running when the batch was prepared. */
  running: boolean;
  /** The values read before an earlier attempt's bulk update (the page intent). */
  valuesBefore?: FieldValues;
}

/** A row whose record goes to its record workflow, with the Vault state the batch saw (its baseline). */
export interface HandOff {
  row: ValidRow;
  baseline: FieldValues;
  vaultState?: string;
  /** The team responsible for the record (the default team where none is stored). */
  team?: string;
}

export interface BatchRecord {
  batchId: string;
  kind: BatchKind;
  source: string;
  status: BatchStatus;
  inputRows: number;
  ignoredColumns: string[];
  pages: number;
  createdAt: string;
  finishedAt?: string;
  /** The audit chain's head signed when the batch finished. */
  auditAnchor?: AuditAnchor;
  /** A revert's: the batch whose values it restores. */
  reverts?: string;
}

export type BatchStatus = 'preparing' | 'prepared' | 'finished';
/** A batch writes; a plan (`capa-sync plan`) stops after its reads. */
export type BatchKind = 'batch' | 'plan';

/** The tables' rows as pg returns them (jsonb parsed, timestamptz as Date). */
interface BatchesRow {
  batch_id: string;
  run_id: string;
  source: string;
  status: BatchStatus;
  kind: BatchKind;
  input_rows: number | null;
  ignored_columns: string[] | null;
  created_at: Date;
  finished_at: Date | null;
  audit_anchor: AuditAnchor | null;
  reverts: string | null;
}

interface BatchRowsRow {
  row_no: number;
  record_id: string | null;
  field_values: FieldValues | null;
  expected_values: FieldValues | null;
  source_timestamp: string | null;
  outcome: RowOutcome | 'hand-off' | null;
  field: string | null;
  error_type: string | null;
  message: string | null;
  vault_state: string | null;
  workflow_id: string | null;
  values_before: FieldValues | null;
  baseline: FieldValues | null;
  resolution: string | null;
  planned: PlannedAction | null;
  planned_before: FieldValues | null;
  planned_state: string | null;
}

/** A live row (valid, not superseded): it has a record and values. */
type LiveRow = Pick<BatchRowsRow, 'row_no' | 'source_timestamp'> & {
  record_id: string;
  field_values: FieldValues;
  expected_values?: FieldValues | null;
};

interface CountRow {
  outcome: BatchRowsRow['outcome'];
  n: number;
}

const COPY_ROWS = `COPY batch_rows
  (batch_id, row_no, record_id, field_values, expected_values, source_timestamp, outcome, field, message) FROM STDIN`;

function stagedLine(batchId: string, r: StagedRow): string {
  if (!('valid' in r)) return copyLine([batchId, r.row, null, null, null, null, 'rejected', r.field, r.reason]);
  const { row, id, values, expected, sourceTimestamp } = r.valid;
  const json = (v: FieldValues | undefined) => (v ? JSON.stringify(v) : null);
  return copyLine([batchId, row, id, json(values), json(expected), sourceTimestamp, null, null, null]);
}

/** Row results are read this many at a time. */
const RESULTS_PAGE = 10_000;

/**
 * The rows an update names by row number ($2), whose range is an index condition too: joined by row number alone, the
 * planner read every row of the batch for each page's update, O(rows squared) in a batch.
 */
const NAMED_ROWS = `r.batch_id = $1 AND r.row_no = x.row_no
  AND r.row_no BETWEEN (SELECT min(n) FROM unnest($2::int[]) n) AND (SELECT max(n) FROM unnest($2::int[]) n)`;

/**
 * Rows of a page: the live rows from the page's first row number up to the next page's. Both bounds are index
 * conditions (past the last page's start the array gives NULL): with an upper bound the index could not use, each
 * page's queries read every row after the page.
 */
const PAGE_RANGE = `r.batch_id = $1 AND r.row_no >= b.page_starts[$2 + 1]
  AND r.row_no < coalesce(b.page_starts[$2 + 2], ${2 ** 31 - 1})
  AND r.field_values IS NOT NULL AND r.outcome IS DISTINCT FROM 'superseded'`;

/** Batches, their rows and each row's outcome, in PostgreSQL: any worker carries on where another stopped. */
export class BatchStore {
  constructor(private readonly db: Session) {}

  /**
   * Prepares a batch in one transaction: its rows are loaded by COPY as `load` streams them, earlier rows of a record
   * are superseded, and the record workflows running now are noted. A retried attempt finds the batch prepared, or
   * nothing of it; an attempt of another run under the same id is refused.
   */
  async prepare(
    batch: {
      batchId: string;
      runId: string;
      kind: BatchKind;
      source: string;
      object: string;
      mapping: Mapping;
      pageSize: number;
      reverts?: string;
    },
    load: (stage: (row: StagedRow) => Promise<void> | undefined) => Promise<PreparedBatch>,
    running: () => Promise<string[]>,
  ): Promise<{ inputRows: number; pages: number; rejected: number; superseded: number }> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO batches (batch_id, run_id, source, object, mapping, status, kind, reverts)
         VALUES ($1, $2, $3, $4, $5, 'preparing', $6, $7) ON CONFLICT (batch_id) DO NOTHING`,
        [
          ...[batch.batchId, batch.runId, batch.source, batch.object, JSON.stringify(batch.mapping)],
          ...[batch.kind, batch.reverts ?? null],
        ],
      );
      const { rows: owner } = await tx.query<Pick<BatchesRow, 'run_id' | 'source' | 'status'>>(
        'SELECT run_id, source, status FROM batches WHERE batch_id = $1 FOR UPDATE',
        [batch.batchId],
      );
      if (owner[0].run_id !== batch.runId)
        throw new StoreRefused(
          `batch id ${batch.batchId} already holds an earlier batch (source ${owner[0].source}); use a new id`,
        );
      if (owner[0].status !== 'preparing') return preparedSummary(tx, batch.batchId);

      const copy = tx.client.query(copyFrom(COPY_ROWS));
      const writer = new LineWriter(copy);
      let prepared: PreparedBatch;
      try {
        prepared = await load((row) => writer.write(stagedLine(batch.batchId, row)));
        await writer.flush();
      } catch (err) {
        copy.destroy(err as Error);
        await finished(copy).catch(() => undefined);
        throw err;
      }
      copy.end();
      await finished(copy);
      await tx.query(
        `UPDATE batch_rows r SET outcome = 'superseded', message = 'superseded by row ' || l.last_row
         FROM unnest($2::text[], $3::int[]) AS l(record_id, last_row)
         WHERE r.batch_id = $1 AND r.record_id = l.record_id AND r.row_no <> l.last_row AND r.field_values IS NOT NULL`,
        [batch.batchId, prepared.repeated.recordIds, prepared.repeated.lastRows],
      );
      await tx.query(
        'INSERT INTO batch_running_records (batch_id, record_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [batch.batchId, await running()],
      );
      await tx.query(
        `UPDATE batches SET status = 'prepared', input_rows = $2, valid_rows = $3, ignored_columns = $4,
           page_size = $5, page_starts = $6, prepared_at = now() WHERE batch_id = $1`,
        [
          batch.batchId,
          prepared.inputRows,
          prepared.validRows,
          prepared.ignoredColumns,
          batch.pageSize,
          prepared.pageStarts,
        ],
      );
      return preparedSummary(tx, batch.batchId);
    });
  }

  /** A page's live rows, and whether the page was applied already (a retry after success). */
  async page(batchId: string, page: number): Promise<{ applied: boolean; rows: PageRow[] }> {
    const { rowCount } = await this.db.query(
      'SELECT 1 FROM batch_pages WHERE batch_id = $1 AND page = $2 AND applied_at IS NOT NULL',
      [batchId, page],
    );
    if (rowCount) return { applied: true, rows: [] };
    const { rows } = await this.db.query<LiveRow & Pick<BatchRowsRow, 'values_before'> & { running: boolean }>(
      `SELECT r.row_no, r.record_id, r.field_values, r.expected_values, r.source_timestamp, r.values_before,
         EXISTS (SELECT 1 FROM batch_running_records x WHERE x.batch_id = r.batch_id AND x.record_id = r.record_id)
           AS running
       FROM batch_rows r JOIN batches b USING (batch_id) WHERE ${PAGE_RANGE} ORDER BY r.row_no`,
      [batchId, page],
    );
    return {
      applied: false,
      rows: rows.map((r) => ({
        ...validRowOf(r),
        running: r.running,
        ...(r.values_before ? { valuesBefore: r.values_before } : {}),
      })),
    };
  }

  /** The page intent: the values each record held before the bulk update, saved before it is sent. */
  async saveIntent(batchId: string, before: { row: number; values: FieldValues }[]): Promise<void> {
    if (!before.length) return;
    await this.db.query(
      `UPDATE batch_rows r SET values_before = x.v FROM unnest($2::int[], $3::jsonb[]) AS x(row_no, v)
       WHERE ${NAMED_ROWS}`,
      [batchId, before.map((b) => b.row), before.map((b) => JSON.stringify(b.values))],
    );
  }

  /**
   * Saves a page's outcomes and hand-offs and marks it applied, in one transaction; called in the store's unit of
   * work, it commits with the page's audit entries.
   */
  savePage(batchId: string, page: number, results: RowResult[], handOffs: HandOff[]): Promise<OutcomeCounts> {
    return this.db.transaction(async (tx) => {
      await saveOutcomes(tx, batchId, results);
      await tx.query(
        `UPDATE batch_rows r SET outcome = 'hand-off', baseline = x.baseline, vault_state = x.vault_state
         FROM unnest($2::int[], $3::jsonb[], $4::text[]) AS x(row_no, baseline, vault_state)
         WHERE ${NAMED_ROWS}`,
        [
          batchId,
          handOffs.map((h) => h.row.row),
          handOffs.map((h) => JSON.stringify(h.baseline)),
          handOffs.map((h) => h.vaultState ?? null),
        ],
      );
      await tx.query(
        `INSERT INTO batch_pages (batch_id, page, applied_at) VALUES ($1, $2, now())
         ON CONFLICT (batch_id, page) DO UPDATE SET applied_at = now()`,
        [batchId, page],
      );
      return pageCounts(tx, batchId, page);
    });
  }

  /** The team responsible for each row's record, as the page's read routed it. */
  async saveTeams(batchId: string, teams: { row: number; team: string }[]): Promise<void> {
    if (!teams.length) return;
    await this.db.query(
      `UPDATE batch_rows r SET team = x.team FROM unnest($2::int[], $3::text[]) AS x(row_no, team)
       WHERE ${NAMED_ROWS}`,
      [batchId, teams.map((t) => t.row), teams.map((t) => t.team)],
    );
  }

  /** The outcomes of a page's live rows (a hand-off not yet done counts as nothing). */
  pageCounts(batchId: string, page: number): Promise<OutcomeCounts> {
    return pageCounts(this.db, batchId, page);
  }

  /** A page's rows still to hand off, or none where the page was handed off already. */
  async handOffs(batchId: string, page: number): Promise<HandOff[]> {
    const { rows } = await this.db.query<
      LiveRow & { baseline: FieldValues; vault_state: string | null; team: string | null }
    >(
      `SELECT r.row_no, r.record_id, r.field_values, r.source_timestamp, r.baseline, r.vault_state, r.team
       FROM batch_rows r JOIN batches b USING (batch_id) WHERE ${PAGE_RANGE} AND r.outcome = 'hand-off'
       ORDER BY r.row_no`,
      [batchId, page],
    );
    return rows.map((r) => ({
      row: validRowOf(r),
      baseline: r.baseline,
      vaultState: r.vault_state ?? undefined,
      ...(r.team ? { team: r.team } : {}),
    }));
  }

  async saveHandedOff(batchId: string, page: number, waiting: RowResult[]): Promise<OutcomeCounts> {
    return this.db.transaction(async (tx) => {
      await saveOutcomes(tx, batchId, waiting);
      await tx.query(
        `INSERT INTO batch_pages (batch_id, page, handed_off_at) VALUES ($1, $2, now())
         ON CONFLICT (batch_id, page) DO UPDATE SET handed_off_at = now()`,
        [batchId, page],
      );
      return pageCounts(tx, batchId, page);
    });
  }

  async batch(batchId: string): Promise<BatchRecord | undefined> {
    const { rows } = await this.db.query<Omit<BatchesRow, 'run_id'> & { pages: number }>(
      `SELECT batch_id, kind, source, status, coalesce(input_rows, 0) AS input_rows, ignored_columns,
         coalesce(array_length(page_starts, 1), 0) AS pages, created_at, finished_at, audit_anchor, reverts
       FROM batches WHERE batch_id = $1`,
      [batchId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      batchId: r.batch_id,
      kind: r.kind,
      source: r.source,
      status: r.status,
      inputRows: r.input_rows ?? 0,
      ignoredColumns: r.ignored_columns ?? [],
      pages: r.pages,
      createdAt: r.created_at.toISOString(),
      ...(r.finished_at ? { finishedAt: r.finished_at.toISOString() } : {}),
      ...present({ auditAnchor: r.audit_anchor, reverts: r.reverts }),
    };
  }

  /** Every row's outcome counted; rows without one yet are `pending`. */
  async counts(batchId: string): Promise<{ counts: OutcomeCounts; pending: number }> {
    const { rows } = await this.db.query<CountRow>(
      'SELECT outcome, count(*)::int AS n FROM batch_rows WHERE batch_id = $1 GROUP BY outcome',
      [batchId],
    );
    const pending = rows.filter((r) => !isRowOutcome(r.outcome)).reduce((sum, r) => sum + r.n, 0);
    return { counts: countsOf(rows), pending };
  }

  /** The batch's row results in row order, a page at a time (a large batch is never held whole). */
  results(batchId: string, outcomes: readonly RowOutcome[] = ROW_OUTCOMES): AsyncGenerator<RowResult> {
    return inPages(
      RESULTS_PAGE,
      (after) => this.resultsAfter(batchId, after, outcomes, RESULTS_PAGE),
      (r) => r.row,
    );
  }

  /** The first `limit` rows with one of the outcomes, in row order (of one team's records, where given). */
  firstResults(batchId: string, outcomes: RowOutcome[], limit: number, team?: string): Promise<RowResult[]> {
    return this.resultsAfter(batchId, 0, outcomes, limit, team);
  }

  /**
   * Each team's rows counted by outcome: the rows the batch read and routed (a row rejected, superseded or never read
   * is in no team's digest, only in the operators').
   */
  async teamCounts(batchId: string): Promise<Map<string, OutcomeCounts>> {
    const { rows } = await this.db.query<CountRow & { team: string }>(
      `SELECT team, outcome, count(*)::int AS n FROM batch_rows WHERE batch_id = $1 AND team IS NOT NULL
       GROUP BY 1, 2`,
      [batchId],
    );
    const teams = new Map<string, CountRow[]>();
    for (const r of rows) teams.set(r.team, [...(teams.get(r.team) ?? []), r]);
    return new Map([...teams].map(([team, counted]) => [team, countsOf(counted)]));
  }

  private async resultsAfter(
    batchId: string,
    after: number,
    outcomes: readonly RowOutcome[],
    limit: number,
    team?: string,
  ): Promise<RowResult[]> {
    const { rows } = await this.db.query<ResultRow>(
      `SELECT row_no, record_id, outcome, workflow_id, vault_state, field, error_type, message, resolution
       FROM batch_rows WHERE batch_id = $1 AND row_no > $2 AND outcome = ANY($3)
         AND ($5::text IS NULL OR team = $5)
       ORDER BY row_no LIMIT $4`,
      [batchId, after, outcomes, limit, team ?? null],
    );
    return rows.map(resultOf);
  }

  /**
   * What a plan found for a page's rows, and the gate's figures of them, in one transaction (a retried page writes
   * the same again).
   */
  savePlan(batchId: string, page: number, planned: PlannedRow[], gate: GateTally): Promise<void> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE batch_rows r SET planned = x.planned, planned_before = x.before, planned_state = x.state
         FROM unnest($2::int[], $3::text[], $4::jsonb[], $5::text[]) AS x(row_no, planned, before, state)
         WHERE ${NAMED_ROWS}`,
        [
          batchId,
          planned.map((p) => p.row),
          planned.map((p) => p.planned),
          planned.map((p) => (p.before ? JSON.stringify(p.before) : null)),
          planned.map((p) => p.vaultState ?? null),
        ],
      );
      await tx.query(
        `INSERT INTO batch_pages (batch_id, page, gate_tally) VALUES ($1, $2, $3)
         ON CONFLICT (batch_id, page) DO UPDATE SET gate_tally = excluded.gate_tally`,
        [batchId, page, JSON.stringify(gate)],
      );
    });
  }

  /**
   * Each page's gate figures in page order, as its plan kept them: null for a page not planned yet, or planned by
   * a release that did not keep them.
   */
  async gateTallies(batchId: string): Promise<Array<GateTally | null>> {
    const { rows } = await this.db.query<{ gate_tally: GateTally | null }>(
      `SELECT p.gate_tally FROM batches b CROSS JOIN generate_subscripts(b.page_starts, 1) AS s(n)
         LEFT JOIN batch_pages p ON p.batch_id = b.batch_id AND p.page = s.n - 1
       WHERE b.batch_id = $1 ORDER BY s.n`,
      [batchId],
    );
    return rows.map((r) => r.gate_tally);
  }

  /** A plan's rows counted by what they would do. */
  async planCounts(batchId: string): Promise<PlanCounts> {
    const { rows } = await this.db.query<{ action: keyof PlanCounts | null; n: number }>(
      `SELECT coalesce(outcome, planned) AS action, count(*)::int AS n FROM batch_rows WHERE batch_id = $1 GROUP BY 1`,
      [batchId],
    );
    const counts = zeroPlanCounts();
    for (const r of rows) if (r.action && r.action in counts) counts[r.action] += r.n;
    return counts;
  }

  /** A plan's rows in row order, a page at a time. */
  planResults(batchId: string): AsyncGenerator<PlanResult> {
    const page = async (after: number) => {
      const { rows } = await this.db.query<PlanResultRow>(
        `SELECT row_no, record_id, coalesce(outcome, planned) AS action, planned_state, planned_before, field_values,
           field, message
         FROM batch_rows WHERE batch_id = $1 AND row_no > $2 ORDER BY row_no LIMIT $3`,
        [batchId, after, RESULTS_PAGE],
      );
      return rows.map(planResultOf);
    };
    return inPages(RESULTS_PAGE, page, (r) => r.row);
  }

  /**
   * The rows whose outcome is not what the batch's gate read planned (Vault changed between the read and the write:
   * a record locked, edited or written meanwhile), the first `limit` of them, and how many there are.
   */
  async planDifferences(batchId: string, limit: number): Promise<{ count: number; rows: PlanDifference[] }> {
    const { rows } = await this.db.query<{
      row_no: number;
      record_id: string;
      planned: PlannedAction;
      outcome: RowOutcome;
      total: number;
    }>(
      `SELECT row_no, record_id, planned, outcome, count(*) OVER ()::int AS total FROM batch_rows
       WHERE batch_id = $1 AND planned IS NOT NULL AND error_type IS DISTINCT FROM 'BATCH_REJECTED'
         AND outcome IS DISTINCT FROM $3::jsonb ->> planned
       ORDER BY row_no LIMIT $2`,
      [batchId, limit, JSON.stringify(PLANNED_OUTCOME)],
    );
    return {
      count: rows[0]?.total ?? 0,
      rows: rows.map((r) => ({ row: r.row_no, recordId: r.record_id, planned: r.planned, outcome: r.outcome })),
    };
  }

  /** Fails every valid row without an outcome yet (nothing of them written): a batch rejected before it wrote. */
  async failUnwritten(batchId: string, errorType: string, message: string): Promise<void> {
    await this.db.query(
      `UPDATE batch_rows SET outcome = 'failed', error_type = $2, message = $3
       WHERE batch_id = $1 AND field_values IS NOT NULL AND outcome IS NULL`,
      [batchId, errorType, message],
    );
  }

  /** Keeps the audit head signed at the batch's end, for its report (a retried finish keeps the first). */
  async saveAuditAnchor(batchId: string, auditAnchor: AuditAnchor): Promise<void> {
    await this.db.query('UPDATE batches SET audit_anchor = coalesce(audit_anchor, $2) WHERE batch_id = $1', [
      batchId,
      JSON.stringify(auditAnchor),
    ]);
  }

  async finish(batchId: string): Promise<void> {
    await this.db.query(
      `UPDATE batches SET status = 'finished', finished_at = coalesce(finished_at, now()) WHERE batch_id = $1`,
      [batchId],
    );
  }

  /**
   * Records what a record workflow finally did on the waiting rows handed to it: `resolution` for the batch whose
   * values it wrote (or dropped), "replaced by batch" for earlier batches' rows whose values it no longer carried.
   * The batch's own row of the record may not be saved as waiting yet (the workflow took the values and settled
   * before the batch's hand-off reached the store): it is settled too, and stays settled when it is saved.
   */
  async settle(workflowId: string, batchId: string, resolution: string, recordId?: string): Promise<void> {
    await this.db.query(
      `UPDATE batch_rows r SET resolution = CASE WHEN r.batch_id = $2 THEN $3 ELSE 'replaced by batch ' || $2 END,
         resolved_at = now()
       FROM batches b
       WHERE b.batch_id = r.batch_id AND r.resolution IS NULL
         AND ((r.workflow_id = $1 AND r.outcome = 'waiting'
             AND b.created_at <= coalesce((SELECT created_at FROM batches WHERE batch_id = $2), now()))
           OR (r.batch_id = $2 AND r.record_id = $4 AND r.outcome = 'hand-off'))`,
      [workflowId, batchId, resolution, recordId ?? null],
    );
  }
}

async function preparedSummary(db: Session, batchId: string) {
  const { rows } = await db.query<{ input_rows: number; pages: number; rejected: number; superseded: number }>(
    `SELECT input_rows, coalesce(array_length(page_starts, 1), 0) AS pages,
       (SELECT count(*) FROM batch_rows WHERE batch_id = $1 AND outcome = 'rejected')::int AS rejected,
       (SELECT count(*) FROM batch_rows WHERE batch_id = $1 AND outcome = 'superseded')::int AS superseded
     FROM batches WHERE batch_id = $1`,
    [batchId],
  );
  const r = rows[0];
  return { inputRows: r.input_rows, pages: r.pages, rejected: r.rejected, superseded: r.superseded };
}

async function pageCounts(db: Session, batchId: string, page: number): Promise<OutcomeCounts> {
  const { rows } = await db.query<CountRow>(
    `SELECT r.outcome, count(*)::int AS n FROM batch_rows r JOIN batches b USING (batch_id)
     WHERE ${PAGE_RANGE} GROUP BY r.outcome`,
    [batchId, page],
  );
  return countsOf(rows);
}

async function saveOutcomes(db: Session, batchId: string, results: RowResult[]): Promise<void> {
  const col = <K extends keyof RowResult>(k: K) => results.map((r) => r[k] ?? null);
  await db.query(
    `UPDATE batch_rows r SET outcome = x.outcome, vault_state = x.vault_state, error_type = x.error_type,
       message = x.message, workflow_id = x.workflow_id, field = x.field
     FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
       AS x(row_no, outcome, vault_state, error_type, message, workflow_id, field)
     WHERE ${NAMED_ROWS}`,
    [
      ...[batchId, col('row'), col('outcome'), col('vaultState'), col('errorType'), col('message')],
      ...[col('workflowId'), col('field')],
    ],
  );
}

const isRowOutcome = (outcome: CountRow['outcome']): outcome is RowOutcome =>
  ROW_OUTCOMES.includes(outcome as RowOutcome);

function countsOf(rows: CountRow[]): OutcomeCounts {
  const counts = zeroCounts();
  for (const r of rows) if (isRowOutcome(r.outcome)) counts[r.outcome] += r.n;
  return counts;
}

/** A row the batch did otherwise than its gate's read planned. */
export interface PlanDifference {
  row: number;
  recordId: string;
  planned: PlannedAction;
  outcome: RowOutcome;
}

/** One row of a plan: what it would do, and for an update each field's value now and then. */
type PlanResultRow = Pick<
  BatchRowsRow,
  'row_no' | 'record_id' | 'planned_state' | 'planned_before' | 'field' | 'message'
> & {
  action: keyof PlanCounts;
  field_values: FieldValues | null;
};

function planResultOf(r: PlanResultRow): PlanResult {
  return {
    row: r.row_no,
    action: r.action,
    ...present({
      recordId: r.record_id,
      vaultState: r.planned_state,
      before: r.planned_before,
      values: r.field_values,
      field: r.field,
      message: r.message,
    }),
  };
}

function validRowOf(r: LiveRow): ValidRow {
  return {
    row: r.row_no,
    id: r.record_id,
    values: r.field_values,
    ...(r.source_timestamp ? { sourceTimestamp: r.source_timestamp } : {}),
    ...(r.expected_values ? { expected: r.expected_values } : {}),
  };
}

type ResultRow = Pick<
  BatchRowsRow,
  'row_no' | 'record_id' | 'workflow_id' | 'vault_state' | 'field' | 'error_type' | 'message' | 'resolution'
> & { outcome: RowOutcome };

function resultOf(r: ResultRow): RowResult {
  return {
    row: r.row_no,
    outcome: r.outcome,
    ...present({
      recordId: r.record_id,
      workflowId: r.workflow_id,
      vaultState: r.vault_state,
      field: r.field,
      errorType: r.error_type,
      message: r.message,
      resolution: r.resolution,
    }),
  };
}
