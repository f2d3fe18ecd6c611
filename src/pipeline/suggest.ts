import { distance } from 'fastest-levenshtein';

/** The candidate closest to `input`, if it is close enough to be a plausible misspelling. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore: number[] = [Infinity];
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    // Ties go to a candidate holding the input's characters in order (a rename that added words), then to the
    // longer common prefix (people rarely misspell the start of a word).
    const score = [distance(needle, lower), isSubsequence(needle, lower) ? 0 : 1, -commonPrefix(needle, lower)];
    if (lessThan(score, bestScore)) {
      best = candidate;
      bestScore = score;
    }
  }
  const bestDistance = bestScore[0]!;
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(input.length, best.length) / 3));
  return bestDistance <= limit ? best : undefined;
}

export function didYouMean(input: string, candidates: readonly string[]): string {
  const s = suggest(input, candidates);
  return s === undefined ? '' : `; did you mean "${s}"?`;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function isSubsequence(needle: string, hay: string): boolean {
  let i = 0;
  for (const c of hay) if (c === needle[i]) i++;
  return i === needle.length;
}

function lessThan(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}
