import { ActivityFailure, continueAsNew, proxyActivities, setCurrentDetails, sleep } from '@temporalio/workflow';
import { activityOptions } from '../contracts/activity-timeouts';
import type { LockWatcherInput, WatchActivities } from '../contracts/lock-watch';

/** A run's ticks before it continues as new: about a dozen events a tick. */
const TICKS_PER_RUN = 300;

const acts = proxyActivities<WatchActivities>(
  activityOptions({ timeout: '10 minutes', initialInterval: '1 second', maxInterval: '30 seconds', maxAttempts: 3 }),
);

/**
 * One object's lock watcher: on each wall-clock tick, reads the state of every waiting record and tells those whose
 * state changed (see watchLocks). A tick that fails is passed over: the next one reads again, and while ticks fail
 * the waiting records read Vault themselves again (the store shows the watcher's last tick).
 */
export async function capaLockWatcherWorkflow(input: LockWatcherInput): Promise<never> {
  const ms = input.tickSeconds * 1000;
  for (let i = 0; i < TICKS_PER_RUN; i++) {
    const tickAt = (Math.floor(Date.now() / ms) + 1) * ms;
    await sleep(tickAt - Date.now());
    try {
      const seen = await acts.watchLocks({ object: input.object, tickAt, tickSeconds: input.tickSeconds });
      setCurrentDetails(
        `**watching** ${seen.waiting} waiting records of ${input.object}; at ${new Date(tickAt).toISOString()} ` +
          `told ${seen.told} (${seen.unlocked} unlocked)` +
          (seen.deferred
            ? `; ${seen.deferred} unlocked left to the next tick, the workers still writing the others`
            : ''),
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      setCurrentDetails(`**tick failed** at ${new Date(tickAt).toISOString()}: ${err.cause?.message ?? err.message}`);
    }
  }
  return continueAsNew<typeof capaLockWatcherWorkflow>(input);
}
