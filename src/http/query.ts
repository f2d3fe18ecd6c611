import type { Context } from 'koa';
import { textProblem } from '../intake/storable.ts';
import { HttpError } from './errors.ts';

/** The query string with one value per parameter: a repeated parameter, or a NUL in a value, is a 400. */
export function queryParams(ctx: Context): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(ctx.query)) {
    if (Array.isArray(value)) throw new HttpError(400, 'repeated_parameter', `${name} is given ${value.length} times; give it once`);
    if (value !== undefined && textProblem(value)) throw new HttpError(400, 'bad_parameter', `${name} holds ${textProblem(value)}`);
    params[name] = value;
  }
  return params;
}

/** PostgreSQL's timestamps run from 4713 BC to 294276 AD, but its parser takes only four-digit years of our era. */
const storableDate = (d: Date) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;

export function date(v: string | undefined, name: string): Date | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  if (!storableDate(d)) throw new HttpError(400, 'bad_date', `${name} must be an ISO 8601 date or date-time between the years 1 and 9999`);
  return d;
}

export function cursor(v: string | undefined): { createdAt: string; id: string } | undefined {
  if (!v) return undefined;
  try {
    const c = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
    if (
      typeof c.createdAt === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(c.createdAt) &&
      storableDate(new Date(c.createdAt)) &&
      typeof c.id === 'string' &&
      !textProblem(c.id)
    ) {
      return { createdAt: new Date(c.createdAt).toISOString(), id: c.id };
    }
  } catch {
    // fall through
  }
  throw new HttpError(400, 'bad_cursor', 'cursor is not one this API returned');
}
