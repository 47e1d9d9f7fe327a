// change-control/: what guards a batch before and after it writes: the plan, the approval gate's rules, and the revert
// of a batch. Imports the layers below it.

import { changedFields, emptiesField } from '../contracts/field-values';
import type { GateTally, PlanResult } from '../contracts/plan-messages';

/** What makes a batch unusual enough to wait for a person's approval (CAPA_GATE_*). */
export interface GateSettings {
  maxChangedRecords: number;
  /** Of the object's records in Vault; 100 never trips (and spares the count query). */
  maxChangedPercentOfObject: number;
  /** Of a field's values in the batch. */
  maxFieldChangedPercent: number;
  maxEmptied: number;
  /** The share of one value among the rows that set a picklist field (a category every record holds the same of). */
  maxOnePicklistValuePercent: number;
  /** The percentage rules apply to batches with at least this many rows that set the field. */
  minRows: number;
}

interface FieldFigures {
  set: number;
  changed: number;
  emptied: number;
  values: Map<string, number>;
}

/** A batch's figures, added up row by row from its plan, or page by page from its pages' tallies. */
export class GateFigures {
  changedRecords = 0;
  readonly fields = new Map<string, FieldFigures>();

  /** Only picklist fields' values are counted: few distinct values, whatever the batch's size. */
  constructor(readonly picklists: string[]) {}

  add(r: PlanResult): void {
    if (
      !r.values ||
      r.action === 'not-found' ||
      r.action === 'changed-since' ||
      r.action === 'rejected' ||
      r.action === 'superseded'
    )
      return;
    const changed = new Set(r.action === 'unchanged' ? [] : changedFields(r.values, r.before ?? {}));
    if (changed.size && r.action === 'update') this.changedRecords++;
    for (const [field, value] of Object.entries(r.values)) {
      const f = this.field(field);
      f.set++;
      if (this.picklists.includes(field)) f.values.set(String(value), (f.values.get(String(value)) ?? 0) + 1);
      if (!changed.has(field)) continue;
      f.changed++;
      if (emptiesField(r.before?.[field], value)) f.emptied++;
    }
  }

  /** The figures as a page's plan keeps them. */
  tally(): GateTally {
    const fields = [...this.fields].map(([name, f]) => [name, { ...f, values: Object.fromEntries(f.values) }]);
    return { changedRecords: this.changedRecords, fields: Object.fromEntries(fields) };
  }

  /** Adds the figures of other rows (a page's, as its plan kept them). */
  merge(t: GateTally): void {
    this.changedRecords += t.changedRecords;
    for (const [name, kept] of Object.entries(t.fields)) {
      const f = this.field(name);
      f.set += kept.set;
      f.changed += kept.changed;
      f.emptied += kept.emptied;
      for (const [value, n] of Object.entries(kept.values)) f.values.set(value, (f.values.get(value) ?? 0) + n);
    }
  }

  private field(name: string): FieldFigures {
    const f = this.fields.get(name) ?? { set: 0, changed: 0, emptied: 0, values: new Map() };
    this.fields.set(name, f);
    return f;
  }
}

const percent = (part: number, whole: number) => (whole ? (100 * part) / whole : 0);

/**
 * Why the batch is unusual, one sentence per rule it trips (none: it writes without waiting). `objectRecords` is
 * the object's size in Vault, where that rule is on.
 */
export function gateFindings(figures: GateFigures, settings: GateSettings, objectRecords?: number): string[] {
  const found: string[] = [];
  if (figures.changedRecords > settings.maxChangedRecords)
    found.push(`${figures.changedRecords} records would change (more than ${settings.maxChangedRecords})`);
  if (
    objectRecords !== undefined &&
    percent(figures.changedRecords, objectRecords) > settings.maxChangedPercentOfObject
  )
    found.push(
      `${figures.changedRecords} of the object's ${objectRecords} records would change (more than ${settings.maxChangedPercentOfObject}%)`,
    );
  for (const [field, f] of figures.fields) {
    if (f.emptied > settings.maxEmptied)
      found.push(`${field} would be emptied on ${f.emptied} records (more than ${settings.maxEmptied})`);
    if (f.set < settings.minRows) continue;
    if (percent(f.changed, f.set) > settings.maxFieldChangedPercent)
      found.push(
        `${field} would change on ${f.changed} of the ${f.set} rows that set it (more than ${settings.maxFieldChangedPercent}%)`,
      );
    const [top, n] = [...f.values].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    if (percent(n, f.set) > settings.maxOnePicklistValuePercent)
      found.push(
        `${field} would be ${JSON.stringify(top)} on ${n} of the ${f.set} rows that set it (more than ${settings.maxOnePicklistValuePercent}% one value)`,
      );
  }
  return found;
}
