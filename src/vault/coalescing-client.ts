import { Coalescer } from './coalescer';
import { assertWritableRows, MAX_ROWS_PER_UPDATE, VaultApi } from './client';
import { assertRecordId, MAX_IDS_PER_QUERY } from './vql';
import type { LockInfo, RecordState, RecordWriteOutcome, UpdateRow } from './types';
import type { ReadTick } from '../contracts/record-activities';

export interface CoalescingWindows {
  /**
   * Quiet time before merged unscheduled state reads go out (a page's hand-offs, an operator's force); twenty of
   * them are the longest a tick's reads wait for the rest of their tick (see Coalescer).
   */
  readMs: number;
  /** Quiet time before merged updates go out. */
  updateMs: number;
}

export const DEFAULT_WINDOWS: CoalescingWindows = { readMs: 500, updateMs: 25 };
const TICK_WRITES_WAIT_MS = 300_000;
const TICK_WRITES_QUIET_MS = 15_000;

/**
 * A VaultApi that merges concurrent calls from many record workflows' activities: all waiting records that
 * tick at the same moment share one VQL query per 1,000 ids, and their updates share bulk requests.
 */
export class CoalescingVaultClient implements VaultApi {
  private readonly readers = new Map<string, Coalescer<string, RecordState | undefined>>();
  private readonly writers = new Map<string, Coalescer<UpdateRow, RecordWriteOutcome>>();

  constructor(
    private readonly inner: VaultApi,
    private readonly windows: CoalescingWindows = DEFAULT_WINDOWS,
  ) {}

  /** `tick`: the tick the caller polls at (or was told to read at), so that its reads wait for the rest of that tick's. */
  async readStates(object: string, ids: string[], fields: string[], tick?: ReadTick): Promise<RecordState[]> {
    // Validated here, so that one caller's bad id cannot fail the merged request of the others.
    ids.forEach(assertRecordId);
    const key = `${object}|${[...fields].sort().join(',')}`;
    let reader = this.readers.get(key);
    if (!reader) {
      reader = new Coalescer({
        windowMs: this.windows.readMs,
        maxPerRequest: MAX_IDS_PER_QUERY,
        send: async (batch) => {
          const byId = new Map((await this.inner.readStates(object, batch, fields)).map((s) => [s.id, s]));
          return batch.map((id) => byId.get(id));
        },
      });
      this.readers.set(key, reader);
    }
    const states = await reader.submit(ids, tick);
    return states.filter((s): s is RecordState => s !== undefined);
  }

  /** `tick`: the watcher's tick that found the record unlocked, so that that tick's writes share requests. */
  async bulkUpdate(object: string, rows: UpdateRow[], tick?: ReadTick): Promise<RecordWriteOutcome[]> {
    assertWritableRows(rows);
    let writer = this.writers.get(object);
    if (!writer) {
      writer = new Coalescer({
        windowMs: this.windows.updateMs,
        // A tick's writes come as fast as their workflows decide (a mass approval of 500 on a busy 2-core machine:
        // over half a minute, with gaps past 5 s when the machine is loaded); some records do not write (a reviewer's
        // edit), so 15 s of quiet closes the group once the rest have come, and a full request goes at once.
        maxDelayMs: TICK_WRITES_WAIT_MS,
        tickQuietMs: TICK_WRITES_QUIET_MS,
        maxPerRequest: MAX_ROWS_PER_UPDATE,
        keyOf: (row) => row.id,
        send: (batch) => this.inner.bulkUpdate(object, batch),
      });
      this.writers.set(object, writer);
    }
    return writer.submit(rows, tick);
  }

  readLock(object: string, id: string): Promise<LockInfo> {
    return this.inner.readLock(object, id);
  }
}
