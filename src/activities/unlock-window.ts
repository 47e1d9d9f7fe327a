import { setTimeout as sleep } from 'node:timers/promises';

/** How the watcher paces its word of unlocks within one tick. */
export interface UnlockWindowOptions {
  /** Records told of an unlock whose workflows have not settled yet, at most (CAPA_WATCH_WINDOW). */
  size: number;
  /** When the tick stops telling unlocks: the rest are told at the next tick. */
  deadline: number;
  /** Which of these records still wait: the others' workflows settled their rows. */
  stillWaiting: (recordIds: string[]) => Promise<string[]>;
  /** Throws once the tick's attempt is given up. */
  stopIfGivenUp: () => void;
  /** How often a full window asks the store which records settled. */
  pollMs?: number;
  /**
   * Records that settle none in this long are stuck (a decision, a write that keeps failing): they stop holding the
   * others. Longer than a write group's hold (30 s) plus the queue of a busy worker's tasks.
   */
  stallMs?: number;
}

/**
 * The records one tick told of an unlock and whose workflows have not settled since. The watcher tells more only as
 * room frees up, so a mass approval reaches the workers at the rate they write it: told all at once, their workflow
 * tasks queued past the sticky queue's timeout on one worker and their writes reached the write groups as a trickle
 * (200,000 waiting, 5,000 approved: 3,298 tasks timed out, 25 bulk updates).
 */
export class UnlockWindow {
  private inFlight: string[] = [];
  /** The last tell or settlement seen. */
  private movedAt = Date.now();

  constructor(private readonly options: UnlockWindowOptions) {}

  /** Waits for room, and says how many of `wanted` more records may be told now: 0 once the tick's time is up. */
  async room(wanted: number): Promise<number> {
    const { size, deadline, pollMs = 1000, stallMs = 60_000 } = this.options;
    for (;;) {
      this.options.stopIfGivenUp();
      if (Date.now() >= deadline) return 0;
      const free = size - this.inFlight.length;
      if (free > 0) return Math.min(wanted, free);
      await sleep(pollMs);
      const waiting = await this.options.stillWaiting(this.inFlight);
      const stuck = waiting.length === this.inFlight.length && Date.now() - this.movedAt >= stallMs;
      if (waiting.length < this.inFlight.length) this.movedAt = Date.now();
      this.inFlight = stuck ? [] : waiting;
    }
  }

  /** Records just told of an unlock. */
  told(recordIds: string[]): void {
    this.inFlight.push(...recordIds);
    this.movedAt = Date.now();
  }
}
