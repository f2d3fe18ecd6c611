import type { Pool, PoolClient } from 'pg';

/** Runs `fn` in a transaction on one pooled client; rolls back and discards the client on error. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    failed = e as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release(failed);
  }
}
