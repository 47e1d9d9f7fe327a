import type { RecordSnapshot } from '../contracts/record-activities';
import { isLockedState, type VaultDialect } from '../vault/dialect';
import type { LockInfo, RecordState } from '../vault/types';

/**
 * What a waiting record acts on, from its state read in Vault: gone, or its state, values and lock. The lock
 * endpoint (customer dialect) is asked only when state__v says unlocked, so that waiting records keep costing one
 * query per 1,000 a tick.
 */
export async function snapshotOf(
  state: RecordState | undefined,
  dialect: VaultDialect,
  readLock: (id: string) => Promise<LockInfo>,
): Promise<RecordSnapshot> {
  if (!state) return { found: false, values: {}, locked: false };
  const lockedByState = isLockedState(dialect, state.state);
  const lock = !lockedByState && dialect.lockEndpoint ? await readLock(state.id) : undefined;
  return {
    found: true,
    state: state.state,
    values: state.values,
    locked: lockedByState || !!lock?.locked,
    lockedBy: lock?.lockedBy,
  };
}
