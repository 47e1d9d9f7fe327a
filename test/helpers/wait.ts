import { ServiceError } from '@temporalio/client';

/** Polls until check() returns a value other than undefined/false, or fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * A workflow query's answer, or undefined while the server cannot have one answered: it refuses queries while the
 * workflow's task is being retried (on a loaded machine a task may time out), a moment a wait rides out.
 */
export const answered = <T>(query: Promise<T>): Promise<T | undefined> =>
  query.catch((err: unknown) => {
    if (err instanceof ServiceError) return undefined;
    throw err;
  });
