import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { changedFields, emptiesField, type FieldValue, shownValue } from '../contracts/field-values';
import {
  PLANNED_ACTIONS,
  type PlanCounts,
  type PlanReportFiles,
  type PlanResult,
  type PlanSummary,
} from '../contracts/plan-messages';
import { csvCell } from '../reports/batch-report';
import { LineWriter } from '../store/line-writer';

/** The values of a field a plan's chart shows apart; the others are summed as "other". */
const VALUES_SHOWN = 12;
/** The rows that change most, listed on the page. */
const TOP_ROWS = 20;

/** How a field's values would move: counts of the values it holds now and would hold, on the rows that change it. */
export interface FieldPlan {
  changes: number;
  /** Rows whose value would become empty. */
  emptied: number;
  before: Record<string, number>;
  after: Record<string, number>;
}

export interface PlanDetails {
  planId: string;
  source: string;
  inputRows: number;
  counts: PlanCounts;
  fields: Record<string, FieldPlan>;
  mostChanged: { row: number; recordId: string; changes: string[] }[];
  createdAt: string;
}

/** The plan as this report reads it (the store's batches give it). */
export interface StoredPlan {
  batchId: string;
  source: string;
  inputRows: number;
  createdAt: string;
}

/** Where the plan's rows are kept (the store's batches). */
export interface PlanRows {
  planResults(planId: string): AsyncIterable<PlanResult>;
  planCounts(planId: string): Promise<PlanCounts>;
}

const shown = (v: FieldValue | undefined) => shownValue(v);
const change = (field: string, r: PlanResult) =>
  `${field}: ${JSON.stringify(r.before?.[field] ?? null)} -> ${JSON.stringify(r.values?.[field] ?? null)}`;

function tally(counts: Record<string, number>, value: string): void {
  if (value in counts || Object.keys(counts).length < VALUES_SHOWN) counts[value] = (counts[value] ?? 0) + 1;
  else counts.other = (counts.other ?? 0) + 1;
}

/** Adds an update row's changes to the fields' figures; returns the fields it changes. */
function addChanges(fields: Record<string, FieldPlan>, r: PlanResult): string[] {
  const changed = changedFields(r.values ?? {}, r.before ?? {});
  for (const f of changed) {
    const plan = (fields[f] ??= { changes: 0, emptied: 0, before: {}, after: {} });
    plan.changes++;
    const after = r.values![f];
    if (emptiesField(r.before?.[f], after)) plan.emptied++;
    tally(plan.before, shown(r.before?.[f]));
    tally(plan.after, shown(after));
  }
  return changed;
}

const PLAN_COLUMNS = ['row', 'recordId', 'action', 'vaultState', 'changes', 'field', 'message'] as const;

/**
 * Writes a plan's report from the store into `dir`: plan.csv (every row and what it would do, each field old -> new),
 * plan.json (the counts, each field's values before and after, the rows that change most) and plan.html (the same
 * on one self-contained page for an approver), and returns the plan's summary.
 */
export async function writePlanReport(store: PlanRows, plan: StoredPlan, dir: string): Promise<PlanSummary> {
  await fs.promises.mkdir(dir, { recursive: true });
  const files: PlanReportFiles = {
    json: path.join(dir, 'plan.json'),
    csv: path.join(dir, 'plan.csv'),
    html: path.join(dir, 'plan.html'),
  };
  const fields: Record<string, FieldPlan> = {};
  const mostChanged: PlanDetails['mostChanged'] = [];
  const stream = fs.createWriteStream(files.csv);
  const out = new LineWriter(stream);
  await out.write(PLAN_COLUMNS.join(',') + '\r');
  for await (const r of store.planResults(plan.batchId)) {
    const changed = r.action === 'update' ? addChanges(fields, r) : [];
    const changes = (r.action === 'update' ? changed : Object.keys(r.values ?? {})).map((f) => change(f, r));
    if (
      changed.length &&
      (mostChanged.length < TOP_ROWS || changed.length > mostChanged[TOP_ROWS - 1].changes.length)
    ) {
      mostChanged.push({ row: r.row, recordId: r.recordId!, changes });
      mostChanged.sort((a, b) => b.changes.length - a.changes.length || a.row - b.row).splice(TOP_ROWS);
    }
    const cells = { ...r, changes: r.action === 'rejected' ? '' : changes.join('; ') };
    await out.write(PLAN_COLUMNS.map((c) => csvCell(cells[c])).join(',') + '\r');
  }
  await out.flush();
  stream.end();
  await finished(stream);
  const details: PlanDetails = {
    planId: plan.batchId,
    source: plan.source,
    inputRows: plan.inputRows,
    counts: await store.planCounts(plan.batchId),
    fields,
    mostChanged,
    createdAt: plan.createdAt,
  };
  await fs.promises.writeFile(files.json, JSON.stringify(details, null, 1));
  await fs.promises.writeFile(files.html, planPage(details));
  const { planId, source, inputRows, counts } = details;
  return { planId, source, inputRows, counts, reports: files };
}

const escape = (text: unknown) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function bars(title: string, counts: Record<string, number>): string {
  const max = Math.max(1, ...Object.values(counts));
  const rows = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(
      ([value, n]) =>
        `<tr><td>${escape(value)}</td><td class="bar"><span style="width:${Math.round((100 * n) / max)}%"></span></td><td>${n}</td></tr>`,
    );
  return `<table class="chart" aria-label="${escape(title)}"><caption>${escape(title)}</caption>${rows.join('')}</table>`;
}

/** The approver's page: counts, each field's values before and after as bar charts, the rows that change most. */
export function planPage(d: PlanDetails): string {
  const counts = [...PLANNED_ACTIONS, 'rejected', 'superseded'] as const;
  const fieldSections = Object.entries(d.fields).map(
    ([field, f]) =>
      `<section class="field" id="field-${escape(field)}"><h2>${escape(field)}</h2>` +
      `<p>${f.changes} records would change${f.emptied ? `, ${f.emptied} of them to empty` : ''}.</p>` +
      `<div class="pair">${bars('now', f.before)}${bars('after the batch', f.after)}</div></section>`,
  );
  const top = d.mostChanged.map(
    (r) => `<tr><td>${r.row}</td><td>${escape(r.recordId)}</td><td>${r.changes.map(escape).join('<br>')}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>capa-sync plan ${escape(d.planId)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}
#counts td:last-child{text-align:right}.pair{display:flex;gap:3em}.chart caption{text-align:left;font-weight:bold}
.bar{width:240px}.bar span{display:block;height:12px;background:#3b6fb6}.field{margin-bottom:2em}
</style></head><body>
<h1>Plan ${escape(d.planId)}</h1>
<p>Source ${escape(d.source)}, ${d.inputRows} input rows, read from Vault ${escape(d.createdAt)}. Nothing was written.</p>
<table id="counts">${counts.map((c) => `<tr><th>${c}</th><td>${d.counts[c]}</td></tr>`).join('')}</table>
${fieldSections.join('\n')}
<h2>The rows that change most</h2>
<table id="most-changed"><tr><th>row</th><th>record</th><th>changes</th></tr>${top.join('')}</table>
</body></html>
`;
}
