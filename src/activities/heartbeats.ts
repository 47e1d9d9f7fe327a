import { Context } from '@temporalio/activity';
import { HEARTBEAT_INTERVAL_MS } from '../contracts/activity-timeouts';

type AnyActivity = (...args: never[]) => Promise<unknown>;

/**
 * Wraps each activity so that it heartbeats on a timer while it runs: Temporal then learns within the heartbeat
 * timeout that a worker died, whatever the activity was waiting on (Vault, a download, a coalescing window).
 */
export function withHeartbeats<T extends Record<string, AnyActivity>>(activities: T): T {
  const wrapped = Object.entries(activities).map(([name, fn]) => [
    name,
    async (...args: never[]) => {
      const context = Context.current();
      const timer = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
      try {
        return await fn(...args);
      } finally {
        clearInterval(timer);
      }
    },
  ]);
  return Object.fromEntries(wrapped) as T;
}
