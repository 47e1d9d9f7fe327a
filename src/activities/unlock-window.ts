import { setTimeout as sleep } from 'node:timers/promises';

/** How the watcher paces its word of unlocks within one tick. */
export interface UnlockWindowOptions {
  /** Records told of an unlock whose workflows have not settled yet, at most (CAPA_WATCH_WINDOW). */
  size: number;
  /** When the tick stops waiting for room: the unlocks left are told at the next tick. */
  deadline: number;
  /**
   * How long a told record holds its place: one that has not settled by then is stuck (a decision, a write that keeps
   * failing, a write refused as locked) and no longer holds the others back.
   */
  stallMs: number;
  /** Which of these records still wait: the others' workflows settled their rows. */
  stillWaiting: (recordIds: string[]) => Promise<string[]>;
  /** Throws once the tick's attempt is given up. */
  stopIfGivenUp: () => void;
  /** How often a full window asks the store which records settled. */
  pollMs?: number;
}

/**
 * The records told of an unlock whose workflows have not settled since. The watcher tells more only as room frees
 * up, so a mass approval reaches the workers at the rate they write it: told all at once, their workflow tasks queued
 * past the sticky queue's timeout on one worker and their writes reached the write groups as a trickle (200,000
 * waiting, 5,000 approved: 3,298 tasks timed out, 25 bulk updates).
 */
export class UnlockWindow {
  /** Each record in flight, and when it was told. */
  private readonly inFlight = new Map<string, number>();

  /** `earlier`: records told before this tick (or attempt) that still wait, and how long ago. */
  constructor(
    private readonly options: UnlockWindowOptions,
    earlier: Array<{ recordId: string; toldMsAgo: number }> = [],
  ) {
    for (const r of earlier) this.inFlight.set(r.recordId, Date.now() - r.toldMsAgo);
  }

  /**
   * Says how many of `wanted` more records may be told now, waiting for room while the tick has time: 0 once it has
   * none. Free room is given whatever the time, so a tick that read long still tells what the window holds.
   */
  async room(wanted: number): Promise<number> {
    const { size, deadline, pollMs = 1000 } = this.options;
    for (let asked = false; ; asked = true) {
      this.options.stopIfGivenUp();
      this.dropStuck();
      const free = size - this.inFlight.size;
      if (free > 0) return Math.min(wanted, free);
      if (asked && Date.now() >= deadline) return 0;
      if (asked) await sleep(pollMs);
      const waiting = new Set(await this.options.stillWaiting([...this.inFlight.keys()]));
      for (const id of this.inFlight.keys()) if (!waiting.has(id)) this.inFlight.delete(id);
    }
  }

  /** Records just told of an unlock. */
  told(recordIds: string[]): void {
    for (const id of recordIds) this.inFlight.set(id, Date.now());
  }

  private dropStuck(): void {
    const since = Date.now() - this.options.stallMs;
    for (const [id, at] of this.inFlight) if (at < since) this.inFlight.delete(id);
  }
}
