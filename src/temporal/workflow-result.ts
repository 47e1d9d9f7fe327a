import { setTimeout as sleep } from 'node:timers/promises';
import { isGrpcDeadlineError } from '@temporalio/client';

/**
 * A workflow's result, waited for across long polls the server cuts short: a server too busy to answer within its
 * deadline (a cluster starting 200,000 record workflows) answers DEADLINE_EXCEEDED while the workflow runs on. Any
 * other error is the caller's, unless `askAgain` says to ask again. An aborted `signal` ends the wait (the call in
 * flight must run under it: Connection.withAbortSignal), and no call starts after it.
 */
export async function workflowResult<T>(
  handle: { result(): Promise<T> },
  askAgain: (err: unknown) => boolean = isGrpcDeadlineError,
  signal?: AbortSignal,
): Promise<T> {
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await handle.result();
    } catch (err) {
      if (!askAgain(err)) throw err;
      await sleep(1_000, undefined, { signal });
    }
  }
}
