import { CAPA_FIELDS, fieldProblem } from './fields';
import type { FieldValue, FieldValues } from '../contracts/field-values';

export interface ScriptedUnlock {
  /** Leave the locked state at this simulator time (ms)... */
  atMs?: number;
  /** ...or after this many reads of the record (VQL or GET)... */
  afterReads?: number;
  /** ...into this state... */
  toState: string;
  /** ...after a reviewer edited these fields by hand during the review. */
  edit?: { fields: FieldValues; user: string };
  /** A reviewer's edit this long after the integration's first read of the record unlocked (an edit after the read). */
  editAfterRead?: { afterMs: number; fields: FieldValues; user: string };
}

/** An edit due after the integration read the record unlocked: armed by that read, made once due. */
interface LateEdit {
  afterMs: number;
  atMs?: number;
  fields: FieldValues;
  user: string;
}

export interface SimRecord {
  id: string;
  state__v: string;
  status__v: string;
  fields: FieldValues;
  lockedBy?: string;
  lockedSince?: string;
  unlock?: ScriptedUnlock;
  lateEdit?: LateEdit;
  reads: number;
}

export interface AuditEntry {
  seq: number;
  time: string;
  recordId: string;
  field: string;
  oldValue: FieldValue;
  newValue: FieldValue;
  user: string;
  requestId: string;
  /** The record's lifecycle state when the value was written. */
  state: string;
}

export type RowResult =
  | { kind: 'updated'; id: string }
  | { kind: 'unchanged'; id: string }
  | { kind: 'failed'; id?: string; type: string; message: string; locked?: boolean };

export interface StoreOptions {
  object: string;
  lockedStates: string[];
  now: () => number;
}

/** The vault's data: CAPA records, lifecycle states with locks that clear, validation, and the audit log. */
export class VaultStore {
  readonly records = new Map<string, SimRecord>();
  readonly audit: AuditEntry[] = [];

  constructor(readonly options: StoreOptions) {}

  seed(records: Array<Partial<SimRecord> & { id: string }>): void {
    for (const r of records) {
      this.records.set(r.id, {
        state__v: 'draft_state__c',
        status__v: 'active__v',
        fields: {},
        reads: 0,
        ...r,
        ...(this.options.lockedStates.includes(r.state__v ?? '') && !r.lockedBy
          ? { lockedBy: 'reviewer@example.com', lockedSince: new Date(this.options.now()).toISOString() }
          : {}),
      });
    }
  }

  /** Looks a record up, first moving it out of its locked state if its scripted unlock is due. */
  get(id: string): SimRecord | undefined {
    const rec = this.records.get(id);
    const now = this.options.now();
    if (rec?.unlock && this.isLocked(rec)) {
      const { atMs, afterReads, toState } = rec.unlock;
      if ((atMs !== undefined && now >= atMs) || (afterReads !== undefined && rec.reads >= afterReads)) {
        const { edit, editAfterRead } = rec.unlock;
        if (edit) this.write(rec, Object.entries(edit.fields), edit.user, 'manual-edit');
        this.moveState(rec, toState);
        if (editAfterRead) rec.lateEdit = { ...editAfterRead };
      }
    }
    if (rec?.lateEdit?.atMs !== undefined && now >= rec.lateEdit.atMs) {
      this.write(rec, Object.entries(rec.lateEdit.fields), rec.lateEdit.user, 'manual-edit');
      rec.lateEdit = undefined;
    }
    return rec;
  }

  /** A read by the integration (counts towards unlocks scripted "after N reads", arms an edit after the read). */
  read(id: string): SimRecord | undefined {
    const rec = this.get(id);
    if (rec) {
      rec.reads++;
      const after = this.get(id)!;
      if (after.lateEdit && after.lateEdit.atMs === undefined && !this.isLocked(after))
        after.lateEdit.atMs = this.options.now() + after.lateEdit.afterMs;
      return after;
    }
    return undefined;
  }

  isLocked(rec: SimRecord): boolean {
    return this.options.lockedStates.includes(rec.state__v);
  }

  moveState(rec: SimRecord, state: string): void {
    rec.state__v = state;
    if (this.isLocked(rec)) {
      rec.lockedBy ??= 'reviewer@example.com';
      rec.lockedSince ??= new Date(this.options.now()).toISOString();
    } else {
      rec.lockedBy = undefined;
      rec.lockedSince = undefined;
      rec.unlock = undefined;
    }
  }

  /** Applies one bulk request's rows; duplicate ids after the first occurrence fail, as in Vault. */
  update(
    rows: Array<Record<string, unknown>>,
    user: string,
    requestId: string,
    lockedErrorType: string,
    raceCondition: () => boolean,
  ): RowResult[] {
    const seen = new Set<string>();
    return rows.map((row) => {
      const id = typeof row.id === 'string' ? row.id : undefined;
      if (!id) return { kind: 'failed', type: 'PARAMETER_REQUIRED', message: 'id is required' };
      if (seen.has(id)) return { kind: 'failed', id, type: 'INVALID_DATA', message: `duplicate id ${id} in request` };
      seen.add(id);
      const rec = this.get(id);
      if (!rec) return { kind: 'failed', id, type: 'INVALID_DATA', message: `record ${id} not found` };
      if (this.isLocked(rec))
        return {
          kind: 'failed',
          id,
          type: lockedErrorType,
          message: `record is in state ${rec.state__v}`,
          locked: true,
        };
      if (raceCondition())
        return { kind: 'failed', id, type: 'RACE_CONDITION', message: 'record is being updated by another request' };
      const changes: Array<[string, FieldValue]> = [];
      for (const [field, value] of Object.entries(row)) {
        if (field === 'id') continue;
        if (field === 'state__v' || field === 'status__v')
          return { kind: 'failed', id, type: 'INVALID_DATA', message: `${field} cannot be updated` };
        const def = CAPA_FIELDS[field];
        if (!def) return { kind: 'failed', id, type: 'INVALID_DATA', message: `unknown field ${field}` };
        const problem = fieldProblem(def, value as FieldValue);
        if (problem) return { kind: 'failed', id, type: 'INVALID_DATA', message: `${field}: ${problem}` };
        if (rec.fields[field] !== value) changes.push([field, value as FieldValue]);
      }
      if (changes.length === 0) return { kind: 'unchanged', id };
      this.write(rec, changes, user, requestId);
      return { kind: 'updated', id };
    });
  }

  /** A person editing fields in the vault UI (allowed in any state: reviewers edit during review). */
  editByHand(id: string, fields: FieldValues, user: string): SimRecord {
    const rec = this.get(id);
    if (!rec) throw new Error(`record ${id} not found`);
    this.write(rec, Object.entries(fields), user, 'manual-edit');
    return rec;
  }

  private write(rec: SimRecord, changes: Array<[string, FieldValue]>, user: string, requestId: string): void {
    const time = new Date(this.options.now()).toISOString();
    for (const [field, value] of changes) {
      this.audit.push({
        seq: this.audit.length + 1,
        time,
        recordId: rec.id,
        field,
        oldValue: rec.fields[field] ?? null,
        newValue: value,
        user,
        requestId,
        state: rec.state__v,
      });
      rec.fields[field] = value;
    }
  }
}
