import type { Context, Next } from 'koa';

/** A strict Content-Security-Policy (no inline script or style, nothing from elsewhere) and friends, on every answer. */
export function securityHeaders() {
  return async (ctx: Context, next: Next) => {
    await next();
    ctx.set('content-security-policy', "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('x-frame-options', 'DENY');
  };
}
