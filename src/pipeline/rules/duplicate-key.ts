import { duplicateKeys } from '../source.ts';
import type { FileRule } from './rule.ts';

/** Any other repeated key: YAML would silently keep the last one. */
export const duplicateKey: FileRule = {
  name: 'duplicate-key',
  check(ctx) {
    for (const dup of duplicateKeys(ctx.file.doc)) {
      const parent = dup.mapPath[dup.mapPath.length - 1];
      if (parent === 'fields' || parent === 'columns') continue;
      const first = ctx.whereAt(ctx.file.position(dup.first.range![0]));
      ctx.reportAt(ctx.file.position(dup.again.range![0]), `key "${dup.key}" repeats; previously set at ${first} (only the last one would count)`);
    }
  },
};
