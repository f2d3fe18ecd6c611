import { basename, extname } from 'node:path';
import { record, type FileRule } from './rule.ts';

/** `pipelines/<name>.yaml`: a reader finds a pipeline's file from its name. */
export const fileName: FileRule = {
  name: 'file-name',
  check(ctx) {
    const name = record(ctx.value.metadata)?.name;
    if (typeof name !== 'string') return;
    const stem = basename(ctx.file.path, extname(ctx.file.path));
    if (stem !== name) {
      ctx.report(['metadata', 'name'], 'value', `pipeline "${name}" lives in "${basename(ctx.file.path)}"; name the file "${name}.yaml"`, 'warning');
    }
  },
};
