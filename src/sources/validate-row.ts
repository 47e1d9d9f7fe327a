import { z } from 'zod';
import { RECORD_ID_PATTERN } from '../vault/vql';
import type { FieldValues } from '../contracts/field-values';
import type { FieldRule, Mapping } from './mapping';

export type RawRow = Record<string, unknown>;

export interface ValidRow {
  row: number;
  id: string;
  values: FieldValues;
  sourceTimestamp?: string;
  /** A revert's row: what the record must still hold (what the reverted batch wrote), or it is left as it is. */
  expected?: FieldValues;
}

export interface Rejection {
  row: number;
  field: string;
  reason: string;
}

/** Spreadsheet formula prefixes: a text value starting with one is refused (CSV injection). */
export const FORMULA = /^[=+\-@\t\r]/;
/** C0 controls but tab, line feed and carriage return, and DEL: never meant for a Vault text field. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** The earliest date a CAPA field may take: anything before is a placeholder (0000-01-01) or a typo. */
const MIN_DATE = '1900-01-01';
/** A strict ISO 8601 time with a zone (2026-11-24T02:00:00Z), as the risk system's exported_at must be. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A YYYY-MM-DD that names a day of the calendar (not 2026-02-31). */
function isCalendarDate(v: string): boolean {
  const time = Date.parse(`${v}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(v);
}

function ruleSchema(rule: FieldRule): z.ZodType<string | number> {
  switch (rule.type) {
    case 'picklist':
      return z.string().refine((v) => rule.values.includes(v), `must be one of ${rule.values.join(', ')}`);
    case 'number':
      return z.preprocess(
        (v) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v),
        z
          .number({ invalid_type_error: 'must be a number' })
          .finite()
          .min(rule.min, `must be at least ${rule.min}`)
          .max(rule.max, `must be at most ${rule.max}`),
      ) as z.ZodType<number>;
    case 'date':
      return z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
        .refine(isCalendarDate, 'is not a real date')
        .refine((v) => v >= MIN_DATE, `must not be before ${MIN_DATE}`);
    case 'text':
      return z
        .string()
        .max(rule.maxLength, `must be at most ${rule.maxLength} characters`)
        .refine((v) => !FORMULA.test(v), 'starts like a spreadsheet formula (=, +, -, @)')
        .refine((v) => !CONTROL_CHARACTERS.test(v), 'holds a control character (such as NUL or ESC)');
  }
}

/** Values up to this long are parsed once per column and remembered, at most MEMO_ENTRIES of them. */
const MEMO_LENGTH = 64;
const MEMO_ENTRIES = 10_000;

/** Exports repeat a handful of values per column (picklists, scores, dates): each distinct one is parsed once. */
function memoized(schema: z.ZodType<string | number>) {
  const parsed = new Map<unknown, z.SafeParseReturnType<unknown, string | number>>();
  return (value: unknown) => {
    let result = parsed.get(value);
    if (!result) {
      result = schema.safeParse(value);
      if (parsed.size < MEMO_ENTRIES && String(value).length <= MEMO_LENGTH) parsed.set(value, result);
    }
    return result;
  };
}

/** Validates rows against the mapping: the id, each mapped column's type, and nothing off the allow-list. */
export function rowValidator(mapping: Mapping): (row: number, raw: RawRow) => ValidRow | Rejection {
  const schemas = Object.entries(mapping.columns).map(([column, rule]) => ({
    column,
    rule,
    parse: memoized(ruleSchema(rule)),
  }));
  return (row, raw) => {
    const id =
      typeof raw[mapping.idColumn] === 'string' ? (raw[mapping.idColumn] as string).trim() : raw[mapping.idColumn];
    if (typeof id !== 'string' || !id) return { row, field: mapping.idColumn, reason: 'record id is missing' };
    if (!RECORD_ID_PATTERN.test(id))
      return { row, field: mapping.idColumn, reason: `invalid record id ${JSON.stringify(id.slice(0, 60))}` };
    for (const [column, value] of Object.entries(raw)) {
      if (typeof value === 'string' && value.includes('\uFFFD'))
        return { row, field: column, reason: 'not valid UTF-8' };
    }
    const values: FieldValues = {};
    for (const { column, rule, parse } of schemas) {
      const value = typeof raw[column] === 'string' ? (raw[column] as string).trim() : raw[column];
      if (value === undefined || value === null || value === '') continue; // no value: field left as it is
      const parsed = parse(value);
      if (!parsed.success)
        return {
          row,
          field: column,
          reason: `${JSON.stringify(String(value).slice(0, 40))} ${parsed.error.issues[0].message}`,
        };
      values[rule.field] = parsed.data;
    }
    if (Object.keys(values).length === 0) return { row, field: '*', reason: 'no mapped field has a value' };
    let sourceTimestamp: string | undefined;
    if (mapping.timestampColumn) {
      const ts =
        typeof raw[mapping.timestampColumn] === 'string' ? (raw[mapping.timestampColumn] as string).trim() : '';
      const day = ISO_TIME.exec(ts)?.[1];
      if (!day || !isCalendarDate(day) || Number.isNaN(Date.parse(ts)))
        return {
          row,
          field: mapping.timestampColumn,
          reason: 'must be an ISO 8601 time with a zone, such as 2026-11-24T02:00:00Z',
        };
      sourceTimestamp = new Date(ts).toISOString();
    }
    return { row, id, values, sourceTimestamp };
  };
}

export const isRejection = (r: ValidRow | Rejection): r is Rejection => 'reason' in r;
