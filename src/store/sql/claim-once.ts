import type { Pool } from 'pg';

/**
 * True for the first claim of `key` within `windowMs` (on the database clock, shared by every replica), false for
 * any other: a key seen once is remembered in `rate_slots` (`last_sent`) for the window. Unlike claimSend, the
 * claim that creates the key wins at once.
 */
export async function claimOnce(pool: Pool, key: string, windowMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO rate_slots AS r (key, next_slot, last_sent) VALUES ($1, clock_timestamp(), clock_timestamp())
     ON CONFLICT (key) DO UPDATE SET last_sent = clock_timestamp()
       WHERE r.last_sent IS NULL OR r.last_sent <= clock_timestamp() - make_interval(secs => $2::float / 1000)
     RETURNING key`,
    [key, windowMs],
  );
  return rowCount === 1;
}
