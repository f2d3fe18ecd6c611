import type { Alarm } from './alarm.ts';
import { clip } from './channel.ts';

/**
 * The alarm of an unexpected error (an HTTP request answered 500, a job given up): keyed by its type, message and
 * the top frame of its stack, so the same failure repeating is one alarm per window. The error carried to Sentry
 * is a copy with only its type, message and stack: a database error's `detail` and `where` quote the values it
 * refused (form contents, comments), and other errors carry requests.
 */
export function unexpectedErrorAlarm(where: string, e: unknown): Alarm {
  const original = e instanceof Error ? e : new Error(typeof e === 'string' ? e : `a thrown ${typeof e}`);
  const type = original.name && original.name !== 'Error' ? original.name : original.constructor?.name || 'Error';
  const top = original.stack?.split('\n').find((line) => line.trim().startsWith('at '))?.trim() ?? '';
  const error = new Error(original.message);
  error.name = type;
  error.stack = original.stack;
  return {
    kind: 'unexpected_error',
    key: `${type}: ${clip(original.message, 200)} ${top}`,
    title: `Unexpected error in ${where}: ${type}: ${clip(original.message, 150)}`,
    text: [`${type}: ${clip(original.message, 1_000)}`, top, `In ${where}. The log has the stack.`].filter(Boolean).join('\n'),
    error,
  };
}
