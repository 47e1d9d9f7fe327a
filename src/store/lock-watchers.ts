import { WATCHER_HEALTHY_TICKS, WATCHER_SLACK_SECONDS } from '../contracts/lock-watch';
import type { Session } from './session';

export interface WatcherTick {
  tickedAt: string;
  waiting: number;
  told: number;
  current: boolean;
}

/** Each object's lock watcher's last tick, in the store: a waiting record reads Vault itself only if it is stale. */
export class LockWatchers {
  constructor(private readonly db: Session) {}

  /** Notes a tick done: how many records waited and how many the watcher told. */
  async ticked(object: string, tickSeconds: number, waiting: number, told: number): Promise<void> {
    await this.db.query(
      `INSERT INTO lock_watchers (object, ticked_at, tick_seconds, waiting, told) VALUES ($1, now(), $2, $3, $4)
       ON CONFLICT (object) DO UPDATE SET ticked_at = now(), tick_seconds = $2, waiting = $3, told = $4`,
      [object, tickSeconds, waiting, told],
    );
  }

  /** The object's watcher's last tick, and whether it is recent (within its last few intervals). */
  async last(object: string): Promise<WatcherTick | undefined> {
    const { rows } = await this.db.query<{ ticked_at: Date; waiting: number; told: number; current: boolean }>(
      `SELECT ticked_at, waiting, told, ticked_at > now() - make_interval(secs => tick_seconds * $2 + $3) AS current
       FROM lock_watchers WHERE object = $1`,
      [object, WATCHER_HEALTHY_TICKS, WATCHER_SLACK_SECONDS],
    );
    const r = rows[0];
    return r && { tickedAt: r.ticked_at.toISOString(), waiting: r.waiting, told: r.told, current: r.current };
  }

  /** Whether the object's watcher ticks: its waiting records need not read Vault themselves. */
  async covers(object: string): Promise<boolean> {
    return (await this.last(object))?.current ?? false;
  }
}
