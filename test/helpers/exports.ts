import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Writes a risk-system export (CSV) to a temporary file. */
export function writeCsv(
  rows: Array<Record<string, string | number>>,
  columns = ['capa_id', 'priority', 'risk_score', 'due_date'],
): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-export-')), 'export.csv');
  const cell = (v: unknown) =>
    v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
  fs.writeFileSync(
    file,
    [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n',
  );
  return file;
}
