import type { Pool } from 'pg';

export async function revokeSession(pool: Pool, id: string): Promise<void> {
  await pool.query('UPDATE console_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
}
