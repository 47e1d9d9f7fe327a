import { z } from 'zod';
import { RECORD_ID_PATTERN } from '../vault/vql';
import type { FieldValues } from '../vault/types';
import type { FieldRule, Mapping } from './mapping';

export type RawRow = Record<string, unknown>;

export interface ValidRow {
  row: number;
  id: string;
  values: FieldValues;
  sourceTimestamp?: string;
}

export interface Rejection {
  row: number;
  field: string;
  reason: string;
}

/** Spreadsheet formula prefixes: a text value starting with one is refused (CSV injection). */
const FORMULA = /^[=+\-@\t\r]/;

function ruleSchema(rule: FieldRule): z.ZodType<string | number> {
  switch (rule.type) {
    case 'picklist':
      return z.string().refine((v) => rule.values.includes(v), `must be one of ${rule.values.join(', ')}`);
    case 'number':
      return z
        .union([
          z.number(),
          z
            .string()
            .regex(/^-?\d+(\.\d+)?$/, 'must be a number')
            .transform(Number),
        ])
        .pipe(
          z
            .number()
            .finite()
            .min(rule.min, `must be at least ${rule.min}`)
            .max(rule.max, `must be at most ${rule.max}`),
        );
    case 'date':
      return z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
        .refine((v) => !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().startsWith(v), 'is not a real date');
    case 'text':
      return z
        .string()
        .max(rule.maxLength, `must be at most ${rule.maxLength} characters`)
        .refine((v) => !FORMULA.test(v), 'starts like a spreadsheet formula (=, +, -, @)');
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
      const ts = raw[mapping.timestampColumn];
      if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts)))
        return { row, field: mapping.timestampColumn, reason: 'must be an ISO 8601 time' };
      sourceTimestamp = new Date(ts).toISOString();
    }
    return { row, id, values, sourceTimestamp };
  };
}

export const isRejection = (r: ValidRow | Rejection): r is Rejection => 'reason' in r;
