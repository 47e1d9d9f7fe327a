import { setMaxListeners } from 'node:events';
import { SHUTDOWN_SIGNALS } from '../temporal/runtime';

/** Ctrl-C (or SIGTERM) came before the command's job ended. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export interface Interruption {
  readonly heard: boolean;
  /** Aborted at Ctrl-C. */
  readonly signal: AbortSignal;
  /** The step's outcome, or Interrupted if Ctrl-C came while it ran (what the step started is then in the stops). */
  after<T>(step: Promise<T>): Promise<T>;
  /**
   * The wait's value, or Interrupted once Ctrl-C has cancelled its calls (abort `signal`): for waits that only a worker
   * ends. The wait has settled when this does: a call left in flight would be retried on a connection the stops close.
   */
  until<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T>;
  dispose(): void;
}

/**
 * Hears the signals that stop a worker (SHUTDOWN_SIGNALS) from a command's first step on. A command that starts
 * servers needs it: the default action would kill the process at once and leave them running, and once a worker runs
 * the SDK shuts the worker down on them while the command would still wait for its batch.
 */
export function listenForInterrupt(): Interruption {
  let heard = false;
  const abort = new AbortController();
  // Each call made under the signal adds a listener to it, for as long as the process runs.
  setMaxListeners(0, abort.signal);
  const onSignal = () => {
    heard = true;
    abort.abort();
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, onSignal);
  const interrupted = (err: unknown) => (heard ? new Interrupted() : err);
  return {
    get heard() {
      return heard;
    },
    signal: abort.signal,
    async after(step) {
      let value;
      try {
        value = await step;
      } catch (err) {
        throw interrupted(err);
      }
      if (heard) throw new Interrupted();
      return value;
    },
    async until(wait) {
      // A call started after the abort would not see it; from here to the wait's first call no signal can come in.
      if (heard) throw new Interrupted();
      try {
        return await wait(abort.signal);
      } catch (err) {
        throw interrupted(err);
      }
    },
    dispose() {
      for (const s of SHUTDOWN_SIGNALS) process.off(s, onSignal);
    },
  };
}
