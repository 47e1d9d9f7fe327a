/**
 * How long a silent activity attempt is trusted. Every activity heartbeats on a timer (see
 * activities/heartbeats.ts), so a SIGKILLed worker's attempt times out after this and runs on another worker,
 * while a busy but live worker (an event loop blocked for a few seconds) is far from it.
 */
export const HEARTBEAT_TIMEOUT_MS = 20_000;
/** Activities heartbeat this often: four chances within the timeout. */
export const HEARTBEAT_INTERVAL_MS = HEARTBEAT_TIMEOUT_MS / 4;
