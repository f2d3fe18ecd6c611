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
