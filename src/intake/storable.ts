import type { InboundEvent } from './inbound-event.ts';

/**
 * Deeper JSON than any IM event or API body has. PostgreSQL's jsonb parser recurses and stops at its stack depth
 * limit (some ten thousand levels by default); an event refused here never reaches it.
 */
export const MAX_JSON_DEPTH = 1000;

/** Longest id or code stored in an indexed text column (a btree entry holds at most 2704 bytes). */
export const MAX_ID_LENGTH = 512;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL would refuse this text in a text column (a NUL, or a lone surrogate that has no UTF-8), if it would. */
export function textProblem(value: string): string | undefined {
  if (value.includes('\0')) return 'a NUL character';
  if (LONE_SURROGATE.test(value)) return 'a lone UTF-16 surrogate';
  return undefined;
}

/**
 * Why PostgreSQL would refuse this JSON text as jsonb, if it would: a NUL (`\u0000`) or a lone surrogate escape
 * anywhere, keys included, or nesting deeper than `maxDepth`. One pass over the text, nothing parsed.
 */
export function jsonbProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return 'a NUL character';
    if (!inString) {
      if (c === 0x22) inString = true;
      else if (c === 0x5b || c === 0x7b) {
        if (++depth > maxDepth) return `JSON nested deeper than ${maxDepth} levels`;
      } else if (c === 0x5d || c === 0x7d) depth--;
      continue;
    }
    if (c === 0x22) inString = false;
    else if (c === 0x5c) {
      if (text[i + 1] !== 'u') {
        i++;
        continue;
      }
      const unit = parseInt(text.slice(i + 2, i + 6), 16);
      i += 5;
      if (unit === 0) return 'a \\u0000 (NUL) escape';
      if (unit >= 0xdc00 && unit <= 0xdfff) return 'a lone surrogate escape';
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = text[i + 1] === '\\' && text[i + 2] === 'u' ? parseInt(text.slice(i + 3, i + 7), 16) : NaN;
        if (!(low >= 0xdc00 && low <= 0xdfff)) return 'a lone surrogate escape';
        i += 6;
      }
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return 'a lone UTF-16 surrogate';
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'a lone UTF-16 surrogate';
  }
  return undefined;
}

/** Why the inbox cannot store this event, if it cannot (storing it would fail every event committed with it). */
export function unstorableReason(event: InboundEvent): string | undefined {
  for (const [name, value] of [['event id', event.eventId], ['event type', event.eventType], ['definition code', event.definitionCode], ['instance code', event.instanceCode]] as const) {
    if (value === undefined) continue;
    if (value.length > MAX_ID_LENGTH) return `the ${name} is longer than ${MAX_ID_LENGTH} characters`;
    const problem = textProblem(value);
    if (problem) return `the ${name} holds ${problem}`;
  }
  let text: string;
  try {
    text = event.payloadText ?? JSON.stringify(event.payload);
  } catch (e) {
    return `the payload cannot be serialised: ${(e as Error).message}`;
  }
  const problem = jsonbProblem(text);
  return problem && `the payload holds ${problem}`;
}

/** An event PostgreSQL refuses, whenever it is sent: refused alone, never retried. */
export class UnstorableEvent extends Error {}

/** A refusal of the data itself (SQLSTATE class 22 data exception, 54 program limit), not of the database. */
export function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}
