import type { FieldValue } from '../contracts/field-values';

/** The field types the simulator validates, as Vault's field definitions would. */
export type FieldDefinition =
  | { type: 'picklist'; values: string[] }
  | { type: 'number'; min: number; max: number }
  | { type: 'date' }
  | { type: 'text'; maxLength: number };

/** The CAPA object's editable fields (the customer's example payload uses priority__c High / Medium / Low). */
export const CAPA_FIELDS: Record<string, FieldDefinition> = {
  priority__c: { type: 'picklist', values: ['High', 'Medium', 'Low'] },
  risk_score__c: { type: 'number', min: 0, max: 100 },
  due_date__c: { type: 'date' },
  owner__c: { type: 'text', maxLength: 100 },
  description__c: { type: 'text', maxLength: 32_000 },
};

/** Fields large enough that Vault answers queries selecting them in smaller pages. */
export const LARGE_FIELDS = new Set(['description__c']);

/** Returns why a value is invalid for its field, or undefined when it is valid. */
export function fieldProblem(def: FieldDefinition, value: FieldValue): string | undefined {
  if (value === null) return undefined;
  switch (def.type) {
    case 'picklist':
      return typeof value === 'string' && def.values.includes(value)
        ? undefined
        : `not a picklist value (${def.values.join(', ')})`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= def.min && value <= def.max
        ? undefined
        : `not a number from ${def.min} to ${def.max}`;
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : 'not a date (YYYY-MM-DD)';
    case 'text':
      return typeof value === 'string' && value.length <= def.maxLength
        ? undefined
        : `not text of at most ${def.maxLength} characters`;
  }
}

/**
 * A CSV cell as a field value. CSV has only text: a number field's cell reads as a number, an empty cell as null
 * (clearing the field), anything else stays text and meets the same validation as JSON.
 */
export function fromCsvCell(def: FieldDefinition | undefined, text: string): FieldValue {
  if (text === '') return null;
  return def?.type === 'number' && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}
