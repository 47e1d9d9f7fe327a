import { ApplicationFailure } from '@temporalio/activity';
import { SourceError } from '../sources/source-error';
import { StoreRefused } from '../store/store-errors';
import { VaultError } from '../vault/errors';

/**
 * The one translation of our errors into Temporal failures, for every activity: a Vault error that may pass
 * (transient, auth) is retried with the activity's backoff, bad input and permanent Vault errors are not; a problem
 * with the source itself, or a request the store refuses for good, fails at once, since the same input would fail
 * every retry. Messages never hold secrets (see VaultError).
 */
export async function asActivityFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof VaultError) {
      const retryable = err.kind === 'transient' || err.kind === 'auth';
      throw ApplicationFailure.create({ message: err.message, type: `Vault.${err.kind}`, nonRetryable: !retryable });
    }
    if (err instanceof SourceError || err instanceof StoreRefused)
      throw ApplicationFailure.nonRetryable(err.message, err.name);
    throw err;
  }
}
