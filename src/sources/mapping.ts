import { z } from 'zod';
import { PROTECTED_FIELDS } from '../vault/client';

/** How one source column becomes one Vault field, and which values it may take. */
export const FieldRule = z.discriminatedUnion('type', [
  z.object({ field: z.string(), type: z.literal('picklist'), values: z.array(z.string()).min(1) }),
  z.object({ field: z.string(), type: z.literal('number'), min: z.number(), max: z.number() }),
  z.object({ field: z.string(), type: z.literal('date') }),
  z.object({ field: z.string(), type: z.literal('text'), maxLength: z.number().int().positive() }),
]);
export type FieldRule = z.infer<typeof FieldRule>;

export const Mapping = z.object({
  /** The source column holding the Vault record id. */
  idColumn: z.string().min(1),
  /** Optional source column with the time the risk system produced the row (ISO 8601). */
  timestampColumn: z.string().optional(),
  /** Source column -> rule. The rules' Vault fields are the allow-list: nothing else is ever written. */
  columns: z.record(FieldRule),
});
export type Mapping = z.infer<typeof Mapping>;

export const DEFAULT_MAPPING: Mapping = {
  idColumn: 'capa_id',
  columns: {
    priority: { field: 'priority__c', type: 'picklist', values: ['High', 'Medium', 'Low'] },
    risk_score: { field: 'risk_score__c', type: 'number', min: 0, max: 100 },
    due_date: { field: 'due_date__c', type: 'date' },
  },
};

export const writableFields = (mapping: Mapping): string[] => Object.values(mapping.columns).map((r) => r.field);
/** The fields whose values are categories (the approval gate notices one category set everywhere). */
export const picklistFields = (mapping: Mapping): string[] =>
  Object.values(mapping.columns)
    .filter((r) => r.type === 'picklist')
    .map((r) => r.field);

/**
 * A mapping file's content, checked: its shape, no Vault system field, no field fed by two columns. A problem is one
 * line naming the column (the configuration names the file).
 */
export function parseMapping(value: unknown): Mapping {
  const parsed = Mapping.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue.path.join('.') || 'mapping'}: ${issue.message}`);
  }
  const columnOf = new Map<string, string>();
  for (const [column, rule] of Object.entries(parsed.data.columns)) {
    if (PROTECTED_FIELDS.has(rule.field))
      throw new Error(`column ${column} maps to ${rule.field}, a Vault system field that is never written`);
    const other = columnOf.get(rule.field);
    if (other)
      throw new Error(`columns ${other} and ${column} both map to ${rule.field}: which one wins would be a guess`);
    columnOf.set(rule.field, column);
  }
  return parsed.data;
}
