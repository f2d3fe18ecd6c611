/** Backoff for IM calls: Lark's reset header when it gives one, else 1 s doubling up to 5 minutes. */
export function imRetryDelayMs(attempt: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds >= 0) return Math.min(retryAfterSeconds, 600) * 1000 + 50;
  return Math.min(300_000, 1000 * 2 ** (attempt - 1));
}
