import type { Context, Next } from 'koa';
import type { Config } from '../config.ts';
import { HttpError } from '../http/errors.ts';
import { safeEqual } from '../security/constant-time.ts';
import { FailureThrottle } from '../security/failure-throttle.ts';
import type { Logger } from '../log.ts';
import type { Role, SessionStore } from './session.ts';

export const SESSION_COOKIE = 'tf_session';

export interface Principal {
  id: string;
  name?: string;
  role: Role;
  via: 'token' | 'session';
  csrf?: string;
  /** The console session, for sign-out. */
  sessionId?: string;
}

declare module 'koa' {
  interface DefaultState {
    principal?: Principal;
  }
}

/** The role an IM user id has in the console, from TICKETFLOW_OPERATORS / TICKETFLOW_VIEWERS. */
export function roleOf(config: Config, userId: string): Role | undefined {
  if (config.console.operators.includes(userId)) return 'operator';
  if (config.console.viewers.includes(userId)) return 'viewer';
  return undefined;
}

/** Resolves who is calling: `Authorization: Bearer <TICKETFLOW_ADMIN_TOKEN>` (automation) or a console session. */
export function identify(config: Config, sessions: SessionStore, log: Logger) {
  // Guessing the admin token: 10 wrong tokens a minute per client address, then 429 until the minute is over.
  const throttle = new FailureThrottle(10, 60_000);
  return async (ctx: Context, next: Next) => {
    const auth = ctx.get('authorization');
    if (auth.startsWith('Bearer ')) {
      const token = config.console.adminToken;
      // The right token always passes: behind a proxy every client shares an address, and a wrong guesser must not
      // lock automation out. Only wrong tokens are throttled.
      if (!token || !safeEqual(auth.slice(7), token)) {
        const wait = throttle.retryAfter(ctx.ip);
        if (wait > 0) {
          ctx.set('retry-after', String(wait));
          throw new HttpError(429, 'too_many_failures', `too many wrong tokens from this address; try again in ${wait} s`);
        }
        throttle.fail(ctx.ip);
        log.warn({ ip: ctx.ip }, 'admin API: wrong bearer token');
        throw new HttpError(401, 'bad_token', 'the bearer token is not TICKETFLOW_ADMIN_TOKEN');
      }
      ctx.state.principal = { id: 'automation', role: 'operator', via: 'token' };
    } else {
      const session = await sessions.read(ctx.cookies.get(SESSION_COOKIE));
      // Roles are re-read on every request, so removing someone from the lists takes effect at once, and their
      // sessions are revoked: giving the role back later does not revive them. The sandbox's local operator
      // exists only in sandbox mode: such a session means nothing anywhere else.
      const role = session && (session.user === 'sandbox-operator' ? (config.sandbox ? 'operator' : undefined) : roleOf(config, session.user));
      if (session && role) ctx.state.principal = { id: session.user, name: session.name, role, via: 'session', csrf: session.csrf, sessionId: session.id };
      else if (session) {
        const ended = await sessions.revokeUser(session.user);
        log.warn({ user: session.user, sessions: ended }, 'console sessions revoked: the user has no role any more');
      }
    }
    await next();
  };
}

/** The admin API is never anonymous; actions need the operator role and, from a browser, the CSRF token. */
export function requireRole(role: Role) {
  return async (ctx: Context, next: Next) => {
    const p = ctx.state.principal;
    if (!p) throw new HttpError(401, 'unauthenticated', 'sign in, or send Authorization: Bearer <TICKETFLOW_ADMIN_TOKEN>');
    if (role === 'operator' && p.role !== 'operator') throw new HttpError(403, 'forbidden', `${p.id} is a viewer; this needs an operator`);
    if (ctx.method !== 'GET' && p.via === 'session') {
      const given = ctx.get('x-csrf-token') || (ctx.request as { body?: { csrf?: string } }).body?.csrf || '';
      if (!p.csrf || !safeEqual(given, p.csrf)) throw new HttpError(403, 'csrf', 'missing or wrong CSRF token');
    }
    await next();
  };
}
