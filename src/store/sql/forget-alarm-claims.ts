import type { Pool } from 'pg';

/** Deletes the alarm claims whose window ended: they hold nothing any more. Returns how many went. */
export async function forgetAlarmClaims(pool: Pool): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM alarm_claims WHERE until <= clock_timestamp()`);
  return rowCount ?? 0;
}
