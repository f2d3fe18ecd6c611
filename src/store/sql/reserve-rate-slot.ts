import type { Pool } from 'pg';

/**
 * Reserves the next call slot of a shared pace (one call every `spacingMs` per key, across every replica) and
 * returns how long the caller must wait for it. Slots keep callers in order; `claimSend` enforces the spacing.
 */
export async function reserveRateSlot(pool: Pool, key: string, spacingMs: number): Promise<number> {
  const { rows } = await pool.query<{ wait_ms: number }>(
    `WITH slot AS (
       INSERT INTO rate_slots AS r (key, next_slot) VALUES ($1, clock_timestamp() + make_interval(secs => $2::float / 1000))
       ON CONFLICT (key) DO UPDATE SET next_slot = greatest(r.next_slot, clock_timestamp()) + make_interval(secs => $2::float / 1000)
       RETURNING next_slot)
     SELECT greatest(0, extract(epoch FROM (next_slot - make_interval(secs => $2::float / 1000) - clock_timestamp())) * 1000)::float AS wait_ms FROM slot`,
    [key, spacingMs],
  );
  return rows[0]!.wait_ms;
}
