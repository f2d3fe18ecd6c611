import { duplicateKeys } from '../source.ts';
import type { FileRule } from './rule.ts';

/** An API field (or table column) name is declared once; YAML would silently keep the last one. */
export const uniqueField: FileRule = {
  name: 'unique-field',
  check(ctx) {
    for (const dup of duplicateKeys(ctx.file.doc)) {
      const parent = dup.mapPath[dup.mapPath.length - 1];
      if (parent !== 'fields' && parent !== 'columns') continue;
      const what = parent === 'fields' ? 'field' : 'column';
      const first = ctx.whereAt(ctx.file.position(dup.first.range![0]));
      ctx.reportAt(ctx.file.position(dup.again.range![0]), `${what} "${dup.key}" is declared twice; previously declared at ${first}`);
    }
  },
};
