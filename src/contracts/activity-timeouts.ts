import type { ActivityOptions, Duration } from '@temporalio/common';

/**
 * How long a silent activity attempt is trusted. Every activity heartbeats on a timer (see
 * activities/heartbeats.ts), so a SIGKILLed worker's attempt times out after this and runs on another worker,
 * while a busy but live worker (an event loop blocked for a few seconds) is far from it.
 */
export const HEARTBEAT_TIMEOUT_MS = 20_000;
/** Activities heartbeat this often: four chances within the timeout. */
export const HEARTBEAT_INTERVAL_MS = HEARTBEAT_TIMEOUT_MS / 4;

/**
 * The one shape of every workflow's activity options: a start-to-close time-out, the heartbeat time-out above, and
 * retries backing off by doubling from `initialInterval` up to `maxInterval` (for `maxAttempts` where given).
 */
export function activityOptions(o: {
  timeout: Duration;
  maxInterval: Duration;
  initialInterval?: Duration;
  maxAttempts?: number;
}): ActivityOptions {
  return {
    startToCloseTimeout: o.timeout,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: {
      initialInterval: o.initialInterval ?? '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: o.maxInterval,
      ...(o.maxAttempts === undefined ? {} : { maximumAttempts: o.maxAttempts }),
    },
  };
}
