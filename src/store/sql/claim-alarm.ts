import type { Pool } from 'pg';

/**
 * Claims an alarm of (kind, key) for `windowMs` on the database clock: true for the first replica to raise it in
 * that window (it sends it), false while another's claim holds (the alarm was sent already).
 */
export async function claimAlarm(pool: Pool, kind: string, key: string, windowMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO alarm_claims AS c (kind, key, until) VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::float / 1000))
     ON CONFLICT (kind, key) DO UPDATE SET until = excluded.until WHERE c.until <= clock_timestamp()`,
    [kind, key, windowMs],
  );
  return rowCount === 1;
}
