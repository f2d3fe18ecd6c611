import type { Pool } from 'pg';
import type { SessionRow } from './insert-session.ts';

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
