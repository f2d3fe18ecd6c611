import type { Context, Next } from 'koa';
import getRawBody from 'raw-body';
import { jsonbProblem } from '../intake/storable.ts';
import { HttpError } from './errors.ts';

declare module 'koa' {
  interface Request {
    /** The exact bytes received: signatures are verified over these, never over a re-serialisation. */
    rawBody: Buffer;
  }
}

/** Reads the whole body (up to `limit` bytes, else 413) into ctx.request.rawBody. */
export function rawBody(limit: number) {
  return async (ctx: Context, next: Next) => {
    try {
      ctx.request.rawBody = await getRawBody(ctx.req, { limit, length: ctx.get('content-length') || undefined });
    } catch (e) {
      const err = e as { type?: string; status?: number };
      if (err.type === 'entity.too.large') throw new HttpError(413, 'body_too_large', `the body is larger than ${limit} bytes`);
      throw new HttpError(err.status ?? 400, 'bad_body', 'the request body could not be read');
    }
    await next();
  };
}

/**
 * Parses the raw body as a JSON object, or answers 400; also 400 for what no route could store (PostgreSQL
 * refuses a NUL or a lone surrogate in text and in jsonb, and very deep nesting).
 */
export function jsonBody(ctx: Context): Record<string, unknown> {
  const text = ctx.request.rawBody.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text || 'null');
  } catch {
    throw new HttpError(400, 'malformed_json', 'the body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'malformed_json', 'the body must be a JSON object');
  const problem = jsonbProblem(text);
  if (problem) throw new HttpError(400, 'unsupported_text', `the body holds ${problem}, which cannot be stored`);
  return value as Record<string, unknown>;
}
