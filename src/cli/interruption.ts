/** Ctrl-C (or SIGTERM) came before the command's job ended. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export interface Interruption {
  readonly heard: boolean;
  /** The step's value, or Interrupted if Ctrl-C came while it ran (what the step started is then in the stops). */
  after<T>(step: Promise<T>): Promise<T>;
  /**
   * The wait's value, or Interrupted once Ctrl-C has cancelled its calls (abort `signal`): for waits that only a worker
   * ends. The wait has settled when this does: a call left in flight would be retried on a connection the stops close.
   */
  until<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Resolves at Ctrl-C. */
  readonly signalled: Promise<void>;
  dispose(): void;
}

/**
 * Hears Ctrl-C and SIGTERM from a command's first step on. A command that starts servers needs it: the default
 * action would kill the process at once and leave them running, and once a worker runs the SDK shuts the worker down
 * on Ctrl-C while the command would still wait for its batch.
 */
export function listenForInterrupt(): Interruption {
  let heard = false;
  let hear!: () => void;
  const signalled = new Promise<void>((resolve) => (hear = resolve));
  const abort = new AbortController();
  const onSignal = () => {
    heard = true;
    abort.abort();
    hear();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get heard() {
      return heard;
    },
    async after(step) {
      const value = await step;
      if (heard) throw new Interrupted();
      return value;
    },
    async until(wait) {
      // A call started after the abort would not see it; from here to the wait's first call no signal can come in.
      if (heard) throw new Interrupted();
      try {
        return await wait(abort.signal);
      } catch (err) {
        throw heard ? new Interrupted() : err;
      }
    },
    signalled,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
