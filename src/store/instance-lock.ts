import type { Pool } from 'pg';

/**
 * Runs `fn` while holding a session advisory lock named for one IM instance, so that the work of one instance
 * (its events, its reconciliation) runs one at a time, in order, on any replica. The lock lives on its own
 * connection and dies with it, so a crashed process never leaves it held.
 */
export async function withInstanceLock<T>(pool: Pool, provider: string, instanceCode: string, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const key = `${provider}:${instanceCode}`;
  let broken: Error | undefined;
  // A checked-out client has no error listener of the pool's: the server ending the connection while `fn` works on
  // other connections would be an unhandled 'error' event, which ends the process.
  const lost = (e: Error) => (broken ??= e);
  client.on('error', lost);
  try {
    await client.query({
      name: 'instance-lock',
      text: 'SELECT pg_advisory_lock(hashtextextended($1, 0))',
      values: [key],
    });
    try {
      return await fn();
    } finally {
      if (!broken) {
        await client.query({ name: 'instance-unlock', text: 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', values: [key] }).catch((e: Error) => (broken = e));
      }
    }
  } catch (e) {
    broken ??= e as Error;
    throw e;
  } finally {
    client.removeListener('error', lost);
    client.release(broken);
  }
}
