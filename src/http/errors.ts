import type { Context, Next } from 'koa';
import { isDataError } from '../intake/storable.ts';
import type { Alarms } from '../alarms/alarm.ts';
import { unexpectedErrorAlarm } from '../alarms/unexpected.ts';
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
export function errorHandler(log: Logger, alarms?: Alarms) {
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
      if (isDataError(e)) {
        // The database refused a value of the request (a check missed it): the caller's input, not our failure.
        log.warn({ code: (e as { code: string }).code, method: ctx.method, path: ctx.path }, 'request refused by the database');
        ctx.status = 400;
        ctx.body = { error: { code: 'bad_input', message: 'a value of the request cannot be stored or compared' } };
        return;
      }
      log.error({ err: loggable(e), method: ctx.method, path: ctx.path }, 'request failed');
      alarms?.raise(unexpectedErrorAlarm(`HTTP ${ctx.method} ${ctx.path}`, e));
      ctx.status = 500;
      ctx.body = { error: { code: 'internal', message: 'internal error' } };
    }
  };
}

/**
 * What the log keeps of an unexpected error: its type, code, message and stack. Not the rest: a database error's
 * `detail` and `where` quote the values it refused (form contents, comments), and other errors carry requests.
 */
function loggable(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { type: typeof e };
  const { code } = e as { code?: unknown };
  return { type: e.constructor.name, ...(typeof code === 'string' ? { code } : {}), message: e.message, stack: e.stack };
}
