import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';

/** An error with the HTTP status and the machine-readable code the caller gets. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Every error becomes a JSON answer `{error: {code, message}}`; unexpected ones are 500 and logged. */
export function errorHandler(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
    } catch (e) {
      if (e instanceof HttpError) {
        ctx.status = e.status;
        ctx.body = { error: { code: e.code, message: e.message } };
        return;
      }
      const status = (e as { status?: number }).status;
      if (status && status >= 400 && status < 500) {
        ctx.status = status;
        ctx.body = { error: { code: 'bad_request', message: (e as Error).message } };
        return;
      }
      log.error({ err: e, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal', message: 'internal error' } };
    }
  };
}
