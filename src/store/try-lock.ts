import type { Pool, PoolClient } from 'pg';

/**
 * Runs `fn` on a connection of its own while holding the session advisory lock named `key`, when no one else holds
 * it: `{ ran: false }` at once otherwise, without waiting. The lock lives on that connection and dies with it, so a
 * crashed process never leaves it held; `fn` may use the connection for its own queries. Should the server end the
 * connection while `fn` runs (a restart, an administrator), `fn`'s next query on it fails, and the connection is
 * discarded rather than returned to the pool.
 */
export async function withTryLock<T>(pool: Pool, key: string, fn: (db: PoolClient) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no error listener of the pool's: an error between two queries would be unhandled.
  const lost = (e: Error) => (broken ??= e);
  client.on('error', lost);
  try {
    const { rows } = await client.query<{ locked: boolean }>({ name: 'try-lock', text: 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', values: [key] });
    if (!rows[0]!.locked) return { ran: false };
    try {
      return { ran: true, value: await fn(client) };
    } finally {
      if (!broken) await client.query({ name: 'try-unlock', text: 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', values: [key] }).catch((e: Error) => (broken = e));
    }
  } catch (e) {
    broken ??= e as Error;
    throw e;
  } finally {
    client.removeListener('error', lost);
    client.release(broken);
  }
}
