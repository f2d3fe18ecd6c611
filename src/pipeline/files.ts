import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineSource } from './check.ts';

/** A pipeline's fixture cases sit next to it as `<name>.test.yaml` (run by `ticketflow test`); they are not pipelines. */
export const isFixtureFile = (name: string) => /\.test\.ya?ml$/.test(name);
export const isPipelineFile = (name: string) => /\.ya?ml$/.test(name) && !isFixtureFile(name);

/** A path named on the command line that is missing, or not the kind of file the command reads. */
export class PathError extends Error {}

/**
 * Expands directories into the files below them that `wanted` accepts (sorted) and keeps named files, unless
 * `refuse` says why a named one is the wrong kind.
 */
export async function collectFiles(paths: readonly string[], wanted: (name: string) => boolean, refuse: (path: string) => string | undefined): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new PathError(`no such file or directory: ${path}`);
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      files.push(
        ...entries
          .filter((e) => e.isFile() && wanted(e.name))
          .map((e) => join(e.parentPath ?? path, e.name))
          .sort(),
      );
    } else {
      const refusal = refuse(path);
      if (refusal) throw new PathError(refusal);
      files.push(path);
    }
  }
  return [...new Set(files)];
}

/** The pipeline files of the paths; a named fixture file is refused. */
export function collectPipelineFiles(paths: readonly string[]): Promise<string[]> {
  return collectFiles(paths, isPipelineFile, (path) => (isFixtureFile(path) ? `${path} holds fixture cases, not a pipeline: run ticketflow test ${path}` : undefined));
}

/** The fixture files of the paths; a named file must be one. */
export function collectFixtureFiles(paths: readonly string[]): Promise<string[]> {
  return collectFiles(paths, isFixtureFile, (path) =>
    isFixtureFile(path) ? undefined : `${path} is not a fixture file (<name>.test.yaml); its cases would be in ${path.replace(/\.ya?ml$/, '')}.test.yaml`,
  );
}

export async function readSources(files: readonly string[]): Promise<PipelineSource[]> {
  return Promise.all(files.map(async (path) => ({ path, text: await readFile(path, 'utf8') })));
}
