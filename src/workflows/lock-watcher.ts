import {
  ActivityFailure,
  continueAsNew,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { activityOptions } from '../contracts/activity-timeouts';
import { type LockWatcherInput, moveWatcherSignal, type WatchActivities } from '../contracts/lock-watch';

/** A run's ticks before it continues as new: about a dozen events a tick. */
const TICKS_PER_RUN = 300;

/** Runs from here on move to the task queue a worker names (moveWatcherSignal) at the end of a tick. */
export const WATCHER_MOVES = 'watcher-moves-to-control-queue';

const acts = proxyActivities<WatchActivities>(
  activityOptions({ timeout: '10 minutes', initialInterval: '1 second', maxInterval: '30 seconds', maxAttempts: 3 }),
);

/**
 * One object's lock watcher: on each wall-clock tick, reads the state of every waiting record and tells those whose
 * state changed (see watchLocks). A tick that fails is passed over: the next one reads again, and while ticks fail
 * the waiting records read Vault themselves again (the store shows the watcher's last tick).
 */
export async function capaLockWatcherWorkflow(input: LockWatcherInput): Promise<never> {
  let moveTo: string | undefined;
  setHandler(moveWatcherSignal, (taskQueue) => void (moveTo = taskQueue));
  // Asked only once a move is due: a run that is never asked records no marker, as before the patch.
  const moving = (): string | undefined => (moveTo && patched(WATCHER_MOVES) ? moveTo : undefined);
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
    const to = moving();
    if (to) return makeContinueAsNewFunc<typeof capaLockWatcherWorkflow>({ taskQueue: to })(input);
  }
  return continueAsNew<typeof capaLockWatcherWorkflow>(input);
}
