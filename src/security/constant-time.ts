import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in constant time, whatever their lengths (both are hashed to the same size first). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Constant-time equality of two hex digests of a known length (a different length is simply unequal). */
export function digestEqual(expectedHex: string, givenHex: string): boolean {
  if (expectedHex.length !== givenHex.length) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'latin1'), Buffer.from(givenHex, 'latin1'));
}
