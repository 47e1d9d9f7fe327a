import type { FieldValues } from './field-values';

/** One record as a batch left it: the values it held before the batch wrote, and those the batch wrote. */
export interface BatchWrite {
  recordId: string;
  before: FieldValues;
  after: FieldValues;
}
