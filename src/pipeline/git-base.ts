import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';
import { isPipelineFile } from './files.ts';

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

/** The pipeline files under `paths` at a git revision, as paths relative to `cwd` (for `plan`: those gone now were removed). */
export function gitPipelineFilesAt(rev: string, paths: readonly string[], cwd = process.cwd()): string[] {
  const listed = execFileSync('git', ['ls-tree', '-r', '-z', '--name-only', rev, '--', ...paths], { cwd, stdio: 'pipe', encoding: 'utf8', maxBuffer: 16 << 20 });
  return listed.split('\0').filter((path) => path && isPipelineFile(basename(path)));
}
