import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** Where the store's queries run: the pool (each query on its own connection), or one transaction. */
export interface Session {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  /**
   * Runs `work` in a transaction: committed when it returns, rolled back when it throws. Called inside a
   * transaction, it joins it, so that the steps of one unit of work commit together.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
}

/** A session inside one transaction, on one connection (which COPY needs). */
export interface Transaction extends Session {
  readonly client: PoolClient;
}

function transactionOn(client: PoolClient): Transaction {
  const tx: Transaction = {
    client,
    query: (text, values) => client.query(text, values),
    transaction: (work) => work(tx),
  };
  return tx;
}

/**
 * A connection that dies while checked out (a database restart mid-transaction) emits 'error': without a listener
 * that would end the process. Its queries fail on their own, and the activity that ran them is retried.
 */
const ignoreLostConnection = () => undefined;

export function poolSession(pool: Pool): Session {
  return {
    query: (text, values) => pool.query(text, values),
    async transaction(work) {
      const client = await pool.connect();
      client.on('error', ignoreLostConnection);
      try {
        await client.query('BEGIN');
        const result = await work(transactionOn(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', ignoreLostConnection);
        client.release();
      }
    },
  };
}
