import type { Pool } from 'pg';

export interface SessionRow {
  id: string;
  userId: string;
  name?: string;
  csrf: string;
  expiresAt: Date;
}

export async function insertSession(pool: Pool, s: SessionRow): Promise<void> {
  await pool.query('INSERT INTO console_sessions (id, user_id, name, csrf, expires_at) VALUES ($1, $2, $3, $4, $5)', [s.id, s.userId, s.name ?? null, s.csrf, s.expiresAt]);
}

/** A session that is neither revoked nor expired. */
export async function liveSession(pool: Pool, id: string): Promise<SessionRow | undefined> {
  const { rows } = await pool.query({
    name: 'live-console-session',
    text: 'SELECT id, user_id, name, csrf, expires_at FROM console_sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()',
    values: [id],
  });
  const r = rows[0];
  return r ? { id: r.id, userId: r.user_id, name: r.name ?? undefined, csrf: r.csrf, expiresAt: r.expires_at } : undefined;
}

export async function revokeSession(pool: Pool, id: string): Promise<void> {
  await pool.query('UPDATE console_sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
}

/** Every session of a user: they lost their role. */
export async function revokeUserSessions(pool: Pool, userId: string): Promise<number> {
  const { rowCount } = await pool.query('UPDATE console_sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  return rowCount ?? 0;
}
