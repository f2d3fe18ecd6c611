import type { Pool } from 'pg';

/** Every session of a user: they lost their role. */
export async function revokeUserSessions(pool: Pool, userId: string): Promise<number> {
  const { rowCount } = await pool.query('UPDATE console_sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  return rowCount ?? 0;
}
