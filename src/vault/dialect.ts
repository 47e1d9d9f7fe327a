import type { WriteStatus } from '../contracts/write-outcome';

/**
 * What differs between Veeva's documented API and the dialect our first customer reported
 * (see shared vault-api.md). Everything a real vault may do differently is a setting here.
 */
export interface VaultDialect {
  /** `vobjects` (documented) or `objects` (customer). */
  objectPath: 'vobjects' | 'objects';
  /** Per-record error types that mean "locked by a lifecycle workflow: wait". */
  lockedErrorTypes: string[];
  /** Whether HTTP 423 on an update means the records are locked. */
  http423MeansLocked: boolean;
  /** Whether GET .../{object}/{id}/lock exists and should be asked. */
  lockEndpoint: boolean;
  /** `state__v` values in which the target fields are read-only. */
  lockedStates: string[];
  /** Per-record error types worth retrying later; everything else not locked is permanent. */
  transientErrorTypes: string[];
}

const COMMON_TRANSIENT = ['RACE_CONDITION', 'EXCEPTION', 'API_LIMIT_EXCEEDED', 'OPERATION_IN_PROGRESS'];
/** The CAPA lifecycle states in which Vault locks the fields we write (both dialects; the simulator's too). */
export const CAPA_LOCKED_STATES = ['under_review_state__c', 'pending_approval_state__c'];

export const DOCUMENTED_DIALECT: VaultDialect = {
  objectPath: 'vobjects',
  lockedErrorTypes: ['OPERATION_NOT_ALLOWED'],
  http423MeansLocked: false,
  lockEndpoint: false,
  lockedStates: CAPA_LOCKED_STATES,
  transientErrorTypes: COMMON_TRANSIENT,
};

export const CUSTOMER_DIALECT: VaultDialect = {
  objectPath: 'objects',
  lockedErrorTypes: ['RECORD_LOCKED'],
  http423MeansLocked: true,
  lockEndpoint: true,
  lockedStates: CAPA_LOCKED_STATES,
  transientErrorTypes: COMMON_TRANSIENT,
};

export const DIALECTS = { documented: DOCUMENTED_DIALECT, customer: CUSTOMER_DIALECT } as const;

/** Classifies one failed record by its stable error type (never by message text). */
export function classifyRecordError(
  dialect: VaultDialect,
  errorType: string,
): Exclude<WriteStatus, 'updated' | 'unchanged'> {
  if (dialect.lockedErrorTypes.includes(errorType)) return 'locked';
  if (dialect.transientErrorTypes.includes(errorType)) return 'transient';
  return 'permanent';
}

export function isLockedState(dialect: VaultDialect, state: string): boolean {
  return dialect.lockedStates.includes(state);
}
