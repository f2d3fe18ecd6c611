import { createHmac, randomBytes } from 'node:crypto';
import { digestEqual } from '../security/constant-time.ts';

export type Role = 'operator' | 'viewer';

export interface Session {
  user: string;
  name?: string;
  role: Role;
  /** Expiry, epoch ms. */
  exp: number;
  /** Sent back with every action (CSRF). */
  csrf: string;
}

/** Console sessions: a cookie holding the session, HMAC-signed with TICKETFLOW_SESSION_SECRET, expiring. */
export class SessionCodec {
  constructor(
    private readonly secret: string,
    private readonly ttlMs: number,
  ) {}

  issue(user: string, role: Role, name?: string, now = Date.now()): { cookie: string; session: Session } {
    const session: Session = { user, name, role, exp: now + this.ttlMs, csrf: randomBytes(18).toString('base64url') };
    const body = Buffer.from(JSON.stringify(session)).toString('base64url');
    return { cookie: `${body}.${this.sign(body)}`, session };
  }

  read(cookie: string | undefined, now = Date.now()): Session | undefined {
    if (!cookie) return undefined;
    const [body, mac] = cookie.split('.');
    if (!body || !mac || !digestEqual(this.sign(body), mac)) return undefined;
    try {
      const session = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Session;
      return session.exp > now ? session : undefined;
    } catch {
      return undefined;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
