import { createHmac, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { digestEqual } from '../security/constant-time.ts';
import { insertSession } from '../store/sql/insert-session.ts';
import { liveSession } from '../store/sql/live-session.ts';
import { revokeSession } from '../store/sql/revoke-session.ts';
import { revokeUserSessions } from '../store/sql/revoke-user-sessions.ts';

export type Role = 'operator' | 'viewer';

export interface Session {
  id: string;
  user: string;
  name?: string;
  /** Sent back with every action (CSRF). */
  csrf: string;
}

/**
 * Console sessions, stored in PostgreSQL so they can be revoked (sign-out, a role removed) on every replica at once.
 * The cookie holds the session id, HMAC-signed with TICKETFLOW_SESSION_SECRET, so a forged id costs no query.
 * The role is not stored: it is read from the configuration on every request.
 */
export class SessionStore {
  constructor(
    private readonly pool: Pool,
    private readonly secret: string,
    private readonly ttlMs: number,
  ) {}

  async issue(user: string, name?: string): Promise<{ cookie: string; session: Session }> {
    const session: Session = { id: randomBytes(24).toString('base64url'), user, name, csrf: randomBytes(18).toString('base64url') };
    await insertSession(this.pool, { id: session.id, userId: user, name, csrf: session.csrf, expiresAt: new Date(Date.now() + this.ttlMs) });
    return { cookie: `${session.id}.${this.sign(session.id)}`, session };
  }

  async read(cookie: string | undefined): Promise<Session | undefined> {
    const id = this.idOf(cookie);
    if (!id) return undefined;
    const row = await liveSession(this.pool, id);
    return row ? { id: row.id, user: row.userId, name: row.name, csrf: row.csrf } : undefined;
  }

  async revoke(id: string): Promise<void> {
    await revokeSession(this.pool, id);
  }

  async revokeUser(user: string): Promise<number> {
    return revokeUserSessions(this.pool, user);
  }

  private idOf(cookie: string | undefined): string | undefined {
    if (!cookie) return undefined;
    const [id, mac] = cookie.split('.');
    return id && mac && digestEqual(this.sign(id), mac) ? id : undefined;
  }

  private sign(id: string): string {
    return createHmac('sha256', this.secret).update(id).digest('base64url');
  }
}
