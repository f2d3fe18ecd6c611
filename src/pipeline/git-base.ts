import { execFileSync } from 'node:child_process';

export class BadRevisionError extends Error {}

/** Reads files as they were at a git revision (for `validate --base`). */
export function gitBaseReader(rev: string, cwd = process.cwd()): (path: string) => string | undefined {
  try {
    execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd, stdio: 'pipe' });
  } catch {
    throw new BadRevisionError(`--base: "${rev}" is not a git revision here`);
  }
  return (path) => {
    try {
      return execFileSync('git', ['show', `${rev}:./${path}`], { cwd, stdio: 'pipe', encoding: 'utf8', maxBuffer: 16 << 20 });
    } catch {
      return undefined; // the file is new since the base revision
    }
  };
}
