import type { Context, Next } from 'koa';
import type { Config } from '../config.ts';
import { HttpError } from '../http/errors.ts';
import { safeEqual } from '../security/constant-time.ts';
import type { Role, SessionCodec } from './session.ts';

export const SESSION_COOKIE = 'tf_session';

export interface Principal {
  id: string;
  name?: string;
  role: Role;
  via: 'token' | 'session';
  csrf?: string;
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
export function identify(config: Config, sessions: SessionCodec) {
  return async (ctx: Context, next: Next) => {
    const auth = ctx.get('authorization');
    if (auth.startsWith('Bearer ')) {
      const token = config.console.adminToken;
      if (!token || !safeEqual(auth.slice(7), token)) throw new HttpError(401, 'bad_token', 'the bearer token is not TICKETFLOW_ADMIN_TOKEN');
      ctx.state.principal = { id: 'automation', role: 'operator', via: 'token' };
    } else {
      const session = sessions.read(ctx.cookies.get(SESSION_COOKIE));
      // Roles are re-read on every request, so removing someone from the lists takes effect at once.
      // The sandbox's local operator exists only in sandbox mode: such a cookie means nothing anywhere else.
      const role = session && (session.user === 'sandbox-operator' ? (config.sandbox ? 'operator' : undefined) : roleOf(config, session.user));
      if (session && role) ctx.state.principal = { id: session.user, name: session.name, role, via: 'session', csrf: session.csrf };
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
