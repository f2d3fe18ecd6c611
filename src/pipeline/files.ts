import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineSource } from './check.ts';

/** A pipeline's fixture cases sit next to it as `<name>.test.yaml` (run by `ticketflow test`); they are not pipelines. */
export const isFixtureFile = (name: string) => /\.test\.ya?ml$/.test(name);
export const isPipelineFile = (name: string) => /\.ya?ml$/.test(name) && !isFixtureFile(name);

export class MissingPathError extends Error {}

/** Expands directories into the YAML files below them (sorted) and keeps named files as they are. */
export async function collectPipelineFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new MissingPathError(`no such file or directory: ${path}`);
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      files.push(
        ...entries
          .filter((e) => e.isFile() && isPipelineFile(e.name))
          .map((e) => join(e.parentPath ?? path, e.name))
          .sort(),
      );
    } else {
      files.push(path);
    }
  }
  return [...new Set(files)];
}

export async function readSources(files: readonly string[]): Promise<PipelineSource[]> {
  return Promise.all(files.map(async (path) => ({ path, text: await readFile(path, 'utf8') })));
}
